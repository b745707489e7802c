//! openssl's streaming CMS, from file to file, for messages too large to hold (the annual
//! message runs to hundreds of MB): the content passes through in pieces, and the output is
//! BER with indefinite lengths, which is what lets openssl write it before knowing its size.
//!
//! The openssl crate has no streaming CMS, so openssl-sys is used directly, and what it lacks
//! is declared below. Each pointer is owned by one Rust value that frees it.
//!
//! openssl's `i2d_CMS_bio_stream` discards the result of its final flush, and older versions
//! that of each write too (a full disk left a short file and a success); a read failure it
//! reports in openssl's words. So after streaming, both files are asked whether anything
//! failed (`ferror`), and so named; then any error openssl queued during the call counts.

use std::ffi::{CStr, CString, c_int, c_void};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use foreign_types::ForeignTypeRef;
use openssl::error::ErrorStack;
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::StackRef;
use openssl::x509::{X509, X509Ref};
use openssl_sys as ffi;

/// `CMS_BINARY | CMS_STREAM`: the bytes as they are (no MIME canonicalisation), in pieces.
const FLAGS: u32 = ffi::CMS_BINARY | ffi::CMS_STREAM;

/// `BIO_C_GET_FILE_PTR` (bio.h): the `FILE *` behind a file BIO.
const BIO_C_GET_FILE_PTR: c_int = 107;

/// What openssl-sys does not declare: from openssl's cms.h and bio.h, and C's stdio.h.
mod missing {
    use std::ffi::{c_char, c_int, c_void};

    use openssl_sys::{BIO, CMS_ContentInfo};

    unsafe extern "C" {
        pub fn i2d_CMS_bio_stream(
            out: *mut BIO,
            cms: *mut CMS_ContentInfo,
            input: *mut BIO,
            flags: c_int,
        ) -> c_int;
        pub fn BIO_new_file(filename: *const c_char, mode: *const c_char) -> *mut BIO;
        /// `int ferror(FILE *)`; the `FILE` is opaque here.
        pub fn ferror(stream: *mut c_void) -> c_int;
    }
}

/// Why streaming failed.
#[derive(Debug)]
pub(super) enum StreamError {
    /// openssl failed (its reasons).
    Openssl(ErrorStack),
    /// The input could not be read in full.
    Read,
    /// The output could not be written in full.
    Write,
}

/// A file opened by openssl, closed when dropped.
pub(super) struct FileBio(NonNull<ffi::BIO>);

impl FileBio {
    /// Opens `path` for reading (`c"rb"`) or writing (`c"wb"`, created or emptied).
    pub(super) fn open(path: &Path, mode: &CStr) -> io::Result<FileBio> {
        let name = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the path holds a NUL"))?;
        // SAFETY: both are NUL-terminated strings that outlive the call; openssl copies
        // nothing it keeps from them.
        let bio = unsafe { missing::BIO_new_file(name.as_ptr(), mode.as_ptr()) };
        // fopen's errno, taken before anything else can change it.
        let failure = io::Error::last_os_error();
        match NonNull::new(bio) {
            Some(bio) => Ok(FileBio(bio)),
            None => {
                // openssl queued its own copy of the reason; it is not left for the next call.
                drop(ErrorStack::get());
                Err(failure)
            }
        }
    }

    /// Writes out what is buffered; false if that fails.
    fn flush(&self) -> bool {
        // SAFETY: the BIO is alive; a flush takes no argument.
        unsafe { ffi::BIO_ctrl(self.0.as_ptr(), ffi::BIO_CTRL_FLUSH, 0, ptr::null_mut()) > 0 }
    }

    /// Whether reading or writing the file has failed at any point so far.
    fn failed(&self) -> bool {
        let mut file: *mut c_void = ptr::null_mut();
        // SAFETY: the BIO is a file BIO, alive; BIO_C_GET_FILE_PTR stores its `FILE *` in
        // `file`, which ferror only reads, while the BIO keeps it open.
        unsafe {
            ffi::BIO_ctrl(
                self.0.as_ptr(),
                BIO_C_GET_FILE_PTR,
                0,
                (&raw mut file).cast::<c_void>(),
            );
            file.is_null() || missing::ferror(file) != 0
        }
    }
}

impl Drop for FileBio {
    fn drop(&mut self) {
        // SAFETY: the BIO came from BIO_new_file, is no longer in any chain (openssl pops
        // what it pushed on it), and is freed only here, which closes the file.
        unsafe { ffi::BIO_free_all(self.0.as_ptr()) }
    }
}

/// A CMS structure whose content is still to come, freed when dropped.
pub(super) struct Cms(NonNull<ffi::CMS_ContentInfo>);

