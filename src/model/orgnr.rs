//! Organisation numbers (Enhetsregisteret): nine digits, the last a mod-11 check digit.

use thiserror::Error;

use super::ident::mod11;

const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OrgnrError {
    #[error("an organisation number has 9 digits; '{0}' has {1}")]
    Length(String, usize),
    #[error("an organisation number has digits only; '{0}' has other characters")]
    NotDigits(String),
    #[error("the check digit (9th digit) of '{0}' is wrong")]
    CheckDigit(String),
}

/// Checks an organisation number. Spaces, as in `974 760 673`, are allowed and ignored.
///
/// ```
/// use kpr_bridge::model::orgnr::validate;
///
/// assert!(validate("974 760 673").is_ok());
/// assert!(validate("974760674").is_err());
/// ```
pub fn validate(orgnr: &str) -> Result<(), OrgnrError> {
    let compact: String = orgnr.chars().filter(|c| *c != ' ').collect();
    // An orgnr is public data, so errors may show it; cut it short in case it is garbage.
    let shown: String = compact.chars().take(20).collect();
    if !compact.chars().all(|c| c.is_ascii_digit()) {
        return Err(OrgnrError::NotDigits(shown));
    }
    if compact.len() != 9 {
        return Err(OrgnrError::Length(shown, compact.len()));
    }
    let digits: Vec<u32> = compact.bytes().map(|b| u32::from(b - b'0')).collect();
    if mod11(&digits[..8], &WEIGHTS) == Some(digits[8]) {
        Ok(())
    } else {
        Err(OrgnrError::CheckDigit(shown))
    }
}

/// The full number for eight leading digits, or `None` when no check digit exists for them.
pub fn with_check_digit(first_eight: u32) -> Option<String> {
    let head = format!("{:08}", first_eight % 100_000_000);
    let digits: Vec<u32> = head.bytes().map(|b| u32::from(b - b'0')).collect();
    mod11(&digits, &WEIGHTS).map(|k| format!("{head}{k}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_good() {
        // Real public organisations, checked outside this code with the published weights.
        for good in [
            "974760673",
            "983044778",
            "971526920",
            "991825827",
            "974 760 673",
        ] {
            assert_eq!(validate(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn known_bad() {
        assert!(matches!(
            validate("974760674"),
            Err(OrgnrError::CheckDigit(_))
        ));
        assert!(matches!(
            validate("97476067"),
            Err(OrgnrError::Length(_, 8))
        ));
        assert!(matches!(
            validate("9747606733"),
            Err(OrgnrError::Length(_, 10))
        ));
        assert!(matches!(
            validate("97476067A"),
            Err(OrgnrError::NotDigits(_))
        ));
        assert!(matches!(validate(""), Err(OrgnrError::Length(_, 0))));
    }

    #[test]
    fn generated_numbers_validate() {
        let made: Vec<String> = (10_000_000..10_000_200)
            .filter_map(with_check_digit)
            .collect();
        assert!(made.len() > 150);
        for orgnr in made {
            assert_eq!(validate(&orgnr), Ok(()));
        }
    }
}
