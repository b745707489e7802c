//! `kpr-bridge backup --out DIR` and `kpr-bridge restore --from DIR`.
//!
//! A backup is a new directory holding a consistent copy of the state store
//! (`state.sqlite`: SQLite's `VACUUM INTO`; `state.pgdump`: `pg_dump --format=custom`, of
//! `[state] schema` when one is configured), the outbox files its rows name (`outbox/`), the
//! identity key file and the chain mark (`daily/mark.rs`) under their own names, and
//! `backup.json`: what the copy holds of the chain (its last notification, its last shipped
//! reporting date), the mark as it was, and where each file came from.
//!
//! `restore` checks the copy against the **live** mark before it puts anything back: a copy
//! whose last notification is below the mark is stale — the register has notifications it
//! lacks — and is refused unless `--force`; even then the live mark stays as it is, so
//! `daily`, `resend` and the agent refuse until `kpr-bridge chain --continue-after-mark`.
//! An SQLite copy is put back in place (the old store's files moved aside, never deleted). A
//! PostgreSQL copy is not: `pg_restore --clean` drops and recreates tables in a server that
//! other processes (replicas, the fence, the agent) may use, so `restore` checks, puts back
//! the key and the outbox files, and prints the `pg_restore` line for the operator to run with
//! the agent stopped.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::Config;
use crate::crypto::at_rest;
use crate::daily::mark::{self, Mark, Position};
use crate::store::backup::{self, BackupError, Copied};
use crate::store::{SQLITE_FILE, Store};

/// The description of a backup, in its directory.
pub const MANIFEST: &str = "backup.json";
const FORMAT: u32 = 1;
const SQLITE_COPY: &str = "state.sqlite";
const POSTGRES_COPY: &str = "state.pgdump";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub note: String,
    pub format: u32,
    pub made_at: DateTime<Utc>,
    pub kpr_bridge: String,
    pub municipality: String,
    /// `sqlite` or `postgres`.
    pub store: String,
    /// Where the store was: the SQLite file, or the PostgreSQL URL without its password.
    pub database: String,
    pub schema: Option<String>,
    /// The copy, in the backup directory.
    pub state_file: String,
    /// The copy's last notification (a continuation counted); 0 when it holds none.
    pub last_number: i64,
    pub last_guid: Option<Uuid>,
    pub last_shipped: Option<NaiveDate>,
    /// The chain mark when the copy was made.
    pub mark: Option<Mark>,
    /// The identity key file's copy and the mark file's, in the backup directory.
    pub key_file: Option<String>,
    /// Earlier identity keys beside the key file (`<key file>.previous…`): they open what
    /// they sealed before a key was lost and made anew.
    #[serde(default)]
    pub previous_key_files: Vec<String>,
    pub mark_file: Option<String>,
    pub outbox: Vec<OutboxCopy>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OutboxCopy {
    /// The path the outbox row names (rows name files by their full path).
    pub original: PathBuf,
    /// In the backup directory.
    pub copy: String,
}

pub struct BackupArgs<'a> {
    pub config: &'a Path,
    pub out: &'a Path,
}

pub struct RestoreArgs<'a> {
    pub config: &'a Path,
    pub from: &'a Path,
    pub force: bool,
}

