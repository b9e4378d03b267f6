//! The outbox worker against real peers: an SMTP server process (Python's aiosmtpd), a local
//! HTTP SMS gateway, and the order lifecycle driven by a moved clock.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use paylink::domain::api_key::Mode;
use paylink::domain::clock::Clock;
use paylink::domain::ids::{CompanyId, ShopId};
use paylink::domain::order::{Channel, DeliveryStatus, OrderStatus};
use paylink::domain::order_form::{AmountInput, ExpiresInput, OrderDraft, RawOrder};
use paylink::services::merchants::CreatedMerchant;
use paylink::services::orders::{self, OrderContext};
use paylink::store::audit::Actor;
use paylink::store::orders::Order;

use crate::helpers::TestApp;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Creates orders through the service, as the back office or the API would.
pub fn create_orders(app: &TestApp, m: &CreatedMerchant, channel: Channel, raw: RawOrder) -> Vec<Order> {
    let clock = app.clock.clone();
    let public_url = app.settings.public_url.clone();
    app.db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
            let tz = shop.settings.time_zone;
            let today = clock.now().with_timezone(&tz).date_naive();
            let draft = OrderDraft::parse(&raw, channel, &shop.settings, today, today)
                .map_err(paylink::services::ServiceError::Invalid)?;
            let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: "test".into(), ip: None };
            let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: &public_url };
            orders::create(conn, &clock, &ctx, &draft)
        })
        .unwrap()
}

pub fn reload(app: &TestApp, o: &Order) -> Order {
    app.db
        .read_blocking(|conn| {
            paylink::store::orders::find(conn, &[o.shop_id], o.mode, o.id).map_err(paylink::db::DbError::from)
        })
        .unwrap()
        .unwrap()
}

fn email_order(to: &str) -> RawOrder {
    RawOrder {
        reference: "INV-7".into(),
        amount: AmountInput::Decimal("42,50".into()),
        recipients: to.into(),
        subject: "Offre %reference% de %amount% jusqu'au %end_date%".into(),
        message: paylink::domain::template::default_email(paylink::i18n::Lang::Fr).body.into(),
        bcc_shop: true,
        bcc_other: "boss@example.com".into(),
        ..Default::default()
    }
}

/// Python's aiosmtpd, a real SMTP server, writing what it receives into a Maildir.
pub struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    pub fn start(port: u16, dir: &Path) -> SmtpServer {
        let maildir = dir.join("maildir");
        let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd runs (Debian package python3-aiosmtpd; scripts/test installs it)");
        // Ready when it accepts connections (a bounded wait on a real condition).
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(15), "aiosmtpd did not start on port {port}");
            std::thread::yield_now();
        }
        SmtpServer { child, maildir }
    }

    /// How many messages it has received so far.
    pub fn received(&self) -> usize {
        std::fs::read_dir(self.maildir.join("new")).map(|d| d.count()).unwrap_or(0)
    }

    pub fn messages(&self) -> Vec<String> {
        let dir = self.maildir.join("new");
        let mut files: Vec<_> =
            std::fs::read_dir(&dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
        files.sort();
        files.into_iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The header section of `mail`: (name, value) pairs, folded lines joined.
fn mail_headers(mail: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in mail.lines().take_while(|l| !l.trim_end_matches('\r').is_empty()) {
        let line = line.trim_end_matches('\r');
        if line.starts_with([' ', '\t']) {
            let last = headers.last_mut().expect("a continuation line after a header");
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("not a header: {line:?}"));
            headers.push((name.to_string(), value.trim().to_string()));
        }
    }
    headers
}

/// Every value of header `name` (case-insensitive).
fn header_values(headers: &[(String, String)], name: &str) -> Vec<String> {
    headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone()).collect()
}

/// The bare addresses of an address-list header value: `"Name" <a@b>, c@d` → [a@b, c@d].
fn addresses(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|part| {
            let part = part.trim();
            match (part.rfind('<'), part.rfind('>')) {
                (Some(open), Some(close)) if open < close => part[open + 1..close].to_string(),
                _ => part.to_string(),
            }
        })
        .filter(|a| !a.is_empty())
        .collect()
}

/// Decodes quoted-printable soft breaks and the few escapes lettre uses, enough to search text.
fn unfold(mail: &str) -> String {
    mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=").replace("=C3=A9", "é").replace("=E2=80=99", "’")
}

