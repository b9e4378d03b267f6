//! Database side of `scripts/bench`. DB is a SQLite file or a `postgres://` URL.
//!
//!   bench_db insert-loop DB ROWS          bare baseline: one transaction per INSERT, same pragmas
//!   bench_db seed DB SHOP_ID MODE TOTAL   grows a shop's orders to TOTAL rows (one statement)
//!   bench_db crowd DB SHOPS ORDERS MODE   SHOPS new shops of another company, ORDERS newer orders
//!                                         spread over them (the big neighbours of a small shop)
//!   bench_db analyze DB                   refreshes the planner's statistics (PostgreSQL)
//!   bench_db explain DB SHOP_ID MODE      the query plans of the lists (PostgreSQL: ANALYZE)
//!   bench_db payable DB SHOP_ID COUNT     COUNT running TEST orders, tokens pay00000000000000001…
//!   bench_db payable-saved DB SHOP_ID COUNT VAULT_KEY
//!                                         the same for a buyer with a saved card (tokens
//!                                         sav00000000000000001…), the card sealed under
//!                                         VAULT_KEY (the server's); prints its token
//!   bench_db createdb URL | dropdb URL    a throwaway PostgreSQL database for the run
//!   bench_db import-bench DIR LINES       a CSV of LINES invoices imported as the product does
//!                                         (the request, then the worker's transaction) into
//!                                         DIR/import.db, against the same rows inserted bare,
//!                                         one INSERT each in one transaction, into DIR/bare.db
//!   bench_db webhook-bench DIR CALLS      CALLS webhook events delivered by the worker as the
//!                                         product does (claimed, signed twice, POSTed 50 at a
//!                                         time, each attempt recorded) to a local receiver,
//!                                         against a raw POST loop of the same body to the
//!                                         same receiver, 50 at a time, in the same run
//!
//! Kept in the repo so the figures in the README can be reproduced; not part of the product.

use std::time::Instant;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use paylink::db::{Backend, Db, DbConn, DbError};

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The columns every seeded order sets, in the order of the `SELECT`s below.
const ORDER_COLUMNS: &str = "shop_id, mode, channel, token, reference, amount, currency, language, \
    validation_mode, capture_delay_days, expires_on, expires_at, alias_mode, three_ds, use_collection_form, \
    status, delivery_status, send_count, created_by, created_at, updated_at";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).ok_or_else(|| anyhow::anyhow!("missing argument {i}"));
    match args.first().map(String::as_str) {
        Some("insert-loop") => insert_loop(arg(1)?, arg(2)?.parse()?),
        Some("seed") => seed(arg(1)?, arg(2)?.parse()?, arg(3)?, arg(4)?.parse()?),
        Some("crowd") => crowd(arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?, arg(4)?),
        Some("analyze") => analyze(arg(1)?),
        Some("explain") => explain(arg(1)?, arg(2)?.parse()?, arg(3)?),
        Some("payable") => payable(arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?),
        Some("payable-saved") => payable_saved(arg(1)?, arg(2)?.parse()?, arg(3)?.parse()?, arg(4)?),
        Some("import-bench") => import_bench(arg(1)?, arg(2)?.parse()?),
        Some("webhook-bench") => webhook_bench(arg(1)?, arg(2)?.parse()?),
        Some("createdb") => admin(arg(1)?, |name| format!("CREATE DATABASE {name}")),
        Some("dropdb") => admin(arg(1)?, |name| format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
        _ => anyhow::bail!(
            "usage: bench_db insert-loop DB ROWS | seed DB SHOP_ID MODE TOTAL | crowd DB SHOPS ORDERS MODE | \
             analyze DB | explain DB SHOP_ID MODE | payable DB SHOP_ID COUNT | import-bench DIR LINES | webhook-bench DIR CALLS | createdb URL | \
             dropdb URL"
        ),
    }
}

