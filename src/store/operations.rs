//! Acquirer operations: what was asked of the acquirer, recorded before the call (intent) and
//! closed after it (done, failed), or left pending for the worker to reconcile.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::acquirer_operations as ao;
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::money::{Currency, Money};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Authorise,
    Capture,
    Cancel,
    /// A manual transaction not validated in time: cancelled at the acquirer, EXPIRED here.
    Expire,
    Refund,
}

crate::domain::shop::text_enum!(OpKind {
    Authorise = "AUTHORISE",
    Capture = "CAPTURE",
    Cancel = "CANCEL",
    Expire = "EXPIRE",
    Refund = "REFUND"
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStatus {
    /// Recorded, the call under way or its answer unknown.
    Pending,
    Done,
    /// Refused or not done: nothing changed at the acquirer.
    Failed,
    /// The acquirer could not say what became of it: the merchant decides.
    Review,
}

crate::domain::shop::text_enum!(OpStatus { Pending = "PENDING", Done = "DONE", Failed = "FAILED", Review = "REVIEW" });

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ao)]
struct Row {
    id: i64,
    shop_id: i64,
    order_id: i64,
    transaction_id: Option<i64>,
    mode: String,
    kind: String,
    op_key: String,
    reference: String,
    amount: i64,
    currency: String,
    status: String,
    actor: String,
    detail: String,
    attempts: i32,
    retry_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct Operation {
    pub id: i64,
    pub shop_id: ShopId,
    pub order_id: OrderId,
    pub transaction_id: Option<i64>,
    pub mode: Mode,
    pub kind: OpKind,
    pub key: String,
    pub reference: String,
    pub amount: Money,
    pub status: OpStatus,
    /// Who asked, as JSON (see `services::operations`).
    pub actor: String,
    /// What the confirmation writes in the transaction's history, or why it failed.
    pub detail: String,
    pub attempts: i32,
    pub retry_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A stored value this code does not know: the row is refused rather than guessed.
fn bad(column: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("acquirer_operations.{column}: {value:?}").into())
}

impl TryFrom<Row> for Operation {
    type Error = diesel::result::Error;