#[actix_web::test]
async fn email_goes_to_a_real_smtp_server_failed_while_it_is_down_then_sent() {
    let port = free_port();
    let app = TestApp::spawn_with(&["--smtp-url", &format!("smtp://127.0.0.1:{port}")]).await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let order = create_orders(&app, &m, Channel::Email, email_order("buyer@example.com")).remove(0);
    assert_eq!(order.delivery_status, DeliveryStatus::Pending);
    assert_eq!(order.send_count, 1);

    // SMTP is down: the try fails, the order says so, the error is kept, a retry is planned.
    let report = app.run_worker().await;
    assert_eq!((report.sent, report.failed), (0, 1));
    assert_eq!(reload(&app, &order).delivery_status, DeliveryStatus::Failed);
    let job = app
        .db
        .read_blocking(|c| paylink::store::outbox::for_order(c, order.id).map_err(paylink::db::DbError::from))
        .unwrap()
        .remove(0);
    assert!(job.last_error.as_deref().unwrap_or("").contains("SMTP"), "{:?}", job.last_error);
    assert!(job.next_attempt_at.is_some());

    // Up again; before the backoff nothing is retried, after it the e-mail goes out.
    let smtp = SmtpServer::start(port, app.dir.path());
    assert_eq!(app.run_worker().await.sent, 0, "the retry waits for its backoff");
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(app.run_worker().await.sent, 1);
    assert_eq!(reload(&app, &order).delivery_status, DeliveryStatus::Sent);
    let admin = app.client();
    app.log_in_first_time(&admin, &m, "4821", crate::helpers::STRONG).await;
    let outbox = admin.get("/settings/outbox").await;
    assert_eq!(outbox.texts("#emails .job-status"), ["Sent"], "through SMTP, sent it was");
    assert_eq!(outbox.count("#smtp-status") + outbox.count("#emails a[href$=\".eml\"]"), 0, "no file on this server");

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "delivered once");
    let mail = unfold(&mails[0]);
    let headers = mail_headers(&mails[0]);
    let from = header_values(&headers, "From");
    assert_eq!(from.len(), 1, "{headers:?}");
    assert_eq!(addresses(&from[0]), [app.settings.mail_from.as_str()], "sent from the platform: {}", from[0]);
    assert!(from[0].contains("Acme Shop"), "under the shop's name: {}", from[0]);
    let to: Vec<String> = header_values(&headers, "To").iter().flat_map(|v| addresses(v)).collect();
    assert_eq!(to, ["buyer@example.com"], "only the buyer is in To: {headers:?}");
    let reply_to: Vec<String> = header_values(&headers, "Reply-To").iter().flat_map(|v| addresses(v)).collect();
    assert_eq!(reply_to, ["alice@example.com"], "the shop's contact answers");
    assert_eq!(header_values(&headers, "Cc"), Vec::<String>::new(), "no Cc");
    // The envelope, as the SMTP server recorded it (aiosmtpd's X-MailFrom / X-RcptTo).
    assert_eq!(header_values(&headers, "X-MailFrom"), std::slice::from_ref(&app.settings.mail_from));
    let mut rcpt: Vec<String> = header_values(&headers, "X-RcptTo").iter().flat_map(|v| addresses(v)).collect();
    rcpt.sort();
    assert_eq!(rcpt, ["alice@example.com", "boss@example.com", "buyer@example.com"], "envelope recipients");
    assert!(header_values(&headers, "Bcc").is_empty(), "Bcc stays out of the headers");
    let leaking: Vec<&(String, String)> =
        headers.iter().filter(|(n, v)| n != "X-RcptTo" && v.contains("boss@example.com")).collect();
    assert!(leaking.is_empty(), "the Bcc address shows in the headers: {leaking:?}");
    assert!(mail.contains("multipart/alternative") && mail.contains("text/plain") && mail.contains("text/html"));
    let url = format!("{}/t/{}", app.base, order.token);
    assert!(mail.contains(&url), "the link: {mail}");
    // What the buyer reads, decoded from its transfer encoding: the amount as French writes it.
    let parsed = mailparse::parse_mail(mails[0].as_bytes()).unwrap();
    let parts: Vec<String> = parsed.subparts.iter().map(|p| p.get_body().unwrap()).collect();
    assert!(parts.len() == 2 && parts.iter().all(|p| p.replace('\u{a0}', " ").contains("42,50 €")), "{parts:?}");
    let subject = parsed.headers.iter().find(|h| h.get_key() == "Subject").map(|h| h.get_value()).unwrap();
    assert!(mail.contains("Acme Shop"));
    assert!(
        !mail.contains("%amount%")
            && !mail.contains("%url%")
            && !mail.contains("%end_date%")
            && !mail.contains("%shop_")
    );
    assert!(subject.contains("Offre INV-7 de 42,50\u{a0}€"), "subject variables replaced: {subject}");
}

