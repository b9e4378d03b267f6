//! REST API `/api/v1` (DESIGN §4): JSON, HTTP Basic `shop_id:api_key`, the key deciding TEST
//! or PRODUCTION.
//!
//! Every answer is JSON, errors included: the scope's extractor configurations and the
//! `json_errors` middleware turn whatever actix would answer by itself (unknown route, wrong
//! method, unreadable body) into the same envelope as the handlers' own `ApiError`s, so the
//! HTML error pages never show here. No cookie is read or set: no session, no CSRF.
//! The OpenAPI document is generated from the handlers and types themselves and served at
//! `GET /api/v1/openapi.json`.

pub mod auth;
pub mod body;
pub mod error;
pub mod idempotency;
pub mod imports;
pub mod orders;
pub mod transactions;
pub mod webhooks;

use std::sync::LazyLock;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, ResponseError, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use error::{ApiError, mime_json};

pub const PREFIX: &str = "/api/v1";
/// Large enough for a long recipient list and an HTML message.
const MAX_BODY: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "paylink API",
        version = "1",
        description = "Payment orders and transactions of one shop. Authenticate with HTTP Basic: the shop id as user name, \
                       its TEST or PRODUCTION API key as password; the key decides the mode. Amounts are \
                       integers in minor units. Errors answer `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    paths(
        orders::create,
        orders::list,
        orders::get,
        orders::update,
        orders::cancel,
        orders::reactivate,
        orders::resend,
        imports::create,
        imports::get,
        transactions::list,
        transactions::get,
        transactions::capture,
        transactions::cancel,
        transactions::refund,
        webhooks::create,
        webhooks::list,
        webhooks::get,
        webhooks::delete,
        webhooks::events,
        openapi
    ),
    modifiers(&BasicAuth),
    tags(
        (name = "payment-orders", description = "Payment orders (links sent by e-mail or SMS, URLs, invoices)"),
        (name = "transactions", description = "Payment attempts that reached the acquirer: capture, cancel, refund"),
        (name = "webhooks", description = "Signed calls to the merchant's server on each event, and the events' deliveries")
    )
)]
pub struct ApiDoc;

struct BasicAuth;

impl utoipa::Modify for BasicAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
        // utoipa's derive has no `minProperties` for a struct: an empty PATCH is refused
        // (`patch.empty`), so the schema says so.
        let changes = doc.components.as_mut().and_then(|c| c.schemas.get_mut("PaymentOrderChanges"));
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(o))) = changes {
            o.min_properties = Some(1);
        }
    }
}

static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serialises"));

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "getOpenApiDocument",
    tag = "meta",
    responses((status = 200, description = "This document (OpenAPI 3.1).", content_type = "application/json")),
    security(())
)]
pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type(mime_json()).body(DOCUMENT.as_str())
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .app_data(web::JsonConfig::default().limit(MAX_BODY).error_handler(|_, _| ApiError::InvalidJson.into()))
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|_, _| ApiError::BadRequest("invalid_query").into()))
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .wrap(from_fn(json_errors))
            .service(web::resource("/openapi.json").route(web::get().to(openapi)))
            .service(
                web::resource("/payment-orders")
                    .route(web::get().to(orders::list))
                    .route(web::post().to(orders::create)),
            )
            // Before `/payment-orders/{id}`, which would take `import` for an id.
            .service(
                web::resource("/payment-orders/import")
                    .app_data(web::PayloadConfig::new(crate::services::imports::MAX_BYTES))
                    .route(web::post().to(imports::create)),
            )
            .service(web::resource("/imports/{id}").route(web::get().to(imports::get)))
            .service(
                web::resource("/payment-orders/{id}")
                    .route(web::get().to(orders::get))
                    .route(web::patch().to(orders::update)),
            )
            .service(web::resource("/payment-orders/{id}/cancel").route(web::post().to(orders::cancel)))
            .service(web::resource("/payment-orders/{id}/reactivate").route(web::post().to(orders::reactivate)))
            .service(web::resource("/payment-orders/{id}/resend").route(web::post().to(orders::resend)))
            .service(
                web::resource("/webhook-endpoints")
                    .route(web::get().to(webhooks::list))
                    .route(web::post().to(webhooks::create)),
            )
            .service(
                web::resource("/webhook-endpoints/{id}")
                    .route(web::get().to(webhooks::get))
                    .route(web::delete().to(webhooks::delete)),
            )
            .service(web::resource("/events").route(web::get().to(webhooks::events)))
            .service(web::resource("/transactions").route(web::get().to(transactions::list)))
            .service(web::resource("/transactions/{id}").route(web::get().to(transactions::get)))
            .service(web::resource("/transactions/{id}/capture").route(web::post().to(transactions::capture)))
            .service(web::resource("/transactions/{id}/cancel").route(web::post().to(transactions::cancel)))
            .service(web::resource("/transactions/{id}/refunds").route(web::post().to(transactions::refund)))
            .default_service(web::to(|| async { Err::<HttpResponse, _>(ApiError::NotFound) })),
    );
}

/// Gives the JSON envelope to error responses actix made without one (405, 413, …).
async fn json_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?.map_into_boxed_body();
    let status = res.status();
    let is_json =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let mut out = ApiError::from_status(status).error_response();
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    Ok(ServiceResponse::new(req, out))
}
