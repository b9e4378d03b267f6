//! The audit log page (newest first, keyset pages) and its CSV export. Admins only: it spans
//! every shop of the company.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::render;
use crate::db::DbError;
use crate::domain::ids::AuditId;
use crate::store::audit::{self, AuditFilter, AuditRow};
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::i18n::{Lang, Tr};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

const PAGE: i64 = 50;
/// An export is bounded so that one click cannot hold the database for minutes.
const EXPORT_MAX: i64 = 100_000;

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
    fn filter(&self) -> AuditFilter {
        let clean = |v: &Option<String>| {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(64).collect())
        };
        AuditFilter { action_prefix: clean(&self.action), actor: clean(&self.actor), before: self.before.map(AuditId) }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/audit.html")]
struct AuditPage {
    t: Tr,
    shell: Shell,
    rows: Vec<AuditRow>,
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
    let filter = q.filter();
    let company = staff.user.company_id;
    let f = filter.clone();
    let mut rows = state.db.read(move |conn| audit::page(conn, company, &f, PAGE + 1).map_err(DbError::from)).await?;
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
    let older = if rows.len() as i64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| format!("/audit?{}", params(Some(r.id))))
    } else {
        None
    };
    render(&AuditPage {
        t: tr(&req),
        shell: Shell::new(&req, &staff, "audit"),
        rows,
        action: filter.action_prefix.clone().unwrap_or_default(),
        actor: filter.actor.clone().unwrap_or_default(),
        older,
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
    let filter = AuditFilter { before: None, ..q.filter() };
    let company = staff.user.company_id;
    let rows =
        state.db.read(move |conn| audit::page(conn, company, &filter, EXPORT_MAX).map_err(DbError::from)).await?;
    let lang = Lang::of(&req);
    // French spreadsheets expect `;` and a BOM to read UTF-8.
    let delimiter = if lang == Lang::Fr { b';' } else { b',' };
    let mut out = Vec::from("\u{feff}".as_bytes());
    {
        let mut w = csv::WriterBuilder::new().delimiter(delimiter).from_writer(&mut out);
        w.write_record(["id", "created_at_utc", "actor", "ip", "shop_id", "action", "target", "detail"])
            .map_err(AppError::internal)?;
        for r in rows {
            w.write_record([
                r.id.to_string(),
                r.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                r.actor,
                r.ip.unwrap_or_default(),
                r.shop_id.map(|s| s.to_string()).unwrap_or_default(),
                r.action,
                r.target,
                r.detail,
            ])
            .map_err(AppError::internal)?;
        }
        w.flush().map_err(AppError::internal)?;
    }
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"paylink-audit.csv\""))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(out))
}
