//! Sign-in: password, first-login code, mandatory new password; lockout; logout; language.

use actix_session::Session;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::AppState;
use super::error::AppError;
use super::forms::CsrfForm;
use super::i18n::{LANG_COOKIE, Lang, Tr};
use super::security::client_ip;
use super::session::{self, Stage};
use super::shell::{Public, tr};
use crate::domain::password;
use crate::domain::text::LocalPath;
use crate::services::ServiceError;
use crate::services::auth::{self, CodeOutcome, LoginOutcome, PasswordChange, TypedPasswords};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login_submit))
        .route("/login/code", web::get().to(code_page))
        .route("/login/code", web::post().to(code_submit))
        .route("/login/new-password", web::get().to(new_password_page))
        .route("/login/new-password", web::post().to(new_password_submit))
        .route("/login/locked", web::get().to(locked_page))
        .route("/logout", web::post().to(logout))
        .route("/password-strength", web::post().to(strength))
        .route("/lang/{code}", web::get().to(switch_language));
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
struct LoginPage {
    t: Tr,
    page: Public,
    login: String,
    next: String,
    notice: Option<&'static str>,
    error: Option<&'static str>,
}

impl LoginPage {
    /// The form again with what was typed (the login, 64 characters at most) and why not.
    fn refused(req: &HttpRequest, t: Tr, form: &LoginForm, error: &'static str) -> LoginPage {
        LoginPage {
            t,
            page: Public::new(req),
            login: form.login.chars().take(64).collect(),
            next: form.next.clone(),
            notice: None,
            error: Some(t.get(error)),
        }
    }
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
    #[serde(rename = "m")]
    message: Option<String>,
}

/// Only a local path may be a post-login destination (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    LocalPath::or(next.filter(|n| !n.starts_with("/login")), "/orders")
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

async fn login_page(req: HttpRequest, session: Session, q: web::Query<LoginQuery>) -> Result<HttpResponse, AppError> {
    if let Some((_, Stage::In)) = session::stage(&session) {
        return Ok(see_other("/orders"));
    }
    let notice = match q.message.as_deref() {
        Some("out") => Some("login.logged_out"),
        Some("changed") => Some("login.password_changed"),
        Some("ended") => Some("login.session_ended"),
        _ => None,
    };
    let t = tr(&req);
    let page = LoginPage {
        t,
        page: Public::new(&req),
        login: String::new(),
        next: q.next.clone().unwrap_or_default(),
        notice: notice.map(|k| t.get(k)),
        error: None,
    };
    Ok(render(&page, actix_web::http::StatusCode::OK))
}

