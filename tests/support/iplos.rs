//! IPLOS 3.7 pairs as an EPJ writes them (fagmelding + identmelding), for the tests of the
//! `iplos` source: written by hand here, not by kpr-bridge's own writer, so that the reader
//! is tested against another writer's output.

use std::fmt::Write as _;
use std::path::Path;

/// One TJENESTE.
#[derive(Clone, Debug)]
pub struct Tjeneste {
    /// `tjVeID`, `tjVeNrID`.
    pub decision: Option<(u64, u64)>,
    pub code: u8,
    pub start: &'static str,
    pub end: Option<&'static str>,
    pub orgnr: Option<&'static str>,
    pub hours: Option<&'static str>,
}

impl Tjeneste {
    pub fn new(decision: u64, code: u8, start: &'static str) -> Tjeneste {
        Tjeneste {
            decision: Some((decision, 1)),
            code,
            start,
            end: None,
            orgnr: None,
            hours: None,
        }
    }
}

/// One PERSON with its PasientIdent.
#[derive(Clone, Debug)]
pub struct Pasient {
    pub pid: u64,
    pub fid: String,
    pub services: Vec<Tjeneste>,
}

/// What the pair says in its heads.
#[derive(Clone, Debug)]
pub struct Extract {
    pub municipality: &'static str,
    /// The namespace's year (`iplos/<year>`).
    pub namespace_year: i32,
    pub period: (&'static str, &'static str),
    pub running_number: u32,
    pub latin1: bool,
    pub contact: &'static str,
    pub vendor: &'static str,
    pub persons: Vec<Pasient>,
}

impl Extract {
    pub fn new(persons: Vec<Pasient>) -> Extract {
        Extract {
            municipality: "4601",
            namespace_year: 2026,
            period: ("20260101", "20261231"),
            running_number: 1,
            latin1: false,
            contact: "Kari Nordmann",
            vendor: "Test-EPJ AS",
            persons,
        }
    }

    pub fn fagmelding(&self) -> String {
        let mut x = String::new();
        let encoding = if self.latin1 { "ISO-8859-1" } else { "UTF-8" };
        let _ = writeln!(x, r#"<?xml version="1.0" encoding="{encoding}"?>"#);
        let _ = writeln!(
            x,
            r#"<IPLOS xmlns="http://www.npr.no/xmlstds/iplos/{}" versjon="3.7">"#,
            self.namespace_year
        );
        let _ = writeln!(
            x,
            "  <INNHINFO>\n    <iiInnhType>P</iiInnhType>\n    <iiKomnr>{}</iiKomnr>\n    <iiBydelsnr>00</iiBydelsnr>",
            self.municipality
        );
        for kind in [1, 2] {
            let _ = writeln!(
                x,
                "    <iiKontakt>\n      <Type>{kind}</Type>\n      <Navn>{}</Navn>\n      <Telefon>55 00 00 0{kind}</Telefon>\n      <Epost>iplos@example.invalid</Epost>\n    </iiKontakt>",
                self.contact
            );
        }
        let _ = writeln!(
            x,
            "    <iiFraDato>{}</iiFraDato>\n    <iiTilDato>{}</iiTilDato>\n    <iiLagetDato>20261207</iiLagetDato>\n    <iiSysID>TESTEPJ</iiSysID>\n    <iiSysVersjon>9.1</iiSysVersjon>\n    <iiLopenr>{}</iiLopenr>\n  </INNHINFO>",
            self.period.0, self.period.1, self.running_number
        );
        for person in &self.persons {
            let id = person.pid;
            let _ = writeln!(
                x,
                "  <PERSON pePeID=\"{id}\">\n    <peAlder>84</peAlder>\n    <peKjonn>K</peKjonn>\n    <peKomnr>{}</peKomnr>\n    <peBydelsnr>00</peBydelsnr>",
                self.municipality
            );
            for (n, service) in person.services.iter().enumerate() {
                let decision = service
                    .decision
                    .map(|(id, nr)| format!(r#" tjVeID="{id}" tjVeNrID="{nr}""#))
                    .unwrap_or_default();
                let _ = writeln!(
                    x,
                    "    <TJENESTE tjPeID=\"{id}\" tjTjID=\"{}\"{decision}>\n      <tjTjenType>{}</tjTjenType>\n      <tjVedtDato>20251220</tjVedtDato>\n      <tjVedtak>2</tjVedtak>",
                    n + 1,
                    service.code
                );
                if let Some(hours) = service.hours {
                    let _ = writeln!(x, "      <tjTimerUke>{hours}</tjTimerUke>");
                }
                if let Some(orgnr) = service.orgnr {
                    let _ = writeln!(x, "      <tjInstOrgnr>{orgnr}</tjInstOrgnr>");
                }
                let _ = writeln!(x, "      <tjFraDato>{}</tjFraDato>", service.start);
                if let Some(end) = service.end {
                    let _ = writeln!(x, "      <tjTilDato>{end}</tjTilDato>");
                }
                let _ = writeln!(x, "    </TJENESTE>");
            }
            let _ = writeln!(x, "  </PERSON>");
        }
        x.push_str("</IPLOS>\n");
        x
    }

    pub fn identmelding(&self) -> String {
        let mut x = String::new();
        let encoding = if self.latin1 { "ISO-8859-1" } else { "UTF-8" };
        let iso = |d: &str| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]);
        let _ = writeln!(x, r#"<?xml version="1.0" encoding="{encoding}"?>"#);
        let _ = writeln!(
            x,
            r#"<Melding xmlns="http://www.npr.no/xmlstds/53_1_3_ide" versjon="53.1.3" meldingstype="B" fraDatoPeriode="{}" tilDatoPeriode="{}" uttakDato="2026-12-07" leverandor="{}" navnEPJ="TestEPJ" versjonEPJ="9.1" versjonUt="9.1" lopenr="{}">"#,
            iso(self.period.0),
            iso(self.period.1),
            self.vendor,
            self.running_number
        );
        let _ = writeln!(
            x,
            r#"  <Kontaktperson kontPerson="{}" meldEpost1="iplos@example.invalid" typeKontaktperson="16"/>"#,
            self.contact
        );
        let _ = writeln!(x, r#"  <Institusjon institusjonID="964338531">"#);
        for person in &self.persons {
            let _ = writeln!(
                x,
                r#"    <PasientIdent pid="{}" fid="{}" typeID="1"/>"#,
                person.pid, person.fid
            );
        }
        x.push_str("  </Institusjon>\n</Melding>\n");
        x
    }

    /// Writes both files into `dir` under EPJ-like names that say nothing of which is which.
    pub fn write(&self, dir: &Path, stem: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let encode = |text: String| -> Vec<u8> {
            if self.latin1 {
                text.chars()
                    .map(|c| u8::try_from(u32::from(c)).unwrap())
                    .collect()
            } else {
                text.into_bytes()
            }
        };
        std::fs::write(
            dir.join(format!("{stem}-a.xml")),
            encode(self.identmelding()),
        )
        .unwrap();
        std::fs::write(dir.join(format!("{stem}-b.xml")), encode(self.fagmelding())).unwrap();
    }
}

/// Makes the files `names` in `dir` look written `ago`: older than a settle time, or older
/// than a pair written after them.
pub fn backdate(dir: &Path, names: &[&str], ago: std::time::Duration) {
    let then = std::time::SystemTime::now() - ago;
    for name in names {
        std::fs::File::options()
            .write(true)
            .open(dir.join(name))
            .and_then(|file| file.set_modified(then))
            .unwrap();
    }
}
