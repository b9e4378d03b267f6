//! The command line, run as the real binary against the backend under test.

use std::process::Command;

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

#[test]
fn create_merchant_prints_one_json_object_and_refuses_bad_input() {
    let t = target();
    let out = paylink(&t, &["migrate"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = paylink(
        &t,
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
    );
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
    let out = paylink(
        &t,
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
    );
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
