//! Importing invoice orders from a CSV file (issue 12, DESIGN §4), through the API and the
//! back office: a file with one fault creates nothing and names the fault's line and column;
//! a valid file creates every order, payable on the collection form; duplicates inside the
//! file and against the shop's invoices are refused; a large file is imported by the worker;
//! the import is audited with the file's SHA-256.

use diesel::prelude::*;
use paylink::db::DbError;
use paylink::db::schema::{audit_log, payment_orders as po};
use paylink::domain::order::Channel;
use paylink::domain::order_form::RawOrder;
use paylink::services::merchants::CreatedMerchant;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::acquirer::Api;
use crate::delivery::create_orders;
use crate::helpers::{STRONG, TestApp};
use crate::pay::raw;

const HEADER: &str = "reference;amount;currency;description;expires_on\n";

/// `n` valid lines `F-00001;12,34;EUR;Invoice 1;` (no date: the shop's validity).
fn lines(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("F-{i:05};{},{:02};EUR;Invoice {i};", 10 + i % 90, i % 100)).collect()
}

fn file(lines: &[String]) -> String {
    format!("{HEADER}{}\n", lines.join("\n"))
}

/// The shop's invoice orders, `(reference, amount, description, status)` by reference.
fn invoices(app: &TestApp, m: &CreatedMerchant) -> Vec<(String, i64, Option<String>, String)> {
    let shop = m.shop_id.0;
    app.db
        .read_blocking(move |conn| {
            let rows: Vec<(Option<String>, i64, Option<String>, String)> = po::table
                .filter(po::shop_id.eq(shop).and(po::channel.eq("INVOICE")))
                .order(po::reference)
                .select((po::reference, po::amount, po::description, po::status))
                .load(conn)?;
            Ok::<_, DbError>(rows.into_iter().map(|(r, a, d, s)| (r.unwrap_or_default(), a, d, s)).collect())
        })
        .unwrap()
}

fn errors(body: &Value) -> Vec<(u64, String, String)> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap_or("??").contains("??"), "a message for {e}");
            (e["line"].as_u64().unwrap(), e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into())
        })
        .collect()
}

#[actix_web::test]
async fn one_bad_line_among_a_thousand_creates_nothing_and_is_named_then_the_corrected_file_creates_them_all() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let api = Api::new(&app, &m);
    let mut rows = lines(1000);
    rows[736] = "F-00737;12,3x;EUR;Invoice 737;".into();
    let res = api.post_csv("/api/v1/payment-orders/import", &file(&rows), None).await;
    let body = res.expect(202);
    assert_eq!(
        (body["status"].as_str(), body["total"].as_u64(), body["created"].as_u64()),
        (Some("FAILED"), Some(1000), Some(0))
    );
    // Line 1 is the header: the 737th invoice is on line 738.
    assert_eq!(errors(body), [(738, "amount".to_string(), "amount.invalid".to_string())]);
    assert!(invoices(&app, &m).is_empty(), "nothing created");
    let read = api.get(&format!("/api/v1/imports/{}", body["id"])).await;
    assert_eq!(read.expect(200)["errors"][0]["line"], 738);

    rows[736] = "F-00737;12,37;EUR;Invoice 737;".into();
    let text = file(&rows);
    let res = api.post_csv("/api/v1/payment-orders/import", &text, None).await;
    let body = res.expect(202);
    assert_eq!((body["status"].as_str(), body["created"].as_u64()), (Some("DONE"), Some(1000)), "{body}");
    assert_eq!(body["errors"], serde_json::json!([]));
    let sha = hex::encode(Sha256::digest(text.as_bytes()));
    assert_eq!(body["sha256"].as_str(), Some(sha.as_str()));
    let created = invoices(&app, &m);
    assert_eq!(created.len(), 1000);
    assert_eq!(created[736], ("F-00737".into(), 1237, Some("Invoice 737".into()), "RUNNING".into()));
    assert_eq!(created[0].0, "F-00001");
    // Each is an order of the API like any other, and the collection form finds it.
    let list = api.get("/api/v1/payment-orders?channel=INVOICE&limit=1").await;
    assert_eq!(list.expect(200)["items"][0]["channel"], "INVOICE");
    let buyer = app.client();
    buyer.get("/collect/acme-shop").await;
    let found = buyer.post_form("/collect/acme-shop", &[("reference", "F-00737")]).await;
    assert_eq!(found.status, 200, "{}", found.excerpt());
    assert!(found.body.contains("12.37"), "{}", found.excerpt());
    // Audited with the file's SHA-256, both times.
    let shop = m.shop_id.0;
    let audit: Vec<(String, String)> = app
        .db
        .read_blocking(move |conn| {
            audit_log::table
                .filter(audit_log::shop_id.eq(shop).and(audit_log::action.like("order.import%")))
                .order(audit_log::id)
                .select((audit_log::action, audit_log::detail))
                .load(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0].0, "order.import_refused");
    assert_eq!(audit[1].0, "order.imported");
    assert!(audit[1].1.contains(&sha) && audit[1].1.contains("1000 orders created"), "{audit:?}");
}

