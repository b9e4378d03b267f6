//! HTTP: handlers grouped by audience, the middleware stack, and the extractors that parse
//! requests at the edge (CSRF-checked forms, signed-in staff, language).

pub mod api;
pub mod assets;
pub mod auth;
pub mod backoffice;
pub mod error;
pub mod flash;
pub mod forms;
pub mod i18n;
pub mod ops;
pub mod pay;
pub mod present;
pub mod qr;
pub mod security;
pub mod session;
pub mod shell;

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity, TtlExtensionPolicy};
use actix_web::cookie::{Cookie, Key, SameSite};
use actix_web::dev::{Server, ServiceRequest};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};

use crate::config::Settings;
use crate::services::Env;
use security::{CSRF_COOKIE, CsrfKey, CsrfSeed, LoginLimiter};

pub const SESSION_COOKIE: &str = "paylink_session";

pub struct AppState {
    pub settings: Arc<Settings>,
    /// The database, the clock and the acquirers, as the services take them.
    pub env: Env,
    /// This server process, as its idempotency claims name it (it beats while alive).
    pub instance: String,
    pub csrf: CsrfKey,
    pub login_limiter: LoginLimiter,
    pub pay_limiter: pay::limiter::PayLimiter,
    /// Invoice look-ups on the collection forms, per shop and per client IP.
    pub collect_limiter: pay::limiter::PayLimiter,
    pub metrics: ops::Metrics,
}

impl AppState {
    pub fn new(settings: Arc<Settings>, env: Env, instance: String) -> web::Data<AppState> {
        web::Data::new(AppState {
            instance,
            csrf: CsrfKey::new(settings.secret_key.expose()),
            login_limiter: LoginLimiter::new(settings.login_rate_per_ip, settings.login_rate_per_login),
            pay_limiter: pay::limiter::PayLimiter::new(
                pay::limiter::ATTEMPTS_PER_LINK,
                settings.pay_rate_per_ip,
                env.clock.clone(),
            ),
            collect_limiter: pay::limiter::PayLimiter::new(
                pay::limiter::LOOKUPS_PER_SHOP,
                pay::limiter::LOOKUPS_PER_IP,
                env.clock.clone(),
            ),
            metrics: ops::Metrics::new(),
            settings,
            env,
        })
    }

    /// What the services that call the acquirer or span transactions need.
    pub fn env(&self) -> Env {
        self.env.clone()
    }
}

/// HEAD answers like GET: routed as a GET, and the HTTP layer (actix-http) sends the
/// headers, `Content-Length` included, without the body.
async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// Gives every request a CSRF seed (from its cookie, or a new one set on the response).
async fn csrf_seed(
    req: ServiceRequest,
    next: Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let existing = req.cookie(CSRF_COOKIE).map(|c| c.value().to_string()).filter(|v| v.len() >= 32);
    let seed = match existing {
        Some(value) => CsrfSeed { value, from_cookie: true },
        None => CsrfSeed { value: security::random_token(32), from_cookie: false },
    };
    let secure = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.settings.cookies_secure());
    req.extensions_mut().insert(seed.clone());
    let mut res = next.call(req).await?;
    // Only pages carry forms: health checks, metrics and assets get no cookie.
    let is_page = res
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !seed.from_cookie && is_page {
        let cookie = Cookie::build(CSRF_COOKIE, seed.value)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        res.response_mut().add_cookie(&cookie).ok();
    }
    Ok(res)
}

pub fn server(state: web::Data<AppState>, listener: TcpListener) -> anyhow::Result<Server> {
    let settings = state.settings.clone();
    let session_key = Key::derive_from(settings.secret_key.expose());
    let idle = actix_web::cookie::time::Duration::minutes(i64::from(settings.session_idle_minutes));
    let touches = session::TouchCache::default();
    let server = HttpServer::new(move || {
        let sessions =
            SessionMiddleware::builder(session::DbSessionStore::new(state.env(), touches.clone()), session_key.clone())
                .cookie_name(SESSION_COOKIE.to_string())
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_secure(settings.cookies_secure())
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    BrowserSession::default()
                        .state_ttl(idle)
                        .state_ttl_extension_policy(TtlExtensionPolicy::OnEveryRequest),
                )
                .build();
        App::new()
            .app_data(state.clone())
            .app_data(web::FormConfig::default().limit(64 * 1024))
            .configure(routes)
            .default_service(web::to(|| async { Err::<actix_web::HttpResponse, _>(error::AppError::NotFound) }))
            .wrap(from_fn(forms::control_free_query))
            .wrap(from_fn(error::render_errors))
            // Pages, CSS and JSON compressed (brotli, gzip or zstd, as the client accepts);
            // around the error renderer, so that error pages are compressed too.
            .wrap(actix_web::middleware::Compress::default())
            .wrap(sessions)
            .wrap(from_fn(csrf_seed))
            .wrap(from_fn(ops::count_requests))
            .wrap(from_fn(security::body_deadline))
            .wrap(security::headers(settings.cookies_secure()))
            .wrap(from_fn(head_as_get))
    })
    .listen(listener)?
    .shutdown_timeout(5)
    .run();
    Ok(server)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    ops::routes(cfg);
    auth::routes(cfg);
    pay::routes(cfg);
    api::routes(cfg);
    backoffice::routes(cfg);
}
