//! Settings: what the municipality reports as (number, HER-ids, mode), how it sends
//! (transport, certificates with days left), and the IPLOS contacts — which the IPLOS
//! submitter keeps here: saved in the state store with who changed them and when, and used
//! by every message from then on (the configuration's `[[contact]]` tables are the start).

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::Session;
use super::view::{self, Chrome};
use super::{Admin, Shared};
use crate::config::delivery::Transport;
use crate::config::{Contact, IPLOS_CONTACT, IPLOS_SUBMITTER, Mode, url};
use crate::status::certificates;

struct CertificateLine {
    name: &'static str,
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
    facts: Vec<(&'static str, String)>,
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

fn facts(admin: &Admin) -> Vec<(&'static str, String)> {
    let config = &admin.config;
    let mut facts = vec![
        (
            "Municipality",
            format!("{} {}", config.municipality, config.municipality_name),
        ),
        (
            "Organisation number",
            config.municipality_orgnr.clone().unwrap_or_default(),
        ),
        ("HER-id, municipality", config.her_id.clone()),
        ("HER-id, reporting unit", config.her_id_service_unit.clone()),
        (
            "Mode",
            match config.mode {
                Mode::Test => "test: messages go to KPR Validering".into(),
                Mode::Production => "production: messages go to the register".into(),
            },
        ),
        (
            "Daily run",
            format!(
                "{} (cron, Norwegian time); MsgHead type {}",
                config.agent.schedule.text(),
                config.daily.msg_type
            ),
        ),
    ];
    let transport = match config.delivery.as_ref().map(|d| &d.transport) {
        Some(Transport::Amqp { broker, queues }) => format!(
            "AMQP {}: to KPR's queue {}, receipts on {}, error reports on {}",
            url::redacted(&broker.url),
            queues.kpr,
            queues.receipts,
            queues.errors
        ),
        Some(Transport::Spool { dir, receipts }) => format!(
            "spool: messages written to {}{}",
            dir.display(),
            receipts
                .as_ref()
                .map(|r| format!(", receipts read from {}", r.display()))
                .unwrap_or_default()
        ),
        None => "none configured".into(),
    };
    facts.push(("Transport", transport));
    facts.push(("Sources", crate::status::sources_line(config)));
    facts
}

async fn render(admin: &Shared, session: &Session, problem: String, saved: bool) -> Response {
    let now = admin.clock.now();
    let (contacts, contacts_from) = match admin.store().saved_contacts().await {
        Ok(Some(stored)) => (
            stored.contacts,
            format!(
                "Saved by {} on {}.",
                stored.changed_by,
                view::oslo(stored.changed_at)
            ),
        ),
        Ok(None) => (
            admin.config.contacts.clone(),
            "From the configuration file; saving them here replaces those from then on.".into(),
        ),
        Err(e) => return view::store_failed(&e),
    };
    let days = admin.config.alerts.certificate_days;
    let certificates = admin
        .config
        .delivery
        .as_ref()
        .map(|d| certificates::read(&d.certificates, now))
        .unwrap_or_default()
        .into_iter()
        .map(|c| CertificateLine {
            needs_action: c.needs_action(days),
            name: c.name,
            subject: c.subject.clone().unwrap_or_default(),
            ends: view::oslo_opt(c.not_after),
            days_left: c.days_left.map(|d| d.to_string()).unwrap_or_default(),
            problem: c.problem.clone().unwrap_or_default(),
        })
        .collect();
    view::page(&Page {
        chrome: Chrome::new(admin, session, "Settings", "/settings"),
        facts: facts(admin),
        certificates,
        contact: fields(&contacts, IPLOS_CONTACT),
        submitter: fields(&contacts, IPLOS_SUBMITTER),
        contacts_from,
        problem,
        saved,
    })
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
fn contact(kind: u8, role: &str, name: &str, phone: &str, email: &str) -> Result<Contact, String> {
    let (name, phone, email) = (name.trim(), phone.trim(), email.trim());
    if name.is_empty() {
        return Err(format!("The {role} needs a name."));
    }
    let at = email.find('@');
    if !at.is_some_and(|at| at > 0 && at + 1 < email.len()) || email.contains(char::is_whitespace) {
        return Err(format!(
            "The {role}'s e-mail address '{email}' is not an address such as name@kommune.no."
        ));
    }
    if !phone
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()".contains(c))
    {
        return Err(format!(
            "The {role}'s phone number '{phone}' has letters in it."
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
    contact_fields: [&str; 3],
    submitter: [&str; 3],
) -> Result<Vec<Contact>, String> {
    let [name, email, phone] = contact_fields;
    let first = contact(IPLOS_CONTACT, "IPLOS contact", name, phone, email)?;
    let [name, email, phone] = submitter;
    let second = contact(IPLOS_SUBMITTER, "IPLOS submitter", name, phone, email)?;
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
        return view::store_failed(&e);
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
