//! The buyer side: the hosted payment page of a link, `/t/{token}`.
//!
//! - `GET /t/{token}`: the order in its own language, and what can be done with it — the card
//!   form (TEST: with the simulator's cards), the receipt once paid, the last refusal above a
//!   fresh form when refused, a clear 410 page once expired or cancelled. PRODUCTION orders
//!   have no acquirer yet: the page says card payment is not available.
//! - `POST /t/{token}`: one payment attempt. The card is parsed at the edge, the order's
//!   payment lock is taken for a random attempt id (so a link is paid at most once, whatever
//!   the buyer's double clicks), the acquirer is called outside any database transaction and
//!   `services::payments::finalise` writes the result in one.
//! - `GET|POST /t/{token}/3ds`: the TEST issuer's challenge. What it needs travels in a token
//!   sealed (AES-GCM) under a key derived from the vault key and bound to the link (attempt
//!   id, acquirer reference, masked card and holder's name, times): unreadable in browser
//!   history or proxy logs, and never the card number. While the buyer is there the order's
//!   lock is parked (`services::payments::await_challenge`): a buyer who goes back to the
//!   pay page and pays again takes the order over at once, the challenge left being recorded
//!   CANCELLED 02008; an answer takes the lock back before calling the acquirer, or finds
//!   the challenge ended and calls nothing.
//!
//! The full card number and the CVV exist only inside one request: they are never logged,
//! stored, put in a URL or rendered back (a refused form is re-rendered without them).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::OnceLock;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::AppState;
use super::error::AppError;
use super::forms::{self, CsrfForm};
use super::i18n::{Lang, Tr};
use super::security::{constant_time_eq, random_token};
use crate::acquirer::simulator::{self, Simulator, TEST_CARDS};
use crate::acquirer::{Acquirer, Authentication, Authorisation, CardInput, ThreeDsOutcome, codes};
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::card::{Brand, CardNumber, Cvv, Expiry};
use crate::domain::order::{self, OrderStatus};
use crate::domain::secret_box;
use crate::domain::shop::ThreeDsPreference;
use crate::services::ServiceError;
use crate::services::payments::{self, CardSummary, Claimed, Finalised, Outcome, SESSION_MINUTES};
use crate::store::orders::{self as store, Order};
use crate::store::shops::Shop;
use crate::store::transactions::{self as tx_store, Transaction, TxStatus};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{token}", web::get().to(link))
        .route("/t/{token}", web::post().to(pay))
        .route("/t/{token}/3ds", web::get().to(challenge))
        .route("/t/{token}/3ds", web::post().to(answer))
        .route("/t/{token}/qr.svg", web::get().to(qr_svg))
        .route("/t/{token}/qr.png", web::get().to(qr_png));
}

// ---- Handlers ---------------------------------------------------------------------------

async fn link(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (o, shop) = find(&state, token.into_inner()).await?;
    let view = View::new(&req, &state, &o, &shop);
    match o.status_at(state.clock.now_naive()) {
        OrderStatus::Expired | OrderStatus::Cancelled => view.closed(),
        OrderStatus::Paid => {
            let t =
                last_transaction(&state, &o).await?.ok_or_else(|| AppError::internal("paid without transaction"))?;
            view.receipt(&t)
        }
        OrderStatus::Running | OrderStatus::Refused => {
            let refusal = match o.status {
                OrderStatus::Refused => last_transaction(&state, &o).await?,
                _ => None,
            };
            view.pay_page(StatusCode::OK, refusal.as_ref(), view.fresh_form())
        }
    }
}

/// The card form as posted. Every field defaults to empty, so a missing one is reported next
/// to its input rather than as a bad request.
#[derive(Deserialize)]
struct PayForm {
    #[serde(default)]
    card_number: String,
    #[serde(default)]
    expiry_month: String,
    #[serde(default)]
    expiry_year: String,
    #[serde(default)]
    cvv: String,
    #[serde(default)]
    holder: String,
    #[serde(default)]
    session: String,
}

