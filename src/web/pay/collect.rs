//! The shop's public collection form, `/collect/{shop_slug}` (`services::collect` does the
//! work):
//! - `GET /collect/{slug}`: the reference field (`?reference=` pre-fills it; with it the
//!   invoice is looked up at once).
//! - `POST /collect/{slug}`: `reference` alone looks the invoice up and shows its amount
//!   and the buyer fields; with `step=buyer` and the fields, they are checked, kept with the
//!   order, and the buyer goes on to its pay page (303 to `/t/{token}`).
//!
//! Look-ups are limited per client IP and per shop (the application's clock), so that
//! references cannot be enumerated.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Frame, html, see_other};
use crate::domain::FieldError;
use crate::domain::collect::{BuyerField, RawBuyer};
use crate::services::collect::{self, Form, Found, OrderAsk};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;
use crate::web::i18n::{Lang, Tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/collect/{slug}", web::get().to(show)).route("/collect/{slug}", web::post().to(submit));
}

fn lang(req: &HttpRequest) -> Lang {
    super::lang::asked(req).unwrap_or_else(|| Lang::buyer_of(req))
}

#[derive(Deserialize)]
struct Query {
    #[serde(default)]
    reference: Option<String>,
}

/// One buyer field on the page.
struct FieldView {
    name: &'static str,
    label: String,
    kind: &'static str,
    autocomplete: &'static str,
    required: bool,
    value: String,
    hint: Option<String>,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "pay/collect.html")]
struct CollectPage {
    t: Tr,
    frame: Frame,
    action: String,
    title: String,
    intro: Option<String>,
    reference: String,
    /// Why the reference leads nowhere payable, when it does.
    problem: Option<&'static str>,
    reference_error: Option<&'static str>,
    /// The invoice found: its amount and description, and the fields to answer.
    amount: Option<String>,
    description: Option<String>,
    fields: Vec<FieldView>,
    has_errors: bool,
    /// The form a payment link asks first: no reference to type or change.
    for_order: bool,
    /// The merchant's preview: nothing to send.
    preview: bool,
}

fn frame(req: &HttpRequest, state: &AppState, t: Tr, form: &Form, here: &str) -> Frame {
    let mut frame = Frame::plain(req, state, form.shop_label.clone(), here, t.lang);
    frame.shop_url = form.shop_url.clone();
    frame.logo = form.logo.clone();
    frame.is_test = !form.settings.production;
    frame
}

fn field_views(t: &Tr, form: &Form, raw: &RawBuyer, errors: &[FieldError]) -> Vec<FieldView> {
    let error = |name: &str| errors.iter().find(|e| e.field == name).map(|e| t.get(e.code));
    let mut views = Vec::new();
    for (field, required) in form.settings.asked() {
        let (kind, autocomplete) = match field {
            BuyerField::LastName => ("text", "family-name"),
            BuyerField::FirstName => ("text", "given-name"),
            BuyerField::Email => ("email", "email"),
            BuyerField::Phone => ("tel", "tel"),
            BuyerField::Address => ("text", "street-address"),
            BuyerField::PostalCode => ("text", "postal-code"),
            BuyerField::City => ("text", "address-level2"),
            BuyerField::Country => ("text", "country-name"),
        };
        let name = field.name();
        views.push(FieldView {
            name,
            label: t.get(&format!("collect.field.{name}")).to_string(),
            kind,
            autocomplete,
            required,
            value: raw.get(name).chars().take(254).collect(),
            hint: None,
            error: error(name),
        });
        if field == BuyerField::Email {
            views.push(FieldView {
                name: "email_confirm",
                label: t.get("collect.field.email_confirm").to_string(),
                kind: "email",
                autocomplete: "off",
                required,
                value: raw.get("email_confirm").chars().take(254).collect(),
                hint: None,
                error: error("email_confirm"),
            });
        }
    }
    for (i, custom) in form.settings.customs.iter().enumerate() {
        let Some(c) = custom else { continue };
        let name = ["info1", "info2", "info3"][i];
        views.push(FieldView {
            name,
            label: c.label.clone(),
            kind: "text",
            autocomplete: "off",
            required: c.required,
            value: raw.get(name).chars().take(usize::from(c.max_len.max(1))).collect(),
            hint: c.hint.clone(),
            error: error(name),
        });
    }
    views
}

fn problem_of(found: &Found) -> Option<&'static str> {
    match found {
        Found::Payable(_) => None,
        Found::NotFound => Some("collect.not_found"),
        Found::Expired => Some("collect.expired"),
        Found::Cancelled => Some("collect.cancelled"),
        Found::Paid => Some("collect.paid"),
    }
}

