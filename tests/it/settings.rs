//! Shop settings and API keys.

use crate::auth::signed_in_admin;
use crate::helpers::{Client, Page};

/// Posts the settings form with valid values, overridden by `changes`.
pub async fn save_settings(client: &Client, changes: &[(&str, &str)]) -> Page {
    let mut fields: Vec<(&str, &str)> = vec![
        ("label", "Acme Shop"),
        ("url", "https://acme.example"),
        ("contact_email", "shop@acme.example"),
        ("time_zone", "Europe/Paris"),
        ("validity_days", "30"),
        ("validation_mode", "AUTO"),
        ("capture_delay_days", "0"),
        ("three_ds", "NO_PREFERENCE"),
    ];
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push((name, value));
    }
    client.post_form("/settings/shop", &fields).await
}

#[actix_web::test]
async fn an_admin_edits_the_shop_defaults_and_the_change_is_audited() {
    let (_app, _, admin) = signed_in_admin().await;
    let page = admin.get("/settings/shop").await;
    assert_eq!(page.attr("#time_zone", "value").as_deref(), Some("Europe/Paris"), "default time zone");
    assert_eq!(page.attr("#validity_days", "value").as_deref(), Some("30"));
    let page = save_settings(
        &admin,
        &[
            ("time_zone", "America/Montreal"),
            ("validity_days", "90"),
            ("reference_mandatory", "on"),
            ("validation_mode", "MANUAL"),
            ("capture_delay_days", "3"),
            ("three_ds", "CHALLENGE"),
        ],
    )
    .await;
    page.assert_redirect("/settings/shop");
    let page = admin.follow(&page).await;
    assert_eq!(page.texts("#flash"), ["Settings saved."]);
    assert_eq!(admin.get("/settings/shop").await.count("#flash"), 0, "said once, not on a reload");
    assert_eq!(page.attr("#time_zone", "value").as_deref(), Some("America/Montreal"));
    assert_eq!(page.attr("#validity_days", "value").as_deref(), Some("90"));
    assert!(page.attr("#reference_mandatory", "checked").is_some());
    assert_eq!(page.attr("#validation_mode option[selected]", "value").as_deref(), Some("MANUAL"));
    assert_eq!(page.attr("#three_ds option[selected]", "value").as_deref(), Some("CHALLENGE"));
    let orders = admin.get("/orders").await;
    assert_eq!(
        orders.texts("p.defaults-line"),
        [
            "Defaults of new orders — Default validity (days, 90 at most): 90 · Validation mode: Manual · Capture delay (days): 3. Settings"
        ],
        "the orders screen shows the new defaults"
    );
    let audit = admin.get("/audit?action=shop.").await;
    let details = audit.texts("tbody td").join("\n");
    assert!(details.contains("validity_days: 30 -> 90"), "{details}");
    assert!(details.contains("three_ds: NO_PREFERENCE -> CHALLENGE"), "{details}");
}

#[actix_web::test]
async fn bad_settings_are_refused_next_to_each_field_and_nothing_changes() {
    let (_app, _, admin) = signed_in_admin().await;
    let page = save_settings(
        &admin,
        &[
            ("label", ""),
            ("url", "javascript:alert(1)"),
            ("contact_email", "nope"),
            ("time_zone", "Mars/Olympus"),
            ("validity_days", "91"),
            ("capture_delay_days", "-1"),
            ("validation_mode", "SOMETIMES"),
            ("three_ds", "ALWAYS"),
        ],
    )
    .await;
    assert_eq!(page.status, 422);
    assert!(page.contains("Please correct the marked fields."));
    for field in [
        "label",
        "url",
        "contact_email",
        "time_zone",
        "validity_days",
        "capture_delay_days",
        "validation_mode",
        "three_ds",
    ] {
        assert_eq!(page.count(&format!("#{field}-error")), 1, "{field}: {}", page.excerpt());
    }
    assert!(page.texts("#validity_days-error")[0].contains("between 1 and 90"));
    assert_eq!(page.attr("#time_zone", "value").as_deref(), Some("Mars/Olympus"), "typed values are kept");
    // One bad field alone also leaves everything as it was.
    assert_eq!(save_settings(&admin, &[("label", "New name"), ("validity_days", "0")]).await.status, 422);
    let page = admin.get("/settings/shop").await;
    assert_eq!(page.attr("#label", "value").as_deref(), Some("Acme Shop"));
    assert_eq!(page.attr("#validity_days", "value").as_deref(), Some("30"));
}

#[actix_web::test]
async fn api_keys_are_shown_once_stored_hashed_and_regenerable() {
    let (app, _, admin) = signed_in_admin().await;
    let page = admin.post_form("/settings/keys/production", &[]).await;
    assert_eq!(page.status, 200);
    let key = page.attr("#new-key", "value").expect("the new key, once");
    assert!(key.starts_with("pl_prod_") && key.len() > 40, "{key}");
    assert!(page.contains(&format!("…{}", &key[key.len() - 4..])), "the hint shows the last four");
    let again = admin.get("/settings/shop").await;
    assert!(!again.contains(&key), "never shown again");
    // The database keeps a hash, not the key.
    let (hash, hint) = app
        .db
        .read_blocking(|conn| {
            use diesel::prelude::*;
            use paylink::db::schema::shops;
            shops::table
                .select((shops::production_key_hash, shops::production_key_hint))
                .first::<(String, String)>(conn)
                .map_err(paylink::db::DbError::from)
        })
        .unwrap();
    assert_ne!(hash, key);
    assert!(!hash.contains(&key[8..20]));
    assert_eq!(hash, paylink::domain::api_key::hash_key(&key));
    assert_eq!(hint, &key[key.len() - 4..]);
    let audit = admin.get("/audit?action=shop.key_regenerated").await;
    assert_eq!(audit.count("tbody tr"), 1);
    assert!(!audit.contains(&key), "the audit log does not keep the key");
    assert_eq!(admin.post_form("/settings/keys/other", &[]).await.status, 404);
}

