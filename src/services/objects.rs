//! The order and transaction objects of the REST API, as the API answers them and as
//! webhooks carry them in `data` (built in the transaction of the event, so the services own
//! them); and the enumerations the OpenAPI document names, spelled as on the wire.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::order::{AliasMode, Channel, DeliveryStatus, Order, OrderStatus};
use crate::domain::schedule::{InstalmentStatus, PlanStatus};
use crate::domain::transaction::{Transaction, TxStatus};

// Enumerations of the domain that the document names, spelled as on the wire.

/// TEST or PRODUCTION: decided by the API key used.
#[allow(dead_code, clippy::upper_case_acronyms)]
#[derive(ToSchema)]
#[schema(as = Mode)]
pub enum ModeDoc {
    TEST,
    PRODUCTION,
}

#[allow(dead_code, clippy::upper_case_acronyms)]
#[derive(ToSchema)]
#[schema(as = ValidationMode)]
pub enum ValidationModeDoc {
    AUTO,
    MANUAL,
}

#[allow(dead_code, non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(ToSchema)]
#[schema(as = ThreeDsPreference)]
pub enum ThreeDsDoc {
    NO_PREFERENCE,
    FRICTIONLESS,
    CHALLENGE,
}

#[allow(dead_code, non_camel_case_types)]
#[derive(ToSchema)]
#[schema(as = Language)]
pub enum LanguageDoc {
    fr,
    en,
}

/// A payment order.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = PaymentOrder)]
pub struct OrderObject {
    pub id: i64,
    #[schema(required = true)]
    pub reference: Option<String>,
    /// As of now: a running order past its end of validity reads EXPIRED.
    pub status: OrderStatus,
    pub delivery_status: DeliveryStatus,
    /// The payment link.
    pub url: String,
    /// The payment link as a QR code (SVG).
    pub qr_code_url: String,
    /// The last second the order can be paid (23:59:59 of its end date, shop time).
    pub expires_at: DateTime<Utc>,
    /// Integer minor units.
    pub amount: i64,
    pub currency: String,
    pub channel: Channel,
    #[schema(value_type = ModeDoc)]
    pub mode: &'static str,
    #[schema(value_type = LanguageDoc)]
    pub language: String,
    #[schema(value_type = ValidationModeDoc)]
    pub validation_mode: &'static str,
    pub capture_delay_days: i32,
    pub alias_mode: AliasMode,
    #[schema(value_type = ThreeDsDoc)]
    pub three_ds: &'static str,
    #[schema(required = true)]
    pub buyer_email: Option<String>,
    pub use_collection_form: bool,
    #[schema(required = true)]
    pub description: Option<String>,
    /// The e-mail address or phone number it was sent to.
    #[schema(required = true)]
    pub recipient: Option<String>,
    /// How many times paylink sent it (e-mail, SMS).
    pub send_count: i32,
    pub created_at: DateTime<Utc>,
    /// The transaction the order ended with, once finalised.
    #[schema(required = true)]
    pub transaction_id: Option<i64>,
    /// The last day a schedule of instalments may end on (restrictive mode); null: no limit
    /// beyond the shop's settings.
    #[schema(required = true, value_type = Option<String>, format = Date)]
    pub instalments_until: Option<NaiveDate>,
    /// The instalments the buyer chose, in order; only in `GET /payment-orders/{id}`, and
    /// only once a schedule was chosen (with `schedule_status` and `balance_order_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Vec<InstalmentObject>>,
    /// Where the schedule stands: RUNNING, COMPLETED, FAILED (retries spent) or CANCELLED
    /// (by the merchant).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_status: Option<PlanStatus>,
    /// Once the schedule FAILED: the order offering the buyer the unpaid balance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_order_id: Option<i64>,
}

/// One instalment of a schedule.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Instalment)]
pub struct InstalmentObject {
    /// 1 for the first.
    pub index: u8,
    /// The day it is charged, in the shop's time zone.
    #[schema(value_type = String, format = Date)]
    pub due_on: NaiveDate,
    /// Integer minor units of the order's currency.
    pub amount: i64,
    pub status: InstalmentStatus,
    /// Charges tried so far.
    pub tries: u8,
    /// The last transaction of this instalment (paid, or its last refusal).
    #[schema(required = true)]
    pub transaction_id: Option<i64>,
}

impl InstalmentObject {
    pub fn list(instalments: &[crate::domain::schedule::Instalment]) -> Vec<Self> {
        instalments
            .iter()
            .map(|i| InstalmentObject {
                index: i.index,
                due_on: i.due_on,
                amount: i.amount,
                status: i.status,
                tries: i.tries,
                transaction_id: i.transaction_id,
            })
            .collect()
    }
}

