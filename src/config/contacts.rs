//! The `[[contact]]` tables: whom the register asks about the data, each checked — a type of
//! code system 8471, a name and an e-mail address (the identity message requires one).

use serde::Deserialize;

use crate::model::register::Contact;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawContact {
    /// 8471 code, as a number or as text.
    r#type: Option<toml::Value>,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

pub(super) fn contacts(raw: Option<toml::Value>, problems: &mut Vec<String>) -> Vec<Contact> {
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
