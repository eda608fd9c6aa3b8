//! X.509v3 extensions as DER, each with the criticality the profile asks for (openssl's
//! `critical,` prefix), not a library's fixed choice.

use const_oid::AssociatedOid;
use const_oid::db::rfc5280;
use der::Encode;
use der::asn1::Ia5String;
use der::asn1::OctetString;
use flagset::FlagSet;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::DistributionPointName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use super::error::Result;
use super::profile;
use super::san::San;

/// Wraps an encodable extension value.
///
/// # Errors
/// DER encoding failure.
pub fn make<T: Encode + AssociatedOid>(value: &T, critical: bool) -> Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

/// crlDistributionPoints: one distribution point per URI (a full name), not critical.
///
/// # Errors
/// A URI that is not an IA5String, or DER encoding failure.
pub fn crl_distribution_points(uris: &[String]) -> Result<Extension> {
    let points = uris
        .iter()
        .map(|uri| {
            Ok(DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![
                    GeneralName::UniformResourceIdentifier(Ia5String::new(uri)?),
                ])),
                reasons: None,
                crl_issuer: None,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    make(&CrlDistributionPoints(points), false)
}

/// authorityInfoAccess: the OCSP responders, then the caIssuers URIs; not critical.
///
/// # Errors
/// A URI that is not an IA5String, or DER encoding failure.
pub fn authority_info_access(ocsp: &[String], ca_issuers: &[String]) -> Result<Extension> {
    let described = |method, uri: &String| -> Result<AccessDescription> {
        Ok(AccessDescription {
            access_method: method,
            access_location: GeneralName::UniformResourceIdentifier(Ia5String::new(uri)?),
        })
    };
    let mut access = Vec::new();
    for uri in ocsp {
        access.push(described(rfc5280::ID_AD_OCSP, uri)?);
    }
    for uri in ca_issuers {
        access.push(described(rfc5280::ID_AD_CA_ISSUERS, uri)?);
    }
    make(&AuthorityInfoAccessSyntax(access), false)
}

/// basicConstraints.
///
/// # Errors
/// DER encoding failure.
pub fn basic_constraints(bc: &profile::BasicConstraints) -> Result<Extension> {
    make(
        &BasicConstraints {
            ca: bc.ca,
            path_len_constraint: if bc.ca { bc.path_len } else { None },
        },
        bc.critical,
    )
}

/// keyUsage.
///
/// # Errors
/// DER encoding failure.
pub fn key_usage(bits: &[KeyUsages], critical: bool) -> Result<Extension> {
    let set = bits
        .iter()
        .fold(FlagSet::<KeyUsages>::default(), |acc, b| acc | *b);
    make(&KeyUsage(set), critical)
}

/// extendedKeyUsage.
///
/// # Errors
/// DER encoding failure.
pub fn ext_key_usage(oids: &[const_oid::ObjectIdentifier], critical: bool) -> Result<Extension> {
    make(&ExtendedKeyUsage(oids.to_vec()), critical)
}

/// subjectAltName.
///
/// # Errors
/// A SAN DER cannot carry.
pub fn subject_alt_name(sans: &[San], critical: bool) -> Result<Extension> {
    let names = sans
        .iter()
        .map(San::to_general_name)
        .collect::<Result<Vec<_>>>()?;
    make(&SubjectAltName(names), critical)
}

/// subjectKeyIdentifier.
///
/// # Errors
/// DER encoding failure.
pub fn subject_key_id(id: &[u8]) -> Result<Extension> {
    make(&SubjectKeyIdentifier(OctetString::new(id)?), false)
}

/// authorityKeyIdentifier with the key id and, for `keyid,issuer:always`, the issuer's issuer
/// name and serial.
///
/// # Errors
/// DER encoding failure.
pub fn authority_key_id(
    key_id: &[u8],
    issuer_and_serial: Option<(&[u8], &[u8])>,
) -> Result<Extension> {
    use der::Decode;
    let (issuer, serial) = match issuer_and_serial {
        Some((issuer_der, serial)) => (
            Some(vec![GeneralName::DirectoryName(Name::from_der(
                issuer_der,
            )?)]),
            Some(SerialNumber::new(serial)?),
        ),
        None => (None, None),
    };
    make(
        &AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(key_id)?),
            authority_cert_issuer: issuer,
            authority_cert_serial_number: serial,
        },
        false,
    )
}
