//! The AMQP 1.0 view of a message on RabbitMQ 3.x, both ways.
//!
//! NHN's receivers (Helsenorge.Messaging) are AMQP 1.0 clients. On RabbitMQ 3.x with its AMQP
//! 1.0 plugin, a message published over 0-9-1 reaches them with no application properties at
//! all (0-9-1 headers are not turned into them), `subject` set to the routing key and `to`
//! empty. What does cross is two headers holding the AMQP 1.0 binary encoding of the two
//! sections: `x-amqp-1.0-properties` (the described list 0x73; when present it replaces the
//! whole properties section, so it carries every field) and `x-amqp-1.0-app-properties` (the
//! described map 0x74). RabbitMQ hands the same two headers to a 0-9-1 consumer of a message
//! an AMQP 1.0 client sent, with no plain headers beside them. The codec is fe2o3-amqp's.
//!
//! [`with_sections`] adds both headers to what we publish ([`Interop::Amqp10Headers`]);
//! [`View`] reads a message's properties as an AMQP 1.0 receiver sees them, or leniently
//! (plain headers first, the sections where they are missing) for what we take in.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use fe2o3_amqp_types::messaging::{ApplicationProperties, MessageId, Properties};
use fe2o3_amqp_types::primitives::{SimpleValue, Symbol, Timestamp};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, ByteArray, LongString};

/// The 0-9-1 header holding the AMQP 1.0 properties section.
pub const PROPERTIES_HEADER: &str = "x-amqp-1.0-properties";
/// The 0-9-1 header holding the AMQP 1.0 application-properties section.
pub const APP_PROPERTIES_HEADER: &str = "x-amqp-1.0-app-properties";

/// The plain headers that are application properties in AMQP 1.0 (the rest, `to` and
/// `subject`, are fields of the properties section).
const APPLICATION_PROPERTIES: [&str; 7] = [
    "fromHerId",
    "toHerId",
    "applicationTimeStamp",
    "cpaId",
    "errorCondition",
    "errorDescription",
    "originalMessageId",
];

/// `amqp` with both AMQP 1.0 sections added as headers, made from its plain headers and
/// 0-9-1 properties; `queue` is the routing key, the `to` when no `to` header names one.
pub fn with_sections(amqp: BasicProperties, queue: &str) -> BasicProperties {
    let plain = View::plain(&amqp);
    // Helsenorge.Messaging's creation-time is the application time stamp, to the millisecond.
    let creation_time = plain
        .application
        .get("applicationTimeStamp")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|at| at.timestamp_millis())
        .or_else(|| amqp.timestamp().map(|seconds| seconds as i64 * 1000))
        .map(Timestamp::from_milliseconds);
    let properties = Properties {
        message_id: plain.message_id.clone().map(MessageId::String),
        to: Some(plain.to.clone().unwrap_or_else(|| queue.to_string())),
        subject: plain.subject.clone(),
        reply_to: plain.reply_to.clone(),
        correlation_id: plain.correlation_id.clone().map(MessageId::String),
        content_type: plain.content_type.clone().map(Symbol::from),
        creation_time,
        ..Properties::default()
    };
    let mut application = ApplicationProperties::default();
    for (key, value) in &plain.application {
        application
            .0
            .insert(key.clone(), SimpleValue::String(value.clone()));
    }
    let mut headers = amqp.headers().clone().unwrap_or_default();
    for (name, section) in [
        (PROPERTIES_HEADER, serde_amqp::to_vec(&properties)),
        (APP_PROPERTIES_HEADER, serde_amqp::to_vec(&application)),
    ] {
        // Strings and symbols only: the encoder has no way to fail on them.
        let section = section.expect("AMQP 1.0 sections of strings encode");
        headers.insert(
            name.into(),
            AMQPValue::LongString(LongString::from(section)),
        );
    }
    amqp.with_headers(headers)
}

