//! Money operations on a transaction: the merchant's capture, cancel and refund, and the
//! worker's captures and expiries. Each runs in three steps, never holding a database
//! transaction across the network:
//!
//! 1. **intent**: one transaction records the operation (`acquirer_operations`, PENDING, a
//!    key of its own) and claims the transaction for it: a capture, cancellation or expiry
//!    sets `transactions.settling_op` (a guarded update: of two instances or two clicks one
//!    wins, the other is refused before any call); a refund reserves its amount in
//!    `refund_pending`, so that refunds under way count against the captured amount;
//! 2. **call**: the acquirer, bounded by its timeout;
//! 3. **confirm** or **release**: one transaction writes what the answer means: the new
//!    status and its history line (DONE), or the claim given back (FAILED: the acquirer said
//!    no). Without an answer (timeout, or a crash between 1 and 3) the operation stays
//!    PENDING and the transaction stays claimed.
//!
//! [`reconcile`] (the worker) takes every pending operation nobody closed by its `retry_at`,
//! asks the acquirer what became of its key and confirms or releases it accordingly; after
//! [`MAX_LOOKUPS`] questions without an answer it marks the operation REVIEW, writes it in
//! the audit log of its shop, and leaves the transaction claimed for the merchant to decide.
//! An operation is never called twice and never dropped.

use crate::domain::notification::EventType;
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::payments::{TxContext, load};
use super::{Env, ServiceError, ServiceResult};
use crate::acquirer::{self, AcquirerError, Looked};
use crate::db::DbConn;
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::money::Money;
use crate::domain::order;
use crate::domain::text::random_token;
use crate::store::audit::{self, Actor, Entry};
use crate::store::operations::{self as store, NewOperation, OpKind, OpStatus, Operation};
use crate::store::transactions::{self as tx_store, Transaction, TxStatus, TxUpdate};

/// A pending operation nobody closed is looked at this long after its call began (its
/// caller may still be waiting for the acquirer until the timeout; this is well beyond).
pub const RECONCILE_AFTER: Duration = Duration::minutes(1);
/// Unanswered questions to the acquirer before an operation goes to the merchant's review.
pub const MAX_LOOKUPS: i32 = 5;
/// Operations of one worker round.
const BATCH: i64 = 200;

/// Who asked for an operation, kept with it so that a confirmation written later (by the
/// worker) still names them in the history and the audit log.
#[derive(Serialize, Deserialize)]
struct Asker {
    actor: Actor,
}

fn asker_json(actor: &Actor) -> String {
    serde_json::to_string(&Asker { actor: actor.clone() }).expect("an actor serialises")
}

fn asker_of(op: &Operation) -> ServiceResult<Actor> {
    serde_json::from_str::<Asker>(&op.actor)
        .map(|a| a.actor)
        .map_err(|e| ServiceError::Db(crate::db::DbError::Query(diesel::result::Error::DeserializationError(e.into()))))
}

/// How an operation ended, for its caller.
#[derive(Debug)]
pub enum Settled {
    Done,
    /// The acquirer refused it or could not be reached: nothing changed.
    Failed(AcquirerError),
    /// No answer: pending, the worker will find out.
    Pending,
}

/// What the merchant's side knows of an operation: the error a screen or the API shows.
fn refusal(settled: Settled) -> ServiceResult<()> {
    match settled {
        Settled::Done => Ok(()),
        Settled::Failed(AcquirerError::Refused(_)) => Err(ServiceError::Conflict("acquirer.refused")),
        Settled::Failed(_) => Err(ServiceError::Conflict("acquirer.unreachable")),
        Settled::Pending => Err(ServiceError::Conflict("acquirer.pending")),
    }
}

