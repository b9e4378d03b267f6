//! What the audit log page reads: a company's entries, newest first, by keyset pages, and
//! its CSV export page by page. Each read is a read transaction of its own.

use chrono::NaiveDateTime;
use futures_util::Stream;

use super::export::{self, EXPORT_PAGE};
use super::{ServiceError, ServiceResult};
use crate::db::Db;
use crate::domain::ids::{AuditId, CompanyId};
use crate::store::audit::{self as store, AuditFilter, AuditRow};

/// A search of the log: an action prefix (`login.`), an actor, where the page starts.
#[derive(Debug, Clone, Default)]
pub struct AuditSearch {
    pub action_prefix: Option<String>,
    pub actor: Option<String>,
    /// Entries older than this one, or the newest.
    pub before: Option<AuditId>,
}

/// An entry of the log as the page shows it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub shop_id: Option<i64>,
    pub actor: String,
    pub ip: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            shop_id: r.shop_id,
            actor: r.actor,
            ip: r.ip,
            action: r.action,
            target: r.target,
            detail: r.detail,
            created_at: r.created_at,
        }
    }
}

/// A page of the log and where the next (older) one starts.
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub older: Option<AuditId>,
}

async fn page(db: &Db, company: CompanyId, search: AuditSearch, limit: i64) -> ServiceResult<AuditPage> {
    db.read(move |conn| {
        let filter = AuditFilter { action_prefix: search.action_prefix, actor: search.actor, before: search.before };
        let mut rows = store::page(conn, company, &filter, limit + 1)?;
        let older = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|r| AuditId(r.id))
        } else {
            None
        };
        Ok::<_, ServiceError>(AuditPage { entries: rows.into_iter().map(AuditEntry::from).collect(), older })
    })
    .await
}

/// One page of a company's log, newest first.
pub async fn list(db: &Db, company: CompanyId, search: AuditSearch, limit: i64) -> ServiceResult<AuditPage> {
    page(db, company, search, limit).await
}

/// The pages of the export of a search, from its newest entry, read [`EXPORT_PAGE`] at a
/// time.
pub async fn export(
    db: &Db,
    company: CompanyId,
    search: AuditSearch,
) -> ServiceResult<impl Stream<Item = ServiceResult<Vec<AuditEntry>>> + 'static> {
    let read = {
        let db = db.clone();
        move |before: Option<AuditId>| {
            let (db, search) = (db.clone(), AuditSearch { before, ..search.clone() });
            async move {
                let p = page(&db, company, search, EXPORT_PAGE).await?;
                Ok((p.entries, p.older))
            }
        }
    };
    let first = read(None).await?;
    Ok(export::pages(first, move |before| read(Some(before))))
}
