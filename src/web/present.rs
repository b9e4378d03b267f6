//! What the back-office screens share in presenting data: dates in the shop's zone, the
//! search fields every list parses the same way, query strings, the CSV writer of the
//! exports, the labels of the domain's enums, and the small view pieces (facts, choices,
//! notices) the templates read. Presentation only: no reads, no rules.

use actix_web::HttpResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use futures_util::{Stream, StreamExt, stream};

use crate::domain::FieldError;
use crate::domain::order::{self, AliasMode, Channel, DeliveryStatus, OrderStatus};
use crate::domain::shop::{ThreeDsPreference, ValidationMode};
use crate::services::{Scope, ServiceError};
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::i18n::{Lang, Tr};
use crate::web::session::Staff;

/// Who acts, on which shop and mode, for a service call made from a back-office page.
pub fn scope(req: &actix_web::HttpRequest, staff: &Staff, state: &AppState) -> Scope {
    Scope {
        actor: staff.actor(req),
        shop: staff.shop.clone(),
        mode: staff.mode,
        public_url: state.settings.public_url.clone(),
    }
}

pub fn french(t: &Tr) -> bool {
    t.lang == Lang::Fr
}

// ---------------------------------------------------------------------------------------
// Dates in the shop's zone

/// A stored instant (UTC) as the shop's clock read it: `14/07/2026 09:30` in French.
pub fn local_datetime(t: NaiveDateTime, tz: Tz, fr: bool) -> String {
    let local = t.and_utc().with_timezone(&tz);
    if fr { local.format("%d/%m/%Y %H:%M").to_string() } else { local.format("%Y-%m-%d %H:%M").to_string() }
}

/// An e-mail as written to its `.eml` file, downloaded as `name`.
pub fn eml_download(name: &str, bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("message/rfc822")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes)
}

/// A stored instant as the shop's clock read it, for exports: `2026-07-14 09:30:00`.
pub fn local_timestamp(t: NaiveDateTime, tz: Tz) -> String {
    t.and_utc().with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The day a stored instant falls on in the shop's zone.
pub fn local_date_of(t: NaiveDateTime, tz: Tz) -> NaiveDate {
    t.and_utc().with_timezone(&tz).date_naive()
}

/// The first instant of `d` in the shop's zone, as stored (UTC).
pub fn local_midnight(d: NaiveDate, tz: Tz) -> NaiveDateTime {
    let start = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&start) {
        chrono::LocalResult::Single(t) => t.naive_utc(),
        chrono::LocalResult::Ambiguous(first, _) => first.naive_utc(),
        // A DST gap at midnight: the day starts an hour later.
        chrono::LocalResult::None => tz.from_utc_datetime(&start).naive_utc(),
    }
}

/// A day as typed: `2026-07-14` (the date picker) or `14/07/2026`.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y")).ok()
}

pub fn iso_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------
// Search fields

/// A query value, trimmed; an empty one is absent.
pub fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A "from"/"to" day of a search as a bound on stored instants: the day's first instant in
/// the shop's zone, and for an end (`end`) the next day's, so that it includes its whole day.
/// A bad date is a field error.
pub fn date_bound(
    raw: &Option<String>,
    field: &'static str,
    end: bool,
    tz: Tz,
    errors: &mut Vec<FieldError>,
) -> Option<NaiveDateTime> {
    let raw = given(raw)?;
    match parse_date(raw) {
        Some(d) if end => Some(local_midnight(d + Duration::days(1), tz)),
        Some(d) => Some(local_midnight(d, tz)),
        None => {
            errors.push(FieldError::new(field, "expires_on.invalid"));
            None
        }
    }
}

/// A searched reference: exact, or a prefix ending with `*`; its characters are a
/// reference's. A bad one is a field error.
pub fn reference_search(raw: &Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let r = given(raw)?;
    let bare = r.strip_suffix('*').unwrap_or(r);
    if bare.chars().count() > order::REFERENCE_MAX
        || !bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.push(FieldError::new("reference", "reference.invalid"));
        None
    } else {
        Some(r.to_string())
    }
}

/// The given values of `(name, value)` pairs, as query pairs.
pub fn given_pairs<'a>(
    fields: impl IntoIterator<Item = (&'static str, &'a Option<String>)>,
) -> Vec<(&'static str, String)> {
    fields.into_iter().filter_map(|(name, value)| given(value).map(|v| (name, v.to_string()))).collect()
}

