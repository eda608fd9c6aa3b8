//! Key and signature algorithms: which kinds of key pkirun makes, how scripts and cfssl name
//! them, and the signature algorithms it signs and verifies with.
//!
//! A new key algorithm starts here (a [`KeySpec`] variant, its names, its [`SignatureAlgorithm`]),
//! then gets its private half in `key.rs` and its public half in `pubkey.rs`.

use std::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Encode;

use super::error::{Error, Result};

/// What kind of key to make: an algorithm and a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// RSA with the given modulus size in bits (2048, 3072 or 4096).
    Rsa(usize),
    /// ECDSA on NIST P-256 (prime256v1).
    P256,
    /// ECDSA on NIST P-384 (secp384r1).
    P384,
}

impl KeySpec {
    /// Builds a spec from an algorithm name and a size, as scripts and cfssl JSON give them:
    /// `("rsa", 2048)`, `("ecdsa", 384)`, `("ec", 256)`.
    ///
    /// # Errors
    /// An unknown algorithm or an unsupported size.
    pub fn new(algorithm: &str, size: i64) -> Result<Self> {
        match algorithm.trim().to_ascii_lowercase().as_str() {
            "rsa" => match size {
                2048 | 3072 | 4096 => Ok(KeySpec::Rsa(usize::try_from(size).unwrap_or(2048))),
                _ => Err(Error::UnsupportedKeySize {
                    algorithm: "rsa",
                    size,
                    supported: "2048, 3072, 4096",
                }),
            },
            "ecdsa" | "ec" => match size {
                256 => Ok(KeySpec::P256),
                384 => Ok(KeySpec::P384),
                _ => Err(Error::UnsupportedKeySize {
                    algorithm: "ecdsa",
                    size,
                    supported: "256, 384",
                }),
            },
            other => Err(Error::UnknownKeyAlgorithm(other.to_string())),
        }
    }

    /// Parses the compact form used in scripts: `"rsa:2048"`, `"ecdsa:384"`, `"p384"`,
    /// `"secp384r1"`, `"prime256v1"`, or a bare `"rsa"` (2048) / `"ecdsa"` (P-256).
    ///
    /// # Errors
    /// An unknown algorithm or an unsupported size.
    pub fn parse(spec: &str) -> Result<Self> {
        let s = spec.trim().to_ascii_lowercase();
        match s.as_str() {
            "rsa" => return Ok(KeySpec::Rsa(2048)),
            "ecdsa" | "ec" | "p256" | "p-256" | "prime256v1" | "secp256r1" => {
                return Ok(KeySpec::P256);
            }
            "p384" | "p-384" | "secp384r1" => return Ok(KeySpec::P384),
            _ => {}
        }
        let (alg, size) = s
            .split_once([':', '-'])
            .ok_or_else(|| Error::UnknownKeyAlgorithm(spec.to_string()))?;
        let size =
            size.trim_start_matches('p')
                .parse::<i64>()
                .map_err(|_| Error::InvalidOption {
                    field: "key".into(),
                    reason: format!("`{spec}`: size `{size}` is not a number"),
                })?;
        KeySpec::new(alg, size)
    }

    /// The algorithm name as cfssl writes it (`rsa` or `ecdsa`).
    #[must_use]
    pub fn algorithm(self) -> &'static str {
        match self {
            KeySpec::Rsa(_) => "rsa",
            KeySpec::P256 | KeySpec::P384 => "ecdsa",
        }
    }

    /// The size in bits (modulus size for RSA, curve size for ECDSA).
    #[must_use]
    pub fn size(self) -> usize {
        match self {
            KeySpec::Rsa(bits) => bits,
            KeySpec::P256 => 256,
            KeySpec::P384 => 384,
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm(), self.size())
    }
}

/// A human description of a key spec: `RSA 2048`, `ECDSA P-256`, `ECDSA P-384`.
#[must_use]
pub fn describe_spec(spec: KeySpec) -> String {
    match spec {
        KeySpec::Rsa(bits) => format!("RSA {bits}"),
        KeySpec::P256 => "ECDSA P-256".into(),
        KeySpec::P384 => "ECDSA P-384".into(),
    }
}

/// The signature algorithms pkirun signs with and verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    /// sha256WithRSAEncryption.
    RsaSha256,
    /// sha384WithRSAEncryption (verify only).
    RsaSha384,
    /// sha512WithRSAEncryption (verify only).
    RsaSha512,
    /// sha1WithRSAEncryption (verify only; old CSRs).
    RsaSha1,
    /// ecdsa-with-SHA256.
    EcdsaSha256,
    /// ecdsa-with-SHA384.
    EcdsaSha384,
    /// ecdsa-with-SHA512 (verify only).
    EcdsaSha512,
}

