//! The signing policy: what every path that signs checks before it signs (`Ca::sign`,
//! `Ca::issue_for`, the batches built on them). Allowed names, weak keys, SHA-1 request
//! signatures, control characters, malformed or undecodable names, over-long names, an empty
//! subject without SANs, `CA:TRUE` asked of a leaf profile, unknown critical extensions; and
//! the CA itself ([`issuer`]).
//!
//! Each refusal is an [`Error::Refused`] naming the field and the rule; the caller adds the file
//! or row. The opt-outs are fields of [`SigningPolicy`], never implied.

pub mod issuer;
mod names;

use std::net::IpAddr;

use const_oid::db::rfc5912;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::Decode;
use rsa::traits::PublicKeyParts;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

pub use names::NamePolicy;

use super::algorithm::{Digest, SignatureAlgorithm};
use super::error::{Error, Result};
use super::name::DistinguishedName;
use super::profile::Profile;
use super::pubkey::PublicKey;
use super::san::{San, validate_dns};

/// What a signing call accepts beyond its profile: allowed names and the named opt-outs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningPolicy {
    /// Names the certificate may carry (SANs, and a host-like CN when there is no SAN).
    /// Empty: any. A CA may have its own list ([`crate::pki::Ca::with_allowed_names`]); a name
    /// must then pass both.
    pub allowed_names: NamePolicy,
    /// Sign RSA keys under 2048 bits or with a public exponent other than 65537 (a legacy
    /// device that cannot make another key).
    pub allow_weak_keys: bool,
    /// Sign a request that is itself signed with SHA-1, or with a CA certificate signed with
    /// SHA-1 (old firmware and old roots).
    pub allow_sha1: bool,
    /// Let subject attributes exceed RFC 5280's upper bounds (a directory that already holds
    /// such names). DNS names are always held to 253 characters and 63 per label.
    pub allow_long_names: bool,
    /// A certificate that would outlive its CA ends when the CA does (with a note) instead of
    /// being refused.
    pub clamp_to_ca: bool,
    /// A certificate may outlive its CA (with a note): what a published procedure does when it
    /// gives a leaf more days than its CA (easyrsa's `--days=10000` under a 3650-day CA), for
    /// scripts that reproduce it. `clamp_to_ca` wins when both are set.
    pub allow_outliving_ca: bool,
    /// The digest the caller asked for (openssl's `default_md`); `None` is the key's own.
    /// pkirun signs with one digest per key type, so another one is refused, never replaced.
    pub digest: Option<Digest>,
}

/// Refuses a `digest` other than the one `signer` signs with.
///
/// # Errors
/// [`Error::Refused`] naming both digests.
pub fn check_digest(policy: &SigningPolicy, signer: SignatureAlgorithm) -> Result<()> {
    match policy.digest {
        Some(want) if want != signer.digest() => Err(refuse(
            "digest",
            format!(
                "{} was asked (default_md), but pkirun signs with this key using {} only; \
                 ask for {} or default",
                want.name(),
                signer.digest().name(),
                signer.digest().name()
            ),
        )),
        _ => Ok(()),
    }
}

/// RFC 5280 Appendix A upper bounds, in characters, of the subject attributes it bounds.
const UPPER_BOUNDS: &[(&str, usize, &str)] = &[
    ("CN", 64, "ub-common-name"),
    ("O", 64, "ub-organization-name"),
    ("OU", 64, "ub-organizational-unit-name"),
    ("L", 128, "ub-locality-name"),
    ("ST", 128, "ub-state-name"),
    ("C", 2, "ub-country-name"),
    ("emailAddress", 255, "ub-emailaddress-length"),
    ("serialNumber", 64, "ub-serial-number"),
];

/// Extensions a request may mark critical: the ones pkirun reads and decides on.
const KNOWN_CRITICAL: &[ObjectIdentifier] = &[
    BasicConstraints::OID,
    KeyUsage::OID,
    ExtendedKeyUsage::OID,
    SubjectAltName::OID,
];

/// SHA-1 signature algorithms (RSA, ECDSA, DSA).
const SHA1_SIGNATURES: &[ObjectIdentifier] = &[
    rfc5912::SHA_1_WITH_RSA_ENCRYPTION,
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.1"),
    rfc5912::DSA_WITH_SHA_1,
];

fn refuse(field: impl Into<String>, rule: impl Into<String>) -> Error {
    Error::Refused {
        field: field.into(),
        rule: rule.into(),
    }
}

