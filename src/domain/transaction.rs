//! Transactions: payment attempts that reached the acquirer, their status and history.

use chrono::{NaiveDate, NaiveDateTime};

use super::api_key::Mode;
use super::ids::{OrderId, ShopId};
use super::money::Money;
use super::shop::text_enum;

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
    pub three_ds: String,
    pub return_code: String,
    pub acquirer_ref: String,
    pub source: String,
    pub buyer_email: Option<String>,
    pub validation_mode: String,
    pub capture_date: Option<NaiveDate>,
    pub validate_by: Option<NaiveDateTime>,
    pub captured_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The capture, cancellation or expiry under way at the acquirer (its operation id).
    pub settling_op: Option<i64>,
    /// Refunds asked of the acquirer and not yet confirmed (minor units).
    pub refund_pending: i64,
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
