//! The year from every source, assembled into the persons of the annual message.
//!
//! Who is in it: every person with a granted service, a refusal or an attribute active on
//! some day of the year. What each carries: residence from the sources (a later source in the
//! configuration wins, field by field: sources are listed oldest EPJ first), the latest
//! assessment dated in the year, the diagnoses registered by the end of the year, attributes
//! and services clipped to the year. Each source speaks only for its own days (`from`, `to`):
//! a service the old EPJ still lists after the change is cut where the new EPJ takes over.
//!
//! Left out: test users, persons and services a check marks as an error (they would make the
//! message invalid or wrong; the operator sees them in the findings), persons without an
//! identity number (the register cannot take them), and malformed diagnoses (a warning).

use foldhash::{HashMap, HashMapExt, HashSet};

use chrono::NaiveDate;
use rand::Rng;
use rand::seq::SliceRandom;

use crate::checks::{CheckReport, SourceRecords};
use crate::mapping::{Resolution, reporting_day};
use crate::model::annual::{AnnualPerson, AnnualService};
use crate::model::annual::{AssessmentState, AttributeSpan};
use crate::model::{AttributeKind, Decision, Ident, diagnosis_codes, year_bounds};

/// The year's persons, ready to write, and what was left out.
#[derive(Debug, Default)]
pub struct Assembled {
    /// In serial order (1, 2, 3, …), each with the identity for the identity message only.
    pub persons: Vec<(Ident, AnnualPerson)>,
    pub left_out: LeftOut,
}

/// Counts of what the message does not carry, for the operator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeftOut {
    pub test_users: usize,
    /// Person records with an error in the person, its assessment or a diagnosis.
    pub persons_with_errors: usize,
    pub services_with_errors: usize,
    pub persons_without_ident: usize,
}

/// Assembles `year` from `sources`, with the findings of a check over the same sources.
/// Serial numbers follow a random order, so that they reveal nothing about the persons (an
/// order by identity number would tell birth dates apart).
pub fn assemble(
    sources: &[SourceRecords],
    year: i32,
    report: &CheckReport,
    rng: &mut impl Rng,
) -> Assembled {
    let (first, last) = year_bounds(year);
    let mut left_out = LeftOut::default();
    let mut people: Vec<(Ident, AnnualPerson)> = Vec::new();
    let mut by_ident: HashMap<&str, usize> = HashMap::new();
    for source in sources {
        let window = (
            source.from.map_or(first, |from| from.max(first)),
            source.to.map_or(last, |to| to.min(last)),
        );
        if window.0 > window.1 {
            continue;
        }
        let clip = |start, end| clip(start, end, window, last);
        let name = source.name;
        let errors: HashSet<(&str, &str)> = report
            .errors
            .iter()
            .filter(|(source, _, _)| source == name)
            .map(|(_, record, id)| (*record, id.as_str()))
            .collect();
        let error = |record: &str, id: &str| errors.contains(&(record, id));
        let records = source.records;
        // The EPJ's person id → the person's place in `people`.
        let mut here: HashMap<&str, usize> = HashMap::with_capacity(records.persons.len());
        for person in &records.persons {
            let id = person.person_id.as_str();
            if report
                .test_users
                .contains(&(name.to_string(), id.to_string()))
            {
                left_out.test_users += 1;
                continue;
            }
            if ["person", "assessment", "diagnosis"]
                .iter()
                .any(|record| error(record, id))
            {
                left_out.persons_with_errors += 1;
                continue;
            }
            let Some(ident) = &person.ident else {
                left_out.persons_without_ident += 1;
                continue;
            };
            let at = *by_ident.entry(ident.expose()).or_insert_with(|| {
                people.push((ident.clone(), AnnualPerson::default()));
                people.len() - 1
            });
            here.insert(id, at);
            let known = &mut people[at].1;
            overwrite(&mut known.birth_year, person.birth_year);
            overwrite(&mut known.gender, person.gender);
            overwrite(&mut known.municipality, person.municipality.clone());
            overwrite(&mut known.district, person.district.clone());
            overwrite(&mut known.household, person.household);
        }
        for service in &records.services {
            let Some(&at) = here.get(service.person_id.as_str()) else {
                continue;
            };
            if error("service", &service.service_id) {
                left_out.services_with_errors += 1;
                continue;
            }
            let person = &mut people[at].1;
            let code = match source
                .mapping
                .resolve(&service.local_type, reporting_day(service, year))
            {
                Resolution::Service(code) => code,
                Resolution::Attribute(kind) => {
                    attribute(person, kind, clip(service.start, service.end));
                    continue;
                }
                Resolution::Ignored(_) | Resolution::Unmapped => continue,
            };
            let (start, end) = match service.decision {
                Decision::Granted => match clip(service.start, service.end) {
                    Some(period) => period,
                    None => continue,
                },
                Decision::Refused => {
                    let day = service.decided_on.or(service.start);
                    if !day.is_some_and(|day| window.0 <= day && day <= window.1) {
                        continue;
                    }
                    (None, None)
                }
            };
            person.services.push(AnnualService {
                code,
                decision: service.decision,
                start,
                end,
                decided_on: service.decided_on,
                hours: service.hours_per_week,
                orgnr: service.provider_orgnr.clone(),
            });
        }
        // One person's rows come together: each person is looked up once.
        let mut previous: Option<(&str, Option<usize>)> = None;
        for assessment in &records.assessments {
            let id = assessment.person_id;
            let at = match previous {
                Some((person, at)) if person == id => at,
                _ => here.get(id).copied(),
            };
            previous = Some((id, at));
            let (Some(at), Some(day)) = (at, assessment.assessed_on) else {
                continue;
            };
            if day < window.0 || window.1 < day {
                continue;
            }
            let latest = people[at].1.assessment.get_or_insert(AssessmentState {
                assessed_on: Some(day),
                scores: Vec::new(),
            });
            if latest.assessed_on < Some(day) {
                latest.assessed_on = Some(day);
                latest.scores.clear();
            }
            if latest.assessed_on == Some(day) {
                latest
                    .scores
                    .push((assessment.variable.into(), assessment.score));
            }
        }
        for diagnosis in &records.diagnoses {
            let Some(&at) = here.get(diagnosis.person_id.as_str()) else {
                continue;
            };
            if diagnosis.registered_on.is_some_and(|day| day > last)
                || !diagnosis_codes::is_well_formed(diagnosis.system, &diagnosis.code)
            {
                continue;
            }
            let code = diagnosis.code.trim().into();
            people[at].1.diagnoses.push((diagnosis.system, code));
        }
        for record in &records.attributes {
            if let Some(&at) = here.get(record.person_id.as_str()) {
                attribute(&mut people[at].1, record.kind, clip(record.from, record.to));
            }
        }
    }
    people.retain(|(_, person)| !person.services.is_empty() || !person.attributes.is_empty());
    people.shuffle(rng);
    for (serial, (_, person)) in (1..).zip(&mut people) {
        person.serial = serial;
        person.services.sort();
        person.services.dedup();
        person.attributes.sort();
        person.attributes.dedup();
        person.diagnoses.sort();
        person.diagnoses.dedup();
        if let Some(assessment) = &mut person.assessment {
            assessment.scores.sort();
            assessment.scores.dedup_by(|a, b| a.0 == b.0);
        }
    }
    Assembled {
        persons: people,
        left_out,
    }
}

