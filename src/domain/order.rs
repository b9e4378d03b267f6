//! Payment orders (seed 001): channels, statuses, the actions each status allows (chapter
//! 12), references, validity.

use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::FieldError;
use super::api_key::Mode;
use super::ids::{OrderId, ShopId};
use super::money::Money;
use super::shop::text_enum;
use super::shop::{ThreeDsPreference, ValidationMode};
use crate::i18n::Lang;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Url,
    Email,
    Sms,
    Invoice,
}
text_enum!(Channel { Url = "URL", Email = "EMAIL", Sms = "SMS", Invoice = "INVOICE" });

impl Channel {
    pub fn from_query(raw: &str) -> Option<Channel> {
        Channel::parse(&raw.to_ascii_uppercase())
    }

    pub fn lower(self) -> &'static str {
        match self {
            Channel::Url => "url",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Invoice => "invoice",
        }
    }

    /// E-mail and SMS are delivered by paylink; URL and invoice orders by the merchant.
    pub fn initial_delivery(self) -> DeliveryStatus {
        match self {
            Channel::Email | Channel::Sms => DeliveryStatus::Pending,
            Channel::Url | Channel::Invoice => DeliveryStatus::Manual,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Running,
    Paid,
    Refused,
    Expired,
    Cancelled,
}
text_enum!(OrderStatus {
    Running = "RUNNING",
    Paid = "PAID",
    Refused = "REFUSED",
    Expired = "EXPIRED",
    Cancelled = "CANCELLED"
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    Pending,
    /// Delivered to a mail server or an SMS gateway.
    Sent,
    Failed,
    /// Given to the buyer by the merchant (a link or an invoice reference).
    Manual,
    /// An e-mail written to a file: no mail server is configured, nothing left the server.
    NotSent,
    /// An SMS waiting for an SMS gateway to be configured.
    Held,
}
text_enum!(DeliveryStatus {
    Pending = "PENDING",
    Sent = "SENT",
    Failed = "FAILED",
    Manual = "MANUAL",
    NotSent = "NOT_SENT",
    Held = "HELD",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AliasMode {
    None,
    Propose,
    Auto,
}
text_enum!(AliasMode { None = "NONE", Propose = "PROPOSE", Auto = "AUTO" });

/// The merchant's actions on an order (seed 001, chapter 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Detail,
    PreviewMessage,
    ModifyAndResend,
    Resend,
    ChangeValidity,
    Cancel,
    Reactivate,
    Duplicate,
    ViewTransaction,
    MarkSent,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::Detail,
        Action::PreviewMessage,
        Action::ModifyAndResend,
        Action::Resend,
        Action::ChangeValidity,
        Action::Cancel,
        Action::Reactivate,
        Action::Duplicate,
        Action::ViewTransaction,
        Action::MarkSent,
    ];
}

/// Whether `action` is offered on an order: exactly the seed's lists.
/// `within_validity` matters for reactivation (a cancelled order past its end date stays
/// cancelled); `has_transaction` for the transaction link.
pub fn allowed(
    action: Action,
    status: OrderStatus,
    channel: Channel,
    delivery: DeliveryStatus,
    within_validity: bool,
    has_transaction: bool,
) -> bool {
    use Action::*;
    use OrderStatus::*;
    match action {
        Detail | Duplicate => true,
        // An invoice is paid by its reference on the collection form: no message of its own.
        PreviewMessage => channel != Channel::Invoice,
        ModifyAndResend => matches!(status, Running | Refused | Expired),
        Resend => status == Running && channel == Channel::Email,
        ChangeValidity => matches!(status, Running | Expired),
        Cancel => status == Running,
        Reactivate => status == Cancelled && within_validity,
        ViewTransaction => matches!(status, Paid | Refused) && has_transaction,
        MarkSent => delivery == DeliveryStatus::Manual && matches!(status, Running | Refused | Expired),
    }
}

/// An order reference: at most 64 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference(String);

pub const REFERENCE_MAX: usize = 64;

impl Reference {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let r = raw.trim();
        if r.is_empty() {
            return Err(FieldError::new("reference", "field.required"));
        }
        if r.chars().count() > REFERENCE_MAX {
            return Err(FieldError::new("reference", "reference.too_long"));
        }
        if !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(FieldError::new("reference", "reference.invalid"));
        }
        Ok(Reference(r.to_string()))
    }

    /// An optional reference: empty is none, unless the shop makes it mandatory.
    pub fn parse_optional(raw: &str, mandatory: bool) -> Result<Option<Self>, FieldError> {
        if raw.trim().is_empty() && !mandatory { Ok(None) } else { Reference::parse(raw).map(Some) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// References of an order sent to `count` recipients: `REF-001`, `REF-002`, … (three
    /// digits, wider past 999). One recipient keeps the reference as it is.
    pub fn numbered(base: Option<&Reference>, count: usize) -> Result<Vec<Option<String>>, FieldError> {
        if count <= 1 {
            return Ok(vec![base.map(|r| r.0.clone())]);
        }
        let width = count.to_string().len().max(3);
        let base = base.map(|r| r.0.as_str()).unwrap_or("");
        (1..=count)
            .map(|i| {
                let r = if base.is_empty() { format!("{i:0width$}") } else { format!("{base}-{i:0width$}") };
                if r.chars().count() > REFERENCE_MAX {
                    Err(FieldError::new("reference", "reference.too_long"))
                } else {
                    Ok(Some(r))
                }
            })
            .collect()
    }
}

/// The instant an order stops being payable: 23:59:59 of `end` in the shop's time zone.
/// On a DST gap or overlap the latest valid local time wins.
pub fn validity_end(end: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let last = end.and_time(NaiveTime::from_hms_opt(23, 59, 59).expect("valid time"));
    match tz.from_local_datetime(&last) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(_, later) => later.with_timezone(&Utc),
        // No DST change happens at 23:59:59 anywhere chrono-tz knows, but stay total.
        chrono::LocalResult::None => tz.from_utc_datetime(&last).with_timezone(&Utc),
    }
}

/// Today in the shop's zone.
pub fn local_today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The latest end date allowed: three months after the day the order was created.
pub fn max_end_date(created_local: NaiveDate) -> NaiveDate {
    created_local.checked_add_months(Months::new(3)).unwrap_or(created_local)
}

/// Parses an end-of-validity date (`2026-07-14`, or `14/07/2026` as typed in French) and
/// checks it lies between today and three months after creation.
pub fn parse_end_date(raw: &str, today: NaiveDate, created: NaiveDate) -> Result<NaiveDate, FieldError> {
    let raw = raw.trim();
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map_err(|_| FieldError::new("expires_on", "expires_on.invalid"))?;
    if date < today {
        return Err(FieldError::new("expires_on", "expires_on.past"));
    }
    if date > max_end_date(created) {
        return Err(FieldError::new("expires_on", "expires_on.too_far"));
    }
    Ok(date)
}

/// The default end date for a new order: today plus the shop's validity days.
/// The length of an order's token in its link (the SMS estimate counts it before the order
/// exists).
pub const TOKEN_CHARS: usize = 22;

/// A new token for an order's link: 128 random bits, URL-safe ([`TOKEN_CHARS`] long).
pub fn new_token() -> String {
    super::text::random_token(16)
}

pub fn default_end_date(today: NaiveDate, validity_days: i32) -> NaiveDate {
    today + chrono::Duration::days(i64::from(validity_days.max(1)))
}

/// `dd/mm/yyyy` in French, `yyyy-mm-dd` in English (ISO: unambiguous for every reader).
/// A day as each language writes it: `29/12/2026`, `2026-12-29` in English (the back
/// office's habit), `29.12.2026` in German.
pub fn format_date(d: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::En => d.format("%Y-%m-%d").to_string(),
        Lang::De => d.format("%d.%m.%Y").to_string(),
        Lang::Fr | Lang::Es | Lang::It => d.format("%d/%m/%Y").to_string(),
    }
}

