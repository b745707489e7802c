//! Placeholder until the crypto branch lands (replaced at merge).
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFiles {
    pub signing_certificate: PathBuf,
    pub signing_key: PathBuf,
    pub encryption_certificate: PathBuf,
    pub encryption_key: PathBuf,
    pub previous_encryption: Option<(PathBuf, PathBuf)>,
    pub peer_encryption_certificate: PathBuf,
    pub trust: Vec<PathBuf>,
}