/// A message's properties as text, by their AMQP 1.0 names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    pub message_id: Option<String>,
    pub to: Option<String>,
    pub subject: Option<String>,
    pub reply_to: Option<String>,
    pub correlation_id: Option<String>,
    pub content_type: Option<String>,
    pub creation_time: Option<DateTime<Utc>>,
    /// Application properties (`fromHerId`, `errorCondition`, …), values as text.
    pub application: BTreeMap<String, String>,
}

impl View {
    /// What an AMQP 1.0 receiver on RabbitMQ 3.x sees of a message published over 0-9-1
    /// to `routing_key`: the sections where the headers carry them; without the properties
    /// header the broker makes one from the 0-9-1 properties (the subject the routing key,
    /// no `to`); without the application-properties header there are none. A section that
    /// cannot be decoded is as good as absent to such a receiver, and is named in the error.
    pub fn amqp10(amqp: &BasicProperties, routing_key: &str) -> Result<View, String> {
        let mut view = match section(amqp, PROPERTIES_HEADER) {
            Some(bytes) => from_properties(&bytes)?,
            None => View {
                message_id: text(amqp.message_id()),
                subject: Some(routing_key.to_string()),
                reply_to: text(amqp.reply_to()),
                correlation_id: text(amqp.correlation_id()),
                content_type: text(amqp.content_type()),
                ..View::default()
            },
        };
        if let Some(bytes) = section(amqp, APP_PROPERTIES_HEADER) {
            view.application = from_application_properties(&bytes)?;
        }
        Ok(view)
    }

    /// What we take in: the plain headers and 0-9-1 properties, each field missing there
    /// taken from the AMQP 1.0 sections (a sender on AMQP 1.0 sends only those). A section
    /// that cannot be decoded adds nothing.
    pub fn lenient(amqp: &BasicProperties) -> View {
        let mut view = View::plain(amqp);
        let sections = section(amqp, PROPERTIES_HEADER).and_then(|b| from_properties(&b).ok());
        if let Some(sections) = sections {
            let fill = |mine: &mut Option<String>, theirs: Option<String>| {
                if mine.as_deref().is_none_or(str::is_empty) {
                    *mine = theirs;
                }
            };
            fill(&mut view.message_id, sections.message_id);
            fill(&mut view.to, sections.to);
            fill(&mut view.subject, sections.subject);
            fill(&mut view.reply_to, sections.reply_to);
            fill(&mut view.correlation_id, sections.correlation_id);
            fill(&mut view.content_type, sections.content_type);
            view.creation_time = view.creation_time.or(sections.creation_time);
        }
        let application = section(amqp, APP_PROPERTIES_HEADER)
            .and_then(|b| from_application_properties(&b).ok())
            .unwrap_or_default();
        for (key, value) in application {
            view.application.entry(key).or_insert(value);
        }
        view
    }

    /// The plain headers and 0-9-1 properties alone, as a 0-9-1 sender puts them.
    fn plain(amqp: &BasicProperties) -> View {
        let header = |key: &str| plain_header(amqp, key);
        View {
            message_id: text(amqp.message_id()),
            to: header("to"),
            subject: header("subject").or_else(|| text(amqp.kind())),
            reply_to: text(amqp.reply_to()),
            correlation_id: text(amqp.correlation_id()),
            content_type: text(amqp.content_type()),
            creation_time: amqp
                .timestamp()
                .and_then(|s| DateTime::from_timestamp(s as i64, 0)),
            application: APPLICATION_PROPERTIES
                .iter()
                .filter_map(|key| Some((key.to_string(), header(key)?)))
                .collect(),
        }
    }
}

