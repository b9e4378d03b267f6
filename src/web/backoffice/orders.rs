//! Payment orders in the back office.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
