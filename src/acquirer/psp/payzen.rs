//! PayZen (Lyra) REST API V4 (`Authorization: Basic base64(shopId:password)`). Every answer
//! is a 200 envelope `{"status": "SUCCESS"|"ERROR", "answer": …}`, so a refusal is read from
//! the body, not the HTTP status. A payment is a *payment order* (`CreatePaymentOrder`): a
//! link the buyer pays on; our key is its `orderId`. Payment orders cannot be cancelled, and
//! refunds name a transaction (`uuid`), not the order. The IPN is signed (`kr-hash`, an
//! HMAC-SHA256 under the shop's password), so it is believed without fetching.

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use sha2::Sha256;

use super::mollie::{hosted_page, last_four, locale, read, unknown_status};
use super::{Account, Connector, CreateRequest, Created, Fetched, Http, Journal, Notified, PaidWith, PspError};
use crate::domain::money::Money;
use crate::domain::payment_service::{RequestStatus, Service};

pub struct PayZen {
    pub account: Account,
    pub http: Arc<Http>,
}

/// What `check` sends to `SDKTest`, which echoes it back.
const ECHO: &str = "paylink";

#[async_trait]
impl Connector for PayZen {
    fn service(&self) -> Service {
        Service::PayZen
    }

    /// `SDKTest` echoes a value once the credentials are accepted; anything else echoed
    /// means something other than PayZen answered.
    async fn check(&self, journal: &mut Journal) -> Result<(), PspError> {
        let body = json!({ "value": ECHO });
        let answer =
            self.http.call(&self.account, journal, "check", "POST", "V4/Charge/SDKTest", &[], Some(&body)).await?;
        let echo: Echo = envelope(answer)?;
        if echo.value != ECHO {
            return Err(PspError::Unavailable("unreadable answer: SDKTest echoed another value".into()));
        }
        Ok(())
    }

    async fn create(&self, request: &CreateRequest<'_>, journal: &mut Journal) -> Result<Created, PspError> {
        let body = create_body(request);
        let path = "V4/Charge/CreatePaymentOrder";
        let answer = self.http.call(&self.account, journal, "create", "POST", path, &[], Some(&body)).await?;
        read_created(answer)
    }

    async fn fetch(&self, id: &str, journal: &mut Journal) -> Result<Fetched, PspError> {
        let body = json!({ "paymentOrderId": id });
        let path = "V4/Charge/PaymentOrder/Get";
        let answer = self.http.call(&self.account, journal, "fetch", "POST", path, &[], Some(&body)).await?;
        read_order(answer)
    }

    /// A payment order lives until it expires: PayZen offers no call to end it early.
    async fn cancel(&self, _id: &str, _journal: &mut Journal) -> Result<(), PspError> {
        Err(PspError::NotSupported("payzen.cancel"))
    }

    /// Refunds the transaction `refund_ref`; without one (a request paid before it was
    /// fetched), the order is fetched first to find its paid transaction.
    async fn refund(
        &self,
        id: &str,
        refund_ref: Option<&str>,
        amount: Money,
        journal: &mut Journal,
    ) -> Result<(), PspError> {
        let uuid = match refund_ref {
            Some(uuid) => uuid.to_string(),
            None => self
                .fetch(id, journal)
                .await?
                .refund_ref
                .ok_or_else(|| PspError::Refused("no transaction to refund".into()))?,
        };
        let body = refund_body(&uuid, amount);
        let path = "V4/Transaction/CancelOrRefund";
        let answer = self.http.call(&self.account, journal, "refund", "POST", path, &[], Some(&body)).await?;
        let _: Value = envelope(answer)?;
        Ok(())
    }

    /// The IPN form: `kr-answer` (a JSON string) and `kr-hash`, its hex HMAC-SHA256 under
    /// the shop's password. The hash is checked before the answer is read at all.
    fn notification(&self, _content_type: &str, body: &[u8]) -> Result<Notified, PspError> {
        read_notification(self.account.credentials.secret(), body)
    }
}

/// The `CreatePaymentOrder` body.
fn create_body(request: &CreateRequest<'_>) -> Value {
    let mut body = json!({
        "amount": request.amount.minor,
        "currency": request.amount.currency.code(),
        "orderId": request.key,
        "channelOptions": { "channelType": "URL" },
        "locale": locale(request.language),
        "description": request.description,
        "returnUrl": request.return_url,
        "ipnTargetUrl": request.notify_url,
    });
    if let Some(email) = request.buyer_email {
        body["paymentReceiptEmail"] = json!(email);
    }
    body
}

