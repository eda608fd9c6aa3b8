//! The PKI core's error type.

use thiserror::Error;

/// Everything that can go wrong in the PKI core.
///
/// Messages are lowercase, name the offending value in backticks and, where it helps, end with a
/// hint. Callers that know a file name or a script field add it around this error.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A key algorithm name that pkirun does not know.
    #[error(
        "unknown key algorithm `{0}` (expected `rsa` or `ecdsa`, e.g. \"rsa:2048\" or \"ecdsa:384\")"
    )]
    UnknownKeyAlgorithm(String),
    /// A key size that the algorithm does not support.
    #[error("unsupported {algorithm} key size {size} (supported: {supported})")]
    UnsupportedKeySize {
        /// `rsa` or `ecdsa`.
        algorithm: &'static str,
        /// The size that was asked for.
        size: i64,
        /// The sizes that would work.
        supported: &'static str,
    },
    /// Input that should hold PEM does not, or holds a broken block.
    #[error("malformed PEM: {0}")]
    Pem(String),
    /// PEM parsed, but no block of the expected kind was found.
    #[error("no {expected} found (PEM labels present: {found})")]
    NoPemBlock {
        /// What we looked for, e.g. "private key".
        expected: &'static str,
        /// The labels that were present, comma separated, or "none".
        found: String,
    },
    /// A password-protected private key.
    #[error(
        "an encrypted private key, read only by a script's load_key with the run's passphrase \
         (--passphrase-file, --passphrase-env); or decrypt it first (openssl pkey -in KEY -out PLAIN)"
    )]
    EncryptedKey,
    /// A private key whose DER content could not be decoded.
    #[error("invalid {format} private key: {reason}")]
    InvalidKey {
        /// PKCS#1, PKCS#8 or SEC1.
        format: &'static str,
        /// What the decoder said.
        reason: String,
    },
    /// A key encrypted the old OpenSSL way, met where no passphrase can be asked for.
    #[error(
        "a key encrypted the old OpenSSL way (Proc-Type: 4,ENCRYPTED), read only by a script's \
         load_key with the run's passphrase (--passphrase-file, --passphrase-env)"
    )]
    LegacyEncryptedKey,
    /// An encrypted private key whose passphrase does not decrypt it.
    #[error("wrong passphrase (or a damaged encrypted key); nothing was written")]
    WrongPassphrase,
    /// The passphrase for an encrypted key could not be had (its source names the cause).
    #[error("the key is encrypted: {0}")]
    Passphrase(String),
    /// A file holding two different private keys: which one is meant is not pkirun's guess.
    #[error("two different private keys in one file; keep one key per file")]
    TwoKeys,
    /// A key of a kind pkirun cannot use (e.g. an unsupported curve).
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// A subject alternative name that is not valid.
    #[error("invalid subject alternative name `{value}`: {reason}")]
    InvalidSan {
        /// The value as given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A distinguished-name attribute that is not valid.
    #[error("invalid subject field `{field}`: {reason}")]
    InvalidName {
        /// The field name as given (`CN`, `O`, ...).
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A key usage name that is neither openssl's nor cfssl's spelling.
    #[error("unknown key usage `{0}` (known: {known})", known = crate::pki::usage::KNOWN_KEY_USAGES)]
    UnknownKeyUsage(String),
    /// An extended key usage name that is not known.
    #[error("unknown extended key usage `{0}` (known: {known}, or a dotted OID)", known = crate::pki::usage::KNOWN_EXT_KEY_USAGES)]
    UnknownExtKeyUsage(String),
    /// A setting in openssl's syntax that does not parse (`basic_constraints`,
    /// `authority_key_id`, `policy`).
    #[error("`{field}`: {reason}")]
    InvalidSetting {
        /// The option's name.
        field: String,
        /// The value at fault and what was expected.
        reason: String,
    },
    /// A validity period that is zero, negative or out of range.
    #[error("invalid validity: {0}")]
    InvalidValidity(String),
    /// A profile or option field with a bad value.
    #[error("invalid `{field}`: {reason}")]
    InvalidOption {
        /// The option's name.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A certificate that could not be parsed.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// A certificate signing request that could not be parsed.
    #[error("invalid certificate signing request: {0}")]
    InvalidCsr(String),
    /// A CSR whose self-signature does not verify.
    #[error(
        "certificate signing request signature does not verify (the request was altered or signed with another key)"
    )]
    BadCsrSignature,
    /// A CA private key that does not belong to the CA certificate.
    #[error(
        "CA key does not match the CA certificate (the certificate's public key is {cert_key}, the key's is {key_key})"
    )]
    KeyMismatch {
        /// Description of the certificate's public key.
        cert_key: String,
        /// Description of the private key's public half.
        key_key: String,
    },
    /// A certificate that is not a CA was loaded as a CA.
    #[error("certificate `{0}` is not a CA (basicConstraints CA:TRUE missing)")]
    NotACa(String),
    /// A request refused by the signing policy.
    #[error("policy refused the request: {0}")]
    Policy(String),
    /// A request the signing policy refuses: which field, which rule (and the opt-out, if any).
    #[error("refusing to sign: `{field}`: {rule}")]
    Refused {
        /// The field at fault: `subject.CN`, `san[1]`, `public key`, `extension 1.2.3`, ...
        field: String,
        /// The rule it breaks.
        rule: String,
    },
    /// A CA that may not sign what is asked (expired, not a CA, no keyCertSign, pathlen, ...).
    #[error("refusing to sign with the CA `{ca}`: {rule}")]
    CaRefused {
        /// The CA's subject.
        ca: String,
        /// The rule it breaks.
        rule: String,
    },
    /// Signing failed in the crypto backend.
    #[error("signing failed: {0}")]
    Signing(String),
    /// DER encoding failed (a bug or an out-of-range value).
    #[error("encoding failed: {0}")]
    Encoding(String),
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::Encoding(e.to_string())
    }
}

/// Result alias for the PKI core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
