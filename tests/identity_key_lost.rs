//! A lost identity key (issue 30, part 3): the key file deleted, the daily flow goes on with a
//! new key, notifications sealed under the old one are named — by `resend` (refused, exit 2),
//! by `status` (text and JSON) and by the page's words — and never fail with a decryption
//! error; a person the EPJ no longer lists is held back while everyone else's changes go;
//! notifications captured but not yet sent are sealed again from the EPJ, or hold up the
//! ship with what to do; and the old key put back beside the new one opens everything again.
//! Over SQLite and PostgreSQL, through the built binary and the spool.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use kpr_bridge::crypto::at_rest::IdentityKey;
use kpr_bridge::store::Store;
use support::spool::Municipality;
use support::{Server, TestDatabase};

const S1: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;;;;;";
const S1_ENDED: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;2026-03-02;;;;";
const S2: &str = "s2;p2;PRAKT;innvilget;;2026-02-01;;2;974760673;;";
const S3: &str = "s3;p1;PRAKT;innvilget;;2026-03-03;;2;974760673;;";

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr)
}

/// The exit code is `code`, and nothing an operator reads holds an identity number or a
/// decryption error.
fn expect(output: &Output, code: i32) -> String {
    let all = text(output);
    assert_eq!(output.status.code(), Some(code), "{all}");
    assert!(
        !all.contains(&support::daily::ident_number(1))
            && !all.contains(&support::daily::ident_number(2)),
        "no identity number in what an operator reads: {all}"
    );
    assert!(
        !all.contains("does not open with the key"),
        "no decryption error: {all}"
    );
    all
}

/// One test's municipality: SQLite in its data directory, or a PostgreSQL database of its own.
struct Place {
    m: Municipality,
    database: Option<TestDatabase>,
}

impl Place {
    fn new(server: Option<Server>) -> Place {
        let m = Municipality::new();
        let database = server.map(TestDatabase::create);
        if let Some(database) = &database {
            m.config_line(&format!("[state]\nurl = \"{}\"\n", database.url));
        }
        Place { m, database }
    }

    fn run(&self, command: &str, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .arg(command)
            .arg("--config")
            .arg(self.m.path("kpr-bridge.toml"))
            .args(args)
            .output()
            .unwrap()
    }

    fn daily(&self, date: &str, extra: &[&str]) -> Output {
        let mut args = vec!["--date", date];
        args.extend(extra);
        self.m.daily(&args, None)
    }

    fn key_file(&self) -> PathBuf {
        self.m.path("state").join("identity.key")
    }