async fn pay(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<PayForm>,
) -> Result<HttpResponse, AppError> {
    let (o, shop) = find(&state, token.into_inner()).await?;
    let view = View::new(&req, &state, &o, &shop);
    if !limiter(state.settings.pay_rate_per_ip).allow(&req, &o.token) {
        tracing::warn!(order.id = o.id.0, "pay attempts over the rate limit");
        return view.notice(StatusCode::TOO_MANY_REQUESTS, "pay.rate.title", "pay.rate.text");
    }
    let now = state.clock.now_naive();
    match o.status_at(now) {
        OrderStatus::Expired | OrderStatus::Cancelled => return view.closed(),
        OrderStatus::Paid => return Ok(see_other(&view.link)),
        OrderStatus::Running | OrderStatus::Refused => {}
    }
    let Some(acquirer) = acquirer_for(o.mode) else {
        return view.pay_page(StatusCode::FORBIDDEN, None, None);
    };
    let started = session_start(&state, &o.token, &form.session).ok_or(AppError::BadRequest("session"))?;
    let today = order::local_today(state.clock.now(), shop.settings.time_zone);
    let card = match CardEntry::parse(&form, today, o.mode) {
        Ok(card) => card,
        Err(errors) => {
            let kept = CardForm::kept(&form, form.session.clone(), errors);
            return view.pay_page(StatusCode::UNPROCESSABLE_ENTITY, None, Some(kept));
        }
    };
    let attempt = Attempt { holder: random_token(16), card: card.summary() };
    if !take_lock(&state, &o, &shop, &attempt.holder).await? {
        return not_obtained(&state, &view, &o).await;
    }
    if now - started > Duration::minutes(SESSION_MINUTES) {
        // The page was shown too long ago: the attempt ends as refused 02324, and the card
        // never reaches the acquirer.
        let refused = Authorisation { approved: false, code: codes::SESSION_EXPIRED };
        return finish(&state, &view, o, shop, attempt, ThreeDsOutcome::NotPerformed, refused, "").await;
    }
    // The simulator answers at once; a network acquirer would be called through web::block,
    // still outside any database transaction.
    let input = CardInput { number: &card.number, expiry: card.expiry, cvv: &card.cvv };
    let authentication = acquirer.authenticate(input, o.three_ds);
    drop(card);
    match authentication {
        Authentication::Frictionless { reference } => {
            let authorisation = acquirer.authorise(&reference, o.amount, false);
            finish(&state, &view, o, shop, attempt, ThreeDsOutcome::Frictionless, authorisation, &reference).await
        }
        Authentication::Refused { code, outcome } => {
            let refused = Authorisation { approved: false, code };
            finish(&state, &view, o, shop, attempt, outcome, refused, "").await
        }
        Authentication::Challenge { reference } => {
            // The lock stays with this attempt while the buyer is at the issuer, parked so
            // that the buyer may come back and pay again.
            if !park(&state, &o, &attempt).await? {
                return not_obtained(&state, &view, &o).await;
            }
            let claims = ChallengeClaims {
                holder: attempt.holder,
                reference,
                card: attempt.card,
                three_ds: o.three_ds.as_str().to_string(),
                session: started.and_utc().timestamp(),
                issued: now.and_utc().timestamp(),
            };
            let c = claims.seal(&state, &o.token);
            Ok(see_other(&format!("{}/3ds?c={c}", view.link)))
        }
    }
}

#[derive(Deserialize)]
struct ChallengeQuery {
    c: String,
}

async fn challenge(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<ChallengeQuery>,
) -> Result<HttpResponse, AppError> {
    let (o, shop) = find(&state, token.into_inner()).await?;
    let claims = ChallengeClaims::open(&state, &o.token, &query.c).ok_or(AppError::BadRequest("challenge"))?;
    let view = View::new(&req, &state, &o, &shop);
    // Answered already (the back button), taken over, or cancelled by the merchant: the link
    // says how it ended. Still held, it is shown even past the link's last second: a payment
    // begun in time may end (its answer is accepted too).
    let (id, holder) = (o.id, claims.holder.clone());
    if !state.db.read(move |conn| payments::holds(conn, id, &holder)).await? {
        return match o.status_at(state.clock.now_naive()) {
            OrderStatus::Expired | OrderStatus::Cancelled => view.closed(),
            _ => Ok(see_other(&view.link)),
        };
    }
    let page = ChallengePage {
        t: view.t,
        csrf: view.frame.csrf.clone(),
        action: format!("{}/3ds", view.link),
        c: query.into_inner().c,
        shop: view.frame.shop.clone(),
        amount: view.summary.amount.clone(),
        brand: claims.card.brand,
        masked: claims.card.masked,
    };
    html(StatusCode::OK, page.render().map_err(AppError::internal)?)
}

#[derive(Deserialize)]
struct ChallengeForm {
    #[serde(default)]
    c: String,
    #[serde(default)]
    action: String,
}

