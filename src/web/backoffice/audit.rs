//! The audit log page (newest first, keyset pages) and its CSV export, streamed, both read
//! through `services::audit_reads`. Admins only: it spans every shop of the company.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use futures_util::StreamExt;
use serde::Deserialize;

use super::render;
use crate::domain::ids::AuditId;
use crate::services::audit_reads::{self, AuditEntry, AuditSearch};
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{self, Csv};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

const PAGE: i64 = 50;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(page)).route("/audit.csv", web::get().to(export));
}

#[derive(Deserialize, Default)]
struct Query {
    action: Option<String>,
    actor: Option<String>,
    before: Option<i64>,
}

impl Query {
    fn search(&self) -> AuditSearch {
        let clean = |v: &Option<String>| {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(64).collect())
        };
        AuditSearch { action_prefix: clean(&self.action), actor: clean(&self.actor), before: self.before.map(AuditId) }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/audit.html")]
struct AuditPage {
    t: Tr,
    shell: Shell,
    rows: Vec<AuditEntry>,
    action: String,
    actor: String,
    older: Option<String>,
    export: String,
}

async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let filter = q.search();
    let listed = audit_reads::list(&state.env.db, staff.user.company_id, filter.clone(), PAGE).await?;
    let params = |before: Option<i64>| {
        let mut p = Vec::new();
        if let Some(a) = &filter.action_prefix {
            p.push(format!("action={}", urlencode(a)));
        }
        if let Some(a) = &filter.actor {
            p.push(format!("actor={}", urlencode(a)));
        }
        if let Some(b) = before {
            p.push(format!("before={b}"));
        }
        p.join("&")
    };
    render(&AuditPage {
        t: tr(&req),
        shell: Shell::new(&req, &staff, "audit"),
        rows: listed.entries,
        older: listed.older.map(|id| format!("/audit?{}", params(Some(id.0)))),
        action: filter.action_prefix.clone().unwrap_or_default(),
        actor: filter.actor.clone().unwrap_or_default(),
        export: format!("/audit.csv?{}", params(None)),
    })
}

async fn export(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let search = AuditSearch { before: None, ..q.search() };
    let pages = audit_reads::export(&state.env.db, staff.user.company_id, search).await?;
    let csv = Csv::new(Lang::of(&req));
    let body = pages.map(move |page| csv.lines(page?.into_iter().map(export_record)));
    Ok(present::csv_download("paylink-audit.csv", csv.head(&EXPORT_HEADER)?, body))
}

const EXPORT_HEADER: [&str; 8] = ["id", "created_at_utc", "actor", "ip", "shop_id", "action", "target", "detail"];

/// An entry as a line of the export (its instant in UTC, as the log keeps it).
fn export_record(r: AuditEntry) -> [String; 8] {
    [
        r.id.to_string(),
        r.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        r.actor,
        r.ip.unwrap_or_default(),
        r.shop_id.map(|s| s.to_string()).unwrap_or_default(),
        r.action,
        r.target,
        r.detail,
    ]
}
