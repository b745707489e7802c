//! The [`ReportView`] of a check run: what the terminal table, the JSON, the HTML file
//! (`kpr-bridge check`) and the administration page's check report all show of it.

use super::{Origin, ReportView, SourceLine};
use crate::check_run;
use crate::config::{Config, SourceKind, url};
use crate::source::RecordKind;

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
        mode: config.mode,
        generated: chrono::Utc::now(),
        sources: run
            .sources
            .iter()
            .zip(&config.sources)
            .map(|(s, source)| {
                let (origin, place) = match &source.kind {
                    SourceKind::Extract { path } => (Origin::Extract, path.display().to_string()),
                    SourceKind::Database { url, .. } => (Origin::Database, url::redacted(url)),
                    SourceKind::Iplos { path, .. } => (Origin::Iplos, path.display().to_string()),
                };
                SourceLine {
                    name: s.name.clone(),
                    origin,
                    place,
                    persons: s.records(RecordKind::Persons),
                    services: s.records(RecordKind::Services),
                    problems: s.problems(),
                }
            })
            .collect(),
        report: &run.report,
        controls: &run.controls,
    }
}
