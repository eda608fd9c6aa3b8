//! Name constraints a CA certificate carries (RFC 5280 4.2.1.10), made from the names an
//! operator writes: `example.test` (that DNS name and every name below it), `10.0.0.0/8` or
//! `2001:db8::/32` (an address range), `@example.test` or `email:example.test` (every mailbox
//! at that host). The matching itself is the verifier's ([`super::verify::check_name_constraints`]):
//! one matcher for signing and for verifying.

use std::net::IpAddr;

use der::asn1::{Ia5String, OctetString};
use x509_cert::ext::pkix::constraints::name::{GeneralSubtree, NameConstraints};
use x509_cert::ext::pkix::name::GeneralName;

use super::error::{Error, Result};
use super::san::San;
use super::verify::{PresentedName, check_name_constraints, validate_name_constraints};

/// Builds the constraints of `permitted` and `excluded` names (see the module doc).
///
/// # Errors
/// A name that is none of those forms, or a range whose bits are not all zero past its prefix.
pub fn from_names(permitted: &[String], excluded: &[String]) -> Result<NameConstraints> {
    let subtrees = |names: &[String]| -> Result<Option<Vec<GeneralSubtree>>> {
        if names.is_empty() {
            return Ok(None);
        }
        names
            .iter()
            .map(|n| {
                Ok(GeneralSubtree {
                    base: general_name(n)?,
                    minimum: 0,
                    maximum: None,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    };
    let nc = NameConstraints {
        permitted_subtrees: subtrees(permitted)?,
        excluded_subtrees: subtrees(excluded)?,
    };
    validate_name_constraints(&nc).map_err(|reason| invalid("name constraints", &reason))?;
    Ok(nc)
}

fn invalid(name: &str, reason: &str) -> Error {
    Error::InvalidSetting {
        field: "permitted/excluded".into(),
        reason: format!("`{name}`: {reason}"),
    }
}

/// One constraint as a general name.
fn general_name(name: &str) -> Result<GeneralName> {
    let name = name.trim();
    let ia5 = |s: &str| Ia5String::new(s).map_err(|_| invalid(name, "not ASCII"));
    if let Some(host) = name
        .strip_prefix("email:")
        .or_else(|| name.strip_prefix('@'))
    {
        return Ok(GeneralName::Rfc822Name(ia5(host)?));
    }
    if let Some((addr, bits)) = name.split_once('/') {
        let ip: IpAddr = addr
            .parse()
            .map_err(|_| invalid(name, "not an address range (e.g. 10.0.0.0/8)"))?;
        let bits: u32 = bits
            .parse()
            .map_err(|_| invalid(name, "the prefix length is not a number"))?;
        let octets = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let width = u32::try_from(octets.len() * 8).unwrap_or(0);
        if bits > width {
            return Err(invalid(name, "the prefix is longer than the address"));
        }
        let mask: Vec<u8> = (0..octets.len())
            .map(|i| {
                let start = u32::try_from(i * 8).unwrap_or(0);
                let on = bits.saturating_sub(start).min(8);
                if on == 0 { 0 } else { 0xffu8 << (8 - on) }
            })
            .collect();
        if octets.iter().zip(&mask).any(|(o, m)| o & !m != 0) {
            return Err(invalid(name, "bits are set past the prefix"));
        }
        let mut value = octets;
        value.extend(mask);
        return Ok(GeneralName::IpAddress(
            OctetString::new(value).map_err(|e| invalid(name, &e.to_string()))?,
        ));
    }
    if name.parse::<IpAddr>().is_ok() {
        return Err(invalid(
            name,
            "an address constraint is a range: add /32 (or /128)",
        ));
    }
    super::san::validate_dns(name).map_err(|e| invalid(name, &e.to_string()))?;
    Ok(GeneralName::DnsName(ia5(name)?))
}

/// The first name among `sans` that `nc` refuses, with why: `DNS:evil.example: outside the
/// permitted subtrees (DNS:example.test)`.
#[must_use]
pub fn refused(nc: &NameConstraints, sans: &[San]) -> Option<String> {
    sans.iter().find_map(|san| {
        let presented = PresentedName::San(san.clone());
        check_name_constraints(nc, &presented)
            .err()
            .map(|v| format!("{presented}: {v}"))
    })
}
