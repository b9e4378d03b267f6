//! Back-office users: roles, rights, login names, lockout.

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::FieldError;
use super::ids::{CompanyId, UserId};
use super::shop::text_enum;

/// Failed attempts (password or first-login code) after which an account locks.
pub const MAX_FAILED_LOGINS: i32 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Manager,
    Admin,
}

text_enum!(Role { Viewer = "viewer", Manager = "manager", Admin = "admin" });

impl Role {
    /// Managers and admins change shop data; viewers only look.
    pub fn can_write(self) -> bool {
        self >= Role::Manager
    }

    /// Admins manage users, keys and shop settings for the whole company.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

/// What one failed attempt does to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Still open; this many attempts remain before it locks.
    Counted { remaining: i32 },
    /// This attempt locked the account.
    Locked,
}

pub fn register_failure(failed_so_far: i32) -> (i32, FailureOutcome) {
    let failed = failed_so_far.saturating_add(1);
    if failed >= MAX_FAILED_LOGINS {
        (failed, FailureOutcome::Locked)
    } else {
        (failed, FailureOutcome::Counted { remaining: MAX_FAILED_LOGINS - failed })
    }
}

/// A login name: 3–64 characters, letters, digits, `.`, `-`, `_`, `@`; case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let login = raw.trim().to_lowercase();
        let ok = (3..=64).contains(&login.chars().count())
            && login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
        if ok { Ok(Login(login)) } else { Err(FieldError::new("login", "user.login.invalid")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub use super::text::is_email;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawUser {
    #[serde(default)]
    pub login: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub full_name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub can_test: Option<String>,
    #[serde(default)]
    pub first_login_code: String,
}

/// A new user as parsed from the form; shop rights are checked by the service, which knows
/// which shops belong to the company.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub login: Login,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub can_test: bool,
    pub first_login_code: super::password::FirstLoginCode,
}

impl NewUser {
    pub fn parse(raw: &RawUser) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let login = Login::parse(&raw.login).map_err(|e| errors.push(e)).ok();
        let email = raw.email.trim().to_string();
        if !is_email(&email) {
            errors.push(FieldError::new("email", "field.email.invalid"));
        }
        let full_name = raw.full_name.trim().to_string();
        if full_name.chars().count() > 80 {
            errors.push(FieldError::new("full_name", "field.too_long"));
        }
        let role = Role::parse(&raw.role);
        if role.is_none() {
            errors.push(FieldError::new("role", "field.choice.invalid"));
        }
        let code = super::password::FirstLoginCode::parse(&raw.first_login_code)
            .map_err(|code| errors.push(FieldError::new("first_login_code", code)))
            .ok();
        match (login, role, code) {
            (Some(login), Some(role), Some(first_login_code)) if errors.is_empty() => Ok(NewUser {
                login,
                email,
                full_name,
                role,
                can_test: raw.can_test.as_deref().is_some_and(|v| v == "on" || v == "true"),
                first_login_code,
            }),
            _ => Err(errors),
        }
    }
}

/// A back-office user as stored.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub company_id: CompanyId,
    pub login: String,
    pub email: String,
    pub full_name: String,
    pub role: Role,
    pub can_test: bool,
    pub password_hash: String,
    pub password_is_temporary: bool,
    pub first_login_code_hash: String,
    pub failed_logins: i32,
    pub locked_at: Option<NaiveDateTime>,
    pub last_login_at: Option<NaiveDateTime>,
}

impl User {
    pub fn is_locked(&self) -> bool {
        self.locked_at.is_some()
    }

    pub fn display_name(&self) -> &str {
        if self.full_name.is_empty() { &self.login } else { &self.full_name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_page_announces_the_real_lockout() {
        // `login.refused` says "five failures" in both languages.
        assert_eq!(MAX_FAILED_LOGINS, 5);
    }

    #[test]
    fn the_fifth_failure_locks() {
        let mut failed = 0;
        for expected_remaining in [4, 3, 2, 1] {
            let (n, outcome) = register_failure(failed);
            assert_eq!(outcome, FailureOutcome::Counted { remaining: expected_remaining });
            failed = n;
        }
        assert_eq!(register_failure(failed), (5, FailureOutcome::Locked));
        assert_eq!(register_failure(i32::MAX).1, FailureOutcome::Locked);
    }

    #[test]
    fn roles_order_rights() {
        assert!(!Role::Viewer.can_write());
        assert!(Role::Manager.can_write() && !Role::Manager.is_admin());
        assert!(Role::Admin.can_write() && Role::Admin.is_admin());
        assert_eq!(Role::parse("admin"), Some(Role::Admin));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn logins_are_normalised_and_checked() {
        assert_eq!(Login::parse(" Jean.Dupont ").unwrap().as_str(), "jean.dupont");
        assert!(Login::parse("ab").is_err());
        assert!(Login::parse("jean dupont").is_err());
        assert!(Login::parse("jean<script>").is_err());
    }

    #[test]
    fn new_users_report_each_bad_field() {
        let errs = NewUser::parse(&RawUser {
            login: "x".into(),
            email: "not-an-email".into(),
            role: "god".into(),
            first_login_code: "1".into(),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["login", "email", "role", "first_login_code"]);
        let ok = NewUser::parse(&RawUser {
            login: "marie".into(),
            email: "marie@example.com".into(),
            role: "viewer".into(),
            can_test: Some("on".into()),
            first_login_code: "2468".into(),
            ..Default::default()
        })
        .unwrap();
        assert!(ok.can_test);
        assert_eq!(ok.role, Role::Viewer);
    }
}
