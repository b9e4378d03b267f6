//! Paying a link with the app wallet (seed 004: Payconiq through Monext, now Bancontact).
//!
//! The buyer leaves the pay page for `/t/{token}/app`, gives the first and last name the
//! wallet's payment request carries (`buyer.firstname`, `buyer.lastname`, both mandatory),
//! and a payment request is recorded (`service_requests`, a 15-minute session). In TEST,
//! paylink is the homologation environment's simulator: its page offers MAKE A PAYMENT
//! (ACCEPTED `00000`) and ABORT (CANCELLED `02008`); a session answered after its 15
//! minutes ends REFUSED `02324`. The outcome is written once through `service_pay::end`
//! (the request ended and the transaction written with the order's payment lock, in one
//! database transaction), so a second answer, a double click or the back button change
//! nothing.
//!
//! PRODUCTION would call Monext's WebPayment API (`doWebPayment`, `getWebPaymentDetails`);
//! no contract is wired here yet, so a PRODUCTION wallet refuses plainly rather than
//! pretending.

use chrono::NaiveDateTime;

use super::checkout::{Link, Step, standing};
use super::service_pay::{self, Ending};
use super::{Env, ServiceError, ServiceResult};
use crate::acquirer::psp::{Fetched, PaidWith};
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::money::Money;
use crate::domain::payment_service::{RequestStatus, Service, wallet};
use crate::domain::text::{has_control, random_token};
use crate::store::payment_services::{self as store, RequestRow};

/// The longest first or last name the request carries.
pub const NAME_MAX: usize = 64;

/// What the names page needs: the wallet's name as the shop shows it, and whether it can
/// take a payment in the order's mode.
#[derive(Debug, Clone)]
pub struct Asked {
    pub name: String,
    /// False in PRODUCTION: no Monext contract is wired.
    pub available: bool,
}

/// A wallet session the simulator shows.
#[derive(Debug, Clone)]
pub struct Session {
    /// The request's public id (`pr_…`), which the simulator's form carries.
    pub request: String,
    /// The wallet's name (the shop's display name, or Bancontact).
    pub name: String,
    pub amount: Money,
    /// "First Last".
    pub buyer: String,
    /// The end of the 15-minute session (UTC).
    pub expires_at: NaiveDateTime,
}

/// Where `begin` leads.
#[derive(Debug)]
pub enum Started {
    /// TEST: the simulator's page for this session.
    Simulator(Session),
    /// The link cannot be paid now (closed, paid meanwhile).
    Step(Step),
}

/// The simulator's two buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// MAKE A PAYMENT: ACCEPTED `00000`.
    Pay,
    /// ABORT: CANCELLED `02008`.
    Abort,
}

impl Outcome {
    /// The `outcome` field: `pay` or `abort`.
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "pay" => Some(Outcome::Pay),
            "abort" => Some(Outcome::Abort),
            _ => None,
        }
    }
}

/// The wallet the pay page offers for this link, with its name: none when the shop has no
/// wallet in the order's mode, or the order names another service.
async fn offered(env: &Env, link: &Link) -> ServiceResult<String> {
    let offers = service_pay::offers(env, link).await?;
    offers.into_iter().find(|o| o.service == Service::Wallet).map(|o| o.name).ok_or(ServiceError::NotFound)
}

/// The names page: the link must still be payable (else the step that says where it
/// stands) and offer the wallet (else not found).
pub async fn ask(env: &Env, link: &Link) -> ServiceResult<Result<Asked, Step>> {
    if let Some(step) = standing(env, link) {
        return Ok(Err(step));
    }
    let name = offered(env, link).await?;
    Ok(Ok(Asked { name, available: link.order.mode == Mode::Test }))
}

/// A first or last name as the request carries it: trimmed, present, at most
/// [`NAME_MAX`] characters, no control character.
fn name(field: &'static str, typed: &str) -> Result<String, FieldError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(FieldError::new(field, "field.required"));
    }
    if typed.chars().count() > NAME_MAX {
        return Err(FieldError::new(field, "app.name.too_long"));
    }
    if has_control(typed) || typed.contains(['\n', '\r', '\t']) {
        return Err(FieldError::new(field, "app.name.invalid"));
    }
    Ok(typed.to_string())
}

