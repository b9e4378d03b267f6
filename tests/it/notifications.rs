//! The notification settings screens (issue 13): rules matched per event and condition, the
//! secret shown once and rolled with an overlap, the deliveries with their attempts, the
//! failure filter, a replay by hand and in bulk, a test event; bad input next to its field.

use chrono::Duration;
use diesel::prelude::*;
use paylink::db::DbError;
use paylink::db::schema::{events, outbox};
use paylink::domain::order::{Channel, Order};
use paylink::domain::order_form::RawOrder;
use paylink::services::merchants::CreatedMerchant;

use crate::acquirer::Api;
use crate::helpers::{Client, STRONG, TestApp};
use crate::pay::raw;
use crate::webhooks::{Receiver, endpoint, verify_with_python};

async fn signed_in(app: &TestApp) -> (CreatedMerchant, Client) {
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let alice = app.client_lang("en");
    app.log_in_first_time(&alice, &m, "4821", STRONG).await;
    (m, alice)
}

fn order(app: &TestApp, m: &CreatedMerchant, channel: Channel, reference: &str) -> Order {
    let r = RawOrder { reference: reference.into(), description: "Cleaning".into(), ..raw("30,00", "en") };
    crate::delivery::create_orders(app, m, channel, r).remove(0)
}

/// The jobs queued for events of `kind`, as (kind of job, payload).
fn jobs_for(app: &TestApp, kind: &str) -> Vec<(String, String)> {
    let kind = kind.to_string();
    app.db
        .read_blocking(move |c| {
            let ids: Vec<i64> = events::table.filter(events::event_type.eq(kind)).select(events::id).load(c)?;
            let jobs: Vec<(String, String)> = outbox::table
                .filter(outbox::event_id.eq_any(ids))
                .order(outbox::id)
                .select((outbox::kind, outbox::payload))
                .load(c)?;
            Ok::<_, DbError>(jobs)
        })
        .unwrap()
}

