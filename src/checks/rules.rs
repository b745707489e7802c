//! The catalogue of rules: stable ids, severity, and words an IPLOS contact understands.
//! Ids never change once released: reports, alerts and metrics are keyed by them.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The register would reject or misread the data: held back until fixed.
    Error,
    /// Worth a look; the data still flows.
    Warning,
}

#[derive(Debug)]
pub struct Rule {
    pub id: &'static str,
    pub severity: Severity,
    /// What the finding means.
    pub explains: &'static str,
    /// What to do about it.
    pub fix: &'static str,
}

const fn rule(
    id: &'static str,
    severity: Severity,
    explains: &'static str,
    fix: &'static str,
) -> Rule {
    Rule {
        id,
        severity,
        explains,
        fix,
    }
}

use Severity::{Error, Warning};

pub static RULES: &[Rule] = &[
    rule(
        "test-user",
        Warning,
        "Test patients (such as \"Donald Duck\") must not be reported; these are left out of everything sent.",
        "Nothing, if they are test patients. If a real person is listed, change the test-user patterns in the configuration.",
    ),
    rule(
        "municipality-invalid",
        Error,
        "The municipality of residence is not a municipality in the reporting year; many numbers changed in 2020 and 2024.",
        "Correct the municipality in the EPJ; the example names the number that replaced it.",
    ),
    rule(
        "ident-invalid",
        Error,
        "The identity number has a wrong length, wrong check digits or an impossible birth date.",
        "Correct the fødselsnummer or D-number in the EPJ (the number itself is never shown here).",
    ),
    rule(
        "orgnr-invalid",
        Error,
        "The provider's organisation number has a wrong length or check digit.",
        "Look the provider up in Enhetsregisteret and correct the number in the EPJ.",
    ),
    rule(
        "orgnr-missing",
        Error,
        "This kind of service must name the provider's organisation number; bought services from other municipalities or private providers are a common gap.",
        "Register the provider's organisation number on the decision in the EPJ.",
    ),
    rule(
        "orgnr-forbidden",
        Error,
        "Housing (29) and location technology (26) must not carry an organisation number.",
        "Remove the organisation number from these decisions, or check the mapping of the local type.",
    ),
    rule(
        "code-retired",
        Error,
        "The local type was mapped to a national code that is retired in the reporting year (12 and 13 became 29, 16 became a person attribute).",
        "Add a rule for the reporting year to the mapping file.",
    ),
    rule(
        "local-type-unmapped",
        Error,
        "The EPJ uses a local service type that the mapping file does not translate; its services cannot be reported.",
        "Add a rule for the local type to the mapping file: a national code, a person attribute, or ignore with a reason.",
    ),
    rule(
        "hours-invalid",
        Error,
        "Granted hours per week are negative or more than 168 (the hours of a week).",
        "Correct the hours in the EPJ; monthly hours are divided by 4.",
    ),
    rule(
        "dates-invalid",
        Error,
        "A service ends before it starts, or a pause lies outside its service or ends before it starts.",
        "Correct the dates of the decision or the pause in the EPJ.",
    ),
    rule(
        "period-outside",
        Warning,
        "The service does not touch the reporting period, so it is not reported for it.",
        "Nothing, if the service belongs to another period; otherwise correct its dates.",
    ),
    rule(
        "service-duplicate",
        Error,
        "The same person has the same national service more than once on the same days, from one EPJ or from two.",
        "End or remove the duplicate decision; after an EPJ change, end the service in the old system the day before it starts in the new.",
    ),
    rule(
        "score-invalid",
        Error,
        "An assessment score is not 1–5 or 9.",
        "Correct the functional assessment in the EPJ.",
    ),
    rule(
        "variable-unknown",
        Warning,
        "The assessment variable is not in the known list; it is kept, not dropped.",
        "Check the variable's code; if IPLOS 3.7 has it, add it to the configuration's assessment variables.",
    ),
    rule(
        "diagnosis-malformed",
        Warning,
        "The diagnosis code is not a known ICPC-2 code or does not have the shape of an ICD-10 code.",
        "Correct the code in the EPJ.",
    ),
    rule(
        "welfare-tech-missing",
        Warning,
        "No safety alarm, GPS, medication support or digital supervision appears in the whole year; the register asks municipalities to report welfare technology.",
        "Check that the EPJ registers welfare technology as decisions and that the mapping maps them to 6, 26, 27 or 28.",
    ),
    rule(
        "residence-missing",
        Error,
        "A person with services has no municipality of residence.",
        "Register the person's municipality of residence in the EPJ.",
    ),
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_kebab_case() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert!(
            ids.iter()
                .all(|id| id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'))
        );
    }
}
