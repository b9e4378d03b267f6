//! Webhook calls (DESIGN §4): the event's body as recorded, signed twice (Paylink-Signature
//! and Standard Webhooks) under the rule's secret — and the previous one during a rotation —,
//! POSTed with a 10 s timeout and no redirect followed, to an address judged at call time
//! (a host name is resolved here and the call pinned to the address judged). Each call is
//! logged with its status, duration and the first kilobyte of the answer; a failure is tried
//! again on the Standard Webhooks schedule, `Retry-After` honoured; a 410 disables the endpoint
//! and tells the merchant; the last failure sends the rule's failure e-mail.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use rand::Rng;

use crate::config::Settings;
use crate::db::{Db, DbConn, DbError};
use crate::domain::api_key::Mode;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::notification::{parse_retry_after, retry_wait};
use crate::domain::outbox::EmailPayload;
use crate::domain::secret_box;
use crate::domain::webhook::{self, WebhookSecret};
use crate::i18n::{Lang, Tr};
use crate::services::notify::WebhookPayload;
use crate::store::notifications::{self as store, EventRow, NewAttempt, RuleRow};
use crate::store::outbox::{self, Job, Kind};

pub const TIMEOUT: Duration = Duration::from_secs(10);
const RESPONSE_KEPT: usize = 1024;

/// What one call gave.
#[derive(Debug)]
pub struct Call {
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: i32,
    pub response: String,
    pub error: Option<String>,
    pub retry_after: Option<chrono::Duration>,
}

impl Call {
    fn refused(url: &str, error: String) -> Self {
        Call {
            url: url.to_string(),
            status: None,
            duration_ms: 0,
            response: String::new(),
            error: Some(error),
            retry_after: None,
        }
    }

    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What the worker needs to make a job's call: the event, the rule (as it is now).
pub struct Prepared {
    pub job: Job,
    pub event: Option<EventRow>,
    pub rule: Option<RuleRow>,
}

/// Loads the events and rules of a batch of jobs in one read.
pub async fn prepare(db: &Db, jobs: Vec<Job>) -> Result<Vec<Prepared>, DbError> {
    db.read(move |conn| {
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            let event = match job.event_id {
                Some(id) => store::event_by_id(conn, id)?,
                None => None,
            };
            let rule = match job.rule_id {
                Some(id) => store::rule_by_id(conn, id)?,
                None => None,
            };
            out.push(Prepared { job, event, rule });
        }
        Ok::<_, DbError>(out)
    })
    .await
}

/// Makes the call of one job (no database access: the caller records it).
pub async fn call(client: &reqwest::Client, settings: &Settings, p: &Prepared, now: NaiveDateTime) -> Call {
    let url = serde_json::from_str::<WebhookPayload>(&p.job.payload).map(|w| w.url).unwrap_or_default();
    let (Some(event), Some(rule)) = (&p.event, &p.rule) else {
        return Call::refused(&url, "the event or its rule is gone".into());
    };
    if !rule.enabled || rule.deleted {
        return Call::refused(&url, "the endpoint is disabled".into());
    }
    let mode = Mode::parse(&event.mode).unwrap_or(Mode::Test);
    let key = settings.vault_key.expose();
    let current =
        rule.secret_enc.as_deref().and_then(|s| secret_box::open(key, s)).and_then(|s| WebhookSecret::parse(&s));
    let Some(current) = current else {
        return Call::refused(&url, "the endpoint has no secret".into());
    };
    let previous = rule
        .previous_secret_enc
        .as_deref()
        .filter(|_| rule.previous_until.is_some_and(|until| until > now))
        .and_then(|s| secret_box::open(key, s))
        .and_then(|s| WebhookSecret::parse(&s));
    let target = match judge(&url, mode, settings.webhook_allow_private).await {
        Ok(target) => target,
        Err(reason) => return Call::refused(&url, reason),
    };
    let mut secrets = vec![&current];
    secrets.extend(previous.as_ref());
    let timestamp = now.and_utc().timestamp();
    let signatures = webhook::sign(&secrets, &event.public_id, timestamp, event.body.as_bytes());
    let pinned;
    let client = match target {
        Target::Literal => client,
        Target::Resolved(host, addr) => match pinned_client(&host, addr) {
            Ok(c) => {
                pinned = c;
                &pinned
            }
            Err(e) => return Call::refused(&url, e.to_string()),
        },
    };
    let started = Instant::now();
    let sent = client
        .post(&url)
        .header("content-type", "application/json")
        .header("user-agent", "paylink-webhooks/1")
        .header("Paylink-Signature", &signatures.paylink)
        .header("Paylink-Event-Id", &event.public_id)
        .header("webhook-id", &event.public_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", &signatures.standard)
        .body(event.body.clone())
        .send()
        .await;
    let mut done = match sent {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = if status == 429 || status == 503 {
                response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now.and_utc()))
            } else {
                None
            };
            let mut kept = Vec::new();
            while kept.len() < RESPONSE_KEPT {
                match response.chunk().await {
                    Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                    _ => break,
                }
            }
            kept.truncate(RESPONSE_KEPT);
            Call {
                url: url.clone(),
                status: Some(status),
                duration_ms: 0,
                response: String::from_utf8_lossy(&kept).into_owned(),
                error: None,
                retry_after,
            }
        }
        Err(e) => {
            let why = if e.is_timeout() { "timed out after 10 s".to_string() } else { without_url(&e) };
            Call::refused(&url, why)
        }
    };
    done.duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    done
}

fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

enum Target {
    /// An address written in the URL, judged already.
    Literal,
    /// A host name and the address it resolved to, judged: the call goes there.
    Resolved(String, SocketAddr),
}

