//! The HTML report: one self-contained page the municipality's IPLOS contact reads before the
//! annual data is sent. It opens offline from a file or an e-mail attachment, so everything is
//! inline (CSS, an SVG chart we draw ourselves) and nothing is fetched; it needs no script and
//! prints cleanly. Its words come from `locales/<language>/report.ftl`; numbers and dates are
//! written as the language writes them.
//!
//! Every text that comes from data (source names, origins, local types, details) goes through
//! [`Escaped`]: an EPJ may name a type `<b>` or `R&D`. Catalog texts go through it too. The
//! check's report holds no identity numbers or names, so neither does this page.
//!
//! The page is put together here, with its head, its header (the answer first: can the data be
//! sent) and its footer; each section has a file: `overview.rs` (sources and summary),
//! `chart.rs` (the months), `findings.rs`, `register_checks.rs`, `coverage.rs` (the mapping);
//! `text.rs` holds what they share, `style.rs` the CSS.

mod chart;
mod coverage;
mod findings;
mod overview;
mod register_checks;
mod style;
mod text;

use std::fmt::{self, Write};

use super::{ReportView, mode};
use crate::i18n::Language;
use crate::t;
use style::STYLE;
use text::{Escaped, figure};

pub(crate) use chart::nice_top;

/// The whole report as one HTML5 document, in `lang`.
pub fn render(view: &ReportView, lang: Language) -> String {
    let mut out = String::with_capacity(32 * 1024);
    page(&mut out, view, lang).expect("writing to a String cannot fail");
    out
}

fn page(out: &mut String, view: &ReportView, lang: Language) -> fmt::Result {
    let report = view.report;
    head(out, view, lang)?;
    out.push_str("<body>\n<main>\n");
    header(out, view, lang)?;
    overview::sources(out, &view.sources, lang)?;
    overview::summary(out, report, lang)?;
    chart::chart_section(out, view.year, &report.months, lang)?;
    findings::findings(out, &report.findings, lang)?;
    register_checks::register_checks(out, view.controls, lang)?;
    coverage::coverage(out, &view.sources, &report.coverage, lang)?;
    writeln!(
        out,
        "<footer>{}</footer>",
        Escaped(&t!(
            lang,
            "report-footer",
            version = env!("CARGO_PKG_VERSION")
        ))
    )?;
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(())
}

fn head(out: &mut String, view: &ReportView, lang: Language) -> fmt::Result {
    let title = t!(
        lang,
        "report-title",
        year = view.year.to_string(),
        municipality = view.municipality.to_string(),
        name = view.municipality_name.to_string()
    );
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>",
        lang.code(),
        Escaped(&title),
    )
}

/// Who, which year, and the one answer the reader needs first: can the data be sent.
fn header(out: &mut String, view: &ReportView, lang: Language) -> fmt::Result {
    let report = view.report;
    writeln!(
        out,
        "<header>\n<p class=\"kicker\">{}</p>\n\
         <h1>{} {} <span class=\"year\">{}</span></h1>\n<dl class=\"meta\">\
         <div><dt>{}</dt><dd>{}</dd></div>\
         <div><dt>{}</dt><dd>{}</dd></div>\
         <div><dt>{}</dt><dd>{}</dd></div></dl>",
        Escaped(&t!(lang, "report-kicker")),
        Escaped(view.municipality),
        Escaped(view.municipality_name),
        Escaped(&t!(
            lang,
            "report-reporting-year",
            year = view.year.to_string()
        )),
        Escaped(&t!(lang, "report-meta-mode")),
        Escaped(&mode(lang, view.mode)),
        Escaped(&t!(lang, "report-meta-generated")),
        Escaped(&lang.moment(view.generated)),
        Escaped(&t!(lang, "report-meta-sources")),
        figure(lang, view.sources.len() as u64),
    )?;
    let (errors, warnings) = report.rules_by_severity();
    let problems: u64 = view.sources.iter().map(|s| s.problems).sum();
    if errors > 0 {
        writeln!(
            out,
            "<p class=\"status error\"><strong>{}</strong> {}{}</p>",
            Escaped(&t!(lang, "report-status-errors", count = errors)),
            Escaped(&t!(lang, "report-status-errors-text")),
            warnings_note(warnings, lang),
        )?;
    } else if problems > 0 {
        writeln!(
            out,
            "<p class=\"status warning\"><strong>{}</strong> {}{}</p>",
            Escaped(&t!(lang, "report-status-problems", count = problems)),
            Escaped(&t!(lang, "report-status-problems-text")),
            warnings_note(warnings, lang),
        )?;
    } else {
        writeln!(
            out,
            "<p class=\"status ok\"><strong>{}</strong>{}</p>",
            Escaped(&t!(lang, "report-status-ok")),
            warnings_note(warnings, lang),
        )?;
    }
    writeln!(
        out,
        "<nav><a href=\"#summary\">{}</a> <a href=\"#months\">{}</a> \
         <a href=\"#findings\">{}</a> <a href=\"#mapping\">{}</a></nav>\n</header>",
        Escaped(&t!(lang, "report-nav-summary")),
        Escaped(&t!(lang, "report-nav-months")),
        Escaped(&t!(lang, "report-nav-findings")),
        Escaped(&t!(lang, "report-nav-mapping")),
    )
}

