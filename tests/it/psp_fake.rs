//! Fake payment services for the tests: a tiny HTTP server on a loopback port that speaks the
//! public API of Mollie, PayPlug or PayZen (REST V4) as /work/notes/psp_wire.md describes it,
//! with its hosted checkout page (plain HTML forms) and its notifications (Mollie's `id=tr_…`,
//! PayPlug's payment object, PayZen's IPN signed with `kr-hash`).
//!
//! Each fake runs on its own thread with its own actix system, so it works under
//! `#[actix_web::test]` and `#[tokio::test]` alike, and it stops when the last clone of its
//! [`FakePsp`] goes away. It records every request it gets, keeps its payments in memory, and
//! can be scripted: fail the next calls with a status, answer the next one late, make the next
//! payment be declined.

#![allow(dead_code)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{Value, json};
use sha2::Sha256;

use paylink::domain::money::Currency;
use paylink::domain::payment_service::Service;

/// The version header PayPlug wants on every call.
pub const PAYPLUG_VERSION: &str = "2019-08-06";
/// The card every paid payment is paid with: Visa ····0006.
pub const CARD_BRAND: &str = "Visa";
pub const CARD_LAST4: &str = "0006";
pub const PAYZEN_PAN: &str = "497010XXXXXX0006";
pub const PAYZEN_BRAND: &str = "VISA";

/// One request as the fake got it. `path` keeps the query string (`/v1/payments?per_page=1`);
/// header names are lower-case.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Seen {
    /// The header's value, "" when absent.
    pub fn header(&self, name: &str) -> &str {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn has_header(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.headers.iter().any(|(k, _)| *k == name)
    }

    /// The body as JSON (panics when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Where a payment stands, whatever the service calls it. The service's own words:
///
/// | outcome   | Mollie     | PayPlug                         | PayZen order (IPN `orderStatus`) |
/// |-----------|------------|---------------------------------|----------------------------------|
/// | Open      | `open`     | not paid, no failure            | `RUNNING` (`RUNNING`)            |
/// | Pending   | `pending`  | not paid, no failure            | `RUNNING` (`RUNNING`)            |
/// | Paid      | `paid`     | `is_paid`                       | `PAID` (`PAID`)                  |
/// | Declined  | `failed`   | failure `card_declined`         | `REFUSED` (`UNPAID`)             |
/// | Cancelled | `canceled` | failure `aborted`               | `CANCELLED` (`ABANDONED`)        |
/// | Expired   | `expired`  | failure `timeout`               | `EXPIRED` (`ABANDONED`)          |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Open,
    Pending,
    Paid,
    Declined,
    Cancelled,
    Expired,
}

impl Outcome {
    pub const ALL: [Outcome; 6] =
        [Outcome::Open, Outcome::Pending, Outcome::Paid, Outcome::Declined, Outcome::Cancelled, Outcome::Expired];

    fn is_final(self) -> bool {
        !matches!(self, Outcome::Open | Outcome::Pending)
    }

    /// The status in `service`'s words: Mollie's `status`, PayPlug's `is_paid` /
    /// `failure: <code>` / `open`, PayZen's `paymentOrderStatus`.
    pub fn words(self, service: Service) -> &'static str {
        match service {
            Service::Mollie => match self {
                Outcome::Open => "open",
                Outcome::Pending => "pending",
                Outcome::Paid => "paid",
                Outcome::Declined => "failed",
                Outcome::Cancelled => "canceled",
                Outcome::Expired => "expired",
            },
            Service::PayPlug => match self {
                Outcome::Open | Outcome::Pending => "open",
                Outcome::Paid => "is_paid",
                Outcome::Declined => "failure: card_declined",
                Outcome::Cancelled => "failure: aborted",
                Outcome::Expired => "failure: timeout",
            },
            _ => match self {
                Outcome::Open | Outcome::Pending => "RUNNING",
                Outcome::Paid => "PAID",
                Outcome::Declined => "REFUSED",
                Outcome::Cancelled => "CANCELLED",
                Outcome::Expired => "EXPIRED",
            },
        }
    }

    /// PayPlug's `failure.code`.
    fn payplug_failure(self) -> Option<(&'static str, &'static str)> {
        match self {
            Outcome::Declined => Some(("card_declined", "The card was declined.")),
            Outcome::Cancelled => Some(("aborted", "The payment was aborted.")),
            Outcome::Expired => Some(("timeout", "The payment was not completed in time.")),
            _ => None,
        }
    }

    /// PayZen's IPN `orderStatus`, and the transaction's status in it.
    fn payzen_ipn(self) -> &'static str {
        match self {
            Outcome::Open | Outcome::Pending => "RUNNING",
            Outcome::Paid => "PAID",
            Outcome::Declined => "UNPAID",
            Outcome::Cancelled | Outcome::Expired => "ABANDONED",
        }
    }
}

