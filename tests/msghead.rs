//! The MsgHead envelope: `wrap` writes what `read` gives back and libxml2 validates; `read`
//! takes what other writers do (prefixes, padded codes) and refuses what is not a message.

use kpr_bridge::message::msghead::{self, Envelope, MsgHeadError, Party, Unit};
use kpr_bridge::message::schema::Schemas;
use kpr_bridge::model::register::Target;

fn data(path: &str) -> String {
    format!("{}/tests/data/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn report() -> Vec<u8> {
    std::fs::read(data("payload/report.xml")).unwrap()
}

fn schemas() -> Schemas {
    Schemas::load(&[("KPR_TEST".into(), data("payload/test-payload.xsd").into())]).unwrap()
}

fn envelope() -> Envelope {
    let sender = Party {
        name: "Bergen kommune <Helse & omsorg>".into(),
        her_id: "8094733".into(),
        orgnr: Some("964338531".into()),
        unit: Some(Unit {
            name: "Etat for \"hjemmetjenester\"".into(),
            her_id: "8094734".into(),
        }),
    };
    Envelope::new(
        "KPR_TEST",
        "Testmelding",
        sender,
        Party::kpr(Target::Production),
    )
}

#[test]
fn read_gives_back_what_wrap_wrote() {
    let envelope = envelope();
    let payload = report();
    let xml = msghead::wrap(&envelope, &payload).unwrap();
    let (read, extracted) = msghead::read(&xml).unwrap();
    assert_eq!(read, envelope);
    // The sample has the same declaration as the extracted document: equal to the byte.
    assert_eq!(
        String::from_utf8(extracted.clone()).unwrap(),
        String::from_utf8(payload).unwrap()
    );
    // And wrapped again, the same message.
    assert_eq!(msghead::wrap(&envelope, &extracted).unwrap(), xml);
}

#[test]
fn a_wrapped_message_has_the_envelope_kpr_expects() {
    let envelope = envelope();
    let xml = msghead::wrap(&envelope, &report()).unwrap();
    schemas().validate_message("KPR_TEST", &xml).unwrap();
    let text = String::from_utf8(xml).unwrap();
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MsgHead xmlns="));
    assert!(text.contains("<MIGversion>v1.2 2006-05-24</MIGversion>"));
    assert!(text.contains(&format!("<MsgId>{}</MsgId>", envelope.msg_id)));
    assert!(text.contains(&format!(
        "<GenDate>{}</GenDate>",
        msghead::gen_date(envelope.generated)
    )));
    assert!(text.contains("<Type V=\"KPR_TEST\" DN=\"Testmelding\"/>"));
    assert!(text.contains("<MsgType V=\"XML\" DN=\"XML-instans\"/>"));
    assert!(text.contains(
        "<OrganisationName>Bergen kommune &lt;Helse &amp; omsorg&gt;</OrganisationName>"
    ));
    assert!(text.contains(
        "<TypeId V=\"HER\" S=\"2.16.578.1.12.4.1.1.9051\" \
         DN=\"Identifikator fra Helsetjenesteenhetsregisteret (HER-id)\"/>"
    ));
    // Service-based addressing: KPR's unit inside FHI.
    let fhi = text
        .find("<OrganisationName>Folkehelseinstituttet")
        .unwrap();
    let unit = text
        .find("<OrganisationName>Kommunalt pasient- og brukerregister")
        .unwrap();
    assert!(fhi < unit && text[unit..].contains("<Id>122612</Id>"));
    assert_eq!(
        uuid::Uuid::parse_str(&envelope.msg_id)
            .unwrap()
            .get_version_num(),
        4
    );
}

#[test]
fn read_takes_prefixes_padded_codes_and_a_payload_relying_on_the_envelopes_declarations() {
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<mh:MsgHead xmlns:mh="http://www.kith.no/xmlstds/msghead/2006-05-24"
            xmlns:t="urn:kpr-bridge:test-payload"
            xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
  <mh:MsgInfo>
    <mh:Type V=" KPR_TEST " DN="Testmelding"/>
    <mh:MIGversion>v1.2 2006-05-24</mh:MIGversion>
    <mh:GenDate>2025-03-01T10:00:00</mh:GenDate>
    <mh:MsgId> 9b2f5f5e-7c1a-4e43-8f0a-3c1d2b0a9e77 </mh:MsgId>
    <mh:Sender>
      <mh:Organisation>
        <mh:OrganisationName>Bergen kommune &amp; co</mh:OrganisationName>
        <mh:Ident><mh:Id>8094733</mh:Id><mh:TypeId V=" HER" DN="HER-id"/></mh:Ident>
        <mh:Organisation>
          <mh:OrganisationName>Helse og omsorg</mh:OrganisationName>
          <mh:Ident><mh:Id>8094734</mh:Id><mh:TypeId V="HER "/></mh:Ident>
        </mh:Organisation>
      </mh:Organisation>
    </mh:Sender>
    <mh:Receiver>
      <mh:Organisation>
        <mh:OrganisationName>Folkehelseinstituttet</mh:OrganisationName>
        <mh:Ident><mh:Id>983744516</mh:Id><mh:TypeId V="ENH"/></mh:Ident>
        <mh:Ident><mh:Id>85217</mh:Id><mh:TypeId V="HER"/></mh:Ident>
        <mh:Organisation>
          <mh:OrganisationName>KPR Validering</mh:OrganisationName>
          <mh:Ident><mh:Id>171479</mh:Id><mh:TypeId V="HER"/></mh:Ident>
        </mh:Organisation>
      </mh:Organisation>
    </mh:Receiver>
  </mh:MsgInfo>
  <mh:Document>
    <mh:RefDoc>
      <mh:MsgType V="XML" DN="XML-instans"/>
      <mh:Content>
        <!-- the payload -->
        <t:Report><t:Municipality>4601</t:Municipality><t:Year>2025</t:Year></t:Report>
      </mh:Content>
    </mh:RefDoc>
  </mh:Document>
</mh:MsgHead>
"#;
    let schemas = schemas();
    schemas
        .validate_message("KPR_TEST", xml.as_bytes())
        .unwrap();
    let (envelope, payload) = msghead::read(xml.as_bytes()).unwrap();
    assert_eq!(envelope.msg_type, "KPR_TEST");
    assert_eq!(envelope.msg_id, "9b2f5f5e-7c1a-4e43-8f0a-3c1d2b0a9e77");
    assert_eq!(
        msghead::gen_date(envelope.generated),
        "2025-03-01T10:00:00+01:00"
    );
    assert_eq!(envelope.sender.name, "Bergen kommune & co");
    assert_eq!(envelope.sender.her_id, "8094733");
    assert_eq!(envelope.sender.orgnr, None);
    assert_eq!(envelope.sender.unit.as_ref().unwrap().her_id, "8094734");
    assert_eq!(envelope.receiver, Party::kpr(Target::Validation));
    let payload = String::from_utf8(payload).unwrap();
    assert_eq!(
        payload,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <t:Report xmlns:mh=\"http://www.kith.no/xmlstds/msghead/2006-05-24\" \
         xmlns:t=\"urn:kpr-bridge:test-payload\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\
         <t:Municipality>4601</t:Municipality><t:Year>2025</t:Year></t:Report>\n"
    );
    // Standalone, it is still the payload its schema describes.
    schemas
        .validate_payload("KPR_TEST", payload.as_bytes())
        .unwrap();
}

#[test]
fn a_payload_in_no_namespace_stays_out_of_the_envelopes() {
    let payload = b"<Plain><Count>3</Count></Plain>";
    let xml = msghead::wrap(&envelope(), payload).unwrap();
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(
        text.contains("<Plain xmlns=\"\"><Count>3</Count></Plain>"),
        "{text}"
    );
    let (_, extracted) = msghead::read(&xml).unwrap();
    assert!(
        String::from_utf8(extracted)
            .unwrap()
            .ends_with("<Plain xmlns=\"\"><Count>3</Count></Plain>\n")
    );
}

#[test]
fn wrap_refuses_what_cannot_be_a_payload() {
    let envelope = envelope();
    let cases: [(&[u8], &str); 9] = [
        (
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xE5</a>",
            "is not UTF-8",
        ),
        (
            b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><a/>",
            "only UTF-8",
        ),
        (
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            "has a DOCTYPE",
        ),
        (b"<a/><b/>", "a second root element"),
        (b"<a/>text", "text outside the root element"),
        (b"<p:a/>", "the prefix p is not declared"),
        (b"<a><b></a>", "line 1"),
        (b"<a>\n&nbsp;</a>", "line 2: &nbsp; is not defined"),
        (b"  ", "has no element"),
    ];
    for (payload, expected) in cases {
        let error = msghead::wrap(&envelope, payload).unwrap_err();
        assert!(matches!(error, MsgHeadError::Payload(_)), "{error:?}");
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
    let mut bad = envelope.clone();
    bad.sender.unit.as_mut().unwrap().name = "Helse\u{1}".into();
    let error = msghead::wrap(&bad, &report()).unwrap_err();
    assert_eq!(
        error,
        MsgHeadError::Character {
            field: "sender unit name".into(),
            code: 1
        }
    );
    assert_eq!(
        error.to_string(),
        "the envelope's sender unit name holds the character U+0001, which XML cannot carry — \
         remove it"
    );
}

#[test]
fn read_refuses_what_is_not_a_message_with_a_reason() {
    let xml = String::from_utf8(msghead::wrap(&envelope(), &report()).unwrap()).unwrap();
    let without = |from: &str, to: &str| {
        let start = xml.find(from).unwrap();
        let end = xml.find(to).unwrap() + to.len();
        format!("{}{}", &xml[..start], &xml[end..])
    };
    let apprec = std::fs::read_to_string(data("apprec/v1.0-example-ok.xml")).unwrap();
    let two_documents = {
        let start = xml.find("<Document>").unwrap();
        let end = xml.find("</Document>").unwrap() + "</Document>".len();
        format!("{}{}{}", &xml[..end], &xml[start..end], &xml[end..])
    };
    let cases = [
        (apprec, "is not a MsgHead 1.2 message: its root is AppRec"),
        (without("<MsgId>", "</MsgId>"), "lacks MsgInfo/MsgId"),
        (
            xml.replace("<GenDate>", "<GenDate>1. mars "),
            "has GenDate '1. mars 20",
        ),
        (
            without("<Ident>", "</Ident>"),
            "lacks MsgInfo/Sender/Organisation/Ident with TypeId V=\"HER\"",
        ),
        (two_documents, "has 2 Document elements"),
        (
            xml.replace("</Report>", "</Report><Report/>"),
            "has a second element in Document/RefDoc/Content",
        ),
        (
            xml.replace("<Content>", "<Content>hello"),
            "has text in Document/RefDoc/Content",
        ),
        (
            without("<Report ", "</Report>"),
            "lacks the payload: an element in Document/RefDoc/Content",
        ),
        (
            xml.replace("</MsgHead>", ""),
            "ends before its elements are closed",
        ),
        (
            format!(
                "<?xml version=\"1.0\"?>\n<!DOCTYPE m [<!ENTITY a \"aaaa\">]>\n{}",
                &xml[xml.find("<MsgHead").unwrap()..]
            ),
            "has a DOCTYPE at line 2",
        ),
    ];
    for (xml, expected) in cases {
        let error = msghead::read(xml.as_bytes()).unwrap_err();
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
}

#[test]
fn a_large_payload_is_wrapped_and_read_in_linear_time() {
    let mut payload = String::from(
        "<Report xmlns=\"urn:kpr-bridge:test-payload\">\n<Municipality>4601</Municipality>\n\
         <Year>2025</Year>\n",
    );
    for i in 0..40_000 {
        payload.push_str(&format!(
            "<Service id=\"s{i}\">\n<Code>10</Code>\n<Start>2025-02-01</Start>\n</Service>\n"
        ));
    }
    payload.push_str("</Report>\n");
    let started = std::time::Instant::now();
    let xml = msghead::wrap(&envelope(), payload.as_bytes()).unwrap();
    let (_, back) = msghead::read(&xml).unwrap();
    // Quadratic work (counting lines per event) would take minutes here.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(String::from_utf8(back).unwrap().ends_with(&payload));
}

/// `wrap_file` on `payload` written to a file.
fn wrap_from_file(envelope: &Envelope, payload: &[u8]) -> Result<Vec<u8>, MsgHeadError> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("payload.xml");
    std::fs::write(&file, payload).unwrap();
    let mut out = Vec::new();
    msghead::wrap_file(envelope, &file, &mut out).map(|()| out)
}

#[test]
fn wrap_file_writes_what_wrap_writes_to_the_byte() {
    let envelope = envelope();
    let report = String::from_utf8(report()).unwrap();
    let body = report.split_once("?>\n").unwrap().1;
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(report.as_bytes());
    let daily = kpr_bridge::message::ipl56::write(
        &kpr_bridge::message::ipl56::Header {
            supplier: "Gerica".into(),
            epj_name: "Gerica".into(),
            epj_version: "6.2".into(),
            local_id: "2026-03-02 part 1 of 1".into(),
            contacts: Vec::new(),
            municipality: "4601".into(),
        },
        [],
    );
    let payloads: Vec<(&str, Vec<u8>)> = vec![
        ("the sample", report.clone().into_bytes()),
        ("a daily message", daily),
        ("with a byte order mark", with_bom),
        ("without a declaration", body.as_bytes().to_vec()),
        ("with CRLF", report.replace('\n', "\r\n").into_bytes()),
        (
            "with a comment and white space around",
            format!("<!-- made by a test -->\n\n{body}\n\n   \n").into_bytes(),
        ),
        ("an empty root", b"<Report xmlns=\"urn:x\" />\n".to_vec()),
        (
            "an end tag with space",
            b"<r:Report xmlns=\"urn:x\" xmlns:r=\"urn:x\"></r:Report >".to_vec(),
        ),
    ];
    for (name, payload) in payloads {
        let wrapped = msghead::wrap(&envelope, &payload).unwrap();
        let streamed =
            wrap_from_file(&envelope, &payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(wrapped).unwrap(),
            "{name}"
        );
    }
    // And it validates.
    let dir = tempfile::tempdir().unwrap();
    let (payload, message) = (
        dir.path().join("payload.xml"),
        dir.path().join("message.xml"),
    );
    std::fs::write(&payload, &report).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&message).unwrap());
    msghead::wrap_file(&envelope, &payload, &mut out).unwrap();
    drop(out);
    schemas()
        .validate_message_file("KPR_TEST", &message)
        .unwrap();
}

