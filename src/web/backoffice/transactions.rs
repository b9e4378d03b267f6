//! Transactions in the back office (DESIGN §3, seed 001 §10.1, seed 004): the list in three
//! tabs (in progress, captured, refused / cancelled / expired) with its search, keyset pages
//! and CSV export; the detail with the card, 3-D Secure, return code, amounts, history, and
//! exactly the actions its status offers — validate, capture now, change the capture date,
//! cancel, refund.
//!
//! Handlers parse, make one service (or store) call inside `db.read`/`db.write`, and render.
//! Everything is scoped to the session's shop and mode, like the orders: another shop's (or
//! the other mode's) transaction is a 404.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use serde::Deserialize;

use super::{render, render_status, see_other};
use crate::acquirer::{ThreeDsOutcome, codes};
use crate::db::{DbConn, DbError};
use crate::domain::FieldError;
use crate::domain::clock::Clock;
use crate::domain::ids::OrderId;
use crate::domain::money::Money;
use crate::domain::order::{self, Channel};
use crate::services::payments::{self as service, REFUND_DAYS, TxContext};
use crate::services::{Scope, ServiceError, ServiceResult};
use crate::store::orders as order_store;
use crate::store::transactions::{self as store, Event, Tab, Transaction, TxFilter, TxStatus};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{
    self, Choice, Csv, Fact, cell, channel_label, date_bound, french, given, invalid, local_datetime, query_string,
    reference_search,
};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

/// Rows per page of the list.
const PAGE: i64 = 50;
/// Rows read per query while exporting.
const EXPORT_BATCH: i64 = 1000;
/// An export is bounded so that one click cannot hold the database for minutes.
const EXPORT_MAX: usize = 100_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/transactions", web::get().to(list))
        .route("/transactions.csv", web::get().to(export))
        .route("/transactions/{id}", web::get().to(detail))
        .route("/transactions/{id}/validate", web::post().to(validate))
        .route("/transactions/{id}/capture", web::post().to(capture))
        .route("/transactions/{id}/capture-date", web::post().to(change_capture_date))
        .route("/transactions/{id}/cancel", web::post().to(cancel))
        .route("/transactions/{id}/refunds", web::post().to(refund));
}

// ---------------------------------------------------------------------------------------
// Shared pieces

pub fn status_label(t: &Tr, s: TxStatus) -> &'static str {
    match s {
        TxStatus::Authorised => t.get("transactions.status.AUTHORISED"),
        TxStatus::AuthorisedToValidate => t.get("transactions.status.AUTHORISED_TO_VALIDATE"),
        TxStatus::Captured => t.get("transactions.status.CAPTURED"),
        TxStatus::Refused => t.get("transactions.status.REFUSED"),
        TxStatus::Cancelled => t.get("transactions.status.CANCELLED"),
        TxStatus::Expired => t.get("transactions.status.EXPIRED"),
    }
}

fn status_class(s: TxStatus) -> &'static str {
    match s {
        TxStatus::Authorised => "authorised",
        TxStatus::AuthorisedToValidate => "to-validate",
        TxStatus::Captured => "captured",
        TxStatus::Refused => "refused",
        TxStatus::Cancelled => "cancelled",
        TxStatus::Expired => "expired",
    }
}

fn three_ds_label(t: &Tr, raw: &str) -> &'static str {
    match ThreeDsOutcome::parse(raw) {
        Some(ThreeDsOutcome::Frictionless) => t.get("transactions.three_ds.FRICTIONLESS"),
        Some(ThreeDsOutcome::ChallengePassed) => t.get("transactions.three_ds.CHALLENGE_PASSED"),
        Some(ThreeDsOutcome::ChallengeFailed) => t.get("transactions.three_ds.CHALLENGE_FAILED"),
        Some(ThreeDsOutcome::Failed) => t.get("transactions.three_ds.FAILED"),
        Some(ThreeDsOutcome::NotPerformed) | None => t.get("transactions.three_ds.NOT_PERFORMED"),
    }
}

