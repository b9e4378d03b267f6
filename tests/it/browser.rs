//! End to end in a real headless Chromium through chromedriver (WebDriver, via fantoccini):
//! what a merchant sees, JavaScript included. Screenshots land in `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`scripts/test` installs them). A missing
//! browser fails the test: it is never skipped. `PAYLINK_TEST_CHROMEDRIVER` and
//! `PAYLINK_TEST_CHROMIUM` override the binaries' paths.

use std::error::Error;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{STRONG, TestApp};

type Res<T> = Result<T, Box<dyn Error>>;

/// How long any single wait for the page may take before the test fails.
const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

fn binary(var: &str, default: &str, package: &str) -> String {
    let path = std::env::var(var).ok().filter(|s| !s.is_empty()).unwrap_or_else(|| default.to_string());
    if !Path::new(&path).is_file() {
        panic!(
            "browser tests need {path} (Debian package `{package}`), which is missing.\n\
             Install with: apt-get install -y chromium chromium-driver (scripts/test does it when \
             run as root), or point {var} at the binary."
        );
    }
    path
}

/// A chromedriver child process on a port of its choosing; killed on drop.
pub struct ChromeDriver {
    child: Child,
    pub url: String,
    output: Arc<Mutex<String>>,
}

impl ChromeDriver {
    /// Starts chromedriver with `--port=0` and waits (bounded) for the line announcing the
    /// port it listens on: no sleeping, no port race.
    pub fn start() -> ChromeDriver {
        let path = binary("PAYLINK_TEST_CHROMEDRIVER", "/usr/bin/chromedriver", "chromium-driver");
        let mut child = Command::new(&path)
            .arg("--port=0")
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {path}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));

        let (tx, rx) = mpsc::channel::<Option<u16>>();
        let stdout = child.stdout.take().unwrap();
        let out = output.clone();
        std::thread::spawn(move || {
            // Keep reading after the port line, so chromedriver never blocks on a full pipe.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                out.lock().unwrap().push_str(&line);
                out.lock().unwrap().push('\n');
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let _ = tx.send(port.parse().ok());
                }
            }
            let _ = tx.send(None);
        });
        let mut stderr = child.stderr.take().unwrap();
        let err = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                err.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let port = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(port)) => port,
            other => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chromedriver ({path}) did not announce its port ({}); its output:\n{}",
                    match other {
                        Err(_) => "timed out after 30 s",
                        _ => "it exited",
                    },
                    output.lock().unwrap()
                );
            }
        };
        ChromeDriver { child, url: format!("http://127.0.0.1:{port}"), output }
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// A new headless Chromium session with a fresh profile in `profile_dir`.
    pub async fn session(&self, profile_dir: &Path) -> Client {
        let chromium = binary("PAYLINK_TEST_CHROMIUM", "/usr/bin/chromium", "chromium");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".to_string(),
            "--disable-gpu".to_string(),
            "--disable-dev-shm-usage".to_string(),
            "--disable-background-networking".to_string(),
            "--disable-component-update".to_string(),
            "--disable-sync".to_string(),
            "--disable-extensions".to_string(),
            "--disable-default-apps".to_string(),
            "--no-first-run".to_string(),
            "--no-default-browser-check".to_string(),
            "--password-store=basic".to_string(),
            "--lang=en-US".to_string(),
            "--accept-lang=en-US,en".to_string(),
            "--window-size=1280,900".to_string(),
            format!("--user-data-dir={}", profile_dir.display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": args,
                "prefs": {
                    "intl.accept_languages": "en-US,en",
                    "credentials_enable_service": false,
                    "profile.password_manager_enabled": false,
                },
            }),
        );
        ClientBuilder::rustls()
            .expect("rustls for the WebDriver client")
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("cannot open a Chromium session: {e}\nchromedriver output:\n{}", self.output()))
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `target/screenshots/`, created on first use.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

pub async fn screenshot(browser: &Client, name: &str) -> Res<PathBuf> {
    let png = browser.screenshot().await?;
    let path = screenshot_dir().join(name);
    std::fs::write(&path, png)?;
    Ok(path)
}

/// axe-core, vendored from its npm package (`tests/fixtures/axe-core/README.md`).
const AXE: &str = include_str!("../fixtures/axe-core/axe.min.js");

