//! The card vault: card numbers sealed under the vault keyring, found by a random token that
//! reveals nothing. A number is written, read back for the acquirer, re-encrypted by a key
//! rotation, and deleted for good; the table never holds it in clear.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::vault_records as vr;
use crate::domain::card::CardNumber;
use crate::domain::vault::{Keyring, Sealed, VaultError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = vr)]
struct Row {
    token: String,
    key_id: String,
    ciphertext: String,
}

impl Row {
    fn sealed(self) -> (String, Sealed) {
        (self.token, Sealed { key_id: self.key_id, ciphertext: self.ciphertext })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Seals `number` under the current key; returns its new token (`vt_…`).
pub fn put(conn: &mut DbConn, keys: &Keyring, number: &CardNumber, now: NaiveDateTime) -> QueryResult<String> {
    let token = format!("vt_{}", crate::domain::text::random_token(16));
    let sealed = keys.seal(&token, number.digits().as_bytes());
    diesel::insert_into(vr::table)
        .values((
            vr::token.eq(&token),
            vr::key_id.eq(&sealed.key_id),
            vr::ciphertext.eq(&sealed.ciphertext),
            vr::created_at.eq(now),
            vr::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(token)
}

/// The card number of `token`, `None` if there is no such record. A record that does not
/// open is an error, never `None`: the number exists but this keyring cannot read it.
pub fn reveal(conn: &mut DbConn, keys: &Keyring, token: &str) -> Result<Option<CardNumber>, RevealError> {
    let Some(row) = vr::table.find(token).select(Row::as_select()).first(conn).optional()? else {
        return Ok(None);
    };
    let (token, sealed) = row.sealed();
    let plain = keys.open(&token, &sealed)?;
    // Authenticated encryption: only what `put` sealed opens, and that was a card number.
    let digits = String::from_utf8(plain).map_err(|_| VaultError::Tampered)?;
    Ok(Some(CardNumber::parse(&digits).map_err(|_| VaultError::Tampered)?))
}

/// Deletes the record of `token` (the row itself); whether there was one.
pub fn delete(conn: &mut DbConn, token: &str) -> QueryResult<bool> {
    Ok(diesel::delete(vr::table.find(token)).execute(conn)? > 0)
}

/// What one batch of a key rotation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationBatch {
    /// Records now under the current key.
    pub reencrypted: i64,
    /// Records under another key that no key of the keyring opens, met on the way: left as
    /// they are, and met again by every later batch.
    pub unreadable: i64,
    /// The ids of the keys the re-encrypted records were under.
    pub from_keys: BTreeSet<String>,
    /// Fewer than `limit` records were left to re-encrypt: the rotation is complete (but for
    /// the unreadable ones).
    pub done: bool,
}

/// Re-encrypts up to `limit` records not under the current key, each under the current key
/// with the same token. Unreadable records stay in place; as they keep their key id, they
/// stay first among those left in token order, so the next page of candidates starts after
/// as many of them as were met (an offset), and a batch always makes progress past them.
pub fn rotate_batch(conn: &mut DbConn, keys: &Keyring, limit: i64, now: NaiveDateTime) -> QueryResult<RotationBatch> {
    let mut batch = RotationBatch::default();
    while batch.reencrypted < limit {
        let wanted = limit - batch.reencrypted;
        let rows: Vec<Row> = vr::table
            .filter(vr::key_id.ne(keys.current_id()))
            .order(vr::token)
            .offset(batch.unreadable)
            .limit(wanted)
            .select(Row::as_select())
            .load(conn)?;
        let last_page = (rows.len() as i64) < wanted;
        for (token, sealed) in rows.into_iter().map(Row::sealed) {
            let Ok(plain) = keys.open(&token, &sealed) else {
                batch.unreadable += 1;
                continue;
            };
            let again = keys.seal(&token, &plain);
            diesel::update(vr::table.find(&token))
                .set((vr::key_id.eq(&again.key_id), vr::ciphertext.eq(&again.ciphertext), vr::updated_at.eq(now)))
                .execute(conn)?;
            batch.from_keys.insert(sealed.key_id);
            batch.reencrypted += 1;
        }
        if last_page {
            batch.done = true;
            break;
        }
    }
    Ok(batch)
}
