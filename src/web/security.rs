//! Request-level security: CSRF tokens, client addresses, login rate limits, headers.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpMessage, HttpRequest};
use base64::Engine;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const CSRF_COOKIE: &str = "paylink_csrf";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub use crate::domain::text::random_token;

/// CSRF tokens bound to a random per-browser seed kept in an HttpOnly cookie (double
/// submit, signed): a form token is HMAC(secret, seed), so another site can neither read
/// nor forge it, and no server state is needed before login.
#[derive(Clone)]
pub struct CsrfKey(Vec<u8>);

impl CsrfKey {
    pub fn new(secret: &[u8]) -> Self {
        CsrfKey(secret.to_vec())
    }

    pub fn token_for(&self, seed: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(b"paylink-csrf:");
        mac.update(seed.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    pub fn verify(&self, seed: Option<&str>, token: Option<&str>) -> bool {
        match (seed, token) {
            (Some(seed), Some(token)) if !seed.is_empty() => {
                constant_time_eq(self.token_for(seed).as_bytes(), token.as_bytes())
            }
            _ => false,
        }
    }
}

/// The CSRF seed of this request: from its cookie, or freshly minted by the middleware (which
/// then sets the cookie on the response).
#[derive(Clone, Debug)]
pub struct CsrfSeed {
    pub value: String,
    pub from_cookie: bool,
}

pub fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}

/// Per-IP and per-login limits on login attempts (in memory, per instance).
pub struct LoginLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_login: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(per_ip_per_minute: u32, per_login_per_minute: u32) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("non-zero"));
        LoginLimiter {
            by_ip: RateLimiter::keyed(quota(per_ip_per_minute)),
            by_login: RateLimiter::keyed(quota(per_login_per_minute)),
        }
    }

    /// Counts one attempt; false when either limit is exceeded.
    pub fn allow(&self, ip: Option<IpAddr>, login: &str) -> bool {
        let ip_ok = ip.is_none_or(|ip| self.by_ip.check_key(&ip).is_ok());
        let login_ok = self.by_login.check_key(&login.trim().to_lowercase()).is_ok();
        ip_ok && login_ok
    }
}

/// The policy of every page (`form-action 'self'`).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The policy of a pay page whose forms send the buyer on to payment services: a form's
/// redirect is bound by `form-action` too, so the services' hosted pages are named (and
/// nothing else).
pub fn csp_with_form_targets(origins: &[String]) -> String {
    let extra: String = origins.iter().map(|o| format!(" {o}")).collect();
    CSP.replace("form-action 'self'", &format!("form-action 'self'{extra}"))
}

/// Headers on every response, error pages included. `https`: the public URL is https, so
/// browsers are told to never reach it over plain HTTP again (HSTS, one year).
pub fn headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new();
    let headers = if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains"))
    } else {
        headers
    };
    headers
        .add((header::CONTENT_SECURITY_POLICY, CSP))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ))
        .add((HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")))
}

/// Every request body must arrive within this time from the end of its headers; a client
/// that sends one byte at a time then gets an error instead of holding a worker for ever
/// (the server's own `client_request_timeout` covers only the headers).
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Middleware putting the request's payload behind [`BODY_TIMEOUT`].
pub async fn body_deadline(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let timeout =
        req.app_data::<actix_web::web::Data<super::AppState>>().map_or(BODY_TIMEOUT, |s| s.settings.body_timeout());
    let inner = req.take_payload();
    let sleep = Box::pin(tokio::time::sleep(timeout));
    let stream: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<actix_web::web::Bytes, PayloadError>>>> =
        Box::pin(Deadline { inner, sleep, done: false });
    req.set_payload(actix_web::dev::Payload::from(stream));
    next.call(req).await
}

use actix_web::error::PayloadError;

struct Deadline {
    inner: actix_web::dev::Payload,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    done: bool,
}

impl futures_util::Stream for Deadline {
    type Item = Result<actix_web::web::Bytes, PayloadError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        match std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(item) => return Poll::Ready(item),
            Poll::Pending => {}
        }
        match self.sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                self.done = true;
                let late = std::io::Error::new(std::io::ErrorKind::TimedOut, "request body too slow");
                Poll::Ready(Some(Err(PayloadError::Io(late))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_verify_only_with_their_seed() {
        let key = CsrfKey::new(b"0123456789abcdef0123456789abcdef");
        let token = key.token_for("seed-a");
        assert!(key.verify(Some("seed-a"), Some(&token)));
        assert!(!key.verify(Some("seed-b"), Some(&token)), "another browser's token");
        assert!(!key.verify(Some("seed-a"), None), "missing token");
        assert!(!key.verify(None, Some(&token)), "missing cookie");
        assert!(!key.verify(Some(""), Some(&key.token_for(""))), "empty seed");
        assert!(!key.verify(Some("seed-a"), Some(&token[1..])), "truncated");
        let other = CsrfKey::new(b"another secret key, 32 bytes...");
        assert!(!other.verify(Some("seed-a"), Some(&token)), "another server secret");
    }

    #[test]
    fn login_limits_count_per_ip_and_per_login() {
        let limiter = LoginLimiter::new(3, 2);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!(limiter.allow(Some(ip), "alice"));
        assert!(limiter.allow(Some(ip), "ALICE "));
        assert!(!limiter.allow(Some(ip), "alice"), "third try on one login");
        assert!(!limiter.allow(Some(ip), "bob"), "fourth try from one IP");
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limiter.allow(Some(other), "carol"));
    }
}
