//! The administration page of a multi-municipality deployment: one sign-in, and each user
//! sees only the municipalities whose configuration names them with that password. Three
//! municipalities in one PostgreSQL database (a schema each); `kari` is named in two with
//! her password and in the third with another one, `ola` in the third only.

mod support;

use std::path::Path;
use std::sync::Arc;

use kpr_bridge::admin::{self, portal};
use kpr_bridge::agent::clock::SystemClock;
use kpr_bridge::config::Config;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use sqlx::PgPool;
use support::admin::{client, cookie, csrf, form};
use support::{Server, TestDatabase};

const KARI: &str = "kari";
const KARI_PASSWORD: &str = "blå fjell over fjorden";
const OLA: &str = "ola";
const OLA_PASSWORD: &str = "en annen lang frase";

fn config(root: &Path, url: &str, number: &str, users: &[(&str, &str)]) -> Config {
    let home = root.join(number);
    std::fs::create_dir_all(home.join("extract")).unwrap();
    let delivery = format!(
        "[delivery]\ntransport = \"spool\"\nspool_dir = \"{}/spool\"",
        home.display()
    );
    let mut text = support::tenants::config(&home, url, number, 0, &delivery);
    for (name, password) in users {
        text.push_str(&format!(
            "[[admin.user]]\nname = \"{name}\"\npassword_hash = \"{}\"\n",
            admin::auth::hash_password(password).unwrap()
        ));
    }
    let file = root.join(format!("{number}.toml"));
    std::fs::write(&file, text).unwrap();
    Config::load(&file).unwrap()
}

/// The deployment's page on a loopback port: three municipalities in one database.
struct Deployment {
    database: TestDatabase,
    _root: tempfile::TempDir,
    base: String,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Deployment {
    async fn start() -> Deployment {
        let database = TestDatabase::create(Server::Postgres);
        let root = tempfile::tempdir().unwrap();
        let configs = vec![
            config(root.path(), &database.url, "0301", &[(KARI, KARI_PASSWORD)]),
            config(root.path(), &database.url, "4601", &[(KARI, KARI_PASSWORD)]),
            config(
                root.path(),
                &database.url,
                "5001",
                &[(KARI, "ikke karis passord her"), (OLA, OLA_PASSWORD)],
            ),
        ];
        let portal = Arc::new(portal::Portal::new(configs, Arc::new(SystemClock), false));
        let settings = kpr_bridge::config::admin::Admin {
            listen: "127.0.0.1:0".parse().unwrap(),
            users: Vec::new(),
            tls: None,
            behind_tls_proxy: false,
            session: std::time::Duration::from_secs(3600),
        };
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let (bound, _task) = admin::serve_app(portal::router(portal), &settings, shutdown)
            .await
            .unwrap();
        Deployment {
            database,
            _root: root,
            base: format!("http://{bound}"),
            stop,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_sees_only_the_municipalities_granted_to_them() {
    let deployment = Deployment::start().await;
    let (database, base) = (&deployment.database, deployment.base.clone());
    let http = client();
    let get = |path: &str, cookies: &str| {
        http.get(format!("{base}{path}"))
            .header(COOKIE, cookies.to_string())
            .send()
    };

    // Nobody signed in: a municipality's page sends to the list, the list to the sign-in.
    let response = get("/m/0301/", "").await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/");
    let response = get("/", "").await.unwrap();
    assert_eq!(response.headers()[LOCATION], "/sign-in");

    let sign_in = |user: &'static str, password: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let page = http.get(format!("{base}/sign-in")).send().await.unwrap();
            let form_cookie = cookie(&page, "kpr_admin_sign_in").unwrap();
            let token = csrf(&page.text().await.unwrap());
            http.post(format!("{base}/sign-in"))
                .header(COOKIE, format!("kpr_admin_sign_in={form_cookie}"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form(&[
                    ("user", user),
                    ("password", password),
                    ("csrf", &token),
                ]))
                .send()
                .await
                .unwrap()
        }
    };

    // Kari: 0301 and 4601; 5001 names her with another password, so not 5001.
    let signed_in = sign_in(KARI, KARI_PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = cookie(&signed_in, "kpr_admin_session").unwrap();
    let granted = cookie(&signed_in, "kpr_admin_municipalities").unwrap();
    assert_eq!(granted, "0301.4601");
    let kari = format!("kpr_admin_session={session}; kpr_admin_municipalities={granted}");
    let list = get("/", &kari).await.unwrap().text().await.unwrap();
    assert!(
        list.contains("/m/0301/") && list.contains("/m/4601/"),
        "{list}"
    );
    assert!(!list.contains("5001"), "{list}");

    // A forged list of municipalities grants nothing more: each store is asked.
    let forged = format!("kpr_admin_session={session}; kpr_admin_municipalities=0301.4601.5001");
    let list = get("/", &forged).await.unwrap().text().await.unwrap();
    assert!(!list.contains("5001"), "{list}");
    let response = get("/m/5001/", &forged).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "5001 is not Kari's"
    );

    let overview = get("/m/0301/", &kari).await.unwrap();
    assert_eq!(overview.status(), StatusCode::OK);
    let overview = overview.text().await.unwrap();
    assert!(overview.contains("0301 Kommune 0301"), "{overview}");
    assert!(
        overview.contains("href=\"/m/0301/runs\""),
        "links stay in the municipality"
    );
    assert!(overview.contains("Alle kommuner"), "{overview}");

    // Contacts saved on 4601's page go to 4601's store only.
    let settings_page = get("/m/4601/settings", &kari)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf(&settings_page[settings_page.find("contacts-form").unwrap()..]);
    let saved = http
        .post(format!("{base}/m/4601/settings/contacts"))
        .header(COOKIE, kari.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", &token),
            ("contact_name", "Kari Kontakt"),
            ("contact_email", "kari@example.invalid"),
            ("contact_phone", ""),
            ("submitter_name", "Kari Kontakt"),
            ("submitter_email", "kari@example.invalid"),
            ("submitter_phone", ""),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(
        saved.status(),
        StatusCode::SEE_OTHER,
        "{}",
        saved.text().await.unwrap()
    );
    assert_eq!(saved.headers()[LOCATION], "/m/4601/settings?saved=1");

    let pool = PgPool::connect(&database.url).await.unwrap();
    let count = |sql: String| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT count(*) FROM kpr_4601.iplos_contacts".into()).await,
        2
    );
    assert_eq!(
        count("SELECT count(*) FROM kpr_0301.iplos_contacts".into()).await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM kpr_5001.admin_sessions".into()).await,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM kpr_0301.admin_audit WHERE user_name = 'kari' AND action = 'signed in'".into()).await,
        1
    );

    // Ola: 5001 only.
    let signed_in = sign_in(OLA, OLA_PASSWORD).await;
    let ola = format!(
        "kpr_admin_session={}; kpr_admin_municipalities={}",
        cookie(&signed_in, "kpr_admin_session").unwrap(),
        cookie(&signed_in, "kpr_admin_municipalities").unwrap()
    );
    assert_eq!(
        get("/m/5001/", &ola).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        get("/m/0301/", &ola).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );

    // A wrong password grants nothing, and is written in the audit of those naming the user.
    let refused = sign_in(OLA, "feil passord feil passord").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count("SELECT count(*) FROM kpr_5001.admin_audit WHERE action = 'sign-in refused'".into())
            .await,
        1
    );

    // Kari signs out: her session ends in both municipalities.
    let list = get("/", &kari).await.unwrap().text().await.unwrap();
    let out = http
        .post(format!("{base}/sign-out"))
        .header(COOKIE, kari.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("csrf", &csrf(&list))]))
        .send()
        .await
        .unwrap();
    assert_eq!(out.headers()[LOCATION], "/sign-in");
    for number in ["0301", "4601"] {
        let response = get(&format!("/m/{number}/"), &kari).await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{number} after sign-out"
        );
    }
    assert_eq!(
        get("/m/5001/", &ola).await.unwrap().status(),
        StatusCode::OK,
        "Ola still in"
    );
    let _ = deployment.stop.send(true);
    pool.close().await;
}

