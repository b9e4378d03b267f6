//! Messaging settings of the current shop: the e-mail templates manager (seed 001 §10.4–10.5),
//! the SMS account (§1.3.1) and the outbox view (what was queued, sent, failed or held, and
//! the `.eml` files written when no SMTP server is configured). Everyone may look; viewers
//! change nothing. Everything is scoped to `staff.shop`: another shop's template or job is a
//! 404.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDateTime;

use super::{render, render_status, see_other};
use crate::domain::FieldError;
use crate::domain::ids::{ShopId, TemplateId};
use crate::domain::order::local_today;
use crate::domain::outbox::JobStatus;
use crate::domain::shop::Shop;
use crate::domain::template;
use crate::services::messaging::{self, OutboxMessage, Preview, SmsAccountView, TemplateChange};
use crate::services::sms::{CreditsRight, RawAccount};
use crate::services::templates::{self as service, MailTemplate, RawTemplate};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{self, local_datetime};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/templates", web::get().to(list))
        .route("/settings/templates", web::post().to(create))
        .route("/settings/templates/new", web::get().to(new_form))
        .route("/settings/templates/{id}", web::get().to(edit_form))
        .route("/settings/templates/{id}", web::post().to(update))
        .route("/settings/templates/{id}/duplicate", web::post().to(duplicate))
        .route("/settings/templates/{id}/delete", web::get().to(confirm_delete))
        .route("/settings/templates/{id}/delete", web::post().to(delete))
        .route("/settings/templates/{id}/preview", web::get().to(preview))
        .route("/settings/sms", web::get().to(sms_form))
        .route("/settings/sms", web::post().to(sms_save))
        .route("/settings/outbox", web::get().to(outbox_list))
        .route("/settings/outbox/{id}.eml", web::get().to(eml_file));
}

/// The languages a template can be written in (those of the pay page).
const LANGUAGES: [&str; 5] = ["fr", "en", "de", "es", "it"];

fn language_label(t: &Tr, code: &str) -> &'static str {
    t.get(&format!("tpl.lang.{}", Lang::parse(code).unwrap_or(Lang::Fr).code()))
}

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| v == "on" || v == "true")
}

// ---------------------------------------------------------------------------------------------
// E-mail templates

pub struct TemplateLine {
    pub id: i64,
    pub name: String,
    pub language: &'static str,
    pub subject: String,
    pub is_default: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/templates.html")]
struct ListPage {
    t: Tr,
    shell: Shell,
    templates: Vec<TemplateLine>,
    can_edit: bool,
    notice: Option<&'static str>,
    languages: Vec<(&'static str, &'static str)>,
    new_language: &'static str,
}

#[derive(serde::Deserialize)]
struct NoticeQuery {
    m: Option<String>,
}

async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let shop = staff.shop.id;
    let t = tr(&req);
    let rows = messaging::templates(&state.env.db, shop).await?;
    let templates = rows
        .into_iter()
        .map(|r| TemplateLine {
            id: r.id,
            language: language_label(&t, &r.language),
            name: r.name,
            subject: r.subject,
            is_default: r.is_default,
        })
        .collect();
    let notice = match q.m.as_deref() {
        Some("deleted") => Some(t.get("tpl.deleted")),
        _ => None,
    };
    render(&ListPage {
        t,
        shell: Shell::new(&req, &staff, "settings"),
        templates,
        can_edit: staff.can_write(),
        notice,
        languages: LANGUAGES.iter().map(|l| (*l, language_label(&t, l))).collect(),
        new_language: t.code(),
    })
}

/// One line of the variables table shown beside the editor (seed 001 §10.5).
pub struct VariableHelp {
    pub name: &'static str,
    pub meaning: &'static str,
}

