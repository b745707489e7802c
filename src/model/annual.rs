//! One person of the annual message, as assembled from the year and clipped to it.
//!
//! The identity number is not here: it goes to the identity message beside the serial number
//! and nowhere else, so that nothing written from this type can carry it (invariant 4).

use chrono::NaiveDate;
use compact_str::CompactString;

use crate::model::{
    AttributeKind, Decision, DiagnosisSystem, Gender, HoursPerWeek, Household, ServiceCode,
};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnnualPerson {
    /// 1, 2, 3, … in the order persons are written; local to one shipment.
    pub serial: u32,
    pub birth_year: Option<u16>,
    pub gender: Option<Gender>,
    pub municipality: Option<CompactString>,
    pub district: Option<CompactString>,
    pub household: Option<Household>,
    /// The latest assessment dated in the year.
    pub assessment: Option<AssessmentState>,
    /// Clipped to the year, sorted.
    pub attributes: Vec<AttributeSpan>,
    /// Sorted, each once.
    pub diagnoses: Vec<(DiagnosisSystem, CompactString)>,
    /// Granted services and refusals, clipped to the year, sorted.
    pub services: Vec<AnnualService>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AnnualService {
    pub code: ServiceCode,
    pub decision: Decision,
    pub start: Option<NaiveDate>,
    /// The last day; open while the service runs past the year.
    pub end: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub hours: Option<HoursPerWeek>,
    pub orgnr: Option<CompactString>,
}

/// A person attribute's period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttributeSpan {
    pub kind: AttributeKind,
    pub from: Option<NaiveDate>,
    /// Last day; open while it lasts.
    pub to: Option<NaiveDate>,
}

/// The scores of one assessment, sorted by variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssessmentState {
    pub assessed_on: Option<NaiveDate>,
    pub scores: Vec<(CompactString, u8)>,
}
