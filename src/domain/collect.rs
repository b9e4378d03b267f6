//! The shop's data collection form (seed 001 §1.4, §10.2): which buyer fields it asks and
//! which are mandatory, up to three custom fields, and its TEST/PRODUCTION state; and the
//! buyer's answers, parsed at the edge into [`BuyerData`].

use super::FieldError;
use super::text::is_email;

/// A buyer field the form may ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuyerField {
    LastName,
    FirstName,
    Email,
    Phone,
    Address,
    PostalCode,
    City,
    Country,
}

impl BuyerField {
    pub const ALL: [BuyerField; 8] = [
        BuyerField::LastName,
        BuyerField::FirstName,
        BuyerField::Email,
        BuyerField::Phone,
        BuyerField::Address,
        BuyerField::PostalCode,
        BuyerField::City,
        BuyerField::Country,
    ];

    /// The form field's name (DESIGN §4), also its stored column.
    pub fn name(self) -> &'static str {
        match self {
            BuyerField::LastName => "last_name",
            BuyerField::FirstName => "first_name",
            BuyerField::Email => "email",
            BuyerField::Phone => "phone",
            BuyerField::Address => "address",
            BuyerField::PostalCode => "postal_code",
            BuyerField::City => "city",
            BuyerField::Country => "country",
        }
    }

    pub fn parse(name: &str) -> Option<BuyerField> {
        BuyerField::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The longest answer kept.
    fn max_len(self) -> usize {
        match self {
            BuyerField::Email => 254,
            BuyerField::Address => 200,
            BuyerField::PostalCode => 16,
            BuyerField::Phone => 32,
            BuyerField::Country => 64,
            _ => 100,
        }
    }
}

/// Whether the form asks a field, and whether an answer is mandatory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    No,
    Optional,
    Required,
}

impl Ask {
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::No => "no",
            Ask::Optional => "optional",
            Ask::Required => "required",
        }
    }

    pub fn parse(s: &str) -> Option<Ask> {
        match s {
            "no" => Some(Ask::No),
            "optional" => Some(Ask::Optional),
            "required" => Some(Ask::Required),
            _ => None,
        }
    }
}

/// One of the three custom fields (Info 1/2/3), renamed by the merchant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub min_len: u16,
    pub max_len: u16,
}

/// A shop's collection form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSettings {
    pub enabled: bool,
    /// In PRODUCTION once the merchant set it up and put it there (seed 001 §1.4).
    pub production: bool,
    pub title: Option<String>,
    pub intro: Option<String>,
    /// What is asked of each buyer field, in [`BuyerField::ALL`] order.
    pub fields: [Ask; 8],
    pub customs: [Option<CustomField>; 3],
}

impl Default for CollectSettings {
    /// A new shop's form: on, in TEST, asking last name, first name and e-mail (DESIGN §4).
    fn default() -> Self {
        let mut fields = [Ask::No; 8];
        fields[0] = Ask::Required;
        fields[1] = Ask::Required;
        fields[2] = Ask::Required;
        CollectSettings {
            enabled: true,
            production: false,
            title: None,
            intro: None,
            fields,
            customs: [None, None, None],
        }
    }
}

impl CollectSettings {
    pub fn ask(&self, field: BuyerField) -> Ask {
        self.fields[BuyerField::ALL.iter().position(|f| *f == field).unwrap_or(0)]
    }

