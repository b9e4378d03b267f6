//! paylink's PSP connectors (Mollie, PayPlug, PayZen) over real HTTP against the fake services
//! of `psp_fake`: the exact requests each sends (path, auth, body) as /work/notes/psp_wire.md
//! says, how each reads the answers and statuses, the errors (bad credentials, 5xx, a late
//! answer, a refusal), refunds and cancellations, the notifications (PayZen's `kr-hash`
//! verified, a tampered one refused), and the journal (every call, never the secret).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use paylink::acquirer::psp::{
    Account, Call, Connector, CreateRequest, Created, Http, Journal, Notified, PaidWith, PspError, connector,
};
use paylink::domain::api_key::Mode;
use paylink::domain::money::{Currency, Money};
use paylink::domain::payment_service::{Credentials, RequestStatus, Service};

use crate::psp_fake::{FakePsp, Outcome, Seen, kr_hash};
use crate::webhooks::Receiver;

const MOLLIE_KEY: &str = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM";
const PAYPLUG_KEY: &str = "sk_test_2a3hVIbpIO9M1cXkdqEJ5ZpJ";
const PAYZEN_USER: &str = "69876357";
const PAYZEN_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
/// `Basic ` + base64 of `69876357:testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M`.
const PAYZEN_BASIC: &str = "Basic Njk4NzYzNTc6dGVzdHBhc3N3b3JkX0RFTU9QUklWQVRFS0VZMjNHNDQ3NXpYWlEyVUE1eDdN";

const RETURN_URL: &str = "https://pay.example.test/t/tok_abc/return";
const NOTIFY_URL: &str = "https://pay.example.test/notify/mollie/7";
const FORM: &str = "application/x-www-form-urlencoded";

/// The credentials as a merchant types them.
fn typed(service: Service) -> String {
    match service {
        Service::Mollie => MOLLIE_KEY.to_string(),
        Service::PayPlug => PAYPLUG_KEY.to_string(),
        _ => format!("{PAYZEN_USER}:{PAYZEN_PASSWORD}"),
    }
}

/// Well-formed credentials the fake does not accept.
fn wrong(service: Service) -> String {
    match service {
        Service::Mollie => "test_WRONGWRONGWRONGWRONGWRONGWR".to_string(),
        Service::PayPlug => "sk_test_WRONGWRONGWRONGWRONG".to_string(),
        _ => format!("{PAYZEN_USER}:testpassword_WRONGWRONGWRONGWRONG"),
    }
}

/// The part that must never be journaled.
fn secret(service: Service) -> &'static str {
    match service {
        Service::Mollie => MOLLIE_KEY,
        Service::PayPlug => PAYPLUG_KEY,
        _ => PAYZEN_PASSWORD,
    }
}

fn expected_authorization(service: Service) -> String {
    match service {
        Service::PayZen => PAYZEN_BASIC.to_string(),
        _ => format!("Bearer {}", secret(service)),
    }
}

fn connector_at(service: Service, base_url: &str, credentials: &str, timeout: Duration) -> Box<dyn Connector> {
    let account = Account {
        service,
        mode: Mode::Test,
        credentials: Credentials::parse(service, Mode::Test, credentials).expect("test credentials parse"),
        base_url: base_url.to_string(),
    };
    connector(account, Arc::new(Http::new(timeout)))
}

/// A fake `service` and a connector to it with the right credentials.
fn setup(service: Service) -> (FakePsp, Box<dyn Connector>) {
    let fake = FakePsp::start(service, &typed(service));
    let c = connector_at(service, &fake.base_url(), &typed(service), Duration::from_secs(10));
    (fake, c)
}

fn eur(minor: i64) -> Money {
    Money::from_minor(minor, Currency::EUR).unwrap()
}

fn request<'a>(key: &'a str, amount: Money, notify_url: &'a str) -> CreateRequest<'a> {
    CreateRequest {
        key,
        amount,
        description: "Order CMD-1",
        buyer_email: Some("buyer@example.com"),
        language: "fr",
        return_url: RETURN_URL,
        notify_url,
    }
}

/// A new 10.00 EUR payment at the fake; its id.
async fn created(c: &dyn Connector, fake: &FakePsp, key: &str) -> String {
    let mut journal = Journal::default();
    let created = c.create(&request(key, eur(1000), NOTIFY_URL), &mut journal).await.expect("created");
    assert_eq!(Some(created.id.clone()), fake.last_payment_id());
    created.id
}

fn last(fake: &FakePsp) -> Seen {
    fake.requests().pop().expect("the fake got a request")
}

fn only_call(journal: &Journal) -> &Call {
    assert_eq!(journal.calls.len(), 1, "{:#?}", journal.calls);
    &journal.calls[0]
}

