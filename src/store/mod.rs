//! Queries, one module per aggregate. Functions take a connection (so a service composes
//! several inside one transaction) and every merchant-owned query is scoped by company.

pub mod audit;
pub mod idempotency;
pub mod orders;
pub mod outbox;
pub mod sessions;
pub mod shops;
pub mod sms;
pub mod templates;
pub mod transactions;
pub mod users;

pub type QueryResult<T> = Result<T, diesel::result::Error>;

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
