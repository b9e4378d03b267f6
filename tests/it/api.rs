//! The REST API `/api/v1` (DESIGN §4): payment orders through HTTP Basic `shop_id:api_key`,
//! JSON errors, idempotent POSTs, and an OpenAPI document that matches what the server answers.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use diesel::prelude::*;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use paylink::db::DbError;
use paylink::db::schema::{audit_log, idempotency_keys, outbox, payment_orders};
use paylink::domain::clock::Clock;
use paylink::domain::ids::ShopId;
use paylink::services::merchants::CreatedMerchant;

use crate::helpers::TestApp;

/// Every API call a test made: method, path, status (for the OpenAPI check).
type CallLog = Arc<Mutex<Vec<(String, String, u16)>>>;

/// An API client for one shop and key (or none, or any credentials).
struct Api {
    base: String,
    http: reqwest::Client,
    credentials: Option<(String, String)>,
    log: CallLog,
}

#[derive(Debug)]
struct Res {
    status: u16,
    headers: HeaderMap,
    body: Value,
    text: String,
}

impl Res {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    fn field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    fn id(&self) -> i64 {
        self.body["id"].as_i64().unwrap_or_else(|| panic!("no id in {}: {}", self.status, self.text))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }

    /// Asserts a JSON error with this status, code and field.
    #[track_caller]
    fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.code(), code, "{}", self.text);
        assert_eq!(self.field(), field, "{}", self.text);
        assert!(
            self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty() && m != "??"),
            "an English message: {}",
            self.text
        );
        assert!(self.header("content-type").is_some_and(|c| c.starts_with("application/json")));
    }
}

impl Api {
    fn new(app: &TestApp, credentials: Option<(String, String)>, log: &CallLog) -> Api {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap();
        Api { base: app.base.clone(), http, credentials, log: log.clone() }
    }

    fn test_key(app: &TestApp, m: &CreatedMerchant, log: &CallLog) -> Api {
        Api::new(app, Some((m.shop_id.to_string(), m.test_api_key.clone())), log)
    }

    fn production_key(app: &TestApp, m: &CreatedMerchant, log: &CallLog) -> Api {
        Api::new(app, Some((m.shop_id.to_string(), m.production_api_key.clone())), log)
    }