#[allow(clippy::too_many_arguments)]
fn page(
    req: &HttpRequest,
    state: &AppState,
    slug: &str,
    form: &Form,
    reference: &str,
    found: Option<&Found>,
    raw: &RawBuyer,
    errors: &[FieldError],
) -> Result<HttpResponse, AppError> {
    let t = Tr::new(lang(req));
    let here = format!("/collect/{slug}");
    let (amount, description, fields) = match found {
        Some(Found::Payable(i)) => {
            (Some(i.amount.display(t.lang)), i.description.clone(), field_views(&t, form, raw, errors))
        }
        _ => (None, None, Vec::new()),
    };
    let problem = found.and_then(problem_of);
    let reference_error = errors.iter().find(|e| e.field == "reference").map(|e| t.get(e.code));
    let status = match (problem, errors.is_empty()) {
        (Some("collect.not_found"), _) => StatusCode::NOT_FOUND,
        (Some("collect.expired" | "collect.cancelled"), _) => StatusCode::GONE,
        (Some(_), _) => StatusCode::OK,
        (None, false) => StatusCode::UNPROCESSABLE_ENTITY,
        (None, true) => StatusCode::OK,
    };
    let view = CollectPage {
        frame: frame(req, state, t, form, &here),
        action: here,
        title: form.settings.title.clone().unwrap_or_else(|| t.get("collect.title").to_string()),
        intro: form.settings.intro.clone(),
        reference: reference.trim().chars().take(64).collect(),
        problem,
        reference_error,
        amount,
        description,
        has_errors: !errors.is_empty(),
        fields,
        for_order: false,
        preview: false,
        t,
    };
    html(status, view.render().map_err(AppError::internal)?)
}

async fn open_form(state: &AppState, slug: &str) -> Result<Form, AppError> {
    Ok(collect::form(&state.env(), slug.to_string()).await?)
}

fn limited(req: &HttpRequest, state: &AppState, form: &Form) -> bool {
    !state.collect_limiter.allow(req.peer_addr().map(|a| a.ip()), &format!("shop:{}", form.shop.0))
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    let form = open_form(&state, &slug).await?;
    let Some(reference) = q.into_inner().reference.filter(|r| !r.trim().is_empty()) else {
        return page(&req, &state, &slug, &form, "", None, &RawBuyer::default(), &[]);
    };
    if limited(&req, &state, &form) {
        return Err(AppError::RateLimited);
    }
    let found = collect::look_up(&state.env(), &form, &reference).await?;
    page(&req, &state, &slug, &form, &reference, Some(&found), &RawBuyer::default(), &[])
}

async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    slug: web::Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let form = open_form(&state, &slug).await?;
    let raw = RawBuyer { values: fields };
    let reference = raw.get("reference").to_string();
    if reference.trim().is_empty() {
        let errors = [FieldError::new("reference", "field.required")];
        return page(&req, &state, &slug, &form, "", None, &raw, &errors);
    }
    if limited(&req, &state, &form) {
        return Err(AppError::RateLimited);
    }
    if raw.get("step") != "buyer" {
        let found = collect::look_up(&state.env(), &form, &reference).await?;
        let empty = RawBuyer::default();
        return page(&req, &state, &slug, &form, &reference, Some(&found), &empty, &[]);
    }
    match collect::submit(&state.env(), &form, &reference, &raw).await? {
        Ok((_, token)) => Ok(see_other(&format!("/t/{token}"))),
        Err((found, errors)) => page(&req, &state, &slug, &form, &reference, Some(&found), &raw, &errors),
    }
}

/// The form a payment link with the collection-form flag asks before its pay page, posted to
/// `/t/{token}/buyer`.
pub fn order_page(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    ask: &OrderAsk,
    raw: &RawBuyer,
    errors: &[FieldError],
) -> Result<HttpResponse, AppError> {
    let t = Tr::new(lang(req));
    let here = format!("/t/{token}");
    let view = CollectPage {
        frame: frame(req, state, t, &ask.form, &here),
        action: format!("{here}/buyer"),
        title: ask.form.settings.title.clone().unwrap_or_else(|| t.get("collect.details_title").to_string()),
        intro: ask.form.settings.intro.clone(),
        reference: ask.reference.clone().unwrap_or_default(),
        problem: None,
        reference_error: None,
        amount: Some(ask.amount.display(t.lang)),
        description: ask.description.clone(),
        has_errors: !errors.is_empty(),
        fields: field_views(&t, &ask.form, raw, errors),
        for_order: true,
        preview: false,
        t,
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    html(status, view.render().map_err(AppError::internal)?)
}

/// `POST /t/{token}/buyer`: the answers kept, then the pay page; or the form again.
pub async fn answer_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(fields): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let raw = RawBuyer { values: fields };
    match collect::answer_for_order(&state.env(), token.to_string(), &raw).await? {
        None => Ok(see_other(&format!("/t/{token}"))),
        Some((ask, errors)) => order_page(&req, &state, &token, &ask, &raw, &errors),
    }
}

/// The shop's form as a buyer will see it once an invoice is found (an example invoice), for
/// the merchant's preview from the settings; its button sends nothing.
pub fn preview_page(req: &HttpRequest, state: &AppState, form: &Form, lang: Lang) -> Result<HttpResponse, AppError> {
    let t = Tr::new(lang);
    let here = "/settings/collect-form/preview".to_string();
    let example = crate::domain::money::Money { minor: 12_000, currency: crate::domain::money::Currency::EUR };
    let view = CollectPage {
        frame: frame(req, state, t, form, &here),
        action: here,
        title: form.settings.title.clone().unwrap_or_else(|| t.get("collect.title").to_string()),
        intro: form.settings.intro.clone(),
        reference: "F-2026-0001".to_string(),
        problem: None,
        reference_error: None,
        amount: Some(example.display(t.lang)),
        description: Some(t.get("collect.preview_description").to_string()),
        has_errors: false,
        fields: field_views(&t, form, &RawBuyer::default(), &[]),
        for_order: true,
        preview: true,
        t,
    };
    html(StatusCode::OK, view.render().map_err(AppError::internal)?)
}
