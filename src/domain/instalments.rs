//! Payment in instalments (seed 002, "paiement en plusieurs fois"; DESIGN §3): a shop's
//! settings, the schedule of an amount, whether a payment may be offered in instalments, and
//! when a refused later instalment is tried again.
//!
//! Amounts follow PayZen's `MULTI`: the first instalment is a share of the total rounded down
//! (or an equal part), the others are equal, and the rounding remainder goes on the last one,
//! so the schedule always sums exactly to the total. Amounts are minor units of the order's
//! currency; the shop has no currency of its own, so the minimum amount is typed with EUR's
//! two decimals and compared as minor units.

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Deserializer};

use super::FieldError;
use super::money::{Currency, Money};

pub const MIN_COUNT: u8 = 2;
pub const MAX_COUNT: u8 = 12;
pub const MAX_INTERVAL_DAYS: u16 = 365;
pub const MAX_RETRIES: usize = 5;
pub const MAX_RETRY_DAY: u16 = 30;

/// The time between two instalments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// The first date's day of each month, or the month's last day when it is shorter.
    Monthly,
    Days(u16),
}

impl Interval {
    /// The `n`-th due date after `first` (0 is `first`). Months are counted from `first`,
    /// never from the previous date, so 31 January gives 29 February then 31 March.
    pub fn nth(self, first: NaiveDate, n: u32) -> NaiveDate {
        let date = match self {
            Interval::Monthly => first.checked_add_months(Months::new(n)),
            Interval::Days(d) => first.checked_add_days(Days::new(u64::from(d) * u64::from(n))),
        };
        // Only past the year 262,000 does chrono run out of dates.
        date.unwrap_or(NaiveDate::MAX)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalmentSettings {
    pub enabled: bool,
    /// 2 to 12.
    pub max_count: u8,
    /// The first instalment's share of the total, 1 to 99; `None` splits it equally.
    pub first_share_percent: Option<u8>,
    /// Minor units; smaller totals are paid at once.
    pub min_amount: i64,
    pub interval: Interval,
    /// Days after its due date a refused later instalment is tried again, ascending, 1 to 30,
    /// at most five.
    pub retry_days: Vec<u16>,
}

impl Default for InstalmentSettings {
    fn default() -> Self {
        InstalmentSettings {
            enabled: false,
            max_count: 3,
            first_share_percent: None,
            min_amount: 0,
            interval: Interval::Monthly,
            retry_days: vec![1, 3],
        }
    }
}

/// The settings form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawInstalmentSettings {
    #[serde(default, deserialize_with = "checkbox")]
    pub enabled: bool,
    #[serde(default)]
    pub max_count: String,
    /// Empty: an equal split.
    #[serde(default)]
    pub first_share_percent: String,
    /// A decimal as in the order form (`50,00` or `50.00`); empty or zero: no minimum.
    #[serde(default)]
    pub min_amount: String,
    /// `monthly` or a number of days.
    #[serde(default)]
    pub interval: String,
    /// Days separated by commas (`1,3`); empty: no retry.
    #[serde(default)]
    pub retry_days: String,
}

/// A checkbox is sent as `on` when ticked and not at all otherwise.
fn checkbox<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(!matches!(String::deserialize(d)?.trim(), "" | "off" | "false" | "0"))
}

impl RawInstalmentSettings {
    /// Parses every field and reports every refusal at once, each next to its field.
    pub fn parse(&self) -> Result<InstalmentSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut refuse = |field, code| errors.push(FieldError::new(field, code));
        let max_count = self.max_count.trim().parse::<u8>().ok().filter(|n| (MIN_COUNT..=MAX_COUNT).contains(n));
        if max_count.is_none() {
            refuse("max_count", "instalments.max_count.range");
        }
        let percent = self.first_share_percent.trim();
        let first_share_percent = match percent.parse::<u8>() {
            _ if percent.is_empty() => None,
            Ok(p) if (1..=99).contains(&p) => Some(p),
            _ => {
                refuse("first_share_percent", "instalments.first_share_percent.range");
                None
            }
        };
        let min = self.min_amount.trim();
        let min_amount = if min.chars().all(|c| matches!(c, '0' | ',' | '.' | ' ')) {
            0
        } else {
            Money::parse(min, Currency::EUR).map(|m| m.minor).unwrap_or_else(|_| {
                refuse("min_amount", "instalments.min_amount.invalid");
                0
            })
        };
        let interval = match self.interval.trim().to_ascii_lowercase().as_str() {
            "monthly" => Some(Interval::Monthly),
            days => days.parse::<u16>().ok().filter(|d| (1..=MAX_INTERVAL_DAYS).contains(d)).map(Interval::Days),
        };
        if interval.is_none() {
            refuse("interval", "instalments.interval.invalid");
        }
        let retry_days = parse_retry_days(&self.retry_days);
        if retry_days.is_none() {
            refuse("retry_days", "instalments.retry_days.invalid");
        }
        match (max_count, interval, retry_days) {
            (Some(max_count), Some(interval), Some(retry_days)) if errors.is_empty() => Ok(InstalmentSettings {
                enabled: self.enabled,
                max_count,
                first_share_percent,
                min_amount,
                interval,
                retry_days,
            }),
            _ => Err(errors),
        }
    }
}