/// The same, shorter, for a column of the list.
fn three_ds_short(t: &Tr, raw: &str) -> &'static str {
    match ThreeDsOutcome::parse(raw) {
        Some(ThreeDsOutcome::Frictionless) => t.get("transactions.three_ds_short.FRICTIONLESS"),
        Some(ThreeDsOutcome::ChallengePassed) => t.get("transactions.three_ds_short.CHALLENGE_PASSED"),
        Some(ThreeDsOutcome::ChallengeFailed) => t.get("transactions.three_ds_short.CHALLENGE_FAILED"),
        Some(ThreeDsOutcome::Failed) => t.get("transactions.three_ds_short.FAILED"),
        Some(ThreeDsOutcome::NotPerformed) | None => t.get("transactions.three_ds_short.NOT_PERFORMED"),
    }
}

/// The channel of the order, for a column of the list.
fn source_short(t: &Tr, raw: &str) -> &'static str {
    Channel::parse(raw).map_or_else(|| t.get("transactions.source.other"), |c| channel_label(t, c))
}

fn source_label(t: &Tr, raw: &str) -> &'static str {
    match Channel::parse(raw) {
        Some(Channel::Email) => t.get("transactions.source.EMAIL"),
        Some(Channel::Sms) => t.get("transactions.source.SMS"),
        Some(Channel::Url) => t.get("transactions.source.URL"),
        Some(Channel::Invoice) => t.get("transactions.source.INVOICE"),
        None => t.get("transactions.source.other"),
    }
}

/// The return code's meaning (seed 004): the known codes, else by family.
pub fn code_message(t: &Tr, code: &str) -> &'static str {
    match code {
        codes::ACCEPTED => t.get("transactions.code.00000"),
        codes::BANK_REFUSAL => t.get("transactions.code.01005"),
        codes::UNKNOWN_TEST_CARD => t.get("transactions.code.01014"),
        codes::MIT_NOT_ALLOWED => t.get("transactions.code.01057"),
        codes::WRONG_CVV => t.get("transactions.code.01063"),
        codes::AUTHENTICATION_FAILED => t.get("transactions.code.01078"),
        codes::CANCELLED_BY_BUYER => t.get("transactions.code.02008"),
        codes::SESSION_EXPIRED => t.get("transactions.code.02324"),
        codes::SUSPECTED_FRAUD => t.get("transactions.code.04059"),
        c if c.starts_with("01") => t.get("transactions.code.01xxx"),
        c if c.starts_with("04") => t.get("transactions.code.04xxx"),
        _ => t.get("transactions.code.other"),
    }
}

fn event_label(t: &Tr, kind: &str) -> &'static str {
    match kind {
        "created" => t.get("transactions.event.created"),
        "validated" => t.get("transactions.event.validated"),
        "captured" => t.get("transactions.event.captured"),
        "capture_date_changed" => t.get("transactions.event.capture_date_changed"),
        "cancelled" => t.get("transactions.event.cancelled"),
        "refunded" => t.get("transactions.event.refunded"),
        "expired" => t.get("transactions.event.expired"),
        _ => t.get("transactions.event.other"),
    }
}

/// A history line's detail in the reader's language (the stored detail is for the log).
fn event_detail(t: &Tr, fr: bool, e: &Event) -> String {
    match e.kind.as_str() {
        "created" => match e.detail.split_once(' ') {
            Some((status, code)) => {
                let status = TxStatus::parse(status).map(|s| status_label(t, s)).unwrap_or_default();
                format!("{status} · {code} — {}", code_message(t, code))
            }
            None => String::new(),
        },
        "captured" => match e.detail.as_str() {
            "capture date reached" => t.get("transactions.history.capture_date_reached").to_string(),
            "captured early by the merchant" => t.get("transactions.history.captured_early").to_string(),
            "captured with the authorisation" => t.get("transactions.history.captured_at_once").to_string(),
            _ => String::new(),
        },
        "capture_date_changed" => match e.detail.split_once(" -> ") {
            Some((from, to)) => {
                let day =
                    |d: &str| present::parse_date(d).map(|d| order::format_date(d, fr)).unwrap_or_else(|| "—".into());
                format!("{} → {}", day(from), day(to))
            }
            None => String::new(),
        },
        _ => String::new(),
    }
}