/// A payment the fake holds.
#[derive(Debug, Clone)]
pub struct FakePayment {
    /// `tr_…`, `pay_…`, or PayZen's 32-hex `paymentOrderId`.
    pub id: String,
    /// Minor units.
    pub amount: i64,
    pub currency: String,
    pub outcome: Outcome,
    /// The status in the service's words (see [`Outcome::words`]).
    pub status: String,
    /// Ours: `metadata.paylink_request` (Mollie, PayPlug) or `orderId` (PayZen).
    pub key: Option<String>,
    /// `metadata` as sent (Mollie, PayPlug), `null` for PayZen.
    pub metadata: Value,
    pub description: Option<String>,
    pub return_url: Option<String>,
    pub cancel_url: Option<String>,
    pub notify_url: Option<String>,
    /// Amounts refunded, in minor units, in order.
    pub refunds: Vec<i64>,
    /// `(brand, last4)` once paid.
    pub card: Option<(String, String)>,
    /// PayZen's transaction uuid (32 hex), the one to refund.
    pub transaction_uuid: String,
    /// Set by `decline_next`: paying on the page declines.
    pub declines: bool,
    /// The create call's body as received.
    pub created_with: Value,
}

impl FakePayment {
    pub fn refunded(&self) -> i64 {
        self.refunds.iter().sum()
    }
}

#[derive(Default)]
struct State {
    payments: Vec<FakePayment>,
    requests: Vec<Seen>,
    notifications: Vec<(u16, String)>,
    /// (status, how many calls left)
    fail: Option<(u16, usize)>,
    delay: Option<Duration>,
    decline_next: bool,
}

struct Inner {
    service: Service,
    /// As typed: the key (Mollie, PayPlug), `user:password` (PayZen).
    credentials: String,
    /// `http://127.0.0.1:PORT/`
    base: String,
    state: Mutex<State>,
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn authorization(&self) -> String {
        match self.service {
            Service::PayZen | Service::Wallet => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(&self.credentials))
            }
            _ => format!("Bearer {}", self.credentials),
        }
    }

    /// PayZen signs its IPN with the password.
    fn password(&self) -> &str {
        self.credentials.split_once(':').map(|(_, p)| p).unwrap_or(&self.credentials)
    }
}

/// Stops the server when the last [`FakePsp`] clone is dropped.
struct Stop(actix_web::dev::ServerHandle);

impl Drop for Stop {
    fn drop(&mut self) {
        // The command is sent at once; the returned future only waits for the end.
        drop(self.0.stop(false));
    }
}

/// A fake Mollie, PayPlug or PayZen on a loopback port.
#[derive(Clone)]
pub struct FakePsp {
    inner: Arc<Inner>,
    _stop: Arc<Stop>,
}

fn alnum(n: usize) -> String {
    rand::rng().sample_iter(&rand::distr::Alphanumeric).take(n).map(char::from).collect()
}

fn hex32() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

fn exponent(currency: &str) -> Option<u32> {
    Currency::parse(currency).ok().filter(|c| c.code() == currency).map(|c| c.exponent())
}

/// `1000` EUR → `"10.00"`; `1500` JPY → `"1500"`.
fn decimal(minor: i64, currency: &str) -> String {
    let exp = exponent(currency).unwrap_or(2);
    if exp == 0 {
        return minor.to_string();
    }
    let factor = 10i64.pow(exp);
    format!("{}.{:0width$}", minor / factor, minor % factor, width = exp as usize)
}

/// Mollie's strict reading: a string with exactly the currency's decimals.
fn parse_decimal(value: &str, currency: &str) -> Option<i64> {
    let exp = exponent(currency)? as usize;
    let (units, decimals) = match value.split_once('.') {
        Some((u, d)) => (u, d),
        None => (value, ""),
    };
    if units.is_empty()
        || units.len() > 12
        || decimals.len() != exp
        || !units.chars().all(|c| c.is_ascii_digit())
        || !decimals.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let units: i64 = units.parse().ok()?;
    let decimals: i64 = if decimals.is_empty() { 0 } else { decimals.parse().ok()? };
    Some(units * 10i64.pow(exp as u32) + decimals)
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// An answer before it is sent: status, content type, body.
struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer { status, content_type: "application/json", body: body.to_string() }
    }

    fn hal(status: u16, body: Value) -> Answer {
        Answer { status, content_type: "application/hal+json", body: body.to_string() }
    }
}

fn mollie_error(code: u16, title: &str, detail: &str) -> Answer {
    Answer::hal(code, json!({"status": code, "title": title, "detail": detail}))
}

fn mollie_422(detail: &str, field: &str) -> Answer {
    Answer::hal(422, json!({"status": 422, "title": "Unprocessable Entity", "detail": detail, "field": field}))
}

fn payplug_error(code: u16, message: &str) -> Answer {
    Answer::json(code, json!({"object": "error", "message": message, "details": {}}))
}

fn payzen_error(message: &str) -> Answer {
    Answer::json(200, json!({"status": "ERROR", "answer": {"errorCode": "INT_905", "errorMessage": message}}))
}

fn payzen_success(answer: Value) -> Answer {
    Answer::json(200, json!({"status": "SUCCESS", "answer": answer}))
}

