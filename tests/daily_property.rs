//! The diff as a property: for random pairs of EPJ snapshots, the notifications of both
//! days, read only by what each status means (N an original, M replaces the original it
//! names, C cancels it), give the register exactly what the EPJ now says of each service;
//! the chain holds; and the same day again gives nothing.

mod support;

use std::collections::HashMap;

use chrono::NaiveDate;
use kpr_bridge::message::ipl56::{EventKind, Notification, Status};
use kpr_bridge::model::{
    Assessment, AttributeKind, Decision, Diagnosis, DiagnosisSystem, HoursPerWeek, Household,
    Pause, PersonAttribute,
};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;
use proptest::prelude::*;
use support::daily::{
    ORGNR, OTHER_ORGNR, assert_chain, capture_on, capture_with, day, notifications_after, only,
    person, service,
};
use uuid::Uuid;

const PERSONS: usize = 4;
const SERVICES: usize = 8;
const DAYS: [&str; 5] = [
    "2025-11-01",
    "2026-01-10",
    "2026-02-01",
    "2026-02-20",
    "2026-03-15",
];

/// One service as the generator describes it; `None` fields are absent.
#[derive(Clone, Debug)]
struct ServiceSpec {
    refused: bool,
    start: usize,
    /// Days after the start, when it ended.
    end: Option<usize>,
    hours: Option<i64>,
    orgnr: Option<bool>,
    pauses: Vec<(usize, Option<usize>)>,
}

#[derive(Clone, Debug)]
struct PersonSpec {
    oslo: bool,
    household: Option<bool>,
    diagnoses: Vec<usize>,
    attribute: Option<(usize, Option<usize>)>,
    assessment: Option<(usize, u8)>,
}

fn service_spec() -> impl Strategy<Value = ServiceSpec> {
    (
        prop::bool::weighted(0.15),
        0..DAYS.len(),
        prop::option::of(0..3usize),
        prop::option::of(0..4000i64),
        prop::option::of(any::<bool>()),
        prop::collection::vec((0..DAYS.len(), prop::option::of(0..2usize)), 0..3),
    )
        .prop_map(|(refused, start, end, hours, orgnr, pauses)| ServiceSpec {
            refused,
            start,
            end,
            hours,
            orgnr,
            pauses,
        })
}

fn person_spec() -> impl Strategy<Value = PersonSpec> {
    (
        any::<bool>(),
        prop::option::of(any::<bool>()),
        prop::collection::vec(0..3usize, 0..3),
        prop::option::of((0..DAYS.len(), prop::option::of(0..2usize))),
        prop::option::of((0..2usize, 1..=5u8)),
    )
        .prop_map(
            |(oslo, household, diagnoses, attribute, assessment)| PersonSpec {
                oslo,
                household,
                diagnoses,
                attribute,
                assessment,
            },
        )
}

type Spec = (Vec<PersonSpec>, Vec<Option<ServiceSpec>>);

fn snapshot_spec() -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec(person_spec(), PERSONS),
        prop::collection::vec(prop::option::of(service_spec()), SERVICES),
    )
}

/// A snapshot every check accepts: valid dates, pauses inside their service, one service
/// per person and code.
fn snapshot((persons, services): &Spec) -> Snapshot {
    let at = |i: usize| day(DAYS[i.min(DAYS.len() - 1)]);
    let mut epj = Snapshot::default();
    for (n, spec) in persons.iter().enumerate() {
        let id = format!("p{n}");
        let mut p = person(&id, n as u32 + 1, if spec.oslo { "0301" } else { "4601" });
        p.household = spec.household.map(|alone| {
            if alone {
                Household::Alone
            } else {
                Household::WithOthers
            }
        });
        epj.persons.push(p);
        for &d in &spec.diagnoses {
            epj.diagnoses.push(Diagnosis {
                person_id: id.as_str().into(),
                system: DiagnosisSystem::Icpc2,
                code: ["K86", "T90", "P70"][d].into(),
                registered_on: None,
            });
        }
        if let Some((from, to)) = spec.attribute {
            epj.attributes.push(PersonAttribute {
                person_id: id.as_str().into(),
                kind: AttributeKind::IndividualPlan,
                from: Some(at(from)),
                to: to.map(|t| at(from + t)),
            });
        }
        if let Some((date, score)) = spec.assessment {
            for variable in ["V01", "V02"] {
                epj.assessments.push(Assessment {
                    person_id: id.as_str().into(),
                    assessed_on: Some(at(date)),
                    variable: variable.into(),
                    score,
                });
            }
        }
    }
    for (i, spec) in services.iter().enumerate() {
        let Some(spec) = spec else { continue };
        // Service i belongs to person i % PERSONS with code by i / PERSONS: never a duplicate.
        let local_type = ["MATOMBR", "STOTTEK"][i / PERSONS];
        let mut s = service(
            &format!("s{i}"),
            &format!("p{}", i % PERSONS),
            local_type,
            DAYS[spec.start],
        );
        s.hours_per_week = spec.hours.map(HoursPerWeek::from_hundredths);
        s.provider_orgnr = spec
            .orgnr
            .map(|first| if first { ORGNR } else { OTHER_ORGNR }.into());
        if spec.refused {
            s.decision = Decision::Refused;
            s.decided_on = Some(at(spec.start));
            s.start = None;
        } else {
            let end = spec.end.map(|e| spec.start + e);
            s.end = end.map(at);
            for &(from, to) in &spec.pauses {
                if from >= spec.start && end.is_none_or(|e| from <= e) {
                    s.pauses.push(Pause {
                        from: at(from),
                        to: to.map(|t| at(from + t)),
                    });
                }
            }
            s.pauses.sort();
            s.pauses.dedup_by_key(|p| p.from);
            if let (Some(end), Some(last)) = (s.end, s.pauses.last_mut()) {
                last.to = last.to.map(|t| t.min(end));
            }
        }
        epj.services.push(s);
    }
    epj
}

