//! Private keys: generate, load from any PEM form openssl/cfssl/easyrsa write, save, sign.

use std::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::{Decode, Encode};
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use p256::elliptic_curve::Generate;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::PrivateKey as RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use super::algorithm::{KeySpec, SignatureAlgorithm, describe_spec};
use super::error::{Error, Result};
use super::pem::{self, PemBlock};
use super::pubkey::PublicKey;

/// The PEM form a private key is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyFormat {
    /// `-----BEGIN PRIVATE KEY-----` (what `openssl genpkey` and easyrsa write). The default.
    #[default]
    Pkcs8,
    /// `-----BEGIN RSA PRIVATE KEY-----` (what `openssl genrsa -traditional` and cfssl write).
    Pkcs1,
    /// `-----BEGIN EC PRIVATE KEY-----` (what `openssl ecparam -genkey` and cfssl write).
    Sec1,
}

impl KeyFormat {
    /// The name scripts use: `pkcs8`, `pkcs1` or `sec1`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            KeyFormat::Pkcs8 => "pkcs8",
            KeyFormat::Pkcs1 => "pkcs1",
            KeyFormat::Sec1 => "sec1",
        }
    }

    /// Parses `"pkcs8"`, `"pkcs1"` / `"rsa"` / `"traditional"`, `"sec1"` / `"ec"`.
    ///
    /// # Errors
    /// Any other name.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pkcs8" | "p8" => Ok(KeyFormat::Pkcs8),
            "pkcs1" | "rsa" | "traditional" => Ok(KeyFormat::Pkcs1),
            "sec1" | "ec" => Ok(KeyFormat::Sec1),
            other => Err(Error::InvalidOption {
                field: "format".into(),
                reason: format!("unknown key format `{other}` (expected pkcs8, pkcs1 or sec1)"),
            }),
        }
    }
}

#[derive(Clone)]
enum Inner {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// A private key pkirun can sign with. Its `Debug` never shows key material.
#[derive(Clone)]
pub struct Key {
    inner: Inner,
    spec: KeySpec,
    spki: Vec<u8>,
    /// RSA signing through ring's assembly (4x the `rsa` crate's speed on a CA's key); made on
    /// first use, `None` when ring refuses the key (then the `rsa` crate signs).
    rsa_fast: std::sync::OnceLock<Option<std::sync::Arc<ring::rsa::KeyPair>>>,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, [secret key elided])", self.describe())
    }
}

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn invalid(format: &'static str, e: impl fmt::Display) -> Error {
    Error::InvalidKey {
        format,
        reason: e.to_string(),
    }
}

