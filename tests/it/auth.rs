//! Merchant login as the Systempay FAQ describes it, through the real forms.

use crate::helpers::{Client, STRONG, TestApp};

const CODE: &str = "4821";

/// A merchant who completed the first login; returns (app, merchant login, client signed in).
pub async fn signed_in_admin() -> (TestApp, String, Client) {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    (app, m.login, client)
}

#[actix_web::test]
async fn anonymous_visitors_are_sent_to_login() {
    let app = TestApp::spawn().await;
    let client = app.client();
    for path in
        ["/", "/orders", "/transactions", "/settings/shop", "/users", "/users/1", "/audit", "/audit.csv", "/account"]
    {
        let page = client.get(path).await;
        assert_eq!(page.status, 303, "{path}: {}", page.excerpt());
        let location = page.location.clone().unwrap_or_default();
        assert!(location.starts_with("/login"), "{path} → {location}");
    }
    let page = client.get("/settings/shop").await;
    assert_eq!(page.location.as_deref(), Some("/login?next=/settings/shop"));
    // The login steps without a password first go back to the login page.
    for path in ["/login/code", "/login/new-password"] {
        client.get(path).await.assert_redirect("/login");
    }
}

#[actix_web::test]
async fn first_login_leads_through_the_code_and_a_new_password_into_the_back_office() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    let page = client.get("/login").await;
    assert!(page.contains("name=\"login\"") && page.contains("name=\"password\""));

    let orders = app.log_in_first_time(&client, &m, CODE, STRONG).await;
    assert!(orders.contains("Payment orders"), "{}", orders.excerpt());
    assert_eq!(orders.texts("nav.menu a").len(), 6, "menu: Orders, Transactions, Settings, Users, Audit, Account");

    // Logout ends it; the new password is now the password, the temporary one is gone.
    let page = client.post_form("/logout", &[]).await;
    page.assert_redirect("/login");
    client.get("/orders").await.assert_redirect("/login");
    let other = app.client();
    let page = other.post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)]).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Wrong login or password."), "{}", page.excerpt());
    assert!(page.contains("After five failures the account is locked"), "the lockout is announced: {}", page.excerpt());
    app.log_in(&other, "ALICE", STRONG).await;
}

#[actix_web::test]
async fn a_wrong_first_login_code_is_refused_and_the_step_is_kept() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    client
        .post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)])
        .await
        .assert_redirect("/login/code");
    let page = client.post_form("/login/code", &[("first_login_code", "9999")]).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Wrong first-login code."), "{}", page.excerpt());
    assert!(page.contains("never sent by e-mail"));
    // It does not claim the user chose the code at sign-up: an admin or the demo gave it.
    assert!(!page.contains("chose") && !page.contains("signed up"), "{}", page.excerpt());
    assert!(page.contains("given with your account"));
    // Still on the code step: the back office stays closed.
    client.get("/orders").await.assert_redirect("/login/code");
    client.get("/login/new-password").await.assert_redirect("/login");
    client.post_form("/login/code", &[("first_login_code", CODE)]).await.assert_redirect("/login/new-password");
}

#[actix_web::test]
async fn weak_passwords_are_refused_each_with_its_reason() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    client.post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)]).await;
    client.post_form("/login/code", &[("first_login_code", CODE)]).await.assert_redirect("/login/new-password");
    let cases = [
        ("short1A", "at least 8 characters"),
        ("alllowercase1", "upper-case letter"),
        ("ALLUPPERCASE1", "lower-case letter"),
        ("NoDigitsHere", "must contain a digit"),
        ("Password1", "too easy to guess"),
        ("Azerty123", "too easy to guess"),
    ];
    for (password, reason) in cases {
        let page = client
            .post_form("/login/new-password", &[("new_password", password), ("confirm_password", password)])
            .await;
        assert_eq!(page.status, 422, "{password}");
        let errors = page.texts("#new-error");
        assert_eq!(errors.len(), 1, "{password}: one message next to the field: {}", page.excerpt());
        assert!(errors[0].contains(reason), "{password}: {:?}", errors);
        assert!(!page.contains("Security: OK"), "{password} must not read OK");
        assert_eq!(page.texts("#password-strength .meter-label"), [""], "the field is empty again: no level shown");
    }
    let page = client
        .post_form("/login/new-password", &[("new_password", STRONG), ("confirm_password", "Kj7#vQ2m!Lp9xRW")])
        .await;
    assert_eq!(page.status, 422);
    assert!(page.texts("#confirm-error")[0].contains("do not match"));
    // The field is empty again, so the meter says nothing (it spoke while typing).
    assert_eq!(page.attr("#password-strength .meter", "hidden").as_deref(), Some(""));
    client.get("/orders").await.assert_redirect("/login/new-password");
    let page = client.post_form("/login/new-password", &[("new_password", STRONG), ("confirm_password", STRONG)]).await;
    page.assert_redirect("/orders");
}

