//! PSP connectors: the buyer pays on the service's hosted page (PayZen, Mollie, PayPlug).
//! Each connector speaks its service's public REST API over HTTP with the shop's
//! credentials; it knows no database. Every call it makes is written to a [`Journal`] (the
//! request and the answer, secrets masked) that the services keep for the merchant's
//! "payment requests" screen. The services call these outside any database transaction:
//! intent (the request is recorded) → call → confirm (its id, URL and status written).

pub mod mollie;
pub mod payplug;
pub mod payzen;

use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::domain::api_key::Mode;
use crate::domain::money::Money;
use crate::domain::payment_service::{Credentials, RequestStatus, Service};

/// One shop's account at a service, for one mode.
#[derive(Debug, Clone)]
pub struct Account {
    pub service: Service,
    pub mode: Mode,
    pub credentials: Credentials,
    /// The API root, ending with `/` (the service's public one, or a sandbox's, or a test's).
    pub base_url: String,
}

/// A payment to ask for.
#[derive(Debug, Clone)]
pub struct CreateRequest<'a> {
    /// Ours, unique per request (`pr_…`): the service's order id / metadata, so that a
    /// notification names it.
    pub key: &'a str,
    pub amount: Money,
    /// What the buyer reads on the service's page (the order's reference or description).
    pub description: &'a str,
    pub buyer_email: Option<&'a str>,
    /// `fr`, `en`, …
    pub language: &'a str,
    /// Where the service sends the buyer back: `/t/{token}/return`.
    pub return_url: &'a str,
    /// Where the service notifies: `/notify/{service}/{shop_id}`.
    pub notify_url: &'a str,
}

/// The service's answer to a new payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The service's payment id (`tr_…`, `pay_…`, PayZen's `paymentOrderId`).
    pub id: String,
    /// Its hosted page, where the buyer is sent.
    pub checkout_url: String,
    pub status: RequestStatus,
}

/// The card a service paid with, as far as it tells (never more than brand + last four).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaidWith {
    pub brand: Option<String>,
    pub last4: Option<String>,
}

/// What the service says of a payment now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub id: String,
    pub status: RequestStatus,
    /// The status in the service's own words (`paid`, `PAID`, `is_paid`, `failure: aborted`).
    pub raw_status: String,
    pub card: PaidWith,
    /// The service's transaction id to refund (PayZen's transaction `uuid`; the others
    /// refund the payment id itself).
    pub refund_ref: Option<String>,
}

/// What a notification told, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notified {
    /// Only an id (Mollie, PayPlug: not signed): the payment must be fetched to know more.
    Fetch(String),
    /// A verified answer carrying the status (PayZen's IPN, `kr-hash` checked), and our key
    /// (`orderDetails.orderId`).
    Verified { key: String, fetched: Fetched },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PspError {
    /// The service answered 4xx (bad credentials, declined, not cancellable): nothing done.
    #[error("refused by the service: {0}")]
    Refused(String),
    /// 5xx or no connection: nothing done.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// No answer in time: it may have been done.
    #[error("no answer from the service within {0:?}")]
    Timeout(Duration),
    /// The service does not allow this operation (PayZen: cancelling a payment order).
    #[error("not supported by the service: {0}")]
    NotSupported(&'static str),
    /// A notification that does not verify (bad `kr-hash`, unreadable body).
    #[error("notification refused: {0}")]
    Forged(&'static str),
}

/// One HTTP call as the merchant may see it: secrets masked (the `Authorization` header is
/// never kept, only its scheme), bodies cut at 4 KB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub operation: &'static str,
    pub method: &'static str,
    pub url: String,
    pub request: String,
    /// `None`: no answer (connection refused, timeout).
    pub status: Option<u16>,
    pub response: String,
    pub duration_ms: i64,
}

/// The calls of one use case, in order.
#[derive(Debug, Default)]
pub struct Journal {
    pub calls: Vec<Call>,
}

/// At most this much of a body is kept.
pub const KEPT_BODY: usize = 4096;

fn cut(text: &str) -> String {
    if text.len() <= KEPT_BODY {
        return text.to_string();
    }
    let mut end = KEPT_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The HTTP side every connector shares: one request with the account's `Authorization`,
/// a JSON body or none, bounded by the timeout, journaled; 2xx gives the parsed JSON body,
/// 4xx `Refused`, 5xx and connection errors `Unavailable`, no answer `Timeout`.
pub struct Http {
    pub client: reqwest::Client,
    pub timeout: Duration,
}

impl Http {
    pub fn new(timeout: Duration) -> Http {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .expect("an HTTP client builds");
        Http { client, timeout }
    }

    /// `path` is joined under the account's base URL.
    #[allow(clippy::too_many_arguments)]
    pub async fn call(
        &self,
        account: &Account,
        journal: &mut Journal,
        operation: &'static str,
        method: &'static str,
        path: &str,
        extra_headers: &[(&'static str, &'static str)],
        body: Option<&serde_json::Value>,
    ) -> Result<serde_json::Value, PspError> {
        let url = format!("{}{}", account.base_url, path.trim_start_matches('/'));
        let method_value = reqwest::Method::from_bytes(method.as_bytes()).expect("a known method");
        let mut request =
            self.client.request(method_value, &url).header("Authorization", account.credentials.authorization());
        for (name, value) in extra_headers {
            request = request.header(*name, *value);
        }
        let sent = body.map(|b| b.to_string()).unwrap_or_default();
        if let Some(b) = body {
            request = request.header("Content-Type", "application/json").body(b.to_string());
        }
        let started = Instant::now();
        let answer = tokio::time::timeout(self.timeout, async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let text = response.text().await?;
            Ok::<_, reqwest::Error>((status, text))
        })
        .await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let mut record = Call {
            operation,
            method,
            url: url.clone(),
            request: cut(&mask_secrets(&sent, &account.credentials)),
            status: None,
            response: String::new(),
            duration_ms,
        };
        let result = match answer {
            Err(_) => {
                record.response = "no answer in time".into();
                Err(PspError::Timeout(self.timeout))
            }
            Ok(Err(e)) if e.is_timeout() => {
                record.response = "no answer in time".into();
                Err(PspError::Timeout(self.timeout))
            }
            Ok(Err(e)) => {
                record.response = format!("no answer: {}", without_url(&e));
                Err(PspError::Unavailable(without_url(&e)))
            }
            Ok(Ok((status, text))) => {
                record.status = Some(status);
                record.response = cut(&mask_secrets(&text, &account.credentials));
                match status {
                    200..=299 => Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)),
                    400..=499 => Err(PspError::Refused(format!("{status} {}", error_message(&text)))),
                    _ => Err(PspError::Unavailable(format!("{status}"))),
                }
            }
        };
        journal.calls.push(record);
        result
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let what = if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "unreadable answer"
    } else {
        "request failed"
    };
    what.to_string()
}

