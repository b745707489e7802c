//! Measures the annual message at scale: N synthetic persons written as KPR_IPL and KPR_IDE,
//! each message validated, enveloped, validated again and packed (signed, then encrypted), as
//! `kpr-bridge annual` does — through the same library functions, the register's arrival
//! checks beside the writing. The persons are made first and held, as `annual` holds the
//! assembled year; the figures show what writing, checking, validating and packing cost, not
//! what reading a municipality's records costs. `benches/annual.sh` runs it.
//!
//! ```sh
//! cargo run --release --example annual_pack -- CERT_DIR N
//! ```

use std::process::ExitCode;
use std::time::Instant;

use chrono::{Days, NaiveDate, Utc};
use kpr_bridge::annual::ship::write_messages;
use kpr_bridge::config::Config;
use kpr_bridge::message::iplos37::{FAGMELDING, Header, IDENTMELDING};
use kpr_bridge::model::annual::{AnnualPerson, AnnualService};
use kpr_bridge::model::annual::{AssessmentState, AttributeSpan};
use kpr_bridge::model::assessment::AssessmentVariables;
use kpr_bridge::model::register::Target;
use kpr_bridge::model::{
    AttributeKind, Decision, DiagnosisSystem, Gender, HoursPerWeek, Household, Ident, ServiceCode,
};
use kpr_bridge::shipping::Shipping;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (certs, count) = match &args[..] {
        [certs, n] => match n.parse::<u32>() {
            Ok(n) => (std::path::PathBuf::from(certs), n),
            Err(_) => return usage(),
        },
        _ => return usage(),
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text = format!(
        r#"
mode = "test"
data_dir = "{data}"
mapping = "unused.toml"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "epj"
kind = "extract"
path = "unused"
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
        data = dir.path().display(),
        certs = certs.display(),
    );
    let config = match Config::parse(&text, &dir.path().join("kpr-bridge.toml")) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let shipping = match Shipping::open(config).await {
        Ok(shipping) => shipping,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let header = Header {
        shipment: uuid::Uuid::new_v4(),
        municipality: "4601".into(),
        district: "00".into(),
        institution: "964338531".into(),
        year: 2025,
        generated: Utc::now(),
        running_number: 1,
        epj: vec![("Bench-EPJ".into(), "1".into())],
        contacts: shipping.config.contacts.clone(),
        namespace: kpr_bridge::message::iplos37::namespace(2025),
    };
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&staging).expect("a staging directory");
    let (ipl, ide) = (staging.join("ipl.xml"), staging.join("ide.xml"));

    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(2025);
    let persons: Vec<_> = (1..=count).map(|serial| person(serial, &mut rng)).collect();
    if let Err(e) = write_messages(
        &persons,
        &header,
        AssessmentVariables::builtin().clone(),
        &ipl,
        &ide,
    ) {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    let written = started.elapsed();
    let size = |file: &std::path::Path| std::fs::metadata(file).map_or(0, |m| m.len());
    let (ipl_bytes, ide_bytes) = (size(&ipl), size(&ide));
    let mut packed = 0;
    for (file, msg_type) in [(&ide, IDENTMELDING), (&ipl, FAGMELDING)] {
        match shipping.pack_file(file, msg_type, Target::Validation, msg_type) {
            Ok(message) => {
                packed += message
                    .body_file
                    .as_deref()
                    .map_or(message.body.len() as u64, size)
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(1);
            }
        }
    }
    let total = started.elapsed();
    println!(
        "{count} persons: KPR_IPL {:.1} MB, KPR_IDE {:.1} MB, packed {:.1} MB; written in {:.2} s, validated and packed in {:.2} s, total {:.2} s",
        ipl_bytes as f64 / 1e6,
        ide_bytes as f64 / 1e6,
        packed as f64 / 1e6,
        written.as_secs_f64(),
        (total - written).as_secs_f64(),
        total.as_secs_f64(),
    );
    shipping.store.close().await;
    ExitCode::SUCCESS
}

/// A person as a large municipality's records have them: most assessed on the 17 variables,
/// one to three services, some with a refusal, diagnoses and attributes.
fn person(serial: u32, rng: &mut ChaCha8Rng) -> (Ident, AnnualPerson) {
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).expect("a date");
    let day = |rng: &mut ChaCha8Rng| first + Days::new(rng.random_range(0..365));
    let assessment = rng.random_bool(0.7).then(|| AssessmentState {
        assessed_on: Some(day(rng)),
        scores: AssessmentVariables::builtin()
            .all()
            .iter()
            .map(|v| {
                (
                    v.code.as_str().into(),
                    [1, 2, 3, 4, 5, 9][rng.random_range(0..6)],
                )
            })
            .collect(),
    });
    let services = (0..rng.random_range(1..=3))
        .map(|_| {
            let start = day(rng);
            let refused = rng.random_bool(0.05);
            AnnualService {
                code: ["1", "5", "6", "11", "15", "29"][rng.random_range(0..6)]
                    .parse::<ServiceCode>()
                    .expect("a code"),
                decision: if refused {
                    Decision::Refused
                } else {
                    Decision::Granted
                },
                start: (!refused).then_some(start),
                end: rng.random_bool(0.3).then(|| start + Days::new(30)),
                decided_on: Some(start),
                hours: Some(HoursPerWeek::from_hundredths(rng.random_range(50..2000))),
                orgnr: Some("974760673".into()),
            }
        })
        .collect();
    let person = AnnualPerson {
        serial,
        birth_year: Some(rng.random_range(1920..2020)),
        gender: Some(if rng.random_bool(0.5) {
            Gender::Male
        } else {
            Gender::Female
        }),
        municipality: Some("4601".into()),
        district: Some("460101".into()),
        household: Some(Household::Alone),
        assessment,
        attributes: rng
            .random_bool(0.3)
            .then_some(AttributeSpan {
                kind: AttributeKind::IndividualPlan,
                from: Some(first),
                to: None,
            })
            .into_iter()
            .collect(),
        diagnoses: vec![(DiagnosisSystem::Icpc2, "K86".into())],
        services,
    };
    // Eleven digits, different for each person; the bench needs no valid check digits.
    (
        Ident::new(format!("{:011}", 10_000_000_000u64 + u64::from(serial))),
        person,
    )
}

fn usage() -> ExitCode {
    eprintln!("usage: annual_pack CERT_DIR N");
    ExitCode::from(2)
}
