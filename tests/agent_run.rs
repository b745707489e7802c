//! `kpr-bridge run` unattended over three simulated days: a new extract each day, the
//! agent's capture when it arrives, the run at 04:00 the next morning, the local test
//! receiver's receipt, and at the end a SIGTERM and a clean exit. The whole pipeline runs
//! at debug level, and no log line holds an identity number or a name.

mod support;

use std::time::Duration;

use chrono::NaiveDate;
use support::agent::{
    self, Agent, KprReceiver, Municipality, NAMES, daily_shipments, eventually, initial,
};

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).unwrap()
}

/// Service `n` (1 to 4), starting on `day`: meals or a support contact for person 1 or 2,
/// no two alike, so that none is a duplicate.
fn service(n: u32, day: u32) -> String {
    let person = 1 + (n - 1) / 2;
    let kind = ["MATOMBR", "STOTTEK"][(n as usize - 1) % 2];
    format!("s{n};p{person};{kind};innvilget;;2026-03-{day:02};;;;;")
}

#[test]
fn three_days_three_daily_shipments_delivered_then_a_clean_stop() {
    let municipality = Municipality::new("agent-days");
    let mut services = vec![service(1, 1)];
    municipality.extract(&services);
    let mut log = Vec::new();

    // The operator's first steps: check, then the initial daily run for 1 March.
    let (code, text) = municipality.command(&["check", "--year", "2026"]);
    assert!(code.is_some_and(|c| c <= 1), "{text}");
    log.extend(text.lines().map(String::from));

    support::block_on(|| async {
        let receiver = KprReceiver::start(&municipality).await;

        let initial = initial(&municipality).await;
        assert_eq!(initial.0, Some(0), "{}", initial.1);
        log.extend(initial.1.lines().map(String::from));

        municipality.set_clock(date(2), "09:00:00");
        let mut running = Agent::start(&municipality);
        let store = municipality.store().await;
        for day in 2..=4 {
            // The EPJ writes the day's extract: one new service.
            services.push(service(day, day));
            municipality.extract(&services);
            running.wait_for_log(
                &format!("captured; they go with the daily run for {}", date(day)),
                Duration::from_secs(30),
            );
            // The next morning, after 04:00, the date is run and its messages delivered.
            municipality.set_clock(date(day + 1), "04:00:30");
            eventually(
                &format!("the daily shipment of {} delivered", date(day)),
                Duration::from_secs(60),
                || async {
                    daily_shipments(&store).await.iter().any(|(d, state)| {
                        *d == date(day).to_string() && state.as_deref() == Some("delivered")
                    })
                },
            )
            .await;
        }
        let shipments = daily_shipments(&store).await;
        assert_eq!(
            shipments,
            (1..=4)
                .map(|d| (date(d).to_string(), Some("delivered".to_string())))
                .collect::<Vec<_>>(),
            "each date shipped once and delivered"
        );

        let (status, body) = running.get("/health");
        assert_eq!(status, 200, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(health["healthy"], true, "{body}");
        // The metrics are gathered at most every two seconds.
        let delivered = "kpr_bridge_messages{state=\"delivered\"} 4";
        eventually(
            "four daily messages delivered in /metrics",
            Duration::from_secs(10),
            || async { running.get("/metrics").1.contains(delivered) },
        )
        .await;
        let (status, metrics) = running.get("/metrics");
        assert_eq!(status, 200, "{metrics}");
        let (status, body) = running.get("/status");
        assert_eq!(status, 200, "{body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["daily"]["missed_count"], 0, "{body}");
        log.extend([metrics, body]);

        store.close().await;
        let (exit, took, lines) = tokio::task::spawn_blocking(move || running.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        assert!(took < Duration::from_secs(10), "stopped after {took:?}");
        assert!(lines.iter().any(|l| l.contains("SIGTERM received")));
        log.extend(lines);

        receiver.stop().await;
    });

    assert!(
        log.iter().any(|l| l.contains("DEBUG")),
        "the pipeline logged at debug level"
    );
    let leaks = agent::identities_in(&log, &NAMES);
    assert!(
        leaks.is_empty(),
        "identity in the log:\n{}",
        leaks.join("\n")
    );
}

#[test]
fn a_day_the_epj_was_down_runs_when_it_is_back() {
    let municipality = Municipality::new("agent-epj-down");
    municipality.configure("\n[log]\nformat = \"json\"\n");
    municipality.extract(&[service(1, 1)]);

    support::block_on(|| async {
        let receiver = KprReceiver::start(&municipality).await;
        let (code, text) = initial(&municipality).await;
        assert_eq!(code, Some(0), "{text}");
        municipality.set_clock(date(2), "09:00:00");
        let mut running = Agent::start(&municipality);
        let store = municipality.store().await;
        eventually("healthy at start", Duration::from_secs(30), || async {
            running.get("/health").0 == 200
        })
        .await;

        // The EPJ's export share is gone when the run of 2 March is due.
        let extract = municipality.path("extract");
        let away = municipality.path("extract.away");
        std::fs::rename(&extract, &away).unwrap();
        municipality.set_clock(date(3), "04:00:30");
        running.wait_for_log(
            "the daily run for 2026-03-02 cannot go yet",
            Duration::from_secs(30),
        );
        let (status, body) = running.get("/health");
        assert_eq!(status, 503, "{body}");
        let health: serde_json::Value = serde_json::from_str(&body).unwrap();
        let source = health["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "source epj")
            .unwrap();
        assert_eq!(source["ok"], false, "{body}");
        assert!(
            source["problem"].as_str().unwrap().contains("extract"),
            "{body}"
        );
        assert_eq!(daily_shipments(&store).await.len(), 1, "2 March waits");

        // It is back, with a change made meanwhile; the next try runs the day.
        std::fs::rename(&away, &extract).unwrap();
        municipality.extract(&[service(1, 1), service(2, 2)]);
        municipality.set_clock(date(3), "04:05:00");
        eventually("2 March delivered", Duration::from_secs(60), || async {
            daily_shipments(&store).await
                == [
                    (date(1).to_string(), Some("delivered".to_string())),
                    (date(2).to_string(), Some("delivered".to_string())),
                ]
        })
        .await;
        eventually("healthy again", Duration::from_secs(30), || async {
            running.get("/health").0 == 200
        })
        .await;
        store.close().await;
        let (exit, _, lines) = tokio::task::spawn_blocking(move || running.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        for line in &lines {
            let json: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("[log] format = \"json\": not JSON ({e}): {line}"));
            assert!(
                json["level"].is_string() && json["fields"].is_object(),
                "{line}"
            );
        }
        receiver.stop().await;
    });
}

#[test]
fn a_step_that_does_not_finish_is_rolled_back_at_sigterm_and_runs_again() {
    let municipality = Municipality::new("agent-hang");
    municipality.extract(&[service(1, 1)]);

    support::block_on(|| async {
        let receiver = KprReceiver::start(&municipality).await;
        let (code, text) = initial(&municipality).await;
        assert_eq!(code, Some(0), "{text}");
        municipality.extract(&[service(1, 1), service(2, 2)]);
        municipality.set_clock(date(3), "04:00:30");

        // The run of 2 March stops just before its ship commits, and never goes on.
        let failpoint = [("KPR_BRIDGE_FAILPOINT", "daily.ship.before-commit:hang")];
        let mut hanging = Agent::start_with(&municipality, &failpoint);
        hanging.wait_for_log(
            "failpoint daily.ship.before-commit: hanging",
            Duration::from_secs(30),
        );
        let (exit, took, lines) = tokio::task::spawn_blocking(move || hanging.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        assert!(took < Duration::from_secs(10), "stopped after {took:?}");
        assert!(
            lines.iter().any(|l| l.contains("rolled back")),
            "{}",
            lines.join("\n")
        );
        let store = municipality.store().await;
        assert_eq!(
            daily_shipments(&store).await.len(),
            1,
            "2 March was not shipped"
        );

        // Started again, the date runs once.
        let running = Agent::start(&municipality);
        eventually("2 March delivered", Duration::from_secs(60), || async {
            daily_shipments(&store).await
                == [
                    (date(1).to_string(), Some("delivered".to_string())),
                    (date(2).to_string(), Some("delivered".to_string())),
                ]
        })
        .await;
        let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(&store)
            .await
            .unwrap();
        assert_eq!(
            messages, 2,
            "the rolled-back message never entered the outbox"
        );
        store.close().await;
        let (exit, _, lines) = tokio::task::spawn_blocking(move || running.terminate())
            .await
            .unwrap();
        assert_eq!(exit.code(), Some(0), "{}", lines.join("\n"));
        receiver.stop().await;
    });
}
