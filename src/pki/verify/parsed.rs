//! One certificate as the verifier sees it: every extension it relies on decoded once, and the
//! rules every certificate of a chain must meet whatever its place (no duplicate, malformed or
//! unknown critical extension, no critical key identifier).

use const_oid::db::rfc5280;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::Decode;
use x509_cert::ext::pkix::constraints::name::NameConstraints;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage,
    KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use super::error::VerifyError;
use crate::pki::KeySpec;
use crate::pki::cert::Certificate;
use crate::pki::pubkey::PublicKey;

/// The smallest RSA modulus accepted, in bits (as OpenSSL's security level 2).
const MIN_RSA_BITS: usize = 2048;

/// Extensions this module understands (or that carry no constraint to enforce).
const HANDLED: [ObjectIdentifier; 7] = [
    rfc5280::ID_CE_BASIC_CONSTRAINTS,
    rfc5280::ID_CE_KEY_USAGE,
    rfc5280::ID_CE_EXT_KEY_USAGE,
    rfc5280::ID_CE_SUBJECT_ALT_NAME,
    rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
    rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
    rfc5280::ID_CE_NAME_CONSTRAINTS,
];

/// A certificate with the extensions the verifier uses decoded.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    /// The certificate.
    pub(super) cert: &'a Certificate,
    /// Its subject as openssl prints it, for messages.
    pub(super) subject: String,
    /// The subject's DER.
    pub(super) subject_der: Vec<u8>,
    /// The issuer's DER.
    pub(super) issuer_der: Vec<u8>,
    /// The subject, decoded.
    pub(super) subject_name: Name,
    /// Subject and issuer are the same name (RFC 5280 "self-issued").
    pub(super) self_issued: bool,
    /// basicConstraints.
    pub(super) basic_constraints: Option<BasicConstraints>,
    /// keyUsage.
    pub(super) key_usage: Option<KeyUsage>,
    /// extendedKeyUsage.
    pub(super) ext_key_usage: Option<ExtendedKeyUsage>,
    /// subjectAltName.
    pub(super) san: Option<SubjectAltName>,
    /// nameConstraints.
    pub(super) name_constraints: Option<NameConstraints>,
    /// subjectKeyIdentifier.
    pub(super) subject_key_id: Option<Vec<u8>>,
    /// authorityKeyIdentifier's keyIdentifier.
    pub(super) authority_key_id: Option<Vec<u8>>,
}

