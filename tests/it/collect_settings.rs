//! The collection form's settings (issue 12, item 1): the fields asked and mandatory, three
//! custom fields, TEST/PRODUCTION with the seed's rule (PRODUCTION invoice orders only once
//! the form is in production), the preview, the audit.

use diesel::prelude::*;
use paylink::db::DbError;
use paylink::db::schema::audit_log;
use serde_json::json;

use crate::acquirer::Api;
use crate::helpers::{STRONG, TestApp};

const DEFAULTS: [(&str, &str); 8] = [
    ("field_last_name", "required"),
    ("field_first_name", "required"),
    ("field_email", "required"),
    ("field_phone", "no"),
    ("field_address", "no"),
    ("field_postal_code", "no"),
    ("field_city", "no"),
    ("field_country", "no"),
];

#[actix_web::test]
async fn the_merchant_sets_the_form_up_puts_it_in_production_and_buyers_see_it() {
    let app = TestApp::spawn().await;
    let m = app.create_merchant("Acme", "Acme Shop", "alice", "4821");
    let alice = app.client();
    app.log_in_first_time(&alice, &m, "4821", STRONG).await;
    let page = alice.get("/settings/collect-form").await;
    assert_eq!(page.status, 200, "{}", page.excerpt());
    assert_eq!(page.texts("#collect-url"), [format!("{}/collect/acme-shop", app.settings.public_url)]);
    assert_eq!(page.attr("#field_email option[selected]", "value").as_deref(), Some("required"));
    assert_eq!(page.attr("#field_phone option[selected]", "value").as_deref(), Some("no"));

    // A PRODUCTION invoice cannot be created while the form is in TEST.
    let production = Api::production(&app, &m);
    let invoice = json!({"channel": "INVOICE", "amount": 4500, "reference": "P-1"});
    let res = production.post("/api/v1/payment-orders", invoice.clone()).await;
    assert_eq!((res.status, res.code()), (400, "collect.not_in_production"), "{}", res.body);

    // PRODUCTION with the form off is refused next to the field, nothing saved.
    let mut fields: Vec<(&str, &str)> = DEFAULTS.to_vec();
    fields.push(("production", "on"));
    let refused = alice.post_form("/settings/collect-form", &fields).await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.texts("#production-error").len(), 1, "{}", refused.excerpt());
    let mut fields: Vec<(&str, &str)> = DEFAULTS.to_vec();
    fields.retain(|(k, _)| *k != "field_phone");
    fields.extend([
        ("enabled", "on"),
        ("production", "on"),
        ("title", "Régler une facture Acme"),
        ("field_phone", "required"),
        ("info1_label", "Customer number"),
        ("info1_hint", "Top right of the invoice"),
        ("info1_required", "on"),
        ("info1_min", "4"),
        ("info1_max", "10"),
        ("info2_min", "3"),
        ("info2_max", "1"),
    ]);
    let res = alice.post_form("/settings/collect-form", &fields).await;
    // Saved: an unnamed custom field (info2) is not asked, so its lengths do not count.
    res.assert_redirect("/settings/collect-form");
    let saved = alice.get("/settings/collect-form").await;
    assert_eq!(saved.attr("#field_phone option[selected]", "value").as_deref(), Some("required"));
    assert_eq!(saved.attr("#info1_label", "value").as_deref(), Some("Customer number"));
    assert_eq!(saved.attr("#production", "checked").as_deref(), Some(""));

    // The buyer's form asks them; the preview shows it as the buyer will, sending nothing.
    let preview = alice.get("/settings/collect-form/preview").await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.texts("h1"), ["Régler une facture Acme"]);
    assert_eq!(preview.count("input[name=\"phone\"][required]"), 1);
    assert_eq!(preview.count("input[name=\"info1\"][required]"), 1);
    assert_eq!(preview.count("#collect-continue[disabled]"), 1);
    assert_eq!(preview.texts("#collect-preview").len(), 1);

    // PRODUCTION invoices now, found on the form (a PRODUCTION form pays them).
    production.post("/api/v1/payment-orders", invoice).await.expect(201);
    let buyer = app.client();
    buyer.get("/collect/acme-shop").await;
    let found = buyer.post_form("/collect/acme-shop", &[("reference", "P-1")]).await;
    assert_eq!(found.status, 200, "{}", found.excerpt());
    assert_eq!(found.count("input[name=\"phone\"][required]"), 1);
    let short = buyer
        .post_form(
            "/collect/acme-shop",
            &[
                ("step", "buyer"),
                ("reference", "P-1"),
                ("last_name", "Doe"),
                ("first_name", "Jo"),
                ("email", "jo@example.com"),
                ("email_confirm", "jo@example.com"),
                ("phone", "+33 6 12 34 56 78"),
                ("info1", "12"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert_eq!(short.texts("#info1-error").len(), 1, "shorter than 4: {}", short.excerpt());

    let shop = m.shop_id.0;
    let actions: Vec<String> = app
        .db
        .read_blocking(move |conn| {
            audit_log::table
                .filter(audit_log::shop_id.eq(shop).and(audit_log::action.eq("shop.collect_form_changed")))
                .select(audit_log::detail)
                .load(conn)
                .map_err(DbError::from)
        })
        .unwrap();
    assert_eq!(actions.len(), 1, "one change saved: {actions:?}");
    assert!(actions[0].contains("TEST") && actions[0].contains("PRODUCTION"), "{actions:?}");
}
