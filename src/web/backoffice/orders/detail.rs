//! The detail of an order (its facts, its message tab, its messages sent), its actions, the
//! QR codes of its link and its e-mails written as files.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::{created_local, require_action};
use crate::domain::FieldError;
use crate::domain::ids::OrderId;
use crate::domain::order::{self, Action, Channel};
use crate::domain::outbox::{JobStatus, Kind};
use crate::domain::sms;
use crate::services::messaging;
use crate::services::order_actions::{self, Change};
use crate::services::order_reads::{self, OrderDetail};
use crate::services::orders::{self as service, Rendered};
use crate::web::AppState;
use crate::web::backoffice::{render, render_status, see_other};
use crate::web::error::AppError;
use crate::web::forms::CsrfForm;
use crate::web::i18n::Tr;
use crate::web::present::{
    self, Fact, alias_label, channel_label, delivery_class, delivery_label, french, invalid, language_label,
    local_datetime, order_status_class, order_status_label, three_ds_preference_label, validation_label,
};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

fn job_status_label(t: &Tr, s: JobStatus) -> &'static str {
    match s {
        JobStatus::Pending => t.get("orders.job.PENDING"),
        JobStatus::Sent => t.get("orders.job.SENT"),
        JobStatus::Failed => t.get("orders.job.FAILED"),
        JobStatus::Held => t.get("orders.job.HELD"),
        JobStatus::Written => t.get("orders.job.WRITTEN"),
    }
}

// ---------------------------------------------------------------------------------------
// The detail

pub struct JobLine {
    pub id: i64,
    pub kind: &'static str,
    pub status: &'static str,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created: String,
    pub sent: Option<String>,
    pub eml: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/order_detail.html")]
struct DetailPage {
    t: Tr,
    shell: Shell,
    id: i64,
    title: String,
    channel_name: &'static str,
    channel_label: &'static str,
    status_label: &'static str,
    status_class: &'static str,
    delivery_label: &'static str,
    delivery_class: &'static str,
    last_error: Option<String>,
    facts: Vec<Fact>,
    message_tab: bool,
    link: String,
    paste_text: String,
    collect_url: String,
    /// The form with this invoice's reference filled in (its QR code's address).
    invoice_url: String,
    reference: String,
    rendered: Rendered,
    sms_segments: usize,
    jobs: Vec<JobLine>,
    actions: Vec<Action>,
    can_write: bool,
    transaction_id: Option<i64>,
    validity_value: String,
    min_date: String,
    max_date: String,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
    qr_name: String,
    schedule: Option<ScheduleView>,
}

/// An order's schedule of instalments on its detail.
pub struct ScheduleView {
    status: &'static str,
    status_class: &'static str,
    card: String,
    rows: Vec<InstalmentLine>,
    /// The order offering the unpaid balance: its id and amount.
    balance: Option<(i64, String)>,
    /// Instalments are still to be charged: the merchant may stop them.
    running: bool,
}

pub struct InstalmentLine {
    index: u8,
    count: u8,
    due: String,
    amount: String,
    status: &'static str,
    status_class: &'static str,
    tries: u8,
    last_code: Option<String>,
    transaction: Option<i64>,
}

fn schedule_view(
    t: &Tr,
    s: &crate::services::schedules::Schedule,
    currency: crate::domain::money::Currency,
) -> ScheduleView {
    use crate::domain::schedule::{InstalmentStatus as I, PlanStatus as P};
    let (status, status_class) = match s.plan.status {
        P::Pending | P::Running => (t.get("orders.schedule.RUNNING"), "running"),
        P::Completed => (t.get("orders.schedule.COMPLETED"), "paid"),
        P::Failed => (t.get("orders.schedule.FAILED"), "refused"),
        P::Cancelled => (t.get("orders.schedule.CANCELLED"), "cancelled"),
    };
    ScheduleView {
        status,
        status_class,
        card: format!("{} {}", s.plan.card_brand, crate::domain::card::last_four(&s.plan.card_masked)),
        rows: s
            .instalments
            .iter()
            .map(|i| {
                let (status, status_class) = match i.status {
                    I::Pending => (t.get("orders.instalment.PENDING"), "running"),
                    I::Charging => (t.get("orders.instalment.CHARGING"), "running"),
                    I::Paid => (t.get("orders.instalment.PAID"), "paid"),
                    I::Failed => (t.get("orders.instalment.FAILED"), "refused"),
                    I::Cancelled => (t.get("orders.instalment.CANCELLED"), "cancelled"),
                };
                InstalmentLine {
                    index: i.index,
                    count: s.plan.count,
                    due: order::format_date(i.due_on, t.lang),
                    amount: crate::domain::money::Money { minor: i.amount, currency }.display(t.lang),
                    status,
                    status_class,
                    tries: i.tries,
                    last_code: i.last_code.clone(),
                    transaction: i.transaction_id,
                }
            })
            .collect(),
        balance: s.balance.as_ref().map(|b| (b.id.0, b.amount.display(t.lang))),
        running: s.plan.status == P::Running,
    }
}

impl DetailPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        present::field_error(&self.t, &self.errors, field)
    }

    fn offers(&self, action: &str) -> bool {
        let a = match action {
            "preview" => Action::PreviewMessage,
            "edit" => Action::ModifyAndResend,
            "resend" => Action::Resend,
            "validity" => Action::ChangeValidity,
            "cancel" => Action::Cancel,
            "reactivate" => Action::Reactivate,
            "duplicate" => Action::Duplicate,
            "transaction" => Action::ViewTransaction,
            "mark_sent" => Action::MarkSent,
            _ => return false,
        };
        self.actions.contains(&a)
    }

    /// A write action: offered, and the user may write.
    fn offers_write(&self, action: &str) -> bool {
        self.can_write && self.offers(action)
    }
}

