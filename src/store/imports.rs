//! CSV imports of invoice orders: the import's record, the references a file may not reuse,
//! and the bulk insert of its orders (multi-row statements on the backend's own connection).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::QueryResult;
use crate::db::schema::{imports as im, payment_orders as po};
use crate::db::{DbConn, on_backend};
use crate::domain::api_key::Mode;
use crate::domain::ids::{ImportId, ShopId};
use crate::domain::import::{ImportStatus, LineError};
use crate::domain::money::Money;
use crate::domain::order::{AliasMode, Channel, OrderStatus};
use crate::domain::shop::{ThreeDsPreference, ValidationMode};

/// Rows per `INSERT`: 27 values each, well under SQLite's 32,766 bound parameters and
/// PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 500;
/// References per look-up of those already taken.
const REFERENCES_PER_QUERY: usize = 1000;

/// An import as stored (the file itself is not read back here).
#[derive(Debug, Clone)]
pub struct Import {
    pub id: ImportId,
    pub shop_id: ShopId,
    pub mode: Mode,
    pub status: ImportStatus,
    pub total: i32,
    pub created: i32,
    pub errors: Vec<LineError>,
    pub sha256: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = im)]
struct Row {
    id: i64,
    shop_id: i64,
    mode: String,
    status: String,
    total: i32,
    created: i32,
    errors: String,
    sha256: String,
    created_by: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<Row> for Import {
    fn from(r: Row) -> Self {
        Import {
            id: ImportId(r.id),
            shop_id: ShopId(r.shop_id),
            mode: Mode::parse(&r.mode).unwrap_or(Mode::Test),
            status: ImportStatus::parse(&r.status).unwrap_or(ImportStatus::Failed),
            total: r.total,
            created: r.created,
            errors: serde_json::from_str(&r.errors).unwrap_or_default(),
            sha256: r.sha256,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

pub struct NewImport<'a> {
    pub shop_id: ShopId,
    pub mode: Mode,
    pub status: ImportStatus,
    pub total: i32,
    pub created: i32,
    pub errors: &'a [LineError],
    pub sha256: &'a str,
    /// The file, kept for the worker while the import is RUNNING.
    pub source: Option<&'a str>,
    pub created_by: &'a str,
}

fn errors_json(errors: &[LineError]) -> String {
    serde_json::to_string(errors).expect("serialisable")
}

pub fn insert(conn: &mut DbConn, i: &NewImport<'_>, now: NaiveDateTime) -> QueryResult<Import> {
    let id = diesel::insert_into(im::table)
        .values((
            im::shop_id.eq(i.shop_id.0),
            im::mode.eq(i.mode.as_str()),
            im::status.eq(i.status.as_str()),
            im::total.eq(i.total),
            im::created.eq(i.created),
            im::errors.eq(errors_json(i.errors)),
            im::sha256.eq(i.sha256),
            im::source.eq(i.source),
            im::created_by.eq(i.created_by),
            im::created_at.eq(now),
            im::updated_at.eq(now),
        ))
        .returning(im::id)
        .get_result::<i64>(conn)?;
    im::table.find(id).select(Row::as_select()).first::<Row>(conn).map(Import::from)
}

/// The shop's import in that mode, or nothing (another shop's id reads as nothing).
pub fn find(conn: &mut DbConn, shop: ShopId, mode: Mode, id: ImportId) -> QueryResult<Option<Import>> {
    im::table
        .filter(im::id.eq(id.0).and(im::shop_id.eq(shop.0)).and(im::mode.eq(mode.as_str())))
        .select(Row::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(Import::from))
}

/// The imports still waiting for the worker, oldest first.
pub fn running_ids(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<ImportId>> {
    let ids: Vec<i64> = im::table
        .filter(im::status.eq(ImportStatus::Running.as_str()))
        .order(im::id.asc())
        .limit(limit)
        .select(im::id)
        .load(conn)?;
    Ok(ids.into_iter().map(ImportId).collect())
}

/// Takes a RUNNING import for this transaction, with its file: the guarded update is its
/// first write, so on PostgreSQL a second worker waits on the row and then finds it ended.
/// Nothing when it is no longer RUNNING.
pub fn claim(conn: &mut DbConn, id: ImportId, now: NaiveDateTime) -> QueryResult<Option<(Import, String)>> {
    let n = diesel::update(im::table.filter(im::id.eq(id.0).and(im::status.eq(ImportStatus::Running.as_str()))))
        .set(im::updated_at.eq(now))
        .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    let (row, source): (Row, Option<String>) =
        im::table.find(id.0).select((Row::as_select(), im::source)).first(conn)?;
    Ok(Some((Import::from(row), source.unwrap_or_default())))
}

/// Ends a RUNNING import (DONE or FAILED) and drops its file. Guarded: `false` when another
/// worker ended it first (on PostgreSQL the row lock makes the second wait for the first).
pub fn finish(
    conn: &mut DbConn,
    id: ImportId,
    status: ImportStatus,
    created: i32,
    errors: &[LineError],
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(im::table.filter(im::id.eq(id.0).and(im::status.eq(ImportStatus::Running.as_str()))))
        .set((
            im::status.eq(status.as_str()),
            im::created.eq(created),
            im::errors.eq(errors_json(errors)),
            im::source.eq(None::<String>),
            im::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Of `references`, those a RUNNING, PAID or EXPIRED invoice order of the shop already holds
/// (the unique index's rows: every status but CANCELLED).
pub fn taken_references(conn: &mut DbConn, shop: ShopId, mode: Mode, references: &[&str]) -> QueryResult<Vec<String>> {
    let mut taken = Vec::new();
    for chunk in references.chunks(REFERENCES_PER_QUERY) {
        let found: Vec<Option<String>> = po::table
            .filter(po::shop_id.eq(shop.0))
            .filter(po::mode.eq(mode.as_str()))
            .filter(po::channel.eq(Channel::Invoice.as_str()))
            .filter(po::status.ne(OrderStatus::Cancelled.as_str()))
            .filter(po::reference.eq_any(chunk))
            .select(po::reference)
            .load(conn)?;
        taken.extend(found.into_iter().flatten());
    }
    Ok(taken)
}

/// One invoice order of a file, with the shop's defaults already applied.
pub struct NewInvoice {
    pub token: String,
    pub reference: String,
    pub amount: Money,
    pub description: Option<String>,
    pub expires_on: NaiveDate,
    pub expires_at: NaiveDateTime,
}

/// What every order of the file shares.
pub struct InvoiceDefaults<'a> {
    pub shop_id: ShopId,
    pub mode: Mode,
    pub language: &'a str,
    pub validation_mode: ValidationMode,
    pub capture_delay_days: i32,
    pub three_ds: ThreeDsPreference,
    pub created_by: &'a str,
}

/// The values of one invoice's row (every column but those an order only gets later).
macro_rules! invoice_row {
    ($d:expr, $i:expr, $now:expr) => {
        (
            (
                po::shop_id.eq($d.shop_id.0),
                po::mode.eq($d.mode.as_str()),
                po::channel.eq(Channel::Invoice.as_str()),
                po::token.eq($i.token.as_str()),
                po::reference.eq(Some($i.reference.as_str())),
                po::amount.eq($i.amount.minor),
                po::currency.eq($i.amount.currency.code()),
                po::language.eq($d.language),
                po::validation_mode.eq($d.validation_mode.as_str()),
                po::capture_delay_days.eq($d.capture_delay_days),
                po::expires_on.eq($i.expires_on),
                po::expires_at.eq($i.expires_at),
                po::alias_mode.eq(AliasMode::None.as_str()),
                po::three_ds.eq($d.three_ds.as_str()),
            ),
            (
                po::use_collection_form.eq(true),
                po::description.eq($i.description.as_deref()),
                po::status.eq(OrderStatus::Running.as_str()),
                po::delivery_status.eq(Channel::Invoice.initial_delivery().as_str()),
                po::send_count.eq(0),
                po::created_by.eq($d.created_by),
                po::created_at.eq($now),
                po::updated_at.eq($now),
            ),
        )
    };
}

/// Inserts the invoices, `ROWS_PER_STATEMENT` to a statement, on the backend's own
/// connection (through the `MultiConnection` each statement would be written out twice).
/// Runs in the caller's transaction.
pub fn insert_invoices(
    conn: &mut DbConn,
    d: &InvoiceDefaults<'_>,
    invoices: &[NewInvoice],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut inserted = 0;
    for chunk in invoices.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<_> = chunk.iter().map(|i| invoice_row!(d, i, now)).collect();
        inserted += on_backend!(conn, |c| diesel::insert_into(po::table).values(&values).execute(c))?;
    }
    Ok(inserted)
}

/// The baseline the benchmark compares the import with: the same orders, one bare `INSERT`
/// each, in the caller's transaction, nothing checked.
pub fn insert_invoices_one_by_one(
    conn: &mut DbConn,
    d: &InvoiceDefaults<'_>,
    invoices: &[NewInvoice],
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut inserted = 0;
    for i in invoices {
        let values = invoice_row!(d, i, now);
        inserted += on_backend!(conn, |c| diesel::insert_into(po::table).values(values).execute(c))?;
    }
    Ok(inserted)
}
