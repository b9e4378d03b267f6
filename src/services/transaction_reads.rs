//! What the transaction screens of the back office read: the list in its tabs, the detail
//! with its history and its order's reference, and the CSV export page by page. Each
//! function opens its own read transaction; everything is scoped to the scope's shop and
//! mode, so another shop's transaction is not found.

use futures_util::Stream;

use super::export::{self, EXPORT_PAGE};
use super::{Scope, ServiceError, ServiceResult, payments};
use crate::db::{Db, DbConn};
use crate::domain::ids::OrderId;
use crate::domain::listing::{Tab, TxFilter};
use crate::domain::saved_card::SavedCard;
use crate::domain::transaction::{Event, Transaction};
use crate::store::orders as order_store;
use crate::store::transactions as store;

/// A search of the list, parsed.
#[derive(Debug, Clone)]
pub struct TxSearch {
    pub tab: Tab,
    pub filter: TxFilter,
    /// Where the page starts (older than this id), or the first page.
    pub before: Option<i64>,
}

/// A transaction of a list, with its order's reference.
#[derive(Debug, Clone)]
pub struct Listed {
    pub transaction: Transaction,
    pub reference: Option<String>,
}

/// A page of a list and the id the next one starts before.
pub struct TxList {
    pub rows: Vec<Listed>,
    pub next: Option<i64>,
}

fn page_in(conn: &mut DbConn, scope: &Scope, s: &TxSearch, before: Option<i64>, limit: i64) -> ServiceResult<TxList> {
    let (txs, next) = store::list(conn, &[scope.shop.id], scope.mode, s.tab, &s.filter, before, limit)?;
    let orders: Vec<OrderId> = txs.iter().map(|t| t.order_id).collect();
    let references = store::order_references(conn, &orders)?;
    let reference_of = |order: OrderId| references.iter().find(|(id, _)| *id == order.0).and_then(|(_, r)| r.clone());
    let rows = txs.into_iter().map(|t| Listed { reference: reference_of(t.order_id), transaction: t }).collect();
    Ok(TxList { rows, next })
}

/// One page of the scope's transactions.
pub async fn list(db: &Db, scope: &Scope, search: TxSearch, limit: i64) -> ServiceResult<TxList> {
    let scope = scope.clone();
    db.read(move |conn| page_in(conn, &scope, &search, search.before, limit)).await
}

/// The pages of the export of a search, from its first row, read [`EXPORT_PAGE`] rows at a
/// time.
pub async fn export(
    db: &Db,
    scope: &Scope,
    search: TxSearch,
) -> ServiceResult<impl Stream<Item = ServiceResult<Vec<Listed>>> + 'static> {
    let read = {
        let (db, scope) = (db.clone(), scope.clone());
        move |before: Option<i64>| {
            let (db, scope, search) = (db.clone(), scope.clone(), search.clone());
            async move {
                db.read(move |conn| {
                    let page = page_in(conn, &scope, &search, before, EXPORT_PAGE)?;
                    Ok::<_, ServiceError>((page.rows, page.next))
                })
                .await
            }
        }
    };
    let first = read(None).await?;
    Ok(export::pages(first, move |before| read(Some(before))))
}

/// What the detail shows: the transaction, its history, its order's reference.
pub struct TxDetail {
    pub transaction: Transaction,
    pub events: Vec<Event>,
    pub reference: Option<String>,
    /// The saved card the payment used or saved, while it is still saved.
    pub saved_card: Option<SavedCard>,
    /// The labels the shop gave its collection form's custom fields (Info 1–3).
    pub custom_labels: [Option<String>; 3],
}

pub async fn detail(db: &Db, scope: &Scope, id: i64) -> ServiceResult<TxDetail> {
    let scope = scope.clone();
    db.read(move |conn| {
        let transaction = payments::load(conn, &scope.transactions(), id)?;
        let events = store::events(conn, transaction.id)?;
        let reference =
            order_store::find(conn, &[scope.shop.id], scope.mode, transaction.order_id)?.and_then(|o| o.reference);
        let saved_card = match &transaction.saved_card {
            Some(token) => crate::store::cards::get(conn, token)?.filter(|c| c.shop_id == transaction.shop_id),
            None => None,
        };
        let form = crate::store::collect::get(conn, transaction.shop_id)?;
        let custom_labels = form.customs.map(|c| c.map(|c| c.label));
        Ok(TxDetail { transaction, events, reference, saved_card, custom_labels })
    })
    .await
}