/// The `CancelOrRefund` body. PayZen refunds a paid transaction, or cancels it when not yet
/// captured: either way the buyer is not charged `amount`.
fn refund_body(uuid: &str, amount: Money) -> Value {
    json!({ "uuid": uuid, "amount": amount.minor, "currency": amount.currency.code() })
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    answer: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorAnswer {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
}

/// The `answer` of a `SUCCESS`; an `ERROR` is a refusal with PayZen's code and message.
fn envelope<T: DeserializeOwned>(answer: Value) -> Result<T, PspError> {
    let envelope: Envelope = read(answer)?;
    match envelope.status.as_str() {
        "SUCCESS" => read(envelope.answer),
        "ERROR" => {
            let error: ErrorAnswer = serde_json::from_value(envelope.answer)
                .unwrap_or(ErrorAnswer { error_code: None, error_message: None });
            let said = [error.error_code, error.error_message].into_iter().flatten().collect::<Vec<_>>().join(" ");
            Err(PspError::Refused(if said.is_empty() { "ERROR".into() } else { said.chars().take(200).collect() }))
        }
        other => Err(unknown_status(other)),
    }
}

#[derive(Deserialize)]
struct Echo {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewOrder {
    payment_order_id: String,
    #[serde(rename = "paymentURL")]
    payment_url: Option<String>,
    payment_order_status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    payment_order_id: String,
    payment_order_status: String,
    #[serde(default)]
    transaction_details: Option<Vec<OrderTransaction>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderTransaction {
    uuid: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    card_details: Option<CardDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CardDetails {
    #[serde(default)]
    pan: Option<String>,
    #[serde(default)]
    effective_brand: Option<String>,
}

impl CardDetails {
    /// The brand and the last four digits of the masked PAN, nothing more.
    fn paid_with(self) -> PaidWith {
        PaidWith { brand: self.effective_brand, last4: self.pan.as_deref().and_then(last_four) }
    }
}

/// A payment attempt, as both the order and the IPN describe it.
struct Attempt {
    uuid: String,
    status: String,
    card: PaidWith,
}

/// The attempt a request's outcome rests on: the paid one when there is one (a buyer may be
/// refused before a second card goes through), else the first.
fn settled(attempts: Vec<Attempt>) -> Option<Attempt> {
    let paid = attempts.iter().position(|a| a.status == "PAID").unwrap_or(0);
    attempts.into_iter().nth(paid)
}

fn status_of(raw: &str) -> Result<RequestStatus, PspError> {
    RequestStatus::of_payzen(raw).ok_or_else(|| unknown_status(raw))
}

fn read_created(answer: Value) -> Result<Created, PspError> {
    let order: NewOrder = envelope(answer)?;
    let status = status_of(&order.payment_order_status)?;
    let checkout_url = hosted_page(order.payment_url)?;
    Ok(Created { id: order.payment_order_id, checkout_url, status })
}

fn read_order(answer: Value) -> Result<Fetched, PspError> {
    let order: Order = envelope(answer)?;
    let status = status_of(&order.payment_order_status)?;
    let attempts = order.transaction_details.unwrap_or_default().into_iter().map(|t| Attempt {
        uuid: t.uuid,
        status: t.status,
        card: t.card_details.map(CardDetails::paid_with).unwrap_or_default(),
    });
    let attempt = settled(attempts.collect());
    Ok(Fetched {
        id: order.payment_order_id,
        status,
        raw_status: order.payment_order_status,
        card: attempt.as_ref().map(|a| a.card.clone()).unwrap_or_default(),
        refund_ref: attempt.map(|a| a.uuid),
    })
}

/// The IPN's form fields. Those that name the algorithm and the key are checked when sent:
/// a hash under another key (the browser return's `sha_key`) cannot be verified here.
#[derive(Deserialize)]
struct Ipn {
    #[serde(rename = "kr-hash")]
    hash: Option<String>,
    #[serde(rename = "kr-answer")]
    answer: Option<String>,
    #[serde(rename = "kr-hash-algorithm")]
    algorithm: Option<String>,
    #[serde(rename = "kr-hash-key")]
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IpnAnswer {
    order_status: String,
    order_details: OrderDetails,
    #[serde(default)]
    transactions: Vec<IpnTransaction>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderDetails {
    order_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IpnTransaction {
    uuid: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    payment_order_id: Option<String>,
    #[serde(default)]
    transaction_details: Option<IpnTransactionDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IpnTransactionDetails {
    #[serde(default)]
    card_details: Option<CardDetails>,
}

/// The `kr-hash` of `kr_answer` under `password`: lowercase hex HMAC-SHA256. Public so that
/// tests (and fake servers) sign an IPN the way PayZen does.
pub fn kr_hash(password: &str, kr_answer: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password.as_bytes()).expect("any key length");
    mac.update(kr_answer.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks `kr_hash` against `kr_answer` exactly as received, in constant time.
fn verify(password: &str, kr_answer: &str, kr_hash: &str) -> Result<(), PspError> {
    let claimed = hex::decode(kr_hash.trim()).map_err(|_| PspError::Forged("kr-hash is not hex"))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(password.as_bytes()).expect("any key length");
    mac.update(kr_answer.as_bytes());
    mac.verify_slice(&claimed).map_err(|_| PspError::Forged("kr-hash does not match"))
}

fn read_notification(password: &str, body: &[u8]) -> Result<Notified, PspError> {
    let ipn: Ipn = serde_urlencoded::from_bytes(body).map_err(|_| PspError::Forged("unreadable form body"))?;
    if ipn.algorithm.as_deref().is_some_and(|a| a != "sha256_hmac") {
        return Err(PspError::Forged("kr-hash-algorithm is not sha256_hmac"));
    }
    if ipn.key.as_deref().is_some_and(|k| k != "password") {
        return Err(PspError::Forged("kr-hash-key is not password"));
    }
    let hash = ipn.hash.ok_or(PspError::Forged("no kr-hash"))?;
    let answer = ipn.answer.ok_or(PspError::Forged("no kr-answer"))?;
    verify(password, &answer, &hash)?;
    let answer: IpnAnswer = serde_json::from_str(&answer).map_err(|_| PspError::Forged("unreadable kr-answer"))?;
    let status = RequestStatus::of_payzen(&answer.order_status).ok_or(PspError::Forged("unknown orderStatus"))?;
    let key = answer.order_details.order_id.clone();
    Ok(Notified::Verified { key, fetched: ipn_fetched(status, answer) })
}

/// A verified IPN as a fetch would have told it. Its id is the payment order's when the
/// first transaction names one (an order paid through its link), else empty.
fn ipn_fetched(status: RequestStatus, answer: IpnAnswer) -> Fetched {
    let id = answer.transactions.first().and_then(|t| t.payment_order_id.clone()).unwrap_or_default();
    let attempts = answer.transactions.into_iter().map(|t| Attempt {
        uuid: t.uuid,
        status: t.status,
        card: t.transaction_details.and_then(|d| d.card_details).map(CardDetails::paid_with).unwrap_or_default(),
    });
    let attempt = settled(attempts.collect());
    Fetched {
        id,
        status,
        raw_status: answer.order_status,
        card: attempt.as_ref().map(|a| a.card.clone()).unwrap_or_default(),
        refund_ref: attempt.map(|a| a.uuid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    const PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";

    fn request(buyer_email: Option<&'static str>) -> CreateRequest<'static> {
        CreateRequest {
            key: "pr_abc123",
            amount: Money { minor: 1000, currency: Currency::EUR },
            description: "Order 42",
            buyer_email,
            language: "fr",
            return_url: "https://pay.example/t/tok/return",
            notify_url: "https://pay.example/notify/payzen/7",
        }
    }

    #[test]
    fn the_create_body_asks_for_a_url_payment_order_under_our_key() {
        assert_eq!(
            create_body(&request(Some("buyer@example.com"))),
            json!({
                "amount": 1000,
                "currency": "EUR",
                "orderId": "pr_abc123",
                "channelOptions": { "channelType": "URL" },
                "paymentReceiptEmail": "buyer@example.com",
                "locale": "fr_FR",
                "description": "Order 42",
                "returnUrl": "https://pay.example/t/tok/return",
                "ipnTargetUrl": "https://pay.example/notify/payzen/7",
            })
        );
        assert!(create_body(&request(None)).get("paymentReceiptEmail").is_none());
    }

    #[test]
    fn the_refund_body_names_the_transaction() {
        assert_eq!(
            refund_body("0b2ac5e0a7c44b8ab2ba5d2c6e9d6b61", Money { minor: 500, currency: Currency::EUR }),
            json!({ "uuid": "0b2ac5e0a7c44b8ab2ba5d2c6e9d6b61", "amount": 500, "currency": "EUR" })
        );
    }

    #[test]
    fn a_created_order_gives_its_id_page_and_status() {
        let answer = json!({ "status": "SUCCESS", "answer": {
            "paymentOrderId": "8c5ab0dd2a8e4d5e9f5f0e2c1b3a4d6f",
            "paymentURL": "https://secure.payzen.eu/t/abcd1234",
            "paymentOrderStatus": "RUNNING"
        }});
        assert_eq!(
            read_created(answer).unwrap(),
            Created {
                id: "8c5ab0dd2a8e4d5e9f5f0e2c1b3a4d6f".into(),
                checkout_url: "https://secure.payzen.eu/t/abcd1234".into(),
                status: RequestStatus::Open,
            }
        );
    }

    #[test]
    fn an_error_envelope_is_a_refusal_with_code_and_message() {
        let answer =
            json!({ "status": "ERROR", "answer": { "errorCode": "INT_905", "errorMessage": "invalid amount" } });
        assert_eq!(read_created(answer), Err(PspError::Refused("INT_905 invalid amount".into())));
        let missing = json!({ "status": "SUCCESS", "answer": { "paymentOrderStatus": "RUNNING" } });
        assert!(matches!(read_created(missing), Err(PspError::Unavailable(_))));
        assert!(matches!(read_order(json!({ "answer": {} })), Err(PspError::Unavailable(_))));
    }

    #[test]
    fn a_paid_order_gives_its_paid_transaction_to_refund_and_the_card_last_four() {
        let answer = json!({ "status": "SUCCESS", "answer": {
            "paymentOrderId": "8c5ab0dd2a8e4d5e9f5f0e2c1b3a4d6f",
            "paymentOrderStatus": "PAID",
            "transactionDetails": [
                { "uuid": "11111111111111111111111111111111", "status": "UNPAID",
                  "cardDetails": { "pan": "497010XXXXXX0002", "effectiveBrand": "CB" } },
                { "uuid": "0b2ac5e0a7c44b8ab2ba5d2c6e9d6b61", "status": "PAID",
                  "cardDetails": { "pan": "497010XXXXXX0006", "effectiveBrand": "VISA" } }
            ]
        }});
        assert_eq!(
            read_order(answer).unwrap(),
            Fetched {
                id: "8c5ab0dd2a8e4d5e9f5f0e2c1b3a4d6f".into(),
                status: RequestStatus::Paid,
                raw_status: "PAID".into(),
                card: PaidWith { brand: Some("VISA".into()), last4: Some("0006".into()) },
                refund_ref: Some("0b2ac5e0a7c44b8ab2ba5d2c6e9d6b61".into()),
            }
        );
    }

    #[test]
    fn an_order_without_transactions_has_nothing_to_refund() {
        for details in [json!(null), json!([])] {
            let answer = json!({ "status": "SUCCESS", "answer": {
                "paymentOrderId": "8c5a", "paymentOrderStatus": "EXPIRED", "transactionDetails": details
            }});
            let fetched = read_order(answer).unwrap();
            assert_eq!(
                (fetched.status, fetched.refund_ref, fetched.card),
                (RequestStatus::Expired, None, PaidWith::default())
            );
        }
    }

    fn ipn_answer(order_status: &str) -> String {
        json!({
            "orderStatus": order_status,
            "orderDetails": { "orderId": "pr_abc123", "orderTotalAmount": 1000, "orderCurrency": "EUR" },
            "transactions": [{
                "uuid": "0b2ac5e0a7c44b8ab2ba5d2c6e9d6b61", "status": "PAID",
                "paymentOrderId": "8c5ab0dd2a8e4d5e9f5f0e2c1b3a4d6f",
                "transactionDetails": { "cardDetails": { "pan": "497010XXXXXX0006", "effectiveBrand": "VISA" } }
            }]
        })
        .to_string()
    }

    fn ipn_body(answer: &str, hash: &str) -> Vec<u8> {
        serde_urlencoded::to_string([
            ("kr-hash-algorithm", "sha256_hmac"),
            ("kr-hash-key", "password"),
            ("kr-answer-type", "V4/Payment"),
            ("kr-answer", answer),
            ("kr-hash", hash),
        ])
        .unwrap()
        .into_bytes()
    }

    fn connector() -> PayZen {
        let credentials = crate::domain::payment_service::Credentials::UserPassword {
            user: "69876357".into(),
            password: PASSWORD.into(),
        };
        PayZen {
            account: Account {
                service: Service::PayZen,
                mode: crate::domain::api_key::Mode::Test,
                credentials,
                base_url: "http://127.0.0.1:9/".into(),
            },
            http: Arc::new(Http::new(std::time::Duration::from_secs(1))),
        }
    }

    #[test]
    fn a_signed_ipn_verifies_and_tells_our_key_the_status_and_the_card() {
        let answer = ipn_answer("PAID");
        let body = ipn_body(&answer, &kr_hash(PASSWORD, &answer));
        let notified = connector().notification("application/x-www-form-urlencoded", &body).unwrap();
        assert_eq!(
            notified,
            Notified::Verified {
                key: "pr_abc123".into(),
                fetched: Fetched {
                    id: "8c5ab0dd2a8e4d5e9f5f0e2c1b3a4d6f".into(),
                    status: RequestStatus::Paid,
                    raw_status: "PAID".into(),
                    card: PaidWith { brand: Some("VISA".into()), last4: Some("0006".into()) },
                    refund_ref: Some("0b2ac5e0a7c44b8ab2ba5d2c6e9d6b61".into()),
                },
            }
        );
    }

    #[test]
    fn the_hash_is_hex_hmac_sha256_of_the_answer_under_the_password() {
        // Computed apart, with Python's hmac module.
        let message = r#"{"orderStatus":"PAID"}"#;
        let mac = kr_hash(PASSWORD, message);
        assert_eq!(mac, "592e845925e112f55370e2f612484bb2b0d99a251d9505c6ea1ae9ee546356cf");
        assert!(verify(PASSWORD, message, &mac).is_ok());
        assert!(verify(PASSWORD, message, &mac.to_uppercase()).is_ok());
        assert_eq!(verify("testpassword_other", message, &mac), Err(PspError::Forged("kr-hash does not match")));
    }

    #[test]
    fn ipn_statuses_map_and_an_order_without_transactions_has_no_id() {
        for (raw, expected) in [
            ("UNPAID", RequestStatus::Failed),
            ("RUNNING", RequestStatus::Open),
            ("ABANDONED", RequestStatus::Cancelled),
        ] {
            let answer = ipn_answer(raw);
            let Notified::Verified { fetched, .. } =
                read_notification(PASSWORD, &ipn_body(&answer, &kr_hash(PASSWORD, &answer))).unwrap()
            else {
                panic!("verified");
            };
            assert_eq!(fetched.status, expected);
        }
        let bare = json!({ "orderStatus": "ABANDONED", "orderDetails": { "orderId": "pr_x" } }).to_string();
        let Notified::Verified { key, fetched } =
            read_notification(PASSWORD, &ipn_body(&bare, &kr_hash(PASSWORD, &bare))).unwrap()
        else {
            panic!("verified");
        };
        assert_eq!((key.as_str(), fetched.id.as_str(), fetched.refund_ref), ("pr_x", "", None));
    }

    #[test]
    fn a_changed_answer_or_a_wrong_hash_is_forged() {
        let answer = ipn_answer("UNPAID");
        let hash = kr_hash(PASSWORD, &answer);
        let changed = answer.replace("UNPAID", "PAID");
        let read = |body: Vec<u8>| read_notification(PASSWORD, &body);
        assert_eq!(read(ipn_body(&changed, &hash)), Err(PspError::Forged("kr-hash does not match")));
        assert_eq!(
            read(ipn_body(&answer, &kr_hash("testpassword_other", &answer))),
            Err(PspError::Forged("kr-hash does not match"))
        );
        assert_eq!(read(ipn_body(&answer, &hash[..62])), Err(PspError::Forged("kr-hash does not match")));
        assert_eq!(read(ipn_body(&answer, "not hex")), Err(PspError::Forged("kr-hash is not hex")));
        let no_hash = serde_urlencoded::to_string([("kr-answer", answer.as_str())]).unwrap().into_bytes();
        assert_eq!(read(no_hash), Err(PspError::Forged("no kr-hash")));
        let no_answer = serde_urlencoded::to_string([("kr-hash", hash.as_str())]).unwrap().into_bytes();
        assert_eq!(read(no_answer), Err(PspError::Forged("no kr-answer")));
        let other_key =
            String::from_utf8(ipn_body(&answer, &hash)).unwrap().replace("kr-hash-key=password", "kr-hash-key=sha_key");
        assert!(matches!(read(other_key.into_bytes()), Err(PspError::Forged(_))));
        let not_json = "not json";
        assert_eq!(
            read(ipn_body(not_json, &kr_hash(PASSWORD, not_json))),
            Err(PspError::Forged("unreadable kr-answer"))
        );
    }

    #[tokio::test]
    async fn cancelling_is_not_supported_and_calls_nothing() {
        let mut journal = Journal::default();
        assert_eq!(connector().cancel("8c5a", &mut journal).await, Err(PspError::NotSupported("payzen.cancel")));
        assert!(journal.calls.is_empty());
    }
}