fn render<T: Template>(page: &T, status: actix_web::http::StatusCode) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let t = tr(&req);
    let ip = client_ip(&req);
    let refused = |error: &'static str, status| Ok(render(&LoginPage::refused(&req, t, &form, error), status));
    if !state.login_limiter.allow(req.peer_addr().map(|a| a.ip()), &form.login) {
        tracing::warn!(ip = ?ip, "login rate limit reached");
        return refused("login.rate_limited", actix_web::http::StatusCode::TOO_MANY_REQUESTS);
    }
    let (env, typed) = (state.env(), (form.login.clone(), form.password.clone()));
    let outcome = auth::log_in(&env.db, env.clock, typed.0, typed.1, ip).await?;
    match outcome {
        LoginOutcome::LoggedIn(user) => {
            session::begin(&session, user.id, Stage::In)?;
            Ok(see_other(&safe_next(Some(&form.next))))
        }
        LoginOutcome::NeedsFirstLoginCode(user) => {
            session::begin(&session, user.id, Stage::Code)?;
            Ok(see_other("/login/code"))
        }
        LoginOutcome::Refused { .. } => refused("login.refused", actix_web::http::StatusCode::OK),
        LoginOutcome::Locked => {
            session.purge();
            Ok(see_other("/login/locked"))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/code.html")]
struct CodePage {
    t: Tr,
    page: Public,
    error: Option<&'static str>,
}

async fn code_page(req: HttpRequest, session: Session) -> Result<HttpResponse, AppError> {
    match session::stage(&session) {
        Some((_, Stage::Code)) => {
            Ok(render(&CodePage { t: tr(&req), page: Public::new(&req), error: None }, actix_web::http::StatusCode::OK))
        }
        _ => Ok(see_other("/login")),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    first_login_code: String,
}

async fn code_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Result<HttpResponse, AppError> {
    let Some((user_id, Stage::Code)) = session::stage(&session) else {
        return Ok(see_other("/login"));
    };
    let t = tr(&req);
    if !state.login_limiter.allow(req.peer_addr().map(|a| a.ip()), &format!("#{user_id}")) {
        let page = CodePage { t, page: Public::new(&req), error: Some(t.get("login.rate_limited")) };
        return Ok(render(&page, actix_web::http::StatusCode::TOO_MANY_REQUESTS));
    }
    let clock = state.env.clock.clone();
    let ip = client_ip(&req);
    let code = form.first_login_code;
    let outcome = state
        .env
        .db
        .write(move |conn| auth::check_first_login_code(conn, clock.as_ref(), user_id, &code, ip.as_deref()))
        .await;
    match outcome {
        Ok(CodeOutcome::Accepted(user)) => {
            session::begin(&session, user.id, Stage::NewPassword)?;
            Ok(see_other("/login/new-password"))
        }
        Ok(CodeOutcome::Refused { .. }) => {
            let page = CodePage { t, page: Public::new(&req), error: Some(t.get("code.refused")) };
            Ok(render(&page, actix_web::http::StatusCode::OK))
        }
        Ok(CodeOutcome::Locked) | Err(ServiceError::NotFound) => {
            session.purge();
            Ok(see_other("/login/locked"))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/new_password.html")]
struct NewPasswordPage {
    t: Tr,
    page: Public,
    error_new: Option<&'static str>,
    error_confirm: Option<&'static str>,
}

async fn new_password_page(req: HttpRequest, session: Session) -> Result<HttpResponse, AppError> {
    match session::stage(&session) {
        Some((_, Stage::NewPassword)) => {
            let page = NewPasswordPage { t: tr(&req), page: Public::new(&req), error_new: None, error_confirm: None };
            Ok(render(&page, actix_web::http::StatusCode::OK))
        }
        _ => Ok(see_other("/login")),
    }
}

#[derive(Deserialize)]
struct NewPasswordForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn new_password_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let Some((user_id, Stage::NewPassword)) = session::stage(&session) else {
        return Ok(see_other("/login"));
    };
    let asked = TypedPasswords { current: None, new: form.new_password, confirm: form.confirm_password };
    let outcome = auth::set_password(&state.env.db, state.env.clock.clone(), user_id, asked, client_ip(&req)).await?;
    match outcome {
        PasswordChange::Changed(user) => {
            session::begin(&session, user.id, Stage::In)?;
            Ok(see_other("/orders"))
        }
        PasswordChange::Refused(e) => {
            let t = tr(&req);
            let message = Some(t.get(e.code()));
            let mismatch = e == password::PolicyError::Mismatch;
            let page = NewPasswordPage {
                t,
                page: Public::new(&req),
                error_new: if mismatch { None } else { message },
                error_confirm: if mismatch { message } else { None },
            };
            Ok(render(&page, actix_web::http::StatusCode::UNPROCESSABLE_ENTITY))
        }
        PasswordChange::WrongCurrent => Err(AppError::Forbidden),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/locked.html")]
struct LockedPage {
    t: Tr,
    page: Public,
}

async fn locked_page(req: HttpRequest) -> HttpResponse {
    render(&LockedPage { t: tr(&req), page: Public::new(&req) }, actix_web::http::StatusCode::FORBIDDEN)
}

#[derive(Deserialize)]
struct Empty {}

async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    if let Some((user_id, _)) = session::stage(&session) {
        auth::log_out(&state.env.db, state.env.clock.clone(), user_id, client_ip(&req)).await?;
    }
    // Deletes the server-side state: the old cookie opens nothing any more.
    session.purge();
    Ok(see_other("/login?m=out"))
}

#[derive(Deserialize)]
struct StrengthForm {
    #[serde(default)]
    password: String,
}

/// The live meter's source: the same estimator the server enforces.
async fn strength(req: HttpRequest, CsrfForm(form): CsrfForm<StrengthForm>) -> HttpResponse {
    let t = tr(&req);
    let a = password::assess(&form.password, &[]);
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(serde_json::json!({
        "level": a.level,
        "label": t.get(a.level.label_key()),
        "rules": a.rules,
        "reason": a.reason.map(|k| t.get(k)),
    }))
}

#[derive(Deserialize)]
struct LangQuery {
    next: Option<String>,
}

async fn switch_language(
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<LangQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::parse_office(&path).ok_or(AppError::NotFound)?;
    let next = LocalPath::or(q.next.as_deref(), "/login");
    let secure = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.settings.cookies_secure());
    let cookie = Cookie::build(LANG_COOKIE, lang.code())
        .path("/")
        .max_age(actix_web::cookie::time::Duration::days(365))
        .same_site(SameSite::Lax)
        .secure(secure)
        .http_only(true)
        .finish();
    Ok(HttpResponse::SeeOther().cookie(cookie).insert_header((header::LOCATION, next)).finish())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next(Some("/settings/shop")), "/settings/shop");
        assert_eq!(safe_next(Some("//evil.example")), "/orders");
        assert_eq!(safe_next(Some("https://evil.example")), "/orders");
        assert_eq!(safe_next(Some("/\\evil.example")), "/orders");
        assert_eq!(safe_next(Some("/login/code")), "/orders");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/orders");
        assert_eq!(safe_next(None), "/orders");
    }
}
