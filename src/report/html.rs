//! The HTML report: one self-contained page the municipality's IPLOS contact reads before the
//! annual data is sent. It opens offline from a file or an e-mail attachment, so everything is
//! inline (CSS, an SVG chart we draw ourselves) and nothing is fetched; it needs no script and
//! prints cleanly.
//!
//! Every text that comes from data (source names, origins, local types, details) goes through
//! [`Escaped`]: an EPJ may name a type `<b>` or `R&D`. The check's report holds no identity
//! numbers or names, so neither does this page.

use std::fmt::{self, Write};

use super::{ReportView, SourceLine, thousands};
use crate::annual::controls::ControlFinding;
use crate::checks::{CheckReport, CodeMonths, Finding, Severity, TypeCoverage};

/// Month labels on the chart and in its table, as a Norwegian reader abbreviates them.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Des",
];

/// The whole report as one HTML5 document.
pub fn render(view: &ReportView) -> String {
    let mut out = String::with_capacity(32 * 1024);
    page(&mut out, view).expect("writing to a String cannot fail");
    out
}

fn page(out: &mut String, view: &ReportView) -> fmt::Result {
    let report = view.report;
    head(out, view)?;
    out.push_str("<body>\n<main>\n");
    header(out, view)?;
    sources(out, &view.sources)?;
    summary(out, report)?;
    chart_section(out, view.year, &report.months)?;
    findings(out, &report.findings)?;
    register_checks(out, view.controls)?;
    coverage(out, &view.sources, &report.coverage)?;
    writeln!(
        out,
        "<footer>Made by kpr-bridge {}. This report holds no identity numbers or names: \
         examples are located by source and the EPJ's own id.</footer>",
        env!("CARGO_PKG_VERSION")
    )?;
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(())
}

/// Text from data, written as HTML text or attribute value.
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

/// A figure as the terminal writes it (`1 234 567`), with no-break spaces so that it never
/// wraps across two lines.
fn figure(n: u64) -> String {
    thousands(n).replace(' ', "\u{a0}")
}

/// `part` of `whole` in percent with one decimal, rounded down so that 100.0% means all.
fn percent(part: u64, whole: u64) -> String {
    let tenths = u128::from(part) * 1000 / u128::from(whole.max(1));
    format!("{}.{}%", tenths / 10, tenths % 10)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", figure(n), if n == 1 { one } else { many })
}

/// A number cell; `data-value` keeps the plain figure for tools that read the page.
fn number_cell(out: &mut String, n: u64) -> fmt::Result {
    write!(
        out,
        "<td class=\"num\" data-value=\"{n}\">{}</td>",
        figure(n)
    )
}

/// Severity as a word and a shape as well as a colour, so it reads in grey print too.
fn severity_badge(out: &mut String, severity: Severity) -> fmt::Result {
    let (class, label) = match severity {
        Severity::Error => ("error", "&#x2716; Error"),
        Severity::Warning => ("warning", "&#x25B2; Warning"),
    };
    write!(out, "<span class=\"sev {class}\">{label}</span>")
}

fn head(out: &mut String, view: &ReportView) -> fmt::Result {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>IPLOS check {} – {} {}</title>\n<style>{STYLE}</style>\n</head>",
        view.year,
        Escaped(view.municipality),
        Escaped(view.municipality_name),
    )
}

/// Who, which year, and the one answer the reader needs first: can the data be sent.
fn header(out: &mut String, view: &ReportView) -> fmt::Result {
    let report = view.report;
    writeln!(
        out,
        "<header>\n<p class=\"kicker\">IPLOS check before sending to KPR</p>\n\
         <h1>{} {} <span class=\"year\">· reporting year {}</span></h1>\n<dl class=\"meta\">\
         <div><dt>Mode</dt><dd>{}</dd></div>\
         <div><dt>Generated</dt><dd>{}</dd></div>\
         <div><dt>Sources</dt><dd>{}</dd></div></dl>",
        Escaped(view.municipality),
        Escaped(view.municipality_name),
        view.year,
        Escaped(view.mode),
        Escaped(&view.generated),
        view.sources.len(),
    )?;
    let (errors, warnings) = report.rules_by_severity();
    let problems: u64 = view.sources.iter().map(|s| s.problems).sum();
    if errors > 0 {
        writeln!(
            out,
            "<p class=\"status error\"><strong>Not ready to send: {} found errors.</strong> \
             The register would reject or misread these records; they are held back until \
             they are fixed in the EPJ or the mapping.{}</p>",
            plural(errors, "rule", "rules"),
            warnings_note(warnings),
        )?;
    } else if problems > 0 {
        writeln!(
            out,
            "<p class=\"status warning\"><strong>No rule found errors, but {} could not be \
             read.</strong> Each is named in the terminal output; look at them before sending.{}</p>",
            plural(problems, "row or value", "rows or values"),
            warnings_note(warnings),
        )?;
    } else {
        writeln!(
            out,
            "<p class=\"status ok\"><strong>No errors: the data can be sent.</strong>{}</p>",
            warnings_note(warnings),
        )?;
    }
    writeln!(
        out,
        "<nav><a href=\"#summary\">Summary</a> <a href=\"#months\">Services per month</a> \
         <a href=\"#findings\">Findings</a> <a href=\"#mapping\">Mapping</a></nav>\n</header>"
    )
}