/// Step 1, in the caller's transaction: records the operation and claims the transaction
/// for it. A conflict when the transaction is not in a state for it, or is claimed already.
#[allow(clippy::too_many_arguments)]
fn intend(
    conn: &mut DbConn,
    now: NaiveDateTime,
    t: &Transaction,
    kind: OpKind,
    amount: Money,
    actor: &Actor,
    detail: &str,
) -> ServiceResult<Operation> {
    let key = format!("{}-{}", kind.as_str().to_ascii_lowercase(), random_token(18));
    let op = store::insert(
        conn,
        &NewOperation {
            shop_id: t.shop_id,
            order_id: t.order_id,
            transaction_id: Some(t.id),
            mode: t.mode,
            kind,
            key: &key,
            reference: &t.acquirer_ref,
            amount,
            actor: &asker_json(actor),
            detail,
            retry_at: now + RECONCILE_AFTER,
        },
        now,
    )?;
    let claimed = match kind {
        OpKind::Capture => tx_store::claim_settlement(conn, t.id, op.id, &["AUTHORISED"], now)?,
        OpKind::Cancel => {
            tx_store::claim_settlement(conn, t.id, op.id, &["AUTHORISED", "AUTHORISED_TO_VALIDATE"], now)?
        }
        OpKind::Expire => tx_store::claim_settlement(conn, t.id, op.id, &["AUTHORISED_TO_VALIDATE"], now)?,
        OpKind::Refund => tx_store::reserve_refund(conn, t.id, amount.minor, now)?,
        OpKind::Authorise => 0,
    };
    if claimed != 1 {
        return Err(match kind {
            OpKind::Refund => ServiceError::field("amount", "refund.too_much"),
            _ if t.settling_op.is_some() => ServiceError::Conflict("transaction.operation_pending"),
            OpKind::Capture => ServiceError::Conflict("transaction.not_capturable"),
            _ => ServiceError::Conflict("transaction.already_captured"),
        });
    }
    Ok(op)
}

/// Step 2: the call, outside any database transaction.
async fn call(env: &Env, op: &Operation) -> Result<(), AcquirerError> {
    if let Some(answer) = super::service_ops::call(env, op).await {
        return answer;
    }
    let Some(gate) = env.acquirers.for_mode(op.mode) else {
        return Err(AcquirerError::Unavailable(format!("no acquirer for {}", op.mode)));
    };
    let call = acquirer::Operation { key: &op.key, reference: &op.reference, amount: op.amount };
    match op.kind {
        OpKind::Capture => gate.capture(call).await,
        OpKind::Cancel | OpKind::Expire => gate.cancel(call).await,
        OpKind::Refund => gate.refund(call).await,
        OpKind::Authorise => Err(AcquirerError::Unavailable("authorisations are made by the pay flow".into())),
    }
}

/// Step 3: writes what the answer means, in one transaction.
async fn settle(env: &Env, op: Operation, answer: Result<(), AcquirerError>) -> ServiceResult<Settled> {
    let clock = env.clock.clone();
    match answer {
        Ok(()) => {
            let public_url = env.public_url.clone();
            env.db.write(move |conn| confirm(conn, &op, clock.now_naive(), &public_url)).await?;
            Ok(Settled::Done)
        }
        Err(e) if e.outcome_unknown() => {
            tracing::warn!(operation.id = op.id, operation.kind = %op.kind, error = %e, "acquirer operation left pending");
            let until = clock.now_naive() + RECONCILE_AFTER;
            env.db
                .write(move |conn| Ok::<_, ServiceError>(store::postpone(conn, op.id, until, clock.now_naive())?))
                .await?;
            Ok(Settled::Pending)
        }
        Err(e) => {
            tracing::warn!(operation.id = op.id, operation.kind = %op.kind, error = %e, "the acquirer did not do an operation");
            let reason = e.to_string();
            env.db.write(move |conn| release(conn, &op, &reason, clock.now_naive())).await?;
            Ok(Settled::Failed(e))
        }
    }
}

/// The acquirer did it: the operation is DONE and the transaction changes, with its history
/// line and (for a person or a key) its audit entry. Nothing when it was closed already.
fn confirm(conn: &mut DbConn, op: &Operation, now: NaiveDateTime, public_url: &str) -> ServiceResult<()> {
    if store::close(conn, op.id, OpStatus::Done, None, None, now)? != 1 {
        return Ok(());
    }
    let id = op.transaction_id.ok_or(ServiceError::Conflict("operation.without_transaction"))?;
    let (update, event, amount) = match op.kind {
        OpKind::Capture => (TxUpdate::Settled { op: op.id, to: TxStatus::Captured }, "captured", Some(op.amount.minor)),
        OpKind::Cancel => {
            (TxUpdate::Settled { op: op.id, to: TxStatus::Cancelled }, "cancelled", Some(op.amount.minor))
        }
        OpKind::Expire => (TxUpdate::Settled { op: op.id, to: TxStatus::Expired }, "expired", None),
        OpKind::Refund => (TxUpdate::Refunded(op.amount.minor), "refunded", Some(op.amount.minor)),
        OpKind::Authorise => return Err(ServiceError::Conflict("operation.not_settlement")),
    };
    if tx_store::apply(conn, id, update, now)? != 1 {
        return Err(ServiceError::Conflict("operation.transaction_changed"));
    }
    let actor = asker_of(op)?;
    tx_store::add_event(conn, id, event, amount, &actor.name, &op.detail, now)?;
    if actor.name != Actor::system().name {
        let entry = Entry {
            shop_id: Some(op.shop_id),
            action: &format!("transaction.{event}"),
            target: &format!("transaction:{id}"),
            detail: &op.detail,
        };
        audit::append(conn, &actor, entry, now)?;
    }
    if op.kind == OpKind::Refund
        && let Some(t) = tx_store::get(conn, id)?
    {
        super::notify::emit(conn, EventType::RefundCreated, t.order_id, Some(id), false, public_url, now)?;
    }
    Ok(())
}

