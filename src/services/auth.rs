//! Merchant login as Systempay does it: password, then (after a temporary password) the
//! first-login code the merchant chose at sign-up, then a mandatory new password. Five failed
//! attempts, password or code, lock the account until an admin unlocks it.

use super::{ServiceError, ServiceResult};
use crate::db::DbConn;
use crate::domain::clock::Clock;
use crate::domain::ids::UserId;
use crate::domain::password::{self, NewPassword, PolicyError};
use crate::domain::user::{FailureOutcome, Login, register_failure};
use crate::store::audit::{self, Actor, Entry};
use crate::store::users::{self, User, UserUpdate};
use crate::store::{sessions, shops};

#[derive(Debug)]
pub enum LoginOutcome {
    /// Password right and permanent: the session opens.
    LoggedIn(User),
    /// Password right but temporary: the first-login code comes next.
    NeedsFirstLoginCode(User),
    /// Unknown login or wrong password (not told apart).
    Refused { remaining: Option<i32> },
    /// The account is locked (now or before).
    Locked,
}

fn actor_for(user: &User, ip: Option<&str>) -> Actor {
    Actor {
        company_id: Some(user.company_id),
        user_id: Some(user.id),
        name: user.login.clone(),
        ip: ip.map(str::to_string),
    }
}

fn log(
    conn: &mut DbConn,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: &str,
    clock: &dyn Clock,
) -> ServiceResult<()> {
    audit::append(conn, actor, Entry { shop_id: None, action, target, detail }, clock.now_naive())?;
    Ok(())
}

/// Counts a failure against `user`, locking at the fifth.
fn fail(
    conn: &mut DbConn,
    clock: &dyn Clock,
    user: &User,
    ip: Option<&str>,
    what: &str,
) -> ServiceResult<LoginOutcome> {
    let (failed, outcome) = register_failure(user.failed_logins);
    let lock = outcome == FailureOutcome::Locked;
    users::apply(conn, user.id, UserUpdate::FailedLogin { failed_logins: failed, lock }, clock.now_naive())?;
    let actor = actor_for(user, ip);
    let target = format!("user:{}", user.login);
    log(conn, &actor, "login.failed", &target, &format!("{what} ({failed}/5)"), clock)?;
    if lock {
        sessions::delete_for_user(conn, user.id)?;
        log(conn, &actor, "login.locked", &target, "5 failed attempts", clock)?;
        return Ok(LoginOutcome::Locked);
    }
    match outcome {
        FailureOutcome::Counted { remaining } => Ok(LoginOutcome::Refused { remaining: Some(remaining) }),
        FailureOutcome::Locked => Ok(LoginOutcome::Locked),
    }
}

/// [`login`] in its own transaction.
pub async fn log_in(
    db: &crate::db::Db,
    clock: crate::domain::clock::SharedClock,
    login: String,
    pw: String,
    ip: Option<String>,
) -> ServiceResult<LoginOutcome> {
    db.write(move |conn| self::login(conn, clock.as_ref(), &login, &pw, ip.as_deref())).await
}

/// A password change as typed: the current one (None at first login), the new one twice.
pub struct TypedPasswords {
    pub current: Option<String>,
    pub new: String,
    pub confirm: String,
}

/// [`change_password`] in its own transaction.
pub async fn set_password(
    db: &crate::db::Db,
    clock: crate::domain::clock::SharedClock,
    user: UserId,
    typed: TypedPasswords,
    ip: Option<String>,
) -> ServiceResult<PasswordChange> {
    db.write(move |conn| {
        let current = typed.current.as_deref();
        change_password(conn, clock.as_ref(), user, current, &typed.new, &typed.confirm, ip.as_deref())
    })
    .await
}

pub fn login(
    conn: &mut DbConn,
    clock: &dyn Clock,
    raw_login: &str,
    pw: &str,
    ip: Option<&str>,
) -> ServiceResult<LoginOutcome> {
    let user = match Login::parse(raw_login) {
        Ok(login) => users::find_by_login(conn, login.as_str())?,
        Err(_) => None,
    };
    let Some(user) = user else {
        // Same cost as a real check, so timing does not reveal which logins exist; and the
        // same count of failures, so the fifth answers "locked" as it does for an account.
        password::verify(pw, password::dummy_hash());
        let name: String = raw_login.trim().to_lowercase().chars().take(64).collect();
        let actor = Actor { company_id: None, user_id: None, name, ip: ip.map(str::to_string) };
        let before = audit::unknown_login_failures(conn, &actor.name)?;
        log(conn, &actor, "login.failed", audit::UNKNOWN_LOGIN, "unknown login", clock)?;
        let (_, outcome) = register_failure(i32::try_from(before).unwrap_or(i32::MAX));
        return Ok(match outcome {
            FailureOutcome::Locked => LoginOutcome::Locked,
            FailureOutcome::Counted { .. } => LoginOutcome::Refused { remaining: None },
        });
    };
    if user.is_locked() {
        password::verify(pw, password::dummy_hash());
        log(
            conn,
            &actor_for(&user, ip),
            "login.refused_locked",
            &format!("user:{}", user.login),
            "account locked",
            clock,
        )?;
        return Ok(LoginOutcome::Locked);
    }
    if !password::verify(pw, &user.password_hash) {
        return fail(conn, clock, &user, ip, "wrong password");
    }
    users::apply(conn, user.id, UserUpdate::LoggedIn, clock.now_naive())?;
    if user.password_is_temporary {
        log(
            conn,
            &actor_for(&user, ip),
            "login.password_ok",
            &format!("user:{}", user.login),
            "temporary password, first-login code asked",
            clock,
        )?;
        return Ok(LoginOutcome::NeedsFirstLoginCode(user));
    }
    log(conn, &actor_for(&user, ip), "login.succeeded", &format!("user:{}", user.login), "", clock)?;
    Ok(LoginOutcome::LoggedIn(user))
}