/// `INSERT … SELECT … FROM seq` over x = 1..=n, per backend: a recursive sequence on SQLite,
/// `generate_series` on PostgreSQL.
fn over_sequence(backend: Backend, n: i64, insert: &str, select: &str) -> String {
    match backend {
        Backend::Sqlite => format!(
            "WITH RECURSIVE seq(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM seq WHERE x < {n}) {insert} {select} \
             FROM seq"
        ),
        Backend::Postgres => format!("{insert} {select} FROM generate_series(1, {n}) AS seq(x)"),
    }
}

/// `expr` as text, zero-padded to `width` digits.
fn padded(backend: Backend, expr: &str, width: u32) -> String {
    match backend {
        Backend::Sqlite => format!("printf('%0{width}d', {expr})"),
        Backend::Postgres => format!("lpad(({expr})::text, {width}, '0')"),
    }
}

fn run(db: &Db, sql: String) -> anyhow::Result<usize> {
    Ok(db.write_blocking(|c| diesel::sql_query(sql).execute(c).map_err(DbError::from))?)
}

fn count(db: &Db, sql: String) -> anyhow::Result<i64> {
    Ok(db.read_blocking(|c| diesel::sql_query(sql).get_result::<Count>(c).map_err(DbError::from))?.n)
}

/// Company 1 and its shop 1, as raw rows.
fn bench_shop(db: &Db) -> anyhow::Result<()> {
    run(db, "INSERT INTO companies (name, created_at) VALUES ('bench', '2026-06-15 10:00:00')".into())?;
    run(
        db,
        "INSERT INTO shops (company_id, label, slug, url, contact_email, time_zone, test_key_hash, test_key_hint, \
         production_key_hash, production_key_hint, validity_days, reference_mandatory, validation_mode, \
         capture_delay_days, three_ds, created_at, updated_at) VALUES (1, 'bench', 'bench', '', 'b@example.com', \
         'Europe/Paris', 't', 't', 'p', 'p', 30, FALSE, 'AUTO', 0, 'NO_PREFERENCE', '2026-06-15 10:00:00', \
         '2026-06-15 10:00:00')"
            .into(),
    )?;
    Ok(())
}

