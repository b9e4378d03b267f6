//! The API's one error type and its JSON envelope:
//! `{"error": {"code", "message", "field", "details"}}`.
//!
//! `code` is stable: a refusal of the domain or a service keeps its own code
//! (`amount.out_of_range`, `reference.invoice_taken`, `order.not_running`), the API's own
//! refusals use plain snake_case (`unauthorized`, `not_found`, `invalid_json`,
//! `unknown_field`, `idempotency_key_reused`, …). `message` is the English text of the code;
//! `details` lists every field refused when there are several. Anything unexpected is an
//! opaque `internal_error`, its cause logged once, here.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::FieldError;
use crate::services::DbError;
use crate::services::ServiceError;
use crate::web::i18n::{Lang, Tr};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("missing or wrong API credentials")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body is not a JSON object.
    #[error("invalid JSON")]
    InvalidJson,
    #[error("unknown field {0}")]
    UnknownField(String),
    /// A JSON value of the wrong type (a float or a string where an integer is due, …).
    #[error("wrong type for {0}")]
    InvalidType(String),
    /// A text value (body or query string) holding a control character.
    #[error("control character in {0}")]
    ControlCharacter(String),
    #[error("invalid Idempotency-Key header")]
    IdempotencyKeyInvalid,
    #[error("Idempotency-Key reused with another request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still running")]
    IdempotencyInProgress,
    /// Refused values, each naming its field (the first one fills `code` and `field`).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A request the API could not read, with no better code.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The action does not apply to the order's current state.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("internal error: {0}")]
    Internal(String),
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code: a domain code (`amount.out_of_range`) or an API one (`not_found`).
    pub code: String,
    /// English explanation of the code.
    pub message: String,
    /// The request field at fault, when one is.
    #[schema(required = true)]
    pub field: Option<String>,
    /// Every refused field, when the request had several.
    pub details: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub code: String,
    pub message: String,
    pub field: String,
}

/// Field names of the domain that the API spells otherwise.
fn api_field(field: &str) -> &str {
    match field {
        "bcc_other" => "bcc",
        "expires_on" => "expires_at",
        other => other,
    }
}

/// The English text of a code: domain codes are i18n keys, the API's own live under `api.`.
pub fn message(code: &str) -> &'static str {
    let t = Tr::new(Lang::En);
    if code.contains('.') { t.get(code) } else { t.get(&format!("api.{code}")) }
}

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::InvalidJson => "invalid_json",
            ApiError::UnknownField(_) => "unknown_field",
            // An amount is an integer of minor units: say so rather than "wrong type".
            ApiError::InvalidType(field) if field == "amount" => "amount.not_integer",
            ApiError::InvalidType(_) => "invalid_type",
            ApiError::ControlCharacter(_) => crate::domain::text::CONTROL_CHARACTER,
            ApiError::IdempotencyKeyInvalid => "idempotency_key_invalid",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::IdempotencyInProgress => "idempotency_in_progress",
            ApiError::Invalid(errors) => errors.first().map_or("invalid_request", |e| e.code),
            ApiError::BadRequest(code) => code,
            ApiError::Conflict(code) => code,
            ApiError::Forbidden => "forbidden",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ApiError::UnknownField(f) | ApiError::InvalidType(f) | ApiError::ControlCharacter(f) => Some(f.clone()),
            ApiError::IdempotencyKeyInvalid => Some("Idempotency-Key".to_string()),
            ApiError::Invalid(errors) => errors.first().map(|e| api_field(e.field).to_string()),
            _ => None,
        }
    }

    /// A status for the responses actix makes itself (unknown route, wrong method, …).
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized,
            StatusCode::NOT_FOUND => ApiError::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            s if s.is_client_error() => ApiError::BadRequest("bad_request"),
            s => ApiError::Internal(format!("status {s} without a body")),
        }
    }

    pub fn body(&self) -> ErrorBody {
        let code = self.code();
        let details = match self {
            ApiError::Invalid(errors) => errors
                .iter()
                .map(|e| FieldProblem {
                    code: e.code.to_string(),
                    message: message(e.code).to_string(),
                    field: api_field(e.field).to_string(),
                })
                .collect(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message: message(code).to_string(),
                field: self.field(),
                details,
            },
        }
    }

    /// The body as stored for an idempotent replay.
    pub fn body_text(&self) -> String {
        serde_json::to_string(&self.body()).expect("serialisable")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => ApiError::Invalid(errors),
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Forbidden => ApiError::Forbidden,
            ServiceError::Conflict(code) => ApiError::Conflict(code),
            ServiceError::Db(e) => e.into(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidJson
            | ApiError::UnknownField(_)
            | ApiError::InvalidType(_)
            | ApiError::ControlCharacter(_)
            | ApiError::IdempotencyKeyInvalid
            | ApiError::Invalid(_)
            | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            // The acquirer did not do it, or did not say: a gateway's error, worth a retry later.
            ApiError::Conflict("acquirer.unreachable") => StatusCode::BAD_GATEWAY,
            ApiError::Conflict("acquirer.pending") => StatusCode::GATEWAY_TIMEOUT,
            ApiError::IdempotencyInProgress | ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(error = %detail, "API request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        if let ApiError::Unauthorized = self {
            res.insert_header((header::WWW_AUTHENTICATE, r#"Basic realm="paylink""#));
        }
        res.content_type(mime_json()).body(self.body_text())
    }
}

pub fn mime_json() -> &'static str {
    "application/json"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_api_has_a_message() {
        let all = [
            ApiError::Unauthorized,
            ApiError::NotFound,
            ApiError::MethodNotAllowed,
            ApiError::PayloadTooLarge,
            ApiError::InvalidJson,
            ApiError::UnknownField("x".into()),
            ApiError::InvalidType("amount".into()),
            ApiError::InvalidType("x".into()),
            ApiError::ControlCharacter("x".into()),
            ApiError::IdempotencyKeyInvalid,
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInProgress,
            ApiError::Invalid(Vec::new()),
            ApiError::BadRequest("bad_request"),
            ApiError::Forbidden,
            ApiError::Internal(String::new()),
        ];
        for e in all {
            assert_ne!(message(e.code()), "??", "{}", e.code());
        }
        for code in super::super::orders::API_ONLY_CODES {
            assert_ne!(message(code), "??", "{code}");
        }
    }

    #[test]
    fn field_errors_keep_their_domain_code_and_name_the_api_field() {
        let e = ApiError::Invalid(vec![
            FieldError::new("bcc_other", "recipients.invalid"),
            FieldError::new("amount", "amount.out_of_range"),
        ]);
        let body = e.body();
        assert_eq!(body.error.code, "recipients.invalid");
        assert_eq!(body.error.field.as_deref(), Some("bcc"));
        assert_eq!(body.error.details.len(), 2);
        assert_eq!(body.error.details[1].message, message("amount.out_of_range"));
        assert_eq!(ApiError::Conflict("order.not_running").code(), "order.not_running");
    }
}
