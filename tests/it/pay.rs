//! The hosted payment page (issue 5, buyer side): the page, every card of the TEST simulator,
//! 3-D Secure challenges, sessions, refusals and retries, one payment per link under
//! concurrent submissions, rate limits, the receipt e-mail — and no card number or CVV
//! anywhere: database files, e-mails, logs.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::Duration;
use fantoccini::Locator;
use futures_util::future::join_all;
use paylink::domain::api_key::Mode;
use paylink::domain::clock::Clock;
use paylink::domain::ids::{CompanyId, ShopId};
use paylink::domain::order::{Channel, OrderStatus};
use paylink::domain::order_form::{AmountInput, OrderDraft, RawOrder};
use paylink::services::merchants::CreatedMerchant;
use paylink::services::orders::{self, OrderContext};
use paylink::store::audit::Actor;
use paylink::store::orders::Order;
use paylink::store::transactions::{Transaction, TxStatus};

use crate::browser::{ChromeDriver, axe, fill, screenshot, set_viewport, wait_for};
use crate::delivery::{create_orders, reload};
use crate::helpers::{Client, Page, TestApp};

const FRICTIONLESS: &str = "4970100000000006";
const CHALLENGE: &str = "4970100000000014";
const AUTH_FAILS: &str = "4970100000000022";
const FRAUD: &str = "4970100000000030";
const BANK_REFUSAL: &str = "4970100000000048";
const BUYER_PRESENT: &str = "4970100000000055";
const MASTERCARD: &str = "5970100000000003";
/// A real-looking Visa number (Luhn-valid) that is not a test card.
const NOT_A_TEST_CARD: &str = "4111111111111111";

/// An order as the back office would create it, in TEST, sent as a URL.
pub fn order_with(app: &TestApp, m: &CreatedMerchant, raw: RawOrder) -> Order {
    create_orders(app, m, Channel::Url, raw).remove(0)
}

pub fn raw(amount: &str, language: &str) -> RawOrder {
    RawOrder { amount: AmountInput::Decimal(amount.into()), language: language.into(), ..Default::default() }
}

fn test_order(app: &TestApp, m: &CreatedMerchant) -> Order {
    order_with(app, m, RawOrder { reference: "CMD-42".into(), ..raw("42,50", "en") })
}

/// Runs an order service call as the merchant's back office would, in `mode`.
fn as_merchant<T>(
    app: &TestApp,
    m: &CreatedMerchant,
    mode: Mode,
    f: impl FnOnce(&mut paylink::db::DbConn, &OrderContext<'_>) -> paylink::services::ServiceResult<T>,
) -> paylink::services::ServiceResult<T> {
    let public_url = app.settings.public_url.clone();
    app.db.write_blocking(|conn| {
        let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
        let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: "alice".into(), ip: None };
        let ctx = OrderContext { actor: &actor, shop: &shop, mode, public_url: &public_url };
        f(conn, &ctx)
    })
}

/// A PRODUCTION order (the API key or the back office in PRODUCTION mode would create it).
fn production_order(app: &TestApp, m: &CreatedMerchant) -> Order {
    let clock = app.clock.clone();
    as_merchant(app, m, Mode::Production, |conn, ctx| {
        let today = clock.now().with_timezone(&ctx.shop.settings.time_zone).date_naive();
        let draft = OrderDraft::parse(&raw("99", "en"), Channel::Url, &ctx.shop.settings, today, today)
            .map_err(paylink::services::ServiceError::Invalid)?;
        orders::create(conn, &clock, ctx, &draft)
    })
    .unwrap()
    .remove(0)
}

pub fn transactions(app: &TestApp, o: &Order) -> Vec<Transaction> {
    app.db
        .read_blocking(|conn| paylink::store::transactions::for_order(conn, o.id).map_err(paylink::db::DbError::from))
        .unwrap()
}

/// The only transaction of an order.
fn the_transaction(app: &TestApp, o: &Order) -> Transaction {
    let mut all = transactions(app, o);
    assert_eq!(all.len(), 1, "one transaction: {all:?}");
    all.remove(0)
}

pub fn link(o: &Order) -> String {
    format!("/t/{}", o.token)
}

/// A buyer on a link: their own browser (cookies, CSRF token) and the pay page they loaded.
pub struct Buyer {
    pub client: Client,
    pub link: String,
    pub page: Page,
}

impl Buyer {
    pub async fn open(app: &TestApp, o: &Order) -> Buyer {
        let client = app.client();
        let page = client.get(&link(o)).await;
        assert_eq!(page.status, 200, "{}", page.excerpt());
        Buyer { client, link: link(o), page }
    }

    /// The link as a buyer who arrives too late sees it.
    async fn open_closed(app: &TestApp, o: &Order) -> Page {
        app.client().get(&link(o)).await
    }

    pub fn session(&self) -> String {
        self.page
            .attr("input[name=\"session\"]", "value")
            .unwrap_or_else(|| panic!("no session: {}", self.page.excerpt()))
    }

    /// Posts the card form as typed.
    pub async fn submit(&self, number: &str, month: &str, year: &str, cvv: &str, holder: &str) -> Page {
        let session = self.session();
        self.client
            .post_form(
                &self.link,
                &[
                    ("card_number", number),
                    ("expiry_month", month),
                    ("expiry_year", year),
                    ("cvv", cvv),
                    ("holder", holder),
                    ("session", &session),
                ],
            )
            .await
    }

    pub async fn card(&self, number: &str, cvv: &str) -> Page {
        self.submit(number, "12", "2030", cvv, "Jane Doe").await
    }

    /// Pays and follows the redirect back to the link: the receipt or the refusal.
    pub async fn pay(&self, number: &str, cvv: &str) -> Page {
        let answer = self.card(number, cvv).await;
        answer.assert_redirect(&self.link);
        self.client.follow(&answer).await
    }

    /// Pays with a card that asks for a challenge: the issuer page it lands on.
    pub async fn to_challenge(&self, number: &str, cvv: &str) -> (String, Page) {
        let answer = self.card(number, cvv).await;
        assert_eq!(answer.status, 303, "{}", answer.excerpt());
        let location = answer.location.clone().unwrap();
        assert!(location.starts_with(&format!("{}/3ds?c=", self.link)), "{location}");
        let c = location.split("?c=").nth(1).unwrap().to_string();
        let issuer = self.client.get(&location).await;
        assert_eq!(issuer.status, 200, "{}", issuer.excerpt());
        (c, issuer)
    }

    pub async fn answer(&self, c: &str, action: &str) -> Page {
        self.client.post_form(&format!("{}/3ds", self.link), &[("c", c), ("action", action)]).await
    }

    /// Answers the challenge and follows back to the link.
    pub async fn answer_and_follow(&self, c: &str, action: &str) -> Page {
        let answer = self.answer(c, action).await;
        answer.assert_redirect(&self.link);
        self.client.follow(&answer).await
    }
}

fn metric(body: &str, outcome: &str) -> u64 {
    let prefix = format!("paylink_payments_total{{outcome=\"{outcome}\"}} ");
    body.lines().find_map(|l| l.strip_prefix(&prefix)).map(|n| n.trim().parse().unwrap()).unwrap_or(0)
}

// ---- The page ----------------------------------------------------------------------------

#[actix_web::test]
async fn the_pay_page_speaks_the_order_language_and_lists_the_test_cards() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let en = test_order(&app, &m);
    // A French-speaking browser still gets the order's language.
    let page = app.client_lang("fr").get(&link(&en)).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.attr("html", "lang").as_deref(), Some("en"));
    for text in ["Acme Shop", "CMD-42", "€42.50", "Valid until", "2026-07-15", "Pay €42.50"] {
        assert!(page.contains(text), "{text}: {}", page.excerpt());
    }
    // The day, without seconds or zone; those are in the title, for the curious.
    assert_eq!(page.texts("dd time"), ["2026-07-15"]);
    assert_eq!(page.attr("dd time", "title").as_deref(), Some("2026-07-15 23:59:59 (Europe/Paris)"));
    assert!(page.contains("TEST mode"), "the TEST banner");
    // The form: DESIGN §4's field names, phone keyboards and autofill.
    for (name, autocomplete) in [
        ("card_number", "cc-number"),
        ("expiry_month", "cc-exp-month"),
        ("expiry_year", "cc-exp-year"),
        ("cvv", "cc-csc"),
        ("holder", "cc-name"),
    ] {
        let css = format!("form#pay-form input[name=\"{name}\"]");
        assert_eq!(page.attr(&css, "autocomplete").as_deref(), Some(autocomplete), "{name}");
        let id = page.attr(&css, "id").unwrap();
        assert_eq!(page.count(&format!("label[for=\"{id}\"]")), 1, "{name} has a label");
        if name != "holder" {
            assert_eq!(page.attr(&css, "inputmode").as_deref(), Some("numeric"), "{name}");
        }
    }
    assert_eq!(page.count("form#pay-form input[name=\"csrf_token\"]"), 1);
    assert_eq!(page.attr("form#pay-form", "method").as_deref(), Some("post"));
    assert_eq!(page.attr("form#pay-form", "action"), Some(link(&en)));
    // Every simulator card with what it does; JavaScript turns them into buttons.
    assert_eq!(page.count(".test-cards [data-card]"), 7);
    for number in [FRICTIONLESS, CHALLENGE, AUTH_FAILS, FRAUD, BANK_REFUSAL, BUYER_PRESENT, MASTERCARD] {
        assert_eq!(page.count(&format!(".test-cards [data-card=\"{number}\"]")), 1, "{number}");
    }
    let cards = page.texts(".test-cards li").join("\n");
    for text in [
        "4970 1000 0000 0006 Visa / CB: accepted, frictionless 3-D Secure",
        "4970 1000 0000 0014 Accepted after a 3-D Secure challenge",
        "4970 1000 0000 0022 3-D Secure authentication failed: refused",
        "4970 1000 0000 0030 Refused, suspected fraud (code 04xxx)",
        "4970 1000 0000 0048 Refused by the bank (code 01xxx)",
        "4970 1000 0000 0055 Accepted with the buyer present",
        "5970 1000 0000 0003 Mastercard: accepted",
    ] {
        assert!(cards.contains(text), "{text} in\n{cards}");
    }
    assert_eq!(page.attr(".test-cards", "data-year").as_deref(), Some("29"), "an expiry in the future");
    let script = page.attr("script[src]", "src").unwrap();
    assert!(script.starts_with("/static/pay.") && !page.contains("<script>"), "no inline script: {script}");
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"));
    let js = app.client().get(&script).await;
    assert_eq!(js.status, 200);
    assert!(js.body.contains("data-card"));

    // The order's language is French: the page is French whatever the browser says.
    let fr = order_with(&app, &m, RawOrder { reference: "CMD-43".into(), ..raw("42,50", "fr") });
    let page = app.client_lang("en").get(&link(&fr)).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("fr"));
    for text in ["Paiement sécurisé", "42,50\u{a0}€", "15/07/2026", "Numéro de carte", "Payer 42,50\u{a0}€"] {
        assert!(page.contains(text), "{text}");
    }
    assert!(page.texts("dt").contains(&"Valable jusqu'au".to_string()));
    assert!(page.texts(".test-cards li").join(" ").contains("Refusé par la banque (code 01xxx)"));

    // An invoice shows its description.
    let invoice = create_orders(
        &app,
        &m,
        Channel::Invoice,
        RawOrder { reference: "FAC-2026-7".into(), description: "Plomberie, juin".into(), ..raw("120", "fr") },
    )
    .remove(0);
    let page = app.client().get(&link(&invoice)).await;
    assert!(page.contains("FAC-2026-7") && page.contains("Plomberie, juin") && page.contains("Objet"));
}