impl Order {
    /// The language the buyer reads the order in.
    pub fn lang(&self) -> Lang {
        Lang::parse(&self.language).unwrap_or(Lang::Fr)
    }
}

/// A payment order as stored.
#[derive(Debug, Clone)]
pub struct Order {
    pub id: OrderId,
    pub shop_id: ShopId,
    pub mode: Mode,
    pub channel: Channel,
    pub token: String,
    pub reference: Option<String>,
    pub amount: Money,
    pub language: String,
    pub validation_mode: ValidationMode,
    pub capture_delay_days: i32,
    pub expires_on: NaiveDate,
    pub expires_at: NaiveDateTime,
    pub alias_mode: AliasMode,
    pub three_ds: ThreeDsPreference,
    pub buyer_email: Option<String>,
    pub use_collection_form: bool,
    pub description: Option<String>,
    pub recipient: Option<String>,
    pub bcc: Option<String>,
    pub subject: Option<String>,
    pub message: Option<String>,
    pub status: OrderStatus,
    pub delivery_status: DeliveryStatus,
    pub send_count: i32,
    pub transaction_id: Option<i64>,
    /// The restrictive end of a schedule: the last instalment falls on or before it, or no
    /// instalments are offered.
    pub instalments_until: Option<NaiveDate>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Order {
    /// The status a person should see now: a running order past its end is expired even
    /// before the worker has written it.
    pub fn status_at(&self, now: NaiveDateTime) -> OrderStatus {
        if self.status == OrderStatus::Running && now > self.expires_at { OrderStatus::Expired } else { self.status }
    }

    pub fn within_validity(&self, now: NaiveDateTime) -> bool {
        now <= self.expires_at
    }
}

/// The payment link of an order's token.
pub fn pay_url(public_url: &str, token: &str) -> String {
    format!("{public_url}/t/{token}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    #[test]
    fn a_token_is_as_long_as_the_sms_estimate_counts_it() {
        let token = new_token();
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn validity_ends_at_the_last_second_of_the_day_in_the_shop_zone_across_dst() {
        // Winter: UTC+1.
        assert_eq!(validity_end(d("2026-01-15"), Paris).to_rfc3339(), "2026-01-15T22:59:59+00:00");
        // Summer: UTC+2.
        assert_eq!(validity_end(d("2026-07-14"), Paris).to_rfc3339(), "2026-07-14T21:59:59+00:00");
        // The days the clocks change (29 March and 25 October 2026).
        assert_eq!(validity_end(d("2026-03-29"), Paris).to_rfc3339(), "2026-03-29T21:59:59+00:00");
        assert_eq!(validity_end(d("2026-10-25"), Paris).to_rfc3339(), "2026-10-25T22:59:59+00:00");
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(validity_end(d("2026-03-08"), ny).to_rfc3339(), "2026-03-09T03:59:59+00:00");
    }

    #[test]
    fn end_dates_are_between_today_and_three_months_after_creation() {
        let today = d("2026-01-31");
        assert_eq!(max_end_date(today), d("2026-04-30"));
        assert_eq!(parse_end_date("2026-04-30", today, today), Ok(d("2026-04-30")));
        assert_eq!(parse_end_date("30/04/2026", today, today), Ok(d("2026-04-30")));
        assert_eq!(parse_end_date("2026-05-01", today, today).unwrap_err().code, "expires_on.too_far");
        assert_eq!(parse_end_date("2026-01-30", today, today).unwrap_err().code, "expires_on.past");
        assert_eq!(parse_end_date("2026-01-31", today, today), Ok(today), "today is allowed");
        assert_eq!(parse_end_date("31/02/2026", today, today).unwrap_err().code, "expires_on.invalid");
        assert_eq!(parse_end_date("soon", today, today).unwrap_err().code, "expires_on.invalid");
        // Extending an old order: the limit counts from its creation.
        assert_eq!(parse_end_date("2026-05-15", d("2026-03-01"), d("2026-02-20")), Ok(d("2026-05-15")));
        assert!(parse_end_date("2026-05-21", d("2026-03-01"), d("2026-02-20")).is_err());
    }

    #[test]
    fn references_are_short_and_plain() {
        assert_eq!(Reference::parse(" INV-2026_01 ").unwrap().as_str(), "INV-2026_01");
        assert_eq!(Reference::parse(&"A".repeat(65)).unwrap_err().code, "reference.too_long");
        assert_eq!(Reference::parse("INV 01").unwrap_err().code, "reference.invalid");
        assert_eq!(Reference::parse("é").unwrap_err().code, "reference.invalid");
        assert_eq!(Reference::parse_optional("", false), Ok(None));
        assert_eq!(Reference::parse_optional("", true).unwrap_err().code, "field.required");
    }

    #[test]
    fn several_recipients_number_the_reference() {
        let r = Reference::parse("Recouvrement").unwrap();
        assert_eq!(Reference::numbered(Some(&r), 1).unwrap(), vec![Some("Recouvrement".to_string())]);
        let refs = Reference::numbered(Some(&r), 3).unwrap();
        assert_eq!(refs, ["Recouvrement-001", "Recouvrement-002", "Recouvrement-003"].map(|s| Some(s.to_string())));
        let many = Reference::numbered(Some(&r), 1200).unwrap();
        assert_eq!(many[0].as_deref(), Some("Recouvrement-0001"));
        assert_eq!(many[1199].as_deref(), Some("Recouvrement-1200"));
        assert_eq!(Reference::numbered(None, 2).unwrap()[1].as_deref(), Some("002"));
        let long = Reference::parse(&"A".repeat(62)).unwrap();
        assert_eq!(Reference::numbered(Some(&long), 2).unwrap_err().code, "reference.too_long");
    }

    #[test]
    fn actions_follow_the_seed_chapter_12() {
        use Action::*;
        use OrderStatus::*;
        let offered = |status, channel| -> Vec<Action> {
            Action::ALL
                .into_iter()
                .filter(|a| allowed(*a, status, channel, channel.initial_delivery(), true, true))
                .collect()
        };
        assert_eq!(
            offered(Running, Channel::Email),
            [Detail, PreviewMessage, ModifyAndResend, Resend, ChangeValidity, Cancel, Duplicate]
        );
        assert_eq!(
            offered(Running, Channel::Url),
            [Detail, PreviewMessage, ModifyAndResend, ChangeValidity, Cancel, Duplicate, MarkSent]
        );
        assert_eq!(offered(Paid, Channel::Email), [Detail, PreviewMessage, Duplicate, ViewTransaction]);
        assert_eq!(
            offered(Refused, Channel::Sms),
            [Detail, PreviewMessage, ModifyAndResend, Duplicate, ViewTransaction]
        );
        assert_eq!(
            offered(Expired, Channel::Email),
            [Detail, PreviewMessage, ModifyAndResend, ChangeValidity, Duplicate]
        );
        assert_eq!(offered(Cancelled, Channel::Email), [Detail, PreviewMessage, Reactivate, Duplicate]);
        assert!(!allowed(Reactivate, Cancelled, Channel::Email, DeliveryStatus::Sent, false, false), "past validity");
        assert!(
            !allowed(ViewTransaction, Paid, Channel::Url, DeliveryStatus::Manual, true, false),
            "no transaction yet"
        );
        assert!(!allowed(MarkSent, Running, Channel::Url, DeliveryStatus::Sent, true, false), "already sent");
        assert_eq!(
            offered(Running, Channel::Invoice),
            [Detail, ModifyAndResend, ChangeValidity, Cancel, Duplicate, MarkSent],
            "no message, no resend for an invoice"
        );
    }
}
