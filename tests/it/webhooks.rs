//! Signed webhook calls (issue 13) against a real local receiver: both signatures checked by
//! published libraries (Python's `standardwebhooks` and `stripe`, installed by scripts/test),
//! retries on the schedule with the clock moved, `Retry-After`, 410, ordering per order,
//! a restart with calls pending, the failure e-mail to a real SMTP server, SSRF refusals.

use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::Duration;
use serde_json::{Value, json};

use paylink::domain::api_key::Mode;
use paylink::domain::order::Order;
use paylink::services::merchants::CreatedMerchant;

use crate::acquirer::Api;
use crate::delivery::{SmtpServer, free_port};
use crate::helpers::TestApp;
use crate::pay::{Buyer, raw};

/// One call as the receiver got it.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A scripted answer: the status, and a `Retry-After` value.
type Answer = (u16, Option<&'static str>);

/// A merchant's server: records every call and answers with the next scripted status
/// (and `Retry-After`), then 200.
#[derive(Clone, Default)]
pub struct Receiver {
    pub calls: Arc<Mutex<Vec<Received>>>,
    pub script: Arc<Mutex<Vec<Answer>>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, r: web::Data<Receiver>) -> HttpResponse {
    let headers =
        req.headers().iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    r.calls.lock().unwrap().push(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    let next = {
        let mut script = r.script.lock().unwrap();
        if script.is_empty() { (200, None) } else { script.remove(0) }
    };
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(next.0).unwrap());
    if let Some(after) = next.1 {
        answer.insert_header(("Retry-After", after));
    }
    answer.body(format!("answer {}", next.0))
}

impl Receiver {
    /// Starts on a free loopback port; returns its `/hook` URL.
    pub fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        self.start_on(listener)
    }

    pub fn start_on(&self, listener: TcpListener) -> String {
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let data = web::Data::new(self.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).route("/hook", web::post().to(receive)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
        actix_web::rt::spawn(server);
        url
    }

    pub fn script(&self, answers: &[Answer]) {
        *self.script.lock().unwrap() = answers.to_vec();
    }

    pub fn count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    pub fn all(&self) -> Vec<Received> {
        self.calls.lock().unwrap().clone()
    }
}

/// An endpoint through the API; returns (id, secret).
pub async fn endpoint(api: &Api, url: &str, events: &[&str]) -> (i64, String) {
    let res = api.post("/api/v1/webhook-endpoints", json!({"url": url, "events": events})).await;
    assert_eq!(res.status, 201, "{}", res.body);
    (res.body["id"].as_i64().unwrap(), res.body["secret"].as_str().unwrap().to_string())
}

fn order(app: &TestApp, m: &CreatedMerchant, reference: &str) -> Order {
    crate::pay::order_with(
        app,
        m,
        paylink::domain::order_form::RawOrder { reference: reference.into(), ..raw("25,00", "en") },
    )
}

/// Verifies each call with the published libraries: Standard Webhooks (`webhook-*`
/// headers, with its 5-minute freshness check) and Stripe's (`Paylink-Signature`); prints
/// each verified event's type.
pub fn verify_with_python(calls: &[Received], secret: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("calls.json");
    let calls: Vec<Value> = calls
        .iter()
        .map(|c| {
            json!({
                "body": c.body,
                "webhook-id": c.header("webhook-id"),
                "webhook-timestamp": c.header("webhook-timestamp"),
                "webhook-signature": c.header("webhook-signature"),
                "paylink-signature": c.header("paylink-signature"),
            })
        })
        .collect();
    std::fs::write(&input, serde_json::to_string(&json!({"secret": secret, "calls": calls})).unwrap()).unwrap();
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook
import stripe
d = json.load(open(sys.argv[1]))
wh = Webhook(d["secret"])
for c in d["calls"]:
    headers = {k: c[k] for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    event = wh.verify(c["body"], headers)
    stripe.WebhookSignature.verify_header(c["body"], c["paylink-signature"], d["secret"], tolerance=300)
    assert event["id"] == c["webhook-id"]
    print(event["type"])
"#;
    let pylib = concat!(env!("CARGO_MANIFEST_DIR"), "/target/pylib");
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&input)
        .env("PYTHONPATH", pylib)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the published libraries refused the calls (scripts/test installs them in target/pylib): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

/// The test clock starts in June; Standard Webhooks' library checks the timestamp against
/// the real time, so the calls it verifies are made at the real time.
fn to_real_time(app: &TestApp) {
    app.clock.set(chrono::Utc::now());
}

#[actix_web::test]
async fn every_accepted_and_refused_payment_calls_the_endpoint_signed_twice_as_published_libraries_verify() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let receiver = Receiver::default();
    let url = receiver.start();
    let api = Api::new(&app, &m);
    let (id, secret) = endpoint(&api, &url, &["payment.accepted", "payment.refused"]).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    // The secret is shown once: not in a read.
    let read = api.get(&format!("/api/v1/webhook-endpoints/{id}")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["url"], url.as_str());
    assert_eq!(read.body["mode"], "TEST");
    assert!(read.body.get("secret").is_none(), "{}", read.body);

    to_real_time(&app);
    let paid = order(&app, &m, "CMD-1");
    let refused = order(&app, &m, "CMD-2");
    Buyer::open(&app, &paid).await.pay("4970100000000006", "123").await;
    Buyer::open(&app, &refused).await.pay("4970100000000048", "123").await;
    let report = app.run_worker().await;
    assert_eq!(report.webhooks_delivered, 2, "{report:?}");

    let calls = receiver.all();
    assert_eq!(verify_with_python(&calls, &secret), vec!["payment.accepted", "payment.refused"]);
    let first = calls[0].json();
    assert_eq!(first["data"]["order"]["reference"], "CMD-1");
    assert_eq!(first["data"]["order"]["status"], "PAID");
    assert_eq!(first["data"]["transaction"]["status"], "CAPTURED");
    assert_eq!(first["mode"], "TEST");
    assert_eq!(calls[0].header("Paylink-Event-Id"), first["id"].as_str().unwrap());
    assert_eq!(calls[0].header("webhook-id"), first["id"].as_str().unwrap());
    assert_eq!(calls[1].json()["data"]["transaction"]["status"], "REFUSED");
    for c in &calls {
        // Exactly `t=<unix>,v1=<64 hex>`, the timestamp the same as webhook-timestamp's.
        let header = c.header("Paylink-Signature");
        let (t, v1) = header.split_once(",v1=").unwrap_or_else(|| panic!("{header}"));
        assert_eq!(t, format!("t={}", c.header("webhook-timestamp")), "{header}");
        assert!(v1.len() == 64 && v1.chars().all(|ch| ch.is_ascii_hexdigit()), "{header}");
        assert!(!c.body.contains("4970100000000006") && !c.body.contains("4970100000000048"), "{}", c.body);
        assert_eq!(c.json()["data"]["transaction"]["card_masked"].as_str().unwrap().len(), 16);
    }
    // Nothing more to deliver.
    assert_eq!(app.run_worker().await.webhooks_delivered, 0);
    assert_eq!(receiver.count(), 2);
}

#[actix_web::test]
async fn a_server_down_for_an_hour_gets_the_event_later_with_the_same_id_retry_after_honoured() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let receiver = Receiver::default();
    // The test clock starts on 2026-06-15 at 10:00 UTC.
    receiver.script(&[(503, Some("3600")), (429, Some("Mon, 15 Jun 2026 13:00:00 GMT"))]);
    let url = receiver.start();
    let api = Api::new(&app, &m);
    endpoint(&api, &url, &["payment.accepted"]).await;
    let o = order(&app, &m, "CMD-9");
    crate::transactions::pay(&app, &m, &o);

    assert_eq!(app.run_worker().await.webhooks_failed, 1, "503, Retry-After: 3600");
    let failed = api.get("/api/v1/events?delivery=failed").await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.body["items"].as_array().unwrap().len(), 1, "{}", failed.body);
    assert_eq!(failed.body["items"][0]["delivery"], "PENDING");
    // The schedule's next try would be 5 s later: Retry-After asks an hour.
    app.clock.advance(Duration::minutes(30));
    app.run_worker().await;
    assert_eq!(receiver.count(), 1, "called again before Retry-After");
    app.clock.advance(Duration::minutes(31));
    assert_eq!(app.run_worker().await.webhooks_failed, 1, "then 429, Retry-After: 13:00 GMT");
    assert_eq!(receiver.count(), 2);
    // The schedule's second wait is about 5 minutes: the date asked for is later.
    app.clock.advance(Duration::minutes(6));
    app.run_worker().await;
    assert_eq!(receiver.count(), 2, "called before the Retry-After date");
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.run_worker().await.webhooks_delivered, 1);
    let calls = receiver.all();
    assert_eq!(calls.len(), 3);
    let ids: Vec<&str> = calls.iter().map(|c| c.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0] && i.starts_with("evt_")), "{ids:?}");
    assert!(calls.iter().all(|c| c.body == calls[0].body), "the body is the same on every try");
    let ts: Vec<i64> = calls.iter().map(|c| c.header("webhook-timestamp").parse().unwrap()).collect();
    assert!(ts[0] < ts[1] && ts[1] < ts[2], "each try is signed at its own time: {ts:?}");
    assert_eq!(api.get("/api/v1/events?delivery=failed").await.body["items"], json!([]));
    let all = api.get("/api/v1/events").await;
    assert_eq!(all.body["items"][0]["delivery"], "DELIVERED");
    assert_eq!(all.body["items"][0]["attempts"], 3);
    assert_eq!(api.get("/api/v1/events?delivery=maybe").await.status, 400);
}