fn refundable(tx: &Transaction) -> Money {
    Money { minor: (tx.amount.minor - tx.refunded).max(0), currency: tx.amount.currency }
}

/// The last instant a captured transaction may be refunded.
fn refund_deadline(tx: &Transaction) -> Option<NaiveDateTime> {
    tx.captured_at.map(|c| c + Duration::days(REFUND_DAYS))
}

// ---------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default, Clone)]
struct ListQuery {
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

const TABS: [(&str, Tab); 4] =
    [("in_progress", Tab::InProgress), ("captured", Tab::Captured), ("others", Tab::Others), ("all", Tab::All)];

fn tab_name(tab: Tab) -> &'static str {
    TABS.iter().find(|(_, t)| *t == tab).map_or("in_progress", |(n, _)| n)
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

struct Search {
    tab: Tab,
    filter: TxFilter,
    before: Option<i64>,
    errors: Vec<FieldError>,
}

impl ListQuery {
    fn search(&self, tz: Tz) -> Search {
        let mut errors = Vec::new();
        let mut f = TxFilter::default();
        let mut tab =
            given(&self.tab).and_then(|n| TABS.iter().find(|(name, _)| *name == n)).map_or(Tab::InProgress, |t| t.1);
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
        Search { tab, filter: f, before, errors }
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
fn references(conn: &mut DbConn, txs: &[Transaction]) -> Result<Vec<(i64, Option<String>)>, DbError> {
    let ids: Vec<OrderId> = txs.iter().map(|t| t.order_id).collect();
    Ok(store::order_references(conn, &ids)?)
}

fn reference_of(refs: &[(i64, Option<String>)], order: OrderId) -> String {
    refs.iter().find(|(id, _)| *id == order.0).and_then(|(_, r)| r.clone()).unwrap_or_default()
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let t = tr(&req);
    let fr = french(&t);
    let tz = staff.shop.settings.time_zone;
    let search = q.search(tz);
    let (shop, mode) = (staff.shop.id, staff.mode);
    let ok = search.errors.is_empty();
    let (tab, filter, before) = (search.tab, search.filter.clone(), search.before);
    let page = state
        .db
        .read(move |conn| {
            if !ok {
                return Ok::<_, DbError>(None);
            }
            let (txs, next) = store::list(conn, &[shop], mode, tab, &filter, before, PAGE)?;
            let refs = references(conn, &txs)?;
            Ok(Some((txs, next, refs)))
        })
        .await?;
    let (txs, next, refs) = page.unwrap_or_default();
    let rows = txs
        .iter()
        .map(|x| Row {
            id: x.id,
            created: local_datetime(x.created_at, tz, fr)
                .split_once(' ')
                .map(|(d, h)| (d.into(), h.into()))
                .unwrap_or_default(),
            order_id: x.order_id.0,
            reference: reference_of(&refs, x.order_id),
            amount: x.amount.display(fr),
            refunded: if x.refunded > 0 {
                Money { minor: x.refunded, currency: x.amount.currency }.display(fr)
            } else {
                String::new()
            },
            status: status_label(&t, x.status),
            status_class: status_class(x.status),
            card_brand: x.card_brand.clone(),
            card_masked: x.card_masked.clone(),
            three_ds: three_ds_short(&t, &x.three_ds),
            return_code: x.return_code.clone(),
            code_message: code_message(&t, &x.return_code),
            source: source_short(&t, &x.source),
            capture_date: x.capture_date.map(|d| order::format_date(d, fr)).unwrap_or_default(),
        })
        .collect();
    let mut base = q.filters();
    base.insert(0, ("tab", tab_name(tab).to_string()));
    let next = next.map(|id| {
        let mut p = base.clone();
        p.push(("before", id.to_string()));
        format!("/transactions?{}", query_string(&p))
    });
    let first_page = search.before.is_some().then(|| format!("/transactions?{}", query_string(&base)));
    // Tab links keep the search but not a status, which belongs to one tab.
    let kept: Vec<(&'static str, String)> = q.filters().into_iter().filter(|(k, _)| *k != "status").collect();
    let tabs = TABS
        .iter()
        .map(|(name, x)| {
            let mut p = vec![("tab", name.to_string())];
            p.extend(kept.iter().cloned());
            TabLink {
                label: tab_label(&t, *x),
                href: format!("/transactions?{}", query_string(&p)),
                current: *x == tab,
            }
        })
        .collect();
    let more_open = [&q.created_from, &q.created_to, &q.card_last4, &q.return_code].iter().any(|v| given(v).is_some());
    let page = ListPage {
        shell: Shell::new(&req, &staff, "transactions"),
        tabs,
        tab: tab_name(tab),
        rows,
        errors: search.errors,
        filtered: !q.filters().is_empty(),
        more_open,
        next,
        first_page,
        export: format!("/transactions.csv?{}", query_string(&base)),
        statuses: TxStatus::ALL
            .iter()
            .filter(|s| tab == Tab::All || tab_of(**s) == tab)
            .map(|s| Choice { value: s.as_str(), label: status_label(&t, *s) })
            .collect(),
        q,
        t,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(&page, status)
}

async fn export(
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
    let (shop, mode) = (staff.shop.id, staff.mode);
    let (tab, filter) = (search.tab, search.filter);
    let (txs, refs) = state
        .db
        .read(move |conn| {
            let mut all = Vec::new();
            let mut before: Option<i64> = None;
            loop {
                let (page, next) = store::list(conn, &[shop], mode, tab, &filter, before, EXPORT_BATCH)?;
                all.extend(page);
                match next {
                    Some(id) if all.len() < EXPORT_MAX => before = Some(id),
                    _ => break,
                }
            }
            all.truncate(EXPORT_MAX);
            let mut refs = Vec::new();
            for chunk in all.chunks(EXPORT_BATCH as usize) {
                refs.extend(references(conn, chunk)?);
            }
            Ok::<_, DbError>((all, refs))
        })
        .await?;
    let csv = Csv::new(Lang::of(&req));
    let head = csv.head(&EXPORT_HEADER)?;
    let sep = csv.decimal_separator();
    let body = csv.lines(txs.iter().map(|x| export_record(x, &reference_of(&refs, x.order_id), tz, sep)))?;
    Ok(present::csv_download("paylink-transactions.csv", head, futures_util::stream::once(async { Ok(body) })))
}

const EXPORT_HEADER: [&str; 18] = [
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
];

/// A transaction as a line of the export (amounts with the language's decimal separator).
fn export_record(x: &Transaction, reference: &str, tz: Tz, sep: char) -> [String; 18] {
    let when = |t: NaiveDateTime| present::local_timestamp(t, tz);
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
        x.three_ds.clone(),
        cell(&x.return_code),
        x.source.clone(),
        x.capture_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        x.captured_at.map(when).unwrap_or_default(),
        x.validate_by.map(when).unwrap_or_default(),
    ]
}

// ---------------------------------------------------------------------------------------
// The detail

pub struct EventLine {
    pub when: String,
    pub label: &'static str,
    pub amount: String,
    pub actor: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/transaction_detail.html")]
struct DetailPage {
    t: Tr,
    shell: Shell,
    id: i64,
    status_label: &'static str,
    status_class: &'static str,
    order_id: i64,
    order_label: String,
    card: Vec<Fact>,
    payment: Vec<Fact>,
    amounts: Vec<Fact>,
    history: Vec<EventLine>,
    can_validate: bool,
    can_capture: bool,
    can_change_date: bool,
    can_cancel: bool,
    can_refund: bool,
    capture_date_value: String,
    min_date: String,
    max_date: String,
    refund_value: String,
    refund_hint: String,
    currency: &'static str,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
}

impl DetailPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        present::field_error(&self.t, &self.errors, field)
    }

    fn has_actions(&self) -> bool {
        self.can_validate || self.can_capture || self.can_change_date || self.can_cancel || self.can_refund
    }
}

/// What the detail shows: the transaction, its history, its order's reference.
struct Loaded {
    tx: Transaction,
    events: Vec<Event>,
    reference: Option<String>,
}

async fn load(state: &AppState, scope: Scope, id: i64) -> Result<Loaded, AppError> {
    Ok(state
        .db
        .read(move |conn| {
            let tx = service::load(conn, &scope.transactions(), id)?;
            let events = store::events(conn, tx.id)?;
            let reference =
                order_store::find(conn, &[scope.shop.id], scope.mode, tx.order_id)?.and_then(|o| o.reference);
            Ok::<_, ServiceError>(Loaded { tx, events, reference })
        })
        .await?)
}

/// The values the forms show again after a refusal.
#[derive(Default)]
struct Typed {
    capture_date: Option<String>,
    amount: Option<String>,
}

fn detail_page(
    req: &HttpRequest,
    staff: &Staff,
    state: &AppState,
    loaded: &Loaded,
    errors: Vec<FieldError>,
    typed: Typed,
) -> DetailPage {
    let t = tr(req);
    let fr = french(&t);
    let tz = staff.shop.settings.time_zone;
    let now = state.clock.now();
    let today = order::local_today(now, tz);
    let x = &loaded.tx;
    let dash = || "—".to_string();
    let money = |minor: i64| Money { minor, currency: x.amount.currency }.display(fr);
    let mut card = vec![
        Fact { label: t.get("transactions.field.card_brand"), value: x.card_brand.clone() },
        Fact { label: t.get("transactions.field.card_number"), value: x.card_masked.clone() },
        Fact { label: t.get("transactions.field.card_expiry"), value: x.card_expiry.clone() },
    ];
    card.push(Fact {
        label: t.get("transactions.field.holder"),
        value: x.holder.clone().filter(|h| !h.trim().is_empty()).unwrap_or_else(dash),
    });
    card.push(Fact { label: t.get("transactions.field.three_ds"), value: three_ds_label(&t, &x.three_ds).to_string() });
    let payment = vec![
        Fact {
            label: t.get("transactions.field.created"),
            value: format!("{} ({})", local_datetime(x.created_at, tz, fr), tz.name()),
        },
        Fact {
            label: t.get("transactions.field.return_code"),
            value: format!("{} — {}", x.return_code, code_message(&t, &x.return_code)),
        },
        Fact { label: t.get("transactions.field.source"), value: source_label(&t, &x.source).to_string() },
        Fact { label: t.get("transactions.field.buyer_email"), value: x.buyer_email.clone().unwrap_or_else(dash) },
        Fact { label: t.get("orders.field.mode"), value: x.mode.as_str().to_string() },
        Fact {
            label: t.get("transactions.field.validation_mode"),
            value: match x.validation_mode.as_str() {
                "MANUAL" => t.get("validation.MANUAL").to_string(),
                _ => t.get("validation.AUTO").to_string(),
            },
        },
        Fact {
            label: t.get("transactions.field.capture_date"),
            value: x.capture_date.map(|d| order::format_date(d, fr)).unwrap_or_else(dash),
        },
        Fact {
            label: t.get("transactions.field.validate_by"),
            value: x.validate_by.map(|v| local_datetime(v, tz, fr)).unwrap_or_else(dash),
        },
        Fact {
            label: t.get("transactions.field.captured_at"),
            value: x.captured_at.map(|v| local_datetime(v, tz, fr)).unwrap_or_else(dash),
        },
        Fact { label: t.get("transactions.field.acquirer_ref"), value: x.acquirer_ref.clone() },
    ];
    let captured = if x.status == TxStatus::Captured { x.amount.minor } else { 0 };
    let rest = refundable(x);
    let amounts = vec![
        Fact {
            label: t.get("transactions.field.authorised"),
            value: if x.status.accepted() || x.status == TxStatus::Cancelled || x.status == TxStatus::Expired {
                money(x.amount.minor)
            } else {
                money(0)
            },
        },
        Fact { label: t.get("transactions.field.captured"), value: money(captured) },
        Fact { label: t.get("transactions.field.refunded"), value: money(x.refunded) },
        Fact {
            label: t.get("transactions.field.refundable"),
            value: if x.status == TxStatus::Captured { rest.display(fr) } else { money(0) },
        },
    ];
    let history = loaded
        .events
        .iter()
        .map(|e| EventLine {
            when: local_datetime(e.created_at, tz, fr),
            label: event_label(&t, &e.kind),
            amount: e.amount.map(money).unwrap_or_default(),
            actor: match e.actor.as_str() {
                "system" => t.get("transactions.actor.system").to_string(),
                "buyer" => t.get("transactions.actor.buyer").to_string(),
                other => other.to_string(),
            },
            detail: event_detail(&t, fr, e),
        })
        .collect();
    let write = staff.can_write();
    let authorised = matches!(x.status, TxStatus::Authorised | TxStatus::AuthorisedToValidate);
    let deadline = refund_deadline(x);
    let in_time = deadline.is_some_and(|d| now.naive_utc() <= d);
    let sep = if fr { ',' } else { '.' };
    DetailPage {
        shell: Shell::new(req, staff, "transactions"),
        id: x.id,
        status_label: status_label(&t, x.status),
        status_class: status_class(x.status),
        order_id: x.order_id.0,
        order_label: loaded.reference.clone().unwrap_or_else(|| format!("#{}", x.order_id)),
        card,
        payment,
        amounts,
        history,
        can_validate: write && x.status == TxStatus::AuthorisedToValidate,
        // What `capture_early` accepts: a manual transaction is validated first.
        can_capture: write && x.status == TxStatus::Authorised,
        can_change_date: write && authorised,
        can_cancel: write && authorised,
        can_refund: write && x.status == TxStatus::Captured && rest.minor > 0 && in_time,
        capture_date_value: typed
            .capture_date
            .unwrap_or_else(|| x.capture_date.map(|d| d.max(today)).unwrap_or(today).format("%Y-%m-%d").to_string()),
        min_date: today.format("%Y-%m-%d").to_string(),
        max_date: (today + Duration::days(365)).format("%Y-%m-%d").to_string(),
        refund_value: typed.amount.unwrap_or_else(|| rest.decimal(sep)),
        refund_hint: match deadline {
            Some(d) => format!(
                "{} {} · {} {}",
                t.get("transactions.refund.at_most"),
                rest.display(fr),
                t.get("transactions.refund.until"),
                local_datetime(d, tz, fr)
            ),
            None => String::new(),
        },
        currency: x.amount.currency.code(),
        errors,
        notice: None,
        t,
    }
}

/// The notices of the `?done=` redirects of the detail's actions.
const DONE: [(&str, &str); 5] = [
    ("validated", "transactions.done.validated"),
    ("captured", "transactions.done.captured"),
    ("capture_date", "transactions.done.capture_date"),
    ("cancelled", "transactions.done.cancelled"),
    ("refunded", "transactions.done.refunded"),
];

#[derive(Deserialize)]
struct DetailQuery {
    done: Option<String>,
}

async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    q: web::Query<DetailQuery>,
) -> Result<HttpResponse, AppError> {
    let loaded = load(&state, present::scope(&req, &staff, &state), id.into_inner()).await?;
    let mut page = detail_page(&req, &staff, &state, &loaded, Vec::new(), Typed::default());
    page.notice = present::done_notice(&page.t, q.done.as_deref(), &DONE);
    render(&page)
}

#[derive(Deserialize)]
struct Empty {}

type Action = fn(&mut DbConn, &dyn Clock, &TxContext<'_>, i64) -> ServiceResult<Transaction>;

/// Runs one action on a transaction in a write transaction, then back to its detail.
async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: i64,
    done: &str,
    action: Action,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let scope = present::scope(&req, &staff, &state);
    let clock = state.clock.clone();
    state.db.write(move |conn| action(conn, clock.as_ref(), &scope.transactions(), id)).await?;
    Ok(see_other(&format!("/transactions/{id}?done={done}")))
}

async fn validate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "validated", service::validate).await
}