/// A string field found by JSON pointer.
fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer).and_then(Value::as_str).map(str::to_string)
}

impl FakePsp {
    /// Starts `service`'s fake on a free loopback port, accepting only `credentials` (the key
    /// for Mollie and PayPlug, `user:password` for PayZen).
    pub fn start(service: Service, credentials: &str) -> FakePsp {
        assert!(service.is_connector(), "no fake for {service:?}");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            service,
            credentials: credentials.to_string(),
            base,
            state: Mutex::new(State::default()),
        });
        let data = web::Data::from(inner.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("fake-{}", service.label().to_lowercase()))
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(data.clone())
                            .app_data(web::PayloadConfig::new(1 << 20))
                            .default_service(web::to(handle))
                    })
                    .workers(1)
                    .disable_signals()
                    .shutdown_timeout(1)
                    .listen(listener)
                    .unwrap()
                    .run();
                    tx.send(server.handle()).unwrap();
                    let _ = server.await;
                })
            })
            .unwrap();
        let handle = rx.recv().expect("the fake server starts");
        FakePsp { inner, _stop: Arc::new(Stop(handle)) }
    }

    pub fn service(&self) -> Service {
        self.inner.service
    }

    /// `http://127.0.0.1:PORT/`: the account's `base_url`.
    pub fn base_url(&self) -> String {
        self.inner.base.clone()
    }

    /// The hosted page of payment `id`: `{base}checkout/{id}`.
    pub fn checkout_url(&self, id: &str) -> String {
        format!("{}checkout/{id}", self.inner.base)
    }

    /// Every request received so far, in order (checkout page included).
    pub fn requests(&self) -> Vec<Seen> {
        self.inner.lock().requests.clone()
    }

    /// The API requests only (the checkout page's left out).
    pub fn api_requests(&self) -> Vec<Seen> {
        self.requests().into_iter().filter(|s| !s.path.starts_with("/checkout/")).collect()
    }

    /// Every notification sent: the notify URL's HTTP status (0: no answer) and the body.
    pub fn notifications(&self) -> Vec<(u16, String)> {
        self.inner.lock().notifications.clone()
    }

    /// The next `n` API calls answer `status` (and do nothing).
    pub fn fail_next(&self, status: u16, n: usize) {
        self.inner.lock().fail = if n == 0 { None } else { Some((status, n)) };
    }

    /// The next API call is done, then answered only after `delay`.
    pub fn delay_next(&self, delay: Duration) {
        self.inner.lock().delay = Some(delay);
    }

    /// The next payment created is declined when the buyer pays (on the page, or `settle`
    /// with `Outcome::Paid`).
    pub fn decline_next(&self) {
        self.inner.lock().decline_next = true;
    }

    pub fn last_payment_id(&self) -> Option<String> {
        self.inner.lock().payments.last().map(|p| p.id.clone())
    }

    /// Payment `id` now (panics when the fake has none).
    pub fn payment(&self, id: &str) -> FakePayment {
        self.inner
            .lock()
            .payments
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .unwrap_or_else(|| panic!("the fake {} has no payment {id}", self.inner.service.label()))
    }

    pub fn payments(&self) -> Vec<FakePayment> {
        self.inner.lock().payments.clone()
    }

    /// Sets the status, without any notification.
    pub fn set_status(&self, id: &str, outcome: Outcome) {
        let mut state = self.inner.lock();
        let p = state.payments.iter_mut().find(|p| p.id == id).unwrap_or_else(|| panic!("no payment {id}"));
        apply(self.inner.service, p, outcome);
    }

    /// As if the buyer acted on the page: sets the status (`Paid` declines after
    /// `decline_next`) and sends the notification; its HTTP status (0: no answer or no
    /// notify URL).
    pub async fn settle(&self, id: &str, outcome: Outcome) -> u16 {
        {
            let mut state = self.inner.lock();
            let p = state.payments.iter_mut().find(|p| p.id == id).unwrap_or_else(|| panic!("no payment {id}"));
            let outcome = if outcome == Outcome::Paid && p.declines { Outcome::Declined } else { outcome };
            apply(self.inner.service, p, outcome);
        }
        send_notification(&self.inner, id).await
    }

    /// Sends the current state's notification again (a duplicate).
    pub async fn notify(&self, id: &str) -> u16 {
        send_notification(&self.inner, id).await
    }

    /// The notification payment `id`'s current state gives: (content type, body).
    pub fn notification_body(&self, id: &str) -> (String, String) {
        let state = self.inner.lock();
        let p = state.payments.iter().find(|p| p.id == id).unwrap_or_else(|| panic!("no payment {id}"));
        let (ct, body) = notification_of(&self.inner, p);
        (ct.to_string(), body)
    }

    /// PayZen's `kr-hash` of `kr_answer` with this fake's password (to forge or re-sign).
    pub fn kr_hash(&self, kr_answer: &str) -> String {
        kr_hash(self.inner.password(), kr_answer)
    }
}