/// The acquirer did not do it: FAILED, and the transaction's claim or reservation is given back.
fn release(conn: &mut DbConn, op: &Operation, reason: &str, now: NaiveDateTime) -> ServiceResult<()> {
    if store::close(conn, op.id, OpStatus::Failed, None, Some(reason), now)? != 1 {
        return Ok(());
    }
    let Some(id) = op.transaction_id else { return Ok(()) };
    match op.kind {
        OpKind::Refund => tx_store::release_refund(conn, id, op.amount.minor, now)?,
        OpKind::Authorise => 0,
        _ => tx_store::release_settlement(conn, id, op.id, now)?,
    };
    Ok(())
}

/// Nobody can tell what became of it: REVIEW, in its shop's audit log. The transaction stays
/// claimed: nothing else is sent to the acquirer for it until the merchant has decided.
fn review(conn: &mut DbConn, op: &Operation, why: &str, now: NaiveDateTime) -> ServiceResult<()> {
    if store::close(conn, op.id, OpStatus::Review, None, Some(why), now)? != 1 {
        return Ok(());
    }
    let target = match op.transaction_id {
        Some(t) => format!("transaction:{t}"),
        None => format!("order:{}", op.order_id.0),
    };
    let detail = format!("{} {} {}: {why}", op.kind, op.amount.plain(), op.key);
    let entry = Entry { shop_id: Some(op.shop_id), action: "acquirer.review", target: &target, detail: &detail };
    audit::append(conn, &Actor::system(), entry, now)?;
    tracing::error!(operation.id = op.id, operation.kind = %op.kind, %why, "acquirer operation needs the merchant's review");
    Ok(())
}

// ---- Authorisations (the pay flow, `services::checkout`) --------------------------------

/// The operation key of an attempt's authorisation (the attempt id is random).
pub fn authorisation_key(holder: &str) -> String {
    format!("authorise-{holder}")
}

/// Records that the attempt `holder` is about to ask for an authorisation of the order's
/// amount, in the lock's transaction.
pub fn record_authorisation(
    conn: &mut DbConn,
    o: &crate::store::orders::Order,
    holder: &str,
    reference: &str,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let buyer = Actor { company_id: None, user_id: None, name: "buyer".into(), ip: None };
    // The first instalment of a schedule the attempt sets up, or the whole amount.
    let amount = match crate::store::schedules::pending_of(conn, o.id, holder)? {
        Some((_, first)) => Money { minor: first, currency: o.amount.currency },
        None => o.amount,
    };
    record_authorise(conn, o, &authorisation_key(holder), reference, amount, &buyer, now)
}

/// The key of the `tries`-th charge of an order's instalment `index`.
pub fn instalment_key(order: OrderId, index: u8, tries: u8) -> String {
    format!("instalment-{}-{index}-{tries}", order.0)
}

/// The order and instalment an [`instalment_key`] names.
fn instalment_of(key: &str) -> Option<(OrderId, u8)> {
    let mut parts = key.strip_prefix("instalment-")?.split('-');
    Some((OrderId(parts.next()?.parse().ok()?), parts.next()?.parse().ok()?))
}

/// Records that the worker is about to charge an instalment (`key`: [`instalment_key`]).
pub fn record_instalment(
    conn: &mut DbConn,
    o: &crate::store::orders::Order,
    key: &str,
    reference: &str,
    amount: Money,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    record_authorise(conn, o, key, reference, amount, &Actor::system(), now)
}

