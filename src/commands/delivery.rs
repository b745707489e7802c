//! `kpr-bridge send`, `receipts` and `receiver`.

use std::path::Path;

use chrono::Utc;
use chrono_tz::Europe::Oslo;

use crate::config::receiver::ReceiverConfig;
use crate::config::{Config, Mode};
use crate::inbox::Taken;
use crate::model::register::Target;
use crate::receiver::Receiver;
use crate::shipping::Shipping;
use crate::store::outbox::State;

/// `kpr-bridge send FILE --type T [--target]`.
pub async fn send(config: &Path, file: &Path, msg_type: &str, target: Option<Target>) -> u8 {
    let config = match Config::load(config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2),
    };
    let target = target.unwrap_or(match config.mode {
        Mode::Test => Target::Validation,
        Mode::Production => Target::Production,
    });
    if config.mode == Mode::Test && target == Target::Production {
        eprintln!(
            "error: {}: mode is \"test\", which allows synthetic identity numbers; send to --target validation, or switch the configuration to mode = \"production\"",
            config.file.display()
        );
        return 2;
    }
    if let Some(why) = config.unreachable(target) {
        eprintln!("error: {why}");
        return 2;
    }
    let shipping = match open(config).await {
        Ok(shipping) => shipping,
        Err(code) => return code,
    };
    let msg_id = match shipping.enqueue_file(file, msg_type, target).await {
        Ok(msg_id) => msg_id,
        Err(e) => return fail(&e, e.exit_code()),
    };
    println!(
        "{msg_id}: {msg_type} from {} queued for KPR ({target})",
        file.display()
    );
    match shipping.flush().await {
        Ok(_) => {
            let state = shipping.store.state(&msg_id).await.ok().flatten();
            if state == Some(State::Sent) {
                println!(
                    "{msg_id}: sent; `kpr-bridge receipts --config {}` shows KPR's answer when it comes",
                    shipping.config.file.display()
                );
                0
            } else {
                eprintln!("{msg_id}: still queued; see `kpr-bridge receipts` for why");
                1
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("{msg_id}: stays queued and is sent again on the next run");
            1
        }
    }
}

/// `kpr-bridge receipts [--offline]`.
pub async fn receipts(config: &Path, offline: bool) -> u8 {
    let config = match Config::load(config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2),
    };
    let shipping = match open(config).await {
        Ok(shipping) => shipping,
        Err(code) => return code,
    };
    let mut code = 0;
    if !offline {
        match shipping.collect().await {
            Ok(collected) => {
                let count = |wanted: fn(&Taken) -> bool| {
                    collected.taken.iter().filter(|t| wanted(t)).count()
                };
                let anomalies = count(|t| matches!(t, Taken::Anomaly { .. }));
                println!(
                    "Took {} receipt(s), {} error report(s), {anomalies} anomal(y/ies); {} receipt(s) taken before were ignored; {} expired now.\n",
                    count(|t| matches!(t, Taken::Receipt { .. })),
                    count(|t| matches!(t, Taken::ErrorReport { .. })),
                    count(|t| matches!(t, Taken::Repeated { .. })),
                    collected.expired.len()
                );
                if anomalies > 0 {
                    code = 1;
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = 1;
            }
        }
    }
    let entries = match shipping.store.entries().await {
        Ok(entries) => entries,
        Err(e) => return fail(&e, 1),
    };
    println!(
        "{:<36}  {:<8}  {:<10}  {:<9}  {:<16}  {:>8}  {:>3}  note",
        "MsgId", "type", "target", "state", "since", "bytes", "pub"
    );
    for entry in &entries {
        let mut note = entry.last_problem.clone().unwrap_or_default();
        if matches!(entry.state, State::Rejected | State::Delivered)
            && let Ok(receipts) = shipping.store.receipts(&entry.msg_id).await
            && let Some(first) = receipts.first()
        {
            note = first
                .errors
                .iter()
                .map(|e| format!("{} {}", e.code, e.text))
                .collect::<Vec<_>>()
                .join("; ");
        }
        println!(
            "{:<36}  {:<8}  {:<10}  {:<9}  {:<16}  {:>8}  {:>3}  {note}",
            entry.msg_id,
            entry.msg_type,
            entry.target,
            entry.state,
            entry.state_at.with_timezone(&Oslo).format("%Y-%m-%d %H:%M"),
            entry.size,
            entry.publish_count,
        );
        if matches!(entry.state, State::Rejected | State::Error | State::Expired) {
            code = 1;
        }
    }
    match shipping.store.anomalies().await {
        Ok(anomalies) if !anomalies.is_empty() => {
            println!(
                "\n{} anomal(y/ies) kept in the state store:",
                anomalies.len()
            );
            for a in anomalies.iter().rev().take(20) {
                println!(
                    "  #{} {} {} on {} ({} bytes): {}",
                    a.id,
                    a.at.with_timezone(&Oslo).format("%Y-%m-%d %H:%M"),
                    a.kind,
                    a.queue,
                    a.size,
                    a.detail
                );
            }
        }
        Ok(_) => {}
        Err(e) => return fail(&e, 1),
    }
    code
}

/// `kpr-bridge receiver`: runs until Ctrl-C or SIGTERM, on a broker or a spool.
pub async fn receiver(config: &Path) -> u8 {
    let config = match ReceiverConfig::load(config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2),
    };
    let (receiver, warnings) = match Receiver::open(config) {
        Ok(opened) => opened,
        Err(e) => return fail(&e, 2),
    };
    for warning in &warnings {
        tracing::warn!("{warning}");
    }
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let running = tokio::spawn({
        let receiver = receiver.clone();
        async move { receiver.serve(shutdown).await }
    });
    shutdown_signal().await;
    tracing::info!("receiver: stopping at {}", Utc::now().with_timezone(&Oslo));
    let _ = stop.send(true);
    let _ = running.await;
    0
}

async fn open(config: Config) -> Result<Shipping, u8> {
    match Shipping::open(config).await {
        Ok(shipping) => {
            for warning in &shipping.warnings {
                tracing::warn!("{warning}");
            }
            Ok(shipping)
        }
        Err(e) => Err(fail(&e, e.exit_code())),
    }
}

fn fail(error: &dyn std::fmt::Display, code: u8) -> u8 {
    eprintln!("error: {error}");
    code
}

/// Waits for Ctrl-C or SIGTERM (systemd's stop).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
