//! Queries, one module per aggregate. Functions take a connection (so a service composes
//! several inside one transaction) and every merchant-owned query is scoped by company.
//!
//! ## Lists on PostgreSQL
//!
//! A list page is `shop_id = ? AND mode = ? ORDER BY id DESC LIMIT 51`, and the index
//! `(shop_id, mode, id)` answers it in 51 index steps. PostgreSQL does not always take it: it
//! assumes a shop's rows are spread evenly over the ids, so walking the primary key backwards
//! and filtering looks as cheap as soon as the shop holds a few percent of the table. For a
//! small shop whose orders are older than those of big neighbours, that walk reads every
//! newer row of the others first (300,000 rows, 71 ms, for 51 rows, measured with
//! `shop_id = 1` as well as with `shop_id = ANY($1)`). So on PostgreSQL the lists name the
//! mode as two bounds (`mode >= 'TEST'` and `mode <= 'TEST'`, the same rows) and order by the
//! mode first: that order only the list's index gives, never the primary key. The cursor is one
//! row comparison, `(mode, id) < ('TEST', $1)`, which the index seeks to, so the next page
//! starts where the last ended. The mode is written as a literal (two values, from an enum):
//! with a bound parameter, the generic plan PostgreSQL keeps after five executions guessed the
//! bounds' selectivity and chose a sort of the whole shop. SQLite's planner takes the index of
//! `shop_id = ? AND mode = ?` and the plain cursor terms, and keeps them.

pub mod audit;
pub mod cards;
pub mod collect;
pub mod idempotency;
pub mod imports;
pub mod instalments;
pub mod logos;
pub mod notifications;
pub mod operations;
pub mod orders;
pub mod outbox;
pub mod payment_services;
pub mod schedules;
pub mod sessions;
pub mod shops;
pub mod sms;
pub mod templates;
pub mod transactions;
pub mod users;
pub mod vault;

pub type QueryResult<T> = Result<T, diesel::result::Error>;

/// The mode as SQL text, for the PostgreSQL lists (see the module doc).
fn mode_literal(mode: crate::domain::api_key::Mode) -> &'static str {
    use crate::domain::api_key::Mode;
    match mode {
        Mode::Test => "'TEST'",
        Mode::Production => "'PRODUCTION'",
    }
}

/// The shops of a list, each once, in a stable order.
fn distinct(shops: &[crate::domain::ids::ShopId]) -> Vec<crate::domain::ids::ShopId> {
    let mut ids = shops.to_vec();
    ids.sort_by_key(|s| s.0);
    ids.dedup();
    ids
}

/// Merges the pages of several shops, each already in the list's order and cut at `limit + 1`
/// rows after the same keyset cursor, into the first `limit` rows of the whole list. `key` is
/// the row's keyset key (sort value, then the unique id), ascending. Returns the rows and
/// whether more follow. The first `limit + 1` rows overall are among the first `limit + 1`
/// of their own shop, so nothing is missed and nothing repeats.
fn merge_pages<T, K: Ord>(mut rows: Vec<T>, key: impl Fn(&T) -> K, descending: bool, limit: i64) -> (Vec<T>, bool) {
    // One shop's rows are already in order; the sort is for several.
    if descending {
        rows.sort_by_key(|r| std::cmp::Reverse(key(r)));
    } else {
        rows.sort_by_key(|r| key(r));
    }
    let limit = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    (rows, more)
}