/// The bare baseline: the real table, the same pragmas, one transaction per row, no HTTP,
/// no validation, no outbox, no audit.
fn insert_loop(path: &str, rows: u32) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    db.migrate()?;
    bench_shop(&db)?;
    let (a, b, c) = match db.backend() {
        Backend::Sqlite => ("?", "?", "?"),
        Backend::Postgres => ("$1", "$2", "$3"),
    };
    let insert = format!(
        "INSERT INTO payment_orders ({ORDER_COLUMNS}) VALUES ({a}, 'TEST', 'URL', {b}, {c}, 1500, 'EUR', 'fr', \
         'AUTO', 0, '2026-12-31', '2026-12-31 22:59:59', 'NONE', 'NO_PREFERENCE', FALSE, 'RUNNING', 'MANUAL', 0, \
         'bench', '2026-06-15 10:00:00', '2026-06-15 10:00:00')"
    );
    let started = Instant::now();
    for i in 0..rows {
        db.write_blocking(|c| {
            diesel::sql_query(&insert)
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

/// Grows the orders of a shop to `total` in one INSERT … SELECT, dated 2026-06-01.
fn seed(path: &str, shop: i64, mode: &str, total: i64) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    let have =
        count(&db, format!("SELECT COUNT(*) AS n FROM payment_orders WHERE shop_id = {shop} AND mode = '{mode}'"))?;
    let missing = total - have;
    if missing <= 0 {
        return Ok(());
    }
    let started = Instant::now();
    let backend = db.backend();
    let token = padded(backend, &format!("{have} + x"), 16);
    let select = format!(
        "SELECT {shop}, '{mode}', CASE x % 4 WHEN 0 THEN 'URL' WHEN 1 THEN 'EMAIL' WHEN 2 THEN 'SMS' ELSE 'INVOICE' END, \
         's{shop}-' || {token}, 'SEED-' || ({have} + x), 100 + (x * 37) % 100000, 'EUR', 'fr', 'AUTO', 0, \
         '2026-12-31', '2026-12-31 22:59:59', 'NONE', 'NO_PREFERENCE', FALSE, \
         CASE x % 10 WHEN 0 THEN 'CANCELLED' WHEN 1 THEN 'EXPIRED' ELSE 'RUNNING' END, 'MANUAL', 0, 'seed', \
         '2026-06-01 00:00:00', '2026-06-01 00:00:00'"
    );
    run(&db, over_sequence(backend, missing, &format!("INSERT INTO payment_orders ({ORDER_COLUMNS})"), &select))?;
    eprintln!("seeded {missing} orders of shop {shop} in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The neighbours of a small shop: `shops` shops of a company of their own and `orders`
/// orders spread evenly over them, created after every order so far (higher ids, 2026-06-10).
fn crowd(path: &str, shops: i64, orders: i64, mode: &str) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    let backend = db.backend();
    let started = Instant::now();
    let company = db.write_blocking(|c| {
        diesel::sql_query(
            "INSERT INTO companies (name, created_at) VALUES ('crowd', '2026-06-10 00:00:00') RETURNING id AS n",
        )
        .get_result::<Count>(c)
        .map_err(DbError::from)
    })?;
    let company = company.n;
    let select = format!(
        "SELECT {company}, 'Crowd ' || x, 'crowd-{company}-' || x, '', 'crowd@example.com', 'Europe/Paris', \
         'crowd-t-{company}-' || x, 'ct', 'crowd-p-{company}-' || x, 'cp', 30, FALSE, 'AUTO', 0, 'NO_PREFERENCE', \
         '2026-06-10 00:00:00', '2026-06-10 00:00:00'"
    );
    run(
        &db,
        over_sequence(
            backend,
            shops,
            "INSERT INTO shops (company_id, label, slug, url, contact_email, time_zone, test_key_hash, \
             test_key_hint, production_key_hash, production_key_hint, validity_days, reference_mandatory, \
             validation_mode, capture_delay_days, three_ds, created_at, updated_at)",
            &select,
        ),
    )?;
    // One statement gives the shops consecutive ids; the orders rely on it.
    let first = count(&db, format!("SELECT MIN(id) AS n FROM shops WHERE company_id = {company}"))?;
    let last = count(&db, format!("SELECT MAX(id) AS n FROM shops WHERE company_id = {company}"))?;
    anyhow::ensure!(last - first + 1 == shops, "the crowd's shop ids are not consecutive ({first}..={last})");
    let token = padded(backend, "x", 16);
    let select = format!(
        "SELECT {first} + x % {shops}, '{mode}', CASE x % 4 WHEN 0 THEN 'URL' WHEN 1 THEN 'EMAIL' WHEN 2 THEN 'SMS' \
         ELSE 'INVOICE' END, 'c{company}-' || {token}, 'CROWD-' || x, 100 + (x * 37) % 100000, 'EUR', 'fr', 'AUTO', 0, \
         '2026-12-31', '2026-12-31 22:59:59', 'NONE', 'NO_PREFERENCE', FALSE, \
         CASE x % 10 WHEN 0 THEN 'CANCELLED' WHEN 1 THEN 'EXPIRED' ELSE 'RUNNING' END, 'MANUAL', 0, 'seed', \
         '2026-06-10 00:00:00', '2026-06-10 00:00:00'"
    );
    run(&db, over_sequence(backend, orders, &format!("INSERT INTO payment_orders ({ORDER_COLUMNS})"), &select))?;
    eprintln!("seeded {shops} shops and {orders} orders in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Fresh planner statistics after a bulk load, as autovacuum would give a minute later. SQLite
/// keeps none unless asked (`ANALYZE`), and paylink does not ask, so it is left as it is.
fn analyze(path: &str) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    if db.backend() == Backend::Postgres {
        db.write_blocking(|c| c.batch_execute("ANALYZE").map_err(DbError::from))?;
    }
    Ok(())
}

/// Typed parameters of a prepared statement: (PostgreSQL type, SQL literal).
type Params<'a> = Vec<(&'a str, String)>;

/// The lists' queries as paylink sends them for one shop (first pages, and next pages after
/// the 50th row) with their plans. PostgreSQL: `EXPLAIN (ANALYZE)` of prepared statements,
/// under a custom plan (the first five executions) and the generic plan (what a server may
/// keep after that), and beside them the former forms (`= ANY($1)`, and `= $1` alone) under a
/// custom plan. SQLite: `EXPLAIN QUERY PLAN`.
fn explain(path: &str, shop: i64, mode: &str) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    let cursor = count(
        &db,
        format!(
            "SELECT id AS n FROM payment_orders WHERE shop_id = {shop} AND mode = '{mode}' ORDER BY id DESC \
             LIMIT 1 OFFSET 49"
        ),
    )?;
    let company = count(&db, format!("SELECT company_id AS n FROM shops WHERE id = {shop}"))?;
    let (s, c) = (shop.to_string(), cursor.to_string());
    let queries: Vec<(&str, String, Params)> = match db.backend() {
        Backend::Sqlite => {
            let orders = format!("SELECT * FROM payment_orders WHERE shop_id = {shop} AND mode = '{mode}'");
            vec![
                ("orders list and API list, first page", format!("{orders} ORDER BY id DESC LIMIT 51"), vec![]),
                (
                    "orders list and API list, next page",
                    format!("{orders} AND id < {cursor} ORDER BY id DESC LIMIT 51"),
                    vec![],
                ),
                (
                    "orders list, status filter",
                    format!("{orders} AND status = 'CANCELLED' ORDER BY id DESC LIMIT 51"),
                    vec![],
                ),
                (
                    "orders list, by amount, next page",
                    format!(
                        "{orders} AND (amount < 5000 OR (amount = 5000 AND id < {cursor})) ORDER BY amount DESC, id DESC \
                         LIMIT 51"
                    ),
                    vec![],
                ),
                (
                    "transactions list, first page",
                    format!(
                        "SELECT * FROM transactions WHERE shop_id = {shop} AND mode = '{mode}' ORDER BY id DESC LIMIT 51"
                    ),
                    vec![],
                ),
                (
                    "audit log, first page",
                    format!("SELECT * FROM audit_log WHERE company_id = {company} ORDER BY id DESC LIMIT 51"),
                    vec![],
                ),
            ]
        }
        Backend::Postgres => {
            let orders = "SELECT * FROM payment_orders WHERE shop_id = $1";
            let first = format!("mode >= '{mode}' AND mode <= '{mode}'");
            vec![
                (
                    "orders list and API list, first page",
                    format!("{orders} AND {first} ORDER BY mode DESC, id DESC LIMIT 51"),
                    vec![("bigint", s.clone())],
                ),
                (
                    "orders list and API list, next page",
                    format!(
                        "{orders} AND mode >= '{mode}' AND (mode, id) < ('{mode}', $2) ORDER BY mode DESC, id DESC LIMIT 51"
                    ),
                    vec![("bigint", s.clone()), ("bigint", c.clone())],
                ),
                (
                    "orders list, status filter",
                    format!("{orders} AND {first} AND status = $2 ORDER BY mode DESC, id DESC LIMIT 51"),
                    vec![("bigint", s.clone()), ("text", "'CANCELLED'".into())],
                ),
                (
                    "orders list, by amount, next page",
                    format!(
                        "{orders} AND mode >= '{mode}' AND (mode, amount, id) < ('{mode}', $2, $3) \
                         ORDER BY mode DESC, amount DESC, id DESC LIMIT 51"
                    ),
                    vec![("bigint", s.clone()), ("bigint", "5000".into()), ("bigint", c.clone())],
                ),
                (
                    "transactions list, first page",
                    format!(
                        "SELECT * FROM transactions WHERE shop_id = $1 AND {first} ORDER BY mode DESC, id DESC LIMIT 51"
                    ),
                    vec![("bigint", s.clone())],
                ),
                (
                    "audit log, first page",
                    "SELECT * FROM audit_log WHERE company_id >= $1 AND company_id <= $1 \
                     ORDER BY company_id DESC, id DESC LIMIT 51"
                        .into(),
                    vec![("bigint", company.to_string())],
                ),
                (
                    "before: orders list, first page, shop_id = ANY($1) AND mode = $2",
                    "SELECT * FROM payment_orders WHERE shop_id = ANY($1) AND mode = $2 ORDER BY id DESC LIMIT 51"
                        .into(),
                    vec![("bigint[]", format!("ARRAY[{shop}]")), ("text", format!("'{mode}'"))],
                ),
                (
                    "before: audit log, first page, company_id = $1",
                    "SELECT * FROM audit_log WHERE company_id = $1 ORDER BY id DESC LIMIT 51".into(),
                    vec![("bigint", company.to_string())],
                ),
                (
                    "before: orders list, first page, shop_id = $1 AND mode = $2",
                    format!("{orders} AND mode = $2 ORDER BY id DESC LIMIT 51"),
                    vec![("bigint", s.clone()), ("text", format!("'{mode}'"))],
                ),
            ]
        }
    };
    for (what, sql, params) in queries {
        println!("{what}:");
        let lines = db.read_blocking(|c| plan(c, &sql, &params, what.starts_with("before")).map_err(DbError::from))?;
        for line in lines {
            println!("  {line}");
        }
    }
    Ok(())
}

/// The plan lines of `sql`: SQLite's `EXPLAIN QUERY PLAN` when `params` is empty, else
/// PostgreSQL's `EXPLAIN (ANALYZE)` of it prepared with these typed parameters, custom plan
/// then (unless `custom_only`) generic plan.
fn plan(c: &mut DbConn, sql: &str, params: &[(&str, String)], custom_only: bool) -> QueryResult<Vec<String>> {
    if params.is_empty() {
        let rows = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).load::<PlanRow>(c)?;
        return Ok(rows.into_iter().map(|r| r.detail).collect());
    }
    let types: Vec<&str> = params.iter().map(|p| p.0).collect();
    let values: Vec<&str> = params.iter().map(|p| p.1.as_str()).collect();
    c.batch_execute(&format!("PREPARE q({}) AS {sql}", types.join(", ")))?;
    let mut lines = Vec::new();
    let modes: &[&str] = if custom_only { &["custom"] } else { &["custom", "generic"] };
    for mode in modes {
        c.batch_execute(&format!("SET plan_cache_mode = force_{mode}_plan"))?;
        let rows = diesel::sql_query(format!("EXPLAIN (ANALYZE, COSTS OFF) EXECUTE q({})", values.join(", ")))
            .load::<PgPlanRow>(c)?;
        lines.push(format!("{mode} plan:"));
        lines.extend(rows.into_iter().map(|r| format!("  {}", r.line)));
    }
    c.batch_execute("DEALLOCATE q; RESET plan_cache_mode")?;
    Ok(lines)
}

/// Running TEST orders payable for a month, with predictable tokens for the pay benchmark.
fn payable(path: &str, shop: i64, count: i64) -> anyhow::Result<()> {
    let db = Db::connect(path, 2)?;
    let backend = db.backend();
    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let token = padded(backend, "x", 17);
    let select = format!(
        "SELECT {shop}, 'TEST', 'URL', 'pay' || {token}, 'PAY-' || x, 1500, 'EUR', 'fr', 'AUTO', 0, \
         '{until}', '{until} 20:00:00', 'NONE', 'NO_PREFERENCE', FALSE, 'RUNNING', 'MANUAL', 0, 'bench', \
         '2026-06-01 00:00:00', '2026-06-01 00:00:00'"
    );
    run(&db, over_sequence(backend, count, &format!("INSERT INTO payment_orders ({ORDER_COLUMNS})"), &select))?;
    Ok(())
}

/// Orders like [`payable`]'s for the buyer `bench@example.com`, who has one saved card of
/// the TEST mode (4970…0006, through the vault under `vault_key`): the pay page offers it and
/// the payment types only its CVV.
fn payable_saved(path: &str, shop: i64, count: i64, vault_key: &str) -> anyhow::Result<()> {
    use base64::Engine;
    use paylink::domain::api_key::Mode;
    use paylink::domain::card::{CardNumber, Expiry};
    use paylink::domain::ids::ShopId;
    use paylink::store::cards::{self, NewCard};
    let db = Db::connect(path, 2)?;
    let backend = db.backend();
    let until = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    let token = padded(backend, "x", 17);
    let columns = format!("{ORDER_COLUMNS}, buyer_email");
    let select = format!(
        "SELECT {shop}, 'TEST', 'URL', 'sav' || {token}, 'SAV-' || x, 1500, 'EUR', 'fr', 'AUTO', 0, \
         '{until}', '{until} 20:00:00', 'NONE', 'NO_PREFERENCE', FALSE, 'RUNNING', 'MANUAL', 0, 'bench', \
         '2026-06-01 00:00:00', '2026-06-01 00:00:00', 'bench@example.com'"
    );
    run(&db, over_sequence(backend, count, &format!("INSERT INTO payment_orders ({columns})"), &select))?;
    let key = base64::engine::general_purpose::STANDARD.decode(vault_key.trim())?;
    let keys = paylink::domain::vault::Keyring::new(&key, &[]);
    let now = chrono::Utc::now().naive_utc();
    let number = CardNumber::parse("4970100000000006").map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let token = db.write_blocking(move |conn: &mut DbConn| {
        let shop = ShopId(shop);
        let buyer = cards::buyer(conn, shop, "bench@example.com", now)?;
        let token = paylink::store::vault::put(conn, &keys, &number, now)?;
        let card = NewCard {
            token: &token,
            shop,
            mode: Mode::Test,
            buyer,
            attempt: "bench",
            brand: number.brand().label(),
            masked: &number.masked(),
            expiry: Expiry { month: 12, year: 2030 },
            holder: Some("Bench Buyer"),
        };
        cards::insert_pending(conn, &card, now)?;
        cards::settle_pending(conn, "bench", true, now)?;
        Ok::<_, DbError>(token)
    })?;
    println!("{token}");
    Ok(())
}

/// Runs `sql(name)` for the database named in `url` on that server's `postgres` database.
fn admin(url: &str, sql: impl Fn(&str) -> String) -> anyhow::Result<()> {
    let (server, name) = url.rsplit_once('/').ok_or_else(|| anyhow::anyhow!("no database name in {url}"))?;
    let name = name.split('?').next().unwrap_or(name);
    anyhow::ensure!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "database name {name:?}: letters, digits and _ only"
    );
    let mut conn = diesel::PgConnection::establish(&format!("{server}/postgres"))?;
    conn.batch_execute(&sql(name))?;
    Ok(())
}

