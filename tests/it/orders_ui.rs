//! The payment order screens of the back office, through the real forms: creation per
//! channel, refusals next to their field, the actions each status offers (seed 001 ch. 12),
//! rights, the list (search, sort, keyset pages, columns, CSV), and a look in Chromium.

use diesel::prelude::*;
use fantoccini::Locator;

use paylink::domain::api_key::Mode;
use paylink::domain::clock::Clock;
use paylink::domain::ids::{CompanyId, ShopId};
use paylink::domain::order::Channel;
use paylink::domain::order_form::{AmountInput, ExpiresInput, OrderDraft, RawOrder};
use paylink::domain::template::VARIABLES;
use paylink::services::merchants::CreatedMerchant;
use paylink::services::orders::{self, OrderContext};
use paylink::store::audit::Actor;
use paylink::store::orders::Order;

use crate::browser::{ChromeDriver, axe, fill, screenshot, set_viewport, wait_for};
use crate::helpers::{Client, Page, STRONG, TestApp};

const CODE: &str = "4821";

/// A merchant whose admin finished the first login; the client is signed in (English).
async fn admin(app: &TestApp) -> (CreatedMerchant, Client) {
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    (m, client)
}

fn order_count(app: &TestApp) -> i64 {
    app.db
        .read_blocking(|conn| {
            paylink::db::schema::payment_orders::table
                .count()
                .get_result::<i64>(conn)
                .map_err(paylink::db::DbError::from)
        })
        .unwrap()
}

/// Creates orders through the service, as the API would (fast: no HTTP).
fn create_orders(app: &TestApp, m: &CreatedMerchant, channel: Channel, raw: RawOrder) -> Vec<Order> {
    let clock = app.clock.clone();
    let public_url = app.settings.public_url.clone();
    app.db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
            let today = clock.now().with_timezone(&shop.settings.time_zone).date_naive();
            let draft = OrderDraft::parse(&raw, channel, &shop.settings, today, today)
                .map_err(paylink::services::ServiceError::Invalid)?;
            let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: "test".into(), ip: None };
            let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: &public_url };
            orders::create(conn, &clock, &ctx, &draft)
        })
        .unwrap()
}

fn url_order(reference: &str, amount: &str) -> RawOrder {
    RawOrder { reference: reference.into(), amount: AmountInput::Decimal(amount.into()), ..Default::default() }
}

fn sms_account(app: &TestApp, m: &CreatedMerchant, credits: i32) {
    let clock = app.clock.clone();
    let key = app.settings.vault_key.expose().to_vec();
    app.db
        .write_blocking(|conn| {
            let raw = paylink::services::sms::RawAccount {
                login: "acme-sms".into(),
                password: "gateway-secret".into(),
                default_phone: String::new(),
                credits: credits.to_string(),
                ..Default::default()
            };
            paylink::services::sms::save(
                conn,
                &clock,
                &Actor::cli(),
                ShopId(m.shop_id.0),
                &raw,
                &key,
                paylink::services::sms::CreditsRight::Set,
            )
            .map(|r| r.unwrap())
        })
        .unwrap();
}

fn sms_credits(app: &TestApp, m: &CreatedMerchant) -> i32 {
    app.db
        .read_blocking(|conn| paylink::store::sms::get(conn, ShopId(m.shop_id.0)).map_err(paylink::db::DbError::from))
        .unwrap()
        .expect("an SMS account")
        .credits
}

/// The id of the order a `303 /orders/{id}` points to.
fn created_id(page: &Page) -> i64 {
    assert_eq!(page.status, 303, "expected a redirect to the new order: {}", page.excerpt());
    let location = page.location.as_deref().unwrap_or("");
    let path = location.split('?').next().unwrap();
    path.strip_prefix("/orders/").and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("not an order: {location}"))
}

/// Posts the create form of `channel` with `fields` (in English, as the English form would).
async fn create_via_form(client: &Client, channel: &str, fields: &[(&str, &str)]) -> Page {
    let mut all: Vec<(&str, &str)> = vec![("channel", channel)];
    all.extend_from_slice(fields);
    if !fields.iter().any(|(n, _)| *n == "language") {
        all.push(("language", "en"));
    }
    client.post_form("/orders", &all).await
}

/// The ids of the action controls a detail page offers, sorted.
fn actions(page: &Page) -> Vec<String> {
    let html = page.html();
    let selector = scraper::Selector::parse(".actions-panel [id^=\"action-\"]").unwrap();
    let mut ids: Vec<String> = html
        .select(&selector)
        .filter_map(|e| e.value().attr("id"))
        .map(|id| id.trim_start_matches("action-").to_string())
        .collect();
    ids.sort();
    ids
}

fn text_of(page: &Page, css: &str) -> String {
    page.texts(css).join(" ")
}

/// Quoted-printable decoding, enough to read a written e-mail.
fn decode_qp(raw: &str) -> String {
    let unfolded = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = unfolded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_web::test]
