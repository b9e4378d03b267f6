//! Events and the notification rules that answer them. `emit` runs in the transaction of the
//! change it tells of: it records the event (its body, signed later, stays as written) and
//! queues one outbox job per matching rule — a signed call, the buyer's confirmation, an
//! e-mail to the merchant or to the user who created the order. The worker delivers them.

use chrono::NaiveDateTime;
use rand::Rng;
use serde::Serialize;

use super::objects::{OrderObject, TransactionObject};
use super::{ServiceError, ServiceResult};
use crate::db::DbConn;
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::notification::{EventType, Facts, RuleKind};
use crate::domain::order::Order;
use crate::domain::outbox::EmailPayload;
use crate::domain::shop::Shop;
use crate::domain::transaction::Transaction;
use crate::i18n::{Lang, Tr};
use crate::store::notifications::{self as store, NewEvent, RuleRow};
use crate::store::outbox::{self, Kind};

/// The body of a webhook call (DESIGN §4).
#[derive(Debug, Serialize)]
pub struct EventBody {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub created: chrono::DateTime<chrono::Utc>,
    pub mode: &'static str,
    pub data: EventData,
}

#[derive(Debug, Serialize)]
pub struct EventData {
    pub order: Option<OrderObject>,
    pub transaction: Option<TransactionObject>,
}

/// What a webhook job carries: the URL it was queued for (the rule's, at the time).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct WebhookPayload {
    pub url: String,
}

/// `evt_` and 24 random letters and digits: the event id, the same on every retry.
pub fn new_event_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..24).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("evt_{tail}")
}

/// Records `event` of the order (and its transaction) and queues what the shop's rules ask
/// for, in the caller's transaction. `by_schedule`: a payment the worker made (an instalment).
pub fn emit(
    conn: &mut DbConn,
    event: EventType,
    order: OrderId,
    transaction: Option<i64>,
    by_schedule: bool,
    public_url: &str,
    now: NaiveDateTime,
) -> ServiceResult<i64> {
    let (o, shop) = crate::store::orders::find_with_shop(conn, order)?.ok_or(ServiceError::NotFound)?;
    let t = match transaction {
        Some(id) => Some(crate::store::transactions::get(conn, id)?.ok_or(ServiceError::NotFound)?),
        None => None,
    };
    let id = record(conn, &shop, o.mode, event, Some(&o), t.as_ref(), public_url, now)?;
    let facts = Facts { event, channel: Some(o.channel), mode: o.mode, by_schedule };
    for rule in store::rules_of(conn, shop.id)? {
        if !rule.enabled || !rule.conditions().matches(&facts) {
            continue;
        }
        queue(conn, &shop, &rule, id, event, &o, t.as_ref(), public_url, now)?;
    }
    Ok(id)
}

/// Records an event with its body; returns its row id.
#[allow(clippy::too_many_arguments)]
fn record(
    conn: &mut DbConn,
    shop: &Shop,
    mode: Mode,
    event: EventType,
    o: Option<&Order>,
    t: Option<&Transaction>,
    public_url: &str,
    now: NaiveDateTime,
) -> ServiceResult<i64> {
    let public_id = new_event_id();
    let transaction = t.map(|t| {
        // No buyer data beyond the order's e-mail: the collection form's answers stay here.
        let mut object = TransactionObject::new(t);
        object.buyer = None;
        object
    });
    let body = EventBody {
        id: public_id.clone(),
        kind: event.as_str(),
        created: now.and_utc(),
        mode: mode.as_str(),
        data: EventData { order: o.map(|o| OrderObject::new(o, public_url, now)), transaction },
    };
    let body = serde_json::to_string(&body).expect("json");
    let new = NewEvent {
        public_id: &public_id,
        shop: shop.id,
        mode,
        event_type: event.as_str(),
        order_id: o.map(|o| o.id.0),
        transaction_id: t.map(|t| t.id),
        body: &body,
    };
    Ok(store::insert_event(conn, &new, now)?)
}

/// A test event to one URL rule only, from the deliveries screen.
pub fn emit_test(conn: &mut DbConn, shop: &Shop, mode: Mode, rule: &RuleRow, now: NaiveDateTime) -> ServiceResult<i64> {
    let url = rule.url(mode).ok_or(ServiceError::field("rule", "webhook.no_url_for_mode"))?.to_string();
    let id = record(conn, shop, mode, EventType::Test, None, None, "", now)?;
    let payload = serde_json::to_string(&WebhookPayload { url }).expect("json");
    outbox::enqueue_for_rule(conn, shop.id, None, Kind::Webhook, &payload, Some((id, rule.id)), now)?;
    Ok(id)
}

