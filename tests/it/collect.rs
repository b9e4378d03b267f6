//! The public collection form `/collect/{slug}` (issue 12): a buyer who knows only an invoice
//! reference finds it, sees its amount, answers the form's fields and goes on to pay it; not
//! found, expired, cancelled and paid each say so; an unknown and another shop's reference
//! get the same answer; look-ups are rate-limited with the application's clock.

use chrono::Duration;
use paylink::db::DbError;
use paylink::domain::collect::BuyerData;
use paylink::domain::ids::{CompanyId, ShopId};
use paylink::domain::order::{Channel, OrderStatus};
use paylink::domain::order_form::RawOrder;
use paylink::services::merchants::CreatedMerchant;
use paylink::store::orders::Order;

use crate::delivery::create_orders;
use crate::helpers::{Client, Page, TestApp};
use crate::pay::{Buyer, raw};

fn invoice(app: &TestApp, m: &CreatedMerchant, reference: &str, amount: &str) -> Order {
    let raw = RawOrder { reference: reference.into(), description: "Cleaning, November".into(), ..raw(amount, "en") };
    create_orders(app, m, Channel::Invoice, raw).remove(0)
}

fn slug(app: &TestApp, m: &CreatedMerchant) -> String {
    let (company, shop) = (CompanyId(m.company_id.0), ShopId(m.shop_id.0));
    app.db
        .read_blocking(move |conn| {
            Ok::<_, DbError>(paylink::store::shops::find(conn, company, shop)?.expect("the shop").slug)
        })
        .unwrap()
}

fn buyer_data(app: &TestApp, o: &Order) -> Option<BuyerData> {
    let id = o.id;
    app.db.read_blocking(move |conn| paylink::store::collect::buyer_of(conn, id).map_err(DbError::from)).unwrap()
}

async fn find(client: &Client, slug: &str, reference: &str) -> Page {
    let form = client.get(&format!("/collect/{slug}")).await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    client.post_form(&format!("/collect/{slug}"), &[("reference", reference)]).await
}

const JANE: [(&str, &str); 4] = [
    ("last_name", "Doe"),
    ("first_name", "Jane"),
    ("email", "jane@example.com"),
    ("email_confirm", "jane@example.com"),
];

async fn answer(client: &Client, slug: &str, reference: &str, fields: &[(&str, &str)]) -> Page {
    let mut all = vec![("step", "buyer"), ("reference", reference)];
    all.extend_from_slice(fields);
    client.post_form(&format!("/collect/{slug}"), &all).await
}

#[actix_web::test]
async fn a_buyer_with_only_the_reference_finds_the_invoice_answers_the_form_and_pays_it() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = invoice(&app, &m, "F-2026-0042", "120,00");
    let slug = slug(&app, &m);
    let client = app.client();
    let found = find(&client, &slug, " F-2026-0042 ").await;
    assert_eq!(found.status, 200, "{}", found.excerpt());
    assert_eq!(found.texts("#collect-amount"), ["€120.00"], "the amount, read-only");
    assert_eq!(found.texts("#collect-description"), ["Cleaning, November"]);
    assert_eq!(found.count("input[name=\"amount\"]"), 0, "the amount cannot be typed");
    for field in ["last_name", "first_name", "email", "email_confirm"] {
        assert_eq!(found.count(&format!("input[name=\"{field}\"][required]")), 1, "{field}");
    }
    let paying = answer(&client, &slug, "F-2026-0042", &JANE).await;
    paying.assert_redirect(&format!("/t/{}", o.token));
    let data = buyer_data(&app, &o).expect("the answers are kept with the order");
    assert_eq!((data.last_name.as_deref(), data.email.as_deref()), (Some("Doe"), Some("jane@example.com")));
    // The pay page of that order, then paid.
    let page = client.follow(&paying).await;
    let buyer = Buyer { client, link: format!("/t/{}", o.token), page };
    let receipt = buyer.pay("4970100000000006", "123").await;
    assert!(receipt.body.contains("120.00"), "{}", receipt.excerpt());
    let client = buyer.client;
    let again = find(&client, &slug, "F-2026-0042").await;
    assert_eq!(again.texts("#collect-problem strong"), ["This invoice is already paid."]);
    // ?reference= pre-fills and looks up at once.
    let other = invoice(&app, &m, "F-2026-0043", "80,00");
    let page = client.get(&format!("/collect/{slug}?reference=F-2026-0043")).await;
    assert_eq!(page.texts("#collect-amount"), ["€80.00"]);
    assert_eq!(page.attr("input[name=\"reference\"]", "value").as_deref(), Some("F-2026-0043"));
    let _ = other;
}

