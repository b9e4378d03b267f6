//! Card data as typed on the pay page, parsed at the edge. The number lives only in a
//! `CardNumber` for the time of one call to the acquirer; everything stored or shown uses
//! `masked()` (BIN and last four digits) — never the full number, never the CVV.

use chrono::{Datelike, NaiveDate};

use super::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Brand {
    Visa,
    Mastercard,
    Amex,
    /// A French CB card co-badged Visa.
    CbVisa,
    /// A French CB card co-badged Mastercard.
    CbMastercard,
}

impl Brand {
    pub fn label(self) -> &'static str {
        match self {
            Brand::Visa => "Visa",
            Brand::Mastercard => "Mastercard",
            Brand::Amex => "American Express",
            Brand::CbVisa => "CB / Visa",
            Brand::CbMastercard => "CB / Mastercard",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Brand::Visa => "VISA",
            Brand::Mastercard => "MASTERCARD",
            Brand::Amex => "AMEX",
            Brand::CbVisa => "CB_VISA",
            Brand::CbMastercard => "CB_MASTERCARD",
        }
    }

    pub fn cvv_len(self) -> usize {
        if self == Brand::Amex { 4 } else { 3 }
    }
}

/// Luhn's checksum over ASCII digits.
/// A card as a buyer's pages and e-mails show it: its last four digits only
/// (`•••• 0006`), whether given the masked number (`497010******0006`) or the digits.
pub fn last_four(masked: &str) -> String {
    let digits: Vec<char> = masked.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("•••• {last}")
}

pub fn luhn(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(c - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// The brand from the leading digits (IIN ranges), with the French CB co-badging of the
/// BINs paylink knows as CB.
pub fn brand(digits: &str) -> Option<Brand> {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    let cb = digits.starts_with("4970") || digits.starts_with("5970") || digits.starts_with("4973");
    match (prefix(1), prefix(2), prefix(4)) {
        (Some(4), _, _) => Some(if cb { Brand::CbVisa } else { Brand::Visa }),
        (_, Some(34 | 37), _) if digits.len() == 15 => Some(Brand::Amex),
        (_, Some(51..=55), _) | (_, _, Some(2221..=2720)) => {
            Some(if cb { Brand::CbMastercard } else { Brand::Mastercard })
        }
        (_, _, Some(5970)) => Some(Brand::CbMastercard),
        _ => None,
    }
}

/// A card number that passed Luhn and has a known brand. Not `Debug`-printable in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber {
    digits: String,
    brand: Brand,
}

impl std::fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

impl CardNumber {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.is_empty() {
            return Err(FieldError::new("card_number", "field.required"));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) || !(12..=19).contains(&digits.len()) || !luhn(&digits) {
            return Err(FieldError::new("card_number", "card.number.invalid"));
        }
        let brand = brand(&digits).ok_or(FieldError::new("card_number", "card.brand.unsupported"))?;
        Ok(CardNumber { digits, brand })
    }

    pub fn brand(&self) -> Brand {
        self.brand
    }

    /// For the acquirer only.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn last4(&self) -> &str {
        &self.digits[self.digits.len() - 4..]
    }

    /// `497010******0006`: the BIN and the last four, nothing else.
    pub fn masked(&self) -> String {
        let n = self.digits.len();
        format!("{}{}{}", &self.digits[..6], "*".repeat(n - 10), &self.digits[n - 4..])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub month: u32,
    pub year: i32,
}

impl Expiry {
    /// `MM` and `YY` or `YYYY`; valid through the last day of the month.
    pub fn parse(month: &str, year: &str, today: NaiveDate) -> Result<Self, FieldError> {
        let month: u32 = month.trim().parse().map_err(|_| FieldError::new("expiry_month", "card.expiry.invalid"))?;
        if !(1..=12).contains(&month) {
            return Err(FieldError::new("expiry_month", "card.expiry.invalid"));
        }
        let year_text = year.trim();
        let mut year: i32 = year_text.parse().map_err(|_| FieldError::new("expiry_year", "card.expiry.invalid"))?;
        if year_text.len() == 2 {
            year += 2000;
        } else if year_text.len() != 4 {
            return Err(FieldError::new("expiry_year", "card.expiry.invalid"));
        }
        if (year, month) < (today.year(), today.month()) {
            return Err(FieldError::new("expiry_year", "card.expiry.past"));
        }
        if year > today.year() + 20 {
            return Err(FieldError::new("expiry_year", "card.expiry.invalid"));
        }
        Ok(Expiry { month, year })
    }

    pub fn display(self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }

    /// The `MM/YY` of [`Expiry::display`] read back (a plan keeps its card's expiry so).
    pub fn from_display(text: &str) -> Option<Expiry> {
        let (m, y) = text.split_once('/')?;
        let (month, year): (u32, i32) = (m.parse().ok()?, y.parse().ok()?);
        ((1..=12).contains(&month) && (0..100).contains(&year)).then_some(Expiry { month, year: 2000 + year })
    }