impl RawInstalmentSettings {
    /// The form showing `s`, the minimum written with `decimal` (the form reads both
    /// separators) and left empty when there is none.
    pub fn of(s: &InstalmentSettings, decimal: char) -> Self {
        RawInstalmentSettings {
            enabled: s.enabled,
            max_count: s.max_count.to_string(),
            first_share_percent: s.first_share_percent.map(|p| p.to_string()).unwrap_or_default(),
            min_amount: match s.min_amount {
                0 => String::new(),
                minor => Money { minor, currency: Currency::EUR }.decimal(decimal),
            },
            interval: match s.interval {
                Interval::Monthly => "monthly".into(),
                Interval::Days(d) => d.to_string(),
            },
            retry_days: join_days(&s.retry_days),
        }
    }
}

/// `1,3` (spaces and `;` allowed): strictly ascending days, 1 to 30, at most five.
pub fn parse_retry_days(raw: &str) -> Option<Vec<u16>> {
    let days = raw
        .split([',', ';'])
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.parse::<u16>().ok().filter(|d| (1..=MAX_RETRY_DAY).contains(d)))
        .collect::<Option<Vec<_>>>()?;
    (days.len() <= MAX_RETRIES && days.windows(2).all(|w| w[0] < w[1])).then_some(days)
}

/// The stored and typed form of retry days: `1,3`.
pub fn join_days(days: &[u16]) -> String {
    days.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
}

/// One instalment of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// 1 for the first.
    pub index: u8,
    pub due_on: NaiveDate,
    /// Minor units.
    pub amount: i64,
}

/// `total` in `count` instalments from `first_on`: the first share rounded down (or an equal
/// part), equal parts after it, the remainder on the last.
pub fn schedule(
    total: i64,
    count: u8,
    first_share_percent: Option<u8>,
    interval: Interval,
    first_on: NaiveDate,
) -> Vec<Planned> {
    if count == 0 {
        return Vec::new();
    }
    let n = i64::from(count);
    let (first, others) = match first_share_percent {
        Some(p) if count > 1 => {
            let first = (i128::from(total) * i128::from(p)).div_euclid(100) as i64;
            (first, (total - first).div_euclid(n - 1))
        }
        _ => (total.div_euclid(n), total.div_euclid(n)),
    };
    let last = total - first - others * (n - 2).max(0);
    (1..=count)
        .map(|index| Planned {
            index,
            due_on: interval.nth(first_on, u32::from(index - 1)),
            amount: match index {
                1 if count == 1 => total,
                1 => first,
                i if i == count => last,
                _ => others,
            },
        })
        .collect()
}

/// The number of instalments a payment of `total` may be offered in, or `None`: the shop
/// does not offer them, the total is below its minimum, an instalment would be nothing, or
/// the last one would fall after `until` (the order's restrictive end date) or after
/// `card_expires_end` (the last day of the card's expiry month).
pub fn offer(
    settings: &InstalmentSettings,
    total: i64,
    first_on: NaiveDate,
    until: Option<NaiveDate>,
    card_expires_end: Option<NaiveDate>,
) -> Option<u8> {
    if !settings.enabled || total < settings.min_amount {
        return None;
    }
    let plan = schedule(total, settings.max_count, settings.first_share_percent, settings.interval, first_on);
    let last = plan.last()?.due_on;
    let fits = |end: Option<NaiveDate>| end.is_none_or(|end| last <= end);
    (plan.iter().all(|p| p.amount > 0) && fits(until) && fits(card_expires_end)).then_some(settings.max_count)
}

