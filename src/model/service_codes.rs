//! Tjenestetype, code system 9151 (OID 2.16.578.1.12.4.1.1.9151): the national service codes,
//! each with the period it is valid and whether the service needs the provider's orgnr.
//!
//! Validity: codes 12, 13 (housing, now 29) and 16 (rehab outside institution, now a person
//! attribute) were retired from 1 January 2019; 26, 27, 28 (welfare technology) and 29 (housing)
//! are valid from that date, the year the register's letters first ask for them. The start of
//! the other codes is set to 2007, the first IPLOS year; no register accepts data that old.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::year_bounds;

/// A code of system 9151: `15`, or a sub-code such as `08.01`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceCode {
    main: u8,
    /// 0 when the code has no sub-code.
    sub: u8,
}

impl ServiceCode {
    pub const fn new(main: u8, sub: u8) -> Self {
        ServiceCode { main, sub }
    }

    pub fn main(self) -> u8 {
        self.main
    }

    /// The entry in the national list, or `None` for a code that never existed.
    pub fn info(self) -> Option<&'static ServiceType> {
        SERVICE_TYPES.iter().find(|t| t.code == self)
    }
}

impl fmt::Display for ServiceCode {
    /// Main codes as the list writes them (`15`), sub-codes zero-padded (`08.01`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sub {
            0 => write!(f, "{}", self.main),
            sub => write!(f, "{:02}.{:02}", self.main, sub),
        }
    }
}

impl FromStr for ServiceCode {
    type Err = ();

    /// Accepts `8`, `08`, `8.1`, `08.01`. Says nothing about whether the code exists.
    fn from_str(s: &str) -> Result<Self, ()> {
        let s = s.trim();
        let number = |t: &str| -> Result<u8, ()> {
            if t.is_empty() || t.len() > 2 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            t.parse().map_err(|_| ())
        };
        match s.split_once('.') {
            Some((main, sub)) => Ok(ServiceCode::new(number(main)?, number(sub)?)),
            None => Ok(ServiceCode::new(number(s)?, 0)),
        }
    }
}

impl Serialize for ServiceCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ServiceCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|()| serde::de::Error::custom(format!("'{text}' is not a 9151 code")))
    }
}

/// Whether a service must, may or must not name the provider's organisation number
/// (Helsedirektoratet's IPLOS questions and answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgnrRule {
    Required,
    Optional,
    Forbidden,
}

#[derive(Debug)]
pub struct ServiceType {
    pub code: ServiceCode,
    pub name: &'static str,
    pub valid_from: NaiveDate,
    /// First day the code is no longer valid; `None` while it is in use.
    pub valid_until: Option<NaiveDate>,
    pub orgnr: OrgnrRule,
    /// Safety alarm, GPS, medication support, digital supervision: the register asks for them.
    pub welfare_technology: bool,
}

impl ServiceType {
    pub fn is_valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|until| day < until)
    }

    pub fn is_valid_in_year(&self, year: i32) -> bool {
        let (first, last) = year_bounds(year);
        self.valid_from <= last && self.valid_until.is_none_or(|until| first < until)
    }
}

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => panic!("invalid date in the code list"),
    }
}

const IPLOS_START: NaiveDate = date(2007, 1, 1);
const REFORM_2019: NaiveDate = date(2019, 1, 1);

const fn code(
    main: u8,
    sub: u8,
    name: &'static str,
    orgnr: OrgnrRule,
    welfare_technology: bool,
) -> ServiceType {
    ServiceType {
        code: ServiceCode::new(main, sub),
        name,
        valid_from: IPLOS_START,
        valid_until: None,
        orgnr,
        welfare_technology,
    }
}

const fn since_2019(mut service_type: ServiceType) -> ServiceType {
    service_type.valid_from = REFORM_2019;
    service_type
}

const fn retired_2019(mut service_type: ServiceType) -> ServiceType {
    service_type.valid_until = Some(REFORM_2019);
    service_type
}

use OrgnrRule::{Forbidden, Optional, Required};

