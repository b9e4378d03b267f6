//! Payment in instalments after the first (seed 002): the worker charges each instalment on
//! its date as a merchant-initiated authorisation of the plan's card, retries what may be
//! retried, and when the retries are spent ends the schedule, e-mails the merchant and offers
//! the buyer the unpaid balance as a new link, to pay with another card.
//!
//! One charge is intent → call → confirm, like the buyer's: a transaction claims the
//! instalment (PENDING to CHARGING: of two workers exactly one wins) and reads the card from
//! the vault; the acquirer names a reference for the stored card; a second transaction
//! records the authorisation about to be asked (keyed by order, instalment and try, so the
//! acquirer does it once); the call; a third transaction writes the transaction, the
//! instalment's new state and what follows. An instalment whose call got no answer in time
//! stays CHARGING: its operation is reconciled by the worker, and it is never charged twice.

use crate::domain::notification::EventType;
use chrono::{Duration, NaiveDateTime};

use super::orders::{EmailPayload, pay_url};
use super::{Env, ServiceError, ServiceResult, operations, payments};
use crate::acquirer::{AcquirerError, Authorisation, Operation, StoredCard, ThreeDsOutcome};
use crate::db::DbConn;
use crate::domain::card::{CardNumber, Expiry};
use crate::domain::ids::OrderId;
use crate::domain::instalments::retry_on;
use crate::domain::money::Money;
use crate::domain::order::{self, AliasMode, Channel, DeliveryStatus};
use crate::domain::schedule::{Instalment, InstalmentStatus, Plan, PlanStatus, due_at, retryable};
use crate::i18n::Tr;
use crate::store::audit::{self, Actor, Entry};
use crate::store::orders::{self as order_store, Order};
use crate::store::outbox::{self, Kind};
use crate::store::schedules::{self as store, Charged};
use crate::store::shops::Shop;
use crate::store::transactions::{self as tx_store, NewTransaction, Transaction};
use crate::store::vault::RevealError;

/// Instalments taken in one round of the worker.
const BATCH: i64 = 50;
/// A charge the acquirer could not be asked for is tried again this much later.
const NOT_DONE_WAIT: Duration = Duration::hours(1);
/// How long the link offering the unpaid balance stays valid.
const BALANCE_DAYS: u64 = 14;

/// What one round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub charged: usize,
    /// Refused, to be tried again on a later date.
    pub retried: usize,
    /// Schedules that failed (their balance offered to the buyer).
    pub failed: usize,
}

/// An order's schedule and its instalments, as the merchant and the API see them.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub plan: Plan,
    pub instalments: Vec<Instalment>,
    /// The link of the order offering the unpaid balance, once the schedule failed.
    pub balance: Option<Order>,
}

/// The schedule of the order `o` (one the caller may see), if it has one running or ended.
pub fn of_order(conn: &mut DbConn, o: &Order) -> ServiceResult<Option<Schedule>> {
    let Some(plan) = store::plan(conn, o.id)?.filter(|p| p.status != PlanStatus::Pending) else { return Ok(None) };
    let instalments = store::instalments(conn, o.id)?;
    let balance = match plan.balance_order_id {
        Some(id) => order_store::find(conn, &[o.shop_id], o.mode, id)?,
        None => None,
    };
    Ok(Some(Schedule { plan, instalments, balance }))
}

/// Charges every instalment due now.
pub async fn run_due(env: &Env, public_url: &str) -> ServiceResult<Round> {
    let clock = env.clock.clone();
    let due = env.db.read(move |conn| Ok::<_, ServiceError>(store::due(conn, clock.now_naive(), BATCH)?)).await?;
    let mut round = Round::default();
    for (order, index) in due {
        match charge(env, order, index, public_url).await? {
            Some(Done::Paid) => round.charged += 1,
            Some(Done::Retry) => round.retried += 1,
            Some(Done::Failed) => round.failed += 1,
            Some(Done::Later) | None => {}
        }
    }
    Ok(round)
}

enum Done {
    Paid,
    Retry,
    Failed,
    /// Not charged this time (the acquirer could not be asked, or did not answer).
    Later,
}

/// What the claim's transaction read for the charge.
struct Claimed {
    order: Order,
    shop: Shop,
    plan: Plan,
    instalment: Instalment,
    /// None: the card does not open under this keyring.
    number: Option<CardNumber>,
}

