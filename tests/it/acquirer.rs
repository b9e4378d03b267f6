//! The acquirer boundary, black-box: orders created and captured through the API, paid on
//! `/t/`, with a fake acquirer installed through the application state that refuses, fails,
//! times out or answers slowly. Every operation is recorded before its call, confirmed after
//! it, and reconciled by the worker when its answer was lost; none is ever done twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use diesel::prelude::*;
use paylink::acquirer::simulator::Simulator;
use paylink::acquirer::{
    Acquirer, AcquirerError, Authentication, Authorisation, CardInput, Looked, Operation, StoredCard,
};
use paylink::db::DbError;
use paylink::db::schema::{acquirer_operations as ao, audit_log, transaction_events, transactions};
use paylink::domain::shop::ThreeDsPreference;
use paylink::services::merchants::CreatedMerchant;
use serde_json::{Value, json};

use crate::helpers::TestApp;

/// What the fake does with the next money operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behave {
    Normal,
    /// Says no: nothing done.
    Refuse,
    /// Cannot be reached: nothing done.
    Fail,
    /// Does it, then never answers (the gate's timeout ends the call).
    DoesThenHangs,
    /// Does it, and answers once the test calls `release` (within the timeout).
    Held,
    /// Declines every charge without the buyer (an instalment) with a bank refusal that may
    /// be tried again (01005); the rest as `Normal`.
    DeclineMit,
}

/// The simulator for authentication, and for money operations whatever `behave` says. It
/// counts every call by kind and keeps what it did by key, like a real acquirer.
pub struct Fake {
    sim: Simulator,
    pub behave: Mutex<Behave>,
    /// Whether `lookup` answers (false: an error, as from an acquirer that is down).
    pub lookups_answer: Mutex<bool>,
    pub calls: Mutex<Vec<(String, String)>>,
    done: Mutex<HashMap<String, Looked>>,
    /// Where `Held` calls wait; `release` lets them all answer.
    gate: tokio::sync::Semaphore,
}

impl Fake {
    pub fn new() -> Arc<Fake> {
        Arc::new(Fake {
            sim: Simulator::default(),
            behave: Mutex::new(Behave::Normal),
            lookups_answer: Mutex::new(true),
            calls: Mutex::new(Vec::new()),
            done: Mutex::new(HashMap::new()),
            gate: tokio::sync::Semaphore::new(0),
        })
    }

    /// Lets every `Held` call answer, now and after.
    pub fn release(&self) {
        self.gate.add_permits(tokio::sync::Semaphore::MAX_PERMITS / 2);
    }

    pub fn set(&self, b: Behave) {
        *self.behave.lock().unwrap() = b;
    }

    pub fn count(&self, kind: &str) -> usize {
        self.calls.lock().unwrap().iter().filter(|(k, _)| k == kind).count()
    }

    async fn money(&self, kind: &str, key: &str, what: Looked) -> Result<(), AcquirerError> {
        self.calls.lock().unwrap().push((kind.to_string(), key.to_string()));
        let behave = *self.behave.lock().unwrap();
        match behave {
            Behave::Refuse => return Err(AcquirerError::Refused("declined by the fake".into())),
            Behave::Fail => return Err(AcquirerError::Unavailable("connection refused".into())),
            _ => {}
        }
        self.done.lock().unwrap().insert(key.to_string(), what);
        match behave {
            Behave::DoesThenHangs => std::future::pending::<()>().await,
            Behave::Held => self.gate.acquire().await.expect("gate open").forget(),
            _ => {}
        }
        Ok(())
    }
}