async fn a_url_order_shows_its_link_and_qr_code_and_is_marked_sent_by_hand() {
    let app = TestApp::spawn().await;
    let (_m, client) = admin(&app).await;

    let form = client.get("/orders/new?channel=url").await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    assert_eq!(form.attr("input[name=channel]", "value").as_deref(), Some("url"));
    assert_eq!(form.attr("#expires_on", "value").as_deref(), Some("2026-07-15"), "shop default: 30 days");
    assert_eq!(form.attr("#currency option[selected]", "value").as_deref(), Some("EUR"));
    assert!(text_of(&form, ".mode-note").contains("TEST"), "the mode is shown on the form");
    assert_eq!(form.count("details.advanced"), 1, "the advanced settings");
    for name in ["reference", "amount", "buyer_email", "message", "currency", "expires_on", "validation_mode"] {
        assert_eq!(form.count(&format!("[name={name}]")), 1, "{name}");
    }
    assert!(form.count("input[name=alias_mode]") == 3 && form.count("input[name=use_collection_form]") == 1);
    assert!(form.contains("Not possible with the collection form"), "the incompatibility is explained");

    let page = create_via_form(
        &client,
        "url",
        &[("reference", "WEB-1"), ("amount", "25,00"), ("buyer_email", "buyer@example.com")],
    )
    .await;
    let id = created_id(&page);
    page.assert_redirect(&format!("/orders/{id}"));
    let detail = client.get(&format!("/orders/{id}")).await;
    assert_eq!(detail.status, 200);
    let link = detail.attr("#pay-link", "value").expect("the payment link");
    assert!(link.starts_with(&format!("{}/t/", app.base)), "{link}");
    assert!(detail.attr("#pay-link", "readonly").is_some(), "selectable without JavaScript");
    let text = text_of(&detail, "#paste-text");
    assert!(text.contains(&link) && text.contains("€25.00") && text.contains("2026-07-15"), "{text}");
    assert!(!text.contains('%'), "variables replaced: {text}");
    assert_eq!(detail.attr("img.qr-image", "src"), Some(format!("/orders/{id}/qr.svg")));
    assert_eq!(text_of(&detail, "#order-status"), "Running");
    assert_eq!(text_of(&detail, "#delivery-status"), "Manual");
    assert_eq!(actions(&detail), ["cancel", "duplicate", "edit", "mark-sent", "preview", "validity"]);

    let svg = client.get(&format!("/orders/{id}/qr.svg")).await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type").as_deref(), Some("image/svg+xml"));
    assert!(svg.body.contains("<svg") && svg.header("content-disposition").unwrap().contains("order-WEB-1-qr.svg"));
    let png = client.http.get(app.url(&format!("/orders/{id}/qr.png"))).send().await.unwrap();
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert_eq!(&png.bytes().await.unwrap()[..8], b"\x89PNG\r\n\x1a\n");

    let page = client.post_form(&format!("/orders/{id}/mark-sent"), &[]).await;
    page.assert_redirect(&format!("/orders/{id}"));
    let detail = client.follow(&page).await;
    assert_eq!(text_of(&detail, "#delivery-status"), "Sent");
    assert!(detail.contains("Order marked as sent."));
    assert_eq!(actions(&detail), ["cancel", "duplicate", "edit", "preview", "validity"], "marked once only");
    assert_eq!(client.post_form(&format!("/orders/{id}/mark-sent"), &[]).await.status, 409);
    let audit = client.get("/audit?action=order.").await;
    assert!(audit.contains("order.created") && audit.contains("order.marked_sent"), "{}", audit.excerpt());
}

#[actix_web::test]
async fn an_email_to_three_recipients_makes_three_orders_whose_emails_are_written_with_every_variable() {
    let app = TestApp::spawn().await;
    let (_m, client) = admin(&app).await;
    let form = client.get("/orders/new?channel=email").await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    let subject = form.attr("#subject", "value").unwrap();
    assert_eq!(subject, "Your payment order", "the shop's default template for the language");
    let message = text_of(&form, "#message");
    assert!(message.contains("%url%") && message.contains("%amount%"), "{message}");
    assert_eq!(form.count("select[name=template_id] option"), 5, "one default per buyer language");
    assert_eq!(form.count("button[name=load_template]"), 1);
    assert_eq!(form.count("input[name=bcc_shop]"), 1);

    let page = create_via_form(
        &client,
        "email",
        &[
            ("reference", "REF"),
            ("amount", "42,50"),
            ("recipients", "a@example.com; b@example.com;c@example.com"),
            ("bcc_shop", "true"),
            ("subject", "Offer %reference% of %amount% until %end_date%"),
            ("message", &form.texts("#message")[0]),
        ],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.excerpt());
    assert_eq!(page.location.as_deref(), Some("/orders?reference=REF*"));
    let list = client.follow(&page).await;
    // Said once: the next page, not a reload.
    assert_eq!(list.texts("#flash"), ["3 orders created"]);
    assert_eq!(client.get("/orders?reference=REF*").await.count("#flash"), 0, "a reload says nothing");
    let mut refs = list.texts("td.ref");
    refs.sort();
    assert_eq!(refs, ["REF-001", "REF-002", "REF-003"]);
    assert_eq!(order_count(&app), 3);

    let report = app.run_worker().await;
    assert_eq!((report.written, report.sent), (3, 0), "no mail server: written, not sent: {report:?}");
    let dir = app.settings.data_dir.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for file in &files {
        let raw = std::fs::read_to_string(file).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(raw.contains("text/plain") && raw.contains("text/html"), "{raw}");
        let mail = decode_qp(&raw);
        for var in VARIABLES {
            assert!(!mail.contains(var), "{var} left in {mail}");
        }
        assert!(mail.contains(&format!("{}/t/", app.base)), "the link: {mail}");
        assert!(mail.contains("€42.50") && mail.contains("Acme Shop"), "{mail}");
        assert!(mail.contains("Subject: Offer REF-00"), "subject variables: {mail}");
    }

    // Each order: not sent (no mail server), and its e-mail downloadable from its message tab.
    let sent = client.get("/orders?reference=REF*&delivery_status=SENT").await;
    assert_eq!(sent.count("td.ref"), 0, "nothing left the server");
    let unsent = client.get("/orders?reference=REF*&delivery_status=NOT_SENT").await;
    assert_eq!(unsent.count("td.ref"), 3, "every order says its e-mail was not sent");
    assert!(unsent.texts("td").iter().any(|c| c == "Not sent: no mail server configured"), "{}", unsent.excerpt());
    let list = client.get("/orders?reference=REF*").await;
    let ids: Vec<i64> = list.texts("a.order-link").iter().map(|t| t.trim_start_matches('#').parse().unwrap()).collect();
    assert_eq!(ids.len(), 3);
    let detail = client.get(&format!("/orders/{}?tab=message", ids[0])).await;
    assert_eq!(text_of(&detail, "#delivery-status"), "Not sent: no mail server configured");
    assert!(text_of(&detail, "#mail-html").contains("Message sent by Acme Shop"), "{}", detail.excerpt());
    assert!(text_of(&detail, "#mail-text").contains("/t/"));
    let eml = detail.attr("a[href*=\"/eml/\"]", "href").expect("a link to the written e-mail");
    let res = client.http.get(app.url(&eml)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "message/rfc822");
    assert!(res.text().await.unwrap().contains("multipart/alternative"));
    // Another order's e-mail is not reachable through this one.
    let job = eml.rsplit('/').next().unwrap();
    assert_eq!(client.get(&format!("/orders/{}/eml/{job}", ids[1])).await.status, 404);
    let preview = client.get(&format!("/orders/{}/message", ids[0])).await;
    assert_eq!(preview.status, 200);
    assert!(text_of(&preview, ".mail-subject").contains("Offer REF-00"));
}

