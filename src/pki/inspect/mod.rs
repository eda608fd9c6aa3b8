//! Inspection: what is in a certificate, a CSR or a private key, as structured values (for JSON)
//! and as text close to `openssl x509 -noout -text` / `openssl req -noout -text`.
//!
//! Pure: inputs are bytes, outputs are values and strings. Private key material is never part
//! of any output, only the key's kind and size.

mod crl;
mod extensions;
mod general_name;
mod name;
mod public_key;
mod serial;
mod text;
mod validity;

#[cfg(test)]
mod tests;

use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::asn1_rs::{FromDer, Oid};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::error::X509Error;
use x509_parser::extensions::X509Extension;
use x509_parser::x509::AlgorithmIdentifier;

pub use crl::{CrlInfo, RevokedInfo, inspect_crl_der};
pub use extensions::{AuthorityKeyIdInfo, BasicConstraintsInfo, ExtensionInfo, ExtensionSummary};
pub use name::{NameField, NameInfo};
pub use public_key::PublicKeyInfo;

use super::algorithm::{KeySpec, SignatureAlgorithm};
use super::colon_hex;
use super::error::{Error, Result};
use super::key::Key;
use super::pem::{PemBlock, parse_blocks};
use super::pubkey::PublicKey;
use extensions::Extensions;
use name::name_info;
use public_key::{public_key_info, signature_algorithm_name};
use serial::serial_string;
use validity::rfc3339;

/// One inspected PEM object.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // plain variants keep the API simple; a few per file
pub enum Inspected {
    /// A `CERTIFICATE` block.
    Certificate(CertInfo),
    /// A `CERTIFICATE REQUEST` (or `NEW CERTIFICATE REQUEST`) block.
    Csr(CsrInfo),
    /// A `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` block (kind and size only).
    PrivateKey(KeyInfo),
    /// An `X509 CRL` block.
    Crl(CrlInfo),
    /// A block that does not decode as what its label says, in a file where another block
    /// does: the others are shown, this one named.
    Broken(BrokenBlock),
}

/// A block that does not decode, by its place in the file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BrokenBlock {
    /// Its place in the file, from 1.
    pub block: usize,
    /// Its PEM label.
    pub label: String,
    /// Why it does not decode.
    pub reason: String,
}

/// What a certificate says.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertInfo {
    /// The X.509 version as people count it (3 for v3; openssl's `Version: 3 (0x2)`).
    pub version: u32,
    /// The serial number, lowercase hex bytes separated by colons, as openssl prints it
    /// (no DER padding byte; a negative serial starts with `-`).
    pub serial: String,
    /// openssl's name of the signature algorithm (`sha256WithRSAEncryption`,
    /// `ecdsa-with-SHA256`, ...) or the dotted OID.
    pub signature_algorithm: String,
    /// The issuer name.
    pub issuer: NameInfo,
    /// The subject name.
    pub subject: NameInfo,
    /// Start of validity, RFC 3339 UTC (`2026-11-23T21:00:00Z`).
    pub not_before: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// `not_after - not_before` in seconds.
    pub validity_seconds: i64,
    /// The subject public key.
    pub public_key: PublicKeyInfo,
    /// basicConstraints, keyUsage, extendedKeyUsage and subjectAltName (their fields appear
    /// here in JSON).
    #[serde(flatten)]
    pub summary: ExtensionSummary,
    /// The subject key identifier, uppercase hex with colons.
    pub subject_key_id: Option<String>,
    /// The authority key identifier.
    pub authority_key_id: Option<AuthorityKeyIdInfo>,
    /// Every extension, in certificate order.
    pub extensions: Vec<ExtensionInfo>,
    /// SHA-256 of the DER, uppercase hex with colons (`openssl x509 -fingerprint -sha256`).
    pub fingerprint_sha256: String,
    /// Subject and issuer are the same bytes and the signature verifies with the certificate's
    /// own key (when pkirun cannot verify the algorithm, the name comparison alone decides).
    pub self_signed: bool,
}

/// What a certificate signing request says.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CsrInfo {
    /// The requested subject.
    pub subject: NameInfo,
    /// The public key to be certified.
    pub public_key: PublicKeyInfo,
    /// openssl's name of the signature algorithm or the dotted OID.
    pub signature_algorithm: String,
    /// Whether the self-signature verifies. `false` also when pkirun cannot verify the
    /// key or algorithm (e.g. Ed25519, RSA-PSS).
    pub signature_valid: bool,
    /// Requested basicConstraints, keyUsage, extendedKeyUsage and subjectAltName (their
    /// fields appear here in JSON).
    #[serde(flatten)]
    pub summary: ExtensionSummary,
    /// Every requested extension, in request order.
    pub extensions: Vec<ExtensionInfo>,
}

