//! The directory the EPJ writes its IPLOS pairs into, and what kpr-bridge does with them.
//!
//! EPJs write no READY marker, so a file is taken once it has been unchanged for the settle
//! time and ends with its root's closing tag. Files are told apart by their content (see
//! [`super::head`]): the newest fagmelding is taken with the newest identmelding of the same
//! period, and both are moved into `done/<time>/`, which is what every later read sees until
//! a newer pair arrives. Older pairs of the same scan, files that are no pair's, and files
//! that cannot be read go to `quarantine/`, each with a `.problem.txt` that says why.
//! `done/` keeps pairs for the retention time, and always the newest.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::head::{FileHead, read_head};
use super::xml::{Payload, XmlProblem};
use crate::source::problem::{Problem, Problems};

pub const DONE: &str = "done";
pub const QUARANTINE: &str = "quarantine";

/// A file of the directory, settled and identified.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub path: PathBuf,
    pub name: String,
    pub modified: SystemTime,
    pub head: FileHead,
}

/// A fagmelding and, when one came with it, its identmelding.
#[derive(Clone, Debug)]
pub struct Pair {
    pub fagmelding: Candidate,
    pub identmelding: Option<Candidate>,
}

/// How the directory is handled.
#[derive(Clone, Copy, Debug)]
pub struct Handling<'a> {
    pub municipality: &'a str,
    pub settle: Duration,
    pub keep_done: Duration,
}

/// The files in `dir` itself (not its folders, not hidden ones), each with its age.
fn files(dir: &Path) -> Vec<(PathBuf, String, fs::Metadata)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let metadata = fs::symlink_metadata(entry.path()).ok()?;
            (!name.starts_with('.') && !metadata.is_dir() && !name.ends_with(".problem.txt"))
                .then(|| (entry.path(), name, metadata))
        })
        .collect();
    files.sort_by(|a, b| a.1.cmp(&b.1));
    files
}

/// Whether the file's last bytes close an element: a file still being written, or cut
/// short, does not end with `>` after its last text.
fn ends_complete(path: &Path) -> bool {
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let Ok(length) = file.seek(SeekFrom::End(0)) else {
        return false;
    };
    let from = length.saturating_sub(256);
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(from)).is_err() || file.read_to_end(&mut tail).is_err() {
        return false;
    }
    let tail = String::from_utf8_lossy(&tail);
    let tail = tail.trim_end_matches(|c: char| c.is_whitespace() || c == '\0');
    tail.ends_with('>')
        && tail.rfind("</").is_some_and(|at| {
            ["IPLOS>", "Melding>", "MsgHead>"]
                .iter()
                .any(|r| tail[at..].ends_with(r))
        })
}

/// What a scan of the inbox found.
#[derive(Default)]
struct Scan {
    candidates: Vec<Candidate>,
    /// Some file has not settled yet: it may be a partner still being written.
    waiting: bool,
}

fn scan(dir: &Path, handling: &Handling, problems: &mut Problems, take: bool) -> Scan {
    let now = SystemTime::now();
    let mut scan = Scan::default();
    for (path, name, metadata) in files(dir) {
        let age = metadata
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if !metadata.is_file() {
            let what = if metadata.is_symlink() {
                "is a symbolic link; kpr-bridge reads only files the EPJ wrote into the directory"
            } else {
                "is not a regular file"
            };
            refuse(
                dir,
                &path,
                &name,
                None,
                what,
                "write the extract as plain files",
                problems,
                take,
            );
            continue;
        }
        if take && age < handling.settle {
            scan.waiting = true;
            continue;
        }
        if !ends_complete(&path) {
            // Still being written, or cut short: refused only once it has stood long past
            // the settle time, so a slow network share does not lose a good file.
            if take && age < handling.settle * 10 {
                scan.waiting = true;
            } else {
                refuse(
                    dir,
                    &path,
                    &name,
                    None,
                    "does not end with a closing tag: it is cut short, or not XML",
                    "ask the EPJ to write the extract again",
                    problems,
                    take,
                );
            }
            continue;
        }
        match read_head(&path) {
            Ok(head) => scan.candidates.push(Candidate {
                path,
                name,
                modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                head,
            }),
            Err(problem) => {
                let XmlProblem { line, what, fix } = problem;
                refuse(dir, &path, &name, line, &what, &fix, problems, take);
            }
        }
    }
    scan
}

