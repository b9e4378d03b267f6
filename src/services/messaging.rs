//! The messaging settings screens of a shop: its e-mail templates, its SMS account and the
//! outbox view. Each call is a transaction of its own, scoped to the shop (another shop's
//! template or message is not found); the rules are in [`super::templates`] and
//! [`super::sms`].

use chrono::NaiveDateTime;

use super::templates::{self, CleanTemplate, MailTemplate};
use super::{ServiceError, ServiceResult, sms};
use crate::db::Db;
use crate::domain::FieldError;
use crate::domain::actor::Actor;
use crate::domain::clock::SharedClock;
use crate::domain::ids::{ShopId, TemplateId};
use crate::domain::outbox::{JobStatus, Kind};
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
) -> ServiceResult<Result<(), Vec<FieldError>>> {
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| sms::save(conn, clock.as_ref(), &actor, shop, &raw, &vault_key)).await
}

/// A message of the outbox, as its view lists it.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    pub id: i64,
    pub order_id: Option<i64>,
    pub kind: Option<Kind>,
    /// The message as queued (JSON: an e-mail or an SMS).
    pub payload: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

impl From<Job> for OutboxMessage {
    fn from(j: Job) -> Self {
        OutboxMessage {
            id: j.id,
            order_id: j.order_id,
            kind: j.kind(),
            status: j.status(),
            payload: j.payload,
            attempts: j.attempts,
            next_attempt_at: j.next_attempt_at,
            last_error: j.last_error,
            created_at: j.created_at,
        }
    }
}

/// The shop's `limit` latest e-mails and SMS, newest first.
pub async fn outbox(db: &Db, shop: ShopId, limit: i64) -> ServiceResult<(Vec<OutboxMessage>, Vec<OutboxMessage>)> {
    db.read(move |conn| {
        let read = |conn: &mut _, kind| -> ServiceResult<Vec<OutboxMessage>> {
            Ok(outbox::recent_for_shop(conn, shop, kind, limit)?.into_iter().map(OutboxMessage::from).collect())
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
