//! `kpr-bridge status`: the status as text or JSON, and an exit code a monitoring system can
//! use: 0 nothing needs action, 1 something does, 2 the configuration or the store cannot be
//! used.

use std::path::Path;

use chrono::Utc;

use crate::status::{gather, render};

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
        print!("{}", render::render(&status));
    }
    u8::from(status.needs_action())
}

fn fail(error: &dyn std::fmt::Display) -> u8 {
    eprintln!("error: {error}");
    2
}
