//! The checking subcommands: `pkirun verify` (chains, names, purposes, key matches, like
//! `openssl verify`) and `pkirun expiry` (what expires when, like `kubeadm certs
//! check-expiration`). They read files given on the command line, outside any workspace, and
//! never write.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rayon::prelude::*;

use crate::pki::verify::{self, Purpose, VerifyOptions};
use crate::pki::{Certificate, Crl, Key, pem, rfc3339};

/// Errors of the checking commands: a file that cannot be used (a failed verification is an
/// outcome, not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read.
    #[error("`{path}`: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A CRL file that cannot be used.
    #[error("`{path}`: {source}")]
    Crl {
        /// The file.
        path: String,
        /// What is wrong with it.
        #[source]
        source: crate::pki::CrlError,
    },
    /// A file holds no usable certificate or key.
    #[error("`{path}`: {source}")]
    Content {
        /// The file.
        path: String,
        /// What is wrong with it.
        #[source]
        source: crate::pki::Error,
    },
}

/// The outcome of verifying one certificate file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Verdict {
    /// The file.
    pub file: String,
    /// `None` when it verified; otherwise why not.
    pub error: Option<String>,
    /// The chain's subjects from the certificate to the trusted CA (empty on failure).
    pub chain: Vec<String>,
}

/// What `pkirun verify` checks besides the chain.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    /// Trusted CA certificate files (bundles allowed).
    pub ca: Vec<PathBuf>,
    /// Intermediate certificate files, not trusted by themselves.
    pub untrusted: Vec<PathBuf>,
    /// Host name or IP address the certificates must carry.
    pub host: Option<String>,
    /// TLS purpose the certificates must allow.
    pub purpose: Option<Purpose>,
    /// A private key that must belong to the (single) certificate.
    pub key: Option<PathBuf>,
    /// Verify at this time instead of now.
    pub at: Option<SystemTime>,
    /// CRL files (`X509 CRL` PEM blocks, several per file allowed): check revocation as
    /// `openssl verify -crl_check -CRLfile` does.
    pub crls: Vec<PathBuf>,
}

/// Verifies each certificate file (its first certificate; the others in the file are taken
/// as untrusted intermediates) against the request, on all cores; verdicts in file order.
///
/// # Errors
/// A CA, intermediate, key or certificate file that cannot be read or holds no certificate.
pub fn verify_files(certs: &[PathBuf], req: &VerifyRequest) -> Result<Vec<Verdict>, Error> {
    let trusted = load_all(&req.ca)?;
    let untrusted = load_all(&req.untrusted)?;
    let key = req
        .key
        .as_deref()
        .map(|path| {
            let text = read(path)?;
            Key::from_pem(&text).map_err(|source| content(path, source))
        })
        .transpose()?;
    let opts = VerifyOptions {
        at: req.at.unwrap_or_else(SystemTime::now),
        host: req.host.clone(),
        purpose: req.purpose,
        crls: load_crls(&req.crls)?,
    };
    // Reading is sequential (errors stop the run in order); checking runs on all cores.
    let mut loaded = Vec::with_capacity(certs.len());
    for path in certs {
        let mut in_file = certificates(path)?;
        let cert = in_file.remove(0);
        loaded.push((path, cert, in_file));
    }
    let verdicts = loaded
        .par_iter()
        .map(|(path, cert, bundled)| {
            let mut chain_from = untrusted.clone();
            chain_from.extend(bundled.iter().cloned());
            let mut outcome =
                verify::verify(cert, &trusted, &chain_from, &opts).map_err(|e| e.to_string());
            if let (Ok(_), Some(key)) = (&outcome, &key)
                && !verify::key_matches(cert, key)
            {
                outcome = Err(format!(
                    "the key `{}` does not belong to this certificate",
                    req.key.as_deref().unwrap_or(Path::new("")).display()
                ));
            }
            let (error, chain) = match outcome {
                Ok(chain) => (None, chain),
                Err(e) => (Some(e), Vec::new()),
            };
            Verdict {
                file: path.display().to_string(),
                error,
                chain,
            }
        })
        .collect();
    Ok(verdicts)
}

/// One certificate found by [`expiry`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Expiry {
    /// The file (and, for a bundle, `#N` for the N-th certificate in it).
    pub file: String,
    /// The subject as openssl prints it.
    pub subject: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// Seconds from now to notAfter (negative: expired).
    pub residual_seconds: i64,
    /// basicConstraints CA:TRUE.
    pub ca: bool,
    /// Expired, or expiring within the window asked for.
    pub due: bool,
}

/// File names `expiry` looks at inside directories (explicitly named files are always read).
const CERT_EXTENSIONS: [&str; 4] = ["pem", "crt", "cert", "cer"];

