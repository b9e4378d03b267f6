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
    // The server still listens on plain http 127.0.0.1: a TLS proxy would be in front.
    let app = TestApp::spawn_with(&["--public-url", "https://pay.example.test"]).await;
    let seen = cookies_and_hsts_of_every_kind_of_response(&app).await;
    for (what, hsts) in &seen.hsts {
        assert_eq!(hsts.as_deref(), Some("max-age=31536000; includeSubDomains"), "{what}");
    }
    for (name, line) in &seen.cookies {
        assert!(cookie_attributes(line).contains(&"secure".to_string()), "{name} not Secure: {line}");
    }

    let plain = TestApp::spawn().await;
    let seen = cookies_and_hsts_of_every_kind_of_response(&plain).await;
    for (what, hsts) in &seen.hsts {
        assert_eq!(hsts.as_deref(), None, "{what}: never HSTS over plain http");
    }
    for (name, line) in &seen.cookies {
        assert!(!cookie_attributes(line).contains(&"secure".to_string()), "{name} Secure over http: {line}");
    }
}

struct Seen {
    /// (what was asked, its Strict-Transport-Security header)
    hsts: Vec<(&'static str, Option<String>)>,
    /// (cookie name, its first `Set-Cookie` line)
    cookies: Vec<(&'static str, String)>,
}

/// `Set-Cookie: a=b; Path=/; Secure; HttpOnly` → `["path=/", "secure", "httponly"]`.
fn cookie_attributes(line: &str) -> Vec<String> {
    line.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect()
}

/// A page, a form refusal, the login's session cookie, a signed-in page, an error page, the API
/// (a document, an answer, an error) and `/healthz`, asked without a cookie store: a browser
/// would not send a `Secure` cookie back over http, so the cookies are carried by hand.
async fn cookies_and_hsts_of_every_kind_of_response(app: &TestApp) -> Seen {
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap();
    let mut jar: Vec<(String, String)> = Vec::new();
    let mut seen = Seen { hsts: Vec::new(), cookies: Vec::new() };
    let cookie_header =
        |jar: &Vec<(String, String)>| jar.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
    let mut ask = async |what: &'static str, request: reqwest::RequestBuilder, jar: &mut Vec<(String, String)>| {
        let request = if jar.is_empty() { request } else { request.header("cookie", cookie_header(jar)) };
        let response = request.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        seen.hsts.push((what, header("strict-transport-security")));
        for line in response.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
            let (name, value) = line.split(';').next().unwrap().split_once('=').unwrap();
            for known in ["paylink_csrf", "paylink_session"] {
                if name == known && !seen.cookies.iter().any(|(n, _)| *n == known) {
                    seen.cookies.push((known, line.to_string()));
                }
            }
            jar.retain(|(n, _)| n != name);
            jar.push((name.to_string(), value.to_string()));
        }
        let status = response.status().as_u16();
        let location = header("location").unwrap_or_default();
        (status, location, response.text().await.unwrap())
    };
    let url = |path: &str| app.url(path);

    let (status, _, body) = ask("the login page", http.get(url("/login")), &mut jar).await;
    assert_eq!(status, 200);
    let token = crate::helpers::Page { status, location: None, headers: Default::default(), body }.csrf().unwrap();
    let (status, ..) =
        ask("a form without its token", http.post(url("/login")).form(&[("login", "x")]), &mut jar).await;
    assert_eq!(status, 403);
    let login = [("login", m.login.as_str()), ("password", m.temporary_password.as_str()), ("csrf_token", &token)];
    let (status, location, _) = ask("the login", http.post(url("/login")).form(&login), &mut jar).await;
    assert_eq!((status, location.as_str()), (303, "/login/code"), "the login went through");
    let (status, ..) = ask("a signed-in step", http.get(url("/login/code")), &mut jar).await;
    assert_eq!(status, 200, "the session cookie was carried");
    let (status, ..) = ask("an error page", http.get(url("/no/such/page")), &mut jar).await;
    assert_eq!(status, 404);
    let (status, ..) = ask("the API document", http.get(url("/api/v1/openapi.json")), &mut jar).await;
    assert_eq!(status, 200);
    let api = http.get(url("/api/v1/payment-orders")).basic_auth(m.shop_id.to_string(), Some(&m.test_api_key));
    let (status, ..) = ask("an API answer", api, &mut Vec::new()).await;
    assert_eq!(status, 200);
    let (status, ..) = ask("an API error", http.get(url("/api/v1/payment-orders")), &mut Vec::new()).await;
    assert_eq!(status, 401);
    let (status, ..) = ask("/healthz before any worker round", http.get(url("/healthz")), &mut Vec::new()).await;
    assert_eq!(status, 503);
    app.run_worker().await;
    let (status, ..) = ask("/healthz", http.get(url("/healthz")), &mut Vec::new()).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = seen.cookies.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["paylink_csrf", "paylink_session"], "both cookies were set");
    seen
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

#[actix_web::test]
async fn pages_and_css_are_compressed_as_the_client_accepts() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    for path in ["/login", "/static/app.css", "/t/no-such-link"] {
        let plain = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(plain.headers().get("content-encoding"), None, "{path}: nothing asked, nothing compressed");
        let plain = plain.bytes().await.unwrap().len();
        for encoding in ["br", "gzip"] {
            let res = http.get(app.url(path)).header("accept-encoding", encoding).send().await.unwrap();
            let got = res.headers().get("content-encoding").and_then(|v| v.to_str().ok()).map(str::to_string);
            assert_eq!(got.as_deref(), Some(encoding), "{path}");
            let size = res.bytes().await.unwrap().len();
            assert!(size < plain, "{path} in {encoding}: {size} bytes of {plain}");
        }
    }
}

