//! Certificate verification the way `openssl verify` does it: a chain from the certificate to
//! one of the trusted CA certificates (through untrusted intermediates if needed), every
//! signature, and every certificate of the chain checked, the trust anchor included: its
//! validity at the given time, its extensions (none unknown and critical, none twice, none
//! malformed), CA constraints, pathlen as RFC 5280 counts it, name constraints; and on request
//! a host name or IP address and a TLS purpose.
//!
//! Paths are built depth first with backtracking: when a candidate issuer fails (wrong key,
//! expired, not a CA, pathlen, name constraints, ...), the next candidate with the same name is
//! tried, up to [`MAX_CANDIDATES`] candidates in all. Revocation by CRL when CRLs are given
//! (`openssl verify -crl_check`); no OCSP, no certificate policies (a critical policy extension
//! fails as unknown).

mod constraints;
mod error;
mod name;
mod parsed;
mod path;
mod purpose;
mod revocation;

use std::time::SystemTime;

pub use constraints::{
    PresentedName, Violation, check as check_name_constraints, subtree_text,
    validate as validate_name_constraints,
};
pub use error::VerifyError;
pub use purpose::Purpose;

use super::cert::{Certificate, rfc3339};
use super::crl::Crl;
use super::key::Key;
use parsed::Parsed;

/// How many certificates a chain may hold (certificate, intermediates, trust anchor).
pub const MAX_DEPTH: usize = 16;

/// How many candidate issuers path building tries in all before giving up.
pub const MAX_CANDIDATES: usize = 64;

/// What to check besides the chain.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The time at which every certificate must be valid (`openssl verify -attime`).
    pub at: SystemTime,
    /// A DNS name or IP address the certificate must carry (`-verify_hostname`, `-verify_ip`).
    pub host: Option<String>,
    /// A TLS purpose the certificate must allow (`-purpose`).
    pub purpose: Option<Purpose>,
    /// CRLs to check the chain against (`-crl_check -CRLfile`); empty: no revocation check.
    pub crls: Vec<Crl>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            at: SystemTime::now(),
            host: None,
            purpose: None,
            crls: Vec::new(),
        }
    }
}

/// Verifies `cert` up to one of `trusted`, through `untrusted` intermediates if needed.
/// Returns the chain's subjects, the certificate first and the trusted CA last.
///
/// A trusted certificate ends the chain (its own signature is not checked, as in OpenSSL,
/// but its validity, extensions and constraints are); a self-signed certificate verifies only
/// if it is among `trusted`.
///
/// # Errors
/// The first check that fails on the certificate itself; otherwise, when no path works, the
/// failure met on the first candidate path.
pub fn verify(
    cert: &Certificate,
    trusted: &[Certificate],
    untrusted: &[Certificate],
    opts: &VerifyOptions,
) -> Result<Vec<String>, VerifyError> {
    let leaf = Parsed::new(cert)?;
    check_validity(&leaf, opts.at)?;
    if let Some(host) = &opts.host {
        name::check_host(&leaf, host)?;
    }
    if let Some(purpose) = opts.purpose {
        purpose::check_leaf(&leaf, purpose)?;
    }
    if trusted.iter().any(|t| t == cert) {
        return Ok(vec![leaf.subject]);
    }
    leaf.check_serial()?;
    let chain = path::build(leaf, trusted, untrusted, opts)?;
    if !opts.crls.is_empty() {
        revocation::check(&chain, &opts.crls, opts.at)?;
    }
    Ok(chain.into_iter().map(|c| c.subject).collect())
}

/// True when `key` is the private key of `cert` (their public keys are equal).
#[must_use]
pub fn key_matches(cert: &Certificate, key: &Key) -> bool {
    cert.public_key_der()
        .is_ok_and(|spki| spki.as_slice() == key.public_key_der())
}

/// notBefore <= `at` <= notAfter.
fn check_validity(cert: &Parsed<'_>, at: SystemTime) -> Result<(), VerifyError> {
    if at < cert.cert.not_before() {
        return Err(VerifyError::NotYetValid {
            subject: cert.subject.clone(),
            not_before: rfc3339(cert.cert.not_before()),
            at: rfc3339(at),
        });
    }
    if at > cert.cert.not_after() {
        return Err(VerifyError::Expired {
            subject: cert.subject.clone(),
            not_after: rfc3339(cert.cert.not_after()),
            at: rfc3339(at),
        });
    }
    Ok(())
}
