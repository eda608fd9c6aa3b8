//! General names (subjectAltName, issuerAltName, authorityKeyIdentifier, access descriptions,
//! CRL distribution points, name constraints) in the three forms openssl and pkirun write them.

use std::net::{Ipv4Addr, Ipv6Addr};

use x509_parser::asn1_rs::{Any, FromDer, Tag};
use x509_parser::extensions::GeneralName;

use super::name::{name_info, slash_name};
use crate::pki::colon_hex;

/// General names as openssl lists them in one line (subjectAltName, issuerAltName).
pub(super) fn general_names_list(names: &[GeneralName<'_>]) -> String {
    names
        .iter()
        .map(general_name_list_item)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Known otherName types: openssl's label.
fn other_name_label(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.3.6.1.4.1.311.20.2.3" => "UPN",
        "1.3.6.1.5.5.7.8.9" => "SmtpUTF8Mailbox",
        "1.3.6.1.5.5.7.8.5" => "XmppAddr",
        "1.3.6.1.5.5.7.8.7" => "SRVName",
        "1.3.6.1.5.5.7.8.8" => "NAIRealm",
        _ => return None,
    })
}

/// The string inside an otherName's `[0] EXPLICIT` value, if it is a string.
fn other_name_value(data: &[u8]) -> Option<String> {
    let (_, outer) = Any::from_der(data).ok()?;
    let (_, inner) = Any::from_der(outer.data).ok()?;
    match inner.tag() {
        Tag::Utf8String | Tag::Ia5String | Tag::PrintableString | Tag::VisibleString => {
            std::str::from_utf8(inner.data).ok().map(str::to_string)
        }
        _ => None,
    }
}

/// openssl's IPv6 rendering: eight uppercase groups, no zero compression.
fn ipv6_openssl(b: &[u8]) -> String {
    b.chunks(2)
        .map(|c| {
            format!(
                "{:X}",
                u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])
            )
        })
        .collect::<Vec<_>>()
        .join(":")
}

/// A name constraint's IP address and mask: `10.0.0.0/255.0.0.0`.
pub(super) fn ip_constraint(b: &[u8]) -> String {
    match b.len() {
        8 => format!("{}/{}", ip_struct(&b[..4]), ip_struct(&b[4..])),
        32 => format!("{}/{}", ipv6_openssl(&b[..16]), ipv6_openssl(&b[16..])),
        _ => colon_hex(b, true),
    }
}

/// An IP address as pkirun writes it (IPv6 compressed); other lengths as hex.
fn ip_struct(b: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(b) {
        Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
        Ipv6Addr::from(v6).to_string()
    } else {
        colon_hex(b, false)
    }
}

/// A general name the way pkirun (and openssl's config) writes it: `DNS:x`, `IP:::1`, ...
pub(super) fn general_name_struct(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::IPAddress(b) => format!("IP:{}", ip_struct(b)),
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{}", name_info(n).text),
        GeneralName::RegisteredID(oid) => format!("RID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, data) => match other_name_value(data) {
            Some(v) => format!("otherName:{};UTF8:{v}", oid.to_id_string()),
            None => format!(
                "otherName:{};{}",
                oid.to_id_string(),
                colon_hex(data, false)
            ),
        },
        GeneralName::X400Address(_) => "X400Name:<unsupported>".into(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".into(),
        GeneralName::Invalid(tag, data) => format!("invalid:[{}]{}", tag.0, colon_hex(data, false)),
    }
}

/// A general name as openssl lists it in subjectAltName, AKI and AIA (`IP Address:...`,
/// `DirName:/O=.../CN=...`).
pub(super) fn general_name_list_item(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DirectoryName(n) => format!("DirName:{}", slash_name(n)),
        other => general_name_print(other),
    }
}

/// A general name as openssl's `GENERAL_NAME_print` writes it (CRL distribution points, name
/// constraints): directory names in one-line form.
pub(super) fn general_name_print(g: &GeneralName<'_>) -> String {
    match g {
        GeneralName::DNSName(s) => format!("DNS:{s}"),
        GeneralName::IPAddress(b) => match b.len() {
            4 => format!("IP Address:{}", ip_struct(b)),
            16 => format!("IP Address:{}", ipv6_openssl(b)),
            _ => "IP Address:<invalid>".into(),
        },
        GeneralName::URI(s) => format!("URI:{s}"),
        GeneralName::RFC822Name(s) => format!("email:{s}"),
        GeneralName::DirectoryName(n) => format!("DirName:{}", name_info(n).text),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, data) => {
            match (
                other_name_label(&oid.to_id_string()),
                other_name_value(data),
            ) {
                (Some(label), Some(v)) => format!("othername: {label}::{v}"),
                _ => "othername:<unsupported>".into(),
            }
        }
        GeneralName::X400Address(_) => "X400Name:<unsupported>".into(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".into(),
        GeneralName::Invalid(..) => "<invalid>".into(),
    }
}
