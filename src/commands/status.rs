//! `kpr-bridge status`: the status as text or JSON, and an exit code a monitoring system can
//! use: 0 nothing needs action, 1 something does, 2 the configuration or the store cannot be
//! used.

use std::path::Path;

use chrono::Utc;

use crate::config::Config;
use crate::status::{gather, render};
use crate::store::{SQLITE_FILE, Store};

pub async fn status(config: &Path, json: bool) -> u8 {
    let config = match Config::load(config) {
        Ok(config) => config,
        Err(e) => return fail(&e),
    };
    // Opening would create an empty SQLite store: say instead that there is none.
    let file = config.data_dir.join(SQLITE_FILE);
    if config.state_url.is_none() && !file.exists() {
        eprintln!(
            "error: there is no state store at {}: nothing has run with this configuration yet, or data_dir in {} is not the agent's",
            file.display(),
            config.file.display()
        );
        return 2;
    }
    let store = match Store::open(config.state_url.as_deref(), &config.data_dir).await {
        Ok(store) => store,
        Err(e) => return fail(&e),
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
        print!("{}", render::render(&status));
    }
    u8::from(status.needs_action())
}

fn fail(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    2
}