impl<'a> Parsed<'a> {
    /// Decodes `cert`'s extensions and applies the rules every certificate must meet.
    ///
    /// # Errors
    /// A duplicate, undecodable or unknown critical extension, a critical key identifier, a
    /// pathlen on a certificate that is not a CA, a SAN entry that does not decode.
    pub(super) fn new(cert: &'a Certificate) -> Result<Self, VerifyError> {
        let subject = subject_of(cert);
        let malformed = |reason: String| VerifyError::Malformed {
            subject: subject.clone(),
            reason,
        };
        let subject_der = cert
            .subject_der()
            .map_err(|e| malformed(format!("subject: {e}")))?;
        let issuer_der = cert
            .issuer_der()
            .map_err(|e| malformed(format!("issuer: {e}")))?;
        let subject_name =
            Name::from_der(&subject_der).map_err(|e| malformed(format!("subject: {e}")))?;
        let extensions = cert.extensions();
        for (i, ext) in extensions.iter().enumerate() {
            if extensions[..i].iter().any(|e| e.extn_id == ext.extn_id) {
                return Err(VerifyError::DuplicateExtension {
                    subject,
                    oid: ext.extn_id.to_string(),
                });
            }
            if ext.critical && !HANDLED.contains(&ext.extn_id) {
                return Err(VerifyError::UnhandledCritical {
                    subject,
                    oid: ext.extn_id.to_string(),
                });
            }
        }
        let invalid = |extension: &'static str, rule: &str| VerifyError::InvalidExtension {
            subject: subject.clone(),
            extension,
            rule: rule.to_owned(),
        };
        let ski = decode::<SubjectKeyIdentifier>(cert, &subject, "subjectKeyIdentifier")?;
        if ski.as_ref().is_some_and(|(critical, _)| *critical) {
            return Err(invalid(
                "subjectKeyIdentifier",
                "it is marked critical (RFC 5280 4.2.1.2: must not be)",
            ));
        }
        let aki = decode::<AuthorityKeyIdentifier>(cert, &subject, "authorityKeyIdentifier")?;
        if aki.as_ref().is_some_and(|(critical, _)| *critical) {
            return Err(invalid(
                "authorityKeyIdentifier",
                "it is marked critical (RFC 5280 4.2.1.1: must not be)",
            ));
        }
        let basic_constraints =
            decode::<BasicConstraints>(cert, &subject, "basicConstraints")?.map(|(_, bc)| bc);
        if basic_constraints
            .as_ref()
            .is_some_and(|bc| !bc.ca && bc.path_len_constraint.is_some())
        {
            return Err(invalid(
                "basicConstraints",
                "pathlen without CA:TRUE (RFC 5280 4.2.1.9)",
            ));
        }
        let san = decode::<SubjectAltName>(cert, &subject, "subjectAltName")?;
        let subject_empty = subject_name.is_empty();
        match &san {
            None if subject_empty => {
                return Err(VerifyError::NonConforming {
                    subject,
                    rule: "empty subject and no subjectAltName: it names nobody (RFC 5280 4.1.2.6)"
                        .into(),
                });
            }
            Some((false, _)) if subject_empty => {
                return Err(invalid(
                    "subjectAltName",
                    "not critical although the subject is empty (RFC 5280 4.2.1.6)",
                ));
            }
            _ => {}
        }
        let san = san.map(|(_, san)| san);
        if let Some(san) = &san {
            check_san_entries(san).map_err(|rule| invalid("subjectAltName", &rule))?;
        }
        let is_ca = basic_constraints.as_ref().is_some_and(|bc| bc.ca);
        let key_usage = decode::<KeyUsage>(cert, &subject, "keyUsage")?.map(|(_, k)| k);
        if !is_ca
            && key_usage
                .as_ref()
                .is_some_and(|ku| ku.0.contains(KeyUsages::KeyCertSign))
        {
            return Err(invalid(
                "keyUsage",
                "keyCertSign without basicConstraints CA:TRUE (RFC 5280 4.2.1.3)",
            ));
        }
        let ext_key_usage =
            decode::<ExtendedKeyUsage>(cert, &subject, "extendedKeyUsage")?.map(|(_, e)| e);
        if ext_key_usage.as_ref().is_some_and(|eku| eku.0.is_empty()) {
            return Err(invalid(
                "extendedKeyUsage",
                "it lists no usage (RFC 5280 4.2.1.12: at least one)",
            ));
        }
        let name_constraints = decode::<NameConstraints>(cert, &subject, "nameConstraints")?;
        match &name_constraints {
            Some(_) if !is_ca => {
                return Err(invalid(
                    "nameConstraints",
                    "in a certificate that is not a CA (RFC 5280 4.2.1.10)",
                ));
            }
            Some((false, _)) => {
                return Err(invalid(
                    "nameConstraints",
                    "not critical (RFC 5280 4.2.1.10: must be)",
                ));
            }
            _ => {}
        }
        decode::<AuthorityInfoAccessSyntax>(cert, &subject, "authorityInfoAccess")?;
        check_key(cert).map_err(|rule| VerifyError::NonConforming {
            subject: subject.clone(),
            rule,
        })?;
        Ok(Parsed {
            cert,
            self_issued: subject_der == issuer_der,
            subject,
            subject_der,
            issuer_der,
            subject_name,
            basic_constraints,
            key_usage,
            ext_key_usage,
            san,
            name_constraints: name_constraints.map(|(_, nc)| nc),
            subject_key_id: ski.map(|(_, s)| s.0.as_bytes().to_vec()),
            authority_key_id: aki
                .and_then(|(_, a)| a.key_identifier.map(|k| k.as_bytes().to_vec())),
        })
    }

    /// RFC 5280 4.1.2.2: a positive serial number of at most 20 octets. Not asked of trust
    /// anchors, which are trusted for their name and key (real roots have serial 0).
    ///
    /// # Errors
    /// The rule broken.
    pub(super) fn check_serial(&self) -> Result<(), VerifyError> {
        check_serial(self.cert.serial()).map_err(|rule| VerifyError::NonConforming {
            subject: self.subject.clone(),
            rule,
        })
    }

    /// basicConstraints CA:TRUE.
    pub(super) fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
    }
}

