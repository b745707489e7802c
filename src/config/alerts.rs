//! The `[alerts]` part of a configuration: how the operator is told that something needs
//! action. Optional as a whole: without a command or a webhook, alerts go to the log only.

use std::path::Path;

use serde::Deserialize;

/// How many days before a certificate ends it is raised, by default.
pub const DEFAULT_CERTIFICATE_DAYS: u32 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alerts {
    /// A program and its arguments (no shell), run once per alert with the alert as JSON on
    /// stdin.
    pub command: Option<Vec<String>>,
    /// An `https://` (or `http://`) URL each alert is POSTed to as JSON.
    pub webhook: Option<String>,
    /// A certificate that ends within this many days is raised (and `status` exits 1).
    pub certificate_days: i64,
}

impl Default for Alerts {
    fn default() -> Alerts {
        Alerts {
            command: None,
            webhook: None,
            certificate_days: i64::from(DEFAULT_CERTIFICATE_DAYS),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct RawAlerts {
    command: Option<Vec<String>>,
    webhook: Option<String>,
    certificate_days: Option<u32>,
}

pub(super) fn alerts(raw: Option<RawAlerts>, base: &Path, problems: &mut Vec<String>) -> Alerts {
    let raw = raw.unwrap_or_default();
    let command = match raw.command {
        None => None,
        Some(argv) if argv.first().is_none_or(|program| program.trim().is_empty()) => {
            problems.push(
                "alerts.command: give the program and its arguments, such as [\"/usr/local/bin/notify\", \"--to\", \"drift\"]"
                    .into(),
            );
            None
        }
        Some(mut argv) => {
            // A relative path with a directory in it is relative to the configuration, like
            // every other path; a bare name is looked up in PATH.
            if argv[0].contains('/') && !argv[0].starts_with('/') {
                argv[0] = base.join(&argv[0]).display().to_string();
            }
            Some(argv)
        }
    };
    let webhook = raw.webhook.and_then(|url| {
        match reqwest::Url::parse(&url) {
            Ok(parsed) if matches!(parsed.scheme(), "https" | "http") && parsed.has_host() => {
                Some(url)
            }
            _ => {
                problems.push(format!(
                    "alerts.webhook: '{}' is not an https:// URL; give the address alerts are POSTed to",
                    super::url::redacted(&url)
                ));
                None
            }
        }
    });
    let days = raw.certificate_days.unwrap_or(DEFAULT_CERTIFICATE_DAYS);
    if !(1..=365).contains(&days) {
        problems.push(format!(
            "alerts.certificate_days: {days} is not between 1 and 365 (default {DEFAULT_CERTIFICATE_DAYS})"
        ));
    }
    Alerts {
        command,
        webhook,
        certificate_days: i64::from(days.clamp(1, 365)),
    }
}

/// A webhook URL as logs may show it: scheme, host and port only, since the path or query
/// of a webhook often is its secret.
pub fn shown_webhook(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or("?");
            let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
            let rest = if parsed.path() == "/" && parsed.query().is_none() {
                ""
            } else {
                "/…"
            };
            format!("{}://{host}{port}{rest}", parsed.scheme())
        }
        Err(_) => "(the configured webhook)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Alerts, Vec<String>) {
        let raw: RawAlerts = toml::from_str(text).unwrap();
        let mut problems = Vec::new();
        let alerts = alerts(Some(raw), Path::new("/etc/kpr-bridge"), &mut problems);
        (alerts, problems)
    }

    #[test]
    fn a_relative_program_is_anchored_to_the_configuration() {
        let (alerts, problems) =
            parse("command = [\"bin/notify\", \"--to\", \"drift\"]\ncertificate_days = 45");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            alerts.command.unwrap(),
            ["/etc/kpr-bridge/bin/notify", "--to", "drift"]
        );
        assert_eq!(alerts.certificate_days, 45);
        assert_eq!(parse("").0, Alerts::default());
    }

    #[test]
    fn bad_values_are_named() {
        let (_, problems) =
            parse("command = []\nwebhook = \"ftp://u:pw@x/y\"\ncertificate_days = 0");
        let joined = problems.join("\n");
        assert!(joined.contains("alerts.command"), "{joined}");
        assert!(
            joined.contains("alerts.webhook") && !joined.contains("pw"),
            "{joined}"
        );
        assert!(joined.contains("alerts.certificate_days"), "{joined}");
    }

    #[test]
    fn a_webhook_is_shown_without_its_secret_parts() {
        assert_eq!(
            shown_webhook("https://user:pw@hooks.example.org/services/T0/B0/secret?k=v"),
            "https://hooks.example.org/…"
        );
        assert_eq!(
            shown_webhook("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080"
        );
    }
}
