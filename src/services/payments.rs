//! Paying a link, and what the merchant does with the transaction afterwards.
//!
//! A link is paid at most once: an attempt first takes the order's payment lock (a guarded
//! UPDATE on the order row), the acquirer is called outside any database transaction, and
//! the result is written — transaction, history, order status, receipt e-mail — in one
//! transaction that only the lock holder can commit. A unique index (one accepted
//! transaction per order) backs it up.
//!
//! The lock (`payment_orders.pay_lock`) also says what its attempt is doing:
//! - `<holder>`: the attempt may be calling the acquirer. Nobody else takes the order until
//!   it writes its result (or the lock expires): an authorisation is never left unwritten.
//! - `3ds:<holder>:<CardSummary, JSON>`: the buyer is at the issuer's challenge and no
//!   acquirer call is in flight. A new attempt from the pay page (the buyer went back) takes
//!   the order over at once and records the parked one CANCELLED 02008 with that card
//!   summary (masked number, brand, expiry, holder's name: what its transaction keeps
//!   anyway), which exists nowhere else on the server. An answer to the challenge first
//!   takes the lock back to `<holder>`, and calls the acquirer only if that worked.
//!
//! Every change of stage is a guarded UPDATE on the exact value, so of two requests racing
//! for one lock exactly one wins.

use crate::domain::notification::EventType;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{Env, ServiceError, ServiceResult, operations};
use crate::acquirer::{Authorisation, ThreeDsOutcome, codes};
use crate::db::DbConn;
use crate::domain::clock::Clock;
use crate::domain::ids::OrderId;
use crate::domain::money::Money;
use crate::domain::order::{self, OrderStatus};
use crate::domain::shop::ValidationMode;
use crate::store::audit::{self, Actor, Entry};
use crate::store::orders::{self as order_store, Order};

use crate::store::schedules;
use crate::store::shops::Shop;
use crate::store::transactions::{self as store, NewTransaction, Transaction, TxStatus, TxUpdate};

/// A pay session (the pay page was shown at `started`) older than this is expired (02324).
pub const SESSION_MINUTES: i64 = 15;
/// How long an attempt holds the order while the acquirer answers (or the buyer is at the
/// issuer's challenge).
pub const LOCK_MINUTES: i64 = SESSION_MINUTES + 1;
pub use crate::domain::transaction::REFUND_DAYS;

/// What the buyer typed, reduced to what may be kept: brand, masked number, expiry, holder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CardSummary {
    pub brand: String,
    pub masked: String,
    pub expiry: String,
    pub holder: Option<String>,
    /// The saved card this attempt pays with, by its token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// Takes the order for one attempt. `Ok(false)`: not payable now (paid, expired, or another
/// attempt holds it).
pub fn begin(conn: &mut DbConn, clock: &dyn Clock, order: OrderId, holder: &str) -> ServiceResult<bool> {
    let now = clock.now_naive();
    Ok(order_store::lock_for_payment(conn, order, holder, now + Duration::minutes(LOCK_MINUTES), now)?)
}

/// How a new attempt from the pay page got the order.
#[derive(Debug)]
pub enum Claimed {
    /// The order was free (or its lock had expired).
    Free,
    /// An attempt was waiting at the issuer's challenge, left by the buyer: it is recorded
    /// CANCELLED 02008 (this transaction) and the order is held by the new attempt.
    TookOver(Box<Transaction>),
    /// Not payable now: paid, closed, or another attempt calls the acquirer.
    Busy,
}

/// Takes the order for a new attempt from the pay page: like [`begin`], and also from an
/// attempt whose buyer left the issuer's challenge — never from one calling the acquirer.
/// The hand-over and the record of the left attempt are written together, in the caller's
/// transaction.
pub fn claim(
    conn: &mut DbConn,
    clock: &dyn Clock,
    shop: &Shop,
    o: &Order,
    holder: &str,
    public_url: &str,
) -> ServiceResult<Claimed> {
    let now = clock.now_naive();
    if let Some(lock) = order_store::payment_lock(conn, o.id)?
        && let Some((left_holder, card)) = parse_parked(&lock)
        && order_store::take_over_payment(conn, o.id, &lock, holder, now + Duration::minutes(LOCK_MINUTES), now)?
    {
        // The schedule the left attempt was setting up goes with it, card and all.
        schedules::settle_pending(conn, o.id, left_holder, false, 0, now)?;
        // What the issuer page's "abandon" writes, now held by the new attempt.
        let left = Outcome {
            holder,
            card: &card,
            three_ds: ThreeDsOutcome::NotPerformed,
            authorisation: Authorisation { approved: false, code: codes::CANCELLED_BY_BUYER },
            cancelled_by_buyer: true,
            acquirer_ref: "",
            service: None,
        };
        let (t, _) = write_result(conn, clock, shop, o, &left, public_url, false)?;
        return Ok(Claimed::TookOver(Box::new(t)));
    }
    // Not parked, or answered or taken over meanwhile: the ordinary lock decides.
    Ok(if begin(conn, clock, o.id, holder)? { Claimed::Free } else { Claimed::Busy })
}

