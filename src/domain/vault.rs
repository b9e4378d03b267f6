//! The card vault's keys (PCI DSS 3.5.1 and 3.7.4): a record is sealed with AES-256-GCM
//! under the current key and names that key by a short id, so that after a rotation the
//! records not yet re-encrypted still open with the previous key, found by its id. The id is
//! a digest of the key, never the key: a dump shows which key sealed a record, not the key.
//! The record's token is the associated data, so a ciphertext copied onto another record
//! does not open there.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::secret_box;

/// The current key, then the previous ones, each with its id. Debug shows the ids only.
#[derive(Clone)]
pub struct Keyring {
    keys: Vec<VaultKey>,
}

#[derive(Clone)]
struct VaultKey {
    id: String,
    bytes: [u8; 32],
}

impl VaultKey {
    /// Keys are at least 32 bytes (the settings refuse shorter ones); like `secret_box`,
    /// the vault uses the first 32.
    fn new(key: &[u8]) -> VaultKey {
        let bytes: [u8; 32] = key.get(..32).and_then(|k| k.try_into().ok()).expect("a vault key of 32+ bytes");
        let digest = Sha256::new().chain_update(b"paylink vault key id\0").chain_update(bytes).finalize();
        VaultKey { id: hex::encode(&digest[..4]), bytes }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(&self.bytes).expect("32-byte key")
    }
}

/// A card number as stored: the id of the key that sealed it, and base64 of the nonce
/// followed by the AES-GCM output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub ciphertext: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The record names a key this keyring does not hold (retired too early, or another
    /// installation's).
    #[error("no vault key has the id {0}")]
    UnknownKey(String),
    /// The key is known but the ciphertext does not open: altered, or moved to another record.
    #[error("the vault record does not open under its key")]
    Tampered,
}

/// What became of a secret sealed by `secret_box::seal` (it names no key) in a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reseal {
    /// It opens with the current key already.
    Current,
    /// It opened with a previous key; this is it sealed under the current one.
    Resealed(String),
    /// No key of the keyring opens it.
    Unreadable,
}

