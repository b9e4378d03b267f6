//! Users of the company: admins create them, set their role and shops, reset passwords and
//! unlock accounts. Everything here is for admins only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::{render, render_status, see_other};
use crate::domain::FieldError;
use crate::domain::ids::{ShopId, UserId};
use crate::domain::shop::Shop;
use crate::domain::user::{NewUser, RawUser, Role, User, is_email};
use crate::services::user_admin::{self, Change, UserSummary};
use crate::services::users::RightsChange;
use crate::services::{ServiceError, ServiceResult};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms::{CsrfForm, Pairs};
use crate::web::i18n::Tr;
use crate::web::present;
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users", web::post().to(create))
        .route("/users/new", web::get().to(new_form))
        .route("/users/{id}", web::get().to(edit_form))
        .route("/users/{id}", web::post().to(update))
        .route("/users/{id}/reset-password", web::post().to(reset_password))
        .route("/users/{id}/unlock", web::post().to(unlock));
}

pub struct UserLine {
    pub id: i64,
    pub login: String,
    pub full_name: String,
    pub email: String,
    pub role: &'static str,
    pub can_test: bool,
    pub locked: bool,
    pub first_login_pending: bool,
    pub shops: String,
    pub last_login: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/users.html")]
struct ListPage {
    t: Tr,
    shell: Shell,
    users: Vec<UserLine>,
}

async fn list(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let t = tr(&req);
    let users = user_admin::list(&state.env.db, staff.user.company_id).await?;
    let tz = staff.shop.settings.time_zone;
    let users = users.into_iter().map(|u| line(&t, tz, u)).collect();
    render(&ListPage { t, shell: Shell::new(&req, &staff, "users"), users })
}

fn line(t: &Tr, tz: chrono_tz::Tz, UserSummary { user: u, shops }: UserSummary) -> UserLine {
    UserLine {
        id: u.id.0,
        login: u.login.clone(),
        full_name: u.full_name.clone(),
        email: u.email.clone(),
        role: role_key(u.role),
        can_test: u.can_test,
        locked: u.is_locked(),
        first_login_pending: u.password_is_temporary,
        shops: shops.map_or_else(|| t.get("users.all_shops").to_string(), |labels| labels.join(", ")),
        // In the shop's zone and the user's language, like every date of the back office.
        last_login: u.last_login_at.map(|d| present::local_datetime(d, tz, present::french(t))),
    }
}

pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Admin => "role.admin",
        Role::Manager => "role.manager",
        Role::Viewer => "role.viewer",
    }
}

pub struct ShopBox {
    pub id: i64,
    pub label: String,
    pub checked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/user_form.html")]
struct FormPage {
    t: Tr,
    shell: Shell,
    /// None: creating a user.
    user_id: Option<i64>,
    login: String,
    locked: bool,
    form: RawUser,
    shops: Vec<ShopBox>,
    errors: Vec<FieldError>,
    notice: Option<&'static str>,
    /// A temporary password just generated, shown once.
    temporary_password: Option<String>,
    roles: &'static [Role],
}

impl FormPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        present::field_error(&self.t, &self.errors, field)
    }

    fn role_label(&self, role: &Role) -> &'static str {
        self.t.get(role_key(*role))
    }

    fn can_test_checked(&self) -> bool {
        self.form.can_test.as_deref().is_some_and(|v| v == "on" || v == "true")
    }
}

fn shop_boxes(all: &[Shop], checked: &[ShopId]) -> Vec<ShopBox> {
    all.iter()
        .map(|s| ShopBox { id: s.id.0, label: s.settings.label.clone(), checked: checked.contains(&s.id) })
        .collect()
}

impl FormPage {
    /// The form of `user` (None: a new one) as `form` gives it, over the company's shops.
    fn new(req: &HttpRequest, staff: &Staff, user: Option<&User>, form: RawUser, shops: Vec<ShopBox>) -> Self {
        FormPage {
            t: tr(req),
            shell: Shell::new(req, staff, "users"),
            user_id: user.map(|u| u.id.0),
            login: user.map(|u| u.login.clone()).unwrap_or_default(),
            locked: user.is_some_and(User::is_locked),
            form,
            shops,
            errors: Vec::new(),
            notice: None,
            temporary_password: None,
            roles: Role::ALL,
        }
    }

    /// The form again, 422, with the refusals next to their fields.
    fn refused(mut self, errors: Vec<FieldError>) -> Result<HttpResponse, AppError> {
        self.errors = errors;
        render_status(&self, StatusCode::UNPROCESSABLE_ENTITY)
    }
}

/// Reads the form's fields, the repeated `shops` checkboxes included.
fn read_form(pairs: &Pairs) -> (RawUser, Vec<ShopId>, bool) {
    let mut raw = RawUser::default();
    let mut shop_ids = Vec::new();
    let mut bad_shop = false;
    for (k, v) in pairs {
        match k.as_str() {
            "login" => raw.login = v.clone(),
            "email" => raw.email = v.clone(),
            "full_name" => raw.full_name = v.clone(),
            "role" => raw.role = v.clone(),
            "can_test" => raw.can_test = Some(v.clone()),
            "first_login_code" => raw.first_login_code = v.clone(),
            "shops" => match v.parse::<i64>() {
                Ok(id) => shop_ids.push(ShopId(id)),
                Err(_) => bad_shop = true,
            },
            _ => {}
        }
    }
    (raw, shop_ids, bad_shop)
}

