//! KPR's answers in plain words: the AppRec status (code system 8258) and error codes (8221),
//! each with what it means and what to do, for an IPLOS contact rather than a programmer.
//! A code not in the table falls back to the text KPR sent with it.

/// What an error code means and what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Explained {
    pub meaning: &'static str,
    pub what_to_do: &'static str,
}

const fn explained(meaning: &'static str, what_to_do: &'static str) -> Explained {
    Explained {
        meaning,
        what_to_do,
    }
}

const REPORT_IT: &str = "This is a fault in how the message was made: report it to kpr-bridge's \
                         maintainers with the message id.";

/// The error codes of code system 8221 that KPR answers with (domain brief).
static CODES: &[(&str, Explained)] = &[
    (
        "E10",
        explained("KPR found the message id invalid.", REPORT_IT),
    ),
    (
        "E20",
        explained(
            "KPR says the message was addressed to a receiver it does not know.",
            "Check KPR's HER-id and queue in the configuration against NHN's address register.",
        ),
    ),
    (
        "E21",
        explained(
            "KPR says the receiver named in the message is wrong.",
            "Check KPR's HER-id and queue in the configuration against NHN's address register.",
        ),
    ),
    (
        "E30",
        explained(
            "A person in the message has no national identity number (fødselsnummer or D-number).",
            "Register the number in the patient record system; `kpr-bridge check` lists the records without one.",
        ),
    ),
    (
        "E31",
        explained(
            "A person in the message has a national identity number that is not valid.",
            "Correct the number in the patient record system; `kpr-bridge check` lists invalid numbers by record.",
        ),
    ),
    (
        "E35",
        explained(
            "The register does not know a person in the message.",
            "Check the person's identity number in the patient record system against the population register.",
        ),
    ),
    (
        "S01",
        explained(
            "KPR could not verify the message's signature.",
            "Check the signing certificate and key in [certificates]: they must be the municipality's valid enterprise certificate pair.",
        ),
    ),
    (
        "S02",
        explained(
            "KPR did not accept the municipality's certificate.",
            "Check that the enterprise certificate is valid and registered in NHN's address register; order a new one if it is not.",
        ),
    ),
    (
        "S03",
        explained(
            "The municipality's certificate has been revoked.",
            "Order a new enterprise certificate and install it in [certificates].",
        ),
    ),
    (
        "T01",
        explained("KPR could not read the message as XML.", REPORT_IT),
    ),
    (
        "T02",
        explained(
            "The message did not pass KPR's schema check.",
            "Check that the message schema in use is the one KPR takes now ([schemas]); otherwise report it to kpr-bridge's maintainers with the message id.",
        ),
    ),
    (
        "T10",
        explained(
            "KPR does not take this message format or version.",
            "Check that KPR takes this message type now, and which version it expects.",
        ),
    ),
    (
        "T99",
        explained(
            "KPR found another fault in the message's format.",
            "Read KPR's own text below; report it to kpr-bridge's maintainers with the message id.",
        ),
    ),
    (
        "X99",
        explained(
            "KPR reported another error.",
            "Read KPR's own text below; ask KPR (FHI) if it does not say what to do.",
        ),
    ),
];

/// The code's explanation, if it is one KPR is known to use.
pub fn explain(code: &str) -> Option<Explained> {
    let code = code.trim();
    CODES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(code))
        .map(|(_, explained)| *explained)
}

/// The receipt status (code system 8258) in words.
pub fn receipt_status(status: i64) -> &'static str {
    match status {
        1 => "accepted",
        2 => "rejected",
        3 => "accepted, with errors in parts",
        _ => "an unknown receipt status",
    }
}

/// An outbox message type in words.
pub fn message_type(msg_type: &str) -> String {
    match msg_type {
        crate::message::ipl56::DEFAULT_MSG_TYPE => "daily report".into(),
        "KPR_IPL" => "annual report".into(),
        "KPR_IDE" => "annual identity message".into(),
        other => format!("{other} message"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_of_the_domain_brief_is_explained() {
        for code in [
            "E10", "E20", "E21", "E30", "E31", "E35", "S01", "S02", "S03", "T01", "T02", "T10",
            "T99", "X99",
        ] {
            let explained = explain(code).unwrap();
            assert!(explained.meaning.ends_with('.'), "{code}");
            assert!(explained.what_to_do.ends_with('.'), "{code}");
        }
        assert_eq!(explain(" e35 "), explain("E35"));
        assert!(explain("Q42").is_none());
    }
}