/// A service's error message, when its body has one (`message`, `detail`, `errorMessage`).
fn error_message(text: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else { return String::new() };
    for pointer in ["/message", "/detail", "/answer/errorMessage", "/title"] {
        if let Some(s) = v.pointer(pointer).and_then(|m| m.as_str()) {
            return s.chars().take(200).collect();
        }
    }
    String::new()
}

/// Replaces the credentials' secret wherever it appears (a service echoing a key).
pub fn mask_secrets(text: &str, credentials: &Credentials) -> String {
    let secret = credentials.secret();
    if secret.len() < 4 { text.to_string() } else { text.replace(secret, "********") }
}

/// A PSP's API, as the services use it.
#[async_trait]
pub trait Connector: Send + Sync {
    fn service(&self) -> Service;

    /// Calls the API with the credentials ("check connection"): Ok when they are accepted.
    async fn check(&self, journal: &mut Journal) -> Result<(), PspError>;

    /// A new payment the buyer completes on the service's page.
    async fn create(&self, request: &CreateRequest<'_>, journal: &mut Journal) -> Result<Created, PspError>;

    /// The payment `id` as the service knows it now.
    async fn fetch(&self, id: &str, journal: &mut Journal) -> Result<Fetched, PspError>;

    /// Cancels a payment not yet paid; `NotSupported` where the service does not allow it.
    async fn cancel(&self, id: &str, journal: &mut Journal) -> Result<(), PspError>;

    /// Refunds `amount` of the paid payment `id` (`refund_ref`: PayZen's transaction uuid).
    async fn refund(
        &self,
        id: &str,
        refund_ref: Option<&str>,
        amount: Money,
        journal: &mut Journal,
    ) -> Result<(), PspError>;

    /// Reads and verifies a notification's body (`content_type` as received). No call.
    fn notification(&self, content_type: &str, body: &[u8]) -> Result<Notified, PspError>;
}

/// The connector of `account`.
pub fn connector(account: Account, http: std::sync::Arc<Http>) -> Box<dyn Connector> {
    match account.service {
        Service::PayZen => Box::new(payzen::PayZen { account, http }),
        Service::Mollie => Box::new(mollie::Mollie { account, http }),
        Service::PayPlug => Box::new(payplug::PayPlug { account, http }),
        Service::Wallet => unreachable!("the wallet is not a PSP connector"),
    }
}

/// `Money` as a decimal string with exactly the currency's decimals (`"10.00"`), as Mollie
/// wants it.
pub fn decimal_value(amount: Money) -> String {
    amount.decimal('.')
}
