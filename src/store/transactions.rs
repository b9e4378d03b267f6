//! Transactions (payment attempts that reached the acquirer) and their history.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{payment_orders as po, transaction_events as te, transactions as tx};
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::money::{Currency, Money};
use crate::domain::order::Channel;
use crate::domain::shop::ValidationMode;
use crate::domain::transaction::ThreeDsOutcome;

pub use crate::domain::listing::{Tab, TxFilter};
pub use crate::domain::transaction::{Event, Transaction, TxStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tx)]
struct Row {
    id: i64,
    shop_id: i64,
    mode: String,
    order_id: i64,
    status: String,
    amount: i64,
    currency: String,
    refunded_amount: i64,
    card_brand: String,
    card_masked: String,
    card_expiry: String,
    holder: Option<String>,
    three_ds: String,
    return_code: String,
    acquirer_ref: String,
    source: String,
    buyer_email: Option<String>,
    validation_mode: String,
    capture_date: Option<NaiveDate>,
    validate_by: Option<NaiveDateTime>,
    captured_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    settling_op: Option<i64>,
    refund_pending: i64,
    receipt_no: String,
    saved_card: Option<String>,
    instalment_index: Option<i32>,
    instalment_count: Option<i32>,
    service: Option<String>,
    service_payment_id: Option<String>,
}

/// A stored value this code does not know: the row is refused rather than guessed.
fn bad(column: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("transactions.{column}: {value:?}").into())
}

impl TryFrom<Row> for Transaction {
    type Error = diesel::result::Error;

    fn try_from(r: Row) -> QueryResult<Self> {
        Ok(Transaction {
            id: r.id,
            shop_id: ShopId(r.shop_id),
            mode: Mode::parse(&r.mode).ok_or_else(|| bad("mode", &r.mode))?,
            order_id: OrderId(r.order_id),
            status: TxStatus::parse(&r.status).ok_or_else(|| bad("status", &r.status))?,
            amount: Money {
                minor: r.amount,
                currency: Currency::parse(&r.currency).map_err(|_| bad("currency", &r.currency))?,
            },
            refunded: r.refunded_amount,
            card_brand: r.card_brand,
            card_masked: r.card_masked,
            card_expiry: r.card_expiry,
            holder: r.holder,
            three_ds: ThreeDsOutcome::parse(&r.three_ds).ok_or_else(|| bad("three_ds", &r.three_ds))?,
            return_code: r.return_code,
            acquirer_ref: r.acquirer_ref,
            source: Channel::parse(&r.source).ok_or_else(|| bad("source", &r.source))?,
            buyer_email: r.buyer_email,
            validation_mode: ValidationMode::parse(&r.validation_mode)
                .ok_or_else(|| bad("validation_mode", &r.validation_mode))?,
            capture_date: r.capture_date,
            validate_by: r.validate_by,
            captured_at: r.captured_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            settling_op: r.settling_op,
            refund_pending: r.refund_pending,
            receipt_no: r.receipt_no,
            saved_card: r.saved_card,
            service: r.service,
            service_payment_id: r.service_payment_id,
            buyer: None,
            instalment: match (r.instalment_index, r.instalment_count) {
                (Some(i), Some(n)) => Some((
                    u8::try_from(i).map_err(|_| bad("instalment_index", &i.to_string()))?,
                    u8::try_from(n).map_err(|_| bad("instalment_count", &n.to_string()))?,
                )),
                _ => None,
            },
        })
    }
}

/// Decodes rows strictly: one bad stored value fails the read.
fn decode(rows: Vec<Row>) -> QueryResult<Vec<Transaction>> {
    rows.into_iter().map(Transaction::try_from).collect()
}

pub struct NewTransaction<'a> {
    pub shop_id: ShopId,
    pub mode: Mode,
    pub order_id: OrderId,
    pub status: TxStatus,
    pub amount: Money,
    pub card_brand: &'a str,
    pub card_masked: &'a str,
    pub card_expiry: &'a str,
    pub holder: Option<&'a str>,
    pub three_ds: ThreeDsOutcome,
    pub return_code: &'a str,
    pub acquirer_ref: &'a str,
    pub source: Channel,
    pub buyer_email: Option<&'a str>,
    pub validation_mode: ValidationMode,
    pub capture_date: Option<NaiveDate>,
    pub validate_by: Option<NaiveDateTime>,
    pub captured_at: Option<NaiveDateTime>,
    /// The saved card used (a new one being saved is linked when its payment is accepted).
    pub saved_card: Option<&'a str>,
    /// `(index, count)` of the instalment this pays.
    pub instalment: Option<(u8, u8)>,
}

