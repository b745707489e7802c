//! The `kpr-bridge` command: parses arguments and calls the library. Exit codes: 0 ok,
//! 1 findings or failures, 2 unusable input or arguments.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Datelike, NaiveDate};
use clap::{Parser, Subcommand, ValueEnum};

use kpr_bridge::cluster::replica::ReplicaOptions;
use kpr_bridge::cluster::tenants::Tenants;
use kpr_bridge::commands::{admin, annual, backup, chain, check, daily, delivery, resend, status};
use kpr_bridge::config::Config;
use kpr_bridge::config::agent::LogFormat;
use kpr_bridge::generate::{self, OutputEncoding};
use kpr_bridge::inspect;
use kpr_bridge::mapping::Mapping;
use kpr_bridge::model::register::Target;

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
    /// Read every configured source, map it and check it the way the register will.
    Check {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// Reporting year (default: this year in Europe/Oslo).
        #[arg(long)]
        year: Option<i32>,
        /// Also write a self-contained HTML report to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Print one JSON object to stdout instead of the table.
        #[arg(long)]
        json: bool,
        /// How many reading problems to list per source (all are counted).
        #[arg(long, default_value_t = 20)]
        max_problems: usize,
    },
    /// Capture the day's changes, ship them as the register's daily notifications (HIS 1135), send.
    Daily {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// The reporting date, YYYY-MM-DD (default: yesterday in Europe/Oslo).
        #[arg(long)]
        date: Option<NaiveDate>,
        /// The first run, the initial load: every service active on --since and every event
        /// from then to --date.
        #[arg(long)]
        initial: bool,
        /// The initial load's start date, YYYY-MM-DD (default 2026-01-01).
        #[arg(long, requires = "initial")]
        since: Option<NaiveDate>,
        /// Write the messages to --out and commit nothing.
        #[arg(long, requires = "out")]
        dry_run: bool,
        /// The directory for a dry run's messages.
        #[arg(long, requires = "dry_run")]
        out: Option<PathBuf>,
    },
    /// Send daily notifications again, exactly as first sent, in new messages (choose one way).
    #[command(group(
        clap::ArgGroup::new("selector")
            .required(true)
            .args(["message", "notification", "since_date", "since_number", "between_dates", "between_numbers", "patient"])
    ))]
    Resend {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// The notifications of one message (MsgId), such as one KPR rejected.
        #[arg(long)]
        message: Option<String>,
        /// One notification, by its GUID.
        #[arg(long)]
        notification: Option<uuid::Uuid>,
        /// Those reported on this date or later (YYYY-MM-DD).
        #[arg(long)]
        since_date: Option<NaiveDate>,
        /// Those numbered from this notifikasjonLopeNr on.
        #[arg(long)]
        since_number: Option<i64>,
        /// Those reported between two dates, both included.
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
        between_dates: Option<Vec<NaiveDate>>,
        /// Those numbered between two numbers, both included.
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
        between_numbers: Option<Vec<i64>>,
        /// One patient's, by brukerNr (the EPJ's person id).
        #[arg(long)]
        patient: Option<String>,
        /// Write the messages to --out and commit nothing.
        #[arg(long, requires = "out")]
        dry_run: bool,
        /// The directory for a dry run's messages.
        #[arg(long, requires = "dry_run")]
        out: Option<PathBuf>,
        /// Send without asking for confirmation.
        #[arg(long)]
        yes: bool,
        /// Send although a selected notification's message still awaits its receipt.
        #[arg(long)]
        force: bool,
    },
    /// The chain of daily notifications: the chain mark beside the identity key, the state
    /// store's last notification, and those missing from the store (exit 1 when it is behind).
    Chain {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// After restoring an older copy of the store: record that numbering goes on after
        /// the mark, so the register's chain stays complete, and say what was lost, for FHI
        /// (docs/runbook.md, "Backing up and restoring the state store").
        #[arg(long)]
        continue_after_mark: bool,
    },
    /// A consistent copy of the state store, with the identity key file and the chain mark,
    /// in a new directory (SQLite's online copy; PostgreSQL: pg_dump).
    Backup {
        /// A new (or empty) directory for the backup.
        #[arg(long)]
        out: PathBuf,
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Put back a copy `backup` made, after checking it against the chain mark (stop the
    /// agent first; PostgreSQL: prints the pg_restore line to run).
    Restore {
        /// The directory `backup --out` made.
        #[arg(long)]
        from: PathBuf,
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// Put back a copy older than the chain mark all the same (the daily flow then
        /// refuses until `chain --continue-after-mark`).
        #[arg(long)]
        force: bool,
    },
    /// Print an argon2 hash of a password read from the terminal, for [[admin.user]].
    AdminPassword,
    /// Show the IPLOS contacts in use, or change them (both roles at once), as the page does.
    Contacts {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// The IPLOS contact (type 16): name, e-mail and phone ("" for none).
        #[arg(long, num_args = 3, value_names = ["NAME", "EMAIL", "PHONE"], requires = "submitter")]
        contact: Option<Vec<String>>,
        /// The IPLOS submitter (type 17): name, e-mail and phone ("" for none).
        #[arg(long, num_args = 3, value_names = ["NAME", "EMAIL", "PHONE"], requires = "contact")]
        submitter: Option<Vec<String>>,
    },
    /// Print the audit log: every sign-in, re-send and change, with who and when.
    Audit {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Show one message: its history, KPR's receipts and its notifications.
    Message {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// The message's MsgId.
        msg_id: String,
    },
    /// Send the final annual message of a year (IPLOS 3.7: KPR_IDE, then KPR_IPL) after checks.
    Annual {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// The reporting year; the register takes annual messages up to 2025.
        #[arg(long)]
        year: i32,
        /// KPR's unit to send to: validation first, then production.
        #[arg(long, value_enum)]
        target: TargetArg,
        /// Write and validate the two messages in --out; send nothing.
        #[arg(long, requires = "out")]
        dry_run: bool,
        /// The directory for a dry run's messages.
        #[arg(long, requires = "dry_run")]
        out: Option<PathBuf>,
        /// Send without asking for confirmation.
        #[arg(long)]
        yes: bool,
        /// Send although an earlier message of the year and target awaits its receipt.
        #[arg(long)]
        force: bool,
        /// Send although the checks found errors; what has errors is left out.
        #[arg(long)]
        allow_errors: bool,
        /// Validate KPR_IPL against this XSD (the official one) instead of the built-in one.
        #[arg(long)]
        schema_ipl: Option<PathBuf>,
        /// Validate KPR_IDE against this XSD instead of the built-in one.
        #[arg(long)]
        schema_ide: Option<PathBuf>,
    },
    /// Run unattended: watch the extracts, capture, ship each day on the schedule, send, take
    /// receipts, answer HTTP (/health, /metrics, /status); stop on SIGTERM or SIGINT.
    Run {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long, required_unless_present = "tenants", conflicts_with = "tenants")]
        config: Option<PathBuf>,
        /// Serve many municipalities as one replica among several: every *.toml in the
        /// directory is one municipality's configuration (docs/runbook.md).
        #[arg(long, value_name = "DIR")]
        tenants: Option<PathBuf>,
        /// With --tenants: this replica's name in the leases and logs (default: host-pid).
        #[arg(long, requires = "tenants")]
        replica: Option<String>,
        /// With --tenants: where the replica answers /health, /metrics and /status, or "off".
        #[arg(long, requires = "tenants", default_value = "127.0.0.1:9464")]
        listen: String,
        /// With --tenants: where the administration page for every municipality is served,
        /// or "off" (each user sees the municipalities whose [[admin.user]] names them).
        #[arg(long, requires = "tenants", default_value = "127.0.0.1:9465")]
        admin_listen: String,
        /// With --tenants: the page's own TLS certificate chain (PEM).
        #[arg(long, requires = "admin_tls_key")]
        admin_tls_certificate: Option<PathBuf>,
        /// With --tenants: the key of --admin-tls-certificate (PEM, mode 600).
        #[arg(long, requires = "admin_tls_certificate")]
        admin_tls_key: Option<PathBuf>,
        /// With --tenants: a reverse proxy in front terminates TLS (cookies are Secure).
        #[arg(long, requires = "tenants")]
        admin_behind_tls_proxy: bool,
    },
    /// Put a ready payload in the outbox (schema-checked, enveloped, signed, encrypted) and send it.
    Send {
        /// The payload: an XML document of the given type.
        file: PathBuf,
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// The message type (MsgInfo/Type), such as KPR_IPL or KPR_IDE.
        #[arg(long = "type")]
        msg_type: String,
        /// KPR's unit to send to (default: validation in test mode, production in production mode).
        #[arg(long, value_enum)]
        target: Option<TargetArg>,
    },
    /// Take the receipts waiting on our queues, then list every outbox entry and its state.
    Receipts {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long)]
        config: PathBuf,
        /// List only; do not connect to the broker.
        #[arg(long)]
        offline: bool,
    },
    /// What needs action, what waits, and how the daily runs went (exit 1 when something needs action).
    Status {
        /// The configuration file (see ops/examples/kpr-bridge.toml).
        #[arg(long, required_unless_present = "tenants", conflicts_with = "tenants")]
        config: Option<PathBuf>,
        /// Every municipality of a multi-municipality deployment at a glance: the directory
        /// `run --tenants` serves.
        #[arg(long, value_name = "DIR")]
        tenants: Option<PathBuf>,
        /// With --tenants: the whole status of this one municipality (its number).
        #[arg(long, requires = "tenants", value_name = "NNNN")]
        municipality: Option<String>,
        /// Print one JSON object instead of the text.
        #[arg(long)]
        json: bool,
    },
    /// Run a local KPR test receiver that answers shipments with AppRecs (for dry runs).
    Receiver {
        /// The receiver's configuration file (see ops/examples/receiver.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Show the whole pipeline on synthetic data, in-process: no broker, database or configuration needed.
    Demo {
        /// The directory to work in: new, empty, or an earlier demo's (default: a new one
        /// under the temporary directory).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Run the daily part from the EPJ's IPLOS 3.7 extract (a source of kind "iplos")
        /// instead of the CSV extract.
        #[arg(long)]
        iplos: bool,
    },
    /// Read and map an extract; print counts per national code, unmapped types and problems.
    Inspect {
        /// The extract directory (with persons.csv, services.csv, … and READY), or a
        /// directory where the EPJ writes its IPLOS 3.7 extract (read where it lies).
        extract_dir: PathBuf,
        /// The mapping file, such as mappings/sample-epj.toml; an IPLOS directory needs
        /// none (its service types are the national codes).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Read the directory as an IPLOS 3.7 extract (fagmelding + identmelding); the
        /// default when it has neither READY nor persons.csv.
        #[arg(long)]
        iplos: bool,
        /// Reporting year whose mapping rules apply (default: this year in Europe/Oslo).
        #[arg(long)]
        year: Option<i32>,
        /// How many problems to list (all are counted).
        #[arg(long, default_value_t = 50)]
        max_problems: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum TargetArg {
    Validation,
    Production,
}

impl From<TargetArg> for Target {
    fn from(target: TargetArg) -> Target {
        match target {
            TargetArg::Validation => Target::Validation,
            TargetArg::Production => Target::Production,
        }
    }
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
    // The agent logs as its configuration says, once it has read it.
    if !matches!(cli.command, Command::Run { .. }) {
        init_logging(LogFormat::Human);
    }
    ExitCode::from(match cli.command {
        Command::Send {
            file,
            config,
            msg_type,
            target,
        } => run_async(delivery::send(
            &config,
            &file,
            &msg_type,
            target.map(Target::from),
        )),
        Command::Daily {
            config,
            date,
            initial,
            since,
            dry_run: _,
            out,
        } => run_async(daily::daily(daily::DailyArgs {
            config: &config,
            date,
            initial: initial
                .then(|| since.unwrap_or_else(kpr_bridge::daily::capture::default_since)),
            dry_run: out.as_deref(),
        })),
        Command::Resend {
            config,
            message,
            notification,
            since_date,
            since_number,
            between_dates,
            between_numbers,
            patient,
            dry_run: _,
            out,
            yes,
            force,
        } => {
            use kpr_bridge::daily::resend::Selector;
            let selector = if let Some(id) = message {
                Selector::Message(id)
            } else if let Some(guid) = notification {
                Selector::Notification(guid)
            } else if let Some(d) = since_date {
                Selector::SinceDate(d)
            } else if let Some(n) = since_number {
                Selector::SinceNumber(n)
            } else if let Some(dates) = between_dates {
                Selector::BetweenDates(dates[0], dates[1])
            } else if let Some(numbers) = between_numbers {
                Selector::BetweenNumbers(numbers[0], numbers[1])
            } else if let Some(user) = patient {
                Selector::Patient(user)
            } else {
                unreachable!("clap requires one selector")
            };
            run_async(resend::resend(resend::ResendArgs {
                config: &config,
                selector,
                dry_run: out.as_deref(),
                yes,
                force,
            }))
        }
        Command::Annual {
            config,
            year,
            target,
            dry_run: _,
            out,
            yes,
            force,
            allow_errors,
            schema_ipl,
            schema_ide,
        } => run_async(annual::annual(annual::AnnualArgs {
            config: &config,
            year,
            target: target.into(),
            dry_run: out.as_deref(),
            yes,
            force,
            allow_errors,
            schema_ipl,
            schema_ide,
        })),
        Command::Run {
            config: Some(config),
            ..
        } => match Config::load(&config) {
            Ok(config) => {
                init_logging(config.log_format);
                kpr_bridge::commands::run::run(config)
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        },
        Command::Run {
            tenants: Some(dir),
            replica,
            listen,
            admin_listen,
            admin_tls_certificate,
            admin_tls_key,
            admin_behind_tls_proxy,
            ..
        } => {
            let (listen, admin_listen) = match (
                address_or_off("--listen", &listen),
                address_or_off("--admin-listen", &admin_listen),
            ) {
                (Ok(listen), Ok(admin_listen)) => (listen, admin_listen),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let admin = admin_listen.map(|listen| kpr_bridge::config::admin::Admin {
                listen,
                users: Vec::new(),
                tls: admin_tls_certificate
                    .zip(admin_tls_key)
                    .map(|(certificate, key)| kpr_bridge::config::admin::Tls { certificate, key }),
                behind_tls_proxy: admin_behind_tls_proxy,
                session: std::time::Duration::from_secs(8 * 3600),
            });
            let name = replica.unwrap_or_else(ReplicaOptions::default_name);
            if !ReplicaOptions::valid_name(&name) {
                eprintln!(
                    "error: --replica '{name}': use letters, digits, '-', '_' and '.' only (at most 63)"
                );
                return ExitCode::from(2);
            }
            match Tenants::load(&dir) {
                Ok(tenants) => {
                    let format = tenants.configs.values().next().map(|c| c.log_format);
                    init_logging(format.unwrap_or(LogFormat::Human));
                    let options = ReplicaOptions {
                        name,
                        listen,
                        admin,
                    };
                    kpr_bridge::commands::run::run_tenants(tenants, options)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        Command::Run { .. } => unreachable!("clap requires --config or --tenants"),
        Command::Chain {
            config,
            continue_after_mark,
        } => run_async(chain::chain(chain::ChainArgs {
            config: &config,
            continue_after_mark,
        })),
        Command::Backup { out, config } => run_async(backup::backup(backup::BackupArgs {
            config: &config,
            out: &out,
        })),
        Command::Restore {
            from,
            config,
            force,
        } => run_async(backup::restore(backup::RestoreArgs {
            config: &config,
            from: &from,
            force,
        })),
        Command::AdminPassword => admin::admin_password(),
        Command::Contacts {
            config,
            contact,
            submitter,
        } => {
            let triple = |v: Vec<String>| -> [String; 3] {
                v.try_into().unwrap_or_else(|_| Default::default())
            };
            let new = contact.zip(submitter).map(|(c, s)| admin::NewContacts {
                contact: triple(c),
                submitter: triple(s),
            });
            run_async(admin::contacts(&config, new))
        }
        Command::Audit { config } => run_async(admin::audit(&config)),
        Command::Message { config, msg_id } => run_async(admin::message(&config, &msg_id)),
        Command::Receipts { config, offline } => run_async(delivery::receipts(&config, offline)),
        Command::Receiver { config } => run_async(delivery::receiver(&config)),
        Command::Status {
            config: Some(config),
            json,
            ..
        } => run_async(status::status(&config, json)),
        Command::Status {
            tenants: Some(dir),
            municipality,
            json,
            ..
        } => run_async(status::tenants(&dir, municipality.as_deref(), json)),
        Command::Status { .. } => unreachable!("clap requires --config or --tenants"),
        Command::Demo { dir, iplos } => run_async(kpr_bridge::demo::demo(dir.as_deref(), iplos)),
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
        Command::Check {
            config,
            year,
            report,
            json,
            max_problems,
        } => check::check(
            &config,
            year.unwrap_or_else(this_year),
            report,
            json,
            max_problems,
        ),
        Command::Inspect {
            extract_dir,
            mapping,
            iplos,
            year,
            max_problems,
        } => {
            let iplos = iplos || inspect::looks_like_iplos(&extract_dir);
            let mapping = match (&mapping, iplos) {
                (Some(file), true) => Mapping::load(file).map(Mapping::with_national_codes),
                (Some(file), false) => Mapping::load(file),
                (None, true) => Ok(Mapping::national()),
                (None, false) => {
                    eprintln!(
                        "error: an extract needs --mapping FILE (such as mappings/sample-epj.toml); only an IPLOS directory is read without one"
                    );
                    return ExitCode::from(2);
                }
            };
            let mapping = match mapping {
                Ok(mapping) => mapping,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let origin = match iplos {
                true => inspect::Origin::Iplos { municipality: None },
                false => inspect::Origin::Extract,
            };
            let year = year.unwrap_or_else(this_year);
            match inspect::inspect(&extract_dir, origin, &mapping, year) {
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

/// Logs to stderr at `RUST_LOG`'s level (default info), for a person or a log collector.
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => logs.json().init(),
        // Colour codes only for a person at a terminal, never in a log file or the journal.
        LogFormat::Human => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

/// Runs a command's future on a runtime of its own.
fn run_async(command: impl std::future::Future<Output = u8>) -> u8 {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            1
        }
    }
}

fn this_year() -> i32 {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Oslo)
        .year()
}

/// A listening address, or `None` for "off".
fn address_or_off(flag: &str, text: &str) -> Result<Option<std::net::SocketAddr>, String> {
    match text {
        "off" => Ok(None),
        text => text
            .parse()
            .map(Some)
            .map_err(|e| format!("{flag} '{text}': {e}; give host:port, or \"off\"")),
    }
}
