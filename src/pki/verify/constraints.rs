//! Name constraints (RFC 5280 4.2.1.10): whether a name a certificate presents lies inside
//! what a CA's nameConstraints permit and outside what they exclude.
//!
//! Pure matching, no chain: [`check`] takes one constraint set and one name. The verifier
//! applies it to every name of every certificate below a constrained CA; a CA that checks a
//! request before signing can apply it the same way.
//!
//! The rules, as RFC 5280 and OpenSSL apply them:
//! - DNS: `example.com` matches itself and every name below it (a constraint with a leading
//!   dot is refused by [`validate`], as RFC 5280 gives it no meaning for DNS names); the empty
//!   constraint matches every name. Case-insensitive. A wildcard name
//!   `*.example.com` is excluded by `x.example.com` too (it would cover that name).
//! - IP: an address matches a base/mask pair of its own family (4+4 or 16+16 octets).
//! - email: `user@host` matches that mailbox only, `host` every mailbox at that host,
//!   `.host` every mailbox at a host below it.
//! - URI: the constraint applies to the URI's host: `host` matches that host only, `.host`
//!   the hosts below it; a URI without a host matches no URI constraint.
//! - directoryName: the constraint's RDNs must be the first RDNs of the name.
//! - Other forms (otherName, x400Address, ediPartyName, registeredID): a name of such a form
//!   under a constraint of the same form cannot be judged and is refused.

use std::fmt;
use std::net::IpAddr;

use crate::pki::San;
use der::Encode;
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::Name;

/// A name presented by a certificate, in the forms name constraints can judge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresentedName {
    /// A dNSName (or a commonName taken as one), iPAddress, rfc822Name (or an emailAddress
    /// attribute of the subject) or uniformResourceIdentifier.
    San(San),
    /// The subject or a directoryName.
    Directory(Name),
    /// A form pkirun does not match (otherName, x400Address, ediPartyName, registeredID),
    /// by its RFC 5280 name.
    Other(&'static str),
}

impl PresentedName {
    /// The RFC 5280 form name (`dNSName`, `iPAddress`, ...), as constraints group them.
    fn form(&self) -> &'static str {
        match self {
            PresentedName::San(San::Dns(_)) => "dNSName",
            PresentedName::San(San::Ip(_)) => "iPAddress",
            PresentedName::San(San::Email(_)) => "rfc822Name",
            PresentedName::San(San::Uri(_)) => "uniformResourceIdentifier",
            PresentedName::Directory(_) => "directoryName",
            PresentedName::Other(form) => form,
        }
    }
}

impl fmt::Display for PresentedName {
    /// The typed form openssl prints: `DNS:x`, `IP:x`, `email:x`, `URI:x`, `DirName:x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PresentedName::San(san) => san.fmt(f),
            PresentedName::Directory(n) => write!(f, "DirName:{n}"),
            PresentedName::Other(form) => write!(f, "{form}"),
        }
    }
}

/// Why a name falls outside a set of name constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// An excluded subtree covers the name.
    Excluded {
        /// The subtree, typed (`DNS:x`, `IP:10.0.0.0/8`, ...).
        subtree: String,
    },
    /// Permitted subtrees of the name's form exist and none covers it.
    NotPermitted {
        /// The permitted subtrees of that form, comma separated.
        permitted: String,
    },
    /// The name's form is constrained but pkirun cannot match it.
    Unsupported {
        /// The form.
        form: &'static str,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Excluded { subtree } => write!(f, "within excluded subtree {subtree}"),
            Violation::NotPermitted { permitted } => {
                write!(f, "outside the permitted subtrees ({permitted})")
            }
            Violation::Unsupported { form } => {
                write!(
                    f,
                    "{form} constraints are not supported, so the name cannot be judged"
                )
            }
        }
    }
}