pub fn insert(conn: &mut DbConn, t: &NewTransaction<'_>, now: NaiveDateTime) -> QueryResult<Transaction> {
    diesel::insert_into(tx::table)
        .values((
            (
                tx::shop_id.eq(t.shop_id.0),
                tx::mode.eq(t.mode.as_str()),
                tx::order_id.eq(t.order_id.0),
                tx::status.eq(t.status.as_str()),
                tx::amount.eq(t.amount.minor),
                tx::currency.eq(t.amount.currency.code()),
                tx::refunded_amount.eq(0i64),
                tx::card_brand.eq(t.card_brand),
                tx::card_masked.eq(t.card_masked),
                tx::card_expiry.eq(t.card_expiry),
                tx::holder.eq(t.holder),
            ),
            (
                tx::three_ds.eq(t.three_ds.as_str()),
                tx::return_code.eq(t.return_code),
                tx::acquirer_ref.eq(t.acquirer_ref),
                tx::source.eq(t.source.as_str()),
                tx::buyer_email.eq(t.buyer_email),
                tx::validation_mode.eq(t.validation_mode.as_str()),
                tx::capture_date.eq(t.capture_date),
                tx::validate_by.eq(t.validate_by),
                tx::captured_at.eq(t.captured_at),
                tx::created_at.eq(now),
                tx::updated_at.eq(now),
                tx::receipt_no.eq(crate::domain::transaction::new_receipt_no()),
                tx::saved_card.eq(t.saved_card),
                tx::instalment_index.eq(t.instalment.map(|(i, _)| i32::from(i))),
                tx::instalment_count.eq(t.instalment.map(|(_, n)| i32::from(n))),
            ),
        ))
        .returning(tx::all_columns)
        .get_result::<Row>(conn)
        .and_then(Transaction::try_from)
}

/// A transaction of one of `shops` in `mode`.
pub fn find(conn: &mut DbConn, shops: &[ShopId], mode: Mode, id: i64) -> QueryResult<Option<Transaction>> {
    let ids: Vec<i64> = shops.iter().map(|s| s.0).collect();
    tx::table
        .filter(tx::id.eq(id).and(tx::shop_id.eq_any(ids)).and(tx::mode.eq(mode.as_str())))
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Transaction::try_from)
        .transpose()?
        .map(|t| with_buyers(conn, vec![t]).map(|mut v| v.remove(0)))
        .transpose()
}

