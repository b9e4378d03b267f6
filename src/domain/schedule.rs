//! An order's schedule of instalments once the buyer chose one: the plan (the card it is
//! charged to, its state) and each instalment with its state. Computing a schedule and
//! deciding on retries is `domain::instalments`; this is what is kept of one.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::ids::{OrderId, ShopId};

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

text_enum!(
    /// Where a schedule stands. PENDING: its first instalment's attempt is under way.
    PlanStatus {
        Pending => "PENDING",
        Running => "RUNNING",
        Completed => "COMPLETED",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
    }
);

text_enum!(
    /// Where one instalment stands. CHARGING: one worker claimed it and its authorisation is
    /// recorded; nobody else charges it.
    InstalmentStatus {
        Pending => "PENDING",
        Charging => "CHARGING",
        Paid => "PAID",
        Failed => "FAILED",
        Cancelled => "CANCELLED",
    }
);

impl PlanStatus {
    /// Still charging instalments, or about to.
    pub fn ended(self) -> bool {
        matches!(self, PlanStatus::Completed | PlanStatus::Failed | PlanStatus::Cancelled)
    }
}

/// An order's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub order_id: OrderId,
    pub shop_id: ShopId,
    /// The vault record the later instalments are charged to (the plan's own copy).
    pub card_token: String,
    pub card_brand: String,
    pub card_masked: String,
    pub card_expiry: String,
    pub holder: Option<String>,
    pub count: u8,
    pub status: PlanStatus,
    /// The order that offers the buyer the unpaid balance once the schedule failed.
    pub balance_order_id: Option<OrderId>,
}

/// One instalment of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instalment {
    pub index: u8,
    pub due_on: NaiveDate,
    /// Minor units of the order's currency.
    pub amount: i64,
    pub status: InstalmentStatus,
    /// Charges tried so far.
    pub tries: u8,
    pub transaction_id: Option<i64>,
    /// The acquirer's last answer, when refused.
    pub last_code: Option<String>,
}

/// When an instalment due on `day` is charged: the first second of that day in the shop's
/// zone.
pub fn due_at(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let start = day.and_time(NaiveTime::MIN);
    match tz.from_local_datetime(&start) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        // Midnight skipped by a DST change: the day starts an hour later.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(start + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&start), |t| t.with_timezone(&Utc)),
    }
}

/// Whether a refusal may be tried again (seed 002): never a suspicion of fraud, nor a card
/// that refuses charges without its holder (01057), nor a card the acquirer does not know
/// (01014): those are final.
pub fn retryable(code: &str) -> bool {
    const FINAL: [&str; 3] = ["01057", "01014", "01078"];
    !(code.starts_with("04") || FINAL.contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instalment_is_due_at_the_start_of_its_day_in_the_shop_zone() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
        assert_eq!(due_at(d, paris).to_rfc3339(), "2026-01-14T23:00:00+00:00");
        let d = NaiveDate::from_ymd_opt(2026, 7, 15).unwrap();
        assert_eq!(due_at(d, paris).to_rfc3339(), "2026-07-14T22:00:00+00:00");
    }

    #[test]
    fn fraud_and_final_refusals_are_never_retried() {
        assert!(!retryable("04059"));
        assert!(!retryable("01057"));
        assert!(retryable("01005"));
    }
}
