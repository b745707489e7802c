//! The AMQP message properties NHN's Tjenestebuss expects, both ways.
//!
//! Helsenorge.Messaging speaks AMQP 1.0, whose `to` and `subject` properties AMQP 0-9-1 lacks:
//! on 0-9-1 they travel as headers of the same names (and `subject` also as the `type`
//! property), next to the application properties `fromHerId`, `toHerId`,
//! `applicationTimeStamp` (capital S, as NHN spells it) and `cpaId`. HER-ids stay text. What
//! an AMQP 1.0 receiver sees of them on RabbitMQ 3.x, and how they cross, is [`super::amqp10`]'s
//! part: [`Properties::read`] takes them from either.
//!
//! A spool directory carries the same properties beside each message as one JSON object of
//! strings ([`to_json`], [`from_json`]), so that a message read from a directory takes the
//! same path through the inbox and the test receiver as one taken from a queue.

use chrono::{DateTime, SecondsFormat, Utc};
use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use super::amqp10::{View, is_section_header, plain_header};

/// What a signed and encrypted message is, on the wire.
pub const CONTENT_TYPE: &str = "application/pkcs7-mime; smime-type=signed-and-enveloped-data";

/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// The properties of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Properties {
    pub message_id: String,
    pub correlation_id: String,
    /// MsgInfo/Type, such as `KPR_IPL`, or `AppRec` for a receipt.
    pub subject: String,
    /// The receiver's queue.
    pub to: String,
    /// The sender's own queue, where the answer goes.
    pub reply_to: String,
    pub from_her_id: String,
    pub to_her_id: String,
    pub application_timestamp: DateTime<Utc>,
    pub cpa_id: Option<String>,
}

/// The application properties a receiver refuses a message without, as NHN's do.
pub const REQUIRED: [&str; 5] = [
    "toHerId",
    "fromHerId",
    "subject",
    "applicationTimeStamp",
    "content-type",
];

impl Properties {
    pub fn to_amqp(&self) -> BasicProperties {
        let mut headers = FieldTable::default();
        let mut put = |key: &str, value: &str| {
            headers.insert(
                ShortString::from(key),
                AMQPValue::LongString(LongString::from(value)),
            );
        };
        put("to", &self.to);
        put("subject", &self.subject);
        put("fromHerId", &self.from_her_id);
        put("toHerId", &self.to_her_id);
        put(
            "applicationTimeStamp",
            &self
                .application_timestamp
                .to_rfc3339_opts(SecondsFormat::Millis, true),
        );
        if let Some(cpa_id) = &self.cpa_id {
            put("cpaId", cpa_id);
        }
        BasicProperties::default()
            .with_message_id(self.message_id.as_str().into())
            .with_correlation_id(self.correlation_id.as_str().into())
            .with_reply_to(self.reply_to.as_str().into())
            .with_type(self.subject.as_str().into())
            .with_content_type(CONTENT_TYPE.into())
            .with_delivery_mode(PERSISTENT)
            .with_timestamp(self.application_timestamp.timestamp().max(0) as u64)
            .with_headers(headers)
    }

    /// Reads the properties of a received message, from its plain headers or its AMQP 1.0
    /// sections; names every missing or malformed one.
    pub fn read(amqp: &BasicProperties) -> Result<Properties, Vec<String>> {
        Properties::from_view(View::lenient(amqp))
    }

    /// Reads the properties as an AMQP 1.0 receiver on RabbitMQ 3.x sees them (NHN's
    /// receivers), for a message published over 0-9-1 to `routing_key`.
    pub fn read_as_amqp10(
        amqp: &BasicProperties,
        routing_key: &str,
    ) -> Result<Properties, Vec<String>> {
        let view = View::amqp10(amqp, routing_key).map_err(|e| vec![e])?;
        let without_application = view.application.is_empty();
        Properties::from_view(view).map_err(|mut problems| {
            if without_application {
                problems.push(format!(
                    "an AMQP 1.0 receiver sees no application properties: the message has no {} header (kpr-bridge: [amqp] interop = \"amqp10-headers\")",
                    super::amqp10::APP_PROPERTIES_HEADER
                ));
            }
            problems
        })
    }