impl Key {
    /// Generates a fresh key from the operating system's random source.
    ///
    /// # Errors
    /// Only if the crypto backend fails (e.g. no randomness).
    pub fn generate(spec: KeySpec) -> Result<Self> {
        let inner = match spec {
            KeySpec::Rsa(bits) => Inner::Rsa(Box::new(
                RsaPrivateKey::new(&mut rng(), bits).map_err(|e| Error::Signing(e.to_string()))?,
            )),
            KeySpec::P256 => Inner::P256(
                p256::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng)
                    .map_err(|e| Error::Signing(e.to_string()))?,
            ),
            KeySpec::P384 => Inner::P384(
                p384::ecdsa::SigningKey::try_generate_from_rng(&mut SysRng)
                    .map_err(|e| Error::Signing(e.to_string()))?,
            ),
        };
        Self::from_inner(inner)
    }

    fn from_inner(inner: Inner) -> Result<Self> {
        let (spec, spki) = match &inner {
            Inner::Rsa(k) => (
                KeySpec::Rsa(k.n().bit_width() as usize),
                k.to_public_key().to_public_key_der(),
            ),
            Inner::P256(k) => (KeySpec::P256, k.verifying_key().to_public_key_der()),
            Inner::P384(k) => (KeySpec::P384, k.verifying_key().to_public_key_der()),
        };
        let spki = spki.map_err(|e| Error::Encoding(e.to_string()))?.into_vec();
        Ok(Key {
            inner,
            spec,
            spki,
            rsa_fast: std::sync::OnceLock::new(),
        })
    }

    /// Loads the first private key found in PEM text.
    ///
    /// Accepts `PRIVATE KEY` (PKCS#8: RSA, P-256, P-384), `RSA PRIVATE KEY` (PKCS#1) and
    /// `EC PRIVATE KEY` (SEC1, with or without the `EC PARAMETERS` block `openssl ecparam -genkey`
    /// writes before it). Refuses `ENCRYPTED PRIVATE KEY` with a hint.
    ///
    /// # Errors
    /// Malformed PEM, no key block, an encrypted key, or a key of an unsupported kind.
    pub fn from_pem(text: &[u8]) -> Result<Self> {
        let blocks = pem::parse_blocks(text)?;
        let mut found: Option<Key> = None;
        for block in &blocks {
            let key = match block.label.as_str() {
                "ENCRYPTED PRIVATE KEY" => return Err(Error::EncryptedKey),
                _ if block.legacy_encrypted => return Err(Error::LegacyEncryptedKey),
                "PRIVATE KEY" => Self::from_pkcs8_der(&block.der)?,
                "RSA PRIVATE KEY" => Self::from_pkcs1_der(&block.der)?,
                "EC PRIVATE KEY" => Self::from_sec1_der(&block.der)?,
                "OPENSSH PRIVATE KEY" => {
                    return Err(Error::UnsupportedKey(
                        "an OpenSSH private key (write it as PKCS#8 with `ssh-keygen -p -m PKCS8 -f FILE`; \
                         pkirun takes RSA and ECDSA P-256/P-384)"
                            .into(),
                    ));
                }
                "DSA PRIVATE KEY" => {
                    return Err(Error::UnsupportedKey(
                        "a DSA key (supported: RSA, ECDSA P-256/P-384)".into(),
                    ));
                }
                _ => continue,
            };
            match &found {
                // The same key twice (e.g. PKCS#1 and PKCS#8 of one key) is one key.
                Some(first) if first.public_key_der() != key.public_key_der() => {
                    return Err(Error::TwoKeys);
                }
                Some(_) => {}
                None => found = Some(key),
            }
        }
        found.ok_or_else(|| Error::NoPemBlock {
            expected: "private key",
            found: PemBlock::labels(&blocks),
        })
    }

    /// Why DER laid out as a private key (PKCS#8, SEC1 or PKCS#1, told apart by the types of
    /// its first fields) does not load; `None` when it is not laid out as one, or loads.
    #[must_use]
    pub(crate) fn why_not(der: &[u8]) -> Option<Error> {
        let body = super::tlv::contents(der)?;
        let tags: Vec<u8> = super::tlv::children(body)?
            .iter()
            .take(3)
            .map(|(at, _)| body[*at])
            .collect();
        let (format, error) = match tags.as_slice() {
            [0x02, 0x30, 0x04, ..] => ("PKCS#8", Self::from_pkcs8_der(der).err()?),
            [0x02, 0x04, ..] => ("SEC1", Self::from_sec1_der(der).err()?),
            [0x02, 0x02, 0x02, ..] => ("PKCS#1", Self::from_pkcs1_der(der).err()?),
            _ => return None,
        };
        // The decoder's words (`malformed ASN.1 DER value for BIT STRING`) say less.
        Some(match super::tlv::first_non_der(der) {
            Some(what) => invalid(format, format!("not DER: {what}")),
            None => error,
        })
    }

    /// Loads a PKCS#8 `PrivateKeyInfo` (RSA or EC P-256/P-384).
    ///
    /// # Errors
    /// Undecodable DER or an unsupported algorithm or curve.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let info = pkcs8::PrivateKeyInfoRef::from_der(der).map_err(|e| invalid("PKCS#8", e))?;
        let oid = info.algorithm.oid;
        let inner = if oid == rfc5912::RSA_ENCRYPTION {
            Inner::Rsa(Box::new(
                RsaPrivateKey::from_pkcs8_der(der).map_err(|e| invalid("PKCS#8", e))?,
            ))
        } else if oid == rfc5912::ID_EC_PUBLIC_KEY {
            let curve: ObjectIdentifier = info
                .algorithm
                .parameters_oid()
                .map_err(|_| invalid("PKCS#8", "EC key without a named curve"))?;
            if curve == rfc5912::SECP_256_R_1 {
                Inner::P256(
                    p256::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|e| invalid("PKCS#8", e))?,
                )
            } else if curve == rfc5912::SECP_384_R_1 {
                Inner::P384(
                    p384::ecdsa::SigningKey::from_pkcs8_der(der)
                        .map_err(|e| invalid("PKCS#8", e))?,
                )
            } else {
                return Err(Error::UnsupportedKey(format!(
                    "EC curve {curve} (supported: P-256, P-384)"
                )));
            }
        } else {
            return Err(Error::UnsupportedKey(format!(
                "{} (supported: RSA, ECDSA P-256/P-384)",
                algorithm_name(&oid.to_string())
            )));
        };
        Self::from_inner(inner)
    }

    /// Loads a PKCS#1 `RSAPrivateKey`.
    ///
    /// # Errors
    /// Undecodable DER or an inconsistent key.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self> {
        let key = RsaPrivateKey::from_pkcs1_der(der).map_err(|e| invalid("PKCS#1", e))?;
        Self::from_inner(Inner::Rsa(Box::new(key)))
    }

    /// Loads a SEC1 `ECPrivateKey` (the curve must be named in it, as openssl and cfssl do).
    ///
    /// # Errors
    /// Undecodable DER, a missing curve, or an unsupported curve.
    pub fn from_sec1_der(der: &[u8]) -> Result<Self> {
        let ec = sec1::EcPrivateKey::from_der(der).map_err(|e| invalid("SEC1", e))?;
        let curve = ec
            .parameters
            .and_then(|p| p.named_curve())
            .ok_or_else(|| invalid("SEC1", "no named curve in the key"))?;
        let inner = if curve == rfc5912::SECP_256_R_1 {
            let sk = p256::SecretKey::from_sec1_der(der).map_err(|e| invalid("SEC1", e))?;
            Inner::P256(sk.into())
        } else if curve == rfc5912::SECP_384_R_1 {
            let sk = p384::SecretKey::from_sec1_der(der).map_err(|e| invalid("SEC1", e))?;
            Inner::P384(sk.into())
        } else {
            return Err(Error::UnsupportedKey(format!(
                "EC curve {curve} (supported: P-256, P-384)"
            )));
        };
        Self::from_inner(inner)
    }

    /// The key's spec (algorithm and size).
    #[must_use]
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// A human description such as `RSA 2048` or `ECDSA P-384`.
    #[must_use]
    pub fn describe(&self) -> String {
        describe_spec(self.spec())
    }

    /// `None` when this key is the private half of `spki` (a DER `SubjectPublicKeyInfo`, as a
    /// certificate holds it); otherwise the two in words, `spki`'s first: `("RSA 2048", "ECDSA
    /// P-384")`, or `("ECDSA P-256", "another ECDSA P-256 key")` when only the keys differ.
    #[must_use]
    pub fn mismatch_with(&self, spki: &[u8]) -> Option<(String, String)> {
        if spki == self.spki.as_slice() {
            return None;
        }
        let theirs =
            PublicKey::from_spki_der(spki).map_or_else(|_| "unknown".to_string(), |k| k.describe());
        let ours = self.describe();
        if theirs == ours {
            return Some((theirs, format!("another {ours} key")));
        }
        Some((theirs, ours))
    }

    /// The DER `SubjectPublicKeyInfo` of the public half.
    #[must_use]
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// The public half, for verification.
    ///
    /// # Errors
    /// Never for keys built by this module; kept fallible for symmetry with parsing.
    pub fn public_key(&self) -> Result<PublicKey> {
        PublicKey::from_spki_der(&self.spki)
    }

    /// Serialises the key as PEM in the requested format.
    ///
    /// # Errors
    /// PKCS#1 for an EC key or SEC1 for an RSA key.
    pub fn to_pem(&self, format: KeyFormat) -> Result<String> {
        let (label, der) = self.to_der(format)?;
        Ok(pem::encode(label, &der))
    }

    /// Serialises the key as DER in the requested format, with the PEM label of that format.
    ///
    /// # Errors
    /// PKCS#1 for an EC key or SEC1 for an RSA key.
    pub fn to_der(&self, format: KeyFormat) -> Result<(&'static str, zeroize::Zeroizing<Vec<u8>>)> {
        let enc = |e: &dyn fmt::Display| Error::Encoding(e.to_string());
        let (label, der): (&str, Vec<u8>) = match (&self.inner, format) {
            (Inner::Rsa(k), KeyFormat::Pkcs8) => (
                "PRIVATE KEY",
                k.to_pkcs8_der().map_err(|e| enc(&e))?.as_bytes().to_vec(),
            ),
            (Inner::Rsa(k), KeyFormat::Pkcs1) => (
                "RSA PRIVATE KEY",
                k.to_pkcs1_der().map_err(|e| enc(&e))?.as_bytes().to_vec(),
            ),
            (Inner::P256(k), KeyFormat::Pkcs8 | KeyFormat::Sec1) => {
                self.ec_der(&k.to_bytes(), rfc5912::SECP_256_R_1, format)?
            }
            (Inner::P384(k), KeyFormat::Pkcs8 | KeyFormat::Sec1) => {
                self.ec_der(&k.to_bytes(), rfc5912::SECP_384_R_1, format)?
            }
            (_, fmt) => {
                return Err(Error::InvalidOption {
                    field: "format".into(),
                    reason: format!(
                        "{} keys cannot be written as {}",
                        self.describe(),
                        fmt.name()
                    ),
                });
            }
        };
        Ok((label, zeroize::Zeroizing::new(der)))
    }

    /// Encodes an EC key as SEC1 or PKCS#8 from its scalar and the public point already held in
    /// `self.spki` (the crate's encoders recompute the point: a full scalar multiplication, a
    /// fifth of the cost of a bulk-issued certificate).
    fn ec_der(
        &self,
        secret: &[u8],
        curve: ObjectIdentifier,
        format: KeyFormat,
    ) -> Result<(&'static str, Vec<u8>)> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(&self.spki)?;
        let point = spki.subject_public_key.raw_bytes();
        let secret = zeroize::Zeroizing::new(secret.to_vec());
        let sec1 = |parameters| {
            sec1::EcPrivateKey {
                private_key: &secret,
                parameters,
                public_key: Some(point),
            }
            .to_der()
            .map(zeroize::Zeroizing::new)
        };
        Ok(match format {
            KeyFormat::Sec1 => (
                "EC PRIVATE KEY",
                sec1(Some(sec1::EcParameters::NamedCurve(curve)))?.to_vec(),
            ),
            _ => {
                let inner = sec1(None)?;
                let curve_any = der::asn1::AnyRef::from(&curve);
                let info = pkcs8::PrivateKeyInfoRef::new(
                    spki::AlgorithmIdentifierRef {
                        oid: rfc5912::ID_EC_PUBLIC_KEY,
                        parameters: Some(curve_any),
                    },
                    der::asn1::OctetStringRef::new(&inner)?,
                );
                ("PRIVATE KEY", info.to_der()?)
            }
        })
    }

    /// The DER `AlgorithmIdentifier` of the signature this key makes
    /// (sha256WithRSAEncryption, ecdsa-with-SHA256 or ecdsa-with-SHA384).
    #[must_use]
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        match &self.inner {
            Inner::Rsa(_) => SignatureAlgorithm::RsaSha256,
            Inner::P256(_) => SignatureAlgorithm::EcdsaSha256,
            Inner::P384(_) => SignatureAlgorithm::EcdsaSha384,
        }
    }

    /// Signs `msg` with this key's signature algorithm; returns the signature bytes as they go
    /// into a certificate's BIT STRING.
    ///
    /// # Errors
    /// A failure of the crypto backend.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::Signer;
        match &self.inner {
            Inner::Rsa(k) => {
                let fast = self.rsa_fast.get_or_init(|| {
                    let der = k.to_pkcs8_der().ok()?;
                    ring::rsa::KeyPair::from_pkcs8(der.as_bytes())
                        .ok()
                        .map(std::sync::Arc::new)
                });
                if let Some(pair) = fast {
                    let mut sig = vec![0; pair.public().modulus_len()];
                    pair.sign(
                        &ring::signature::RSA_PKCS1_SHA256,
                        &ring::rand::SystemRandom::new(),
                        msg,
                        &mut sig,
                    )
                    .map_err(|_| Error::Signing("RSA signing failed".into()))?;
                    return Ok(sig);
                }
                let digest = Sha256::digest(msg);
                k.sign_with_rng(&mut rng(), rsa::Pkcs1v15Sign::new::<Sha256>(), &digest)
                    .map_err(|e| Error::Signing(e.to_string()))
            }
            Inner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            Inner::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(msg);
                Ok(sig.to_der().as_bytes().to_vec())
            }
        }
    }

    /// The subject key identifier openssl computes: SHA-1 of the public key BIT STRING contents
    /// (RFC 5280 method 1).
    #[must_use]
    pub fn key_identifier(&self) -> Vec<u8> {
        key_identifier_of_spki(&self.spki)
    }
}