/// Each call of the journal names a URL under the fake, and never the secret.
fn assert_no_secret(service: Service, journal: &Journal) {
    let basic = PAYZEN_BASIC.trim_start_matches("Basic ");
    for call in &journal.calls {
        for (what, text) in [("url", &call.url), ("request", &call.request), ("response", &call.response)] {
            assert!(!text.contains(secret(service)), "the secret is in the {what} of {call:#?}");
            assert!(!text.contains(basic), "the Basic credentials are in the {what} of {call:#?}");
        }
    }
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------------------
// create

#[actix_web::test]
async fn mollie_create_posts_a_decimal_string_amount_with_the_bearer_key_and_reads_the_checkout_url() {
    let (fake, c) = setup(Service::Mollie);
    let mut journal = Journal::default();
    let created = c.create(&request("pr_mollie1", eur(1000), NOTIFY_URL), &mut journal).await.unwrap();

    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    let s = &seen[0];
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/v2/payments"));
    assert_eq!(s.header("authorization"), format!("Bearer {MOLLIE_KEY}"));
    assert!(s.header("content-type").starts_with("application/json"), "{:?}", s.headers);
    let b = s.json();
    assert_eq!(b["amount"], json!({"currency": "EUR", "value": "10.00"}), "{b}");
    assert_eq!(b["description"], "Order CMD-1");
    assert_eq!(b["redirectUrl"], RETURN_URL);
    assert_eq!(b["webhookUrl"], NOTIFY_URL);
    assert_eq!(b["locale"], "fr_FR");
    assert_eq!(b["metadata"]["paylink_request"], "pr_mollie1");

    let id = fake.last_payment_id().unwrap();
    assert!(id.starts_with("tr_") && id.len() == 13, "{id}");
    assert_eq!(created, Created { id: id.clone(), checkout_url: fake.checkout_url(&id), status: RequestStatus::Open });
    assert_eq!(fake.payment(&id).key.as_deref(), Some("pr_mollie1"));

    let call = only_call(&journal);
    assert_eq!(
        (call.method, call.url.as_str(), call.status),
        ("POST", format!("{}v2/payments", fake.base_url()).as_str(), Some(201))
    );
    assert!(call.request.contains("\"10.00\"") && call.response.contains(&id), "{call:#?}");

    // A currency without decimals is sent without any; each language its locale.
    let jpy = Money::from_minor(1500, Currency::parse("JPY").unwrap()).unwrap();
    for (language, locale) in [("en", "en_US"), ("de", "de_DE"), ("es", "es_ES"), ("it", "it_IT"), ("nl", "en_US")] {
        let r = CreateRequest { language, buyer_email: None, ..request("pr_mollie2", jpy, NOTIFY_URL) };
        c.create(&r, &mut journal).await.unwrap();
        let b = last(&fake).json();
        assert_eq!(b["amount"], json!({"currency": "JPY", "value": "1500"}), "{b}");
        assert_eq!(b["locale"], locale, "{language}");
    }
    assert_no_secret(Service::Mollie, &journal);
}

#[actix_web::test]
async fn payplug_create_posts_integer_cents_with_the_secret_key_and_the_version_header() {
    let (fake, c) = setup(Service::PayPlug);
    let mut journal = Journal::default();
    let created = c.create(&request("pr_payplug1", eur(1000), NOTIFY_URL), &mut journal).await.unwrap();

    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    let s = &seen[0];
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/v1/payments"));
    assert_eq!(s.header("authorization"), format!("Bearer {PAYPLUG_KEY}"));
    assert_eq!(s.header("payplug-version"), "2019-08-06");
    assert!(s.header("content-type").starts_with("application/json"), "{:?}", s.headers);
    let b = s.json();
    assert_eq!(b["amount"], json!(1000), "an integer in cents: {b}");
    assert_eq!(b["currency"], "EUR");
    assert_eq!(b["billing"]["email"], "buyer@example.com");
    assert_eq!(b["billing"]["language"], "fr");
    assert_eq!(b["hosted_payment"]["return_url"], RETURN_URL);
    assert_eq!(b["hosted_payment"]["cancel_url"], RETURN_URL);
    assert_eq!(b["notification_url"], NOTIFY_URL);
    assert_eq!(b["metadata"]["paylink_request"], "pr_payplug1");

    let id = fake.last_payment_id().unwrap();
    assert!(id.starts_with("pay_"), "{id}");
    assert_eq!(created, Created { id: id.clone(), checkout_url: fake.checkout_url(&id), status: RequestStatus::Open });
    let call = only_call(&journal);
    assert_eq!(
        (call.method, call.url.as_str(), call.status),
        ("POST", format!("{}v1/payments", fake.base_url()).as_str(), Some(201))
    );

    // Without a buyer e-mail, none is sent.
    let r = CreateRequest { buyer_email: None, language: "en", ..request("pr_payplug2", eur(1234), NOTIFY_URL) };
    c.create(&r, &mut journal).await.unwrap();
    let b = last(&fake).json();
    assert_eq!(b["amount"], json!(1234));
    assert!(b["billing"].get("email").is_none(), "{b}");
    assert_eq!(b["billing"]["language"], "en");
    assert_no_secret(Service::PayPlug, &journal);
}

#[actix_web::test]
async fn payzen_create_posts_a_payment_order_with_basic_auth_of_shop_id_and_password() {
    assert_eq!(
        PAYZEN_BASIC,
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{PAYZEN_USER}:{PAYZEN_PASSWORD}"))
        )
    );
    let (fake, c) = setup(Service::PayZen);
    let mut journal = Journal::default();
    let created = c.create(&request("pr_payzen1", eur(1000), NOTIFY_URL), &mut journal).await.unwrap();

    let seen = fake.requests();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    let s = &seen[0];
    assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/V4/Charge/CreatePaymentOrder"));
    assert_eq!(s.header("authorization"), PAYZEN_BASIC);
    assert!(s.header("content-type").starts_with("application/json"), "{:?}", s.headers);
    let b = s.json();
    assert_eq!(b["amount"], json!(1000), "an integer in cents: {b}");
    assert_eq!(b["currency"], "EUR");
    assert_eq!(b["orderId"], "pr_payzen1");
    assert_eq!(b["channelOptions"], json!({"channelType": "URL"}));
    assert_eq!(b["paymentReceiptEmail"], "buyer@example.com");
    assert_eq!(b["locale"], "fr_FR");
    assert_eq!(b["description"], "Order CMD-1");
    assert_eq!(b["returnUrl"], RETURN_URL);
    assert_eq!(b["ipnTargetUrl"], NOTIFY_URL);

    let id = fake.last_payment_id().unwrap();
    assert!(is_hex32(&id), "{id}");
    assert_eq!(created, Created { id: id.clone(), checkout_url: fake.checkout_url(&id), status: RequestStatus::Open });
    let call = only_call(&journal);
    assert_eq!(
        (call.method, call.url.as_str(), call.status),
        ("POST", format!("{}V4/Charge/CreatePaymentOrder", fake.base_url()).as_str(), Some(200))
    );

    for (language, locale) in [("en", "en_US"), ("de", "de_DE"), ("es", "es_ES"), ("it", "it_IT"), ("pt", "en_US")] {
        let r = CreateRequest { language, buyer_email: None, ..request("pr_payzen2", eur(1), NOTIFY_URL) };
        c.create(&r, &mut journal).await.unwrap();
        let b = last(&fake).json();
        assert_eq!(b["locale"], locale, "{language}");
        assert_eq!(b["amount"], json!(1));
        assert!(b.get("paymentReceiptEmail").is_none(), "no buyer, no receipt field: {b}");
    }
    assert_no_secret(Service::PayZen, &journal);
}

