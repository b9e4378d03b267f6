//! The list of orders: search, sortable columns, keyset pages, the column chooser, the CSV
//! export.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::domain::FieldError;
use crate::domain::listing::{Cursor, OrderFilter, SortKey};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{self, Channel, DeliveryStatus, Order, OrderStatus};
use crate::services::order_reads::{self, OrderList, OrderSearch};
use crate::services::orders as service;
use crate::web::AppState;
use crate::web::backoffice::{render_status, see_other};
use crate::web::error::AppError;
use crate::web::forms::{CsrfForm, Pairs};
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{
    self, Choice, Csv, cell, channel_label, date_bound, delivery_class, delivery_label, french, given, local_datetime,
    order_status_class, order_status_label, query_string, reference_search, validation_label,
};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

/// Rows per page of the list.
const PAGE: i64 = 50;

// ---------------------------------------------------------------------------------------
// The list, its columns and its export

/// The optional columns of the list, in display order (the order number is always shown).
const COLUMNS: [&str; 11] = [
    "reference",
    "channel",
    "created",
    "expires",
    "amount",
    "status",
    "delivery",
    "recipient",
    "sends",
    "created_by",
    "transaction",
];
const DEFAULT_COLUMNS: [&str; 7] = ["reference", "channel", "created", "expires", "amount", "status", "delivery"];

fn column_label(t: &Tr, key: &str) -> &'static str {
    match key {
        "reference" => t.get("orders.field.reference"),
        "channel" => t.get("orders.field.channel"),
        "created" => t.get("orders.field.created"),
        "expires" => t.get("orders.field.expires"),
        "amount" => t.get("orders.field.amount"),
        "status" => t.get("orders.field.status"),
        "delivery" => t.get("orders.field.delivery"),
        "recipient" => t.get("orders.field.recipient"),
        "sends" => t.get("orders.field.send_count"),
        "created_by" => t.get("orders.field.created_by"),
        _ => t.get("orders.field.transaction"),
    }
}

fn columns_of(stored: Option<String>) -> Vec<&'static str> {
    match stored {
        None => DEFAULT_COLUMNS.to_vec(),
        Some(s) => COLUMNS.iter().copied().filter(|c| s.split(',').any(|x| x.trim() == *c)).collect(),
    }
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct ListQuery {
    channel: Option<String>,
    status: Option<String>,
    delivery_status: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    expires_from: Option<String>,
    expires_to: Option<String>,
    amount_min: Option<String>,
    amount_max: Option<String>,
    currency: Option<String>,
    reference: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    after: Option<String>,
}

/// A search as typed, parsed: what the service runs, and the fields refused.
struct Search {
    query: OrderSearch,
    errors: Vec<FieldError>,
}

impl Search {
    /// The search to run, unless a field was refused.
    fn valid(&self) -> Option<OrderSearch> {
        self.errors.is_empty().then(|| self.query.clone())
    }
}

