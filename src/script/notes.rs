//! Notes a signing leaves for the user (`note: notAfter clamped to the CA's ...`), held until
//! the run succeeds: a certificate a re-run only compared with the file on disk (and kept)
//! leaves none, and a refusal stays one line.

use std::sync::Mutex;

use crate::pki::Certificate;

/// The notes of the certificates signed so far, by certificate.
#[derive(Debug, Default)]
pub(crate) struct Notes(Mutex<Vec<(String, String)>>);

impl Notes {
    /// Holds `notes` about `cert`.
    pub(crate) fn add(&self, cert: &Certificate, notes: &[String]) {
        if notes.is_empty() {
            return;
        }
        let fingerprint = cert.fingerprint_sha256();
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.extend(notes.iter().map(|n| (fingerprint.clone(), n.clone())));
    }

    /// Drops the notes about `cert` (a certificate that is not written).
    pub(crate) fn drop_for(&self, cert: &Certificate) {
        let fingerprint = cert.fingerprint_sha256();
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held.retain(|(f, _)| *f != fingerprint);
    }

    /// Prints the notes held, in the order they were made, on stderr.
    pub(crate) fn flush(&self) {
        let mut held = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (_, note) in held.drain(..) {
            eprintln!("note: {note}");
        }
    }
}