fn fail(error: &dyn std::fmt::Display, code: u8) -> u8 {
    eprintln!("error: {error}");
    code
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn where_store_is(config: &Config) -> (String, String) {
    match &config.state_url {
        Some(url) => ("postgres".into(), crate::config::url::redacted(url)),
        None => (
            "sqlite".into(),
            config.data_dir.join(SQLITE_FILE).display().to_string(),
        ),
    }
}

/// A new directory, or an empty one; mode 0700.
fn new_directory(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        let empty = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .next()
            .is_none();
        if !empty {
            return Err(format!(
                "{} is not empty: a backup goes in a new directory (such as /var/backups/kpr-bridge/$(date +%F)), never over another",
                dir.display()
            ));
        }
    } else {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot be made: {e}", dir.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(())
}

pub async fn backup(args: BackupArgs<'_>) -> u8 {
    let (config, store) = match super::open_existing(args.config).await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let code = backup_store(&config, &store, args.out).await;
    store.close().await;
    code
}

async fn backup_store(config: &Config, store: &Store, out: &Path) -> u8 {
    if let Err(e) = new_directory(out) {
        return fail(&e, 2);
    }
    let mark_file = mark::file_for(&config.daily);
    // The mark before the copy: a ship meanwhile moves the store past it, never the reverse.
    let mark = match mark::read(&mark_file) {
        Ok(mark) => mark,
        Err(e) => return fail(&e, 2),
    };
    let (kind, database) = where_store_is(config);
    let (state_file, copied) = match &config.state_url {
        None => {
            let file = out.join(SQLITE_COPY);
            let copied = match store.vacuum_into(&file).await {
                Ok(()) => match backup::open_sqlite_copy(&file).await {
                    Ok(copy) => {
                        let copied = backup::copied(&copy).await.map_err(BackupError::from);
                        copy.close().await;
                        copied
                    }
                    Err(e) => Err(e),
                },
                Err(e) => Err(e.into()),
            };
            (SQLITE_COPY, copied)
        }
        Some(url) => {
            let file = out.join(POSTGRES_COPY);
            let copied = backup::pg_dump(store, url, config.state_schema.as_deref(), &file).await;
            (POSTGRES_COPY, copied)
        }
    };
    let copied: Copied = match copied {
        Ok(copied) => copied,
        Err(e) => {
            return fail(
                &format!(
                    "{e} — the backup in {} is incomplete; remove it",
                    out.display()
                ),
                1,
            );
        }
    };
    let mut code = 0;
    let mut outbox = Vec::new();
    if !copied.outbox_files.is_empty() {
        let dir = out.join("outbox");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return fail(&format!("{}: {e}", dir.display()), 1);
        }
        for original in &copied.outbox_files {
            let copy = format!("outbox/{}", file_name(original));
            match backup::copy_synced(original, &out.join(&copy)) {
                Ok(()) => outbox.push(OutboxCopy {
                    original: original.clone(),
                    copy,
                }),
                Err(e) => {
                    eprintln!("warning: outbox file not copied: {e}");
                    code = 1;
                }
            }
        }
        if let Err(e) = backup::sync_dir(&dir) {
            return fail(&e, 1);
        }
    }
    let key = &config.daily.identity_key_file;
    let key_file = if key.exists() {
        let name = file_name(key);
        if let Err(e) = backup::copy_synced(key, &out.join(&name)) {
            return fail(&e, 1);
        }
        Some(name)
    } else {
        eprintln!(
            "warning: there is no identity key file at {} ([daily] identity_key_file): the copy's notifications cannot be sent again without it",
            key.display()
        );
        code = 1;
        None
    };
    let mut previous_key_files = Vec::new();
    for previous in at_rest::previous_key_files(key) {
        let name = file_name(&previous);
        if let Err(e) = backup::copy_synced(&previous, &out.join(&name)) {
            return fail(&e, 1);
        }
        previous_key_files.push(name);
    }
    let mark_copy = match &mark {
        Some(_) => {
            let name = file_name(&mark_file);
            if let Err(e) = backup::copy_synced(&mark_file, &out.join(&name)) {
                return fail(&e, 1);
            }
            Some(name)
        }
        None => None,
    };
    let manifest = Manifest {
        note: "A backup made by `kpr-bridge backup`: put it back with `kpr-bridge restore --from DIR --config FILE` (docs/runbook.md). It holds identity numbers (sealed) and the key that opens them: keep it in the secure zone.".into(),
        format: FORMAT,
        made_at: Utc::now(),
        kpr_bridge: env!("CARGO_PKG_VERSION").into(),
        municipality: config.municipality.clone(),
        store: kind,
        database,
        schema: config.state_schema.clone(),
        state_file: state_file.into(),
        last_number: copied.last.map_or(0, |(number, _)| number),
        last_guid: copied.last.map(|(_, guid)| guid),
        last_shipped: copied.last_shipped,
        mark: mark.clone(),
        key_file,
        previous_key_files,
        mark_file: mark_copy,
        outbox,
    };
    if let Err(e) = write_manifest(out, &manifest) {
        return fail(&e, 1);
    }
    println!("backup in {}:", out.display());
    println!(
        "  {state_file}: the state store ({}), last notification {}, last reporting date shipped {}",
        manifest.database,
        number_words(manifest.last_number),
        manifest
            .last_shipped
            .map_or_else(|| "none".to_string(), |d| d.to_string())
    );
    if !manifest.outbox.is_empty() {
        println!(
            "  outbox/: {} packed message file(s)",
            manifest.outbox.len()
        );
    }
    if let Some(name) = &manifest.key_file {
        println!("  {name}: the identity key ({})", key.display());
    }
    for name in &manifest.previous_key_files {
        println!("  {name}: an earlier identity key, for what it sealed");
    }
    match (&manifest.mark_file, &mark) {
        (Some(name), Some(m)) => println!(
            "  {name}: the chain mark ({}), number {}",
            mark_file.display(),
            m.number
        ),
        _ => println!(
            "  no chain mark yet ({}): written at the next ship",
            mark_file.display()
        ),
    }
    println!("  {MANIFEST}: what the copy holds");
    if let Some(m) = &mark
        && manifest.last_number < m.number
    {
        eprintln!(
            "warning: the store is behind its chain mark already (its last notification is {}, the mark's {}): this copy is as stale; `kpr-bridge chain --config FILE` says more",
            manifest.last_number, m.number
        );
        code = 1;
    }
    println!(
        "The directory holds the identity numbers (sealed) with the key that opens them: keep it as the EPJ's own data."
    );
    code
}

