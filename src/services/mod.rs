//! Use cases. Each public function runs in exactly one database transaction (through
//! `Db::write`) and writes its audit entries inside it, so nothing is ever half-written.

pub mod auth;
pub mod merchants;
pub mod shops;
pub mod users;
pub mod worker;

use crate::db::DbError;
use crate::domain::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
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
