//! One reporting year read from every source, checked, and assembled: what `kpr-bridge annual`
//! shows before it asks, and what it writes.

use std::collections::BTreeMap;

use crate::assembly::assemble::{Assembled, assemble};
use crate::check_run::{self, ReadSource, SourceRun, read_source};
use crate::checks::CheckReport;
use crate::config::Config;
use crate::model::assessment::AssessmentVariables;
use crate::model::{AttributeKind, Decision, ServiceCode};

pub struct Year {
    pub year: i32,
    pub sources: Vec<SourceRun>,
    pub report: CheckReport,
    pub assembled: Assembled,
    /// Product and version of each source, for the message header.
    pub epj: Vec<(String, String)>,
    /// The assessment variables, with their 9111 codes.
    pub variables: AssessmentVariables,
}

impl Year {
    /// Reads every configured source, checks the year and assembles it. A source that cannot
    /// be read is kept as such in `sources`; the others are still assembled.
    pub fn read(config: &Config, year: i32) -> Year {
        let read: Vec<ReadSource> = config
            .sources
            .iter()
            .map(|s| read_source(&config.municipality, s))
            .collect();
        let variables = check_run::variables(&read);
        let report = check_run::check_read(config, year, &read);
        let mut rng = rand::rng();
        let assembled = assemble(&check_run::records(config, &read), year, &report, &mut rng);
        let epj = config
            .sources
            .iter()
            .map(|s| {
                (
                    s.product.clone().unwrap_or_else(|| s.name.clone()),
                    s.version.clone().unwrap_or_default(),
                )
            })
            .collect();
        Year {
            year,
            sources: read.into_iter().map(|(run, _)| run).collect(),
            report,
            assembled,
            epj,
            variables,
        }
    }

    /// Whether a source, or rows of one, could not be read: the message would miss data.
    pub fn incomplete(&self) -> bool {
        self.sources
            .iter()
            .any(|s| s.is_unusable() || s.problems() > 0)
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary {
            persons: self.assembled.persons.len() as u64,
            ..Summary::default()
        };
        for (_, person) in &self.assembled.persons {
            for service in &person.services {
                let counts = summary.services.entry(service.code).or_default();
                match service.decision {
                    Decision::Granted => counts.0 += 1,
                    Decision::Refused => counts.1 += 1,
                }
            }
            for attribute in &person.attributes {
                *summary.attributes.entry(attribute.kind).or_default() += 1;
            }
        }
        summary
    }
}

/// What the message will carry, counted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub persons: u64,
    /// Per national code: granted services and refusals.
    pub services: BTreeMap<ServiceCode, (u64, u64)>,
    pub attributes: BTreeMap<AttributeKind, u64>,
}
