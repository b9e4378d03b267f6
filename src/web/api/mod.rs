//! REST API `/api/v1` (DESIGN §4): JSON, HTTP Basic `shop_id:api_key`, the key deciding TEST
//! or PRODUCTION.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
