//! The buyer's pay flow on `/t/{token}`: show the link, pay by card, the 3-D Secure
//! challenge and the issuer's answer. Each step returns what happened ([`Step`]); the web
//! layer renders it.
//!
//! **This is the one use case that spans several database transactions**, because the
//! acquirer is never called inside one:
//!
//! 1. *authenticate* (3-D Secure) — a call, before anything is written;
//! 2. *lock* — one transaction takes the order's payment lock for a new attempt id (a link
//!    is paid at most once, whatever the double clicks: see `services::payments`) and, when
//!    an authorisation follows, records its intent (`acquirer_operations`, AUTHORISE, keyed
//!    by the attempt); or parks the lock while the buyer is at the issuer's challenge;
//! 3. *authorise* — a call, bounded by the acquirer's timeout;
//! 4. *finalise* — one transaction writes the transaction, its history, the order's status
//!    and the receipt e-mail, closes the operation and releases the lock; only the lock's
//!    holder can commit it.
//!
//! A crash or a timeout between 2 and 4 leaves the operation pending: the worker asks the
//! acquirer about it (`services::operations::reconcile`) and, if the money was authorised
//! but never recorded, puts it in the merchant's review. The lock runs out by itself.
//!
//! The full card number and the CVV live in [`Card`] for one request only: they are given to
//! the acquirer and dropped, never written, logged or returned.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::payments::{self, CardSummary, Claimed, Finalised, Outcome, SESSION_MINUTES};
use super::{Env, ServiceError, ServiceResult, operations};
use crate::acquirer::{self, AcquirerError, Authentication, Authorisation, CardInput, ThreeDsOutcome, codes};
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::card::{CardNumber, Cvv, Expiry};
use crate::domain::logo::{Logo, LogoKind};
use crate::domain::money::Money;
use crate::domain::order::{self, AliasMode, Channel, OrderStatus};
use crate::domain::saved_card::{SavedCard, normalise_email};
use crate::domain::shop::ThreeDsPreference;
use crate::domain::text::random_token;
use crate::store::cards::{self as card_store, NewCard};
use crate::store::orders::{self as store, Order};
use crate::store::shops::Shop;
use crate::store::transactions::{self as tx_store, Transaction, TxStatus};
use crate::store::vault::RevealError;

mod instalments;
pub use instalments::{Offer, instalment_offer};
use instalments::{Planning, choose_instalments, plan_pending};

/// A payment link as its pages show it: the order and its shop.
#[derive(Clone)]
pub struct Link {
    pub(crate) order: Order,
    pub(crate) shop: Shop,
    /// Where the shop's logo is served, when it has one.
    logo: Option<String>,
}

impl Link {
    pub fn token(&self) -> &str {
        &self.order.token
    }
    pub fn language(&self) -> &str {
        &self.order.language
    }
    pub fn mode(&self) -> Mode {
        self.order.mode
    }
    pub fn amount(&self) -> Money {
        self.order.amount
    }
    pub fn reference(&self) -> Option<&str> {
        self.order.reference.as_deref()
    }
    pub fn description(&self) -> Option<&str> {
        self.order.description.as_deref()
    }
    pub fn expires_on(&self) -> NaiveDate {
        self.order.expires_on
    }
    /// Cancelled by the merchant (not merely past its end).
    pub fn cancelled(&self) -> bool {
        self.order.status == OrderStatus::Cancelled
    }
    pub fn three_ds(&self) -> ThreeDsPreference {
        self.order.three_ds
    }
    pub fn shop_label(&self) -> &str {
        &self.shop.settings.label
    }
    pub fn shop_url(&self) -> &str {
        &self.shop.settings.url
    }
    pub fn logo(&self) -> Option<&str> {
        self.logo.as_deref()
    }
    pub fn time_zone(&self) -> chrono_tz::Tz {
        self.shop.settings.time_zone
    }
    pub fn order_id(&self) -> i64 {
        self.order.id.0
    }
    pub fn alias_mode(&self) -> AliasMode {
        if self.order.channel == Channel::Invoice { AliasMode::None } else { self.order.alias_mode }
    }
    /// Who pays, when the order says: its buyer e-mail, or the one recipient of an e-mail
    /// order. Saved cards are kept and offered under it.
    pub fn buyer(&self) -> Option<String> {
        if self.order.channel == Channel::Invoice {
            return None;
        }
        let email = self.order.buyer_email.as_deref().or(match self.order.channel {
            Channel::Email => self.order.recipient.as_deref(),
            _ => None,
        })?;
        Some(normalise_email(email))
    }
}

