//! The messaging settings screens of a shop: its e-mail templates, its SMS account and the
//! outbox view. Each call is a transaction of its own, scoped to the shop (another shop's
//! template or message is not found); the rules are in [`super::templates`] and
//! [`super::sms`].

use chrono::{Days, NaiveDate, NaiveDateTime};

use super::orders::{EmailPayload, SmsPayload, pay_url};
use super::templates::{self, CleanTemplate, MailTemplate};
use super::{ServiceError, ServiceResult, sms};
use crate::config::Settings;
use crate::db::Db;
use crate::domain::FieldError;
use crate::domain::actor::Actor;
use crate::domain::clock::SharedClock;
use crate::domain::ids::{ShopId, TemplateId};
use crate::domain::money::{Currency, Money};
use crate::domain::order::format_date;
use crate::domain::outbox::{JobStatus, Kind};
use crate::domain::shop::Shop;
use crate::domain::template::{self, Variables};
use crate::i18n::{Lang, Tr};
use crate::store::outbox::{self, Job};
use crate::store::{sms as sms_store, templates as template_store};

pub async fn templates(db: &Db, shop: ShopId) -> ServiceResult<Vec<MailTemplate>> {
    db.read(move |conn| Ok(template_store::list(conn, shop)?.into_iter().map(MailTemplate::from).collect())).await
}

/// A template of the shop, or not found.
pub async fn template(db: &Db, shop: ShopId, id: TemplateId) -> ServiceResult<MailTemplate> {
    db.read(move |conn| template_store::find(conn, shop, id)?.map(MailTemplate::from).ok_or(ServiceError::NotFound))
        .await
}

/// A template written by the merchant.
pub enum TemplateChange {
    /// A new template (`None`) or new values of one.
    Save(Option<TemplateId>, CleanTemplate),
    /// A copy, its name followed by the suffix.
    Duplicate(TemplateId, &'static str),
}

/// Applies `change`; returns the template saved or created.
pub async fn change_template(
    db: &Db,
    clock: &SharedClock,
    actor: &Actor,
    shop: ShopId,
    change: TemplateChange,
) -> ServiceResult<TemplateId> {
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| match &change {
        TemplateChange::Save(id, t) => templates::save(conn, clock.as_ref(), &actor, shop, *id, t),
        TemplateChange::Duplicate(id, suffix) => templates::duplicate(conn, clock.as_ref(), &actor, shop, *id, suffix),
    })
    .await
}

/// Deletes a template of the shop (another default of its language is kept).
pub async fn delete_template(
    db: &Db,
    clock: &SharedClock,
    actor: &Actor,
    shop: ShopId,
    id: TemplateId,
) -> ServiceResult<()> {
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| templates::delete(conn, clock.as_ref(), &actor, shop, id)).await
}

/// The shop's SMS account as its form shows it (never its password).
#[derive(Debug, Clone)]
pub struct SmsAccountView {
    pub login: String,
    pub default_phone: String,
    pub credits: i32,
}

pub async fn sms_account(db: &Db, shop: ShopId) -> ServiceResult<Option<SmsAccountView>> {
    db.read(move |conn| {
        Ok(sms_store::get(conn, shop)?.map(|a| SmsAccountView {
            login: a.login,
            default_phone: a.default_phone,
            credits: a.credits,
        }))
    })
    .await
}

/// Saves the SMS account typed (its password sealed with `vault_key`); the fields refused
/// otherwise.
pub async fn save_sms_account(
    db: &Db,
    clock: &SharedClock,
    actor: &Actor,
    shop: ShopId,
    raw: sms::RawAccount,
    vault_key: Vec<u8>,
    right: sms::CreditsRight,
) -> ServiceResult<Result<(), Vec<FieldError>>> {
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| sms::save(conn, clock.as_ref(), &actor, shop, &raw, &vault_key, right)).await
}

/// A message of the outbox, as its view lists it.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    pub order_id: Option<i64>,
    pub kind: Option<Kind>,
    pub status: JobStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    /// E-mail: the recipients; SMS: the phone number.
    pub to: String,
    /// E-mail: the subject; SMS: the text.
    pub summary: String,
    /// An e-mail written as a file instead of sent: where it is on the server.
    pub eml_path: Option<String>,
}

