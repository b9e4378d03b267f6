//! Transactions: payment attempts that reached the acquirer, their status and history.

use chrono::{NaiveDate, NaiveDateTime};

use super::api_key::Mode;
use super::ids::{OrderId, ShopId};
use super::money::Money;
use super::order::Channel;
use super::shop::{ValidationMode, text_enum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TxStatus {
    Authorised,
    AuthorisedToValidate,
    Captured,
    Refused,
    Cancelled,
    Expired,
}

text_enum!(TxStatus {
    Authorised = "AUTHORISED",
    AuthorisedToValidate = "AUTHORISED_TO_VALIDATE",
    Captured = "CAPTURED",
    Refused = "REFUSED",
    Cancelled = "CANCELLED",
    Expired = "EXPIRED"
});

/// How 3-D Secure went, as stored on the transaction and shown to the merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThreeDsOutcome {
    Frictionless,
    ChallengePassed,
    ChallengeFailed,
    Failed,
    NotPerformed,
    /// Handled by the payment service on its own page (PSP connectors, the app wallet).
    AtService,
}

text_enum!(ThreeDsOutcome {
    Frictionless = "FRICTIONLESS",
    ChallengePassed = "CHALLENGE_PASSED",
    ChallengeFailed = "CHALLENGE_FAILED",
    Failed = "FAILED",
    AtService = "AT_SERVICE",
    NotPerformed = "NOT_PERFORMED"
});

impl TxStatus {
    pub fn accepted(self) -> bool {
        matches!(self, TxStatus::Authorised | TxStatus::AuthorisedToValidate | TxStatus::Captured)
    }
}

/// A transaction as stored.
#[derive(Debug, Clone)]
pub struct Transaction {
    pub id: i64,
    pub shop_id: ShopId,
    pub mode: Mode,
    pub order_id: OrderId,
    pub status: TxStatus,
    pub amount: Money,
    pub refunded: i64,
    pub card_brand: String,
    pub card_masked: String,
    pub card_expiry: String,
    pub holder: Option<String>,
    pub three_ds: ThreeDsOutcome,
    pub return_code: String,
    pub acquirer_ref: String,
    /// How the buyer reached the link: the order's channel.
    pub source: Channel,
    pub buyer_email: Option<String>,
    pub validation_mode: ValidationMode,
    pub capture_date: Option<NaiveDate>,
    pub validate_by: Option<NaiveDateTime>,
    pub captured_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The capture, cancellation or expiry under way at the acquirer (its operation id).
    pub settling_op: Option<i64>,
    /// Refunds asked of the acquirer and not yet confirmed (minor units).
    pub refund_pending: i64,
    /// The number on the buyer's receipt: random, so it says nothing of sales volume.
    pub receipt_no: String,
    /// The saved card (alias) this payment used or saved, by its token.
    pub saved_card: Option<String>,
    /// Which instalment this pays, `(index, count)` (1 for the first); None: paid at once.
    pub instalment: Option<(u8, u8)>,
    /// The payment service it was made through (`payzen`, `mollie`, `payplug`, `wallet`);
    /// None: the card simulator / acquirer of the pay page.
    pub service: Option<String>,
    /// The service's payment id.
    pub service_payment_id: Option<String>,
    /// What the buyer answered on the collection form before paying its order (the lists and
    /// the detail read it; None elsewhere, and when the order asked nothing).
    pub buyer: Option<super::collect::BuyerData>,
}

/// A new receipt number: `R-` and 16 random hexadecimal digits (64 bits).
pub fn new_receipt_no() -> String {
    use rand::RngCore;
    format!("R-{:016X}", rand::rng().next_u64())
}

/// Refunds are possible this long after capture (seed 004).
pub const REFUND_DAYS: i64 = 365;

/// What may be done with a transaction now: one answer, read by the screens (which buttons)
/// and by the services (which requests they accept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Actions {
    pub validate: bool,
    pub capture: bool,
    pub change_capture_date: bool,
    pub cancel: bool,
    pub refund: bool,
}

