//! `kpr-bridge run` through a broker outage: RabbitMQ itself is stopped (`rabbitmqctl
//! stop_app`) while the agent runs. `/health` turns unhealthy and names the broker, the day's
//! run still happens and its messages wait in the outbox, and once RabbitMQ is back they are
//! delivered and `/health` is healthy again. Alone in its test binary: nothing else runs
//! while the broker is down.

mod support;

use std::process::Command;
use std::time::Duration;

use chrono::NaiveDate;
use support::agent::{Agent, KprReceiver, Municipality, daily_shipments, eventually, initial};

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
}

/// Stops the local RabbitMQ application; starts it again when dropped, whatever happens.
struct Outage;

impl Outage {
    fn begin() -> Outage {
        rabbitmqctl("stop_app");
        Outage
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        rabbitmqctl("start_app");
    }
}

fn rabbitmqctl(action: &str) {
    let output = Command::new("rabbitmqctl")
        .arg(action)
        .output()
        .expect("rabbitmqctl (ops/services.sh installs RabbitMQ)");
    assert!(
        output.status.success(),
        "rabbitmqctl {action}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn health(agent: &Agent) -> (u16, serde_json::Value) {
    let (status, body) = agent.get("/health");
    (status, serde_json::from_str(&body).unwrap())
}

#[test]
fn a_broker_outage_is_reported_and_nothing_is_lost() {
    if std::env::var_os("KPR_TEST_AMQP").is_some() {
        eprintln!("skipped: KPR_TEST_AMQP names a broker this test cannot stop");
        return;
    }
    let municipality = Municipality::new("agent-outage");
    let first = "s1;p1;MATOMBR;innvilget;;2026-03-01;;;;;".to_string();
    municipality.extract(std::slice::from_ref(&first));

    support::block_on(|| async {
        let receiver = KprReceiver::start(&municipality).await;
        let (code, text) = initial(&municipality).await;
        assert_eq!(code, Some(0), "{text}");

        municipality.set_clock(date(2), "09:00:00");
        let agent = Agent::start(&municipality);
        let store = municipality.store().await;
        eventually("healthy at start", Duration::from_secs(30), || async {
            health(&agent).0 == 200
        })
        .await;

        let outage = Outage::begin();
        eventually(
            "unhealthy while the broker is down",
            Duration::from_secs(60),
            || async {
                let (status, report) = health(&agent);
                status == 503
                    && report["checks"].as_array().unwrap().iter().any(|check| {
                        check["name"].as_str().unwrap().starts_with("broker")
                            && check["ok"] == false
                    })
            },
        )
        .await;
        let (_, report) = health(&agent);
        let broker = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "broker (sending)")
            .unwrap()
            .clone();
        assert!(broker["problem"].as_str().is_some(), "{report}");

        // The day goes on without the broker: a change, and the run the next morning.
        let second = "s2;p1;STOTTEK;innvilget;;2026-03-02;;;;;".to_string();
        municipality.extract(&[first.clone(), second]);
        municipality.set_clock(date(3), "04:00:30");
        eventually(
            "the run of 2 March queued",
            Duration::from_secs(30),
            || async {
                daily_shipments(&store).await.iter().any(|(d, state)| {
                    *d == date(2).to_string() && state.as_deref() == Some("queued")
                })
            },
        )
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            daily_shipments(&store).await[1],
            (date(2).to_string(), Some("queued".to_string())),
            "it waits in the outbox"
        );
        drop(outage);

        eventually(
            "delivered after the outage",
            Duration::from_secs(120),
            || async {
                daily_shipments(&store)
                    .await
                    .iter()
                    .all(|(_, state)| state.as_deref() == Some("delivered"))
            },
        )
        .await;
        eventually("healthy again", Duration::from_secs(60), || async {
            health(&agent).0 == 200
        })
        .await;
        let shipments = daily_shipments(&store).await;
        assert_eq!(shipments.len(), 2, "{shipments:?}");
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&store)
            .await
            .unwrap();
        assert_eq!(messages, 2, "two messages, none under a new MsgId");
        store.close().await;

        let (exit, took, lines) = tokio::task::spawn_blocking(move || agent.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        assert!(took < Duration::from_secs(10), "stopped after {took:?}");
        receiver.stop().await;
    });
}