impl OutboxMessage {
    fn new(j: Job, settings: &Settings) -> Self {
        let (kind, status) = (j.kind(), j.status());
        let (to, summary) = match kind {
            Some(Kind::Email) => serde_json::from_str::<EmailPayload>(&j.payload)
                .map(|p| (p.to.join("; "), p.subject))
                .unwrap_or_default(),
            Some(Kind::Sms) => {
                serde_json::from_str::<SmsPayload>(&j.payload).map(|p| (p.to, p.text)).unwrap_or_default()
            }
            Some(Kind::Webhook) => serde_json::from_str::<super::notify::WebhookPayload>(&j.payload)
                .map(|p| (p.url, String::new()))
                .unwrap_or_default(),
            None => Default::default(),
        };
        let written = status == JobStatus::Written;
        OutboxMessage {
            id: j.id,
            order_id: j.order_id,
            kind,
            status,
            attempts: j.attempts,
            next_attempt_at: j.next_attempt_at,
            last_error: j.last_error,
            created_at: j.created_at,
            to,
            summary,
            eml_path: written.then(|| settings.eml_path(j.id).display().to_string()),
        }
    }

    /// Done by writing a file, not by sending anything.
    pub fn written_to_file(&self) -> bool {
        self.eml_path.is_some()
    }
}

/// The shop's `limit` latest e-mails and SMS, newest first.
pub async fn outbox(
    db: &Db,
    settings: &Settings,
    shop: ShopId,
    limit: i64,
) -> ServiceResult<(Vec<OutboxMessage>, Vec<OutboxMessage>)> {
    let settings = settings.clone();
    db.read(move |conn| {
        let read = |conn: &mut _, kind| -> ServiceResult<Vec<OutboxMessage>> {
            let jobs = outbox::recent_for_shop(conn, shop, kind, limit)?;
            Ok(jobs.into_iter().map(|j| OutboxMessage::new(j, &settings)).collect())
        };
        let emails = read(conn, Kind::Email)?;
        Ok((emails, read(conn, Kind::Sms)?))
    })
    .await
}

/// The id of a message of the shop written as an e-mail, if `id` is one.
pub async fn email_of(db: &Db, shop: ShopId, id: i64) -> ServiceResult<Option<i64>> {
    db.read(move |conn| {
        let job = outbox::get(conn, id)?;
        Ok(job.filter(|j| j.shop_id == shop.0 && j.kind() == Some(Kind::Email)).map(|j| j.id))
    })
    .await
}

/// The `.eml` file the e-mail job `id` was written to; `None` when there is none.
pub async fn eml_file(settings: &Settings, id: i64) -> std::io::Result<Option<Vec<u8>>> {
    let path = settings.eml_path(id);
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await.map_err(std::io::Error::other)? {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// One example value of a preview, beside the variable it stands for.
#[derive(Debug)]
pub struct Example {
    pub name: &'static str,
    pub value: String,
}

/// A template as a message made from it would read, with example values.
#[derive(Debug)]
pub struct Preview {
    pub subject: String,
    /// The sanitised body with the example values (HTML-escaped) in place.
    pub html: String,
    pub text: String,
    pub examples: Vec<Example>,
}

/// Previews `template` for `shop` on `today`.
pub fn preview(template: &MailTemplate, shop: &Shop, today: NaiveDate, public_url: &str) -> Preview {
    let vars = sample_variables(shop, today, Lang::parse(&template.language).unwrap_or(Lang::Fr), public_url);
    // Sanitised again here: a body that reached the table another way is still made safe,
    // and gets its link appended like a real message would.
    let body = template::sanitize_body(&template.body);
    let html = vars.render_html(&body);
    Preview {
        subject: vars.render_text(&template.subject),
        text: template::html_to_text(&vars.render_html_plain(&body)),
        examples: template::VARIABLES.iter().map(|name| Example { name, value: vars.render_text(name) }).collect(),
        html,
    }
}

/// Example values of every variable for a preview: a sample order of 15.00 EUR created today
/// with the shop's default validity, the shop's own name, contact and site, a sample link.
fn sample_variables(shop: &Shop, today: NaiveDate, lang: Lang, public_url: &str) -> Variables {
    let days = u64::try_from(shop.settings.defaults.validity_days).unwrap_or(30);
    let end = today.checked_add_days(Days::new(days)).unwrap_or(today);
    let amount = Money::from_minor(1500, Currency::EUR).map(|m| m.display(lang)).unwrap_or_default();
    Variables {
        reference: "CMD-2026-0042".to_string(),
        amount: amount.clone(),
        start_date: format_date(today, lang),
        end_date: format_date(end, lang),
        shop_name: shop.settings.label.clone(),
        shop_contact: shop.settings.contact_email.clone(),
        shop_url: shop.settings.url.clone(),
        url: pay_url(public_url, "example"),
        button: Tr::new(lang).args("pay.submit", &[("amount", amount.into())]),
    }
}
