//! Why a document is not valid, as the register would answer: each kind of fault ([`Invalid`])
//! has its AppRec code (T01 not XML, T02 invalid, T10 unknown type), with the problems found
//! line by line.

use std::fmt;
use std::path::Path;

use crate::message::guard;
use crate::redact::shown_value;

/// Problems shown by `Display`.
const SHOWN: usize = 5;

/// One line libxml2 (or the guard before it) found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line in the document; 0 when the problem has no line.
    pub line: u32,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}", self.message),
            line => write!(f, "line {line}: {}", self.message),
        }
    }
}

/// Why a document is not valid. Each kind maps to the AppRec error code KPR would answer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// No payload schema for the message type.
    UnknownType {
        msg_type: String,
        known: Vec<String>,
    },
    /// Not well-formed XML, or refused unread.
    NotXml { problems: Vec<Problem> },
    /// Well-formed, but not what the schema says.
    DoesNotValidate { problems: Vec<Problem> },
}

impl Invalid {
    /// The code of AppRec's error code system (8221) for this kind of fault.
    pub fn apprec_code(&self) -> &'static str {
        match self {
            Invalid::NotXml { .. } => "T01",
            Invalid::DoesNotValidate { .. } => "T02",
            Invalid::UnknownType { .. } => "T10",
        }
    }

    pub fn problems(&self) -> &[Problem] {
        match self {
            Invalid::NotXml { problems } | Invalid::DoesNotValidate { problems } => problems,
            Invalid::UnknownType { .. } => &[],
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let problems = match self {
            Invalid::UnknownType { msg_type, known } => {
                return write!(
                    f,
                    "message type {} has no payload schema (known: {}) — add its XSD to the \
                     configuration",
                    shown_value(msg_type),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
            Invalid::NotXml { problems } => {
                f.write_str("is not well-formed XML: ")?;
                problems
            }
            Invalid::DoesNotValidate { problems } => {
                f.write_str("does not validate against its schema: ")?;
                problems
            }
        };
        for (i, problem) in problems.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if problems.len() > SHOWN {
            write!(f, " (and {} more)", problems.len() - SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Invalid {}

pub(super) fn not_xml(line: u32, message: String) -> Invalid {
    Invalid::NotXml {
        problems: vec![Problem { line, message }],
    }
}

pub(super) fn refused(refused: guard::Refused) -> Invalid {
    not_xml(refused.line(), format!("the document {refused}"))
}

/// A file that cannot be read is a document that cannot be: T01, as KPR would answer.
pub(super) fn unreadable(file: &Path, reason: &dyn fmt::Display) -> Invalid {
    not_xml(
        0,
        format!(
            "the file {} cannot be read: {reason} — check that it exists and that kpr-bridge may \
             read it",
            file.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_per_kind() {
        let problems = Vec::new();
        assert_eq!(
            Invalid::NotXml {
                problems: problems.clone()
            }
            .apprec_code(),
            "T01"
        );
        assert_eq!(Invalid::DoesNotValidate { problems }.apprec_code(), "T02");
        let unknown = Invalid::UnknownType {
            msg_type: "KPR_X".into(),
            known: vec!["KPR_IPL".into()],
        };
        assert_eq!(unknown.apprec_code(), "T10");
        assert!(unknown.to_string().contains("known: KPR_IPL"), "{unknown}");
    }

    #[test]
    fn display_shows_the_first_few_with_their_lines() {
        let problems = (1..=7)
            .map(|line| Problem {
                line,
                message: format!("fault {line}"),
            })
            .collect();
        let shown = Invalid::DoesNotValidate { problems }.to_string();
        assert!(
            shown.starts_with("does not validate against its schema: line 1: fault 1; line 2:"),
            "{shown}"
        );
        assert!(shown.ends_with("line 5: fault 5 (and 2 more)"), "{shown}");
    }
}