/// The transactions with their orders' collected buyer data (one query for all).
fn with_buyers(conn: &mut DbConn, mut txs: Vec<Transaction>) -> QueryResult<Vec<Transaction>> {
    let orders: Vec<OrderId> = txs.iter().map(|t| t.order_id).collect();
    let buyers: std::collections::HashMap<OrderId, _> = super::collect::buyers_of(conn, &orders)?.into_iter().collect();
    for t in &mut txs {
        t.buyer = buyers.get(&t.order_id).cloned();
    }
    Ok(txs)
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<Option<Transaction>> {
    let found =
        crate::db::on_backend!(conn, |c| tx::table.find(id).select(Row::as_select()).first::<Row>(c).optional())?;
    found.map(Transaction::try_from).transpose()
}

pub fn for_order(conn: &mut DbConn, order: OrderId) -> QueryResult<Vec<Transaction>> {
    tx::table
        .filter(tx::order_id.eq(order.0))
        .order(tx::id.desc())
        .select(Row::as_select())
        .load::<Row>(conn)
        .and_then(decode)
        .and_then(|txs| with_buyers(conn, txs))
}

/// One page, newest first, after the `before` id (keyset).
///
/// Each shop is read on its own (`shop_id = ?`), so that `(shop_id, mode, id)` gives the order
/// whatever the size of the other shops (see `orders::list` and "Lists on PostgreSQL" in
/// `store`); several shops merge by id.
pub fn list(
    conn: &mut DbConn,
    shops: &[ShopId],
    mode: Mode,
    tab: Tab,
    f: &TxFilter,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<(Vec<Transaction>, Option<i64>)> {
    let mut rows = Vec::new();
    for shop in super::distinct(shops) {
        rows.extend(list_shop(conn, shop, mode, tab, f, before, limit + 1)?);
    }
    let (rows, more) = super::merge_pages(rows, |t| t.id, true, limit);
    let next = if more { rows.last().map(|t| t.id) } else { None };
    Ok((with_buyers(conn, rows)?, next))
}

/// The newest `fetch` transactions of one shop before `before`.
fn list_shop(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    tab: Tab,
    f: &TxFilter,
    before: Option<i64>,
    fetch: i64,
) -> QueryResult<Vec<Transaction>> {
    let postgres = matches!(conn, DbConn::Postgres(_));
    let mut q = tx::table.filter(tx::shop_id.eq(shop.0)).into_boxed();
    q = if postgres { postgres_keyset(q, mode, before) } else { q.filter(tx::mode.eq(mode.as_str())) };
    q = match tab {
        Tab::InProgress => q.filter(tx::status.eq_any(["AUTHORISED", "AUTHORISED_TO_VALIDATE"])),
        Tab::Captured => q.filter(tx::status.eq("CAPTURED")),
        Tab::Others => q.filter(tx::status.eq_any(["REFUSED", "CANCELLED", "EXPIRED"])),
        Tab::All => q,
    };
    if let Some(o) = f.order_id {
        q = q.filter(tx::order_id.eq(o.0));
    }
    if let Some(s) = f.status {
        q = q.filter(tx::status.eq(s.as_str()));
    }
    if let Some(t) = f.created_from {
        q = q.filter(tx::created_at.ge(t));
    }
    if let Some(t) = f.created_to {
        q = q.filter(tx::created_at.lt(t));
    }
    if let Some(l) = &f.card_last4 {
        q = q.filter(tx::card_masked.like(format!("%{l}")));
    }
    if let Some(c) = &f.return_code {
        q = q.filter(tx::return_code.eq(c.clone()));
    }
    if let Some(r) = &f.reference {
        // A transaction's order is in its shop: scoped so, the reference index serves the
        // lookup instead of a scan of every shop's orders.
        let shop_orders = po::table.filter(po::shop_id.eq(shop.0)).filter(po::mode.eq(mode.as_str()));
        q = match r.strip_suffix('*') {
            Some(prefix) => {
                let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                let like = po::reference.like(format!("{escaped}%")).escape('\\');
                q.filter(tx::order_id.eq_any(shop_orders.filter(like).select(po::id)))
            }
            None => q.filter(tx::order_id.eq_any(shop_orders.filter(po::reference.eq(r.clone())).select(po::id))),
        };
    }
    if let Some(b) = before.filter(|_| !postgres) {
        q = q.filter(tx::id.lt(b));
    }
    q.then_order_by(tx::id.desc()).limit(fetch).select(Row::as_select()).load::<Row>(conn).and_then(decode)
}

type Boxed<'a> = tx::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

/// The mode and the keyset of one shop's page on PostgreSQL ("Lists on PostgreSQL" in `store`).
fn postgres_keyset(q: Boxed<'_>, mode: Mode, before: Option<i64>) -> Boxed<'_> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool};
    let m = super::mode_literal(mode);
    let q = q.filter(sql::<Bool>(&format!("transactions.mode >= {m}")));
    let q = match before {
        None => q.filter(sql::<Bool>(&format!("transactions.mode <= {m}"))),
        Some(b) => q.filter(
            sql::<Bool>(&format!("(transactions.mode, transactions.id) < ({m}, ")).bind::<BigInt, _>(b).sql(")"),
        ),
    };
    q.order(tx::mode.desc())
}

/// The references of these orders (for lists of transactions), by order id.
pub fn order_references(conn: &mut DbConn, orders: &[OrderId]) -> QueryResult<Vec<(i64, Option<String>)>> {
    let ids: Vec<i64> = orders.iter().map(|o| o.0).collect();
    po::table.filter(po::id.eq_any(ids)).select((po::id, po::reference)).load(conn)
}

/// Changes to a transaction, named by intent and guarded by status in SQL.
pub enum TxUpdate {
    Validate,
    CaptureDate(NaiveDate),
    /// The acquirer did operation `op`, which had claimed the transaction: it becomes `to`
    /// (CAPTURED, CANCELLED or EXPIRED) and is free again.
    Settled {
        op: i64,
        to: TxStatus,
    },
    /// The acquirer refunded `amount`, reserved before the call.
    Refunded(i64),
}

pub fn apply(conn: &mut DbConn, id: i64, update: TxUpdate, now: NaiveDateTime) -> QueryResult<usize> {
    let target = tx::table.find(id);
    let authorised = ["AUTHORISED", "AUTHORISED_TO_VALIDATE"];
    match update {
        TxUpdate::Validate => {
            diesel::update(target.filter(tx::status.eq("AUTHORISED_TO_VALIDATE")).filter(tx::settling_op.is_null()))
                .set((tx::status.eq("AUTHORISED"), tx::validate_by.eq(None::<NaiveDateTime>), tx::updated_at.eq(now)))
                .execute(conn)
        }
        TxUpdate::CaptureDate(d) => {
            diesel::update(target.filter(tx::status.eq_any(authorised)).filter(tx::settling_op.is_null()))
                .set((tx::capture_date.eq(Some(d)), tx::updated_at.eq(now)))
                .execute(conn)
        }
        TxUpdate::Settled { op, to } => {
            let from: &[&str] = match to {
                TxStatus::Captured => &["AUTHORISED"],
                TxStatus::Expired => &["AUTHORISED_TO_VALIDATE"],
                _ => &authorised,
            };
            let captured_at = (to == TxStatus::Captured).then_some(now);
            diesel::update(target.filter(tx::settling_op.eq(op)).filter(tx::status.eq_any(from)))
                .set((
                    tx::status.eq(to.as_str()),
                    tx::captured_at.eq(captured_at),
                    tx::settling_op.eq(None::<i64>),
                    tx::updated_at.eq(now),
                ))
                .execute(conn)
        }
        TxUpdate::Refunded(amount) => {
            diesel::update(target.filter(tx::status.eq("CAPTURED")).filter(tx::refund_pending.ge(amount)))
                .set((
                    tx::refunded_amount.eq(tx::refunded_amount + amount),
                    tx::refund_pending.eq(tx::refund_pending - amount),
                    tx::updated_at.eq(now),
                ))
                .execute(conn)
        }
    }
}

/// Operation `op` claims the transaction for a capture, cancellation or expiry, if it is in
/// one of `statuses` and no other operation holds it. 0: not claimed.
pub fn claim_settlement(
    conn: &mut DbConn,
    id: i64,
    op: i64,
    statuses: &[&str],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(tx::table.find(id).filter(tx::settling_op.is_null()).filter(tx::status.eq_any(statuses)))
        .set((tx::settling_op.eq(Some(op)), tx::updated_at.eq(now)))
        .execute(conn)
}

/// The acquirer did not do operation `op`: the transaction is free again, unchanged.
pub fn release_settlement(conn: &mut DbConn, id: i64, op: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(tx::table.find(id).filter(tx::settling_op.eq(op)))
        .set((tx::settling_op.eq(None::<i64>), tx::updated_at.eq(now)))
        .execute(conn)
}

/// Reserves `amount` for a refund: never above what was captured, counting the refunds done
/// and those under way. 0: too much.
pub fn reserve_refund(conn: &mut DbConn, id: i64, amount: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        tx::table
            .find(id)
            .filter(tx::status.eq("CAPTURED"))
            .filter((tx::refunded_amount + tx::refund_pending + amount).le(tx::amount)),
    )
    .set((tx::refund_pending.eq(tx::refund_pending + amount), tx::updated_at.eq(now)))
    .execute(conn)
}

