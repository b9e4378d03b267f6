//! The background worker: delivers the outbox (e-mail through lettre, SMS through the HTTP
//! gateway) with retries and backoff, persists expired orders, ends idle sessions, forgets
//! old idempotency keys, and beats a heartbeat that `/healthz` reads. Tests call `run_once`
//! on demand and move the clock instead of waiting.

pub mod email;
pub mod sms;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use chrono::Duration as Span;
use tokio::sync::watch;

use crate::config::Settings;
use crate::db::{Db, DbError};
use crate::domain::clock::SharedClock;
use crate::domain::ids::{OrderId, ShopId};
use crate::domain::order::DeliveryStatus;
use crate::services::{Env, ServiceError, imports, operations, orders, schedules, sms as sms_service};
use crate::store::orders::{self as order_store, OrderUpdate};
use crate::store::outbox::{self, Job, JobStatus, Kind};
use crate::store::{cards, idempotency, sessions};

pub const HEARTBEAT: &str = "worker";
/// A claimed job is someone else's for this long; a crashed worker's claim then runs out.
const LEASE: Span = Span::minutes(5);
const BATCH: i64 = 50;
/// Waits between tries after each failure; past the last, the job is given up.
const BACKOFF_MINUTES: [i64; 8] = [1, 5, 15, 60, 180, 360, 720, 1440];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub sessions_purged: usize,
    pub orders_expired: usize,
    /// Cards being saved by a payment that never ended, deleted with their vault records.
    pub cards_swept: usize,
    /// Schedules whose first instalment's payment never ended, deleted with their cards.
    pub plans_swept: usize,
    pub instalments_charged: usize,
    /// Instalments refused and to be tried again.
    pub instalments_retried: usize,
    /// Schedules whose retries ran out (the balance was offered to the buyer).
    pub schedules_failed: usize,
    /// Large CSV imports ended (DONE or FAILED).
    pub imports_ended: usize,
    /// Payment requests whose time was up, ended by asking their service (or expired).
    pub service_requests_ended: usize,
    pub transactions_captured: usize,
    pub transactions_expired: usize,
    /// Pending acquirer operations found done, or not done, at the acquirer.
    pub operations_reconciled: usize,
    /// Operations the acquirer could not account for: now in the merchant's review.
    pub operations_to_review: usize,
    pub sent: usize,
    /// E-mails written to files (no mail server): done, not sent.
    pub written: usize,
    pub failed: usize,
    pub held: usize,
    /// Webhook calls answered 2xx.
    pub webhooks_delivered: usize,
    /// Webhook calls that failed and will be tried again.
    pub webhooks_failed: usize,
    /// Webhook calls given up (last try, retries off, or a 410).
    pub webhooks_abandoned: usize,
}

/// What happened to one job.
pub enum Outcome {
    Sent,
    /// Written to a file instead of sent (no mail server configured).
    Written,
    Failed(String),
    /// Cannot be sent until something is configured (no SMS gateway).
    Held(String),
}

pub struct Worker {
    env: Env,
    db: Db,
    clock: SharedClock,
    settings: Arc<Settings>,
    mailer: email::Mailer,
    http: reqwest::Client,
    hooks: reqwest::Client,
}

impl Worker {
    pub fn new(env: Env, settings: Arc<Settings>) -> anyhow::Result<Self> {
        let mailer = email::Mailer::from_settings(&settings)?;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
        let hooks = webhook::client()?;
        Ok(Worker { db: env.db.clone(), clock: env.clock.clone(), env, settings, mailer, http, hooks })
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.settings.clone()
    }