pub fn kr_hash(password: &str, kr_answer: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(password.as_bytes()).unwrap();
    mac.update(kr_answer.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn apply(service: Service, p: &mut FakePayment, outcome: Outcome) {
    p.outcome = outcome;
    p.status = outcome.words(service).to_string();
    p.card = (outcome == Outcome::Paid).then(|| {
        let brand = if service == Service::PayZen { PAYZEN_BRAND } else { CARD_BRAND };
        (brand.to_string(), CARD_LAST4.to_string())
    });
}

// ---------------------------------------------------------------------------------------
// The server

async fn handle(req: HttpRequest, body: web::Bytes, fake: web::Data<Inner>) -> HttpResponse {
    let method = req.method().as_str().to_string();
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| req.path().to_string());
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    fake.lock().requests.push(Seen { method: method.clone(), path: path.clone(), headers, body: body_text.clone() });

    if let Some(id) = req.path().strip_prefix("/checkout/") {
        return checkout(&fake, &method, id, &body_text).await;
    }

    let (failure, delay) = {
        let mut state = fake.lock();
        let failure = match state.fail {
            Some((code, n)) => {
                state.fail = if n > 1 { Some((code, n - 1)) } else { None };
                Some(code)
            }
            None => None,
        };
        (failure, state.delay.take())
    };
    let answer = match failure {
        Some(code) => scripted_failure(fake.service, code),
        None => api(&fake, &req, &method, &body_text),
    };
    if let Some(delay) = delay {
        actix_web::rt::time::sleep(delay).await;
    }
    HttpResponse::build(status(answer.status)).content_type(answer.content_type).body(answer.body)
}

fn scripted_failure(service: Service, code: u16) -> Answer {
    let reason = status(code).canonical_reason().unwrap_or("Error");
    match service {
        Service::Mollie => mollie_error(code, reason, "scripted failure"),
        Service::PayPlug => payplug_error(code, reason),
        _ => Answer::json(code, json!({"status": "ERROR", "answer": {"errorCode": "INT_999", "errorMessage": reason}})),
    }
}

fn api(fake: &Inner, req: &HttpRequest, method: &str, body: &str) -> Answer {
    let given = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    let authorized = given == fake.authorization();
    let segments: Vec<&str> = req.path().trim_matches('/').split('/').collect();
    let json_body = || -> Option<Value> {
        let ct = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/json") {
            return None;
        }
        serde_json::from_str::<Value>(body).ok().filter(Value::is_object)
    };
    match fake.service {
        Service::Mollie => {
            if !authorized {
                return mollie_error(401, "Unauthorized Request", "Missing authentication, or failed to authenticate");
            }
            mollie(fake, method, &segments, json_body)
        }
        Service::PayPlug => {
            if !authorized {
                return payplug_error(401, "The API key you provided is invalid.");
            }
            if req.headers().get("payplug-version").and_then(|v| v.to_str().ok()) != Some(PAYPLUG_VERSION) {
                return payplug_error(400, "The PayPlug-Version header is missing or unknown.");
            }
            payplug(fake, method, &segments, json_body)
        }
        _ => {
            if !authorized {
                return Answer::json(
                    401,
                    json!({"status": "ERROR", "answer": {"errorCode": "INT_905", "errorMessage": "invalid authentication"}}),
                );
            }
            if method != "POST" {
                return Answer::json(
                    405,
                    json!({"status": "ERROR", "answer": {"errorCode": "INT_905", "errorMessage": "POST only"}}),
                );
            }
            let Some(body) = json_body() else { return payzen_error("the body must be a JSON object") };
            payzen(fake, &segments.join("/"), &body)
        }
    }
}

// --- Mollie ------------------------------------------------------------------------------

fn mollie_object(fake: &Inner, p: &FakePayment) -> Value {
    let refunded = p.refunded();
    let mut o = json!({
        "resource": "payment",
        "id": p.id,
        "mode": if fake.credentials.starts_with("live_") { "live" } else { "test" },
        "status": p.status,
        "isCancelable": p.outcome == Outcome::Open,
        "amount": {"currency": p.currency, "value": decimal(p.amount, &p.currency)},
        "description": p.description,
        "redirectUrl": p.return_url,
        "webhookUrl": p.notify_url,
        "metadata": p.metadata,
        "method": if p.card.is_some() { json!("creditcard") } else { Value::Null },
        "_links": {
            "self": {"href": format!("{}v2/payments/{}", fake.base, p.id), "type": "application/hal+json"},
        },
    });
    if p.outcome == Outcome::Open {
        o["_links"]["checkout"] = json!({"href": format!("{}checkout/{}", fake.base, p.id), "type": "text/html"});
    }
    if p.outcome == Outcome::Paid {
        o["amountRefunded"] = json!({"currency": p.currency, "value": decimal(refunded, &p.currency)});
        o["amountRemaining"] = json!({"currency": p.currency, "value": decimal(p.amount - refunded, &p.currency)});
    }
    if let Some((brand, last4)) = &p.card {
        o["details"] = json!({"cardNumber": last4, "cardLabel": brand, "cardHolder": "T. Buyer"});
    }
    o
}

