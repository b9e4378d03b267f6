//! `CsrfForm<T>`: a URL-encoded form whose `csrf_token` was checked before the handler runs.
//! Every back-office POST takes one, so no form can forget the check.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::AppError;
use super::security::{CSRF_FIELD, CsrfSeed};
use crate::domain::text::has_control;

pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct TokenOnly {
    csrf_token: Option<String>,
}

/// The session's CSRF seed, when its cookie came with the request (a seed minted for this
/// response cannot vouch for a token the client already had).
fn seed_of(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<CsrfSeed>().filter(|s| s.from_cookie).map(|s| s.value.clone())
}

/// Checks a CSRF token read some other way than a URL-encoded form (a multipart upload).
pub fn verify(req: &HttpRequest, state: &AppState, token: Option<&str>) -> Result<(), AppError> {
    if state.csrf.verify(seed_of(req).as_deref(), token) { Ok(()) } else { Err(AppError::Csrf) }
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let seed = seed_of(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let is_form = req.content_type() == "application/x-www-form-urlencoded";
        Box::pin(async move {
            let body = body.await.map_err(|_| AppError::BadRequest("body"))?;
            let state = state.ok_or_else(|| AppError::internal("no app state"))?;
            let token: TokenOnly = serde_urlencoded::from_bytes(&body).unwrap_or(TokenOnly { csrf_token: None });
            if !state.csrf.verify(seed.as_deref(), token.csrf_token.as_deref()) {
                return Err(AppError::Csrf);
            }
            if !is_form {
                return Err(AppError::BadRequest("content type"));
            }
            refuse_control(&body)?;
            serde_urlencoded::from_bytes::<T>(&body).map(CsrfForm).map_err(|_| AppError::BadRequest(CSRF_FIELD))
        })
    }
}

/// Refuses a form or query string holding a control character in any name or value (a NUL
/// byte cannot be stored in PostgreSQL, none has a place in typed text), before any handler
/// reads it, so nothing is half-written.
pub fn refuse_control(encoded: &[u8]) -> Result<(), AppError> {
    let pairs: Pairs = serde_urlencoded::from_bytes(encoded).unwrap_or_default();
    if pairs.iter().any(|(k, v)| has_control(k) || has_control(v)) {
        return Err(AppError::Refused(crate::domain::text::CONTROL_CHARACTER));
    }
    Ok(())
}

/// Middleware applying [`refuse_control`] to the query string of every page outside the
/// API (which answers its own JSON error per field).
pub async fn control_free_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    if !req.path().starts_with("/api/")
        && let Err(refused) = refuse_control(req.query_string().as_bytes())
    {
        // Answered here, inside the error pages' middleware, which renders it.
        return Ok(req.error_response(refused));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// A form's values parsed as (name, value) pairs, for repeated fields such as checkboxes.
pub type Pairs = Vec<(String, String)>;

/// The token a page embeds in its forms.
pub fn token(req: &HttpRequest) -> String {
    let seed = req.extensions().get::<CsrfSeed>().map(|s| s.value.clone()).unwrap_or_default();
    req.app_data::<web::Data<AppState>>().map(|s| s.csrf.token_for(&seed)).unwrap_or_default()
}

/// A multipart form of a CSRF token and one file, as read.
pub struct Upload {
    pub csrf: Option<String>,
    /// At most `max + 1` bytes: one over the limit is enough to refuse it, the rest is not kept.
    pub file: Vec<u8>,
    /// The body was not a well-formed multipart form.
    pub broken: bool,
}

impl Upload {
    /// Reads the token (`csrf_token`) and the file field `file_field`, other fields ignored.
    /// A broken body is refused by the caller after the CSRF check (which it fails unless its
    /// token came first), never half read.
    pub async fn read(mut payload: actix_multipart::Multipart, file_field: &str, max: usize) -> Upload {
        use futures_util::StreamExt;
        let mut upload = Upload { csrf: None, file: Vec::new(), broken: false };
        'fields: while let Some(field) = payload.next().await {
            let Ok(mut field) = field else {
                upload.broken = true;
                break;
            };
            let name = field.name().unwrap_or_default().to_string();
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let Ok(chunk) = chunk else {
                    upload.broken = true;
                    break 'fields;
                };
                let room = (max + 1).saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            if name == CSRF_FIELD {
                upload.csrf = String::from_utf8(bytes).ok();
            } else if name == file_field {
                upload.file = bytes;
            }
        }
        upload
    }
}