#[actix_web::test]
async fn production_orders_show_the_order_but_take_no_card() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = production_order(&app, &m);
    let client = app.client();
    let page = client.get(&link(&o)).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("€99.00") && page.contains("Card payment is not available"), "{}", page.excerpt());
    assert_eq!(page.count("form#pay-form"), 0, "no form");
    assert_eq!(page.count("input[name=\"card_number\"]"), 0);
    assert_eq!(page.count(".test-cards"), 0, "no test cards");
    assert!(!page.contains("TEST mode"));
    // A submission (of a simulator card, even) is refused the same way, and nothing is written.
    let answer = client
        .post_form(
            &link(&o),
            &[("card_number", FRICTIONLESS), ("expiry_month", "12"), ("expiry_year", "2030"), ("cvv", "987")],
        )
        .await;
    assert_eq!(answer.status, 403);
    assert!(answer.contains("Card payment is not available"));
    assert!(transactions(&app, &o).is_empty());
    assert_eq!(reload(&app, &o).status, OrderStatus::Running);
}

#[actix_web::test]
async fn expired_and_cancelled_links_take_no_payment() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    // Past its end (2026-07-15 in Paris), while the buyer still had the page open.
    app.clock.advance(Duration::days(31));
    let page = buyer.card(FRICTIONLESS, "987").await;
    assert_eq!(page.status, 410);
    assert!(page.contains("This payment link has expired"));
    assert_eq!(page.count("form#pay-form"), 0);
    assert!(transactions(&app, &o).is_empty());
    let page = buyer.client.get(&buyer.link).await;
    assert_eq!((page.status, page.count("form#pay-form")), (410, 0));
}

// ---- Every card of the table -------------------------------------------------------------

#[actix_web::test]
async fn every_card_of_the_table_ends_as_designed() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");

    // 0006: accepted, frictionless; AUTO with no capture delay: captured at once.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let receipt = buyer.pay("4970 1000 0000 0006", "987").await;
    assert_eq!(receipt.status, 200);
    for text in [
        "Payment accepted",
        "Acme Shop",
        "CMD-42",
        "€42.50",
        "CB / Visa",
        "•••• 0006",
        "Payment accepted.",
        "Authenticated without any action on your part",
        "2026-06-15 12:00 (Europe/Paris)",
        "Jane Doe",
    ] {
        assert!(receipt.contains(text), "{text}: {}", receipt.excerpt());
    }
    assert_eq!(receipt.count("form#pay-form"), 0, "a paid link has no form");
    assert!(
        !receipt.contains("497010") && !receipt.contains("00000"),
        "last four only, no raw code: {}",
        receipt.excerpt()
    );
    assert_eq!(receipt.count("button[data-print]"), 1, "printable");
    let t = the_transaction(&app, &o);
    assert_eq!(t.status, TxStatus::Captured);
    assert_eq!((t.return_code.as_str(), t.three_ds.as_str()), ("00000", "FRICTIONLESS"));
    assert_eq!(
        (t.card_brand.as_str(), t.card_masked.as_str(), t.card_expiry.as_str()),
        ("CB / Visa", "497010******0006", "12/30")
    );
    assert_eq!(t.holder.as_deref(), Some("Jane Doe"));
    // The receipt number is the transaction's random one, not its sequential id.
    assert_eq!(receipt.texts("dd.transaction"), std::slice::from_ref(&t.receipt_no));
    assert!(t.receipt_no.len() == 18 && t.receipt_no.starts_with("R-"), "{}", t.receipt_no);
    assert_eq!(t.capture_date, Some(chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()));
    assert!(t.captured_at.is_some());
    let paid = reload(&app, &o);
    assert_eq!((paid.status, paid.transaction_id), (OrderStatus::Paid, Some(t.id)));

    // 0014: the challenge; approved.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, issuer) = buyer.to_challenge(CHALLENGE, "654").await;
    assert!(!issuer.contains("497010"), "last four only: {}", issuer.excerpt());
    for text in ["Simulated issuer — TEST", "€42.50", "Acme Shop", "•••• 0014"] {
        assert!(issuer.contains(text), "{text}: {}", issuer.excerpt());
    }
    assert_eq!(issuer.count("form button[name=\"action\"]"), 3);
    assert!(!c.contains(CHALLENGE) && !issuer.contains(CHALLENGE), "the challenge never carries the number");
    assert!(transactions(&app, &o).is_empty(), "nothing written while the buyer is at the issuer");
    let receipt = buyer.answer_and_follow(&c, "approve").await;
    assert!(receipt.contains("Payment accepted") && receipt.contains("Authenticated with your bank"));
    let t = the_transaction(&app, &o);
    assert_eq!(
        (t.status, t.three_ds.as_str(), t.return_code.as_str()),
        (TxStatus::Captured, "CHALLENGE_PASSED", "00000")
    );
    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    // Back to the issuer page, answering again (back button, double click): never twice.
    buyer.client.get(&format!("{}/3ds?c={c}", buyer.link)).await.assert_redirect(&buyer.link);
    let again = buyer.answer(&c, "approve").await;
    again.assert_redirect(&buyer.link);
    let again = buyer.answer(&c, "abandon").await;
    again.assert_redirect(&buyer.link);
    assert_eq!(transactions(&app, &o).len(), 1);

    // 0014: the challenge failed.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "741").await;
    let page = buyer.answer_and_follow(&c, "fail").await;
    assert!(
        page.contains("Payment refused") && page.contains("3-D Secure authentication failed."),
        "{}",
        page.excerpt()
    );
    assert!(!page.contains("01078"), "the meaning in words, not the raw code: {}", page.excerpt());
    assert_eq!(page.count("form#pay-form"), 1, "payable again");
    let t = the_transaction(&app, &o);
    assert_eq!(
        (t.status, t.three_ds.as_str(), t.return_code.as_str()),
        (TxStatus::Refused, "CHALLENGE_FAILED", "01078")
    );
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused);
    // A failed challenge cannot be replayed as approved.
    buyer.answer(&c, "approve").await.assert_redirect(&buyer.link);
    assert_eq!(transactions(&app, &o).len(), 1);
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused);

    // 0014: the buyer abandons at the challenge: CANCELLED 02008, the order payable again.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "852").await;
    let page = buyer.answer_and_follow(&c, "abandon").await;
    assert!(page.contains("Payment cancelled") && !page.contains("02008"), "{}", page.excerpt());
    assert_eq!(page.count("form#pay-form"), 1);
    let t = the_transaction(&app, &o);
    assert_eq!((t.status, t.return_code.as_str()), (TxStatus::Cancelled, "02008"));
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused);

    // The refusals, each with its code and message, and the form again.
    for (number, cvv, code, three_ds, message) in [
        (AUTH_FAILS, "963", "01078", "FAILED", "3-D Secure authentication failed."),
        (FRAUD, "258", "04", "FRICTIONLESS", "refused as a security measure"),
        (BANK_REFUSAL, "369", "01", "FRICTIONLESS", "The bank refused the payment"),
        (FRICTIONLESS, "000", "01063", "NOT_PERFORMED", "The security code (CVV) is wrong."),
        (NOT_A_TEST_CARD, "147", "01014", "NOT_PERFORMED", "Unknown card"),
    ] {
        let o = test_order(&app, &m);
        let buyer = Buyer::open(&app, &o).await;
        let page = buyer.pay(number, cvv).await;
        let t = the_transaction(&app, &o);
        assert_eq!(t.status, TxStatus::Refused, "{number}");
        assert!(t.return_code.starts_with(code) && t.return_code.len() == 5, "{number}: {}", t.return_code);
        assert_eq!(t.three_ds.as_str(), three_ds, "{number}");
        assert_eq!(reload(&app, &o).status, OrderStatus::Refused, "{number}");
        assert!(page.contains("Payment refused") && page.contains(message), "{number}: {}", page.excerpt());
        assert!(!page.texts("#refusal").join("").contains(&t.return_code), "{number}: words, not the raw code");
        assert_eq!(page.count("form#pay-form"), 1, "{number}: the form again");
        assert_eq!(page.texts("#refusal").len(), 1);
    }

    // 0055 (the buyer is present) and the Mastercard: accepted.
    for (number, brand, masked) in
        [(BUYER_PRESENT, "CB / Visa", "•••• 0055"), (MASTERCARD, "CB / Mastercard", "•••• 0003")]
    {
        let o = test_order(&app, &m);
        let receipt = Buyer::open(&app, &o).await.pay(number, "321").await;
        assert!(receipt.contains("Payment accepted") && receipt.contains(masked), "{number}");
        let t = the_transaction(&app, &o);
        assert_eq!((t.status, t.card_brand.as_str()), (TxStatus::Captured, brand), "{number}");
        assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    }

    let metrics = app.client().get("/metrics").await.body;
    assert_eq!(metric(&metrics, "accepted"), 4, "{metrics}");
    assert_eq!(metric(&metrics, "refused"), 6, "{metrics}");
    assert_eq!(metric(&metrics, "cancelled"), 1, "{metrics}");
}