/// RFC 5280 method-1 key identifier of a DER `SubjectPublicKeyInfo` (what openssl and cfssl use).
#[must_use]
pub fn key_identifier_of_spki(spki: &[u8]) -> Vec<u8> {
    use sha1::Sha1;
    match spki::SubjectPublicKeyInfoRef::from_der(spki) {
        Ok(info) => Sha1::digest(info.subject_public_key.raw_bytes()).to_vec(),
        Err(_) => Sha1::digest(spki).to_vec(),
    }
}

/// A key algorithm pkirun does not support, by the name users know it by.
fn algorithm_name(oid: &str) -> String {
    let name = match oid {
        "1.3.101.112" => "an Ed25519 key",
        "1.3.101.113" => "an Ed448 key",
        "1.3.101.110" => "an X25519 key",
        "1.3.101.111" => "an X448 key",
        "1.2.840.10040.4.1" => "a DSA key",
        "1.2.840.113549.1.1.10" => "an RSA-PSS key",
        "1.2.840.10046.2.1" => "a DH key",
        _ => return format!("a key of algorithm {oid}"),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_keys_encode_exactly_as_the_curve_crates_do() {
        for spec in [KeySpec::P256, KeySpec::P384] {
            let key = Key::generate(spec).unwrap();
            let (pkcs8, sec1) = match &key.inner {
                Inner::P256(k) => {
                    let sk = p256::SecretKey::from(k);
                    (
                        sk.to_pkcs8_der().unwrap().as_bytes().to_vec(),
                        sk.to_sec1_der().unwrap().to_vec(),
                    )
                }
                Inner::P384(k) => {
                    let sk = p384::SecretKey::from(k);
                    (
                        sk.to_pkcs8_der().unwrap().as_bytes().to_vec(),
                        sk.to_sec1_der().unwrap().to_vec(),
                    )
                }
                Inner::Rsa(_) => unreachable!(),
            };
            assert_eq!(
                key.to_pem(KeyFormat::Pkcs8).unwrap(),
                pem::encode("PRIVATE KEY", &pkcs8)
            );
            assert_eq!(
                key.to_pem(KeyFormat::Sec1).unwrap(),
                pem::encode("EC PRIVATE KEY", &sec1)
            );
            let back = Key::from_pem(key.to_pem(KeyFormat::Pkcs8).unwrap().as_bytes()).unwrap();
            assert_eq!(back.public_key_der(), key.public_key_der());
        }
    }

    #[test]
    fn rsa_signatures_from_ring_equal_the_rsa_crates_and_verify() {
        let key =
            Key::from_pem(include_bytes!("../../tests/data/inspect/ca-key.pkcs1.pem")).unwrap();
        let msg = b"to be signed";
        let fast = key.sign(msg).unwrap();
        assert!(
            key.rsa_fast.get().is_some_and(Option::is_some),
            "ring took the key"
        );
        let Inner::Rsa(k) = &key.inner else {
            unreachable!()
        };
        let slow = k
            .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(msg))
            .unwrap();
        assert_eq!(
            fast, slow,
            "PKCS#1 v1.5 is deterministic: both backends agree"
        );
        let public = key.public_key().unwrap();
        assert!(public.verify(SignatureAlgorithm::RsaSha256, msg, &fast));
        assert!(!public.verify(SignatureAlgorithm::RsaSha256, b"other", &fast));
    }

    #[test]
    fn rsa_cannot_be_written_as_sec1() {
        let key =
            Key::from_pem(include_bytes!("../../tests/data/inspect/ca-key.pkcs1.pem")).unwrap();
        assert_eq!(
            key.to_pem(KeyFormat::Sec1).unwrap_err().to_string(),
            "invalid `format`: RSA 2048 keys cannot be written as sec1"
        );
    }
}