#[actix_web::test]
async fn loading_another_template_works_without_javascript_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (_m, client) = admin(&app).await;
    let form = client.get("/orders/new?channel=email").await;
    let french = form
        .html()
        .select(&scraper::Selector::parse("#template_id option").unwrap())
        .find(|o| o.text().collect::<String>().contains("(FR)"))
        .and_then(|o| o.value().attr("value").map(str::to_string))
        .expect("the French template");
    let page = create_via_form(
        &client,
        "email",
        &[("amount", "10"), ("recipients", "x@example.com"), ("template_id", &french), ("load_template", "1")],
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.attr("#subject", "value").as_deref(), Some("Votre ordre de paiement"));
    assert!(text_of(&page, "#message").contains("Bonjour"));
    assert_eq!(page.attr("#language option[selected]", "value").as_deref(), Some("fr"));
    assert_eq!(page.attr("#recipients", "value").as_deref(), Some("x@example.com"), "what was typed is kept");
    assert_eq!(page.attr("#amount", "value").as_deref(), Some("10"));
    assert_eq!(order_count(&app), 0);
    let page = create_via_form(&client, "email", &[("template_id", "999999"), ("load_template", "1")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#template_id-error"), 1);
}

#[actix_web::test]
async fn sms_orders_need_an_account_and_take_their_cost_in_credits() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    let form = client.get("/orders/new?channel=sms").await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    let text = text_of(&form, "#message");
    assert!(text.starts_with("Hello, here is a payment order of %amount%"), "the seed's default text: {text}");
    assert_eq!(text_of(&form, "#sms-segments"), "1");
    assert!(form.contains("No SMS account is set up"), "{}", form.excerpt());
    // "Send" is disabled and says why, next to it.
    assert_eq!(form.attr(".form-actions button.primary", "disabled").as_deref(), Some(""));
    assert_eq!(form.attr(".form-actions button.primary", "aria-describedby").as_deref(), Some("sms-blocked"));
    assert!(text_of(&form, "#sms-blocked").contains("this shop has no SMS account yet"), "{}", form.excerpt());

    let fields = [("amount", "12"), ("phone", "06 12 34 56 78"), ("message", text.as_str())];
    let page = create_via_form(&client, "sms", &fields).await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert!(text_of(&page, "#phone-error").contains("Set up the shop's SMS account first"), "{}", page.excerpt());
    assert_eq!(page.attr("#phone", "value").as_deref(), Some("06 12 34 56 78"));
    assert_eq!(order_count(&app), 0);

    sms_account(&app, &m, 10);
    let form = client.get("/orders/new?channel=sms").await;
    assert_eq!(text_of(&form, "#sms-credits"), "10");
    assert_eq!(form.attr(".form-actions button.primary", "disabled"), None, "an account: Send works");
    assert_eq!(form.count("#sms-blocked"), 0);
    let page = create_via_form(&client, "sms", &fields).await;
    let id = created_id(&page);
    assert_eq!(sms_credits(&app, &m), 9, "one segment taken");
    let detail = client.get(&format!("/orders/{id}?tab=message")).await;
    assert!(text_of(&detail, "#mail-text").contains("€12.00"));
    assert_eq!(text_of(&detail, "#delivery-status"), "Pending");
    assert_eq!(actions(&detail), ["cancel", "duplicate", "edit", "validity"], "no resend for an SMS");

    // A message longer than the credits left.
    let long = "a".repeat(480);
    let page = create_via_form(&client, "sms", &[("amount", "12"), ("phone", "0612345678"), ("message", &long)]).await;
    assert_eq!(page.status, 303, "4 segments of 9");
    sms_account(&app, &m, 1);
    let page = create_via_form(&client, "sms", &[("amount", "12"), ("phone", "0612345678"), ("message", &long)]).await;
    assert_eq!(page.status, 422);
    assert!(text_of(&page, "#message-error").contains("Not enough SMS credits"), "{}", page.excerpt());
    assert_eq!(text_of(&page, "#sms-segments"), "4", "the server's estimate");
    assert_eq!(order_count(&app), 2);
    assert_eq!(sms_credits(&app, &m), 1);
}

#[actix_web::test]
async fn invoice_orders_need_a_reference_no_other_open_invoice_uses() {
    let app = TestApp::spawn().await;
    let (_m, client) = admin(&app).await;
    let form = client.get("/orders/new?channel=invoice").await;
    assert_eq!(form.status, 200);
    assert_eq!(form.count("textarea[name=description]"), 1);
    assert_eq!(form.count("input[name=alias_mode]"), 0, "no saved card for an invoice");
    let page = create_via_form(&client, "invoice", &[("amount", "80")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#reference-error"), 1);
    let fields = [("reference", "FACT-2026-001"), ("amount", "80,00"), ("description", "Loyer de juin, lot 12")];
    let id = created_id(&create_via_form(&client, "invoice", &fields).await);
    let detail = client.get(&format!("/orders/{id}")).await;
    assert_eq!(
        detail.attr("#collect-url", "value").as_deref(),
        Some(format!("{}/collect/acme-shop", app.settings.public_url).as_str()),
        "{}",
        detail.excerpt()
    );
    assert!(detail.contains("Loyer de juin, lot 12"));
    // No message of its own: no preview, no message tab, no resend.
    assert_eq!(actions(&detail), ["cancel", "duplicate", "edit", "mark-sent", "validity"], "{}", detail.excerpt());
    assert_eq!(detail.count("a[href$='?tab=message']"), 0);
    assert_eq!(client.get(&format!("/orders/{id}/message")).await.status, 409);
    let tab = client.get(&format!("/orders/{id}?tab=message")).await;
    assert_eq!(tab.attr("#collect-url", "value"), detail.attr("#collect-url", "value"), "the facts, not a message");
    let page = create_via_form(&client, "invoice", &fields).await;
    assert_eq!(page.status, 422);
    assert!(
        text_of(&page, "#reference-error")
            .contains("Another invoice that is not cancelled already has this reference.")
    );
    assert_eq!(order_count(&app), 1);
}

#[actix_web::test]
async fn bad_input_is_refused_next_to_its_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let (_m, client) = admin(&app).await;
    let long = "R".repeat(65);
    /// (channel, fields typed, the field refused)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        ("url", vec![("amount", "15,001")], "amount"),
        ("url", vec![("amount", "abc")], "amount"),
        ("url", vec![("amount", "0")], "amount"),
        ("url", vec![("amount", "10"), ("reference", &long)], "reference"),
        ("url", vec![("amount", "10"), ("reference", "A B")], "reference"),
        ("url", vec![("amount", "10"), ("expires_on", "2026-06-14")], "expires_on"),
        ("url", vec![("amount", "10"), ("expires_on", "2026-09-16")], "expires_on"),
        ("url", vec![("amount", "10"), ("buyer_email", "not-an-email")], "buyer_email"),
        (
            "email",
            vec![("amount", "10"), ("recipients", "a@example.com;nope"), ("subject", "S"), ("message", "<p>Hi</p>")],
            "recipients",
        ),
        (
            "url",
            vec![
                ("amount", "10"),
                ("alias_mode", "PROPOSE"),
                ("use_collection_form", "true"),
                ("buyer_email", "jane@example.com"),
            ],
            "alias_mode",
        ),
        ("url", vec![("amount", "10"), ("alias_mode", "AUTO")], "buyer_email"),
        ("sms", vec![("amount", "10"), ("phone", "12")], "phone"),
    ];
    for (channel, fields, field) in cases {
        let page = create_via_form(&client, channel, &fields).await;
        assert_eq!(page.status, 422, "{channel} {fields:?}: {}", page.excerpt());
        assert_eq!(page.count(&format!("p.error#{field}-error")), 1, "{fields:?}: {}", page.excerpt());
        assert_eq!(page.count("p.error"), 1, "only the bad field is marked: {fields:?}");
        let (name, typed) = fields.iter().find(|(n, _)| *n == field).copied().unwrap_or(fields[0]);
        if !matches!(name, "alias_mode" | "use_collection_form") {
            assert_eq!(page.attr(&format!("[name={name}]"), "value").as_deref(), Some(typed), "kept as typed");
        }
        if matches!(field, "expires_on" | "alias_mode") {
            assert!(page.attr("details.advanced", "open").is_some(), "the advanced section opens on its error");
        }
        assert_eq!(order_count(&app), 0, "{fields:?}");
    }
    // The end-of-validity refusals say why.
    let page = create_via_form(&client, "url", &[("amount", "10"), ("expires_on", "2026-09-16")]).await;
    assert!(text_of(&page, "#expires_on-error").contains("3 months"));
    // A form without its token is refused before anything else.
    let res = client.post_form_raw("/orders", &[("channel", "url"), ("amount", "10")]).await;
    assert_eq!(res.status, 403);
    assert_eq!(order_count(&app), 0);
}

