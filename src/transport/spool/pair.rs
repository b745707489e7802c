//! The spool's convention for one message in a directory, shared by everyone who writes or
//! reads one: the municipality's outgoing spool, its receipts spool, and the test receiver.
//!
//! A message is `<name>.p7m` (the packed bytes, exactly as AMQP would carry them) and
//! `<name>.json` (the properties AMQP would carry, [`properties::to_json`]). Each file is
//! written under a hidden temporary name, synced and renamed into place, the `.json` last:
//! a `.json` in place means the pair is complete, and a reader never sees half a file. An
//! error report has no body; its `.json` alone is the pair.
//!
//! [`properties::to_json`]: crate::transport::properties::to_json

use std::fs::{self, File};
use std::io::{self, Read as _, Write};
use std::path::{Path, PathBuf};

/// The packed message's extension.
pub const BODY: &str = "p7m";
/// The properties' extension; its file's presence marks the pair complete.
pub const PROPERTIES: &str = "json";

/// A file of the spool that could not be read, written, moved or removed.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot {action} {}: {source}; check that the directory exists and that kpr-bridge may read and write in it",
    path.display()
)]
pub struct PairError {
    pub path: PathBuf,
    pub action: &'static str,
    #[source]
    pub source: io::Error,
}

fn failed(path: &Path, action: &'static str) -> impl FnOnce(io::Error) -> PairError {
    let path = path.to_path_buf();
    move |source| PairError {
        path,
        action,
        source,
    }
}

/// One complete pair in a directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    dir: PathBuf,
    name: String,
}

/// A file as read with a size limit.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    Bytes(Vec<u8>),
    /// Larger than the limit: not read; its size.
    TooLarge(u64),
    /// Not there (an error report's body, or a pair taken by someone else meanwhile).
    Missing,
}

