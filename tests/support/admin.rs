//! A municipality with its administration page running in-process: the spool municipality
//! of [`super::spool`] with two users, the local KPR test receiver on its spool (rejecting
//! the first daily message by a rule), and the page on a loopback port of its own.

use std::sync::Arc;

use kpr_bridge::admin::{self, Admin};
use kpr_bridge::agent::clock::SystemClock;
use kpr_bridge::config::Config;
use kpr_bridge::receiver::Receiver;
use kpr_bridge::shipping::Shipping;
use reqwest::header::SET_COOKIE;
use tokio::sync::{Notify, watch};

use super::spool::Municipality;

pub const S1: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;;;;;";
pub const S1_ENDED: &str = "s1;p1;MATOMBR;innvilget;;2026-01-10;2026-03-31;;;;";
pub const S2: &str = "s2;p2;PRAKT;innvilget;;2026-02-01;;2;974760673;;";
/// A service whose id in the EPJ holds markup: the page must show it as text.
pub const MARKUP: &str = "<script>alert(1)</script>";

pub const USER: &str = "iplos";
pub const PASSWORD: &str = "riktig hest batteri stift";
pub const OTHER_USER: &str = "drift";
pub const OTHER_PASSWORD: &str = "en helt annen frase";
/// The contact name the page saves; the receiver answers "3" to a message that holds it.
pub const NEW_CONTACT: &str = "Kari Ny Kontaktperson";

/// The service whose EPJ id is [`MARKUP`].
pub fn markup_row() -> String {
    format!("{MARKUP};p1;PRAKT;innvilget;;2026-02-15;;3;974760673;;")
}

pub struct Site {
    pub m: Municipality,
    pub receiver: Receiver,
    pub shipping: Arc<Shipping>,
    pub base: String,
    stop: watch::Sender<bool>,
}

impl Site {
    /// The first daily run (2026-03-01, three services) is sent and rejected by KPR's rule.
    pub async fn start() -> Site {
        let m = Municipality::new();
        let root = m.dir.path().display().to_string();
        let file = m.path("kpr-bridge.toml");
        let text = std::fs::read_to_string(&file).unwrap().replace(
            &format!("spool_dir = \"{root}/spool\""),
            &format!("spool_dir = \"{root}/spool\"\nspool_receipts_dir = \"{root}/receipts\""),
        );
        std::fs::write(&file, text).unwrap();
        m.config_line(&format!(
            "[admin]\nlisten = \"127.0.0.1:0\"\n\
             [[admin.user]]\nname = \"{USER}\"\npassword_hash = \"{}\"\n\
             [[admin.user]]\nname = \"{OTHER_USER}\"\npassword_hash = \"{}\"\n",
            admin::auth::hash_password(PASSWORD).unwrap(),
            admin::auth::hash_password(OTHER_PASSWORD).unwrap(),
        ));
        m.extract(&[S1, S2, &markup_row()]);
        let out = m.daily(&["--date", "2026-03-01", "--initial"], None);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );

        let receiver = receiver(&m);
        let config = Config::load(&file).unwrap();
        let shipping = Arc::new(Shipping::open(config.clone()).await.unwrap());
        let (stop, shutdown) = watch::channel(false);
        let page = Arc::new(Admin::single(
            Arc::new(config),
            shipping.clone(),
            Arc::new(SystemClock),
            Arc::new(Notify::new()),
        ));
        let (bound, _task) = admin::serve(page, shutdown).await.unwrap();
        let site = Site {
            m,
            receiver,
            shipping,
            base: format!("http://{bound}"),
            stop,
        };
        site.deliver().await;
        site
    }

    /// What the outbox holds goes to the spool, KPR answers, and the answers are taken.
    pub async fn deliver(&self) {
        self.shipping.flush().await.unwrap();
        self.receiver
            .answer_spool(&self.m.path("spool"), &self.m.path("receipts"))
            .await
            .unwrap();
        self.shipping.collect().await.unwrap();
    }

    /// (MsgId, state, deciding receipt status) of every message, oldest first.
    pub async fn messages(&self) -> Vec<(String, String, Option<i64>)> {
        let filter = kpr_bridge::store::admin::MessageFilter {
            limit: 100,
            ..Default::default()
        };
        let mut listed: Vec<_> = self
            .shipping
            .store
            .listed_messages(&filter)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.row.msg_id, m.row.state.to_string(), m.receipt_status))
            .collect();
        listed.reverse();
        listed
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// The local KPR test receiver on the municipality's spool: it rejects the daily message of
/// 2026-03-01 (by its lokalident) and marks any message naming [`NEW_CONTACT`] with a 3.
fn receiver(m: &Municipality) -> Receiver {
    let rules = format!(
        r#"
[[rule]]
contains = "2026-03-01 part"
status = 2
code = "E35"
text = "Avvist av testmottakeren"
[[rule]]
contains = "{NEW_CONTACT}"
status = 3
code = "X99"
text = "the new contact was seen"
"#
    );
    super::delivery::spool_receiver_with_rules(m.dir.path(), &rules)
}

/// An HTTP client that shows redirects instead of following them.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `name=value` pairs, form-encoded.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(name, value)| {
            let encoded: String = value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    b' ' => "+".into(),
                    other => format!("%{other:02X}"),
                })
                .collect();
            format!("{name}={encoded}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of `name=` in a response's Set-Cookie headers.
pub fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
}

/// The CSRF token of the first form in a page.
pub fn csrf(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_string()
}
