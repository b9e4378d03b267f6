//! The list of transactions in its tabs, its search, keyset pages and CSV export.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use futures_util::StreamExt;
use serde::Deserialize;

use super::{code_message, shown_status, status_label};
use crate::acquirer::ThreeDsOutcome;
use crate::domain::FieldError;
use crate::domain::ids::OrderId;
use crate::domain::listing::{Tab, TxFilter};
use crate::domain::money::Money;
use crate::domain::order;
use crate::domain::transaction::{Transaction, TxStatus};
use crate::services::transaction_reads::{self, Listed, TxList, TxSearch};
use crate::web::AppState;
use crate::web::backoffice::render_status;
use crate::web::error::AppError;
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{
    self, Choice, Csv, cell, channel_label, date_bound, french, given, local_datetime, query_string, reference_search,
};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

/// Rows per page of the list.
const PAGE: i64 = 50;

/// The same, shorter, for a column of the list.
fn three_ds_short(t: &Tr, outcome: ThreeDsOutcome) -> &'static str {
    match outcome {
        ThreeDsOutcome::Frictionless => t.get("transactions.three_ds_short.FRICTIONLESS"),
        ThreeDsOutcome::ChallengePassed => t.get("transactions.three_ds_short.CHALLENGE_PASSED"),
        ThreeDsOutcome::ChallengeFailed => t.get("transactions.three_ds_short.CHALLENGE_FAILED"),
        ThreeDsOutcome::Failed => t.get("transactions.three_ds_short.FAILED"),
        ThreeDsOutcome::NotPerformed => t.get("transactions.three_ds_short.NOT_PERFORMED"),
        ThreeDsOutcome::AtService => t.get("transactions.three_ds_short.AT_SERVICE"),
    }
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default, Clone)]
pub(super) struct ListQuery {
    tab: Option<String>,
    order_id: Option<String>,
    reference: Option<String>,
    status: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    card_last4: Option<String>,
    return_code: Option<String>,
    before: Option<String>,
}

/// The tabs, "all" first: the list opens on every transaction, so that a payment just made
/// is in sight whatever its status.
const TABS: [(&str, Tab); 4] =
    [("all", Tab::All), ("in_progress", Tab::InProgress), ("captured", Tab::Captured), ("others", Tab::Others)];

fn tab_name(tab: Tab) -> &'static str {
    TABS.iter().find(|(_, t)| *t == tab).map_or("all", |(n, _)| n)
}

fn tab_label(t: &Tr, tab: Tab) -> &'static str {
    match tab {
        Tab::InProgress => t.get("transactions.tab.in_progress"),
        Tab::Captured => t.get("transactions.tab.captured"),
        Tab::Others => t.get("transactions.tab.others"),
        Tab::All => t.get("transactions.tab.all"),
    }
}

/// The tab a status is listed under.
fn tab_of(s: TxStatus) -> Tab {
    match s {
        TxStatus::Authorised | TxStatus::AuthorisedToValidate => Tab::InProgress,
        TxStatus::Captured => Tab::Captured,
        TxStatus::Refused | TxStatus::Cancelled | TxStatus::Expired => Tab::Others,
    }
}

/// A search as typed, parsed: what the service runs, and the fields refused.
struct Search {
    query: TxSearch,
    errors: Vec<FieldError>,
}

impl ListQuery {
    fn search(&self, tz: Tz) -> Search {
        let mut errors = Vec::new();
        let mut f = TxFilter::default();
        let mut tab = given(&self.tab).and_then(|n| TABS.iter().find(|(name, _)| *name == n)).map_or(Tab::All, |t| t.1);
        if let Some(raw) = given(&self.order_id) {
            match raw.trim_start_matches('#').parse::<i64>() {
                Ok(id) if id > 0 => f.order_id = Some(OrderId(id)),
                _ => errors.push(FieldError::new("order_id", "transactions.search.order_id_invalid")),
            }
        }
        f.reference = reference_search(&self.reference, &mut errors);
        if let Some(s) = given(&self.status) {
            match TxStatus::parse(&s.to_ascii_uppercase()) {
                Some(s) => {
                    f.status = Some(s);
                    // A status of another tab shows that tab.
                    if tab != Tab::All && tab != tab_of(s) {
                        tab = tab_of(s);
                    }
                }
                None => errors.push(FieldError::new("status", "field.choice.invalid")),
            }
        }
        f.created_from = date_bound(&self.created_from, "created_from", false, tz, &mut errors);
        f.created_to = date_bound(&self.created_to, "created_to", true, tz, &mut errors);
        if let Some(l) = given(&self.card_last4) {
            if l.len() == 4 && l.chars().all(|c| c.is_ascii_digit()) {
                f.card_last4 = Some(l.to_string());
            } else {
                errors.push(FieldError::new("card_last4", "transactions.search.last4_invalid"));
            }
        }
        if let Some(c) = given(&self.return_code) {
            if c.len() == 5 && c.chars().all(|c| c.is_ascii_digit()) {
                f.return_code = Some(c.to_string());
            } else {
                errors.push(FieldError::new("return_code", "transactions.search.return_code_invalid"));
            }
        }
        let before = given(&self.before).and_then(|b| b.parse::<i64>().ok()).filter(|b| *b > 0);
        Search { query: TxSearch { tab, filter: f, before }, errors }
    }

