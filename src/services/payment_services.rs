//! A shop's payment services (Settings › Payment services): which PSP connectors and app
//! wallet it takes payments through, per mode, with their credentials sealed under the vault
//! key; the default one; the connection check; and the payment requests made to each, with
//! every call's request and answer (secrets masked) and the cancellation of an open one.

use chrono::NaiveDateTime;

use super::{Env, Scope, ServiceError, ServiceResult};
use crate::acquirer::psp::{Account, Journal, PspError};
use crate::db::DbConn;
use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::ids::ShopId;
use crate::domain::payment_service::{Credentials, RequestStatus, Service, parse_base_url};
use crate::domain::vault::Keyring;
use crate::store::audit::{self, Entry};
use crate::store::payment_services::{self as store, CallRow, RequestRow, ServiceRow, ServiceValues};

pub use crate::store::payment_services::{CallRow as Call, RequestRow as Request};

/// A service as the screens show it.
#[derive(Debug, Clone)]
pub struct ServiceView {
    pub id: i64,
    pub service: Service,
    pub mode: Mode,
    pub masked: String,
    pub base_url: String,
    pub display_name: String,
    pub default: bool,
    pub checked_at: Option<NaiveDateTime>,
    /// `ok`, or what the service answered.
    pub check_result: Option<String>,
}

impl ServiceView {
    fn of(r: &ServiceRow) -> Option<ServiceView> {
        Some(ServiceView {
            id: r.id,
            service: r.service()?,
            mode: r.mode()?,
            masked: r.credentials_mask.clone(),
            base_url: r.base_url.clone(),
            display_name: r.display_name.clone(),
            default: r.is_default,
            checked_at: r.checked_at,
            check_result: r.check_result.clone(),
        })
    }

    /// What the buyer and the merchant read: the display name, else the service's.
    pub fn name(&self) -> &str {
        if self.display_name.is_empty() { self.service.label() } else { &self.display_name }
    }
}

/// The fields of the form (`service`, `mode`, `credentials`, `base_url`, `display_name`,
/// `default`), as typed.
#[derive(Debug, Clone, Default)]
pub struct ServiceForm {
    pub service: String,
    pub mode: String,
    pub credentials: String,
    pub base_url: String,
    pub display_name: String,
    pub default: bool,
}

/// A valid form.
struct Parsed {
    service: Service,
    mode: Mode,
    /// None: keep the saved ones (`keep`), or none needed.
    credentials: Option<Credentials>,
    keep: bool,
    base_url: String,
    name: String,
}

