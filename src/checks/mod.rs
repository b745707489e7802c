//! The register's rules as findings: each a named rule with a stable id (see [`rules`]),
//! a severity, a count, and up to [`MAX_EXAMPLES`] examples located by source and local id —
//! never by identity number or name.
//!
//! Checks run over the canonical records of every configured source at once, because some
//! rules span sources: a municipality that changed EPJ mid-year reports each person once
//! (joined by identity number) and must not report one service from both systems.

pub mod rules;
pub mod test_users;

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::mapping::{Mapping, Resolution};
use crate::model::assessment::{AssessmentVariables, is_valid_score};
use crate::model::municipalities::municipalities;
use crate::model::{
    AttributeKind, Decision, OrgnrRule, Person, ServiceCode, diagnosis_codes, ident, orgnr,
    year_bounds,
};
use crate::source::Snapshot;
pub use rules::{RULES, Severity};
pub use test_users::TestUsers;

pub const MAX_EXAMPLES: usize = 20;

/// The records of one source, and the mapping for its local types.
pub struct SourceRecords<'a> {
    /// The source's name in the configuration, shown in examples.
    pub name: &'a str,
    pub records: &'a Snapshot,
    pub mapping: &'a Mapping,
    /// The days this source is the municipality's EPJ: its services count only inside them,
    /// so that an open service in the old system and its continuation in the new one are
    /// not one service reported twice.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

pub struct CheckOptions<'a> {
    pub year: i32,
    /// In production, synthetic identity numbers mark test users too.
    pub production: bool,
    pub test_users: &'a TestUsers,
    pub variables: &'a AssessmentVariables,
}

/// Where an example is: which source, which kind of record, which local id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Example {
    pub source: String,
    /// `person`, `service`, `assessment`, `diagnosis`.
    pub record: &'static str,
    /// The EPJ's own id: `person_id` or `service_id`.
    pub local_id: String,
    /// What is wrong with this one, without identity: a local type, a date, a code.
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub count: u64,
    pub examples: Vec<Example>,
}

impl Finding {
    /// The catalogue entry: explanation and fix.
    pub fn info(&self) -> &'static rules::Rule {
        rules::find(self.rule).expect("findings are made from catalogue ids")
    }
}

#[derive(Debug, Default)]
pub struct CheckReport {
    /// Non-empty findings, in catalogue order.
    pub findings: Vec<Finding>,
    /// Persons after joining sources by identity number, test users excluded.
    pub persons: u64,
    /// Services of those persons, from all sources.
    pub services: u64,
    /// `(source, person_id)` of the test users, to leave out downstream.
    pub test_users: HashSet<(String, String)>,
    /// `(source, record, local_id)` of every record with a finding of severity error: the
    /// daily flow holds their changes back until they are fixed.
    pub errors: HashSet<(String, &'static str, String)>,
    /// Granted services and their persons per national code and month of the year.
    pub months: Vec<CodeMonths>,
    /// Each local type of each source: how many services, and what it maps to.
    pub coverage: Vec<TypeCoverage>,
}

/// One national code's services and persons in each month (January first).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeMonths {
    #[serde(serialize_with = "as_text")]
    pub code: ServiceCode,
    pub name: &'static str,
    pub services: [u64; 12],
    pub persons: [u64; 12],
}

/// How one local type of one source is mapped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TypeCoverage {
    pub source: String,
    pub local_type: String,
    pub services: u64,
    /// What it maps to (the report names it in words).
    pub target: MapsTo,
    /// False for unmapped and retired: these services are not reported.
    pub mapped: bool,
}

/// What a local type maps to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MapsTo {
    /// A national code of 9151.
    Service(ServiceCode),
    /// A person attribute.
    Attribute(AttributeKind),
    /// Left out on purpose, with the mapping's reason.
    Ignored(String),
    /// Only a code retired in the year: not reported.
    Retired(ServiceCode),
    /// Nothing: not reported.
    Unmapped,
}

fn as_text<S: serde::Serializer>(code: &ServiceCode, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(code)
}

impl CheckReport {
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// How many rules found errors, and how many found warnings.
    pub fn rules_by_severity(&self) -> (u64, u64) {
        let errors = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count() as u64;
        (errors, self.findings.len() as u64 - errors)
    }

    pub fn count(&self, rule: &str) -> u64 {
        self.findings
            .iter()
            .find(|f| f.rule == rule)
            .map_or(0, |f| f.count)
    }
}

