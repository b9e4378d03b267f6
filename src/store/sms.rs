//! A shop's SMS account: gateway credentials (the password encrypted under the vault key),
//! default phone to notify, remaining credits.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::sms_accounts as sa;
use crate::domain::ids::ShopId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sa)]
pub struct SmsAccount {
    pub shop_id: i64,
    pub login: String,
    pub password_enc: String,
    pub default_phone: String,
    pub credits: i32,
}

pub fn get(conn: &mut DbConn, shop: ShopId) -> QueryResult<Option<SmsAccount>> {
    sa::table.find(shop.0).select(SmsAccount::as_select()).first(conn).optional()
}

/// What a save does to the credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credits {
    /// A new balance (a new account, or a form that did not say what it showed).
    Set(i32),
    /// A change to the balance as it stands, never below zero.
    Add(i32),
}

pub fn save(
    conn: &mut DbConn,
    shop: ShopId,
    login: &str,
    password_enc: &str,
    default_phone: &str,
    credits: Credits,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(sa::table.find(shop.0))
        .set((
            sa::login.eq(login),
            sa::password_enc.eq(password_enc),
            sa::default_phone.eq(default_phone),
            sa::updated_at.eq(now),
        ))
        .execute(conn)?;
    // Each UPDATE is atomic, so SMS queued or given back meanwhile are counted.
    match credits {
        Credits::Set(n) => {
            diesel::update(sa::table.find(shop.0)).set(sa::credits.eq(n)).execute(conn)?;
        }
        Credits::Add(d) => {
            let added = diesel::update(sa::table.find(shop.0).filter(sa::credits.ge(-d)))
                .set(sa::credits.eq(sa::credits + d))
                .execute(conn)?;
            if added == 0 {
                diesel::update(sa::table.find(shop.0)).set(sa::credits.eq(0)).execute(conn)?;
            }
        }
    }
    if updated == 0 {
        let credits = match credits {
            Credits::Set(n) | Credits::Add(n) => n.max(0),
        };
        diesel::insert_into(sa::table)
            .values((
                sa::shop_id.eq(shop.0),
                sa::login.eq(login),
                sa::password_enc.eq(password_enc),
                sa::default_phone.eq(default_phone),
                sa::credits.eq(credits),
                sa::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Takes `segments` credits if the account has them; false otherwise (nothing taken).
pub fn take_credits(conn: &mut DbConn, shop: ShopId, segments: i32) -> QueryResult<bool> {
    let n = diesel::update(sa::table.filter(sa::shop_id.eq(shop.0).and(sa::credits.ge(segments))))
        .set(sa::credits.eq(sa::credits - segments))
        .execute(conn)?;
    Ok(n == 1)
}

/// Gives `credits` back to the shop's account (an SMS that will never go out). Returns the
/// rows changed: 0 when the shop has no account any more.
pub fn give_back_credits(conn: &mut DbConn, shop: ShopId, credits: i32) -> QueryResult<usize> {
    diesel::update(sa::table.find(shop.0)).set(sa::credits.eq(sa::credits + credits)).execute(conn)
}

/// Every account's sealed gateway password, by shop, for a vault key rotation.
pub fn sealed_passwords(conn: &mut DbConn) -> QueryResult<Vec<(ShopId, String)>> {
    let rows: Vec<(i64, String)> = sa::table.order(sa::shop_id).select((sa::shop_id, sa::password_enc)).load(conn)?;
    Ok(rows.into_iter().map(|(shop, sealed)| (ShopId(shop), sealed)).collect())
}

/// The password sealed again (same password, another key): the account is otherwise unchanged.
pub fn reseal_password(conn: &mut DbConn, shop: ShopId, password_enc: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sa::table.find(shop.0))
        .set((sa::password_enc.eq(password_enc), sa::updated_at.eq(now)))
        .execute(conn)
        .map(|_| ())
}
