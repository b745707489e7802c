//! The register's own arrival checks of IPLOS 3.7, run on KPR_IPL as written, so that the
//! municipality learns before sending what the register would discard.
//!
//! The checks are data: `data/iplos37_controls.csv`, made from the register's annotations
//! (`schemas/official/iplos37/iplos_2019_Annotations.xsd`) by `ops/iplos37-controls.py`, not
//! typed by hand. Per field: a type check (the register's regex), a presence check (some only
//! for certain service types), a code check and a range check, each with the consequence the
//! register applies — the whole message discarded, the record discarded, the value set to
//! NULL, or nothing. Bounds bound to 2019 in the file follow the reporting year. A check
//! whose consequence discards the whole message is an error; one that drops a record or a
//! value is a warning; one without consequence is only counted.
//!
//! The checks run in [`super::checker`]: on the records as the writer of KPR_IPL makes them,
//! or on a document read back.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::checks::Severity;
use crate::i18n::Language;
use crate::t;

/// What the register does when a check fails (its `handling…ID`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Consequence {
    /// 1, "Slettemerk melding".
    Message,
    /// 2, "Slettemerk rad med underelementer".
    Record,
    /// 7, "Sett verdi til NULL".
    Null,
    /// 9, "Ingen handling", or none stated.
    Nothing,
}

impl Consequence {
    fn from_id(id: &str) -> Consequence {
        match id.trim() {
            "1" => Consequence::Message,
            "2" => Consequence::Record,
            "7" => Consequence::Null,
            _ => Consequence::Nothing,
        }
    }

    /// In plain words.
    pub fn words(self, lang: Language) -> String {
        match self {
            Consequence::Message => t!(lang, "control-consequence-message"),
            Consequence::Record => t!(lang, "control-consequence-record"),
            Consequence::Null => t!(lang, "control-consequence-null"),
            Consequence::Nothing => t!(lang, "control-consequence-nothing"),
        }
    }

    pub fn severity(self) -> Option<Severity> {
        match self {
            Consequence::Message => Some(Severity::Error),
            Consequence::Record | Consequence::Null => Some(Severity::Warning),
            Consequence::Nothing => None,
        }
    }
}

/// Which check found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Kind {
    /// The value does not match the register's pattern for its type.
    Type,
    /// A value the register requires is missing.
    Mandatory,
    /// The value is not a code of its code list.
    Code,
    /// The value is outside the range the register accepts.
    Range,
}

impl Kind {
    /// The check's id, as logs and the `annual` command name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Type => "type",
            Kind::Mandatory => "mandatory",
            Kind::Code => "code",
            Kind::Range => "range",
        }
    }

    /// The check, named for people: "range check", "kontroll mot min./maks.".
    pub fn words(self, lang: Language) -> String {
        match self {
            Kind::Type => t!(lang, "control-kind-type"),
            Kind::Mandatory => t!(lang, "control-kind-mandatory"),
            Kind::Code => t!(lang, "control-kind-code"),
            Kind::Range => t!(lang, "control-kind-range"),
        }
    }
}

/// What the register expects of a value that failed its check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Any value.
    Value,
    /// A value, for these service types.
    ValueFor(Vec<String>),
    /// A value matching the register's regex.
    Pattern(String),
    /// One of these codes.
    OneOf(Vec<String>),
    /// A service type (9151) valid in the year.
    ServiceType(i32),
    /// Within the bounds (`YYYYMMDD` or a number), open where `None`.
    Range(Option<String>, Option<String>),
}

impl Expected {
    /// In words: "one of K, M", "en av K, M".
    pub fn text(&self, lang: Language) -> String {
        match self {
            Expected::Value => t!(lang, "control-expected-value"),
            Expected::ValueFor(codes) => {
                t!(lang, "control-expected-value-for", codes = codes.join(", "))
            }
            Expected::Pattern(pattern) => {
                t!(lang, "control-expected-pattern", pattern = pattern.clone())
            }
            Expected::OneOf(codes) => t!(lang, "control-expected-one-of", codes = codes.join(", ")),
            // The year as text: a number would be grouped (`2 025`).
            Expected::ServiceType(year) => {
                t!(
                    lang,
                    "control-expected-service-type",
                    year = year.to_string()
                )
            }
            Expected::Range(from, to) => {
                let open = || t!(lang, "control-expected-open");
                t!(
                    lang,
                    "control-expected-range",
                    from = from.clone().unwrap_or_else(open),
                    to = to.clone().unwrap_or_else(open)
                )
            }
        }
    }
}

