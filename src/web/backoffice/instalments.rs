//! The shop's instalment settings (`/settings/instalments`, DESIGN §4). Everyone may look;
//! administrators and managers change them. The example line is the schedule a buyer would
//! see for 100.00 paid today, from the settings as stored.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::{render, render_status, see_other};
use crate::domain::FieldError;
use crate::domain::instalments::{InstalmentSettings, RawInstalmentSettings, schedule};
use crate::domain::money::{Currency, Money};
use crate::domain::order::{format_date, local_today};
use crate::services::instalments as service;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::{Lang, Tr};
use crate::web::present::{field_error, invalid};
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings/instalments", web::get().to(show)).route("/settings/instalments", web::post().to(save));
}

/// The amount of the example, 100.00 in minor units.
const EXAMPLE_TOTAL: i64 = 10_000;

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/instalments.html")]
struct InstalmentsPage {
    t: Tr,
    shell: Shell,
    form: RawInstalmentSettings,
    errors: Vec<FieldError>,
    can_edit: bool,
    /// The example of the settings stored: its lead and each instalment.
    example: (String, Vec<String>),
}

impl InstalmentsPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        field_error(&self.t, &self.errors, field)
    }
}

fn decimal_separator(t: &Tr) -> char {
    if t.lang == Lang::Fr { ',' } else { '.' }
}

/// `100.00` as the page's language writes it, without a currency: the shop has none.
fn amount(t: &Tr, minor: i64) -> String {
    Money { minor, currency: Currency::EUR }.decimal(decimal_separator(t))
}

/// "Example for 100.00 in 3:" and "33.33 today", "33.33 on …", "33.34 on …".
fn example(t: &Tr, s: &InstalmentSettings, state: &AppState, staff: &Staff) -> (String, Vec<String>) {
    let today = local_today(state.env.clock.now(), staff.shop.settings.time_zone);
    let parts = schedule(EXAMPLE_TOTAL, s.max_count, s.first_share_percent, s.interval, today)
        .iter()
        .map(|p| match p.index {
            1 => t.args("instalments.example_today", &[("amount", amount(t, p.amount).into())]),
            _ => t.args(
                "instalments.example_on",
                &[("amount", amount(t, p.amount).into()), ("date", format_date(p.due_on, t.lang).into())],
            ),
        })
        .collect();
    let lead =
        t.args("instalments.example", &[("total", amount(t, EXAMPLE_TOTAL).into()), ("count", s.max_count.into())]);
    (lead, parts)
}

async fn page(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    form: Option<RawInstalmentSettings>,
) -> Result<InstalmentsPage, AppError> {
    let stored = service::settings(&state.env.db, staff.shop.id).await?;
    let t = tr(req);
    Ok(InstalmentsPage {
        example: example(&t, &stored, state, staff),
        form: form.unwrap_or_else(|| RawInstalmentSettings::of(&stored, decimal_separator(&t))),
        t,
        shell: Shell::new(req, staff, "settings"),
        errors: Vec::new(),
        can_edit: staff.can_write(),
    })
}

async fn show(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    render(&page(&req, &state, &staff, None).await?)
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<RawInstalmentSettings>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let actor = staff.actor(&req);
    match service::save(&state.env.db, &state.env.clock, &actor, staff.shop.id, form.clone()).await {
        Ok(_) => {
            flash::set(&staff.session, Flash::new("instalments.saved"));
            Ok(see_other("/settings/instalments"))
        }
        Err(e) => {
            let errors = invalid(e)?;
            let mut p = page(&req, &state, &staff, Some(form)).await?;
            p.errors = errors;
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
