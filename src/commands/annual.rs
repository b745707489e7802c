//! `kpr-bridge annual`: the final annual message for a year, checked, shown, confirmed and
//! sent as two shipments (KPR_IDE, then KPR_IPL).

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::annual::ship::{self, Destination, Shipped};
use crate::annual::year::{Summary, Year};
use crate::assembly::controls::ControlFinding;
use crate::checks::Severity;
use crate::config::{Config, Mode};
use crate::message::iplos37::{self, FAGMELDING, IDENTMELDING};
use crate::message::schema::Schemas;
use crate::model::municipalities::municipalities;
use crate::model::register::Target;
use crate::model::register::{IPLOS_CONTACT, IPLOS_SUBMITTER};
use crate::progress::Progress;
use crate::shipping::Shipping;
use crate::store::annual::AnnualSent;
use crate::store::{SQLITE_FILE, Store};

/// The last year the register takes an annual message for.
pub const LAST_ANNUAL_YEAR: i32 = 2025;

pub struct AnnualArgs<'a> {
    pub config: &'a Path,
    pub year: i32,
    pub target: Target,
    /// `Some(dir)` for a dry run.
    pub dry_run: Option<&'a Path>,
    /// Send without asking.
    pub yes: bool,
    /// Send although earlier messages of the year and target await their receipts.
    pub force: bool,
    /// Send although the checks found errors (what has errors is left out).
    pub allow_errors: bool,
    pub schema_ipl: Option<PathBuf>,
    pub schema_ide: Option<PathBuf>,
}

/// What a run did: its exit code, and what the year held when it got as far as reading it.
pub struct AnnualOutcome {
    pub code: u8,
    /// Persons, services and attributes of what was sent (or written, in a dry run).
    pub summary: Option<Summary>,
}

impl From<u8> for AnnualOutcome {
    fn from(code: u8) -> AnnualOutcome {
        AnnualOutcome {
            code,
            summary: None,
        }
    }
}

/// `kpr-bridge annual`: the exit code of [`run`].
pub async fn annual(args: AnnualArgs<'_>) -> u8 {
    run(args).await.code
}

/// The annual command, with what it sent.
pub async fn run(args: AnnualArgs<'_>) -> AnnualOutcome {
    let mut config = match Config::load(args.config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2).into(),
    };
    for (msg_type, file) in [
        (FAGMELDING, &args.schema_ipl),
        (IDENTMELDING, &args.schema_ide),
    ] {
        if let Some(file) = file {
            config.payload_schemas.retain(|(t, _)| t != msg_type);
            config
                .payload_schemas
                .push((msg_type.to_string(), file.clone()));
        }
    }
    if let Some(code) = refuse_arguments(&config, &args) {
        return code.into();
    }
    match args.dry_run {
        Some(out) => {
            let schemas = match Schemas::load(&config.payload_schemas) {
                Ok(schemas) => schemas,
                Err(e) => return fail(&e, 2).into(),
            };
            dry_run(&config, &args, &schemas, out).await
        }
        None => {
            let shipping = match Shipping::open(config.clone()).await {
                Ok(shipping) => shipping,
                Err(e) => return fail(&e, e.exit_code()).into(),
            };
            for warning in &shipping.warnings {
                tracing::warn!("{warning}");
            }
            let outcome = send(&config, &args, &shipping).await;
            shipping.store.close().await;
            outcome
        }
    }
}

/// Reads, checks and shows the year; `Err(code)` when errors stop the run.
fn read_year(config: &Config, args: &AnnualArgs) -> Result<Year, u8> {
    let progress = Progress::step("reading and checking the sources");
    let data = Year::read(config, args.year);
    progress.finish();
    let code = show_checks(&data);
    if code != 0 && !args.allow_errors {
        println!(
            "\nNothing was sent: fix the errors above (details: `kpr-bridge check --config {} --year {} --report report.html`),\nor give --allow-errors to send the rest; what has errors is then left out.",
            args.config.display(),
            args.year
        );
        return Err(code);
    }
    show_summary(&data, args.target, args.dry_run.is_some());
    Ok(data)
}