    async fn send(&self, method: &str, path: &str, body: Option<&str>, headers: &[(&str, &str)]) -> Res {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some((user, key)) = &self.credentials {
            rb = rb.basic_auth(user, Some(key));
        }
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        if let Some(body) = body {
            rb = rb.header(header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let response = rb.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let bare = path.split('?').next().unwrap().to_string();
        self.log.lock().unwrap().push((method.as_str().to_lowercase(), bare, status));
        assert!(
            headers.get(header::SET_COOKIE).is_none(),
            "the API sets no cookie ({method} {path}): {:?}",
            headers.get_all(header::SET_COOKIE)
        );
        Res { status, headers, body, text }
    }

    async fn get(&self, path: &str) -> Res {
        self.send("GET", path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Res {
        self.send("POST", path, Some(&body.to_string()), &[]).await
    }

    async fn post_with_key(&self, path: &str, body: Value, key: &str) -> Res {
        self.send("POST", path, Some(&body.to_string()), &[("Idempotency-Key", key)]).await
    }

    async fn patch(&self, path: &str, body: Value) -> Res {
        self.send("PATCH", path, Some(&body.to_string()), &[]).await
    }

    async fn delete(&self, path: &str) -> Res {
        self.send("DELETE", path, None, &[]).await
    }

    async fn create(&self, body: Value) -> Res {
        self.post("/api/v1/payment-orders", body).await
    }
}

fn merchant(app: &TestApp, login: &str) -> CreatedMerchant {
    app.create_merchant(&format!("{login} SAS"), &format!("{login} shop"), login, "Code2468")
}

/// Rows in the tables an API write touches: orders, outbox, audit log, idempotency keys.
fn rows(app: &TestApp) -> [i64; 4] {
    app.db
        .read_blocking(|conn| {
            Ok::<_, DbError>([
                payment_orders::table.count().get_result(conn)?,
                outbox::table.count().get_result(conn)?,
                audit_log::table.count().get_result(conn)?,
                idempotency_keys::table.count().get_result(conn)?,
            ])
        })
        .unwrap()
}

fn api_audit_entries(app: &TestApp, shop: ShopId) -> Vec<(String, Option<String>)> {
    let actor = format!("api:{shop}");
    app.db
        .read_blocking(move |conn| {
            audit_log::table
                .filter(audit_log::actor.eq(actor))
                .order(audit_log::id)
                .select((audit_log::action, audit_log::ip))
                .load::<(String, Option<String>)>(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

fn outbox_payloads(app: &TestApp, order: i64) -> Vec<Value> {
    app.db
        .read_blocking(move |conn| {
            outbox::table
                .filter(outbox::order_id.eq(order))
                .order(outbox::id)
                .select(outbox::payload)
                .load::<String>(conn)
                .map_err(DbError::from)
        })
        .unwrap()
        .iter()
        .map(|p| serde_json::from_str(p).unwrap())
        .collect()
}

fn add_sms_account(app: &TestApp, shop: ShopId, credits: &str) {
    let raw = paylink::services::sms::RawAccount {
        login: "gateway-login".into(),
        password: "gateway-secret".into(),
        default_phone: String::new(),
        credits: credits.into(),
        ..Default::default()
    };
    let vault_key = app.settings.vault_key.expose().to_vec();
    app.db
        .write_blocking(|conn| {
            paylink::services::sms::save(
                conn,
                &app.clock,
                &paylink::store::audit::Actor::cli(),
                shop,
                &raw,
                &vault_key,
                paylink::services::sms::CreditsRight::Set,
            )
        })
        .unwrap()
        .unwrap();
}

#[actix_web::test]
async fn every_channel_is_created_read_back_and_audited() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "alice");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);

    // URL: the shop's defaults, the link and its QR code.
    let res = api.create(json!({"channel": "URL", "amount": 1500, "reference": "CMD-1"})).await;
    res.assert_status(201);
    let url_order = res.body.clone();
    assert_eq!(url_order["status"], "RUNNING");
    assert_eq!(url_order["delivery_status"], "MANUAL");
    assert_eq!(url_order["mode"], "TEST");
    assert_eq!(url_order["channel"], "URL");
    assert_eq!(url_order["amount"], 1500);
    assert_eq!(url_order["currency"], "EUR");
    assert_eq!(url_order["reference"], "CMD-1");
    assert_eq!(url_order["language"], "fr");
    assert_eq!(url_order["validation_mode"], "AUTO");
    assert_eq!(url_order["send_count"], 0);
    assert_eq!(url_order["transaction_id"], Value::Null);
    assert_eq!(url_order["expires_at"], "2026-07-15T21:59:59Z", "30 days, 23:59:59 in Paris");
    assert_eq!(url_order["created_at"], "2026-06-15T10:00:00Z");
    let link = url_order["url"].as_str().unwrap();
    assert!(link.starts_with(&format!("{}/t/", app.base)), "{link}");
    assert_eq!(url_order["qr_code_url"], format!("{link}/qr.svg"));

    // EMAIL to three recipients: three orders, numbered references, three e-mails.
    let res = api
        .create(json!({
            "channel": "EMAIL",
            "amount": 4200,
            "currency": "eur",
            "reference": "REF",
            "language": "en",
            "expires_at": "2026-07-01T12:00:00+02:00",
            "recipients": "a@example.com; b@example.com;c@example.com",
            "bcc": "boss@example.com",
            "buyer_email": "buyer@example.com",
        }))
        .await;
    res.assert_status(201);
    let items = res.body["items"].as_array().unwrap_or_else(|| panic!("several orders: {}", res.text));
    let references: Vec<_> = items.iter().map(|o| o["reference"].as_str().unwrap()).collect();
    assert_eq!(references, ["REF-001", "REF-002", "REF-003"]);
    let recipients: Vec<_> = items.iter().map(|o| o["recipient"].as_str().unwrap()).collect();
    assert_eq!(recipients, ["a@example.com", "b@example.com", "c@example.com"]);
    for o in items {
        assert_eq!(o["delivery_status"], "PENDING");
        assert_eq!(o["send_count"], 1);
        assert_eq!(o["expires_at"], "2026-07-01T21:59:59Z");
        assert_eq!(o["buyer_email"], "buyer@example.com");
        assert_eq!(o["language"], "en");
    }
    let first = items[0]["id"].as_i64().unwrap();
    let mail = &outbox_payloads(&app, first)[0];
    assert_eq!(mail["subject"], "Your payment order", "the shop's English default template");
    assert_eq!(mail["to"], json!(["a@example.com"]));
    assert_eq!(mail["bcc"], json!(["boss@example.com"]));
    assert!(mail["html"].as_str().unwrap().contains(items[0]["url"].as_str().unwrap()));
    let report = app.run_worker().await;
    assert_eq!(report.written, 3, "{report:?}");

    // SMS: refused without an SMS account, then sent.
    let sms = json!({"channel": "SMS", "amount": 990, "phone": "06 12 34 56 78"});
    let before = rows(&app);
    api.create(sms.clone()).await.assert_error(400, "sms.no_account", Some("phone"));
    assert_eq!(rows(&app), before, "nothing written");
    add_sms_account(&app, m.shop_id, "10");
    let res = api.create(sms).await;
    res.assert_status(201);
    assert_eq!(res.body["recipient"], "+33612345678");
    assert_eq!(res.body["delivery_status"], "PENDING");
    assert_eq!(res.body["send_count"], 1);

    // INVOICE: a reference is required, and one open invoice per reference.
    let invoice = json!({"channel": "INVOICE", "amount": 12000, "reference": "FAC-2026-001", "description": "June"});
    api.create(json!({"channel": "INVOICE", "amount": 12000})).await.assert_error(
        400,
        "field.required",
        Some("reference"),
    );
    let res = api.create(invoice.clone()).await;
    res.assert_status(201);
    assert_eq!(res.body["use_collection_form"], true);
    assert_eq!(res.body["description"], "June");
    let before = rows(&app);
    api.create(invoice).await.assert_error(400, "reference.invoice_taken", Some("reference"));
    assert_eq!(rows(&app), before, "nothing written");

    // Each reads back as created.
    let got = api.get(&format!("/api/v1/payment-orders/{}", url_order["id"])).await;
    got.assert_status(200);
    assert_eq!(got.body, url_order);
    for o in items {
        let got = api.get(&format!("/api/v1/payment-orders/{}", o["id"])).await;
        assert_eq!(got.body["reference"], o["reference"]);
    }

    // Every write is in the audit log, as the API with the caller's address.
    let entries = api_audit_entries(&app, m.shop_id);
    let created = entries.iter().filter(|(a, _)| a == "order.created").count();
    assert_eq!(created, 6, "{entries:?}");
    assert!(entries.iter().all(|(_, ip)| ip.as_deref() == Some("127.0.0.1")), "{entries:?}");
}

#[actix_web::test]
async fn lists_filter_and_page_with_a_cursor() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "bob");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let mut ids = Vec::new();
    for i in 1..=7 {
        let channel = if i % 2 == 0 { "INVOICE" } else { "URL" };
        let res = api.create(json!({"channel": channel, "amount": 100 * i, "reference": format!("LST-{i}")})).await;
        ids.push(res.assert_status(201).id());
        app.clock.advance(Duration::hours(1));
    }
    api.post(&format!("/api/v1/payment-orders/{}/cancel", ids[0]), json!({})).await.assert_status(200);

    // Newest first, three at a time.
    let mut seen = Vec::new();
    let mut path = "/api/v1/payment-orders?limit=3".to_string();
    let mut pages = 0;
    loop {
        let res = api.get(&path).await;
        res.assert_status(200);
        pages += 1;
        seen.extend(res.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()));
        match res.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/payment-orders?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let listed = |res: &Res| -> Vec<i64> {
        res.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect()
    };
    let res = api.get("/api/v1/payment-orders").await;
    assert_eq!(listed(&res).len(), 7, "default limit 50");
    assert_eq!(res.body["next_cursor"], Value::Null);
    let res = api.get("/api/v1/payment-orders?status=CANCELLED").await;
    assert_eq!(listed(&res), [ids[0]]);
    assert_eq!(res.body["items"][0]["status"], "CANCELLED");
    let res = api.get("/api/v1/payment-orders?channel=INVOICE&status=RUNNING").await;
    assert_eq!(listed(&res), [ids[5], ids[3], ids[1]]);
    let res = api.get("/api/v1/payment-orders?reference=LST-3").await;
    assert_eq!(listed(&res), [ids[2]]);
    let res = api.get("/api/v1/payment-orders?reference=LST-*&limit=2").await;
    assert_eq!(listed(&res), [ids[6], ids[5]]);
    // Orders 3 to 5 were created at 12:00, 13:00 and 14:00 UTC.
    let res = api.get("/api/v1/payment-orders?created_from=2026-06-15T12:00:00Z&created_to=2026-06-15T15:00:00Z").await;
    assert_eq!(listed(&res), [ids[4], ids[3], ids[2]]);
    let res = api.get("/api/v1/payment-orders?created_from=2026-06-16").await;
    assert!(listed(&res).is_empty(), "nothing tomorrow");
    let res = api.get("/api/v1/payment-orders?created_to=2026-06-15&status=&reference=").await;
    assert_eq!(listed(&res).len(), 7, "the whole day; empty filters are ignored");

    // An order past its end reads EXPIRED, in the list and its filter.
    app.clock.advance(Duration::days(31));
    let res = api.get("/api/v1/payment-orders?status=EXPIRED").await;
    assert_eq!(listed(&res).len(), 6);
    assert!(res.body["items"].as_array().unwrap().iter().all(|o| o["status"] == "EXPIRED"));
    assert!(listed(&api.get("/api/v1/payment-orders?status=RUNNING").await).is_empty());

    for (query, code, field) in [
        ("status=LOST", "field.choice.invalid", "status"),
        ("channel=FAX", "field.choice.invalid", "channel"),
        ("created_from=yesterday", "datetime.invalid", "created_from"),
        ("created_to=2026-13-01", "datetime.invalid", "created_to"),
        ("limit=0", "limit.invalid", "limit"),
        ("limit=201", "limit.invalid", "limit"),
        ("limit=ten", "limit.invalid", "limit"),
        ("cursor=zzz", "cursor.invalid", "cursor"),
        ("sort=amount", "unknown_field", "sort"),
    ] {
        api.get(&format!("/api/v1/payment-orders?{query}")).await.assert_error(400, code, Some(field));
    }
    api.get("/api/v1/payment-orders?limit=200").await.assert_status(200);
}

#[actix_web::test]
async fn running_orders_are_changed_cancelled_reactivated_and_resent() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "carol");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let id = api.create(json!({"channel": "URL", "amount": 1500, "currency": "JPY"})).await.assert_status(201).id();
    let path = format!("/api/v1/payment-orders/{id}");

    let res =
        api.patch(&path, json!({"amount": 2500, "reference": "NEW-REF", "expires_at": "2026-08-01T08:00:00Z"})).await;
    res.assert_status(200);
    assert_eq!(res.body["amount"], 2500);
    assert_eq!(res.body["currency"], "JPY", "the currency stays");
    assert_eq!(res.body["reference"], "NEW-REF");
    assert_eq!(res.body["expires_at"], "2026-08-01T21:59:59Z");
    let res = api.patch(&path, json!({"reference": null})).await;
    assert_eq!(res.assert_status(200).body["reference"], Value::Null, "null removes the reference");
    assert_eq!(res.body["amount"], 2500, "the rest stays");

    let before = rows(&app);
    for (body, code, field) in [
        (json!({"amount": 0}), "amount.out_of_range", Some("amount")),
        (json!({"amount": 25.5}), "amount.not_integer", Some("amount")),
        (json!({"amount": "2500"}), "amount.not_integer", Some("amount")),
        (json!({"expires_at": "2026-09-16T12:00:00Z"}), "expires_on.too_far", Some("expires_at")),
        (json!({"expires_at": "2026-06-14T12:00:00Z"}), "expires_on.past", Some("expires_at")),
        (json!({"expires_at": "next week"}), "expires_on.invalid", Some("expires_at")),
        (json!({"reference": "no spaces"}), "reference.invalid", Some("reference")),
        (json!({"currency": "USD"}), "unknown_field", Some("currency")),
        (json!({}), "patch.empty", None),
    ] {
        api.patch(&path, body).await.assert_error(400, code, field);
    }
    api.patch("/api/v1/payment-orders/999999", json!({"amount": 1})).await.assert_error(404, "not_found", None);
    assert_eq!(rows(&app), before, "nothing written");

    // Cancel, then nothing but reactivation.
    let res = api.post(&format!("{path}/cancel"), json!({})).await;
    assert_eq!(res.assert_status(200).body["status"], "CANCELLED");
    api.patch(&path, json!({"amount": 3000})).await.assert_error(409, "order.not_running", None);
    api.post(&format!("{path}/cancel"), json!({})).await.assert_error(409, "order.action_not_allowed", None);
    api.post(&format!("{path}/resend"), json!({})).await.assert_error(409, "order.action_not_allowed", None);
    let res = api.send("POST", &format!("{path}/reactivate"), None, &[]).await;
    assert_eq!(res.assert_status(200).body["status"], "RUNNING", "an empty body will do");
    api.post(&format!("{path}/reactivate"), json!({})).await.assert_error(409, "order.action_not_allowed", None);
    api.post(&format!("{path}/cancel"), json!({"reason": "x"})).await.assert_error(
        400,
        "unknown_field",
        Some("reason"),
    );
    api.post(&format!("{path}/resend"), json!({})).await.assert_error(409, "order.action_not_allowed", None);

    // Resending an e-mail order counts each sending.
    let email = api
        .create(json!({"channel": "EMAIL", "amount": 800, "recipients": "dan@example.com", "subject": "Hello", "message": "<p>Pay here</p>"}))
        .await;
    let email_id = email.assert_status(201).id();
    assert_eq!(email.body["send_count"], 1);
    let res = api.post(&format!("/api/v1/payment-orders/{email_id}/resend"), json!({})).await;
    assert_eq!(res.assert_status(200).body["send_count"], 2);
    assert_eq!(res.body["delivery_status"], "PENDING");
    let mails = outbox_payloads(&app, email_id);
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[1]["subject"], "Hello");
    assert_eq!(app.run_worker().await.written, 2);

