//! `kpr-bridge check`: every source read, mapped and checked for a year, shown as a table or
//! JSON, and optionally as the HTML report for the IPLOS contact.

use std::path::{Path, PathBuf};

use crate::check_run;
use crate::config::{Config, Mode};
use crate::report::{JsonReport, ReportView, SourceLine, html, summary};
use crate::source::RecordKind;

/// `kpr-bridge check`: the exit code is the run's, or 2 when the configuration or the report
/// file cannot be used.
pub fn check(
    config: &Path,
    year: i32,
    report_file: Option<PathBuf>,
    json: bool,
    max_problems: usize,
) -> u8 {
    let config = match Config::load(config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return 2;
        }
    };
    if !(2000..=2100).contains(&year) {
        eprintln!("error: --year {year} is not a reporting year; give one such as 2025");
        return 2;
    }
    let run = check_run::run(&config, year);
    for source in &run.sources {
        if let Some(reason) = &source.unusable {
            eprintln!("error: {reason}");
        }
        if let Some(summary) = &source.summary {
            for problem in summary.problems.kept().iter().take(max_problems) {
                eprintln!("{}: {problem}", source.name);
            }
            let total = summary.problems.total();
            if total > max_problems as u64 {
                eprintln!(
                    "{}: … and {} more problems (--max-problems to list more)",
                    source.name,
                    total - max_problems as u64
                );
            }
        }
    }
    let view = report_view(&config, year, &run);
    if json {
        match serde_json::to_string_pretty(&JsonReport::new(&view)) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!("error: cannot write the JSON: {error}");
                return 2;
            }
        }
    } else {
        print!("{}", summary::render(&view));
    }
    if let Some(file) = report_file {
        if let Err(error) = std::fs::write(&file, html::render(&view)) {
            eprintln!(
                "error: cannot write the report to {}: {error} — check the directory and free space",
                file.display()
            );
            return 2;
        }
        if !json {
            println!("\nReport written to {}", file.display());
        }
    }
    run.exit_code()
}

/// What the report shows of a check run: for the terminal, JSON, the HTML file, and the
/// administration page.
pub fn report_view<'a>(
    config: &'a Config,
    year: i32,
    run: &'a check_run::CheckRun,
) -> ReportView<'a> {
    ReportView {
        year,
        municipality: &config.municipality,
        municipality_name: &config.municipality_name,
        mode: match config.mode {
            Mode::Test => "test",
            Mode::Production => "production",
        },
        generated: chrono::Utc::now()
            .with_timezone(&chrono_tz::Europe::Oslo)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        sources: run
            .sources
            .iter()
            .map(|s| SourceLine {
                name: s.name.clone(),
                origin: s.origin.clone(),
                persons: s.records(RecordKind::Persons),
                services: s.records(RecordKind::Services),
                problems: s.problems(),
            })
            .collect(),
        report: &run.report,
        controls: &run.controls,
    }
}