fn warnings_note(warnings: u64) -> String {
    match warnings {
        0 => String::new(),
        n => format!(
            " {} found warnings worth a look.",
            plural(n, "rule", "rules")
        ),
    }
}

/// Where the data came from, so a surprising figure can be traced to one EPJ.
fn sources(out: &mut String, sources: &[SourceLine]) -> fmt::Result {
    writeln!(out, "<section id=\"sources\">\n<h2>Sources</h2>")?;
    if sources.is_empty() {
        return writeln!(out, "<p>No sources were read.</p>\n</section>");
    }
    writeln!(
        out,
        "<table>\n<thead><tr><th scope=\"col\">Source</th><th scope=\"col\">Origin</th>\
         <th scope=\"col\" class=\"num\">Persons</th><th scope=\"col\" class=\"num\">Services</th>\
         <th scope=\"col\" class=\"num\">Reading problems</th></tr></thead>\n<tbody>"
    )?;
    for source in sources {
        write!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"origin\">{}</td>",
            Escaped(&source.name),
            Escaped(&source.origin)
        )?;
        number_cell(out, source.persons)?;
        number_cell(out, source.services)?;
        if source.problems > 0 {
            write!(
                out,
                "<td class=\"num problems\" data-value=\"{}\">{}</td>",
                source.problems,
                figure(source.problems)
            )?;
        } else {
            number_cell(out, 0)?;
        }
        writeln!(out, "</tr>")?;
    }
    writeln!(
        out,
        "</tbody>\n</table>\n<p class=\"note\">Reading problems are rows or values the reader \
         could not use; each is named in the terminal output. A person in two sources counts \
         once in the totals below.</p>\n</section>"
    )
}

/// The same figures as the terminal table: persons, services, rules with errors and with
/// warnings, then each rule's count.
fn summary(out: &mut String, report: &CheckReport) -> fmt::Result {
    let (errors, warnings) = report.rules_by_severity();
    writeln!(
        out,
        "<section>\n<h2>Summary</h2>\n<table id=\"summary\">\n\
         <thead><tr><th scope=\"col\">What</th><th scope=\"col\">Severity</th>\
         <th scope=\"col\" class=\"num\">Count</th></tr></thead>\n<tbody>"
    )?;
    let rows = [
        ("persons", "Persons", "", report.persons),
        ("services", "Services", "", report.services),
        ("errors", "Rules with errors", "error", errors),
        ("warnings", "Rules with warnings", "warning", warnings),
    ];
    for (id, label, class, n) in rows {
        let class = if n > 0 { class } else { "" };
        write!(
            out,
            "<tr id=\"summary-{id}\" class=\"total {class}\"><th scope=\"row\">{label}</th><td></td>"
        )?;
        number_cell(out, n)?;
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n<tbody class=\"rules\">")?;
    if report.findings.is_empty() {
        writeln!(
            out,
            "<tr><td colspan=\"3\" class=\"none\">Every rule passed.</td></tr>"
        )?;
    }
    for finding in &report.findings {
        write!(
            out,
            "<tr data-rule=\"{0}\"><th scope=\"row\"><a href=\"#rule-{0}\"><code>{0}</code></a></th><td>",
            finding.rule
        )?;
        severity_badge(out, finding.severity)?;
        out.push_str("</td>");
        number_cell(out, finding.count)?;
        writeln!(out, "</tr>")?;
    }
    writeln!(out, "</tbody>\n</table>\n</section>")
}

