//! The message catalogue of pages, e-mails, API error messages and the codes of refusals
//! (`FieldError` codes, conflicts), shared by every layer. The texts live in Fluent files,
//! `locales/<lang>/<area>.ftl`: every area in French and English (the back office), and
//! `pay.ftl`, what a buyer reads, in German, Spanish and Italian too. Which language a
//! request speaks is the web layer's business (`web::i18n`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, langid};

// Every `.ftl` file under `locales/<lang>/`, embedded at build time.
fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Bidi isolation marks around placeables would end up inside e-mail subjects and
        // CSV cells; every text here is left-to-right.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language paylink speaks: all five on buyer pages, the first two in the back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    Fr,
    En,
    De,
    Es,
    It,
}

impl Lang {
    /// Every language, the back office's two first.
    pub const ALL: [Lang; 5] = [Lang::Fr, Lang::En, Lang::De, Lang::Es, Lang::It];
    /// The languages of the back office.
    pub const OFFICE: [Lang; 2] = [Lang::Fr, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
            Lang::De => "de",
            Lang::Es => "es",
            Lang::It => "it",
        }
    }

    /// The language's own name, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
            Lang::De => "Deutsch",
            Lang::Es => "Español",
            Lang::It => "Italiano",
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::Fr => langid!("fr"),
            Lang::En => langid!("en"),
            Lang::De => langid!("de"),
            Lang::Es => langid!("es"),
            Lang::It => langid!("it"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// Any of the five languages, from a code such as `de` or `de-CH`.
    pub fn parse(code: &str) -> Option<Lang> {
        let code = code.trim().get(..2)?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// French or English, from a code; the back office speaks nothing else.
    pub fn parse_office(code: &str) -> Option<Lang> {
        Lang::parse(code).filter(|l| l.is_office())
    }

    pub fn is_office(self) -> bool {
        Lang::OFFICE.contains(&self)
    }

    /// The language the back office shows to someone who asked for `self`.
    pub fn office(self) -> Lang {
        if self.is_office() { self } else { Lang::En }
    }

    /// The first language of `among` in an Accept-Language header, by quality.
    pub fn from_accept_language_among(header: &str, among: &[Lang]) -> Option<Lang> {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag).filter(|l| among.contains(l))
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }

    /// The first back-office language in an Accept-Language header.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        Lang::from_accept_language_among(header, &Lang::OFFICE)
    }
}

/// The translator handed to every template.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