/// A service as the register reads it from the notifications: its start, end and stops.
#[derive(Clone, Debug, Default, PartialEq)]
struct Known {
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    /// (first day, last day) of each stop.
    stops: Vec<(NaiveDate, Option<NaiveDate>)>,
}

/// Reads the notifications as the register would: an N is an original, an M replaces the
/// original it names, a C cancels it — each M and C must name a live N original of the same
/// kind and service. Gives each service (by tjenesteID) as it stands.
fn register(all: &[Notification]) -> HashMap<String, Known> {
    // original GUID → (service, kind, day, stop id)
    let mut originals: HashMap<Uuid, (String, EventKind, NaiveDate, Option<String>)> =
        HashMap::new();
    for n in all {
        let e = &n.event;
        match n.status {
            Status::Original => {
                assert!(n.corrects.is_none());
                originals.insert(
                    n.guid,
                    (e.service_id.clone(), e.kind, e.day, e.stop_id.clone()),
                );
            }
            status => {
                let original = n.corrects.expect("an M or C names its original");
                let (service, kind, _, _) = originals
                    .get(&original)
                    .expect("the original is live")
                    .clone();
                assert_eq!((service.as_str(), kind), (e.service_id.as_str(), e.kind));
                if status == Status::Cancels {
                    originals.remove(&original);
                } else {
                    originals.get_mut(&original).unwrap().2 = e.day;
                }
            }
        }
    }
    let mut services: HashMap<String, Known> = HashMap::new();
    let mut stops: HashMap<(String, String), (Option<NaiveDate>, Option<NaiveDate>)> =
        HashMap::new();
    for (service, kind, day, stop) in originals.into_values() {
        let known = services.entry(service.clone()).or_default();
        match kind {
            EventKind::Start => known.start = Some(day),
            EventKind::End => known.end = Some(day),
            EventKind::ProviderChanged => {}
            EventKind::StopFrom => {
                stops.entry((service, stop.unwrap())).or_default().0 = Some(day);
            }
            EventKind::StopUntil => {
                stops.entry((service, stop.unwrap())).or_default().1 = Some(day);
            }
        }
    }
    for ((service, _), (from, until)) in stops {
        let from = from.expect("a stop's last day belongs to a stop that began");
        services
            .entry(service)
            .or_default()
            .stops
            .push((from, until));
    }
    services.retain(|_, known| *known != Known::default());
    for known in services.values_mut() {
        known.stops.sort();
    }
    services
}

/// What the EPJ says of its granted services, as the register should know them.
fn expected(epj: &Snapshot) -> HashMap<String, Known> {
    epj.services
        .iter()
        .filter(|s| s.decision == Decision::Granted)
        .map(|s| {
            (
                s.service_id.to_string(),
                Known {
                    start: s.start,
                    end: s.end,
                    stops: s.pauses.iter().map(|p| (p.from, p.to)).collect(),
                },
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn notifications_turn_the_old_report_into_the_new_one(old in snapshot_spec(), new in snapshot_spec()) {
        let (old, new) = (snapshot(&old), snapshot(&new));
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        support::block_on(|| async move {
            let store = Store::open(None, &data_dir).await.unwrap();
            let first = capture_with(&store, &only(&old), "2026-03-01", Some(day("2025-01-01"))).await.unwrap();
            assert_eq!(first.summary.held_services + first.summary.held_persons, 0, "{:?}", first.current.report.findings);
            assert_eq!(register(&notifications_after(&store, 0).await), expected(&old));
            let second = capture_on(&store, &only(&new), "2026-03-02", false).await.unwrap();
            assert_eq!(second.summary.held_services + second.summary.held_persons, 0);
            let all = notifications_after(&store, 0).await;
            assert_chain(&all);
            // The tjenesteID is the EPJ's id here (no EPJ change).
            assert_eq!(register(&all), expected(&new));
            let again = capture_on(&store, &only(&new), "2026-03-02", false).await.unwrap();
            assert_eq!(again.summary.notifications, 0);
            store.close().await;
        });
    }
}
