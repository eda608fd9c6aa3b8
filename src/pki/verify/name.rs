//! Host names and IP addresses: whether a certificate is for the host asked for
//! (`openssl verify -verify_hostname` / `-verify_ip`), and which names a certificate presents
//! to the name constraints of the CAs above it.
//!
//! Wildcards follow OpenSSL with `X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS` and rustls-webpki:
//! `*` only as the whole leftmost label, matching exactly one non-empty label, and only when
//! at least two labels follow it: `*.example.com` matches `www.example.com`, while `*.com`
//! (a wildcard over a single, public-suffix-like label) matches nothing, nor do `*`,
//! `w*.example.com` or `www.*.com`.

use std::net::IpAddr;

use const_oid::db::rfc4519;
use x509_cert::ext::pkix::name::GeneralName;

use super::constraints::ip_of;
use super::constraints::{self, PresentedName};

/// The subject attribute emailAddress (PKCS #9).
const EMAIL_ADDRESS: const_oid::ObjectIdentifier =
    const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.1");
use super::error::VerifyError;
use super::parsed::Parsed;
use crate::pki::San;

/// The host must be one of the certificate's DNS names or, for an IP address, one of its IP
/// addresses. As in OpenSSL, a certificate without DNS names is matched on its commonName
/// (never an IP address); a subjectAltName that does not decode has already failed.
pub(super) fn check_host(cert: &Parsed<'_>, host: &str) -> Result<(), VerifyError> {
    let entries: &[GeneralName] = cert.san.as_ref().map_or(&[], |san| san.0.as_slice());
    let matched = if let Ok(ip) = host.parse::<IpAddr>() {
        entries
            .iter()
            .any(|gn| matches!(gn, GeneralName::IpAddress(o) if ip_of(o.as_bytes()) == Some(ip)))
    } else {
        let dns: Vec<&str> = entries
            .iter()
            .filter_map(|gn| match gn {
                GeneralName::DnsName(d) => Some(d.as_str()),
                _ => None,
            })
            .collect();
        if dns.is_empty() {
            common_names(cert).iter().any(|cn| dns_matches(cn, host))
        } else {
            dns.iter().any(|pattern| dns_matches(pattern, host))
        }
    };
    if matched {
        return Ok(());
    }
    let mut names: Vec<String> = entries
        .iter()
        .filter_map(|gn| match gn {
            GeneralName::DnsName(d) => Some(format!("DNS:{d}")),
            GeneralName::IpAddress(o) => ip_of(o.as_bytes()).map(|ip| format!("IP:{ip}")),
            _ => None,
        })
        .collect();
    if !entries
        .iter()
        .any(|gn| matches!(gn, GeneralName::DnsName(_)))
    {
        names.extend(common_names(cert).iter().map(|cn| format!("CN:{cn}")));
    }
    Err(VerifyError::HostMismatch {
        subject: cert.subject.clone(),
        host: host.to_owned(),
        names: if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        },
    })
}

/// Case-insensitive DNS match; a wildcard as described in the module documentation.
pub(super) fn dns_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        if suffix.contains('*') || !suffix.contains('.') || suffix.split('.').any(str::is_empty) {
            return false;
        }
        return host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix));
    }
    !pattern.contains('*') && pattern.eq_ignore_ascii_case(host)
}

/// The subject's commonName values.
fn common_names(cert: &Parsed<'_>) -> Vec<String> {
    cert.subject_name
        .iter()
        .filter(|atv| atv.oid == rfc4519::CN)
        .filter_map(|atv| attribute_text(&atv.value))
        .collect()
}

/// A directory string's text (UTF8String, PrintableString, IA5String, T61String as Latin-1).
fn attribute_text(value: &der::Any) -> Option<String> {
    use der::{Tag, Tagged};
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::VisibleString => {
            std::str::from_utf8(value.value()).ok().map(str::to_owned)
        }
        Tag::TeletexString => Some(value.value().iter().map(|&b| char::from(b)).collect()),
        _ => None,
    }
}

/// A commonName OpenSSL would take for a DNS name under name constraints: letters, digits,
/// hyphens and at least one dot between non-empty labels.
fn looks_like_dns(cn: &str) -> bool {
    cn.contains('.')
        && cn.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Every name `cert` presents to name constraints: its subject (when not empty) and the
/// emailAddress attributes in it, its subjectAltName entries, and, for the certificate
/// verified (`leaf`) when it has no DNS name, commonNames that look like DNS names (as
/// OpenSSL checks them).
pub(super) fn presented_names(cert: &Parsed<'_>, leaf: bool) -> Vec<PresentedName> {
    let mut names = Vec::new();
    if !cert.subject_name.is_empty() {
        names.push(PresentedName::Directory(cert.subject_name.clone()));
    }
    names.extend(
        cert.subject_name
            .iter()
            .filter(|atv| atv.oid == EMAIL_ADDRESS)
            .filter_map(|atv| attribute_text(&atv.value))
            .map(|e| PresentedName::San(San::Email(e))),
    );
    let entries: &[GeneralName] = cert.san.as_ref().map_or(&[], |san| san.0.as_slice());
    for gn in entries {
        names.push(match gn {
            GeneralName::DnsName(d) => PresentedName::San(San::Dns(d.to_string())),
            GeneralName::Rfc822Name(e) => PresentedName::San(San::Email(e.to_string())),
            GeneralName::UniformResourceIdentifier(u) => {
                PresentedName::San(San::Uri(u.to_string()))
            }
            GeneralName::DirectoryName(n) => PresentedName::Directory(n.clone()),
            GeneralName::IpAddress(o) => match ip_of(o.as_bytes()) {
                Some(ip) => PresentedName::San(San::Ip(ip)),
                None => PresentedName::Other("iPAddress"),
            },
            other => PresentedName::Other(constraints::other_form(other)),
        });
    }
    if leaf
        && !entries
            .iter()
            .any(|gn| matches!(gn, GeneralName::DnsName(_)))
    {
        names.extend(
            common_names(cert)
                .into_iter()
                .filter(|cn| looks_like_dns(cn))
                .map(|cn| PresentedName::San(San::Dns(cn))),
        );
    }
    names
}

#[cfg(test)]
mod tests {
    use super::{dns_matches, looks_like_dns};

    #[test]
    fn wildcards_match_one_label_under_at_least_two() {
        assert!(dns_matches("*.db.internal", "node1.db.internal"));
        assert!(dns_matches("*.DB.internal", "Node1.db.internal."));
        assert!(!dns_matches("*.db.internal", "db.internal"));
        assert!(!dns_matches("*.db.internal", "a.b.db.internal"));
        assert!(!dns_matches("*.db.internal", ".db.internal"));
        assert!(dns_matches("localhost", "LOCALHOST"));
        assert!(!dns_matches("localhost", "localhost2"));
        // A wildcard over one label (a public suffix such as `com`) never matches.
        assert!(!dns_matches("*.com", "example.com"));
        assert!(!dns_matches("*", "example"));
        // Partial and inner wildcards never match.
        assert!(!dns_matches("w*.example.com", "www.example.com"));
        assert!(!dns_matches("www.*.com", "www.example.com"));
        assert!(!dns_matches("*.*.example.com", "a.b.example.com"));
    }

    #[test]
    fn only_dotted_ldh_common_names_count_as_dns_names() {
        assert!(looks_like_dns("www.example.com"));
        assert!(!looks_like_dns("Root CA"));
        assert!(!looks_like_dns("localhost"));
        assert!(!looks_like_dns("a..b"));
    }
}