/// When to charge again a later instalment due on `due_on` that was refused
/// `attempts_so_far` times (1: its first charge), or `None` when the retries are spent.
pub fn retry_on(settings: &InstalmentSettings, due_on: NaiveDate, attempts_so_far: usize) -> Option<NaiveDate> {
    let days = settings.retry_days.get(attempts_so_far.checked_sub(1)?)?;
    due_on.checked_add_days(Days::new(u64::from(*days)))
}

#[cfg(test)]
mod tests {
    use chrono::Datelike;
    use proptest::prelude::*;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn amounts(plan: &[Planned]) -> Vec<i64> {
        plan.iter().map(|p| p.amount).collect()
    }

    fn raw() -> RawInstalmentSettings {
        RawInstalmentSettings {
            enabled: true,
            max_count: "4".into(),
            first_share_percent: "50".into(),
            min_amount: "50,00".into(),
            interval: "monthly".into(),
            retry_days: "1, 3".into(),
        }
    }

    fn enabled(max_count: u8) -> InstalmentSettings {
        InstalmentSettings { enabled: true, max_count, ..Default::default() }
    }

    #[test]
    fn a_first_share_is_rounded_down_and_the_remainder_goes_last() {
        let plan = schedule(20000, 4, Some(50), Interval::Monthly, date(2026, 1, 6));
        assert_eq!(amounts(&plan), [10000, 3333, 3333, 3334]);
        assert_eq!(plan.iter().map(|p| p.index).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(amounts(&schedule(10000, 3, None, Interval::Monthly, date(2026, 1, 6))), [3333, 3333, 3334]);
        assert_eq!(amounts(&schedule(5, 3, None, Interval::Days(7), date(2026, 1, 6))), [1, 1, 3]);
        assert_eq!(amounts(&schedule(999, 3, Some(33), Interval::Days(7), date(2026, 1, 6))), [329, 335, 335]);
        assert_eq!(amounts(&schedule(999, 2, Some(99), Interval::Days(7), date(2026, 1, 6))), [989, 10]);
        assert_eq!(amounts(&schedule(700, 1, Some(30), Interval::Days(7), date(2026, 1, 6))), [700]);
        assert!(schedule(700, 0, None, Interval::Monthly, date(2026, 1, 6)).is_empty());
    }

    #[test]
    fn months_are_counted_from_the_first_date_and_clamped_to_their_end() {
        let due = |first, n| {
            schedule(1200, n, None, Interval::Monthly, first).iter().map(|p| p.due_on.to_string()).collect::<Vec<_>>()
        };
        assert_eq!(due(date(2027, 1, 31), 4), ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]);
        assert_eq!(due(date(2028, 1, 31), 3), ["2028-01-31", "2028-02-29", "2028-03-31"]);
        assert_eq!(due(date(2028, 2, 29), 3), ["2028-02-29", "2028-03-29", "2028-04-29"]);
        assert_eq!(due(date(2026, 11, 30), 4), ["2026-11-30", "2026-12-30", "2027-01-30", "2027-02-28"]);
        let days = schedule(1200, 3, None, Interval::Days(45), date(2026, 1, 6));
        assert_eq!(
            days.iter().map(|p| p.due_on).collect::<Vec<_>>(),
            [date(2026, 1, 6), date(2026, 2, 20), date(2026, 4, 6)]
        );
    }

    #[test]
    fn the_offer_needs_the_shop_the_minimum_and_every_date_in_time() {
        let first = date(2026, 1, 6);
        let s = InstalmentSettings { min_amount: 5000, ..enabled(3) };
        assert_eq!(offer(&s, 5000, first, None, None), Some(3));
        assert_eq!(offer(&s, 4999, first, None, None), None, "below the minimum");
        assert_eq!(offer(&InstalmentSettings { enabled: false, ..s.clone() }, 9000, first, None, None), None);
        assert_eq!(offer(&s, 9000, first, Some(date(2026, 3, 6)), None), Some(3), "the last date is allowed");
        assert_eq!(offer(&s, 9000, first, Some(date(2026, 3, 5)), None), None, "restrictive end date");
        assert_eq!(offer(&s, 9000, first, None, Some(date(2026, 2, 28))), None, "the card expires before");
        assert_eq!(offer(&s, 9000, first, None, Some(date(2026, 3, 31))), Some(3));
        assert_eq!(offer(&enabled(3), 2, first, None, None), None, "an instalment of 0");
        assert_eq!(
            offer(&InstalmentSettings { first_share_percent: Some(99), ..enabled(3) }, 100, first, None, None),
            None
        );
    }