/// The form parsed: every refusal next to its field. Empty credentials keep the saved ones
/// (`existing`); the TEST wallet is paylink's simulator and needs none.
fn parse(
    form: &ServiceForm,
    mut existing: impl FnMut(Service, Mode) -> Option<ServiceRow>,
) -> Result<Parsed, Vec<FieldError>> {
    let mut errors = Vec::new();
    let service = Service::parse(&form.service);
    if service.is_none() {
        errors.push(FieldError::new("service", "service.unknown"));
    }
    let mode = Mode::parse(&form.mode);
    if mode.is_none() {
        errors.push(FieldError::new("mode", "field.choice.invalid"));
    }
    let (Some(service), Some(mode)) = (service, mode) else { return Err(errors) };
    let simulator = service == Service::Wallet && mode == Mode::Test;
    let keep = form.credentials.trim().is_empty() && existing(service, mode).is_some();
    let credentials = if simulator || keep {
        None
    } else {
        match Credentials::parse(service, mode, &form.credentials) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    let base_url = match parse_base_url(service, &form.base_url) {
        Ok(u) => u,
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let name = form.display_name.trim();
    if name.chars().count() > 40 {
        errors.push(FieldError::new("display_name", "field.too_long"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed { service, mode, credentials, keep, base_url, name: name.to_string() })
}

fn audit_entry(
    conn: &mut DbConn,
    scope: &Scope,
    action: &str,
    target: String,
    detail: &str,
    now: NaiveDateTime,
) -> ServiceResult<()> {
    audit::append(conn, &scope.actor, Entry { shop_id: Some(scope.shop.id), action, target: &target, detail }, now)?;
    Ok(())
}

pub async fn services(env: &Env, shop: ShopId) -> ServiceResult<Vec<ServiceView>> {
    let rows = env.db.read(move |conn| Ok::<_, ServiceError>(store::list(conn, shop)?)).await?;
    Ok(rows.iter().filter_map(ServiceView::of).collect())
}

/// The shop's services of `mode`, the default first.
pub async fn of_mode(env: &Env, shop: ShopId, mode: Mode) -> ServiceResult<Vec<ServiceView>> {
    let rows = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::of_mode(conn, shop, mode)?)).await?;
    Ok(rows.iter().filter_map(ServiceView::of).collect())
}

/// The shop's service `id` (not found for another shop's).
pub async fn service(env: &Env, shop: ShopId, id: i64) -> ServiceResult<ServiceView> {
    let row = env.db.read_short(move |conn| Ok::<_, ServiceError>(store::get(conn, shop, id)?)).await?;
    row.as_ref().and_then(ServiceView::of).ok_or(ServiceError::NotFound)
}

/// Adds the service, or replaces the shop's one of that service and mode. Audited, never
/// with the credentials (only their masked form).
pub async fn save(env: &Env, scope: Scope, form: ServiceForm) -> ServiceResult<i64> {
    let (clock, keys) = (env.clock.clone(), env.vault.clone());
    env.db
        .write(move |conn| {
            let shop = scope.shop.id;
            let Parsed { service, mode, credentials, keep, base_url, name } =
                parse(&form, |s, m| store::find(conn, shop, s, m).ok().flatten()).map_err(ServiceError::Invalid)?;
            let existing = store::find(conn, shop, service, mode)?;
            let (sealed, masked) = match (&credentials, keep, &existing) {
                (Some(c), _, _) => (Some(keys.seal_secret(&c.expose())), c.masked()),
                (None, true, Some(e)) => (e.credentials_enc.clone(), e.credentials_mask.clone()),
                _ => (None, String::new()),
            };
            let values = ServiceValues {
                service,
                mode,
                credentials_enc: sealed.as_deref(),
                credentials_mask: &masked,
                base_url: &base_url,
                display_name: &name,
                is_default: form.default,
            };
            let now = clock.now_naive();
            let (id, created) = store::save(conn, shop, &values, now)?;
            let action = if created { "payment_service.created" } else { "payment_service.updated" };
            let detail = format!("{service} {mode} {masked} {base_url}{}", if form.default { " default" } else { "" });
            audit_entry(conn, &scope, action, format!("payment_service:{id}"), &detail, now)?;
            Ok(id)
        })
        .await
}

pub async fn remove(env: &Env, scope: Scope, id: i64) -> ServiceResult<()> {
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let row = store::get(conn, scope.shop.id, id)?.ok_or(ServiceError::NotFound)?;
            store::delete(conn, scope.shop.id, id)?;
            let detail = format!("{} {}", row.service, row.mode);
            audit_entry(
                conn,
                &scope,
                "payment_service.deleted",
                format!("payment_service:{id}"),
                &detail,
                clock.now_naive(),
            )
        })
        .await
}

/// The account a service row stands for, its credentials opened (None: the TEST wallet, or
/// credentials that no longer open under the keyring).
pub fn account_of(keys: &Keyring, r: &ServiceRow) -> Option<Account> {
    let service = r.service()?;
    let plain = keys.open_secret(r.credentials_enc.as_deref()?)?;
    Some(Account {
        service,
        mode: r.mode()?,
        credentials: Credentials::reopen(service, &plain)?,
        base_url: r.base_url.clone(),
    })
}

/// Calls the service with the saved credentials: what it answered is kept on the service
/// (`ok`, or the refusal) with the calls' journal, and audited.
pub async fn check(env: &Env, scope: Scope, id: i64) -> ServiceResult<Result<(), String>> {
    let shop = scope.shop.id;
    let row = env.db.read(move |conn| Ok::<_, ServiceError>(store::get(conn, shop, id)?)).await?;
    let row = row.ok_or(ServiceError::NotFound)?;
    let service = row.service().ok_or(ServiceError::NotFound)?;
    if !service.is_connector() {
        return Err(ServiceError::Conflict("service.check.not_a_connector"));
    }
    let account = account_of(&env.vault, &row).ok_or(ServiceError::Conflict("service.credentials.unreadable"))?;
    let mode = account.mode;
    let connector = env.acquirers.connector(account);
    let mut journal = Journal::default();
    let answer = connector.check(&mut journal).await;
    let result = match &answer {
        Ok(()) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    let clock = env.clock.clone();
    let written = result.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            store::record_calls(conn, shop, None, service, mode, &journal.calls, now)?;
            store::record_check(conn, id, &written, now)?;
            audit_entry(conn, &scope, "payment_service.checked", format!("payment_service:{id}"), &written, now)
        })
        .await?;
    Ok(answer.map_err(|_| result))
}