/// In JSON (`check --json`), what is expected reads as in English.
impl Serialize for Expected {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text(Language::En))
    }
}

/// One check that failed, counted over the message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ControlFinding {
    /// The record (`TJENESTE`) and the field (`tjTimerUke`).
    pub record: String,
    pub field: String,
    pub kind: Kind,
    pub consequence: Consequence,
    pub count: u64,
    /// The first: the person (`pePeID`) and the value, identity numbers hidden.
    pub example: String,
    /// What the register expects.
    pub expected: Expected,
}

impl ControlFinding {
    pub fn severity(&self) -> Option<Severity> {
        self.consequence.severity()
    }

    /// What to do about it.
    pub fn fix(&self, lang: Language) -> String {
        match self.kind {
            Kind::Mandatory => t!(lang, "control-fix-mandatory"),
            _ => t!(lang, "control-fix-value"),
        }
    }
}

/// A row of `data/iplos37_controls.csv`.
#[derive(Deserialize)]
struct Row {
    class: String,
    field: String,
    type_regex: String,
    type_action: String,
    mandatory: String,
    mandatory_when: String,
    mandatory_action: String,
    codes: String,
    code_action: String,
    range_from: String,
    range_to: String,
    range_action: String,
}

pub(super) struct Control {
    pub(super) class: String,
    pub(super) field: String,
    pub(super) pattern: Option<(Regex, Consequence)>,
    /// Required; for these service types only when not empty.
    pub(super) mandatory: Option<(Vec<String>, Consequence)>,
    pub(super) codes: Option<(Codes, Consequence)>,
    pub(super) range: Option<(String, String, Consequence)>,
}

pub(super) enum Codes {
    List(Vec<String>),
    /// The service types valid in the reporting year (9151, as `model::service_codes` knows).
    ServiceTypes,
}

/// The compiled checks.
pub struct Controls {
    pub(super) controls: Vec<Control>,
    /// The controls of each record class, by their place in `controls`.
    pub(super) by_class: foldhash::HashMap<String, Vec<usize>>,
}

static BUILT_IN: LazyLock<Controls> = LazyLock::new(|| {
    let rows = csv::Reader::from_reader(include_str!("data/iplos37_controls.csv").as_bytes())
        .into_deserialize::<Row>()
        .map(|row| row.expect("the generated controls are well-formed (tested)"));
    let controls: Vec<Control> = rows.map(Control::from).collect();
    let mut by_class: foldhash::HashMap<String, Vec<usize>> = Default::default();
    for (index, control) in controls.iter().enumerate() {
        by_class
            .entry(control.class.clone())
            .or_default()
            .push(index);
    }
    Controls { controls, by_class }
});

impl From<Row> for Control {
    fn from(row: Row) -> Control {
        let action = |id: &str| Consequence::from_id(id);
        let pattern = (!row.type_regex.is_empty()).then(|| {
            let regex =
                Regex::new(&row.type_regex).expect("the register's regexes compile (tested)");
            (regex, action(&row.type_action))
        });
        let mandatory = (row.mandatory == "1").then(|| {
            let when = row
                .mandatory_when
                .split_whitespace()
                .map(String::from)
                .collect();
            (when, action(&row.mandatory_action))
        });
        let codes = (!row.codes.is_empty()).then(|| {
            let codes = if row.codes == "@9151" {
                Codes::ServiceTypes
            } else {
                Codes::List(row.codes.split_whitespace().map(String::from).collect())
            };
            (codes, action(&row.code_action))
        });
        let range = (!row.range_from.is_empty() || !row.range_to.is_empty())
            .then(|| (row.range_from, row.range_to, action(&row.range_action)));
        Control {
            class: row.class,
            field: row.field,
            pattern,
            mandatory,
            codes,
            range,
        }
    }
}
impl Controls {
    pub fn built_in() -> &'static Controls {
        &BUILT_IN
    }
}

/// A range bound for `year`: `{YEAR}` the year, `{YEAR_END}` its last day; dates as
/// `YYYYMMDD`, numbers as they are; `None` when open.
pub(super) fn bound(text: &str, year: i32) -> Option<String> {
    if text.is_empty() {
        return None;
    }
    let text = text
        .replace("{YEAR_END}", &format!("{year}-12-31"))
        .replace("{YEAR}", &year.to_string());
    match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        Ok(day) => Some(day.format("%Y%m%d").to_string()),
        Err(_) => Some(text),
    }
}

