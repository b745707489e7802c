//! One semicolon-separated file of an extract, read row by row.
//!
//! It decides the encoding from the first 64 KiB (UTF-8 with or without BOM, else
//! Windows-1252, which many Norwegian systems still write), refuses binary and UTF-16 files,
//! stops at a line longer than [`MAX_LINE_BYTES`] instead of buffering it, and hands out rows
//! whose fields are already decoded text. Rows with the wrong number of fields become
//! problems; the file goes on.
//!
//! After the header, a thread of the file's own reads ahead: it splits and decodes rows into
//! batches ([`Table`]) while the caller maps the rows before them, so that the work uses two
//! cores.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::ops::Range;
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};

use encoding_rs::WINDOWS_1252;

use super::problem::{Place, Problem};
use super::table::{
    BATCHES_AHEAD, Entry, RowBatch, Table, TextEncoding, duplicated_column, missing_columns,
};

/// No field of an EPJ extract needs more; a longer line means the file is not what it claims.
pub const MAX_LINE_BYTES: usize = 1 << 20;
const SNIFF_BYTES: u64 = 64 * 1024;

/// Opens `path` and checks its header. `columns` are the columns the caller will ask for,
/// `required` the ones the file must have. Any error is a fatal problem for this file.
pub fn open(path: &Path, columns: &[&str], required: &[&str]) -> Result<Table, Problem> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let cannot_read = |e: io::Error| {
        Problem::file(
            &name,
            format!("cannot be read: {e}"),
            "check that the file exists and that the kpr-bridge user may read it",
        )
    };
    let mut file = File::open(path).map_err(cannot_read)?;
    let mut prefix = Vec::with_capacity(SNIFF_BYTES as usize);
    (&mut file)
        .take(SNIFF_BYTES)
        .read_to_end(&mut prefix)
        .map_err(cannot_read)?;
    let encoding = sniff_encoding(&name, &prefix)?;
    if encoding == TextEncoding::Utf8WithBom {
        prefix.drain(..3);
    }

    let reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(false)
        .flexible(true)
        .from_reader(LineLimited::new(Cursor::new(prefix).chain(file)));
    let mut rows = RowReader {
        name: name.clone(),
        encoding,
        reader,
        record: csv::ByteRecord::new(),
        fields: Vec::new(),
        positions: Vec::new(),
        header_len: 0,
        header: Vec::new(),
        next_line: 1,
    };
    rows.read_header(columns, required)?;
    let has_column = rows.positions.iter().map(Option::is_some).collect();
    let (full_sender, full) = mpsc::sync_channel(BATCHES_AHEAD);
    let (spent, spent_receiver) = mpsc::channel();
    let name_for_table = name.clone();
    let reading = std::thread::Builder::new()
        .name(format!("read {name}"))
        .spawn(move || rows.read_ahead(&full_sender, &spent_receiver))
        .map_err(|e| {
            Problem::file(
                &name,
                format!("cannot be read: no thread to read it ({e})"),
                "the system is out of threads or memory; try again when it has more",
            )
        })?;
    Ok(Table::new(
        Place {
            name: name_for_table,
            query: false,
        },
        Some(encoding),
        has_column,
        full,
        spent,
        Some(reading),
    ))
}

/// The reading half of a [`Table`]: splits, decodes and checks the rows.
struct RowReader {
    name: String,
    encoding: TextEncoding,
    reader: csv::Reader<LineLimited<Chain<Cursor<Vec<u8>>, File>>>,
    record: csv::ByteRecord,
    /// The range of each field of the record last read, in the text it was decoded into.
    fields: Vec<Range<usize>>,
    /// For each wanted column, its position in the file, if the header has it.
    positions: Vec<Option<usize>>,
    header_len: usize,
    /// The header's column names, to name a column whose value cannot be used.
    header: Vec<String>,
    /// Line where the next record starts, to name a line that cannot be read.
    next_line: u64,
}