/// The buyer goes to the issuer's challenge: `holder`'s lock is parked with the masked card,
/// so that a new attempt may take over. False: `holder` no longer holds the order.
pub fn await_challenge(conn: &mut DbConn, order: OrderId, holder: &str, card: &CardSummary) -> ServiceResult<bool> {
    debug_assert!(!holder.contains(':') && !holder.starts_with(PARKED), "attempt ids are URL-safe tokens");
    Ok(order_store::restage_payment(conn, order, holder, &parked_lock(holder, card), None)?)
}

/// The buyer answered the challenge: `holder` takes its lock back before anything is sent to
/// the acquirer, for a full [`LOCK_MINUTES`]. False: answered already, or taken over by a new
/// attempt — then the acquirer must not be called.
pub fn resume(conn: &mut DbConn, clock: &dyn Clock, order: OrderId, holder: &str) -> ServiceResult<bool> {
    let Some(lock) = order_store::payment_lock(conn, order)? else { return Ok(false) };
    if parse_parked(&lock).is_none_or(|(parked, _)| parked != holder) {
        return Ok(false);
    }
    let until = clock.now_naive() + Duration::minutes(LOCK_MINUTES);
    Ok(order_store::restage_payment(conn, order, &lock, holder, Some(until))?)
}

/// Whether `holder` still holds the order, at either stage (a 3-D Secure challenge is
/// answered once: after `finalise` or a take-over, its holder id no longer does).
pub fn holds(conn: &mut DbConn, order: OrderId, holder: &str) -> ServiceResult<bool> {
    Ok(order_store::payment_lock(conn, order)?.is_some_and(|lock| holder_of(&lock) == holder))
}

/// Gives the order back without a result, at whichever stage `holder` holds it.
pub fn abandon(conn: &mut DbConn, order: OrderId, holder: &str) -> ServiceResult<()> {
    if let Some(lock) = order_store::payment_lock(conn, order)?
        && holder_of(&lock) == holder
    {
        order_store::release_payment(conn, order, &lock)?;
    }
    Ok(())
}

use order_store::PARKED;

fn parked_lock(holder: &str, card: &CardSummary) -> String {
    format!("{PARKED}{holder}:{}", serde_json::to_string(card).expect("a card summary serialises"))
}

/// The attempt id and masked card of a lock parked at the challenge; None at the other stage.
fn parse_parked(lock: &str) -> Option<(&str, CardSummary)> {
    let (holder, card) = lock.strip_prefix(PARKED)?.split_once(':')?;
    Some((holder, serde_json::from_str(card).ok()?))
}

/// The attempt id of a lock, whatever its stage.
fn holder_of(lock: &str) -> &str {
    lock.strip_prefix(PARKED).and_then(|rest| rest.split_once(':')).map_or(lock, |(holder, _)| holder)
}

/// The result of an attempt, written at once.
pub struct Outcome<'a> {
    pub holder: &'a str,
    pub card: &'a CardSummary,
    pub three_ds: ThreeDsOutcome,
    /// Approved or refused by the acquirer, or refused before it (`approved: false`).
    pub authorisation: Authorisation,
    /// Abandoned at the challenge: CANCELLED 02008 rather than REFUSED.
    pub cancelled_by_buyer: bool,
    pub acquirer_ref: &'a str,
    /// Made through a payment service: its name and its payment id.
    pub service: Option<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Finalised {
    Accepted,
    Refused,
}