pub fn query_string(params: &[(&str, String)]) -> String {
    params.iter().map(|(k, v)| format!("{k}={}", urlencode(v))).collect::<Vec<_>>().join("&")
}

/// Field errors of a refused service call; anything else becomes the page's error.
pub fn invalid(e: ServiceError) -> Result<Vec<FieldError>, AppError> {
    match e {
        ServiceError::Invalid(errors) => Ok(errors),
        other => Err(other.into()),
    }
}

/// The message of a field's first error, in the page's language.
pub fn field_error(t: &Tr, errors: &[FieldError], field: &str) -> Option<&'static str> {
    errors.iter().find(|e| e.field == field).map(|e| t.get(e.code))
}

/// The notice of a `?done=` redirect after an action: `table` maps its codes to i18n keys.
pub fn done_notice(t: &Tr, done: Option<&str>, table: &[(&str, &'static str)]) -> Option<&'static str> {
    let done = done?;
    table.iter().find(|(code, _)| *code == done).map(|(_, key)| t.get(key))
}

// ---------------------------------------------------------------------------------------
// View pieces

/// One labelled value of a detail page.
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

/// One option of a select.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
}

// ---------------------------------------------------------------------------------------
// CSV exports

/// Writes an export in pieces, the BOM and header first and then the rows page by page, so
/// that it streams. French spreadsheets expect `;` (the comma is their decimal separator);
/// every spreadsheet needs the BOM to read UTF-8.
#[derive(Debug, Clone, Copy)]
pub struct Csv {
    delimiter: u8,
    fr: bool,
}

impl Csv {
    pub fn new(lang: Lang) -> Csv {
        let fr = lang == Lang::Fr;
        Csv { delimiter: if fr { b';' } else { b',' }, fr }
    }

    /// The decimal separator of the amounts.
    pub fn decimal_separator(&self) -> char {
        if self.fr { ',' } else { '.' }
    }

    /// The BOM and the header line.
    pub fn head(&self, names: &[&str]) -> Result<Bytes, AppError> {
        let mut out = Vec::from("\u{feff}".as_bytes());
        out.extend_from_slice(&self.lines([names.iter().copied()])?);
        Ok(Bytes::from(out))
    }

    /// Records, one line each.
    pub fn lines<R, C>(&self, records: impl IntoIterator<Item = R>) -> Result<Bytes, AppError>
    where
        R: IntoIterator<Item = C>,
        C: AsRef<[u8]>,
    {
        let mut out = Vec::new();
        {
            let mut w = csv::WriterBuilder::new().delimiter(self.delimiter).from_writer(&mut out);
            for record in records {
                w.write_record(record).map_err(AppError::internal)?;
            }
            w.flush().map_err(AppError::internal)?;
        }
        Ok(Bytes::from(out))
    }
}

/// A text cell a spreadsheet will not read as a formula (`-A1`, `=…`, `+…`, `@…`).
pub fn cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_string() }
}

/// A CSV download whose body is `head` then each piece of `body` as it comes.
pub fn csv_download<S>(file_name: &str, head: Bytes, body: S) -> HttpResponse
where
    S: Stream<Item = Result<Bytes, AppError>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(stream::once(async move { Ok::<_, AppError>(head) }).chain(body))
}

// ---------------------------------------------------------------------------------------
// Labels of the domain's enums

pub fn channel_label(t: &Tr, c: Channel) -> &'static str {
    match c {
        Channel::Url => t.get("orders.channel.URL"),
        Channel::Email => t.get("orders.channel.EMAIL"),
        Channel::Sms => t.get("orders.channel.SMS"),
        Channel::Invoice => t.get("orders.channel.INVOICE"),
    }
}

pub fn order_status_label(t: &Tr, s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Running => t.get("orders.status.RUNNING"),
        OrderStatus::Paid => t.get("orders.status.PAID"),
        OrderStatus::Refused => t.get("orders.status.REFUSED"),
        OrderStatus::Expired => t.get("orders.status.EXPIRED"),
        OrderStatus::Cancelled => t.get("orders.status.CANCELLED"),
    }
}

pub fn order_status_class(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Running => "running",
        OrderStatus::Paid => "paid",
        OrderStatus::Refused => "refused",
        OrderStatus::Expired => "expired",
        OrderStatus::Cancelled => "cancelled",
    }
}

