//! E-mail templates manager, SMS account and outbox screens (seed 001 §1.3.1, §10.4–10.5),
//! through the real forms; orders are created with the service, the worker runs on demand.

use chrono::NaiveDate;
use fantoccini::Locator;

use paylink::db::DbError;
use paylink::domain::api_key::Mode;
use paylink::domain::ids::{ShopId, UserId};
use paylink::domain::order::Channel;
use paylink::domain::order_form::{AmountInput, OrderDraft, RawOrder};
use paylink::services::ServiceError;
use paylink::services::merchants::CreatedMerchant;
use paylink::services::orders::{self, OrderContext};
use paylink::store::audit::Actor;
use paylink::store::{shops, sms as sms_store, templates};

use crate::browser::{ChromeDriver, fill, screenshot, set_viewport, submit_form_of, wait_for, wait_for_path};
use crate::helpers::{Client, Page, STRONG, TestApp};
use crate::users::create_user_via_ui;

const CODE: &str = "4821";

/// A merchant (Acme) whose admin completed the first login.
async fn acme() -> (TestApp, CreatedMerchant, Client) {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", CODE);
    let client = app.client();
    app.log_in_first_time(&client, &m, CODE, STRONG).await;
    (app, m, client)
}

fn stored_templates(app: &TestApp, shop: ShopId) -> Vec<templates::Template> {
    app.db.read_blocking(|conn| templates::list(conn, shop).map_err(DbError::from)).unwrap()
}

fn template_named(app: &TestApp, shop: ShopId, name: &str) -> templates::Template {
    stored_templates(app, shop)
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no template named {name:?}"))
}

/// (name, is default) of each template of `language`, by name.
fn defaults_of(app: &TestApp, shop: ShopId, language: &str) -> Vec<(String, bool)> {
    stored_templates(app, shop).into_iter().filter(|t| t.language == language).map(|t| (t.name, t.is_default)).collect()
}

/// Posts a template form with valid values, overridden by `changes`.
async fn post_template(client: &Client, path: &str, changes: &[(&str, &str)]) -> Page {
    let mut fields: Vec<(&str, &str)> = vec![
        ("name", "Relance"),
        ("language", "fr"),
        ("subject", "Rappel : commande %reference%"),
        ("body", "<p>Bonjour,</p><p>Il reste %amount% à régler avant le %end_date%.</p><p>%url%</p>"),
    ];
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        if !value.is_empty() || *name != "is_default" {
            fields.push((name, value));
        }
    }
    client.post_form(path, &fields).await
}

/// The id at the end of a `/settings/templates/{id}?m=…` redirect.
fn created_id(page: &Page) -> i64 {
    assert_eq!(page.status, 303, "{}", page.excerpt());
    let location = page.location.as_deref().unwrap();
    let path = location.split('?').next().unwrap();
    path.rsplit('/').next().unwrap().parse().unwrap_or_else(|_| panic!("no id in {location}"))
}

fn shop_of(app: &TestApp, m: &CreatedMerchant) -> shops::Shop {
    app.db.read_blocking(|conn| shops::find(conn, m.company_id, m.shop_id).map_err(DbError::from)).unwrap().unwrap()
}

/// Creates a payment order through the service, as the back office will.
fn create_order(app: &TestApp, m: &CreatedMerchant, channel: Channel, raw: RawOrder) -> i64 {
    let shop = shop_of(app, m);
    let today = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
    let draft = OrderDraft::parse(&raw, channel, &shop.settings, today, today).expect("valid order");
    let actor = Actor { company_id: Some(m.company_id), user_id: Some(UserId(0)), name: m.login.clone(), ip: None };
    let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: &app.base };
    let created = app
        .db
        .write_blocking(|conn| orders::create(conn, &app.clock, &ctx, &draft))
        .unwrap_or_else(|e: ServiceError| panic!("creating the order: {e:?}"));
    created[0].id.0
}

fn email_order(app: &TestApp, m: &CreatedMerchant) -> i64 {
    let fr = paylink::domain::template::default_email(paylink::i18n::Lang::Fr).body;
    create_order(
        app,
        m,
        Channel::Email,
        RawOrder {
            reference: "CMD-77".into(),
            amount: AmountInput::Decimal("42,50".into()),
            language: "fr".into(),
            recipients: "buyer@example.com".into(),
            subject: "Votre commande %reference%".into(),
            message: fr.into(),
            ..Default::default()
        },
    )
}

