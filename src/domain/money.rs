//! Money: integer minor units plus an ISO 4217 currency whose exponent comes from the
//! rusty-money currency table (EUR 2, JPY 0, BHD 3). Amounts typed by people accept `15,00`
//! and `15.00`; anything that would need rounding is refused, never rounded.

use serde::Serialize;

use super::FieldError;
use crate::i18n::Lang;

/// 1 to 99,999,999,999 minor units: exact in every JSON client.
pub const MIN_MINOR: i64 = 1;
pub const MAX_MINOR: i64 = 99_999_999_999;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Currency(&'static str);

impl Currency {
    pub const EUR: Currency = Currency("EUR");

    /// An active ISO 4217 code, upper or lower case.
    pub fn parse(code: &str) -> Result<Self, FieldError> {
        let code = code.trim().to_ascii_uppercase();
        rusty_money::iso::find(&code)
            .map(|c| Currency(c.iso_alpha_code))
            .ok_or(FieldError::new("currency", "currency.invalid"))
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    /// Digits after the decimal separator.
    pub fn exponent(self) -> u32 {
        rusty_money::iso::find(self.0).map(|c| c.exponent).unwrap_or(2)
    }

    /// The currencies offered in forms: the common ones first.
    pub fn common() -> &'static [&'static str] {
        &["EUR", "USD", "GBP", "CHF", "CAD", "JPY", "XOF", "XPF", "MAD", "TND", "BHD"]
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// `self - other` in the same currency, never below zero. None: another currency, or
    /// more than `self`.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        let minor = self.minor.checked_sub(other.minor).filter(|m| *m >= 0)?;
        Some(Money { minor, currency: self.currency })
    }

    /// `self + other` in the same currency. None: another currency, or an overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money { minor: self.minor.checked_add(other.minor)?, currency: self.currency })
    }

    /// An amount from the API: already in minor units, range-checked.
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, FieldError> {
        if (MIN_MINOR..=MAX_MINOR).contains(&minor) {
            Ok(Money { minor, currency })
        } else {
            Err(FieldError::new("amount", "amount.out_of_range"))
        }
    }

    /// An amount typed by a person: `15`, `15,5`, `15.50`, `1 234,56`, with at most the
    /// currency's number of decimals.
    pub fn parse(raw: &str, currency: Currency) -> Result<Self, FieldError> {
        let invalid = || FieldError::new("amount", "amount.invalid");
        let cleaned: String = raw.trim().chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
        if cleaned.is_empty() {
            return Err(FieldError::new("amount", "field.required"));
        }
        let (units, decimals) = match cleaned.find([',', '.']) {
            Some(at) => (&cleaned[..at], &cleaned[at + 1..]),
            None => (cleaned.as_str(), ""),
        };
        if units.is_empty()
            || !units.chars().all(|c| c.is_ascii_digit())
            || !decimals.chars().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        if cleaned.contains([',', '.']) && decimals.is_empty() {
            return Err(invalid());
        }
        let exponent = currency.exponent() as usize;
        if decimals.len() > exponent {
            return Err(FieldError::new("amount", "amount.too_many_decimals"));
        }
        if units.len() > 15 {
            return Err(FieldError::new("amount", "amount.out_of_range"));
        }
        let units: i64 = units.parse().map_err(|_| invalid())?;
        let mut frac: i64 = if decimals.is_empty() { 0 } else { decimals.parse().map_err(|_| invalid())? };
        for _ in decimals.len()..exponent {
            frac *= 10;
        }
        let minor = units
            .checked_mul(10i64.pow(exponent as u32))
            .and_then(|u| u.checked_add(frac))
            .ok_or(FieldError::new("amount", "amount.out_of_range"))?;
        Money::from_minor(minor, currency)
    }

    /// The amount as a decimal string with `sep` (`15,00` or `15.00`), no currency.
    pub fn decimal(&self, sep: char) -> String {
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return self.minor.to_string();
        }
        let factor = 10i64.pow(exponent);
        format!("{}{sep}{:0width$}", self.minor / factor, self.minor % factor, width = exponent as usize)
    }

    /// For people: `15,00 EUR` in French, `15.00 EUR` in English.
    /// For people, as each language writes money: `1 250,00 €` in French, `€1,250.00` in
    /// English, `1.250,00 €` in German, Spanish and Italian. Currencies with no symbol
    /// every reader knows keep their ISO code (`1 250,00 CHF`, `CHF 1,250.00`).
    pub fn display(&self, lang: Lang) -> String {
        let (group, decimal) = match lang {
            Lang::Fr => ('\u{202f}', ','),
            Lang::En => (',', '.'),
            Lang::De | Lang::Es | Lang::It => ('.', ','),
        };
        let number = self.grouped(group, decimal);
        let symbol = match self.currency.code() {
            "EUR" => "€",
            "USD" => "$",
            "GBP" => "£",
            "JPY" => "¥",
            code => code,
        };
        match lang {
            Lang::En if symbol.chars().count() == 1 => format!("{symbol}{number}"),
            Lang::En => format!("{symbol}\u{a0}{number}"),
            _ => format!("{number}\u{a0}{symbol}"),
        }
    }

    /// For logs and audit details: `1250.00 EUR`.
    pub fn plain(&self) -> String {
        format!("{} {}", self.decimal('.'), self.currency)
    }

    /// The amount with its thousands grouped: `1.250,00`.
    fn grouped(&self, group: char, decimal: char) -> String {
        let text = self.decimal(decimal);
        let (units, rest) = text.split_at(text.find(decimal).unwrap_or(text.len()));
        let mut out = String::with_capacity(text.len() + units.len() / 3 * 3);
        for (i, digit) in units.chars().enumerate() {
            if i > 0 && (units.len() - i) % 3 == 0 {
                out.push(group);
            }
            out.push(digit);
        }
        out + rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(raw: &str) -> Result<i64, &'static str> {
        Money::parse(raw, Currency::EUR).map(|m| m.minor).map_err(|e| e.code)
    }

    #[test]
    fn comma_and_dot_are_both_decimal_separators() {
        assert_eq!(eur("15,00"), Ok(1500));
        assert_eq!(eur("15.00"), Ok(1500));
        assert_eq!(eur("15"), Ok(1500));
        assert_eq!(eur("15,5"), Ok(1550));
        assert_eq!(eur(" 1 234,56 "), Ok(123456));
        assert_eq!(eur("0,01"), Ok(1));
    }

    #[test]
    fn nothing_is_rounded_and_garbage_is_refused() {
        assert_eq!(eur("15,001"), Err("amount.too_many_decimals"));
        assert_eq!(eur("0"), Err("amount.out_of_range"));
        assert_eq!(eur("0,00"), Err("amount.out_of_range"));
        assert_eq!(eur("-5"), Err("amount.invalid"));
        assert_eq!(eur("1e3"), Err("amount.invalid"));
        assert_eq!(eur("15,"), Err("amount.invalid"));
        assert_eq!(eur(",5"), Err("amount.invalid"));
        assert_eq!(eur("1.234,56"), Err("amount.invalid"));
        assert_eq!(eur("abc"), Err("amount.invalid"));
        assert_eq!(eur(""), Err("field.required"));
        assert_eq!(eur("999999999,99"), Ok(99_999_999_999));
        assert_eq!(eur("1000000000"), Err("amount.out_of_range"));
        assert_eq!(eur("99999999999999999999"), Err("amount.out_of_range"));
    }

    #[test]
    fn the_currency_exponent_comes_from_the_table() {
        let jpy = Currency::parse("jpy").unwrap();
        assert_eq!(jpy.exponent(), 0);
        assert_eq!(Money::parse("1500", jpy).unwrap().minor, 1500);
        assert_eq!(Money::parse("15,5", jpy).unwrap_err().code, "amount.too_many_decimals");
        let bhd = Currency::parse("BHD").unwrap();
        assert_eq!(bhd.exponent(), 3);
        assert_eq!(Money::parse("1,234", bhd).unwrap().minor, 1234);
        assert_eq!(Money::parse("1,5", bhd).unwrap().minor, 1500);
        assert_eq!(Currency::parse("XYZ").unwrap_err().field, "currency");
        assert_eq!(Currency::parse("").unwrap_err().code, "currency.invalid");
    }

    #[test]
    fn amounts_display_per_language() {
        let m = Money::from_minor(123456, Currency::EUR).unwrap();
        assert_eq!(m.display(Lang::Fr), "1\u{202f}234,56\u{a0}€");
        assert_eq!(m.display(Lang::En), "€1,234.56");
        assert_eq!(m.display(Lang::De), "1.234,56\u{a0}€");
        assert_eq!(m.plain(), "1234.56 EUR");
        let big = Money::from_minor(12_345_678_901, Currency::EUR).unwrap();
        assert_eq!(big.display(Lang::En), "€123,456,789.01");
        assert_eq!(Money::from_minor(99_999, Currency::EUR).unwrap().display(Lang::En), "€999.99");
        let chf = Money::from_minor(125_000, Currency::parse("CHF").unwrap()).unwrap();
        assert_eq!(chf.display(Lang::En), "CHF\u{a0}1,250.00");
        assert_eq!(chf.display(Lang::It), "1.250,00\u{a0}CHF");
        assert_eq!(Money::from_minor(5, Currency::EUR).unwrap().decimal(','), "0,05");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(Money::from_minor(1500, jpy).unwrap().display(Lang::En), "¥1,500");
        assert!(Money::from_minor(0, jpy).is_err());
        assert!(Money::from_minor(MAX_MINOR + 1, jpy).is_err());
    }

    #[test]
    fn arithmetic_is_checked_and_keeps_the_currency() {
        let eur = |minor| Money { minor, currency: Currency::EUR };
        let usd = Money { minor: 100, currency: Currency::parse("USD").unwrap() };
        assert_eq!(eur(1500).checked_sub(eur(500)), Some(eur(1000)));
        assert_eq!(eur(1500).checked_sub(eur(1500)), Some(eur(0)));
        assert_eq!(eur(1500).checked_sub(eur(1501)), None, "never below zero");
        assert_eq!(eur(1500).checked_sub(usd), None, "another currency");
        assert_eq!(eur(1).checked_add(eur(2)), Some(eur(3)));
        assert_eq!(eur(i64::MAX).checked_add(eur(1)), None);
        assert_eq!(eur(1).checked_add(usd), None);
    }
}
