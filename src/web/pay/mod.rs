//! The buyer side: the hosted payment page of a link, `/t/{token}`. The flow itself (locks,
//! acquirer calls, results) is `services::checkout`; this module parses, renders, signs the
//! tokens the pages carry and limits attempts.
//!
//! - `GET /t/{token}`: the order in its own language, and what can be done with it — the card
//!   form (TEST: with the simulator's cards), the receipt once paid, the last refusal above a
//!   fresh form when refused, a clear 410 page once expired or cancelled. PRODUCTION orders
//!   have no acquirer yet: the page says card payment is not available.
//! - `POST /t/{token}`: one payment attempt, the card parsed at the edge.
//! - `GET|POST /t/{token}/3ds`: the TEST issuer's challenge. What it needs travels in a token
//!   sealed (AES-GCM) under a key derived from the vault key and bound to the link (attempt
//!   id, acquirer reference, masked card and holder's name, time): unreadable in browser
//!   history or proxy logs, and never the card number.
//!
//! The full card number and the CVV exist only inside one request: they are never logged,
//! stored, put in a URL or rendered back (a refused form is re-rendered without them).

mod app;
pub mod collect;
mod form;
mod lang;
pub mod limiter;
mod pages;
mod services;
mod tokens;
mod wallet;

use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::error::AppError;
use super::forms::CsrfForm;
use crate::services::checkout::{self, Link, Progress};
use crate::services::collect as collect_service;
use crate::services::service_pay;
use form::{CardForm, ChallengeForm, ChallengeQuery, PayForm};
use pages::View;
use tokens::ChallengeClaims;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{token}", web::get().to(link))
        .route("/t/{token}", web::post().to(pay))
        .route("/t/{token}/3ds", web::get().to(challenge))
        .route("/t/{token}/3ds", web::post().to(answer))
        .route("/t/{token}/buyer", web::post().to(collect::answer_order))
        .route("/t/{token}/qr.svg", web::get().to(qr_svg))
        .route("/t/{token}/qr.png", web::get().to(qr_png))
        .route("/logos/{file}", web::get().to(logo))
        .configure(wallet::routes)
        .configure(services::routes)
        .configure(app::routes)
        .configure(collect::routes);
}

async fn find(state: &AppState, token: web::Path<String>) -> Result<Link, AppError> {
    Ok(checkout::find(&state.env(), token.into_inner()).await?)
}

async fn link(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let link = find(&state, token).await?;
    if let Some(ask) = collect_service::asked_first(&state.env(), link.token().to_string()).await? {
        return collect::order_page(&req, &state, link.token(), &ask, &ask.known, &[]);
    }
    let shown = checkout::show(&state.env(), &link).await?;
    let (cards, offer) = match shown {
        checkout::Shown::Payable { by_card: true, .. } => {
            (checkout::saved_cards(&state.env(), &link).await?, checkout::instalment_offer(&state.env(), &link).await?)
        }
        _ => (Vec::new(), None),
    };
    let env = state.env();
    let (offers, only) = (service_pay::offers(&env, &link).await?, service_pay::chosen(&env, &link).await?);
    let origins: Vec<String> = offers.iter().flat_map(|o| o.origins.clone()).collect();
    let view = View::new(&req, &state, &link).with_services(offers, only.is_some());
    let mut res = view.with_cards(cards, &link).with_offer(offer).shown(shown)?;
    if !origins.is_empty() {
        let policy = crate::web::security::csp_with_form_targets(&origins);
        res.headers_mut().insert(
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            actix_web::http::header::HeaderValue::from_str(&policy).map_err(AppError::internal)?,
        );
    }
    if let Some(asked) = lang::asked(&req) {
        res.add_cookie(&lang::keep(asked, link.token(), state.settings.cookies_secure()))
            .map_err(AppError::internal)?;
    }
    Ok(res)
}

