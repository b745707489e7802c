//! The administration page in a real browser: headless Debian Chromium driven through
//! ChromeDriver (WebDriver, the fantoccini client). The IPLOS submitter signs in, finds the
//! message KPR rejected, sends its notifications again from the page, sees the new message
//! delivered and both in the audit log, changes a contact that the next daily message then
//! carries, and signs out. A screenshot of each page goes to target/tmp/admin-screenshots/.

mod support;

use std::path::PathBuf;

use fantoccini::Client;
use support::admin::{MARKUP, NEW_CONTACT, PASSWORD, S1_ENDED, S2, Site, USER, markup_row};
use support::browser::{Driver, arrive, browser, click, fill, text, wait_for};

struct Shots {
    dir: PathBuf,
}

impl Shots {
    /// A screenshot of the page, which is also scanned: no identity number in it.
    async fn take(&self, client: &Client, name: &str) {
        let html = client.source().await.unwrap();
        for n in 1..=2 {
            let ident = support::daily::ident_number(n);
            assert!(!html.contains(&ident), "{name} shows an identity number");
        }
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG");
        std::fs::write(self.dir.join(format!("{name}.png")), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submitter_resends_a_rejected_message_and_changes_a_contact_in_chromium() {
    let site = Site::start().await;
    let messages = site.messages().await;
    assert_eq!(messages.len(), 1);
    let (rejected, state, _) = messages[0].clone();
    assert_eq!(state, "rejected", "the receiver's rule rejects 2026-03-01");

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let shots = Shots {
        dir: PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("admin-screenshots"),
    };
    std::fs::create_dir_all(&shots.dir).unwrap();
    let base = site.base.clone();

    // Sign in: the overview sends a stranger to the sign-in page first.
    client.goto(&format!("{base}/")).await.unwrap();
    arrive(&client, "/sign-in").await;
    shots.take(&client, "1-sign-in").await;
    fill(&client, "input[name=user]", USER).await;
    fill(&client, "input[name=password]", PASSWORD).await;
    click(&client, "form.sign-in button").await;
    arrive(&client, "/").await;

    // The overview lists the day's message, rejected, and says what needs action.
    let listed = text(&client, "#messages").await;
    assert!(listed.contains(&rejected), "{listed}");
    assert!(listed.contains("rejected"), "{listed}");
    assert!(
        listed.contains("E35: The register does not know a person"),
        "KPR's code in words: {listed}"
    );
    assert!(text(&client, ".actions").await.contains("KPR rejected"));
    shots.take(&client, "2-overview").await;

    // The rejected message: its notifications, the EPJ's markup shown as text.
    click(
        &client,
        &format!("#messages a[href='/messages/{rejected}']"),
    )
    .await;
    arrive(&client, &format!("/messages/{rejected}")).await;
    let notifications = text(&client, "#notifications").await;
    assert!(notifications.contains(MARKUP), "{notifications}");
    assert!(notifications.contains("p1") && notifications.contains("p2"));
    assert!(text(&client, "table.codes").await.contains("E35"));
    shots.take(&client, "3-message-rejected").await;

    // Re-send it from the page: a preview first, then the confirmation.
    click(&client, "#resend-message").await;
    arrive(&client, "/resend/preview").await;
    assert!(text(&client, "main").await.contains("3 notification(s)"));
    shots.take(&client, "4-resend-preview").await;
    click(&client, "#confirm-resend").await;
    arrive(&client, "/resend/confirm").await;
    shots.take(&client, "5-resend-done").await;
    let after = site.messages().await;
    assert_eq!(after.len(), 2, "one new message");
    let resent = after[1].0.clone();
    assert!(text(&client, "main").await.contains(&resent));

    // KPR takes the new message.
    site.deliver().await;
    assert_eq!(
        site.messages().await[1],
        (resent.clone(), "delivered".to_string(), Some(1))
    );
    client
        .goto(&format!("{base}/messages/{resent}"))
        .await
        .unwrap();
    assert!(text(&client, "dl.facts").await.contains("delivered"));
    shots.take(&client, "6-message-delivered").await;

    // A contact changed on the settings page.
    click(&client, "nav a[href='/settings']").await;
    fill(&client, "input[name=contact_name]", NEW_CONTACT).await;
    fill(&client, "input[name=contact_email]", "kari@example.invalid").await;
    click(&client, "#contacts-form button").await;
    wait_for(&client, "main", "Saved").await;
    shots.take(&client, "7-settings").await;

    // Both the re-send and the change are in the audit log, with the sign-in.
    click(&client, "nav a[href='/audit']").await;
    let audit = text(&client, "#audit").await;
    for action in ["signed in", "re-sent", "contacts changed"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
    assert!(
        audit.contains(&rejected) && audit.contains(&resent),
        "the re-send names both messages: {audit}"
    );
    shots.take(&client, "8-audit").await;

    // The next daily message carries the new contact: KPR's test receiver answers 3 to a
    // message that names it.
    site.m.extract(&[S1_ENDED, S2, &markup_row()]);
    let out = site.m.daily(&["--date", "2026-03-02"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    site.deliver().await;
    let after = site.messages().await;
    assert_eq!(after.len(), 3);
    assert_eq!(
        (after[2].1.as_str(), after[2].2),
        ("delivered", Some(3)),
        "the daily message of 2026-03-02 names {NEW_CONTACT}"
    );

    // The other pages, for the record.
    for (name, page) in [
        ("9-runs", "/runs"),
        ("10-quality", "/quality"),
        ("11-resend-form", "/resend"),
    ] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        arrive(&client, page).await;
        shots.take(&client, name).await;
    }

    // Sign out: the overview is closed again.
    click(&client, "form.sign-out button").await;
    arrive(&client, "/sign-in").await;
    client.goto(&format!("{base}/")).await.unwrap();
    arrive(&client, "/sign-in").await;
    client.close().await.unwrap();
    site.stop();
}
