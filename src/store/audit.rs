//! The append-only audit log (the database refuses UPDATE and DELETE on it).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::QueryResult;
use crate::db::DbConn;
use crate::db::schema::audit_log;
pub use crate::domain::actor::Actor;
use crate::domain::ids::{AuditId, CompanyId, ShopId};

pub struct Entry<'a> {
    pub shop_id: Option<ShopId>,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
}

pub fn append(conn: &mut DbConn, actor: &Actor, entry: Entry<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::company_id.eq(actor.company_id.map(|c| c.0)),
            audit_log::shop_id.eq(entry.shop_id.map(|s| s.0)),
            audit_log::user_id.eq(actor.user_id.map(|u| u.0)),
            audit_log::actor.eq(&actor.name),
            audit_log::ip.eq(actor.ip.as_deref()),
            audit_log::action.eq(entry.action),
            audit_log::target.eq(entry.target),
            audit_log::detail.eq(entry.detail),
            audit_log::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Failed logins recorded for `name`, a login that belongs to no account.
pub fn unknown_login_failures(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    audit_log::table
        .filter(audit_log::target.eq(UNKNOWN_LOGIN))
        .filter(audit_log::actor.eq(name))
        .filter(audit_log::action.eq("login.failed"))
        .count()
        .get_result(conn)
}

/// The target of an entry about a login that belongs to no account.
pub const UNKNOWN_LOGIN: &str = "user:?";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub shop_id: Option<i64>,
    pub actor: String,
    pub ip: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action_prefix: Option<String>,
    pub actor: Option<String>,
    /// Keyset: entries older than this id.
    pub before: Option<AuditId>,
}

/// One page of a company's audit log, newest first, by keyset on the id.
///
/// On PostgreSQL, `company_id = $1 ORDER BY id DESC` walked the primary key backwards through
/// every newer entry of the other companies (a small company beside a big one: 300,000 rows
/// for 51). There the company is two bounds and first in the order, which only
/// `(company_id, id)` gives, and the cursor one row comparison the index seeks to ("Lists on
/// PostgreSQL" in `store`).
pub fn page(conn: &mut DbConn, company: CompanyId, filter: &AuditFilter, limit: i64) -> QueryResult<Vec<AuditRow>> {
    let postgres = matches!(conn, DbConn::Postgres(_));
    let mut q = audit_log::table.into_boxed();
    q = if postgres {
        postgres_keyset(q, company, filter.before)
    } else {
        q.filter(audit_log::company_id.eq(company.0))
    };
    if let Some(prefix) = &filter.action_prefix {
        q = q.filter(audit_log::action.like(format!("{}%", escape_like(prefix))).escape('\\'));
    }
    if let Some(actor) = &filter.actor {
        q = q.filter(audit_log::actor.eq(actor));
    }
    if let Some(before) = filter.before.filter(|_| !postgres) {
        q = q.filter(audit_log::id.lt(before.0));
    }
    q.then_order_by(audit_log::id.desc()).limit(limit).select(AuditRow::as_select()).load(conn)
}

type Boxed<'a> = audit_log::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

fn postgres_keyset(q: Boxed<'_>, company: CompanyId, before: Option<AuditId>) -> Boxed<'_> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool};
    let q = q.filter(audit_log::company_id.ge(company.0));
    let q = match before {
        None => q.filter(audit_log::company_id.le(company.0)),
        Some(b) => q.filter(
            sql::<Bool>("(audit_log.company_id, audit_log.id) < (")
                .bind::<BigInt, _>(company.0)
                .sql(", ")
                .bind::<BigInt, _>(b.0)
                .sql(")"),
        ),
    };
    q.order(audit_log::company_id.desc())
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