    /// The fields asked, with whether each is mandatory.
    pub fn asked(&self) -> impl Iterator<Item = (BuyerField, bool)> + '_ {
        BuyerField::ALL.into_iter().filter_map(|f| match self.ask(f) {
            Ask::No => None,
            Ask::Optional => Some((f, false)),
            Ask::Required => Some((f, true)),
        })
    }

    /// The stored form of `fields`: `last_name:required,first_name:optional,…`.
    pub fn fields_text(&self) -> String {
        BuyerField::ALL
            .iter()
            .zip(self.fields)
            .filter(|(_, a)| *a != Ask::No)
            .map(|(f, a)| format!("{}:{}", f.name(), a.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn parse_fields(text: &str) -> [Ask; 8] {
        let mut fields = [Ask::No; 8];
        for part in text.split(',') {
            if let Some((name, ask)) = part.split_once(':')
                && let (Some(f), Some(a)) = (BuyerField::parse(name.trim()), Ask::parse(ask.trim()))
            {
                fields[BuyerField::ALL.iter().position(|x| *x == f).unwrap_or(0)] = a;
            }
        }
        fields
    }
}

/// What a buyer typed on the form, one string per field (missing = empty).
#[derive(Debug, Clone, Default)]
pub struct RawBuyer {
    pub values: Vec<(String, String)>,
}

impl RawBuyer {
    pub fn get(&self, name: &str) -> &str {
        self.values.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// The buyer's answers as kept with the order and its transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct BuyerData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info3: Option<String>,
}

impl BuyerData {
    pub fn slot(&mut self, field: BuyerField) -> &mut Option<String> {
        match field {
            BuyerField::LastName => &mut self.last_name,
            BuyerField::FirstName => &mut self.first_name,
            BuyerField::Email => &mut self.email,
            BuyerField::Phone => &mut self.phone,
            BuyerField::Address => &mut self.address,
            BuyerField::PostalCode => &mut self.postal_code,
            BuyerField::City => &mut self.city,
            BuyerField::Country => &mut self.country,
        }
    }

    pub fn value(&self, field: BuyerField) -> Option<&str> {
        match field {
            BuyerField::LastName => self.last_name.as_deref(),
            BuyerField::FirstName => self.first_name.as_deref(),
            BuyerField::Email => self.email.as_deref(),
            BuyerField::Phone => self.phone.as_deref(),
            BuyerField::Address => self.address.as_deref(),
            BuyerField::PostalCode => self.postal_code.as_deref(),
            BuyerField::City => self.city.as_deref(),
            BuyerField::Country => self.country.as_deref(),
        }
    }

    pub fn info(&self, i: usize) -> Option<&str> {
        [&self.info1, &self.info2, &self.info3].get(i).and_then(|v| v.as_deref())
    }

    /// The answers to the form `s`, or every refusal next to its field: mandatory fields,
    /// the e-mail typed twice the same, lengths. Fields the form does not ask are dropped.
    pub fn parse(s: &CollectSettings, raw: &RawBuyer) -> Result<BuyerData, Vec<FieldError>> {
        let mut data = BuyerData::default();
        let mut errors = Vec::new();
        for (field, required) in s.asked() {
            let value = one_line(raw.get(field.name()));
            if value.is_empty() {
                if required {
                    errors.push(FieldError::new(field.name(), "field.required"));
                }
                continue;
            }
            if value.chars().count() > field.max_len() {
                errors.push(FieldError::new(field.name(), "collect.too_long"));
                continue;
            }
            if field == BuyerField::Email {
                if !is_email(&value) {
                    errors.push(FieldError::new("email", "field.email.invalid"));
                    continue;
                }
                if one_line(raw.get("email_confirm")).to_lowercase() != value.to_lowercase() {
                    errors.push(FieldError::new("email_confirm", "collect.email_mismatch"));
                    continue;
                }
            }
            *data.slot(field) = Some(value);
        }
        const INFO: [&str; 3] = ["info1", "info2", "info3"];
        for (i, custom) in s.customs.iter().enumerate() {
            let Some(c) = custom else { continue };
            let value = one_line(raw.get(INFO[i]));
            let len = value.chars().count();
            if value.is_empty() {
                if c.required {
                    errors.push(FieldError::new(INFO[i], "field.required"));
                }
                continue;
            }
            if len < usize::from(c.min_len) {
                errors.push(FieldError::new(INFO[i], "collect.too_short"));
                continue;
            }
            if len > usize::from(c.max_len) {
                errors.push(FieldError::new(INFO[i], "collect.too_long"));
                continue;
            }
            let slot = match i {
                0 => &mut data.info1,
                1 => &mut data.info2,
                _ => &mut data.info3,
            };
            *slot = Some(value);
        }
        if errors.is_empty() { Ok(data) } else { Err(errors) }
    }
}

/// Trimmed, with control characters (new lines included) made spaces.
fn one_line(raw: &str) -> String {
    raw.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawBuyer {
        RawBuyer { values: pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect() }
    }

    #[test]
    fn a_new_shop_asks_last_name_first_name_and_email_all_mandatory() {
        let s = CollectSettings::default();
        let asked: Vec<_> = s.asked().collect();
        assert_eq!(asked, [(BuyerField::LastName, true), (BuyerField::FirstName, true), (BuyerField::Email, true)]);
        assert!(s.enabled && !s.production);
        assert_eq!(CollectSettings::parse_fields(&s.fields_text()), s.fields);
    }

    #[test]
    fn mandatory_fields_and_the_email_confirmation_are_checked() {
        let s = CollectSettings::default();
        let errors = BuyerData::parse(&s, &raw(&[("last_name", " "), ("first_name", "Jane")])).unwrap_err();
        assert_eq!(
            errors,
            [FieldError::new("last_name", "field.required"), FieldError::new("email", "field.required")]
        );
        let errors = BuyerData::parse(
            &s,
            &raw(&[
                ("last_name", "Doe"),
                ("first_name", "Jane"),
                ("email", "jane@example.com"),
                ("email_confirm", "jan@example.com"),
            ]),
        )
        .unwrap_err();
        assert_eq!(errors, [FieldError::new("email_confirm", "collect.email_mismatch")]);
        let ok = BuyerData::parse(
            &s,
            &raw(&[
                ("last_name", "Doe"),
                ("first_name", "Jane"),
                ("email", "jane@example.com"),
                ("email_confirm", "Jane@Example.com"),
                ("city", "not asked"),
            ]),
        )
        .unwrap();
        assert_eq!((ok.last_name.as_deref(), ok.city.as_deref()), (Some("Doe"), None));
    }

    #[test]
    fn custom_fields_keep_their_lengths() {
        let mut s = CollectSettings { fields: [Ask::No; 8], ..CollectSettings::default() };
        s.customs[1] =
            Some(CustomField { label: "Client no.".into(), hint: None, required: true, min_len: 4, max_len: 6 });
        assert_eq!(BuyerData::parse(&s, &raw(&[])).unwrap_err(), [FieldError::new("info2", "field.required")]);
        assert_eq!(BuyerData::parse(&s, &raw(&[("info2", "123")])).unwrap_err()[0].code, "collect.too_short");
        assert_eq!(BuyerData::parse(&s, &raw(&[("info2", "1234567")])).unwrap_err()[0].code, "collect.too_long");
        assert_eq!(BuyerData::parse(&s, &raw(&[("info2", "12345")])).unwrap().info2.as_deref(), Some("12345"));
    }
}
