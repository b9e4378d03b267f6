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
use crate::web::present::{self, Csv, french, local_datetime};
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

/// An entry as the page shows it: its time in the shop's zone, its action in words.
struct Line {
    when: String,
    /// The instant in UTC, for the curious (a title) and the search by action.
    utc: String,
    actor: String,
    ip: Option<String>,
    action: &'static str,
    code: String,
    target: String,
    detail: String,
}

/// What an audit action means, in the reader's language; an action written by a newer
/// version than this page knows shows its code.
fn action_label(t: &Tr, action: &str) -> Option<&'static str> {
    let key = match action.strip_prefix("transaction.") {
        Some(event) => format!("transactions.event.{event}"),
        None => format!("audit.action.{action}"),
    };
    t.has(&key).then(|| t.get(&key))
}

fn line(t: &Tr, tz: chrono_tz::Tz, r: AuditEntry) -> Line {
    Line {
        when: local_datetime(r.created_at, tz, french(t)),
        utc: r.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        actor: r.actor,
        ip: r.ip,
        action: action_label(t, &r.action).unwrap_or(""),
        code: r.action,
        target: r.target,
        detail: r.detail,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/audit.html")]
struct AuditPage {
    t: Tr,
    shell: Shell,
    /// The shop's zone, which the times are in.
    zone: String,
    rows: Vec<Line>,
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
    let (t, tz) = (tr(&req), staff.shop.settings.time_zone);
    render(&AuditPage {
        shell: Shell::new(&req, &staff, "audit"),
        zone: tz.name().to_string(),
        rows: listed.entries.into_iter().map(|r| line(&t, tz, r)).collect(),
        t,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Lang;

    /// The actions the services write to the log: the first quoted `area.word` of each call
    /// of their audit helpers (`log(`, `audit_entry(`) and of each `action: "…"`.
    fn written_actions() -> Vec<String> {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/services");
        let mut found = Vec::new();
        // Every source file under src/services, sub-modules' directories included.
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() { dirs.push(path) } else { files.push(path) }
            }
        }
        for path in files {
            let source = std::fs::read_to_string(path).unwrap();
            for marker in ["log(", "audit_entry(", "action: \""] {
                for (at, _) in source.match_indices(marker) {
                    let call = &source[at..(at + 300).min(source.len())];
                    let quoted = call.split('"').nth(1).unwrap_or_default();
                    let code = quoted.split_once('.').is_some_and(|(a, w)| {
                        !a.is_empty() && a.chars().all(|c| c.is_ascii_lowercase()) && !w.contains(['{', ' '])
                    });
                    if code && !found.iter().any(|f| f == quoted) {
                        found.push(quoted.to_string());
                    }
                }
            }
        }
        found
    }

    #[test]
    fn every_action_the_services_log_reads_in_words_in_both_languages() {
        let actions = written_actions();
        assert!(actions.len() >= 25, "the scan finds the actions: {actions:?}");
        for lang in Lang::OFFICE {
            let t = Tr::new(lang);
            for a in &actions {
                assert!(action_label(&t, a).is_some(), "{a} has no label in {lang:?}");
            }
            for event in
                ["created", "validated", "captured", "capture_date_changed", "cancelled", "refunded", "expired"]
            {
                assert!(action_label(&t, &format!("transaction.{event}")).is_some(), "transaction.{event}");
            }
        }
        assert_eq!(action_label(&Tr::new(Lang::Fr), "login.succeeded"), Some("Connexion"));
        assert_eq!(action_label(&Tr::new(Lang::En), "transaction.refunded"), Some("Refund"));
        assert_eq!(action_label(&Tr::new(Lang::En), "future.thing"), None, "unknown: its code is shown");
    }
}
