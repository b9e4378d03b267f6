//! Payment order use cases. Each runs in the caller's transaction and writes its audit entry
//! and its outbox rows (e-mail, SMS) inside it: an order is never created without its message
//! being queued, nor a message queued for an order that was rolled back.

use chrono::NaiveDate;

use crate::domain::notification::EventType;
use serde::{Deserialize, Serialize};

use super::{ServiceError, ServiceResult};
use crate::db::{DbConn, is_unique_violation};
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::clock::Clock;
use crate::domain::ids::OrderId;
use crate::domain::money::Money;
use crate::domain::order::{self, Action, Channel, DeliveryStatus, Reference, allowed};
use crate::domain::order_form::OrderDraft;
use crate::domain::sms;
use crate::domain::template::{self, Variables};
use crate::i18n::Tr;
use crate::store::audit::{self, Actor, Entry};
use crate::store::orders::{self as store, Modification, Order, OrderUpdate};
use crate::store::outbox::{self, Kind};
use crate::store::shops::Shop;
use crate::store::sms as sms_store;

/// Who acts, on which shop and mode, and the base of the links.
pub struct OrderContext<'a> {
    pub actor: &'a Actor,
    pub shop: &'a Shop,
    pub mode: Mode,
    pub public_url: &'a str,
}

pub use crate::domain::order::pay_url;

/// The values of the `%variables%` for an order, in the order's language.
pub fn variables(o: &Order, shop: &Shop, public_url: &str) -> Variables {
    let lang = o.lang();
    let tz = shop.settings.time_zone;
    let start = o.created_at.and_utc().with_timezone(&tz).date_naive();
    Variables {
        reference: o.reference.clone().unwrap_or_default(),
        amount: o.amount.display(lang),
        start_date: order::format_date(start, lang),
        end_date: order::format_date(o.expires_on, lang),
        shop_name: shop.settings.label.clone(),
        shop_contact: shop.settings.contact_email.clone(),
        shop_url: shop.settings.url.clone(),
        url: pay_url(public_url, &o.token),
        button: Tr::new(lang).args("pay.submit", &[("amount", o.amount.display(lang).into())]),
    }
}

/// A message as the buyer receives it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rendered {
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: String,
}

pub fn render(o: &Order, shop: &Shop, public_url: &str) -> Rendered {
    let vars = variables(o, shop, public_url);
    let source = o.message.clone().unwrap_or_default();
    match o.channel {
        Channel::Email => {
            let html = vars.render_html(&source);
            Rendered {
                subject: o.subject.as_deref().map(|s| vars.render_text(s)),
                text: template::html_to_text(&vars.render_html_plain(&source)),
                html: Some(html),
            }
        }
        Channel::Sms => Rendered { subject: None, html: None, text: sms::plain_spaces(&vars.render_text(&source)) },
        Channel::Url => Rendered { subject: None, html: None, text: vars.render_text(&source) },
        Channel::Invoice => Rendered { subject: None, html: None, text: String::new() },
    }
}

pub use crate::domain::outbox::EmailPayload;

pub use crate::domain::sms::SmsPayload;

/// Queues the order's message (e-mail or SMS) and counts one more sending; `o` follows.
fn enqueue_delivery(
    conn: &mut DbConn,
    clock: &dyn Clock,
    shop: &Shop,
    o: &mut Order,
    public_url: &str,
) -> ServiceResult<()> {
    let now = clock.now_naive();
    let rendered = render(o, shop, public_url);
    match o.channel {
        Channel::Email => {
            let payload = EmailPayload {
                to: o.recipient.iter().cloned().collect(),
                bcc: o.bcc.as_deref().map(|b| b.split(';').map(str::to_string).collect()).unwrap_or_default(),
                reply_to: Some(shop.settings.contact_email.clone()),
                from_name: shop.settings.label.clone(),
                subject: rendered.subject.unwrap_or_default(),
                html: rendered.html.unwrap_or_default(),
                text: rendered.text,
            };
            let json = serde_json::to_string(&payload).expect("serialisable");
            outbox::enqueue(conn, o.shop_id, Some(o.id), Kind::Email, &json, now)?;
        }
        Channel::Sms => {
            let account = sms_store::get(conn, o.shop_id)?;
            if account.is_none() {
                return Err(ServiceError::field("phone", "sms.no_account"));
            }
            // The same count the worker gives back if the message is given up.
            if !sms_store::take_credits(conn, o.shop_id, super::sms::credits_for(&rendered.text))? {
                return Err(ServiceError::field("message", "sms.no_credits"));
            }
            let payload = SmsPayload { to: o.recipient.clone().unwrap_or_default(), text: rendered.text };
            let json = serde_json::to_string(&payload).expect("serialisable");
            outbox::enqueue(conn, o.shop_id, Some(o.id), Kind::Sms, &json, now)?;
        }
        Channel::Url | Channel::Invoice => return Ok(()),
    }
    store::apply(conn, o.id, OrderUpdate::Sent, now)?;
    o.send_count += 1;
    o.delivery_status = DeliveryStatus::Pending;
    Ok(())
}