#[actix_web::test]
async fn each_status_offers_exactly_the_seed_actions_and_refuses_the_others() {
    let app = TestApp::spawn().await;
    let (_m, client) = admin(&app).await;
    let fields = [
        ("reference", "LIFE-1"),
        ("amount", "99,90"),
        ("recipients", "buyer@example.com"),
        ("subject", "Your order %reference%"),
        ("message", "<p>Pay %amount%: %url%</p>"),
    ];
    let id = created_id(&create_via_form(&client, "email", &fields).await);
    let path = |action: &str| format!("/orders/{id}/{action}");
    let detail = client.get(&format!("/orders/{id}")).await;
    assert_eq!(text_of(&detail, "#order-status"), "Running");
    assert_eq!(actions(&detail), ["cancel", "duplicate", "edit", "preview", "resend", "validity"]);

    // Resend, then modify and resend: two more sendings.
    client.post_form(&path("resend"), &[]).await.assert_redirect(&format!("/orders/{id}"));
    let edit = client.get(&path("edit")).await;
    assert_eq!(edit.status, 200);
    assert_eq!(edit.attr("#amount", "value").as_deref(), Some("99.90"), "prefilled");
    assert_eq!(edit.attr("form.order-form", "action"), Some(path("edit")));
    let mut changed: Vec<(&str, &str)> = fields.to_vec();
    changed.retain(|(n, _)| *n != "amount");
    changed.push(("amount", "89,90"));
    changed.push(("expires_on", "2026-07-20"));
    let page = client.post_form(&path("edit"), &changed).await;
    page.assert_redirect(&format!("/orders/{id}"));
    let detail = client.follow(&page).await;
    assert!(detail.contains("€89.90") && detail.contains("2026-07-20"), "{}", detail.excerpt());
    assert!(text_of(&detail, ".facts").contains("Times sent 3"), "{}", text_of(&detail, ".facts"));
    let bad = client.post_form(&path("edit"), &[("amount", "abc")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.count("#amount-error"), 1);

    // Duplicate: everything but the reference.
    let dup = client.get(&path("duplicate")).await;
    assert_eq!(dup.status, 200);
    assert_eq!(dup.attr("form.order-form", "action").as_deref(), Some("/orders"));
    assert_eq!(dup.attr("#reference", "value").as_deref(), Some(""));
    assert_eq!(dup.attr("#recipients", "value").as_deref(), Some("buyer@example.com"));
    assert_eq!(dup.attr("#amount", "value").as_deref(), Some("89.90"));
    assert_eq!(dup.attr("#subject", "value").as_deref(), Some("Your order %reference%"));

    // CANCELLED: reactivate only.
    client.post_form(&path("cancel"), &[]).await.assert_redirect(&format!("/orders/{id}"));
    let detail = client.get(&format!("/orders/{id}")).await;
    assert_eq!(text_of(&detail, "#order-status"), "Cancelled");
    assert_eq!(actions(&detail), ["duplicate", "preview", "reactivate"]);
    for action in ["cancel", "resend", "mark-sent"] {
        assert_eq!(client.post_form(&path(action), &[]).await.status, 409, "{action} on a cancelled order");
    }
    assert_eq!(client.post_form(&path("validity"), &[("expires_on", "2026-07-30")]).await.status, 409);
    assert_eq!(client.get(&path("edit")).await.status, 409);
    assert_eq!(client.post_form(&path("edit"), &[("amount", "abc")]).await.status, 409, "refused before parsing");
    let page = client.post_form(&path("cancel"), &[]).await;
    assert!(page.contains("not possible"), "the 409 page says why: {}", page.excerpt());

    client.post_form(&path("reactivate"), &[]).await.assert_redirect(&format!("/orders/{id}"));
    assert_eq!(text_of(&client.get(&format!("/orders/{id}")).await, "#order-status"), "Running");

    // Past its end: expired at once, before the worker writes it.
    app.clock.advance(chrono::Duration::days(36));
    app.log_in(&client, "alice", STRONG).await; // the idle session ended meanwhile
    let detail = client.get(&format!("/orders/{id}")).await;
    assert_eq!(text_of(&detail, "#order-status"), "Expired");
    assert_eq!(actions(&detail), ["duplicate", "edit", "preview", "validity"]);
    let list = client.get("/orders?status=EXPIRED").await;
    assert_eq!(list.texts("td.ref"), ["LIFE-1"]);
    for action in ["cancel", "resend", "reactivate"] {
        assert_eq!(client.post_form(&path(action), &[]).await.status, 409, "{action} on an expired order");
    }
    // Change validity: refused in the past or beyond 3 months, then running again.
    let page = client.post_form(&path("validity"), &[("expires_on", "2026-06-30")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("p.error#expires_on-error"), 1);
    assert_eq!(page.attr("#expires_on", "value").as_deref(), Some("2026-06-30"));
    let page = client.post_form(&path("validity"), &[("expires_on", "2026-09-16")]).await;
    assert_eq!(page.status, 422);
    let page = client.post_form(&path("validity"), &[("expires_on", "2026-08-01")]).await;
    page.assert_redirect(&format!("/orders/{id}"));
    let detail = client.follow(&page).await;
    assert_eq!(text_of(&detail, "#order-status"), "Running");
    assert!(detail.contains("End of validity changed."));

    // Cancelled, then past its end: no reactivation.
    client.post_form(&path("cancel"), &[]).await.assert_redirect(&format!("/orders/{id}"));
    app.clock.advance(chrono::Duration::days(20));
    app.log_in(&client, "alice", STRONG).await;
    let detail = client.get(&format!("/orders/{id}")).await;
    assert_eq!(text_of(&detail, "#order-status"), "Cancelled");
    assert_eq!(actions(&detail), ["duplicate", "preview"]);
    assert_eq!(client.post_form(&path("reactivate"), &[]).await.status, 409);
    assert_eq!(app.run_worker().await.orders_expired, 0, "a cancelled order stays cancelled");
}

#[actix_web::test]
async fn viewers_see_orders_but_every_write_is_forbidden() {
    let app = TestApp::spawn().await;
    let (m, admin_client) = admin(&app).await;
    let order = create_orders(&app, &m, Channel::Url, url_order("VIEW-1", "10")).remove(0);
    let viewer = crate::users::create_user_via_ui(&app, &admin_client, "victor", "viewer", "5566").await;
    let client = app.client();
    app.log_in_first_time(&client, &viewer, "5566", STRONG).await;

    let list = client.get("/orders").await;
    assert_eq!(list.texts("td.ref"), ["VIEW-1"]);
    assert_eq!(list.count("a[href^=\"/orders/new\"]"), 0, "no create buttons");
    let detail = client.get(&format!("/orders/{}", order.id)).await;
    assert_eq!(detail.status, 200);
    assert_eq!(actions(&detail), ["preview"], "only reading");
    let id = order.id;
    for path in [
        "/orders".to_string(),
        format!("/orders/{id}/edit"),
        format!("/orders/{id}/resend"),
        format!("/orders/{id}/validity"),
        format!("/orders/{id}/cancel"),
        format!("/orders/{id}/reactivate"),
        format!("/orders/{id}/mark-sent"),
    ] {
        let page = client.post_form(&path, &[("channel", "url"), ("amount", "10"), ("expires_on", "2026-07-01")]).await;
        assert_eq!(page.status, 403, "POST {path}: {}", page.excerpt());
    }
    for path in ["/orders/new?channel=url".to_string(), format!("/orders/{id}/edit"), format!("/orders/{id}/duplicate")]
    {
        assert_eq!(client.get(&path).await.status, 403, "GET {path}");
    }
    assert_eq!(order_count(&app), 1);
    let o = client.get(&format!("/orders/{id}")).await;
    assert_eq!(text_of(&o, "#delivery-status"), "Manual", "unchanged");
}

#[actix_web::test]
async fn another_company_finds_none_of_these_orders() {
    let app = TestApp::spawn().await;
    let (m, _) = admin(&app).await;
    let order = create_orders(&app, &m, Channel::Email, {
        let mut raw = url_order("SECRET-1", "10");
        raw.recipients = "buyer@example.com".into();
        raw.subject = "Pay".into();
        raw.message = "<p>%url%</p>".into();
        raw
    })
    .remove(0);
    app.run_worker().await;
    let job = app
        .db
        .read_blocking(|c| paylink::store::outbox::for_order(c, order.id).map_err(paylink::db::DbError::from))
        .unwrap()[0]
        .id;
    let other = app.create_merchant("Globex", "Globex Shop", "gina", "1234");
    let client = app.client();
    app.log_in_first_time(&client, &other, "1234", STRONG).await;
    let id = order.id;
    for path in [
        format!("/orders/{id}"),
        format!("/orders/{id}?tab=message"),
        format!("/orders/{id}/message"),
        format!("/orders/{id}/qr.svg"),
        format!("/orders/{id}/qr.png"),
        format!("/orders/{id}/edit"),
        format!("/orders/{id}/duplicate"),
        format!("/orders/{id}/eml/{job}"),
    ] {
        assert_eq!(client.get(&path).await.status, 404, "GET {path}");
    }
    for path in ["edit", "resend", "validity", "cancel", "reactivate", "mark-sent"] {
        let page =
            client.post_form(&format!("/orders/{id}/{path}"), &[("amount", "1"), ("expires_on", "2026-07-01")]).await;
        assert_eq!(page.status, 404, "POST {path}: {}", page.excerpt());
    }
    let list = client.get("/orders?reference=SECRET*").await;
    assert_eq!(list.count("td.ref"), 0);
    let csv = client.get("/orders.csv").await;
    assert!(!csv.contains("SECRET-1"));
}

#[actix_web::test]
async fn the_list_searches_and_invites_to_create_when_empty() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    let empty = client.get("/orders").await;
    assert_eq!(empty.status, 200);
    for channel in ["url", "email", "sms", "invoice"] {
        assert!(empty.count(&format!(".invite a[href=\"/orders/new?channel={channel}\"]")) == 1, "{channel}");
    }
    assert!(empty.contains("Create by URL") && empty.contains("Create by SMS"));

    create_orders(&app, &m, Channel::Url, url_order("A-1", "10"));
    create_orders(&app, &m, Channel::Url, url_order("A-2", "20,50"));
    let invoice = RawOrder { reference: "B-1".into(), ..url_order("B-1", "30") };
    create_orders(&app, &m, Channel::Invoice, invoice);
    let mut later = url_order("C-1", "40");
    later.expires = ExpiresInput::Date("2026-08-30".into());
    let c1 = create_orders(&app, &m, Channel::Url, later).remove(0);

    let refs = |page: &Page| {
        let mut r = page.texts("td.ref");
        r.sort();
        r
    };
    assert_eq!(refs(&client.get("/orders?reference=A-*").await), ["A-1", "A-2"]);
    assert_eq!(refs(&client.get("/orders?reference=A-1").await), ["A-1"]);
    assert_eq!(refs(&client.get("/orders?channel=INVOICE").await), ["B-1"]);
    assert_eq!(refs(&client.get("/orders?amount_min=15&amount_max=30,00").await), ["A-2", "B-1"]);
    assert_eq!(refs(&client.get("/orders?expires_from=2026-08-01").await), ["C-1"]);
    assert_eq!(refs(&client.get("/orders?expires_to=2026-07-15").await), ["A-1", "A-2", "B-1"]);
    assert_eq!(refs(&client.get("/orders?created_from=2026-06-15&created_to=2026-06-15").await).len(), 4);
    assert!(client.get("/orders?created_from=2026-06-16").await.contains("No order matches this search."));
    client.post_form(&format!("/orders/{}/cancel", c1.id), &[]).await.assert_redirect(&format!("/orders/{}", c1.id));
    assert_eq!(refs(&client.get("/orders?status=CANCELLED").await), ["C-1"]);
    assert_eq!(refs(&client.get("/orders?delivery_status=MANUAL&channel=URL&status=RUNNING").await), ["A-1", "A-2"]);
    let bad = client.get("/orders?amount_min=abc&created_from=soon").await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.count("p.error#amount_min-error"), 1);
    assert_eq!(bad.count("p.error#created_from-error"), 1);
    assert_eq!(bad.attr("#f-amount-min", "value").as_deref(), Some("abc"));
}