    /// `status --json` (its exit code is not this test's: the test's dates are long past, so
    /// the schedule finds missed dates).
    fn status_json(&self) -> serde_json::Value {
        let out = self.run("status", &["--json"]);
        let code = out.status.code();
        expect(&out, code.unwrap_or(-1));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The alerts the status calls for, in bokmål.
    fn alerts(&self) -> Vec<kpr_bridge::alerts::Alert> {
        let config = kpr_bridge::config::Config::load(&self.m.path("kpr-bridge.toml")).unwrap();
        let (url, data_dir) = self.store_at();
        let mut alerts = Vec::new();
        support::block_on(|| async {
            let store = Store::open(url.as_deref(), &data_dir).await.unwrap();
            let now = chrono::Utc::now();
            let status = kpr_bridge::status::gather(&config, &store, now)
                .await
                .unwrap();
            alerts = kpr_bridge::alerts::due(&status, now, kpr_bridge::i18n::Language::Nb);
            store.close().await;
        });
        alerts
    }

    /// `status` as text.
    fn status_text(&self) -> String {
        let out = self.run("status", &[]);
        expect(&out, out.status.code().unwrap_or(-1))
    }

    /// Writes the extract with `services`, and p1 alone in it: p2 is no longer in the EPJ.
    fn extract_without_p2(&self, services: &[&str]) {
        self.m.extract(services);
        let file = self.m.path("extract").join("persons.csv");
        let persons = std::fs::read_to_string(&file).unwrap();
        let kept: Vec<&str> = persons.lines().filter(|l| !l.starts_with("p2;")).collect();
        std::fs::write(&file, kept.join("\n") + "\n").unwrap();
    }

    /// Puts the saved first key back beside the key file, as the runbook says.
    fn put_back_as_previous(&self) {
        let previous = self.m.path("state").join("identity.key.previous");
        std::fs::copy(self.m.path("saved.key"), &previous).unwrap();
        set_private(&previous);
    }

    /// The store's URL (PostgreSQL) and data directory.
    fn store_at(&self) -> (Option<String>, PathBuf) {
        (
            self.database.as_ref().map(|d| d.url.clone()),
            self.m.path("state"),
        )
    }

    /// Each notification's number, and whether `key` opens its identity number.
    fn opened_by(&self, key: &IdentityKey) -> Vec<(i64, bool)> {
        const SQL: &str = "SELECT number, guid, identity FROM daily_notifications ORDER BY number";
        let (url, data_dir) = self.store_at();
        let mut rows: Vec<(i64, String, String)> = Vec::new();
        support::block_on(|| async {
            let store = Store::open(url.as_deref(), &data_dir).await.unwrap();
            rows = match &store {
                Store::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
                Store::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
            };
            store.close().await;
        });
        rows.into_iter()
            .map(|(number, guid, sealed)| (number, key.open_sealed(&sealed, &guid).is_ok()))
            .collect()
    }

    /// (number, kind, status, sent) of every notification.
    fn notifications(&self) -> Vec<(i64, String, String, bool)> {
        const SQL: &str = "SELECT number, kind, status, first_message FROM daily_notifications
            ORDER BY number";
        let (url, data_dir) = self.store_at();
        let mut rows: Vec<(i64, String, String, Option<String>)> = Vec::new();
        support::block_on(|| async {
            let store = Store::open(url.as_deref(), &data_dir).await.unwrap();
            rows = match &store {
                Store::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
                Store::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
            };
            store.close().await;
        });
        rows.into_iter()
            .map(|(number, kind, status, first)| (number, kind, status, first.is_some()))
            .collect()
    }
}

/// Runs `scenario` over SQLite, then PostgreSQL, saying how long each took (the figures in
/// docs/reliability.md).
fn on_both(scenario: impl Fn(Place)) {
    for server in [None, Some(Server::Postgres)] {
        let started = std::time::Instant::now();
        scenario(Place::new(server));
        eprintln!(
            "{}: {:.1} s",
            if server.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            },
            started.elapsed().as_secs_f64()
        );
    }
}

/// Notifications 1 (s1 start) and 2 (s2 start) sent on 1 March under the first key, which is
/// then deleted.
fn initial_then_key_deleted(p: &Place) -> IdentityKey {
    p.m.extract(&[S1, S2]);
    expect(&p.daily("2026-03-01", &["--initial"]), 0);
    let old = IdentityKey::open(&p.key_file(), false).unwrap();
    // Its backup, for the tests that find it again.
    std::fs::copy(p.key_file(), p.m.path("saved.key")).unwrap();
    std::fs::remove_file(p.key_file()).unwrap();
    old
}