    // Past its end the order is EXPIRED: no more changes.
    app.clock.advance(Duration::days(60));
    let res = api.get(&path).await;
    assert_eq!(res.body["status"], "EXPIRED");
    api.patch(&path, json!({"amount": 3000})).await.assert_error(409, "order.not_running", None);
    api.post(&format!("{path}/cancel"), json!({})).await.assert_error(409, "order.action_not_allowed", None);

    let actions: Vec<_> = api_audit_entries(&app, m.shop_id).into_iter().map(|(a, _)| a).collect();
    assert_eq!(
        actions,
        [
            "order.created",
            "order.updated",
            "order.updated",
            "order.cancelled",
            "order.reactivated",
            "order.created",
            "order.resent"
        ]
    );
}

#[actix_web::test]
async fn bad_orders_are_refused_by_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "dave");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let before = rows(&app);
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (json!({"channel": "URL", "amount": 15.5}), "amount.not_integer", Some("amount")),
        (json!({"channel": "URL", "amount": 1500.0}), "amount.not_integer", Some("amount")),
        (json!({"channel": "URL", "amount": "15.00"}), "amount.not_integer", Some("amount")),
        (json!({"channel": "URL", "amount": 1e20}), "amount.not_integer", Some("amount")),
        (json!({"channel": "URL", "amount": 0}), "amount.out_of_range", Some("amount")),
        (json!({"channel": "URL", "amount": -5}), "amount.out_of_range", Some("amount")),
        (json!({"channel": "URL", "amount": 100_000_000_000i64}), "amount.out_of_range", Some("amount")),
        (json!({"channel": "URL"}), "field.required", Some("amount")),
        (json!({"channel": "URL", "amount": 100, "currency": "EURO"}), "currency.invalid", Some("currency")),
        (
            json!({"channel": "URL", "amount": 100, "expires_at": "2026-07-01"}),
            "expires_on.invalid",
            Some("expires_at"),
        ),
        (json!({"channel": "URL", "amount": 100, "expires_at": ""}), "expires_on.invalid", Some("expires_at")),
        (
            json!({"channel": "URL", "amount": 100, "expires_at": "2026-06-14T23:00:00+02:00"}),
            "expires_on.past",
            Some("expires_at"),
        ),
        (
            json!({"channel": "URL", "amount": 100, "expires_at": "2026-09-16T00:30:00+02:00"}),
            "expires_on.too_far",
            Some("expires_at"),
        ),
        (json!({"channel": "URL", "amount": 100, "colour": "red"}), "unknown_field", Some("colour")),
        (json!({"channel": "URL", "amount": 100, "expires_on": "2026-07-01"}), "unknown_field", Some("expires_on")),
        (json!({"amount": 100}), "field.required", Some("channel")),
        (json!({"channel": "FAX", "amount": 100}), "field.choice.invalid", Some("channel")),
        (
            json!({"channel": "URL", "amount": 100, "capture_delay_days": "2"}),
            "invalid_type",
            Some("capture_delay_days"),
        ),
        (
            json!({"channel": "URL", "amount": 100, "capture_delay_days": 400}),
            "shop.capture_delay.invalid",
            Some("capture_delay_days"),
        ),
        (
            json!({"channel": "URL", "amount": 100, "validation_mode": "LATER"}),
            "field.choice.invalid",
            Some("validation_mode"),
        ),
        (
            json!({"channel": "URL", "amount": 100, "alias_mode": "PROPOSE", "use_collection_form": true}),
            "order.alias_with_collection_form",
            Some("alias_mode"),
        ),
        (json!({"channel": "URL", "amount": 100, "reference": "A B"}), "reference.invalid", Some("reference")),
        (
            json!({"channel": "EMAIL", "amount": 100, "recipients": "a@example.com;nope"}),
            "recipients.invalid",
            Some("recipients"),
        ),
        (json!({"channel": "EMAIL", "amount": 100}), "field.required", Some("recipients")),
        (
            json!({"channel": "EMAIL", "amount": 100, "recipients": "a@example.com", "bcc": "x"}),
            "recipients.invalid",
            Some("bcc"),
        ),
        (json!({"channel": "SMS", "amount": 100, "phone": "12"}), "phone.invalid", Some("phone")),
        (json!(["URL", 100]), "invalid_json", None),
    ];
    for (body, code, field) in cases {
        let res = api.create(body.clone()).await;
        assert_eq!(res.status, 400, "{body}: {}", res.text);
        assert_eq!((res.code(), res.field()), (code, field), "{body}: {}", res.text);
        res.assert_error(400, code, field);
    }
    // Several refusals at once are all listed.
    let res = api.create(json!({"channel": "URL", "amount": 0, "currency": "EURO", "language": "xx"})).await;
    let details: Vec<_> = res.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(details, ["currency", "language"], "{}", res.text);
    for raw in ["{\"channel\": \"URL\", \"amount\": 1", "", "amount=15"] {
        let res = api.send("POST", "/api/v1/payment-orders", Some(raw), &[]).await;
        res.assert_error(400, "invalid_json", None);
    }
    // With an idempotency key too: the key is given back, nothing stays.
    let res = api.post_with_key("/api/v1/payment-orders", json!({"channel": "URL", "amount": 1.5}), "bad-1").await;
    res.assert_error(400, "amount.not_integer", Some("amount"));
    assert_eq!(rows(&app), before, "no order, no e-mail, no audit entry, no idempotency key");
    let res = api.post_with_key("/api/v1/payment-orders", json!({"channel": "URL", "amount": 150}), "bad-1").await;
    res.assert_status(201);
}

