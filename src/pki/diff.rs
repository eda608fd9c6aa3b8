//! Two certificates, CSRs or keys compared field by field: the check an operator runs when
//! moving a procedure from openssl or cfssl to pkirun (`pkirun diff A B`).
//!
//! Compared: the subject and issuer attribute by attribute (order, RDN grouping and ASN.1
//! string type), the validity length, the key's algorithm, size and curve, the signature
//! algorithm, the version, and every extension by OID with its criticality and value. Serial,
//! dates and key material (the public key bits and the key identifiers derived from them) are
//! compared too but belong to an [`Aspect`] a caller may ignore, since they differ between any
//! two runs of the same procedure.

use serde::Serialize;
use x509_parser::asn1_rs::{FromDer, Tag};
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::x509::X509Name;

use super::error::{Error, Result};
use super::inspect::{self, ExtensionInfo, PublicKeyInfo};
use super::key::Key;
use super::pem::parse_blocks;

/// What a difference is about, so that expected ones can be ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// The serial number.
    Serial,
    /// notBefore and notAfter (the validity *length* is [`Aspect::Content`]).
    Dates,
    /// The public key bits and the key identifiers derived from them.
    Key,
    /// Everything else: what a procedure decides.
    Content,
}

impl Aspect {
    /// Parses `serial`, `dates` or `key` (the names `--ignore` takes).
    ///
    /// # Errors
    /// Any other name.
    pub fn parse(name: &str) -> Result<Self> {
        match name.trim() {
            "serial" => Ok(Aspect::Serial),
            "dates" => Ok(Aspect::Dates),
            "key" => Ok(Aspect::Key),
            other => Err(Error::InvalidSetting {
                field: "ignore".into(),
                reason: format!("unknown aspect `{other}` (serial, dates, key)"),
            }),
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The field: `subject`, `issuer`, `validity`, `key`, `signature algorithm`, an extension
    /// name (`subjectAltName`), ...
    pub field: String,
    /// The value in the first object (`absent` when it has none).
    pub a: String,
    /// The value in the second object.
    pub b: String,
    /// What the difference is about.
    pub aspect: Aspect,
}

/// The comparable fields of one object.
#[derive(Debug)]
struct Fields {
    kind: &'static str,
    values: Vec<(String, String, Aspect)>,
}

impl Fields {
    /// No fields yet, of an object of this kind (`certificate`, `private key`).
    fn new(kind: &'static str) -> Self {
        Fields {
            kind,
            values: Vec::new(),
        }
    }

    fn push(&mut self, field: impl Into<String>, value: impl Into<String>, aspect: Aspect) {
        self.values.push((field.into(), value.into(), aspect));
    }
}

/// Compares the first certificate, CSR or private key of `a` with the first of `b` (PEM or
/// DER). Returns every difference, the ignorable ones included (see [`Difference::aspect`]).
///
/// # Errors
/// Either input holds no certificate, CSR or key pkirun can read.
pub fn diff(a: &[u8], b: &[u8]) -> Result<Vec<Difference>> {
    let (fa, fb) = (fields(a)?, fields(b)?);
    if fa.kind != fb.kind {
        return Ok(vec![Difference {
            field: "kind".into(),
            a: fa.kind.into(),
            b: fb.kind.into(),
            aspect: Aspect::Content,
        }]);
    }
    let mut out = Vec::new();
    let lookup = |f: &Fields, name: &str| {
        f.values
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, v, aspect)| (v.clone(), *aspect))
    };
    let mut names: Vec<&String> = fa.values.iter().map(|(n, _, _)| n).collect();
    for (n, _, _) in &fb.values {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    for name in names {
        let (va, vb) = (lookup(&fa, name), lookup(&fb, name));
        if va.as_ref().map(|v| &v.0) == vb.as_ref().map(|v| &v.0) {
            continue;
        }
        let aspect = va.as_ref().or(vb.as_ref()).map_or(Aspect::Content, |v| v.1);
        out.push(Difference {
            field: name.clone(),
            a: va.map_or_else(|| "absent".into(), |v| v.0),
            b: vb.map_or_else(|| "absent".into(), |v| v.0),
            aspect,
        });
    }
    Ok(out)
}

/// Reads the first object of `input` into its comparable fields.
fn fields(input: &[u8]) -> Result<Fields> {
    let (label, der) = first_object(input)?;
    match label.as_str() {
        "CERTIFICATE" => certificate_fields(&der),
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => csr_fields(&der),
        _ => key_fields(input),
    }
}

/// The label and DER of the first certificate, CSR or key block; DER input is tried as a
/// certificate, then as a CSR.
fn first_object(input: &[u8]) -> Result<(String, Vec<u8>)> {
    if input.first() == Some(&0x30) {
        if X509Certificate::from_der(input).is_ok() {
            return Ok(("CERTIFICATE".into(), input.to_vec()));
        }
        if X509CertificationRequest::from_der(input).is_ok() {
            return Ok(("CERTIFICATE REQUEST".into(), input.to_vec()));
        }
        return Err(Error::Pem(
            "DER input is neither a certificate nor a certificate request".into(),
        ));
    }
    let blocks = parse_blocks(input)?;
    blocks
        .into_iter()
        .find(|b| {
            matches!(
                b.label.as_str(),
                "CERTIFICATE"
                    | "CERTIFICATE REQUEST"
                    | "NEW CERTIFICATE REQUEST"
                    | "PRIVATE KEY"
                    | "RSA PRIVATE KEY"
                    | "EC PRIVATE KEY"
            )
        })
        .map(|b| (b.label, b.der))
        .ok_or_else(|| Error::Pem("no certificate, certificate request or private key".into()))
}

fn certificate_fields(der: &[u8]) -> Result<Fields> {
    let info = inspect::inspect_cert_der(der)?;
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| Error::InvalidCertificate(format!("cannot read the certificate: {e}")))?;
    let mut f = Fields::new("certificate");
    f.push("version", info.version.to_string(), Aspect::Content);
    f.push("subject", typed_name(cert.subject()), Aspect::Content);
    f.push("issuer", typed_name(cert.issuer()), Aspect::Content);
    f.push(
        "validity",
        validity_length(info.validity_seconds),
        Aspect::Content,
    );
    f.push("notBefore", &info.not_before, Aspect::Dates);
    f.push("notAfter", &info.not_after, Aspect::Dates);
    f.push("serial", &info.serial, Aspect::Serial);
    push_object(
        &mut f,
        &info.public_key,
        cert.public_key().raw,
        &info.signature_algorithm,
    );
    push_extensions(&mut f, &info.extensions);
    Ok(f)
}