    /// The filters given, as query pairs (no tab, no cursor).
    fn filters(&self) -> Vec<(&'static str, String)> {
        present::given_pairs([
            ("order_id", &self.order_id),
            ("reference", &self.reference),
            ("status", &self.status),
            ("created_from", &self.created_from),
            ("created_to", &self.created_to),
            ("card_last4", &self.card_last4),
            ("return_code", &self.return_code),
        ])
    }
}

pub struct Row {
    pub id: i64,
    /// Day and time, kept apart so that a narrow column breaks between them.
    pub created: (String, String),
    pub order_id: i64,
    pub reference: String,
    pub amount: String,
    pub refunded: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub card_brand: String,
    pub card_masked: String,
    pub three_ds: &'static str,
    pub return_code: String,
    pub code_message: &'static str,
    pub source: &'static str,
    pub capture_date: String,
}

pub struct TabLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/transactions.html")]
struct ListPage {
    t: Tr,
    shell: Shell,
    tabs: Vec<TabLink>,
    tab: &'static str,
    rows: Vec<Row>,
    q: ListQuery,
    errors: Vec<FieldError>,
    filtered: bool,
    more_open: bool,
    next: Option<String>,
    first_page: Option<String>,
    export: String,
    statuses: Vec<Choice>,
}

impl ListPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        present::field_error(&self.t, &self.errors, field)
    }

    fn value(&self, v: &Option<String>) -> String {
        v.clone().unwrap_or_default()
    }

    fn selected(&self, v: &Option<String>, option: &str) -> bool {
        given(v).is_some_and(|x| x.eq_ignore_ascii_case(option))
    }
}

/// The references of the orders of these transactions.
pub(super) async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let search = q.search(staff.shop.settings.time_zone);
    let scope = present::scope(&req, &staff, &state);
    let listed = if search.errors.is_empty() {
        transaction_reads::list(&state.env.db, &scope, search.query.clone(), PAGE).await?
    } else {
        TxList { rows: Vec::new(), next: None }
    };
    let page = ListPage::new(&req, &staff, q, search, listed);
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(&page, status)
}

fn row(t: &Tr, l: &Listed, tz: Tz) -> Row {
    let (x, fr) = (&l.transaction, french(t));
    let (status, status_class) = shown_status(t, x);
    Row {
        id: x.id,
        created: local_datetime(x.created_at, tz, fr)
            .split_once(' ')
            .map(|(d, h)| (d.into(), h.into()))
            .unwrap_or_default(),
        order_id: x.order_id.0,
        reference: l.reference.clone().unwrap_or_default(),
        amount: x.amount.display(t.lang),
        refunded: if x.refunded > 0 {
            Money { minor: x.refunded, currency: x.amount.currency }.display(t.lang)
        } else {
            String::new()
        },
        status,
        status_class,
        card_brand: x.card_brand.clone(),
        card_masked: x.card_masked.clone(),
        three_ds: three_ds_short(t, x.three_ds),
        return_code: x.return_code.clone(),
        code_message: code_message(t, &x.return_code),
        source: channel_label(t, x.source),
        capture_date: x.capture_date.map(|d| order::format_date(d, t.lang)).unwrap_or_default(),
    }
}

/// The tab links: each keeps the search but not a status, which belongs to one tab.
fn tab_links(t: &Tr, q: &ListQuery, tab: Tab) -> Vec<TabLink> {
    let kept: Vec<(&'static str, String)> = q.filters().into_iter().filter(|(k, _)| *k != "status").collect();
    TABS.iter()
        .map(|(name, x)| {
            let mut p = vec![("tab", name.to_string())];
            p.extend(kept.iter().cloned());
            TabLink { label: tab_label(t, *x), href: format!("/transactions?{}", query_string(&p)), current: *x == tab }
        })
        .collect()
}

impl ListPage {
    fn new(req: &HttpRequest, staff: &Staff, q: ListQuery, search: Search, listed: TxList) -> Self {
        let t = tr(req);
        let tz = staff.shop.settings.time_zone;
        let tab = search.query.tab;
        let mut base = q.filters();
        base.insert(0, ("tab", tab_name(tab).to_string()));
        let link = |p: &[(&str, String)]| format!("/transactions?{}", query_string(p));
        let next = listed.next.map(|id| {
            let mut p = base.clone();
            p.push(("before", id.to_string()));
            link(&p)
        });
        let more = [&q.created_from, &q.created_to, &q.card_last4, &q.return_code];
        ListPage {
            shell: Shell::new(req, staff, "transactions"),
            tabs: tab_links(&t, &q, tab),
            tab: tab_name(tab),
            rows: listed.rows.iter().map(|l| row(&t, l, tz)).collect(),
            errors: search.errors,
            filtered: !q.filters().is_empty(),
            more_open: more.iter().any(|v| given(v).is_some()),
            next,
            first_page: search.query.before.is_some().then(|| link(&base)),
            export: format!("/transactions.csv?{}", query_string(&base)),
            statuses: TxStatus::ALL
                .iter()
                .filter(|s| tab == Tab::All || tab_of(**s) == tab)
                .map(|s| Choice { value: s.as_str(), label: status_label(&t, *s) })
                .collect(),
            q,
            t,
        }
    }
}

/// The search's transactions as CSV, streamed: read and written page by page.
pub(super) async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let tz = staff.shop.settings.time_zone;
    let search = q.search(tz);
    if !search.errors.is_empty() {
        return Err(AppError::BadRequest("search"));
    }
    let pages = transaction_reads::export(&state.env.db, &present::scope(&req, &staff, &state), search.query).await?;
    let csv = Csv::new(Lang::of(&req));
    let body = pages.map(move |page| {
        let sep = csv.decimal_separator();
        csv.lines(
            page?.iter().map(|l| export_record(&l.transaction, l.reference.as_deref().unwrap_or_default(), tz, sep)),
        )
    });
    Ok(present::csv_download("paylink-transactions.csv", csv.head(&EXPORT_HEADER)?, body))
}

