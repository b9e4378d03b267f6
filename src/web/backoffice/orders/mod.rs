//! Payment orders in the back office (seed 001): creation per channel (simplified form and
//! its "advanced" section), the detail with its two tabs and exactly the actions the order's
//! status offers, the searchable list (keyset pages, sortable columns, a per-user column
//! chooser, CSV export), the QR codes of the link and the e-mails written as files.
//!
//! Handlers parse, call one service function (`services::order_reads` for what they show,
//! `services::order_actions` for what they change; each owns its transaction), and render;
//! everything is scoped to the session's shop and mode, so another shop's order is a 404.

mod detail;
mod form;
mod import;
mod list;

use actix_web::web;
use chrono::{NaiveDate, NaiveDateTime};

use crate::domain::order::Action;
use crate::domain::order::Order;
use crate::domain::shop::Shop;
use crate::services::orders::{self as service};
use crate::web::error::AppError;
use crate::web::present::local_date_of;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/orders", web::get().to(list::list))
        .route("/orders", web::post().to(form::create))
        .route("/orders.csv", web::get().to(list::export))
        .route("/orders/columns", web::post().to(list::save_columns))
        .route("/orders/new", web::get().to(form::new_form))
        // Before `/orders/{id}`, which would take `import` for an id.
        .route("/orders/import", web::get().to(import::form))
        .route("/orders/import", web::post().to(import::upload))
        .route("/orders/import/{id}", web::get().to(import::show))
        .route("/orders/{id}", web::get().to(detail::detail))
        .route("/orders/{id}/message", web::get().to(detail::message))
        .route("/orders/{id}/qr.svg", web::get().to(detail::qr_svg))
        .route("/orders/{id}/qr.png", web::get().to(detail::qr_png))
        .route("/orders/{id}/edit", web::get().to(form::edit_form))
        .route("/orders/{id}/edit", web::post().to(form::edit))
        .route("/orders/{id}/duplicate", web::get().to(form::duplicate))
        .route("/orders/{id}/resend", web::post().to(detail::resend))
        .route("/orders/{id}/validity", web::post().to(detail::change_validity))
        .route("/orders/{id}/cancel", web::post().to(detail::cancel))
        .route("/orders/{id}/reactivate", web::post().to(detail::reactivate))
        .route("/orders/{id}/instalments/cancel", web::post().to(detail::cancel_instalments))
        .route("/orders/{id}/mark-sent", web::post().to(detail::mark_sent))
        .route("/orders/{id}/eml/{job}", web::get().to(detail::eml));
}

fn created_local(o: &Order, shop: &Shop) -> NaiveDate {
    local_date_of(o.created_at, shop.settings.time_zone)
}

/// Refuses, as a 409 page, an action the order's status does not offer.
fn require_action(o: &Order, action: Action, now: NaiveDateTime) -> Result<(), AppError> {
    if service::actions(o, now).contains(&action) {
        Ok(())
    } else {
        Err(AppError::Conflict("order.action_not_allowed"))
    }
}
