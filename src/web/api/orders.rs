//! `/api/v1/payment-orders`: create (one order per recipient), read, list, update a running
//! order, cancel, reactivate, resend. Each handler authenticates, parses the request into
//! domain types and calls one service; the payment order object below is also what webhooks
//! will carry.

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiClient;
use super::body::{self, present};
use super::error::{ApiError, ErrorBody};
use super::idempotency::{self, json, reply};
use crate::domain::FieldError;
use crate::domain::clock::Clock;
use crate::domain::ids::OrderId;
use crate::domain::listing::{Cursor, OrderFilter};
use crate::domain::order::Order;
use crate::domain::order::{self, AliasMode, Channel, OrderStatus, Reference};
use crate::domain::order_form::{AmountInput, ExpiresInput, OrderDraft, RawOrder};
use crate::domain::shop::Shop;
use crate::domain::template;
use crate::services::objects::{InstalmentObject, LanguageDoc, OrderObject, ThreeDsDoc, ValidationModeDoc};
use crate::services::orders::{self as service, OrderContext, RunningChanges};
use crate::services::{Conn, ServiceResult, api};
use crate::web::AppState;
use crate::web::i18n::Lang;

/// Codes only the API gives, besides its generic ones (their messages live in i18n/api.rs).
pub const API_ONLY_CODES: [&str; 5] =
    ["datetime.invalid", "limit.invalid", "cursor.invalid", "patch.empty", "events.delivery_invalid"];

/// A new payment order. Absent fields take the shop's defaults.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewPaymentOrder)]
pub struct CreateOrderRequest {
    #[schema(value_type = Channel, required = true)]
    pub channel: Option<String>,
    /// Letters, digits, `-` and `_`, 64 at most; required for INVOICE (and when the shop says
    /// so). With several recipients, numbered `REF-001`, `REF-002`, …
    pub reference: Option<String>,
    /// Integer minor units (1500 is 15.00 EUR), 1 to 99,999,999,999. Anything else is refused.
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 99_999_999_999i64)]
    pub amount: Option<i64>,
    /// ISO 4217; EUR when absent.
    #[schema(example = "EUR")]
    pub currency: Option<String>,
    /// End of validity (RFC 3339): the order stays payable until 23:59:59 of that day in the
    /// shop's time zone, at most three months after creation. The shop's default when absent.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(value_type = Option<ValidationModeDoc>)]
    pub validation_mode: Option<String>,
    #[schema(minimum = 0, maximum = 365)]
    pub capture_delay_days: Option<i32>,
    /// `fr` when absent.
    #[schema(value_type = Option<LanguageDoc>)]
    pub language: Option<String>,
    #[schema(value_type = Option<AliasMode>)]
    pub alias_mode: Option<String>,
    #[schema(value_type = Option<ThreeDsDoc>)]
    pub three_ds: Option<String>,
    /// Where the buyer's receipt goes.
    pub buyer_email: Option<String>,
    /// The restrictive end of a schedule in instalments: the last instalment falls on or
    /// before this date, or no instalments are offered. Not for INVOICE orders.
    #[schema(value_type = Option<String>, format = Date)]
    pub instalments_until: Option<String>,
    pub use_collection_form: Option<bool>,
    /// Shown to the buyer (invoices), 500 characters at most.
    pub description: Option<String>,
    /// EMAIL: addresses separated by `;` — one order per address.
    pub recipients: Option<String>,
    /// EMAIL: the subject; the shop's default template for the language when absent.
    pub subject: Option<String>,
    /// EMAIL (HTML), SMS or URL (text) message with `%variables%`; the default template when
    /// absent. The link is appended when the message has no `%url%`.
    pub message: Option<String>,
    /// SMS: the buyer's phone number.
    pub phone: Option<String>,
    /// EMAIL: hidden-copy addresses separated by `;`.
    pub bcc: Option<String>,
    /// The payment service the order is paid through, when the shop has several
    /// (`payzen`, `mollie`, `payplug`, `wallet`, set up for the key's mode); absent: the
    /// shop's default.
    pub payment_service: Option<String>,
}

impl CreateOrderRequest {
    fn channel(&self) -> Result<Channel, ApiError> {
        match self.channel.as_deref().map(str::trim) {
            None | Some("") => Err(ApiError::Invalid(vec![FieldError::new("channel", "field.required")])),
            Some(c) => Channel::parse(c)
                .ok_or_else(|| ApiError::Invalid(vec![FieldError::new("channel", "field.choice.invalid")])),
        }
    }

