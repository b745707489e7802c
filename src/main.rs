//! The `kpr-bridge` command: parses arguments and calls the library. Exit codes: 0 ok,
//! 1 findings or failures, 2 unusable input or arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Datelike;
use clap::{Parser, Subcommand, ValueEnum};

use kpr_bridge::generate::{self, OutputEncoding};
use kpr_bridge::inspect;
use kpr_bridge::mapping::Mapping;

#[derive(Parser)]
#[command(
    name = "kpr-bridge",
    version,
    about = "Reads a municipality's EPJ data, checks it, and delivers it to KPR"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a realistic synthetic EPJ extract (synthetic identity numbers only).
    Generate {
        /// How many persons.
        #[arg(long)]
        persons: u64,
        /// Same seed, same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory to write the extract to.
        #[arg(long)]
        out: PathBuf,
        /// Reporting year the data is centred on.
        #[arg(long, default_value_t = 2025)]
        year: i32,
        /// Municipality writing the extract (four digits, kept as text).
        #[arg(long, default_value = "4601")]
        municipality: String,
        #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
        encoding: Encoding,
    },
    /// Read and map an extract; print counts per national code, unmapped types and problems.
    Inspect {
        /// The extract directory (with persons.csv, services.csv, … and READY).
        extract_dir: PathBuf,
        /// The mapping file, such as mappings/sample-epj.toml.
        #[arg(long)]
        mapping: PathBuf,
        /// Reporting year whose mapping rules apply (default: this year in Europe/Oslo).
        #[arg(long)]
        year: Option<i32>,
        /// How many problems to list (all are counted).
        #[arg(long, default_value_t = 50)]
        max_problems: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Encoding {
    #[value(name = "utf-8")]
    Utf8,
    #[value(name = "windows-1252")]
    Windows1252,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(match cli.command {
        Command::Generate {
            persons,
            seed,
            out,
            year,
            municipality,
            encoding,
        } => {
            if !kpr_bridge::model::municipalities::municipalities()
                .is_valid_in_year(&municipality, year)
            {
                eprintln!(
                    "error: --municipality {}",
                    kpr_bridge::model::municipalities::municipalities()
                        .explain_invalid(&municipality, year)
                );
                return ExitCode::from(2);
            }
            let options = generate::Options {
                persons,
                seed,
                year,
                municipality,
                encoding: match encoding {
                    Encoding::Utf8 => OutputEncoding::Utf8,
                    Encoding::Windows1252 => OutputEncoding::Windows1252,
                },
            };
            match generate::generate(&out, &options) {
                Ok(made) => {
                    println!(
                        "Wrote {} persons, {} services, {} assessment rows, {} diagnoses, {} attributes to {}",
                        made.persons,
                        made.services,
                        made.assessments,
                        made.diagnoses,
                        made.attributes,
                        out.display()
                    );
                    0
                }
                Err(e) => {
                    eprintln!(
                        "error: cannot write the extract to {}: {e} — check the path and free space",
                        out.display()
                    );
                    2
                }
            }
        }
        Command::Inspect {
            extract_dir,
            mapping,
            year,
            max_problems,
        } => {
            let mapping = match Mapping::load(&mapping) {
                Ok(mapping) => mapping,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let year = year.unwrap_or_else(|| {
                chrono::Utc::now()
                    .with_timezone(&chrono_tz::Europe::Oslo)
                    .year()
            });
            match inspect::inspect(&extract_dir, &mapping, year) {
                Ok(inspection) => {
                    print!(
                        "{}",
                        inspect::render(&inspection, &extract_dir, &mapping, max_problems)
                    );
                    inspection.exit_code()
                }
                Err(problem) => {
                    eprintln!("error: {problem}");
                    2
                }
            }
        }
    })
}
