//! `kpr-bridge run` as an operator starts it: the real binary on a configuration of its own,
//! its days driven through a clock file, its log collected line by line, its HTTP asked
//! with a plain TCP request, and a real SIGTERM at the end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone};
use chrono_tz::Europe::Oslo;
use kpr_bridge::config::delivery::Queues;

use super::amqp;
use super::daily::ident_number;

/// Names the extract gives its persons; none may appear in a log.
pub const NAMES: [&str; 2] = ["Ingrid Prøvesen", "Sigrid Nordbø"];

/// A municipality's directory: configuration, extract, state store, clock file.
pub struct Municipality {
    pub dir: tempfile::TempDir,
    pub queues: Queues,
}

impl Municipality {
    pub fn new(test: &str) -> Municipality {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("mapping.toml"), super::daily::MAPPING).unwrap();
        let queues = amqp::queues(test);
        let config = format!(
            r#"
mode = "test"
data_dir = "{root}/state"
mapping = "{root}/mapping.toml"
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
path = "{root}/extract"
product = "Test-EPJ"
version = "1.0"
[agent]
listen = "127.0.0.1:0"
capture_every_minutes = 15
[delivery]
transport = "amqp"
[amqp]
url = "{url}"
exchange = ""
kpr_queue = "{kpr}"
receipt_queue = "{receipts}"
error_queue = "{errors}"
{certificates}"#,
            root = root.display(),
            url = amqp::broker_url(),
            kpr = queues.kpr,
            receipts = queues.receipts,
            errors = queues.errors,
            certificates = amqp::municipality_certificates(),
        );
        std::fs::write(root.join("kpr-bridge.toml"), config).unwrap();
        Municipality { dir, queues }
    }

    /// Adds a section to the configuration.
    pub fn configure(&self, section: &str) {
        let mut config = std::fs::read_to_string(self.config()).unwrap();
        config.push_str(section);
        std::fs::write(self.config(), config).unwrap();
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config(&self) -> PathBuf {
        self.path("kpr-bridge.toml")
    }

    /// Writes a complete extract as the EPJ does: `READY` removed first and written last.
    /// `services` are CSV rows; the two persons have names and identity numbers.
    pub fn extract(&self, services: &[String]) {
        let dir = self.path("extract");
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join("READY"));
        let persons = format!(
            "person_id;ident;name;birth_year;gender;municipality;district;household\np1;{};{};1940;K;4601;;\np2;{};{};1940;K;4601;;\n",
            ident_number(1),
            NAMES[0],
            ident_number(2),
            NAMES[1],
        );
        std::fs::write(dir.join("persons.csv"), persons).unwrap();
        let mut rows = String::from(
            "service_id;person_id;local_type;decision;decided_on;start_date;end_date;hours_per_week;provider_orgnr;pause_from;pause_to\n",
        );
        for row in services {
            rows.push_str(row);
            rows.push('\n');
        }
        std::fs::write(dir.join("services.csv"), rows).unwrap();
        std::fs::write(dir.join("READY"), "").unwrap();
    }

    /// Sets the agent's clock to `time` (HH:MM:SS) on `date` in Europe/Oslo.
    pub fn set_clock(&self, date: NaiveDate, time: &str) {
        let local = date.and_time(time.parse().unwrap());
        let at = Oslo.from_local_datetime(&local).earliest().unwrap();
        let partial = self.path("clock.partial");
        std::fs::write(&partial, at.to_rfc3339()).unwrap();
        std::fs::rename(partial, self.path("clock")).unwrap();
    }

    /// Runs a one-off command (`daily`, `check`, …) at `RUST_LOG=debug`; returns its exit
    /// code and everything it printed.
    pub fn command(&self, args: &[&str]) -> (Option<i32>, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .args(args)
            .arg("--config")
            .arg(self.config())
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), text)
    }

    /// The SQLite state store the agent writes, opened beside it.
    pub async fn store(&self) -> sqlx::SqlitePool {
        let file = self.path("state").join(kpr_bridge::store::SQLITE_FILE);
        sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap()
    }
}

/// KPR's test receiver answering a municipality's queues, on the caller's runtime.
pub struct KprReceiver {
    pub stats: std::sync::Arc<kpr_bridge::receiver::Stats>,
    queues: Queues,
    stop: tokio::sync::watch::Sender<bool>,
    running: tokio::task::JoinHandle<()>,
}

impl KprReceiver {
    /// Declares the municipality's queues and starts answering on them.
    pub async fn start(municipality: &Municipality) -> KprReceiver {
        let dir = municipality.path("receiver");
        std::fs::create_dir_all(&dir).unwrap();
        amqp::declare(&municipality.queues).await;
        let receiver = super::delivery::receiver(&dir, &municipality.queues, "", "");
        let stats = receiver.stats.clone();
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let running = tokio::spawn(async move { receiver.run(shutdown).await });
        KprReceiver {
            stats,
            queues: municipality.queues.clone(),
            stop,
            running,
        }
    }

