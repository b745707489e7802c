//! What `kpr-bridge check` shows: a summary table on the terminal, one JSON object, and a
//! self-contained HTML report for the municipality's IPLOS contact. The table and the report
//! are written in the language they are asked for (`locales/*/report.ftl`); the JSON's keys
//! stay English.

pub mod html;
pub mod run_view;
pub mod summary;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::assembly::controls::ControlFinding;
use crate::checks::{CheckReport, Finding, Severity};
use crate::config::Mode;
use crate::i18n::Language;
use crate::model::ServiceCode;
use crate::t;

/// Everything a report shows: the check's result and where the data came from.
pub struct ReportView<'a> {
    pub year: i32,
    /// Four digits, as text.
    pub municipality: &'a str,
    pub municipality_name: &'a str,
    pub mode: Mode,
    /// When the check ran (shown in Europe/Oslo time).
    pub generated: DateTime<Utc>,
    pub sources: Vec<SourceLine>,
    pub report: &'a CheckReport,
    /// The register's own arrival checks on KPR_IPL as the year would be written.
    pub controls: &'a [ControlFinding],
}

/// One configured source, as read.
pub struct SourceLine {
    pub name: String,
    /// What kind of source it is.
    pub origin: Origin,
    /// Where it is read from: `/srv/epj-export` or `postgres://epj-db/epj` (never a password).
    pub place: String,
    pub persons: u64,
    pub services: u64,
    /// Rows or values the reader could not use (each named on the terminal).
    pub problems: u64,
}

/// What kind of source a [`SourceLine`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Files exported from the EPJ.
    Extract,
    /// The EPJ's database, read by queries.
    Database,
    /// The EPJ's own IPLOS 3.7 extract (fagmelding and identmelding).
    Iplos,
}

impl SourceLine {
    /// `uttrekk /srv/epj-export`, `database postgres://epj-db/epj`.
    pub fn origin(&self, lang: Language) -> String {
        let place = self.place.clone();
        match self.origin {
            Origin::Extract => t!(lang, "report-origin-extract", place = place),
            Origin::Database => t!(lang, "report-origin-database", place = place),
            Origin::Iplos => t!(lang, "report-origin-iplos", place = place),
        }
    }
}

/// The mode, as the report names it.
fn mode(lang: Language, mode: Mode) -> String {
    match mode {
        Mode::Test => t!(lang, "report-mode-test"),
        Mode::Production => t!(lang, "report-mode-production"),
    }
}

/// The `--json` output: `{"year", "persons", "services", "findings": [...]}`.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    pub year: i32,
    pub persons: u64,
    pub services: u64,
    pub findings: &'a [Finding],
    /// The register's arrival checks on KPR_IPL as the year would be written.
    pub register_checks: &'a [ControlFinding],
}

impl<'a> JsonReport<'a> {
    pub fn new(view: &'a ReportView) -> Self {
        JsonReport {
            year: view.year,
            persons: view.report.persons,
            services: view.report.services,
            findings: &view.report.findings,
            register_checks: view.controls,
        }
    }
}

/// The name of a service type (code system 9151) in `lang`: the code list's own name in
/// `nb` ("Helsetjenester i hjemmet"); in `en` that name with an English explanation beside it
/// ("Helsetjenester i hjemmet (health care at home)"). Empty for a code the list never had.
pub fn service_type_name(lang: Language, code: ServiceCode) -> String {
    lang.text_if_any(&service_type_key(code))
        .or_else(|| code.info().map(|t| t.name.to_string()))
        .unwrap_or_default()
}

/// A service type as the report shows a code: `15 Helsetjenester i hjemmet`.
pub fn service_type(lang: Language, code: ServiceCode) -> String {
    match service_type_name(lang, code) {
        name if name.is_empty() => code.to_string(),
        name => format!("{code} {name}"),
    }
}

/// `service-type-15`; a sub-code such as `08.01` is `service-type-8-1` (ids have no dots).
fn service_type_key(code: ServiceCode) -> String {
    let text = code.to_string();
    let number = |part: &str| part.parse::<u8>().unwrap_or_default();
    match text.split_once('.') {
        Some((main, sub)) => format!("service-type-{}-{}", number(main), number(sub)),
        None => format!("service-type-{}", number(&text)),
    }
}

/// A severity in a sentence or a table cell: "feil", "advarsel".
fn severity(lang: Language, severity: Severity) -> String {
    match severity {
        Severity::Error => t!(lang, "report-severity-error"),
        Severity::Warning => t!(lang, "report-severity-warning"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SERVICE_TYPES;

    #[test]
    fn service_type_names_are_the_code_list_s_in_bokmal_with_english_beside_them() {
        for service_type in &SERVICE_TYPES {
            let code = service_type.code;
            assert_eq!(
                Language::Nb.text_if_any(&service_type_key(code)).as_deref(),
                Some(service_type.name),
                "the bokmål name of {code}"
            );
            let english = service_type_name(Language::En, code);
            assert!(
                english.starts_with(&format!("{} (", service_type.name)) && english.ends_with(')'),
                "{code}: {english}"
            );
        }
        // And no name for a code the list does not have.
        for lang in Language::ALL {
            for id in crate::i18n::message_ids(lang) {
                if id.starts_with("service-type-") {
                    assert!(
                        SERVICE_TYPES.iter().any(|t| service_type_key(t.code) == id),
                        "{id} ({lang}) is not a code of 9151"
                    );
                }
            }
        }
        let home: ServiceCode = "15".parse().unwrap();
        assert_eq!(
            service_type(Language::Nb, home),
            "15 Helsetjenester i hjemmet"
        );
        assert_eq!(
            service_type(Language::En, home),
            "15 Helsetjenester i hjemmet (health care at home)"
        );
        let rota: ServiceCode = "08.01".parse().unwrap();
        assert_eq!(service_type_key(rota), "service-type-8-1");
        assert_eq!(
            service_type(Language::Nb, rota),
            "08.01 Avlastning i institusjon – rullerende"
        );
        assert_eq!(service_type(Language::Nb, "30".parse().unwrap()), "30");
    }
}
