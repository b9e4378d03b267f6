//! A shop's identity and the defaults its payment orders start from (DESIGN §3).

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::FieldError;
use super::ids::{CompanyId, ShopId};

/// A payment link is valid for at most three months (seed 001, §"durée de validité").
pub const MAX_VALIDITY_DAYS: i32 = 90;
pub const MAX_CAPTURE_DELAY_DAYS: i32 = 365;

/// A shop as the rest of the system sees it.
#[derive(Debug, Clone)]
pub struct Shop {
    pub id: ShopId,
    pub company_id: CompanyId,
    pub slug: String,
    pub settings: ShopSettings,
    pub test_key_hint: String,
    pub production_key_hint: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ValidationMode {
    Auto,
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ThreeDsPreference {
    NoPreference,
    Frictionless,
    Challenge,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text),* }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw.trim() { $($text => Some($ty::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(ValidationMode { Auto = "AUTO", Manual = "MANUAL" });
text_enum!(ThreeDsPreference { NoPreference = "NO_PREFERENCE", Frictionless = "FRICTIONLESS", Challenge = "CHALLENGE" });

/// The defaults a new payment order starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDefaults {
    pub validity_days: i32,
    pub reference_mandatory: bool,
    pub validation_mode: ValidationMode,
    pub capture_delay_days: i32,
    pub three_ds: ThreeDsPreference,
}

impl Default for OrderDefaults {
    fn default() -> Self {
        OrderDefaults {
            validity_days: 30,
            reference_mandatory: false,
            validation_mode: ValidationMode::Auto,
            capture_delay_days: 0,
            three_ds: ThreeDsPreference::NoPreference,
        }
    }
}

/// The settings page as typed, before parsing.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawShopSettings {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub contact_email: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub validity_days: String,
    /// A checkbox: present ("on", "true") or absent.
    #[serde(default)]
    pub reference_mandatory: Option<String>,
    #[serde(default)]
    pub validation_mode: String,
    #[serde(default)]
    pub capture_delay_days: String,
    #[serde(default)]
    pub three_ds: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopSettings {
    pub label: String,
    pub url: String,
    pub contact_email: String,
    pub time_zone: Tz,
    pub defaults: OrderDefaults,
}

impl ShopSettings {
    /// Parses every field and reports every refusal at once, each next to its field.
    pub fn parse(raw: &RawShopSettings) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let label = raw.label.trim().to_string();
        if label.is_empty() || label.chars().count() > 80 {
            errors.push(FieldError::new("label", "shop.label.invalid"));
        }
        let url = raw.url.trim().to_string();
        if !url.is_empty() && !is_web_url(&url) {
            errors.push(FieldError::new("url", "shop.url.invalid"));
        }
        let contact_email = raw.contact_email.trim().to_string();
        if !super::text::is_email(&contact_email) {
            errors.push(FieldError::new("contact_email", "field.email.invalid"));
        }
        let time_zone = raw.time_zone.trim().parse::<Tz>().map_err(|_| ()).ok();
        if time_zone.is_none() {
            errors.push(FieldError::new("time_zone", "shop.time_zone.invalid"));
        }
        let validity_days = match raw.validity_days.trim().parse::<i32>() {
            Ok(d) if (1..=MAX_VALIDITY_DAYS).contains(&d) => d,
            _ => {
                errors.push(FieldError::new("validity_days", "shop.validity_days.invalid"));
                0
            }
        };
        let capture_delay_days = match raw.capture_delay_days.trim().parse::<i32>() {
            Ok(d) if (0..=MAX_CAPTURE_DELAY_DAYS).contains(&d) => d,
            _ => {
                errors.push(FieldError::new("capture_delay_days", "shop.capture_delay.invalid"));
                0
            }
        };
        let validation_mode = ValidationMode::parse(&raw.validation_mode);
        if validation_mode.is_none() {
            errors.push(FieldError::new("validation_mode", "field.choice.invalid"));
        }
        let three_ds = ThreeDsPreference::parse(&raw.three_ds);
        if three_ds.is_none() {
            errors.push(FieldError::new("three_ds", "field.choice.invalid"));
        }
        let reference_mandatory = match raw.reference_mandatory.as_deref() {
            None | Some("") | Some("false") | Some("off") => false,
            Some("on") | Some("true") | Some("1") => true,
            Some(_) => {
                errors.push(FieldError::new("reference_mandatory", "field.choice.invalid"));
                false
            }
        };
        match (errors.is_empty(), time_zone, validation_mode, three_ds) {
            (true, Some(time_zone), Some(validation_mode), Some(three_ds)) => Ok(ShopSettings {
                label,
                url,
                contact_email,
                time_zone,
                defaults: OrderDefaults {
                    validity_days,
                    reference_mandatory,
                    validation_mode,
                    capture_delay_days,
                    three_ds,
                },
            }),
            _ => Err(errors),
        }
    }
}

fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace) && url.len() <= 255
    })
}

