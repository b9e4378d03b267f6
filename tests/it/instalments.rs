//! The shop's instalment settings page (`/settings/instalments`), through the real form: what
//! is saved is what a reload shows, each bad value is refused next to its field, a viewer, a
//! forged form and another company change nothing.

use fantoccini::Locator;

use paylink::db::DbError;
use paylink::domain::ids::ShopId;
use paylink::domain::instalments::{InstalmentSettings, Interval};
use paylink::services::merchants::CreatedMerchant;

use crate::browser::{ChromeDriver, axe, fill, screenshot, set_viewport, submit_form_of, wait_for, wait_for_path};
use crate::helpers::{Client, Page, STRONG, TestApp};
use crate::users::create_user_via_ui;

const PATH: &str = "/settings/instalments";

async fn acme() -> (TestApp, CreatedMerchant, Client) {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let client = app.client();
    app.log_in_first_time(&client, &m, "4821", STRONG).await;
    (app, m, client)
}

/// Posts the form with valid values, overridden by `changes` (a `None` leaves a field out).
async fn save(client: &Client, changes: &[(&str, Option<&str>)]) -> Page {
    let mut fields: Vec<(&str, Option<&str>)> = vec![
        ("enabled", Some("on")),
        ("max_count", Some("4")),
        ("first_share_percent", Some("50")),
        ("min_amount", Some("50,00")),
        ("interval", Some("monthly")),
        ("retry_days", Some("1,3")),
    ];
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push((name, *value));
    }
    let fields: Vec<(&str, &str)> = fields.into_iter().filter_map(|(n, v)| Some((n, v?))).collect();
    client.post_form(PATH, &fields).await
}

fn stored(app: &TestApp, shop: ShopId) -> InstalmentSettings {
    app.db.read_blocking(|conn| paylink::store::instalments::get(conn, shop).map_err(DbError::from)).unwrap()
}

/// The values the form shows.
fn shown(page: &Page) -> (bool, Vec<String>) {
    let values = ["max_count", "first_share_percent", "min_amount", "interval", "retry_days"]
        .iter()
        .map(|f| page.attr(&format!("#{f}"), "value").unwrap_or_default())
        .collect();
    (page.attr("#enabled", "checked").is_some(), values)
}