fn csr_fields(der: &[u8]) -> Result<Fields> {
    let info = inspect::inspect_csr_der(der)?;
    let (_, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| Error::InvalidCsr(format!("cannot read the request: {e}")))?;
    let mut f = Fields::new("certificate request");
    f.push(
        "subject",
        typed_name(&csr.certification_request_info.subject),
        Aspect::Content,
    );
    push_object(
        &mut f,
        &info.public_key,
        csr.certification_request_info.subject_pki.raw,
        &info.signature_algorithm,
    );
    push_extensions(&mut f, &info.extensions);
    Ok(f)
}

fn key_fields(input: &[u8]) -> Result<Fields> {
    let key = Key::from_pem(input)?;
    let mut f = Fields::new("private key");
    f.push("key", key.describe(), Aspect::Content);
    f.push(
        "public key bits",
        hex::encode(key.public_key_der()),
        Aspect::Key,
    );
    Ok(f)
}

/// The key (type and bits) and the signature algorithm of a certificate or a request.
fn push_object(f: &mut Fields, key: &PublicKeyInfo, spki: &[u8], signature_algorithm: &str) {
    f.push("key", key_text(key), Aspect::Content);
    f.push("public key bits", hex::encode(spki), Aspect::Key);
    f.push("signature algorithm", signature_algorithm, Aspect::Content);
}

/// Every extension as `critical, value`; the key identifiers are [`Aspect::Key`].
fn push_extensions(f: &mut Fields, exts: &[ExtensionInfo]) {
    for e in exts {
        let aspect = match e.oid.as_str() {
            "2.5.29.14" | "2.5.29.35" => Aspect::Key,
            _ => Aspect::Content,
        };
        let crit = if e.critical { "critical, " } else { "" };
        let mut name = e.name.clone();
        if f.values.iter().any(|(n, _, _)| *n == name) {
            name.push_str(" (repeated)");
        }
        f.push(
            name,
            format!("{crit}{}", e.value.replace('\n', "; ")),
            aspect,
        );
    }
}

/// `RSA 2048`, `ECDSA P-384`.
fn key_text(k: &PublicKeyInfo) -> String {
    match &k.curve {
        Some(curve) => format!("{} {curve}", k.algorithm),
        None => format!("{} {}", k.algorithm, k.bits),
    }
}

/// `365 days` or `8760h 30m 5s` style.
fn validity_length(seconds: i64) -> String {
    if seconds % 86_400 == 0 {
        format!("{} days", seconds / 86_400)
    } else {
        format!("{seconds} s ({:.2} days)", seconds as f64 / 86_400.0)
    }
}

/// A name as `O=Acme (UTF8String), CN=x (PrintableString)`, multi-valued RDNs joined by `+`:
/// order, grouping and string types all count.
fn typed_name(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            rdn.iter()
                .map(|atv| {
                    let oid = atv.attr_type();
                    let short =
                        x509_parser::objects::oid2abbrev(oid, x509_parser::objects::oid_registry())
                            .map_or_else(|_| oid.to_id_string(), str::to_string);
                    let value = atv.as_str().map_or_else(
                        |_| hex::encode(atv.attr_value().data),
                        |s| s.chars().flat_map(char::escape_default).collect::<String>(),
                    );
                    format!("{short}={value} ({})", tag_name(atv.attr_value().tag()))
                })
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    if rdns.is_empty() {
        "(empty)".into()
    } else {
        rdns.join(", ")
    }
}

fn tag_name(tag: Tag) -> String {
    match tag {
        Tag::Utf8String => "UTF8String".into(),
        Tag::PrintableString => "PrintableString".into(),
        Tag::Ia5String => "IA5String".into(),
        Tag::T61String => "T61String".into(),
        Tag::BmpString => "BMPString".into(),
        Tag::UniversalString => "UniversalString".into(),
        Tag::VisibleString => "VisibleString".into(),
        Tag::NumericString => "NumericString".into(),
        other => format!("tag {}", other.0),
    }
}