/// Charges the instalment `index` of `order` once; None when another worker had it.
async fn charge(env: &Env, order: OrderId, index: u8, public_url: &str) -> ServiceResult<Option<Done>> {
    let (clock, keys) = (env.clock.clone(), env.vault.clone());
    let claimed = env
        .db
        .write(move |conn| {
            if !store::claim(conn, order, index, clock.now_naive())? {
                return Ok(None);
            }
            let (o, shop) = order_store::find_with_shop(conn, order)?.ok_or(ServiceError::NotFound)?;
            let plan = store::plan(conn, order)?.ok_or(ServiceError::NotFound)?;
            let instalment = store::instalments(conn, order)?
                .into_iter()
                .find(|i| i.index == index)
                .ok_or(ServiceError::NotFound)?;
            let number = match crate::store::vault::reveal(conn, &keys, &plan.card_token) {
                Ok(number) => number,
                Err(RevealError::Query(e)) => return Err(e.into()),
                Err(RevealError::Vault(e)) => {
                    tracing::error!(order.id = order.0, error = %e, "an instalment plan's card does not open");
                    None
                }
            };
            Ok::<_, ServiceError>(Some(Claimed { order: o, shop, plan, instalment, number }))
        })
        .await?;
    let Some(c) = claimed else { return Ok(None) };
    let Some(gate) = env.acquirers.for_mode(c.order.mode) else {
        return not_done(env, &c, "no acquirer in this mode").await;
    };
    let (Some(number), Some(expiry)) = (c.number.as_ref(), Expiry::from_display(&c.plan.card_expiry)) else {
        return not_done(env, &c, "the plan's card cannot be read").await;
    };
    let reference = match gate.stored_reference(StoredCard { number, expiry }).await {
        Ok(reference) => reference,
        Err(e) => return not_done(env, &c, &e.to_string()).await,
    };
    let amount = Money { minor: c.instalment.amount, currency: c.order.amount.currency };
    let key = operations::instalment_key(c.order.id, index, c.instalment.tries);
    let (clock, o, k, r) = (env.clock.clone(), c.order.clone(), key.clone(), reference.clone());
    env.db.write(move |conn| operations::record_instalment(conn, &o, &k, &r, amount, clock.now_naive())).await?;
    let answer = gate.authorise(Operation { key: &key, reference: &reference, amount }, true).await;
    match answer {
        Ok(authorisation) => {
            let (clock, public_url) = (env.clock.clone(), public_url.to_string());
            env.db
                .write(move |conn| {
                    let now = clock.now();
                    confirm(conn, &c, &key, &reference, authorisation, now, &public_url)
                })
                .await
                .map(Some)
        }
        Err(e @ AcquirerError::Timeout(_)) => {
            // It may have been done: the operation stays pending for reconciliation, and the
            // instalment CHARGING, so that it is never charged a second time.
            tracing::warn!(order.id = c.order.id.0, instalment = index, error = %e, "no answer to an instalment's charge");
            Ok(Some(Done::Later))
        }
        Err(e) => {
            let (clock, k, reason) = (env.clock.clone(), key.clone(), e.to_string());
            env.db.write(move |conn| operations::fail_authorisation(conn, &k, &reason, clock.now_naive())).await?;
            not_done(env, &c, &e.to_string()).await
        }
    }
}

/// The charge was not asked for: the instalment is due again in an hour, the try not counted.
async fn not_done(env: &Env, c: &Claimed, why: &str) -> ServiceResult<Option<Done>> {
    tracing::warn!(order.id = c.order.id.0, instalment = c.instalment.index, reason = why, "instalment not charged");
    let (clock, order, index) = (env.clock.clone(), c.order.id, c.instalment.index);
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            store::charged(conn, order, index, &Charged::NotDone { next_at: now + NOT_DONE_WAIT }, now)?;
            Ok::<_, ServiceError>(())
        })
        .await?;
    Ok(Some(Done::Later))
}

