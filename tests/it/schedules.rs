//! Payment in instalments, end to end: the buyer chooses three instalments on the pay page
//! (the first charged at once, with a challenge), the worker charges the others on their dates
//! with a moved clock, retries a refusal that may be retried, and when the retries run out
//! the merchant and the buyer are e-mailed and the balance link pays the rest. A card that
//! refuses charges without its holder is never retried; two workers never charge one
//! instalment twice.

use std::sync::Arc;

use chrono::Duration;
use diesel::prelude::*;
use paylink::db::DbError;
use paylink::domain::clock::Clock;
use paylink::domain::ids::ShopId;
use paylink::domain::instalments::{InstalmentSettings, Interval};
use paylink::domain::order::OrderStatus;
use paylink::domain::order_form::RawOrder;
use paylink::domain::schedule::{Instalment, InstalmentStatus, Plan, PlanStatus};
use paylink::services::merchants::CreatedMerchant;
use paylink::store::orders::Order;
use paylink::store::transactions::TxStatus;

use crate::acquirer::{Behave, Fake};
use crate::helpers::{Page, TestApp};
use crate::pay::{Buyer, order_with, outbox_files, raw, transactions};

const FRICTIONLESS: &str = "4970100000000006";
const BUYER_PRESENT: &str = "4970100000000055";
const MASTERCARD: &str = "5970100000000003";
const JANE: &str = "jane@example.com";

pub fn offer(app: &TestApp, shop: ShopId, retry_days: Vec<u16>) {
    let now = app.clock.now_naive();
    let settings = InstalmentSettings {
        enabled: true,
        max_count: 3,
        first_share_percent: None,
        min_amount: 5000,
        interval: Interval::Monthly,
        retry_days,
    };
    app.db
        .write_blocking(|conn| paylink::store::instalments::save(conn, shop, &settings, now).map_err(DbError::from))
        .unwrap();
}

async fn shop_with_offer(fake: Option<&Arc<Fake>>) -> (TestApp, CreatedMerchant) {
    let app = match fake {
        Some(f) => TestApp::spawn_with_acquirer(f.clone(), std::time::Duration::from_secs(2)).await,
        None => TestApp::spawn().await,
    };
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    offer(&app, ShopId(m.shop_id.0), vec![1, 3]);
    (app, m)
}

fn order(app: &TestApp, m: &CreatedMerchant, amount: &str) -> Order {
    order_with(app, m, RawOrder { reference: "CMD-3X".into(), buyer_email: JANE.into(), ..raw(amount, "en") })
}

/// Posts the form with a card expiring `month/year` and `instalments` chosen.
async fn choose(buyer: &Buyer, number: &str, month: &str, year: &str, instalments: &str) -> Page {
    let session = buyer.session();
    let fields = [
        ("card_number", number),
        ("expiry_month", month),
        ("expiry_year", year),
        ("cvv", "123"),
        ("holder", "Jane Doe"),
        ("session", session.as_str()),
        ("instalments", instalments),
    ];
    buyer.client.post_form(&buyer.link, &fields).await
}

/// Pays `o` in three with `number`, through the challenge a schedule forces: the receipt.
pub async fn pay_in_three(app: &TestApp, o: &Order, number: &str) -> Page {
    let buyer = Buyer::open(app, o).await;
    assert_eq!(buyer.page.count("#instalments input[name=\"instalments\"]"), 2, "{}", buyer.page.excerpt());
    let answer = choose(&buyer, number, "12", "2030", "3").await;
    assert_eq!(answer.status, 303, "{}", answer.excerpt());
    let location = answer.location.clone().unwrap();
    assert!(location.contains("/3ds?c="), "a schedule is set up with a challenge: {location}");
    let c = location.split("?c=").nth(1).unwrap().to_string();
    buyer.answer_and_follow(&c, "approve").await
}

fn schedule(app: &TestApp, o: &Order) -> (Plan, Vec<Instalment>) {
    let id = o.id;
    app.db
        .read_blocking(move |conn| {
            let plan = paylink::store::schedules::plan(conn, id)?.expect("a plan");
            Ok::<_, DbError>((plan, paylink::store::schedules::instalments(conn, id)?))
        })
        .unwrap()
}

