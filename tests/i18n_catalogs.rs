//! The catalogs are whole: the same messages in bokmål and English, each written correctly,
//! and every key the code or a template asks for present in both.

use std::collections::BTreeSet;
use std::path::Path;

use kpr_bridge::i18n::{Language, catalog_errors, message_ids};
use regex::Regex;

/// Keys made from data (a code, a rule id) rather than written out where they are used.
const MADE_FROM_DATA: &[&str] = &[
    "language-",
    "service-type-",
    "rule-",
    "contact-type-",
    "status-notification-",
    "apprec-",
    "control-",
    "state-",
    "kind-",
];

fn ids(language: Language) -> BTreeSet<String> {
    message_ids(language).into_iter().collect()
}

#[test]
fn every_catalog_parses() {
    assert_eq!(catalog_errors(), Vec::<String>::new());
}

#[test]
fn both_languages_have_the_same_messages() {
    let nb = ids(Language::Nb);
    let en = ids(Language::En);
    let only_nb: Vec<_> = nb.difference(&en).collect();
    let only_en: Vec<_> = en.difference(&nb).collect();
    assert!(
        only_nb.is_empty() && only_en.is_empty(),
        "missing in en: {only_nb:?}\nmissing in nb: {only_en:?}"
    );
    let mut all = message_ids(Language::Nb);
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "a message id is written twice");
}

/// Every `t!(lang, "key"` in src/ (outside comments), and every `t("key")` or `.text("key")`
/// in templates/.
fn keys_used() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let in_code = Regex::new(r#"t!\(\s*[^,()]+,\s*"([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)?)""#).unwrap();
    let in_templates =
        Regex::new(r#"(?:\bt|\.text)\(\s*"([a-z][a-z0-9-]*(?:\.[a-z0-9-]+)?)""#).unwrap();
    let mut keys = BTreeSet::new();
    for (dir, pattern) in [("src", &in_code), ("templates", &in_templates)] {
        for file in files(&root.join(dir)) {
            let text: String = std::fs::read_to_string(&file)
                .unwrap()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for capture in pattern.captures_iter(&text) {
                keys.insert(capture[1].to_string());
            }
        }
    }
    keys
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs" || e == "html") {
            found.push(path);
        }
    }
    found
}

#[test]
fn every_key_asked_for_is_in_both_catalogs() {
    let used = keys_used();
    assert!(used.len() > 10, "the key search found only {used:?}");
    for language in Language::ALL {
        let have = ids(language);
        let missing: Vec<_> = used.iter().filter(|k| !have.contains(*k)).collect();
        assert!(missing.is_empty(), "missing in {language}: {missing:?}");
    }
}

#[test]
fn every_catalog_message_is_used() {
    let used = keys_used();
    let unused: Vec<_> = ids(Language::Nb)
        .into_iter()
        .filter(|id| !MADE_FROM_DATA.iter().any(|p| id.starts_with(p)))
        .filter(|id| !used.contains(id))
        .filter(|id| {
            // A message used only through its attributes counts as used.
            !used.iter().any(|u| u.starts_with(&format!("{id}.")))
        })
        .collect();
    assert!(
        unused.is_empty(),
        "catalog messages nothing asks for: {unused:?}"
    );
}