#[actix_web::test]
async fn calls_are_ordered_per_order_and_one_order_does_not_hold_another() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let receiver = Receiver::default();
    receiver.script(&[(500, None)]);
    let url = receiver.start();
    endpoint(&Api::new(&app, &m), &url, &["payment.accepted", "payment.refused"]).await;
    let first = order(&app, &m, "CMD-A");
    crate::transactions::pay_with(&app, &m, &first, false, "01005");
    let second = order(&app, &m, "CMD-A2");
    // The buyer tries again on the same link: accepted, after the refusal.
    crate::transactions::pay(&app, &m, &first);
    crate::transactions::pay(&app, &m, &second);

    let report = app.run_worker().await;
    let types = |calls: &[Received]| -> Vec<String> {
        calls
            .iter()
            .map(|c| {
                let v = c.json();
                format!("{} {}", v["data"]["order"]["reference"].as_str().unwrap(), v["type"].as_str().unwrap())
            })
            .collect()
    };
    // The refusal failed: its order's acceptance waits; the other order's goes.
    assert_eq!(types(&receiver.all()), vec!["CMD-A payment.refused", "CMD-A2 payment.accepted"], "{report:?}");
    app.clock.advance(Duration::seconds(6));
    app.run_worker().await;
    assert_eq!(
        types(&receiver.all()),
        vec!["CMD-A payment.refused", "CMD-A2 payment.accepted", "CMD-A payment.refused", "CMD-A payment.accepted"]
    );
}

