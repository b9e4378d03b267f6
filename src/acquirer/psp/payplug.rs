//! PayPlug's REST API v1 (`Authorization: Bearer sk_test_…|sk_live_…`, and the
//! `PayPlug-Version` header on every call so that answers keep the shape read here). Amounts
//! are integers in minor units; our key rides in `metadata`. A payment has no status field:
//! `is_paid` and `failure.code` say where it stands. Notifications are not signed: only
//! their id is kept and the payment is fetched.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::mollie::{checked_id, hosted_page, last_four, plausible_id, read};
use super::{Account, Connector, CreateRequest, Created, Fetched, Http, Journal, Notified, PaidWith, PspError};
use crate::domain::money::Money;
use crate::domain::payment_service::{RequestStatus, Service};

pub struct PayPlug {
    pub account: Account,
    pub http: Arc<Http>,
}

/// The API version whose answers this connector reads.
const VERSION: [(&str, &str); 1] = [("PayPlug-Version", "2019-08-06")];

/// The id prefix of a PayPlug payment.
const PAYMENT_PREFIX: &str = "pay_";

#[async_trait]
impl Connector for PayPlug {
    fn service(&self) -> Service {
        Service::PayPlug
    }

    /// The smallest listing there is: one payment, or none, with a valid key.
    async fn check(&self, journal: &mut Journal) -> Result<(), PspError> {
        self.http.call(&self.account, journal, "check", "GET", "v1/payments?per_page=1", &VERSION, None).await?;
        Ok(())
    }

    async fn create(&self, request: &CreateRequest<'_>, journal: &mut Journal) -> Result<Created, PspError> {
        let body = create_body(request);
        let answer =
            self.http.call(&self.account, journal, "create", "POST", "v1/payments", &VERSION, Some(&body)).await?;
        read_created(answer)
    }

    async fn fetch(&self, id: &str, journal: &mut Journal) -> Result<Fetched, PspError> {
        let path = payment_path(id)?;
        let answer = self.http.call(&self.account, journal, "fetch", "GET", &path, &VERSION, None).await?;
        read_payment(answer)
    }

    /// PayPlug aborts a payment not yet paid; a paid one answers 400 (`Refused`).
    async fn cancel(&self, id: &str, journal: &mut Journal) -> Result<(), PspError> {
        let path = payment_path(id)?;
        let body = cancel_body();
        self.http.call(&self.account, journal, "cancel", "PATCH", &path, &VERSION, Some(&body)).await?;
        Ok(())
    }

    /// PayPlug refunds the payment itself: `refund_ref` is not needed. The currency is the
    /// payment's own.
    async fn refund(
        &self,
        id: &str,
        _refund_ref: Option<&str>,
        amount: Money,
        journal: &mut Journal,
    ) -> Result<(), PspError> {
        let path = format!("{}/refunds", payment_path(id)?);
        let body = refund_body(amount);
        self.http.call(&self.account, journal, "refund", "POST", &path, &VERSION, Some(&body)).await?;
        Ok(())
    }

    /// The body is the whole payment object, but unsigned: anyone could have written its
    /// status, so only the id is believed. The content type is not trusted either.
    fn notification(&self, _content_type: &str, body: &[u8]) -> Result<Notified, PspError> {
        read_notification(body)
    }
}

/// `v1/payments/{id}`, once the id is known to be a PayPlug payment id (it goes into a path).
fn payment_path(id: &str) -> Result<String, PspError> {
    if !plausible_id(id, PAYMENT_PREFIX) {
        return Err(PspError::Refused("not a PayPlug payment id".into()));
    }
    Ok(format!("v1/payments/{id}"))
}

/// The `POST v1/payments` body. The buyer goes back to the same page whether they paid or
/// gave up: that page asks the service which it was.
fn create_body(request: &CreateRequest<'_>) -> Value {
    let mut billing = json!({ "language": request.language });
    if let Some(email) = request.buyer_email {
        billing["email"] = json!(email);
    }
    json!({
        "amount": request.amount.minor,
        "currency": request.amount.currency.code(),
        "billing": billing,
        "hosted_payment": { "return_url": request.return_url, "cancel_url": request.return_url },
        "notification_url": request.notify_url,
        "metadata": { "paylink_request": request.key },
    })
}