    #[test]
    fn retries_follow_the_due_date_then_stop() {
        let s = enabled(3);
        let due = date(2026, 1, 31);
        assert_eq!(retry_on(&s, due, 0), None, "nothing refused yet");
        assert_eq!(retry_on(&s, due, 1), Some(date(2026, 2, 1)));
        assert_eq!(retry_on(&s, due, 2), Some(date(2026, 2, 3)));
        assert_eq!(retry_on(&s, due, 3), None);
        assert_eq!(retry_on(&InstalmentSettings { retry_days: vec![], ..s }, due, 1), None);
    }

    #[test]
    fn the_form_parses_and_shows_what_it_stored() {
        let s = raw().parse().unwrap();
        assert_eq!(
            s,
            InstalmentSettings {
                enabled: true,
                max_count: 4,
                first_share_percent: Some(50),
                min_amount: 5000,
                interval: Interval::Monthly,
                retry_days: vec![1, 3],
            }
        );
        let back = RawInstalmentSettings::of(&s, ',');
        assert_eq!((back.min_amount.as_str(), back.retry_days.as_str()), ("50,00", "1,3"));
        assert_eq!(back.parse(), Ok(s));
        let s = RawInstalmentSettings {
            first_share_percent: " ".into(),
            min_amount: "".into(),
            interval: " 30 ".into(),
            retry_days: "".into(),
            ..raw()
        };
        let s = s.parse().unwrap();
        assert_eq!(
            (s.first_share_percent, s.min_amount, s.interval, s.retry_days),
            (None, 0, Interval::Days(30), vec![])
        );
        assert_eq!(RawInstalmentSettings { min_amount: "0,00".into(), ..raw() }.parse().unwrap().min_amount, 0);
        assert_eq!(RawInstalmentSettings { min_amount: "1 500.5".into(), ..raw() }.parse().unwrap().min_amount, 150050);
        let default = RawInstalmentSettings::of(&InstalmentSettings::default(), '.');
        assert_eq!((default.min_amount.as_str(), default.parse()), ("", Ok(InstalmentSettings::default())));
    }

    #[test]
    fn each_bad_field_is_refused_with_its_own_code() {
        let refused = |r: RawInstalmentSettings| {
            r.parse().unwrap_err().into_iter().map(|e| (e.field, e.code)).collect::<Vec<_>>()
        };
        for (field, value, code) in [
            ("max_count", "1", "instalments.max_count.range"),
            ("max_count", "13", "instalments.max_count.range"),
            ("max_count", "", "instalments.max_count.range"),
            ("first_share_percent", "0", "instalments.first_share_percent.range"),
            ("first_share_percent", "100", "instalments.first_share_percent.range"),
            ("first_share_percent", "half", "instalments.first_share_percent.range"),
            ("min_amount", "abc", "instalments.min_amount.invalid"),
            ("min_amount", "5,001", "instalments.min_amount.invalid"),
            ("interval", "weekly", "instalments.interval.invalid"),
            ("interval", "0", "instalments.interval.invalid"),
            ("interval", "366", "instalments.interval.invalid"),
            ("retry_days", "3,1", "instalments.retry_days.invalid"),
            ("retry_days", "1,1", "instalments.retry_days.invalid"),
            ("retry_days", "x", "instalments.retry_days.invalid"),
            ("retry_days", "31", "instalments.retry_days.invalid"),
            ("retry_days", "1,2,3,4,5,6", "instalments.retry_days.invalid"),
        ] {
            let mut r = raw();
            let slot = match field {
                "max_count" => &mut r.max_count,
                "first_share_percent" => &mut r.first_share_percent,
                "min_amount" => &mut r.min_amount,
                "interval" => &mut r.interval,
                _ => &mut r.retry_days,
            };
            *slot = value.into();
            assert_eq!(refused(r), [(field, code)], "{field} = {value:?}");
        }
        let all = RawInstalmentSettings {
            max_count: "x".into(),
            first_share_percent: "x".into(),
            min_amount: "x".into(),
            interval: "x".into(),
            retry_days: "x".into(),
            enabled: false,
        };
        assert_eq!(refused(all).len(), 5);
    }

