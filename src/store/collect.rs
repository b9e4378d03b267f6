//! The shops' collection forms, the buyer data collected before a payment, and the look-up
//! of an invoice order by its shop's slug and reference.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{buyer_data as bd, collect_forms as cf, payment_orders as po, shops};
use crate::domain::api_key::Mode;
use crate::domain::collect::{BuyerData, CollectSettings, CustomField};
use crate::domain::ids::{OrderId, ShopId};

#[derive(Queryable, Selectable)]
#[diesel(table_name = cf)]
struct Row {
    enabled: bool,
    production: bool,
    title: Option<String>,
    intro: Option<String>,
    fields: String,
    info1_label: Option<String>,
    info1_hint: Option<String>,
    info1_required: bool,
    info1_min: i32,
    info1_max: i32,
    info2_label: Option<String>,
    info2_hint: Option<String>,
    info2_required: bool,
    info2_min: i32,
    info2_max: i32,
    info3_label: Option<String>,
    info3_hint: Option<String>,
    info3_required: bool,
    info3_min: i32,
    info3_max: i32,
}

fn custom(label: Option<String>, hint: Option<String>, required: bool, min: i32, max: i32) -> Option<CustomField> {
    let len = |n: i32| u16::try_from(n).unwrap_or(0);
    label.map(|label| CustomField { label, hint, required, min_len: len(min), max_len: len(max) })
}

impl From<Row> for CollectSettings {
    fn from(r: Row) -> Self {
        CollectSettings {
            enabled: r.enabled,
            production: r.production,
            title: r.title,
            intro: r.intro,
            fields: CollectSettings::parse_fields(&r.fields),
            customs: [
                custom(r.info1_label, r.info1_hint, r.info1_required, r.info1_min, r.info1_max),
                custom(r.info2_label, r.info2_hint, r.info2_required, r.info2_min, r.info2_max),
                custom(r.info3_label, r.info3_hint, r.info3_required, r.info3_min, r.info3_max),
            ],
        }
    }
}

/// The shop's form; the default one until it is first saved.
pub fn get(conn: &mut DbConn, shop: ShopId) -> QueryResult<CollectSettings> {
    Ok(cf::table.find(shop.0).select(Row::as_select()).first(conn).optional()?.map(Into::into).unwrap_or_default())
}

pub fn save(conn: &mut DbConn, shop: ShopId, s: &CollectSettings, now: NaiveDateTime) -> QueryResult<()> {
    let c = |i: usize| s.customs[i].as_ref();
    let label = |i: usize| c(i).map(|x| x.label.clone());
    let hint = |i: usize| c(i).and_then(|x| x.hint.clone());
    let required = |i: usize| c(i).is_some_and(|x| x.required);
    let min = |i: usize| c(i).map_or(0, |x| i32::from(x.min_len));
    let max = |i: usize| c(i).map_or(0, |x| i32::from(x.max_len));
    let values = (
        (
            cf::enabled.eq(s.enabled),
            cf::production.eq(s.production),
            cf::title.eq(s.title.clone()),
            cf::intro.eq(s.intro.clone()),
            cf::fields.eq(s.fields_text()),
            cf::updated_at.eq(now),
        ),
        (
            cf::info1_label.eq(label(0)),
            cf::info1_hint.eq(hint(0)),
            cf::info1_required.eq(required(0)),
            cf::info1_min.eq(min(0)),
            cf::info1_max.eq(max(0)),
        ),
        (
            cf::info2_label.eq(label(1)),
            cf::info2_hint.eq(hint(1)),
            cf::info2_required.eq(required(1)),
            cf::info2_min.eq(min(1)),
            cf::info2_max.eq(max(1)),
        ),
        (
            cf::info3_label.eq(label(2)),
            cf::info3_hint.eq(hint(2)),
            cf::info3_required.eq(required(2)),
            cf::info3_min.eq(min(2)),
            cf::info3_max.eq(max(2)),
        ),
    );
    let n = diesel::update(cf::table.find(shop.0)).set(values.clone()).execute(conn)?;
    if n == 0 {
        diesel::insert_into(cf::table).values((cf::shop_id.eq(shop.0), values)).execute(conn)?;
    }
    Ok(())
}

/// The shop of `slug`, if any.
pub fn shop_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<ShopId>> {
    Ok(shops::table.filter(shops::slug.eq(slug)).select(shops::id).first::<i64>(conn).optional()?.map(ShopId))
}

/// The shop's label and web address, for the form's frame.
pub fn shop_label(conn: &mut DbConn, shop: ShopId) -> QueryResult<Option<(String, String)>> {
    shops::table.find(shop.0).select((shops::label, shops::url)).first(conn).optional()
}

/// The shop's invoice orders of `reference` in `mode`, newest first: `(id, token)`.
pub fn invoices_of(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    reference: &str,
) -> QueryResult<Vec<(OrderId, String)>> {
    let rows: Vec<(i64, String)> = po::table
        .filter(po::shop_id.eq(shop.0))
        .filter(po::mode.eq(mode.as_str()))
        .filter(po::channel.eq("INVOICE"))
        .filter(po::reference.eq(reference))
        .order(po::id.desc())
        .limit(10)
        .select((po::id, po::token))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, token)| (OrderId(id), token)).collect())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = bd)]
struct DataRow {
    last_name: Option<String>,
    first_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    country: Option<String>,
    info1: Option<String>,
    info2: Option<String>,
    info3: Option<String>,
}

impl From<DataRow> for BuyerData {
    fn from(r: DataRow) -> Self {
        BuyerData {
            last_name: r.last_name,
            first_name: r.first_name,
            email: r.email,
            phone: r.phone,
            address: r.address,
            postal_code: r.postal_code,
            city: r.city,
            country: r.country,
            info1: r.info1,
            info2: r.info2,
            info3: r.info3,
        }
    }
}

/// Keeps what the buyer typed for the order (replacing an earlier answer).
pub fn put_buyer(conn: &mut DbConn, order: OrderId, d: &BuyerData, now: NaiveDateTime) -> QueryResult<()> {
    diesel::delete(bd::table.find(order.0)).execute(conn)?;
    diesel::insert_into(bd::table)
        .values((
            bd::order_id.eq(order.0),
            bd::last_name.eq(&d.last_name),
            bd::first_name.eq(&d.first_name),
            bd::email.eq(&d.email),
            bd::phone.eq(&d.phone),
            bd::address.eq(&d.address),
            bd::postal_code.eq(&d.postal_code),
            bd::city.eq(&d.city),
            bd::country.eq(&d.country),
            bd::info1.eq(&d.info1),
            bd::info2.eq(&d.info2),
            bd::info3.eq(&d.info3),
            bd::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn buyer_of(conn: &mut DbConn, order: OrderId) -> QueryResult<Option<BuyerData>> {
    Ok(bd::table.find(order.0).select(DataRow::as_select()).first(conn).optional()?.map(Into::into))
}

/// The answers kept for these orders, in one query.
pub fn buyers_of(conn: &mut DbConn, orders: &[OrderId]) -> QueryResult<Vec<(OrderId, BuyerData)>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = orders.iter().map(|o| o.0).collect();
    let rows: Vec<(i64, DataRow)> =
        bd::table.filter(bd::order_id.eq_any(ids)).select((bd::order_id, DataRow::as_select())).load(conn)?;
    Ok(rows.into_iter().map(|(id, r)| (OrderId(id), r.into())).collect())
}