/// URL-safe shop name used in public addresses (`/collect/{slug}`).
pub fn slugify(label: &str) -> String {
    let mut slug = String::new();
    for c in label.trim().chars() {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' | 'À' | 'Â' | 'Ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' => 'e',
            'î' | 'ï' | 'Î' | 'Ï' => 'i',
            'ô' | 'ö' | 'Ô' | 'Ö' => 'o',
            'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'u',
            'ç' | 'Ç' => 'c',
            other => other,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "shop".to_string() } else { slug.chars().take(48).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawShopSettings {
        RawShopSettings {
            label: "Boutique".into(),
            url: "https://shop.example".into(),
            contact_email: "shop@example.com".into(),
            time_zone: "Europe/Paris".into(),
            validity_days: "30".into(),
            reference_mandatory: Some("on".into()),
            validation_mode: "MANUAL".into(),
            capture_delay_days: "3".into(),
            three_ds: "CHALLENGE".into(),
        }
    }

    #[test]
    fn valid_settings_parse_into_types() {
        let s = ShopSettings::parse(&raw()).unwrap();
        assert_eq!(s.time_zone, chrono_tz::Europe::Paris);
        assert!(s.defaults.reference_mandatory);
        assert_eq!(s.defaults.validation_mode, ValidationMode::Manual);
        assert_eq!(s.defaults.capture_delay_days, 3);
        assert_eq!(s.defaults.three_ds, ThreeDsPreference::Challenge);
    }

    #[test]
    fn validity_is_capped_at_three_months() {
        for bad in ["0", "91", "-1", "abc", "", "30.5"] {
            let errs = ShopSettings::parse(&RawShopSettings { validity_days: bad.into(), ..raw() }).unwrap_err();
            assert_eq!(errs, vec![FieldError::new("validity_days", "shop.validity_days.invalid")], "{bad}");
        }
        assert!(ShopSettings::parse(&RawShopSettings { validity_days: "90".into(), ..raw() }).is_ok());
        assert!(ShopSettings::parse(&RawShopSettings { validity_days: " 1 ".into(), ..raw() }).is_ok());
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errs = ShopSettings::parse(&RawShopSettings {
            label: " ".into(),
            url: "javascript:alert(1)".into(),
            contact_email: "nope".into(),
            time_zone: "Mars/Olympus".into(),
            validity_days: "30".into(),
            reference_mandatory: Some("maybe".into()),
            validation_mode: "SOMETIMES".into(),
            capture_delay_days: "366".into(),
            three_ds: "ALWAYS".into(),
        })
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "label",
                "url",
                "contact_email",
                "time_zone",
                "capture_delay_days",
                "validation_mode",
                "three_ds",
                "reference_mandatory"
            ]
        );
    }

    #[test]
    fn unchecked_box_means_not_mandatory_and_url_may_be_empty() {
        let s = ShopSettings::parse(&RawShopSettings { reference_mandatory: None, url: "".into(), ..raw() }).unwrap();
        assert!(!s.defaults.reference_mandatory);
    }

    #[test]
    fn slugs_are_url_safe() {
        assert_eq!(slugify("Café de la Gare"), "cafe-de-la-gare");
        assert_eq!(slugify("  ***  "), "shop");
        assert_eq!(slugify("Démo & Co."), "demo-co");
    }
}