/// `LINES` invoices through the import (`services::imports`: parse and record in the
/// request, then parse, check the references and insert in the worker's transaction), then
/// the same rows inserted bare (one `INSERT` each, one transaction, nothing checked). Prints
/// `import_seconds import_rows_per_s bare_seconds bare_rows_per_s`.
fn import_bench(dir: &str, lines: usize) -> anyhow::Result<()> {
    use paylink::domain::actor::Actor;
    use paylink::domain::api_key::Mode;
    use paylink::domain::clock::{Clock, SystemClock};
    use paylink::domain::ids::ShopId;
    use paylink::domain::import::ImportStatus;
    use paylink::services::imports;
    use paylink::services::orders::OrderContext;
    use paylink::store::imports::{InvoiceDefaults, NewInvoice};

    let mut csv = String::from("reference;amount;currency;description;expires_on\n");
    for i in 1..=lines {
        csv.push_str(&format!("F-{i:07};{},{:02};EUR;Invoice {i} of the bench;\n", 10 + i % 990, i % 100));
    }
    let clock = SystemClock;
    let open = |name: &str| -> anyhow::Result<Db> {
        let path = format!("{dir}/{name}");
        let _ = std::fs::remove_file(&path);
        let db = Db::connect(&path, 2)?;
        db.migrate()?;
        bench_shop(&db)?;
        Ok(db)
    };

    let db = open("import.db")?;
    let shop =
        db.read_blocking(|c| paylink::store::shops::find_with_key_hashes(c, ShopId(1)).map_err(DbError::from))?;
    let shop = shop.ok_or_else(|| anyhow::anyhow!("no bench shop"))?.shop;
    let actor = Actor { company_id: Some(shop.company_id), user_id: None, name: "bench".into(), ip: None };
    let ctx = OrderContext { actor: &actor, shop: &shop, mode: Mode::Test, public_url: "http://127.0.0.1" };
    let started = Instant::now();
    let received = db.write_blocking(|c| imports::submit_in(c, &clock, &ctx, csv.as_bytes()))?;
    let ended = db.write_blocking(|c| imports::run_one(c, &clock, received.id, "http://127.0.0.1"))?;
    let import_secs = started.elapsed().as_secs_f64();
    let done = imports::find_blocking(&db, shop.id, Mode::Test, received.id)?;
    anyhow::ensure!(
        ended + usize::from(received.status != ImportStatus::Running) == 1
            && done.status == ImportStatus::Done
            && done.created as usize == lines,
        "the import did not create every order: {done:?}"
    );

    let bare = open("bare.db")?;
    let now = clock.now_naive();
    let invoices: Vec<NewInvoice> = (1..=lines)
        .map(|i| NewInvoice {
            token: paylink::domain::order::new_token(),
            reference: format!("F-{i:07}"),
            amount: paylink::domain::money::Money {
                minor: ((10 + i % 990) * 100 + i % 100) as i64,
                currency: paylink::domain::money::Currency::EUR,
            },
            description: Some(format!("Invoice {i} of the bench")),
            expires_on: now.date() + chrono::Duration::days(30),
            expires_at: now + chrono::Duration::days(30),
        })
        .collect();
    let defaults = InvoiceDefaults {
        shop_id: ShopId(1),
        mode: Mode::Test,
        language: "fr",
        validation_mode: paylink::domain::shop::ValidationMode::Auto,
        capture_delay_days: 0,
        three_ds: paylink::domain::shop::ThreeDsPreference::NoPreference,
        created_by: "bench",
    };
    let started = Instant::now();
    let inserted = bare.write_blocking(|c| {
        paylink::store::imports::insert_invoices_one_by_one(c, &defaults, &invoices, now).map_err(DbError::from)
    })?;
    let bare_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(inserted == lines, "the bare loop inserted {inserted}");
    let rate = |secs: f64| lines as f64 / secs;
    println!("{import_secs:.3} {:.0} {bare_secs:.3} {:.0}", rate(import_secs), rate(bare_secs));
    Ok(())
}