/// Counts per rule, keeping the first examples, and every record found in error.
#[derive(Default)]
struct Findings {
    rules: BTreeMap<&'static str, (u64, Vec<Example>)>,
    errors: HashSet<(String, &'static str, String)>,
}

impl Findings {
    fn add(
        &mut self,
        rule: &'static str,
        source: &str,
        record: &'static str,
        local_id: &str,
        detail: impl Into<String>,
    ) {
        let severity = rules::find(rule).map(|r| r.severity);
        debug_assert!(severity.is_some(), "unknown rule {rule}");
        if severity == Some(Severity::Error) {
            self.errors
                .insert((source.to_string(), record, local_id.to_string()));
        }
        let (count, examples) = self.rules.entry(rule).or_default();
        *count += 1;
        if examples.len() < MAX_EXAMPLES {
            examples.push(Example {
                source: source.to_string(),
                record,
                local_id: local_id.to_string(),
                detail: detail.into(),
            });
        }
    }
}

/// A service's national code and the days it covers, for the duplicate sweep.
struct Covered<'a> {
    person: PersonKey<'a>,
    code: ServiceCode,
    start: NaiveDate,
    end: NaiveDate,
    source: &'a str,
    service_id: &'a str,
}

/// Who a person is across sources: the identity number where valid, else the local id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum PersonKey<'a> {
    Ident(&'a str),
    Local(&'a str, &'a str),
}