#[actix_web::test]
async fn the_challenge_preference_forces_a_challenge_for_a_frictionless_card() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = order_with(&app, &m, RawOrder { three_ds: "CHALLENGE".into(), ..raw("10", "fr") });
    let buyer = Buyer::open(&app, &o).await;
    let (c, issuer) = buyer.to_challenge(FRICTIONLESS, "987").await;
    assert!(issuer.contains("Banque émettrice simulée — TEST") && issuer.contains("10,00\u{a0}€"), "in French");
    let receipt = buyer.answer_and_follow(&c, "approve").await;
    assert!(receipt.contains("Paiement accepté"), "{}", receipt.excerpt());
    assert_eq!(the_transaction(&app, &o).three_ds.as_str(), "CHALLENGE_PASSED");
}

#[actix_web::test]
async fn a_refused_order_stays_payable_then_is_paid_once() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let page = buyer.pay(BANK_REFUSAL, "987").await;
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused);
    // Reloading the link later still shows the last refusal and a fresh form.
    let page_again = app.client().get(&link(&o)).await;
    assert_eq!(page_again.status, 200);
    assert!(page_again.contains("The bank refused the payment") && page_again.count("form#pay-form") == 1);
    // The merchant reads the truth: refused, and the link can still be paid.
    let merchant = app.client();
    app.log_in_first_time(&merchant, &m, "4821", crate::helpers::STRONG).await;
    let detail = merchant.get(&format!("/orders/{}", o.id.0)).await;
    assert_eq!(detail.texts("#order-status"), ["Refused — the link can still be paid"], "{}", detail.excerpt());
    let buyer = Buyer { client: buyer.client, link: buyer.link, page };
    let receipt = buyer.pay(FRICTIONLESS, "654").await;
    assert!(receipt.contains("Payment accepted"));
    let all = transactions(&app, &o);
    assert_eq!(all.iter().map(|t| t.status).collect::<Vec<_>>(), [TxStatus::Captured, TxStatus::Refused]);
    assert_eq!(reload(&app, &o).transaction_id, Some(all[0].id), "the order ends with the accepted one");
    // The back button and a second submission: the receipt, never a second payment.
    let again = buyer.card(FRICTIONLESS, "654").await;
    again.assert_redirect(&buyer.link);
    assert!(buyer.client.follow(&again).await.contains("Payment accepted"));
    assert_eq!(transactions(&app, &o).len(), 2);
}

#[actix_web::test]
async fn manual_validation_and_capture_delays_set_the_transaction_status() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let manual = order_with(&app, &m, RawOrder { validation_mode: "MANUAL".into(), ..raw("10", "en") });
    Buyer::open(&app, &manual).await.pay(FRICTIONLESS, "987").await;
    let t = the_transaction(&app, &manual);
    assert_eq!(t.status, TxStatus::AuthorisedToValidate);
    assert!(t.validate_by.is_some() && t.captured_at.is_none());

    let delayed = order_with(&app, &m, RawOrder { capture_delay_days: "3".into(), ..raw("10", "en") });
    let receipt = Buyer::open(&app, &delayed).await.pay(MASTERCARD, "987").await;
    assert!(receipt.contains("Payment accepted"));
    let t = the_transaction(&app, &delayed);
    assert_eq!(t.status, TxStatus::Authorised);
    assert_eq!(t.capture_date, Some(chrono::NaiveDate::from_ymd_opt(2026, 6, 18).unwrap()));
    assert!(t.captured_at.is_none());
    assert_eq!(reload(&app, &delayed).status, OrderStatus::Paid);
}

// ---- Sessions and signed tokens ----------------------------------------------------------

#[actix_web::test]
async fn a_pay_session_older_than_15_minutes_is_refused_02324() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    app.clock.advance(Duration::minutes(15));
    let still = Buyer::open(&app, &o).await;
    app.clock.advance(Duration::seconds(1));
    let page = buyer.pay(FRICTIONLESS, "987").await;
    assert!(page.contains("The payment session expired") && !page.contains("02324"), "{}", page.excerpt());
    assert_eq!(page.count("form#pay-form"), 1, "a fresh form");
    let t = the_transaction(&app, &o);
    assert_eq!((t.status, t.return_code.as_str()), (TxStatus::Refused, "02324"));
    assert_eq!(reload(&app, &o).status, OrderStatus::Refused);
    // A page shown 1 second ago is fine; the fresh form too.
    let receipt = still.pay(FRICTIONLESS, "987").await;
    assert!(receipt.contains("Payment accepted"), "{}", receipt.excerpt());
    let metrics = app.client().get("/metrics").await.body;
    assert_eq!(metric(&metrics, "session_expired"), 1, "{metrics}");

    // At the issuer for more than 15 minutes: 02324 too, whatever the answer.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "654").await;
    app.clock.advance(Duration::minutes(16));
    let page = buyer.answer_and_follow(&c, "approve").await;
    assert!(page.contains("The payment session expired"), "{}", page.excerpt());
    let t = the_transaction(&app, &o);
    assert_eq!((t.status, t.return_code.as_str()), (TxStatus::Refused, "02324"));
}

#[actix_web::test]
async fn forged_challenge_and_session_tokens_are_bad_requests() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let other = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "987").await;
    // The sealed claims altered anywhere (nonce, ciphertext, tag), cut short or lengthened;
    // and claims in the clear, signed or not, as earlier tokens carried them.
    let flip = |i: usize| {
        let mut bytes = c.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    };
    let b64 = |s: &str| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s);
    let clear = b64(
        r#"{"holder":"x","reference":"sim:0006","card":{"brand":"CB / Visa","masked":"497010******0006","expiry":"12/30","holder":null},"three_ds":"DEFAULT","session":0,"issued":0}"#,
    );
    let forged_tokens = [
        flip(2),
        flip(c.len() / 2),
        flip(c.len() - 2),
        c[..c.len() - 4].to_string(),
        format!("{c}AAAA"),
        format!("{clear}.{}", b64("mac")),
        clear.clone(),
        "nonsense".into(),
        String::new(),
        "a.b".into(),
    ];
    for forged in &forged_tokens {
        let page = buyer.client.get(&format!("{}/3ds?c={forged}", buyer.link)).await;
        assert_eq!(page.status, 400, "GET {forged}");
        let page = buyer.answer(forged, "approve").await;
        assert_eq!(page.status, 400, "POST {forged}");
    }
    // A genuine token of another link is not valid on this one.
    let page = buyer.client.get(&format!("{}/3ds?c={c}", link(&other))).await;
    assert_eq!(page.status, 400);
    // An unknown action is refused too; the genuine answer still works after all that.
    assert_eq!(buyer.answer(&c, "steal").await.status, 400);
    assert!(transactions(&app, &o).is_empty());
    assert!(buyer.answer_and_follow(&c, "approve").await.contains("Payment accepted"));

    // The pay session token is signed as well.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let session = buyer.session();
    let start: i64 = session.split('.').next().unwrap().parse().unwrap();
    let younger = format!("{}.{}", start + 3600, session.split('.').nth(1).unwrap());
    for forged in [younger.as_str(), "1781517600.forged", ""] {
        let page = buyer
            .client
            .post_form(
                &buyer.link,
                &[
                    ("card_number", FRICTIONLESS),
                    ("expiry_month", "12"),
                    ("expiry_year", "2030"),
                    ("cvv", "987"),
                    ("session", forged),
                ],
            )
            .await;
        assert_eq!(page.status, 400, "{forged}");
    }
    // Without the CSRF token, the form is refused before anything else.
    let page = buyer.client.post_form_raw(&buyer.link, &[("card_number", FRICTIONLESS), ("session", &session)]).await;
    assert_eq!(page.status, 403);
    assert!(transactions(&app, &o).is_empty());
}