/// Writes the charge's result: its transaction, the instalment, and the schedule's end when
/// it was the last or could not be paid.
fn confirm(
    conn: &mut DbConn,
    c: &Claimed,
    key: &str,
    reference: &str,
    a: Authorisation,
    now: chrono::DateTime<chrono::Utc>,
    public_url: &str,
) -> ServiceResult<Done> {
    let now_naive = now.naive_utc();
    let (o, shop, plan, due) = (&c.order, &c.shop, &c.plan, &c.instalment);
    let today = order::local_today(now, shop.settings.time_zone);
    let settled = if a.approved {
        payments::accepted_status(conn, shop, o, today, now_naive)?
    } else {
        payments::Settled {
            status: tx_store::TxStatus::Refused,
            capture_date: None,
            validate_by: None,
            captured_at: None,
        }
    };
    let amount = Money { minor: due.amount, currency: o.amount.currency };
    let t = tx_store::insert(
        conn,
        &NewTransaction {
            shop_id: o.shop_id,
            mode: o.mode,
            order_id: o.id,
            status: settled.status,
            amount,
            card_brand: &plan.card_brand,
            card_masked: &plan.card_masked,
            card_expiry: &plan.card_expiry,
            holder: plan.holder.as_deref(),
            three_ds: ThreeDsOutcome::NotPerformed,
            return_code: a.code,
            acquirer_ref: reference,
            source: o.channel,
            buyer_email: o.buyer_email.as_deref(),
            validation_mode: o.validation_mode,
            capture_date: settled.capture_date,
            validate_by: settled.validate_by,
            captured_at: settled.captured_at,
            saved_card: None,
            instalment: Some((due.index, plan.count)),
        },
        now_naive,
    )?;
    let detail = format!("instalment {}/{} {} {}", due.index, plan.count, settled.status, a.code);
    payments::first_events(conn, &t, "system", &detail, now_naive)?;
    operations::close_instalment(conn, key, a.approved, t.id, now_naive)?;
    let event = if a.approved { EventType::PaymentAccepted } else { EventType::PaymentRefused };
    super::notify::emit(conn, event, o.id, Some(t.id), true, public_url, now_naive)?;
    if a.approved {
        store::charged(conn, o.id, due.index, &Charged::Paid { transaction: t.id }, now_naive)?;
        let all_paid = store::instalments(conn, o.id)?.iter().all(|i| i.status == InstalmentStatus::Paid);
        if all_paid && plan.status == PlanStatus::Running {
            store::set_status(conn, o.id, PlanStatus::Completed, now_naive)?;
            crate::store::vault::delete(conn, &plan.card_token)?;
        }
        tracing::info!(order.id = o.id.0, instalment = due.index, "instalment charged");
        return Ok(Done::Paid);
    }
    let settings = crate::store::instalments::get(conn, shop.id)?;
    let again = retryable(a.code)
        .then(|| retry_on(&settings, due.due_on, usize::from(due.tries)))
        .flatten()
        .map(|day| due_at(day, shop.settings.time_zone).naive_utc());
    if let Some(next_at) = again {
        let retry = Charged::Retry { transaction: Some(t.id), code: a.code, next_at };
        store::charged(conn, o.id, due.index, &retry, now_naive)?;
        tracing::info!(
            order.id = o.id.0,
            instalment = due.index,
            code = a.code,
            "instalment refused; tried again later"
        );
        return Ok(Done::Retry);
    }
    store::charged(conn, o.id, due.index, &Charged::Failed { transaction: Some(t.id), code: a.code }, now_naive)?;
    fail(conn, shop, o, plan, &t, now, public_url)?;
    super::notify::emit(conn, EventType::InstalmentFailed, o.id, Some(t.id), true, public_url, now_naive)?;
    Ok(Done::Failed)
}