async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<ChallengeForm>,
) -> Result<HttpResponse, AppError> {
    let (o, shop) = find(&state, token.into_inner()).await?;
    let claims = ChallengeClaims::open(&state, &o.token, &form.c).ok_or(AppError::BadRequest("challenge"))?;
    let acquirer = acquirer_for(o.mode).ok_or(AppError::BadRequest("challenge"))?;
    // Checked before the lock is taken back: a bad request must not end the challenge.
    let action = match form.action.as_str() {
        "approve" => IssuerAnswer::Approve,
        "fail" => IssuerAnswer::Fail,
        "abandon" => IssuerAnswer::Abandon,
        _ => return Err(AppError::BadRequest("action")),
    };
    let view = View::new(&req, &state, &o, &shop);
    let clock = state.clock.clone();
    let (id, holder) = (o.id, claims.holder.clone());
    let resumed = state.db.write(move |conn| payments::resume(conn, clock.as_ref(), id, &holder)).await?;
    if !resumed {
        // Answered already (double click, back button) or taken over by a new attempt from
        // the pay page: nothing goes to the acquirer, the page says where the order stands.
        return match o.status_at(state.clock.now_naive()) {
            OrderStatus::Expired | OrderStatus::Cancelled => view.closed(),
            _ => Ok(see_other(&view.link)),
        };
    }
    let now = state.clock.now_naive().and_utc().timestamp();
    let expired = now - claims.issued > SESSION_MINUTES * 60;
    let refused = |code| Authorisation { approved: false, code };
    let (three_ds, authorisation, reference) = match (expired, action) {
        (true, _) => (ThreeDsOutcome::NotPerformed, refused(codes::SESSION_EXPIRED), claims.reference.as_str()),
        (false, IssuerAnswer::Approve) => (
            ThreeDsOutcome::ChallengePassed,
            acquirer.authorise(&claims.reference, o.amount, false),
            claims.reference.as_str(),
        ),
        (false, IssuerAnswer::Fail) => (ThreeDsOutcome::ChallengeFailed, refused(codes::AUTHENTICATION_FAILED), ""),
        (false, IssuerAnswer::Abandon) => (ThreeDsOutcome::NotPerformed, refused(codes::CANCELLED_BY_BUYER), ""),
    };
    let reference = reference.to_string();
    let attempt = Attempt { holder: claims.holder, card: claims.card };
    finish(&state, &view, o, shop, attempt, three_ds, authorisation, &reference).await
}

/// The buttons of the simulated issuer page.
#[derive(Clone, Copy)]
enum IssuerAnswer {
    Approve,
    Fail,
    Abandon,
}

async fn qr_svg(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (o, _) = find(&state, token.into_inner()).await?;
    let url = crate::services::orders::pay_url(&state.settings.public_url, &o.token);
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(super::qr::svg(&url)))
}

async fn qr_png(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (o, _) = find(&state, token.into_inner()).await?;
    let url = crate::services::orders::pay_url(&state.settings.public_url, &o.token);
    Ok(HttpResponse::Ok().content_type("image/png").body(super::qr::png(&url)))
}

// ---- One attempt -------------------------------------------------------------------------

/// The acquirer of an order's mode: the simulator in TEST. No acquirer is connected for
/// PRODUCTION yet, so a PRODUCTION order cannot be paid by card.
fn acquirer_for(mode: Mode) -> Option<&'static dyn Acquirer> {
    match mode {
        Mode::Test => Some(&Simulator),
        Mode::Production => None,
    }
}

/// What one attempt carries from the lock to `finalise`: its id and the masked card.
struct Attempt {
    holder: String,
    card: CardSummary,
}

/// The card as typed, parsed. Lives for one request only.
struct CardEntry {
    number: CardNumber,
    expiry: Expiry,
    cvv: Cvv,
    holder: Option<String>,
}

impl CardEntry {
    fn parse(form: &PayForm, today: NaiveDate, mode: Mode) -> Result<CardEntry, Vec<FieldError>> {
        let mut errors = Vec::new();
        let number = CardNumber::parse(&form.card_number)
            .and_then(|n| {
                // The simulator's cards are public: a real payment never accepts them.
                if mode == Mode::Production && simulator::is_test_card(n.digits()) {
                    Err(FieldError::new("card_number", "pay.card.test_only"))
                } else {
                    Ok(n)
                }
            })
            .map_err(|e| errors.push(e))
            .ok();
        let (month, year) = (form.expiry_month.trim(), form.expiry_year.trim());
        let expiry = if month.is_empty() {
            errors.push(FieldError::new("expiry_month", "field.required"));
            None
        } else if year.is_empty() {
            errors.push(FieldError::new("expiry_year", "field.required"));
            None
        } else {
            Expiry::parse(month, year, today).map_err(|e| errors.push(e)).ok()
        };
        let cvv = if form.cvv.trim().is_empty() {
            errors.push(FieldError::new("cvv", "field.required"));
            None
        } else {
            // Without a valid number, any well-formed code (3 or 4 digits) passes here.
            let brand = number.as_ref().map(CardNumber::brand);
            let parsed = match brand {
                Some(b) => Cvv::parse(&form.cvv, b),
                None => Cvv::parse(&form.cvv, Brand::Visa).or_else(|_| Cvv::parse(&form.cvv, Brand::Amex)),
            };
            parsed.map_err(|e| errors.push(e)).ok()
        };
        let holder = parse_holder(&form.holder).map_err(|e| errors.push(e)).ok().flatten();
        match (number, expiry, cvv) {
            (Some(number), Some(expiry), Some(cvv)) if errors.is_empty() => {
                Ok(CardEntry { number, expiry, cvv, holder })
            }
            _ => Err(errors),
        }
    }