#[actix_web::test]
async fn the_column_chooser_is_remembered_across_logins() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    create_orders(&app, &m, Channel::Url, url_order("COL-1", "10"));
    let list = client.get("/orders").await;
    let headers = list.texts("table.orders-list th");
    assert!(headers.contains(&"Delivery status".to_string()) && !headers.contains(&"Created by".to_string()));
    let page = client
        .post_form(
            "/orders/columns",
            &[
                ("columns", "reference"),
                ("columns", "amount"),
                ("columns", "created_by"),
                ("back", "/orders?channel=URL"),
            ],
        )
        .await;
    page.assert_redirect("/orders");
    assert_eq!(page.location.as_deref(), Some("/orders?channel=URL"), "back to the same search");
    let expected = ["No.", "Reference", "Amount", "Created by"];
    assert_eq!(client.follow(&page).await.texts("table.orders-list th"), expected);

    client.post_form("/logout", &[]).await.assert_redirect("/login");
    let again = app.client();
    let list = app.log_in(&again, "alice", STRONG).await;
    assert_eq!(list.texts("table.orders-list th"), expected);
    assert_eq!(list.texts("td.ref"), ["COL-1"]);
    assert_eq!(list.count("#col-created_by[checked]"), 1);
}

#[actix_web::test]
async fn sorted_pages_walk_every_order_exactly_once() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    for i in 0..120 {
        // Amounts repeat (ties sort by id) and end dates spread over three months.
        let mut raw = url_order(&format!("P-{i:03}"), &format!("{},{:02}", 10 + i % 7, i % 3));
        raw.expires = ExpiresInput::Date(format!("2026-{:02}-{:02}", 7 + i % 3, 1 + i % 15));
        create_orders(&app, &m, Channel::Url, raw);
    }
    for (sort, dir) in
        [("created", "desc"), ("created", "asc"), ("amount", "asc"), ("amount", "desc"), ("expires", "asc")]
    {
        let mut next = Some(format!("/orders?sort={sort}&dir={dir}"));
        let mut seen: Vec<(i64, String, String, String)> = Vec::new();
        let mut pages = 0;
        while let Some(path) = next {
            let page = client.get(&path).await;
            assert_eq!(page.status, 200, "{path}");
            let ids = page.texts("a.order-link");
            let amounts = page.texts("td.num.nowrap");
            let refs = page.texts("td.ref");
            let expires = page.texts("td[data-label=\"Valid until\"]");
            assert!(ids.len() <= 50);
            assert_eq!((amounts.len(), refs.len(), expires.len()), (ids.len(), ids.len(), ids.len()), "{path}");
            for (((id, amount), reference), expires) in ids.iter().zip(amounts).zip(refs).zip(expires) {
                seen.push((id.trim_start_matches('#').parse().unwrap(), amount, reference, expires));
            }
            next = page.attr("a[rel=next]", "href");
            pages += 1;
        }
        assert_eq!(pages, 3, "{sort} {dir}");
        let mut ids: Vec<i64> = seen.iter().map(|s| s.0).collect();
        assert_eq!(ids.len(), 120, "{sort} {dir}");
        let in_order = ids.clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 120, "no duplicates: {sort} {dir}");
        let minor = |a: &str| -> i64 { a.trim_start_matches('€').replace(['.', ','], "").parse().unwrap() };
        let day = |d: &str| -> chrono::NaiveDate {
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap_or_else(|e| panic!("date {d:?}: {e}"))
        };
        // The exact order expected: the rows seen, sorted by the key, ties by id in the same
        // direction (the keyset cursor's order).
        let mut expected = seen.clone();
        match (sort, dir) {
            ("created", "desc") => expected.sort_by_key(|s| std::cmp::Reverse(s.0)),
            ("created", "asc") => expected.sort_by_key(|s| s.0),
            ("amount", "asc") => expected.sort_by_key(|s| (minor(&s.1), s.0)),
            ("amount", "desc") => expected.sort_by_key(|s| std::cmp::Reverse((minor(&s.1), s.0))),
            ("expires", "asc") => expected.sort_by_key(|s| (day(&s.3), s.0)),
            other => panic!("no expected order for {other:?}"),
        }
        let expected_ids: Vec<i64> = expected.iter().map(|s| s.0).collect();
        assert_eq!(in_order, expected_ids, "rows in {sort} {dir} order");
        // The data really varies, so the sort is not trivially satisfied.
        let amounts: std::collections::BTreeSet<&str> = seen.iter().map(|s| s.1.as_str()).collect();
        let days: std::collections::BTreeSet<&str> = seen.iter().map(|s| s.3.as_str()).collect();
        assert_eq!((amounts.len(), days.len()), (21, 15), "{sort} {dir}");
    }
    // The sort links keep the search and flip the direction.
    let page = client.get("/orders?reference=P-*&sort=amount&dir=asc").await;
    let link = page.attr("th[aria-sort=ascending] a", "href").unwrap();
    assert_eq!(link, "/orders?reference=P-%2A&sort=amount&dir=desc");
}

