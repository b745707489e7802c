//! The short table `kpr-bridge check` prints on the terminal.

use std::fmt::Write;

use super::{ReportView, thousands};
use crate::checks::Severity;

pub fn render(view: &ReportView) -> String {
    let report = view.report;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Check of {} {}, {} ({} mode), {}",
        view.municipality, view.municipality_name, view.year, view.mode, view.generated
    );
    let _ = writeln!(out, "\nSources");
    let name_width = view.sources.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for source in &view.sources {
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:>9} persons  {:>9} services  {:>6} problems  {}",
            source.name,
            thousands(source.persons),
            thousands(source.services),
            thousands(source.problems),
            source.origin,
        );
    }
    let (errors, warnings) = report.rules_by_severity();
    let _ = writeln!(
        out,
        "\n{} persons, {} services; {errors} rule(s) with errors, {warnings} with warnings",
        thousands(report.persons),
        thousands(report.services),
    );
    register_checks(&mut out, view);
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.");
        return out;
    }
    let _ = writeln!(out, "\n  {:<22} {:<8} {:>9}", "rule", "severity", "count");
    for finding in &report.findings {
        let severity = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "  {:<22} {:<8} {:>9}",
            finding.rule,
            severity,
            thousands(finding.count)
        );
    }
    out
}

/// The register's arrival checks that would drop data, one line each.
fn register_checks(out: &mut String, view: &ReportView) {
    let dropping: Vec<_> = view
        .controls
        .iter()
        .filter(|f| f.severity().is_some())
        .collect();
    if dropping.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "The register's arrival checks on KPR_IPL as it would be written would drop data:"
    );
    for f in dropping {
        let _ = writeln!(
            out,
            "  {} {} ({} check) {}: {}; expected {}, e.g. {}",
            f.record,
            f.field,
            f.kind.as_str(),
            thousands(f.count),
            f.consequence.words(),
            f.expected,
            f.example
        );
    }
}
