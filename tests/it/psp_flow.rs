//! Payment services end to end, through HTTP: a merchant sets them up in the back office,
//! creates orders on each, a buyer pays a PRODUCTION link on a fake service's hosted page,
//! the service's notification (or the status asked on return) finalises it; forged and
//! duplicate notifications; refunds and cancellations through the service. The services are
//! the local fakes of `psp_fake` that speak each public API.

use paylink::domain::payment_service::Service;
use serde_json::{Value, json};

use crate::acquirer::Api;
use crate::helpers::{Client, Page, STRONG, TestApp};
use crate::psp_fake::{FakePsp, Outcome};
use paylink::services::merchants::CreatedMerchant;

const CODE: &str = "4821";
pub const MOLLIE_LIVE: &str = "live_Hq8vT3kR9sXw2mNp5bYc";
pub const PAYPLUG_LIVE: &str = "sk_live_7Gh2Kd9LmQ4wXz8R";
pub const PAYZEN_PROD: &str = "69876357:prodpassword_Zx81Qm3Vt7LnW5e";

async fn admin(app: &TestApp) -> (CreatedMerchant, Client) {
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client_lang("en");
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    (m, client)
}

/// Switches the back office to `mode` (the services' forms default to it).
async fn to_production(client: &Client, m: &CreatedMerchant) {
    let shop = m.shop_id.to_string();
    let page = client.post_form("/context", &[("shop_id", shop.as_str()), ("mode", "PRODUCTION")]).await;
    assert_eq!(page.status, 303, "{}", page.excerpt());
}

/// Sets up `service` in PRODUCTION with the fake's base URL; the page answers 303.
pub async fn set_up(client: &Client, service: Service, credentials: &str, fake: &FakePsp, default: bool) -> Page {
    let base = fake.base_url();
    let mut fields = vec![
        ("service", service.as_str()),
        ("mode", "PRODUCTION"),
        ("credentials", credentials),
        ("base_url", base.as_str()),
        ("display_name", ""),
    ];
    if default {
        fields.push(("default", "yes"));
    }
    client.post_form("/settings/payment-services", &fields).await
}

async fn production_order(api: &Api, service: Option<&str>) -> Value {
    let mut body = json!({"channel": "URL", "amount": 1000, "currency": "EUR", "reference": "INV-7"});
    if let Some(s) = service {
        body["payment_service"] = json!(s);
    }
    let res = api.post("/api/v1/payment-orders", body).await;
    assert_eq!(res.status, 201, "{}", res.body);
    res.body
}

fn path_of(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    u.path().to_string()
}

/// The buyer opens the link and presses the service's button: sent to its hosted page.
async fn go_to_service(app: &TestApp, order: &Value, service: Service) -> (Client, String, String) {
    let buyer = app.client_lang("en");
    let link = path_of(order["url"].as_str().unwrap());
    let page = buyer.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.count(&format!("#service-{}", service.as_str())), 1, "{}", page.excerpt());
    assert_eq!(page.count("#unavailable"), 0, "a configured service makes the PRODUCTION link payable");
    let page = buyer.post_form(&format!("{link}/service"), &[("service", service.as_str())]).await;
    assert_eq!(page.status, 303, "{}", page.excerpt());
    let checkout = page.location.clone().unwrap();
    (buyer, link, checkout)
}

async fn order_status(api: &Api, id: i64) -> String {
    let res = api.get(&format!("/api/v1/payment-orders/{id}")).await;
    res.body["status"].as_str().unwrap().to_string()
}

