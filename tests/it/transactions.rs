//! Transactions, merchant side (issue 5): the back-office list (tabs, search, keyset pages,
//! CSV) and detail with its actions (validate, capture now, capture date, cancel, refund),
//! the REST API
//! (read, list, capture, cancel, refund, idempotent), the worker's captures and expiries in
//! the shop's time zone, rights and scoping, the audit log, and a look in Chromium.
//!
//! Transactions come into being when a buyer pays on `/t/{token}`; here they are made
//! directly with the payment service (`begin` + `finalise`), as the pay page does.

use std::sync::{Arc, Mutex};

use chrono::{Duration, TimeZone, Utc};
use diesel::prelude::*;
use fantoccini::Locator;
use reqwest::header::{self, HeaderMap};
use serde_json::{Value, json};

use paylink::acquirer::{Authorisation, ThreeDsOutcome};
use paylink::db::DbError;
use paylink::db::schema::{audit_log, shops, transaction_events, transactions};
use paylink::domain::api_key::Mode;
use paylink::domain::clock::Clock;
use paylink::domain::order::Channel;
use paylink::domain::order_form::{AmountInput, OrderDraft, RawOrder};
use paylink::services::merchants::CreatedMerchant;
use paylink::services::orders::{self, OrderContext};
use paylink::services::payments::{self, CardSummary, Outcome};
use paylink::store::audit::Actor;
use paylink::store::orders::Order;
use paylink::store::transactions::{Transaction, TxStatus};

use crate::browser::{ChromeDriver, screenshot, set_viewport, wait_for};
use crate::helpers::{Client, Page, STRONG, TestApp};

const CODE: &str = "4821";

// ---------------------------------------------------------------------------------------
// Helpers

/// A merchant whose admin finished the first login; the client is signed in (English).
async fn admin(app: &TestApp, login: &str) -> (CreatedMerchant, Client) {
    let m = app.create_merchant(&format!("{login} SAS"), &format!("{login} shop"), login, CODE);
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    (m, client)
}

/// A URL order: `amount` typed as a person would, AUTO or MANUAL validation, a capture delay.
fn raw(reference: &str, amount: &str, validation: &str, delay: u32) -> RawOrder {
    RawOrder {
        reference: reference.into(),
        amount: AmountInput::Decimal(amount.into()),
        validation_mode: validation.into(),
        capture_delay_days: delay.to_string(),
        buyer_email: "buyer@example.com".into(),
        ..Default::default()
    }
}

/// One TEST order through `crate::delivery::create_orders`.
fn order(app: &TestApp, m: &CreatedMerchant, r: RawOrder) -> Order {
    crate::delivery::create_orders(app, m, Channel::Url, r).remove(0)
}

/// One order in `mode` (the delivery helper makes TEST ones).
pub fn order_in(app: &TestApp, m: &CreatedMerchant, mode: Mode, r: RawOrder) -> Order {
    let clock = app.clock.clone();
    let public_url = app.settings.public_url.clone();
    app.db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, m.company_id, m.shop_id)?.unwrap();
            let today = clock.now().with_timezone(&shop.settings.time_zone).date_naive();
            let draft = OrderDraft::parse(&r, Channel::Url, &shop.settings, today, today)
                .map_err(paylink::services::ServiceError::Invalid)?;
            let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: "test".into(), ip: None };
            let ctx = OrderContext { actor: &actor, shop: &shop, mode, public_url: &public_url };
            orders::create(conn, &clock, &ctx, &draft)
        })
        .unwrap()
        .remove(0)
}

/// The buyer pays `order` with the Visa test card: accepted (frictionless), or refused with
/// `code`.
pub fn pay_with(app: &TestApp, m: &CreatedMerchant, order: &Order, approved: bool, code: &'static str) -> Transaction {
    let card = CardSummary {
        brand: "CB_VISA".into(),
        masked: "497010******0006".into(),
        expiry: "12/30".into(),
        holder: Some("Jeanne Martin".into()),
        alias: None,
    };
    let public_url = app.settings.public_url.clone();
    app.db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, m.company_id, m.shop_id)?.unwrap();
            assert!(payments::begin(conn, &app.clock, order.id, "holder")?, "the order is payable");
            let out = Outcome {
                holder: "holder",
                card: &card,
                three_ds: if approved { ThreeDsOutcome::Frictionless } else { ThreeDsOutcome::NotPerformed },
                authorisation: Authorisation { approved, code },
                cancelled_by_buyer: false,
                acquirer_ref: "sim:0006",
                service: None,
            };
            payments::finalise(conn, &app.clock, &shop, order, &out, &public_url).map(|(t, _)| t)
        })
        .unwrap()
}

pub fn pay(app: &TestApp, m: &CreatedMerchant, order: &Order) -> Transaction {
    pay_with(app, m, order, true, "00000")
}

fn tx(app: &TestApp, id: i64) -> Transaction {
    app.db.read_blocking(|conn| paylink::store::transactions::get(conn, id).map_err(DbError::from)).unwrap().unwrap()
}

