//! SMS: length and cost in segments, and phone numbers in E.164.
//! GSM-7 fits 160 characters in one SMS and 153 per part when concatenated (extension
//! characters such as `€` count twice); anything outside GSM-7 switches the whole message
//! to UCS-2: 70, then 67 per part, counted in UTF-16 units (an emoji counts twice).

use serde::{Deserialize, Serialize};

use super::FieldError;

/// An SMS as queued in the outbox: the number and the text, already rendered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SmsPayload {
    pub to: String,
    pub text: String,
}

pub const MAX_CHARS: usize = 500;

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Cost {
    pub encoding: Encoding,
    /// Characters as a person counts them.
    pub chars: usize,
    /// Units the encoding uses (septets or UTF-16 units).
    pub units: usize,
    pub segments: usize,
}

/// The text with ordinary spaces where the amount has no-break ones: those are outside the
/// GSM alphabet and would switch the whole message to 70 characters a part.
pub fn plain_spaces(text: &str) -> String {
    text.replace(['\u{a0}', '\u{202f}'], " ")
}

pub fn cost(text: &str) -> Cost {
    let chars = text.chars().count();
    let gsm_units: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM7_BASIC.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, part) = match gsm_units {
        Some(units) => (Encoding::Gsm7, units, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    Cost { encoding, chars, units, segments }
}

/// The message an SMS will carry: non-empty, at most 500 characters.
pub fn check_text(text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new("message", "field.required"));
    }
    if text.chars().count() > MAX_CHARS {
        return Err(FieldError::new("message", "sms.too_long"));
    }
    Ok(())
}

/// A phone number in E.164 (`+33612345678`); national French numbers are accepted.
pub fn parse_phone(raw: &str) -> Result<String, FieldError> {
    let invalid = || FieldError::new("phone", "phone.invalid");
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(FieldError::new("phone", "field.required"));
    }
    let number = phonenumber::parse(Some(phonenumber::country::Id::FR), raw).map_err(|_| invalid())?;
    if !phonenumber::is_valid(&number) {
        return Err(invalid());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_messages_count_160_then_153() {
        assert_eq!(cost("").segments, 0);
        assert_eq!(cost(&"a".repeat(160)), Cost { encoding: Encoding::Gsm7, chars: 160, units: 160, segments: 1 });
        assert_eq!(cost(&"a".repeat(161)).segments, 2);
        assert_eq!(cost(&"a".repeat(306)).segments, 2);
        assert_eq!(cost(&"a".repeat(307)).segments, 3);
        assert_eq!(cost(&"a".repeat(500)).segments, 4);
    }

    #[test]
    fn french_accents_of_the_gsm_table_stay_gsm7_and_the_euro_counts_twice() {
        let c = cost("Réglez à la caisse: é è ù à");
        assert_eq!(c.encoding, Encoding::Gsm7);
        let c = cost(&format!("{}€", "a".repeat(158)));
        assert_eq!((c.encoding, c.units, c.segments), (Encoding::Gsm7, 160, 1));
        let c = cost(&format!("{}€", "a".repeat(159)));
        assert_eq!((c.units, c.segments), (161, 2));
    }

    #[test]
    fn other_accents_and_emoji_switch_to_ucs2_70_then_67() {
        let c = cost("Ça coûte 15 €"); // ç lowercase and û are not GSM-7
        assert_eq!(c.encoding, Encoding::Ucs2);
        assert_eq!(cost(&"ê".repeat(70)).segments, 1);
        assert_eq!(cost(&"ê".repeat(71)).segments, 2);
        assert_eq!(cost(&"ê".repeat(134)).segments, 2);
        assert_eq!(cost(&"ê".repeat(135)).segments, 3);
        let c = cost(&format!("{}😀", "a".repeat(68)));
        assert_eq!((c.encoding, c.chars, c.units, c.segments), (Encoding::Ucs2, 69, 70, 1));
        assert_eq!(cost(&format!("{}😀", "a".repeat(69))).segments, 2);
    }

    #[test]
    fn messages_are_limited_to_500_characters() {
        assert!(check_text(&"é".repeat(500)).is_ok());
        assert_eq!(check_text(&"a".repeat(501)).unwrap_err().code, "sms.too_long");
        assert_eq!(check_text("  ").unwrap_err().code, "field.required");
    }

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(parse_phone("06 12 34 56 78"), Ok("+33612345678".to_string()));
        assert_eq!(parse_phone("+33 6 12 34 56 78"), Ok("+33612345678".to_string()));
        assert_eq!(parse_phone("+1 415 555 2671"), Ok("+14155552671".to_string()));
        assert_eq!(parse_phone("12").unwrap_err().code, "phone.invalid");
        assert_eq!(parse_phone("call me").unwrap_err().code, "phone.invalid");
        assert_eq!(parse_phone("").unwrap_err().code, "field.required");
    }
}
