//! One certificate as the verifier sees it: every extension it relies on decoded once, and the
//! rules every certificate of a chain must meet whatever its place (no duplicate, malformed or
//! unknown critical extension, no critical key identifier).

use const_oid::db::rfc5280;
use const_oid::{AssociatedOid, ObjectIdentifier};
use der::Decode;
use x509_cert::ext::pkix::constraints::name::NameConstraints;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;

use super::error::VerifyError;
use crate::pki::cert::Certificate;

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
        let san = decode::<SubjectAltName>(cert, &subject, "subjectAltName")?.map(|(_, s)| s);
        if let Some(san) = &san {
            if san.0.is_empty() {
                return Err(invalid(
                    "subjectAltName",
                    "it holds no name (RFC 5280 4.2.1.6)",
                ));
            }
            for name in &san.0 {
                if let GeneralName::IpAddress(o) = name
                    && o.as_bytes().len() != 4
                    && o.as_bytes().len() != 16
                {
                    return Err(invalid(
                        "subjectAltName",
                        &format!(
                            "iPAddress of {} octets (expected 4 or 16)",
                            o.as_bytes().len()
                        ),
                    ));
                }
            }
        }
        let name_constraints =
            decode::<NameConstraints>(cert, &subject, "nameConstraints")?.map(|(_, nc)| nc);
        Ok(Parsed {
            cert,
            self_issued: subject_der == issuer_der,
            subject,
            subject_der,
            issuer_der,
            subject_name,
            basic_constraints,
            key_usage: decode::<KeyUsage>(cert, &subject_of(cert), "keyUsage")?.map(|(_, k)| k),
            ext_key_usage: decode::<ExtendedKeyUsage>(cert, &subject_of(cert), "extendedKeyUsage")?
                .map(|(_, e)| e),
            san,
            name_constraints,
            subject_key_id: ski.map(|(_, s)| s.0.as_bytes().to_vec()),
            authority_key_id: aki
                .and_then(|(_, a)| a.key_identifier.map(|k| k.as_bytes().to_vec())),
        })
    }

    /// basicConstraints CA:TRUE.
    pub(super) fn is_ca(&self) -> bool {
        self.basic_constraints.as_ref().is_some_and(|bc| bc.ca)
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
