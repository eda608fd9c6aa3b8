//! PEM blocks in and out (several blocks per file, as openssl writes them).

use super::error::{Error, Result};

/// One decoded PEM block.
#[derive(Debug, Clone)]
pub struct PemBlock {
    /// The label between `BEGIN` and the dashes, e.g. `CERTIFICATE`. The other spellings of
    /// a certificate (`X509 CERTIFICATE`, `TRUSTED CERTIFICATE`) are given as `CERTIFICATE`;
    /// for DER input, the kind its contents decode as.
    pub label: String,
    /// The decoded DER contents (for a `TRUSTED CERTIFICATE`, the certificate alone, without
    /// OpenSSL's trust settings after it).
    pub der: Vec<u8>,
    /// Encrypted the old OpenSSL way (`Proc-Type: 4,ENCRYPTED`, `openssl genrsa -aes256`).
    pub legacy_encrypted: bool,
    /// The `DEK-Info` header of such a block (`AES-256-CBC,<hex IV>`).
    pub dek_info: Option<String>,
}

impl PemBlock {
    /// The labels of `blocks`, comma separated, or `none`.
    #[must_use]
    pub fn labels(blocks: &[PemBlock]) -> String {
        if blocks.is_empty() {
            "none".into()
        } else {
            blocks
                .iter()
                .map(|b| b.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Parses every PEM block in `text`. Text outside blocks (comments, `openssl x509 -text`
/// output before the block) is ignored; a block that starts but is broken is an error.
///
/// # Errors
/// Non-UTF-8 input, a block without its END line, or bad base64 inside a block.
pub fn parse_blocks(text: &[u8]) -> Result<Vec<PemBlock>> {
    if text.first() == Some(&0x30) {
        // DER (`.der`, `.cer`, what Windows and Java hand out): detected by its contents.
        return Ok(vec![der_block(text)?]);
    }
    let text = std::str::from_utf8(text).map_err(|_| {
        Error::Pem("input is neither PEM text nor a DER certificate, request, CRL or key".into())
    })?;
    let blocks = pem::parse_many(text).map_err(|e| match e {
        pem::PemError::InvalidData(_) => {
            Error::Pem("bad base64 inside a block (the file is damaged)".into())
        }
        other => Error::Pem(other.to_string()),
    })?;
    // `parse_many` skips a block whose END line is missing; a cut-off file must not pass.
    let begins = text
        .lines()
        .filter(|l| l.trim_start().starts_with("-----BEGIN "))
        .count();
    if begins > blocks.len() {
        return Err(Error::Pem(
            "a BEGIN line has no matching END line (truncated file?)".into(),
        ));
    }
    Ok(blocks
        .into_iter()
        .map(|p| {
            let legacy_encrypted = p
                .headers()
                .get("Proc-Type")
                .is_some_and(|v| v.contains("ENCRYPTED"));
            let dek_info = p.headers().get("DEK-Info").map(str::to_string);
            let label = p.tag().to_string();
            let mut der = p.into_contents();
            let label = match label.as_str() {
                "X509 CERTIFICATE" => "CERTIFICATE".to_string(),
                "TRUSTED CERTIFICATE" => {
                    // The certificate, then OpenSSL's trust settings (X509_AUX).
                    der.truncate(super::tlv::first_len(&der).unwrap_or(der.len()));
                    "CERTIFICATE".to_string()
                }
                "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" if !legacy_encrypted => {
                    der = minimal_key_lengths(der);
                    label
                }
                _ => label,
            };
            PemBlock {
                label,
                der,
                legacy_encrypted,
                dek_info,
            }
        })
        .collect())
}

/// DER input as a block, labelled by what its contents decode as (the PEM label openssl would
/// give it).
fn der_block(der: &[u8]) -> Result<PemBlock> {
    use der::Decode as _;
    // BER lengths (longer than needed) are read as the certificate and request loaders read them.
    let minimal = super::tlv::with_minimal_lengths(der);
    let readable = minimal.as_deref().unwrap_or(der);
    let label = if super::cert::Certificate::from_der(der).is_ok() {
        "CERTIFICATE"
    } else if x509_cert::request::CertReq::from_der(readable).is_ok() {
        "CERTIFICATE REQUEST"
    } else if x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der)
        .is_ok()
    {
        "X509 CRL"
    } else if pkcs8::PrivateKeyInfoRef::from_der(readable).is_ok() {
        "PRIVATE KEY"
    } else if sec1::EcPrivateKey::from_der(readable).is_ok() {
        "EC PRIVATE KEY"
    } else if rsa::pkcs1::DecodeRsaPrivateKey::from_pkcs1_der(readable)
        .is_ok_and(|_: rsa::PrivateKey| true)
    {
        "RSA PRIVATE KEY"
    } else if super::cert::Certificate::looks_like_one(der) {
        // A damaged certificate: the certificate loader's reason says more than "not DER".
        return Err(super::cert::Certificate::from_der(der)
            .err()
            .unwrap_or_else(|| {
                Error::InvalidCertificate("the data does not decode as a certificate".into())
            }));
    } else if let Some(error) = super::key::Key::why_not(readable) {
        return Err(error);
    } else {
        return Err(Error::Pem(
            "binary input that is not a DER certificate, request, CRL or private key".into(),
        ));
    };
    // A key has no signature over its bytes: its DER form serves. Certificates and requests
    // keep theirs.
    let der = if label.ends_with("PRIVATE KEY") {
        readable
    } else {
        der
    };
    Ok(PemBlock {
        label: label.into(),
        der: der.to_vec(),
        legacy_encrypted: false,
        dek_info: None,
    })
}

/// A key's DER with lengths in their shortest form, when it had longer ones (BER, which OpenSSL
/// reads): the key decoders take DER only, and a key has no signature over its bytes to keep.
fn minimal_key_lengths(der: Vec<u8>) -> Vec<u8> {
    super::tlv::with_minimal_lengths(&der).unwrap_or(der)
}

/// Returns the DER of the first block labelled `label`.
///
/// # Errors
/// Malformed PEM or no block with that label.
pub fn first_block(text: &[u8], label: &'static str, expected: &'static str) -> Result<Vec<u8>> {
    let blocks = parse_blocks(text)?;
    let found = PemBlock::labels(&blocks);
    blocks
        .into_iter()
        .find(|b| b.label == label)
        .map(|b| b.der)
        .ok_or(Error::NoPemBlock { expected, found })
}

/// Encodes DER as a PEM block with 64-column lines and LF endings, like openssl.
#[must_use]
pub fn encode(label: &str, der: &[u8]) -> String {
    let block = pem::Pem::new(label, der.to_vec());
    pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
