//! Each rule that found something: what it means, what to do, and the examples, located by
//! source and local id only.

use std::fmt::{self, Write};

use super::text::{Escaped, severity_badge, severity_class};
use crate::checks::Finding;
use crate::i18n::Language;
use crate::t;

/// Each rule that found something: what it means, what to do, and where to look.
pub(super) fn findings(out: &mut String, findings: &[Finding], lang: Language) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"findings\">\n<h2>{}</h2>",
        Escaped(&t!(lang, "report-findings"))
    )?;
    if findings.is_empty() {
        writeln!(
            out,
            "<p class=\"none\">{}</p>",
            Escaped(&t!(lang, "report-findings-none"))
        )?;
    }
    for finding in findings {
        finding_block(out, finding, lang)?;
    }
    writeln!(out, "</section>")
}

/// A record kind of an example (`service`), in words.
fn record(lang: Language, record: &str) -> String {
    match record {
        "person" => t!(lang, "report-record-person"),
        "service" => t!(lang, "report-record-service"),
        "assessment" => t!(lang, "report-record-assessment"),
        "diagnosis" => t!(lang, "report-record-diagnosis"),
        other => other.to_string(),
    }
}

fn finding_block(out: &mut String, finding: &Finding, lang: Language) -> fmt::Result {
    let info = finding.info();
    let class = severity_class(finding.severity);
    write!(
        out,
        "<article class=\"finding {class}\" id=\"rule-{0}\">\n<h3><code>{0}</code> ",
        finding.rule
    )?;
    severity_badge(out, finding.severity, lang)?;
    writeln!(
        out,
        " <span class=\"count\">{}</span></h3>\n<p>{}</p>\n\
         <p class=\"fix\"><strong>{}</strong> {}</p>",
        Escaped(&t!(lang, "report-found-times", count = finding.count)),
        Escaped(&info.explains(lang)),
        Escaped(&t!(lang, "report-what-to-do")),
        Escaped(&info.fix(lang))
    )?;
    if finding.examples.is_empty() {
        return writeln!(out, "</article>");
    }
    let shown = finding.examples.len() as u64;
    if finding.count > shown {
        writeln!(
            out,
            "<p class=\"note\">{}</p>",
            Escaped(&t!(
                lang,
                "report-examples-first",
                shown = shown,
                count = finding.count
            ))
        )?;
    }
    writeln!(
        out,
        "<table class=\"examples\">\n<thead><tr><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead>\n<tbody>",
        Escaped(&t!(lang, "report-examples-source")),
        Escaped(&t!(lang, "report-examples-record")),
        Escaped(&t!(lang, "report-examples-local-id")),
        Escaped(&t!(lang, "report-examples-detail")),
    )?;
    for example in &finding.examples {
        let local_id = match example.local_id.as_str() {
            "" => "–".to_string(),
            id => format!("<code>{}</code>", Escaped(id)),
        };
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{local_id}</td><td>{}</td></tr>",
            Escaped(&example.source),
            Escaped(&record(lang, example.record)),
            Escaped(&example.detail)
        )?;
    }
    writeln!(out, "</tbody>\n</table>\n</article>")
}
