//! The merchant's actions on a transaction from the back office, each in a write
//! transaction of its own. The rules, and the acquirer's part, are in [`super::payments`].

use super::{Scope, ServiceError, ServiceResult, payments};
use crate::db::Db;
use crate::domain::clock::SharedClock;
use crate::domain::money::Money;
use crate::domain::transaction::Transaction;

/// What the merchant does to a transaction.
pub enum Action {
    /// A manual transaction, validated for capture on its date.
    Validate,
    /// Captured now rather than on its capture date.
    CaptureNow,
    /// A new capture date, as typed.
    CaptureDate(String),
    Cancel,
    /// A refund of the amount typed, in the transaction's currency.
    Refund(String),
}

/// Applies `action` to a transaction of the scope; returns it as it now is.
pub async fn act(db: &Db, clock: &SharedClock, scope: &Scope, id: i64, action: Action) -> ServiceResult<Transaction> {
    let (clock, scope) = (clock.clone(), scope.clone());
    db.write(move |conn| {
        let (clock, ctx) = (clock.as_ref(), &scope.transactions());
        match &action {
            Action::Validate => payments::validate(conn, clock, ctx, id),
            Action::CaptureNow => payments::capture_early(conn, clock, ctx, id),
            Action::CaptureDate(raw) => payments::change_capture_date(conn, clock, ctx, id, raw),
            Action::Cancel => payments::cancel(conn, clock, ctx, id),
            Action::Refund(raw) => {
                let currency = payments::load(conn, ctx, id)?.amount.currency;
                let amount = Money::parse(raw, currency).map_err(|e| ServiceError::Invalid(vec![e]))?;
                payments::refund(conn, clock, ctx, id, amount)
            }
        }
    })
    .await
}