#[actix_web::test]
async fn mandatory_fields_and_the_email_confirmation_are_refused_next_to_their_field() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = invoice(&app, &m, "F-1", "50,00");
    let slug = slug(&app, &m);
    let client = app.client();
    find(&client, &slug, "F-1").await;
    let page = answer(
        &client,
        &slug,
        "F-1",
        &[("last_name", "Doe"), ("email", "jane@example.com"), ("email_confirm", "jan@example.com")],
    )
    .await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert_eq!(page.texts("#first_name-error").len(), 1, "{}", page.excerpt());
    assert_eq!(page.texts("#email_confirm-error"), ["The two e-mail addresses differ."]);
    assert_eq!(page.attr("#last_name", "value").as_deref(), Some("Doe"), "what was typed is kept");
    assert_eq!(page.texts("#collect-amount"), ["€50.00"], "still on the invoice");
    assert!(buyer_data(&app, &o).is_none(), "nothing written");
    let page = answer(
        &client,
        &slug,
        "F-1",
        &[("last_name", "Doe"), ("first_name", "J"), ("email", "not-an-email"), ("email_confirm", "not-an-email")],
    )
    .await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#email-error"), 1);
    let page = client.post_form(&format!("/collect/{slug}"), &[("reference", "  ")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#reference-error"), 1);
}

#[actix_web::test]
async fn not_found_expired_cancelled_and_paid_each_get_their_message() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let slug = slug(&app, &m);
    let cancelled = invoice(&app, &m, "F-CANCEL", "10,00");
    let api = crate::acquirer::Api::new(&app, &m);
    api.post_keyed(&format!("/api/v1/payment-orders/{}/cancel", cancelled.id.0), serde_json::json!({}), "c-1")
        .await
        .expect(200);
    let expiring = order_expiring_tomorrow(&app, &m);
    app.clock.advance(Duration::days(3));
    let client = app.client();
    let cases = [
        ("NOPE-404", 404, "No invoice to pay has this reference."),
        ("F-CANCEL", 410, "This invoice was cancelled by the merchant."),
        ("F-EXPIRE", 410, "This invoice can no longer be paid online: its payment period is over."),
    ];
    for (reference, status, message) in cases {
        let page = find(&client, &slug, reference).await;
        assert_eq!(page.status, status, "{reference}: {}", page.excerpt());
        assert_eq!(page.texts("#collect-problem strong"), [message], "{reference}");
        assert_eq!(page.count("#collect-amount"), 0, "{reference}: no amount");
    }
    assert_eq!(expiring.status, OrderStatus::Running);
    // A cancelled invoice whose reference was given again to a new order: the new one.
    let reissued = invoice(&app, &m, "F-CANCEL", "12,00");
    let page = find(&client, &slug, "F-CANCEL").await;
    assert_eq!(page.texts("#collect-amount"), ["€12.00"]);
    let _ = reissued;
}

fn order_expiring_tomorrow(app: &TestApp, m: &CreatedMerchant) -> Order {
    let raw = RawOrder {
        reference: "F-EXPIRE".into(),
        expires: paylink::domain::order_form::ExpiresInput::Date("2026-06-16".into()),
        ..raw("10,00", "en")
    };
    create_orders(app, m, Channel::Invoice, raw).remove(0)
}

#[actix_web::test]
async fn an_unknown_reference_and_another_shops_reference_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let acme = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let other = app.create_merchant("Other", "Other Shop", "bob", "1357");
    invoice(&app, &other, "F-OTHER", "99,00");
    let slug = slug(&app, &acme);
    let client = app.client();
    let unknown = find(&client, &slug, "F-NOBODY").await;
    let foreign = find(&client, &slug, "F-OTHER").await;
    assert_eq!((unknown.status, foreign.status), (404, 404));
    let strip = |p: &Page, reference: &str| {
        let csrf = p.attr("input[name=\"csrf_token\"]", "value").unwrap_or_default();
        p.body.replace(&csrf, "").replace(reference, "REF")
    };
    assert_eq!(strip(&unknown, "F-NOBODY"), strip(&foreign, "F-OTHER"), "the same page, byte for byte");
    assert!(!foreign.body.contains("99.00") && !foreign.body.contains("Other Shop"));
    // The other shop's own form finds it.
    let theirs = find(&client, &self::slug(&app, &other), "F-OTHER").await;
    assert_eq!(theirs.texts("#collect-amount"), ["€99.00"]);
}

