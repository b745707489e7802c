//! `kpr-bridge generate`: a realistic synthetic EPJ extract for tests, demos and benchmarks.
//!
//! Same seed, same bytes: every random choice comes from one seeded ChaCha stream in a fixed
//! order. Memory does not grow with the number of persons: each person is written as soon as
//! it is made, and the only state is one counter per birth date (bounded by the calendar),
//! which keeps the synthetic identity numbers unique.

mod vocabulary;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{Datelike, Days, NaiveDate};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::model::{ident, municipalities::municipalities, orgnr};
use crate::source::RecordKind;
use crate::source::extract::{READY, file_name};
pub use vocabulary::LOCAL_TYPES;
use vocabulary::{Duration, LocalType, Provider};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputEncoding {
    Utf8,
    Windows1252,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub persons: u64,
    pub seed: u64,
    /// The reporting year the data is centred on.
    pub year: i32,
    /// The municipality that writes the extract, four digits.
    pub municipality: String,
    pub encoding: OutputEncoding,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Generated {
    pub persons: u64,
    pub services: u64,
    /// Rows in services.csv: a service with several pauses takes one row per pause.
    pub service_rows: u64,
    pub assessments: u64,
    pub diagnoses: u64,
    pub attributes: u64,
}

/// Writes an extract to `out` (created if needed). `READY` is written last, and removed first
/// if the directory held an earlier extract, so a watcher never takes a half-written one.
pub fn generate(out: &Path, options: &Options) -> io::Result<Generated> {
    fs::create_dir_all(out)?;
    match fs::remove_file(out.join(READY)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut writer = ExtractWriter::create(out, options.encoding)?;
    let mut generator = Generator::new(options);
    for index in 0..options.persons {
        generator.person(index, &mut writer)?;
    }
    writer.finish()?;
    File::create(out.join(READY))?.sync_all()?;
    Ok(writer.counts)
}

struct ExtractWriter {
    persons: BufWriter<File>,
    services: BufWriter<File>,
    assessments: BufWriter<File>,
    diagnoses: BufWriter<File>,
    attributes: BufWriter<File>,
    encoding: OutputEncoding,
    counts: Generated,
    line: String,
}

impl ExtractWriter {
    fn create(out: &Path, encoding: OutputEncoding) -> io::Result<ExtractWriter> {
        let open = |kind: RecordKind, header: &str| -> io::Result<BufWriter<File>> {
            let mut file =
                BufWriter::with_capacity(256 * 1024, File::create(out.join(file_name(kind)))?);
            writeln!(file, "{header}")?;
            Ok(file)
        };
        Ok(ExtractWriter {
            persons: open(
                RecordKind::Persons,
                "person_id;ident;name;birth_year;gender;municipality;district;household",
            )?,
            services: open(
                RecordKind::Services,
                "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to",
            )?,
            assessments: open(
                RecordKind::Assessments,
                "person_id;assessed_on;variable;score",
            )?,
            diagnoses: open(RecordKind::Diagnoses, "person_id;system;code;registered_on")?,
            attributes: open(RecordKind::Attributes, "person_id;kind;from_date;to_date")?,
            encoding,
            counts: Generated::default(),
            line: String::new(),
        })
    }

    /// Writes the line built in `self.line` to `file`, encoded as asked.
    fn emit(&mut self, file: FileKind) -> io::Result<()> {
        self.line.push('\n');
        let target = match file {
            FileKind::Persons => (&mut self.persons, &mut self.counts.persons),
            FileKind::Services => (&mut self.services, &mut self.counts.service_rows),
            FileKind::Assessments => (&mut self.assessments, &mut self.counts.assessments),
            FileKind::Diagnoses => (&mut self.diagnoses, &mut self.counts.diagnoses),
            FileKind::Attributes => (&mut self.attributes, &mut self.counts.attributes),
        };
        match self.encoding {
            OutputEncoding::Utf8 => target.0.write_all(self.line.as_bytes())?,
            OutputEncoding::Windows1252 => target
                .0
                .write_all(&encoding_rs::WINDOWS_1252.encode(&self.line).0)?,
        }
        *target.1 += 1;
        self.line.clear();
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        for file in [
            &mut self.persons,
            &mut self.services,
            &mut self.assessments,
            &mut self.diagnoses,
            &mut self.attributes,
        ] {
            file.flush()?;
            file.get_ref().sync_all()?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum FileKind {
    Persons,
    Services,
    Assessments,
    Diagnoses,
    Attributes,
}

struct Generator {
    rng: ChaCha8Rng,
    year: i32,
    municipality: String,
    districts: Vec<String>,
    other_municipalities: Vec<String>,
    providers: Vec<String>,
    /// Next individual number to try per birth date: keeps identity numbers unique.
    next_individual: HashMap<NaiveDate, u32>,
    type_weights: u32,
    next_service: u64,
}

impl Generator {
    fn new(options: &Options) -> Generator {
        let register = municipalities();
        let mut districts: Vec<String> = (1..=99)
            .map(|n| format!("{}{n:02}", options.municipality))
            .filter(|d| {
                register
                    .district(d)
                    .is_some_and(|d| !d.name.starts_with("Uoppgitt"))
            })
            .collect();
        districts.sort();
        let other_municipalities = register
            .valid_in_year(options.year)
            .into_iter()
            .filter(|m| *m != options.municipality)
            .map(str::to_string)
            .collect();
        let providers = (0..40u32)
            .filter_map(|k| orgnr::with_check_digit(91_000_000 + k * 7_919))
            .take(12)
            .collect();
        Generator {
            rng: ChaCha8Rng::seed_from_u64(options.seed),
            year: options.year,
            municipality: options.municipality.clone(),
            districts,
            other_municipalities,
            providers,
            next_individual: HashMap::new(),
            type_weights: LOCAL_TYPES.iter().map(|t| t.weight).sum(),
            next_service: 1,
        }
    }

    fn year_start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, 1, 1).unwrap_or(NaiveDate::MIN)
    }

    fn chance(&mut self, percent: u32) -> bool {
        self.rng.random_range(0..100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    fn index(&mut self, len: usize) -> usize {
        self.rng.random_range(0..len)
    }

    fn day_in_year(&mut self, year: i32) -> NaiveDate {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
        first + Days::new(self.rng.random_range(0..365))
    }

    fn person(&mut self, index: u64, w: &mut ExtractWriter) -> io::Result<()> {
        let person_id = 10_000_000 + index;
        // Most people with municipal care are old; some are children and younger adults.
        let age = match self.rng.random_range(0..100) {
            0..8 => self.rng.random_range(0..18),
            8..28 => self.rng.random_range(18..67),
            _ => self.rng.random_range(67..101),
        };
        let (ident, birth, male) = self.identity(self.year - age);
        let name = if index % 2_500 == 1_234 {
            self.pick(vocabulary::TEST_USER_NAMES).to_string()
        } else {
            let first = if male {
                self.pick(vocabulary::MALE_NAMES)
            } else {
                self.pick(vocabulary::FEMALE_NAMES)
            };
            format!("{first} {}", self.pick(vocabulary::SURNAMES))
        };
        let (municipality, district) = if self.chance(3) {
            let i = self.index(self.other_municipalities.len());
            (self.other_municipalities[i].clone(), String::new())
        } else if self.districts.is_empty() {
            (self.municipality.clone(), String::new())
        } else {
            let i = self.index(self.districts.len());
            (self.municipality.clone(), self.districts[i].clone())
        };
        let household = if age >= 67 && self.chance(60) {
            "alone"
        } else {
            "with_others"
        };
        w.line = format!(
            "{person_id};{ident};{name};{};{};{municipality};{district};{household}",
            birth.year(),
            if male { "M" } else { "K" }
        );
        w.emit(FileKind::Persons)?;

        let services = match self.rng.random_range(0..100) {
            0..45 => 1,
            45..75 => 2,
            75..90 => 3,
            90..96 => 4,
            _ => self.rng.random_range(5..8),
        };
        for _ in 0..services {
            self.service(person_id, w)?;
        }
        if self.chance(85) {
            self.assessment(person_id, age, self.year, w)?;
            if self.chance(12) {
                self.assessment(person_id, age, self.year - 1, w)?;
            }
        }
        self.diagnoses(person_id, w)?;
        self.attributes(person_id, w)
    }

    /// A unique synthetic identity number (month + 80) born in `year`.
    fn identity(&mut self, year: i32) -> (String, NaiveDate, bool) {
        loop {
            let birth = self.day_in_year(year);
            let (first, last) = if birth.year() >= 2000 {
                (500, 999)
            } else {
                (0, 499)
            };
            let next = self.next_individual.entry(birth).or_insert(first);
            while *next <= last {
                let individual = *next;
                *next += 1;
                if let Some(ident) = ident::synthetic(birth, individual) {
                    return (ident, birth, individual % 2 == 1);
                }
            }
            // Every number of that day is used: try another day.
        }
    }

    fn local_type(&mut self) -> &'static LocalType {
        let mut roll = self.rng.random_range(0..self.type_weights);
        for local_type in LOCAL_TYPES {
            if roll < local_type.weight {
                return local_type;
            }
            roll -= local_type.weight;
        }
        &LOCAL_TYPES[0]
    }

    fn service(&mut self, person_id: u64, w: &mut ExtractWriter) -> io::Result<()> {
        let local_type = self.local_type();
        let service_id = 50_000_000 + self.next_service;
        self.next_service += 1;
        w.counts.services += 1;
        let year_start = self.year_start();

        if self.chance(3) {
            let decided = self.day_in_year(self.year);
            w.line = format!(
                "{service_id};{person_id};{};refused;{decided};;;;;;",
                local_type.code
            );
            return w.emit(FileKind::Services);
        }
        let (start, end) = match local_type.duration {
            Duration::Long => {
                let start = year_start - Days::new(self.rng.random_range(0..5 * 365));
                let end = self.chance(30).then(|| {
                    let latest = (self.year_start() + Days::new(364) - start)
                        .num_days()
                        .max(1) as u64;
                    start + Days::new(self.rng.random_range(30..latest.max(31)))
                });
                (start, end)
            }
            Duration::Medium => {
                let start = year_start + Days::new(self.rng.random_range(0..365)) - Days::new(60);
                (
                    start,
                    Some(start + Days::new(self.rng.random_range(21..120))),
                )
            }
            Duration::Days(min, max) => {
                let start = year_start + Days::new(self.rng.random_range(0..380)) - Days::new(14);
                (
                    start,
                    Some(start + Days::new(u64::from(self.rng.random_range(min..=max)))),
                )
            }
        };
        let decided = start - Days::new(self.rng.random_range(0..30));
        let hours = local_type.hours.map_or(String::new(), |(min, max)| {
            let quarter_hours = self.rng.random_range(min * 4..=max * 4);
            format!("{},{:02}", quarter_hours / 4, (quarter_hours % 4) * 25).replace(",00", "")
        });
        let named = match local_type.provider {
            Provider::Always => true,
            Provider::Sometimes => self.chance(50),
            Provider::Never => false,
        };
        let provider = if named {
            let i = self.index(self.providers.len());
            self.providers[i].clone()
        } else {
            String::new()
        };
        let end_text = end.map_or(String::new(), |e| e.to_string());
        let head = format!(
            "{service_id};{person_id};{};granted;{decided};{start};{end_text};{hours};{provider}",
            local_type.code
        );

        let mut pauses = Vec::new();
        if local_type.at_home && self.chance(7) {
            let last_day = end.unwrap_or(year_start + Days::new(364)).max(start);
            let mut from = start;
            for _ in 0..if self.chance(15) { 2 } else { 1 } {
                let room = (last_day - from).num_days();
                if room < 10 {
                    break;
                }
                from = from + Days::new(self.rng.random_range(1..room as u64 / 2));
                let length = self
                    .rng
                    .random_range(3..21)
                    .min((last_day - from).num_days() as u64);
                let to = from + Days::new(length);
                pauses.push(format!("{from};{to}"));
                from = to + Days::new(1);
            }
        }
        if pauses.is_empty() {
            pauses.push(";".to_string());
        }
        // A service with several pauses is written as one row per pause (docs/export-format.md).
        for pause in pauses {
            w.line = format!("{head};{pause}");
            w.emit(FileKind::Services)?;
        }
        Ok(())
    }

    fn assessment(
        &mut self,
        person_id: u64,
        age: i32,
        year: i32,
        w: &mut ExtractWriter,
    ) -> io::Result<()> {
        let assessed = self.day_in_year(year);
        // Need grows with age; each variable varies around the person's level.
        let level = (1 + age / 25).clamp(1, 4);
        for variable in crate::model::assessment::AssessmentVariables::builtin().all() {
            let score = if self.chance(4) {
                9
            } else {
                (level + self.rng.random_range(-1..=1)).clamp(1, 5)
            };
            w.line = format!("{person_id};{assessed};{};{score}", variable.code);
            w.emit(FileKind::Assessments)?;
        }
        Ok(())
    }

    fn diagnoses(&mut self, person_id: u64, w: &mut ExtractWriter) -> io::Result<()> {
        for _ in 0..self.rng.random_range(0..4) {
            let (system, code) = if self.chance(10) {
                ("ICD10", *self.pick(vocabulary::COMMON_ICD10))
            } else {
                ("ICPC2", *self.pick(vocabulary::COMMON_ICPC2))
            };
            let years_ago = self.rng.random_range(0..4);
            let registered = self.day_in_year(self.year - years_ago);
            w.line = format!("{person_id};{system};{code};{registered}");
            w.emit(FileKind::Diagnoses)?;
        }
        Ok(())
    }

    fn attributes(&mut self, person_id: u64, w: &mut ExtractWriter) -> io::Result<()> {
        for (kind, percent) in [
            ("doctor_assessment", 40),
            ("dental_assessment", 15),
            ("individual_plan", 8),
            ("coordinator", 6),
            ("rehab_outside_institution", 3),
        ] {
            if self.chance(percent) {
                let years_ago = self.rng.random_range(0..2);
                let from = self.day_in_year(self.year - years_ago);
                let to = if kind == "rehab_outside_institution" || self.chance(20) {
                    (from + Days::new(self.rng.random_range(28..120))).to_string()
                } else {
                    String::new()
                };
                w.line = format!("{person_id};{kind};{from};{to}");
                w.emit(FileKind::Attributes)?;
            }
        }
        Ok(())
    }
}