fn event_kinds(app: &TestApp, id: i64) -> Vec<String> {
    app.db
        .read_blocking(|conn| {
            transaction_events::table
                .filter(transaction_events::transaction_id.eq(id))
                .order(transaction_events::id)
                .select(transaction_events::kind)
                .load::<String>(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

/// (action, actor) of the audit entries about transaction `id`.
fn audit(app: &TestApp, id: i64) -> Vec<(String, String)> {
    let target = format!("transaction:{id}");
    app.db
        .read_blocking(|conn| {
            audit_log::table
                .filter(audit_log::target.eq(target))
                .order(audit_log::id)
                .select((audit_log::action, audit_log::actor))
                .load::<(String, String)>(conn)
                .map_err(DbError::from)
        })
        .unwrap()
}

/// Rows the actions write: transactions' refunded sum, events, audit entries.
fn written(app: &TestApp) -> (i64, i64, i64) {
    app.db
        .read_blocking(|conn| {
            let refunded: Vec<i64> = transactions::table.select(transactions::refunded_amount).load(conn)?;
            Ok::<_, DbError>((
                refunded.iter().sum(),
                transaction_events::table.count().get_result(conn)?,
                audit_log::table.count().get_result(conn)?,
            ))
        })
        .unwrap()
}

fn set_shop(app: &TestApp, m: &CreatedMerchant, zone: Option<&str>, validation_days: Option<i32>) {
    let shop = m.shop_id.0;
    app.db
        .write_blocking(|conn| {
            if let Some(z) = zone {
                diesel::update(shops::table.find(shop)).set(shops::time_zone.eq(z)).execute(conn)?;
            }
            if let Some(d) = validation_days {
                diesel::update(shops::table.find(shop)).set(shops::validation_days.eq(d)).execute(conn)?;
            }
            Ok::<_, DbError>(())
        })
        .unwrap();
}

/// The ids of the rows of a list page, in order.
fn listed(page: &Page) -> Vec<i64> {
    assert_eq!(page.status, 200, "{}", page.excerpt());
    page.texts("table.tx-list tbody a.tx-link").iter().map(|s| s.parse().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------
// The list

#[actix_web::test]
async fn the_list_has_tabs_a_search_keyset_pages_and_a_csv_export() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app, "alice").await;
    let authorised = pay(&app, &m, &order(&app, &m, raw("AUTH-1", "10,00", "AUTO", 3)));
    let to_validate = pay(&app, &m, &order(&app, &m, raw("MAN-1", "20,00", "MANUAL", 1)));
    let captured = pay(&app, &m, &order(&app, &m, raw("CAP-1", "30,50", "AUTO", 0)));
    let refused_order = order(&app, &m, raw("REF-1", "40,00", "AUTO", 0));
    let refused = pay_with(&app, &m, &refused_order, false, "01005");
    // The buyer tries again and pays: two attempts of one order.
    let retried = pay(&app, &m, &refused_order);
    assert_eq!(
        (authorised.status, to_validate.status, captured.status, refused.status, retried.status),
        (
            TxStatus::Authorised,
            TxStatus::AuthorisedToValidate,
            TxStatus::Captured,
            TxStatus::Refused,
            TxStatus::Captured
        )
    );

    // Three tabs and "all", newest first; "all" by default and first, so that the payments
    // just made are in sight whatever their status.
    let page = client.get("/transactions").await;
    assert_eq!(listed(&page), [retried.id, refused.id, captured.id, to_validate.id, authorised.id]);
    assert_eq!(page.texts("nav.tx-tabs a[aria-current=page]"), ["All"]);
    assert_eq!(page.texts("nav.tx-tabs a"), ["All", "In progress", "Captured", "Refused / cancelled / expired"]);
    let page = client.get("/transactions?tab=in_progress").await;
    assert_eq!(listed(&page), [to_validate.id, authorised.id]);
    assert!(page.contains("To validate") && page.contains("Authorised"), "status labels");
    assert_eq!(listed(&client.get("/transactions?tab=captured").await), [retried.id, captured.id]);
    let others = client.get("/transactions?tab=others").await;
    assert_eq!(listed(&others), [refused.id]);
    assert!(others.contains("01005") && others.contains("Refused by the bank"), "code and its message");
    assert_eq!(listed(&client.get("/transactions?tab=all").await).len(), 5);

    // The columns.
    let row = client.get("/transactions?tab=captured").await;
    let cells = row.texts("table.tx-list tbody tr:last-child td");
    assert_eq!(cells[0], captured.id.to_string());
    assert_eq!(cells[1], "2026-06-15 12:00", "local time (Paris)");
    assert_eq!(cells[2], "CAP-1");
    assert_eq!(cells[3], "€30.50");
    assert_eq!(cells[4], "", "nothing refunded");
    assert_eq!(cells[5], "Captured");
    assert_eq!(cells[6], "CB_VISA 497010******0006");
    assert_eq!(cells[7], "Frictionless");
    assert_eq!(cells[8], "00000");
    assert_eq!(cells[9], "By URL");
    assert_eq!(cells[10], "2026-06-15");
    assert_eq!(
        row.attr("table.tx-list tbody tr:last-child td a[href^='/orders/']", "href").unwrap(),
        format!("/orders/{}", captured.order_id.0)
    );

    // The search: order, reference, status (which picks its tab), card, code, dates.
    let by_order = format!("/transactions?tab=all&order_id={}", refused_order.id);
    assert_eq!(listed(&client.get(&by_order).await), [retried.id, refused.id], "every attempt of an order");
    assert_eq!(listed(&client.get("/transactions?tab=all&reference=MAN-1").await), [to_validate.id]);
    assert_eq!(listed(&client.get("/transactions?tab=all&reference=CAP*").await), [captured.id]);
    assert_eq!(listed(&client.get("/transactions?status=EXPIRED").await), Vec::<i64>::new());
    let by_status = client.get("/transactions?tab=in_progress&status=CAPTURED").await;
    assert_eq!(listed(&by_status), [retried.id, captured.id]);
    assert_eq!(by_status.texts("nav.tx-tabs a[aria-current=page]"), ["Captured"]);
    assert_eq!(listed(&client.get("/transactions?tab=all&card_last4=0006").await).len(), 5);
    assert!(listed(&client.get("/transactions?tab=all&card_last4=1234").await).is_empty());
    assert_eq!(listed(&client.get("/transactions?tab=all&return_code=01005").await), [refused.id]);
    assert_eq!(
        listed(&client.get("/transactions?tab=all&created_from=2026-06-15&created_to=2026-06-15").await).len(),
        5
    );
    assert!(listed(&client.get("/transactions?tab=all&created_from=2026-06-16").await).is_empty());
    // Bad values are named next to their field, and nothing is listed.
    let bad =
        client.get("/transactions?order_id=abc&card_last4=12&return_code=0&created_from=soon&reference=a%20b").await;
    assert_eq!(bad.status, 422, "{}", bad.excerpt());
    for field in ["order_id", "card_last4", "return_code", "created_from", "reference"] {
        assert_eq!(bad.count(&format!("p.error#{field}-error")), 1, "{field}: {}", bad.excerpt());
    }
    assert_eq!(bad.count("table.tx-list"), 0);

    // TEST and PRODUCTION apart: a PRODUCTION payment shows only in PRODUCTION mode.
    let live_order = order_in(&app, &m, Mode::Production, raw("LIVE-1", "99,00", "AUTO", 0));
    let live = pay(&app, &m, &live_order);
    assert!(!listed(&client.get("/transactions?tab=all").await).contains(&live.id));
    assert_eq!(client.get(&format!("/transactions/{}", live.id)).await.status, 404);
    client
        .post_form("/context", &[("mode", "PRODUCTION"), ("back", "/transactions")])
        .await
        .assert_redirect("/transactions");
    assert_eq!(listed(&client.get("/transactions?tab=all").await), [live.id]);
    assert_eq!(client.get(&format!("/transactions/{}", live.id)).await.status, 200);
    assert_eq!(client.get(&format!("/transactions/{}", captured.id)).await.status, 404);
    client.post_form("/context", &[("mode", "TEST"), ("back", "/transactions")]).await;

    // Keyset pages of 50.
    let mut many = Vec::new();
    for i in 0..52 {
        many.push(pay(&app, &m, &order(&app, &m, raw(&format!("BULK-{i:03}"), "1,00", "AUTO", 0))).id);
    }
    let first = client.get("/transactions?tab=captured&reference=BULK*").await;
    let ids = listed(&first);
    assert_eq!(ids.len(), 50);
    assert_eq!(ids[0], *many.last().unwrap(), "newest first");
    let next = first.attr("a[rel=next]", "href").expect("a next page");
    assert!(next.contains("before=") && next.contains("reference=BULK"), "{next}");
    let second = client.get(&next).await;
    assert_eq!(listed(&second), [many[1], many[0]]);
    assert_eq!(second.count("a[rel=next]"), 0);
    assert!(second.attr("nav.pager a", "href").is_some_and(|h| !h.contains("before=")), "back to the first page");

    // The CSV of the current search: a BOM, `;` and decimal commas in French.
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", STRONG).await;
    let res = fr.http.get(fr.url("/transactions.csv?tab=all&reference=CAP-1")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(res.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("attachment"));
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], "\u{feff}".as_bytes(), "a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("id;created_at;order_id;reference;mode;status;amount;refunded_amount;currency"));
    assert!(
        lines[1].contains(
            ";CAP-1;TEST;CAPTURED;30,50;0,00;EUR;CB_VISA;497010******0006;12/30;FRICTIONLESS;00000;URL;2026-06-15;"
        ),
        "{}",
        lines[1]
    );
    let text = client.get("/transactions.csv?tab=captured").await.body;
    assert_eq!(text.lines().count(), 1 + 2 + 52, "every page of the search, not just the first");
    assert!(text.contains(",CAP-1,TEST,CAPTURED,30.50,0.00,EUR,"), "English: commas and points");
    assert_eq!(client.get("/transactions.csv?card_last4=x").await.status, 400);
}

// ---------------------------------------------------------------------------------------
// The detail and its actions

#[actix_web::test]
async fn the_csv_export_streams_every_page_newest_first_with_its_references() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("alice SAS", "alice shop", "alice", CODE);
    let o = order(&app, &m, raw("MANY-1", "10", "AUTO", 0));
    // More than two pages of the export's reads (500 rows each): a refused payment leaves
    // the order payable, so one order takes them all. Written before signing in, so that no
    // idle keep-alive connection is left for the server to close under the export.
    let count = 1_001;
    for _ in 0..count {
        pay_with(&app, &m, &o, false, "01005");
    }
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    let res = client.http.get(client.url("/transactions.csv?tab=others")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get(header::CONTENT_LENGTH).is_none(), "streamed, not built in memory first");
    let body = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<(i64, String)> =
        reader.records().map(|r| r.unwrap()).map(|r| (r[0].parse().unwrap(), r[3].to_string())).collect();
    assert_eq!(rows.len(), count);
    assert!(rows.windows(2).all(|w| w[0].0 > w[1].0), "newest first, no row twice");
    assert!(rows.iter().all(|(_, reference)| reference == "MANY-1"), "every page has its references");
}

#[actix_web::test]
async fn a_manual_transaction_is_validated_its_capture_date_changed_and_it_is_cancelled() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app, "alice").await;
    let o = order(&app, &m, raw("MAN-7", "25,00", "MANUAL", 2));
    let t = pay(&app, &m, &o);
    assert_eq!(t.status, TxStatus::AuthorisedToValidate);
    let path = format!("/transactions/{}", t.id);

    // The detail: buyer, card, 3-D Secure, code and message, amounts, dates, history, order.
    let page = client.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    for text in [
        "buyer@example.com",
        "CB_VISA",
        "497010******0006",
        "12/30",
        "Jeanne Martin",
        "Authenticated, frictionless",
        "00000 — Payment accepted",
        "Payment order by URL",
        "2026-06-17",
        "2026-06-22 12:00",
        "Manual",
    ] {
        assert!(page.contains(text), "{text}: {}", page.excerpt());
    }
    assert_eq!(page.texts("#amounts dd"), ["€25.00", "€0.00", "€0.00", "€0.00"]);
    assert_eq!(page.texts("#tx-status"), ["To validate"]);
    assert_eq!(page.attr("#order-link", "href").unwrap(), format!("/orders/{}", o.id));
    assert!(page.texts("#order-link")[0].contains("MAN-7"));
    assert_eq!(page.texts("#history tbody tr").len(), 1);
    // Only the actions that apply: validate, capture date, cancel; no refund.
    assert_eq!(page.count("#action-validate"), 1);
    assert_eq!(page.count("#action-capture-date"), 1);
    assert_eq!(page.count("#action-cancel"), 1);
    assert_eq!(page.count("#action-refund"), 0);
    // Both ways: the order links its transaction and every attempt.
    let order_page = client.get(&format!("/orders/{}", o.id)).await;
    assert_eq!(order_page.attr("#action-transaction", "href").unwrap(), path);
    assert_eq!(order_page.attr("#order-attempts", "href").unwrap(), format!("/transactions?tab=all&order_id={}", o.id));

    // A capture date in the past, or no date, is refused next to the field; nothing written.
    let before = written(&app);
    for bad in ["2026-06-14", "tomorrow", ""] {
        let page = client.post_form(&format!("{path}/capture-date"), &[("capture_date", bad)]).await;
        assert_eq!(page.status, 422, "{bad}: {}", page.excerpt());
        assert_eq!(page.count("p.error#capture_date-error"), 1, "{bad}");
        assert_eq!(page.attr("#capture_date", "value").unwrap(), bad, "the typed value is kept");
    }
    let page = client.post_form(&format!("{path}/capture-date"), &[("capture_date", "2026-06-14")]).await;
    assert!(page.contains("The capture date cannot be in the past."));
    assert_eq!(written(&app), before);
    assert_eq!(tx(&app, t.id).capture_date.unwrap().to_string(), "2026-06-17");
    let page = client.post_form(&format!("{path}/capture-date"), &[("capture_date", "2026-06-20")]).await;
    page.assert_redirect(&path);
    assert_eq!(tx(&app, t.id).capture_date.unwrap().to_string(), "2026-06-20");
    assert!(client.follow(&page).await.contains("Capture date changed."));

    // Validate.
    let page = client.post_form(&format!("{path}/validate"), &[]).await;
    page.assert_redirect(&path);
    let after = tx(&app, t.id);
    assert_eq!((after.status, after.validate_by), (TxStatus::Authorised, None));
    let page = client.follow(&page).await;
    assert!(page.contains("Transaction validated"));
    assert_eq!(page.count("#action-validate"), 0, "validated once");
    assert_eq!(client.post_form(&format!("{path}/validate"), &[]).await.status, 409);

    // Cancel before capture.
    client.post_form(&format!("{path}/cancel"), &[]).await.assert_redirect(&path);
    assert_eq!(tx(&app, t.id).status, TxStatus::Cancelled);
    let page = client.get(&path).await;
    assert_eq!(page.count("#action-cancel") + page.count("#action-capture-date") + page.count("#action-refund"), 0);
    assert_eq!(event_kinds(&app, t.id), ["created", "capture_date_changed", "validated", "cancelled"]);
    assert_eq!(
        audit(&app, t.id),
        [
            ("transaction.capture_date_changed".to_string(), "alice".to_string()),
            ("transaction.validated".into(), "alice".into()),
            ("transaction.cancelled".into(), "alice".into()),
        ]
    );
    let history = page.texts("#history tbody tr");
    assert_eq!(history.len(), 4);
    assert!(history[0].contains("To validate · 00000 — Payment accepted"), "{history:?}");
    assert!(history[1].contains("Capture date changed") && history[1].contains("alice"), "{history:?}");
    assert!(history[1].contains("2026-06-17 → 2026-06-20"), "{history:?}");
    // In French too.
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", STRONG).await;
    let page = fr.get(&path).await;
    for text in [
        "Annulée",
        "Date de remise modifiée",
        "17/06/2026 → 20/06/2026",
        "Paiement accepté",
        "Ordre de paiement par URL",
    ] {
        assert!(page.contains(text), "{text}");
    }

    // Cancel after capture is refused (refund instead).
    let captured = pay(&app, &m, &order(&app, &m, raw("CAP-7", "25,00", "AUTO", 0)));
    let before = written(&app);
    let res = client.post_form(&format!("/transactions/{}/cancel", captured.id), &[]).await;
    assert_eq!(res.status, 409, "{}", res.excerpt());
    assert_eq!(tx(&app, captured.id).status, TxStatus::Captured);
    let res = client
        .post_form(&format!("/transactions/{}/capture-date", captured.id), &[("capture_date", "2026-06-20")])
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(written(&app), before);
    // Without the CSRF token nothing happens.
    let res = client.post_form_raw(&format!("/transactions/{}/refunds", captured.id), &[("amount", "1,00")]).await;
    assert_eq!(res.status, 403);
    assert_eq!(written(&app), before);
}

#[actix_web::test]
async fn an_authorised_transaction_is_captured_now_from_its_detail() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app, "alice").await;
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let t = pay(&app, &m, &order(&app, &m, raw("NOW-1", "42,00", "AUTO", 3)));
    assert_eq!(t.status, TxStatus::Authorised);
    let path = format!("/transactions/{}", t.id);

    // The button only where the capture applies: AUTHORISED, not the others.
    let page = client.get(&path).await;
    assert_eq!(page.count("#action-capture"), 1, "{}", page.excerpt());
    assert_eq!(page.attr("#action-capture", "type").as_deref(), Some("submit"));
    assert_eq!(page.texts("#action-capture"), ["Capture now"]);
    let form = format!("form[action='{path}/capture'][method=post] input[name=csrf_token]");
    assert!(page.attr(&form, "value").is_some_and(|v| !v.is_empty()), "a POST form with the CSRF token");
    let manual = pay(&app, &m, &order(&app, &m, raw("NOW-2", "10,00", "MANUAL", 3)));
    let captured = pay(&app, &m, &order(&app, &m, raw("NOW-3", "10,00", "AUTO", 0)));
    let refused = pay_with(&app, &m, &order(&app, &m, raw("NOW-4", "10,00", "AUTO", 3)), false, "01005");
    for (other, status) in
        [(&manual, TxStatus::AuthorisedToValidate), (&captured, TxStatus::Captured), (&refused, TxStatus::Refused)]
    {
        assert_eq!(other.status, status);
        let page = client.get(&format!("/transactions/{}", other.id)).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.count("#action-capture"), 0, "{status}");
    }
    // In French.
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", STRONG).await;
    assert_eq!(fr.get(&path).await.texts("#action-capture"), ["Remettre en banque maintenant"]);

    // Without the CSRF token nothing happens.
    let before = written(&app);
    assert_eq!(client.post_form_raw(&format!("{path}/capture"), &[]).await.status, 403);
    let res = client.post_form_raw(&format!("{path}/capture"), &[("csrf_token", "forged")]).await;
    assert_eq!(res.status, 403);
    assert_eq!(tx(&app, t.id).status, TxStatus::Authorised);
    assert_eq!(written(&app), before);

    // Pressed: captured at once, before its capture date, with no worker round.
    let res = client.post_form(&format!("{path}/capture"), &[]).await;
    res.assert_redirect(&path);
    assert_eq!(res.location.as_deref(), Some(format!("{path}?done=captured").as_str()));
    let after = tx(&app, t.id);
    assert_eq!((after.status, after.captured_at), (TxStatus::Captured, Some(app.clock.now_naive())));
    let page = client.follow(&res).await;
    assert!(page.contains("Transaction captured"), "{}", page.excerpt());
    assert_eq!(page.texts("#tx-status"), ["Captured"]);
    assert_eq!(page.texts("#amounts dd"), ["€42.00", "€42.00", "€0.00", "€42.00"]);
    assert_eq!(page.count("#action-capture") + page.count("#action-cancel") + page.count("#action-capture-date"), 0);
    assert_eq!(page.count("#action-refund"), 1, "now it is refunded, not cancelled");
    let history = page.texts("#history tbody tr");
    assert_eq!(history.len(), 2);
    assert!(history[1].contains("Captured early by the merchant") && history[1].contains("alice"), "{history:?}");
    assert!(!fr.get(&path).await.contains("Transaction remise en banque"), "the notice is for ?done= only");
    assert!(fr.get(&format!("{path}?done=captured")).await.contains("Transaction remise en banque"));
    // ... and through the API.
    let got = api.get(&format!("/api/v1/transactions/{}", t.id)).await;
    assert_eq!(got.assert_status(200).body["status"], "CAPTURED");
    assert_eq!(got.body["captured_at"], "2026-06-15T10:00:00Z");
    assert_eq!(event_kinds(&app, t.id), ["created", "captured"]);
    assert_eq!(audit(&app, t.id), [("transaction.captured".to_string(), "alice".to_string())]);
    let detail: String = app
        .db
        .read_blocking(|conn| {
            audit_log::table
                .filter(audit_log::target.eq(format!("transaction:{}", t.id)))
                .select(audit_log::detail)
                .first(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(detail, "captured early by the merchant");
    // The worker has nothing left to capture on the capture date.
    app.clock.advance(Duration::days(4));
    assert_eq!(app.run_worker().await.transactions_captured, 0);
    // (Four idle days end the session: sign in again.)
    app.log_in(&client, "alice", STRONG).await;

    // Twice, or on a transaction that is not AUTHORISED: refused, nothing written. A manual
    // one is not validated behind the merchant's back (the API's capture would).
    let before = written(&app);
    for id in [t.id, manual.id, captured.id, refused.id] {
        let res = client.post_form(&format!("/transactions/{id}/capture"), &[]).await;
        assert_eq!(res.status, 409, "{id}: {}", res.excerpt());
        assert!(res.contains("This transaction cannot be captured."), "{}", res.excerpt());
    }
    assert_eq!(tx(&app, manual.id).status, TxStatus::AuthorisedToValidate);
    assert_eq!(written(&app), before);

    // A user of another shop (a manager of the company's other shop, or another company's
    // admin): 404, and nothing captured.
    let lyon = crate::users::add_shop(&app, m.company_id.0, "Alice Lyon");
    let created = crate::users::create_user_with(&app, &client, "lea", "manager", "2468", &[lyon], true).await;
    let lea = app.client();
    app.log_in_first_time(&lea, &created, "2468", STRONG).await;
    let (_, bruno) = admin(&app, "bruno").await;
    let other = pay(&app, &m, &order(&app, &m, raw("NOW-5", "10,00", "AUTO", 3)));
    let other_path = format!("/transactions/{}", other.id);
    let before = written(&app);
    for intruder in [&lea, &bruno] {
        assert_eq!(intruder.get(&other_path).await.status, 404);
        let res = intruder.post_form(&format!("{other_path}/capture"), &[]).await;
        assert_eq!(res.status, 404, "{}", res.excerpt());
    }
    assert_eq!(tx(&app, other.id).status, TxStatus::Authorised);
    assert_eq!(written(&app), before);
    assert_eq!(client.get(&other_path).await.count("#action-capture"), 1, "its own shop still may");
}

#[actix_web::test]
async fn refunds_are_partial_or_total_never_above_the_capture_and_within_365_days() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app, "alice").await;
    let t = pay(&app, &m, &order(&app, &m, raw("R-1", "100,00", "AUTO", 0)));
    let path = format!("/transactions/{}", t.id);
    let refunds = format!("{path}/refunds");

    // The form is empty: the merchant types what to refund, never the whole by default.
    let page = client.get(&path).await;
    assert_eq!(page.attr("#amount", "value").unwrap(), "");
    assert_eq!(page.count("#action-cancel"), 0, "captured: refund, not cancel");
    assert_eq!(page.texts("#tx-status"), ["Captured"]);

    // A partial refund, typed the French way: first spelled out for confirmation, and
    // nothing refunded until confirmed.
    let before = written(&app);
    let confirm = client.post_form(&refunds, &[("amount", "30,00")]).await;
    assert_eq!(confirm.status, 200, "{}", confirm.excerpt());
    assert_eq!(confirm.texts(".confirm-question"), ["Refund €30.00 to the card CB_VISA 497010******0006?"]);
    assert!(confirm.contains("Left to refund afterwards: €70.00."), "{}", confirm.excerpt());
    assert_eq!(confirm.attr("#confirm-refund input[name=amount]", "value").unwrap(), "30,00");
    assert_eq!(confirm.attr("#confirm-refund a.button", "href").unwrap(), path, "back to change the amount");
    assert_eq!(tx(&app, t.id).refunded, 0);
    assert_eq!(written(&app), before, "a question writes nothing");
    client.post_form(&refunds, &[("amount", "30,00"), ("confirm", "yes")]).await.assert_redirect(&path);
    assert_eq!(tx(&app, t.id).refunded, 3000);
    let page = client.get(&path).await;
    assert_eq!(page.texts("#amounts dd"), ["€100.00", "€100.00", "€30.00", "€70.00"]);
    assert_eq!(page.attr("#amount", "value").unwrap(), "", "still not pre-filled");
    // The status says the refund happened, here and in the list.
    assert_eq!(page.texts("#tx-status"), ["Partly refunded"]);
    let list = client.get("/transactions").await;
    assert_eq!(list.texts("table.tx-list td .status"), ["Partly refunded"]);

    // More than what is left is refused next to the field, at the first step as at the
    // confirmation; nothing written.
    let before = written(&app);
    let res = client.post_form(&refunds, &[("amount", "70.01"), ("confirm", "yes")]).await;
    assert_eq!(res.status, 422);
    assert_eq!(res.count("p.error#amount-error"), 1);
    for (bad, message) in [
        ("70.01", "The total refunded cannot exceed the captured amount."),
        ("abc", "Enter an amount such as 15.00 or 15,00."),
        ("0", "The amount must be positive"),
        ("1,001", "Too many decimals"),
        ("", "This field is required."),
    ] {
        let page = client.post_form(&refunds, &[("amount", bad)]).await;
        assert_eq!(page.status, 422, "{bad}: {}", page.excerpt());
        assert_eq!(page.count("p.error#amount-error"), 1, "{bad}");
        assert!(page.texts("p.error#amount-error")[0].contains(message), "{bad}: {:?}", page.texts("#amount-error"));
        assert_eq!(page.attr("#amount", "value").unwrap(), bad);
    }
    assert_eq!(written(&app), before);

    // A second partial refund up to the total; then nothing is left to refund.
    let confirm = client.post_form(&refunds, &[("amount", "70.00")]).await;
    assert!(confirm.contains("Left to refund afterwards: €0.00."), "{}", confirm.excerpt());
    client.post_form(&refunds, &[("amount", "70.00"), ("confirm", "yes")]).await.assert_redirect(&path);
    assert_eq!(tx(&app, t.id).refunded, 10000);
    let page = client.get(&path).await;
    assert_eq!(page.count("#action-refund"), 0);
    assert_eq!(page.texts("#tx-status"), ["Refunded"]);
    assert_eq!(page.texts("#amounts dd")[3], "€0.00");
    let res = client.post_form(&refunds, &[("amount", "0.01")]).await;
    assert_eq!(res.status, 422);
    assert_eq!(tx(&app, t.id).refunded, 10000);
    assert_eq!(event_kinds(&app, t.id), ["created", "captured", "refunded", "refunded"]);
    assert_eq!(
        audit(&app, t.id),
        [("transaction.refunded".to_string(), "alice".to_string()), ("transaction.refunded".into(), "alice".into())]
    );
    let history = page.texts("#history tbody tr");
    assert!(history[2].contains("Refund") && history[2].contains("€30.00"), "{history:?}");

    // Before capture: cancel, not refund.
    let authorised = pay(&app, &m, &order(&app, &m, raw("R-2", "10,00", "AUTO", 5)));
    let page = client.get(&format!("/transactions/{}", authorised.id)).await;
    assert_eq!(page.count("#action-refund"), 0);
    let before = written(&app);
    let res = client.post_form(&format!("/transactions/{}/refunds", authorised.id), &[("amount", "1,00")]).await;
    assert_eq!(res.status, 409, "{}", res.excerpt());
    assert!(res.contains("before capture, cancel it"), "{}", res.excerpt());
    assert_eq!(written(&app), before);

    // Within 365 days of capture, not after.
    let late = pay(&app, &m, &order(&app, &m, raw("R-3", "10,00", "AUTO", 0)));
    let late_path = format!("/transactions/{}", late.id);
    // (A year idle ends the session: sign in again.)
    app.clock.advance(Duration::days(365) - Duration::minutes(1));
    app.log_in(&client, "alice", STRONG).await;
    let page = client.get(&late_path).await;
    assert_eq!(page.count("#action-refund"), 1, "still in time");
    app.clock.advance(Duration::minutes(2));
    let page = client.get(&late_path).await;
    assert_eq!(page.count("#action-refund"), 0, "too late");
    let before = written(&app);
    let res = client.post_form(&format!("{late_path}/refunds"), &[("amount", "1,00")]).await;
    assert_eq!(res.status, 409, "{}", res.excerpt());
    assert!(res.contains("up to 365 days after capture"));
    assert_eq!(written(&app), before);
}