impl Keyring {
    /// `previous` may repeat the current key or one another: each key is kept once.
    pub fn new(current: &[u8], previous: &[Vec<u8>]) -> Keyring {
        let mut keys = vec![VaultKey::new(current)];
        for key in previous.iter().map(|k| VaultKey::new(k)) {
            if keys.iter().all(|k| k.id != key.id) {
                keys.push(key);
            }
        }
        Keyring { keys }
    }

    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Seals `plain` for the record `token` under the current key, with a fresh nonce.
    pub fn seal(&self, token: &str, plain: &[u8]) -> Sealed {
        let key = &self.keys[0];
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = key
            .cipher()
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: token.as_bytes() })
            .expect("encryption cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Sealed { key_id: key.id.clone(), ciphertext: base64::engine::general_purpose::STANDARD.encode(out) }
    }

    /// Opens what `seal` sealed for the record `token`, under whichever key it names.
    pub fn open(&self, token: &str, sealed: &Sealed) -> Result<Vec<u8>, VaultError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| VaultError::UnknownKey(sealed.key_id.clone()))?;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(&sealed.ciphertext).map_err(|_| VaultError::Tampered)?;
        if bytes.len() < 12 {
            return Err(VaultError::Tampered);
        }
        key.cipher()
            .decrypt(Nonce::from_slice(&bytes[..12]), Payload { msg: &bytes[12..], aad: token.as_bytes() })
            .map_err(|_| VaultError::Tampered)
    }

    /// Seals a small secret (a service's credentials) under the current key.
    pub fn seal_secret(&self, plain: &str) -> String {
        secret_box::seal(&self.keys[0].bytes, plain)
    }

    /// Opens what `seal_secret` sealed, under the current key or a previous one.
    pub fn open_secret(&self, sealed: &str) -> Option<String> {
        self.keys.iter().find_map(|k| secret_box::open(&k.bytes, sealed))
    }

    /// Brings a `secret_box` secret under the current key: tried with the current key first,
    /// then with each previous one.
    pub fn reseal_secret(&self, sealed: &str) -> Reseal {
        if secret_box::open(&self.keys[0].bytes, sealed).is_some() {
            return Reseal::Current;
        }
        match self.keys[1..].iter().find_map(|k| secret_box::open(&k.bytes, sealed)) {
            Some(plain) => Reseal::Resealed(secret_box::seal(&self.keys[0].bytes, &plain)),
            None => Reseal::Unreadable,
        }
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let previous: Vec<&str> = self.keys[1..].iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("Keyring").field("current", &self.current_id()).field("previous", &previous).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: [u8; 32] = [1; 32];
    const B: [u8; 32] = [2; 32];

    #[test]
    fn a_sealed_record_opens_again_and_never_shows_its_digits() {
        let keys = Keyring::new(&A, &[]);
        let sealed = keys.seal("vt_1", b"4970100000000006");
        assert_eq!(sealed.key_id, keys.current_id());
        assert_eq!(sealed.key_id.len(), 8);
        assert!(!sealed.ciphertext.contains("4970100000000006"));
        assert_eq!(keys.open("vt_1", &sealed).unwrap(), b"4970100000000006");
    }

    #[test]
    fn every_seal_takes_a_fresh_nonce() {
        let keys = Keyring::new(&A, &[]);
        assert_ne!(keys.seal("vt_1", b"4970100000000006"), keys.seal("vt_1", b"4970100000000006"));
    }

    #[test]
    fn a_record_opens_only_with_its_key_and_its_token() {
        let sealed = Keyring::new(&A, &[]).seal("vt_1", b"4970100000000006");
        let other = Keyring::new(&B, &[]);
        assert_ne!(other.current_id(), sealed.key_id);
        assert_eq!(other.open("vt_1", &sealed), Err(VaultError::UnknownKey(sealed.key_id.clone())));
        let keys = Keyring::new(&A, &[]);
        assert_eq!(keys.open("vt_2", &sealed), Err(VaultError::Tampered), "moved to another record");
    }

    #[test]
    fn a_tampered_byte_or_a_truncated_record_does_not_open() {
        let keys = Keyring::new(&A, &[]);
        let sealed = keys.seal("vt_1", b"4970100000000006");
        let mut bytes = base64::engine::general_purpose::STANDARD.decode(&sealed.ciphertext).unwrap();
        bytes[14] ^= 1;
        let flipped = Sealed {
            key_id: sealed.key_id.clone(),
            ciphertext: base64::engine::general_purpose::STANDARD.encode(&bytes),
        };
        assert_eq!(keys.open("vt_1", &flipped), Err(VaultError::Tampered));
        for ciphertext in ["", "AAAA", "not base64!"] {
            let bad = Sealed { key_id: sealed.key_id.clone(), ciphertext: ciphertext.into() };
            assert_eq!(keys.open("vt_1", &bad), Err(VaultError::Tampered), "{ciphertext:?}");
        }
    }

    #[test]
    fn after_a_rotation_old_records_open_with_the_previous_key() {
        let old = Keyring::new(&A, &[]).seal("vt_1", b"4970100000000006");
        let keys = Keyring::new(&B, &[A.to_vec(), B.to_vec(), A.to_vec()]);
        assert_eq!(keys.current_id(), Keyring::new(&B, &[]).current_id());
        assert_eq!(keys.open("vt_1", &old).unwrap(), b"4970100000000006");
        assert_eq!(keys.seal("vt_1", b"x").key_id, keys.current_id(), "new records go under the current key");
        let shown = format!("{keys:?}");
        assert_eq!(shown, format!("Keyring {{ current: {:?}, previous: [{:?}] }}", keys.current_id(), old.key_id));
    }

    #[test]
    fn secrets_without_a_key_id_are_resealed_under_the_current_key() {
        let keys = Keyring::new(&B, &[A.to_vec()]);
        assert_eq!(keys.reseal_secret(&secret_box::seal(&B, "pw")), Reseal::Current);
        let Reseal::Resealed(again) = keys.reseal_secret(&secret_box::seal(&A, "pw")) else { panic!("not resealed") };
        assert_eq!(secret_box::open(&B, &again).as_deref(), Some("pw"));
        assert_eq!(keys.reseal_secret(&secret_box::seal(&[3; 32], "pw")), Reseal::Unreadable);
    }
}