/// A plain header's value as text, whichever string type the sender used.
pub fn plain_header(amqp: &BasicProperties, key: &str) -> Option<String> {
    let value = amqp.headers().as_ref()?.inner().get(key)?;
    match value {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        AMQPValue::LongLongInt(n) => Some(n.to_string()),
        AMQPValue::LongInt(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether `key` is one of the two section headers (binary, never shown as text).
pub fn is_section_header(key: &str) -> bool {
    key == PROPERTIES_HEADER || key == APP_PROPERTIES_HEADER
}

/// A section header's bytes, as a long string or a byte array.
fn section(amqp: &BasicProperties, key: &str) -> Option<Vec<u8>> {
    match amqp.headers().as_ref()?.inner().get(key)? {
        AMQPValue::LongString(s) => Some(s.as_bytes().to_vec()),
        AMQPValue::ByteArray(bytes) => Some(ByteArray::as_slice(bytes).to_vec()),
        _ => None,
    }
}

fn from_properties(bytes: &[u8]) -> Result<View, String> {
    let properties: Properties = serde_amqp::from_slice(bytes).map_err(|e| {
        format!("the {PROPERTIES_HEADER} header is not an AMQP 1.0 properties section: {e}")
    })?;
    Ok(View {
        message_id: properties.message_id.map(message_id),
        to: properties.to,
        subject: properties.subject,
        reply_to: properties.reply_to,
        correlation_id: properties.correlation_id.map(message_id),
        content_type: properties.content_type.map(|s| s.0),
        creation_time: properties
            .creation_time
            .and_then(|t| DateTime::from_timestamp_millis(t.milliseconds())),
        application: BTreeMap::new(),
    })
}

fn from_application_properties(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let application: ApplicationProperties = serde_amqp::from_slice(bytes).map_err(|e| {
        format!(
            "the {APP_PROPERTIES_HEADER} header is not an AMQP 1.0 application-properties section: {e}"
        )
    })?;
    Ok(application
        .0
        .into_iter()
        .map(|(key, value)| (key, simple_text(value)))
        .collect())
}

/// An application property's value as text: strings as they are, numbers as digits (a
/// sender may give a HER-id as a number).
fn simple_text(value: SimpleValue) -> String {
    match value {
        SimpleValue::String(s) => s,
        SimpleValue::Symbol(s) => s.0,
        SimpleValue::Bool(b) => b.to_string(),
        SimpleValue::Ubyte(n) => n.to_string(),
        SimpleValue::Ushort(n) => n.to_string(),
        SimpleValue::Uint(n) => n.to_string(),
        SimpleValue::Ulong(n) => n.to_string(),
        SimpleValue::Byte(n) => n.to_string(),
        SimpleValue::Short(n) => n.to_string(),
        SimpleValue::Int(n) => n.to_string(),
        SimpleValue::Long(n) => n.to_string(),
        SimpleValue::Timestamp(t) => DateTime::from_timestamp_millis(t.milliseconds())
            .map_or_else(|| t.milliseconds().to_string(), |t| t.to_rfc3339()),
        SimpleValue::Uuid(u) => uuid::Uuid::from_bytes(*u.as_inner()).to_string(),
        other => format!("{other:?}"),
    }
}

fn message_id(id: MessageId) -> String {
    match id {
        MessageId::String(s) => s,
        MessageId::Ulong(n) => n.to_string(),
        MessageId::Uuid(u) => uuid::Uuid::from_bytes(*u.as_inner()).to_string(),
        MessageId::Binary(b) => b.iter().map(|byte| format!("{byte:02x}")).collect(),
    }
}

fn text(value: &Option<lapin::types::ShortString>) -> Option<String> {
    value.as_ref().map(|s| s.as_str().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lapin::types::FieldTable;

    fn published() -> BasicProperties {
        let mut headers = FieldTable::default();
        for (key, value) in [
            ("to", "171479_async"),
            ("subject", "KPR_IPL"),
            ("fromHerId", "67890"),
            ("toHerId", "171479"),
            ("applicationTimeStamp", "2026-01-05T02:30:00.123Z"),
        ] {
            headers.insert(key.into(), AMQPValue::LongString(value.into()));
        }
        BasicProperties::default()
            .with_message_id("m-1".into())
            .with_correlation_id("m-1".into())
            .with_reply_to("67890_async".into())
            .with_content_type("application/pkcs7-mime".into())
            .with_headers(headers)
    }

    #[test]
    fn what_we_publish_is_what_an_amqp10_receiver_reads() {
        let amqp = with_sections(published(), "171479_async");
        let view = View::amqp10(&amqp, "routing-key").unwrap();
        assert_eq!(view.message_id.as_deref(), Some("m-1"));
        assert_eq!(view.to.as_deref(), Some("171479_async"));
        assert_eq!(view.subject.as_deref(), Some("KPR_IPL"));
        assert_eq!(view.reply_to.as_deref(), Some("67890_async"));
        assert_eq!(view.content_type.as_deref(), Some("application/pkcs7-mime"));
        assert_eq!(
            view.creation_time.unwrap().to_rfc3339(),
            "2026-01-05T02:30:00.123+00:00"
        );
        assert_eq!(view.application["fromHerId"], "67890");
        assert_eq!(view.application["toHerId"], "171479");
        assert_eq!(
            view.application["applicationTimeStamp"],
            "2026-01-05T02:30:00.123Z"
        );
        // The sections begin with their descriptors, as RabbitMQ requires.
        let headers = amqp.headers().clone().unwrap();
        let AMQPValue::LongString(properties) = &headers.inner()[PROPERTIES_HEADER] else {
            panic!("a long string");
        };
        assert_eq!(&properties.as_bytes()[..3], &[0x00, 0x53, 0x73]);
    }

    #[test]
    fn without_the_sections_an_amqp10_receiver_sees_no_application_properties() {
        let view = View::amqp10(&published(), "171479_async").unwrap();
        assert!(view.application.is_empty());
        assert_eq!(
            view.subject.as_deref(),
            Some("171479_async"),
            "the routing key"
        );
        assert_eq!(view.to, None);
        // What we take in is read all the same, from the plain headers.
        let lenient = View::lenient(&published());
        assert_eq!(lenient.application["fromHerId"], "67890");
    }

    #[test]
    fn sections_made_by_an_amqp10_client_are_read() {
        // As python-qpid-proton sends them: the properties as a list8, the application
        // properties as a map32 (4 pairs: fromHerId, toHerId, applicationTimeStamp, cpaId).
        let hex = |text: &str| -> Vec<u8> {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect()
        };
        let properties = hex(
            "005373c02d06a1056d73672d3140a10738313432393837a1064b50525f4950a1096b70722d7265706c79a106636f72722d31",
        );
        let application = hex(
            "005374d10000006600000008a10966726f6d4865724964a10738303934383636a107746f4865724964a10738313432393837a1146170706c69636174696f6e54696d655374616d70a114323032342d31322d30335430383a30303a30305aa1056370614964a1076370612d313233",
        );
        let mut headers = FieldTable::default();
        headers.insert(
            PROPERTIES_HEADER.into(),
            AMQPValue::LongString(properties.into()),
        );
        headers.insert(
            APP_PROPERTIES_HEADER.into(),
            AMQPValue::LongString(application.into()),
        );
        let amqp = BasicProperties::default().with_headers(headers);
        let view = View::lenient(&amqp);
        assert_eq!(view.message_id.as_deref(), Some("msg-1"));
        assert_eq!(view.to.as_deref(), Some("8142987"));
        assert_eq!(view.subject.as_deref(), Some("KPR_IP"));
        assert_eq!(view.reply_to.as_deref(), Some("kpr-reply"));
        assert_eq!(view.correlation_id.as_deref(), Some("corr-1"));
        assert_eq!(view.application["fromHerId"], "8094866");
        assert_eq!(view.application["cpaId"], "cpa-123");
        // A section that is not one is named.
        let mut broken = FieldTable::default();
        broken.insert(
            PROPERTIES_HEADER.into(),
            AMQPValue::LongString(b"not amqp".to_vec().into()),
        );
        let error =
            View::amqp10(&BasicProperties::default().with_headers(broken), "q").unwrap_err();
        assert!(error.contains(PROPERTIES_HEADER), "{error}");
    }
}