// ---------------------------------------------------------------------------------------
// Rights and scoping

#[actix_web::test]
async fn another_company_sees_404_everywhere_and_a_viewer_cannot_write() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app, "alice").await;
    let authorised = pay(&app, &m, &order(&app, &m, raw("S-1", "10,00", "MANUAL", 3)));
    let captured = pay(&app, &m, &order(&app, &m, raw("S-2", "10,00", "AUTO", 0)));
    let (other, intruder) = admin(&app, "bruno").await;
    let before = written(&app);

    // Another company: 404 on every page and action, and nothing in its list.
    for t in [&authorised, &captured] {
        let path = format!("/transactions/{}", t.id);
        assert_eq!(intruder.get(&path).await.status, 404);
        for (action, fields) in [
            ("validate", vec![]),
            ("capture", vec![]),
            ("capture-date", vec![("capture_date", "2026-06-20")]),
            ("cancel", vec![]),
            ("refunds", vec![("amount", "1,00")]),
            ("refunds", vec![("amount", "1,00"), ("confirm", "yes")]),
        ] {
            let res = intruder.post_form(&format!("{path}/{action}"), &fields).await;
            assert_eq!(res.status, 404, "{action}: {}", res.excerpt());
        }
    }
    assert!(listed(&intruder.get("/transactions?tab=all").await).is_empty());
    assert_eq!(
        intruder.get(&format!("/transactions?tab=all&order_id={}", captured.order_id.0)).await.count("table.tx-list"),
        0
    );
    // ... and through the API with its keys.
    let log = CallLog::default();
    for key in [&other.test_api_key, &other.production_api_key] {
        let api = Api::new(&app, Some((other.shop_id.to_string(), key.clone())), &log);
        api.get(&format!("/api/v1/transactions/{}", captured.id)).await.assert_error(404, "not_found", None);
        for action in ["capture", "cancel", "refunds"] {
            let res = api.post(&format!("/api/v1/transactions/{}/{action}", authorised.id), json!({})).await;
            res.assert_error(404, "not_found", None);
        }
        let list = api.get(&format!("/api/v1/transactions?order_id={}", captured.order_id.0)).await;
        assert_eq!(list.assert_status(200).body["items"], json!([]));
    }
    // The PRODUCTION key of the right shop does not see TEST transactions either.
    let live = Api::new(&app, Some((m.shop_id.to_string(), m.production_api_key.clone())), &log);
    live.get(&format!("/api/v1/transactions/{}", captured.id)).await.assert_error(404, "not_found", None);
    assert_eq!(written(&app), before);

    // A viewer reads but cannot change anything: 403 on every write route, no action shown.
    let viewer = viewer_client(&app, &client).await;
    let before = written(&app);
    for t in [&authorised, &captured] {
        let path = format!("/transactions/{}", t.id);
        let page = viewer.get(&path).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.count("form[action^='/transactions/']"), 0, "no action for a viewer");
        for (action, fields) in [
            ("validate", vec![]),
            ("capture", vec![]),
            ("capture-date", vec![("capture_date", "2026-06-20")]),
            ("cancel", vec![]),
            ("refunds", vec![("amount", "1,00")]),
            ("refunds", vec![("amount", "1,00"), ("confirm", "yes")]),
        ] {
            let res = viewer.post_form(&format!("{path}/{action}"), &fields).await;
            assert_eq!(res.status, 403, "{action}: {}", res.excerpt());
        }
    }
    assert_eq!(listed(&viewer.get("/transactions?tab=all").await).len(), 2, "a viewer reads the list");
    assert_eq!(viewer.get("/transactions.csv?tab=all").await.status, 200);
    assert_eq!(written(&app), before);
}