    fn summary(&self) -> CardSummary {
        CardSummary {
            brand: self.number.brand().label().to_string(),
            masked: self.number.masked(),
            expiry: self.expiry.display(),
            holder: self.holder.clone(),
        }
    }
}

/// The name on the card: optional, 64 characters at most, and no digits (a card number typed
/// in the wrong field must not end up stored as a name).
fn parse_holder(raw: &str) -> Result<Option<String>, FieldError> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > 64 {
        return Err(FieldError::new("holder", "pay.holder.too_long"));
    }
    if name.chars().any(|c| c.is_ascii_digit() || c.is_control()) {
        return Err(FieldError::new("holder", "pay.holder.invalid"));
    }
    Ok(Some(name))
}

/// Takes the order for a new attempt; an attempt whose buyer left the issuer's challenge is
/// recorded CANCELLED 02008 and taken over. False: not obtained.
async fn take_lock(state: &AppState, o: &Order, shop: &Shop, holder: &str) -> Result<bool, AppError> {
    let clock = state.clock.clone();
    let public_url = state.settings.public_url.clone();
    let (order, shop, holder) = (o.clone(), shop.clone(), holder.to_string());
    let claimed =
        state.db.write(move |conn| payments::claim(conn, clock.as_ref(), &shop, &order, &holder, &public_url)).await?;
    match claimed {
        Claimed::Free => Ok(true),
        Claimed::TookOver(left) => {
            state.metrics.payment("cancelled");
            tracing::info!(
                order.id = o.id.0,
                transaction.id = left.id,
                return_code = codes::CANCELLED_BY_BUYER,
                "payment cancelled: the buyer left the challenge and paid again"
            );
            Ok(true)
        }
        Claimed::Busy => Ok(false),
    }
}

/// Parks the attempt's lock while the buyer is at the issuer. False: it no longer holds the
/// order. On an error the order is given back, as in `finish`.
async fn park(state: &AppState, o: &Order, attempt: &Attempt) -> Result<bool, AppError> {
    let (id, holder, card) = (o.id, attempt.holder.clone(), attempt.card.clone());
    let parked = state.db.write(move |conn| payments::await_challenge(conn, id, &holder, &card)).await;
    match parked {
        Ok(parked) => Ok(parked),
        Err(e) => {
            let holder = attempt.holder.clone();
            let released = state.db.write(move |conn| payments::abandon(conn, id, &holder)).await;
            if let Err(release) = released {
                tracing::warn!(order.id = o.id.0, error = %release, "payment lock not released");
            }
            Err(e.into())
        }
    }
}

/// Another attempt holds the order, or it changed meanwhile: paid shows the receipt (a double
/// click never pays twice), closed the 410 page, anything else "payment in progress".
async fn not_obtained(state: &AppState, view: &View, o: &Order) -> Result<HttpResponse, AppError> {
    let token = o.token.clone();
    let now = state.clock.now_naive();
    let current = state.db.read(move |conn| store::find_by_token(conn, &token).map_err(DbError::from)).await?;
    match current.map(|c| c.status_at(now)) {
        Some(OrderStatus::Paid) => Ok(see_other(&view.link)),
        Some(OrderStatus::Expired | OrderStatus::Cancelled) | None => view.closed(),
        Some(OrderStatus::Running | OrderStatus::Refused) => {
            view.notice(StatusCode::CONFLICT, "pay.in_progress.title", "payment.in_progress")
        }
    }
}

