//! `kpr-bridge demo`: the whole pipeline on synthetic data, in one process, on a machine with
//! no broker, no database server, no configuration and no `openssl` tool.
//!
//! In a directory of its own it makes test certificates, writes the municipality's and the
//! test receiver's configurations, generates an extract, and then runs the commands as an
//! operator would — `check` with its HTML report, `daily --initial` on one date, a change in
//! the extract, `daily` on the next date, `annual` for 2025 to KPR Validering — each through
//! the same library function the command runs. Messages go out through the spool transport;
//! the local KPR test receiver answers them in-process from the spool; the receipts come back
//! through the receipts spool. It ends with a summary, and exits 0 when every message was
//! delivered.
//!
//! With `--iplos` the daily part reads what every EPJ already writes instead: each night
//! the demo's EPJ writes its IPLOS 3.7 extract for the current year (fagmelding +
//! identmelding, as the annual message is written) into a directory, and `daily` reads it
//! through a source of kind `iplos`.
//!
//! The dates are fixed: the data is centred on 2025 (the last annual year) with services
//! still running into January 2026, when daily reporting began; both daily dates are in the
//! past, as `daily` requires.

pub mod change;
mod directory;
mod setup;
mod summary;

use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

use crate::commands::{annual, check, daily};
use crate::config::Config;
use crate::config::receiver::{ReceiverConfig, ReceiverTransport};
use crate::crypto::test_certificates;
use crate::generate::{self, OutputEncoding};
use crate::i18n::Language;
use crate::inbox::Taken;
use crate::model::register::Target;
use crate::receiver::Receiver;
use crate::shipping::Shipping;
use crate::t;
use summary::{Facts, Step};

/// The synthetic municipality: a few hundred persons, always the same ones.
const PERSONS: u64 = 300;
const SEED: u64 = 2025;
/// The annual message's year: the last the register takes.
const ANNUAL_YEAR: i32 = annual::LAST_ANNUAL_YEAR;
/// How long the test certificates are valid.
const CERTIFICATE_DAYS: u32 = 365;

/// The first daily run's date (`--initial`), and the next day's.
fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).expect("a date")
}

fn second_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 6).expect("a date")
}

/// Runs the demo in `dir` (default: a new directory under the temporary directory).
/// Exit code: 0 when every message was delivered, 1 otherwise, 2 when `dir` is unusable.
pub async fn demo(dir: Option<&Path>, iplos: bool) -> u8 {
    // The demo's configuration does not choose: it speaks the default language.
    let lang = Language::default();
    let dir = match directory::prepare(dir) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("{}", t!(lang, "demo-error", why = e.to_string()));
            return 2;
        }
    };
    println!("{}", t!(lang, "demo-in", dir = dir.display().to_string()));
    println!("{}\n", t!(lang, "demo-synthetic", count = PERSONS));
    let mut demo = Demo {
        dir,
        steps: Vec::new(),
        iplos,
        lang,
    };
    match demo.run().await {
        Ok(code) => code,
        Err(Stopped(why)) => {
            let lang = demo.lang;
            eprintln!("{}", t!(lang, "demo-error", why = why));
            eprintln!(
                "{}",
                t!(lang, "demo-stopped", dir = demo.dir.display().to_string())
            );
            1
        }
    }
}

/// Why the demo cannot go on: a step whose input is the demo's own failed.
struct Stopped(String);

struct Demo {
    dir: PathBuf,
    steps: Vec<Step>,
    /// The daily part reads the EPJ's IPLOS extract.
    iplos: bool,
    /// What it prints in: the language of the demo's configuration.
    lang: Language,
}

impl Demo {
    fn step(&mut self, name: String, result: String) {
        self.steps.push(Step { name, result });
    }

    fn heading(number: u32, title: &str) {
        println!("\n── {number}. {title} ──");
    }