async fn transactions_of(api: &Api, id: i64) -> Vec<Value> {
    let res = api.get(&format!("/api/v1/transactions?order_id={id}")).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.body["items"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_merchant_sets_up_two_services_and_creates_orders_on_each() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    to_production(&client, &m).await;
    let mollie = FakePsp::start(Service::Mollie, MOLLIE_LIVE);
    let payplug = FakePsp::start(Service::PayPlug, PAYPLUG_LIVE);

    // Bad input is refused next to its field, nothing written.
    let page = set_up(&client, Service::Mollie, "test_abc", &mollie, true).await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert_eq!(page.texts("#mollie-credentials-error"), ["This is a TEST key: it cannot be used in PRODUCTION."]);
    let page = set_up(&client, Service::PayZen, "no-colon", &mollie, false).await;
    assert_eq!(page.texts("#payzen-credentials-error"), ["This service expects user:password."]);
    let page = client.get("/settings/payment-services").await;
    assert_eq!(page.count("#no-services"), 1);

    set_up(&client, Service::Mollie, MOLLIE_LIVE, &mollie, true).await.assert_redirect("/settings/payment-services");
    set_up(&client, Service::PayPlug, PAYPLUG_LIVE, &payplug, false)
        .await
        .assert_redirect("/settings/payment-services");
    let page = client.get("/settings/payment-services").await;
    assert_eq!(page.texts("#service-mollie-PRODUCTION code.masked"), ["live_…5bYc"]);
    assert_eq!(page.texts("#service-payplug-PRODUCTION code.masked"), ["sk_live_…Xz8R"]);
    assert!(!page.body.contains(MOLLIE_LIVE) && !page.body.contains(PAYPLUG_LIVE), "credentials never shown again");
    assert_eq!(page.count("#service-mollie-PRODUCTION .default-tag"), 1);

    // Check connection calls each service's API with the credentials.
    let id = page.attr("#service-payplug-PRODUCTION form.inline", "action").unwrap();
    let page = client.post_form(&id, &[]).await;
    assert_eq!(page.status, 303);
    let page = client.follow(&page).await;
    assert_eq!(page.texts("#flash"), ["The service accepted the credentials."]);
    let seen = payplug.api_requests();
    assert_eq!(seen.last().unwrap().header("authorization"), format!("Bearer {PAYPLUG_LIVE}"));

    // An order on each; the pay page offers the order's service only.
    let api = Api::production(&app, &m);
    let on_payplug = production_order(&api, Some("payplug")).await;
    let on_default = production_order(&api, None).await;
    let page = app.client().get(&path_of(on_payplug["url"].as_str().unwrap())).await;
    assert_eq!((page.count("#service-payplug"), page.count("#service-mollie")), (1, 0), "{}", page.excerpt());
    let page = app.client().get(&path_of(on_default["url"].as_str().unwrap())).await;
    assert_eq!((page.count("#service-payplug"), page.count("#service-mollie")), (0, 1), "the default: Mollie");
    // A service the shop has not set up, or none of ours, is refused.
    let res = api
        .post(
            "/api/v1/payment-orders",
            json!({"channel": "URL", "amount": 1000, "currency": "EUR", "payment_service": "payzen"}),
        )
        .await;
    assert_eq!((res.status, res.body["error"]["field"].as_str()), (400, Some("payment_service")), "{}", res.body);
    let res = api
        .post(
            "/api/v1/payment-orders",
            json!({"channel": "URL", "amount": 1000, "currency": "EUR", "payment_service": "paypal"}),
        )
        .await;
    assert_eq!(res.body["error"]["code"], "service.unknown", "{}", res.body);

    // The back-office form offers the choice, and it is kept.
    let page = client.get("/orders/new?channel=url").await;
    assert_eq!(page.texts("#payment_service option"), ["The shop’s default", "Mollie", "PayPlug"]);
}

#[actix_web::test]
async fn a_production_link_is_paid_through_mollie_and_its_notification_finalises_it() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    to_production(&client, &m).await;
    let mollie = FakePsp::start(Service::Mollie, MOLLIE_LIVE);
    set_up(&client, Service::Mollie, MOLLIE_LIVE, &mollie, true).await.assert_redirect("/settings/payment-services");
    let api = Api::production(&app, &m);
    let order = production_order(&api, None).await;
    let order_id = order["id"].as_i64().unwrap();

    // TEST cards never work in PRODUCTION: there is no card form to post to.
    let buyer = app.client_lang("en");
    let link = path_of(order["url"].as_str().unwrap());
    let page = buyer.get(&link).await;
    assert_eq!(page.count("#pay-form"), 0);

    let (buyer, link, checkout) = go_to_service(&app, &order, Service::Mollie).await;
    let id = mollie.last_payment_id().unwrap();
    assert_eq!(checkout, mollie.checkout_url(&id));
    let created = mollie.api_requests().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(created.path, "/v2/payments");
    assert_eq!(created.header("authorization"), format!("Bearer {MOLLIE_LIVE}"));
    let body = created.json();
    assert_eq!(body["amount"], json!({"currency": "EUR", "value": "10.00"}));
    assert_eq!(body["description"], "INV-7");
    assert_eq!(body["redirectUrl"], app.url(&format!("{link}/return")));
    assert_eq!(body["webhookUrl"], app.url(&format!("/notify/mollie/{}", m.shop_id)));

    // Back before the service said anything: the return alone pays nothing; the page waits.
    let page = buyer.get(&format!("{link}/return")).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.count("meta[http-equiv=refresh]"), 1);
    assert!(page.texts("#waiting")[0].contains("Mollie"));
    assert_eq!(order_status(&api, order_id).await, "RUNNING");

    // The notification finalises it.
    assert_eq!(mollie.settle(&id, Outcome::Paid).await, 200);
    assert_eq!(order_status(&api, order_id).await, "PAID");
    let txs = transactions_of(&api, order_id).await;
    assert_eq!(txs.len(), 1);
    let t = &txs[0];
    assert_eq!((t["status"].as_str(), t["return_code"].as_str()), (Some("CAPTURED"), Some("00000")));
    assert_eq!((t["service"].as_str(), t["service_payment_id"].as_str()), (Some("mollie"), Some(id.as_str())));
    assert_eq!(t["card_masked"].as_str().map(|c| &c[c.len() - 4..]), Some("0006"));
    // A duplicate notification writes nothing more.
    assert_eq!(mollie.notify(&id).await, 200);
    assert_eq!(transactions_of(&api, order_id).await.len(), 1);
    // The buyer's return now lands on the receipt.
    let page = buyer.get(&format!("{link}/return")).await;
    page.assert_redirect(&link);
    let page = buyer.follow(&page).await;
    assert_eq!(page.count(".receipt, #receipt"), 1, "{}", page.excerpt());

    // The request and its calls are on the merchant's screen, the key masked.
    let page = client.get("/settings/payment-services/requests").await;
    assert_eq!(page.texts("#requests .request-status"), ["Paid"]);
    let detail = page.attr("#requests tbody a", "href").unwrap();
    let page = client.get(&detail).await;
    assert_eq!(page.texts("#payment-id"), std::slice::from_ref(&id));
    assert!(page.count("section.call") >= 2, "create and fetch: {}", page.excerpt());
    assert!(!page.body.contains(MOLLIE_LIVE));

    // A refund goes through Mollie.
    let tx = t["id"].as_i64().unwrap();
    let res = api.post(&format!("/api/v1/transactions/{tx}/refunds"), json!({"amount": 400})).await;
    assert!(res.status < 300, "{}", res.body);
    assert_eq!(mollie.payment(&id).refunds, [400]);
    let res = api.get(&format!("/api/v1/transactions/{tx}")).await;
    assert_eq!(res.body["refunded_amount"], 400);
}

