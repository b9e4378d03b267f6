//! Notification rules (`/settings/notifications`, seed 001 chapter 13) and their deliveries
//! (`/settings/notifications/deliveries`): what is told to whom on which event, the URL calls'
//! secrets (shown once, rolled with 24 hours of overlap), each event's calls with their
//! attempts, a replay by hand or in bulk since a date, and a test event. Everyone may look;
//! administrators and managers change.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use chrono_tz::Tz;

use super::{render, render_status, see_other};
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::notification::{EventType, RawRule, RuleKind};
use crate::domain::order::Channel;
use crate::domain::outbox::{JobStatus, Kind};
use crate::services::notifications::{self as service, Delivery, DeliveryState, Keys};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::Tr;
use crate::web::present::{field_error, invalid, local_datetime, scope};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/notifications", web::get().to(list))
        .route("/settings/notifications", web::post().to(create))
        .route("/settings/notifications/new", web::get().to(new))
        .route("/settings/notifications/deliveries", web::get().to(deliveries))
        .route("/settings/notifications/deliveries/replay", web::post().to(replay_since))
        .route("/settings/notifications/deliveries/{event}/replay", web::post().to(replay))
        .route("/settings/notifications/{id}", web::get().to(edit))
        .route("/settings/notifications/{id}", web::post().to(update))
        .route("/settings/notifications/{id}/delete", web::post().to(delete))
        .route("/settings/notifications/{id}/secret", web::post().to(roll_secret))
        .route("/settings/notifications/{id}/test", web::post().to(send_test));
}

fn keys(state: &AppState) -> Keys {
    Keys::of(&state.settings)
}

/// A posted field's value ("" when absent).
fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).unwrap_or("")
}

fn id_of(raw: &str) -> Result<i64, AppError> {
    raw.parse::<i64>().ok().filter(|i| *i > 0).ok_or(AppError::NotFound)
}

/// A rule's line in the list.
pub struct RuleLine {
    pub id: i64,
    pub label: String,
    pub kind: &'static str,
    pub events: Vec<&'static str>,
    pub modes: String,
    pub urls: Vec<String>,
    pub state: &'static str,
    pub off: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/notifications.html")]
struct ListPage {
    t: Tr,
    shell: Shell,
    rules: Vec<RuleLine>,
    can_edit: bool,
}

async fn list(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    let t = tr(&req);
    let rows = service::rules(&state.env(), staff.shop.id).await?;
    let rules = rows
        .iter()
        .map(|r| {
            let c = r.conditions();
            let off = !r.enabled;
            RuleLine {
                id: r.id,
                label: r.label.clone(),
                kind: r.kind().map(|k| t.get(&k.label_key())).unwrap_or("?"),
                events: c.events.iter().map(|e| t.get(&e.label_key())).collect(),
                modes: c.modes_text().replace(',', ", "),
                urls: [r.url_test.clone(), r.url_production.clone()].into_iter().flatten().collect(),
                state: match (r.enabled, r.disabled_reason.is_some()) {
                    (true, _) => t.get("rule.state.on"),
                    (false, true) => t.get("rule.state.gone"),
                    (false, false) => t.get("rule.state.off"),
                },
                off,
            }
        })
        .collect();
    render(&ListPage { shell: Shell::new(&req, &staff, "settings"), rules, can_edit: staff.can_write(), t })
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/notification_form.html")]
struct FormPage {
    t: Tr,
    shell: Shell,
    /// None: a new rule.
    id: Option<i64>,
    form: RawRule,
    errors: Vec<FieldError>,
    can_edit: bool,
    kinds: Vec<(&'static str, &'static str)>,
    events: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
    modes: [&'static str; 2],
    /// A URL rule: its rotation's end, when the old secret still signs.
    rotating_until: Option<String>,
    disabled_reason: Option<String>,
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        field_error(&self.t, &self.errors, field)
    }

    fn has(list: &[String], value: &str) -> bool {
        list.iter().any(|v| v == value)
    }
}

fn form_page(req: &HttpRequest, staff: &Staff, id: Option<i64>, form: RawRule) -> FormPage {
    let t = tr(req);
    FormPage {
        kinds: RuleKind::ALL.iter().map(|k| (k.as_str(), t.get(&k.label_key()))).collect(),
        events: EventType::RULED.iter().map(|e| (e.as_str(), t.get(&e.label_key()))).collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), t.get(&format!("rule.channel_{}", c.as_str().to_lowercase()))))
            .collect(),
        modes: [Mode::Test.as_str(), Mode::Production.as_str()],
        shell: Shell::new(req, staff, "settings"),
        id,
        form,
        errors: Vec::new(),
        can_edit: staff.can_write(),
        rotating_until: None,
        disabled_reason: None,
        t,
    }
}

async fn new(req: HttpRequest, staff: Staff) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    render(&form_page(&req, &staff, None, RawRule::blank()))
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/notification_secret.html")]
struct SecretPage {
    t: Tr,
    shell: Shell,
    id: i64,
    secret: String,
    rotated: bool,
}

