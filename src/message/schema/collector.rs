//! What libxml2 reports during one call, collected through its structured error handler:
//! errors only (not warnings), masked, at most a hundred of each kind, reading told apart from
//! validating (in a stream, a reading problem makes the document not XML).

use std::ffi::{CStr, c_char, c_void};
use std::path::Path;
use std::ptr;

use super::ffi;
use super::invalid::Problem;
use crate::redact::hide_identity_numbers;

/// Problems kept per document; a broken document can have one per line.
const KEEP: usize = 100;

/// What libxml2 reported during one call.
#[derive(Default)]
pub(super) struct Collector {
    kept: Vec<Reported>,
    /// Problems not kept, reading (true) or validating (false).
    more: [usize; 2],
}

struct Reported {
    file: Option<String>,
    line: u32,
    message: String,
    /// From reading the document (the parser, namespaces, input), not from validating it:
    /// with both in one call, as in a stream, these make the document not XML.
    reading: bool,
}

impl Collector {
    pub(super) fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }

    /// The problems of reading, and those of validating.
    pub(super) fn split(self) -> (Collector, Collector) {
        let (reading, validating) = self.kept.into_iter().partition(|r| r.reading);
        let [more_reading, more_validating] = self.more;
        (
            Collector {
                kept: reading,
                more: [more_reading, 0],
            },
            Collector {
                kept: validating,
                more: [0, more_validating],
            },
        )
    }

    fn more(&self) -> usize {
        self.more.iter().sum()
    }

    /// The problems for a document; `otherwise` when libxml2 gave no reason.
    pub(super) fn problems(self, otherwise: &str) -> Vec<Problem> {
        let more = self.more();
        let mut problems: Vec<Problem> = self
            .kept
            .into_iter()
            .map(|r| Problem {
                line: r.line,
                message: r.message,
            })
            .collect();
        if problems.is_empty() {
            problems.push(Problem {
                line: 0,
                message: otherwise.to_string(),
            });
        }
        if more > 0 {
            problems.push(Problem {
                line: 0,
                message: format!("{more} more problems, not kept"),
            });
        }
        problems
    }

    /// The problems for a schema, each with its file: `file:line: message`.
    pub(super) fn located(self, dir: &Path) -> Vec<String> {
        let more = self.more();
        let dir = dir.to_string_lossy();
        let mut located: Vec<String> = self
            .kept
            .into_iter()
            .map(|r| {
                let file = r.file.map(|file| {
                    let file = file.strip_prefix("file://").unwrap_or(&file);
                    match file.strip_prefix(dir.as_ref()) {
                        Some(built_in) => format!("(built in){built_in}"),
                        None => file.to_string(),
                    }
                });
                match (file, r.line) {
                    (Some(file), 0) => format!("{file}: {}", r.message),
                    (Some(file), line) => format!("{file}:{line}: {}", r.message),
                    (None, _) => r.message,
                }
            })
            .collect();
        if located.is_empty() {
            located.push("libxml2 gave no reason".to_string());
        }
        if more > 0 {
            located.push(format!("{more} more problems, not kept"));
        }
        located
    }
}

/// Runs `f` with libxml2's errors on this thread going to a fresh collector; `f` receives the
/// collector as the user data to give `xmlSchemaSet…StructuredErrors`.
pub(super) fn collecting<R>(f: impl FnOnce(*mut c_void) -> R) -> (R, Collector) {
    /// Puts the thread's handler back even if `f` panics.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            // SAFETY: resets this thread's handler (libxml2 keeps it per thread).
            unsafe { ffi::xmlSetStructuredErrorFunc(ptr::null_mut(), None) }
        }
    }
    let mut collector = Collector::default();
    let data = (&raw mut collector).cast::<c_void>();
    // SAFETY: `data` points at `collector`, which outlives the handler: `Reset` removes it
    // before `collector` is touched again or moved.
    unsafe { ffi::xmlSetStructuredErrorFunc(data, Some(collect)) };
    let reset = Reset;
    let result = f(data);
    drop(reset);
    (result, collector)
}

/// libxml2's structured error handler: keeps errors (not warnings), masked.
pub(super) unsafe extern "C" fn collect(data: *mut c_void, error: *const ffi::XmlError) {
    if data.is_null() || error.is_null() {
        return;
    }
    // SAFETY: `data` is the collector installed by `collecting` (the only user data this
    // handler is ever given), with no other reference to it alive during the libxml2 call;
    // `error` points at libxml2's error record, valid for the duration of the callback.
    let (collector, error) = unsafe { (&mut *data.cast::<Collector>(), &*error) };
    if error.level < ffi::XML_ERR_ERROR {
        return;
    }
    // Each kind kept on its own: a stream's one fatal parser error still counts after a
    // hundred validation errors.
    let reading = error.domain != ffi::XML_FROM_SCHEMASV;
    if collector
        .kept
        .iter()
        .filter(|r| r.reading == reading)
        .count()
        >= KEEP
    {
        collector.more[usize::from(!reading)] += 1;
        return;
    }
    // SAFETY: non-null strings in an error record are NUL-terminated C strings.
    let text = |p: *const c_char| (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) });
    let message = match text(error.message) {
        Some(message) => hide_identity_numbers(message.to_string_lossy().trim_end()),
        None => "libxml2 reported an error without a message".to_string(),
    };
    collector.kept.push(Reported {
        file: text(error.file).map(|f| f.to_string_lossy().into_owned()),
        line: u32::try_from(error.line).unwrap_or(0),
        message,
        reading,
    });
}