fn mollie(fake: &Inner, method: &str, path: &[&str], json_body: impl Fn() -> Option<Value>) -> Answer {
    let not_found = |id: &str| mollie_error(404, "Not Found", &format!("No payment exists with token {id}."));
    match (method, path) {
        ("GET", ["v2", "methods"]) => Answer::hal(
            200,
            json!({
                "count": 2,
                "_embedded": {"methods": [
                    {"resource": "method", "id": "creditcard", "description": "Card"},
                    {"resource": "method", "id": "bancontact", "description": "Bancontact"},
                ]},
                "_links": {"self": {"href": format!("{}v2/methods", fake.base)}},
            }),
        ),
        ("POST", ["v2", "payments"]) => {
            let Some(b) = json_body() else { return mollie_422("The request body must be JSON", "body") };
            let Some(currency) = text(&b, "/amount/currency").filter(|c| exponent(c).is_some()) else {
                return mollie_422("The amount currency is invalid", "amount.currency");
            };
            let Some(amount) = text(&b, "/amount/value").and_then(|v| parse_decimal(&v, &currency)).filter(|a| *a > 0)
            else {
                return mollie_422(
                    "The amount value is invalid: a string with the currency's decimals",
                    "amount.value",
                );
            };
            let Some(description) = text(&b, "/description").filter(|d| !d.is_empty()) else {
                return mollie_422("The description is invalid", "description");
            };
            let Some(return_url) = text(&b, "/redirectUrl") else {
                return mollie_422("The redirect URL is invalid", "redirectUrl");
            };
            if b.get("webhookUrl").is_some_and(|w| !w.is_string()) {
                return mollie_422("The webhook URL is invalid", "webhookUrl");
            }
            let p = new_payment(
                fake,
                format!("tr_{}", alnum(10)),
                amount,
                currency,
                text(&b, "/metadata/paylink_request"),
                b.get("metadata").cloned().unwrap_or(Value::Null),
                Some(description),
                Some(return_url),
                None,
                text(&b, "/webhookUrl"),
                b.clone(),
            );
            Answer::hal(201, mollie_object(fake, &p))
        }
        ("GET", ["v2", "payments", id]) => match find(fake, id) {
            Some(p) => Answer::hal(200, mollie_object(fake, &p)),
            None => not_found(id),
        },
        ("DELETE", ["v2", "payments", id]) => {
            let mut state = fake.lock();
            let Some(p) = state.payments.iter_mut().find(|p| p.id == *id) else { return not_found(id) };
            if p.outcome != Outcome::Open {
                return mollie_error(422, "Unprocessable Entity", "The payment cannot be canceled");
            }
            apply(fake.service, p, Outcome::Cancelled);
            Answer::hal(200, mollie_object(fake, p))
        }
        ("POST", ["v2", "payments", id, "refunds"]) => {
            let b = json_body();
            let mut state = fake.lock();
            let Some(p) = state.payments.iter_mut().find(|p| p.id == *id) else { return not_found(id) };
            let Some(b) = b else { return mollie_422("The request body must be JSON", "body") };
            if p.outcome != Outcome::Paid {
                return mollie_422("The payment has not been paid: it cannot be refunded", "amount");
            }
            let currency = text(&b, "/amount/currency");
            if currency.as_deref() != Some(p.currency.as_str()) {
                return mollie_422("The refund currency must be the payment's", "amount.currency");
            }
            let Some(amount) =
                text(&b, "/amount/value").and_then(|v| parse_decimal(&v, &p.currency)).filter(|a| *a > 0)
            else {
                return mollie_422("The amount value is invalid", "amount.value");
            };
            if amount > p.amount - p.refunded() {
                return mollie_422("The amount is higher than the amount that can be refunded", "amount");
            }
            p.refunds.push(amount);
            Answer::hal(
                201,
                json!({
                    "resource": "refund",
                    "id": format!("re_{}", alnum(10)),
                    "amount": {"currency": p.currency, "value": decimal(amount, &p.currency)},
                    "status": "pending",
                    "paymentId": p.id,
                }),
            )
        }
        _ => mollie_error(404, "Not Found", "The requested resource does not exist"),
    }
}

// --- PayPlug -----------------------------------------------------------------------------

fn payplug_object(fake: &Inner, p: &FakePayment) -> Value {
    let failure = p.outcome.payplug_failure().map(|(code, message)| json!({"code": code, "message": message}));
    let (brand, last4) = match &p.card {
        Some((b, l)) => (json!(b), json!(l)),
        None => (Value::Null, Value::Null),
    };
    let billing = p.created_with.get("billing").cloned().unwrap_or(Value::Null);
    json!({
        "id": p.id,
        "object": "payment",
        "is_live": fake.credentials.starts_with("sk_live_"),
        "amount": p.amount,
        "amount_refunded": p.refunded(),
        "currency": p.currency,
        "is_paid": p.outcome == Outcome::Paid,
        "is_refunded": p.outcome == Outcome::Paid && p.refunded() == p.amount,
        "failure": failure,
        "card": {"last4": last4, "brand": brand, "country": if p.card.is_some() { json!("FR") } else { Value::Null }},
        "billing": billing,
        "hosted_payment": {
            "payment_url": format!("{}checkout/{}", fake.base, p.id),
            "return_url": p.return_url,
            "cancel_url": p.cancel_url,
        },
        "notification": {"url": p.notify_url, "response_code": Value::Null},
        "metadata": p.metadata,
    })
}