#[actix_web::test]
async fn a_410_disables_the_endpoint_and_the_last_failure_mails_the_rules_address() {
    let smtp_port = free_port();
    let mail_dir = tempfile::tempdir().unwrap();
    let smtp = SmtpServer::start(smtp_port, mail_dir.path());
    let app = TestApp::spawn_with(&["--smtp-url", &format!("smtp://127.0.0.1:{smtp_port}")]).await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let gone = Receiver::default();
    gone.script(&[(410, None)]);
    let gone_url = gone.start();
    let api = Api::new(&app, &m);
    let (gone_id, _) = endpoint(&api, &gone_url, &["payment.accepted"]).await;
    let o = order(&app, &m, "CMD-G");
    crate::transactions::pay(&app, &m, &o);
    let report = app.run_worker().await;
    assert_eq!(report.webhooks_abandoned, 1, "{report:?}");
    let read = api.get(&format!("/api/v1/webhook-endpoints/{gone_id}")).await;
    assert_eq!(read.body["enabled"], false, "{}", read.body);
    app.run_worker().await;
    let mails = smtp.messages();
    assert!(mails.iter().any(|m| m.contains("410") && m.contains(&gone_url)), "{mails:?}");
    // A disabled endpoint is called no more.
    let next = order(&app, &m, "CMD-G2");
    crate::transactions::pay(&app, &m, &next);
    app.run_worker().await;
    assert_eq!(gone.count(), 1);

    // An endpoint that never answers 2xx: ten calls over about three days, then the e-mail.
    let down = Receiver::default();
    down.script(&[(500, None); 10]);
    let down_url = down.start();
    let (down_id, _) = endpoint(&api, &down_url, &["payment.accepted"]).await;
    paylink_rule_failure_email(&app, down_id, "ops@acme.example");
    let o = order(&app, &m, "CMD-D");
    crate::transactions::pay(&app, &m, &o);
    let mut before = 0;
    for attempt in 1..=10 {
        app.run_worker().await;
        assert_eq!(down.count(), attempt);
        if attempt == 1 {
            // The shop's own e-mail on acceptance went with the first round.
            before = smtp.received();
        }
        if attempt < 10 {
            assert_eq!(smtp.received(), before, "no failure e-mail before the last try");
        }
        app.clock.advance(Duration::hours(27));
    }
    app.run_worker().await;
    assert_eq!(down.count(), 10, "given up after ten calls");
    let mails = smtp.messages();
    let failure = mails.iter().find(|m| m.contains(&down_url)).expect("the failure e-mail");
    assert!(failure.contains("ops@acme.example"), "{failure}");
}

