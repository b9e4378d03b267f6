//! Notification rules (seed 001, chapter 13): on which events, under which conditions, whom
//! to tell and how; and the retry schedule of a webhook call (Standard Webhooks' example).

use chrono::Duration;
use serde::Serialize;
use url::Url;

use super::FieldError;
use super::api_key::Mode;
use super::order::Channel;
use super::shop::text_enum;

/// What happened to an order, as rules and webhooks name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EventType {
    PaymentAccepted,
    PaymentRefused,
    OrderExpired,
    OrderCancelled,
    RefundCreated,
    InstalmentFailed,
    /// Sent by the "send a test event" button to one endpoint only; no rule asks for it.
    Test,
}

text_enum!(EventType {
    PaymentAccepted = "payment.accepted",
    PaymentRefused = "payment.refused",
    OrderExpired = "order.expired",
    OrderCancelled = "order.cancelled",
    RefundCreated = "refund.created",
    InstalmentFailed = "instalment.failed",
    Test = "webhook.test",
});

impl EventType {
    /// The events a rule may ask for (the test event is not one).
    pub const RULED: [EventType; 6] = [
        EventType::PaymentAccepted,
        EventType::PaymentRefused,
        EventType::OrderExpired,
        EventType::OrderCancelled,
        EventType::RefundCreated,
        EventType::InstalmentFailed,
    ];

    /// The i18n key of its name (`event-payment_accepted`).
    pub fn label_key(self) -> String {
        format!("event.{}", self.as_str().replace('.', "_"))
    }
}

/// How a rule tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    /// The buyer's payment confirmation, to the order's buyer e-mail.
    BuyerEmail,
    /// To the shop's contact e-mail.
    MerchantEmail,
    /// An SMS to the shop's default phone (its SMS account's), from its credits.
    MerchantSms,
    /// To the user who created the order (seed 000).
    CreatorEmail,
    /// A signed call to the merchant's server.
    Url,
}

text_enum!(RuleKind {
    BuyerEmail = "BUYER_EMAIL",
    MerchantEmail = "MERCHANT_EMAIL",
    MerchantSms = "MERCHANT_SMS",
    CreatorEmail = "CREATOR_EMAIL",
    Url = "URL"
});

impl RuleKind {
    pub fn label_key(self) -> String {
        format!("rule.kind_{}", self.as_str().to_ascii_lowercase())
    }
}

/// The conditions of a rule and what it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    pub events: Vec<EventType>,
    /// Empty: any channel.
    pub channels: Vec<Channel>,
    pub modes: Vec<Mode>,
    /// Only events of a payment made on the order's link (not the worker's later instalments).
    pub from_order_only: bool,
}

/// What an event says about itself, for matching.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub event: EventType,
    pub channel: Option<Channel>,
    pub mode: Mode,
    /// Made by the worker (an instalment charged by schedule), not on the order's link.
    pub by_schedule: bool,
}

impl Conditions {
    pub fn matches(&self, f: &Facts) -> bool {
        self.events.contains(&f.event)
            && self.modes.contains(&f.mode)
            && (self.channels.is_empty() || f.channel.is_some_and(|c| self.channels.contains(&c)))
            && !(self.from_order_only && f.by_schedule)
    }

    pub fn events_text(&self) -> String {
        join(self.events.iter().map(|e| e.as_str()))
    }

    pub fn channels_text(&self) -> String {
        join(self.channels.iter().map(|c| c.as_str()))
    }

    pub fn modes_text(&self) -> String {
        join(self.modes.iter().map(|m| m.as_str()))
    }

    /// Reads the stored lists back (unknown names are dropped).
    pub fn from_text(events: &str, channels: &str, modes: &str, from_order_only: bool) -> Self {
        Conditions {
            events: split(events).filter_map(EventType::parse).collect(),
            channels: split(channels).filter_map(Channel::parse).collect(),
            modes: split(modes).filter_map(Mode::parse).collect(),
            from_order_only,
        }
    }
}

fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.collect::<Vec<_>>().join(",")
}

