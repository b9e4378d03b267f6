//! Payment orders in the back office (seed 001): creation per channel (simplified form and
//! its "advanced" section), the detail with its two tabs and exactly the actions the order's
//! status offers, the searchable list (keyset pages, sortable columns, a per-user column
//! chooser, CSV export), the QR codes of the link and the e-mails written as files.
//!
//! Handlers parse, make one service (or store) call inside `db.read`/`db.write`, and render;
//! everything is scoped to the session's shop and mode, so another shop's order is a 404.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use serde::Deserialize;

use super::{render, render_status, see_other};
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::ids::OrderId;
use crate::domain::money::{Currency, Money};
use crate::domain::order::{self, Action, AliasMode, Channel, DeliveryStatus, OrderStatus};
use crate::domain::order_form::{AmountInput, ExpiresInput, OrderDraft, RawOrder};
use crate::domain::shop::{ThreeDsPreference, ValidationMode};
use crate::domain::sms::{self, Encoding};
use crate::domain::template::{self, Variables};
use crate::services::orders::{self as service, OrderContext, Rendered};
use crate::services::{ServiceError, ServiceResult};
use crate::store::orders::{self as order_store, Cursor, OrderFilter, SortKey};
use crate::store::outbox::{self, Job, JobStatus, Kind};
use crate::store::shops::Shop;
use crate::store::sms::SmsAccount;
use crate::store::templates::{self as template_store, Template as MailTemplate};
use crate::store::users;
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::forms::{CsrfForm, Pairs};
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{
    self, Choice, Csv, Fact, alias_label, cell, channel_label, date_bound, delivery_class, delivery_label, french,
    given, invalid, language_label, local_date_of, local_datetime, order_status_class, order_status_label, parse_date,
    query_string, reference_search, three_ds_preference_label, validation_label,
};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

/// Rows per page of the list.
const PAGE: i64 = 50;
/// Rows read per query while exporting.
const EXPORT_BATCH: i64 = 1000;
/// An export is bounded so that one click cannot hold the database for minutes.
const EXPORT_MAX: usize = 100_000;
/// Length of an order token (`random_token(16)`: 128 bits in URL-safe base64), for the SMS
/// cost estimate before the order exists.
const TOKEN_CHARS: usize = 22;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::get().to(list))
        .route("/orders", web::post().to(create))
        .route("/orders.csv", web::get().to(export))
        .route("/orders/columns", web::post().to(save_columns))
        .route("/orders/new", web::get().to(new_form))
        .route("/orders/{id}", web::get().to(detail))
        .route("/orders/{id}/message", web::get().to(message))
        .route("/orders/{id}/qr.svg", web::get().to(qr_svg))
        .route("/orders/{id}/qr.png", web::get().to(qr_png))
        .route("/orders/{id}/edit", web::get().to(edit_form))
        .route("/orders/{id}/edit", web::post().to(edit))
        .route("/orders/{id}/duplicate", web::get().to(duplicate))
        .route("/orders/{id}/resend", web::post().to(resend))
        .route("/orders/{id}/validity", web::post().to(change_validity))
        .route("/orders/{id}/cancel", web::post().to(cancel))
        .route("/orders/{id}/reactivate", web::post().to(reactivate))
        .route("/orders/{id}/mark-sent", web::post().to(mark_sent))
        .route("/orders/{id}/eml/{job}", web::get().to(eml));
}

// ---------------------------------------------------------------------------------------
// Shared pieces

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !matches!(v.trim(), "" | "false" | "0" | "off"))
}

fn job_status_label(t: &Tr, s: JobStatus) -> &'static str {
    match s {
        JobStatus::Pending => t.get("orders.job.PENDING"),
        JobStatus::Sent => t.get("orders.job.SENT"),
        JobStatus::Failed => t.get("orders.job.FAILED"),
        JobStatus::Held => t.get("orders.job.HELD"),
    }
}

// ---------------------------------------------------------------------------------------
// The order form (create, modify, duplicate)

/// The order form as typed: the DESIGN §4 field names, plus the e-mail template controls.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub expires_on: String,
    #[serde(default)]
    pub validation_mode: String,
    #[serde(default)]
    pub capture_delay_days: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub alias_mode: String,
    #[serde(default)]
    pub three_ds: String,
    #[serde(default)]
    pub buyer_email: String,
    #[serde(default)]
    pub use_collection_form: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub recipients: String,
    #[serde(default)]
    pub bcc_shop: Option<String>,
    #[serde(default)]
    pub bcc_other: String,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub template_id: String,
    /// The "Load template" submit button: re-render with that template instead of creating.
    #[serde(default)]
    pub load_template: Option<String>,
}

