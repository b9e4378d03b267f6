//! `Idempotency-Key` claims (DESIGN §4), kept 24 hours per shop.
//!
//! A key is claimed by a unique insert, in its own short transaction, by the instance (server
//! process) that runs the request. While the claim is unanswered it stands as long as that
//! instance is alive: every instance beats (`worker_heartbeats`, `instance:<id>`) every
//! [`BEAT_EVERY`]; a claim whose instance has not beaten for [`LEASE`] belongs to a process
//! that died, and the next request takes it over. A claim from before leases (no instance)
//! stands [`ABANDONED`].

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;

use super::{ServiceError, ServiceResult};
use crate::db::{Db, DbConn, is_unique_violation};
use crate::domain::ids::ShopId;
use crate::store::{idempotency as store, sessions};

/// How long an answered key is replayed.
pub const KEPT: Duration = Duration::hours(24);
/// An instance that has not beaten for this long is gone, and so are its claims.
pub const LEASE: Duration = Duration::seconds(15);
/// How often a live instance beats.
pub const BEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(3);
/// A claim without an instance still unanswered after this long is abandoned.
const ABANDONED: Duration = Duration::minutes(5);

/// The heartbeat name of an instance.
pub fn beat_name(instance: &str) -> String {
    format!("instance:{instance}")
}

/// The instance `instance` is alive now.
pub fn beat(conn: &mut DbConn, instance: &str, now: NaiveDateTime) -> ServiceResult<()> {
    Ok(sessions::beat(conn, &beat_name(instance), now)?)
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// The key is ours: run the use case.
    Ours,
    /// Answered already: this status and body again.
    Answered { status: i32, body: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("a request with this key is still running")]
    InProgress,
    #[error("this key was used with another request")]
    Reused,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::db::DbError> for ClaimError {
    fn from(e: crate::db::DbError) -> Self {
        ClaimError::Service(e.into())
    }
}

impl From<diesel::result::Error> for ClaimError {
    fn from(e: diesel::result::Error) -> Self {
        ClaimError::Service(e.into())
    }
}

/// Claims `key` for the request hashed `hash`, run by `instance`.
pub fn claim(
    conn: &mut DbConn,
    instance: &str,
    shop: ShopId,
    key: &str,
    hash: &str,
    now: NaiveDateTime,
) -> Result<Claim, ClaimError> {
    if let Some(saved) = store::find(conn, shop, key)? {
        match saved.response_status.zip(saved.response_body.clone()) {
            Some((status, body)) if saved.created_at + KEPT >= now => {
                // An answered key replays only the request it answered.
                if saved.request_hash != hash {
                    return Err(ClaimError::Reused);
                }
                return Ok(Claim::Answered { status, body });
            }
            Some(_) => {
                store::release(conn, shop, key)?;
            }
            None => {
                if claimant_alive(conn, &saved.holder, saved.created_at, now)? {
                    return Err(ClaimError::InProgress);
                }
                // Its instance died: taken over (exactly that claim; another instance taking
                // it over at the same time finds it gone and loses the insert below).
                store::release_claim(conn, shop, key, &saved.holder, saved.created_at)?;
            }
        }
    }
    // A savepoint: on PostgreSQL a unique violation would otherwise spoil the transaction.
    beat(conn, instance, now)?;
    match conn.transaction(|conn| store::claim(conn, shop, key, hash, instance, now)) {
        Ok(()) => Ok(Claim::Ours),
        // Another request claimed it between our look and our insert.
        Err(e) if is_unique_violation(&e) => Err(ClaimError::InProgress),
        Err(e) => Err(e.into()),
    }
}

/// Whether the instance that made an unanswered claim may still be running it.
fn claimant_alive(conn: &mut DbConn, holder: &str, claimed: NaiveDateTime, now: NaiveDateTime) -> ServiceResult<bool> {
    if holder.is_empty() {
        return Ok(claimed + ABANDONED >= now);
    }
    let last = sessions::last_beat(conn, &beat_name(holder))?;
    Ok(last.is_some_and(|beat| beat + LEASE >= now))
}

/// Stores the answer of the use case run under `key`, in the caller's transaction.
pub fn complete(conn: &mut DbConn, shop: ShopId, key: &str, status: i32, body: &str) -> ServiceResult<()> {
    store::complete(conn, shop, key, status, body)?;
    Ok(())
}

/// Gives a key back after a request that did not run its use case to the end.
pub async fn give_back(db: &Db, shop: ShopId, key: String) {
    let released = db.write(move |conn| Ok::<_, ServiceError>(store::release(conn, shop, &key)?)).await;
    if let Err(e) = released {
        tracing::error!(shop.id = %shop, error = %e, "could not release an idempotency key");
    }
}

/// Beats for `instance` every [`BEAT_EVERY`], at the application clock's time, until the
/// runtime stops.
pub async fn keep_alive(db: Db, clock: crate::domain::clock::SharedClock, instance: String) {
    let mut every = tokio::time::interval(BEAT_EVERY);
    loop {
        every.tick().await;
        let (name, now) = (instance.clone(), clock.now_naive());
        if let Err(error) = db.write(move |conn| beat(conn, &name, now)).await {
            tracing::warn!(%error, "instance heartbeat not written");
        }
    }
}
