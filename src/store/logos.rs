//! A shop's logo (one per shop) and the public look-up by content digest.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::shop_logos as sl;
use crate::domain::ids::ShopId;

pub fn put(
    conn: &mut DbConn,
    shop: ShopId,
    content_type: &str,
    digest: &str,
    body: &[u8],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(sl::table.find(shop.0)).execute(conn)?;
    diesel::insert_into(sl::table)
        .values((
            sl::shop_id.eq(shop.0),
            sl::content_type.eq(content_type),
            sl::digest.eq(digest),
            sl::body.eq(body),
            sl::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Removes the shop's logo; says whether there was one.
pub fn delete(conn: &mut DbConn, shop: ShopId) -> QueryResult<bool> {
    Ok(diesel::delete(sl::table.find(shop.0)).execute(conn)? > 0)
}

/// The shop's logo as pages name it: (digest, content type).
pub fn name_of(conn: &mut DbConn, shop: ShopId) -> QueryResult<Option<(String, String)>> {
    sl::table.find(shop.0).select((sl::digest, sl::content_type)).first(conn).optional()
}

/// The file behind a digest: (content type, body).
pub fn by_digest(conn: &mut DbConn, digest: &str) -> QueryResult<Option<(String, Vec<u8>)>> {
    sl::table.filter(sl::digest.eq(digest)).select((sl::content_type, sl::body)).first(conn).optional()
}