/// The same in Chromium: Kari signs in once, finds her two municipalities, works in one,
/// is sent back to her list from a third, and signs out of all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sign_in_and_the_granted_municipalities_in_chromium() {
    use support::browser::{Driver, arrive, browser, click, fill, text};

    let deployment = Deployment::start().await;
    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let base = &deployment.base;

    client.goto(&format!("{base}/m/4601/")).await.unwrap();
    arrive(&client, "/sign-in").await;
    fill(&client, "input[name=user]", KARI).await;
    fill(&client, "input[name=password]", KARI_PASSWORD).await;
    click(&client, "form.sign-in button").await;
    arrive(&client, "/").await;
    let list = text(&client, "ul.municipalities").await;
    assert!(
        list.contains("0301 Kommune 0301") && list.contains("4601 Kommune 4601"),
        "{list}"
    );
    assert!(!list.contains("5001"), "{list}");

    click(&client, "a[href='/m/4601/']").await;
    arrive(&client, "/m/4601/").await;
    assert!(text(&client, ".brand").await.contains("4601 Kommune 4601"));
    click(&client, "nav a[href='/m/4601/settings']").await;
    arrive(&client, "/m/4601/settings").await;
    click(&client, ".brand a").await;
    arrive(&client, "/").await;

    // A municipality not granted to her sends her back to her list.
    client.goto(&format!("{base}/m/5001/")).await.unwrap();
    arrive(&client, "/").await;

    click(&client, "form.sign-out button").await;
    arrive(&client, "/sign-in").await;
    client.goto(&format!("{base}/m/0301/")).await.unwrap();
    arrive(&client, "/sign-in").await;
    client.close().await.unwrap();
    let _ = deployment.stop.send(true);
}
