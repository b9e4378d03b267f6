//! The review's security findings, each closed by a test that fails on the old behaviour:
//! open redirects through `/\t/host`, HSTS, control characters (NUL) in typed text, account
//! enumeration through the lockout, and request bodies sent one byte at a time.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{STRONG, TestApp};

const CODE: &str = "4821";

#[actix_web::test]
async fn redirects_never_leave_the_site() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    // Browsers drop the tab and read `//evil.example`; a line feed made a 500.
    for next in ["/%09/evil.example", "/%0a/x", "/%5Cevil.example", "//evil.example", "/%20/x"] {
        client.get(&format!("/lang/en?next={next}")).await.assert_redirect("/login");
    }
    client.get("/lang/en?next=/orders%3Fpage%3D2").await.assert_redirect("/orders?page=2");
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    client.post_form("/context", &[("back", "/\\evil.example")]).await.assert_redirect("/orders");
    client.post_form("/context", &[("back", "/\t/evil.example")]).await.assert_redirect("/orders");
    client.post_form("/context", &[("back", "/settings/shop")]).await.assert_redirect("/settings/shop");
    client.post_form("/logout", &[]).await;
    let page = client.post_form("/login", &[("login", "alice"), ("password", STRONG), ("next", "/\t/evil")]).await;
    page.assert_redirect("/orders");
}

#[actix_web::test]
async fn an_https_public_url_turns_on_hsts_and_secure_cookies() {
    let app = TestApp::spawn_with(&["--public-url", "https://pay.example.com"]).await;
    let page = app.client().get("/login").await;
    assert_eq!(page.header("strict-transport-security").as_deref(), Some("max-age=31536000; includeSubDomains"));
    let csrf = page.set_cookie("paylink_csrf").expect("a CSRF cookie");
    assert!(csrf.contains("Secure"), "{csrf}");

    let plain = TestApp::spawn().await;
    let page = plain.client().get("/login").await;
    assert_eq!(page.header("strict-transport-security"), None, "never over plain http");
    assert!(!page.set_cookie("paylink_csrf").expect("a CSRF cookie").contains("Secure"));
}

#[actix_web::test]
async fn control_characters_are_refused_at_the_edge_on_every_backend() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    let page = client.post_form("/login", &[("login", "ali\0ce"), ("password", "x")]).await;
    assert_eq!(page.status, 400, "{}", page.excerpt());
    assert!(page.contains("control character"), "{}", page.excerpt());

    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    for path in ["/orders?reference=a%00b", "/audit?action=%00", "/transactions?reference=%1b"] {
        let page = client.get(path).await;
        assert_eq!(page.status, 400, "{path}: {}", page.excerpt());
        assert!(page.contains("control character"), "{path}");
    }
    assert_eq!(client.get("/orders?reference=CMD-1").await.status, 200, "only the control character is refused");

    let http = reqwest::Client::new();
    let api = |path: &str| app.url(path);
    let post = |body: serde_json::Value| {
        http.post(api("/api/v1/payment-orders"))
            .basic_auth(m.shop_id.to_string(), Some(&m.test_api_key))
            .json(&body)
            .send()
    };
    for (body, field) in [
        (json!({"channel": "URL", "amount": 1500, "description": "a\u{0}b"}), "description"),
        (json!({"channel": "URL", "amount": 1500, "reference": "R\u{0}"}), "reference"),
        (
            json!({"channel": "EMAIL", "amount": 1500, "recipients": ["a@example.com"], "subject": "\u{0}", "message": "m"}),
            "subject",
        ),
    ] {
        let res = post(body).await.unwrap();
        assert_eq!(res.status(), 400);
        let err: serde_json::Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "field.control_character", "{err}");
        assert_eq!(err["error"]["field"], field, "{err}");
    }
    let res = http
        .get(api("/api/v1/payment-orders?reference=a%00"))
        .basic_auth(m.shop_id.to_string(), Some(&m.test_api_key))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (err["error"]["code"].as_str(), err["error"]["field"].as_str()),
        (Some("field.control_character"), Some("reference"))
    );
    let listed: serde_json::Value = http
        .get(api("/api/v1/payment-orders"))
        .basic_auth(m.shop_id.to_string(), Some(&m.test_api_key))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0), "nothing half-written: {listed}");
}

#[actix_web::test]
async fn the_lockout_does_not_tell_which_logins_exist() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    client.post_form("/logout", &[]).await;
    let answers = async |login: &str| {
        let client = app.client();
        let mut seen = Vec::new();
        for _ in 0..6 {
            let page = client.post_form("/login", &[("login", login), ("password", "Wrong-pass-1")]).await;
            seen.push(match page.location.as_deref() {
                Some(to) => to.to_string(),
                None => format!("{} {}", page.status, page.contains("Wrong login or password.")),
            });
        }
        seen
    };
    let existing = answers("alice").await;
    let unknown = answers("nobody-here").await;
    assert_eq!(existing[4], "/login/locked", "the fifth wrong password locks: {existing:?}");
    assert_eq!(existing, unknown, "an unknown login answers exactly as an existing one");
}

#[actix_web::test]
async fn a_body_sent_one_byte_at_a_time_is_cut_off() {
    let app = TestApp::spawn_with(&["--body-timeout-secs", "1"]).await;
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 1000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    // One byte every 200 ms: the body would take 200 s to arrive.
    while started.elapsed() < Duration::from_secs(8) {
        let _ = stream.write_all(b"a").await;
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => {
                answer.extend_from_slice(&buf[..n]);
                break;
            }
            Ok(Err(_)) => break,
            Err(_) => {}
        }
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the server waited {took:?} for a trickling body");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 4"), "{text}");
}