fn log(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &OrderContext<'_>,
    action: &str,
    o: &Order,
    detail: &str,
) -> ServiceResult<()> {
    let target = format!("order:{}{}", o.id, o.reference.as_deref().map(|r| format!(" ({r})")).unwrap_or_default());
    audit::append(
        conn,
        ctx.actor,
        Entry { shop_id: Some(o.shop_id), action, target: &target, detail },
        clock.now_naive(),
    )?;
    Ok(())
}

/// Creates one order per recipient (references numbered `-001`, `-002`, …) and queues their
/// messages. Returns the orders as stored.
pub fn create(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &OrderContext<'_>,
    d: &OrderDraft,
) -> ServiceResult<Vec<Order>> {
    let now = clock.now_naive();
    let count = d.recipients.len().max(1);
    let references = Reference::numbered(d.reference.as_ref(), count).map_err(|e| ServiceError::Invalid(vec![e]))?;
    let expires_at = order::validity_end(d.expires_on, ctx.shop.settings.time_zone).naive_utc();
    let bcc = (!d.bcc.is_empty()).then(|| d.bcc.join(";"));
    if d.channel == Channel::Invoice && !super::collect::production_ready(conn, ctx.shop.id, ctx.mode)? {
        return Err(ServiceError::field("reference", "collect.not_in_production"));
    }
    if let Some(s) = d.payment_service
        && crate::store::payment_services::find(conn, ctx.shop.id, s, ctx.mode)?.is_none()
    {
        return Err(ServiceError::field("payment_service", "service.not_configured"));
    }
    let mut created = Vec::with_capacity(count);
    for (i, reference) in references.iter().enumerate() {
        if d.channel == Channel::Invoice
            && let Some(r) = reference
            && store::open_invoice_exists(conn, ctx.shop.id, ctx.mode, r)?
        {
            return Err(ServiceError::field("reference", "reference.invoice_taken"));
        }
        let token = order::new_token();
        let mut o = store::insert(
            conn,
            &store::NewOrder {
                shop_id: ctx.shop.id,
                mode: ctx.mode,
                channel: d.channel,
                token: &token,
                reference: reference.as_deref(),
                amount: d.amount,
                language: d.language,
                validation_mode: d.validation_mode,
                capture_delay_days: d.capture_delay_days,
                expires_on: d.expires_on,
                expires_at,
                alias_mode: d.alias_mode,
                three_ds: d.three_ds,
                buyer_email: d.buyer_email.as_deref(),
                use_collection_form: d.use_collection_form,
                description: d.description.as_deref(),
                recipient: d.recipients.get(i).map(String::as_str),
                bcc: bcc.as_deref(),
                subject: d.subject.as_deref(),
                message: d.message.as_deref(),
                instalments_until: d.instalments_until,
                delivery_status: d.channel.initial_delivery(),
                created_by: &ctx.actor.name,
            },
            now,
        )
        .map_err(|e| {
            if is_unique_violation(&e) { ServiceError::field("reference", "reference.invoice_taken") } else { e.into() }
        })?;
        if let Some(s) = d.payment_service {
            crate::store::payment_services::choose_for_order(conn, o.id, s)?;
        }
        enqueue_delivery(conn, clock, ctx.shop, &mut o, ctx.public_url)?;
        let detail = format!(
            "{} {} {}{}",
            d.channel,
            ctx.mode,
            d.amount.plain(),
            o.recipient.as_deref().map(|r| format!(" to {r}")).unwrap_or_default()
        );
        log(conn, clock, ctx, "order.created", &o, &detail)?;
        created.push(o);
    }
    Ok(created)
}

pub fn load(conn: &mut DbConn, ctx: &OrderContext<'_>, id: OrderId) -> ServiceResult<Order> {
    store::find(conn, &[ctx.shop.id], ctx.mode, id)?.ok_or(ServiceError::NotFound)
}

/// Refuses an action the order's status does not offer (the seed's table).
fn require(o: &Order, action: Action, now: chrono::NaiveDateTime) -> ServiceResult<()> {
    let status = o.status_at(now);
    if allowed(action, status, o.channel, o.delivery_status, o.within_validity(now), o.transaction_id.is_some()) {
        Ok(())
    } else {
        Err(ServiceError::Conflict("order.action_not_allowed"))
    }
}

fn applied(n: usize) -> ServiceResult<()> {
    if n == 1 { Ok(()) } else { Err(ServiceError::Conflict("order.state_changed")) }
}