/// Whether the URL's address may be called in `mode` (link-local never, private ranges only
/// when allowed, loopback in TEST only); a host name is resolved and every address judged.
async fn judge(url: &str, mode: Mode, allow_private: bool) -> Result<Target, String> {
    let parsed = url::Url::parse(url).map_err(|_| "the URL cannot be read".to_string())?;
    let port = parsed.port_or_known_default().unwrap_or(443);
    let refused = |ip: IpAddr| webhook::refusal(ip, mode, allow_private).map(|code| format!("{code}: {ip}"));
    match parsed.host() {
        Some(url::Host::Ipv4(ip)) => refused(IpAddr::V4(ip)).map_or(Ok(Target::Literal), Err),
        Some(url::Host::Ipv6(ip)) => refused(IpAddr::V6(ip)).map_or(Ok(Target::Literal), Err),
        Some(url::Host::Domain(host)) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("{host} could not be resolved: {e}"))?
                .collect();
            if let Some(why) = addrs.iter().find_map(|a| refused(a.ip())) {
                return Err(why);
            }
            let first = *addrs.first().ok_or_else(|| format!("{host} has no address"))?;
            Ok(Target::Resolved(host.to_string(), first))
        }
        None => Err("the URL has no host".into()),
    }
}

pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).build()
}

fn pinned_client(host: &str, addr: SocketAddr) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder().timeout(TIMEOUT).redirect(reqwest::redirect::Policy::none()).resolve(host, addr).build()
}

/// How a batch of calls went, for the worker's report.
#[derive(Debug, Default)]
pub struct Recorded {
    pub delivered: usize,
    pub failed: usize,
    pub abandoned: usize,
}

/// Records a batch of calls in one transaction: each attempt, the job's new state, and what
/// follows a 410 or the last failure.
pub fn record(
    conn: &mut DbConn,
    batch: &[(Prepared, Call)],
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<Recorded, DbError> {
    let mut r = Recorded::default();
    for (p, c) in batch {
        let job = &p.job;
        if let Some(event) = job.event_id {
            let attempt = NewAttempt {
                outbox_id: job.id,
                event_id: event,
                url: &c.url,
                status_code: c.status.map(i32::from),
                duration_ms: c.duration_ms,
                response: &c.response,
                error: c.error.as_deref(),
            };
            store::insert_attempt(conn, &attempt, now)?;
        }
        if c.delivered() {
            outbox::mark_sent(conn, job.id, now)?;
            r.delivered += 1;
            continue;
        }
        let error = match (c.status, &c.error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
        };
        let rule = p.rule.as_ref();
        let gone = c.status == Some(410);
        let retry = rule.is_some_and(|r| r.auto_retry && r.enabled) && !gone;
        let wait = if retry {
            retry_wait(job.attempts as usize + 1, rand::rng().random_range(-1.0..=1.0), c.retry_after)
        } else {
            None
        };
        match wait {
            Some(wait) => {
                outbox::mark_failed(conn, job.id, &error, Some(now + wait))?;
                r.failed += 1;
            }
            None => {
                if outbox::give_up(conn, job.id, job.attempts, &error)? != 1 {
                    continue;
                }
                r.abandoned += 1;
                let (Some(rule), Some(event)) = (rule, &p.event) else { continue };
                if gone && store::disable_rule(conn, rule.id, "HTTP 410 Gone", now)? == 1 {
                    tell(conn, rule, event, job, "webhook.mail.gone", settings, now)?;
                } else if !gone && rule.enabled {
                    tell(conn, rule, event, job, "webhook.mail.failed", settings, now)?;
                }
            }
        }
    }
    Ok(r)
}

/// The merchant's e-mail about an endpoint (given up, or disabled by a 410): to the rule's
/// failure address, else to the shop's contact address.
fn tell(
    conn: &mut DbConn,
    rule: &RuleRow,
    event: &EventRow,
    job: &Job,
    key: &str,
    settings: &Settings,
    now: NaiveDateTime,
) -> Result<(), DbError> {
    use diesel::prelude::*;
    let shops = crate::db::schema::shops::table;
    let (label, contact): (String, String) = shops
        .find(rule.shop_id)
        .select((crate::db::schema::shops::label, crate::db::schema::shops::contact_email))
        .first(conn)?;
    let to = rule.failure_email.clone().filter(|e| !e.is_empty()).unwrap_or(contact.clone());
    let tr = Tr::new(Lang::Fr);
    let url = serde_json::from_str::<WebhookPayload>(&job.payload).map(|w| w.url).unwrap_or_default();
    let args = [
        ("rule", rule.label.clone().into()),
        ("url", url.into()),
        ("event", event.public_id.clone().into()),
        ("type", event.event_type.clone().into()),
        ("attempts", i64::from(job.attempts + 1).into()),
    ];
    let subject = tr.args(&format!("{key}_subject"), &args);
    let body = tr.args(&format!("{key}_body"), &args);
    let link = format!("{}/settings/notifications/deliveries?failed=1", settings.public_url.trim_end_matches('/'));
    let text = format!("{body}\n\n{link}");
    let html = format!(
        "<p>{}</p><p><a href=\"{}\">{}</a></p>",
        crate::domain::template::escape(&body),
        crate::domain::template::escape(&link),
        crate::domain::template::escape(&link)
    );
    let mail = EmailPayload { to: vec![to], bcc: Vec::new(), reply_to: None, from_name: label, subject, html, text };
    let payload = serde_json::to_string(&mail).expect("json");
    let order = event.order_id.map(OrderId);
    outbox::enqueue_for_rule(conn, ShopId(rule.shop_id), order, Kind::Email, &payload, Some((event.id, rule.id)), now)?;
    Ok(())
}