/// The payment amount of the request (`payment.amount`): the order's when nothing is typed.
/// Monext refuses a payment above its order (`order.amount >= payment.amount`, else `02308`
/// "Invalid value for"), and paylink takes a link's amount in one payment, so anything but
/// the order's amount is refused next to the field.
fn amount(order: Money, typed: &str) -> Result<Money, FieldError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(order);
    }
    let invalid = || FieldError::new("amount", "app.amount.invalid");
    let asked = Money::parse(typed, order.currency).map_err(|_| invalid())?;
    if asked.minor <= 0 || asked.minor > order.minor {
        return Err(invalid());
    }
    if asked.minor < order.minor {
        return Err(FieldError::new("amount", "app.amount.partial"));
    }
    Ok(asked)
}

/// The buyer asked to pay with the wallet: the names and the amount are checked (every
/// refusal next to its field, nothing written), then the request is recorded and, in TEST,
/// the simulator's session opened.
pub async fn begin(
    env: &Env,
    link: &Link,
    first_name: &str,
    last_name: &str,
    amount_typed: &str,
) -> ServiceResult<Result<Started, Vec<FieldError>>> {
    if let Some(step) = standing(env, link) {
        return Ok(Ok(Started::Step(step)));
    }
    let wallet_name = offered(env, link).await?;
    let (first, last, amount) =
        (name("first_name", first_name), name("last_name", last_name), amount(link.order.amount, amount_typed));
    let errors: Vec<FieldError> =
        [first.as_ref().err(), last.as_ref().err(), amount.as_ref().err()].into_iter().flatten().cloned().collect();
    let (Ok(first), Ok(last), Ok(amount)) = (first, last, amount) else { return Ok(Err(errors)) };
    if link.order.mode != Mode::Test {
        return Err(ServiceError::Conflict("app.production_unavailable"));
    }
    let public_id = format!("pr_{}", random_token(20));
    let names = Some((first.clone(), last.clone()));
    let id = service_pay::record_intent(env, link, Service::Wallet, &public_id, names).await?;
    let (clock, token, key) = (env.clock.clone(), link.order.token.clone(), public_id.clone());
    let row = env
        .db
        .write(move |conn| {
            let now = clock.now_naive();
            // The simulator is the service: the session is open at once, its page is ours.
            let page = format!("/t/{token}/app/simulator?request={key}");
            store::opened(conn, id, &key, &page, RequestStatus::Open, now)?;
            Ok::<_, ServiceError>(store::request_by_public(conn, &key)?)
        })
        .await?
        .ok_or(ServiceError::NotFound)?;
    tracing::info!(order.id = link.order.id.0, request = id, "app wallet session opened (TEST simulator)");
    Ok(Ok(Started::Simulator(Session {
        request: public_id,
        name: wallet_name,
        amount,
        buyer: format!("{first} {last}"),
        expires_at: row.expires_at,
    })))
}

/// The link's wallet request `public_id`, in TEST (the simulator answers nothing else).
async fn request_of(env: &Env, link: &Link, public_id: &str) -> ServiceResult<RequestRow> {
    let key = public_id.to_string();
    let found = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::request_by_public(conn, &key)?)).await?;
    found.filter(|r| belongs(r, link)).ok_or(ServiceError::NotFound)
}

/// A request of this link's order, of the wallet, in TEST.
fn belongs(r: &RequestRow, link: &Link) -> bool {
    r.order_id == link.order.id.0
        && r.shop_id == link.shop.id.0
        && r.service() == Some(Service::Wallet)
        && r.mode() == Some(Mode::Test)
        && link.order.mode == Mode::Test
}

