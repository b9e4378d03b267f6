//! API idempotency keys (DESIGN §4): claimed by a unique insert inside the request's
//! transaction, the response stored with them, kept 24 hours per shop.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::idempotency_keys as ik;
use crate::domain::ids::ShopId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ik)]
pub struct Saved {
    pub request_hash: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub created_at: NaiveDateTime,
    /// The instance that claimed it ('' for claims older than leases).
    pub holder: String,
}

pub fn find(conn: &mut DbConn, shop: ShopId, key: &str) -> QueryResult<Option<Saved>> {
    ik::table.find((shop.0, key)).select(Saved::as_select()).first(conn).optional()
}

/// Claims a key (no response yet) for the instance `holder`. A unique violation means
/// someone else holds it.
pub fn claim(
    conn: &mut DbConn,
    shop: ShopId,
    key: &str,
    request_hash: &str,
    holder: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(ik::table)
        .values((
            ik::shop_id.eq(shop.0),
            ik::idem_key.eq(key),
            ik::request_hash.eq(request_hash),
            ik::created_at.eq(now),
            ik::holder.eq(holder),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn complete(conn: &mut DbConn, shop: ShopId, key: &str, status: i32, body: &str) -> QueryResult<usize> {
    diesel::update(ik::table.find((shop.0, key)))
        .set((ik::response_status.eq(Some(status)), ik::response_body.eq(Some(body))))
        .execute(conn)
}

pub fn release(conn: &mut DbConn, shop: ShopId, key: &str) -> QueryResult<usize> {
    diesel::delete(ik::table.find((shop.0, key))).execute(conn)
}

/// Deletes an unanswered claim of `holder` made at `created_at`, exactly that one (a take-over
/// races no one: of two instances taking over, one deletes, the other finds nothing).
pub fn release_claim(
    conn: &mut DbConn,
    shop: ShopId,
    key: &str,
    holder: &str,
    created_at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        ik::table
            .find((shop.0, key))
            .filter(ik::holder.eq(holder))
            .filter(ik::created_at.eq(created_at))
            .filter(ik::response_status.is_null()),
    )
    .execute(conn)
}

pub fn purge_older_than(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(ik::table.filter(ik::created_at.lt(cutoff))).execute(conn)
}
