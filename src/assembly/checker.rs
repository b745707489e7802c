//! The register's arrival checks ([`super::controls`]) run over a year's records: as the
//! writer of KPR_IPL makes them ([`Checker`], a [`Records`] that `IplWriter` feeds), or as a
//! document is read back ([`Controls::run`]). Both stream: the state is the records open at
//! the moment and one finding per field and check.

use std::fmt::{Display, Write as _};
use std::io::{self, BufRead};
use std::ops::Range;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use regex::Regex;

use super::controls::{Codes, ControlFinding, Controls, Expected, Kind, bound, within};
use crate::message::iplos37::{Header, IplWriter, Records};
use crate::model::annual::AnnualPerson;
use crate::model::assessment::AssessmentVariables;
use crate::model::{Ident, ServiceCode};
use crate::redact::hide_identity_numbers;

impl Controls {
    /// A run of the checks for `year` over records given one by one (by
    /// [`crate::message::iplos37::IplWriter`]).
    pub fn checker(&self, year: i32) -> Checker<'_> {
        let bounds = self
            .controls
            .iter()
            .map(|c| match &c.range {
                Some((from, to, _)) => (bound(from, year), bound(to, year)),
                None => (None, None),
            })
            .collect();
        Checker {
            controls: self,
            year,
            bounds,
            frames: Vec::new(),
            depth: 0,
            person: None,
            found: Default::default(),
            memo: (0..self.controls.len())
                .map(|_| Default::default())
                .collect(),
        }
    }

    /// Runs every check on the KPR_IPL `xml` for `year` (a document as written or as
    /// received); the findings as [`Checker::findings`] gives them. Unreadable XML ends the
    /// run with what was found (the schema's validation says why).
    pub fn run(&self, xml: impl BufRead, year: i32) -> Vec<ControlFinding> {
        let mut checker = self.checker(year);
        records(xml, |record, person, fields| {
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            checker.check(record, person, field);
        });
        checker.findings()
    }
}

/// The checks of one run over a year's records, handed to it as they are made
/// ([`Records`]): by the writer of KPR_IPL itself, so that the checks see exactly the values
/// the register will, without a document being written and read back. Its state is the
/// records open at the moment (a PERSON and one record in it) and one finding per field and
/// check: it does not grow with the year.
pub struct Checker<'c> {
    controls: &'c Controls,
    year: i32,
    /// Each control's range bounds for the year, made once.
    bounds: Vec<(Option<String>, Option<String>)>,
    /// The open records, innermost last at `depth - 1`; kept to be reused.
    frames: Vec<Frame>,
    depth: usize,
    /// The current PERSON's `pePeID`, `None` outside one.
    person: Option<String>,
    found: foldhash::HashMap<(&'c str, &'c str, Kind), ControlFinding>,
    /// Per control, whether values already seen match its pattern: most values recur
    /// (dates, codes), and a pattern match costs more than a look-up.
    memo: Vec<foldhash::HashMap<Box<str>, bool>>,
}

/// Values remembered per control, at most: ids, which never recur, stop filling it.
const MEMO: usize = 4096;

/// Whether `value` matches `pattern`, remembered in `memo`.
fn matches(memo: &mut foldhash::HashMap<Box<str>, bool>, pattern: &Regex, value: &str) -> bool {
    if let Some(&known) = memo.get(value) {
        return known;
    }
    let found = pattern.is_match(value);
    if memo.len() < MEMO {
        memo.insert(value.into(), found);
    }
    found
}

/// An open record: its name and its fields, their values one after another in `values`.
#[derive(Default)]
struct Frame {
    record: &'static str,
    fields: Vec<(&'static str, Range<usize>)>,
    values: String,
}

impl Frame {
    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, range)| &self.values[range.clone()])
    }

    /// A number, code or date, written as it is.
    fn push(&mut self, name: &'static str, value: impl Display) {
        let start = self.values.len();
        let _ = write!(self.values, "{value}");
        self.fields.push((name, start..self.values.len()));
    }

    /// Text as a reader of the document would see it: trimmed.
    fn push_text(&mut self, name: &'static str, value: &str) {
        let value = value.trim();
        let start = self.values.len();
        self.values.push_str(value);
        self.fields.push((name, start..self.values.len()));
    }
}

