//! The diff as a property: for random pairs of EPJ snapshots, the events of the second day,
//! applied to what the first day reported, give exactly what the second day reports — read
//! only by what each event's kind and status mean — and the same day again gives nothing.

mod support;

use std::collections::HashMap;

use kpr_bridge::daily::event::{About, Event, EventKind, PersonFact, Status};
use kpr_bridge::daily::state::{AttributeSpan, PersonKey, PersonState, ServiceState};
use kpr_bridge::model::{
    Assessment, AttributeKind, Decision, Diagnosis, DiagnosisSystem, HoursPerWeek, Household,
    Pause, PersonAttribute,
};
use kpr_bridge::source::Snapshot;
use kpr_bridge::store::Store;
use proptest::prelude::*;
use support::daily::{ORGNR, OTHER_ORGNR, baseline, capture_on, day, only, person, service};

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
                person_id: id.clone(),
                system: DiagnosisSystem::Icpc2,
                code: ["K86", "T90", "P70"][d].into(),
                registered_on: None,
            });
        }
        if let Some((from, to)) = spec.attribute {
            epj.attributes.push(PersonAttribute {
                person_id: id.clone(),
                kind: AttributeKind::IndividualPlan,
                from: Some(at(from)),
                to: to.map(|t| at(from + t)),
            });
        }
        if let Some((date, score)) = spec.assessment {
            for variable in ["V01", "V02"] {
                epj.assessments.push(Assessment {
                    person_id: id.clone(),
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
        let local_type = ["MATOMBR", "TRYGGH"][i / PERSONS];
        let mut s = service(
            &format!("s{i}"),
            &format!("p{}", i % PERSONS),
            local_type,
            DAYS[spec.start],
        );
        s.hours_per_week = spec.hours.map(HoursPerWeek::from_hundredths);
        s.provider_orgnr = spec
            .orgnr
            .map(|first| if first { ORGNR } else { OTHER_ORGNR }.to_string());
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

/// What the register knows: services by reference, persons by key.
#[derive(Clone, Debug, Default, PartialEq)]
struct Known {
    services: HashMap<String, ServiceState>,
    persons: HashMap<PersonKey, PersonState>,
}

/// Applies events as the register would read them: each kind and status by its meaning.
fn apply(known: &mut Known, events: &[Event]) {
    for event in events {
        match &event.about {
            About::Service {
                service,
                facts,
                pause,
            } => {
                let key = service.to_string();
                let base = matches!(event.kind, EventKind::Start | EventKind::Refused);
                if base && event.status == Status::Annuls {
                    known.services.remove(&key);
                    continue;
                }
                if base && event.status == Status::Original {
                    known.services.insert(
                        key.clone(),
                        ServiceState {
                            person: event.person,
                            code: facts.code,
                            decision: facts.decision,
                            decided_on: facts.decided_on,
                            start: facts.start,
                            end: None,
                            hours: facts.hours,
                            orgnr: facts.orgnr.clone(),
                            pauses: vec![],
                        },
                    );
                    continue;
                }
                let s = known
                    .services
                    .get_mut(&key)
                    .expect("a correction of a known service");
                let pause_at = |s: &mut ServiceState| {
                    let from = pause.expect("pause events name their pause").from;
                    s.pauses.iter().position(|p| p.from == from)
                };
                match (event.kind, event.status) {
                    (EventKind::Start | EventKind::Refused, _) => {
                        s.person = event.person;
                        s.code = facts.code;
                        s.decision = facts.decision;
                        s.decided_on = facts.decided_on;
                        s.start = facts.start;
                        s.hours = facts.hours;
                    }
                    (EventKind::End, Status::Annuls) => s.end = None,
                    (EventKind::End, _) => s.end = Some(event.effective_on),
                    (EventKind::ProviderChanged, Status::Annuls) => s.orgnr = None,
                    (EventKind::ProviderChanged, _) => s.orgnr = facts.orgnr.clone(),
                    (EventKind::PauseFrom, Status::Annuls) => {
                        let i = pause_at(s).expect("an annulled pause was known");
                        s.pauses.remove(i);
                    }
                    (EventKind::PauseFrom, _) => {
                        s.pauses.push(Pause {
                            from: event.effective_on,
                            to: None,
                        });
                        s.pauses.sort();
                    }
                    (EventKind::PauseUntil, status) => {
                        let i = pause_at(s).expect("a pause's end names a known pause");
                        s.pauses[i].to = (status != Status::Annuls).then_some(event.effective_on);
                    }
                    other => panic!("{other:?} about a service"),
                }
            }
            About::Person(fact) => {
                let p = known.persons.entry(event.person).or_default();
                match (event.kind, event.status, fact) {
                    (EventKind::ResidenceChanged, _, PersonFact::Residence(r)) => {
                        p.residence = r.clone()
                    }
                    (EventKind::AssessmentChanged, _, PersonFact::Assessment(a)) => {
                        p.assessment = a.clone()
                    }
                    (EventKind::DiagnosisAdded, _, PersonFact::Diagnosis { system, code }) => {
                        p.diagnoses.insert((*system, code.clone()));
                    }
                    (EventKind::DiagnosisRemoved, _, PersonFact::Diagnosis { system, code }) => {
                        p.diagnoses.remove(&(*system, code.clone()));
                    }
                    (EventKind::AttributeStarted, Status::Annuls, PersonFact::Attribute(a)) => {
                        p.attributes
                            .retain(|x| (x.kind, x.from) != (a.kind, a.from));
                    }
                    (EventKind::AttributeStarted, _, PersonFact::Attribute(a)) => {
                        p.attributes.push(AttributeSpan { to: None, ..*a });
                        p.attributes.sort();
                    }
                    (EventKind::AttributeEnded, status, PersonFact::Attribute(a)) => {
                        let x = p
                            .attributes
                            .iter_mut()
                            .find(|x| (x.kind, x.from) == (a.kind, a.from))
                            .expect("a known attribute");
                        x.to = (status != Status::Annuls).then_some(event.effective_on);
                    }
                    other => panic!("{other:?} about a person"),
                }
            }
        }
    }
}

async fn known(store: &Store) -> Known {
    let b = baseline(store).await;
    Known {
        services: b.services,
        persons: b.persons,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn events_turn_the_old_report_into_the_new_one(old in snapshot_spec(), new in snapshot_spec()) {
        let (old, new) = (snapshot(&old), snapshot(&new));
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_path_buf();
        support::block_on(|| async move {
            let store = Store::open(None, &data_dir).await.unwrap();
            let first = capture_on(&store, &only(&old), "2026-03-01", true).await.unwrap();
            assert_eq!(first.summary.held_services + first.summary.held_persons, 0, "{:?}", first.current.report.findings);
            let mut reported = known(&store).await;
            let second = capture_on(&store, &only(&new), "2026-03-02", false).await.unwrap();
            assert_eq!(second.summary.held_services + second.summary.held_persons, 0);
            apply(&mut reported, &second.events);
            // Persons who left keep what was last reported: compare those the EPJ knows.
            let now = known(&store).await;
            assert_eq!(reported.services, now.services);
            for (key, person) in &now.persons {
                assert_eq!(reported.persons.get(key), Some(person));
            }
            // And the stored baseline is what the EPJ now says.
            assert_eq!(now.services.len(), new.services.len());
            let again = capture_on(&store, &only(&new), "2026-03-02", false).await.unwrap();
            assert!(again.events.is_empty(), "{:?}", again.events);
            store.close().await;
        });
    }
}
