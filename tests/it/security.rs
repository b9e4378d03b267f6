//! CSRF on every form, security headers on every response, and one company's data invisible
//! to another's users, per route.

use crate::auth::signed_in_admin;
use crate::helpers::{STRONG, TestApp};
use paylink::domain::order::Channel;
use paylink::domain::order_form::{AmountInput, RawOrder};

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
    assert!(
        !page.body.contains("<script>")
            && page.attr("script[src]", "src").is_some_and(|s| s.starts_with("/static/password-meter."))
    );
}

#[actix_web::test]
async fn another_company_sees_nothing_of_this_one() {
    let app = TestApp::spawn().await;
    let acme_merchant = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let acme = app.client();
    app.log_in_first_time(&acme, &acme_merchant, "4821", STRONG).await;
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
    // Real data to leak: a paid order and its transaction, both visible to Acme's own admin.
    let raw = RawOrder {
        reference: "ACME-SECRET-7".into(),
        amount: AmountInput::Decimal("77,77".into()),
        ..Default::default()
    };
    let acme_order = crate::delivery::create_orders(&app, &acme_merchant, Channel::Url, raw).remove(0);
    let acme_tx = crate::transactions::pay(&app, &acme_merchant, &acme_order);
    let order_path = format!("/orders/{}", acme_order.id);
    let tx_path = format!("/transactions/{}", acme_tx.id);
    assert!(acme.get("/orders").await.contains("ACME-SECRET-7"), "control: Acme lists its order");
    assert!(acme.get("/transactions?tab=all").await.contains("ACME-SECRET-7"), "control: Acme lists its payment");
    assert_eq!(acme.get(&order_path).await.status, 200, "control: Acme opens its order");
    assert_eq!(acme.get(&tx_path).await.status, 200, "control: Acme opens its transaction");

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
    for path in [
        "/settings/shop",
        "/orders",
        "/orders.csv",
        "/transactions",
        "/transactions?tab=all",
        "/transactions.csv?tab=all",
        "/account",
    ] {
        let page = gina.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.contains("Acme") && !page.contains("ACME-SECRET-7"), "{path} shows another company's data");
        assert!(!page.contains("77.77") && !page.contains("77,77"), "{path} shows another company's amount");
    }
    // Searching for it by reference finds nothing (the search box echoes the text typed).
    let search = gina.get("/orders?reference=ACME-SECRET-7").await;
    assert_eq!(search.status, 200);
    assert_eq!(search.count("tbody tr"), 0, "{}", search.excerpt());
    assert!(search.contains("No order matches"), "{}", search.excerpt());
    for path in [
        order_path.clone(),
        format!("{order_path}/message"),
        format!("{order_path}/edit"),
        format!("{order_path}/duplicate"),
        format!("{order_path}/qr.svg"),
        tx_path.clone(),
    ] {
        let page = gina.get(&path).await;
        assert_eq!(page.status, 404, "GET {path}");
        assert!(!page.contains("ACME-SECRET-7"), "GET {path} leaks the order");
    }
    for action in ["cancel", "resend", "mark-sent"] {
        let page = gina.post_form(&format!("{order_path}/{action}"), &[]).await;
        assert_eq!(page.status, 404, "POST {order_path}/{action}");
    }
    for action in ["validate", "capture", "cancel"] {
        let page = gina.post_form(&format!("{tx_path}/{action}"), &[]).await;
        assert_eq!(page.status, 404, "POST {tx_path}/{action}");
    }
    // Nothing of Acme's changed through those attempts.
    let order_page = acme.get(&order_path).await;
    assert_eq!(order_page.status, 200);
    assert!(order_page.contains("ACME-SECRET-7"));
    assert_eq!(
        crate::delivery::reload(&app, &acme_order).status,
        paylink::domain::order::OrderStatus::Paid,
        "the order is still paid"
    );
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
    assert_append_only_refusal(result, "UPDATE");
    let result = app.db.write_blocking(|conn| {
        use diesel::prelude::*;
        diesel::delete(paylink::db::schema::audit_log::table).execute(conn).map_err(paylink::db::DbError::from)
    });
    assert_append_only_refusal(result, "DELETE");
    // And the rows are all still there, unchanged.
    let details: Vec<String> = app
        .db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            paylink::db::schema::audit_log::table
                .select(paylink::db::schema::audit_log::detail)
                .load::<String>(conn)
                .map_err(paylink::db::DbError::from)
        })
        .unwrap();
    assert!(!details.is_empty(), "creating the merchant was audited");
    assert!(details.iter().all(|d| d != "rewritten"), "{details:?}");
}

/// The refusal comes from the database trigger, not from any other failure (a bad
/// connection, a typo in the query): a query error carrying the trigger's message.
fn assert_append_only_refusal(result: Result<usize, paylink::db::DbError>, what: &str) {
    match result {
        Err(paylink::db::DbError::Query(diesel::result::Error::DatabaseError(_, info))) => {
            assert!(info.message().contains("audit_log is append-only"), "{what}: {}", info.message());
        }
        other => panic!("{what} should be refused by the append-only trigger, got {other:?}"),
    }
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
    let second = admin.get(&older).await;
    // The whole log, newest first, with its ids: what the two pages must split between them.
    let csv = admin.get("/audit.csv").await;
    let mut reader = csv::Reader::from_reader(csv.body.trim_start_matches('\u{feff}').as_bytes());
    let log: Vec<(i64, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let when = chrono::NaiveDateTime::parse_from_str(&r[1], "%Y-%m-%dT%H:%M:%SZ").unwrap();
            (r[0].parse().unwrap(), when.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        })
        .collect();
    assert!(log.len() > 60, "{} entries", log.len());
    assert!(log.windows(2).all(|w| w[0].0 > w[1].0), "the log is newest first by id");
    // The cursor is the id of the last row shown, so page two starts right after it.
    let cursor: i64 = older
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("before="))
        .unwrap_or_else(|| panic!("no before= in {older}"))
        .parse()
        .unwrap();
    assert_eq!(cursor, log[49].0, "the cursor is the 50th newest entry: {older}");
    let expected_second = (log.len() - 50).min(50);
    assert_eq!(second.count("tbody tr"), expected_second, "page two holds the next entries");
    // Each row's instant, in UTC as the export writes it (the cell shows it in the shop's zone).
    let first_times: Vec<String> = first.attrs("tbody tr td:first-child time", "datetime");
    let second_times: Vec<String> = second.attrs("tbody tr td:first-child time", "datetime");
    let expected: Vec<String> = log.iter().map(|(_, t)| t.clone()).collect();
    assert_eq!(first_times, expected[..50], "page one is the 50 newest");
    assert_eq!(second_times, expected[50..50 + expected_second], "page two continues with no overlap");
}
