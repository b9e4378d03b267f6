//! Payment services per shop, the payment requests made to them, and each call's journal.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::acquirer::psp::Call;
use crate::db::DbConn;
use crate::db::schema::{order_services, payment_services as ps, service_calls as calls, service_requests as requests};
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::payment_service::{RequestStatus, Service};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ps)]
pub struct ServiceRow {
    pub id: i64,
    pub shop_id: i64,
    pub service: String,
    pub mode: String,
    pub credentials_enc: Option<String>,
    pub credentials_mask: String,
    pub base_url: String,
    pub display_name: String,
    pub is_default: bool,
    pub checked_at: Option<NaiveDateTime>,
    pub check_result: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ServiceRow {
    pub fn service(&self) -> Option<Service> {
        Service::parse(&self.service)
    }

    pub fn mode(&self) -> Option<Mode> {
        Mode::parse(&self.mode)
    }
}

/// A service as the settings screen writes it.
pub struct ServiceValues<'a> {
    pub service: Service,
    pub mode: Mode,
    pub credentials_enc: Option<&'a str>,
    pub credentials_mask: &'a str,
    pub base_url: &'a str,
    pub display_name: &'a str,
    pub is_default: bool,
}

/// The shop's services, by service then mode.
pub fn list(conn: &mut DbConn, shop: ShopId) -> QueryResult<Vec<ServiceRow>> {
    ps::table
        .filter(ps::shop_id.eq(shop.0))
        .order((ps::service.asc(), ps::mode.asc()))
        .select(ServiceRow::as_select())
        .load(conn)
}

pub fn of_mode(conn: &mut DbConn, shop: ShopId, mode: Mode) -> QueryResult<Vec<ServiceRow>> {
    ps::table
        .filter(ps::shop_id.eq(shop.0).and(ps::mode.eq(mode.as_str())))
        .order((ps::is_default.desc(), ps::service.asc()))
        .select(ServiceRow::as_select())
        .load(conn)
}

pub fn find(conn: &mut DbConn, shop: ShopId, service: Service, mode: Mode) -> QueryResult<Option<ServiceRow>> {
    ps::table
        .filter(ps::shop_id.eq(shop.0).and(ps::service.eq(service.as_str())).and(ps::mode.eq(mode.as_str())))
        .select(ServiceRow::as_select())
        .first(conn)
        .optional()
}

pub fn get(conn: &mut DbConn, shop: ShopId, id: i64) -> QueryResult<Option<ServiceRow>> {
    ps::table.filter(ps::id.eq(id).and(ps::shop_id.eq(shop.0))).select(ServiceRow::as_select()).first(conn).optional()
}

/// Writes the shop's service of that mode, new or replacing the one there; a default one
/// takes the default from the others of its mode. Its id, and whether it was new.
pub fn save(conn: &mut DbConn, shop: ShopId, v: &ServiceValues<'_>, now: NaiveDateTime) -> QueryResult<(i64, bool)> {
    if v.is_default {
        diesel::update(ps::table.filter(ps::shop_id.eq(shop.0).and(ps::mode.eq(v.mode.as_str()))))
            .set(ps::is_default.eq(false))
            .execute(conn)?;
    }
    if let Some(existing) = find(conn, shop, v.service, v.mode)? {
        diesel::update(ps::table.find(existing.id))
            .set((
                ps::credentials_enc.eq(v.credentials_enc),
                ps::credentials_mask.eq(v.credentials_mask),
                ps::base_url.eq(v.base_url),
                ps::display_name.eq(v.display_name),
                ps::is_default.eq(v.is_default),
                ps::checked_at.eq(None::<NaiveDateTime>),
                ps::check_result.eq(None::<String>),
                ps::updated_at.eq(now),
            ))
            .execute(conn)?;
        return Ok((existing.id, false));
    }
    let id = diesel::insert_into(ps::table)
        .values((
            ps::shop_id.eq(shop.0),
            ps::service.eq(v.service.as_str()),
            ps::mode.eq(v.mode.as_str()),
            ps::credentials_enc.eq(v.credentials_enc),
            ps::credentials_mask.eq(v.credentials_mask),
            ps::base_url.eq(v.base_url),
            ps::display_name.eq(v.display_name),
            ps::is_default.eq(v.is_default),
            ps::created_at.eq(now),
            ps::updated_at.eq(now),
        ))
        .returning(ps::id)
        .get_result(conn)?;
    Ok((id, true))
}

pub fn delete(conn: &mut DbConn, shop: ShopId, id: i64) -> QueryResult<usize> {
    diesel::delete(ps::table.filter(ps::id.eq(id).and(ps::shop_id.eq(shop.0)))).execute(conn)
}