/// Whether `value` lies within the bounds: as dates (`YYYYMMDD`, or a month `YYYYMM`
/// against the bound's month, compared as text) or as numbers.
pub(super) fn within(value: &str, from: Option<&str>, to: Option<&str>) -> bool {
    let compare = |bound: &str| -> Option<std::cmp::Ordering> {
        match (value.parse::<f64>(), bound.parse::<f64>()) {
            _ if bound.len() == 8 && value.len() == 8 => Some(value.cmp(bound)),
            _ if bound.len() == 8 && value.len() == 6 => Some(value.cmp(&bound[..6])),
            (Ok(v), Ok(b)) => v.partial_cmp(&b),
            _ => None,
        }
    };
    let above = from.is_none_or(|f| compare(f).is_none_or(|o| o.is_ge()));
    let below = to.is_none_or(|t| compare(t).is_none_or(|o| o.is_le()));
    above && below
}
#[cfg(test)]
mod tests {
    use super::*;

    /// A KPR_IPL for 2025 with one person, `person` its content after the PERSON tag.
    fn message(from: &str, person: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<IPLOS xmlns="http://www.npr.no/xmlstds/iplos/2025" versjon="3.7">
 <INNHINFO>
  <iiInnhType>P</iiInnhType><iiKomnr>4601</iiKomnr><iiBydelsnr>00</iiBydelsnr>
  <iiKontakt><Type>1</Type><Navn>A</Navn><Telefon/><Epost>a@x</Epost></iiKontakt>
  <iiKontakt><Type>2</Type><Navn>A</Navn><Telefon/><Epost>a@x</Epost></iiKontakt>
  <iiFraDato>{from}</iiFraDato><iiTilDato>20251231</iiTilDato><iiLagetDato>20260110</iiLagetDato>
  <iiSysID>kpr-bridge</iiSysID><iiSysVersjon>1</iiSysVersjon><iiLopenr>1</iiLopenr>
 </INNHINFO>
 <PERSON pePeID="7">{person}</PERSON>
</IPLOS>"#
        )
    }

    fn run(xml: &str) -> Vec<ControlFinding> {
        Controls::built_in().run(xml.as_bytes(), 2025)
    }

    fn found<'a>(findings: &'a [ControlFinding], field: &str) -> &'a ControlFinding {
        findings
            .iter()
            .find(|f| f.field == field)
            .unwrap_or_else(|| panic!("no finding on {field}: {findings:#?}"))
    }

    const SERVICE: &str = "<TJENESTE tjPeID=\"7\" tjTjID=\"1\"><tjTjenType>15</tjTjenType><tjVedtDato>20250101</tjVedtDato><tjVedtak>2</tjVedtak><tjTimerUke>7.50</tjTimerUke><tjFraDato>20250101</tjFraDato></TJENESTE>";

    #[test]
    fn a_clean_person_finds_only_what_the_records_cannot_know() {
        let findings = run(&message(
            "20250101",
            &format!("<peKjonn>K</peKjonn>{SERVICE}"),
        ));
        // The application date is required for home health care, with no stated consequence.
        assert!(
            findings.iter().all(|f| f.severity().is_none()),
            "{findings:#?}"
        );
        assert_eq!(found(&findings, "tjSoknadDato").kind, Kind::Mandatory);
    }

    #[test]
    fn a_type_check_with_its_consequence() {
        let findings = run(&message("20250101", "<peKomnr>46011</peKomnr>"));
        let komnr = found(&findings, "peKomnr");
        assert_eq!(
            (komnr.kind, komnr.consequence),
            (Kind::Type, Consequence::Nothing)
        );
        assert_eq!(komnr.example, "PERSON 7: '46011'");
        // The id itself is typed: a record with a bad key is discarded.
        let findings = run(&message("20250101", "").replace("pePeID=\"7\"", "pePeID=\"x7\""));
        let key = found(&findings, "pePeID");
        assert_eq!(
            (key.kind, key.consequence),
            (Kind::Type, Consequence::Record)
        );
        assert_eq!(key.severity(), Some(Severity::Warning));
    }

    #[test]
    fn a_mandatory_check_bound_to_service_types() {
        let without_decision = SERVICE.replace("<tjVedtak>2</tjVedtak>", "");
        let findings = run(&message("20250101", &without_decision));
        assert_eq!(found(&findings, "tjVedtak").kind, Kind::Mandatory);
        let decision = found(&findings, "tjVedtak");
        assert!(
            matches!(&decision.expected, Expected::ValueFor(codes) if codes.iter().any(|c| c == "15"))
        );
        assert!(
            decision
                .expected
                .text(Language::Nb)
                .starts_with("en verdi for tjenestetype ")
        );
        // Housing (29) needs no hours: none is required.
        let housing = SERVICE
            .replace("<tjTjenType>15</tjTjenType>", "<tjTjenType>29</tjTjenType>")
            .replace("<tjTimerUke>7.50</tjTimerUke>", "");
        let findings = run(&message("20250101", &housing));
        assert!(
            findings.iter().all(|f| f.field != "tjTimerUke"),
            "{findings:#?}"
        );
    }

    #[test]
    fn a_code_check_with_its_consequence() {
        let findings = run(&message("20250101", "<peKjonn>X</peKjonn>"));
        let gender = found(&findings, "peKjonn");
        assert_eq!(
            (gender.kind, gender.consequence),
            (Kind::Code, Consequence::Record)
        );
        assert_eq!(gender.expected.text(Language::En), "one of K, M");
        assert_eq!(gender.expected.text(Language::Nb), "en av K, M");
        assert_eq!(
            gender.consequence.words(Language::Nb),
            "registeret forkaster posten og alt som hører til den"
        );
        assert_eq!(gender.kind.words(Language::En), "code check");
        // A service type retired before the year (16, rehabilitation outside institution).
        let retired = SERVICE.replace("<tjTjenType>15</tjTjenType>", "<tjTjenType>16</tjTjenType>");
        let findings = run(&message("20250101", &retired));
        let service = found(&findings, "tjTjenType");
        assert_eq!(
            (service.kind, service.consequence),
            (Kind::Code, Consequence::Null)
        );
        // Welfare technology (6) is still a service to report in 2025.
        let alarm = SERVICE.replace("<tjTjenType>15</tjTjenType>", "<tjTjenType>6</tjTjenType>");
        assert!(
            run(&message("20250101", &alarm))
                .iter()
                .all(|f| f.field != "tjTjenType")
        );
    }

    #[test]
    fn a_range_check_follows_the_reporting_year() {
        let findings = run(&message("20250101", &SERVICE.replace("7.50", "200.00")));
        let hours = found(&findings, "tjTimerUke");
        assert_eq!(
            (hours.kind, hours.consequence),
            (Kind::Range, Consequence::Nothing)
        );
        // The period is bound to 2019 in the file; here it is the reporting year's.
        let findings = run(&message("20240101", ""));
        let period = found(&findings, "iiFraDato");
        assert_eq!(
            (period.kind, period.consequence),
            (Kind::Range, Consequence::Message)
        );
        assert_eq!(period.severity(), Some(Severity::Error));
        assert_eq!(
            period.expected.text(Language::En),
            "from 20250101 to 20250101"
        );
        assert_eq!(
            period.expected.text(Language::Nb),
            "fra 20250101 til 20250101"
        );
        // A month (YYYYMM) is compared with the bounds' months.
        let assessed =
            "<PERSONOPPL poPeID=\"7\" poPoID=\"1\"><poVurdLege>202512</poVurdLege></PERSONOPPL>";
        assert!(
            run(&message("20250101", assessed))
                .iter()
                .all(|f| f.field != "poVurdLege")
        );
        let later = assessed.replace("202512", "202601");
        assert_eq!(
            found(&run(&message("20250101", &later)), "poVurdLege").kind,
            Kind::Range
        );
        // A service starting after the year is discarded with its record.
        let findings = run(&message(
            "20250101",
            &SERVICE.replace("<tjFraDato>20250101", "<tjFraDato>20260101"),
        ));
        assert_eq!(
            found(&findings, "tjFraDato").consequence,
            Consequence::Record
        );
    }

    #[test]
    fn findings_are_counted_once_per_field_and_kind() {
        let two = format!(
            "{SERVICE}{}",
            SERVICE.replace("tjTjID=\"1\"", "tjTjID=\"2\"")
        )
        .replace("7.50", "999.99");
        let findings = run(&message("20250101", &two));
        assert_eq!(found(&findings, "tjTimerUke").count, 2);
    }
}
