//! Certificate verification the way `openssl verify` does it: a chain from the certificate to
//! one of the trusted CA certificates (through untrusted intermediates if needed), every
//! signature, every validity window, CA constraints, and on request a host name or IP address
//! and a TLS purpose.
//!
//! No revocation (CRLs, OCSP) and no name constraints: a certificate whose issuer chain carries
//! a critical extension this module does not understand fails, as in OpenSSL.

use std::net::IpAddr;
use std::time::SystemTime;

use const_oid::db::rfc5280;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::Decode;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use super::cert::{Certificate, rfc3339};
use super::key::Key;
use super::pubkey::PublicKey;
use super::san::San;

/// How deep a chain may go (certificate, intermediates, root).
const MAX_DEPTH: usize = 10;

/// Why a certificate does not verify. Each message names the certificate concerned by its
/// subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No trusted or intermediate certificate has the issuer's name and key.
    #[error(
        "`{subject}`: unable to get issuer certificate `{issuer}` (not among the CA certificates given)"
    )]
    NoIssuer {
        /// The certificate whose issuer is missing.
        subject: String,
        /// The issuer name it names.
        issuer: String,
    },
    /// A certificate with the issuer's name exists, but its key did not make the signature.
    #[error("`{subject}`: signature does not verify with the key of `{issuer}`")]
    BadSignature {
        /// The certificate whose signature failed.
        subject: String,
        /// The issuer whose key was tried.
        issuer: String,
    },
    /// Before notBefore.
    #[error("`{subject}`: not valid before {not_before}")]
    NotYetValid {
        /// The certificate.
        subject: String,
        /// notBefore, RFC 3339.
        not_before: String,
    },
    /// After notAfter.
    #[error("`{subject}`: expired at {not_after}")]
    Expired {
        /// The certificate.
        subject: String,
        /// notAfter, RFC 3339.
        not_after: String,
    },
    /// An issuer without basicConstraints CA:TRUE.
    #[error("`{subject}`: is not a CA (basicConstraints CA:TRUE missing) but issued `{issued}`")]
    NotCa {
        /// The issuer.
        subject: String,
        /// The certificate it signed.
        issued: String,
    },
    /// An issuer whose keyUsage lacks keyCertSign.
    #[error("`{subject}`: keyUsage lacks keyCertSign, so it may not sign certificates")]
    NoCertSign {
        /// The issuer.
        subject: String,
    },
    /// An issuer's pathLenConstraint is exceeded.
    #[error(
        "`{subject}`: pathlen:{pathlen} allows fewer intermediate CAs below it than the chain has"
    )]
    PathLength {
        /// The issuer.
        subject: String,
        /// Its pathLenConstraint.
        pathlen: u8,
    },
    /// A critical extension this verifier does not process.
    #[error("`{subject}`: unhandled critical extension {oid}")]
    UnhandledCritical {
        /// The certificate.
        subject: String,
        /// The extension's OID.
        oid: String,
    },
    /// The host or IP is not among the certificate's names.
    #[error("`{subject}`: `{host}` does not match its names ({names})")]
    HostMismatch {
        /// The certificate.
        subject: String,
        /// The host name or IP address asked for.
        host: String,
        /// The DNS and IP names it has, comma separated, or "none".
        names: String,
    },
    /// The certificate may not be used for the TLS purpose asked for.
    #[error("`{subject}`: not for {purpose}: {reason}")]
    Purpose {
        /// The certificate.
        subject: String,
        /// "TLS server" or "TLS client".
        purpose: &'static str,
        /// Which extension forbids it.
        reason: String,
    },
    /// The chain is longer than [`MAX_DEPTH`] or loops.
    #[error("`{subject}`: certificate chain too long")]
    TooLong {
        /// The certificate where the search stopped.
        subject: String,
    },
    /// A certificate field that cannot be decoded.
    #[error("`{subject}`: {reason}")]
    Malformed {
        /// The certificate.
        subject: String,
        /// What could not be decoded.
        reason: String,
    },
}

/// A TLS purpose (`openssl verify -purpose sslserver|sslclient`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `sslserver`: extendedKeyUsage serverAuth (if present); keyUsage digitalSignature or
    /// keyEncipherment (if present).
    TlsServer,
    /// `sslclient`: extendedKeyUsage clientAuth (if present); keyUsage digitalSignature or
    /// keyAgreement (if present).
    TlsClient,
}

impl Purpose {
    /// Parses `server`/`sslserver`/`serverAuth` or `client`/`sslclient`/`clientAuth`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "server" | "sslserver" | "serverAuth" => Some(Purpose::TlsServer),
            "client" | "sslclient" | "clientAuth" => Some(Purpose::TlsClient),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Purpose::TlsServer => "TLS server",
            Purpose::TlsClient => "TLS client",
        }
    }
}

/// What to check besides the chain.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The time at which every certificate must be valid (`openssl verify -attime`).
    pub at: SystemTime,
    /// A DNS name or IP address the certificate must carry (`-verify_hostname`, `-verify_ip`).
    pub host: Option<String>,
    /// A TLS purpose the certificate must allow (`-purpose`).
    pub purpose: Option<Purpose>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            at: SystemTime::now(),
            host: None,
            purpose: None,
        }
    }
}

