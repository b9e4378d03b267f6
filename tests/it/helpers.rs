//! Shared test harness: a real paylink server on a random port over a fresh database
//! (SQLite file in a temp dir, or a throwaway PostgreSQL database when
//! `PAYLINK_TEST_BACKEND=postgres`), a moveable clock, and an HTTP client that keeps its own
//! cookies and CSRF token the way a browser would.

#![allow(dead_code)]

use std::hash::{BuildHasher, Hasher};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use base64::Engine;
use chrono::{DateTime, TimeZone, Utc};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use reqwest::header::{self, HeaderMap, HeaderValue};
use scraper::{Html, Selector};

use paylink::config::Settings;
use paylink::db::{Backend, Db};
use paylink::delivery::{Report, Worker};
use paylink::domain::clock::{ManualClock, SharedClock};
use paylink::services::merchants::{self, CreatedMerchant, NewMerchant};

/// A password every policy accepts.
pub const STRONG: &str = "Kj7#vQ2m!Lp9xRw";

/// Where every test clock starts: a fixed instant, so dates in pages and rows are stable.
pub fn start_instant() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 10, 0, 0).unwrap()
}

/// A random 64-bit number without a dependency on `rand` (std's hasher keys are random).
fn random_u64() -> u64 {
    let mut h = std::hash::RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish()
}

fn random_key() -> String {
    let mut bytes = Vec::with_capacity(32);
    for _ in 0..4 {
        bytes.extend_from_slice(&random_u64().to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The backend the integration tests run on: `PAYLINK_TEST_BACKEND=sqlite|postgres`.
pub fn test_backend() -> Backend {
    match std::env::var("PAYLINK_TEST_BACKEND").as_deref() {
        Ok("postgres") | Ok("postgresql") | Ok("pg") => Backend::Postgres,
        Ok("sqlite") | Ok("") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("PAYLINK_TEST_BACKEND must be sqlite or postgres, not {other:?}"),
    }
}

/// URL of a PostgreSQL server database we may `CREATE DATABASE` from.
pub fn postgres_admin_url() -> String {
    std::env::var("PAYLINK_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Replaces the database name (path) of a `postgres://` URL, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// A throwaway PostgreSQL database, dropped (connections included) when this goes away.
pub struct PgDatabase {
    pub admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("paylink_t_{:016x}", random_u64());
        let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!(
                "PAYLINK_TEST_BACKEND=postgres but PostgreSQL at {admin_url} is not reachable: {e}\n\
                 (start it, or set PAYLINK_TEST_DATABASE_URL; scripts/test does both)"
            )
        });
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name} failed: {e}"));
        let url = with_database(&admin_url, &name);
        PgDatabase { admin_url, name, url }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        match PgConnection::establish(&self.admin_url) {
            Ok(mut conn) => {
                if let Err(e) = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
                    eprintln!("warning: could not drop test database {}: {e}", self.name);
                }
            }
            Err(e) => eprintln!("warning: could not drop test database {}: {e}", self.name),
        }
    }
}

