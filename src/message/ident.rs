//! The annual identity message `KPR_IDE` in the register's format, the NPR/KPR ident module
//! XPR(ide) 53.1.3 (`http://www.npr.no/xmlstds/53_1_3_ide`, built in under
//! `schemas/official/ide-53.1.3/`): the message head, the contacts, the municipality as
//! `Institusjon`, and one `PasientIdent` per person — `pid`, the person's `pePeID` in the
//! fagmelding `KPR_IPL`, with the identity number `fid` and its kind `typeID` (9032).
//!
//! That `pid` is `pePeID` is an inference from the published files, not stated in them: both
//! are the sender's own key for the person, and IPLOS carries no identity number
//! (`docs/iplos37.md`). It lives here and in [`super::iplos37`] only.
//!
//! [`IdeWriter`] streams like the fagmelding's writer; [`read_ide`] reads one back.

use std::io::{self, Write};

use chrono::NaiveDate;
use chrono_tz::Europe::Oslo;
use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::guard;
use super::iplos37::{Header, IplosError};
use crate::model::Ident;
use crate::model::ident::{IdentKind, validate};
use crate::model::year_bounds;
use crate::redact::hide_identity_numbers;

pub const NAMESPACE: &str = "http://www.npr.no/xmlstds/53_1_3_ide";
/// `Melding/@versjon`.
pub const VERSION: &str = "53.1.3";

/// 9032: 1 fødselsnummer, 2 D-number, 3 H-number; 9 "other" for a number that is none of
/// them (the checks hold such persons back, so it is not expected).
pub fn type_id(ident: &Ident) -> u8 {
    match validate(ident.expose()).map(|info| info.kind) {
        Ok(IdentKind::Fnr) => 1,
        Ok(IdentKind::DNumber) => 2,
        Ok(IdentKind::HNumber) => 3,
        Err(_) => 9,
    }
}

/// Writes an identity message person by person.
pub struct IdeWriter<W: Write> {
    out: W,
}

impl<W: Write> IdeWriter<W> {
    /// Writes the declaration, `Melding` with its head, the contacts, and opens `Institusjon`.
    pub fn start(mut out: W, header: &Header) -> io::Result<IdeWriter<W>> {
        let (first, last) = year_bounds(header.year);
        let day = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let made = header.generated.with_timezone(&Oslo).date_naive();
        // One product and version: the EPJ of the end of the year, the last configured.
        let (product, version) = header.epj.last().cloned().unwrap_or_default();
        writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        write!(
            out,
            r#"<Melding xmlns="{NAMESPACE}" versjon="{VERSION}" meldingstype="B""#
        )?;
        write!(
            out,
            r#" fraDatoPeriode="{}" tilDatoPeriode="{}" uttakDato="{}""#,
            day(first),
            day(last),
            day(made)
        )?;
        // The vendor is not configured: the product names it best.
        write!(
            out,
            r#" leverandor="{p}" navnEPJ="{p}" versjonEPJ="{}" versjonUt="{}" lopenr="{}">"#,
            escape(&version),
            env!("CARGO_PKG_VERSION"),
            header.running_number,
            p = escape(&product),
        )?;
        writeln!(out)?;
        super::out::write_contacts(&mut out, &header.contacts)?;
        writeln!(
            out,
            r#" <Institusjon institusjonID="{}">"#,
            escape(&header.institution)
        )?;
        Ok(IdeWriter { out })
    }

    /// One person: `pid` is the person's `pePeID` in the fagmelding.
    pub fn person(&mut self, pid: u32, ident: &Ident) -> io::Result<()> {
        writeln!(
            self.out,
            r#"  <PasientIdent pid="{pid}" fid="{}" typeID="{}"/>"#,
            escape(ident.expose()),
            type_id(ident)
        )
    }

    pub fn finish(mut self) -> io::Result<W> {
        writeln!(self.out, " </Institusjon>")?;
        writeln!(self.out, "</Melding>")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// An identity message as read: `institusjonID`, and each `PasientIdent` as (pid, fid,
/// typeID) in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identmelding {
    pub running_number: String,
    pub institution: String,
    /// `typeKontaktperson` of each contact.
    pub contact_types: Vec<String>,
    pub persons: Vec<(String, String, String)>,
}

/// Reads an identity message back.
pub fn read_ide(xml: &[u8]) -> Result<Identmelding, IplosError> {
    let text = guard::checked(xml).map_err(|refused| IplosError::Refused(refused.to_string()))?;
    let mut reader = NsReader::from_str(text);
    let mut read = Identmelding::default();
    let mut depth = 0usize;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        // Counted only when needed: counting for every event would take quadratic time.
        let line = || guard::line_at(text.as_bytes(), at);
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| IplosError::NotXml {
                line: line(),
                reason: hide_identity_numbers(&e.to_string()),
            })?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().into_inner()).into_owned();
                let attribute = |name: &str| -> String {
                    e.try_get_attribute(name)
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            let raw = std::str::from_utf8(&a.value).ok()?;
                            quick_xml::escape::unescape(raw)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                        .unwrap_or_default()
                };
                if depth == 0 {
                    let ours = matches!(resolved, ResolveResult::Bound(ns) if ns.0 == NAMESPACE.as_bytes());
                    if local != "Melding" || !ours {
                        return Err(IplosError::NotIplos {
                            found: local,
                            namespace: "another namespace than XPR(ide) 53.1.3's".into(),
                        });
                    }
                    read.running_number = attribute("lopenr");
                }
                match local.as_str() {
                    "Kontaktperson" => read.contact_types.push(attribute("typeKontaktperson")),
                    "Institusjon" => read.institution = attribute("institusjonID"),
                    "PasientIdent" => {
                        read.persons
                            .push((attribute("pid"), attribute("fid"), attribute("typeID")))
                    }
                    _ => {}
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return Ok(read),
            _ => {}
        }
    }
}
