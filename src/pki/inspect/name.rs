//! Distinguished names: attributes by openssl's short names, values decoded and escaped as
//! openssl's default `-nameopt` prints them.

use std::fmt::Write as _;

use serde::Serialize;
use x509_parser::asn1_rs::{Any, Oid, Tag};
use x509_parser::x509::X509Name;

use super::oid_name;

/// A distinguished name (subject or issuer).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameInfo {
    /// openssl's one-line form, e.g. `O = Cockroach, CN = Cockroach CA` (values needing it are
    /// quoted or escaped as openssl does; non-ASCII text is shown as UTF-8).
    pub text: String,
    /// The attributes in certificate order (several `OU` are kept apart).
    pub fields: Vec<NameField>,
}

/// One attribute of a distinguished name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NameField {
    /// openssl's short name (`C`, `ST`, `L`, `O`, `OU`, `CN`, `emailAddress`, `DC`, ...) or the
    /// dotted OID of an attribute openssl has no name for.
    pub short: String,
    /// The decoded value, unescaped.
    pub value: String,
}

/// The subject or issuer as [`NameInfo`].
pub(super) fn name_info(name: &X509Name<'_>) -> NameInfo {
    let mut fields = Vec::new();
    let mut rdns = Vec::new();
    for rdn in name.iter_rdn() {
        let mut parts = Vec::new();
        for atv in rdn.iter() {
            let short = attribute_short_name(atv.attr_type());
            let value = attribute_value(atv.attr_value());
            parts.push(format!("{short} = {}", escape_dn_value(&value)));
            fields.push(NameField { short, value });
        }
        rdns.push(parts.join(" + "));
    }
    NameInfo {
        text: rdns.join(", "),
        fields,
    }
}

/// openssl's older slash form (`/O=Cockroach/CN=Cockroach CA`), used for directory names in
/// subjectAltName and authorityKeyIdentifier renderings.
pub(super) fn slash_name(name: &X509Name<'_>) -> String {
    let mut s = String::new();
    for atv in name.iter_attributes() {
        let _ = write!(
            s,
            "/{}={}",
            attribute_short_name(atv.attr_type()),
            attribute_value(atv.attr_value())
        );
    }
    s
}

/// openssl's short name of a name attribute (`CN`, `emailAddress`, ...), else the dotted OID.
pub(super) fn attribute_short_name(oid: &Oid<'_>) -> String {
    oid_name(oid, known_attribute)
}

/// openssl's short names of name attributes.
fn known_attribute(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "2.5.4.5" => "serialNumber",
        "2.5.4.9" => "street",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        "2.5.4.12" => "title",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.17" => "postalCode",
        "2.5.4.13" => "description",
        "2.5.4.41" => "name",
        "2.5.4.15" => "businessCategory",
        "2.5.4.97" => "organizationIdentifier",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// A name attribute's value decoded from its string type; other types as `#` and hex.
pub(super) fn attribute_value(any: &Any<'_>) -> String {
    let data = any.data;
    match any.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| {
                let mut b = [0u8; 4];
                b[..c.len()].copy_from_slice(c);
                char::from_u32(u32::from_be_bytes(b)).unwrap_or('\u{fffd}')
            })
            .collect(),
        // T.61 is close enough to Latin-1 for names.
        Tag::TeletexString => data.iter().map(|&b| char::from(b)).collect(),
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => String::from_utf8_lossy(data).into_owned(),
        _ => format!("#{}", hex::encode(data)),
    }
}

/// Escapes a name value as openssl's default `-nameopt` does: `"` and `\` get a backslash,
/// values with `,+<>;`, a leading `#` or space, or a trailing space are put in quotes, control
/// characters become `\XX`.
fn escape_dn_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut quote = false;
    let count = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ',' | '+' | '<' | '>' | ';' => {
                quote = true;
                out.push(c);
            }
            '#' if i == 0 => {
                quote = true;
                out.push(c);
            }
            ' ' if i == 0 || i + 1 == count => {
                quote = true;
                out.push(c);
            }
            c if c.is_ascii_control() => {
                let _ = write!(out, "\\{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    if quote { format!("\"{out}\"") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_escaped_like_openssl() {
        assert_eq!(escape_dn_value("a,b"), "\"a,b\"");
        assert_eq!(escape_dn_value("tab\there"), "tab\\09here");
        assert_eq!(escape_dn_value("café"), "café");
    }
}
