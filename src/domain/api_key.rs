//! Shop API keys. A key is 32 random bytes, shown once; the database keeps only its SHA-256
//! (a fast hash is right for 256 random bits: nothing to brute-force) and its last four
//! characters, so a dump reveals no usable key.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    Test,
    Production,
}

super::shop::text_enum!(Mode { Test = "TEST", Production = "PRODUCTION" });

pub struct ApiKey(String);

impl ApiKey {
    pub fn generate(mode: Mode) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let prefix = match mode {
            Mode::Test => "pl_test_",
            Mode::Production => "pl_prod_",
        };
        ApiKey(format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hint(&self) -> String {
        self.0[self.0.len() - 4..].to_string()
    }

    pub fn hash(&self) -> String {
        hash_key(&self.0)
    }
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed() {
        let a = ApiKey::generate(Mode::Test);
        let b = ApiKey::generate(Mode::Test);
        assert!(a.expose().starts_with("pl_test_"));
        assert!(ApiKey::generate(Mode::Production).expose().starts_with("pl_prod_"));
        assert_ne!(a.expose(), b.expose());
        assert_eq!(a.hash().len(), 64);
        assert!(!a.hash().contains(&a.expose()[8..]));
        assert_eq!(a.hint(), &a.expose()[a.expose().len() - 4..]);
    }
}