/// Writes the attempt's result (transaction, history, order status, receipt e-mail), counts
/// and logs it, and sends the buyer back to the link, which shows the receipt or the refusal.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &AppState,
    view: &View,
    o: Order,
    shop: Shop,
    attempt: Attempt,
    three_ds: ThreeDsOutcome,
    authorisation: Authorisation,
    reference: &str,
) -> Result<HttpResponse, AppError> {
    let clock = state.clock.clone();
    let public_url = state.settings.public_url.clone();
    let reference = reference.to_string();
    let code = authorisation.code;
    let cancelled_by_buyer = code == codes::CANCELLED_BY_BUYER;
    let order = o.clone();
    let holder = attempt.holder.clone();
    let written = state
        .db
        .write(move |conn| {
            let out = Outcome {
                holder: &attempt.holder,
                card: &attempt.card,
                three_ds,
                authorisation,
                cancelled_by_buyer,
                acquirer_ref: &reference,
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
            state.metrics.payment(outcome);
            tracing::info!(order.id = o.id.0, return_code = code, "payment {outcome}");
            Ok(see_other(&view.link))
        }
        Err(ServiceError::Conflict(_)) => not_obtained(state, view, &o).await,
        Err(e) => {
            // Give the order back so the buyer can try again; the error is logged once, as a 500.
            let id = o.id;
            let released = state.db.write(move |conn| payments::abandon(conn, id, &holder)).await;
            if let Err(release) = released {
                tracing::warn!(order.id = o.id.0, error = %release, "payment lock not released");
            }
            Err(e.into())
        }
    }
}

// ---- Signed and sealed tokens ------------------------------------------------------------

/// HMAC-SHA256 under the server's secret over `parts` (each followed by a NUL, so no two
/// lists of parts sign the same bytes), URL-safe base64.
fn sign(state: &AppState, parts: &[&str]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.settings.secret_key.expose()).expect("any key length");
    for part in parts {
        mac.update(part.as_bytes());
        mac.update(b"\0");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The pay session of a form: `<unix start>.<hmac>`, bound to the link.
fn session_token(state: &AppState, link: &str, start: NaiveDateTime) -> String {
    let start = start.and_utc().timestamp().to_string();
    let mac = sign(state, &["paylink-pay-session", link, &start]);
    format!("{start}.{mac}")
}

/// When the form was shown, if `raw` is a session token this server signed for this link.
fn session_start(state: &AppState, link: &str, raw: &str) -> Option<NaiveDateTime> {
    let (start, mac) = raw.trim().split_once('.')?;
    let expected = sign(state, &["paylink-pay-session", link, start]);
    if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
        return None;
    }
    chrono::DateTime::from_timestamp(start.parse().ok()?, 0).map(|d| d.naive_utc())
}

/// What the challenge page and its answer need, sealed: no server state, and nothing of it
/// readable in the URL.
#[derive(Serialize, Deserialize)]
struct ChallengeClaims {
    /// The attempt id holding the order's lock.
    holder: String,
    /// The acquirer's reference of the authentication (never the card number).
    reference: String,
    /// The card, masked, and the holder's name.
    card: CardSummary,
    three_ds: String,
    /// When the pay page was shown, and when the challenge began (unix seconds).
    session: i64,
    issued: i64,
}

impl ChallengeClaims {
    /// The claims encrypted and authenticated for `link` only, URL-safe.
    fn seal(&self, state: &AppState, link: &str) -> String {
        let json = serde_json::to_vec(self).expect("claims serialise");
        secret_box::seal_bound(&challenge_key(state), &challenge_context(link), &json)
    }

    /// The claims, if `raw` was sealed by this server for this link and not altered.
    fn open(state: &AppState, link: &str, raw: &str) -> Option<ChallengeClaims> {
        let json = secret_box::open_bound(&challenge_key(state), &challenge_context(link), raw.trim())?;
        let claims: ChallengeClaims = serde_json::from_slice(&json).ok()?;
        ThreeDsPreference::parse(&claims.three_ds)?;
        Some(claims)
    }
}

/// The challenge tokens' own key, derived from the vault key: nothing sealed for a URL ever
/// opens as a stored secret, nor the reverse.
fn challenge_key(state: &AppState) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.settings.vault_key.expose()).expect("any key length");
    mac.update(b"paylink-3ds-claims");
    mac.finalize().into_bytes().into()
}

/// What a challenge token is bound to: its link.
fn challenge_context(link: &str) -> Vec<u8> {
    [b"paylink-3ds\0".as_slice(), link.as_bytes()].concat()
}

// ---- Rate limits -------------------------------------------------------------------------

/// Pay attempts allowed per link per minute (per client address: a setting, default 30).
const ATTEMPTS_PER_LINK: u32 = 10;

/// Limits on card attempts (card testing), in memory per process. Created once, on first use.
/// The per-address limit is kept per listening socket, so two servers in one process (the
/// tests) never share a count; a deployed instance listens on one.
pub struct PayLimiter {
    by_link: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<(SocketAddr, IpAddr)>,
}