/// Runs axe-core on the page in the browser and fails on any violation, of any impact,
/// naming each rule and the elements it found.
pub async fn axe(browser: &Client, what: &str) -> Res<()> {
    browser.execute(&format!("{AXE}\nreturn true;"), vec![]).await?;
    let found = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, { resultTypes: ['violations'] })\
               .then(r => done(r.violations.map(v => v.impact + ' ' + v.id + ': ' + v.help + ' -> '\
                 + v.nodes.map(n => n.target.join(' ')).join(', '))))\
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await?;
    let violations: Vec<String> = serde_json::from_value(found)?;
    if violations.is_empty() { Ok(()) } else { Err(format!("axe-core on {what}:\n{}", violations.join("\n")).into()) }
}

/// Waits (bounded) for an element.
pub async fn wait_for(browser: &Client, locator: Locator<'_>) -> Res<fantoccini::elements::Element> {
    let what = format!("{locator:?}");
    browser
        .wait()
        .at_most(WAIT)
        .every(POLL)
        .for_element(locator)
        .await
        .map_err(|e| format!("waiting for {what}: {e}").into())
}

/// Types into the field named `name` (clearing it first).
pub async fn fill(browser: &Client, name: &str, value: &str) -> Res<()> {
    let field = wait_for(browser, Locator::Css(&format!("[name=\"{name}\"]"))).await?;
    field.clear().await?;
    field.send_keys(value).await?;
    Ok(())
}

/// Clicks the submit button of the form holding the field named `field`.
pub async fn submit_form_of(browser: &Client, field: &str) -> Res<()> {
    let xpath = format!(
        "(//*[@name='{field}']/ancestor::form//*[self::button[not(@type) or @type='submit'] \
         or self::input[@type='submit']])[1]"
    );
    let button = wait_for(browser, Locator::XPath(&xpath)).await?;
    button.click().await?;
    Ok(())
}

/// Waits until the browser is on `path` of the current origin.
pub async fn wait_for_path(browser: &Client, path: &str) -> Res<()> {
    let target = browser.current_url().await?.join(path)?;
    browser
        .wait()
        .at_most(WAIT)
        .every(POLL)
        .for_url(&target)
        .await
        .map_err(|e| format!("waiting to reach {path}: {e}").into())
}

/// Sizes the window so that the page itself (the viewport) is `width`×`height`.
pub async fn set_viewport(browser: &Client, width: u32, height: u32) -> Res<()> {
    browser.set_window_size(width, height).await?;
    let inner = browser.execute("return [window.innerWidth, window.innerHeight];", vec![]).await?;
    let (iw, ih) = (inner[0].as_u64().unwrap_or(width as u64), inner[1].as_u64().unwrap_or(height as u64));
    let (extra_w, extra_h) = ((width as u64).saturating_sub(iw), (height as u64).saturating_sub(ih));
    if extra_w > 0 || extra_h > 0 {
        browser.set_window_size(width + extra_w as u32, height + extra_h as u32).await?;
    }
    Ok(())
}

const STRENGTH_WEAK: &str =
    "//*[@id='password-strength'][contains(translate(., 'WEAK', 'weak'), 'weak') or contains(., 'faible')]";
const STRENGTH_OK: &str = "//*[@id='password-strength'][contains(., 'OK')]";

/// What the strength meter shows: its level text, its reason line (both empty when hidden),
/// and the rules ticked.
async fn meter_state(browser: &Client) -> Res<(String, String, Vec<String>)> {
    let v = browser
        .execute(
            "var m = document.querySelector('#password-strength .meter');
             var w = document.querySelector('#password-strength .meter-why');
             var met = Array.prototype.map.call(document.querySelectorAll('#password-rules li.met'),
                 function (li) { return li.getAttribute('data-rule'); });
             return [m.hidden ? '' : m.textContent.trim(), w.hidden ? '' : w.textContent.trim(), met];",
            vec![],
        )
        .await?;
    let text = |i: usize| v[i].as_str().unwrap_or_default().to_string();
    let met =
        v[2].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
    Ok((text(0), text(1), met))
}