pub fn record_check(conn: &mut DbConn, id: i64, result: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(ps::table.find(id)).set((ps::checked_at.eq(now), ps::check_result.eq(result))).execute(conn)
}

// ---- The order's choice -------------------------------------------------------------------

pub fn choose_for_order(conn: &mut DbConn, order: OrderId, service: Service) -> QueryResult<usize> {
    diesel::insert_into(order_services::table)
        .values((order_services::order_id.eq(order.0), order_services::service.eq(service.as_str())))
        .execute(conn)
}

pub fn chosen_for_order(conn: &mut DbConn, order: OrderId) -> QueryResult<Option<Service>> {
    let found: Option<String> =
        order_services::table.find(order.0).select(order_services::service).first(conn).optional()?;
    Ok(found.as_deref().and_then(Service::parse))
}

// ---- Payment requests ---------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct RequestRow {
    pub id: i64,
    pub public_id: String,
    pub shop_id: i64,
    pub order_id: i64,
    pub mode: String,
    pub service: String,
    pub status: String,
    pub raw_status: Option<String>,
    pub service_payment_id: Option<String>,
    pub checkout_url: Option<String>,
    pub refund_ref: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub transaction_id: Option<i64>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl RequestRow {
    pub fn status(&self) -> RequestStatus {
        RequestStatus::parse(&self.status).unwrap_or(RequestStatus::Created)
    }

    pub fn service(&self) -> Option<Service> {
        Service::parse(&self.service)
    }

    pub fn mode(&self) -> Option<Mode> {
        Mode::parse(&self.mode)
    }
}

pub struct NewRequest<'a> {
    pub public_id: &'a str,
    pub shop: ShopId,
    pub order: OrderId,
    pub mode: Mode,
    pub service: Service,
    pub amount: i64,
    pub currency: &'a str,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub expires_at: NaiveDateTime,
}

pub fn insert_request(conn: &mut DbConn, r: &NewRequest<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(requests::table)
        .values((
            requests::public_id.eq(r.public_id),
            requests::shop_id.eq(r.shop.0),
            requests::order_id.eq(r.order.0),
            requests::mode.eq(r.mode.as_str()),
            requests::service.eq(r.service.as_str()),
            requests::status.eq(RequestStatus::Created.as_str()),
            requests::amount.eq(r.amount),
            requests::currency.eq(r.currency),
            requests::first_name.eq(r.first_name),
            requests::last_name.eq(r.last_name),
            requests::expires_at.eq(r.expires_at),
            requests::created_at.eq(now),
            requests::updated_at.eq(now),
        ))
        .returning(requests::id)
        .get_result(conn)
}

/// The service took the request: its id and hosted page.
pub fn opened(
    conn: &mut DbConn,
    id: i64,
    payment_id: &str,
    checkout_url: &str,
    status: RequestStatus,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(requests::table.find(id).filter(requests::status.eq(RequestStatus::Created.as_str())))
        .set((
            requests::service_payment_id.eq(payment_id),
            requests::checkout_url.eq(checkout_url),
            requests::status.eq(status.as_str()),
            requests::updated_at.eq(now),
        ))
        .execute(conn)
}

const FINAL: [&str; 4] = ["PAID", "FAILED", "CANCELLED", "EXPIRED"];

/// A status that is not final yet (open, pending), with the service's words.
pub fn progressed(
    conn: &mut DbConn,
    id: i64,
    status: RequestStatus,
    raw: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(requests::table.find(id).filter(requests::status.ne_all(FINAL)))
        .set((requests::status.eq(status.as_str()), requests::raw_status.eq(raw), requests::updated_at.eq(now)))
        .execute(conn)
}

/// Ends the request, once: 1 when this call ended it, 0 when it had ended already (a
/// duplicate notification, the return and the notification racing).
pub fn ended(
    conn: &mut DbConn,
    id: i64,
    status: RequestStatus,
    raw: &str,
    refund_ref: Option<&str>,
    transaction: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(requests::table.find(id).filter(requests::status.ne_all(FINAL)))
        .set((
            requests::status.eq(status.as_str()),
            requests::raw_status.eq(raw),
            requests::refund_ref.eq(refund_ref),
            requests::transaction_id.eq(transaction),
            requests::updated_at.eq(now),
        ))
        .execute(conn)
}

/// The transaction an ended request made.
pub fn link_transaction(conn: &mut DbConn, id: i64, transaction: i64) -> QueryResult<usize> {
    diesel::update(requests::table.find(id)).set(requests::transaction_id.eq(transaction)).execute(conn)
}

pub fn request_by_public(conn: &mut DbConn, public_id: &str) -> QueryResult<Option<RequestRow>> {
    requests::table.filter(requests::public_id.eq(public_id)).select(RequestRow::as_select()).first(conn).optional()
}

