//! Message templates and their `%variables%` (seed 001, §10.5). Merchant-written HTML is
//! sanitised with ammonia; every e-mail also gets a plain-text part.

use super::FieldError;

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

    /// Replaces every variable in HTML, escaping the values; the link becomes clickable.
    pub fn render_html(&self, html: &str) -> String {
        let mut out = html.to_string();
        for (name, value) in self.pairs() {
            let escaped = escape(value);
            let replacement = if name == "%url%" { format!("<a href=\"{escaped}\">{escaped}</a>") } else { escaped };
            out = out.replace(name, &replacement);
        }
        out
    }
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

/// The seed's French default and its English counterpart, preloaded in every shop.
pub const DEFAULT_EMAIL_TEMPLATES: [DefaultTemplate; 2] = [
    DefaultTemplate {
        language: "fr",
        name: "Défaut Français",
        subject: "Votre ordre de paiement",
        body: "<p>Message envoyé par %shop_name%</p>\n<p>Bonjour,</p>\n<p>Cet e-mail comporte un ordre de paiement \
               d'un montant de %amount% valable jusqu'au %end_date%. Pour confirmer le paiement, veuillez cliquer sur \
               le lien suivant :</p>\n<p>%url%</p>\n<p>En cas de problème, ou si ce message ne s'affiche pas \
               correctement, merci de contacter %shop_contact%.<br>Si vous voulez accéder au site en ligne : \
               %shop_url%.</p>",
    },
    DefaultTemplate {
        language: "en",
        name: "Default English",
        subject: "Your payment order",
        body: "<p>Message sent by %shop_name%</p>\n<p>Hello,</p>\n<p>This e-mail contains a payment order of \
               %amount% valid until %end_date%. To pay, please follow this link:</p>\n<p>%url%</p>\n<p>If \
               something goes wrong, or if this message does not display properly, please contact \
               %shop_contact%.<br>Our website: %shop_url%.</p>",
    },
];

/// The seed's default SMS text.
pub fn default_sms(french: bool) -> &'static str {
    if french {
        "Bonjour, voici un ordre de paiement de %amount% valable jusqu'au %end_date%. Pour payer, cliquez sur %url%"
    } else {
        "Hello, here is a payment order of %amount% valid until %end_date%. To pay, follow %url%"
    }
}

/// The seed's ready-to-paste text of a URL order.
pub fn default_url_text(french: bool) -> &'static str {
    if french {
        "Je règle %amount% par paiement sécurisé avant le %end_date% (si le lien ne fonctionne pas, copier l'URL : %url%)."
    } else {
        "I pay %amount% securely before %end_date% (if the link does not work, copy the URL: %url%)."
    }
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
        }
    }

    #[test]
    fn every_variable_is_replaced() {
        let text = VARIABLES.join("|");
        let out = vars().render_text(&text);
        assert_eq!(
            out,
            "INV-1|15,00 EUR|15/06/2026|15/07/2026|Café <Gare>|shop@example.com|https://shop.example|https://pay.example/t/abc"
        );
        let html = vars().render_html("<p>%shop_name% %url%</p>");
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
        for t in DEFAULT_EMAIL_TEMPLATES {
            assert_eq!(sanitize_body(t.body).matches("%url%").count(), 1, "{}", t.name);
        }
    }

    #[test]
    fn the_text_part_reads_well() {
        let text = html_to_text(&vars().render_html(DEFAULT_EMAIL_TEMPLATES[0].body));
        assert!(text.starts_with("Message envoyé par Café <Gare>\n\nBonjour,"), "{text}");
        assert!(text.contains("https://pay.example/t/abc"));
        assert!(!text.contains('<') || text.contains("<Gare>"));
    }

    #[test]
    fn plain_texts_get_the_url() {
        assert_eq!(with_url("Pay now"), "Pay now %url%");
        assert_eq!(with_url("Pay %url% now"), "Pay %url% now");
        assert!(default_sms(true).contains("%url%") && default_url_text(true).contains("%url%"));
    }

    #[test]
    fn subjects_are_one_short_line() {
        assert_eq!(check_subject("  Hello "), Ok("Hello".to_string()));
        assert_eq!(check_subject("").unwrap_err().code, "field.required");
        assert_eq!(check_subject("a\r\nBcc: x@y").unwrap_err().code, "subject.invalid");
    }
}
