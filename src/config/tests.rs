//! The configuration's loading and checks, over whole files.

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
            Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge-production.toml"),
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
