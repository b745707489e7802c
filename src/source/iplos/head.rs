//! What a file of the pair says about itself before its persons: which of the pair it is,
//! for which municipality and period, its running number. Pairs are recognised by this,
//! never by file names, which every EPJ chooses its own way.

use std::path::Path;

use chrono::NaiveDate;

use super::xml::{IPLOS_NAMESPACE_PREFIX, Node, Payload, XmlFile, XmlProblem};

/// The head of a fagmelding or an identmelding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHead {
    pub payload: Payload,
    /// `iiKomnr`; an identmelding names no municipality.
    pub municipality: Option<String>,
    /// The extract's first and last day (`iiFraDato`/`iiTilDato`, `fraDatoPeriode`/
    /// `tilDatoPeriode`).
    pub period: (NaiveDate, NaiveDate),
    /// `iiLopenr` / `lopenr`.
    pub running_number: Option<String>,
    /// The EPJ that wrote it (`iiSysID` + `iiSysVersjon`, or `leverandor`, `navnEPJ` +
    /// `versjonEPJ`).
    pub system: Option<String>,
    /// The names of the municipality's contacts the file gives (`iiKontakt/Navn`,
    /// `Kontaktperson/@kontPerson`): staff, not patients.
    pub contacts: Vec<String>,
    pub encoding: &'static str,
}

/// Reads the head of the file at `path`.
pub fn read_head(path: &Path) -> Result<FileHead, XmlProblem> {
    let mut file = XmlFile::open(path)?;
    read(&mut file)
}

/// Reads the head of an opened file, leaving it just after INNHINFO (a fagmelding) or at
/// the first `Institusjon` (an identmelding).
pub fn read(file: &mut XmlFile) -> Result<FileHead, XmlProblem> {
    let head = match file.payload {
        Payload::Fagmelding => fagmelding(file),
        Payload::Identmelding => identmelding(file),
    };
    // The values quoted come from the file, where a shifted field may hold an identity.
    head.map_err(XmlProblem::masked)
}

fn version(file: &XmlFile, expected: &str, format: &str) -> Result<(), XmlProblem> {
    match file.attribute("versjon") {
        Some(v) if v == expected => Ok(()),
        found => Err(XmlProblem {
            line: Some(file.line()),
            what: format!(
                "is {format} version '{}', not {expected}",
                found.unwrap_or("(none)")
            ),
            fix: format!("ask the EPJ for the {format} {expected} extract"),
        }),
    }
}

fn fagmelding(file: &mut XmlFile) -> Result<FileHead, XmlProblem> {
    let year = file
        .namespace
        .strip_prefix(IPLOS_NAMESPACE_PREFIX)
        .filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|y| y.parse::<i32>().ok());
    if year.is_none_or(|y| y < 2018) {
        return Err(XmlProblem {
            line: Some(file.line()),
            what: format!(
                "is in the namespace {}, which is no IPLOS year kpr-bridge reads",
                file.namespace
            ),
            fix: format!("IPLOS 3.7 is written in {IPLOS_NAMESPACE_PREFIX}<year>, 2018 or later"),
        });
    }
    version(file, "3.7", "IPLOS")?;
    let mut head = FileHead {
        payload: Payload::Fagmelding,
        municipality: None,
        period: (NaiveDate::MIN, NaiveDate::MIN),
        running_number: None,
        system: None,
        contacts: Vec::new(),
        encoding: file.encoding,
    };
    let (mut from, mut to, mut system, mut version) = (None, None, None, None);
    let mut depth = 0usize;
    let mut seen_innhinfo = false;
    loop {
        match file.next_node()? {
            Node::Start { empty } => {
                if depth == 0 && file.name() != "INNHINFO" {
                    break;
                }
                if depth == 0 {
                    seen_innhinfo = true;
                }
                if !empty {
                    depth += 1;
                }
            }
            Node::End => {
                depth = depth.saturating_sub(1);
                let value = file.text().to_string();
                match (depth, file.name()) {
                    (0, _) => break,
                    (1, "iiKomnr") => head.municipality = Some(value),
                    (1, "iiFraDato") => from = Some((file.line(), value)),
                    (1, "iiTilDato") => to = Some((file.line(), value)),
                    (1, "iiLopenr") => head.running_number = Some(value),
                    (1, "iiSysID") => system = Some(value),
                    (1, "iiSysVersjon") => version = Some(value),
                    (2, "Navn") => head.contacts.push(value),
                    _ => {}
                }
            }
            Node::Eof => break,
        }
    }
    if !seen_innhinfo {
        return Err(XmlProblem {
            line: Some(file.line()),
            what: "has no INNHINFO before its first PERSON".into(),
            fix: "every IPLOS 3.7 fagmelding starts with INNHINFO; ask the EPJ to write the extract again".into(),
        });
    }
    let date = |field: &str, value: Option<(u64, String)>| -> Result<NaiveDate, XmlProblem> {
        let (line, text) = value.ok_or_else(|| XmlProblem {
            line: Some(file.line()),
            what: format!("has no INNHINFO/{field}"),
            fix: "the extract's period is needed to pair it; ask the EPJ to write it again".into(),
        })?;
        parse_compact_date(&text).ok_or_else(|| XmlProblem {
            line: Some(line),
            what: format!("INNHINFO/{field} '{text}' is not a date YYYYMMDD"),
            fix: "IPLOS 3.7 writes dates as YYYYMMDD, such as 20260101".into(),
        })
    };
    head.period = (date("iiFraDato", from)?, date("iiTilDato", to)?);
    head.system = join(system, version);
    Ok(head)
}

fn identmelding(file: &mut XmlFile) -> Result<FileHead, XmlProblem> {
    version(file, "53.1.3", "XPR(ide)")?;
    let date = |field: &str| -> Result<NaiveDate, XmlProblem> {
        let text = file.attribute(field).unwrap_or("");
        NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| XmlProblem {
            line: Some(file.line()),
            what: format!("Melding/@{field} '{text}' is not a date YYYY-MM-DD"),
            fix: "the extract's period is needed to pair it; ask the EPJ to write it again".into(),
        })
    };
    let period = (date("fraDatoPeriode")?, date("tilDatoPeriode")?);
    let running_number = file.attribute("lopenr").map(str::to_string);
    let vendor = file.attribute("leverandor").unwrap_or("").to_string();
    let system = join(
        file.attribute("navnEPJ").map(str::to_string),
        file.attribute("versjonEPJ").map(str::to_string),
    )
    .map(|s| {
        if vendor.is_empty() {
            s
        } else {
            format!("{s} ({vendor})")
        }
    });
    let encoding = file.encoding;
    let mut contacts = Vec::new();
    loop {
        match file.next_node()? {
            Node::Start { .. } if file.name() == "Kontaktperson" => {
                contacts.extend(file.attribute("kontPerson").map(str::to_string));
            }
            Node::Start { .. } if file.name() == "Institusjon" => break,
            Node::Eof => break,
            _ => {}
        }
    }
    Ok(FileHead {
        payload: Payload::Identmelding,
        municipality: None,
        period,
        running_number,
        system,
        contacts,
        encoding,
    })
}

fn join(name: Option<String>, version: Option<String>) -> Option<String> {
    let name = name.filter(|n| !n.is_empty())?;
    Some(match version.filter(|v| !v.is_empty()) {
        Some(version) => format!("{name} {version}"),
        None => name,
    })
}

/// An IPLOS date, `YYYYMMDD` and nothing else.
pub fn parse_compact_date(text: &str) -> Option<NaiveDate> {
    if text.len() != 8 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y%m%d").ok()
}
