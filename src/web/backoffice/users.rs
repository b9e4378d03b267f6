//! Users of the company: admins create them, set their role and shops, reset passwords and
//! unlock accounts. Everything here is for admins only.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::{render, render_status, see_other};
use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::ids::{ShopId, UserId};
use crate::domain::user::{NewUser, RawUser, Role, is_email};
use crate::services::{ServiceError, users as service};
use crate::store::{shops, users};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::forms::{CsrfForm, Pairs};
use crate::web::i18n::Tr;
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
    let company = staff.user.company_id;
    let t = tr(&req);
    let lines = state
        .db
        .read(move |conn| {
            let all_shops = shops::list_for_company(conn, company)?;
            let mut lines = Vec::new();
            for u in users::list_for_company(conn, company)? {
                let shop_names = if u.role == Role::Admin {
                    t.get("users.all_shops").to_string()
                } else {
                    let ids = users::shop_ids(conn, u.id)?;
                    all_shops
                        .iter()
                        .filter(|s| ids.contains(&s.id))
                        .map(|s| s.settings.label.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                lines.push(UserLine {
                    id: u.id.0,
                    login: u.login.clone(),
                    full_name: u.full_name.clone(),
                    email: u.email.clone(),
                    role: role_key(u.role),
                    can_test: u.can_test,
                    locked: u.is_locked(),
                    first_login_pending: u.password_is_temporary,
                    shops: shop_names,
                    last_login: u.last_login_at.map(|d| d.format("%Y-%m-%d %H:%M").to_string()),
                });
            }
            Ok::<_, DbError>(lines)
        })
        .await?;
    render(&ListPage { t, shell: Shell::new(&req, &staff, "users"), users: lines })
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
        self.errors.iter().find(|e| e.field == field).map(|e| self.t.get(e.code))
    }

    fn role_label(&self, role: &Role) -> &'static str {
        self.t.get(role_key(*role))
    }

    fn can_test_checked(&self) -> bool {
        self.form.can_test.as_deref().is_some_and(|v| v == "on" || v == "true")
    }
}

