//! Limits on card attempts (card testing), in memory per server, on the application's clock
//! (so that a test moves time instead of waiting): per link, and per client address.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::domain::clock::SharedClock;

/// Pay attempts allowed per link per minute (per client address: a setting, default 30).
pub const ATTEMPTS_PER_LINK: u32 = 10;
/// Invoice look-ups on a shop's collection form per minute, all buyers together: enough for
/// a busy shop, too few to try references one after the other.
pub const LOOKUPS_PER_SHOP: u32 = 120;
/// Invoice look-ups per client address per minute.
pub const LOOKUPS_PER_IP: u32 = 10;

/// The application's clock as governor reads it: the time since the Unix epoch.
#[derive(Clone)]
pub struct AppClock(pub SharedClock);

impl governor::clock::Clock for AppClock {
    type Instant = Duration;

    fn now(&self) -> Duration {
        let nanos = self.0.now().timestamp_nanos_opt().unwrap_or(0);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
    }
}

type Keyed<K> = RateLimiter<K, DashMapStateStore<K>, AppClock, NoOpMiddleware<Duration>>;

pub struct PayLimiter {
    by_link: Keyed<String>,
    by_ip: Keyed<IpAddr>,
}

impl PayLimiter {
    pub fn new(per_link: u32, per_ip: u32, clock: SharedClock) -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).expect("non-zero"));
        PayLimiter {
            by_link: RateLimiter::dashmap_with_clock(quota(per_link), AppClock(clock.clone())),
            by_ip: RateLimiter::dashmap_with_clock(quota(per_ip), AppClock(clock)),
        }
    }

    /// Counts one attempt on `link` from `peer`; false past either limit.
    pub fn allow(&self, peer: Option<IpAddr>, link: &str) -> bool {
        // Forget idle keys now and then, so the maps stay small.
        if self.by_link.len() > 10_000 {
            self.by_link.retain_recent();
        }
        if self.by_ip.len() > 10_000 {
            self.by_ip.retain_recent();
        }
        // The link first: attempts on a link already over its limit do not use up the
        // address's allowance.
        if self.by_link.check_key(&link.to_string()).is_err() {
            return false;
        }
        peer.is_none_or(|ip| self.by_ip.check_key(&ip).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::clock::ManualClock;

    #[test]
    fn limits_count_per_link_and_refill_as_the_clock_moves() {
        let clock = ManualClock::new(chrono::Utc::now());
        let limiter = PayLimiter::new(2, 100, Arc::new(clock.clone()));
        let ip: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        assert!(limiter.allow(ip, "link-a"));
        assert!(limiter.allow(ip, "link-a"));
        assert!(!limiter.allow(ip, "link-a"), "third attempt on one link in a minute");
        assert!(limiter.allow(ip, "link-b"));
        clock.advance(chrono::Duration::seconds(31));
        assert!(limiter.allow(ip, "link-a"), "one attempt back every 30 s");
        assert!(!limiter.allow(ip, "link-a"));
    }
}