impl SignatureAlgorithm {
    /// The algorithm's OID.
    #[must_use]
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            SignatureAlgorithm::RsaSha256 => rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::RsaSha384 => rfc5912::SHA_384_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::RsaSha512 => rfc5912::SHA_512_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::RsaSha1 => rfc5912::SHA_1_WITH_RSA_ENCRYPTION,
            SignatureAlgorithm::EcdsaSha256 => rfc5912::ECDSA_WITH_SHA_256,
            SignatureAlgorithm::EcdsaSha384 => rfc5912::ECDSA_WITH_SHA_384,
            SignatureAlgorithm::EcdsaSha512 => rfc5912::ECDSA_WITH_SHA_512,
        }
    }

    /// Looks an algorithm up by OID.
    #[must_use]
    pub fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        [
            SignatureAlgorithm::RsaSha256,
            SignatureAlgorithm::RsaSha384,
            SignatureAlgorithm::RsaSha512,
            SignatureAlgorithm::RsaSha1,
            SignatureAlgorithm::EcdsaSha256,
            SignatureAlgorithm::EcdsaSha384,
            SignatureAlgorithm::EcdsaSha512,
        ]
        .into_iter()
        .find(|a| a.oid() == oid)
    }

    /// The DER `AlgorithmIdentifier` (RSA algorithms carry an explicit NULL, as RFC 4055 asks).
    ///
    /// # Errors
    /// Never in practice (encoding a fixed structure).
    pub fn to_der(self) -> Result<Vec<u8>> {
        let params = self.is_rsa().then(der::asn1::Any::null);
        Ok(spki::AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters: params,
        }
        .to_der()?)
    }
}

/// A message digest by the names openssl's `default_md` and `-md` take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Digest {
    /// Parses `sha256`, `SHA-384`, ...; `default` (the key's own digest) is `None`.
    ///
    /// # Errors
    /// A digest pkirun does not know (`md5`, `sha3-256`, ...).
    pub fn parse(s: &str) -> Result<Option<Self>> {
        let n: String = s
            .trim()
            .chars()
            .filter(|c| *c != '-')
            .flat_map(char::to_lowercase)
            .collect();
        Ok(Some(match n.as_str() {
            "default" => return Ok(None),
            "sha1" => Digest::Sha1,
            "sha256" => Digest::Sha256,
            "sha384" => Digest::Sha384,
            "sha512" => Digest::Sha512,
            _ => {
                return Err(Error::InvalidOption {
                    field: "digest".into(),
                    reason: format!("`{s}` (expected sha256, sha384, sha512, sha1 or default)"),
                });
            }
        }))
    }

    /// The openssl name (`sha256`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "sha1",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha512 => "sha512",
        }
    }
}

impl SignatureAlgorithm {
    /// Whether this is an RSA (PKCS#1 v1.5) algorithm rather than ECDSA.
    #[must_use]
    pub fn is_rsa(self) -> bool {
        matches!(
            self,
            SignatureAlgorithm::RsaSha256
                | SignatureAlgorithm::RsaSha384
                | SignatureAlgorithm::RsaSha512
                | SignatureAlgorithm::RsaSha1
        )
    }

    /// The digest the algorithm signs.
    #[must_use]
    pub fn digest(self) -> Digest {
        match self {
            SignatureAlgorithm::RsaSha1 => Digest::Sha1,
            SignatureAlgorithm::RsaSha256 | SignatureAlgorithm::EcdsaSha256 => Digest::Sha256,
            SignatureAlgorithm::RsaSha384 | SignatureAlgorithm::EcdsaSha384 => Digest::Sha384,
            SignatureAlgorithm::RsaSha512 | SignatureAlgorithm::EcdsaSha512 => Digest::Sha512,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_openssl_names_and_default_is_the_keys_own() {
        assert_eq!(Digest::parse("sha256").unwrap(), Some(Digest::Sha256));
        assert_eq!(Digest::parse("SHA-384").unwrap(), Some(Digest::Sha384));
        assert_eq!(Digest::parse("default").unwrap(), None);
        assert_eq!(
            Digest::parse("md5").unwrap_err().to_string(),
            "invalid `digest`: `md5` (expected sha256, sha384, sha512, sha1 or default)"
        );
        assert_eq!(SignatureAlgorithm::EcdsaSha384.digest(), Digest::Sha384);
    }

    #[test]
    fn key_specs_parse_every_spelling() {
        for (text, spec) in [
            ("rsa:3072", KeySpec::Rsa(3072)),
            ("ecdsa:384", KeySpec::P384),
            ("secp384r1", KeySpec::P384),
            ("prime256v1", KeySpec::P256),
            ("ec:256", KeySpec::P256),
        ] {
            assert_eq!(KeySpec::parse(text).unwrap(), spec, "{text}");
        }
        for (text, refusal) in [
            (
                "rsa:1024",
                "unsupported rsa key size 1024 (supported: 2048, 3072, 4096)",
            ),
            (
                "dsa:2048",
                "unknown key algorithm `dsa` (expected `rsa` or `ecdsa`, e.g. \"rsa:2048\" or \"ecdsa:384\")",
            ),
        ] {
            assert_eq!(KeySpec::parse(text).unwrap_err().to_string(), refusal);
        }
    }
}