pub fn cancel(conn: &mut DbConn, clock: &dyn Clock, ctx: &OrderContext<'_>, id: OrderId) -> ServiceResult<Order> {
    let now = clock.now_naive();
    let o = load(conn, ctx, id)?;
    require(&o, Action::Cancel, now)?;
    if store::payment_in_flight(conn, id, now)? {
        return Err(ServiceError::Conflict("order.payment_in_progress"));
    }
    applied(store::apply(conn, id, OrderUpdate::Cancel, now)?)?;
    log(conn, clock, ctx, "order.cancelled", &o, "")?;
    super::notify::emit(conn, EventType::OrderCancelled, id, None, false, ctx.public_url, now)?;
    load(conn, ctx, id)
}

pub fn reactivate(conn: &mut DbConn, clock: &dyn Clock, ctx: &OrderContext<'_>, id: OrderId) -> ServiceResult<Order> {
    let now = clock.now_naive();
    let o = load(conn, ctx, id)?;
    if o.status == order::OrderStatus::Cancelled && !o.within_validity(now) {
        return Err(ServiceError::Conflict("order.reactivate_expired"));
    }
    require(&o, Action::Reactivate, now)?;
    applied(store::apply(conn, id, OrderUpdate::Reactivate, now)?)?;
    log(conn, clock, ctx, "order.reactivated", &o, "")?;
    load(conn, ctx, id)
}

/// A new end date: an expired order becomes payable again (seed 001 §12.4).
pub fn change_validity(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &OrderContext<'_>,
    id: OrderId,
    raw_date: &str,
) -> ServiceResult<Order> {
    let now = clock.now();
    let o = load(conn, ctx, id)?;
    require(&o, Action::ChangeValidity, now.naive_utc())?;
    let tz = ctx.shop.settings.time_zone;
    let today = order::local_today(now, tz);
    let created = o.created_at.and_utc().with_timezone(&tz).date_naive();
    let date = order::parse_end_date(raw_date, today, created).map_err(|e| ServiceError::Invalid(vec![e]))?;
    set_validity(conn, clock, ctx, &o, date)?;
    load(conn, ctx, id)
}

fn set_validity(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &OrderContext<'_>,
    o: &Order,
    date: NaiveDate,
) -> ServiceResult<()> {
    let expires_at = order::validity_end(date, ctx.shop.settings.time_zone).naive_utc();
    applied(store::apply(
        conn,
        o.id,
        OrderUpdate::ChangeValidity { expires_on: date, expires_at },
        clock.now_naive(),
    )?)?;
    log(conn, clock, ctx, "order.validity_changed", o, &format!("{} -> {}", o.expires_on, date))
}

pub fn mark_sent(conn: &mut DbConn, clock: &dyn Clock, ctx: &OrderContext<'_>, id: OrderId) -> ServiceResult<Order> {
    let now = clock.now_naive();
    let o = load(conn, ctx, id)?;
    require(&o, Action::MarkSent, now)?;
    applied(store::apply(conn, id, OrderUpdate::MarkSent, now)?)?;
    log(conn, clock, ctx, "order.marked_sent", &o, "")?;
    load(conn, ctx, id)
}

/// Sends the e-mail again, as it was (e-mail orders still running).
pub fn resend(conn: &mut DbConn, clock: &dyn Clock, ctx: &OrderContext<'_>, id: OrderId) -> ServiceResult<Order> {
    let now = clock.now_naive();
    let o = load(conn, ctx, id)?;
    require(&o, Action::Resend, now)?;
    enqueue_delivery(conn, clock, ctx.shop, &mut o.clone(), ctx.public_url)?;
    log(conn, clock, ctx, "order.resent", &o, &format!("sending #{}", o.send_count + 1))?;
    load(conn, ctx, id)
}

/// "Modify and resend": new values, the order running again, its message queued again.
pub fn modify(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &OrderContext<'_>,
    id: OrderId,
    d: &OrderDraft,
) -> ServiceResult<Order> {
    let now = clock.now_naive();
    let o = load(conn, ctx, id)?;
    require(&o, Action::ModifyAndResend, now)?;
    if d.recipients.len() > 1 {
        return Err(ServiceError::field("recipients", "order.one_recipient"));
    }
    let reference = d.reference.as_ref().map(|r| r.as_str().to_string());
    if o.channel == Channel::Invoice
        && let Some(r) = &reference
        && o.reference.as_deref() != Some(r.as_str())
        && store::open_invoice_exists(conn, ctx.shop.id, ctx.mode, r)?
    {
        return Err(ServiceError::field("reference", "reference.invoice_taken"));
    }
    let m = Modification {
        reference,
        amount: d.amount,
        expires_on: d.expires_on,
        expires_at: order::validity_end(d.expires_on, ctx.shop.settings.time_zone).naive_utc(),
        validation_mode: d.validation_mode,
        capture_delay_days: d.capture_delay_days,
        language: d.language.to_string(),
        buyer_email: d.buyer_email.clone(),
        description: d.description.clone(),
        recipient: d.recipients.first().cloned().or(o.recipient.clone()),
        subject: d.subject.clone().or(o.subject.clone()),
        message: d.message.clone().or(o.message.clone()),
        delivery_status: o.channel.initial_delivery(),
    };
    applied(store::apply(conn, id, OrderUpdate::Modify(&m), now)?)?;
    let mut updated = load(conn, ctx, id)?;
    enqueue_delivery(conn, clock, ctx.shop, &mut updated, ctx.public_url)?;
    log(conn, clock, ctx, "order.modified", &o, &format!("amount {} -> {}", o.amount.plain(), d.amount.plain()))?;
    load(conn, ctx, id)
}

