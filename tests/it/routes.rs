//! Every route of the app in one table, checked against the source (a route added without a
//! line here fails), then walked: every form POST without a CSRF token is refused; every
//! back-office route naming another company's object, or an object of a shop the user has no
//! rights on, answers "not found" and changes nothing; a viewer reads and never writes; the
//! API answers "not found" to another shop's key and to the PRODUCTION key on TEST objects.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use serde_json::json;

use paylink::db::DbError;
use paylink::db::schema::{
    acquirer_operations, email_templates, outbox, payment_orders, shop_instalments, shops, sms_accounts, transactions,
    user_shops, users,
};
use paylink::domain::order::Channel;
use paylink::domain::order_form::{AmountInput, RawOrder};

use crate::helpers::{Client, Page, STRONG, TestApp};

/// What a route is, for the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Anonymous pages and probes (ops, login steps, language).
    Open,
    /// The buyer's pay pages under `/t/`.
    Pay,
    /// `/api/v1`, authenticated by keys.
    Api,
    /// Back office, a viewer may: 200 (or a redirect inside the back office).
    Read,
    /// Back office, administrators only: a viewer gets 403.
    AdminRead,
    /// Back office, a change (or the form of one): a viewer gets 403.
    Write,
    /// Back office, everyone's own business (own password, own columns, current shop).
    Own,
    /// A payment service's notification: no session, no CSRF token; verified per service.
    Hook,
}

/// What the route's path parameters name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obj {
    Nothing,
    Order,
    Transaction,
    User,
    Template,
    Job,
    OrderJob,
    Import,
    /// A notification rule (a webhook endpoint through the API).
    Rule,
    /// An event of the deliveries screen.
    Event,
    /// A payment service of the shop.
    Service,
    /// A payment request made to a service.
    Request,
}

use Kind::*;
use Obj::Nothing;

