//! The background worker. In this version it ends idle sessions and beats its heartbeat
//! (which `/healthz` reads); the outbox and scheduled payment jobs join it later. Tests call
//! `run_once` on demand instead of waiting for the loop.

use std::time::Duration;

use crate::db::{Db, DbError};
use crate::domain::clock::SharedClock;
use crate::store::sessions;

pub const HEARTBEAT: &str = "worker";
pub const TICK: Duration = Duration::from_secs(15);

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub sessions_purged: usize,
}

pub async fn run_once(db: &Db, clock: &SharedClock) -> Result<Report, DbError> {
    let clock = clock.clone();
    db.write(move |conn| {
        let now = clock.now_naive();
        let sessions_purged = sessions::purge_expired(conn, now)?;
        sessions::beat(conn, HEARTBEAT, now)?;
        Ok::<_, DbError>(Report { sessions_purged })
    })
    .await
}

/// Runs forever; a failed round is logged and the next one tries again.
pub async fn run(db: Db, clock: SharedClock) {
    let mut interval = tokio::time::interval(TICK);
    loop {
        interval.tick().await;
        if let Err(error) = run_once(&db, &clock).await {
            tracing::warn!(%error, "worker round failed");
        }
    }
}