/// The API's update of a running order: validity, amount, reference. The amount is in minor
/// units of the order's currency (the API cannot change it) and the end date is checked here,
/// against the order's creation day: only the service knows the order.
pub struct RunningChanges {
    pub amount_minor: Option<i64>,
    pub reference: Option<Option<Reference>>,
    pub expires_on: Option<NaiveDate>,
}

pub fn update_running(
    conn: &mut DbConn,
    clock: &dyn Clock,
    ctx: &OrderContext<'_>,
    id: OrderId,
    c: &RunningChanges,
) -> ServiceResult<Order> {
    let now = clock.now_naive();
    let o = load(conn, ctx, id)?;
    if o.status_at(now) != order::OrderStatus::Running {
        return Err(ServiceError::Conflict("order.not_running"));
    }
    let reference = match &c.reference {
        Some(r) => r.as_ref().map(|r| r.as_str().to_string()),
        None => o.reference.clone(),
    };
    if o.channel == Channel::Invoice && reference.is_none() {
        return Err(ServiceError::field("reference", "field.required"));
    }
    let mut errors = Vec::new();
    let amount = match c.amount_minor {
        Some(minor) => Money::from_minor(minor, o.amount.currency).map_err(|e| errors.push(e)).unwrap_or(o.amount),
        None => o.amount,
    };
    if let Some(date) = c.expires_on {
        let tz = ctx.shop.settings.time_zone;
        let created = o.created_at.and_utc().with_timezone(&tz).date_naive();
        if date < order::local_today(clock.now(), tz) {
            errors.push(FieldError::new("expires_at", "expires_on.past"));
        } else if date > order::max_end_date(created) {
            errors.push(FieldError::new("expires_at", "expires_on.too_far"));
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let expires_on = c.expires_on.unwrap_or(o.expires_on);
    let m = Modification {
        reference,
        amount,
        expires_on,
        expires_at: order::validity_end(expires_on, ctx.shop.settings.time_zone).naive_utc(),
        validation_mode: o.validation_mode,
        capture_delay_days: o.capture_delay_days,
        language: o.language.clone(),
        buyer_email: o.buyer_email.clone(),
        description: o.description.clone(),
        recipient: o.recipient.clone(),
        subject: o.subject.clone(),
        message: o.message.clone(),
        delivery_status: o.delivery_status,
    };
    applied(store::apply(conn, id, OrderUpdate::Modify(&m), now).map_err(|e| {
        if is_unique_violation(&e) { ServiceError::field("reference", "reference.invoice_taken") } else { e.into() }
    })?)?;
    log(conn, clock, ctx, "order.updated", &o, "via API")?;
    load(conn, ctx, id)
}

/// Worker: writes EXPIRED on running orders past their end.
pub fn expire_due(conn: &mut DbConn, clock: &dyn Clock, public_url: &str) -> ServiceResult<usize> {
    let now = clock.now_naive();
    let expired = store::expire_due(conn, now, 1000)?;
    for id in &expired {
        super::notify::emit(conn, EventType::OrderExpired, *id, None, false, public_url, now)?;
    }
    Ok(expired.len())
}

/// The SMS cost of a draft's message for one recipient (shown before sending).
pub fn sms_cost_preview(text: &str) -> sms::Cost {
    sms::cost(text)
}

/// Field errors of a refused service call, for forms; other errors pass through.
pub fn field_errors(e: ServiceError) -> Result<Vec<FieldError>, ServiceError> {
    match e {
        ServiceError::Invalid(v) => Ok(v),
        other => Err(other),
    }
}

/// What every screen needs to know about the actions of an order.
pub fn actions(o: &Order, now: chrono::NaiveDateTime) -> Vec<Action> {
    let status = o.status_at(now);
    Action::ALL
        .into_iter()
        .filter(|a| {
            allowed(*a, status, o.channel, o.delivery_status, o.within_validity(now), o.transaction_id.is_some())
        })
        .collect()
}
