//! The register as a party, and whom it asks: KPR's receiving units (production, validation)
//! with their HER-ids, the daily message's type, the municipality's contacts. Shared by the
//! configuration, the messages and the store, so it lives with the plain data below them.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::redact::shown_value;

/// Which of KPR's receiving units a message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Production,
    /// KPR's validation service: checks a message and answers, stores nothing.
    Validation,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Production => "production",
            Target::Validation => "validation",
        }
    }

    /// The HER-id of KPR's unit for this target.
    pub fn her_id(self) -> &'static str {
        match self {
            Target::Production => "122612",
            Target::Validation => "171479",
        }
    }

    pub fn unit_name(self) -> &'static str {
        match self {
            Target::Production => "Kommunalt pasient- og brukerregister",
            Target::Validation => "KPR Validering",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
#[error("{} is not a KPR target — write production or validation", shown_value(.0))]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Target, UnknownTarget> {
        match s {
            "production" => Ok(Target::Production),
            "validation" => Ok(Target::Validation),
            _ => Err(UnknownTarget(s.to_string())),
        }
    }
}

/// Whom the register asks about the municipality's data. Not a patient: a name here may be
/// written into messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The role, code system 8471: 16 IPLOS contact, 17 IPLOS submitter (1–19).
    pub kind: u8,
    pub name: String,
    pub phone: Option<String>,
    pub email: String,
}

/// Code system 8471: the IPLOS contact (kontaktperson), whom the register asks about the data.
pub const IPLOS_CONTACT: u8 = 16;
/// Code system 8471: the IPLOS submitter (innsendingsansvarlig), responsible for sending.
pub const IPLOS_SUBMITTER: u8 = 17;

/// MsgHead `MsgInfo/Type` of the daily message unless `[daily] msg_type` says otherwise. No
/// public name exists: confirm it with FHI before production (README).
pub const DEFAULT_MSG_TYPE: &str = "KPR_KTT";