fn in_vault(app: &TestApp, token: &str) -> bool {
    use paylink::db::schema::vault_records as v;
    let token = token.to_string();
    app.db
        .read_blocking(move |conn| {
            Ok::<_, DbError>(v::table.filter(v::token.eq(token)).count().get_result::<i64>(conn)? == 1)
        })
        .unwrap()
}

fn statuses(is: &[Instalment]) -> Vec<InstalmentStatus> {
    is.iter().map(|i| i.status).collect()
}

fn order_now(app: &TestApp, o: &Order) -> Order {
    let token = o.token.clone();
    app.db
        .read_blocking(move |conn| paylink::store::orders::find_by_token(conn, &token).map_err(DbError::from))
        .unwrap()
        .unwrap()
}

/// From 15 June 10:00 UTC: the second instalment is due on 15 July at 00:00 in Paris.
const TO_SECOND: i64 = 30;

#[actix_web::test]
async fn three_instalments_the_first_now_and_the_others_charged_by_the_worker_on_their_dates() {
    let fake = Fake::new();
    let (app, m) = shop_with_offer(Some(&fake)).await;
    let o = order(&app, &m, "300,00");
    let buyer = Buyer::open(&app, &o).await;
    let rows = buyer.page.texts("#schedule tbody tr");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains("Today") && rows[0].contains("100.00"), "{rows:?}");
    assert!(rows[1].contains("15 July 2026") || rows[1].contains("07/15/2026") || rows[1].contains("2026"), "{rows:?}");
    let receipt = pay_in_three(&app, &o, FRICTIONLESS).await;
    assert!(receipt.body.contains("100.00"), "the receipt shows the first instalment: {}", receipt.excerpt());
    assert_eq!(order_now(&app, &o).status, OrderStatus::Paid, "paid once the first is accepted");
    let (plan, is) = schedule(&app, &o);
    assert_eq!(plan.status, PlanStatus::Running);
    assert_eq!(is.iter().map(|i| i.amount).collect::<Vec<_>>(), [10000, 10000, 10000]);
    assert_eq!(statuses(&is), [InstalmentStatus::Paid, InstalmentStatus::Pending, InstalmentStatus::Pending]);
    assert!(in_vault(&app, &plan.card_token), "the card is kept for the schedule");
    let first = transactions(&app, &o);
    assert_eq!(first.len(), 1);
    assert_eq!((first[0].amount.minor, first[0].instalment), (10000, Some((1, 3))));

    // Not yet due: nothing is charged.
    app.clock.advance(Duration::days(TO_SECOND - 1));
    assert_eq!(app.run_worker().await.instalments_charged, 0);
    assert_eq!(fake.count("authorise"), 1);
    app.clock.advance(Duration::days(1));
    assert_eq!(app.run_worker().await.instalments_charged, 1);
    assert_eq!(app.run_worker().await.instalments_charged, 0, "charged once");
    assert_eq!(statuses(&schedule(&app, &o).1)[1], InstalmentStatus::Paid);
    app.clock.advance(Duration::days(31));
    assert_eq!(app.run_worker().await.instalments_charged, 1);
    let (plan, is) = schedule(&app, &o);
    assert_eq!(plan.status, PlanStatus::Completed);
    assert_eq!(statuses(&is), [InstalmentStatus::Paid; 3]);
    assert!(!in_vault(&app, &plan.card_token), "the card leaves the vault with the last instalment");
    let all = transactions(&app, &o);
    let mut seen: Vec<_> = all.iter().map(|t| (t.instalment, t.amount.minor, t.status)).collect();
    seen.sort_by_key(|(i, _, _)| *i);
    assert_eq!(
        seen,
        [
            (Some((1, 3)), 10000, TxStatus::Captured),
            (Some((2, 3)), 10000, TxStatus::Captured),
            (Some((3, 3)), 10000, TxStatus::Captured)
        ]
    );
    assert_eq!(fake.count("authorise"), 3, "one authorisation per instalment");
    app.clock.advance(Duration::days(60));
    assert_eq!(app.run_worker().await.instalments_charged, 0);
}

