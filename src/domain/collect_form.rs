//! The collection form's settings screen as typed (`/settings/collect-form`), parsed into
//! [`CollectSettings`] with every refusal next to its field.

use super::FieldError;
use super::collect::{Ask, BuyerField, CollectSettings, CustomField};

const TITLE_MAX: usize = 80;
const INTRO_MAX: usize = 500;
const LABEL_MAX: usize = 40;
const HINT_MAX: usize = 200;
/// The longest answer a custom field may ask for.
pub const CUSTOM_MAX: u16 = 255;

/// One custom field as typed.
#[derive(Debug, Clone, Default)]
pub struct RawCustom {
    pub label: String,
    pub hint: String,
    pub required: bool,
    pub min: String,
    pub max: String,
}

/// The settings screen as typed: `enabled`, `production` (checkboxes), `title`, `intro`,
/// `field_<name>` = `no|optional|required` per buyer field, `info<i>_label|hint|required|
/// min|max` per custom field.
#[derive(Debug, Clone, Default)]
pub struct RawCollectForm {
    pub enabled: bool,
    pub production: bool,
    pub title: String,
    pub intro: String,
    /// In [`BuyerField::ALL`] order.
    pub fields: [String; 8],
    pub customs: [RawCustom; 3],
}

impl RawCollectForm {
    /// From the posted pairs (a checkbox left unticked is absent).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let ticked = |name: &str| !matches!(get(name).trim(), "" | "off" | "false" | "0");
        let custom = |i: usize| RawCustom {
            label: get(&format!("info{i}_label")),
            hint: get(&format!("info{i}_hint")),
            required: ticked(&format!("info{i}_required")),
            min: get(&format!("info{i}_min")),
            max: get(&format!("info{i}_max")),
        };
        RawCollectForm {
            enabled: ticked("enabled"),
            production: ticked("production"),
            title: get("title"),
            intro: get("intro"),
            fields: BuyerField::ALL.map(|f| get(&format!("field_{}", f.name()))),
            customs: [custom(1), custom(2), custom(3)],
        }
    }

    /// The form as stored, for the screen.
    pub fn of(s: &CollectSettings) -> Self {
        let custom = |c: &Option<CustomField>| match c {
            None => RawCustom { max: CUSTOM_MAX.to_string(), ..Default::default() },
            Some(c) => RawCustom {
                label: c.label.clone(),
                hint: c.hint.clone().unwrap_or_default(),
                required: c.required,
                min: c.min_len.to_string(),
                max: c.max_len.to_string(),
            },
        };
        RawCollectForm {
            enabled: s.enabled,
            production: s.production,
            title: s.title.clone().unwrap_or_default(),
            intro: s.intro.clone().unwrap_or_default(),
            fields: s.fields.map(|a| a.as_str().to_string()),
            customs: [custom(&s.customs[0]), custom(&s.customs[1]), custom(&s.customs[2])],
        }
    }

    /// Every field parsed; every refusal at once, each next to its field. A PRODUCTION form
    /// must be on and ask something (seed 001 §1.4: set up before it goes to production).
    pub fn parse(&self) -> Result<CollectSettings, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = |typed: &str, max: usize, field: &'static str, errors: &mut Vec<FieldError>| {
            let t = typed.trim();
            if t.chars().count() > max {
                errors.push(FieldError::new(field, "field.too_long"));
            }
            (!t.is_empty()).then(|| t.to_string())
        };
        let title = text(&self.title, TITLE_MAX, "title", &mut errors);
        let intro = text(&self.intro, INTRO_MAX, "intro", &mut errors);
        let mut fields = [Ask::No; 8];
        for (i, f) in BuyerField::ALL.iter().enumerate() {
            match Ask::parse(self.fields[i].trim()) {
                Some(a) => fields[i] = a,
                None => errors.push(FieldError::new(field_name(*f), "field.choice.invalid")),
            }
        }
        const NAMES: [[&str; 4]; 3] = [
            ["info1_label", "info1_hint", "info1_min", "info1_max"],
            ["info2_label", "info2_hint", "info2_min", "info2_max"],
            ["info3_label", "info3_hint", "info3_min", "info3_max"],
        ];
        let mut customs = [None, None, None];
        for (i, raw) in self.customs.iter().enumerate() {
            let [label_at, hint_at, min_at, max_at] = NAMES[i];
            let label = text(&raw.label, LABEL_MAX, label_at, &mut errors);
            let hint = text(&raw.hint, HINT_MAX, hint_at, &mut errors);
            let Some(label) = label else { continue };
            let number = |typed: &str, default: u16| match typed.trim() {
                "" => Some(default),
                t => t.parse::<u16>().ok().filter(|n| *n <= CUSTOM_MAX),
            };
            let min = number(&raw.min, 0);
            let max = number(&raw.max, CUSTOM_MAX).filter(|m| *m >= 1);
            if min.is_none() {
                errors.push(FieldError::new(min_at, "collect.length.invalid"));
            }
            match (min, max) {
                (_, None) => errors.push(FieldError::new(max_at, "collect.length.invalid")),
                (Some(min), Some(max)) if min > max => errors.push(FieldError::new(max_at, "collect.length.below_min")),
                _ => {}
            }
            let (min_len, max_len) = (min.unwrap_or(0), max.unwrap_or(CUSTOM_MAX));
            customs[i] = Some(CustomField { label, hint, required: raw.required, min_len, max_len });
        }
        let settings =
            CollectSettings { enabled: self.enabled, production: self.production, title, intro, fields, customs };
        if self.production && (!self.enabled || settings.asked().next().is_none()) {
            errors.push(FieldError::new("production", "collect.production_needs_setup"));
        }
        if errors.is_empty() { Ok(settings) } else { Err(errors) }
    }
}