#[actix_web::test]
async fn the_settings_page_reads_in_french() {
    let (app, _, _) = signed_in_admin().await;
    let fr = app.client_lang("fr");
    app.log_in(&fr, "alice", crate::helpers::STRONG).await;
    let page = fr.get("/settings/shop").await;
    assert!(page.contains("Durée de validité par défaut (jours, 90 au plus)"));
    let page = save_settings(&fr, &[("validity_days", "120")]).await;
    assert!(page.texts("#validity_days-error")[0].contains("entre 1 et 90"));
}

#[actix_web::test]
async fn a_logo_is_uploaded_shown_on_the_pay_page_cached_and_an_svg_is_made_safe() {
    let app = crate::helpers::TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let admin = app.client();
    app.log_in_first_time(&admin, &m, "4821", crate::helpers::STRONG).await;
    let page = admin.get("/settings/shop").await;
    assert_eq!(page.count("form[enctype=\"multipart/form-data\"] input[type=file][name=logo]"), 1);
    assert_eq!(page.count("img.logo-preview"), 0, "no logo yet");
    // Refusals, next to the field, and nothing stored.
    let too_big = [b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; 200 * 1024]].concat();
    for (name, kind, bytes, message) in [
        ("big.png", "image/png", too_big.as_slice(), "This file is larger than 200 KB."),
        ("fake.png", "image/png", b"GIF89a not a png".as_slice(), "not a readable PNG, JPEG or SVG"),
        ("page.svg", "image/svg+xml", b"<html><script>alert(1)</script></html>".as_slice(), "not a readable"),
        ("empty.png", "image/png", b"".as_slice(), "Choose a file."),
    ] {
        let page = admin.post_file("/settings/shop/logo", "logo", name, kind, bytes, true).await;
        assert_eq!(page.status, 422, "{name}: {}", page.excerpt());
        assert!(page.texts("p.error#logo-error").join(" ").contains(message), "{name}: {}", page.excerpt());
        assert_eq!(page.attr("#logo", "aria-invalid").as_deref(), Some("true"));
    }
    // Without the CSRF token: refused.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 40 40\" onload=\"alert(1)\">\
<script>alert(2)</script><circle cx=\"20\" cy=\"20\" r=\"18\" fill=\"#1f5fbf\"/></svg>";
    let page = admin.post_file("/settings/shop/logo", "logo", "logo.svg", "image/svg+xml", svg, false).await;
    assert_eq!(page.status, 403);
    let order = crate::hardening::an_order(&app, &m);
    let pay = app.client().get(&format!("/t/{}", order.token)).await;
    assert_eq!(pay.count("img.shop-logo"), 0, "nothing was stored");

    // An SVG with a script: stored without it, shown on the pay page, cached for a year.
    let page = admin.post_file("/settings/shop/logo", "logo", "logo.svg", "image/svg+xml", svg, true).await;
    page.assert_redirect("/settings/shop");
    let settings = admin.get("/settings/shop").await;
    let href = settings.attr("img.logo-preview", "src").unwrap();
    let pay = app.client().get(&format!("/t/{}", order.token)).await;
    assert_eq!(pay.attr("img.shop-logo", "src"), Some(href.clone()));
    let res = app.client().http.get(app.url(&href)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let body = res.text().await.unwrap();
    assert!(body.contains("<circle") && !body.contains("script") && !body.contains("onload"), "{body}");
    // Another name, a wrong extension or a made-up digest: nothing.
    for wrong in [href.replace(".svg", ".png"), "/logos/000000000000000000000000.svg".into(), "/logos/x".into()] {
        assert_eq!(app.client().get(&wrong).await.status, 404, "{wrong}");
    }
    // A PNG replaces it under a new name; removing it brings back the name alone.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    let page = admin.post_file("/settings/shop/logo", "logo", "logo.png", "image/png", png, true).await;
    page.assert_redirect("/settings/shop");
    let pay = app.client().get(&format!("/t/{}", order.token)).await;
    let png_href = pay.attr("img.shop-logo", "src").unwrap();
    assert!(png_href.ends_with(".png") && png_href != href);
    assert_eq!(app.client().get(&href).await.status, 404, "the old file is gone");
    let page = admin.post_form("/settings/shop/logo/delete", &[]).await;
    page.assert_redirect("/settings/shop");
    let pay = app.client().get(&format!("/t/{}", order.token)).await;
    assert_eq!(pay.count("img.shop-logo"), 0);
    assert!(pay.texts(".shop-title").join("").contains("Acme"));
}
