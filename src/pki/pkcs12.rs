//! PKCS#12 (`.p12`/`.pfx`): a private key, its certificate and the CA chain in one
//! passphrase-protected file, as browsers, Java key stores and Windows import them.
//!
//! [`Pkcs12::to_der`] writes what `openssl pkcs12 -export` (OpenSSL 3 defaults) writes: the key in
//! a PKCS#8 shrouded key bag and the certificates in an encrypted safe, both with PBES2
//! (PBKDF2-HMAC-SHA256, AES-256-CBC), the whole under an HMAC-SHA256 integrity check (MAC) with
//! its own salt; the key and its certificate carry the same `localKeyId` (the SHA-1 of the
//! certificate, as openssl makes it) and the key a `friendlyName` (the alias `keytool -list`
//! shows). Each certificate bag's `friendlyName` is its subject (`O=x, CN=y`), where
//! `openssl pkcs12 -export -name` gives the leaf the key's name: the crate below decides that. [`Pkcs12::from_der`] reads those files back, and the legacy ones
//! `openssl pkcs12 -export -legacy` and OpenSSL 1.x write (PBE-SHA1-3DES, PBE-SHA1-RC2-40,
//! MAC HMAC-SHA1).
//!
//! The bag structures and ciphers come from the `p12-keystore` crate; this module decides what
//! goes in, checks it, and turns its errors into messages a user can act on.

use std::fmt;

use p12_keystore::error::Error as StoreError;
use p12_keystore::{
    KeyStore, KeyStoreEntry, Pkcs12Archive, PrivateKey as StoreKey, PrivateKeyChain,
};
use sha1::{Digest, Sha1};
use thiserror::Error;
use zeroize::Zeroizing;

use super::cert::Certificate;
use super::key::{Key, KeyFormat};
use super::pem;

/// The PBKDF2 and MAC iteration count pkirun writes by default (Java's default; OpenSSL 3 writes
/// 2048).
pub const DEFAULT_ITERATIONS: u32 = 10_000;

/// The most iterations a file may ask for (written or read): a cap on the work a hostile file can
/// demand, and the limit of the reader pkirun uses.
pub const MAX_ITERATIONS: u32 = 1_000_000;

/// The fewest iterations pkirun writes (OpenSSL 3's default).
pub const MIN_ITERATIONS: u32 = 2048;

/// A PKCS#12 passphrase. Its memory is wiped when it is dropped, and neither `Debug` nor any
/// other formatting shows it.
///
/// (Defined here for PKCS#12; the encrypted-key work brings its own `Passphrase` into the core
/// at the same time, and the two are meant to become one.)
#[derive(Clone)]
pub struct Passphrase(Zeroizing<String>);

impl Passphrase {
    /// Wraps a passphrase, taking ownership so that no unwiped copy is left behind by this call.
    #[must_use]
    pub fn new(secret: String) -> Self {
        Passphrase(Zeroizing::new(secret))
    }

    /// The passphrase's text, for the cipher only.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the passphrase is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([elided])")
    }
}