#[actix_web::test]
async fn a_payzen_error_answer_is_a_refusal_even_with_http_200() {
    let (fake, c) = setup(Service::PayZen);
    let id = created(c.as_ref(), &fake, "pr_error").await;
    let uuid = fake.payment(&id).transaction_uuid;
    // The fake answers `{"status":"ERROR"}` with HTTP 200: refunding a transaction not paid.
    let mut journal = Journal::default();
    let r = c.refund(&id, Some(&uuid), eur(500), &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{r:?}");
    let call = only_call(&journal);
    assert_eq!(call.status, Some(200));
    assert!(call.response.contains("\"ERROR\""), "{call:#?}");
    assert!(fake.payment(&id).refunds.is_empty());
}

// ---------------------------------------------------------------------------------------
// fetch

fn expected_status(service: Service, outcome: Outcome) -> RequestStatus {
    match outcome {
        Outcome::Open => RequestStatus::Open,
        Outcome::Pending if service == Service::Mollie => RequestStatus::Pending,
        Outcome::Pending => RequestStatus::Open,
        Outcome::Paid => RequestStatus::Paid,
        Outcome::Declined => RequestStatus::Failed,
        Outcome::Cancelled => RequestStatus::Cancelled,
        Outcome::Expired => RequestStatus::Expired,
    }
}

async fn fetch_reads_each_status(service: Service) {
    let (fake, c) = setup(service);
    let id = created(c.as_ref(), &fake, "pr_fetch").await;
    let mut journal = Journal::default();
    for outcome in Outcome::ALL {
        fake.set_status(&id, outcome);
        let before = fake.requests().len();
        let f = c.fetch(&id, &mut journal).await.unwrap_or_else(|e| panic!("{service:?} {outcome:?}: {e}"));
        assert_eq!(fake.requests().len(), before + 1, "one call per fetch");
        let s = last(&fake);
        assert_eq!(s.header("authorization"), expected_authorization(service));
        match service {
            Service::Mollie => assert_eq!((s.method.as_str(), s.path.clone()), ("GET", format!("/v2/payments/{id}"))),
            Service::PayPlug => {
                assert_eq!((s.method.as_str(), s.path.clone()), ("GET", format!("/v1/payments/{id}")));
                assert_eq!(s.header("payplug-version"), "2019-08-06");
            }
            _ => {
                assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/V4/Charge/PaymentOrder/Get"));
                assert_eq!(s.json(), json!({"paymentOrderId": id}));
            }
        }
        assert_eq!(f.id, id, "{outcome:?}");
        assert_eq!(f.status, expected_status(service, outcome), "{service:?} {outcome:?}: {f:?}");
        match service {
            Service::PayPlug => match outcome {
                Outcome::Paid => assert!(f.raw_status.contains("paid"), "{f:?}"),
                Outcome::Declined => assert!(f.raw_status.contains("card_declined"), "{f:?}"),
                Outcome::Cancelled => assert!(f.raw_status.contains("aborted"), "{f:?}"),
                Outcome::Expired => assert!(f.raw_status.contains("timeout"), "{f:?}"),
                _ => {}
            },
            _ => assert_eq!(f.raw_status, outcome.words(service), "{service:?} {outcome:?}"),
        }
        if outcome == Outcome::Paid {
            let brand = if service == Service::PayZen { "VISA" } else { "Visa" };
            assert_eq!(f.card, PaidWith { brand: Some(brand.into()), last4: Some("0006".into()) }, "{f:?}");
            if service == Service::PayZen {
                assert_eq!(f.refund_ref.as_deref(), Some(fake.payment(&id).transaction_uuid.as_str()));
            }
        } else {
            assert_eq!(f.card, PaidWith::default(), "{outcome:?}: {f:?}");
        }
    }
    assert_eq!(journal.calls.len(), Outcome::ALL.len());
    assert!(journal.calls.iter().all(|call| call.status == Some(200)), "{:#?}", journal.calls);

    // An id the service does not know: a refusal (404, or PayZen's ERROR).
    let mut journal = Journal::default();
    let unknown = match service {
        Service::Mollie => "tr_unknown000",
        Service::PayPlug => "pay_unknown0000000000000",
        _ => "0123456789abcdef0123456789abcdef",
    };
    let r = c.fetch(unknown, &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{r:?}");
    assert_eq!(only_call(&journal).status, Some(if service == Service::PayZen { 200 } else { 404 }));
    assert_no_secret(service, &journal);
}

#[actix_web::test]
async fn mollie_fetch_reads_open_pending_paid_failed_canceled_expired() {
    fetch_reads_each_status(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_fetch_reads_open_paid_and_each_failure_code() {
    fetch_reads_each_status(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_fetch_reads_each_payment_order_status_and_the_transaction_to_refund() {
    fetch_reads_each_status(Service::PayZen).await;
}

// ---------------------------------------------------------------------------------------
// check, errors

async fn check_with_good_and_bad_credentials(service: Service) {
    let (fake, c) = setup(service);
    let mut journal = Journal::default();
    c.check(&mut journal).await.unwrap_or_else(|e| panic!("{service:?}: {e}"));
    let s = last(&fake);
    assert_eq!(s.header("authorization"), expected_authorization(service));
    match service {
        Service::Mollie => assert_eq!((s.method.as_str(), s.path.as_str()), ("GET", "/v2/methods")),
        Service::PayPlug => {
            assert_eq!((s.method.as_str(), s.path.as_str()), ("GET", "/v1/payments?per_page=1"));
            assert_eq!(s.header("payplug-version"), "2019-08-06");
        }
        _ => {
            assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/V4/Charge/SDKTest"));
            assert_eq!(s.json(), json!({"value": "paylink"}));
        }
    }
    assert_eq!(only_call(&journal).status, Some(200));

    let bad = connector_at(service, &fake.base_url(), &wrong(service), Duration::from_secs(10));
    let mut journal = Journal::default();
    let r = bad.check(&mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{service:?}: {r:?}");
    assert_eq!(only_call(&journal).status, Some(401));
    assert_eq!(fake.requests().len(), 2);
    assert!(!format!("{r:?}").contains("WRONG"), "{r:?}");
    assert_no_secret(service, &journal);
    if service == Service::PayZen {
        // A wrong shop id with the right password is refused too.
        let bad =
            connector_at(service, &fake.base_url(), &format!("12345678:{PAYZEN_PASSWORD}"), Duration::from_secs(10));
        assert!(matches!(bad.check(&mut journal).await, Err(PspError::Refused(_))));
    }
}

#[actix_web::test]
async fn mollie_check_passes_with_the_key_and_is_refused_with_another() {
    check_with_good_and_bad_credentials(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_check_passes_with_the_key_and_is_refused_with_another() {
    check_with_good_and_bad_credentials(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_check_passes_with_shop_id_and_password_and_is_refused_with_another() {
    check_with_good_and_bad_credentials(Service::PayZen).await;
}

async fn server_errors_are_unavailable(service: Service) {
    let (fake, c) = setup(service);
    let mut journal = Journal::default();
    fake.fail_next(503, 1);
    let r = c.check(&mut journal).await;
    assert!(matches!(r, Err(PspError::Unavailable(_))), "{service:?}: {r:?}");
    assert_eq!(only_call(&journal).status, Some(503));

    let mut journal = Journal::default();
    fake.fail_next(500, 1);
    let r = c.create(&request("pr_5xx", eur(1000), NOTIFY_URL), &mut journal).await;
    assert!(matches!(r, Err(PspError::Unavailable(_))), "{service:?}: {r:?}");
    assert_eq!(only_call(&journal).status, Some(500));
    assert_eq!(fake.last_payment_id(), None, "the scripted failure did nothing");

    // Once the service is back, the same call works.
    let id = created(c.as_ref(), &fake, "pr_5xx").await;
    fake.fail_next(502, 2);
    let mut journal = Journal::default();
    assert!(matches!(c.fetch(&id, &mut journal).await, Err(PspError::Unavailable(_))));
    assert!(matches!(c.fetch(&id, &mut journal).await, Err(PspError::Unavailable(_))));
    assert_eq!(c.fetch(&id, &mut journal).await.unwrap().status, RequestStatus::Open);
    let statuses: Vec<_> = journal.calls.iter().map(|c| c.status).collect();
    assert_eq!(statuses, vec![Some(502), Some(502), Some(200)]);

    // Nobody listening: unavailable, no status.
    let closed = format!("http://127.0.0.1:{}/", crate::delivery::free_port());
    let down = connector_at(service, &closed, &typed(service), Duration::from_secs(5));
    let mut journal = Journal::default();
    let r = down.check(&mut journal).await;
    assert!(matches!(r, Err(PspError::Unavailable(_))), "{service:?}: {r:?}");
    assert_eq!(only_call(&journal).status, None);
    assert_no_secret(service, &journal);
}

#[actix_web::test]
async fn mollie_5xx_and_no_connection_are_unavailable() {
    server_errors_are_unavailable(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_5xx_and_no_connection_are_unavailable() {
    server_errors_are_unavailable(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_5xx_and_no_connection_are_unavailable() {
    server_errors_are_unavailable(Service::PayZen).await;
}

async fn a_late_answer_is_a_timeout(service: Service) {
    let fake = FakePsp::start(service, &typed(service));
    let timeout = Duration::from_millis(300);
    let c = connector_at(service, &fake.base_url(), &typed(service), timeout);
    fake.delay_next(Duration::from_millis(1500));
    let mut journal = Journal::default();
    let started = std::time::Instant::now();
    let r = c.create(&request("pr_late", eur(1000), NOTIFY_URL), &mut journal).await;
    let waited = started.elapsed();
    assert_eq!(r, Err(PspError::Timeout(timeout)), "{service:?}");
    assert!(waited >= timeout && waited < Duration::from_millis(1400), "{waited:?}");
    let call = only_call(&journal);
    assert_eq!(call.status, None, "{call:#?}");
    // It may have been done: the fake did create it.
    assert!(fake.last_payment_id().is_some());
    // The next call is answered in time.
    let mut journal = Journal::default();
    c.check(&mut journal).await.unwrap();
    assert_eq!(only_call(&journal).status, Some(200));
}

#[actix_web::test]
async fn mollie_an_answer_later_than_the_timeout_is_a_timeout() {
    a_late_answer_is_a_timeout(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_an_answer_later_than_the_timeout_is_a_timeout() {
    a_late_answer_is_a_timeout(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_an_answer_later_than_the_timeout_is_a_timeout() {
    a_late_answer_is_a_timeout(Service::PayZen).await;
}

// ---------------------------------------------------------------------------------------
// refund, cancel

async fn refunds_up_to_the_paid_amount(service: Service) {
    let (fake, c) = setup(service);
    let id = created(c.as_ref(), &fake, "pr_refund").await;
    let uuid = fake.payment(&id).transaction_uuid;
    let mut journal = Journal::default();

    // Not paid yet: refused, nothing refunded.
    let unpaid_ref = (service == Service::PayZen).then_some(uuid.as_str());
    let r = c.refund(&id, unpaid_ref, eur(500), &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{service:?}: {r:?}");
    assert!(fake.payment(&id).refunds.is_empty());

    fake.set_status(&id, Outcome::Paid);
    let f = c.fetch(&id, &mut journal).await.unwrap();
    let refund_ref = f.refund_ref.clone();
    if service == Service::PayZen {
        assert_eq!(refund_ref.as_deref(), Some(uuid.as_str()));
    }

    c.refund(&id, refund_ref.as_deref(), eur(500), &mut journal).await.unwrap_or_else(|e| panic!("{service:?}: {e}"));
    assert_eq!(fake.payment(&id).refunds, vec![500]);
    let s = last(&fake);
    assert_eq!(s.header("authorization"), expected_authorization(service));
    assert!(s.header("content-type").starts_with("application/json"), "{:?}", s.headers);
    match service {
        Service::Mollie => {
            assert_eq!((s.method.as_str(), s.path.clone()), ("POST", format!("/v2/payments/{id}/refunds")));
            assert_eq!(s.json()["amount"], json!({"currency": "EUR", "value": "5.00"}));
        }
        Service::PayPlug => {
            assert_eq!((s.method.as_str(), s.path.clone()), ("POST", format!("/v1/payments/{id}/refunds")));
            assert_eq!(s.json()["amount"], json!(500));
            assert_eq!(s.header("payplug-version"), "2019-08-06");
        }
        _ => {
            assert_eq!((s.method.as_str(), s.path.as_str()), ("POST", "/V4/Transaction/CancelOrRefund"));
            assert_eq!(s.json(), json!({"uuid": uuid, "amount": 500, "currency": "EUR"}));
        }
    }
    assert_eq!(journal.calls.last().unwrap().status, Some(if service == Service::PayZen { 200 } else { 201 }));

    // 500 left: 6.00 is too much.
    let r = c.refund(&id, refund_ref.as_deref(), eur(600), &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{service:?}: {r:?}");
    let status = journal.calls.last().unwrap().status;
    assert_eq!(
        status,
        Some(match service {
            Service::Mollie => 422,
            Service::PayPlug => 400,
            _ => 200,
        })
    );
    assert_eq!(fake.payment(&id).refunds, vec![500]);

    c.refund(&id, refund_ref.as_deref(), eur(500), &mut journal).await.unwrap();
    assert_eq!(fake.payment(&id).refunds, vec![500, 500]);
    let r = c.refund(&id, refund_ref.as_deref(), eur(1), &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{r:?}");
    assert_eq!(fake.payment(&id).refunds, vec![500, 500]);
    assert_no_secret(service, &journal);
}

#[actix_web::test]
async fn mollie_refunds_up_to_the_paid_amount_and_refuses_more() {
    refunds_up_to_the_paid_amount(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_refunds_up_to_the_paid_amount_and_refuses_more() {
    refunds_up_to_the_paid_amount(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_refunds_the_transaction_up_to_the_paid_amount_and_refuses_more() {
    refunds_up_to_the_paid_amount(Service::PayZen).await;
}

#[actix_web::test]
async fn mollie_cancels_an_open_payment_with_delete_and_is_refused_once_it_is_not_open() {
    let (fake, c) = setup(Service::Mollie);
    let id = created(c.as_ref(), &fake, "pr_cancel").await;
    let mut journal = Journal::default();
    c.cancel(&id, &mut journal).await.unwrap();
    let s = last(&fake);
    assert_eq!((s.method.as_str(), s.path.clone()), ("DELETE", format!("/v2/payments/{id}")));
    assert_eq!(s.header("authorization"), format!("Bearer {MOLLIE_KEY}"));
    assert_eq!(fake.payment(&id).status, "canceled");
    assert_eq!(only_call(&journal).status, Some(200));

    let r = c.cancel(&id, &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{r:?}");
    assert_eq!(journal.calls[1].status, Some(422));

    let paid = created(c.as_ref(), &fake, "pr_cancel2").await;
    fake.set_status(&paid, Outcome::Paid);
    assert!(matches!(c.cancel(&paid, &mut journal).await, Err(PspError::Refused(_))));
    assert_eq!(fake.payment(&paid).status, "paid");
    assert_no_secret(Service::Mollie, &journal);
}

#[actix_web::test]
async fn payplug_cancels_by_aborting_and_is_refused_once_paid() {
    let (fake, c) = setup(Service::PayPlug);
    let id = created(c.as_ref(), &fake, "pr_cancel").await;
    let mut journal = Journal::default();
    c.cancel(&id, &mut journal).await.unwrap();
    let s = last(&fake);
    assert_eq!((s.method.as_str(), s.path.clone()), ("PATCH", format!("/v1/payments/{id}")));
    assert_eq!(s.json(), json!({"aborted": true}));
    assert_eq!(s.header("payplug-version"), "2019-08-06");
    assert_eq!(fake.payment(&id).status, "failure: aborted");
    assert_eq!(only_call(&journal).status, Some(200));
    assert_eq!(c.fetch(&id, &mut journal).await.unwrap().status, RequestStatus::Cancelled);

    let paid = created(c.as_ref(), &fake, "pr_cancel2").await;
    fake.set_status(&paid, Outcome::Paid);
    let r = c.cancel(&paid, &mut journal).await;
    assert!(matches!(r, Err(PspError::Refused(_))), "{r:?}");
    assert_eq!(journal.calls.last().unwrap().status, Some(400));
    assert_eq!(fake.payment(&paid).status, "is_paid");
    assert_no_secret(Service::PayPlug, &journal);
}

#[actix_web::test]
async fn payzen_cancel_is_not_supported_and_calls_nothing() {
    let (fake, c) = setup(Service::PayZen);
    let id = created(c.as_ref(), &fake, "pr_cancel").await;
    let before = fake.requests().len();
    let mut journal = Journal::default();
    assert_eq!(c.cancel(&id, &mut journal).await, Err(PspError::NotSupported("payzen.cancel")));
    assert_eq!(fake.requests().len(), before, "{:#?}", fake.requests());
    assert!(journal.calls.is_empty(), "{:#?}", journal.calls);
    assert_eq!(fake.payment(&id).status, "RUNNING");
}

// ---------------------------------------------------------------------------------------
// notifications

#[actix_web::test]
async fn a_mollie_notification_is_the_payment_id_to_fetch_and_anything_else_is_forged() {
    let (fake, c) = setup(Service::Mollie);
    let receiver = Receiver::default();
    let hook = receiver.start();
    let mut journal = Journal::default();
    let id = c.create(&request("pr_notify", eur(1000), &hook), &mut journal).await.unwrap().id;

    assert_eq!(fake.settle(&id, Outcome::Paid).await, 200);
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    assert!(got[0].header("content-type").starts_with(FORM), "{:?}", got[0].headers);
    assert_eq!(got[0].body, format!("id={id}"));
    assert_eq!(fake.notifications(), vec![(200, format!("id={id}"))]);
    assert_eq!(c.notification(FORM, got[0].body.as_bytes()), Ok(Notified::Fetch(id.clone())));
    // A duplicate says the same.
    assert_eq!(fake.notify(&id).await, 200);
    assert_eq!(receiver.all()[1].body, got[0].body);
    assert_eq!(fake.notification_body(&id), (FORM.to_string(), format!("id={id}")));
    // And fetching tells the rest.
    let f = c.fetch(&id, &mut journal).await.unwrap();
    assert_eq!((f.status, f.card.last4.as_deref()), (RequestStatus::Paid, Some("0006")));

    for forged in ["", "id=", "id=tr_", "id=pay_abc123", "id=tr_abc%27%3B--", "foo=tr_abc123", "{\"id\":\"tr_abc\"}"] {
        let r = c.notification(FORM, forged.as_bytes());
        assert!(matches!(r, Err(PspError::Forged(_))), "{forged:?}: {r:?}");
    }
}

#[actix_web::test]
async fn a_payplug_notification_is_the_payment_object_whose_id_is_fetched_and_anything_else_is_forged() {
    let (fake, c) = setup(Service::PayPlug);
    let receiver = Receiver::default();
    let hook = receiver.start();
    let mut journal = Journal::default();
    let id = c.create(&request("pr_notify", eur(1000), &hook), &mut journal).await.unwrap().id;

    assert_eq!(fake.settle(&id, Outcome::Declined).await, 200);
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    assert!(got[0].header("content-type").starts_with("application/json"), "{:?}", got[0].headers);
    assert_eq!(got[0].json()["id"], id.as_str());
    assert_eq!(got[0].json()["failure"]["code"], "card_declined");
    assert_eq!(c.notification("application/json", got[0].body.as_bytes()), Ok(Notified::Fetch(id.clone())));
    let (ct, body) = fake.notification_body(&id);
    assert_eq!((ct.as_str(), body.as_str()), ("application/json", got[0].body.as_str()));
    assert_eq!(c.fetch(&id, &mut journal).await.unwrap().status, RequestStatus::Failed);

    for forged in ["", "not json", "{}", "{\"id\":\"tr_abc123\"}", "{\"id\":42}", "[\"pay_abc\"]", "id=pay_abc123"] {
        let r = c.notification("application/json", forged.as_bytes());
        assert!(matches!(r, Err(PspError::Forged(_))), "{forged:?}: {r:?}");
    }
}

fn form_fields(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(body).unwrap()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
}

fn with_field(fields: &[(String, String)], name: &str, value: Option<&str>) -> String {
    let mut out: Vec<(String, String)> = fields.iter().filter(|(k, _)| k != name).cloned().collect();
    if let Some(v) = value {
        let at = fields.iter().position(|(k, _)| k == name).unwrap_or(out.len()).min(out.len());
        out.insert(at, (name.to_string(), v.to_string()));
    }
    serde_urlencoded::to_string(out).unwrap()
}

#[actix_web::test]
async fn a_payzen_ipn_is_verified_with_the_password_and_a_tampered_one_is_forged() {
    let (fake, c) = setup(Service::PayZen);
    let receiver = Receiver::default();
    let hook = receiver.start();
    let mut journal = Journal::default();
    let id = c.create(&request("pr_ipn", eur(1000), &hook), &mut journal).await.unwrap().id;
    let uuid = fake.payment(&id).transaction_uuid;

    assert_eq!(fake.settle(&id, Outcome::Paid).await, 200);
    let got = receiver.all();
    assert_eq!(got.len(), 1);
    assert!(got[0].header("content-type").starts_with(FORM), "{:?}", got[0].headers);
    let fields = form_fields(&got[0].body);
    assert_eq!(field(&fields, "kr-hash"), kr_hash(PAYZEN_PASSWORD, field(&fields, "kr-answer")));
    match c.notification(FORM, got[0].body.as_bytes()) {
        Ok(Notified::Verified { key, fetched }) => {
            assert_eq!(key, "pr_ipn");
            assert_eq!(fetched.id, id);
            assert_eq!(fetched.status, RequestStatus::Paid);
            assert_eq!(fetched.refund_ref.as_deref(), Some(uuid.as_str()));
            assert_eq!(fetched.card, PaidWith { brand: Some("VISA".into()), last4: Some("0006".into()) });
        }
        other => panic!("{other:?}"),
    }

    // Each outcome reads as ours.
    for (outcome, status) in [
        (Outcome::Declined, RequestStatus::Failed),
        (Outcome::Cancelled, RequestStatus::Cancelled),
        (Outcome::Open, RequestStatus::Open),
    ] {
        fake.set_status(&id, outcome);
        let (ct, body) = fake.notification_body(&id);
        match c.notification(&ct, body.as_bytes()) {
            Ok(Notified::Verified { key, fetched }) => {
                assert_eq!((key.as_str(), fetched.status), ("pr_ipn", status), "{outcome:?}");
                assert_eq!(fetched.card, PaidWith::default(), "{outcome:?}");
            }
            other => panic!("{outcome:?}: {other:?}"),
        }
    }

    // Tampered: the answer changed, the hash kept.
    let answer = field(&fields, "kr-answer");
    let changes = [
        answer.replace("\"orderTotalAmount\":1000", "\"orderTotalAmount\":1"),
        answer.replace("\"orderStatus\":\"PAID\"", "\"orderStatus\":\"RUNNING\""),
        answer.replace("pr_ipn", "pr_other"),
        format!("{answer} "),
    ];
    for changed in &changes {
        assert_ne!(changed, answer);
        let body = with_field(&fields, "kr-answer", Some(changed));
        let r = c.notification(FORM, body.as_bytes());
        assert!(matches!(r, Err(PspError::Forged(_))), "{changed}: {r:?}");
    }
    // No hash, an empty one, a hash made with another key, a hash of the right length but wrong.
    let other_key = kr_hash("testpassword_SOMEONEELSE", answer);
    let flipped: String = {
        let h = field(&fields, "kr-hash");
        let first = if h.starts_with('0') { '1' } else { '0' };
        format!("{first}{}", &h[1..])
    };
    for hash in [None, Some(""), Some(other_key.as_str()), Some(flipped.as_str()), Some("not hex")] {
        let body = with_field(&fields, "kr-hash", hash);
        let r = c.notification(FORM, body.as_bytes());
        assert!(matches!(r, Err(PspError::Forged(_))), "{hash:?}: {r:?}");
    }
    // A re-signed forged answer would need the password: with it, it verifies (the rule is
    // the HMAC of the string as received, nothing else).
    let resigned =
        with_field(&with_field_vec(&fields, "kr-answer", &changes[0]), "kr-hash", Some(&fake.kr_hash(&changes[0])));
    assert!(matches!(c.notification(FORM, resigned.as_bytes()), Ok(Notified::Verified { .. })));
    for junk in ["", "kr-answer=%7B%7D", "not a form at all \u{0}"] {
        let r = c.notification(FORM, junk.as_bytes());
        assert!(matches!(r, Err(PspError::Forged(_))), "{junk:?}: {r:?}");
    }
}

fn with_field_vec(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    form_fields(&with_field(fields, name, Some(value)))
}

// ---------------------------------------------------------------------------------------
// the hosted page, the journal

async fn the_checkout_page_pays_notifies_and_sends_the_buyer_back(service: Service) {
    let (fake, c) = setup(service);
    let receiver = Receiver::default();
    let hook = receiver.start();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut journal = Journal::default();

    let mut paid_ids = vec![];
    for (action, decline, expected) in [
        ("pay", false, RequestStatus::Paid),
        ("pay", true, RequestStatus::Failed),
        ("decline", false, RequestStatus::Failed),
        ("cancel", false, RequestStatus::Cancelled),
    ] {
        if decline {
            fake.decline_next();
        }
        let created = c.create(&request("pr_page", eur(1000), &hook), &mut journal).await.unwrap();
        let page = browser.get(&created.checkout_url).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        for a in ["pay", "decline", "cancel"] {
            assert!(html.contains(&format!("name=\"action\" value=\"{a}\"")), "{html}");
        }
        assert!(html.contains("10.00 EUR"), "{html}");
        let before = receiver.count();
        let answer = browser.post(&created.checkout_url).form(&[("action", action)]).send().await.unwrap();
        assert_eq!(answer.status(), 303, "{action}");
        assert_eq!(answer.headers()["location"], RETURN_URL);
        assert_eq!(receiver.count(), before + 1, "notified before the buyer is sent back");
        assert_eq!(fake.notifications().last().unwrap().0, 200);
        let f = c.fetch(&created.id, &mut journal).await.unwrap();
        assert_eq!(f.status, expected, "{service:?} {action} decline={decline}: {f:?}");
        if expected == RequestStatus::Paid {
            assert_eq!(f.card.last4.as_deref(), Some("0006"));
            paid_ids.push(created.id.clone());
        }
        // The page does not take a second answer.
        let again = browser.post(&created.checkout_url).form(&[("action", "pay")]).send().await.unwrap();
        assert_eq!(again.status(), 409);
        assert_eq!(c.fetch(&created.id, &mut journal).await.unwrap().status, expected);
        let body = receiver.all().last().unwrap().body.clone();
        let notified = c.notification(receiver.all().last().unwrap().header("content-type"), body.as_bytes()).unwrap();
        match notified {
            Notified::Fetch(id) => assert_eq!(id, created.id),
            Notified::Verified { key, fetched } => {
                assert_eq!(
                    (key.as_str(), fetched.id.as_str(), fetched.status),
                    ("pr_page", created.id.as_str(), expected)
                )
            }
        }
    }
    assert_eq!(paid_ids.len(), 1);
    assert!(journal.calls.iter().all(|c| c.status.is_some_and(|s| (200..300).contains(&s))), "{:#?}", journal.calls);
    assert_no_secret(service, &journal);
}

#[actix_web::test]
async fn mollie_checkout_page_pays_declines_cancels_notifies_and_redirects() {
    the_checkout_page_pays_notifies_and_sends_the_buyer_back(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_checkout_page_pays_declines_cancels_notifies_and_redirects() {
    the_checkout_page_pays_notifies_and_sends_the_buyer_back(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_checkout_page_pays_declines_cancels_notifies_and_redirects() {
    the_checkout_page_pays_notifies_and_sends_the_buyer_back(Service::PayZen).await;
}

/// Every operation once (and refused ones): one journal entry each, with its method, URL and
/// status, and the secret nowhere.
async fn the_journal_records_every_call_without_the_secret(service: Service) {
    let (fake, c) = setup(service);
    let base = fake.base_url();
    let mut journal = Journal::default();
    c.check(&mut journal).await.unwrap();
    let id = c.create(&request("pr_journal", eur(1000), NOTIFY_URL), &mut journal).await.unwrap().id;
    fake.set_status(&id, Outcome::Paid);
    let f = c.fetch(&id, &mut journal).await.unwrap();
    c.refund(&id, f.refund_ref.as_deref(), eur(300), &mut journal).await.unwrap();
    let _ = c.refund(&id, f.refund_ref.as_deref(), eur(5000), &mut journal).await.unwrap_err();
    let second = c.create(&request("pr_journal2", eur(1000), NOTIFY_URL), &mut journal).await.unwrap().id;
    let cancelled = c.cancel(&second, &mut journal).await;
    let bad = connector_at(service, &base, &wrong(service), Duration::from_secs(10));
    let _ = bad.check(&mut journal).await.unwrap_err();
    fake.fail_next(503, 1);
    let _ = c.fetch(&id, &mut journal).await.unwrap_err();

    let got: Vec<(&str, String, Option<u16>)> = journal
        .calls
        .iter()
        .map(|call| (call.method, call.url.trim_start_matches(&base).to_string(), call.status))
        .collect();
    let mut expected: Vec<(&str, String, Option<u16>)> = match service {
        Service::Mollie => vec![
            ("GET", "v2/methods".into(), Some(200)),
            ("POST", "v2/payments".into(), Some(201)),
            ("GET", format!("v2/payments/{id}"), Some(200)),
            ("POST", format!("v2/payments/{id}/refunds"), Some(201)),
            ("POST", format!("v2/payments/{id}/refunds"), Some(422)),
            ("POST", "v2/payments".into(), Some(201)),
            ("DELETE", format!("v2/payments/{second}"), Some(200)),
        ],
        Service::PayPlug => vec![
            ("GET", "v1/payments?per_page=1".into(), Some(200)),
            ("POST", "v1/payments".into(), Some(201)),
            ("GET", format!("v1/payments/{id}"), Some(200)),
            ("POST", format!("v1/payments/{id}/refunds"), Some(201)),
            ("POST", format!("v1/payments/{id}/refunds"), Some(400)),
            ("POST", "v1/payments".into(), Some(201)),
            ("PATCH", format!("v1/payments/{second}"), Some(200)),
        ],
        _ => vec![
            ("POST", "V4/Charge/SDKTest".into(), Some(200)),
            ("POST", "V4/Charge/CreatePaymentOrder".into(), Some(200)),
            ("POST", "V4/Charge/PaymentOrder/Get".into(), Some(200)),
            ("POST", "V4/Transaction/CancelOrRefund".into(), Some(200)),
            ("POST", "V4/Transaction/CancelOrRefund".into(), Some(200)),
            ("POST", "V4/Charge/CreatePaymentOrder".into(), Some(200)),
        ],
    };
    // Then the refused check, and the fetch that met a 503: the same calls as above.
    let (check, fetch) = (expected[0].clone(), expected[2].clone());
    expected.push((check.0, check.1, Some(401)));
    expected.push((fetch.0, fetch.1, Some(503)));
    assert_eq!(got, expected, "{:#?}", journal.calls);
    if service == Service::PayZen {
        assert_eq!(cancelled, Err(PspError::NotSupported("payzen.cancel")));
    } else {
        assert_eq!(cancelled, Ok(()));
    }
    for call in &journal.calls {
        assert!(!call.operation.is_empty(), "{call:#?}");
        assert!(call.url.starts_with(&base), "{call:#?}");
        assert!(!call.response.is_empty(), "{call:#?}");
    }
    // The create call's request is the body sent (secrets masked, nothing else changed).
    let sent: Value = serde_json::from_str(&journal.calls[1].request).unwrap();
    assert_eq!(sent, fake.payment(&id).created_with);
    assert_no_secret(service, &journal);
}

#[actix_web::test]
async fn mollie_journal_records_every_call_with_its_status_and_never_the_key() {
    the_journal_records_every_call_without_the_secret(Service::Mollie).await;
}

#[actix_web::test]
async fn payplug_journal_records_every_call_with_its_status_and_never_the_key() {
    the_journal_records_every_call_without_the_secret(Service::PayPlug).await;
}

#[actix_web::test]
async fn payzen_journal_records_every_call_with_its_status_and_never_the_password() {
    the_journal_records_every_call_without_the_secret(Service::PayZen).await;
}
