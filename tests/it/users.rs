//! Users of a company: created by its admin with a role, shops and the TEST right; rights are
//! enforced per route and per shop.

use paylink::domain::ids::{CompanyId, ShopId};
use paylink::services::merchants::CreatedMerchant;

use crate::auth::signed_in_admin;
use crate::helpers::{Client, STRONG, TestApp};

pub fn user_id(app: &TestApp, login: &str) -> i64 {
    app.db
        .read_blocking(|conn| paylink::store::users::find_by_login(conn, login).map_err(paylink::db::DbError::from))
        .unwrap()
        .unwrap_or_else(|| panic!("no user {login}"))
        .id
        .0
}

pub fn user_count(app: &TestApp) -> i64 {
    app.db.read_blocking(|conn| paylink::store::users::count(conn).map_err(paylink::db::DbError::from)).unwrap()
}

/// Creates a user through the admin's form, with rights on the admin's current shop; returns
/// what the new user needs for a first login.
pub async fn create_user_via_ui(app: &TestApp, admin: &Client, login: &str, role: &str, code: &str) -> CreatedMerchant {
    create_user_with(app, admin, login, role, code, &[], true).await
}

pub async fn create_user_with(
    app: &TestApp,
    admin: &Client,
    login: &str,
    role: &str,
    code: &str,
    shops: &[i64],
    can_test: bool,
) -> CreatedMerchant {
    let form = admin.get("/users/new").await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    let email = format!("{login}@example.com");
    let default_shop = form.attr("input[name=shops][checked]", "value").expect("current shop checked");
    let shop_values: Vec<String> =
        if shops.is_empty() { vec![default_shop] } else { shops.iter().map(ToString::to_string).collect() };
    let mut fields = vec![("login", login), ("email", email.as_str()), ("role", role), ("first_login_code", code)];
    for s in &shop_values {
        fields.push(("shops", s.as_str()));
    }
    if can_test {
        fields.push(("can_test", "on"));
    }
    let page = admin.post_form("/users", &fields).await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    let temporary_password = page.attr("#temporary-password", "value").expect("temporary password shown once");
    let _ = app;
    CreatedMerchant {
        company_id: CompanyId(0),
        shop_id: ShopId(0),
        login: login.to_string(),
        temporary_password,
        test_api_key: String::new(),
        production_api_key: String::new(),
    }
}

#[actix_web::test]
async fn an_admin_creates_a_user_who_then_logs_in_with_the_chosen_code() {
    let (app, _, admin) = signed_in_admin().await;
    let carol = create_user_via_ui(&app, &admin, "carol", "manager", "7788").await;
    let list = admin.get("/users").await;
    assert!(list.contains("carol") && list.contains("First login pending"), "{}", list.excerpt());
    let client = app.client();
    let orders = app.log_in_first_time(&client, &carol, "7788", STRONG).await;
    // A manager sees no Users or Audit entries.
    let menu = orders.texts("nav.menu a");
    assert_eq!(menu, ["Payment orders", "Transactions", "Settings", "My account"]);
    let audit = admin.get("/audit?action=user.created").await;
    assert!(audit.contains("user:carol") && audit.contains("role=manager"), "{}", audit.excerpt());
}