/// Creates the viewer `victor` (through the users screen) and signs them in.
async fn viewer_client(app: &TestApp, admin: &Client) -> Client {
    let created = crate::users::create_user_via_ui(app, admin, "victor", "viewer", "7531").await;
    let viewer = app.client();
    app.log_in_first_time(&viewer, &created, "7531", STRONG).await;
    viewer
}

// ---------------------------------------------------------------------------------------
// The worker

#[actix_web::test]
async fn the_worker_captures_on_the_capture_date_in_the_shop_zone_and_expires_unvalidated_ones() {
    let app = TestApp::spawn().await;
    let (m, _client) = admin(&app, "alice").await;
    // Auckland is 12 hours ahead of UTC in June: its days start at noon UTC.
    set_shop(&app, &m, Some("Pacific/Auckland"), None);
    // 2026-06-15 10:00 UTC is 22:00 in Auckland: a delay of 2 days captures on the 17th there.
    let t = pay(&app, &m, &order(&app, &m, raw("W-1", "12,00", "AUTO", 2)));
    assert_eq!(t.capture_date.unwrap().to_string(), "2026-06-17");
    let manual = pay(&app, &m, &order(&app, &m, raw("W-2", "12,00", "MANUAL", 2)));
    assert_eq!(manual.validate_by.unwrap(), app.clock.now_naive() + Duration::days(7), "the default 7 days");

    // The day before, late in the evening there: not yet.
    app.clock.set(Utc.with_ymd_and_hms(2026, 6, 16, 11, 59, 0).unwrap());
    let report = app.run_worker().await;
    assert_eq!(report.transactions_captured, 0);
    assert_eq!(tx(&app, t.id).status, TxStatus::Authorised);
    // Midnight in Auckland (still the 16th in UTC and in Paris): captured.
    app.clock.set(Utc.with_ymd_and_hms(2026, 6, 16, 12, 1, 0).unwrap());
    let report = app.run_worker().await;
    assert_eq!(report.transactions_captured, 1);
    let after = tx(&app, t.id);
    assert_eq!(after.status, TxStatus::Captured);
    assert_eq!(after.captured_at, Some(app.clock.now_naive()));
    assert_eq!(event_kinds(&app, t.id), ["created", "captured"]);
    assert_eq!(app.run_worker().await.transactions_captured, 0, "once");
    assert_eq!(tx(&app, manual.id).status, TxStatus::AuthorisedToValidate, "manual ones wait for validation");

    // Not validated within the shop's validation days (7): expired, never captured.
    app.clock.set(Utc.with_ymd_and_hms(2026, 6, 22, 9, 59, 0).unwrap());
    assert_eq!(app.run_worker().await.transactions_expired, 0);
    assert_eq!(tx(&app, manual.id).status, TxStatus::AuthorisedToValidate);
    app.clock.set(Utc.with_ymd_and_hms(2026, 6, 22, 10, 1, 0).unwrap());
    assert_eq!(app.run_worker().await.transactions_expired, 1);
    assert_eq!(tx(&app, manual.id).status, TxStatus::Expired);
    assert_eq!(event_kinds(&app, manual.id), ["created", "expired"]);

    // Another number of validation days for the shop.
    set_shop(&app, &m, None, Some(2));
    let short = pay(&app, &m, &order(&app, &m, raw("W-3", "12,00", "MANUAL", 5)));
    app.clock.advance(Duration::days(2) - Duration::minutes(1));
    app.run_worker().await;
    assert_eq!(tx(&app, short.id).status, TxStatus::AuthorisedToValidate);
    app.clock.advance(Duration::minutes(2));
    app.run_worker().await;
    assert_eq!(tx(&app, short.id).status, TxStatus::Expired);
    // A validated one is captured on its date instead.
    let validated = pay(&app, &m, &order(&app, &m, raw("W-4", "12,00", "MANUAL", 1)));
    let ctx_actor = Actor::cli();
    app.db
        .write_blocking(|conn| {
            let shop = [m.shop_id];
            let ctx = payments::TxContext {
                actor: &ctx_actor,
                shops: &shop,
                mode: Mode::Test,
                time_zone: chrono_tz::Pacific::Auckland,
            };
            payments::validate(conn, &app.clock, &ctx, validated.id)
        })
        .unwrap();
    app.clock.advance(Duration::days(3));
    assert_eq!(app.run_worker().await.transactions_captured, 1);
    assert_eq!(tx(&app, validated.id).status, TxStatus::Captured);
}