/// The simulator's page of a session still open; once it has ended (answered, the back
/// button), the link shows how.
pub async fn session(env: &Env, link: &Link, public_id: &str) -> ServiceResult<Result<Session, Step>> {
    let r = request_of(env, link, public_id).await?;
    if r.status().is_final() {
        return Ok(Err(Step::Moved));
    }
    if let Some(step) = standing(env, link) {
        return Ok(Err(step));
    }
    let name = offered(env, link).await.unwrap_or_else(|_| Service::Wallet.label().to_string());
    let amount = Money::from_minor(r.amount, link.order.amount.currency).unwrap_or(link.order.amount);
    let buyer = [r.first_name.as_deref(), r.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    Ok(Ok(Session { request: r.public_id, name, amount, buyer, expires_at: r.expires_at }))
}

/// The simulator's answer: MAKE A PAYMENT or ABORT, or — the session past its 15 minutes —
/// REFUSED `02324` whatever was pressed. Written once; a second answer finds the request
/// ended and changes nothing.
pub async fn simulate(env: &Env, link: &Link, public_id: &str, outcome: Outcome) -> ServiceResult<Step> {
    let r = request_of(env, link, public_id).await?;
    if r.status().is_final() {
        return Ok(Step::Done);
    }
    if let Some(step) = standing(env, link) {
        return Ok(step);
    }
    let brand = offered(env, link).await.unwrap_or_else(|_| Service::Wallet.label().to_string());
    let (clock, public_url, key) = (env.clock.clone(), env.public_url.to_string(), r.public_id.clone());
    let written = env
        .db
        .write(move |conn| {
            // Read again inside the transaction: another answer may have ended it meanwhile.
            let Some(r) = store::request_by_public(conn, &key)? else { return Err(ServiceError::NotFound) };
            if !matches!(r.status(), RequestStatus::Created | RequestStatus::Open) {
                return Ok(None);
            }
            let now = clock.now_naive();
            let (status, code) = if now > r.expires_at {
                (RequestStatus::Expired, wallet::SESSION_EXPIRED)
            } else {
                match outcome {
                    Outcome::Pay => (RequestStatus::Paid, wallet::ACCEPTED),
                    Outcome::Abort => (RequestStatus::Cancelled, wallet::CANCELLED),
                }
            };
            let (short, _) = wallet::messages(code);
            let raw = format!("{short} {code}");
            let payment_id = r.service_payment_id.clone().unwrap_or_else(|| r.public_id.clone());
            let fetched = Fetched {
                id: payment_id.clone(),
                status,
                raw_status: raw.clone(),
                card: PaidWith { brand: Some(brand), last4: None },
                refund_ref: None,
            };
            let ending = Ending { status, code, raw: &raw };
            service_pay::end(conn, clock.as_ref(), &r, Service::Wallet, &payment_id, &fetched, ending, &public_url)?;
            Ok(Some(code))
        })
        .await;
    match written {
        Ok(code) => {
            if let Some(code) = code {
                tracing::info!(
                    order.id = link.order.id.0,
                    request = r.id,
                    return_code = code,
                    "app wallet simulator answered"
                );
            }
            Ok(Step::Done)
        }
        // A card attempt holds the order right now: nothing was written, the buyer may
        // answer again in a moment.
        Err(ServiceError::Conflict("payment.in_progress")) => Ok(Step::Busy),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR).unwrap()
    }

    #[test]
    fn names_are_trimmed_required_and_bounded() {
        assert_eq!(name("first_name", "  Jane ").unwrap(), "Jane");
        assert_eq!(name("first_name", "   ").unwrap_err(), FieldError::new("first_name", "field.required"));
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(name("last_name", &long).unwrap_err().code, "app.name.too_long");
        assert!(name("last_name", &"é".repeat(NAME_MAX)).is_ok(), "characters, not bytes");
        assert_eq!(name("last_name", "Do\u{7}e").unwrap_err().code, "app.name.invalid");
        assert_eq!(name("last_name", "Do\ne").unwrap_err().code, "app.name.invalid");
    }

    #[test]
    fn the_payment_amount_is_the_order_amount_and_never_more() {
        assert_eq!(amount(eur(4250), "").unwrap(), eur(4250));
        assert_eq!(amount(eur(4250), "42,50").unwrap(), eur(4250));
        assert_eq!(amount(eur(4250), "42.5").unwrap(), eur(4250));
        assert_eq!(amount(eur(4250), "42,51").unwrap_err().code, "app.amount.invalid");
        assert_eq!(amount(eur(4250), "0").unwrap_err().code, "app.amount.invalid");
        assert_eq!(amount(eur(4250), "abc").unwrap_err().code, "app.amount.invalid");
        assert_eq!(amount(eur(4250), "10").unwrap_err().code, "app.amount.partial");
    }

    #[test]
    fn the_simulator_answers_pay_or_abort() {
        assert_eq!(Outcome::parse("pay"), Some(Outcome::Pay));
        assert_eq!(Outcome::parse("abort"), Some(Outcome::Abort));
        assert_eq!(Outcome::parse("PAY"), None);
    }
}
