//! `/api/v1/transactions`: read one, list (by order), capture, cancel, refund. Same rules as
//! the payment orders: HTTP Basic (the key's shop and mode), `Idempotency-Key` on every POST,
//! the JSON error envelope; the transaction object below is also what webhooks will carry.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiClient;
use super::body;
use super::error::{ApiError, ErrorBody};
use super::idempotency::{self, json, reply};
use crate::domain::FieldError;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::listing::TxFilter;
use crate::domain::transaction::TxStatus;
use crate::services::api;
use crate::services::objects::TransactionObject;
use crate::services::operations;
use crate::services::payments::{self as service, TxAction, TxContext};
use crate::web::AppState;

/// A page of transactions, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TransactionList)]
pub struct TransactionList {
    pub items: Vec<TransactionObject>,
    /// Pass as `cursor` for the next page; null on the last one.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A refund of a captured transaction.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewRefund)]
pub struct RefundRequest {
    /// Integer minor units of the transaction's currency; the whole refundable rest when
    /// absent. The total refunded never exceeds the captured amount.
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub amount: Option<i64>,
}

/// No fields: the body of an action may be empty or `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

/// Filters of the list. An empty value (`?status=`) is taken as absent, and the values of
/// `status` and `channel` are also accepted in lower case, as the back office's links send
/// them.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The transactions of this payment order (every attempt, newest first).
    #[param(value_type = Option<i64>)]
    pub order_id: Option<String>,
    /// Upper case as listed (lower case accepted); empty: no filter.
    #[param(value_type = Option<TxStatus>)]
    pub status: Option<String>,
    /// 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

struct ListRequest {
    filter: TxFilter,
    before: Option<i64>,
    limit: i64,
}

impl ListQuery {
    fn from_query_string(raw: &str) -> Result<Self, ApiError> {
        let pairs = super::body::query_pairs(raw)?;
        let mut q = ListQuery::default();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "order_id" => &mut q.order_id,
                "status" => &mut q.status,
                "limit" => &mut q.limit,
                "cursor" => &mut q.cursor,
                _ => return Err(ApiError::UnknownField(key)),
            };
            let value = value.trim();
            *slot = (!value.is_empty()).then(|| value.to_string());
        }
        Ok(q)
    }

    fn parse(self) -> Result<ListRequest, ApiError> {
        let mut errors = Vec::new();
        let mut filter = TxFilter::default();
        if let Some(o) = self.order_id {
            match o.parse::<i64>() {
                Ok(id) if id > 0 => filter.order_id = Some(OrderId(id)),
                _ => errors.push(FieldError::new("order_id", "transactions.search.order_id_invalid")),
            }
        }
        if let Some(s) = self.status {
            filter.status = TxStatus::parse(&s.to_ascii_uppercase());
            if filter.status.is_none() {
                errors.push(FieldError::new("status", "field.choice.invalid"));
            }
        }
        let limit = super::body::page_limit(self.limit.as_deref(), &mut errors);
        let before = self.cursor.and_then(|c| match c.parse::<i64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                errors.push(FieldError::new("cursor", "cursor.invalid"));
                None
            }
        });
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        Ok(ListRequest { filter, before, limit })
    }
}

/// A transaction id from the path; anything else names no transaction.
fn transaction_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or(ApiError::NotFound)
}