#[actix_web::test]
async fn a_new_merchant_has_the_french_and_english_defaults_and_the_settings_pages_are_linked() {
    let (_app, _m, admin) = acme().await;
    let page = admin.get("/settings/templates").await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    let rows = page.texts("table.templates-list tbody tr");
    assert_eq!(rows.len(), 5, "one default per buyer language: {rows:?}");
    // Sorted by language code: de, en, es, fr, it.
    for (row, (name, lang)) in rows.iter().zip([
        ("Standard Deutsch", "German"),
        ("Default English", "English"),
        ("Predeterminado Español", "Spanish"),
        ("Défaut Français", "French"),
        ("Predefinito Italiano", "Italian"),
    ]) {
        assert!(row.starts_with(name) && row.contains(lang), "{rows:?}");
    }
    assert_eq!(page.count("tr.is-default"), 5, "each is the default of its language");
    assert_eq!(page.texts("tr.is-default td.default-mark").len(), 5);
    assert!(page.texts("tr.is-default td.default-mark")[0].contains('✓'));

    // Every settings page carries the same sub-navigation, the current page marked.
    for (path, current) in [
        ("/settings/shop", "/settings/shop"),
        ("/settings/instalments", "/settings/instalments"),
        ("/settings/templates", "/settings/templates"),
        ("/settings/sms", "/settings/sms"),
        ("/settings/outbox", "/settings/outbox"),
    ] {
        let page = admin.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.excerpt());
        let links: Vec<String> =
            ["/settings/shop", "/settings/instalments", "/settings/templates", "/settings/sms", "/settings/outbox"]
                .iter()
                .filter(|href| page.count(&format!("nav.subnav a[href=\"{href}\"]")) == 1)
                .map(|s| s.to_string())
                .collect();
        assert_eq!(links.len(), 5, "{path} links the five settings pages");
        assert_eq!(page.attr("nav.subnav a[aria-current=page]", "href").as_deref(), Some(current), "{path}");
        assert_eq!(
            page.texts("nav.subnav a"),
            [
                "Shop",
                "Collection form",
                "Instalments",
                "E-mail templates",
                "SMS",
                "Notifications",
                "Payment services",
                "Outbox"
            ]
        );
    }
    // And in French.
    let page = admin.get("/lang/fr?next=/settings/templates").await;
    let page = admin.follow(&page).await;
    assert_eq!(page.texts("h1"), ["Modèles d'e-mail de la boutique"], "{}", page.excerpt());
    assert!(page.texts("table.templates-list tbody tr")[3].contains("Français"));
    assert!(page.texts("table.templates-list tbody tr")[0].contains("Allemand"));
}

#[actix_web::test]
async fn templates_are_created_from_the_default_edited_duplicated_and_deleted() {
    let (app, m, admin) = acme().await;
    // The new form is prefilled with the default of the chosen language.
    let form = admin.get("/settings/templates/new?language=fr").await;
    assert_eq!(form.status, 200, "{}", form.excerpt());
    assert_eq!(form.attr("#name", "value").as_deref(), Some("New template"));
    assert_eq!(form.attr("#language option[selected]", "value").as_deref(), Some("fr"));
    assert_eq!(form.attr("#subject", "value").as_deref(), Some("Votre ordre de paiement"));
    assert!(form.texts("#body")[0].starts_with("<p>Message envoyé par %shop_name%</p>"), "{:?}", form.texts("#body"));
    assert!(form.attr("#is_default", "checked").is_none());
    // The variables and their meaning sit beside the editor.
    let help = form.texts(".variables dt");
    assert_eq!(help.len(), 8, "{help:?}");
    for v in paylink::domain::template::VARIABLES {
        assert!(help.contains(&v.to_string()), "{v} is explained");
    }
    assert!(form.texts(".variables dd").iter().any(|d| d.contains("added at the end")));
    let en = admin.get("/settings/templates/new?language=en").await;
    assert_eq!(en.attr("#subject", "value").as_deref(), Some("Your payment order"));
    assert_eq!(en.attr("#language option[selected]", "value").as_deref(), Some("en"));

    // Create.
    let page = post_template(&admin, "/settings/templates", &[]).await;
    let id = created_id(&page);
    let page = admin.follow(&page).await;
    assert!(page.contains("Template created."), "{}", page.excerpt());
    assert_eq!(page.attr("#name", "value").as_deref(), Some("Relance"));
    assert_eq!(page.attr("#subject", "value").as_deref(), Some("Rappel : commande %reference%"));
    assert_eq!(page.texts("h1"), ["Relance"]);
    let row = template_named(&app, m.shop_id, "Relance");
    assert_eq!((row.id, row.language.as_str(), row.is_default), (id, "fr", false));

    // Edit.
    let page = post_template(
        &admin,
        &format!("/settings/templates/{id}"),
        &[("name", "Relance courtoise"), ("language", "en"), ("subject", "Reminder %reference%")],
    )
    .await;
    page.assert_redirect(&format!("/settings/templates/{id}"));
    let page = admin.follow(&page).await;
    assert!(page.contains("Template saved."));
    assert_eq!(page.attr("#name", "value").as_deref(), Some("Relance courtoise"));
    assert_eq!(page.attr("#language option[selected]", "value").as_deref(), Some("en"));
    assert_eq!(page.attr("#subject", "value").as_deref(), Some("Reminder %reference%"));

    // Duplicate: a copy, never the default.
    let page = admin.post_form(&format!("/settings/templates/{id}/duplicate"), &[]).await;
    let copy = created_id(&page);
    assert_ne!(copy, id);
    let page = admin.follow(&page).await;
    assert!(page.contains("Copy created"), "{}", page.excerpt());
    assert_eq!(page.attr("#name", "value").as_deref(), Some("Relance courtoise (copy)"));
    assert_eq!(page.attr("#subject", "value").as_deref(), Some("Reminder %reference%"));
    assert!(page.attr("#is_default", "checked").is_none());
    let list = admin.get("/settings/templates").await;
    assert_eq!(list.count("table.templates-list tbody tr"), 7);

    // Delete, after a confirmation page (no JavaScript needed).
    let list = admin.get("/settings/templates").await;
    let ask = format!("/settings/templates/{copy}/delete");
    assert_eq!(list.count(&format!("a[href=\"{ask}\"]")), 1);
    let confirm = admin.get(&ask).await;
    assert_eq!(confirm.status, 200, "{}", confirm.excerpt());
    assert!(confirm.texts("main form p").join(" ").contains("Relance courtoise (copy)"));
    assert_eq!(confirm.attr("main form[method=post]", "action"), Some(ask.clone()));
    let page = admin.post_form(&ask, &[]).await;
    page.assert_redirect("/settings/templates");
    let page = admin.follow(&page).await;
    assert!(page.contains("Template deleted."));
    assert_eq!(page.count("table.templates-list tbody tr"), 6);
    assert!(!page.contains("(copy)"));
    assert_eq!(admin.get(&format!("/settings/templates/{copy}")).await.status, 404);
    assert_eq!(admin.post_form(&format!("/settings/templates/{copy}/delete"), &[]).await.status, 404);

    let audit = admin.get("/audit?action=template.").await;
    for action in ["template.created", "template.updated", "template.duplicated", "template.deleted"] {
        assert!(audit.contains(action), "{action} is audited");
    }
}