#[actix_web::test]
async fn the_key_decides_the_mode_and_other_shops_see_nothing() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "erin");
    let other = merchant(&app, "frank");
    let log = CallLog::default();
    let test = Api::test_key(&app, &m, &log);
    let production = Api::production_key(&app, &m, &log);
    let test_id = test.create(json!({"channel": "URL", "amount": 100})).await.assert_status(201).id();
    let production_order = production.create(json!({"channel": "URL", "amount": 200})).await;
    assert_eq!(production_order.assert_status(201).body["mode"], "PRODUCTION");
    let production_id = production_order.id();
    let ids = |res: Res| -> Vec<i64> {
        res.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(ids(test.get("/api/v1/payment-orders").await), [test_id]);
    assert_eq!(ids(production.get("/api/v1/payment-orders").await), [production_id]);
    test.get(&format!("/api/v1/payment-orders/{production_id}")).await.assert_error(404, "not_found", None);
    production.get(&format!("/api/v1/payment-orders/{test_id}")).await.assert_error(404, "not_found", None);
    production.post(&format!("/api/v1/payment-orders/{test_id}/cancel"), json!({})).await.assert_error(
        404,
        "not_found",
        None,
    );

    // Another merchant's keys: every route answers 404 for this shop's orders.
    for intruder in [Api::test_key(&app, &other, &log), Api::production_key(&app, &other, &log)] {
        for id in [test_id, production_id] {
            let path = format!("/api/v1/payment-orders/{id}");
            intruder.get(&path).await.assert_error(404, "not_found", None);
            intruder.patch(&path, json!({"amount": 1})).await.assert_error(404, "not_found", None);
            for action in ["cancel", "reactivate", "resend"] {
                intruder.post(&format!("{path}/{action}"), json!({})).await.assert_error(404, "not_found", None);
            }
        }
        assert!(ids(intruder.get("/api/v1/payment-orders").await).is_empty());
    }
    let res = test.get(&format!("/api/v1/payment-orders/{test_id}")).await;
    assert_eq!(res.body["status"], "RUNNING", "untouched");
    assert_eq!(res.body["amount"], 100);

    // Missing or wrong credentials: 401 with a challenge, everywhere.
    let shop = m.shop_id.to_string();
    let refused = [
        Api::new(&app, None, &log),
        Api::new(&app, Some((shop.clone(), "pl_test_wrong".into())), &log),
        Api::new(&app, Some((shop.clone(), other.test_api_key.clone())), &log),
        Api::new(&app, Some((other.shop_id.to_string(), m.production_api_key.clone())), &log),
        Api::new(&app, Some(("999999".into(), m.test_api_key.clone())), &log),
        Api::new(&app, Some(("shop".into(), m.test_api_key.clone())), &log),
        Api::new(&app, Some((shop.clone(), String::new())), &log),
    ];
    for api in &refused {
        let path = format!("/api/v1/payment-orders/{test_id}");
        for res in [
            api.get("/api/v1/payment-orders").await,
            api.create(json!({"channel": "URL", "amount": 100})).await,
            api.get(&path).await,
            api.patch(&path, json!({"amount": 1})).await,
            api.post(&format!("{path}/cancel"), json!({})).await,
            api.get("/api/v1/payment-orders/not-a-number").await,
        ] {
            res.assert_error(401, "unauthorized", None);
            assert_eq!(res.header("www-authenticate"), Some(r#"Basic realm="paylink""#));
        }
    }
    let garbled =
        Api::new(&app, None, &log).send("GET", "/api/v1/payment-orders", None, &[("Authorization", "Basic %%%")]).await;
    garbled.assert_error(401, "unauthorized", None);
    let bearer = Api::new(&app, None, &log);
    let res = bearer
        .send("GET", "/api/v1/payment-orders", None, &[("Authorization", &format!("Bearer {}", m.test_api_key))])
        .await;
    res.assert_error(401, "unauthorized", None);
    assert_eq!(ids(test.get("/api/v1/payment-orders").await), [test_id], "nothing created by refused calls");
}

#[actix_web::test]
async fn errors_are_json_everywhere_and_no_cookie_is_set() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "gina");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    // `Api::send` itself asserts that no response sets a cookie.
    api.get("/api/v1/nothing-here").await.assert_error(404, "not_found", None);
    api.get("/api/v1/payment-orders/abc").await.assert_error(404, "not_found", None);
    api.get("/api/v1/payment-orders/-3").await.assert_error(404, "not_found", None);
    let res = api.send("DELETE", "/api/v1/payment-orders/1", None, &[]).await;
    res.assert_error(405, "method_not_allowed", None);
    api.send("PUT", "/api/v1/payment-orders", Some("{}"), &[]).await.assert_error(405, "method_not_allowed", None);
    let big =
        format!("{{\"channel\": \"URL\", \"amount\": 100, \"description\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    api.send("POST", "/api/v1/payment-orders", Some(&big), &[]).await.assert_error(413, "payload_too_large", None);
    // A browser that carries a session cookie gets none back either.
    let res = api
        .send("GET", "/api/v1/payment-orders", None, &[("Cookie", "paylink_session=forged; paylink_csrf=abc")])
        .await;
    res.assert_status(200);
    let res = api.get("/api/v1/openapi.json").await;
    res.assert_status(200);
    assert!(res.header("content-type").unwrap().starts_with("application/json"));
    assert!(res.header("content-security-policy").is_some(), "security headers apply");
}

#[actix_web::test]
async fn posts_are_idempotent_per_key() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "hugo");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let body = json!({"channel": "EMAIL", "amount": 2000, "recipients": "x@example.com;y@example.com", "subject": "S", "message": "M"});

    let first = api.post_with_key("/api/v1/payment-orders", body.clone(), "order-42").await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let after_first = rows(&app);
    let again = api.post_with_key("/api/v1/payment-orders", body.clone(), "order-42").await;
    again.assert_status(201);
    assert_eq!(again.text, first.text, "the first response, byte for byte");
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(rows(&app), after_first, "no second order, e-mail or audit entry");

    let other_body = json!({"channel": "URL", "amount": 2001});
    api.post_with_key("/api/v1/payment-orders", other_body.clone(), "order-42").await.assert_error(
        422,
        "idempotency_key_reused",
        None,
    );
    // The same key in the other mode is another request too.
    Api::production_key(&app, &m, &log)
        .post_with_key("/api/v1/payment-orders", body.clone(), "order-42")
        .await
        .assert_error(422, "idempotency_key_reused", None);
    // Another shop has its own keys.
    let other = merchant(&app, "ines");
    Api::test_key(&app, &other, &log)
        .post_with_key("/api/v1/payment-orders", body.clone(), "order-42")
        .await
        .assert_status(201);

    // A request still running on a live instance (this server, which beats) holds its key...
    let shop = m.shop_id;
    let now = app.clock.now_naive();
    let live = app.instance.clone();
    app.db
        .write_blocking(|conn| {
            paylink::store::idempotency::claim(conn, shop, "order-43", "hash-of-a-running-request", &live, now)
                .map_err(DbError::from)
        })
        .unwrap();
    let before = rows(&app);
    api.post_with_key("/api/v1/payment-orders", other_body.clone(), "order-43").await.assert_error(
        409,
        "idempotency_in_progress",
        None,
    );
    assert_eq!(rows(&app), before);
    // ... but the claim of an instance that stopped beating (killed) is taken over at once, not
    // after minutes.
    app.db
        .write_blocking(|conn| {
            paylink::store::idempotency::claim(conn, shop, "order-44", "hash-of-a-dead-request", "crashed", now)?;
            paylink::store::sessions::beat(conn, "instance:crashed", now - Duration::seconds(16)).map_err(DbError::from)
        })
        .unwrap();
    api.post_with_key("/api/v1/payment-orders", other_body.clone(), "order-44").await.assert_status(201);
    // A claim of a live instance stands only while it beats.
    app.db
        .write_blocking(|conn| {
            paylink::store::idempotency::claim(conn, shop, "order-45", "hash-of-a-slow-request", "slow", now)?;
            paylink::store::sessions::beat(conn, "instance:slow", now - Duration::seconds(10)).map_err(DbError::from)
        })
        .unwrap();
    api.post_with_key("/api/v1/payment-orders", other_body.clone(), "order-45").await.assert_status(409);

    // Actions too; a refusal is replayed as it was.
    let id = first.body["items"][0]["id"].as_i64().unwrap();
    let cancel = format!("/api/v1/payment-orders/{id}/cancel");
    let res = api.post_with_key(&cancel, json!({}), "cancel-1").await;
    assert_eq!(res.assert_status(200).body["status"], "CANCELLED");
    let replay = api.post_with_key(&cancel, json!({}), "cancel-1").await;
    assert_eq!((replay.status, replay.text.as_str()), (200, res.text.as_str()));
    let refused = api.post_with_key(&cancel, json!({}), "cancel-2").await;
    refused.assert_error(409, "order.action_not_allowed", None);
    let replay = api.post_with_key(&cancel, json!({}), "cancel-2").await;
    assert_eq!((replay.status, replay.text.as_str()), (409, refused.text.as_str()));
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    api.post_with_key(&format!("/api/v1/payment-orders/{id}/reactivate"), json!({}), "cancel-1").await.assert_error(
        422,
        "idempotency_key_reused",
        None,
    );

    // Keys are short printable ASCII.
    let res = api.post_with_key("/api/v1/payment-orders", other_body.clone(), &"k".repeat(256)).await;
    res.assert_error(400, "idempotency_key_invalid", Some("Idempotency-Key"));
    api.post_with_key("/api/v1/payment-orders", other_body.clone(), &"k".repeat(255)).await.assert_status(201);

    // Kept 24 hours: then the key is new again.
    app.clock.advance(Duration::hours(25));
    let late = api.post_with_key("/api/v1/payment-orders", body.clone(), "order-42").await;
    late.assert_status(201);
    assert_ne!(late.body["items"][0]["id"], first.body["items"][0]["id"]);
}

