//! Inspection: what is in a certificate, a CSR or a private key, as structured values (for JSON)
//! and as text close to `openssl x509 -noout -text` / `openssl req -noout -text`.
//!
//! Pure: inputs are bytes, outputs are values and strings. Private key material is never part
//! of any output, only the key's kind and size.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use der::Decode as _;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use x509_parser::asn1_rs::{Any, FromDer, Oid, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::cri_attributes::ParsedCriAttribute;
use x509_parser::extensions::{
    AccessDescription, AuthorityKeyIdentifier, DistributionPointName, GeneralName, KeyUsage,
    NSCertType, ParsedExtension, X509Extension,
};
use x509_parser::public_key::PublicKey as ParsedPublicKey;
use x509_parser::time::ASN1Time;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo, X509Name};

use super::algorithm::{KeySpec, SignatureAlgorithm};
use super::error::{Error, Result};
use super::key::Key;
use super::pem::{PemBlock, parse_blocks};
use super::pubkey::PublicKey;

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
}

/// A distinguished name (subject or issuer).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameInfo {
    /// openssl's one-line form, e.g. `O = Cockroach, CN = Cockroach CA` (values needing it are
    /// quoted or escaped as openssl does; non-ASCII text is shown as UTF-8).
    pub text: String,
    /// The attributes in certificate order (several `OU` are kept apart).
    pub fields: Vec<NameField>,
}

/// One attribute of a distinguished name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameField {
    /// openssl's short name (`C`, `ST`, `L`, `O`, `OU`, `CN`, `emailAddress`, `DC`, ...) or the
    /// dotted OID of an attribute openssl has no name for.
    pub short: String,
    /// The decoded value, unescaped.
    pub value: String,
}

/// A subject public key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// `RSA` or `ECDSA` (also `RSA-PSS`, `Ed25519`, `Ed448`, `DSA`, or a dotted OID).
    pub algorithm: String,
    /// Modulus size for RSA, curve size for ECDSA (0 if unknown).
    pub bits: u32,
    /// The curve of an EC key: `P-256`, `P-384`, `P-521`, `secp256k1` or a dotted OID.
    pub curve: Option<String>,
}

/// One certificate or requested extension.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// openssl's short name (`basicConstraints`, `keyUsage`, `extendedKeyUsage`,
    /// `subjectAltName`, `subjectKeyIdentifier`, `authorityKeyIdentifier`, ...) or the dotted OID.
    pub name: String,
    /// The dotted OID.
    pub oid: String,
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The value as `openssl x509 -text` renders it, e.g. `CA:TRUE, pathlen:1`,
    /// `Digital Signature, Key Encipherment`, `DNS:localhost, IP Address:127.0.0.1`, or
    /// `AB:CD:...` for key identifiers. Multi-line renderings are joined with `\n`.
    pub value: String,
}

/// The basicConstraints extension.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BasicConstraintsInfo {
    /// `CA:TRUE`.
    pub ca: bool,
    /// The path length constraint, if any.
    pub path_len: Option<u32>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

/// The authorityKeyIdentifier extension.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuthorityKeyIdInfo {
    /// The key identifier, uppercase hex with colons (comparable with the issuer's
    /// [`CertInfo::subject_key_id`]).
    pub key_id: Option<String>,
    /// The issuer's issuer name (a directory name in one-line form; other name kinds as in
    /// [`CertInfo::san`]), comma separated.
    pub issuer: Option<String>,
    /// The issuer's serial number, in the same form as [`CertInfo::serial`].
    pub serial: Option<String>,
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
    /// basicConstraints, if present.
    pub basic_constraints: Option<BasicConstraintsInfo>,
    /// keyUsage bits by their openssl config names (`digitalSignature`, `nonRepudiation`,
    /// `keyEncipherment`, `dataEncipherment`, `keyAgreement`, `keyCertSign`, `cRLSign`,
    /// `encipherOnly`, `decipherOnly`), in bit order. Empty without the extension.
    pub key_usage: Vec<String>,
    /// Whether keyUsage is critical; `None` without the extension.
    pub key_usage_critical: Option<bool>,
    /// extendedKeyUsage purposes by their openssl config names (`serverAuth`, `clientAuth`,
    /// `codeSigning`, `emailProtection`, `timeStamping`, `OCSPSigning`, `anyExtendedKeyUsage`)
    /// or dotted OIDs, in certificate order.
    pub ext_key_usage: Vec<String>,
    /// Whether extendedKeyUsage is critical; `None` without the extension.
    pub ext_key_usage_critical: Option<bool>,
    /// Subject alternative names in certificate order: `DNS:x`, `IP:1.2.3.4`, `IP:::1`,
    /// `URI:...`, `email:...`, `DirName:O = ..., CN = ...`, `RID:1.2.3`, `otherName:OID;UTF8:v`.
    pub san: Vec<String>,
    /// Whether subjectAltName is critical; `None` without the extension.
    pub san_critical: Option<bool>,
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
    /// Requested basicConstraints.
    pub basic_constraints: Option<BasicConstraintsInfo>,
    /// Requested keyUsage bits (see [`CertInfo::key_usage`]).
    pub key_usage: Vec<String>,
    /// Whether the requested keyUsage is critical.
    pub key_usage_critical: Option<bool>,
    /// Requested extended key usages (see [`CertInfo::ext_key_usage`]).
    pub ext_key_usage: Vec<String>,
    /// Whether the requested extendedKeyUsage is critical.
    pub ext_key_usage_critical: Option<bool>,
    /// Requested subject alternative names (see [`CertInfo::san`]).
    pub san: Vec<String>,
    /// Whether the requested subjectAltName is critical.
    pub san_critical: Option<bool>,
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
    for block in &blocks {
        let item = match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" => {
                Inspected::Certificate(inspect_cert_der(&block.der)?)
            }
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                Inspected::Csr(inspect_csr_der(&block.der)?)
            }
            "PRIVATE KEY" => {
                Inspected::PrivateKey(key_info(&Key::from_pkcs8_der(&block.der)?, "PKCS#8"))
            }
            "RSA PRIVATE KEY" => {
                Inspected::PrivateKey(key_info(&Key::from_pkcs1_der(&block.der)?, "PKCS#1"))
            }
            "EC PRIVATE KEY" => {
                Inspected::PrivateKey(key_info(&Key::from_sec1_der(&block.der)?, "SEC1"))
            }
            "ENCRYPTED PRIVATE KEY" => return Err(Error::EncryptedKey),
            _ => continue,
        };
        out.push(item);
    }
    if out.is_empty() {
        return Err(Error::NoPemBlock {
            expected: "certificate, certificate request or private key",
            found: PemBlock::labels(&blocks),
        });
    }
    Ok(out)
}

/// Inspects one DER certificate.
///
/// # Errors
/// [`Error::InvalidCertificate`] if the DER is not a certificate (or has trailing bytes).
pub fn inspect_cert_der(der: &[u8]) -> Result<CertInfo> {
    let (rest, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::InvalidCertificate(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::InvalidCertificate(format!(
            "{} trailing bytes after the certificate",
            rest.len()
        )));
    }
    let tbs = &cert.tbs_certificate;
    let not_before = tbs.validity.not_before;
    let not_after = tbs.validity.not_after;
    let ext = summarize_extensions(tbs.extensions());
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
        basic_constraints: ext.basic_constraints,
        key_usage: ext.key_usage,
        key_usage_critical: ext.key_usage_critical,
        ext_key_usage: ext.ext_key_usage,
        ext_key_usage_critical: ext.ext_key_usage_critical,
        san: ext.san,
        san_critical: ext.san_critical,
        subject_key_id: ext.subject_key_id,
        authority_key_id: ext.authority_key_id,
        extensions: ext.extensions,
        fingerprint_sha256: hex_colon(&Sha256::digest(cert.as_raw()), true),
        self_signed,
    })
}