    /// The order's language as far as picking a template goes (the draft checks it).
    fn language(&self) -> &str {
        let code = self.language.as_deref().map(str::trim).unwrap_or("fr");
        Lang::ALL.into_iter().find(|l| l.code() == code).map_or("fr", Lang::code)
    }

    /// An e-mail order without its own subject or message takes the default template's.
    fn needs_template(&self, channel: Channel) -> bool {
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
        channel == Channel::Email && (blank(&self.subject) || blank(&self.message))
    }

    fn into_raw(self, template: Option<(String, String)>) -> RawOrder {
        let text = |s: Option<String>| s.unwrap_or_default();
        let (template_subject, template_body) = template.unwrap_or_default();
        let or_template = |s: Option<String>, t: String| match s {
            Some(s) if !s.trim().is_empty() => s,
            _ => t,
        };
        RawOrder {
            reference: text(self.reference),
            amount: match self.amount {
                Some(minor) => AmountInput::Minor(minor),
                None => AmountInput::Decimal(String::new()),
            },
            currency: text(self.currency),
            expires: match self.expires_at {
                Some(at) => ExpiresInput::Instant(at),
                None => ExpiresInput::Default,
            },
            validation_mode: text(self.validation_mode),
            capture_delay_days: self.capture_delay_days.map(|d| d.to_string()).unwrap_or_default(),
            language: text(self.language),
            alias_mode: text(self.alias_mode),
            three_ds: text(self.three_ds),
            buyer_email: text(self.buyer_email),
            instalments_until: text(self.instalments_until),
            use_collection_form: self.use_collection_form.unwrap_or(false),
            description: text(self.description),
            recipients: text(self.recipients),
            subject: or_template(self.subject, template_subject),
            message: or_template(self.message, template_body),
            phone: text(self.phone),
            bcc_shop: false,
            bcc_other: text(self.bcc),
            payment_service: text(self.payment_service),
        }
    }
}

/// Changes to a RUNNING order. At least one field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PaymentOrderChanges)]
pub struct UpdateOrderRequest {
    /// New end of validity (RFC 3339), at most three months after the order's creation.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<String>,
    /// Integer minor units of the order's currency.
    #[schema(minimum = 1, maximum = 99_999_999_999i64)]
    pub amount: Option<i64>,
    /// A new reference; `null` or `""` removes it (not for invoices).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub reference: Option<Option<String>>,
}

impl UpdateOrderRequest {
    fn parse(self, shop: &Shop) -> Result<RunningChanges, ApiError> {
        if self.expires_at.is_none() && self.amount.is_none() && self.reference.is_none() {
            return Err(ApiError::BadRequest("patch.empty"));
        }
        let mut errors = Vec::new();
        let expires_on = self.expires_at.and_then(|at| match DateTime::parse_from_rfc3339(at.trim()) {
            Ok(t) => Some(t.with_timezone(&shop.settings.time_zone).date_naive()),
            Err(_) => {
                errors.push(FieldError::new("expires_at", "expires_on.invalid"));
                None
            }
        });
        let mandatory = shop.settings.defaults.reference_mandatory;
        let reference = self.reference.map(|r| {
            Reference::parse_optional(r.as_deref().unwrap_or(""), mandatory).map_err(|e| errors.push(e)).ok().flatten()
        });
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        Ok(RunningChanges { amount_minor: self.amount, reference, expires_on })
    }
}

/// No fields: the body of an action may be empty or `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoFields {}

