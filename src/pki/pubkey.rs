//! Public keys taken from certificates and CSRs: describe them and verify signatures.

use const_oid::db::rfc5912;
use der::Decode;
use p256::pkcs8::DecodePublicKey;
use rsa::PublicKey as RsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::algorithm::{KeySpec, SignatureAlgorithm, describe_spec};
use super::error::{Error, Result};

/// A public key pkirun can verify signatures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An RSA public key.
    Rsa(RsaPublicKey),
    /// An ECDSA P-256 public key.
    P256(p256::ecdsa::VerifyingKey),
    /// An ECDSA P-384 public key.
    P384(p384::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Parses a DER `SubjectPublicKeyInfo`.
    ///
    /// # Errors
    /// Undecodable DER or an unsupported algorithm or curve.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let info = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| Error::UnsupportedKey(format!("bad public key: {e}")))?;
        let oid = info.algorithm.oid;
        let bad = |e: &dyn std::fmt::Display| Error::UnsupportedKey(format!("bad public key: {e}"));
        if oid == rfc5912::RSA_ENCRYPTION {
            return Ok(PublicKey::Rsa(
                RsaPublicKey::from_public_key_der(der).map_err(|e| bad(&e))?,
            ));
        }
        if oid == rfc5912::ID_EC_PUBLIC_KEY {
            let curve = info.algorithm.parameters_oid().map_err(|e| bad(&e))?;
            if curve == rfc5912::SECP_256_R_1 {
                return Ok(PublicKey::P256(
                    p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?,
                ));
            }
            if curve == rfc5912::SECP_384_R_1 {
                return Ok(PublicKey::P384(
                    p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?,
                ));
            }
            return Err(Error::UnsupportedKey(format!(
                "EC curve {curve} (supported: P-256, P-384)"
            )));
        }
        Err(Error::UnsupportedKey(format!(
            "public key algorithm {oid} (supported: RSA, ECDSA P-256/P-384)"
        )))
    }

    /// The key's spec (algorithm and size).
    #[must_use]
    pub fn spec(&self) -> KeySpec {
        match self {
            PublicKey::Rsa(k) => KeySpec::Rsa(k.n().bit_width() as usize),
            PublicKey::P256(_) => KeySpec::P256,
            PublicKey::P384(_) => KeySpec::P384,
        }
    }

    /// A human description such as `RSA 2048`.
    #[must_use]
    pub fn describe(&self) -> String {
        describe_spec(self.spec())
    }

    /// Verifies `signature` over `msg` made with `alg`. Returns `false` for a wrong signature
    /// or an algorithm that does not fit the key.
    #[must_use]
    pub fn verify(&self, alg: SignatureAlgorithm, msg: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match (self, alg) {
            (PublicKey::Rsa(k), SignatureAlgorithm::RsaSha256) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha256>(),
                    &Sha256::digest(msg),
                    signature,
                )
                .is_ok(),
            (PublicKey::Rsa(k), SignatureAlgorithm::RsaSha384) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha384>(),
                    &Sha384::digest(msg),
                    signature,
                )
                .is_ok(),
            (PublicKey::Rsa(k), SignatureAlgorithm::RsaSha512) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<Sha512>(),
                    &Sha512::digest(msg),
                    signature,
                )
                .is_ok(),
            (PublicKey::Rsa(k), SignatureAlgorithm::RsaSha1) => k
                .verify(
                    rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    &sha1::Sha1::digest(msg),
                    signature,
                )
                .is_ok(),
            (PublicKey::P256(k), alg) => {
                let Ok(sig) = p256::ecdsa::Signature::from_der(signature) else {
                    return false;
                };
                match prehash(alg, msg) {
                    Some(h) => k.verify_prehash(&h, &sig).is_ok(),
                    None => false,
                }
            }
            (PublicKey::P384(k), alg) => {
                let Ok(sig) = p384::ecdsa::Signature::from_der(signature) else {
                    return false;
                };
                match prehash(alg, msg) {
                    Some(h) => k.verify_prehash(&h, &sig).is_ok(),
                    None => false,
                }
            }
            _ => false,
        }
    }
}

fn prehash(alg: SignatureAlgorithm, msg: &[u8]) -> Option<Vec<u8>> {
    match alg {
        SignatureAlgorithm::EcdsaSha256 => Some(Sha256::digest(msg).to_vec()),
        SignatureAlgorithm::EcdsaSha384 => Some(Sha384::digest(msg).to_vec()),
        SignatureAlgorithm::EcdsaSha512 => Some(Sha512::digest(msg).to_vec()),
        _ => None,
    }
}