fn payplug(fake: &Inner, method: &str, path: &[&str], json_body: impl Fn() -> Option<Value>) -> Answer {
    let not_found = || payplug_error(404, "The requested resource was not found.");
    match (method, path) {
        ("GET", ["v1", "payments"]) => {
            let state = fake.lock();
            let data: Vec<Value> = state.payments.iter().rev().take(1).map(|p| payplug_object(fake, p)).collect();
            Answer::json(200, json!({"object": "list", "page": 0, "per_page": 1, "has_more": false, "data": data}))
        }
        ("POST", ["v1", "payments"]) => {
            let Some(b) = json_body() else { return payplug_error(400, "The request body must be JSON.") };
            let Some(currency) = text(&b, "/currency").filter(|c| exponent(c).is_some()) else {
                return payplug_error(400, "currency: invalid");
            };
            let Some(amount) = b.get("amount").and_then(Value::as_i64).filter(|a| *a > 0) else {
                return payplug_error(400, "amount: an integer in cents is expected");
            };
            let Some(return_url) = text(&b, "/hosted_payment/return_url") else {
                return payplug_error(400, "hosted_payment.return_url: required");
            };
            if b.get("notification_url").is_some_and(|w| !w.is_string()) {
                return payplug_error(400, "notification_url: invalid");
            }
            let p = new_payment(
                fake,
                format!("pay_{}", alnum(22)),
                amount,
                currency,
                text(&b, "/metadata/paylink_request"),
                b.get("metadata").cloned().unwrap_or(Value::Null),
                None,
                Some(return_url),
                text(&b, "/hosted_payment/cancel_url"),
                text(&b, "/notification_url"),
                b.clone(),
            );
            Answer::json(201, payplug_object(fake, &p))
        }
        ("GET", ["v1", "payments", id]) => match find(fake, id) {
            Some(p) => Answer::json(200, payplug_object(fake, &p)),
            None => not_found(),
        },
        ("PATCH", ["v1", "payments", id]) => {
            let b = json_body();
            let mut state = fake.lock();
            let Some(p) = state.payments.iter_mut().find(|p| p.id == *id) else { return not_found() };
            if b.as_ref().and_then(|b| b.get("aborted")) != Some(&Value::Bool(true)) {
                return payplug_error(400, "Only {\"aborted\": true} is accepted.");
            }
            if p.outcome == Outcome::Paid {
                return payplug_error(400, "The payment is already paid: it cannot be aborted.");
            }
            if p.outcome.is_final() {
                return payplug_error(400, "The payment has already failed: it cannot be aborted.");
            }
            apply(fake.service, p, Outcome::Cancelled);
            Answer::json(200, payplug_object(fake, p))
        }
        ("POST", ["v1", "payments", id, "refunds"]) => {
            let b = json_body();
            let mut state = fake.lock();
            let Some(p) = state.payments.iter_mut().find(|p| p.id == *id) else { return not_found() };
            let Some(amount) = b.as_ref().and_then(|b| b.get("amount")).and_then(Value::as_i64).filter(|a| *a > 0)
            else {
                return payplug_error(400, "amount: an integer in cents is expected");
            };
            if p.outcome != Outcome::Paid {
                return payplug_error(400, "The payment is not paid: it cannot be refunded.");
            }
            if amount > p.amount - p.refunded() {
                return payplug_error(400, "The amount to refund is greater than the refundable amount.");
            }
            p.refunds.push(amount);
            Answer::json(
                201,
                json!({
                    "id": format!("re_{}", alnum(22)),
                    "object": "refund",
                    "amount": amount,
                    "currency": p.currency,
                    "payment_id": p.id,
                    "is_live": fake.credentials.starts_with("sk_live_"),
                    "metadata": b.as_ref().and_then(|b| b.get("metadata")).cloned().unwrap_or(Value::Null),
                }),
            )
        }
        _ => not_found(),
    }
}

// --- PayZen ------------------------------------------------------------------------------

fn payzen_order(fake: &Inner, p: &FakePayment) -> Value {
    let transactions: Vec<Value> = match p.outcome {
        Outcome::Paid => vec![json!({
            "uuid": p.transaction_uuid,
            "status": "PAID",
            "detailedStatus": "CAPTURED",
            "amount": p.amount,
            "currency": p.currency,
            "cardDetails": {"pan": PAYZEN_PAN, "effectiveBrand": PAYZEN_BRAND},
        })],
        Outcome::Declined => vec![json!({
            "uuid": p.transaction_uuid,
            "status": "UNPAID",
            "detailedStatus": "REFUSED",
            "amount": p.amount,
            "currency": p.currency,
        })],
        _ => vec![],
    };
    json!({
        "paymentOrderId": p.id,
        "paymentURL": format!("{}checkout/{}", fake.base, p.id),
        "paymentOrderStatus": p.status,
        "amount": p.amount,
        "currency": p.currency,
        "orderId": p.key,
        "transactionDetails": transactions,
    })
}