pub fn delivery_label(t: &Tr, d: DeliveryStatus) -> &'static str {
    match d {
        DeliveryStatus::Pending => t.get("orders.delivery.PENDING"),
        DeliveryStatus::Sent => t.get("orders.delivery.SENT"),
        DeliveryStatus::Failed => t.get("orders.delivery.FAILED"),
        DeliveryStatus::Manual => t.get("orders.delivery.MANUAL"),
        DeliveryStatus::NotSent => t.get("orders.delivery.NOT_SENT"),
        DeliveryStatus::Held => t.get("orders.delivery.HELD"),
    }
}

pub fn delivery_class(d: DeliveryStatus) -> &'static str {
    match d {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Failed => "failed",
        DeliveryStatus::Manual => "manual",
        DeliveryStatus::NotSent => "not-sent",
        DeliveryStatus::Held => "held",
    }
}

pub fn validation_label(t: &Tr, m: ValidationMode) -> &'static str {
    match m {
        ValidationMode::Auto => t.get("validation.AUTO"),
        ValidationMode::Manual => t.get("validation.MANUAL"),
    }
}

pub fn three_ds_preference_label(t: &Tr, p: ThreeDsPreference) -> &'static str {
    match p {
        ThreeDsPreference::NoPreference => t.get("three_ds.NO_PREFERENCE"),
        ThreeDsPreference::Frictionless => t.get("three_ds.FRICTIONLESS"),
        ThreeDsPreference::Challenge => t.get("three_ds.CHALLENGE"),
    }
}

pub fn alias_label(t: &Tr, a: AliasMode) -> &'static str {
    match a {
        AliasMode::None => t.get("orders.alias.NONE"),
        AliasMode::Propose => t.get("orders.alias.PROPOSE"),
        AliasMode::Auto => t.get("orders.alias.AUTO"),
    }
}

pub fn language_label(t: &Tr, code: &str) -> &'static str {
    t.get(&format!("orders.language.{}", Lang::parse(code).unwrap_or(Lang::Fr).code()))
}

/// The buyer's answers on the collection form, label and value, in the form's order; the
/// custom fields under the shop's labels ("Info 1" when it gave none).
pub fn buyer_facts(
    t: &Tr,
    b: &crate::domain::collect::BuyerData,
    custom_labels: &[Option<String>; 3],
) -> Vec<(String, String)> {
    use crate::domain::collect::BuyerField;
    let mut facts: Vec<(String, String)> = BuyerField::ALL
        .into_iter()
        .filter_map(|f| b.value(f).map(|v| (t.get(&format!("collect.field.{}", f.name())).to_string(), v.to_string())))
        .collect();
    for (i, label) in custom_labels.iter().enumerate() {
        if let Some(v) = b.info(i) {
            let label = label.clone().unwrap_or_else(|| format!("Info {}", i + 1));
            facts.push((label, v.to_string()));
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(cell("-A1"), "'-A1");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("@x"), "'@x");
        assert_eq!(cell("INV-1"), "INV-1");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn csv_pieces_join_into_one_file_with_the_bom_once() {
        let fr = Csv::new(Lang::Fr);
        let head = fr.head(&["id", "amount"]).unwrap();
        let rows = fr.lines([["1", "15,00"], ["2", "1;2"]]).unwrap();
        assert_eq!(&head[..], "\u{feff}id;amount\n".as_bytes());
        assert_eq!(&rows[..], b"1;15,00\n2;\"1;2\"\n".as_slice());
        let en = Csv::new(Lang::En);
        assert_eq!(&en.lines([["1", "15.00"]]).unwrap()[..], b"1,15.00\n".as_slice());
        assert_eq!(en.decimal_separator(), '.');
    }

    #[test]
    fn search_days_cover_whole_days_in_the_shop_zone() {
        let mut errors = Vec::new();
        let tz = chrono_tz::Europe::Paris;
        let from = date_bound(&Some("2026-07-14".into()), "from", false, tz, &mut errors);
        let to = date_bound(&Some("14/07/2026".into()), "to", true, tz, &mut errors);
        assert_eq!(from.unwrap().to_string(), "2026-07-13 22:00:00");
        assert_eq!(to.unwrap().to_string(), "2026-07-14 22:00:00");
        assert_eq!(date_bound(&Some(" ".into()), "x", false, tz, &mut errors), None);
        assert!(errors.is_empty());
        assert_eq!(date_bound(&Some("soon".into()), "x", false, tz, &mut errors), None);
        assert_eq!(errors, [FieldError::new("x", "expires_on.invalid")]);
    }
}
