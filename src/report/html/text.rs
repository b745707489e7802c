//! How data and figures become the page's text: every text escaped, figures and percentages
//! as the language writes them, number cells, and the severity badge. Shared by every section.

use std::fmt::{self, Write};

use crate::checks::Severity;
use crate::i18n::Language;
use crate::t;

/// Text from data or the catalog, written as HTML text or attribute value.
pub(super) struct Escaped<'a>(pub &'a str);

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
pub(super) fn figure(lang: Language, n: u64) -> String {
    lang.number(n).replace(' ', "\u{a0}")
}

/// `part` of `whole` in percent with one decimal, rounded down so that 100,0 % means all.
pub(super) fn percent(lang: Language, part: u64, whole: u64) -> String {
    let tenths = u128::from(part) * 1000 / u128::from(whole.max(1));
    let value = lang.decimal(tenths as f64 / 10.0, 1);
    t!(lang, "report-percent", value = value)
}

/// A number cell; `data-value` keeps the plain figure for tools that read the page.
pub(super) fn number_cell(out: &mut String, n: u64, lang: Language) -> fmt::Result {
    write!(
        out,
        "<td class=\"num\" data-value=\"{n}\">{}</td>",
        figure(lang, n)
    )
}

/// Severity as a word and a shape as well as a colour, so it reads in grey print too.
pub(super) fn severity_badge(out: &mut String, severity: Severity, lang: Language) -> fmt::Result {
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

pub(super) fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