/// The process's limiter; the per-address allowance comes from `PAYLINK_PAY_RATE_PER_IP`
/// (the first server of the process sets it).
fn limiter(per_ip: u32) -> &'static PayLimiter {
    static LIMITER: OnceLock<PayLimiter> = OnceLock::new();
    LIMITER.get_or_init(|| PayLimiter::new(ATTEMPTS_PER_LINK, per_ip))
}

impl PayLimiter {
    pub fn new(per_link: u32, per_ip: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("non-zero"));
        PayLimiter { by_link: RateLimiter::keyed(quota(per_link)), by_ip: RateLimiter::keyed(quota(per_ip)) }
    }

    /// Counts one attempt on `link` from the request's client; false past either limit.
    fn allow(&self, req: &HttpRequest, link: &str) -> bool {
        // Forget idle keys now and then, so the maps stay small.
        if self.by_link.len() > 10_000 {
            self.by_link.retain_recent();
        }
        if self.by_ip.len() > 10_000 {
            self.by_ip.retain_recent();
        }
        // The link first: attempts on a link already over its limit do not use up the
        // address's allowance.
        if self.by_link.check_key(&link.to_string()).is_err() {
            return false;
        }
        let server = req.app_config().local_addr();
        req.peer_addr().is_none_or(|peer| self.by_ip.check_key(&(server, peer.ip())).is_ok())
    }
}

// ---- Pages -------------------------------------------------------------------------------