#[test]
fn a_deleted_key_daily_goes_on_resend_refuses_the_old_ones_and_status_names_them() {
    on_both(|p| {
        let old = initial_then_key_deleted(&p);

        // Before the next run: status says the file is missing, resend refuses by number.
        let missing = p.status_json();
        assert_eq!(missing["identity_key"]["file_missing"], true, "{missing:#}");
        assert_eq!(missing["identity_key"]["needs_action"], true);
        let text = p.status_text();
        assert!(text.contains("mangler"), "{text}");
        let refused = expect(
            &p.run("resend", &["--between-numbers", "1", "2", "--yes"]),
            2,
        );
        assert!(
            refused
                .contains("number(s) 1–2 are sealed under an identity key that is no longer there")
                && refused.contains("is missing")
                && refused.contains("raise it with FHI"),
            "{refused}"
        );
        assert!(!p.key_file().exists(), "a re-send never makes a key");

        // The daily run makes a new key, says so, and ships.
        let spooled = p.m.spooled();
        p.m.extract(&[S1_ENDED, S2]);
        let day2 = expect(&p.daily("2026-03-02", &[]), 1);
        assert!(
            day2.contains("a new identity key")
                && day2.contains("2 notification(s) can no longer be sent again"),
            "{day2}"
        );
        assert!(day2.contains("numbers 3–3"), "{day2}");
        assert_eq!(p.m.spooled(), spooled + 1, "the day was shipped");
        let new = IdentityKey::open(&p.key_file(), false).unwrap();
        assert_ne!(new.fingerprint(), old.fingerprint());
        assert_eq!(
            p.opened_by(&new),
            [(1, false), (2, false), (3, true)],
            "the next day's notification is sealed under the new key"
        );
        assert!(p.opened_by(&old).iter().take(2).all(|(_, opens)| *opens));

        // Resend of an old one: refused, named, nothing sent; with a new one too: the others named.
        let refused = expect(
            &p.run("resend", &["--between-numbers", "1", "2", "--yes"]),
            2,
        );
        assert!(
            refused.contains("2 of the 2 selected notification(s) cannot be sent again")
                && refused.contains("number(s) 1–2")
                && refused.contains("holds another key")
                && refused.contains(".previous"),
            "{refused}"
        );
        let mixed = expect(
            &p.run("resend", &["--since-number", "1", "--yes", "--force"]),
            2,
        );
        assert!(
            mixed.contains("number(s) 1–2") && mixed.contains("the others (number(s) 3)"),
            "{mixed}"
        );
        assert_eq!(p.m.spooled(), spooled + 1, "nothing was sent");

        // The new notification can still be sent again.
        let again = expect(
            &p.run(
                "resend",
                &["--between-numbers", "3", "3", "--yes", "--force"],
            ),
            0,
        );
        assert!(again.contains("re-send part 1 of 1"), "{again}");
        assert_eq!(p.m.spooled(), spooled + 2);

        // Status: which cannot be sent again, and why, in text and JSON.
        let status = p.status_json();
        let key = &status["identity_key"];
        assert_eq!(key["file_missing"], false, "{key:#}");
        assert_eq!(
            key["cannot_resend"],
            serde_json::json!([{"first": 1, "last": 2}])
        );
        assert_eq!(key["cannot_resend_count"], 2);
        assert_eq!(key["cannot_send_count"], 0);
        assert_eq!(key["first_number"], 3);
        assert_eq!(key["fingerprint"], new.fingerprint());
        assert_eq!(key["needs_action"], true);
        let text = p.status_text();
        assert!(
            text.contains("2 notifikasjoner som er sendt (1–2), kan ikke sendes på nytt")
                && text.contains("identity.key.previous"),
            "{text}"
        );
        let alerts = p.alerts();
        let alert = alerts
            .iter()
            .find(|a| a.kind == "identity-key")
            .unwrap_or_else(|| panic!("an alert: {alerts:?}"));
        assert!(
            alert
                .key
                .starts_with(&format!("identity-key:{}:there:2:0", new.fingerprint()))
                && alert.message.contains("1–2")
                && alert.message.contains("identity.key.previous"),
            "{alert:?}"
        );

        // The old key found again, put beside the new one: everything opens again.
        p.put_back_as_previous();
        p.m.extract(&[S1_ENDED, S2, S3]);
        let day3 = expect(&p.daily("2026-03-03", &[]), 0);
        assert!(!day3.contains("new identity key"), "{day3}");
        let status = p.status_json();
        assert_eq!(
            status["identity_key"]["cannot_resend_count"], 0,
            "{status:#}"
        );
        expect(
            &p.run(
                "resend",
                &["--between-numbers", "1", "2", "--yes", "--force"],
            ),
            0,
        );
    });
}

