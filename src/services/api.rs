//! The REST API's reads, each in a read of its own: the key check, the lists of one shop and
//! mode, one order or transaction, the e-mail template an order would use.

use chrono::NaiveDateTime;

use super::orders::{self, OrderContext, RunningChanges};
use super::{ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::actor::Actor;
use crate::domain::api_key::Mode;
use crate::domain::clock::SharedClock;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::listing::{Cursor, OrderFilter, SortKey, Tab, TxFilter};
use crate::domain::order::Order;
use crate::domain::shop::Shop;
use crate::domain::transaction::Transaction;
use crate::store::{orders as order_store, shops, templates, transactions};

/// A shop and the hashes of its two keys (TEST, PRODUCTION), to check a presented key.
pub struct Keys {
    pub shop: Shop,
    pub test_key_hash: String,
    pub production_key_hash: String,
}

pub async fn keys_of(db: &Db, shop: ShopId) -> ServiceResult<Option<Keys>> {
    let found = db.read_short(move |conn| Ok::<_, ServiceError>(shops::find_with_key_hashes(conn, shop)?)).await?;
    Ok(found.map(|k| Keys { shop: k.shop, test_key_hash: k.test_key_hash, production_key_hash: k.production_key_hash }))
}

/// The shop's default e-mail template in `language` (subject, body), if it has one.
pub async fn default_template(db: &Db, shop: ShopId, language: String) -> ServiceResult<Option<(String, String)>> {
    let found = db.read(move |conn| Ok::<_, ServiceError>(templates::default_for(conn, shop, &language)?)).await?;
    Ok(found.map(|t| (t.subject, t.body)))
}

/// One page of the shop's orders in `mode`, newest first.
pub async fn orders_page(
    db: &Db,
    shop: ShopId,
    mode: Mode,
    filter: OrderFilter,
    cursor: Option<Cursor>,
    limit: i64,
    now: NaiveDateTime,
) -> ServiceResult<(Vec<Order>, Option<Cursor>)> {
    let page = db
        .read(move |conn| {
            let page =
                order_store::list(conn, &[shop], mode, &filter, SortKey::Created, true, cursor.as_ref(), limit, now)?;
            Ok::<_, ServiceError>(page)
        })
        .await?;
    Ok((page.items, page.next))
}

/// What an API key acts as, owned.
#[derive(Clone)]
pub struct Caller {
    pub actor: Actor,
    pub shop: Shop,
    pub mode: Mode,
    pub public_url: String,
}

impl Caller {
    pub fn context(&self) -> OrderContext<'_> {
        OrderContext { actor: &self.actor, shop: &self.shop, mode: self.mode, public_url: &self.public_url }
    }
}

pub async fn order(db: &Db, caller: Caller, id: OrderId) -> ServiceResult<Order> {
    db.read(move |conn| orders::load(conn, &caller.context(), id)).await
}

/// An order with its schedule of instalments, if the buyer chose one.
pub async fn order_with_schedule(
    db: &Db,
    caller: Caller,
    id: OrderId,
) -> ServiceResult<(Order, Option<super::schedules::Schedule>)> {
    db.read(move |conn| {
        let o = orders::load(conn, &caller.context(), id)?;
        let schedule = super::schedules::of_order(conn, &o)?;
        Ok((o, schedule))
    })
    .await
}

/// Changes a RUNNING order, in one transaction.
pub async fn update_order(
    db: &Db,
    clock: SharedClock,
    caller: Caller,
    id: OrderId,
    changes: RunningChanges,
) -> ServiceResult<Order> {
    db.write(move |conn| orders::update_running(conn, clock.as_ref(), &caller.context(), id, &changes)).await
}

/// One page of the shop's transactions in `mode`, newest first, before the id `before`.
pub async fn transactions_page(
    db: &Db,
    shop: ShopId,
    mode: Mode,
    filter: TxFilter,
    before: Option<i64>,
    limit: i64,
) -> ServiceResult<(Vec<Transaction>, Option<i64>)> {
    db.read(move |conn| {
        Ok::<_, ServiceError>(transactions::list(conn, &[shop], mode, Tab::All, &filter, before, limit)?)
    })
    .await
}