impl Pair {
    /// The name both files share (the MsgId, for what kpr-bridge writes).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn properties_file(&self) -> PathBuf {
        self.dir.join(format!("{}.{PROPERTIES}", self.name))
    }

    pub fn body_file(&self) -> PathBuf {
        self.dir.join(format!("{}.{BODY}", self.name))
    }

    pub fn read_properties(&self, limit: usize) -> Result<Contents, PairError> {
        read(&self.properties_file(), limit)
    }

    pub fn read_body(&self, limit: usize) -> Result<Contents, PairError> {
        read(&self.body_file(), limit)
    }

    /// Removes the pair, its `.json` first: a crash in between leaves a `.p7m` alone, which
    /// nobody takes again.
    pub fn remove(&self) -> Result<(), PairError> {
        for file in [self.properties_file(), self.body_file()] {
            match fs::remove_file(&file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(failed(&file, "remove")(e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Moves the pair into the subdirectory `sub` (made if missing), its `.json` first, so
    /// that it is no longer complete where it was; returns the subdirectory.
    pub fn move_into(&self, sub: &str) -> Result<PathBuf, PairError> {
        let target = self.dir.join(sub);
        fs::create_dir_all(&target).map_err(failed(&target, "create"))?;
        for file in [self.properties_file(), self.body_file()] {
            let Some(name) = file.file_name() else {
                continue;
            };
            match fs::rename(&file, target.join(name)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(failed(&file, "move")(e));
                }
                _ => {}
            }
        }
        Ok(target)
    }
}

/// Every complete pair in `dir`, by name. Hidden files (ours in the making) and
/// subdirectories are not pairs.
pub fn complete(dir: &Path) -> Result<Vec<Pair>, PairError> {
    let mut pairs = Vec::new();
    for entry in fs::read_dir(dir).map_err(failed(dir, "read"))? {
        let entry = entry.map_err(failed(dir, "read"))?;
        let Ok(file_name) = entry.file_name().into_string() else {
            continue;
        };
        let Some(name) = file_name.strip_suffix(&format!(".{PROPERTIES}")) else {
            continue;
        };
        if name.is_empty() || name.starts_with('.') {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            pairs.push(Pair {
                dir: dir.to_path_buf(),
                name: name.to_string(),
            });
        }
    }
    pairs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(pairs)
}

/// Writes a pair into `dir`: the body (if any), then the properties, each atomically.
pub fn write(
    dir: &Path,
    name: &str,
    body: Option<&[u8]>,
    properties: &[u8],
) -> Result<(), PairError> {
    if let Some(body) = body {
        write_atomically(dir, &format!("{name}.{BODY}"), body)?;
    }
    write_atomically(dir, &format!("{name}.{PROPERTIES}"), properties)
}

/// [`write`] with the body copied from the file `body`, which may be larger than memory.
pub fn write_copy(dir: &Path, name: &str, body: &Path, properties: &[u8]) -> Result<(), PairError> {
    let body_name = format!("{name}.{BODY}");
    let partial = dir.join(format!(".{body_name}.partial"));
    fs::copy(body, &partial)
        .and_then(|_| File::open(&partial)?.sync_all())
        .map_err(failed(&partial, "write"))?;
    let complete = dir.join(&body_name);
    fs::rename(&partial, &complete).map_err(failed(&complete, "write"))?;
    write_atomically(dir, &format!("{name}.{PROPERTIES}"), properties)
}

/// Writes `name` in `dir` under a hidden temporary name, syncs it, renames it into place and
/// syncs the directory, so that the name only ever holds the whole file.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), PairError> {
    let partial = dir.join(format!(".{name}.partial"));
    let mut file = File::create(&partial).map_err(failed(&partial, "write"))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(failed(&partial, "write"))?;
    let complete = dir.join(name);
    fs::rename(&partial, &complete).map_err(failed(&complete, "write"))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(failed(dir, "sync"))
}

fn read(file: &Path, limit: usize) -> Result<Contents, PairError> {
    let opened = match File::open(file) {
        Ok(opened) => opened,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Contents::Missing),
        Err(e) => return Err(failed(file, "read")(e)),
    };
    let size = opened.metadata().map_err(failed(file, "read"))?.len();
    if size > limit as u64 {
        return Ok(Contents::TooLarge(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // A file that grows while it is read is cut at the limit and judged too large.
    opened
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(failed(file, "read"))?;
    if bytes.len() > limit {
        return Ok(Contents::TooLarge(bytes.len() as u64));
    }
    Ok(Contents::Bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_pairs_are_listed_and_they_go_whole() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        write(dir, "b", Some(b"body"), b"{}").unwrap();
        write(dir, "a", None, b"{}").unwrap();
        // A body whose properties are not written yet, and one in the making.
        fs::write(dir.join("c.p7m"), b"half").unwrap();
        fs::write(dir.join(".d.json.partial"), b"{").unwrap();
        fs::create_dir(dir.join("e.json")).unwrap();
        let pairs = complete(dir).unwrap();
        let names: Vec<&str> = pairs.iter().map(Pair::name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(pairs[0].read_body(10).unwrap(), Contents::Missing);
        assert_eq!(
            pairs[1].read_body(10).unwrap(),
            Contents::Bytes(b"body".to_vec())
        );
        assert_eq!(pairs[1].read_body(3).unwrap(), Contents::TooLarge(4));

        let moved = pairs[1].move_into("taken").unwrap();
        assert!(moved.join("b.p7m").exists() && moved.join("b.json").exists());
        pairs[0].remove().unwrap();
        let left: Vec<String> = complete(dir)
            .unwrap()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        assert!(left.is_empty(), "{left:?}");
        assert!(
            dir.join("c.p7m").exists(),
            "an incomplete pair is left alone"
        );
    }

    #[test]
    fn a_missing_directory_is_named() {
        let error = complete(Path::new("/nonexistent/kpr-spool")).unwrap_err();
        assert!(
            error.to_string().contains("/nonexistent/kpr-spool"),
            "{error}"
        );
    }
}
