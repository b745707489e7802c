//! Settings: what the municipality reports as (number, HER-ids, mode), how it sends
//! (transport, certificates with days left), and the IPLOS contacts — which the IPLOS
//! submitter keeps here: saved in the state store with who changed them and when, and used
//! by every message from then on (the configuration's `[[contact]]` tables are the start).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::chrome::Chrome;
use super::session::Session;
use super::view;
use super::{Admin, Shared};
use crate::config::delivery::Transport;
use crate::config::{Mode, url};
use crate::i18n::Language;
use crate::model::register::{Contact, IPLOS_CONTACT, IPLOS_SUBMITTER};
use crate::status::certificates;
use crate::t;

struct CertificateLine {
    name: String,
    subject: String,
    ends: String,
    days_left: String,
    problem: String,
    needs_action: bool,
}

/// One contact as the form shows it.
#[derive(Default)]
struct ContactFields {
    name: String,
    phone: String,
    email: String,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct Page {
    chrome: Chrome,
    facts: Vec<(String, String)>,
    certificates: Vec<CertificateLine>,
    contact: ContactFields,
    submitter: ContactFields,
    contacts_from: String,
    problem: String,
    saved: bool,
}

fn fields(contacts: &[Contact], kind: u8) -> ContactFields {
    contacts
        .iter()
        .find(|c| c.kind == kind)
        .map(|c| ContactFields {
            name: c.name.clone(),
            phone: c.phone.clone().unwrap_or_default(),
            email: c.email.clone(),
        })
        .unwrap_or_default()
}

fn facts(lang: Language, admin: &Admin) -> Vec<(String, String)> {
    let config = &admin.config;
    let mut facts = vec![
        (
            t!(lang, "settings-municipality"),
            format!("{} {}", config.municipality, config.municipality_name),
        ),
        (
            t!(lang, "settings-orgnr"),
            config.municipality_orgnr.clone().unwrap_or_default(),
        ),
        (t!(lang, "settings-her-municipality"), config.her_id.clone()),
        (
            t!(lang, "settings-her-unit"),
            config.her_id_service_unit.clone(),
        ),
        (
            t!(lang, "settings-mode"),
            match config.mode {
                Mode::Test => t!(lang, "settings-mode-test"),
                Mode::Production => t!(lang, "settings-mode-production"),
            },
        ),
        (
            t!(lang, "settings-daily-run"),
            t!(
                lang,
                "settings-daily-run-value",
                schedule = config.agent.schedule.text(),
                msg_type = config.daily.msg_type.clone()
            ),
        ),
    ];
    let transport = match config.delivery.as_ref().map(|d| &d.transport) {
        Some(Transport::Amqp { broker, queues }) => t!(
            lang,
            "settings-transport-amqp",
            broker = url::redacted(&broker.url),
            kpr = queues.kpr.clone(),
            receipts = queues.receipts.clone(),
            errors = queues.errors.clone()
        ),
        Some(Transport::Spool {
            dir,
            receipts: None,
        }) => t!(
            lang,
            "settings-transport-spool",
            dir = dir.display().to_string()
        ),
        Some(Transport::Spool {
            dir,
            receipts: Some(receipts),
        }) => t!(
            lang,
            "settings-transport-spool-receipts",
            dir = dir.display().to_string(),
            receipts = receipts.display().to_string()
        ),
        None => t!(lang, "settings-transport-none"),
    };
    facts.push((t!(lang, "settings-transport"), transport));
    facts.push((
        t!(lang, "settings-sources"),
        crate::status::sources_line(config, lang),
    ));
    facts
}

async fn render(admin: &Shared, session: &Session, problem: String, saved: bool) -> Response {
    let lang = session.language;
    let now = admin.clock.now();
    let (contacts, contacts_from) = match admin.store().saved_contacts().await {
        Ok(Some(stored)) => (
            stored.contacts,
            t!(
                lang,
                "settings-contacts-saved-by",
                who = stored.changed_by,
                at = lang.moment(stored.changed_at)
            ),
        ),
        Ok(None) => (
            admin.config.contacts.clone(),
            t!(lang, "settings-contacts-from-configuration"),
        ),
        Err(e) => return view::store_failed(lang, &e),
    };
    let days = admin.config.alerts.certificate_days;
    let certificates = admin
        .config
        .delivery
        .as_ref()
        .map(|d| certificates::read(&d.certificates, now, lang))
        .unwrap_or_default()
        .into_iter()
        .map(|c| CertificateLine {
            needs_action: c.needs_action(days),
            name: c.role_name(lang),
            subject: c.subject.clone().unwrap_or_default(),
            ends: c.not_after.map(|at| lang.moment(at)).unwrap_or_default(),
            days_left: c.days_left.map(|d| lang.number(d)).unwrap_or_default(),
            problem: c.problem.clone().unwrap_or_default(),
        })
        .collect();
    view::page(
        lang,
        &Page {
            chrome: Chrome::new(admin, session, t!(lang, "settings-title"), "/settings"),
            facts: facts(lang, admin),
            certificates,
            contact: fields(&contacts, IPLOS_CONTACT),
            submitter: fields(&contacts, IPLOS_SUBMITTER),
            contacts_from,
            problem,
            saved,
        },
    )
}

#[derive(Deserialize)]
pub struct Saved {
    saved: Option<String>,
}

pub async fn page(
    State(admin): State<Shared>,
    session: Session,
    Query(query): Query<Saved>,
) -> Response {
    render(&admin, &session, String::new(), query.saved.is_some()).await
}

#[derive(Deserialize)]
pub struct ContactsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    contact_phone: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    submitter_name: String,
    #[serde(default)]
    submitter_phone: String,
    #[serde(default)]
    submitter_email: String,
}