const ROUTES: &[(&str, &str, Kind, Obj)] = &[
    ("GET", "/ping", Open, Nothing),
    ("GET", "/healthz", Open, Nothing),
    ("GET", "/metrics", Open, Nothing),
    ("GET", "/static/{file}", Open, Nothing),
    ("GET", "/logos/{file}", Open, Nothing),
    ("GET", "/login", Open, Nothing),
    ("POST", "/login", Open, Nothing),
    ("GET", "/login/code", Open, Nothing),
    ("POST", "/login/code", Open, Nothing),
    ("GET", "/login/new-password", Open, Nothing),
    ("POST", "/login/new-password", Open, Nothing),
    ("GET", "/login/locked", Open, Nothing),
    ("POST", "/logout", Own, Nothing),
    ("POST", "/password-strength", Open, Nothing),
    ("GET", "/lang/{code}", Open, Nothing),
    ("GET", "/t/{token}", Pay, Nothing),
    ("POST", "/t/{token}", Pay, Nothing),
    ("GET", "/t/{token}/3ds", Pay, Nothing),
    ("POST", "/t/{token}/3ds", Pay, Nothing),
    ("POST", "/t/{token}/buyer", Pay, Nothing),
    ("GET", "/t/{token}/qr.svg", Pay, Nothing),
    ("GET", "/t/{token}/qr.png", Pay, Nothing),
    ("POST", "/t/{token}/service", Pay, Nothing),
    ("GET", "/t/{token}/return", Pay, Nothing),
    ("GET", "/t/{token}/app", Pay, Nothing),
    ("POST", "/t/{token}/app", Pay, Nothing),
    ("GET", "/t/{token}/app/simulator", Pay, Nothing),
    ("POST", "/t/{token}/app/simulator", Pay, Nothing),
    ("POST", "/notify/{service}/{shop_id}", Hook, Nothing),
    ("GET", "/wallet", Pay, Nothing),
    ("POST", "/wallet", Pay, Nothing),
    ("GET", "/wallet/{token}", Pay, Nothing),
    ("POST", "/wallet/{token}", Pay, Nothing),
    ("GET", "/collect/{slug}", Pay, Nothing),
    ("POST", "/collect/{slug}", Pay, Nothing),
    ("GET", "/api/v1/openapi.json", Api, Nothing),
    ("GET", "/api/v1/payment-orders", Api, Nothing),
    ("POST", "/api/v1/payment-orders", Api, Nothing),
    ("POST", "/api/v1/payment-orders/import", Api, Nothing),
    ("GET", "/api/v1/imports/{id}", Api, Obj::Import),
    ("GET", "/api/v1/webhook-endpoints", Api, Nothing),
    ("POST", "/api/v1/webhook-endpoints", Api, Nothing),
    ("GET", "/api/v1/webhook-endpoints/{id}", Api, Obj::Rule),
    ("DELETE", "/api/v1/webhook-endpoints/{id}", Api, Obj::Rule),
    ("GET", "/api/v1/events", Api, Nothing),
    ("GET", "/api/v1/payment-orders/{id}", Api, Obj::Order),
    ("PATCH", "/api/v1/payment-orders/{id}", Api, Obj::Order),
    ("POST", "/api/v1/payment-orders/{id}/cancel", Api, Obj::Order),
    ("POST", "/api/v1/payment-orders/{id}/reactivate", Api, Obj::Order),
    ("POST", "/api/v1/payment-orders/{id}/resend", Api, Obj::Order),
    ("GET", "/api/v1/transactions", Api, Nothing),
    ("GET", "/api/v1/transactions/{id}", Api, Obj::Transaction),
    ("POST", "/api/v1/transactions/{id}/capture", Api, Obj::Transaction),
    ("POST", "/api/v1/transactions/{id}/cancel", Api, Obj::Transaction),
    ("POST", "/api/v1/transactions/{id}/refunds", Api, Obj::Transaction),
    ("GET", "/", Read, Nothing),
    ("POST", "/context", Own, Nothing),
    ("GET", "/account", Read, Nothing),
    ("POST", "/account/password", Own, Nothing),
    ("GET", "/orders", Read, Nothing),
    ("POST", "/orders", Write, Nothing),
    ("GET", "/orders.csv", Read, Nothing),
    ("POST", "/orders/columns", Own, Nothing),
    ("GET", "/orders/new", Write, Nothing),
    ("GET", "/orders/import", Write, Nothing),
    ("POST", "/orders/import", Write, Nothing),
    ("GET", "/orders/import/{id}", Read, Obj::Import),
    ("GET", "/settings/notifications", Read, Nothing),
    ("POST", "/settings/notifications", Write, Nothing),
    ("GET", "/settings/notifications/new", Write, Nothing),
    ("GET", "/settings/notifications/deliveries", Read, Nothing),
    ("POST", "/settings/notifications/deliveries/replay", Write, Nothing),
    ("POST", "/settings/notifications/deliveries/{event}/replay", Write, Obj::Event),
    ("GET", "/settings/notifications/{id}", Read, Obj::Rule),
    ("POST", "/settings/notifications/{id}", Write, Obj::Rule),
    ("POST", "/settings/notifications/{id}/delete", Write, Obj::Rule),
    ("POST", "/settings/notifications/{id}/secret", Write, Obj::Rule),
    ("POST", "/settings/notifications/{id}/test", Write, Obj::Rule),
    ("GET", "/orders/{id}", Read, Obj::Order),
    ("GET", "/orders/{id}/message", Read, Obj::Order),
    ("GET", "/orders/{id}/qr.svg", Read, Obj::Order),
    ("GET", "/orders/{id}/qr.png", Read, Obj::Order),
    ("GET", "/orders/{id}/edit", Write, Obj::Order),
    ("POST", "/orders/{id}/edit", Write, Obj::Order),
    ("GET", "/orders/{id}/duplicate", Write, Obj::Order),
    ("POST", "/orders/{id}/resend", Write, Obj::Order),
    ("POST", "/orders/{id}/validity", Write, Obj::Order),
    ("POST", "/orders/{id}/cancel", Write, Obj::Order),
    ("POST", "/orders/{id}/reactivate", Write, Obj::Order),
    ("POST", "/orders/{id}/instalments/cancel", Write, Obj::Order),
    ("POST", "/orders/{id}/mark-sent", Write, Obj::Order),
    ("GET", "/orders/{id}/eml/{job}", Read, Obj::OrderJob),
    ("GET", "/transactions", Read, Nothing),
    ("GET", "/transactions.csv", Read, Nothing),
    ("GET", "/transactions/{id}", Read, Obj::Transaction),
    ("POST", "/transactions/{id}/validate", Write, Obj::Transaction),
    ("POST", "/transactions/{id}/capture", Write, Obj::Transaction),
    ("POST", "/transactions/{id}/capture-date", Write, Obj::Transaction),
    ("POST", "/transactions/{id}/cancel", Write, Obj::Transaction),
    ("POST", "/transactions/{id}/refunds", Write, Obj::Transaction),
    ("POST", "/transactions/{id}/saved-card/delete", Write, Obj::Transaction),
    ("GET", "/users", AdminRead, Nothing),
    ("POST", "/users", Write, Nothing),
    ("GET", "/users/new", AdminRead, Nothing),
    ("GET", "/users/{id}", AdminRead, Obj::User),
    ("POST", "/users/{id}", Write, Obj::User),
    ("POST", "/users/{id}/reset-password", Write, Obj::User),
    ("POST", "/users/{id}/unlock", Write, Obj::User),
    ("GET", "/audit", AdminRead, Nothing),
    ("GET", "/audit.csv", AdminRead, Nothing),
    ("GET", "/settings", Read, Nothing),
    ("GET", "/settings/shop", Read, Nothing),
    ("POST", "/settings/shop", Write, Nothing),
    ("POST", "/settings/keys/{mode}", Write, Nothing),
    ("POST", "/settings/shop/logo", Write, Nothing),
    ("POST", "/settings/shop/logo/delete", Write, Nothing),
    ("GET", "/settings/collect-form", Read, Nothing),
    ("POST", "/settings/collect-form", Write, Nothing),
    ("GET", "/settings/collect-form/preview", Read, Nothing),
    ("GET", "/settings/instalments", Read, Nothing),
    ("POST", "/settings/instalments", Write, Nothing),
    ("GET", "/settings/templates", Read, Nothing),
    ("POST", "/settings/templates", Write, Nothing),
    ("GET", "/settings/templates/new", Write, Nothing),
    ("GET", "/settings/templates/{id}", Read, Obj::Template),
    ("POST", "/settings/templates/{id}", Write, Obj::Template),
    ("POST", "/settings/templates/{id}/duplicate", Write, Obj::Template),
    ("GET", "/settings/templates/{id}/delete", Write, Obj::Template),
    ("POST", "/settings/templates/{id}/delete", Write, Obj::Template),
    ("GET", "/settings/templates/{id}/preview", Read, Obj::Template),
    ("GET", "/settings/sms", Read, Nothing),
    ("POST", "/settings/sms", Write, Nothing),
    ("GET", "/settings/payment-services", Read, Nothing),
    ("POST", "/settings/payment-services", Write, Nothing),
    ("GET", "/settings/payment-services/requests", Read, Nothing),
    ("GET", "/settings/payment-services/requests/{id}", Read, Obj::Request),
    ("POST", "/settings/payment-services/requests/{id}/cancel", Write, Obj::Request),
    ("POST", "/settings/payment-services/{id}/check", Write, Obj::Service),
    ("POST", "/settings/payment-services/{id}/delete", Write, Obj::Service),
    ("GET", "/settings/outbox", Read, Nothing),
    ("GET", "/settings/outbox/{id}.eml", Read, Obj::Job),
];