#[actix_web::test]
async fn look_ups_are_limited_per_address_and_the_limit_passes_with_the_clock() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    invoice(&app, &m, "F-1", "10,00");
    let slug = slug(&app, &m);
    let client = app.client();
    client.get(&format!("/collect/{slug}")).await;
    for i in 0..10 {
        let page = client.post_form(&format!("/collect/{slug}"), &[("reference", &format!("GUESS-{i}"))]).await;
        assert_eq!(page.status, 404, "guess {i}");
    }
    let page = client.post_form(&format!("/collect/{slug}"), &[("reference", "F-1")]).await;
    assert_eq!(page.status, 429, "the eleventh look-up in a minute, even of a real reference");
    assert!(!page.body.contains("10.00"));
    app.clock.advance(Duration::seconds(61));
    let page = client.post_form(&format!("/collect/{slug}"), &[("reference", "F-1")]).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.texts("#collect-amount"), ["€10.00"]);
}

#[actix_web::test]
async fn an_unknown_shop_or_a_form_without_csrf_is_refused() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    invoice(&app, &m, "F-1", "10,00");
    let client = app.client();
    assert_eq!(client.get("/collect/no-such-shop").await.status, 404);
    let slug = slug(&app, &m);
    client.get(&format!("/collect/{slug}")).await;
    let forged = client.post_form_raw(&format!("/collect/{slug}"), &[("reference", "F-1")]).await;
    assert_eq!(forged.status, 403);
}

#[actix_web::test]
async fn the_invoice_detail_gives_the_form_with_its_reference_and_its_qr_code() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = invoice(&app, &m, "F-2026_7", "10,00");
    let admin = app.client();
    app.log_in_first_time(&admin, &m, "4821", crate::helpers::STRONG).await;
    let detail = admin.get(&format!("/orders/{}", o.id.0)).await;
    let url = detail.attr("#invoice-url", "value").expect("the form's address with the reference");
    assert_eq!(url, format!("{}/collect/{}?reference=F-2026_7", app.settings.public_url, slug(&app, &m)));
    assert_eq!(detail.count("img#invoice-qr[src$=\"/qr.svg\"]"), 1);
    let qr = admin.get(&format!("/orders/{}/qr.svg", o.id.0)).await;
    assert_eq!(qr.status, 200);
    // The address the code holds opens the form on this invoice.
    let path = url.trim_start_matches(&app.settings.public_url);
    let page = app.client().get(path).await;
    assert_eq!(page.texts("#collect-amount"), ["€10.00"], "{}", page.excerpt());
}

#[actix_web::test]
async fn the_buyers_answers_show_on_the_transaction_detail_csv_and_api_and_never_in_the_logs() {
    let logs = crate::pay::captured_logs();
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = invoice(&app, &m, "F-77", "35,00");
    let slug = slug(&app, &m);
    let client = app.client();
    find(&client, &slug, "F-77").await;
    let fields = [
        ("last_name", "Qwertzlaff"),
        ("first_name", "Ynez"),
        ("email", "ynez.qwertzlaff@example.com"),
        ("email_confirm", "ynez.qwertzlaff@example.com"),
    ];
    let paying = answer(&client, &slug, "F-77", &fields).await;
    let page = client.follow(&paying).await;
    let buyer = Buyer { client, link: format!("/t/{}", o.token), page };
    buyer.pay("4970100000000006", "123").await;
    app.run_worker().await;

    let api = crate::acquirer::Api::new(&app, &m);
    let list = api.get(&format!("/api/v1/transactions?order_id={}", o.id)).await;
    let tx = list.expect(200)["items"][0].clone();
    assert_eq!(tx["buyer"]["last_name"], "Qwertzlaff", "{tx}");
    assert_eq!(tx["buyer"]["email"], "ynez.qwertzlaff@example.com");
    let one = api.get(&format!("/api/v1/transactions/{}", tx["id"])).await;
    assert_eq!(one.expect(200)["buyer"]["first_name"], "Ynez");

    let alice = app.client();
    app.log_in_first_time(&alice, &m, "4821", crate::helpers::STRONG).await;
    let detail = alice.get(&format!("/transactions/{}", tx["id"])).await;
    assert_eq!(detail.texts("#buyer dt"), ["Last name", "First name", "E-mail address"]);
    assert_eq!(detail.texts("#buyer dd"), ["Qwertzlaff", "Ynez", "ynez.qwertzlaff@example.com"]);
    let csv = alice.get("/transactions.csv?tab=all").await.body;
    let header = csv.lines().next().unwrap();
    assert!(header.contains("buyer_last_name") && header.contains("info3"), "{header}");
    let line = csv.lines().find(|l| l.contains("F-77")).expect("the transaction's line");
    assert!(line.contains("Qwertzlaff") && line.contains("ynez.qwertzlaff@example.com"), "{line}");

    // A transaction of an order that asked nothing carries none.
    let url = crate::delivery::create_orders(&app, &m, Channel::Url, raw("10", "en")).remove(0);
    let t = crate::transactions::pay(&app, &m, &url).id;
    assert_eq!(api.get(&format!("/api/v1/transactions/{t}")).await.expect(200)["buyer"], serde_json::Value::Null);

    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(!logs.is_empty(), "the logs were captured");
    assert!(!logs.contains("Qwertzlaff") && !logs.contains("ynez.qwertzlaff"), "buyer data in the logs");
}