// ---------------------------------------------------------------------------------------
// The REST API

/// Every API call a test made: method, path, status (for the OpenAPI check).
type CallLog = Arc<Mutex<Vec<(String, String, u16)>>>;

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
    #[track_caller]
    fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }

    #[track_caller]
    fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.body["error"]["code"].as_str(), Some(code), "{}", self.text);
        assert_eq!(self.body["error"]["field"].as_str(), field, "{}", self.text);
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.is_empty() && message != "??", "an English message: {}", self.text);
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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
        self.log.lock().unwrap().push((method.as_str().to_lowercase(), path.split('?').next().unwrap().into(), status));
        assert!(headers.get(header::CONTENT_TYPE).is_some_and(|c| c.to_str().unwrap().starts_with("application/json")));
        Res { status, headers, body, text }
    }

    async fn get(&self, path: &str) -> Res {
        self.send("GET", path, None, &[]).await
    }

    async fn post(&self, path: &str, body: Value) -> Res {
        self.send("POST", path, Some(&body.to_string()), &[]).await
    }

    async fn post_raw(&self, path: &str, body: &str) -> Res {
        self.send("POST", path, Some(body), &[]).await
    }

    async fn post_with_key(&self, path: &str, body: Value, key: &str) -> Res {
        self.send("POST", path, Some(&body.to_string()), &[("Idempotency-Key", key)]).await
    }
}