impl Records for Checker<'_> {
    fn open(
        &mut self,
        record: &'static str,
        attributes: &[(&'static str, &dyn Display)],
    ) -> io::Result<()> {
        if self.frames.len() == self.depth {
            self.frames.push(Frame::default());
        }
        let frame = &mut self.frames[self.depth];
        frame.record = record;
        frame.fields.clear();
        frame.values.clear();
        for (name, value) in attributes {
            frame.push(name, value);
        }
        if record == "PERSON" {
            self.person = frame.get("pePeID").map(str::to_string);
        }
        self.depth += 1;
        Ok(())
    }

    fn field(&mut self, name: &'static str, value: impl Display) -> io::Result<()> {
        if let Some(frame) = self.depth.checked_sub(1).map(|d| &mut self.frames[d]) {
            frame.push(name, value);
        }
        Ok(())
    }

    fn text(&mut self, name: &'static str, value: &str) -> io::Result<()> {
        if let Some(frame) = self.depth.checked_sub(1).map(|d| &mut self.frames[d]) {
            frame.push_text(name, value);
        }
        Ok(())
    }

    fn close(&mut self, _record: &'static str) -> io::Result<()> {
        let Some(depth) = self.depth.checked_sub(1) else {
            return Ok(());
        };
        self.depth = depth;
        let frame = std::mem::take(&mut self.frames[depth]);
        let person = self.person.take();
        self.check(frame.record, person.as_deref(), |name| frame.get(name));
        if frame.record != "PERSON" {
            self.person = person;
        }
        self.frames[depth] = frame;
        Ok(())
    }
}

impl<'c> Checker<'c> {
    /// Every check of `record`'s class on its fields (`field` gives a value by name), of
    /// the person `person` (`pePeID`) when inside one.
    fn check<'v>(
        &mut self,
        record: &str,
        person: Option<&str>,
        field: impl Fn(&str) -> Option<&'v str>,
    ) {
        let Checker {
            controls,
            year,
            bounds,
            found,
            memo,
            ..
        } = self;
        let Some(indices) = controls.by_class.get(record) else {
            return;
        };
        for &index in indices {
            let control = &controls.controls[index];
            let mut note =
                |kind: Kind, consequence, value: &str, expected: &dyn Fn() -> Expected| {
                    found
                        .entry((control.class.as_str(), control.field.as_str(), kind))
                        .and_modify(|f| f.count += 1)
                        .or_insert_with(|| ControlFinding {
                            record: control.class.clone(),
                            field: control.field.clone(),
                            kind,
                            consequence,
                            count: 1,
                            example: example(person, value),
                            expected: expected(),
                        });
                };
            let Some(value) = field(&control.field).filter(|v| !v.is_empty()) else {
                if let Some((when, consequence)) = &control.mandatory {
                    let service = field("tjTjenType");
                    if when.is_empty() || service.is_some_and(|s| when.iter().any(|w| w == s)) {
                        let expected = || {
                            if when.is_empty() {
                                Expected::Value
                            } else {
                                Expected::ValueFor(when.clone())
                            }
                        };
                        note(Kind::Mandatory, *consequence, "", &expected);
                    }
                }
                continue;
            };
            if let Some((pattern, consequence)) = &control.pattern
                && !matches(&mut memo[index], pattern, value)
            {
                let expected = || Expected::Pattern(pattern.as_str().to_string());
                note(Kind::Type, *consequence, value, &expected);
                continue;
            }
            if let Some((codes, consequence)) = &control.codes {
                let known = match codes {
                    Codes::List(list) => list.iter().any(|c| c == value),
                    Codes::ServiceTypes => value
                        .parse::<ServiceCode>()
                        .ok()
                        .and_then(ServiceCode::info)
                        .is_some_and(|t| t.is_valid_in_year(*year)),
                };
                if !known {
                    let year = *year;
                    let expected = || match codes {
                        Codes::List(list) => Expected::OneOf(list.clone()),
                        Codes::ServiceTypes => Expected::ServiceType(year),
                    };
                    note(Kind::Code, *consequence, value, &expected);
                }
            }
            if let Some((_, _, consequence)) = &control.range {
                let (from, to) = &bounds[index];
                if !within(value, from.as_deref(), to.as_deref()) {
                    let expected = || Expected::Range(from.clone(), to.clone());
                    note(Kind::Range, *consequence, value, &expected);
                }
            }
        }
    }

    /// Adds what `later` found over the records after this one's: counts summed, the first
    /// example kept.
    pub fn merge(&mut self, later: Checker<'c>) {
        for (key, finding) in later.found {
            self.found
                .entry(key)
                .and_modify(|f| f.count += finding.count)
                .or_insert(finding);
        }
    }

    /// The findings by record, field and kind, the most serious first.
    pub fn findings(self) -> Vec<ControlFinding> {
        let mut findings: Vec<ControlFinding> = self.found.into_values().collect();
        findings.sort_by(|a, b| {
            (a.consequence, &a.record, &a.field, a.kind).cmp(&(
                b.consequence,
                &b.record,
                &b.field,
                b.kind,
            ))
        });
        findings
    }
}