fn split(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Parses the events a person or a program asked for: at least one, each known.
pub fn parse_events(field: &'static str, raw: &[String]) -> Result<Vec<EventType>, FieldError> {
    let mut events = Vec::new();
    for name in raw {
        let e = EventType::parse(name)
            .filter(|e| *e != EventType::Test)
            .ok_or(FieldError::new(field, "rule.event_unknown"))?;
        if !events.contains(&e) {
            events.push(e);
        }
    }
    if events.is_empty() {
        return Err(FieldError::new(field, "rule.events_missing"));
    }
    // Stored in the order of the list, whatever order they came in.
    events.sort_by_key(|e| EventType::RULED.iter().position(|r| r == e));
    Ok(events)
}

/// A webhook target: `http` or `https` with a host, no credentials in it, at most 2,000
/// characters. Whether its address may be called is judged at call time (it may resolve
/// elsewhere later), and for a literal address at once too.
pub fn parse_url(field: &'static str, raw: &str) -> Result<Url, FieldError> {
    let raw = raw.trim();
    let bad = FieldError::new(field, "webhook.url_invalid");
    if raw.len() > 2000 {
        return Err(bad);
    }
    let url = Url::parse(raw).map_err(|_| bad.clone())?;
    let credentials = !url.username().is_empty() || url.password().is_some();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || credentials {
        return Err(bad);
    }
    Ok(url)
}

/// A rule as typed on the settings screen (repeated `events`, `channels`, `modes`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRule {
    pub kind: String,
    pub label: String,
    pub events: Vec<String>,
    pub channels: Vec<String>,
    pub modes: Vec<String>,
    pub from_order_only: bool,
    pub failure_email: String,
    pub auto_retry: bool,
    pub url_test: String,
    pub url_production: String,
    pub enabled: bool,
}

/// A rule read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleDraft {
    pub kind: RuleKind,
    pub label: String,
    pub conditions: Conditions,
    pub failure_email: Option<String>,
    pub auto_retry: bool,
    pub url_test: Option<String>,
    pub url_production: Option<String>,
    pub enabled: bool,
}

pub const LABEL_MAX: usize = 100;

impl RawRule {
    /// From a URL-encoded form's pairs; an absent checkbox is off.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut r = RawRule::default();
        for (k, v) in pairs {
            match k.as_str() {
                "kind" => r.kind = v.clone(),
                "label" => r.label = v.clone(),
                "events" => r.events.push(v.clone()),
                "channels" => r.channels.push(v.clone()),
                "modes" => r.modes.push(v.clone()),
                "from_order_only" => r.from_order_only = true,
                "failure_email" => r.failure_email = v.clone(),
                "auto_retry" => r.auto_retry = true,
                "url_test" => r.url_test = v.clone(),
                "url_production" => r.url_production = v.clone(),
                "enabled" => r.enabled = true,
                _ => {}
            }
        }
        r
    }

    /// A new rule's form: a URL call on acceptance and refusal, in TEST, retried.
    pub fn blank() -> Self {
        RawRule {
            kind: RuleKind::Url.as_str().into(),
            events: vec![EventType::PaymentAccepted.as_str().into(), EventType::PaymentRefused.as_str().into()],
            modes: vec![Mode::Test.as_str().into()],
            auto_retry: true,
            enabled: true,
            ..Default::default()
        }
    }

    /// Checks every field; `allow_private` as the operator set it (a literal address in a URL
    /// is judged at once, a host name at each call).
    pub fn parse(&self, allow_private: bool) -> Result<RuleDraft, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = RuleKind::parse(&self.kind);
        if kind.is_none() {
            errors.push(FieldError::new("kind", "rule.kind_invalid"));
        }
        let label = self.label.trim().to_string();
        if label.is_empty() {
            errors.push(FieldError::new("label", "rule.label_missing"));
        } else if label.chars().count() > LABEL_MAX || super::text::has_control(&label) {
            errors.push(FieldError::new("label", "rule.label_invalid"));
        }
        let events = parse_events("events", &self.events).map_err(|e| errors.push(e)).unwrap_or_default();
        let channels: Option<Vec<Channel>> = self.channels.iter().map(|c| Channel::parse(c)).collect();
        let channels = channels.unwrap_or_else(|| {
            errors.push(FieldError::new("channels", "rule.channel_unknown"));
            Vec::new()
        });
        let modes: Option<Vec<Mode>> = self.modes.iter().map(|m| Mode::parse(m)).collect();
        let mut modes = modes.unwrap_or_default();
        modes.sort();
        modes.dedup();
        if modes.is_empty() {
            errors.push(FieldError::new("modes", "rule.modes_missing"));
        }
        let failure_email = self.failure_email.trim();
        if !failure_email.is_empty() && !super::text::is_email(failure_email) {
            errors.push(FieldError::new("failure_email", "field.email.invalid"));
        }
        let mut url_for = |field: &'static str, raw: &str, mode: Mode| -> Option<String> {
            let raw = raw.trim();
            if raw.is_empty() {
                if kind == Some(RuleKind::Url) && modes.contains(&mode) {
                    errors.push(FieldError::new(field, "webhook.url_missing"));
                }
                return None;
            }
            match parse_url(field, raw) {
                Ok(url) => {
                    let literal = match url.host() {
                        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
                        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
                        _ => None,
                    };
                    if let Some(code) = literal.and_then(|ip| super::webhook::refusal(ip, mode, allow_private)) {
                        errors.push(FieldError::new(field, code));
                    }
                    Some(url.to_string())
                }
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        };
        let url_test = url_for("url_test", &self.url_test, Mode::Test);
        let url_production = url_for("url_production", &self.url_production, Mode::Production);
        match kind {
            Some(kind) if errors.is_empty() => Ok(RuleDraft {
                kind,
                label,
                conditions: Conditions { events, channels, modes, from_order_only: self.from_order_only },
                failure_email: Some(failure_email.to_string()).filter(|e| !e.is_empty()),
                auto_retry: self.auto_retry,
                url_test: url_test.filter(|_| kind == RuleKind::Url),
                url_production: url_production.filter(|_| kind == RuleKind::Url),
                enabled: self.enabled,
            }),
            _ => Err(errors),
        }
    }
}

