//! The shop's collection form (`/settings/collect-form`, seed 001 §1.4, §10.2): on or off,
//! TEST or PRODUCTION, title and introduction, which buyer fields are asked and which are
//! mandatory, three custom fields; its public address; a preview as the buyer sees it.
//! Everyone may look; administrators and managers change it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::{render, render_status, see_other};
use crate::domain::FieldError;
use crate::domain::collect::{Ask, BuyerField};
use crate::domain::collect_form::{CUSTOM_MAX, RawCollectForm, field_name};
use crate::services::collect as service;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::Tr;
use crate::web::present::{field_error, invalid};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/collect-form", web::get().to(show))
        .route("/settings/collect-form", web::post().to(save))
        .route("/settings/collect-form/preview", web::get().to(preview));
}

/// One buyer field's row: its select and the choice made.
pub struct FieldRow {
    pub select: &'static str,
    pub label: &'static str,
    pub value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/collect_form.html")]
struct CollectFormPage {
    t: Tr,
    shell: Shell,
    form: RawCollectForm,
    rows: Vec<FieldRow>,
    asks: [(&'static str, &'static str); 3],
    url: String,
    errors: Vec<FieldError>,
    can_edit: bool,
    custom_max: u16,
}

impl CollectFormPage {
    fn error(&self, field: impl AsRef<str>) -> Option<&'static str> {
        field_error(&self.t, &self.errors, field.as_ref())
    }
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    typed: Option<RawCollectForm>,
) -> Result<CollectFormPage, AppError> {
    let stored = service::settings(&state.env(), staff.shop.id).await?;
    let t = tr(req);
    let form = typed.unwrap_or_else(|| RawCollectForm::of(&stored));
    let rows = BuyerField::ALL
        .iter()
        .enumerate()
        .map(|(i, f)| FieldRow {
            select: field_name(*f),
            label: t.get(&format!("collect.field.{}", f.name())),
            value: form.fields[i].clone(),
        })
        .collect();
    let ask = |a: Ask, key: &'static str| (a.as_str(), t.get(key));
    Ok(CollectFormPage {
        asks: [
            ask(Ask::No, "collect_form.ask.no"),
            ask(Ask::Optional, "collect_form.ask.optional"),
            ask(Ask::Required, "collect_form.ask.required"),
        ],
        rows,
        form,
        url: format!("{}/collect/{}", state.settings.public_url, staff.shop.slug),
        shell: Shell::new(req, staff, "settings"),
        errors: Vec::new(),
        can_edit: staff.can_write(),
        custom_max: CUSTOM_MAX,
        t,
    })
}

async fn show(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    render(&page(&req, &state, &staff, None).await?)
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let raw = RawCollectForm::from_pairs(&pairs);
    match service::save_settings(&state.env(), &staff.actor(&req), staff.shop.id, raw.clone()).await {
        Ok(_) => {
            flash::set(&staff.session, Flash::new("collect_form.saved"));
            Ok(see_other("/settings/collect-form"))
        }
        Err(e) => {
            let errors = invalid(e)?;
            let mut p = page(&req, &state, &staff, Some(raw)).await?;
            p.errors = errors;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

/// The form as the buyer will see it, in the merchant's language.
async fn preview(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    let form = service::preview(&state.env(), staff.shop.id).await?;
    crate::web::pay::collect::preview_page(&req, &state, &form, tr(&req).lang)
}