fn shop_boxes(staff: &Staff, all: &[shops::Shop], checked: &[ShopId]) -> Vec<ShopBox> {
    let _ = staff;
    all.iter()
        .map(|s| ShopBox { id: s.id.0, label: s.settings.label.clone(), checked: checked.contains(&s.id) })
        .collect()
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

async fn company_shops(state: &AppState, staff: &Staff) -> Result<Vec<shops::Shop>, AppError> {
    let company = staff.user.company_id;
    Ok(state.db.read(move |conn| shops::list_for_company(conn, company).map_err(DbError::from)).await?)
}

async fn new_form(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let all = company_shops(&state, &staff).await?;
    let form = RawUser { role: "viewer".into(), ..Default::default() };
    render(&FormPage {
        t: tr(&req),
        shell: Shell::new(&req, &staff, "users"),
        user_id: None,
        login: String::new(),
        locked: false,
        shops: shop_boxes(&staff, &all, &[staff.shop.id]),
        form,
        errors: Vec::new(),
        notice: None,
        temporary_password: None,
        roles: Role::ALL,
    })
}

async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let (raw, shop_ids, bad_shop) = read_form(&pairs);
    let all = company_shops(&state, &staff).await?;
    let redisplay = |errors: Vec<FieldError>| {
        render_status(
            &FormPage {
                t: tr(&req),
                shell: Shell::new(&req, &staff, "users"),
                user_id: None,
                login: String::new(),
                locked: false,
                shops: shop_boxes(&staff, &all, &shop_ids),
                form: raw.clone(),
                errors,
                notice: None,
                temporary_password: None,
                roles: Role::ALL,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if bad_shop {
        return redisplay(vec![FieldError::new("shops", "user.shops.invalid")]);
    }
    let new = match NewUser::parse(&raw) {
        Ok(n) => n,
        Err(errors) => return redisplay(errors),
    };
    let clock = state.clock.clone();
    let actor = staff.actor(&req);
    let ids = shop_ids.clone();
    let created = state.db.write(move |conn| service::create(conn, clock.as_ref(), &actor, &new, &ids)).await;
    let (id, temporary) = match created {
        Ok(v) => v,
        Err(ServiceError::Invalid(errors)) => return redisplay(errors),
        Err(e) => return Err(e.into()),
    };
    show_user(&req, &state, &staff, id, Some(temporary), Some("users.created")).await
}

async fn load_user(state: &AppState, staff: &Staff, id: UserId) -> Result<(users::User, Vec<ShopId>), AppError> {
    let company = staff.user.company_id;
    state
        .db
        .read(move |conn| {
            let Some(user) = users::find_in_company(conn, company, id)? else { return Ok(None) };
            let ids = users::shop_ids(conn, user.id)?;
            Ok::<_, DbError>(Some((user, ids)))
        })
        .await?
        .ok_or(AppError::NotFound)
}

async fn show_user(
    req: &HttpRequest,
    state: &AppState,
    staff: &Staff,
    id: UserId,
    temporary_password: Option<String>,
    notice: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let (user, ids) = load_user(state, staff, id).await?;
    let all = company_shops(state, staff).await?;
    let t = tr(req);
    render(&FormPage {
        t,
        shell: Shell::new(req, staff, "users"),
        user_id: Some(user.id.0),
        login: user.login.clone(),
        locked: user.is_locked(),
        shops: shop_boxes(staff, &all, &ids),
        form: RawUser {
            login: user.login.clone(),
            email: user.email.clone(),
            full_name: user.full_name.clone(),
            role: user.role.as_str().to_string(),
            can_test: user.can_test.then(|| "on".to_string()),
            first_login_code: String::new(),
        },
        errors: Vec::new(),
        notice: notice.map(|k| t.get(k)),
        temporary_password,
        roles: Role::ALL,
    })
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

async fn update(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i64>,
    CsrfForm(pairs): CsrfForm<Pairs>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let id = UserId(*id);
    let (user, _) = load_user(&state, &staff, id).await?;
    let (raw, shop_ids, bad_shop) = read_form(&pairs);
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
    let result = match role {
        Some(role) if errors.is_empty() => {
            let change = service::RightsChange {
                email,
                full_name: raw.full_name.trim().to_string(),
                role,
                can_test: raw.can_test.as_deref().is_some_and(|v| v == "on" || v == "true"),
                shops: shop_ids.clone(),
            };
            let clock = state.clock.clone();
            let actor = staff.actor(&req);
            state.db.write(move |conn| service::update(conn, clock.as_ref(), &actor, id, &change)).await
        }
        _ => Err(ServiceError::Invalid(errors)),
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/users/{}?m=saved", id.0))),
        Err(ServiceError::Invalid(errors)) => {
            let all = company_shops(&state, &staff).await?;
            render_status(
                &FormPage {
                    t: tr(&req),
                    shell: Shell::new(&req, &staff, "users"),
                    user_id: Some(id.0),
                    login: user.login.clone(),
                    locked: user.is_locked(),
                    shops: shop_boxes(&staff, &all, &shop_ids),
                    form: RawUser { login: user.login.clone(), ..raw },
                    errors,
                    notice: None,
                    temporary_password: None,
                    roles: Role::ALL,
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e.into()),
    }
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
    let (user, _) = load_user(&state, &staff, id).await?;
    let clock = state.clock.clone();
    let actor = staff.actor(&req);
    let login = user.login.clone();
    let temporary = state.db.write(move |conn| service::reset_password(conn, clock.as_ref(), &actor, &login)).await?;
    show_user(&req, &state, &staff, id, Some(temporary), Some("users.reset_done")).await
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
    let (user, _) = load_user(&state, &staff, id).await?;
    let clock = state.clock.clone();
    let actor = staff.actor(&req);
    let login = user.login.clone();
    state.db.write(move |conn| service::unlock(conn, clock.as_ref(), &actor, &login)).await?;
    Ok(see_other(&format!("/users/{}?m=unlocked", id.0)))
}