/// Tokens are 22 URL-safe characters; anything else is not looked up.
fn plausible(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn find(state: &AppState, token: String) -> Result<(Order, Shop), AppError> {
    if !plausible(&token) {
        return Err(AppError::NotFound);
    }
    let found =
        state.db.read_short(move |conn| store::find_by_token_with_shop(conn, &token).map_err(DbError::from)).await?;
    found.ok_or(AppError::NotFound)
}

async fn last_transaction(state: &AppState, o: &Order) -> Result<Option<Transaction>, AppError> {
    let Some(id) = o.transaction_id else { return Ok(None) };
    Ok(state.db.read_short(move |conn| tx_store::get(conn, id).map_err(DbError::from)).await?)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn html(status: StatusCode, body: String) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// What every pay page shows around its content.
#[derive(Clone)]
struct Frame {
    shop: String,
    shop_url: String,
    is_test: bool,
    csrf: String,
}

/// The order as the buyer sees it.
#[derive(Clone)]
struct Summary {
    reference: Option<String>,
    amount: String,
    valid_until: String,
    description: Option<String>,
}

/// Everything a page of one link needs, in the order's language.
struct View {
    t: Tr,
    french: bool,
    link: String,
    frame: Frame,
    summary: Summary,
    mode: Mode,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    session: String,
}

impl View {
    fn new(req: &HttpRequest, state: &AppState, o: &Order, shop: &Shop) -> View {
        let lang = Lang::parse(&o.language).unwrap_or(Lang::of(req));
        let french = lang == Lang::Fr;
        let tz = shop.settings.time_zone;
        View {
            t: Tr::new(lang),
            french,
            link: format!("/t/{}", o.token),
            frame: Frame {
                shop: shop.settings.label.clone(),
                shop_url: shop.settings.url.clone(),
                is_test: o.mode == Mode::Test,
                csrf: forms::token(req),
            },
            summary: Summary {
                reference: o.reference.clone(),
                amount: o.amount.display(french),
                valid_until: format!("{} 23:59:59 ({})", order::format_date(o.expires_on, french), tz.name()),
                description: o.description.clone(),
            },
            mode: o.mode,
            tz,
            today: order::local_today(state.clock.now(), tz),
            session: session_token(state, &o.token, state.clock.now_naive()),
        }
    }

    /// An empty form with a new pay session, or none when the order cannot be paid by card.
    fn fresh_form(&self) -> Option<CardForm> {
        acquirer_for(self.mode).map(|_| CardForm {
            session: self.session.clone(),
            expiry_month: String::new(),
            expiry_year: String::new(),
            holder: String::new(),
            errors: Vec::new(),
        })
    }

    fn pay_page(
        &self,
        status: StatusCode,
        last: Option<&Transaction>,
        form: Option<CardForm>,
    ) -> Result<HttpResponse, AppError> {
        let t = self.t;
        let refusal = last.filter(|tx| !tx.status.accepted()).map(|tx| Refusal {
            title: t.get(if tx.status == TxStatus::Cancelled { "pay.cancelled.title" } else { "pay.refused.title" }),
            message: t.get(code_key(&tx.return_code)),
            code: tx.return_code.clone(),
        });
        let test_cards = if self.mode == Mode::Test && form.is_some() {
            TEST_CARDS
                .iter()
                .map(|c| TestCardView { number: c.number, spaced: spaced(c.number), label: t.get(c.label_key) })
                .collect()
        } else {
            Vec::new()
        };
        let page = PayPage {
            t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            action: self.link.clone(),
            refusal,
            form,
            test_cards,
            fill_month: "12".to_string(),
            fill_year: format!("{:02}", (self.today.year() + 3) % 100),
        };
        html(status, page.render().map_err(AppError::internal)?)
    }

    fn receipt(&self, tx: &Transaction) -> Result<HttpResponse, AppError> {
        let t = self.t;
        let when = tx.created_at.and_utc().with_timezone(&self.tz);
        let date = format!(
            "{} ({})",
            when.format(if self.french { "%d/%m/%Y %H:%M" } else { "%Y-%m-%d %H:%M" }),
            self.tz.name()
        );
        let page = ReceiptPage {
            t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            amount: tx.amount.display(self.french),
            date,
            brand: tx.card_brand.clone(),
            masked: tx.card_masked.clone(),
            holder: tx.holder.clone(),
            three_ds: t.get(three_ds_key(&tx.three_ds)),
            code: tx.return_code.clone(),
            code_message: t.get(code_key(&tx.return_code)),
            transaction: tx.id,
        };
        html(StatusCode::OK, page.render().map_err(AppError::internal)?)
    }

    /// Expired or cancelled: no form, ever (a cancelled link reads as expired, seed 001 §12.1).
    fn closed(&self) -> Result<HttpResponse, AppError> {
        self.notice_page(StatusCode::GONE, "pay.expired.title", "pay.expired.text", false)
    }

    fn notice(&self, status: StatusCode, title: &str, text: &str) -> Result<HttpResponse, AppError> {
        self.notice_page(status, title, text, true)
    }

    fn notice_page(&self, status: StatusCode, title: &str, text: &str, retry: bool) -> Result<HttpResponse, AppError> {
        let page = NoticePage {
            t: self.t,
            frame: self.frame.clone(),
            summary: self.summary.clone(),
            title: self.t.get(title),
            text: self.t.get(text),
            retry: retry.then(|| self.link.clone()),
        };
        html(status, page.render().map_err(AppError::internal)?)
    }
}

/// The form's state: kept values (never the number nor the CVV) and the refusals.
struct CardForm {
    session: String,
    expiry_month: String,
    expiry_year: String,
    holder: String,
    errors: Vec<(&'static str, &'static str)>,
}

impl CardForm {
    /// What was typed, kept for a re-render: the expiry and the holder only — and not even
    /// those when they could hold card digits (a card number pasted in the wrong field).
    fn kept(form: &PayForm, session: String, errors: Vec<FieldError>) -> CardForm {
        let short = |s: &str| if s.trim().chars().count() <= 4 { s.trim().to_string() } else { String::new() };
        let holder_ok = errors.iter().all(|e| e.field != "holder");
        CardForm {
            session,
            expiry_month: short(&form.expiry_month),
            expiry_year: short(&form.expiry_year),
            holder: if holder_ok { form.holder.trim().to_string() } else { String::new() },
            errors: errors.into_iter().map(|e| (e.field, e.code)).collect(),
        }
    }
}

struct Refusal {
    title: &'static str,
    message: &'static str,
    code: String,
}

struct TestCardView {
    number: &'static str,
    spaced: String,
    label: &'static str,
}

/// `4970 1000 0000 0006`.
fn spaced(number: &str) -> String {
    let mut out = String::with_capacity(number.len() + number.len() / 4);
    for (i, c) in number.chars().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// The buyer's message for a return code (seed 004 families: 01xxx bank, 04xxx fraud).
fn code_key(code: &str) -> &'static str {
    match code {
        codes::ACCEPTED => "pay.rc.accepted",
        codes::WRONG_CVV => "pay.rc.wrong_cvv",
        codes::AUTHENTICATION_FAILED => "pay.rc.authentication_failed",
        codes::UNKNOWN_TEST_CARD => "pay.rc.unknown_test_card",
        codes::MIT_NOT_ALLOWED => "pay.rc.bank",
        codes::CANCELLED_BY_BUYER => "pay.rc.cancelled_by_buyer",
        codes::SESSION_EXPIRED => "pay.rc.session_expired",
        c if c.starts_with("04") => "pay.rc.fraud",
        c if c.starts_with("01") => "pay.rc.bank",
        _ => "pay.rc.other",
    }
}

fn three_ds_key(outcome: &str) -> &'static str {
    match ThreeDsOutcome::parse(outcome) {
        Some(ThreeDsOutcome::Frictionless) => "pay.3ds.frictionless",
        Some(ThreeDsOutcome::ChallengePassed) => "pay.3ds.challenge_passed",
        Some(ThreeDsOutcome::ChallengeFailed) => "pay.3ds.challenge_failed",
        Some(ThreeDsOutcome::Failed) => "pay.3ds.failed",
        Some(ThreeDsOutcome::NotPerformed) | None => "pay.3ds.not_performed",
    }
}

#[derive(Template)]
#[template(path = "pay/link.html")]
struct PayPage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    action: String,
    refusal: Option<Refusal>,
    /// None: card payment is not available for this order (PRODUCTION, no acquirer yet).
    form: Option<CardForm>,
    test_cards: Vec<TestCardView>,
    /// What a click on a test card puts in the expiry fields (a date in the future).
    fill_month: String,
    fill_year: String,
}