fn context(client: &ApiClient) -> TxContext<'_> {
    TxContext {
        actor: &client.actor,
        shops: std::slice::from_ref(&client.shop.id),
        mode: client.mode,
        time_zone: client.shop.settings.time_zone,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/transactions",
    operation_id = "listTransactions",
    tag = "transactions",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of transactions of the key's shop and mode, newest first.", body = TransactionList),
        (status = 400, description = "A refused filter, named in `field`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn list(state: web::Data<AppState>, client: ApiClient, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let request = ListQuery::from_query_string(req.query_string())?.parse()?;
    let (shop, mode): (ShopId, _) = (client.shop.id, client.mode);
    let (items, next) =
        api::transactions_page(&state.env.db, shop, mode, request.filter, request.before, request.limit).await?;
    let body = TransactionList {
        items: items.iter().map(TransactionObject::new).collect(),
        next_cursor: next.map(|id| id.to_string()),
    };
    Ok(json(StatusCode::OK, &body))
}

#[utoipa::path(
    get,
    path = "/api/v1/transactions/{id}",
    operation_id = "getTransaction",
    tag = "transactions",
    params(("id" = i64, Path, description = "The transaction's id")),
    responses(
        (status = 200, description = "The transaction.", body = TransactionObject),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such transaction for this shop and mode.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = transaction_id(&path)?;
    let t = service::find(&state.env(), &context(&client), id).await?;
    Ok(json(StatusCode::OK, &TransactionObject::new(&t)))
}

/// An action on one transaction: capture, cancel. The body is empty or `{}`.
async fn act(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
    action: TxAction,
) -> Result<HttpResponse, ApiError> {
    let input = transaction_id(&path).and_then(|id| body::parse::<NoFields>(&body, true).map(|_| id));
    let (env, caller) = (state.env(), client.clone());
    idempotency::run_async(&state, &client, &req, &body, input, move |id: i64| async move {
        let t = service::perform(&env, &context(&caller), id, action).await?;
        Ok(reply(StatusCode::OK, &TransactionObject::new(&t)))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/capture",
    operation_id = "captureTransaction",
    tag = "transactions",
    params(
        ("id" = i64, Path, description = "The transaction's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe."),
    ),
    responses(
        (status = 200, description = "AUTHORISED: captured now (CAPTURED). AUTHORISED_TO_VALIDATE: validated (AUTHORISED), captured on its capture date.", body = TransactionObject),
        (status = 400, description = "A body or header the API cannot read.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such transaction for this shop and mode.", body = ErrorBody),
        (status = 409, description = "Not authorised any more (`transaction.not_capturable`); or the Idempotency-Key is in use.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
        (status = 502, description = "The acquirer could not be reached (`acquirer.unreachable`): nothing was done; try again later.", body = ErrorBody),
        (status = 504, description = "The acquirer did not answer in time (`acquirer.pending`): the operation is pending and paylink asks the acquirer what became of it; the transaction shows the outcome.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn capture(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    act(state, client, req, path, body, TxAction::CaptureNow).await
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/cancel",
    operation_id = "cancelTransaction",
    tag = "transactions",
    params(
        ("id" = i64, Path, description = "The transaction's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe."),
    ),
    responses(
        (status = 200, description = "The transaction, CANCELLED: the buyer is not charged.", body = TransactionObject),
        (status = 400, description = "A body or header the API cannot read.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such transaction for this shop and mode.", body = ErrorBody),
        (status = 409, description = "Only a transaction not captured yet can be cancelled (`transaction.already_captured`; after capture, refund it); or the Idempotency-Key is in use.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
        (status = 502, description = "The acquirer could not be reached (`acquirer.unreachable`): nothing was done; try again later.", body = ErrorBody),
        (status = 504, description = "The acquirer did not answer in time (`acquirer.pending`): the operation is pending and paylink asks the acquirer what became of it; the transaction shows the outcome.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn cancel(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    act(state, client, req, path, body, TxAction::Cancel).await
}

#[utoipa::path(
    post,
    path = "/api/v1/transactions/{id}/refunds",
    operation_id = "refundTransaction",
    tag = "transactions",
    params(
        ("id" = i64, Path, description = "The transaction's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe."),
    ),
    request_body(content = RefundRequest, description = "`{}` refunds the whole refundable rest."),
    responses(
        (status = 201, description = "Refunded: the transaction, its `refunded_amount` counting this refund.", body = TransactionObject),
        (status = 400, description = "Refused input (`amount.not_integer`, `amount.out_of_range`, `refund.too_much`: above what is left to refund); nothing was refunded.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such transaction for this shop and mode.", body = ErrorBody),
        (status = 409, description = "Not captured (`transaction.not_captured`: cancel it instead), captured more than 365 days ago (`refund.too_late`), or the Idempotency-Key is in use.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
        (status = 502, description = "The acquirer could not be reached (`acquirer.unreachable`): nothing was done; try again later.", body = ErrorBody),
        (status = 504, description = "The acquirer did not answer in time (`acquirer.pending`): the operation is pending and paylink asks the acquirer what became of it; the transaction shows the outcome.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn refund(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let input = transaction_id(&path).and_then(|id| body::parse::<RefundRequest>(&body, true).map(|r| (id, r.amount)));
    let (env, caller) = (state.env(), client.clone());
    idempotency::run_async(&state, &client, &req, &body, input, move |(id, minor): (i64, Option<i64>)| async move {
        // The amount is in the transaction's currency; absent, it is all that is left.
        let t = operations::refund(&env, &context(&caller), id, minor).await?;
        Ok(reply(StatusCode::CREATED, &TransactionObject::new(&t)))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_parsed_or_named() {
        let q =
            ListQuery::from_query_string("order_id=12&status=captured&limit=10&cursor=99").unwrap().parse().unwrap();
        assert_eq!(q.filter.order_id, Some(OrderId(12)));
        assert_eq!(q.filter.status, Some(TxStatus::Captured));
        assert_eq!((q.limit, q.before), (10, Some(99)));
        let field = |query: &str| match ListQuery::from_query_string(query).and_then(|q| q.parse()) {
            Err(ApiError::Invalid(e)) => (e[0].field.to_string(), e[0].code),
            Err(ApiError::UnknownField(f)) => (f, "unknown_field"),
            other => panic!("{query}: {other:?}", other = other.map(|_| ())),
        };
        assert_eq!(field("order_id=x"), ("order_id".into(), "transactions.search.order_id_invalid"));
        assert_eq!(field("status=paid"), ("status".into(), "field.choice.invalid"));
        assert_eq!(field("limit=201"), ("limit".into(), "limit.invalid"));
        assert_eq!(field("cursor=a"), ("cursor".into(), "cursor.invalid"));
        assert_eq!(field("reference=x"), ("reference".into(), "unknown_field"));
    }
}
