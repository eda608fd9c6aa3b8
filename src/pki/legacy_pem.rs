//! Keys encrypted the old OpenSSL way: a PEM block with `Proc-Type: 4,ENCRYPTED` and
//! `DEK-Info: <cipher>,<hex IV>` headers, as `openssl genrsa -aes256` (with `-traditional` in
//! OpenSSL 3) and `openssl rsa|ec -aes256` write them. The key is derived from the passphrase
//! and the first 8 bytes of the IV with OpenSSL's `EVP_BytesToKey` (MD5, one round); the
//! ciphers are AES-128/192/256-CBC and DES-EDE3-CBC. Read only: pkirun writes PKCS#8.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, KeyIvInit};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::error::{Error, Result};

/// The ciphers OpenSSL puts in `DEK-Info`, with their key and IV lengths.
#[derive(Debug, Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
}

impl Cipher {
    fn parse(name: &str) -> Result<Self> {
        match name.trim() {
            "AES-128-CBC" => Ok(Cipher::Aes128),
            "AES-192-CBC" => Ok(Cipher::Aes192),
            "AES-256-CBC" => Ok(Cipher::Aes256),
            "DES-EDE3-CBC" => Ok(Cipher::DesEde3),
            other => Err(Error::InvalidKey {
                format: "legacy encrypted PEM",
                reason: format!(
                    "cipher `{other}` (supported: AES-128/192/256-CBC, DES-EDE3-CBC); \
                     convert it: openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out KEY.p8"
                ),
            }),
        }
    }

    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128 => 16,
            Cipher::Aes192 | Cipher::DesEde3 => 24,
            Cipher::Aes256 => 32,
        }
    }

    fn iv_len(self) -> usize {
        match self {
            Cipher::DesEde3 => 8,
            _ => 16,
        }
    }
}

/// Decrypts the DER of a legacy-encrypted block whose `DEK-Info` is `dek_info`.
///
/// # Errors
/// A malformed `DEK-Info`, an unknown cipher, or [`Error::WrongPassphrase`] when the padding
/// does not check out (a wrong passphrase, or a damaged file).
pub fn decrypt(der: &[u8], dek_info: &str, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let bad = |reason: &str| Error::InvalidKey {
        format: "legacy encrypted PEM",
        reason: format!("DEK-Info `{dek_info}`: {reason}"),
    };
    let (name, iv_hex) = dek_info.split_once(',').ok_or_else(|| bad("no IV"))?;
    let cipher = Cipher::parse(name)?;
    let iv = hex::decode(iv_hex.trim()).map_err(|_| bad("the IV is not hex"))?;
    if iv.len() != cipher.iv_len() {
        return Err(bad("the IV has the wrong length"));
    }
    let key = bytes_to_key(passphrase, &iv[..8], cipher.key_len());
    let plain = match cipher {
        Cipher::Aes128 => cbc_decrypt::<aes::Aes128>(&key, &iv, der),
        Cipher::Aes192 => cbc_decrypt::<aes::Aes192>(&key, &iv, der),
        Cipher::Aes256 => cbc_decrypt::<aes::Aes256>(&key, &iv, der),
        Cipher::DesEde3 => cbc_decrypt::<des::TdesEde3>(&key, &iv, der),
    };
    plain.map(Zeroizing::new).ok_or(Error::WrongPassphrase)
}

/// `ciphertext` decrypted in CBC mode and unpadded; `None` when the padding is wrong.
fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Vec<u8>>
where
    cbc::Decryptor<C>: KeyIvInit + BlockModeDecrypt,
    C: aes::cipher::BlockCipherDecrypt,
{
    let decryptor = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
    decryptor.decrypt_padded_vec::<Pkcs7>(ciphertext).ok()
}

/// OpenSSL's `EVP_BytesToKey` with MD5 and one round: `D_i = MD5(D_{i-1} || pass || salt)`,
/// concatenated to `len` bytes.
fn bytes_to_key(passphrase: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut key = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut previous: Vec<u8> = Vec::new();
    while key.len() < len {
        let mut h = Md5::new();
        h.update(&previous);
        h.update(passphrase);
        h.update(salt);
        previous = h.finalize().to_vec();
        key.extend_from_slice(&previous);
    }
    key.truncate(len);
    key
}