#[actix_web::test]
async fn static_files_have_content_hashed_names_cached_for_a_year() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let login = app.client().get("/login").await;
    let css = login.attr("link[rel=stylesheet]", "href").unwrap();
    let hash = css.strip_prefix("/static/app.").and_then(|r| r.strip_suffix(".css")).unwrap_or_default();
    assert!(hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{css}");
    let res = http.get(app.url(&css)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    let hashed_body = res.text().await.unwrap();
    // The plain name still answers, for an hour only; a wrong hash answers nothing.
    let res = http.get(app.url("/static/app.css")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
    assert_eq!(res.text().await.unwrap(), hashed_body);
    let wrong = http.get(app.url("/static/app.000000000000.css")).send().await.unwrap();
    assert_eq!(wrong.status(), 404);
    // Every script a page links is hashed too.
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let order = an_order(&app, &m);
    let page = app.client().get(&format!("/t/{}", order.token)).await;
    let script = page.attr("script[src]", "src").unwrap();
    assert!(script.starts_with("/static/pay.") && script.len() == "/static/pay..js".len() + 12, "{script}");
    let res = http.get(app.url(&script)).send().await.unwrap();
    assert_eq!(
        (res.status().as_u16(), res.headers()["cache-control"].to_str().unwrap()),
        (200, "public, max-age=31536000, immutable")
    );
    // The pay page and the login page name a favicon, which answers.
    for page in [&page, &login] {
        let icon = page.attr("link[rel=icon]", "href").unwrap();
        assert!(icon.starts_with("/static/favicon.") && icon.ends_with(".svg"), "{icon}");
        let res = http.get(app.url(&icon)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/svg+xml");
    }
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let order = an_order(&app, &m);
    let http = reqwest::Client::new();
    let css = app.client().get("/login").await.attr("link[rel=stylesheet]", "href").unwrap();
    for path in ["/login", "/ping", css.as_str(), &format!("/t/{}", order.token), "/t/no-such-link", "/no-such-page"] {
        let get = http.get(app.url(path)).send().await.unwrap();
        let head = http.head(app.url(path)).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        for name in ["content-type", "cache-control", "content-security-policy"] {
            assert_eq!(head.headers().get(name), get.headers().get(name), "HEAD {path}: {name}");
        }
        let get_len = get.bytes().await.unwrap().len();
        let head_len: usize = head.headers()["content-length"].to_str().unwrap().parse().unwrap();
        assert!(get_len > 0, "{path}");
        assert_eq!(head_len, get_len, "HEAD {path} announces the length of the GET body");
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} has no body");
    }
}

pub fn an_order(app: &TestApp, m: &paylink::services::merchants::CreatedMerchant) -> paylink::domain::order::Order {
    let raw = paylink::domain::order_form::RawOrder {
        amount: paylink::domain::order_form::AmountInput::Decimal("12".into()),
        language: "en".into(),
        ..Default::default()
    };
    crate::delivery::create_orders(app, m, paylink::domain::order::Channel::Url, raw).remove(0)
}

/// Gives the merchant's shop a logo (an SVG in the brand's colours), as settings would.
pub fn give_a_logo(app: &TestApp, m: &paylink::services::merchants::CreatedMerchant) {
    const SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 32" width="120" height="32"><rect width="32" height="32" rx="8" fill="#1f5fbf"/><path d="M9 22V10h7a4 4 0 0 1 0 8h-4v4z" fill="#fff"/><text x="40" y="22" font-family="sans-serif" font-size="16" font-weight="700" fill="#1d2330">Acme</text></svg>"##;
    let logo = paylink::domain::logo::parse(SVG.as_bytes()).expect("a valid logo");
    let (clock, shop) = (app.clock.clone(), paylink::domain::ids::ShopId(m.shop_id.0));
    let actor = paylink::store::audit::Actor {
        company_id: Some(paylink::domain::ids::CompanyId(m.company_id.0)),
        user_id: None,
        name: "test".into(),
        ip: None,
    };
    app.db.write_blocking(|conn| paylink::services::shops::set_logo(conn, &clock, &actor, shop, &logo)).unwrap();
}

/// The pay page's first render (its HTML and the stylesheet it links) stays within 20 KB
/// compressed, in every buyer language, with the shop's logo and the brand marks, with gzip
/// (the weakest encoding browsers send) and brotli.
#[actix_web::test]
async fn the_pay_page_first_render_weighs_at_most_20_kb_compressed() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    give_a_logo(&app, &m);
    let order = an_order(&app, &m);
    let http = reqwest::Client::new();
    for encoding in ["gzip", "br"] {
        for lang in ["fr", "en", "de", "es", "it"] {
            let url = app.url(&format!("/t/{}?lang={lang}", order.token));
            let html = http.get(&url).header("accept-encoding", encoding).send().await.unwrap();
            assert_eq!(html.headers()["content-encoding"], encoding);
            let html = html.bytes().await.unwrap().len();
            let page = app.client().get(&format!("/t/{}?lang={lang}", order.token)).await;
            assert_eq!(page.count("img.shop-logo"), 1, "with the logo");
            assert!(page.count(".brands svg") >= 3, "with the brand marks");
            let css = page.attr("link[rel=stylesheet]", "href").unwrap();
            let css = http.get(app.url(&css)).header("accept-encoding", encoding).send().await.unwrap();
            let css = css.bytes().await.unwrap().len();
            eprintln!("pay page {lang} {encoding}: HTML {html} B + CSS {css} B = {} B", html + css);
            assert!(html + css <= 20 * 1024, "{lang} in {encoding}: HTML {html} B + CSS {css} B");
        }
    }
}
