//! A shop's SMS account (gateway credentials, default phone, credits).

use super::ServiceResult;
use crate::db::DbConn;
use crate::domain::FieldError;
use crate::domain::clock::Clock;
use crate::domain::ids::ShopId;
use crate::domain::secret_box;
use crate::store::audit::{self, Actor, Entry};
use crate::store::sms as store;

#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RawAccount {
    #[serde(default)]
    pub login: String,
    /// Empty keeps the stored password.
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub default_phone: String,
    #[serde(default)]
    pub credits: String,
}

pub fn save(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    shop: ShopId,
    raw: &RawAccount,
    vault_key: &[u8],
) -> ServiceResult<Result<(), Vec<FieldError>>> {
    let mut errors = Vec::new();
    let login = raw.login.trim();
    if login.is_empty() || login.len() > 128 {
        errors.push(FieldError::new("login", "field.required"));
    }
    let phone = if raw.default_phone.trim().is_empty() {
        String::new()
    } else {
        crate::domain::sms::parse_phone(&raw.default_phone)
            .map_err(|e| errors.push(FieldError::new("default_phone", e.code)))
            .unwrap_or_default()
    };
    let credits = match raw.credits.trim().parse::<i32>() {
        Ok(c) if (0..=10_000_000).contains(&c) => c,
        _ => {
            errors.push(FieldError::new("credits", "sms.credits.invalid"));
            0
        }
    };
    let existing = store::get(conn, shop)?;
    let password_enc = match (raw.password.is_empty(), &existing) {
        (false, _) => secret_box::seal(vault_key, &raw.password),
        (true, Some(a)) => a.password_enc.clone(),
        (true, None) => {
            errors.push(FieldError::new("password", "field.required"));
            String::new()
        }
    };
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    store::save(conn, shop, login, &password_enc, &phone, credits, clock.now_naive())?;
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: Some(shop),
            action: "shop.sms_account_changed",
            target: &format!("shop:{shop}"),
            detail: &format!("login {login}, {credits} credits"),
        },
        clock.now_naive(),
    )?;
    Ok(Ok(()))
}
