//! A shop's offer of payment in instalments (seed 002): the settings page reads and writes
//! it, the pay page reads it. Who may change it (administrators and managers) is checked by
//! the caller, as for the other settings; the shop must be one of the actor's company.

use super::{ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::actor::Actor;
use crate::domain::clock::SharedClock;
use crate::domain::ids::ShopId;
use crate::domain::instalments::{InstalmentSettings, RawInstalmentSettings};
use crate::store::audit::{self, Entry};
use crate::store::{instalments as store, shops};

/// The shop's settings; the defaults (not offered) until they are first saved.
pub async fn settings(db: &Db, shop: ShopId) -> ServiceResult<InstalmentSettings> {
    db.read(move |conn| Ok(store::get(conn, shop)?)).await
}

/// Saves the settings typed, with an audit entry naming what changed; the fields refused
/// otherwise, as [`ServiceError::Invalid`], and nothing written.
pub async fn save(
    db: &Db,
    clock: &SharedClock,
    actor: &Actor,
    shop: ShopId,
    raw: RawInstalmentSettings,
) -> ServiceResult<InstalmentSettings> {
    let new = raw.parse().map_err(ServiceError::Invalid)?;
    let (clock, actor) = (clock.clone(), actor.clone());
    db.write(move |conn| {
        let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
        shops::find(conn, company, shop)?.ok_or(ServiceError::NotFound)?;
        let before = store::get(conn, shop)?;
        let now = clock.now_naive();
        store::save(conn, shop, &new, now)?;
        let (b, a) = (RawInstalmentSettings::of(&before, '.'), RawInstalmentSettings::of(&new, '.'));
        let changes: Vec<String> = [
            ("enabled", b.enabled.to_string(), a.enabled.to_string()),
            ("max_count", b.max_count, a.max_count),
            ("first_share_percent", b.first_share_percent, a.first_share_percent),
            ("min_amount", b.min_amount, a.min_amount),
            ("interval", b.interval, a.interval),
            ("retry_days", b.retry_days, a.retry_days),
        ]
        .into_iter()
        .filter(|(_, old, new)| old != new)
        .map(|(name, old, new)| format!("{name}: {old:?} -> {new:?}"))
        .collect();
        audit::append(
            conn,
            &actor,
            Entry {
                shop_id: Some(shop),
                action: "shop.instalments_changed",
                target: &format!("shop:{shop}"),
                detail: &if changes.is_empty() { "no change".to_string() } else { changes.join("; ") },
            },
            now,
        )?;
        Ok(new)
    })
    .await
}