/// What kind of private key a PEM block holds. Never any key material.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KeyInfo {
    /// `RSA` or `ECDSA`.
    pub algorithm: String,
    /// Modulus size for RSA, curve size for ECDSA.
    pub bits: u32,
    /// `P-256` or `P-384` for ECDSA keys.
    pub curve: Option<String>,
    /// `PKCS#8`, `PKCS#1` or `SEC1`.
    pub format: String,
}

/// Inspects every certificate, CSR and private key in PEM text, in file order.
///
/// Reads `CERTIFICATE`, `CERTIFICATE REQUEST`, `NEW CERTIFICATE REQUEST`, `PRIVATE KEY`,
/// `RSA PRIVATE KEY` and `EC PRIVATE KEY` blocks; skips others (`EC PARAMETERS`, `PUBLIC KEY`,
/// `X509 CRL`, ...).
///
/// # Errors
/// Malformed PEM, a block of a known kind that does not parse, an `ENCRYPTED PRIVATE KEY`
/// block, or no block of a known kind at all.
pub fn inspect_pem(input: &[u8]) -> Result<Vec<Inspected>> {
    let blocks = parse_blocks(input)?;
    let mut out = Vec::new();
    let mut first_error = None;
    for (i, block) in blocks.iter().enumerate() {
        if block.legacy_encrypted {
            return Err(Error::LegacyEncryptedKey);
        }
        if block.label == "ENCRYPTED PRIVATE KEY" {
            return Err(Error::EncryptedKey);
        }
        let item = match block.label.as_str() {
            "CERTIFICATE" => inspect_cert_der(&block.der).map(Inspected::Certificate),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                inspect_csr_der(&block.der).map(Inspected::Csr)
            }
            "PRIVATE KEY" => Key::from_pkcs8_der(&block.der)
                .map(|k| Inspected::PrivateKey(key_info(&k, "PKCS#8"))),
            "RSA PRIVATE KEY" => Key::from_pkcs1_der(&block.der)
                .map(|k| Inspected::PrivateKey(key_info(&k, "PKCS#1"))),
            "EC PRIVATE KEY" => {
                Key::from_sec1_der(&block.der).map(|k| Inspected::PrivateKey(key_info(&k, "SEC1")))
            }
            "X509 CRL" => inspect_crl_der(&block.der).map(Inspected::Crl),
            _ => continue,
        };
        match item {
            Ok(item) => out.push(item),
            Err(e) => {
                out.push(Inspected::Broken(BrokenBlock {
                    block: i + 1,
                    label: block.label.clone(),
                    reason: e.to_string(),
                }));
                first_error.get_or_insert(e);
            }
        }
    }
    if !out.iter().any(|i| !matches!(i, Inspected::Broken(_))) {
        return Err(first_error.unwrap_or(Error::NoPemBlock {
            expected: "certificate, certificate request, private key or CRL",
            found: PemBlock::labels(&blocks),
        }));
    }
    Ok(out)
}

/// Inspects one DER certificate.
///
/// # Errors
/// [`Error::InvalidCertificate`] if the DER is not a certificate (or has trailing bytes).
pub fn inspect_cert_der(der: &[u8]) -> Result<CertInfo> {
    let cert: X509Certificate<'_> = parse_whole(der, "the certificate", Error::InvalidCertificate)?;
    let tbs = &cert.tbs_certificate;
    let not_before = tbs.validity.not_before;
    let not_after = tbs.validity.not_after;
    let ext = Extensions::read(tbs.extensions());
    let same_name = tbs.subject.as_raw() == tbs.issuer.as_raw();
    let self_signed = same_name
        && verify_signature(
            tbs.subject_pki.raw,
            &cert.signature_algorithm,
            tbs.as_ref(),
            &cert.signature_value.data,
        )
        .unwrap_or(true);
    Ok(CertInfo {
        version: tbs.version.0.saturating_add(1),
        serial: serial_string(tbs.raw_serial()),
        signature_algorithm: signature_algorithm_name(&cert.signature_algorithm.algorithm),
        issuer: name_info(&tbs.issuer),
        subject: name_info(&tbs.subject),
        not_before: rfc3339(not_before),
        not_after: rfc3339(not_after),
        validity_seconds: not_after.timestamp() - not_before.timestamp(),
        public_key: public_key_info(&tbs.subject_pki),
        summary: ext.summary,
        subject_key_id: ext.subject_key_id,
        authority_key_id: ext.authority_key_id,
        extensions: ext.list,
        fingerprint_sha256: colon_hex(&Sha256::digest(cert.as_raw()), true),
        self_signed,
    })
}

