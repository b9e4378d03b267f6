//! A shop's instalment settings, one row per shop; a shop without a row has the defaults
//! (instalments not offered).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::shop_instalments as si;
use crate::domain::ids::ShopId;
use crate::domain::instalments::{InstalmentSettings, Interval, join_days, parse_retry_days};

#[derive(Queryable, Selectable)]
#[diesel(table_name = si)]
struct Row {
    enabled: bool,
    max_count: i32,
    first_share_percent: Option<i32>,
    min_amount: i64,
    interval_days: Option<i32>,
    retry_days: String,
}

impl From<Row> for InstalmentSettings {
    /// Rows are written from parsed settings only; a value out of range (edited by hand)
    /// falls back to the default rather than failing every page that reads it.
    fn from(r: Row) -> Self {
        let d = InstalmentSettings::default();
        InstalmentSettings {
            enabled: r.enabled,
            max_count: u8::try_from(r.max_count).unwrap_or(d.max_count),
            first_share_percent: r.first_share_percent.and_then(|p| u8::try_from(p).ok()),
            min_amount: r.min_amount,
            interval: match r.interval_days.map(u16::try_from) {
                Some(Ok(days)) => Interval::Days(days),
                _ => Interval::Monthly,
            },
            retry_days: parse_retry_days(&r.retry_days).unwrap_or(d.retry_days),
        }
    }
}

pub fn get(conn: &mut DbConn, shop: ShopId) -> QueryResult<InstalmentSettings> {
    let row = si::table.find(shop.0).select(Row::as_select()).first(conn).optional()?;
    Ok(row.map(InstalmentSettings::from).unwrap_or_default())
}

/// Writes the shop's settings, one upsert (two first saves at once would otherwise both
/// insert).
pub fn save(conn: &mut DbConn, shop: ShopId, s: &InstalmentSettings, now: NaiveDateTime) -> QueryResult<()> {
    let values = (
        si::enabled.eq(s.enabled),
        si::max_count.eq(i32::from(s.max_count)),
        si::first_share_percent.eq(s.first_share_percent.map(i32::from)),
        si::min_amount.eq(s.min_amount),
        si::interval_days.eq(match s.interval {
            Interval::Monthly => None,
            Interval::Days(d) => Some(i32::from(d)),
        }),
        si::retry_days.eq(join_days(&s.retry_days)),
        si::updated_at.eq(now),
    );
    crate::db::on_backend!(conn, |c| {
        diesel::insert_into(si::table)
            .values((si::shop_id.eq(shop.0), values.clone()))
            .on_conflict(si::shop_id)
            .do_update()
            .set(values.clone())
            .execute(c)
    })?;
    Ok(())
}