impl ListQuery {
    fn search(&self, tz: Tz) -> Search {
        let mut errors = Vec::new();
        let mut f = OrderFilter::default();
        if let Some(c) = given(&self.channel) {
            f.channel = Channel::from_query(c).or_else(|| {
                errors.push(FieldError::new("channel", "field.choice.invalid"));
                None
            });
        }
        if let Some(s) = given(&self.status) {
            f.status = OrderStatus::parse(s).or_else(|| {
                errors.push(FieldError::new("status", "field.choice.invalid"));
                None
            });
        }
        if let Some(s) = given(&self.delivery_status) {
            f.delivery_status = DeliveryStatus::parse(s).or_else(|| {
                errors.push(FieldError::new("delivery_status", "field.choice.invalid"));
                None
            });
        }
        f.created_from = date_bound(&self.created_from, "created_from", false, tz, &mut errors);
        f.created_to = date_bound(&self.created_to, "created_to", true, tz, &mut errors);
        f.expires_from = date_bound(&self.expires_from, "expires_from", false, tz, &mut errors);
        f.expires_to = date_bound(&self.expires_to, "expires_to", true, tz, &mut errors);
        let currency = match given(&self.currency) {
            None => Some(Currency::EUR),
            Some(c) => Currency::parse(c).map_err(|e| errors.push(e)).ok(),
        };
        if let Some(currency) = currency {
            let mut amount = |raw: &Option<String>, field: &'static str| -> Option<i64> {
                let raw = given(raw)?;
                Money::parse(raw, currency)
                    .map(|m| m.minor)
                    .map_err(|e| errors.push(FieldError::new(field, e.code)))
                    .ok()
            };
            f.amount_min = amount(&self.amount_min, "amount_min");
            f.amount_max = amount(&self.amount_max, "amount_max");
        }
        f.reference = reference_search(&self.reference, &mut errors);
        let sort = given(&self.sort).and_then(SortKey::parse).unwrap_or(SortKey::Created);
        let descending = given(&self.dir) != Some("asc");
        let after = given(&self.after).and_then(Cursor::decode);
        Search { query: OrderSearch { filter: f, sort, descending, after }, errors }
    }

    /// The filters given, as query pairs.
    fn filters(&self) -> Vec<(&'static str, String)> {
        present::given_pairs([
            ("channel", &self.channel),
            ("status", &self.status),
            ("delivery_status", &self.delivery_status),
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("expires_from", &self.expires_from),
            ("expires_to", &self.expires_to),
            ("amount_min", &self.amount_min),
            ("amount_max", &self.amount_max),
            ("currency", &self.currency),
            ("reference", &self.reference),
        ])
    }

    /// The query string of the search (filters, then sort), without the cursor.
    fn params(&self, sort: Option<(&str, &str)>) -> Vec<(&'static str, String)> {
        let mut p = self.filters();
        match sort {
            Some((s, d)) => {
                p.push(("sort", s.to_string()));
                p.push(("dir", d.to_string()));
            }
            None => {
                if let Some(s) = given(&self.sort) {
                    p.push(("sort", s.to_string()));
                }
                if let Some(d) = given(&self.dir) {
                    p.push(("dir", d.to_string()));
                }
            }
        }
        p
    }

    fn has_filter(&self) -> bool {
        !self.filters().is_empty()
    }
}

pub struct Row {
    pub id: i64,
    pub reference: String,
    pub channel: &'static str,
    pub created: String,
    pub expires: String,
    pub amount: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub delivery: &'static str,
    pub delivery_class: &'static str,
    pub recipient: String,
    pub sends: i32,
    pub created_by: String,
    pub transaction: Option<i64>,
}

pub struct SortLink {
    pub href: String,
    /// "ascending", "descending" or "none", for `aria-sort`.
    pub state: &'static str,
}

pub struct ColumnBox {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/orders.html")]
struct ListPage {
    t: Tr,
    shell: Shell,
    rows: Vec<Row>,
    columns: Vec<&'static str>,
    column_boxes: Vec<ColumnBox>,
    q: ListQuery,
    errors: Vec<FieldError>,
    filtered: bool,
    advanced_open: bool,
    next: Option<String>,
    first_page: Option<String>,
    export: String,
    back: String,
    sort_created: SortLink,
    sort_expires: SortLink,
    sort_amount: SortLink,
    channels: Vec<Choice>,
    statuses: Vec<Choice>,
    deliveries: Vec<Choice>,
    currencies: &'static [&'static str],
    can_write: bool,
    defaults_line: String,
}

impl ListPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        present::field_error(&self.t, &self.errors, field)
    }

    fn shows(&self, column: &str) -> bool {
        self.columns.contains(&column)
    }

    fn value(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }

    fn selected(&self, v: &Option<String>, option: &str) -> bool {
        given(v).is_some_and(|x| x.eq_ignore_ascii_case(option))
    }
}

fn sort_link(q: &ListQuery, search: &OrderSearch, key: SortKey) -> SortLink {
    let current = search.sort == key;
    let dir = if current && search.descending { "asc" } else { "desc" };
    SortLink {
        href: format!("/orders?{}", query_string(&q.params(Some((key.as_str(), dir))))),
        state: match (current, search.descending) {
            (false, _) => "none",
            (true, true) => "descending",
            (true, false) => "ascending",
        },
    }
}

