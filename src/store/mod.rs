//! Queries, one module per aggregate. Functions take a connection (so a service composes
//! several inside one transaction) and every merchant-owned query is scoped by company.

pub mod audit;
pub mod idempotency;
pub mod operations;
pub mod orders;
pub mod outbox;
pub mod sessions;
pub mod shops;
pub mod sms;
pub mod templates;
pub mod transactions;
pub mod users;

pub type QueryResult<T> = Result<T, diesel::result::Error>;
