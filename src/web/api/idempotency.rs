//! `Idempotency-Key` on every POST (DESIGN §4): the header parsed, and the use case run under
//! it by `services::idempotency` (claim, run, keep the answer; a replay is marked
//! `Idempotent-Replayed: true`). A claim still running is `409 idempotency_in_progress`, a key
//! answered for another request `422 idempotency_key_reused`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use super::auth::ApiClient;
use super::error::{ApiError, mime_json};
use crate::services::Conn;
use crate::services::idempotency::{self, Answer, ClaimError, Keyed, Refusal, Reply};
use crate::web::AppState;

pub const HEADER: &str = "Idempotency-Key";
const MAX_LEN: usize = 255;

/// A key as the client sent it: 1 to 255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if raw.is_empty() || raw.len() > MAX_LEN || !raw.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(ApiError::IdempotencyKeyInvalid);
        }
        Ok(IdempotencyKey(raw.to_string()))
    }

    /// The request's key, if it sent one.
    pub fn of(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        match req.headers().get(HEADER) {
            None => Ok(None),
            Some(v) => v.to_str().map_err(|_| ApiError::IdempotencyKeyInvalid).and_then(Self::parse).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A JSON response with `status`, not kept.
pub fn json(status: StatusCode, value: &impl Serialize) -> HttpResponse {
    respond(Answer::Fresh(reply(status, value)))
}

/// A JSON answer with `status`, to keep under a key.
pub fn reply(status: StatusCode, value: &impl Serialize) -> Reply {
    Reply { status: status.as_u16(), body: serde_json::to_string(value).expect("serialisable") }
}

/// The response of an answer, marked when it is a replay.
pub fn respond(answer: Answer) -> HttpResponse {
    let (reply, replayed) = match answer {
        Answer::Fresh(reply) => (reply, false),
        Answer::Replayed(reply) => (reply, true),
    };
    let mut res = HttpResponse::build(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    res.content_type(mime_json()).body(reply.body)
}

impl Refusal for ApiError {
    fn kept(&self) -> Option<Reply> {
        match self {
            ApiError::Internal(_) => None,
            refused => Some(Reply { status: refused.status_code().as_u16(), body: refused.body_text() }),
        }
    }
}

impl From<ClaimError> for ApiError {
    fn from(e: ClaimError) -> Self {
        match e {
            ClaimError::InProgress => ApiError::IdempotencyInProgress,
            ClaimError::Reused => ApiError::IdempotencyKeyReused,
            ClaimError::Service(e) => e.into(),
        }
    }
}

/// The request's key, with what a replay must repeat.
fn keyed(state: &AppState, client: &ApiClient, req: &HttpRequest, body: &[u8]) -> Result<Option<Keyed>, ApiError> {
    let Some(key) = IdempotencyKey::of(req)? else { return Ok(None) };
    let target = req.uri().path_and_query().map_or(req.path(), |p| p.as_str());
    Ok(Some(Keyed {
        shop: client.shop.id,
        key: key.0,
        hash: idempotency::request_hash(req.method().as_str(), target, client.mode.as_str(), body),
        instance: state.instance.clone(),
        now: state.env.clock.now_naive(),
    }))
}

/// Runs a write use case in one transaction under the request's idempotency key, if it has
/// one. `input` is the request already parsed (or why it could not be).
pub async fn run<T, F>(
    state: &AppState,
    client: &ApiClient,
    req: &HttpRequest,
    body: &[u8],
    input: Result<T, ApiError>,
    op: F,
) -> Result<HttpResponse, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, T) -> Result<Reply, ApiError> + Send + 'static,
{
    let keyed = keyed(state, client, req, body)?;
    idempotency::run(&state.env.db, keyed, input, op).await.map(respond)
}

/// [`run`] for a use case that owns its transactions and calls the acquirer.
pub async fn run_async<T, F, Fut>(
    state: &AppState,
    client: &ApiClient,
    req: &HttpRequest,
    body: &[u8],
    input: Result<T, ApiError>,
    op: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(T) -> Fut,
    Fut: std::future::Future<Output = Result<Reply, ApiError>>,
{
    let keyed = keyed(state, client, req, body)?;
    idempotency::run_async(&state.env.db, keyed, input, op).await.map(respond)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_printable_ascii() {
        assert!(IdempotencyKey::parse("6f1c2a90-3b7e-4c2d-9a51-0e8f7d6c5b4a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("clé").is_err());
        assert!(IdempotencyKey::parse("a\tb").is_err());
    }
}