/// Services and persons per national code and month: a gap or a jump in one code is the
/// quickest sign of a mapping or export mistake.
fn chart_section(out: &mut String, year: i32, months: &[CodeMonths]) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"months\">\n<h2>Services per month, {year}</h2>"
    )?;
    if months.is_empty() {
        return writeln!(
            out,
            "<p class=\"none\">No granted services in {year}, so there is nothing to chart.</p>\n\
             </section>"
        );
    }
    writeln!(
        out,
        "<p class=\"note\">Granted services and the persons who have them, per national code. \
         A service counts in every month it runs; a source counts only inside its own days. \
         Each chart has its own scale.</p>\n<p class=\"legend\">\
         <svg aria-hidden=\"true\" width=\"14\" height=\"12\"><rect y=\"1\" width=\"14\" height=\"11\" class=\"bar\"/></svg> Services \
         <svg aria-hidden=\"true\" width=\"22\" height=\"12\"><line x1=\"1\" y1=\"6\" x2=\"21\" y2=\"6\" class=\"persons\"/>\
         <circle cx=\"11\" cy=\"6\" r=\"3\" class=\"dot\"/></svg> Persons</p>"
    )?;
    chart(out, year, months)?;
    chart_table(out, months)?;
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

fn chart(out: &mut String, year: i32, months: &[CodeMonths]) -> fmt::Result {
    use layout::*;
    let columns = months.len().min(COLUMNS);
    let rows = months.len().div_ceil(COLUMNS);
    let (width, height) = (columns as f64 * PANEL_W, rows as f64 * PANEL_H);
    writeln!(
        out,
        "<svg id=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<title id=\"chart-title\">\
         Granted services and persons per national code and month, {year}</title>"
    )?;
    for (i, code) in months.iter().enumerate() {
        let x = (i % COLUMNS) as f64 * PANEL_W;
        let y = (i / COLUMNS) as f64 * PANEL_H;
        panel(out, code, x, y)?;
    }
    writeln!(out, "</svg>")
}