    /// Stops answering and deletes the queues.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.running.await;
        amqp::delete(&self.queues).await;
    }
}

/// `PRAGMA integrity_check` of the state store: `ok` when nothing is corrupt.
pub async fn integrity(pool: &sqlx::SqlitePool) -> String {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The daily shipments so far: reporting date and the state of its least advanced part
/// (`None` for a day without changes).
pub async fn daily_shipments(pool: &sqlx::SqlitePool) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT s.reporting_date, (SELECT o.state FROM daily_messages m
             JOIN outbox o ON o.msg_id = m.msg_id
             WHERE m.reporting_date = s.reporting_date AND m.resend = 0
             ORDER BY o.state = 'delivered', m.part LIMIT 1)
         FROM daily_shipments s ORDER BY s.reporting_date",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// The running binary.
pub struct Agent {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    pub http: SocketAddr,
}

impl Agent {
    /// Starts `kpr-bridge run` at `RUST_LOG=debug` with its clock in the municipality's
    /// clock file, and waits for its HTTP address in the log.
    pub fn start(municipality: &Municipality) -> Agent {
        Agent::start_with(municipality, &[])
    }

    /// [`Agent::start`] with more environment variables (a failpoint).
    pub fn start_with(municipality: &Municipality, environment: &[(&str, &str)]) -> Agent {
        let config = municipality.config();
        let arguments = ["run".as_ref(), "--config".as_ref(), config.as_os_str()];
        Agent::spawn(&arguments, &municipality.path("clock"), environment)
    }

    /// `kpr-bridge` with `arguments` at `RUST_LOG=debug`, its clock in `clock`; waits for its
    /// HTTP address in the log.
    pub fn spawn(
        arguments: &[&std::ffi::OsStr],
        clock: &Path,
        environment: &[(&str, &str)],
    ) -> Agent {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .args(arguments)
            .env("RUST_LOG", "debug")
            .env(kpr_bridge::agent::clock::CLOCK_FILE_ENV, clock)
            .envs(environment.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn({
            let lines = lines.clone();
            move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    lines.lock().unwrap().push(line);
                }
            }
        });
        let mut agent = Agent {
            child,
            lines,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = agent.wait_for_log("HTTP on http://", Duration::from_secs(60));
        let address = line
            .split("HTTP on http://")
            .nth(1)
            .and_then(|rest| {
                rest.split(':')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(":")
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("no address in: {line}"));
        agent.http = address;
        agent
    }

    pub fn log(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits for a log line containing `text`, and returns it.
    pub fn wait_for_log(&mut self, text: &str, within: Duration) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.log().into_iter().find(|l| l.contains(text)) {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the agent ended ({status}):\n{}", self.log().join("\n"));
            }
            assert!(
                started.elapsed() < within,
                "no log line with '{text}' within {within:?}:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// GET `path`: the status code and the body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(self.http).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.http
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {response}"));
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// Sends a signal by name (`STOP`, `CONT`) to the process.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} {pid}");
    }

    /// SIGKILL, as a power cut would; waits until the process is gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits for the exit: its status, how long it took, the whole log.
    pub fn terminate(mut self) -> (ExitStatus, Duration, Vec<String>) {
        let started = Instant::now();
        let pid = self.child.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(killed.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader thread take the last lines.
                std::thread::sleep(Duration::from_millis(100));
                return (status, started.elapsed(), self.log());
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("no exit 30 s after SIGTERM:\n{}", self.log().join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every line with an identity number (any 11-digit run that is a valid fødselsnummer or
/// D-number, so that the hex of a MsgId does not count) or a part of a name from `names`.
pub fn identities_in(lines: &[String], names: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter(|line| {
            let bytes = line.as_bytes();
            let ident = (0..bytes.len().saturating_sub(10)).any(|i| {
                let run = &bytes[i..i + 11];
                let bounded = (i == 0 || !bytes[i - 1].is_ascii_digit())
                    && bytes.get(i + 11).is_none_or(|b| !b.is_ascii_digit());
                bounded
                    && run.iter().all(u8::is_ascii_digit)
                    && kpr_bridge::model::ident::validate(std::str::from_utf8(run).unwrap()).is_ok()
            });
            let name = names.iter().any(|name| {
                name.split_whitespace()
                    .any(|part| part.len() > 3 && line.contains(part))
            });
            ident || name
        })
        .cloned()
        .collect()
}

/// The operator's first daily run, for 1 March, beside the receiver on this runtime.
pub async fn initial(municipality: &Municipality) -> (Option<i32>, String) {
    let config = municipality.config();
    tokio::task::spawn_blocking(move || {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_kpr-bridge"))
            .args(["daily", "--initial", "--date", "2026-03-01", "--config"])
            .arg(config)
            .env("RUST_LOG", "debug")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code(), text)
    })
    .await
    .unwrap()
}

/// Waits up to `within` for `check` to be true, polling.
pub async fn eventually<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}
