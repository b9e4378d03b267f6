//! The app wallet (seed 004: Payconiq through Monext, now Bancontact) through HTTP: set up in
//! the back office, offered on the TEST pay page, the names page (first and last name
//! mandatory, the payment amount never above the order's), and the TEST simulator's answers —
//! MAKE A PAYMENT (ACCEPTED `00000`), ABORT (CANCELLED `02008`), a session past its 15
//! minutes (`02324`) — each written once, for its own link only. And the same in a browser.

use chrono::Duration;
use fantoccini::Locator;
use paylink::db::DbError;
use paylink::domain::order::OrderStatus;
use paylink::domain::transaction::TxStatus;
use paylink::services::merchants::CreatedMerchant;
use paylink::store::orders::Order;
use paylink::store::payment_services::RequestRow;
use serde_json::Value;

use crate::browser::{ChromeDriver, axe, fill, screenshot, set_viewport, submit_form_of, wait_for};
use crate::delivery::reload;
use crate::helpers::{Client, Page, STRONG, TestApp};
use crate::pay::{Buyer, link, order_with, raw, transactions};

/// A merchant logged in to the back office.
async fn merchant(app: &TestApp) -> (CreatedMerchant, Client) {
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let office = app.client();
    app.log_in_first_time(&office, &m, "4821", STRONG).await;
    (m, office)
}