    #[test]
    fn the_checkbox_is_on_when_sent() {
        let form = |body: &str| serde_urlencoded::from_str::<RawInstalmentSettings>(body).unwrap().enabled;
        assert!(form("enabled=on&max_count=3"));
        assert!(!form("max_count=3"));
        assert!(!form("enabled=&max_count=3"));
    }

    fn interval() -> impl Strategy<Value = Interval> {
        prop_oneof![Just(Interval::Monthly), (1..=MAX_INTERVAL_DAYS).prop_map(Interval::Days)]
    }

    fn first_on() -> impl Strategy<Value = NaiveDate> {
        (0u64..3650).prop_map(|d| date(2026, 1, 1) + Days::new(d))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn a_schedule_sums_to_the_total_with_the_remainder_last(
            total in 1i64..=99_999_999_999,
            count in 1u8..=MAX_COUNT,
            share in proptest::option::of(1u8..=99),
            interval in interval(),
            first in first_on(),
        ) {
            let plan = schedule(total, count, share, interval, first);
            prop_assert_eq!(plan.len(), usize::from(count));
            prop_assert_eq!(plan.iter().map(|p| p.amount).sum::<i64>(), total);
            prop_assert_eq!(plan[0].due_on, first);
            if count > 2 {
                let middle = &plan[1..plan.len() - 1];
                prop_assert!(middle.iter().all(|p| p.amount == plan[1].amount), "equal parts between first and last");
                let last = plan[plan.len() - 1].amount;
                prop_assert!(last >= plan[1].amount && last - plan[1].amount < i64::from(count), "only the remainder on the last");
            }
            if share.is_none() {
                prop_assert!(plan[..plan.len() - 1].iter().all(|p| p.amount == total / i64::from(count)));
            }
            for (i, p) in plan.iter().enumerate() {
                prop_assert_eq!(usize::from(p.index), i + 1);
                prop_assert_eq!(p.due_on, interval.nth(first, i as u32));
                if let Interval::Days(d) = interval {
                    prop_assert_eq!((p.due_on - first).num_days(), i64::from(d) * i as i64);
                }
            }
            prop_assert!(plan.windows(2).all(|w| w[0].due_on < w[1].due_on), "dates strictly increase");
        }

        #[test]
        fn monthly_dates_keep_the_first_day_or_the_month_s_end(
            day in 28u32..=31,
            month in 1u32..=12,
            year in 2026i32..=2032,
            count in MIN_COUNT..=MAX_COUNT,
        ) {
            let Some(first) = NaiveDate::from_ymd_opt(year, month, day) else { return Ok(()) };
            for p in schedule(1200, count, None, Interval::Monthly, first) {
                let next = p.due_on + Days::new(1);
                prop_assert!(p.due_on.day() == day || (p.due_on.day() < day && next.day() == 1), "{} from {}", p.due_on, first);
            }
        }

        #[test]
        fn an_offer_is_positive_within_its_dates_and_above_the_minimum(
            total in 0i64..=1_000_000,
            count in MIN_COUNT..=MAX_COUNT,
            share in proptest::option::of(1u8..=99),
            min_amount in 0i64..=100_000,
            interval in interval(),
            first in first_on(),
            until in proptest::option::of(0u64..800),
            card in proptest::option::of(0u64..800),
        ) {
            let s = InstalmentSettings { enabled: true, max_count: count, first_share_percent: share, min_amount, interval, retry_days: vec![1, 3] };
            let (until, card) = (until.map(|d| first + Days::new(d)), card.map(|d| first + Days::new(d)));
            let plan = schedule(total, count, share, interval, first);
            let offered = offer(&s, total, first, until, card);
            let expected = total >= min_amount
                && plan.iter().all(|p| p.amount > 0)
                && until.is_none_or(|u| plan.iter().all(|p| p.due_on <= u))
                && card.is_none_or(|c| plan.iter().all(|p| p.due_on <= c));
            prop_assert_eq!(offered, expected.then_some(count));
        }
    }
}