    fn try_from(r: Row) -> QueryResult<Self> {
        Ok(Operation {
            id: r.id,
            shop_id: ShopId(r.shop_id),
            order_id: OrderId(r.order_id),
            transaction_id: r.transaction_id,
            mode: Mode::parse(&r.mode).ok_or_else(|| bad("mode", &r.mode))?,
            kind: OpKind::parse(&r.kind).ok_or_else(|| bad("kind", &r.kind))?,
            key: r.op_key,
            reference: r.reference,
            amount: Money {
                minor: r.amount,
                currency: Currency::parse(&r.currency).map_err(|_| bad("currency", &r.currency))?,
            },
            status: OpStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
            actor: r.actor,
            detail: r.detail,
            attempts: r.attempts,
            retry_at: r.retry_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

fn decode(rows: Vec<Row>) -> QueryResult<Vec<Operation>> {
    rows.into_iter().map(Operation::try_from).collect()
}

pub struct NewOperation<'a> {
    pub shop_id: ShopId,
    pub order_id: OrderId,
    pub transaction_id: Option<i64>,
    pub mode: Mode,
    pub kind: OpKind,
    pub key: &'a str,
    pub reference: &'a str,
    pub amount: Money,
    pub actor: &'a str,
    pub detail: &'a str,
    /// When the worker may reconcile it if nobody closed it.
    pub retry_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, op: &NewOperation<'_>, now: NaiveDateTime) -> QueryResult<Operation> {
    let row = diesel::insert_into(ao::table)
        .values((
            ao::shop_id.eq(op.shop_id.0),
            ao::order_id.eq(op.order_id.0),
            ao::transaction_id.eq(op.transaction_id),
            ao::mode.eq(op.mode.as_str()),
            ao::kind.eq(op.kind.as_str()),
            ao::op_key.eq(op.key),
            ao::reference.eq(op.reference),
            ao::amount.eq(op.amount.minor),
            ao::currency.eq(op.amount.currency.code()),
            ao::status.eq(OpStatus::Pending.as_str()),
            ao::actor.eq(op.actor),
            ao::detail.eq(op.detail),
            ao::attempts.eq(0),
            ao::retry_at.eq(op.retry_at),
            ao::created_at.eq(now),
            ao::updated_at.eq(now),
        ))
        .returning(ao::all_columns)
        .get_result::<Row>(conn)?;
    Operation::try_from(row)
}

pub fn find_by_key(conn: &mut DbConn, key: &str) -> QueryResult<Option<Operation>> {
    let row = ao::table.filter(ao::op_key.eq(key)).select(Row::as_select()).first::<Row>(conn).optional()?;
    row.map(Operation::try_from).transpose()
}

/// Closes a pending operation. 0: it was not pending any more (closed by someone else).
pub fn close(
    conn: &mut DbConn,
    id: i64,
    status: OpStatus,
    transaction: Option<i64>,
    detail: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = ao::table.find(id).filter(ao::status.eq(OpStatus::Pending.as_str()));
    match (transaction, detail) {
        (Some(t), Some(d)) => diesel::update(target)
            .set((ao::status.eq(status.as_str()), ao::transaction_id.eq(t), ao::detail.eq(d), ao::updated_at.eq(now)))
            .execute(conn),
        (Some(t), None) => diesel::update(target)
            .set((ao::status.eq(status.as_str()), ao::transaction_id.eq(t), ao::updated_at.eq(now)))
            .execute(conn),
        (None, Some(d)) => diesel::update(target)
            .set((ao::status.eq(status.as_str()), ao::detail.eq(d), ao::updated_at.eq(now)))
            .execute(conn),
        (None, None) => {
            diesel::update(target).set((ao::status.eq(status.as_str()), ao::updated_at.eq(now))).execute(conn)
        }
    }
}

/// Pending operations nobody closed by their `retry_at`.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Operation>> {
    let rows = ao::table
        .filter(ao::status.eq(OpStatus::Pending.as_str()).and(ao::retry_at.le(now)))
        .order(ao::id)
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)?;
    decode(rows)
}

/// Takes a due operation for one reconciliation round: moves its `retry_at` from the value
/// read to `until` and counts the attempt. 0: another instance took it first.
pub fn take(conn: &mut DbConn, op: &Operation, until: NaiveDateTime, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        ao::table
            .find(op.id)
            .filter(ao::status.eq(OpStatus::Pending.as_str()))
            .filter(ao::retry_at.eq(op.retry_at))
            .filter(ao::attempts.eq(op.attempts)),
    )
    .set((ao::retry_at.eq(until), ao::attempts.eq(ao::attempts + 1), ao::updated_at.eq(now)))
    .execute(conn)
}

/// Sets when the pending operation `key` is next looked at.
pub fn postpone_key(conn: &mut DbConn, key: &str, until: NaiveDateTime, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(ao::table.filter(ao::op_key.eq(key)).filter(ao::status.eq(OpStatus::Pending.as_str())))
        .set((ao::retry_at.eq(until), ao::updated_at.eq(now)))
        .execute(conn)
}

/// Closes the pending operation `key` (an authorisation, closed with its attempt's result).
pub fn close_key(
    conn: &mut DbConn,
    key: &str,
    status: OpStatus,
    transaction: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(ao::table.filter(ao::op_key.eq(key)).filter(ao::status.eq(OpStatus::Pending.as_str())))
        .set((ao::status.eq(status.as_str()), ao::transaction_id.eq(transaction), ao::updated_at.eq(now)))
        .execute(conn)
}

/// Sets when a pending operation is next looked at (the call ended without an answer).
pub fn postpone(conn: &mut DbConn, id: i64, until: NaiveDateTime, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(ao::table.find(id).filter(ao::status.eq(OpStatus::Pending.as_str())))
        .set((ao::retry_at.eq(until), ao::updated_at.eq(now)))
        .execute(conn)
}

/// The operations of a transaction, oldest first.
pub fn for_transaction(conn: &mut DbConn, transaction: i64) -> QueryResult<Vec<Operation>> {
    let rows = ao::table
        .filter(ao::transaction_id.eq(transaction))
        .order(ao::id)
        .select(Row::as_select())
        .load::<Row>(conn)?;
    decode(rows)
}

/// How many operations wait for a merchant's review, or are still pending (for /metrics).
pub fn count_open(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
    let review = ao::table.filter(ao::status.eq(OpStatus::Review.as_str())).count().get_result(conn)?;
    let pending = ao::table.filter(ao::status.eq(OpStatus::Pending.as_str())).count().get_result(conn)?;
    Ok((pending, review))
}
