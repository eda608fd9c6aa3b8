//! What a batch adds to the core signing policy ([`crate::pki::policy`], which every signature
//! goes through: allowed names, CA:TRUE, weak keys, ...): a CSR may not ask for a usage beyond
//! the profile.

use const_oid::AssociatedOid;
use der::Decode;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

use crate::pki::{Csr, Profile};
use crate::pki::{ext_key_usage_name, key_usage_name};

pub use crate::pki::NamePolicy;

/// Checks that a verified CSR asks for no key usage or extended key usage the profile does not
/// give; the reason on refusal. The rest is the core policy's, applied when it is signed.
///
/// # Errors
/// The first rule the CSR breaks, as a sentence for the report.
pub fn check_csr(csr: &Csr, profile: &Profile) -> Result<(), String> {
    for ext in csr.extensions() {
        let value = ext.extn_value.as_bytes();
        if ext.extn_id == KeyUsage::OID {
            let ku = KeyUsage::from_der(value).map_err(|e| format!("unreadable keyUsage: {e}"))?;
            let asked: Vec<_> = ku.0.into_iter().collect();
            within("key usage", &asked, &profile.key_usage, |b| {
                key_usage_name(*b).into()
            })?;
        }
        if ext.extn_id == ExtendedKeyUsage::OID {
            let eku = ExtendedKeyUsage::from_der(value)
                .map_err(|e| format!("unreadable extendedKeyUsage: {e}"))?;
            within("extended key usage", &eku.0, &profile.ext_key_usage, |o| {
                ext_key_usage_name(*o)
            })?;
        }
    }
    Ok(())
}

/// Refuses the first of `asked` that `allowed` lacks, naming it.
fn within<T: PartialEq>(
    what: &str,
    asked: &[T],
    allowed: &[T],
    name: impl Fn(&T) -> String,
) -> Result<(), String> {
    match asked.iter().find(|a| !allowed.contains(a)) {
        Some(a) => Err(format!(
            "asks for {what} `{}`, which the profile does not allow",
            name(a)
        )),
        None => Ok(()),
    }
}