fn record_authorise(
    conn: &mut DbConn,
    o: &crate::store::orders::Order,
    key: &str,
    reference: &str,
    amount: Money,
    asker: &Actor,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    store::insert(
        conn,
        &NewOperation {
            shop_id: o.shop_id,
            order_id: o.id,
            transaction_id: None,
            mode: o.mode,
            kind: OpKind::Authorise,
            key,
            reference,
            amount,
            actor: &asker_json(asker),
            detail: "",
            retry_at: now + RECONCILE_AFTER,
        },
        now,
    )?;
    Ok(())
}

/// Closes the charge of an instalment with its result.
pub fn close_instalment(
    conn: &mut DbConn,
    key: &str,
    approved: bool,
    transaction: i64,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let status = if approved { OpStatus::Done } else { OpStatus::Failed };
    store::close_key(conn, key, status, Some(transaction), now)?;
    Ok(())
}

/// The attempt's result is written (`payments::finalise`): its authorisation, if it asked
/// for one, is closed with it.
pub fn close_authorisation(
    conn: &mut DbConn,
    holder: &str,
    approved: bool,
    transaction: i64,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let status = if approved { OpStatus::Done } else { OpStatus::Failed };
    store::close_key(conn, &authorisation_key(holder), status, Some(transaction), now)?;
    Ok(())
}

/// The acquirer said it did not authorise (refused to work, unreachable).
pub fn fail_authorisation(conn: &mut DbConn, key: &str, reason: &str, now: NaiveDateTime) -> ServiceResult<()> {
    if let Some(op) = store::find_by_key(conn, key)? {
        store::close(conn, op.id, OpStatus::Failed, None, Some(reason), now)?;
    }
    Ok(())
}

// ---- The merchant's operations ----------------------------------------------------------

/// What a merchant's request names, owned, for the transactions it spans.
struct Asked {
    actor: Actor,
    shops: Vec<ShopId>,
    mode: Mode,
    time_zone: chrono_tz::Tz,
}

impl Asked {
    fn of(ctx: &TxContext<'_>) -> Asked {
        Asked { actor: ctx.actor.clone(), shops: ctx.shops.to_vec(), mode: ctx.mode, time_zone: ctx.time_zone }
    }

    fn ctx(&self) -> TxContext<'_> {
        TxContext { actor: &self.actor, shops: &self.shops, mode: self.mode, time_zone: self.time_zone }
    }
}

/// What to ask of the acquirer for a transaction, decided from it (or why not).
type Plan = fn(&Transaction, NaiveDateTime, Option<i64>) -> ServiceResult<(OpKind, Money, String)>;

/// Intent, call, confirm for one of the merchant's operations; the transaction as it is after.
async fn operate(
    env: &Env,
    ctx: &TxContext<'_>,
    id: i64,
    plan: Plan,
    amount: Option<i64>,
) -> ServiceResult<Transaction> {
    let asked = std::sync::Arc::new(Asked::of(ctx));
    let (clock, who, acquirers) = (env.clock.clone(), asked.clone(), env.acquirers.clone());
    let op = env
        .db
        .write(move |conn| {
            let now = clock.now_naive();
            let t = load(conn, &who.ctx(), id)?;
            if t.service.is_none() && acquirers.for_mode(t.mode).is_none() {
                return Err(ServiceError::Conflict("acquirer.unavailable"));
            }
            let (kind, amount, detail) = plan(&t, now, amount)?;
            intend(conn, now, &t, kind, amount, &who.actor, &detail)
        })
        .await?;
    let answer = call(env, &op).await;
    refusal(settle(env, op, answer).await?)?;
    env.db.read(move |conn| load(conn, &asked.ctx(), id)).await
}

/// Refused because an operation holds the transaction, or because of its state (`why`).
fn not_now(t: &Transaction, why: &'static str) -> ServiceError {
    ServiceError::Conflict(if t.settling_op.is_some() { "transaction.operation_pending" } else { why })
}

fn plan_capture(t: &Transaction, now: NaiveDateTime, _: Option<i64>) -> ServiceResult<(OpKind, Money, String)> {
    if !t.actions(now).capture {
        return Err(not_now(t, "transaction.not_capturable"));
    }
    Ok((OpKind::Capture, t.amount, "captured early by the merchant".into()))
}