/// A contact from its fields, or what is wrong with them.
fn contact(lang: Language, kind: u8, [name, phone, email]: [&str; 3]) -> Result<Contact, String> {
    let (name, phone, email) = (name.trim(), phone.trim(), email.trim());
    let role = match kind {
        IPLOS_CONTACT => t!(lang, "settings-role-contact"),
        _ => t!(lang, "settings-role-submitter"),
    };
    if name.is_empty() {
        return Err(t!(lang, "settings-contact-no-name", role = role));
    }
    let at = email.find('@');
    if !at.is_some_and(|at| at > 0 && at + 1 < email.len()) || email.contains(char::is_whitespace) {
        return Err(t!(
            lang,
            "settings-contact-bad-email",
            role = role,
            email = email.to_string()
        ));
    }
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c))
    {
        return Err(t!(
            lang,
            "settings-contact-bad-phone",
            role = role,
            phone = phone.to_string()
        ));
    }
    Ok(Contact {
        kind,
        name: name.to_string(),
        phone: (!phone.is_empty()).then(|| phone.to_string()),
        email: email.to_string(),
    })
}

/// The IPLOS contact (16) and submitter (17) from their (name, e-mail, phone), as the page
/// and `kpr-bridge contacts` take them, or what is wrong with the first that is wrong.
pub fn contact_pair(
    lang: Language,
    contact_fields: [&str; 3],
    submitter: [&str; 3],
) -> Result<Vec<Contact>, String> {
    let [name, email, phone] = contact_fields;
    let first = contact(lang, IPLOS_CONTACT, [name, phone, email])?;
    let [name, email, phone] = submitter;
    let second = contact(lang, IPLOS_SUBMITTER, [name, phone, email])?;
    Ok(vec![first, second])
}

/// The contacts as the audit log names them.
pub fn described(contacts: &[Contact]) -> String {
    contacts
        .iter()
        .map(|c| format!("type {}: {} <{}>", c.kind, c.name, c.email))
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn save_contacts(
    State(admin): State<Shared>,
    session: Session,
    axum::Form(form): axum::Form<ContactsForm>,
) -> Response {
    if let Err(refused) = session.check(&form.csrf) {
        return refused;
    }
    let contacts = contact_pair(
        session.language,
        [&form.contact_name, &form.contact_email, &form.contact_phone],
        [
            &form.submitter_name,
            &form.submitter_email,
            &form.submitter_phone,
        ],
    );
    let contacts = match contacts {
        Ok(contacts) => contacts,
        Err(problem) => return render(&admin, &session, problem, false).await,
    };
    let now = admin.clock.now();
    if let Err(e) = admin
        .store()
        .save_contacts(&contacts, &session.user, now)
        .await
    {
        return view::store_failed(session.language, &e);
    }
    tracing::info!(user = %session.user, "IPLOS contacts changed on the administration page");
    if let Err(response) = session
        .audit(&admin, "contacts changed", &described(&contacts))
        .await
    {
        return response;
    }
    Redirect::to(&format!("{}/settings?saved=1", admin.base)).into_response()
}
