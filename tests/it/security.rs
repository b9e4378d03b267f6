//! CSRF on every form, security headers on every response, and one company's data invisible
//! to another's users, per route.

use crate::auth::signed_in_admin;
use crate::helpers::{STRONG, TestApp};

#[actix_web::test]
async fn every_post_without_a_valid_csrf_token_is_refused_with_a_clear_page() {
    let (app, _, admin) = signed_in_admin().await;
    let alice = crate::users::user_id(&app, "alice");
    let posts = [
        "/login".to_string(),
        "/login/code".into(),
        "/login/new-password".into(),
        "/logout".into(),
        "/password-strength".into(),
        "/context".into(),
        "/settings/shop".into(),
        "/settings/keys/test".into(),
        "/users".into(),
        format!("/users/{alice}"),
        format!("/users/{alice}/reset-password"),
        format!("/users/{alice}/unlock"),
        "/account/password".into(),
    ];
    let stranger = app.client();
    let foreign_token = stranger.get("/login").await.csrf().unwrap();
    for path in &posts {
        let page = admin.post_form_raw(path, &[("label", "x")]).await;
        assert_eq!(page.status, 403, "POST {path} without token");
        assert!(page.contains("Form expired") && page.contains("Reload the page"), "POST {path}: {}", page.excerpt());
        let page = admin.post_form_raw(path, &[("csrf_token", &foreign_token)]).await;
        assert_eq!(page.status, 403, "POST {path} with another browser's token");
        let page = admin.post_form_raw(path, &[("csrf_token", "forged")]).await;
        assert_eq!(page.status, 403, "POST {path} with a forged token");
    }
    // Still signed in, and nothing changed.
    assert_eq!(admin.get("/orders").await.status, 200);
    let csrf_refusals = admin.get("/audit").await;
    assert!(!csrf_refusals.contains("shop.settings_changed"));
}

#[actix_web::test]
async fn security_headers_are_on_every_response_error_pages_included() {
    let (app, _, admin) = signed_in_admin().await;
    let anonymous = app.client();
    let responses = vec![
        ("login", anonymous.get("/login").await),
        ("redirect", anonymous.get("/orders").await),
        ("not found", anonymous.get("/no/such/page").await),
        ("csrf refusal", anonymous.post_form_raw("/login", &[]).await),
        ("back office", admin.get("/settings/shop").await),
        ("forbidden", admin.post_form("/settings/keys/other", &[]).await),
        ("static", anonymous.get("/static/app.css").await),
        ("health", anonymous.get("/healthz").await),
    ];
    for (what, page) in responses {
        let csp = page.header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{what}: no inline script");
        assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
        assert_eq!(page.header("referrer-policy").as_deref(), Some("no-referrer"), "{what}");
        assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"), "{what}");
    }
    let page = anonymous.get("/no/such/page").await;
    assert_eq!(page.status, 404);
    assert!(page.contains("Page not found"), "a clear error page: {}", page.excerpt());
    // No inline script anywhere: every script is a file of our own.
    let page = admin.get("/account").await;
    assert!(!page.body.contains("<script>") && page.contains("src=\"/static/password-meter.js\""));
}