/// Verifies `cert` up to one of `trusted`, through `untrusted` intermediates if needed.
/// Returns the chain's subjects, the certificate first and the trusted CA last.
///
/// A trusted certificate ends the chain (its own signature is not checked, as in OpenSSL); a
/// self-signed certificate verifies only if it is among `trusted`.
///
/// # Errors
/// The first check that fails, naming the certificate concerned.
pub fn verify(
    cert: &Certificate,
    trusted: &[Certificate],
    untrusted: &[Certificate],
    opts: &VerifyOptions,
) -> Result<Vec<String>, VerifyError> {
    let mut chain = vec![subject_of(cert)];
    check_validity(cert, opts.at)?;
    check_critical(cert)?;
    if let Some(host) = &opts.host {
        check_host(cert, host)?;
    }
    if let Some(purpose) = opts.purpose {
        check_purpose(cert, purpose)?;
    }
    let mut current = cert;
    // Intermediate CAs between the issuer being checked and the leaf (for pathlen).
    let mut below = 0usize;
    loop {
        if trusted.iter().any(|t| t == current) {
            return Ok(chain);
        }
        if chain.len() > MAX_DEPTH {
            return Err(VerifyError::TooLong {
                subject: subject_of(current),
            });
        }
        let issuer = find_issuer(current, trusted, untrusted)?;
        check_issuer(issuer, current, below)?;
        chain.push(subject_of(issuer));
        if trusted.iter().any(|t| t == issuer) {
            return Ok(chain);
        }
        if std::ptr::eq(issuer, current) {
            // Self-signed but not trusted.
            return Err(VerifyError::NoIssuer {
                subject: subject_of(current),
                issuer: subject_of(current),
            });
        }
        check_validity(issuer, opts.at)?;
        check_critical(issuer)?;
        below += 1;
        current = issuer;
    }
}

/// True when `key` is the private key of `cert` (their public keys are equal).
#[must_use]
pub fn key_matches(cert: &Certificate, key: &Key) -> bool {
    cert.public_key_der()
        .is_ok_and(|spki| spki.as_slice() == key.public_key_der())
}

/// The certificate among `trusted` then `untrusted` whose subject is `cert`'s issuer (byte
/// for byte) and whose key verifies `cert`'s signature.
fn find_issuer<'a>(
    cert: &Certificate,
    trusted: &'a [Certificate],
    untrusted: &'a [Certificate],
) -> Result<&'a Certificate, VerifyError> {
    let issuer_der = cert.issuer_der().map_err(|e| malformed(cert, &e))?;
    let mut named = None;
    for candidate in trusted.iter().chain(untrusted) {
        if candidate.subject_der().ok().as_deref() != Some(issuer_der.as_slice()) {
            continue;
        }
        if signed_by(cert, candidate) {
            return Ok(candidate);
        }
        named.get_or_insert(candidate);
    }
    Err(match named {
        Some(issuer) => VerifyError::BadSignature {
            subject: subject_of(cert),
            issuer: subject_of(issuer),
        },
        None => VerifyError::NoIssuer {
            subject: subject_of(cert),
            issuer: cert
                .issuer()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "?".into()),
        },
    })
}

/// Whether `issuer`'s key made `cert`'s signature.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Some((alg, tbs, signature)) = cert.signed_parts() else {
        return false;
    };
    issuer
        .public_key_der()
        .and_then(|spki| PublicKey::from_spki_der(&spki))
        .is_ok_and(|key| key.verify(alg, &tbs, signature))
}

/// An issuer must be a CA, allowed to sign certificates, with room for `below` intermediates.
fn check_issuer(
    issuer: &Certificate,
    issued: &Certificate,
    below: usize,
) -> Result<(), VerifyError> {
    let bc = extension::<BasicConstraints>(issuer)?;
    let Some(bc) = bc.filter(|bc| bc.ca) else {
        return Err(VerifyError::NotCa {
            subject: subject_of(issuer),
            issued: subject_of(issued),
        });
    };
    if let Some(ku) = extension::<KeyUsage>(issuer)?
        && !ku.0.contains(KeyUsages::KeyCertSign)
    {
        return Err(VerifyError::NoCertSign {
            subject: subject_of(issuer),
        });
    }
    if let Some(pathlen) = bc.path_len_constraint
        && below > usize::from(pathlen)
    {
        return Err(VerifyError::PathLength {
            subject: subject_of(issuer),
            pathlen,
        });
    }
    Ok(())
}

fn check_validity(cert: &Certificate, at: SystemTime) -> Result<(), VerifyError> {
    if at < cert.not_before() {
        return Err(VerifyError::NotYetValid {
            subject: subject_of(cert),
            not_before: rfc3339(cert.not_before()),
        });
    }
    if at > cert.not_after() {
        return Err(VerifyError::Expired {
            subject: subject_of(cert),
            not_after: rfc3339(cert.not_after()),
        });
    }
    Ok(())
}

