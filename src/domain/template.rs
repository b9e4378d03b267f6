//! Message templates and their `%variables%` (seed 001, §10.5). Merchant-written HTML is
//! sanitised with ammonia; every e-mail also gets a plain-text part.

use super::FieldError;
use crate::i18n::{Lang, Tr};

/// Values of the variables for one order.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    pub reference: String,
    pub amount: String,
    pub start_date: String,
    pub end_date: String,
    pub shop_name: String,
    pub shop_contact: String,
    pub shop_url: String,
    pub url: String,
    /// The words on the e-mail's pay button: "Payer 42,50 €".
    pub button: String,
}

pub const VARIABLES: [&str; 8] =
    ["%reference%", "%amount%", "%start_date%", "%end_date%", "%shop_name%", "%shop_contact%", "%shop_url%", "%url%"];

impl Variables {
    fn pairs(&self) -> [(&'static str, &str); 8] {
        [
            ("%reference%", &self.reference),
            ("%amount%", &self.amount),
            ("%start_date%", &self.start_date),
            ("%end_date%", &self.end_date),
            ("%shop_name%", &self.shop_name),
            ("%shop_contact%", &self.shop_contact),
            ("%shop_url%", &self.shop_url),
            ("%url%", &self.url),
        ]
    }

    /// Replaces every variable in plain text (subjects, SMS, the URL order's text).
    pub fn render_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in self.pairs() {
            out = out.replace(name, value);
        }
        out
    }

    /// Replaces every variable in HTML, escaping the values; the link becomes a pay button.
    /// A paragraph that names an empty variable is left out (no "our site: ." when the shop
    /// has no site).
    pub fn render_html(&self, html: &str) -> String {
        self.render_html_with(html, true)
    }

    /// The same with the link as its bare address, for the plain-text part.
    pub fn render_html_plain(&self, html: &str) -> String {
        self.render_html_with(html, false)
    }

    fn render_html_with(&self, html: &str, button: bool) -> String {
        let empty: Vec<&str> = self.pairs().iter().filter(|(_, v)| v.is_empty()).map(|(n, _)| *n).collect();
        let mut out = without_paragraphs_naming(html, &empty);
        for (name, value) in self.pairs() {
            let escaped = escape(value);
            let replacement = match name {
                "%url%" if button && !self.button.is_empty() => {
                    format!("<a href=\"{escaped}\" style=\"{BUTTON_STYLE}\">{}</a>", escape(&self.button))
                }
                "%url%" => format!("<a href=\"{escaped}\">{escaped}</a>"),
                _ => escaped,
            };
            out = out.replace(name, &replacement);
        }
        out
    }
}

/// A pay button every mail client draws: inline styles only.
const BUTTON_STYLE: &str = "display:inline-block;padding:12px 24px;background:#1f5fbf;color:#ffffff;\
                            border-radius:6px;text-decoration:none;font-weight:600";