/// The acquirer did not refund `amount`: the reservation is given back.
pub fn release_refund(conn: &mut DbConn, id: i64, amount: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(tx::table.find(id).filter(tx::refund_pending.ge(amount)))
        .set((tx::refund_pending.eq(tx::refund_pending - amount), tx::updated_at.eq(now)))
        .execute(conn)
}

/// Authorised transactions whose capture date has come (per shop zone, checked by caller).
pub fn due_for_capture(conn: &mut DbConn, up_to: NaiveDate, limit: i64) -> QueryResult<Vec<Transaction>> {
    tx::table
        .filter(tx::status.eq("AUTHORISED").and(tx::capture_date.le(up_to)).and(tx::settling_op.is_null()))
        .order(tx::id)
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)
        .and_then(decode)
}

/// Manual transactions not validated in time.
pub fn due_for_expiry(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<Transaction>> {
    tx::table
        .filter(tx::status.eq("AUTHORISED_TO_VALIDATE").and(tx::validate_by.lt(now)).and(tx::settling_op.is_null()))
        .order(tx::id)
        .limit(limit)
        .select(Row::as_select())
        .load::<Row>(conn)
        .and_then(decode)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = te)]
struct EventRow {
    id: i64,
    transaction_id: i64,
    kind: String,
    amount: Option<i64>,
    actor: String,
    detail: String,
    created_at: NaiveDateTime,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Event {
            id: r.id,
            transaction_id: r.transaction_id,
            kind: r.kind,
            amount: r.amount,
            actor: r.actor,
            detail: r.detail,
            created_at: r.created_at,
        }
    }
}

pub fn add_event(
    conn: &mut DbConn,
    transaction: i64,
    kind: &str,
    amount: Option<i64>,
    actor: &str,
    detail: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(te::table)
        .values((
            te::transaction_id.eq(transaction),
            te::kind.eq(kind),
            te::amount.eq(amount),
            te::actor.eq(actor),
            te::detail.eq(detail),
            te::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn events(conn: &mut DbConn, transaction: i64) -> QueryResult<Vec<Event>> {
    te::table
        .filter(te::transaction_id.eq(transaction))
        .order(te::id)
        .select(EventRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(Event::from).collect())
}

/// Names the payment service a new transaction was made through, and its payment id there.
pub fn set_service(conn: &mut DbConn, id: i64, service: &str, payment_id: &str) -> QueryResult<usize> {
    diesel::update(tx::table.find(id))
        .set((tx::service.eq(service), tx::service_payment_id.eq(payment_id)))
        .execute(conn)
}
