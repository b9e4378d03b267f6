//! The back office's changes to payment orders, each in a write transaction of its own. The
//! rules are in [`super::orders`], whose functions run in the caller's transaction so that
//! the API can compose them with its idempotency claim.

use super::orders;
use super::{Scope, ServiceResult};
use crate::db::Db;
use crate::domain::clock::SharedClock;
use crate::domain::ids::OrderId;
use crate::domain::order::Order;
use crate::domain::order_form::OrderDraft;

/// What the merchant does to an existing order.
pub enum Change {
    Resend,
    Cancel,
    Reactivate,
    MarkSent,
    /// A new end of validity, as typed.
    Validity(String),
    /// "Modify and resend".
    Modify(Box<OrderDraft>),
    /// Stops a schedule of instalments: those not yet charged are cancelled.
    CancelInstalments,
}

/// Creates the orders of a submitted form (one per recipient) and queues their messages.
pub async fn create(db: &Db, clock: &SharedClock, scope: &Scope, draft: OrderDraft) -> ServiceResult<Vec<Order>> {
    let (clock, scope) = (clock.clone(), scope.clone());
    db.write(move |conn| orders::create(conn, clock.as_ref(), &scope.orders(), &draft)).await
}

/// Applies `change` to an order of the scope; returns it as it now is.
pub async fn change(db: &Db, clock: &SharedClock, scope: &Scope, id: OrderId, change: Change) -> ServiceResult<Order> {
    let (clock, scope) = (clock.clone(), scope.clone());
    db.write(move |conn| {
        let (clock, ctx) = (clock.as_ref(), &scope.orders());
        match &change {
            Change::Resend => orders::resend(conn, clock, ctx, id),
            Change::Cancel => orders::cancel(conn, clock, ctx, id),
            Change::Reactivate => orders::reactivate(conn, clock, ctx, id),
            Change::MarkSent => orders::mark_sent(conn, clock, ctx, id),
            Change::Validity(date) => orders::change_validity(conn, clock, ctx, id, date),
            Change::Modify(draft) => orders::modify(conn, clock, ctx, id, draft),
            Change::CancelInstalments => {
                super::schedules::cancel_remaining(conn, ctx, id, clock.now_naive())?;
                orders::load(conn, ctx, id)
            }
        }
    })
    .await
}
