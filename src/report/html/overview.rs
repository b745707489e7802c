//! The report's first two sections: where the data came from (so a surprising figure can be
//! traced to one EPJ), and the summary of figures and rules, as on the terminal.

use std::fmt::{self, Write};

use super::text::{Escaped, figure, number_cell, severity_badge};
use crate::checks::CheckReport;
use crate::i18n::Language;
use crate::report::SourceLine;
use crate::t;

/// Where the data came from, so a surprising figure can be traced to one EPJ.
pub(super) fn sources(out: &mut String, sources: &[SourceLine], lang: Language) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"sources\">\n<h2>{}</h2>",
        Escaped(&t!(lang, "report-sources"))
    )?;
    if sources.is_empty() {
        return writeln!(
            out,
            "<p>{}</p>\n</section>",
            Escaped(&t!(lang, "report-sources-none"))
        );
    }
    writeln!(
        out,
        "<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\" class=\"num\">{}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>",
        Escaped(&t!(lang, "report-sources-source")),
        Escaped(&t!(lang, "report-sources-origin")),
        Escaped(&t!(lang, "report-sources-persons")),
        Escaped(&t!(lang, "report-sources-services")),
        Escaped(&t!(lang, "report-sources-problems")),
    )?;
    for source in sources {
        write!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"origin\">{}</td>",
            Escaped(&source.name),
            Escaped(&source.origin(lang))
        )?;
        number_cell(out, source.persons, lang)?;
        number_cell(out, source.services, lang)?;
        if source.problems > 0 {
            write!(
                out,
                "<td class=\"num problems\" data-value=\"{}\">{}</td>",
                source.problems,
                figure(lang, source.problems)
            )?;
        } else {
            number_cell(out, 0, lang)?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"note\">{}</p>\n</section>",
        Escaped(&t!(lang, "report-sources-note"))
    )
}

/// The same figures as the terminal table: persons, services, rules with errors and with
/// warnings, then each rule's count.
pub(super) fn summary(out: &mut String, report: &CheckReport, lang: Language) -> fmt::Result {
    let (errors, warnings) = report.rules_by_severity();
    writeln!(
        out,
        "<section>\n<h2>{}</h2>\n<table id=\"summary\">\n\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\" class=\"num\">{}</th></tr></thead>\n<tbody>",
        Escaped(&t!(lang, "report-summary")),
        Escaped(&t!(lang, "report-summary-what")),
        Escaped(&t!(lang, "report-summary-severity")),
        Escaped(&t!(lang, "report-summary-count")),
    )?;
    let rows = [
        (
            "persons",
            t!(lang, "report-summary-persons"),
            "",
            report.persons,
        ),
        (
            "services",
            t!(lang, "report-summary-services"),
            "",
            report.services,
        ),
        ("errors", t!(lang, "report-summary-errors"), "error", errors),
        (
            "warnings",
            t!(lang, "report-summary-warnings"),
            "warning",
            warnings,
        ),
    ];
    for (id, label, class, n) in rows {
        let class = if n > 0 { class } else { "" };
        write!(
            out,
            "<tr id=\"summary-{id}\" class=\"total {class}\"><th scope=\"row\">{}</th><td></td>",
            Escaped(&label)
        )?;
        number_cell(out, n, lang)?;
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n<tbody class=\"rules\">")?;
    if report.findings.is_empty() {
        writeln!(
            out,
            "<tr><td colspan=\"3\" class=\"none\">{}</td></tr>",
            Escaped(&t!(lang, "report-summary-passed"))
        )?;
    }
    for finding in &report.findings {
        write!(
            out,
            "<tr data-rule=\"{0}\"><th scope=\"row\"><a href=\"#rule-{0}\"><code>{0}</code></a></th><td>",
            finding.rule
        )?;
        severity_badge(out, finding.severity, lang)?;
        out.push_str("</td>");
        number_cell(out, finding.count, lang)?;
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n</table>\n</section>")
}