/// The newest fagmelding with its identmelding, and the files of the scan that are not
/// theirs.
fn pair(mut candidates: Vec<Candidate>) -> Option<(Pair, Vec<Candidate>)> {
    candidates.sort_by_key(|c| std::cmp::Reverse(c.modified));
    let at = candidates
        .iter()
        .position(|c| c.head.payload == Payload::Fagmelding)?;
    let fagmelding = candidates.remove(at);
    let same_period = |c: &Candidate| {
        c.head.payload == Payload::Identmelding && c.head.period == fagmelding.head.period
    };
    let same_number = candidates.iter().position(|c| {
        same_period(c)
            && c.head.running_number.is_some()
            && c.head.running_number == fagmelding.head.running_number
    });
    let partner = same_number
        .or_else(|| candidates.iter().position(same_period))
        .map(|at| candidates.remove(at));
    Some((
        Pair {
            fagmelding,
            identmelding: partner,
        },
        candidates,
    ))
}

/// The pair the inbox holds now, without moving anything: what `inspect` looks at.
pub fn look(dir: &Path, handling: &Handling, problems: &mut Problems) -> Option<Pair> {
    let scan = scan(dir, handling, problems, false);
    pair(scan.candidates).map(|(pair, _)| pair)
}

/// Takes what the inbox holds: the newest pair into `done/`, the rest into `quarantine/`.
/// Does nothing while a file may still be a partner being written.
pub fn take(dir: &Path, handling: &Handling, problems: &mut Problems) {
    let scan = scan(dir, handling, problems, true);
    let Some((pair, rest)) = pair(scan.candidates.clone()) else {
        // Identmeldinger alone: wait for their fagmelding while anything is being written.
        if !scan.waiting {
            for lone in scan.candidates {
                refuse_candidate(
                    dir,
                    &lone,
                    "is an identmelding with no fagmelding beside it",
                    "ask the EPJ to write both files of the IPLOS extract",
                    problems,
                );
            }
        }
        return;
    };
    if pair.identmelding.is_none() && scan.waiting {
        return;
    }
    let newest = pair.fagmelding.name.clone();
    for other in &rest {
        let what = match other.head.payload {
            Payload::Fagmelding => {
                format!("was not read: a newer fagmelding, {newest}, arrived before it was taken")
            }
            Payload::Identmelding => format!(
                "was not read: it is not the identmelding of the newest fagmelding, {newest} (another period or an older extract)"
            ),
        };
        refuse_candidate(
            dir,
            other,
            &what,
            "if this one is the right extract, move it back into the directory after the newer one was taken",
            problems,
        );
    }
    if let Some(found) = pair
        .fagmelding
        .head
        .municipality
        .as_deref()
        .filter(|m| *m != handling.municipality)
    {
        let what = format!(
            "is from municipality {found}, not the configured {}",
            handling.municipality
        );
        for file in std::iter::once(&pair.fagmelding).chain(&pair.identmelding) {
            refuse_candidate(
                dir,
                file,
                &what,
                "point the source at the directory of this municipality's EPJ, or correct `municipality` in the configuration",
                problems,
            );
        }
        return;
    }
    match move_to_done(dir, &pair) {
        Ok(folder) => {
            tracing::info!(
                dir = %dir.display(),
                fagmelding = %pair.fagmelding.name,
                identmelding = pair.identmelding.as_ref().map(|i| i.name.as_str()).unwrap_or("(none)"),
                done = %folder.display(),
                "an IPLOS pair was taken"
            );
        }
        Err(e) => problems.push(Problem::file(
            &dir.display().to_string(),
            format!("the IPLOS pair could not be moved into {DONE}/: {e}"),
            "give kpr-bridge write access to the directory",
        )),
    }
    keep_for(dir, handling.keep_done);
}

fn move_to_done(dir: &Path, pair: &Pair) -> std::io::Result<PathBuf> {
    let done = dir.join(DONE);
    create_private(&done)?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%S%.6fZ").to_string();
    let mut folder = done.join(&stamp);
    let mut n = 1;
    while folder.exists() {
        folder = done.join(format!("{stamp}-{n}"));
        n += 1;
    }
    create_private(&folder)?;
    for file in std::iter::once(&pair.fagmelding).chain(&pair.identmelding) {
        fs::rename(&file.path, folder.join(&file.name))?;
    }
    Ok(folder)
}

/// The pairs taken, newest first.
pub fn taken(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir.join(DONE)) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    folders.sort();
    folders.reverse();
    folders
}

/// The pair in a folder of `done/`.
pub fn pair_in(folder: &Path, problems: &mut Problems) -> Option<Pair> {
    let mut candidates = Vec::new();
    for (path, name, metadata) in files(folder) {
        match read_head(&path) {
            Ok(head) => candidates.push(Candidate {
                path,
                name,
                modified: metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                head,
            }),
            Err(problem) => {
                let mut located =
                    Problem::file(&path.display().to_string(), problem.what, problem.fix);
                located.line = problem.line;
                problems.push(located.not_fatal());
            }
        }
    }
    pair(candidates).map(|(pair, _)| pair)
}