impl RowReader {
    fn read_header(&mut self, columns: &[&str], required: &[&str]) -> Result<(), Problem> {
        let mut text = String::new();
        let mut problems = Vec::new();
        let read = self.read_record(&mut text, &mut |problem| problems.push(problem));
        if let Some(problem) = problems.into_iter().next() {
            return Err(problem);
        }
        if !read {
            return Err(Problem::file(
                &self.name,
                "has no header row",
                format!(
                    "the first line must name the columns: {}",
                    required.join(";")
                ),
            ));
        }
        let header: Vec<String> = self
            .fields
            .iter()
            .map(|range| text[range.clone()].trim().trim_matches('"').to_lowercase())
            .collect();
        if header.len() == 1 {
            let raw = &header[0];
            if let Some(sep) = [',', '\t', '|'].into_iter().find(|c| raw.contains(*c)) {
                let sep_name = if sep == '\t' {
                    "tab".to_string()
                } else {
                    format!("'{sep}'")
                };
                return Err(Problem::file(
                    &self.name,
                    format!("is separated by {sep_name}, not by ';'"),
                    "export the file with ';' as the separator (see docs/export-format.md)",
                )
                .with_line(1));
            }
        }
        let missing = missing_columns(required, &header);
        if !missing.is_empty() {
            // Only the cells that are column names are shown: when the header is missing,
            // the first line is a data row, with a name in it.
            let known: Vec<&str> = header
                .iter()
                .map(String::as_str)
                .filter(|h| columns.contains(h))
                .collect();
            let others = header.len() - known.len();
            let has = match (known.is_empty(), others) {
                (true, _) => "the first line names none of the columns: is the header row missing?"
                    .to_string(),
                (false, 0) => format!("the header has: {}", known.join(", ")),
                (false, _) => format!(
                    "the header has: {}, and {others} other values, not shown",
                    known.join(", ")
                ),
            };
            return Err(Problem::file(
                &self.name,
                format!(
                    "lacks the column{} {} ({has})",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                ),
                format!(
                    "the header must name these columns, separated by ';': {}",
                    required.join(";")
                ),
            )
            .with_line(1));
        }
        if let Some((column, first, second)) = duplicated_column(columns, &header) {
            return Err(Problem::file(
                &self.name,
                format!("names the column {column} twice in its header, as column {first} and column {second}"),
                "export the file with each column once (see docs/export-format.md); which of the two holds the value cannot be told",
            )
            .with_line(1));
        }
        self.positions = columns
            .iter()
            .map(|c| header.iter().position(|h| h == c))
            .collect();
        self.header_len = header.len();
        self.header = header;
        Ok(())
    }

    /// Runs on the file's own thread: fills batches and sends them, until the file ends or
    /// the [`Table`] is dropped.
    fn read_ahead(mut self, full: &SyncSender<RowBatch>, spent: &Receiver<RowBatch>) {
        loop {
            let mut batch = spent.try_recv().unwrap_or_default();
            batch.clear();
            let more = self.fill(&mut batch);
            if full.send(batch).is_err() || !more {
                return;
            }
        }
    }

    /// Reads rows into `batch` until it is full (true) or the file ends (false).
    fn fill(&mut self, batch: &mut RowBatch) -> bool {
        while !batch.is_full() {
            let start = batch.text.len();
            let entries = &mut batch.entries;
            let report = &mut |problem| entries.push(Entry::Problem(Box::new(problem)));
            if !self.read_record(&mut batch.text, report) {
                return false;
            }
            if let Some(problem) = self.field_count_problem(&batch.text) {
                batch.text.truncate(start);
                batch.entries.push(Entry::Problem(Box::new(problem)));
                continue;
            }
            let first = batch.fields.len();
            let text = batch.text.as_bytes();
            batch.fields.extend(self.positions.iter().map(|position| {
                position.map_or(start..start, |p| trimmed(text, self.fields[p].clone()))
            }));
            batch.entries.push(Entry::Row {
                line: self.line(),
                fields: first..batch.fields.len(),
            });
        }
        true
    }