/// A documented path (`/api/v1/payment-orders/{id}`) matches a concrete one.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[actix_web::test]
async fn the_openapi_document_matches_what_the_server_answers() {
    let app = TestApp::spawn().await;
    let m = merchant(&app, "jane");
    let stranger = merchant(&app, "karl");
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let anonymous = Api::new(&app, None, &log);
    let intruder = Api::test_key(&app, &stranger, &log);

    let doc = anonymous.get("/api/v1/openapi.json").await;
    doc.assert_status(200);
    let doc = doc.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(doc["components"]["securitySchemes"]["basic"]["scheme"], "basic");
    // The bounds the server enforces are in the document.
    for list in ["/api/v1/payment-orders", "/api/v1/transactions"] {
        let params = doc["paths"][list]["get"]["parameters"].as_array().expect("list parameters");
        let limit = params.iter().find(|p| p["name"] == "limit").expect("a limit parameter");
        assert_eq!((&limit["schema"]["minimum"], &limit["schema"]["maximum"]), (&json!(1), &json!(200)), "{list}");
    }
    let create = doc["paths"]["/api/v1/payment-orders"]["post"]["parameters"].as_array().expect("create parameters");
    let key = create.iter().find(|p| p["name"] == "Idempotency-Key").expect("an Idempotency-Key parameter");
    assert_eq!(key["schema"]["pattern"], "^[\\x20-\\x7E]{1,255}$");
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["PaymentOrderChanges"]["minProperties"],
        1,
        "an empty PATCH is refused: {}",
        schemas.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>().join(",")).unwrap_or_default()
    );

    // Every route, with the outcomes a client meets.
    let single = api.create(json!({"channel": "URL", "amount": 100})).await;
    let id = single.assert_status(201).id();
    let several = api
        .create(json!({"channel": "EMAIL", "amount": 100, "recipients": "a@example.com;b@example.com", "subject": "s", "message": "m"}))
        .await;
    several.assert_status(201);
    api.create(json!({"channel": "URL", "amount": 1.5})).await.assert_status(400);
    anonymous.create(json!({"channel": "URL", "amount": 100})).await.assert_status(401);
    api.post_with_key("/api/v1/payment-orders", json!({"channel": "URL", "amount": 7}), "k").await.assert_status(201);
    api.post_with_key("/api/v1/payment-orders", json!({"channel": "URL", "amount": 8}), "k").await.assert_status(422);
    let now = app.clock.now_naive();
    let shop = m.shop_id;
    app.db
        .write_blocking(|conn| {
            paylink::store::idempotency::claim(conn, shop, "busy", "h", &app.instance, now).map_err(DbError::from)
        })
        .unwrap();
    api.post_with_key("/api/v1/payment-orders", json!({"channel": "URL", "amount": 9}), "busy")
        .await
        .assert_status(409);

    let list = api.get("/api/v1/payment-orders?limit=1").await;
    list.assert_status(200);
    api.get("/api/v1/payment-orders?limit=x").await.assert_status(400);
    anonymous.get("/api/v1/payment-orders").await.assert_status(401);

    let path = format!("/api/v1/payment-orders/{id}");
    let got = api.get(&path).await;
    got.assert_status(200);
    anonymous.get(&path).await.assert_status(401);
    intruder.get(&path).await.assert_status(404);

    api.patch(&path, json!({"amount": 300})).await.assert_status(200);
    api.patch(&path, json!({"amount": 0})).await.assert_status(400);
    anonymous.patch(&path, json!({"amount": 300})).await.assert_status(401);
    intruder.patch(&path, json!({"amount": 300})).await.assert_status(404);

    for action in ["cancel", "reactivate", "resend"] {
        let p = format!("{path}/{action}");
        let res = api.post(&p, json!({})).await;
        assert!(res.status == 200 || res.status == 409, "{action}: {}", res.text);
        api.post(&p, json!({"x": 1})).await.assert_status(400);
        anonymous.post(&p, json!({})).await.assert_status(401);
        intruder.post(&p, json!({})).await.assert_status(404);
        api.post_with_key(&p, json!({}), &format!("{action}-a")).await;
        api.post_with_key(&p, json!({"y": 2}), &format!("{action}-a")).await.assert_status(422);
    }
    api.patch(&path, json!({"amount": 400})).await; // 200 or 409, as the order stands
    api.post(&format!("{path}/cancel"), json!({})).await;
    api.patch(&path, json!({"amount": 500})).await.assert_status(409);

    // Webhook endpoints and events.
    let hooks = "/api/v1/webhook-endpoints";
    let endpoint = json!({"url": "https://shop.example/hooks", "events": ["payment.accepted"]});
    let created = api.post(hooks, endpoint.clone()).await;
    created.assert_status(201);
    let hook = format!("{hooks}/{}", serde_json::from_str::<Value>(&created.text).unwrap()["id"]);
    api.post(hooks, json!({"url": "http://169.254.169.254/", "events": ["payment.accepted"]})).await.assert_status(400);
    anonymous.post(hooks, endpoint.clone()).await.assert_status(401);
    api.post_with_key(hooks, endpoint.clone(), "hook-a").await.assert_status(201);
    api.post_with_key(hooks, json!({"url": "https://b.example/", "events": ["order.expired"]}), "hook-a")
        .await
        .assert_status(422);
    api.get(hooks).await.assert_status(200);
    anonymous.get(hooks).await.assert_status(401);
    api.get(&hook).await.assert_status(200);
    anonymous.get(&hook).await.assert_status(401);
    intruder.get(&hook).await.assert_status(404);
    intruder.delete(&hook).await.assert_status(404);
    anonymous.delete(&hook).await.assert_status(401);
    api.delete(&hook).await.assert_status(204);
    api.delete(&hook).await.assert_status(404);
    api.get("/api/v1/events?delivery=failed").await.assert_status(200);
    api.get("/api/v1/events?delivery=all").await.assert_status(400);
    anonymous.get("/api/v1/events").await.assert_status(401);

    // Each documented operation was called, and answered only documented statuses.
    let calls = log.lock().unwrap().clone();
    let mut operations = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        // The transaction operations are checked by transactions.rs.
        if template.starts_with("/api/v1/transactions") {
            continue;
        }
        // The import operations are checked by imports.rs.
        if template.contains("import") {
            continue;
        }
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let documented: Vec<u16> =
                operation["responses"].as_object().unwrap().keys().map(|s| s.parse().unwrap()).collect();
            let answered: Vec<u16> =
                calls.iter().filter(|(m, p, _)| m == method && matches(template, p)).map(|(_, _, s)| *s).collect();
            assert!(!answered.is_empty(), "{method} {template} was never called");
            for status in answered {
                assert!(
                    documented.contains(&status),
                    "{method} {template} answered {status}, documented {documented:?}"
                );
            }
        }
    }
    assert_eq!(operations, 13, "seven order operations, five of webhooks and the document itself");
    for (method, path, status) in &calls {
        let documented =
            doc["paths"].as_object().unwrap().iter().any(|(t, item)| matches(t, path) && item.get(method).is_some());
        assert!(documented, "{method} {path} ({status}) is not in the document");
    }

    // The objects have exactly the documented properties.
    let schemas = &doc["components"]["schemas"];
    // `schedule` (and its status, its balance order) is there only once the buyer chose
    // instalments (tests/it/schedules.rs).
    let mut documented = keys(&schemas["PaymentOrder"]["properties"]);
    documented.retain(|k| !["schedule", "schedule_status", "balance_order_id"].contains(&k.as_str()));
    assert_eq!(keys(&got.body), documented, "the order object");
    assert!(schemas["Instalment"]["properties"]["due_on"].is_object(), "the schedule is documented");
    let required = |schema: &str| -> Vec<String> {
        let mut r: Vec<String> =
            schemas[schema]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
        r.sort();
        r
    };
    assert_eq!(required("PaymentOrder"), keys(&got.body), "every key is always there (null when empty)");
    assert_eq!(required("PaymentOrderList"), keys(&list.body));
    assert_eq!(keys(&list.body), keys(&schemas["PaymentOrderList"]["properties"]), "the list");
    assert_eq!(keys(&several.body), keys(&schemas["CreatedPaymentOrders"]["properties"]), "several created");
    let error = api.get("/api/v1/payment-orders/0").await;
    assert_eq!(keys(&error.body), keys(&schemas["Error"]["properties"]), "the error envelope");
    assert_eq!(keys(&error.body["error"]), keys(&schemas["ErrorDetail"]["properties"]), "the error");
    assert_eq!(required("ErrorDetail"), keys(&error.body["error"]));
    let request: Vec<String> = keys(&schemas["NewPaymentOrder"]["properties"]);
    for field in [
        "channel",
        "reference",
        "amount",
        "currency",
        "expires_at",
        "validation_mode",
        "capture_delay_days",
        "language",
        "alias_mode",
        "three_ds",
        "buyer_email",
        "use_collection_form",
        "description",
        "recipients",
        "subject",
        "message",
        "phone",
    ] {
        assert!(request.contains(&field.to_string()), "DESIGN §4 names {field}");
    }
    assert_eq!(schemas["PaymentOrder"]["properties"]["amount"]["type"], "integer");
}