async fn dry_run(
    config: &Config,
    args: &AnnualArgs<'_>,
    schemas: &Schemas,
    out: &Path,
) -> AnnualOutcome {
    let data = match read_year(config, args) {
        Ok(data) => data,
        Err(code) => return code.into(),
    };
    let now = Utc::now();
    // A dry run takes no number, and makes no state store: it shows the number the next
    // send would carry.
    let exists = config.state_url.is_some() || config.data_dir.join(SQLITE_FILE).exists();
    let number = match exists {
        true => match Store::open_for(config).await {
            Ok(store) => {
                let number = store
                    .next_running_number(&ship::running_numbers(args.year))
                    .await;
                store.close().await;
                number.unwrap_or(1)
            }
            Err(_) => 1,
        },
        false => 1,
    };
    let Some(namespace) = iplos_namespace(schemas, args.year) else {
        return 2.into();
    };
    let header = ship::header(config, &data, now, number, namespace);
    let code = match ship::ship(&data, &header, Destination::DryRun { schemas, out }, now).await {
        Ok(Shipped::Written {
            fagmelding,
            identmelding,
            controls,
        }) => {
            show_controls(&controls);
            println!("dry run: wrote and validated {}", fagmelding.display());
            println!("dry run: wrote and validated {}", identmelding.display());
            println!(
                "dry run: nothing was sent; the identity message holds identity numbers — keep it inside the secure zone"
            );
            0
        }
        Ok(other) => fail(&format!("unexpected outcome of a dry run: {other:?}"), 1),
        Err(e) => fail(&e, e.exit_code()),
    };
    AnnualOutcome {
        code,
        summary: (code == 0).then(|| data.summary()),
    }
}

async fn send(config: &Config, args: &AnnualArgs<'_>, shipping: &Shipping) -> AnnualOutcome {
    let (year, target) = (args.year, args.target);
    // Asked before the year is read, which takes minutes, and asked again, atomically, when
    // the messages enter the outbox.
    let waiting: Vec<AnnualSent> = match shipping.store.annual_sent(year, target.as_str()).await {
        Ok(sent) => sent
            .into_iter()
            .filter(AnnualSent::awaits_receipt)
            .collect(),
        Err(e) => return fail(&e, 1).into(),
    };
    let mut forced = None;
    if !waiting.is_empty() {
        if !args.force {
            refused(year, target, &waiting, args.config);
            return 1.into();
        }
        let overridden = overridden(year, target, &waiting);
        println!("--force: {overridden}");
        forced = Some(overridden);
    }
    let data = match read_year(config, args) {
        Ok(data) => data,
        Err(code) => return code.into(),
    };
    if !args.yes {
        match confirm(year, target) {
            Ok(true) => {}
            Ok(false) => {
                println!("Nothing was sent.");
                return 1.into();
            }
            Err(why) => return fail(&why, 2).into(),
        }
    }
    let Some(namespace) = iplos_namespace(&shipping.schemas, year) else {
        return 2.into();
    };
    let number = match shipping
        .store
        .take_running_number(&ship::running_numbers(year))
        .await
    {
        Ok(number) => number,
        Err(e) => return fail(&e, 1).into(),
    };
    let now = Utc::now();
    let mut header = ship::header(config, &data, now, number, namespace);
    // The contacts as the IPLOS submitter last saved them, as for the daily messages.
    match shipping.store.saved_contacts().await {
        Ok(Some(saved)) => header.contacts = saved.contacts,
        Ok(None) => {}
        Err(e) => return fail(&e, 1).into(),
    }
    let destination = Destination::Outbox {
        shipping,
        target,
        forced: forced.as_deref(),
    };
    let code = match ship::ship(&data, &header, destination, now).await {
        Ok(Shipped::Queued {
            shipment,
            identmelding,
            fagmelding,
            controls,
        }) => {
            show_controls(&controls);
            println!(
                "shipment {shipment}: identity message KPR_IDE {identmelding} and fagmelding KPR_IPL {fagmelding} queued for {target}"
            );
            let mut code = 0;
            match shipping.flush().await {
                Ok(sent) => println!("{sent} message(s) handed to the transport"),
                Err(e) => {
                    eprintln!("error: {e}");
                    eprintln!(
                        "the messages stay queued in the outbox and go with the next `kpr-bridge receipts` or agent run"
                    );
                    code = 1;
                }
            }
            println!(
                "KPR answers each with an application receipt; follow them with `kpr-bridge receipts --config {}`",
                args.config.display()
            );
            if target == Target::Production {
                advise_validation_first(shipping, year).await;
            }
            code
        }
        Ok(Shipped::Refused(waiting)) => {
            refused(year, target, &waiting, args.config);
            return 1.into();
        }
        Ok(other) => return fail(&format!("unexpected outcome of a send: {other:?}"), 1).into(),
        Err(e) => return fail(&e, e.exit_code()).into(),
    };
    AnnualOutcome {
        code,
        summary: Some(data.summary()),
    }
}

