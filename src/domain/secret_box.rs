//! Small secrets kept in the database (the SMS gateway password) are sealed with
//! AES-256-GCM under the vault key: a dump alone does not reveal them.

use aes_gcm::aead::{Aead, KeyInit};
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
}
