//! The HTML report: one self-contained page the municipality's IPLOS contact reads before the
//! annual data is sent. It opens offline from a file or an e-mail attachment, so everything is
//! inline (CSS, an SVG chart we draw ourselves) and nothing is fetched; it needs no script and
//! prints cleanly. Its words come from `locales/<language>/report.ftl`; numbers and dates are
//! written as the language writes them.
//!
//! Every text that comes from data (source names, origins, local types, details) goes through
//! [`Escaped`]: an EPJ may name a type `<b>` or `R&D`. Catalog texts go through it too. The
//! check's report holds no identity numbers or names, so neither does this page.

use std::fmt::{self, Write};

use super::{ReportView, SourceLine, mode, service_type, service_type_name};
use crate::annual::controls::ControlFinding;
use crate::checks::{CheckReport, CodeMonths, Finding, MapsTo, Severity, TypeCoverage};
use crate::i18n::Language;
use crate::t;

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
    sources(out, &view.sources, lang)?;
    summary(out, report, lang)?;
    chart_section(out, view.year, &report.months, lang)?;
    findings(out, &report.findings, lang)?;
    register_checks(out, view.controls, lang)?;
    coverage(out, &view.sources, &report.coverage, lang)?;
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

/// Text from data or the catalog, written as HTML text or attribute value.
struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// A figure as the language writes it (`1 234 567`, `1,234,567`), with no-break spaces so
/// that it never wraps across two lines.
fn figure(lang: Language, n: u64) -> String {
    lang.number(n).replace(' ', "\u{a0}")
}

/// `part` of `whole` in percent with one decimal, rounded down so that 100,0 % means all.
fn percent(lang: Language, part: u64, whole: u64) -> String {
    let tenths = u128::from(part) * 1000 / u128::from(whole.max(1));
    let value = lang.decimal(tenths as f64 / 10.0, 1);
    t!(lang, "report-percent", value = value)
}

/// The month labels of the chart and its table, January first.
fn month_labels(lang: Language) -> Vec<String> {
    (1..=12)
        .map(|month| t!(lang, "report-month", month = month))
        .collect()
}

/// A number cell; `data-value` keeps the plain figure for tools that read the page.
fn number_cell(out: &mut String, n: u64, lang: Language) -> fmt::Result {
    write!(
        out,
        "<td class=\"num\" data-value=\"{n}\">{}</td>",
        figure(lang, n)
    )
}

/// Severity as a word and a shape as well as a colour, so it reads in grey print too.
fn severity_badge(out: &mut String, severity: Severity, lang: Language) -> fmt::Result {
    let (class, symbol, label) = match severity {
        Severity::Error => ("error", "&#x2716;", t!(lang, "report-badge-error")),
        Severity::Warning => ("warning", "&#x25B2;", t!(lang, "report-badge-warning")),
    };
    write!(
        out,
        "<span class=\"sev {class}\">{symbol} {}</span>",
        Escaped(&label)
    )
}

fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
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