/// Sets a rule's failure e-mail as the settings screen would.
fn paylink_rule_failure_email(app: &TestApp, rule: i64, email: &str) {
    use diesel::prelude::*;
    use paylink::db::schema::notification_rules as r;
    let email = email.to_string();
    app.db
        .write_blocking(move |conn| {
            diesel::update(r::table.find(rule)).set(r::failure_email.eq(Some(email))).execute(conn)?;
            Ok::<_, paylink::db::DbError>(())
        })
        .unwrap();
}

#[actix_web::test]
async fn targets_are_judged_link_local_never_private_unless_allowed_loopback_in_test_only() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let api = Api::new(&app, &m);
    let refused = |res: crate::acquirer::Res, code: &str| {
        assert_eq!(res.status, 400, "{}", res.body);
        assert_eq!(res.body["error"]["code"], code, "{}", res.body);
        assert_eq!(res.body["error"]["field"], "url", "{}", res.body);
    };
    let post =
        |url: &'static str| api.post("/api/v1/webhook-endpoints", json!({"url": url, "events": ["payment.accepted"]}));
    refused(post("http://169.254.169.254/latest/meta-data").await, "webhook.target_link_local");
    refused(post("http://[fe80::1]/hook").await, "webhook.target_link_local");
    refused(post("http://10.1.2.3/hook").await, "webhook.target_private");
    refused(post("ftp://shop.example/hook").await, "webhook.url_invalid");
    let bad_event = api
        .post("/api/v1/webhook-endpoints", json!({"url": "https://shop.example/", "events": ["payment.maybe"]}))
        .await;
    assert_eq!((bad_event.status, bad_event.body["error"]["field"].as_str()), (400, Some("events")));
    let production = Api::production(&app, &m);
    refused(
        production
            .post("/api/v1/webhook-endpoints", json!({"url": "http://127.0.0.1:9/hook", "events": ["order.cancelled"]}))
            .await,
        "webhook.target_loopback",
    );
    // A host name is judged when called: `localhost` resolves to loopback, refused in
    // PRODUCTION without a call.
    let receiver = Receiver::default();
    let url = receiver.start().replace("127.0.0.1", "localhost");
    endpoint(&production, &url, &["order.cancelled"]).await;
    let o = crate::transactions::order_in(&app, &m, Mode::Production, raw("10", "fr"));
    let cancelled = production.post(&format!("/api/v1/payment-orders/{}/cancel", o.id.0), json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    let report = app.run_worker().await;
    assert_eq!(report.webhooks_failed, 1, "{report:?}");
    assert_eq!(receiver.count(), 0, "no call reached loopback from PRODUCTION");
    let events = production.get("/api/v1/events?delivery=failed").await;
    assert_eq!(events.body["items"][0]["type"], "order.cancelled", "{}", events.body);
    let attempts = app
        .db
        .read_blocking(|c| {
            paylink::store::notifications::attempts_of(c, &[1, 2, 3]).map_err(paylink::db::DbError::from)
        })
        .unwrap();
    assert!(
        attempts.iter().any(|a| a.error.as_deref().unwrap_or("").contains("webhook.target_loopback")),
        "{attempts:?}"
    );
    // The operator's setting lets private ranges through, never link-local.
    let allowed = TestApp::spawn_with(&["--webhook-allow-private"]).await;
    let m2 = allowed.create_merchant("Beta", "Beta Shop", "bob", "4821");
    let api2 = Api::new(&allowed, &m2);
    endpoint(&api2, "http://10.1.2.3/hook", &["payment.accepted"]).await;
    refused(
        api2.post(
            "/api/v1/webhook-endpoints",
            json!({"url": "http://169.254.169.254/", "events": ["payment.accepted"]}),
        )
        .await,
        "webhook.target_link_local",
    );
}