impl OrderForm {
    fn to_raw(&self) -> RawOrder {
        RawOrder {
            reference: self.reference.clone(),
            amount: AmountInput::Decimal(self.amount.clone()),
            currency: self.currency.clone(),
            expires: ExpiresInput::Date(self.expires_on.clone()),
            validation_mode: self.validation_mode.clone(),
            capture_delay_days: self.capture_delay_days.clone(),
            language: self.language.clone(),
            alias_mode: self.alias_mode.clone(),
            three_ds: self.three_ds.clone(),
            buyer_email: self.buyer_email.clone(),
            use_collection_form: checked(&self.use_collection_form),
            description: self.description.clone(),
            recipients: self.recipients.clone(),
            subject: self.subject.clone(),
            message: self.message.clone(),
            phone: self.phone.clone(),
            bcc_shop: checked(&self.bcc_shop),
            bcc_other: self.bcc_other.clone(),
        }
    }

    fn lang_is_french(&self) -> bool {
        self.language != "en"
    }

    /// A new order of `channel` with the shop's defaults.
    fn initial(channel: Channel, shop: &Shop, lang: &str, today: NaiveDate, mail: Option<&MailTemplate>) -> Self {
        let d = &shop.settings.defaults;
        let fr = lang != "en";
        let mut form = OrderForm {
            channel: channel.lower().to_string(),
            currency: "EUR".into(),
            expires_on: order::default_end_date(today, d.validity_days).format("%Y-%m-%d").to_string(),
            validation_mode: d.validation_mode.as_str().into(),
            capture_delay_days: d.capture_delay_days.to_string(),
            language: lang.into(),
            alias_mode: AliasMode::None.as_str().into(),
            three_ds: d.three_ds.as_str().into(),
            ..Default::default()
        };
        match channel {
            Channel::Email => {
                if let Some(m) = mail {
                    form.subject = m.subject.clone();
                    form.message = m.body.clone();
                    form.template_id = m.id.to_string();
                }
            }
            Channel::Sms => form.message = template::default_sms(fr).into(),
            Channel::Url => form.message = template::default_url_text(fr).into(),
            Channel::Invoice => {}
        }
        form
    }

    /// The form prefilled from an existing order (modify, or duplicate without reference).
    fn of_order(o: &order_store::Order, shop: &Shop, fr_ui: bool) -> Self {
        let sep = if fr_ui { ',' } else { '.' };
        let contact = &shop.settings.contact_email;
        let bcc: Vec<&str> =
            o.bcc.as_deref().map(|b| b.split(';').filter(|s| !s.is_empty()).collect()).unwrap_or_default();
        let (recipients, phone) = match o.channel {
            Channel::Sms => (String::new(), o.recipient.clone().unwrap_or_default()),
            _ => (o.recipient.clone().unwrap_or_default(), String::new()),
        };
        OrderForm {
            channel: o.channel.lower().to_string(),
            reference: o.reference.clone().unwrap_or_default(),
            amount: o.amount.decimal(sep),
            currency: o.amount.currency.code().to_string(),
            expires_on: o.expires_on.format("%Y-%m-%d").to_string(),
            validation_mode: o.validation_mode.as_str().into(),
            capture_delay_days: o.capture_delay_days.to_string(),
            language: o.language.clone(),
            alias_mode: o.alias_mode.as_str().into(),
            three_ds: o.three_ds.as_str().into(),
            buyer_email: o.buyer_email.clone().unwrap_or_default(),
            use_collection_form: (o.use_collection_form && o.channel != Channel::Invoice).then(|| "true".into()),
            description: o.description.clone().unwrap_or_default(),
            recipients,
            bcc_shop: bcc.iter().any(|b| b.eq_ignore_ascii_case(contact)).then(|| "true".into()),
            bcc_other: bcc.iter().filter(|b| !b.eq_ignore_ascii_case(contact)).copied().collect::<Vec<_>>().join(";"),
            subject: o.subject.clone().unwrap_or_default(),
            message: o.message.clone().unwrap_or_default(),
            phone,
            template_id: String::new(),
            load_template: None,
        }
    }
}

/// What the form needs from the database besides the order: templates and the SMS account.
#[derive(Default)]
struct FormData {
    templates: Vec<MailTemplate>,
    sms: Option<SmsAccount>,
}

fn load_form_data(conn: &mut crate::db::DbConn, shop: &Shop, channel: Channel) -> Result<FormData, DbError> {
    Ok(FormData {
        templates: if channel == Channel::Email { template_store::list(conn, shop.id)? } else { Vec::new() },
        sms: if channel == Channel::Sms { crate::store::sms::get(conn, shop.id)? } else { None },
    })
}