#[actix_web::test]
async fn the_strength_meter_endpoint_reads_weak_medium_ok_in_both_languages() {
    let app = TestApp::spawn().await;
    let client = app.client_lang("fr");
    for (password, label) in
        [("Password1", "Sécurité faible"), ("Marseille13", "Sécurité moyenne"), (STRONG, "Sécurité OK")]
    {
        let page = client.post_form("/password-strength", &[("password", password)]).await;
        assert_eq!(page.status, 200);
        let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(json["label"], label, "{password}");
    }
    let english = app.client();
    let page = english.post_form("/password-strength", &[("password", "Azerty123")]).await;
    assert!(page.body.contains("Security: weak"), "{}", page.body);
    // Each rule, and why a password that meets them all is still weak.
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(json["rules"], serde_json::json!({"length": true, "upper": true, "lower": true, "digit": true}));
    assert!(json["reason"].as_str().is_some_and(|r| !r.is_empty()), "{json}");
    let page = english.post_form("/password-strength", &[("password", "abc")]).await;
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(json["rules"], serde_json::json!({"length": false, "upper": false, "lower": true, "digit": false}));
    assert_eq!(json["reason"], serde_json::Value::Null, "the unmet rules say it");
    let page = english.post_form("/password-strength", &[("password", STRONG)]).await;
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!((json["level"].as_str(), &json["reason"]), (Some("ok"), &serde_json::Value::Null));
    // Without the CSRF token the endpoint refuses: it is not a password oracle for other sites.
    let page = english.post_form_raw("/password-strength", &[("password", "Azerty123")]).await;
    assert_eq!(page.status, 403);
}

#[actix_web::test]
async fn five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it() {
    let (app, _, admin) = signed_in_admin().await;
    let bob = crate::users::create_user_via_ui(&app, &admin, "bob", "manager", "1357").await;
    let client = app.client();
    app.log_in_first_time(&client, &bob, "1357", STRONG).await;
    client.post_form("/logout", &[]).await;

    for attempt in 1..=4 {
        let page = client.post_form("/login", &[("login", "bob"), ("password", "Wrong-password-1")]).await;
        assert_eq!(page.status, 200, "attempt {attempt}");
        assert!(page.contains("Wrong login or password."), "attempt {attempt}");
    }
    let page = client.post_form("/login", &[("login", "bob"), ("password", "Wrong-password-1")]).await;
    page.assert_redirect("/login/locked");
    let locked = client.follow(&page).await;
    assert_eq!(locked.status, 403);
    assert!(locked.contains("This account is locked after 5 failed sign-in attempts."));
    assert!(locked.contains("administrator"), "says how to get it reset");

    // The right password does not open a locked account.
    let page = client.post_form("/login", &[("login", "bob"), ("password", STRONG)]).await;
    page.assert_redirect("/login/locked");

    // The admin sees it locked and unlocks it.
    let users = admin.get("/users").await;
    assert!(users.contains("Locked"), "{}", users.excerpt());
    let bob_id = crate::users::user_id(&app, "bob");
    let page = admin.post_form(&format!("/users/{bob_id}/unlock"), &[]).await;
    page.assert_redirect(&format!("/users/{bob_id}"));
    app.log_in(&client, "bob", STRONG).await;

    let audit = admin.get("/audit?action=login.locked").await;
    assert_eq!(audit.count("tbody tr"), 1, "{}", audit.excerpt());
    let audit = admin.get("/audit?action=user.unlocked").await;
    assert_eq!(audit.count("tbody tr"), 1);
}