    /// The last day the card can be used.
    pub fn last_day(self) -> NaiveDate {
        let (y, m) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        NaiveDate::from_ymd_opt(y, m, 1).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX)
    }
}

/// The CVV: checked for shape only, passed to the acquirer, never kept.
pub struct Cvv(String);

impl std::fmt::Debug for Cvv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cvv(***)")
    }
}

impl Cvv {
    pub fn parse(raw: &str, brand: Brand) -> Result<Self, FieldError> {
        let cvv = raw.trim();
        if cvv.len() != brand.cvv_len() || !cvv.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("cvv", "card.cvv.invalid"));
        }
        Ok(Cvv(cvv.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The name on the card: optional, 64 characters at most, and no digits (a card number typed
/// in the wrong field must not end up stored as a name).
pub fn parse_holder(raw: &str) -> Result<Option<String>, FieldError> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > 64 {
        return Err(FieldError::new("holder", "pay.holder.too_long"));
    }
    if name.chars().any(|c| c.is_ascii_digit() || c.is_control()) {
        return Err(FieldError::new("holder", "pay.holder.invalid"));
    }
    Ok(Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buyers_see_the_last_four_digits_only() {
        assert_eq!(last_four("497010******0006"), "•••• 0006");
        assert_eq!(last_four("4970 1000 0000 0014"), "•••• 0014");
        assert_eq!(last_four("12"), "•••• 12");
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    #[test]
    fn every_simulator_card_passes_luhn() {
        for n in [
            "4970100000000006",
            "4970100000000014",
            "4970100000000022",
            "4970100000000030",
            "4970100000000048",
            "4970100000000055",
            "5970100000000003",
        ] {
            assert!(luhn(n), "{n}");
            assert!(CardNumber::parse(n).is_ok(), "{n}");
        }
        assert!(!luhn("4970100000000007"));
        assert!(luhn("4111111111111111"));
        assert!(luhn("378282246310005"));
    }

    #[test]
    fn brands_come_from_the_leading_digits() {
        assert_eq!(brand("4970100000000006"), Some(Brand::CbVisa));
        assert_eq!(brand("5970100000000003"), Some(Brand::CbMastercard));
        assert_eq!(brand("4111111111111111"), Some(Brand::Visa));
        assert_eq!(brand("5555555555554444"), Some(Brand::Mastercard));
        assert_eq!(brand("2223003122003222"), Some(Brand::Mastercard));
        assert_eq!(brand("378282246310005"), Some(Brand::Amex));
        assert_eq!(brand("6011111111111117"), None);
        assert_eq!(CardNumber::parse("6011111111111117").unwrap_err().code, "card.brand.unsupported");
    }

    #[test]
    fn numbers_are_cleaned_checked_and_masked() {
        let c = CardNumber::parse("4970 1000-0000 0006").unwrap();
        assert_eq!(c.masked(), "497010******0006");
        assert_eq!(format!("{c:?}"), "CardNumber(497010******0006)", "Debug never prints it");
        assert_eq!(CardNumber::parse("4970 1000 0000 0007").unwrap_err().code, "card.number.invalid");
        assert_eq!(CardNumber::parse("abcd").unwrap_err().code, "card.number.invalid");
        assert_eq!(CardNumber::parse("").unwrap_err().code, "field.required");
        assert_eq!(CardNumber::parse("4242").unwrap_err().code, "card.number.invalid");
    }

    #[test]
    fn expiry_and_cvv_are_checked() {
        assert_eq!(Expiry::parse("06", "26", today()).unwrap().display(), "06/26", "this month is still valid");
        assert_eq!(Expiry::parse("5", "2026", today()).unwrap_err().code, "card.expiry.past");
        assert_eq!(Expiry::parse("13", "2027", today()).unwrap_err().code, "card.expiry.invalid");
        assert_eq!(Expiry::parse("12", "2", today()).unwrap_err().code, "card.expiry.invalid");
        assert_eq!(Expiry::parse("12", "2099", today()).unwrap_err().code, "card.expiry.invalid");
        assert!(Cvv::parse("123", Brand::Visa).is_ok());
        assert_eq!(Cvv::parse("12", Brand::Visa).unwrap_err().code, "card.cvv.invalid");
        assert!(Cvv::parse("1234", Brand::Amex).is_ok());
        assert!(Cvv::parse("123", Brand::Amex).is_err());
        assert!(Cvv::parse("12a", Brand::Visa).is_err());
    }

    #[test]
    fn holder_names_are_optional_short_and_never_digits() {
        assert_eq!(parse_holder("  ").unwrap(), None);
        assert_eq!(parse_holder(" Jane   Doe ").unwrap().as_deref(), Some("Jane Doe"));
        assert_eq!(parse_holder(&"a".repeat(65)).unwrap_err().code, "pay.holder.too_long");
        assert_eq!(parse_holder("4970 1000 0000 0006").unwrap_err().code, "pay.holder.invalid");
        assert!(parse_holder("Zoë O'Brien-Łukasz").is_ok());
    }
}