/// Writes the transaction, its first history line, the order's new status and (accepted
/// with a buyer e-mail) the receipt e-mail, and releases the order, in the caller's
/// transaction. Fails with a conflict when the attempt no longer holds the order.
pub fn finalise(
    conn: &mut DbConn,
    clock: &dyn Clock,
    shop: &Shop,
    o: &Order,
    out: &Outcome<'_>,
    public_url: &str,
) -> ServiceResult<(Transaction, Finalised)> {
    let (t, result) = write_result(conn, clock, shop, o, out, public_url, true)?;
    operations::close_authorisation(conn, out.holder, result == Finalised::Accepted, t.id, clock.now_naive())?;
    Ok((t, result))
}

/// [`finalise`]'s writing; `release: false` leaves the lock with `out.holder` (a new attempt
/// writing the result of the challenge it took over).
fn write_result(
    conn: &mut DbConn,
    clock: &dyn Clock,
    shop: &Shop,
    o: &Order,
    out: &Outcome<'_>,
    public_url: &str,
    release: bool,
) -> ServiceResult<(Transaction, Finalised)> {
    let now = clock.now();
    let now_naive = now.naive_utc();
    let tz = shop.settings.time_zone;
    let today = order::local_today(now, tz);
    let accepted = out.authorisation.approved;
    // A card saved by this attempt becomes the buyer's once the payment is accepted.
    let saved = crate::store::cards::settle_pending(conn, out.holder, accepted, now_naive)?;
    let alias = out.card.alias.clone().or(saved);
    // The first instalment of the schedule this attempt sets up, or the whole amount.
    let (amount, instalment) = match schedules::pending_of(conn, o.id, out.holder)? {
        Some((count, first)) => (Money { minor: first, currency: o.amount.currency }, Some((1, count))),
        None => (o.amount, None),
    };
    let settled = if accepted {
        accepted_status(conn, shop, o, today, now_naive)?
    } else {
        let s = if out.cancelled_by_buyer { TxStatus::Cancelled } else { TxStatus::Refused };
        Settled { status: s, capture_date: None, validate_by: None, captured_at: None }
    };
    let Settled { status, capture_date, validate_by, captured_at } = settled;
    let t = store::insert(
        conn,
        &NewTransaction {
            shop_id: o.shop_id,
            mode: o.mode,
            order_id: o.id,
            status,
            amount,
            card_brand: &out.card.brand,
            card_masked: &out.card.masked,
            card_expiry: &out.card.expiry,
            holder: out.card.holder.as_deref(),
            three_ds: out.three_ds,
            return_code: out.authorisation.code,
            acquirer_ref: out.acquirer_ref,
            source: o.channel,
            buyer_email: o.buyer_email.as_deref(),
            validation_mode: o.validation_mode,
            capture_date,
            validate_by,
            captured_at,
            saved_card: alias.as_deref(),
            instalment,
        },
        now_naive,
    )
    .map_err(|e| {
        if crate::db::is_unique_violation(&e) { ServiceError::Conflict("payment.already_paid") } else { e.into() }
    })?;
    if let Some((service, payment_id)) = out.service {
        store::set_service(conn, t.id, service, payment_id)?;
    }
    first_events(conn, &t, "buyer", &format!("{} {}", status, out.authorisation.code), now_naive)?;
    schedules::settle_pending(conn, o.id, out.holder, accepted, t.id, now_naive)?;
    let order_status = if accepted { OrderStatus::Paid } else { OrderStatus::Refused };
    if order_store::finalise_payment(conn, o.id, out.holder, order_status, t.id, release, now_naive)? != 1 {
        return Err(ServiceError::Conflict("payment.already_paid"));
    }
    let event = if accepted { EventType::PaymentAccepted } else { EventType::PaymentRefused };
    super::notify::emit(conn, event, o.id, Some(t.id), false, public_url, now_naive)?;
    Ok((t, if accepted { Finalised::Accepted } else { Finalised::Refused }))
}

/// The first lines of a new transaction's history: created by `actor`, and captured with
/// the authorisation when it was.
pub(crate) fn first_events(
    conn: &mut DbConn,
    t: &Transaction,
    actor: &str,
    detail: &str,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    store::add_event(conn, t.id, "created", Some(t.amount.minor), actor, detail, now)?;
    if t.status == TxStatus::Captured {
        store::add_event(
            conn,
            t.id,
            "captured",
            Some(t.amount.minor),
            "system",
            "captured with the authorisation",
            now,
        )?;
    }
    Ok(())
}