/// The `PATCH v1/payments/{id}` body that aborts a payment.
fn cancel_body() -> Value {
    json!({ "aborted": true })
}

/// The `POST v1/payments/{id}/refunds` body.
fn refund_body(amount: Money) -> Value {
    json!({ "amount": amount.minor })
}

#[derive(Deserialize)]
struct Payment {
    id: String,
    is_paid: bool,
    #[serde(default)]
    failure: Option<Failure>,
    #[serde(default)]
    card: Option<Card>,
    #[serde(default)]
    hosted_payment: Option<HostedPayment>,
}

#[derive(Deserialize)]
struct Failure {
    code: String,
}

#[derive(Deserialize)]
struct Card {
    #[serde(default)]
    last4: Option<String>,
    #[serde(default)]
    brand: Option<String>,
}

#[derive(Deserialize)]
struct HostedPayment {
    #[serde(default)]
    payment_url: Option<String>,
}

impl Payment {
    fn status(&self) -> RequestStatus {
        RequestStatus::of_payplug(self.is_paid, self.failure.as_ref().map(|f| f.code.as_str()))
    }

    /// The status in PayPlug's words, as the merchant's screen shows it.
    fn raw_status(&self) -> String {
        match (&self.failure, self.is_paid) {
            (_, true) => "is_paid".to_string(),
            (Some(failure), false) => format!("failure: {}", failure.code),
            (None, false) => "is_paid: false".to_string(),
        }
    }
}

fn read_created(answer: Value) -> Result<Created, PspError> {
    let payment: Payment = read(answer)?;
    let status = payment.status();
    let checkout_url = hosted_page(payment.hosted_payment.and_then(|h| h.payment_url))?;
    let id = checked_id(payment.id, PAYMENT_PREFIX)?;
    Ok(Created { id, checkout_url, status })
}

fn read_payment(answer: Value) -> Result<Fetched, PspError> {
    let payment: Payment = read(answer)?;
    let status = payment.status();
    let raw_status = payment.raw_status();
    let card = payment
        .card
        .map(|c| PaidWith { brand: c.brand, last4: c.last4.as_deref().and_then(last_four) })
        .unwrap_or_default();
    let id = checked_id(payment.id, PAYMENT_PREFIX)?;
    Ok(Fetched { id, status, raw_status, card, refund_ref: None })
}

#[derive(Deserialize)]
struct Notification {
    id: String,
}

