//! `kpr-bridge status`: the status as text or JSON, and an exit code a monitoring system can
//! use: 0 nothing needs action, 1 something does, 2 the configuration or the store cannot be
//! used.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Utc;

use crate::cluster::tenants::Tenants;
use crate::config::Config;
use crate::i18n::Language;
use crate::status::{gather, render};
use crate::store::Store;
use crate::store::leases::{LeaseRow, Leases};
use crate::t;

pub async fn status(config: &Path, json: bool) -> u8 {
    let (config, store) = match super::open_existing(config).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let gathered = gather(&config, &store, Utc::now()).await;
    store.close().await;
    let status = match gathered {
        Ok(status) => status,
        Err(e) => return fail(&e),
    };
    if json {
        match serde_json::to_string_pretty(&status) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(&e),
        }
    } else {
        print!("{}", render::render(&status, config.language));
    }
    u8::from(status.needs_action())
}

/// `status --tenants DIR`: a line per municipality (who serves it, the last date shipped,
/// what needs action), or with `municipality` that one's whole status. Exit 1 when any
/// municipality needs action or no replica serves it.
pub async fn tenants(dir: &Path, municipality: Option<&str>, json: bool) -> u8 {
    let tenants = match Tenants::load(dir) {
        Ok(tenants) => tenants,
        Err(e) => return fail(&e),
    };
    for problem in &tenants.problems {
        eprintln!("warning: {problem}");
    }
    let chosen: Vec<(&String, &Config)> = tenants
        .configs
        .iter()
        .filter(|(_, config)| municipality.is_none_or(|m| config.municipality == m))
        .collect();
    if chosen.is_empty() {
        let known: Vec<&str> = tenants
            .configs
            .values()
            .map(|c| c.municipality.as_str())
            .collect();
        return fail(&format!(
            "--municipality {}: not configured in {} (configured: {})",
            municipality.unwrap_or_default(),
            dir.display(),
            known.join(", ")
        ));
    }
    let leases = match Leases::open(&tenants.url, "status").await {
        Ok(leases) => leases,
        Err(e) => return fail(&e),
    };
    let rows = leases.all().await;
    leases.close().await;
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => return fail(&e),
    };
    let now = Utc::now();
    let mut statuses = BTreeMap::new();
    for (schema, config) in &chosen {
        let store = match Store::open_postgres_in(&tenants.url, schema, None).await {
            Ok(store) => store,
            Err(e) => return fail(&e),
        };
        let gathered = gather(config, &store, now).await;
        store.close().await;
        match gathered {
            Ok(status) => {
                statuses.insert(config.municipality.clone(), status);
            }
            Err(e) => return fail(&format!("municipality {}: {e}", config.municipality)),
        }
    }
    // Each municipality's own language for its whole status; the first's for the overview.
    let lang = chosen
        .first()
        .map(|(_, config)| config.language)
        .unwrap_or_default();
    let lease_of = |number: &str| rows.iter().find(|r| r.municipality == number);
    let unserved =
        |number: &str| lease_of(number).is_none_or(|l| l.expires.is_none_or(|e| e < now));
    let needs_action = statuses
        .iter()
        .any(|(number, status)| status.needs_action() || unserved(number));
    if json {
        let chosen_leases: Vec<&LeaseRow> = rows
            .iter()
            .filter(|r| statuses.contains_key(&r.municipality))
            .collect();
        let all = serde_json::json!({ "leases": chosen_leases, "municipalities": statuses });
        match serde_json::to_string_pretty(&all) {
            Ok(text) => println!("{text}"),
            Err(e) => return fail(&e),
        }
    } else if let Some(number) = municipality {
        let status = &statuses[number];
        println!("{}", served_by(lease_of(number), now, status.language));
        print!("{}", render::render(status, status.language));
    } else {
        print!(
            "{}",
            render::overview(
                &statuses,
                |number| served_by(lease_of(number), now, lang),
                lang
            )
        );
    }
    u8::from(needs_action)
}

/// Who serves a municipality, in a line.
fn served_by(lease: Option<&LeaseRow>, now: chrono::DateTime<Utc>, lang: Language) -> String {
    match lease {
        Some(LeaseRow {
            holder: Some(holder),
            expires: Some(expires),
            ..
        }) if *expires >= now => t!(lang, "status-served-by", holder = holder.clone()),
        Some(LeaseRow {
            holder: Some(holder),
            ..
        }) => t!(lang, "status-not-served-since", holder = holder.clone()),
        _ => t!(lang, "status-not-served"),
    }
}

fn fail(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    2
}