/// The settings screen's name of a buyer field's select.
pub fn field_name(f: BuyerField) -> &'static str {
    match f {
        BuyerField::LastName => "field_last_name",
        BuyerField::FirstName => "field_first_name",
        BuyerField::Email => "field_email",
        BuyerField::Phone => "field_phone",
        BuyerField::Address => "field_address",
        BuyerField::PostalCode => "field_postal_code",
        BuyerField::City => "field_city",
        BuyerField::Country => "field_country",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        // The first of a name counts: `extra` overrides the defaults after it.
        let mut all = extra.to_vec();
        all.extend_from_slice(&[
            ("enabled", "on"),
            ("field_last_name", "required"),
            ("field_first_name", "optional"),
            ("field_email", "required"),
            ("field_phone", "no"),
            ("field_address", "no"),
            ("field_postal_code", "no"),
            ("field_city", "no"),
            ("field_country", "no"),
        ]);
        all.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_typed_form_becomes_the_settings_and_back() {
        let raw = RawCollectForm::from_pairs(&pairs(&[
            ("title", " Pay your invoice "),
            ("info2_label", "Customer number"),
            ("info2_hint", "On the top right"),
            ("info2_required", "on"),
            ("info2_min", "4"),
            ("info2_max", "10"),
        ]));
        let s = raw.parse().unwrap();
        assert_eq!(s.title.as_deref(), Some("Pay your invoice"));
        assert_eq!(s.ask(BuyerField::FirstName), Ask::Optional);
        assert!(s.customs[0].is_none() && s.customs[2].is_none());
        let c = s.customs[1].as_ref().unwrap();
        assert_eq!((c.label.as_str(), c.required, c.min_len, c.max_len), ("Customer number", true, 4, 10));
        assert_eq!(RawCollectForm::of(&s).parse().unwrap(), s);
    }

    #[test]
    fn refusals_name_their_fields_and_production_needs_a_form_set_up() {
        let raw = RawCollectForm::from_pairs(&pairs(&[
            ("field_city", "sometimes"),
            ("info1_label", "Ref"),
            ("info1_min", "9"),
            ("info1_max", "3"),
            ("info3_label", "X"),
            ("info3_max", "999"),
        ]));
        let fields: Vec<_> = raw.parse().unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["field_city", "info1_max", "info3_max"]);
        let mut off = RawCollectForm::from_pairs(&pairs(&[("production", "on")]));
        off.enabled = false;
        assert_eq!(off.parse().unwrap_err()[0].code, "collect.production_needs_setup");
        let mut nothing = RawCollectForm::from_pairs(&pairs(&[("production", "on")]));
        nothing.fields = std::array::from_fn(|_| "no".to_string());
        assert_eq!(nothing.parse().unwrap_err()[0].code, "collect.production_needs_setup");
        assert!(RawCollectForm::from_pairs(&pairs(&[("production", "on")])).parse().unwrap().production);
    }
}