    pub async fn run_once(&self) -> Result<Report, DbError> {
        let clock = self.clock.clone();
        let gateway = self.settings.sms_gateway_url.is_some();
        let public_url = self.settings.public_url.clone();
        let mut report = self
            .db
            .write(move |conn| {
                let now = clock.now_naive();
                let sessions_purged = sessions::purge_expired(conn, now)?;
                let orders_expired = orders::expire_due(conn, clock.as_ref(), &public_url).map_err(service_to_db)?;
                idempotency::purge_older_than(conn, now - Span::hours(24))?;
                // Cards whose first payment never ended (the buyer left the issuer's page): out
                // of the vault once no attempt can finish any more.
                let pending = now - Span::minutes(crate::services::payments::LOCK_MINUTES * 2);
                let cards_swept = cards::sweep_pending(conn, pending)?;
                let plans_swept = schedules::sweep(conn, pending).map_err(service_to_db)?;
                if gateway {
                    outbox::release_held(conn, Kind::Sms, now)?;
                }
                sessions::beat(conn, HEARTBEAT, now)?;
                Ok::<_, DbError>(Report {
                    sessions_purged,
                    orders_expired,
                    cards_swept,
                    plans_swept,
                    ..Default::default()
                })
            })
            .await?;
        // The acquirer's operations: what was left pending first, then what is due today.
        let reconciled = operations::reconcile(&self.env).await.map_err(service_to_db)?;
        let due = operations::run_due(&self.env).await.map_err(service_to_db)?;
        report.operations_reconciled = reconciled.reconciled;
        report.operations_to_review = reconciled.to_review;
        report.transactions_captured = due.captured;
        report.transactions_expired = due.expired;
        // Instalments due today, once what was left pending is known.
        let instalments = schedules::run_due(&self.env, &self.settings.public_url).await.map_err(service_to_db)?;
        report.instalments_charged = instalments.charged;
        report.instalments_retried = instalments.retried;
        report.schedules_failed = instalments.failed;
        report.imports_ended =
            imports::run_pending(&self.env, &self.settings.public_url).await.map_err(service_to_db)?;
        report.service_requests_ended =
            crate::services::service_pay::reconcile_due(&self.env).await.map_err(service_to_db)?;
        loop {
            let clock = self.clock.clone();
            let jobs = self
                .db
                .write(move |conn| {
                    let now = clock.now_naive();
                    outbox::claim(conn, now, now + LEASE, BATCH, &[Kind::Email, Kind::Sms]).map_err(DbError::from)
                })
                .await?;
            if jobs.is_empty() {
                break;
            }
            for job in jobs {
                let outcome = self.deliver(&job).await;
                match &outcome {
                    Outcome::Sent => report.sent += 1,
                    Outcome::Written => report.written += 1,
                    Outcome::Failed(error) => {
                        tracing::warn!(job.id = job.id, job.kind = %job.kind, %error, "delivery failed");
                        report.failed += 1
                    }
                    Outcome::Held(_) => report.held += 1,
                }
                self.record(&job, outcome).await?;
            }
        }
        self.deliver_webhooks(&mut report).await?;
        Ok(report)
    }

    /// The due webhook calls, a batch at a time: made side by side, recorded in one
    /// transaction. A call whose earlier event (same order, same endpoint) is still to be
    /// delivered waits for it, so it comes in a later batch of this round.
    async fn deliver_webhooks(&self, report: &mut Report) -> Result<(), DbError> {
        loop {
            let clock = self.clock.clone();
            let jobs = self
                .db
                .write(move |conn| {
                    let now = clock.now_naive();
                    outbox::claim(conn, now, now + LEASE, BATCH, &[Kind::Webhook]).map_err(DbError::from)
                })
                .await?;
            if jobs.is_empty() {
                return Ok(());
            }
            let prepared = webhook::prepare(&self.db, jobs).await?;
            let now = self.clock.now_naive();
            let calls = futures_util::future::join_all(
                prepared.iter().map(|p| webhook::call(&self.hooks, &self.settings, p, now)),
            )
            .await;
            let batch: Vec<_> = prepared.into_iter().zip(calls).collect();
            let (clock, settings) = (self.clock.clone(), self.settings.clone());
            let done = self.db.write(move |conn| webhook::record(conn, &batch, &settings, clock.now_naive())).await?;
            report.webhooks_delivered += done.delivered;
            report.webhooks_failed += done.failed;
            report.webhooks_abandoned += done.abandoned;
        }
    }

