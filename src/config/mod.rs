//! The configuration file (TOML), typed and validated at load.
//!
//! An operator fixes a configuration in one go, so loading reports *every* problem at once:
//! each unknown key (a typo is never silently ignored), each missing required key, each bad
//! value — all naming the file. Municipality numbers and HER-ids are text everywhere: `0301`
//! must stay `0301`. `ops/examples/kpr-bridge.toml` shows every option with comments.

pub mod admin;
pub mod agent;
pub mod alerts;
mod contacts;
pub mod daily;
pub mod delivery;
pub mod receiver;
pub mod schedule;
mod sources;
pub mod url;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::i18n::Language;
use crate::model::municipalities::municipalities;
use crate::model::register::{Contact, IPLOS_CONTACT, IPLOS_SUBMITTER, Target};
pub use sources::{DEFAULT_KEEP_DONE, DEFAULT_SETTLE, Queries, SourceConfig, SourceKind};

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

/// The names real EPJs give their test patients, used when the configuration gives none.
pub const DEFAULT_TEST_USER_PATTERNS: [&str; 3] = ["Donald Duck", "Test *", "* Testesen"];

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
    sources: Vec<sources::RawSource>,
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

    let sources = sources::sources(raw.sources, raw.mapping, base, problems);

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
    let contacts = contacts::contacts(raw.contact, problems);
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
        .unwrap_or_else(|| DEFAULT_TEST_USER_PATTERNS.map(String::from).to_vec());
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

#[cfg(test)]
mod tests;
