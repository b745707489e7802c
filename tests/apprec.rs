//! Real application receipts (from `tests/data/apprec/`, copied from the reference material)
//! parse to the right status and errors; what is not a receipt is refused with a reason.

use kpr_bridge::message::apprec::{
    self, AppRec, AppRecError, PartyId, ReceiptError, Status, Version,
};
use kpr_bridge::message::schema::Schemas;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/data/apprec/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn ok() {
    let receipt = apprec::parse(&read("v1.0-example-ok.xml")).unwrap();
    assert_eq!(receipt.version, Version::V1_0);
    assert_eq!(receipt.status, Status::Ok);
    assert!(receipt.status.is_delivered());
    assert!(receipt.errors.is_empty());
    assert_eq!(receipt.id, "1d6b0e00-33a1-11de-9255-0002a5d5c51b");
    assert_eq!(
        receipt.original_msg_id,
        "a6967e6a-8c0a-4be4-a647-c921d3086423"
    );
}

#[test]
fn rejected_with_its_error_and_a_padded_code() {
    let receipt = apprec::parse(&read("v1.0-example-avvist.xml")).unwrap();
    assert_eq!(receipt.status, Status::Rejected);
    assert!(!receipt.status.is_delivered());
    assert_eq!(receipt.errors.len(), 1);
    let error = &receipt.errors[0];
    assert_eq!(error.code, "E21");
    assert_eq!(error.text, "Mottaker finnes ikke");
    assert_eq!(error.system, "2.16.578.1.12.4.1.1.8221");
    assert_eq!(error.part, "Legen har sluttet");
    // The sample's `TypeId V=" HER"`: the kind is read trimmed.
    assert_eq!(
        receipt.sender[0],
        PartyId {
            id: "56704".into(),
            kind: "HER".into()
        }
    );
    assert_eq!(
        receipt.original_msg_id,
        "a6967e6a-8c0a-4be4-a647-c921d3086423"
    );
}

#[test]
fn partly_accepted_keeps_every_error() {
    let receipt = apprec::parse(&read("v1.0-example-ok-feil-i-delmelding.xml")).unwrap();
    assert_eq!(receipt.status, Status::OkWithErrors);
    assert!(receipt.status.is_delivered());
    let codes: Vec<(&str, &str)> = receipt
        .errors
        .iter()
        .map(|e| (e.code.as_str(), e.part.as_str()))
        .collect();
    assert_eq!(codes, [("07", "93495"), ("16", "93498")]);
    assert_eq!(receipt.original_type, "LOM");
    assert_eq!(
        receipt.original_msg_id,
        "37de51e0-33a9-11de-a4cb-0002a5d5c51b"
    );
}

#[test]
fn all_data() {
    let receipt = apprec::parse(&read("v1.0-all-data.xml")).unwrap();
    assert_eq!(receipt.status, Status::Ok);
    assert_eq!(
        receipt.original_msg_id,
        "36bbe907-5c2a-4ca9-be92-c7e9c5f2e4d6"
    );
    let ids: Vec<&str> = receipt.sender.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["8142987", "8143060", "123456"]);
    assert!(receipt.sender.iter().all(|p| p.kind == "HER"));
}

#[test]
fn version_1_1_is_known_by_its_namespace() {
    let xml = String::from_utf8(read("v1.0-example-ok.xml"))
        .unwrap()
        .replace(apprec::NAMESPACE_V1_0, apprec::NAMESPACE_V1_1);
    let receipt = apprec::parse(xml.as_bytes()).unwrap();
    assert_eq!(receipt.version, Version::V1_1);
    assert_eq!(receipt.status, Status::Ok);
}

#[test]
fn what_is_not_a_receipt_is_refused_with_a_reason() {
    let ok = String::from_utf8(read("v1.0-example-ok.xml")).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"\x00\xffgarbage".to_vec(), "not well-formed XML"),
        (
            b"<AppRec><Status V='1'/></AppRec>".to_vec(),
            "is not an AppRec",
        ),
        (
            ok.replace(apprec::NAMESPACE_V1_0, "urn:other").into_bytes(),
            "is not an AppRec",
        ),
        (
            ok.replace("<Status V=\"1\" DN=\"OK\"/>", "").into_bytes(),
            "lacks Status",
        ),
        (
            ok.replace("V=\"1\" DN=\"OK\"", "V=\"7\"").into_bytes(),
            "status '7'",
        ),
        (
            format!(
                "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \
                 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>{}",
                ok.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "")
            )
            .into_bytes(),
            "DOCTYPE",
        ),
        (vec![b' '; apprec::MAX_BYTES + 1], "at most"),
        (ok.as_bytes()[..ok.len() / 2].to_vec(), "not well-formed"),
        (
            ok.as_bytes()[..ok.find("<OriginalMsgId>").unwrap()].to_vec(),
            "ends before its elements are closed",
        ),
        (
            ok.replace("<Id>a6967e6a-8c0a-4be4-a647-c921d3086423</Id>", "")
                .into_bytes(),
            "lacks OriginalMsgId/Id",
        ),
    ];
    for (bytes, expected) in cases {
        let error = apprec::parse(&bytes).unwrap_err();
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
    assert_eq!(
        apprec::parse(b"").unwrap_err(),
        AppRecError::NotAppRec("missing".into())
    );
}