/// Sets the TEST wallet up in Settings › Payment services (no credentials: paylink is the
/// simulator).
async fn enable_wallet(office: &Client, mode: &str, credentials: &str, name: &str) {
    let form = office.get("/settings/payment-services").await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    let saved = office
        .post_form(
            "/settings/payment-services",
            &[
                ("service", "wallet"),
                ("mode", mode),
                ("credentials", credentials),
                ("base_url", ""),
                ("display_name", name),
                ("default", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "the wallet is saved: {}", saved.excerpt());
}

/// A shop with the TEST wallet named "Bancontact", and a 42.50 EUR order of it.
async fn shop_with_wallet(app: &TestApp) -> (CreatedMerchant, Order) {
    let (m, office) = merchant(app).await;
    enable_wallet(&office, "TEST", "", "Bancontact").await;
    let o =
        order_with(app, &m, paylink::domain::order_form::RawOrder { reference: "CMD-7".into(), ..raw("42,50", "en") });
    (m, o)
}

fn app_path(o: &Order) -> String {
    format!("{}/app", link(o))
}

/// The order's latest payment request, if any.
fn latest_request(app: &TestApp, o: &Order) -> Option<RequestRow> {
    let id = o.id;
    app.db
        .read_blocking(move |conn| Ok::<_, DbError>(paylink::store::payment_services::latest_of_order(conn, id)?))
        .unwrap()
}

/// A request by its public id.
fn request(app: &TestApp, public_id: &str) -> RequestRow {
    let key = public_id.to_string();
    app.db
        .read_blocking(move |conn| Ok::<_, DbError>(paylink::store::payment_services::request_by_public(conn, &key)?))
        .unwrap()
        .expect("the request is recorded")
}

/// The buyer opens the link, follows its wallet button and sends their names: the
/// simulator's page, and the request's public id.
async fn to_simulator(app: &TestApp, o: &Order) -> (Buyer, Page, String) {
    let buyer = Buyer::open(app, o).await;
    let names = buyer.client.get(&app_path(o)).await;
    assert_eq!(names.status, 200, "{}", names.excerpt());
    let amount = names.attr("input[name=\"amount\"]", "value").expect("the hidden amount");
    let sent = buyer
        .client
        .post_form(&app_path(o), &[("first_name", " Jane "), ("last_name", "Doe"), ("amount", &amount)])
        .await;
    assert_eq!(sent.status, 303, "{}", sent.excerpt());
    let location = sent.location.clone().unwrap();
    let prefix = format!("{}/simulator?request=", app_path(o));
    assert!(location.starts_with(&prefix), "{location}");
    let public_id = location[prefix.len()..].to_string();
    assert!(public_id.starts_with("pr_") && public_id.len() > 20, "{public_id}");
    let page = buyer.client.follow(&sent).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    (buyer, page, public_id)
}

async fn answer(buyer: &Buyer, o: &Order, public_id: &str, outcome: &str) -> Page {
    buyer.client.post_form(&format!("{}/simulator", app_path(o)), &[("request", public_id), ("outcome", outcome)]).await
}

/// The order's transactions as the REST API lists them.
async fn api_transactions(app: &TestApp, m: &CreatedMerchant, o: &Order) -> Vec<Value> {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = http
        .get(app.url(&format!("/api/v1/transactions?order_id={}", o.id.0)))
        .basic_auth(m.shop_id.to_string(), Some(&m.test_api_key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    body["items"].as_array().expect("items").clone()
}

// ---- The offer and the names page ----------------------------------------------------------

#[actix_web::test]
async fn the_wallet_set_up_in_settings_shows_on_the_test_pay_page_and_asks_the_names() {
    let app = TestApp::spawn().await;
    let (m, office) = merchant(&app).await;
    let o =
        order_with(&app, &m, paylink::domain::order_form::RawOrder { reference: "CMD-7".into(), ..raw("42,50", "en") });
    // No wallet yet: no button, and no names page.
    let before = Buyer::open(&app, &o).await;
    assert_eq!(before.page.count("#service-wallet"), 0, "{}", before.page.excerpt());
    assert_eq!(before.client.get(&app_path(&o)).await.status, 404);

    enable_wallet(&office, "TEST", "", "Bancontact").await;
    let buyer = Buyer::open(&app, &o).await;
    assert_eq!(buyer.page.attr("a#service-wallet", "href"), Some(app_path(&o)), "{}", buyer.page.excerpt());
    assert_eq!(buyer.page.texts("a#service-wallet"), ["Pay €42.50 with Bancontact"]);
    assert_eq!(buyer.page.count("#pay-form"), 1, "the card form is still there");

    let names = buyer.client.get(&app_path(&o)).await;
    assert_eq!(names.status, 200, "{}", names.excerpt());
    assert_eq!(names.texts("h1"), ["Pay with Bancontact"]);
    assert_eq!(names.count("h1"), 1);
    assert!(names.contains("TEST mode"), "the TEST banner");
    assert_eq!(names.texts("dd.reference"), ["CMD-7"]);
    assert_eq!(names.texts("dd.amount"), ["€42.50"]);
    for (field, label, autocomplete) in
        [("first_name", "First name", "given-name"), ("last_name", "Last name", "family-name")]
    {
        assert_eq!(names.texts(&format!("label[for=\"{field}\"]")), [label]);
        assert_eq!(names.count(&format!("input#{field}[name=\"{field}\"][required]")), 1, "{field}");
        assert_eq!(names.attr(&format!("input#{field}"), "autocomplete").as_deref(), Some(autocomplete));
        assert_eq!(names.count(&format!("input#{field}[aria-invalid]")), 0);
    }
    assert_eq!(names.attr("input[type=\"hidden\"][name=\"amount\"]", "value").as_deref(), Some("42.50"));
    assert!(names.attr("form#app-form input[name=\"csrf_token\"]", "value").is_some_and(|t| !t.is_empty()));
    assert_eq!(names.attr("form#app-form", "action"), Some(app_path(&o)));
    assert_eq!(names.texts("#app-continue"), ["Continue to Bancontact"]);
    assert_eq!(names.attr("#app-back", "href"), Some(link(&o)), "another way back to the pay page");
    // Every language has the page's texts.
    for (lang, title) in [
        ("fr", "Payer avec Bancontact"),
        ("de", "Mit Bancontact bezahlen"),
        ("es", "Pagar con Bancontact"),
        ("it", "Paga con Bancontact"),
    ] {
        let page = buyer.client.get(&format!("{}?lang={lang}", app_path(&o))).await;
        assert_eq!(page.texts("h1"), [title], "{lang}");
        assert!(!page.contains("??"), "a text is missing in {lang}: {}", page.excerpt());
    }
    assert!(latest_request(&app, &o).is_none(), "looking at the page records nothing");
}

#[actix_web::test]
async fn first_and_last_name_are_mandatory_and_nothing_is_written_without_them() {
    let app = TestApp::spawn().await;
    let (_m, o) = shop_with_wallet(&app).await;
    let buyer = Buyer::open(&app, &o).await;
    buyer.client.get(&app_path(&o)).await;
    let long = "x".repeat(65);
    let refused = buyer
        .client
        .post_form(&app_path(&o), &[("first_name", "   "), ("last_name", &long), ("amount", "42.50")])
        .await;
    assert_eq!(refused.status, 422, "{}", refused.excerpt());
    assert_eq!(refused.texts("#first_name-error"), ["This field is required."]);
    assert_eq!(refused.texts("#last_name-error"), ["At most 64 characters."]);
    for field in ["first_name", "last_name"] {
        assert_eq!(refused.attr(&format!("input#{field}"), "aria-invalid").as_deref(), Some("true"), "{field}");
        assert_eq!(
            refused.attr(&format!("input#{field}"), "aria-describedby"),
            Some(format!("{field}-error")),
            "{field}"
        );
    }
    assert_eq!(refused.attr("input#first_name", "autofocus").as_deref(), Some(""), "the first field in error");
    assert_eq!(refused.texts("#form-errors"), ["The payment request was not sent: correct the fields marked below."]);
    assert_eq!(refused.attr("input#last_name", "value"), Some(long.clone()), "what was typed is kept");
    // One name alone is not enough either.
    let half = buyer.client.post_form(&app_path(&o), &[("first_name", "Jane"), ("last_name", "")]).await;
    assert_eq!(half.status, 422);
    assert_eq!(half.count("#first_name-error"), 0);
    assert_eq!(half.texts("#last_name-error"), ["This field is required."]);
    assert_eq!(half.attr("input#first_name", "value").as_deref(), Some("Jane"));
    assert!(latest_request(&app, &o).is_none(), "no request is recorded");
    assert!(transactions(&app, &o).is_empty());
    assert_eq!(reload(&app, &o).status, OrderStatus::Running);
}

#[actix_web::test]
async fn a_payment_amount_above_the_order_amount_is_refused_with_02308() {
    let app = TestApp::spawn().await;
    let (_m, o) = shop_with_wallet(&app).await;
    let buyer = Buyer::open(&app, &o).await;
    buyer.client.get(&app_path(&o)).await;
    for amount in ["42.51", "42,51", "1000", "0", "-1", "abc"] {
        let refused = buyer
            .client
            .post_form(&app_path(&o), &[("first_name", "Jane"), ("last_name", "Doe"), ("amount", amount)])
            .await;
        assert_eq!(refused.status, 422, "{amount}: {}", refused.excerpt());
        let error = refused.texts("#amount-error");
        assert_eq!(error.len(), 1, "{amount}: {}", refused.excerpt());
        assert!(error[0].contains("Invalid value for") && error[0].contains("02308"), "{amount}: {error:?}");
        assert_eq!(
            refused.attr("input[name=\"amount\"]", "value").as_deref(),
            Some("42.50"),
            "the order's amount again"
        );
    }
    assert!(latest_request(&app, &o).is_none(), "no request is recorded");
    // The order's amount, typed either way, or left out, is taken.
    for amount in ["42,50", ""] {
        let taken = buyer
            .client
            .post_form(&app_path(&o), &[("first_name", "Jane"), ("last_name", "Doe"), ("amount", amount)])
            .await;
        assert_eq!(taken.status, 303, "{amount:?}: {}", taken.excerpt());
    }
    let r = latest_request(&app, &o).expect("a request");
    assert_eq!((r.amount, r.currency.as_str()), (4250, "EUR"));
}

// ---- The simulator ------------------------------------------------------------------------

#[actix_web::test]
async fn make_a_payment_pays_the_order_with_00000_through_the_wallet() {
    let app = TestApp::spawn().await;
    let (m, o) = shop_with_wallet(&app).await;
    let (buyer, simulator, public_id) = to_simulator(&app, &o).await;
    // The simulator's page: what is paid, to whom, by whom, and that it is only TEST.
    assert_eq!(simulator.count("h1"), 1);
    assert_eq!(simulator.texts("h1"), ["Bancontact — TEST simulator"]);
    assert!(
        simulator.texts("#simulator-notice")[0].contains("TEST simulator of Bancontact"),
        "{}",
        simulator.excerpt()
    );
    assert_eq!(simulator.texts("dd.amount"), ["€42.50"]);
    assert!(simulator.texts(".shop-title")[0].contains("Acme Shop"));
    assert_eq!(
        simulator.texts("#simulator-session"),
        ["Paying as Jane Doe. The session ends at 12:15 (Europe/Paris)."],
        "the names, trimmed; 15 minutes from 12:00 in Paris"
    );
    assert_eq!(simulator.texts("#simulator-pay"), ["MAKE A PAYMENT"]);
    assert_eq!(simulator.texts("#simulator-abort"), ["ABORT"]);
    assert_eq!(simulator.attrs("#simulator-form button[name=\"outcome\"]", "value"), ["pay", "abort"]);
    assert_eq!(simulator.attr("#simulator-form input[name=\"request\"]", "value"), Some(public_id.clone()));
    assert_eq!(simulator.attr("#simulator-form", "action"), Some(format!("{}/simulator", app_path(&o))));
    // In every language of the buyer pages (a fresh browser each: `?lang=` is kept).
    for (lang, pay) in [
        ("fr", "EFFECTUER LE PAIEMENT"),
        ("de", "ZAHLUNG AUSFÜHREN"),
        ("es", "REALIZAR EL PAGO"),
        ("it", "EFFETTUA IL PAGAMENTO"),
    ] {
        let page = app.client().get(&format!("{}/simulator?request={public_id}&lang={lang}", app_path(&o))).await;
        assert_eq!(page.status, 200, "{lang}");
        assert_eq!(page.attr("html", "lang").as_deref(), Some(lang));
        assert_eq!(page.texts("#simulator-pay"), [pay], "{lang}");
        assert!(!page.contains("??"), "a text is missing in {lang}: {}", page.excerpt());
        assert!(page.texts("#simulator-session")[0].contains("Jane Doe"), "{lang}");
    }
    let open = request(&app, &public_id);
    assert_eq!((open.status.as_str(), open.service.as_str(), open.mode.as_str()), ("OPEN", "wallet", "TEST"));
    assert_eq!((open.first_name.as_deref(), open.last_name.as_deref()), (Some("Jane"), Some("Doe")));
    assert!(reload(&app, &o).transaction_id.is_none(), "nothing paid before the answer");

    let paid = answer(&buyer, &o, &public_id, "pay").await;
    paid.assert_redirect(&link(&o));
    let receipt = buyer.client.follow(&paid).await;
    assert_eq!(receipt.status, 200);
    assert_eq!(receipt.count("#receipt"), 1, "{}", receipt.excerpt());
    assert_eq!(receipt.texts(".return-code"), ["Payment accepted. (00000)"], "the buyer sees the code");
    assert_eq!(receipt.texts(".brand-name"), ["Bancontact"]);
    assert!(receipt.contains("Jane Doe"));

    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    let all = transactions(&app, &o);
    assert_eq!(all.len(), 1);
    let t = &all[0];
    assert!(t.status.accepted(), "{:?}", t.status);
    assert_eq!(t.return_code, "00000");
    assert_eq!(t.service.as_deref(), Some("wallet"));
    assert_eq!(t.service_payment_id.as_deref(), Some(public_id.as_str()));
    assert_eq!((t.card_brand.as_str(), t.holder.as_deref(), t.amount.minor), ("Bancontact", Some("Jane Doe"), 4250));
    let ended = request(&app, &public_id);
    assert_eq!((ended.status.as_str(), ended.transaction_id), ("PAID", Some(t.id)));
    assert_eq!(ended.raw_status.as_deref(), Some("ACCEPTED 00000"));
    // The REST object says the same.
    let api = api_transactions(&app, &m, &o).await;
    assert_eq!(api.len(), 1, "{api:?}");
    assert_eq!(api[0]["return_code"], "00000");
    assert_eq!(api[0]["service"], "wallet");
    assert_eq!(api[0]["service_payment_id"], public_id.as_str());
    assert_eq!(api[0]["amount"], 4250);
    // The pay page has nothing more to offer.
    assert_eq!(buyer.client.get(&app_path(&o)).await.status, 303, "a paid link's names page goes back to it");
}

#[actix_web::test]
async fn abort_cancels_with_02008_and_the_link_stays_payable() {
    let app = TestApp::spawn().await;
    let (_m, o) = shop_with_wallet(&app).await;
    let (buyer, _, public_id) = to_simulator(&app, &o).await;
    let aborted = answer(&buyer, &o, &public_id, "abort").await;
    aborted.assert_redirect(&link(&o));
    let page = buyer.client.follow(&aborted).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.texts("#refusal .refusal-title"), ["Payment cancelled"], "{}", page.excerpt());
    assert_eq!(page.texts("#refusal p")[1], "You cancelled the payment. (02008)", "the buyer sees the code");
    assert_eq!(page.count("#pay-form"), 1, "a fresh form under the notice");
    assert_eq!(page.attr("a#service-wallet", "href"), Some(app_path(&o)), "the wallet again");
    let t = transactions(&app, &o).remove(0);
    assert_eq!(
        (t.status, t.return_code.as_str(), t.service.as_deref()),
        (TxStatus::Cancelled, "02008", Some("wallet"))
    );
    assert_eq!(request(&app, &public_id).status, "CANCELLED");
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused, "still payable");

    // A second try pays it.
    let (buyer, _, second) = to_simulator(&app, &o).await;
    assert_ne!(second, public_id, "a new request");
    answer(&buyer, &o, &second, "pay").await.assert_redirect(&link(&o));
    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    let codes: Vec<String> = transactions(&app, &o).into_iter().map(|t| t.return_code).collect();
    assert_eq!(codes.len(), 2);
    assert!(codes.contains(&"02008".to_string()) && codes.contains(&"00000".to_string()), "{codes:?}");
}

#[actix_web::test]
async fn a_session_older_than_15_minutes_ends_with_02324() {
    let app = TestApp::spawn().await;
    let (_m, o) = shop_with_wallet(&app).await;
    // At 14 minutes 59 the session still pays.
    let (buyer, _, in_time) = to_simulator(&app, &o).await;
    app.clock.advance(Duration::minutes(14) + Duration::seconds(59));
    answer(&buyer, &o, &in_time, "abort").await.assert_redirect(&link(&o));
    assert_eq!(transactions(&app, &o)[0].return_code, "02008", "answered in time");

    let (buyer, _, late) = to_simulator(&app, &o).await;
    app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
    let answered = answer(&buyer, &o, &late, "pay").await;
    answered.assert_redirect(&link(&o));
    let page = buyer.client.follow(&answered).await;
    assert_eq!(page.texts("#refusal .refusal-title"), ["Payment refused"], "{}", page.excerpt());
    assert_eq!(
        page.texts("#refusal p")[1],
        "The payment session expired before the payment was finished. You may try again. (02324)"
    );
    let r = request(&app, &late);
    assert_eq!((r.status.as_str(), r.raw_status.as_deref()), ("EXPIRED", Some("REFUSED 02324")));
    let t = transactions(&app, &o).into_iter().find(|t| r.transaction_id == Some(t.id)).expect("its transaction");
    assert_eq!((t.status, t.return_code.as_str()), (TxStatus::Refused, "02324"));
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused, "not paid, still payable");
}

#[actix_web::test]
async fn a_second_answer_of_the_simulator_changes_nothing() {
    let app = TestApp::spawn().await;
    let (m, o) = shop_with_wallet(&app).await;
    let (buyer, _, public_id) = to_simulator(&app, &o).await;
    answer(&buyer, &o, &public_id, "pay").await.assert_redirect(&link(&o));
    let first = transactions(&app, &o);
    assert_eq!(first.len(), 1);
    for outcome in ["abort", "pay"] {
        answer(&buyer, &o, &public_id, outcome).await.assert_redirect(&link(&o));
    }
    let after = transactions(&app, &o);
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!((after[0].id, after[0].return_code.as_str()), (first[0].id, "00000"));
    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    assert_eq!(request(&app, &public_id).status, "PAID");
    // The simulator's page of an answered session goes back to the link (the back button).
    let again = buyer.client.get(&format!("{}/simulator?request={public_id}", app_path(&o))).await;
    again.assert_redirect(&link(&o));
    // Nor can the session be answered after an abort.
    let o2 = order_with(&app, &m, raw("10", "en"));
    let (buyer2, _, aborted) = to_simulator(&app, &o2).await;
    answer(&buyer2, &o2, &aborted, "abort").await.assert_redirect(&link(&o2));
    answer(&buyer2, &o2, &aborted, "pay").await.assert_redirect(&link(&o2));
    assert_eq!(reload(&app, &o2).status, OrderStatus::Refused, "an aborted session never pays");
    assert_eq!(transactions(&app, &o2).len(), 1);
}

#[actix_web::test]
async fn a_request_of_another_link_or_no_request_is_refused() {
    let app = TestApp::spawn().await;
    let (m, a) = shop_with_wallet(&app).await;
    let b = order_with(&app, &m, raw("99", "en"));
    let (_, _, of_a) = to_simulator(&app, &a).await;
    let on_b = Buyer::open(&app, &b).await;
    for request in [of_a.as_str(), "pr_madeup", ""] {
        let refused = answer(&on_b, &b, request, "pay").await;
        assert_eq!(refused.status, 400, "{request:?}: {}", refused.excerpt());
        let shown = on_b.client.get(&format!("{}/simulator?request={request}", app_path(&b))).await;
        assert_eq!(shown.status, 400, "{request:?}");
    }
    // Nor an outcome the simulator does not have.
    assert_eq!(answer(&on_b, &a, &of_a, "approve").await.status, 400);
    assert!(transactions(&app, &a).is_empty() && transactions(&app, &b).is_empty());
    assert_eq!((reload(&app, &a).status, reload(&app, &b).status), (OrderStatus::Running, OrderStatus::Running));
    assert_eq!(request(&app, &of_a).status, "OPEN", "the session of a is untouched");
    // Without a CSRF token the simulator answers nothing.
    let forged = on_b
        .client
        .post_form_raw(&format!("{}/simulator", app_path(&a)), &[("request", &of_a), ("outcome", "pay")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(request(&app, &of_a).status, "OPEN");
}

#[actix_web::test]
async fn a_closed_link_shows_its_usual_page_and_its_session_pays_nothing() {
    let app = TestApp::spawn().await;
    let (_m, o) = shop_with_wallet(&app).await;
    let (buyer, _, public_id) = to_simulator(&app, &o).await;
    // Past the link's last day (and the session's end).
    app.clock.advance(Duration::days(31));
    assert_eq!(buyer.client.get(&app_path(&o)).await.status, 410);
    let refused = buyer.client.post_form(&app_path(&o), &[("first_name", "Jane"), ("last_name", "Doe")]).await;
    assert_eq!(refused.status, 410);
    assert_eq!(answer(&buyer, &o, &public_id, "pay").await.status, 410);
    assert!(transactions(&app, &o).is_empty());
    assert_ne!(reload(&app, &o).status, OrderStatus::Paid);
}

#[actix_web::test]
async fn a_production_wallet_says_it_cannot_pay_yet_and_records_nothing() {
    let app = TestApp::spawn().await;
    let (m, office) = merchant(&app).await;
    enable_wallet(&office, "PRODUCTION", "merchant:access", "Bancontact").await;
    // A PRODUCTION order through the API with the PRODUCTION key.
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let res = http
        .post(app.url("/api/v1/payment-orders"))
        .basic_auth(m.shop_id.to_string(), Some(&m.production_api_key))
        .json(&serde_json::json!({"channel": "URL", "amount": 1500, "currency": "EUR", "reference": "P-1", "language": "en"}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().unwrap();
    let path = url[url.find("/t/").unwrap()..].to_string();
    let client = app.client();
    let page = client.get(&path).await;
    assert_eq!(page.attr("a#service-wallet", "href"), Some(format!("{path}/app")), "{}", page.excerpt());
    let names = client.get(&format!("{path}/app")).await;
    assert_eq!(names.status, 200);
    assert_eq!(names.count("#app-unavailable"), 1, "{}", names.excerpt());
    assert_eq!(names.count("form#app-form"), 0, "no form to fill in for nothing");
    let refused = client.post_form(&format!("{path}/app"), &[("first_name", "Jane"), ("last_name", "Doe")]).await;
    assert_eq!(refused.status, 409, "{}", refused.excerpt());
    assert!(refused.texts("#app-unavailable")[0].contains("not available yet"));
    let order_id = body["id"].as_i64().unwrap();
    let none = app
        .db
        .read_blocking(move |conn| {
            Ok::<_, DbError>(paylink::store::payment_services::latest_of_order(
                conn,
                paylink::domain::ids::OrderId(order_id),
            )?)
        })
        .unwrap();
    assert!(none.is_none(), "no request recorded in PRODUCTION");
}

// ---- In a browser -------------------------------------------------------------------------

async fn wallet_in_the_browser(
    browser: &fantoccini::Client,
    app: &TestApp,
    o: &Order,
) -> Result<(), Box<dyn std::error::Error>> {
    set_viewport(browser, 390, 844).await?;
    browser.goto(&app.url(&link(o))).await?;
    wait_for(browser, Locator::Css("a#service-wallet")).await?.click().await?;
    wait_for(browser, Locator::Css("input[name=\"first_name\"]")).await?;
    // Sent empty: the refusals next to the fields.
    submit_form_of(browser, "first_name").await?;
    wait_for(browser, Locator::Css("#first_name-error")).await?;
    screenshot(browser, "app-names-errors-390.png").await?;
    axe(browser, "the wallet's names page with errors").await?;
    fill(browser, "first_name", "Jane").await?;
    fill(browser, "last_name", "Doe").await?;
    screenshot(browser, "app-names-390.png").await?;
    submit_form_of(browser, "last_name").await?;
    wait_for(browser, Locator::Css("#simulator-pay")).await?;
    screenshot(browser, "app-simulator-390.png").await?;
    axe(browser, "the wallet simulator").await?;
    set_viewport(browser, 1280, 900).await?;
    screenshot(browser, "app-simulator.png").await?;
    wait_for(browser, Locator::Css("#simulator-pay")).await?.click().await?;
    wait_for(browser, Locator::Css("#receipt")).await?;
    screenshot(browser, "app-receipt.png").await?;
    Ok(())
}

#[actix_web::test]
async fn the_wallet_simulator_in_the_browser() {
    let app = TestApp::spawn().await;
    let (_m, o) = shop_with_wallet(&app).await;
    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = wallet_in_the_browser(&browser, &app, &o).await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "app-failure.png").await.map(|p| p.display().to_string());
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!(
            "browser flow failed: {error}\n at {url} (screenshot: {shot:?})\n{}",
            source.chars().take(4000).collect::<String>()
        );
    }
    browser.close().await.expect("close the browser session");
    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    assert_eq!(transactions(&app, &o)[0].return_code, "00000");
}