fn set_private(file: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_person_the_epj_no_longer_lists_is_held_back_and_the_others_go() {
    on_both(|p| {
        initial_then_key_deleted(&p);
        // p2's only service is gone: p2 is no longer in the EPJ, and what the register last
        // heard of them is sealed under the lost key. p1's service ends.
        p.extract_without_p2(&[S1_ENDED]);
        let day2 = expect(&p.daily("2026-03-02", &[]), 1);
        assert!(
            day2.contains("held back: 1 service(s) of 1 person(s) the EPJ no longer lists"),
            "{day2}"
        );
        assert_eq!(
            p.notifications(),
            [
                (1, "start".into(), "N".into(), true),
                (2, "start".into(), "N".into(), true),
                (3, "end".into(), "N".into(), true),
            ],
            "p1's end went; nothing of p2"
        );
        let status = p.status_json();
        let findings = &status["findings"]["findings"];
        assert!(
            findings
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "identity-key-lost" && f["count"] == 1),
            "{findings:#}"
        );
        let text = p.status_text();
        assert!(text.contains("identity-key-lost"), "{text}");

        // The next day the same, and nothing else is lost.
        let again = expect(&p.daily("2026-03-03", &[]), 1);
        assert!(again.contains("held back: 1 service(s)"), "{again}");
        assert_eq!(p.notifications().len(), 3);

        // The old key put back beside the new one: p2's annulment goes with the next run.
        p.put_back_as_previous();
        let day4 = expect(&p.daily("2026-03-04", &[]), 0);
        assert!(day4.contains("1 notification(s) (numbers 4–4)"), "{day4}");
        let all = p.notifications();
        assert_eq!(all.len(), 4);
        assert_eq!(
            (all[3].1.as_str(), all[3].2.as_str()),
            ("start", "C"),
            "{all:?}"
        );
        let status = p.status_json();
        assert_eq!(status["identity_key"]["needs_action"], false, "{status:#}");
    });
}

#[test]
fn captured_but_not_sent_is_sealed_again_from_the_epj_or_holds_up_the_ship() {
    on_both(|p| {
        // Captured on 2 March under the first key, then the process dies before the ship.
        p.m.extract(&[S1, S2]);
        expect(&p.daily("2026-03-01", &["--initial"]), 0);
        p.extract_without_p2(&[S1_ENDED]);
        let crashed =
            p.m.daily(&["--date", "2026-03-02"], Some("daily.ship.before-commit"));
        assert_ne!(crashed.status.code(), Some(0));
        std::fs::copy(p.key_file(), p.m.path("saved.key")).unwrap();
        std::fs::remove_file(p.key_file()).unwrap();
        let unsent: Vec<i64> = p
            .notifications()
            .iter()
            .filter(|n| !n.3)
            .map(|n| n.0)
            .collect();
        assert_eq!(unsent, [3, 4], "s1's end and p2's annulment wait");

        // p1 is still in the EPJ: 3 is sealed again. p2 is not: 4 cannot be, and the ship
        // refuses, naming it — nothing is sent, nothing lost.
        let spooled = p.m.spooled();
        let refused = expect(&p.daily("2026-03-02", &[]), 2);
        assert!(
            refused.contains("notification(s) 4 were captured but not yet sent, and cannot be")
                && refused.contains("identity.key.previous"),
            "{refused}"
        );
        assert_eq!(p.m.spooled(), spooled);
        let new = IdentityKey::open(&p.key_file(), false).unwrap();
        assert_eq!(
            p.opened_by(&new),
            [(1, false), (2, false), (3, true), (4, false)]
        );
        let status = p.status_json();
        let key = &status["identity_key"];
        assert_eq!(
            key["cannot_send"],
            serde_json::json!([{"first": 4, "last": 4}]),
            "{key:#}"
        );
        assert_eq!(key["cannot_resend_count"], 2);
        let text = p.status_text();
        assert!(
            text.contains("1 notifikasjon (4) er ikke sendt ennå"),
            "{text}"
        );

        // The old key found: both go, in one message, the chain unbroken.
        p.put_back_as_previous();
        let shipped = expect(&p.daily("2026-03-02", &[]), 0);
        assert!(
            shipped.contains("2 notification(s) in 1 message(s)"),
            "{shipped}"
        );
        assert_eq!(p.m.spooled(), spooled + 1);
        assert!(p.notifications().iter().all(|n| n.3), "all sent");
    });
}