async fn new_form(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let all = user_admin::company_shops(&state.env.db, staff.user.company_id).await?;
    let form = RawUser { role: "viewer".into(), ..Default::default() };
    render(&FormPage::new(&req, &staff, None, form, shop_boxes(&all, &[staff.shop.id])))
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let (raw, shop_ids, bad_shop) = read_form(&pairs);
    let all = user_admin::company_shops(&state.env.db, staff.user.company_id).await?;
    let page = FormPage::new(&req, &staff, None, raw.clone(), shop_boxes(&all, &shop_ids));
    if bad_shop {
        return page.refused(vec![FieldError::new("shops", "user.shops.invalid")]);
    }
    let new = match NewUser::parse(&raw) {
        Ok(n) => n,
        Err(errors) => return page.refused(errors),
    };
    let (id, temporary) =
        match user_admin::create(&state.env.db, &state.env.clock, &staff.actor(&req), new, shop_ids).await {
            Ok(v) => v,
            Err(ServiceError::Invalid(errors)) => return page.refused(errors),
            Err(e) => return Err(e.into()),
        };
    show_user(&req, &state, &staff, id, Some(temporary), Some("users.created")).await
}

async fn show_user(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: UserId,
    temporary_password: Option<String>,
    notice: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let (user, ids, all) = user_admin::find(&state.env.db, staff.user.company_id, id).await?;
    let form = RawUser {
        login: user.login.clone(),
        email: user.email.clone(),
        full_name: user.full_name.clone(),
        role: user.role.as_str().to_string(),
        can_test: user.can_test.then(|| "on".to_string()),
        first_login_code: String::new(),
    };
    let mut page = FormPage::new(req, staff, Some(&user), form, shop_boxes(&all, &ids));
    page.notice = notice.map(|k| page.t.get(k));
    page.temporary_password = temporary_password;
    render(&page)
}

#[derive(serde::Deserialize)]
struct EditQuery {
    m: Option<String>,
}

async fn edit_form(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    q: web::Query<EditQuery>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let notice = match q.m.as_deref() {
        Some("saved") => Some("users.saved"),
        Some("unlocked") => Some("users.unlocked"),
        _ => None,
    };
    show_user(&req, &state, &staff, UserId(*id), None, notice).await
}

/// The rights typed in the form, or the fields refused.
fn rights_change(raw: &RawUser, shops: Vec<ShopId>, bad_shop: bool) -> Result<RightsChange, Vec<FieldError>> {
    let mut errors = Vec::new();
    if bad_shop {
        errors.push(FieldError::new("shops", "user.shops.invalid"));
    }
    let email = raw.email.trim().to_string();
    if !is_email(&email) {
        errors.push(FieldError::new("email", "field.email.invalid"));
    }
    if raw.full_name.trim().chars().count() > 80 {
        errors.push(FieldError::new("full_name", "field.too_long"));
    }
    let role = Role::parse(&raw.role);
    if role.is_none() {
        errors.push(FieldError::new("role", "field.choice.invalid"));
    }
    match role {
        Some(role) if errors.is_empty() => Ok(RightsChange {
            email,
            full_name: raw.full_name.trim().to_string(),
            role,
            can_test: raw.can_test.as_deref().is_some_and(|v| v == "on" || v == "true"),
            shops,
        }),
        _ => Err(errors),
    }
}

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let id = UserId(*id);
    let (raw, shop_ids, bad_shop) = read_form(&pairs);
    let result: ServiceResult<Option<String>> = match rights_change(&raw, shop_ids.clone(), bad_shop) {
        Ok(rights) => {
            user_admin::change(&state.env.db, &state.env.clock, &staff.actor(&req), id, Change::Rights(rights)).await
        }
        Err(errors) => Err(ServiceError::Invalid(errors)),
    };
    let errors = match result {
        Ok(_) => return Ok(see_other(&format!("/users/{}?m=saved", id.0))),
        Err(e) => present::invalid(e)?,
    };
    let (user, _, all) = user_admin::find(&state.env.db, staff.user.company_id, id).await?;
    let form = RawUser { login: user.login.clone(), ..raw };
    FormPage::new(&req, &staff, Some(&user), form, shop_boxes(&all, &shop_ids)).refused(errors)
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let id = UserId(*id);
    let temporary =
        user_admin::change(&state.env.db, &state.env.clock, &staff.actor(&req), id, Change::ResetPassword).await?;
    show_user(&req, &state, &staff, id, temporary, Some("users.reset_done")).await
}

async fn unlock(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let id = UserId(*id);
    user_admin::change(&state.env.db, &state.env.clock, &staff.actor(&req), id, Change::Unlock).await?;
    Ok(see_other(&format!("/users/{}?m=unlocked", id.0)))
}