#[actix_web::test]
async fn without_smtp_emails_are_written_as_eml_files() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let orders = create_orders(&app, &m, Channel::Email, email_order("a@example.com;b@example.com"));
    assert_eq!(orders.iter().map(|o| o.reference.clone().unwrap()).collect::<Vec<_>>(), ["INV-7-001", "INV-7-002"]);
    let report = app.run_worker().await;
    assert_eq!((report.written, report.sent), (2, 0), "{report:?}");
    let dir = app.settings.data_dir.join("outbox");
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    for o in &orders {
        assert_eq!(reload(&app, o).delivery_status, DeliveryStatus::NotSent, "written to a file is not sent");
    }
    let all: String = files.iter().map(|f| unfold(&std::fs::read_to_string(f).unwrap())).collect();
    assert!(all.contains("INV-7-001") && all.contains("INV-7-002"));
}

#[derive(Clone, Default)]
pub struct Gateway {
    pub received: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
    /// Answers 503 to this many calls first.
    pub fail_first: Arc<Mutex<usize>>,
}

async fn gateway_handler(req: HttpRequest, body: web::Json<serde_json::Value>, gw: web::Data<Gateway>) -> HttpResponse {
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut fail = gw.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        return HttpResponse::ServiceUnavailable().body("busy");
    }
    gw.received.lock().unwrap().push((auth, body.into_inner()));
    HttpResponse::Ok().json(serde_json::json!({"status": "queued"}))
}

pub fn start_gateway(gw: Gateway) -> (String, actix_web::dev::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    let data = web::Data::new(gw);
    let server =
        HttpServer::new(move || App::new().app_data(data.clone()).route("/sms", web::post().to(gateway_handler)))
            .workers(1)
            .listen(listener)
            .unwrap()
            .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (url, handle)
}

pub fn sms_account(app: &TestApp, m: &CreatedMerchant, credits: i32) {
    let clock = app.clock.clone();
    let key = app.settings.vault_key.expose().to_vec();
    app.db
        .write_blocking(|conn| {
            let actor = Actor::cli();
            let raw = paylink::services::sms::RawAccount {
                login: "acme-sms".into(),
                password: "gateway-secret".into(),
                default_phone: "0612345678".into(),
                credits: credits.to_string(),
                ..Default::default()
            };
            paylink::services::sms::save(
                conn,
                &clock,
                &actor,
                ShopId(m.shop_id.0),
                &raw,
                &key,
                paylink::services::sms::CreditsRight::Set,
            )
            .map(|r| r.unwrap())
        })
        .unwrap();
}

fn sms_order(phone: &str) -> RawOrder {
    RawOrder { amount: AmountInput::Decimal("12".into()), phone: phone.into(), ..Default::default() }
}

#[actix_web::test]
async fn sms_go_through_the_http_gateway_with_the_account_credentials_and_retry() {
    let gw = Gateway::default();
    *gw.fail_first.lock().unwrap() = 1;
    let (url, handle) = start_gateway(gw.clone());
    let app = TestApp::spawn_with(&["--sms-gateway-url", &url]).await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    sms_account(&app, &m, 10);
    let order = create_orders(&app, &m, Channel::Sms, sms_order("06 98 76 54 32")).remove(0);
    assert_eq!(order.recipient.as_deref(), Some("+33698765432"));
    let credits = |app: &TestApp| {
        app.db
            .read_blocking(|c| paylink::store::sms::get(c, ShopId(m.shop_id.0)).map_err(paylink::db::DbError::from))
            .unwrap()
            .unwrap()
            .credits
    };
    assert_eq!(credits(&app), 9, "one segment taken");

    assert_eq!(app.run_worker().await.failed, 1, "the gateway answered 503");
    assert_eq!(reload(&app, &order).delivery_status, DeliveryStatus::Failed);
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(app.run_worker().await.sent, 1);
    assert_eq!(reload(&app, &order).delivery_status, DeliveryStatus::Sent);

    let received = gw.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    let (auth, body) = &received[0];
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode("acme-sms:gateway-secret");
    assert_eq!(auth, &format!("Basic {expected}"));
    assert_eq!(body["to"], "+33698765432");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("12,00 €") && text.contains(&format!("/t/{}", order.token)), "{text}");
    assert!(!text.contains('%'));
    handle.stop(false).await;
}

fn credits_of(app: &TestApp, m: &CreatedMerchant) -> i32 {
    app.db
        .read_blocking(|c| paylink::store::sms::get(c, ShopId(m.shop_id.0)).map_err(paylink::db::DbError::from))
        .unwrap()
        .unwrap()
        .credits
}