#[actix_web::test]
async fn the_challenge_url_does_not_reveal_the_holder_or_the_card() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let answer = buyer.submit(CHALLENGE, "12", "2030", "654", "Marguerite Yourcenar").await;
    assert_eq!(answer.status, 303, "{}", answer.excerpt());
    let location = answer.location.clone().unwrap();
    let c = location.split("?c=").nth(1).unwrap().to_string();
    assert!(c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "URL-safe: {c}");
    // Neither in the clear, nor as base64 of the claims at any alignment.
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    for secret in ["Marguerite", "Yourcenar", "497010", "0014", "holder", "masked", "sim:"] {
        assert!(!location.contains(secret), "{secret} in {location}");
        for shift in 0..4 {
            let part = &c[shift..];
            let decoded = base64::Engine::decode(&lenient, &part[..part.len() / 4 * 4]).unwrap();
            assert!(!contains(&decoded, secret), "{secret} decodes from the token at {shift}");
        }
    }
    // The issuer page still has what it shows, and the answer what it writes.
    let issuer = buyer.client.get(&location).await;
    assert!(issuer.contains("•••• 0014"), "{}", issuer.excerpt());
    buyer.answer_and_follow(&c, "approve").await;
    let t = the_transaction(&app, &o);
    assert_eq!((t.holder.as_deref(), t.card_masked.as_str()), (Some("Marguerite Yourcenar"), "497010******0014"));
}

// ---- Back from the issuer page -------------------------------------------------------------

#[actix_web::test]
async fn a_buyer_back_from_the_issuer_page_pays_again_at_once() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "654").await;
    // The back button: the page is not cached (no-store), so the browser loads it again.
    let page = buyer.client.get(&buyer.link).await;
    assert_eq!((page.status, page.count("form#pay-form")), (200, 1), "{}", page.excerpt());
    let back = Buyer { client: buyer.client, link: buyer.link, page };
    let receipt = back.pay(FRICTIONLESS, "987").await;
    assert!(receipt.contains("Payment accepted") && receipt.contains("•••• 0006"), "{}", receipt.excerpt());
    // The challenge left is recorded as its "abandon" button would have; then the payment.
    let all = transactions(&app, &o);
    assert_eq!(all.iter().map(|t| t.status).collect::<Vec<_>>(), [TxStatus::Captured, TxStatus::Cancelled]);
    let (paid, left) = (&all[0], &all[1]);
    assert_eq!((left.return_code.as_str(), left.three_ds.as_str()), ("02008", "NOT_PERFORMED"));
    assert_eq!((left.card_masked.as_str(), left.holder.as_deref()), ("497010******0014", Some("Jane Doe")));
    assert_eq!(left.acquirer_ref, "");
    assert_eq!((paid.return_code.as_str(), paid.three_ds.as_str()), ("00000", "FRICTIONLESS"));
    let order = reload(&app, &o);
    assert_eq!((order.status, order.transaction_id), (OrderStatus::Paid, Some(paid.id)));
    // The old issuer page holds nothing any more: showing it or approving there pays nothing
    // and sends the buyer to the receipt.
    back.client.get(&format!("{}/3ds?c={c}", back.link)).await.assert_redirect(&back.link);
    let approved = back.answer(&c, "approve").await;
    approved.assert_redirect(&back.link);
    let page = back.client.follow(&approved).await;
    assert!(page.contains("Payment accepted") && page.contains("•••• 0006"), "{}", page.excerpt());
    back.answer(&c, "abandon").await.assert_redirect(&back.link);
    assert_eq!(transactions(&app, &o).len(), 2);
    let metrics = app.client().get("/metrics").await.body;
    assert_eq!((metric(&metrics, "accepted"), metric(&metrics, "cancelled")), (1, 1), "{metrics}");

    // Back again, with a card refused this time: the order stays payable, and a later
    // challenge left the same way is recorded too.
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "654").await;
    let page = buyer.pay(BANK_REFUSAL, "987").await;
    assert!(page.contains("The bank refused the payment") && page.count("form#pay-form") == 1);
    let buyer = Buyer { client: buyer.client, link: buyer.link, page };
    let (again, _) = buyer.to_challenge(CHALLENGE, "654").await;
    let page = buyer.answer_and_follow(&c, "approve").await;
    assert!(!page.contains("Payment accepted"), "the first challenge pays nothing");
    let receipt = buyer.answer_and_follow(&again, "approve").await;
    assert!(receipt.contains("Payment accepted"), "{}", receipt.excerpt());
    let all = transactions(&app, &o);
    let codes: Vec<_> = all.iter().map(|t| (t.status, t.return_code.as_str())).collect();
    assert_eq!(codes, [(TxStatus::Captured, "00000"), (TxStatus::Refused, "01005"), (TxStatus::Cancelled, "02008")]);
}

#[actix_web::test]
async fn simultaneous_payments_after_a_challenge_take_it_over_once() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let at_issuer = Buyer::open(&app, &o).await;
    let (c, _) = at_issuer.to_challenge(CHALLENGE, "654").await;
    // Eight buyers (or eight clicks) pay while the challenge is pending.
    let mut buyers = Vec::new();
    for _ in 0..8 {
        buyers.push(Buyer::open(&app, &o).await);
    }
    let answers = join_all(buyers.iter().map(|b| b.card(FRICTIONLESS, "987"))).await;
    let mut redirected = 0;
    for (buyer, answer) in buyers.iter().zip(&answers) {
        match answer.status {
            303 => {
                answer.assert_redirect(&buyer.link);
                let page = buyer.client.follow(answer).await;
                assert!(page.contains("Payment accepted"), "{}", page.excerpt());
                redirected += 1;
            }
            409 => assert!(answer.contains("A payment is already in progress"), "{}", answer.excerpt()),
            other => panic!("unexpected {other}: {}", answer.excerpt()),
        }
    }
    assert!(redirected >= 1);
    let all = transactions(&app, &o);
    let codes: Vec<_> = all.iter().map(|t| (t.status, t.return_code.as_str())).collect();
    assert_eq!(codes, [(TxStatus::Captured, "00000"), (TxStatus::Cancelled, "02008")], "taken over once, paid once");
    assert_eq!(reload(&app, &o).transaction_id, Some(all[0].id));
    at_issuer.answer(&c, "approve").await.assert_redirect(&at_issuer.link);
    assert_eq!(transactions(&app, &o).len(), 2);
    let metrics = app.client().get("/metrics").await.body;
    assert_eq!((metric(&metrics, "accepted"), metric(&metrics, "cancelled")), (1, 1), "{metrics}");

    // The answer at the issuer and a new payment at once: whichever wins, one payment, and
    // the acquirer is called for the challenge only if it was not taken over.
    for round in 0..4 {
        let o = test_order(&app, &m);
        let at_issuer = Buyer::open(&app, &o).await;
        let (c, _) = at_issuer.to_challenge(CHALLENGE, "654").await;
        let back = Buyer::open(&app, &o).await;
        let (approved, paid) = futures_util::join!(at_issuer.answer(&c, "approve"), back.card(FRICTIONLESS, "987"));
        approved.assert_redirect(&at_issuer.link);
        assert!([303, 409].contains(&paid.status), "round {round}: {}", paid.excerpt());
        let all = transactions(&app, &o);
        let seen: Vec<_> = all.iter().map(|t| (t.status, t.three_ds.as_str())).collect();
        assert!(
            seen == [(TxStatus::Captured, "CHALLENGE_PASSED")]
                || seen == [(TxStatus::Captured, "FRICTIONLESS"), (TxStatus::Cancelled, "NOT_PERFORMED")],
            "round {round}: {seen:?}"
        );
        assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    }
}

/// The stages of the lock, driven directly: a lock whose attempt may be calling the acquirer
/// is never taken over, only one parked at the challenge; and a parked attempt taken over
/// can no longer take its lock back to call the acquirer.
#[actix_web::test]
async fn only_a_challenge_waiting_for_the_buyer_is_taken_over() {
    use paylink::services::payments::{self, CardSummary, Claimed};
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let card = CardSummary {
        brand: "CB / Visa".into(),
        masked: "497010******0014".into(),
        expiry: "12/30".into(),
        holder: Some("Jane Doe".into()),
        alias: None,
    };
    let public_url = app.settings.public_url.clone();
    let clock = app.clock.clone();
    let claim = |holder: &str| {
        let (order, public_url, clock) = (o.clone(), public_url.clone(), clock.clone());
        app.db
            .write_blocking(|conn| {
                let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
                payments::claim(conn, &clock, &shop, &order, holder, &public_url)
            })
            .unwrap()
    };
    let write = |f: &dyn Fn(&mut paylink::db::DbConn) -> paylink::services::ServiceResult<bool>| {
        app.db.write_blocking(|conn| f(conn)).unwrap()
    };
    assert!(matches!(claim("first"), Claimed::Free));
    // Calling the acquirer (just after the lock, or after an answer took it back): busy.
    assert!(matches!(claim("second"), Claimed::Busy));
    assert!(!write(&|conn| payments::resume(conn, &clock, o.id, "first")), "not parked: nothing to resume");
    assert!(write(&|conn| payments::await_challenge(conn, o.id, "first", &card)));
    assert!(!write(&|conn| payments::await_challenge(conn, o.id, "first", &card)), "parked once");
    assert!(write(&|conn| payments::holds(conn, o.id, "first")));
    assert!(write(&|conn| payments::resume(conn, &clock, o.id, "first")));
    assert!(matches!(claim("second"), Claimed::Busy), "answered: calling the acquirer again");
    assert!(!write(&|conn| payments::resume(conn, &clock, o.id, "first")), "answered once");
    // Parked again (a test of the stages, not a flow of the page): taken over, once.
    assert!(write(&|conn| payments::await_challenge(conn, o.id, "first", &card)));
    let Claimed::TookOver(left) = claim("second") else { panic!("a parked challenge is taken over") };
    assert_eq!((left.status, left.return_code.as_str()), (TxStatus::Cancelled, "02008"));
    assert!(matches!(claim("third"), Claimed::Busy), "the new attempt holds it");
    assert!(!write(&|conn| payments::holds(conn, o.id, "first")));
    assert!(!write(&|conn| payments::resume(conn, &clock, o.id, "first")), "the old answer calls nothing");
    assert!(write(&|conn| payments::holds(conn, o.id, "second")));
    let order = reload(&app, &o);
    assert_eq!((order.status, order.transaction_id), (OrderStatus::Refused, Some(left.id)));
    // Given back (an error while writing its result): free again, and expiry still frees a
    // lock whatever its stage.
    write(&|conn| payments::abandon(conn, o.id, "second").map(|_| true));
    assert!(matches!(claim("fourth"), Claimed::Free));
    app.clock.advance(Duration::minutes(payments::LOCK_MINUTES + 1));
    assert!(matches!(claim("fifth"), Claimed::Free), "an expired lock is free");
    assert_eq!(transactions(&app, &o).len(), 1);
}

