//! The buyer's wallet pages (`services::wallet` does the work):
//! - `GET /wallet`: the form asking for a link; with `?email=` (DESIGN §4) it asks at once.
//! - `POST /wallet`: the same, from the form (CSRF-checked). Both answer the same page,
//!   whether the address is known or not.
//! - `GET /wallet/{token}`: the link opens once and becomes a wallet session, kept in a
//!   cookie scoped to this link's path; the cards, each with its form.
//! - `POST /wallet/{token}`: `card`, `action` = `update` (with `expiry_month`,
//!   `expiry_year`, `holder`) or `delete`.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{Frame, html, see_other};
use crate::services::ServiceError;
use crate::services::wallet::{self, Access, Change, Wallet};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;
use crate::web::i18n::{Lang, Tr};

const COOKIE: &str = "paylink_wallet";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/wallet", web::get().to(ask))
        .route("/wallet", web::post().to(send))
        .route("/wallet/{token}", web::get().to(show))
        .route("/wallet/{token}", web::post().to(change));
}

fn lang(req: &HttpRequest) -> Lang {
    super::lang::asked(req).unwrap_or_else(|| Lang::buyer_of(req))
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: Option<String>,
}

#[derive(Template)]
#[template(path = "pay/wallet_ask.html")]
struct AskPage {
    t: Tr,
    frame: Frame,
    email: String,
    error: Option<&'static str>,
    /// The link was asked for: the page says what happens next.
    sent: bool,
}

fn ask_page(status: StatusCode, page: AskPage) -> Result<HttpResponse, AppError> {
    html(status, page.render().map_err(AppError::internal)?)
}

fn frame(req: &HttpRequest, state: &AppState, t: Tr, shop: Option<String>, here: &str) -> Frame {
    Frame::plain(req, state, shop.unwrap_or_else(|| t.get("wallet.title").to_string()), here, t.lang)
}

async fn ask(req: HttpRequest, state: web::Data<AppState>, q: web::Query<EmailForm>) -> Result<HttpResponse, AppError> {
    match q.into_inner().email {
        Some(email) => requested(&req, &state, &email).await,
        None => {
            let t = Tr::new(lang(&req));
            let page = AskPage {
                t,
                frame: frame(&req, &state, t, None, "/wallet"),
                email: String::new(),
                error: None,
                sent: false,
            };
            ask_page(StatusCode::OK, page)
        }
    }
}

async fn send(
    req: HttpRequest,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Result<HttpResponse, AppError> {
    requested(&req, &state, form.email.as_deref().unwrap_or_default()).await
}

async fn requested(req: &HttpRequest, state: &AppState, email: &str) -> Result<HttpResponse, AppError> {
    let t = Tr::new(lang(req));
    if !state.pay_limiter.allow(req.peer_addr().map(|a| a.ip()), "wallet") {
        return Err(AppError::RateLimited);
    }
    let frame = frame(req, state, t, None, "/wallet");
    match wallet::request(&state.env(), email, t.lang, &state.settings.public_url).await {
        Ok(()) => ask_page(StatusCode::OK, AskPage { t, frame, email: String::new(), error: None, sent: true }),
        Err(ServiceError::Invalid(errors)) => {
            let error = errors.first().map(|e| t.get(e.code));
            let page = AskPage { t, frame, email: email.trim().chars().take(254).collect(), error, sent: false };
            ask_page(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
        Err(e) => Err(e.into()),
    }
}

/// A card as the wallet shows it.
struct CardRow {
    token: String,
    brand: String,
    last4: String,
    expiry_month: String,
    expiry_year: String,
    holder: String,
    expired: bool,
    /// The refusals of this card's form, when it was just posted.
    errors: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "pay/wallet.html")]
struct WalletPage {
    t: Tr,
    frame: Frame,
    action: String,
    email: String,
    cards: Vec<CardRow>,
    notice: Option<&'static str>,
}

impl WalletPage {
    fn error(&self, card: &CardRow, field: &str) -> Option<&'static str> {
        card.errors.iter().find(|(f, _)| *f == field).map(|(_, code)| self.t.get(code))
    }
}

#[derive(Template)]
#[template(path = "pay/wallet_gone.html")]
struct GonePage {
    t: Tr,
    frame: Frame,
}

fn wallet_page(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    w: Wallet,
    status: StatusCode,
    notice: Option<&'static str>,
    failed: Option<(&str, Vec<(&'static str, &'static str)>)>,
) -> Result<HttpResponse, AppError> {
    let t = Tr::new(lang(req));
    let here = format!("/wallet/{token}");
    let cards = w
        .cards
        .into_iter()
        .map(|c| CardRow {
            expired: c.expired(w.today),
            last4: c.last_four(),
            expiry_month: format!("{:02}", c.expiry.month),
            expiry_year: c.expiry.year.to_string(),
            holder: c.holder.clone().unwrap_or_default(),
            errors: failed.as_ref().filter(|(f, _)| *f == c.token).map(|(_, e)| e.clone()).unwrap_or_default(),
            brand: c.brand,
            token: c.token,
        })
        .collect();
    let page =
        WalletPage { t, frame: frame(req, state, t, Some(w.shop), &here), action: here, email: w.email, cards, notice };
    html(status, page.render().map_err(AppError::internal)?)
}

fn gone(req: &HttpRequest, state: &AppState) -> Result<HttpResponse, AppError> {
    let t = Tr::new(lang(req));
    let page = GonePage { t, frame: frame(req, state, t, None, "/wallet") };
    html(StatusCode::GONE, page.render().map_err(AppError::internal)?)
}

fn session_cookie(state: &AppState, token: &str, opened: &wallet::Opened) -> Cookie<'static> {
    Cookie::build(COOKIE, opened.session.clone())
        .path(format!("/wallet/{token}"))
        .secure(state.settings.cookies_secure())
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::minutes(opened.minutes))
        .finish()
}