#[actix_web::test]
async fn wrong_first_login_codes_count_towards_the_lock_too() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    client.post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)]).await;
    for _ in 1..=4 {
        let page = client.post_form("/login/code", &[("first_login_code", "0000")]).await;
        assert_eq!(page.status, 200);
    }
    client.post_form("/login/code", &[("first_login_code", "0000")]).await.assert_redirect("/login/locked");
    let page = client.post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)]).await;
    page.assert_redirect("/login/locked");
}

#[actix_web::test]
async fn the_session_cookie_is_httponly_samesite_and_rotated_at_each_step() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    let page = client.post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)]).await;
    let first = page.set_cookie("paylink_session").expect("session cookie at login");
    assert!(first.contains("HttpOnly"), "{first}");
    assert!(first.contains("SameSite=Lax"), "{first}");
    assert!(!first.contains("Secure"), "plain http on loopback");
    let page = client.post_form("/login/code", &[("first_login_code", CODE)]).await;
    let second = page.set_cookie("paylink_session").expect("new session id after the code");
    let page = client.post_form("/login/new-password", &[("new_password", STRONG), ("confirm_password", STRONG)]).await;
    let third = page.set_cookie("paylink_session").expect("new session id once signed in");
    let value = |c: &str| c.split(';').next().unwrap().to_string();
    assert_ne!(value(&first), value(&second));
    assert_ne!(value(&second), value(&third));

    // The pre-login session id opens nothing (no fixation).
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = replay.get(app.url("/orders")).header("cookie", value(&first)).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let res = replay.get(app.url("/orders")).header("cookie", value(&third)).send().await.unwrap();
    assert_eq!(res.status(), 200, "the current id works");
}

#[actix_web::test]
async fn logout_really_ends_the_session_on_the_server() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    let page = client.post_form("/login", &[("login", "alice"), ("password", &m.temporary_password)]).await;
    drop(page);
    client.post_form("/login/code", &[("first_login_code", CODE)]).await;
    let page = client.post_form("/login/new-password", &[("new_password", STRONG), ("confirm_password", STRONG)]).await;
    let cookie = page.set_cookie("paylink_session").unwrap().split(';').next().unwrap().to_string();
    client.post_form("/logout", &[]).await.assert_redirect("/login");
    // A copy of the cookie kept from before logout no longer opens the back office.
    let replay = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = replay.get(app.url("/orders")).header("cookie", cookie).send().await.unwrap();
    assert_eq!(res.status(), 303);
}

#[actix_web::test]
async fn an_idle_session_ends_after_the_timeout() {
    let (app, _, client) = signed_in_admin().await;
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(client.get("/orders").await.status, 200, "activity keeps it alive");
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(client.get("/settings/shop").await.status, 200, "29 minutes after the last request");
    app.clock.advance(chrono::Duration::minutes(31));
    client.get("/orders").await.assert_redirect("/login");
    let report = app.run_worker().await;
    assert!(report.sessions_purged >= 1, "the worker deletes expired sessions: {report:?}");
}

#[actix_web::test]
async fn login_attempts_are_rate_limited_per_login() {
    let app = TestApp::spawn_with(&["--login-rate-per-login", "3"]).await;
    app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    for _ in 0..3 {
        assert_eq!(client.post_form("/login", &[("login", "nobody"), ("password", "x")]).await.status, 200);
    }
    let page = client.post_form("/login", &[("login", "NOBODY"), ("password", "x")]).await;
    assert_eq!(page.status, 429);
    assert!(page.contains("Too many sign-in attempts"), "{}", page.excerpt());
    // Another login is still served.
    assert_eq!(client.post_form("/login", &[("login", "alice"), ("password", "x")]).await.status, 200);
}

#[actix_web::test]
async fn login_attempts_are_rate_limited_per_ip() {
    let app = TestApp::spawn_with(&["--login-rate-per-ip", "4"]).await;
    let client = app.client();
    for i in 0..4 {
        let login = format!("user{i}");
        assert_eq!(client.post_form("/login", &[("login", &login), ("password", "x")]).await.status, 200);
    }
    assert_eq!(client.post_form("/login", &[("login", "someone"), ("password", "x")]).await.status, 429);
}

