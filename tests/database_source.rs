//! The database source against real servers: the same generated data read from an extract,
//! from PostgreSQL, from MariaDB and from SQLite gives identical canonical records; and each
//! way a database source can fail is named by source, record kind and column.

mod support;

use std::path::{Path, PathBuf};

use kpr_bridge::config::{Config, Queries, SourceKind};
use kpr_bridge::generate::{self, Options, OutputEncoding};
use kpr_bridge::model::Assessment;
use kpr_bridge::source::{Problem, ReadSummary, Snapshot, read_database, read_extract};
use support::{Server, TestDatabase};

use support::SCHEMA;

/// The queries of the example configuration, which read the example schema.
fn example_queries() -> Queries {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("ops/examples/kpr-bridge.toml");
    let config = Config::load(&file).unwrap();
    config
        .sources
        .into_iter()
        .find_map(|s| match s.kind {
            SourceKind::Database { queries, .. } => Some(queries),
            SourceKind::Extract { .. } | SourceKind::Iplos { .. } => None,
        })
        .expect("the example has a database source")
}

fn generated(persons: u64) -> (tempfile::TempDir, Snapshot) {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        persons,
        seed: 7,
        year: 2025,
        municipality: "0301".into(),
        encoding: OutputEncoding::Utf8,
    };
    generate::generate(dir.path(), &options).unwrap();
    let mut snapshot = Snapshot::default();
    let summary = read_extract(dir.path(), &mut snapshot).unwrap();
    assert!(summary.problems.is_empty(), "{:?}", summary.problems.kept());
    (dir, snapshot)
}

/// Records in one order, whatever order the origin gave them in.
fn sorted(mut s: Snapshot) -> Snapshot {
    s.persons.sort_by(|a, b| a.person_id.cmp(&b.person_id));
    s.services.sort_by(|a, b| a.service_id.cmp(&b.service_id));
    let key = |p: &str, rest: String| (p.to_string(), rest);
    let mut assessments: Vec<Assessment> =
        s.assessments.iter().map(|a| a.to_assessment()).collect();
    assessments.sort_by_key(|a| key(&a.person_id, format!("{:?}{}", a.assessed_on, a.variable)));
    s.assessments = assessments.into_iter().collect();
    s.diagnoses
        .sort_by_key(|d| key(&d.person_id, format!("{}{:?}", d.code, d.registered_on)));
    s.attributes
        .sort_by_key(|a| key(&a.person_id, format!("{}{:?}", a.kind, a.from)));
    s
}

fn read_db(url: &str, queries: &Queries) -> (Snapshot, ReadSummary) {
    let mut snapshot = Snapshot::default();
    let summary = read_database("new-epj", url, queries, &mut snapshot)
        .unwrap_or_else(|problem| panic!("{problem}"));
    (snapshot, summary)
}

fn sqlite_with(script: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("epj.db");
    let url = format!("sqlite:{}?mode=rwc", path.display());
    let setup = url.clone();
    let script = script.to_string();
    support::block_on(|| async move {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&setup).await.unwrap();
        sqlx::raw_sql(&script).execute(&mut c).await.unwrap();
    });
    (dir, format!("sqlite:{}", path.display()))
}

#[test]
fn extract_postgres_mariadb_and_sqlite_give_identical_records() {
    let (_extract, from_extract) = generated(400);
    let script = format!("{SCHEMA}\n{}", support::insert_script(&from_extract));
    let queries = example_queries();
    let expected = sorted(from_extract);
    assert!(
        expected.services.iter().any(|s| s.pauses.len() > 1),
        "some service has pauses"
    );

    let postgres = TestDatabase::create(Server::Postgres);
    postgres.execute(&script);
    let mariadb = TestDatabase::create(Server::MariaDb);
    mariadb.execute(&script);
    let (_sqlite_dir, sqlite) = sqlite_with(&script);

    for (origin, url) in [
        ("PostgreSQL", postgres.url.as_str()),
        ("MariaDB", mariadb.url.as_str()),
        ("SQLite", sqlite.as_str()),
    ] {
        let (records, summary) = read_db(url, &queries);
        assert!(
            summary.problems.is_empty(),
            "{origin}: {:#?}",
            summary.problems.kept()
        );
        let records = sorted(records);
        // Compare kind by kind, so that a difference is easy to find.
        assert_eq!(records.persons, expected.persons, "{origin}: persons");
        assert_eq!(records.services, expected.services, "{origin}: services");
        assert_eq!(
            records.assessments, expected.assessments,
            "{origin}: assessments"
        );
        assert_eq!(records.diagnoses, expected.diagnoses, "{origin}: diagnoses");
        assert_eq!(
            records.attributes, expected.attributes,
            "{origin}: attributes"
        );
    }
}