impl Cms {
    /// SignedData by `certificate` and `key`, content attached, the certificate included.
    pub(super) fn signed(certificate: &X509Ref, key: &PKeyRef<Private>) -> Result<Cms, ErrorStack> {
        // SAFETY: certificate and key are alive for the call, and openssl takes references
        // of its own to what it keeps; with CMS_STREAM no content is read here (null data).
        let cms = unsafe {
            ffi::CMS_sign(
                certificate.as_ptr(),
                key.as_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
                FLAGS,
            )
        };
        NonNull::new(cms).map(Cms).ok_or_else(ErrorStack::get)
    }

    /// EnvelopedData for `recipients`, AES-256-CBC.
    pub(super) fn enveloped(recipients: &StackRef<X509>) -> Result<Cms, ErrorStack> {
        // SAFETY: the stack is alive for the call, and openssl takes references of its own to
        // the certificates it keeps (not the stack); the cipher is a static table; with
        // CMS_STREAM no content is read here.
        let cms = unsafe {
            ffi::CMS_encrypt(
                recipients.as_ptr(),
                ptr::null_mut(),
                ffi::EVP_aes_256_cbc(),
                FLAGS,
            )
        };
        NonNull::new(cms).map(Cms).ok_or_else(ErrorStack::get)
    }

    /// Writes the structure to `output`, the content read from `input` on the way.
    pub(super) fn stream(&self, input: &FileBio, output: &FileBio) -> Result<(), StreamError> {
        // What an earlier call left in this thread's queue is not this call's failure.
        drop(ErrorStack::get());
        // SAFETY: all three are alive for the call; openssl pushes its filters onto `output`
        // and pops and frees them before returning, leaving both BIOs as they were.
        let written = unsafe {
            missing::i2d_CMS_bio_stream(
                output.0.as_ptr(),
                self.0.as_ptr(),
                input.0.as_ptr(),
                FLAGS as c_int,
            )
        };
        // A file's failure first: openssl queues it as one of its own, in less helpful words.
        let read_failed = input.failed();
        let write_failed = !output.flush() || output.failed();
        let errors = ErrorStack::get();
        if read_failed {
            return Err(StreamError::Read);
        }
        if write_failed {
            return Err(StreamError::Write);
        }
        if written != 1 || !errors.errors().is_empty() {
            return Err(StreamError::Openssl(errors));
        }
        Ok(())
    }
}

impl Drop for Cms {
    fn drop(&mut self) {
        // SAFETY: the structure came from CMS_sign or CMS_encrypt and is freed only here.
        unsafe { ffi::CMS_ContentInfo_free(self.0.as_ptr()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::x509::X509Name;

    /// A throwaway self-signed certificate and its key.
    fn pair() -> (X509, PKey<Private>) {
        let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let mut name = X509Name::builder().unwrap();
        name.append_entry_by_text("CN", "stream test").unwrap();
        let name = name.build();
        let mut builder = X509::builder().unwrap();
        builder.set_version(2).unwrap();
        builder.set_subject_name(&name).unwrap();
        builder.set_issuer_name(&name).unwrap();
        builder.set_pubkey(&key).unwrap();
        builder
            .set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        builder
            .set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        builder.sign(&key, MessageDigest::sha256()).unwrap();
        (builder.build(), key)
    }

    #[test]
    fn a_file_that_fails_part_of_the_way_is_named_as_the_failure() {
        let (certificate, key) = pair();
        let dir = tempfile::tempdir().unwrap();
        let document = dir.path().join("document.xml");
        std::fs::write(&document, vec![b'x'; 1 << 20]).unwrap();
        let signed = dir.path().join("signed.der");
        let cms = Cms::signed(&certificate, &key).unwrap();

        let (input, output) = (
            FileBio::open(&document, c"rb").unwrap(),
            FileBio::open(&signed, c"wb").unwrap(),
        );
        cms.stream(&input, &output).unwrap();
        drop(output);
        assert!(std::fs::metadata(&signed).unwrap().len() > 1 << 20);

        // A full disk: every write fails, and the output file says so.
        let full = FileBio::open(Path::new("/dev/full"), c"wb").unwrap();
        let input = FileBio::open(&document, c"rb").unwrap();
        let cms = Cms::signed(&certificate, &key).unwrap();
        assert!(matches!(cms.stream(&input, &full), Err(StreamError::Write)));

        // A directory opens, and every read of it fails.
        let unreadable = FileBio::open(dir.path(), c"rb").unwrap();
        let output = FileBio::open(&signed, c"wb").unwrap();
        let cms = Cms::signed(&certificate, &key).unwrap();
        assert!(matches!(
            cms.stream(&unreadable, &output),
            Err(StreamError::Read)
        ));

        let missing = FileBio::open(&dir.path().join("missing"), c"rb")
            .err()
            .unwrap();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(ErrorStack::get().errors().is_empty(), "nothing left queued");
    }
}