/// Inspects one DER certificate signing request and checks its self-signature.
///
/// # Errors
/// [`Error::InvalidCsr`] if the DER is not a CSR (or has trailing bytes). A signature that
/// does not verify is not an error: see [`CsrInfo::signature_valid`].
pub fn inspect_csr_der(der: &[u8]) -> Result<CsrInfo> {
    let (rest, csr) =
        X509CertificationRequest::from_der(der).map_err(|e| Error::InvalidCsr(e.to_string()))?;
    if !rest.is_empty() {
        return Err(Error::InvalidCsr(format!(
            "{} trailing bytes after the request",
            rest.len()
        )));
    }
    let info = &csr.certification_request_info;
    let signature_valid = verify_signature(
        info.subject_pki.raw,
        &csr.signature_algorithm,
        info.raw,
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
    let ext = summarize_extensions(requested);
    Ok(CsrInfo {
        subject: name_info(&info.subject),
        public_key: public_key_info(&info.subject_pki),
        signature_algorithm: signature_algorithm_name(&csr.signature_algorithm.algorithm),
        signature_valid,
        basic_constraints: ext.basic_constraints,
        key_usage: ext.key_usage,
        key_usage_critical: ext.key_usage_critical,
        ext_key_usage: ext.ext_key_usage,
        ext_key_usage_critical: ext.ext_key_usage_critical,
        san: ext.san,
        san_critical: ext.san_critical,
        extensions: ext.extensions,
    })
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

// ---------------------------------------------------------------------------------------------
// Text rendering
// ---------------------------------------------------------------------------------------------

impl Inspected {
    /// Renders the object as text, like `openssl x509 -noout -text`, `openssl req -noout -text`,
    /// or (for keys) a short description without key material.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self {
            Inspected::Certificate(c) => c.to_text(),
            Inspected::Csr(c) => c.to_text(),
            Inspected::PrivateKey(k) => k.to_text(),
        }
    }
}

impl CertInfo {
    /// Renders the certificate like `openssl x509 -noout -text` (without the modulus, public
    /// point and signature hex dumps), followed by the SHA-256 fingerprint line of
    /// `openssl x509 -noout -fingerprint -sha256`.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("Certificate:\n    Data:\n");
        let raw_version = self.version.saturating_sub(1);
        let _ = writeln!(s, "        Version: {} (0x{raw_version:x})", self.version);
        let _ = writeln!(s, "        Serial Number:{}", serial_text(&self.serial));
        let _ = writeln!(
            s,
            "        Signature Algorithm: {}",
            self.signature_algorithm
        );
        push_line(&mut s, "        Issuer:", &self.issuer.text);
        s.push_str("        Validity\n");
        let _ = writeln!(
            s,
            "            Not Before: {}",
            openssl_time(&self.not_before)
        );
        let _ = writeln!(
            s,
            "            Not After : {}",
            openssl_time(&self.not_after)
        );
        push_line(&mut s, "        Subject:", &self.subject.text);
        push_public_key(&mut s, &self.public_key);
        if !self.extensions.is_empty() {
            s.push_str("        X509v3 extensions:\n");
            push_extensions(&mut s, &self.extensions, 12);
        }
        let _ = writeln!(s, "    Signature Algorithm: {}", self.signature_algorithm);
        let _ = writeln!(s, "sha256 Fingerprint={}", self.fingerprint_sha256);
        s
    }
}

impl CsrInfo {
    /// Renders the request like `openssl req -noout -text` (without hex dumps), followed by
    /// openssl's verdict line of `openssl req -verify`.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("Certificate Request:\n    Data:\n        Version: 1 (0x0)\n");
        push_line(&mut s, "        Subject:", &self.subject.text);
        push_public_key(&mut s, &self.public_key);
        s.push_str("        Attributes:\n");
        if self.extensions.is_empty() {
            s.push_str("            (none)\n");
        } else {
            s.push_str("            Requested Extensions:\n");
            push_extensions(&mut s, &self.extensions, 16);
        }
        let _ = writeln!(s, "    Signature Algorithm: {}", self.signature_algorithm);
        s.push_str(if self.signature_valid {
            "Certificate request self-signature ok\n"
        } else {
            "Certificate request self-signature verify failure\n"
        });
        s
    }
}

impl KeyInfo {
    /// Describes the key (format, algorithm, size, curve); never key material.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("Private Key:\n");
        let _ = writeln!(s, "    Format: {}", self.format);
        let _ = writeln!(s, "    Algorithm: {}", self.algorithm);
        let _ = writeln!(s, "    Private-Key: ({} bit)", self.bits);
        push_curve_lines(&mut s, self.curve.as_deref(), 4);
        s
    }
}

fn push_line(s: &mut String, head: &str, value: &str) {
    if value.is_empty() {
        s.push_str(head);
    } else {
        let _ = write!(s, "{head} {value}");
    }
    s.push('\n');
}

fn push_public_key(s: &mut String, pk: &PublicKeyInfo) {
    s.push_str("        Subject Public Key Info:\n");
    let name = match pk.algorithm.as_str() {
        "RSA" => "rsaEncryption",
        "ECDSA" => "id-ecPublicKey",
        "RSA-PSS" => "rsassaPss",
        "Ed25519" => "ED25519",
        "Ed448" => "ED448",
        "DSA" => "dsaEncryption",
        other => other,
    };
    let _ = writeln!(s, "            Public Key Algorithm: {name}");
    let _ = writeln!(s, "                Public-Key: ({} bit)", pk.bits);
    push_curve_lines(s, pk.curve.as_deref(), 16);
}

fn push_curve_lines(s: &mut String, curve: Option<&str>, indent: usize) {
    let Some(curve) = curve else { return };
    let (asn1, nist) = match curve {
        "P-256" => ("prime256v1", Some("P-256")),
        "P-384" => ("secp384r1", Some("P-384")),
        "P-521" => ("secp521r1", Some("P-521")),
        other => (other, None),
    };
    let _ = writeln!(s, "{:indent$}ASN1 OID: {asn1}", "");
    if let Some(nist) = nist {
        let _ = writeln!(s, "{:indent$}NIST CURVE: {nist}", "");
    }
}

fn push_extensions(s: &mut String, exts: &[ExtensionInfo], indent: usize) {
    for e in exts {
        let label = extension_names(&e.oid).map_or(e.oid.as_str(), |(_, label)| label);
        let crit = if e.critical { " critical" } else { "" };
        let _ = writeln!(s, "{:indent$}{label}:{crit}", "");
        for line in e.value.lines() {
            let _ = writeln!(s, "{:w$}{line}", "", w = indent + 4);
        }
    }
}

/// ` 4096 (0x1000)` for serials that fit a signed 64-bit integer, else the hex on a new line.
fn serial_text(serial: &str) -> String {
    let (neg, hex) = match serial.strip_prefix('-') {
        Some(h) => ("-", h),
        None => ("", serial),
    };
    let bytes: Option<Vec<u8>> = hex
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    if let Some(bytes) = bytes.filter(|b| b.len() <= 8) {
        let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        if i64::try_from(value).is_ok() {
            return format!(" {neg}{value} ({neg}0x{value:x})");
        }
    }
    let negative = if neg.is_empty() { "" } else { " (Negative)" };
    format!("\n            {hex}{negative}")
}

/// RFC 3339 (as in [`CertInfo::not_before`]) to openssl's `Nov 23 21:00:00 2026 GMT`.
fn openssl_time(rfc: &str) -> String {
    let parse_fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let out_fmt = format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    PrimitiveDateTime::parse(rfc, parse_fmt)
        .ok()
        .and_then(|dt| dt.format(out_fmt).ok())
        .unwrap_or_else(|| rfc.to_string())
}