/// What a page looked up once, kept for the life of the process: each language's texts
/// without arguments. The keys are the catalogue's, so the leak is bounded by its size.
fn cache() -> &'static [RwLock<HashMap<String, &'static str>>; 5] {
    static CACHE: OnceLock<[RwLock<HashMap<String, &'static str>>; 5]> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The Fluent id of a key: the code names keys `pay.form.title`, Fluent `pay-form-title`.
fn fluent_id(key: &str) -> String {
    key.replace('.', "-")
}

/// The text of `key` in `lang` alone, with no fallback.
fn lookup(lang: Lang, key: &str, args: Option<&HashMap<Cow<'static, str>, FluentValue>>) -> Option<String> {
    LOCALES.lookup_single_language(&lang.id(), &fluent_id(key), args).ok()
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Tr { lang }
    }

    /// The text of `key`, in English when this language lacks it (a test forbids that for
    /// the keys a page of that language can show), `??` when no language has it.
    pub fn get(&self, key: &str) -> &'static str {
        let slot = &cache()[self.lang.index()];
        if let Some(text) = slot.read().unwrap_or_else(|e| e.into_inner()).get(key) {
            return text;
        }
        let text: &'static str = match lookup(self.lang, key, None).or_else(|| lookup(Lang::En, key, None)) {
            Some(text) => Box::leak(text.into_boxed_str()),
            None => {
                tracing::warn!(key, "missing translation");
                "??"
            }
        };
        slot.write().unwrap_or_else(|e| e.into_inner()).insert(key.to_string(), text);
        text
    }

    /// The text of `key` with its arguments: Fluent chooses the plural form and writes the
    /// numbers.
    pub fn args(&self, key: &str, args: &[(&'static str, FluentValue<'_>)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(name, value)| (Cow::Borrowed(*name), value.clone())).collect();
        lookup(self.lang, key, Some(&args)).or_else(|| lookup(Lang::En, key, Some(&args))).unwrap_or_else(|| {
            tracing::warn!(key, "missing translation");
            "??".into()
        })
    }

    /// `key` with one count, for the texts that say how many.
    pub fn count(&self, key: &str, count: usize) -> String {
        self.args(key, &[("count", FluentValue::from(count))])
    }

    pub fn code(&self) -> &'static str {
        self.lang.code()
    }

    /// Whether this language has `key` itself, without falling back to English.
    pub fn has(&self, key: &str) -> bool {
        lookup(self.lang, key, None).is_some()
    }
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
                            Lang::OFFICE.iter().all(|l| lookup(*l, &code, None).is_some()),
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
        assert_eq!(Lang::from_accept_language_among("de,es", &Lang::ALL), Some(Lang::De));
        assert_eq!(Lang::from_accept_language_among("it;q=0.4,es;q=0.6", &Lang::ALL), Some(Lang::Es));
        assert_eq!(Lang::from_accept_language("fr-CA"), Some(Lang::Fr));
    }

    /// The ids each `.ftl` file of `lang` defines, by file name.
    fn ids(lang: Lang) -> std::collections::BTreeMap<String, Vec<String>> {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("locales").join(lang.code());
        let mut files = std::collections::BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let resource = fluent_syntax::parser::parse(text.as_str())
                .unwrap_or_else(|(_, errors)| panic!("{} does not parse: {errors:?}", path.display()));
            let ids = resource
                .body
                .iter()
                .filter_map(|entry| match entry {
                    fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                    _ => None,
                })
                .collect();
            files.insert(path.file_name().unwrap().to_string_lossy().into_owned(), ids);
        }
        files
    }

    /// The files a buyer page reads: they exist in all five languages.
    const BUYER_FILES: &[&str] = &["pay.ftl", "app.ftl"];

    #[test]
    fn every_language_has_every_key_of_its_files() {
        let french = ids(Lang::Fr);
        assert!(french.len() >= 7 && french.values().map(Vec::len).sum::<usize>() > 700, "{:?}", french.keys());
        for lang in Lang::ALL {
            let files = ids(lang);
            for (file, keys) in &french {
                if !lang.is_office() && !BUYER_FILES.contains(&file.as_str()) {
                    continue;
                }
                let theirs = files.get(file).unwrap_or_else(|| panic!("locales/{}/{file} is missing", lang.code()));
                for key in keys {
                    assert!(theirs.contains(key), "locales/{}/{file} lacks {key}", lang.code());
                }
                for key in theirs {
                    assert!(keys.contains(key), "locales/{}/{file} has {key}, which French lacks", lang.code());
                }
            }
            let mut seen = std::collections::HashSet::new();
            for key in files.values().flatten() {
                assert!(seen.insert(key), "{key} is defined twice in {}", lang.code());
            }
        }
    }

    #[test]
    fn a_missing_key_is_caught_and_plurals_come_from_fluent() {
        assert_eq!(lookup(Lang::De, "orders.title", None), None, "the back office is not in German");
        assert!(lookup(Lang::De, "pay.title", None).is_some());
        let en = Tr::new(Lang::En);
        let fr = Tr::new(Lang::Fr);
        assert_eq!(en.count("flash.orders_created", 1), "1 order created");
        assert_eq!(en.count("flash.orders_created", 3), "3 orders created");
        assert_eq!(fr.count("flash.orders_created", 1), "1 ordre créé");
        assert_eq!(fr.count("flash.orders_created", 3), "3 ordres créés");
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
            for lang in Lang::OFFICE {
                assert!(lookup(lang, &key, None).is_some(), "{file} uses {key}, unknown in {}", lang.code());
            }
            // A buyer page reads its texts in five languages.
            if file.contains("templates/pay/") || file.contains("src/web/pay/") {
                for lang in Lang::ALL {
                    assert!(lookup(lang, &key, None).is_some(), "{file} uses {key}, unknown in {}", lang.code());
                }
            }
        }
    }
}
