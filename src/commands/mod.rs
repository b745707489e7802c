//! Commands that print for an operator: the bodies of `kpr-bridge annual`, `backup`,
//! `restore`, `chain`, `check`, `daily`, `resend`, `run`, `send`, `receipts`, `receiver` and
//! `status`, kept out of `main.rs` so that it stays a
//! thin parser and so that `demo` can run them as they are.

pub mod admin;
pub mod annual;
pub mod backup;
pub mod chain;
pub mod check;
pub mod daily;
pub mod delivery;
pub mod resend;
pub mod run;
pub mod status;

use std::path::Path;

use crate::config::Config;
use crate::store::{SQLITE_FILE, Store};

/// The configuration and the state store it names, for a command that reads what has run:
/// an SQLite store that does not exist is said to be missing rather than made empty.
/// `Err` carries the exit code, the reason already printed.
pub(crate) async fn open_existing(config: &Path) -> Result<(Config, Store), u8> {
    let fail = |error: &dyn std::fmt::Display| {
        eprintln!("error: {error}");
        2
    };
    let config = Config::load(config).map_err(|e| fail(&e))?;
    let file = config.data_dir.join(SQLITE_FILE);
    if config.state_url.is_none() && !file.exists() {
        eprintln!(
            "error: there is no state store at {}: nothing has run with this configuration yet, or data_dir in {} is not the agent's",
            file.display(),
            config.file.display()
        );
        return Err(2);
    }
    let store = Store::open_for(&config).await.map_err(|e| fail(&e))?;
    Ok((config, store))
}
