//! The merchant back office (HTML, session). Every handler takes `Staff`, so anonymous
//! visitors are sent to /login, and reads only the shops `Staff` carries.

pub mod account;
pub mod audit;
pub mod collect_form;
pub mod instalments;
pub mod messaging;
pub mod notifications;
pub mod orders;
pub mod payment_services;
pub mod settings;
pub mod transactions;
pub mod users;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::error::AppError;
use super::forms::CsrfForm;
use super::session::{KEY_MODE, KEY_SHOP, Staff};
use crate::domain::api_key::Mode;
use crate::domain::text::LocalPath;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(home)).route("/context", web::post().to(switch_context));
    orders::routes(cfg);
    settings::routes(cfg);
    instalments::routes(cfg);
    collect_form::routes(cfg);
    notifications::routes(cfg);
    payment_services::routes(cfg);
    users::routes(cfg);
    audit::routes(cfg);
    account::routes(cfg);
    messaging::routes(cfg);
    transactions::routes(cfg);
}

pub fn render<T: Template>(page: &T) -> Result<HttpResponse, AppError> {
    render_status(page, StatusCode::OK)
}

pub fn render_status<T: Template>(page: &T, status: StatusCode) -> Result<HttpResponse, AppError> {
    let html = page.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

async fn home(_staff: Staff) -> HttpResponse {
    see_other("/orders")
}

#[derive(Deserialize)]
struct ContextForm {
    shop_id: Option<i64>,
    mode: Option<String>,
    #[serde(default)]
    back: String,
}

/// The shop switcher and the TEST/PRODUCTION switch. Only shops the user may see, and TEST
/// only for users allowed it.
async fn switch_context(staff: Staff, CsrfForm(form): CsrfForm<ContextForm>) -> Result<HttpResponse, AppError> {
    if let Some(id) = form.shop_id {
        if !staff.shops.iter().any(|s| s.id.0 == id) {
            return Err(AppError::NotFound);
        }
        staff.session.insert(KEY_SHOP, id).map_err(AppError::internal)?;
    }
    if let Some(mode) = form.mode.as_deref() {
        let mode = Mode::parse(mode).ok_or(AppError::BadRequest("mode"))?;
        if mode == Mode::Test && !staff.user.can_test {
            return Err(AppError::Forbidden);
        }
        staff.session.insert(KEY_MODE, mode.as_str()).map_err(AppError::internal)?;
    }
    Ok(see_other(&LocalPath::or(Some(&form.back), "/orders")))
}