/// `html` without the `<p>…</p>` paragraphs that contain one of `names`. A paragraph that
/// holds the pay link is always kept: the buyer must never lose it.
fn without_paragraphs_naming(html: &str, names: &[&str]) -> String {
    if names.is_empty() {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<p") {
        let Some(len) = rest[start..].find("</p>") else { break };
        let end = start + len + "</p>".len();
        out.push_str(&rest[..start]);
        let paragraph = &rest[start..end];
        if paragraph.contains("%url%") || !names.iter().any(|n| paragraph.contains(n)) {
            out.push_str(paragraph);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The body a merchant wrote, made safe: ammonia's allow-list (no script, no event handler,
/// no `javascript:` link, no style element), and `%url%` appended when missing.
pub fn sanitize_body(html: &str) -> String {
    let mut clean = ammonia::Builder::default().link_rel(Some("noopener noreferrer")).clean(html).to_string();
    if !clean.contains("%url%") {
        clean.push_str("\n<p>%url%</p>");
    }
    clean
}

/// A plain-text rendering of the HTML body, for the text/plain part.
pub fn html_to_text(html: &str) -> String {
    let with_breaks = html
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n\n")
        .replace("</li>", "\n")
        .replace("</div>", "\n");
    let stripped = ammonia::Builder::empty().clean(&with_breaks).to_string();
    let decoded = stripped
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let mut out = String::new();
    let mut blank = 0;
    for line in decoded.lines().map(str::trim) {
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

/// Appends `%url%` to plain text that lacks it (SMS and the URL order's text).
pub fn with_url(text: &str) -> String {
    if text.contains("%url%") { text.to_string() } else { format!("{} %url%", text.trim_end()) }
}

pub fn check_subject(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(FieldError::new("subject", "field.required"));
    }
    if s.chars().count() > 200 || s.contains(['\r', '\n']) {
        return Err(FieldError::new("subject", "subject.invalid"));
    }
    Ok(s.to_string())
}

pub struct DefaultTemplate {
    pub language: &'static str,
    pub name: &'static str,
    pub subject: &'static str,
    pub body: &'static str,
}

/// The default e-mail template of `lang`, preloaded in every shop (the seed's French one
/// and its counterparts; the texts are in `pay.ftl`).
pub fn default_email(lang: Lang) -> DefaultTemplate {
    let t = Tr::new(lang);
    DefaultTemplate {
        language: lang.code(),
        name: t.get("pay.default.mail.name"),
        subject: t.get("pay.default.mail.subject"),
        body: t.get("pay.default.mail.body"),
    }
}

/// The default e-mail template of every buyer language.
pub fn default_emails() -> impl Iterator<Item = DefaultTemplate> {
    Lang::ALL.into_iter().map(default_email)
}

/// The seed's default SMS text.
pub fn default_sms(lang: Lang) -> &'static str {
    Tr::new(lang).get("pay.default.sms")
}

/// The seed's ready-to-paste text of a URL order.
pub fn default_url_text(lang: Lang) -> &'static str {
    Tr::new(lang).get("pay.default.url_text")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> Variables {
        Variables {
            reference: "INV-1".into(),
            amount: "15,00 EUR".into(),
            start_date: "15/06/2026".into(),
            end_date: "15/07/2026".into(),
            shop_name: "Café <Gare>".into(),
            shop_contact: "shop@example.com".into(),
            shop_url: "https://shop.example".into(),
            url: "https://pay.example/t/abc".into(),
            button: "Payer 15,00 EUR".into(),
        }
    }

    #[test]
    fn the_link_is_a_button_and_a_paragraph_naming_an_empty_variable_is_left_out() {
        let mut v = vars();
        let html = v.render_html(default_email(Lang::Fr).body);
        assert!(html.contains("style=\"display:inline-block") && html.contains(">Payer 15,00 EUR</a>"), "{html}");
        assert!(html.contains("https://shop.example"), "{html}");
        v.shop_url.clear();
        for lang in Lang::ALL {
            let html = v.render_html(default_email(lang).body);
            assert!(!html.contains(" .<") && !html.contains(": .") && !html.contains("%"), "{html}");
            assert!(html.contains("href=\"https://pay.example/t/abc\""), "{html}");
        }
        assert_eq!(without_paragraphs_naming("<p>a</p><p>b %x%</p>c", &["%x%"]), "<p>a</p>c");
        assert_eq!(
            without_paragraphs_naming("<p>%x% %url%</p>", &["%x%"]),
            "<p>%x% %url%</p>",
            "the pay link is never dropped"
        );
    }

    #[test]
    fn every_variable_is_replaced() {
        let text = VARIABLES.join("|");
        let out = vars().render_text(&text);
        assert_eq!(
            out,
            "INV-1|15,00 EUR|15/06/2026|15/07/2026|Café <Gare>|shop@example.com|https://shop.example|https://pay.example/t/abc"
        );
        let html = vars().render_html_plain("<p>%shop_name% %url%</p>");
        assert_eq!(
            html,
            "<p>Café &lt;Gare&gt; <a href=\"https://pay.example/t/abc\">https://pay.example/t/abc</a></p>"
        );
        let subject =
            vars().render_text("Offre %reference% valable du %start_date% au %end_date% d'un montant de %amount%");
        assert_eq!(subject, "Offre INV-1 valable du 15/06/2026 au 15/07/2026 d'un montant de 15,00 EUR");
    }

    #[test]
    fn merchant_html_is_sanitised_and_the_link_appended_when_missing() {
        let body =
            sanitize_body("<p onclick=\"x()\">Hi <script>alert(1)</script><a href=\"javascript:alert(1)\">x</a></p>");
        assert!(!body.contains("script") && !body.contains("onclick") && !body.contains("javascript"), "{body}");
        assert!(body.ends_with("<p>%url%</p>"));
        let body = sanitize_body("<p>Pay here: %url%</p><b>thanks</b>");
        assert_eq!(body.matches("%url%").count(), 1);
        assert!(body.contains("<b>thanks</b>"));
        for t in default_emails() {
            assert_eq!(sanitize_body(t.body).matches("%url%").count(), 1, "{}", t.name);
        }
    }

    #[test]
    fn the_text_part_reads_well() {
        let text = html_to_text(&vars().render_html_plain(default_email(Lang::Fr).body));
        assert!(text.starts_with("Message envoyé par Café <Gare>\n\nBonjour,"), "{text}");
        assert!(text.contains("https://pay.example/t/abc"));
        assert!(!text.contains('<') || text.contains("<Gare>"));
    }

    #[test]
    fn plain_texts_get_the_url() {
        assert_eq!(with_url("Pay now"), "Pay now %url%");
        assert_eq!(with_url("Pay %url% now"), "Pay %url% now");
        for lang in Lang::ALL {
            assert!(default_sms(lang).contains("%url%") && default_url_text(lang).contains("%url%"), "{lang:?}");
        }
    }

    #[test]
    fn subjects_are_one_short_line() {
        assert_eq!(check_subject("  Hello "), Ok("Hello".to_string()));
        assert_eq!(check_subject("").unwrap_err().code, "field.required");
        assert_eq!(check_subject("a\r\nBcc: x@y").unwrap_err().code, "subject.invalid");
    }
}