/// The merchant cancels the order, as the back office or the API does.
fn cancel(app: &TestApp, m: &CreatedMerchant, o: &Order) -> paylink::services::ServiceResult<Order> {
    let clock = app.clock.clone();
    as_merchant(app, m, Mode::Test, |conn, ctx| orders::cancel(conn, &clock, ctx, o.id))
}

/// Neither the merchant's cancel nor the end of validity races a payment: a challenge
/// waiting for the buyer loses to a cancel (its answer then pays nothing); an attempt that
/// may be calling the acquirer holds the cancel back; a payment begun in time may end after
/// the link's last second, and the worker expires the order only once its lock has.
#[actix_web::test]
async fn cancelling_or_expiring_an_order_never_races_its_payment() {
    use paylink::services::{ServiceError, payments};
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");

    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "654").await;
    assert_eq!(
        cancel(&app, &m, &o).expect("the buyer at the issuer holds nothing back").status,
        OrderStatus::Cancelled
    );
    let issuer = buyer.client.get(&format!("{}/3ds?c={c}", buyer.link)).await;
    assert_eq!(issuer.status, 410, "the issuer page of a cancelled order: {}", issuer.excerpt());
    let answer = buyer.answer(&c, "approve").await;
    assert_eq!(answer.status, 410, "{}", answer.excerpt());
    assert!(transactions(&app, &o).is_empty(), "the acquirer was not called");
    assert_eq!(reload(&app, &o).status, OrderStatus::Cancelled);

    let o = test_order(&app, &m);
    let clock = app.clock.clone();
    assert!(app.db.write_blocking(|conn| payments::begin(conn, &clock, o.id, "calling")).unwrap());
    let refused = cancel(&app, &m, &o).unwrap_err();
    assert!(matches!(refused, ServiceError::Conflict("order.payment_in_progress")), "{refused:?}");
    assert_eq!(reload(&app, &o).status, OrderStatus::Running);
    app.clock.advance(Duration::minutes(payments::LOCK_MINUTES + 1));
    assert_eq!(cancel(&app, &m, &o).expect("a lost attempt's lock expires").status, OrderStatus::Cancelled);

    // At the issuer five minutes before the end of validity, approving six minutes later.
    let o = test_order(&app, &m);
    let to_end = o.expires_at - app.clock.now().naive_utc();
    app.clock.advance(to_end - Duration::minutes(5));
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(CHALLENGE, "654").await;
    app.clock.advance(Duration::minutes(6));
    app.run_worker().await;
    assert_eq!(reload(&app, &o).status, OrderStatus::Running, "not expired under a payment");
    let late = Buyer::open_closed(&app, &o).await;
    assert_eq!(late.status, 410, "a new buyer finds the link expired: {}", late.excerpt());
    let issuer = buyer.client.get(&format!("{}/3ds?c={c}", buyer.link)).await;
    assert_eq!(issuer.status, 200, "the issuer page reloads past the end: {}", issuer.excerpt());
    let receipt = buyer.answer_and_follow(&c, "approve").await;
    assert!(receipt.contains("Payment accepted"), "{}", receipt.excerpt());
    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);

    // Left at the issuer past the end: the order expires once the lock has.
    let o = test_order(&app, &m);
    let to_end = o.expires_at - app.clock.now().naive_utc();
    app.clock.advance(to_end - Duration::minutes(5));
    let buyer = Buyer::open(&app, &o).await;
    buyer.to_challenge(CHALLENGE, "654").await;
    app.clock.advance(Duration::minutes(6));
    app.run_worker().await;
    assert_eq!(reload(&app, &o).status, OrderStatus::Running);
    app.clock.advance(Duration::minutes(payments::LOCK_MINUTES));
    app.run_worker().await;
    assert_eq!(reload(&app, &o).status, OrderStatus::Expired);
}

// ---- Bad input ---------------------------------------------------------------------------

#[actix_web::test]
async fn bad_card_input_comes_back_with_what_was_typed_except_number_and_cvv() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    // Number, month, year, CVV, holder, and the fields refused.
    type Case<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, &'a [&'a str]);
    let cases: [Case; 6] = [
        ("4970 1000 0000 0007", "12", "2030", "987", "Jane Doe", &["card_number"]),
        (NOT_A_TEST_CARD, "05", "2026", "987", "Jane Doe", &["expiry_year"]),
        (NOT_A_TEST_CARD, "13", "30", "98", "Jane Doe", &["expiry_month", "cvv"]),
        ("abcd efgh", "ab", "cd", "9x7", "Jane Doe", &["card_number", "expiry_month", "cvv"]),
        ("", "", "", "", &"J".repeat(65), &["card_number", "expiry_month", "cvv", "holder"]),
        (NOT_A_TEST_CARD, "12", "2030", "987", "Jane 4111111111111111", &["holder"]),
    ];
    for (number, month, year, cvv, holder, bad) in cases {
        let page = buyer.submit(number, month, year, cvv, holder).await;
        assert_eq!(page.status, 422, "{number} {month}/{year} {cvv}: {}", page.excerpt());
        for field in ["card_number", "expiry_month", "expiry_year", "cvv", "holder"] {
            let shown = page.count(&format!("p.error#{field}-error"));
            assert_eq!(shown, usize::from(bad.contains(&field)), "{number} {month}/{year} {cvv} {holder}: {field}");
        }
        for field in bad {
            let css = format!("input[name=\"{field}\"]");
            assert_eq!(page.attr(&css, "aria-invalid").as_deref(), Some("true"), "{field}");
            assert!(page.attr(&css, "aria-describedby").unwrap().contains(&format!("{field}-error")), "{field}");
        }
        // The number and the CVV are never sent back; the rest is kept as typed.
        assert_eq!(page.attr("input[name=\"card_number\"]", "value"), None);
        assert_eq!(page.attr("input[name=\"cvv\"]", "value"), None);
        if !number.is_empty() {
            assert!(!page.contains(number), "{number} is not in the page");
        }
        assert!(cvv.is_empty() || !page.contains(&format!("\"{cvv}\"")), "{cvv} is not in the page");
        assert_eq!(page.attr("input[name=\"expiry_month\"]", "value").as_deref(), Some(month));
        assert_eq!(page.attr("input[name=\"expiry_year\"]", "value").as_deref(), Some(year));
        let kept_holder = if bad.contains(&"holder") { "" } else { holder };
        assert_eq!(page.attr("input[name=\"holder\"]", "value").as_deref(), Some(kept_holder));
        assert_eq!(page.session_of(), buyer.session(), "the same pay session");
        assert!(page.contains("The payment was not sent"));
    }
    let page = buyer.submit("4970 1000 0000 0007", "12", "2030", "987", "").await;
    assert!(page.contains("Invalid card number: check the digits."));
    assert!(transactions(&app, &o).is_empty());
    assert_eq!(reload(&app, &o).status, OrderStatus::Running);

    // French messages for a French order.
    let fr = order_with(&app, &m, raw("10", "fr"));
    let page = Buyer::open(&app, &fr).await.submit(FRICTIONLESS, "05", "2026", "987", "").await;
    assert!(page.contains("Cette carte est expirée."), "{}", page.excerpt());
}

trait SessionOf {
    fn session_of(&self) -> String;
}

impl SessionOf for Page {
    fn session_of(&self) -> String {
        self.attr("input[name=\"session\"]", "value").unwrap()
    }
}

// ---- One payment per link, rate limits ----------------------------------------------------

#[actix_web::test]
async fn ten_simultaneous_payments_of_one_link_pay_it_exactly_once() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let mut buyers = Vec::new();
    for _ in 0..10 {
        buyers.push(Buyer::open(&app, &o).await);
    }
    let answers = join_all(buyers.iter().map(|b| b.card(FRICTIONLESS, "987"))).await;
    let mut paid_here = 0;
    for (buyer, answer) in buyers.iter().zip(&answers) {
        match answer.status {
            303 => {
                answer.assert_redirect(&buyer.link);
                let page = buyer.client.follow(answer).await;
                assert!(page.contains("Payment accepted"), "{}", page.excerpt());
                paid_here += 1;
            }
            409 => assert!(answer.contains("A payment is already in progress"), "{}", answer.excerpt()),
            other => panic!("unexpected {other}: {}", answer.excerpt()),
        }
    }
    assert!(paid_here >= 1);
    let all = transactions(&app, &o);
    assert_eq!(all.len(), 1, "exactly one transaction: {all:?}");
    assert_eq!(all[0].status, TxStatus::Captured);
    let paid = reload(&app, &o);
    assert_eq!((paid.status, paid.transaction_id), (OrderStatus::Paid, Some(all[0].id)));
    let metrics = app.client().get("/metrics").await.body;
    assert_eq!(metric(&metrics, "accepted"), 1);
}