#[actix_web::test]
async fn duplicates_in_the_file_and_against_the_shops_invoices_and_bad_cells_are_each_reported() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let api = Api::new(&app, &m);
    let existing = RawOrder { reference: "F-7".into(), ..raw("20", "en") };
    create_orders(&app, &m, Channel::Invoice, existing);
    // A cancelled invoice leaves its reference free.
    let cancelled = create_orders(&app, &m, Channel::Invoice, RawOrder { reference: "F-8".into(), ..raw("20", "en") });
    api.post(&format!("/api/v1/payment-orders/{}/cancel", cancelled[0].id), serde_json::json!({})).await.expect(200);
    let text = "reference,amount,currency,description,expires_on\n\
                F-1,10.00,EUR,,\n\
                F-2,10.00,EUR,,\n\
                F-1,11.00,EUR,,\n\
                F-7,12.00,EUR,,\n\
                F-8,13.00,EUR,,\n";
    let body = api.post_csv("/api/v1/payment-orders/import", text, None).await.expect(202).clone();
    assert_eq!(body["status"], "FAILED");
    // The file's own faults first: the comparison with the shop comes once the file is sound.
    assert_eq!(errors(&body), [(4, "reference".into(), "import.duplicate_in_file".into())]);
    let text = text.replace("F-1,11.00", "F-3,11.00");
    let body = api.post_csv("/api/v1/payment-orders/import", &text, None).await.expect(202).clone();
    assert_eq!(errors(&body), [(5, "reference".into(), "import.reference_exists".into())], "F-8 was cancelled");
    assert_eq!(invoices(&app, &m).len(), 2, "only the two made before");

    let bad = "\u{feff}reference;amount;currency;description;expires_on\n\
               G-1;15,00;EUR;;2026-07-01\n\
               G-2;-3;EUR;;\n\
               G-3;10,00;XYZ;;\n\
               G-4;10,00;EUR;;2026-09-16\n\
               G-5;10,00;EUR;;2026-06-14\n\
               G 6;10,00;EUR;;\n\
               G-7;;EUR;;31/13/2026\n";
    let body = api.post_csv("/api/v1/payment-orders/import", bad, None).await.expect(202).clone();
    let seen: Vec<(u64, String)> = errors(&body).into_iter().map(|(l, f, _)| (l, f)).collect();
    assert_eq!(
        seen,
        [
            (3, "amount".into()),
            (4, "currency".into()),
            (5, "expires_on".into()),
            (6, "expires_on".into()),
            (7, "reference".into()),
            (8, "amount".into()),
            (8, "expires_on".into()),
        ],
        "{body}"
    );
    let codes: Vec<String> = errors(&body).into_iter().map(|(_, _, c)| c).collect();
    assert_eq!(codes[2], "import.beyond_three_months", "the clock's today is 2026-06-15");
    assert_eq!(codes[3], "expires_on.past");
    assert_eq!(invoices(&app, &m).len(), 2);

    // Not CSV, or in PRODUCTION before the collection form is: refused, nothing written.
    let res = api.post("/api/v1/payment-orders/import", serde_json::json!({"reference": "F-9"})).await;
    assert_eq!((res.status, res.code()), (400, "csv_expected"));
    let production = Api::production(&app, &m);
    let body = production.post_csv("/api/v1/payment-orders/import", "reference,amount\nP-1,5.00\n", None).await;
    assert_eq!(errors(body.expect(202)), [(0, "file".into(), "collect.not_in_production".into())]);
    assert_eq!(invoices(&app, &m).len(), 2);
}