/// A running paylink.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    pub addr: SocketAddr,
    pub db: Db,
    pub clock: ManualClock,
    pub shared_clock: SharedClock,
    pub backend: Backend,
    pub settings: Settings,
    /// Directory of this test's files: the SQLite database (`paylink.db`) lives here.
    pub dir: tempfile::TempDir,
    handle: actix_web::dev::ServerHandle,
    pub worker: Arc<Worker>,
    pub acquirers: Arc<paylink::acquirer::Acquirers>,
    /// This server's instance id (its idempotency claims name it; it beats while alive).
    pub instance: String,
    /// Declared last: dropped after `db`, so the database outlives our own pool.
    pub pg: Option<PgDatabase>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    /// Starts paylink with the default test flags plus `extra_flags` (which win: a default
    /// flag is left out when `extra_flags` names it).
    pub async fn spawn_with(extra_flags: &[&str]) -> TestApp {
        Self::spawn_full(extra_flags, None).await
    }

    /// Starts paylink with `acquirer` as its TEST acquirer, every call bounded by `timeout`.
    pub async fn spawn_with_acquirer(acquirer: Arc<dyn paylink::acquirer::Acquirer>, timeout: StdDuration) -> TestApp {
        Self::spawn_full(&[], Some(Arc::new(paylink::acquirer::Acquirers::with_test(acquirer, timeout)))).await
    }

    async fn spawn_full(extra_flags: &[&str], acquirers: Option<Arc<paylink::acquirer::Acquirers>>) -> TestApp {
        let backend = test_backend();
        let dir = tempfile::Builder::new().prefix("paylink-test-").tempdir().expect("temp dir");
        let (pg, database_url) = match backend {
            Backend::Sqlite => {
                let path = dir.path().join("paylink.db");
                (None, path.to_str().expect("utf-8 temp path").to_string())
            }
            Backend::Postgres => {
                let pg = PgDatabase::create();
                let url = pg.url.clone();
                (Some(pg), url)
            }
        };

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");

        let defaults: Vec<(&str, String)> = vec![
            ("--database-url", database_url),
            ("--bind", addr.to_string()),
            ("--public-url", base.clone()),
            ("--secret-key", random_key()),
            ("--vault-key", random_key()),
            ("--data-dir", dir.path().to_str().expect("utf-8 temp path").to_string()),
        ];
        let mut args: Vec<String> = Vec::new();
        for (flag, value) in defaults {
            let overridden = extra_flags.iter().any(|f| *f == flag || f.starts_with(&format!("{flag}=")));
            if !overridden {
                args.push(flag.to_string());
                args.push(value);
            }
        }
        args.extend(extra_flags.iter().map(|s| s.to_string()));

        let raw = paylink::config::parse_args(&args).unwrap_or_else(|e| panic!("test flags {args:?} refused: {e}"));
        let settings = raw.resolve().expect("settings resolve");
        assert_eq!(settings.backend, backend, "the database URL picks the backend");

        let clock = ManualClock::new(start_instant());
        let shared_clock: SharedClock = Arc::new(clock.clone());
        let acquirers =
            acquirers.unwrap_or_else(|| Arc::new(paylink::acquirer::Acquirers::standard(settings.acquirer_timeout())));
        let db = paylink::app::open_db(&settings).expect("open the database");
        let running = paylink::app::start_with_acquirers(
            settings.clone(),
            db,
            shared_clock.clone(),
            listener,
            false,
            acquirers.clone(),
        )
        .expect("paylink::app::start");
        TestApp {
            base,
            addr: running.addr,
            db: running.db,
            clock,
            shared_clock,
            backend,
            settings,
            dir,
            handle: running.handle,
            worker: running.worker,
            instance: running.instance,
            acquirers,
            pg,
        }
    }

    /// What services that call the acquirer need, on this app's database, clock and acquirers.
    pub fn env(&self) -> paylink::services::Env {
        paylink::services::Env {
            db: self.db.clone(),
            clock: self.shared_clock.clone(),
            acquirers: self.acquirers.clone(),
            vault: Arc::new(self.settings.keyring()),
            public_url: self.settings.public_url.as_str().into(),
        }
    }

    /// Absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Creates a merchant (company, shop, admin user `login` with e-mail `login@example.com`).
    pub fn create_merchant(&self, company: &str, shop: &str, login: &str, code: &str) -> CreatedMerchant {
        let email = format!("{login}@example.com");
        let new = NewMerchant::parse(company, shop, login, &email, code)
            .unwrap_or_else(|e| panic!("invalid test merchant {login}: {e:?}"));
        self.db
            .write_blocking(|conn| merchants::create(conn, &self.clock, &new))
            .unwrap_or_else(|e| panic!("creating merchant {login}: {e:?}"))
    }

    /// One round of the background worker, at the test clock's time.
    pub async fn run_worker(&self) -> Report {
        self.worker.run_once().await.expect("worker round")
    }

    /// A fresh client (own cookie jar), speaking English.
    pub fn client(&self) -> Client {
        self.client_lang("en")
    }

    /// A fresh client whose `Accept-Language` is `lang`.
    pub fn client_lang(&self, lang: &str) -> Client {
        Client::new(&self.base, lang)
    }

    /// Logs in for the first time: temporary password, first-login code, new password.
    /// Returns the `/orders` page it lands on.
    pub async fn log_in_first_time(
        &self,
        client: &Client,
        created: &CreatedMerchant,
        code: &str,
        new_password: &str,
    ) -> Page {
        let page =
            client.post_form("/login", &[("login", &created.login), ("password", &created.temporary_password)]).await;
        page.assert_redirect("/login/code");
        let page = client.get("/login/code").await;
        assert_eq!(page.status, 200, "GET /login/code: {}", page.excerpt());
        let page = client.post_form("/login/code", &[("first_login_code", code)]).await;
        page.assert_redirect("/login/new-password");
        let page = client.get("/login/new-password").await;
        assert_eq!(page.status, 200, "GET /login/new-password: {}", page.excerpt());
        let page = client
            .post_form("/login/new-password", &[("new_password", new_password), ("confirm_password", new_password)])
            .await;
        page.assert_redirect("/orders");
        let page = client.follow(&page).await;
        assert_eq!(page.status, 200, "GET /orders after first login: {}", page.excerpt());
        page
    }

    /// A normal login (permanent password). Returns the `/orders` page it lands on.
    pub async fn log_in(&self, client: &Client, login: &str, password: &str) -> Page {
        let page = client.post_form("/login", &[("login", login), ("password", password)]).await;
        page.assert_redirect("/orders");
        let page = client.follow(&page).await;
        assert_eq!(page.status, 200, "GET /orders after login: {}", page.excerpt());
        page
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends its command at once; the returned future only waits for completion,
        // which a test does not need, so it is dropped.
        drop(self.handle.stop(false));
    }
}