// ---- The table against the source --------------------------------------------------------

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/web") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literal at the start of `s` (after `"`), up to its closing quote.
fn literal(s: &str) -> &str {
    &s[..s.find('"').expect("a closed string literal")]
}

const METHODS: [(&str, &str); 5] = [
    ("web::get()", "GET"),
    ("web::post()", "POST"),
    ("web::patch()", "PATCH"),
    ("web::put()", "PUT"),
    ("web::delete()", "DELETE"),
];

/// Every method named in `s`, in order.
fn methods_in(s: &str) -> Vec<(usize, &'static str)> {
    let mut found: Vec<(usize, &'static str)> =
        METHODS.iter().flat_map(|(pat, m)| s.match_indices(pat).map(move |(i, _)| (i, *m))).collect();
    found.sort();
    found
}

/// (method, path) of every route registered under `src/web`: `.route("path", web::get()…)`
/// and `web::resource("path").route(web::get()…)…`, under a `web::scope(…)` prefix.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web"), &mut files);
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.display();
        for attr in ["#[get(", "#[post(", "#[patch(", "#[put(", "#[delete(", "#[route(", "web::service(", "App::new()"]
        {
            if attr != "App::new()" || !file.ends_with("web/mod.rs") {
                assert!(!text.contains(attr), "{name}: {attr} registers routes this scan does not read");
            }
        }
        let prefix = match text.matches("web::scope(").count() {
            0 => String::new(),
            1 => {
                let arg = &text[text.find("web::scope(").unwrap() + 11..];
                let arg = &arg[..arg.find(')').unwrap()];
                match arg.strip_prefix('"') {
                    Some(lit) => literal(lit).to_string(),
                    None => {
                        let decl = format!("const {arg}: &str = \"");
                        let at = text.find(&decl).unwrap_or_else(|| panic!("{name}: scope prefix {arg} not found"));
                        literal(&text[at + decl.len()..]).to_string()
                    }
                }
            }
            _ => panic!("{name}: several scopes; teach the route scan"),
        };
        for (at, _) in text.match_indices(".route(") {
            let rest = &text[at + 7..];
            if let Some(lit) = rest.strip_prefix('"') {
                let path = literal(lit);
                let (_, method) =
                    *methods_in(rest).first().unwrap_or_else(|| panic!("{name}: no method for route {path}"));
                assert!(prefix.is_empty(), "{name}: a plain route beside a scope");
                routes.insert((method.to_string(), path.to_string()));
            } else {
                assert!(rest.starts_with("web::"), "{name}: route registered as {:?}", &rest[..30.min(rest.len())]);
            }
        }
        let resources: Vec<usize> = text.match_indices("web::resource(").map(|(i, _)| i).collect();
        for (n, at) in resources.iter().enumerate() {
            let rest = &text[at + 14..];
            let lit = rest.strip_prefix('"').unwrap_or_else(|| panic!("{name}: a resource path not literal"));
            let path = literal(lit);
            let end = resources.get(n + 1).map(|next| next - at - 14).unwrap_or(rest.len());
            let body = &rest[..end];
            let body = &body[..body.find("default_service").unwrap_or(body.len())];
            let methods = methods_in(body);
            assert!(!methods.is_empty(), "{name}: no method for resource {path}");
            for (_, method) in methods {
                routes.insert((method.to_string(), format!("{prefix}{path}")));
            }
        }
    }
    routes
}

#[test]
fn the_route_table_knows_every_route_of_the_source() {
    let table: BTreeSet<(String, String)> = ROUTES.iter().map(|(m, p, ..)| (m.to_string(), p.to_string())).collect();
    assert_eq!(table.len(), ROUTES.len(), "a route twice in the table");
    let source = routes_in_source();
    let unknown: Vec<_> = source.difference(&table).collect();
    let gone: Vec<_> = table.difference(&source).collect();
    assert!(unknown.is_empty(), "routes in src/web the table of tests/it/routes.rs does not know: {unknown:?}");
    assert!(gone.is_empty(), "routes of the table no longer in src/web: {gone:?}");
}

// ---- The table walked against a running app --------------------------------------------

/// The ids the table's paths are filled with: Acme's objects, in its first shop, TEST mode.
struct Ids {
    order: i64,
    transaction: i64,
    user: i64,
    template: i64,
    job: i64,
    mail_order: i64,
    /// A refused import (nothing created).
    import: i64,
    /// Acme's webhook endpoint, and the event of its paid order.
    rule: i64,
    event: i64,
    /// Acme's TEST app wallet, and a payment request of its unpaid order.
    service: i64,
    request: i64,
    token: String,
}

impl Ids {
    fn fill(&self, path: &str, obj: Obj) -> String {
        let id = match obj {
            Obj::Order => self.order,
            Obj::Transaction => self.transaction,
            Obj::User => self.user,
            Obj::Template => self.template,
            Obj::Job => self.job,
            Obj::OrderJob => self.mail_order,
            Obj::Import => self.import,
            Obj::Rule => self.rule,
            Obj::Event => self.event,
            Obj::Service => self.service,
            Obj::Request => self.request,
            Obj::Nothing => 0,
        };
        path.replace("{id}", &id.to_string())
            .replace("{job}", &self.job.to_string())
            .replace("{event}", &id.to_string())
            .replace("{token}", &self.token)
            .replace("{mode}", "test")
            .replace("{code}", "en")
            .replace("{file}", "app.css")
    }
}

async fn request(client: &Client, method: &str, path: &str) -> Page {
    match method {
        "GET" => client.get(path).await,
        "POST" => client.post_form(path, &[]).await,
        other => panic!("no {other} form route expected at {path}"),
    }
}

/// Everything a request could change, as text: a refused request leaves it as it was.
fn fingerprint(app: &TestApp) -> String {
    app.db
        .read_blocking(|conn| {
            let shops: Vec<(i64, String, String, String, chrono::NaiveDateTime)> = shops::table
                .order(shops::id)
                .select((shops::id, shops::label, shops::test_key_hash, shops::production_key_hash, shops::updated_at))
                .load(conn)?;
            type UserRow = (i64, String, String, bool, String, Option<chrono::NaiveDateTime>, chrono::NaiveDateTime);
            let users: Vec<UserRow> = users::table
                .order(users::id)
                .select((
                    users::id,
                    users::email,
                    users::role,
                    users::can_test,
                    users::password_hash,
                    users::locked_at,
                    users::updated_at,
                ))
                .load(conn)?;
            let rights: Vec<(i64, i64)> = user_shops::table
                .order((user_shops::user_id, user_shops::shop_id))
                .select((user_shops::user_id, user_shops::shop_id))
                .load(conn)?;
            let orders: Vec<(i64, String, chrono::NaiveDateTime)> = payment_orders::table
                .order(payment_orders::id)
                .select((payment_orders::id, payment_orders::status, payment_orders::updated_at))
                .load(conn)?;
            let txs: Vec<(i64, String, chrono::NaiveDateTime)> = transactions::table
                .order(transactions::id)
                .select((transactions::id, transactions::status, transactions::updated_at))
                .load(conn)?;
            let templates: Vec<(i64, bool, chrono::NaiveDateTime)> = email_templates::table
                .order(email_templates::id)
                .select((email_templates::id, email_templates::is_default, email_templates::updated_at))
                .load(conn)?;
            let jobs: Vec<(i64, String, i32)> =
                outbox::table.order(outbox::id).select((outbox::id, outbox::status, outbox::attempts)).load(conn)?;
            let sms: Vec<(i64, i32, chrono::NaiveDateTime)> = sms_accounts::table
                .order(sms_accounts::shop_id)
                .select((sms_accounts::shop_id, sms_accounts::credits, sms_accounts::updated_at))
                .load(conn)?;
            let instalments: Vec<(i64, chrono::NaiveDateTime)> = shop_instalments::table
                .order(shop_instalments::shop_id)
                .select((shop_instalments::shop_id, shop_instalments::updated_at))
                .load(conn)?;
            let operations: i64 = acquirer_operations::table.count().get_result(conn)?;
            use paylink::db::schema::{payment_services as ps, service_requests as sr};
            let services: Vec<(i64, chrono::NaiveDateTime)> =
                ps::table.order(ps::id).select((ps::id, ps::updated_at)).load(conn)?;
            let requests: Vec<(i64, String)> = sr::table.order(sr::id).select((sr::id, sr::status)).load(conn)?;
            Ok::<_, DbError>(format!(
                "{shops:?}\n{users:?}\n{rights:?}\n{orders:?}\n{txs:?}\n{templates:?}\n{jobs:?}\n{sms:?}\n{instalments:?}\n{operations}\n{services:?}\n{requests:?}"
            ))
        })
        .unwrap()
}

/// Acme (shops Paris and Lyon) with a paid order, an unpaid one, an e-mailed one whose mail
/// was written, its templates and a second user; Globex beside it.
struct World {
    app: TestApp,
    ids: Ids,
    acme: paylink::services::merchants::CreatedMerchant,
    globex: paylink::services::merchants::CreatedMerchant,
    /// Acme's administrator.
    admin: Client,
    /// Globex's administrator.
    stranger: Client,
    /// An Acme manager with rights on Lyon only.
    elsewhere: Client,
    /// An Acme viewer on Paris.
    viewer: Client,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let acme = app.create_merchant("Acme", "Acme Paris", "alice", "4821");
    let lyon = crate::users::add_shop(&app, acme.company_id.0, "Acme Lyon");
    let admin = app.client();
    app.log_in_first_time(&admin, &acme, "4821", STRONG).await;
    let raw = |reference: &str| RawOrder {
        reference: reference.into(),
        amount: AmountInput::Decimal("77,77".into()),
        ..Default::default()
    };
    let paid = crate::delivery::create_orders(&app, &acme, Channel::Url, raw("ACME-SECRET-7")).remove(0);
    let transaction = crate::transactions::pay(&app, &acme, &paid).id;
    let unpaid = crate::delivery::create_orders(&app, &acme, Channel::Url, raw("ACME-SECRET-8")).remove(0);
    let mail = RawOrder {
        recipients: "dan@example.com".into(),
        subject: "Link %reference%".into(),
        message: paylink::domain::template::default_email(paylink::i18n::Lang::Fr).body.into(),
        ..raw("ACME-SECRET-9")
    };
    let mail_order = crate::delivery::create_orders(&app, &acme, Channel::Email, mail).remove(0).id.0;
    app.run_worker().await;
    let (template, job) = app
        .db
        .read_blocking(|conn| {
            let template: i64 = email_templates::table
                .filter(email_templates::shop_id.eq(acme.shop_id.0))
                .select(email_templates::id)
                .first(conn)?;
            let job: i64 =
                outbox::table.filter(outbox::order_id.eq(Some(mail_order))).select(outbox::id).first(conn)?;
            Ok::<_, DbError>((template, job))
        })
        .unwrap();
    crate::users::create_user_via_ui(&app, &admin, "bob", "manager", "1357").await;
    let user = crate::users::user_id(&app, "bob");
    let lee = crate::users::create_user_with(&app, &admin, "lee", "manager", "2468", &[lyon], true).await;
    let elsewhere = app.client();
    app.log_in_first_time(&elsewhere, &lee, "2468", STRONG).await;
    let vic = crate::users::create_user_via_ui(&app, &admin, "vic", "viewer", "3579").await;
    let viewer = app.client();
    app.log_in_first_time(&viewer, &vic, "3579", STRONG).await;
    let globex = app.create_merchant("Globex", "Globex Shop", "gina", "9753");
    let stranger = app.client();
    app.log_in_first_time(&stranger, &globex, "9753", STRONG).await;
    // The unpaid order: every page of an order opens for it (a paid one is no longer editable).
    let import = crate::acquirer::Api::new(&app, &acme)
        .post_csv("/api/v1/payment-orders/import", "reference,amount\nACME-SECRET-10,abc\n", None)
        .await
        .expect(202)["id"]
        .as_i64()
        .expect("an import id");
    let rule = crate::acquirer::Api::new(&app, &acme)
        .post(
            "/api/v1/webhook-endpoints",
            serde_json::json!({"url": "https://acme.example/hooks", "events": ["payment.accepted"]}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .expect("an endpoint id");
    let event = app
        .db
        .read_blocking(|conn| {
            use paylink::db::schema::events;
            let id: i64 = events::table.filter(events::shop_id.eq(acme.shop_id.0)).select(events::id).first(conn)?;
            Ok::<_, DbError>(id)
        })
        .unwrap();
    let page = admin
        .post_form(
            "/settings/payment-services",
            &[("service", "wallet"), ("mode", "TEST"), ("credentials", ""), ("base_url", ""), ("display_name", "")],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.excerpt());
    let (shop, order) = (acme.shop_id, unpaid.id);
    let (service, request) = app
        .db
        .write_blocking(move |conn| {
            use paylink::db::schema::payment_services;
            use paylink::store::payment_services::{NewRequest, insert_request};
            let service: i64 = payment_services::table
                .filter(payment_services::shop_id.eq(shop.0))
                .select(payment_services::id)
                .first(conn)?;
            let at = chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap().and_hms_opt(10, 0, 0).unwrap();
            let r = NewRequest {
                public_id: "pr_routes_table_request",
                shop,
                order,
                mode: paylink::domain::api_key::Mode::Test,
                service: paylink::domain::payment_service::Service::Wallet,
                amount: 7777,
                currency: "EUR",
                first_name: Some("Ada"),
                last_name: Some("Lovelace"),
                expires_at: at,
            };
            Ok::<_, DbError>((service, insert_request(conn, &r, at)?))
        })
        .unwrap();
    let ids = Ids {
        service,
        request,
        order: unpaid.id.0,
        transaction,
        user,
        template,
        job,
        mail_order,
        import,
        rule,
        event,
        token: unpaid.token,
    };
    World { app, ids, acme, globex, admin, stranger, elsewhere, viewer }
}

/// A signed-in answer: not an error, not sent back to the login.
fn allowed(page: &Page) -> bool {
    page.status < 400 && !page.location.as_deref().unwrap_or("").starts_with("/login")
}

#[actix_web::test]
async fn every_route_refuses_forged_forms_strangers_outsiders_and_a_viewer_s_writes() {
    let w = world().await;
    let (app, ids) = (&w.app, &w.ids);
    let mut wrong: Vec<String> = Vec::new();
    let back_office = |k: Kind| matches!(k, Read | AdminRead | Write | Own);

    // Control: Acme's administrator opens every page naming its objects.
    for &(method, path, kind, obj) in ROUTES {
        if method == "GET" && back_office(kind) {
            let page = w.admin.get(&ids.fill(path, obj)).await;
            if !allowed(&page) {
                wrong.push(format!("control: the admin GET {path} → {}", page.status));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let before = fingerprint(app);

    // No CSRF token: 403 on every form POST (the API uses keys, not forms).
    for &(method, path, kind, obj) in ROUTES {
        if method == "POST" && kind != Api && kind != Hook {
            let path = ids.fill(path, obj);
            let page = w.admin.post_form_raw(&path, &[]).await;
            if page.status != 403 {
                wrong.push(format!("POST {path} without a CSRF token → {}", page.status));
            }
        }
    }
    if fingerprint(app) != before {
        wrong.push("a POST without a CSRF token changed something".into());
    }
    // A service's notification URL takes no form: anything unverified is refused.
    for service in ["payzen", "mollie", "payplug", "wallet", "paypal"] {
        let path = format!("/notify/{service}/{}", w.acme.shop_id);
        let page = w.admin.post_form_raw(&path, &[("id", "tr_Abc123"), ("kr-answer", "{}")]).await;
        if page.status < 400 {
            wrong.push(format!("POST {path} with a made-up notification → {}", page.status));
        }
    }
    if fingerprint(app) != before {
        wrong.push("a made-up notification changed something".into());
    }

    // Another company's administrator, and a manager of Acme's other shop, on every route
    // naming one of Acme's objects: not found. (User pages are administrators' business: the
    // manager is refused them before anything is looked up.)
    for (who, client) in [("Globex's admin", &w.stranger), ("the Lyon manager", &w.elsewhere)] {
        for &(method, path, kind, obj) in ROUTES {
            if back_office(kind) && obj != Obj::Nothing {
                let path = ids.fill(path, obj);
                let page = request(client, method, &path).await;
                let expected = if obj == Obj::User && who == "the Lyon manager" { 403 } else { 404 };
                if page.status != expected || page.contains("ACME-SECRET") {
                    wrong.push(format!("{who}: {method} {path} → {} (expected {expected})", page.status));
                }
            }
        }
        for &(method, path, kind, _) in ROUTES {
            if method == "GET" && kind == Read {
                let page = client.get(path).await;
                if page.contains("ACME-SECRET") || page.contains("77,77") || page.contains("77.77") {
                    wrong.push(format!("{who}: GET {path} shows Acme Paris's orders"));
                }
            }
        }
        if fingerprint(app) != before {
            wrong.push(format!("{who} changed something of Acme's"));
        }
    }

    // A viewer: reads allowed, every write refused, administrators' pages refused.
    for &(method, path, kind, obj) in ROUTES {
        let path = ids.fill(path, obj);
        let expect_allowed = match kind {
            Read => true,
            AdminRead | Write => false,
            Open | Pay | Api | Own | Hook => continue,
        };
        let page = request(&w.viewer, method, &path).await;
        if expect_allowed && !allowed(&page) {
            wrong.push(format!("the viewer: {method} {path} → {}, a read", page.status));
        }
        if !expect_allowed && page.status != 403 {
            wrong.push(format!("the viewer: {method} {path} → {}, expected 403", page.status));
        }
    }
    if fingerprint(app) != before {
        wrong.push("the viewer changed something".into());
    }
    // What is everyone's own business stays open to the viewer (logout last).
    for &(method, path, kind, obj) in ROUTES.iter().rev() {
        if kind == Own && method == "POST" {
            let page = request(&w.viewer, method, &ids.fill(path, obj)).await;
            if page.status == 403 || page.status >= 500 {
                wrong.push(format!("the viewer: POST {path} → {}, their own business", page.status));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[actix_web::test]
async fn the_api_answers_not_found_to_another_shop_s_key_and_to_the_production_key_on_test_objects() {
    let w = world().await;
    let (app, ids) = (&w.app, &w.ids);
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let call = async |method: &str, path: &str, shop: i64, key: &str| {
        let request = match method {
            "GET" => http.get(app.url(path)),
            // Valid bodies: a refusal must come from the key, not from the body.
            "POST" if path.ends_with("/refunds") => http.post(app.url(path)).json(&json!({"amount": 100})),
            "POST" if path.ends_with("/payment-orders") => http.post(app.url(path)).json(&json!({"amount": 100})),
            "POST" => http.post(app.url(path)).json(&json!({})),
            "PATCH" => http.patch(app.url(path)).json(&json!({"amount": 100})),
            "DELETE" => http.delete(app.url(path)),
            other => panic!("{other}"),
        };
        let response = request.basic_auth(shop, Some(key)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    };
    let acme_shop = w.acme.shop_id.0;
    let mut wrong = Vec::new();
    // Control: Acme's TEST key sees its objects.
    for (path, obj) in [("/api/v1/payment-orders/{id}", Obj::Order), ("/api/v1/transactions/{id}", Obj::Transaction)] {
        let (status, body) = call("GET", &ids.fill(path, obj), acme_shop, &w.acme.test_api_key).await;
        assert_eq!(status, 200, "control: {path}: {body}");
    }
    let before = fingerprint(app);
    let keys = [
        ("Globex's TEST key", w.globex.shop_id.0, w.globex.test_api_key.clone()),
        ("Acme's PRODUCTION key", acme_shop, w.acme.production_api_key.clone()),
    ];
    for (who, shop, key) in &keys {
        for &(method, path, kind, obj) in ROUTES {
            if kind != Api {
                continue;
            }
            let path = ids.fill(path, obj);
            if obj != Obj::Nothing {
                let (status, body) = call(method, &path, *shop, key).await;
                if status != 404 || body.contains("ACME-SECRET") {
                    wrong.push(format!("{who}: {method} {path} → {status} {body}"));
                }
            } else if method == "GET" && path != "/api/v1/openapi.json" {
                let (status, body) = call(method, &path, *shop, key).await;
                if status != 200 || body.contains("ACME-SECRET") {
                    wrong.push(format!("{who}: GET {path} → {status}, lists Acme's TEST objects? {body}"));
                }
            }
        }
    }
    if fingerprint(app) != before {
        wrong.push("a foreign key changed something".into());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
