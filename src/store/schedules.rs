//! Orders' schedules of instalments and their instalments. A plan's card is a vault record of
//! its own (`card_token`), deleted when the plan ends or is dropped.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{instalment_plans as ip, instalments as ins};
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::schedule::{Instalment, InstalmentStatus, Plan, PlanStatus};

#[derive(Queryable, Selectable)]
#[diesel(table_name = ip)]
struct PlanRow {
    order_id: i64,
    shop_id: i64,
    card_token: String,
    card_brand: String,
    card_masked: String,
    card_expiry: String,
    holder: Option<String>,
    instalment_count: i32,
    status: String,
    balance_order_id: Option<i64>,
}

fn bad(column: &str, value: &str) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(format!("{column}: {value:?}").into())
}

impl TryFrom<PlanRow> for Plan {
    type Error = diesel::result::Error;
    fn try_from(r: PlanRow) -> QueryResult<Plan> {
        Ok(Plan {
            order_id: OrderId(r.order_id),
            shop_id: ShopId(r.shop_id),
            card_token: r.card_token,
            card_brand: r.card_brand,
            card_masked: r.card_masked,
            card_expiry: r.card_expiry,
            holder: r.holder,
            count: u8::try_from(r.instalment_count).map_err(|_| bad("instalment_count", "out of range"))?,
            status: PlanStatus::parse(&r.status).ok_or_else(|| bad("instalment_plans.status", &r.status))?,
            balance_order_id: r.balance_order_id.map(OrderId),
        })
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = ins)]
struct InstalmentRow {
    idx: i32,
    due_on: NaiveDate,
    amount: i64,
    status: String,
    tries: i32,
    transaction_id: Option<i64>,
    last_code: Option<String>,
}

impl TryFrom<InstalmentRow> for Instalment {
    type Error = diesel::result::Error;
    fn try_from(r: InstalmentRow) -> QueryResult<Instalment> {
        Ok(Instalment {
            index: u8::try_from(r.idx).map_err(|_| bad("idx", "out of range"))?,
            due_on: r.due_on,
            amount: r.amount,
            status: InstalmentStatus::parse(&r.status).ok_or_else(|| bad("instalments.status", &r.status))?,
            tries: u8::try_from(r.tries).unwrap_or(u8::MAX),
            transaction_id: r.transaction_id,
            last_code: r.last_code,
        })
    }
}

/// A plan being set up by the attempt `attempt`, with each instalment and when it is due.
pub struct NewPlan<'a> {
    pub order: OrderId,
    pub shop: ShopId,
    pub attempt: &'a str,
    pub card_token: &'a str,
    pub card_brand: &'a str,
    pub card_masked: &'a str,
    pub card_expiry: &'a str,
    pub holder: Option<&'a str>,
    /// `(index, due_on, amount, due at)`.
    pub instalments: Vec<(u8, NaiveDate, i64, NaiveDateTime)>,
}

