//! What `/healthz` and `/metrics` report: the worker's heartbeat, the outbox backlog, and the
//! acquirer operations still pending or waiting for a merchant's review.

use crate::db::Db;
use crate::delivery::HEARTBEAT;
use crate::domain::clock::Clock;
use crate::store::{operations, outbox, sessions};

use super::ServiceError;

/// Seconds since the worker last beat; None when it never did (or the database is down).
pub async fn worker_age(db: &Db, clock: &dyn Clock) -> Option<i64> {
    let beat = db.read(|conn| Ok::<_, ServiceError>(sessions::last_beat(conn, HEARTBEAT)?)).await.ok()??;
    Some((clock.now_naive() - beat).num_seconds().max(0))
}

/// Outbox jobs not delivered yet.
pub async fn outbox_backlog(db: &Db) -> Option<i64> {
    db.read(|conn| Ok::<_, ServiceError>(outbox::backlog(conn)?)).await.ok()
}

/// Acquirer operations (pending, in review).
pub async fn acquirer_operations(db: &Db) -> Option<(i64, i64)> {
    db.read(|conn| Ok::<_, ServiceError>(operations::count_open(conn)?)).await.ok()
}