#[actix_web::test]
async fn the_api_reads_captures_cancels_and_refunds_idempotently() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme SAS", "Acme shop", "alice", CODE);
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let o = order(&app, &m, raw("API-1", "50,00", "AUTO", 3));
    let t = pay(&app, &m, &o);

    // Read: the object, and the order carries its transaction.
    let got = api.get(&format!("/api/v1/transactions/{}", t.id)).await;
    got.assert_status(200);
    let b = &got.body;
    assert_eq!(b["id"], t.id);
    assert_eq!(b["order_id"], o.id.0);
    assert_eq!(b["status"], "AUTHORISED");
    assert_eq!((b["amount"].as_i64(), b["refunded_amount"].as_i64()), (Some(5000), Some(0)));
    assert_eq!(b["currency"], "EUR");
    assert_eq!((b["card_brand"].as_str(), b["card_masked"].as_str()), (Some("CB_VISA"), Some("497010******0006")));
    assert_eq!((b["card_expiry"].as_str(), b["three_ds"].as_str()), (Some("12/30"), Some("FRICTIONLESS")));
    assert_eq!((b["return_code"].as_str(), b["source"].as_str()), (Some("00000"), Some("URL")));
    assert_eq!(b["capture_date"], "2026-06-18");
    assert_eq!((&b["validate_by"], &b["captured_at"]), (&Value::Null, &Value::Null));
    assert_eq!(b["created_at"], "2026-06-15T10:00:00Z");
    assert_eq!(b["mode"], "TEST");
    let order_json = api.get(&format!("/api/v1/payment-orders/{}", o.id)).await;
    assert_eq!(order_json.assert_status(200).body["transaction_id"], t.id);
    assert_eq!(order_json.body["status"], "PAID");

    // Capture now.
    let captured = api.post_with_key(&format!("/api/v1/transactions/{}/capture", t.id), json!({}), "cap-1").await;
    assert_eq!(captured.assert_status(200).body["status"], "CAPTURED");
    assert_eq!(captured.body["captured_at"], "2026-06-15T10:00:00Z");
    let replay = api.post_with_key(&format!("/api/v1/transactions/{}/capture", t.id), json!({}), "cap-1").await;
    assert_eq!((replay.status, replay.text.as_str()), (200, captured.text.as_str()));
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    api.post(&format!("/api/v1/transactions/{}/capture", t.id), json!({})).await.assert_error(
        409,
        "transaction.not_capturable",
        None,
    );
    // Capturing a manual one validates it.
    let manual = pay(&app, &m, &order(&app, &m, raw("API-2", "10,00", "MANUAL", 2)));
    let res = api.post(&format!("/api/v1/transactions/{}/capture", manual.id), json!({})).await;
    assert_eq!(res.assert_status(200).body["status"], "AUTHORISED");
    assert_eq!(res.body["validate_by"], Value::Null);

    // Cancel: before capture yes, after capture no.
    let res = api.post_raw(&format!("/api/v1/transactions/{}/cancel", manual.id), "").await;
    assert_eq!(res.assert_status(200).body["status"], "CANCELLED");
    api.post(&format!("/api/v1/transactions/{}/cancel", t.id), json!({})).await.assert_error(
        409,
        "transaction.already_captured",
        None,
    );
    api.post(&format!("/api/v1/transactions/{}/cancel", t.id), json!({"why": 1})).await.assert_error(
        400,
        "unknown_field",
        Some("why"),
    );

    // Refunds: 201 with the transaction; a retry replays it and refunds nothing more.
    let refunds = format!("/api/v1/transactions/{}/refunds", t.id);
    let first = api.post_with_key(&refunds, json!({"amount": 500}), "refund-1").await;
    first.assert_status(201);
    assert_eq!(first.body["refunded_amount"], 500);
    let before = written(&app);
    let again = api.post_with_key(&refunds, json!({"amount": 500}), "refund-1").await;
    assert_eq!((again.status, again.text.as_str()), (201, first.text.as_str()));
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(written(&app), before, "no second refund, event or audit entry");
    api.post_with_key(&refunds, json!({"amount": 600}), "refund-1").await.assert_error(
        422,
        "idempotency_key_reused",
        None,
    );
    api.post_with_key(&format!("/api/v1/transactions/{}/cancel", t.id), json!({"amount": 500}), "refund-1")
        .await
        .assert_error(422, "idempotency_key_reused", None);
    // Amounts are integers of minor units; never above what is left.
    api.post(&refunds, json!({"amount": 5.5})).await.assert_error(400, "amount.not_integer", Some("amount"));
    api.post(&refunds, json!({"amount": "5.00"})).await.assert_error(400, "amount.not_integer", Some("amount"));
    api.post(&refunds, json!({"amount": 0})).await.assert_error(400, "amount.out_of_range", Some("amount"));
    api.post(&refunds, json!({"amount": 4501})).await.assert_error(400, "refund.too_much", Some("amount"));
    assert_eq!(written(&app), before);
    let refused = api.post_with_key(&refunds, json!({"amount": 4501}), "refund-2").await;
    refused.assert_error(400, "refund.too_much", Some("amount"));
    let replay = api.post_with_key(&refunds, json!({"amount": 4501}), "refund-2").await;
    assert_eq!((replay.status, replay.text.as_str()), (400, refused.text.as_str()), "a refusal is replayed too");
    // `{}` refunds the rest.
    let rest = api.post(&refunds, json!({})).await;
    assert_eq!(rest.assert_status(201).body["refunded_amount"], 5000);
    api.post(&refunds, json!({})).await.assert_error(400, "refund.too_much", Some("amount"));
    // Before capture: cancel instead.
    let authorised = pay(&app, &m, &order(&app, &m, raw("API-3", "10,00", "AUTO", 2)));
    api.post(&format!("/api/v1/transactions/{}/refunds", authorised.id), json!({"amount": 100})).await.assert_error(
        409,
        "transaction.not_captured",
        None,
    );
    // After 365 days: too late.
    app.clock.advance(Duration::days(366));
    let late = pay(&app, &m, &order(&app, &m, raw("API-4", "10,00", "AUTO", 0)));
    api.post(&format!("/api/v1/transactions/{}/refunds", late.id), json!({"amount": 100})).await.assert_status(201);
    app.clock.advance(Duration::days(366));
    api.post(&format!("/api/v1/transactions/{}/refunds", late.id), json!({"amount": 100})).await.assert_error(
        409,
        "refund.too_late",
        None,
    );

    // The list by order, with a cursor.
    let list = api.get(&format!("/api/v1/transactions?order_id={}", o.id)).await;
    let items = list.assert_status(200).body["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], t.id);
    assert_eq!(list.body["next_cursor"], Value::Null);
    let page = api.get("/api/v1/transactions?limit=2").await;
    assert_eq!(page.assert_status(200).body["items"].as_array().unwrap().len(), 2);
    let cursor = page.body["next_cursor"].as_str().unwrap().to_string();
    let next = api.get(&format!("/api/v1/transactions?limit=2&cursor={cursor}")).await;
    let ids: Vec<i64> = next.body["items"].as_array().unwrap().iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [manual.id, t.id]);
    api.get("/api/v1/transactions?order_id=x").await.assert_error(
        400,
        "transactions.search.order_id_invalid",
        Some("order_id"),
    );
    api.get("/api/v1/transactions?colour=red").await.assert_error(400, "unknown_field", Some("colour"));

    // Every action is in the audit log, by the API key's shop.
    let actor = format!("api:{}", m.shop_id);
    assert_eq!(
        audit(&app, t.id),
        [
            ("transaction.captured".to_string(), actor.clone()),
            ("transaction.refunded".into(), actor.clone()),
            ("transaction.refunded".into(), actor.clone()),
        ]
    );
    assert_eq!(
        audit(&app, manual.id),
        [("transaction.validated".to_string(), actor.clone()), ("transaction.cancelled".into(), actor.clone()),]
    );
    assert_eq!(tx(&app, t.id).refunded, 5000);
}

