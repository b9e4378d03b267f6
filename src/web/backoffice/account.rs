//! The signed-in user's own account: password change.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;

use super::{render, render_status, see_other};
use crate::domain::password::PolicyError;
use crate::services::auth::{self, PasswordChange, TypedPasswords};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::CsrfForm;
use crate::web::i18n::Tr;
use crate::web::security::client_ip;
use crate::web::session::{self, Staff, Stage};
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/account", web::get().to(show)).route("/account/password", web::post().to(change));
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/account.html")]
struct AccountPage {
    t: Tr,
    shell: Shell,
    login: String,
    email: String,
    role: &'static str,
    error_current: Option<&'static str>,
    error_new: Option<&'static str>,
    error_confirm: Option<&'static str>,
}

fn page(req: &HttpRequest, staff: &Staff) -> AccountPage {
    AccountPage {
        t: tr(req),
        shell: Shell::new(req, staff, "account"),
        login: staff.user.login.clone(),
        email: staff.user.email.clone(),
        role: super::users::role_key(staff.user.role),
        error_current: None,
        error_new: None,
        error_confirm: None,
    }
}

async fn show(req: HttpRequest, staff: Staff) -> Result<HttpResponse, AppError> {
    render(&page(&req, &staff))
}

#[derive(Deserialize)]
struct ChangeForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn change(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<ChangeForm>,
) -> Result<HttpResponse, AppError> {
    let asked =
        TypedPasswords { current: Some(form.current_password), new: form.new_password, confirm: form.confirm_password };
    let (env, ip) = (state.env(), client_ip(&req));
    let outcome = auth::set_password(&env.db, env.clock, staff.user.id, asked, ip).await?;
    let mut p = page(&req, &staff);
    match outcome {
        PasswordChange::Changed(user) => {
            // A new session id after a credential change.
            session::begin(&staff.session, user.id, Stage::In)?;
            flash::set(&staff.session, Flash::new("login.password_changed"));
            Ok(see_other("/account"))
        }
        PasswordChange::WrongCurrent => {
            p.error_current = Some(p.t.get("newpw.current_wrong"));
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
        PasswordChange::Refused(e) => {
            let message = Some(p.t.get(e.code()));
            if e == PolicyError::Mismatch {
                p.error_confirm = message;
            } else {
                p.error_new = message;
            }
            render_status(&p, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
