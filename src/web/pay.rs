//! The buyer side: `GET /t/{token}`.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