#[async_trait]
impl Acquirer for Fake {
    fn name(&self) -> &'static str {
        "fake"
    }

    async fn authenticate(
        &self,
        card: CardInput<'_>,
        preference: ThreeDsPreference,
    ) -> Result<Authentication, AcquirerError> {
        self.sim.authenticate(card, preference).await
    }

    async fn authorise(&self, op: Operation<'_>, mit: bool) -> Result<Authorisation, AcquirerError> {
        if mit && *self.behave.lock().unwrap() == Behave::DeclineMit {
            self.calls.lock().unwrap().push(("authorise".into(), op.key.to_string()));
            self.done.lock().unwrap().insert(op.key.to_string(), Looked::Refused);
            return Ok(Authorisation { approved: false, code: paylink::acquirer::codes::BANK_REFUSAL });
        }
        let answer = self.sim.authorise(op, mit).await?;
        let what = if answer.approved { Looked::Done } else { Looked::Refused };
        self.money("authorise", op.key, what).await.map(|_| answer)
    }

    async fn verify(&self, key: &str, card: StoredCard<'_>) -> Result<Authorisation, AcquirerError> {
        self.sim.verify(key, card).await
    }

    async fn stored_reference(&self, card: StoredCard<'_>) -> Result<String, AcquirerError> {
        self.sim.stored_reference(card).await
    }

    async fn capture(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.money("capture", op.key, Looked::Done).await
    }

    async fn cancel(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.money("cancel", op.key, Looked::Done).await
    }

    async fn refund(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.money("refund", op.key, Looked::Done).await
    }

    async fn lookup(&self, key: &str) -> Result<Looked, AcquirerError> {
        if !*self.lookups_answer.lock().unwrap() {
            return Err(AcquirerError::Unavailable("lookup down".into()));
        }
        Ok(self.done.lock().unwrap().get(key).copied().unwrap_or(Looked::NotFound))
    }
}

/// A short timeout: a hanging call costs the test this much, no more.
const TIMEOUT: StdDuration = StdDuration::from_millis(400);

async fn app_with(fake: &Arc<Fake>) -> TestApp {
    TestApp::spawn_with_acquirer(fake.clone(), TIMEOUT).await
}

/// The shop's TEST key on the REST API.
pub struct Api {
    base: String,
    http: reqwest::Client,
    user: String,
    key: String,
}

pub struct Res {
    pub status: u16,
    pub body: Value,
}

impl Api {
    pub fn new(app: &TestApp, m: &CreatedMerchant) -> Api {
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Api { base: app.base.clone(), http, user: m.shop_id.to_string(), key: m.test_api_key.clone() }
    }

    pub async fn get(&self, path: &str) -> Res {
        let res = self.http.get(format!("{}{path}", self.base)).basic_auth(&self.user, Some(&self.key));
        Self::read(res.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Res {
        let res = self.http.post(format!("{}{path}", self.base)).basic_auth(&self.user, Some(&self.key)).json(&body);
        Self::read(res.send().await.unwrap()).await
    }

    pub async fn post_keyed(&self, path: &str, body: Value, key: &str) -> Res {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.key))
            .header("Idempotency-Key", key)
            .json(&body);
        Self::read(res.send().await.unwrap()).await
    }

    /// POSTs a CSV file (`text/csv`), under an Idempotency-Key when given; `key` may be
    /// another API key of the same shop (its PRODUCTION key).
    pub async fn post_csv(&self, path: &str, csv: &str, idempotency: Option<&str>) -> Res {
        let mut res = self
            .http
            .post(format!("{}{path}", self.base))
            .basic_auth(&self.user, Some(&self.key))
            .header("Content-Type", "text/csv; charset=utf-8")
            .body(csv.to_string());
        if let Some(k) = idempotency {
            res = res.header("Idempotency-Key", k);
        }
        Self::read(res.send().await.unwrap()).await
    }

    pub async fn delete(&self, path: &str) -> Res {
        let res = self.http.delete(format!("{}{path}", self.base)).basic_auth(&self.user, Some(&self.key));
        Self::read(res.send().await.unwrap()).await
    }

    /// The same client with the shop's PRODUCTION key.
    pub fn production(app: &TestApp, m: &CreatedMerchant) -> Api {
        Api { key: m.production_api_key.clone(), ..Api::new(app, m) }
    }

    async fn read(res: reqwest::Response) -> Res {
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        Res { status, body: serde_json::from_str(&text).unwrap_or(Value::Null) }
    }
}

impl Res {
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "{}", self.body);
        &self.body
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Opens the pay page at `path` as a new buyer and posts the frictionless Visa test card.
async fn pay_on_page(app: &TestApp, path: &str) -> crate::helpers::Page {
    let buyer = app.client();
    let page = buyer.get(path).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    let session = page.attr("input[name=\"session\"]", "value").expect("a pay form");
    let card = [("card_number", "4970100000000006"), ("expiry_month", "12"), ("expiry_year", "2030")];
    let mut fields = card.to_vec();
    fields.extend([("cvv", "123"), ("holder", "Jane Doe"), ("session", session.as_str())]);
    buyer.post_form(path, &fields).await
}

