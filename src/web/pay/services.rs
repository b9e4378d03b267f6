//! The buyer's way through a payment service: the pay page's button sends them to the
//! service (`POST /t/{token}/service`, 303 to its hosted page), the service brings them back
//! (`GET /t/{token}/return`: the status is asked of the service, and a page waits while it
//! has not said), and the service notifies (`POST /notify/{service}/{shop_id}`: no session,
//! no CSRF token — the notification is verified per service instead).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::pages::{View, see_other};
use crate::domain::payment_service::Service;
use crate::services::service_pay::{self, NotifyRefusal, Returned, Started};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{token}/service", web::post().to(start))
        .route("/t/{token}/return", web::get().to(returned))
        .route("/notify/{service}/{shop_id}", web::post().to(notify));
}

#[derive(Deserialize)]
pub struct ServiceChoice {
    #[serde(default)]
    service: String,
}

async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<ServiceChoice>,
) -> Result<HttpResponse, AppError> {
    let link = super::find(&state, token).await?;
    let view = View::new(&req, &state, &link);
    let service = Service::parse(&form.service).ok_or(AppError::BadRequest("service"))?;
    match service_pay::start(&state.env(), &link, service).await? {
        Started::Redirect(url) => Ok(see_other(&url)),
        Started::Step(step) => view.step(step, &state, link.three_ds()),
    }
}

async fn returned(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let link = super::find(&state, token).await?;
    let view = View::new(&req, &state, &link);
    match service_pay::returned(&state.env(), &link).await? {
        Returned::Settled => Ok(see_other(&view.link)),
        Returned::Waiting { service } => view.waiting(service.label(), &format!("{}/return", view.link)),
    }
}

/// 200 when written (or told before), 400 forged, 404 for no request of ours, 503 to be
/// told again later.
async fn notify(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (service, shop) = path.into_inner();
    let (Some(service), Ok(shop)) = (Service::parse(&service), shop.parse::<i64>()) else {
        return HttpResponse::NotFound().finish();
    };
    let content_type = req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    match service_pay::notified(&state.env(), service, shop, &content_type, &body).await {
        Ok(()) => HttpResponse::Ok().content_type("text/plain").body("OK"),
        Err(refusal) => {
            let status = match refusal {
                NotifyRefusal::Forged => StatusCode::BAD_REQUEST,
                NotifyRefusal::Unknown => StatusCode::NOT_FOUND,
                NotifyRefusal::Retry => StatusCode::SERVICE_UNAVAILABLE,
            };
            tracing::warn!(service = %service, shop.id = shop, ?refusal, "a service's notification was refused");
            HttpResponse::build(status).content_type("text/plain").body(format!("{refusal:?}"))
        }
    }
}