/// Every certificate in `paths` (files, or directories searched recursively for `.pem`,
/// `.crt`, `.cert` and `.cer` files; keys and CSRs among them are skipped), soonest expiry
/// first; `due` marks those expired or expiring within `within` of `now`.
///
/// # Errors
/// A path that cannot be read, or a named file without a certificate.
pub fn expiry(paths: &[PathBuf], within: Duration, now: SystemTime) -> Result<Vec<Expiry>, Error> {
    let mut files = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|source| read_error(path, source))?;
        if meta.is_dir() {
            walk(path, &mut files)?;
        } else {
            files.push((path.clone(), certificates(path)?));
        }
    }
    let deadline = now + within;
    let mut out = Vec::new();
    for (path, certs) in files {
        let several = certs.len() > 1;
        for (i, cert) in certs.iter().enumerate() {
            let file = if several {
                format!("{}#{}", path.display(), i + 1)
            } else {
                path.display().to_string()
            };
            let not_after = cert.not_after();
            let residual_seconds = match not_after.duration_since(now) {
                Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
            };
            out.push(Expiry {
                file,
                subject: cert.subject().map(|n| n.to_string()).unwrap_or_default(),
                not_after: rfc3339(not_after),
                residual_seconds,
                ca: cert.is_ca(),
                due: not_after <= deadline,
            });
        }
    }
    out.sort_by(|a, b| {
        a.residual_seconds
            .cmp(&b.residual_seconds)
            .then_with(|| a.file.cmp(&b.file))
    });
    Ok(out)
}

/// A residual time as kubeadm shows it: `364d`, `23h`, `expired`.
#[must_use]
pub fn residual_text(seconds: i64) -> String {
    if seconds <= 0 {
        "expired".into()
    } else if seconds >= 86_400 {
        format!("{}d", seconds / 86_400)
    } else if seconds >= 3_600 {
        format!("{}h", seconds / 3_600)
    } else {
        format!("{}m", (seconds + 59) / 60)
    }
}

/// Collects the certificate files under `dir`, sorted, skipping unreadable PEM-less files.
fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<Certificate>)>) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| read_error(dir, source))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let meta = std::fs::symlink_metadata(&path).map_err(|source| read_error(&path, source))?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if meta.is_file()
            && path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| CERT_EXTENSIONS.contains(&e))
        {
            // Keys (0400, maybe unreadable to this user) and CSRs share these extensions:
            // only files that hold certificates count.
            if let Ok(certs) = certificates(&path) {
                out.push((path, certs));
            }
        }
    }
    Ok(())
}

/// Every certificate in the PEM files `paths`.
/// Every CRL of the files, in order; a file without one is an error naming what it holds.
fn load_crls(paths: &[PathBuf]) -> Result<Vec<Crl>, Error> {
    let mut all = Vec::new();
    for path in paths {
        let text = read(path)?;
        let crl_error = |source| Error::Crl {
            path: path.display().to_string(),
            source,
        };
        if text.first() == Some(&0x30) {
            all.push(Crl::from_der(&text).map_err(crl_error)?);
            continue;
        }
        let blocks = pem::parse_blocks(&text).map_err(|source| content(path, source))?;
        let before = all.len();
        for block in blocks.iter().filter(|b| b.label == "X509 CRL") {
            all.push(Crl::from_der(&block.der).map_err(crl_error)?);
        }
        if all.len() == before {
            return Err(content(
                path,
                crate::pki::Error::Pem(format!(
                    "no X509 CRL block (found: {})",
                    pem::PemBlock::labels(&blocks)
                )),
            ));
        }
    }
    Ok(all)
}

fn load_all(paths: &[PathBuf]) -> Result<Vec<Certificate>, Error> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(certificates(path)?);
    }
    Ok(all)
}

/// The certificates of a PEM file, in order, at least one: a file without any is an error
/// naming the blocks it holds.
fn certificates(path: &Path) -> Result<Vec<Certificate>, Error> {
    let text = read(path)?;
    let blocks = pem::parse_blocks(&text).map_err(|source| content(path, source))?;
    let certs = blocks
        .iter()
        .filter(|b| b.label == "CERTIFICATE")
        .map(|b| Certificate::from_der(&b.der).map_err(|source| content(path, source)))
        .collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err(content(
            path,
            crate::pki::Error::NoPemBlock {
                expected: "certificate",
                found: pem::PemBlock::labels(&blocks),
            },
        ));
    }
    Ok(certs)
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| read_error(path, source))
}

fn read_error(path: &Path, source: std::io::Error) -> Error {
    Error::Read {
        path: path.display().to_string(),
        source,
    }
}

fn content(path: &Path, source: crate::pki::Error) -> Error {
    Error::Content {
        path: path.display().to_string(),
        source,
    }
}
