//! The configuration file (TOML), typed and validated at load.
//!
//! An operator fixes a configuration in one go, so loading reports *every* problem at once:
//! each unknown key (a typo is never silently ignored), each missing required key, each bad
//! value — all naming the file. Municipality numbers and HER-ids are text everywhere: `0301`
//! must stay `0301`. `ops/examples/kpr-bridge.toml` shows every option with comments.

pub mod admin;
pub mod agent;
pub mod alerts;
pub mod daily;
pub mod delivery;
pub mod receiver;
pub mod url;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::checks::test_users::DEFAULT_PATTERNS;
use crate::i18n::Language;
use crate::message::msghead::Target;
use crate::model::municipalities::municipalities;
use crate::source::RecordKind;
use crate::source::fields::parse_date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Shipments go to KPR Validering; synthetic identity numbers are allowed.
    Test,
    /// Shipments go to the register; synthetic identity numbers mark test users.
    Production,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub file: PathBuf,
    pub municipality: String,
    pub municipality_name: String,
    pub municipality_orgnr: Option<String>,
    /// The city district the messages report for, two digits (IPLOS `iiBydelsnr`); `None`:
    /// the whole municipality (`00`).
    pub municipality_district: Option<String>,
    /// HER-id of the municipality (level 1) and of its reporting service unit (level 2).
    pub her_id: String,
    pub her_id_service_unit: String,
    pub mode: Mode,
    pub data_dir: PathBuf,
    pub sources: Vec<SourceConfig>,
    pub test_user_names: Vec<String>,
    /// The state store: a `postgres://` URL, or None for SQLite in `data_dir`.
    pub state_url: Option<String>,
    /// The PostgreSQL schema the state lives in (`[state] schema`): one per municipality
    /// when several share a database (`run --tenants`); None for the URL's default.
    pub state_schema: Option<String>,
    /// How messages leave and receipts arrive; None until configured (`check` needs none).
    pub delivery: Option<delivery::Delivery>,
    /// Payload XSDs by message type, such as the official IPLOS XSD when a user has it.
    pub payload_schemas: Vec<(String, PathBuf)>,
    /// Whom the register asks about the data (`[[contact]]`), named in the messages' headers:
    /// at least one IPLOS contact (type 16) and one IPLOS submitter (type 17) once messages
    /// are sent.
    pub contacts: Vec<Contact>,
    /// The daily flow: scope, parts, message type, identity key.
    pub daily: daily::Daily,
    /// How `kpr-bridge run` paces itself and answers HTTP.
    pub agent: agent::Agent,
    /// The administration page: where, for whom, over TLS or not.
    pub admin: admin::Admin,
    pub log_format: agent::LogFormat,
    /// What people read kpr-bridge in (`language`, default bokmål): the page's default, the
    /// check report, `status`, the alerts.
    pub language: Language,
    /// How the operator is told that something needs action.
    pub alerts: alerts::Alerts,
}

/// Whom the register asks about the municipality's data. Not a patient: a name here may be
/// written into messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    /// The role, code system 8471: 16 IPLOS contact, 17 IPLOS submitter (1–19).
    pub kind: u8,
    pub name: String,
    pub phone: Option<String>,
    pub email: String,
}

/// Code system 8471: the IPLOS contact (kontaktperson), whom the register asks about the data.
pub const IPLOS_CONTACT: u8 = 16;
/// Code system 8471: the IPLOS submitter (innsendingsansvarlig), responsible for sending.
pub const IPLOS_SUBMITTER: u8 = 17;

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

impl Queries {
    pub fn get(&self, kind: RecordKind) -> Option<&str> {
        match kind {
            RecordKind::Persons => &self.persons,
            RecordKind::Services => &self.services,
            RecordKind::Assessments => &self.assessments,
            RecordKind::Diagnoses => &self.diagnoses,
            RecordKind::Attributes => &self.attributes,
        }
        .as_deref()
    }
}

/// Everything wrong with a configuration file.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub problems: Vec<String>,
    /// The example file that describes every option of this kind of configuration.
    pub example: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} problem(s) in the configuration",
            self.file.display(),
            self.problems.len()
        )?;
        for problem in &self.problems {
            write!(f, "\n  - {problem}")?;
        }
        write!(f, "\n  (every option is described in {})", self.example)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize, Default)]