/// Writes a PENDING plan for the order (dropping one a previous attempt left PENDING).
pub fn insert_pending(conn: &mut DbConn, p: &NewPlan<'_>, now: NaiveDateTime) -> QueryResult<()> {
    drop_pending(conn, p.order)?;
    diesel::insert_into(ip::table)
        .values((
            ip::order_id.eq(p.order.0),
            ip::shop_id.eq(p.shop.0),
            ip::attempt.eq(p.attempt),
            ip::card_token.eq(p.card_token),
            ip::card_brand.eq(p.card_brand),
            ip::card_masked.eq(p.card_masked),
            ip::card_expiry.eq(p.card_expiry),
            ip::holder.eq(p.holder),
            ip::instalment_count.eq(p.instalments.len() as i32),
            ip::status.eq(PlanStatus::Pending.as_str()),
            ip::created_at.eq(now),
            ip::updated_at.eq(now),
        ))
        .execute(conn)?;
    for (index, due_on, amount, at) in &p.instalments {
        diesel::insert_into(ins::table)
            .values((
                ins::order_id.eq(p.order.0),
                ins::idx.eq(i32::from(*index)),
                ins::due_on.eq(due_on),
                ins::amount.eq(amount),
                ins::status.eq(InstalmentStatus::Pending.as_str()),
                ins::tries.eq(0),
                ins::next_at.eq(at),
                ins::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Deletes a plan and its instalments, and its card from the vault.
fn delete_plan(conn: &mut DbConn, order: OrderId, card_token: &str) -> QueryResult<()> {
    diesel::delete(ins::table.filter(ins::order_id.eq(order.0))).execute(conn)?;
    diesel::delete(ip::table.find(order.0)).execute(conn)?;
    super::vault::delete(conn, card_token)?;
    Ok(())
}

fn drop_pending(conn: &mut DbConn, order: OrderId) -> QueryResult<()> {
    let left: Option<String> = ip::table
        .filter(ip::order_id.eq(order.0).and(ip::status.eq(PlanStatus::Pending.as_str())))
        .select(ip::card_token)
        .first(conn)
        .optional()?;
    if let Some(token) = left {
        delete_plan(conn, order, &token)?;
    }
    Ok(())
}

/// The plan the attempt `attempt` is setting up: its count and its first instalment's amount.
pub fn pending_of(conn: &mut DbConn, order: OrderId, attempt: &str) -> QueryResult<Option<(u8, i64)>> {
    let found: Option<i32> = ip::table
        .filter(ip::order_id.eq(order.0).and(ip::attempt.eq(attempt)).and(ip::status.eq(PlanStatus::Pending.as_str())))
        .select(ip::instalment_count)
        .first(conn)
        .optional()?;
    let Some(count) = found else { return Ok(None) };
    let first: i64 =
        ins::table.filter(ins::order_id.eq(order.0).and(ins::idx.eq(1))).select(ins::amount).first(conn)?;
    Ok(Some((u8::try_from(count).unwrap_or(0), first)))
}

/// The first instalment's attempt ended: accepted, the plan runs and its first instalment is
/// paid by `transaction`; refused, the plan is dropped with its card.
pub fn settle_pending(
    conn: &mut DbConn,
    order: OrderId,
    attempt: &str,
    accepted: bool,
    transaction: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let found: Option<String> = ip::table
        .filter(ip::order_id.eq(order.0).and(ip::attempt.eq(attempt)).and(ip::status.eq(PlanStatus::Pending.as_str())))
        .select(ip::card_token)
        .first(conn)
        .optional()?;
    let Some(token) = found else { return Ok(()) };
    if !accepted {
        return delete_plan(conn, order, &token);
    }
    set_status(conn, order, PlanStatus::Running, now)?;
    diesel::update(ins::table.filter(ins::order_id.eq(order.0).and(ins::idx.eq(1))))
        .set((
            ins::status.eq(InstalmentStatus::Paid.as_str()),
            ins::tries.eq(1),
            ins::transaction_id.eq(transaction),
            ins::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Drops the plans whose first attempt never ended (PENDING since before `before`).
pub fn sweep_pending(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    let left: Vec<(i64, String)> = ip::table
        .filter(ip::status.eq(PlanStatus::Pending.as_str()).and(ip::created_at.lt(before)))
        .select((ip::order_id, ip::card_token))
        .load(conn)?;
    for (order, token) in &left {
        delete_plan(conn, OrderId(*order), token)?;
    }
    Ok(left.len())
}

pub fn set_status(conn: &mut DbConn, order: OrderId, status: PlanStatus, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(ip::table.find(order.0)).set((ip::status.eq(status.as_str()), ip::updated_at.eq(now))).execute(conn)
}

pub fn set_balance(conn: &mut DbConn, order: OrderId, balance: OrderId, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(ip::table.find(order.0))
        .set((ip::balance_order_id.eq(balance.0), ip::updated_at.eq(now)))
        .execute(conn)
}

pub fn plan(conn: &mut DbConn, order: OrderId) -> QueryResult<Option<Plan>> {
    ip::table.find(order.0).select(PlanRow::as_select()).first(conn).optional()?.map(Plan::try_from).transpose()
}

pub fn instalments(conn: &mut DbConn, order: OrderId) -> QueryResult<Vec<Instalment>> {
    ins::table
        .filter(ins::order_id.eq(order.0))
        .order(ins::idx.asc())
        .select(InstalmentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Instalment::try_from)
        .collect()
}

/// Instalments due by `now` of running plans: `(order, index)`, oldest due first.
pub fn due(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<(OrderId, u8)>> {
    let rows: Vec<(i64, i32)> = ins::table
        .inner_join(ip::table)
        .filter(ins::status.eq(InstalmentStatus::Pending.as_str()).and(ins::next_at.le(now)))
        .filter(ip::status.eq(PlanStatus::Running.as_str()))
        .order((ins::next_at.asc(), ins::order_id.asc(), ins::idx.asc()))
        .limit(limit)
        .select((ins::order_id, ins::idx))
        .load(conn)?;
    Ok(rows.into_iter().map(|(o, i)| (OrderId(o), u8::try_from(i).unwrap_or(0))).collect())
}

/// Claims a due instalment for one charge: PENDING to CHARGING, one more try. False: another
/// worker claimed it first (or it is no longer due).
pub fn claim(conn: &mut DbConn, order: OrderId, index: u8, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        ins::table.filter(
            ins::order_id
                .eq(order.0)
                .and(ins::idx.eq(i32::from(index)))
                .and(ins::status.eq(InstalmentStatus::Pending.as_str()))
                .and(ins::next_at.le(now)),
        ),
    )
    .set((ins::status.eq(InstalmentStatus::Charging.as_str()), ins::tries.eq(ins::tries + 1), ins::updated_at.eq(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// What became of a CHARGING instalment.
pub enum Charged<'a> {
    Paid {
        transaction: i64,
    },
    /// Refused, tried again at `next_at`.
    Retry {
        transaction: Option<i64>,
        code: &'a str,
        next_at: NaiveDateTime,
    },
    /// Refused for good.
    Failed {
        transaction: Option<i64>,
        code: &'a str,
    },
    /// Not done (the acquirer could not be asked): PENDING again, at `next_at`, the try not
    /// counted.
    NotDone {
        next_at: NaiveDateTime,
    },
}

/// Writes what became of the CHARGING instalment. False: it was not CHARGING any more.
pub fn charged(conn: &mut DbConn, order: OrderId, index: u8, c: &Charged<'_>, now: NaiveDateTime) -> QueryResult<bool> {
    let target = ins::table.filter(
        ins::order_id
            .eq(order.0)
            .and(ins::idx.eq(i32::from(index)))
            .and(ins::status.eq(InstalmentStatus::Charging.as_str())),
    );
    let n = match *c {
        Charged::Paid { transaction } => diesel::update(target)
            .set((
                ins::status.eq(InstalmentStatus::Paid.as_str()),
                ins::transaction_id.eq(transaction),
                ins::last_code.eq(None::<String>),
                ins::updated_at.eq(now),
            ))
            .execute(conn)?,
        Charged::Retry { transaction, code, next_at } => diesel::update(target)
            .set((
                ins::status.eq(InstalmentStatus::Pending.as_str()),
                ins::transaction_id.eq(transaction),
                ins::last_code.eq(code),
                ins::next_at.eq(next_at),
                ins::updated_at.eq(now),
            ))
            .execute(conn)?,
        Charged::Failed { transaction, code } => diesel::update(target)
            .set((
                ins::status.eq(InstalmentStatus::Failed.as_str()),
                ins::transaction_id.eq(transaction),
                ins::last_code.eq(code),
                ins::updated_at.eq(now),
            ))
            .execute(conn)?,
        Charged::NotDone { next_at } => diesel::update(target)
            .set((
                ins::status.eq(InstalmentStatus::Pending.as_str()),
                ins::tries.eq(ins::tries - 1),
                ins::next_at.eq(next_at),
                ins::updated_at.eq(now),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// The plan's instalments still to charge (PENDING) are cancelled; how many.
pub fn cancel_pending(conn: &mut DbConn, order: OrderId, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(ins::table.filter(ins::order_id.eq(order.0).and(ins::status.eq(InstalmentStatus::Pending.as_str()))))
        .set((ins::status.eq(InstalmentStatus::Cancelled.as_str()), ins::updated_at.eq(now)))
        .execute(conn)
}
