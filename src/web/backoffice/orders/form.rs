//! The order form: create per channel, modify and resend, duplicate, load a template.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{created_local, require_action};
use crate::domain::FieldError;
use crate::domain::ids::OrderId;
use crate::domain::money::{Currency, Money};
use crate::domain::order::Order;
use crate::domain::order::{self, Action, AliasMode, Channel};
use crate::domain::order_form::{AmountInput, ExpiresInput, OrderDraft, RawOrder};
use crate::domain::shop::Shop;
use crate::domain::shop::{ThreeDsPreference, ValidationMode};
use crate::domain::template;
use crate::services::order_actions;
use crate::services::order_reads::{self, FormData};
use crate::services::sms::{self, SmsDraft, SmsEstimate};
use crate::services::templates::MailTemplate;
use crate::web::AppState;
use crate::web::backoffice::{render, render_status, see_other};
use crate::web::error::{AppError, urlencode};
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{
    self, alias_label, french, invalid, parse_date, three_ds_preference_label, validation_label,
};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !matches!(v.trim(), "" | "false" | "0" | "off"))
}

// ---------------------------------------------------------------------------------------
// The order form (create, modify, duplicate)

/// The order form as typed: the DESIGN §4 field names, plus the e-mail template controls.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OrderForm {
    #[serde(default)]
    pub channel: String,
    #[serde(default)]
    pub payment_service: String,
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
    pub instalments_until: String,
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
            instalments_until: self.instalments_until.clone(),
            use_collection_form: checked(&self.use_collection_form),
            description: self.description.clone(),
            recipients: self.recipients.clone(),
            subject: self.subject.clone(),
            message: self.message.clone(),
            phone: self.phone.clone(),
            bcc_shop: checked(&self.bcc_shop),
            bcc_other: self.bcc_other.clone(),
            payment_service: self.payment_service.clone(),
        }
    }

    /// What "modify and resend" cannot change stays as created (the seed's incompatibilities
    /// were checked then); the hidden copies too.
    fn keep_unchangeable(&mut self, o: &Order) {
        self.alias_mode = o.alias_mode.as_str().into();
        self.three_ds = o.three_ds.as_str().into();
        self.instalments_until = o.instalments_until.map(|d| d.to_string()).unwrap_or_default();
        self.use_collection_form = o.use_collection_form.then(|| "true".into());
        self.bcc_shop = None;
        self.bcc_other = String::new();
    }

    /// The order's language, French when the field names none of the five.
    fn lang(&self) -> Lang {
        Lang::parse(&self.language).unwrap_or(Lang::Fr)
    }

    /// A new order of `channel` with the shop's defaults.
    fn initial(channel: Channel, shop: &Shop, lang: &str, today: NaiveDate, mail: Option<&MailTemplate>) -> Self {
        let d = &shop.settings.defaults;
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
            Channel::Sms => form.message = template::default_sms(form.lang()).into(),
            Channel::Url => form.message = template::default_url_text(form.lang()).into(),
            Channel::Invoice => {}
        }
        form
    }

    /// The form prefilled from an existing order (modify, or duplicate without reference).
    fn of_order(o: &Order, shop: &Shop, fr_ui: bool) -> Self {
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
            instalments_until: o.instalments_until.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
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
            payment_service: String::new(),
        }
    }
}

pub struct TemplateChoice {
    pub id: String,
    pub label: String,
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
    /// The shop's services of the user's mode: `(value, name)`; empty: no choice to make.
    payment_services: Vec<(&'static str, String)>,
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

    /// An SMS order while the shop has no SMS account: nothing can be sent, so the form's
    /// send button is disabled and says why.
    fn sms_blocked(&self) -> bool {
        self.sms.as_ref().is_some_and(|s| s.credits.is_none())
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
    editing: Option<(&Order, NaiveDate)>,
    duplicated_from: Option<i64>,
    form: OrderForm,
    data: FormData,
    errors: Vec<FieldError>,
) -> FormPage {
    let t = tr(req);
    let shop = &staff.shop;
    let tz = shop.settings.time_zone;
    let today = order::local_today(state.env.clock.now(), tz);
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
        payment_services: data
            .payment_services
            .iter()
            .filter(|(_, m, _)| *m == staff.mode)
            .map(|(s, _, name)| (s.as_str(), name.clone()))
            .collect(),
        t,
    }
}

/// The SMS of the form as it will be sent, and its cost.
fn sms_estimate(form: &OrderForm, shop: &Shop, public_url: &str, today: NaiveDate, data: &FormData) -> SmsEstimate {
    let currency =
        Currency::parse(if form.currency.trim().is_empty() { "EUR" } else { &form.currency }).unwrap_or(Currency::EUR);
    let draft = SmsDraft {
        message: form.message.trim(),
        lang: form.lang(),
        amount: Money::parse(&form.amount, currency).unwrap_or(Money { minor: 0, currency }),
        end: parse_date(&form.expires_on),
        reference: form.reference.trim(),
    };
    sms::estimate(&draft, shop, public_url, today, data.sms_credits)
}

#[derive(Deserialize)]
pub(super) struct NewQuery {
    channel: Option<String>,
}

pub(super) async fn new_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<NewQuery>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let Some(raw) = q.channel.as_deref() else { return Ok(see_other("/orders")) };
    let channel = Channel::from_query(raw).ok_or(AppError::NotFound)?;
    let lang = tr(&req).code();
    let data = order_reads::form_data(&state.env.db, &staff.shop, channel, lang).await?;
    let today = order::local_today(state.env.clock.now(), staff.shop.settings.time_zone);
    let form = OrderForm::initial(channel, &staff.shop, lang, today, data.default_template.as_ref());
    render(&form_page(&req, &staff, &state, channel, None, None, form, data, Vec::new()))
}