fn minimal_queries() -> Queries {
    Queries {
        persons: Some("SELECT pasient_id AS person_id, fodselsnummer AS ident FROM pasient".into()),
        services: Some(
            "SELECT vedtak_id AS service_id, pasient_id AS person_id, tjenestekode AS local_type, \
             'granted' AS decision FROM vedtak"
                .into(),
        ),
        ..Queries::default()
    }
}

const ONE_PERSON: &str = "INSERT INTO pasient (pasient_id, fodselsnummer) VALUES ('p1', '01810112332');
INSERT INTO tjenestetype VALUES ('HJSPL', 'Hjemmesykepleie');
INSERT INTO vedtak (vedtak_id, pasient_id, tjenestekode, innvilget) VALUES ('v1', 'p1', 'HJSPL', 1);";

/// The problems, without those about optional columns the minimal queries leave out.
fn problems(summary: &ReadSummary) -> Vec<Problem> {
    summary
        .problems
        .kept()
        .iter()
        .filter(|p| !p.what.contains("is not in the result"))
        .cloned()
        .collect()
}

#[test]
fn a_refused_connection_names_the_source_and_the_server_without_password() {
    let mut sink = Snapshot::default();
    let error = read_database(
        "new-epj",
        "postgres://reader:s3cret@127.0.0.1:1/epj",
        &minimal_queries(),
        &mut sink,
    )
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("source 'new-epj'"), "{message}");
    assert!(
        message.contains("postgres://reader@127.0.0.1:1/epj"),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
    assert!(
        message.contains("check that the database server runs"),
        "{message}"
    );

    let error = read_database("x", "oracle://db/epj", &minimal_queries(), &mut sink).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("postgres://, mysql:// or sqlite:"),
        "{error}"
    );
}

#[test]
fn a_failing_query_is_named_and_the_other_kinds_still_flow() {
    let db = TestDatabase::create(Server::Postgres);
    db.execute(&format!("{SCHEMA}\n{ONE_PERSON}"));
    let queries = Queries {
        diagnoses: Some("SELECT pasient_id AS person_id, kodeverk AS system FROM diagnosen".into()),
        ..minimal_queries()
    };
    let (records, summary) = read_db(&db.url, &queries);
    assert_eq!((records.persons.len(), records.services.len()), (1, 1));
    let problems = problems(&summary);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let message = problems[0].to_string();
    assert!(
        message.starts_with("new-epj diagnoses query: fails:"),
        "{message}"
    );
    assert!(message.contains("diagnosen"), "{message}");
}

#[test]
fn a_query_that_would_write_fails_in_the_read_only_transaction() {
    let db = TestDatabase::create(Server::Postgres);
    db.execute(&format!("{SCHEMA}\n{ONE_PERSON}"));
    let queries = Queries {
        persons: Some(
            "WITH gone AS (DELETE FROM opphold RETURNING vedtak_id) \
             SELECT pasient_id AS person_id, fodselsnummer AS ident FROM pasient"
                .into(),
        ),
        ..minimal_queries()
    };
    let (_, summary) = read_db(&db.url, &queries);
    let message = problems(&summary)[0].to_string();
    assert!(
        message.contains("new-epj persons query: fails:"),
        "{message}"
    );
    assert!(message.contains("read-only transaction"), "{message}");
}

#[test]
fn missing_and_unreadable_columns_are_named_with_their_kind() {
    let db = TestDatabase::create(Server::MariaDb);
    db.execute(&format!("{SCHEMA}\n{ONE_PERSON}"));
    // A required column missing: the kind cannot be read.
    let queries = Queries {
        services: Some(
            "SELECT vedtak_id AS service_id, pasient_id AS person_id FROM vedtak".into(),
        ),
        ..minimal_queries()
    };
    let (records, summary) = read_db(&db.url, &queries);
    assert_eq!(records.persons.len(), 1, "persons still flow");
    assert!(records.services.is_empty());
    let message = problems(&summary)[0].to_string();
    assert!(
        message.contains("new-epj services query: returns no column local_type, decision"),
        "{message}"
    );
    assert!(summary.unusable());

    // An optional column of a type that is not text, a number or a date: reported, left empty.
    let queries = Queries {
        persons: Some(
            "SELECT pasient_id AS person_id, fodselsnummer AS ident, \
             ST_GeomFromText('POINT(1 1)') AS district FROM pasient"
                .into(),
        ),
        ..minimal_queries()
    };
    let (records, summary) = read_db(&db.url, &queries);
    assert_eq!(records.persons.len(), 1);
    assert_eq!(records.persons[0].district, None);
    let problems = problems(&summary);
    let typed = problems
        .iter()
        .find(|p| p.column.as_deref() == Some("district"))
        .unwrap_or_else(|| panic!("{problems:#?}"));
    assert!(!typed.fatal);
    assert!(
        typed
            .to_string()
            .starts_with("new-epj persons query column district: has type GEOMETRY"),
        "{typed}"
    );
    assert!(typed.fix.contains("CAST"), "{typed}");
}

