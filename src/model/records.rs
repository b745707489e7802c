//! The canonical records every source yields and every later stage consumes.
//!
//! They are plain data: no behaviour beyond parsing small value types. Local ids
//! (`person_id`, `service_id`) are the EPJ's own keys and are not personal data; the
//! person's identity and name live in [`Ident`] and [`PersonName`], whose `Debug` output is
//! redacted so that a stray `{:?}` can never put them in a log (invariant 4).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// A fødselsnummer, D-number, H-number or synthetic test number, as the EPJ gave it.
///
/// Only [`Ident::expose`] reveals it, and only the identity message should call it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ident(CompactString);

impl Ident {
    pub fn new(value: impl Into<CompactString>) -> Self {
        Ident(value.into())
    }

    /// The identity number itself. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ident(<redacted>)")
    }
}

/// A person's name. Kept only to recognise test users; never logged or reported.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(CompactString);

impl PersonName {
    pub fn new(value: impl Into<CompactString>) -> Self {
        PersonName(value.into())
    }

    /// The name itself. Callers must not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PersonName(<redacted>)")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

/// Whether `value`, trimmed, is one of `words`, ignoring ASCII case. Parsing runs once per
/// row, so it must not allocate.
fn is_one_of(value: &str, words: &[&str]) -> bool {
    let value = value.trim();
    words.iter().any(|w| w.eq_ignore_ascii_case(value))
}

impl FromStr for Gender {
    type Err = ();

    /// Accepts what Norwegian EPJs write: `M`/`K`, `1`/`2` (the IPLOS coding), English words.
    fn from_str(s: &str) -> Result<Self, ()> {
        if is_one_of(s, &["m", "1", "male", "mann"]) {
            Ok(Gender::Male)
        } else if is_one_of(s, &["k", "f", "2", "female", "kvinne"]) {
            Ok(Gender::Female)
        } else {
            Err(())
        }
    }
}

/// Who the person lives with, as IPLOS asks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Household {
    Alone,
    WithOthers,
}

impl FromStr for Household {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if is_one_of(s, &["alone", "1", "bor alene", "alene"]) {
            Ok(Household::Alone)
        } else if is_one_of(s, &["with_others", "2", "bor med andre", "med andre"]) {
            Ok(Household::WithOthers)
        } else {
            Err(())
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The EPJ's own key for the person.
    pub person_id: CompactString,
    pub ident: Option<Ident>,
    pub name: Option<PersonName>,
    pub birth_year: Option<u16>,
    pub gender: Option<Gender>,
    /// Municipality of residence, four digits, kept as text (`0301` stays `0301`).
    pub municipality: Option<CompactString>,
    /// City district (bydel), six digits.
    pub district: Option<CompactString>,
    pub household: Option<Household>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Granted,
    Refused,
}

impl FromStr for Decision {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if is_one_of(s, &["granted", "innvilget"]) {
            Ok(Decision::Granted)
        } else if is_one_of(s, &["refused", "avslag", "avslått"]) {
            Ok(Decision::Refused)
        } else {
            Err(())
        }
    }
}

/// A temporary stop of a service; `to` is the last day of the pause, open while unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Pause {
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// Granted hours per week in hundredths of an hour, so that values compare and hash exactly.
/// Negative and huge values are kept: judging them is the checks' job, not the reader's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HoursPerWeek(i64);

impl HoursPerWeek {
    pub fn from_hundredths(hundredths: i64) -> Self {
        HoursPerWeek(hundredths)
    }

    pub fn hundredths(self) -> i64 {
        self.0
    }
}

impl FromStr for HoursPerWeek {
    type Err = ();

    /// `7.5`, `7,5`, `-2`, `12.25`: at most two decimals, decimal point or comma.
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (whole, fraction) = match digits.find(['.', ',']) {
            Some(i) => (&digits[..i], &digits[i + 1..]),
            None => (digits, ""),
        };
        let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 9 || !all_digits(whole) || fraction.len() > 2 {
            return Err(());
        }
        if !all_digits(fraction) {
            return Err(());
        }
        let whole: i64 = whole.parse().map_err(|_| ())?;
        let fraction: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().map_err(|_| ())? * 10,
            _ => fraction.parse().map_err(|_| ())?,
        };
        let value = whole * 100 + fraction;
        Ok(HoursPerWeek(if negative { -value } else { value }))
    }
}

impl fmt::Display for HoursPerWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        match abs % 100 {
            0 => write!(f, "{sign}{}", abs / 100),
            rest if rest % 10 == 0 => write!(f, "{sign}{}.{}", abs / 100, rest / 10),
            rest => write!(f, "{sign}{}.{rest:02}", abs / 100),
        }
    }
}

/// A decision on one local service type for one person: granted (with its period) or refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The EPJ's own key for the decision.
    pub service_id: CompactString,
    pub person_id: CompactString,
    /// The EPJ's service type, before mapping to the national code.
    pub local_type: CompactString,
    pub decision: Decision,
    pub decided_on: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    /// Last day of the service; open while it runs.
    pub end: Option<NaiveDate>,
    pub hours_per_week: Option<HoursPerWeek>,
    /// The provider's organisation number, nine digits, as text.
    pub provider_orgnr: Option<CompactString>,
    pub pauses: Vec<Pause>,
}

