//! Certificates: DER/PEM in and out, the fields callers need, and the TBS encoder every
//! signing path goes through.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use const_oid::AssociatedOid;
use der::asn1::{AnyRef, BitStringRef, GeneralizedTime, UintRef, UtcTime};
use der::{Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName, SubjectKeyIdentifier};
use x509_cert::time::{Time, Validity};

use super::algorithm::SignatureAlgorithm;
use super::error::{Error, Result};
use super::key::Key;
use super::name::DistinguishedName;
use super::pem;
use super::san::San;

/// A parsed certificate, kept with its exact DER.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    /// notBefore and notAfter when one lies before 1970, which `parsed` cannot hold (it was
    /// read from a copy with 1970 in their place; `der` is untouched).
    early: Option<(SystemTime, SystemTime)>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

/// The version number a certificate's `[0]` field holds when it is not 0, 1 or 2.
fn version_outside_x509(der: &[u8]) -> Option<u64> {
    let tbs = super::tlv::contents(super::tlv::contents(der)?)?;
    if tbs.first() != Some(&0xa0) {
        return None;
    }
    let integer = super::tlv::contents(super::tlv::contents(tbs)?)?;
    let value = integer
        .iter()
        .take(8)
        .fold(0u64, |v, b| (v << 8) | u64::from(*b));
    (value > 2).then_some(value)
}