async fn form_data(state: &AppState, shop: &Shop, channel: Channel) -> Result<FormData, AppError> {
    let shop = shop.clone();
    Ok(state.db.read(move |conn| load_form_data(conn, &shop, channel)).await?)
}

pub struct TemplateChoice {
    pub id: String,
    pub label: String,
}

/// The SMS cost as the server estimates it (the page's script keeps it up to date).
pub struct SmsEstimate {
    pub segments: usize,
    pub chars: usize,
    pub encoding: &'static str,
    pub credits: Option<i32>,
    /// More segments than credits left.
    pub short: bool,
    /// The values the variables will take (the link with a token of the real length).
    pub url: String,
    pub shop_name: String,
    pub shop_contact: String,
    pub shop_url: String,
    pub start_date: String,
    pub default_fr: &'static str,
    pub default_en: &'static str,
}

pub struct CurrencyChoice {
    pub code: &'static str,
    pub exponent: u32,
}

/// Which order the form modifies, if any.
pub struct Editing {
    pub id: i64,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/order_form.html")]
struct FormPage {
    t: Tr,
    shell: Shell,
    channel_name: &'static str,
    title: &'static str,
    /// Invoices, or the shop makes references mandatory.
    reference_required: bool,
    editing: Option<Editing>,
    /// Prefilled from another order (duplicate).
    duplicated_from: Option<i64>,
    action: String,
    form: OrderForm,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
    currencies: Vec<CurrencyChoice>,
    validation_modes: &'static [ValidationMode],
    three_ds_choices: &'static [ThreeDsPreference],
    alias_modes: &'static [AliasMode],
    templates: Vec<TemplateChoice>,
    sms: Option<SmsEstimate>,
    shop_contact: String,
    min_date: String,
    max_date: String,
    advanced_open: bool,
}

const ADVANCED: [&str; 8] = [
    "currency",
    "validation_mode",
    "capture_delay_days",
    "expires_on",
    "language",
    "use_collection_form",
    "alias_mode",
    "three_ds",
];

impl FormPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        present::field_error(&self.t, &self.errors, field)
    }

    fn is(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn validation_label(&self, m: &ValidationMode) -> &'static str {
        validation_label(&self.t, *m)
    }

    fn three_ds_label(&self, p: &ThreeDsPreference) -> &'static str {
        three_ds_preference_label(&self.t, *p)
    }

    fn alias_label(&self, a: &AliasMode) -> &'static str {
        alias_label(&self.t, *a)
    }

    fn collection_checked(&self) -> bool {
        checked(&self.form.use_collection_form)
    }

    fn bcc_shop_checked(&self) -> bool {
        checked(&self.form.bcc_shop)
    }

    fn alias_checked(&self, a: &AliasMode) -> bool {
        self.form.alias_mode == a.as_str() || (self.form.alias_mode.trim().is_empty() && *a == AliasMode::None)
    }

    /// `aria-describedby` for a field: its hint, and its error when there is one.
    fn described(&self, field: &str, hint: &str) -> String {
        let mut ids: Vec<String> = Vec::new();
        if !hint.is_empty() {
            ids.push(hint.to_string());
        }
        if self.error(field).is_some() {
            ids.push(format!("{field}-error"));
        }
        ids.join(" ")
    }
}

/// The form page around `form`. `today` bounds the date picker.
#[allow(clippy::too_many_arguments)]
fn form_page(
    req: &HttpRequest,
    staff: &Staff,
    state: &AppState,
    channel: Channel,
    editing: Option<(&order_store::Order, NaiveDate)>,
    duplicated_from: Option<i64>,
    form: OrderForm,
    data: FormData,
    errors: Vec<FieldError>,
) -> FormPage {
    let t = tr(req);
    let shop = &staff.shop;
    let tz = shop.settings.time_zone;
    let today = order::local_today(state.clock.now(), tz);
    let created = editing.map(|(_, c)| c).unwrap_or(today);
    let templates = data
        .templates
        .iter()
        .map(|m| TemplateChoice { id: m.id.to_string(), label: format!("{} ({})", m.name, m.language.to_uppercase()) })
        .collect();
    let sms = (channel == Channel::Sms).then(|| sms_estimate(&form, shop, &state.settings.public_url, today, &data));
    let advanced_open = duplicated_from.is_some()
        || editing.is_some()
        || errors.iter().any(|e| ADVANCED.contains(&e.field) || e.field == "expires_at");
    let title = match (editing.is_some(), channel) {
        (true, _) => t.get("orders.form.title_edit"),
        (false, Channel::Url) => t.get("orders.form.title_url"),
        (false, Channel::Email) => t.get("orders.form.title_email"),
        (false, Channel::Sms) => t.get("orders.form.title_sms"),
        (false, Channel::Invoice) => t.get("orders.form.title_invoice"),
    };
    let action = match editing {
        Some((o, _)) => format!("/orders/{}/edit", o.id),
        None => "/orders".to_string(),
    };
    FormPage {
        shell: Shell::new(req, staff, "orders"),
        channel_name: channel.lower(),
        title,
        reference_required: channel == Channel::Invoice || shop.settings.defaults.reference_mandatory,
        editing: editing
            .map(|(o, _)| Editing { id: o.id.0, label: o.reference.clone().unwrap_or_else(|| format!("#{}", o.id)) }),
        duplicated_from,
        action,
        form,
        errors,
        notice: None,
        currencies: Currency::common()
            .iter()
            .map(|c| CurrencyChoice { code: c, exponent: Currency::parse(c).map(|c| c.exponent()).unwrap_or(2) })
            .collect(),
        validation_modes: ValidationMode::ALL,
        three_ds_choices: ThreeDsPreference::ALL,
        alias_modes: AliasMode::ALL,
        templates,
        sms,
        shop_contact: shop.settings.contact_email.clone(),
        min_date: today.format("%Y-%m-%d").to_string(),
        max_date: order::max_end_date(created).format("%Y-%m-%d").to_string(),
        advanced_open,
        t,
    }
}