fn sms_job(app: &TestApp, o: &Order) -> paylink::store::outbox::Job {
    app.db
        .read_blocking(|c| paylink::store::outbox::for_order(c, o.id).map_err(paylink::db::DbError::from))
        .unwrap()
        .remove(0)
}

#[actix_web::test]
async fn a_given_up_sms_gives_its_credits_back_and_a_sent_one_keeps_them_spent() {
    // Every try of the first SMS fails: the first one and the 8 retries.
    let tries = 9;
    let gw = Gateway::default();
    *gw.fail_first.lock().unwrap() = tries;
    let (url, handle) = start_gateway(gw.clone());
    let app = TestApp::spawn_with(&["--sms-gateway-url", &url]).await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    sms_account(&app, &m, 10);
    assert_eq!(credits_of(&app, &m), 10, "before queuing");

    // A message of two segments (GSM-7, more than 160 characters with the link).
    let long =
        RawOrder { message: format!("{} %url%", "Merci pour votre commande. ".repeat(6)), ..sms_order("0612345678") };
    let order = create_orders(&app, &m, Channel::Sms, long).remove(0);
    let job = sms_job(&app, &order);
    let text: paylink::services::orders::SmsPayload = serde_json::from_str(&job.payload).unwrap();
    assert_eq!(paylink::domain::sms::cost(&text.text).segments, 2, "{}", text.text);
    assert_eq!(credits_of(&app, &m), 8, "two credits taken when queued");

    // Each failure plans a retry and keeps the credits taken; the clock moves past each wait.
    for attempt in 1..tries {
        let report = app.run_worker().await;
        assert_eq!((report.sent, report.failed), (0, 1), "try {attempt}");
        let job = sms_job(&app, &order);
        assert_eq!(job.attempts, attempt as i32);
        let retry = job.next_attempt_at.expect("a retry is planned");
        assert_eq!(credits_of(&app, &m), 8, "still taken after try {attempt}");
        app.clock.set(retry.and_utc() + chrono::Duration::seconds(1));
    }
    // The last try fails: given up, and the credits are back.
    let report = app.run_worker().await;
    assert_eq!((report.sent, report.failed), (0, 1));
    let job = sms_job(&app, &order);
    assert_eq!((job.status.as_str(), job.attempts, job.next_attempt_at), ("FAILED", tries as i32, None));
    assert!(job.last_error.as_deref().unwrap_or("").contains("503"), "{:?}", job.last_error);
    assert_eq!(reload(&app, &order).delivery_status, DeliveryStatus::Failed);
    assert_eq!(credits_of(&app, &m), 10, "given back with the give-up");
    assert!(gw.received.lock().unwrap().is_empty(), "nothing went out");
    // Once: later rounds neither try again nor give anything back twice.
    app.clock.advance(chrono::Duration::days(30));
    let report = app.run_worker().await;
    assert_eq!((report.sent, report.failed), (0, 0));
    assert_eq!(credits_of(&app, &m), 10);

    // A sent SMS keeps its credit spent, even long after.
    let sent = create_orders(&app, &m, Channel::Sms, sms_order("0698765432")).remove(0);
    assert_eq!(credits_of(&app, &m), 9);
    assert_eq!(app.run_worker().await.sent, 1);
    assert_eq!(reload(&app, &sent).delivery_status, DeliveryStatus::Sent);
    app.clock.advance(chrono::Duration::days(3));
    let report = app.run_worker().await;
    assert_eq!((report.sent, report.failed), (0, 0));
    assert_eq!(credits_of(&app, &m), 9, "a sent SMS is paid for");
    assert_eq!(gw.received.lock().unwrap().len(), 1);
    handle.stop(false).await;
}

#[actix_web::test]
async fn sms_without_a_gateway_are_held_in_the_outbox_and_need_credits() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    sms_account(&app, &m, 1);
    let order = create_orders(&app, &m, Channel::Sms, sms_order("0612345678")).remove(0);
    let report = app.run_worker().await;
    assert_eq!((report.held, report.sent), (1, 0));
    assert_eq!(reload(&app, &order).delivery_status, DeliveryStatus::Held, "waiting for a gateway, not failed");
    // No credit left: the next SMS is refused before anything is written.
    let clock = app.clock.clone();
    let refused = app.db.write_blocking(|conn| {
        let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
        let today = clock.now().with_timezone(&shop.settings.time_zone).date_naive();
        let draft = OrderDraft::parse(&sms_order("0612345678"), Channel::Sms, &shop.settings, today, today).unwrap();
        let actor = Actor::cli();
        let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: "http://x" };
        orders::create(conn, &clock, &ctx, &draft)
    });
    match refused {
        Err(paylink::services::ServiceError::Invalid(e)) => assert_eq!(e[0].code, "sms.no_credits"),
        other => panic!("expected no credits, got {other:?}"),
    }
    let count = app
        .db
        .read_blocking(|c| {
            use diesel::prelude::*;
            paylink::db::schema::payment_orders::table.count().get_result::<i64>(c).map_err(paylink::db::DbError::from)
        })
        .unwrap();
    assert_eq!(count, 1, "the refused order was rolled back");
}