/// A later source's value replaces an earlier one; an absent value replaces nothing.
fn overwrite<T>(known: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *known = value;
    }
}

fn attribute(
    person: &mut AnnualPerson,
    kind: AttributeKind,
    period: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
) {
    if let Some((from, to)) = period {
        person.attributes.push(AttributeSpan { kind, from, to });
    }
}

/// A period cut to the days a source speaks for in the year (`window`); `None` when it has
/// no day there. A missing start counts as the window's first day. The end stays open when
/// the period runs past the year, and becomes the window's last day when the source stopped
/// speaking before the year ended (the next EPJ carries it on from there).
fn clip(
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    window: (NaiveDate, NaiveDate),
    year_last: NaiveDate,
) -> Option<(Option<NaiveDate>, Option<NaiveDate>)> {
    let (from, to) = window;
    if start.is_some_and(|start| start > to) || end.is_some_and(|end| end < from) {
        return None;
    }
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return None;
    }
    let start = start.map_or(from, |start| start.max(from));
    let end = match end {
        Some(end) if end <= to => Some(end),
        _ if to < year_last => Some(to),
        _ => None,
    };
    Some((Some(start), end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn periods_are_cut_to_the_year_and_the_source() {
        let year = (day("2025-01-01"), day("2025-12-31"));
        let last = year.1;
        let d = |t| Some(day(t));
        assert_eq!(
            clip(d("2024-10-01"), d("2025-02-28"), year, last),
            Some((d("2025-01-01"), d("2025-02-28")))
        );
        assert_eq!(
            clip(d("2025-03-01"), d("2026-03-01"), year, last),
            Some((d("2025-03-01"), None))
        );
        assert_eq!(clip(d("2024-01-01"), d("2024-12-31"), year, last), None);
        assert_eq!(clip(d("2026-01-01"), None, year, last), None);
        assert_eq!(clip(d("2025-05-01"), d("2025-04-01"), year, last), None);
        assert_eq!(clip(None, None, year, last), Some((d("2025-01-01"), None)));
        // The old EPJ spoke until 31 May: a service it still lists ends there.
        let old = (day("2025-01-01"), day("2025-05-31"));
        assert_eq!(
            clip(d("2024-06-01"), None, old, last),
            Some((d("2025-01-01"), d("2025-05-31")))
        );
        let new = (day("2025-06-01"), day("2025-12-31"));
        assert_eq!(
            clip(d("2024-06-01"), None, new, last),
            Some((d("2025-06-01"), None))
        );
    }
}