fn plan_cancel(t: &Transaction, now: NaiveDateTime, _: Option<i64>) -> ServiceResult<(OpKind, Money, String)> {
    if !t.actions(now).cancel {
        return Err(not_now(t, "transaction.already_captured"));
    }
    Ok((OpKind::Cancel, t.amount, String::new()))
}

pub(super) fn plan_refund(
    t: &Transaction,
    now: NaiveDateTime,
    minor: Option<i64>,
) -> ServiceResult<(OpKind, Money, String)> {
    if t.status != TxStatus::Captured {
        return Err(ServiceError::Conflict("transaction.not_captured"));
    }
    if t.captured_at.is_some_and(|c| now - c > Duration::days(super::payments::REFUND_DAYS)) {
        return Err(ServiceError::Conflict("refund.too_late"));
    }
    let left = t.refundable(now);
    // In the transaction's currency; absent, all that is left.
    let amount = match minor {
        Some(minor) => Money::from_minor(minor, t.amount.currency).map_err(|e| ServiceError::Invalid(vec![e]))?,
        None => left,
    };
    if amount.minor <= 0 || amount.minor > left.minor {
        return Err(ServiceError::field("amount", "refund.too_much"));
    }
    Ok((OpKind::Refund, amount, amount.plain()))
}

/// Captures an AUTHORISED transaction now.
pub async fn capture(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    operate(env, ctx, id, plan_capture, None).await
}

/// Cancels an authorisation not captured yet.
pub async fn cancel(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    operate(env, ctx, id, plan_cancel, None).await
}

/// A refund after capture: never above what was captured minus the refunds done and under
/// way, within 365 days. `minor` is in the transaction's currency; `None`: all that is left.
pub async fn refund(env: &Env, ctx: &TxContext<'_>, id: i64, minor: Option<i64>) -> ServiceResult<Transaction> {
    operate(env, ctx, id, plan_refund, minor).await
}

// ---- The worker -------------------------------------------------------------------------

/// What one worker round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub captured: usize,
    pub expired: usize,
    /// Pending operations found done, or not done, at the acquirer.
    pub reconciled: usize,
    /// Operations sent to the merchant's review in this round.
    pub to_review: usize,
}

/// Captures what is due today in each shop's zone and expires what was not validated in
/// time: every due transaction is claimed first (one instance only gets each), then called.
pub async fn run_due(env: &Env) -> ServiceResult<Round> {
    let clock = env.clock.clone();
    let claimed = env.db.write(move |conn| claim_due(conn, clock.now())).await?;
    let mut round = Round::default();
    for op in claimed {
        let kind = op.kind;
        let answer = call(env, &op).await;
        if let Settled::Done = settle(env, op, answer).await? {
            match kind {
                OpKind::Capture => round.captured += 1,
                _ => round.expired += 1,
            }
        }
    }
    Ok(round)
}

/// Records and claims, in one transaction, an operation for each due transaction; one that
/// another instance claimed first is skipped (its savepoint rolled back).
fn claim_due(conn: &mut DbConn, now: chrono::DateTime<chrono::Utc>) -> ServiceResult<Vec<Operation>> {
    use diesel::Connection;
    let (naive, system) = (now.naive_utc(), Actor::system());
    let mut claimed = Vec::new();
    // The latest local date anywhere is at most one day ahead of UTC.
    for t in tx_store::due_for_capture(conn, now.date_naive() + Duration::days(1), BATCH)? {
        let today = order::local_today(now, shop_zone(conn, t.shop_id)?);
        if t.capture_date.is_some_and(|d| d <= today) {
            let took =
                conn.transaction(|c| intend(c, naive, &t, OpKind::Capture, t.amount, &system, "capture date reached"));
            claimed.extend(skip_lost(took)?);
        }
    }
    for t in tx_store::due_for_expiry(conn, naive, BATCH)? {
        let took =
            conn.transaction(|c| intend(c, naive, &t, OpKind::Expire, t.amount, &system, "not validated in time"));
        claimed.extend(skip_lost(took)?);
    }
    Ok(claimed)
}