fn payzen(fake: &Inner, path: &str, b: &Value) -> Answer {
    match path {
        "V4/Charge/SDKTest" => payzen_success(json!({"value": b.get("value").cloned().unwrap_or(Value::Null)})),
        "V4/Charge/CreatePaymentOrder" => {
            let Some(currency) = text(b, "/currency").filter(|c| exponent(c).is_some()) else {
                return payzen_error("currency: invalid");
            };
            let Some(amount) = b.get("amount").and_then(Value::as_i64).filter(|a| *a > 0) else {
                return payzen_error("amount: an integer in the currency's smallest unit is expected");
            };
            if text(b, "/channelOptions/channelType").as_deref() != Some("URL") {
                return payzen_error("channelOptions.channelType: URL expected");
            }
            let p = new_payment(
                fake,
                hex32(),
                amount,
                currency,
                text(b, "/orderId"),
                Value::Null,
                text(b, "/description"),
                text(b, "/returnUrl"),
                None,
                text(b, "/ipnTargetUrl"),
                b.clone(),
            );
            payzen_success(payzen_order(fake, &p))
        }
        "V4/Charge/PaymentOrder/Get" => {
            let id = text(b, "/paymentOrderId").unwrap_or_default();
            match find(fake, &id) {
                Some(p) => payzen_success(payzen_order(fake, &p)),
                None => payzen_error("paymentOrderId: unknown payment order"),
            }
        }
        "V4/Transaction/CancelOrRefund" => {
            let uuid = text(b, "/uuid").unwrap_or_default();
            let mut state = fake.lock();
            let Some(p) = state.payments.iter_mut().find(|p| p.transaction_uuid == uuid && !uuid.is_empty()) else {
                return payzen_error("uuid: unknown transaction");
            };
            if p.outcome != Outcome::Paid {
                return payzen_error("the transaction is not paid: it cannot be refunded");
            }
            if text(b, "/currency").as_deref() != Some(p.currency.as_str()) {
                return payzen_error("currency: the transaction's expected");
            }
            let Some(amount) = b.get("amount").and_then(Value::as_i64).filter(|a| *a > 0) else {
                return payzen_error("amount: an integer is expected");
            };
            if amount > p.amount - p.refunded() {
                return payzen_error("amount: more than the refundable amount");
            }
            p.refunds.push(amount);
            payzen_success(json!({
                "uuid": hex32(),
                "parentTransactionUuid": p.transaction_uuid,
                "operationType": "CREDIT",
                "amount": amount,
                "currency": p.currency,
                "detailedStatus": "AUTHORISED",
            }))
        }
        _ => Answer::json(
            404,
            json!({"status": "ERROR", "answer": {"errorCode": "INT_905", "errorMessage": "unknown web service"}}),
        ),
    }
}

// --- Payments, checkout page, notifications ---------------------------------------------

fn find(fake: &Inner, id: &str) -> Option<FakePayment> {
    fake.lock().payments.iter().find(|p| p.id == id).cloned()
}

#[allow(clippy::too_many_arguments)]
fn new_payment(
    fake: &Inner,
    id: String,
    amount: i64,
    currency: String,
    key: Option<String>,
    metadata: Value,
    description: Option<String>,
    return_url: Option<String>,
    cancel_url: Option<String>,
    notify_url: Option<String>,
    created_with: Value,
) -> FakePayment {
    let mut state = fake.lock();
    let declines = std::mem::take(&mut state.decline_next);
    let p = FakePayment {
        id,
        amount,
        currency,
        outcome: Outcome::Open,
        status: Outcome::Open.words(fake.service).to_string(),
        key,
        metadata,
        description,
        return_url,
        cancel_url,
        notify_url,
        refunds: vec![],
        card: None,
        transaction_uuid: hex32(),
        declines,
        created_with,
    };
    state.payments.push(p.clone());
    p
}

