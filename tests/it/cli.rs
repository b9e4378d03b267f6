//! The command line, run as the real binary against the backend under test.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::delivery::{SmtpServer, free_port};
use crate::helpers::{PgDatabase, STRONG, TestApp, test_backend};
use paylink::db::Backend;

struct Target {
    args: Vec<String>,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

const KEY: &str = "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";

fn target() -> Target {
    let dir = tempfile::tempdir().unwrap();
    match test_backend() {
        Backend::Sqlite => Target {
            args: vec!["--database-url".into(), dir.path().join("cli.db").to_str().unwrap().into()],
            _dir: dir,
            _pg: None,
        },
        Backend::Postgres => {
            let pg = PgDatabase::create();
            Target {
                args: vec![
                    "--database-url".into(),
                    pg.url.clone(),
                    "--secret-key".into(),
                    KEY.into(),
                    "--vault-key".into(),
                    KEY.into(),
                ],
                _dir: dir,
                _pg: Some(pg),
            }
        }
    }
}

fn paylink(target: &Target, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_paylink"))
        .args(&target.args)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("PAYLINK_LOG", "warn")
        .output()
        .expect("the paylink binary runs")
}

/// `create-merchant` for Acme (login alice, first-login code 4821).
fn create_acme(t: &Target) -> std::process::Output {
    paylink(
        t,
        &[
            "create-merchant",
            "--company",
            "Acme",
            "--shop",
            "Acme Shop",
            "--login",
            "alice",
            "--email",
            "alice@example.com",
            "--first-login-code",
            "4821",
        ],
    )
}

#[test]
fn create_merchant_prints_one_json_object_and_refuses_bad_input() {
    let t = target();
    let out = paylink(&t, &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = create_acme(&t);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.trim().lines().count(), 1, "one line: {stdout}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    for field in ["company_id", "shop_id", "login", "temporary_password", "test_api_key", "production_api_key"] {
        assert!(!json[field].is_null(), "{field} in {json}");
    }
    assert_eq!(json["login"], "alice");
    assert!(json["test_api_key"].as_str().unwrap().starts_with("pl_test_"));

    let out = paylink(
        &t,
        &[
            "create-merchant",
            "--company",
            "Acme",
            "--shop",
            "Again",
            "--login",
            "alice",
            "--email",
            "alice@example.com",
            "--first-login-code",
            "4821",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("user.login.taken"));
    let out = paylink(
        &t,
        &[
            "create-merchant",
            "--company",
            "X",
            "--shop",
            "Y",
            "--login",
            "b c",
            "--email",
            "nope",
            "--first-login-code",
            "1",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--login") && err.contains("--email") && err.contains("--first-login-code"), "{err}");
    assert!(out.stdout.is_empty(), "nothing printed on stdout when refused");
}

#[test]
fn unlock_user_and_reset_password_work_from_the_command_line() {
    let t = target();
    let out = create_acme(&t);
    assert!(out.status.success());
    let out = paylink(&t, &["reset-password", "alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("temporary password for alice:") && text.contains("first-login code"), "{text}");
    let out = paylink(&t, &["unlock-user", "alice"]);
    assert!(out.status.success());
    let out = paylink(&t, &["unlock-user", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such user"));
}

#[test]
fn postgres_mode_refuses_to_start_without_its_secrets() {
    let out = Command::new(env!("CARGO_BIN_EXE_paylink"))
        .args(["--database-url", "postgres://postgres@127.0.0.1:5432/none", "migrate"])
        .env_remove("PAYLINK_SECRET_KEY")
        .env_remove("PAYLINK_VAULT_KEY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PAYLINK_SECRET_KEY") && err.contains("PAYLINK_VAULT_KEY"), "{err}");
}

#[actix_web::test]
async fn an_admin_unlock_from_the_cli_lets_a_locked_user_in_again() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let client = app.client();
    app.log_in_first_time(&client, &m, "4821", STRONG).await;
    client.post_form("/logout", &[]).await;
    for _ in 0..5 {
        client.post_form("/login", &[("login", "alice"), ("password", "Wrong-1-password")]).await;
    }
    client.post_form("/login", &[("login", "alice"), ("password", STRONG)]).await.assert_redirect("/login/locked");
    let mut args: Vec<String> = vec!["--database-url".into(), app.settings.database_url.clone()];
    if app.backend == Backend::Postgres {
        args.extend(["--secret-key".into(), KEY.into(), "--vault-key".into(), KEY.into()]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_paylink")).args(&args).args(["unlock-user", "alice"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.log_in(&client, "alice", STRONG).await;
}

/// Kills the server if the test fails before it exits on its own.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[actix_web::test]
async fn serve_stops_cleanly_on_sigterm_after_sending_mail_over_smtp() {
    let t = target();
    let smtp_port = free_port();
    let smtp = SmtpServer::start(smtp_port, t._dir.path());
    let out = create_acme(&t);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let merchant: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shop_id = match &merchant["shop_id"] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let api_key = merchant["test_api_key"].as_str().unwrap().to_string();

    let port = free_port();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_paylink"))
            .args(&t.args)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", t._dir.path().to_str().unwrap()])
            .arg("serve")
            .env_remove("DATABASE_URL")
            .env("PAYLINK_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}"))
            .env("PAYLINK_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the paylink binary runs"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(15)).build().unwrap();
    let started = Instant::now();
    loop {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        assert!(server.0.try_wait().unwrap().is_none(), "paylink serve exited early");
        assert!(started.elapsed() < Duration::from_secs(30), "paylink serve did not start on port {port}");
        tokio::task::yield_now().await;
    }

    let order = serde_json::json!({"channel": "EMAIL", "amount": 800, "recipients": "dan@example.com"});
    let res = http
        .post(format!("{base}/api/v1/payment-orders"))
        .basic_auth(&shop_id, Some(&api_key))
        .json(&order)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    assert_eq!(status, 201, "{}", res.text().await.unwrap());

    // The worker (a 5 s tick) sends it through the pooled SMTP transport.
    let started = Instant::now();
    while smtp.received() == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the worker sent no e-mail to the SMTP server");
        tokio::task::yield_now().await;
    }

    let pid = server.0.id().to_string();
    let kill = Command::new("kill").arg("-TERM").arg(&pid).status().unwrap();
    assert!(kill.success(), "kill -TERM {pid}");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "paylink serve did not exit after SIGTERM");
        tokio::task::yield_now().await;
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("panicked") && !stderr.contains("no reactor running"), "{stderr}");
    assert_eq!(status.code(), Some(0), "exit status {status}: {stderr}");
    assert!(stderr.contains("paylink is stopping") && stderr.contains("paylink stopped"), "{stderr}");
}

/// Card records and SMS passwords under key A; B becomes current, A previous.
#[test]
fn rotate_vault_key_resumes_where_it_stopped_and_leaves_every_record_readable() {
    use diesel::prelude::*;
    use paylink::db::schema::{audit_log, sms_accounts, vault_records};
    use paylink::db::{Db, DbError};
    use paylink::domain::card::CardNumber;
    use paylink::domain::secret_box;
    use paylink::domain::vault::{Keyring, VaultError};
    use paylink::store::vault::{self, RevealError};

    const OTHER: &str = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVoxMjM0NTY=";
    let b64 = |k: &str| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, k).unwrap();
    let (a, b) = (b64(KEY), b64(OTHER));
    let t = target();
    let merchant = create_acme(&t);
    assert!(merchant.status.success(), "{}", String::from_utf8_lossy(&merchant.stderr));
    let shop: i64 = serde_json::from_slice::<serde_json::Value>(&merchant.stdout).unwrap()["shop_id"]
        .to_string()
        .trim_matches('"')
        .parse()
        .unwrap();
    let url = t.args[1].clone();
    let db = Db::connect(&url, 2).unwrap();
    let now = chrono::Utc::now().naive_utc();
    let numbers = ["4970100000000006", "4111111111111111", "5555555555554444", "378282246310005", "4012888888881881"];
    let only_a = Keyring::new(&a, &[]);
    let tokens: Vec<String> = db
        .write_blocking(|conn| {
            numbers
                .iter()
                .map(|n| vault::put(conn, &only_a, &CardNumber::parse(n).unwrap(), now))
                .collect::<Result<_, _>>()
                .map_err(DbError::from)
        })
        .unwrap();
    db.write_blocking(|conn| {
        let sealed = secret_box::seal(&a, "gateway-pw");
        let credits = paylink::store::sms::Credits::Set(5);
        paylink::store::sms::save(
            conn,
            paylink::domain::ids::ShopId(shop),
            "acme",
            &sealed,
            "+33612345678",
            credits,
            now,
        )
        .map_err(DbError::from)
    })
    .unwrap();

    let rotate = |extra: &[&str]| {
        let mut args = vec!["--database-url", &url, "--secret-key", KEY, "--vault-key", OTHER];
        args.extend(["--vault-previous-keys", KEY, "rotate-vault-key", "--batch", "2"]);
        args.extend(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_paylink"))
            .args(&args)
            .env_remove("DATABASE_URL")
            .env("PAYLINK_LOG", "warn")
            .output()
            .unwrap();
        let line = String::from_utf8(out.stdout.clone()).unwrap();
        assert_eq!(line.trim().lines().count(), 1, "one line: {line}");
        (out, serde_json::from_str::<serde_json::Value>(line.trim()).unwrap())
    };
    let records = || -> Vec<(String, String, String)> {
        db.read_blocking(|conn| {
            vault_records::table
                .select((vault_records::token, vault_records::key_id, vault_records::ciphertext))
                .load(conn)
                .map_err(DbError::from)
        })
        .unwrap()
    };
    let reveal_all = |keys: &Keyring| -> Vec<Result<Option<CardNumber>, RevealError>> {
        tokens
            .iter()
            .map(|token| db.read_blocking(|c| Ok::<_, DbError>(vault::reveal(c, keys, token))).unwrap())
            .collect()
    };
    let digits = |revealed: Vec<Result<Option<CardNumber>, RevealError>>| -> Vec<String> {
        revealed.into_iter().map(|r| r.unwrap().unwrap().digits().to_string()).collect()
    };
    let both = Keyring::new(&b, std::slice::from_ref(&a));
    let (id_a, id_b) = (only_a.current_id().to_string(), both.current_id().to_string());
    let under = |id: &str| records().iter().filter(|r| r.1 == id).count();

    let (out, json) = rotate(&["--max-batches", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((json["reencrypted"].as_i64(), json["unreadable"].as_i64()), (Some(2), Some(0)), "{json}");
    assert_eq!((json["key_id"].as_str(), json["sms_resealed"].as_i64()), (Some(id_b.as_str()), Some(1)), "{json}");
    assert_eq!((under(&id_b), under(&id_a)), (2, 3), "stopped halfway");
    assert_eq!(digits(reveal_all(&both)), numbers, "every record reads in the middle of a rotation");

    let (out, json) = rotate(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!((json["reencrypted"].as_i64(), json["sms_resealed"].as_i64()), (Some(3), Some(0)), "{json}");
    assert_eq!(under(&id_b), 5);
    assert_eq!(digits(reveal_all(&Keyring::new(&b, &[]))), numbers, "the new key alone reads them");
    for r in reveal_all(&only_a) {
        assert!(matches!(r, Err(RevealError::Vault(VaultError::UnknownKey(ref id))) if *id == id_b), "{r:?}");
    }
    let sealed_pw: String = db
        .read_blocking(|c| sms_accounts::table.select(sms_accounts::password_enc).first(c).map_err(DbError::from))
        .unwrap();
    assert_eq!(secret_box::open(&b, &sealed_pw).as_deref(), Some("gateway-pw"));
    for (_, _, ciphertext) in records() {
        let raw = b64(&ciphertext);
        for n in numbers {
            assert!(!ciphertext.contains(n) && !raw.windows(n.len()).any(|w| w == n.as_bytes()), "{n} in clear");
        }
    }
    let audit: Vec<(String, String, String)> = db
        .read_blocking(|c| {
            audit_log::table
                .filter(audit_log::action.eq("vault.rotated"))
                .order(audit_log::id)
                .select((audit_log::actor, audit_log::target, audit_log::detail))
                .load(c)
                .map_err(DbError::from)
        })
        .unwrap();
    let details: Vec<&str> = audit.iter().map(|e| e.2.as_str()).collect();
    assert_eq!(audit.len(), 4, "the SMS passwords, then batches of 2, 2 and 1: {details:?}");
    assert_eq!((audit[0].0.as_str(), audit[0].1.as_str(), audit[1].1.as_str()), ("cli", "sms_accounts", "vault"));
    let counts: Vec<&str> = details[1..].iter().map(|d| &d[..2]).collect();
    assert_eq!(counts, ["2 ", "2 ", "1 "], "{details:?}");
    assert!(details.iter().all(|d| d.contains(&id_b) && !d.contains(KEY) && !d.contains(OTHER)), "{details:?}");
    assert!(details[1].contains(&id_a), "the key they were under: {details:?}");

    // A record no key of the keyring opens is counted, kept, and fails the run.
    let stranger = Keyring::new(&[9; 32], &[]);
    let lost = db
        .write_blocking(|conn| {
            vault::put(conn, &stranger, &CardNumber::parse(numbers[0]).unwrap(), now).map_err(DbError::from)
        })
        .unwrap();
    let (out, json) = rotate(&[]);
    assert!(!out.status.success());
    assert_eq!((json["reencrypted"].as_i64(), json["unreadable"].as_i64()), (Some(0), Some(1)), "{json}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unreadable after the rotation: 1 card records, 0 SMS passwords")
    );
    assert!(records().iter().any(|r| r.0 == lost), "never deleted");
}
