//! The PKI core: keys, names, SANs, profiles, CSRs, CAs, PKCS#12, inspection and verification. No Rhai, no printing,
//! no file system: callers hand in bytes and get bytes back.

mod algorithm;
mod ca;
pub mod ca_dir;
mod cert;
pub mod config;
mod crl;
mod csr;
pub mod diff;
pub mod drift;
mod early_dates;
pub mod encrypted_key;
mod error;
pub mod ext;
mod index;
pub mod inspect;
mod key;
pub mod legacy_pem;
mod name;
pub mod name_constraints;
mod oneline;
pub mod pem;
pub mod pkcs12;
pub mod policy;
pub mod profile;
mod pubkey;
mod reason;
mod renew;
mod san;
mod serial;
mod tlv;
pub mod usage;
pub mod verify;

pub use algorithm::{Digest, KeySpec, SignatureAlgorithm, describe_spec};
pub use ca::{Ca, Signed, random_serial};
pub use cert::{Certificate, colon_hex, rfc3339, x509_time};
pub use config::cfssl;
pub use crl::{Crl, CrlError, CrlParams, Revoked};
pub use csr::{Csr, CsrParams};
pub use error::{Error, Result};
pub use index::{Database, DatabaseError, Entry, IndexTime, Revocation, RevocationDetail, Status};
pub use key::{Key, KeyFormat, key_identifier_of_spki};
pub use name::{CANONICAL_ORDER, DistinguishedName, NameAttr, short_name};
pub use oneline::subject_oneline;
pub use pkcs12::{Passphrase, Pkcs12, Pkcs12Error, Pkcs12Options};
pub use policy::{NamePolicy, SigningPolicy};
pub use profile::{
    AuthorityKeyId, BasicConstraints, CopyExtensions, PolicyRule, Profile, Validity,
};
pub use pubkey::PublicKey;
pub use reason::Reason;
pub use san::{San, validate_dns};
pub use serial::{Serial, SerialError};
pub use usage::{
    EXT_KEY_USAGE_NAMES, KEY_USAGE_NAMES, KNOWN_EXT_KEY_USAGES, KNOWN_KEY_USAGES, Usages,
    ext_key_usage_by_name, ext_key_usage_name, key_usage_by_name, key_usage_name,
};
