//! The shop's notification rules and the deliveries they made: the settings screen's and the
//! API's use cases. Each runs in one transaction with its audit entry. A URL rule's secret is
//! generated here, sealed under the vault key, and shown once (at creation and rotation).

use chrono::{Duration, NaiveDateTime};

use super::{Env, Scope, ServiceError, ServiceResult};
use crate::db::DbConn;
use crate::domain::api_key::Mode;
use crate::domain::ids::ShopId;
use crate::domain::notification::{EventType, RawRule, RuleDraft, RuleKind};
use crate::domain::secret_box;
use crate::domain::webhook::WebhookSecret;
use crate::store::audit::{self, Entry};
use crate::store::notifications::{self as store, AttemptRow, EventRow, RuleRow, RuleValues};
use crate::store::outbox::Job;

/// How long the old secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// What the rules' secrets are sealed under, and whether private addresses may be called.
#[derive(Clone)]
pub struct Keys {
    pub vault_key: Vec<u8>,
    pub allow_private: bool,
}

impl Keys {
    pub fn of(settings: &crate::config::Settings) -> Self {
        Keys { vault_key: settings.vault_key.expose().to_vec(), allow_private: settings.webhook_allow_private }
    }
}

fn audit_entry(
    conn: &mut DbConn,
    scope: &Scope,
    action: &str,
    target: String,
    detail: &str,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    audit::append(conn, &scope.actor, Entry { shop_id: Some(scope.shop.id), action, target: &target, detail }, now)?;
    Ok(())
}

fn values(d: &RuleDraft) -> RuleValues<'_> {
    RuleValues {
        kind: d.kind,
        label: &d.label,
        conditions: &d.conditions,
        failure_email: d.failure_email.as_deref(),
        auto_retry: d.auto_retry,
        url_test: d.url_test.as_deref(),
        url_production: d.url_production.as_deref(),
        enabled: d.enabled,
    }
}

pub async fn rules(env: &Env, shop: ShopId) -> ServiceResult<Vec<RuleRow>> {
    env.db.read(move |conn| Ok(store::rules_of(conn, shop)?)).await
}

/// A stored rule as its form shows it.
pub fn as_raw(r: &RuleRow) -> RawRule {
    let c = r.conditions();
    RawRule {
        kind: r.kind.clone(),
        label: r.label.clone(),
        events: c.events.iter().map(|e| e.as_str().to_string()).collect(),
        channels: c.channels.iter().map(|c| c.as_str().to_string()).collect(),
        modes: c.modes.iter().map(|m| m.as_str().to_string()).collect(),
        from_order_only: c.from_order_only,
        failure_email: r.failure_email.clone().unwrap_or_default(),
        auto_retry: r.auto_retry,
        url_test: r.url_test.clone().unwrap_or_default(),
        url_production: r.url_production.clone().unwrap_or_default(),
        enabled: r.enabled,
    }
}

pub async fn rule(env: &Env, shop: ShopId, id: i64) -> ServiceResult<RuleRow> {
    env.db.read(move |conn| store::find_rule(conn, shop, id)?.ok_or(ServiceError::NotFound)).await
}

/// Writes a new rule; a URL rule gets its secret, returned to be shown once.
fn insert(
    conn: &mut DbConn,
    scope: &Scope,
    keys: &Keys,
    d: &RuleDraft,
    action: &str,
    now: NaiveDateTime,
) -> ServiceResult<(i64, Option<String>)> {
    let secret = (d.kind == RuleKind::Url).then(WebhookSecret::generate);
    let sealed = secret.as_ref().map(|s| secret_box::seal(&keys.vault_key, s.expose()));
    let id = store::insert_rule(conn, scope.shop.id, &values(d), sealed.as_deref(), now)?;
    let detail = format!("{} {} [{}]", d.kind, d.label, d.conditions.events_text());
    audit_entry(conn, scope, action, format!("rule:{id}"), &detail, now)?;
    Ok((id, secret.map(|s| s.expose().to_string())))
}

