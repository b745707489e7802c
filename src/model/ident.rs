//! Norwegian person identity numbers: fødselsnummer, D-number, H-number and the synthetic
//! test numbers of the national test registry (month + 80), each with both mod-11 check digits.
//!
//! Errors describe *what* is wrong and never echo the number (invariant 4).

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

const WEIGHTS_1: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
const WEIGHTS_2: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdentKind {
    /// Fødselsnummer.
    Fnr,
    /// D-number: day + 40, for people without a fødselsnummer.
    DNumber,
    /// H-number: month + 40, an auxiliary number used by health services.
    HNumber,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdentInfo {
    pub kind: IdentKind,
    /// A number from the national test registry (month + 80): never a real person.
    pub synthetic: bool,
    pub birth_date: NaiveDate,
    pub male: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum IdentError {
    #[error("an identity number has 11 digits; this one has {0} characters")]
    Length(usize),
    #[error("an identity number has digits only")]
    NotDigits,
    #[error("the first six digits are not a valid birth date")]
    BirthDate,
    #[error("the first check digit (10th digit) is wrong")]
    CheckDigit1,
    #[error("the second check digit (11th digit) is wrong")]
    CheckDigit2,
}

/// Checks an identity number and tells what kind it is.
///
/// ```
/// use kpr_bridge::model::ident::{validate, IdentError, IdentKind};
///
/// let info = validate("01810112332").unwrap(); // a synthetic test number (month + 80)
/// assert!(info.synthetic);
/// assert_eq!(info.kind, IdentKind::Fnr);
/// assert_eq!(validate("01810112333"), Err(IdentError::CheckDigit2));
/// ```
pub fn validate(ident: &str) -> Result<IdentInfo, IdentError> {
    let bytes = ident.as_bytes();
    if bytes.len() != 11 {
        return Err(IdentError::Length(ident.chars().count()));
    }
    if !bytes.iter().all(u8::is_ascii_digit) {
        return Err(IdentError::NotDigits);
    }
    let digits: Vec<u32> = bytes.iter().map(|b| u32::from(b - b'0')).collect();
    if mod11(&digits[..9], &WEIGHTS_1) != Some(digits[9]) {
        return Err(IdentError::CheckDigit1);
    }
    if mod11(&digits[..10], &WEIGHTS_2) != Some(digits[10]) {
        return Err(IdentError::CheckDigit2);
    }

    let pair = |i: usize| digits[i] * 10 + digits[i + 1];
    let (mut day, mut month, year2, individual) =
        (pair(0), pair(2), pair(4), pair(6) * 10 + digits[8]);
    let mut kind = IdentKind::Fnr;
    if day > 40 {
        day -= 40;
        kind = IdentKind::DNumber;
    }
    let mut synthetic = false;
    if month > 80 {
        month -= 80;
        synthetic = true;
    } else if month > 40 {
        if kind == IdentKind::DNumber {
            return Err(IdentError::BirthDate);
        }
        month -= 40;
        kind = IdentKind::HNumber;
    }
    let year = full_year(year2, individual).ok_or(IdentError::BirthDate)?;
    let birth_date = NaiveDate::from_ymd_opt(year, month, day).ok_or(IdentError::BirthDate)?;
    Ok(IdentInfo {
        kind,
        synthetic,
        birth_date,
        male: individual % 2 == 1,
    })
}

/// The century rule of the individual number (digits 7–9).
fn full_year(year2: u32, individual: u32) -> Option<i32> {
    let year2 = year2 as i32;
    match individual {
        0..=499 => Some(1900 + year2),
        500..=749 if year2 >= 54 => Some(1800 + year2),
        500..=999 if year2 <= 39 => Some(2000 + year2),
        900..=999 if year2 >= 40 => Some(1900 + year2),
        _ => None,
    }
}

/// The mod-11 check digit of `digits` under `weights`; `None` where it would be 10, which
/// no valid number can have. Shared with the organisation number.
pub(crate) fn mod11(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        k => Some(k),
    }
}

/// Both check digits for the first nine digits, where they exist.
fn check_digits(first_nine: &[u32]) -> Option<(u32, u32)> {
    let k1 = mod11(first_nine, &WEIGHTS_1)?;
    let mut ten = first_nine.to_vec();
    ten.push(k1);
    Some((k1, mod11(&ten, &WEIGHTS_2)?))
}

/// A synthetic test number (month + 80) for the given birth date and individual number,
/// or `None` when no check digits exist for that combination (about one in five).
/// Used by the generator; the date's year must fit the individual number's century.
pub fn synthetic(birth_date: NaiveDate, individual: u32) -> Option<String> {
    let head = format!(
        "{:02}{:02}{:02}{:03}",
        birth_date.day(),
        birth_date.month() + 80,
        birth_date.year() % 100,
        individual % 1000
    );
    let digits: Vec<u32> = head.bytes().map(|b| u32::from(b - b'0')).collect();
    let (k1, k2) = check_digits(&digits)?;
    Some(format!("{head}{k1}{k2}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Known-good numbers, computed outside this code with the published weights: a
    // fødselsnummer, a D-number, an H-number and a synthetic (month + 80) number.
    const FNR: &str = "01010112377";
    const D_NUMBER: &str = "41010112360";
    const H_NUMBER: &str = "01410112007";
    const SYNTHETIC: &str = "01810112332";

    #[test]
    fn known_good_numbers() {
        let fnr = validate(FNR).unwrap();
        assert_eq!((fnr.kind, fnr.synthetic), (IdentKind::Fnr, false));
        assert_eq!(fnr.birth_date, NaiveDate::from_ymd_opt(1901, 1, 1).unwrap());
        assert!(fnr.male);

        assert_eq!(validate(D_NUMBER).unwrap().kind, IdentKind::DNumber);
        assert_eq!(validate(H_NUMBER).unwrap().kind, IdentKind::HNumber);
        let synthetic = validate(SYNTHETIC).unwrap();
        assert!(synthetic.synthetic);
        assert_eq!(synthetic.kind, IdentKind::Fnr);
    }

    #[test]
    fn known_bad_numbers() {
        assert_eq!(validate("0101011235"), Err(IdentError::Length(10)));
        assert_eq!(validate("010101123567"), Err(IdentError::Length(12)));
        assert_eq!(validate("0101011235x"), Err(IdentError::NotDigits));
        assert_eq!(validate("01010112387"), Err(IdentError::CheckDigit1));
        assert_eq!(validate("01010112378"), Err(IdentError::CheckDigit2));
        // 31 February with valid check digits.
        assert_eq!(
            validate(&with_checks("310201", 100)),
            Err(IdentError::BirthDate)
        );
        // Month 13 with valid check digits.
        assert_eq!(
            validate(&with_checks("011301", 100)),
            Err(IdentError::BirthDate)
        );
        // D-number and H-number at once.
        assert_eq!(
            validate(&with_checks("414101", 100)),
            Err(IdentError::BirthDate)
        );
        // Individual numbers 500–749 cannot belong to year 45.
        assert_eq!(
            validate(&with_checks("010145", 600)),
            Err(IdentError::BirthDate)
        );
    }

    #[test]
    fn errors_never_contain_the_number() {
        for bad in ["01010112387", "01010112378", "0101011235x", "31020112300"] {
            let message = validate(bad).unwrap_err().to_string();
            assert!(!message.contains(bad), "{message}");
        }
    }

    #[test]
    fn century_rules() {
        assert_eq!(full_year(85, 123), Some(1985));
        assert_eq!(full_year(60, 600), Some(1860));
        assert_eq!(full_year(10, 600), Some(2010));
        assert_eq!(full_year(45, 950), Some(1945));
        assert_eq!(full_year(45, 600), None);
    }

    /// The first number with valid check digits for these six digits, trying individual
    /// numbers from `individual` up (not every combination has check digits).
    fn with_checks(six: &str, individual: u32) -> String {
        (individual..individual + 100)
            .find_map(|ind| {
                let head = format!("{six}{ind:03}");
                let digits: Vec<u32> = head.bytes().map(|b| u32::from(b - b'0')).collect();
                check_digits(&digits).map(|(k1, k2)| format!("{head}{k1}{k2}"))
            })
            .expect("check digits exist for one of 100 individual numbers")
    }

    proptest! {
        #[test]
        fn synthetic_numbers_validate(days in 0i64..40_000, individual in 0u32..500) {
            let birth = NaiveDate::from_ymd_opt(1910, 1, 1).unwrap() + chrono::Days::new(days as u64);
            let year2 = birth.year() % 100;
            // Pick an individual number that fits the century.
            let individual = if birth.year() >= 2000 { 500 + individual % 500 } else { individual };
            prop_assume!(full_year(year2 as u32, individual) == Some(birth.year()));
            if let Some(ident) = synthetic(birth, individual) {
                let info = validate(&ident).unwrap();
                prop_assert!(info.synthetic);
                prop_assert_eq!(info.birth_date, birth);
            }
        }

        #[test]
        fn any_single_digit_change_is_caught(position in 0usize..11, delta in 1u8..10) {
            let mut bytes = FNR.as_bytes().to_vec();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(validate(&changed).is_err());
        }
    }
}
