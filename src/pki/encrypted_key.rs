//! Private keys encrypted at rest: PKCS#8 `ENCRYPTED PRIVATE KEY` (PBES2), what
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc`, `openssl genpkey -aes256` and easy-rsa write.
//!
//! Read: PBES2 with PBKDF2 (HMAC-SHA-1/224/256/384/512) or scrypt, and AES-128/192/256-CBC.
//! Written: PBKDF2-HMAC-SHA256 with 600,000 iterations (OWASP's 2023 figure for that KDF; about
//! 0.3 s to derive on this project's machine, paid once per run for a CA key) and AES-256-CBC,
//! with a fresh random salt and IV: openssl, Python's `cryptography`, Java and easy-rsa read it.
//! Keys encrypted the old OpenSSL way (`Proc-Type: 4,ENCRYPTED`) are read too (see
//! [`super::legacy_pem`]).

use der::Decode as _;
use pkcs8::pkcs5::pbes2;

use super::error::{Error, Result};
use super::key::{Key, KeyFormat};
use super::pem;
use super::pkcs12::Passphrase;

/// PBKDF2 iterations of the keys pkirun encrypts.
const ITERATIONS: u32 = 600_000;

/// Reads the private key of `text`, decrypting it with the passphrase `passphrase` returns
/// (asked for only when the key is encrypted).
///
/// # Errors
/// The errors of [`Key::from_pem`]; [`Error::WrongPassphrase`] when the key does not decrypt;
/// [`Error::EncryptedKey`] for the legacy encryption; the passphrase source's error.
pub fn read_key(
    text: &[u8],
    passphrase: impl FnOnce() -> std::result::Result<Passphrase, String>,
) -> Result<Key> {
    let blocks = pem::parse_blocks(text)?;
    if let Some(block) = blocks.iter().find(|b| b.legacy_encrypted) {
        let dek_info = block.dek_info.as_deref().ok_or_else(|| Error::InvalidKey {
            format: "legacy encrypted PEM",
            reason: "Proc-Type says ENCRYPTED but there is no DEK-Info header".into(),
        })?;
        let passphrase = passphrase().map_err(Error::Passphrase)?;
        let der = super::legacy_pem::decrypt(&block.der, dek_info, passphrase.expose().as_bytes())?;
        let key = match block.label.as_str() {
            "RSA PRIVATE KEY" => Key::from_pkcs1_der(&der),
            "EC PRIVATE KEY" => Key::from_sec1_der(&der),
            _ => Key::from_pkcs8_der(&der),
        };
        // A wrong passphrase that happens to unpad decodes as garbage.
        return key.map_err(|_| Error::WrongPassphrase);
    }
    let Some(block) = blocks.iter().find(|b| b.label == "ENCRYPTED PRIVATE KEY") else {
        return Key::from_pem(text);
    };
    let info =
        pkcs8::EncryptedPrivateKeyInfoRef::from_der(&block.der).map_err(|e| Error::InvalidKey {
            format: "encrypted PKCS#8",
            reason: e.to_string(),
        })?;
    let passphrase = passphrase().map_err(Error::Passphrase)?;
    let plain = info
        .decrypt(passphrase.expose().as_bytes())
        .map_err(|_| Error::WrongPassphrase)?;
    Key::from_pkcs8_der(plain.as_bytes())
}

/// `key` as an `ENCRYPTED PRIVATE KEY` PEM block under `passphrase` (see the module doc).
///
/// # Errors
/// The random source failed, or encryption failed.
pub fn encrypt_pem(key: &Key, passphrase: &Passphrase) -> Result<String> {
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Signing(format!("random source: {e}")))?;
    getrandom::fill(&mut iv).map_err(|e| Error::Signing(format!("random source: {e}")))?;
    let params = pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, iv)
        .map_err(|e| Error::Signing(format!("key encryption: {e}")))?;
    let (_, plain) = key.to_der(KeyFormat::Pkcs8)?;
    let info = pkcs8::PrivateKeyInfoRef::from_der(&plain).map_err(|e| Error::InvalidKey {
        format: "PKCS#8",
        reason: e.to_string(),
    })?;
    let doc = info
        .encrypt_with_params(params, passphrase.expose().as_bytes())
        .map_err(|e| Error::Signing(format!("key encryption: {e}")))?;
    Ok(pem::encode("ENCRYPTED PRIVATE KEY", doc.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::KeySpec;

    fn pass(s: &str) -> std::result::Result<Passphrase, String> {
        Ok(Passphrase::new(s.into()))
    }

    #[test]
    fn a_key_encrypted_by_pkirun_decrypts_with_its_passphrase_only() {
        let key = Key::generate(KeySpec::P256).unwrap();
        let pem = encrypt_pem(&key, &Passphrase::new("correct horse".into())).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let back = read_key(pem.as_bytes(), || pass("correct horse")).unwrap();
        assert_eq!(back.public_key_der(), key.public_key_der());
        assert!(matches!(
            read_key(pem.as_bytes(), || pass("wrong")),
            Err(Error::WrongPassphrase)
        ));
        // A plain key never asks.
        let plain = key.to_pem(KeyFormat::Pkcs8).unwrap();
        read_key(plain.as_bytes(), || Err("asked".into())).unwrap();
    }
}
