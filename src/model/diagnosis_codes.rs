//! Diagnosis codes: the ICPC-2 list (with the Norwegian extensions) and the shape of ICD-10.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::compiled;
use super::records::DiagnosisSystem;

static ICPC2: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    #[derive(Deserialize)]
    struct Row {
        code: String,
        text_no: String,
    }
    compiled::<Row>(include_str!("data/icpc2.csv"))
        .map(|r| (r.code, r.text_no))
        .collect()
});

/// The Norwegian text of an ICPC-2 code, if the code exists.
pub fn icpc2_text(code: &str) -> Option<&'static str> {
    ICPC2.get(code.trim()).map(String::as_str)
}

/// All ICPC-2 codes, sorted.
pub fn icpc2_codes() -> Vec<&'static str> {
    let mut codes: Vec<&str> = ICPC2.keys().map(String::as_str).collect();
    codes.sort_unstable();
    codes
}

/// Whether a code is well-formed in its system: a listed ICPC-2 code, or an ICD-10 code of
/// the shape `A00`, `A00.0`, `A00.09` (letter, two digits, optional decimals).
pub fn is_well_formed(system: DiagnosisSystem, code: &str) -> bool {
    let code = code.trim();
    match system {
        DiagnosisSystem::Icpc2 => icpc2_text(code).is_some(),
        DiagnosisSystem::Icd10 => {
            let bytes = code.as_bytes();
            let head_ok = bytes.len() >= 3
                && bytes[0].is_ascii_uppercase()
                && bytes[1].is_ascii_digit()
                && bytes[2].is_ascii_digit();
            let tail_ok = match &bytes.get(3..) {
                None | Some([]) => true,
                Some([b'.', rest @ ..]) => {
                    (1..=2).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit)
                }
                Some(_) => false,
            };
            head_ok && tail_ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icpc2_list() {
        assert_eq!(icpc2_codes().len(), 708);
        assert_eq!(icpc2_text("A03"), Some("Feber"));
        assert!(is_well_formed(DiagnosisSystem::Icpc2, "P70"));
        assert!(!is_well_formed(DiagnosisSystem::Icpc2, "P7"));
        assert!(!is_well_formed(DiagnosisSystem::Icpc2, "Z99X"));
    }

    #[test]
    fn icd10_shape() {
        for good in ["F03", "I10", "E11.9", "S72.00"] {
            assert!(is_well_formed(DiagnosisSystem::Icd10, good), "{good}");
        }
        for bad in ["", "10", "f03", "F3", "F03.", "F03.123", "F03X"] {
            assert!(!is_well_formed(DiagnosisSystem::Icd10, bad), "{bad}");
        }
    }
}
