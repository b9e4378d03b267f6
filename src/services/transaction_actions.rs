//! The merchant's actions on a transaction from the back office, each in a write
//! transaction of its own. The rules, and the acquirer's part, are in [`super::payments`].

use super::payments::TxAction;
use super::{Env, Scope, ServiceResult, payments};
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

/// Applies `action` to a transaction of the scope; returns it as it now is. Those that go to
/// the acquirer (capture, cancel, refund) record their intent, call, then confirm
/// (`services::operations`).
pub async fn act(env: &Env, scope: &Scope, id: i64, action: Action) -> ServiceResult<Transaction> {
    let ctx = scope.transactions();
    match action {
        Action::Validate => payments::perform(env, &ctx, id, TxAction::Validate).await,
        Action::CaptureNow => payments::perform(env, &ctx, id, TxAction::CaptureEarly).await,
        Action::CaptureDate(raw) => payments::change_capture_date_now(env, &ctx, id, raw).await,
        Action::Cancel => payments::perform(env, &ctx, id, TxAction::Cancel).await,
        Action::Refund(raw) => payments::refund_typed(env, &ctx, id, &raw).await,
    }
}

/// The refund of the amount typed, checked as [`act`] would but not made: the transaction
/// and the amount, for the merchant to confirm before anything is sent to the acquirer.
pub async fn check_refund(env: &Env, scope: &Scope, id: i64, typed: &str) -> ServiceResult<(Transaction, Money)> {
    payments::check_refund(env, &scope.transactions(), id, typed).await
}
