//! The detail of a transaction (card, 3-D Secure, return code, amounts, history) and the
//! actions its status offers: validate, capture now, change the capture date, cancel, refund.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Duration;
use serde::Deserialize;

use super::{code_message, shown_status, status_label};
use crate::acquirer::ThreeDsOutcome;
use crate::domain::FieldError;
use crate::domain::money::Money;
use crate::domain::order::{self, Channel};
use crate::domain::shop::ValidationMode;
use crate::domain::transaction::{Event, Transaction, TxStatus};
use crate::services::transaction_actions::{self, Action};
use crate::services::transaction_reads::{self, TxDetail};
use crate::web::AppState;
use crate::web::backoffice::{render, render_status, see_other};
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;
use crate::web::i18n::Tr;
use crate::web::present::{self, Fact, french, invalid, local_datetime};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

fn three_ds_label(t: &Tr, outcome: ThreeDsOutcome) -> &'static str {
    match outcome {
        ThreeDsOutcome::Frictionless => t.get("transactions.three_ds.FRICTIONLESS"),
        ThreeDsOutcome::ChallengePassed => t.get("transactions.three_ds.CHALLENGE_PASSED"),
        ThreeDsOutcome::ChallengeFailed => t.get("transactions.three_ds.CHALLENGE_FAILED"),
        ThreeDsOutcome::Failed => t.get("transactions.three_ds.FAILED"),
        ThreeDsOutcome::NotPerformed => t.get("transactions.three_ds.NOT_PERFORMED"),
        ThreeDsOutcome::AtService => t.get("transactions.three_ds.AT_SERVICE"),
    }
}

fn source_label(t: &Tr, source: Channel) -> &'static str {
    match source {
        Channel::Email => t.get("transactions.source.EMAIL"),
        Channel::Sms => t.get("transactions.source.SMS"),
        Channel::Url => t.get("transactions.source.URL"),
        Channel::Invoice => t.get("transactions.source.INVOICE"),
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
fn event_detail(t: &Tr, e: &Event) -> String {
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
                let day = |d: &str| {
                    present::parse_date(d).map(|d| order::format_date(d, t.lang)).unwrap_or_else(|| "—".into())
                };
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
    /// What the buyer answered on the collection form (label, value).
    buyer: Vec<(String, String)>,
    history: Vec<EventLine>,
    can_validate: bool,
    can_capture: bool,
    can_change_date: bool,
    can_cancel: bool,
    can_refund: bool,
    /// The buyer's saved card this payment used or saved is still kept: it can be deleted.
    can_delete_card: bool,
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
    loaded: &TxDetail,
    errors: Vec<FieldError>,
    typed: Typed,
) -> DetailPage {
    let t = tr(req);
    let fr = french(&t);
    let tz = staff.shop.settings.time_zone;
    let now = state.env.clock.now();
    let today = order::local_today(now, tz);
    let x = &loaded.transaction;
    let dash = || "—".to_string();
    let money = |minor: i64| Money { minor, currency: x.amount.currency }.display(t.lang);
    let mut card = vec![
        Fact { label: t.get("transactions.field.card_brand"), value: x.card_brand.clone() },
        Fact { label: t.get("transactions.field.card_number"), value: x.card_masked.clone() },
        Fact { label: t.get("transactions.field.card_expiry"), value: x.card_expiry.clone() },
    ];
    card.push(Fact {
        label: t.get("transactions.field.holder"),
        value: x.holder.clone().filter(|h| !h.trim().is_empty()).unwrap_or_else(dash),
    });
    card.push(Fact { label: t.get("transactions.field.three_ds"), value: three_ds_label(&t, x.three_ds).to_string() });
    if let Some(alias) = &x.saved_card {
        let value = match &loaded.saved_card {
            Some(c) => t.args(
                "transactions.saved_card.kept",
                &[("alias", alias.clone().into()), ("expiry", c.expiry.display().into())],
            ),
            None => t.args("transactions.saved_card.gone", &[("alias", alias.clone().into())]),
        };
        card.push(Fact { label: t.get("transactions.field.saved_card"), value });
    }
    let payment = vec![
        Fact {
            label: t.get("transactions.field.created"),
            value: format!("{} ({})", local_datetime(x.created_at, tz, fr), tz.name()),
        },
        Fact {
            label: t.get("transactions.field.return_code"),
            value: format!("{} — {}", x.return_code, code_message(&t, &x.return_code)),
        },
        Fact { label: t.get("transactions.field.receipt_no"), value: x.receipt_no.clone() },
        Fact { label: t.get("transactions.field.source"), value: source_label(&t, x.source).to_string() },
        Fact { label: t.get("transactions.field.buyer_email"), value: x.buyer_email.clone().unwrap_or_else(dash) },
        Fact { label: t.get("orders.field.mode"), value: x.mode.as_str().to_string() },
        Fact {
            label: t.get("transactions.field.validation_mode"),
            value: match x.validation_mode {
                ValidationMode::Manual => t.get("validation.MANUAL").to_string(),
                ValidationMode::Auto => t.get("validation.AUTO").to_string(),
            },
        },
        Fact {
            label: t.get("transactions.field.capture_date"),
            value: x.capture_date.map(|d| order::format_date(d, t.lang)).unwrap_or_else(dash),
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
            value: if x.status == TxStatus::Captured { rest.display(t.lang) } else { money(0) },
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
            detail: event_detail(&t, e),
        })
        .collect();
    let write = staff.can_write();
    let can = x.actions(now.naive_utc());
    DetailPage {
        shell: Shell::new(req, staff, "transactions"),
        id: x.id,
        status_label: shown_status(&t, x).0,
        status_class: shown_status(&t, x).1,
        order_id: x.order_id.0,
        order_label: loaded.reference.clone().unwrap_or_else(|| format!("#{}", x.order_id)),
        card,
        payment,
        amounts,
        buyer: x.buyer.as_ref().map(|b| present::buyer_facts(&t, b, &loaded.custom_labels)).unwrap_or_default(),
        history,
        can_validate: write && can.validate,
        // What `capture_early` accepts: a manual transaction is validated first.
        can_capture: write && can.capture,
        can_change_date: write && can.change_capture_date,
        can_cancel: write && can.cancel,
        can_refund: write && can.refund,
        can_delete_card: write && loaded.saved_card.is_some(),
        capture_date_value: typed
            .capture_date
            .unwrap_or_else(|| x.capture_date.map(|d| d.max(today)).unwrap_or(today).format("%Y-%m-%d").to_string()),
        min_date: today.format("%Y-%m-%d").to_string(),
        max_date: (today + Duration::days(365)).format("%Y-%m-%d").to_string(),
        // Never the whole amount by default: the merchant types what to refund.
        refund_value: typed.amount.unwrap_or_default(),
        refund_hint: match x.refund_deadline() {
            Some(d) => format!(
                "{} {} · {} {}",
                t.get("transactions.refund.at_most"),
                rest.display(t.lang),
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
const DONE: [(&str, &str); 6] = [
    ("card_deleted", "transactions.done.card_deleted"),
    ("validated", "transactions.done.validated"),
    ("captured", "transactions.done.captured"),
    ("capture_date", "transactions.done.capture_date"),
    ("cancelled", "transactions.done.cancelled"),
    ("refunded", "transactions.done.refunded"),
];

#[derive(Deserialize)]
pub(super) struct DetailQuery {
    done: Option<String>,
}

pub(super) async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    q: web::Query<DetailQuery>,
) -> Result<HttpResponse, AppError> {
    let scope = present::scope(&req, &staff, &state);
    let loaded = transaction_reads::detail(&state.env.db, &scope, id.into_inner()).await?;
    let mut page = detail_page(&req, &staff, &state, &loaded, Vec::new(), Typed::default());
    page.notice = present::done_notice(&page.t, q.done.as_deref(), &DONE);
    render(&page)
}

#[derive(Deserialize)]
pub(super) struct Empty {}

/// Runs one action on a transaction, then back to its detail; a refusal of what was typed
/// shows the detail again with the refusal next to its field.
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
    let typed = match &action {
        Action::CaptureDate(raw) => Typed { capture_date: Some(raw.clone()), amount: None },
        Action::Refund(raw) => Typed { capture_date: None, amount: Some(raw.clone()) },
        _ => Typed::default(),
    };
    let errors = match transaction_actions::act(&state.env(), &scope, id, action).await {
        Ok(_) => return Ok(see_other(&format!("/transactions/{id}?done={done}"))),
        Err(e) => invalid(e)?,
    };
    let loaded = transaction_reads::detail(&state.env.db, &scope, id).await?;
    let page = detail_page(&req, &staff, &state, &loaded, errors, typed);
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

pub(super) async fn validate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "validated", Action::Validate).await
}

pub(super) async fn capture(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "captured", Action::CaptureNow).await
}

pub(super) async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "cancelled", Action::Cancel).await
}

