//! Importing invoice orders from a CSV file (seed 001 §1.4, DESIGN §4). The file is checked
//! whole: its lines (`domain::import`), then its references against the shop's invoices that
//! are not cancelled. Any fault and nothing is created: the import is FAILED with every
//! faulty line. A valid file creates all its orders in one transaction, with the import's
//! record and its audit entry. A small file is imported at once; a large one is kept and the
//! worker imports it (RUNNING until then), so that a request never holds the database for long.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::orders::OrderContext;
use super::{Env, Scope, ServiceError, ServiceResult};
use crate::db::{DbConn, DbError};
use crate::domain::api_key::Mode;
use crate::domain::clock::Clock;
use crate::domain::ids::{ImportId, ShopId};
use crate::domain::import::{self, ImportRow, ImportStatus, LineError};
use crate::domain::money::Currency;
use crate::domain::order::{self, new_token};
use crate::store::audit::{self, Actor, Entry};
use crate::store::imports::{self as store, InvoiceDefaults, NewImport, NewInvoice};

pub use crate::store::imports::Import;

/// Files of up to this many lines are imported in the request; larger ones by the worker.
pub const AT_ONCE_LINES: usize = 2_000;
/// The largest file accepted (a 100,000-line file is about 5 MB).
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// The language of imported orders' pay pages (the file has no column for it).
const LANGUAGE: &str = "fr";

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The data lines of a file (its non-empty lines after the header), for `total`.
fn count_lines(bytes: &[u8]) -> usize {
    bytes.split(|b| *b == b'\n').skip(1).filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count()
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Receives a file in the caller's transaction: FAILED with its faults, DONE with its orders
/// created, or RUNNING for the worker when it is large.
pub fn submit_in(conn: &mut DbConn, clock: &dyn Clock, ctx: &OrderContext<'_>, bytes: &[u8]) -> ServiceResult<Import> {
    let now = clock.now_naive();
    let digest = sha256(bytes);
    let total = to_i32(count_lines(bytes));
    let record = |conn: &mut DbConn, status, created, errors: &[LineError], source| {
        let new = NewImport {
            shop_id: ctx.shop.id,
            mode: ctx.mode,
            status,
            total,
            created,
            errors,
            sha256: &digest,
            source,
            created_by: &ctx.actor.name,
        };
        store::insert(conn, &new, now)
    };
    let (status, created, errors) = if !super::collect::production_ready(conn, ctx.shop.id, ctx.mode)? {
        (ImportStatus::Failed, 0, vec![LineError::new(0, "file", "collect.not_in_production")])
    } else {
        let today = order::local_today(clock.now(), ctx.shop.settings.time_zone);
        match import::parse(bytes, today, Currency::EUR) {
            Err(errors) => (ImportStatus::Failed, 0, errors),
            Ok(rows) if rows.len() > AT_ONCE_LINES => {
                let text = std::str::from_utf8(bytes).expect("parsed as UTF-8");
                let import = record(conn, ImportStatus::Running, 0, &[], Some(text))?;
                log(conn, clock, ctx.actor, &import)?;
                return Ok(import);
            }
            Ok(rows) => create_all(conn, ctx, &rows, now)?,
        }
    };
    let import = record(conn, status, created, &errors, None)?;
    log(conn, clock, ctx.actor, &import)?;
    Ok(import)
}

/// Receives a file from the back office (one transaction).
pub async fn submit(env: &Env, scope: Scope, bytes: Vec<u8>) -> ServiceResult<Import> {
    let clock = env.clock.clone();
    env.db.write(move |conn| submit_in(conn, clock.as_ref(), &scope.orders(), &bytes)).await
}

/// Checks the references against the shop's orders, then creates every order or none: the
/// import's outcome (status, orders created, faults). Runs in the caller's transaction.
fn create_all(
    conn: &mut DbConn,
    ctx: &OrderContext<'_>,
    rows: &[ImportRow],
    now: chrono::NaiveDateTime,
) -> ServiceResult<(ImportStatus, i32, Vec<LineError>)> {
    let references: Vec<&str> = rows.iter().map(|r| r.reference.as_str()).collect();
    let taken: HashSet<String> =
        store::taken_references(conn, ctx.shop.id, ctx.mode, &references)?.into_iter().collect();
    let errors: Vec<LineError> = rows
        .iter()
        .filter(|r| taken.contains(&r.reference))
        .map(|r| LineError::new(r.line, "reference", "import.reference_exists"))
        .collect();
    if !errors.is_empty() {
        return Ok((ImportStatus::Failed, 0, errors));
    }
    let created = create_orders(conn, ctx, rows, now)?;
    Ok((ImportStatus::Done, to_i32(created), errors))
}

/// The invoices of the rows with the shop's defaults (validity, validation, capture delay,
/// 3-D Secure), inserted in bulk.
fn create_orders(
    conn: &mut DbConn,
    ctx: &OrderContext<'_>,
    rows: &[ImportRow],
    now: chrono::NaiveDateTime,
) -> ServiceResult<usize> {
    let settings = &ctx.shop.settings;
    let today = order::local_today(chrono::DateTime::from_naive_utc_and_offset(now, chrono::Utc), settings.time_zone);
    let default_end = order::default_end_date(today, settings.defaults.validity_days);
    // A file's dates are few: the end of each day in the shop's zone, computed once.
    let mut ends: HashMap<NaiveDate, chrono::NaiveDateTime> = HashMap::new();
    let invoices: Vec<NewInvoice> = rows
        .iter()
        .map(|r| {
            let expires_on = r.expires_on.unwrap_or(default_end);
            let expires_at = *ends
                .entry(expires_on)
                .or_insert_with(|| order::validity_end(expires_on, settings.time_zone).naive_utc());
            NewInvoice {
                token: new_token(),
                reference: r.reference.clone(),
                amount: r.amount,
                description: r.description.clone(),
                expires_on,
                expires_at,
            }
        })
        .collect();
    let defaults = InvoiceDefaults {
        shop_id: ctx.shop.id,
        mode: ctx.mode,
        language: LANGUAGE,
        validation_mode: settings.defaults.validation_mode,
        capture_delay_days: settings.defaults.capture_delay_days,
        three_ds: settings.defaults.three_ds,
        created_by: &ctx.actor.name,
    };
    Ok(store::insert_invoices(conn, &defaults, &invoices, now)?)
}

/// The audit entry of an import: its outcome and the file's SHA-256.
fn log(conn: &mut DbConn, clock: &dyn Clock, actor: &Actor, import: &Import) -> ServiceResult<()> {
    let (action, outcome) = match import.status {
        ImportStatus::Done => ("order.imported", format!("{} orders created", import.created)),
        ImportStatus::Failed => ("order.import_refused", format!("{} faults, nothing created", import.errors.len())),
        ImportStatus::Running => ("order.import_queued", format!("{} lines queued", import.total)),
    };
    let target = format!("import:{}", import.id);
    let detail = format!("{} {} lines, {outcome}, sha256 {}", import.mode, import.total, import.sha256);
    audit::append(
        conn,
        actor,
        Entry { shop_id: Some(import.shop_id), action, target: &target, detail: &detail },
        clock.now_naive(),
    )?;
    Ok(())
}

/// An import of the shop, in that mode (another shop's reads as not found).
pub fn find_blocking(db: &crate::db::Db, shop: ShopId, mode: Mode, id: ImportId) -> ServiceResult<Import> {
    db.read_blocking(move |conn| store::find(conn, shop, mode, id)?.ok_or(ServiceError::NotFound))
}

pub async fn find(env: &Env, shop: ShopId, mode: Mode, id: ImportId) -> ServiceResult<Import> {
    env.db.read(move |conn| store::find(conn, shop, mode, id)?.ok_or(ServiceError::NotFound)).await
}

/// The worker's part: the large files received, each in its own transaction. Returns the
/// imports ended.
pub async fn run_pending(env: &Env, public_url: &str) -> ServiceResult<usize> {
    let pending = env.db.read(|conn| Ok::<_, DbError>(store::running_ids(conn, 20)?)).await?;
    let mut ended = 0;
    for id in pending {
        let clock = env.clock.clone();
        let public_url = public_url.to_string();
        ended += env.db.write(move |conn| run_one(conn, clock.as_ref(), id, &public_url)).await?;
    }
    Ok(ended)
}

/// Imports one received file in the caller's transaction: 1 when this call ended it. The
/// claim is the transaction's first write, so a second worker waits for the first and then
/// finds the import ended.
pub fn run_one(conn: &mut DbConn, clock: &dyn Clock, id: ImportId, public_url: &str) -> ServiceResult<usize> {
    let now = clock.now_naive();
    let Some((import, source)) = store::claim(conn, id, now)? else { return Ok(0) };
    let Some(keys) = crate::store::shops::find_with_key_hashes(conn, import.shop_id)? else { return Ok(0) };
    let shop = keys.shop;
    let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: import.created_by.clone(), ip: None };
    let ctx = OrderContext { actor: &actor, shop: &shop, mode: import.mode, public_url };
    let today = order::local_today(clock.now(), shop.settings.time_zone);
    let (status, created, errors) = match import::parse(source.as_bytes(), today, Currency::EUR) {
        Ok(rows) => create_all(conn, &ctx, &rows, now)?,
        // A date that was within the file's three months when it came may have passed
        // since: the import fails with it, as it would have then.
        Err(errors) => (ImportStatus::Failed, 0, errors),
    };
    store::finish(conn, import.id, status, created, &errors, now)?;
    let import = Import { status, created, errors, updated_at: now, ..import };
    log(conn, clock, &actor, &import)?;
    Ok(1)
}
