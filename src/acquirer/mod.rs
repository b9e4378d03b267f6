//! The acquirer boundary: 3-D Secure authentication, authorisation, capture, cancel, refund.
//! Card data crosses it only as arguments of `authenticate`; afterwards both sides speak of
//! the acquirer's reference. It knows no database. Every call is async, may fail, and is bounded
//! by a timeout ([`Gate`]); the services record what they ask before asking (intent → call →
//! confirm), so an answer lost to a crash or a timeout is found again with [`Acquirer::lookup`].

pub mod psp;
pub mod simulator;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::api_key::Mode;
use crate::domain::card::{CardNumber, Cvv, Expiry};
use crate::domain::money::Money;
use crate::domain::shop::ThreeDsPreference;

/// Return codes in the seed 004 style.
pub mod codes {
    pub const ACCEPTED: &str = "00000";
    pub const BANK_REFUSAL: &str = "01005";
    pub const UNKNOWN_TEST_CARD: &str = "01014";
    pub const MIT_NOT_ALLOWED: &str = "01057";
    pub const WRONG_CVV: &str = "01063";
    pub const AUTHENTICATION_FAILED: &str = "01078";
    pub const CANCELLED_BY_BUYER: &str = "02008";
    pub const SESSION_EXPIRED: &str = "02324";
    pub const SUSPECTED_FRAUD: &str = "04059";
}

pub use crate::domain::transaction::ThreeDsOutcome;

/// The card as typed, for one call.
pub struct CardInput<'a> {
    pub number: &'a CardNumber,
    pub expiry: Expiry,
    pub cvv: &'a Cvv,
}

/// A card from the vault, for a call without the buyer: no CVV (it is never kept).
pub struct StoredCard<'a> {
    pub number: &'a CardNumber,
    pub expiry: Expiry,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authentication {
    /// Authenticated without the buyer; authorise with this reference.
    Frictionless { reference: String },
    /// The issuer wants to see the buyer: send them to the challenge, then authorise.
    Challenge { reference: String },
    /// Refused before authorisation (authentication failed, wrong CVV, unknown card).
    Refused { code: &'static str, outcome: ThreeDsOutcome },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorisation {
    pub approved: bool,
    pub code: &'static str,
}

/// Why a call did not give an answer. `Refused` and `Unavailable` are definite: nothing was
/// done. A `Timeout` is not: the acquirer may have done it, so the operation stays pending
/// until the worker has asked the acquirer (`lookup`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcquirerError {
    #[error("refused by the acquirer: {0}")]
    Refused(String),
    #[error("acquirer unavailable: {0}")]
    Unavailable(String),
    #[error("no answer from the acquirer within {0:?}")]
    Timeout(Duration),
}

impl AcquirerError {
    /// Whether the operation may have been done anyway.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, AcquirerError::Timeout(_))
    }
}

/// One money operation as the acquirer sees it. `key` is ours, unique per operation, and the
/// acquirer keeps it: a retried call with the same key is done once, and `lookup` finds it.
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a> {
    pub key: &'a str,
    pub reference: &'a str,
    pub amount: Money,
}

/// What the acquirer knows of an operation, by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looked {
    /// Done (an authorisation: approved).
    Done,
    /// Received and refused (an authorisation: declined).
    Refused,
    /// Never received.
    NotFound,
}

#[async_trait]
pub trait Acquirer: Send + Sync {
    fn name(&self) -> &'static str;

    /// 3-D Secure for this card under the order's preference.
    async fn authenticate(
        &self,
        card: CardInput<'_>,
        preference: ThreeDsPreference,
    ) -> Result<Authentication, AcquirerError>;