#[actix_web::test]
async fn pay_attempts_are_limited_per_link_and_per_address() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let o = test_order(&app, &m);
    let buyer = Buyer::open(&app, &o).await;
    for i in 0..10 {
        assert_eq!(buyer.submit("1234", "12", "2030", "987", "").await.status, 422, "attempt {i}");
    }
    // The allowance refills by one every six seconds: on a slow machine one more may pass.
    let mut page = buyer.submit("1234", "12", "2030", "987", "").await;
    if page.status != 429 {
        page = buyer.submit("1234", "12", "2030", "987", "").await;
    }
    assert_eq!(page.status, 429, "{}", page.excerpt());
    let page = buyer.card(FRICTIONLESS, "987").await;
    assert_eq!(page.status, 429, "a good card too");
    assert!(page.contains("Too many payment attempts"), "{}", page.excerpt());
    assert!(transactions(&app, &o).is_empty());
    // Another link from the same address: 20 more, then the address is over its limit.
    let others = [test_order(&app, &m), test_order(&app, &m)];
    for other in &others {
        let buyer = Buyer::open(&app, other).await;
        for _ in 0..10 {
            assert_eq!(buyer.submit("1234", "12", "2030", "987", "").await.status, 422);
        }
    }
    // The allowance refills by one every two seconds: a few more may pass, then not.
    let fresh = test_order(&app, &m);
    let buyer = Buyer::open(&app, &fresh).await;
    let mut extra = 0;
    loop {
        let page = buyer.submit("1234", "12", "2030", "987", "").await;
        if page.status == 429 {
            assert!(page.contains("Too many payment attempts"));
            break;
        }
        assert_eq!(page.status, 422);
        extra += 1;
        assert!(extra < 5, "30 attempts a minute from one address");
    }
    assert!(transactions(&app, &fresh).is_empty());
}

// ---- The receipt e-mail ------------------------------------------------------------------

/// The readable text of an `.eml` file: headers with RFC 2047 words decoded, and every body
/// part decoded from quoted-printable or base64.
pub fn mail_text(raw: &str) -> String {
    // Folded header lines are unfolded first.
    let raw = raw.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    let mut out = String::new();
    let mut encoding = String::new();
    let mut in_body = false;
    let mut block = String::new();
    let flush = |block: &mut String, encoding: &str, out: &mut String| {
        match encoding {
            "base64" => {
                let joined: String = block.split_whitespace().collect();
                let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, joined.as_bytes())
                    .unwrap_or_default();
                out.push_str(&String::from_utf8_lossy(&bytes));
            }
            "quoted-printable" => out.push_str(&decode_qp(block)),
            _ => out.push_str(block),
        }
        out.push('\n');
        block.clear();
    };
    for line in raw.lines() {
        let lower = line.to_ascii_lowercase();
        if line.starts_with("--") {
            flush(&mut block, &encoding, &mut out);
            in_body = false;
            encoding.clear();
            continue;
        }
        if !in_body {
            if let Some(v) = lower.strip_prefix("content-transfer-encoding:") {
                encoding = v.trim().to_string();
            }
            if line.is_empty() {
                in_body = true;
            } else {
                out.push_str(&decode_words(line));
                out.push('\n');
            }
            continue;
        }
        block.push_str(line);
        block.push('\n');
    }
    flush(&mut block, &encoding, &mut out);
    out
}

fn decode_qp(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        if bytes[i] == b'='
            && let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
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

/// `=?utf-8?b?...?=` and `=?utf-8?q?...?=` words.
fn decode_words(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("=?") {
        out.push_str(&rest[..start]);
        let word = &rest[start + 2..];
        let parts: Vec<&str> = word.splitn(3, '?').collect();
        let Some(end) = parts.get(2).and_then(|p| p.find("?=")) else {
            out.push_str(&rest[start..]);
            return out;
        };
        let text = &parts[2][..end];
        let decoded = if parts[1].eq_ignore_ascii_case("b") {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else {
            decode_qp(&text.replace('_', " "))
        };
        out.push_str(&decoded);
        rest = &parts[2][end + 2..];
        // White space between two encoded words is not part of the text.
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if trimmed.starts_with("=?") {
            rest = trimmed;
        }
    }
    out.push_str(rest);
    out
}

pub fn outbox_files(app: &TestApp) -> Vec<(String, String)> {
    let dir = app.settings.data_dir.join("outbox");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| {
            let raw = std::fs::read_to_string(&p).unwrap();
            (raw.clone(), mail_text(&raw))
        })
        .collect();
    files.sort();
    files
}

#[actix_web::test]
async fn the_receipt_email_reads_well_in_french_and_in_english() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let fr = order_with(
        &app,
        &m,
        RawOrder { reference: "CMD-FR".into(), buyer_email: "marie@example.com".into(), ..raw("42,50", "fr") },
    );
    let en = order_with(
        &app,
        &m,
        RawOrder { reference: "CMD-EN".into(), buyer_email: "john@example.com".into(), ..raw("42.50", "en") },
    );
    Buyer::open(&app, &fr).await.pay(FRICTIONLESS, "987").await;
    Buyer::open(&app, &en).await.pay(MASTERCARD, "654").await;
    // A refused payment sends nothing.
    let refused = order_with(&app, &m, RawOrder { buyer_email: "x@example.com".into(), ..raw("5", "en") });
    Buyer::open(&app, &refused).await.pay(BANK_REFUSAL, "987").await;
    assert_eq!(app.run_worker().await.written, 4, "two receipts, and the shop's e-mail of each acceptance");
    let mails: Vec<_> = outbox_files(&app).into_iter().filter(|(raw, _)| !raw.contains("\nTo: alice@")).collect();
    assert_eq!(mails.len(), 2);
    let french = &mails.iter().find(|(_, text)| text.contains("CMD-FR")).unwrap().1;
    for text in [
        "To: marie@example.com",
        "Votre paiement de 42,50\u{a0}€ à Acme Shop",
        "Votre paiement a été accepté par Acme Shop.",
        "Montant : 42,50\u{a0}€",
        "Référence : CMD-FR",
        "Date : 15/06/2026 12:00 (Europe/Paris)",
        "Carte : CB / Visa •••• 0006",
        "N° de reçu : R-",
        &format!("{}/t/{}", app.base, fr.token),
    ] {
        assert!(french.contains(text), "{text} in\n{french}");
    }
    let english = &mails.iter().find(|(_, text)| text.contains("CMD-EN")).unwrap().1;
    for text in [
        "To: john@example.com",
        "Your payment of €42.50 to Acme Shop",
        "Your payment was accepted by Acme Shop.",
        "Amount: €42.50",
        "Reference: CMD-EN",
        "Date: 2026-06-15 12:00 (Europe/Paris)",
        "Card: CB / Mastercard •••• 0003",
        "Receipt number: R-",
    ] {
        assert!(english.contains(text), "{text} in\n{english}");
    }
    assert!(!english.contains("Montant") && !french.contains("Amount"), "one language each");
    for mail in [french, english] {
        assert!(!mail.contains("497010") && !mail.contains("597010"), "last four only: {mail}");
        assert!(!mail.contains("00000"), "no raw return code for the buyer: {mail}");
    }
}

// ---- No card number, no CVV, anywhere ------------------------------------------------------