#[actix_web::test]
async fn rules_set_on_the_screen_match_their_events_channels_and_modes() {
    let app = TestApp::spawn().await;
    // Standard Webhooks' library checks timestamps against the real time.
    app.clock.set(chrono::Utc::now());
    let (m, alice) = signed_in(&app).await;
    let list = alice.get("/settings/notifications").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.count("#rules tbody tr"), 2, "a new shop's two rules: {}", list.excerpt());

    // Refused invoices only, in TEST, called at a local receiver.
    let receiver = Receiver::default();
    let url = receiver.start();
    let form = [
        ("kind", "URL"),
        ("label", "Refused invoices"),
        ("events", "payment.refused"),
        ("channels", "INVOICE"),
        ("modes", "TEST"),
        ("url_test", url.as_str()),
        ("auto_retry", "on"),
        ("enabled", "on"),
    ];
    let created = alice.post_form("/settings/notifications", &form).await;
    assert_eq!(created.status, 200, "{}", created.excerpt());
    let secret = created.texts("#secret").remove(0);
    assert!(secret.starts_with("whsec_"), "{secret}");
    // Its edit page never shows the secret again.
    let rules = alice.get("/settings/notifications").await;
    let href = rules.attrs("#rules tbody a", "href").into_iter().last().unwrap();
    assert!(!alice.get(&href).await.body.contains(&secret));
    // The user who created an order hears of its cancellation.
    let creator = [
        ("kind", "CREATOR_EMAIL"),
        ("label", "Cancelled"),
        ("events", "order.cancelled"),
        ("modes", "TEST"),
        ("enabled", "on"),
    ];
    alice.post_form("/settings/notifications", &creator).await.assert_redirect("/settings/notifications");

    let link = order(&app, &m, Channel::Url, "URL-1");
    crate::transactions::pay_with(&app, &m, &link, false, "01005");
    let invoice = order(&app, &m, Channel::Invoice, "INV-1");
    crate::transactions::pay_with(&app, &m, &invoice, false, "01005");
    let paid_invoice = order(&app, &m, Channel::Invoice, "INV-2");
    crate::transactions::pay(&app, &m, &paid_invoice);
    app.run_worker().await;
    let calls = receiver.all();
    assert_eq!(
        calls.len(),
        1,
        "only the refused invoice: {:?}",
        calls.iter().map(|c| c.body.clone()).collect::<Vec<_>>()
    );
    assert_eq!(calls[0].json()["data"]["order"]["reference"], "INV-1");
    assert_eq!(verify_with_python(&calls, &secret), vec!["payment.refused"]);
    // The default rules: the buyer's confirmation is for a buyer e-mail; the shop's e-mail went.
    let accepted = jobs_for(&app, "payment.accepted");
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert!(accepted[0].1.contains("alice@example.com") && accepted[0].1.contains("INV-2"), "{accepted:?}");
    assert!(jobs_for(&app, "payment.refused").iter().all(|(k, _)| k == "WEBHOOK"));

    let cancelled = Api::new(&app, &m)
        .post(&format!("/api/v1/payment-orders/{}/cancel", link.id.0 + 100), serde_json::json!({}))
        .await;
    assert_eq!(cancelled.status, 404);
    // Created by alice in the back office, cancelled through the API.
    let made = alice
        .post_form("/orders", &[("channel", "url"), ("reference", "URL-2"), ("amount", "12,00"), ("language", "en")])
        .await;
    assert_eq!(made.status, 303, "{}", made.excerpt());
    let fresh: i64 =
        made.location.as_deref().unwrap().trim_start_matches("/orders/").split('?').next().unwrap().parse().unwrap();
    Api::new(&app, &m).post(&format!("/api/v1/payment-orders/{fresh}/cancel"), serde_json::json!({})).await.expect(200);
    let told = jobs_for(&app, "order.cancelled");
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].0 == "EMAIL" && told[0].1.contains("alice@example.com") && told[0].1.contains("URL-2"), "{told:?}");

    // Refusals next to their fields, nothing written.
    let bad = [
        ("kind", "URL"),
        ("label", ""),
        ("modes", "TEST"),
        ("url_test", "http://169.254.169.254/"),
        ("failure_email", "nope"),
    ];
    let page = alice.post_form("/settings/notifications", &bad).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#label-error"), 1, "{}", page.excerpt());
    assert_eq!(page.count("#url_test-error"), 1);
    assert_eq!(page.count("#failure_email-error"), 1);
    assert!(page.texts("#url_test-error")[0].contains("link-local"), "{:?}", page.texts("#url_test-error"));
    assert_eq!(alice.get("/settings/notifications").await.count("#rules tbody tr"), 4);
}