/// What a receipt or a refusal shows of a transaction.
#[derive(Debug, Clone)]
pub struct Attempted {
    pub id: i64,
    pub accepted: bool,
    /// Abandoned by the buyer (CANCELLED), rather than refused.
    pub cancelled: bool,
    pub amount: Money,
    pub created_at: NaiveDateTime,
    pub card_brand: String,
    pub card_masked: String,
    pub holder: Option<String>,
    pub three_ds: ThreeDsOutcome,
    pub return_code: String,
    pub receipt_no: String,
    /// Made through a payment service (its page handled the card, and its codes apply).
    pub by_service: bool,
}

impl Attempted {
    fn of(t: &Transaction) -> ServiceResult<Attempted> {
        let three_ds = t.three_ds;
        Ok(Attempted {
            id: t.id,
            accepted: t.status.accepted(),
            cancelled: t.status == TxStatus::Cancelled,
            amount: t.amount,
            created_at: t.created_at,
            card_brand: t.card_brand.clone(),
            card_masked: t.card_masked.clone(),
            holder: t.holder.clone(),
            three_ds,
            return_code: t.return_code.clone(),
            receipt_no: t.receipt_no.clone(),
            by_service: t.service.is_some(),
        })
    }
}

/// What the link's page shows now.
pub enum Shown {
    /// Expired or cancelled: no form, ever.
    Closed,
    Receipt(Attempted),
    /// The form (when card payment is available in the order's mode), under the last refusal.
    Payable {
        refusal: Option<Attempted>,
        by_card: bool,
    },
}

/// The card as typed, parsed at the edge. Lives for one request.
pub struct Card {
    pub number: CardNumber,
    pub expiry: Expiry,
    pub cvv: Cvv,
    pub holder: Option<String>,
    /// A saved card's token, when the buyer chose one (its number came from the vault).
    pub alias: Option<String>,
}

impl Card {
    fn summary(&self) -> CardSummary {
        CardSummary {
            brand: self.number.brand().label().to_string(),
            masked: self.number.masked(),
            expiry: self.expiry.display(),
            holder: self.holder.clone(),
            alias: self.alias.clone(),
        }
    }
}

/// A new card to keep in the vault if its payment is accepted: written with the lock, as a
/// pending card of the attempt.
struct Vaulting {
    number: CardNumber,
    expiry: Expiry,
    holder: Option<String>,
    buyer: String,
}

/// The saved cards the pay page offers: the buyer's, in this shop; none for an invoice order
/// or an order that names no buyer.
pub async fn saved_cards(env: &Env, link: &Link) -> ServiceResult<Vec<SavedCard>> {
    let Some(email) = link.buyer() else { return Ok(Vec::new()) };
    let (shop, mode) = (link.shop.id, link.order.mode);
    Ok(env.db.read_short(move |conn| card_store::active_for(conn, shop, mode, &email).map_err(DbError::from)).await?)
}

/// The saved card `token` with the CVV typed again: the card to pay with, or the refusals
/// next to their fields (not the buyer's, expired, bad CVV). The number leaves the vault here,
/// for this one request.
pub async fn use_saved(
    env: &Env,
    link: &Link,
    token: String,
    cvv: &str,
) -> ServiceResult<Result<Card, Vec<FieldError>>> {
    let unknown = || Ok(Err(vec![FieldError::new("saved_card", "pay.saved_card.unknown")]));
    let Some(email) = link.buyer() else { return unknown() };
    let (shop, mode, keys) = (link.shop.id, link.order.mode, env.vault.clone());
    let found = env
        .db
        .read_short(move |conn| {
            let Some(buyer) = card_store::find_buyer(conn, shop, &email)? else { return Ok(None) };
            let Some(card) = card_store::get(conn, &token)? else { return Ok(None) };
            if card.buyer_id != buyer
                || card.mode != mode
                || card.status != crate::domain::saved_card::CardStatus::Active
            {
                return Ok(None);
            }
            let number = match crate::store::vault::reveal(conn, &keys, &token) {
                Ok(number) => number,
                Err(RevealError::Query(e)) => return Err(e.into()),
                Err(RevealError::Vault(e)) => {
                    // Unreadable under this keyring (a key removed too early, or tampering):
                    // the card cannot pay, the buyer is asked for another.
                    tracing::error!(error = %e, "a saved card's number does not open");
                    None
                }
            };
            Ok::<_, DbError>(number.map(|n| (card, n)))
        })
        .await?;
    let Some((saved, number)) = found else { return unknown() };
    if saved.expired(today(env, link)) {
        return Ok(Err(vec![FieldError::new("saved_card", "pay.saved_card.expired")]));
    }
    if cvv.trim().is_empty() {
        return Ok(Err(vec![FieldError::new("cvv", "field.required")]));
    }
    let cvv = match Cvv::parse(cvv, number.brand()) {
        Ok(cvv) => cvv,
        Err(e) => return Ok(Err(vec![e])),
    };
    Ok(Ok(Card { number, expiry: saved.expiry, cvv, holder: saved.holder.clone(), alias: Some(saved.token) }))
}

