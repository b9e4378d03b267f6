//! Shop settings and API keys.

use super::{ServiceError, ServiceResult};
use crate::db::DbConn;
use crate::domain::api_key::{ApiKey, Mode};
use crate::domain::clock::Clock;
use crate::domain::ids::ShopId;
use crate::domain::shop::ShopSettings;
use crate::store::audit::{self, Actor, Entry};
use crate::store::shops;

pub fn update_settings(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    id: ShopId,
    new: &ShopSettings,
) -> ServiceResult<()> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    let before = shops::find(conn, company, id)?.ok_or(ServiceError::NotFound)?;
    let now = clock.now_naive();
    shops::update_settings(conn, company, id, new, now)?;
    let mut changes = Vec::new();
    let (b, a) = (&before.settings, new);
    let mut diff = |name: &str, old: String, new: String| {
        if old != new {
            changes.push(format!("{name}: {old} -> {new}"));
        }
    };
    diff("label", b.label.clone(), a.label.clone());
    diff("url", b.url.clone(), a.url.clone());
    diff("contact_email", b.contact_email.clone(), a.contact_email.clone());
    diff("time_zone", b.time_zone.name().into(), a.time_zone.name().into());
    diff("validity_days", b.defaults.validity_days.to_string(), a.defaults.validity_days.to_string());
    diff("reference_mandatory", b.defaults.reference_mandatory.to_string(), a.defaults.reference_mandatory.to_string());
    diff("validation_mode", b.defaults.validation_mode.to_string(), a.defaults.validation_mode.to_string());
    diff("capture_delay_days", b.defaults.capture_delay_days.to_string(), a.defaults.capture_delay_days.to_string());
    diff("three_ds", b.defaults.three_ds.to_string(), a.defaults.three_ds.to_string());
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: Some(id),
            action: "shop.settings_changed",
            target: &format!("shop:{id}"),
            detail: &if changes.is_empty() { "no change".to_string() } else { changes.join("; ") },
        },
        now,
    )?;
    Ok(())
}

/// Replaces a shop's key for `mode`; the old one stops working at once. Returns the new key,
/// which is never shown again.
pub fn regenerate_key(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    id: ShopId,
    mode: Mode,
) -> ServiceResult<String> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    let key = ApiKey::generate(mode);
    let now = clock.now_naive();
    if shops::replace_key(conn, company, id, mode, &key.hash(), &key.hint(), now)? == 0 {
        return Err(ServiceError::NotFound);
    }
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: Some(id),
            action: "shop.key_regenerated",
            target: &format!("shop:{id}"),
            detail: &format!("{mode} key, now ending in {}", key.hint()),
        },
        now,
    )?;
    Ok(key.expose().to_string())
}