pub async fn create(env: &Env, scope: Scope, keys: Keys, raw: RawRule) -> ServiceResult<(i64, Option<String>)> {
    let draft = raw.parse(keys.allow_private).map_err(ServiceError::Invalid)?;
    let clock = env.clock.clone();
    env.db.write(move |conn| insert(conn, &scope, &keys, &draft, "rule.created", clock.now_naive())).await
}

pub async fn update(env: &Env, scope: Scope, keys: Keys, id: i64, raw: RawRule) -> ServiceResult<Option<String>> {
    let draft = raw.parse(keys.allow_private).map_err(ServiceError::Invalid)?;
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let before = store::find_rule(conn, scope.shop.id, id)?.ok_or(ServiceError::NotFound)?;
            if store::update_rule(conn, scope.shop.id, id, &values(&draft), now)? != 1 {
                return Err(ServiceError::NotFound);
            }
            // A rule that becomes a URL call gets its secret now.
            let mut shown = None;
            if draft.kind == RuleKind::Url && before.secret_enc.is_none() {
                let secret = WebhookSecret::generate();
                let sealed = secret_box::seal(&keys.vault_key, secret.expose());
                store::roll_secret(conn, scope.shop.id, id, &sealed, now, now)?;
                shown = Some(secret.expose().to_string());
            }
            let detail = format!(
                "{} {} [{}] -> {} {} [{}]{}",
                before.kind,
                before.label,
                before.events,
                draft.kind,
                draft.label,
                draft.conditions.events_text(),
                if draft.enabled { "" } else { " disabled" }
            );
            audit_entry(conn, &scope, "rule.changed", format!("rule:{id}"), &detail, now)?;
            Ok(shown)
        })
        .await
}

pub async fn delete(env: &Env, scope: Scope, id: i64) -> ServiceResult<()> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let rule = store::find_rule(conn, scope.shop.id, id)?.ok_or(ServiceError::NotFound)?;
            store::delete_rule(conn, scope.shop.id, id, now)?;
            audit_entry(
                conn,
                &scope,
                "rule.deleted",
                format!("rule:{id}"),
                &format!("{} {}", rule.kind, rule.label),
                now,
            )
        })
        .await
}

/// A new secret for a URL rule; the old one keeps signing beside it for 24 hours.
pub async fn roll_secret(env: &Env, scope: Scope, keys: Keys, id: i64) -> ServiceResult<String> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let rule = store::find_rule(conn, scope.shop.id, id)?.ok_or(ServiceError::NotFound)?;
            if rule.kind() != Some(RuleKind::Url) {
                return Err(ServiceError::Conflict("webhook.not_a_url_rule"));
            }
            let secret = WebhookSecret::generate();
            let sealed = secret_box::seal(&keys.vault_key, secret.expose());
            store::roll_secret(conn, scope.shop.id, id, &sealed, now + ROTATION_OVERLAP, now)?;
            audit_entry(conn, &scope, "rule.secret_rolled", format!("rule:{id}"), "overlap 24 h", now)?;
            Ok(secret.expose().to_string())
        })
        .await
}

/// One event with what was done for it.
pub struct Delivery {
    pub event: EventRow,
    pub jobs: Vec<Job>,
    pub attempts: Vec<AttemptRow>,
}

pub const PAGE: i64 = 25;