/// The notices of the `?done=` redirects of the detail's actions.
const DONE: [(&str, &str); 7] = [
    ("instalments_cancelled", "orders.done.instalments_cancelled"),
    ("modified", "orders.done.modified"),
    ("resent", "orders.done.resent"),
    ("validity", "orders.done.validity"),
    ("cancelled", "orders.done.cancelled"),
    ("reactivated", "orders.done.reactivated"),
    ("mark_sent", "orders.done.mark_sent"),
];

#[allow(clippy::too_many_arguments)]
fn detail_page(
    req: &HttpRequest,
    staff: &Staff,
    state: &AppState,
    d: &OrderDetail,
    message_tab: bool,
    errors: Vec<FieldError>,
    validity_value: Option<String>,
) -> DetailPage {
    let (o, t) = (&d.order, tr(req));
    let fr = french(&t);
    let shop = &staff.shop;
    let tz = shop.settings.time_zone;
    let now = state.env.clock.now();
    let now_naive = now.naive_utc();
    let status = o.status_at(now_naive);
    let public_url = &state.settings.public_url;
    let rendered = service::render(o, shop, public_url);
    let today = order::local_today(now, tz);
    let created = created_local(o, shop);
    let max = order::max_end_date(created);
    let proposed = order::default_end_date(today, shop.settings.defaults.validity_days).min(max).max(today);
    let yes_no = |b: bool| if b { t.get("yes").to_string() } else { t.get("no").to_string() };
    let mut facts = vec![
        Fact { label: t.get("orders.field.shop"), value: shop.settings.label.clone() },
        Fact { label: t.get("orders.field.channel"), value: channel_label(&t, o.channel).to_string() },
        Fact { label: t.get("orders.field.mode"), value: o.mode.as_str().to_string() },
        Fact { label: t.get("orders.field.reference"), value: o.reference.clone().unwrap_or_else(|| "—".into()) },
        Fact { label: t.get("orders.field.amount"), value: o.amount.display(t.lang) },
        Fact {
            label: t.get("orders.field.created"),
            value: format!("{} ({})", local_datetime(o.created_at, tz, fr), tz.name()),
        },
        Fact {
            label: t.get("orders.field.expires"),
            value: format!("{} 23:59:59", order::format_date(o.expires_on, t.lang)),
        },
    ];
    if let Some(r) = &o.recipient {
        let label =
            if o.channel == Channel::Sms { t.get("orders.field.phone") } else { t.get("orders.field.recipient") };
        facts.push(Fact { label, value: r.clone() });
    }
    if let Some(b) = o.bcc.as_deref().filter(|b| !b.is_empty()) {
        facts.push(Fact { label: t.get("orders.field.bcc"), value: b.replace(';', ", ") });
    }
    if let Some(s) = &rendered.subject {
        facts.push(Fact { label: t.get("orders.field.subject"), value: s.clone() });
    }
    if let Some(e) = &o.buyer_email {
        facts.push(Fact { label: t.get("orders.field.buyer_email"), value: e.clone() });
    }
    if let Some(d) = &o.description {
        facts.push(Fact { label: t.get("orders.field.description"), value: d.clone() });
    }
    facts.push(Fact { label: t.get("orders.field.created_by"), value: o.created_by.clone() });
    if matches!(o.channel, Channel::Email | Channel::Sms) {
        facts.push(Fact { label: t.get("orders.field.send_count"), value: o.send_count.to_string() });
    }
    facts.extend([
        Fact { label: t.get("orders.field.language"), value: language_label(&t, &o.language).to_string() },
        Fact { label: t.get("orders.field.collection_form"), value: yes_no(o.use_collection_form) },
        Fact { label: t.get("orders.field.three_ds"), value: three_ds_preference_label(&t, o.three_ds).to_string() },
        Fact { label: t.get("orders.field.alias"), value: alias_label(&t, o.alias_mode).to_string() },
        Fact {
            label: t.get("orders.field.validation_mode"),
            value: validation_label(&t, o.validation_mode).to_string(),
        },
        Fact {
            label: t.get("orders.field.capture_delay"),
            value: format!("{} {}", o.capture_delay_days, t.get("orders.days")),
        },
    ]);
    if let Some(until) = o.instalments_until {
        facts.push(Fact { label: t.get("orders.field.instalments_until"), value: order::format_date(until, t.lang) });
    }
    let jobs: Vec<JobLine> = d
        .messages
        .iter()
        .map(|j| JobLine {
            id: j.id,
            kind: match j.kind {
                Some(Kind::Email) => t.get("orders.job.email"),
                Some(Kind::Sms) => t.get("orders.job.sms"),
                Some(Kind::Webhook) | None => "?",
            },
            status: job_status_label(&t, j.status),
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            created: local_datetime(j.created_at, tz, fr),
            sent: j.sent_at.map(|s| local_datetime(s, tz, fr)),
            eml: j.status == JobStatus::Written,
        })
        .collect();
    let last_error = jobs.first().and_then(|j| j.last_error.clone());
    let link = service::pay_url(public_url, &o.token);
    let sms_segments = if o.channel == Channel::Sms { sms::cost(&rendered.text).segments } else { 0 };
    DetailPage {
        shell: Shell::new(req, staff, "orders"),
        id: o.id.0,
        title: o.reference.clone().unwrap_or_else(|| format!("#{}", o.id)),
        channel_name: o.channel.lower(),
        channel_label: channel_label(&t, o.channel),
        status_label: order_status_label(&t, status),
        status_class: order_status_class(status),
        delivery_label: delivery_label(&t, o.delivery_status),
        delivery_class: delivery_class(o.delivery_status),
        last_error,
        facts,
        message_tab,
        paste_text: if o.channel == Channel::Url { rendered.text.clone() } else { String::new() },
        link,
        collect_url: format!("{public_url}/collect/{}", shop.slug),
        invoice_url: collect_url(public_url, &shop.slug, o.reference.as_deref()),
        reference: o.reference.clone().unwrap_or_default(),
        rendered: Rendered {
            // Sanitised when written; cleaned again here since the page shows it as HTML.
            html: rendered.html.as_deref().map(|h| ammonia::Builder::default().clean(h).to_string()),
            ..rendered
        },
        sms_segments,
        jobs,
        actions: service::actions(o, now_naive),
        can_write: staff.can_write(),
        transaction_id: o.transaction_id,
        validity_value: validity_value.unwrap_or_else(|| proposed.format("%Y-%m-%d").to_string()),
        min_date: today.format("%Y-%m-%d").to_string(),
        max_date: max.format("%Y-%m-%d").to_string(),
        errors,
        notice: None,
        qr_name: o.reference.clone().unwrap_or_else(|| o.id.to_string()),
        schedule: d.schedule.as_ref().map(|s| schedule_view(&t, s, o.amount.currency)),
        t,
    }
}

