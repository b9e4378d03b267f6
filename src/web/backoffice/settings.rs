//! Shop settings (identity and payment-order defaults) and API keys.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::{render, render_status, see_other};

use crate::domain::FieldError;
use crate::domain::api_key::Mode;
use crate::domain::logo;
use crate::domain::shop::{RawShopSettings, ShopSettings, ThreeDsPreference, ValidationMode};
use crate::services::{ServiceError, shops};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::flash::{self, Flash};
use crate::web::forms::{self, CsrfForm};
use crate::web::i18n::Tr;
use crate::web::session::Staff;
use crate::web::shell::{Shell, tr};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(|| async { see_other("/settings/shop") }))
        .route("/settings/shop", web::get().to(show))
        .route("/settings/shop", web::post().to(save))
        .route("/settings/keys/{mode}", web::post().to(regenerate_key))
        .route("/settings/shop/logo", web::post().to(upload_logo))
        .route("/settings/shop/logo/delete", web::post().to(remove_logo));
}

#[derive(Template, WebTemplate)]
#[template(path = "backoffice/settings.html")]
struct SettingsPage {
    t: Tr,
    shell: Shell,
    shop_id: i64,
    slug: String,
    form: RawShopSettings,
    errors: Vec<FieldError>,
    can_edit: bool,
    can_manage_keys: bool,
    test_key_hint: String,
    production_key_hint: String,
    new_key: Option<(String, String)>,
    time_zones: Vec<&'static str>,
    logo: Option<String>,
    validation_modes: &'static [ValidationMode],
    three_ds_choices: &'static [ThreeDsPreference],
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&'static str> {
        self.errors.iter().find(|e| e.field == field).map(|e| self.t.get(e.code))
    }

    fn validation_label(&self, m: &ValidationMode) -> &'static str {
        match m {
            ValidationMode::Auto => self.t.get("validation.AUTO"),
            ValidationMode::Manual => self.t.get("validation.MANUAL"),
        }
    }

    fn three_ds_label(&self, p: &ThreeDsPreference) -> &'static str {
        match p {
            ThreeDsPreference::NoPreference => self.t.get("three_ds.NO_PREFERENCE"),
            ThreeDsPreference::Frictionless => self.t.get("three_ds.FRICTIONLESS"),
            ThreeDsPreference::Challenge => self.t.get("three_ds.CHALLENGE"),
        }
    }

    fn reference_checked(&self) -> bool {
        self.form.reference_mandatory.as_deref().is_some_and(|v| v == "on" || v == "true")
    }
}

fn raw_of(s: &ShopSettings) -> RawShopSettings {
    RawShopSettings {
        label: s.label.clone(),
        url: s.url.clone(),
        contact_email: s.contact_email.clone(),
        time_zone: s.time_zone.name().to_string(),
        validity_days: s.defaults.validity_days.to_string(),
        reference_mandatory: s.defaults.reference_mandatory.then(|| "on".to_string()),
        validation_mode: s.defaults.validation_mode.as_str().to_string(),
        capture_delay_days: s.defaults.capture_delay_days.to_string(),
        three_ds: s.defaults.three_ds.as_str().to_string(),
    }
}

fn page(req: &HttpRequest, staff: &Staff, form: RawShopSettings) -> SettingsPage {
    SettingsPage {
        t: tr(req),
        shell: Shell::new(req, staff, "settings"),
        shop_id: staff.shop.id.0,
        slug: staff.shop.slug.clone(),
        form,
        errors: Vec::new(),
        can_edit: staff.can_write(),
        can_manage_keys: staff.user.role.is_admin(),
        test_key_hint: staff.shop.test_key_hint.clone(),
        production_key_hint: staff.shop.production_key_hint.clone(),
        new_key: None,
        logo: None,
        time_zones: chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect(),
        validation_modes: ValidationMode::ALL,
        three_ds_choices: ThreeDsPreference::ALL,
    }
}

async fn show(req: HttpRequest, state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, AppError> {
    let mut p = page(&req, &staff, raw_of(&staff.shop.settings));
    p.logo = shops::logo_href(&state.env.db, staff.shop.id).await?;
    render(&p)
}

async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(form): CsrfForm<RawShopSettings>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let settings = match ShopSettings::parse(&form) {
        Ok(s) => s,
        Err(errors) => {
            let mut p = page(&req, &staff, form);
            p.errors = errors;
            return render_status(&p, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let clock = state.env.clock.clone();
    let actor = staff.actor(&req);
    let shop = staff.shop.id;
    state.env.db.write(move |conn| shops::update_settings(conn, clock.as_ref(), &actor, shop, &settings)).await?;
    flash::set(&staff.session, Flash::new("settings.saved"));
    Ok(see_other("/settings/shop"))
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn regenerate_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    mode: web::Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_admin()?;
    let mode = match mode.as_str() {
        "test" => Mode::Test,
        "production" => Mode::Production,
        _ => return Err(AppError::NotFound),
    };
    let clock = state.env.clock.clone();
    let actor = staff.actor(&req);
    let shop = staff.shop.id;
    let key =
        state.env.db.write(move |conn| shops::regenerate_key(conn, clock.as_ref(), &actor, shop, mode)).await.map_err(
            |e| match e {
                ServiceError::NotFound => AppError::NotFound,
                other => other.into(),
            },
        )?;
    let mut p = page(&req, &staff, raw_of(&staff.shop.settings));
    let hint = key[key.len() - 4..].to_string();
    match mode {
        Mode::Test => p.test_key_hint = hint,
        Mode::Production => p.production_key_hint = hint,
    }
    p.new_key = Some((mode.as_str().to_string(), key));
    render(&p)
}

/// `POST /settings/shop/logo` (multipart: `csrf_token`, `logo`): PNG, JPEG or SVG, at most
/// 200 KB, read from its bytes; an SVG is rebuilt safe (domain::logo).
async fn upload_logo(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    payload: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let upload = forms::Upload::read(payload, "logo", logo::MAX_BYTES).await;
    forms::verify(&req, &state, upload.csrf.as_deref())?;
    if upload.broken {
        return Err(AppError::BadRequest("logo"));
    }
    let file = upload.file;
    staff.require_write()?;
    let logo = match logo::parse(&file) {
        Ok(logo) => logo,
        Err(e) => {
            let mut p = page(&req, &staff, raw_of(&staff.shop.settings));
            p.logo = shops::logo_href(&state.env.db, staff.shop.id).await?;
            p.errors = vec![FieldError { field: "logo", code: e.code() }];
            return render_status(&p, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let clock = state.env.clock.clone();
    let actor = staff.actor(&req);
    let shop = staff.shop.id;
    state.env.db.write(move |conn| shops::set_logo(conn, clock.as_ref(), &actor, shop, &logo)).await?;
    flash::set(&staff.session, Flash::new("logo.saved"));
    Ok(see_other("/settings/shop"))
}

async fn remove_logo(
    req: HttpRequest,
    state: web::Data<AppState>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<HttpResponse, AppError> {
    staff.require_write()?;
    let clock = state.env.clock.clone();
    let actor = staff.actor(&req);
    let shop = staff.shop.id;
    state.env.db.write(move |conn| shops::remove_logo(conn, clock.as_ref(), &actor, shop)).await?;
    flash::set(&staff.session, Flash::new("logo.removed"));
    Ok(see_other("/settings/shop"))
}
