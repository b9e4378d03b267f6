//! HTTP Basic `shop_id:api_key`. The key decides the mode: the shop's TEST key works in TEST,
//! its PRODUCTION key in PRODUCTION. Only SHA-256 hashes are stored; the presented key's hash
//! is compared with both, in constant time, whatever the outcome.

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use base64::Engine;
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::domain::actor::Actor;
use crate::domain::api_key::{Mode, hash_key};
use crate::domain::ids::ShopId;
use crate::domain::shop::Shop;
use crate::services::api::{self, Caller};
use crate::services::orders::OrderContext;
use crate::web::AppState;
use crate::web::security::{client_ip, constant_time_eq};

/// An authenticated API caller: one shop, in one mode.
#[derive(Debug, Clone)]
pub struct ApiClient {
    pub shop: Shop,
    pub mode: Mode,
    /// `api:<shop_id>` with the client's address, for the audit log.
    pub actor: Actor,
}

impl ApiClient {
    pub fn context<'a>(&'a self, public_url: &'a str) -> OrderContext<'a> {
        OrderContext { actor: &self.actor, shop: &self.shop, mode: self.mode, public_url }
    }

    /// The key's caller, owned, for the services that read in their own transaction.
    pub fn caller(&self, public_url: &str) -> Caller {
        Caller {
            actor: self.actor.clone(),
            shop: self.shop.clone(),
            mode: self.mode,
            public_url: public_url.to_string(),
        }
    }
}

/// `(shop id, key)` from an `Authorization: Basic …` header.
fn credentials(req: &HttpRequest) -> Option<(ShopId, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, key) = text.split_once(':')?;
    let shop = user.trim().parse::<i64>().ok().filter(|id| *id > 0)?;
    (!key.is_empty()).then(|| (ShopId(shop), key.to_string()))
}

impl FromRequest for ApiClient {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let credentials = credentials(req);
        let ip = client_ip(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("no app state"))?;
            let (shop_id, key) = credentials.ok_or(ApiError::Unauthorized)?;
            let presented = hash_key(&key);
            let found = api::keys_of(&state.env.db, shop_id).await?;
            let Some(keys) = found else {
                tracing::info!(shop.id = %shop_id, "API call for an unknown shop refused");
                return Err(ApiError::Unauthorized);
            };
            // Both comparisons run, so the timing tells nothing about which key was close.
            let is_test = constant_time_eq(presented.as_bytes(), keys.test_key_hash.as_bytes());
            let is_production = constant_time_eq(presented.as_bytes(), keys.production_key_hash.as_bytes());
            let mode = match (is_test, is_production) {
                (true, _) => Mode::Test,
                (false, true) => Mode::Production,
                (false, false) => {
                    tracing::info!(shop.id = %shop_id, "API call with a wrong key refused");
                    return Err(ApiError::Unauthorized);
                }
            };
            let actor =
                Actor { company_id: Some(keys.shop.company_id), user_id: None, name: format!("api:{shop_id}"), ip };
            Ok(ApiClient { shop: keys.shop, mode, actor })
        })
    }
}
