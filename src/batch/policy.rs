//! What a CA accepts from CSRs that nodes send: no CA:TRUE, no usage beyond the profile, and
//! only names inside the allowed patterns and IP ranges.

use std::net::IpAddr;

use const_oid::AssociatedOid;
use der::Decode;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

use crate::pki::{Csr, Profile, San};
use crate::pki::{ext_key_usage_name, key_usage_name};

/// Allowed names for CSR SANs. Empty: anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamePolicy {
    /// DNS patterns: exact names, or `*.suffix` where `*` is exactly one label.
    pub dns: Vec<String>,
    /// IP ranges as (network, prefix length).
    pub ip: Vec<(IpAddr, u8)>,
}

impl NamePolicy {
    /// Parses a list of patterns: `*.db.internal`, `node1.example.io`, `10.0.0.0/8`,
    /// `192.168.1.7`, `fd00::/8`.
    ///
    /// # Errors
    /// A pattern that is neither a DNS pattern nor an IP range.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
        let mut p = NamePolicy::default();
        for pat in patterns {
            let pat = pat.as_ref().trim();
            let (addr, len) = pat
                .split_once('/')
                .map_or((pat, None), |(a, l)| (a, Some(l)));
            if let Ok(ip) = addr.parse::<IpAddr>() {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let len = match len {
                    Some(l) => l
                        .parse::<u8>()
                        .ok()
                        .filter(|l| *l <= max)
                        .ok_or_else(|| format!("allowed name `{pat}`: bad prefix length"))?,
                    None => max,
                };
                p.ip.push((ip, len));
            } else {
                let body = pat.strip_prefix("*.").unwrap_or(pat);
                crate::pki::validate_dns(body).map_err(|e| format!("allowed name `{pat}`: {e}"))?;
                p.dns.push(pat.to_ascii_lowercase());
            }
        }
        Ok(p)
    }

    /// True when no pattern is set.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ip.is_empty()
    }

    /// Whether `san` is allowed.
    #[must_use]
    pub fn allows(&self, san: &San) -> bool {
        if self.is_empty() {
            return true;
        }
        match san {
            San::Dns(name) => {
                let name = name.to_ascii_lowercase();
                self.dns.iter().any(|pat| match pat.strip_prefix("*.") {
                    Some(suffix) => name
                        .strip_suffix(suffix)
                        .and_then(|head| head.strip_suffix('.'))
                        .is_some_and(|label| !label.is_empty() && !label.contains('.')),
                    None => *pat == name,
                })
            }
            San::Ip(ip) => self.ip.iter().any(|(net, len)| in_range(*ip, *net, *len)),
            San::Uri(_) | San::Email(_) => false,
        }
    }
}

fn in_range(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

/// Checks a verified CSR against the profile and the name policy; the reason on refusal.
///
/// # Errors
/// The first rule the CSR breaks, as a sentence for the report.
pub fn check_csr(csr: &Csr, profile: &Profile, policy: &NamePolicy) -> Result<(), String> {
    let profile_is_ca = profile.basic_constraints.is_some_and(|b| b.ca);
    if csr.requests_ca() && !profile_is_ca {
        return Err("asks for CA:TRUE".into());
    }
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
    for san in csr.sans() {
        if !policy.allows(&san) {
            return Err(format!("`{san}` is outside the allowed names"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matches_exactly_one_label() {
        let p = NamePolicy::parse(&["*.db.internal", "10.0.0.0/8", "fd00::/8"]).unwrap();
        assert!(p.allows(&San::parse("n1.db.internal").unwrap()));
        assert!(!p.allows(&San::parse("a.n1.db.internal").unwrap()));
        assert!(!p.allows(&San::parse("db.internal").unwrap()));
        assert!(!p.allows(&San::parse("evil-db.internal").unwrap()));
        assert!(p.allows(&San::parse("10.200.1.1").unwrap()));
        assert!(!p.allows(&San::parse("11.0.0.1").unwrap()));
        assert!(p.allows(&San::parse("fd00::1").unwrap()));
        assert!(!p.allows(&San::parse("URI:spiffe://x").unwrap()));
    }

    #[test]
    fn empty_policy_allows_everything() {
        assert!(NamePolicy::default().allows(&San::parse("anything.example").unwrap()));
    }
}
