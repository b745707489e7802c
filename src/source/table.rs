//! The rows of one record kind — a file of an extract or a query of a database — as text,
//! handed over in batches from the thread that reads them.
//!
//! Both origins produce the same [`Row`]s, so one parser turns them into canonical records
//! and an extract and a database with the same data give the same records.
//!
//! Only text crosses between the threads, in batches that go back for reuse: the records the
//! caller builds are allocated and freed on one thread, which keeps the allocator fast.

use std::ops::Range;
use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;

use super::problem::{Place, Problem, Problems};

/// A batch is sent when it holds this many rows or this much text, whichever comes first.
/// Handing a batch over can wake a sleeping thread, which costs as much as reading many rows;
/// 4096 rows of an extract are some 150 KiB of text.
pub(super) const BATCH_ROWS: usize = 4096;
pub(super) const BATCH_TEXT: usize = 1 << 20;
/// Full batches the reading thread may be ahead by, besides the one it fills; more did not
/// make reading faster, only bigger.
pub(super) const BATCHES_AHEAD: usize = 1;

/// The encoding an extract file was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8WithBom,
    Windows1252,
}

impl std::fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8WithBom => "UTF-8 with BOM",
            TextEncoding::Windows1252 => "Windows-1252",
        })
    }
}

/// One record kind's rows, being read.
pub struct Table {
    /// How problems name it.
    pub place: Place,
    /// For an extract file, the encoding it was read in.
    pub encoding: Option<TextEncoding>,
    /// For each wanted column, whether the origin has it.
    pub(super) has_column: Vec<bool>,
    /// Full batches from the reading thread; closed after the last.
    pub(super) full: Receiver<RowBatch>,
    /// Batches handed out, back to the reading thread for reuse.
    pub(super) spent: Sender<RowBatch>,
    pub(super) batch: RowBatch,
    /// The entry of `batch` to hand out next.
    pub(super) next: usize,
    /// After `full`: fields drop in order, so the reading thread sees the channel close
    /// (and stops) before it is joined.
    pub(super) reading: ReadingThread,
}

/// A well-formed row: every wanted field as trimmed text, addressed by its column index.
pub struct Row<'a> {
    /// The line of the file, or the row of the query's result (1-based).
    pub line: u64,
    pub(super) text: &'a str,
    pub(super) fields: &'a [Range<usize>],
}

impl<'a> Row<'a> {
    /// The trimmed value of wanted column `column`; empty when the origin lacks the column.
    pub fn get(&self, column: usize) -> &'a str {
        // A record can be valid UTF-8 as a whole while a field boundary splits a character
        // (`\xC3;\xA5`): such a field reads as empty rather than panic.
        self.text.get(self.fields[column].clone()).unwrap_or("")
    }
}

impl Table {
    pub(super) fn new(
        place: Place,
        encoding: Option<TextEncoding>,
        has_column: Vec<bool>,
        full: Receiver<RowBatch>,
        spent: Sender<RowBatch>,
        reading: Option<JoinHandle<()>>,
    ) -> Table {
        Table {
            place,
            encoding,
            has_column,
            full,
            spent,
            batch: RowBatch::default(),
            next: 0,
            reading: ReadingThread(reading),
        }
    }

    /// Whether the origin has wanted column `column`.
    pub fn has_column(&self, column: usize) -> bool {
        self.has_column[column]
    }

    /// The next well-formed row, or `None` at the end or after a fatal problem. Malformed
    /// rows are reported to `problems` and skipped.
    pub fn next_row(&mut self, problems: &mut Problems) -> Option<Row<'_>> {
        let (line, fields) = loop {
            let Some(entry) = self.batch.entries.get(self.next) else {
                let Ok(batch) = self.full.recv() else {
                    // The last batch is in; a panic on the reading thread goes on from here.
                    self.reading.join();
                    return None;
                };
                let spent = std::mem::replace(&mut self.batch, batch);
                // The reading thread may be gone already; then nothing needs the batch.
                let _ = self.spent.send(spent);
                self.next = 0;
                continue;
            };
            self.next += 1;
            match entry {
                Entry::Problem(problem) => problems.push(Problem::clone(problem)),
                Entry::Row { line, fields } => break (*line, fields.clone()),
            }
        };
        Some(Row {
            line,
            text: &self.batch.text,
            fields: &self.batch.fields[fields],
        })
    }
}

/// The first column of `known` that `header` names twice, with both 1-based positions. A
/// header naming a column twice cannot be read unambiguously. Only known column names are
/// looked at: when the header row is missing, the first line is data, which is never shown.
pub(super) fn duplicated_column<'a>(
    known: &[&'a str],
    header: &[String],
) -> Option<(&'a str, usize, usize)> {
    known.iter().find_map(|column| {
        let mut at = header
            .iter()
            .enumerate()
            .filter(|(_, name)| name.as_str() == *column)
            .map(|(position, _)| position + 1);
        Some((*column, at.next()?, at.next()?))
    })
}

/// The `required` columns that `names` (lowercase, as a header or a query result has them)
/// lacks.
pub(super) fn missing_columns<'a>(required: &[&'a str], names: &[String]) -> Vec<&'a str> {
    required
        .iter()
        .copied()
        .filter(|c| !names.iter().any(|n| n == c))
        .collect()
}

/// Rows read ahead: their text, and the problems found among them, in order.
#[derive(Default)]
pub(super) struct RowBatch {
    pub text: String,
    /// For each row, the trimmed range in `text` of each wanted column.
    pub fields: Vec<Range<usize>>,
    pub entries: Vec<Entry>,
}

impl RowBatch {
    pub fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
        self.entries.clear();
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= BATCH_ROWS || self.text.len() >= BATCH_TEXT
    }
}

pub(super) enum Entry {
    /// A well-formed row; its wanted columns' ranges are `fields` in the batch's `fields`.
    Row {
        line: u64,
        fields: Range<usize>,
    },
    Problem(Box<Problem>),
}

/// Joins the reading thread when dropped.
pub(super) struct ReadingThread(Option<JoinHandle<()>>);

impl ReadingThread {
    /// Waits for the thread to end, passing its panic on.
    fn join(&mut self) {
        if let Some(thread) = self.0.take()
            && let Err(panic) = thread.join()
        {
            std::panic::resume_unwind(panic);
        }
    }
}

impl Drop for ReadingThread {
    fn drop(&mut self) {
        // A panic of the reading thread surfaces through `Table::next_row`; panicking here
        // could happen while unwinding, which would abort.
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}