    /// Authorises `op.amount` on an authenticated reference. `merchant_initiated` is set for
    /// charges without the buyer (instalments).
    async fn authorise(&self, op: Operation<'_>, merchant_initiated: bool) -> Result<Authorisation, AcquirerError>;

    /// Checks a stored card with a zero-amount authorisation, never captured (a buyer changed
    /// its expiry date). `key` is ours, as for an operation.
    async fn verify(&self, key: &str, card: StoredCard<'_>) -> Result<Authorisation, AcquirerError>;

    /// The reference to authorise a stored card without the buyer (a merchant-initiated
    /// charge: no 3-D Secure, no CVV).
    async fn stored_reference(&self, card: StoredCard<'_>) -> Result<String, AcquirerError>;

    async fn capture(&self, op: Operation<'_>) -> Result<(), AcquirerError>;
    async fn cancel(&self, op: Operation<'_>) -> Result<(), AcquirerError>;
    async fn refund(&self, op: Operation<'_>) -> Result<(), AcquirerError>;

    /// What became of the operation `key` (reconciliation after a timeout or a crash).
    async fn lookup(&self, key: &str) -> Result<Looked, AcquirerError>;
}

/// The acquirers this server talks to, by mode, and how long any call may take. Held by the
/// application state and the worker; tests install their own.
pub struct Acquirers {
    test: Option<Arc<dyn Acquirer>>,
    production: Option<Arc<dyn Acquirer>>,
    timeout: Duration,
    /// The HTTP client of the PSP connectors (same timeout).
    http: Arc<psp::Http>,
}

/// How long a call to the acquirer may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Acquirers {
    /// The TEST simulator; no acquirer is connected for PRODUCTION yet.
    pub fn standard(timeout: Duration) -> Self {
        Acquirers {
            test: Some(Arc::new(simulator::Simulator::default())),
            production: None,
            timeout,
            http: Arc::new(psp::Http::new(timeout)),
        }
    }

    /// `acquirer` for TEST (tests install a fake one this way).
    pub fn with_test(acquirer: Arc<dyn Acquirer>, timeout: Duration) -> Self {
        Acquirers { test: Some(acquirer), production: None, timeout, http: Arc::new(psp::Http::new(timeout)) }
    }

    /// The acquirer of an order's mode, every call bounded by the timeout. None: card payment
    /// is not available in this mode.
    pub fn for_mode(&self, mode: Mode) -> Option<Gate<'_>> {
        let inner = match mode {
            Mode::Test => self.test.as_deref()?,
            Mode::Production => self.production.as_deref()?,
        };
        Some(Gate { inner, timeout: self.timeout })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The connector of a shop's account at a PSP.
    pub fn connector(&self, account: psp::Account) -> Box<dyn psp::Connector> {
        psp::connector(account, self.http.clone())
    }
}

/// An acquirer whose every call ends within the timeout.
#[derive(Clone, Copy)]
pub struct Gate<'a> {
    inner: &'a dyn Acquirer,
    timeout: Duration,
}

impl<'a> Gate<'a> {
    pub fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn within<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, AcquirerError>>,
    ) -> Result<T, AcquirerError> {
        tokio::time::timeout(self.timeout, call).await.unwrap_or(Err(AcquirerError::Timeout(self.timeout)))
    }

    pub async fn authenticate(
        &self,
        card: CardInput<'_>,
        preference: ThreeDsPreference,
    ) -> Result<Authentication, AcquirerError> {
        self.within(self.inner.authenticate(card, preference)).await
    }

    pub async fn authorise(&self, op: Operation<'_>, merchant_initiated: bool) -> Result<Authorisation, AcquirerError> {
        self.within(self.inner.authorise(op, merchant_initiated)).await
    }

    pub async fn verify(&self, key: &str, card: StoredCard<'_>) -> Result<Authorisation, AcquirerError> {
        self.within(self.inner.verify(key, card)).await
    }

    pub async fn stored_reference(&self, card: StoredCard<'_>) -> Result<String, AcquirerError> {
        self.within(self.inner.stored_reference(card)).await
    }

    pub async fn capture(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.within(self.inner.capture(op)).await
    }

    pub async fn cancel(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.within(self.inner.cancel(op)).await
    }

    pub async fn refund(&self, op: Operation<'_>) -> Result<(), AcquirerError> {
        self.within(self.inner.refund(op)).await
    }

    pub async fn lookup(&self, key: &str) -> Result<Looked, AcquirerError> {
        self.within(self.inner.lookup(key)).await
    }
}
