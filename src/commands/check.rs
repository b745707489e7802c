//! `kpr-bridge check`: every source read, mapped and checked for a year, shown as a table or
//! JSON, and optionally as the HTML report for the IPLOS contact.

use std::path::{Path, PathBuf};

use crate::check_run;
use crate::config::Config;
use crate::report::run_view::report_view;
use crate::report::{JsonReport, html, summary};
use crate::t;

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
    let lang = config.language;
    if !(2000..=2100).contains(&year) {
        eprintln!(
            "{}",
            t!(lang, "check-year-invalid", year = year.to_string())
        );
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
                    "{}",
                    t!(
                        lang,
                        "check-more-problems",
                        source = source.name.clone(),
                        count = total - max_problems as u64
                    )
                );
            }
        }
    }
    let view = report_view(&config, year, &run);
    if json {
        match serde_json::to_string_pretty(&JsonReport::new(&view)) {
            Ok(text) => println!("{text}"),
            Err(error) => {
                eprintln!(
                    "{}",
                    t!(lang, "check-json-failed", error = error.to_string())
                );
                return 2;
            }
        }
    } else {
        print!("{}", summary::render(&view, lang));
    }
    if let Some(file) = report_file {
        if let Err(error) = std::fs::write(&file, html::render(&view, lang)) {
            eprintln!(
                "{}",
                t!(
                    lang,
                    "check-report-failed",
                    file = file.display().to_string(),
                    error = error.to_string()
                )
            );
            return 2;
        }
        if !json {
            println!(
                "\n{}",
                t!(
                    lang,
                    "check-report-written",
                    file = file.display().to_string()
                )
            );
        }
    }
    run.exit_code()
}