#[actix_web::test]
async fn a_refused_instalment_is_tried_again_on_the_retry_day_and_then_paid() {
    let fake = Fake::new();
    let (app, m) = shop_with_offer(Some(&fake)).await;
    let o = order(&app, &m, "300,00");
    pay_in_three(&app, &o, FRICTIONLESS).await;
    fake.set(Behave::DeclineMit);
    app.clock.advance(Duration::days(TO_SECOND));
    let round = app.run_worker().await;
    assert_eq!((round.instalments_charged, round.instalments_retried), (0, 1), "{round:?}");
    let second = schedule(&app, &o).1.remove(1);
    assert_eq!(
        (second.status, second.tries, second.last_code.as_deref()),
        (InstalmentStatus::Pending, 1, Some("01005"))
    );
    // The retry is a day after the due date, not before.
    app.clock.advance(Duration::hours(6));
    assert_eq!(app.run_worker().await.instalments_retried, 0);
    fake.set(Behave::Normal);
    app.clock.advance(Duration::hours(18));
    assert_eq!(app.run_worker().await.instalments_charged, 1);
    let (plan, is) = schedule(&app, &o);
    assert_eq!(plan.status, PlanStatus::Running);
    assert_eq!(statuses(&is), [InstalmentStatus::Paid, InstalmentStatus::Paid, InstalmentStatus::Pending]);
    let refused: Vec<_> = transactions(&app, &o).into_iter().filter(|t| t.status == TxStatus::Refused).collect();
    assert_eq!(refused.len(), 1, "the refusal is a transaction of its own");
    assert_eq!(refused[0].instalment, Some((2, 3)));
}

