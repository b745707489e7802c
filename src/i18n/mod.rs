//! What people read, in their language: bokmål (`nb`, the default) or English (`en`).
//!
//! Every text a user reads — the administration page, the check report and table, `status`,
//! the alerts, the demo's summary — comes from the Fluent catalogs in `locales/<language>/`,
//! compiled into the binary. Logs, JSON keys, metric names and `--help` stay English: operators
//! search for them. Numbers, dates and times are written the way the language writes them
//! (`format.rs`); a code from the register's code lists is shown with the register's own name.

mod catalog;
mod format;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use catalog::{Args, CATALOGS, catalog_errors, message_ids};

/// A language people read kpr-bridge in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Norsk bokmål: the municipality's own language, and the default.
    #[default]
    Nb,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Nb, Language::En];

    /// The language tag, as in `<html lang="nb">` and in the configuration.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::En => "en",
        }
    }

    /// The text of a catalog message. A key missing from the catalog (a test keeps that from
    /// happening) shows as the key itself, so a page never breaks for a missing word.
    pub fn text(self, key: &str) -> String {
        catalog::format(self, key, None)
    }

    /// A message with its variables (see the `t!` macro).
    pub fn text_with(self, key: &str, args: &Args<'_>) -> String {
        catalog::format(self, key, Some(args))
    }

    /// The text of `key` if the catalog has it: for texts keyed by data, such as a code.
    pub fn text_if_any(self, key: &str) -> Option<String> {
        catalog::has(self, key).then(|| catalog::format(self, key, None))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(text: &str) -> Result<Language, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "nb" | "no" | "nb-no" => Ok(Language::Nb),
            "en" => Ok(Language::En),
            other => Err(format!(
                "language {other:?} is not one kpr-bridge speaks: use \"nb\" (bokmål) or \"en\""
            )),
        }
    }
}

/// A catalog message in `lang`, with named variables:
/// `t!(lang, "overview-title")`, `t!(lang, "messages-count", count = 3)`.
#[macro_export]
macro_rules! t {
    ($lang:expr, $key:literal) => {
        $lang.text($key)
    };
    ($lang:expr, $key:literal, $($name:ident = $value:expr),+ $(,)?) => {{
        let mut args = $crate::i18n::Args::new();
        $( args.set(stringify!($name), $value); )+
        $lang.text_with($key, &args)
    }};
}