#[actix_web::test]
async fn an_admin_saves_the_settings_a_reload_shows_them_and_the_change_is_audited() {
    let (app, m, admin) = acme().await;
    let page = admin.get(PATH).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.texts("h1"), ["Payment in instalments"]);
    assert_eq!(shown(&page), (false, vec!["3".into(), "".into(), "".into(), "monthly".into(), "1,3".into()]));
    assert_eq!(page.attr("nav.subnav a[aria-current=page]", "href").as_deref(), Some(PATH));
    assert_eq!(
        page.texts("#instalments-example"),
        ["Example for 100.00 in 3: 33.33 today, 33.33 on 2026-07-15, 33.34 on 2026-08-15."],
        "the defaults, from the test clock's day"
    );
    for hint in ["first_share_percent-hint", "retry_days-hint", "interval-hint"] {
        assert_eq!(page.count(&format!("p.hint#{hint}")), 1, "{hint} explains the setting");
    }

    let page = save(&admin, &[]).await;
    page.assert_redirect(PATH);
    let page = admin.follow(&page).await;
    assert_eq!(page.texts("#flash"), ["Instalment settings saved."]);
    assert_eq!(shown(&page), (true, vec!["4".into(), "50".into(), "50.00".into(), "monthly".into(), "1,3".into()]));
    assert_eq!(
        page.texts("#instalments-example"),
        ["Example for 100.00 in 4: 50.00 today, 16.66 on 2026-07-15, 16.66 on 2026-08-15, 16.68 on 2026-09-15."]
    );
    assert_eq!(
        stored(&app, m.shop_id),
        InstalmentSettings {
            enabled: true,
            max_count: 4,
            first_share_percent: Some(50),
            min_amount: 5000,
            interval: Interval::Monthly,
            retry_days: vec![1, 3],
        }
    );
    // Unticked, an equal split every 30 days with no retry and no minimum.
    let changes = [
        ("enabled", None),
        ("first_share_percent", Some("")),
        ("min_amount", Some("")),
        ("interval", Some("30")),
        ("retry_days", Some("")),
    ];
    save(&admin, &changes).await.assert_redirect(PATH);
    let page = admin.get(PATH).await;
    assert_eq!(shown(&page), (false, vec!["4".into(), "".into(), "".into(), "30".into(), "".into()]));
    assert_eq!(stored(&app, m.shop_id).interval, Interval::Days(30));
    let audit = admin.get("/audit?action=shop.instalments_changed").await;
    assert_eq!(audit.count("tbody tr"), 2, "{}", audit.excerpt());
    let details = audit.texts("tbody td").join("\n");
    assert!(details.contains(r#"max_count: "3" -> "4""#), "{details}");
    assert!(details.contains(r#"interval: "monthly" -> "30""#), "{details}");
    assert!(audit.contains("Instalment settings changed"));
}

#[actix_web::test]
async fn each_bad_value_is_refused_next_to_its_field_and_nothing_changes() {
    let (app, m, admin) = acme().await;
    save(&admin, &[]).await.assert_redirect(PATH);
    let before = stored(&app, m.shop_id);
    for (field, value, message) in [
        ("max_count", "1", "from 2 to 12"),
        ("max_count", "13", "from 2 to 12"),
        ("first_share_percent", "0", "from 1 to 99"),
        ("first_share_percent", "100", "from 1 to 99"),
        ("min_amount", "abc", "such as 50.00"),
        ("interval", "weekly", "\"monthly\" or a number of days"),
        ("interval", "0", "\"monthly\" or a number of days"),
        ("retry_days", "3,1", "increasing order"),
        ("retry_days", "x", "increasing order"),
    ] {
        let page =
            save(&admin, &[(field, Some(value)), ("max_count", Some(if field == "max_count" { value } else { "6" }))])
                .await;
        assert_eq!(page.status, 422, "{field} = {value}: {}", page.excerpt());
        assert!(page.contains("Please correct the marked fields."));
        assert_eq!(page.count("p.error"), 1, "{field} = {value}: only its own error");
        assert!(
            page.texts(&format!("p.error#{field}-error"))[0].contains(message),
            "{field} = {value}: {}",
            page.excerpt()
        );
        assert_eq!(page.attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"));
        assert_eq!(page.attr(&format!("#{field}"), "value").as_deref(), Some(value), "what was typed is kept");
        assert_eq!(stored(&app, m.shop_id), before, "{field} = {value}: nothing written");
    }
    let page = save(&admin, &[("max_count", Some("x")), ("interval", Some("x")), ("retry_days", Some("x"))]).await;
    assert_eq!(page.count("p.error"), 3, "every refusal at once");
    let audit = admin.get("/audit?action=shop.instalments_changed").await;
    assert_eq!(audit.count("tbody tr"), 1, "only the valid save");
}

#[actix_web::test]
async fn a_viewer_reads_the_settings_and_cannot_save_them() {
    let (app, m, admin) = acme().await;
    let victor = create_user_via_ui(&app, &admin, "victor", "viewer", "5566").await;
    let viewer = app.client();
    app.log_in_first_time(&viewer, &victor, "5566", STRONG).await;
    let page = viewer.get(PATH).await;
    assert_eq!(page.status, 200);
    assert!(page.attr(&format!("form[action=\"{PATH}\"] fieldset"), "disabled").is_some());
    assert_eq!(page.count(&format!("form[action=\"{PATH}\"] button")), 0);
    assert!(page.contains("Your role lets you view these settings, not change them."));
    assert_eq!(save(&viewer, &[]).await.status, 403);
    assert_eq!(stored(&app, m.shop_id), InstalmentSettings::default(), "nothing written");
    // A manager may.
    let bob = create_user_via_ui(&app, &admin, "bob", "manager", "1357").await;
    let manager = app.client();
    app.log_in_first_time(&manager, &bob, "1357", STRONG).await;
    save(&manager, &[]).await.assert_redirect(PATH);
    assert!(stored(&app, m.shop_id).enabled);
}

#[actix_web::test]
async fn a_form_without_its_csrf_token_is_refused() {
    let (app, m, admin) = acme().await;
    admin.get(PATH).await;
    let page = admin.post_form_raw(PATH, &[("enabled", "on"), ("max_count", "4"), ("interval", "monthly")]).await;
    assert_eq!(page.status, 403);
    let page = admin.post_form_raw(PATH, &[("enabled", "on"), ("max_count", "4"), ("csrf_token", "forged")]).await;
    assert_eq!(page.status, 403);
    assert_eq!(stored(&app, m.shop_id), InstalmentSettings::default());
}

#[actix_web::test]
async fn another_company_never_sees_nor_changes_this_shop_s_settings() {
    let (app, acme_m, acme_admin) = acme().await;
    save(&acme_admin, &[("max_count", Some("7")), ("retry_days", Some("2,5,9"))]).await.assert_redirect(PATH);
    let globex = app.create_merchant("Globex", "Globex Shop", "gina", "9753");
    let gina = app.client();
    app.log_in_first_time(&gina, &globex, "9753", STRONG).await;
    let page = gina.get(PATH).await;
    assert_eq!(shown(&page), (false, vec!["3".into(), "".into(), "".into(), "monthly".into(), "1,3".into()]));
    assert!(!page.contains("2,5,9"));
    save(&gina, &[("max_count", Some("2"))]).await.assert_redirect(PATH);
    assert_eq!(stored(&app, globex.shop_id).max_count, 2);
    let acme = stored(&app, acme_m.shop_id);
    assert_eq!((acme.max_count, acme.retry_days), (7, vec![2, 5, 9]), "Acme's are untouched");
    assert_eq!(acme_admin.get(PATH).await.attr("#max_count", "value").as_deref(), Some("7"));
}

#[actix_web::test]
async fn the_page_reads_in_french() {
    let (app, _, _) = acme().await;
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", STRONG).await;
    let page = fr.get(PATH).await;
    assert_eq!(page.texts("h1"), ["Paiement en plusieurs fois"]);
    assert_eq!(
        page.texts("#instalments-example"),
        ["Exemple pour 100,00 en 3 fois : 33,33 aujourd'hui, 33,33 le 15/07/2026, 33,34 le 15/08/2026."]
    );
    let page = save(&fr, &[("min_amount", Some("12,345"))]).await;
    assert_eq!(page.status, 422);
    assert!(page.texts("#min_amount-error")[0].contains("deux décimales au plus"), "{}", page.excerpt());
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

async fn browse(browser: &fantoccini::Client, app: &TestApp) -> Res<()> {
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url("/login")).await?;
    fill(browser, "login", "alice").await?;
    fill(browser, "password", STRONG).await?;
    submit_form_of(browser, "password").await?;
    wait_for_path(browser, "/orders").await?;
    browser.goto(&app.url(PATH)).await?;
    wait_for(browser, Locator::Id("instalments-example")).await?;
    screenshot(browser, "instalments.png").await?;
    axe(browser, PATH).await?;
    fill(browser, "retry_days", "3,1").await?;
    submit_form_of(browser, "retry_days").await?;
    wait_for(browser, Locator::Id("retry_days-error")).await?;
    screenshot(browser, "instalments-error.png").await?;
    axe(browser, "the refused form").await?;
    set_viewport(browser, 360, 740).await?;
    browser.goto(&app.url(PATH)).await?;
    let example = wait_for(browser, Locator::Id("instalments-example")).await?;
    screenshot(browser, "instalments-360.png").await?;
    browser.execute("arguments[0].scrollIntoView();", vec![serde_json::to_value(&example)?]).await?;
    screenshot(browser, "instalments-360-content.png").await?;
    let overflow = browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
    if overflow.as_bool() == Some(true) {
        return Err(format!("{PATH} scrolls sideways at 360 px").into());
    }
    Ok(())
}

#[actix_web::test]
async fn the_settings_page_in_the_browser() {
    let (app, _, admin) = acme().await;
    save(&admin, &[]).await.assert_redirect(PATH);
    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = browse(&browser, &app).await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "instalments-failure.png").await.map(|p| p.display().to_string());
        let _ = browser.close().await;
        panic!("browser flow failed: {error} (screenshot: {shot:?})");
    }
    browser.close().await.expect("close the browser session");
}
