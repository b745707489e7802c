//! The administration page over HTTP, as a browser would be refused: no page without a
//! session, no form without its CSRF token, wrong passwords slowed down, an ended session's
//! cookie dead for good; markup from the EPJ shown as text; no identity number on any page.
//! The browser test (tests/admin_browser.rs) drives the same site in Chromium.

mod support;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use support::admin::{
    MARKUP, OTHER_PASSWORD, OTHER_USER, PASSWORD, Site, USER, client, cookie, csrf, form,
};

struct Browserless {
    http: reqwest::Client,
    base: String,
}

impl Browserless {
    async fn post(&self, path: &str, cookies: &str, body: String) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header(COOKIE, cookies)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str, cookies: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(COOKIE, cookies)
            .send()
            .await
            .unwrap()
    }

    /// Signs in as the sign-in page would; the response to the form.
    async fn sign_in(&self, user: &str, password: &str) -> reqwest::Response {
        let page = self.get("/sign-in", "").await;
        let token = cookie(&page, "kpr_admin_sign_in").unwrap();
        let html = page.text().await.unwrap();
        self.post(
            "/sign-in",
            &format!("kpr_admin_sign_in={token}"),
            form(&[
                ("user", user),
                ("password", password),
                ("csrf", &csrf(&html)),
            ]),
        )
        .await
    }

    /// A session cookie header for `user`.
    async fn session(&self, user: &str, password: &str) -> String {
        let signed = self.sign_in(user, password).await;
        assert_eq!(signed.status(), StatusCode::SEE_OTHER);
        format!(
            "kpr_admin_session={}",
            cookie(&signed, "kpr_admin_session").unwrap()
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_refuses_what_it_must_and_shows_no_identity() {
    let site = Site::start().await;
    let web = Browserless {
        http: client(),
        base: site.base.clone(),
    };

    // No session: every page sends the browser to sign in.
    for path in ["/", "/runs", "/resend", "/settings", "/audit", "/quality"] {
        let response = web.get(path, "").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[LOCATION], "/sign-in", "{path}");
    }
    let response = web.get("/", "kpr_admin_session=forged").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "an unknown token");

    // The sign-in form without its own token.
    let response = web
        .post(
            "/sign-in",
            "",
            form(&[("user", USER), ("password", PASSWORD)]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // A session's cookie is HttpOnly and SameSite=Strict (not Secure over plain loopback).
    let signed = web.sign_in(USER, PASSWORD).await;
    let set_cookie: Vec<String> = signed
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session_cookie = set_cookie
        .iter()
        .find(|c| c.starts_with("kpr_admin_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(
        session_cookie.contains("SameSite=Strict"),
        "{session_cookie}"
    );
    let session = format!(
        "kpr_admin_session={}",
        cookie(&signed, "kpr_admin_session").unwrap()
    );

    // A form without its CSRF token, or with another's: 403, and nothing changed.
    let contacts = [
        ("contact_name", "Mallory"),
        ("contact_email", "m@example.invalid"),
        ("submitter_name", "Mallory"),
        ("submitter_email", "m@example.invalid"),
    ];
    let response = web
        .post("/settings/contacts", &session, form(&contacts))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut forged = contacts.to_vec();
    forged.push(("csrf", "0123456789abcdef"));
    let response = web
        .post("/settings/contacts", &session, form(&forged))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = web
        .post(
            "/resend/confirm",
            &session,
            form(&[("by", "since-number"), ("value", "1")]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        site.shipping
            .store
            .saved_contacts()
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(site.messages().await.len(), 1, "nothing was re-sent");

    // Wrong passwords in a row: the third makes the next attempt wait, even a right one.
    for _ in 0..3 {
        let response = web.sign_in(OTHER_USER, "not the password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = web.sign_in(OTHER_USER, OTHER_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = response.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=5).contains(&wait), "{wait}");
    assert!(cookie(&response, "kpr_admin_session").is_none());
    // Another user from the same address is not held up.
    assert_eq!(
        web.sign_in(USER, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    // Sign-out ends the session for good: its cookie, kept, opens nothing.
    tokio::time::sleep(std::time::Duration::from_secs(wait as u64)).await;
    let other = web.session(OTHER_USER, OTHER_PASSWORD).await;
    assert_eq!(web.get("/", &other).await.status(), StatusCode::OK);
    let page = web.get("/", &other).await.text().await.unwrap();
    let response = web
        .post("/sign-out", &other, form(&[("csrf", &csrf(&page))]))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = web.get("/", &other).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/sign-in");
    assert_eq!(
        web.get("/", &session).await.status(),
        StatusCode::OK,
        "the other user's session is theirs alone"
    );

    // An identity number typed as a user name is refused and never written down as it is.
    let typed = support::daily::ident_number(1);
    assert_eq!(
        web.sign_in(&typed, "whatever").await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Every page, scanned: markup from the EPJ as text, and no identity number anywhere.
    let rejected = site.messages().await[0].0.clone();
    let mut pages = Vec::new();
    for path in [
        "/".to_string(),
        format!("/messages/{rejected}"),
        "/resend".into(),
        "/runs".into(),
        "/quality".into(),
        "/settings".into(),
        "/audit".into(),
        "/sign-in".into(),
        "/quality/report?year=2026".into(),
    ] {
        let response = web.get(&path, &session).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        pages.push((path, response.text().await.unwrap()));
    }
    let message = &pages[1].1;
    assert!(
        message.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "the EPJ's service id, escaped: {message}"
    );
    assert!(!message.contains(MARKUP));
    for (path, html) in &pages {
        for n in 1..=2 {
            let ident = support::daily::ident_number(n);
            assert!(!html.contains(&ident), "{path} shows an identity number");
        }
        assert!(
            !html.contains("<script"),
            "{path} holds a script, which the page never needs"
        );
    }

    // A re-send while the notifications' latest message awaits its receipt: the preview
    // says so and offers "send anyway"; without it the page refuses, with it it sends.
    let token = csrf(&web.get("/resend", &session).await.text().await.unwrap());
    let choice = |force: bool| {
        let mut fields = vec![
            ("csrf", token.as_str()),
            ("by", "message"),
            ("value", rejected.as_str()),
        ];
        if force {
            fields.push(("force", "yes"));
        }
        form(&fields)
    };
    let first = web.post("/resend/confirm", &session, choice(false)).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert!(first.text().await.unwrap().contains("er på vei til KPR"));
    assert_eq!(site.messages().await.len(), 2, "queued, not yet answered");
    let preview = web.post("/resend/preview", &session, choice(false)).await;
    let preview = preview.text().await.unwrap();
    assert!(
        preview.contains("fortsatt venter på kvittering fra KPR")
            && preview.contains("name=\"force\""),
        "{preview}"
    );
    let refused = web.post("/resend/confirm", &session, choice(false)).await;
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("Send likevel") && refused.contains("name=\"force\""),
        "the preview again, with its box: {refused}"
    );
    assert_eq!(site.messages().await.len(), 2, "nothing more was sent");
    let forced = web.post("/resend/confirm", &session, choice(true)).await;
    let forced = forced.text().await.unwrap();
    assert!(
        forced.contains("sendt selv om en tidligere melding"),
        "{forced}"
    );
    assert_eq!(site.messages().await.len(), 3);
    site.stop();
}

/// The page speaks bokmål unless a user chooses English on it: the choice is kept in the
/// state store for that user only, survives signing out, and needs the session's token; the
/// way back after the choice stays on this site.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_user_reads_the_page_in_the_language_they_chose() {
    let site = Site::start().await;
    let web = Browserless {
        http: client(),
        base: site.base.clone(),
    };
    let sign_in_page = web.get("/sign-in", "").await.text().await.unwrap();
    assert!(sign_in_page.contains("<html lang=\"nb\">") && sign_in_page.contains("Logg inn"));
    let english = web
        .get("/sign-in?language=en", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(english.contains("<html lang=\"en\">") && english.contains("Sign in"));

    let session = web.session(USER, PASSWORD).await;
    let page = web.get("/", &session).await.text().await.unwrap();
    assert!(page.contains("<html lang=\"nb\">") && page.contains("Må følges opp"));
    let token = csrf(&page);

    // Without the session's token the choice is refused; an unknown language is a 400.
    let choose = |language: &str, back: &str, token: &str| {
        form(&[("csrf", token), ("language", language), ("back", back)])
    };
    let refused = web
        .post("/language", &session, choose("en", "/", "0000"))
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let unknown = web
        .post("/language", &session, choose("de", "/", &token))
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    // English, and back to the page it was chosen on; never to another site.
    let chosen = web
        .post("/language", &session, choose("en", "/runs", &token))
        .await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(chosen.headers()[LOCATION], "/runs");
    let elsewhere = web
        .post(
            "/language",
            &session,
            choose("en", "//evil.example/", &token),
        )
        .await;
    assert_eq!(elsewhere.headers()[LOCATION], "/");
    let page = web.get("/", &session).await.text().await.unwrap();
    assert!(
        page.contains("<html lang=\"en\">") && page.contains("Needs action"),
        "{page}"
    );

    // The other user still reads bokmål; the choice outlives the session.
    let other = web.session(OTHER_USER, OTHER_PASSWORD).await;
    let page = web.get("/", &other).await.text().await.unwrap();
    assert!(page.contains("<html lang=\"nb\">"));
    let again = web.session(USER, PASSWORD).await;
    let page = web.get("/settings", &again).await.text().await.unwrap();
    assert!(page.contains("<html lang=\"en\">") && page.contains("IPLOS contacts"));
    site.stop();
}

/// With `[admin] tls_certificate` and `tls_key` the page speaks TLS itself, and its cookies
/// are Secure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_serves_over_its_own_tls_with_secure_cookies() {
    use std::sync::Arc;

    use kpr_bridge::admin::{self, Admin};
    use support::amqp::cert;

    let m = support::spool::Municipality::new();
    m.config_line(&format!(
        "[admin]\nlisten = \"127.0.0.1:0\"\ntls_certificate = \"{}\"\ntls_key = \"{}\"\n\
         [[admin.user]]\nname = \"{USER}\"\npassword_hash = \"{}\"\n",
        cert("broker.crt").display(),
        cert("broker.key").display(),
        admin::auth::hash_password(PASSWORD).unwrap(),
    ));
    let config = kpr_bridge::config::Config::load(&m.path("kpr-bridge.toml")).unwrap();
    let shipping = Arc::new(
        kpr_bridge::shipping::Shipping::open(config.clone())
            .await
            .unwrap(),
    );
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let page = Arc::new(Admin::single(
        Arc::new(config),
        shipping,
        Arc::new(kpr_bridge::agent::clock::SystemClock),
        Default::default(),
    ));
    let (bound, _task) = admin::serve(page, shutdown).await.unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(cert("ca.crt")).unwrap()).unwrap();
    let https = reqwest::Client::builder()
        .add_root_certificate(ca)
        .build()
        .unwrap();
    let response = https
        .get(format!("https://localhost:{}/sign-in", bound.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_string();
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
    // Plain HTTP on the TLS port gets no page.
    let plain = client()
        .get(format!("http://localhost:{}/sign-in", bound.port()))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != StatusCode::OK);
    let _ = stop.send(true);
}

/// What the page does, a command does: `message`, `contacts` and `audit` over the same
/// store, and the contacts saved by the command are the page's and the next message's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commands_show_a_message_change_the_contacts_and_print_the_audit_log() {
    let site = Site::start().await;
    let config = site.m.path("kpr-bridge.toml");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .args(args)
            .arg("--config")
            .arg(&config)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let rejected = site.messages().await[0].0.clone();

    let (code, out, err) = run(&["message", &rejected]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("rejected") && out.contains("E35"), "{out}");
    assert!(
        out.contains(MARKUP) && out.contains(" p1"),
        "the EPJ's ids: {out}"
    );
    for n in 1..=2 {
        assert!(!out.contains(&support::daily::ident_number(n)), "{out}");
    }
    let (code, _, err) = run(&["message", "no-such-message"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no message has MsgId no-such-message"),
        "{err}"
    );

    let (code, out, _) = run(&["contacts"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("from the configuration") && out.contains("Ida IPLOS"),
        "{out}"
    );
    let (code, _, err) = run(&[
        "contacts",
        "--contact",
        "Per",
        "not-an-address",
        "",
        "--submitter",
        "Per",
        "p@x.no",
        "",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("not-an-address"), "{err}");
    let (code, out, err) = run(&[
        "contacts",
        "--contact",
        "Per Kontakt",
        "per@example.invalid",
        "55 00 00 00",
        "--submitter",
        "Siri Sender",
        "siri@example.invalid",
        "",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("Per Kontakt") && out.contains("saved by"),
        "{out}"
    );
    let saved = site.shipping.store.saved_contacts().await.unwrap().unwrap();
    assert_eq!(saved.contacts.len(), 2);
    assert_eq!(saved.contacts[1].name, "Siri Sender");

    let (code, out, _) = run(&["audit"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("contacts changed: type 16: Per Kontakt"),
        "{out}"
    );
    site.stop();
}
