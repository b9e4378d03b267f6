//! Signing a webhook call (DESIGN §4, issue 13): an endpoint's secret `whsec_<base64 of 32
//! random bytes>`, and the two signatures every call carries, each verifiable by existing
//! libraries:
//! - `Paylink-Signature: t=<unix>,v1=<hex>`: Stripe's scheme, HMAC-SHA256 keyed by the whole
//!   secret string, over `"{t}.{body}"`;
//! - Standard Webhooks: `webhook-signature: v1,<base64>`, HMAC-SHA256 keyed by the decoded
//!   bytes after `whsec_`, over `"{id}.{timestamp}.{body}"`.
//!
//! During a secret rotation both secrets sign: two `v1=` values, two space-separated
//! `v1,` signatures.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
const KEY_BYTES: usize = 32;

/// An endpoint's signing secret, as shown once to the merchant.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    text: String,
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(whsec_…)")
    }
}

impl WebhookSecret {
    /// A new secret of 32 random bytes.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut key = vec![0u8; KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        WebhookSecret { text: format!("{PREFIX}{}", STANDARD.encode(&key)), key }
    }

    /// A stored secret: `whsec_` and standard base64 of at least 24 bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let key = STANDARD.decode(text.strip_prefix(PREFIX)?).ok()?;
        (key.len() >= 24).then(|| WebhookSecret { text: text.to_string(), key })
    }

    pub fn expose(&self) -> &str {
        &self.text
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key length");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            mac.update(b".");
        }
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The signature headers of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signatures {
    /// `Paylink-Signature`.
    pub paylink: String,
    /// `webhook-signature`.
    pub standard: String,
}

/// Signs the call `id` sent at `timestamp` (unix seconds) with `body`, under every secret
/// given (the current one first, then the one being rotated out).
pub fn sign(secrets: &[&WebhookSecret], id: &str, timestamp: i64, body: &[u8]) -> Signatures {
    let t = timestamp.to_string();
    let paylink = secrets
        .iter()
        .map(|s| format!("v1={}", hex::encode(mac(s.text.as_bytes(), &[t.as_bytes(), body]))))
        .collect::<Vec<_>>()
        .join(",");
    let standard = secrets
        .iter()
        .map(|s| format!("v1,{}", STANDARD.encode(mac(&s.key, &[id.as_bytes(), t.as_bytes(), body]))))
        .collect::<Vec<_>>()
        .join(" ");
    Signatures { paylink: format!("t={t},{paylink}"), standard }
}

/// Why a call may not go to `ip` (an i18n key), or nothing when it may. Link-local
/// addresses (169.254.0.0/16, where cloud metadata services answer, and fe80::/10) are
/// refused always, as are addresses nobody should call (unspecified, broadcast, multicast);
/// private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) unless the operator
/// allows them; loopback in TEST mode only (a merchant's server on the same machine while
/// trying paylink out). IPv4 written as IPv6 (`::ffff:a.b.c.d`) is judged as IPv4.
pub fn refusal(ip: std::net::IpAddr, mode: super::api_key::Mode, allow_private: bool) -> Option<&'static str> {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    let (link_local, unusable, private, loopback) = match ip {
        IpAddr::V4(a) => {
            let [o1, o2, ..] = a.octets();
            (
                a.is_link_local(),
                a.is_unspecified() || a.is_broadcast() || a.is_multicast() || o1 == 0,
                a.is_private() || (o1 == 100 && (64..128).contains(&o2)),
                a.is_loopback(),
            )
        }
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            (
                (first & 0xffc0) == 0xfe80,
                a.is_unspecified() || a.is_multicast(),
                (first & 0xfe00) == 0xfc00,
                a.is_loopback(),
            )
        }
    };
    if link_local {
        Some("webhook.target_link_local")
    } else if unusable {
        Some("webhook.target_unusable")
    } else if loopback && mode != super::api_key::Mode::Test {
        Some("webhook.target_loopback")
    } else if private && !allow_private {
        Some("webhook.target_private")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's libraries, checked here with
    /// the published Python package (`standardwebhooks` 1.3.0, `Webhook.sign`).
    #[test]
    fn the_standard_signature_matches_the_specifications_example() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let s = sign(&[&secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, br#"{"test": 2432232314}"#);
        assert_eq!(s.standard, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn the_paylink_signature_is_stripes_scheme_keyed_by_the_whole_secret() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"id":"evt_1"}"#;
        let s = sign(&[&secret], "evt_1", 1614265330, body);
        // Python's own hmac: hmac.new(b"whsec_MfKQ…", b'1614265330.{"id":"evt_1"}', sha256).
        let expected = "c4c4b8c26bb0896bc1156d83fde8b0052e4932e8abe988e7c657735832001b47";
        assert_eq!(s.paylink, format!("t=1614265330,v1={expected}"));
        // A changed body or timestamp changes both.
        assert_ne!(sign(&[&secret], "evt_1", 1614265331, body), s);
        assert_ne!(sign(&[&secret], "evt_1", 1614265330, b"{}"), s);
    }

    #[test]
    fn a_rotation_signs_with_both_secrets_and_secrets_are_checked() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        assert!(new.expose().starts_with("whsec_") && new != old);
        assert_eq!(WebhookSecret::parse(new.expose()), Some(new.clone()));
        let s = sign(&[&new, &old], "evt_2", 1, b"{}");
        assert_eq!(s.paylink.matches("v1=").count(), 2);
        assert_eq!(s.standard.split(' ').count(), 2);
        assert!(s.standard.starts_with(&sign(&[&new], "evt_2", 1, b"{}").standard));
        assert_eq!(WebhookSecret::parse("whsec_!!"), None);
        assert_eq!(WebhookSecret::parse("sk_abc"), None);
        assert_eq!(WebhookSecret::parse("whsec_c2hvcnQ="), None, "too short a key");
        assert!(!format!("{new:?}").contains(&new.expose()[6..]), "never in a log line");
    }

    #[test]
    fn link_local_targets_are_refused_always_private_ones_unless_allowed_loopback_in_test_only() {
        use crate::domain::api_key::Mode::{Production, Test};
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        for always in ["169.254.169.254", "fe80::1", "::ffff:169.254.169.254"] {
            for (mode, allow) in [(Test, true), (Production, true), (Test, false)] {
                assert_eq!(refusal(ip(always), mode, allow), Some("webhook.target_link_local"), "{always}");
            }
        }
        for unusable in ["0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1"] {
            assert_eq!(refusal(ip(unusable), Test, true), Some("webhook.target_unusable"), "{unusable}");
        }
        for private in ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.10", "100.64.0.1", "fd00::1"] {
            assert_eq!(refusal(ip(private), Production, false), Some("webhook.target_private"), "{private}");
            assert_eq!(refusal(ip(private), Production, true), None, "{private} allowed by the operator");
        }
        for loopback in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(refusal(ip(loopback), Test, false), None, "{loopback} in TEST");
            assert_eq!(refusal(ip(loopback), Production, true), Some("webhook.target_loopback"), "{loopback}");
        }
        for public in ["93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
            assert_eq!(refusal(ip(public), Production, false), None, "{public}");
        }
    }
}