/// One scored variable of a functional assessment (bistandsbehov).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    pub person_id: CompactString,
    pub assessed_on: Option<NaiveDate>,
    /// The variable's code (see `model::assessment`); unknown codes are kept for the checks.
    pub variable: CompactString,
    /// 1–5 or 9 when valid; other values are kept for the checks.
    pub score: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DiagnosisSystem {
    #[serde(rename = "ICPC2")]
    Icpc2,
    #[serde(rename = "ICD10")]
    Icd10,
}

impl FromStr for DiagnosisSystem {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        if is_one_of(s, &["ICPC2", "ICPC-2", "ICPC 2"]) {
            Ok(DiagnosisSystem::Icpc2)
        } else if is_one_of(s, &["ICD10", "ICD-10", "ICD 10"]) {
            Ok(DiagnosisSystem::Icd10)
        } else {
            Err(())
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub person_id: CompactString,
    pub system: DiagnosisSystem,
    /// As the EPJ wrote it; malformed codes are kept for the checks.
    pub code: CompactString,
    pub registered_on: Option<NaiveDate>,
}

/// Facts about a person that IPLOS reports beside the services.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeKind {
    /// Rehabilitation/habilitation outside institution: a person attribute since 2019.
    RehabOutsideInstitution,
    IndividualPlan,
    Coordinator,
    DoctorAssessment,
    DentalAssessment,
}

impl AttributeKind {
    pub const ALL: [AttributeKind; 5] = [
        AttributeKind::RehabOutsideInstitution,
        AttributeKind::IndividualPlan,
        AttributeKind::Coordinator,
        AttributeKind::DoctorAssessment,
        AttributeKind::DentalAssessment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AttributeKind::RehabOutsideInstitution => "rehab_outside_institution",
            AttributeKind::IndividualPlan => "individual_plan",
            AttributeKind::Coordinator => "coordinator",
            AttributeKind::DoctorAssessment => "doctor_assessment",
            AttributeKind::DentalAssessment => "dental_assessment",
        }
    }
}

impl FromStr for AttributeKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        AttributeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(s))
            .ok_or(())
    }
}

impl fmt::Display for AttributeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonAttribute {
    pub person_id: CompactString,
    pub kind: AttributeKind,
    pub from: Option<NaiveDate>,
    /// Last day; open while it lasts.
    pub to: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_point_and_comma() {
        assert_eq!("7.5".parse::<HoursPerWeek>(), Ok(HoursPerWeek(750)));
        assert_eq!("7,5".parse::<HoursPerWeek>(), Ok(HoursPerWeek(750)));
        assert_eq!("12.25".parse::<HoursPerWeek>(), Ok(HoursPerWeek(1225)));
        assert_eq!("-2".parse::<HoursPerWeek>(), Ok(HoursPerWeek(-200)));
        assert_eq!(" 0,05 ".parse::<HoursPerWeek>(), Ok(HoursPerWeek(5)));
        for bad in [
            "",
            "x",
            "1.234",
            "1..2",
            "1,2,3",
            ",5",
            "--1",
            "1e3",
            "99999999999",
        ] {
            assert!(
                bad.parse::<HoursPerWeek>().is_err(),
                "{bad} should not parse"
            );
        }
    }

    #[test]
    fn hours_display_round_trips() {
        for text in ["7.5", "12.25", "-2", "0", "168", "0.05"] {
            let hours: HoursPerWeek = text.parse().unwrap();
            assert_eq!(hours.to_string(), text);
        }
    }

    #[test]
    fn code_words_parse_in_any_case() {
        assert_eq!("Innvilget".parse(), Ok(Decision::Granted));
        assert_eq!(" REFUSED ".parse(), Ok(Decision::Refused));
        assert_eq!("k".parse(), Ok(Gender::Female));
        assert_eq!("Bor alene".parse(), Ok(Household::Alone));
        assert_eq!("icd-10".parse(), Ok(DiagnosisSystem::Icd10));
        assert_eq!("ICPC2".parse(), Ok(DiagnosisSystem::Icpc2));
        assert!("maybe".parse::<Decision>().is_err());
        assert!("ICD9".parse::<DiagnosisSystem>().is_err());
    }

    #[test]
    fn identity_is_redacted_in_debug() {
        let person = Person {
            person_id: "p1".into(),
            ident: Some(Ident::new("01818012345")),
            name: Some(PersonName::new("Kari Nordmann")),
            birth_year: Some(1980),
            gender: Some(Gender::Female),
            municipality: Some("0301".into()),
            district: None,
            household: None,
        };
        let debug = format!("{person:?}");
        assert!(!debug.contains("01818012345"));
        assert!(!debug.contains("Kari"));
        assert!(debug.contains("<redacted>"));
    }
}
