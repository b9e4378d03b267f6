//! A payment order as typed (form or API), parsed into a draft the services accept. Every
//! refusal names its field; the seed's incompatibilities are enforced here.

use chrono::NaiveDate;
use serde::Deserialize;

use super::FieldError;
use super::money::{Currency, Money};
use super::order::{self, AliasMode, Channel, Reference};
use super::shop::{MAX_CAPTURE_DELAY_DAYS, ShopSettings, ThreeDsPreference, ValidationMode};
use super::template;
use super::text::is_email;
use crate::i18n::Lang;

/// How the amount arrived: typed by a person, or in minor units from the API.
#[derive(Debug, Clone)]
pub enum AmountInput {
    Decimal(String),
    Minor(i64),
}

impl Default for AmountInput {
    fn default() -> Self {
        AmountInput::Decimal(String::new())
    }
}

/// How the end of validity arrived: a date, or (API) an instant whose local date is used.
#[derive(Debug, Clone, Default)]
pub enum ExpiresInput {
    #[default]
    Default,
    Date(String),
    Instant(String),
}

/// The raw order. Form fields (DESIGN §4) map one to one; absent means "the shop default".
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawOrder {
    #[serde(default)]
    pub reference: String,
    #[serde(skip)]
    pub amount: AmountInput,
    #[serde(default)]
    pub currency: String,
    #[serde(skip)]
    pub expires: ExpiresInput,
    #[serde(default)]
    pub validation_mode: String,
    #[serde(default)]
    pub capture_delay_days: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub alias_mode: String,
    #[serde(default)]
    pub three_ds: String,
    #[serde(default)]
    pub buyer_email: String,
    /// The restrictive end of an instalment schedule (a date), or empty.
    #[serde(default)]
    pub instalments_until: String,
    #[serde(default)]
    pub use_collection_form: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub phone: String,
    /// E-mail only: send a hidden copy to the shop's contact address.
    #[serde(default)]
    pub bcc_shop: bool,
    /// E-mail only: another hidden-copy address.
    #[serde(default)]
    pub bcc_other: String,
    /// The payment service the order is paid through (`payzen|mollie|payplug|wallet`), or
    /// empty: the shop's default.
    #[serde(default)]
    pub payment_service: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderDraft {
    pub channel: Channel,
    pub reference: Option<Reference>,
    pub amount: Money,
    pub language: &'static str,
    pub validation_mode: ValidationMode,
    pub capture_delay_days: i32,
    pub expires_on: NaiveDate,
    pub alias_mode: AliasMode,
    pub three_ds: ThreeDsPreference,
    pub buyer_email: Option<String>,
    pub instalments_until: Option<NaiveDate>,
    pub use_collection_form: bool,
    pub description: Option<String>,
    /// One order per recipient: e-mail addresses, or one E.164 phone number.
    pub recipients: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    /// The message with its `%variables%` (HTML for e-mail, text otherwise).
    pub message: Option<String>,
    /// Paid through this service only; None: the shop's default (and the card form in TEST).
    pub payment_service: Option<super::payment_service::Service>,
}

fn or_default<'a>(raw: &'a str, default: &'a str) -> &'a str {
    if raw.trim().is_empty() { default } else { raw.trim() }
}

/// E-mail addresses separated by `;` (or `,`), each checked; duplicates kept out.
pub fn parse_recipients(raw: &str, field: &'static str) -> Result<Vec<String>, FieldError> {
    let mut out: Vec<String> = Vec::new();
    for part in raw.split([';', ',', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        if !is_email(part) {
            return Err(FieldError::new(field, "recipients.invalid"));
        }
        if !out.iter().any(|o| o.eq_ignore_ascii_case(part)) {
            out.push(part.to_string());
        }
    }
    Ok(out)
}

impl OrderDraft {
    /// `today` and `created` are dates in the shop's zone (creation: today; modification: the
    /// order's creation day, which bounds the three months).
    pub fn parse(
        raw: &RawOrder,
        channel: Channel,
        shop: &ShopSettings,
        today: NaiveDate,
        created: NaiveDate,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let d = &shop.defaults;
        let mandatory = d.reference_mandatory || channel == Channel::Invoice;
        let reference = Reference::parse_optional(&raw.reference, mandatory).map_err(|e| errors.push(e)).ok().flatten();

        let currency = Currency::parse(or_default(&raw.currency, "EUR")).map_err(|e| errors.push(e)).ok();
        let amount = currency.and_then(|c| {
            match &raw.amount {
                AmountInput::Decimal(s) => Money::parse(s, c),
                AmountInput::Minor(m) => Money::from_minor(*m, c),
            }
            .map_err(|e| errors.push(e))
            .ok()
        });

        let validation_mode = ValidationMode::parse(or_default(&raw.validation_mode, d.validation_mode.as_str()));
        if validation_mode.is_none() {
            errors.push(FieldError::new("validation_mode", "field.choice.invalid"));
        }
        let delay_text = raw.capture_delay_days.trim();
        let capture_delay_days = if delay_text.is_empty() {
            d.capture_delay_days
        } else {
            match delay_text.parse::<i32>() {
                Ok(n) if (0..=MAX_CAPTURE_DELAY_DAYS).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new("capture_delay_days", "shop.capture_delay.invalid"));
                    0
                }
            }
        };
        let language = match Lang::ALL.into_iter().find(|l| l.code() == or_default(&raw.language, "fr")) {
            Some(l) => l.code(),
            None => {
                errors.push(FieldError::new("language", "field.choice.invalid"));
                "fr"
            }
        };
        let expires_on = match &raw.expires {
            ExpiresInput::Default => Some(order::default_end_date(today, d.validity_days)),
            ExpiresInput::Date(s) if s.trim().is_empty() => Some(order::default_end_date(today, d.validity_days)),
            ExpiresInput::Date(s) => order::parse_end_date(s, today, created).map_err(|e| errors.push(e)).ok(),
            ExpiresInput::Instant(s) => match chrono::DateTime::parse_from_rfc3339(s.trim()) {
                Ok(t) => {
                    let local = t.with_timezone(&shop.time_zone).date_naive();
                    order::parse_end_date(&local.format("%Y-%m-%d").to_string(), today, created)
                        .map_err(|e| errors.push(FieldError::new("expires_at", e.code)))
                        .ok()
                }
                Err(_) => {
                    errors.push(FieldError::new("expires_at", "expires_on.invalid"));
                    None
                }
            },
        };

        let mut alias_mode = AliasMode::parse(or_default(&raw.alias_mode, "NONE"));
        if alias_mode.is_none() {
            errors.push(FieldError::new("alias_mode", "field.choice.invalid"));
        }
        let use_collection_form = raw.use_collection_form;
        if alias_mode.is_some_and(|a| a != AliasMode::None) {
            if use_collection_form {
                errors.push(FieldError::new("alias_mode", "order.alias_with_collection_form"));
            }
            if channel == Channel::Invoice {
                errors.push(FieldError::new("alias_mode", "order.alias_with_invoice"));
                alias_mode = Some(AliasMode::None);
            }
        }
        let mut three_ds = ThreeDsPreference::parse(or_default(&raw.three_ds, d.three_ds.as_str()));
        if three_ds.is_none() {
            errors.push(FieldError::new("three_ds", "field.choice.invalid"));
        }
        // Saving a card needs strong authentication (PSD2): the preference is fixed.
        if alias_mode.is_some_and(|a| a != AliasMode::None) {
            three_ds = Some(ThreeDsPreference::Challenge);
        }

        let buyer_email = match raw.buyer_email.trim() {
            "" => None,
            e if is_email(e) => Some(e.to_string()),
            _ => {
                errors.push(FieldError::new("buyer_email", "field.email.invalid"));
                None
            }
        };
        // A saved card belongs to a buyer, known by e-mail: the order must name one (an e-mail
        // order names its recipient).
        if alias_mode.is_some_and(|a| a != AliasMode::None) && buyer_email.is_none() && channel != Channel::Email {
            errors.push(FieldError::new("buyer_email", "order.alias_needs_email"));
        }
        // An invoice is never paid in instalments (seed 002): no end date to give it.
        let instalments_until = match raw.instalments_until.trim() {
            "" => None,
            _ if channel == Channel::Invoice => {
                errors.push(FieldError::new("instalments_until", "order.instalments_with_invoice"));
                None
            }
            s => match NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")) {
                Ok(d) if d <= today => {
                    errors.push(FieldError::new("instalments_until", "order.instalments_until.past"));
                    None
                }
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(FieldError::new("instalments_until", "expires_on.invalid"));
                    None
                }
            },
        };
        let description = match raw.description.trim() {
            "" => None,
            s if s.chars().count() <= 500 => Some(s.to_string()),
            _ => {
                errors.push(FieldError::new("description", "field.too_long"));
                None
            }
        };

        let mut recipients = Vec::new();
        let mut bcc = Vec::new();
        let mut subject = None;
        let mut message = None;
        match channel {
            Channel::Email => {
                match parse_recipients(&raw.recipients, "recipients") {
                    Ok(r) if r.is_empty() => errors.push(FieldError::new("recipients", "field.required")),
                    Ok(r) => recipients = r,
                    Err(e) => errors.push(e),
                }
                if raw.bcc_shop {
                    bcc.push(shop.contact_email.clone());
                }
                match parse_recipients(&raw.bcc_other, "bcc_other") {
                    Ok(r) => bcc.extend(r),
                    Err(e) => errors.push(e),
                }
                subject = template::check_subject(&raw.subject).map_err(|e| errors.push(e)).ok();
                if raw.message.trim().is_empty() {
                    errors.push(FieldError::new("message", "field.required"));
                } else if raw.message.len() > 100_000 {
                    errors.push(FieldError::new("message", "field.too_long"));
                } else {
                    message = Some(template::sanitize_body(&raw.message));
                }
            }
            Channel::Sms => {
                match super::sms::parse_phone(&raw.phone) {
                    Ok(p) => recipients.push(p),
                    Err(e) => errors.push(e),
                }
                let text = if raw.message.trim().is_empty() {
                    template::default_sms(Lang::parse(language).unwrap_or(Lang::Fr)).to_string()
                } else {
                    template::with_url(raw.message.trim())
                };
                match super::sms::check_text(&text) {
                    Ok(()) => message = Some(text),
                    Err(e) => errors.push(e),
                }
            }
            Channel::Url => {
                let text = if raw.message.trim().is_empty() {
                    template::default_url_text(Lang::parse(language).unwrap_or(Lang::Fr)).to_string()
                } else {
                    template::with_url(raw.message.trim())
                };
                if text.chars().count() > 2000 {
                    errors.push(FieldError::new("message", "field.too_long"));
                }
                message = Some(text);
            }
            Channel::Invoice => {
                if use_collection_form {
                    // An invoice is always paid through the collection form; the flag is implied.
                }
            }
        }
        let payment_service = match raw.payment_service.trim() {
            "" => None,
            typed => {
                let s = super::payment_service::Service::parse(typed);
                if s.is_none() {
                    errors.push(FieldError::new("payment_service", "service.unknown"));
                }
                s
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(OrderDraft {
            payment_service,
            channel,
            reference,
            amount: amount.expect("checked"),
            language,
            validation_mode: validation_mode.expect("checked"),
            capture_delay_days,
            expires_on: expires_on.expect("checked"),
            alias_mode: alias_mode.expect("checked"),
            three_ds: three_ds.expect("checked"),
            buyer_email,
            instalments_until,
            use_collection_form: use_collection_form || channel == Channel::Invoice,
            description,
            recipients,
            bcc,
            subject,
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::shop::OrderDefaults;

    fn shop() -> ShopSettings {
        ShopSettings {
            label: "Shop".into(),
            url: "https://shop.example".into(),
            contact_email: "shop@example.com".into(),
            time_zone: chrono_tz::Europe::Paris,
            defaults: OrderDefaults::default(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    fn raw(amount: &str) -> RawOrder {
        RawOrder { amount: AmountInput::Decimal(amount.into()), ..Default::default() }
    }

    fn fields(r: Result<OrderDraft, Vec<FieldError>>) -> Vec<(&'static str, &'static str)> {
        r.unwrap_err().into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_url_order_takes_the_shop_defaults() {
        let d = OrderDraft::parse(&raw("15,00"), Channel::Url, &shop(), today(), today()).unwrap();
        assert_eq!(d.amount.minor, 1500);
        assert_eq!(d.expires_on, NaiveDate::from_ymd_opt(2026, 7, 15).unwrap());
        assert_eq!(d.validation_mode, ValidationMode::Auto);
        assert!(d.message.unwrap().starts_with("Je règle %amount%"));
        assert_eq!(d.reference, None);
    }

    #[test]
    fn the_seed_incompatibilities_are_enforced() {
        let buyer = || "jane@example.com".to_string();
        let r = RawOrder { alias_mode: "PROPOSE".into(), use_collection_form: true, buyer_email: buyer(), ..raw("10") };
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Url, &shop(), today(), today())),
            [("alias_mode", "order.alias_with_collection_form")]
        );
        let r = RawOrder { alias_mode: "AUTO".into(), ..raw("10") };
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Url, &shop(), today(), today())),
            [("buyer_email", "order.alias_needs_email")],
            "a saved card needs a buyer to belong to"
        );
        let r =
            RawOrder { alias_mode: "AUTO".into(), three_ds: "FRICTIONLESS".into(), buyer_email: buyer(), ..raw("10") };
        let d = OrderDraft::parse(&r, Channel::Url, &shop(), today(), today()).unwrap();
        assert_eq!(d.three_ds, ThreeDsPreference::Challenge, "alias forces the challenge");
        let r = raw("10");
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Invoice, &shop(), today(), today())),
            [("reference", "field.required")]
        );
        let r = RawOrder { reference: "F-1".into(), alias_mode: "PROPOSE".into(), ..raw("10") };
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Invoice, &shop(), today(), today())),
            [("alias_mode", "order.alias_with_invoice")]
        );
        let mut s = shop();
        s.defaults.reference_mandatory = true;
        assert_eq!(
            fields(OrderDraft::parse(&raw("10"), Channel::Url, &s, today(), today())),
            [("reference", "field.required")]
        );
    }

    #[test]
    fn email_orders_need_recipients_a_subject_and_a_message() {
        let r = RawOrder { recipients: "a@example.com; nope".into(), ..raw("10") };
        let errs = fields(OrderDraft::parse(&r, Channel::Email, &shop(), today(), today()));
        assert_eq!(
            errs,
            [("recipients", "recipients.invalid"), ("subject", "field.required"), ("message", "field.required")]
        );
        let r = RawOrder {
            recipients: "a@example.com;b@example.com;A@example.com".into(),
            subject: "Pay".into(),
            message: "<p>Hello</p><script>x</script>".into(),
            bcc_shop: true,
            bcc_other: "boss@example.com".into(),
            ..raw("10")
        };
        let d = OrderDraft::parse(&r, Channel::Email, &shop(), today(), today()).unwrap();
        assert_eq!(d.recipients, ["a@example.com", "b@example.com"]);
        assert_eq!(d.bcc, ["shop@example.com", "boss@example.com"]);
        assert_eq!(d.message.as_deref(), Some("<p>Hello</p>\n<p>%url%</p>"));
    }

    #[test]
    fn sms_orders_need_a_phone_and_at_most_500_characters() {
        let r = RawOrder { phone: "0612345678".into(), ..raw("10") };
        let d = OrderDraft::parse(&r, Channel::Sms, &shop(), today(), today()).unwrap();
        assert_eq!(d.recipients, ["+33612345678"]);
        assert!(d.message.unwrap().contains("%url%"));
        let r = RawOrder { phone: "12".into(), message: "x".repeat(501), ..raw("10") };
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Sms, &shop(), today(), today())),
            [("phone", "phone.invalid"), ("message", "sms.too_long")]
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let r = RawOrder {
            reference: "bad ref".into(),
            amount: AmountInput::Decimal("15,001".into()),
            expires: ExpiresInput::Date("2027-01-01".into()),
            validation_mode: "NEVER".into(),
            capture_delay_days: "400".into(),
            language: "xx".into(),
            three_ds: "MAYBE".into(),
            buyer_email: "x".into(),
            ..Default::default()
        };
        let errs = fields(OrderDraft::parse(&r, Channel::Url, &shop(), today(), today()));
        let names: Vec<_> = errs.iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            [
                "reference",
                "amount",
                "validation_mode",
                "capture_delay_days",
                "language",
                "expires_on",
                "three_ds",
                "buyer_email"
            ]
        );
        let r = RawOrder { currency: "XXX1".into(), ..raw("10") };
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Url, &shop(), today(), today())),
            [("currency", "currency.invalid")]
        );
    }

    #[test]
    fn api_instants_become_the_local_end_date() {
        let r = RawOrder {
            amount: AmountInput::Minor(1500),
            expires: ExpiresInput::Instant("2026-07-01T23:30:00Z".into()),
            ..Default::default()
        };
        let d = OrderDraft::parse(&r, Channel::Url, &shop(), today(), today()).unwrap();
        assert_eq!(d.expires_on, NaiveDate::from_ymd_opt(2026, 7, 2).unwrap(), "01:30 in Paris is the 2nd");
        let r = RawOrder { amount: AmountInput::Minor(0), ..Default::default() };
        assert_eq!(
            fields(OrderDraft::parse(&r, Channel::Url, &shop(), today(), today())),
            [("amount", "amount.out_of_range")]
        );
    }
}
