//! The app wallet's pages (seed 004: Payconiq through Monext, now Bancontact);
//! `services::app_wallet` does the work.
//!
//! - `GET /t/{token}/app`: the names the wallet's request carries (`first_name`,
//!   `last_name`, both mandatory; hidden `amount`, the order's), under the order's summary.
//!   404 when the pay page offers no wallet for the order's mode; a closed or paid link gets
//!   its usual page.
//! - `POST /t/{token}/app`: checked (refusals next to their fields, 422, nothing written),
//!   the request recorded, then in TEST a 303 to the simulator's page (so that a reload or
//!   the back button never records a second request).
//! - `GET /t/{token}/app/simulator?request=pr_…`: the TEST simulator, MAKE A PAYMENT or ABORT.
//! - `POST /t/{token}/app/simulator` (`request`, `outcome` = `pay` | `abort`): the outcome
//!   written once, then 303 to the link, which shows the receipt or the refusal.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::lang::{self, Choice};
use super::pages::{Frame, View, html, see_other};
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::order;
use crate::services::ServiceError;
use crate::services::app_wallet::{self, Asked, Outcome, Session, Started};
use crate::services::checkout::Link;
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::forms::{self, CsrfForm};
use crate::web::i18n::{Lang, Tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{token}/app", web::get().to(names))
        .route("/t/{token}/app", web::post().to(begin))
        .route("/t/{token}/app/simulator", web::get().to(simulator))
        .route("/t/{token}/app/simulator", web::post().to(answer));
}

#[derive(Deserialize)]
struct NamesForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    amount: String,
}

#[derive(Deserialize)]
struct SessionQuery {
    #[serde(default)]
    request: String,
}

#[derive(Deserialize)]
struct SimulatorForm {
    #[serde(default)]
    request: String,
    #[serde(default)]
    outcome: String,
}

/// The order as `pay/summary.html` shows it.
struct Summary {
    reference: Option<String>,
    amount: String,
    valid_until: Option<String>,
    valid_until_exact: String,
    description: Option<String>,
}

fn summary(link: &Link, lang: Lang) -> Summary {
    let until = order::format_date(link.expires_on(), lang);
    Summary {
        reference: link.reference().map(str::to_string),
        amount: link.amount().display(lang),
        valid_until_exact: format!("{until} 23:59:59 ({})", link.time_zone().name()),
        valid_until: Some(until),
        description: link.description().map(str::to_string),
    }
}

/// The frame of a link's page; the language switch stays on `here` (a path, maybe with
/// its query).
fn frame(req: &HttpRequest, state: &AppState, link: &Link, here: &str, lang: Lang) -> Frame {
    let (path, query) = here.split_once('?').map_or((here, None), |(p, q)| (p, Some(q)));
    let langs = lang::choices(path, lang)
        .into_iter()
        .map(|c| match query {
            Some(q) => Choice { href: format!("{path}?{q}&lang={}", c.code), ..c },
            None => c,
        })
        .collect();
    Frame {
        shop: link.shop_label().to_string(),
        shop_url: link.shop_url().to_string(),
        is_test: link.mode() == Mode::Test,
        https: state.settings.cookies_secure(),
        csrf: forms::token(req),
        langs,
        logo: link.logo().map(str::to_string),
    }
}

/// Keeps a language asked with `?lang=` for the link's pages, as the pay page does.
fn keeping_lang(
    req: &HttpRequest,
    state: &AppState,
    link: &Link,
    mut res: HttpResponse,
) -> Result<HttpResponse, AppError> {
    if let Some(asked) = lang::asked(req) {
        res.add_cookie(&lang::keep(asked, link.token(), state.settings.cookies_secure()))
            .map_err(AppError::internal)?;
    }
    Ok(res)
}

#[derive(Template)]
#[template(path = "pay/app_names.html")]
struct NamesPage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    heading: String,
    intro: String,
    submit: String,
    action: String,
    back: String,
    first_name: String,
    last_name: String,
    amount: String,
    errors: Vec<FieldError>,
    /// Why the wallet cannot take the payment (PRODUCTION): no form then.
    unavailable: Option<&'static str>,
}

impl NamesPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|e| e.field == field).map(|e| self.t.get(e.code))
    }

    /// The first name field in error, which gets the focus.
    fn first_error(&self) -> &'static str {
        ["first_name", "last_name"].into_iter().find(|f| self.errors.iter().any(|e| e.field == *f)).unwrap_or("")
    }
}

