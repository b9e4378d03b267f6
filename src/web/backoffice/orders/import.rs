//! Importing invoice orders from a CSV file (`/orders/import`, DESIGN §4): the upload form,
//! then the import's page. A small file's outcome shows at once: every order created, or the
//! list of faulty lines (line, column, reason) and nothing created. A large file is imported
//! by the worker: its page shows a progress bar and refreshes itself (no JavaScript needed)
//! until the outcome is known.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use crate::domain::ids::ImportId;
use crate::domain::import::{COLUMNS, ImportStatus};
use crate::services::imports::{self as service, Import};
use crate::web::AppState;
use crate::web::backoffice::{render, render_status, see_other};
use crate::web::error::AppError;
use crate::web::forms::{self, Upload};
use crate::web::i18n::Tr;
use crate::web::present::scope;
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

/// Seconds between two refreshes of a RUNNING import's page.
const REFRESH_SECONDS: u32 = 2;

/// One faulty line, in words.
pub struct Fault {
    pub line: usize,
    pub column: String,
    pub reason: &'static str,
}

pub struct ImportView {
    pub status: ImportStatus,
    pub total: i32,
    pub created: i32,
    /// "12 orders created", "3 faulty lines: nothing was created", "Importing 100,000 lines…"
    pub headline: String,
    /// "SHA-256 of the file: …" (as audited).
    pub fingerprint: String,
    pub faults: Vec<Fault>,
}

impl ImportView {
    fn new(t: &Tr, i: &Import) -> Self {
        let faults = i
            .errors
            .iter()
            .map(|e| Fault {
                line: e.line,
                column: if e.field == "file" { t.get("import.column_file").to_string() } else { e.field.clone() },
                reason: t.get(&e.code),
            })
            .collect();
        let headline = match i.status {
            ImportStatus::Running => t.args("import.running", &[("total", i.total.into())]),
            ImportStatus::Done => t.args("import.done", &[("created", i.created.into())]),
            ImportStatus::Failed => t.args("import.failed", &[("faults", i.errors.len().into())]),
        };
        ImportView {
            status: i.status,
            total: i.total,
            created: i.created,
            headline,
            fingerprint: t.args("import.fingerprint", &[("sha256", i.sha256.clone().into())]),
            faults,
        }
    }

    pub fn running(&self) -> bool {
        self.status == ImportStatus::Running
    }

    pub fn done(&self) -> bool {
        self.status == ImportStatus::Done
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/orders_import.html")]
struct ImportPage {
    t: Tr,
    shell: Shell,
    columns: &'static [&'static str],
    /// A refusal of the upload itself (no file, too large).
    refused: Option<&'static str>,
    import: Option<ImportView>,
    refresh: u32,
}

fn page(req: &HttpRequest, staff: &Staff, import: Option<&Import>) -> ImportPage {
    let t = tr(req);
    ImportPage {
        import: import.map(|i| ImportView::new(&t, i)),
        t,
        shell: Shell::new(req, staff, "orders"),
        columns: &COLUMNS,
        refused: None,
        refresh: REFRESH_SECONDS,
    }
}

/// `GET /orders/import`: the upload form.
pub async fn form(req: HttpRequest, staff: Staff) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    render(&page(&req, &staff, None))
}

/// `POST /orders/import` (multipart: `csrf_token`, `file`).
pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    payload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let upload = Upload::read(payload, "file", service::MAX_BYTES).await;
    forms::verify(&req, &state, upload.csrf.as_deref())?;
    if upload.broken {
        return Err(AppError::BadRequest("file"));
    }
    staff.require_write()?;
    let refused = if upload.file.is_empty() {
        Some("import.no_file")
    } else if upload.file.len() > service::MAX_BYTES {
        Some("import.too_large")
    } else {
        None
    };
    if let Some(code) = refused {
        let mut p = page(&req, &staff, None);
        p.refused = Some(p.t.get(code));
        return render_status(&p, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let import = service::submit(&state.env(), scope(&req, &staff, &state), upload.file).await?;
    Ok(see_other(&format!("/orders/import/{}", import.id)))
}

/// `GET /orders/import/{id}`: the outcome, or the progress of a large file.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = path.parse::<i64>().ok().filter(|id| *id > 0).map(ImportId).ok_or(AppError::NotFound)?;
    let import = service::find(&state.env(), staff.shop.id, staff.mode, id).await?;
    render(&page(&req, &staff, Some(&import)))
}