/// Checks that the constraints themselves are well formed: RFC 5280 requires `minimum` 0 and
/// no `maximum`, and an iPAddress subtree is an address and a contiguous mask of its family.
///
/// # Errors
/// The rule broken, naming the subtree.
pub fn validate(nc: &NameConstraints) -> Result<(), String> {
    if nc.permitted_subtrees.as_ref().is_none_or(Vec::is_empty)
        && nc.excluded_subtrees.as_ref().is_none_or(Vec::is_empty)
    {
        return Err("no permitted or excluded subtree (RFC 5280 4.2.1.10: at least one)".into());
    }
    if [&nc.permitted_subtrees, &nc.excluded_subtrees]
        .iter()
        .any(|s| s.as_ref().is_some_and(Vec::is_empty))
    {
        return Err("an empty list of subtrees (RFC 5280 4.2.1.10: SIZE (1..MAX))".into());
    }
    let all = nc.permitted_subtrees.iter().chain(&nc.excluded_subtrees);
    for subtree in all.flatten() {
        if subtree.minimum != 0 || subtree.maximum.is_some() {
            return Err(format!(
                "subtree {} has minimum/maximum (RFC 5280: minimum 0, no maximum)",
                subtree_text(&subtree.base)
            ));
        }
        if let GeneralName::DnsName(d) = &subtree.base
            && d.as_str().starts_with('.')
        {
            return Err(format!(
                "dNSName subtree `{}` starts with a dot (RFC 5280 4.2.1.10: `host.example.com` covers the host and below)",
                d.as_str()
            ));
        }
        if let GeneralName::IpAddress(octets) = &subtree.base {
            let bytes = octets.as_bytes();
            if bytes.len() != 8 && bytes.len() != 32 {
                return Err(format!(
                    "iPAddress subtree of {} octets (expected 8 or 32: address and mask)",
                    bytes.len()
                ));
            }
            if !contiguous(&bytes[bytes.len() / 2..]) {
                return Err(format!(
                    "iPAddress subtree {} has a non-contiguous mask",
                    subtree_text(&subtree.base)
                ));
            }
        }
    }
    Ok(())
}

/// Whether `name` lies within `nc`: no excluded subtree covers it, and when permitted
/// subtrees of its form exist, one covers it.
///
/// # Errors
/// The [`Violation`].
pub fn check(nc: &NameConstraints, name: &PresentedName) -> Result<(), Violation> {
    let form = name.form();
    let same_form = |subtrees: &'_ Option<Vec<GeneralSubtree>>| -> Vec<GeneralName> {
        subtrees
            .iter()
            .flatten()
            .filter(|s| form_of(&s.base) == form)
            .map(|s| s.base.clone())
            .collect()
    };
    let excluded = same_form(&nc.excluded_subtrees);
    let permitted = same_form(&nc.permitted_subtrees);
    if matches!(name, PresentedName::Other(_)) {
        return if excluded.is_empty() && permitted.is_empty() {
            Ok(())
        } else {
            Err(Violation::Unsupported { form })
        };
    }
    if let Some(hit) = excluded.iter().find(|base| covers(base, name, true)) {
        return Err(Violation::Excluded {
            subtree: subtree_text(hit),
        });
    }
    if !permitted.is_empty() && !permitted.iter().any(|base| covers(base, name, false)) {
        return Err(Violation::NotPermitted {
            permitted: permitted
                .iter()
                .map(subtree_text)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

/// The RFC 5280 form name of a general name.
fn form_of(gn: &GeneralName) -> &'static str {
    match gn {
        GeneralName::OtherName(_) => "otherName",
        GeneralName::Rfc822Name(_) => "rfc822Name",
        GeneralName::DnsName(_) => "dNSName",
        GeneralName::DirectoryName(_) => "directoryName",
        GeneralName::EdiPartyName(_) => "ediPartyName",
        GeneralName::UniformResourceIdentifier(_) => "uniformResourceIdentifier",
        GeneralName::IpAddress(_) => "iPAddress",
        GeneralName::RegisteredId(_) => "registeredID",
    }
}

/// The RFC 5280 form name of the general names [`PresentedName::Other`] stands for.
pub(super) fn other_form(gn: &GeneralName) -> &'static str {
    form_of(gn)
}

/// Whether the subtree `base` covers `name` (both of the same form). `excluding`: a wildcard
/// DNS name counts as every name it could match.
fn covers(base: &GeneralName, name: &PresentedName, excluding: bool) -> bool {
    match (base, name) {
        (GeneralName::DnsName(c), PresentedName::San(San::Dns(n))) => {
            let c = c.as_str();
            dns_within(n, c) || (excluding && wildcard_covers(n, c))
        }
        (GeneralName::IpAddress(c), PresentedName::San(San::Ip(ip))) => {
            ip_within(c.as_bytes(), *ip)
        }
        (GeneralName::Rfc822Name(c), PresentedName::San(San::Email(e))) => {
            email_within(e, c.as_str())
        }
        (GeneralName::UniformResourceIdentifier(c), PresentedName::San(San::Uri(u))) => {
            uri_host(u).is_some_and(|host| host_within(host, c.as_str()))
        }
        (GeneralName::DirectoryName(c), PresentedName::Directory(n)) => directory_within(n, c),
        _ => false,
    }
}

/// `example.com` covers itself and below, `` everything.
fn dns_within(name: &str, constraint: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let constraint = constraint.trim_end_matches('.').to_ascii_lowercase();
    if constraint.is_empty() {
        return true;
    }
    name == constraint
        || (name.len() > constraint.len()
            && name.ends_with(&constraint)
            && name.as_bytes()[name.len() - constraint.len() - 1] == b'.')
}

/// A wildcard name `*.S` could match `L.S` for any single label `L`: it covers a constraint
/// of that shape.
fn wildcard_covers(name: &str, constraint: &str) -> bool {
    let Some(suffix) = name.strip_prefix("*.") else {
        return false;
    };
    let constraint = constraint.trim_start_matches('.');
    constraint
        .split_once('.')
        .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix))
}