/// Everything `tracing` writes in this test process, from the first call on.
pub fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buffer.clone());
        tracing_subscriber::fmt()
            // Everything the server side says (the test client's HTML parser and HTTP stack
            // read the TEST page, which lists the test cards: they are left out).
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,actix_http=debug,mio=debug,html5ever=off,markup5ever=off,selectors=off,scraper=off,cssparser=off,hyper=off,\
                 hyper_util=off,reqwest=off,h2=off,fantoccini=off,webdriver=off",
            ))
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .try_init()
            .expect("this test installs the only global subscriber");
        buffer
    })
    .clone()
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where `code` appears in `hay` as a token of its own (not inside a longer run of letters
/// or digits, such as a random identifier or a hash).
pub fn token_at(hay: &[u8], code: &str) -> Option<usize> {
    let code = code.as_bytes();
    hay.windows(code.len()).enumerate().position(|(i, w)| {
        w == code && (i == 0 || !in_token(hay[i - 1])) && hay.get(i + code.len()).is_none_or(|b| !in_token(*b))
    })
}

/// Letters, digits, and the dot of a decimal number ("4865.852 milliseconds").
fn in_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.'
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Every table of the PostgreSQL database, one JSON line per row.
pub fn postgres_dump(url: &str) -> Vec<u8> {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        j: String,
    }
    let mut conn = diesel::PgConnection::establish(url).unwrap();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(&mut conn)
    .unwrap();
    assert!(tables.iter().any(|t| t.name == "transactions"), "the dump sees the tables");
    let mut out = Vec::new();
    for table in tables {
        let rows: Vec<Row> = diesel::sql_query(format!("SELECT row_to_json(t)::text AS j FROM \"{}\" t", table.name))
            .load(&mut conn)
            .unwrap();
        for row in rows {
            out.extend_from_slice(row.j.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

#[actix_web::test]
async fn no_card_number_or_cvv_is_kept_in_the_database_the_emails_or_the_logs() {
    let logs = captured_logs();
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let email =
        |r: &str| RawOrder { reference: r.into(), buyer_email: "buyer@example.com".into(), ..raw("42,50", "en") };
    // Each card of the table with its own unusual CVV (000 is the simulator's wrong CVV: it
    // is too common a string to look for).
    let plan = [
        (FRICTIONLESS, "987"),
        (AUTH_FAILS, "741"),
        (FRAUD, "852"),
        (BANK_REFUSAL, "963"),
        (BUYER_PRESENT, "258"),
        (MASTERCARD, "369"),
        (NOT_A_TEST_CARD, "147"),
        (FRICTIONLESS, "000"),
    ];
    let mut ids = Vec::new();
    for (i, (number, cvv)) in plan.iter().enumerate() {
        let o = order_with(&app, &m, email(&format!("SCAN-{i}")));
        let buyer = Buyer::open(&app, &o).await;
        // Half typed with spaces, half without.
        let typed = if i % 2 == 0 { number.to_string() } else { spaced(number) };
        buyer.pay(&typed, cvv).await;
        ids.push(o.id.0);
    }
    // The challenge card, approved and abandoned; and an input error with a full number.
    for (action, cvv) in [("approve", "654"), ("abandon", "321")] {
        let o = order_with(&app, &m, email(&format!("SCAN-{action}")));
        let buyer = Buyer::open(&app, &o).await;
        let (c, _) = buyer.to_challenge(&spaced(CHALLENGE), cvv).await;
        buyer.answer_and_follow(&c, action).await;
    }
    // A card saved (AUTO: through the challenge), then paying a second link with its CVV: the
    // number is in the vault, encrypted.
    let saver = |r: &str, alias: &str| RawOrder { alias_mode: alias.into(), ..email(r) };
    let o = order_with(&app, &m, saver("SCAN-save", "AUTO"));
    let buyer = Buyer::open(&app, &o).await;
    let (c, _) = buyer.to_challenge(MASTERCARD, "789").await;
    buyer.answer_and_follow(&c, "approve").await;
    let o = order_with(&app, &m, saver("SCAN-saved", "NONE"));
    let buyer = Buyer::open(&app, &o).await;
    let token = buyer.page.attr("input[name=saved_card][checked]", "value").expect("the saved card is offered");
    let session = buyer.session();
    let paid =
        buyer.client.post_form(&buyer.link, &[("saved_card", &token), ("cvv", "159"), ("session", &session)]).await;
    paid.assert_redirect(&buyer.link);
    assert!(the_transaction(&app, &o).status.accepted());
    let o = order_with(&app, &m, email("SCAN-bad"));
    let page = Buyer::open(&app, &o).await.submit(MASTERCARD, "13", "2030", "456", "4970 1000 0000 0006").await;
    assert_eq!(page.status, 422);
    let report = app.run_worker().await;
    assert_eq!(
        report.written, 12,
        "receipts for 0006, 0055, 5970, the approved challenge and the saved card twice, and the shop's copy of each"
    );
    // Three instalments: the plan's own copy of the card in the vault, the second charged by
    // the worker from it.
    crate::schedules::offer(&app, ShopId(m.shop_id.0), vec![1]);
    let o3 = order_with(&app, &m, RawOrder { reference: "SCAN-3X".into(), ..raw("300,00", "en") });
    crate::schedules::pay_in_three(&app, &o3, FRICTIONLESS).await;
    app.clock.advance(Duration::days(30));
    assert_eq!(app.run_worker().await.instalments_charged, 1, "the second instalment, from the vault");

    let numbers =
        [FRICTIONLESS, CHALLENGE, AUTH_FAILS, FRAUD, BANK_REFUSAL, BUYER_PRESENT, MASTERCARD, NOT_A_TEST_CARD];
    let cvvs = ["987", "741", "852", "963", "258", "369", "147", "654", "321", "456", "789", "159"];
    let mut sources: Vec<(String, Vec<u8>)> = Vec::new();
    match app.backend {
        paylink::db::Backend::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let path = app.dir.path().join(format!("paylink.db{suffix}"));
                if let Ok(bytes) = std::fs::read(&path) {
                    sources.push((path.display().to_string(), bytes));
                }
            }
            assert!(sources.iter().any(|(p, b)| p.ends_with("-wal") && !b.is_empty()), "the WAL is read too");
        }
        paylink::db::Backend::Postgres => {
            let url = app.pg.as_ref().unwrap().url.clone();
            sources.push(("postgres tables".into(), postgres_dump(&url)));
        }
    }
    let mails = outbox_files(&app);
    assert_eq!(mails.iter().filter(|(raw, _)| !raw.contains("\nTo: alice@")).count(), 6, "the buyers' receipts");
    for (i, (raw, text)) in mails.iter().enumerate() {
        sources.push((format!("mail {i} (raw)"), raw.clone().into_bytes()));
        sources.push((format!("mail {i} (decoded)"), text.clone().into_bytes()));
    }
    let log = logs.lock().unwrap().clone();
    sources.push(("logs".into(), log.clone()));

    // The scan sees what it should: masked numbers in the database, the outcomes in the log.
    let all: Vec<u8> = sources.iter().flat_map(|(_, b)| b.clone()).collect();
    assert!(contains(&all, "497010******0006") && contains(&all, "597010******0003"));
    assert!(contains(&all, "vt_"), "the vault's records are in the scan");
    let log_text = String::from_utf8_lossy(&log);
    for id in &ids {
        assert!(log_text.contains(&format!("order.id={id}")), "the outcome of order {id} is logged");
    }
    assert!(log_text.contains("return_code=\"01063\"") || log_text.contains("return_code=01063"), "{log_text}");
    for (name, bytes) in &sources {
        for number in numbers {
            if let Some(i) = bytes.windows(number.len()).position(|w| w == number.as_bytes()) {
                let around =
                    String::from_utf8_lossy(&bytes[i.saturating_sub(300)..(i + 300).min(bytes.len())]).into_owned();
                panic!("{number} in {name}: …{around}…");
            }
            assert!(!contains(bytes, &spaced(number)), "{} in {name}", spaced(number));
        }
        for cvv in cvvs {
            if let Some(i) = token_at(bytes, cvv) {
                let around =
                    String::from_utf8_lossy(&bytes[i.saturating_sub(300)..(i + 300).min(bytes.len())]).into_owned();
                panic!("CVV {cvv} in {name}: …{around}…");
            }
        }
    }
}

pub fn spaced(number: &str) -> String {
    number.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
}

// ---- In a real browser -------------------------------------------------------------------

type Res<T> = Result<T, Box<dyn std::error::Error>>;

async fn challenge_flow(browser: &fantoccini::Client, app: &TestApp, o: &Order) -> Res<()> {
    let url = app.url(&link(o));
    set_viewport(browser, 360, 740).await?;
    browser.goto(&url).await?;
    // pay.js turned the test card numbers into buttons.
    wait_for(browser, Locator::Css("button.card-no[data-card=\"4970100000000014\"]")).await?;
    screenshot(browser, "pay-360.png").await?;
    axe(browser, "the pay page at 360 px").await?;
    browser.execute("document.querySelector('.test-cards').scrollIntoView()", vec![]).await?;
    screenshot(browser, "pay-test-cards-360.png").await?;
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&url).await?;
    let card = wait_for(browser, Locator::Css("button.card-no[data-card=\"4970100000000014\"]")).await?;
    screenshot(browser, "pay-desktop.png").await?;
    card.click().await?;
    screenshot(browser, "pay-test-card-filled.png").await?;
    let number = browser.find(Locator::Css("input[name=\"card_number\"]")).await?.prop("value").await?;
    if number.as_deref() != Some("4970 1000 0000 0014") {
        return Err(format!("the click filled the number with {number:?}").into());
    }
    for (field, expected) in [("expiry_month", "12"), ("expiry_year", "29"), ("cvv", "123")] {
        let value = browser.find(Locator::Css(&format!("input[name=\"{field}\"]"))).await?.prop("value").await?;
        if value.as_deref() != Some(expected) {
            return Err(format!("{field} is {value:?}, not {expected}").into());
        }
    }
    fill(browser, "holder", "Jane Doe").await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    let approve = wait_for(browser, Locator::Css("button[name=\"action\"][value=\"approve\"]")).await?;
    let issuer = browser.find(Locator::Css("body")).await?.text().await?;
    if !issuer.contains("Simulated issuer — TEST") || !issuer.contains("•••• 0014") {
        return Err(format!("the issuer page reads {issuer:?}").into());
    }
    screenshot(browser, "pay-3ds.png").await?;
    axe(browser, "the issuer page").await?;
    approve.click().await?;
    let receipt = wait_for(browser, Locator::Id("receipt")).await?;
    let text = receipt.text().await?;
    if !text.contains("Payment accepted") || !text.contains("•••• 0014") {
        return Err(format!("the receipt reads {text:?}").into());
    }
    wait_for(browser, Locator::Css("button[data-print]:not([hidden])")).await?;
    screenshot(browser, "pay-receipt.png").await?;
    axe(browser, "the receipt").await?;
    set_viewport(browser, 360, 740).await?;
    screenshot(browser, "pay-receipt-360.png").await?;
    Ok(())
}

/// Typed by hand, without the test card buttons: a mistake, then a refusal.
async fn refusal_flow(browser: &fantoccini::Client, app: &TestApp, o: &Order) -> Res<()> {
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url(&link(o))).await?;
    fill(browser, "card_number", "4970 1000 0000 0049").await?;
    fill(browser, "expiry_month", "13").await?;
    fill(browser, "expiry_year", "29").await?;
    fill(browser, "cvv", "12").await?;
    fill(browser, "holder", "Jane Doe").await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    // The typos are caught before the card number leaves the page: the number fails the
    // Luhn check, the month does not exist, the code is too short, and nothing was posted.
    wait_for(browser, Locator::Id("card_number-client-error")).await?;
    for id in ["expiry_month-client-error", "cvv-client-error"] {
        browser.find(Locator::Id(id)).await?;
    }
    let posted = app
        .db
        .read_blocking(|c| paylink::store::transactions::for_order(c, o.id).map_err(paylink::db::DbError::from))
        .map_err(|e| format!("{e:?}"))?;
    if !posted.is_empty() || browser.find(Locator::Id("form-errors")).await.is_ok() {
        return Err("the form was sent with a card number that fails the Luhn check".into());
    }
    let focused = browser.execute("return document.activeElement && document.activeElement.id;", vec![]).await?;
    if focused.as_str() != Some("card_number") {
        return Err(format!("the first field in error has the focus, not {focused:?}").into());
    }
    screenshot(browser, "pay-errors.png").await?;
    axe(browser, "the pay page with client-side errors").await?;
    fill(browser, "card_number", "4970100000000048").await?;
    fill(browser, "expiry_month", "12").await?;
    fill(browser, "cvv", "987").await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    let refusal = wait_for(browser, Locator::Id("refusal")).await?;
    let text = refusal.text().await?;
    if !text.contains("The bank refused the payment") {
        return Err(format!("the refusal reads {text:?}").into());
    }
    screenshot(browser, "pay-refused.png").await?;
    axe(browser, "the refusal").await?;
    set_viewport(browser, 360, 740).await?;
    screenshot(browser, "pay-refused-360.png").await?;
    Ok(())
}