/// Re-renders the form with the chosen template's subject, body and language.
async fn load_template(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    editing: Option<(&Order, NaiveDate)>,
    mut form: OrderForm,
) -> Result<HttpResponse, AppError> {
    let wanted = form.template_id.trim().parse::<i64>().ok();
    let data = order_reads::form_data(&state.env.db, &staff.shop, Channel::Email, tr(req).code()).await?;
    let chosen = data.templates.iter().find(|m| Some(m.id) == wanted).cloned();
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

pub(super) async fn create(
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
    let today = order::local_today(state.env.clock.now(), staff.shop.settings.time_zone);
    let errors = match OrderDraft::parse(&form.to_raw(), channel, &staff.shop.settings, today, today) {
        Ok(draft) => {
            let scope = present::scope(&req, &staff, &state);
            match order_actions::create(&state.env.db, &state.env.clock, &scope, draft).await {
                Ok(orders) => {
                    flash::set(&staff.session, Flash::count("flash.orders_created", orders.len()));
                    return Ok(see_other(&created_to(&orders, &form, channel)));
                }
                Err(e) => invalid(e)?,
            }
        }
        Err(errors) => errors,
    };
    let data = order_reads::form_data(&state.env.db, &staff.shop, channel, tr(&req).code()).await?;
    let page = form_page(&req, &staff, &state, channel, None, None, form, data, errors);
    render_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Where a creation leads: the order, or the list of the orders created together.
fn created_to(orders: &[Order], form: &OrderForm, channel: Channel) -> String {
    match (orders, form.reference.trim()) {
        ([one], _) => format!("/orders/{}", one.id),
        (_, "") => format!("/orders?channel={}", channel.lower()),
        (_, base) => format!("/orders?reference={}*", urlencode(base)),
    }
}

/// Loads an order of the session's shop and mode with its form data, or 404.
async fn load_order(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<(Order, FormData), AppError> {
    let scope = present::scope(req, staff, state);
    Ok(order_reads::with_form_data(&state.env.db, &scope, OrderId(id)).await?)
}

pub(super) async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (o, data) = load_order(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::ModifyAndResend, state.env.clock.now_naive())?;
    let form = OrderForm::of_order(&o, &staff.shop, french(&tr(&req)));
    let created = created_local(&o, &staff.shop);
    render(&form_page(&req, &staff, &state, o.channel, Some((&o, created)), None, form, data, Vec::new()))
}

pub(super) async fn edit(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(mut form): CsrfForm<OrderForm>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (o, data) = load_order(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::ModifyAndResend, state.env.clock.now_naive())?;
    let created = created_local(&o, &staff.shop);
    form.channel = o.channel.lower().to_string();
    if o.channel == Channel::Email && form.load_template.is_some() {
        return load_template(&req, &state, &staff, Some((&o, created)), form).await;
    }
    form.keep_unchangeable(&o);
    let today = order::local_today(state.env.clock.now(), staff.shop.settings.time_zone);
    let errors = match OrderDraft::parse(&form.to_raw(), o.channel, &staff.shop.settings, today, created) {
        Ok(draft) => {
            let scope = present::scope(&req, &staff, &state);
            let change = order_actions::Change::Modify(Box::new(draft));
            match order_actions::change(&state.env.db, &state.env.clock, &scope, o.id, change).await {
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
pub(super) async fn duplicate(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let (o, data) = load_order(&req, &state, &staff, id.into_inner()).await?;
    require_action(&o, Action::Duplicate, state.env.clock.now_naive())?;
    let mut form = OrderForm::of_order(&o, &staff.shop, french(&tr(&req)));
    form.reference = String::new();
    let today = order::local_today(state.env.clock.now(), staff.shop.settings.time_zone);
    if o.expires_on < today || o.expires_on > order::max_end_date(today) {
        let days = staff.shop.settings.defaults.validity_days;
        form.expires_on = order::default_end_date(today, days).format("%Y-%m-%d").to_string();
    }
    render(&form_page(&req, &staff, &state, o.channel, None, Some(o.id.0), form, data, Vec::new()))
}
