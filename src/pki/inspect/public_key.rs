//! Public keys and signature algorithms: their kind, size and curve, by openssl's names.

use serde::Serialize;
use x509_parser::asn1_rs::Oid;
use x509_parser::public_key::PublicKey as ParsedPublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;

use super::oid_name;

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

/// The algorithm, size and curve of a subject public key.
pub(super) fn public_key_info(spki: &SubjectPublicKeyInfo<'_>) -> PublicKeyInfo {
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

/// openssl's name of a signature algorithm (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`,
/// ...), else the dotted OID.
pub(super) fn signature_algorithm_name(oid: &Oid<'_>) -> String {
    oid_name(oid, known_signature_algorithm)
}

/// openssl's names of signature algorithms.
fn known_signature_algorithm(oid: &str) -> Option<&'static str> {
    Some(match oid {
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
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_bits_ignores_leading_zero_bytes() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01, 0x00]), 9);
    }
}