/// The buyer is sent to the issuer's challenge: what its page and its answer need, which the
/// web layer seals into the challenge URL (no server state).
#[derive(Debug, Clone)]
pub struct Parked {
    pub holder: String,
    pub reference: String,
    pub card: CardSummary,
    /// When the challenge began.
    pub issued: NaiveDateTime,
}

/// The buttons of the simulated issuer page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerAnswer {
    Approve,
    Fail,
    Abandon,
}

/// What a step of the flow did.
#[derive(Debug)]
pub enum Step {
    /// The result is written: the link now shows the receipt or the refusal.
    Done,
    /// Paid meanwhile, answered already, or taken over: back to the link.
    Moved,
    /// Expired or cancelled.
    Closed,
    /// No acquirer in the order's mode: the page without a form.
    NoCardPayment,
    /// Another attempt is calling the acquirer.
    Busy,
    /// The acquirer refused to work or did not answer: nothing was charged that the buyer
    /// was told of; they may try again later.
    Unavailable,
    Challenge(Parked),
}

/// What happened, and what to count (`paylink_payments_total{outcome}`).
#[derive(Debug)]
pub struct Progress {
    pub step: Step,
    pub counted: Vec<&'static str>,
}

impl Progress {
    fn just(step: Step) -> Progress {
        Progress { step, counted: Vec::new() }
    }
}

