//! The register's own arrival checks on KPR_IPL as the year would be written
//! (`assembly::controls`): what it would discard, with the consequence; what it takes as it is.

use std::fmt::{self, Write};

use super::text::{Escaped, severity_badge, severity_class};
use crate::assembly::controls::ControlFinding;
use crate::checks::Severity;
use crate::i18n::Language;
use crate::t;

/// The register's own arrival checks on KPR_IPL as the year would be written: what the
/// register would discard, with its consequence in plain words; what it takes as it is, in
/// one line.
pub(super) fn register_checks(
    out: &mut String,
    controls: &[ControlFinding],
    lang: Language,
) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"register-checks\">\n<h2>{}</h2>\n<p>{}</p>",
        Escaped(&t!(lang, "report-register")),
        Escaped(&t!(lang, "report-register-intro")),
    )?;
    let (dropping, taken): (Vec<_>, Vec<_>) = controls.iter().partition(|f| f.severity().is_some());
    if dropping.is_empty() {
        writeln!(
            out,
            "<p class=\"none\">{}</p>",
            Escaped(&t!(lang, "report-register-none"))
        )?;
    }
    for f in dropping {
        let severity = f.severity().unwrap_or(Severity::Warning);
        write!(
            out,
            "<article class=\"finding {}\" data-field=\"{}\">\n<h3><code>{} {}</code> ",
            severity_class(severity),
            Escaped(&f.field),
            Escaped(&f.record),
            Escaped(&f.field)
        )?;
        severity_badge(out, severity, lang)?;
        writeln!(
            out,
            " <span class=\"count\">{}</span></h3>\n\
             <p><strong>{}.</strong> {}</p>\n\
             <p class=\"fix\"><strong>{}</strong> {}</p>\n</article>",
            Escaped(&t!(
                lang,
                "report-register-count",
                kind = f.kind.words(lang),
                count = f.count
            )),
            Escaped(&capitalised(&f.consequence.words(lang))),
            Escaped(&t!(
                lang,
                "report-register-expected",
                expected = f.expected.text(lang),
                example = f.example.clone()
            )),
            Escaped(&t!(lang, "report-what-to-do")),
            Escaped(&f.fix(lang))
        )?;
    }
    if !taken.is_empty() {
        let fields: Vec<String> = taken
            .iter()
            .map(|f| {
                t!(
                    lang,
                    "report-register-field",
                    field = f.field.clone(),
                    kind = f.kind.words(lang),
                    count = f.count
                )
            })
            .collect();
        writeln!(
            out,
            "<p class=\"note\">{}</p>",
            Escaped(&t!(
                lang,
                "report-register-taken",
                fields = fields.join(", ")
            ))
        )?;
    }
    writeln!(out, "</section>")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