/// Everything that can go wrong writing or reading a PKCS#12 file.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pkcs12Error {
    /// The passphrase does not open the file.
    #[error("wrong passphrase for the PKCS#12 file (it does not open with the passphrase given)")]
    WrongPassphrase,
    /// An empty passphrase was given for a file to be written.
    #[error(
        "empty passphrase: a PKCS#12 file holds a private key and must be protected by a passphrase"
    )]
    EmptyPassphrase,
    /// An iteration count outside what pkirun writes.
    #[error("invalid `iterations` {0}: expected {MIN_ITERATIONS} to {MAX_ITERATIONS}")]
    InvalidIterations(u32),
    /// A friendly name that PKCS#12 cannot carry.
    #[error("invalid `name` `{name}`: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The private key is not the certificate's.
    #[error(
        "the key does not belong to the certificate `{subject}` (the certificate's public key is {cert_key}, the key is {key})"
    )]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
        /// Description of the certificate's public key.
        cert_key: String,
        /// Description of the key.
        key: String,
    },
    /// A certificate given as part of the chain is not a CA certificate.
    #[error(
        "chain certificate `{0}` is not a CA (basicConstraints CA:TRUE missing); the chain holds the issuing CAs only"
    )]
    ChainNotCa(String),
    /// The file holds no private key.
    #[error("the PKCS#12 file holds no private key (certificates only: a trust store?)")]
    NoKey,
    /// The file holds more than one private key.
    #[error("the PKCS#12 file holds {0} private keys; pkirun reads files with one")]
    SeveralKeys(usize),
    /// No certificate in the file belongs to the private key.
    #[error("the PKCS#12 file holds no certificate for its private key ({0})")]
    NoCertificate(String),
    /// The file uses an encryption or integrity scheme pkirun cannot read.
    #[error(
        "the PKCS#12 file uses an encryption or integrity (MAC) scheme pkirun cannot read (it reads PBES2 with PBKDF2-HMAC-SHA256 and AES, and the legacy PBE-SHA1-3DES and PBE-SHA1-RC2-40); re-export it: `openssl pkcs12 -in OLD -nodes | openssl pkcs12 -export -out NEW`"
    )]
    UnsupportedScheme,
    /// The file asks for more key-derivation work than pkirun allows.
    #[error(
        "the PKCS#12 file asks for more than {MAX_ITERATIONS} key-derivation iterations (or an scrypt cost above 1 GiB); refused"
    )]
    ExcessiveWork,
    /// The bytes are not a PKCS#12 file pkirun can decode.
    #[error("malformed PKCS#12 file: {0}")]
    Malformed(String),
    /// A key or certificate inside the file (or given to be written) is not one pkirun can use.
    #[error(transparent)]
    Pki(#[from] super::Error),
}

/// What [`Pkcs12::to_der`] does beyond the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs12Options {
    /// The key's friendly name, the alias `keytool -list` shows; `None` takes the certificate's
    /// commonName, or `1` (keytool's name for an unnamed entry) when it has none.
    pub name: Option<String>,
    /// PBKDF2 iterations for the key and certificate encryption, and iterations of the MAC key
    /// derivation ([`MIN_ITERATIONS`] to [`MAX_ITERATIONS`]).
    pub iterations: u32,
}

impl Default for Pkcs12Options {
    fn default() -> Self {
        Pkcs12Options {
            name: None,
            iterations: DEFAULT_ITERATIONS,
        }
    }
}

/// The contents of a PKCS#12 file: one private key, its certificate and the CA chain.
#[derive(Debug, Clone)]
pub struct Pkcs12 {
    /// The private key.
    pub key: Key,
    /// The key's certificate.
    pub cert: Certificate,
    /// The CA certificates, issuing CA first, each followed by its issuer where the file holds
    /// it; certificates that do not chain follow in file order.
    pub chain: Vec<Certificate>,
    /// The key's friendly name, when the file gives one.
    pub name: Option<String>,
}

impl Pkcs12 {
    /// Bundles a key, its certificate and its CA chain (issuing CA first) to be written.
    ///
    /// # Errors
    /// [`Pkcs12Error::KeyMismatch`] when the key is not the certificate's,
    /// [`Pkcs12Error::ChainNotCa`] when a chain certificate is not a CA.
    pub fn new(key: Key, cert: Certificate, chain: Vec<Certificate>) -> Result<Self, Pkcs12Error> {
        let p12 = Pkcs12 {
            key,
            cert,
            chain,
            name: None,
        };
        p12.check()?;
        Ok(p12)
    }

    /// The checks [`Pkcs12::new`] makes, again before writing (the fields are public).
    fn check(&self) -> Result<(), Pkcs12Error> {
        check_pair(&self.key, &self.cert)?;
        match self.chain.iter().find(|ca| !ca.is_ca()) {
            Some(not_ca) => Err(Pkcs12Error::ChainNotCa(subject_of(not_ca))),
            None => Ok(()),
        }
    }

