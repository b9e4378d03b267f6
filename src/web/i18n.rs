//! The language of a request: the `paylink_lang` cookie (set by the switcher and kept a
//! year), else Accept-Language, else French. The catalogue itself is `crate::i18n`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

pub use crate::i18n::{Lang, Tr};

pub const LANG_COOKIE: &str = "paylink_lang";

impl Lang {
    /// The language `req` asks for.
    pub fn of(req: &HttpRequest) -> Lang {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .or_else(|| {
                req.headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Fr)
    }
}

impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = Ready<Result<Lang, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang::of(req)))
    }
}