#[test]
fn bad_values_are_located_by_row_and_column_and_never_show_an_identity() {
    let (_dir, url) = sqlite_with(&format!(
        "{SCHEMA}
INSERT INTO pasient (pasient_id, fodselsnummer, bostedskommune) VALUES ('p1', '01810112332', '301');
INSERT INTO pasient (pasient_id, fodselsnummer, bostedskommune) VALUES ('p2', '01810112170', x'00ff');
INSERT INTO tjenestetype VALUES ('HJSPL', 'Hjemmesykepleie');
INSERT INTO vedtak (vedtak_id, pasient_id, tjenestekode, innvilget, fra_dato)
  VALUES ('v1', 'p1', 'HJSPL', 1, '2025-02-30');"
    ));
    let queries = Queries {
        persons: Some(
            "SELECT pasient_id AS person_id, fodselsnummer AS ident, bostedskommune AS municipality \
             FROM pasient ORDER BY pasient_id"
                .into(),
        ),
        services: Some(
            "SELECT vedtak_id AS service_id, pasient_id AS person_id, tjenestekode AS local_type, \
             'granted' AS decision, fra_dato AS start_date FROM vedtak"
                .into(),
        ),
        ..Queries::default()
    };
    let (records, summary) = read_db(&url, &queries);
    assert_eq!(records.persons.len(), 2, "bad values never drop the record");
    assert_eq!(records.services.len(), 1);
    let shown: Vec<String> = problems(&summary).iter().map(|p| p.to_string()).collect();
    assert!(
        shown.iter().any(|p| p.starts_with(
            "new-epj persons query row 1 column municipality: '301' is not a four-digit"
        )),
        "{shown:#?}"
    );
    assert!(
        shown.iter().any(|p| p.starts_with(
            "new-epj persons query row 2 column municipality: holds a value of type BLOB"
        )),
        "{shown:#?}"
    );
    assert!(
        shown.iter().any(|p| p.starts_with(
            "new-epj services query row 1 column start_date: '2025-02-30' is not a date: February 2025 has 28 days"
        )),
        "{shown:#?}"
    );
    for line in &shown {
        assert!(
            !line.contains("01810112332") && !line.contains("01810112170"),
            "{line}"
        );
    }
}

#[test]
fn a_column_named_twice_and_a_nul_in_a_value_are_read_as_from_an_extract() {
    let db = TestDatabase::create(Server::MariaDb);
    db.execute(&format!("{SCHEMA}\n{ONE_PERSON}"));
    // The services query names local_type twice: refused, naming the column and both places.
    let queries = Queries {
        services: Some(
            "SELECT vedtak_id AS service_id, pasient_id AS person_id, tjenestekode AS local_type, \
             'granted' AS decision, tjenestekode AS local_type FROM vedtak"
                .into(),
        ),
        ..minimal_queries()
    };
    let (records, summary) = read_db(&db.url, &queries);
    assert_eq!(records.persons.len(), 1, "persons still flow");
    assert!(records.services.is_empty());
    let problems_found = problems(&summary);
    assert_eq!(problems_found.len(), 1, "{problems_found:#?}");
    assert_eq!(
        problems_found[0].to_string(),
        "new-epj services query: returns the column local_type twice, as result columns 3 and 5 — name each result column once, with AS; which of the two holds the value cannot be told"
    );

    // A NUL inside a text value (MariaDB keeps it): the value is read as empty and reported.
    let queries = Queries {
        persons: Some(
            "SELECT pasient_id AS person_id, fodselsnummer AS ident, \
             CONCAT('Ola', CHAR(0), 'Nordmann') AS name FROM pasient"
                .into(),
        ),
        ..minimal_queries()
    };
    let (records, summary) = read_db(&db.url, &queries);
    assert_eq!(records.persons.len(), 1);
    assert_eq!(records.services.len(), 1);
    let problems_found = problems(&summary);
    assert_eq!(problems_found.len(), 1, "{problems_found:#?}");
    let nul = &problems_found[0];
    assert_eq!(
        (nul.line, nul.column.as_deref(), nul.fatal),
        (Some(1), Some("name"), false)
    );
    assert!(nul.what.contains("NUL"), "{nul}");
    assert!(!nul.to_string().contains("Nordmann"), "{nul}");
}