#[derive(Deserialize)]
pub(super) struct DetailQuery {
    tab: Option<String>,
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
    let d = order_reads::detail(&state.env.db, &scope, OrderId(id.into_inner())).await?;
    let message_tab = q.tab.as_deref() == Some("message")
        && service::actions(&d.order, state.env.clock.now_naive()).contains(&Action::PreviewMessage);
    let mut page = detail_page(&req, &staff, &state, &d, message_tab, Vec::new(), None);
    page.notice = present::done_notice(&page.t, q.done.as_deref(), &DONE);
    render(&page)
}

/// "Preview message": the message tab of the detail.
pub(super) async fn message(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let scope = present::scope(&req, &staff, &state);
    let d = order_reads::detail(&state.env.db, &scope, OrderId(id.into_inner())).await?;
    require_action(&d.order, Action::PreviewMessage, state.env.clock.now_naive())?;
    render(&detail_page(&req, &staff, &state, &d, true, Vec::new(), None))
}

#[derive(Deserialize)]
pub(super) struct Empty {}

/// Runs one change on an order, then back to its detail.
async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: i64,
    done: &str,
    change: Change,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let scope = present::scope(&req, &staff, &state);
    order_actions::change(&state.env.db, &state.env.clock, &scope, OrderId(id), change).await?;
    Ok(see_other(&format!("/orders/{id}?done={done}")))
}