/// The register's arrival checks over the year's persons as `IplWriter` makes their records
/// under `header`: in as many parts as there are cores, each part's findings merged into
/// the first's in order, so that counts and first examples are those of one run.
pub fn check_year(
    persons: &[(Ident, AnnualPerson)],
    header: &Header,
    variables: &AssessmentVariables,
) -> Vec<ControlFinding> {
    let year = header.year;
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get());
    let size = persons.len().div_ceil(parts).max(1);
    let (first, rest) = persons.split_at(size.min(persons.len()));
    // Checking writes nothing: it cannot fail.
    let run = |part: &[(Ident, AnnualPerson)], head: bool| -> io::Result<Checker<'static>> {
        let checker = Controls::built_in().checker(year);
        let mut writer = if head {
            IplWriter::over(checker, header, variables.clone())?
        } else {
            IplWriter::continued(checker, header, variables.clone())
        };
        for (_, person) in part {
            writer.person(person, year)?;
        }
        if head {
            writer.end()
        } else {
            Ok(writer.into_records())
        }
    };
    let checked = std::thread::scope(|scope| {
        let later: Vec<_> = rest
            .chunks(size)
            .map(|part| scope.spawn(move || run(part, false)))
            .collect();
        let mut checker = run(first, true)?;
        for part in later {
            checker.merge(part.join().expect("a check of records does not panic")?);
        }
        Ok::<_, io::Error>(checker)
    });
    checked.map_or_else(|_| Vec::new(), Checker::findings)
}

/// The first finding's example: the person and the value, identity numbers hidden.
fn example(person: Option<&str>, value: &str) -> String {
    let person = person.map_or(String::new(), |p| format!("PERSON {p}: "));
    format!("{person}'{}'", hide_identity_numbers(value))
}

/// Hands each record of an IPLOS document to `each`: its element name (the root as `IPLOS`,
/// `INNHINFO`, `iiKontakt`, `PERSON`, `TJENESTE`, …), the person it belongs to (`pePeID`),
/// and its fields — attributes and child elements' text — as (name, value).
fn records(xml: impl BufRead, mut each: impl FnMut(&str, Option<&str>, &[(String, String)])) {
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    // The open records, innermost last, each with its fields.
    let mut open: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut person: Option<String> = None;
    let mut field: Option<String> = None;
    let mut text = String::new();
    loop {
        let event = match reader.read_event_into(&mut buffer) {
            Ok(event) => event,
            Err(_) => return,
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let empty = matches!(event, Event::Empty(_));
                if is_record(&name) {
                    let fields = attributes(e);
                    if name == "PERSON" {
                        person = fields
                            .iter()
                            .find(|(n, _)| n == "pePeID")
                            .map(|(_, v)| v.clone());
                    }
                    if empty {
                        each(&name, person.as_deref(), &fields);
                    } else {
                        open.push((name, fields));
                    }
                } else if !empty {
                    field = Some(name);
                    text.clear();
                } else if let Some((_, fields)) = open.last_mut() {
                    fields.push((name, String::new()));
                }
            }
            Event::Text(ref t) if field.is_some() => {
                text.push_str(&t.decode().unwrap_or_default());
            }
            Event::GeneralRef(ref r) if field.is_some() => {
                let name = r.decode().unwrap_or_default();
                text.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or(""));
            }
            Event::End(ref e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if field.as_deref() == Some(name.as_str()) {
                    if let Some((_, fields)) = open.last_mut() {
                        fields.push((name, text.trim().to_string()));
                    }
                    field = None;
                } else if open.last().is_some_and(|(n, _)| *n == name) {
                    let (name, fields) = open.pop().expect("checked above");
                    each(&name, person.as_deref(), &fields);
                    if name == "PERSON" {
                        person = None;
                    }
                }
            }
            Event::Eof => return,
            _ => {}
        }
        buffer.clear();
    }
}

/// Elements that are records of their own (the rest are fields of the record around them).
fn is_record(name: &str) -> bool {
    matches!(
        name,
        "IPLOS"
            | "INNHINFO"
            | "iiKontakt"
            | "PERSON"
            | "PERSONOPPL"
            | "FUNKSJON"
            | "TJENESTE"
            | "DIAGNOSE"
            | "DOGNTILBUD"
    )
}

fn attributes(element: &BytesStart) -> Vec<(String, String)> {
    element
        .attributes()
        .flatten()
        .filter(|a| !a.key.as_ref().starts_with(b"xmlns"))
        .map(|a| {
            let name = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let raw = String::from_utf8_lossy(&a.value).into_owned();
            let value = quick_xml::escape::unescape(&raw).map_or(raw.clone(), |v| v.into_owned());
            (name, value)
        })
        .collect()
}