#[actix_web::test]
async fn each_language_keeps_exactly_one_default() {
    let (app, m, admin) = acme().await;
    let shop = m.shop_id;
    // A new French default takes the role from the old one; English is untouched.
    let page = post_template(&admin, "/settings/templates", &[("name", "Promo"), ("is_default", "on")]).await;
    let promo = created_id(&page);
    assert_eq!(defaults_of(&app, shop, "fr"), [("Défaut Français".to_string(), false), ("Promo".to_string(), true)]);
    assert_eq!(defaults_of(&app, shop, "en"), [("Default English".to_string(), true)]);
    let list = admin.get("/settings/templates").await;
    assert_eq!(
        list.texts("tr.is-default td:first-child a"),
        ["Standard Deutsch", "Default English", "Predeterminado Español", "Promo", "Predefinito Italiano"]
    );
    let page = admin.get(&format!("/settings/templates/{promo}")).await;
    assert!(page.attr("#is_default", "checked").is_some());

    // Deleting the default hands it to another template of its language.
    admin.post_form(&format!("/settings/templates/{promo}/delete"), &[]).await.assert_redirect("/settings/templates");
    assert_eq!(defaults_of(&app, shop, "fr"), [("Défaut Français".to_string(), true)]);

    // Unticking the default hands it to another template of the language, when there is one.
    let page = post_template(&admin, "/settings/templates", &[("name", "Relance")]).await;
    let relance = created_id(&page);
    assert_eq!(defaults_of(&app, shop, "fr"), [("Défaut Français".to_string(), true), ("Relance".to_string(), false)]);
    let default_fr = template_named(&app, shop, "Défaut Français").id;
    let page = post_template(
        &admin,
        &format!("/settings/templates/{default_fr}"),
        &[("name", "Défaut Français"), ("subject", "Votre ordre de paiement")],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.excerpt());
    assert_eq!(defaults_of(&app, shop, "fr"), [("Défaut Français".to_string(), false), ("Relance".to_string(), true)]);

    // The only template of a language stays its default even unticked.
    let default_en = template_named(&app, shop, "Default English").id;
    post_template(
        &admin,
        &format!("/settings/templates/{default_en}"),
        &[("name", "Default English"), ("language", "en"), ("subject", "Your payment order")],
    )
    .await
    .assert_redirect(&format!("/settings/templates/{default_en}"));
    assert_eq!(defaults_of(&app, shop, "en"), [("Default English".to_string(), true)]);

    // Moving the French default to English leaves French a default and takes English's.
    post_template(&admin, &format!("/settings/templates/{relance}"), &[("language", "en"), ("is_default", "on")])
        .await
        .assert_redirect(&format!("/settings/templates/{relance}"));
    assert_eq!(defaults_of(&app, shop, "fr"), [("Défaut Français".to_string(), true)]);
    assert_eq!(defaults_of(&app, shop, "en"), [("Default English".to_string(), false), ("Relance".to_string(), true)]);
}

#[actix_web::test]
async fn scripts_and_event_handlers_typed_in_a_template_are_gone_when_it_is_reopened() {
    let (app, m, admin) = acme().await;
    let body = "<p onclick=\"steal()\">Bonjour <script>alert('x')</script><b>cher client</b>, \
                <a href=\"javascript:alert(1)\">ici</a> <img src=x onerror=alert(2)></p>";
    let page = post_template(&admin, "/settings/templates", &[("name", "Piège"), ("body", body)]).await;
    let id = created_id(&page);
    let page = admin.get(&format!("/settings/templates/{id}")).await;
    let stored = page.texts("#body").join("");
    for bad in ["<script", "alert('x')", "onclick", "onerror", "javascript:"] {
        assert!(!stored.contains(bad), "{bad} left in {stored}");
    }
    assert!(stored.contains("<b>cher client</b>"), "{stored}");
    assert!(stored.ends_with("<p>%url%</p>"), "the link is appended when missing: {stored}");
    let row = template_named(&app, m.shop_id, "Piège");
    assert!(!row.body.contains("script") && !row.body.contains("onclick"), "{}", row.body);

    let preview = admin.get(&format!("/settings/templates/{id}/preview")).await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.count("#preview-body script"), 0);
    assert_eq!(preview.count("#preview-body [onclick]"), 0);
    assert_eq!(preview.count("#preview-body [onerror]"), 0);
    assert_eq!(preview.texts("#preview-body b"), ["cher client"]);
}

