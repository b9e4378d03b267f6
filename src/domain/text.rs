//! Text that crosses the boundary: local redirect paths, typed text without control
//! characters, and random tokens.

use base64::Engine;
use rand::RngCore;

use super::FieldError;

/// A path on this server, safe to put in a `Location` header: it starts with one `/`, holds
/// only visible ASCII (no control character, space or backslash, which browsers strip or
/// turn into `/` and so read `/\t/host` or `/\host` as another host) and never starts with
/// `//`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPath(String);

impl LocalPath {
    pub fn parse(raw: &str) -> Option<LocalPath> {
        let visible = raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
        let local = raw.starts_with('/') && !raw.starts_with("//");
        (visible && local).then(|| LocalPath(raw.to_string()))
    }

    /// The parsed path, or `default` when `raw` is absent or not a local path.
    pub fn or(raw: Option<&str>, default: &str) -> String {
        raw.and_then(LocalPath::parse).map_or_else(|| default.to_string(), |p| p.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The code of every refusal of a control character (NUL, escape, …) in typed text.
pub const CONTROL_CHARACTER: &str = "field.control_character";

/// True when `s` holds a control character other than the tab and line breaks a multi-line
/// text may carry.
pub fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Refuses typed text holding a control character (a NUL byte cannot be stored in
/// PostgreSQL text, and none of them has a place in a name, a reference or a message).
pub fn no_control(field: &'static str, s: &str) -> Result<(), FieldError> {
    if has_control(s) { Err(FieldError::new(field, CONTROL_CHARACTER)) } else { Ok(()) }
}

/// An e-mail address as paylink accepts it: valid by RFC 5321/5322, with a dot in the
/// domain, at most 254 characters.
pub fn is_email(raw: &str) -> bool {
    raw.len() <= 254 && raw.contains('.') && email_address::EmailAddress::is_valid(raw)
}

/// `bytes` random bytes from the OS-seeded generator, in URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        for ok in ["/orders", "/settings/shop?tab=1", "/t/abc#x"] {
            assert_eq!(LocalPath::parse(ok).map(|p| p.0), Some(ok.to_string()), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/x",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "evil.example",
            "/ /x",
            "/caf\u{e9}",
            "/\u{0}",
            "",
        ] {
            assert_eq!(LocalPath::parse(bad), None, "{bad:?}");
        }
        assert_eq!(LocalPath::or(Some("/\t/evil.example"), "/login"), "/login");
        assert_eq!(LocalPath::or(None, "/login"), "/login");
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_kept() {
        assert!(no_control("description", "Hello\r\n\tworld").is_ok());
        assert_eq!(no_control("description", "a\u{0}b"), Err(FieldError::new("description", CONTROL_CHARACTER)));
        assert!(has_control("\u{1b}[31m"));
        assert!(has_control("\u{7f}"));
    }

    #[test]
    fn tokens_are_url_safe_and_distinct() {
        let (a, b) = (random_token(16), random_token(16));
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
