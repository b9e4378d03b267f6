//! `Idempotency-Key` on every POST (DESIGN §4), kept 24 hours per shop.
//!
//! The key is claimed first (`services::idempotency`: a unique insert in its own short
//! transaction, by this instance, whose claims live as long as it beats), so a second request
//! with the same key sees it at once: while the first still runs, it is `409
//! idempotency_in_progress`; once the first is answered, the same request (method, path, mode
//! and body, hashed) gets the first response again (same status, same body) and another
//! request is `422 idempotency_key_reused`. The use case then runs and its response is stored
//! in the use case's own transaction, so an order is never created without its stored answer.
//! A request refused before the use case (unreadable body) or failing with a 5xx gives the
//! key back.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse};
use diesel::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::auth::ApiClient;
use super::error::{ApiError, mime_json};
use crate::domain::ids::ShopId;
use crate::services::Conn;
use crate::services::idempotency::{self, Claim, ClaimError};
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

/// A JSON answer, as sent and as stored for a replay.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub body: String,
}

impl Reply {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        Reply { status, body: serde_json::to_string(value).expect("serialisable") }
    }

    fn of_error(e: &ApiError) -> Self {
        use actix_web::ResponseError;
        Reply { status: e.status_code(), body: e.body_text() }
    }

    pub fn into_response(self, replayed: bool) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if replayed {
            res.insert_header(("Idempotent-Replayed", "true"));
        }
        res.content_type(mime_json()).body(self.body)
    }
}

fn request_hash(req: &HttpRequest, client: &ApiClient, body: &[u8]) -> String {
    let target = req.uri().path_and_query().map_or(req.path(), |p| p.as_str());
    let mut h = Sha256::new();
    for part in [req.method().as_str().as_bytes(), target.as_bytes(), client.mode.as_str().as_bytes()] {
        h.update(part);
        h.update(b"\n");
    }
    h.update(body);
    hex::encode(h.finalize())
}

/// Runs a write use case under the request's idempotency key, if it has one. `input` is the
/// request already parsed (or why it could not be); `op` runs in one transaction.
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
    let Some(key) = IdempotencyKey::of(req)? else {
        let input = input?;
        return state.env.db.write(move |conn| op(conn, input)).await.map(|r| r.into_response(false));
    };
    let shop = client.shop.id;
    let hash = request_hash(req, client, body);
    let now = state.env.clock.now_naive();
    if let Some(replayed) = claim(state, shop, &key, hash, now).await? {
        return Ok(replayed.into_response(true));
    }
    let input = match input {
        Ok(input) => input,
        Err(e) => {
            give_back(state, shop, key).await;
            return Err(e);
        }
    };
    let stored_key = key.clone();
    let outcome = state
        .env
        .db
        .write(move |conn| {
            // The use case in a savepoint: a refusal rolls back its writes, not the stored answer.
            let result = match conn.transaction(|conn| op(conn, input)) {
                Err(ApiError::Internal(detail)) => return Err(ApiError::Internal(detail)),
                other => other,
            };
            let reply = match &result {
                Ok(reply) => reply.clone(),
                Err(refused) => Reply::of_error(refused),
            };
            idempotency::complete(conn, shop, stored_key.as_str(), i32::from(reply.status.as_u16()), &reply.body)
                .map_err(ApiError::from)?;
            Ok(result)
        })
        .await;
    match outcome {
        Ok(Ok(reply)) => Ok(reply.into_response(false)),
        Ok(Err(refused)) => Err(refused),
        Err(e) => {
            give_back(state, shop, key).await;
            Err(e)
        }
    }
}

/// [`run`] for a use case that owns its transactions and calls the acquirer (capture, cancel,
/// refund): the key is claimed first, the use case runs, and its answer is stored in a
/// transaction of its own. A crash between the two leaves the key claimed and unanswered:
/// a retry then gets 409 until the claim lapses, and the operation itself is reconciled by
/// the worker, never done twice.
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
    let Some(key) = IdempotencyKey::of(req)? else {
        return op(input?).await.map(|r| r.into_response(false));
    };
    let shop = client.shop.id;
    let hash = request_hash(req, client, body);
    let now = state.env.clock.now_naive();
    if let Some(replayed) = claim(state, shop, &key, hash, now).await? {
        return Ok(replayed.into_response(true));
    }
    let result = match input {
        Ok(input) => op(input).await,
        Err(e) => Err(e),
    };
    let reply = match &result {
        Err(ApiError::Internal(_)) => {
            give_back(state, shop, key).await;
            return result.map(|r| r.into_response(false));
        }
        Ok(reply) => reply.clone(),
        Err(refused) => Reply::of_error(refused),
    };
    let (status, body) = (i32::from(reply.status.as_u16()), reply.body.clone());
    let stored = state.env.db.write(move |conn| idempotency::complete(conn, shop, key.as_str(), status, &body)).await;
    if let Err(e) = stored {
        tracing::error!(shop.id = %shop, error = %e, "an answer could not be kept for its idempotency key");
    }
    result.map(|r| r.into_response(false))
}

/// Claims the key for this instance. `Some`: answered already, the stored reply.
async fn claim(
    state: &AppState,
    shop: ShopId,
    key: &IdempotencyKey,
    hash: String,
    now: chrono::NaiveDateTime,
) -> Result<Option<Reply>, ApiError> {
    let (instance, key) = (state.instance.clone(), key.as_str().to_string());
    let claimed = state.env.db.write(move |conn| idempotency::claim(conn, &instance, shop, &key, &hash, now)).await;
    match claimed {
        Ok(Claim::Ours) => Ok(None),
        Ok(Claim::Answered { status, body }) => {
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| ApiError::internal(format!("stored status {status}")))?;
            Ok(Some(Reply { status, body }))
        }
        Err(ClaimError::InProgress) => Err(ApiError::IdempotencyInProgress),
        Err(ClaimError::Reused) => Err(ApiError::IdempotencyKeyReused),
        Err(ClaimError::Service(e)) => Err(e.into()),
    }
}

/// Gives a key back after a request that did not run its use case to the end.
async fn give_back(state: &AppState, shop: ShopId, key: IdempotencyKey) {
    idempotency::give_back(&state.env.db, shop, key.as_str().to_string()).await;
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
