//! The EPJ extract directory (format v1, `docs/export-format.md`): one file per record kind,
//! read through the shared record reader.

use std::path::Path;

use super::csv_file;
use super::problem::{Problem, Problems};
use super::reader::{ReadSummary, RecordKind, RecordSink, Tables, read_records};
use super::table::Table;

/// The file whose presence says the EPJ has finished writing the extract.
pub const READY: &str = "READY";

/// `persons.csv`: the file of one record kind.
pub fn file_name(kind: RecordKind) -> String {
    format!("{}.csv", kind.as_str())
}

/// Reads the extract in `dir` into `sink`. `Err` only when the directory itself is unusable
/// (missing, unreadable, or not complete yet); problems inside files are in the summary.
pub fn read_extract(dir: &Path, sink: &mut impl RecordSink) -> Result<ReadSummary, Problem> {
    check_directory(dir)?;
    Ok(read_records(&mut ExtractFiles { dir }, sink))
}

struct ExtractFiles<'a> {
    dir: &'a Path,
}

impl Tables for ExtractFiles<'_> {
    fn open(&mut self, kind: RecordKind, problems: &mut Problems) -> Option<Table> {
        let file = file_name(kind);
        let path = self.dir.join(&file);
        if !path.exists() {
            if kind.is_required() {
                problems.push(Problem::file(
                    &file,
                    "is missing from the extract",
                    "every extract needs persons.csv and services.csv (see docs/export-format.md)",
                ));
            }
            return None;
        }
        if let Some(problem) = refuse_link_or_special(self.dir, &path, &file) {
            problems.push(problem);
            return None;
        }
        let columns = kind.columns();
        match csv_file::open(&path, columns, kind.required()) {
            Ok(table) => {
                for (index, column) in columns.iter().enumerate() {
                    if !table.has_column(index) {
                        problems.push(
                            Problem::row(
                                &file,
                                1,
                                "is not in the header; its values count as empty",
                                "add the column to the export",
                            )
                            .in_column(column),
                        );
                    }
                }
                Some(table)
            }
            Err(problem) => {
                problems.push(problem);
                None
            }
        }
    }
}

/// A file of the extract must be a regular file inside the extract directory: a symbolic link
/// that leads out of it would let whoever writes the extract make kpr-bridge read (and quote
/// in its problems) any file it may read, and a FIFO or device would block or never end.
/// A link to a regular file inside the directory is followed.
fn refuse_link_or_special(dir: &Path, path: &Path, file: &str) -> Option<Problem> {
    let is_link = std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_symlink())
        .unwrap_or(false);
    if is_link {
        let inside = match (dir.canonicalize(), path.canonicalize()) {
            (Ok(dir), Ok(target)) => target.starts_with(&dir),
            _ => false,
        };
        if !inside {
            return Some(Problem::file(
                file,
                "is a symbolic link that leads outside the extract directory; it is not read",
                "write the file itself into the extract directory, not a link to a file elsewhere",
            ));
        }
    }
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => Some(Problem::file(
            file,
            "is not a regular file (a directory, FIFO or device); it is not read",
            "write the extract's files as ordinary files",
        )),
        _ => None,
    }
}

fn check_directory(dir: &Path) -> Result<(), Problem> {
    let name = dir.display().to_string();
    let metadata = std::fs::metadata(dir).map_err(|e| {
        Problem::file(
            &name,
            format!("cannot be opened: {e}"),
            "give the path of the extract directory",
        )
    })?;
    if !metadata.is_dir() {
        return Err(Problem::file(
            &name,
            "is not a directory",
            "give the extract directory, not a file in it",
        ));
    }
    std::fs::read_dir(dir).map_err(|e| {
        Problem::file(
            &name,
            format!("cannot be listed: {e}"),
            "let the kpr-bridge user read the directory",
        )
    })?;
    if !dir.join(READY).exists() {
        return Err(Problem::file(
            &name,
            "is not complete: it has no READY file",
            "the EPJ writes READY after the last file; wait for it, or create READY if the extract is complete",
        ));
    }
    Ok(())
}