#[actix_web::test]
async fn a_large_file_is_imported_by_the_worker_and_an_idempotency_key_replays_the_answer() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let other = app.create_merchant("Globex", "Globex Shop", "gina", "1234");
    let api = Api::new(&app, &m);
    let text = file(&lines(paylink::services::imports::AT_ONCE_LINES + 500));
    let first = api.post_csv("/api/v1/payment-orders/import", &text, Some("import-1")).await.expect(202).clone();
    assert_eq!((first["status"].as_str(), first["created"].as_u64()), (Some("RUNNING"), Some(0)));
    let again = api.post_csv("/api/v1/payment-orders/import", &text, Some("import-1")).await.expect(202).clone();
    assert_eq!(again["id"], first["id"], "a replay, not a second import");
    assert!(invoices(&app, &m).is_empty(), "nothing before the worker");
    let path = format!("/api/v1/imports/{}", first["id"]);
    assert_eq!(api.get(&path).await.expect(200)["status"], "RUNNING");
    assert_eq!(Api::new(&app, &other).get(&path).await.status, 404, "another shop's import");

    let round = app.run_worker().await;
    assert_eq!(round.imports_ended, 1);
    let done = api.get(&path).await.expect(200).clone();
    assert_eq!((done["status"].as_str(), done["created"].as_u64()), (Some("DONE"), Some(2500)), "{done}");
    assert_eq!(invoices(&app, &m).len(), 2500);
    assert_eq!(app.run_worker().await.imports_ended, 0, "once only");
    assert_eq!(invoices(&app, &m).len(), 2500);
}

#[actix_web::test]
async fn the_back_office_uploads_a_file_and_shows_the_orders_created_or_every_faulty_line() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let alice = app.client();
    app.log_in_first_time(&alice, &m, "4821", STRONG).await;
    let orders = alice.get("/orders").await;
    assert_eq!(orders.attr("a[href=\"/orders/import\"]", "href").as_deref(), Some("/orders/import"));
    let form = alice.get("/orders/import").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.count("input[type=file][name=file]"), 1);

    let bad = "reference;amount\nF-1;15,00\nF-2;quinze\nF-1;3,00\n";
    let res = alice.post_file("/orders/import", "file", "factures.csv", "text/csv", bad.as_bytes(), true).await;
    let result = alice.follow(&res).await;
    assert_eq!(result.status, 200, "{}", result.excerpt());
    assert_eq!(result.texts("#import-errors tbody td:first-child"), ["3", "4"]);
    assert_eq!(result.texts("#import-errors tbody td:nth-child(2)"), ["amount", "reference"]);
    assert!(result.body.contains("2 faults: nothing was created"), "{}", result.excerpt());
    assert!(invoices(&app, &m).is_empty());

    let good = "reference;amount\nF-1;15,00\nF-2;16,00\n";
    let res = alice.post_file("/orders/import", "file", "factures.csv", "text/csv", good.as_bytes(), true).await;
    let result = alice.follow(&res).await;
    assert!(result.body.contains("2 orders created"), "{}", result.excerpt());
    assert_eq!(invoices(&app, &m).iter().map(|i| i.1).collect::<Vec<_>>(), [1500, 1600]);

    // No token, no import; an empty upload is refused next to the field.
    let res = alice.post_file("/orders/import", "file", "factures.csv", "text/csv", good.as_bytes(), false).await;
    assert_eq!(res.status, 403);
    let res = alice.post_file("/orders/import", "file", "empty.csv", "text/csv", b"", true).await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("Choose a CSV file."));
    assert_eq!(invoices(&app, &m).len(), 2);
}

#[actix_web::test]
async fn the_openapi_document_names_the_import_operations_and_every_status_they_answer() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let other = app.create_merchant("Globex", "Globex Shop", "gina", "1234");
    let api = Api::new(&app, &m);
    let doc = api.get("/api/v1/openapi.json").await.expect(200).clone();
    let documented = |path: &str, method: &str| -> Vec<u16> {
        doc["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"))
            .keys()
            .map(|s| s.parse().unwrap())
            .collect()
    };
    let import = "/api/v1/payment-orders/import";
    let done = api.post_csv(import, "reference,amount\nF-1,5.00\n", None).await;
    let not_csv = api.post(import, serde_json::json!({})).await;
    let anonymous = reqwest::Client::new().post(app.url(import)).body("reference,amount\n").send().await.unwrap();
    let reused = {
        api.post_csv(import, "reference,amount\nF-2,5.00\n", Some("k")).await;
        api.post_csv(import, "reference,amount\nF-3,5.00\n", Some("k")).await
    };
    for status in [done.status, not_csv.status, anonymous.status().as_u16(), reused.status] {
        assert!(documented(import, "post").contains(&status), "POST {import} answered {status}");
    }
    assert_eq!((done.status, not_csv.status, anonymous.status().as_u16(), reused.status), (202, 400, 401, 422));
    let read = format!("/api/v1/imports/{}", done.body["id"]);
    let statuses = [
        api.get(&read).await.status,
        api.get("/api/v1/imports/999999").await.status,
        Api::new(&app, &other).get(&read).await.status,
    ];
    assert_eq!(statuses, [200, 404, 404]);
    for status in statuses {
        assert!(documented("/api/v1/imports/{id}", "get").contains(&status));
    }
}