/// A claim lost to another instance is not an error.
fn skip_lost(took: ServiceResult<Operation>) -> ServiceResult<Option<Operation>> {
    match took {
        Ok(op) => Ok(Some(op)),
        Err(ServiceError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

fn shop_zone(conn: &mut DbConn, shop: ShopId) -> ServiceResult<chrono_tz::Tz> {
    use diesel::prelude::*;
    let name: String =
        crate::db::schema::shops::table.find(shop.0).select(crate::db::schema::shops::time_zone).first(conn)?;
    name.parse().map_err(|_| ServiceError::Conflict("shop.time_zone_unknown"))
}

/// Takes the pending operations nobody closed in time, asks the acquirer about each, and
/// confirms, releases or (after [`MAX_LOOKUPS`] questions) sends it to review.
pub async fn reconcile(env: &Env) -> ServiceResult<Round> {
    let clock = env.clock.clone();
    let taken = env
        .db
        .write(move |conn| {
            let now = clock.now_naive();
            let mut taken = Vec::new();
            for op in store::due(conn, now, BATCH)? {
                if store::take(conn, &op, now + RECONCILE_AFTER, now)? == 1 {
                    taken.push(op);
                }
            }
            Ok::<_, ServiceError>(taken)
        })
        .await?;
    let mut round = Round::default();
    for op in taken {
        let looked = match env.acquirers.for_mode(op.mode) {
            // A service's refund is not looked up by our key: unanswered, it goes to review.
            _ if super::service_ops::service_of(&op.reference).is_some() => {
                Err(AcquirerError::Unavailable("a payment service's operation".into()))
            }
            Some(gate) => gate.lookup(&op.key).await,
            None => Err(AcquirerError::Unavailable(format!("no acquirer for {}", op.mode))),
        };
        let (clock, asked) = (env.clock.clone(), op.attempts + 1);
        let public_url = env.public_url.clone();
        let outcome =
            env.db.write(move |conn| after_lookup(conn, &op, looked, asked, clock.now_naive(), &public_url)).await?;
        match outcome {
            Reconciled::Settled => round.reconciled += 1,
            Reconciled::Review => round.to_review += 1,
            Reconciled::Later => {}
        }
    }
    Ok(round)
}

enum Reconciled {
    Settled,
    Review,
    Later,
}

fn after_lookup(
    conn: &mut DbConn,
    op: &Operation,
    looked: Result<Looked, AcquirerError>,
    asked: i32,
    now: NaiveDateTime,
    public_url: &str,
) -> ServiceResult<Reconciled> {
    match (op.kind, looked) {
        // An authorisation whose result was never written: the buyer was not told it was
        // accepted, and the money is held. The merchant cancels it at the acquirer.
        (OpKind::Authorise, Ok(Looked::Done)) => {
            review(conn, op, "authorised at the acquirer, but the payment was never recorded", now)?;
            Ok(Reconciled::Review)
        }
        (_, Ok(Looked::Done)) => match conn_confirm(conn, op, now, public_url) {
            Ok(()) => Ok(Reconciled::Settled),
            Err(ServiceError::Conflict(why)) => {
                review(conn, op, why, now)?;
                Ok(Reconciled::Review)
            }
            Err(e) => Err(e),
        },
        (_, Ok(Looked::Refused | Looked::NotFound)) => {
            release(conn, op, "not done at the acquirer (reconciled)", now)?;
            if let Some((order, index)) = instalment_of(&op.key) {
                // Never charged: the instalment is due again, the try not counted.
                let again = crate::store::schedules::Charged::NotDone { next_at: now };
                crate::store::schedules::charged(conn, order, index, &again, now)?;
            }
            Ok(Reconciled::Settled)
        }
        (_, Err(e)) if asked >= MAX_LOOKUPS => {
            review(conn, op, &format!("the acquirer could not say what became of it: {e}"), now)?;
            Ok(Reconciled::Review)
        }
        (_, Err(e)) => {
            tracing::warn!(operation.id = op.id, error = %e, asked, "acquirer lookup failed; asking again later");
            Ok(Reconciled::Later)
        }
    }
}

/// `confirm` in a savepoint, so that a refused confirmation leaves room for the review.
fn conn_confirm(conn: &mut DbConn, op: &Operation, now: NaiveDateTime, public_url: &str) -> ServiceResult<()> {
    use diesel::Connection;
    conn.transaction(|c| confirm(c, op, now, public_url))
}

/// The operations of a transaction (its page shows those pending or in review).
pub fn of_transaction(conn: &mut DbConn, transaction: i64) -> ServiceResult<Vec<Operation>> {
    Ok(store::for_transaction(conn, transaction)?)
}