    /// Why the record just read into `text` is not a row, if it is not.
    fn field_count_problem(&self, text: &str) -> Option<Problem> {
        let fields = self.fields.len();
        let fix = if fields < self.header_len {
            "the line is cut short (a truncated file?) or a value holds a line break \
             without quotes; export the file again"
        } else if self.fields[self.header_len..]
            .iter()
            .any(|range| !text[range.clone()].trim().is_empty())
        {
            "a value holds ';' without quotes; quote such values or remove the ';'"
        } else {
            return None;
        };
        Some(Problem::row(
            &self.name,
            self.line(),
            format!("has {fields} fields, the header has {}", self.header_len),
            fix,
        ))
    }

    fn line(&self) -> u64 {
        self.record.position().map_or(0, |p| p.line())
    }

    /// Reads the next record and appends it, decoded, to `text`, with the range of each field
    /// in `fields`. False at the end or on a fatal problem, which it reports.
    fn read_record(&mut self, text: &mut String, report: &mut impl FnMut(Problem)) -> bool {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => self.next_line = self.reader.position().line(),
            Ok(false) => return false,
            Err(error) => {
                report(self.read_error(error));
                return false;
            }
        }
        self.fields.clear();
        let start = text.len();
        let utf8 = self.encoding != TextEncoding::Windows1252;
        if utf8 && let Ok(record) = std::str::from_utf8(self.record.as_slice()) {
            // One validation and one copy for the whole record; the field ranges carry over.
            text.push_str(record);
            // The fields lie end to end in the record.
            let mut end = start;
            self.fields.extend(self.record.iter().map(|field| {
                end += field.len();
                end - field.len()..end
            }));
        } else {
            if utf8 {
                report(Problem::row(
                    &self.name,
                    self.line(),
                    "is not valid UTF-8, though the file begins as UTF-8; read as Windows-1252",
                    "check æ, ø and å on this line, and save the whole file in one encoding",
                ));
            }
            for field in &self.record {
                let field_start = text.len();
                text.push_str(&WINDOWS_1252.decode_without_bom_handling(field).0);
                self.fields.push(field_start..text.len());
            }
        }
        if self.record.as_slice().contains(&0) {
            self.empty_values_with_nul(text, report);
        }
        true
    }

    /// A NUL byte in an otherwise textual file (a free-text field of some EPJ exports): the
    /// value holding it is read as empty and reported by line and column, never shown (it
    /// may be a name). A key left empty makes its row skipped further on.
    fn empty_values_with_nul(&mut self, text: &str, report: &mut impl FnMut(Problem)) {
        let line = self.line();
        for (position, range) in self.fields.iter_mut().enumerate() {
            if !text[range.clone()].contains('\0') {
                continue;
            }
            let column = self
                .header
                .get(position)
                .cloned()
                .unwrap_or_else(|| format!("{}", position + 1));
            report(
                Problem::row(
                    &self.name,
                    line,
                    "holds a NUL byte (binary data inside text); the value is read as empty",
                    "correct the value in the EPJ, or export the file again",
                )
                .in_column(&column),
            );
            *range = range.start..range.start;
        }
    }

    fn read_error(&self, error: csv::Error) -> Problem {
        if let csv::ErrorKind::Io(io_error) = error.kind()
            && io_error.get_ref().is_some_and(|e| e.is::<LineTooLong>())
        {
            // Records before the long line were all handed out: it starts where they end.
            let line = self.next_line;
            return Problem::file(
                &self.name,
                format!(
                    "line {line} is longer than {} MiB without a line break (outside quotes); \
                     reading stopped there, rows before it were read",
                    MAX_LINE_BYTES >> 20
                ),
                "the file is damaged or not a line-based export; export it again",
            )
            .with_line(line);
        }
        Problem::file(
            &self.name,
            format!("reading stopped after line {}: {error}", self.line()),
            "check the disk and the file, then export it again",
        )
    }
}