/// A page of orders, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PaymentOrderList)]
pub struct OrderList {
    pub items: Vec<OrderObject>,
    /// Pass as `cursor` for the next page; null on the last one.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// The orders of one request with several recipients.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CreatedPaymentOrders)]
pub struct CreatedOrders {
    pub items: Vec<OrderObject>,
}

/// One order, or `{"items": [...]}` when several recipients made several orders.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = PaymentOrderCreated)]
pub enum Created {
    One(Box<OrderObject>),
    Several(CreatedOrders),
}

/// Filters of the list. An empty value (`?status=`) is taken as absent, and the values of
/// `status` and `channel` are also accepted in lower case, as the back office's links send
/// them.
#[derive(Debug, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Upper case as listed (lower case accepted); empty: no filter.
    #[param(value_type = Option<OrderStatus>)]
    pub status: Option<String>,
    /// Exact reference, or a prefix followed by `*`.
    pub reference: Option<String>,
    /// Upper case as listed (lower case accepted); empty: no filter.
    #[param(value_type = Option<Channel>)]
    pub channel: Option<String>,
    /// Created at or after: RFC 3339, or a day (`2026-06-15`, from its start in the shop's zone).
    pub created_from: Option<String>,
    /// Created before: RFC 3339, or a day (`2026-06-15`, up to its end in the shop's zone).
    pub created_to: Option<String>,
    /// 1 to 200, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

struct ListRequest {
    filter: OrderFilter,
    cursor: Option<Cursor>,
    limit: i64,
}

impl ListQuery {
    fn from_query_string(raw: &str) -> Result<Self, ApiError> {
        let pairs = super::body::query_pairs(raw)?;
        let mut q = ListQuery::default();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "status" => &mut q.status,
                "reference" => &mut q.reference,
                "channel" => &mut q.channel,
                "created_from" => &mut q.created_from,
                "created_to" => &mut q.created_to,
                "limit" => &mut q.limit,
                "cursor" => &mut q.cursor,
                _ => return Err(ApiError::UnknownField(key)),
            };
            let value = value.trim();
            *slot = (!value.is_empty()).then(|| value.to_string());
        }
        Ok(q)
    }

    fn parse(self, tz: Tz) -> Result<ListRequest, ApiError> {
        let mut errors = Vec::new();
        let mut filter = OrderFilter::default();
        if let Some(s) = self.status {
            filter.status = OrderStatus::parse(&s.to_ascii_uppercase());
            if filter.status.is_none() {
                errors.push(FieldError::new("status", "field.choice.invalid"));
            }
        }
        if let Some(c) = self.channel {
            filter.channel = Channel::from_query(&c);
            if filter.channel.is_none() {
                errors.push(FieldError::new("channel", "field.choice.invalid"));
            }
        }
        if let Some(r) = self.reference {
            if r.chars().count() > order::REFERENCE_MAX + 1 {
                errors.push(FieldError::new("reference", "reference.too_long"));
            }
            filter.reference = Some(r);
        }
        filter.created_from = self.created_from.and_then(|t| {
            instant_or_day(&t, tz, false)
                .map_err(|()| errors.push(FieldError::new("created_from", "datetime.invalid")))
                .ok()
        });
        filter.created_to = self.created_to.and_then(|t| {
            instant_or_day(&t, tz, true)
                .map_err(|()| errors.push(FieldError::new("created_to", "datetime.invalid")))
                .ok()
        });
        let limit = super::body::page_limit(self.limit.as_deref(), &mut errors);
        let cursor = self.cursor.and_then(|c| match Cursor::decode(&c) {
            Some(cursor @ Cursor::Created(_)) => Some(cursor),
            _ => {
                errors.push(FieldError::new("cursor", "cursor.invalid"));
                None
            }
        });
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        Ok(ListRequest { filter, cursor, limit })
    }
}

/// An RFC 3339 instant, or a day in the shop's zone: its start, or (`end`) the next day's.
fn instant_or_day(raw: &str, tz: Tz, end: bool) -> Result<NaiveDateTime, ()> {
    // A `+` left unencoded in a query string arrives as a space.
    if let Ok(t) = DateTime::parse_from_rfc3339(&raw.replace(' ', "+")) {
        return Ok(t.naive_utc());
    }
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| ())?;
    let day = if end { day.succ_opt().ok_or(())? } else { day };
    let midnight = day.and_hms_opt(0, 0, 0).ok_or(())?;
    let start = tz.from_local_datetime(&midnight).earliest().unwrap_or_else(|| tz.from_utc_datetime(&midnight));
    Ok(start.naive_utc())
}

/// An order id from the path; anything else names no order.
fn order_id(raw: &str) -> Result<OrderId, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).map(OrderId).ok_or(ApiError::NotFound)
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-orders",
    operation_id = "createPaymentOrder",
    tag = "payment-orders",
    request_body = CreateOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe: 1 to 255 printable ASCII characters, kept 24 hours.")),
    responses(
        (status = 201, description = "Created: the order, or `{\"items\": [...]}` when several recipients made several orders.", body = Created),
        (status = 400, description = "Refused input; nothing was created.", body = ErrorBody),
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
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let input = parse_create(&state, &client, &body).await;
    let clock = state.env.clock.clone();
    let public_url = state.settings.public_url.clone();
    let caller = client.clone();
    idempotency::run(&state, &client, &req, &body, input, move |conn: &mut Conn, draft: OrderDraft| {
        let orders = service::create(conn, clock.as_ref(), &caller.context(&public_url), &draft)?;
        let now = clock.now_naive();
        let mut items: Vec<OrderObject> = orders.iter().map(|o| OrderObject::new(o, &public_url, now)).collect();
        let created = if items.len() == 1 {
            Created::One(Box::new(items.remove(0)))
        } else {
            Created::Several(CreatedOrders { items })
        };
        Ok(reply(StatusCode::CREATED, &created))
    })
    .await
}