fn variable_help(t: &Tr) -> Vec<VariableHelp> {
    vec![
        VariableHelp { name: "%reference%", meaning: t.get("tpl.var.reference") },
        VariableHelp { name: "%amount%", meaning: t.get("tpl.var.amount") },
        VariableHelp { name: "%start_date%", meaning: t.get("tpl.var.start_date") },
        VariableHelp { name: "%end_date%", meaning: t.get("tpl.var.end_date") },
        VariableHelp { name: "%shop_name%", meaning: t.get("tpl.var.shop_name") },
        VariableHelp { name: "%shop_contact%", meaning: t.get("tpl.var.shop_contact") },
        VariableHelp { name: "%shop_url%", meaning: t.get("tpl.var.shop_url") },
        VariableHelp { name: "%url%", meaning: t.get("tpl.var.url") },
    ]
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/templates_form.html")]
struct EditorPage {
    t: Tr,
    shell: Shell,
    /// None: a new template.
    id: Option<i64>,
    /// The name as stored (the title of an existing template).
    title: String,
    form: RawTemplate,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
    can_edit: bool,
    languages: Vec<(&'static str, &'static str)>,
    variables: Vec<VariableHelp>,
}

impl EditorPage {
    fn new(req: &HttpRequest, staff: &Staff, id: Option<i64>, title: String, form: RawTemplate) -> Self {
        let t = tr(req);
        EditorPage {
            t,
            shell: Shell::new(req, staff, "settings"),
            id,
            title,
            form,
            errors: Vec::new(),
            notice: None,
            can_edit: staff.can_write(),
            languages: LANGUAGES.iter().map(|l| (*l, language_label(&t, l))).collect(),
            variables: variable_help(&t),
        }
    }

    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|e| e.field == field).map(|e| self.t.get(e.code))
    }

    fn default_checked(&self) -> bool {
        checked(&self.form.is_default)
    }
}

#[derive(serde::Deserialize)]
struct NewQuery {
    language: Option<String>,
}