    /// Encodes the file (DER, what `.p12` files hold) protected by `passphrase`.
    ///
    /// # Errors
    /// An empty passphrase, an iteration count out of range, a friendly name PKCS#12 cannot
    /// carry, what [`Pkcs12::new`] refuses, or an encoding failure.
    pub fn to_der(
        &self,
        passphrase: &Passphrase,
        options: &Pkcs12Options,
    ) -> Result<Vec<u8>, Pkcs12Error> {
        if passphrase.is_empty() {
            return Err(Pkcs12Error::EmptyPassphrase);
        }
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&options.iterations) {
            return Err(Pkcs12Error::InvalidIterations(options.iterations));
        }
        self.check()?;
        let name = match (&options.name, &self.name) {
            (Some(name), _) | (None, Some(name)) => name.clone(),
            (None, None) => default_name(&self.cert),
        };
        check_name(&name)?;

        let pkcs8 = pkcs8_der(&self.key)?;
        let store_key = StoreKey::from_der(&pkcs8).map_err(encoding)?;
        let local_key_id = Sha1::digest(self.cert.der()).to_vec();
        let mut certs = Vec::with_capacity(1 + self.chain.len());
        for cert in std::iter::once(&self.cert).chain(&self.chain) {
            certs.push(p12_keystore::Certificate::from_der(cert.der()).map_err(encoding)?);
        }
        let mut store = KeyStore::new();
        store.add_entry(
            &name,
            KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, store_key, certs)),
        );
        store
            .writer(passphrase.expose())
            .encryption_iterations(options.iterations)
            .mac_iterations(options.iterations)
            .write()
            .map_err(encoding)
    }

    /// Decodes a PKCS#12 file (DER) with `passphrase`: checks its MAC, decrypts it and finds the
    /// key, the certificate that carries its public key, and the other certificates as the
    /// chain. A certificate the file links to the key by `localKeyId` but that carries another
    /// public key is refused ([`Pkcs12Error::KeyMismatch`]).
    ///
    /// # Errors
    /// [`Pkcs12Error::WrongPassphrase`], an unsupported scheme, a file without exactly one key
    /// or without its certificate, or malformed content.
    pub fn from_der(der: &[u8], passphrase: &Passphrase) -> Result<Self, Pkcs12Error> {
        let archive = Pkcs12Archive::from_pkcs12(der, passphrase.expose())
            .map_err(|e| read_error(e, has_mac(der)))?;
        let key_bag = match archive.keys.as_slice() {
            [] => return Err(Pkcs12Error::NoKey),
            [one] => one,
            more => return Err(Pkcs12Error::SeveralKeys(more.len())),
        };
        let key = Key::from_pkcs8_der(key_bag.key.as_der())?;
        let mut certs = Vec::with_capacity(archive.certs.len());
        for bag in &archive.certs {
            certs.push(Certificate::from_der(bag.cert.as_der())?);
        }
        let by_key = certs
            .iter()
            .position(|c| c.public_key_der().is_ok_and(|k| k == key.public_key_der()));
        let by_id = || {
            let id = key_bag.local_key_id.as_ref()?;
            archive
                .certs
                .iter()
                .position(|c| c.local_key_id.as_deref() == Some(id.as_ref()))
        };
        let Some(leaf) = by_key.or_else(by_id) else {
            return Err(Pkcs12Error::NoCertificate(key.describe()));
        };
        let cert = certs.remove(leaf);
        check_pair(&key, &cert)?;
        let chain = order_chain(&cert, certs);
        Ok(Pkcs12 {
            key,
            cert,
            chain,
            name: key_bag.friendly_name.clone(),
        })
    }
}

/// Refuses a key that is not the certificate's.
fn check_pair(key: &Key, cert: &Certificate) -> Result<(), Pkcs12Error> {
    match key.mismatch_with(&cert.public_key_der()?) {
        None => Ok(()),
        Some((cert_key, key)) => Err(Pkcs12Error::KeyMismatch {
            subject: subject_of(cert),
            cert_key,
            key,
        }),
    }
}

fn subject_of(cert: &Certificate) -> String {
    cert.subject()
        .map_or_else(|_| "(unreadable subject)".to_string(), |s| s.to_string())
}

/// The certificate's commonName, or `1` as keytool names an entry without a friendly name.
fn default_name(cert: &Certificate) -> String {
    cert.subject()
        .ok()
        .and_then(|s| s.get("CN").map(str::to_string))
        .filter(|cn| check_name(cn).is_ok())
        .unwrap_or_else(|| "1".to_string())
}