impl Certificate {
    /// Parses DER.
    ///
    /// # Errors
    /// Undecodable DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let error = match x509_cert::Certificate::from_der(der) {
            Ok(parsed) => {
                return Ok(Certificate {
                    der: der.to_vec(),
                    parsed,
                    early: None,
                });
            }
            Err(e) => Error::InvalidCertificate(e.to_string()),
        };
        // Two valid encodings the DER crate will not read are read from a mended copy; the
        // certificate keeps its own bytes, over which its issuer signed:
        // - lengths in a longer form than needed (BER, which OpenSSL accepts);
        let minimal = super::tlv::with_minimal_lengths(der);
        let readable = minimal.as_deref().unwrap_or(der);
        if minimal.is_some()
            && let Ok(parsed) = x509_cert::Certificate::from_der(readable)
        {
            return Ok(Certificate {
                der: der.to_vec(),
                parsed,
                early: None,
            });
        }
        // - a date before 1970 (UTCTime 50-69 is 1950-1969), which the DER crate's time type
        //   cannot hold: read with 1970 there, the real dates kept apart.
        let (patched, times) = super::early_dates::patch(readable).ok_or_else(|| {
            // Say what is wrong where the decoder's words would not (`malformed ASN.1 DER value
            // for INTEGER`): a BER encoding, or a version X.509 does not have.
            if let Some(what) = super::tlv::first_non_der(der) {
                Error::InvalidCertificate(format!(
                    "not DER: {what} (certificates are DER, RFC 5280 4.1; OpenSSL also reads BER)"
                ))
            } else if let Some(version) = version_outside_x509(der) {
                Error::InvalidCertificate(format!(
                    "version field {version} is not v1, v2 or v3 (0, 1 or 2)"
                ))
            } else {
                error
            }
        })?;
        let parsed = x509_cert::Certificate::from_der(&patched)
            .map_err(|e| Error::InvalidCertificate(e.to_string()))?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
            early: Some(times),
        })
    }

    /// Whether `der` is laid out as a certificate (a SEQUENCE holding a SEQUENCE whose first
    /// element is the `[0]` version or a serial number), to tell a damaged certificate from
    /// other DER input.
    #[must_use]
    pub(crate) fn looks_like_one(der: &[u8]) -> bool {
        super::tlv::contents(der)
            .and_then(super::tlv::contents)
            .is_some_and(|tbs| tbs.first() == Some(&0xa0))
    }

    /// Parses the first certificate of PEM text (or of DER input).
    ///
    /// # Errors
    /// Malformed PEM, no certificate block, or undecodable DER.
    pub fn from_pem(text: &[u8]) -> Result<Self> {
        Self::from_pem_reporting(text).map(|(cert, _)| cert)
    }

    /// Like [`Certificate::from_pem`], but a `CERTIFICATE` block that does not decode is
    /// passed over when a later one does: the certificate is returned with one line per block
    /// passed over (`block 1 of 2 is not a certificate: ...`), for the caller to show.
    ///
    /// # Errors
    /// Malformed PEM, no certificate block, or no block that decodes (the first one's error).
    pub fn from_pem_reporting(text: &[u8]) -> Result<(Self, Vec<String>)> {
        let blocks = pem::parse_blocks(text)?;
        let total = blocks.len();
        let mut broken = Vec::new();
        let mut first_error = None;
        for (i, block) in blocks.iter().enumerate() {
            if block.label != "CERTIFICATE" {
                continue;
            }
            match Self::from_der(&block.der) {
                Ok(cert) => return Ok((cert, broken)),
                Err(e) => {
                    broken.push(format!(
                        "block {} of {total} is not a certificate: {e}",
                        i + 1
                    ));
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or(Error::NoPemBlock {
            expected: "certificate",
            found: pem::PemBlock::labels(&blocks),
        }))
    }

    /// The DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM text (`-----BEGIN CERTIFICATE-----`).
    #[must_use]
    pub fn pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }

    fn tbs(&self) -> &x509_cert::TbsCertificate {
        self.parsed.tbs_certificate()
    }

    /// The subject's exact DER (used as the issuer of certificates this one signs, byte for
    /// byte, as Go's chain builder requires).
    ///
    /// # Errors
    /// Never for a parsed certificate.
    pub fn subject_der(&self) -> Result<Vec<u8>> {
        Ok(self.tbs().subject().to_der()?)
    }

    /// The issuer's exact DER.
    ///
    /// # Errors
    /// Never for a parsed certificate.
    pub fn issuer_der(&self) -> Result<Vec<u8>> {
        Ok(self.tbs().issuer().to_der()?)
    }

    /// The subject as a [`DistinguishedName`].
    ///
    /// # Errors
    /// Never for a parsed certificate.
    pub fn subject(&self) -> Result<DistinguishedName> {
        DistinguishedName::from_der(&self.subject_der()?)
    }

    /// The issuer as a [`DistinguishedName`].
    ///
    /// # Errors
    /// Never for a parsed certificate.
    pub fn issuer(&self) -> Result<DistinguishedName> {
        DistinguishedName::from_der(&self.issuer_der()?)
    }

    /// The DER `SubjectPublicKeyInfo`.
    ///
    /// # Errors
    /// Never for a parsed certificate.
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        Ok(self.tbs().subject_public_key_info().to_der()?)
    }

    /// The serial number's big-endian bytes.
    #[must_use]
    pub fn serial(&self) -> &[u8] {
        self.tbs().serial_number().as_bytes()
    }

    /// The serial number as lowercase hex without separators.
    #[must_use]
    pub fn serial_hex(&self) -> String {
        hex::encode(self.serial())
    }

    /// notAfter as a UNIX time.
    #[must_use]
    pub fn not_after(&self) -> SystemTime {
        self.early
            .map_or_else(|| self.tbs().validity().not_after.to_system_time(), |t| t.1)
    }

    /// notBefore as a UNIX time.
    #[must_use]
    pub fn not_before(&self) -> SystemTime {
        self.early.map_or_else(
            || self.tbs().validity().not_before.to_system_time(),
            |t| t.0,
        )
    }

    /// All extensions, in certificate order.
    #[must_use]
    pub fn extensions(&self) -> &[Extension] {
        self.tbs().extensions().map_or(&[], Vec::as_slice)
    }

    /// The extension `T` decoded, with its criticality: `Ok(None)` if absent, an error if
    /// present but undecodable.
    pub(crate) fn decoded_extension<T: for<'a> Decode<'a, Error = der::Error> + AssociatedOid>(
        &self,
    ) -> der::Result<Option<(bool, T)>> {
        self.extensions()
            .iter()
            .find(|e| e.extn_id == T::OID)
            .map(|e| Ok((e.critical, T::from_der(e.extn_value.as_bytes())?)))
            .transpose()
    }

    /// The extension `T` if present and decodable.
    fn extension<T: for<'a> Decode<'a, Error = der::Error> + AssociatedOid>(
        &self,
    ) -> Option<(bool, T)> {
        self.decoded_extension().ok().flatten()
    }

    /// True when basicConstraints says `CA:TRUE`.
    #[must_use]
    pub fn is_ca(&self) -> bool {
        self.extension::<BasicConstraints>()
            .is_some_and(|(_, bc)| bc.ca)
    }

    /// The subjectKeyIdentifier, if present.
    #[must_use]
    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        self.extension::<SubjectKeyIdentifier>()
            .map(|(_, ski)| ski.0.as_bytes().to_vec())
    }

    /// The subject alternative names pkirun understands (DNS, IP, URI, email).
    #[must_use]
    pub fn sans(&self) -> Vec<San> {
        self.extension::<SubjectAltName>()
            .map(|(_, san)| san.0.iter().filter_map(San::from_general_name).collect())
            .unwrap_or_default()
    }

    /// What the issuer signed, how, and the signature: (algorithm, TBS DER, signature bytes).
    /// `None` for an algorithm pkirun does not know or a malformed signature.
    pub(crate) fn signed_parts(&self) -> Option<(SignatureAlgorithm, Vec<u8>, &[u8])> {
        let alg = SignatureAlgorithm::from_oid(self.parsed.signature_algorithm().oid)?;
        // The bytes the issuer signed, as they stand in the certificate.
        let tbs = super::tlv::signed_part(&self.der)?.to_vec();
        Some((alg, tbs, self.parsed.signature().as_bytes()?))
    }

    /// The OID of the algorithm the issuer signed this certificate with.
    #[must_use]
    pub fn signature_algorithm_oid(&self) -> const_oid::ObjectIdentifier {
        self.parsed.signature_algorithm().oid
    }

    /// Whether `issuer`'s public key made this certificate's signature.
    #[must_use]
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        let Some((alg, tbs, signature)) = self.signed_parts() else {
            return false;
        };
        issuer
            .public_key_der()
            .and_then(|spki| super::pubkey::PublicKey::from_spki_der(&spki))
            .is_ok_and(|key| key.verify(alg, &tbs, signature))
    }

    /// SHA-256 fingerprint as uppercase colon-separated hex (as `openssl x509 -fingerprint`).
    #[must_use]
    pub fn fingerprint_sha256(&self) -> String {
        colon_hex(&Sha256::digest(&self.der), true)
    }
}

