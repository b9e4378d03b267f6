//! Settings › Payment services (`/settings/payment-services`): the shop's PSP connectors and
//! app wallet per mode, a form per service to add (`service`, `mode`, `credentials`,
//! `base_url`, `display_name`, `default`), the connection check, and the payment requests
//! made to each service with every call's request and answer (secrets masked). Everyone
//! with the shop may look; administrators change services (they hold credentials);
//! administrators and managers cancel a request.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::{render, render_status, see_other};
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::payment_service::{CredentialsShape, RequestStatus, Service};
use crate::services::ServiceError;
use crate::services::payment_services::{self as service, ServiceForm, ServiceView};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::Tr;
use crate::web::present::{field_error, invalid, local_datetime, scope};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

const HOME: &str = "/settings/payment-services";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/payment-services", web::get().to(list))
        .route("/settings/payment-services", web::post().to(save))
        .route("/settings/payment-services/requests", web::get().to(requests))
        .route("/settings/payment-services/requests/{id}", web::get().to(request))
        .route("/settings/payment-services/requests/{id}/cancel", web::post().to(cancel))
        .route("/settings/payment-services/{id}/check", web::post().to(check))
        .route("/settings/payment-services/{id}/delete", web::post().to(delete));
}

fn id_of(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().ok().filter(|i| *i > 0).ok_or(AppError::NotFound)
}

/// A configured service's line.
pub struct ServiceLine {
    pub id: i64,
    pub name: String,
    pub service: &'static str,
    pub mode: &'static str,
    pub masked: String,
    pub base_url: String,
    pub default: bool,
    pub check: Option<(bool, String)>,
    pub connector: bool,
}

/// The form to add (or replace) one service.
pub struct AddForm {
    pub service: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub default_url: &'static str,
    pub form: ServiceForm,
    pub errors: Vec<FieldError>,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/payment_services.html")]
struct ListPage {
    t: Tr,
    shell: Shell,
    lines: Vec<ServiceLine>,
    forms: Vec<AddForm>,
    can_edit: bool,
}

impl ListPage {
    fn error(&self, form: &AddForm, field: &str) -> Option<&'static str> {
        field_error(&self.t, &form.errors, field)
    }
}

fn line(t: &Tr, v: &ServiceView, tz: chrono_tz::Tz) -> ServiceLine {
    let fr = t.lang.code() == "fr";
    ServiceLine {
        id: v.id,
        name: v.name().to_string(),
        service: v.service.as_str(),
        mode: v.mode.as_str(),
        masked: if v.masked.is_empty() { t.get("services.simulator").to_string() } else { v.masked.clone() },
        base_url: if v.service == Service::Wallet && v.mode == Mode::Test { String::new() } else { v.base_url.clone() },
        default: v.default,
        check: v.check_result.as_ref().map(|r| {
            let when = v.checked_at.map(|c| local_datetime(c, tz, fr)).unwrap_or_default();
            let ok = r == "ok";
            (ok, if ok { format!("{} · {when}", t.get("services.check.ok")) } else { format!("{r} · {when}") })
        }),
        connector: v.service.is_connector(),
    }
}

fn blank_forms(t: &Tr, mode: Mode) -> Vec<AddForm> {
    Service::ALL
        .iter()
        .map(|s| AddForm {
            service: s.as_str(),
            label: s.label(),
            hint: t.get(match (s, s.credentials_shape()) {
                (Service::Wallet, _) => "services.hint.wallet",
                (Service::PayZen, _) => "services.hint.payzen",
                (Service::Mollie, _) => "services.hint.mollie",
                (_, CredentialsShape::Key) => "services.hint.payplug",
                (_, CredentialsShape::UserPassword) => "services.hint.user_password",
            }),
            default_url: s.public_base_url(),
            form: ServiceForm { service: s.as_str().into(), mode: mode.as_str().into(), ..ServiceForm::default() },
            errors: Vec::new(),
        })
        .collect()
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    failed: Option<(ServiceForm, Vec<FieldError>)>,
) -> Result<ListPage, AppError> {
    let t = tr(req);
    let views = service::services(&state.env(), staff.shop.id).await?;
    let tz = staff.shop.settings.time_zone;
    let mut forms = blank_forms(&t, staff.mode);
    if let Some((form, errors)) = failed
        && let Some(f) = forms.iter_mut().find(|f| f.service == form.service)
    {
        f.form = ServiceForm { credentials: String::new(), ..form };
        f.errors = errors;
    }
    Ok(ListPage {
        lines: views.iter().map(|v| line(&t, v, tz)).collect(),
        forms,
        can_edit: staff.require_admin().is_ok(),
        shell: Shell::new(req, staff, "settings"),
        t,
    })
}