#[actix_web::test]
async fn the_preview_replaces_every_variable_with_an_example() {
    let (app, m, admin) = acme().await;
    let all = paylink::domain::template::VARIABLES.join(" | ");
    let subject = format!("Objet {}", paylink::domain::template::VARIABLES[..7].join(" "));
    let page = post_template(
        &admin,
        "/settings/templates",
        &[("name", "Tout"), ("subject", &subject), ("body", &format!("<p>{all}</p>"))],
    )
    .await;
    let id = created_id(&page);
    let preview = admin.get(&format!("/settings/templates/{id}/preview")).await;
    assert_eq!(preview.status, 200, "{}", preview.excerpt());
    let subject = preview.texts("#preview-subject").join("");
    let body = preview.texts("#preview-body").join("");
    let text = preview.texts("#preview-text").join("");
    for v in paylink::domain::template::VARIABLES {
        assert!(!subject.contains(v) && !body.contains(v) && !text.contains(v), "{v} left in the preview");
    }
    assert!(!subject.contains('%') && !body.contains('%'), "{subject} / {body}");
    // A sample order of €15.00 made today (the test clock: 15 June 2026), valid 30 days.
    assert!(subject.starts_with("Objet CMD-2026-0042 15,00 € 15/06/2026 15/07/2026 Acme Shop"), "{subject}");
    assert!(body.contains("15,00 €") && body.contains("Acme Shop") && body.contains("alice@example.com"), "{body}");
    let link = format!("{}/t/example", app.base);
    assert_eq!(preview.attr("#preview-body a", "href").as_deref(), Some(link.as_str()));
    assert!(text.contains(&link), "{text}");
    // The example values are listed beside the preview.
    let examples = preview.texts(".variables dd");
    assert_eq!(examples.len(), 8);
    assert!(examples.contains(&"15,00 €".to_string()) && examples.contains(&link), "{examples:?}");

    // The French default reads as the seed shows it; the English one in English figures.
    let default_en = stored_templates(&app, m.shop_id).into_iter().find(|t| t.language == "en").unwrap().id;
    let preview = admin.get(&format!("/settings/templates/{default_en}/preview")).await;
    let body = preview.texts("#preview-body").join("");
    assert!(body.contains("This e-mail contains a payment order of €15.00 valid until 2026-07-15"), "{body}");
    assert_eq!(preview.texts("#preview-subject"), ["Your payment order"]);
}

#[actix_web::test]
async fn bad_template_inputs_are_refused_next_to_the_field_and_nothing_is_written() {
    let (app, m, admin) = acme().await;
    let before = stored_templates(&app, m.shop_id).len();
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("name", "  ")], "name"),
        (&[("subject", "")], "subject"),
        (&[("subject", "Hello\r\nBcc: victim@example.com")], "subject"),
        (&[("language", "de")], "language"),
        (&[("body", "   ")], "body"),
    ];
    for (changes, field) in cases {
        let mut fields = vec![("name", "Essai")];
        fields.extend_from_slice(changes);
        let page = post_template(&admin, "/settings/templates", &fields).await;
        assert_eq!(page.status, 422, "{changes:?}: {}", page.excerpt());
        assert_eq!(page.count(".error"), 1, "{changes:?}: one error only");
        assert_eq!(page.count(&format!("#{field}-error")), 1, "{changes:?}: the error is next to {field}");
        assert_eq!(page.attr(&format!("#{field}"), "aria-invalid").as_deref(), Some("true"));
        assert!(page.contains("Please correct the marked fields."));
        // What was typed is kept.
        if field != "name" {
            assert_eq!(page.attr("#name", "value").as_deref(), Some("Essai"));
        }
        if field != "body" {
            assert!(page.texts("#body")[0].contains("Il reste %amount%"));
        }
        assert_eq!(stored_templates(&app, m.shop_id).len(), before, "{changes:?}: nothing written");
    }
    let page = post_template(&admin, "/settings/templates", &[("subject", &"x".repeat(201))]).await;
    assert_eq!(page.status, 422);
    assert!(page.texts("#subject-error")[0].contains("200 characters"));

    // The same on an existing template: it stays as it was.
    let default_fr = template_named(&app, m.shop_id, "Défaut Français");
    let path = format!("/settings/templates/{}", default_fr.id);
    let page = post_template(&admin, &path, &[("name", ""), ("subject", "Changed")]).await;
    assert_eq!(page.status, 422);
    assert_eq!(page.count("#name-error"), 1);
    assert_eq!(page.attr("#subject", "value").as_deref(), Some("Changed"));
    let after = template_named(&app, m.shop_id, "Défaut Français");
    assert_eq!((after.subject, after.body), (default_fr.subject, default_fr.body));
}

