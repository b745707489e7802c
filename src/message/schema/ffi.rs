//! The part of libxml2 2.9's C interface used here (parser.h, xmlschemas.h, xmlerror.h,
//! xmlIO.h), written by hand, and its initialisation once per process.

use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;

pub(super) fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: called once, before any other libxml2 function of this process, as
        // libxml2 asks for threaded use. The loader refuses http:// and ftp:// for every
        // entity and schema import.
        unsafe {
            xmlInitParser();
            xmlSchemaInitTypes();
            xmlSetExternalEntityLoader(Some(xmlNoNetExternalEntityLoader));
        }
    });
}

/// `xmlDoc`, only ever behind a pointer.
#[repr(C)]
pub struct XmlDoc {
    _opaque: [u8; 0],
}

#[repr(C)]
pub struct Schema {
    _opaque: [u8; 0],
}

#[repr(C)]
pub struct SchemaParserCtxt {
    _opaque: [u8; 0],
}

#[repr(C)]
pub struct SchemaValidCtxt {
    _opaque: [u8; 0],
}

/// `xmlError`, as laid out in xmlerror.h; only read.
#[repr(C)]
pub struct XmlError {
    pub domain: c_int,
    pub code: c_int,
    pub message: *const c_char,
    /// `xmlErrorLevel`: 0 none, 1 warning, 2 error, 3 fatal.
    pub level: c_int,
    pub file: *const c_char,
    pub line: c_int,
    pub str1: *const c_char,
    pub str2: *const c_char,
    pub str3: *const c_char,
    pub int1: c_int,
    /// The column, when known.
    pub int2: c_int,
    pub ctxt: *mut c_void,
    pub node: *mut c_void,
}

pub const XML_ERR_ERROR: c_int = 2;
/// `XML_FROM_SCHEMASV`: the error domain of the schema validator.
pub const XML_FROM_SCHEMASV: c_int = 17;
pub const XML_PARSE_NONET: c_int = 1 << 11;
/// Line numbers past 65535 kept for validation errors.
pub const XML_PARSE_BIG_LINES: c_int = 1 << 22;

pub type StructuredErrorFunc = unsafe extern "C" fn(*mut c_void, *const XmlError);
/// `xmlExternalEntityLoader`; the parser context and input are opaque here.
pub type EntityLoader =
    unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void) -> *mut c_void;

#[link(name = "xml2")]
unsafe extern "C" {
    pub fn xmlInitParser();
    pub fn xmlSchemaInitTypes();
    pub fn xmlSetExternalEntityLoader(loader: Option<EntityLoader>);
    pub fn xmlNoNetExternalEntityLoader(
        url: *const c_char,
        id: *const c_char,
        context: *mut c_void,
    ) -> *mut c_void;
    pub fn xmlSetStructuredErrorFunc(data: *mut c_void, handler: Option<StructuredErrorFunc>);

    pub fn xmlReadMemory(
        buffer: *const c_char,
        size: c_int,
        url: *const c_char,
        encoding: *const c_char,
        options: c_int,
    ) -> *mut XmlDoc;
    pub fn xmlFreeDoc(doc: *mut XmlDoc);

    pub fn xmlSchemaNewParserCtxt(url: *const c_char) -> *mut SchemaParserCtxt;
    pub fn xmlSchemaSetParserStructuredErrors(
        context: *mut SchemaParserCtxt,
        handler: Option<StructuredErrorFunc>,
        data: *mut c_void,
    );
    pub fn xmlSchemaParse(context: *mut SchemaParserCtxt) -> *mut Schema;
    pub fn xmlSchemaFreeParserCtxt(context: *mut SchemaParserCtxt);
    pub fn xmlSchemaFree(schema: *mut Schema);

    pub fn xmlSchemaNewValidCtxt(schema: *mut Schema) -> *mut SchemaValidCtxt;
    pub fn xmlSchemaSetValidStructuredErrors(
        context: *mut SchemaValidCtxt,
        handler: Option<StructuredErrorFunc>,
        data: *mut c_void,
    );
    pub fn xmlSchemaValidateDoc(context: *mut SchemaValidCtxt, doc: *mut XmlDoc) -> c_int;
    /// Parses and validates in one stream; `options` is unused by libxml2 2.9.
    pub fn xmlSchemaValidateFile(
        context: *mut SchemaValidCtxt,
        filename: *const c_char,
        options: c_int,
    ) -> c_int;
    pub fn xmlSchemaFreeValidCtxt(context: *mut SchemaValidCtxt);
}