#[actix_web::test]
async fn when_the_retries_run_out_both_are_emailed_and_the_balance_link_pays_the_rest() {
    let fake = Fake::new();
    let (app, m) = shop_with_offer(Some(&fake)).await;
    let o = order(&app, &m, "300,00");
    pay_in_three(&app, &o, FRICTIONLESS).await;
    app.run_worker().await;
    let mails_before = outbox_files(&app).len();
    fake.set(Behave::DeclineMit);
    app.clock.advance(Duration::days(TO_SECOND));
    assert_eq!(app.run_worker().await.instalments_retried, 1);
    app.clock.advance(Duration::days(1));
    assert_eq!(app.run_worker().await.instalments_retried, 1, "the second try, a day after");
    app.clock.advance(Duration::days(2));
    let round = app.run_worker().await;
    assert_eq!(round.schedules_failed, 1, "the third try, three days after, was the last: {round:?}");
    let (plan, is) = schedule(&app, &o);
    assert_eq!(plan.status, PlanStatus::Failed);
    assert_eq!(statuses(&is), [InstalmentStatus::Paid, InstalmentStatus::Failed, InstalmentStatus::Cancelled]);
    assert!(!in_vault(&app, &plan.card_token), "the card leaves the vault");
    let balance_id = plan.balance_order_id.expect("a balance order");
    let api = crate::acquirer::Api::new(&app, &m);
    let got = api.get(&format!("/api/v1/payment-orders/{}", o.id.0)).await;
    assert_eq!(got.expect(200)["schedule_status"], "FAILED");
    assert_eq!(got.body["balance_order_id"], balance_id.0);
    assert_eq!(got.body["schedule"][1]["status"], "FAILED");
    assert_eq!(got.body["schedule"][1]["tries"], 3);

    let mails = outbox_files(&app);
    assert_eq!(mails.len(), mails_before + 2, "one e-mail to the merchant, one to the buyer");
    let merchant = mails
        .iter()
        .find(|(raw, _)| raw.contains("\nTo: alice@example.com") && raw.contains("Subject: Instalments"))
        .unwrap_or_else(|| {
            panic!(
                "the merchant's e-mail: {:?}",
                mails
                    .iter()
                    .map(|m| m
                        .0
                        .lines()
                        .filter(|l| l.starts_with("To:") || l.starts_with("Subject:"))
                        .collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            )
        });
    assert!(merchant.1.contains("Instalments failed for order CMD-3X"), "{}", merchant.1);
    assert!(merchant.1.contains("200.00"), "{}", merchant.1);
    let buyer_mail = mails
        .iter()
        .find(|(raw, text)| raw.contains(&format!("\nTo: {JANE}")) && text.contains("remain"))
        .expect("the buyer's e-mail");
    assert!(buyer_mail.1.contains("200.00 remain to be paid"), "{}", buyer_mail.1);
    let url = buyer_mail.1.split_whitespace().find(|w| w.contains("/t/")).expect("a link").to_string();
    let token = url.rsplit("/t/").next().unwrap().trim_end_matches(['.', ',']).to_string();

    // The balance link: 200.00, paid with another card, and no more charges of the schedule.
    let balance = app
        .db
        .read_blocking(move |conn| paylink::store::orders::find_by_token(conn, &token).map_err(DbError::from))
        .unwrap()
        .expect("the balance order");
    assert_eq!(balance.id, balance_id);
    assert_eq!(balance.amount.minor, 20000);
    let buyer = Buyer::open(&app, &balance).await;
    assert_eq!(buyer.page.count("#instalments"), 0, "a balance is paid at once");
    let receipt = buyer.pay(MASTERCARD, "123").await;
    assert!(receipt.body.contains("200.00"), "{}", receipt.excerpt());
    assert_eq!(order_now(&app, &balance).status, OrderStatus::Paid);
    let authorised = fake.count("authorise");
    app.clock.advance(Duration::days(40));
    app.run_worker().await;
    assert_eq!(fake.count("authorise"), authorised, "a failed schedule charges nothing more");
}

#[actix_web::test]
async fn a_card_that_refuses_charges_without_its_holder_fails_the_schedule_without_retry() {
    let (app, m) = shop_with_offer(None).await;
    let o = order(&app, &m, "300,00");
    pay_in_three(&app, &o, BUYER_PRESENT).await;
    assert_eq!(order_now(&app, &o).status, OrderStatus::Paid, "accepted with the buyer present");
    app.clock.advance(Duration::days(TO_SECOND));
    let round = app.run_worker().await;
    assert_eq!((round.instalments_retried, round.schedules_failed), (0, 1), "01057 is final: {round:?}");
    let (plan, is) = schedule(&app, &o);
    assert_eq!(plan.status, PlanStatus::Failed);
    assert_eq!(is[1].last_code.as_deref(), Some("01057"));
}

#[actix_web::test]
async fn the_offer_is_refused_when_not_made_or_when_the_card_expires_before_the_last_date() {
    let (app, m) = shop_with_offer(None).await;
    // Below the shop's minimum (50.00): no offer, and a forged choice is refused.
    let small = order(&app, &m, "40,00");
    let buyer = Buyer::open(&app, &small).await;
    assert_eq!(buyer.page.count("#instalments"), 0);
    let page = choose(&buyer, FRICTIONLESS, "12", "2030", "3").await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert!(page.body.contains("not available"), "{}", page.excerpt());
    let page = choose(&buyer, FRICTIONLESS, "12", "2030", "x").await;
    assert_eq!(page.status, 422, "a number that is not offered");
    // The card expires in July; the last instalment is on 15 August.
    let o = order(&app, &m, "300,00");
    let buyer = Buyer::open(&app, &o).await;
    let page = choose(&buyer, FRICTIONLESS, "07", "2026", "3").await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert_eq!(page.count("#instalments-error"), 1, "{}", page.excerpt());
    assert!(page.body.contains("expires before the last instalment"));
    assert_eq!(page.attr("#instalments-3", "checked").as_deref(), Some(""), "the choice is kept");
    assert!(transactions(&app, &o).is_empty(), "nothing was charged");
    // With the same card, paying at once still works.
    let page = choose(&buyer, FRICTIONLESS, "07", "2026", "1").await;
    assert_eq!(page.status, 303, "{} {}", page.status, page.excerpt());
    assert_eq!(order_now(&app, &o).status, OrderStatus::Paid);
    assert_eq!(transactions(&app, &o)[0].amount.minor, 30000);
    // The restrictive end date: the last instalment must fall on or before it.
    let until = order_with(
        &app,
        &m,
        RawOrder { instalments_until: "2026-08-14".into(), buyer_email: JANE.into(), ..raw("300,00", "en") },
    );
    assert_eq!(Buyer::open(&app, &until).await.page.count("#instalments"), 0);
    let until = order_with(
        &app,
        &m,
        RawOrder { instalments_until: "2026-08-15".into(), buyer_email: JANE.into(), ..raw("300,00", "en") },
    );
    assert_eq!(Buyer::open(&app, &until).await.page.count("#instalments"), 1);
}

#[actix_web::test]
async fn a_buyer_who_leaves_the_challenge_leaves_no_schedule_and_no_card_behind() {
    let (app, m) = shop_with_offer(None).await;
    let o = order(&app, &m, "300,00");
    let buyer = Buyer::open(&app, &o).await;
    let answer = choose(&buyer, FRICTIONLESS, "12", "2030", "3").await;
    let c = answer.location.clone().unwrap().split("?c=").nth(1).unwrap().to_string();
    let refused = buyer.answer_and_follow(&c, "fail").await;
    assert_eq!(refused.status, 200);
    let id = o.id;
    let plan =
        app.db.read_blocking(move |conn| paylink::store::schedules::plan(conn, id).map_err(DbError::from)).unwrap();
    assert!(plan.is_none(), "a refused first instalment drops the schedule: {plan:?}");
    assert_eq!(crate::cards::count(&app, "vault_records"), 0, "and its card");
}

#[actix_web::test]
async fn two_workers_never_charge_one_instalment_twice() {
    let fake = Fake::new();
    let (app, m) = shop_with_offer(Some(&fake)).await;
    let mut orders = Vec::new();
    for _ in 0..4 {
        let o = order(&app, &m, "300,00");
        pay_in_three(&app, &o, FRICTIONLESS).await;
        orders.push(o);
    }
    app.clock.advance(Duration::days(TO_SECOND));
    let settings = Arc::new(app.settings.clone());
    let second = paylink::delivery::Worker::new(app.env(), settings).unwrap();
    let (a, b) = tokio::join!(app.worker.run_once(), second.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.instalments_charged + b.instalments_charged, 4, "{a:?} {b:?}");
    assert_eq!(fake.count("authorise"), 8, "four first instalments and four second ones, none twice");
    for o in &orders {
        assert_eq!(transactions(&app, o).len(), 2);
    }
    second.shutdown().await;
}

#[actix_web::test]
async fn the_merchant_follows_the_schedule_cancels_what_remains_and_refunds_one_instalment() {
    let (app, m) = shop_with_offer(None).await;
    let o = order(&app, &m, "300,00");
    pay_in_three(&app, &o, FRICTIONLESS).await;
    app.clock.advance(Duration::days(TO_SECOND));
    assert_eq!(app.run_worker().await.instalments_charged, 1);
    let admin = app.client();
    app.log_in_first_time(&admin, &m, "4821", crate::helpers::STRONG).await;
    let detail = admin.get(&format!("/orders/{}", o.id.0)).await;
    assert_eq!(detail.status, 200);
    assert_eq!(detail.texts("#schedule-status"), ["instalments running"]);
    let rows = detail.texts("#schedule tbody tr");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains("paid") && rows[1].contains("paid") && rows[2].contains("to charge"), "{rows:?}");
    assert_eq!(
        detail.count("#schedule tbody a[href^=\"/transactions/\"]"),
        2,
        "each paid instalment links its transaction"
    );

    // The API: the order carries its schedule, each transaction its instalment.
    let api = crate::acquirer::Api::new(&app, &m);
    let got = api.get(&format!("/api/v1/payment-orders/{}", o.id.0)).await;
    let body = got.expect(200);
    assert_eq!(body["schedule_status"], "RUNNING");
    let shown: Vec<&str> = body["schedule"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert_eq!(shown, ["PAID", "PAID", "PENDING"]);
    assert_eq!(body["schedule"][2]["index"], 3);
    assert_eq!(body["schedule"][2]["amount"], 10000);
    assert_eq!(body["schedule"][2]["due_on"], "2026-08-15");
    assert!(body["schedule"][2]["transaction_id"].is_null());
    let second = body["schedule"][1]["transaction_id"].as_i64().unwrap();
    let tx = api.get(&format!("/api/v1/transactions/{second}")).await;
    assert_eq!(tx.expect(200)["instalment"], serde_json::json!({"index": 2, "count": 3}));
    assert_eq!(tx.body["amount"], 10000);
    let list = api.get("/api/v1/payment-orders").await;
    assert!(list.expect(200)["items"][0].get("schedule").is_none(), "lists do not carry schedules");

    // A refund of one instalment's transaction.
    let refund = api
        .post_keyed(&format!("/api/v1/transactions/{second}/refunds"), serde_json::json!({"amount": 4000}), "r-1")
        .await;
    assert_eq!(refund.expect(201)["refunded_amount"], 4000, "{}", refund.body);

    // Cancelling the rest: forged without the CSRF token, nothing changes; then it is done.
    let forged = admin.post_form_raw(&format!("/orders/{}/instalments/cancel", o.id.0), &[]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(schedule(&app, &o).0.status, PlanStatus::Running);
    let done = admin.post_form(&format!("/orders/{}/instalments/cancel", o.id.0), &[]).await;
    assert_eq!(done.status, 303, "{}", done.excerpt());
    let page = admin.follow(&done).await;
    assert_eq!(page.texts("#schedule-status"), ["instalments cancelled"]);
    assert_eq!(page.count("#action-cancel-instalments"), 0);
    let (plan, is) = schedule(&app, &o);
    assert_eq!(plan.status, PlanStatus::Cancelled);
    assert_eq!(statuses(&is)[2], InstalmentStatus::Cancelled);
    assert!(!in_vault(&app, &plan.card_token), "the card leaves the vault");
    let again = admin.post_form(&format!("/orders/{}/instalments/cancel", o.id.0), &[]).await;
    assert_eq!(again.status, 409, "nothing left to cancel");
    assert!(again.body.contains("no instalments left to charge"), "{}", again.excerpt());
    let audit = admin.get("/audit").await;
    assert!(audit.body.contains("Remaining instalments cancelled"), "audited");
    app.clock.advance(Duration::days(40));
    assert_eq!(app.run_worker().await.instalments_charged, 0, "nothing more is charged");
}

#[actix_web::test]
async fn the_api_takes_instalments_until_and_refuses_it_when_it_cannot_apply() {
    let (app, m) = shop_with_offer(None).await;
    let api = crate::acquirer::Api::new(&app, &m);
    let ok = api
        .post_keyed(
            "/api/v1/payment-orders",
            serde_json::json!({"amount": 30000, "currency": "EUR", "channel": "URL", "instalments_until": "2026-09-30"}),
            "o-1",
        )
        .await;
    assert_eq!(ok.expect(201)["instalments_until"], "2026-09-30", "{}", ok.body);
    let past = api
        .post_keyed(
            "/api/v1/payment-orders",
            serde_json::json!({"amount": 30000, "currency": "EUR", "channel": "URL", "instalments_until": "2026-06-15"}),
            "o-2",
        )
        .await;
    assert_eq!(past.status, 400, "{}", past.body);
    assert_eq!(past.body["error"]["field"], "instalments_until");
    let invoice = api
        .post_keyed(
            "/api/v1/payment-orders",
            serde_json::json!({"amount": 30000, "currency": "EUR", "channel": "INVOICE", "reference": "F-1", "instalments_until": "2026-09-30"}),
            "o-3",
        )
        .await;
    assert_eq!(invoice.status, 400, "{}", invoice.body);
    assert_eq!(invoice.body["error"]["field"], "instalments_until");
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

async fn receipt_reads(browser: &fantoccini::Client, what: &str, expected: &[&str]) -> Res<()> {
    let receipt = crate::browser::wait_for(browser, fantoccini::Locator::Id("receipt")).await?;
    let text = receipt.text().await?;
    if expected.iter().any(|e| !text.contains(e)) {
        return Err(format!("{what}: the receipt reads {text:?}").into());
    }
    Ok(())
}

/// Saves a card on a first link, pays a second with only its CVV, a third in three
/// instalments, then opens the wallet: at 360 px, screenshots of each step.
async fn wallet_flow(browser: &fantoccini::Client, app: &TestApp, orders: &[Order; 3]) -> Res<()> {
    use crate::browser::{axe, fill, screenshot, set_viewport, wait_for};
    use fantoccini::Locator;
    set_viewport(browser, 360, 740).await?;
    // 1. A new card, saved (which forces the challenge).
    browser.goto(&app.url(&crate::pay::link(&orders[0]))).await?;
    fill(browser, "card_number", FRICTIONLESS).await?;
    fill(browser, "expiry_month", "12").await?;
    fill(browser, "expiry_year", "30").await?;
    fill(browser, "cvv", "123").await?;
    fill(browser, "holder", "Jane Doe").await?;
    browser.find(Locator::Id("save_card")).await?.click().await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    wait_for(browser, Locator::Css("button[name=\"action\"][value=\"approve\"]")).await?.click().await?;
    receipt_reads(browser, "the first link", &["0006"]).await?;
    // 2. The saved card is chosen already: only its CVV is typed.
    browser.goto(&app.url(&crate::pay::link(&orders[1]))).await?;
    wait_for(browser, Locator::Css("#saved-cards input[name=\"saved_card\"]:checked")).await?;
    if browser.find(Locator::Id("card_number")).await?.is_displayed().await? {
        return Err("the new card's number is asked with a saved card chosen".into());
    }
    screenshot(browser, "pay-saved-card-360.png").await?;
    axe(browser, "the pay page with a saved card").await?;
    fill(browser, "cvv", "123").await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    receipt_reads(browser, "the second link", &["0006"]).await?;
    // 3. Three instalments with the saved card: the schedule, then the challenge.
    browser.goto(&app.url(&crate::pay::link(&orders[2]))).await?;
    let three = wait_for(browser, Locator::Id("instalments-3")).await?;
    three.click().await?;
    let label = browser.find(Locator::Css("button.pay-button")).await?.text().await?;
    if label != "Pay €100.00 now" {
        return Err(format!("with three instalments the button reads {label:?}").into());
    }
    browser.execute("document.querySelector('#instalments').scrollIntoView()", vec![]).await?;
    screenshot(browser, "pay-instalments-360.png").await?;
    axe(browser, "the pay page with instalments").await?;
    fill(browser, "cvv", "123").await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    wait_for(browser, Locator::Css("button[name=\"action\"][value=\"approve\"]")).await?.click().await?;
    receipt_reads(browser, "the third link", &["100.00"]).await?;
    screenshot(browser, "pay-instalments-receipt-360.png").await?;
    Ok(())
}

#[actix_web::test]
async fn save_a_card_pay_with_its_cvv_then_in_three_instalments_in_the_browser() {
    let (app, m) = shop_with_offer(None).await;
    let with = |amount: &str, alias: &str| {
        order_with(&app, &m, RawOrder { alias_mode: alias.into(), buyer_email: JANE.into(), ..raw(amount, "en") })
    };
    let orders = [with("30,00", "PROPOSE"), with("40,00", "NONE"), with("300,00", "NONE")];
    let driver = crate::browser::ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let mut outcome = wallet_flow(&browser, &app, &orders).await;
    if outcome.is_ok() {
        // The wallet, from its e-mailed link.
        let asker = app.client();
        crate::cards::ask(&asker, JANE).await;
        app.run_worker().await;
        let link = crate::cards::wallet_links(&app, JANE).pop().expect("a wallet link");
        outcome = async {
            browser.goto(&app.url(&link)).await?;
            crate::browser::wait_for(&browser, fantoccini::Locator::Css("main")).await?;
            crate::browser::screenshot(&browser, "wallet-360.png").await?;
            crate::browser::axe(&browser, "the wallet").await?;
            Ok(())
        }
        .await;
    }
    if let Err(error) = &outcome {
        let _ = crate::browser::screenshot(&browser, "instalments-failure.png").await;
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!("browser flow failed: {error}\n{}", source.chars().take(4000).collect::<String>());
    }
    browser.close().await.expect("close the browser session");
    let second = transactions(&app, &orders[1]);
    assert_eq!(second.len(), 1);
    assert!(second[0].saved_card.is_some(), "paid with the saved card");
    let (plan, is) = schedule(&app, &orders[2]);
    assert_eq!((plan.status, is.len()), (PlanStatus::Running, 3));
}