/// Tokens are 22 URL-safe characters; anything else is not looked up.
fn plausible(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The link of `token`: not found for anything else.
pub async fn find(env: &Env, token: String) -> ServiceResult<Link> {
    if !plausible(&token) {
        return Err(ServiceError::NotFound);
    }
    let found = env
        .db
        .read_short(move |conn| {
            let Some((order, shop)) = store::find_by_token_with_shop(conn, &token)? else { return Ok(None) };
            let logo = crate::store::logos::name_of(conn, shop.id)?;
            Ok::<_, DbError>(Some((order, shop, logo)))
        })
        .await?;
    let (order, shop, logo) = found.ok_or(ServiceError::NotFound)?;
    let logo = logo.and_then(|(digest, kind)| LogoKind::from_content_type(&kind).map(|k| Logo::href(&digest, k)));
    Ok(Link { order, shop, logo })
}

/// What `GET /t/{token}` shows.
pub async fn show(env: &Env, link: &Link) -> ServiceResult<Shown> {
    let o = &link.order;
    Ok(match o.status_at(env.clock.now_naive()) {
        OrderStatus::Expired | OrderStatus::Cancelled => Shown::Closed,
        OrderStatus::Paid => {
            let t =
                last_transaction(env, o).await?.ok_or(ServiceError::Conflict("payment.paid_without_transaction"))?;
            Shown::Receipt(Attempted::of(&t)?)
        }
        OrderStatus::Running => Shown::Payable { refusal: None, by_card: by_card(env, o.mode) },
        OrderStatus::Refused => {
            let refusal = last_transaction(env, o).await?.map(|t| Attempted::of(&t)).transpose()?;
            Shown::Payable { refusal, by_card: by_card(env, o.mode) }
        }
    })
}

/// Whether card payment is available in `mode` (an acquirer is connected).
pub fn by_card(env: &Env, mode: Mode) -> bool {
    env.acquirers.for_mode(mode).is_some()
}

async fn last_transaction(env: &Env, o: &Order) -> ServiceResult<Option<Transaction>> {
    let Some(id) = o.transaction_id else { return Ok(None) };
    Ok(env.db.read_short(move |conn| tx_store::get(conn, id).map_err(DbError::from)).await?)
}

/// Where an order that cannot be paid now stands: paid or still open (back to the link),
/// closed, or held by another attempt.
pub fn standing(env: &Env, link: &Link) -> Option<Step> {
    match link.order.status_at(env.clock.now_naive()) {
        OrderStatus::Expired | OrderStatus::Cancelled => Some(Step::Closed),
        OrderStatus::Paid => Some(Step::Moved),
        OrderStatus::Running | OrderStatus::Refused => None,
    }
}

/// Why the link takes no card now, before its form is even read: closed, paid, or no
/// acquirer in the order's mode.
pub fn takes_no_card(env: &Env, link: &Link) -> Option<Step> {
    standing(env, link).or_else(|| (!by_card(env, link.order.mode)).then_some(Step::NoCardPayment))
}

/// One payment attempt with `card`, on a pay page shown at `started`. `save`: the buyer asked
/// to keep the card (PROPOSE); AUTO keeps it anyway, NONE never. `instalments`: 1 to pay at
/// once, or the number offered, whose first is charged now with a 3-D Secure challenge;
/// anything else is refused as [`ServiceError::Invalid`] on the `instalments` field.
pub async fn pay(
    env: &Env,
    link: &Link,
    card: Card,
    save: bool,
    instalments: u8,
    started: NaiveDateTime,
    public_url: &str,
) -> ServiceResult<Progress> {
    if let Some(step) = standing(env, link) {
        return Ok(Progress::just(step));
    }
    let Some(gate) = env.acquirers.for_mode(link.order.mode) else { return Ok(Progress::just(Step::NoCardPayment)) };
    let planning = match instalments {
        1 => None,
        n => match choose_instalments(env, link, &card, n).await? {
            Ok(schedule) => {
                Some(Planning { number: card.number.clone(), summary: card.summary(), schedule, tz: link.time_zone() })
            }
            Err(e) => return Err(ServiceError::Invalid(vec![e])),
        },
    };
    let amount = match &planning {
        Some(p) => Money { minor: p.schedule[0].amount, currency: link.order.amount.currency },
        None => link.order.amount,
    };
    // A schedule is set up with a 3-D Secure challenge, as a saved card is.
    let preference = if planning.is_some() { ThreeDsPreference::Challenge } else { link.order.three_ds };
    let keeps = match link.alias_mode() {
        AliasMode::None => false,
        AliasMode::Propose => save,
        AliasMode::Auto => true,
    };
    let vaulting = match (keeps && card.alias.is_none(), link.buyer()) {
        (true, Some(buyer)) => {
            Some(Vaulting { number: card.number.clone(), expiry: card.expiry, holder: card.holder.clone(), buyer })
        }
        _ => None,
    };
    let attempt = Attempt { holder: random_token(16), card: card.summary(), vaulting, planning, amount };
    if env.clock.now_naive() - started > Duration::minutes(SESSION_MINUTES) {
        // The page was shown too long ago: refused 02324, and the card never reaches the acquirer.
        drop(card);
        let attempt = Attempt { vaulting: None, planning: None, amount: link.order.amount, ..attempt };
        let refused = Authorisation { approved: false, code: codes::SESSION_EXPIRED };
        return written(env, link, attempt, Then::Nothing, ThreeDsOutcome::NotPerformed, Ok(refused), "", public_url)
            .await;
    }
    let input = CardInput { number: &card.number, expiry: card.expiry, cvv: &card.cvv };
    let authentication = gate.authenticate(input, preference).await;
    drop(card);
    match authentication {
        Err(e) => {
            tracing::warn!(order.id = link.order.id.0, error = %e, "3-D Secure authentication failed at the acquirer");
            Ok(Progress::just(Step::Unavailable))
        }
        Ok(Authentication::Refused { code, outcome }) => {
            let attempt = Attempt { vaulting: None, planning: None, amount: link.order.amount, ..attempt };
            let refused = Authorisation { approved: false, code };
            written(env, link, attempt, Then::Nothing, outcome, Ok(refused), "", public_url).await
        }
        Ok(Authentication::Frictionless { reference }) => {
            let then = Then::Authorise(reference.clone());
            let answer = Pending { gate, reference: &reference };
            written(env, link, attempt, then, ThreeDsOutcome::Frictionless, Err(answer), &reference, public_url).await
        }
        Ok(Authentication::Challenge { reference }) => challenge(env, link, attempt, reference, public_url).await,
    }
}

/// The lock is parked with the attempt while the buyer is at the issuer, so that the buyer
/// may come back and pay again.
async fn challenge(
    env: &Env,
    link: &Link,
    attempt: Attempt,
    reference: String,
    public_url: &str,
) -> ServiceResult<Progress> {
    let then = Then::Park(attempt.card.clone());
    let took = take(env, link, &attempt.holder, then, attempt.vaulting, attempt.planning, public_url).await?;
    match took.obtained {
        true => {
            let parked =
                Parked { holder: attempt.holder, reference, card: attempt.card, issued: env.clock.now_naive() };
            Ok(Progress { step: Step::Challenge(parked), counted: took.counted })
        }
        false => Ok(Progress { step: not_obtained(env, link).await?, counted: took.counted }),
    }
}

/// Whether the challenge of `holder` is still under way (its page may be shown).
pub async fn challenge_open(env: &Env, link: &Link, holder: String) -> ServiceResult<bool> {
    let id = link.order.id;
    env.db.read(move |conn| payments::holds(conn, id, &holder)).await
}

/// The buyer's answer at the issuer's challenge.
pub async fn answer(
    env: &Env,
    link: &Link,
    parked: Parked,
    answer: IssuerAnswer,
    public_url: &str,
) -> ServiceResult<Progress> {
    let Some(gate) = env.acquirers.for_mode(link.order.mode) else { return Ok(Progress::just(Step::NoCardPayment)) };
    let expired = env.clock.now_naive() - parked.issued > Duration::minutes(SESSION_MINUTES);
    let calls = !expired && answer == IssuerAnswer::Approve;
    let (clock, order, holder, reference) =
        (env.clock.clone(), link.order.clone(), parked.holder.clone(), parked.reference.clone());
    // The lock is taken back (and the authorisation recorded) before anything is sent.
    let resumed = env
        .db
        .write(move |conn| {
            let resumed = payments::resume(conn, clock.as_ref(), order.id, &holder)?;
            if resumed && calls {
                operations::record_authorisation(conn, &order, &holder, &reference, clock.now_naive())?;
            }
            // The first instalment of the schedule the attempt set up, or the whole amount.
            let amount = match crate::store::schedules::pending_of(conn, order.id, &holder)? {
                Some((_, first)) => Money { minor: first, currency: order.amount.currency },
                None => order.amount,
            };
            Ok::<_, ServiceError>((resumed, amount))
        })
        .await?;
    let (resumed, amount) = resumed;
    if !resumed {
        // Answered already (double click, back button) or taken over by a new attempt.
        return Ok(Progress::just(standing(env, link).unwrap_or(Step::Moved)));
    }
    let attempt = Attempt { holder: parked.holder, card: parked.card, vaulting: None, planning: None, amount };
    let refused = |code| Ok(Authorisation { approved: false, code });
    let (three_ds, answer, reference) = match (expired, answer) {
        (true, _) => (ThreeDsOutcome::NotPerformed, refused(codes::SESSION_EXPIRED), ""),
        (false, IssuerAnswer::Approve) => (
            ThreeDsOutcome::ChallengePassed,
            Err(Pending { gate, reference: &parked.reference }),
            parked.reference.as_str(),
        ),
        (false, IssuerAnswer::Fail) => (ThreeDsOutcome::ChallengeFailed, refused(codes::AUTHENTICATION_FAILED), ""),
        (false, IssuerAnswer::Abandon) => (ThreeDsOutcome::NotPerformed, refused(codes::CANCELLED_BY_BUYER), ""),
    };
    finish(env, link, attempt, three_ds, answer, reference, public_url).await
}

/// What one attempt carries from the lock to `finalise`: its id and the masked card (and,
/// until the lock is taken, the card to keep if the buyer saves it).
struct Attempt {
    holder: String,
    card: CardSummary,
    vaulting: Option<Vaulting>,
    planning: Option<Planning>,
    /// What is authorised now: the order's amount, or the first instalment's.
    amount: Money,
}

/// What the lock's transaction does besides taking the order.
enum Then {
    Nothing,
    /// An authorisation follows: its intent is recorded.
    Authorise(String),
    /// The buyer goes to the challenge: the lock is parked with the masked card.
    Park(CardSummary),
}

/// An authorisation still to ask for, once the lock is held.
struct Pending<'a> {
    gate: acquirer::Gate<'a>,
    reference: &'a str,
}

