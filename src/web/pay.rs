//! The buyer side: `GET /t/{token}`. The page speaks the order's language, says at once when
//! a link can no longer be paid (expired or cancelled: "expired", as the seed wants), and
//! shows what is due otherwise. The card form arrives with the hosted payment page.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::AppState;
use super::error::AppError;
use super::i18n::{Lang, Tr};
use crate::db::DbError;
use crate::domain::order::{self, OrderStatus};
use crate::store::orders::{self as store, Order};
use crate::store::shops::Shop;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/t/{token}", web::get().to(link))
        .route("/t/{token}/qr.svg", web::get().to(qr_svg))
        .route("/t/{token}/qr.png", web::get().to(qr_png));
}

/// Tokens are 22 URL-safe characters; anything else is not looked up.
fn plausible(token: &str) -> bool {
    (16..=64).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn find(state: &AppState, token: String) -> Result<(Order, Shop), AppError> {
    if !plausible(&token) {
        return Err(AppError::NotFound);
    }
    let found = state
        .db
        .read(move |conn| {
            let Some(o) = store::find_by_token(conn, &token)? else { return Ok(None) };
            let shop = {
                use diesel::prelude::*;
                let company: i64 = crate::db::schema::shops::table
                    .find(o.shop_id.0)
                    .select(crate::db::schema::shops::company_id)
                    .first(conn)?;
                crate::store::shops::find(conn, crate::domain::ids::CompanyId(company), o.shop_id)?
            };
            Ok::<_, DbError>(shop.map(|s| (o, s)))
        })
        .await?;
    found.ok_or(AppError::NotFound)
}

#[derive(Template, WebTemplate)]
#[template(path = "pay/link.html")]
struct LinkPage {
    t: Tr,
    shop: String,
    shop_url: String,
    reference: Option<String>,
    amount: String,
    valid_until: String,
    description: Option<String>,
    state: &'static str,
    is_test: bool,
}

async fn link(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (o, shop) = find(&state, token.into_inner()).await?;
    let lang = Lang::parse(&o.language).unwrap_or(Lang::of(&req));
    let french = lang == Lang::Fr;
    let now = state.clock.now_naive();
    let status = o.status_at(now);
    let (page_state, code) = match status {
        OrderStatus::Running | OrderStatus::Refused => ("payable", StatusCode::OK),
        OrderStatus::Paid => ("paid", StatusCode::OK),
        // A cancelled link tells the buyer it has expired (seed 001 §12.1).
        OrderStatus::Expired | OrderStatus::Cancelled => ("expired", StatusCode::GONE),
    };
    let valid_until =
        format!("{} 23:59:59 ({})", order::format_date(o.expires_on, french), shop.settings.time_zone.name());
    let page = LinkPage {
        t: Tr::new(lang),
        shop: shop.settings.label.clone(),
        shop_url: shop.settings.url.clone(),
        reference: o.reference.clone(),
        amount: o.amount.display(french),
        valid_until,
        description: o.description.clone(),
        state: page_state,
        is_test: o.mode == crate::domain::api_key::Mode::Test,
    };
    let html = page.render().map_err(AppError::internal)?;
    Ok(HttpResponse::build(code)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

async fn qr_svg(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (o, _) = find(&state, token.into_inner()).await?;
    let url = crate::services::orders::pay_url(&state.settings.public_url, &o.token);
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(super::qr::svg(&url)))
}

async fn qr_png(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (o, _) = find(&state, token.into_inner()).await?;
    let url = crate::services::orders::pay_url(&state.settings.public_url, &o.token);
    Ok(HttpResponse::Ok().content_type("image/png").body(super::qr::png(&url)))
}
