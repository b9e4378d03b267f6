//! What every back-office page shows around its content: menu, shop switcher, TEST/PRODUCTION
//! switch, language switch, CSRF token.

use actix_web::HttpRequest;

use super::i18n::{Lang, Tr};
use super::session::Staff;
use super::{flash, forms};
use crate::domain::api_key::Mode;

pub struct ShopChoice {
    pub id: i64,
    pub label: String,
    pub current: bool,
}

pub struct Shell {
    pub csrf: String,
    pub active: &'static str,
    pub user_name: String,
    pub is_admin: bool,
    pub shops: Vec<ShopChoice>,
    pub shop_label: String,
    pub shop_id: i64,
    pub mode: &'static str,
    pub is_test: bool,
    pub can_test: bool,
    /// The current path, for the language switch to come back to.
    pub path: String,
    /// What the action that led here did, said once.
    pub flash: Option<String>,
}

impl Shell {
    pub fn new(req: &HttpRequest, staff: &Staff, active: &'static str) -> Self {
        Shell {
            csrf: forms::token(req),
            active,
            user_name: staff.user.display_name().to_string(),
            is_admin: staff.user.role.is_admin(),
            shops: staff
                .shops
                .iter()
                .map(|s| ShopChoice { id: s.id.0, label: s.settings.label.clone(), current: s.id == staff.shop.id })
                .collect(),
            shop_label: staff.shop.settings.label.clone(),
            shop_id: staff.shop.id.0,
            mode: staff.mode.as_str(),
            is_test: staff.mode == Mode::Test,
            can_test: staff.user.can_test,
            path: req.uri().path().to_string(),
            flash: flash::take(&staff.session, &Tr::new(Lang::of(req))),
        }
    }
}

/// What public pages (login steps, errors) need.
pub struct Public {
    pub csrf: String,
    pub path: String,
}

impl Public {
    pub fn new(req: &HttpRequest) -> Self {
        Public { csrf: forms::token(req), path: req.uri().path().to_string() }
    }
}

pub fn tr(req: &HttpRequest) -> Tr {
    Tr::new(Lang::of(req))
}