#[actix_web::test]
async fn the_csv_export_has_a_bom_and_semicolons_in_french() {
    let app = TestApp::spawn().await;
    let (m, _) = admin(&app).await;
    create_orders(&app, &m, Channel::Url, url_order("CSV-1", "15"));
    create_orders(&app, &m, Channel::Url, url_order("CSV-2", "1234,5"));
    create_orders(&app, &m, Channel::Url, url_order("OTHER", "1"));
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", STRONG).await;
    let res = fr.http.get(app.url("/orders.csv?reference=CSV*&sort=amount&dir=asc")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xef\xbb\xbf", "UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("id;reference;channel;mode;status;delivery_status;amount;currency"), "{}", lines[0]);
    assert!(lines[1].contains(";CSV-1;URL;TEST;RUNNING;MANUAL;15,00;EUR;"), "{}", lines[1]);
    assert!(lines[2].contains(";CSV-2;") && lines[2].contains("1234,50"), "{}", lines[2]);
    let en = app.client();
    app.log_in(&en, "alice", STRONG).await;
    let text = en.get("/orders.csv?reference=CSV-1").await.body;
    assert!(text.contains(",CSV-1,URL,TEST,RUNNING,MANUAL,15.00,EUR,"), "{text}");
}

/// `count` URL orders `BULK-…` of amounts 1 to 7 €, through the service in one transaction
/// (one commit: fast enough for more rows than an export page).
fn create_many(app: &TestApp, m: &CreatedMerchant, count: usize) {
    let clock = app.clock.clone();
    let public_url = app.settings.public_url.clone();
    app.db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
            let today = clock.now().with_timezone(&shop.settings.time_zone).date_naive();
            let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: "test".into(), ip: None };
            let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: &public_url };
            for i in 0..count {
                let raw = url_order(&format!("BULK-{i:04}"), &(i % 7 + 1).to_string());
                let draft = OrderDraft::parse(&raw, Channel::Url, &shop.settings, today, today)
                    .map_err(paylink::services::ServiceError::Invalid)?;
                orders::create(conn, &clock, &ctx, &draft)?;
            }
            Ok::<_, paylink::services::ServiceError>(())
        })
        .unwrap();
}

