//! Subject alternative names: `DNS:`, `IP:`, `URI:`, `email:`, and cfssl-style bare hosts.

use std::fmt;
use std::net::IpAddr;

use der::asn1::{Ia5String, OctetString};
use x509_cert::ext::pkix::name::GeneralName;

use super::error::{Error, Result};

/// One subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum San {
    /// A DNS name (may start with `*.`).
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A URI such as `spiffe://cluster/ns/x`.
    Uri(String),
    /// An email address (rfc822Name).
    Email(String),
}

fn bad(value: &str, reason: impl Into<String>) -> Error {
    Error::InvalidSan {
        value: value.to_string(),
        reason: reason.into(),
    }
}

/// Checks a DNS name the way CAs and TLS libraries do: labels of letters, digits, `-` and `_`,
/// 1-63 characters, not starting or ending with `-`; at most 253 characters; an optional `*.`
/// wildcard as the whole first label.
///
/// # Errors
/// The first rule the name breaks.
pub fn validate_dns(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(bad(name, "empty DNS name"));
    }
    if name.len() > 253 {
        return Err(bad(name, "DNS name longer than 253 characters"));
    }
    let body = name.strip_prefix("*.").unwrap_or(name);
    let body = body.strip_suffix('.').unwrap_or(body);
    if body.is_empty() {
        return Err(bad(name, "wildcard without a domain"));
    }
    for label in body.split('.') {
        if label.is_empty() {
            return Err(bad(name, "empty label (two dots in a row?)"));
        }
        if label.len() > 63 {
            return Err(bad(
                name,
                format!("label `{label}` is longer than 63 characters"),
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(bad(
                name,
                format!("character `{c}` is not allowed in a DNS name"),
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad(
                name,
                format!("label `{label}` starts or ends with `-`"),
            ));
        }
    }
    Ok(())
}

impl San {
    /// Parses a typed SAN (`DNS:x`, `IP:1.2.3.4`, `IP Address:...`, `URI:...`, `email:...`)
    /// or a bare value, detected the way cfssl reads `hosts`: an IP if it parses as one, an
    /// email if it has `@`, a URI if it has `://`, otherwise a DNS name.
    ///
    /// # Errors
    /// An unknown prefix, an invalid IP, or an invalid DNS name, URI or email.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if let Some((prefix, rest)) = s.split_once(':') {
            let rest = rest.trim();
            match prefix.trim().to_ascii_lowercase().as_str() {
                "dns" => return Self::dns(rest),
                "ip" | "ip address" => {
                    return rest
                        .parse::<IpAddr>()
                        .map(San::Ip)
                        .map_err(|_| bad(s, format!("`{rest}` is not an IPv4 or IPv6 address")));
                }
                "uri" => return Self::uri(rest),
                "email" | "rfc822" => return Self::email(rest),
                _ => {}
            }
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(San::Ip(ip));
        }
        if s.contains("://") {
            return Self::uri(s);
        }
        if s.contains('@') {
            return Self::email(s);
        }
        if s.contains(':') {
            return Err(bad(
                s,
                "unknown prefix (expected DNS:, IP:, URI: or email:) and not an IPv6 address",
            ));
        }
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(bad(
                s,
                format!("`{s}` looks like an IP address but is not a valid one"),
            ));
        }
        Self::dns(s)
    }

    fn dns(name: &str) -> Result<Self> {
        validate_dns(name)?;
        Ok(San::Dns(name.to_string()))
    }

    fn uri(uri: &str) -> Result<Self> {
        let Some((scheme, rest)) = uri.split_once(':') else {
            return Err(bad(uri, "URI without a scheme"));
        };
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            || rest.is_empty()
        {
            return Err(bad(uri, "not a URI (expected scheme:rest)"));
        }
        if !uri.is_ascii() || uri.chars().any(char::is_whitespace) {
            return Err(bad(uri, "URIs must be ASCII without spaces"));
        }
        Ok(San::Uri(uri.to_string()))
    }

    fn email(addr: &str) -> Result<Self> {
        let Some((local, domain)) = addr.rsplit_once('@') else {
            return Err(bad(addr, "email address without `@`"));
        };
        if local.is_empty() || !addr.is_ascii() || addr.chars().any(char::is_whitespace) {
            return Err(bad(addr, "not a valid email address"));
        }
        validate_dns(domain).map_err(|_| bad(addr, format!("`{domain}` is not a valid domain")))?;
        Ok(San::Email(addr.to_string()))
    }

    /// The X.509 `GeneralName` for this SAN.
    ///
    /// # Errors
    /// Only for values DER cannot carry (not produced by [`San::parse`]).
    pub fn to_general_name(&self) -> Result<GeneralName> {
        Ok(match self {
            San::Dns(d) => GeneralName::DnsName(Ia5String::new(d)?),
            San::Uri(u) => GeneralName::UniformResourceIdentifier(Ia5String::new(u)?),
            San::Email(e) => GeneralName::Rfc822Name(Ia5String::new(e)?),
            San::Ip(IpAddr::V4(a)) => GeneralName::IpAddress(OctetString::new(a.octets())?),
            San::Ip(IpAddr::V6(a)) => GeneralName::IpAddress(OctetString::new(a.octets())?),
        })
    }

    /// Reads a `GeneralName` back (other kinds, e.g. directoryName, give `None`).
    #[must_use]
    pub fn from_general_name(gn: &GeneralName) -> Option<Self> {
        match gn {
            GeneralName::DnsName(d) => Some(San::Dns(d.to_string())),
            GeneralName::UniformResourceIdentifier(u) => Some(San::Uri(u.to_string())),
            GeneralName::Rfc822Name(e) => Some(San::Email(e.to_string())),
            GeneralName::IpAddress(o) => match o.as_bytes().len() {
                4 => <[u8; 4]>::try_from(o.as_bytes())
                    .ok()
                    .map(|b| San::Ip(IpAddr::from(b))),
                16 => <[u8; 16]>::try_from(o.as_bytes())
                    .ok()
                    .map(|b| San::Ip(IpAddr::from(b))),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for San {
    /// The typed form scripts and `inspect` use: `DNS:x`, `IP:1.2.3.4`, `URI:...`, `email:...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(d) => write!(f, "DNS:{d}"),
            San::Ip(ip) => write!(f, "IP:{ip}"),
            San::Uri(u) => write!(f, "URI:{u}"),
            San::Email(e) => write!(f, "email:{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_hosts_are_detected_like_cfssl() {
        assert_eq!(
            San::parse("127.0.0.1").unwrap(),
            San::Ip("127.0.0.1".parse().unwrap())
        );
        assert_eq!(San::parse("::1").unwrap(), San::Ip("::1".parse().unwrap()));
        assert_eq!(
            San::parse("node1.example.io").unwrap(),
            San::Dns("node1.example.io".into())
        );
        assert_eq!(San::parse("a@b.io").unwrap(), San::Email("a@b.io".into()));
        assert_eq!(
            San::parse("spiffe://c/ns").unwrap(),
            San::Uri("spiffe://c/ns".into())
        );
        assert_eq!(
            San::parse("*.db.local").unwrap(),
            San::Dns("*.db.local".into())
        );
    }

    #[test]
    fn typed_prefixes_are_honoured() {
        assert_eq!(
            San::parse("DNS:localhost").unwrap(),
            San::Dns("localhost".into())
        );
        assert_eq!(
            San::parse("IP:10.0.0.1").unwrap().to_string(),
            "IP:10.0.0.1"
        );
        assert_eq!(San::parse("IP Address:::1").unwrap().to_string(), "IP:::1");
    }

    #[test]
    fn invalid_values_are_refused_with_the_reason() {
        assert_eq!(
            San::parse("IP:300.1.1.1").unwrap_err().to_string(),
            "invalid subject alternative name `IP:300.1.1.1`: `300.1.1.1` is not an IPv4 or IPv6 address"
        );
        assert_eq!(
            San::parse("bad host").unwrap_err().to_string(),
            "invalid subject alternative name `bad host`: character ` ` is not allowed in a DNS name"
        );
        assert!(San::parse("10.0.0.256").is_err());
        assert!(San::parse("-a.com").is_err());
        assert!(San::parse("a..com").is_err());
        assert!(San::parse("").is_err());
    }

    #[test]
    fn general_name_round_trip() {
        for s in [
            "DNS:x.io",
            "IP:10.1.2.3",
            "IP:fe80::1",
            "URI:https://x",
            "email:a@b.c",
        ] {
            let san = San::parse(s).unwrap();
            assert_eq!(
                San::from_general_name(&san.to_general_name().unwrap()),
                Some(san)
            );
        }
    }
}