/// Shows a value from an input safely on one line: control characters and backslashes escaped,
/// long values cut.
#[must_use]
pub fn escape(value: &str) -> String {
    let mut out = String::new();
    for (i, c) in value.chars().enumerate() {
        if i == 80 {
            out.push_str("...");
            break;
        }
        match c {
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// What is about to be certified, as the CA will write it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The subject after the profile's subject policy.
    pub subject: &'a DistinguishedName,
    /// The SANs the certificate will carry (decoded and checked with [`requested_sans`] for a
    /// CSR).
    pub sans: &'a [San],
    /// The subject's public key (DER SPKI).
    pub spki_der: &'a [u8],
    /// The extensions a CSR asked for (empty for a direct issue).
    pub requested: &'a [Extension],
    /// The CSR's own signature algorithm, if this comes from a CSR.
    pub csr_signature: Option<ObjectIdentifier>,
}

/// Checks a request against `profile`'s signing policy and the CA-wide allowed names.
///
/// # Errors
/// [`Error::Refused`] for the first rule the request breaks.
pub fn check_request(req: &Request<'_>, profile: &Profile, ca_names: &NamePolicy) -> Result<()> {
    let policy = &profile.signing;
    check_requested_extensions(req.requested, profile)?;
    if let Some(alg) = req.csr_signature {
        if SHA1_SIGNATURES.contains(&alg) && !policy.allow_sha1 {
            return Err(refuse(
                "signature",
                "the request is signed with SHA-1 (pass `allow_sha1: true` to sign it anyway)",
            ));
        }
    }
    check_key(req.spki_der, policy)?;
    check_subject(req.subject, policy)?;
    for (i, san) in req.sans.iter().enumerate() {
        let field = format!("san[{i}]");
        check_san(&field, san)?;
        for list in [ca_names, &policy.allowed_names] {
            if !list.allows(san) {
                return Err(refuse(
                    field,
                    format!(
                        "`{}` is outside the allowed names ({list})",
                        escape(&san.to_string())
                    ),
                ));
            }
        }
    }
    if req.sans.is_empty() {
        if req.subject.is_empty() {
            return Err(refuse(
                "subject",
                "empty subject and no subject alternative name: the certificate would name nobody",
            ));
        }
        // Verifiers fall back to the CN when there is no SAN: a host-like CN is a name too.
        if let Some(cn) = req.subject.get("CN").and_then(host_like) {
            for list in [ca_names, &policy.allowed_names] {
                if !list.allows(&cn) {
                    return Err(refuse(
                        "subject.CN",
                        format!(
                            "`{}` is outside the allowed names ({list})",
                            escape(&cn.to_string())
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A CN a TLS client might match as a host name: an IP, or a DNS name with a dot.
fn host_like(cn: &str) -> Option<San> {
    if let Ok(ip) = cn.parse::<IpAddr>() {
        return Some(San::Ip(ip));
    }
    (cn.contains('.') && validate_dns(cn).is_ok()).then(|| San::Dns(cn.to_string()))
}

fn check_requested_extensions(requested: &[Extension], profile: &Profile) -> Result<()> {
    for (i, ext) in requested.iter().enumerate() {
        if requested[..i].iter().any(|e| e.extn_id == ext.extn_id) {
            return Err(refuse(
                format!("extension {}", ext.extn_id),
                "requested twice (RFC 5280 4.2: at most one instance of an extension)",
            ));
        }
        if ext.critical && !KNOWN_CRITICAL.contains(&ext.extn_id) {
            return Err(refuse(
                format!("extension {}", ext.extn_id),
                "the request marks an extension critical that pkirun does not know; it can neither honour nor drop it",
            ));
        }
        if ext.extn_id == BasicConstraints::OID {
            let bc = BasicConstraints::from_der(ext.extn_value.as_bytes()).map_err(|_| {
                refuse(
                    "basicConstraints",
                    "the requested basicConstraints does not decode",
                )
            })?;
            if bc.ca && !profile.basic_constraints.is_some_and(|b| b.ca) {
                return Err(refuse(
                    "basicConstraints",
                    "the request asks for CA:TRUE and the profile does not issue CAs",
                ));
            }
        }
    }
    Ok(())
}

fn check_key(spki_der: &[u8], policy: &SigningPolicy) -> Result<()> {
    let key = PublicKey::from_spki_der(spki_der).map_err(|e| {
        refuse(
            "public key",
            format!("{e} (supported: RSA, ECDSA P-256/P-384)"),
        )
    })?;
    if let PublicKey::Rsa(rsa) = &key {
        if policy.allow_weak_keys {
            return Ok(());
        }
        let bits = rsa.n().bit_width();
        if bits < 2048 {
            return Err(refuse(
                "public key",
                format!(
                    "RSA {bits} is weaker than 2048 bits (pass `allow_weak_keys: true` to sign it anyway)"
                ),
            ));
        }
        let e = rsa.e().to_be_bytes();
        let e = e
            .iter()
            .skip_while(|b| **b == 0)
            .copied()
            .collect::<Vec<u8>>();
        if e != [0x01, 0x00, 0x01] {
            let shown = if e.len() <= 8 {
                e.iter()
                    .fold(0u64, |n, b| (n << 8) | u64::from(*b))
                    .to_string()
            } else {
                format!("0x{}", hex::encode(&e))
            };
            return Err(refuse(
                "public key",
                format!(
                    "RSA public exponent {shown} is not 65537 (pass `allow_weak_keys: true` to sign it anyway)"
                ),
            ));
        }
    }
    Ok(())
}

fn check_subject(subject: &DistinguishedName, policy: &SigningPolicy) -> Result<()> {
    for attr in subject.attrs() {
        let field = format!("subject.{}", attr.short);
        if attr.value.chars().any(char::is_control) {
            return Err(refuse(
                field,
                format!("`{}` contains a control character", escape(&attr.value)),
            ));
        }
        let len = attr.value.chars().count();
        if let Some((_, max, bound)) = UPPER_BOUNDS.iter().find(|(s, _, _)| *s == attr.short) {
            if len > *max && !policy.allow_long_names {
                return Err(refuse(
                    field,
                    format!(
                        "{len} characters, more than RFC 5280's {bound} ({max}) (pass `allow_long_names: true` to sign it anyway)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A SAN as the parser would accept it from a user: no control characters, a valid DNS name,
/// URI or email (names built with [`San::parse`] always pass).
fn check_san(field: &str, san: &San) -> Result<()> {
    let text = match san {
        San::Ip(_) => return Ok(()),
        San::Dns(s) | San::Uri(s) | San::Email(s) => s,
    };
    if text.chars().any(char::is_control) {
        return Err(refuse(
            field,
            format!(
                "`{}` contains a control character",
                escape(&san.to_string())
            ),
        ));
    }
    if let Err(e) = San::parse(&san.to_string()) {
        let reason = match e {
            Error::InvalidSan { reason, .. } => reason,
            other => other.to_string(),
        };
        return Err(refuse(
            field,
            format!("`{}` is malformed: {reason}", escape(&san.to_string())),
        ));
    }
    Ok(())
}

/// Decodes the subjectAltName a request asks for, refusing what cannot be decoded or is not a
/// DNS name, IP address, URI or email (never copied raw: an iPAddress of 5 octets is refused).
///
/// # Errors
/// [`Error::Refused`] naming the entry.
pub fn requested_sans(requested: &[Extension]) -> Result<Vec<San>> {
    let Some(ext) = requested.iter().find(|e| e.extn_id == SubjectAltName::OID) else {
        return Ok(Vec::new());
    };
    let decoded = SubjectAltName::from_der(ext.extn_value.as_bytes()).map_err(|_| {
        refuse(
            "subjectAltName",
            "the requested subjectAltName does not decode",
        )
    })?;
    let mut sans = Vec::new();
    for (i, gn) in decoded.0.iter().enumerate() {
        let field = format!("san[{i}]");
        let san = match gn {
            GeneralName::IpAddress(o) => San::from_general_name(gn).ok_or_else(|| {
                refuse(
                    &field,
                    format!(
                        "an iPAddress of {} octets (4 or 16 expected)",
                        o.as_bytes().len()
                    ),
                )
            })?,
            GeneralName::DnsName(_)
            | GeneralName::UniformResourceIdentifier(_)
            | GeneralName::Rfc822Name(_) => {
                San::from_general_name(gn).ok_or_else(|| refuse(&field, "does not decode"))?
            }
            _ => {
                return Err(refuse(
                    field,
                    "a name type pkirun does not sign (only DNS, IP, URI and email)",
                ));
            }
        };
        check_san(&field, &san)?;
        sans.push(san);
    }
    Ok(sans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_shows_control_characters() {
        assert_eq!(escape("a\0b\n\\"), "a\\x00b\\x0a\\\\");
        assert_eq!(escape(&"x".repeat(100)).len(), 83);
    }
}