/// The data lines of an English export: (id, amount in cents), in file order.
fn exported(body: &str) -> Vec<(i64, i64)> {
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[6].replace('.', "").parse().unwrap())
        })
        .collect()
}

#[actix_web::test]
async fn the_csv_export_streams_every_page_of_the_search_in_its_order() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    // More than two pages of the export's reads (500 rows each).
    let count = 1_201;
    create_many(&app, &m, count);
    let res = client.http.get(app.url("/orders.csv")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-length").is_none(), "streamed, not built in memory first");
    let rows = exported(&res.text().await.unwrap());
    assert_eq!(rows.len(), count);
    assert!(rows.windows(2).all(|w| w[0].0 > w[1].0), "newest first, no row twice");
    // Sorted by amount: seven amounts, so the pages' cursors fall inside runs of equal ones.
    let rows = exported(&client.get("/orders.csv?sort=amount&dir=asc&reference=BULK-*").await.body);
    assert_eq!(rows.len(), count);
    assert!(rows.windows(2).all(|w| (w[0].1, w[0].0) < (w[1].1, w[1].0)), "by amount then id, no row twice");
    assert_eq!((rows[0].1, rows[count - 1].1), (100, 700));
    // A list page's cursor does not cut the export: it starts at the search's first row.
    assert_eq!(exported(&client.get("/orders.csv?after=c.100").await.body).len(), count);
}

// ---------------------------------------------------------------------------------------
// In a real browser

type Res<T> = Result<T, Box<dyn std::error::Error>>;

async fn browser_flow(browser: &fantoccini::Client, app: &TestApp) -> Res<()> {
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url("/login")).await?;
    fill(browser, "login", "alice").await?;
    fill(browser, "password", STRONG).await?;
    crate::browser::submit_form_of(browser, "password").await?;
    crate::browser::wait_for_path(browser, "/orders").await?;

    // The SMS cost follows the text as it is typed (static/orders.js, GSM-7 then UCS-2).
    browser.goto(&app.url("/orders/new?channel=sms")).await?;
    wait_for(browser, Locator::Id("sms-segments")).await?;
    fill(browser, "message", &"a".repeat(200)).await?;
    wait_for(browser, Locator::XPath("//*[@id='sms-segments'][normalize-space(.)='2']")).await?;
    wait_for(browser, Locator::XPath("//*[@id='sms-encoding'][normalize-space(.)='GSM-7']")).await?;
    wait_for(browser, Locator::Css("textarea[name=message]")).await?.send_keys("ç").await?;
    wait_for(browser, Locator::XPath("//*[@id='sms-encoding'][normalize-space(.)='UCS-2']"))
        .await
        .map_err(|e| format!("the live SMS cost did not switch to UCS-2: {e}"))?;
    wait_for(browser, Locator::XPath("//*[@id='sms-segments'][normalize-space(.)='4']")).await?;
    full_page_screenshot(browser, 1280, "order-sms-full.png").await?;
    browser.goto(&app.url("/orders/new?channel=email")).await?;
    wait_for(browser, Locator::Css("textarea[name=message]")).await?;
    full_page_screenshot(browser, 1280, "order-email-full.png").await?;

    // A URL order through the form.
    browser.goto(&app.url("/orders/new?channel=url")).await?;
    wait_for(browser, Locator::Css("input[name=amount]")).await?;
    fill(browser, "reference", "WEB-42").await?;
    fill(browser, "amount", "25,00").await?;
    fill(browser, "buyer_email", "buyer@example.com").await?;
    screenshot(browser, "order-new.png").await?;
    axe(browser, "the new order form").await?;
    wait_for(browser, Locator::Css("details.advanced > summary")).await?.click().await?;
    full_page_screenshot(browser, 1280, "order-new-full.png").await?;
    crate::browser::submit_form_of(browser, "amount").await?;
    wait_for(browser, Locator::Id("pay-link")).await?;
    let img = wait_for(browser, Locator::Css("img.qr-image")).await?;
    let width = browser
        .execute_async(
            "var img = arguments[0], done = arguments[arguments.length - 1];
             if (img.complete) { done(img.naturalWidth); return; }
             img.addEventListener('load', function () { done(img.naturalWidth); });
             img.addEventListener('error', function () { done(0); });",
            vec![serde_json::to_value(&img)?],
        )
        .await?;
    if width.as_u64().unwrap_or(0) == 0 {
        return Err(format!("the QR code image did not load (naturalWidth {width})").into());
    }
    let copy = wait_for(browser, Locator::Css("button[data-copy=\"pay-link\"]")).await?;
    if !copy.is_displayed().await? {
        return Err("the Copy button stays hidden: is static/orders.js loaded?".into());
    }
    screenshot(browser, "order-url.png").await?;
    axe(browser, "the order detail").await?;
    full_page_screenshot(browser, 1280, "order-url-full.png").await?;
    set_viewport(browser, 360, 740).await?;
    browser.refresh().await?;
    wait_for(browser, Locator::Id("pay-link")).await?;
    let overflow = browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
    if overflow.as_bool() == Some(true) {
        return Err("the order page scrolls sideways at 360 px".into());
    }
    screenshot(browser, "order-url-360.png").await?;
    full_page_screenshot(browser, 360, "order-url-360-full.png").await?;
    browser.goto(&app.url("/orders")).await?;
    wait_for(browser, Locator::Css("table.orders-list")).await?;
    full_page_screenshot(browser, 360, "orders-list-360-full.png").await?;
    set_viewport(browser, 1280, 900).await?;
    browser.refresh().await?;
    wait_for(browser, Locator::Css("table.orders-list")).await?;
    screenshot(browser, "orders-list.png").await?;
    axe(browser, "the orders list").await?;
    Ok(())
}