struct Took {
    obtained: bool,
    counted: Vec<&'static str>,
}

/// Takes the order for a new attempt, in one transaction with `then`; an attempt whose buyer
/// left the issuer's challenge is recorded CANCELLED 02008 and taken over.
async fn take(
    env: &Env,
    link: &Link,
    holder: &str,
    then: Then,
    vaulting: Option<Vaulting>,
    planning: Option<Planning>,
    public_url: &str,
) -> ServiceResult<Took> {
    let (clock, public_url, keys) = (env.clock.clone(), public_url.to_string(), env.vault.clone());
    let (order, shop, holder) = (link.order.clone(), link.shop.clone(), holder.to_string());
    let claimed = env
        .db
        .write(move |conn| {
            let claimed = payments::claim(conn, clock.as_ref(), &shop, &order, &holder, &public_url)?;
            if !matches!(claimed, Claimed::Busy) {
                if let Some(v) = &vaulting {
                    keep_pending(conn, &keys, shop.id, order.mode, &holder, v, clock.now_naive())?;
                }
                if let Some(p) = &planning {
                    plan_pending(conn, &keys, &order, &holder, p, clock.now_naive())?;
                }
                match then {
                    Then::Nothing => {}
                    Then::Authorise(reference) => {
                        operations::record_authorisation(conn, &order, &holder, &reference, clock.now_naive())?
                    }
                    Then::Park(card) => {
                        if !payments::await_challenge(conn, order.id, &holder, &card)? {
                            return Err(ServiceError::Conflict("payment.in_progress"));
                        }
                    }
                }
            }
            Ok::<_, ServiceError>(claimed)
        })
        .await?;
    Ok(match claimed {
        Claimed::Free => Took { obtained: true, counted: Vec::new() },
        Claimed::TookOver(left) => {
            tracing::info!(
                order.id = link.order.id.0,
                transaction.id = left.id,
                return_code = codes::CANCELLED_BY_BUYER,
                "payment cancelled: the buyer left the challenge and paid again"
            );
            Took { obtained: true, counted: vec!["cancelled"] }
        }
        Claimed::Busy => Took { obtained: false, counted: Vec::new() },
    })
}