/// Runs every rule over every source for `options.year`.
pub fn check(sources: &[SourceRecords], options: &CheckOptions) -> CheckReport {
    let (first_day, last_day) = year_bounds(options.year);
    let mut findings = Findings::default();
    let mut report = CheckReport::default();
    let mut persons: foldhash::HashSet<PersonKey> = Default::default();
    let mut covered: Vec<Covered> = Vec::new();
    let mut welfare_technology = false;
    let mut coverage: BTreeMap<(&str, &str), TypeCoverage> = BTreeMap::new();

    for source in sources {
        let name = source.name;
        let records = source.records;
        let with_service: foldhash::HashSet<&str> = records
            .services
            .iter()
            .filter(|s| s.decision == Decision::Granted)
            .map(|s| s.person_id.as_str())
            .collect();
        let mut keys: foldhash::HashMap<&str, PersonKey> = Default::default();

        for person in &records.persons {
            let ident_info = person.ident.as_ref().map(|i| ident::validate(i.expose()));
            if is_test_user(
                person,
                ident_info.as_ref().and_then(|r| r.as_ref().ok()),
                options,
            ) {
                findings.add("test-user", name, "person", &person.person_id, "left out");
                report
                    .test_users
                    .insert((name.to_string(), person.person_id.to_string()));
                continue;
            }
            let key = match (&person.ident, &ident_info) {
                (Some(number), Some(Ok(_))) => PersonKey::Ident(number.expose()),
                _ => PersonKey::Local(name, &person.person_id),
            };
            keys.insert(&person.person_id, key);
            persons.insert(key);
            match ident_info {
                None => findings.add(
                    "ident-invalid",
                    name,
                    "person",
                    &person.person_id,
                    "no identity number",
                ),
                Some(Err(error)) => findings.add(
                    "ident-invalid",
                    name,
                    "person",
                    &person.person_id,
                    error.to_string(),
                ),
                Some(Ok(_)) => {}
            }
            match &person.municipality {
                Some(number) if !municipalities().is_valid_in_year(number, options.year) => {
                    findings.add(
                        "municipality-invalid",
                        name,
                        "person",
                        &person.person_id,
                        municipalities().explain_invalid(number, options.year),
                    )
                }
                None if with_service.contains(person.person_id.as_str()) => findings.add(
                    "residence-missing",
                    name,
                    "person",
                    &person.person_id,
                    "no municipality of residence",
                ),
                _ => {}
            }
        }

        for service in &records.services {
            let Some(&person) = keys.get(service.person_id.as_str()) else {
                continue;
            };
            report.services += 1;
            let id = service.service_id.as_str();
            let day = crate::mapping::reporting_day(service, options.year);
            let resolution = source.mapping.resolve(&service.local_type, day);
            let retired = match resolution {
                Resolution::Unmapped => {
                    retired_mapping(source.mapping, &service.local_type, options.year)
                }
                _ => None,
            };
            coverage
                .entry((name, service.local_type.as_str()))
                .or_insert_with(|| type_coverage(name, &service.local_type, resolution, retired))
                .services += 1;
            let code = match resolution {
                Resolution::Service(code) => code,
                Resolution::Attribute(_) | Resolution::Ignored(_) => continue,
                Resolution::Unmapped => {
                    let rule = match retired {
                        Some(old) => (
                            "code-retired",
                            format!("{} was mapped to {old}", service.local_type),
                        ),
                        None => ("local-type-unmapped", service.local_type.to_string()),
                    };
                    findings.add(rule.0, name, "service", id, rule.1);
                    continue;
                }
            };
            let info = code.info();
            let granted = service.decision == Decision::Granted;
            match (&service.provider_orgnr, info.map(|i| i.orgnr)) {
                (Some(number), Some(OrgnrRule::Forbidden)) => findings.add(
                    "orgnr-forbidden",
                    name,
                    "service",
                    id,
                    format!("code {code} with orgnr {number}"),
                ),
                (Some(number), _) => {
                    if let Err(error) = orgnr::validate(number) {
                        findings.add("orgnr-invalid", name, "service", id, error.to_string());
                    }
                }
                (None, Some(OrgnrRule::Required)) if granted => {
                    findings.add("orgnr-missing", name, "service", id, format!("code {code}"))
                }
                _ => {}
            }
            if let Some(hours) = service.hours_per_week
                && !(0..=168 * 100).contains(&hours.hundredths())
            {
                findings.add(
                    "hours-invalid",
                    name,
                    "service",
                    id,
                    format!("{hours} hours per week"),
                );
            }
            if let Some(problem) = date_problem(service) {
                findings.add("dates-invalid", name, "service", id, problem);
            }
            let (start, end) = match service.decision {
                Decision::Granted => (
                    service.start.unwrap_or(NaiveDate::MIN),
                    service.end.unwrap_or(NaiveDate::MAX),
                ),
                Decision::Refused => {
                    let decided = service.decided_on.unwrap_or(first_day);
                    (decided, decided)
                }
            };
            if end < first_day || start > last_day {
                findings.add(
                    "period-outside",
                    name,
                    "service",
                    id,
                    format!(
                        "{} to {}",
                        show(service.start.or(service.decided_on)),
                        show(service.end)
                    ),
                );
                continue;
            }
            // The days this source speaks for.
            let start = source.from.map_or(start, |from| start.max(from));
            let end = source.to.map_or(end, |to| end.min(to));
            if granted && start <= end {
                welfare_technology |= info.is_some_and(|i| i.welfare_technology);
                covered.push(Covered {
                    person,
                    code,
                    start,
                    end,
                    source: name,
                    service_id: id,
                });
            }
        }

        // One person's rows come together and a few variables recur: each is looked up once.
        let mut last_person: Option<(&str, bool)> = None;
        let mut variable_known: foldhash::HashMap<&str, bool> = Default::default();
        for assessment in &records.assessments {
            let id = assessment.person_id;
            let known = match last_person {
                Some((last, known)) if last == id => known,
                _ => keys.contains_key(id),
            };
            last_person = Some((id, known));
            if !known {
                continue;
            }
            if !is_valid_score(assessment.score) {
                findings.add(
                    "score-invalid",
                    name,
                    "assessment",
                    assessment.person_id,
                    format!("{} scored {}", assessment.variable, assessment.score),
                );
            }
            let variable = assessment.variable;
            let is_known = *variable_known
                .entry(variable)
                .or_insert_with(|| options.variables.find(variable).is_some());
            if !is_known {
                findings.add(
                    "variable-unknown",
                    name,
                    "assessment",
                    assessment.person_id,
                    assessment.variable,
                );
            }
        }
        for diagnosis in &records.diagnoses {
            if keys.contains_key(diagnosis.person_id.as_str())
                && !diagnosis_codes::is_well_formed(diagnosis.system, &diagnosis.code)
            {
                findings.add(
                    "diagnosis-malformed",
                    name,
                    "diagnosis",
                    &diagnosis.person_id,
                    diagnosis.code.clone(),
                );
            }
        }
    }

    find_duplicates(&mut covered, &mut findings);
    report.months = code_months(&covered, first_day, last_day);
    report.coverage = coverage.into_values().collect();
    if !welfare_technology && report.services > 0 {
        findings.add(
            "welfare-tech-missing",
            "all sources",
            "service",
            "",
            format!("no 6, 26, 27 or 28 in {}", options.year),
        );
    }
    report.persons = persons.len() as u64;
    report.errors = std::mem::take(&mut findings.errors);
    report.findings = RULES
        .iter()
        .filter_map(|rule| {
            findings
                .rules
                .remove(rule.id)
                .map(|(count, examples)| Finding {
                    rule: rule.id,
                    severity: rule.severity,
                    count,
                    examples,
                })
        })
        .collect();
    report
}