pub(super) async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "resent", Change::Resend).await
}

pub(super) async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "cancelled", Change::Cancel).await
}

pub(super) async fn cancel_instalments(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "instalments_cancelled", Change::CancelInstalments).await
}

pub(super) async fn reactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "reactivated", Change::Reactivate).await
}

pub(super) async fn mark_sent(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "mark_sent", Change::MarkSent).await
}

#[derive(Deserialize)]
pub(super) struct ValidityForm {
    #[serde(default)]
    expires_on: String,
}

pub(super) async fn change_validity(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ValidityForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id.into_inner();
    let scope = present::scope(&req, &staff, &state);
    let change = Change::Validity(form.expires_on.clone());
    let errors = match order_actions::change(&state.env.db, &state.env.clock, &scope, OrderId(id), change).await {
        Ok(_) => return Ok(see_other(&format!("/orders/{id}?done=validity"))),
        Err(e) => invalid(e)?,
    };
    let d = order_reads::detail(&state.env.db, &scope, OrderId(id)).await?;
    let page = detail_page(&req, &staff, &state, &d, false, errors, Some(form.expires_on));
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

// ---------------------------------------------------------------------------------------
// QR codes and stored e-mails

async fn order_link(req: &HttpRequest, state: &AppState, staff: &Staff, id: i64) -> Result<(String, String), AppError> {
    let o = order_reads::find(&state.env.db, &present::scope(req, staff, state), OrderId(id)).await?;
    let name = o.reference.clone().unwrap_or_else(|| o.id.to_string());
    // A printed invoice's code opens the shop's collection form with its reference.
    if o.channel == Channel::Invoice {
        return Ok((collect_url(&state.settings.public_url, &staff.shop.slug, o.reference.as_deref()), name));
    }
    Ok((service::pay_url(&state.settings.public_url, &o.token), name))
}

/// The shop's collection form, with the invoice's reference filled in when there is one.
fn collect_url(public_url: &str, slug: &str, reference: Option<&str>) -> String {
    let base = format!("{public_url}/collect/{slug}");
    match reference {
        Some(r) => format!("{base}?{}", serde_urlencoded::to_string([("reference", r)]).unwrap_or_default()),
        None => base,
    }
}

pub(super) async fn qr_svg(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (link, name) = order_link(&req, &state, &staff, id.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CONTENT_DISPOSITION, format!("inline; filename=\"order-{name}-qr.svg\"")))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(crate::web::qr::svg(&link)))
}

pub(super) async fn qr_png(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (link, name) = order_link(&req, &state, &staff, id.into_inner()).await?;
    let png = web::block(move || crate::web::qr::png(&link)).await.map_err(AppError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"order-{name}-qr.png\"")))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .body(png))
}

/// An e-mail of this order as written to `outbox/` (no SMTP configured).
pub(super) async fn eml(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, job_id) = path.into_inner();
    let scope = present::scope(&req, &staff, &state);
    let job = order_reads::email_of(&state.env.db, &scope, OrderId(id), job_id).await?.ok_or(AppError::NotFound)?;
    let bytes =
        messaging::eml_file(&state.settings, job).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
    Ok(present::eml_download(&format!("order-{id}-email-{job_id}.eml"), bytes))
}
