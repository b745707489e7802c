//! Packs one large payload from file to file as `Shipping::pack_file` does, to show that memory
//! stays flat whatever the message's size: writes a valid payload of MB megabytes (10^6 bytes)
//! in WORK_DIR, then validates, wraps, validates and packs it with the test certificates of
//! `ops/make-test-certs.sh`, and prints the time and the process's peak memory (VmHWM) after
//! each step. `benches/pack_large.sh` runs it at two sizes.
//!
//! The payload is `daily`, a daily message (XPR(ipl) 56.0.0) with as many notifications as
//! fit (its schema keeps every GUID for `xs:unique`), or `report`, the tests' report of services
//! (`tests/data/payload/test-payload.xsd`, no identity constraint).
//!
//! ```sh
//! cargo run --release --example pack_large -- CERT_DIR WORK_DIR daily|report MB [steps]
//! ```
//!
//! With `steps`, each step is called on its own (the public functions `pack_file` uses),
//! with the peak after each; without, `Shipping::pack_file` runs whole.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use chrono::NaiveDate;
use kpr_bridge::config::Config;
use kpr_bridge::message::ipl56::{
    self, EventKind, Header, Notification, ServiceEvent, Status, User,
};
use kpr_bridge::message::msghead::{self, Envelope, Party};
use kpr_bridge::model::register::{Contact, DEFAULT_MSG_TYPE, Target};
use kpr_bridge::shipping::Shipping;
use uuid::Uuid;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (certs, work, kind, mb, steps) = match &args[..] {
        [certs, work, kind, mb] => (certs, work, kind, mb, false),
        [certs, work, kind, mb, steps] if steps == "steps" => (certs, work, kind, mb, true),
        _ => return usage(),
    };
    let Ok(mb) = mb.parse::<u64>() else {
        return usage();
    };
    // The configuration reads relative paths from its own directory.
    let (Ok(certs), Ok(work)) = (std::path::absolute(certs), std::path::absolute(work)) else {
        return usage();
    };
    let payload = work.join("payload.xml");
    let started = Instant::now();
    let (msg_type, written) = match kind.as_str() {
        "daily" => (DEFAULT_MSG_TYPE, write_daily(&payload, mb * 1_000_000)),
        "report" => ("KPR_IPL", write_report(&payload, mb * 1_000_000)),
        _ => return usage(),
    };
    let size = match written {
        Ok(size) => size,
        Err(e) => return fail(&format!("cannot write {}: {e}", payload.display())),
    };
    report(&format!("payload written, {size} bytes"), started);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let shipping = match runtime.block_on(Shipping::open(config(&certs, &work))) {
        Ok(shipping) => shipping,
        Err(e) => return fail(&e.to_string()),
    };
    report("schemas, keys and store loaded", started);
    let result = if steps {
        step_by_step(&shipping, &payload, msg_type, &work)
    } else {
        let start = Instant::now();
        shipping
            .pack_file(&payload, msg_type, Target::Validation, "the payload")
            .map(|message| {
                let file = message.body_file.expect("a file");
                let packed = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
                report(
                    &format!("Shipping::pack_file, {packed} bytes packed"),
                    start,
                );
            })
            .map_err(|e| e.to_string())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

/// The steps of `Shipping::pack_file`, each on its own.
fn step_by_step(
    shipping: &Shipping,
    payload: &Path,
    msg_type: &str,
    work: &Path,
) -> Result<(), String> {
    let start = Instant::now();
    shipping
        .schemas
        .validate_payload_file(msg_type, payload)
        .map_err(|e| e.to_string())?;
    report("payload validated", start);
    let start = Instant::now();
    let envelope = Envelope::new(
        msg_type,
        msg_type,
        shipping.sender(),
        Party::kpr(Target::Validation),
    );
    let document = work.join("message.xml");
    let mut out = BufWriter::new(std::fs::File::create(&document).map_err(|e| e.to_string())?);
    msghead::wrap_file(&envelope, payload, &mut out).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    report("envelope written", start);
    let start = Instant::now();
    shipping
        .schemas
        .validate_message_file(msg_type, &document)
        .map_err(|e| e.to_string())?;
    report("message validated", start);
    let start = Instant::now();
    let packed = shipping
        .keys
        .pack_file(&document, &work.join("message.p7m"))
        .map_err(|e| e.to_string())?;
    report(&format!("signed and encrypted, {packed} bytes"), start);
    Ok(())
}

/// A municipality packing with the test certificates in `certs`, its data in `work/state`.
fn config(certs: &Path, work: &Path) -> Config {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        r#"
mode = "test"
data_dir = "{data}"
mapping = "{repo}/mappings/sample-epj.toml"
[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
kind = "extract"
path = "{data}/extract"
[schemas]
KPR_IPL = "{repo}/tests/data/payload/test-payload.xsd"
[[contact]]
type = 16
name = "IPLOS"
email = "iplos@example.invalid"
[[contact]]
type = 17
name = "IPLOS"
email = "iplos@example.invalid"
[delivery]
transport = "spool"
spool_dir = "{data}/spool"
[certificates]
signing_certificate = "{certs}/kommune-sign.crt"
signing_key = "{certs}/kommune-sign.key"
encryption_certificate = "{certs}/kommune-enc.crt"
encryption_key = "{certs}/kommune-enc.key"
kpr_encryption_certificate = "{certs}/kpr-enc.crt"
trust = ["{certs}/ca.crt"]
kpr_signing_certificates = ["{certs}/kpr-sign.crt"]
"#,
        data = work.join("state").display(),
        repo = repo.display(),
        certs = certs.display(),
    );
    Config::parse(&text, &work.join("kpr-bridge.toml")).expect("the configuration parses")
}

/// A fagmelding with as many events as fit in `bytes`, each with an Id of its own.
fn write_daily(file: &Path, bytes: u64) -> std::io::Result<u64> {
    let header = Header {
        supplier: "Gerica".into(),
        epj_name: "Gerica".into(),
        epj_version: "6.2".into(),
        local_id: "2026-03-02 part 1 of 1".into(),
        contacts: vec![Contact {
            kind: 16,
            name: "Kari".into(),
            phone: None,
            email: "kari@example.invalid".into(),
        }],
        municipality: "4601".into(),
    };
    let mut head = Vec::new();
    ipl56::write_head(&mut head, &header)?;
    let mut tail = Vec::new();
    ipl56::write_tail(&mut tail, &header)?;
    let mut one = Vec::new();
    ipl56::write_notification(&mut one, &notification(1))?;
    let count = (bytes.saturating_sub((head.len() + tail.len()) as u64) / one.len() as u64).max(1);
    let mut out = BufWriter::new(std::fs::File::create(file)?);
    out.write_all(&head)?;
    for n in 1..=count {
        ipl56::write_notification(&mut out, &notification(n))?;
    }
    out.write_all(&tail)?;
    out.flush()?;
    Ok(std::fs::metadata(file)?.len())
}

/// A notification with GUIDs of its own (the schema keeps each for `xs:unique`).
fn notification(n: u64) -> Notification {
    let at = NaiveDate::from_ymd_opt(2026, 3, 2)
        .and_then(|d| d.and_hms_opt(14, 5, 0))
        .expect("a time");
    Notification {
        guid: Uuid::from_u128(u128::from(n)),
        previous: Uuid::from_u128(u128::from(n) - 1),
        number: n as i64,
        status: Status::Original,
        corrects: None,
        time: at,
        event: ServiceEvent {
            kind: EventKind::Start,
            guid: Uuid::from_u128((1 << 64) + u128::from(n)),
            service_id: format!("T{n}"),
            service_type: 18,
            registered: at,
            orgnr: Some("974760673".into()),
            day: at.date(),
            stop_id: None,
            user: User {
                patient_guid: Uuid::from_u128((2 << 64) + u128::from(n)),
                user_number: format!("P{n}"),
                district: None,
                fid: "13816199926".into(),
                id_type: 1,
            },
        },
    }
}

/// The tests' report with services up to `bytes`.
fn write_report(file: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(file)?);
    let head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                <Report xmlns=\"urn:kpr-bridge:test-payload\">\n  \
                <Municipality>4601</Municipality>\n  <Year>2025</Year>\n";
    out.write_all(head.as_bytes())?;
    let mut written = head.len() as u64;
    let mut n = 0u64;
    while written < bytes {
        let service = format!(
            "  <Service id=\"s-{n}\">\n    <Code>{}</Code>\n    <Start>2025-{:02}-{:02}</Start>\n    \
             <Hours>7.5</Hours>\n  </Service>\n",
            10 + n % 30,
            1 + n % 12,
            1 + n % 28
        );
        out.write_all(service.as_bytes())?;
        written += service.len() as u64;
        n += 1;
    }
    out.write_all(b"</Report>\n")?;
    out.flush()?;
    Ok(std::fs::metadata(file)?.len())
}

/// `what`, the seconds since `start`, and the process's peak resident memory so far.
fn report(what: &str, start: Instant) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .map_or("?".to_string(), |kb| kb.trim().to_string());
    println!(
        "{what}: {:.1} s, peak so far {peak}",
        start.elapsed().as_secs_f64()
    );
}

fn usage() -> ExitCode {
    eprintln!("usage: pack_large CERT_DIR WORK_DIR daily|report MB [steps]");
    ExitCode::from(2)
}

fn fail(e: &str) -> ExitCode {
    eprintln!("pack_large: {e}");
    ExitCode::FAILURE
}
