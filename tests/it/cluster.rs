//! Two real `paylink serve` processes on one PostgreSQL database, each with its background
//! worker on a short tick: every due capture, every expiry and every outbox e-mail happens
//! once across them. PostgreSQL only by nature (SQLite is one process's file).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::Utc;
use diesel::prelude::*;

use paylink::db::DbError;
use paylink::db::schema::{acquirer_operations as ao, outbox, payment_orders as po, transaction_events as te};
use paylink::domain::order::{Channel, OrderStatus};
use paylink::domain::order_form::{AmountInput, RawOrder};
use paylink::services::merchants::CreatedMerchant;

use crate::delivery::{SmtpServer, create_orders, free_port};
use crate::helpers::{TestApp, test_backend};

/// A `paylink serve` child, killed if the test fails before stopping it.
pub struct Serve {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Serve {
    pub fn start(app: &TestApp, name: &str, smtp_port: u16) -> Serve {
        let b64 = |s: &paylink::config::Secret| base64::engine::general_purpose::STANDARD.encode(s.expose());
        let log = app.dir.path().join(format!("{name}.log"));
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_paylink"))
            .args(["--database-url", &app.settings.database_url])
            .args(["--secret-key", &b64(&app.settings.secret_key)])
            .args(["--vault-key", &b64(&app.settings.vault_key)])
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", app.dir.path().to_str().unwrap()])
            .args(["--worker-tick-ms", "50"])
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("PAYLINK_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("PAYLINK_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the paylink binary runs");
        let mut serve = Serve { child, log };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(serve.child.try_wait().unwrap().is_none(), "{name} exited early: {}", serve.log());
            assert!(started.elapsed() < Duration::from_secs(30), "{name} did not start: {}", serve.log());
            std::thread::yield_now();
        }
        serve
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for it to finish its round and exit 0.
    pub async fn stop(&mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success(), "kill -TERM {pid}");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(started.elapsed() < Duration::from_secs(20), "no exit after SIGTERM: {}", self.log());
            tokio::task::yield_now().await;
        };
        assert_eq!(status.code(), Some(0), "{}", self.log());
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn raw(reference: String, validation: &str, delay: &str) -> RawOrder {
    RawOrder {
        reference,
        amount: AmountInput::Decimal("12,34".into()),
        validation_mode: validation.into(),
        capture_delay_days: delay.into(),
        ..Default::default()
    }
}

fn url_order(app: &TestApp, m: &CreatedMerchant, r: RawOrder) -> paylink::store::orders::Order {
    create_orders(app, m, Channel::Url, r).remove(0)
}

/// Per id of `ids`, how many rows `count` finds for it.
fn counts(app: &TestApp, ids: &[i64], count: impl Fn(&mut diesel::PgConnection, i64) -> i64) -> Vec<i64> {
    let ids = ids.to_vec();
    app.db
        .read_blocking(move |conn| {
            let paylink::db::DbConn::Postgres(pg) = conn else { panic!("PostgreSQL only") };
            Ok::<_, DbError>(ids.iter().map(|id| count(pg, *id)).collect())
        })
        .unwrap()
}

#[actix_web::test]
async fn two_serve_processes_on_one_database_capture_expire_and_send_each_thing_once() {
    if test_backend() != paylink::db::Backend::Postgres {
        eprintln!(
            "skipped: two paylink processes on one database is a PostgreSQL setup \
             (run with PAYLINK_TEST_BACKEND=postgres)"
        );
        return;
    }
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let smtp_port = free_port();
    let smtp = SmtpServer::start(smtp_port, app.dir.path());
    // Both workers run before anything is due, so they race for every row as it appears.
    let mut one = Serve::start(&app, "one", smtp_port);
    let mut two = Serve::start(&app, "two", smtp_port);

    // Sixty days ago (the processes run on the real clock), links never paid: their 30 days of
    // validity ran out. Eight days ago, links paid at once, valid still: with a capture date
    // a week past (AUTO, one day's delay), or to validate within 7 days (MANUAL), so by
    // yesterday.
    app.clock.set(Utc::now() - chrono::Duration::days(60));
    let lapsed: Vec<i64> = (0..12).map(|i| url_order(&app, &m, raw(format!("OLD-{i}"), "", "")).id.0).collect();
    app.clock.set(Utc::now() - chrono::Duration::days(8));
    let (mut to_capture, mut to_expire) = (Vec::new(), Vec::new());
    for i in 0..12 {
        let o = url_order(&app, &m, raw(format!("CAP-{i}"), "AUTO", "1"));
        to_capture.push(crate::transactions::pay(&app, &m, &o).id);
        let o = url_order(&app, &m, raw(format!("VAL-{i}"), "MANUAL", "0"));
        to_expire.push(crate::transactions::pay(&app, &m, &o).id);
    }
    // Today: e-mailed links, one recipient each.
    app.clock.set(Utc::now());
    for i in 0..12 {
        let r = RawOrder {
            reference: format!("MAIL-{i}"),
            amount: AmountInput::Decimal("5,00".into()),
            recipients: format!("buyer{i}@example.com"),
            subject: "Your link %reference%".into(),
            message: paylink::domain::template::default_email(paylink::i18n::Lang::Fr).body.into(),
            ..Default::default()
        };
        create_orders(&app, &m, Channel::Email, r);
    }

    // Until everything is processed: a bounded wait on the database, yielding.
    let emails = |app: &TestApp| {
        app.db
            .read_blocking(|conn| {
                let paylink::db::DbConn::Postgres(pg) = conn else { panic!("PostgreSQL only") };
                let all: Vec<String> =
                    outbox::table.filter(outbox::kind.eq("EMAIL")).select(outbox::status).load(pg)?;
                Ok::<_, DbError>(all)
            })
            .unwrap()
    };
    let settled = |app: &TestApp, ids: &[i64], status: &'static str| {
        counts(app, ids, move |pg, id| {
            paylink::db::schema::transactions::table
                .find(id)
                .filter(paylink::db::schema::transactions::status.eq(status))
                .count()
                .get_result(pg)
                .unwrap()
        })
        .iter()
        .sum::<i64>() as usize
    };
    let expired_orders = |app: &TestApp| {
        counts(app, &lapsed, |pg, id| {
            po::table.find(id).filter(po::status.eq(OrderStatus::Expired.as_str())).count().get_result(pg).unwrap()
        })
        .iter()
        .sum::<i64>() as usize
    };
    let started = Instant::now();
    loop {
        let mails = emails(&app);
        let progress = (
            settled(&app, &to_capture, "CAPTURED"),
            settled(&app, &to_expire, "EXPIRED"),
            expired_orders(&app),
            mails.iter().filter(|s| *s == "SENT").count(),
            smtp.received(),
        );
        if progress.0 == 12 && progress.1 == 12 && progress.2 == 12 && progress.3 == mails.len() && progress.4 >= 12 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not all processed (captured, expired, lapsed, sent, received) = {progress:?} of {} e-mails\n\
             one: {}\ntwo: {}",
            mails.len(),
            one.log(),
            two.log()
        );
        tokio::task::yield_now().await;
    }
    // Each stops after its round: a late duplicate would be in by then.
    one.stop().await;
    two.stop().await;

