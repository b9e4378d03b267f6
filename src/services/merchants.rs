//! Creating a merchant: company, first shop with its API keys, first admin user.

use serde::Serialize;

use super::{ServiceError, ServiceResult};
use crate::db::{Db, DbConn};
use crate::domain::FieldError;
use crate::domain::api_key::{ApiKey, Mode};
use crate::domain::clock::Clock;
use crate::domain::ids::{CompanyId, ShopId};
use crate::domain::password::{self, FirstLoginCode};
use crate::domain::shop::{OrderDefaults, ShopSettings, slugify};
use crate::domain::user::{Login, Role, is_email};
use crate::store::{self, audit, shops, users};

pub struct NewMerchant {
    pub company: String,
    pub shop: String,
    pub login: Login,
    pub email: String,
    pub first_login_code: FirstLoginCode,
}

impl NewMerchant {
    pub fn parse(company: &str, shop: &str, login: &str, email: &str, code: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        if company.trim().is_empty() {
            errors.push(FieldError::new("company", "field.required"));
        }
        if shop.trim().is_empty() {
            errors.push(FieldError::new("shop", "field.required"));
        }
        let login = Login::parse(login).map_err(|e| errors.push(e)).ok();
        if !is_email(email.trim()) {
            errors.push(FieldError::new("email", "field.email.invalid"));
        }
        let code = FirstLoginCode::parse(code).map_err(|c| errors.push(FieldError::new("first_login_code", c))).ok();
        match (login, code) {
            (Some(login), Some(first_login_code)) if errors.is_empty() => Ok(NewMerchant {
                company: company.trim().to_string(),
                shop: shop.trim().to_string(),
                login,
                email: email.trim().to_string(),
                first_login_code,
            }),
            _ => Err(errors),
        }
    }
}

/// What `paylink create-merchant` prints: the only time the password and keys are shown.
#[derive(Debug, Serialize)]
pub struct CreatedMerchant {
    pub company_id: CompanyId,
    pub shop_id: ShopId,
    pub login: String,
    pub temporary_password: String,
    pub test_api_key: String,
    pub production_api_key: String,
}

pub fn create(conn: &mut DbConn, clock: &dyn Clock, m: &NewMerchant) -> ServiceResult<CreatedMerchant> {
    let now = clock.now_naive();
    if users::login_taken(conn, m.login.as_str())? {
        return Err(ServiceError::field("login", "user.login.taken"));
    }
    let company_id = shops::insert_company(conn, &m.company, now)?;
    let settings = ShopSettings {
        label: m.shop.clone(),
        url: String::new(),
        contact_email: m.email.clone(),
        time_zone: chrono_tz::Europe::Paris,
        defaults: OrderDefaults::default(),
    };
    let slug = free_slug(conn, &slugify(&m.shop))?;
    let test_key = ApiKey::generate(Mode::Test);
    let production_key = ApiKey::generate(Mode::Production);
    let shop_id = shops::insert(
        conn,
        shops::NewShop {
            company_id,
            slug: &slug,
            settings: &settings,
            test_key: (test_key.hash(), test_key.hint()),
            production_key: (production_key.hash(), production_key.hint()),
        },
        now,
    )?;
    super::notify::default_rules(conn, shop_id, now)?;
    let temporary_password = password::temporary();
    let user_id = users::insert(
        conn,
        users::NewUserRow {
            company_id,
            login: m.login.as_str(),
            email: &m.email,
            full_name: "",
            role: Role::Admin,
            can_test: true,
            password_hash: &password::hash(&temporary_password),
            first_login_code_hash: &password::hash(m.first_login_code.expose()),
        },
        now,
    )?;
    users::set_shops(conn, user_id, &[shop_id])?;
    super::templates::preload(conn, clock, shop_id)?;
    let actor = audit::Actor { company_id: Some(company_id), ..audit::Actor::cli() };
    audit::append(
        conn,
        &actor,
        audit::Entry {
            shop_id: Some(shop_id),
            action: "merchant.created",
            target: &format!("user:{}", m.login.as_str()),
            detail: &format!("company \"{}\", shop \"{}\"", m.company, m.shop),
        },
        now,
    )?;
    Ok(CreatedMerchant {
        company_id,
        shop_id,
        login: m.login.as_str().to_string(),
        temporary_password,
        test_api_key: test_key.expose().to_string(),
        production_api_key: production_key.expose().to_string(),
    })
}

fn free_slug(conn: &mut DbConn, base: &str) -> ServiceResult<String> {
    let mut slug = base.to_string();
    let mut n = 2;
    while shops::slug_taken(conn, &slug)? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    Ok(slug)
}

/// The demo merchant created on an empty database, with its first-login code.
pub const DEMO_FIRST_LOGIN_CODE: &str = "2468";

/// On an empty database, creates the demo merchant and returns it; otherwise nothing.
pub fn ensure_demo(db: &Db, clock: &dyn Clock) -> ServiceResult<Option<CreatedMerchant>> {
    db.write_blocking(|conn| {
        if store::users::count(conn)? > 0 {
            return Ok(None);
        }
        let demo = NewMerchant::parse("Demo Company", "Demo Shop", "demo", "demo@example.com", DEMO_FIRST_LOGIN_CODE)
            .expect("demo merchant is valid");
        create(conn, clock, &demo).map(Some)
    })
}
