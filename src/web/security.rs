//! Request-level security: CSRF tokens, client addresses, login rate limits, headers.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::HttpRequest;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::DefaultHeaders;
use base64::Engine;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const CSRF_COOKIE: &str = "paylink_csrf";
pub const CSRF_FIELD: &str = "csrf_token";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

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

/// Headers on every response, error pages included.
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
             object-src 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ))
        .add((HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")))
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