/// Writes the card being saved to the vault, and as a pending card of the attempt `holder`.
fn keep_pending(
    conn: &mut crate::db::DbConn,
    keys: &crate::domain::vault::Keyring,
    shop: crate::domain::ids::ShopId,
    mode: Mode,
    holder: &str,
    v: &Vaulting,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let buyer = card_store::buyer(conn, shop, &v.buyer, now)?;
    let token = crate::store::vault::put(conn, keys, &v.number, now)?;
    let card = NewCard {
        token: &token,
        shop,
        mode,
        buyer,
        attempt: holder,
        brand: v.number.brand().label(),
        masked: &v.number.masked(),
        expiry: v.expiry,
        holder: v.holder.as_deref(),
    };
    card_store::insert_pending(conn, &card, now)?;
    Ok(())
}

/// Lock, then (if it was obtained) the authorisation and the result.
#[allow(clippy::too_many_arguments)]
async fn written(
    env: &Env,
    link: &Link,
    attempt: Attempt,
    then: Then,
    three_ds: ThreeDsOutcome,
    answer: Result<Authorisation, Pending<'_>>,
    reference: &str,
    public_url: &str,
) -> ServiceResult<Progress> {
    let Attempt { holder, card, vaulting, planning, amount } = attempt;
    let took = take(env, link, &holder, then, vaulting, planning, public_url).await?;
    let attempt = Attempt { holder, card, vaulting: None, planning: None, amount };
    if !took.obtained {
        return Ok(Progress { step: not_obtained(env, link).await?, counted: took.counted });
    }
    let mut progress = finish(env, link, attempt, three_ds, answer, reference, public_url).await?;
    progress.counted.splice(0..0, took.counted);
    Ok(progress)
}