/// Where the data came from, so a surprising figure can be traced to one EPJ.
fn sources(out: &mut String, sources: &[SourceLine], lang: Language) -> fmt::Result {
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
fn summary(out: &mut String, report: &CheckReport, lang: Language) -> fmt::Result {
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

/// Services and persons per national code and month: a gap or a jump in one code is the
/// quickest sign of a mapping or export mistake.
fn chart_section(
    out: &mut String,
    year: i32,
    months: &[CodeMonths],
    lang: Language,
) -> fmt::Result {
    let year = year.to_string();
    writeln!(
        out,
        "<section id=\"months\">\n<h2>{}</h2>",
        Escaped(&t!(lang, "report-months", year = year.clone()))
    )?;
    if months.is_empty() {
        return writeln!(
            out,
            "<p class=\"none\">{}</p>\n</section>",
            Escaped(&t!(lang, "report-months-none", year = year))
        );
    }
    writeln!(
        out,
        "<p class=\"note\">{}</p>\n<p class=\"legend\">\
         <svg aria-hidden=\"true\" width=\"14\" height=\"12\"><rect y=\"1\" width=\"14\" height=\"11\" class=\"bar\"/></svg> {} \
         <svg aria-hidden=\"true\" width=\"22\" height=\"12\"><line x1=\"1\" y1=\"6\" x2=\"21\" y2=\"6\" class=\"persons\"/>\
         <circle cx=\"11\" cy=\"6\" r=\"3\" class=\"dot\"/></svg> {}</p>",
        Escaped(&t!(lang, "report-months-note")),
        Escaped(&t!(lang, "report-months-services")),
        Escaped(&t!(lang, "report-months-persons")),
    )?;
    let labels = month_labels(lang);
    chart(out, &year, months, &labels, lang)?;
    chart_table(out, months, &labels, lang)?;
    writeln!(out, "</section>")
}

/// The geometry of one code's chart, in CSS pixels at full size: three to a row fit the
/// page's width and leave room for all twelve month labels.
mod layout {
    pub const PANEL_W: f64 = 372.0;
    pub const PANEL_H: f64 = 190.0;
    pub const COLUMNS: usize = 3;
    pub const LEFT: f64 = 46.0;
    pub const RIGHT: f64 = PANEL_W - 18.0;
    pub const TOP: f64 = 52.0;
    pub const BOTTOM: f64 = 154.0;
    /// Characters of a title line that fit the panel's width.
    pub const TITLE_CHARS: usize = 50;
}

fn chart(
    out: &mut String,
    year: &str,
    months: &[CodeMonths],
    labels: &[String],
    lang: Language,
) -> fmt::Result {
    use layout::*;
    let columns = months.len().min(COLUMNS);
    let rows = months.len().div_ceil(COLUMNS);
    let (width, height) = (columns as f64 * PANEL_W, rows as f64 * PANEL_H);
    writeln!(
        out,
        "<svg id=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<title id=\"chart-title\">{}</title>",
        Escaped(&t!(lang, "report-chart-title", year = year.to_string()))
    )?;
    for (i, code) in months.iter().enumerate() {
        let x = (i % COLUMNS) as f64 * PANEL_W;
        let y = (i / COLUMNS) as f64 * PANEL_H;
        panel(out, code, x, y, labels, lang)?;
    }
    writeln!(out, "</svg>")
}

/// One code's year: bars for services, a line for persons, a tooltip per month.
fn panel(
    out: &mut String,
    months: &CodeMonths,
    x: f64,
    y: f64,
    labels: &[String],
    lang: Language,
) -> fmt::Result {
    use layout::*;
    let code = months.code.to_string();
    let name = service_type_name(lang, months.code);
    let top = nice_top(months.services.iter().chain(&months.persons).copied().max());
    let scale = |n: u64| BOTTOM - (BOTTOM - TOP) * n as f64 / top as f64;
    let slot = (RIGHT - LEFT) / 12.0;
    let centre = |month: usize| LEFT + slot * (month as f64 + 0.5);

    writeln!(
        out,
        "<g class=\"series\" data-code=\"{}\" transform=\"translate({x} {y})\">\n\
         <rect class=\"panel\" x=\"4\" y=\"4\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
        Escaped(&code),
        PANEL_W - 8.0,
        PANEL_H - 8.0
    )?;
    let (first, second) = wrap(&format!("{code} {name}"), code.len(), TITLE_CHARS);
    write!(
        out,
        "<text class=\"title\" x=\"16\" y=\"26\"><tspan class=\"code\">{}</tspan>{}</text>",
        Escaped(&code),
        Escaped(&first[code.len()..])
    )?;
    if let Some(second) = second {
        write!(
            out,
            "<text class=\"title\" x=\"16\" y=\"42\">{}</text>",
            Escaped(&second)
        )?;
    }
    out.push('\n');
    let step = top / 2;
    for tick in [0, step, top] {
        let ty = scale(tick);
        writeln!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{ty:.1}\" y2=\"{ty:.1}\"/>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            ty + 3.5,
            figure(lang, tick)
        )?;
    }
    let bar = slot * 0.62;
    for (month, label) in labels.iter().enumerate() {
        let (services, persons) = (months.services[month], months.persons[month]);
        let by = scale(services);
        writeln!(
            out,
            "<g class=\"month\"><title>{} {}, {}: {}, {}</title>\
             <rect class=\"hit\" x=\"{:.1}\" y=\"{TOP}\" width=\"{slot:.1}\" height=\"{:.1}\"/>\
             <rect class=\"bar\" x=\"{:.1}\" y=\"{by:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"/></g>",
            Escaped(&code),
            Escaped(&name),
            Escaped(label),
            Escaped(&t!(lang, "report-services", count = services)),
            Escaped(&t!(lang, "common-persons", count = persons)),
            centre(month) - slot / 2.0,
            BOTTOM - TOP,
            centre(month) - bar / 2.0,
            BOTTOM - by,
        )?;
    }
    writeln!(
        out,
        "<line class=\"baseline\" x1=\"{LEFT}\" x2=\"{RIGHT}\" y1=\"{BOTTOM}\" y2=\"{BOTTOM}\"/>"
    )?;
    let points: Vec<String> = (0..12)
        .map(|m| format!("{:.1},{:.1}", centre(m), scale(months.persons[m])))
        .collect();
    writeln!(
        out,
        "<polyline class=\"persons\" points=\"{}\"/>",
        points.join(" ")
    )?;
    for (month, label) in labels.iter().enumerate() {
        write!(
            out,
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\"><title>{}: {}</title></circle>",
            centre(month),
            scale(months.persons[month]),
            Escaped(label),
            Escaped(&t!(lang, "common-persons", count = months.persons[month])),
        )?;
    }
    out.push('\n');
    for (month, label) in labels.iter().enumerate() {
        write!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            centre(month),
            BOTTOM + 16.0,
            Escaped(label)
        )?;
    }
    writeln!(out, "\n</g>")
}
/// The top of a chart's scale: twice a round whole number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or
/// 8 × 10ⁿ), so the middle grid line is labelled with a round number too.
pub(crate) fn nice_top(max: Option<u64>) -> u64 {
    let half = max.unwrap_or(0).max(1).div_ceil(2);
    let mut magnitude = 1u64;
    loop {
        for tenths in [10, 15, 20, 25, 30, 40, 50, 60, 80] {
            let round = magnitude.saturating_mul(tenths);
            if round % 10 == 0 && round / 10 >= half {
                return round / 10 * 2;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

/// Splits a title into at most two lines of about `width` characters, at a space after the
/// first `keep` bytes (the code); the second line ends in … if the name is longer still.
fn wrap(text: &str, keep: usize, width: usize) -> (String, Option<String>) {
    if text.chars().count() <= width {
        return (text.to_string(), None);
    }
    let mut cut = keep;
    for (at, c) in text.char_indices().skip(1) {
        if text[..at].chars().count() > width {
            break;
        }
        if c == ' ' && at > keep {
            cut = at;
        }
    }
    let (first, rest) = (&text[..cut], text[cut..].trim_start());
    let second = if rest.chars().count() > width {
        let kept: String = rest.chars().take(width - 1).collect();
        format!("{}…", kept.trim_end())
    } else {
        rest.to_string()
    };
    (first.to_string(), Some(second))
}

/// The chart's figures as a table, for screen readers and for copying into a spreadsheet.
fn chart_table(
    out: &mut String,
    months: &[CodeMonths],
    labels: &[String],
    lang: Language,
) -> fmt::Result {
    write!(
        out,
        "<div class=\"wide\">\n<table class=\"figures\">\n<caption>{}</caption>\n\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\"></th>",
        Escaped(&t!(lang, "report-chart-figures")),
        Escaped(&t!(lang, "report-chart-code")),
    )?;
    for label in labels {
        write!(
            out,
            "<th scope=\"col\" class=\"num\">{}</th>",
            Escaped(label)
        )?;
    }
    writeln!(out, "</tr></thead>")?;
    let (services, persons) = (
        t!(lang, "report-months-services"),
        t!(lang, "report-months-persons"),
    );
    for code in months {
        let series = [(&services, &code.services), (&persons, &code.persons)];
        write!(out, "<tbody>")?;
        for (i, (label, values)) in series.into_iter().enumerate() {
            out.push_str("<tr>");
            if i == 0 {
                write!(
                    out,
                    "<th scope=\"rowgroup\" rowspan=\"2\"><code>{}</code> {}</th>",
                    Escaped(&code.code.to_string()),
                    Escaped(&service_type_name(lang, code.code))
                )?;
            }
            write!(
                out,
                "<th scope=\"row\" class=\"kind\">{}</th>",
                Escaped(label)
            )?;
            for &n in values {
                number_cell(out, n, lang)?;
            }
            out.push_str("</tr>");
        }
        writeln!(out, "</tbody>")?;
    }
    writeln!(out, "</table>\n</div>")
}

/// Each rule that found something: what it means, what to do, and where to look.
fn findings(out: &mut String, findings: &[Finding], lang: Language) -> fmt::Result {
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

/// The register's own arrival checks on KPR_IPL as the year would be written: what the
/// register would discard, with its consequence in plain words; what it takes as it is, in
/// one line.
fn register_checks(out: &mut String, controls: &[ControlFinding], lang: Language) -> fmt::Result {
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

/// How each source's local types are mapped: an unmapped or retired type means services
/// that are not reported at all, so those rows come first and stand out.
fn coverage(
    out: &mut String,
    sources: &[SourceLine],
    coverage: &[TypeCoverage],
    lang: Language,
) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"mapping\">\n<h2>{}</h2>",
        Escaped(&t!(lang, "report-mapping"))
    )?;
    if coverage.is_empty() {
        return writeln!(
            out,
            "<p class=\"none\">{}</p>\n</section>",
            Escaped(&t!(lang, "report-mapping-none"))
        );
    }
    let (mapped, all) = mapped_services(coverage.iter());
    writeln!(
        out,
        "<p class=\"coverage\"><strong>{}</strong> {}</p>",
        Escaped(&percent(lang, mapped, all)),
        Escaped(&t!(
            lang,
            "report-mapping-share",
            mapped = mapped,
            all = all
        ))
    )?;
    // In the order of the configuration; a source the list lacks still shows, last.
    let mut names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    for t in coverage {
        if !names.contains(&t.source.as_str()) {
            names.push(&t.source);
        }
    }
    for name in names {
        let mut types: Vec<&TypeCoverage> = coverage.iter().filter(|t| t.source == name).collect();
        if !types.is_empty() {
            types.sort_by_key(|t| t.mapped);
            source_coverage(out, name, &types, lang)?;
        }
    }
    writeln!(out, "</section>")
}

/// Services in mapped types, and all services.
fn mapped_services<'a>(types: impl Iterator<Item = &'a TypeCoverage>) -> (u64, u64) {
    types.fold((0, 0), |(mapped, all), t| {
        (
            mapped + if t.mapped { t.services } else { 0 },
            all + t.services,
        )
    })
}

/// What a local type maps to, in words: `15 Helsetjenester i hjemmet`, `utgått kode 12 …`.
fn maps_to(lang: Language, target: &MapsTo) -> String {
    match target {
        MapsTo::Service(code) => service_type(lang, *code),
        MapsTo::Attribute(kind) => t!(lang, "report-mapping-attribute", attribute = kind.as_str()),
        MapsTo::Ignored(reason) => t!(lang, "report-mapping-ignored", reason = reason.clone()),
        MapsTo::Retired(code) => t!(
            lang,
            "report-mapping-retired",
            code = service_type(lang, *code)
        ),
        MapsTo::Unmapped => t!(lang, "report-mapping-unmapped"),
    }
}

fn source_coverage(
    out: &mut String,
    source: &str,
    types: &[&TypeCoverage],
    lang: Language,
) -> fmt::Result {
    let (mapped, all) = mapped_services(types.iter().copied());
    writeln!(
        out,
        "<h3>{} <span class=\"count\">{}</span></h3>\n<table class=\"mapping\">\n\
         <thead><tr><th scope=\"col\">{}</th><th scope=\"col\" class=\"num\">{}</th>\
         <th scope=\"col\">{}</th></tr></thead>\n<tbody>",
        Escaped(source),
        Escaped(&t!(
            lang,
            "report-mapping-source",
            percent = percent(lang, mapped, all)
        )),
        Escaped(&t!(lang, "report-mapping-local-type")),
        Escaped(&t!(lang, "report-mapping-services")),
        Escaped(&t!(lang, "report-mapping-maps-to")),
    )?;
    for t in types {
        write!(
            out,
            "<tr{}><td><code>{}</code></td>",
            if t.mapped { "" } else { " class=\"unmapped\"" },
            Escaped(&t.local_type)
        )?;
        number_cell(out, t.services, lang)?;
        let target = maps_to(lang, &t.target);
        if t.mapped {
            writeln!(out, "<td>{}</td></tr>", Escaped(&target))?;
        } else {
            writeln!(
                out,
                "<td><span class=\"sev error\">&#x2716; {}</span> {}</td></tr>",
                Escaped(&t!(lang, "report-mapping-not-reported")),
                Escaped(&target)
            )?;
        }
    }
    writeln!(out, "</tbody>\n</table>")
}

const STYLE: &str = r#"
:root {
  --ink: #1f2933; --muted: #5b6776; --line: #dde3ea; --soft: #f4f6f9;
  --error: #b42318; --error-bg: #fdeceb; --warn: #8a5100; --warn-edge: #e0a100;
  --warn-bg: #fff5d6; --ok: #17603a; --ok-bg: #e7f5ec;
  --bar: #7fa9dc; --persons: #1c3d6e;
}
* { box-sizing: border-box; }
body {
  margin: 0; background: #fff; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Liberation Sans", sans-serif;
}
main { max-width: 1168px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 28px; line-height: 1.2; margin: 2px 0 14px; }
h1 .year { color: var(--muted); font-weight: 400; }
h2 {
  font-size: 20px; margin: 40px 0 12px; padding-bottom: 6px;
  border-bottom: 2px solid var(--line);
}
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0; max-width: 80ch; }
code { font-family: ui-monospace, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
a { color: #1d4f91; }
.kicker {
  margin: 0; color: var(--muted); font-size: 13px; font-weight: 600;
  letter-spacing: 0.06em; text-transform: uppercase;
}
.meta { display: flex; flex-wrap: wrap; gap: 8px 36px; margin: 0 0 16px; }
.meta dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.meta dd { margin: 0; font-weight: 600; }
.status { max-width: none; padding: 12px 16px; border-left: 6px solid; border-radius: 4px; }
.status.error { background: var(--error-bg); border-color: var(--error); }
.status.ok { background: var(--ok-bg); border-color: var(--ok); }
.status.warning { background: var(--warn-bg); border-color: var(--warn-edge); }
nav { margin: 14px 0 0; font-size: 14px; }
nav a { margin-right: 18px; }
table { border-collapse: collapse; margin: 10px 0 14px; }
caption { text-align: left; font-weight: 600; padding: 4px 0 6px; }
th, td { text-align: left; vertical-align: top; padding: 6px 12px; border-bottom: 1px solid var(--line); }
thead th {
  color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.04em; border-bottom: 2px solid var(--line); white-space: nowrap;
}
tbody th { font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.origin { color: var(--muted); word-break: break-all; }
td.problems { color: var(--warn); font-weight: 700; }
.note { color: var(--muted); font-size: 14px; }
.none { color: var(--muted); font-style: italic; }
#summary { min-width: 420px; }
#summary .total th, #summary .total td { font-size: 16px; }
#summary tr.error td.num { color: var(--error); font-weight: 700; }
#summary tr.warning td.num { color: var(--warn); font-weight: 700; }
#summary tbody.rules { border-top: 2px solid var(--line); }
.sev {
  display: inline-block; padding: 0 8px; border: 1px solid; border-radius: 10px;
  font-size: 12px; font-weight: 700; line-height: 18px; white-space: nowrap;
}
.sev.error { color: var(--error); background: var(--error-bg); }
.sev.warning { color: var(--warn); background: var(--warn-bg); border-color: var(--warn-edge); }
.legend { font-size: 14px; color: var(--muted); }
.legend svg { vertical-align: -1px; margin: 0 4px 0 10px; }
.legend svg:first-child { margin-left: 0; }
#chart { display: block; max-width: 100%; height: auto; margin: 6px 0 10px; }
#chart .panel { fill: #fff; stroke: var(--line); }
#chart .title { font-size: 12px; fill: var(--ink); }
#chart .title .code { font-weight: 700; }
#chart .axis { font-size: 10.5px; fill: var(--muted); }
#chart .grid { stroke: #e8ecf1; stroke-width: 1; }
#chart .baseline { stroke: #9aa5b1; stroke-width: 1; }
#chart .hit { fill: transparent; }
#chart .month:hover .hit { fill: #eef3fa; }
.bar { fill: var(--bar); }
.persons { fill: none; stroke: var(--persons); stroke-width: 2; stroke-linejoin: round; }
.dot { fill: #fff; stroke: var(--persons); stroke-width: 1.6; }
table.figures { font-size: 12.5px; }
.wide { overflow-x: auto; }
table.figures th, table.figures td { padding: 3px 7px; }
table.figures thead th { font-size: 11px; }
table.figures .kind { font-weight: 400; color: var(--muted); }
table.figures tbody { border-bottom: 2px solid var(--line); }
.finding { margin: 24px 0; padding: 2px 0 2px 18px; border-left: 5px solid; }
.finding.error { border-color: var(--error); }
.finding.warning { border-color: var(--warn-edge); }
.finding h3 { margin-top: 0; }
.finding h3 code { font-size: 17px; margin-right: 6px; }
.count { color: var(--muted); font-size: 14px; font-weight: 400; margin-left: 6px; }
.fix { background: var(--soft); padding: 8px 12px; border-radius: 4px; }
table.examples { font-size: 14px; }
table.examples th, table.examples td { padding: 4px 12px; }
table.mapping { width: 100%; max-width: 760px; }
table.mapping td:first-child { width: 34%; }
tr.unmapped td { background: var(--error-bg); }
footer { margin-top: 48px; padding-top: 12px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
@media print {
  @page { margin: 14mm 12mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { margin-top: 22px; break-after: avoid; }
  h3 { break-after: avoid; }
  tr, .status, #chart, .legend { break-inside: avoid; }
  .finding > p { break-inside: avoid; }
  .wide { overflow: visible; }
  table.figures { width: 100%; font-size: 7.5pt; }
  table.figures th, table.figures td { padding: 2px 3px; }
  table.figures thead th { font-size: 7pt; }
  #chart .month:hover .hit { fill: transparent; }
}
"#;

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::checks::{CheckReport, CodeMonths, Example};
    use crate::config::Mode;
    use crate::report::Origin;

    fn view(report: &CheckReport) -> ReportView<'_> {
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
    fn escapes_markup_and_quotes() {
        assert_eq!(
            Escaped("<script>alert(1)</script>").to_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(Escaped(r#"&"'"#).to_string(), "&amp;&quot;&#39;");
        assert_eq!(Escaped("Bodø æøå").to_string(), "Bodø æøå");
        assert_eq!(Escaped("").to_string(), "");
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
    fn one_code_gives_one_panel() {
        let report = CheckReport {
            months: vec![CodeMonths {
                code: "15".parse().unwrap(),
                name: "Helsetjenester i hjemmet",
                services: [3; 12],
                persons: [2; 12],
            }],
            ..CheckReport::default()
        };
        let html = render(&view(&report), Language::Nb);
        assert_eq!(html.matches("class=\"series\"").count(), 1);
        assert!(html.contains(&format!(
            "<svg id=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" width=\"{}\"",
            layout::PANEL_W
        )));
        assert!(
            html.contains(
                "<title>15 Helsetjenester i hjemmet, Mar: 3 tjenester, 2 personer</title>"
            ),
            "{html}"
        );
        let html = render(&view(&report), Language::En);
        assert!(html.contains(
            "<title>15 Helsetjenester i hjemmet (health care at home), Mar: 3 services, 2 persons</title>"
        ));
        assert!(html.contains(">May</text>") && html.contains(">Dec</text>"));
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

    #[test]
    fn mapping_targets_name_the_service_type() {
        let report = CheckReport {
            coverage: vec![
                TypeCoverage {
                    source: "gammel <EPJ>".into(),
                    local_type: "HJSPL".into(),
                    services: 1_500,
                    target: MapsTo::Service("15".parse().unwrap()),
                    mapped: true,
                },
                TypeCoverage {
                    source: "gammel <EPJ>".into(),
                    local_type: "BOLIG".into(),
                    services: 1,
                    target: MapsTo::Retired("12".parse().unwrap()),
                    mapped: false,
                },
            ],
            ..CheckReport::default()
        };
        let nb = render(&view(&report), Language::Nb);
        assert!(nb.contains("<td>15 Helsetjenester i hjemmet</td>"), "{nb}");
        assert!(
            nb.contains("utgått kode 12 Omsorgsbolig (erstattet av 29)"),
            "{nb}"
        );
        assert!(
            nb.contains("<strong>99,9\u{a0}%</strong> av tjenestene"),
            "{nb}"
        );
        let en = render(&view(&report), Language::En);
        assert!(en.contains("<td>15 Helsetjenester i hjemmet (health care at home)</td>"));
        assert!(
            en.contains("<strong>99.9%</strong> of services are mapped (1,500 of 1,501)"),
            "{en}"
        );
    }

    #[test]
    fn scale_tops_are_even_and_cover_the_maximum() {
        for (max, top) in [
            (0, 2),
            (1, 2),
            (2, 2),
            (3, 4),
            (7, 8),
            (9, 10),
            (38, 40),
            (1234, 1600),
        ] {
            assert_eq!(nice_top(Some(max)), top, "max {max}");
        }
        for max in 1..5000 {
            let top = nice_top(Some(max));
            assert!(
                top >= max && top.is_multiple_of(2) && top <= max * 3 + 2,
                "{max} → {top}"
            );
        }
    }

    #[test]
    fn long_titles_wrap_into_two_lines() {
        let (first, second) = wrap(
            "29 Bolig som kommunen disponerer for helse- og omsorgsformål",
            2,
            40,
        );
        assert_eq!(first, "29 Bolig som kommunen disponerer for");
        assert_eq!(second.as_deref(), Some("helse- og omsorgsformål"));
        assert_eq!(wrap("15 Helsetjenester i hjemmet", 2, 40).1, None);
        let (_, second) = wrap(&format!("1 {}", "ord ".repeat(30)), 1, 20);
        assert_eq!(second.as_deref(), Some("ord ord ord ord ord…"));
    }

    #[test]
    fn figures_are_grouped_and_percentages_round_down() {
        assert_eq!(figure(Language::Nb, 1_234_567), "1\u{a0}234\u{a0}567");
        assert_eq!(figure(Language::En, 1_234_567), "1,234,567");
        assert_eq!(figure(Language::Nb, 999), "999");
        assert_eq!(percent(Language::En, 999, 1000), "99.9%");
        assert_eq!(percent(Language::En, 9999, 10000), "99.9%");
        assert_eq!(percent(Language::En, 1, 1), "100.0%");
        assert_eq!(percent(Language::En, 0, 0), "0.0%");
        assert_eq!(percent(Language::Nb, 999, 1000), "99,9\u{a0}%");
        assert_eq!(percent(Language::Nb, 1, 1), "100,0\u{a0}%");
    }
}
