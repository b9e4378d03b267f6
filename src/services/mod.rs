//! Use cases. Each public function runs in exactly one database transaction (through
//! `Db::write`) and writes its audit entries inside it, so nothing is ever half-written.

pub mod auth;
pub mod checkout;
pub mod health;
pub mod idempotency;
pub mod merchants;
pub mod operations;
pub mod orders;
pub mod payments;
pub mod shops;
pub mod sms;
pub mod templates;
pub mod users;

use std::sync::Arc;

use crate::acquirer::Acquirers;
use crate::db::{Db, DbError};
use crate::domain::FieldError;
use crate::domain::clock::SharedClock;

/// The connection a `_in` variant runs on, for the one layer that composes use cases in its
/// own transaction (the API's idempotency keys store the answer with the use case).
pub type Conn = crate::db::DbConn;

/// What the use cases that span several transactions or call the acquirer need: the
/// database, the clock and the acquirers. Cheap to clone (three shared handles).
#[derive(Clone)]
pub struct Env {
    pub db: Db,
    pub clock: SharedClock,
    pub acquirers: Arc<Acquirers>,
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