/// A URI's host (`scheme://[userinfo@]host[:port]/...`), `None` when it has none.
fn uri_host(uri: &str) -> Option<&str> {
    let (_, rest) = uri.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_once(']')
            .map(|(h, _)| h.trim_start_matches('['))?
    } else {
        host.split(':').next().unwrap_or_default()
    };
    (!host.is_empty()).then_some(host)
}

/// For URIs and email domains: `host` covers that host only, `.host` the hosts below it.
fn host_within(host: &str, constraint: &str) -> bool {
    if constraint.starts_with('.') {
        host.len() > constraint.len()
            && host
                .to_ascii_lowercase()
                .ends_with(&constraint.to_ascii_lowercase())
    } else {
        host.eq_ignore_ascii_case(constraint)
    }
}

fn email_within(email: &str, constraint: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    match constraint.rsplit_once('@') {
        Some((c_local, c_domain)) => local == c_local && domain.eq_ignore_ascii_case(c_domain),
        None => host_within(domain, constraint),
    }
}

fn ip_within(constraint: &[u8], ip: IpAddr) -> bool {
    let octets: Vec<u8> = match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    if constraint.len() != octets.len() * 2 {
        return false;
    }
    let (base, mask) = constraint.split_at(octets.len());
    octets
        .iter()
        .zip(base)
        .zip(mask)
        .all(|((o, b), m)| o & m == b & m)
}

/// A mask is contiguous when its one bits all come before its zero bits.
fn contiguous(mask: &[u8]) -> bool {
    let mut zero_seen = false;
    for byte in mask {
        for bit in (0..8).rev() {
            let one = byte & (1 << bit) != 0;
            if one && zero_seen {
                return false;
            }
            zero_seen |= !one;
        }
    }
    true
}

/// The constraint's RDNs are the first RDNs of the name (compared as DER).
fn directory_within(name: &Name, constraint: &Name) -> bool {
    let name: Vec<_> = name.iter_rdn().map(Encode::to_der).collect();
    let constraint: Vec<_> = constraint.iter_rdn().map(Encode::to_der).collect();
    constraint.len() <= name.len()
        && constraint
            .iter()
            .zip(&name)
            .all(|(c, n)| matches!((c, n), (Ok(c), Ok(n)) if c == n))
}

/// A subtree as openssl prints it: `DNS:x`, `IP:10.0.0.0/255.0.0.0`, `email:x`, `URI:x`.
#[must_use]
pub fn subtree_text(gn: &GeneralName) -> String {
    match gn {
        GeneralName::DnsName(d) => format!("DNS:{d}"),
        GeneralName::Rfc822Name(e) => format!("email:{e}"),
        GeneralName::UniformResourceIdentifier(u) => format!("URI:{u}"),
        GeneralName::DirectoryName(n) => format!("DirName:{n}"),
        GeneralName::IpAddress(o) => {
            let bytes = o.as_bytes();
            let half = bytes.len() / 2;
            match (ip_of(&bytes[..half]), ip_of(&bytes[half..])) {
                (Some(base), Some(mask)) => format!("IP:{base}/{mask}"),
                _ => format!("IP:<{} octets>", bytes.len()),
            }
        }
        other => form_of(other).to_owned(),
    }
}