#[derive(Debug)]
pub enum CodeOutcome {
    Accepted(User),
    Refused { remaining: i32 },
    Locked,
}

pub fn check_first_login_code(
    conn: &mut DbConn,
    clock: &dyn Clock,
    user_id: UserId,
    code: &str,
    ip: Option<&str>,
) -> ServiceResult<CodeOutcome> {
    let user = users::get(conn, user_id)?.ok_or(ServiceError::NotFound)?;
    if user.is_locked() {
        return Ok(CodeOutcome::Locked);
    }
    if !password::verify(code.trim(), &user.first_login_code_hash) {
        return Ok(match fail(conn, clock, &user, ip, "wrong first-login code")? {
            LoginOutcome::Refused { remaining: Some(remaining) } => CodeOutcome::Refused { remaining },
            _ => CodeOutcome::Locked,
        });
    }
    users::apply(conn, user.id, UserUpdate::LoggedIn, clock.now_naive())?;
    log(conn, &actor_for(&user, ip), "login.first_login_code_ok", &format!("user:{}", user.login), "", clock)?;
    Ok(CodeOutcome::Accepted(user))
}

/// Words a password must not lean on: the login, the e-mail's parts, the company's name.
pub fn password_context(conn: &mut DbConn, user: &User) -> ServiceResult<Vec<String>> {
    let mut words = vec![user.login.clone(), "paylink".to_string()];
    words.extend(user.email.split(['@', '.']).filter(|w| w.len() > 2).map(str::to_string));
    words.extend(user.full_name.split_whitespace().map(str::to_string));
    words.push(shops::company_name(conn, user.company_id)?);
    Ok(words)
}

#[derive(Debug)]
pub enum PasswordChange {
    Changed(User),
    Refused(PolicyError),
    WrongCurrent,
}

/// Sets a new password. `current` is asked on the account page, not after the first-login
/// code (the temporary password was just typed).
pub fn change_password(
    conn: &mut DbConn,
    clock: &dyn Clock,
    user_id: UserId,
    current: Option<&str>,
    new: &str,
    confirm: &str,
    ip: Option<&str>,
) -> ServiceResult<PasswordChange> {
    let user = users::get(conn, user_id)?.ok_or(ServiceError::NotFound)?;
    if let Some(current) = current
        && !password::verify(current, &user.password_hash)
    {
        return Ok(PasswordChange::WrongCurrent);
    }
    let context = password_context(conn, &user)?;
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    let new = match NewPassword::parse(new, confirm, &context) {
        Ok(p) => p,
        Err(e) => return Ok(PasswordChange::Refused(e)),
    };
    if password::verify(new.expose(), &user.password_hash) {
        return Ok(PasswordChange::Refused(PolicyError::SameAsCurrent));
    }
    users::apply(
        conn,
        user.id,
        UserUpdate::PasswordChanged { hash: &password::hash(new.expose()) },
        clock.now_naive(),
    )?;
    log(conn, &actor_for(&user, ip), "user.password_changed", &format!("user:{}", user.login), "", clock)?;
    let user = users::get(conn, user_id)?.ok_or(ServiceError::NotFound)?;
    Ok(PasswordChange::Changed(user))
}

/// Logs out the user `user_id` (still signed in, or gone meanwhile: nothing to record).
pub async fn log_out(
    db: &crate::db::Db,
    clock: crate::domain::clock::SharedClock,
    user_id: crate::domain::ids::UserId,
    ip: Option<String>,
) -> ServiceResult<()> {
    db.write(move |conn| match crate::store::users::get(conn, user_id)? {
        Some(user) => logout(conn, clock.as_ref(), &user, ip.as_deref()),
        None => Ok(()),
    })
    .await
}

pub fn logout(conn: &mut DbConn, clock: &dyn Clock, user: &User, ip: Option<&str>) -> ServiceResult<()> {
    log(conn, &actor_for(user, ip), "logout", &format!("user:{}", user.login), "", clock)
}