/// The namespace KPR_IPL is written in: the one of the schema in use. The built-in schema is
/// IPLOS 3.7 for 2025 data; for another year the official XSD of that year must be given.
/// `None` (said) when it cannot be known.
fn iplos_namespace(schemas: &Schemas, year: i32) -> Option<String> {
    let namespace = schemas.payload_namespace(FAGMELDING)?.to_string();
    if namespace == iplos37::namespace(iplos37::BUILT_IN_YEAR) && year != iplos37::BUILT_IN_YEAR {
        fail(
            &format!(
                "the built-in IPLOS 3.7 schema is for {} data (namespace {namespace}); IPLOS's namespace follows the reporting year, so for {year} data give that year's official XSD with --schema-ipl or [schemas] KPR_IPL",
                iplos37::BUILT_IN_YEAR
            ),
            2,
        );
        return None;
    }
    Some(namespace)
}

/// Refuses what no run of this command may do; `None` when the arguments are usable.
fn refuse_arguments(config: &Config, args: &AnnualArgs) -> Option<u8> {
    let year = args.year;
    if !(2000..=2100).contains(&year) {
        return Some(fail(
            &format!(
                "--year {year} is not a reporting year; give the year to report, such as {LAST_ANNUAL_YEAR}"
            ),
            2,
        ));
    }
    if year > LAST_ANNUAL_YEAR {
        if args.target == Target::Production {
            return Some(fail(
                &format!(
                    "--year {year}: the register takes no annual data after {LAST_ANNUAL_YEAR}; from 2026 on, `kpr-bridge daily` reports every change"
                ),
                2,
            ));
        }
        eprintln!(
            "warning: the register takes no annual data after {LAST_ANNUAL_YEAR}; KPR Validering can still check the form of a {year} message"
        );
    }
    if config.mode == Mode::Test && args.target == Target::Production && args.dry_run.is_none() {
        return Some(fail(
            &format!(
                "{}: mode is \"test\", and test data must not reach the register; send to --target validation, or set mode = \"production\" when the data is real",
                config.file.display()
            ),
            2,
        ));
    }
    if let Some(why) = config
        .unreachable(args.target)
        .filter(|_| args.dry_run.is_none())
    {
        return Some(fail(&why, 2));
    }
    for (kind, role) in [
        (IPLOS_CONTACT, "IPLOS contact"),
        (IPLOS_SUBMITTER, "IPLOS submitter"),
    ] {
        if !config.contacts.iter().any(|c| c.kind == kind) {
            return Some(fail(
                &format!(
                    "{}: no {role} (a [[contact]] with type = {kind}); the annual message names at least one IPLOS contact (16) and one IPLOS submitter (17) — see ops/examples/kpr-bridge.toml",
                    config.file.display()
                ),
                2,
            ));
        }
    }
    let list = municipalities();
    if !list.is_valid_in_year(&config.municipality, year) {
        return Some(fail(
            &format!(
                "{}: municipality.number {}; the annual message must carry the number valid in {year}",
                config.file.display(),
                list.explain_invalid(&config.municipality, year)
            ),
            2,
        ));
    }
    None
}

/// What the register's arrival checks found in KPR_IPL that it would drop (a record or a
/// value), and how much it takes as it is.
fn show_controls(findings: &[ControlFinding]) {
    let (dropping, taken): (Vec<_>, Vec<_>) = findings.iter().partition(|f| f.severity().is_some());
    if !dropping.is_empty() {
        println!("The register's arrival checks on KPR_IPL would drop data:");
        for f in dropping {
            println!(
                "  {} {} ({} check), {} time(s): {}; expected {}, e.g. {}.\n    What to do: {}",
                f.record,
                f.field,
                f.kind.as_str(),
                f.count,
                f.consequence.words(crate::i18n::Language::En),
                f.expected.text(crate::i18n::Language::En),
                f.example,
                f.fix(crate::i18n::Language::En)
            );
        }
    }
    if !taken.is_empty() {
        let fields: Vec<String> = taken
            .iter()
            .map(|f| format!("{} ({} check, {})", f.field, f.kind.as_str(), f.count))
            .collect();
        println!(
            "The register's arrival checks note, and take as it is: {}",
            fields.join(", ")
        );
    }
}

