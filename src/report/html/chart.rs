//! Services and persons per national code and month: an SVG panel per code, drawn here (bars
//! for services, a line for persons, a tooltip per month), and the same figures as a table.

use std::fmt::{self, Write};

use super::text::{Escaped, figure, number_cell};
use crate::checks::CodeMonths;
use crate::i18n::Language;
use crate::report::service_type_name;
use crate::t;

/// The month labels of the chart and its table, January first.
fn month_labels(lang: Language) -> Vec<String> {
    (1..=12)
        .map(|month| t!(lang, "report-month", month = month))
        .collect()
}

/// Services and persons per national code and month: a gap or a jump in one code is the
/// quickest sign of a mapping or export mistake.
pub(super) fn chart_section(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::CheckReport;
    use crate::report::html::render;
    use crate::report::html::tests::view;

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
}