/// What an accepted authorisation of the order becomes, by its validation mode and capture
/// delay.
pub(crate) struct Settled {
    pub status: TxStatus,
    pub capture_date: Option<NaiveDate>,
    pub validate_by: Option<NaiveDateTime>,
    pub captured_at: Option<NaiveDateTime>,
}

pub(crate) fn accepted_status(
    conn: &mut DbConn,
    shop: &Shop,
    o: &Order,
    today: NaiveDate,
    now: NaiveDateTime,
) -> ServiceResult<Settled> {
    let capture_date = Some(today + Duration::days(i64::from(o.capture_delay_days)));
    Ok(match o.validation_mode {
        ValidationMode::Manual => Settled {
            status: TxStatus::AuthorisedToValidate,
            capture_date,
            validate_by: Some(now + Duration::days(i64::from(shop_validation_days(conn, shop)?))),
            captured_at: None,
        },
        ValidationMode::Auto if o.capture_delay_days == 0 => {
            Settled { status: TxStatus::Captured, capture_date, validate_by: None, captured_at: Some(now) }
        }
        ValidationMode::Auto => {
            Settled { status: TxStatus::Authorised, capture_date, validate_by: None, captured_at: None }
        }
    })
}

fn shop_validation_days(conn: &mut DbConn, shop: &Shop) -> ServiceResult<i32> {
    use diesel::prelude::*;
    Ok(crate::db::schema::shops::table
        .find(shop.id.0)
        .select(crate::db::schema::shops::validation_days)
        .first::<i32>(conn)?)
}

// ---- The merchant's actions ------------------------------------------------------------

/// Who acts on which transactions (the shops and mode a user or key may see).
pub struct TxContext<'a> {
    pub actor: &'a Actor,
    pub shops: &'a [crate::domain::ids::ShopId],
    pub mode: crate::domain::api_key::Mode,
    pub time_zone: chrono_tz::Tz,
}

pub fn load(conn: &mut DbConn, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    store::find(conn, ctx.shops, ctx.mode, id)?.ok_or(ServiceError::NotFound)
}

fn record(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &TxContext<'_>,
    t: &Transaction,
    kind: &str,
    amount: Option<i64>,
    detail: &str,
) -> ServiceResult<()> {
    let now = clock.now_naive();
    store::add_event(conn, t.id, kind, amount, &ctx.actor.name, detail, now)?;
    audit::append(
        conn,
        ctx.actor,
        Entry {
            shop_id: Some(t.shop_id),
            action: &format!("transaction.{kind}"),
            target: &format!("transaction:{}", t.id),
            detail,
        },
        now,
    )?;
    Ok(())
}

fn applied(n: usize, why: &'static str) -> ServiceResult<()> {
    if n == 1 { Ok(()) } else { Err(ServiceError::Conflict(why)) }
}

/// Manual validation: the transaction will be captured on its capture date.
pub fn validate(conn: &mut DbConn, clock: &dyn Clock, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    let t = load(conn, ctx, id)?;
    applied(store::apply(conn, id, TxUpdate::Validate, clock.now_naive())?, "transaction.not_to_validate")?;
    record(conn, clock, ctx, &t, "validated", None, "")?;
    load(conn, ctx, id)
}

/// The API's capture: validates a manual transaction, or captures an authorised one now.
pub async fn capture_now(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    match read_one(env, ctx, id).await?.status {
        TxStatus::AuthorisedToValidate => validate_now(env, ctx, id).await,
        TxStatus::Authorised => operations::capture(env, ctx, id).await,
        _ => Err(ServiceError::Conflict("transaction.not_capturable")),
    }
}

/// The back office's "capture now": an AUTHORISED transaction only. `capture_now` (the API's
/// capture) would validate an AUTHORISED_TO_VALIDATE one instead, which the button must not
/// do under a "captured" notice; such a transaction is validated with its own button first.
pub async fn capture_early(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    operations::capture(env, ctx, id).await
}

/// The merchant's actions on one transaction that take no input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxAction {
    Validate,
    /// The back office's "capture now" (AUTHORISED only).
    CaptureEarly,
    /// The API's capture (validates a manual transaction).
    CaptureNow,
    Cancel,
}

/// Runs `action` on the transaction `id`; the transaction as it is after.
pub async fn perform(env: &Env, ctx: &TxContext<'_>, id: i64, action: TxAction) -> ServiceResult<Transaction> {
    match action {
        TxAction::Validate => validate_now(env, ctx, id).await,
        TxAction::CaptureEarly => capture_early(env, ctx, id).await,
        TxAction::CaptureNow => capture_now(env, ctx, id).await,
        TxAction::Cancel => operations::cancel(env, ctx, id).await,
    }
}

