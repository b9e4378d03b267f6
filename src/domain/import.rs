//! A batch of invoice orders as a CSV file (seed 001 §1.4, DESIGN §4): UTF-8 with or without
//! a BOM, `;` or `,` (the header row tells), columns `reference, amount, currency,
//! description, expires_on`, the amount written as in the form (`15,00` or `15.00`). The file
//! is checked whole: every faulty line is reported with its line number, its column and why,
//! and nothing is created unless every line is right.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::money::{Currency, Money};
use super::order::Reference;

/// The columns of the header row (any order; `reference` and `amount` are mandatory).
pub const COLUMNS: [&str; 5] = ["reference", "amount", "currency", "description", "expires_on"];
/// The longest description kept.
const DESCRIPTION_MAX: usize = 255;

/// Where an import stands: RUNNING until its orders are created (DONE) or it is refused
/// (FAILED, nothing created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportStatus {
    Running,
    Done,
    Failed,
}
super::shop::text_enum!(ImportStatus { Running = "RUNNING", Done = "DONE", Failed = "FAILED" });

/// One invoice of the file, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// 2 for the first line after the header.
    pub line: usize,
    pub reference: String,
    pub amount: Money,
    pub description: Option<String>,
    /// None: the shop's default validity.
    pub expires_on: Option<NaiveDate>,
}

/// Why a line (or the file) is refused. `line` 1 is the header row; 0 the file itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LineError {
    pub line: usize,
    /// The column, or `file`.
    pub field: String,
    /// An i18n key, and the API's stable code.
    pub code: String,
}

impl LineError {
    pub fn new(line: usize, field: &str, code: &str) -> Self {
        LineError { line, field: field.to_string(), code: code.to_string() }
    }
}