/// Queues a webhook call of `rule` for an event again (a replay): same event, same body.
pub fn requeue(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    rule: &RuleRow,
    event: i64,
    order: Option<i64>,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    if !rule.enabled {
        return Err(ServiceError::Conflict("webhook.disabled"));
    }
    let url = rule.url(mode).ok_or(ServiceError::field("rule", "webhook.no_url_for_mode"))?.to_string();
    let payload = serde_json::to_string(&WebhookPayload { url }).expect("json");
    outbox::enqueue_for_rule(conn, shop, order.map(OrderId), Kind::Webhook, &payload, Some((event, rule.id)), now)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn queue(
    conn: &mut DbConn,
    shop: &Shop,
    rule: &RuleRow,
    event_id: i64,
    event: EventType,
    o: &Order,
    t: Option<&Transaction>,
    public_url: &str,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    let Some(kind) = rule.kind() else { return Ok(()) };
    let link = Some((event_id, rule.id));
    let email = |conn: &mut DbConn, mail: EmailPayload| -> ServiceResult<()> {
        let payload = serde_json::to_string(&mail).expect("json");
        outbox::enqueue_for_rule(conn, shop.id, Some(o.id), Kind::Email, &payload, link, now)?;
        Ok(())
    };
    match kind {
        RuleKind::Url => {
            if let Some(url) = rule.url(o.mode) {
                let payload = serde_json::to_string(&WebhookPayload { url: url.to_string() }).expect("json");
                outbox::enqueue_for_rule(conn, shop.id, Some(o.id), Kind::Webhook, &payload, link, now)?;
            }
        }
        RuleKind::BuyerEmail => {
            if let Some(to) = &o.buyer_email {
                let mail = match (event, t) {
                    (EventType::PaymentAccepted, Some(t)) => receipt_email(shop, o, t, to, public_url),
                    _ => event_email(shop, o, t, event, o.lang(), to, None),
                };
                email(conn, mail)?;
            }
        }
        RuleKind::MerchantEmail => {
            let to = shop.settings.contact_email.clone();
            let office = o.lang().office();
            email(conn, event_email(shop, o, t, event, office, &to, Some(public_url)))?;
        }
        RuleKind::MerchantSms => {
            let Some(account) = crate::store::sms::get(conn, shop.id)? else { return Ok(()) };
            if account.default_phone.is_empty() {
                return Ok(());
            }
            let text = event_sms(shop, o, t, event);
            // Credits are taken as for an order's SMS, and given back if it is given up.
            if crate::store::sms::take_credits(conn, shop.id, super::sms::credits_for(&text))? {
                let payload = crate::domain::sms::SmsPayload { to: account.default_phone.clone(), text };
                let json = serde_json::to_string(&payload).expect("json");
                outbox::enqueue_for_rule(conn, shop.id, Some(o.id), Kind::Sms, &json, link, now)?;
            } else {
                tracing::warn!(shop.id = shop.id.0, rule.id = rule.id, "notification SMS skipped: no credits left");
            }
        }
        RuleKind::CreatorEmail => {
            if let Some(user) = crate::store::users::find_by_login(conn, &o.created_by)?
                && user.company_id == shop.company_id
            {
                let office = o.lang().office();
                email(conn, event_email(shop, o, t, event, office, &user.email, Some(public_url)))?;
            }
        }
    }
    Ok(())
}

/// A short e-mail telling of an event: what happened, the amount, the reference, the
/// transaction's card as brand and last four digits. `office`: the merchant's copy, with the
/// order's back-office address.
fn event_email(
    shop: &Shop,
    o: &Order,
    t: Option<&Transaction>,
    event: EventType,
    lang: Lang,
    to: &str,
    office: Option<&str>,
) -> EmailPayload {
    let tr = Tr::new(lang);
    let shop_name = shop.settings.label.as_str();
    let amount = t.map(|t| t.amount).unwrap_or(o.amount).display(lang);
    let reference = o.reference.clone().unwrap_or_else(|| format!("#{}", o.id.0));
    let what = tr.args(&format!("notify.{}", event.as_str().replace('.', "_")), &[("shop", shop_name.into())]);
    let subject = tr.args(
        "notify.subject",
        &[("what", what.clone().into()), ("reference", reference.clone().into()), ("shop", shop_name.into())],
    );
    let line = |key: &str, value: String| tr.args(key, &[("value", value.into())]);
    let mut lines = vec![what, line("notify.amount", amount), line("notify.reference", reference)];
    if let Some(t) = t {
        lines.push(line("notify.card", format!("{} {}", t.card_brand, crate::domain::card::last_four(&t.card_masked))));
        lines.push(line("notify.code", t.return_code.clone()));
    }
    if let Some(base) = office {
        lines.push(line("notify.link", format!("{}/orders/{}", base.trim_end_matches('/'), o.id.0)));
    }
    email_of(shop, to, subject, &lines)
}

/// The shop's SMS of an event: what happened, the reference and the amount, in one segment
/// when it can.
fn event_sms(shop: &Shop, o: &Order, t: Option<&Transaction>, event: EventType) -> String {
    let tr = Tr::new(o.lang().office());
    let what = tr.args(
        &format!("notify.{}", event.as_str().replace('.', "_")),
        &[("shop", shop.settings.label.as_str().into())],
    );
    let reference = o.reference.clone().unwrap_or_else(|| format!("#{}", o.id.0));
    let amount = t.map(|t| t.amount).unwrap_or(o.amount).display(tr.lang);
    let text = format!("{what} {reference} {amount}");
    text.chars().take(crate::domain::sms::MAX_CHARS).collect()
}

/// The buyer's payment confirmation: amount, reference, date in the shop's time zone, card
/// as brand and last four, receipt number and link.
pub fn receipt_email(shop: &Shop, o: &Order, t: &Transaction, to: &str, public_url: &str) -> EmailPayload {
    let tr = Tr::new(o.lang());
    let local = t.created_at.and_utc().with_timezone(&shop.settings.time_zone);
    let when = format!(
        "{} {} ({})",
        crate::domain::order::format_date(local.date_naive(), tr.lang),
        local.format("%H:%M"),
        shop.settings.time_zone.name()
    );
    let amount = t.amount.display(tr.lang);
    let shop_name = shop.settings.label.as_str();
    let line = |key: &str, value: String| tr.args(key, &[("value", value.into())]);
    let subject = tr.args("pay.mail.subject", &[("amount", amount.clone().into()), ("shop", shop_name.into())]);
    let instalment = t.instalment.map(|(index, count)| {
        tr.args("pay.mail.instalment", &[("index", i64::from(index).into()), ("count", i64::from(count).into())])
    });
    let lines = [
        Some(tr.args("pay.mail.accepted", &[("shop", shop_name.into())])),
        Some(line("pay.mail.amount", amount)),
        instalment,
        Some(line("pay.mail.reference", o.reference.clone().unwrap_or_else(|| "-".into()))),
        Some(line("pay.mail.date", when)),
        Some(line("pay.mail.card", format!("{} {}", t.card_brand, crate::domain::card::last_four(&t.card_masked)))),
        Some(line("pay.mail.receipt_no", t.receipt_no.clone())),
        Some(line("pay.mail.receipt_link", crate::domain::order::pay_url(public_url, &o.token))),
    ];
    let lines: Vec<String> = lines.into_iter().flatten().collect();
    email_of(shop, to, subject, &lines)
}

/// An e-mail of the shop: one paragraph per line, the same text in both parts, replies to
/// the shop's contact address.
fn email_of(shop: &Shop, to: &str, subject: String, lines: &[String]) -> EmailPayload {
    let html =
        lines.iter().map(|l| format!("<p>{}</p>", crate::domain::template::escape(l))).collect::<Vec<_>>().join("\n");
    EmailPayload {
        to: vec![to.to_string()],
        bcc: Vec::new(),
        reply_to: Some(shop.settings.contact_email.clone()),
        from_name: shop.settings.label.clone(),
        subject,
        html,
        text: lines.join("\n"),
    }
}

/// The rules a new shop starts with: the buyer's confirmation and the merchant's e-mail on
/// acceptance, in both modes.
pub fn default_rules(conn: &mut DbConn, shop: ShopId, now: NaiveDateTime) -> ServiceResult<()> {
    use crate::domain::notification::Conditions;
    let conditions = Conditions {
        events: vec![EventType::PaymentAccepted],
        channels: Vec::new(),
        modes: vec![Mode::Test, Mode::Production],
        from_order_only: false,
    };
    for (kind, label) in
        [(RuleKind::BuyerEmail, "Confirmation au client"), (RuleKind::MerchantEmail, "E-mail au marchand")]
    {
        let values = store::RuleValues {
            kind,
            label,
            conditions: &conditions,
            failure_email: None,
            auto_retry: true,
            url_test: None,
            url_production: None,
            enabled: true,
        };
        store::insert_rule(conn, shop, &values, None, now)?;
    }
    Ok(())
}
