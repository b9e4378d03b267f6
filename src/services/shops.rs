//! Shop settings and API keys.

use super::{ServiceError, ServiceResult};
use crate::db::{Db, DbConn};
use crate::domain::api_key::{ApiKey, Mode};
use crate::domain::clock::Clock;
use crate::domain::ids::ShopId;
use crate::domain::logo::{Logo, LogoKind};
use crate::domain::shop::ShopSettings;
use crate::store::audit::{self, Actor, Entry};
use crate::store::{logos, shops};

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

/// Sets (or replaces) the shop's logo, audited.
pub fn set_logo(conn: &mut DbConn, clock: &dyn Clock, actor: &Actor, id: ShopId, logo: &Logo) -> ServiceResult<()> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    shops::find(conn, company, id)?.ok_or(ServiceError::NotFound)?;
    let now = clock.now_naive();
    logos::put(conn, id, logo.kind.content_type(), &logo.digest, &logo.body, now)?;
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: Some(id),
            action: "shop.logo_changed",
            target: &format!("shop:{id}"),
            detail: &format!("{}, {} bytes", logo.kind.content_type(), logo.body.len()),
        },
        now,
    )?;
    Ok(())
}

/// Removes the shop's logo, audited; the pay page shows the shop's name alone again.
pub fn remove_logo(conn: &mut DbConn, clock: &dyn Clock, actor: &Actor, id: ShopId) -> ServiceResult<()> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    shops::find(conn, company, id)?.ok_or(ServiceError::NotFound)?;
    let now = clock.now_naive();
    if logos::delete(conn, id)? {
        audit::append(
            conn,
            actor,
            Entry { shop_id: Some(id), action: "shop.logo_removed", target: &format!("shop:{id}"), detail: "" },
            now,
        )?;
    }
    Ok(())
}

/// Where the shop's logo is served (`/logos/{digest}.{ext}`), when it has one.
pub async fn logo_href(db: &Db, id: ShopId) -> ServiceResult<Option<String>> {
    let name = db.read(move |conn| -> ServiceResult<_> { Ok(logos::name_of(conn, id)?) }).await?;
    Ok(name.and_then(|(digest, kind)| LogoKind::from_content_type(&kind).map(|k| Logo::href(&digest, k))))
}

/// The logo file named `{digest}.{ext}`, public (the pay page shows it): its kind and bytes.
pub async fn logo_file(db: &Db, file: &str) -> ServiceResult<(LogoKind, Vec<u8>)> {
    let (digest, ext) = file.rsplit_once('.').ok_or(ServiceError::NotFound)?;
    if digest.len() != 24 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::NotFound);
    }
    let digest = digest.to_string();
    let found = db.read(move |conn| -> ServiceResult<_> { Ok(logos::by_digest(conn, &digest)?) }).await?;
    let (kind, body) = found.ok_or(ServiceError::NotFound)?;
    let kind = LogoKind::from_content_type(&kind).filter(|k| k.extension() == ext).ok_or(ServiceError::NotFound)?;
    Ok((kind, body))
}