#[actix_web::test]
async fn a_reset_password_makes_the_next_login_a_first_login_again() {
    let (app, _, admin) = signed_in_admin().await;
    let bob = crate::users::create_user_via_ui(&app, &admin, "bob", "viewer", "1357").await;
    let client = app.client();
    app.log_in_first_time(&client, &bob, "1357", STRONG).await;
    let bob_id = crate::users::user_id(&app, "bob");
    let page = admin.post_form(&format!("/users/{bob_id}/reset-password"), &[]).await;
    assert_eq!(page.status, 200);
    let temporary = page.attr("#temporary-password", "value").expect("temporary password shown once");
    // Bob's open session ended with the reset.
    client.get("/orders").await.assert_redirect("/login");
    // The old password no longer works; the new temporary one asks for the code again.
    assert_eq!(client.post_form("/login", &[("login", "bob"), ("password", STRONG)]).await.status, 200);
    client.post_form("/login", &[("login", "bob"), ("password", &temporary)]).await.assert_redirect("/login/code");
}

#[actix_web::test]
async fn language_follows_accept_language_and_the_switch_is_kept() {
    let app = TestApp::spawn().await;
    let fr = app.client_lang("fr-FR,fr;q=0.9");
    let page = fr.get("/login").await;
    assert!(page.contains("<html lang=\"fr\">") && page.contains("Se connecter"));
    let page = fr.get("/lang/en?next=/login").await;
    page.assert_redirect("/login");
    let cookie = page.set_cookie("paylink_lang").unwrap();
    assert!(cookie.contains("Max-Age"), "kept: {cookie}");
    let page = fr.get("/login").await;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Sign in"), "the choice wins over the header");
    let page = fr.post_form("/login", &[("login", "nobody"), ("password", "x")]).await;
    assert!(page.contains("Wrong login or password."));
    fr.get("/lang/fr?next=https://evil.example/").await.assert_redirect("/login");
    let page = fr.post_form("/login", &[("login", "nobody"), ("password", "x")]).await;
    assert!(page.contains("Identifiant ou mot de passe incorrect."));
    assert_eq!(fr.get("/lang/de").await.status, 404);
}

#[actix_web::test]
async fn after_login_only_local_destinations_are_followed() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    client.post_form("/logout", &[]).await;
    let page =
        client.post_form("/login", &[("login", "alice"), ("password", STRONG), ("next", "/settings/shop")]).await;
    page.assert_redirect("/settings/shop");
    client.post_form("/logout", &[]).await;
    let page =
        client.post_form("/login", &[("login", "alice"), ("password", STRONG), ("next", "//evil.example/x")]).await;
    page.assert_redirect("/orders");
}

/// The audit log and "last sign-in" speak like the rest of the back office: times in the
/// shop's zone, in the user's language's format; actions in words (their code beside, for
/// the filter).
#[actix_web::test]
async fn the_audit_log_and_last_sign_in_read_in_the_shops_zone_and_the_users_language() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client_lang("fr");
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    let now = paylink::domain::clock::Clock::now(&app.clock).naive_utc();
    let paris = now.and_utc().with_timezone(&chrono_tz::Europe::Paris);
    let local = paris.format("%d/%m/%Y %H:%M").to_string();
    assert_ne!(paris.format("%H").to_string(), now.format("%H").to_string(), "the zone shows: Paris is not UTC");

    let audit = client.get("/audit?action=login.first_login_code_ok").await;
    assert_eq!(audit.status, 200, "{}", audit.excerpt());
    let cells = audit.texts("tbody tr:first-child td");
    assert_eq!(cells[0], local, "Paris time, French format");
    assert_eq!(cells[3], "Code de première connexion accepté login.first_login_code_ok", "in words, the code beside");
    assert!(audit.texts("thead th")[0].contains("Europe/Paris"), "the zone is named");
    assert_eq!(
        audit.attr("tbody tr:first-child time", "datetime").unwrap(),
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "the UTC instant kept for the curious"
    );
    let users = client.get("/users").await;
    assert!(users.texts("tbody td").contains(&local), "last sign-in likewise: {:?}", users.texts("tbody td"));

    // In English, the English words and format.
    let en = app.client_lang("en");
    app.log_in(&en, "alice", STRONG).await;
    let audit = en.get("/audit?action=login.succeeded").await;
    assert_eq!(audit.texts("tbody tr:first-child td")[3], "Signed in login.succeeded");
    assert_eq!(audit.texts("tbody tr:first-child td")[0], paris.format("%Y-%m-%d %H:%M").to_string());
}