fn rfc3339(t: ASN1Time) -> String {
    let dt: OffsetDateTime = t.to_datetime().to_offset(UtcOffset::UTC);
    dt.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| dt.to_string())
}

// ---------------------------------------------------------------------------------------------
// Names, keys, algorithms
// ---------------------------------------------------------------------------------------------

fn name_info(name: &X509Name<'_>) -> NameInfo {
    let mut fields = Vec::new();
    let mut rdns = Vec::new();
    for rdn in name.iter_rdn() {
        let mut parts = Vec::new();
        for atv in rdn.iter() {
            let short = attribute_short_name(atv.attr_type());
            let value = attribute_value(atv.attr_value());
            parts.push(format!("{short} = {}", escape_dn_value(&value)));
            fields.push(NameField { short, value });
        }
        rdns.push(parts.join(" + "));
    }
    NameInfo {
        text: rdns.join(", "),
        fields,
    }
}

/// openssl's older slash form (`/O=Cockroach/CN=Cockroach CA`), used for directory names in
/// subjectAltName and authorityKeyIdentifier renderings.
fn slash_name(name: &X509Name<'_>) -> String {
    let mut s = String::new();
    for atv in name.iter_attributes() {
        let _ = write!(
            s,
            "/{}={}",
            attribute_short_name(atv.attr_type()),
            attribute_value(atv.attr_value())
        );
    }
    s
}

fn attribute_short_name(oid: &Oid<'_>) -> String {
    let id = oid.to_id_string();
    let short = match id.as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "2.5.4.5" => "serialNumber",
        "2.5.4.9" => "street",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.12" => "title",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.17" => "postalCode",
        "2.5.4.13" => "description",
        "2.5.4.41" => "name",
        "2.5.4.15" => "businessCategory",
        "2.5.4.97" => "organizationIdentifier",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return id,
    };
    short.to_string()
}

fn attribute_value(any: &Any<'_>) -> String {
    let data = any.data;
    match any.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        // T.61 is close enough to Latin-1 for names.
        Tag::TeletexString => data.iter().map(|&b| char::from(b)).collect(),
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        _ => format!("#{}", hex::encode(data)),
    }
}

/// Escapes a name value as openssl's default `-nameopt` does: `"` and `\` get a backslash,
/// values with `,+<>;`, a leading `#` or space, or a trailing space are put in quotes, control
/// characters become `\XX`.
fn escape_dn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut quote = false;
    let count = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ',' | '+' | '<' | '>' | ';' => {
                quote = true;
                out.push(c);
            }
            '#' if i == 0 => {
                quote = true;
                out.push(c);
            }
            ' ' if i == 0 || i + 1 == count => {
                quote = true;
                out.push(c);
            }
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    if quote { format!("\"{out}\"") } else { out }
}

fn public_key_info(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyInfo {
    let alg = spki.algorithm.algorithm.to_id_string();
    let parsed = spki.parsed().ok();
    let size = parsed
        .as_ref()
        .map_or(0, |p| u32::try_from(p.key_size()).unwrap_or(0));
    let rsa_bits = || match &parsed {
        Some(ParsedPublicKey::RSA(rsa)) => integer_bits(rsa.modulus),
        _ => size,
    };
    match alg.as_str() {
        "1.2.840.113549.1.1.1" => PublicKeyInfo {
            algorithm: "RSA".into(),
            bits: rsa_bits(),
            curve: None,
        },
        "1.2.840.113549.1.1.10" => PublicKeyInfo {
            algorithm: "RSA-PSS".into(),
            bits: rsa_bits(),
            curve: None,
        },
        "1.2.840.10045.2.1" => {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| Oid::try_from(p).ok())
                .map(|o| o.to_id_string());
            let (curve, bits) = match curve_oid.as_deref() {
                Some("1.2.840.10045.3.1.7") => (Some("P-256".to_string()), 256),
                Some("1.3.132.0.34") => (Some("P-384".to_string()), 384),
                Some("1.3.132.0.35") => (Some("P-521".to_string()), 521),
                Some("1.3.132.0.10") => (Some("secp256k1".to_string()), 256),
                other => (other.map(str::to_string), size),
            };
            PublicKeyInfo {
                algorithm: "ECDSA".into(),
                bits,
                curve,
            }
        }
        "1.3.101.112" => PublicKeyInfo {
            algorithm: "Ed25519".into(),
            bits: 256,
            curve: None,
        },
        "1.3.101.113" => PublicKeyInfo {
            algorithm: "Ed448".into(),
            bits: 456,
            curve: None,
        },
        "1.2.840.10040.4.1" => PublicKeyInfo {
            algorithm: "DSA".into(),
            bits: size,
            curve: None,
        },
        _ => PublicKeyInfo {
            algorithm: alg,
            bits: size,
            curve: None,
        },
    }
}

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
fn integer_bits(bytes: &[u8]) -> u32 {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let Some(&first) = bytes.get(start) else {
        return 0;
    };
    let len = u32::try_from(bytes.len() - start).unwrap_or(0);
    (len - 1) * 8 + (8 - first.leading_zeros())
}

fn signature_algorithm_name(oid: &Oid<'_>) -> String {
    let id = oid.to_id_string();
    let name = match id.as_str() {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "1.2.840.10040.4.3" => "dsaWithSHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa_with_SHA256",
        _ => return id,
    };
    name.to_string()
}

/// Hex bytes joined by colons.
fn hex_colon(bytes: &[u8], upper: bool) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        if upper {
            let _ = write!(s, "{b:02X}");
        } else {
            let _ = write!(s, "{b:02x}");
        }
    }
    s
}

/// The magnitude of a DER INTEGER as openssl prints it: lowercase hex with colons, without the
/// padding byte; negative values get a `-`.
fn serial_string(raw: &[u8]) -> String {
    fn strip(bytes: &[u8]) -> &[u8] {
        let start = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        &bytes[start..]
    }
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        let mut mag: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        format!("-{}", hex_colon(strip(&mag), false))
    } else {
        hex_colon(strip(raw), false)
    }
}

// ---------------------------------------------------------------------------------------------
// Extensions
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct ExtSummary {
    basic_constraints: Option<BasicConstraintsInfo>,
    key_usage: Vec<String>,
    key_usage_critical: Option<bool>,
    ext_key_usage: Vec<String>,
    ext_key_usage_critical: Option<bool>,
    san: Vec<String>,
    san_critical: Option<bool>,
    subject_key_id: Option<String>,
    authority_key_id: Option<AuthorityKeyIdInfo>,
    extensions: Vec<ExtensionInfo>,
}

/// openssl's short name and text label of an extension.
fn extension_names(oid: &str) -> Option<(&'static str, &'static str)> {
    Some(match oid {
        "2.5.29.19" => ("basicConstraints", "X509v3 Basic Constraints"),
        "2.5.29.15" => ("keyUsage", "X509v3 Key Usage"),
        "2.5.29.37" => ("extendedKeyUsage", "X509v3 Extended Key Usage"),
        "2.5.29.17" => ("subjectAltName", "X509v3 Subject Alternative Name"),
        "2.5.29.18" => ("issuerAltName", "X509v3 Issuer Alternative Name"),
        "2.5.29.14" => ("subjectKeyIdentifier", "X509v3 Subject Key Identifier"),
        "2.5.29.35" => ("authorityKeyIdentifier", "X509v3 Authority Key Identifier"),
        "2.5.29.31" => ("crlDistributionPoints", "X509v3 CRL Distribution Points"),
        "2.5.29.32" => ("certificatePolicies", "X509v3 Certificate Policies"),
        "2.5.29.30" => ("nameConstraints", "X509v3 Name Constraints"),
        "2.5.29.36" => ("policyConstraints", "X509v3 Policy Constraints"),
        "2.5.29.33" => ("policyMappings", "X509v3 Policy Mappings"),
        "2.5.29.54" => ("inhibitAnyPolicy", "X509v3 Inhibit Any Policy"),
        "1.3.6.1.5.5.7.1.1" => ("authorityInfoAccess", "Authority Information Access"),
        "1.3.6.1.5.5.7.1.11" => ("subjectInfoAccess", "Subject Information Access"),
        "1.3.6.1.5.5.7.1.24" => ("tlsfeature", "TLS Feature"),
        "1.3.6.1.5.5.7.48.1.5" => ("noCheck", "OCSP No Check"),
        "2.16.840.1.113730.1.1" => ("nsCertType", "Netscape Cert Type"),
        "2.16.840.1.113730.1.13" => ("nsComment", "Netscape Comment"),
        "1.3.6.1.4.1.11129.2.4.2" => ("ct_precert_scts", "CT Precertificate SCTs"),
        "1.3.6.1.4.1.11129.2.4.3" => ("ct_precert_poison", "CT Precertificate Poison"),
        _ => return None,
    })
}

