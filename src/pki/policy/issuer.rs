//! The CA checked before it signs: valid now, `CA:TRUE`, keyCertSign, a pathlen that allows
//! what is asked, not signed with SHA-1, and valid for the whole life of what it signs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use x509_cert::ext::pkix::constraints::name::NameConstraints;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};

use super::{SHA1_SIGNATURES, escape};
use crate::pki::cert::{Certificate, rfc3339};
use crate::pki::error::{Error, Result};
use crate::pki::profile::Profile;

/// What a CA certificate allows, read once when the CA is loaded or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerFacts {
    subject: String,
    not_before: SystemTime,
    not_after: SystemTime,
    ca: bool,
    path_len: Option<u8>,
    key_cert_sign: bool,
    sha1: bool,
    /// When this process made the CA (`None` for a loaded one).
    made: Option<SystemTime>,
    /// The CA's nameConstraints: what it may sign.
    name_constraints: Option<NameConstraints>,
}

/// `t` without its fraction of a second, as a certificate's time holds it.
fn whole_seconds(t: SystemTime) -> SystemTime {
    t.duration_since(UNIX_EPOCH)
        .map_or(t, |d| UNIX_EPOCH + Duration::from_secs(d.as_secs()))
}

fn refuse(facts: &IssuerFacts, rule: String) -> Error {
    Error::CaRefused {
        ca: facts.subject.clone(),
        rule,
    }
}

impl IssuerFacts {
    /// Reads the facts of `cert`; `made` is when this process made it, if it did.
    ///
    /// # Errors
    /// A basicConstraints or keyUsage extension that does not decode.
    pub fn of(cert: &Certificate, made: Option<SystemTime>) -> Result<Self> {
        let subject = escape(&cert.subject()?.to_string());
        let bc = cert
            .decoded_extension::<BasicConstraints>()
            .map_err(|e| Error::InvalidCertificate(format!("basicConstraints: {e}")))?;
        let ku = cert
            .decoded_extension::<KeyUsage>()
            .map_err(|e| Error::InvalidCertificate(format!("keyUsage: {e}")))?;
        Ok(IssuerFacts {
            subject,
            not_before: cert.not_before(),
            not_after: cert.not_after(),
            ca: bc.as_ref().is_some_and(|(_, b)| b.ca),
            path_len: bc.and_then(|(_, b)| b.path_len_constraint),
            // No keyUsage extension: the key may be used for anything (RFC 5280 4.2.1.3).
            key_cert_sign: ku.is_none_or(|(_, k)| k.key_cert_sign()),
            sha1: SHA1_SIGNATURES.contains(&cert.signature_algorithm_oid()),
            made,
            name_constraints: cert
                .decoded_extension::<NameConstraints>()
                .map_err(|e| Error::InvalidCertificate(format!("nameConstraints: {e}")))?
                .map(|(_, nc)| nc),
        })
    }

    /// Refuses names outside the CA's nameConstraints, naming the name and the rule.
    ///
    /// # Errors
    /// [`Error::CaRefused`] for the first name refused.
    pub fn check_names(&self, sans: &[crate::pki::San]) -> Result<()> {
        let Some(nc) = &self.name_constraints else {
            return Ok(());
        };
        match crate::pki::name_constraints::refused(nc, sans) {
            Some(why) => Err(refuse(self, format!("its nameConstraints refuse {why}"))),
            None => Ok(()),
        }
    }

    /// Checks that the CA may sign a certificate under `profile` at `now`, and returns the
    /// notAfter to write with, when it is clamped, the note that says so.
    ///
    /// A certificate that would outlive the CA is refused, or clamped to the CA's notAfter
    /// with `clamp_to_ca`. A CA made by this process may be outlived by the time since it was
    /// made: a leaf given the CA's own lifetime (`days: 365` for both, as the seed procedures
    /// do) ends those few seconds after its CA, and is signed as they sign it.
    ///
    /// # Errors
    /// [`Error::CaRefused`] for the first rule the CA breaks.
    pub fn check(
        &self,
        profile: &Profile,
        now: SystemTime,
        not_after: SystemTime,
    ) -> Result<(SystemTime, Option<String>)> {
        if now < self.not_before {
            return Err(refuse(
                self,
                format!("not valid before {}", rfc3339(self.not_before)),
            ));
        }
        if now > self.not_after {
            return Err(refuse(
                self,
                format!("expired at {}", rfc3339(self.not_after)),
            ));
        }
        if !self.ca {
            return Err(refuse(self, "its basicConstraints lacks CA:TRUE".into()));
        }
        if !self.key_cert_sign {
            return Err(refuse(self, "its keyUsage lacks keyCertSign".into()));
        }
        if self.sha1 && !profile.signing.allow_sha1 {
            return Err(refuse(
                self,
                "it is signed with SHA-1 (pass `allow_sha1: true` to sign with it anyway)".into(),
            ));
        }
        if let Some(bc) = profile.basic_constraints.filter(|b| b.ca) {
            match (self.path_len, bc.path_len) {
                (Some(0), _) => {
                    return Err(refuse(
                        self,
                        "its pathlen:0 allows no CA below it, and the profile issues a CA".into(),
                    ));
                }
                (Some(n), Some(m)) if m >= n => {
                    return Err(refuse(
                        self,
                        format!(
                            "its pathlen:{n} allows at most pathlen:{} below it, the profile asks for pathlen:{m}",
                            n - 1
                        ),
                    ));
                }
                _ => {}
            }
        }
        // Certificates hold whole seconds: compare as they will be written, and round the
        // tolerance up so that a leaf signed within the same second as its CA passes.
        let tolerance = self
            .made
            .and_then(|m| now.duration_since(m).ok())
            .map_or(Duration::ZERO, |d| {
                Duration::from_secs(d.as_secs() + u64::from(d.subsec_nanos() > 0))
            });
        if whole_seconds(not_after) <= self.not_after + tolerance {
            return Ok((not_after, None));
        }
        if profile.signing.clamp_to_ca {
            let note = format!(
                "notAfter clamped to the CA's, {} (the profile asked for {})",
                rfc3339(self.not_after),
                rfc3339(not_after)
            );
            return Ok((self.not_after.max(now), Some(note)));
        }
        if profile.signing.allow_outliving_ca {
            let note = format!(
                "the certificate outlives its CA: it ends at {}, the CA at {} (`allow_outliving_ca`)",
                rfc3339(not_after),
                rfc3339(self.not_after)
            );
            return Ok((not_after, Some(note)));
        }
        Err(refuse(
            self,
            format!(
                "it expires at {}, before the certificate would ({}); sign for less time or pass `clamp_to_ca: true`",
                rfc3339(self.not_after),
                rfc3339(not_after)
            ),
        ))
    }
}