/// The notification of `p`'s current state: (content type, body).
fn notification_of(fake: &Inner, p: &FakePayment) -> (&'static str, String) {
    const FORM: &str = "application/x-www-form-urlencoded";
    match fake.service {
        Service::Mollie => (FORM, serde_urlencoded::to_string([("id", p.id.as_str())]).unwrap()),
        Service::PayPlug => ("application/json", payplug_object(fake, p).to_string()),
        _ => {
            let mut transaction = json!({
                "uuid": p.transaction_uuid,
                "status": p.outcome.payzen_ipn(),
                "paymentOrderId": p.id,
                "amount": p.amount,
                "currency": p.currency,
                "transactionDetails": {},
            });
            if p.card.is_some() {
                transaction["transactionDetails"]["cardDetails"] =
                    json!({"pan": PAYZEN_PAN, "effectiveBrand": PAYZEN_BRAND});
            }
            // Written by hand in PayZen's own key order (not sorted, as `serde_json` would):
            // a connector must hash the string as received, not a re-serialisation of it.
            let order_details = format!(
                "{{\"orderTotalAmount\":{},\"orderCurrency\":{},\"orderId\":{}}}",
                p.amount,
                json!(p.currency),
                json!(p.key),
            );
            let answer = format!(
                "{{\"shopId\":{},\"orderCycle\":{},\"orderStatus\":{},\"serverDate\":\"2026-06-15T10:00:00+00:00\",\
                 \"orderDetails\":{order_details},\"transactions\":[{transaction}],\"_type\":\"V4/Payment\"}}",
                json!(fake.credentials.split_once(':').map(|(u, _)| u).unwrap_or("")),
                json!(if p.outcome.is_final() { "CLOSED" } else { "OPEN" }),
                json!(p.outcome.payzen_ipn()),
            );
            debug_assert!(serde_json::from_str::<Value>(&answer).is_ok(), "{answer}");
            let hash = kr_hash(fake.password(), &answer);
            let body = serde_urlencoded::to_string([
                ("kr-hash-algorithm", "sha256_hmac"),
                ("kr-hash-key", "password"),
                ("kr-answer-type", "V4/Payment"),
                ("kr-answer", answer.as_str()),
                ("kr-hash", hash.as_str()),
            ])
            .unwrap();
            (FORM, body)
        }
    }
}

/// Sends payment `id`'s notification to its notify URL; the answer's status (0: no answer, or
/// no notify URL), recorded in `notifications`.
async fn send_notification(fake: &Inner, id: &str) -> u16 {
    let (url, content_type, body) = {
        let state = fake.lock();
        let Some(p) = state.payments.iter().find(|p| p.id == id) else { return 0 };
        let Some(url) = p.notify_url.clone() else { return 0 };
        let (ct, body) = notification_of(fake, p);
        (url, ct, body)
    };
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let code = match client.post(&url).header("Content-Type", content_type).body(body.clone()).send().await {
        Ok(r) => {
            let code = r.status().as_u16();
            let _ = r.bytes().await;
            code
        }
        Err(_) => 0,
    };
    fake.lock().notifications.push((code, body));
    code
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

async fn checkout(fake: &Inner, method: &str, id: &str, body: &str) -> HttpResponse {
    let Some(p) = find(fake, id) else {
        return HttpResponse::NotFound().content_type("text/html; charset=utf-8").body("<p>Unknown payment</p>");
    };
    let label = fake.service.label();
    match method {
        "GET" => {
            let amount = format!("{} {}", decimal(p.amount, &p.currency), p.currency);
            let forms = if p.outcome.is_final() {
                format!("<p id=\"status\">This payment is {}.</p>", html_escape(&p.status))
            } else {
                ["pay", "decline", "cancel"]
                    .iter()
                    .map(|action| {
                        format!(
                            "<form method=\"post\" action=\"/checkout/{id}\">\
                             <input type=\"hidden\" name=\"action\" value=\"{action}\">\
                             <button type=\"submit\" id=\"{action}\">{action}</button></form>",
                            id = html_escape(id),
                        )
                    })
                    .collect::<String>()
            };
            let page = format!(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>{label} checkout</title></head>\
                 <body><h1>{label}</h1><p id=\"amount\">{amount}</p><p id=\"description\">{desc}</p>\
                 <p id=\"card\">Visa ····{CARD_LAST4}</p>{forms}</body></html>",
                amount = html_escape(&amount),
                desc = html_escape(p.description.as_deref().unwrap_or("")),
            );
            HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page)
        }
        "POST" => {
            let form: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap_or_default();
            let action = form.iter().find(|(k, _)| k == "action").map(|(_, v)| v.as_str()).unwrap_or("");
            let outcome = match action {
                "pay" if p.declines => Outcome::Declined,
                "pay" => Outcome::Paid,
                "decline" => Outcome::Declined,
                "cancel" => Outcome::Cancelled,
                _ => return HttpResponse::BadRequest().body("action: pay, decline or cancel"),
            };
            if p.outcome.is_final() {
                return HttpResponse::Conflict()
                    .content_type("text/html; charset=utf-8")
                    .body(format!("<p>This payment is {}.</p>", html_escape(&p.status)));
            }
            {
                let mut state = fake.lock();
                if let Some(p) = state.payments.iter_mut().find(|p| p.id == id) {
                    apply(fake.service, p, outcome);
                }
            }
            send_notification(fake, id).await;
            let back = if outcome == Outcome::Cancelled {
                p.cancel_url.clone().or(p.return_url.clone())
            } else {
                p.return_url.clone()
            };
            match back {
                Some(url) => HttpResponse::SeeOther().insert_header(("Location", url)).finish(),
                None => HttpResponse::Ok().content_type("text/html; charset=utf-8").body("<p>Done.</p>"),
            }
        }
        _ => HttpResponse::MethodNotAllowed().finish(),
    }
}