/// openssl config name and text label of an extended key usage.
fn eku_names(oid: &str) -> Option<(&'static str, &'static str)> {
    Some(match oid {
        "1.3.6.1.5.5.7.3.1" => ("serverAuth", "TLS Web Server Authentication"),
        "1.3.6.1.5.5.7.3.2" => ("clientAuth", "TLS Web Client Authentication"),
        "1.3.6.1.5.5.7.3.3" => ("codeSigning", "Code Signing"),
        "1.3.6.1.5.5.7.3.4" => ("emailProtection", "E-mail Protection"),
        "1.3.6.1.5.5.7.3.8" => ("timeStamping", "Time Stamping"),
        "1.3.6.1.5.5.7.3.9" => ("OCSPSigning", "OCSP Signing"),
        "2.5.29.37.0" => ("anyExtendedKeyUsage", "Any Extended Key Usage"),
        _ => return None,
    })
}

/// openssl's text label of extended key usages it knows but pkirun has no config name for.
fn eku_other_label(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.3.6.1.5.5.7.3.5" => "IPSec End System",
        "1.3.6.1.5.5.7.3.6" => "IPSec Tunnel",
        "1.3.6.1.5.5.7.3.7" => "IPSec User",
        "1.3.6.1.5.5.7.3.17" => "ipsec Internet Key Exchange",
        "1.3.6.1.4.1.311.10.3.4" => "Microsoft Encrypted File System",
        "1.3.6.1.4.1.311.10.3.3" => "Microsoft Server Gated Crypto",
        "1.3.6.1.4.1.311.20.2.2" => "Microsoft Smartcard Login",
        "1.3.6.1.4.1.311.2.1.21" => "Microsoft Individual Code Signing",
        "1.3.6.1.4.1.311.2.1.22" => "Microsoft Commercial Code Signing",
        "1.3.6.1.5.2.3.4" => "PKINIT Client Auth",
        "1.3.6.1.5.2.3.5" => "Signing KDC Response",
        _ => return None,
    })
}

/// A keyUsage bit: openssl config name, openssl text label, getter.
type KeyUsageBit = (&'static str, &'static str, fn(&KeyUsage) -> bool);

const KEY_USAGE_BITS: [KeyUsageBit; 9] = [
    (
        "digitalSignature",
        "Digital Signature",
        KeyUsage::digital_signature,
    ),
    (
        "nonRepudiation",
        "Non Repudiation",
        KeyUsage::non_repudiation,
    ),
    (
        "keyEncipherment",
        "Key Encipherment",
        KeyUsage::key_encipherment,
    ),
    (
        "dataEncipherment",
        "Data Encipherment",
        KeyUsage::data_encipherment,
    ),
    ("keyAgreement", "Key Agreement", KeyUsage::key_agreement),
    ("keyCertSign", "Certificate Sign", KeyUsage::key_cert_sign),
    ("cRLSign", "CRL Sign", KeyUsage::crl_sign),
    ("encipherOnly", "Encipher Only", KeyUsage::encipher_only),
    ("decipherOnly", "Decipher Only", KeyUsage::decipher_only),
];