impl Transaction {
    /// What may be done now. Nothing while an operation is under way at the acquirer (or in
    /// review): the transaction is claimed by it.
    pub fn actions(&self, now: NaiveDateTime) -> Actions {
        if self.settling_op.is_some() {
            return Actions { refund: self.refundable(now).minor > 0, ..Actions::default() };
        }
        let authorised = matches!(self.status, TxStatus::Authorised | TxStatus::AuthorisedToValidate);
        Actions {
            validate: self.status == TxStatus::AuthorisedToValidate,
            capture: self.status == TxStatus::Authorised,
            change_capture_date: authorised,
            cancel: authorised,
            refund: self.refundable(now).minor > 0,
        }
    }

    /// The last instant it may be refunded (captured ones).
    pub fn refund_deadline(&self) -> Option<NaiveDateTime> {
        self.captured_at.map(|c| c + chrono::Duration::days(REFUND_DAYS))
    }

    /// What is left to refund now: the capture less the refunds done and under way; zero
    /// when not captured or too late.
    pub fn refundable(&self, now: NaiveDateTime) -> Money {
        let zero = Money { minor: 0, ..self.amount };
        if self.status != TxStatus::Captured || self.refund_deadline().is_none_or(|d| now > d) {
            return zero;
        }
        self.amount.checked_sub(Money { minor: self.refunded + self.refund_pending, ..self.amount }).unwrap_or(zero)
    }
}

/// A line of a transaction's history.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub transaction_id: i64,
    pub kind: String,
    pub amount: Option<i64>,
    pub actor: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Currency;

    fn tx(status: TxStatus) -> Transaction {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 6, 15).unwrap().and_hms_opt(10, 0, 0).unwrap();
        Transaction {
            id: 1,
            shop_id: ShopId(1),
            mode: Mode::Test,
            order_id: OrderId(1),
            status,
            amount: Money { minor: 1000, currency: Currency::EUR },
            refunded: 0,
            card_brand: "CB".into(),
            card_masked: "497010******0006".into(),
            card_expiry: "12/30".into(),
            holder: None,
            three_ds: ThreeDsOutcome::Frictionless,
            return_code: "00000".into(),
            acquirer_ref: "sim:0006".into(),
            source: Channel::Url,
            buyer_email: None,
            validation_mode: ValidationMode::Auto,
            capture_date: None,
            validate_by: None,
            captured_at: (status == TxStatus::Captured).then_some(at),
            created_at: at,
            updated_at: at,
            settling_op: None,
            refund_pending: 0,
            receipt_no: new_receipt_no(),
            saved_card: None,
            instalment: None,
            service: None,
            service_payment_id: None,
            buyer: None,
        }
    }

    #[test]
    fn actions_follow_the_status_and_stop_while_an_operation_holds_it() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 6, 16).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let manual = tx(TxStatus::AuthorisedToValidate).actions(now);
        assert!(manual.validate && manual.cancel && manual.change_capture_date && !manual.capture && !manual.refund);
        let auto = tx(TxStatus::Authorised).actions(now);
        assert!(auto.capture && auto.cancel && !auto.validate && !auto.refund);
        let mut held = tx(TxStatus::Authorised);
        held.settling_op = Some(7);
        assert_eq!(held.actions(now), Actions::default(), "claimed by an operation: nothing");
        let mut captured = tx(TxStatus::Captured);
        assert!(captured.actions(now).refund);
        captured.refunded = 600;
        captured.refund_pending = 400;
        assert_eq!(captured.refundable(now).minor, 0, "refunds under way count");
        assert!(!captured.actions(now).refund);
        captured.refund_pending = 0;
        assert_eq!(captured.refundable(now).minor, 400);
        assert!(!captured.actions(now + chrono::Duration::days(366)).refund, "too late");
        assert_eq!(tx(TxStatus::Refused).actions(now), Actions::default());
    }
}