    fn from_view(view: View) -> Result<Properties, Vec<String>> {
        let mut problems = Vec::new();
        let header = |key: &str| view.application.get(key).cloned();
        let mut required = |key: &str, value: Option<String>| {
            value.filter(|v| !v.trim().is_empty()).unwrap_or_else(|| {
                problems.push(format!("{key} is missing"));
                String::new()
            })
        };
        let subject = required("subject", view.subject.clone());
        let from_her_id = required("fromHerId", header("fromHerId"));
        let to_her_id = required("toHerId", header("toHerId"));
        let timestamp = required("applicationTimeStamp", header("applicationTimeStamp"));
        let content_type = required("content-type", view.content_type.clone());
        let message_id = required("message-id", view.message_id.clone());
        let application_timestamp = DateTime::parse_from_rfc3339(&timestamp)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| {
                if !timestamp.is_empty() {
                    problems.push(format!(
                        "applicationTimeStamp '{timestamp}' is not an RFC 3339 time"
                    ));
                }
                DateTime::<Utc>::UNIX_EPOCH
            });
        if !content_type.is_empty() && !content_type.starts_with("application/pkcs7-mime") {
            problems.push(format!(
                "content-type '{content_type}' is not application/pkcs7-mime"
            ));
        }
        for (key, value) in [("fromHerId", &from_her_id), ("toHerId", &to_her_id)] {
            if !value.is_empty() && !value.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(format!("{key} '{value}' is not a HER-id"));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Properties {
            correlation_id: view.correlation_id.unwrap_or_else(|| message_id.clone()),
            message_id,
            subject,
            to: view.to.unwrap_or_default(),
            reply_to: view.reply_to.unwrap_or_default(),
            from_her_id,
            to_her_id,
            application_timestamp,
            cpa_id: header("cpaId"),
        })
    }
}

/// A header's value as text, whichever string type the sender used; an application property
/// that a sender on AMQP 1.0 put only in the `x-amqp-1.0-app-properties` section is read
/// from there.
pub fn header(amqp: &BasicProperties, key: &str) -> Option<String> {
    plain_header(amqp, key).or_else(|| View::lenient(amqp).application.remove(key))
}

/// The largest properties file a spool reader takes; real ones are a few hundred bytes.
pub const MAX_JSON_BYTES: usize = 64 << 10;

/// The properties as a spool writes them: the AMQP properties under their AMQP 1.0 names
/// (`message-id`, `correlation-id`, `reply-to`, `content-type`), then every header under its
/// own name; `subject` from `type` when no header carries it.
pub fn to_json(amqp: &BasicProperties) -> serde_json::Map<String, serde_json::Value> {
    let mut json = serde_json::Map::new();
    for (key, value) in [
        ("message-id", amqp.message_id()),
        ("correlation-id", amqp.correlation_id()),
        ("reply-to", amqp.reply_to()),
        ("content-type", amqp.content_type()),
    ] {
        if let Some(value) = short(value) {
            json.insert(key.into(), value.into());
        }
    }
    if let Some(headers) = amqp.headers() {
        // The binary AMQP 1.0 sections are for a broker, not a file: the spool carries what
        // they say under the plain names.
        for key in headers
            .inner()
            .keys()
            .filter(|k| !is_section_header(k.as_str()))
        {
            if let Some(value) = header(amqp, key.as_str()) {
                json.insert(key.to_string(), value.into());
            }
        }
    }
    if !json.contains_key("subject")
        && let Some(kind) = short(amqp.kind())
    {
        json.insert("subject".into(), kind.into());
    }
    json
}