#[actix_web::test]
async fn two_workers_deliver_each_job_exactly_once() {
    let gw = Gateway::default();
    let (url, handle) = start_gateway(gw.clone());
    let app = TestApp::spawn_with(&["--sms-gateway-url", &url]).await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    sms_account(&app, &m, 1000);
    for _ in 0..30 {
        create_orders(&app, &m, Channel::Sms, sms_order("0612345678"));
    }
    let settings = Arc::new(app.settings.clone());
    let second = paylink::delivery::Worker::new(app.env(), settings).unwrap();
    let (a, b) = futures_util::join!(app.worker.run_once(), second.run_once());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.sent + b.sent, 30, "{a:?} {b:?}");
    assert_eq!(gw.received.lock().unwrap().len(), 30, "no SMS sent twice");
    handle.stop(false).await;
}

#[actix_web::test]
async fn a_link_refuses_payment_at_once_after_its_end_and_the_worker_persists_expired() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    // The test clock reads 2026-06-15 10:00 UTC; Paris is UTC+2 in June.
    let raw = RawOrder {
        amount: AmountInput::Decimal("10".into()),
        expires: ExpiresInput::Date("2026-06-16".into()),
        ..Default::default()
    };
    let order = create_orders(&app, &m, Channel::Url, raw).remove(0);
    assert_eq!(order.expires_at.to_string(), "2026-06-16 21:59:59", "23:59:59 in Paris");
    let client = app.client();
    let link = format!("/t/{}", order.token);
    let page = client.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("10,00\u{a0}€"), "the order's language (French) by default");

    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-06-16T21:59:59Z").unwrap().to_utc());
    assert_eq!(client.get(&link).await.status, 200, "the last second is still valid");
    app.clock.advance(chrono::Duration::seconds(1));
    let page = client.get(&link).await;
    assert_eq!(page.status, 410, "refused at once, before any worker round");
    assert!(page.contains("a expiré"));
    assert_eq!(reload(&app, &order).status, OrderStatus::Running, "not yet written");
    assert_eq!(app.run_worker().await.orders_expired, 1);
    assert_eq!(reload(&app, &order).status, OrderStatus::Expired);
    assert_eq!(app.run_worker().await.orders_expired, 0);

    // A new end date makes it payable again.
    let clock = app.clock.clone();
    let public_url = app.settings.public_url.clone();
    let updated = app
        .db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
            let actor = Actor::cli();
            let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: &public_url };
            orders::change_validity(conn, &clock, &ctx, order.id, "2026-06-30")
        })
        .unwrap();
    assert_eq!(updated.status, OrderStatus::Running);
    assert_eq!(client.get(&link).await.status, 200);
    assert_eq!(client.get("/t/not-a-real-token-at-all").await.status, 404);
    assert_eq!(client.get(&format!("{link}/qr.svg")).await.header("content-type").as_deref(), Some("image/svg+xml"));
}

#[actix_web::test]
async fn a_cancelled_link_tells_the_buyer_the_merchant_cancelled_it() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let raw = RawOrder { amount: AmountInput::Decimal("10".into()), language: "en".into(), ..Default::default() };
    let order = create_orders(&app, &m, Channel::Url, raw).remove(0);
    let clock = app.clock.clone();
    app.db
        .write_blocking(|conn| {
            let shop = paylink::store::shops::find(conn, CompanyId(m.company_id.0), ShopId(m.shop_id.0))?.unwrap();
            let actor = Actor::cli();
            let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: "http://x" };
            orders::cancel(conn, &clock, &ctx, order.id)
        })
        .unwrap();
    let page = app.client_lang("fr").get(&format!("/t/{}", order.token)).await;
    assert_eq!(page.status, 410);
    assert!(
        page.contains("This payment link was cancelled by the merchant"),
        "in the order's language: {}",
        page.excerpt()
    );
    assert!(
        !page.contains("expired") && !page.contains("Valid until"),
        "no date it would be valid until: {}",
        page.excerpt()
    );
}