/// A receiver answering 200 to every POST, on its own thread and runtime.
fn start_receiver() -> anyhow::Result<String> {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(|| App::new().route("/hook", web::post().to(|| async { HttpResponse::Ok().body("ok") })))
                .workers(2)
                .listen(listener)
                .expect("listen")
                .run()
                .await
        })
    });
    Ok(url)
}

fn webhook_bench(dir: &str, calls: usize) -> anyhow::Result<()> {
    use paylink::domain::api_key::Mode;
    use paylink::domain::clock::{SharedClock, SystemClock};
    use paylink::domain::ids::{OrderId, ShopId};
    use paylink::domain::notification::{Conditions, EventType, RuleKind};
    use paylink::domain::outbox::Kind;
    use paylink::store::notifications::{self as store, NewEvent, RuleValues};

    let url = start_receiver()?;
    let path = format!("{dir}/hooks.db");
    let _ = std::fs::remove_file(&path);
    let vault = base64_key();
    let args: Vec<String> = ["--database-url", &path, "--vault-key", &vault, "--secret-key", &base64_key()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let settings = paylink::config::parse_args(&args)?.resolve()?;
    let db = paylink::app::open_db(&settings)?;
    bench_shop(&db)?;
    seed(&path, 1, "TEST", calls as i64)?;
    let clock: SharedClock = std::sync::Arc::new(SystemClock);
    let now = clock.now_naive();
    // One endpoint, and one payment.accepted event per order, queued as the product queues them.
    let secret = paylink::domain::webhook::WebhookSecret::generate();
    let sealed = paylink::domain::secret_box::seal(settings.vault_key.expose(), secret.expose());
    let body = sample_body();
    let (url2, body2) = (url.clone(), body.clone());
    db.write_blocking(move |c| {
        let conditions = Conditions {
            events: vec![EventType::PaymentAccepted],
            channels: Vec::new(),
            modes: vec![Mode::Test],
            from_order_only: false,
        };
        let values = RuleValues {
            kind: RuleKind::Url,
            label: "bench",
            conditions: &conditions,
            failure_email: None,
            auto_retry: true,
            url_test: Some(&url2),
            url_production: None,
            enabled: true,
        };
        let rule = store::insert_rule(c, ShopId(1), &values, Some(&sealed), now)?;
        let payload = format!("{{\"url\":\"{url2}\"}}");
        for i in 1..=calls as i64 {
            let id = format!("evt_bench{i:015}");
            let e = NewEvent {
                public_id: &id,
                shop: ShopId(1),
                mode: Mode::Test,
                event_type: "payment.accepted",
                order_id: Some(i),
                transaction_id: None,
                body: &body2,
            };
            let event = store::insert_event(c, &e, now)?;
            paylink::store::outbox::enqueue_for_rule(
                c,
                ShopId(1),
                Some(OrderId(i)),
                Kind::Webhook,
                &payload,
                Some((event, rule)),
                now,
            )?;
        }
        Ok::<_, DbError>(())
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let env = paylink::services::Env {
            db: db.clone(),
            clock: clock.clone(),
            acquirers: std::sync::Arc::new(paylink::acquirer::Acquirers::standard(settings.acquirer_timeout())),
            vault: std::sync::Arc::new(settings.keyring()),
            public_url: settings.public_url.as_str().into(),
        };
        let worker = paylink::delivery::Worker::new(env, std::sync::Arc::new(settings))?;
        let started = Instant::now();
        let report = worker.run_once().await?;
        let signed_secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(report.webhooks_delivered == calls, "delivered {report:?}");

        let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build()?;
        let started = Instant::now();
        for chunk in (0..calls).collect::<Vec<_>>().chunks(50) {
            let posts = chunk
                .iter()
                .map(|_| client.post(&url).header("content-type", "application/json").body(body.clone()).send());
            for answer in futures_util::future::join_all(posts).await {
                anyhow::ensure!(answer?.status().is_success(), "the receiver refused a raw POST");
            }
        }
        let raw_secs = started.elapsed().as_secs_f64();
        let rate = |secs: f64| calls as f64 / secs;
        println!(
            "signed {signed_secs:.3} s {:.0}/s; raw {raw_secs:.3} s {:.0}/s; {:.0}%",
            rate(signed_secs),
            rate(raw_secs),
            100.0 * raw_secs / signed_secs
        );
        worker.shutdown().await;
        Ok(())
    })
}

fn base64_key() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A payment.accepted body of the usual size (an order and a transaction object).
fn sample_body() -> String {
    r#"{"id":"evt_bench","type":"payment.accepted","created":"2026-06-15T10:00:00Z","mode":"TEST","data":{"order":{"id":1,"reference":"CMD-1","status":"PAID","delivery_status":"NOT_SENT","url":"http://127.0.0.1/t/abcdefghijklmnop","qr_code_url":"http://127.0.0.1/t/abcdefghijklmnop/qr.svg","expires_at":"2026-07-15T21:59:59Z","amount":2500,"currency":"EUR","channel":"URL","mode":"TEST","language":"en","validation_mode":"AUTO","capture_delay_days":0,"alias_mode":"NONE","three_ds":"NO_PREFERENCE","buyer_email":null,"use_collection_form":false,"description":null,"recipient":null,"send_count":0,"created_at":"2026-06-15T10:00:00Z","transaction_id":1,"instalments_until":null},"transaction":{"id":1,"order_id":1,"status":"CAPTURED","amount":2500,"currency":"EUR","refunded_amount":0,"card_brand":"CB_VISA","card_masked":"497010******0006","card_expiry":"12/30","three_ds":"FRICTIONLESS","return_code":"00000","source":"URL","capture_date":"2026-06-15","validate_by":null,"captured_at":"2026-06-15T10:00:00Z","created_at":"2026-06-15T10:00:00Z","mode":"TEST","alias":null,"instalment":null,"buyer":null}}}"#.to_string()
}
