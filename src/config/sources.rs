//! The `[[source]]` tables: where each of the EPJ's sources is read from (an extract
//! directory, the EPJ's database, the directory it writes its IPLOS 3.7 extract into), with
//! its mapping and the days it is the municipality's EPJ.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::date::parse_date;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceConfig {
    pub name: String,
    pub kind: SourceKind,
    /// The mapping file; `None` only for an IPLOS source, whose national codes need none.
    pub mapping: Option<PathBuf>,
    /// The days this source is the municipality's EPJ (an EPJ change mid-year).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The EPJ's product name and version, as the daily and annual headers name them.
    pub product: Option<String>,
    pub version: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    Extract {
        path: PathBuf,
    },
    Database {
        url: String,
        queries: Queries,
    },
    /// A directory where the EPJ writes its IPLOS 3.7 extract (`source::iplos`).
    Iplos {
        path: PathBuf,
        /// How long a file stands unchanged before it is taken.
        settle: Duration,
        /// How long taken pairs stay in `done/`.
        keep_done: Duration,
    },
}

/// One read-only SQL query per record kind; result columns as in `docs/export-format.md`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queries {
    pub persons: Option<String>,
    pub services: Option<String>,
    pub assessments: Option<String>,
    pub diagnoses: Option<String>,
    pub attributes: Option<String>,
}

/// How long a file must stand unchanged before it is taken. EPJs write no READY marker and
/// often write over a network share, where a 200 MB extract can pause for tens of seconds
/// between buffers; two minutes is well past such a pause and nothing against a nightly run.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(120);
/// How long taken pairs are kept in `done/` (the newest always): long enough to look back
/// over a week's nights, short, since the identmelding holds identity numbers in the clear.
pub const DEFAULT_KEEP_DONE: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Deserialize, Default)]
pub(super) struct RawSource {
    name: Option<String>,
    kind: Option<String>,
    path: Option<PathBuf>,
    url: Option<String>,
    queries: Option<Queries>,
    mapping: Option<PathBuf>,
    from: Option<String>,
    to: Option<String>,
    product: Option<String>,
    version: Option<String>,
    settle_seconds: Option<u64>,
    keep_done_days: Option<u64>,
}

/// Every `[[source]]` checked; `default_mapping` is the top-level `mapping`.
pub(super) fn sources(
    raw_sources: Vec<RawSource>,
    default_mapping: Option<PathBuf>,
    base: &Path,
    problems: &mut Vec<String>,
) -> Vec<SourceConfig> {
    if raw_sources.is_empty() {
        problems.push("missing required key 'source': configure at least one [[source]]".into());
    }
    let mut sources = Vec::new();
    for (i, source) in raw_sources.into_iter().enumerate() {
        let at = format!("source[{}]", i + 1);
        let name = source.name.clone().unwrap_or_default();
        if name.is_empty() {
            problems.push(format!("missing required key '{at}.name'"));
        } else if sources.iter().any(|s: &SourceConfig| s.name == name) {
            problems.push(format!(
                "{at}.name: '{name}' is used by two sources; give each its own name"
            ));
        }
        let mapping = source.mapping.or(default_mapping.clone());
        if mapping.is_none() && source.kind.as_deref() != Some("iplos") {
            problems.push(format!(
                "missing required key 'mapping' (for all sources) or '{at}.mapping'"
            ));
        }
        if source.kind.as_deref() != Some("iplos")
            && (source.settle_seconds.is_some() || source.keep_done_days.is_some())
        {
            problems.push(format!(
                "{at}: settle_seconds and keep_done_days are for sources of kind \"iplos\" only"
            ));
        }
        let date = |key: &str, value: Option<String>, problems: &mut Vec<String>| {
            value.and_then(|v| {
                parse_date(&v)
                    .map_err(|why| problems.push(format!("{at}.{key}: '{v}' is not a date{why}")))
                    .ok()
            })
        };
        let from = date("from", source.from, problems);
        let to = date("to", source.to, problems);
        let kind = match source.kind.as_deref() {
            Some("extract") => match source.path {
                Some(path) => SourceKind::Extract {
                    path: base.join(path),
                },
                None => {
                    problems.push(format!(
                        "missing required key '{at}.path' (the extract directory)"
                    ));
                    continue;
                }
            },
            Some("database") => {
                let queries = source.queries.unwrap_or_default();
                for (key, query) in [
                    ("persons", &queries.persons),
                    ("services", &queries.services),
                ] {
                    if query.is_none() {
                        problems.push(format!("missing required key '{at}.queries.{key}'"));
                    }
                }
                match source.url {
                    Some(url) => SourceKind::Database { url, queries },
                    None => {
                        problems.push(format!("missing required key '{at}.url' (a postgres://, mysql:// or sqlite: URL)"));
                        continue;
                    }
                }
            }
            Some("iplos") => match source.path {
                Some(path) => SourceKind::Iplos {
                    path: base.join(path),
                    settle: source
                        .settle_seconds
                        .map_or(DEFAULT_SETTLE, Duration::from_secs),
                    keep_done: source.keep_done_days.map_or(DEFAULT_KEEP_DONE, |days| {
                        Duration::from_secs(days.max(1) * 24 * 3600)
                    }),
                },
                None => {
                    problems.push(format!(
                        "missing required key '{at}.path' (the directory the EPJ writes its IPLOS extract into)"
                    ));
                    continue;
                }
            },
            Some(other) => {
                problems.push(format!(
                    "{at}.kind: '{other}' is not \"extract\", \"database\" or \"iplos\""
                ));
                continue;
            }
            None => {
                problems.push(format!(
                    "missing required key '{at}.kind' (\"extract\", \"database\" or \"iplos\")"
                ));
                continue;
            }
        };
        sources.push(SourceConfig {
            name,
            kind,
            mapping: mapping.map(|m| base.join(m)),
            from,
            to,
            product: source.product.clone(),
            version: source.version.clone(),
        });
    }
    sources
}
