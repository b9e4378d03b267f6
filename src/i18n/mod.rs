//! French and English: the message catalogue of pages, API error messages and the codes of
//! refusals (`FieldError` codes, conflicts), shared by every layer. Which language a request
//! speaks is the web layer's business (`web::i18n`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Fr,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().get(..2).map(str::to_ascii_lowercase).as_deref() {
            Some("fr") => Some(Lang::Fr),
            Some("en") => Some(Lang::En),
            _ => None,
        }
    }

    /// The first supported language in an Accept-Language header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The text of `key`; the key itself if it is unknown (a test forbids that).
    pub fn get(&self, key: &str) -> &'static str {
        match lookup(key) {
            Some((fr, en)) => match self.lang {
                Lang::Fr => fr,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "missing translation");
                "??"
            }
        }
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }
}

/// A table of (key => French, English). Each file under i18n/ holds one, for one area.
macro_rules! messages {
    ($($key:literal => $fr:literal, $en:literal;)*) => {
        pub const ENTRIES: &[(&str, &str, &str)] = &[$(($key, $fr, $en)),*];
    };
}
pub(crate) use messages;

mod api;
mod core;
mod fields;
mod messaging;
mod orders;
mod pay;
mod transactions;

/// Every area's table.
const AREAS: &[&[(&str, &str, &str)]] = &[
    core::ENTRIES,
    fields::ENTRIES,
    orders::ENTRIES,
    messaging::ENTRIES,
    pay::ENTRIES,
    api::ENTRIES,
    transactions::ENTRIES,
];

/// One map of every key, built at first use: a page looks up dozens of keys, and searching
/// the tables in turn showed in the pay page's profile.
fn lookup(key: &str) -> Option<(&'static str, &'static str)> {
    type Map = std::collections::HashMap<&'static str, (&'static str, &'static str)>;
    static MAP: std::sync::OnceLock<Map> = std::sync::OnceLock::new();
    MAP.get_or_init(|| AREAS.iter().flat_map(|area| area.iter()).map(|&(key, fr, en)| (key, (fr, en))).collect())
        .get(key)
        .copied()
}

#[cfg(test)]
fn all_keys() -> impl Iterator<Item = &'static str> {
    AREAS.iter().flat_map(|area| area.iter()).map(|&(key, _, _)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_code_the_code_can_give_is_translated() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![root];
        let mut checked = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for pattern in ["FieldError::new(\"", "ServiceError::field(\"", "Conflict(\""] {
                    for (i, _) in text.match_indices(pattern) {
                        let rest = &text[i + pattern.len()..];
                        let first = &rest[..rest.find('"').unwrap()];
                        // FieldError::new and field() name the field first, then the code.
                        let code = if pattern.starts_with("Conflict") {
                            first.to_string()
                        } else {
                            let after = &rest[first.len() + 1..];
                            match after.find('"') {
                                Some(start) if after[..start].trim() == "," => {
                                    let tail = &after[start + 1..];
                                    tail[..tail.find('"').unwrap()].to_string()
                                }
                                _ => continue,
                            }
                        };
                        if code.contains('{') || code.is_empty() {
                            continue;
                        }
                        checked += 1;
                        assert!(
                            lookup(&code).is_some(),
                            "{} refuses with the untranslated code {code}",
                            path.display()
                        );
                    }
                }
            }
        }
        assert!(checked > 40, "the scan found the refusals ({checked})");
    }

    #[test]
    fn accept_language_picks_the_best_supported() {
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9,fr;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de-DE,fr;q=0.5,en;q=0.3"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("de,es"), None);
        assert_eq!(Lang::from_accept_language("fr-CA"), Some(Lang::Fr));
    }

    #[test]
    fn every_key_used_by_a_template_or_the_code_has_both_languages() {
        let mut used = Vec::new();
        let root = env!("CARGO_MANIFEST_DIR");
        let mut stack =
            vec![std::path::PathBuf::from(root).join("templates"), std::path::PathBuf::from(root).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("t.get(\"") {
                    let rest = &text[i + 7..];
                    let key = &rest[..rest.find('"').unwrap()];
                    used.push((path.display().to_string(), key.to_string()));
                }
            }
        }
        assert!(used.len() > 50, "the scan found the templates");
        for (file, key) in used {
            assert!(lookup(&key).is_some(), "{file} uses the unknown key {key}");
        }
        let mut seen = std::collections::HashSet::new();
        for key in all_keys() {
            assert!(seen.insert(key), "{key} is defined twice");
            let (fr, en) = lookup(key).unwrap();
            assert!(!fr.is_empty() && !en.is_empty(), "{key}");
        }
    }
}