    let events = |kind: &'static str, ids: &[i64]| {
        counts(&app, ids, move |pg, id| {
            te::table.filter(te::transaction_id.eq(id).and(te::kind.eq(kind))).count().get_result(pg).unwrap()
        })
    };
    let operations = |kind: &'static str, ids: &[i64]| {
        counts(&app, ids, move |pg, id| {
            ao::table.filter(ao::transaction_id.eq(id).and(ao::kind.eq(kind))).count().get_result(pg).unwrap()
        })
    };
    let done = |kind: &'static str, ids: &[i64]| {
        counts(&app, ids, move |pg, id| {
            ao::table
                .filter(ao::transaction_id.eq(id).and(ao::kind.eq(kind)).and(ao::status.eq("DONE")))
                .count()
                .get_result(pg)
                .unwrap()
        })
    };
    assert_eq!(events("captured", &to_capture), vec![1; 12], "one 'captured' event per transaction");
    assert_eq!(operations("CAPTURE", &to_capture), vec![1; 12], "one CAPTURE operation per transaction");
    assert_eq!(done("CAPTURE", &to_capture), vec![1; 12], "and it is DONE");
    assert_eq!(events("expired", &to_expire), vec![1; 12], "one 'expired' event per transaction");
    assert_eq!(operations("EXPIRE", &to_expire), vec![1; 12], "one EXPIRE operation per transaction");
    assert_eq!(done("EXPIRE", &to_expire), vec![1; 12], "and it is DONE");
    assert_eq!(expired_orders(&app), 12, "every lapsed link expired");
    let mails = emails(&app);
    assert!(mails.len() >= 12 && mails.iter().all(|s| s == "SENT"), "{mails:?}");
    assert_eq!(smtp.received(), mails.len(), "each e-mail reached the SMTP server once");
    let attempts: Vec<i32> = app
        .db
        .read_blocking(|conn| {
            let paylink::db::DbConn::Postgres(pg) = conn else { panic!("PostgreSQL only") };
            Ok::<_, DbError>(outbox::table.filter(outbox::kind.eq("EMAIL")).select(outbox::attempts).load(pg)?)
        })
        .unwrap();
    assert!(attempts.iter().all(|a| *a == 1), "each e-mail was tried once: {attempts:?}");
    for serve in [&one, &two] {
        let log = serve.log();
        assert!(!log.contains("panicked") && !log.contains(" ERROR "), "{log}");
    }
}
