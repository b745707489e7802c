//! The administration page in a real browser: headless Debian Chromium driven through
//! ChromeDriver (WebDriver, the fantoccini client). The IPLOS submitter signs in, finds the
//! message KPR rejected, sends its notifications again from the page, sees the new message
//! delivered and both in the audit log, changes a contact that the next daily message then
//! carries, and signs out — once in bokmål, the page's own language, and once in English,
//! chosen on the page. Every page is scanned: no identity number, and in bokmål none of the
//! page's former English words (records shown as written are left out); dates, times and
//! numbers read as the language writes them.
//! A screenshot of each page in each language goes to target/tmp/admin-screenshots/.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::{Client, Locator};
use kpr_bridge::i18n::Language;
use kpr_bridge::status::codes;
use kpr_bridge::t;
use regex::Regex;
use support::admin::{MARKUP, NEW_CONTACT, PASSWORD, S1_ENDED, S2, Site, USER, markup_row};
use support::browser::{Driver, arrive, browser, click, fill, text, wait_for};

/// What the page said in English before it spoke bokmål: none of it may show on a page in
/// bokmål (words shared by both languages, such as "Status" or "Transport", are left out).
const FORMER_ENGLISH: &[&str] = &[
    "Overview",
    "Re-send",
    "Daily runs",
    "Data quality",
    "Settings",
    "Audit log",
    "Sign in",
    "Sign out",
    "User name",
    "Password",
    "Needs action",
    "Nothing needs action",
    "Messages",
    "Created",
    "Kind",
    "Notifications",
    "State",
    "Since",
    "KPR's receipt",
    "Clear",
    "What to do",
    "Meaning",
    "Receipt",
    "Event date",
    "Reported",
    "Service id",
    "Person no.",
    "Corrects",
    "What happened to it",
    "Which notifications",
    "Show what would be sent",
    "Send anyway",
    "Choose again",
    "Reporting date",
    "Held back by the checks",
    "Last read",
    "Shipped",
    "The full check report",
    "Make the report",
    "Reporting year",
    "The municipality",
    "Organisation number",
    "Certificates",
    "Days left",
    "IPLOS contacts",
    "Phone",
    "E-mail",
    "Save the contacts",
    "Detail",
    "signed in",
    "contacts changed",
    "re-sent",
    "delivered",
    "rejected",
    "queued",
    "notification(s)",
    "none yet",
    "Times are in Norwegian time",
    "production",
];

struct Shots {
    dir: PathBuf,
    lang: Language,
    /// A moment as the language writes it: `07.12.2026 10:10` or `2026-12-07 10:10`.
    moment: Regex,
}

impl Shots {
    fn new(lang: Language) -> Shots {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("admin-screenshots")
            .join(lang.code());
        std::fs::create_dir_all(&dir).unwrap();
        let moment = match lang {
            Language::Nb => r"\b\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}\b",
            Language::En => r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b",
        };
        Shots {
            dir,
            lang,
            moment: Regex::new(moment).unwrap(),
        }
    }