fn plausible(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Deserialize)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    q: web::Query<Done>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    if !plausible(&token) {
        return gone(&req, &state);
    }
    let env = state.env();
    // Already opened in this browser: the session; otherwise the link opens now, once.
    if let Some(session) = req.cookie(COOKIE).map(|c| c.value().to_string())
        && let Some((w, _)) = wallet::open(&env, &token, Access::Session(&session)).await?
    {
        let notice = match q.done.as_deref() {
            Some("updated") => Some("wallet.updated"),
            Some("deleted") => Some("wallet.deleted"),
            _ => None,
        };
        return wallet_page(&req, &state, &token, w, StatusCode::OK, notice, None);
    }
    match wallet::open(&env, &token, Access::Open).await? {
        Some((w, Some(opened))) => {
            let mut res = wallet_page(&req, &state, &token, w, StatusCode::OK, None, None)?;
            res.add_cookie(&session_cookie(&state, &token, &opened)).map_err(AppError::internal)?;
            Ok(res)
        }
        _ => gone(&req, &state),
    }
}

#[derive(Deserialize)]
struct CardForm {
    #[serde(default)]
    card: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    expiry_month: String,
    #[serde(default)]
    expiry_year: String,
    #[serde(default)]
    holder: String,
}

async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    CsrfForm(form): CsrfForm<CardForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let Some(session) = req.cookie(COOKIE).map(|c| c.value().to_string()) else { return gone(&req, &state) };
    let env = state.env();
    let done = match form.action.as_str() {
        "delete" => wallet::delete(&env, &token, &session, form.card.clone()).await.map(|_| "deleted"),
        "update" => {
            let change =
                Change { expiry_month: &form.expiry_month, expiry_year: &form.expiry_year, holder: &form.holder };
            wallet::update(&env, &token, &session, form.card.clone(), change).await.map(|_| "updated")
        }
        _ => return Err(AppError::BadRequest("action")),
    };
    match done {
        Ok(done) => Ok(see_other(&format!("/wallet/{token}?done={done}"))),
        Err(ServiceError::Forbidden) => gone(&req, &state),
        Err(ServiceError::Invalid(errors)) => {
            let Some((w, _)) = wallet::open(&env, &token, Access::Session(&session)).await? else {
                return gone(&req, &state);
            };
            let errors = errors.into_iter().map(|e| (e.field, e.code)).collect();
            wallet_page(&req, &state, &token, w, StatusCode::UNPROCESSABLE_ENTITY, None, Some((&form.card, errors)))
        }
        Err(e) => Err(e.into()),
    }
}