async fn capture(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "captured", service::capture_early).await
}

async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "cancelled", service::cancel).await
}

/// The detail again, 422, with the refusals next to their fields.
async fn refused(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
    errors: Vec<FieldError>,
    typed: Typed,
) -> Result<HttpResponse, AppError> {
    let loaded = load(state, present::scope(req, staff, state), id).await?;
    let page = detail_page(req, staff, state, &loaded, errors, typed);
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Deserialize)]
struct CaptureDateForm {
    #[serde(default)]
    capture_date: String,
}

async fn change_capture_date(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CaptureDateForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id.into_inner();
    let scope = present::scope(&req, &staff, &state);
    let clock = state.clock.clone();
    let raw = form.capture_date.clone();
    let changed = state
        .db
        .write(move |conn| service::change_capture_date(conn, clock.as_ref(), &scope.transactions(), id, &raw))
        .await;
    let errors = match changed {
        Ok(_) => return Ok(see_other(&format!("/transactions/{id}?done=capture_date"))),
        Err(e) => invalid(e)?,
    };
    refused(&req, &state, &staff, id, errors, Typed { capture_date: Some(form.capture_date), amount: None }).await
}

#[derive(Deserialize)]
struct RefundForm {
    #[serde(default)]
    amount: String,
}

async fn refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RefundForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id.into_inner();
    // The amount is typed in the transaction's currency.
    let scope = present::scope(&req, &staff, &state);
    let currency = state.db.read(move |conn| service::load(conn, &scope.transactions(), id)).await?.amount.currency;
    let errors = match Money::parse(&form.amount, currency) {
        Ok(amount) => {
            let scope = present::scope(&req, &staff, &state);
            let clock = state.clock.clone();
            let done = state
                .db
                .write(move |conn| service::refund(conn, clock.as_ref(), &scope.transactions(), id, amount))
                .await;
            match done {
                Ok(_) => return Ok(see_other(&format!("/transactions/{id}?done=refunded"))),
                Err(e) => invalid(e)?,
            }
        }
        Err(e) => vec![e],
    };
    refused(&req, &state, &staff, id, errors, Typed { capture_date: None, amount: Some(form.amount) }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_name_their_bad_fields_and_a_status_picks_its_tab() {
        let q = ListQuery {
            status: Some("captured".into()),
            order_id: Some("#12".into()),
            card_last4: Some("0006".into()),
            created_to: Some("14/07/2026".into()),
            ..Default::default()
        };
        let s = q.search(chrono_tz::Europe::Paris);
        assert!(s.errors.is_empty());
        assert_eq!(s.tab, Tab::Captured);
        assert_eq!(s.filter.order_id, Some(OrderId(12)));
        assert_eq!(s.filter.created_to.unwrap().to_string(), "2026-07-14 22:00:00");
        let q = ListQuery { tab: Some("all".into()), status: Some("EXPIRED".into()), ..Default::default() };
        assert_eq!(q.search(chrono_tz::Europe::Paris).tab, Tab::All);
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