/// Another attempt holds the order, or it changed meanwhile: paid shows the receipt (a double
/// click never pays twice), closed the 410 page, anything else "payment in progress".
async fn not_obtained(env: &Env, link: &Link) -> ServiceResult<Step> {
    let token = link.order.token.clone();
    let now = env.clock.now_naive();
    let current = env.db.read(move |conn| store::find_by_token(conn, &token).map_err(DbError::from)).await?;
    Ok(match current.map(|c| c.status_at(now)) {
        Some(OrderStatus::Paid) => Step::Moved,
        Some(OrderStatus::Expired | OrderStatus::Cancelled) | None => Step::Closed,
        Some(OrderStatus::Running | OrderStatus::Refused) => Step::Busy,
    })
}

/// Asks for the authorisation if one is pending (the lock is held), then writes the result
/// (transaction, history, order status, receipt e-mail) and releases the order.
#[allow(clippy::too_many_arguments)]
async fn finish(
    env: &Env,
    link: &Link,
    attempt: Attempt,
    three_ds: ThreeDsOutcome,
    answer: Result<Authorisation, Pending<'_>>,
    reference: &str,
    public_url: &str,
) -> ServiceResult<Progress> {
    let authorisation = match answer {
        Ok(decided) => decided,
        Err(pending) => {
            let op = acquirer::Operation {
                key: &operations::authorisation_key(&attempt.holder),
                reference: pending.reference,
                amount: attempt.amount,
            };
            match pending.gate.authorise(op, false).await {
                Ok(authorisation) => authorisation,
                Err(e) => return unanswered(env, link, &attempt.holder, e).await,
            }
        }
    };
    let code = authorisation.code;
    let cancelled_by_buyer = code == codes::CANCELLED_BY_BUYER;
    let (clock, public_url, reference) = (env.clock.clone(), public_url.to_string(), reference.to_string());
    let (order, shop, holder) = (link.order.clone(), link.shop.clone(), attempt.holder.clone());
    let written = env
        .db
        .write(move |conn| {
            let out = Outcome {
                holder: &attempt.holder,
                card: &attempt.card,
                three_ds,
                authorisation,
                cancelled_by_buyer,
                acquirer_ref: &reference,
                service: None,
            };
            payments::finalise(conn, clock.as_ref(), &shop, &order, &out, &public_url)
        })
        .await;
    match written {
        Ok((_, result)) => {
            let outcome = match result {
                Finalised::Accepted => "accepted",
                Finalised::Refused if cancelled_by_buyer => "cancelled",
                Finalised::Refused if code == codes::SESSION_EXPIRED => "session_expired",
                Finalised::Refused => "refused",
            };
            tracing::info!(order.id = link.order.id.0, return_code = code, "payment {outcome}");
            Ok(Progress { step: Step::Done, counted: vec![outcome] })
        }
        Err(ServiceError::Conflict(_)) => Ok(Progress::just(not_obtained(env, link).await?)),
        Err(e) => {
            // Give the order back so the buyer can try again; an authorisation made but not
            // written stays pending for the worker, which asks the acquirer about it.
            give_back(env, link, holder).await;
            Err(e)
        }
    }
}

/// The authorisation got no answer. Refused or unreachable: nothing was done, the attempt
/// ends and the order is given back. No answer in time: it may have been done, so the
/// operation stays pending for the worker and the order stays held until its lock runs out
/// (a new attempt could otherwise be authorised a second time).
async fn unanswered(env: &Env, link: &Link, holder: &str, e: AcquirerError) -> ServiceResult<Progress> {
    tracing::warn!(order.id = link.order.id.0, error = %e, "the acquirer did not authorise");
    if !e.outcome_unknown() {
        let (clock, key, reason) = (env.clock.clone(), operations::authorisation_key(holder), e.to_string());
        env.db.write(move |conn| operations::fail_authorisation(conn, &key, &reason, clock.now_naive())).await?;
        give_back(env, link, holder.to_string()).await;
    }
    Ok(Progress { step: Step::Unavailable, counted: vec!["unavailable"] })
}

async fn give_back(env: &Env, link: &Link, holder: String) {
    let id = link.order.id;
    let released = env.db.write(move |conn| payments::abandon(conn, id, &holder)).await;
    if let Err(release) = released {
        tracing::warn!(order.id = id.0, error = %release, "payment lock not released");
    }
}

/// The order's local date today, in its shop's zone (card expiry is checked against it).
pub fn today(env: &Env, link: &Link) -> NaiveDate {
    order::local_today(env.clock.now(), link.time_zone())
}
