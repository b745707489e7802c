//! A date as people write it here: `YYYY-MM-DD` or `DD.MM.YYYY`, with an explanation when
//! the day cannot be (February 2025 has 28 days). Read in extracts, mappings and the
//! configuration alike.

use chrono::NaiveDate;

/// `YYYY-MM-DD` or `DD.MM.YYYY`. The error is an explanation to append, such as
/// ": February 2025 has 28 days", or empty when the shape itself is wrong.
pub fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let b = value.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(range)?;
        if part.iter().all(u8::is_ascii_digit) {
            Some(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        } else {
            None
        }
    };
    let parts = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => digits(0..4).zip(digits(5..7)).zip(digits(8..10)),
        10 if b[2] == b'.' && b[5] == b'.' => digits(6..10).zip(digits(3..5)).zip(digits(0..2)),
        _ => None,
    };
    let ((year, month), day) = parts.ok_or_else(String::new)?;
    let year = year as i32;
    if !(1..=12).contains(&month) {
        return Err(format!(": there is no month {month}"));
    }
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| {
        let days = days_in_month(year, month);
        let month_name = NaiveDate::from_ymd_opt(year, month, 1)
            .map_or_else(String::new, |d| d.format("%B %Y").to_string());
        format!(": {month_name} has {days} days")
    })
}

fn days_in_month(year: i32, month: u32) -> u32 {
    (28..=31)
        .rev()
        .find(|day| NaiveDate::from_ymd_opt(year, month, *day).is_some())
        .unwrap_or(28)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_date_formats() {
        let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        assert_eq!(parse_date("2025-03-01"), Ok(day));
        assert_eq!(parse_date("01.03.2025"), Ok(day));
    }

    #[test]
    fn impossible_dates_are_explained() {
        assert_eq!(
            parse_date("31.02.2025"),
            Err(": February 2025 has 28 days".into())
        );
        assert_eq!(
            parse_date("2024-02-30"),
            Err(": February 2024 has 29 days".into())
        );
        assert_eq!(
            parse_date("2025-13-01"),
            Err(": there is no month 13".into())
        );
        for bad in [
            "",
            "2025-1-1",
            "1.3.2025",
            "2025/03/01",
            "20250301",
            "10000-01-01",
            "2025-03-0x",
        ] {
            assert_eq!(parse_date(bad), Err(String::new()), "{bad}");
        }
    }
}
