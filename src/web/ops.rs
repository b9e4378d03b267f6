//! Operations: `/healthz`, `/metrics` (Prometheus text), the bare `/ping` baseline used by
//! the benchmark, and the embedded static assets (one binary, nothing to deploy beside it).

use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::AppState;
use crate::services::health;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    worker_age: Gauge,
    outbox_backlog: Gauge,
    operations: Family<OutcomeLabels, Gauge>,
    payments: Family<OutcomeLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("paylink");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
        });
        let worker_age = Gauge::default();
        let outbox_backlog = Gauge::default();
        let payments = Family::<OutcomeLabels, Counter>::default();
        let operations = Family::<OutcomeLabels, Gauge>::default();
        registry.register(
            "acquirer_operations",
            "Acquirer operations not closed: pending (being reconciled) or review (for the merchant)",
            operations.clone(),
        );
        registry.register(
            "payments",
            "Payment attempts by outcome (accepted, refused, cancelled, ...)",
            payments.clone(),
        );
        registry.register("outbox_backlog", "Outbox jobs (e-mail, SMS) not delivered yet", outbox_backlog.clone());
        registry.register("http_requests", "HTTP requests by route pattern, method and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request duration by route pattern", latency.clone());
        registry.register(
            "worker_heartbeat_age_seconds",
            "Seconds since the background worker last ran",
            worker_age.clone(),
        );
        Metrics { registry: Mutex::new(registry), requests, latency, worker_age, outbox_backlog, operations, payments }
    }

    /// Counts one payment attempt by its outcome (`accepted`, `refused`, `cancelled`, ...).
    pub fn payment(&self, outcome: &str) {
        self.payments.get_or_create(&OutcomeLabels { outcome: outcome.to_string() }).inc();
    }

    fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().expect("metrics registry poisoned");
        prometheus_client::encoding::text::encode(&mut out, &registry).ok();
        out
    }
}

/// Middleware: counts every response by its route *pattern* (never the raw path, which
/// would carry ids and tokens) and status.
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let res = next.call(req).await?;
    if let Some(state) = state {
        let status = res.status().as_u16();
        state.metrics.requests.get_or_create(&RequestLabels { route: route.clone(), method, status }).inc();
        state.metrics.latency.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    }
    Ok(res)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ping", web::get().to(|| async { HttpResponse::Ok().content_type("text/plain").body("ok") }))
        .route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .route("/static/{file}", web::get().to(super::assets::serve));
}

/// A worker silent for longer than this is reported as not alive.
const WORKER_STALE_SECONDS: i64 = 120;

async fn worker_age(state: &AppState) -> Option<i64> {
    health::worker_age(&state.env.db, state.env.clock.as_ref()).await
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let database = state.env.db.ping().await;
    let age = if database { worker_age(&state).await } else { None };
    let worker_alive = age.is_some_and(|a| a <= WORKER_STALE_SECONDS);
    let body = serde_json::json!({
        "status": if database && worker_alive { "ok" } else { "degraded" },
        "database": if database { "ok" } else { "unreachable" },
        "backend": state.env.db.backend().name(),
        "worker": { "alive": worker_alive, "last_beat_seconds_ago": age },
    });
    let mut res = if database && worker_alive { HttpResponse::Ok() } else { HttpResponse::ServiceUnavailable() };
    res.insert_header((header::CACHE_CONTROL, "no-store")).json(body)
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    if let Some(age) = worker_age(&state).await {
        state.metrics.worker_age.set(age);
    }
    if let Some(backlog) = health::outbox_backlog(&state.env.db).await {
        state.metrics.outbox_backlog.set(backlog);
    }
    if let Some((pending, review)) = health::acquirer_operations(&state.env.db).await {
        state.metrics.operations.get_or_create(&OutcomeLabels { outcome: "pending".into() }).set(pending);
        state.metrics.operations.get_or_create(&OutcomeLabels { outcome: "review".into() }).set(review);
    }
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode())
}