struct Raw {
    municipality: Option<RawMunicipality>,
    her_id: Option<RawHer>,
    mode: Option<String>,
    language: Option<String>,
    data_dir: Option<PathBuf>,
    mapping: Option<PathBuf>,
    #[serde(default, rename = "source")]
    sources: Vec<RawSource>,
    test_users: Option<RawTestUsers>,
    /// Gone: the EPJ's variables are in its mapping file (`[[variable]]`); said if given.
    assessment: Option<toml::Value>,
    state: Option<RawState>,
    delivery: Option<delivery::RawDelivery>,
    amqp: Option<delivery::RawAmqp>,
    certificates: Option<delivery::RawCertificates>,
    schemas: Option<BTreeMap<String, PathBuf>>,
    /// `[[contact]]`: a table per contact; read by hand to explain the old `[contact]`.
    contact: Option<toml::Value>,
    daily: Option<daily::RawDaily>,
    agent: Option<agent::RawAgent>,
    admin: Option<admin::RawAdmin>,
    log: Option<agent::RawLog>,
    alerts: Option<alerts::RawAlerts>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawContact {
    /// 8471 code, as a number or as text.
    r#type: Option<toml::Value>,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawState {
    url: Option<String>,
    schema: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawMunicipality {
    number: Option<String>,
    name: Option<String>,
    orgnr: Option<String>,
    district: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawHer {
    municipality: Option<String>,
    service_unit: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawSource {
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

#[derive(Deserialize, Default)]
struct RawTestUsers {
    names: Option<Vec<String>>,
}

impl Config {
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        Config::parse(&read_text(file)?, file)
    }

    /// Why a message to KPR's unit `target` cannot be sent with this configuration: in
    /// production mode `amqp.kpr_queue` is the register's queue, so a message for KPR
    /// Validering needs KPR Validering's own queue, or it would land in the register's.
    pub fn unreachable(&self, target: Target) -> Option<String> {
        let Some(delivery::Delivery {
            transport: delivery::Transport::Amqp { queues, .. },
            ..
        }) = &self.delivery
        else {
            return None;
        };
        (self.mode == Mode::Production && target == Target::Validation && queues.validation.is_none())
            .then(|| {
                format!(
                    "{}: in production mode amqp.kpr_queue ('{}') is the register's queue; to send to KPR Validering, add amqp.kpr_validation_queue with KPR Validering's queue from the Adresseregister",
                    self.file.display(),
                    queues.kpr
                )
            })
    }

    /// Parses configuration text; `file` names it in errors and anchors relative paths.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let (raw, mut problems) = read_raw::<Raw>(text, file)?;
        let config = validate(raw, file, &mut problems);
        ConfigError::unless_any(file, problems, config)
    }
}

impl ConfigError {
    pub(crate) fn new(file: &Path, problems: Vec<String>) -> ConfigError {
        ConfigError {
            file: file.to_path_buf(),
            problems,
            example: "ops/examples/kpr-bridge.toml",
        }
    }

    /// `value` when there are no problems, else every problem.
    pub(crate) fn unless_any<T>(
        file: &Path,
        problems: Vec<String>,
        value: T,
    ) -> Result<T, ConfigError> {
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(ConfigError::new(file, problems))
        }
    }
}

/// Reads configuration text into its raw shape; every unknown key becomes a problem.
pub(crate) fn read_raw<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<(T, Vec<String>), ConfigError> {
    let fail = |e: &dyn fmt::Display| ConfigError::new(file, vec![toml_message(&e.to_string())]);
    let mut unknown = Vec::new();
    let deserializer = toml::Deserializer::parse(text).map_err(|e| fail(&e))?;
    let raw: T = serde_ignored::deserialize(deserializer, |path| unknown.push(path.to_string()))
        .map_err(|e| fail(&e))?;
    let problems = unknown
        .into_iter()
        .map(|key| {
            format!(
                "unknown key '{}': remove it or check its spelling",
                source_path(&key)
            )
        })
        .collect();
    Ok((raw, problems))
}

/// Reads a configuration file's text, naming the file when it cannot.
pub(crate) fn read_text(file: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|e| {
        ConfigError::new(
            file,
            vec![format!(
                "cannot be read: {e}; give the path of the configuration file"
            )],
        )
    })
}

/// `source.0.til` as the other messages name it: `source[1].til`.
fn source_path(key: &str) -> String {
    let mut parts = key.splitn(3, '.');
    match (
        parts.next(),
        parts.next().and_then(|i| i.parse::<usize>().ok()),
        parts.next(),
    ) {
        (Some("source"), Some(index), rest) => {
            format!(
                "source[{}]{}",
                index + 1,
                rest.map(|r| format!(".{r}")).unwrap_or_default()
            )
        }
        _ => key.to_string(),
    }
}

fn toml_message(message: &str) -> String {
    let message = message.trim_end().replace('\n', "\n    ");
    if message.contains("expected a string") {
        format!(
            "{message}\n    write numbers such as municipality numbers and HER-ids in quotes: \"0301\""
        )
    } else {
        message
    }
}

fn validate(raw: Raw, file: &Path, problems: &mut Vec<String>) -> Config {
    let base = file.parent().unwrap_or(Path::new("."));
    let mut required = |value: Option<String>, key: &str| -> String {
        value.filter(|v| !v.trim().is_empty()).unwrap_or_else(|| {
            problems.push(format!("missing required key '{key}'"));
            String::new()
        })
    };
    let municipality = raw.municipality.unwrap_or_default();
    let her = raw.her_id.unwrap_or_default();
    let number = required(municipality.number, "municipality.number");
    let name = required(municipality.name, "municipality.name");
    let her_id = required(her.municipality, "her_id.municipality");
    let her_unit = required(her.service_unit, "her_id.service_unit");
    let mode_text = required(raw.mode, "mode");
    let data_dir = required(raw.data_dir.map(|p| p.display().to_string()), "data_dir");

    if !number.is_empty()
        && ![2025, 2026]
            .iter()
            .any(|y| municipalities().is_valid_in_year(&number, *y))
    {
        problems.push(format!(
            "municipality.number: {}",
            municipalities().explain_invalid(&number, 2026)
        ));
    }
    for (key, value) in [
        ("her_id.municipality", &her_id),
        ("her_id.service_unit", &her_unit),
    ] {
        if !value.is_empty() && !value.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!(
                "{key}: '{value}' is not a HER-id (digits only, from the Adresseregister)"
            ));
        }
    }
    if let Some(orgnr) = &municipality.orgnr
        && let Err(e) = crate::model::orgnr::validate(orgnr)
    {
        problems.push(format!("municipality.orgnr: {e}"));
    }
    if let Some(district) = &municipality.district
        && !(district.len() == 2 && district.bytes().all(|b| b.is_ascii_digit()))
    {
        problems.push(format!(
            "municipality.district: '{district}' is not two digits; give the city district the messages report for, such as \"01\", or leave it out for the whole municipality (00)"
        ));
    }
    let mode = match mode_text.as_str() {
        "test" => Mode::Test,
        "production" => Mode::Production,
        "" => Mode::Test,
        other => {
            problems.push(format!(
                "mode: '{other}' is neither \"test\" nor \"production\""
            ));
            Mode::Test
        }
    };

    if raw.sources.is_empty() {
        problems.push("missing required key 'source': configure at least one [[source]]".into());
    }
    let mut sources = Vec::new();
    for (i, source) in raw.sources.into_iter().enumerate() {
        let at = format!("source[{}]", i + 1);
        let name = source.name.clone().unwrap_or_default();
        if name.is_empty() {
            problems.push(format!("missing required key '{at}.name'"));
        } else if sources.iter().any(|s: &SourceConfig| s.name == name) {
            problems.push(format!(
                "{at}.name: '{name}' is used by two sources; give each its own name"
            ));
        }
        let mapping = source.mapping.or(raw.mapping.clone());
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
                        .map_or(crate::source::iplos::DEFAULT_SETTLE, Duration::from_secs),
                    keep_done: source
                        .keep_done_days
                        .map_or(crate::source::iplos::DEFAULT_KEEP_DONE, |days| {
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

    let (state_url, state_schema) = raw
        .state
        .map(|state| (state.url, state.schema))
        .unwrap_or_default();
    if let Some(schema) = &state_schema {
        if state_url.is_none() {
            problems.push(format!(
                "state.schema: '{schema}' needs state.url, a PostgreSQL database; SQLite has no schemas"
            ));
        }
        if !valid_schema_name(schema) {
            problems.push(format!(
                "state.schema: '{schema}' is not a plain schema name; use lower-case letters, digits and _ (at most 63), starting with a letter, such as \"kpr_4601\""
            ));
        }
    }
    if let Some(url) = &state_url
        && !url.starts_with("postgres://")
        && !url.starts_with("postgresql://")
    {
        problems.push(format!(
            "state.url: '{}' is not a postgres:// URL; leave it out to keep the state in SQLite in data_dir",
            url::redacted(url)
        ));
    }
    let delivery = if raw.delivery.is_some() || raw.amqp.is_some() || raw.certificates.is_some() {
        Some(delivery::delivery(
            raw.delivery.unwrap_or_default(),
            raw.amqp,
            raw.certificates,
            &her_unit,
            mode == Mode::Production,
            base,
            problems,
        ))
    } else {
        None
    };
    let payload_schemas = raw
        .schemas
        .unwrap_or_default()
        .into_iter()
        .map(|(msg_type, path)| (msg_type, base.join(path)))
        .collect();
    if raw.assessment.is_some() {
        problems.push(
            "[assessment] extra_variables is now [[variable]] in each source's mapping file: local = the EPJ's name for it, code = the register's variable (code system 9111, 1–18)".into(),
        );
    }
    let contacts = contacts(raw.contact, problems);
    if delivery.is_some() {
        for (kind, role) in [
            (IPLOS_CONTACT, "IPLOS contact"),
            (IPLOS_SUBMITTER, "IPLOS submitter"),
        ] {
            if !contacts.iter().any(|c| c.kind == kind) {
                problems.push(format!(
                    "[[contact]]: no {role} (type = {kind}); the register requires at least one IPLOS contact (16) and one IPLOS submitter (17) in every message — the same person may be both, as two [[contact]] tables"
                ));
            }
        }
    }
    let test_user_names = raw
        .test_users
        .and_then(|t| t.names)
        .unwrap_or_else(|| DEFAULT_PATTERNS.map(String::from).to_vec());
    let data_dir = base.join(data_dir);
    let daily = daily::daily(raw.daily, base, &data_dir, problems);
    let agent = agent::agent(raw.agent, problems);
    let admin = admin::admin(raw.admin, base, problems);
    let log_format = agent::log_format(raw.log, problems);
    let language = match raw.language.as_deref().map(str::parse::<Language>) {
        None => Language::default(),
        Some(Ok(language)) => language,
        Some(Err(why)) => {
            problems.push(format!("language: {why}"));
            Language::default()
        }
    };
    let alerts = alerts::alerts(raw.alerts, base, problems);
    Config {
        file: file.to_path_buf(),
        municipality: number,
        municipality_name: name,
        municipality_orgnr: municipality.orgnr,
        municipality_district: municipality.district,
        her_id,
        her_id_service_unit: her_unit,
        mode,
        data_dir,
        sources,
        test_user_names,
        state_url,
        state_schema,
        delivery,
        payload_schemas,
        contacts,
        daily,
        agent,
        admin,
        log_format,
        language,
        alerts,
    }
}

/// The `[[contact]]` tables, each checked: a type of code system 8471, a name and an e-mail
/// address (the identity message requires one).
/// A schema name that needs no quoting and cannot be confused with PostgreSQL's own
/// (`pg_*`, `information_schema`) or with the shared `public`.
pub fn valid_schema_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
        && !name.starts_with("pg_")
        && name != "information_schema"
}

fn contacts(raw: Option<toml::Value>, problems: &mut Vec<String>) -> Vec<Contact> {
    let tables = match raw {
        None => return Vec::new(),
        Some(toml::Value::Array(tables)) => tables,
        Some(_) => {
            problems.push(
                "[contact] is now [[contact]]: one table per contact, each with a type (16 IPLOS contact, 17 IPLOS submitter), name, phone and email".into(),
            );
            return Vec::new();
        }
    };
    let text = |value: Option<String>| {
        value
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut contacts = Vec::new();
    for (n, table) in tables.into_iter().enumerate() {
        let at = format!("contact[{n}]");
        let raw: RawContact = match table.try_into() {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(format!("{at}: {}", e.message()));
                continue;
            }
        };
        let kind = match &raw.r#type {
            Some(toml::Value::Integer(n)) => u8::try_from(*n).ok(),
            Some(toml::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let kind = kind.filter(|k| (1..=19).contains(k));
        if kind.is_none() {
            problems.push(format!(
                "{at}.type: missing or not a contact type of code system 8471 (1–19); IPLOS uses 16 (IPLOS contact) and 17 (IPLOS submitter)"
            ));
        }
        let name = text(raw.name);
        if name.is_none() {
            problems.push(format!(
                "missing required key '{at}.name' (a person or a role)"
            ));
        }
        let email = text(raw.email);
        if email.is_none() {
            problems.push(format!(
                "missing required key '{at}.email' (the register writes to it about the data)"
            ));
        }
        if let (Some(kind), Some(name), Some(email)) = (kind, name, email) {
            contacts.push(Contact {
                kind,
                name,
                phone: text(raw.phone),
                email,
            });
        }
    }
    contacts
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
mode = "test"
data_dir = "state"
mapping = "mappings/sample-epj.toml"

[municipality]
number = "0301"
name = "Oslo"

[her_id]
municipality = "12345"
service_unit = "67890"

[[source]]
name = "gerica"
kind = "extract"
path = "/srv/export"
to = "2025-05-31"

[[source]]
name = "profil"
kind = "database"
url = "postgres://reader@localhost/epj"
from = "2025-06-01"
[source.queries]
persons = "SELECT 1"
services = "SELECT 2"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/kpr-bridge/kpr-bridge.toml"))
    }

    #[test]
    fn a_good_configuration_keeps_numbers_as_text() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.municipality, "0301");
        assert_eq!(config.her_id, "12345");
        assert_eq!(config.mode, Mode::Test);
        assert_eq!(config.sources.len(), 2);
        assert_eq!(config.sources[0].to, Some("2025-05-31".parse().unwrap()));
        assert_eq!(
            config.sources[1].mapping,
            Some(PathBuf::from("/etc/kpr-bridge/mappings/sample-epj.toml"))
        );
        assert_eq!(config.data_dir, PathBuf::from("/etc/kpr-bridge/state"));
        assert_eq!(config.test_user_names.len(), 3);
    }

    #[test]
    fn every_unknown_key_is_named_with_the_file() {
        let text = GOOD
            .replace("mode = \"test\"", "mode = \"test\"\nmodus = 1")
            .replace("to = \"2025", "til = \"2025")
            + "\n[extra]\nx = 2\n";
        let error = parse(&text).unwrap_err().to_string();
        assert!(
            error.starts_with("/etc/kpr-bridge/kpr-bridge.toml:"),
            "{error}"
        );
        for key in ["'modus'", "'extra'", "'source[1].til'"] {
            assert!(error.contains(key), "{key} in {error}");
        }
    }

    #[test]
    fn every_missing_required_key_is_named_at_once() {
        let error = parse("").unwrap_err();
        let text = error.to_string();
        for key in [
            "municipality.number",
            "municipality.name",
            "her_id.municipality",
            "her_id.service_unit",
            "'mode'",
            "'data_dir'",
            "'source'",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
        assert_eq!(error.problems.len(), 7, "{text}");
    }

    #[test]
    fn numbers_written_as_numbers_are_explained() {
        let error = parse(&GOOD.replace("number = \"0301\"", "number = 4601"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("in quotes"), "{error}");
    }

    #[test]
    fn bad_values_are_named() {
        let text = GOOD
            .replace("\"0301\"", "\"3024\"")
            .replace("\"12345\"", "\"12a45\"")
            .replace("mode = \"test\"", "mode = \"prod\"")
            .replace("kind = \"extract\"", "kind = \"file\"")
            .replace("2025-06-01", "31.02.2025");
        let error = parse(&text).unwrap_err();
        let joined = error.problems.join("\n");
        assert!(joined.contains("replaced by 3201"), "{joined}");
        assert!(joined.contains("'12a45' is not a HER-id"), "{joined}");
        assert!(joined.contains("'prod' is neither"), "{joined}");
        assert!(joined.contains("source[1].kind: 'file'"), "{joined}");
        assert!(
            joined.contains("source[2].from: '31.02.2025' is not a date"),
            "{joined}"
        );
        assert_eq!(error.problems.len(), 5, "{joined}");
    }

    #[test]
    fn database_sources_need_url_and_the_two_required_queries() {
        let text = GOOD
            .replace("url = \"postgres://reader@localhost/epj\"\n", "")
            .replace("services = \"SELECT 2\"\n", "");
        let joined = parse(&text).unwrap_err().problems.join("\n");
        assert!(joined.contains("source[2].queries.services"), "{joined}");
        assert!(joined.contains("source[2].url"), "{joined}");
    }

    #[test]
    fn the_shipped_example_loads() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge.toml");
        let config = Config::load(&example).unwrap();
        assert_eq!(config.municipality, "4601");
        assert_eq!(config.mode, Mode::Test);
        assert_eq!(config.sources.len(), 2);
        assert!(
            config.sources[0]
                .mapping
                .as_ref()
                .is_some_and(|m| m.ends_with("mappings/sample-epj.toml"))
        );
        assert!(matches!(
            config.sources[1].kind,
            SourceKind::Database { .. }
        ));
        assert_eq!(config.alerts.certificate_days, 30);
        assert_eq!(config.agent.schedule.text(), agent::DEFAULT_SCHEDULE);
        assert_eq!(config.log_format, agent::LogFormat::Human);
    }

    /// The production example loads as it is (its certificate files need not exist: loading
    /// only takes their paths), and with its [state] lines uncommented.
    #[test]
    fn the_production_example_loads() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge-production.toml");
        let config = Config::load(&example).unwrap();
        assert_eq!(config.mode, Mode::Production);
        assert_eq!(config.state_url, None);
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/kpr-bridge"));
        assert_eq!(config.sources.len(), 2);
        assert!(matches!(
            config.sources[0].kind,
            SourceKind::Database { .. }
        ));
        assert_eq!(
            config.sources[1].kind,
            SourceKind::Extract {
                path: PathBuf::from("/srv/kpr-bridge/velferdsteknologi")
            }
        );
        assert_eq!(
            config.sources[1].mapping,
            Some(PathBuf::from(
                "/etc/kpr-bridge/mappings/velferdsteknologi.toml"
            ))
        );
        assert_eq!(config.agent.schedule.text(), "0 0 4 * * *");
        assert_eq!(config.agent.watch, agent::Watch::Notify);
        assert_eq!(config.agent.listen, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(config.log_format, agent::LogFormat::Json);
        assert!(config.alerts.command.is_some() && config.alerts.webhook.is_some());
        assert_eq!(config.contacts.len(), 2);
        let delivery = config.delivery.unwrap();
        assert_eq!(delivery.receipt_timeout_hours, 72);
        let delivery::Transport::Amqp { broker, queues } = delivery.transport else {
            panic!("the production example delivers over AMQP");
        };
        assert!(broker.url.starts_with("amqps://") && broker.ca_file.is_some());
        assert_eq!(queues.kpr, "122612_async");
        assert_eq!(queues.to("production"), "122612_async");
        assert_eq!(queues.to("validation"), "171479_async");
        let certificates = delivery.certificates;
        assert!(certificates.previous_encryption.is_some());
        assert!(
            certificates
                .signing_key
                .starts_with("/etc/kpr-bridge/certs")
        );
        assert_eq!(certificates.trust.len(), 2);
        assert_eq!(
            certificates.pinned_signers,
            [PathBuf::from("/etc/kpr-bridge/certs/kpr-sign.crt")]
        );
        // Without KPR's signing certificate no receipt could count: refused at load.
        let unpinned = std::fs::read_to_string(&example)
            .unwrap()
            .replace("kpr_signing_certificates =", "# kpr_signing_certificates =");
        let error = Config::parse(&unpinned, &example).unwrap_err().to_string();
        assert!(
            error.contains("missing required key 'certificates.kpr_signing_certificates'"),
            "{error}"
        );

        let postgres = std::fs::read_to_string(&example)
            .unwrap()
            .replace("# [state]", "[state]")
            .replace("# url = \"postgres://", "url = \"postgres://");
        let config = Config::parse(&postgres, &example).unwrap();
        assert!(
            config
                .state_url
                .is_some_and(|url| url.starts_with("postgres://kpr_bridge@"))
        );
    }

    #[test]
    fn production_sends_to_validation_only_through_kpr_validering_s_own_queue() {
        let example =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge-production.toml");
        let text = std::fs::read_to_string(&example).unwrap();
        let config = Config::parse(&text, &example).unwrap();
        assert_eq!(config.unreachable(Target::Validation), None);
        let without = text.replace("kpr_validation_queue = ", "# kpr_validation_queue = ");
        let config = Config::parse(&without, &example).unwrap();
        assert_eq!(config.unreachable(Target::Production), None);
        let why = config.unreachable(Target::Validation).unwrap();
        assert!(
            why.contains("('122612_async') is the register's queue")
                && why.contains("kpr_validation_queue"),
            "{why}"
        );

        let test = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge.toml");
        let text = std::fs::read_to_string(&test).unwrap();
        let config = Config::parse(&text, &test).unwrap();
        assert_eq!(
            config.unreachable(Target::Validation),
            None,
            "test mode: kpr_queue is it"
        );
        let twice = text.replace("# kpr_validation_queue = ", "kpr_validation_queue = ");
        let problems = Config::parse(&twice, &test).unwrap_err().problems;
        assert!(
            problems[0].contains("in test mode amqp.kpr_queue already is"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_shipped_example_with_its_spool_lines_loads_with_a_receipts_directory() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge.toml");
        let text = std::fs::read_to_string(&example)
            .unwrap()
            .replace("transport = \"amqp\"", "transport = \"spool\"")
            .replace("# spool_dir = ", "spool_dir = ")
            .replace("# spool_receipts_dir = ", "spool_receipts_dir = ");
        let config = Config::parse(&text, &example).unwrap();
        let transport = config.delivery.unwrap().transport;
        assert_eq!(
            transport,
            delivery::Transport::Spool {
                dir: PathBuf::from("/var/spool/kpr-bridge/out"),
                receipts: Some(PathBuf::from("/var/spool/kpr-bridge/in")),
            }
        );

        let same = text.replace("/var/spool/kpr-bridge/in", "/var/spool/kpr-bridge/out");
        let joined = Config::parse(&same, &example)
            .unwrap_err()
            .problems
            .join("\n");
        assert!(
            joined.contains("spool_receipts_dir is spool_dir"),
            "{joined}"
        );
        let amqp = text.replace("transport = \"spool\"", "transport = \"amqp\"");
        let joined = Config::parse(&amqp, &example)
            .unwrap_err()
            .problems
            .join("\n");
        assert!(
            joined.contains("only used with transport = \"spool\""),
            "{joined}"
        );
    }

    #[test]
    fn contacts_are_typed_and_an_iplos_contact_and_submitter_are_required_to_send() {
        let with = |contacts: &str| {
            let production = std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("ops/examples/kpr-bridge-production.toml"),
            )
            .unwrap();
            let start = production.find("[[contact]]").unwrap();
            let end = production.find("# How the agent paces itself").unwrap();
            let text = format!("{}{contacts}\n{}", &production[..start], &production[end..]);
            Config::parse(&text, Path::new("/etc/kpr-bridge/kpr-bridge.toml"))
        };
        let both = "[[contact]]\ntype = 16\nname = \"A\"\nemail = \"a@x\"\n\
                    [[contact]]\ntype = \"17\"\nname = \"A\"\nemail = \"a@x\"\n";
        let config = with(both).unwrap();
        let kinds: Vec<u8> = config.contacts.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [IPLOS_CONTACT, IPLOS_SUBMITTER]);

        let only_16 = "[[contact]]\ntype = 16\nname = \"A\"\nemail = \"a@x\"\n";
        let error = with(only_16).unwrap_err().to_string();
        assert!(error.contains("no IPLOS submitter (type = 17)"), "{error}");

        let old = "[contact]\nname = \"A\"\nemail = \"a@x\"\n";
        let error = with(old).unwrap_err().to_string();
        assert!(error.contains("[contact] is now [[contact]]"), "{error}");

        let bad = "[[contact]]\ntype = 42\nname = \"A\"\n";
        let error = with(bad).unwrap_err().to_string();
        assert!(error.contains("contact[0].type"), "{error}");
        assert!(error.contains("'contact[0].email'"), "{error}");
    }
}
