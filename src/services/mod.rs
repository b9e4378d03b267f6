//! Use cases. Each public function runs in exactly one database transaction (through
//! `Db::write`) and writes its audit entries inside it, so nothing is ever half-written.

pub mod api;
pub mod app_wallet;
pub mod audit_reads;
pub mod auth;
pub mod checkout;
pub mod collect;
pub mod export;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod instalments;
pub mod merchants;
pub mod messaging;
pub mod notifications;
pub mod notify;
pub mod objects;
pub mod operations;
pub mod order_actions;
pub mod order_reads;
pub mod orders;
pub mod payment_services;
pub mod payments;
pub mod schedules;
pub mod service_ops;
pub mod service_pay;
pub mod sessions;
pub mod shops;
pub mod sms;
pub mod templates;
pub mod transaction_actions;
pub mod transaction_reads;
pub mod user_admin;
pub mod users;
pub mod vault;
pub mod wallet;

use std::sync::Arc;

use crate::acquirer::Acquirers;
use crate::db::Db;
/// Part of [`ServiceError`]: a database failure, as every layer may meet it.
pub use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::actor::Actor;
use crate::domain::api_key::Mode;
use crate::domain::clock::SharedClock;
use crate::domain::shop::Shop;
use crate::domain::vault::Keyring;

/// The connection a `_in` variant runs on, for the one layer that composes use cases in its
/// own transaction (the API's idempotency keys store the answer with the use case).
pub type Conn = crate::db::DbConn;

/// What the use cases that span several transactions or call the acquirer need: the
/// database, the clock, the acquirers and the card vault's keys. Cheap to clone (shared
/// handles).
#[derive(Clone)]
pub struct Env {
    pub db: Db,
    pub clock: SharedClock,
    pub acquirers: Arc<Acquirers>,
    pub vault: Arc<Keyring>,
    /// The base of the links events carry.
    pub public_url: Arc<str>,
}

/// Who acts, on which shop and mode, and the base of the links: owned, so that a service
/// can move it into its database closure. The back office builds one per request.
#[derive(Debug, Clone)]
pub struct Scope {
    pub actor: Actor,
    pub shop: Shop,
    pub mode: Mode,
    pub public_url: String,
}

impl Scope {
    pub fn orders(&self) -> orders::OrderContext<'_> {
        orders::OrderContext { actor: &self.actor, shop: &self.shop, mode: self.mode, public_url: &self.public_url }
    }

    pub fn transactions(&self) -> payments::TxContext<'_> {
        payments::TxContext {
            actor: &self.actor,
            shops: std::slice::from_ref(&self.shop.id),
            mode: self.mode,
            time_zone: self.shop.settings.time_zone,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    /// The action does not apply to the object's current state (an i18n key says why).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        ServiceError::Db(DbError::Query(e))
    }
}

impl ServiceError {
    pub fn field(field: &'static str, code: &'static str) -> Self {
        ServiceError::Invalid(vec![FieldError::new(field, code)])
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