#[actix_web::test]
async fn a_link_with_the_collection_form_flag_asks_the_form_first_pre_filled_then_the_pay_page() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let flagged = RawOrder {
        reference: "CMD-9".into(),
        use_collection_form: true,
        buyer_email: "kim@example.com".into(),
        ..raw("42", "en")
    };
    let o = create_orders(&app, &m, Channel::Url, flagged).remove(0);
    let link = format!("/t/{}", o.token);
    let client = app.client();
    let page = client.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.count("input[name=\"card_number\"]"), 0, "the form comes first");
    assert_eq!(page.count("input[name=\"reference\"]"), 0, "no reference to type");
    assert_eq!(page.texts("#collect-amount"), ["€42.00"]);
    assert_eq!(page.attr("#email", "value").as_deref(), Some("kim@example.com"), "pre-filled from the order");
    let action = page.attr("#collect-form", "action").expect("a form");
    assert_eq!(action, format!("{link}/buyer"));
    let refused = client
        .post_form(&action, &[("last_name", "Lee"), ("email", "kim@example.com"), ("email_confirm", "kim@example.com")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.texts("#first_name-error").len(), 1);
    assert!(buyer_data(&app, &o).is_none(), "nothing written");
    let fields = [
        ("last_name", "Lee"),
        ("first_name", "Kim"),
        ("email", "kim@example.com"),
        ("email_confirm", "kim@example.com"),
    ];
    let done = client.post_form(&action, &fields).await;
    done.assert_redirect(&link);
    assert_eq!(buyer_data(&app, &o).and_then(|d| d.first_name).as_deref(), Some("Kim"));
    let page = client.follow(&done).await;
    assert_eq!(page.count("input[name=\"card_number\"]"), 1, "then the pay page: {}", page.excerpt());
    let buyer = Buyer { client, link: link.clone(), page };
    let receipt = buyer.pay("4970100000000006", "123").await;
    assert!(receipt.body.contains("42.00"), "{}", receipt.excerpt());
    let api = crate::acquirer::Api::new(&app, &m);
    let list = api.get(&format!("/api/v1/transactions?order_id={}", o.id)).await;
    assert_eq!(list.expect(200)["items"][0]["buyer"]["last_name"], "Lee");

    // The same order without the flag goes straight to its pay page.
    let plain = create_orders(&app, &m, Channel::Url, raw("42", "en")).remove(0);
    let page = app.client().get(&format!("/t/{}", plain.token)).await;
    assert_eq!(page.count("input[name=\"card_number\"]"), 1);
}

// ---- In the browser ----------------------------------------------------------------------

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Finds the invoice by its reference, answers the form and pays it with the frictionless
/// Visa test card, at `width` px.
async fn pay_by_reference(browser: &fantoccini::Client, app: &TestApp, reference: &str, width: u32) -> Res<()> {
    use crate::browser::{axe, fill, screenshot, set_viewport, submit_form_of, wait_for};
    use fantoccini::Locator;
    let suffix = if width < 600 { "-360" } else { "" };
    set_viewport(browser, width, if width < 600 { 740 } else { 900 }).await?;
    browser.goto(&app.url("/collect/acme-shop")).await?;
    wait_for(browser, Locator::Id("reference")).await?;
    screenshot(browser, &format!("collect{suffix}.png")).await?;
    axe(browser, "the collection form").await?;
    fill(browser, "reference", reference).await?;
    submit_form_of(browser, "reference").await?;
    wait_for(browser, Locator::Id("collect-amount")).await?;
    screenshot(browser, &format!("collect-found{suffix}.png")).await?;
    axe(browser, "the invoice found").await?;
    let overflow = browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
    if overflow.as_bool() == Some(true) {
        return Err(format!("the collection form scrolls sideways at {width} px").into());
    }
    for (name, value) in JANE {
        fill(browser, name, value).await?;
    }
    submit_form_of(browser, "email_confirm").await?;
    wait_for(browser, Locator::Css("input[name=\"card_number\"]")).await?;
    for (name, value) in
        [("card_number", "4970100000000006"), ("expiry_month", "12"), ("expiry_year", "2030"), ("cvv", "123")]
    {
        fill(browser, name, value).await?;
    }
    if browser.find(Locator::Css("input[name=\"holder\"]")).await.is_ok() {
        fill(browser, "holder", "Jane Doe").await?;
    }
    submit_form_of(browser, "cvv").await?;
    let receipt = wait_for(browser, Locator::Id("receipt")).await?;
    screenshot(browser, &format!("collect-paid{suffix}.png")).await?;
    let text = receipt.text().await?;
    if !text.contains("120.00") {
        return Err(format!("the receipt does not show the invoice's amount: {text}").into());
    }
    Ok(())
}