    /// A screenshot of the page, which is also scanned: no identity number in it, the page
    /// in its language, and in bokmål no former English word.
    async fn take(&self, client: &Client, name: &str) {
        let html = client.source().await.unwrap();
        for n in 1..=2 {
            let ident = support::daily::ident_number(n);
            assert!(!html.contains(&ident), "{name} shows an identity number");
        }
        let lang = format!("lang=\"{}\"", self.lang.code());
        assert!(html.contains(&lang), "{name} is not marked {lang}");
        if self.lang == Language::Nb {
            // Records are shown as they were written: KPR's own text, the broker's words,
            // the audit log's details (`.verbatim`).
            let mut seen = text(client, "body").await;
            for element in client.find_all(Locator::Css(".verbatim")).await.unwrap() {
                let verbatim = element.text().await.unwrap();
                if !verbatim.is_empty() {
                    seen = seen.replace(&verbatim, "");
                }
            }
            for english in FORMER_ENGLISH {
                let word =
                    Regex::new(&format!(r"(^|[^\w]){}($|[^\w])", regex::escape(english))).unwrap();
                assert!(
                    !word.is_match(&seen),
                    "{name} in bokmål still says \"{english}\":\n{seen}"
                );
            }
        }
        let png = client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG");
        std::fs::write(self.dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The page shows a moment the way its language writes it.
    async fn shows_a_moment(&self, client: &Client, css: &str) {
        let seen = text(client, css).await;
        assert!(
            self.moment.is_match(&seen),
            "no {} moment in {css}: {seen}",
            self.lang
        );
    }
}

/// Waits until an element matching `css` is on the page (a form that leads back to the same
/// address has no new path to wait for).
async fn wait_css(client: &Client, css: &str) {
    for _ in 0..100 {
        if client.find(Locator::Css(css)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} never showed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submitter_walks_the_page_in_bokmal() {
    walk(Language::Nb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submitter_walks_the_page_in_english_chosen_on_the_page() {
    walk(Language::En).await;
}

/// The whole walk in `lang`: the page starts in bokmål, English is chosen on it.
async fn walk(lang: Language) {
    let site = Site::start().await;
    let messages = site.messages().await;
    assert_eq!(messages.len(), 1);
    let (rejected, state, _) = messages[0].clone();
    assert_eq!(state, "rejected", "the receiver's rule rejects 2026-03-01");

    let driver = Driver::start();
    let profile = tempfile::tempdir().unwrap();
    let client = browser(&driver, profile.path()).await;
    let shots = Shots::new(lang);
    let base = site.base.clone();

    // Sign in: the overview sends a stranger to the sign-in page first, in bokmål.
    client.goto(&format!("{base}/")).await.unwrap();
    arrive(&client, "/sign-in").await;
    wait_css(&client, "html[lang='nb']").await;
    fill(&client, "input[name=user]", USER).await;
    fill(&client, "input[name=password]", PASSWORD).await;
    if lang == Language::Nb {
        shots.take(&client, "1-sign-in").await;
    }
    click(&client, "form.sign-in button").await;
    arrive(&client, "/").await;
    wait_css(&client, "html[lang='nb']").await;
    if lang == Language::En {
        click(&client, "#language-en").await;
        wait_css(&client, "html[lang='en']").await;
        assert_eq!(text(&client, "h1").await, "Overview");
    }

    // The overview lists the day's message, rejected, and says what needs action.
    let listed = text(&client, "#messages").await;
    assert!(listed.contains(&rejected), "{listed}");
    assert!(listed.contains(&codes::state("rejected", lang)), "{listed}");
    let e35 = codes::explain("E35", lang).unwrap().meaning;
    assert!(
        listed.contains(&format!("E35: {e35}")),
        "KPR's code in words: {listed}"
    );
    assert!(text(&client, ".actions").await.contains(&rejected));
    shots.shows_a_moment(&client, "#messages").await;
    shots.take(&client, "2-overview").await;

    // The date filter reads and shows the language's order; a day without messages has none.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Oslo)
        .date_naive();
    fill(&client, "#filter-from", &lang.date(today)).await;
    fill(&client, "#filter-to", &today.format("%Y-%m-%d").to_string()).await;
    click(&client, "form.filters button").await;
    wait_css(&client, "#filter-to[value*='.'], #filter-to[value^='2']").await;
    let typed = client
        .find(Locator::Css("#filter-to"))
        .await
        .unwrap()
        .attr("value")
        .await
        .unwrap();
    assert_eq!(
        typed.as_deref(),
        Some(lang.date(today).as_str()),
        "as the reader writes it"
    );
    assert!(text(&client, "#messages").await.contains(&rejected));
    let tomorrow = today.succ_opt().unwrap();
    fill(&client, "#filter-from", &lang.date(tomorrow)).await;
    fill(&client, "#filter-to", &lang.date(tomorrow)).await;
    click(&client, "form.filters button").await;
    wait_for(&client, "main", &lang.text("overview-none-filtered")).await;
    shots.take(&client, "2b-overview-filtered").await;
    client.goto(&format!("{base}/")).await.unwrap();
    arrive(&client, "/").await;

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
    shots.shows_a_moment(&client, "dl.facts").await;
    shots.take(&client, "3-message-rejected").await;

    // Re-send it from the page: a preview first, then the confirmation.
    click(&client, "#resend-message").await;
    arrive(&client, "/resend/preview").await;
    let summary = t!(lang, "resend-preview-summary", count = 3, numbers = "1–3");
    assert!(text(&client, "main").await.contains(&summary), "{summary}");
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
    assert!(
        text(&client, "dl.facts")
            .await
            .contains(&codes::state("delivered", lang))
    );
    shots.take(&client, "6-message-delivered").await;

    // A contact changed on the settings page.
    click(&client, "nav a[href='/settings']").await;
    fill(&client, "input[name=contact_name]", NEW_CONTACT).await;
    fill(&client, "input[name=contact_email]", "kari@example.invalid").await;
    click(&client, "#contacts-form button").await;
    wait_for(&client, "main", &lang.text("settings-saved")).await;
    shots.take(&client, "7-settings").await;

    // Both the re-send and the change are in the audit log, with the sign-in.
    click(&client, "nav a[href='/audit']").await;
    let audit = text(&client, "#audit").await;
    for action in ["audit-signed-in", "audit-resent", "audit-contacts-changed"] {
        let words = lang.text(action);
        assert!(audit.contains(&words), "{words}: {audit}");
    }
    assert!(
        audit.contains(&rejected) && audit.contains(&resent),
        "the re-send names both messages: {audit}"
    );
    shots.shows_a_moment(&client, "#audit").await;
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

    // A day with 1,200 new services: its count on the daily runs reads as the language
    // writes numbers (`1 200`, `1,200`).
    new_services(&site, 1_200);
    let out = site.m.daily(&["--date", "2026-03-03"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    site.deliver().await;
    client.goto(&format!("{base}/runs")).await.unwrap();
    arrive(&client, "/runs").await;
    let runs = text(&client, "#runs").await;
    assert!(runs.contains(&lang.number(1_200)), "{runs}");
    assert!(runs.contains(&lang.date(chrono::NaiveDate::from_ymd_opt(2026, 3, 3).unwrap())));
    shots.take(&client, "9-runs").await;

    // The other pages, for the record.
    for (name, page) in [("10-quality", "/quality"), ("11-resend-form", "/resend")] {
        client.goto(&format!("{base}{page}")).await.unwrap();
        arrive(&client, page).await;
        shots.take(&client, name).await;
    }
    client
        .goto(&format!("{base}/quality/report?year=2026"))
        .await
        .unwrap();
    wait_css(&client, &format!("html[lang='{}']", lang.code())).await;
    shots.take(&client, "12-check-report").await;

    // Sign out: the overview is closed again. The choice of language stays with the user.
    client.goto(&format!("{base}/")).await.unwrap();
    arrive(&client, "/").await;
    click(&client, "form.sign-out button").await;
    arrive(&client, "/sign-in").await;
    client.goto(&format!("{base}/")).await.unwrap();
    arrive(&client, "/sign-in").await;
    fill(&client, "input[name=user]", USER).await;
    fill(&client, "input[name=password]", PASSWORD).await;
    click(&client, "form.sign-in button").await;
    arrive(&client, "/").await;
    wait_css(&client, &format!("html[lang='{}']", lang.code())).await;
    client.close().await.unwrap();
    site.stop();
}

/// `count` more persons, each with a new service starting on 2026-03-03, besides the three.
fn new_services(site: &Site, count: usize) {
    let dir = site.m.path("extract");
    let mut persons = std::fs::read_to_string(dir.join("persons.csv")).unwrap();
    let mut services = std::fs::read_to_string(dir.join("services.csv")).unwrap();
    for n in 0..count {
        let person = format!("q{n}");
        let ident = support::daily::ident_number(100 + n as u32);
        persons.push_str(&format!("{person};{ident};;1950;K;4601;;\n"));
        services.push_str(&format!(
            "b{n};{person};PRAKT;innvilget;;2026-03-03;;2;974760673;;\n"
        ));
    }
    std::fs::write(dir.join("persons.csv"), persons).unwrap();
    std::fs::write(dir.join("services.csv"), services).unwrap();
    std::fs::write(dir.join("READY"), "").unwrap();
}