async fn first_login(browser: &Client, app: &TestApp, login: &str, temporary: &str, code: &str) -> Res<()> {
    // The login page on a phone-sized viewport, then on a desktop one.
    set_viewport(browser, 360, 740).await?;
    browser.goto(&app.url("/login")).await?;
    wait_for(browser, Locator::Css("input[name=\"login\"]")).await?;
    screenshot(browser, "login-360.png").await?;
    set_viewport(browser, 1280, 800).await?;
    browser.goto(&app.url("/login")).await?;
    wait_for(browser, Locator::Css("input[name=\"password\"]")).await?;
    screenshot(browser, "login.png").await?;
    axe(browser, "the login page").await?;

    fill(browser, "login", login).await?;
    fill(browser, "password", temporary).await?;
    submit_form_of(browser, "password").await?;

    wait_for(browser, Locator::Css("input[name=\"first_login_code\"]")).await?;
    fill(browser, "first_login_code", code).await?;
    submit_form_of(browser, "first_login_code").await?;

    // The live strength meter (static/password-meter.js) reacts as the user types.
    wait_for(browser, Locator::Css("input[name=\"new_password\"]")).await?;
    wait_for(browser, Locator::Id("password-strength")).await?;
    // Nothing before a key is pressed: no level, no reason, no rule ticked.
    let shown = meter_state(browser).await?;
    if shown != (String::new(), String::new(), Vec::new()) {
        return Err(format!("the meter speaks before anything is typed: {shown:?}").into());
    }
    fill(browser, "new_password", "password1").await?;
    wait_for(browser, Locator::XPath(STRENGTH_WEAK))
        .await
        .map_err(|e| format!("the strength meter never read weak (is the JS loaded?): {e}"))?;
    let (_, why, met) = meter_state(browser).await?;
    if met != ["length", "lower", "digit"] || !why.is_empty() {
        return Err(format!("password1: rules ticked {met:?}, reason {why:?}").into());
    }
    // Every rule met, still weak: one line says why.
    fill(browser, "new_password", "Password1").await?;
    wait_for(browser, Locator::Css("#password-strength .meter-why:not([hidden])"))
        .await
        .map_err(|e| format!("no reason for a compliant but weak password: {e}"))?;
    let (_, why, met) = meter_state(browser).await?;
    if met.len() != 4 || !why.contains("most used passwords") {
        return Err(format!("Password1: rules ticked {met:?}, reason {why:?}").into());
    }
    screenshot(browser, "new-password-weak.png").await?;
    fill(browser, "new_password", STRONG).await?;
    let meter = wait_for(browser, Locator::XPath(STRENGTH_OK))
        .await
        .map_err(|e| format!("the strength meter never read OK for a strong password: {e}"))?;
    let text = meter.text().await?;
    if text.to_lowercase().contains("weak") || text.contains("faible") {
        return Err(format!("meter reads {text:?} for a strong password").into());
    }
    let (_, why, met) = meter_state(browser).await?;
    if met.len() != 4 || !why.is_empty() {
        return Err(format!("strong: rules ticked {met:?}, reason {why:?}").into());
    }
    fill(browser, "confirm_password", STRONG).await?;
    screenshot(browser, "new-password.png").await?;
    submit_form_of(browser, "confirm_password").await?;

    // Landed in the back office, with its menu.
    wait_for_path(browser, "/orders").await?;
    wait_for(browser, Locator::Css("nav a[href=\"/orders\"]"))
        .await
        .map_err(|e| format!("no back-office menu (a <nav> linking to /orders) on /orders: {e}"))?;
    screenshot(browser, "orders.png").await?;
    axe(browser, "the orders screen").await?;

    // The other back-office screens, on a desktop and on a phone.
    for (path, name, ready) in [
        ("/settings/shop", "settings", "input[name=\"validity_days\"]"),
        ("/users/new", "user-new", "input[name=\"first_login_code\"]"),
        ("/audit", "audit", "table"),
    ] {
        browser.goto(&app.url(path)).await?;
        wait_for(browser, Locator::Css(ready)).await?;
        screenshot(browser, &format!("{name}.png")).await?;
    }
    set_viewport(browser, 360, 740).await?;
    for (path, name) in [("/orders", "orders-360"), ("/settings/shop", "settings-360")] {
        browser.goto(&app.url(path)).await?;
        wait_for(browser, Locator::Css("nav a[href=\"/orders\"]")).await?;
        screenshot(browser, &format!("{name}.png")).await?;
    }
    Ok(())
}

#[actix_web::test]
async fn first_login_flow_in_the_browser() {
    let app = TestApp::spawn().await;
    let created = app.create_merchant("Browser SARL", "Browser Shop", "browser.admin", "4821");

    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;

    let outcome = first_login(&browser, &app, &created.login, &created.temporary_password, "4821").await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "failure.png").await.map(|p| p.display().to_string());
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let source = browser.source().await.unwrap_or_default();
        let _ = browser.close().await;
        panic!(
            "browser flow failed: {error}\n at {url} (screenshot: {shot:?})\npage source:\n{}",
            source.chars().take(4000).collect::<String>()
        );
    }
    browser.close().await.expect("close the browser session");
}
