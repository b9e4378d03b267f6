//! Rotating the card vault's key (PCI DSS 3.7.4): everything sealed under a previous key is
//! sealed again under the current one. The run is cut into batches, each one transaction with
//! its audit entry, so a run stopped anywhere leaves every record readable (those not yet
//! done are still under a previous key, which the keyring still holds) and the next run
//! takes up the records left. Once a run reports none left, the previous keys may go.

use std::sync::Arc;

use super::{ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::actor::Actor;
use crate::domain::clock::SharedClock;
use crate::domain::vault::{Keyring, Reseal};
use crate::store::audit::{self, Entry};
use crate::store::{sms, vault};

/// What a rotation run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rotation {
    /// The current key, which everything readable is now under.
    pub key_id: String,
    /// Card records re-encrypted by this run.
    pub reencrypted: i64,
    /// Card records no key opens, as the last batch found them (all of them when `complete`).
    pub unreadable: i64,
    /// SMS gateway passwords sealed again under the current key.
    pub sms_resealed: i64,
    /// SMS gateway passwords no key opens.
    pub sms_unreadable: i64,
    /// No record is left under a previous key (but the unreadable ones): false when
    /// `max_batches` stopped the run first.
    pub complete: bool,
}

/// Re-encrypts the card records `batch` at a time (at most `max_batches` batches), after
/// the SMS gateway passwords, one per shop, in a transaction of their own.
pub async fn rotate(
    db: &Db,
    clock: &SharedClock,
    keys: Arc<Keyring>,
    batch: i64,
    max_batches: Option<usize>,
) -> ServiceResult<Rotation> {
    let batch = batch.max(1);
    let (c, k) = (clock.clone(), keys.clone());
    let (sms_resealed, sms_unreadable) = db.write(move |conn| reseal_sms_passwords(conn, &c, &k)).await?;
    let mut rotation = Rotation {
        key_id: keys.current_id().to_string(),
        reencrypted: 0,
        unreadable: 0,
        sms_resealed,
        sms_unreadable,
        complete: false,
    };
    for _ in 0..max_batches.unwrap_or(usize::MAX) {
        let (clock, keys) = (clock.clone(), keys.clone());
        let done = db
            .write(move |conn| {
                let now = clock.now_naive();
                let done = vault::rotate_batch(conn, &keys, batch, now)?;
                if done.reencrypted > 0 || done.unreadable > 0 {
                    let from: Vec<&str> = done.from_keys.iter().map(String::as_str).collect();
                    let detail = format!(
                        "{} card records re-encrypted under key {} (from {}), {} unreadable",
                        done.reencrypted,
                        keys.current_id(),
                        if from.is_empty() { "-".to_string() } else { from.join(", ") },
                        done.unreadable
                    );
                    let entry = Entry { shop_id: None, action: "vault.rotated", target: "vault", detail: &detail };
                    audit::append(conn, &Actor::cli(), entry, now)?;
                }
                Ok::<_, ServiceError>(done)
            })
            .await?;
        rotation.reencrypted += done.reencrypted;
        rotation.unreadable = done.unreadable;
        if done.done {
            rotation.complete = true;
            break;
        }
    }
    Ok(rotation)
}

/// The SMS passwords name no key: each is tried with the current key, then the previous ones.
fn reseal_sms_passwords(conn: &mut super::Conn, clock: &SharedClock, keys: &Keyring) -> ServiceResult<(i64, i64)> {
    let now = clock.now_naive();
    let (mut resealed, mut unreadable) = (0, 0);
    for (shop, sealed) in sms::sealed_passwords(conn)? {
        match keys.reseal_secret(&sealed) {
            Reseal::Current => {}
            Reseal::Resealed(again) => {
                sms::reseal_password(conn, shop, &again, now)?;
                resealed += 1;
            }
            Reseal::Unreadable => unreadable += 1,
        }
    }
    if resealed > 0 || unreadable > 0 {
        let detail = format!(
            "{resealed} SMS gateway passwords sealed again under key {}, {unreadable} unreadable",
            keys.current_id()
        );
        let entry = Entry { shop_id: None, action: "vault.rotated", target: "sms_accounts", detail: &detail };
        audit::append(conn, &Actor::cli(), entry, now)?;
    }
    Ok((resealed, unreadable))
}