/// One code's year: bars for services, a line for persons, a tooltip per month.
fn panel(out: &mut String, months: &CodeMonths, x: f64, y: f64) -> fmt::Result {
    use layout::*;
    let code = months.code.to_string();
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
    let (first, second) = wrap(&format!("{code} {}", months.name), code.len(), TITLE_CHARS);
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
            figure(tick)
        )?;
    }
    let bar = slot * 0.62;
    for (month, label) in MONTHS.iter().enumerate() {
        let (services, persons) = (months.services[month], months.persons[month]);
        let by = scale(services);
        writeln!(
            out,
            "<g class=\"month\"><title>{} {}, {label}: {}, {}</title>\
             <rect class=\"hit\" x=\"{:.1}\" y=\"{TOP}\" width=\"{slot:.1}\" height=\"{:.1}\"/>\
             <rect class=\"bar\" x=\"{:.1}\" y=\"{by:.1}\" width=\"{bar:.1}\" height=\"{:.1}\"/></g>",
            Escaped(&code),
            Escaped(months.name),
            plural(services, "service", "services"),
            plural(persons, "person", "persons"),
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
    for (month, label) in MONTHS.iter().enumerate() {
        write!(
            out,
            "<circle class=\"dot\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.6\"><title>{label}: {}</title></circle>",
            centre(month),
            scale(months.persons[month]),
            plural(months.persons[month], "person", "persons"),
        )?;
    }
    out.push('\n');
    for (month, label) in MONTHS.iter().enumerate() {
        write!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            centre(month),
            BOTTOM + 16.0
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
fn chart_table(out: &mut String, months: &[CodeMonths]) -> fmt::Result {
    write!(
        out,
        "<div class=\"wide\">\n<table class=\"figures\">\n<caption>The figures in the chart</caption>\n\
         <thead><tr><th scope=\"col\">Code</th><th scope=\"col\"></th>"
    )?;
    for label in MONTHS {
        write!(out, "<th scope=\"col\" class=\"num\">{label}</th>")?;
    }
    writeln!(out, "</tr></thead>")?;
    for code in months {
        let series = [("Services", &code.services), ("Persons", &code.persons)];
        write!(out, "<tbody>")?;
        for (i, (label, values)) in series.into_iter().enumerate() {
            out.push_str("<tr>");
            if i == 0 {
                write!(
                    out,
                    "<th scope=\"rowgroup\" rowspan=\"2\"><code>{}</code> {}</th>",
                    Escaped(&code.code.to_string()),
                    Escaped(code.name)
                )?;
            }
            write!(out, "<th scope=\"row\" class=\"kind\">{label}</th>")?;
            for &n in values {
                number_cell(out, n)?;
            }
            out.push_str("</tr>");
        }
        writeln!(out, "</tbody>")?;
    }
    writeln!(out, "</table>\n</div>")
}

/// Each rule that found something: what it means, what to do, and where to look.
fn findings(out: &mut String, findings: &[Finding]) -> fmt::Result {
    writeln!(out, "<section id=\"findings\">\n<h2>Findings</h2>")?;
    if findings.is_empty() {
        writeln!(out, "<p class=\"none\">No findings: every rule passed.</p>")?;
    }
    for finding in findings {
        finding_block(out, finding)?;
    }
    writeln!(out, "</section>")
}

fn finding_block(out: &mut String, finding: &Finding) -> fmt::Result {
    let info = finding.info();
    let class = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    write!(
        out,
        "<article class=\"finding {class}\" id=\"rule-{0}\">\n<h3><code>{0}</code> ",
        finding.rule
    )?;
    severity_badge(out, finding.severity)?;
    let times = match finding.count {
        1 => "once".to_string(),
        n => format!("{} times", figure(n)),
    };
    writeln!(
        out,
        " <span class=\"count\">found {times}</span></h3>\n<p>{}</p>\n\
         <p class=\"fix\"><strong>What to do:</strong> {}</p>",
        Escaped(info.explains),
        Escaped(info.fix)
    )?;
    if finding.examples.is_empty() {
        return writeln!(out, "</article>");
    }
    let shown = finding.examples.len() as u64;
    if finding.count > shown {
        writeln!(
            out,
            "<p class=\"note\">The first {} of {} are shown.</p>",
            figure(shown),
            figure(finding.count)
        )?;
    }
    writeln!(
        out,
        "<table class=\"examples\">\n<thead><tr><th scope=\"col\">Source</th>\
         <th scope=\"col\">Record</th><th scope=\"col\">Local id</th>\
         <th scope=\"col\">Detail</th></tr></thead>\n<tbody>"
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
            Escaped(example.record),
            Escaped(&example.detail)
        )?;
    }
    writeln!(out, "</tbody>\n</table>\n</article>")
}

/// The register's own arrival checks on KPR_IPL as the year would be written: what the
/// register would discard, with its consequence in plain words; what it takes as it is, in
/// one line.
fn register_checks(out: &mut String, controls: &[ControlFinding]) -> fmt::Result {
    writeln!(
        out,
        "<section id=\"register-checks\">\n<h2>The register's arrival checks</h2>\n\
         <p>KPR checks the annual message when it arrives, and discards what fails some checks. \
         These are its own checks, run on the message as kpr-bridge would write it for this year.</p>"
    )?;
    let (dropping, taken): (Vec<_>, Vec<_>) = controls.iter().partition(|f| f.severity().is_some());
    if dropping.is_empty() {
        writeln!(
            out,
            "<p class=\"none\">The register would discard nothing.</p>"
        )?;
    }
    for f in dropping {
        let severity = f.severity().unwrap_or(Severity::Warning);
        let class = match severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            out,
            "<article class=\"finding {class}\" data-field=\"{}\">\n<h3><code>{} {}</code> ",
            Escaped(&f.field),
            Escaped(&f.record),
            Escaped(&f.field)
        )?;
        severity_badge(out, severity)?;
        writeln!(
            out,
            " <span class=\"count\">{} check, found {} time(s)</span></h3>\n\
             <p><strong>{}.</strong> Expected {}; for example {}.</p>\n\
             <p class=\"fix\"><strong>What to do:</strong> {}</p>\n</article>",
            f.kind.as_str(),
            figure(f.count),
            Escaped(capitalised(f.consequence.words()).as_str()),
            Escaped(&f.expected),
            Escaped(&f.example),
            Escaped(f.fix())
        )?;
    }
    if !taken.is_empty() {
        let fields: Vec<String> = taken
            .iter()
            .map(|f| {
                format!(
                    "{} ({} check, {})",
                    f.field,
                    f.kind.as_str(),
                    figure(f.count)
                )
            })
            .collect();
        writeln!(
            out,
            "<p class=\"note\">Noted by the register and taken as it is: {}.</p>",
            Escaped(&fields.join(", "))
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
fn coverage(out: &mut String, sources: &[SourceLine], coverage: &[TypeCoverage]) -> fmt::Result {
    writeln!(out, "<section id=\"mapping\">\n<h2>Mapping coverage</h2>")?;
    if coverage.is_empty() {
        return writeln!(out, "<p class=\"none\">No services to map.</p>\n</section>");
    }
    let (mapped, all) = mapped_services(coverage.iter());
    writeln!(
        out,
        "<p class=\"coverage\"><strong>{}</strong> of services are mapped \
         ({} of {}). A service that is not mapped is not reported.</p>",
        percent(mapped, all),
        figure(mapped),
        figure(all)
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
            source_coverage(out, name, &types)?;
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

fn source_coverage(out: &mut String, source: &str, types: &[&TypeCoverage]) -> fmt::Result {
    let (mapped, all) = mapped_services(types.iter().copied());
    writeln!(
        out,
        "<h3>{} <span class=\"count\">{} mapped</span></h3>\n<table class=\"mapping\">\n\
         <thead><tr><th scope=\"col\">Local type</th><th scope=\"col\" class=\"num\">Services</th>\
         <th scope=\"col\">Maps to</th></tr></thead>\n<tbody>",
        Escaped(source),
        percent(mapped, all)
    )?;
    for t in types {
        write!(
            out,
            "<tr{}><td><code>{}</code></td>",
            if t.mapped { "" } else { " class=\"unmapped\"" },
            Escaped(&t.local_type)
        )?;
        number_cell(out, t.services)?;
        if t.mapped {
            writeln!(out, "<td>{}</td></tr>", Escaped(&t.target))?;
        } else {
            writeln!(
                out,
                "<td><span class=\"sev error\">&#x2716; Not reported</span> {}</td></tr>",
                Escaped(&t.target)
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
    use super::*;
    use crate::checks::{CheckReport, CodeMonths, Example};

    fn view(report: &CheckReport) -> ReportView<'_> {
        ReportView {
            year: 2025,
            municipality: "4601",
            municipality_name: "Bergen",
            mode: "test",
            generated: "2026-01-15 04:00".into(),
            controls: &[],
            sources: vec![SourceLine {
                name: "gammel <EPJ>".into(),
                origin: "extract /srv/a&b".into(),
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
        let html = render(&view(&report));
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
        assert!(html.contains("gammel &lt;EPJ&gt;") && html.contains("/srv/a&amp;b"));
        assert!(html.contains("s&#39;1"));
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
        let html = render(&view(&report));
        assert_eq!(html.matches("class=\"series\"").count(), 1);
        assert!(html.contains(&format!(
            "<svg id=\"chart\" role=\"img\" aria-labelledby=\"chart-title\" width=\"{}\"",
            layout::PANEL_W
        )));
        assert!(
            html.contains("<title>15 Helsetjenester i hjemmet, Mar: 3 services, 2 persons</title>")
        );
    }

    #[test]
    fn reading_problems_hold_back_the_all_clear() {
        let report = CheckReport::default();
        let mut view = view(&report);
        view.sources[0].problems = 3;
        let html = render(&view);
        assert!(!html.contains("the data can be sent"));
        assert!(html.contains("3 rows or values could not be read"));
    }

    #[test]
    fn no_codes_gives_a_sentence_instead_of_a_chart() {
        let report = CheckReport::default();
        let html = render(&view(&report));
        assert!(!html.contains("<svg id=\"chart\""));
        assert!(html.contains("No granted services in 2025, so there is nothing to chart."));
        assert!(html.contains("Every rule passed."));
        assert!(html.contains("No errors: the data can be sent."));
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
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
        assert_eq!(figure(1_234_567), "1\u{a0}234\u{a0}567");
        assert_eq!(figure(999), "999");
        assert_eq!(percent(999, 1000), "99.9%");
        assert_eq!(percent(9999, 10000), "99.9%");
        assert_eq!(percent(1, 1), "100.0%");
        assert_eq!(percent(0, 0), "0.0%");
    }
}
