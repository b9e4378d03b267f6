//! The language of a request: the `paylink_lang` cookie (set by the switcher and kept a
//! year), else Accept-Language, else French. The catalogue itself is `crate::i18n`.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload};

pub use crate::i18n::{Lang, Tr};

pub const LANG_COOKIE: &str = "paylink_lang";

impl Lang {
    /// The back-office language `req` asks for: French or English.
    pub fn of(req: &HttpRequest) -> Lang {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Lang::parse_office(c.value()))
            .or_else(|| {
                req.headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Fr)
    }
}

impl Lang {
    /// The language of a buyer's page that has no order to decide: any of the five, from
    /// the switch's cookie, else Accept-Language, else French.
    pub fn buyer_of(req: &HttpRequest) -> Lang {
        req.cookie(LANG_COOKIE)
            .and_then(|c| Lang::parse(c.value()))
            .or_else(|| {
                req.headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|h| Lang::from_accept_language_among(h, &Lang::ALL))
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
