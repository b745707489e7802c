//! The catalogue of rules: stable ids, severity, and words an IPLOS contact understands.
//! Ids never change once released: reports, alerts and metrics are keyed by them.

use serde::{Deserialize, Serialize};

use crate::i18n::Language;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The register would reject or misread the data: held back until fixed.
    Error,
    /// Worth a look; the data still flows.
    Warning,
}

#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
}

impl Rule {
    /// What the finding means: `rule-<id>.explains` in the catalog (`locales/*/rules.ftl`).
    pub fn explains(&self, lang: Language) -> String {
        lang.text(&format!("rule-{}.explains", self.id))
    }

    /// What to do about it: `rule-<id>.fix` in the catalog.
    pub fn fix(&self, lang: Language) -> String {
        lang.text(&format!("rule-{}.fix", self.id))
    }
}

const fn rule(id: &'static str, severity: Severity) -> Rule {
    Rule { id, severity }
}

use Severity::{Error, Warning};

/// Every rule, in the order reports list them; their words are in `locales/*/rules.ftl`.
pub static RULES: &[Rule] = &[
    rule("test-user", Warning),
    rule("municipality-invalid", Error),
    rule("ident-invalid", Error),
    rule("orgnr-invalid", Error),
    rule("orgnr-missing", Error),
    rule("orgnr-forbidden", Error),
    rule("code-retired", Error),
    rule("local-type-unmapped", Error),
    rule("hours-invalid", Error),
    rule("dates-invalid", Error),
    rule("period-outside", Warning),
    rule("service-duplicate", Error),
    rule("score-invalid", Error),
    rule("variable-unknown", Warning),
    rule("diagnosis-malformed", Warning),
    rule("welfare-tech-missing", Warning),
    rule("residence-missing", Error),
    // Found by the daily flow, not the checks: `daily::identity_change`.
    rule("identity-conflict", Error),
    // Found by the daily flow, not the checks: `daily::sealed`.
    rule("identity-key-lost", Error),
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(
            ids.iter()
                .all(|id| id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }

    #[test]
    fn every_rule_has_its_words_in_both_languages_and_the_catalog_no_others() {
        for lang in Language::ALL {
            for rule in RULES {
                for part in ["explains", "fix"] {
                    let key = format!("rule-{}.{part}", rule.id);
                    let text = lang.text_if_any(&key);
                    assert!(
                        text.is_some_and(|t| !t.trim().is_empty()),
                        "{key} missing in {lang}"
                    );
                }
            }
            for id in crate::i18n::message_ids(lang) {
                if let Some(rest) = id.strip_prefix("rule-") {
                    let rule = rest.split('.').next().unwrap_or_default();
                    assert!(find(rule).is_some(), "{id} in {lang} is no rule");
                }
            }
        }
        let rule = find("local-type-unmapped").unwrap();
        assert!(rule.explains(Language::Nb).contains("mappingfilen"));
        assert!(
            rule.fix(Language::En)
                .starts_with("Add a rule for the local type")
        );
    }
}