/// A friendly name is a BMPString: UCS-2, so nothing beyond U+FFFF, and pkirun wants it visible.
fn check_name(name: &str) -> Result<(), Pkcs12Error> {
    let refuse = |reason| {
        Err(Pkcs12Error::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.trim().is_empty() {
        return refuse("a friendly name must not be empty");
    }
    if name.chars().any(char::is_control) {
        return refuse("control characters are not allowed");
    }
    if name.chars().any(|c| u32::from(c) > 0xFFFF) {
        return refuse("PKCS#12 friendly names cannot hold characters beyond U+FFFF");
    }
    Ok(())
}

/// The key as PKCS#8 DER, wiped from memory when dropped.
fn pkcs8_der(key: &Key) -> Result<Zeroizing<Vec<u8>>, Pkcs12Error> {
    let text = Zeroizing::new(key.to_pem(KeyFormat::Pkcs8)?);
    Ok(Zeroizing::new(pem::first_block(
        text.as_bytes(),
        "PRIVATE KEY",
        "private key",
    )?))
}

/// Puts the CA certificates in chain order from the leaf's issuer upwards; what does not chain
/// follows in the order given.
fn order_chain(leaf: &Certificate, mut rest: Vec<Certificate>) -> Vec<Certificate> {
    let mut chain = Vec::with_capacity(rest.len());
    let mut issuer = leaf.issuer_der().ok();
    let mut last_subject = leaf.subject_der().ok();
    while let Some(want) = issuer.take() {
        // A self-signed certificate ends the walk.
        if Some(&want) == last_subject.as_ref() {
            break;
        }
        let Some(i) = rest
            .iter()
            .position(|c| c.subject_der().is_ok_and(|s| s == want))
        else {
            break;
        };
        let next = rest.remove(i);
        issuer = next.issuer_der().ok();
        last_subject = next.subject_der().ok();
        chain.push(next);
    }
    chain.append(&mut rest);
    chain
}

fn encoding(e: StoreError) -> Pkcs12Error {
    Pkcs12Error::Pki(super::Error::Encoding(format!("PKCS#12: {e}")))
}

/// Whether the file carries a MAC; `None` when its outer structure does not decode.
fn has_mac(der: &[u8]) -> Option<bool> {
    use der::Decode;
    ::pkcs12::pfx::Pfx::from_der(der)
        .ok()
        .map(|pfx| pfx.mac_data.is_some())
}

/// Turns the reader's errors into what the user can act on. `mac` is [`has_mac`]: in a file
/// without a MAC, a wrong passphrase shows only as content that does not decode once decrypted.
fn read_error(e: StoreError, mac: Option<bool>) -> Pkcs12Error {
    match e {
        // The MAC is checked first: a wrong passphrase fails here.
        StoreError::MacError(_) => Pkcs12Error::WrongPassphrase,
        // Files without a MAC: the padding check after decryption is what a wrong passphrase
        // trips.
        StoreError::UnpadError => Pkcs12Error::WrongPassphrase,
        StoreError::Pkcs5Error(text) if text.contains("decryption failed") => {
            Pkcs12Error::WrongPassphrase
        }
        StoreError::Pkcs5Error(_)
        | StoreError::UnsupportedEncryptionScheme
        | StoreError::UnsupportedMacAlgorithm => Pkcs12Error::UnsupportedScheme,
        StoreError::InvalidParameters => Pkcs12Error::ExcessiveWork,
        // The outer structure decoded and has no MAC, so this is decrypted content that does
        // not decode: the passphrase's key is wrong and the padding check passed by chance
        // (about 1 in 190).
        StoreError::DerError(_) | StoreError::InvalidData | StoreError::InvalidPrivateKey
            if mac == Some(false) =>
        {
            Pkcs12Error::WrongPassphrase
        }
        StoreError::UnsupportedContentType => Pkcs12Error::Malformed(
            "unsupported content type (public-key integrity or enveloped data; pkirun reads passphrase-protected files)"
                .into(),
        ),
        other => Pkcs12Error::Malformed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Ca, DistinguishedName, KeySpec, Profile};

    fn key(kind: &str, size: i64) -> Key {
        Key::generate(KeySpec::new(kind, size).unwrap()).unwrap()
    }

    /// A root, an intermediate signed by it, and a leaf key + certificate signed by the
    /// intermediate.
    fn hierarchy(leaf_key: Key) -> (Certificate, Certificate, Key, Certificate) {
        let root = Ca::self_signed(
            key("ecdsa", 384),
            &DistinguishedName::parse("/O=pkirun test/CN=Root").unwrap(),
            &Profile::named("ca").unwrap(),
        )
        .unwrap();
        let inter_key = key("ecdsa", 256);
        let inter_cert = root
            .issue_for(
                inter_key.public_key_der(),
                &DistinguishedName::parse("/O=pkirun test/CN=Intermediate").unwrap(),
                &[],
                &Profile::named("ca").unwrap(),
            )
            .unwrap()
            .cert;
        let inter = Ca::load(inter_cert.clone(), inter_key).unwrap();
        let leaf = inter
            .issue_for(
                leaf_key.public_key_der(),
                &DistinguishedName::parse("/CN=alice").unwrap(),
                &[],
                // Shorter than the intermediate: a leaf may not outlive its CA.
                &Profile {
                    validity: crate::pki::Validity::days(30).unwrap(),
                    ..Profile::named("client").unwrap()
                },
            )
            .unwrap()
            .cert;
        (root.cert().clone(), inter_cert, leaf_key, leaf)
    }

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.to_string())
    }

    /// Fewest iterations, so the tests stay fast.
    fn fast() -> Pkcs12Options {
        Pkcs12Options {
            iterations: MIN_ITERATIONS,
            ..Pkcs12Options::default()
        }
    }

    #[test]
    fn written_file_reads_back_with_key_cert_chain_and_name() {
        let (root, inter, key, leaf) = hierarchy(key("ecdsa", 256));
        // Given root first: the reader must still put the issuing CA first.
        let p12 =
            Pkcs12::new(key.clone(), leaf.clone(), vec![root.clone(), inter.clone()]).unwrap();
        let der = p12.to_der(&pass("s3cret"), &fast()).unwrap();
        let back = Pkcs12::from_der(&der, &pass("s3cret")).unwrap();
        assert_eq!(back.key.public_key_der(), key.public_key_der());
        assert_eq!(back.cert, leaf);
        assert_eq!(back.chain, vec![inter, root]);
        assert_eq!(back.name.as_deref(), Some("alice"));
    }

    #[test]
    fn wrong_passphrase_is_one_clear_error() {
        let (_, inter, key, leaf) = hierarchy(key("ecdsa", 384));
        let der = Pkcs12::new(key, leaf, vec![inter])
            .unwrap()
            .to_der(&pass("right"), &fast())
            .unwrap();
        let err = Pkcs12::from_der(&der, &pass("wrong")).unwrap_err();
        assert_eq!(err, Pkcs12Error::WrongPassphrase);
        assert_eq!(
            err.to_string(),
            "wrong passphrase for the PKCS#12 file (it does not open with the passphrase given)"
        );
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let (_, _, _, leaf) = hierarchy(key("ecdsa", 256));
        let err = Pkcs12::new(key("ecdsa", 256), leaf, vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the key does not belong to the certificate `CN = alice` (the certificate's public key is ECDSA P-256, the key is another ECDSA P-256 key)"
        );
    }

    #[test]
    fn a_leaf_in_the_chain_is_refused() {
        let (_, _, key, leaf) = hierarchy(key("ecdsa", 256));
        let err = Pkcs12::new(key.clone(), leaf.clone(), vec![leaf.clone()]).unwrap_err();
        assert_eq!(err, Pkcs12Error::ChainNotCa("CN = alice".into()));
        // Built field by field, the same bundle is refused when written.
        let direct = Pkcs12 {
            key,
            cert: leaf.clone(),
            chain: vec![leaf],
            name: None,
        };
        assert_eq!(
            direct.to_der(&pass("x"), &fast()).unwrap_err(),
            Pkcs12Error::ChainNotCa("CN = alice".into())
        );
    }

    #[test]
    fn empty_passphrase_bad_iterations_and_names_are_refused() {
        let (_, _, key, leaf) = hierarchy(key("ecdsa", 256));
        let p12 = Pkcs12::new(key, leaf, vec![]).unwrap();
        assert_eq!(
            p12.to_der(&pass(""), &fast()).unwrap_err(),
            Pkcs12Error::EmptyPassphrase
        );
        let few = Pkcs12Options {
            iterations: 1000,
            ..Pkcs12Options::default()
        };
        assert_eq!(
            p12.to_der(&pass("x"), &few).unwrap_err().to_string(),
            "invalid `iterations` 1000: expected 2048 to 1000000"
        );
        for (name, reason) in [
            ("", "a friendly name must not be empty"),
            ("a\nb", "control characters are not allowed"),
            (
                "key \u{1F511}",
                "PKCS#12 friendly names cannot hold characters beyond U+FFFF",
            ),
        ] {
            let opts = Pkcs12Options {
                name: Some(name.into()),
                ..fast()
            };
            assert_eq!(
                p12.to_der(&pass("x"), &opts).unwrap_err(),
                Pkcs12Error::InvalidName {
                    name: name.into(),
                    reason
                }
            );
        }
    }

    #[test]
    fn friendly_name_given_is_kept_and_non_ascii_survives() {
        let (_, _, key, leaf) = hierarchy(key("ecdsa", 256));
        let opts = Pkcs12Options {
            name: Some("Zoë's key".into()),
            ..fast()
        };
        let der = Pkcs12::new(key, leaf, vec![])
            .unwrap()
            .to_der(&pass("pässwörd"), &opts)
            .unwrap();
        let back = Pkcs12::from_der(&der, &pass("pässwörd")).unwrap();
        assert_eq!(back.name.as_deref(), Some("Zoë's key"));
        assert!(back.chain.is_empty());
    }

    #[test]
    fn wrong_passphrases_on_a_file_without_mac_all_say_wrong_passphrase() {
        use der::{Decode, Encode};
        let (_, _, key, leaf) = hierarchy(key("ecdsa", 256));
        let der = Pkcs12::new(key, leaf, vec![])
            .unwrap()
            .to_der(&pass("right"), &fast())
            .unwrap();
        let mut pfx = ::pkcs12::pfx::Pfx::from_der(&der).unwrap();
        pfx.mac_data = None;
        let no_mac = pfx.to_der().unwrap();
        assert!(Pkcs12::from_der(&no_mac, &pass("right")).is_ok());
        // About 1 in 190 wrong keys pass the padding check and yield content that does not
        // decode (measured); 2000 tries miss that case once in 40,000 runs.
        for i in 0..2000 {
            assert_eq!(
                Pkcs12::from_der(&no_mac, &pass(&format!("wrong{i}"))).unwrap_err(),
                Pkcs12Error::WrongPassphrase,
                "passphrase wrong{i}"
            );
        }
    }

    #[test]
    fn garbage_is_malformed_not_a_wrong_passphrase() {
        let err = Pkcs12::from_der(b"not a pkcs12 file", &pass("x")).unwrap_err();
        assert!(
            matches!(err, Pkcs12Error::Malformed(_)),
            "unexpected error: {err:?}"
        );
    }

    #[test]
    fn passphrase_never_prints() {
        assert_eq!(
            format!("{:?}", pass("hunter2")),
            "Passphrase([elided])".to_string()
        );
    }

    #[test]
    fn order_chain_walks_issuers_and_keeps_strays_last() {
        let (root, inter, _, leaf) = hierarchy(key("ecdsa", 256));
        let stray = Ca::self_signed(
            key("ecdsa", 256),
            &DistinguishedName::parse("/CN=Unrelated CA").unwrap(),
            &Profile::named("ca").unwrap(),
        )
        .unwrap()
        .cert()
        .clone();
        let ordered = order_chain(&leaf, vec![stray.clone(), root.clone(), inter.clone()]);
        assert_eq!(ordered, vec![inter, root, stray]);
    }
}