#[actix_web::test]
async fn the_sms_account_keeps_its_password_sealed_and_never_shows_it() {
    let (app, m, admin) = acme().await;
    let page = admin.get("/settings/sms").await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    let status = page.texts("#gateway-status").join("");
    assert!(status.contains("No SMS gateway is configured") && status.contains("held in the outbox"), "{status}");
    assert_eq!(page.attr("#credits", "value").as_deref(), Some("0"));

    // A first save needs a password.
    let page = admin
        .post_form("/settings/sms", &[("login", "acme-sms"), ("password", ""), ("default_phone", ""), ("credits", "5")])
        .await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert_eq!(page.count("#password-error"), 1);
    assert_eq!(page.attr("#login", "value").as_deref(), Some("acme-sms"));
    let account =
        |app: &TestApp| app.db.read_blocking(|conn| sms_store::get(conn, m.shop_id).map_err(DbError::from)).unwrap();
    assert!(account(&app).is_none());

    const SECRET: &str = "Gw-p4ss!word";
    let page = admin
        .post_form(
            "/settings/sms",
            &[("login", "acme-sms"), ("password", SECRET), ("default_phone", "06 12 34 56 78"), ("credits", "250")],
        )
        .await;
    page.assert_redirect("/settings/sms");
    let page = admin.follow(&page).await;
    assert!(page.contains("SMS account saved."));
    assert_eq!(page.attr("#login", "value").as_deref(), Some("acme-sms"));
    assert_eq!(page.attr("#default_phone", "value").as_deref(), Some("+33612345678"), "E.164");
    assert_eq!(page.attr("#credits", "value").as_deref(), Some("250"));
    assert_eq!(page.attr("#password", "value").as_deref(), Some(""));
    assert!(!page.contains(SECRET), "the password is never shown back");
    assert!(page.texts("#password-hint")[0].contains("Leave empty to keep it"));

    // Stored sealed under the vault key.
    let row = account(&app).expect("saved");
    assert!(!row.password_enc.contains(SECRET) && !row.password_enc.contains("p4ss"));
    let vault = app.settings.vault_key.expose();
    assert_eq!(paylink::domain::secret_box::open(vault, &row.password_enc).as_deref(), Some(SECRET));

    // An empty password keeps the stored one.
    admin
        .post_form(
            "/settings/sms",
            &[("login", "acme-sms-2"), ("password", ""), ("default_phone", ""), ("credits", "100")],
        )
        .await
        .assert_redirect("/settings/sms");
    let row = account(&app).unwrap();
    assert_eq!((row.login.as_str(), row.default_phone.as_str(), row.credits), ("acme-sms-2", "", 100));
    assert_eq!(paylink::domain::secret_box::open(vault, &row.password_enc).as_deref(), Some(SECRET));

    // Bad phone and bad credits: refused next to their field, password not echoed, nothing written.
    for (phone, credits, field) in [
        ("12", "100", "default_phone"),
        ("call me", "100", "default_phone"),
        ("", "-5", "credits"),
        ("", "lots", "credits"),
        ("", "10000001", "credits"),
    ] {
        let page = admin
            .post_form(
                "/settings/sms",
                &[
                    ("login", "acme-sms-3"),
                    ("password", "New-secret-1"),
                    ("default_phone", phone),
                    ("credits", credits),
                ],
            )
            .await;
        assert_eq!(page.status, 422, "{phone:?} {credits:?}: {}", page.excerpt());
        assert_eq!(page.count(".error"), 1);
        assert_eq!(page.count(&format!("#{field}-error")), 1, "{phone:?} {credits:?}");
        assert!(!page.contains("New-secret-1"));
        assert_eq!(page.attr("#login", "value").as_deref(), Some("acme-sms-3"), "typed values kept");
        assert_eq!(page.attr("#credits", "value").as_deref(), Some(credits));
        let row = account(&app).unwrap();
        assert_eq!((row.login.as_str(), row.credits), ("acme-sms-2", 100));
        assert_eq!(paylink::domain::secret_box::open(vault, &row.password_enc).as_deref(), Some(SECRET));
    }
    let audit = admin.get("/audit?action=shop.sms_account_changed").await;
    assert!(audit.contains("login acme-sms-2, 100 credits"), "{}", audit.excerpt());
    assert!(!audit.contains(SECRET));
}

/// The credits field is applied as a change from the balance the form showed: SMS queued
/// while the form was open are not given back by saving it, and the balance never goes
/// below zero.
#[actix_web::test]
async fn saving_the_sms_account_never_overwrites_credits_spent_meanwhile() {
    let (app, m, admin) = acme().await;
    let balance = || {
        app.db.read_blocking(|conn| sms_store::get(conn, m.shop_id).map_err(DbError::from)).unwrap().unwrap().credits
    };
    let spend = |n: i32| {
        assert!(
            app.db.write_blocking(|conn| sms_store::take_credits(conn, m.shop_id, n).map_err(DbError::from)).unwrap()
        )
    };
    let save = |credits: &'static str, seen: String| {
        let admin = &admin;
        async move {
            let fields = [
                ("login", "acme-sms"),
                ("password", "Gw-p4ss!word"),
                ("default_phone", ""),
                ("credits", credits),
                ("credits_seen", seen.as_str()),
            ];
            admin.post_form("/settings/sms", &fields).await.assert_redirect("/settings/sms");
        }
    };
    save("10", String::new()).await;
    assert_eq!(balance(), 10);
    let seen = || async { admin.get("/settings/sms").await.attr("input[name=\"credits_seen\"]", "value").unwrap() };

    let shown = seen().await;
    assert_eq!(shown, "10");
    spend(3);
    save("10", shown).await;
    assert_eq!(balance(), 7, "credits left untouched keep what was spent meanwhile");

    let shown = seen().await;
    spend(2);
    save("50", shown).await;
    assert_eq!(balance(), 48, "raised by 43 from the 7 shown");

    let shown = seen().await;
    spend(40);
    save("0", shown).await;
    assert_eq!(balance(), 0, "never below zero");

    let audit = admin.get("/audit?action=shop.sms_account_changed").await;
    assert!(audit.contains("48 credits (+43)") && audit.contains("0 credits (-48)"), "{}", audit.excerpt());
}