#[actix_web::test]
async fn another_company_sees_nothing_of_this_one() {
    let (app, _, acme) = signed_in_admin().await;
    let acme_user = crate::users::create_user_via_ui(&app, &acme, "bob", "viewer", "1357").await;
    let bob = crate::users::user_id(&app, "bob");
    let alice = crate::users::user_id(&app, "alice");
    let acme_shop = app
        .db
        .read_blocking(|conn| {
            paylink::store::shops::list_for_company(conn, paylink::domain::ids::CompanyId(1))
                .map_err(paylink::db::DbError::from)
        })
        .unwrap()[0]
        .id
        .0;
    save_label(&acme, "Acme Secret Shop").await;

    let globex = app.create_merchant("Globex", "Globex Shop", "gina", "9753");
    let gina = app.client();
    app.log_in_first_time(&gina, &globex, "9753", STRONG).await;

    for id in [bob, alice] {
        assert_eq!(gina.get(&format!("/users/{id}")).await.status, 404, "GET /users/{id}");
        for action in ["", "/reset-password", "/unlock"] {
            let page = gina
                .post_form(&format!("/users/{id}{action}"), &[("email", "x@example.com"), ("role", "viewer")])
                .await;
            assert_eq!(page.status, 404, "POST /users/{id}{action}");
        }
    }
    let page = gina.post_form("/context", &[("shop_id", &acme_shop.to_string())]).await;
    assert_eq!(page.status, 404, "cannot switch to another company's shop");
    let users = gina.get("/users").await;
    assert!(!users.contains("alice") && !users.contains("bob"), "{}", users.excerpt());
    let audit = gina.get("/audit").await;
    assert!(!audit.contains("alice") && !audit.contains("Acme"), "{}", audit.excerpt());
    let csv = gina.get("/audit.csv").await;
    assert!(!csv.body.contains("alice"));
    for path in ["/settings/shop", "/orders", "/transactions", "/account"] {
        let page = gina.get(path).await;
        assert!(!page.contains("Acme"), "{path} shows another company's data");
    }
    // Creating a user on another company's shop is refused too.
    let page = gina
        .post_form(
            "/users",
            &[
                ("login", "intruder"),
                ("email", "i@example.com"),
                ("role", "viewer"),
                ("first_login_code", "1234"),
                ("shops", &acme_shop.to_string()),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    // And Bob's account is untouched.
    let client = app.client();
    app.log_in_first_time(&client, &acme_user, "1357", STRONG).await;
}

async fn save_label(client: &crate::helpers::Client, label: &str) {
    crate::settings::save_settings(client, &[("label", label)]).await.assert_redirect("/settings/shop");
}

#[actix_web::test]
async fn the_audit_log_is_append_only_in_the_database() {
    let app = TestApp::spawn().await;
    app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let result = app.db.write_blocking(|conn| {
        use diesel::prelude::*;
        diesel::update(paylink::db::schema::audit_log::table)
            .set(paylink::db::schema::audit_log::detail.eq("rewritten"))
            .execute(conn)
            .map_err(paylink::db::DbError::from)
    });
    assert!(result.is_err(), "UPDATE refused");
    let result = app.db.write_blocking(|conn| {
        use diesel::prelude::*;
        diesel::delete(paylink::db::schema::audit_log::table).execute(conn).map_err(paylink::db::DbError::from)
    });
    assert!(result.is_err(), "DELETE refused");
}

#[actix_web::test]
async fn the_audit_csv_is_a_bom_prefixed_export_of_the_filtered_log() {
    let (app, _, admin) = signed_in_admin().await;
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", STRONG).await;
    let csv = fr.get("/audit.csv?action=login.").await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.body.starts_with('\u{feff}'), "BOM for spreadsheets");
    let mut lines = csv.body.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("id;created_at_utc;actor;ip;shop_id;action;target;detail"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().all(|r| r.contains(";login.")), "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("login.succeeded")));
    let en = admin.get("/audit.csv").await;
    assert!(en.body.contains("id,created_at_utc,actor"), "comma in English");
}

#[actix_web::test]
async fn audit_pages_are_keyset_paginated() {
    let app = TestApp::spawn_with(&["--login-rate-per-ip", "1000", "--login-rate-per-login", "1000"]).await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let admin = app.client();
    app.log_in_first_time(&admin, &m, "4821", STRONG).await;
    for _ in 0..60 {
        app.client().post_form("/login", &[("login", "alice"), ("password", "x")]).await;
        app.db
            .write_blocking(|conn| {
                use diesel::prelude::*;
                diesel::update(paylink::db::schema::users::table)
                    .set(paylink::db::schema::users::failed_logins.eq(0))
                    .execute(conn)
                    .map_err(paylink::db::DbError::from)
            })
            .unwrap();
    }
    let first = admin.get("/audit").await;
    assert_eq!(first.count("tbody tr"), 50);
    let older = first.attr("a.button[href^=\"/audit?\"]", "href").expect("a link to older entries");
    assert!(older.contains("before="), "{older}");
    let second = admin.get(&older).await;
    assert!(second.count("tbody tr") >= 10);
    let first_ids: Vec<String> = first.texts("tbody tr td:first-child");
    let second_ids: Vec<String> = second.texts("tbody tr td:first-child");
    assert!(first_ids.last() >= second_ids.first(), "newest first, no overlap");
}