fn read_notification(body: &[u8]) -> Result<Notified, PspError> {
    // The payment object itself: a JSON object (serde would also fill the struct from an array).
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| PspError::Forged("not a JSON body"))?;
    if !value.is_object() {
        return Err(PspError::Forged("not a payment object"));
    }
    let notification: Notification =
        serde_json::from_value(value).map_err(|_| PspError::Forged("no id in the JSON body"))?;
    if !plausible_id(&notification.id, PAYMENT_PREFIX) {
        return Err(PspError::Forged("not a PayPlug payment id"));
    }
    Ok(Notified::Fetch(notification.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn request(buyer_email: Option<&'static str>) -> CreateRequest<'static> {
        CreateRequest {
            key: "pr_abc123",
            amount: Money { minor: 1000, currency: Currency::EUR },
            description: "Order 42",
            buyer_email,
            language: "fr",
            return_url: "https://pay.example/t/tok/return",
            notify_url: "https://pay.example/notify/payplug/7",
        }
    }

    #[test]
    fn the_create_body_carries_minor_units_the_buyer_and_our_key() {
        assert_eq!(
            create_body(&request(Some("buyer@example.com"))),
            json!({
                "amount": 1000,
                "currency": "EUR",
                "billing": { "email": "buyer@example.com", "language": "fr" },
                "hosted_payment": {
                    "return_url": "https://pay.example/t/tok/return",
                    "cancel_url": "https://pay.example/t/tok/return",
                },
                "notification_url": "https://pay.example/notify/payplug/7",
                "metadata": { "paylink_request": "pr_abc123" },
            })
        );
    }

    #[test]
    fn without_a_buyer_email_the_billing_has_none() {
        assert_eq!(create_body(&request(None))["billing"], json!({ "language": "fr" }));
    }

    #[test]
    fn cancel_and_refund_bodies() {
        assert_eq!(cancel_body(), json!({ "aborted": true }));
        assert_eq!(refund_body(Money { minor: 500, currency: Currency::EUR }), json!({ "amount": 500 }));
    }

    fn payment(is_paid: bool, failure: Value, card: Value) -> Value {
        json!({
            "id": "pay_5iHMDxy4ABR4YBVW4UscIn", "object": "payment", "is_live": false,
            "amount": 1000, "currency": "EUR", "is_paid": is_paid, "failure": failure, "card": card,
            "hosted_payment": { "payment_url": "https://secure.payplug.com/pay/5iHMDxy4ABR4YBVW4UscIn" },
            "metadata": { "paylink_request": "pr_abc123" }
        })
    }

    #[test]
    fn a_created_payment_gives_its_id_hosted_page_and_open_status() {
        let answer = payment(false, Value::Null, json!({ "last4": null, "brand": null }));
        assert_eq!(
            read_created(answer).unwrap(),
            Created {
                id: "pay_5iHMDxy4ABR4YBVW4UscIn".into(),
                checkout_url: "https://secure.payplug.com/pay/5iHMDxy4ABR4YBVW4UscIn".into(),
                status: RequestStatus::Open,
            }
        );
    }

    #[test]
    fn an_answer_without_hosted_page_or_is_paid_is_unreadable() {
        let mut no_page = payment(false, Value::Null, Value::Null);
        no_page["hosted_payment"] = json!({});
        assert!(matches!(read_created(no_page), Err(PspError::Unavailable(_))));
        let mut no_flag = payment(false, Value::Null, Value::Null);
        no_flag.as_object_mut().unwrap().remove("is_paid");
        assert!(matches!(read_payment(no_flag), Err(PspError::Unavailable(_))));
    }

    #[test]
    fn a_paid_payment_reads_as_paid_with_brand_and_last_four() {
        let answer = payment(true, Value::Null, json!({ "last4": "0002", "brand": "Visa", "exp_month": 12 }));
        assert_eq!(
            read_payment(answer).unwrap(),
            Fetched {
                id: "pay_5iHMDxy4ABR4YBVW4UscIn".into(),
                status: RequestStatus::Paid,
                raw_status: "is_paid".into(),
                card: PaidWith { brand: Some("Visa".into()), last4: Some("0002".into()) },
                refund_ref: None,
            }
        );
    }

    #[test]
    fn failures_map_by_their_code() {
        let cases = [
            ("aborted", RequestStatus::Cancelled),
            ("timeout", RequestStatus::Expired),
            ("card_declined", RequestStatus::Failed),
        ];
        for (code, expected) in cases {
            let answer = payment(false, json!({ "code": code, "message": "…" }), Value::Null);
            let fetched = read_payment(answer).unwrap();
            assert_eq!((fetched.status, fetched.raw_status), (expected, format!("failure: {code}")));
        }
        let open = read_payment(payment(false, Value::Null, Value::Null)).unwrap();
        assert_eq!((open.status, open.raw_status.as_str()), (RequestStatus::Open, "is_paid: false"));
    }

    #[test]
    fn a_notification_gives_the_payment_id_to_fetch() {
        let body = serde_json::to_vec(&payment(true, Value::Null, Value::Null)).unwrap();
        assert_eq!(read_notification(&body).unwrap(), Notified::Fetch("pay_5iHMDxy4ABR4YBVW4UscIn".into()));
    }

    #[test]
    fn a_notification_without_a_plausible_payment_id_is_forged() {
        let bodies: [&[u8]; 7] = [
            b"",
            b"id=pay_abc",
            b"{}",
            br#"{"id": 12}"#,
            br#"{"id": "re_abc", "object": "refund"}"#,
            br#"{"id": "pay_abc/../x"}"#,
            br#"{"id": "pay_"}"#,
        ];
        for body in bodies {
            let read = read_notification(body);
            assert!(matches!(read, Err(PspError::Forged(_))), "{}: {read:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn a_malformed_id_never_reaches_a_url() {
        assert_eq!(payment_path("pay_abc").unwrap(), "v1/payments/pay_abc");
        assert!(matches!(payment_path("tr_abc"), Err(PspError::Refused(_))));
        assert!(matches!(payment_path("pay_abc?x=1"), Err(PspError::Refused(_))));
    }
}