/// A documented path (`/api/v1/transactions/{id}`) matches a concrete one.
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[actix_web::test]
async fn the_openapi_document_matches_the_transaction_routes() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme SAS", "Acme shop", "alice", CODE);
    let stranger = app.create_merchant("Other SAS", "Other shop", "otto", CODE);
    let log = CallLog::default();
    let api = Api::test_key(&app, &m, &log);
    let anonymous = Api::new(&app, None, &log);
    let intruder = Api::test_key(&app, &stranger, &log);
    let doc = anonymous.get("/api/v1/openapi.json").await.body;

    let a = pay(&app, &m, &order(&app, &m, raw("D-1", "10,00", "AUTO", 2)));
    let b = pay(&app, &m, &order(&app, &m, raw("D-2", "10,00", "AUTO", 2)));
    let one = format!("/api/v1/transactions/{}", a.id);
    let got = api.get(&one).await;
    got.assert_status(200);
    anonymous.get(&one).await.assert_status(401);
    intruder.get(&one).await.assert_status(404);
    let list = api.get("/api/v1/transactions").await;
    list.assert_status(200);
    api.get("/api/v1/transactions?limit=0").await.assert_status(400);
    anonymous.get("/api/v1/transactions").await.assert_status(401);
    for (action, id, body) in
        [("capture", a.id, json!({})), ("cancel", b.id, json!({})), ("refunds", a.id, json!({"amount": 100}))]
    {
        let p = format!("/api/v1/transactions/{id}/{action}");
        let res = api.post(&p, body.clone()).await;
        assert!(res.status == 200 || res.status == 201, "{action}: {}", res.text);
        api.post(&p, body.clone()).await; // a 409 (or another refund)
        api.post(&p, json!({"x": 1})).await.assert_status(400);
        anonymous.post(&p, body.clone()).await.assert_status(401);
        intruder.post(&p, body.clone()).await.assert_status(404);
        api.post_with_key(&p, body.clone(), &format!("{action}-k")).await;
        api.post_with_key(&p, json!({"y": 2}), &format!("{action}-k")).await.assert_status(422);
        let now = app.clock.now_naive();
        let shop = m.shop_id;
        let busy = format!("{action}-busy");
        app.db
            .write_blocking(|conn| {
                paylink::store::idempotency::claim(conn, shop, &busy, "h", &app.instance, now).map_err(DbError::from)
            })
            .unwrap();
        api.post_with_key(&p, body.clone(), &busy).await.assert_status(409);
    }
    api.post(&format!("/api/v1/transactions/{}/refunds", b.id), json!({"amount": 1})).await.assert_status(409);

    // Each documented transaction operation was called and answered only documented statuses.
    let calls = log.lock().unwrap().clone();
    let mut operations = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/api/v1/transactions") {
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
    assert_eq!(operations, 5, "get, list, capture, cancel, refunds");
    for (method, path, status) in &calls {
        if path == "/api/v1/openapi.json" {
            continue;
        }
        let documented =
            doc["paths"].as_object().unwrap().iter().any(|(t, item)| matches(t, path) && item.get(method).is_some());
        assert!(documented, "{method} {path} ({status}) is not in the document");
    }

    // The objects have exactly the documented properties, all required (null when empty).
    let schemas = &doc["components"]["schemas"];
    let required = |schema: &str| -> Vec<String> {
        let mut r: Vec<String> =
            schemas[schema]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().into()).collect();
        r.sort();
        r
    };
    assert_eq!(keys(&got.body), keys(&schemas["Transaction"]["properties"]));
    assert_eq!(required("Transaction"), keys(&got.body));
    assert_eq!(keys(&list.body), keys(&schemas["TransactionList"]["properties"]));
    assert_eq!(required("TransactionList"), keys(&list.body));
    for field in [
        "id",
        "order_id",
        "status",
        "amount",
        "currency",
        "refunded_amount",
        "card_brand",
        "card_masked",
        "card_expiry",
        "three_ds",
        "return_code",
        "source",
        "capture_date",
        "validate_by",
        "captured_at",
        "created_at",
        "mode",
    ] {
        assert!(got.body.get(field).is_some(), "the brief names {field}");
    }
    assert_eq!(schemas["Transaction"]["properties"]["amount"]["type"], "integer");
    assert_eq!(keys(&schemas["NewRefund"]["properties"]), ["amount"]);
    // Every schema the transaction refers to is in the document.
    let mut refs = Vec::new();
    collect_refs(&schemas["Transaction"], &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(schemas.get(name).is_some(), "{r} is not in the document");
    }
    assert!(schemas["TxStatus"]["enum"].as_array().unwrap().contains(&json!("AUTHORISED_TO_VALIDATE")));
    assert!(schemas["ThreeDsOutcome"]["enum"].as_array().unwrap().contains(&json!("FRICTIONLESS")));
    assert!(doc["tags"].as_array().unwrap().iter().any(|t| t["name"] == "transactions"));
}

