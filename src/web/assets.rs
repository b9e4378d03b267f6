//! The static files, built into the binary. Each is served under a name that carries a hash
//! of its content (`app.1f3a9c0b2d4e.css`), so that browsers may keep it for a year
//! (`immutable`): a new release changes the name, never the content behind one.

use std::sync::LazyLock;

use actix_web::{HttpResponse, http::header, web};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    body: &'static str,
    kind: &'static str,
    /// `/static/app.1f3a9c0b2d4e.css`.
    href: String,
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    [
        ("app.css", include_str!("../../static/app.css"), CSS),
        ("password-meter.js", include_str!("../../static/password-meter.js"), JS),
        ("orders.js", include_str!("../../static/orders.js"), JS),
        ("pay.js", include_str!("../../static/pay.js"), JS),
        ("favicon.svg", include_str!("../../static/favicon.svg"), "image/svg+xml"),
    ]
    .into_iter()
    .map(|(name, body, kind)| Asset { name, body, kind, href: hashed(name, body) })
    .collect()
});

fn hashed(name: &str, body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    format!("/static/{stem}.{short}.{ext}")
}

/// The address pages link to: the content-hashed name of `name` (`"app.css"`).
pub fn href(name: &str) -> &'static str {
    ASSETS
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.href.as_str())
        .unwrap_or_else(|| panic!("no static file named {name}"))
}

/// `GET /static/{file}`: the hashed name is cached for a year, the plain name (for links
/// kept from an older page) for an hour.
pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let path = format!("/static/{file}");
    let found = ASSETS.iter().find_map(|a| {
        if a.href == path {
            Some((a, "public, max-age=31536000, immutable"))
        } else if a.name == file.as_str() {
            Some((a, "public, max-age=3600"))
        } else {
            None
        }
    });
    match found {
        Some((asset, cache)) => {
            HttpResponse::Ok().content_type(asset.kind).insert_header((header::CACHE_CONTROL, cache)).body(asset.body)
        }
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_has_a_name_that_changes_with_its_content() {
        assert!(href("app.css").starts_with("/static/app.") && href("app.css").ends_with(".css"));
        assert_eq!(href("app.css").len(), "/static/app..css".len() + 12);
        assert_ne!(hashed("app.css", "a{}"), hashed("app.css", "b{}"));
        assert_eq!(hashed("app.css", "a{}"), hashed("app.css", "a{}"));
    }
}
