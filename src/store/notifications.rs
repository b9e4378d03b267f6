//! Notification rules, the events they answer, and each call of a webhook.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{events, notification_rules as rules, outbox, webhook_attempts as attempts};
use crate::domain::api_key::Mode;
use crate::domain::ids::ShopId;
use crate::domain::notification::{Conditions, RuleKind};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rules)]
pub struct RuleRow {
    pub id: i64,
    pub shop_id: i64,
    pub kind: String,
    pub label: String,
    pub events: String,
    pub channels: String,
    pub modes: String,
    pub from_order_only: bool,
    pub failure_email: Option<String>,
    pub auto_retry: bool,
    pub url_test: Option<String>,
    pub url_production: Option<String>,
    pub secret_enc: Option<String>,
    pub previous_secret_enc: Option<String>,
    pub previous_until: Option<NaiveDateTime>,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub deleted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl RuleRow {
    pub fn kind(&self) -> Option<RuleKind> {
        RuleKind::parse(&self.kind)
    }

    pub fn conditions(&self) -> Conditions {
        Conditions::from_text(&self.events, &self.channels, &self.modes, self.from_order_only)
    }

    pub fn url(&self, mode: Mode) -> Option<&str> {
        match mode {
            Mode::Test => self.url_test.as_deref(),
            Mode::Production => self.url_production.as_deref(),
        }
        .filter(|u| !u.is_empty())
    }
}

/// A rule as written by the settings screen or the API.
pub struct RuleValues<'a> {
    pub kind: RuleKind,
    pub label: &'a str,
    pub conditions: &'a Conditions,
    pub failure_email: Option<&'a str>,
    pub auto_retry: bool,
    pub url_test: Option<&'a str>,
    pub url_production: Option<&'a str>,
    pub enabled: bool,
}

pub fn insert_rule(
    conn: &mut DbConn,
    shop: ShopId,
    v: &RuleValues<'_>,
    secret_enc: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(rules::table)
        .values((
            rules::shop_id.eq(shop.0),
            rules::kind.eq(v.kind.as_str()),
            rules::label.eq(v.label),
            rules::events.eq(v.conditions.events_text()),
            rules::channels.eq(v.conditions.channels_text()),
            rules::modes.eq(v.conditions.modes_text()),
            rules::from_order_only.eq(v.conditions.from_order_only),
            rules::failure_email.eq(v.failure_email),
            rules::auto_retry.eq(v.auto_retry),
            rules::url_test.eq(v.url_test),
            rules::url_production.eq(v.url_production),
            rules::secret_enc.eq(secret_enc),
            rules::enabled.eq(v.enabled),
            rules::deleted.eq(false),
            rules::created_at.eq(now),
            rules::updated_at.eq(now),
        ))
        .returning(rules::id)
        .get_result(conn)
}