impl OrderObject {
    pub fn new(o: &Order, public_url: &str, now: NaiveDateTime) -> Self {
        let url = crate::domain::order::pay_url(public_url, &o.token);
        OrderObject {
            id: o.id.0,
            reference: o.reference.clone(),
            status: o.status_at(now),
            delivery_status: o.delivery_status,
            qr_code_url: format!("{url}/qr.svg"),
            url,
            expires_at: o.expires_at.and_utc(),
            amount: o.amount.minor,
            currency: o.amount.currency.code().to_string(),
            channel: o.channel,
            mode: o.mode.as_str(),
            language: o.language.clone(),
            validation_mode: o.validation_mode.as_str(),
            capture_delay_days: o.capture_delay_days,
            alias_mode: o.alias_mode,
            three_ds: o.three_ds.as_str(),
            buyer_email: o.buyer_email.clone(),
            use_collection_form: o.use_collection_form,
            description: o.description.clone(),
            recipient: o.recipient.clone(),
            send_count: o.send_count,
            created_at: o.created_at.and_utc(),
            transaction_id: o.transaction_id,
            instalments_until: o.instalments_until,
            schedule: None,
            schedule_status: None,
            balance_order_id: None,
        }
    }
}

/// A transaction: one payment attempt that reached the acquirer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Transaction)]
pub struct TransactionObject {
    pub id: i64,
    /// The payment order it paid (or tried to).
    pub order_id: i64,
    /// AUTHORISED waits for its capture date; AUTHORISED_TO_VALIDATE (manual validation) must
    /// be captured (validated) before `validate_by` or it expires.
    pub status: TxStatus,
    /// Integer minor units.
    pub amount: i64,
    pub currency: String,
    /// Integer minor units refunded so far (never above `amount`).
    pub refunded_amount: i64,
    /// `CB_VISA`, `MASTERCARD`, …
    pub card_brand: String,
    /// The card number masked: first six and last four digits.
    pub card_masked: String,
    /// `MM/YY`.
    pub card_expiry: String,
    #[schema(value_type = crate::acquirer::ThreeDsOutcome)]
    pub three_ds: String,
    /// `00000` accepted, `02008` cancelled by the buyer, `02324` session expired, `01xxx` bank
    /// refusal, `04xxx` suspected fraud.
    pub return_code: String,
    /// The channel of the payment order it paid.
    #[schema(value_type = crate::domain::order::Channel)]
    pub source: String,
    /// The day it is (or was) captured, in the shop's time zone.
    #[schema(required = true, value_type = Option<String>, format = Date)]
    pub capture_date: Option<NaiveDate>,
    /// Manual validation: the instant it expires unless captured before.
    #[schema(required = true)]
    pub validate_by: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub captured_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    #[schema(value_type = ModeDoc)]
    pub mode: &'static str,
    /// The buyer's saved card (alias) this payment used or saved, by its token; null when
    /// the card was typed and not saved.
    #[schema(required = true)]
    pub alias: Option<String>,
    /// Which instalment of its order's schedule it charged; null for a payment at once.
    #[schema(required = true)]
    pub instalment: Option<InstalmentRef>,
    /// What the buyer answered on the shop's collection form before paying (the fields asked:
    /// `last_name`, `first_name`, `email`, …, `info1`–`info3`); null when the order asked
    /// nothing.
    #[schema(required = true)]
    pub buyer: Option<crate::domain::collect::BuyerData>,
    /// The payment service it was made through (`payzen`, `mollie`, `payplug`, `wallet`);
    /// null: the card form of the pay page.
    #[schema(required = true)]
    pub service: Option<String>,
    /// The service's payment id (`tr_…`, `pay_…`, PayZen's payment order id).
    #[schema(required = true)]
    pub service_payment_id: Option<String>,
}

/// An instalment of a schedule, as a transaction names it.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct InstalmentRef {
    /// 1 for the first.
    pub index: u8,
    pub count: u8,
}

impl TransactionObject {
    pub fn new(t: &Transaction) -> Self {
        TransactionObject {
            id: t.id,
            order_id: t.order_id.0,
            status: t.status,
            amount: t.amount.minor,
            currency: t.amount.currency.code().to_string(),
            refunded_amount: t.refunded,
            card_brand: t.card_brand.clone(),
            card_masked: t.card_masked.clone(),
            card_expiry: t.card_expiry.clone(),
            three_ds: t.three_ds.as_str().to_string(),
            return_code: t.return_code.clone(),
            source: t.source.as_str().to_string(),
            capture_date: t.capture_date,
            validate_by: t.validate_by.map(|v| v.and_utc()),
            captured_at: t.captured_at.map(|v| v.and_utc()),
            created_at: t.created_at.and_utc(),
            mode: t.mode.as_str(),
            alias: t.saved_card.clone(),
            instalment: t.instalment.map(|(index, count)| InstalmentRef { index, count }),
            buyer: t.buyer.clone(),
            service: t.service.clone(),
            service_payment_id: t.service_payment_id.clone(),
        }
    }
}
