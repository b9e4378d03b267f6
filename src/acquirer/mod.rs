//! The acquirer boundary: 3-D Secure authentication, authorisation, capture, cancel, refund.
//! Card data crosses it only as arguments of `authenticate`; afterwards both sides speak of
//! the acquirer's reference. It knows no database.

pub mod simulator;

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

/// How 3-D Secure went, as stored on the transaction and shown to the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThreeDsOutcome {
    Frictionless,
    ChallengePassed,
    ChallengeFailed,
    Failed,
    NotPerformed,
}

crate::domain::shop::text_enum!(ThreeDsOutcome {
    Frictionless = "FRICTIONLESS",
    ChallengePassed = "CHALLENGE_PASSED",
    ChallengeFailed = "CHALLENGE_FAILED",
    Failed = "FAILED",
    NotPerformed = "NOT_PERFORMED"
});

/// The card as typed, for one call.
pub struct CardInput<'a> {
    pub number: &'a CardNumber,
    pub expiry: Expiry,
    pub cvv: &'a Cvv,
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

#[derive(Debug, thiserror::Error)]
#[error("acquirer error: {0}")]
pub struct AcquirerError(pub String);

pub trait Acquirer: Send + Sync {
    fn name(&self) -> &'static str;

    /// 3-D Secure for this card under the order's preference.
    fn authenticate(&self, card: CardInput<'_>, preference: ThreeDsPreference) -> Authentication;

    /// Authorises `amount` on an authenticated reference. `merchant_initiated` is set for
    /// charges without the buyer (instalments).
    fn authorise(&self, reference: &str, amount: Money, merchant_initiated: bool) -> Authorisation;

    fn capture(&self, reference: &str, amount: Money) -> Result<(), AcquirerError>;
    fn cancel(&self, reference: &str) -> Result<(), AcquirerError>;
    fn refund(&self, reference: &str, amount: Money) -> Result<(), AcquirerError>;
}