#[actix_web::test]
async fn the_outbox_shows_queued_then_sent_mail_and_serves_the_eml_file() {
    let (app, m, admin) = acme().await;
    let page = admin.get("/settings/outbox").await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert!(page.contains("No e-mail yet.") && page.contains("No SMS yet."));
    let banner = page.texts("#smtp-status").join("");
    assert!(banner.contains("E-mails are not going out: no mail server is configured"), "{banner}");
    assert!(!banner.contains("PAYLINK_"), "spoken to a merchant, not an operator: {banner}");

    let order = email_order(&app, &m);
    let page = admin.get("/settings/outbox").await;
    assert_eq!(page.count("#emails tbody tr"), 1, "{}", page.excerpt());
    let job: i64 = page.attr("#emails tbody tr", "id").unwrap().trim_start_matches("job-").parse().unwrap();
    assert_eq!(page.attr("#emails .job-status", "data-status").as_deref(), Some("PENDING"));
    assert_eq!(page.texts("#emails .job-status"), ["Pending"]);
    let row = page.texts("#emails tbody tr").join("");
    assert!(row.contains("buyer@example.com") && row.contains("Votre commande CMD-77"), "{row}");
    assert_eq!(page.attr("#emails tbody a[href^=\"/orders/\"]", "href"), Some(format!("/orders/{order}")));
    assert_eq!(page.count("#emails a[href$=\".eml\"]"), 0, "no file before the worker ran");
    assert_eq!(admin.get(&format!("/settings/outbox/{job}.eml")).await.status, 404);

    let report = app.run_worker().await;
    assert_eq!((report.written, report.sent), (1, 0), "{report:?}");
    let page = admin.get("/settings/outbox").await;
    assert_eq!(page.attr("#emails .job-status", "data-status").as_deref(), Some("WRITTEN"));
    assert_eq!(page.texts("#emails .job-status"), ["Written to a file, not sent"], "no SMTP: nothing left the server");
    let cells = page.texts("#emails tbody td");
    assert_eq!(cells[3], "1", "one attempt: {cells:?}");
    let link = format!("/settings/outbox/{job}.eml");
    assert_eq!(page.attr("#emails a[href$=\".eml\"]", "href"), Some(link.clone()));
    let shown_path = page.texts("#emails .file code").join("");
    let expected = app.settings.data_dir.join("outbox").join(format!("email-{job}.eml"));
    assert_eq!(shown_path, expected.display().to_string());

    let eml = admin.get(&link).await;
    assert_eq!(eml.status, 200);
    assert_eq!(eml.header("content-type").as_deref(), Some("message/rfc822"));
    assert!(eml.header("content-disposition").unwrap_or_default().contains(&format!("email-{job}.eml")));
    assert!(eml.body.contains("To: buyer@example.com"), "{}", eml.body);
    assert!(eml.body.contains("Subject:"));
    assert_eq!(eml.body.as_bytes(), std::fs::read(&expected).unwrap(), "the file as written");
    assert_eq!(admin.get("/settings/outbox/999999.eml").await.status, 404);
    assert_eq!(admin.get("/settings/outbox/abc.eml").await.status, 404);
}

#[actix_web::test]
async fn the_outbox_shows_an_sms_held_without_a_gateway_with_its_phone_and_text() {
    let (app, m, admin) = acme().await;
    admin
        .post_form(
            "/settings/sms",
            &[("login", "acme-sms"), ("password", "Gw-secret-1"), ("default_phone", ""), ("credits", "10")],
        )
        .await
        .assert_redirect("/settings/sms");
    let order = create_order(
        &app,
        &m,
        Channel::Sms,
        RawOrder {
            amount: AmountInput::Decimal("15,00".into()),
            language: "fr".into(),
            phone: "06 12 34 56 78".into(),
            ..Default::default()
        },
    );
    app.run_worker().await;
    let page = admin.get("/settings/outbox").await;
    assert_eq!(page.count("#sms tbody tr"), 1, "{}", page.excerpt());
    assert_eq!(page.attr("#sms .job-status", "data-status").as_deref(), Some("HELD"));
    assert_eq!(page.texts("#sms .to"), ["+33612345678"]);
    let text = page.texts("#sms .sms-text").join("");
    assert!(text.starts_with("Bonjour, voici un ordre de paiement de 15,00 €"), "{text}");
    assert!(text.contains(&format!("{}/t/", app.base)));
    assert_eq!(page.attr("#sms a[href^=\"/orders/\"]", "href"), Some(format!("/orders/{order}")));
    assert!(page.texts("#sms-status").join("").contains("No SMS gateway is configured"));
    // The order says why it waits, on its detail and in the list.
    let detail = admin.get(&format!("/orders/{order}")).await;
    assert_eq!(detail.texts("#delivery-status"), ["Waiting: no SMS gateway configured"], "{}", detail.excerpt());
    let held = admin.get("/orders?delivery_status=HELD").await;
    assert_eq!(held.count("a.order-link"), 1, "{}", held.excerpt());
    // An SMS is no e-mail file.
    let job = page.attr("#sms tbody tr", "id").unwrap().trim_start_matches("job-").to_string();
    assert_eq!(admin.get(&format!("/settings/outbox/{job}.eml")).await.status, 404);
}