async fn list(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    render(&page(&req, &state, &staff, None).await?)
}

/// A posted field's value ("" when absent).
fn field(pairs: &[(String, String)], name: &str) -> String {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let form = ServiceForm {
        service: field(&pairs, "service"),
        mode: field(&pairs, "mode"),
        credentials: field(&pairs, "credentials"),
        base_url: field(&pairs, "base_url"),
        display_name: field(&pairs, "display_name"),
        default: !field(&pairs, "default").is_empty(),
    };
    match service::save(&state.env(), scope(&req, &staff, &state), form.clone()).await {
        Ok(_) => {
            flash::set(&staff.session, Flash::new("services.saved"));
            Ok(see_other(HOME))
        }
        Err(e) => {
            let errors = invalid(e)?;
            render_status(&page(&req, &state, &staff, Some((form, errors))).await?, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    _csrf: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&path)?;
    service::service(&state.env(), staff.shop.id, id).await?;
    staff.require_admin()?;
    service::remove(&state.env(), scope(&req, &staff, &state), id).await?;
    flash::set(&staff.session, Flash::new("services.deleted"));
    Ok(see_other(HOME))
}

async fn check(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    _csrf: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&path)?;
    service::service(&state.env(), staff.shop.id, id).await?;
    staff.require_admin()?;
    let checked = service::check(&state.env(), scope(&req, &staff, &state), id).await?;
    flash::set(
        &staff.session,
        Flash::new(if checked.is_ok() { "services.check.passed" } else { "services.check.failed" }),
    );
    Ok(see_other(HOME))
}

// ---- Payment requests -------------------------------------------------------------------

#[derive(Deserialize)]
pub struct RequestsQuery {
    service: Option<String>,
    before: Option<i64>,
}

pub struct RequestLine {
    pub id: i64,
    pub public_id: String,
    pub service: &'static str,
    pub payment_id: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub amount: String,
    pub created: String,
    pub transaction: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/payment_requests.html")]
struct RequestsPage {
    t: Tr,
    shell: Shell,
    lines: Vec<RequestLine>,
    services: Vec<(&'static str, &'static str, bool)>,
    filtered: bool,
    next: Option<String>,
}

fn status_of(t: &Tr, s: RequestStatus) -> (&'static str, &'static str) {
    let class = match s {
        RequestStatus::Paid => "ok",
        RequestStatus::Failed | RequestStatus::Expired => "danger",
        RequestStatus::Cancelled => "muted",
        _ => "",
    };
    (t.get(&format!("services.request.{}", s.as_str())), class)
}

fn money(t: &Tr, minor: i64, currency: &str) -> String {
    crate::domain::money::Currency::parse(currency)
        .map(|c| crate::domain::money::Money { minor, currency: c }.display(t.lang))
        .unwrap_or_else(|_| format!("{minor} {currency}"))
}

async fn requests(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<RequestsQuery>,
) -> Result<HttpResponse, AppError> {
    let t = tr(&req);
    let chosen = query.service.as_deref().and_then(Service::parse);
    let (rows, next) = service::requests(&state.env(), staff.shop.id, staff.mode, chosen, query.before).await?;
    let (tz, fr) = (staff.shop.settings.time_zone, t.lang.code() == "fr");
    let lines = rows
        .iter()
        .map(|r| {
            let (status, status_class) = status_of(&t, r.status());
            RequestLine {
                id: r.id,
                public_id: r.public_id.clone(),
                service: r.service().map_or("?", Service::label),
                payment_id: r.service_payment_id.clone().unwrap_or_default(),
                status,
                status_class,
                amount: money(&t, r.amount, &r.currency),
                created: local_datetime(r.created_at, tz, fr),
                transaction: r.transaction_id,
            }
        })
        .collect();
    let service_param = chosen.map(|s| format!("service={s}&")).unwrap_or_default();
    render(&RequestsPage {
        services: Service::ALL.iter().map(|s| (s.as_str(), s.label(), chosen == Some(*s))).collect(),
        filtered: chosen.is_some(),
        next: next.map(|n| format!("/settings/payment-services/requests?{service_param}before={n}")),
        shell: Shell::new(&req, &staff, "settings"),
        lines,
        t,
    })
}

pub struct CallLine {
    pub operation: String,
    pub method: String,
    pub url: String,
    pub status: String,
    pub ok: bool,
    pub duration_ms: i64,
    pub at: String,
    pub request: String,
    pub response: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/payment_request.html")]
struct RequestPage {
    t: Tr,
    shell: Shell,
    line: RequestLine,
    reference: Option<String>,
    order_id: i64,
    raw_status: Option<String>,
    buyer: Option<String>,
    calls: Vec<CallLine>,
    can_cancel: bool,
    cancel_refused: Option<&'static str>,
}

async fn request(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let t = tr(&req);
    let (r, calls, reference) = service::request(&state.env(), staff.shop.id, staff.mode, id_of(&path)?).await?;
    let (tz, fr) = (staff.shop.settings.time_zone, t.lang.code() == "fr");
    let (status, status_class) = status_of(&t, r.status());
    let svc = r.service();
    let open = !r.status().is_final();
    let cancel_refused =
        (open && svc.is_some_and(|s| !s.cancels_requests())).then(|| t.get("service.cancel.not_supported"));
    render(&RequestPage {
        line: RequestLine {
            id: r.id,
            public_id: r.public_id.clone(),
            service: svc.map_or("?", Service::label),
            payment_id: r.service_payment_id.clone().unwrap_or_default(),
            status,
            status_class,
            amount: money(&t, r.amount, &r.currency),
            created: local_datetime(r.created_at, tz, fr),
            transaction: r.transaction_id,
        },
        reference,
        order_id: r.order_id,
        raw_status: r.raw_status.clone(),
        buyer: match (&r.first_name, &r.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            _ => None,
        },
        calls: calls
            .into_iter()
            .map(|c| CallLine {
                ok: c.status.is_some_and(|s| (200..300).contains(&s)),
                status: c.status.map_or_else(|| t.get("services.call.no_answer").to_string(), |s| s.to_string()),
                operation: c.operation,
                method: c.method,
                url: c.url,
                duration_ms: c.duration_ms,
                at: local_datetime(c.created_at, tz, fr),
                request: c.request,
                response: c.response,
            })
            .collect(),
        can_cancel: open && staff.can_write() && svc.is_some_and(Service::cancels_requests),
        cancel_refused,
        shell: Shell::new(&req, &staff, "settings"),
        t,
    })
}

async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    _csrf: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&path)?;
    service::request(&state.env(), staff.shop.id, staff.mode, id).await?;
    staff.require_write()?;
    let key = match service::cancel_request(&state.env(), scope(&req, &staff, &state), id).await {
        Ok(()) => "services.request.cancelled",
        Err(ServiceError::Conflict(key)) => key,
        Err(e) => return Err(e.into()),
    };
    flash::set(&staff.session, Flash::new(key));
    Ok(see_other(&format!("/settings/payment-services/requests/{id}")))
}