    async fn run(&mut self) -> Result<u8, Stopped> {
        let lang = self.lang;
        Demo::heading(1, &t!(lang, "demo-certificates"));
        let certificates = self.dir.join(setup::CERTIFICATES);
        test_certificates::make(&certificates, CERTIFICATE_DAYS)
            .map_err(|e| Stopped(e.to_string()))?;
        let shown = certificates.display().to_string();
        println!(
            "{}",
            t!(lang, "demo-certificates.made", dir = shown.clone())
        );
        self.step(
            t!(lang, "demo-certificates"),
            t!(lang, "demo-certificates.step", dir = shown),
        );

        Demo::heading(2, &t!(lang, "demo-configuration"));
        let written = setup::write(&self.dir).map_err(|e| {
            Stopped(t!(
                lang,
                "demo-cannot-write-configuration",
                dir = self.dir.display().to_string(),
                why = e.to_string()
            ))
        })?;
        let config = Config::load(&written.municipality).map_err(|e| Stopped(e.to_string()))?;
        self.lang = config.language;
        let lang = self.lang;
        let receiver = open_receiver(&written.receiver)?;
        println!(
            "{}",
            t!(
                lang,
                "demo-configuration.written",
                municipality = written.municipality.display().to_string(),
                receiver = written.receiver.display().to_string()
            )
        );
        self.step(
            t!(lang, "demo-configuration"),
            t!(lang, "demo-configuration.step"),
        );

        Demo::heading(3, &t!(lang, "demo-extract"));
        let extract = self.dir.join(setup::EXTRACT);
        let options = generate::Options {
            persons: PERSONS,
            seed: SEED,
            year: ANNUAL_YEAR,
            municipality: config.municipality.clone(),
            encoding: OutputEncoding::Utf8,
        };
        let made = generate::generate(&extract, &options).map_err(|e| {
            Stopped(t!(
                lang,
                "demo-cannot-write-extract",
                dir = extract.display().to_string(),
                why = e.to_string()
            ))
        })?;
        let made = t!(
            lang,
            "demo-extract.made",
            persons = made.persons,
            services = made.services,
            dir = extract.display().to_string()
        );
        println!("{made}");
        self.step(t!(lang, "demo-extract.step"), made);

        Demo::heading(4, &format!("check {ANNUAL_YEAR}"));
        let report = self.dir.join(setup::REPORT);
        let code = check::check(
            &written.municipality,
            ANNUAL_YEAR,
            Some(report.clone()),
            false,
            5,
        );
        self.command("check", code, &t!(lang, "demo-check-errors"))?;

        let daily_config = match self.iplos {
            true => written.iplos.clone(),
            false => written.municipality.clone(),
        };
        if self.iplos {
            self.export_iplos(&config, 1)?;
        }
        Demo::heading(5, &format!("daily {} --initial", first_day()));
        let code = daily::daily(daily::DailyArgs {
            config: &daily_config,
            date: Some(first_day()),
            initial: Some(crate::daily::capture::default_since()),
            dry_run: None,
        })
        .await;
        self.command(
            &format!("daily {}", first_day()),
            code,
            &t!(lang, "demo-daily-held-back"),
        )?;
        self.answer(&receiver, &config).await?;

        Demo::heading(6, &t!(lang, "demo-change-heading"));
        let mapping = crate::check_run::load_mapping(&config.sources[0])
            .map_err(|e| Stopped(e.to_string()))?;
        let change = change::apply(&extract, second_day(), &mapping, &config.daily)
            .map_err(|e| Stopped(e.to_string()))?;
        let change = change.text(lang);
        println!(
            "{}",
            t!(
                lang,
                "demo-change-on",
                date = lang.date(second_day()),
                change = change.clone()
            )
        );
        self.step(t!(lang, "demo-change-step"), change);
        if self.iplos {
            self.export_iplos(&config, 2)?;
        }

        Demo::heading(7, &format!("daily {}", second_day()));
        let code = daily::daily(daily::DailyArgs {
            config: &daily_config,
            date: Some(second_day()),
            initial: None,
            dry_run: None,
        })
        .await;
        self.command(
            &format!("daily {}", second_day()),
            code,
            &t!(lang, "demo-daily-held-back"),
        )?;
        self.answer(&receiver, &config).await?;

        Demo::heading(
            8,
            &t!(lang, "demo-annual-heading", year = ANNUAL_YEAR.to_string()),
        );
        println!("{}", t!(lang, "demo-annual-heading.how"));
        let outcome = annual::run(annual::AnnualArgs {
            config: &written.municipality,
            year: ANNUAL_YEAR,
            target: Target::Validation,
            dry_run: None,
            yes: true,
            force: false,
            allow_errors: true,
            schema_ipl: None,
            schema_ide: None,
        })
        .await;
        self.command(&format!("annual {ANNUAL_YEAR}"), outcome.code, "")?;
        self.answer(&receiver, &config).await?;

        let shipping = open_shipping(&config).await?;
        let facts = Facts {
            lang,
            steps: &self.steps,
            annual_year: ANNUAL_YEAR,
            annual: outcome.summary.as_ref(),
            report: &report,
        };
        let code = summary::print(&shipping.store, &facts).await;
        shipping.store.close().await;
        code.map_err(|e| Stopped(e.to_string()))
    }

