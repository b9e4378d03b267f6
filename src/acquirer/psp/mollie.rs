//! Mollie's Payments API v2 (`Authorization: Bearer test_…|live_…`). Amounts travel as
//! strings with exactly the currency's decimals; our key rides in `metadata` so that the
//! payment names its request. Webhooks are not signed: they carry only the payment's id, and
//! the payment is fetched to learn what happened.
//!
//! The small readers at the bottom (`locale`, `plausible_id`, `last_four`, `read`,
//! `hosted_page`) are shared with the other connectors.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{Account, Connector, CreateRequest, Created, Fetched, Http, Journal, Notified, PaidWith, PspError};
use crate::domain::money::Money;
use crate::domain::payment_service::{RequestStatus, Service};

pub struct Mollie {
    pub account: Account,
    pub http: Arc<Http>,
}

/// The id prefix of a Mollie payment.
const PAYMENT_PREFIX: &str = "tr_";

#[async_trait]
impl Connector for Mollie {
    fn service(&self) -> Service {
        Service::Mollie
    }

    /// Listing the enabled methods is the cheapest call that needs a valid key.
    async fn check(&self, journal: &mut Journal) -> Result<(), PspError> {
        self.http.call(&self.account, journal, "check", "GET", "v2/methods", &[], None).await?;
        Ok(())
    }

    async fn create(&self, request: &CreateRequest<'_>, journal: &mut Journal) -> Result<Created, PspError> {
        let body = create_body(request);
        let answer = self.http.call(&self.account, journal, "create", "POST", "v2/payments", &[], Some(&body)).await?;
        read_created(answer)
    }

    async fn fetch(&self, id: &str, journal: &mut Journal) -> Result<Fetched, PspError> {
        let path = payment_path(id)?;
        let answer = self.http.call(&self.account, journal, "fetch", "GET", &path, &[], None).await?;
        read_payment(answer)
    }

    /// Mollie answers 422 (`Refused`) when the payment can no longer be cancelled.
    async fn cancel(&self, id: &str, journal: &mut Journal) -> Result<(), PspError> {
        let path = payment_path(id)?;
        self.http.call(&self.account, journal, "cancel", "DELETE", &path, &[], None).await?;
        Ok(())
    }

    /// Mollie refunds the payment itself: `refund_ref` is not needed.
    async fn refund(
        &self,
        id: &str,
        _refund_ref: Option<&str>,
        amount: Money,
        journal: &mut Journal,
    ) -> Result<(), PspError> {
        let path = format!("{}/refunds", payment_path(id)?);
        let body = refund_body(amount);
        self.http.call(&self.account, journal, "refund", "POST", &path, &[], Some(&body)).await?;
        Ok(())
    }

    /// The webhook's form body is `id=tr_…` and nothing vouches for it, so only the id is
    /// kept (the payment is then fetched with our key). The content type is not trusted
    /// either: the body alone decides.
    fn notification(&self, _content_type: &str, body: &[u8]) -> Result<Notified, PspError> {
        read_notification(body)
    }
}

/// `v2/payments/{id}`, once the id is known to be a Mollie payment id: it goes into a path,
/// so nothing else may reach the URL.
fn payment_path(id: &str) -> Result<String, PspError> {
    if !plausible_id(id, PAYMENT_PREFIX) {
        return Err(PspError::Refused("not a Mollie payment id".into()));
    }
    Ok(format!("v2/payments/{id}"))
}

fn amount_json(amount: Money) -> Value {
    json!({ "currency": amount.currency.code(), "value": super::decimal_value(amount) })
}

/// The `POST v2/payments` body.
fn create_body(request: &CreateRequest<'_>) -> Value {
    json!({
        "amount": amount_json(request.amount),
        "description": request.description,
        "redirectUrl": request.return_url,
        "webhookUrl": request.notify_url,
        "locale": locale(request.language),
        "metadata": { "paylink_request": request.key },
    })
}