#[allow(clippy::too_many_arguments)]
fn names_page(
    req: &HttpRequest,
    state: &AppState,
    link: &Link,
    wallet: String,
    form: Option<&NamesForm>,
    errors: Vec<FieldError>,
    unavailable: Option<&'static str>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let lang = lang::of_link(req, link);
    let t = Tr::new(lang);
    let here = format!("/t/{}/app", link.token());
    let page = NamesPage {
        t,
        frame: frame(req, state, link, &here, lang),
        summary: summary(link, lang),
        heading: t.args("app.title", &[("service", wallet.clone().into())]),
        intro: t.args("app.intro", &[("service", wallet.clone().into())]),
        submit: t.args("app.continue", &[("service", wallet.into())]),
        action: here,
        back: format!("/t/{}", link.token()),
        first_name: form.map(|f| f.first_name.trim().chars().take(100).collect()).unwrap_or_default(),
        last_name: form.map(|f| f.last_name.trim().chars().take(100).collect()).unwrap_or_default(),
        // The order's amount, whatever was posted: the request pays the link's amount.
        amount: link.amount().decimal('.'),
        errors,
        unavailable,
    };
    html(status, page.render().map_err(AppError::internal)?)
}

async fn names(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let link = super::find(&state, token).await?;
    let res = match app_wallet::ask(&state.env(), &link).await? {
        Err(step) => View::new(&req, &state, &link).step(step, &state, link.three_ds())?,
        Ok(Asked { name, available }) => {
            let unavailable = (!available).then_some("app.production_unavailable");
            names_page(&req, &state, &link, name, None, Vec::new(), unavailable, StatusCode::OK)?
        }
    };
    keeping_lang(&req, &state, &link, res)
}

async fn begin(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<NamesForm>,
) -> Result<HttpResponse, AppError> {
    let link = super::find(&state, token).await?;
    let view = View::new(&req, &state, &link);
    if !state.pay_limiter.allow(req.peer_addr().map(|a| a.ip()), link.token()) {
        tracing::warn!(order.id = link.order_id(), "app wallet requests over the rate limit");
        return view.too_many();
    }
    let env = state.env();
    let started = app_wallet::begin(&env, &link, &form.first_name, &form.last_name, &form.amount).await;
    let (errors, unavailable, status) = match started {
        Ok(Ok(Started::Simulator(session))) => {
            return Ok(see_other(&format!("{}/app/simulator?request={}", view.link, urlencode(&session.request))));
        }
        Ok(Ok(Started::Step(step))) => return view.step(step, &state, link.three_ds()),
        Ok(Err(errors)) => (errors, None, StatusCode::UNPROCESSABLE_ENTITY),
        Err(ServiceError::Conflict(key)) => (Vec::new(), Some(key), StatusCode::CONFLICT),
        Err(e) => return Err(e.into()),
    };
    // The form again, the refusals next to their fields (or why the wallet cannot pay).
    match app_wallet::ask(&env, &link).await? {
        Ok(asked) => names_page(&req, &state, &link, asked.name, Some(&form), errors, unavailable, status),
        Err(step) => view.step(step, &state, link.three_ds()),
    }
}

#[derive(Template)]
#[template(path = "pay/app_simulator.html")]
struct SimulatorPage {
    t: Tr,
    frame: Frame,
    summary: Summary,
    heading: String,
    notice: String,
    /// Who pays, and when the session ends (in the shop's time zone).
    session: String,
    action: String,
    request: String,
}

async fn simulator(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<SessionQuery>,
) -> Result<HttpResponse, AppError> {
    let link = super::find(&state, token).await?;
    let found = match app_wallet::session(&state.env(), &link, &query.request).await {
        Err(ServiceError::NotFound) => return Err(AppError::BadRequest("request")),
        other => other?,
    };
    let session: Session = match found {
        Ok(s) => s,
        Err(step) => return View::new(&req, &state, &link).step(step, &state, link.three_ds()),
    };
    let lang = lang::of_link(&req, &link);
    let t = Tr::new(lang);
    let here = format!("/t/{}/app/simulator?request={}", link.token(), urlencode(&session.request));
    let until = session.expires_at.and_utc().with_timezone(&link.time_zone());
    let page = SimulatorPage {
        t,
        frame: frame(&req, &state, &link, &here, lang),
        summary: summary(&link, lang),
        heading: t.args("app.simulator.title", &[("service", session.name.clone().into())]),
        notice: t.args("app.simulator.notice", &[("service", session.name.into())]),
        session: t.args(
            "app.simulator.session",
            &[
                ("buyer", session.buyer.into()),
                ("until", format!("{} ({})", until.format("%H:%M"), link.time_zone().name()).into()),
            ],
        ),
        action: format!("/t/{}/app/simulator", link.token()),
        request: session.request,
    };
    let res = html(StatusCode::OK, page.render().map_err(AppError::internal)?)?;
    keeping_lang(&req, &state, &link, res)
}

async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<SimulatorForm>,
) -> Result<HttpResponse, AppError> {
    let link = super::find(&state, token).await?;
    let outcome = Outcome::parse(&form.outcome).ok_or(AppError::BadRequest("outcome"))?;
    let view = View::new(&req, &state, &link);
    let step = match app_wallet::simulate(&state.env(), &link, &form.request, outcome).await {
        // Not a session of this link (another link's, a PRODUCTION one, made up).
        Err(ServiceError::NotFound) => return Err(AppError::BadRequest("request")),
        other => other?,
    };
    view.step(step, &state, link.three_ds())
}