/// The SMS as it will be sent (variables replaced, the link with a token of the real length)
/// and its cost; `static/orders.js` computes the same thing as the merchant types.
fn sms_estimate(form: &OrderForm, shop: &Shop, public_url: &str, today: NaiveDate, data: &FormData) -> SmsEstimate {
    let fr = form.lang_is_french();
    let text = if form.message.trim().is_empty() {
        template::default_sms(fr).to_string()
    } else {
        template::with_url(form.message.trim())
    };
    let currency =
        Currency::parse(if form.currency.trim().is_empty() { "EUR" } else { &form.currency }).unwrap_or(Currency::EUR);
    let amount = Money::parse(&form.amount, currency)
        .map(|m| m.display(fr))
        .unwrap_or_else(|_| Money { minor: 0, currency }.display(fr));
    let end = parse_date(&form.expires_on)
        .unwrap_or_else(|| order::default_end_date(today, shop.settings.defaults.validity_days));
    let url = format!("{public_url}/t/{}", "x".repeat(TOKEN_CHARS));
    let vars = Variables {
        reference: form.reference.trim().to_string(),
        amount,
        start_date: order::format_date(today, fr),
        end_date: order::format_date(end, fr),
        shop_name: shop.settings.label.clone(),
        shop_contact: shop.settings.contact_email.clone(),
        shop_url: shop.settings.url.clone(),
        url: url.clone(),
    };
    let cost = sms::cost(&vars.render_text(&text));
    SmsEstimate {
        segments: cost.segments,
        chars: cost.chars,
        encoding: match cost.encoding {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        },
        credits: data.sms.as_ref().map(|a| a.credits),
        short: data.sms.as_ref().is_some_and(|a| i64::from(a.credits) < cost.segments as i64),
        url,
        shop_name: vars.shop_name,
        shop_contact: vars.shop_contact,
        shop_url: vars.shop_url,
        start_date: today.format("%Y-%m-%d").to_string(),
        default_fr: template::default_sms(true),
        default_en: template::default_sms(false),
    }
}

#[derive(Deserialize)]
struct NewQuery {
    channel: Option<String>,
}

async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let Some(raw) = q.channel.as_deref() else { return Ok(see_other("/orders")) };
    let channel = Channel::from_query(raw).ok_or(AppError::NotFound)?;
    let lang = tr(&req).code();
    let shop = staff.shop.clone();
    let (data, default_template) = state
        .db
        .read(move |conn| {
            let data = load_form_data(conn, &shop, channel)?;
            let default =
                if channel == Channel::Email { template_store::default_for(conn, shop.id, lang)? } else { None };
            Ok::<_, DbError>((data, default))
        })
        .await?;
    let today = order::local_today(state.clock.now(), staff.shop.settings.time_zone);
    let form = OrderForm::initial(channel, &staff.shop, lang, today, default_template.as_ref());
    render(&form_page(&req, &staff, &state, channel, None, None, form, data, Vec::new()))
}