fn number_words(number: i64) -> String {
    if number == 0 {
        "none".into()
    } else {
        format!("number {number}")
    }
}

fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), BackupError> {
    let file = dir.join(MANIFEST);
    let text = serde_json::to_string_pretty(manifest).expect("a manifest serializes");
    let written = (|| {
        let mut out = std::fs::File::create(&file)?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        out.sync_all()
    })();
    written.map_err(|source| BackupError::File {
        file: file.clone(),
        source,
    })?;
    backup::sync_dir(dir)
}

fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let file = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        format!(
            "{}: {e} — give the directory `kpr-bridge backup --out` made",
            file.display()
        )
    })?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a backup's description: {e}", file.display()))?;
    if manifest.format != FORMAT {
        return Err(format!(
            "{}: format {}, this kpr-bridge reads {FORMAT}",
            file.display(),
            manifest.format
        ));
    }
    Ok(manifest)
}

/// Whether the agent seems to run: something answers on `[agent] listen`.
fn agent_answers(config: &Config) -> Option<std::net::SocketAddr> {
    let address = config.agent.listen?;
    std::net::TcpStream::connect_timeout(&address, std::time::Duration::from_millis(300))
        .ok()
        .map(|_| address)
}

pub async fn restore(args: RestoreArgs<'_>) -> u8 {
    let config = match Config::load(args.config) {
        Ok(config) => config,
        Err(e) => return fail(&e, 2),
    };
    let manifest = match read_manifest(args.from) {
        Ok(manifest) => manifest,
        Err(e) => return fail(&e, 2),
    };
    let (kind, database) = where_store_is(&config);
    if manifest.store != kind {
        return fail(
            &format!(
                "the backup is of a {} store ({}), the configuration's is {kind} ({database}); restore it into a store of its kind",
                manifest.store, manifest.database
            ),
            2,
        );
    }
    if manifest.municipality != config.municipality {
        return fail(
            &format!(
                "the backup is municipality {}'s, the configuration is {}'s",
                manifest.municipality, config.municipality
            ),
            2,
        );
    }
    if let Some(address) = agent_answers(&config) {
        return fail(
            &format!(
                "something answers on {address} ([agent] listen): the agent seems to run; stop it first (systemctl stop kpr-bridge), then restore"
            ),
            2,
        );
    }
    let mark_file = mark::file_for(&config.daily);
    let live_mark = match mark::read(&mark_file) {
        Ok(mark) => mark,
        Err(e) => return fail(&e, 2),
    };
    let copy = args.from.join(&manifest.state_file);
    // The copy's place in the chain against the live mark: exactly for SQLite (the copy read),
    // from the description for PostgreSQL.
    let position = match &manifest.store[..] {
        "sqlite" => match copy_position(&copy, live_mark.clone()).await {
            Ok(position) => position,
            Err(e) => return fail(&e, 2),
        },
        _ => described_position(&manifest, live_mark.clone()),
    };
    let stale = !position.is_whole();
    match (&position, live_mark.as_ref()) {
        (_, None) => eprintln!(
            "warning: there is no chain mark at {}: whether this copy is the latest cannot be told. If the identity key's directory has a backup of its own with {}, put that back first and restore again",
            mark_file.display(),
            file_name(&mark_file)
        ),
        (Position::Behind { .. }, Some(m)) => {
            let text = format!(
                "this copy is older than the chain KPR has: its last notification is {}, but number {} went to KPR in message {} (chain mark {}). Put back, the store would lack {} — the register has them. Use a newer copy if there is one; if this is the newest, give --force: it is put back, and daily, resend and the agent refuse until `kpr-bridge chain --continue-after-mark` (docs/runbook.md)",
                number_words(manifest.last_number),
                m.number,
                m.msg_id,
                mark_file.display(),
                if manifest.last_number + 1 == m.number {
                    format!("number {}", m.number)
                } else {
                    format!("numbers {}–{}", manifest.last_number + 1, m.number)
                }
            );
            if !args.force {
                return fail(&text, 2);
            }
            eprintln!("warning (--force): {text}");
        }
        (Position::Diverged { store_guid, .. }, Some(m)) => {
            let text = format!(
                "this copy holds notification {} under GUID {store_guid}, but KPR was sent GUID {} under that number (chain mark {}): it is not this installation's store, or not its latest. Without --force nothing is put back",
                m.number,
                m.guid,
                mark_file.display()
            );
            if !args.force {
                return fail(&text, 2);
            }
            eprintln!("warning (--force): {text}");
        }
        _ => {}
    }
    if let Err(e) = put_back_key(&config, &manifest, args.from) {
        return fail(&e, 2);
    }
    let mut code = 0;
    for file in &manifest.outbox {
        if file.original.exists() {
            continue;
        }
        let put = file
            .original
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(|source| BackupError::File {
                file: file.original.clone(),
                source,
            })
            .and_then(|()| backup::copy_synced(&args.from.join(&file.copy), &file.original));
        if let Err(e) = put {
            eprintln!("warning: outbox file not put back: {e}");
            code = 1;
        }
    }
    match &manifest.store[..] {
        "sqlite" => {
            let live = config.data_dir.join(SQLITE_FILE);
            let aside = config.data_dir.join(format!(
                "before-restore-{}",
                Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            if let Err(e) = backup::put_back_sqlite(&copy, &live, &aside) {
                return fail(&e, 2);
            }
            println!(
                "restored {} from {} (last notification {}, last reporting date shipped {})",
                live.display(),
                copy.display(),
                number_words(manifest.last_number),
                manifest
                    .last_shipped
                    .map_or_else(|| "none".to_string(), |d| d.to_string())
            );
            if aside.exists() {
                println!("the store it replaced is kept in {}", aside.display());
            }
            // Opening brings the copy's tables up to date, as the agent would.
            match Store::open_for(&config).await {
                Ok(store) => {
                    let now = mark::position_now(&store, &config.daily).await;
                    store.close().await;
                    match now {
                        Ok(position) if !position.is_whole() => {
                            code = code.max(1);
                            println!(
                                "the store is behind the chain mark: daily, resend and the agent refuse until you decide — `kpr-bridge chain --config {}` shows what is missing",
                                config.file.display()
                            );
                        }
                        Ok(_) => println!(
                            "the chain is whole: start the agent again (systemctl start kpr-bridge)"
                        ),
                        Err(e) => return fail(&e, 1),
                    }
                }
                Err(e) => return fail(&e, 1),
            }
        }
        _ => {
            code = code.max(u8::from(stale));
            print_pg_restore(&config, &manifest, &copy);
        }
    }
    code
}

/// The SQLite copy's place in the chain against `mark`.
async fn copy_position(copy: &Path, mark: Option<Mark>) -> Result<Position, String> {
    let store = backup::open_sqlite_copy(copy)
        .await
        .map_err(|e| e.to_string())?;
    let position = async {
        let mut tx = store.begin_read().await?;
        let position = mark::position(&mut tx, mark).await;
        tx.rollback().await?;
        position
    }
    .await;
    store.close().await;
    position.map_err(|e| e.to_string())
}

/// A PostgreSQL copy's place in the chain as its description tells it.
fn described_position(manifest: &Manifest, mark: Option<Mark>) -> Position {
    let Some(mark) = mark else {
        return Position::NoMark;
    };
    let last = manifest.last_guid.map(|guid| (manifest.last_number, guid));
    match last {
        Some((number, _)) if number > mark.number => Position::Whole { mark },
        Some((number, guid)) if number == mark.number && guid != mark.guid => Position::Diverged {
            mark,
            store_guid: guid,
        },
        Some((number, _)) if number == mark.number => Position::Whole { mark },
        store => Position::Behind { mark, store },
    }
}

/// The identity keys: the key put back when missing. A live key other than the copy's stays
/// (it sealed what came after the copy); the copy's goes beside it as
/// `<key file>.previous-restored-<time>`, which opens what it sealed and seals nothing. The
/// copy's earlier keys go beside it too, unless the same key is there already.
fn put_back_key(config: &Config, manifest: &Manifest, from: &Path) -> Result<(), String> {
    let live = &config.daily.identity_key_file;
    let read = |file: &Path| std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()));
    let mut beside: Vec<Vec<u8>> = Vec::new();
    let mut live_exists = true;
    match std::fs::read(live) {
        Ok(current) => beside.push(current),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => live_exists = false,
        Err(e) => return Err(format!("{}: {e}", live.display())),
    }
    for file in at_rest::previous_key_files(live) {
        beside.push(read(&file)?);
    }
    if let Some(dir) = live.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let mut copies: Vec<&String> = manifest.key_file.iter().collect();
    copies.extend(&manifest.previous_key_files);
    for (index, name) in copies.into_iter().enumerate() {
        let copy = from.join(name);
        let bytes = read(&copy)?;
        if beside.contains(&bytes) {
            continue;
        }
        let target = if index == 0 && !live_exists {
            live.clone()
        } else {
            let mut target = live.clone().into_os_string();
            target.push(format!(".previous-restored-{stamp}-{index}"));
            PathBuf::from(target)
        };
        backup::copy_synced(&copy, &target).map_err(|e| e.to_string())?;
        if target == *live {
            println!("put back the identity key {}", live.display());
        } else {
            println!(
                "put the backup's key {name} beside the identity key as {}: it opens what it sealed and seals nothing (docs/runbook.md, \"A lost identity key\")",
                target.display()
            );
        }
        beside.push(bytes);
    }
    if manifest.key_file.is_none() && !live.exists() {
        eprintln!(
            "warning: the backup has no identity key and there is none at {}: its notifications cannot be sent again",
            live.display()
        );
    }
    Ok(())
}

fn print_pg_restore(config: &Config, manifest: &Manifest, copy: &Path) {
    let url = config
        .state_url
        .as_deref()
        .map(crate::config::url::redacted)
        .unwrap_or_default();
    let schema = manifest
        .schema
        .as_deref()
        .map(|s| format!(" --schema={s}"))
        .unwrap_or_default();
    println!(
        "The copy checks out against the chain mark. kpr-bridge does not run pg_restore itself: it drops and recreates\nthe tables in a server other processes may use. With the agent stopped, as the store's owner, run:\n\n  pg_restore --clean --if-exists --no-owner --single-transaction{schema} --dbname=\"{url}\" {}\n\nthen `kpr-bridge chain --config {}` and start the agent (docs/runbook.md, \"Backing up and restoring the state store\").",
        copy.display(),
        config.file.display()
    );
}
