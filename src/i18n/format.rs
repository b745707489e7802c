//! Numbers, dates and times as each language writes them. In bokmål: `59 976`, `0,5`,
//! `07.12.2026`, `07.12.2026 10:10` (Europe/Oslo); in English: `59,976`, `0.5`, `2026-12-07`,
//! `2026-12-07 10:10` — the same clock, since the municipality's day is Oslo's.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;
use fluent_bundle::FluentValue;

use super::Language;

impl Language {
    /// A whole number with the language's thousands separator.
    pub fn number(self, n: impl Into<i128>) -> String {
        let n: i128 = n.into();
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(self.thousands());
            }
            out.push(digit);
        }
        out
    }

    /// A number with `decimals` digits after the language's decimal sign.
    pub fn decimal(self, x: f64, decimals: usize) -> String {
        let text = format!("{:.*}", decimals, x.abs());
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let whole: i128 = whole.parse().unwrap_or(0);
        let sign = if x < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
            "-"
        } else {
            ""
        };
        if fraction.is_empty() {
            format!("{sign}{}", self.number(whole))
        } else {
            format!(
                "{sign}{}{}{fraction}",
                self.number(whole),
                self.decimal_sign()
            )
        }
    }

    /// A calendar day: `07.12.2026` or `2026-12-07`.
    pub fn date(self, day: NaiveDate) -> String {
        day.format(self.date_pattern()).to_string()
    }

    /// A moment in Norwegian time: `07.12.2026 10:10` or `2026-12-07 10:10`.
    pub fn moment(self, at: DateTime<Utc>) -> String {
        let pattern = match self {
            Language::Nb => "%d.%m.%Y %H:%M",
            Language::En => "%Y-%m-%d %H:%M",
        };
        at.with_timezone(&Oslo).format(pattern).to_string()
    }

    /// How a date is typed into a date field, as a hint beside it: `dd.mm.åååå`.
    pub fn date_hint(self) -> &'static str {
        match self {
            Language::Nb => "dd.mm.åååå",
            Language::En => "yyyy-mm-dd",
        }
    }

    /// A date typed into a field: the language's own order, and ISO always.
    pub fn parse_date(self, text: &str) -> Option<NaiveDate> {
        let text = text.trim();
        NaiveDate::parse_from_str(text, "%d.%m.%Y")
            .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
            .ok()
    }

    fn date_pattern(self) -> &'static str {
        match self {
            Language::Nb => "%d.%m.%Y",
            Language::En => "%Y-%m-%d",
        }
    }

    fn thousands(self) -> char {
        match self {
            Language::Nb => ' ',
            Language::En => ',',
        }
    }

    fn decimal_sign(self) -> char {
        match self {
            Language::Nb => ',',
            Language::En => '.',
        }
    }
}

/// Numbers inside catalog messages, written like `Language::number` and `decimal` write them.
pub(super) fn fluent_nb<M>(value: &FluentValue, _: &M) -> Option<String> {
    fluent_number(Language::Nb, value)
}

pub(super) fn fluent_en<M>(value: &FluentValue, _: &M) -> Option<String> {
    fluent_number(Language::En, value)
}

fn fluent_number(language: Language, value: &FluentValue) -> Option<String> {
    let FluentValue::Number(number) = value else {
        return None;
    };
    let decimals = number
        .options
        .minimum_fraction_digits
        .or(number.options.maximum_fraction_digits)
        .unwrap_or(if number.value.fract() == 0.0 { 0 } else { 1 });
    Some(language.decimal(number.value, decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_read_as_each_language_writes_them() {
        assert_eq!(Language::Nb.number(59_976), "59 976");
        assert_eq!(Language::Nb.number(1_000_000), "1 000 000");
        assert_eq!(Language::Nb.number(-1_234), "-1 234");
        assert_eq!(Language::Nb.number(999), "999");
        assert_eq!(Language::En.number(59_976), "59,976");
        assert_eq!(Language::Nb.decimal(12_345.25, 1), "12 345,2");
        assert_eq!(Language::Nb.decimal(0.5, 1), "0,5");
        assert_eq!(Language::En.decimal(0.5, 2), "0.50");
        assert_eq!(Language::Nb.decimal(-0.01, 1), "0,0");
        let day = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(Language::Nb.date(day), "07.12.2026");
        assert_eq!(Language::En.date(day), "2026-12-07");
        let at = day.and_hms_opt(9, 10, 0).unwrap().and_utc();
        assert_eq!(Language::Nb.moment(at), "07.12.2026 10:10");
        assert_eq!(Language::Nb.parse_date("07.12.2026"), Some(day));
        assert_eq!(Language::Nb.parse_date("2026-12-07"), Some(day));
        assert_eq!(Language::Nb.parse_date("12/07/2026"), None);
    }

    #[test]
    fn catalog_numbers_use_the_language_s_separators() {
        assert_eq!(
            crate::t!(Language::Nb, "common-persons", count = 59_976),
            "59 976 personer"
        );
        assert_eq!(
            crate::t!(Language::Nb, "common-persons", count = 1),
            "1 person"
        );
        assert_eq!(
            crate::t!(Language::En, "common-persons", count = 59_976),
            "59,976 persons"
        );
    }
}
