//! The KITH envelope around every message to KPR: MsgHead 1.2 ("Hodemelding").
//!
//! Addressing is service-based ("tjenestebasert adressering"): each party is an organisation
//! with its HER-id (and organisation number), and the service unit that handles the message is
//! a nested organisation with a HER-id of its own. The payload travels as XML in
//! `Document/RefDoc/Content`, a strict wildcard: the envelope validates only together with the
//! payload's schema ([`Schemas::validate_message`](super::schema::Schemas::validate_message)).
//!
//! [`wrap`] takes the payload in memory; [`wrap_file`] copies it from a file into the same
//! document, for payloads too large to hold (the annual message).

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use chrono_tz::Europe::Oslo;
use thiserror::Error;

mod payload;
mod read;
mod write;

pub use read::read;
pub use write::{wrap, wrap_file};

use crate::model::register::Target;

pub const NAMESPACE: &str = "http://www.kith.no/xmlstds/msghead/2006-05-24";
pub const MIG_VERSION: &str = "v1.2 2006-05-24";

/// Code system of identifier types for organisations (HER, ENH).
const ID_TYPE_SYSTEM: &str = "2.16.578.1.12.4.1.1.9051";
const HER: (&str, &str) = (
    "HER",
    "Identifikator fra Helsetjenesteenhetsregisteret (HER-id)",
);
const ENH: (&str, &str) = ("ENH", "Organisasjonsnummeret i Enhetsregisteret");

/// One end of a message: an organisation and, for service-based addressing, its unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub her_id: String,
    /// Organisation number (Enhetsregisteret).
    pub orgnr: Option<String>,
    pub unit: Option<Unit>,
}

/// FHI's HER-id (level 1): KPR's organisation in NHN's Adresseregister.
pub const FHI_HER_ID: &str = "85217";

/// The service unit (level 2) that handles the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub name: String,
    pub her_id: String,
}

impl Party {
    /// FHI (HER 85217, orgnr 983744516, "Folkehelseinstituttet") with the KPR unit: 122612
    /// "Kommunalt pasient- og brukerregister" for production, 171479 "KPR Validering" for
    /// validation.
    pub fn kpr(target: Target) -> Party {
        Party {
            name: "Folkehelseinstituttet".into(),
            her_id: FHI_HER_ID.into(),
            orgnr: Some("983744516".into()),
            unit: Some(Unit {
                name: target.unit_name().into(),
                her_id: target.her_id().into(),
            }),
        }
    }
}

/// What MsgInfo says about a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// `Type V`, such as `KPR_IPL`.
    pub msg_type: String,
    /// `Type DN`: the type in words.
    pub msg_type_text: String,
    /// A UUID, unique per message: receipts refer to it.
    pub msg_id: String,
    /// Written as local time in Europe/Oslo with its offset, to the second.
    pub generated: DateTime<Utc>,
    pub sender: Party,
    pub receiver: Party,
}

impl Envelope {
    /// A new message: a fresh UUID, generated now (to the second, as it is written).
    pub fn new(
        msg_type: impl Into<String>,
        msg_type_text: impl Into<String>,
        sender: Party,
        receiver: Party,
    ) -> Envelope {
        Envelope {
            msg_type: msg_type.into(),
            msg_type_text: msg_type_text.into(),
            msg_id: uuid::Uuid::new_v4().to_string(),
            generated: Utc::now().trunc_subsecs(0),
            sender,
            receiver,
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MsgHeadError {
    /// The payload cannot go into an envelope.
    #[error("the payload {0}")]
    Payload(String),
    #[error(
        "the envelope's {field} holds the character U+{code:04X}, which XML cannot carry — \
         remove it"
    )]
    Character { field: String, code: u32 },
    /// Refused unread: not UTF-8, or a DOCTYPE.
    #[error("{0}")]
    Refused(String),
    #[error("is not well-formed XML at line {line}: {reason}")]
    NotXml { line: u32, reason: String },
    #[error("is not a MsgHead 1.2 message: its root is {0} — expected MsgHead in {NAMESPACE}")]
    NotMsgHead(String),
    #[error("lacks {0}")]
    Missing(String),
    #[error(
        "has GenDate {value} at line {line}, which is not a date and time such as \
         2025-03-01T10:00:00+01:00"
    )]
    GenDate { value: String, line: u32 },
    #[error("has {0} Document elements; a message to KPR carries exactly one")]
    Documents(usize),
    #[error(
        "carries PatientReport; a message to KPR carries its payload in Document/RefDoc/Content"
    )]
    PatientReport,
    #[error(
        "has {what} in Document/RefDoc/Content at line {line}; Content holds the payload's one \
         element and nothing else"
    )]
    Content { what: &'static str, line: u32 },
    /// A payload file that [`wrap_file`] cannot read or cannot copy unchanged.
    #[error("the payload file {} {reason}", file.display())]
    PayloadFile { file: PathBuf, reason: String },
    #[error("cannot write the message: {0}")]
    Output(String),
}