/// A rule saved: its new secret shown once when it got one, else back to the list.
fn saved(req: &HttpRequest, staff: &Staff, id: i64, secret: Option<String>) -> Result<HttpResponse, AppError> {
    match secret {
        Some(secret) => {
            render(&SecretPage { t: tr(req), shell: Shell::new(req, staff, "settings"), id, secret, rotated: false })
        }
        None => {
            flash::set(&staff.session, Flash::new("rule.saved"));
            Ok(see_other("/settings/notifications"))
        }
    }
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let raw = RawRule::from_pairs(&pairs);
    match service::create(&state.env(), scope(&req, &staff, &state), keys(&state), raw.clone()).await {
        Ok((id, secret)) => saved(&req, &staff, id, secret),
        Err(e) => {
            let mut p = form_page(&req, &staff, None, raw);
            p.errors = invalid(e)?;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&path)?;
    let row = service::rule(&state.env(), staff.shop.id, id).await?;
    let mut p = form_page(&req, &staff, Some(id), service::as_raw(&row));
    let (tz, fr) = (staff.shop.settings.time_zone, p.t.lang.code() == "fr");
    let now = state.env.clock.now_naive();
    p.rotating_until = row.previous_until.filter(|u| *u > now).map(|u| local_datetime(u, tz, fr));
    p.disabled_reason = row.disabled_reason.clone();
    render(&p)
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id_of(&path)?;
    service::rule(&state.env(), staff.shop.id, id).await?;
    let raw = RawRule::from_pairs(&pairs);
    match service::update(&state.env(), scope(&req, &staff, &state), keys(&state), id, raw.clone()).await {
        Ok(secret) => saved(&req, &staff, id, secret),
        Err(e) => {
            let mut p = form_page(&req, &staff, Some(id), raw);
            p.errors = invalid(e)?;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    _csrf: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    service::delete(&state.env(), scope(&req, &staff, &state), id_of(&path)?).await?;
    flash::set(&staff.session, Flash::new("rule.deleted"));
    Ok(see_other("/settings/notifications"))
}

async fn roll_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    _csrf: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id_of(&path)?;
    let secret = service::roll_secret(&state.env(), scope(&req, &staff, &state), keys(&state), id).await?;
    render(&SecretPage { t: tr(&req), shell: Shell::new(&req, &staff, "settings"), id, secret, rotated: true })
}

async fn send_test(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    _csrf: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id_of(&path)?;
    match service::send_test(&state.env(), scope(&req, &staff, &state), id).await {
        Ok(()) => flash::set(&staff.session, Flash::new("rule.test_sent")),
        Err(crate::services::ServiceError::Conflict(_)) => flash::set(&staff.session, Flash::new("rule.test_disabled")),
        Err(crate::services::ServiceError::Invalid(_)) => flash::set(&staff.session, Flash::new("rule.test_no_url")),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other("/settings/notifications/deliveries"))
}

// ---- Deliveries ---------------------------------------------------------------------------

/// One job of an event, as the screen shows it.
pub struct JobLine {
    pub kind: &'static str,
    pub target: String,
    pub status: &'static str,
    pub failed: bool,
    pub rule: Option<i64>,
    pub replayable: bool,
}

pub struct AttemptLine {
    pub at: String,
    pub url: String,
    pub status: String,
    pub ok: bool,
    pub duration_ms: i32,
    pub response: String,
}

pub struct EventLine {
    pub id: i64,
    pub public_id: String,
    pub kind: &'static str,
    pub created: String,
    pub order: Option<i64>,
    pub state: &'static str,
    pub state_class: &'static str,
    pub jobs: Vec<JobLine>,
    pub attempts: Vec<AttemptLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/deliveries.html")]
struct DeliveriesPage {
    t: Tr,
    shell: Shell,
    events: Vec<EventLine>,
    failed_only: bool,
    next: Option<String>,
    can_edit: bool,
    since: String,
    test_rules: Vec<(i64, String)>,
}

fn event_line(t: &Tr, d: Delivery, tz: Tz, fr: bool) -> EventLine {
    let state = service::delivery_state(&d.jobs);
    let jobs = d
        .jobs
        .iter()
        .map(|j| {
            let (kind, target) = match j.kind() {
                Some(Kind::Webhook) => (
                    t.get("rule.kind_url"),
                    serde_json::from_str::<crate::services::notify::WebhookPayload>(&j.payload)
                        .map(|p| p.url)
                        .unwrap_or_default(),
                ),
                Some(Kind::Email) => (
                    t.get("orders.job.email"),
                    serde_json::from_str::<crate::domain::outbox::EmailPayload>(&j.payload)
                        .map(|p| p.to.join(", "))
                        .unwrap_or_default(),
                ),
                _ => (
                    t.get("orders.job.sms"),
                    serde_json::from_str::<crate::domain::sms::SmsPayload>(&j.payload)
                        .map(|p| p.to)
                        .unwrap_or_default(),
                ),
            };
            let status = j.status();
            let given_up = j.given_up();
            JobLine {
                kind,
                target,
                status: match status {
                    JobStatus::Sent => t.get("deliveries.job.sent"),
                    JobStatus::Written => t.get("deliveries.job.written"),
                    JobStatus::Held => t.get("deliveries.job.held"),
                    JobStatus::Failed if given_up => t.get("deliveries.job.abandoned"),
                    JobStatus::Failed => t.get("deliveries.job.retrying"),
                    JobStatus::Pending => t.get("deliveries.job.pending"),
                },
                failed: status == JobStatus::Failed,
                rule: j.rule_id,
                replayable: j.kind() == Some(Kind::Webhook) && (given_up || status == JobStatus::Sent),
            }
        })
        .collect();
    let attempts = d
        .attempts
        .iter()
        .map(|a| AttemptLine {
            at: local_datetime(a.attempted_at, tz, fr),
            url: a.url.clone(),
            status: a.status_code.map(|s| s.to_string()).unwrap_or_else(|| a.error.clone().unwrap_or_default()),
            ok: a.status_code.is_some_and(|s| (200..300).contains(&s)),
            duration_ms: a.duration_ms,
            response: a.response.clone(),
        })
        .collect();
    let (state, state_class) = match state {
        DeliveryState::None => (t.get("deliveries.state.none"), "muted"),
        DeliveryState::Pending => (t.get("deliveries.state.pending"), "warn"),
        DeliveryState::Delivered => (t.get("deliveries.state.delivered"), "ok"),
        DeliveryState::Failed => (t.get("deliveries.state.failed"), "danger"),
    };
    let kind = EventType::parse(&d.event.event_type).map(|e| t.get(&e.label_key())).unwrap_or("?");
    EventLine {
        id: d.event.id,
        public_id: d.event.public_id.clone(),
        kind,
        created: local_datetime(d.event.created_at, tz, fr),
        order: d.event.order_id,
        state,
        state_class,
        jobs,
        attempts,
    }
}

#[derive(serde::Deserialize)]
struct DeliveriesQuery {
    failed: Option<String>,
    before: Option<String>,
}

async fn deliveries(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<DeliveriesQuery>,
) -> Result<HttpResponse, AppError> {
    let t = tr(&req);
    let failed_only = query.failed.as_deref().is_some_and(|f| !f.is_empty() && f != "0");
    let before = query.before.as_deref().and_then(|b| b.parse::<i64>().ok());
    let env = state.env();
    let (page, next) = service::deliveries(&env, staff.shop.id, staff.mode, failed_only, before, service::PAGE).await?;
    let (tz, fr) = (staff.shop.settings.time_zone, t.lang.code() == "fr");
    let events = page.into_iter().map(|d| event_line(&t, d, tz, fr)).collect();
    let test_rules = service::rules(&env, staff.shop.id)
        .await?
        .into_iter()
        .filter(|r| r.kind() == Some(RuleKind::Url) && r.enabled && r.url(staff.mode).is_some())
        .map(|r| (r.id, r.label))
        .collect();
    let next = next.map(|n| format!("?{}before={n}", if failed_only { "failed=1&" } else { "" }));
    let today = crate::domain::order::local_today(env.clock.now(), tz);
    render(&DeliveriesPage {
        shell: Shell::new(&req, &staff, "settings"),
        events,
        failed_only,
        next,
        can_edit: staff.can_write(),
        since: (today - chrono::Days::new(3)).format("%Y-%m-%d").to_string(),
        test_rules,
        t,
    })
}

async fn replay(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let event = id_of(&path)?;
    let rule = id_of(field(&pairs, "rule"))?;
    match service::replay(&state.env(), scope(&req, &staff, &state), event, rule).await {
        Ok(()) => flash::set(&staff.session, Flash::new("deliveries.replayed")),
        Err(crate::services::ServiceError::Conflict(_)) => flash::set(&staff.session, Flash::new("rule.test_disabled")),
        Err(e) => return Err(e.into()),
    }
    Ok(see_other("/settings/notifications/deliveries"))
}

async fn replay_since(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let Ok(day) = NaiveDate::parse_from_str(field(&pairs, "since"), "%Y-%m-%d") else {
        flash::set(&staff.session, Flash::new("deliveries.since_invalid"));
        return Ok(see_other("/settings/notifications/deliveries?failed=1"));
    };
    let since = crate::domain::schedule::due_at(day, staff.shop.settings.time_zone).naive_utc();
    let queued = service::replay_since(&state.env(), scope(&req, &staff, &state), since).await?;
    flash::set(&staff.session, Flash::count("deliveries.bulk_replayed", queued));
    Ok(see_other("/settings/notifications/deliveries"))
}
