//! What the pay pages carry between requests, signed or sealed by this server: the pay
//! session of a form, and the 3-D Secure challenge's claims.

use base64::Engine;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::secret_box;
use crate::domain::shop::ThreeDsPreference;
use crate::services::checkout::Parked;
use crate::services::payments::CardSummary;
use crate::web::AppState;
use crate::web::security::constant_time_eq;

/// HMAC-SHA256 under the server's secret over `parts` (each followed by a NUL, so no two
/// lists of parts sign the same bytes), URL-safe base64.
fn sign(state: &AppState, parts: &[&str]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.settings.secret_key.expose()).expect("any key length");
    for part in parts {
        mac.update(part.as_bytes());
        mac.update(b"\0");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// The pay session of a form: `<unix start>.<hmac>`, bound to the link.
pub fn session_token(state: &AppState, link: &str, start: NaiveDateTime) -> String {
    let start = start.and_utc().timestamp().to_string();
    let mac = sign(state, &["paylink-pay-session", link, &start]);
    format!("{start}.{mac}")
}

/// When the form was shown, if `raw` is a session token this server signed for this link.
pub fn session_start(state: &AppState, link: &str, raw: &str) -> Option<NaiveDateTime> {
    let (start, mac) = raw.trim().split_once('.')?;
    let expected = sign(state, &["paylink-pay-session", link, start]);
    if !constant_time_eq(expected.as_bytes(), mac.as_bytes()) {
        return None;
    }
    chrono::DateTime::from_timestamp(start.parse().ok()?, 0).map(|d| d.naive_utc())
}

/// What the challenge page and its answer need, sealed: no server state, and nothing of it
/// readable in the URL.
#[derive(Serialize, Deserialize)]
pub struct ChallengeClaims {
    /// The attempt id holding the order's lock.
    holder: String,
    /// The acquirer's reference of the authentication (never the card number).
    reference: String,
    /// The card, masked, and the holder's name.
    card: CardSummary,
    three_ds: String,
    /// When the challenge began (unix seconds).
    issued: i64,
}

impl ChallengeClaims {
    pub fn new(parked: Parked, three_ds: ThreeDsPreference) -> Self {
        ChallengeClaims {
            holder: parked.holder,
            reference: parked.reference,
            card: parked.card,
            three_ds: three_ds.as_str().to_string(),
            issued: parked.issued.and_utc().timestamp(),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn card(&self) -> &CardSummary {
        &self.card
    }

    pub fn parked(self) -> Option<Parked> {
        let issued = chrono::DateTime::from_timestamp(self.issued, 0)?.naive_utc();
        Some(Parked { holder: self.holder, reference: self.reference, card: self.card, issued })
    }

    /// The claims encrypted and authenticated for `link` only, URL-safe.
    pub fn seal(&self, state: &AppState, link: &str) -> String {
        let json = serde_json::to_vec(self).expect("claims serialise");
        secret_box::seal_bound(&challenge_key(state), &challenge_context(link), &json)
    }

    /// The claims, if `raw` was sealed by this server for this link and not altered.
    pub fn open(state: &AppState, link: &str, raw: &str) -> Option<ChallengeClaims> {
        let json = secret_box::open_bound(&challenge_key(state), &challenge_context(link), raw.trim())?;
        let claims: ChallengeClaims = serde_json::from_slice(&json).ok()?;
        ThreeDsPreference::parse(&claims.three_ds)?;
        Some(claims)
    }
}

/// The challenge tokens' own key, derived from the vault key: nothing sealed for a URL ever
/// opens as a stored secret, nor the reverse.
fn challenge_key(state: &AppState) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(state.settings.vault_key.expose()).expect("any key length");
    mac.update(b"paylink-3ds-claims");
    mac.finalize().into_bytes().into()
}

/// What a challenge token is bound to: its link.
fn challenge_context(link: &str) -> Vec<u8> {
    [b"paylink-3ds\0".as_slice(), link.as_bytes()].concat()
}
