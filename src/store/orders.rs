//! Payment orders. Every query is scoped by shop (and the caller passes only shops the user
//! or API key may see); lists page by keyset on (sort column, id) over indexes.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::payment_orders as po;
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{AliasMode, Channel, DeliveryStatus, OrderStatus};
use crate::domain::shop::{ThreeDsPreference, ValidationMode};
use crate::store::shops::Shop;

pub use crate::domain::listing::{Cursor, OrderFilter, SortKey};
pub use crate::domain::order::Order;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = po)]
struct Row {
    id: i64,
    shop_id: i64,
    mode: String,
    channel: String,
    token: String,
    reference: Option<String>,
    amount: i64,
    currency: String,
    language: String,
    validation_mode: String,
    capture_delay_days: i32,
    expires_on: NaiveDate,
    expires_at: NaiveDateTime,
    alias_mode: String,
    three_ds: String,
    buyer_email: Option<String>,
    use_collection_form: bool,
    description: Option<String>,
    recipient: Option<String>,
    bcc: Option<String>,
    subject: Option<String>,
    message: Option<String>,
    status: String,
    delivery_status: String,
    send_count: i32,
    transaction_id: Option<i64>,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    #[allow(dead_code)]
    pay_lock: Option<String>,
    #[allow(dead_code)]
    pay_lock_until: Option<NaiveDateTime>,
    instalments_until: Option<NaiveDate>,
}