/// `range` of `text` without the ASCII whitespace around it; still on character boundaries,
/// as ASCII bytes never begin or continue a multi-byte character.
fn trimmed(text: &[u8], range: Range<usize>) -> Range<usize> {
    let value = &text[range.clone()];
    let start = range.start + (value.len() - value.trim_ascii_start().len());
    start..start + value.trim_ascii().len()
}

fn sniff_encoding(name: &str, prefix: &[u8]) -> Result<TextEncoding, Problem> {
    if prefix.is_empty() {
        return Err(Problem::file(
            name,
            "is empty (0 bytes)",
            "the file needs at least its header row; export it again",
        ));
    }
    if prefix.starts_with(&[0xFF, 0xFE]) || prefix.starts_with(&[0xFE, 0xFF]) {
        return Err(Problem::file(
            name,
            "is encoded as UTF-16",
            "save it as UTF-8 or Windows-1252",
        ));
    }
    if let Some(format) = binary_format(prefix) {
        return Err(Problem::file(
            name,
            format!("is not a text file (it is {format})"),
            "put the EPJ's semicolon-separated text export here, unpacked, not another file",
        ));
    }
    // A stray NUL or control byte is a bad value on its row (`empty_values_with_nul`); a
    // file is binary when such bytes are a large share of it. UTF-16 without a BOM has a NUL
    // in every other byte.
    let controls = prefix
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if controls * 100 > prefix.len() * BINARY_PERCENT {
        return Err(Problem::file(
            name,
            "is not a text file (it holds binary data)",
            "put the EPJ's semicolon-separated text export here, not another file",
        ));
    }
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok(TextEncoding::Utf8WithBom);
    }
    // Weigh the evidence: multi-byte UTF-8 characters against invalid sequences. A UTF-8 file
    // with a few Windows-1252 lines (two systems' exports joined) stays UTF-8, and those lines
    // are decoded one by one; Windows-1252 text almost never forms valid UTF-8 by accident.
    let (mut multibyte, mut invalid) = (0usize, 0usize);
    let mut chunks = prefix.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        // An incomplete character at the very end is only cut by the 64 KiB window.
        let cut_by_window = chunks.peek().is_none() && prefix.len() as u64 == SNIFF_BYTES;
        if !chunk.invalid().is_empty() && !cut_by_window {
            invalid += 1;
        }
    }
    if invalid == 0 || multibyte > invalid {
        Ok(TextEncoding::Utf8)
    } else {
        Ok(TextEncoding::Windows1252)
    }
}

/// The share of control bytes (NUL among them) above which a file is binary, in percent of
/// its first 64 KiB: random bytes have some 11 %, text none but a stray one.
const BINARY_PERCENT: usize = 5;

/// A packed or binary format recognised by its first bytes.
fn binary_format(prefix: &[u8]) -> Option<&'static str> {
    const SIGNATURES: [(&[u8], &str); 7] = [
        (b"\x1f\x8b", "gzip-compressed"),
        (b"PK\x03\x04", "a ZIP archive (or an Excel workbook)"),
        (b"%PDF", "a PDF document"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
            "an old Office document",
        ),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"BZh", "bzip2-compressed"),
        (b"\xfd7zXZ\x00", "xz-compressed"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| prefix.starts_with(magic))
        .map(|(_, format)| *format)
}

/// The payload of the I/O error that stops a too-long line.
#[derive(Debug)]
struct LineTooLong;

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a line is longer than {MAX_LINE_BYTES} bytes")
    }
}

impl std::error::Error for LineTooLong {}

/// Passes bytes through, failing once a line grows past [`MAX_LINE_BYTES`], so that a file
/// without line breaks is never buffered whole. A line break inside a quoted value does not
/// end the line: the csv reader buffers the whole row, so a quoted value running on over
/// many short lines is stopped the same way.
struct LineLimited<R> {
    inner: R,
    since_newline: usize,
    quoting: Quoting,
}