/// A new template, prefilled with the default of the chosen language (seed: "Un modèle par
/// défaut est chargé").
async fn new_form(req: HttpRequest, staff: Staff, q: web::Query<NewQuery>) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let t = tr(&req);
    let wanted = q.language.as_deref().unwrap_or(t.code());
    let default = template::default_email(Lang::parse(wanted).unwrap_or(Lang::Fr));
    let form = RawTemplate {
        name: t.get("tpl.new_name").to_string(),
        language: default.language.to_string(),
        subject: default.subject.to_string(),
        body: default.body.to_string(),
        is_default: None,
    };
    render(&EditorPage::new(&req, &staff, None, String::new(), form))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<RawTemplate>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let clean = match service::parse(&form) {
        Ok(c) => c,
        Err(errors) => {
            let mut page = EditorPage::new(&req, &staff, None, String::new(), form);
            page.errors = errors;
            return render_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let change = TemplateChange::Save(None, clean);
    let id =
        messaging::change_template(&state.env.db, &state.env.clock, &staff.actor(&req), staff.shop.id, change).await?;
    Ok(see_other(&format!("/settings/templates/{}?m=created", id.0)))
}

async fn load_template(state: &AppState, shop: ShopId, id: i64) -> Result<MailTemplate, AppError> {
    Ok(messaging::template(&state.env.db, shop, TemplateId(id)).await?)
}

async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    q: web::Query<NoticeQuery>,
) -> Result<HttpResponse, AppError> {
    let row = load_template(&state, staff.shop.id, *id).await?;
    let form = RawTemplate {
        name: row.name.clone(),
        language: row.language,
        subject: row.subject,
        body: row.body,
        is_default: row.is_default.then(|| "on".to_string()),
    };
    let mut page = EditorPage::new(&req, &staff, Some(row.id), row.name, form);
    page.notice = match q.m.as_deref() {
        Some("created") => Some(page.t.get("tpl.created")),
        Some("saved") => Some(page.t.get("tpl.saved")),
        Some("duplicated") => Some(page.t.get("tpl.duplicated")),
        _ => None,
    };
    render(&page)
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<RawTemplate>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let row = load_template(&state, staff.shop.id, *id).await?;
    let clean = match service::parse(&form) {
        Ok(c) => c,
        Err(errors) => {
            let mut page = EditorPage::new(&req, &staff, Some(row.id), row.name, form);
            page.errors = errors;
            return render_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let change = TemplateChange::Save(Some(TemplateId(row.id)), clean);
    messaging::change_template(&state.env.db, &state.env.clock, &staff.actor(&req), staff.shop.id, change).await?;
    Ok(see_other(&format!("/settings/templates/{}?m=saved", row.id)))
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn duplicate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let t = tr(&req);
    let suffix = t.get("tpl.copy_suffix");
    let change = TemplateChange::Duplicate(TemplateId(*id), suffix);
    let new_id =
        messaging::change_template(&state.env.db, &state.env.clock, &staff.actor(&req), staff.shop.id, change).await?;
    Ok(see_other(&format!("/settings/templates/{}?m=duplicated", new_id.0)))
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/templates_delete.html")]
struct DeletePage {
    t: Tr,
    shell: Shell,
    id: i64,
    name: String,
    language: &'static str,
    is_default: bool,
}

/// Asks before deleting: the page works without JavaScript, so no `confirm()` dialog.
async fn confirm_delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let row = load_template(&state, staff.shop.id, *id).await?;
    let t = tr(&req);
    render(&DeletePage {
        t,
        shell: Shell::new(&req, &staff, "settings"),
        id: row.id,
        language: language_label(&t, &row.language),
        is_default: row.is_default,
        name: row.name,
    })
}

async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    messaging::delete_template(&state.env.db, &state.env.clock, &staff.actor(&req), staff.shop.id, TemplateId(*id))
        .await?;
    Ok(see_other("/settings/templates?m=deleted"))
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/templates_preview.html")]
struct PreviewPage {
    t: Tr,
    shell: Shell,
    id: i64,
    name: String,
    language: &'static str,
    is_default: bool,
    from_name: String,
    preview: Preview,
}

async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let row = load_template(&state, staff.shop.id, *id).await?;
    let t = tr(&req);
    let today = local_today(state.env.clock.now(), staff.shop.settings.time_zone);
    let preview = messaging::preview(&row, &staff.shop, today, &state.settings.public_url);
    render(&PreviewPage {
        t,
        shell: Shell::new(&req, &staff, "settings"),
        id: row.id,
        language: language_label(&t, &row.language),
        is_default: row.is_default,
        from_name: staff.shop.settings.label.clone(),
        preview,
        name: row.name,
    })
}

// ---------------------------------------------------------------------------------------------
// SMS account

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/sms.html")]
struct SmsPage {
    t: Tr,
    shell: Shell,
    /// What was typed or stored; the password is never put back in the page.
    form: RawAccount,
    errors: Vec<FieldError>,
    can_edit: bool,
    has_password: bool,
    gateway: bool,
}

impl SmsPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|e| e.field == field).map(|e| self.t.get(e.code))
    }
}

async fn stored_account(state: &AppState, shop: ShopId) -> Result<Option<SmsAccountView>, AppError> {
    Ok(messaging::sms_account(&state.env.db, shop).await?)
}

async fn sms_form(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    let account = stored_account(&state, staff.shop.id).await?;
    let form = match &account {
        Some(a) => RawAccount {
            login: a.login.clone(),
            password: String::new(),
            default_phone: a.default_phone.clone(),
            credits: a.credits.to_string(),
            credits_seen: a.credits.to_string(),
        },
        None => RawAccount { credits: "0".into(), ..Default::default() },
    };
    render(&SmsPage {
        t: tr(&req),
        shell: Shell::new(&req, &staff, "settings"),
        form,
        errors: Vec::new(),
        can_edit: staff.can_write(),
        has_password: account.is_some(),
        gateway: state.settings.sms_gateway_url.is_some(),
    })
}