#[actix_web::test]
async fn bad_user_input_is_refused_next_to_each_field_and_nothing_is_written() {
    let (app, _, admin) = signed_in_admin().await;
    let before = user_count(&app);
    let page = admin
        .post_form("/users", &[("login", "x"), ("email", "not-an-email"), ("role", "god"), ("first_login_code", "1")])
        .await;
    assert_eq!(page.status, 422);
    for id in ["#login-error", "#email-error", "#role-error", "#first_login_code-error"] {
        assert_eq!(page.count(id), 1, "{id}: {}", page.excerpt());
    }
    assert_eq!(page.attr("#email", "value").as_deref(), Some("not-an-email"), "what was typed is kept");
    // A login already taken, and a shop of nobody.
    let page = admin
        .post_form(
            "/users",
            &[
                ("login", "alice"),
                ("email", "a@example.com"),
                ("role", "viewer"),
                ("first_login_code", "1234"),
                ("shops", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.texts("#login-error")[0].contains("already taken"));
    let page = admin
        .post_form(
            "/users",
            &[
                ("login", "dave"),
                ("email", "d@example.com"),
                ("role", "viewer"),
                ("first_login_code", "1234"),
                ("shops", "999"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#shops-error"), 1);
    let page = admin
        .post_form(
            "/users",
            &[("login", "dave"), ("email", "d@example.com"), ("role", "viewer"), ("first_login_code", "1234")],
        )
        .await;
    assert_eq!(page.status, 422, "a viewer needs a shop");
    assert_eq!(user_count(&app), before, "nothing half-written");
}

#[actix_web::test]
async fn a_viewer_cannot_change_anything() {
    let (app, _, admin) = signed_in_admin().await;
    let victor = create_user_via_ui(&app, &admin, "victor", "viewer", "2468").await;
    let viewer = app.client();
    app.log_in_first_time(&viewer, &victor, "2468", STRONG).await;
    let alice = user_id(&app, "alice");
    let settings_before = viewer.get("/settings/shop").await;
    assert_eq!(settings_before.status, 200, "a viewer reads the settings");
    assert!(settings_before.contains("view these settings, not change them"));
    assert_eq!(settings_before.count("fieldset[disabled]"), 2);

    let writes: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/settings/shop".into(),
            vec![
                ("label", "Hacked"),
                ("contact_email", "x@example.com"),
                ("time_zone", "Europe/Paris"),
                ("validity_days", "10"),
                ("validation_mode", "AUTO"),
                ("capture_delay_days", "0"),
                ("three_ds", "NO_PREFERENCE"),
            ],
        ),
        ("/settings/keys/test".into(), vec![]),
        ("/settings/keys/production".into(), vec![]),
        (
            "/users".into(),
            vec![("login", "mallory"), ("email", "m@example.com"), ("role", "admin"), ("first_login_code", "1234")],
        ),
        (format!("/users/{alice}"), vec![("email", "x@example.com"), ("role", "viewer")]),
        (format!("/users/{alice}/reset-password"), vec![]),
        (format!("/users/{alice}/unlock"), vec![]),
    ];
    for (path, fields) in &writes {
        let page = viewer.post_form(path, fields).await;
        assert_eq!(page.status, 403, "POST {path}: {}", page.excerpt());
        assert!(page.contains("Access denied"), "POST {path} explains");
    }
    for path in ["/users", "/users/new", &format!("/users/{alice}"), "/audit", "/audit.csv"] {
        assert_eq!(viewer.get(path).await.status, 403, "GET {path}");
    }
    let settings_after = admin.get("/settings/shop").await;
    assert!(!settings_after.contains("Hacked"));
    assert_eq!(user_count(&app), 2);
    // The viewer may still change their own password.
    let page = viewer
        .post_form(
            "/account/password",
            &[("current_password", STRONG), ("new_password", "Zq8!mW3#rT6yPu"), ("confirm_password", "Zq8!mW3#rT6yPu")],
        )
        .await;
    page.assert_redirect("/account");
    assert_eq!(viewer.follow(&page).await.texts("#flash"), ["Password saved."], "said on the next page");
    assert_eq!(viewer.get("/account").await.count("#flash"), 0, "and only there");
}

#[actix_web::test]
async fn a_manager_edits_settings_but_not_keys_or_users() {
    let (app, _, admin) = signed_in_admin().await;
    let mia = create_user_via_ui(&app, &admin, "mia", "manager", "2468").await;
    let manager = app.client();
    app.log_in_first_time(&manager, &mia, "2468", STRONG).await;
    let page = manager.get("/settings/shop").await;
    assert_eq!(page.count("fieldset[disabled]"), 0);
    assert_eq!(page.count("form[action=\"/settings/keys/test\"]"), 0, "no key buttons for a manager");
    let page = crate::settings::save_settings(&manager, &[("label", "Renamed by Mia")]).await;
    page.assert_redirect("/settings/shop");
    assert_eq!(manager.post_form("/settings/keys/test", &[]).await.status, 403);
    assert_eq!(manager.get("/users").await.status, 403);
}

#[actix_web::test]
async fn an_admin_cannot_demote_themself() {
    let (app, _, admin) = signed_in_admin().await;
    let alice = user_id(&app, "alice");
    let page = admin.post_form(&format!("/users/{alice}"), &[("email", "alice@example.com"), ("role", "viewer")]).await;
    assert_eq!(page.status, 422);
    assert!(page.texts("#role-error")[0].contains("own administrator role"));
}

#[actix_web::test]
async fn rights_changes_are_saved_and_audited() {
    let (app, _, admin) = signed_in_admin().await;
    create_user_via_ui(&app, &admin, "bob", "viewer", "1357").await;
    let bob = user_id(&app, "bob");
    let page = admin.get(&format!("/users/{bob}")).await;
    let shop = page.attr("input[name=shops][checked]", "value").unwrap();
    let page = admin
        .post_form(
            &format!("/users/{bob}"),
            &[("email", "bob@example.org"), ("full_name", "Bob Martin"), ("role", "manager"), ("shops", &shop)],
        )
        .await;
    page.assert_redirect(&format!("/users/{bob}"));
    let page = admin.follow(&page).await;
    assert!(page.contains("Rights saved."));
    assert_eq!(page.attr("#email", "value").as_deref(), Some("bob@example.org"));
    assert_eq!(page.attr("#can_test[checked]", "id"), None, "TEST right removed");
    let audit = admin.get("/audit?action=user.updated").await;
    assert!(audit.contains("role=viewer, test_orders=true") && audit.contains("role=manager, test_orders=false"));
}

/// Adds a second shop to a company (the shop-creation screen comes later).
pub fn add_shop(app: &TestApp, company: i64, label: &str) -> i64 {
    use paylink::domain::shop::{OrderDefaults, ShopSettings};
    let settings = ShopSettings {
        label: label.to_string(),
        url: String::new(),
        contact_email: "shop@example.com".into(),
        time_zone: chrono_tz::Europe::Paris,
        defaults: OrderDefaults::default(),
    };
    let slug = paylink::domain::shop::slugify(label);
    app.db
        .write_blocking(|conn| {
            paylink::store::shops::insert(
                conn,
                paylink::store::shops::NewShop {
                    company_id: CompanyId(company),
                    slug: &slug,
                    settings: &settings,
                    test_key: (format!("t-{slug}"), "xxxx".into()),
                    production_key: (format!("p-{slug}"), "yyyy".into()),
                },
                chrono::Utc::now().naive_utc(),
            )
            .map_err(paylink::db::DbError::from)
        })
        .unwrap()
        .0
}

#[actix_web::test]
async fn the_shop_switcher_shows_only_granted_shops_and_test_mode_only_to_allowed_users() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Paris", "alice", "4821");
    let lyon = add_shop(&app, m.company_id.0, "Acme Lyon");
    let admin = app.client();
    let orders = app.log_in_first_time(&admin, &m, "4821", STRONG).await;
    assert_eq!(orders.count("select#shop_id option"), 2, "an admin sees every shop");
    let page = admin.post_form("/context", &[("shop_id", &lyon.to_string()), ("back", "/settings/shop")]).await;
    page.assert_redirect("/settings/shop");
    let page = admin.follow(&page).await;
    assert_eq!(page.attr("#label", "value").as_deref(), Some("Acme Lyon"));

    // A manager of Paris only, without the TEST right.
    let paris = m.shop_id.0;
    let pat = create_user_with(&app, &admin, "pat", "manager", "2468", &[paris], false).await;
    let client = app.client();
    let orders = app.log_in_first_time(&client, &pat, "2468", STRONG).await;
    assert_eq!(orders.count("select#shop_id"), 0, "one shop: no switcher");
    assert!(orders.contains("Acme Paris"));
    assert!(!orders.contains("TEST mode"), "PRODUCTION only");
    assert_eq!(orders.count("button[value=TEST]"), 0);
    let page = client.post_form("/context", &[("shop_id", &lyon.to_string())]).await;
    assert_eq!(page.status, 404, "another shop of the company is not granted");
    let page = client.post_form("/context", &[("mode", "TEST")]).await;
    assert_eq!(page.status, 403);
    let page = client.get("/settings/shop").await;
    assert_eq!(page.attr("#label", "value").as_deref(), Some("Acme Paris"));

    // The admin switches between TEST and PRODUCTION.
    let page = admin.post_form("/context", &[("mode", "PRODUCTION"), ("back", "/orders")]).await;
    let page = admin.follow(&page).await;
    assert!(page.contains("<span class=\"badge\">PRODUCTION</span>"));
    assert!(!page.contains("test-banner"));
}