/// The administration page: the overview's needs-action, the message page and the re-send
/// say which notifications cannot be sent again, and a re-send of them cannot be confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_names_what_cannot_be_sent_again_and_refuses_it() {
    use reqwest::header::COOKIE;
    use support::admin::{PASSWORD, S1_ENDED, S2, Site, USER, client, cookie, csrf, form};

    let site = Site::start().await;
    let rejected = site.messages().await[0].0.clone();
    std::fs::remove_file(site.m.path("state").join("identity.key")).unwrap();
    site.m
        .extract(&[S1_ENDED, S2, &support::admin::markup_row()]);
    let day2 = tokio::task::block_in_place(|| site.m.daily(&["--date", "2026-03-02"], None));
    assert_eq!(day2.status.code(), Some(1), "{}", text(&day2));

    let http = client();
    let base = site.base.clone();
    let get = async |path: &str, cookies: &str| {
        http.get(format!("{base}{path}"))
            .header(COOKIE, cookies)
            .send()
            .await
            .unwrap()
    };
    let post = async |path: &str, cookies: &str, body: String| {
        http.post(format!("{base}{path}"))
            .header(COOKIE, cookies)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let page = get("/sign-in", "").await;
    let sign_in = cookie(&page, "kpr_admin_sign_in").unwrap();
    let html = page.text().await.unwrap();
    let signed = http
        .post(format!("{base}/sign-in"))
        .header(COOKIE, format!("kpr_admin_sign_in={sign_in}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("user", USER),
            ("password", PASSWORD),
            ("csrf", &csrf(&html)),
        ]))
        .send()
        .await
        .unwrap();
    let session = format!(
        "kpr_admin_session={}",
        cookie(&signed, "kpr_admin_session").unwrap()
    );

    let overview = get("/", &session).await.text().await.unwrap();
    assert!(
        overview.contains("3 notifikasjoner som er sendt (1–3), kan ikke sendes på nytt"),
        "{overview}"
    );
    let message = get(&format!("/messages/{rejected}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        message.contains("id=\"sealed-away\"")
            && message.contains("Notifikasjonene 1–3 i denne meldingen kan ikke sendes på nytt")
            && message.matches("(kan ikke sendes på nytt)").count() == 3,
        "{message}"
    );

    let token = csrf(&get("/resend", &session).await.text().await.unwrap());
    let choice = |by: &str, value: &str, value2: &str| {
        form(&[
            ("csrf", token.as_str()),
            ("by", by),
            ("value", value),
            ("value2", value2),
            ("force", "yes"),
        ])
    };
    let preview = post(
        "/resend/preview",
        &session,
        choice("message", &rejected, ""),
    )
    .await;
    assert!(
        preview.contains("3 av de 3 valgte notifikasjonene (1–3) kan ikke sendes på nytt")
            && !preview.contains("confirm-resend"),
        "no confirmation: {preview}"
    );
    let before = site.messages().await.len();
    let refused = post(
        "/resend/confirm",
        &session,
        choice("message", &rejected, ""),
    )
    .await;
    assert!(
        refused.contains("kan ikke sendes på nytt") && !refused.contains("confirm-resend"),
        "{refused}"
    );
    assert_eq!(site.messages().await.len(), before, "nothing was sent");
    let new = post(
        "/resend/preview",
        &session,
        choice("between-numbers", "4", "4"),
    )
    .await;
    assert!(
        new.contains("confirm-resend") && !new.contains("kan ikke sendes på nytt"),
        "{new}"
    );
    let sent = post(
        "/resend/confirm",
        &session,
        choice("between-numbers", "4", "4"),
    )
    .await;
    assert!(sent.contains("er på vei til KPR"), "{sent}");
    assert_eq!(site.messages().await.len(), before + 1);
    for html in [&overview, &message, &preview, &refused] {
        for n in 1..=2 {
            assert!(!html.contains(&support::daily::ident_number(n)));
        }
    }
    site.stop();
}

