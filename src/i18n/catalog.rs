//! The catalogs: one Fluent bundle per language, built once from the `.ftl` files compiled in.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use unic_langid::LanguageIdentifier;

use super::Language;
use super::format;

/// A message's variables.
pub type Args<'a> = FluentArgs<'a>;

/// Every catalog file, per language, by name: one file a part of kpr-bridge people read.
pub const CATALOGS: &[(&str, &str, &str)] = &[
    catalog!("common"),
    catalog!("page"),
    catalog!("report"),
    catalog!("rules"),
    catalog!("controls"),
    catalog!("service_types"),
    catalog!("status"),
    catalog!("codes"),
    catalog!("alerts"),
    catalog!("demo"),
];

macro_rules! catalog {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../locales/nb/", $name, ".ftl")),
            include_str!(concat!("../../locales/en/", $name, ".ftl")),
        )
    };
}
use catalog;

struct Bundles {
    nb: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

static BUNDLES: LazyLock<Bundles> = LazyLock::new(|| Bundles {
    nb: bundle(Language::Nb),
    en: bundle(Language::En),
});

fn bundle(language: Language) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = language
        .code()
        .parse()
        .expect("nb and en are language tags");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks around variables: the texts go to terminals and e-mails too.
    bundle.set_use_isolating(false);
    bundle.set_formatter(Some(match language {
        Language::Nb => format::fluent_nb,
        Language::En => format::fluent_en,
    }));
    for &(name, nb, en) in CATALOGS {
        let source = match language {
            Language::Nb => nb,
            Language::En => en,
        };
        // A broken entry loses itself only; the catalog tests keep every entry whole.
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(
                catalog = name,
                language = language.code(),
                ?errors,
                "catalog entries clash"
            );
        }
    }
    bundle
}

fn of(language: Language) -> &'static FluentBundle<FluentResource> {
    match language {
        Language::Nb => &BUNDLES.nb,
        Language::En => &BUNDLES.en,
    }
}

pub(super) fn has(language: Language, key: &str) -> bool {
    let (id, attribute) = split(key);
    of(language)
        .get_message(id)
        .is_some_and(|m| attribute.is_none_or(|a| m.get_attribute(a).is_some()))
}

/// `message.attribute` names an attribute of a message.
fn split(key: &str) -> (&str, Option<&str>) {
    match key.split_once('.') {
        Some((id, attribute)) => (id, Some(attribute)),
        None => (key, None),
    }
}

pub(super) fn format(language: Language, key: &str, args: Option<&Args<'_>>) -> String {
    let bundle = of(language);
    let (id, attribute) = split(key);
    let pattern = bundle.get_message(id).and_then(|message| match attribute {
        Some(a) => message.get_attribute(a).map(|a| a.value()),
        None => message.value(),
    });
    let Some(pattern) = pattern else {
        tracing::error!(key, language = language.code(), "catalog message missing");
        return key.to_string();
    };
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        tracing::error!(
            key,
            language = language.code(),
            ?errors,
            "catalog message incomplete"
        );
    }
    text.into_owned()
}

/// The ids of every message in one language's catalogs, with `id.attribute` for attributes.
pub fn message_ids(language: Language) -> Vec<String> {
    let mut ids = Vec::new();
    for &(_, nb, en) in CATALOGS {
        let source = match language {
            Language::Nb => nb,
            Language::En => en,
        };
        let resource = FluentResource::try_new(source.to_string()).unwrap_or_else(|(r, _)| r);
        for entry in resource.entries() {
            if let fluent_syntax::ast::Entry::Message(message) = entry {
                ids.push(message.id.name.to_string());
                for attribute in &message.attributes {
                    ids.push(format!("{}.{}", message.id.name, attribute.id.name));
                }
            }
        }
    }
    ids
}

/// What is wrong in the catalog files as written: syntax errors, by file and language.
pub fn catalog_errors() -> Vec<String> {
    let mut problems = Vec::new();
    for &(name, nb, en) in CATALOGS {
        for (language, source) in [("nb", nb), ("en", en)] {
            if let Err((_, errors)) = FluentResource::try_new(source.to_string()) {
                for error in errors {
                    problems.push(format!("locales/{language}/{name}.ftl: {error:?}"));
                }
            }
        }
    }
    problems
}
