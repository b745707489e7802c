//! A change event of the daily flow, after the KPR *minimelding* design: what happened to a
//! service or a person, with a status from code system 7316, a stable GUID, a link to the
//! previous event of the same service or person, the day it takes effect and the time it
//! was seen. No identity number: the person is a [`PersonKey`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::state::{AssessmentState, AttributeSpan, PersonKey, Residence};
use crate::model::{Decision, DiagnosisSystem, HoursPerWeek, Pause, ServiceCode};

/// Code system 7316: how a notification relates to what was reported before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// N: an original notification.
    #[serde(rename = "N")]
    Original,
    /// M: a correction that replaces what was reported (a changed date, type or hours).
    #[serde(rename = "M")]
    Replaces,
    /// T: a correction that supplements (a field that was empty is now filled).
    #[serde(rename = "T")]
    Supplements,
    /// C: an annulment (registered in error).
    #[serde(rename = "C")]
    Annuls,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Original => "N",
            Status::Replaces => "M",
            Status::Supplements => "T",
            Status::Annuls => "C",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A granted service: its start and what it is (code, hours, provider).
    Start,
    /// A refused application.
    Refused,
    PauseFrom,
    PauseUntil,
    End,
    ProviderChanged,
    /// Municipality, city district or household of the person.
    ResidenceChanged,
    AssessmentChanged,
    DiagnosisAdded,
    DiagnosisRemoved,
    AttributeStarted,
    AttributeEnded,
}

impl EventKind {
    pub const ALL: [EventKind; 12] = [
        EventKind::Start,
        EventKind::Refused,
        EventKind::PauseFrom,
        EventKind::PauseUntil,
        EventKind::End,
        EventKind::ProviderChanged,
        EventKind::ResidenceChanged,
        EventKind::AssessmentChanged,
        EventKind::DiagnosisAdded,
        EventKind::DiagnosisRemoved,
        EventKind::AttributeStarted,
        EventKind::AttributeEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Start => "start",
            EventKind::Refused => "refused",
            EventKind::PauseFrom => "pause_from",
            EventKind::PauseUntil => "pause_until",
            EventKind::End => "end",
            EventKind::ProviderChanged => "provider_changed",
            EventKind::ResidenceChanged => "residence_changed",
            EventKind::AssessmentChanged => "assessment_changed",
            EventKind::DiagnosisAdded => "diagnosis_added",
            EventKind::DiagnosisRemoved => "diagnosis_removed",
            EventKind::AttributeStarted => "attribute_started",
            EventKind::AttributeEnded => "attribute_ended",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: Uuid,
    /// The previous event of the same service (or person); `None` for the first.
    pub previous: Option<Uuid>,
    pub kind: EventKind,
    pub status: Status,
    /// The day the change takes effect.
    pub effective_on: NaiveDate,
    /// When kpr-bridge first saw the change: its registration time.
    pub registered_at: DateTime<Utc>,
    pub person: PersonKey,
    pub about: About,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum About {
    /// A service, by its stable reference (the same across days and across an EPJ change),
    /// with what is now known of it; pause events name the pause.
    Service {
        service: Uuid,
        facts: ServiceFacts,
        pause: Option<Pause>,
    },
    Person(PersonFact),
}

/// A service as it stands after the event (its pauses travel in pause events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceFacts {
    pub code: ServiceCode,
    pub decision: Decision,
    pub decided_on: Option<NaiveDate>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub hours: Option<HoursPerWeek>,
    pub orgnr: Option<String>,
}

/// What a person event says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonFact {
    Residence(Residence),
    /// `None` when an assessment was annulled and none is left.
    Assessment(Option<AssessmentState>),
    Diagnosis {
        system: DiagnosisSystem,
        code: String,
    },
    Attribute(AttributeSpan),
}