/// GenDate: local time in Europe/Oslo with its offset, to the second.
pub fn gen_date(generated: DateTime<Utc>) -> String {
    generated
        .with_timezone(&Oslo)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

#[cfg(test)]
mod tests {
    use super::read::parse_gen_date;
    use super::write::is_xml_char;
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn targets_by_name_and_their_units() {
        for target in [Target::Production, Target::Validation] {
            assert_eq!(target.as_str().parse::<Target>(), Ok(target));
            assert_eq!(target.to_string(), target.as_str());
        }
        let wrong = "prod".parse::<Target>().unwrap_err();
        assert_eq!(
            wrong.to_string(),
            "'prod' is not a KPR target — write production or validation"
        );
        assert_eq!(Target::Production.her_id(), "122612");
        assert_eq!(Target::Validation.her_id(), "171479");
    }

    #[test]
    fn kpr_is_fhi_with_the_unit_of_the_target() {
        let production = Party::kpr(Target::Production);
        assert_eq!(production.name, "Folkehelseinstituttet");
        assert_eq!(production.her_id, "85217");
        assert_eq!(production.orgnr.as_deref(), Some("983744516"));
        assert_eq!(
            production.unit,
            Some(Unit {
                name: "Kommunalt pasient- og brukerregister".into(),
                her_id: "122612".into()
            })
        );
        let validation = Party::kpr(Target::Validation).unit.unwrap();
        assert_eq!(
            (validation.name.as_str(), validation.her_id.as_str()),
            ("KPR Validering", "171479")
        );
    }

    #[test]
    fn gen_date_is_oslo_time_with_its_offset() {
        let utc = |y, m, d, h| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, 30, 5)
                .unwrap()
                .and_utc()
        };
        assert_eq!(gen_date(utc(2025, 1, 15, 9)), "2025-01-15T10:30:05+01:00");
        assert_eq!(gen_date(utc(2025, 7, 1, 22)), "2025-07-02T00:30:05+02:00");
        let with_nanos = utc(2025, 1, 15, 9) + chrono::Duration::nanoseconds(123);
        assert_eq!(gen_date(with_nanos), "2025-01-15T10:30:05+01:00");
    }

    #[test]
    fn gen_date_is_read_with_or_without_offset() {
        let expected = NaiveDate::from_ymd_opt(2025, 1, 15)
            .unwrap()
            .and_hms_opt(9, 30, 5)
            .unwrap()
            .and_utc();
        for value in [
            "2025-01-15T10:30:05+01:00",
            "2025-01-15T09:30:05Z",
            "2025-01-15T10:30:05",
        ] {
            assert_eq!(parse_gen_date(value), Some(expected), "{value}");
        }
        assert_eq!(parse_gen_date("15.01.2025"), None);
    }

    #[test]
    fn control_characters_are_not_written() {
        assert!(is_xml_char('å') && is_xml_char('\n') && is_xml_char('\u{10FFFF}'));
        assert!(!is_xml_char('\u{1}') && !is_xml_char('\u{FFFE}'));
    }
}