/// An HTTP client for the back office: own cookie jar, redirects not followed, and the latest
/// CSRF token seen on any HTML page.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    csrf: Mutex<Option<String>>,
}

impl Client {
    pub fn new(base: &str, lang: &str) -> Client {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(lang).expect("language tag"));
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("reqwest client");
        Client { base: base.trim_end_matches('/').to_string(), http, csrf: Mutex::new(None) }
    }

    /// Absolute URL for a path (absolute URLs are kept).
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            format!("{}{}", self.base, path_or_url)
        }
    }

    /// The CSRF token this client would send next.
    pub fn csrf_token(&self) -> Option<String> {
        self.csrf.lock().unwrap().clone()
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self.http.get(self.url(path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.read(response).await
    }

    /// POSTs a form with the latest CSRF token added (fetching `/login` first if none yet).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = match self.csrf_token() {
            Some(t) => t,
            None => {
                let page = self.get("/login").await;
                page.csrf().unwrap_or_else(|| {
                    panic!("no csrf-token meta on GET /login (status {}): {}", page.status, page.excerpt())
                })
            }
        };
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form_raw(path, &all).await
    }

    /// POSTs one file as `multipart/form-data` (the way a browser uploads it), with the
    /// latest CSRF token when `csrf` is true.
    pub async fn post_file(
        &self,
        path: &str,
        field: &str,
        filename: &str,
        kind: &str,
        bytes: &[u8],
        csrf: bool,
    ) -> Page {
        let boundary = "----paylink-test-boundary";
        let mut body = Vec::new();
        if csrf {
            let token = self.csrf_token().expect("a CSRF token: GET a page first");
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n\
                 Content-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let response = self
            .http
            .post(self.url(path))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.read(response).await
    }

    /// POSTs exactly `fields`, adding nothing.
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response =
            self.http.post(self.url(path)).form(fields).send().await.unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.read(response).await
    }

    /// GETs the `Location` of a redirect.
    pub async fn follow(&self, page: &Page) -> Page {
        let location = page
            .location
            .as_deref()
            .unwrap_or_else(|| panic!("expected a redirect, got {}: {}", page.status, page.excerpt()));
        self.get(location).await
    }

    async fn read(&self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.strip_prefix(&self.base).unwrap_or(s).to_string());
        let body = response.text().await.expect("response body");
        let page = Page { status, location, headers, body };
        if page.is_html()
            && let Some(token) = page.csrf()
        {
            *self.csrf.lock().unwrap() = Some(token);
        }
        page
    }
}

/// One HTTP response, body read.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    /// `Location`, made relative when it points to this server.
    pub location: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn contains(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }

    pub fn is_html(&self) -> bool {
        self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
    }

    pub fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }

    /// The page's `<meta name="csrf-token" content="…">`.
    pub fn csrf(&self) -> Option<String> {
        self.attr("meta[name=\"csrf-token\"]", "content").filter(|t| !t.is_empty())
    }

    /// The first element matching `css`'s attribute `name`.
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.html().select(&selector).find_map(|el| el.value().attr(name).map(str::to_string))
    }

    /// The attribute `name` of every element matching `css` that has it.
    pub fn attrs(&self, css: &str, name: &str) -> Vec<String> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.html().select(&selector).filter_map(|el| el.value().attr(name).map(str::to_string)).collect()
    }

    /// Text of every element matching `css`, whitespace collapsed.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.html()
            .select(&selector)
            .map(|el| el.text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// Number of elements matching `css`.
    pub fn count(&self, css: &str) -> usize {
        let selector = Selector::parse(css).unwrap_or_else(|e| panic!("bad selector {css}: {e}"));
        self.html().select(&selector).count()
    }

    /// The raw `Set-Cookie` header line setting cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}=");
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&prefix))
            .map(str::to_string)
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }

    /// Asserts a 303 to `path` (query string ignored when `path` has none).
    pub fn assert_redirect(&self, path: &str) {
        assert_eq!(self.status, 303, "expected 303 to {path}, got {}: {}", self.status, self.excerpt());
        let location = self.location.as_deref().unwrap_or("");
        let bare = if path.contains('?') { location } else { location.split('?').next().unwrap_or("") };
        assert_eq!(bare, path, "redirect target");
    }

    /// The start of the body, for assertion messages.
    pub fn excerpt(&self) -> String {
        let text: String = self.body.chars().take(1500).collect();
        format!("location={:?} body:\n{text}", self.location)
    }
}

#[test]
fn database_name_is_swapped_in_postgres_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
    assert_eq!(with_database("postgresql://h:5432", "x"), "postgresql://h:5432/x");
}