/// The `POST v2/payments/{id}/refunds` body.
fn refund_body(amount: Money) -> Value {
    json!({ "amount": amount_json(amount) })
}

#[derive(Deserialize)]
struct Payment {
    id: String,
    status: String,
    #[serde(default)]
    details: Option<Details>,
    #[serde(default, rename = "_links")]
    links: Option<Links>,
}

/// A card payment's details; other methods carry other fields, all ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    #[serde(default)]
    card_number: Option<String>,
    #[serde(default)]
    card_label: Option<String>,
}

#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    checkout: Option<Link>,
}

#[derive(Deserialize)]
struct Link {
    href: String,
}

fn status_of(raw: &str) -> Result<RequestStatus, PspError> {
    RequestStatus::of_mollie(raw).ok_or_else(|| unknown_status(raw))
}

/// A new payment must come with its hosted page: without one the buyer has nowhere to go.
fn read_created(answer: Value) -> Result<Created, PspError> {
    let payment: Payment = read(answer)?;
    let id = checked_id(payment.id, PAYMENT_PREFIX)?;
    let status = status_of(&payment.status)?;
    let href = payment.links.and_then(|l| l.checkout).map(|c| c.href);
    let checkout_url = hosted_page(href)?;
    Ok(Created { id, checkout_url, status })
}

fn read_payment(answer: Value) -> Result<Fetched, PspError> {
    let payment: Payment = read(answer)?;
    let id = checked_id(payment.id, PAYMENT_PREFIX)?;
    let status = status_of(&payment.status)?;
    let card = payment
        .details
        .map(|d| PaidWith { brand: d.card_label, last4: d.card_number.as_deref().and_then(last_four) })
        .unwrap_or_default();
    Ok(Fetched { id, status, raw_status: payment.status, card, refund_ref: None })
}

#[derive(Deserialize)]
struct Webhook {
    id: String,
}

fn read_notification(body: &[u8]) -> Result<Notified, PspError> {
    let webhook: Webhook =
        serde_urlencoded::from_bytes(body).map_err(|_| PspError::Forged("no id in the form body"))?;
    if !plausible_id(&webhook.id, PAYMENT_PREFIX) {
        return Err(PspError::Forged("not a Mollie payment id"));
    }
    Ok(Notified::Fetch(webhook.id))
}

/// The locale Mollie and PayZen show their page in; a language they are not given falls
/// back to English.
pub(super) fn locale(language: &str) -> &'static str {
    match language.to_ascii_lowercase().as_str() {
        "fr" => "fr_FR",
        "de" => "de_DE",
        "es" => "es_ES",
        "it" => "it_IT",
        _ => "en_US",
    }
}