#[actix_web::test]
async fn forged_and_unknown_notifications_are_refused() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    to_production(&client, &m).await;
    let payzen = FakePsp::start(Service::PayZen, PAYZEN_PROD);
    set_up(&client, Service::PayZen, PAYZEN_PROD, &payzen, true).await.assert_redirect("/settings/payment-services");
    let api = Api::production(&app, &m);
    let order = production_order(&api, None).await;
    let order_id = order["id"].as_i64().unwrap();
    let (_buyer, _link, _) = go_to_service(&app, &order, Service::PayZen).await;
    let id = payzen.last_payment_id().unwrap();
    let created = payzen.api_requests().into_iter().find(|r| r.path.ends_with("CreatePaymentOrder")).unwrap();
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(PAYZEN_PROD);
    assert_eq!(created.header("authorization"), format!("Basic {basic}"));

    // The IPN of the open order, its answer changed to PAID after signing: refused, nothing
    // paid.
    let (content_type, open) = payzen.notification_body(&id);
    assert!(open.contains("RUNNING"), "{open}");
    let forged = open.replace("RUNNING", "PAID");
    payzen.set_status(&id, Outcome::Paid);
    let (_, body) = payzen.notification_body(&id);
    let http = reqwest::Client::new();
    let notify = app.url(&format!("/notify/payzen/{}", m.shop_id));
    let res = http.post(&notify).header("content-type", &content_type).body(forged).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let res = http.post(&notify).header("content-type", &content_type).body("kr-answer=%7B%7D").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400, "no kr-hash");
    assert_eq!(order_status(&api, order_id).await, "RUNNING");
    // Another shop's URL does not take it either (its password differs / it has none).
    let other = app.create_merchant("Other", "Other Shop", "bob", CODE);
    let res = http
        .post(app.url(&format!("/notify/payzen/{}", other.shop_id)))
        .header("content-type", &content_type)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_ne!(res.status().as_u16(), 200);
    assert_eq!(order_status(&api, order_id).await, "RUNNING");

    // The genuine one pays it, once.
    let res = http.post(&notify).header("content-type", &content_type).body(body.clone()).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = http.post(&notify).header("content-type", &content_type).body(body).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "a duplicate is taken and ignored");
    assert_eq!(order_status(&api, order_id).await, "PAID");
    let txs = transactions_of(&api, order_id).await;
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["service"], "payzen");

    // Mollie: an id the shop never asked for is unknown (and never fetched).
    let mollie = FakePsp::start(Service::Mollie, MOLLIE_LIVE);
    set_up(&client, Service::Mollie, MOLLIE_LIVE, &mollie, false).await.assert_redirect("/settings/payment-services");
    let res = http
        .post(app.url(&format!("/notify/mollie/{}", m.shop_id)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("id=tr_Forged12345")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    assert!(mollie.api_requests().iter().all(|r| !r.path.contains("tr_Forged")));
    let res = http
        .post(app.url(&format!("/notify/mollie/{}", m.shop_id)))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("id=../../etc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);

    // PayZen's refund names the transaction uuid; cancelling a PayZen request is refused.
    let tx = txs[0]["id"].as_i64().unwrap();
    let res = api.post(&format!("/api/v1/transactions/{tx}/refunds"), json!({"amount": 1000})).await;
    assert!(res.status < 300, "{}", res.body);
    let refund = payzen.api_requests().into_iter().find(|r| r.path.ends_with("CancelOrRefund")).unwrap();
    assert_eq!(refund.json()["uuid"].as_str(), Some(payzen.payment(&id).transaction_uuid.as_str()));
    let order2 = production_order(&api, None).await;
    go_to_service(&app, &order2, Service::PayZen).await;
    let page = client.get("/settings/payment-services/requests?service=payzen").await;
    let open = page.attr("#requests tbody tr:first-child a", "href").unwrap();
    let page = client.get(&open).await;
    assert_eq!(page.count("#cancel-request"), 0);
    assert_eq!(
        page.texts("#cancel-refused"),
        ["PayZen does not allow cancelling a payment request: it will expire by itself."]
    );
    let page = client.post_form(&format!("{open}/cancel"), &[]).await;
    let page = client.follow(&page).await;
    assert_eq!(page.texts("#flash"), ["PayZen does not allow cancelling a payment request: it will expire by itself."]);
    assert!(payzen.api_requests().iter().all(|r| !r.path.contains("Cancel") || r.path.ends_with("CancelOrRefund")));
}

#[actix_web::test]
async fn a_return_before_the_notification_is_finalised_by_asking_the_service() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    to_production(&client, &m).await;
    let payplug = FakePsp::start(Service::PayPlug, PAYPLUG_LIVE);
    set_up(&client, Service::PayPlug, PAYPLUG_LIVE, &payplug, true).await.assert_redirect("/settings/payment-services");
    let api = Api::production(&app, &m);
    let order = production_order(&api, None).await;
    let order_id = order["id"].as_i64().unwrap();
    let (buyer, link, _) = go_to_service(&app, &order, Service::PayPlug).await;
    let created = payplug.api_requests().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(created.header("payplug-version"), "2019-08-06");
    assert_eq!(created.json()["amount"], 1000);
    let id = payplug.last_payment_id().unwrap();

    // Paid at PayPlug, its notification not come yet: the return asks PayPlug and finalises.
    payplug.set_status(&id, Outcome::Paid);
    let page = buyer.get(&format!("{link}/return")).await;
    page.assert_redirect(&link);
    assert_eq!(order_status(&api, order_id).await, "PAID");
    // The notification arriving afterwards changes nothing.
    assert_eq!(payplug.notify(&id).await, 200);
    assert_eq!(transactions_of(&api, order_id).await.len(), 1);

    // Declined at PayPlug: the order is REFUSED with the mapping's code, payable again.
    let order = production_order(&api, None).await;
    let order_id = order["id"].as_i64().unwrap();
    go_to_service(&app, &order, Service::PayPlug).await;
    let id = payplug.last_payment_id().unwrap();
    assert_eq!(payplug.settle(&id, Outcome::Declined).await, 200);
    assert_eq!(order_status(&api, order_id).await, "REFUSED");
    let txs = transactions_of(&api, order_id).await;
    assert_eq!((txs[0]["status"].as_str(), txs[0]["return_code"].as_str()), (Some("REFUSED"), Some("02020")));

    // A service answering 5xx: the buyer is told to try later, and the request shows FAILED.
    payplug.fail_next(503, 1);
    let order = production_order(&api, None).await;
    let buyer = app.client_lang("en");
    let link = path_of(order["url"].as_str().unwrap());
    buyer.get(&link).await;
    let page = buyer.post_form(&format!("{link}/service"), &[("service", "payplug")]).await;
    assert_eq!(page.status, 503, "{}", page.excerpt());
    let page = client.get("/settings/payment-services/requests").await;
    assert_eq!(page.texts("#requests .request-status")[0], "Failed");

    // Cancelling an open PayPlug request aborts it at PayPlug.
    let order = production_order(&api, None).await;
    go_to_service(&app, &order, Service::PayPlug).await;
    let id = payplug.last_payment_id().unwrap();
    let page = client.get("/settings/payment-services/requests").await;
    let open = page.attr("#requests tbody tr:first-child a", "href").unwrap();
    let page = client.post_form(&format!("{open}/cancel"), &[]).await;
    let page = client.follow(&page).await;
    assert_eq!(page.texts("#flash"), ["Request cancelled."]);
    assert_eq!(page.texts("#request-status"), ["Cancelled"]);
    assert_eq!(payplug.payment(&id).outcome, Outcome::Cancelled);
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The merchant's screens and the buyer's redirect through the fake Mollie page, in the
/// browser at a phone's and a desktop's width, axe-core on each of paylink's pages.
async fn in_the_browser(browser: &fantoccini::Client, app: &TestApp, link: &str) -> Res<()> {
    use crate::browser::{axe, fill, screenshot, set_viewport, submit_form_of, wait_for, wait_for_path};
    use fantoccini::Locator;
    set_viewport(browser, 1280, 900).await?;
    // The buyer: the PRODUCTION pay page offers Mollie; its button leaves for Mollie's page.
    for (width, suffix) in [(390, "-390"), (1280, "")] {
        set_viewport(browser, width, if width < 600 { 844 } else { 900 }).await?;
        browser.goto(&app.url(link)).await?;
        wait_for(browser, Locator::Id("service-mollie")).await?;
        screenshot(browser, &format!("services-pay-page{suffix}.png")).await?;
        axe(browser, "the pay page with a service").await?;
    }
    browser.find(Locator::Id("service-mollie")).await?.click().await?;
    wait_for(browser, Locator::Id("pay")).await?.click().await?;
    // Mollie notified paylink, then sent the buyer back: the receipt.
    wait_for(browser, Locator::Id("receipt")).await?;
    screenshot(browser, "services-receipt.png").await?;
    axe(browser, "the receipt of a service's payment").await?;

    // The merchant.
    browser.goto(&app.url("/login")).await?;
    fill(browser, "login", "alice").await?;
    fill(browser, "password", STRONG).await?;
    submit_form_of(browser, "password").await?;
    wait_for_path(browser, "/orders").await?;
    browser.find(Locator::Css("form.modes button[value=PRODUCTION]")).await?.click().await?;
    wait_for(browser, Locator::Css("form.modes button[value=PRODUCTION][aria-pressed=true]")).await?;
    for width in [1280, 360] {
        let suffix = if width < 600 { "-360" } else { "" };
        set_viewport(browser, width, if width < 600 { 740 } else { 900 }).await?;
        for (path, id, name) in [
            ("/settings/payment-services", "services", "settings"),
            ("/settings/payment-services/requests", "requests", "requests"),
        ] {
            browser.goto(&app.url(path)).await?;
            wait_for(browser, Locator::Id(id)).await?;
            screenshot(browser, &format!("services-{name}{suffix}.png")).await?;
            axe(browser, &format!("the {name} screen")).await?;
            let overflow =
                browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
            if overflow.as_bool() == Some(true) {
                return Err(format!("{path} scrolls sideways at {width} px").into());
            }
        }
        browser.find(Locator::Css("#requests tbody a")).await?.click().await?;
        wait_for(browser, Locator::Id("request-facts")).await?;
        screenshot(browser, &format!("services-request{suffix}.png")).await?;
        axe(browser, "a payment request").await?;
    }
    Ok(())
}

#[actix_web::test]
async fn a_redirect_payment_through_the_fake_service_page_in_the_browser() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    to_production(&client, &m).await;
    let mollie = FakePsp::start(Service::Mollie, MOLLIE_LIVE);
    set_up(&client, Service::Mollie, MOLLIE_LIVE, &mollie, true).await.assert_redirect("/settings/payment-services");
    let api = Api::production(&app, &m);
    let order = production_order(&api, None).await;
    let link = path_of(order["url"].as_str().unwrap());
    let driver = crate::browser::ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = in_the_browser(&browser, &app, &link).await;
    if let Err(error) = &outcome {
        let shot = crate::browser::screenshot(&browser, "services-failure.png").await.map(|p| p.display().to_string());
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!(
            "browser flow failed: {error} (screenshot: {shot:?})\n{}",
            source.chars().take(3000).collect::<String>()
        );
    }
    browser.close().await.expect("close the browser session");
    assert_eq!(order_status(&api, order["id"].as_i64().unwrap()).await, "PAID");
    assert_eq!(mollie.notifications().len(), 1, "paid by the notification");
}

#[actix_web::test]
async fn the_worker_asks_the_service_about_a_request_nobody_came_back_from() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    to_production(&client, &m).await;
    let mollie = FakePsp::start(Service::Mollie, MOLLIE_LIVE);
    set_up(&client, Service::Mollie, MOLLIE_LIVE, &mollie, true).await.assert_redirect("/settings/payment-services");
    let api = Api::production(&app, &m);
    let paid = production_order(&api, None).await;
    go_to_service(&app, &paid, Service::Mollie).await;
    let paid_at_mollie = mollie.last_payment_id().unwrap();
    let open = production_order(&api, None).await;
    go_to_service(&app, &open, Service::Mollie).await;
    let still_open = mollie.last_payment_id().unwrap();
    // Paid at Mollie, its notification lost, the buyer gone: nothing happens within the day…
    mollie.set_status(&paid_at_mollie, Outcome::Paid);
    app.run_worker().await;
    assert_eq!(order_status(&api, paid["id"].as_i64().unwrap()).await, "RUNNING");
    // …then the worker asks Mollie about both, and writes what it says.
    app.clock.advance(chrono::Duration::hours(25));
    let fetches = |id: &str| mollie.api_requests().iter().filter(|r| r.method == "GET" && r.path.ends_with(id)).count();
    app.run_worker().await;
    assert_eq!(order_status(&api, paid["id"].as_i64().unwrap()).await, "PAID");
    assert_eq!(order_status(&api, open["id"].as_i64().unwrap()).await, "RUNNING", "still open at Mollie");
    assert_eq!((fetches(&paid_at_mollie), fetches(&still_open)), (1, 1));
    // The open one is asked again later, not at every round.
    app.run_worker().await;
    assert_eq!(fetches(&still_open), 1);
    app.clock.advance(chrono::Duration::hours(7));
    app.run_worker().await;
    assert_eq!(fetches(&still_open), 2);
}