/// A page of the shop's events in `mode`, newest first, each with its jobs and attempts;
/// the cursor of the next page.
pub async fn deliveries(
    env: &Env,
    shop: ShopId,
    mode: Mode,
    failed_only: bool,
    before: Option<i64>,
    limit: i64,
) -> ServiceResult<(Vec<Delivery>, Option<i64>)> {
    env.db
        .read(move |conn| {
            let mut events = store::events_page(conn, shop, mode, failed_only, before, limit + 1)?;
            let next = if events.len() as i64 > limit {
                events.truncate(limit as usize);
                events.last().map(|e| e.id)
            } else {
                None
            };
            let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
            let mut jobs = store::jobs_of(conn, &ids)?;
            let mut attempts = store::attempts_of(conn, &ids)?;
            let out = events
                .into_iter()
                .map(|event| {
                    let (mine, rest): (Vec<_>, Vec<_>) = jobs.drain(..).partition(|j| j.event_id == Some(event.id));
                    jobs = rest;
                    let (tries, rest): (Vec<_>, Vec<_>) = attempts.drain(..).partition(|a| a.event_id == event.id);
                    attempts = rest;
                    Delivery { event, jobs: mine, attempts: tries }
                })
                // A failure replayed since and delivered is no longer one (the cursor still
                // follows the page read, so a filtered page may be shorter).
                .filter(|d| !failed_only || delivery_state(&d.jobs) != DeliveryState::Delivered)
                .collect();
            Ok((out, next))
        })
        .await
}

/// Sends one event to one rule's URL again (same event id, same body).
pub async fn replay(env: &Env, scope: Scope, event: i64, rule: i64) -> ServiceResult<()> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let e = store::find_event(conn, scope.shop.id, scope.mode, event)?.ok_or(ServiceError::NotFound)?;
            let r = store::find_rule(conn, scope.shop.id, rule)?.ok_or(ServiceError::NotFound)?;
            super::notify::requeue(conn, scope.shop.id, scope.mode, &r, e.id, e.order_id, now)?;
            audit_entry(conn, &scope, "webhook.replayed", format!("event:{}", e.public_id), &r.label, now)
        })
        .await
}

/// Sends again, in one transaction, every event since `since` whose call was given up, to
/// the endpoints still on; returns how many calls were queued.
pub async fn replay_since(env: &Env, scope: Scope, since: NaiveDateTime) -> ServiceResult<usize> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let mut queued = 0;
            for (event, rule, order) in store::abandoned_since(conn, scope.shop.id, scope.mode, since)? {
                let Some(r) = store::find_rule(conn, scope.shop.id, rule)? else { continue };
                if !r.enabled || r.url(scope.mode).is_none() {
                    continue;
                }
                super::notify::requeue(conn, scope.shop.id, scope.mode, &r, event, order, now)?;
                queued += 1;
            }
            audit_entry(
                conn,
                &scope,
                "webhook.bulk_replayed",
                "events".into(),
                &format!("since {since}: {queued}"),
                now,
            )?;
            Ok(queued)
        })
        .await
}

/// A test event to one URL rule, in the scope's mode.
pub async fn send_test(env: &Env, scope: Scope, rule: i64) -> ServiceResult<()> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let r = store::find_rule(conn, scope.shop.id, rule)?.ok_or(ServiceError::NotFound)?;
            if !r.enabled {
                return Err(ServiceError::Conflict("webhook.disabled"));
            }
            super::notify::emit_test(conn, &scope.shop, scope.mode, &r, now)?;
            audit_entry(conn, &scope, "webhook.test_sent", format!("rule:{rule}"), &r.label, now)
        })
        .await
}

// ---- The API's webhook endpoints: URL rules of the key's mode -------------------------

/// An endpoint as the API shows it.
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    pub events: Vec<EventType>,
    pub mode: Mode,
    pub enabled: bool,
}

fn endpoint_of(r: &RuleRow, mode: Mode) -> Option<Endpoint> {
    let c = r.conditions();
    if r.kind() != Some(RuleKind::Url) || !c.modes.contains(&mode) {
        return None;
    }
    Some(Endpoint {
        id: r.id,
        url: r.url(mode).unwrap_or_default().to_string(),
        events: c.events,
        mode,
        enabled: r.enabled,
    })
}