/// Prints what could not be read and the findings; returns 1 when anything stops a send.
fn show_checks(data: &Year) -> u8 {
    let mut code = 0;
    for source in &data.sources {
        if let Some(why) = &source.unusable {
            eprintln!("error: source '{}' ({}): {why}", source.name, source.origin);
            code = 1;
        } else if source.problems() > 0 {
            eprintln!(
                "error: source '{}' ({}): {} row(s) could not be read; `kpr-bridge check` lists them",
                source.name,
                source.origin,
                source.problems()
            );
            code = 1;
        }
    }
    let errors: Vec<_> = data
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        code = 1;
        println!("The checks found errors:");
        for finding in errors {
            println!(
                "  {:<22} {:>7}  {}",
                finding.rule,
                finding.count,
                finding.info().fix(crate::i18n::Language::En)
            );
        }
    }
    code
}

fn show_summary(data: &Year, target: Target, dry_run: bool) {
    let summary = data.summary();
    let to = if dry_run {
        "a dry run (nothing is sent)".to_string()
    } else {
        format!("{target} (KPR, HER-id {})", target.her_id())
    };
    println!("\nAnnual message {} to {to}:", data.year);
    println!("  persons            {:>9}", summary.persons);
    if !summary.services.is_empty() {
        println!("  service code            granted   refused");
        for (code, (granted, refused)) in &summary.services {
            let name = code.info().map_or("", |t| t.name);
            println!(
                "  {:<6} {:<16.16} {granted:>9} {refused:>9}",
                code.to_string(),
                name
            );
        }
    }
    for (kind, count) in &summary.attributes {
        println!("  attribute {:<26} {count:>9}", kind.as_str());
    }
    let left = data.assembled.left_out;
    println!(
        "  left out: {} test user(s), {} person(s) and {} service(s) with errors, {} person(s) without identity number",
        left.test_users,
        left.persons_with_errors,
        left.services_with_errors,
        left.persons_without_ident
    );
    let warnings: u64 = data
        .report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .map(|f| f.count)
        .sum();
    if warnings > 0 {
        println!("  warnings: {warnings} (see `kpr-bridge check`)");
    }
}

/// Asks on the terminal; an error when there is none to ask on.
fn confirm(year: i32, target: Target) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "not at a terminal, so cannot ask for confirmation: give --yes to send without asking"
                .to_string(),
        );
    }
    print!(
        "\nSend the {year} annual message to {target} (HER-id {})? [y/N] ",
        target.her_id()
    );
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "ja" | "j"))
}

fn overridden(year: i32, target: Target, waiting: &[AnnualSent]) -> String {
    let ids: Vec<&str> = waiting.iter().map(|s| s.msg_id.as_str()).collect();
    format!(
        "sending although {} earlier message(s) of {year} to {target} await their receipts ({}); the register may receive the year twice",
        waiting.len(),
        ids.join(", ")
    )
}

fn refused(year: i32, target: Target, waiting: &[AnnualSent], config: &Path) {
    eprintln!(
        "error: the {year} annual message to {target} was sent before and awaits its receipt — the register asks not to send again before the receipt is checked:"
    );
    for sent in waiting {
        eprintln!(
            "  {} {} shipment {} {} since {}",
            sent.msg_type,
            sent.msg_id,
            sent.shipment,
            sent.state,
            sent.created_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    eprintln!(
        "check with `kpr-bridge receipts --config {}`; give --force to send again anyway",
        config.display()
    );
}

async fn advise_validation_first(shipping: &Shipping, year: i32) {
    if let Ok(sent) = shipping
        .store
        .annual_sent(year, Target::Validation.as_str())
        .await
        && sent.is_empty()
    {
        println!(
            "note: nothing for {year} went to KPR Validering first; send with --target validation before production, as the register recommends, next time"
        );
    }
}

fn fail(error: &dyn std::fmt::Display, code: u8) -> u8 {
    eprintln!("error: {error}");
    code
}