#[actix_web::test]
async fn another_company_sees_none_of_this_shops_templates_or_files() {
    let (app, m, _admin) = acme().await;
    let tpl = template_named(&app, m.shop_id, "Défaut Français").id;
    email_order(&app, &m);
    app.run_worker().await;
    let job = app
        .db
        .read_blocking(|conn| {
            paylink::store::outbox::recent_for_shop(conn, m.shop_id, paylink::store::outbox::Kind::Email, 1)
                .map_err(DbError::from)
        })
        .unwrap()[0]
        .id;

    let beta = app.create_merchant("Beta", "Beta Shop", "bob", "9911");
    let other = app.client();
    app.log_in_first_time(&other, &beta, "9911", STRONG).await;
    for path in [
        format!("/settings/templates/{tpl}"),
        format!("/settings/templates/{tpl}/preview"),
        format!("/settings/templates/{tpl}/delete"),
        format!("/settings/outbox/{job}.eml"),
    ] {
        let page = other.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.excerpt());
    }
    for path in [
        format!("/settings/templates/{tpl}"),
        format!("/settings/templates/{tpl}/duplicate"),
        format!("/settings/templates/{tpl}/delete"),
    ] {
        let page = post_template(&other, &path, &[("name", "Volé")]).await;
        assert_eq!(page.status, 404, "POST {path}: {}", page.excerpt());
    }
    assert_eq!(template_named(&app, m.shop_id, "Défaut Français").id, tpl, "untouched");
    assert_eq!(stored_templates(&app, m.shop_id).len(), 5);
    let theirs = other.get("/settings/templates").await;
    assert_eq!(theirs.count("table.templates-list tbody tr"), 5);
    assert!(!theirs.contains(&format!("/settings/templates/{tpl}\"")));
    let outbox = other.get("/settings/outbox").await;
    assert!(outbox.contains("No e-mail yet.") && !outbox.contains("buyer@example.com"));
}

#[actix_web::test]
async fn a_viewer_sees_the_messaging_settings_but_every_change_is_refused() {
    let (app, m, admin) = acme().await;
    let victor = create_user_via_ui(&app, &admin, "victor", "viewer", "5566").await;
    let viewer = app.client();
    app.log_in_first_time(&viewer, &victor, "5566", STRONG).await;
    let tpl = template_named(&app, m.shop_id, "Défaut Français").id;

    let list = viewer.get("/settings/templates").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.count("table.templates-list tbody tr"), 5);
    assert_eq!(list.count("form.new-template"), 0);
    assert_eq!(list.count("main form[method=post]"), 0, "no write button");
    assert!(list.contains("Your role lets you view these settings, not change them."));
    let edit = viewer.get(&format!("/settings/templates/{tpl}")).await;
    assert_eq!(edit.status, 200);
    assert!(edit.attr("form.template-editor fieldset", "disabled").is_some());
    assert_eq!(edit.count("form.template-editor button"), 0);
    assert_eq!(viewer.get(&format!("/settings/templates/{tpl}/preview")).await.status, 200);
    assert_eq!(viewer.get("/settings/templates/new").await.status, 403);
    assert_eq!(viewer.get(&format!("/settings/templates/{tpl}/delete")).await.status, 403);
    let sms = viewer.get("/settings/sms").await;
    assert_eq!(sms.status, 200);
    assert!(sms.attr("form[action=\"/settings/sms\"] fieldset", "disabled").is_some());
    assert_eq!(viewer.get("/settings/outbox").await.status, 200);

    for path in [
        "/settings/templates".to_string(),
        format!("/settings/templates/{tpl}"),
        format!("/settings/templates/{tpl}/duplicate"),
        format!("/settings/templates/{tpl}/delete"),
    ] {
        let page = post_template(&viewer, &path, &[("name", "Par un lecteur")]).await;
        assert_eq!(page.status, 403, "POST {path}: {}", page.excerpt());
    }
    let page = viewer
        .post_form(
            "/settings/sms",
            &[("login", "x"), ("password", "Secret-1"), ("default_phone", ""), ("credits", "9")],
        )
        .await;
    assert_eq!(page.status, 403);
    assert_eq!(stored_templates(&app, m.shop_id).len(), 5, "nothing written");
    assert!(stored_templates(&app, m.shop_id).iter().all(|t| t.name != "Par un lecteur"));
    assert!(app.db.read_blocking(|conn| sms_store::get(conn, m.shop_id).map_err(DbError::from)).unwrap().is_none());
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