pub async fn create_endpoint(
    env: &Env,
    scope: Scope,
    keys: Keys,
    url: String,
    events: Vec<String>,
) -> ServiceResult<(Endpoint, String)> {
    let (field_test, field_production) = match scope.mode {
        Mode::Test => (url.clone(), String::new()),
        Mode::Production => (String::new(), url.clone()),
    };
    let raw = RawRule {
        kind: RuleKind::Url.as_str().into(),
        label: format!("API {}", url.chars().take(80).collect::<String>()),
        events,
        modes: vec![scope.mode.as_str().into()],
        url_test: field_test,
        url_production: field_production,
        auto_retry: true,
        enabled: true,
        ..Default::default()
    };
    let draft = raw.parse(keys.allow_private).map_err(|errors| {
        // The API names its own fields: the URL of either mode is `url`.
        ServiceError::Invalid(
            errors
                .into_iter()
                .map(|mut e| {
                    if e.field.starts_with("url_") {
                        e.field = "url";
                    }
                    e
                })
                .collect(),
        )
    })?;
    let clock = env.clock.clone();
    let mode = scope.mode;
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let (id, secret) = insert(conn, &scope, &keys, &draft, "webhook_endpoint.created", now)?;
            let row = store::find_rule(conn, scope.shop.id, id)?.ok_or(ServiceError::NotFound)?;
            let endpoint = endpoint_of(&row, mode).ok_or(ServiceError::NotFound)?;
            Ok((endpoint, secret.unwrap_or_default()))
        })
        .await
}

pub async fn endpoint(env: &Env, shop: ShopId, mode: Mode, id: i64) -> ServiceResult<Endpoint> {
    env.db
        .read(move |conn| {
            let row = store::find_rule(conn, shop, id)?.ok_or(ServiceError::NotFound)?;
            endpoint_of(&row, mode).ok_or(ServiceError::NotFound)
        })
        .await
}

pub async fn endpoints(env: &Env, shop: ShopId, mode: Mode) -> ServiceResult<Vec<Endpoint>> {
    env.db
        .read(move |conn| Ok(store::rules_of(conn, shop)?.iter().filter_map(|r| endpoint_of(r, mode)).collect()))
        .await
}

pub async fn delete_endpoint(env: &Env, scope: Scope, id: i64) -> ServiceResult<()> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            let row = store::find_rule(conn, scope.shop.id, id)?.ok_or(ServiceError::NotFound)?;
            endpoint_of(&row, scope.mode).ok_or(ServiceError::NotFound)?;
            store::delete_rule(conn, scope.shop.id, id, now)?;
            audit_entry(conn, &scope, "webhook_endpoint.deleted", format!("rule:{id}"), &row.label, now)
        })
        .await
}

/// Where an event's calls stand, all endpoints together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryState {
    /// No endpoint was to be called.
    None,
    /// A call is still to be made (first try, or a retry planned).
    Pending,
    /// Every endpoint answered 2xx.
    Delivered,
    /// An endpoint's calls were given up (last try, retries off, or a 410).
    Failed,
}

/// The state of an event's webhook calls: per endpoint, its newest job decides.
pub fn delivery_state(jobs: &[Job]) -> DeliveryState {
    use crate::domain::outbox::{JobStatus, Kind};
    let mut newest: std::collections::BTreeMap<Option<i64>, &Job> = Default::default();
    for j in jobs.iter().filter(|j| j.kind() == Some(Kind::Webhook)) {
        newest.insert(j.rule_id, j);
    }
    if newest.is_empty() {
        return DeliveryState::None;
    }
    let states: Vec<DeliveryState> = newest
        .values()
        .map(|j| match j.status() {
            JobStatus::Sent => DeliveryState::Delivered,
            _ if j.given_up() => DeliveryState::Failed,
            _ => DeliveryState::Pending,
        })
        .collect();
    if states.contains(&DeliveryState::Failed) {
        DeliveryState::Failed
    } else if states.contains(&DeliveryState::Pending) {
        DeliveryState::Pending
    } else {
        DeliveryState::Delivered
    }
}
