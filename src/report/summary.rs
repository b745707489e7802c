//! The short table `kpr-bridge check` prints on the terminal.

use std::fmt::Write;

use super::{ReportView, mode, severity};
use crate::i18n::Language;
use crate::t;

pub fn render(view: &ReportView, lang: Language) -> String {
    let report = view.report;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        t!(
            lang,
            "summary-title",
            municipality = view.municipality.to_string(),
            name = view.municipality_name.to_string(),
            year = view.year.to_string(),
            mode = mode(lang, view.mode),
            generated = lang.moment(view.generated)
        )
    );
    let _ = writeln!(out, "\n{}", t!(lang, "summary-sources"));
    let name_width = view
        .sources
        .iter()
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    let (persons, services, problems) = (
        t!(lang, "summary-persons"),
        t!(lang, "summary-services"),
        t!(lang, "summary-problems"),
    );
    for source in &view.sources {
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:>9} {persons}  {:>9} {services}  {:>6} {problems}  {}",
            source.name,
            lang.number(source.persons),
            lang.number(source.services),
            lang.number(source.problems),
            source.origin(lang),
        );
    }
    let (errors, warnings) = report.rules_by_severity();
    let _ = writeln!(
        out,
        "\n{}",
        t!(
            lang,
            "summary-totals",
            persons = report.persons,
            services = report.services,
            errors = errors,
            warnings = warnings
        )
    );
    register_checks(&mut out, view, lang);
    if report.findings.is_empty() {
        let _ = writeln!(out, "{}", t!(lang, "summary-no-findings"));
        return out;
    }
    let words: Vec<String> = report
        .findings
        .iter()
        .map(|f| severity(lang, f.severity))
        .collect();
    let header = t!(lang, "summary-severity");
    let width = words
        .iter()
        .chain([&header])
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "\n  {:<22} {header:<width$} {:>9}",
        t!(lang, "summary-rule"),
        t!(lang, "summary-count")
    );
    for (finding, word) in report.findings.iter().zip(&words) {
        let _ = writeln!(
            out,
            "  {:<22} {word:<width$} {:>9}",
            finding.rule,
            lang.number(finding.count)
        );
    }
    out
}

/// The register's arrival checks that would drop data, one line each.
fn register_checks(out: &mut String, view: &ReportView, lang: Language) {
    let dropping: Vec<_> = view
        .controls
        .iter()
        .filter(|f| f.severity().is_some())
        .collect();
    if dropping.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", t!(lang, "summary-register"));
    for f in dropping {
        let _ = writeln!(
            out,
            "  {}",
            t!(
                lang,
                "summary-register-line",
                record = f.record.clone(),
                field = f.field.clone(),
                kind = f.kind.words(lang),
                count = f.count,
                consequence = f.consequence.words(lang),
                expected = f.expected.text(lang),
                example = f.example.clone()
            )
        );
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::checks::{CheckReport, Finding, Severity};
    use crate::config::Mode;
    use crate::report::{Origin, SourceLine};

    fn table(lang: Language) -> String {
        let report = CheckReport {
            persons: 59_976,
            services: 123_456,
            findings: vec![Finding {
                rule: "hours-invalid",
                severity: Severity::Error,
                count: 1_204,
                examples: vec![],
            }],
            ..CheckReport::default()
        };
        let view = ReportView {
            year: 2026,
            municipality: "4601",
            municipality_name: "Bergen",
            mode: Mode::Test,
            generated: Utc.with_ymd_and_hms(2026, 12, 7, 9, 10, 0).unwrap(),
            sources: vec![SourceLine {
                name: "epj".into(),
                origin: Origin::Extract,
                place: "/srv/epj".into(),
                persons: 59_976,
                services: 123_456,
                problems: 0,
            }],
            report: &report,
            controls: &[],
        };
        render(&view, lang)
    }

    #[test]
    fn the_table_is_in_bokmal_or_in_english() {
        let nb = table(Language::Nb);
        assert!(
            nb.starts_with("Kontroll av 4601 Bergen for 2026 (modus: test), 07.12.2026 10:10\n"),
            "{nb}"
        );
        assert!(nb.contains("59 976 personer"), "{nb}");
        assert!(nb.contains("uttrekk /srv/epj"), "{nb}");
        assert!(
            nb.contains("59 976 personer, 123 456 tjenester; 1 regel med feil, 0 med advarsler"),
            "{nb}"
        );
        assert!(nb.contains("regel"), "{nb}");
        assert!(
            nb.contains("hours-invalid          feil            1 204"),
            "{nb}"
        );
        let en = table(Language::En);
        assert!(
            en.starts_with("Check of 4601 Bergen, 2026 (test mode), 2026-12-07 10:10\n"),
            "{en}"
        );
        assert!(
            en.contains("59,976 persons, 123,456 services; 1 rule(s) with errors, 0 with warnings"),
            "{en}"
        );
        assert!(
            en.contains("hours-invalid          error        1,204"),
            "{en}"
        );
    }
}