/// Formats bytes as `AB:CD:...` (upper) or `ab:cd:...` (lower).
#[must_use]
pub fn colon_hex(bytes: &[u8], upper: bool) -> String {
    bytes
        .iter()
        .map(|b| {
            if upper {
                format!("{b:02X}")
            } else {
                format!("{b:02x}")
            }
        })
        .collect::<Vec<_>>()
        .join(":")
}

#[derive(Sequence)]
struct TbsOut<'a> {
    /// `None` is v1 (the DER default, omitted); `Some(2)` is v3.
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    version: Option<u8>,
    serial: UintRef<'a>,
    signature: AnyRef<'a>,
    issuer: AnyRef<'a>,
    validity: Validity,
    subject: AnyRef<'a>,
    spki: AnyRef<'a>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

#[derive(Sequence)]
pub(crate) struct SignedOut<'a> {
    pub(crate) tbs: AnyRef<'a>,
    pub(crate) algorithm: AnyRef<'a>,
    pub(crate) signature: BitStringRef<'a>,
}

/// Converts a UNIX time to an X.509 `Time`: UTCTime through 2049, GeneralizedTime after, as
/// RFC 5280 requires.
///
/// # Errors
/// Times before 1970 or after 9999.
pub fn x509_time(t: SystemTime) -> Result<Time> {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let d = Duration::from_secs(d.as_secs());
    const Y2050: u64 = 2_524_608_000;
    Ok(if d.as_secs() < Y2050 {
        Time::UtcTime(UtcTime::from_unix_duration(d)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d)?)
    })
}

/// The fields of a certificate before it is signed.
#[derive(Debug)]
pub(crate) struct TbsFields<'a> {
    pub(crate) serial: &'a [u8],
    pub(crate) issuer_der: &'a [u8],
    pub(crate) subject_der: &'a [u8],
    pub(crate) spki_der: &'a [u8],
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    pub(crate) extensions: Vec<Extension>,
}

/// Encodes and signs a certificate with `signer`.
pub(crate) fn sign_certificate(fields: TbsFields<'_>, signer: &Key) -> Result<Certificate> {
    let alg: SignatureAlgorithm = signer.signature_algorithm();
    let alg_der = alg.to_der()?;
    // RFC 5280 4.1.2.1: v3 when there are extensions; otherwise v1, as `openssl x509 -req`
    // writes a certificate without -extfile.
    let tbs = TbsOut {
        version: (!fields.extensions.is_empty()).then_some(2),
        serial: UintRef::new(fields.serial)?,
        signature: AnyRef::from_der(&alg_der)?,
        issuer: AnyRef::from_der(fields.issuer_der)?,
        validity: Validity::new(x509_time(fields.not_before)?, x509_time(fields.not_after)?),
        subject: AnyRef::from_der(fields.subject_der)?,
        spki: AnyRef::from_der(fields.spki_der)?,
        extensions: (!fields.extensions.is_empty()).then_some(fields.extensions),
    }
    .to_der()?;
    let signature = signer.sign(&tbs)?;
    let der = SignedOut {
        tbs: AnyRef::from_der(&tbs)?,
        algorithm: AnyRef::from_der(&alg_der)?,
        signature: BitStringRef::from_bytes(&signature)?,
    }
    .to_der()?;
    Certificate::from_der(&der)
}

/// Formats a time as RFC 3339 UTC with seconds, e.g. `2026-11-23T21:00:00Z`.
#[must_use]
pub fn rfc3339(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|dt| {
            dt.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{secs}"))
}