/// Where the bytes read so far leave us, as the csv reader (RFC 4180, `""` inside quotes)
/// sees it: only a quote at the start of a field opens a quoted value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted value: it closes the value, or is the first of `""`.
    QuoteInQuoted,
}

impl<R> LineLimited<R> {
    fn new(inner: R) -> Self {
        LineLimited {
            inner,
            since_newline: 0,
            quoting: Quoting::FieldStart,
        }
    }

    /// Follows `bytes` through the quoting states; the count restarts after each line
    /// break outside quotes.
    fn follow(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.since_newline += 1;
            self.quoting = match (self.quoting, b) {
                (Quoting::Quoted, b'"') => Quoting::QuoteInQuoted,
                (Quoting::Quoted, _) => Quoting::Quoted,
                (Quoting::QuoteInQuoted, b'"') | (Quoting::FieldStart, b'"') => Quoting::Quoted,
                (_, b';') => Quoting::FieldStart,
                (_, b'\n') => {
                    self.since_newline = 0;
                    Quoting::FieldStart
                }
                _ => Quoting::Unquoted,
            };
        }
    }
}

impl<R: Read> Read for LineLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = &buf[..n];
        if self.quoting != Quoting::Quoted && !read.contains(&b'"') {
            // No quotes: only line breaks matter (the common case, kept fast).
            match read.iter().rposition(|&b| b == b'\n') {
                Some(last) => self.since_newline = n - last - 1,
                None => self.since_newline += n,
            }
            if let Some(&last) = read.last() {
                self.quoting = match last {
                    b';' | b'\n' => Quoting::FieldStart,
                    _ => Quoting::Unquoted,
                };
            }
        } else {
            self.follow(read);
        }
        if self.since_newline > MAX_LINE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::problem::Problems;
    use crate::source::table::BATCH_ROWS;

    fn open_text(content: &[u8]) -> (tempfile::TempDir, Result<Table, Problem>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, content).unwrap();
        let file = super::open(&path, &["a", "b"], &["a"]);
        (dir, file)
    }

    fn rows(content: &[u8]) -> (Vec<(u64, String, String)>, Problems) {
        let (_dir, file) = open_text(content);
        let mut file = file.unwrap();
        let mut problems = Problems::default();
        let mut out = Vec::new();
        while let Some(row) = file.next_row(&mut problems) {
            out.push((row.line, row.get(0).to_string(), row.get(1).to_string()));
        }
        (out, problems)
    }

    #[test]
    fn reads_utf8_with_and_without_bom_and_windows_1252() {
        let expected = vec![(2, "Bjørn".to_string(), "Åse".to_string())];
        assert_eq!(rows("a;b\nBjørn;Åse\n".as_bytes()).0, expected);
        assert_eq!(rows("\u{feff}a;b\nBjørn;Åse\n".as_bytes()).0, expected);
        assert_eq!(rows(b"a;b\nBj\xf8rn;\xc5se\n").0, expected);
    }

    #[test]
    fn column_order_is_free_and_extra_columns_are_ignored() {
        let (rows, problems) = rows(b"x;B;A\n1;2;3\n");
        assert_eq!(rows, vec![(2, "3".into(), "2".into())]);
        assert!(problems.is_empty());
    }

    #[test]
    fn wrong_field_counts_are_row_problems() {
        let (rows, problems) = rows(b"a;b\n1;2\n3\n4;5;6\n7;8;\n9;10");
        assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 5, 6]);
        let lines: Vec<_> = problems.kept().iter().map(|p| p.line).collect();
        assert_eq!(lines, [Some(3), Some(4)]);
    }

    #[test]
    fn quoted_values_may_hold_separators_and_line_breaks() {
        let (rows, problems) = rows(b"a;b\n\"x;y\";\"line\nbreak\"\nz;w\n");
        assert!(problems.is_empty());
        assert_eq!(rows[0].1, "x;y");
        assert_eq!(rows[0].2, "line\nbreak");
        assert_eq!(rows[1].0, 4);
    }

    #[test]
    fn line_limit_stops_a_huge_line() {
        let mut content = b"a;b\n1;2\n".to_vec();
        content.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        let (rows, problems) = rows(&content);
        assert_eq!(rows.len(), 1);
        let problem = &problems.kept()[0];
        assert!(problem.fatal);
        assert_eq!(problem.line, Some(3));
    }

    #[test]
    fn rows_and_problems_keep_file_order_across_batches() {
        let mut content = b"a;b\n".to_vec();
        for i in 0..3 * BATCH_ROWS {
            let row = if i % 1000 == 7 {
                "x\n".to_string()
            } else {
                format!("{i};v\n")
            };
            content.extend(row.as_bytes());
        }
        let (rows, problems) = rows(&content);
        assert_eq!(rows.len(), 3 * BATCH_ROWS - problems.kept().len());
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(rows.iter().all(|(line, a, _)| a == &(line - 2).to_string()));
        let lines: Vec<_> = problems.kept().iter().map(|p| p.line).collect();
        let expected: Vec<_> = (0..3 * BATCH_ROWS as u64)
            .filter(|i| i % 1000 == 7)
            .map(|i| Some(i + 2))
            .collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn a_character_split_by_the_separator_does_not_panic() {
        // Valid UTF-8 elsewhere makes the file UTF-8; "\xC3;\xA5" joined is 'å', apart neither.
        let (rows, _) = rows(
            "a;b\nÅse;Ødegård\nBjørn;Sæther\n"
                .as_bytes()
                .iter()
                .chain(b"\xC3;\xA5\n")
                .copied()
                .collect::<Vec<_>>()
                .as_slice(),
        );
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2], (4, String::new(), String::new()));
    }

    #[test]
    fn a_file_dropped_before_its_end_stops_its_thread() {
        let mut content = b"a;b\n".to_vec();
        content.extend("1;2\n".repeat(10 * BATCH_ROWS).as_bytes());
        let (_dir, file) = open_text(&content);
        let mut file = file.unwrap();
        assert!(file.next_row(&mut Problems::default()).is_some());
        // Dropping joins the reading thread, which is blocked on a full channel: this must end.
        drop(file);
    }

    #[test]
    fn refuses_what_is_not_a_semicolon_csv() {
        let what = |content: &[u8]| open_text(content).1.err().unwrap().what;
        assert!(what(b"").contains("empty"));
        assert!(what(b"\xff\xfea\0;\0b\0").contains("UTF-16"));
        assert!(what(b"a;b\n\x00\x01\x02\x03").contains("binary"));
        assert!(what(b"a,b\n1,2\n").contains("separated by ','"));
        assert!(what(b"b;c\n1;2\n").contains("lacks the column a"));
    }

    /// What `LineLimited` counts after reading `bytes` in chunks of `chunk` bytes.
    fn counted(bytes: &[u8], chunk: usize) -> usize {
        let mut limited = LineLimited::new(Cursor::new(bytes.to_vec()));
        let mut buf = vec![0; chunk];
        while limited.read(&mut buf).unwrap() > 0 {}
        limited.since_newline
    }

    #[test]
    fn a_line_break_inside_quotes_does_not_end_the_line() {
        for chunk in [1, 3, 64] {
            // Quoted values with "" and line breaks inside, then a line after them.
            assert_eq!(counted(b"a;\"x\"\"\ny\";b\nabc", chunk), 3, "{chunk}");
            // Still inside the quotes: the count goes on from the opening line.
            assert_eq!(counted(b"a;\"x\nyz", chunk), 7, "{chunk}");
            // A quote in the middle of an unquoted value is a character, as the csv
            // reader takes it: the next line break ends the line.
            assert_eq!(counted(b"a;b\"c\nxy", chunk), 2, "{chunk}");
        }
    }
}
