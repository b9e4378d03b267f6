//! Users of a company, managed by its admins (and by the CLI for an operator).

use super::{ServiceError, ServiceResult};
use crate::db::DbConn;
use crate::domain::clock::Clock;
use crate::domain::ids::{ShopId, UserId};
use crate::domain::password;
use crate::domain::user::{Login, NewUser, Role};
use crate::store::audit::{self, Actor, Entry};
use crate::store::users::{self, User, UserUpdate};
use crate::store::{sessions, shops};

/// Shop ids typed in a form, kept to the company's own shops: anything else is refused.
fn own_shops(conn: &mut DbConn, actor: &Actor, wanted: &[ShopId]) -> ServiceResult<Vec<ShopId>> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    let owned: Vec<ShopId> = shops::list_for_company(conn, company)?.into_iter().map(|s| s.id).collect();
    if wanted.iter().any(|id| !owned.contains(id)) {
        return Err(ServiceError::field("shops", "user.shops.invalid"));
    }
    let mut ids = wanted.to_vec();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn rights_text(role: Role, can_test: bool, shops: &[ShopId]) -> String {
    let shops: Vec<String> = shops.iter().map(ToString::to_string).collect();
    format!("role={role}, test_orders={can_test}, shops=[{}]", shops.join(","))
}

/// Creates a user with a temporary password (returned, shown once to the admin).
pub fn create(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    new: &NewUser,
    shop_ids: &[ShopId],
) -> ServiceResult<(UserId, String)> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    let shop_ids = own_shops(conn, actor, shop_ids)?;
    if shop_ids.is_empty() && new.role != Role::Admin {
        return Err(ServiceError::field("shops", "user.shops.required"));
    }
    if users::login_taken(conn, new.login.as_str())? {
        return Err(ServiceError::field("login", "user.login.taken"));
    }
    let now = clock.now_naive();
    let temporary = password::temporary();
    let id = users::insert(
        conn,
        users::NewUserRow {
            company_id: company,
            login: new.login.as_str(),
            email: &new.email,
            full_name: &new.full_name,
            role: new.role,
            can_test: new.can_test,
            password_hash: &password::hash(&temporary),
            first_login_code_hash: &password::hash(new.first_login_code.expose()),
        },
        now,
    )?;
    users::set_shops(conn, id, &shop_ids)?;
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: None,
            action: "user.created",
            target: &format!("user:{}", new.login.as_str()),
            detail: &rights_text(new.role, new.can_test, &shop_ids),
        },
        now,
    )?;
    Ok((id, temporary))
}

pub struct RightsChange {
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub can_test: bool,
    pub shops: Vec<ShopId>,
}

pub fn update(
    conn: &mut DbConn,
    clock: &dyn Clock,
    actor: &Actor,
    id: UserId,
    change: &RightsChange,
) -> ServiceResult<()> {
    let company = actor.company_id.ok_or(ServiceError::Forbidden)?;
    let user = users::find_in_company(conn, company, id)?.ok_or(ServiceError::NotFound)?;
    if actor.user_id == Some(id) && change.role != Role::Admin {
        // An admin cannot demote themself: a company must keep someone able to manage it.
        return Err(ServiceError::field("role", "user.role.self_demotion"));
    }
    let shop_ids = own_shops(conn, actor, &change.shops)?;
    let shops_before = users::shop_ids(conn, id)?;
    if shop_ids.is_empty() && change.role != Role::Admin {
        return Err(ServiceError::field("shops", "user.shops.required"));
    }
    let now = clock.now_naive();
    users::apply(
        conn,
        id,
        UserUpdate::Profile {
            email: &change.email,
            full_name: &change.full_name,
            role: change.role,
            can_test: change.can_test,
        },
        now,
    )?;
    users::set_shops(conn, id, &shop_ids)?;
    audit::append(
        conn,
        actor,
        Entry {
            shop_id: None,
            action: "user.updated",
            target: &format!("user:{}", user.login),
            detail: &format!(
                "before: {}; after: {}",
                rights_text(user.role, user.can_test, &shops_before),
                rights_text(change.role, change.can_test, &shop_ids)
            ),
        },
        now,
    )?;
    Ok(())
}

/// Finds the user an operation targets: within the actor's company, or anywhere for the CLI.
fn target(conn: &mut DbConn, actor: &Actor, login: &str) -> ServiceResult<User> {
    let login = Login::parse(login).map_err(|_| ServiceError::NotFound)?;
    let user = users::find_by_login(conn, login.as_str())?.ok_or(ServiceError::NotFound)?;
    match actor.company_id {
        Some(company) if company != user.company_id => Err(ServiceError::NotFound),
        _ => Ok(user),
    }
}

/// A new temporary password; the next login asks for the first-login code again (seed 003)
/// and every open session of the user ends.
pub fn reset_password(conn: &mut DbConn, clock: &dyn Clock, actor: &Actor, login: &str) -> ServiceResult<String> {
    let user = target(conn, actor, login)?;
    let temporary = password::temporary();
    let now = clock.now_naive();
    users::apply(conn, user.id, UserUpdate::PasswordReset { hash: &password::hash(&temporary) }, now)?;
    sessions::delete_for_user(conn, user.id)?;
    let actor = Actor { company_id: Some(user.company_id), ..actor.clone() };
    audit::append(
        conn,
        &actor,
        Entry {
            shop_id: None,
            action: "user.password_reset",
            target: &format!("user:{}", user.login),
            detail: "new temporary password",
        },
        now,
    )?;
    Ok(temporary)
}

pub fn unlock(conn: &mut DbConn, clock: &dyn Clock, actor: &Actor, login: &str) -> ServiceResult<()> {
    let user = target(conn, actor, login)?;
    let now = clock.now_naive();
    users::apply(conn, user.id, UserUpdate::Unlocked, now)?;
    let actor = Actor { company_id: Some(user.company_id), ..actor.clone() };
    audit::append(
        conn,
        &actor,
        Entry {
            shop_id: None,
            action: "user.unlocked",
            target: &format!("user:{}", user.login),
            detail: if user.is_locked() { "was locked" } else { "was not locked" },
        },
        now,
    )?;
    Ok(())
}