/// Extensions this module understands (or that carry no constraint to enforce).
const HANDLED: [ObjectIdentifier; 6] = [
    rfc5280::ID_CE_BASIC_CONSTRAINTS,
    rfc5280::ID_CE_KEY_USAGE,
    rfc5280::ID_CE_EXT_KEY_USAGE,
    rfc5280::ID_CE_SUBJECT_ALT_NAME,
    rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
];

fn check_critical(cert: &Certificate) -> Result<(), VerifyError> {
    match cert
        .extensions()
        .iter()
        .find(|e| e.critical && !HANDLED.contains(&e.extn_id))
    {
        Some(e) => Err(VerifyError::UnhandledCritical {
            subject: subject_of(cert),
            oid: e.extn_id.to_string(),
        }),
        None => Ok(()),
    }
}

/// The host must be one of the certificate's DNS names (`*.x` matches one label) or, for an
/// IP address, one of its IP addresses. As `openssl verify -verify_hostname`, a certificate
/// without DNS names is matched on its commonName.
fn check_host(cert: &Certificate, host: &str) -> Result<(), VerifyError> {
    let sans = cert.sans();
    let matched = if let Ok(ip) = host.parse::<IpAddr>() {
        sans.iter().any(|s| matches!(s, San::Ip(a) if *a == ip))
    } else {
        let dns: Vec<&str> = sans
            .iter()
            .filter_map(|s| match s {
                San::Dns(d) => Some(d.as_str()),
                _ => None,
            })
            .collect();
        if dns.is_empty() {
            let cn = cert
                .subject()
                .ok()
                .and_then(|n| n.get("CN").map(str::to_owned));
            cn.is_some_and(|cn| dns_matches(&cn, host))
        } else {
            dns.iter().any(|pattern| dns_matches(pattern, host))
        }
    };
    if matched {
        return Ok(());
    }
    let names: Vec<String> = sans
        .iter()
        .filter(|s| matches!(s, San::Dns(_) | San::Ip(_)))
        .map(ToString::to_string)
        .collect();
    Err(VerifyError::HostMismatch {
        subject: subject_of(cert),
        host: host.to_owned(),
        names: if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        },
    })
}

/// Case-insensitive DNS match; a leading `*.` label matches exactly one label.
fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    let host = host.trim_end_matches('.');
    if let Some(suffix) = pattern.strip_prefix("*.") {
        return host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix));
    }
    pattern.eq_ignore_ascii_case(host)
}

fn check_purpose(cert: &Certificate, purpose: Purpose) -> Result<(), VerifyError> {
    let refuse = |reason: String| VerifyError::Purpose {
        subject: subject_of(cert),
        purpose: purpose.name(),
        reason,
    };
    let (wanted_eku, eku_name, ku_ok, ku_names) = match purpose {
        Purpose::TlsServer => (
            rfc5280::ID_KP_SERVER_AUTH,
            "serverAuth",
            KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment,
            "digitalSignature or keyEncipherment",
        ),
        Purpose::TlsClient => (
            rfc5280::ID_KP_CLIENT_AUTH,
            "clientAuth",
            KeyUsages::DigitalSignature | KeyUsages::KeyAgreement,
            "digitalSignature or keyAgreement",
        ),
    };
    if let Some(eku) = extension::<ExtendedKeyUsage>(cert)?
        && !eku
            .0
            .iter()
            .any(|oid| *oid == wanted_eku || *oid == rfc5280::ANY_EXTENDED_KEY_USAGE)
    {
        return Err(refuse(format!("extendedKeyUsage lacks {eku_name}")));
    }
    if let Some(ku) = extension::<KeyUsage>(cert)?
        && (ku.0 & ku_ok).is_empty()
    {
        return Err(refuse(format!("keyUsage has neither {ku_names}")));
    }
    Ok(())
}

/// A decoded extension, `None` if absent; an undecodable one is an error.
fn extension<T: for<'a> Decode<'a, Error = der::Error> + AssociatedOid>(
    cert: &Certificate,
) -> Result<Option<T>, VerifyError> {
    cert.decoded_extension::<T>()
        .map(|found| found.map(|(_, value)| value))
        .map_err(|err| VerifyError::Malformed {
            subject: subject_of(cert),
            reason: format!("extension {}: {err}", T::OID),
        })
}

fn malformed(cert: &Certificate, e: &dyn std::fmt::Display) -> VerifyError {
    VerifyError::Malformed {
        subject: subject_of(cert),
        reason: e.to_string(),
    }
}

/// The subject as openssl prints it, for messages.
fn subject_of(cert: &Certificate) -> String {
    cert.subject()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

#[cfg(test)]
mod tests {
    use super::dns_matches;

    #[test]
    fn wildcards_match_one_label_only() {
        assert!(dns_matches("*.db.internal", "node1.db.internal"));
        assert!(dns_matches("*.DB.internal", "Node1.db.internal."));
        assert!(!dns_matches("*.db.internal", "db.internal"));
        assert!(!dns_matches("*.db.internal", "a.b.db.internal"));
        assert!(!dns_matches("*.db.internal", ".db.internal"));
        assert!(dns_matches("localhost", "LOCALHOST"));
        assert!(!dns_matches("localhost", "localhost2"));
    }
}