impl From<Row> for Order {
    fn from(r: Row) -> Self {
        let currency = Currency::parse(&r.currency).unwrap_or(Currency::EUR);
        Order {
            id: OrderId(r.id),
            shop_id: ShopId(r.shop_id),
            mode: Mode::parse(&r.mode).unwrap_or(Mode::Test),
            channel: Channel::parse(&r.channel).unwrap_or(Channel::Url),
            token: r.token,
            reference: r.reference,
            amount: Money { minor: r.amount, currency },
            language: r.language,
            validation_mode: ValidationMode::parse(&r.validation_mode).unwrap_or(ValidationMode::Auto),
            capture_delay_days: r.capture_delay_days,
            expires_on: r.expires_on,
            expires_at: r.expires_at,
            alias_mode: AliasMode::parse(&r.alias_mode).unwrap_or(AliasMode::None),
            three_ds: ThreeDsPreference::parse(&r.three_ds).unwrap_or(ThreeDsPreference::NoPreference),
            buyer_email: r.buyer_email,
            use_collection_form: r.use_collection_form,
            description: r.description,
            recipient: r.recipient,
            bcc: r.bcc,
            subject: r.subject,
            message: r.message,
            status: OrderStatus::parse(&r.status).unwrap_or(OrderStatus::Running),
            delivery_status: DeliveryStatus::parse(&r.delivery_status).unwrap_or(DeliveryStatus::Pending),
            send_count: r.send_count,
            transaction_id: r.transaction_id,
            instalments_until: r.instalments_until,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub struct NewOrder<'a> {
    pub shop_id: ShopId,
    pub mode: Mode,
    pub channel: Channel,
    pub token: &'a str,
    pub reference: Option<&'a str>,
    pub amount: Money,
    pub language: &'a str,
    pub validation_mode: ValidationMode,
    pub capture_delay_days: i32,
    pub expires_on: NaiveDate,
    pub expires_at: NaiveDateTime,
    pub alias_mode: AliasMode,
    pub three_ds: ThreeDsPreference,
    pub buyer_email: Option<&'a str>,
    pub use_collection_form: bool,
    pub description: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub bcc: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub message: Option<&'a str>,
    pub instalments_until: Option<NaiveDate>,
    pub delivery_status: DeliveryStatus,
    pub created_by: &'a str,
}

/// Inserts an order and returns it as stored (one statement: `RETURNING`).
pub fn insert(conn: &mut DbConn, o: &NewOrder<'_>, now: NaiveDateTime) -> QueryResult<Order> {
    diesel::insert_into(po::table)
        .values((
            (
                po::shop_id.eq(o.shop_id.0),
                po::mode.eq(o.mode.as_str()),
                po::channel.eq(o.channel.as_str()),
                po::token.eq(o.token),
                po::reference.eq(o.reference),
                po::amount.eq(o.amount.minor),
                po::currency.eq(o.amount.currency.code()),
                po::language.eq(o.language),
                po::validation_mode.eq(o.validation_mode.as_str()),
                po::capture_delay_days.eq(o.capture_delay_days),
                po::expires_on.eq(o.expires_on),
                po::expires_at.eq(o.expires_at),
                po::alias_mode.eq(o.alias_mode.as_str()),
                po::three_ds.eq(o.three_ds.as_str()),
            ),
            (
                po::buyer_email.eq(o.buyer_email),
                po::use_collection_form.eq(o.use_collection_form),
                po::description.eq(o.description),
                po::recipient.eq(o.recipient),
                po::bcc.eq(o.bcc),
                po::subject.eq(o.subject),
                po::message.eq(o.message),
                po::instalments_until.eq(o.instalments_until),
                po::status.eq(OrderStatus::Running.as_str()),
                po::delivery_status.eq(o.delivery_status.as_str()),
                po::send_count.eq(0),
                po::created_by.eq(o.created_by),
                po::created_at.eq(now),
                po::updated_at.eq(now),
            ),
        ))
        .returning(po::all_columns)
        .get_result::<Row>(conn)
        .map(Order::from)
}

/// An order of one of `shops`, in `mode`, or nothing.
pub fn find(conn: &mut DbConn, shops: &[ShopId], mode: Mode, id: OrderId) -> QueryResult<Option<Order>> {
    let shop_ids: Vec<i64> = shops.iter().map(|s| s.0).collect();
    po::table
        .filter(po::id.eq(id.0).and(po::shop_id.eq_any(shop_ids)).and(po::mode.eq(mode.as_str())))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(Order::from))
}

pub fn find_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Order>> {
    po::table.filter(po::token.eq(token)).select(Row::as_select()).first(conn).optional().map(|r| r.map(Order::from))
}

/// The order of a link with its shop, in one statement: the pay page's only read.
pub fn find_by_token_with_shop(conn: &mut DbConn, token: &str) -> QueryResult<Option<(Order, Shop)>> {
    use crate::db::schema::shops;
    use crate::store::shops::ShopRow;
    let query = po::table.inner_join(shops::table).filter(po::token.eq(token));
    let found = crate::db::on_backend!(conn, |c| {
        query.select((Row::as_select(), ShopRow::as_select())).first::<(Row, ShopRow)>(c).optional()
    })?;
    Ok(found.map(|(o, s)| (Order::from(o), Shop::from(s))))
}

/// An order with its shop, by id, whoever's (the worker's read).
pub fn find_with_shop(conn: &mut DbConn, id: OrderId) -> QueryResult<Option<(Order, Shop)>> {
    use crate::db::schema::shops;
    use crate::store::shops::ShopRow;
    let query = po::table.inner_join(shops::table).filter(po::id.eq(id.0));
    let found = crate::db::on_backend!(conn, |c| {
        query.select((Row::as_select(), ShopRow::as_select())).first::<(Row, ShopRow)>(c).optional()
    })?;
    Ok(found.map(|(o, s)| (Order::from(o), Shop::from(s))))
}

/// Whether an invoice that is not cancelled already uses this reference in the shop.
pub fn open_invoice_exists(conn: &mut DbConn, shop: ShopId, mode: Mode, reference: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        po::table.filter(
            po::shop_id
                .eq(shop.0)
                .and(po::mode.eq(mode.as_str()))
                .and(po::channel.eq(Channel::Invoice.as_str()))
                .and(po::status.ne(OrderStatus::Cancelled.as_str()))
                .and(po::reference.eq(reference)),
        ),
    ))
    .get_result(conn)
}

/// Changes to an order, named by intent. Each guards its starting statuses in SQL, so a
/// concurrent change cannot be overwritten: 0 rows means the order moved meanwhile.
pub enum OrderUpdate<'a> {
    Cancel,
    Reactivate,
    ChangeValidity { expires_on: NaiveDate, expires_at: NaiveDateTime },
    MarkSent,
    Delivery { status: DeliveryStatus },
    Sent,
    Modify(&'a Modification),
}

