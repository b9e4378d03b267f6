//! Database side of `scripts/bench`:
//!
//!   bench_db insert-loop DB ROWS          bare baseline: one transaction per INSERT, same pragmas
//!   bench_db seed DB SHOP_ID MODE TOTAL   grows a shop's orders to TOTAL rows (one statement)
//!   bench_db explain DB SHOP_ID MODE      the query plans of the order lists
//!   bench_db payable DB SHOP_ID COUNT     COUNT running TEST orders, tokens pay00000000000000001…
//!
//! Kept in the repo so the figures in the README can be reproduced; not part of the product.

use std::time::Instant;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use paylink::db::{Db, DbError};

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

const INSERT: &str = "INSERT INTO payment_orders (shop_id, mode, channel, token, reference, amount, currency, \
    language, validation_mode, capture_delay_days, expires_on, expires_at, alias_mode, three_ds, \
    use_collection_form, status, delivery_status, send_count, created_by, created_at, updated_at) VALUES \
    (?, 'TEST', 'URL', ?, ?, 1500, 'EUR', 'fr', 'AUTO', 0, '2026-12-31', '2026-12-31 22:59:59', 'NONE', \
    'NO_PREFERENCE', 0, 'RUNNING', 'MANUAL', 0, 'bench', '2026-06-15 10:00:00', '2026-06-15 10:00:00')";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("insert-loop") => insert_loop(&args[1], args[2].parse()?),
        Some("seed") => seed(&args[1], args[2].parse()?, &args[3], args[4].parse()?),
        Some("explain") => explain(&args[1], args[2].parse()?, &args[3]),
        Some("payable") => payable(&args[1], args[2].parse()?, args[3].parse()?),
        _ => {
            anyhow::bail!("usage: bench_db insert-loop DB ROWS | seed DB SHOP_ID MODE TOTAL | explain DB SHOP_ID MODE")
        }
    }
}

/// The bare baseline: the real table, the same pragmas, one transaction per row, no HTTP,
/// no validation, no outbox, no audit.
fn insert_loop(path: &str, rows: u32) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    db.migrate()?;
    db.write_blocking(|c| {
        diesel::sql_query("INSERT INTO companies (name, created_at) VALUES ('bench', '2026-06-15 10:00:00');")
            .execute(c)?;
        diesel::sql_query(
            "INSERT INTO shops (company_id, label, slug, url, contact_email, time_zone, test_key_hash, test_key_hint, \
             production_key_hash, production_key_hint, validity_days, reference_mandatory, validation_mode, \
             capture_delay_days, three_ds, created_at, updated_at) VALUES (1, 'bench', 'bench', '', 'b@example.com', \
             'Europe/Paris', 't', 't', 'p', 'p', 30, 0, 'AUTO', 0, 'NO_PREFERENCE', '2026-06-15 10:00:00', \
             '2026-06-15 10:00:00')",
        )
        .execute(c)
        .map(|_| ())
        .map_err(DbError::from)
    })?;
    let started = Instant::now();
    for i in 0..rows {
        db.write_blocking(|c| {
            diesel::sql_query(INSERT)
                .bind::<BigInt, _>(1i64)
                .bind::<Text, _>(format!("tok{i:019}"))
                .bind::<Text, _>(format!("R{i}"))
                .execute(c)
                .map_err(DbError::from)
        })?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("{:.0}", f64::from(rows) / secs);
    Ok(())
}

/// Grows the orders of a shop to `total` in one INSERT … SELECT over a recursive sequence.
fn seed(path: &str, shop: i64, mode: &str, total: i64) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    let have = db.read_blocking(|c| {
        diesel::sql_query("SELECT COUNT(*) AS n FROM payment_orders WHERE shop_id = ? AND mode = ?")
            .bind::<BigInt, _>(shop)
            .bind::<Text, _>(mode)
            .get_result::<Count>(c)
            .map_err(DbError::from)
    })?;
    let missing = total - have.n;
    if missing <= 0 {
        return Ok(());
    }
    let started = Instant::now();
    let sql = format!(
        "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {missing}) \
         INSERT INTO payment_orders (shop_id, mode, channel, token, reference, amount, currency, language, \
         validation_mode, capture_delay_days, expires_on, expires_at, alias_mode, three_ds, use_collection_form, \
         status, delivery_status, send_count, created_by, created_at, updated_at) \
         SELECT {shop}, '{mode}', CASE x % 4 WHEN 0 THEN 'URL' WHEN 1 THEN 'EMAIL' WHEN 2 THEN 'SMS' ELSE 'INVOICE' END, \
         printf('seed%016d', {have} + x), 'SEED-' || ({have} + x), 100 + (x * 37) % 100000, 'EUR', 'fr', 'AUTO', 0, \
         '2026-12-31', '2026-12-31 22:59:59', 'NONE', 'NO_PREFERENCE', 0, \
         CASE x % 10 WHEN 0 THEN 'CANCELLED' WHEN 1 THEN 'EXPIRED' ELSE 'RUNNING' END, 'MANUAL', 0, 'seed', \
         '2026-06-01 00:00:00', '2026-06-01 00:00:00' FROM seq",
        have = have.n
    );
    db.write_blocking(|c| diesel::sql_query(sql).execute(c).map_err(DbError::from))?;
    eprintln!("seeded {missing} orders in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn explain(path: &str, shop: i64, mode: &str) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    for (what, sql) in [
        (
            "orders list, newest first",
            format!(
                "SELECT * FROM payment_orders WHERE shop_id IN ({shop}) AND mode = '{mode}' ORDER BY id DESC LIMIT 51"
            ),
        ),
        (
            "orders list, status filter",
            format!(
                "SELECT * FROM payment_orders WHERE shop_id IN ({shop}) AND mode = '{mode}' AND status = 'CANCELLED' \
                 ORDER BY id DESC LIMIT 51"
            ),
        ),
        (
            "orders list, by amount, next page",
            format!(
                "SELECT * FROM payment_orders WHERE shop_id IN ({shop}) AND mode = '{mode}' AND (amount < 5000 OR \
                 (amount = 5000 AND id < 1000)) ORDER BY amount DESC, id DESC LIMIT 51"
            ),
        ),
    ] {
        let plan = db.read_blocking(|c| {
            diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load::<PlanRow>(c).map_err(DbError::from)
        })?;
        println!("{what}:");
        for row in plan {
            println!("  {}", row.detail);
        }
    }
    Ok(())
}

/// Running TEST orders payable for a month, with predictable tokens for the pay benchmark.
fn payable(path: &str, shop: i64, count: i64) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let sql = format!(
        "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {count}) \
         INSERT INTO payment_orders (shop_id, mode, channel, token, reference, amount, currency, language, \
         validation_mode, capture_delay_days, expires_on, expires_at, alias_mode, three_ds, use_collection_form, \
         status, delivery_status, send_count, created_by, created_at, updated_at) \
         SELECT {shop}, 'TEST', 'URL', printf('pay%017d', x), 'PAY-' || x, 1500, 'EUR', 'fr', 'AUTO', 0, \
         '{until}', '{until} 20:00:00', 'NONE', 'NO_PREFERENCE', 0, 'RUNNING', 'MANUAL', 0, 'bench', \
         '2026-06-01 00:00:00', '2026-06-01 00:00:00' FROM seq"
    );
    db.write_blocking(|c| diesel::sql_query(sql).execute(c).map_err(DbError::from))?;
    Ok(())
}