/// A refund typed by a person (`15,00`), in the transaction's currency.
pub async fn refund_typed(env: &Env, ctx: &TxContext<'_>, id: i64, typed: &str) -> ServiceResult<Transaction> {
    let currency = read_one(env, ctx, id).await?.amount.currency;
    let amount = Money::parse(typed, currency).map_err(|e| ServiceError::Invalid(vec![e]))?;
    operations::refund(env, ctx, id, Some(amount.minor)).await
}

/// What [`refund_typed`] would refund, checked by the same rules, without refunding: the
/// transaction and the amount, for the merchant to confirm.
pub async fn check_refund(env: &Env, ctx: &TxContext<'_>, id: i64, typed: &str) -> ServiceResult<(Transaction, Money)> {
    let t = read_one(env, ctx, id).await?;
    let amount = Money::parse(typed, t.amount.currency).map_err(|e| ServiceError::Invalid(vec![e]))?;
    let (_, amount, _) = operations::plan_refund(&t, env.clock.now().naive_utc(), Some(amount.minor))?;
    Ok((t, amount))
}

/// One transaction the context may see, in its own read.
pub async fn find(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    read_one(env, ctx, id).await
}

/// [`validate`] in its own transaction.
pub async fn validate_now(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    let (clock, asked) = (env.clock.clone(), Owned::of(ctx));
    env.db.write(move |conn| validate(conn, clock.as_ref(), &asked.ctx(), id)).await
}

/// [`change_capture_date`] in its own transaction.
pub async fn change_capture_date_now(
    env: &Env,
    ctx: &TxContext<'_>,
    id: i64,
    raw: String,
) -> ServiceResult<Transaction> {
    let (clock, asked) = (env.clock.clone(), Owned::of(ctx));
    env.db.write(move |conn| change_capture_date(conn, clock.as_ref(), &asked.ctx(), id, &raw)).await
}

async fn read_one(env: &Env, ctx: &TxContext<'_>, id: i64) -> ServiceResult<Transaction> {
    let asked = Owned::of(ctx);
    env.db.read(move |conn| load(conn, &asked.ctx(), id)).await
}

/// A [`TxContext`] owned, to cross into a database closure.
struct Owned {
    actor: Actor,
    shops: Vec<crate::domain::ids::ShopId>,
    mode: crate::domain::api_key::Mode,
    time_zone: chrono_tz::Tz,
}

impl Owned {
    fn of(ctx: &TxContext<'_>) -> Owned {
        Owned { actor: ctx.actor.clone(), shops: ctx.shops.to_vec(), mode: ctx.mode, time_zone: ctx.time_zone }
    }

    fn ctx(&self) -> TxContext<'_> {
        TxContext { actor: &self.actor, shops: &self.shops, mode: self.mode, time_zone: self.time_zone }
    }
}

pub fn change_capture_date(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &TxContext<'_>,
    id: i64,
    raw: &str,
) -> ServiceResult<Transaction> {
    let t = load(conn, ctx, id)?;
    let today = order::local_today(clock.now(), ctx.time_zone);
    let date = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw.trim(), "%d/%m/%Y"))
        .map_err(|_| ServiceError::field("capture_date", "expires_on.invalid"))?;
    if date < today {
        return Err(ServiceError::field("capture_date", "capture_date.past"));
    }
    if date > today + Duration::days(365) {
        return Err(ServiceError::field("capture_date", "capture_date.too_far"));
    }
    applied(store::apply(conn, id, TxUpdate::CaptureDate(date), clock.now_naive())?, "transaction.already_captured")?;
    let before = t.capture_date.map(|d| d.to_string()).unwrap_or_default();
    record(conn, clock, ctx, &t, "capture_date_changed", None, &format!("{before} -> {date}"))?;
    load(conn, ctx, id)
}

/// Whether a transaction was refused for reasons of the session (02324) or the buyer (02008).
pub fn is_buyer_code(code: &str) -> bool {
    code == codes::CANCELLED_BY_BUYER || code == codes::SESSION_EXPIRED
}

pub fn now_naive(clock: &dyn Clock) -> NaiveDateTime {
    clock.now_naive()
}
