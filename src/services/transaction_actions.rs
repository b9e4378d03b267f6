//! The merchant's actions on a transaction from the back office, each in a write
//! transaction of its own. The rules, and the acquirer's part, are in [`super::payments`].

use super::payments::TxAction;
use super::{Env, Scope, ServiceError, ServiceResult, payments};
use crate::domain::money::Money;
use crate::domain::transaction::Transaction;
use crate::store::audit::{self, Entry};
use crate::store::cards;

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

/// Deletes the buyer's saved card a transaction of the scope used or saved (and its number
/// from the vault), audited. Not found: the transaction is not the scope's, or it has no
/// saved card any more.
pub async fn delete_saved_card(env: &Env, scope: &Scope, id: i64) -> ServiceResult<()> {
    let (scope, clock) = (scope.clone(), env.clock.clone());
    env.db
        .write(move |conn| {
            let t = payments::load(conn, &scope.transactions(), id)?;
            let token = t.saved_card.ok_or(ServiceError::NotFound)?;
            let card = cards::get(conn, &token)?.filter(|c| c.shop_id == t.shop_id).ok_or(ServiceError::NotFound)?;
            cards::delete(conn, &token)?;
            let detail = format!("{} {} (transaction {})", card.brand, card.last_four(), t.id);
            let entry = Entry { shop_id: Some(t.shop_id), action: "card.deleted", target: &token, detail: &detail };
            audit::append(conn, &scope.actor, entry, clock.now_naive())?;
            Ok(())
        })
        .await
}