// ---------------------------------------------------------------------------------------
// In a real browser

type Res2<T> = Result<T, Box<dyn std::error::Error>>;

async fn look(browser: &fantoccini::Client, app: &TestApp, detail: &str) -> Res2<()> {
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url("/login")).await?;
    crate::browser::fill(browser, "login", "alice").await?;
    crate::browser::fill(browser, "password", STRONG).await?;
    crate::browser::submit_form_of(browser, "password").await?;
    crate::browser::wait_for_path(browser, "/orders").await?;
    for (width, suffix) in [(1280u32, ""), (360, "-360")] {
        set_viewport(browser, width, if width < 400 { 740 } else { 900 }).await?;
        browser.goto(&app.url("/transactions?tab=all")).await?;
        wait_for(browser, Locator::Css("table.tx-list")).await?;
        full_page(browser, width, &format!("transactions{suffix}.png")).await?;
        no_sideways_scroll(browser, width, "transactions").await?;
        browser.goto(&app.url(detail)).await?;
        wait_for(browser, Locator::Css("#history")).await?;
        // Open the refund form, as a merchant would.
        wait_for(browser, Locator::Css("details.refund > summary")).await?.click().await?;
        wait_for(browser, Locator::Id("amount")).await?;
        full_page(browser, width, &format!("transaction-detail{suffix}.png")).await?;
        no_sideways_scroll(browser, width, "transaction detail").await?;
    }
    Ok(())
}

async fn no_sideways_scroll(browser: &fantoccini::Client, width: u32, what: &str) -> Res2<()> {
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth
                 || Array.from(document.querySelectorAll('.table-wrap, .history-wrap'))
                        .some(function (e) { return e.scrollWidth > e.clientWidth + 1; });",
            vec![],
        )
        .await?;
    if overflow.as_bool() == Some(true) {
        return Err(format!("the {what} page scrolls sideways at {width} px").into());
    }
    Ok(())
}

/// The whole page at `width` (the window grows to the page's height).
async fn full_page(browser: &fantoccini::Client, width: u32, name: &str) -> Res2<()> {
    let height = browser.execute("return document.documentElement.scrollHeight;", vec![]).await?;
    let height = height.as_u64().unwrap_or(900).clamp(600, 6000) as u32;
    set_viewport(browser, width, height).await?;
    screenshot(browser, name).await?;
    set_viewport(browser, width, if width < 400 { 740 } else { 900 }).await?;
    if width < 400 {
        // The first screen too, at its real size.
        screenshot(browser, &name.replace(".png", "-top.png")).await?;
    }
    Ok(())
}

#[actix_web::test]
async fn transactions_in_the_browser() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app, "alice").await;
    pay(&app, &m, &order(&app, &m, raw("LOOK-1", "12,00", "MANUAL", 2)));
    pay(&app, &m, &order(&app, &m, raw("LOOK-2", "8,00", "AUTO", 3)));
    let refused_order = order(&app, &m, raw("LOOK-3", "99,90", "AUTO", 0));
    pay_with(&app, &m, &refused_order, false, "04059");
    let t = pay(&app, &m, &refused_order);
    let path = format!("/transactions/{}", t.id);
    client
        .post_form(&format!("{path}/refunds"), &[("amount", "20,00"), ("confirm", "yes")])
        .await
        .assert_redirect(&path);

    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = look(&browser, &app, &path).await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "transactions-failure.png").await.map(|p| p.display().to_string());
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!(
            "browser flow failed: {error} (screenshot: {shot:?})\n{}",
            source.chars().take(4000).collect::<String>()
        );
    }
    browser.close().await.expect("close the browser session");
}