#[actix_web::test]
async fn an_app_wallet_session_nobody_answered_ends_with_02324() {
    let app = TestApp::spawn().await;
    let (m, client) = admin(&app).await;
    let page = client
        .post_form(
            "/settings/payment-services",
            &[("service", "wallet"), ("mode", "TEST"), ("credentials", ""), ("base_url", ""), ("display_name", "")],
        )
        .await;
    page.assert_redirect("/settings/payment-services");
    let api = Api::new(&app, &m);
    let res = api.post("/api/v1/payment-orders", json!({"channel": "URL", "amount": 1500, "currency": "EUR"})).await;
    let (order_id, link) = (res.body["id"].as_i64().unwrap(), path_of(res.body["url"].as_str().unwrap()));
    let buyer = app.client_lang("en");
    buyer.get(&format!("{link}/app")).await;
    let page = buyer.post_form(&format!("{link}/app"), &[("first_name", "Jane"), ("last_name", "Doe")]).await;
    assert_eq!(page.status, 303, "{}", page.excerpt());
    app.clock.advance(chrono::Duration::minutes(14));
    app.run_worker().await;
    assert!(transactions_of(&api, order_id).await.is_empty(), "the session is still open");
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_worker().await;
    let txs = transactions_of(&api, order_id).await;
    assert_eq!(
        (txs.len(), txs[0]["return_code"].as_str(), txs[0]["service"].as_str()),
        (1, Some("02324"), Some("wallet"))
    );
    assert_eq!(order_status(&api, order_id).await, "REFUSED", "not paid, payable again");
}
