//! The schemas compiled into the binary: the KITH envelope and receipt XSDs, and every file of
//! the project's payload schemas as published, with the one change IPLOS 3.7's needs (the
//! namespace of the year it is built in for).

use crate::message::iplos37;

/// The KITH schemas, written next to each other so that imports find each other.
pub(super) const BUILT_IN: [(&str, &[u8]); 6] = [
    (
        "MsgHead-v1_2.xsd",
        include_bytes!("../../../schemas/MsgHead-v1_2.xsd"),
    ),
    (
        "xmldsig-core-schema.xsd",
        include_bytes!("../../../schemas/xmldsig-core-schema.xsd"),
    ),
    (
        "kith-base64.xsd",
        include_bytes!("../../../schemas/kith-base64.xsd"),
    ),
    (
        "apprec-v1.0.xsd",
        include_bytes!("../../../schemas/apprec-v1.0.xsd"),
    ),
    (
        "apprec-v1.1.xsd",
        include_bytes!("../../../schemas/apprec-v1.1.xsd"),
    ),
    ("kith.xsd", include_bytes!("../../../schemas/kith.xsd")),
];

/// The payload schemas the project writes, by message type: the file of its schema among
/// [`PAYLOAD_FILES`]. A configured schema for the same type replaces one.
pub const BUILT_IN_PAYLOADS: [(&str, &str); 3] = [
    (
        crate::model::register::DEFAULT_MSG_TYPE,
        "ipl-56.0.0/XPR(ipl).xsd",
    ),
    (iplos37::FAGMELDING, "iplos37/iplos_2019.xsd"),
    (iplos37::IDENTMELDING, "ide-53.1.3/XPR(ide).xsd"),
];

/// Every file of the built-in payload schemas, with what they include and import, as
/// published, each in its folder under `schemas/official/` (two publications have an `NPR.xsd`).
pub(super) const PAYLOAD_FILES: [(&str, &[u8]); 7] = [
    (
        "ipl-56.0.0/XPR(ipl).xsd",
        include_bytes!("../../../schemas/official/ipl-56.0.0/XPR(ipl).xsd"),
    ),
    (
        "ipl-56.0.0/XPR(ipl)_CodingSchemes.xsd",
        include_bytes!("../../../schemas/official/ipl-56.0.0/XPR(ipl)_CodingSchemes.xsd"),
    ),
    (
        "ipl-56.0.0/NPR.xsd",
        include_bytes!("../../../schemas/official/ipl-56.0.0/NPR.xsd"),
    ),
    (
        "iplos37/iplos_2019.xsd",
        include_bytes!("../../../schemas/official/iplos37/iplos_2019.xsd"),
    ),
    (
        "ide-53.1.3/XPR(ide).xsd",
        include_bytes!("../../../schemas/official/ide-53.1.3/XPR(ide).xsd"),
    ),
    (
        "ide-53.1.3/XPR(ide)_CodingSchemes.xsd",
        include_bytes!("../../../schemas/official/ide-53.1.3/XPR(ide)_CodingSchemes.xsd"),
    ),
    (
        "ide-53.1.3/NPR.xsd",
        include_bytes!("../../../schemas/official/ide-53.1.3/NPR.xsd"),
    ),
];

/// A built-in file as compiled: IPLOS 3.7's under the namespace of the year it is built in
/// for ([`iplos37::BUILT_IN_YEAR`]; the published one is 2019's, and the namespace follows
/// the reporting year), the others as they are.
pub(super) fn built_in_payload_file(name: &str, bytes: &[u8]) -> Vec<u8> {
    if name != "iplos37/iplos_2019.xsd" {
        return bytes.to_vec();
    }
    String::from_utf8_lossy(bytes)
        .replace(
            iplos37::PUBLISHED_NAMESPACE,
            &iplos37::namespace(iplos37::BUILT_IN_YEAR),
        )
        .into_bytes()
}