/// The retries are spent: the schedule is FAILED, what is left is not charged, the card
/// leaves the vault, and the buyer is offered the unpaid balance as a new link; the merchant
/// and the buyer are told, through the outbox.
fn fail(
    conn: &mut DbConn,
    shop: &Shop,
    o: &Order,
    plan: &Plan,
    refused: &Transaction,
    now: chrono::DateTime<chrono::Utc>,
    public_url: &str,
) -> ServiceResult<()> {
    let now_naive = now.naive_utc();
    store::set_status(conn, o.id, PlanStatus::Failed, now_naive)?;
    store::cancel_pending(conn, o.id, now_naive)?;
    crate::store::vault::delete(conn, &plan.card_token)?;
    let unpaid: i64 =
        store::instalments(conn, o.id)?.iter().filter(|i| i.status != InstalmentStatus::Paid).map(|i| i.amount).sum();
    let balance = Money { minor: unpaid, currency: o.amount.currency };
    let tr = Tr::new(o.lang());
    let reference = o.reference.clone().unwrap_or_else(|| format!("#{}", o.id.0));
    let expires_on = order::local_today(now, shop.settings.time_zone)
        .checked_add_days(chrono::Days::new(BALANCE_DAYS))
        .unwrap_or(o.expires_on);
    let description = tr.args("instalments.balance.description", &[("reference", reference.clone().into())]);
    let token = order::new_token();
    let balance_order = order_store::insert(
        conn,
        &order_store::NewOrder {
            shop_id: o.shop_id,
            mode: o.mode,
            channel: Channel::Url,
            token: &token,
            reference: None,
            amount: balance,
            language: &o.language,
            validation_mode: o.validation_mode,
            capture_delay_days: o.capture_delay_days,
            expires_on,
            expires_at: order::validity_end(expires_on, shop.settings.time_zone).naive_utc(),
            alias_mode: AliasMode::None,
            three_ds: o.three_ds,
            buyer_email: o.buyer_email.as_deref(),
            use_collection_form: false,
            description: Some(&description),
            recipient: None,
            bcc: None,
            subject: None,
            message: None,
            // Paid at once: a schedule that must end today offers no instalments.
            instalments_until: Some(order::local_today(now, shop.settings.time_zone)),
            delivery_status: DeliveryStatus::NotSent,
            created_by: "system",
        },
        now_naive,
    )?;
    store::set_balance(conn, o.id, balance_order.id, now_naive)?;
    let link = pay_url(public_url, &balance_order.token);
    let amount = balance.display(tr.lang);
    let args = |extra: &[(&'static str, String)]| {
        let mut all: Vec<(&str, fluent_templates::fluent_bundle::FluentValue)> = vec![
            ("shop", shop.settings.label.clone().into()),
            ("reference", reference.clone().into()),
            ("amount", amount.clone().into()),
            ("code", refused.return_code.clone().into()),
        ];
        all.extend(extra.iter().map(|(k, v)| (*k, v.clone().into())));
        all
    };
    let mail = |to: &str, subject: &str, lines: Vec<String>| EmailPayload {
        to: vec![to.to_string()],
        bcc: Vec::new(),
        reply_to: Some(shop.settings.contact_email.clone()),
        from_name: shop.settings.label.clone(),
        subject: tr.args(subject, &args(&[])),
        html: lines
            .iter()
            .map(|l| format!("<p>{}</p>", crate::domain::template::escape(l)))
            .collect::<Vec<_>>()
            .join("\n"),
        text: lines.join("\n"),
    };
    let merchant = mail(
        &shop.settings.contact_email,
        "instalments.failed.merchant.subject",
        vec![
            tr.args("instalments.failed.merchant.text", &args(&[])),
            tr.args("instalments.failed.balance_link", &args(&[("link", link.clone())])),
        ],
    );
    let mut mails = vec![merchant];
    if let Some(buyer) =
        o.buyer_email.as_deref().or(if o.channel == Channel::Email { o.recipient.as_deref() } else { None })
    {
        mails.push(mail(
            buyer,
            "instalments.failed.buyer.subject",
            vec![
                tr.args("instalments.failed.buyer.text", &args(&[])),
                tr.args("instalments.failed.buyer.pay", &args(&[("link", link.clone())])),
            ],
        ));
    }
    for m in &mails {
        outbox::enqueue(conn, o.shop_id, Some(o.id), Kind::Email, &serde_json::to_string(m).expect("json"), now_naive)?;
    }
    let detail = format!("balance {} in order {}", balance.plain(), balance_order.id.0);
    let entry = Entry {
        shop_id: Some(o.shop_id),
        action: "order.instalments_failed",
        target: &format!("order:{}", o.id.0),
        detail: &detail,
    };
    audit::append(conn, &Actor::system(), entry, now_naive)?;
    tracing::info!(
        order.id = o.id.0,
        balance.order = balance_order.id.0,
        "instalment schedule failed; balance offered"
    );
    Ok(())
}

/// The merchant stops the schedule: the instalments not yet charged are cancelled and the
/// card leaves the vault. Audited.
pub fn cancel_remaining(
    conn: &mut DbConn,
    ctx: &super::orders::OrderContext<'_>,
    id: OrderId,
    now: NaiveDateTime,
) -> ServiceResult<usize> {
    let o = super::orders::load(conn, ctx, id)?;
    let plan = store::plan(conn, o.id)?.ok_or(ServiceError::Conflict("instalments.none_running"))?;
    if plan.status != PlanStatus::Running {
        return Err(ServiceError::Conflict("instalments.none_running"));
    }
    let cancelled = store::cancel_pending(conn, o.id, now)?;
    store::set_status(conn, o.id, PlanStatus::Cancelled, now)?;
    crate::store::vault::delete(conn, &plan.card_token)?;
    let detail = format!("{cancelled} instalment(s) of {} cancelled", plan.count);
    let entry = Entry {
        shop_id: Some(o.shop_id),
        action: "order.instalments_cancelled",
        target: &format!("order:{}", o.id.0),
        detail: &detail,
    };
    audit::append(conn, ctx.actor, entry, now)?;
    Ok(cancelled)
}

/// Drops the schedules whose first attempt never ended, with their cards.
pub fn sweep(conn: &mut DbConn, before: NaiveDateTime) -> ServiceResult<usize> {
    Ok(store::sweep_pending(conn, before)?)
}