/// Reads and checks the file. `today` is the shop's date; dates may run at most three months
/// from it. `default_currency` is used when the column is absent or empty.
pub fn parse(bytes: &[u8], today: NaiveDate, default_currency: Currency) -> Result<Vec<ImportRow>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(vec![LineError::new(0, "file", "import.not_utf8")]);
    };
    let header = text.lines().next().unwrap_or("");
    let delimiter = if header.matches(';').count() > header.matches(',').count() { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase()).collect::<Vec<_>>(),
        Err(_) => return Err(vec![LineError::new(1, "file", "import.no_header")]),
    };
    let mut errors = Vec::new();
    for (i, column) in headers.iter().enumerate() {
        if !COLUMNS.contains(&column.as_str()) || headers[..i].contains(column) {
            errors.push(LineError::new(1, "file", "import.bad_header"));
        }
    }
    let at = |name: &str| headers.iter().position(|c| c == name);
    let (Some(reference_at), Some(amount_at)) = (at("reference"), at("amount")) else {
        errors.push(LineError::new(1, "file", "import.bad_header"));
        errors.dedup();
        return Err(errors);
    };
    if !errors.is_empty() {
        errors.dedup();
        return Err(errors);
    }
    let (currency_at, description_at, expires_at) = (at("currency"), at("description"), at("expires_on"));
    let last_day = super::order::max_end_date(today);
    let mut seen: HashSet<String> = HashSet::new();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                errors.push(LineError::new(line, "file", "import.unreadable_line"));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |at: Option<usize>| at.and_then(|a| record.get(a)).unwrap_or("");
        let before = errors.len();
        let reference = match Reference::parse(cell(Some(reference_at))) {
            Ok(r) => Some(r.as_str().to_string()),
            Err(e) => {
                errors.push(LineError::new(line, "reference", e.code));
                None
            }
        };
        if let Some(r) = &reference
            && !seen.insert(r.clone())
        {
            errors.push(LineError::new(line, "reference", "import.duplicate_in_file"));
        }
        let currency = match cell(currency_at) {
            "" => Some(default_currency),
            code => match Currency::parse(code) {
                Ok(c) => Some(c),
                Err(_) => {
                    errors.push(LineError::new(line, "currency", "import.unknown_currency"));
                    None
                }
            },
        };
        let amount = match (currency, cell(Some(amount_at))) {
            (_, "") => {
                errors.push(LineError::new(line, "amount", "field.required"));
                None
            }
            (Some(c), typed) => match Money::parse(typed, c) {
                Ok(m) => Some(m),
                Err(e) => {
                    errors.push(LineError::new(line, "amount", e.code));
                    None
                }
            },
            (None, _) => None,
        };
        let description = match cell(description_at) {
            "" => None,
            d if d.chars().count() > DESCRIPTION_MAX => {
                errors.push(LineError::new(line, "description", "import.description_too_long"));
                None
            }
            d => Some(d.to_string()),
        };
        let expires_on = match cell(expires_at) {
            "" => None,
            typed => match NaiveDate::parse_from_str(typed, "%Y-%m-%d")
                .or_else(|_| NaiveDate::parse_from_str(typed, "%d/%m/%Y"))
            {
                Ok(d) if d < today => {
                    errors.push(LineError::new(line, "expires_on", "expires_on.past"));
                    None
                }
                Ok(d) if d > last_day => {
                    errors.push(LineError::new(line, "expires_on", "import.beyond_three_months"));
                    None
                }
                Ok(d) => Some(d),
                Err(_) => {
                    errors.push(LineError::new(line, "expires_on", "expires_on.invalid"));
                    None
                }
            },
        };
        if errors.len() == before
            && let (Some(reference), Some(amount)) = (reference, amount)
        {
            rows.push(ImportRow { line, reference, amount, description, expires_on });
        }
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(LineError::new(0, "file", "import.empty"));
    }
    if errors.is_empty() { Ok(rows) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 15).unwrap()
    }

    fn read(text: &str) -> Result<Vec<ImportRow>, Vec<LineError>> {
        parse(text.as_bytes(), today(), Currency::EUR)
    }

    #[test]
    fn semicolons_or_commas_a_bom_and_amounts_as_in_the_form() {
        let rows = read(
            "\u{feff}reference;amount;currency;description;expires_on\nF-1;15,00;EUR;Loyer;2026-07-01\nF-2;7.5;;;\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].line, rows[0].amount.minor, rows[0].description.as_deref()), (2, 1500, Some("Loyer")));
        assert_eq!((rows[1].amount.minor, rows[1].expires_on), (750, None));
        let rows = read("reference,amount\nF-1,\"15,00\"\nF-2,16.00\n").unwrap();
        assert_eq!(rows.iter().map(|r| r.amount.minor).collect::<Vec<_>>(), [1500, 1600]);
    }

    #[test]
    fn every_faulty_line_is_reported_with_its_column_and_nothing_else_passes() {
        let text = "reference;amount;currency;description;expires_on\n\
                    F-1;15,00;EUR;;\n\
                    F-2;abc;EUR;;\n\
                    F-1;10,00;EUR;;\n\
                    F-4;10,00;XYZ;;\n\
                    F-5;10,00;EUR;;2026-10-01\n\
                    ;10,00;EUR;;\n";
        let errors = read(text).unwrap_err();
        let seen: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            seen,
            [(3, "amount"), (4, "reference"), (5, "currency"), (6, "expires_on"), (7, "reference")],
            "{errors:?}"
        );
        assert_eq!(errors[1].code, "import.duplicate_in_file");
        assert_eq!(errors[3].code, "import.beyond_three_months");
    }

    #[test]
    fn a_bad_header_or_an_empty_file_is_refused_as_a_whole() {
        assert_eq!(read("ref;amount\nF-1;1\n").unwrap_err()[0], LineError::new(1, "file", "import.bad_header"));
        assert_eq!(read("reference;amount\n").unwrap_err()[0].code, "import.empty");
        assert_eq!(
            parse(b"reference;amount\n\xff;1\n", today(), Currency::EUR).unwrap_err()[0].code,
            "import.not_utf8"
        );
    }
}