/// A URL order created through the API, paid on its link with the frictionless Visa test
/// card: the transaction id. `validation`: AUTO captures at once, MANUAL waits.
pub async fn paid_order(app: &TestApp, api: &Api, amount: i64, validation: &str, delay: i64) -> i64 {
    let order = api
        .post(
            "/api/v1/payment-orders",
            json!({"channel": "URL", "amount": amount, "validation_mode": validation, "capture_delay_days": delay}),
        )
        .await;
    let url = order.expect(201)["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&app.base).unwrap().to_string();
    pay_on_page(app, &path).await.assert_redirect(&path);
    let id = order.body["id"].as_i64().unwrap();
    let order = api.get(&format!("/api/v1/payment-orders/{id}")).await;
    assert_eq!(order.expect(200)["status"], "PAID", "{}", order.body);
    order.body["transaction_id"].as_i64().expect("a transaction")
}

/// Waits for `condition` (set by requests under way), yielding, for 30 s at most.
async fn until(condition: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !condition() {
        assert!(started.elapsed() < StdDuration::from_secs(30), "the condition never held");
        tokio::task::yield_now().await;
    }
}

fn merchant(app: &TestApp, login: &str) -> CreatedMerchant {
    app.create_merchant(&format!("{login} SAS"), &format!("{login} shop"), login, "4821")
}

fn operations(app: &TestApp, tx: i64) -> Vec<(String, String)> {
    app.db
        .read_blocking(move |conn| {
            ao::table
                .filter(ao::transaction_id.eq(tx))
                .order(ao::id)
                .select((ao::kind, ao::status))
                .load::<(String, String)>(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

fn events(app: &TestApp, tx: i64) -> Vec<String> {
    app.db
        .read_blocking(move |conn| {
            transaction_events::table
                .filter(transaction_events::transaction_id.eq(tx))
                .order(transaction_events::id)
                .select(transaction_events::kind)
                .load::<String>(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

fn status_of(app: &TestApp, tx: i64) -> String {
    app.db
        .read_blocking(move |conn| {
            transactions::table.find(tx).select(transactions::status).first::<String>(conn).map_err(DbError::from)
        })
        .unwrap()
}

#[actix_web::test]
async fn the_money_path_through_the_api_and_the_pay_page() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let tx = paid_order(&app, &api, 2500, "AUTO", 1).await;
    let t = api.get(&format!("/api/v1/transactions/{tx}")).await;
    assert_eq!(t.expect(200)["status"], "AUTHORISED");
    let captured = api.post(&format!("/api/v1/transactions/{tx}/capture"), json!({})).await;
    assert_eq!(captured.expect(200)["status"], "CAPTURED");
    let refunded = api.post(&format!("/api/v1/transactions/{tx}/refunds"), json!({"amount": 1000})).await;
    assert_eq!(refunded.expect(201)["refunded_amount"], 1000);
    let rest = api.post(&format!("/api/v1/transactions/{tx}/refunds"), json!({})).await;
    assert_eq!(rest.expect(201)["refunded_amount"], 2500);
    let more = api.post(&format!("/api/v1/transactions/{tx}/refunds"), json!({"amount": 1})).await;
    assert_eq!((more.status, more.code()), (400, "refund.too_much"));
    assert_eq!((fake.count("authorise"), fake.count("capture"), fake.count("refund")), (1, 1, 2));
    assert_eq!(
        operations(&app, tx),
        [("AUTHORISE", "DONE"), ("CAPTURE", "DONE"), ("REFUND", "DONE"), ("REFUND", "DONE")]
            .map(|(k, s)| (k.to_string(), s.to_string()))
    );
}

#[actix_web::test]
async fn a_capture_the_acquirer_refuses_or_cannot_take_changes_nothing() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let tx = paid_order(&app, &api, 2500, "AUTO", 3).await;
    let path = format!("/api/v1/transactions/{tx}/capture");
    fake.set(Behave::Refuse);
    let refused = api.post(&path, json!({})).await;
    assert_eq!((refused.status, refused.code()), (409, "acquirer.refused"), "{}", refused.body);
    fake.set(Behave::Fail);
    let down = api.post(&path, json!({})).await;
    assert_eq!((down.status, down.code()), (502, "acquirer.unreachable"), "{}", down.body);
    assert_eq!(status_of(&app, tx), "AUTHORISED", "nothing changed");
    assert!(!events(&app, tx).contains(&"captured".to_string()));
    fake.set(Behave::Normal);
    assert_eq!(api.post(&path, json!({})).await.expect(200)["status"], "CAPTURED", "free again after a refusal");
    let ops = operations(&app, tx);
    assert_eq!(ops.iter().filter(|(k, s)| k == "CAPTURE" && s == "FAILED").count(), 2);
    assert_eq!(events(&app, tx).iter().filter(|e| *e == "captured").count(), 1);
}

#[actix_web::test]
async fn a_capture_without_an_answer_stays_pending_and_the_worker_confirms_it_once() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let tx = paid_order(&app, &api, 2500, "AUTO", 3).await;
    let path = format!("/api/v1/transactions/{tx}/capture");
    fake.set(Behave::DoesThenHangs);
    let pending = api.post(&path, json!({})).await;
    assert_eq!((pending.status, pending.code()), (504, "acquirer.pending"), "{}", pending.body);
    assert_eq!(status_of(&app, tx), "AUTHORISED");
    // Claimed: another capture (or a cancel) is refused without calling the acquirer.
    fake.set(Behave::Normal);
    let again = api.post(&path, json!({})).await;
    assert_eq!((again.status, again.code()), (409, "transaction.operation_pending"), "{}", again.body);
    let cancel = api.post(&format!("/api/v1/transactions/{tx}/cancel"), json!({})).await;
    assert_eq!(cancel.code(), "transaction.operation_pending");
    assert_eq!(fake.count("capture") + fake.count("cancel"), 1);
    // Not before its time, then the worker asks the acquirer, which did it.
    assert_eq!(app.run_worker().await.operations_reconciled, 0);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.run_worker().await.operations_reconciled, 1);
    assert_eq!(status_of(&app, tx), "CAPTURED");
    assert_eq!(fake.count("capture"), 1, "asked about, never called again");
    assert_eq!(events(&app, tx).iter().filter(|e| *e == "captured").count(), 1);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.run_worker().await.operations_reconciled, 0, "closed once");
}

#[actix_web::test]
async fn an_operation_the_acquirer_cannot_account_for_goes_to_the_merchants_review() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let tx = paid_order(&app, &api, 2500, "AUTO", 3).await;
    fake.set(Behave::DoesThenHangs);
    *fake.lookups_answer.lock().unwrap() = false;
    api.post(&format!("/api/v1/transactions/{tx}/refunds"), json!({})).await; // not captured: refused at once
    let pending = api.post(&format!("/api/v1/transactions/{tx}/cancel"), json!({})).await;
    assert_eq!(pending.code(), "acquirer.pending");
    let mut reviewed = 0;
    for _ in 0..paylink::services::operations::MAX_LOOKUPS {
        app.clock.advance(Duration::minutes(2));
        reviewed += app.run_worker().await.operations_to_review;
    }
    assert_eq!(reviewed, 1);
    assert_eq!(operations(&app, tx).last().unwrap(), &("CANCEL".to_string(), "REVIEW".to_string()));
    assert_eq!(status_of(&app, tx), "AUTHORISED", "left as it was, claimed, for the merchant");
    let target = format!("transaction:{tx}");
    let audit: Vec<String> = app
        .db
        .read_blocking(move |conn| {
            audit_log::table
                .filter(audit_log::target.eq(target))
                .select(audit_log::action)
                .load(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert!(audit.contains(&"acquirer.review".to_string()), "{audit:?}");
    // The worker does not capture a transaction under review on its date either.
    app.clock.advance(Duration::days(4));
    assert_eq!(app.run_worker().await.transactions_captured, 0);
    assert_eq!(fake.count("capture"), 0);
}

#[actix_web::test]
async fn an_authorisation_without_an_answer_is_not_shown_as_paid_and_is_reviewed() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let order = api.post("/api/v1/payment-orders", json!({"channel": "URL", "amount": 900})).await;
    let url = order.expect(201)["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&app.base).unwrap().to_string();
    fake.set(Behave::DoesThenHangs);
    let answer = pay_on_page(&app, &path).await;
    assert_eq!(answer.status, 503, "{}", answer.excerpt());
    assert!(answer.body.contains("pas répondu"), "the order speaks French: {}", answer.excerpt());
    let id = order.body["id"].as_i64().unwrap();
    assert_eq!(api.get(&format!("/api/v1/payment-orders/{id}")).await.body["status"], "RUNNING");
    app.clock.advance(Duration::minutes(2));
    let report = app.run_worker().await;
    assert_eq!(report.operations_to_review, 1, "authorised at the acquirer, never recorded: {report:?}");
}

#[actix_web::test]
async fn parallel_partial_refunds_never_exceed_the_capture() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Arc::new(Api::new(&app, &m));
    let tx = paid_order(&app, &api, 1000, "AUTO", 0).await;
    assert_eq!(status_of(&app, tx), "CAPTURED");
    // The acquirer holds its answers: two refunds are under way at the acquirer while the
    // third is decided; it answers once two calls are in and one refund was answered.
    fake.set(Behave::Held);
    let path = format!("/api/v1/transactions/{tx}/refunds");
    let answered = std::sync::atomic::AtomicUsize::new(0);
    let refund = || async {
        let res = api.post(&path, json!({"amount": 400})).await;
        answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        res
    };
    let release = async {
        until(|| {
            fake.count("refund") >= 3
                || (fake.count("refund") >= 2 && answered.load(std::sync::atomic::Ordering::SeqCst) >= 1)
        })
        .await;
        fake.release();
    };
    let (a, b, c, ()) = tokio::join!(refund(), refund(), refund(), release);
    let mut statuses = vec![a.status, b.status, c.status];
    statuses.sort();
    assert_eq!(statuses, [201, 201, 400], "{} {} {}", a.body, b.body, c.body);
    let t = api.get(&format!("/api/v1/transactions/{tx}")).await;
    assert_eq!(t.expect(200)["refunded_amount"], 800);
    assert_eq!(fake.count("refund"), 2, "the third never reached the acquirer");
}

#[actix_web::test]
async fn two_workers_capture_each_due_transaction_once() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(paid_order(&app, &api, 700, "AUTO", 1).await);
    }
    app.clock.advance(Duration::days(2));
    let settings = Arc::new(app.settings.clone());
    let second = paylink::delivery::Worker::new(app.env(), settings).unwrap();
    let (a, b) = tokio::join!(app.worker.run_once(), second.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.transactions_captured + b.transactions_captured, 6, "{a:?} {b:?}");
    assert_eq!(fake.count("capture"), 6, "no capture sent twice");
    for id in ids {
        assert_eq!(status_of(&app, id), "CAPTURED");
        assert_eq!(events(&app, id).iter().filter(|e| *e == "captured").count(), 1);
    }
    second.shutdown().await;
}

#[actix_web::test]
async fn two_requests_with_one_idempotency_key_capture_once() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Arc::new(Api::new(&app, &m));
    let tx = paid_order(&app, &api, 1200, "AUTO", 2).await;
    // The acquirer holds the first capture's answer until the other request has its own.
    fake.set(Behave::Held);
    let path = format!("/api/v1/transactions/{tx}/capture");
    let capture = || async {
        let res = api.post_keyed(&path, json!({}), "capture-once").await;
        fake.release();
        res
    };
    let (a, b) = tokio::join!(capture(), capture());
    let mut seen = vec![(a.status, a.code().to_string()), (b.status, b.code().to_string())];
    seen.sort();
    assert_eq!(seen, [(200, String::new()), (409, "idempotency_in_progress".to_string())], "{} {}", a.body, b.body);
    assert_eq!(fake.count("capture"), 1);
    // Answered: the same request again is the same answer, replayed.
    let replay = api.post_keyed(&path, json!({}), "capture-once").await;
    assert_eq!(replay.expect(200)["status"], "CAPTURED");
    assert_eq!(fake.count("capture"), 1);
}

#[actix_web::test]
async fn a_stored_value_the_code_does_not_know_is_an_error_not_a_guess() {
    let fake = Fake::new();
    let app = app_with(&fake).await;
    let m = merchant(&app, "alice");
    let api = Api::new(&app, &m);
    let tx = paid_order(&app, &api, 500, "AUTO", 0).await;
    assert_eq!(api.get(&format!("/api/v1/transactions/{tx}")).await.expect(200)["three_ds"], "FRICTIONLESS");
    app.db
        .write_blocking(move |conn| {
            diesel::update(transactions::table.find(tx))
                .set(transactions::three_ds.eq("MAYBE"))
                .execute(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    let read = api.get(&format!("/api/v1/transactions/{tx}")).await;
    assert_eq!(read.status, 500, "not read as some default: {}", read.body);
}
