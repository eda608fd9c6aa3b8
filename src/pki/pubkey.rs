//! Public keys taken from certificates and CSRs: describe them and verify signatures.

use const_oid::db::rfc5912;
use der::Decode;
use p256::pkcs8::DecodePublicKey;
use rsa::PublicKey as RsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use super::algorithm::{Digest, KeySpec, SignatureAlgorithm, describe_spec};
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
        let digest = alg.digest();
        match self {
            PublicKey::Rsa(k) if alg.is_rsa() => k
                .verify(pkcs1v15(digest), &hash(digest, msg), signature)
                .is_ok(),
            PublicKey::P256(k) if !alg.is_rsa() => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| k.verify_prehash(&hash(digest, msg), &sig).is_ok()),
            PublicKey::P384(k) if !alg.is_rsa() => p384::ecdsa::Signature::from_der(signature)
                .is_ok_and(|sig| k.verify_prehash(&hash(digest, msg), &sig).is_ok()),
            _ => false,
        }
    }
}

/// `msg` hashed with `digest`.
fn hash(digest: Digest, msg: &[u8]) -> Vec<u8> {
    match digest {
        Digest::Sha1 => sha1::Sha1::digest(msg).to_vec(),
        Digest::Sha256 => Sha256::digest(msg).to_vec(),
        Digest::Sha384 => Sha384::digest(msg).to_vec(),
        Digest::Sha512 => Sha512::digest(msg).to_vec(),
    }
}

/// The PKCS#1 v1.5 signature scheme of `digest`.
fn pkcs1v15(digest: Digest) -> rsa::Pkcs1v15Sign {
    match digest {
        Digest::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        Digest::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        Digest::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        Digest::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    }
}