pub fn request_by_payment(
    conn: &mut DbConn,
    shop: ShopId,
    service: Service,
    payment_id: &str,
) -> QueryResult<Option<RequestRow>> {
    requests::table
        .filter(
            requests::service
                .eq(service.as_str())
                .and(requests::service_payment_id.eq(payment_id))
                .and(requests::shop_id.eq(shop.0)),
        )
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

pub fn request(conn: &mut DbConn, shop: ShopId, mode: Mode, id: i64) -> QueryResult<Option<RequestRow>> {
    requests::table
        .filter(requests::id.eq(id).and(requests::shop_id.eq(shop.0)).and(requests::mode.eq(mode.as_str())))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// The order's latest request, of any service.
pub fn latest_of_order(conn: &mut DbConn, order: OrderId) -> QueryResult<Option<RequestRow>> {
    requests::table
        .filter(requests::order_id.eq(order.0))
        .order(requests::id.desc())
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

/// The order's requests still open (to close when another one pays it).
pub fn open_of_order(conn: &mut DbConn, order: OrderId) -> QueryResult<Vec<RequestRow>> {
    requests::table
        .filter(requests::order_id.eq(order.0).and(requests::status.ne_all(FINAL)))
        .order(requests::id.asc())
        .select(RequestRow::as_select())
        .load(conn)
}

/// Requests not ended whose time is up (the worker asks their service, or ends them).
pub fn stale(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<RequestRow>> {
    requests::table
        .filter(requests::status.ne_all(FINAL).and(requests::expires_at.lt(now)))
        .order(requests::expires_at.asc())
        .limit(limit)
        .select(RequestRow::as_select())
        .load(conn)
}

/// Looks at a request again later (its service still says it is open).
pub fn postpone(conn: &mut DbConn, id: i64, until: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(requests::table.find(id)).set(requests::expires_at.eq(until)).execute(conn)
}

/// A page of the shop's requests in `mode`, newest first, before the id `before`
/// (keyset), optionally of one service.
pub fn requests_page(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    service: Option<Service>,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<RequestRow>> {
    let mut q = requests::table.filter(requests::shop_id.eq(shop.0).and(requests::mode.eq(mode.as_str()))).into_boxed();
    if let Some(s) = service {
        q = q.filter(requests::service.eq(s.as_str()));
    }
    if let Some(b) = before {
        q = q.filter(requests::id.lt(b));
    }
    q.order(requests::id.desc()).limit(limit).select(RequestRow::as_select()).load(conn)
}

// ---- Calls ------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calls)]
pub struct CallRow {
    pub id: i64,
    pub shop_id: i64,
    pub request_id: Option<i64>,
    pub service: String,
    pub mode: String,
    pub operation: String,
    pub method: String,
    pub url: String,
    pub request: String,
    pub status: Option<i32>,
    pub response: String,
    pub duration_ms: i64,
    pub created_at: NaiveDateTime,
}

pub fn record_calls(
    conn: &mut DbConn,
    shop: ShopId,
    request: Option<i64>,
    service: Service,
    mode: Mode,
    journal: &[Call],
    now: NaiveDateTime,
) -> QueryResult<()> {
    for c in journal {
        diesel::insert_into(calls::table)
            .values((
                calls::shop_id.eq(shop.0),
                calls::request_id.eq(request),
                calls::service.eq(service.as_str()),
                calls::mode.eq(mode.as_str()),
                calls::operation.eq(c.operation),
                calls::method.eq(c.method),
                calls::url.eq(&c.url),
                calls::request.eq(&c.request),
                calls::status.eq(c.status.map(i32::from)),
                calls::response.eq(&c.response),
                calls::duration_ms.eq(c.duration_ms),
                calls::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn calls_of(conn: &mut DbConn, shop: ShopId, request: i64) -> QueryResult<Vec<CallRow>> {
    calls::table
        .filter(calls::request_id.eq(request).and(calls::shop_id.eq(shop.0)))
        .order(calls::id.asc())
        .select(CallRow::as_select())
        .load(conn)
}

/// The shop's latest calls of a service and mode made without a request (connection checks).
pub fn checks_of(
    conn: &mut DbConn,
    shop: ShopId,
    service: Service,
    mode: Mode,
    limit: i64,
) -> QueryResult<Vec<CallRow>> {
    calls::table
        .filter(
            calls::shop_id
                .eq(shop.0)
                .and(calls::request_id.is_null())
                .and(calls::service.eq(service.as_str()))
                .and(calls::mode.eq(mode.as_str())),
        )
        .order(calls::id.desc())
        .limit(limit)
        .select(CallRow::as_select())
        .load(conn)
}
