//! Back-office sessions kept server-side (the cookie holds a random key; only its hash is
//! stored), and who a session signs in: the user and the shops they may see.

use chrono::NaiveDateTime;

use super::{ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::ids::{ShopId, UserId};
use crate::domain::shop::Shop;
use crate::domain::user::{Role, User};
use crate::store::{sessions, shops, users};

pub async fn load(db: &Db, hash: String, now: NaiveDateTime) -> ServiceResult<Option<String>> {
    db.read_short(move |conn| Ok::<_, ServiceError>(sessions::load(conn, &hash, now)?)).await
}

pub async fn insert(
    db: &Db,
    hash: String,
    user: Option<UserId>,
    state: String,
    expires: NaiveDateTime,
) -> ServiceResult<()> {
    db.write(move |conn| Ok::<_, ServiceError>(sessions::insert(conn, &hash, user, &state, expires)?)).await?;
    Ok(())
}

/// 0: the session ended meanwhile.
pub async fn update(
    db: &Db,
    hash: String,
    user: Option<UserId>,
    state: String,
    expires: NaiveDateTime,
) -> ServiceResult<usize> {
    db.write(move |conn| Ok::<_, ServiceError>(sessions::update(conn, &hash, user, &state, expires)?)).await
}

pub async fn touch(db: &Db, hash: String, expires: NaiveDateTime) -> ServiceResult<()> {
    db.write(move |conn| Ok::<_, ServiceError>(sessions::touch(conn, &hash, expires)?)).await?;
    Ok(())
}

pub async fn delete(db: &Db, hash: String) -> ServiceResult<()> {
    db.write(move |conn| Ok::<_, ServiceError>(sessions::delete(conn, &hash)?)).await?;
    Ok(())
}

/// The signed-in user and the shops they may see (an admin: all the company's). None: the
/// user is gone.
pub async fn signed_in(db: &Db, user: UserId) -> ServiceResult<Option<(User, Vec<Shop>)>> {
    db.read_short(move |conn| {
        let Some(user) = users::get(conn, user)? else { return Ok(None) };
        let shops = if user.role == Role::Admin {
            shops::list_for_company(conn, user.company_id)?
        } else {
            shops::list_for_user(conn, user.id)?
        };
        Ok::<_, ServiceError>(Some((user, shops)))
    })
    .await
}

/// Keeps the `ShopId` import meaningful for callers matching a wanted shop.
pub fn find_shop(shops: &[Shop], id: ShopId) -> Option<&Shop> {
    shops.iter().find(|s| s.id == id)
}