    async fn deliver(&self, job: &Job) -> Outcome {
        match job.kind() {
            Some(Kind::Email) => self.mailer.send(job, &self.settings).await,
            Some(Kind::Sms) => sms::send(&self.http, &self.db, &self.settings, job).await,
            Some(Kind::Webhook) => Outcome::Failed("webhooks are delivered by their own loop".into()),
            None => Outcome::Failed(format!("unknown job kind {}", job.kind)),
        }
    }

    async fn record(&self, job: &Job, outcome: Outcome) -> Result<(), DbError> {
        let clock = self.clock.clone();
        let job = job.clone();
        self.db
            .write(move |conn| {
                let now = clock.now_naive();
                let delivery = match &outcome {
                    Outcome::Sent => {
                        outbox::mark_sent(conn, job.id, now)?;
                        Some(DeliveryStatus::Sent)
                    }
                    Outcome::Written => {
                        outbox::mark_written(conn, job.id, now)?;
                        Some(DeliveryStatus::NotSent)
                    }
                    Outcome::Failed(error) => {
                        let tries = job.attempts as usize + 1;
                        match BACKOFF_MINUTES.get(tries - 1) {
                            Some(wait) => {
                                outbox::mark_failed(conn, job.id, error, Some(now + Span::minutes(*wait)))?;
                            }
                            // The last try: given up. An SMS that will never go out gives its
                            // credits back, in this transaction and only if this record is
                            // the one that gave it up.
                            None => {
                                let given_up = outbox::give_up(conn, job.id, job.attempts, error)? == 1;
                                if given_up && job.kind() == Some(Kind::Sms) {
                                    let shop = ShopId(job.shop_id);
                                    let credits = sms_service::give_back_credits(conn, shop, &job.payload)
                                        .map_err(service_to_db)?;
                                    tracing::info!(
                                        job.id = job.id,
                                        shop.id = job.shop_id,
                                        credits,
                                        "SMS given up after its last try; its credits went back to the shop"
                                    );
                                }
                            }
                        }
                        Some(DeliveryStatus::Failed)
                    }
                    Outcome::Held(reason) => {
                        outbox::hold(conn, job.id, reason)?;
                        Some(DeliveryStatus::Held)
                    }
                };
                if let (Some(status), Some(order)) = (delivery, job.order_id) {
                    // Only the newest job of an order speaks for its delivery status.
                    let newest = outbox::link_messages(conn, OrderId(order))?.first().map(|j| j.id);
                    if newest == Some(job.id) {
                        order_store::apply(conn, OrderId(order), OrderUpdate::Delivery { status }, now)?;
                    }
                }
                Ok::<_, DbError>(())
            })
            .await
    }

    /// Runs until `stop` turns true (or its sender is gone); a failed round is logged and the
    /// next one tries again. A stop never interrupts a round: the jobs it claimed are delivered
    /// and recorded first. The mail transport is then closed, inside the runtime (lettre's
    /// pool spawns its clean-up on Tokio when dropped, and panics outside a runtime).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(self.settings.worker_tick());
        loop {
            tokio::select! {
                biased;
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                    continue;
                }
                _ = interval.tick() => {}
            }
            if let Err(error) = self.run_once().await {
                tracing::warn!(%error, "worker round failed");
            }
        }
        self.shutdown().await;
        tracing::debug!("worker stopped");
    }

    /// Closes the mail transport's pooled SMTP connections. Call it, and drop the worker,
    /// inside the Tokio runtime.
    pub async fn shutdown(&self) {
        self.mailer.shutdown().await;
    }
}

fn service_to_db(e: ServiceError) -> DbError {
    match e {
        ServiceError::Db(e) => e,
        other => DbError::Query(diesel::result::Error::QueryBuilderError(other.to_string().into())),
    }
}

pub fn job_status(job: &Job) -> JobStatus {
    job.status()
}