#[test]
fn the_receiver_and_the_original_issue_date_are_read() {
    let receipt = apprec::parse(&read("v1.0-example-avvist.xml")).unwrap();
    let receiver: Vec<(&str, &str)> = receipt
        .receiver
        .iter()
        .map(|p| (p.id.as_str(), p.kind.as_str()))
        .collect();
    assert_eq!(receiver, [("123459", "HER"), ("91126", "HER")]);
    assert_eq!(receipt.original_issued, "2020-06-19T17:02:15");
}

const SAMPLES: [&str; 4] = [
    "v1.0-all-data.xml",
    "v1.0-example-avvist.xml",
    "v1.0-example-ok-feil-i-delmelding.xml",
    "v1.0-example-ok.xml",
];

#[test]
fn written_receipts_read_back_as_they_were() {
    for name in SAMPLES {
        let receipt = apprec::parse(&read(name)).unwrap();
        let written = apprec::write(&receipt);
        assert_eq!(apprec::parse(&written).unwrap(), receipt, "{name}");
    }
}

#[test]
fn written_receipts_validate_against_the_kith_schemas() {
    let schemas = Schemas::load(&[]).unwrap();
    for name in SAMPLES {
        for version in [Version::V1_0, Version::V1_1] {
            let receipt = AppRec {
                version,
                ..apprec::parse(&read(name)).unwrap()
            };
            let written = apprec::write(&receipt);
            if let Err(invalid) = schemas.validate_apprec(&written) {
                panic!(
                    "{name} as {version:?}: {invalid}\n{}",
                    String::from_utf8_lossy(&written)
                );
            }
            assert_eq!(apprec::parse(&written).unwrap(), receipt, "{name}");
        }
    }
}

#[test]
fn a_receipt_of_kprs_own_shape_is_written_with_its_codes() {
    let receipt = AppRec {
        version: Version::V1_0,
        id: "4c2c1f0e-0d7a-4a51-9d0c-4d4d0f0e2b11".into(),
        generated: "2025-03-01T10:00:00+01:00".into(),
        status: Status::Rejected,
        errors: vec![ReceiptError {
            code: "T02".into(),
            text: "XML validerer ikke <mot> skjema & mer".into(),
            system: apprec::ERROR_SYSTEM.into(),
            part: String::new(),
        }],
        original_msg_id: "a6967e6a-8c0a-4be4-a647-c921d3086423".into(),
        original_type: "KPR_IPL".into(),
        original_issued: "2025-03-01T09:59:00+01:00".into(),
        sender: vec![
            PartyId {
                id: "85217".into(),
                kind: "HER".into(),
            },
            PartyId {
                id: "171479".into(),
                kind: "HER".into(),
            },
        ],
        receiver: vec![PartyId {
            id: "8094733".into(),
            kind: "HER".into(),
        }],
    };
    let written = apprec::write(&receipt);
    let text = String::from_utf8(written.clone()).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    assert!(text.contains("<Status V=\"2\" DN=\"Avvist\"/>"), "{text}");
    assert!(
        text.contains(
            "<Error V=\"T02\" S=\"2.16.578.1.12.4.1.1.8221\" \
             DN=\"XML validerer ikke &lt;mot&gt; skjema &amp; mer\"/>"
        ),
        "{text}"
    );
    Schemas::load(&[])
        .unwrap()
        .validate_apprec(&written)
        .unwrap();
    assert_eq!(apprec::parse(&written).unwrap(), receipt);
}

#[test]
fn text_with_character_references_is_read_whole() {
    let xml = String::from_utf8(read("v1.0-example-ok.xml"))
        .unwrap()
        .replace(
            "<Id>a6967e6a-8c0a-4be4-a647-c921d3086423</Id>",
            "<Id> a6967e6a &amp; &#x41;&lt;b </Id>",
        );
    let receipt = apprec::parse(xml.as_bytes()).unwrap();
    assert_eq!(receipt.original_msg_id, "a6967e6a & A<b");
}