    /// The demo's EPJ writes its IPLOS extract of the daily year, as it would each night:
    /// what the annual message would carry, from the extract as it stands.
    fn export_iplos(&mut self, config: &Config, night: u32) -> Result<(), Stopped> {
        let year = first_day().year();
        let data = crate::annual::year::Year::read(config, year);
        let header = crate::annual::ship::header(
            config,
            &data,
            chrono::Utc::now(),
            night,
            crate::message::iplos37::namespace(year),
        );
        let dir = self.dir.join(setup::IPLOS_EXPORT);
        std::fs::create_dir_all(&dir).map_err(|e| Stopped(format!("{}: {e}", dir.display())))?;
        let persons = &data.assembled.persons;
        crate::annual::ship::write_messages(
            persons,
            &header,
            data.variables.clone(),
            &dir.join(format!("epj-{year}-night{night}-fag.xml")),
            &dir.join(format!("epj-{year}-night{night}-ident.xml")),
        )
        .map_err(|e| Stopped(e.to_string()))?;
        let lang = self.lang;
        let made = t!(
            lang,
            "demo-iplos-made",
            night = night,
            year = year.to_string(),
            persons = persons.len(),
            dir = dir.display().to_string()
        );
        println!("{made}");
        self.step(t!(lang, "demo-iplos-step", night = night), made);
        Ok(())
    }

    /// Notes a command's exit code: 2 (its input unusable) stops the demo, whose input it is.
    fn command(&mut self, name: &str, code: u8, one: &str) -> Result<(), Stopped> {
        let lang = self.lang;
        let result = match code {
            0 => t!(lang, "demo-exit-0"),
            1 if !one.is_empty() => t!(lang, "demo-exit-1-because", why = one.to_string()),
            1 => t!(lang, "demo-exit-1"),
            _ => {
                return Err(Stopped(t!(
                    lang,
                    "demo-unusable-input",
                    command = name.to_string(),
                    code = code.to_string()
                )));
            }
        };
        self.step(name.to_string(), result);
        Ok(())
    }

    /// The test receiver answers what the spool holds; the municipality takes the answers.
    async fn answer(&mut self, receiver: &Receiver, config: &Config) -> Result<(), Stopped> {
        let ReceiverTransport::Spool { incoming, answers } = &receiver.config.transport else {
            return Err(Stopped(t!(self.lang, "demo-receiver-not-spool")));
        };
        let answered = receiver
            .answer_spool(incoming, answers)
            .await
            .map_err(|e| Stopped(e.to_string()))?;
        let shipping = open_shipping(config).await?;
        let collected = shipping.collect().await;
        shipping.store.close().await;
        let taken = collected.map_err(|e| Stopped(e.to_string()))?.taken;
        let receipts = taken
            .iter()
            .filter(|t| matches!(t, Taken::Receipt { .. }))
            .count();
        let lang = self.lang;
        let result = t!(
            lang,
            "demo-answered",
            answered = answered,
            receipts = receipts,
            other = taken.len() - receipts
        );
        println!("{result}");
        self.step(format!("  {}", t!(lang, "demo-answered.step")), result);
        Ok(())
    }
}

fn open_receiver(file: &Path) -> Result<Receiver, Stopped> {
    let config = ReceiverConfig::load(file).map_err(|e| Stopped(e.to_string()))?;
    let (receiver, warnings) = Receiver::open(config).map_err(|e| Stopped(e.to_string()))?;
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    Ok(receiver)
}

async fn open_shipping(config: &Config) -> Result<Shipping, Stopped> {
    Shipping::open(config.clone())
        .await
        .map_err(|e| Stopped(e.to_string()))
}
