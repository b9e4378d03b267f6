//! The language of a buyer's page: the one the buyer switched to on this link (`?lang=`,
//! then kept in a cookie scoped to the link), else the order's, else the browser's.

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};

use crate::services::checkout::Link;
use crate::web::i18n::Lang;

pub const COOKIE: &str = "paylink_pay_lang";

/// The language a `?lang=` query asks for, if it names one of the five.
pub fn asked(req: &HttpRequest) -> Option<Lang> {
    let query = req.query_string();
    query.split('&').find_map(|pair| pair.strip_prefix("lang=")).and_then(Lang::parse)
}

/// The language of `link`'s pages for this request.
pub fn of_link(req: &HttpRequest, link: &Link) -> Lang {
    asked(req)
        .or_else(|| req.cookie(COOKIE).and_then(|c| Lang::parse(c.value())))
        .or_else(|| Lang::parse(link.language()))
        .unwrap_or_else(|| Lang::buyer_of(req))
}

/// The cookie that keeps the buyer's choice on this link's pages, and on them only.
pub fn keep(lang: Lang, token: &str, secure: bool) -> Cookie<'static> {
    Cookie::build(COOKIE, lang.code())
        .path(format!("/t/{token}"))
        .secure(secure)
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::days(1))
        .finish()
}

/// One entry of the switch: each language in its own name, the current one marked.
#[derive(Clone)]
pub struct Choice {
    pub code: &'static str,
    pub name: &'static str,
    pub href: String,
    pub current: bool,
}

pub fn choices(link: &str, current: Lang) -> Vec<Choice> {
    Lang::ALL
        .into_iter()
        .map(|l| Choice {
            code: l.code(),
            name: l.name(),
            href: format!("{link}?lang={}", l.code()),
            current: l == current,
        })
        .collect()
}
