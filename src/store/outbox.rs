//! The outbox: side effects (e-mail, SMS) written in the transaction of the change that
//! causes them, delivered later by the worker. A job is claimed with a lease (PostgreSQL:
//! `FOR UPDATE SKIP LOCKED`; SQLite: the lease column under the single writer), so each runs
//! once even with several instances; a crashed worker's lease simply runs out.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::outbox;
use crate::domain::ids::{OrderId, OutboxId, ShopId};

pub use crate::domain::outbox::{JobStatus, Kind};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct Job {
    pub id: i64,
    pub shop_id: i64,
    pub order_id: Option<i64>,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    /// The event a notification rule's job delivers, and the rule.
    pub event_id: Option<i64>,
    pub rule_id: Option<i64>,
}

impl Job {
    pub fn kind(&self) -> Option<Kind> {
        Kind::parse(&self.kind)
    }

    pub fn status(&self) -> JobStatus {
        JobStatus::parse(&self.status).unwrap_or(JobStatus::Pending)
    }

    /// Failed with no try left: given up.
    pub fn given_up(&self) -> bool {
        self.status() == JobStatus::Failed && self.next_attempt_at.is_none()
    }
}

pub fn enqueue(
    conn: &mut DbConn,
    shop: ShopId,
    order: Option<OrderId>,
    kind: Kind,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<OutboxId> {
    enqueue_for_rule(conn, shop, order, kind, payload, None, now)
}

/// A job of a notification rule: which event it delivers, by which rule.
pub fn enqueue_for_rule(
    conn: &mut DbConn,
    shop: ShopId,
    order: Option<OrderId>,
    kind: Kind,
    payload: &str,
    rule: Option<(i64, i64)>,
    now: NaiveDateTime,
) -> QueryResult<OutboxId> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::shop_id.eq(shop.0),
            outbox::order_id.eq(order.map(|o| o.0)),
            outbox::kind.eq(kind.as_str()),
            outbox::payload.eq(payload),
            outbox::status.eq(JobStatus::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(Some(now)),
            outbox::created_at.eq(now),
            outbox::event_id.eq(rule.map(|r| r.0)),
            outbox::rule_id.eq(rule.map(|r| r.1)),
        ))
        .returning(outbox::id)
        .get_result(conn)
        .map(OutboxId)
}

/// Claims up to `limit` due jobs for `lease` and returns them. Run inside a transaction.
pub fn claim(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
    kinds: &[Kind],
) -> QueryResult<Vec<Job>> {
    let webhooks = kinds.contains(&Kind::Webhook);
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let due = outbox::table
        .filter(outbox::status.eq_any([JobStatus::Pending.as_str(), JobStatus::Failed.as_str()]))
        .filter(outbox::next_attempt_at.le(now))
        .filter(outbox::locked_until.is_null().or(outbox::locked_until.lt(now)))
        .filter(outbox::kind.eq_any(kinds))
        .order(outbox::id)
        .limit(limit)
        .select(outbox::id);
    let mut ids: Vec<i64> = match conn {
        DbConn::Postgres(pg) => due.for_update().skip_locked().load(pg)?,
        DbConn::Sqlite(_) => due.load(conn)?,
    };
    if webhooks {
        ids = first_of_their_order(conn, ids)?;
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set(outbox::locked_until.eq(Some(lease_until)))
        .execute(conn)?;
    outbox::table.filter(outbox::id.eq_any(&ids)).order(outbox::id).select(Job::as_select()).load(conn)
}

/// Webhook calls are ordered per order and endpoint: a job waits while an earlier job of the
/// same order and rule is still to be delivered (pending, failing with a next try, or being
/// delivered). Other jobs pass as they are.
fn first_of_their_order(conn: &mut DbConn, ids: Vec<i64>) -> QueryResult<Vec<i64>> {
    let candidates: Vec<(i64, Option<i64>, Option<i64>)> = outbox::table
        .filter(outbox::id.eq_any(&ids))
        .filter(outbox::kind.eq(Kind::Webhook.as_str()))
        .select((outbox::id, outbox::order_id, outbox::rule_id))
        .load(conn)?;
    let orders: Vec<i64> = candidates.iter().filter_map(|c| c.1).collect();
    if orders.is_empty() {
        return Ok(ids);
    }
    // The earliest open job of each (order, rule) among those orders.
    let open: Vec<(i64, Option<i64>, Option<i64>)> = outbox::table
        .filter(outbox::kind.eq(Kind::Webhook.as_str()))
        .filter(outbox::order_id.eq_any(&orders))
        .filter(outbox::status.eq_any([JobStatus::Pending.as_str(), JobStatus::Failed.as_str()]))
        .filter(outbox::next_attempt_at.is_not_null())
        .order(outbox::id)
        .select((outbox::id, outbox::order_id, outbox::rule_id))
        .load(conn)?;
    let mut first = std::collections::HashMap::new();
    for (id, order, rule) in open {
        first.entry((order, rule)).or_insert(id);
    }
    let blocked: std::collections::HashSet<i64> = candidates
        .into_iter()
        .filter(|(id, order, rule)| order.is_some() && first.get(&(*order, *rule)).is_some_and(|f| f != id))
        .map(|c| c.0)
        .collect();
    Ok(ids.into_iter().filter(|id| !blocked.contains(id)).collect())
}

pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    mark_done(conn, id, JobStatus::Sent, now)
}