pub(super) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let search = q.search(staff.shop.settings.time_zone);
    let now = state.env.clock.now_naive();
    let scope = present::scope(&req, &staff, &state);
    let listed = order_reads::list(&state.env.db, &scope, staff.user.id, search.valid(), PAGE, now).await?;
    let page = ListPage::new(&req, &staff, q, search, listed, now);
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(&page, status)
}

fn row(t: &Tr, o: &Order, tz: Tz, now: NaiveDateTime) -> Row {
    let fr = french(t);
    let status = o.status_at(now);
    Row {
        id: o.id.0,
        reference: o.reference.clone().unwrap_or_default(),
        channel: channel_label(t, o.channel),
        created: local_datetime(o.created_at, tz, fr),
        expires: order::format_date(o.expires_on, t.lang),
        amount: o.amount.display(t.lang),
        status: order_status_label(t, status),
        status_class: order_status_class(status),
        delivery: delivery_label(t, o.delivery_status),
        delivery_class: delivery_class(o.delivery_status),
        recipient: o.recipient.clone().unwrap_or_default(),
        sends: o.send_count,
        created_by: o.created_by.clone(),
        transaction: o.transaction_id,
    }
}

/// The shop's defaults for new orders, in one line above the list.
fn defaults_line(t: &Tr, staff: &Staff) -> String {
    let d = &staff.shop.settings.defaults;
    let colon = if french(t) { " :" } else { ":" };
    format!(
        "{}{colon} {} · {}{colon} {} · {}{colon} {}",
        t.get("settings.validity_days"),
        d.validity_days,
        t.get("settings.validation_mode"),
        validation_label(t, d.validation_mode),
        t.get("settings.capture_delay"),
        d.capture_delay_days
    )
}

impl ListPage {
    fn new(
        req: &HttpRequest,
        staff: &Staff,
        q: ListQuery,
        search: Search,
        listed: OrderList,
        now: NaiveDateTime,
    ) -> Self {
        let t = tr(req);
        let tz = staff.shop.settings.time_zone;
        let columns = columns_of(listed.columns);
        let base = q.params(None);
        let link = |p: &[(&str, String)]| format!("/orders?{}", query_string(p));
        let next = listed.next.map(|c| {
            let mut p = base.clone();
            p.push(("after", c.encode()));
            link(&p)
        });
        let advanced = [&q.created_from, &q.created_to, &q.expires_from, &q.expires_to, &q.amount_min, &q.amount_max];
        ListPage {
            shell: Shell::new(req, staff, "orders"),
            rows: listed.orders.iter().map(|o| row(&t, o, tz, now)).collect(),
            column_boxes: COLUMNS
                .iter()
                .copied()
                .map(|c| ColumnBox { key: c, label: column_label(&t, c), checked: columns.contains(&c) })
                .collect(),
            columns,
            filtered: q.has_filter(),
            advanced_open: advanced.iter().any(|v| given(v).is_some()),
            next,
            first_page: search.query.after.is_some().then(|| link(&base)),
            export: format!("/orders.csv?{}", query_string(&base)),
            back: link(&base),
            sort_created: sort_link(&q, &search.query, SortKey::Created),
            sort_expires: sort_link(&q, &search.query, SortKey::Expires),
            sort_amount: sort_link(&q, &search.query, SortKey::Amount),
            channels: Channel::ALL.iter().map(|c| Choice { value: c.as_str(), label: channel_label(&t, *c) }).collect(),
            statuses: OrderStatus::ALL
                .iter()
                .map(|s| Choice { value: s.as_str(), label: order_status_label(&t, *s) })
                .collect(),
            deliveries: DeliveryStatus::ALL
                .iter()
                .map(|s| Choice { value: s.as_str(), label: delivery_label(&t, *s) })
                .collect(),
            currencies: Currency::common(),
            can_write: staff.can_write(),
            defaults_line: defaults_line(&t, staff),
            errors: search.errors,
            q,
            t,
        }
    }
}