/// Reads a spool's properties file back into AMQP properties, the inverse of [`to_json`]:
/// `subject` becomes both the header and `type`, as a sender on AMQP 0-9-1 puts it. Every
/// value must be a string (or a number, taken as its text); the error says which is not.
pub fn from_json(bytes: &[u8]) -> Result<BasicProperties, String> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a JSON object of properties: {e}"))?;
    let mut amqp = BasicProperties::default();
    let mut headers = FieldTable::default();
    for (key, value) in object {
        let text = match value {
            serde_json::Value::String(text) => text,
            serde_json::Value::Number(number) => number.to_string(),
            _ => return Err(format!("the property '{key}' is not a string")),
        };
        match key.as_str() {
            "message-id" => amqp = amqp.with_message_id(text.into()),
            "correlation-id" => amqp = amqp.with_correlation_id(text.into()),
            "reply-to" => amqp = amqp.with_reply_to(text.into()),
            "content-type" => amqp = amqp.with_content_type(text.into()),
            _ => {
                if key == "subject" {
                    amqp = amqp.with_type(text.as_str().into());
                }
                headers.insert(key.into(), AMQPValue::LongString(text.into()));
            }
        }
    }
    Ok(amqp.with_headers(headers))
}

fn short(value: &Option<ShortString>) -> Option<String> {
    value.as_ref().map(|s| s.as_str().to_string())
}

/// A transport error report, as NHN posts to a sender's `_error` queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorProperties {
    pub condition: String,
    pub description: String,
    pub original_message_id: String,
}

impl ErrorProperties {
    pub fn to_amqp(&self, message_id: &str) -> BasicProperties {
        let mut headers = FieldTable::default();
        for (key, value) in [
            ("errorCondition", &self.condition),
            ("errorDescription", &self.description),
            ("originalMessageId", &self.original_message_id),
        ] {
            headers.insert(key.into(), AMQPValue::LongString(value.as_str().into()));
        }
        BasicProperties::default()
            .with_message_id(message_id.into())
            .with_delivery_mode(PERSISTENT)
            .with_headers(headers)
    }

    /// Reads a report from plain headers, or from the AMQP 1.0 application properties an
    /// AMQP 1.0 sender (NHN) puts only there.
    pub fn read(amqp: &BasicProperties) -> Option<ErrorProperties> {
        Some(ErrorProperties {
            condition: header(amqp, "errorCondition")?,
            description: header(amqp, "errorDescription").unwrap_or_default(),
            original_message_id: header(amqp, "originalMessageId")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_survive_the_spool_json() {
        let properties = Properties {
            message_id: "m-1".into(),
            correlation_id: "c-1".into(),
            subject: "KPR_KTT".into(),
            to: "171479_async".into(),
            reply_to: "67890_async".into(),
            from_her_id: "67890".into(),
            to_her_id: "171479".into(),
            application_timestamp: "2026-01-05T02:30:00.123Z".parse().unwrap(),
            cpa_id: Some("cpa".into()),
        };
        let json = serde_json::to_vec(&to_json(&properties.to_amqp())).unwrap();
        let read = Properties::read(&from_json(&json).unwrap()).unwrap();
        assert_eq!(read, properties);
    }

    #[test]
    fn an_error_report_survives_the_spool_json() {
        let report = ErrorProperties {
            condition: "transport:invalid-field-value".into(),
            description: "toHerId is missing".into(),
            original_message_id: "m-1".into(),
        };
        let json = serde_json::to_vec(&to_json(&report.to_amqp("e-1"))).unwrap();
        let amqp = from_json(&json).unwrap();
        assert_eq!(ErrorProperties::read(&amqp), Some(report));
        assert_eq!(short(amqp.message_id()).as_deref(), Some("e-1"));
    }

    #[test]
    fn what_is_not_an_object_of_strings_is_named() {
        assert!(
            from_json(b"\x00garbage")
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(
            from_json(b"[1, 2]")
                .unwrap_err()
                .contains("not a JSON object")
        );
        let error = from_json(br#"{"subject": {"x": 1}}"#).unwrap_err();
        assert!(error.contains("'subject'"), "{error}");
    }
}
