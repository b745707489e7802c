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