impl PayPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        let form = self.form.as_ref()?;
        form.errors.iter().find(|(f, _)| *f == field).map(|(_, code)| self.t.get(code))
    }

    /// The first field in error, which gets the focus.
    fn first_error(&self) -> &'static str {
        let order = ["card_number", "expiry_month", "expiry_year", "cvv", "holder"];
        let form = self.form.as_ref();
        order.into_iter().find(|f| form.is_some_and(|x| x.errors.iter().any(|(e, _)| e == f))).unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "pay/receipt.html")]
struct ReceiptPage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    amount: String,
    date: String,
    brand: String,
    masked: String,
    holder: Option<String>,
    three_ds: &'static str,
    code: String,
    code_message: &'static str,
    transaction: i64,
}

#[derive(Template)]
#[template(path = "pay/notice.html")]
struct NoticePage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    title: &'static str,
    text: &'static str,
    /// Where to go back and try again (not for a closed link).
    retry: Option<String>,
}

#[derive(Template)]
#[template(path = "pay/challenge.html")]
struct ChallengePage {
    t: Tr,
    csrf: String,
    action: String,
    c: String,
    shop: String,
    amount: String,
    brand: String,
    masked: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_card_return_code_and_3ds_outcome_has_its_text() {
        for lang in [Lang::Fr, Lang::En] {
            let t = Tr::new(lang);
            for card in &TEST_CARDS {
                assert_ne!(t.get(card.label_key), "??", "{}", card.label_key);
            }
            for code in [
                codes::ACCEPTED,
                codes::BANK_REFUSAL,
                codes::UNKNOWN_TEST_CARD,
                codes::MIT_NOT_ALLOWED,
                codes::WRONG_CVV,
                codes::AUTHENTICATION_FAILED,
                codes::CANCELLED_BY_BUYER,
                codes::SESSION_EXPIRED,
                codes::SUSPECTED_FRAUD,
                "01999",
                "04001",
                "99999",
            ] {
                assert_ne!(t.get(code_key(code)), "??", "{code}");
            }
            for outcome in ThreeDsOutcome::ALL {
                assert_ne!(t.get(three_ds_key(outcome.as_str())), "??", "{outcome}");
            }
        }
        assert_eq!(code_key("04059"), "pay.rc.fraud");
        assert_eq!(code_key("01005"), "pay.rc.bank");
    }

    #[test]
    fn holder_names_are_optional_short_and_never_digits() {
        assert_eq!(parse_holder("  ").unwrap(), None);
        assert_eq!(parse_holder(" Jane   Doe ").unwrap().as_deref(), Some("Jane Doe"));
        assert_eq!(parse_holder(&"a".repeat(65)).unwrap_err().code, "pay.holder.too_long");
        assert_eq!(parse_holder("4970 1000 0000 0006").unwrap_err().code, "pay.holder.invalid");
        assert!(parse_holder("Zoë O'Brien-Łukasz").is_ok());
    }

    #[test]
    fn test_cards_are_spaced_by_four() {
        assert_eq!(spaced("4970100000000006"), "4970 1000 0000 0006");
    }

    #[test]
    fn limits_count_per_link() {
        let limiter = PayLimiter::new(2, 100);
        let req =
            actix_web::test::TestRequest::default().peer_addr("192.0.2.1:4000".parse().unwrap()).to_http_request();
        assert!(limiter.allow(&req, "link-a"));
        assert!(limiter.allow(&req, "link-a"));
        assert!(!limiter.allow(&req, "link-a"), "third attempt on one link in a minute");
        assert!(limiter.allow(&req, "link-b"));
    }
}