/// The whole page at `width` (the window grows to the page's height), then back to 900 px.
async fn full_page_screenshot(browser: &fantoccini::Client, width: u32, name: &str) -> Res<()> {
    let height = browser.execute("return document.documentElement.scrollHeight;", vec![]).await?;
    let height = height.as_u64().unwrap_or(900).clamp(600, 6000) as u32;
    set_viewport(browser, width, height).await?;
    screenshot(browser, name).await?;
    set_viewport(browser, width, if width < 400 { 740 } else { 900 }).await?;
    Ok(())
}

#[actix_web::test]
async fn a_url_order_in_the_browser() {
    let app = TestApp::spawn().await;
    let (m, _) = admin(&app).await;
    sms_account(&app, &m, 50);
    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = browser_flow(&browser, &app).await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "order-failure.png").await.map(|p| p.display().to_string());
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!(
            "browser flow failed: {error}\n at {url} (screenshot: {shot:?})\npage source:\n{}",
            source.chars().take(4000).collect::<String>()
        );
    }
    browser.close().await.expect("close the browser session");
}

/// Lines of each short cell (24 characters at most) of the orders table that wraps.
async fn wrapped_short_cells(browser: &fantoccini::Client) -> Res<Vec<String>> {
    let v = browser
        .execute(
            "var bad = [];
             document.querySelectorAll('table.orders-list tbody td').forEach(function (td) {
               var text = td.textContent.trim();
               if (!text || text.length > 24) return;
               var range = document.createRange();
               range.selectNodeContents(td);
               var tops = Array.prototype.map.call(range.getClientRects(), function (r) { return r.top; })
                 .sort(function (a, b) { return a - b; });
               var lines = tops.length ? 1 : 0;
               for (var i = 1; i < tops.length; i++) { if (tops[i] - tops[i - 1] > 10) lines++; }
               if (lines > 1) bad.push(text);
             });
             return bad;",
            vec![],
        )
        .await?;
    Ok(v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default())
}

/// How far down the screen the header, menu and TEST banner reach, as a share of its height.
async fn chrome_share(browser: &fantoccini::Client) -> Res<f64> {
    let v = browser
        .execute(
            "window.scrollTo(0, 0);
             var b = document.querySelector('.test-banner') || document.querySelector('nav.menu');
             return b.getBoundingClientRect().bottom / window.innerHeight;",
            vec![],
        )
        .await?;
    Ok(v.as_f64().unwrap_or(1.0))
}

async fn layout_flow(browser: &fantoccini::Client, app: &TestApp, url_order: i64) -> Res<()> {
    set_viewport(browser, 1280, 900).await?;
    for lang in ["en", "fr"] {
        browser.goto(&app.url(&format!("/lang/{lang}?next=/login"))).await?;
        if lang == "en" {
            fill(browser, "login", "alice").await?;
            fill(browser, "password", STRONG).await?;
            crate::browser::submit_form_of(browser, "password").await?;
            crate::browser::wait_for_path(browser, "/orders").await?;
        }
        // At 1280 px no short cell of the orders table wraps, with the default columns.
        set_viewport(browser, 1280, 900).await?;
        browser.goto(&app.url("/orders")).await?;
        wait_for(browser, Locator::Css("table.orders-list")).await?;
        let wrapped = wrapped_short_cells(browser).await?;
        if !wrapped.is_empty() {
            return Err(format!("{lang}: short cells wrap at 1280 px: {wrapped:?}").into());
        }
        screenshot(browser, &format!("orders-list-1280-{lang}.png")).await?;

        // At 360 px the header, menu and TEST banner take at most a fifth of the screen.
        set_viewport(browser, 360, 740).await?;
        for path in ["/orders".to_string(), format!("/orders/{url_order}"), "/transactions".into()] {
            browser.goto(&app.url(&path)).await?;
            wait_for(browser, Locator::Css("nav.menu")).await?;
            let share = chrome_share(browser).await?;
            if share > 0.20 {
                screenshot(browser, &format!("chrome-360-{lang}.png")).await?;
                return Err(
                    format!("{lang} {path}: the header, menu and banner take {:.0}% of 740 px", share * 100.0).into()
                );
            }
        }
        screenshot(browser, &format!("orders-360-chrome-{lang}.png")).await?;

        // The order detail shows the link and its QR code before the action buttons.
        browser.goto(&app.url(&format!("/orders/{url_order}"))).await?;
        let above = browser
            .execute(
                "var link = document.querySelector('.link-box'), actions = document.querySelector('.actions-panel');
                 return !!link && !!actions && link.getBoundingClientRect().top < actions.getBoundingClientRect().top;",
                vec![],
            )
            .await?;
        if above.as_bool() != Some(true) {
            return Err(format!("{lang}: the link box is not above the actions").into());
        }
        screenshot(browser, &format!("order-detail-360-{lang}.png")).await?;
        axe(browser, "the order detail at 360 px").await?;
    }
    Ok(())
}

#[actix_web::test]
async fn the_back_office_keeps_its_layout_at_1280_and_360_px() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    let url = create_orders(&app, &m, Channel::Url, url_order("LAYOUT-URL-0001", "1250,00")).remove(0);
    create_orders(&app, &m, Channel::Url, url_order("L-2", "9,90"));
    let fields = [("amount", "80,00"), ("reference", "FACT-2026-0042"), ("description", "Loyer")];
    assert_eq!(create_via_form(&client, "invoice", &fields).await.status, 303);
    let email = [
        ("reference", "MAIL"),
        ("amount", "42,50"),
        ("recipients", "a.long.address@example.com; b@example.com"),
        ("subject", "Pay"),
        ("message", "<p>%url%</p>"),
    ];
    assert_eq!(create_via_form(&client, "email", &email).await.status, 303);

    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = layout_flow(&browser, &app, url.id.0).await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "layout-failure.png").await.map(|p| p.display().to_string());
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let _ = browser.close().await;
        panic!("layout check failed: {error}\n at {url} (screenshot: {shot:?})");
    }
    browser.close().await.expect("close the browser session");
}