/// The merchant's side: the form's settings and a refused import, looked at and checked.
async fn merchant_pages(browser: &fantoccini::Client, app: &TestApp, m: &CreatedMerchant) -> Res<()> {
    use crate::browser::{axe, fill, screenshot, set_viewport, submit_form_of, wait_for, wait_for_path};
    use fantoccini::Locator;
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url("/login")).await?;
    fill(browser, "login", "alice").await?;
    fill(browser, "password", crate::helpers::STRONG).await?;
    submit_form_of(browser, "password").await?;
    wait_for_path(browser, "/orders").await?;
    for width in [1280, 360] {
        let suffix = if width < 600 { "-360" } else { "" };
        set_viewport(browser, width, if width < 600 { 740 } else { 900 }).await?;
        browser.goto(&app.url("/settings/collect-form")).await?;
        wait_for(browser, Locator::Id("collect-url")).await?;
        screenshot(browser, &format!("collect-settings{suffix}.png")).await?;
        axe(browser, "the collection form settings").await?;
        browser.goto(&app.url("/settings/collect-form/preview")).await?;
        wait_for(browser, Locator::Id("collect-preview")).await?;
        screenshot(browser, &format!("collect-preview{suffix}.png")).await?;
        browser.goto(&app.url("/orders/import")).await?;
        wait_for(browser, Locator::Id("file")).await?;
        screenshot(browser, &format!("import{suffix}.png")).await?;
        axe(browser, "the import form").await?;
        let overflow =
            browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
        if overflow.as_bool() == Some(true) {
            return Err(format!("the import form scrolls sideways at {width} px").into());
        }
    }
    // A refused file's page, through the API (a browser cannot be handed a file here).
    let acme = crate::acquirer::Api::new(app, m);
    let refused =
        acme.post_csv("/api/v1/payment-orders/import", "reference;amount\nF-9;15,00\nF-10;quinze\nF-9;1\n", None).await;
    let id = refused.expect(202)["id"].clone();
    for width in [1280, 360] {
        let suffix = if width < 600 { "-360" } else { "" };
        set_viewport(browser, width, if width < 600 { 740 } else { 900 }).await?;
        browser.goto(&app.url(&format!("/orders/import/{id}"))).await?;
        wait_for(browser, Locator::Id("import-errors")).await?;
        screenshot(browser, &format!("import-refused{suffix}.png")).await?;
        axe(browser, "the refused import").await?;
    }
    Ok(())
}

#[actix_web::test]
async fn an_invoice_is_paid_by_its_reference_in_the_browser_on_a_phone_and_a_desktop() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let phone = invoice(&app, &m, "F-2026-0360", "120,00");
    let desktop = invoice(&app, &m, "F-2026-1280", "120,00");
    let driver = crate::browser::ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    app.log_in_first_time(&app.client(), &m, "4821", crate::helpers::STRONG).await;
    let mut outcome = pay_by_reference(&browser, &app, "F-2026-0360", 360).await;
    if outcome.is_ok() {
        outcome = pay_by_reference(&browser, &app, "F-2026-1280", 1280).await;
    }
    if outcome.is_ok() {
        outcome = merchant_pages(&browser, &app, &m).await;
    }
    if let Err(error) = &outcome {
        let shot = crate::browser::screenshot(&browser, "collect-failure.png").await.map(|p| p.display().to_string());
        let _ = browser.close().await;
        panic!("browser flow failed: {error} (screenshot: {shot:?})");
    }
    browser.close().await.expect("close the browser session");
    for o in [phone, desktop] {
        assert!(buyer_data(&app, &o).is_some(), "the answers are kept");
        assert_eq!(crate::pay::transactions(&app, &o).len(), 1, "paid once");
    }
}