pub fn update_rule(
    conn: &mut DbConn,
    shop: ShopId,
    id: i64,
    v: &RuleValues<'_>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(rules::table.filter(rules::id.eq(id).and(rules::shop_id.eq(shop.0)).and(rules::deleted.eq(false))))
        .set((
            rules::kind.eq(v.kind.as_str()),
            rules::label.eq(v.label),
            rules::events.eq(v.conditions.events_text()),
            rules::channels.eq(v.conditions.channels_text()),
            rules::modes.eq(v.conditions.modes_text()),
            rules::from_order_only.eq(v.conditions.from_order_only),
            rules::failure_email.eq(v.failure_email),
            rules::auto_retry.eq(v.auto_retry),
            rules::url_test.eq(v.url_test),
            rules::url_production.eq(v.url_production),
            rules::enabled.eq(v.enabled),
            rules::disabled_reason.eq(None::<String>),
            rules::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A rule of the shop, not deleted.
pub fn find_rule(conn: &mut DbConn, shop: ShopId, id: i64) -> QueryResult<Option<RuleRow>> {
    rules::table
        .filter(rules::id.eq(id).and(rules::shop_id.eq(shop.0)).and(rules::deleted.eq(false)))
        .select(RuleRow::as_select())
        .first(conn)
        .optional()
}

/// A rule by id alone, deleted or not (the worker delivering what it queued).
pub fn rule_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<RuleRow>> {
    rules::table.find(id).select(RuleRow::as_select()).first(conn).optional()
}

/// The shop's rules, oldest first.
pub fn rules_of(conn: &mut DbConn, shop: ShopId) -> QueryResult<Vec<RuleRow>> {
    rules::table
        .filter(rules::shop_id.eq(shop.0).and(rules::deleted.eq(false)))
        .order(rules::id)
        .select(RuleRow::as_select())
        .load(conn)
}

/// Deleted rules stay as rows: the deliveries they made keep naming them.
pub fn delete_rule(conn: &mut DbConn, shop: ShopId, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(rules::table.filter(rules::id.eq(id).and(rules::shop_id.eq(shop.0)).and(rules::deleted.eq(false))))
        .set((rules::deleted.eq(true), rules::enabled.eq(false), rules::updated_at.eq(now)))
        .execute(conn)
}

/// A 410 from the endpoint: no more calls until the merchant turns it back on.
pub fn disable_rule(conn: &mut DbConn, id: i64, reason: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(rules::table.filter(rules::id.eq(id).and(rules::enabled.eq(true))))
        .set((rules::enabled.eq(false), rules::disabled_reason.eq(Some(reason)), rules::updated_at.eq(now)))
        .execute(conn)
}

/// A new secret; the old one keeps signing alongside it until `previous_until`.
pub fn roll_secret(
    conn: &mut DbConn,
    shop: ShopId,
    id: i64,
    secret_enc: &str,
    previous_until: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(rules::table.filter(rules::id.eq(id).and(rules::shop_id.eq(shop.0)).and(rules::deleted.eq(false))))
        .set((
            rules::previous_secret_enc.eq(rules::secret_enc),
            rules::secret_enc.eq(Some(secret_enc)),
            rules::previous_until.eq(Some(previous_until)),
            rules::updated_at.eq(now),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub id: i64,
    pub public_id: String,
    pub shop_id: i64,
    pub mode: String,
    pub event_type: String,
    pub order_id: Option<i64>,
    pub transaction_id: Option<i64>,
    pub body: String,
    pub created_at: NaiveDateTime,
}

pub struct NewEvent<'a> {
    pub public_id: &'a str,
    pub shop: ShopId,
    pub mode: Mode,
    pub event_type: &'a str,
    pub order_id: Option<i64>,
    pub transaction_id: Option<i64>,
    pub body: &'a str,
}

pub fn insert_event(conn: &mut DbConn, e: &NewEvent<'_>, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(events::table)
        .values((
            events::public_id.eq(e.public_id),
            events::shop_id.eq(e.shop.0),
            events::mode.eq(e.mode.as_str()),
            events::event_type.eq(e.event_type),
            events::order_id.eq(e.order_id),
            events::transaction_id.eq(e.transaction_id),
            events::body.eq(e.body),
            events::created_at.eq(now),
        ))
        .returning(events::id)
        .get_result(conn)
}

pub fn event_by_id(conn: &mut DbConn, id: i64) -> QueryResult<Option<EventRow>> {
    events::table.find(id).select(EventRow::as_select()).first(conn).optional()
}

pub fn find_event(conn: &mut DbConn, shop: ShopId, mode: Mode, id: i64) -> QueryResult<Option<EventRow>> {
    events::table
        .filter(events::id.eq(id).and(events::shop_id.eq(shop.0)).and(events::mode.eq(mode.as_str())))
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// A page of the shop's events in `mode`, newest first, before `before` (an event id);
/// `failed_only`: those with a job given up or failing.
pub fn events_page(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    failed_only: bool,
    before: Option<i64>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut q = events::table
        .filter(events::shop_id.eq(shop.0).and(events::mode.eq(mode.as_str())))
        .order(events::id.desc())
        .limit(limit)
        .select(EventRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        q = q.filter(events::id.lt(before));
    }
    if failed_only {
        let failing = outbox::table
            .filter(outbox::status.eq(crate::domain::outbox::JobStatus::Failed.as_str()))
            .filter(outbox::event_id.is_not_null())
            .select(outbox::event_id.assume_not_null());
        q = q.filter(events::id.eq_any(failing));
    }
    q.load(conn)
}

/// The jobs (webhook calls, e-mails) of these events, oldest first.
pub fn jobs_of(conn: &mut DbConn, event_ids: &[i64]) -> QueryResult<Vec<super::outbox::Job>> {
    outbox::table
        .filter(outbox::event_id.eq_any(event_ids))
        .order(outbox::id)
        .select(super::outbox::Job::as_select())
        .load(conn)
}

/// The shop's events in `mode` since `since` whose newest webhook job for a rule was given
/// up: (event id, rule id, order id).
pub fn abandoned_since(
    conn: &mut DbConn,
    shop: ShopId,
    mode: Mode,
    since: NaiveDateTime,
) -> QueryResult<Vec<(i64, i64, Option<i64>)>> {
    let jobs: Vec<super::outbox::Job> = outbox::table
        .inner_join(events::table.on(events::id.nullable().eq(outbox::event_id)))
        .filter(events::shop_id.eq(shop.0).and(events::mode.eq(mode.as_str())).and(events::created_at.ge(since)))
        .filter(outbox::kind.eq(crate::domain::outbox::Kind::Webhook.as_str()))
        .order(outbox::id)
        .select(super::outbox::Job::as_select())
        .load(conn)?;
    // The newest job per (event, rule) decides.
    let mut newest: std::collections::BTreeMap<(i64, i64), super::outbox::Job> = Default::default();
    for job in jobs {
        if let (Some(event), Some(rule)) = (job.event_id, job.rule_id) {
            newest.insert((event, rule), job);
        }
    }
    Ok(newest.into_iter().filter(|(_, j)| j.given_up()).map(|((e, r), j)| (e, r, j.order_id)).collect())
}

pub struct NewAttempt<'a> {
    pub outbox_id: i64,
    pub event_id: i64,
    pub url: &'a str,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub response: &'a str,
    pub error: Option<&'a str>,
}

pub fn insert_attempt(conn: &mut DbConn, a: &NewAttempt<'_>, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::insert_into(attempts::table)
        .values((
            attempts::outbox_id.eq(a.outbox_id),
            attempts::event_id.eq(a.event_id),
            attempts::url.eq(a.url),
            attempts::attempted_at.eq(now),
            attempts::status_code.eq(a.status_code),
            attempts::duration_ms.eq(a.duration_ms),
            attempts::response.eq(a.response),
            attempts::error.eq(a.error),
        ))
        .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attempts)]
pub struct AttemptRow {
    pub id: i64,
    pub outbox_id: i64,
    pub event_id: i64,
    pub url: String,
    pub attempted_at: NaiveDateTime,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub response: String,
    pub error: Option<String>,
}

pub fn attempts_of(conn: &mut DbConn, event_ids: &[i64]) -> QueryResult<Vec<AttemptRow>> {
    attempts::table
        .filter(attempts::event_id.eq_any(event_ids))
        .order(attempts::id)
        .select(AttemptRow::as_select())
        .load(conn)
}
