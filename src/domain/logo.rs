//! A shop's logo, as uploaded in settings: PNG, JPEG or SVG, at most 200 KB. An SVG is
//! rebuilt from an allow-list of drawing elements and attributes (quick-xml reads it, a new
//! document is written), so no script, event handler, external reference, style sheet or
//! entity survives; whatever a browser could run or fetch is left out.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, BytesText, Event};
use quick_xml::{Reader, Writer};
use sha2::{Digest, Sha256};

pub const MAX_BYTES: usize = 200 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    Png,
    Jpeg,
    Svg,
}

impl LogoKind {
    pub fn content_type(self) -> &'static str {
        match self {
            LogoKind::Png => "image/png",
            LogoKind::Jpeg => "image/jpeg",
            LogoKind::Svg => "image/svg+xml",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            LogoKind::Png => "png",
            LogoKind::Jpeg => "jpg",
            LogoKind::Svg => "svg",
        }
    }

    pub fn from_content_type(s: &str) -> Option<LogoKind> {
        [LogoKind::Png, LogoKind::Jpeg, LogoKind::Svg].into_iter().find(|k| k.content_type() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logo {
    pub kind: LogoKind,
    pub body: Vec<u8>,
    /// The first 24 hex digits of the body's SHA-256: its public name.
    pub digest: String,
}

impl Logo {
    /// `/logos/3f2a….png`: the address pages use; it changes with the content.
    pub fn href(digest: &str, kind: LogoKind) -> String {
        format!("/logos/{digest}.{}", kind.extension())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoError {
    Empty,
    TooLarge,
    NotAnImage,
}

impl LogoError {
    /// The Fluent key of the message shown next to the field.
    pub fn code(self) -> &'static str {
        match self {
            LogoError::Empty => "logo.error.empty",
            LogoError::TooLarge => "logo.error.too_large",
            LogoError::NotAnImage => "logo.error.not_an_image",
        }
    }
}

/// Reads an uploaded file: its kind from its first bytes (never from its name or the
/// browser's word), an SVG rebuilt safe.
pub fn parse(bytes: &[u8]) -> Result<Logo, LogoError> {
    if bytes.is_empty() {
        return Err(LogoError::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(LogoError::TooLarge);
    }
    let (kind, body) = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        (LogoKind::Png, bytes.to_vec())
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        (LogoKind::Jpeg, bytes.to_vec())
    } else {
        (LogoKind::Svg, sanitize_svg(bytes).ok_or(LogoError::NotAnImage)?)
    };
    let digest = Sha256::digest(&body).iter().take(12).map(|b| format!("{b:02x}")).collect();
    Ok(Logo { kind, body, digest })
}

const ELEMENTS: &[&str] = &[
    "svg",
    "g",
    "path",
    "rect",
    "circle",
    "ellipse",
    "line",
    "polyline",
    "polygon",
    "text",
    "tspan",
    "defs",
    "linearGradient",
    "radialGradient",
    "stop",
    "clipPath",
    "mask",
    "title",
    "desc",
];

const ATTRIBUTES: &[&str] = &[
    "id",
    "x",
    "y",
    "x1",
    "y1",
    "x2",
    "y2",
    "cx",
    "cy",
    "r",
    "rx",
    "ry",
    "fx",
    "fy",
    "width",
    "height",
    "viewBox",
    "preserveAspectRatio",
    "d",
    "points",
    "transform",
    "fill",
    "fill-opacity",
    "fill-rule",
    "stroke",
    "stroke-width",
    "stroke-linecap",
    "stroke-linejoin",
    "stroke-miterlimit",
    "stroke-dasharray",
    "stroke-opacity",
    "opacity",
    "clip-path",
    "clip-rule",
    "mask",
    "offset",
    "stop-color",
    "stop-opacity",
    "gradientUnits",
    "gradientTransform",
    "spreadMethod",
    "font-family",
    "font-size",
    "font-weight",
    "font-style",
    "text-anchor",
    "dominant-baseline",
    "letter-spacing",
    "dx",
    "dy",
];

/// A value may point inside the document (`url(#id)`), never outside it.
fn safe_value(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    if lower.contains("javascript:") || lower.contains("data:") || lower.contains('\\') {
        return false;
    }
    lower.match_indices("url(").all(|(at, _)| lower[at + 4..].trim_start().starts_with('#'))
}

fn clean_start(e: &BytesStart<'_>, name: &str) -> Option<BytesStart<'static>> {
    let mut out = BytesStart::new(name.to_string());
    if name == "svg" {
        out.push_attribute(("xmlns", "http://www.w3.org/2000/svg"));
    }
    for attr in e.attributes() {
        let attr = attr.ok()?;
        let key = std::str::from_utf8(attr.key.as_ref()).ok()?;
        if !ATTRIBUTES.contains(&key) {
            continue;
        }
        let value = attr.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok()?;
        if safe_value(&value) {
            out.push_attribute((key, value.as_ref()));
        }
    }
    Some(out)
}

fn predefined(name: &str) -> Option<&'static str> {
    Some(match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => return None,
    })
}

/// The SVG rebuilt from the allow-lists, or `None` when it is not one (not UTF-8, not well
/// formed, no `<svg>` root).
pub fn sanitize_svg(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut reader = Reader::from_str(text.trim_start_matches('\u{feff}'));
    reader.config_mut().check_end_names = true;
    let mut writer = Writer::new(Vec::new());
    // Depth inside an element that is left out, with everything it holds.
    let mut skipping = 0usize;
    let mut open = 0usize;
    let mut seen_root = false;
    loop {
        let event = reader.read_event().ok()?;
        match event {
            Event::Start(e) => {
                let name = std::str::from_utf8(e.name().as_ref()).ok()?.to_string();
                if skipping > 0 || !ELEMENTS.contains(&name.as_str()) || (!seen_root && name != "svg") {
                    if !seen_root && name != "svg" {
                        return None;
                    }
                    skipping += 1;
                    continue;
                }
                seen_root = true;
                open += 1;
                writer.write_event(Event::Start(clean_start(&e, &name)?)).ok()?;
            }
            Event::Empty(e) => {
                let name = std::str::from_utf8(e.name().as_ref()).ok()?.to_string();
                if !seen_root {
                    // An empty document: `<svg …/>`.
                    if name != "svg" {
                        return None;
                    }
                    writer.write_event(Event::Empty(clean_start(&e, &name)?)).ok()?;
                    seen_root = true;
                    break;
                }
                if skipping == 0 && ELEMENTS.contains(&name.as_str()) {
                    writer.write_event(Event::Empty(clean_start(&e, &name)?)).ok()?;
                }
            }
            Event::End(e) => {
                if skipping > 0 {
                    skipping -= 1;
                    continue;
                }
                let name = std::str::from_utf8(e.name().as_ref()).ok()?.to_string();
                open = open.checked_sub(1)?;
                writer.write_event(Event::End(quick_xml::events::BytesEnd::new(name))).ok()?;
                if open == 0 {
                    break;
                }
            }
            Event::Text(t) if skipping == 0 && open > 0 => {
                let text: Cow<'_, str> = t.decode().ok()?;
                writer.write_event(Event::Text(BytesText::new(&text))).ok()?;
            }
            Event::GeneralRef(r) if skipping == 0 && open > 0 => {
                let name = r.decode().ok()?;
                if let Some(c) = predefined(&name) {
                    writer.write_event(Event::Text(BytesText::new(c))).ok()?;
                }
            }
            // Doctypes (and their entities), processing instructions, comments and CDATA
            // (where style sheets hide) are left out.
            Event::Eof => break,
            _ => {}
        }
    }
    (seen_root && open == 0).then(|| writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn svg(body: &str) -> String {
        String::from_utf8(parse(body.as_bytes()).expect("an SVG").body).unwrap()
    }

    #[test]
    fn the_kind_comes_from_the_first_bytes() {
        assert_eq!(parse(PNG).unwrap().kind, LogoKind::Png);
        assert_eq!(parse(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).unwrap().kind, LogoKind::Jpeg);
        assert_eq!(parse(b"<svg viewBox=\"0 0 1 1\"/>").unwrap().kind, LogoKind::Svg);
        assert_eq!(parse(b"GIF89a...."), Err(LogoError::NotAnImage));
        assert_eq!(parse(b"<html><script>alert(1)</script></html>"), Err(LogoError::NotAnImage));
        assert_eq!(parse(b""), Err(LogoError::Empty));
        assert_eq!(parse(&vec![0x89; MAX_BYTES + 1]), Err(LogoError::TooLarge));
        let big = [PNG, &vec![0; MAX_BYTES - PNG.len()]].concat();
        assert!(parse(&big).is_ok(), "200 KB exactly is accepted");
        assert_eq!(parse(PNG).unwrap().digest.len(), 24);
    }

    #[test]
    fn an_svg_keeps_its_drawing_and_loses_anything_that_runs_or_fetches() {
        let out = svg(concat!(
            "<?xml version=\"1.0\"?><!DOCTYPE svg [<!ENTITY x \"boom\">]>",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" ",
            "viewBox=\"0 0 10 10\" onload=\"alert(1)\">",
            "<script>alert(2)</script><style>@import url(https://evil.example/x.css);</style>",
            "<title>Caf&amp;é &x;</title>",
            "<rect width=\"10\" height=\"10\" fill=\"url(#g)\" onclick=\"alert(3)\" style=\"x\"/>",
            "<a href=\"javascript:alert(4)\"><circle r=\"1\"/></a>",
            "<image href=\"https://evil.example/track.png\"/>",
            "<foreignObject><div>hi</div></foreignObject>",
            "<path d=\"M0 0L10 10\" fill=\"url(https://evil.example/#x)\" stroke=\"#123\"/>",
            "<!-- a comment --><![CDATA[ x ]]>",
            "</svg>",
        ));
        assert_eq!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><title>Caf&amp;é </title>\
             <rect width=\"10\" height=\"10\" fill=\"url(#g)\"/><path d=\"M0 0L10 10\" stroke=\"#123\"/></svg>"
        );
        for bad in ["script", "onload", "onclick", "evil", "javascript", "foreignObject", "ENTITY", "style", "xlink"] {
            assert!(!out.contains(bad), "{bad} in {out}");
        }
    }

    #[test]
    fn a_broken_svg_is_refused() {
        assert_eq!(parse(b"<svg><g></svg>"), Err(LogoError::NotAnImage));
        assert_eq!(parse(b"<svg>"), Err(LogoError::NotAnImage));
        assert_eq!(parse(&[0xC3, 0x28]), Err(LogoError::NotAnImage));
    }
}