/// The IP address of a SAN's or a constraint's raw octets (4 or 16 of them).
pub(super) fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::asn1::{Ia5String, OctetString};

    fn dns(s: &str) -> GeneralName {
        GeneralName::DnsName(Ia5String::new(s).unwrap())
    }

    fn ip(base: [u8; 4], mask: [u8; 4]) -> GeneralName {
        let mut v = base.to_vec();
        v.extend(mask);
        GeneralName::IpAddress(OctetString::new(v).unwrap())
    }

    fn subtrees(names: Vec<GeneralName>) -> Option<Vec<GeneralSubtree>> {
        Some(
            names
                .into_iter()
                .map(|base| GeneralSubtree {
                    base,
                    minimum: 0,
                    maximum: None,
                })
                .collect(),
        )
    }

    #[test]
    fn dns_subtrees_match_the_name_and_below() {
        assert!(dns_within("example.com", "example.com"));
        assert!(dns_within("a.b.Example.com", "example.COM"));
        assert!(!dns_within("badexample.com", "example.com"));
        assert!(dns_within("anything", ""));
        assert!(wildcard_covers("*.example.com", "bad.example.com"));
        assert!(!wildcard_covers("*.example.com", "a.bad.example.com"));
    }

    #[test]
    fn permitted_and_excluded_dns_and_ip() {
        let nc = NameConstraints {
            permitted_subtrees: subtrees(vec![
                dns("example.com"),
                ip([10, 0, 0, 0], [255, 0, 0, 0]),
            ]),
            excluded_subtrees: subtrees(vec![dns("bad.example.com")]),
        };
        let ok = |n: PresentedName| check(&nc, &n);
        assert_eq!(
            ok(PresentedName::San(San::Dns("www.example.com".into()))),
            Ok(())
        );
        assert_eq!(
            ok(PresentedName::San(San::Dns("x.bad.example.com".into()))),
            Err(Violation::Excluded {
                subtree: "DNS:bad.example.com".into()
            })
        );
        assert_eq!(
            ok(PresentedName::San(San::Dns("example.org".into()))),
            Err(Violation::NotPermitted {
                permitted: "DNS:example.com".into()
            })
        );
        assert_eq!(
            ok(PresentedName::San(San::Ip("10.9.8.7".parse().unwrap()))),
            Ok(())
        );
        assert_eq!(
            ok(PresentedName::San(San::Ip("11.0.0.1".parse().unwrap())))
                .unwrap_err()
                .to_string(),
            "outside the permitted subtrees (IP:10.0.0.0/255.0.0.0)"
        );
        // No email subtrees: any email passes; an IPv6 address is outside the IPv4 subtree.
        assert_eq!(ok(PresentedName::San(San::Email("a@b.org".into()))), Ok(()));
        assert!(ok(PresentedName::San(San::Ip("::1".parse().unwrap()))).is_err());
    }

    #[test]
    fn email_uri_and_masks() {
        assert!(email_within("a@example.com", "example.com"));
        assert!(!email_within("a@x.example.com", "example.com"));
        assert!(email_within("a@x.example.com", ".example.com"));
        assert!(email_within("a@example.com", "a@example.com"));
        assert!(!email_within("b@example.com", "a@example.com"));
        assert_eq!(
            uri_host("https://u@Host.example:8443/p"),
            Some("Host.example")
        );
        assert_eq!(uri_host("urn:x"), None);
        assert!(contiguous(&[255, 255, 0, 0]));
        assert!(!contiguous(&[255, 0, 255, 0]));
        let nc = NameConstraints {
            permitted_subtrees: subtrees(vec![ip([10, 0, 0, 0], [255, 0, 255, 0])]),
            excluded_subtrees: None,
        };
        assert!(validate(&nc).unwrap_err().contains("non-contiguous"));
    }
}