/// SAN entries: iPAddress of 4 or 16 octets, dNSName in preferred name syntax (letters,
/// digits and hyphens; a leading `*.` allowed).
fn check_san_entries(san: &SubjectAltName) -> Result<(), String> {
    if san.0.is_empty() {
        return Err("it holds no name (RFC 5280 4.2.1.6)".into());
    }
    for name in &san.0 {
        match name {
            GeneralName::IpAddress(o) if o.as_bytes().len() != 4 && o.as_bytes().len() != 16 => {
                return Err(format!(
                    "iPAddress of {} octets (expected 4 or 16)",
                    o.as_bytes().len()
                ));
            }
            GeneralName::DnsName(d) if !preferred_dns_syntax(d.as_str()) => {
                return Err(format!(
                    "dNSName `{}` is not a host name (RFC 5280 4.2.1.6: letters, digits, hyphens, dots)",
                    d.as_str().escape_default()
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// RFC 1034 preferred name syntax, with an optional leading `*.` and trailing dot.
fn preferred_dns_syntax(name: &str) -> bool {
    let body = name.strip_prefix("*.").unwrap_or(name);
    let body = body.strip_suffix('.').unwrap_or(body);
    !body.is_empty()
        && name.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// RFC 5280 4.1.2.2: a positive serial number of at most 20 octets.
fn check_serial(serial: &[u8]) -> Result<(), String> {
    if serial.first().is_some_and(|b| b & 0x80 != 0) {
        return Err("negative serial number (RFC 5280 4.1.2.2: must be positive)".into());
    }
    if serial.iter().all(|b| *b == 0) {
        return Err("serial number zero (RFC 5280 4.1.2.2: must be positive)".into());
    }
    let significant = serial.iter().skip_while(|b| **b == 0).count();
    if significant > 20 {
        return Err(format!(
            "serial number of {significant} octets (RFC 5280 4.1.2.2: at most 20)"
        ));
    }
    Ok(())
}

/// The public key must be one pkirun supports (RSA, ECDSA P-256/P-384), RSA of at least
/// [`MIN_RSA_BITS`] bits and a whole number of bytes.
fn check_key(cert: &Certificate) -> Result<(), String> {
    let spki = cert
        .public_key_der()
        .map_err(|e| format!("public key: {e}"))?;
    let key = PublicKey::from_spki_der(&spki).map_err(|e| e.to_string())?;
    match key.spec() {
        KeySpec::Rsa(bits) if bits < MIN_RSA_BITS => Err(format!(
            "weak key: RSA {bits} bits (at least {MIN_RSA_BITS})"
        )),
        KeySpec::Rsa(bits) if bits % 8 != 0 => Err(format!(
            "RSA modulus of {bits} bits, not a whole number of bytes"
        )),
        _ => Ok(()),
    }
}

/// The extension `T` decoded with its criticality, `None` if absent.
fn decode<T: for<'b> Decode<'b, Error = der::Error> + AssociatedOid>(
    cert: &Certificate,
    subject: &str,
    name: &'static str,
) -> Result<Option<(bool, T)>, VerifyError> {
    cert.decoded_extension::<T>()
        .map_err(|err| VerifyError::Malformed {
            subject: subject.to_owned(),
            reason: format!("{name} extension does not decode: {err}"),
        })
}

/// The subject as openssl prints it, for messages.
pub(super) fn subject_of(cert: &Certificate) -> String {
    cert.subject()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}