/// Waits between a webhook's calls after each failure (Standard Webhooks' example: now, 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h — about three days in all); past the last,
/// the event is abandoned for this endpoint.
pub const WEBHOOK_WAITS_SECS: [i64; 9] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/// The wait after the `failures`-th failed call (1 for the first), `None` once spent; `jitter`
/// in [-1, 1] moves it by up to a tenth, so that endpoints back from an outage are not all
/// called in the same second. A `Retry-After` longer than the schedule's wait is honoured
/// (capped at a day).
pub fn retry_wait(failures: usize, jitter: f64, retry_after: Option<Duration>) -> Option<Duration> {
    let base = *WEBHOOK_WAITS_SECS.get(failures.checked_sub(1)?)?;
    let jittered = base as f64 * (1.0 + 0.1 * jitter.clamp(-1.0, 1.0));
    let scheduled = Duration::milliseconds((jittered * 1000.0) as i64);
    let asked = retry_after.map(|d| d.min(Duration::days(1))).unwrap_or(Duration::zero());
    Some(scheduled.max(asked))
}

/// `Retry-After` as seconds or as an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`), from `now`;
/// a date already past asks no wait.
pub fn parse_retry_after(raw: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let raw = raw.trim();
    if let Ok(seconds) = raw.parse::<u32>() {
        return Some(Duration::seconds(i64::from(seconds)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    Some((at.with_timezone(&chrono::Utc) - now).max(Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(events: &[EventType], channels: &[Channel], modes: &[Mode], from_order_only: bool) -> Conditions {
        Conditions { events: events.to_vec(), channels: channels.to_vec(), modes: modes.to_vec(), from_order_only }
    }

    fn facts(event: EventType, channel: Channel, mode: Mode, by_schedule: bool) -> Facts {
        Facts { event, channel: Some(channel), mode, by_schedule }
    }

    #[test]
    fn a_rule_matches_its_events_channels_modes_and_origin() {
        use EventType::*;
        let r = rule(&[PaymentAccepted, PaymentRefused], &[], &[Mode::Test, Mode::Production], false);
        assert!(r.matches(&facts(PaymentAccepted, Channel::Url, Mode::Test, false)));
        assert!(r.matches(&facts(PaymentRefused, Channel::Invoice, Mode::Production, true)));
        assert!(!r.matches(&facts(OrderExpired, Channel::Url, Mode::Test, false)));

        let only_email_test = rule(&[PaymentAccepted], &[Channel::Email], &[Mode::Test], false);
        assert!(only_email_test.matches(&facts(PaymentAccepted, Channel::Email, Mode::Test, false)));
        assert!(!only_email_test.matches(&facts(PaymentAccepted, Channel::Sms, Mode::Test, false)));
        assert!(!only_email_test.matches(&facts(PaymentAccepted, Channel::Email, Mode::Production, false)));

        let from_order = rule(&[PaymentAccepted], &[], &[Mode::Test], true);
        assert!(from_order.matches(&facts(PaymentAccepted, Channel::Url, Mode::Test, false)));
        assert!(!from_order.matches(&facts(PaymentAccepted, Channel::Url, Mode::Test, true)));
    }

    #[test]
    fn lists_round_trip_through_their_stored_text() {
        let r =
            rule(&[EventType::PaymentAccepted, EventType::RefundCreated], &[Channel::Sms], &[Mode::Production], true);
        let back = Conditions::from_text(&r.events_text(), &r.channels_text(), &r.modes_text(), true);
        assert_eq!(back, r);
        assert_eq!(r.events_text(), "payment.accepted,refund.created");
    }

    #[test]
    fn events_are_parsed_known_and_at_least_one() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_events("events", &names(&["refund.created", "payment.accepted", "payment.accepted"])).unwrap(),
            vec![EventType::PaymentAccepted, EventType::RefundCreated]
        );
        assert_eq!(parse_events("events", &[]).unwrap_err().code, "rule.events_missing");
        assert_eq!(parse_events("events", &names(&["payment.maybe"])).unwrap_err().code, "rule.event_unknown");
        assert_eq!(parse_events("events", &names(&["webhook.test"])).unwrap_err().code, "rule.event_unknown");
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(parse_url("url", "https://shop.example/hooks?x=1").is_ok());
        assert!(parse_url("url", "http://127.0.0.1:8080/ipn").is_ok());
        for bad in ["ftp://shop.example/", "https://user:pw@shop.example/", "not a url", "file:///etc/passwd", ""] {
            assert_eq!(parse_url("url", bad).unwrap_err().code, "webhook.url_invalid", "{bad}");
        }
    }

    #[test]
    fn the_schedule_spans_about_three_days_with_jitter_and_retry_after() {
        let total: i64 = WEBHOOK_WAITS_SECS.iter().sum();
        assert!((3 * 86400..4 * 86400).contains(&total), "{total}");
        assert_eq!(retry_wait(1, 0.0, None), Some(Duration::seconds(5)));
        assert_eq!(retry_wait(2, 1.0, None), Some(Duration::seconds(330)));
        assert_eq!(retry_wait(2, -1.0, None), Some(Duration::seconds(270)));
        assert_eq!(retry_wait(9, 0.0, None), Some(Duration::hours(24)));
        assert_eq!(retry_wait(10, 0.0, None), None);
        // Retry-After longer than the schedule's wait wins; shorter does not shorten it.
        assert_eq!(retry_wait(1, 0.0, Some(Duration::hours(1))), Some(Duration::hours(1)));
        assert_eq!(retry_wait(3, 0.0, Some(Duration::seconds(1))), Some(Duration::minutes(30)));
        assert_eq!(retry_wait(1, 0.0, Some(Duration::days(9))), Some(Duration::days(1)));
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::seconds(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::minutes(28)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 06:00:00 GMT", now), Some(Duration::zero()));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_typed_rule_is_read_with_its_errors_next_to_their_fields() {
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let ok = RawRule::from_pairs(&pairs(&[
            ("kind", "URL"),
            ("label", " Shop server "),
            ("events", "payment.refused"),
            ("events", "payment.accepted"),
            ("modes", "TEST"),
            ("url_test", "http://127.0.0.1:9000/ipn"),
            ("auto_retry", "on"),
            ("enabled", "on"),
        ]))
        .parse(false)
        .unwrap();
        assert_eq!(ok.label, "Shop server");
        assert_eq!(ok.conditions.events, vec![EventType::PaymentAccepted, EventType::PaymentRefused]);
        assert_eq!(ok.url_test.as_deref(), Some("http://127.0.0.1:9000/ipn"));
        assert!(ok.auto_retry && ok.enabled && !ok.conditions.from_order_only);

        let codes = |raw: RawRule| -> Vec<(&'static str, &'static str)> {
            raw.parse(false).unwrap_err().into_iter().map(|e| (e.field, e.code)).collect()
        };
        let bad = RawRule::from_pairs(&pairs(&[
            ("kind", "URL"),
            ("modes", "TEST"),
            ("modes", "PRODUCTION"),
            ("url_test", "http://169.254.169.254/latest"),
            ("url_production", "http://127.0.0.1/ipn"),
            ("failure_email", "not-an-email"),
        ]));
        assert_eq!(
            codes(bad),
            vec![
                ("label", "rule.label_missing"),
                ("events", "rule.events_missing"),
                ("failure_email", "field.email.invalid"),
                ("url_test", "webhook.target_link_local"),
                ("url_production", "webhook.target_loopback"),
            ]
        );
        let no_url = RawRule { label: "x".into(), ..RawRule::blank() };
        assert_eq!(codes(no_url), vec![("url_test", "webhook.url_missing")]);
        let private = RawRule { label: "x".into(), url_test: "http://10.0.0.5/ipn".into(), ..RawRule::blank() };
        assert_eq!(codes(private.clone()), vec![("url_test", "webhook.target_private")]);
        assert!(private.parse(true).is_ok());
        // An e-mail rule keeps no URL.
        let mail = RawRule {
            kind: "MERCHANT_EMAIL".into(),
            label: "x".into(),
            url_test: "http://a.example/".into(),
            ..RawRule::blank()
        };
        assert_eq!(mail.parse(false).unwrap().url_test, None);
    }
}