/// Inspects one DER certificate signing request and checks its self-signature.
///
/// # Errors
/// [`Error::InvalidCsr`] if the DER is not a CSR (or has trailing bytes). A signature that
/// does not verify is not an error: see [`CsrInfo::signature_valid`].
pub fn inspect_csr_der(der: &[u8]) -> Result<CsrInfo> {
    let mended;
    let csr: X509CertificationRequest<'_> = match parse_whole(der, "the request", Error::InvalidCsr)
    {
        Ok(csr) => csr,
        Err(error) => {
            // An attribute with no value (a challengePassword SET with nothing in it) is read by
            // OpenSSL and by `load_csr` but not by the parser: inspect a copy without it.
            mended = without_empty_attributes(der).ok_or(error)?;
            parse_whole(&mended, "the request", Error::InvalidCsr)?
        }
    };
    let info = &csr.certification_request_info;
    let signature_valid = verify_signature(
        info.subject_pki.raw,
        &csr.signature_algorithm,
        super::tlv::signed_part(der).unwrap_or(info.raw),
        &csr.signature_value.data,
    )
    .unwrap_or(false);
    let requested: &[X509Extension<'_>] = info
        .iter_attributes()
        .find_map(|attr| match attr.parsed_attribute() {
            ParsedCriAttribute::ExtensionRequest(req) => Some(req.extensions.as_slice()),
            _ => None,
        })
        .unwrap_or(&[]);
    let ext = Extensions::read(requested);
    Ok(CsrInfo {
        subject: name_info(&info.subject),
        public_key: public_key_info(&info.subject_pki),
        signature_algorithm: signature_algorithm_name(&csr.signature_algorithm.algorithm),
        signature_valid,
        summary: ext.summary,
        extensions: ext.list,
    })
}

/// A copy of a request's DER without the attributes that have no value (`SET {}`), or `None`
/// when it has none or is not laid out as a request.
fn without_empty_attributes(der: &[u8]) -> Option<Vec<u8>> {
    use super::tlv::{children, contents, wrap};
    let body = contents(der)?; // info, algorithm, signature
    let (info_at, info_len) = *children(body)?.first()?;
    let info_body = contents(&body[info_at..info_at + info_len])?; // version, subject, key, [0]
    let (attrs_at, attrs_len) = *children(info_body)?.get(3)?;
    let attrs = &info_body[attrs_at..attrs_at + attrs_len];
    if attrs[0] != 0xa0 {
        return None;
    }
    let attrs_body = contents(attrs)?;
    let mut kept = Vec::new();
    for (at, len) in children(attrs_body)? {
        let attr = &attrs_body[at..at + len]; // SEQUENCE { type, SET OF value }
        let attr_body = contents(attr)?;
        let (set_at, set_len) = *children(attr_body)?.get(1)?;
        if set_len != 2 || attr_body[set_at] != 0x31 {
            kept.extend_from_slice(attr);
        }
    }
    if kept.len() == attrs_body.len() {
        return None;
    }
    let mut new_info = info_body[..attrs_at].to_vec();
    new_info.extend(wrap(0xa0, &kept));
    let mut new_body = wrap(0x30, &new_info);
    new_body.extend_from_slice(&body[info_at + info_len..]);
    Some(wrap(0x30, &new_body))
}

/// The name `known` gives an OID (openssl's, as the tables in this module hold them), else its
/// dotted form.
fn oid_name(oid: &Oid<'_>, known: fn(&str) -> Option<&'static str>) -> String {
    let id = oid.to_id_string();
    known(&id).map_or(id, str::to_string)
}

/// Parses `der` as exactly one `T`; a parse error or bytes after `what` become `invalid`.
fn parse_whole<'a, T: FromDer<'a, X509Error>>(
    der: &'a [u8],
    what: &str,
    invalid: fn(String) -> Error,
) -> Result<T> {
    // The parser's own error (`Parsing Error: Der(UnexpectedTag ..)`) is no help to a user.
    let (rest, parsed) =
        T::from_der(der).map_err(|_| invalid(format!("the data does not decode as {what}")))?;
    if !rest.is_empty() {
        return Err(invalid(format!(
            "{} trailing bytes after {what}",
            rest.len()
        )));
    }
    Ok(parsed)
}

fn key_info(key: &Key, format: &str) -> KeyInfo {
    let (algorithm, bits, curve) = match key.spec() {
        KeySpec::Rsa(bits) => ("RSA", u32::try_from(bits).unwrap_or(0), None),
        KeySpec::P256 => ("ECDSA", 256, Some("P-256".to_string())),
        KeySpec::P384 => ("ECDSA", 384, Some("P-384".to_string())),
    };
    KeyInfo {
        algorithm: algorithm.into(),
        bits,
        curve,
        format: format.into(),
    }
}

/// `Some(verified)` when pkirun knows the key and algorithm, `None` otherwise.
fn verify_signature(
    spki_der: &[u8],
    alg: &AlgorithmIdentifier<'_>,
    msg: &[u8],
    signature: &[u8],
) -> Option<bool> {
    let oid = const_oid::ObjectIdentifier::new(&alg.algorithm.to_id_string()).ok()?;
    let alg = SignatureAlgorithm::from_oid(oid)?;
    let key = PublicKey::from_spki_der(spki_der).ok()?;
    Some(key.verify(alg, msg, signature))
}