/// Re-renders the form with the chosen template's subject, body and language.
async fn load_template(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    editing: Option<(&order_store::Order, NaiveDate)>,
    mut form: OrderForm,
) -> Result<HttpResponse, AppError> {
    let shop = staff.shop.clone();
    let wanted = form.template_id.trim().parse::<i64>().ok();
    let (data, chosen) = state
        .db
        .read(move |conn| {
            let data = load_form_data(conn, &shop, Channel::Email)?;
            let chosen = data.templates.iter().find(|m| Some(m.id) == wanted).cloned();
            Ok::<_, DbError>((data, chosen))
        })
        .await?;
    let Some(chosen) = chosen else {
        let errors = vec![FieldError::new("template_id", "orders.template.unknown")];
        let page = form_page(req, staff, state, Channel::Email, editing, None, form, data, errors);
        return render_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
    };
    form.subject = chosen.subject.clone();
    form.message = chosen.body.clone();
    form.language = chosen.language.clone();
    form.load_template = None;
    let mut page = form_page(req, staff, state, Channel::Email, editing, None, form, data, Vec::new());
    page.notice = Some(page.t.get("orders.template.loaded"));
    render(&page)
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<OrderForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let channel = Channel::from_query(form.channel.trim()).ok_or(AppError::BadRequest("channel"))?;
    if channel == Channel::Email && form.load_template.is_some() {
        return load_template(&req, &state, &staff, None, form).await;
    }
    let today = order::local_today(state.clock.now(), staff.shop.settings.time_zone);
    let errors = match OrderDraft::parse(&form.to_raw(), channel, &staff.shop.settings, today, today) {
        Ok(draft) => {
            let scope = present::scope(&req, &staff, &state);
            let clock = state.clock.clone();
            let created =
                state.db.write(move |conn| service::create(conn, clock.as_ref(), &scope.orders(), &draft)).await;
            match created {
                Ok(orders) if orders.len() == 1 => return Ok(see_other(&format!("/orders/{}", orders[0].id))),
                Ok(_) => {
                    let base = form.reference.trim();
                    let to = if base.is_empty() {
                        format!("/orders?channel={}", channel.lower())
                    } else {
                        format!("/orders?reference={}*", urlencode(base))
                    };
                    return Ok(see_other(&to));
                }
                Err(e) => invalid(e)?,
            }
        }
        Err(errors) => errors,
    };
    let data = form_data(&state, &staff.shop, channel).await?;
    let page = form_page(&req, &staff, &state, channel, None, None, form, data, errors);
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Loads an order of the session's shop and mode, or 404.
async fn load_order(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<(order_store::Order, FormData), AppError> {
    let scope = present::scope(req, staff, state);
    Ok(state
        .db
        .read(move |conn| {
            let o = service::load(conn, &scope.orders(), OrderId(id))?;
            let data = load_form_data(conn, &scope.shop, o.channel)?;
            Ok::<_, ServiceError>((o, data))
        })
        .await?)
}

fn created_local(o: &order_store::Order, shop: &Shop) -> NaiveDate {
    local_date_of(o.created_at, shop.settings.time_zone)
}

/// Refuses, as a 409 page, an action the order's status does not offer.
fn require_action(o: &order_store::Order, action: Action, now: NaiveDateTime) -> Result<(), AppError> {
    if service::actions(o, now).contains(&action) {
        Ok(())
    } else {
        Err(AppError::Conflict("order.action_not_allowed"))
    }
}

async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (o, data) = load_order(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::ModifyAndResend, state.clock.now_naive())?;
    let form = OrderForm::of_order(&o, &staff.shop, french(&tr(&req)));
    let created = created_local(&o, &staff.shop);
    render(&form_page(&req, &staff, &state, o.channel, Some((&o, created)), None, form, data, Vec::new()))
}

async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(mut form): CsrfForm<OrderForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (o, data) = load_order(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::ModifyAndResend, state.clock.now_naive())?;
    let created = created_local(&o, &staff.shop);
    form.channel = o.channel.lower().to_string();
    if o.channel == Channel::Email && form.load_template.is_some() {
        return load_template(&req, &state, &staff, Some((&o, created)), form).await;
    }
    // What "modify and resend" cannot change stays as created (the seed's incompatibilities
    // were checked then); the hidden copies too.
    form.alias_mode = o.alias_mode.as_str().into();
    form.three_ds = o.three_ds.as_str().into();
    form.use_collection_form = o.use_collection_form.then(|| "true".into());
    form.bcc_shop = None;
    form.bcc_other = String::new();
    let today = order::local_today(state.clock.now(), staff.shop.settings.time_zone);
    let errors = match OrderDraft::parse(&form.to_raw(), o.channel, &staff.shop.settings, today, created) {
        Ok(draft) => {
            let scope = present::scope(&req, &staff, &state);
            let clock = state.clock.clone();
            let order_id = o.id;
            let modified = state
                .db
                .write(move |conn| service::modify(conn, clock.as_ref(), &scope.orders(), order_id, &draft))
                .await;
            match modified {
                Ok(_) => return Ok(see_other(&format!("/orders/{}?done=modified", o.id))),
                Err(e) => invalid(e)?,
            }
        }
        Err(errors) => errors,
    };
    let page = form_page(&req, &staff, &state, o.channel, Some((&o, created)), None, form, data, errors);
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// The create form prefilled with everything but the reference (seed 001 §12).
async fn duplicate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (o, data) = load_order(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::Duplicate, state.clock.now_naive())?;
    let mut form = OrderForm::of_order(&o, &staff.shop, french(&tr(&req)));
    form.reference = String::new();
    let today = order::local_today(state.clock.now(), staff.shop.settings.time_zone);
    if o.expires_on < today || o.expires_on > order::max_end_date(today) {
        let days = staff.shop.settings.defaults.validity_days;
        form.expires_on = order::default_end_date(today, days).format("%Y-%m-%d").to_string();
    }
    render(&form_page(&req, &staff, &state, o.channel, None, Some(o.id.0), form, data, Vec::new()))
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
const DONE: [(&str, &str); 6] = [
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
    o: &order_store::Order,
    jobs: &[Job],
    message_tab: bool,
    errors: Vec<FieldError>,
    validity_value: Option<String>,
) -> DetailPage {
    let t = tr(req);
    let fr = french(&t);
    let shop = &staff.shop;
    let tz = shop.settings.time_zone;
    let now = state.clock.now();
    let now_naive = now.naive_utc();
    let status = o.status_at(now_naive);
    let public_url = &state.settings.public_url;
    let rendered = service::render(o, shop, public_url);
    let today = order::local_today(now, tz);
    let created = created_local(o, shop);
    let max = order::max_end_date(created);
    let proposed = order::default_end_date(today, shop.settings.defaults.validity_days).min(max).max(today);
    let files = state.settings.smtp_url.is_none();
    let yes_no = |b: bool| if b { t.get("yes").to_string() } else { t.get("no").to_string() };
    let mut facts = vec![
        Fact { label: t.get("orders.field.shop"), value: shop.settings.label.clone() },
        Fact { label: t.get("orders.field.channel"), value: channel_label(&t, o.channel).to_string() },
        Fact { label: t.get("orders.field.mode"), value: o.mode.as_str().to_string() },
        Fact { label: t.get("orders.field.reference"), value: o.reference.clone().unwrap_or_else(|| "—".into()) },
        Fact { label: t.get("orders.field.amount"), value: o.amount.display(fr) },
        Fact {
            label: t.get("orders.field.created"),
            value: format!("{} ({})", local_datetime(o.created_at, tz, fr), tz.name()),
        },
        Fact {
            label: t.get("orders.field.expires"),
            value: format!("{} 23:59:59", order::format_date(o.expires_on, fr)),
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
    let jobs: Vec<JobLine> = jobs
        .iter()
        .map(|j| JobLine {
            id: j.id,
            kind: match j.kind() {
                Some(Kind::Email) => t.get("orders.job.email"),
                Some(Kind::Sms) => t.get("orders.job.sms"),
                None => "?",
            },
            status: job_status_label(&t, j.status()),
            attempts: j.attempts,
            last_error: j.last_error.clone(),
            created: local_datetime(j.created_at, tz, fr),
            sent: j.sent_at.map(|s| local_datetime(s, tz, fr)),
            eml: files && j.kind() == Some(Kind::Email) && j.status() == JobStatus::Sent,
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
        t,
    }
}

async fn load_with_jobs(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<(order_store::Order, Vec<Job>), AppError> {
    let scope = present::scope(req, staff, state);
    Ok(state
        .db
        .read(move |conn| {
            let o = service::load(conn, &scope.orders(), OrderId(id))?;
            let jobs = outbox::for_order(conn, o.id)?;
            Ok::<_, ServiceError>((o, jobs))
        })
        .await?)
}

#[derive(Deserialize)]
struct DetailQuery {
    tab: Option<String>,
    done: Option<String>,
}

async fn detail(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    q: web::Query<DetailQuery>,
) -> Result<HttpResponse, AppError> {
    let (o, jobs) = load_with_jobs(&req, &state, &staff, id.into_inner()).await?;
    let message_tab = q.tab.as_deref() == Some("message");
    let mut page = detail_page(&req, &staff, &state, &o, &jobs, message_tab, Vec::new(), None);
    page.notice = present::done_notice(&page.t, q.done.as_deref(), &DONE);
    render(&page)
}

/// "Preview message": the message tab of the detail.
async fn message(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (o, jobs) = load_with_jobs(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::PreviewMessage, state.clock.now_naive())?;
    render(&detail_page(&req, &staff, &state, &o, &jobs, true, Vec::new(), None))
}

#[derive(Deserialize)]
struct Empty {}

/// Runs one action on an order in a write transaction, then back to its detail.
async fn act<F>(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: i64,
    done: &str,
    f: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(
            &mut crate::db::DbConn,
            &dyn crate::domain::clock::Clock,
            &OrderContext<'_>,
            OrderId,
        ) -> ServiceResult<order_store::Order>
        + Send
        + 'static,
{
    staff.require_write()?;
    let scope = present::scope(&req, &staff, &state);
    let clock = state.clock.clone();
    state.db.write(move |conn| f(conn, clock.as_ref(), &scope.orders(), OrderId(id))).await?;
    Ok(see_other(&format!("/orders/{id}?done={done}")))
}

async fn resend(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "resent", service::resend).await
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

async fn reactivate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "reactivated", service::reactivate).await
}

async fn mark_sent(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    act(req, state, staff, id.into_inner(), "mark_sent", service::mark_sent).await
}

#[derive(Deserialize)]
struct ValidityForm {
    #[serde(default)]
    expires_on: String,
}

async fn change_validity(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(form): CsrfForm<ValidityForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let id = id.into_inner();
    let scope = present::scope(&req, &staff, &state);
    let clock = state.clock.clone();
    let date = form.expires_on.clone();
    let changed = state
        .db
        .write(move |conn| service::change_validity(conn, clock.as_ref(), &scope.orders(), OrderId(id), &date))
        .await;
    let errors = match changed {
        Ok(_) => return Ok(see_other(&format!("/orders/{id}?done=validity"))),
        Err(e) => invalid(e)?,
    };
    let (o, jobs) = load_with_jobs(&req, &state, &staff, id).await?;
    let page = detail_page(&req, &staff, &state, &o, &jobs, false, errors, Some(form.expires_on));
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

// ---------------------------------------------------------------------------------------
// QR codes and stored e-mails

async fn order_link(req: &HttpRequest, state: &AppState, staff: &Staff, id: i64) -> Result<(String, String), AppError> {
    let scope = present::scope(req, staff, state);
    let o = state.db.read(move |conn| service::load(conn, &scope.orders(), OrderId(id))).await?;
    let name = o.reference.clone().unwrap_or_else(|| o.id.to_string());
    Ok((service::pay_url(&state.settings.public_url, &o.token), name))
}

async fn qr_svg(
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

async fn qr_png(
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
async fn eml(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (id, job_id) = path.into_inner();
    let scope = present::scope(&req, &staff, &state);
    let job = state
        .db
        .read(move |conn| {
            let o = service::load(conn, &scope.orders(), OrderId(id))?;
            let job = outbox::get(conn, job_id)?;
            Ok::<_, ServiceError>(job.filter(|j| j.order_id == Some(o.id.0) && j.kind() == Some(Kind::Email)))
        })
        .await?
        .ok_or(AppError::NotFound)?;
    let file = crate::delivery::email::eml_dir(&state.settings).join(format!("email-{}.eml", job.id));
    let bytes =
        web::block(move || std::fs::read(file)).await.map_err(AppError::internal)?.map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("message/rfc822")
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"order-{id}-email-{job_id}.eml\"")))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

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
struct ListQuery {
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

struct Search {
    filter: OrderFilter,
    sort: SortKey,
    descending: bool,
    cursor: Option<Cursor>,
    errors: Vec<FieldError>,
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
        let cursor = given(&self.after).and_then(Cursor::decode);
        Search { filter: f, sort, descending, cursor, errors }
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

fn sort_link(q: &ListQuery, search: &Search, key: SortKey) -> SortLink {
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
    let now = state.clock.now_naive();
    let (shop, mode, user) = (staff.shop.id, staff.mode, staff.user.id);
    let ok = search.errors.is_empty();
    let (filter, sort, descending, cursor) =
        (search.filter.clone(), search.sort, search.descending, search.cursor.clone());
    let (stored, page) = state
        .db
        .read(move |conn| {
            let stored = users::orders_columns(conn, user)?;
            let page = if ok {
                Some(order_store::list(conn, &[shop], mode, &filter, sort, descending, cursor.as_ref(), PAGE, now)?)
            } else {
                None
            };
            Ok::<_, DbError>((stored, page))
        })
        .await?;
    let columns = columns_of(stored);
    let (items, next) = page.map(|p| (p.items, p.next)).unwrap_or_default();
    let rows = items
        .iter()
        .map(|o| {
            let status = o.status_at(now);
            Row {
                id: o.id.0,
                reference: o.reference.clone().unwrap_or_default(),
                channel: channel_label(&t, o.channel),
                created: local_datetime(o.created_at, tz, fr),
                expires: order::format_date(o.expires_on, fr),
                amount: o.amount.display(fr),
                status: order_status_label(&t, status),
                status_class: order_status_class(status),
                delivery: delivery_label(&t, o.delivery_status),
                delivery_class: delivery_class(o.delivery_status),
                recipient: o.recipient.clone().unwrap_or_default(),
                sends: o.send_count,
                created_by: o.created_by.clone(),
                transaction: o.transaction_id,
            }
        })
        .collect();
    let base = q.params(None);
    let next = next.map(|c| {
        let mut p = base.clone();
        p.push(("after", c.encode()));
        format!("/orders?{}", query_string(&p))
    });
    let first_page = search.cursor.is_some().then(|| format!("/orders?{}", query_string(&base)));
    let d = &staff.shop.settings.defaults;
    let colon = if fr { " :" } else { ":" };
    let defaults_line = format!(
        "{}{colon} {} · {}{colon} {} · {}{colon} {}",
        t.get("settings.validity_days"),
        d.validity_days,
        t.get("settings.validation_mode"),
        validation_label(&t, d.validation_mode),
        t.get("settings.capture_delay"),
        d.capture_delay_days
    );
    let advanced_open = [&q.created_from, &q.created_to, &q.expires_from, &q.expires_to, &q.amount_min, &q.amount_max]
        .iter()
        .any(|v| given(v).is_some());
    let page = ListPage {
        shell: Shell::new(&req, &staff, "orders"),
        rows,
        column_boxes: COLUMNS
            .iter()
            .copied()
            .map(|c| ColumnBox { key: c, label: column_label(&t, c), checked: columns.contains(&c) })
            .collect(),
        columns,
        errors: search.errors.clone(),
        filtered: q.has_filter(),
        advanced_open,
        next,
        first_page,
        export: format!("/orders.csv?{}", query_string(&base)),
        back: format!("/orders?{}", query_string(&base)),
        sort_created: sort_link(&q, &search, SortKey::Created),
        sort_expires: sort_link(&q, &search, SortKey::Expires),
        sort_amount: sort_link(&q, &search, SortKey::Amount),
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
        defaults_line,
        q,
        t,
    };
    let status = if page.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(&page, status)
}

/// The column chooser: a personal display preference, so viewers may set theirs too.
async fn save_columns(
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<HttpResponse, AppError> {
    let chosen: Vec<&str> =
        COLUMNS.iter().copied().filter(|c| pairs.iter().any(|(k, v)| k == "columns" && v == c)).collect();
    let stored = chosen.join(",");
    let user = staff.user.id;
    state.db.write(move |conn| users::set_orders_columns(conn, user, &stored).map_err(DbError::from)).await?;
    let back = pairs
        .iter()
        .find(|(k, _)| k == "back")
        .map(|(_, v)| v.as_str())
        .filter(|b| b.starts_with("/orders?") || *b == "/orders")
        .unwrap_or("/orders");
    Ok(see_other(back))
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
    let now = state.clock.now_naive();
    let (shop, mode) = (staff.shop.id, staff.mode);
    let (filter, sort, descending) = (search.filter, search.sort, search.descending);
    let orders = state
        .db
        .read(move |conn| {
            let mut all = Vec::new();
            let mut cursor: Option<Cursor> = None;
            loop {
                let page = order_store::list(
                    conn,
                    &[shop],
                    mode,
                    &filter,
                    sort,
                    descending,
                    cursor.as_ref(),
                    EXPORT_BATCH,
                    now,
                )?;
                all.extend(page.items);
                match page.next {
                    Some(c) if all.len() < EXPORT_MAX => cursor = Some(c),
                    _ => break,
                }
            }
            all.truncate(EXPORT_MAX);
            Ok::<_, DbError>(all)
        })
        .await?;
    let csv = Csv::new(Lang::of(&req));
    let head = csv.head(&EXPORT_HEADER)?;
    let public_url = state.settings.public_url.clone();
    let sep = csv.decimal_separator();
    let body = csv.lines(orders.iter().map(|o| export_record(o, tz, sep, now, &public_url)))?;
    Ok(present::csv_download("paylink-orders.csv", head, futures_util::stream::once(async { Ok(body) })))
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
fn export_record(o: &order_store::Order, tz: Tz, sep: char, now: NaiveDateTime, public_url: &str) -> [String; 15] {
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
        assert_eq!(s.filter.created_from.unwrap().to_string(), "2026-07-13 22:00:00");
        assert_eq!(s.filter.created_to.unwrap().to_string(), "2026-07-14 22:00:00");
        assert_eq!(s.filter.amount_min, Some(1550));
        assert_eq!(s.filter.reference.as_deref(), Some("INV-*"));
        assert_eq!((s.sort, s.descending), (SortKey::Created, true));
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