/// The whole list, current and retired. Code 10 has never been in use.
pub static SERVICE_TYPES: [ServiceType; 31] = [
    code(1, 0, "Praktisk bistand – daglige gjøremål", Required, false),
    code(2, 0, "Praktisk bistand – opplæring", Required, false),
    code(
        3,
        0,
        "Brukerstyrt personlig assistanse (BPA)",
        Required,
        false,
    ),
    code(4, 0, "Dagaktivitetstilbud", Required, false),
    code(5, 0, "Matombringing", Optional, false),
    code(6, 0, "Trygghetsalarm", Optional, true),
    code(7, 0, "Avlastning utenfor institusjon", Optional, false),
    code(8, 0, "Avlastning i institusjon", Required, false),
    code(
        8,
        1,
        "Avlastning i institusjon – rullerende",
        Required,
        false,
    ),
    code(
        8,
        2,
        "Avlastning i institusjon – ikke rullerende",
        Required,
        false,
    ),
    code(9, 0, "Støttekontakt", Optional, false),
    code(11, 0, "Omsorgsstønad", Optional, false),
    retired_2019(code(
        12,
        0,
        "Omsorgsbolig (erstattet av 29)",
        Forbidden,
        false,
    )),
    retired_2019(code(
        13,
        0,
        "Annen bolig (erstattet av 29)",
        Forbidden,
        false,
    )),
    code(
        14,
        0,
        "Tvang psykisk utviklingshemming – planlagte tiltak",
        Optional,
        false,
    ),
    code(15, 0, "Helsetjenester i hjemmet", Required, false),
    retired_2019(code(
        16,
        0,
        "Rehabilitering utenfor institusjon (nå personopplysning)",
        Optional,
        false,
    )),
    code(17, 0, "Dagopphold i institusjon", Required, false),
    code(
        18,
        0,
        "Tidsbegrenset opphold – utredning/behandling",
        Required,
        false,
    ),
    code(
        19,
        0,
        "Tidsbegrenset opphold – habilitering/rehabilitering",
        Required,
        false,
    ),
    code(20, 0, "Tidsbegrenset opphold – annet", Required, false),
    code(21, 0, "Langtidsopphold i institusjon", Required, false),
    code(22, 0, "Nattopphold i institusjon", Required, false),
    code(
        23,
        0,
        "Tvang psykisk utviklingshemming – nødsituasjoner",
        Optional,
        false,
    ),
    code(24, 0, "Helsehjelp med tvang", Optional, false),
    code(
        25,
        0,
        "Kommunal øyeblikkelig hjelp – døgnopphold",
        Required,
        false,
    ),
    since_2019(code(26, 0, "Lokaliseringsteknologi (GPS)", Forbidden, true)),
    since_2019(code(
        27,
        0,
        "Elektronisk medisineringsstøtte",
        Optional,
        true,
    )),
    since_2019(code(28, 0, "Digitalt tilsyn", Optional, true)),
    since_2019(code(
        29,
        0,
        "Bolig som kommunen disponerer for helse- og omsorgsformål",
        Forbidden,
        false,
    )),
    // Kept so that a mapping to 10 is told "never in use" rather than "unknown".
    ServiceType {
        code: ServiceCode::new(10, 0),
        name: "Ikke i bruk",
        valid_from: IPLOS_START,
        valid_until: Some(IPLOS_START),
        orgnr: Optional,
        welfare_technology: false,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> &'static ServiceType {
        text.parse::<ServiceCode>().unwrap().info().unwrap()
    }

    #[test]
    fn parses_and_displays() {
        assert_eq!("8".parse(), Ok(ServiceCode::new(8, 0)));
        assert_eq!("08".parse(), Ok(ServiceCode::new(8, 0)));
        assert_eq!("08.01".parse(), Ok(ServiceCode::new(8, 1)));
        assert_eq!("8.2".parse(), Ok(ServiceCode::new(8, 2)));
        assert_eq!(ServiceCode::new(8, 1).to_string(), "08.01");
        assert_eq!(ServiceCode::new(15, 0).to_string(), "15");
        for bad in ["", "x", "123", "8.", ".1", "1.2.3", "-1"] {
            assert!(bad.parse::<ServiceCode>().is_err(), "{bad}");
        }
    }

    #[test]
    fn retired_codes_are_valid_only_before_2019() {
        for retired in ["12", "13", "16"] {
            assert!(code(retired).is_valid_in_year(2018), "{retired}");
            assert!(!code(retired).is_valid_in_year(2019), "{retired}");
        }
        assert!(!code("10").is_valid_in_year(2025));
        assert!(code("29").is_valid_in_year(2025));
        assert!(!code("29").is_valid_in_year(2018));
    }

    #[test]
    fn the_current_list_has_27_entries() {
        // 1–9 with 08.01 and 08.02 (11 entries), 11, 14, 15, and 17–29 (13).
        let current = SERVICE_TYPES
            .iter()
            .filter(|t| t.is_valid_in_year(2025))
            .count();
        assert_eq!(current, 27);
        assert!("30".parse::<ServiceCode>().unwrap().info().is_none());
    }

    #[test]
    fn orgnr_rules_follow_the_register() {
        assert_eq!(code("21").orgnr, OrgnrRule::Required);
        assert_eq!(code("6").orgnr, OrgnrRule::Optional);
        assert_eq!(code("26").orgnr, OrgnrRule::Forbidden);
        assert_eq!(code("29").orgnr, OrgnrRule::Forbidden);
        let welfare: Vec<String> = SERVICE_TYPES
            .iter()
            .filter(|t| t.welfare_technology)
            .map(|t| t.code.to_string())
            .collect();
        assert_eq!(welfare, ["6", "26", "27", "28"]);
    }
}
