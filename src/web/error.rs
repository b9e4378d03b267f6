//! One error type for the HTML side, rendered as a page in the visitor's language by the
//! `render_errors` middleware (which also catches actix's own 404/405/400 responses). The
//! detail of an unexpected error goes to the log once, never to the page.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::i18n::{Lang, Tr};
use crate::services::DbError;
use crate::services::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF token missing or invalid")]
    Csrf,
    #[error("too many attempts")]
    RateLimited,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Input refused with a message of its own (an i18n key): a control character, …
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error("login required")]
    LoginRequired { next: String },
    #[error("redirect")]
    Redirect(String),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("user has no shop")]
    NoShop,
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        AppError::Internal(e.to_string())
    }

    fn keys(&self) -> (&'static str, &'static str) {
        match self {
            AppError::NotFound => ("error.not_found.title", "error.not_found.text"),
            AppError::Forbidden => ("error.forbidden.title", "error.forbidden.text"),
            AppError::Csrf => ("error.csrf.title", "error.csrf.text"),
            AppError::RateLimited => ("error.rate.title", "error.rate.text"),
            AppError::BadRequest(_) => ("error.bad_request.title", "error.bad_request.text"),
            AppError::Refused(key) => ("error.bad_request.title", key),
            AppError::NoShop => ("error.no_shop.title", "error.no_shop.text"),
            AppError::Conflict(key) => ("error.conflict.title", key),
            _ => ("error.internal.title", "error.internal.text"),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::Internal(e.to_string())
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::Invalid(_) => AppError::BadRequest("invalid"),
            ServiceError::Conflict(key) => AppError::Conflict(key),
            ServiceError::Db(e) => e.into(),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf | AppError::NoShop => StatusCode::FORBIDDEN,
            AppError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest(_) | AppError::Refused(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::LoginRequired { .. } | AppError::Redirect(_) => StatusCode::SEE_OTHER,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::LoginRequired { next } => {
                let location = if next == "/" || next.is_empty() {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", urlencode(next))
                };
                HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
            }
            AppError::Redirect(to) => HttpResponse::SeeOther().insert_header((header::LOCATION, to.as_str())).finish(),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                HttpResponse::InternalServerError().finish()
            }
            other => {
                if let AppError::Csrf = other {
                    tracing::warn!("form refused: CSRF token missing or invalid");
                }
                HttpResponse::build(self.status_code()).finish()
            }
        }
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    t: Tr,
    status: u16,
    title: &'static str,
    text: &'static str,
    /// Where "back" goes; `None` on a buyer's page, which has nowhere in paylink to go back to.
    back: Option<&'static str>,
}

/// Middleware: turns an empty error response into a page in the visitor's language.
pub async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let already_rendered = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.to_str().unwrap_or("");
        v.starts_with("text/html") || v.starts_with("application/json")
    });
    if already_rendered {
        return Ok(res);
    }
    // A link a buyer was given that names no order: a buyer's page, without back-office words.
    let buyer = status == StatusCode::NOT_FOUND && res.request().path().starts_with("/t/");
    let (title, text) = match res.response().error().and_then(|e| e.as_error::<AppError>()) {
        _ if buyer => ("pay.unknown.title", "pay.unknown.text"),
        Some(e) => e.keys(),
        None => match status {
            StatusCode::NOT_FOUND => AppError::NotFound.keys(),
            StatusCode::FORBIDDEN => AppError::Forbidden.keys(),
            s if s.is_client_error() => AppError::BadRequest("").keys(),
            _ => AppError::Internal(String::new()).keys(),
        },
    };
    let lang = if buyer { Lang::buyer_of(res.request()) } else { Lang::of(res.request()) };
    let t = Tr::new(lang);
    let page = ErrorPage {
        t,
        status: status.as_u16(),
        title: t.get(title),
        text: t.get(text),
        back: match () {
            _ if buyer => None,
            _ if status == StatusCode::FORBIDDEN && title == "error.csrf.title" => Some("/login"),
            _ => Some("/"),
        },
    };
    let body = page.render().unwrap_or_else(|_| t.get(title).to_string());
    let (req, mut res) = res.into_parts();
    let headers = std::mem::take(res.headers_mut());
    let mut out = HttpResponse::build(status);
    for (name, value) in headers.iter() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            out.append_header((name.clone(), value.clone()));
        }
    }
    let out = out.content_type("text/html; charset=utf-8").body(body);
    Ok(ServiceResponse::new(req, out))
}
