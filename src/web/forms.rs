//! `CsrfForm<T>`: a URL-encoded form whose `csrf_token` was checked before the handler runs.
//! Every back-office POST takes one, so no form can forget the check.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::AppState;
use super::error::AppError;
use super::security::{CSRF_FIELD, CsrfSeed};

pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct TokenOnly {
    csrf_token: Option<String>,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = AppError;
    type Future = LocalBoxFuture<'static, Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let seed = req.extensions().get::<CsrfSeed>().filter(|s| s.from_cookie).map(|s| s.value.clone());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let is_form = req.content_type() == "application/x-www-form-urlencoded";
        Box::pin(async move {
            let body = body.await.map_err(|_| AppError::BadRequest("body"))?;
            let state = state.ok_or_else(|| AppError::internal("no app state"))?;
            let token: TokenOnly = serde_urlencoded::from_bytes(&body).unwrap_or(TokenOnly { csrf_token: None });
            if !state.csrf.verify(seed.as_deref(), token.csrf_token.as_deref()) {
                return Err(AppError::Csrf);
            }
            if !is_form {
                return Err(AppError::BadRequest("content type"));
            }
            serde_urlencoded::from_bytes::<T>(&body).map(CsrfForm).map_err(|_| AppError::BadRequest(CSRF_FIELD))
        })
    }
}

/// A form's values parsed as (name, value) pairs, for repeated fields such as checkboxes.
pub type Pairs = Vec<(String, String)>;

/// The token a page embeds in its forms.
pub fn token(req: &HttpRequest) -> String {
    let seed = req.extensions().get::<CsrfSeed>().map(|s| s.value.clone()).unwrap_or_default();
    req.app_data::<web::Data<AppState>>().map(|s| s.csrf.token_for(&seed)).unwrap_or_default()
}