#[actix_web::test]
async fn deliveries_show_each_attempt_and_are_replayed_by_hand_in_bulk_and_with_a_test_event() {
    let app = TestApp::spawn().await;
    // Standard Webhooks' library checks timestamps against the real time.
    app.clock.set(chrono::Utc::now());
    let (m, alice) = signed_in(&app).await;
    let receiver = Receiver::default();
    receiver.script(&[(500, None), (500, None), (500, None)]);
    let url = receiver.start();
    let (rule, secret) = endpoint(&Api::new(&app, &m), &url, &["payment.accepted"]).await;
    // Retries off, on the edit form: the first failure gives up.
    let edit = alice.get(&format!("/settings/notifications/{rule}")).await;
    assert_eq!(edit.attr("#auto_retry", "checked"), Some(String::new()), "{}", edit.excerpt());
    let form = [
        ("kind", "URL"),
        ("label", "Shop server"),
        ("events", "payment.accepted"),
        ("modes", "TEST"),
        ("url_test", url.as_str()),
        ("enabled", "on"),
    ];
    alice.post_form(&format!("/settings/notifications/{rule}"), &form).await.assert_redirect("/settings/notifications");

    let o = order(&app, &m, Channel::Url, "CMD-1");
    crate::transactions::pay(&app, &m, &o);
    assert_eq!(app.run_worker().await.webhooks_abandoned, 1);
    let failed = alice.get("/settings/notifications/deliveries?failed=1").await;
    assert_eq!(failed.count("section.event"), 1, "{}", failed.excerpt());
    assert_eq!(failed.texts(".attempt-status"), ["500"]);
    assert_eq!(failed.texts("pre.response"), ["answer 500"]);
    assert_eq!(failed.texts(".event-state"), ["failed"]);

    // Replay one by hand: same event id, delivered at last.
    let event: i64 = failed.attr("section.event", "id").unwrap().trim_start_matches("event-").parse().unwrap();
    receiver.script(&[]);
    let replayed = alice
        .post_form(&format!("/settings/notifications/deliveries/{event}/replay"), &[("rule", &rule.to_string())])
        .await;
    replayed.assert_redirect("/settings/notifications/deliveries");
    assert_eq!(app.run_worker().await.webhooks_delivered, 1);
    let calls = receiver.all();
    assert_eq!(calls[0].header("webhook-id"), calls[1].header("webhook-id"));
    let all = alice.get("/settings/notifications/deliveries").await;
    assert_eq!(all.texts(".event-state"), ["delivered"]);
    assert_eq!(all.texts(".attempt-status"), ["500", "200"]);
    assert_eq!(alice.get("/settings/notifications/deliveries?failed=1").await.count("section.event"), 0);

    // Two more fail; a bulk replay since today sends both again, in one go.
    receiver.script(&[(503, None), (503, None)]);
    for reference in ["CMD-2", "CMD-3"] {
        let o = order(&app, &m, Channel::Url, reference);
        crate::transactions::pay(&app, &m, &o);
    }
    assert_eq!(app.run_worker().await.webhooks_abandoned, 2);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let bulk = alice.post_form("/settings/notifications/deliveries/replay", &[("since", &today)]).await;
    bulk.assert_redirect("/settings/notifications/deliveries");
    assert_eq!(alice.follow(&bulk).await.texts("#flash"), ["2 calls queued again"]);
    assert_eq!(app.run_worker().await.webhooks_delivered, 2);
    // Nothing failed is left to replay.
    let again = alice.post_form("/settings/notifications/deliveries/replay", &[("since", &today)]).await;
    assert_eq!(alice.follow(&again).await.texts("#flash"), ["0 calls queued again"]);

    // A test event, then a rotation: both secrets sign for 24 hours, then the new one alone.
    alice
        .post_form(&format!("/settings/notifications/{rule}/test"), &[])
        .await
        .assert_redirect("/settings/notifications/deliveries");
    app.run_worker().await;
    assert_eq!(receiver.all().last().unwrap().json()["type"], "webhook.test");
    let rolled = alice.post_form(&format!("/settings/notifications/{rule}/secret"), &[]).await;
    let new_secret = rolled.texts("#secret").remove(0);
    assert_ne!(new_secret, secret);
    alice.post_form(&format!("/settings/notifications/{rule}/test"), &[]).await;
    app.run_worker().await;
    let during = receiver.all().last().unwrap().clone();
    assert_eq!(during.header("webhook-signature").split(' ').count(), 2);
    assert_eq!(during.header("paylink-signature").matches("v1=").count(), 2);
    assert_eq!(verify_with_python(std::slice::from_ref(&during), &secret).len(), 1, "the old secret still verifies");
    assert_eq!(verify_with_python(std::slice::from_ref(&during), &new_secret).len(), 1);
    app.clock.advance(Duration::hours(25));
    app.log_in(&alice, "alice", STRONG).await;
    alice.post_form(&format!("/settings/notifications/{rule}/test"), &[]).await;
    app.run_worker().await;
    let after = receiver.all().last().unwrap().clone();
    assert_eq!(after.header("webhook-signature").split(' ').count(), 1);
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The rules, a rule's form (typed with an error, then saved), and the deliveries, in the
/// browser at a phone's and a desktop's width, axe-core on each.
async fn screens(browser: &fantoccini::Client, app: &TestApp, rule: i64) -> Res<()> {
    use crate::browser::{axe, fill, screenshot, set_viewport, submit_form_of, wait_for, wait_for_path};
    use fantoccini::Locator;
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url("/login")).await?;
    fill(browser, "login", "alice").await?;
    fill(browser, "password", STRONG).await?;
    submit_form_of(browser, "password").await?;
    wait_for_path(browser, "/orders").await?;
    for width in [1280, 360] {
        let suffix = if width < 600 { "-360" } else { "" };
        set_viewport(browser, width, if width < 600 { 740 } else { 900 }).await?;
        for (path, id, name) in [
            ("/settings/notifications".to_string(), "rules", "rules"),
            (format!("/settings/notifications/{rule}"), "rule-form", "rule"),
            ("/settings/notifications/deliveries".to_string(), "bulk-replay", "deliveries"),
        ] {
            browser.goto(&app.url(&path)).await?;
            wait_for(browser, Locator::Id(id)).await?;
            screenshot(browser, &format!("notifications-{name}{suffix}.png")).await?;
            axe(browser, &format!("the {name} screen")).await?;
            let overflow =
                browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
            if overflow.as_bool() == Some(true) {
                return Err(format!("{path} scrolls sideways at {width} px").into());
            }
        }
    }
    // A link-local address is refused next to its field, then a good one is saved.
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url(&format!("/settings/notifications/{rule}"))).await?;
    wait_for(browser, Locator::Id("url_test")).await?;
    browser.find(Locator::Id("url_test")).await?.clear().await?;
    fill(browser, "url_test", "http://169.254.169.254/latest").await?;
    submit_form_of(browser, "url_test").await?;
    let error = wait_for(browser, Locator::Id("url_test-error")).await?;
    screenshot(browser, "notifications-rule-refused.png").await?;
    axe(browser, "the refused rule").await?;
    if !error.text().await?.contains("link-local") {
        return Err("the refusal does not say why".into());
    }
    Ok(())
}

