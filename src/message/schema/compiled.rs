//! A schema compiled by libxml2, and documents validated against it: a tree in memory, or a
//! file as libxml2's SAX parser streams it, so that memory does not grow with its size. Each
//! compiled schema is used by one validation at a time, with a context made per call.

use std::ffi::{CString, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::{Mutex, PoisonError};

use super::SchemaError;
use super::collector::{Collector, collect, collecting};
use super::document::Doc;
use super::ffi::{self, init};
use super::invalid::{Invalid, unreadable};

pub(super) fn compile(
    path: &Path,
    dir: &Path,
    what: impl Fn() -> String,
) -> Result<Compiled, SchemaError> {
    let failed = |problems: Vec<String>| SchemaError::DoesNotCompile {
        what: what(),
        problems,
    };
    let location = path
        .to_str()
        .and_then(|p| CString::new(p).ok())
        .ok_or_else(|| failed(vec!["its path is not UTF-8 text".to_string()]))?;
    let (schema, reported) = collecting(|data| {
        // SAFETY: `location` outlives the parser context, which is freed before returning;
        // `data` is the collector `collect` expects, alive until `collecting` returns.
        unsafe {
            let context = ffi::xmlSchemaNewParserCtxt(location.as_ptr());
            if context.is_null() {
                return ptr::null_mut();
            }
            ffi::xmlSchemaSetParserStructuredErrors(context, Some(collect), data);
            let schema = ffi::xmlSchemaParse(context);
            ffi::xmlSchemaFreeParserCtxt(context);
            schema
        }
    });
    let schema = NonNull::new(schema).map(SchemaPtr);
    match schema {
        Some(schema) if reported.is_empty() => Ok(Compiled(Mutex::new(schema))),
        _ => Err(failed(reported.located(dir))),
    }
}

/// A compiled schema, used by one validation at a time.
pub(super) struct Compiled(Mutex<SchemaPtr>);

struct SchemaPtr(NonNull<ffi::Schema>);

// SAFETY: a compiled schema is not tied to the thread that compiled it; every use goes
// through the Mutex in `Compiled`.
unsafe impl Send for SchemaPtr {}

impl Drop for SchemaPtr {
    fn drop(&mut self) {
        // SAFETY: the pointer came from xmlSchemaParse and is freed only here.
        unsafe { ffi::xmlSchemaFree(self.0.as_ptr()) }
    }
}

/// Validates the document in `file` against `schema` as libxml2's SAX parser reads it, with a
/// validation context of its own. The parser's problems make it not XML, as a failed
/// [`read`](super::document::read) does; only when there are none do the validator's count.
pub(super) fn validate_file(schema: &Compiled, file: &Path) -> Result<(), Invalid> {
    let location = CString::new(file.as_os_str().as_bytes())
        .map_err(|_| unreadable(file, &"its path holds a NUL byte"))?;
    init();
    let schema = schema.0.lock().unwrap_or_else(PoisonError::into_inner);
    let (code, reported) = collecting(|data| {
        // SAFETY: the schema pointer is alive (owned by `schema`, locked), `location` outlives
        // the call, the context is freed before returning, and `data` is the collector
        // `collect` expects, alive until `collecting` returns. The parser libxml2 makes for the
        // file reports to the thread's handler, which `collecting` has set.
        unsafe {
            let context = ffi::xmlSchemaNewValidCtxt(schema.0.as_ptr());
            if context.is_null() {
                return -1;
            }
            ffi::xmlSchemaSetValidStructuredErrors(context, Some(collect), data);
            let code = ffi::xmlSchemaValidateFile(context, location.as_ptr(), 0);
            ffi::xmlSchemaFreeValidCtxt(context);
            code
        }
    });
    let (reading, validity) = reported.split();
    if !reading.is_empty() {
        return Err(Invalid::NotXml {
            problems: reading.problems("libxml2 could not read the document"),
        });
    }
    outcome(code, validity)
}

/// Validates `doc` against `schema` with a validation context of its own.
pub(super) fn validate(schema: &Compiled, doc: &Doc) -> Result<(), Invalid> {
    let schema = schema.0.lock().unwrap_or_else(PoisonError::into_inner);
    let (code, reported) = collecting(|data| {
        // SAFETY: the schema pointer is alive (owned by `schema`, locked), the document is
        // alive (owned by `doc`), the context is freed before returning, and `data` is the
        // collector `collect` expects, alive until `collecting` returns.
        unsafe {
            let context = ffi::xmlSchemaNewValidCtxt(schema.0.as_ptr());
            if context.is_null() {
                return -1;
            }
            ffi::xmlSchemaSetValidStructuredErrors(context, Some(collect), data);
            let code = ffi::xmlSchemaValidateDoc(context, doc.0.as_ptr());
            ffi::xmlSchemaFreeValidCtxt(context);
            code
        }
    });
    outcome(code, reported)
}

/// What libxml2's validation `code` and its problems mean.
fn outcome(code: c_int, reported: Collector) -> Result<(), Invalid> {
    match code {
        0 => Ok(()),
        code if code > 0 => Err(Invalid::DoesNotValidate {
            problems: reported.problems("the document does not validate"),
        }),
        code => Err(Invalid::DoesNotValidate {
            problems: reported.problems(&format!(
                "libxml2 could not validate (internal error {code}); try again, and report it \
                 if it persists"
            )),
        }),
    }
}
