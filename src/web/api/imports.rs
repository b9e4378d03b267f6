//! CSV imports of invoice orders (DESIGN §4): `POST /payment-orders/import` with a `text/csv`
//! body answers `202` with the import (DONE or FAILED at once for a small file, RUNNING for a
//! large one until the worker ends it), readable at `GET /imports/{id}`.

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::ApiClient;
use super::error::{ApiError, ErrorBody, message};
use super::idempotency::{self, json, reply};
use crate::domain::ids::ImportId;
use crate::domain::import::ImportStatus;
use crate::services::Conn;
use crate::services::imports::{self as service, Import};
use crate::web::AppState;

/// One faulty line of a file: `line` 1 is the header row, 0 the file itself.
#[derive(Serialize, ToSchema)]
pub struct ImportError {
    pub line: usize,
    /// The column (`reference`, `amount`, `currency`, `description`, `expires_on`) or `file`.
    pub field: String,
    pub code: String,
    /// The English text of the code.
    pub message: String,
}

/// An import: every order of the file created (DONE), or none and every fault (FAILED).
#[derive(Serialize, ToSchema)]
pub struct ImportObject {
    pub id: i64,
    pub status: ImportStatus,
    /// The file's data lines.
    pub total: i32,
    /// Orders created: `total` when DONE, 0 otherwise.
    pub created: i32,
    pub errors: Vec<ImportError>,
    /// The SHA-256 of the file, as audited.
    pub sha256: String,
}

impl ImportObject {
    fn new(i: &Import) -> Self {
        ImportObject {
            id: i.id.0,
            status: i.status,
            total: i.total,
            created: i.created,
            errors: i
                .errors
                .iter()
                .map(|e| ImportError {
                    line: e.line,
                    field: e.field.clone(),
                    code: e.code.clone(),
                    message: message(&e.code).to_string(),
                })
                .collect(),
            sha256: i.sha256.clone(),
        }
    }
}

fn is_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/csv"))
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-orders/import",
    operation_id = "importPaymentOrders",
    tag = "payment-orders",
    request_body(
        content = String,
        content_type = "text/csv",
        description = "UTF-8 (a BOM is allowed), `;` or `,`, a header row naming the columns `reference`, `amount`, \
                       `currency`, `description`, `expires_on` (`reference` and `amount` mandatory); amounts as typed \
                       in the form (`15,00` or `15.00`), dates `yyyy-mm-dd` at most 3 months ahead. Up to 32 MB."
    ),
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe: 1 to 255 printable ASCII characters, kept 24 hours.")),
    responses(
        (status = 202, description = "The import: DONE (every order created, in one transaction), FAILED (nothing created, every faulty line in `errors`), or RUNNING for a large file, to read again at `/api/v1/imports/{id}`.", body = ImportObject),
        (status = 400, description = "The body is not `text/csv`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 409, description = "A request with this Idempotency-Key is still running.", body = ErrorBody),
        (status = 413, description = "The file is larger than 32 MB.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn create(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let input = if is_csv(&req) { Ok(body.clone()) } else { Err(ApiError::BadRequest("csv_expected")) };
    let clock = state.env.clock.clone();
    let public_url = state.settings.public_url.clone();
    let caller = client.clone();
    idempotency::run(&state, &client, &req, &body, input, move |conn: &mut Conn, file: Bytes| {
        let import = service::submit_in(conn, clock.as_ref(), &caller.context(&public_url), &file)?;
        Ok(reply(StatusCode::ACCEPTED, &ImportObject::new(&import)))
    })
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/imports/{id}",
    operation_id = "getImport",
    tag = "payment-orders",
    params(("id" = i64, Path, description = "The import's id")),
    responses(
        (status = 200, description = "The import.", body = ImportObject),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such import for this shop and mode.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.parse::<i64>().ok().filter(|id| *id > 0).map(ImportId).ok_or(ApiError::NotFound)?;
    let import = service::find(&state.env(), client.shop.id, client.mode, id).await?;
    Ok(json(StatusCode::OK, &ImportObject::new(&import)))
}