#[actix_web::test]
async fn the_notification_screens_in_the_browser_on_a_phone_and_a_desktop() {
    let app = TestApp::spawn().await;
    let (m, _) = signed_in(&app).await;
    let receiver = Receiver::default();
    receiver.script(&[(500, None)]);
    let url = receiver.start();
    let (rule, _) = endpoint(&Api::new(&app, &m), &url, &["payment.accepted", "payment.refused"]).await;
    let o = order(&app, &m, Channel::Url, "CMD-B");
    crate::transactions::pay_with(&app, &m, &o, false, "01005");
    crate::transactions::pay(&app, &m, &o);
    app.run_worker().await;
    app.clock.advance(Duration::seconds(6));
    app.run_worker().await;
    let driver = crate::browser::ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = screens(&browser, &app, rule).await;
    if let Err(error) = &outcome {
        let shot =
            crate::browser::screenshot(&browser, "notifications-failure.png").await.map(|p| p.display().to_string());
        let _ = browser.close().await;
        panic!("browser flow failed: {error} (screenshot: {shot:?})");
    }
    browser.close().await.expect("close the browser session");
}

#[actix_web::test]
async fn a_shop_sms_rule_texts_the_default_phone_from_the_credits_through_the_gateway() {
    let gw = crate::delivery::Gateway::default();
    let (gateway, _handle) = crate::delivery::start_gateway(gw.clone());
    let app = TestApp::spawn_with(&["--sms-gateway-url", &gateway]).await;
    let (m, alice) = signed_in(&app).await;
    crate::delivery::sms_account(&app, &m, 10);
    let form = [
        ("kind", "MERCHANT_SMS"),
        ("label", "Text me"),
        ("events", "payment.accepted"),
        ("modes", "TEST"),
        ("enabled", "on"),
    ];
    alice.post_form("/settings/notifications", &form).await.assert_redirect("/settings/notifications");
    let o = order(&app, &m, Channel::Url, "CMD-SMS");
    crate::transactions::pay(&app, &m, &o);
    let credits = app
        .db
        .read_blocking(|c| {
            paylink::store::sms::get(c, paylink::domain::ids::ShopId(m.shop_id.0)).map_err(DbError::from)
        })
        .unwrap()
        .unwrap()
        .credits;
    assert_eq!(credits, 9, "one segment taken");
    assert_eq!(app.run_worker().await.sent, 1);
    let received = gw.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1["to"], "+33612345678");
    let text = received[0].1["text"].as_str().unwrap();
    assert!(text.contains("accepted") && text.contains("CMD-SMS") && text.contains("30.00"), "{text}");
    let page = alice.get("/settings/notifications/deliveries").await;
    assert!(
        page.texts(".job").iter().any(|j| j.contains("+33612345678") && j.contains("delivered")),
        "{:?}",
        page.texts(".job")
    );
}