/// An e-mail written to a file: done, though nothing was sent.
pub fn mark_written(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    mark_done(conn, id, JobStatus::Written, now)
}

fn mark_done(conn: &mut DbConn, id: i64, status: JobStatus, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(status.as_str()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::sent_at.eq(Some(now)),
            outbox::next_attempt_at.eq(None::<NaiveDateTime>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a failed try; `retry_at` none means no more tries.
pub fn mark_failed(conn: &mut DbConn, id: i64, error: &str, retry_at: Option<NaiveDateTime>) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(JobStatus::Failed.as_str()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(retry_at),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error.chars().take(500).collect::<String>())),
        ))
        .execute(conn)
}

/// Records the last failed try: no more tries. Only if the row is still as claimed
/// (`attempts` tries before this one), so a job is given up once even if two workers recorded
/// it; returns the rows changed (1: given up now).
pub fn give_up(conn: &mut DbConn, id: i64, attempts: i32, error: &str) -> QueryResult<usize> {
    diesel::update(outbox::table.filter(outbox::id.eq(id).and(outbox::attempts.eq(attempts))))
        .set((
            outbox::status.eq(JobStatus::Failed.as_str()),
            outbox::attempts.eq(outbox::attempts + 1),
            outbox::next_attempt_at.eq(None::<NaiveDateTime>),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error.chars().take(500).collect::<String>())),
        ))
        .execute(conn)
}

/// Parks a job until a sender is configured (it stays visible in the back office).
pub fn hold(conn: &mut DbConn, id: i64, reason: &str) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(JobStatus::Held.as_str()),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(reason)),
        ))
        .execute(conn)
}

/// Puts held jobs of `kind` back in line (a gateway was configured).
pub fn release_held(conn: &mut DbConn, kind: Kind, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table.filter(outbox::status.eq(JobStatus::Held.as_str()).and(outbox::kind.eq(kind.as_str()))),
    )
    .set((outbox::status.eq(JobStatus::Pending.as_str()), outbox::next_attempt_at.eq(Some(now))))
    .execute(conn)
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<Job>> {
    outbox::table.find(id).select(Job::as_select()).first(conn).optional()
}

/// The messages that deliver the order's link (not the rules' notifications), newest first:
/// the newest speaks for the order's delivery status.
pub fn link_messages(conn: &mut DbConn, order: OrderId) -> QueryResult<Vec<Job>> {
    outbox::table
        .filter(outbox::order_id.eq(order.0).and(outbox::event_id.is_null()))
        .order(outbox::id.desc())
        .select(Job::as_select())
        .load(conn)
}

/// The jobs of an order, newest first.
pub fn for_order(conn: &mut DbConn, order: OrderId) -> QueryResult<Vec<Job>> {
    outbox::table
        .filter(outbox::order_id.eq(order.0).and(outbox::kind.ne(Kind::Webhook.as_str())))
        .order(outbox::id.desc())
        .select(Job::as_select())
        .load(conn)
}

/// A shop's recent jobs of one kind, newest first (the back office's outbox view).
pub fn recent_for_shop(conn: &mut DbConn, shop: ShopId, kind: Kind, limit: i64) -> QueryResult<Vec<Job>> {
    outbox::table
        .filter(outbox::shop_id.eq(shop.0).and(outbox::kind.eq(kind.as_str())))
        .order(outbox::id.desc())
        .limit(limit)
        .select(Job::as_select())
        .load(conn)
}

/// Jobs not yet delivered (Prometheus backlog gauge).
pub fn backlog(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::status.eq_any([
            JobStatus::Pending.as_str(),
            JobStatus::Failed.as_str(),
            JobStatus::Held.as_str(),
        ]))
        .filter(outbox::next_attempt_at.is_not_null().or(outbox::status.eq(JobStatus::Held.as_str())))
        .count()
        .get_result(conn)
}