async fn pay(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<PayForm>,
) -> Result<HttpResponse, AppError> {
    let link = find(&state, token).await?;
    let view = View::new(&req, &state, &link);
    if !state.pay_limiter.allow(req.peer_addr().map(|a| a.ip()), link.token()) {
        tracing::warn!(order.id = link.order_id(), "pay attempts over the rate limit");
        return view.too_many();
    }
    if let Some(step) = checkout::takes_no_card(&state.env(), &link) {
        return view.step(step, &state, link.three_ds());
    }
    let started = tokens::session_start(&state, link.token(), &form.session).ok_or(AppError::BadRequest("session"))?;
    let env = state.env();
    let card = match form.saved() {
        Some(token) => checkout::use_saved(&env, &link, token.to_string(), &form.cvv).await?,
        None => form.card(checkout::today(&env, &link), link.mode()),
    };
    let card = match card {
        Ok(card) => card,
        Err(errors) => return refused(&env, &link, view, &form, errors).await,
    };
    let public_url = &state.settings.public_url;
    let progress = checkout::pay(&env, &link, card, form.saves(), form.instalments(), started, public_url).await;
    let progress = match progress {
        Err(crate::services::ServiceError::Invalid(errors)) => return refused(&env, &link, view, &form, errors).await,
        other => other?,
    };
    respond(&state, &view, &link, progress)
}

/// The form again with the refusals next to their fields (and never the card number).
async fn refused(
    env: &crate::services::Env,
    link: &Link,
    view: View,
    form: &PayForm,
    errors: Vec<crate::domain::FieldError>,
) -> Result<HttpResponse, AppError> {
    let cards = checkout::saved_cards(env, link).await?;
    let offer = checkout::instalment_offer(env, link).await?;
    view.with_cards(cards, link).with_offer(offer).refused_form(CardForm::kept(form, errors))
}

/// Counts what the step did and renders it.
fn respond(state: &AppState, view: &View, link: &Link, progress: Progress) -> Result<HttpResponse, AppError> {
    for outcome in progress.counted {
        state.metrics.payment(outcome);
    }
    view.step(progress.step, state, link.three_ds())
}

async fn challenge(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<ChallengeQuery>,
) -> Result<HttpResponse, AppError> {
    let link = find(&state, token).await?;
    let claims = ChallengeClaims::open(&state, link.token(), &query.c).ok_or(AppError::BadRequest("challenge"))?;
    let view = View::new(&req, &state, &link);
    // Answered already (the back button), taken over, or cancelled by the merchant: the link
    // says how it ended. Still held, it is shown even past the link's last second: a payment
    // begun in time may end (its answer is accepted too).
    if !checkout::challenge_open(&state.env(), &link, claims.holder().to_string()).await? {
        return view.step(
            checkout::standing(&state.env(), &link).unwrap_or(checkout::Step::Moved),
            &state,
            link.three_ds(),
        );
    }
    view.challenge(query.into_inner().c, &claims)
}

async fn answer(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<ChallengeForm>,
) -> Result<HttpResponse, AppError> {
    let link = find(&state, token).await?;
    let claims = ChallengeClaims::open(&state, link.token(), &form.c).ok_or(AppError::BadRequest("challenge"))?;
    // Checked before the lock is taken back: a bad request must not end the challenge.
    let answer = form.answer().ok_or(AppError::BadRequest("action"))?;
    let parked = claims.parked().ok_or(AppError::BadRequest("challenge"))?;
    let view = View::new(&req, &state, &link);
    let progress = checkout::answer(&state.env(), &link, parked, answer, &state.settings.public_url).await?;
    respond(&state, &view, &link, progress)
}

async fn qr_svg(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let link = find(&state, token).await?;
    let url = crate::services::orders::pay_url(&state.settings.public_url, link.token());
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(super::qr::svg(&url)))
}

async fn qr_png(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let link = find(&state, token).await?;
    let url = crate::services::orders::pay_url(&state.settings.public_url, link.token());
    Ok(HttpResponse::Ok().content_type("image/png").body(super::qr::png(&url)))
}

/// `GET /logos/{digest}.{ext}`: a shop's logo, public (its pay page shows it), cached a
/// year since the name changes with the content. An SVG is sanitised at upload and sent
/// with a policy that forbids scripts and fetches all the same.
async fn logo(state: web::Data<AppState>, file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (kind, body) = crate::services::shops::logo_file(&state.env.db, &file).await?;
    Ok(HttpResponse::Ok()
        .content_type(kind.content_type())
        .insert_header((actix_web::http::header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        ))
        .body(body))
}