fn warnings_note(warnings: u64, lang: Language) -> String {
    match warnings {
        0 => String::new(),
        n => format!(
            " {}",
            Escaped(&t!(lang, "report-status-warnings", count = n))
        ),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::checks::{CheckReport, Example, Finding, Severity};
    use crate::config::Mode;
    use crate::report::{Origin, SourceLine};

    pub(super) fn view(report: &CheckReport) -> ReportView<'_> {
        ReportView {
            year: 2025,
            municipality: "4601",
            municipality_name: "Bergen",
            mode: Mode::Test,
            generated: Utc.with_ymd_and_hms(2026, 12, 7, 9, 10, 0).unwrap(),
            controls: &[],
            sources: vec![SourceLine {
                name: "gammel <EPJ>".into(),
                origin: Origin::Extract,
                place: "/srv/a&b".into(),
                persons: 0,
                services: 0,
                problems: 0,
            }],
            report,
        }
    }

    #[test]
    fn data_text_is_escaped_in_the_page() {
        let report = CheckReport {
            findings: vec![Finding {
                rule: "local-type-unmapped",
                severity: Severity::Error,
                count: 1,
                examples: vec![Example {
                    source: "epj".into(),
                    record: "service",
                    local_id: "s'1".into(),
                    detail: "<script>alert(\"x\")</script>".into(),
                }],
            }],
            ..CheckReport::default()
        };
        for lang in Language::ALL {
            let html = render(&view(&report), lang);
            assert!(!html.contains("<script"), "{html}");
            assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
            assert!(html.contains("gammel &lt;EPJ&gt;") && html.contains("/srv/a&amp;b"));
            assert!(html.contains("s&#39;1"));
        }
    }

    #[test]
    fn reading_problems_hold_back_the_all_clear() {
        let report = CheckReport::default();
        let mut view = view(&report);
        view.sources[0].problems = 3;
        let html = render(&view, Language::Nb);
        assert!(!html.contains("dataene kan sendes inn"));
        assert!(
            html.contains("3 rader eller verdier kunne ikke leses"),
            "{html}"
        );
        let html = render(&view, Language::En);
        assert!(!html.contains("the data can be sent"));
        assert!(html.contains("3 rows or values could not be read"));
    }

    #[test]
    fn no_codes_gives_a_sentence_instead_of_a_chart() {
        let report = CheckReport::default();
        let html = render(&view(&report), Language::Nb);
        assert!(!html.contains("<svg id=\"chart\""));
        assert!(html.contains(
            "Ingen innvilgede tjenester i 2025, så det er ingenting å vise i diagrammet."
        ));
        assert!(html.contains("Ingen regler fant noe."));
        assert!(html.contains("Ingen feil: dataene kan sendes inn."));
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
        let html = render(&view(&report), Language::En);
        assert!(html.contains("No granted services in 2025, so there is nothing to chart."));
        assert!(html.contains("Every rule passed."));
        assert!(html.contains("No errors: the data can be sent."));
    }

    /// Bokmål by default, with Norwegian numbers and dates; English when asked for.
    #[test]
    fn the_page_is_in_bokmal_or_in_english() {
        let report = CheckReport {
            persons: 59_976,
            findings: vec![Finding {
                rule: "hours-invalid",
                severity: Severity::Error,
                count: 2,
                examples: vec![],
            }],
            ..CheckReport::default()
        };
        let nb = render(&view(&report), Language::default());
        assert!(nb.contains("<html lang=\"nb\">"));
        assert!(
            nb.contains("<title>IPLOS-kontroll 2025 – 4601 Bergen</title>"),
            "{nb}"
        );
        assert!(nb.contains("<dd>07.12.2026 10:10</dd>"), "{nb}");
        assert!(nb.contains(">59\u{a0}976</td>"), "{nb}");
        assert!(
            nb.contains("Ikke klar til innsending: 1 regel fant feil."),
            "{nb}"
        );
        assert!(nb.contains("funnet 2 ganger"), "{nb}");
        assert!(nb.contains("Dette gjør du:"), "{nb}");
        assert!(nb.contains("&#x2716; Feil"), "{nb}");
        assert!(nb.contains("uttrekk /srv/a&amp;b"), "{nb}");
        assert!(
            nb.contains(
                &Escaped(
                    &crate::checks::rules::find("hours-invalid")
                        .unwrap()
                        .fix(Language::Nb)
                )
                .to_string()
            )
        );
        for english in [
            "Summary",
            "Findings",
            "What to do",
            "Sources",
            "Persons",
            "Not ready",
            "found",
            "reporting year",
            "Generated",
            "Made by",
        ] {
            assert!(
                !nb.contains(english),
                "English {english:?} on the bokmål page"
            );
        }
        let en = render(&view(&report), Language::En);
        assert!(en.contains("<html lang=\"en\">"));
        assert!(en.contains("<dd>2026-12-07 10:10</dd>"), "{en}");
        assert!(en.contains(">59,976</td>"), "{en}");
        assert!(
            en.contains("Not ready to send: 1 rule found errors."),
            "{en}"
        );
        assert!(
            en.contains("What to do:") && en.contains("found 2 times"),
            "{en}"
        );
    }
}