/// A store from before keys were recorded (migration 0012): its notifications are recorded as
/// the key file's when that key opens them, else as an unknown key's — sealed away — which a
/// key put beside the file later names.
#[test]
fn notifications_from_before_keys_were_recorded_are_judged_by_the_key_file() {
    use kpr_bridge::daily::sealed;
    use kpr_bridge::source::Snapshot;
    use support::daily::{capture_on, only, person, service};

    async fn execute(store: &Store, sql: &str) {
        match store {
            Store::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
            Store::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(|_| ()),
        }
        .unwrap();
    }

    support::on_both(|store| async move {
        let epj = Snapshot {
            persons: vec![person("p1", 1, "4601")],
            services: vec![service("s1", "p1", "MATOMBR", "2026-01-10")],
            ..Snapshot::default()
        };
        capture_on(&store, &only(&epj), "2026-03-01", true)
            .await
            .unwrap();
        execute(&store, "UPDATE daily_notifications SET identity_key = NULL").await;
        execute(&store, "DELETE FROM identity_keys").await;
        let now = chrono::Utc::now();

        // The key that sealed them: recorded as its own, nothing sealed away, no new key.
        let right = support::daily::identity_key();
        let mut tx = store.begin_daily().await.unwrap();
        let recorded = sealed::record(&mut tx, Some(&right), now).await.unwrap();
        assert!(!recorded.new_key);
        assert_eq!(tx.sealed_away(&[1]).await.unwrap(), Vec::<i64>::new());
        tx.rollback().await.unwrap();

        // Another key: they are an unknown key's, sealed away; it is a new key.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("identity.key");
        let other = IdentityKey::open(&file, true).unwrap();
        let mut tx = store.begin_daily().await.unwrap();
        let recorded = sealed::record(&mut tx, Some(&other), now).await.unwrap();
        assert!(recorded.new_key);
        assert_eq!(tx.sealed_away(&[1]).await.unwrap(), [1]);
        let keys = tx.identity_keys().await.unwrap();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert_eq!(keys[0].fingerprint, None);
        assert!(!keys[0].present && keys[1].current && keys[1].present);
        tx.commit().await.unwrap();
        let away = store.sealed_away().await.unwrap();
        assert_eq!((away.sent_count, away.unsent.clone()), (0, vec![(1, 1)]));

        // The right key found and put beside the file: the unknown key is named, present.
        std::fs::copy(
            &support::daily::daily().identity_key_file,
            dir.path().join("identity.key.previous"),
        )
        .unwrap();
        let both = IdentityKey::open(&file, false).unwrap();
        let mut tx = store.begin_daily().await.unwrap();
        sealed::record(&mut tx, Some(&both), now).await.unwrap();
        assert_eq!(tx.sealed_away(&[1]).await.unwrap(), Vec::<i64>::new());
        let keys = tx.identity_keys().await.unwrap();
        assert_eq!(keys[0].fingerprint, Some(right.fingerprint()));
        assert!(keys[0].present && !keys[0].current);
        tx.commit().await.unwrap();
        assert_eq!(store.sealed_away().await.unwrap(), Default::default());
    });
}