/// What "modify and resend" (and the API's update) may change.
#[derive(Debug, Clone)]
pub struct Modification {
    pub reference: Option<String>,
    pub amount: Money,
    pub expires_on: NaiveDate,
    pub expires_at: NaiveDateTime,
    pub validation_mode: ValidationMode,
    pub capture_delay_days: i32,
    pub language: String,
    pub buyer_email: Option<String>,
    pub description: Option<String>,
    pub recipient: Option<String>,
    pub subject: Option<String>,
    pub message: Option<String>,
    pub delivery_status: DeliveryStatus,
}

pub fn apply(conn: &mut DbConn, id: OrderId, update: OrderUpdate<'_>, now: NaiveDateTime) -> QueryResult<usize> {
    let target = po::table.find(id.0);
    let running = OrderStatus::Running.as_str();
    match update {
        // Never under an attempt that may be calling the acquirer (its authorisation would
        // be left unwritten); a challenge waiting for the buyer loses its lock, so its answer
        // calls nothing.
        OrderUpdate::Cancel => diesel::update(target.filter(po::status.eq(running)).filter(no_payment_in_flight(now)))
            .set((
                po::status.eq(OrderStatus::Cancelled.as_str()),
                po::updated_at.eq(now),
                po::pay_lock.eq(None::<String>),
                po::pay_lock_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn),
        OrderUpdate::Reactivate => {
            diesel::update(target.filter(po::status.eq(OrderStatus::Cancelled.as_str()).and(po::expires_at.ge(now))))
                .set((po::status.eq(running), po::updated_at.eq(now)))
                .execute(conn)
        }
        OrderUpdate::ChangeValidity { expires_on, expires_at } => {
            diesel::update(target.filter(po::status.eq_any([running, OrderStatus::Expired.as_str()])))
                .set((
                    po::expires_on.eq(expires_on),
                    po::expires_at.eq(expires_at),
                    po::status.eq(running),
                    po::updated_at.eq(now),
                ))
                .execute(conn)
        }
        OrderUpdate::MarkSent => diesel::update(target.filter(po::delivery_status.eq(DeliveryStatus::Manual.as_str())))
            .set((po::delivery_status.eq(DeliveryStatus::Sent.as_str()), po::updated_at.eq(now)))
            .execute(conn),
        OrderUpdate::Delivery { status } => {
            diesel::update(target).set((po::delivery_status.eq(status.as_str()), po::updated_at.eq(now))).execute(conn)
        }
        OrderUpdate::Sent => diesel::update(target)
            .set((po::send_count.eq(po::send_count + 1), po::delivery_status.eq(DeliveryStatus::Pending.as_str())))
            .execute(conn),
        OrderUpdate::Modify(m) => diesel::update(target.filter(po::status.eq_any([
            running,
            OrderStatus::Refused.as_str(),
            OrderStatus::Expired.as_str(),
        ])))
        .set((
            (
                po::reference.eq(&m.reference),
                po::amount.eq(m.amount.minor),
                po::currency.eq(m.amount.currency.code()),
                po::expires_on.eq(m.expires_on),
                po::expires_at.eq(m.expires_at),
                po::validation_mode.eq(m.validation_mode.as_str()),
                po::capture_delay_days.eq(m.capture_delay_days),
                po::language.eq(&m.language),
            ),
            (
                po::buyer_email.eq(&m.buyer_email),
                po::description.eq(&m.description),
                po::recipient.eq(&m.recipient),
                po::subject.eq(&m.subject),
                po::message.eq(&m.message),
                po::delivery_status.eq(m.delivery_status.as_str()),
                po::status.eq(running),
                po::updated_at.eq(now),
            ),
        ))
        .execute(conn),
    }
}

/// Persists EXPIRED on running orders past their end. Returns the orders it expired. An
/// order whose payment is under way (at the acquirer or at the issuer's challenge) expires
/// once its lock has: a payment begun in time may end.
pub fn expire_due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<OrderId>> {
    let due: Vec<i64> = po::table
        .filter(po::status.eq(OrderStatus::Running.as_str()).and(po::expires_at.lt(now)))
        .filter(po::pay_lock.is_null().or(po::pay_lock_until.lt(now)))
        .order(po::expires_at)
        .limit(limit)
        .select(po::id)
        .load(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(
        po::table
            .filter(po::id.eq_any(&due).and(po::status.eq(OrderStatus::Running.as_str())))
            .filter(po::pay_lock.is_null().or(po::pay_lock_until.lt(now))),
    )
    .set((po::status.eq(OrderStatus::Expired.as_str()), po::updated_at.eq(now)))
    .execute(conn)?;
    Ok(due.into_iter().map(OrderId).collect())
}

pub struct Page {
    pub items: Vec<Order>,
    pub next: Option<Cursor>,
}

/// One page of orders of `shops` in `mode`, filtered and sorted, starting after `cursor`.
///
/// Each shop is read on its own (`shop_id = ?`, never `IN`/`= ANY`), so that the shop's
/// index of the sort gives the order and the page reads about `limit` rows of that shop
/// whatever the size of the others (on PostgreSQL, see "Lists on PostgreSQL" in `store`).
/// Several shops: each gives its first `limit + 1` rows after the same cursor and the pages
/// merge here by the sort key and id (ids are unique, so the order is total and the cursor
/// means the same).
#[allow(clippy::too_many_arguments)]
pub fn list(
    conn: &mut DbConn,
    shops: &[ShopId],
    mode: Mode,
    f: &OrderFilter,
    sort: SortKey,
    descending: bool,
    cursor: Option<&Cursor>,
    limit: i64,
    now: NaiveDateTime,
) -> QueryResult<Page> {
    let mut rows = Vec::new();
    for shop in super::distinct(shops) {
        rows.extend(list_shop(conn, shop, mode, f, sort, descending, cursor, limit + 1, now)?);
    }
    let (items, more) = super::merge_pages(rows, |o| Cursor::of(o, sort), descending, limit);
    let next = if more { items.last().map(|o| Cursor::of(o, sort)) } else { None };
    Ok(Page { items, next })
}

/// The first `fetch` orders of one shop after `cursor`, in the list's order.
#[allow(clippy::too_many_arguments)]
fn list_shop(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    f: &OrderFilter,
    sort: SortKey,
    descending: bool,
    cursor: Option<&Cursor>,
    fetch: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Order>> {
    let postgres = matches!(conn, DbConn::Postgres(_));
    let mut q = po::table.filter(po::shop_id.eq(shop.0)).into_boxed();
    q = if postgres { postgres_keyset(q, mode, descending, cursor) } else { q.filter(po::mode.eq(mode.as_str())) };
    if let Some(c) = f.channel {
        q = q.filter(po::channel.eq(c.as_str()));
    }
    match f.status {
        // A running order past its end shows as expired before the worker writes it.
        Some(OrderStatus::Running) => {
            q = q.filter(po::status.eq(OrderStatus::Running.as_str()).and(po::expires_at.ge(now)));
        }
        Some(OrderStatus::Expired) => {
            q = q.filter(
                po::status
                    .eq(OrderStatus::Expired.as_str())
                    .or(po::status.eq(OrderStatus::Running.as_str()).and(po::expires_at.lt(now))),
            );
        }
        Some(s) => q = q.filter(po::status.eq(s.as_str())),
        None => {}
    }
    if let Some(d) = f.delivery_status {
        q = q.filter(po::delivery_status.eq(d.as_str()));
    }
    if let Some(t) = f.created_from {
        q = q.filter(po::created_at.ge(t));
    }
    if let Some(t) = f.created_to {
        q = q.filter(po::created_at.lt(t));
    }
    if let Some(t) = f.expires_from {
        q = q.filter(po::expires_at.ge(t));
    }
    if let Some(t) = f.expires_to {
        q = q.filter(po::expires_at.lt(t));
    }
    if let Some(a) = f.amount_min {
        q = q.filter(po::amount.ge(a));
    }
    if let Some(a) = f.amount_max {
        q = q.filter(po::amount.le(a));
    }
    if let Some(r) = &f.reference {
        match r.strip_suffix('*') {
            Some(prefix) => {
                let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                q = q.filter(po::reference.like(format!("{escaped}%")).escape('\\'));
            }
            None => q = q.filter(po::reference.eq(r.clone())),
        }
    }
    q = match (cursor, descending) {
        _ if postgres => q,
        (Some(Cursor::Created(id)), true) => q.filter(po::id.lt(*id)),
        (Some(Cursor::Created(id)), false) => q.filter(po::id.gt(*id)),
        (Some(Cursor::Expires(t, id)), true) => {
            q.filter(po::expires_at.lt(*t).or(po::expires_at.eq(*t).and(po::id.lt(*id))))
        }
        (Some(Cursor::Expires(t, id)), false) => {
            q.filter(po::expires_at.gt(*t).or(po::expires_at.eq(*t).and(po::id.gt(*id))))
        }
        (Some(Cursor::Amount(a, id)), true) => q.filter(po::amount.lt(*a).or(po::amount.eq(*a).and(po::id.lt(*id)))),
        (Some(Cursor::Amount(a, id)), false) => q.filter(po::amount.gt(*a).or(po::amount.eq(*a).and(po::id.gt(*id)))),
        (None, _) => q,
    };
    q = match (sort, descending) {
        (SortKey::Created, true) => q.then_order_by(po::id.desc()),
        (SortKey::Created, false) => q.then_order_by(po::id.asc()),
        (SortKey::Expires, true) => q.then_order_by((po::expires_at.desc(), po::id.desc())),
        (SortKey::Expires, false) => q.then_order_by((po::expires_at.asc(), po::id.asc())),
        (SortKey::Amount, true) => q.then_order_by((po::amount.desc(), po::id.desc())),
        (SortKey::Amount, false) => q.then_order_by((po::amount.asc(), po::id.asc())),
    };
    Ok(q.limit(fetch).select(Row::as_select()).load(conn)?.into_iter().map(Order::from).collect())
}

type Boxed<'a> = po::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The mode and the keyset of one shop's page on PostgreSQL ("Lists on PostgreSQL" in
/// `store`): the mode as two bounds and first in the order, the cursor as one row comparison.
fn postgres_keyset<'a>(q: Boxed<'a>, mode: Mode, descending: bool, cursor: Option<&Cursor>) -> Boxed<'a> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool, Timestamp};
    let m = super::mode_literal(mode);
    let (end, start, after) = if descending { (">=", "<=", "<") } else { ("<=", ">=", ">") };
    let q = q.filter(sql::<Bool>(&format!("payment_orders.mode {end} {m}")));
    let row = |columns: &str| format!("(payment_orders.mode, {columns}payment_orders.id) {after} ({m}, ");
    let q = match cursor {
        None => q.filter(sql::<Bool>(&format!("payment_orders.mode {start} {m}"))),
        Some(Cursor::Created(id)) => q.filter(sql::<Bool>(&row("")).bind::<BigInt, _>(*id).sql(")")),
        Some(Cursor::Expires(t, id)) => q.filter(
            sql::<Bool>(&row("payment_orders.expires_at, "))
                .bind::<Timestamp, _>(*t)
                .sql(", ")
                .bind::<BigInt, _>(*id)
                .sql(")"),
        ),
        Some(Cursor::Amount(a, id)) => q.filter(
            sql::<Bool>(&row("payment_orders.amount, "))
                .bind::<BigInt, _>(*a)
                .sql(", ")
                .bind::<BigInt, _>(*id)
                .sql(")"),
        ),
    };
    if descending { q.order(po::mode.desc()) } else { q.order(po::mode.asc()) }
}

/// The prefix of a payment lock parked at the issuer's challenge (`3ds:<holder>:<card>`):
/// its buyer is away and no acquirer call is in flight.
pub const PARKED: &str = "3ds:";

/// No attempt holds the order's live lock, or only one waiting at the issuer's challenge.
#[allow(clippy::type_complexity)]
fn no_payment_in_flight(
    now: NaiveDateTime,
) -> diesel::dsl::Or<
    diesel::dsl::Or<diesel::dsl::IsNull<po::pay_lock>, diesel::dsl::Lt<po::pay_lock_until, NaiveDateTime>>,
    diesel::dsl::Like<po::pay_lock, String>,
> {
    po::pay_lock.is_null().or(po::pay_lock_until.lt(now)).or(po::pay_lock.like(format!("{PARKED}%")))
}

/// Whether an attempt holding the order's live lock may be calling the acquirer.
pub fn payment_in_flight(conn: &mut DbConn, id: OrderId, now: NaiveDateTime) -> QueryResult<bool> {
    let free: Option<i64> =
        po::table.find(id.0).filter(no_payment_in_flight(now)).select(po::id).first(conn).optional()?;
    Ok(free.is_none())
}

/// Takes the order for one payment attempt: only a payable order (running or refused,
/// within validity) not already held by another attempt. 0 rows: someone else pays or it
/// is no longer payable. This row lock is what makes a link paid at most once.
pub fn lock_for_payment(
    conn: &mut DbConn,
    id: OrderId,
    holder: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        po::table
            .find(id.0)
            .filter(po::status.eq_any([OrderStatus::Running.as_str(), OrderStatus::Refused.as_str()]))
            .filter(po::expires_at.ge(now))
            .filter(po::pay_lock.is_null().or(po::pay_lock_until.lt(now)).or(po::pay_lock.eq(holder))),
    )
    .set((po::pay_lock.eq(Some(holder)), po::pay_lock_until.eq(Some(until))))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends a payment attempt: the order becomes PAID or REFUSED and points at its transaction.
/// Only while `holder` is the lock's value. `release`: the lock is freed; otherwise `holder`
/// keeps it (a new attempt writing the result of the challenge it took over).
pub fn finalise_payment(
    conn: &mut DbConn,
    id: OrderId,
    holder: &str,
    status: OrderStatus,
    transaction: i64,
    release: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let target = po::table.find(id.0).filter(po::pay_lock.eq(holder));
    let settled = (po::status.eq(status.as_str()), po::transaction_id.eq(Some(transaction)), po::updated_at.eq(now));
    if release {
        diesel::update(target)
            .set((settled, po::pay_lock.eq(None::<String>), po::pay_lock_until.eq(None::<NaiveDateTime>)))
            .execute(conn)
    } else {
        diesel::update(target).set(settled).execute(conn)
    }
}

/// Gives the order back without a result, while `lock` is still the lock's value.
pub fn release_payment(conn: &mut DbConn, id: OrderId, lock: &str) -> QueryResult<usize> {
    diesel::update(po::table.find(id.0).filter(po::pay_lock.eq(lock)))
        .set((po::pay_lock.eq(None::<String>), po::pay_lock_until.eq(None::<NaiveDateTime>)))
        .execute(conn)
}

/// The order's payment lock as it stands (whatever its expiry).
pub fn payment_lock(conn: &mut DbConn, id: OrderId) -> QueryResult<Option<String>> {
    Ok(po::table.find(id.0).select(po::pay_lock).first(conn).optional()?.flatten())
}

/// Moves the lock from one stage of an attempt to another (calling the acquirer, waiting at
/// the issuer's challenge) — only while it is still exactly `from`: false when another
/// request moved it first. `until`: a new expiry, or the current one kept.
pub fn restage_payment(
    conn: &mut DbConn,
    id: OrderId,
    from: &str,
    to: &str,
    until: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let target = po::table.find(id.0).filter(po::pay_lock.eq(from));
    let n = match until {
        Some(until) => {
            diesel::update(target).set((po::pay_lock.eq(Some(to)), po::pay_lock_until.eq(Some(until)))).execute(conn)?
        }
        None => diesel::update(target).set(po::pay_lock.eq(Some(to))).execute(conn)?,
    };
    Ok(n == 1)
}

/// Hands the lock of an attempt waiting at the issuer's challenge (`parked`, exactly) to a
/// new attempt of a payable order, whatever its expiry. 0 rows: the challenge was answered
/// or taken over first, or the order is no longer payable.
pub fn take_over_payment(
    conn: &mut DbConn,
    id: OrderId,
    parked: &str,
    holder: &str,
    until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        po::table
            .find(id.0)
            .filter(po::status.eq_any([OrderStatus::Running.as_str(), OrderStatus::Refused.as_str()]))
            .filter(po::expires_at.ge(now))
            .filter(po::pay_lock.eq(parked)),
    )
    .set((po::pay_lock.eq(Some(holder)), po::pay_lock_until.eq(Some(until))))
    .execute(conn)?;
    Ok(n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let t = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap().naive_utc();
        for c in [Cursor::Created(42), Cursor::Expires(t, 7), Cursor::Amount(1500, 9)] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        for bad in ["", "x.1", "c", "c.abc", "e.1", "a.1.b", "c.1.2"] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }
}
