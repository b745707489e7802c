//! The identmelding (XPR(ide) 53.1.3): each `PasientIdent`'s `pid` with its identity number.
//!
//! **The one place that pairs the two files' persons** (an inference, domain.md "The
//! official message formats"): `PasientIdent/@pid` is the fagmelding's `PERSON/@pePeID`.
//! Both are local to one extract, so across nights a person is found again by the identity
//! number alone.

use std::collections::HashMap;

use super::xml::{Node, XmlFile, XmlProblem};
use crate::model::Ident;
use crate::redact::shown_value;
use crate::source::problem::{Problem, Problems};

/// A fagmelding's `pePeID` as the identmelding's `pid` names it.
pub type PersonNumber = u64;

/// Identity numbers by `pid`.
#[derive(Default)]
pub struct Identities {
    by_pid: HashMap<PersonNumber, Ident>,
}

impl Identities {
    /// The identity of the fagmelding's person `pe_pe_id`, taken out so that what is left
    /// at the end are the identities no person used.
    pub fn take(&mut self, pe_pe_id: PersonNumber) -> Option<Ident> {
        self.by_pid.remove(&pe_pe_id)
    }

    pub fn len(&self) -> usize {
        self.by_pid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_pid.is_empty()
    }

    /// Reads the rest of an identmelding whose head was read. A `PasientIdent` that cannot
    /// be used is a problem of its line; a file that breaks off is one of the file, and what
    /// was read before it is kept.
    pub fn read(file: &mut XmlFile, name: &str, problems: &mut Problems) -> Identities {
        let mut identities = Identities::default();
        let mut lines: HashMap<PersonNumber, u64> = HashMap::new();
        loop {
            match file.next_node() {
                Ok(Node::Start { .. }) if file.name() == "PasientIdent" => {
                    let line = file.line();
                    let column = |field: &str| format!("PasientIdent/@{field}");
                    let pid = file.attribute("pid").unwrap_or("");
                    let Some(number) = parse_person_number(pid) else {
                        problems.push(
                            Problem::row(
                                name,
                                line,
                                format!("{} is not a person number (1 to 10 digits)", shown_value(pid)),
                                "the pid must be the fagmelding's pePeID; the identity was not used",
                            )
                            .in_column(&column("pid")),
                        );
                        continue;
                    };
                    let fid = file.attribute("fid").unwrap_or("");
                    if fid.is_empty() {
                        problems.push(
                            Problem::row(
                                name,
                                line,
                                "is empty",
                                "give the person's fødselsnummer or D-number; the person is held back until then",
                            )
                            .in_column(&column("fid")),
                        );
                        continue;
                    }
                    if let Some(first) = lines.insert(number, line) {
                        problems.push(
                            Problem::row(
                                name,
                                line,
                                format!("pid {number} appears again (first on line {first})"),
                                "each person once; the person is held back, since it is unclear which identity is right",
                            )
                            .in_column(&column("pid")),
                        );
                        identities.by_pid.remove(&number);
                        continue;
                    }
                    identities.by_pid.insert(number, Ident::new(fid));
                }
                Ok(Node::Eof) => break,
                Ok(_) => {}
                Err(problem) => {
                    problems.push(located(name, problem));
                    break;
                }
            }
        }
        identities
    }
}

/// A key of the IPLOS format: 1 to 10 digits, as the register checks it.
pub fn parse_person_number(text: &str) -> Option<PersonNumber> {
    (!text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// A problem of the XML layer as a problem of file `name`.
pub fn located(name: &str, problem: XmlProblem) -> Problem {
    let mut located = Problem::file(name, problem.what, problem.fix);
    located.line = problem.line;
    located
}