async fn sms_save(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<RawAccount>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (actor, shop, key) = (staff.actor(&req), staff.shop.id, state.settings.vault_key.expose().to_vec());
    let right = if staff.user.role.is_admin() { CreditsRight::Set } else { CreditsRight::Keep };
    let outcome =
        messaging::save_sms_account(&state.env.db, &state.env.clock, &actor, shop, form.clone(), key, right).await?;
    match outcome {
        Ok(()) => {
            flash::set(&staff.session, Flash::new("smsacct.saved"));
            Ok(see_other("/settings/sms"))
        }
        Err(errors) => {
            let has_password = stored_account(&state, shop).await?.is_some();
            render_status(
                &SmsPage {
                    t: tr(&req),
                    shell: Shell::new(&req, &staff, "settings"),
                    form: RawAccount { password: String::new(), ..form },
                    errors,
                    can_edit: true,
                    has_password,
                    gateway: state.settings.sms_gateway_url.is_some(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Outbox

pub struct OutboxLine {
    pub id: i64,
    pub created: String,
    pub status: &'static str,
    /// PENDING, SENT, FAILED or HELD.
    pub code: &'static str,
    /// CSS modifier of the status tag.
    pub tone: &'static str,
    pub attempts: i32,
    pub next_attempt: Option<String>,
    pub last_error: Option<String>,
    pub order_id: Option<i64>,
    /// E-mail: the recipients; SMS: the phone number.
    pub to: String,
    /// E-mail: the subject; SMS: the text.
    pub summary: String,
    /// E-mails written as files: where the `.eml` is on the server.
    pub eml_path: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/outbox.html")]
struct OutboxPage {
    t: Tr,
    shell: Shell,
    emails: Vec<OutboxLine>,
    sms: Vec<OutboxLine>,
    /// No SMTP server: e-mails are written as `.eml` files.
    files: bool,
    eml_dir: String,
    gateway: bool,
}

/// How many jobs of each kind the page lists.
const RECENT: i64 = 100;

fn status_label(t: &Tr, job: &OutboxMessage) -> (&'static str, &'static str) {
    match job.status {
        JobStatus::Pending => (t.get("outbox.status.PENDING"), "pending"),
        JobStatus::Written => (t.get("outbox.status.WRITTEN"), "warn"),
        JobStatus::Sent => (t.get("outbox.status.SENT"), "ok"),
        JobStatus::Failed if job.next_attempt_at.is_none() => (t.get("outbox.status.GAVE_UP"), "danger"),
        JobStatus::Failed => (t.get("outbox.status.FAILED"), "danger"),
        JobStatus::Held => (t.get("outbox.status.HELD"), "warn"),
    }
}

fn outbox_line(t: &Tr, shop: &Shop, job: OutboxMessage) -> OutboxLine {
    let (status, tone) = status_label(t, &job);
    let when = |at: NaiveDateTime| local_datetime(at, shop.settings.time_zone, t.lang == Lang::Fr);
    OutboxLine {
        id: job.id,
        created: when(job.created_at),
        status,
        code: job.status.as_str(),
        tone,
        attempts: job.attempts,
        next_attempt: job
            .next_attempt_at
            .filter(|_| matches!(job.status, JobStatus::Pending | JobStatus::Failed))
            .map(when),
        // A held job's "error" is only why it waits, which its status already says.
        last_error: job.last_error.filter(|_| job.status != JobStatus::Held),
        order_id: job.order_id,
        to: job.to,
        summary: job.summary,
        eml_path: job.eml_path,
    }
}

async fn outbox_list(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    let (emails, sms) = messaging::outbox(&state.env.db, &state.settings, staff.shop.id, RECENT).await?;
    let t = tr(&req);
    render(&OutboxPage {
        t,
        shell: Shell::new(&req, &staff, "settings"),
        emails: emails.into_iter().map(|j| outbox_line(&t, &staff.shop, j)).collect(),
        sms: sms.into_iter().map(|j| outbox_line(&t, &staff.shop, j)).collect(),
        files: state.settings.emails_to_files(),
        eml_dir: state.settings.eml_dir().display().to_string(),
        gateway: state.settings.sms_gateway_url.is_some(),
    })
}

/// An e-mail as written to its `.eml` file, for a job of the current shop only.
async fn eml_file(state: web::Data<AppState>, staff: Staff, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let job = messaging::email_of(&state.env.db, staff.shop.id, *id).await?.ok_or(AppError::NotFound)?;
    let bytes =
        messaging::eml_file(&state.settings, job).await.map_err(AppError::internal)?.ok_or(AppError::NotFound)?;
    Ok(present::eml_download(&format!("email-{job}.eml"), bytes))
}