/// An id of the shape the service hands out (`tr_…`, `pay_…`): the prefix, then ASCII
/// letters and digits, 64 characters at most. Ids go into URL paths and come from unsigned
/// notifications, so nothing else is accepted.
pub(super) fn plausible_id(id: &str, prefix: &str) -> bool {
    id.len() <= 64
        && id
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An id from an answer, refused when it could not be used again.
pub(super) fn checked_id(id: String, prefix: &str) -> Result<String, PspError> {
    if plausible_id(&id, prefix) {
        Ok(id)
    } else {
        Err(PspError::Unavailable("unreadable answer: unexpected id".into()))
    }
}

/// The last four digits of a card number, masked or not: nothing more of it is ever kept.
pub(super) fn last_four(number: &str) -> Option<String> {
    let chars: Vec<char> = number.trim().chars().collect();
    let tail = chars.get(chars.len().checked_sub(4)?..)?;
    tail.iter().all(|c| c.is_ascii_digit()).then(|| tail.iter().collect())
}

/// A 2xx answer read as `T`; one missing a required field was not understood.
pub(super) fn read<T: DeserializeOwned>(answer: Value) -> Result<T, PspError> {
    serde_json::from_value(answer).map_err(|e| PspError::Unavailable(format!("unreadable answer: {e}")))
}

/// A status this connector does not know: better unavailable than guessed.
pub(super) fn unknown_status(raw: &str) -> PspError {
    let shown: String = raw.chars().take(40).collect();
    PspError::Unavailable(format!("unreadable answer: unknown status {shown:?}"))
}

/// The hosted page the buyer is sent to: an absolute http(s) URL, nothing else (it ends up
/// in a redirect).
pub(super) fn hosted_page(href: Option<String>) -> Result<String, PspError> {
    let unreadable = || PspError::Unavailable("unreadable answer: no hosted page URL".into());
    let href = href.ok_or_else(unreadable)?;
    match url::Url::parse(&href) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(href),
        _ => Err(unreadable()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn request(language: &'static str, amount: Money) -> CreateRequest<'static> {
        CreateRequest {
            key: "pr_abc123",
            amount,
            description: "Order 42",
            buyer_email: Some("buyer@example.com"),
            language,
            return_url: "https://pay.example/t/tok/return",
            notify_url: "https://pay.example/notify/mollie/7",
        }
    }

    #[test]
    fn the_create_body_carries_an_exact_decimal_amount_the_locale_and_our_key() {
        let body = create_body(&request("fr", Money { minor: 1000, currency: Currency::EUR }));
        assert_eq!(
            body,
            json!({
                "amount": { "currency": "EUR", "value": "10.00" },
                "description": "Order 42",
                "redirectUrl": "https://pay.example/t/tok/return",
                "webhookUrl": "https://pay.example/notify/mollie/7",
                "locale": "fr_FR",
                "metadata": { "paylink_request": "pr_abc123" },
            })
        );
        let yen = Money { minor: 1500, currency: Currency::parse("JPY").unwrap() };
        assert_eq!(create_body(&request("nl", yen))["amount"], json!({ "currency": "JPY", "value": "1500" }));
        assert_eq!(create_body(&request("nl", yen))["locale"], "en_US");
    }

    #[test]
    fn the_refund_body_is_the_amount_alone() {
        assert_eq!(
            refund_body(Money { minor: 505, currency: Currency::EUR }),
            json!({ "amount": { "currency": "EUR", "value": "5.05" } })
        );
    }

    #[test]
    fn languages_map_to_locales_and_others_fall_back_to_english() {
        let pairs = [("fr", "fr_FR"), ("en", "en_US"), ("de", "de_DE"), ("es", "es_ES"), ("it", "it_IT")];
        for (language, expected) in pairs {
            assert_eq!(locale(language), expected);
        }
        assert_eq!(locale("FR"), "fr_FR");
        assert_eq!(locale("pt"), "en_US");
        assert_eq!(locale(""), "en_US");
    }

    #[test]
    fn a_created_payment_gives_its_id_checkout_page_and_status() {
        let answer = json!({
            "resource": "payment", "id": "tr_WDqYK6vllg", "status": "open",
            "amount": { "currency": "EUR", "value": "10.00" }, "metadata": { "paylink_request": "pr_abc123" },
            "_links": { "checkout": { "href": "https://www.mollie.com/checkout/select-method/WDqYK6vllg" } }
        });
        assert_eq!(
            read_created(answer).unwrap(),
            Created {
                id: "tr_WDqYK6vllg".into(),
                checkout_url: "https://www.mollie.com/checkout/select-method/WDqYK6vllg".into(),
                status: RequestStatus::Open,
            }
        );
    }

    #[test]
    fn a_created_payment_without_checkout_page_or_id_is_unreadable() {
        let no_link = json!({ "id": "tr_WDqYK6vllg", "status": "open", "_links": {} });
        assert!(matches!(read_created(no_link), Err(PspError::Unavailable(_))));
        let no_id = json!({ "status": "open", "_links": { "checkout": { "href": "https://m.example/c" } } });
        assert!(matches!(read_created(no_id), Err(PspError::Unavailable(_))));
        let script =
            json!({ "id": "tr_x1", "status": "open", "_links": { "checkout": { "href": "javascript:alert(1)" } } });
        assert!(matches!(read_created(script), Err(PspError::Unavailable(_))));
        assert!(matches!(read_created(Value::Null), Err(PspError::Unavailable(_))));
    }

    #[test]
    fn a_paid_card_payment_reads_as_paid_with_brand_and_last_four() {
        let answer = json!({
            "resource": "payment", "id": "tr_WDqYK6vllg", "status": "paid",
            "details": { "cardNumber": "6787", "cardLabel": "Visa", "cardHolder": "T. Buyer" }
        });
        assert_eq!(
            read_payment(answer).unwrap(),
            Fetched {
                id: "tr_WDqYK6vllg".into(),
                status: RequestStatus::Paid,
                raw_status: "paid".into(),
                card: PaidWith { brand: Some("Visa".into()), last4: Some("6787".into()) },
                refund_ref: None,
            }
        );
    }

    #[test]
    fn each_mollie_status_maps_and_an_unknown_one_is_unreadable() {
        let cases = [
            ("open", RequestStatus::Open),
            ("pending", RequestStatus::Pending),
            ("authorized", RequestStatus::Pending),
            ("canceled", RequestStatus::Cancelled),
            ("expired", RequestStatus::Expired),
            ("failed", RequestStatus::Failed),
        ];
        for (raw, expected) in cases {
            let fetched = read_payment(json!({ "id": "tr_a1", "status": raw, "details": null })).unwrap();
            assert_eq!((fetched.status, fetched.card), (expected, PaidWith::default()));
        }
        assert!(matches!(read_payment(json!({ "id": "tr_a1", "status": "bogus" })), Err(PspError::Unavailable(_))));
    }

    #[test]
    fn a_webhook_gives_the_payment_id_to_fetch() {
        assert_eq!(read_notification(b"id=tr_WDqYK6vllg").unwrap(), Notified::Fetch("tr_WDqYK6vllg".into()));
    }

    #[test]
    fn a_webhook_without_a_plausible_id_is_forged() {
        let bodies: [&[u8]; 7] =
            [b"", b"other=1", b"id=", b"id=re_WDqYK6vllg", b"id=tr_", b"id=tr_..%2Fv2%2Fmethods", b"id=tr_a&id=tr_b"];
        for body in bodies {
            let read = read_notification(body);
            assert!(matches!(read, Err(PspError::Forged(_))), "{}: {read:?}", String::from_utf8_lossy(body));
        }
        let long = format!("id=tr_{}", "a".repeat(62));
        assert!(matches!(read_notification(long.as_bytes()), Err(PspError::Forged(_))));
        let longest = format!("id=tr_{}", "a".repeat(61));
        assert!(read_notification(longest.as_bytes()).is_ok());
    }

    #[test]
    fn ids_card_numbers_and_pages_are_read_strictly() {
        assert!(plausible_id("pay_5iHMDxy4ABR4YBVW4UscIn", "pay_"));
        assert!(!plausible_id("pay_5iHM-xy4", "pay_"));
        assert!(!plausible_id("tr_é", "tr_"));
        assert_eq!(last_four("497010XXXXXX0006").as_deref(), Some("0006"));
        assert_eq!(last_four("6787").as_deref(), Some("6787"));
        assert_eq!(last_four("123"), None);
        assert_eq!(last_four("XXXX"), None);
        assert_eq!(hosted_page(Some("http://127.0.0.1:9000/pay/1".into())).unwrap(), "http://127.0.0.1:9000/pay/1");
        assert!(hosted_page(None).is_err());
    }

    #[test]
    fn a_malformed_id_never_reaches_a_url() {
        assert_eq!(payment_path("tr_abc").unwrap(), "v2/payments/tr_abc");
        assert!(matches!(payment_path("tr_abc/../../x"), Err(PspError::Refused(_))));
        assert!(matches!(payment_path("tr_abc?x=1"), Err(PspError::Refused(_))));
    }
}
