//! Webhook endpoints (DESIGN §4): `POST /webhook-endpoints` `{url, events}` answers `201`
//! with the secret, shown this once; `GET` one or all, `DELETE`; the key decides the mode. They
//! are the settings screen's URL rules. `GET /events?delivery=failed` lists the events whose
//! calls failed.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiClient;
use super::body;
use super::error::{ApiError, ErrorBody};
use super::idempotency::{self, json, reply};
use crate::domain::FieldError;
use crate::services::notifications::{self as service, DeliveryState, Endpoint, Keys};
use crate::services::{Scope, ServiceError};
use crate::web::AppState;

/// A new endpoint: where to call, on which events.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewWebhookEndpoint)]
pub struct CreateEndpointRequest {
    /// `http` or `https`. In PRODUCTION neither loopback, private nor link-local addresses.
    pub url: String,
    /// Among `payment.accepted`, `payment.refused`, `order.expired`, `order.cancelled`,
    /// `refund.created`, `instalment.failed`.
    pub events: Vec<String>,
}

/// A webhook endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEndpoint)]
pub struct EndpointObject {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    /// TEST or PRODUCTION: the key's.
    pub mode: &'static str,
    /// False once the endpoint answered 410 Gone (or was turned off in the back office).
    pub enabled: bool,
    /// `whsec_…`: only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl EndpointObject {
    fn new(e: &Endpoint, secret: Option<String>) -> Self {
        EndpointObject {
            id: e.id,
            url: e.url.clone(),
            events: e.events.iter().map(|e| e.as_str().to_string()).collect(),
            mode: e.mode.as_str(),
            enabled: e.enabled,
            secret,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookEndpointList)]
pub struct EndpointList {
    pub items: Vec<EndpointObject>,
}

/// An event and where its calls stand.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Event)]
pub struct EventObject {
    /// `evt_…`, the `webhook-id` of its calls.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: DateTime<Utc>,
    pub mode: String,
    pub delivery: DeliveryState,
    /// Calls made so far, all endpoints together.
    pub attempts: usize,
    /// The body's `data`: the order and transaction objects as the call carries them.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = EventList)]
pub struct EventList {
    pub items: Vec<EventObject>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// `failed`: only the events with a failed call (retrying or given up).
    pub delivery: Option<String>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 200, 50 by default.
    pub limit: Option<String>,
}

fn keys(state: &AppState) -> Keys {
    Keys::of(&state.settings)
}

fn scope(state: &AppState, client: &ApiClient) -> Scope {
    Scope {
        actor: client.actor.clone(),
        shop: client.shop.clone(),
        mode: client.mode,
        public_url: state.settings.public_url.clone(),
    }
}

fn endpoint_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or(ApiError::NotFound)
}

#[utoipa::path(
    post,
    path = "/api/v1/webhook-endpoints",
    operation_id = "createWebhookEndpoint",
    tag = "webhooks",
    request_body = CreateEndpointRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe.")),
    responses(
        (status = 201, description = "The endpoint, with its secret: shown this once.", body = EndpointObject),
        (status = 400, description = "A body the API cannot read, or a URL or event refused (`field` names it).", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still running.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    bytes: Bytes,
) -> Result<HttpResponse, ApiError> {
    let input = body::parse::<CreateEndpointRequest>(&bytes, false);
    let (env, scope, keys) = (state.env(), scope(&state, &client), keys(&state));
    idempotency::run_async(&state, &client, &req, &bytes, input, move |asked: CreateEndpointRequest| async move {
        let (endpoint, secret) = service::create_endpoint(&env, scope, keys, asked.url, asked.events).await?;
        Ok(reply(StatusCode::CREATED, &EndpointObject::new(&endpoint, Some(secret))))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/webhook-endpoints",
    operation_id = "listWebhookEndpoints",
    tag = "webhooks",
    responses(
        (status = 200, description = "The endpoints of this shop and mode (no secrets).", body = EndpointList),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn list(state: web::Data<AppState>, client: ApiClient) -> Result<HttpResponse, ApiError> {
    let found = service::endpoints(&state.env(), client.shop.id, client.mode).await?;
    let items = found.iter().map(|e| EndpointObject::new(e, None)).collect();
    Ok(json(StatusCode::OK, &EndpointList { items }))
}

#[utoipa::path(
    get,
    path = "/api/v1/webhook-endpoints/{id}",
    operation_id = "getWebhookEndpoint",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 200, description = "The endpoint (no secret).", body = EndpointObject),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such endpoint for this shop and mode.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let found = service::endpoint(&state.env(), client.shop.id, client.mode, endpoint_id(&path)?).await?;
    Ok(json(StatusCode::OK, &EndpointObject::new(&found, None)))
}

#[utoipa::path(
    delete,
    path = "/api/v1/webhook-endpoints/{id}",
    operation_id = "deleteWebhookEndpoint",
    tag = "webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted: no more calls. Its past deliveries stay visible."),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such endpoint for this shop and mode.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn delete(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = endpoint_id(&path)?;
    service::delete_endpoint(&state.env(), scope(&state, &client), id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(
    get,
    path = "/api/v1/events",
    operation_id = "listEvents",
    tag = "webhooks",
    params(EventQuery),
    responses(
        (status = 200, description = "The events of this shop and mode, newest first.", body = EventList),
        (status = 400, description = "A parameter the API cannot read (`field` names it).", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn events(state: web::Data<AppState>, client: ApiClient, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let pairs = body::query_pairs(req.query_string())?;
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let mut errors = Vec::new();
    let failed_only = match value("delivery") {
        None | Some("") => false,
        Some("failed") => true,
        Some(_) => {
            errors.push(FieldError::new("delivery", "events.delivery_invalid"));
            false
        }
    };
    let cursor = match value("cursor") {
        None | Some("") => None,
        Some(raw) => raw.parse::<i64>().ok().filter(|c| *c > 0).or_else(|| {
            errors.push(FieldError::new("cursor", "cursor.invalid"));
            None
        }),
    };
    let limit = body::page_limit(value("limit"), &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors).into());
    }
    let (page, next) =
        service::deliveries(&state.env(), client.shop.id, client.mode, failed_only, cursor, limit).await?;
    let items = page
        .into_iter()
        .map(|d| {
            let data = serde_json::from_str::<serde_json::Value>(&d.event.body)
                .ok()
                .and_then(|mut v| v.get_mut("data").map(serde_json::Value::take))
                .unwrap_or(serde_json::Value::Null);
            EventObject {
                id: d.event.public_id.clone(),
                kind: d.event.event_type.clone(),
                created: d.event.created_at.and_utc(),
                mode: d.event.mode.clone(),
                delivery: service::delivery_state(&d.jobs),
                attempts: d.attempts.len(),
                data,
            }
        })
        .collect();
    Ok(json(StatusCode::OK, &EventList { items, next_cursor: next.map(|n| n.to_string()) }))
}