#[derive(Deserialize)]
pub(super) struct CaptureDateForm {
    #[serde(default)]
    capture_date: String,
}

pub(super) async fn change_capture_date(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<CaptureDateForm>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "capture_date", Action::CaptureDate(form.capture_date)).await
}

#[derive(Deserialize)]
pub(super) struct RefundForm {
    #[serde(default)]
    amount: String,
    /// Present once the merchant has seen the refund spelled out and confirmed it.
    confirm: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/refund_confirm.html")]
struct ConfirmRefundPage {
    t: Tr,
    shell: Shell,
    id: i64,
    /// The amount as typed, sent again with the confirmation.
    amount: String,
    question: String,
    left: String,
}

/// A refund in two steps: the amount typed is checked and spelled out (how much, to which
/// card, what is left) for the merchant to confirm; only the confirmation refunds.
pub(super) async fn refund(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RefundForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    // The amount is typed in the transaction's currency.
    if form.confirm.is_some() {
        return act(req, state, staff, id, "refunded", Action::Refund(form.amount)).await;
    }
    staff.require_write()?;
    let scope = present::scope(&req, &staff, &state);
    let errors = match transaction_actions::check_refund(&state.env(), &scope, id, &form.amount).await {
        Ok((x, amount)) => {
            let t = tr(&req);
            let now = state.env.clock.now().naive_utc();
            let left = x.refundable(now).checked_sub(amount).unwrap_or(Money { minor: 0, ..amount });
            let card = format!("{} {}", x.card_brand, x.card_masked);
            let page = ConfirmRefundPage {
                shell: Shell::new(&req, &staff, "transactions"),
                id,
                amount: form.amount,
                question: t.args(
                    "transactions.refund.confirm_question",
                    &[("amount", amount.display(t.lang).into()), ("card", card.into())],
                ),
                left: t.args("transactions.refund.confirm_left", &[("left", left.display(t.lang).into())]),
                t,
            };
            return render(&page);
        }
        Err(e) => invalid(e)?,
    };
    let loaded = transaction_reads::detail(&state.env.db, &scope, id).await?;
    let typed = Typed { capture_date: None, amount: Some(form.amount) };
    let page = detail_page(&req, &staff, &state, &loaded, errors, typed);
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Deletes the buyer's saved card this payment used or saved (and its number from the vault).
pub(super) async fn delete_saved_card(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (scope, id) = (present::scope(&req, &staff, &state), id.into_inner());
    transaction_actions::delete_saved_card(&state.env(), &scope, id).await?;
    Ok(see_other(&format!("/transactions/{id}?done=card_deleted")))
}