#[test]
fn wrap_file_refuses_what_it_cannot_copy_unchanged_naming_the_file() {
    let envelope = envelope();
    let cases: [(&[u8], &str); 7] = [
        (
            b"<Report><Year>2025</Year></Report>",
            "root element Report without a default namespace declaration",
        ),
        (
            b"<p:Report xmlns:p=\"urn:x\"/>",
            "root element p:Report without a default namespace declaration",
        ),
        (
            b"<Report xmlns=\"urn:x\"></Report>\n<!-- after -->\n",
            "does not end with the end of its root element Report",
        ),
        (
            b"<Report xmlns=\"urn:x\"><Year/>",
            "does not end with the end of its root element Report",
        ),
        (b"text<Report xmlns=\"urn:x\"/>", "something other than"),
        (b"", "has no element"),
        (
            b"<Report xmlns=\"urn:x\"",
            "not well-formed XML before its root element",
        ),
    ];
    for (payload, expected) in cases {
        let error = wrap_from_file(&envelope, payload).unwrap_err();
        let shown = error.to_string();
        assert!(matches!(error, MsgHeadError::PayloadFile { .. }), "{shown}");
        assert!(shown.contains(expected), "{shown}");
        assert!(shown.contains("payload.xml"), "{shown}");
    }
    let missing = std::path::Path::new("/nonexistent/payload.xml");
    let shown = msghead::wrap_file(&envelope, missing, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        shown.starts_with("the payload file /nonexistent/payload.xml cannot be read:"),
        "{shown}"
    );
}