#[actix_web::test]
async fn endpoints_are_the_shops_and_the_modes_own_and_deleted_ones_are_not_called() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let other = app.create_merchant("Other", "Other Shop", "olga", "4821");
    let receiver = Receiver::default();
    let url = receiver.start();
    let api = Api::new(&app, &m);
    let (id, _) = endpoint(&api, &url, &["payment.accepted"]).await;
    assert_eq!(Api::new(&app, &other).get(&format!("/api/v1/webhook-endpoints/{id}")).await.status, 404);
    assert_eq!(Api::new(&app, &other).delete(&format!("/api/v1/webhook-endpoints/{id}")).await.status, 404);
    assert_eq!(Api::production(&app, &m).get(&format!("/api/v1/webhook-endpoints/{id}")).await.status, 404);
    assert_eq!(api.get("/api/v1/webhook-endpoints").await.body["items"][0]["id"], id);
    assert_eq!(Api::new(&app, &other).get("/api/v1/webhook-endpoints").await.body["items"], json!([]));
    // Another shop's payment is not this endpoint's business.
    let theirs = order(&app, &other, "THEIRS");
    crate::transactions::pay(&app, &other, &theirs);
    app.run_worker().await;
    assert_eq!(receiver.count(), 0);
    assert_eq!(Api::new(&app, &other).get("/api/v1/events").await.body["items"][0]["type"], "payment.accepted");
    assert_eq!(api.get("/api/v1/events").await.body["items"], json!([]), "another shop's events are invisible");
    assert_eq!(api.delete(&format!("/api/v1/webhook-endpoints/{id}")).await.status, 204);
    assert_eq!(api.get(&format!("/api/v1/webhook-endpoints/{id}")).await.status, 404);
    let mine = order(&app, &m, "MINE");
    crate::transactions::pay(&app, &m, &mine);
    app.run_worker().await;
    assert_eq!(receiver.count(), 0, "a deleted endpoint is not called");
}

/// The webhook calls made so far, read from the database.
fn attempts(app: &TestApp) -> Vec<paylink::store::notifications::AttemptRow> {
    app.db
        .read_blocking(|c| {
            use diesel::prelude::*;
            use paylink::db::schema::webhook_attempts as a;
            let ids: Vec<i64> = a::table.select(a::event_id).load(c)?;
            paylink::store::notifications::attempts_of(c, &ids).map_err(paylink::db::DbError::from)
        })
        .unwrap()
}

#[actix_web::test]
async fn a_call_pending_when_the_server_stops_is_made_by_the_next_server() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    // The merchant's server is down: nothing listens on its port yet.
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let (_, secret) = endpoint(&Api::new(&app, &m), &url, &["payment.accepted"]).await;
    let o = order(&app, &m, "CMD-R");
    crate::transactions::pay(&app, &m, &o);

    // A real `paylink serve` on this database tries, fails, and is stopped (SIGTERM).
    let mut first = crate::cluster::Serve::start(&app, "first", free_port());
    let started = std::time::Instant::now();
    while attempts(&app).is_empty() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "no attempt: {}", first.log());
        tokio::task::yield_now().await;
    }
    first.stop().await;
    let tried = attempts(&app);
    assert_eq!(tried.len(), 1, "{tried:?}");
    assert!(tried[0].status_code.is_none() && tried[0].error.is_some(), "{tried:?}");

    // The merchant's server is back; a new paylink process delivers what was pending.
    let receiver = Receiver::default();
    receiver.start_on(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let second = crate::cluster::Serve::start(&app, "second", free_port());
    let started = std::time::Instant::now();
    while receiver.count() == 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "not delivered: {}", second.log());
        tokio::task::yield_now().await;
    }
    drop(second);
    let calls = receiver.all();
    assert_eq!(calls.len(), 1);
    assert_eq!(verify_with_python(&calls, &secret), vec!["payment.accepted"]);
    assert_eq!(calls[0].header("webhook-id"), tried_event_id(&app));
}

fn tried_event_id(app: &TestApp) -> String {
    app.db
        .read_blocking(|c| {
            use diesel::prelude::*;
            use paylink::db::schema::events as e;
            e::table.select(e::public_id).first::<String>(c).map_err(paylink::db::DbError::from)
        })
        .unwrap()
}
