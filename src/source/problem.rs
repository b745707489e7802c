//! What a reader found wrong, located so an operator can open the file and fix it.
//!
//! Invariant 4: a problem never carries an identity number or a name. Values from other
//! columns are shown through [`shown_value`], which also masks anything that looks like an
//! identity number in case columns were shifted.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The file (or source) the problem is in, as the operator knows it: `services.csv`.
    pub file: String,
    /// 1-based line of the record (row of the result, for a query); `None` for a problem
    /// with the whole file.
    pub line: Option<u64>,
    /// The problem is in the result of a database query, whose rows have no line numbers.
    pub query: bool,
    pub column: Option<String>,
    /// What is wrong, in plain words.
    pub what: String,
    /// What to do about it.
    pub fix: String,
    /// The file (or the rest of it) could not be read at all.
    pub fatal: bool,
}

impl Problem {
    pub fn file(file: &str, what: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem {
            file: file.to_string(),
            line: None,
            query: false,
            column: None,
            what: what.into(),
            fix: fix.into(),
            fatal: true,
        }
    }

    pub fn row(file: &str, line: u64, what: impl Into<String>, fix: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            fatal: false,
            ..Problem::file(file, what, fix)
        }
    }

    /// A whole-file problem that still points at a line (the header, a line too long).
    pub fn with_line(mut self, line: u64) -> Problem {
        self.line = Some(line);
        self
    }

    /// A problem with one row of `place`.
    pub fn at(
        place: &Place,
        line: u64,
        what: impl Into<String>,
        fix: impl Into<String>,
    ) -> Problem {
        Problem {
            query: place.query,
            ..Problem::row(&place.name, line, what, fix)
        }
    }

    /// A problem with a whole file or query that still lets it be read.
    pub fn not_fatal(mut self) -> Problem {
        self.fatal = false;
        self
    }

    pub fn in_column(mut self, column: &str) -> Problem {
        self.column = Some(column.to_string());
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        match self.line {
            Some(line) if self.query => write!(f, " row {line}")?,
            Some(line) => write!(f, ":{line}")?,
            None => {}
        }
        if let Some(column) = &self.column {
            write!(f, " column {column}")?;
        }
        write!(f, ": {}", self.what)?;
        if !self.fix.is_empty() {
            write!(f, " — {}", self.fix)?;
        }
        Ok(())
    }
}

/// Where rows come from, as problems name it: a file, or a source's query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// `services.csv`, or `new-epj services query`.
    pub name: String,
    pub query: bool,
}

/// Collects problems: counts all of them, keeps the first `keep` for display.
#[derive(Debug)]
pub struct Problems {
    kept: Vec<Problem>,
    keep: usize,
    total: u64,
    fatal: u64,
}

impl Default for Problems {
    fn default() -> Self {
        Problems::keeping(1000)
    }
}

impl Problems {
    pub fn keeping(keep: usize) -> Problems {
        Problems {
            kept: Vec::new(),
            keep,
            total: 0,
            fatal: 0,
        }
    }

    pub fn push(&mut self, problem: Problem) {
        self.total += 1;
        if problem.fatal {
            self.fatal += 1;
        }
        // Fatal problems are always kept: there are few, and each stops a file.
        if self.kept.len() < self.keep || problem.fatal {
            self.kept.push(problem);
        }
    }

    pub fn kept(&self) -> &[Problem] {
        &self.kept
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Whether some file could not be read at all.
    pub fn any_fatal(&self) -> bool {
        self.fatal > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_column() {
        let p = Problem::row(
            "services.csv",
            12,
            "'31.02.2025' is not a date",
            "write YYYY-MM-DD",
        )
        .in_column("start_date");
        assert_eq!(
            p.to_string(),
            "services.csv:12 column start_date: '31.02.2025' is not a date — write YYYY-MM-DD"
        );
    }

    #[test]
    fn keeps_fatal_problems_beyond_the_limit() {
        let mut problems = Problems::keeping(1);
        problems.push(Problem::row("a.csv", 1, "x", ""));
        problems.push(Problem::row("a.csv", 2, "x", ""));
        problems.push(Problem::file("b.csv", "y", ""));
        assert_eq!(problems.total(), 3);
        assert_eq!(problems.kept().len(), 2);
        assert!(problems.any_fatal());
    }
}
