use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::{user_shops, users};
use crate::domain::ids::{CompanyId, ShopId, UserId};
use crate::domain::user::Role;
pub use crate::domain::user::User;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: i64,
    company_id: i64,
    login: String,
    email: String,
    full_name: String,
    role: String,
    can_test: bool,
    password_hash: String,
    password_is_temporary: bool,
    first_login_code_hash: String,
    failed_logins: i32,
    locked_at: Option<NaiveDateTime>,
    last_login_at: Option<NaiveDateTime>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            company_id: CompanyId(r.company_id),
            login: r.login,
            email: r.email,
            full_name: r.full_name,
            // An unknown role in the database grants the least.
            role: Role::parse(&r.role).unwrap_or(Role::Viewer),
            can_test: r.can_test,
            password_hash: r.password_hash,
            password_is_temporary: r.password_is_temporary,
            first_login_code_hash: r.first_login_code_hash,
            failed_logins: r.failed_logins,
            locked_at: r.locked_at,
            last_login_at: r.last_login_at,
        }
    }
}

pub struct NewUserRow<'a> {
    pub company_id: CompanyId,
    pub login: &'a str,
    pub email: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    pub can_test: bool,
    pub password_hash: &'a str,
    pub first_login_code_hash: &'a str,
}

pub fn insert(conn: &mut DbConn, u: NewUserRow<'_>, now: NaiveDateTime) -> QueryResult<UserId> {
    diesel::insert_into(users::table)
        .values((
            users::company_id.eq(u.company_id.0),
            users::login.eq(u.login),
            users::email.eq(u.email),
            users::full_name.eq(u.full_name),
            users::role.eq(u.role.as_str()),
            users::can_test.eq(u.can_test),
            users::password_hash.eq(u.password_hash),
            users::password_is_temporary.eq(true),
            users::first_login_code_hash.eq(u.first_login_code_hash),
            users::failed_logins.eq(0),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .returning(users::id)
        .get_result(conn)
        .map(UserId)
}

pub fn login_taken(conn: &mut DbConn, login: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(users::table.filter(users::login.eq(login)))).get_result(conn)
}

pub fn find_by_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::login.eq(login))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(User::from))
}

pub fn get(conn: &mut DbConn, id: UserId) -> QueryResult<Option<User>> {
    users::table.find(id.0).select(UserRow::as_select()).first(conn).optional().map(|r| r.map(User::from))
}

/// A user of this company, or nothing: the tenant filter lives here, not in the handler.
pub fn find_in_company(conn: &mut DbConn, company: CompanyId, id: UserId) -> QueryResult<Option<User>> {
    users::table
        .filter(users::id.eq(id.0).and(users::company_id.eq(company.0)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(User::from))
}

pub fn list_for_company(conn: &mut DbConn, company: CompanyId) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::company_id.eq(company.0))
        .order(users::login)
        .select(UserRow::as_select())
        .load(conn)
        .map(|rows| rows.into_iter().map(User::from).collect())
}

/// Ways a user row changes, named by intent.
pub enum UserUpdate<'a> {
    FailedLogin { failed_logins: i32, lock: bool },
    LoggedIn,
    PasswordChanged { hash: &'a str },
    PasswordReset { hash: &'a str },
    Unlocked,
    Profile { email: &'a str, full_name: &'a str, role: Role, can_test: bool },
}

pub fn apply(conn: &mut DbConn, id: UserId, update: UserUpdate<'_>, now: NaiveDateTime) -> QueryResult<usize> {
    let target = users::table.find(id.0);
    match update {
        UserUpdate::FailedLogin { failed_logins, lock } => diesel::update(target)
            .set((
                users::failed_logins.eq(failed_logins),
                users::locked_at.eq(if lock { Some(now) } else { None }),
                users::updated_at.eq(now),
            ))
            .execute(conn),
        UserUpdate::LoggedIn => {
            diesel::update(target).set((users::failed_logins.eq(0), users::last_login_at.eq(now))).execute(conn)
        }
        UserUpdate::PasswordChanged { hash } => diesel::update(target)
            .set((
                users::password_hash.eq(hash),
                users::password_is_temporary.eq(false),
                users::failed_logins.eq(0),
                users::updated_at.eq(now),
            ))
            .execute(conn),
        UserUpdate::PasswordReset { hash } => diesel::update(target)
            .set((
                users::password_hash.eq(hash),
                users::password_is_temporary.eq(true),
                users::failed_logins.eq(0),
                users::locked_at.eq(None::<NaiveDateTime>),
                users::updated_at.eq(now),
            ))
            .execute(conn),
        UserUpdate::Unlocked => diesel::update(target)
            .set((users::failed_logins.eq(0), users::locked_at.eq(None::<NaiveDateTime>), users::updated_at.eq(now)))
            .execute(conn),
        UserUpdate::Profile { email, full_name, role, can_test } => diesel::update(target)
            .set((
                users::email.eq(email),
                users::full_name.eq(full_name),
                users::role.eq(role.as_str()),
                users::can_test.eq(can_test),
                users::updated_at.eq(now),
            ))
            .execute(conn),
    }
}

pub fn set_shops(conn: &mut DbConn, user: UserId, shops: &[ShopId]) -> QueryResult<()> {
    diesel::delete(user_shops::table.filter(user_shops::user_id.eq(user.0))).execute(conn)?;
    // Row by row: multi-row inserts do not compile through the MultiConnection enum.
    for shop in shops {
        diesel::insert_into(user_shops::table)
            .values((user_shops::user_id.eq(user.0), user_shops::shop_id.eq(shop.0)))
            .execute(conn)?;
    }
    Ok(())
}

pub fn shop_ids(conn: &mut DbConn, user: UserId) -> QueryResult<Vec<ShopId>> {
    user_shops::table
        .filter(user_shops::user_id.eq(user.0))
        .order(user_shops::shop_id)
        .select(user_shops::shop_id)
        .load::<i64>(conn)
        .map(|ids| ids.into_iter().map(ShopId).collect())
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// The columns a user chose for the orders list (comma-separated keys), if any.
pub fn orders_columns(conn: &mut DbConn, id: UserId) -> QueryResult<Option<String>> {
    users::table.find(id.0).select(users::orders_columns).first::<Option<String>>(conn).optional().map(Option::flatten)
}

/// Remembers the columns a user chose for the orders list.
pub fn set_orders_columns(conn: &mut DbConn, id: UserId, columns: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0)).set(users::orders_columns.eq(Some(columns))).execute(conn)
}