/// The column chooser: a personal display preference, so viewers may set theirs too.
pub(super) async fn save_columns(
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<HttpResponse, AppError> {
    let chosen: Vec<&str> =
        COLUMNS.iter().copied().filter(|c| pairs.iter().any(|(k, v)| k == "columns" && v == c)).collect();
    order_reads::save_columns(&state.env.db, staff.user.id, chosen.join(",")).await?;
    let back = pairs
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.as_str())
        .filter(|b| b.starts_with("/orders?") || *b == "/orders")
        .unwrap_or("/orders");
    Ok(see_other(back))
}

/// The search's orders as CSV, streamed: read and written page by page.
pub(super) async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let tz = staff.shop.settings.time_zone;
    let search = q.search(tz).valid().ok_or(AppError::BadRequest("search"))?;
    let now = state.env.clock.now_naive();
    let pages = order_reads::export(&state.env.db, &present::scope(&req, &staff, &state), search, now).await?;
    let csv = Csv::new(Lang::of(&req));
    let public_url = state.settings.public_url.clone();
    let body = pages.map(move |page| {
        let sep = csv.decimal_separator();
        csv.lines(page?.iter().map(|o| export_record(o, tz, sep, now, &public_url)))
    });
    Ok(present::csv_download("paylink-orders.csv", csv.head(&EXPORT_HEADER)?, body))
}

const EXPORT_HEADER: [&str; 15] = [
    "id",
    "reference",
    "channel",
    "mode",
    "status",
    "delivery_status",
    "amount",
    "currency",
    "created_at",
    "expires_on",
    "recipient",
    "send_count",
    "created_by",
    "transaction_id",
    "url",
];

/// An order as a line of the export (amounts with the language's decimal separator).
fn export_record(o: &Order, tz: Tz, sep: char, now: NaiveDateTime, public_url: &str) -> [String; 15] {
    [
        o.id.to_string(),
        cell(o.reference.as_deref().unwrap_or_default()),
        o.channel.as_str().to_string(),
        o.mode.as_str().to_string(),
        o.status_at(now).as_str().to_string(),
        o.delivery_status.as_str().to_string(),
        o.amount.decimal(sep),
        o.amount.currency.code().to_string(),
        present::local_timestamp(o.created_at, tz),
        o.expires_on.format("%Y-%m-%d").to_string(),
        cell(o.recipient.as_deref().unwrap_or_default()),
        o.send_count.to_string(),
        cell(&o.created_by),
        o.transaction_id.map(|t| t.to_string()).unwrap_or_default(),
        service::pay_url(public_url, &o.token),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_columns_keep_the_display_order_and_drop_unknown_keys() {
        assert_eq!(columns_of(None), DEFAULT_COLUMNS);
        assert_eq!(columns_of(Some("amount,reference,nope".into())), ["reference", "amount"]);
        assert!(columns_of(Some(String::new())).is_empty(), "no optional column is a choice too");
    }

    #[test]
    fn searches_cover_whole_days_in_the_shop_zone_and_name_their_bad_fields() {
        let q = ListQuery {
            created_from: Some("2026-07-14".into()),
            created_to: Some("14/07/2026".into()),
            amount_min: Some("15,5".into()),
            reference: Some("INV-*".into()),
            ..Default::default()
        };
        let s = q.search(chrono_tz::Europe::Paris);
        assert!(s.errors.is_empty());
        assert_eq!(s.query.filter.created_from.unwrap().to_string(), "2026-07-13 22:00:00");
        assert_eq!(s.query.filter.created_to.unwrap().to_string(), "2026-07-14 22:00:00");
        assert_eq!(s.query.filter.amount_min, Some(1550));
        assert_eq!(s.query.filter.reference.as_deref(), Some("INV-*"));
        assert_eq!((s.query.sort, s.query.descending), (SortKey::Created, true));
        let q = ListQuery {
            channel: Some("FAX".into()),
            amount_max: Some("1,234".into()),
            reference: Some("a b".into()),
            expires_to: Some("soon".into()),
            ..Default::default()
        };
        let fields: Vec<_> = q.search(chrono_tz::Europe::Paris).errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["channel", "expires_to", "amount_max", "reference"]);
        assert!(ListQuery::default().params(None).is_empty() && !ListQuery::default().has_filter());
    }
}