/// Moves a taken pair that turned out unreadable into quarantine.
pub fn refuse_taken(dir: &Path, pair: &Pair, problem: &Problem) {
    for file in std::iter::once(&pair.fagmelding).chain(&pair.identmelding) {
        let what = if file.path == pair.fagmelding.path {
            problem.what.clone()
        } else {
            format!(
                "was taken with {}, which cannot be read",
                pair.fagmelding.name
            )
        };
        let line = (file.path == pair.fagmelding.path)
            .then_some(problem.line)
            .flatten();
        let _ = quarantine(dir, &file.path, &file.name, line, &what, &problem.fix);
    }
    if let Some(folder) = pair.fagmelding.path.parent() {
        let _ = fs::remove_dir(folder);
    }
}

/// Deletes the pairs in `done/` older than `keep`, never the newest.
fn keep_for(dir: &Path, keep: Duration) {
    let now = SystemTime::now();
    for folder in taken(dir).into_iter().skip(1) {
        let old = fs::metadata(&folder)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > keep);
        if old && let Err(e) = fs::remove_dir_all(&folder) {
            tracing::warn!(folder = %folder.display(), error = %e, "an old IPLOS pair could not be deleted");
        }
    }
}

fn refuse_candidate(dir: &Path, file: &Candidate, what: &str, fix: &str, problems: &mut Problems) {
    refuse(dir, &file.path, &file.name, None, what, fix, problems, true);
}

/// Reports a file that is not read; when taking, moves it into quarantine with the problem.
#[allow(clippy::too_many_arguments)]
fn refuse(
    dir: &Path,
    path: &Path,
    name: &str,
    line: Option<u64>,
    what: &str,
    fix: &str,
    problems: &mut Problems,
    take: bool,
) {
    let mut problem = Problem::file(name, what, fix).not_fatal();
    problem.line = line;
    if take {
        match quarantine(dir, path, name, line, what, fix) {
            Ok(to) => {
                problem.fix = format!("{fix} (moved to {})", to.display());
                tracing::warn!(file = name, problem = %problem, "an IPLOS file was quarantined");
            }
            Err(e) => {
                tracing::warn!(file = name, error = %e, "an IPLOS file could not be quarantined")
            }
        }
    }
    problems.push(problem);
}

fn quarantine(
    dir: &Path,
    path: &Path,
    name: &str,
    line: Option<u64>,
    what: &str,
    fix: &str,
) -> std::io::Result<PathBuf> {
    let folder = dir.join(QUARANTINE);
    create_private(&folder)?;
    let mut to = folder.join(name);
    if to.exists() {
        to = folder.join(format!(
            "{}-{name}",
            Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
        ));
    }
    fs::rename(path, &to)?;
    let mut note = File::create(format!("{}.problem.txt", to.display()))?;
    let when: DateTime<Utc> = Utc::now();
    writeln!(
        note,
        "kpr-bridge did not read this file ({}).",
        when.format("%Y-%m-%d %H:%M UTC")
    )?;
    writeln!(note, "File: {name}")?;
    if let Some(line) = line {
        writeln!(note, "Line: {line}")?;
    }
    writeln!(note, "Problem: {what}")?;
    writeln!(note, "What to do: {fix}")?;
    Ok(to)
}

/// A folder only kpr-bridge's user may open: the pairs hold identity numbers in the clear,
/// as the EPJ wrote them.
fn create_private(folder: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if folder.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)?;
    fs::set_permissions(folder, fs::Permissions::from_mode(0o700))
}

/// Holds the directory's lock while pairs are taken and read, so that the agent and an
/// operator's command never move the same files.
pub fn lock(dir: &Path) -> std::io::Result<File> {
    let done = dir.join(DONE);
    create_private(&done)?;
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(done.join(".lock"))?;
    file.lock()?;
    Ok(file)
}

/// The inbox's files as they stand: the agent's watcher compares it between scans.
pub fn fingerprint(dir: &Path, settle: Duration) -> Option<Vec<(String, u64, SystemTime)>> {
    let now = SystemTime::now();
    let files: Vec<_> = files(dir)
        .into_iter()
        .map(|(_, name, m)| {
            (
                name,
                m.len(),
                m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            )
        })
        .collect();
    let settled = files
        .iter()
        .all(|(_, _, modified)| now.duration_since(*modified).is_ok_and(|age| age >= settle));
    (!files.is_empty() && settled).then_some(files)
}
