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
        if ext.extn_id == KeyUsage::OID {
            let ku = KeyUsage::from_der(ext.extn_value.as_bytes())
                .map_err(|e| format!("unreadable keyUsage: {e}"))?;
            for bit in ku.0 {
                if !profile.key_usage.contains(&bit) {
                    return Err(format!(
                        "asks for key usage `{}`, which the profile does not allow",
                        key_usage_name(bit)
                    ));
                }
            }
        }
        if ext.extn_id == ExtendedKeyUsage::OID {
            let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
                .map_err(|e| format!("unreadable extendedKeyUsage: {e}"))?;
            for oid in eku.0 {
                if !profile.ext_key_usage.contains(&oid) {
                    return Err(format!(
                        "asks for extended key usage `{}`, which the profile does not allow",
                        ext_key_usage_name(oid)
                    ));
                }
            }
        }
    }
    Ok(())
}
