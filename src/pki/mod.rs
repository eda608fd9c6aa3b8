//! The PKI core: keys, names, SANs, profiles, CSRs, CAs, inspection and verification. No Rhai, no printing,
//! no file system: callers hand in bytes and get bytes back.

mod algorithm;
mod ca;
mod cert;
pub mod config;
mod csr;
mod error;
pub mod ext;
pub mod inspect;
mod key;
mod name;
pub mod pem;
pub mod policy;
pub mod profile;
mod pubkey;
mod san;
pub mod usage;
pub mod verify;

pub use algorithm::{KeySpec, SignatureAlgorithm, describe_spec};
pub use ca::{Ca, Signed, random_serial};
pub use cert::{Certificate, colon_hex, rfc3339, x509_time};
pub use config::cfssl;
pub use csr::{Csr, CsrParams};
pub use error::{Error, Result};
pub use key::{Key, KeyFormat, key_identifier_of_spki};
pub use name::{CANONICAL_ORDER, DistinguishedName, NameAttr};
pub use policy::{NamePolicy, SigningPolicy};
pub use profile::{
    AuthorityKeyId, BasicConstraints, CopyExtensions, PolicyRule, Profile, Validity,
};
pub use pubkey::PublicKey;
pub use san::{San, validate_dns};
pub use usage::{
    EXT_KEY_USAGE_NAMES, KEY_USAGE_NAMES, KNOWN_EXT_KEY_USAGES, KNOWN_KEY_USAGES, Usages,
    ext_key_usage_by_name, ext_key_usage_name, key_usage_by_name, key_usage_name,
};
