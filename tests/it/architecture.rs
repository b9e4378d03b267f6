//! The house rules, read from the source: no import cycle between files, and the web layer
//! reaching the database only through services (no file under src/web names `crate::store`
//! or `crate::db`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without its unit tests and comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read file");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().map(|l| l.split("//").next().unwrap_or_default()).collect::<Vec<_>>().join("\n")
}

/// `web/backoffice/orders.rs` → `["web", "backoffice", "orders"]`.
fn module_of(rel: &str) -> Vec<String> {
    let rel = rel.trim_end_matches(".rs");
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
        parts.pop();
    }
    parts
}

/// Every path a file names, braces of `use` groups expanded, as module segments from the
/// crate root.
fn paths_named(code: &str, here: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let starts_word = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        let base: Option<(Vec<String>, usize)> = if starts_word && rest.starts_with("crate::") {
            Some((Vec::new(), 7))
        } else if starts_word && rest.starts_with("super::") {
            let parent = here[..here.len().saturating_sub(1)].to_vec();
            Some((parent, 7))
        } else {
            None
        };
        let Some((base, skip)) = base else {
            i += 1;
            continue;
        };
        let (tails, used) = parse_tree(&bytes[i + skip..]);
        for t in tails {
            let mut p = base.clone();
            p.extend(t);
            out.push(p);
        }
        i += skip + used.max(1);
    }
    out
}

/// Parses `a::b::{c, d::e}` into its expanded paths; returns them and the characters read.
fn parse_tree(s: &[char]) -> (Vec<Vec<String>>, usize) {
    let mut i = 0;
    let mut prefix = Vec::new();
    loop {
        let start = i;
        while i < s.len() && (s[i].is_alphanumeric() || s[i] == '_') {
            i += 1;
        }
        if i > start {
            let word: String = s[start..i].iter().collect();
            if word != "self" {
                prefix.push(word);
            }
        }
        if s.get(i) == Some(&':') && s.get(i + 1) == Some(&':') {
            i += 2;
            if s.get(i) == Some(&'{') {
                i += 1;
                let mut all = Vec::new();
                loop {
                    while s.get(i).is_some_and(|c| c.is_whitespace() || *c == ',') {
                        i += 1;
                    }
                    if s.get(i).is_none_or(|c| *c == '}') {
                        i += 1;
                        break;
                    }
                    let (tails, used) = parse_tree(&s[i..]);
                    for t in tails {
                        let mut p = prefix.clone();
                        p.extend(t);
                        all.push(p);
                    }
                    i += used.max(1);
                    // Skip an `as name` alias.
                    while s.get(i).is_some_and(|c| *c != ',' && *c != '}') {
                        i += 1;
                    }
                }
                return (all, i);
            }
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The file a module path lands in: its longest prefix that is a file.
fn file_of(path: &[String], files: &BTreeSet<String>) -> Option<String> {
    for n in (1..=path.len()).rev() {
        let joined = path[..n].join("/");
        for candidate in [format!("{joined}.rs"), format!("{joined}/mod.rs")] {
            if files.contains(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = src();
    let mut paths = Vec::new();
    rust_files(&root, &mut paths);
    let rel = |p: &Path| p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
    let files: BTreeSet<String> = paths.iter().map(|p| rel(p)).collect();
    let mut graph = BTreeMap::new();
    for p in &paths {
        let me = rel(p);
        let here = module_of(&me);
        let mut to = BTreeSet::new();
        for named in paths_named(&code_of(p), &here) {
            if let Some(f) = file_of(&named, &files) {
                // A child naming its parent module's items is not an import of a sibling.
                let parent_mod = f.ends_with("mod.rs") && me.starts_with(f.trim_end_matches("mod.rs"));
                if f != me && !parent_mod {
                    to.insert(f);
                }
            }
        }
        graph.insert(me, to);
    }
    graph
}

#[test]
fn no_import_cycle_between_source_files() {
    let graph = import_graph();
    assert!(graph.get("services/sms.rs").is_some_and(|t| t.contains("domain/sms.rs")), "the reader sees imports");
    let mut cycles = Vec::new();
    for (a, targets) in &graph {
        for b in targets {
            // Is `a` reachable from `b`?
            let mut seen = BTreeSet::new();
            let mut stack = vec![b.clone()];
            while let Some(n) = stack.pop() {
                if &n == a {
                    cycles.push(format!("{a} -> {b} -> … -> {a}"));
                    break;
                }
                if seen.insert(n.clone()) {
                    stack.extend(graph.get(&n).into_iter().flatten().cloned());
                }
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

/// Whether `code` names the store or the database module: `crate::store`, `crate::db`, a
/// `super::…::store` path up to the crate root, or either inside `crate::{…}`.
fn names_data_layer(code: &str) -> bool {
    let words = |s: &str| s.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|w| w == "store" || w == "db");
    code.contains("crate::store")
        || code.contains("crate::db")
        || code.contains("super::super::store")
        || code.contains("super::super::db")
        || code.match_indices("crate::{").any(|(i, _)| words(&code[i..i + code[i..].find('}').unwrap_or(0)]))
}

#[test]
fn the_data_layer_check_sees_every_spelling() {
    assert!(names_data_layer("use crate::store::orders;"));
    assert!(names_data_layer("use crate::{domain, db::Db};"));
    assert!(names_data_layer("use super::super::store::x;"));
    assert!(!names_data_layer("use crate::{domain, services};"));
    assert!(!names_data_layer("use crate::services::sessions; // store"));
}

#[test]
fn web_reaches_the_database_only_through_services() {
    let root = src();
    let mut paths = Vec::new();
    rust_files(&root.join("web"), &mut paths);
    assert!(paths.len() > 30, "the scan sees the web layer ({})", paths.len());
    let mut reaching = BTreeSet::new();
    for p in &paths {
        let code = code_of(p);
        if names_data_layer(&code) {
            reaching.insert(p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
        }
    }
    assert!(reaching.is_empty(), "web files reaching crate::store or crate::db (go through a service): {reaching:?}");
}
