//! Small secrets kept in the database (the SMS gateway password) are sealed with
//! AES-256-GCM under the vault key: a dump alone does not reveal them. `seal_bound` and
//! `open_bound` do the same for values that travel in URLs, bound to a context (the link
//! they belong to) and in URL-safe base64.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;

pub fn seal(key: &[u8], plain: &str) -> String {
    let cipher = Aes256Gcm::new_from_slice(&key[..32]).expect("32-byte key");
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), plain.as_bytes()).expect("encryption cannot fail");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    base64::engine::general_purpose::STANDARD.encode(out)
}

pub fn open(key: &[u8], sealed: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(sealed).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(&key[..32]).ok()?;
    let plain = cipher.decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..]).ok()?;
    String::from_utf8(plain).ok()
}

/// Seals `plain` under `key`, bound to `context`: the context is authenticated, not
/// encrypted, and must be given again to open. URL-safe base64 without padding.
pub fn seal_bound(key: &[u8], context: &[u8], plain: &[u8]) -> String {
    let cipher = Aes256Gcm::new_from_slice(&key[..32]).expect("32-byte key");
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: context })
        .expect("encryption cannot fail");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
}

/// What `seal_bound` sealed, if `sealed` is intact and was sealed under `key` for `context`.
pub fn open_bound(key: &[u8], context: &[u8], sealed: &str) -> Option<Vec<u8>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sealed).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let cipher = Aes256Gcm::new_from_slice(key.get(..32)?).ok()?;
    cipher.decrypt(Nonce::from_slice(&bytes[..12]), Payload { msg: &bytes[12..], aad: context }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let key = [7u8; 32];
        let sealed = seal(&key, "gateway-password");
        assert!(!sealed.contains("gateway"));
        assert_ne!(sealed, seal(&key, "gateway-password"), "a fresh nonce each time");
        assert_eq!(open(&key, &sealed).as_deref(), Some("gateway-password"));
        assert_eq!(open(&[8u8; 32], &sealed), None);
        assert_eq!(open(&key, "garbage"), None);
    }

    #[test]
    fn bound_values_open_only_with_their_key_and_context() {
        let key = [7u8; 32];
        let sealed = seal_bound(&key, b"link-a", b"Jane Doe");
        assert!(sealed.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "URL-safe");
        assert_ne!(sealed, seal_bound(&key, b"link-a", b"Jane Doe"), "a fresh nonce each time");
        assert_eq!(open_bound(&key, b"link-a", &sealed).as_deref(), Some(&b"Jane Doe"[..]));
        assert_eq!(open_bound(&key, b"link-b", &sealed), None, "another context");
        assert_eq!(open_bound(&[8u8; 32], b"link-a", &sealed), None, "another key");
        let mut flipped = sealed.clone().into_bytes();
        flipped[20] = if flipped[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(open_bound(&key, b"link-a", &String::from_utf8(flipped).unwrap()), None, "tampered");
        assert_eq!(open_bound(&key, b"link-a", &sealed[..sealed.len() - 1]), None, "truncated");
        assert_eq!(open_bound(&key, b"link-a", "garbage!"), None);
        assert_eq!(open_bound(&key, b"link-a", ""), None);
    }
}
