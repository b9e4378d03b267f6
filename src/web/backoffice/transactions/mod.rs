//! Transactions in the back office (DESIGN §3, seed 001 §10.1, seed 004): the list in its
//! tabs ("all", first and by default; in progress; captured; refused / cancelled / expired)
//! with its search, keyset pages and CSV export; the detail with the card, 3-D Secure, return code, amounts, history, and
//! exactly the actions its status offers — validate, capture now, change the capture date,
//! cancel, refund.
//!
//! Handlers parse, call one service function (`services::transaction_reads` for what they
//! show, `services::transaction_actions` for what they change; each owns its transaction),
//! and render.
//! Everything is scoped to the session's shop and mode, like the orders: another shop's (or
//! the other mode's) transaction is a 404.

mod detail;
mod list;

use actix_web::web;

use crate::acquirer::codes;
use crate::domain::transaction::{Transaction, TxStatus};
use crate::web::i18n::Tr;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/transactions", web::get().to(list::list))
        .route("/transactions.csv", web::get().to(list::export))
        .route("/transactions/{id}", web::get().to(detail::detail))
        .route("/transactions/{id}/validate", web::post().to(detail::validate))
        .route("/transactions/{id}/capture", web::post().to(detail::capture))
        .route("/transactions/{id}/capture-date", web::post().to(detail::change_capture_date))
        .route("/transactions/{id}/cancel", web::post().to(detail::cancel))
        .route("/transactions/{id}/refunds", web::post().to(detail::refund))
        .route("/transactions/{id}/saved-card/delete", web::post().to(detail::delete_saved_card));
}

pub fn status_label(t: &Tr, s: TxStatus) -> &'static str {
    match s {
        TxStatus::Authorised => t.get("transactions.status.AUTHORISED"),
        TxStatus::AuthorisedToValidate => t.get("transactions.status.AUTHORISED_TO_VALIDATE"),
        TxStatus::Captured => t.get("transactions.status.CAPTURED"),
        TxStatus::Refused => t.get("transactions.status.REFUSED"),
        TxStatus::Cancelled => t.get("transactions.status.CANCELLED"),
        TxStatus::Expired => t.get("transactions.status.EXPIRED"),
    }
}

/// A transaction's status as its screens show it: a captured transaction that was refunded
/// says so, in part or in full (seed 004 keeps it CAPTURED; the refund is what changed).
fn shown_status(t: &Tr, x: &Transaction) -> (&'static str, &'static str) {
    match x.status {
        TxStatus::Captured if x.refunded >= x.amount.minor => (t.get("transactions.status.refunded"), "refunded"),
        TxStatus::Captured if x.refunded > 0 => (t.get("transactions.status.partly_refunded"), "refunded"),
        s => (status_label(t, s), status_class(s)),
    }
}

fn status_class(s: TxStatus) -> &'static str {
    match s {
        TxStatus::Authorised => "authorised",
        TxStatus::AuthorisedToValidate => "to-validate",
        TxStatus::Captured => "captured",
        TxStatus::Refused => "refused",
        TxStatus::Cancelled => "cancelled",
        TxStatus::Expired => "expired",
    }
}

/// The return code's meaning (seed 004): the known codes, else by family.
pub fn code_message(t: &Tr, code: &str) -> &'static str {
    match code {
        codes::ACCEPTED => t.get("transactions.code.00000"),
        codes::BANK_REFUSAL => t.get("transactions.code.01005"),
        codes::UNKNOWN_TEST_CARD => t.get("transactions.code.01014"),
        codes::MIT_NOT_ALLOWED => t.get("transactions.code.01057"),
        codes::WRONG_CVV => t.get("transactions.code.01063"),
        codes::AUTHENTICATION_FAILED => t.get("transactions.code.01078"),
        codes::CANCELLED_BY_BUYER => t.get("transactions.code.02008"),
        codes::SESSION_EXPIRED => t.get("transactions.code.02324"),
        codes::SUSPECTED_FRAUD => t.get("transactions.code.04059"),
        c if c.starts_with("01") => t.get("transactions.code.01xxx"),
        c if c.starts_with("04") => t.get("transactions.code.04xxx"),
        _ => t.get("transactions.code.other"),
    }
}