/// The page in each of the five languages, at 360 px and on a desktop; then the switch,
/// which keeps what the buyer typed.
async fn language_flow(browser: &fantoccini::Client, app: &TestApp, o: &Order) -> Res<()> {
    let url = app.url(&link(o));
    for lang in ["fr", "en", "de", "es", "it"] {
        for (width, height, suffix) in [(360, 740, "-360"), (1280, 900, "")] {
            set_viewport(browser, width, height).await?;
            browser.goto(&format!("{url}?lang={lang}")).await?;
            wait_for(browser, Locator::Css(&format!("html[lang=\"{lang}\"] button.card-no"))).await?;
            screenshot(browser, &format!("pay-{lang}{suffix}.png")).await?;
        }
        axe(browser, &format!("the pay page in {lang}")).await?;
    }
    browser.goto(&format!("{url}?lang=fr")).await?;
    wait_for(browser, Locator::Css("html[lang=\"fr\"] button.card-no")).await?;
    fill(browser, "card_number", "4970 1000 0000 0006").await?;
    fill(browser, "expiry_month", "12").await?;
    fill(browser, "expiry_year", "29").await?;
    fill(browser, "holder", "Jane Doe").await?;
    browser.find(Locator::Css("nav.pay-langs a[lang=\"de\"]")).await?.click().await?;
    wait_for(browser, Locator::Css("html[lang=\"de\"] nav.pay-langs a[lang=\"de\"][aria-current]")).await?;
    let title = browser.find(Locator::Css("#pay-form h2, .pay-form h2, main h2")).await?.text().await?;
    if title != "Mit Karte bezahlen" {
        return Err(format!("after the switch the form reads {title:?}").into());
    }
    for (field, expected) in
        [("card_number", "4970 1000 0000 0006"), ("expiry_month", "12"), ("expiry_year", "29"), ("holder", "Jane Doe")]
    {
        let value = browser.find(Locator::Css(&format!("input[name=\"{field}\"]"))).await?.prop("value").await?;
        if value.as_deref() != Some(expected) {
            return Err(format!("after the switch {field} is {value:?}, not {expected:?}").into());
        }
    }
    screenshot(browser, "pay-switched-de.png").await?;
    // And the switched page still pays, in German.
    fill(browser, "cvv", "123").await?;
    browser.find(Locator::Css("button.pay-button")).await?.click().await?;
    let receipt = wait_for(browser, Locator::Id("receipt")).await?;
    let text = receipt.text().await?;
    if !text.contains("0006") || browser.find(Locator::Css("html[lang=\"de\"]")).await.is_err() {
        return Err(format!("the receipt after the switch reads {text:?}").into());
    }
    screenshot(browser, "pay-receipt-de.png").await?;
    Ok(())
}

#[actix_web::test]
async fn paying_with_the_challenge_card_in_the_browser() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    crate::hardening::give_a_logo(&app, &m);
    let o = order_with(&app, &m, RawOrder { reference: "CMD-2026-0042".into(), ..raw("42,50", "en") });
    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let refused = order_with(&app, &m, raw("18,90", "en"));
    let switched = order_with(&app, &m, RawOrder { reference: "CMD-FR".into(), ..raw("1250", "fr") });
    let mut outcome = challenge_flow(&browser, &app, &o).await;
    if outcome.is_ok() {
        outcome = refusal_flow(&browser, &app, &refused).await;
    }
    if outcome.is_ok() {
        outcome = language_flow(&browser, &app, &switched).await;
    }
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "pay-failure.png").await.map(|p| p.display().to_string());
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!(
            "browser flow failed: {error}\n at {url} (screenshot: {shot:?})\npage source:\n{}",
            source.chars().take(4000).collect::<String>()
        );
    }
    browser.close().await.expect("close the browser session");
    let t = the_transaction(&app, &o);
    assert_eq!((t.status, t.three_ds.as_str()), (TxStatus::Captured, "CHALLENGE_PASSED"));
    assert_eq!(reload(&app, &o).status, OrderStatus::Paid);
    assert_eq!(the_transaction(&app, &refused).return_code, "01005");
    assert_eq!(reload(&app, &refused).status, OrderStatus::Refused);
    assert_eq!(reload(&app, &switched).status, OrderStatus::Paid, "paid after the language switch");
}

#[actix_web::test]
async fn an_unknown_or_malformed_link_gets_a_buyer_page_in_the_browsers_language() {
    let app = TestApp::spawn().await;
    for (lang, title) in [("fr", "Ce lien de paiement est introuvable"), ("en", "This payment link cannot be found")] {
        for path in ["/t/not-a-real-token-at-all", "/t/x", "/t/%E2%80%A6%20", "/t/abc/qr.svg"] {
            let page = app.client_lang(lang).get(path).await;
            assert_eq!(page.status, 404, "{path}");
            assert_eq!(page.attr("html", "lang").as_deref(), Some(lang), "{path}");
            assert_eq!(page.texts("h1"), [title], "{path}: {}", page.excerpt());
            assert_eq!(page.count("a[href]"), 0, "{path}: no link to the back office or its login");
            assert!(!page.contains("404"), "{path}: nothing technical: {}", page.excerpt());
        }
    }
    // Elsewhere a missing page is still the back office's.
    let page = app.client_lang("en").get("/no-such-page").await;
    assert_eq!(page.status, 404);
    assert!(!page.contains("This payment link cannot be found"));
}

#[actix_web::test]
async fn the_pay_page_speaks_five_languages_order_first_then_the_buyers_choice() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    // The order's language decides, whatever the browser says.
    let de = order_with(&app, &m, RawOrder { reference: "CMD-DE".into(), ..raw("1250", "de") });
    let page = app.client_lang("fr").get(&link(&de)).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.attr("html", "lang").as_deref(), Some("de"));
    assert_eq!(page.texts("h2").first().map(String::as_str), Some("Mit Karte bezahlen"), "{}", page.excerpt());
    assert!(page.texts("dt").contains(&"Gültig bis".to_string()));
    assert!(page.contains("1.250,00\u{a0}€") && page.contains("15.07.2026"), "{}", page.excerpt());
    // The switch lists the five languages, the current one marked.
    let switch: Vec<_> = page.texts("nav.pay-langs a");
    assert_eq!(switch.len(), 5, "{switch:?}");
    assert_eq!(page.attr("nav.pay-langs a[aria-current]", "lang").as_deref(), Some("de"));
    assert_eq!(page.attr("nav.pay-langs a[lang=it]", "href"), Some(format!("{}?lang=it", link(&de))));

    // ?lang= overrides it and is remembered for the rest of the visit, the POST included.
    let buyer = app.client_lang("fr");
    let page = buyer.get(&format!("{}?lang=it", link(&de))).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("it"));
    assert!(page.texts("dt").contains(&"Valido fino al".to_string()));
    let session = page.attr("input[name=\"session\"]", "value").unwrap();
    let page = buyer
        .post_form(
            &link(&de),
            &[
                ("card_number", FRICTIONLESS),
                ("expiry_month", "05"),
                ("expiry_year", "2026"),
                ("cvv", "987"),
                ("holder", ""),
                ("session", &session),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(page.attr("html", "lang").as_deref(), Some("it"));
    assert!(page.contains("Questa carta è scaduta."), "{}", page.excerpt());
    assert_eq!(page.header("cache-control").as_deref(), Some("no-store"), "a refused form is not cached either");
    assert_eq!(page.attr("input[name=\"card_number\"]", "value"), None, "the number is not sent back");
    assert!(!page.contains("\"987\""), "nor the CVV");
    // Another buyer of the same link still gets the order's language.
    let page = app.client_lang("en").get(&link(&de)).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("de"));
    // An unknown code is ignored.
    let page = app.client().get(&format!("{}?lang=xx", link(&de))).await;
    assert_eq!(page.attr("html", "lang").as_deref(), Some("de"));

    // Spanish and Italian orders.
    for (lang, title) in [("es", "Pagar con tarjeta"), ("it", "Paga con carta")] {
        let o = order_with(&app, &m, RawOrder { reference: format!("CMD-{lang}"), ..raw("10", lang) });
        let page = app.client_lang("en").get(&link(&o)).await;
        assert_eq!(page.attr("html", "lang").as_deref(), Some(lang));
        assert!(page.texts("h2").contains(&title.to_string()), "{lang}: {}", page.excerpt());
    }

    // With no order, Accept-Language decides among the five.
    for (lang, title) in [
        ("de", "Dieser Zahlungslink wurde nicht gefunden"),
        ("es", "No se ha encontrado este enlace de pago"),
        ("it", "Questo link di pagamento non è stato trovato"),
    ] {
        let page = app.client_lang(lang).get("/t/not-a-real-token-at-all").await;
        assert_eq!(page.status, 404);
        assert_eq!(page.attr("html", "lang").as_deref(), Some(lang));
        assert_eq!(page.texts("h1"), [title]);
    }
}