/// The request body as a draft the service accepts (dates in the shop's zone, today).
async fn parse_create(state: &AppState, client: &ApiClient, body: &[u8]) -> Result<OrderDraft, ApiError> {
    let request: CreateOrderRequest = body::parse(body, false)?;
    let channel = request.channel()?;
    let template = if request.needs_template(channel) {
        let stored = api::default_template(&state.env.db, client.shop.id, request.language().to_string()).await?;
        Some(match stored {
            Some(t) => t,
            None => Lang::parse(request.language())
                .map(template::default_email)
                .map(|t| (t.subject.to_string(), t.body.to_string()))
                .unwrap_or_default(),
        })
    } else {
        None
    };
    let raw = request.into_raw(template);
    let today = order::local_today(state.env.clock.now(), client.shop.settings.time_zone);
    OrderDraft::parse(&raw, channel, &client.shop.settings, today, today).map_err(ApiError::Invalid)
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-orders",
    operation_id = "listPaymentOrders",
    tag = "payment-orders",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of orders of the key's shop and mode, newest first.", body = OrderList),
        (status = 400, description = "A refused filter, named in `field`.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn list(state: web::Data<AppState>, client: ApiClient, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let tz = client.shop.settings.time_zone;
    let request = ListQuery::from_query_string(req.query_string())?.parse(tz)?;
    let now = state.env.clock.now_naive();
    let (shop, mode) = (client.shop.id, client.mode);
    let (items, next) =
        api::orders_page(&state.env.db, shop, mode, request.filter, request.cursor, request.limit, now).await?;
    let public_url = &state.settings.public_url;
    let body = OrderList {
        items: items.iter().map(|o| OrderObject::new(o, public_url, now)).collect(),
        next_cursor: next.map(|c| c.encode()),
    };
    Ok(json(StatusCode::OK, &body))
}

#[utoipa::path(
    get,
    path = "/api/v1/payment-orders/{id}",
    operation_id = "getPaymentOrder",
    tag = "payment-orders",
    params(("id" = i64, Path, description = "The order's id")),
    responses(
        (status = 200, description = "The order.", body = OrderObject),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such order for this shop and mode.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn get(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let (order, schedule) =
        api::order_with_schedule(&state.env.db, client.caller(&state.settings.public_url), id).await?;
    let now = state.env.clock.now_naive();
    let object = OrderObject {
        schedule: schedule.as_ref().map(|s| InstalmentObject::list(&s.instalments)),
        schedule_status: schedule.as_ref().map(|s| s.plan.status),
        balance_order_id: schedule.as_ref().and_then(|s| s.plan.balance_order_id).map(|b| b.0),
        ..OrderObject::new(&order, &state.settings.public_url, now)
    };
    Ok(json(StatusCode::OK, &object))
}

#[utoipa::path(
    patch,
    path = "/api/v1/payment-orders/{id}",
    operation_id = "updatePaymentOrder",
    tag = "payment-orders",
    params(("id" = i64, Path, description = "The order's id")),
    request_body = UpdateOrderRequest,
    responses(
        (status = 200, description = "The order as changed.", body = OrderObject),
        (status = 400, description = "Refused input; nothing was changed.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such order for this shop and mode.", body = ErrorBody),
        (status = 409, description = "The order is not RUNNING (`order.not_running`).", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn update(
    state: web::Data<AppState>,
    client: ApiClient,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = order_id(&path)?;
    let changes = body::parse::<UpdateOrderRequest>(&body, false)?.parse(&client.shop)?;
    let caller = client.caller(&state.settings.public_url);
    let order = api::update_order(&state.env.db, state.env.clock.clone(), caller, id, changes).await?;
    Ok(json(StatusCode::OK, &OrderObject::new(&order, &state.settings.public_url, state.env.clock.now_naive())))
}

type Action = fn(&mut Conn, &dyn Clock, &OrderContext<'_>, OrderId) -> ServiceResult<Order>;

/// An action on one order: cancel, reactivate, resend. The body is empty or `{}`.
async fn act(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    let input = order_id(&path).and_then(|id| body::parse::<NoFields>(&body, true).map(|_| id));
    let clock = state.env.clock.clone();
    let public_url = state.settings.public_url.clone();
    let caller = client.clone();
    idempotency::run(&state, &client, &req, &body, input, move |conn: &mut Conn, id: OrderId| {
        let order = action(conn, clock.as_ref(), &caller.context(&public_url), id)?;
        Ok(reply(StatusCode::OK, &OrderObject::new(&order, &public_url, clock.now_naive())))
    })
    .await
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-orders/{id}/cancel",
    operation_id = "cancelPaymentOrder",
    tag = "payment-orders",
    params(
        ("id" = i64, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe."),
    ),
    responses(
        (status = 200, description = "The order, CANCELLED.", body = OrderObject),
        (status = 400, description = "A body or header the API cannot read.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such order for this shop and mode.", body = ErrorBody),
        (status = 409, description = "Only a RUNNING order can be cancelled; or the Idempotency-Key is in use.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
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
    act(state, client, req, path, body, service::cancel).await
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-orders/{id}/reactivate",
    operation_id = "reactivatePaymentOrder",
    tag = "payment-orders",
    params(
        ("id" = i64, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe."),
    ),
    responses(
        (status = 200, description = "The order, RUNNING again.", body = OrderObject),
        (status = 400, description = "A body or header the API cannot read.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such order for this shop and mode.", body = ErrorBody),
        (status = 409, description = "Only a CANCELLED order still within its validity can be reactivated; or the Idempotency-Key is in use.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn reactivate(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    act(state, client, req, path, body, service::reactivate).await
}

#[utoipa::path(
    post,
    path = "/api/v1/payment-orders/{id}/resend",
    operation_id = "resendPaymentOrder",
    tag = "payment-orders",
    params(
        ("id" = i64, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[\\x20-\\x7E]{1,255}$", description = "Makes a retry safe."),
    ),
    responses(
        (status = 200, description = "The order; its e-mail is queued again and `send_count` counts it.", body = OrderObject),
        (status = 400, description = "A body or header the API cannot read.", body = ErrorBody),
        (status = 401, description = "Missing or wrong credentials.", body = ErrorBody),
        (status = 404, description = "No such order for this shop and mode.", body = ErrorBody),
        (status = 409, description = "Only a RUNNING e-mail order can be sent again; or the Idempotency-Key is in use.", body = ErrorBody),
        (status = 422, description = "This Idempotency-Key was used with another request.", body = ErrorBody),
    ),
    security(("basic" = []))
)]
pub async fn resend(
    state: web::Data<AppState>,
    client: ApiClient,
    req: HttpRequest,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    act(state, client, req, path, body, service::resend).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parameters_are_parsed_or_named() {
        let tz = chrono_tz::Europe::Paris;
        let q =
            ListQuery::from_query_string("status=running&channel=email&limit=10&reference=&created_from=2026-06-15")
                .unwrap()
                .parse(tz)
                .unwrap();
        assert_eq!(q.filter.status, Some(OrderStatus::Running));
        assert_eq!(q.filter.channel, Some(Channel::Email));
        assert_eq!(q.filter.reference, None);
        assert_eq!(q.limit, 10);
        assert_eq!(q.filter.created_from.unwrap().to_string(), "2026-06-14 22:00:00", "midnight in Paris");
        let q = ListQuery::from_query_string("created_to=2026-06-15").unwrap().parse(tz).unwrap();
        assert_eq!(q.filter.created_to.unwrap().to_string(), "2026-06-15 22:00:00", "the whole day");
        let q = ListQuery::from_query_string("created_to=2026-06-15T10:00:00+02:00").unwrap().parse(tz).unwrap();
        assert_eq!(q.filter.created_to.unwrap().to_string(), "2026-06-15 08:00:00", "an unencoded +");
        let field = |query: &str| match ListQuery::from_query_string(query).and_then(|q| q.parse(tz)) {
            Err(ApiError::Invalid(e)) => (e[0].field.to_string(), e[0].code),
            Err(ApiError::UnknownField(f)) => (f, "unknown_field"),
            other => panic!("{query}: {other:?}", other = other.map(|_| ())),
        };
        assert_eq!(field("status=paid_twice"), ("status".into(), "field.choice.invalid"));
        assert_eq!(field("limit=0"), ("limit".into(), "limit.invalid"));
        assert_eq!(field("limit=201"), ("limit".into(), "limit.invalid"));
        assert_eq!(field("created_from=yesterday"), ("created_from".into(), "datetime.invalid"));
        assert_eq!(field("cursor=a.1.2"), ("cursor".into(), "cursor.invalid"));
        assert_eq!(field("sort=amount"), ("sort".into(), "unknown_field"));
    }
}
