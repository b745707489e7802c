//! Packing a message as KPR expects it (NHN's Helsenorge.Messaging rules), and unpacking
//! what comes back.
//!
//! Out: the whole MsgHead document is signed (CMS SignedData, content attached, binary: no
//! MIME canonicalisation that would change the XML's bytes) with our enterprise signing
//! certificate, then that DER is encrypted (CMS EnvelopedData, AES-256-CBC, RSA PKCS#1 v1.5
//! key transport, the recipient named by issuer and serial) to the other side's encryption
//! certificate. The DER is the AMQP body. A message too large to hold is packed from file to
//! file the same way, streamed: BER with indefinite lengths instead of DER, which openssl and
//! `unpack` read alike.
//!
//! In: decrypted with our encryption key — or, while certificates are being replaced, with
//! the previous one — then verified against the configured CA certificates. The signer must
//! have nonRepudiation, as NHN requires.
//!
//! - `load.rs`: the files as configured, read and checked at start-up (all problems at once).
//! - `pack.rs`, `unpack.rs`: the two directions.
//! - `stream.rs`: openssl's streaming CMS, file to file, for `Keys::pack_file`.
//! - `der.rs`: reads who a message is for and who signed it, for errors that say so.
//! - `describe.rs`: subjects, dates and key usages in words.
//! - `expiry.rs`: a certificate file's subject and end date, for `kpr-bridge status`.
//! - [`test_certificates`]: a throwaway CA and pairs made in-process, for demos and tests only.

pub mod at_rest;
mod der;
pub(crate) mod describe;
mod expiry;
mod load;
mod pack;
mod stream;
pub mod test_certificates;
mod unpack;

use std::fmt;
use std::sync::Arc;

use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use openssl::x509::store::X509Store;

pub use expiry::{Expiry, read_expiry};
pub use load::{CertificateError, CertificateFiles, Loaded, WARN_DAYS};
pub use pack::PackError;
pub use unpack::{UnpackError, Unpacked};

/// Certificates and keys, loaded and checked by [`Keys::load`]. Cheap to clone and safe to
/// share between threads: the material is read-only after loading.
#[derive(Clone)]
pub struct Keys {
    material: Arc<Material>,
}

struct Pair {
    certificate: X509,
    key: PKey<Private>,
}

struct Material {
    signing: Pair,
    encryption: Pair,
    /// Kept while the other side may still encrypt to the certificate we replaced.
    previous_encryption: Option<Pair>,
    /// The other side's encryption certificate: what we encrypt to.
    peer_encryption: X509,
    /// The CA certificates of those who sign to us, with purpose "any" (see `load.rs`).
    trust: X509Store,
    /// The only signers whose messages count; empty: any signer `trust` vouches for.
    pinned_signers: Vec<X509>,
}

/// Subjects and serials only: never the keys.
impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |certificate: &X509| {
            format!(
                "{} (serial {})",
                describe::subject(certificate),
                describe::serial(certificate)
            )
        };
        let m = &self.material;
        f.debug_struct("Keys")
            .field("signing", &shown(&m.signing.certificate))
            .field("encryption", &shown(&m.encryption.certificate))
            .field(
                "previous_encryption",
                &m.previous_encryption
                    .as_ref()
                    .map(|pair| shown(&pair.certificate)),
            )
            .field("peer_encryption", &shown(&m.peer_encryption))
            .finish_non_exhaustive()
    }
}
