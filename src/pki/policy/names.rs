//! Allowed names: the patterns a CA (or one signing call) accepts in the names it certifies.

use std::fmt;
use std::net::IpAddr;

use crate::pki::error::{Error, Result};
use crate::pki::san::{San, validate_dns};

/// Which names may appear in a certificate. Empty: any name.
///
/// Patterns: exact DNS names; `*.suffix`, where `*` stands for exactly one label; IP addresses
/// and CIDR ranges (`10.0.0.0/8`, `fd00::/8`); email addresses (`ops@example.com`) and email
/// domains (`@example.com`); URIs (`spiffe://cluster/ns/db`) and URI prefixes ending in `/*`
/// (`spiffe://cluster/*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamePolicy {
    dns: Vec<String>,
    ip: Vec<(IpAddr, u8)>,
    email: Vec<String>,
    uri: Vec<String>,
    patterns: Vec<String>,
}

impl NamePolicy {
    /// Parses a list of patterns.
    ///
    /// # Errors
    /// A pattern that is none of the kinds above, naming it.
    pub fn parse<S: AsRef<str>>(patterns: &[S]) -> Result<Self> {
        let mut p = NamePolicy::default();
        for pat in patterns {
            let pat = pat.as_ref().trim();
            p.add(pat).map_err(|reason| Error::InvalidOption {
                field: "allowed_names".into(),
                reason: format!("`{pat}`: {reason}"),
            })?;
            p.patterns.push(pat.to_string());
        }
        Ok(p)
    }

    fn add(&mut self, pat: &str) -> std::result::Result<(), String> {
        if pat.contains("://") {
            let exact = pat.strip_suffix("/*").unwrap_or(pat);
            San::parse(&format!("URI:{exact}")).map_err(|e| e.to_string())?;
            self.uri.push(pat.to_string());
            return Ok(());
        }
        if let Some(domain) = pat.strip_prefix('@') {
            validate_dns(domain).map_err(|_| format!("`{domain}` is not a valid domain"))?;
            self.email.push(pat.to_ascii_lowercase());
            return Ok(());
        }
        if pat.contains('@') {
            San::parse(&format!("email:{pat}")).map_err(|e| e.to_string())?;
            self.email.push(pat.to_ascii_lowercase());
            return Ok(());
        }
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
                    .ok_or_else(|| format!("bad prefix length (0-{max})"))?,
                None => max,
            };
            self.ip.push((ip, len));
            return Ok(());
        }
        let body = pat.strip_prefix("*.").unwrap_or(pat);
        if body.contains('*') {
            return Err("`*` may only be the whole first label (`*.example.com`)".into());
        }
        validate_dns(body).map_err(|e| e.to_string())?;
        self.dns.push(pat.to_ascii_lowercase());
        Ok(())
    }

    /// True when no pattern is set (every name is allowed).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
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
                let name = name.strip_suffix('.').unwrap_or(&name);
                self.dns.iter().any(|pat| match pat.strip_prefix("*.") {
                    Some(suffix) => name
                        .strip_suffix(suffix)
                        .and_then(|head| head.strip_suffix('.'))
                        .is_some_and(|label| !label.is_empty() && !label.contains('.')),
                    None => pat == name,
                })
            }
            San::Ip(ip) => self.ip.iter().any(|(net, len)| in_range(*ip, *net, *len)),
            San::Email(addr) => {
                let addr = addr.to_ascii_lowercase();
                let domain = addr.rsplit_once('@').map_or("", |(_, d)| d);
                self.email.iter().any(|pat| match pat.strip_prefix('@') {
                    Some(d) => d == domain,
                    None => *pat == addr,
                })
            }
            San::Uri(uri) => self.uri.iter().any(|pat| match pat.strip_suffix('*') {
                Some(prefix) => uri.starts_with(prefix) && uri.len() > prefix.len(),
                None => pat == uri,
            }),
        }
    }
}

impl fmt::Display for NamePolicy {
    /// The patterns as given, comma separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.patterns.join(", "))
    }
}

fn in_range(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            (u32::from(a) & mask) == (u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            (u128::from(a) & mask) == (u128::from(n) & mask)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn san(s: &str) -> San {
        San::parse(s).unwrap()
    }

    #[test]
    fn wildcard_matches_exactly_one_label() {
        let p = NamePolicy::parse(&["*.db.internal", "10.0.0.0/8", "fd00::/8"]).unwrap();
        assert!(p.allows(&san("n1.db.internal")));
        assert!(p.allows(&san("N1.DB.internal.")));
        assert!(!p.allows(&san("a.n1.db.internal")));
        assert!(!p.allows(&san("db.internal")));
        assert!(!p.allows(&san("evil-db.internal")));
        assert!(p.allows(&san("10.200.1.1")));
        assert!(!p.allows(&san("11.0.0.1")));
        assert!(p.allows(&san("fd00::1")));
        assert!(!p.allows(&san("URI:spiffe://x/y")));
        assert!(!p.allows(&san("0.0.0.0")));
    }

    #[test]
    fn emails_uris_and_zero_prefixes() {
        let p = NamePolicy::parse(&[
            "ops@example.com",
            "@corp.example",
            "spiffe://cluster/*",
            "https://exact.example/a",
            "0.0.0.0/0",
        ])
        .unwrap();
        assert!(p.allows(&san("email:ops@example.com")));
        assert!(!p.allows(&san("email:dev@example.com")));
        assert!(p.allows(&san("email:anyone@corp.example")));
        assert!(!p.allows(&san("email:x@evil.corp.example")));
        assert!(p.allows(&san("URI:spiffe://cluster/ns/db")));
        assert!(!p.allows(&san("URI:spiffe://cluster.evil/ns")));
        assert!(p.allows(&san("URI:https://exact.example/a")));
        assert!(!p.allows(&san("URI:https://exact.example/b")));
        assert!(p.allows(&san("203.0.113.9")));
        assert!(!p.allows(&san("::1")));
    }

    #[test]
    fn bad_patterns_are_named() {
        assert_eq!(
            NamePolicy::parse(&["10.0.0.0/33"]).unwrap_err().to_string(),
            "invalid `allowed_names`: `10.0.0.0/33`: bad prefix length (0-32)"
        );
        assert_eq!(
            NamePolicy::parse(&["a.*.example"]).unwrap_err().to_string(),
            "invalid `allowed_names`: `a.*.example`: `*` may only be the whole first label (`*.example.com`)"
        );
    }

    #[test]
    fn empty_policy_allows_everything() {
        assert!(NamePolicy::default().allows(&san("anything.example")));
    }
}