async fn browse(browser: &fantoccini::Client, app: &TestApp, tpl: i64) -> Res<()> {
    set_viewport(browser, 1280, 900).await?;
    browser.goto(&app.url("/login")).await?;
    fill(browser, "login", "alice").await?;
    fill(browser, "password", STRONG).await?;
    submit_form_of(browser, "password").await?;
    wait_for_path(browser, "/orders").await?;
    for (path, name, ready) in [
        ("/settings/templates".to_string(), "templates", "table.templates-list"),
        (format!("/settings/templates/{tpl}"), "template-editor", "textarea#body"),
        (format!("/settings/templates/{tpl}/preview"), "template-preview", "#preview-body"),
        (format!("/settings/templates/{tpl}/delete"), "template-delete", "main form[method=post]"),
        ("/settings/sms".to_string(), "sms", "input#credits"),
        ("/settings/outbox".to_string(), "outbox", "#emails"),
    ] {
        browser.goto(&app.url(&path)).await?;
        wait_for(browser, Locator::Css(ready)).await?;
        screenshot(browser, &format!("{name}.png")).await?;
    }
    // A bad subject is refused next to the field, in the browser too.
    browser.goto(&app.url(&format!("/settings/templates/{tpl}"))).await?;
    fill(browser, "subject", "").await?;
    submit_form_of(browser, "subject").await?;
    wait_for(browser, Locator::Id("subject-error")).await?;
    screenshot(browser, "template-editor-error.png").await?;

    set_viewport(browser, 360, 740).await?;
    for (path, name, ready) in [
        ("/settings/templates".to_string(), "templates-360", "table.templates-list"),
        (format!("/settings/templates/{tpl}"), "template-editor-360", "textarea#body"),
        (format!("/settings/templates/{tpl}/preview"), "template-preview-360", "#preview-body"),
        ("/settings/sms".to_string(), "sms-360", "input#credits"),
        ("/settings/outbox".to_string(), "outbox-360", "#emails"),
    ] {
        browser.goto(&app.url(&path)).await?;
        let element = wait_for(browser, Locator::Css(ready)).await?;
        screenshot(browser, &format!("{name}.png")).await?;
        // And further down, where the content starts.
        browser.execute("arguments[0].scrollIntoView();", vec![serde_json::to_value(&element)?]).await?;
        screenshot(browser, &format!("{name}-content.png")).await?;
        let overflow =
            browser.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await?;
        if overflow.as_bool() == Some(true) {
            return Err(format!("{path} scrolls sideways at 360 px").into());
        }
    }
    Ok(())
}

#[actix_web::test]
async fn messaging_screens_in_the_browser() {
    let (app, m, admin) = acme().await;
    admin
        .post_form(
            "/settings/sms",
            &[("login", "acme-sms"), ("password", "Gw-secret-1"), ("default_phone", ""), ("credits", "10")],
        )
        .await
        .assert_redirect("/settings/sms");
    email_order(&app, &m);
    create_order(
        &app,
        &m,
        Channel::Sms,
        RawOrder {
            amount: AmountInput::Decimal("15,00".into()),
            phone: "+33 6 12 34 56 78".into(),
            ..Default::default()
        },
    );
    app.run_worker().await;
    email_order(&app, &m);
    let tpl = template_named(&app, m.shop_id, "Défaut Français").id;

    let driver = ChromeDriver::start();
    let profile = tempfile::Builder::new().prefix("paylink-chromium-").tempdir().expect("profile dir");
    let browser = driver.session(profile.path()).await;
    let outcome = browse(&browser, &app, tpl).await;
    if let Err(error) = &outcome {
        let shot = screenshot(&browser, "messaging-failure.png").await.map(|p| p.display().to_string());
        let url = browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let _ = browser.close().await;
        panic!("browser flow failed: {error}\n at {url} (screenshot: {shot:?})");
    }
    browser.close().await.expect("close the browser session");
}

/// SMS credits are bought with the company's money: an admin sets them; a manager sees them
/// read-only, may change the rest of the account, and cannot change them by a forged form.
#[actix_web::test]
async fn only_an_admin_changes_the_sms_credits() {
    let (app, m, admin) = acme().await;
    let fields = |credits: &'static str| {
        [("login", "acme-sms"), ("password", "Gw-p4ss!word"), ("default_phone", ""), ("credits", credits)]
    };
    admin.post_form("/settings/sms", &fields("40")).await.assert_redirect("/settings/sms");
    let balance = || {
        app.db.read_blocking(|conn| sms_store::get(conn, m.shop_id).map_err(DbError::from)).unwrap().unwrap().credits
    };
    assert_eq!(balance(), 40);
    let page = admin.get("/settings/sms").await;
    assert_eq!(page.attr("#credits", "readonly"), None, "an admin edits them");

    let bob = create_user_via_ui(&app, &admin, "bob", "manager", "1357").await;
    let manager = app.client();
    app.log_in_first_time(&manager, &bob, "1357", STRONG).await;
    let page = manager.get("/settings/sms").await;
    assert_eq!(page.attr("#credits", "readonly").as_deref(), Some(""), "read-only for a manager");
    assert!(page.texts("#credits-hint")[0].contains("Only an administrator changes the credits."));

    // Typed (or forged) credits are refused next to the field; nothing is written.
    let page = manager
        .post_form(
            "/settings/sms",
            &[("login", "bob-sms"), ("password", ""), ("credits", "9999"), ("credits_seen", "40")],
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.excerpt());
    assert!(page.texts("#credits-error")[0].contains("Only an administrator changes the credits"));
    assert_eq!(balance(), 40);
    let login =
        || app.db.read_blocking(|conn| sms_store::get(conn, m.shop_id).map_err(DbError::from)).unwrap().unwrap().login;
    assert_eq!(login(), "acme-sms");

    // The rest of the account a manager may change; the balance stays.
    let fields = [("login", "bob-sms"), ("password", ""), ("credits", "40"), ("credits_seen", "40")];
    let page = manager.post_form("/settings/sms", &fields).await;
    page.assert_redirect("/settings/sms");
    assert_eq!((login(), balance()), ("bob-sms".to_string(), 40));
    assert!(manager.follow(&page).await.contains("SMS account saved."));
}
