//! `Idempotency-Key` claims (DESIGN §4), kept 24 hours per shop.
//!
//! A key is claimed by a unique insert, in its own short transaction, by the instance (server
//! process) that runs the request. While the claim is unanswered it stands as long as that
//! instance is alive: every instance beats (`worker_heartbeats`, `instance:<id>`) every
//! [`BEAT_EVERY`]; a claim whose instance has not beaten for [`LEASE`] belongs to a process
//! that died, and the next request takes it over. A claim from before leases (no instance)
//! stands [`ABANDONED`].
//!
//! [`run`] and [`run_async`] put a write use case under its key: a second request with the same
//! key sees the claim at once (in progress while the first runs; once answered, the same
//! request gets the first answer again and another request is refused as a reuse). The answer
//! is stored in the use case's own transaction ([`run`]) or just after it ([`run_async`], for a
//! use case that calls the acquirer). A refusal before the use case or a failure of ours gives
//! the key back.

use chrono::{Duration, NaiveDateTime};
use diesel::Connection;
use sha2::{Digest, Sha256};

use super::{ServiceError, ServiceResult};
use crate::db::{Db, DbConn, DbError, is_unique_violation};
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

/// An answer as sent and as kept for a replay.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// What a use case's error needs to run under a key.
pub trait Refusal:
    From<ClaimError> + From<ServiceError> + From<DbError> + From<diesel::result::Error> + Send + 'static
{
    /// The answer a refusal keeps under its key; `None` for a failure of ours, which gives the
    /// key back so that a retry runs again.
    fn kept(&self) -> Option<Reply>;
}

/// A request under its key: whose, which, what (hashed) and run by which instance when.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub shop: ShopId,
    pub key: String,
    pub hash: String,
    pub instance: String,
    pub now: NaiveDateTime,
}

/// The answer of a request under a key.
#[derive(Debug)]
pub enum Answer {
    /// The use case ran now.
    Fresh(Reply),
    /// The key was answered already: its answer again.
    Replayed(Reply),
}

/// The hash of a request: what a replay must repeat (its method, target, mode and body).
pub fn request_hash(method: &str, target: &str, mode: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [method, target, mode] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    h.update(body);
    hex::encode(h.finalize())
}

/// Runs the write use case `op` in one transaction, under `keyed` if the request has a key.
/// `input` is the request already parsed (or why it could not be).
pub async fn run<T, E, F>(db: &Db, keyed: Option<Keyed>, input: Result<T, E>, op: F) -> Result<Answer, E>
where
    T: Send + 'static,
    E: Refusal,
    F: FnOnce(&mut DbConn, T) -> Result<Reply, E> + Send + 'static,
{
    let Some(keyed) = keyed else {
        let input = input?;
        return db.write(move |conn| op(conn, input)).await.map(Answer::Fresh);
    };
    if let Some(replayed) = claim_for::<E>(db, &keyed).await? {
        return Ok(Answer::Replayed(replayed));
    }
    let input = match input {
        Ok(input) => input,
        Err(e) => return Err(given_back(db, keyed, e).await),
    };
    let (shop, key) = (keyed.shop, keyed.key.clone());
    let outcome = db
        .write(move |conn| {
            // The use case in a savepoint: a refusal rolls back its writes, not the stored answer.
            let result = conn.transaction(|conn| op(conn, input));
            let reply = match &result {
                Ok(reply) => reply.clone(),
                Err(refused) => match refused.kept() {
                    Some(reply) => reply,
                    None => return Err(result.expect_err("a failure")),
                },
            };
            complete(conn, shop, &key, i32::from(reply.status), &reply.body)?;
            Ok(result)
        })
        .await;
    match outcome {
        Ok(result) => result.map(Answer::Fresh),
        Err(e) => Err(given_back(db, keyed, e).await),
    }
}

/// [`run`] for a use case that owns its transactions and calls the acquirer (capture, cancel,
/// refund): the key is claimed first, the use case runs, and its answer is stored in a
/// transaction of its own. A crash between the two leaves the key claimed and unanswered:
/// a retry then gets "in progress" until the claim lapses, and the operation itself is
/// reconciled by the worker, never done twice.
pub async fn run_async<T, E, F, Fut>(db: &Db, keyed: Option<Keyed>, input: Result<T, E>, op: F) -> Result<Answer, E>
where
    E: Refusal,
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Result<Reply, E>>,
{
    let Some(keyed) = keyed else {
        return op(input?).await.map(Answer::Fresh);
    };
    if let Some(replayed) = claim_for::<E>(db, &keyed).await? {
        return Ok(Answer::Replayed(replayed));
    }
    let result = match input {
        Ok(input) => op(input).await,
        Err(e) => Err(e),
    };
    let reply = match &result {
        Ok(reply) => reply.clone(),
        Err(refused) => match refused.kept() {
            Some(reply) => reply,
            None => return Err(given_back(db, keyed, result.expect_err("a failure")).await),
        },
    };
    let Keyed { shop, key, .. } = keyed;
    let stored = db.write(move |conn| complete(conn, shop, &key, i32::from(reply.status), &reply.body)).await;
    if let Err(e) = stored {
        tracing::error!(shop.id = %shop, error = %e, "an answer could not be kept for its idempotency key");
    }
    result.map(Answer::Fresh)
}

/// Claims the request's key for its instance. `Some`: answered already, the stored reply.
async fn claim_for<E: Refusal>(db: &Db, keyed: &Keyed) -> Result<Option<Reply>, E> {
    let k = keyed.clone();
    match db.write(move |conn| claim(conn, &k.instance, k.shop, &k.key, &k.hash, k.now)).await {
        Ok(Claim::Ours) => Ok(None),
        // Only statuses are stored; anything else would be a damaged row, answered as ours.
        Ok(Claim::Answered { status, body }) => Ok(Some(Reply { status: u16::try_from(status).unwrap_or(500), body })),
        Err(e) => Err(e.into()),
    }
}

/// Gives the key back and hands on why.
async fn given_back<E>(db: &Db, keyed: Keyed, why: E) -> E {
    give_back(db, keyed.shop, keyed.key).await;
    why
}