// ---- Payment requests -------------------------------------------------------------------

/// A page of requests: newest first, `PAGE` at a time, keyset on the id.
pub const PAGE: i64 = 50;

pub async fn requests(
    env: &Env,
    shop: ShopId,
    mode: Mode,
    service: Option<Service>,
    before: Option<i64>,
) -> ServiceResult<(Vec<RequestRow>, Option<i64>)> {
    let mut rows = env
        .db
        .read(move |conn| Ok::<_, ServiceError>(store::requests_page(conn, shop, mode, service, before, PAGE + 1)?))
        .await?;
    let next = if rows.len() as i64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok((rows, next))
}

/// A request of the shop in `mode` with its calls, and its order's reference.
pub async fn request(
    env: &Env,
    shop: ShopId,
    mode: Mode,
    id: i64,
) -> ServiceResult<(RequestRow, Vec<CallRow>, Option<String>)> {
    env.db
        .read(move |conn| {
            let r = store::request(conn, shop, mode, id)?.ok_or(ServiceError::NotFound)?;
            let calls = store::calls_of(conn, shop, r.id)?;
            let order = crate::domain::ids::OrderId(r.order_id);
            let reference = crate::store::orders::find(conn, &[shop], mode, order)?.and_then(|o| o.reference);
            Ok((r, calls, reference))
        })
        .await
}

/// Cancels an open request at its service, where the service allows it: PayZen does not
/// (refused with `service.cancel.not_supported`, nothing called); a request that has ended
/// cannot be. The call is journaled and the cancellation audited.
pub async fn cancel_request(env: &Env, scope: Scope, id: i64) -> ServiceResult<()> {
    let (shop, mode) = (scope.shop.id, scope.mode);
    let (r, row) = env
        .db
        .read(move |conn| {
            let r = store::request(conn, shop, mode, id)?.ok_or(ServiceError::NotFound)?;
            let service = r.service().ok_or(ServiceError::NotFound)?;
            let row = store::find(conn, shop, service, mode)?;
            Ok::<_, ServiceError>((r, row))
        })
        .await?;
    let service = r.service().ok_or(ServiceError::NotFound)?;
    if r.status().is_final() {
        return Err(ServiceError::Conflict("service.cancel.ended"));
    }
    if !service.cancels_requests() {
        return Err(ServiceError::Conflict("service.cancel.not_supported"));
    }
    let mut journal = Journal::default();
    if service.is_connector() {
        let row = row.ok_or(ServiceError::Conflict("service.not_configured"))?;
        let account = account_of(&env.vault, &row).ok_or(ServiceError::Conflict("service.credentials.unreadable"))?;
        let payment_id = r.service_payment_id.clone().ok_or(ServiceError::Conflict("service.cancel.not_created"))?;
        let answer = env.acquirers.connector(account).cancel(&payment_id, &mut journal).await;
        if let Err(e) = answer {
            let calls = journal.calls;
            let clock = env.clock.clone();
            env.db
                .write(move |conn| {
                    Ok::<_, ServiceError>(store::record_calls(
                        conn,
                        shop,
                        Some(id),
                        service,
                        mode,
                        &calls,
                        clock.now_naive(),
                    )?)
                })
                .await?;
            return Err(match e {
                PspError::NotSupported(_) => ServiceError::Conflict("service.cancel.not_supported"),
                PspError::Refused(_) => ServiceError::Conflict("service.cancel.refused"),
                _ => ServiceError::Conflict("acquirer.unreachable"),
            });
        }
    }
    let clock = env.clock.clone();
    env.db
        .write(move |conn| {
            let now = clock.now_naive();
            store::record_calls(conn, shop, Some(id), service, mode, &journal.calls, now)?;
            store::ended(conn, id, RequestStatus::Cancelled, "cancelled by the merchant", None, None, now)?;
            audit_entry(conn, &scope, "payment_request.cancelled", format!("payment_request:{id}"), &r.public_id, now)
        })
        .await
}