const EXPORT_HEADER: [&str; 29] = [
    "id",
    "created_at",
    "order_id",
    "reference",
    "mode",
    "status",
    "amount",
    "refunded_amount",
    "currency",
    "card_brand",
    "card_masked",
    "card_expiry",
    "three_ds",
    "return_code",
    "source",
    "capture_date",
    "captured_at",
    "validate_by",
    "buyer_last_name",
    "buyer_first_name",
    "buyer_email",
    "buyer_phone",
    "buyer_address",
    "buyer_postal_code",
    "buyer_city",
    "buyer_country",
    "info1",
    "info2",
    "info3",
];

/// A transaction as a line of the export (amounts with the language's decimal separator).
fn export_record(x: &Transaction, reference: &str, tz: Tz, sep: char) -> [String; 29] {
    let when = |t: NaiveDateTime| present::local_timestamp(t, tz);
    let b = x.buyer.clone().unwrap_or_default();
    let text = |v: &Option<String>| v.as_deref().map(cell).unwrap_or_default();
    [
        x.id.to_string(),
        when(x.created_at),
        x.order_id.0.to_string(),
        cell(reference),
        x.mode.as_str().to_string(),
        x.status.as_str().to_string(),
        x.amount.decimal(sep),
        Money { minor: x.refunded, currency: x.amount.currency }.decimal(sep),
        x.amount.currency.code().to_string(),
        cell(&x.card_brand),
        cell(&x.card_masked),
        cell(&x.card_expiry),
        x.three_ds.as_str().to_string(),
        cell(&x.return_code),
        x.source.as_str().to_string(),
        x.capture_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        x.captured_at.map(when).unwrap_or_default(),
        x.validate_by.map(when).unwrap_or_default(),
        text(&b.last_name),
        text(&b.first_name),
        text(&b.email),
        text(&b.phone),
        text(&b.address),
        text(&b.postal_code),
        text(&b.city),
        text(&b.country),
        text(&b.info1),
        text(&b.info2),
        text(&b.info3),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::backoffice::transactions::code_message;

    #[test]
    fn searches_name_their_bad_fields_and_a_status_picks_its_tab() {
        let q = ListQuery {
            tab: Some("in_progress".into()),
            status: Some("captured".into()),
            order_id: Some("#12".into()),
            card_last4: Some("0006".into()),
            created_to: Some("14/07/2026".into()),
            ..Default::default()
        };
        let s = q.search(chrono_tz::Europe::Paris);
        assert!(s.errors.is_empty());
        assert_eq!(s.query.tab, Tab::Captured);
        assert_eq!(s.query.filter.order_id, Some(OrderId(12)));
        assert_eq!(s.query.filter.created_to.unwrap().to_string(), "2026-07-14 22:00:00");
        let q = ListQuery { tab: Some("all".into()), status: Some("EXPIRED".into()), ..Default::default() };
        assert_eq!(q.search(chrono_tz::Europe::Paris).query.tab, Tab::All);
        let q = ListQuery {
            order_id: Some("x".into()),
            reference: Some("a b".into()),
            status: Some("PAID".into()),
            card_last4: Some("12345".into()),
            return_code: Some("0000".into()),
            created_from: Some("soon".into()),
            ..Default::default()
        };
        let fields: Vec<_> = q.search(chrono_tz::Europe::Paris).errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["order_id", "reference", "status", "created_from", "card_last4", "return_code"]);
    }

    #[test]
    fn return_codes_read_by_family() {
        let t = Tr::new(Lang::En);
        assert_eq!(code_message(&t, "00000"), t.get("transactions.code.00000"));
        assert_eq!(code_message(&t, "01999"), t.get("transactions.code.01xxx"));
        assert_eq!(code_message(&t, "04001"), t.get("transactions.code.04xxx"));
        assert_eq!(code_message(&t, "99999"), t.get("transactions.code.other"));
    }
}
