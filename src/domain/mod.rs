//! Pure types and rules. No database, no HTTP, no I/O: everything here is unit-tested.

pub mod actor;
pub mod api_key;
pub mod card;
pub mod clock;
pub mod collect;
pub mod collect_form;
pub mod ids;
pub mod import;
pub mod instalments;
pub mod listing;
pub mod logo;
pub mod money;
pub mod notification;
pub mod order;
pub mod order_form;
pub mod outbox;
pub mod password;
pub mod payment_service;
pub mod saved_card;
pub mod schedule;
pub mod secret_box;
pub mod shop;
pub mod sms;
pub mod template;
pub mod text;
pub mod transaction;
pub mod user;
pub mod vault;
pub mod webhook;

/// A value refused at the boundary: which field, and a message key for the page or the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    /// An i18n key (see web/i18n.rs); also the stable API `code`.
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: &'static str, code: &'static str) -> Self {
        FieldError { field, code }
    }
}