fn type_coverage(
    source: &str,
    local_type: &str,
    resolution: Resolution,
    retired: Option<ServiceCode>,
) -> TypeCoverage {
    let (target, mapped) = match (resolution, retired) {
        (Resolution::Service(code), _) => (MapsTo::Service(code), true),
        (Resolution::Attribute(kind), _) => (MapsTo::Attribute(kind), true),
        (Resolution::Ignored(reason), _) => (MapsTo::Ignored(reason.to_string()), true),
        (Resolution::Unmapped, Some(old)) => (MapsTo::Retired(old), false),
        (Resolution::Unmapped, None) => (MapsTo::Unmapped, false),
    };
    TypeCoverage {
        source: source.to_string(),
        local_type: local_type.to_string(),
        services: 0,
        target,
        mapped,
    }
}

/// Counts services and distinct persons per code and month. `covered` is sorted by person
/// and code, so one person's services of one code are neighbours.
fn code_months(covered: &[Covered], first_day: NaiveDate, last_day: NaiveDate) -> Vec<CodeMonths> {
    let month_of = |day: NaiveDate| day.month0() as usize;
    let mut by_code: BTreeMap<ServiceCode, CodeMonths> = BTreeMap::new();
    for group in covered.chunk_by(|a, b| (a.person, a.code) == (b.person, b.code)) {
        let code = group[0].code;
        let counts = by_code.entry(code).or_insert_with(|| CodeMonths {
            code,
            name: code.info().map_or("", |i| i.name),
            services: [0; 12],
            persons: [0; 12],
        });
        let mut person_months = [false; 12];
        for service in group {
            let (start, end) = (service.start.max(first_day), service.end.min(last_day));
            if start > end {
                continue;
            }
            let months = month_of(start)..=month_of(end);
            for count in &mut counts.services[months.clone()] {
                *count += 1;
            }
            person_months[months].fill(true);
        }
        for (month, present) in person_months.into_iter().enumerate() {
            counts.persons[month] += u64::from(present);
        }
    }
    by_code.into_values().collect()
}

fn is_test_user(person: &Person, ident: Option<&ident::IdentInfo>, options: &CheckOptions) -> bool {
    person
        .name
        .as_ref()
        .is_some_and(|n| options.test_users.matches(n.expose()))
        || (options.production && ident.is_some_and(|i| i.synthetic))
}

/// The retired code a local type was mapped to before, if the year has no rule for it.
fn retired_mapping(mapping: &Mapping, local_type: &str, year: i32) -> Option<ServiceCode> {
    mapping.rules().find_map(|rule| match rule.target {
        crate::mapping::Target::Service(code)
            if rule.local_type.eq_ignore_ascii_case(local_type.trim())
                && code.info().is_some_and(|i| !i.is_valid_in_year(year)) =>
        {
            Some(code)
        }
        _ => None,
    })
}

fn date_problem(service: &crate::model::Service) -> Option<String> {
    if let (Some(start), Some(end)) = (service.start, service.end)
        && end < start
    {
        return Some(format!("ends {end}, before it starts {start}"));
    }
    for pause in &service.pauses {
        let outside = service.start.is_some_and(|s| pause.from < s)
            || service.end.is_some_and(|e| pause.from > e);
        if outside {
            return Some(format!(
                "pause from {} lies outside the service",
                pause.from
            ));
        }
        if pause.to.is_some_and(|to| to < pause.from) {
            return Some(format!("pause ends before it starts ({})", pause.from));
        }
    }
    None
}

/// Same person, same code, overlapping days: each later service of such a pair is a finding.
fn find_duplicates(covered: &mut [Covered], findings: &mut Findings) {
    covered.sort_by(|a, b| (a.person, a.code, a.start).cmp(&(b.person, b.code, b.start)));
    let mut reach: Option<(PersonKey, ServiceCode, NaiveDate, &str, &str)> = None;
    for service in covered.iter() {
        match reach {
            Some((person, code, end, source, id))
                if person == service.person && code == service.code && service.start <= end =>
            {
                let detail = format!(
                    "code {} from {}, overlaps {source}/{id}",
                    service.code, service.start
                );
                findings.add(
                    "service-duplicate",
                    service.source,
                    "service",
                    service.service_id,
                    detail,
                );
                if service.end > end {
                    reach = Some((
                        person,
                        code,
                        service.end,
                        service.source,
                        service.service_id,
                    ));
                }
            }
            _ => {
                reach = Some((
                    service.person,
                    service.code,
                    service.end,
                    service.source,
                    service.service_id,
                ))
            }
        }
    }
}

fn show(date: Option<NaiveDate>) -> String {
    date.map_or_else(|| "open".to_string(), |d| d.to_string())
}