fn summarize_extensions(exts: &[X509Extension<'_>]) -> ExtSummary {
    let mut sum = ExtSummary::default();
    for ext in exts {
        let oid = ext.oid.to_id_string();
        let crit = ext.critical;
        let value = match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                if sum.basic_constraints.is_none() {
                    sum.basic_constraints = Some(BasicConstraintsInfo {
                        ca: bc.ca,
                        path_len: bc.path_len_constraint,
                        critical: crit,
                    });
                }
                let mut v = if bc.ca { "CA:TRUE" } else { "CA:FALSE" }.to_string();
                if let Some(n) = bc.path_len_constraint {
                    let _ = write!(v, ", pathlen:{n}");
                }
                v
            }
            ParsedExtension::KeyUsage(ku) => {
                let set: Vec<_> = KEY_USAGE_BITS.iter().filter(|(_, _, f)| f(ku)).collect();
                if sum.key_usage_critical.is_none() {
                    sum.key_usage = set.iter().map(|(n, _, _)| (*n).to_string()).collect();
                    sum.key_usage_critical = Some(crit);
                }
                set.iter()
                    .map(|(_, l, _)| *l)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            ParsedExtension::ExtendedKeyUsage(_) => {
                match Vec::<const_oid::ObjectIdentifier>::from_der(ext.value) {
                    Ok(oids) => {
                        let ids: Vec<String> = oids.iter().map(ToString::to_string).collect();
                        if sum.ext_key_usage_critical.is_none() {
                            sum.ext_key_usage = ids
                                .iter()
                                .map(|id| {
                                    eku_names(id).map_or_else(|| id.clone(), |(n, _)| n.into())
                                })
                                .collect();
                            sum.ext_key_usage_critical = Some(crit);
                        }
                        ids.iter()
                            .map(|id| {
                                eku_names(id)
                                    .map(|(_, l)| l)
                                    .or_else(|| eku_other_label(id))
                                    .unwrap_or(id)
                                    .to_string()
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                    Err(_) => raw_dump(ext.value),
                }
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                if sum.san_critical.is_none() {
                    sum.san = san.general_names.iter().map(general_name_struct).collect();
                    sum.san_critical = Some(crit);
                }
                general_names_list(&san.general_names)
            }
            ParsedExtension::IssuerAlternativeName(ian) => general_names_list(&ian.general_names),
            ParsedExtension::SubjectKeyIdentifier(kid) => {
                let v = hex_colon(kid.0, true);
                if sum.subject_key_id.is_none() {
                    sum.subject_key_id = Some(v.clone());
                }
                v
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                if sum.authority_key_id.is_none() {
                    sum.authority_key_id = Some(authority_key_id_info(aki));
                }
                authority_key_id_text(aki)
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                let mut blocks = Vec::new();
                for p in &points.points {
                    let mut lines = Vec::new();
                    match &p.distribution_point {
                        Some(DistributionPointName::FullName(names)) => {
                            lines.push("Full Name:".to_string());
                            lines.extend(
                                names.iter().map(|g| format!("  {}", general_name_print(g))),
                            );
                        }
                        Some(DistributionPointName::NameRelativeToCRLIssuer(rdn)) => {
                            lines.push("Relative Name:".to_string());
                            let parts: Vec<String> = rdn
                                .iter()
                                .map(|a| {
                                    format!(
                                        "{}={}",
                                        attribute_short_name(a.attr_type()),
                                        attribute_value(a.attr_value())
                                    )
                                })
                                .collect();
                            lines.push(format!("  {}", parts.join(" + ")));
                        }
                        None => {}
                    }
                    if let Some(issuer) = &p.crl_issuer {
                        lines.push("CRL Issuer:".to_string());
                        lines.extend(
                            issuer
                                .iter()
                                .map(|g| format!("  {}", general_name_print(g))),
                        );
                    }
                    blocks.push(lines.join("\n"));
                }
                blocks.join("\n\n")
            }
            ParsedExtension::AuthorityInfoAccess(aia) => access_descriptions(&aia.accessdescs),
            ParsedExtension::SubjectInfoAccess(sia) => access_descriptions(&sia.accessdescs),
            ParsedExtension::CertificatePolicies(policies) => {
                let mut lines = Vec::new();
                for p in policies {
                    let id = p.policy_id.to_id_string();
                    if id == "2.5.29.32.0" {
                        lines.push("Policy: X509v3 Any Policy".to_string());
                    } else {
                        lines.push(format!("Policy: {id}"));
                    }
                    for q in p.policy_qualifiers.iter().flatten() {
                        let qid = q.policy_qualifier_id.to_id_string();
                        if qid == "1.3.6.1.5.5.7.2.1" {
                            let text = Any::from_der(q.qualifier)
                                .map(|(_, a)| String::from_utf8_lossy(a.data).into_owned())
                                .unwrap_or_else(|_| {
                                    String::from_utf8_lossy(q.qualifier).into_owned()
                                });
                            lines.push(format!("  CPS: {text}"));
                        } else if qid == "1.3.6.1.5.5.7.2.2" {
                            lines.push("  User Notice:".to_string());
                        } else {
                            lines.push(format!("  Unknown Qualifier: {qid}"));
                        }
                    }
                }
                lines.join("\n")
            }
            ParsedExtension::NameConstraints(nc) => {
                let mut lines = Vec::new();
                for (head, subtrees) in [
                    ("Permitted:", &nc.permitted_subtrees),
                    ("Excluded:", &nc.excluded_subtrees),
                ] {
                    if let Some(subtrees) = subtrees {
                        lines.push(head.to_string());
                        for st in subtrees {
                            let v = match &st.base {
                                GeneralName::IPAddress(b) => format!("IP:{}", ip_constraint(b)),
                                other => general_name_print(other),
                            };
                            lines.push(format!("  {v}"));
                        }
                    }
                }
                lines.join("\n")
            }
            ParsedExtension::PolicyConstraints(pc) => {
                let mut parts = Vec::new();
                if let Some(n) = pc.require_explicit_policy {
                    parts.push(format!("Require Explicit Policy:{n}"));
                }
                if let Some(n) = pc.inhibit_policy_mapping {
                    parts.push(format!("Inhibit Policy Mapping:{n}"));
                }
                parts.join(", ")
            }
            ParsedExtension::PolicyMappings(pm) => pm
                .mappings
                .iter()
                .map(|m| {
                    format!(
                        "{}:{}",
                        m.issuer_domain_policy.to_id_string(),
                        m.subject_domain_policy.to_id_string()
                    )
                })
                .collect::<Vec<_>>()
                .join(", "),
            ParsedExtension::InhibitAnyPolicy(iap) => iap.skip_certs.to_string(),
            ParsedExtension::NsCertComment(c) => (*c).to_string(),
            ParsedExtension::NSCertType(t) => ns_cert_type(t),
            _ => raw_dump(ext.value),
        };
        let name = extension_names(&oid).map_or_else(|| oid.clone(), |(n, _)| n.to_string());
        sum.extensions.push(ExtensionInfo {
            name,
            oid,
            critical: crit,
            value,
        });
    }
    sum
}

fn ns_cert_type(t: &NSCertType) -> String {
    let flags: [(bool, &str); 7] = [
        (t.ssl_client(), "SSL Client"),
        (t.ssl_server(), "SSL Server"),
        (t.smime(), "S/MIME"),
        (t.object_signing(), "Object Signing"),
        (t.ssl_ca(), "SSL CA"),
        (t.smime_ca(), "S/MIME CA"),
        (t.object_signing_ca(), "Object Signing CA"),
    ];
    flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// openssl's rendering of an extension it cannot decode: printable ASCII kept, the rest as
/// `.`, 80 characters a line.
fn raw_dump(bytes: &[u8]) -> String {
    let chars: Vec<char> = bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    chars
        .chunks(80)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn access_descriptions(descs: &[AccessDescription<'_>]) -> String {
    descs
        .iter()
        .map(|d| {
            let id = d.access_method.to_id_string();
            let method = match id.as_str() {
                "1.3.6.1.5.5.7.48.1" => "OCSP",
                "1.3.6.1.5.5.7.48.2" => "CA Issuers",
                "1.3.6.1.5.5.7.48.3" => "AD Time Stamping",
                "1.3.6.1.5.5.7.48.5" => "CA Repository",
                other => other,
            };
            format!("{method} - {}", general_name_list_item(&d.access_location))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn authority_key_id_info(aki: &AuthorityKeyIdentifier<'_>) -> AuthorityKeyIdInfo {
    AuthorityKeyIdInfo {
        key_id: aki.key_identifier.as_ref().map(|k| hex_colon(k.0, true)),
        issuer: aki.authority_cert_issuer.as_ref().map(|names| {
            names
                .iter()
                .map(|g| match g {
                    GeneralName::DirectoryName(n) => name_info(n).text,
                    other => general_name_struct(other),
                })
                .collect::<Vec<_>>()
                .join(", ")
        }),
        serial: aki.authority_cert_serial.map(serial_string),
    }
}

fn authority_key_id_text(aki: &AuthorityKeyIdentifier<'_>) -> String {
    let mut lines = Vec::new();
    let more = aki.authority_cert_issuer.is_some() || aki.authority_cert_serial.is_some();
    if let Some(k) = &aki.key_identifier {
        let hex = hex_colon(k.0, true);
        lines.push(if more { format!("keyid:{hex}") } else { hex });
    }
    for g in aki.authority_cert_issuer.iter().flatten() {
        lines.push(general_name_list_item(g));
    }
    if let Some(serial) = aki.authority_cert_serial {
        let plain = serial_string(serial).to_ascii_uppercase();
        lines.push(format!("serial:{plain}"));
    }
    lines.join("\n")
}

fn general_names_list(names: &[GeneralName<'_>]) -> String {
    names
        .iter()
        .map(general_name_list_item)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Known otherName types: openssl's label.
fn other_name_label(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.3.6.1.4.1.311.20.2.3" => "UPN",
        "1.3.6.1.5.5.7.8.9" => "SmtpUTF8Mailbox",
        "1.3.6.1.5.5.7.8.5" => "XmppAddr",
        "1.3.6.1.5.5.7.8.7" => "SRVName",
        "1.3.6.1.5.5.7.8.8" => "NAIRealm",
        _ => return None,
    })
}

/// The string inside an otherName's `[0] EXPLICIT` value, if it is a string.
fn other_name_value(data: &[u8]) -> Option<String> {
    let (_, outer) = Any::from_der(data).ok()?;
    let (_, inner) = Any::from_der(outer.data).ok()?;
    match inner.tag() {
        Tag::Utf8String | Tag::Ia5String | Tag::PrintableString | Tag::VisibleString => {
            std::str::from_utf8(inner.data).ok().map(str::to_string)
        }
        _ => None,
    }
}

/// openssl's IPv6 rendering: eight uppercase groups, no zero compression.
fn ipv6_openssl(b: &[u8]) -> String {
    b.chunks(2)
        .map(|c| {
            format!(
                "{:X}",
                u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])
            )
        })
        .collect::<Vec<_>>()
        .join(":")
}

fn ip_constraint(b: &[u8]) -> String {
    match b.len() {
        8 => format!("{}/{}", ip_struct(&b[..4]), ip_struct(&b[4..])),
        32 => format!("{}/{}", ipv6_openssl(&b[..16]), ipv6_openssl(&b[16..])),
        _ => hex_colon(b, true),
    }
}

fn ip_struct(b: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
        Ipv6Addr::from(v6).to_string()
    } else {
        hex_colon(b, false)
    }
}

/// A general name the way pkirun (and openssl's config) writes it: `DNS:x`, `IP:::1`, ...
fn general_name_struct(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::IPAddress(b) => format!("IP:{}", ip_struct(b)),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{}", name_info(n).text),
        GeneralName::RegisteredID(oid) => format!("RID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, data) => match other_name_value(data) {
            Some(v) => format!("otherName:{};UTF8:{v}", oid.to_id_string()),
            None => format!(
                "otherName:{};{}",
                oid.to_id_string(),
                hex_colon(data, false)
            ),
        },
        GeneralName::X400Address(_) => "X400Name:<unsupported>".into(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".into(),
        GeneralName::Invalid(tag, data) => format!("invalid:[{}]{}", tag.0, hex_colon(data, false)),
    }
}

/// A general name as openssl lists it in subjectAltName, AKI and AIA (`IP Address:...`,
/// `DirName:/O=.../CN=...`).
fn general_name_list_item(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DirectoryName(n) => format!("DirName:{}", slash_name(n)),
        other => general_name_print(other),
    }
}

/// A general name as openssl's `GENERAL_NAME_print` writes it (CRL distribution points, name
/// constraints): directory names in one-line form.
fn general_name_print(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::IPAddress(b) => match b.len() {
            4 => format!("IP Address:{}", ip_struct(b)),
            16 => format!("IP Address:{}", ipv6_openssl(b)),
            _ => "IP Address:<invalid>".into(),
        },
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{}", name_info(n).text),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, data) => {
            match (
                other_name_label(&oid.to_id_string()),
                other_name_value(data),
            ) {
                (Some(label), Some(v)) => format!("othername: {label}::{v}"),
                _ => "othername:<unsupported>".into(),
            }
        }
        GeneralName::X400Address(_) => "X400Name:<unsupported>".into(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".into(),
        GeneralName::Invalid(..) => "<invalid>".into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic
mod tests {
    use super::*;

    const CA: &[u8] = include_bytes!("../../tests/data/inspect/ca.pem");
    const CA_TXT: &str = include_str!("../../tests/data/inspect/ca.txt");
    const CA_KEY: &[u8] = include_bytes!("../../tests/data/inspect/ca-key.pkcs1.pem");
    const LEAF: &[u8] = include_bytes!("../../tests/data/inspect/leaf.pem");
    const LEAF_TXT: &str = include_str!("../../tests/data/inspect/leaf.txt");
    const LEAF_KEY: &[u8] = include_bytes!("../../tests/data/inspect/leaf-key.pkcs8.pem");
    const CSR: &[u8] = include_bytes!("../../tests/data/inspect/leaf.csr.pem");
    const CSR_TXT: &str = include_str!("../../tests/data/inspect/leaf.csr.txt");
    const CSR_TAMPERED: &[u8] = include_bytes!("../../tests/data/inspect/leaf.csr.tampered.pem");
    const EC384: &[u8] = include_bytes!("../../tests/data/inspect/ec384.pem");
    const EC384_TXT: &str = include_str!("../../tests/data/inspect/ec384.txt");
    const EC384_KEY: &[u8] = include_bytes!("../../tests/data/inspect/ec384-key.sec1.pem");
    const MISC: &[u8] = include_bytes!("../../tests/data/inspect/misc.pem");
    const MISC_TXT: &str = include_str!("../../tests/data/inspect/misc.txt");

    const CA_SKI: &str = "C3:8C:97:79:9E:86:19:06:C9:88:A9:21:AA:B4:53:C9:A9:39:00:94";

    fn one(pem: &[u8]) -> Inspected {
        let mut items = inspect_pem(pem).unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        items.remove(0)
    }

    fn cert(pem: &[u8]) -> CertInfo {
        match one(pem) {
            Inspected::Certificate(c) => c,
            other => panic!("not a certificate: {other:?}"),
        }
    }

    fn csr(pem: &[u8]) -> CsrInfo {
        match one(pem) {
            Inspected::Csr(c) => c,
            other => panic!("not a CSR: {other:?}"),
        }
    }

    fn field(short: &str, value: &str) -> NameField {
        NameField {
            short: short.into(),
            value: value.into(),
        }
    }

    fn ext(name: &str, oid: &str, critical: bool, value: &str) -> ExtensionInfo {
        ExtensionInfo {
            name: name.into(),
            oid: oid.into(),
            critical,
            value: value.into(),
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    /// Every line of openssl's `-text` output, except hex dumps and the lines that introduce
    /// them, must appear as a line of ours.
    fn assert_matches_openssl(ours: &str, openssl: &str) {
        let our_lines: Vec<&str> = ours.lines().map(str::trim_end).collect();
        let is_dump = |l: &str| {
            let t = l.trim();
            !t.is_empty()
                && t.split(':').all(|p| {
                    p.is_empty() || (p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
                })
                && t.contains(':')
                && !t.chars().any(|c| c.is_ascii_uppercase())
        };
        for line in openssl.lines().map(str::trim_end) {
            let t = line.trim();
            if is_dump(line)
                || ["Modulus:", "pub:", "Signature Value:"].contains(&t)
                || t.starts_with("Exponent:")
            {
                continue;
            }
            assert!(
                our_lines.contains(&line),
                "openssl line missing from our text: {line:?}\n--- ours ---\n{ours}"
            );
        }
    }

    #[test]
    fn rsa_ca_certificate() {
        let c = cert(CA);
        let name = NameInfo {
            text: "O = Cockroach, CN = Cockroach CA".into(),
            fields: vec![field("O", "Cockroach"), field("CN", "Cockroach CA")],
        };
        let expected = CertInfo {
            version: 3,
            serial: "10:00".into(),
            signature_algorithm: "sha256WithRSAEncryption".into(),
            issuer: name.clone(),
            subject: name,
            not_before: "2026-11-23T21:30:19Z".into(),
            not_after: "2036-11-20T21:30:19Z".into(),
            validity_seconds: 3650 * 86400,
            public_key: PublicKeyInfo {
                algorithm: "RSA".into(),
                bits: 2048,
                curve: None,
            },
            basic_constraints: Some(BasicConstraintsInfo {
                ca: true,
                path_len: Some(1),
                critical: true,
            }),
            key_usage: strings(&["digitalSignature", "keyCertSign", "cRLSign"]),
            key_usage_critical: Some(true),
            ext_key_usage: vec![],
            ext_key_usage_critical: None,
            san: vec![],
            san_critical: None,
            subject_key_id: Some(CA_SKI.into()),
            authority_key_id: Some(AuthorityKeyIdInfo {
                key_id: Some(CA_SKI.into()),
                issuer: None,
                serial: None,
            }),
            extensions: vec![
                ext("basicConstraints", "2.5.29.19", true, "CA:TRUE, pathlen:1"),
                ext(
                    "keyUsage",
                    "2.5.29.15",
                    true,
                    "Digital Signature, Certificate Sign, CRL Sign",
                ),
                ext("subjectKeyIdentifier", "2.5.29.14", false, CA_SKI),
                ext("authorityKeyIdentifier", "2.5.29.35", false, CA_SKI),
            ],
            fingerprint_sha256: "59:56:65:FB:26:F4:40:DB:E5:5B:E2:FD:2C:28:B5:55:24:9D:B0:A3:\
                                 C4:15:9B:81:54:CB:9F:42:01:8A:99:D8"
                .into(),
            self_signed: true,
        };
        assert_eq!(c, expected);

        // The SKI is the RFC 5280 method-1 identifier pkirun computes for the key.
        let key = Key::from_pem(CA_KEY).unwrap();
        assert_eq!(hex_colon(&key.key_identifier(), true), CA_SKI);

        let text = c.to_text();
        for line in [
            "        Version: 3 (0x2)",
            "        Serial Number: 4096 (0x1000)",
            "        Issuer: O = Cockroach, CN = Cockroach CA",
            "        Subject: O = Cockroach, CN = Cockroach CA",
            "            Not Before: Nov 23 21:30:19 2026 GMT",
            "            Not After : Nov 20 21:30:19 2036 GMT",
            "            Public Key Algorithm: rsaEncryption",
            "                Public-Key: (2048 bit)",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
        }
        assert!(text.contains(
            "            X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:1\n"
        ));
        assert!(text.contains(
            "            X509v3 Key Usage: critical\n                \
             Digital Signature, Certificate Sign, CRL Sign\n"
        ));
        assert_matches_openssl(&text, CA_TXT);
    }

    #[test]
    fn leaf_certificate_with_critical_san() {
        let c = cert(LEAF);
        assert_eq!(c.version, 3);
        assert_eq!(
            c.serial,
            "8a:3f:0c:11:d2:e4:b5:a6:97:88:77:66:55:44:33:22:11:00:ff:ee"
        );
        assert_eq!(c.issuer.text, "O = Cockroach, CN = Cockroach CA");
        assert_eq!(
            c.subject.text,
            "C = US, O = Cockroach, OU = db, OU = ops, CN = node"
        );
        assert_eq!(
            c.subject.fields,
            vec![
                field("C", "US"),
                field("O", "Cockroach"),
                field("OU", "db"),
                field("OU", "ops"),
                field("CN", "node"),
            ]
        );
        assert_eq!(c.not_before, "2026-11-23T21:30:19Z");
        assert_eq!(c.not_after, "2029-02-25T21:30:19Z");
        assert_eq!(c.validity_seconds, 825 * 86400);
        assert_eq!(
            c.public_key,
            PublicKeyInfo {
                algorithm: "ECDSA".into(),
                bits: 256,
                curve: Some("P-256".into()),
            }
        );
        assert_eq!(
            c.basic_constraints,
            Some(BasicConstraintsInfo {
                ca: false,
                path_len: None,
                critical: false,
            })
        );
        assert_eq!(
            c.key_usage,
            strings(&["digitalSignature", "keyEncipherment"])
        );
        assert_eq!(c.key_usage_critical, Some(true));
        assert_eq!(c.ext_key_usage, strings(&["serverAuth", "clientAuth"]));
        assert_eq!(c.ext_key_usage_critical, Some(false));
        assert_eq!(
            c.san,
            strings(&[
                "DNS:localhost",
                "DNS:node.example.io",
                "IP:127.0.0.1",
                "IP:::1",
                "URI:spiffe://cockroach/node/1",
                "email:ops@example.io",
            ])
        );
        assert_eq!(c.san_critical, Some(true));
        assert_eq!(
            c.subject_key_id.as_deref(),
            Some("C1:B5:9E:2A:54:9A:3E:9C:A8:0F:DA:F1:C1:83:36:80:D0:9F:87:2D")
        );
        assert_eq!(
            c.authority_key_id,
            Some(AuthorityKeyIdInfo {
                key_id: Some(CA_SKI.into()),
                issuer: Some("O = Cockroach, CN = Cockroach CA".into()),
                serial: Some("10:00".into()),
            })
        );
        let names: Vec<&str> = c.extensions.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "basicConstraints",
                "keyUsage",
                "extendedKeyUsage",
                "subjectAltName",
                "subjectKeyIdentifier",
                "authorityKeyIdentifier"
            ]
        );
        assert_eq!(
            c.extensions[2].value,
            "TLS Web Server Authentication, TLS Web Client Authentication"
        );
        assert_eq!(
            c.extensions[3],
            ext(
                "subjectAltName",
                "2.5.29.17",
                true,
                "DNS:localhost, DNS:node.example.io, IP Address:127.0.0.1, \
                 IP Address:0:0:0:0:0:0:0:1, URI:spiffe://cockroach/node/1, email:ops@example.io"
            )
        );
        assert_eq!(
            c.extensions[5].value,
            format!("keyid:{CA_SKI}\nDirName:/O=Cockroach/CN=Cockroach CA\nserial:10:00")
        );
        assert_eq!(
            c.fingerprint_sha256,
            "C1:74:5F:78:D4:B9:D4:C7:BF:6A:FE:36:1A:46:0A:D7:66:30:AB:57:C7:62:53:4C:A7:7C:55:83:\
             9F:EC:C9:08"
        );
        assert!(!c.self_signed);

        let text = c.to_text();
        assert!(text.contains(
            "        Serial Number:\n            \
             8a:3f:0c:11:d2:e4:b5:a6:97:88:77:66:55:44:33:22:11:00:ff:ee\n"
        ));
        assert!(text.contains(
            "            X509v3 Subject Alternative Name: critical\n                \
             DNS:localhost, DNS:node.example.io, IP Address:127.0.0.1"
        ));
        assert!(text.contains("            Public Key Algorithm: id-ecPublicKey\n"));
        assert_matches_openssl(&text, LEAF_TXT);
    }

    #[test]
    fn ecdsa_p384_certificate() {
        let c = cert(EC384);
        assert_eq!(c.signature_algorithm, "ecdsa-with-SHA384");
        assert_eq!(c.serial, "01:02:03:04:05:06:07:08:09:0a");
        assert_eq!(
            c.public_key,
            PublicKeyInfo {
                algorithm: "ECDSA".into(),
                bits: 384,
                curve: Some("P-384".into()),
            }
        );
        assert_eq!(
            c.subject.text,
            r#"C = US, ST = New York, O = "Example, Inc.", CN = EC \"384\" Root"#
        );
        assert_eq!(c.subject.fields[2], field("O", "Example, Inc."));
        assert_eq!(c.subject.fields[3], field("CN", "EC \"384\" Root"));
        assert_eq!(c.issuer, c.subject);
        assert_eq!(c.validity_seconds, 365 * 86400);
        assert_eq!(
            c.basic_constraints,
            Some(BasicConstraintsInfo {
                ca: true,
                path_len: None,
                critical: true,
            })
        );
        assert_eq!(c.key_usage, strings(&["keyCertSign", "cRLSign"]));
        assert!(c.authority_key_id.is_none());
        assert!(c.self_signed, "P-384 self-signature verifies");
        let text = c.to_text();
        assert!(
            text.contains(
                "                ASN1 OID: secp384r1\n                NIST CURVE: P-384\n"
            )
        );
        assert_matches_openssl(&text, EC384_TXT);
    }

    #[test]
    fn less_common_extensions_render_like_openssl() {
        let c = cert(MISC);
        assert_eq!(c.serial, "7f:ff:ff:ff:ff:ff:ff:ff");
        assert_eq!(
            c.subject.text,
            r##"DC = io, DC = example, CN = misc + UID = 42, O = "Acme, Inc", OU = " padded ", title = "#1""##
        );
        assert_eq!(c.subject.fields[3], field("UID", "42"));
        assert_eq!(c.subject.fields[5], field("OU", " padded "));
        assert_eq!(
            c.key_usage,
            strings(&[
                "nonRepudiation",
                "dataEncipherment",
                "keyAgreement",
                "encipherOnly",
                "decipherOnly"
            ])
        );
        assert_eq!(c.key_usage_critical, Some(false));
        assert_eq!(
            c.ext_key_usage,
            strings(&[
                "codeSigning",
                "emailProtection",
                "timeStamping",
                "OCSPSigning",
                "1.3.6.1.4.1.311.10.3.4",
                "anyExtendedKeyUsage",
            ])
        );
        assert_eq!(
            c.san,
            strings(&[
                "IP:2001:db8::1",
                "IP:fe80::1:0:0:2",
                "DirName:O = Dir Org, CN = dir cn",
                "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com",
                "RID:1.2.3.4",
            ])
        );
        let unknown = c.extensions.iter().find(|e| e.oid == "1.2.3.4.5").unwrap();
        assert_eq!(unknown.name, "1.2.3.4.5");
        assert_eq!(unknown.value, "..custom");
        let nc = c
            .extensions
            .iter()
            .find(|e| e.name == "nameConstraints")
            .unwrap();
        assert!(nc.critical);
        assert!(c.self_signed);
        let text = c.to_text();
        assert!(text.contains("        Serial Number: 9223372036854775807 (0x7fffffffffffffff)\n"));
        assert_matches_openssl(&text, MISC_TXT);
    }

    #[test]
    fn csr_with_requested_extensions() {
        let c = csr(CSR);
        assert_eq!(
            c.subject.text,
            "C = US, O = Cockroach, OU = db, OU = ops, CN = node"
        );
        assert_eq!(c.signature_algorithm, "ecdsa-with-SHA256");
        assert!(c.signature_valid);
        assert_eq!(
            c.public_key,
            PublicKeyInfo {
                algorithm: "ECDSA".into(),
                bits: 256,
                curve: Some("P-256".into()),
            }
        );
        assert_eq!(
            c.basic_constraints,
            Some(BasicConstraintsInfo {
                ca: false,
                path_len: None,
                critical: false,
            })
        );
        assert_eq!(
            c.key_usage,
            strings(&["digitalSignature", "keyEncipherment"])
        );
        assert_eq!(c.key_usage_critical, Some(true));
        assert_eq!(c.ext_key_usage, strings(&["clientAuth"]));
        assert_eq!(c.ext_key_usage_critical, Some(false));
        assert_eq!(c.san, strings(&["DNS:node", "IP:10.0.0.1"]));
        assert_eq!(c.san_critical, Some(false));
        assert_eq!(
            c.extensions,
            vec![
                ext("basicConstraints", "2.5.29.19", false, "CA:FALSE"),
                ext(
                    "keyUsage",
                    "2.5.29.15",
                    true,
                    "Digital Signature, Key Encipherment"
                ),
                ext(
                    "extendedKeyUsage",
                    "2.5.29.37",
                    false,
                    "TLS Web Client Authentication"
                ),
                ext(
                    "subjectAltName",
                    "2.5.29.17",
                    false,
                    "DNS:node, IP Address:10.0.0.1"
                ),
            ]
        );
        let text = Inspected::Csr(c).to_text();
        assert!(text.starts_with("Certificate Request:\n    Data:\n        Version: 1 (0x0)\n"));
        assert!(text.contains(
            "            Requested Extensions:\n                X509v3 Basic Constraints:\n"
        ));
        assert!(text.ends_with("Certificate request self-signature ok\n"));
        assert_matches_openssl(&text, CSR_TXT);
    }

    #[test]
    fn tampered_csr_parses_but_signature_fails() {
        let c = csr(CSR_TAMPERED);
        assert!(!c.signature_valid);
        assert_eq!(c.subject.fields[1], field("O", "cockroach"));
        assert!(
            Inspected::Csr(c)
                .to_text()
                .ends_with("Certificate request self-signature verify failure\n")
        );
    }

    #[test]
    fn private_keys_in_all_three_formats() {
        let key = |pem| match one(pem) {
            Inspected::PrivateKey(k) => k,
            other => panic!("not a key: {other:?}"),
        };
        assert_eq!(
            key(CA_KEY),
            KeyInfo {
                algorithm: "RSA".into(),
                bits: 2048,
                curve: None,
                format: "PKCS#1".into(),
            }
        );
        assert_eq!(
            key(LEAF_KEY),
            KeyInfo {
                algorithm: "ECDSA".into(),
                bits: 256,
                curve: Some("P-256".into()),
                format: "PKCS#8".into(),
            }
        );
        // `openssl ecparam -genkey` writes an EC PARAMETERS block first: it is skipped.
        assert!(
            std::str::from_utf8(EC384_KEY)
                .unwrap()
                .starts_with("-----BEGIN EC PARAMETERS-----")
        );
        let k = key(EC384_KEY);
        assert_eq!(
            k,
            KeyInfo {
                algorithm: "ECDSA".into(),
                bits: 384,
                curve: Some("P-384".into()),
                format: "SEC1".into(),
            }
        );
        let text = Inspected::PrivateKey(k).to_text();
        assert_eq!(
            text,
            "Private Key:\n    Format: SEC1\n    Algorithm: ECDSA\n    Private-Key: (384 bit)\n    \
             ASN1 OID: secp384r1\n    NIST CURVE: P-384\n"
        );
    }

    #[test]
    fn bundles_keep_file_order_and_errors() {
        let mut bundle = Vec::new();
        for part in [LEAF, CA, LEAF_KEY] {
            bundle.extend_from_slice(part);
        }
        let kinds: Vec<&str> = inspect_pem(&bundle)
            .unwrap()
            .iter()
            .map(|i| match i {
                Inspected::Certificate(_) => "cert",
                Inspected::Csr(_) => "csr",
                Inspected::PrivateKey(_) => "key",
            })
            .collect();
        assert_eq!(kinds, ["cert", "cert", "key"]);

        let params_only =
            b"-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n";
        assert!(matches!(
            inspect_pem(params_only),
            Err(Error::NoPemBlock { found, .. }) if found == "EC PARAMETERS"
        ));
        assert!(matches!(
            inspect_pem(b"hello"),
            Err(Error::NoPemBlock { .. })
        ));
        assert!(matches!(
            inspect_cert_der(b"\x30\x03\x02\x01\x01"),
            Err(Error::InvalidCertificate(_))
        ));
        let ca_der = parse_blocks(CA).unwrap().remove(0).der;
        assert!(matches!(
            inspect_csr_der(&ca_der),
            Err(Error::InvalidCsr(_))
        ));
        let mut trailing = ca_der.clone();
        trailing.push(0);
        assert!(matches!(
            inspect_cert_der(&trailing),
            Err(Error::InvalidCertificate(_))
        ));
        assert_eq!(inspect_cert_der(&ca_der).unwrap(), cert(CA));
    }

    #[test]
    fn json_has_kind_tags() {
        let items = inspect_pem(&[CA, CSR, LEAF_KEY].concat()).unwrap();
        let json = serde_json::to_value(&items).unwrap();
        assert_eq!(json[0]["kind"], "certificate");
        assert_eq!(
            json[0]["subject"]["text"],
            "O = Cockroach, CN = Cockroach CA"
        );
        assert_eq!(json[0]["basic_constraints"]["path_len"], 1);
        assert_eq!(json[0]["serial"], "10:00");
        assert_eq!(json[1]["kind"], "csr");
        assert_eq!(json[1]["signature_valid"], true);
        assert_eq!(json[2]["kind"], "private_key");
        assert_eq!(json[2]["format"], "PKCS#8");
        let text = serde_json::to_string(&items[0]).unwrap();
        assert!(text.starts_with(r#"{"kind":"certificate","#), "{text}");
    }

    #[test]
    fn helpers() {
        assert_eq!(serial_string(&[0x00, 0x80]), "80");
        assert_eq!(serial_string(&[0x00]), "00");
        assert_eq!(serial_string(&[0xff]), "-01");
        assert_eq!(serial_text("10:00"), " 4096 (0x1000)");
        assert_eq!(serial_text("-01"), " -1 (-0x1)");
        assert_eq!(
            serial_text("80:00:00:00:00:00:00:00"),
            "\n            80:00:00:00:00:00:00:00"
        );
        assert_eq!(escape_dn_value("a,b"), "\"a,b\"");
        assert_eq!(escape_dn_value("tab\there"), "tab\\09here");
        assert_eq!(escape_dn_value("café"), "café");
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01, 0x00]), 9);
        assert_eq!(
            openssl_time("2026-11-03T01:02:03Z"),
            "Nov  3 01:02:03 2026 GMT"
        );
    }
}
