//! Distinguished names: ordered attributes (C, ST, L, O, OU, CN, ...), several OU allowed.

use std::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519;
use der::asn1::{Any, SetOfVec};
use der::{Decode, Encode, Tag, Tagged};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};

use super::error::{Error, Result};

/// The attribute types pkirun names, with openssl's short and long names.
const ATTRS: &[(&str, &str, ObjectIdentifier, usize)] = &[
    ("C", "countryName", rfc4519::C, 2),
    ("ST", "stateOrProvinceName", rfc4519::ST, 128),
    ("L", "localityName", rfc4519::L, 128),
    ("street", "streetAddress", rfc4519::STREET, 128),
    ("postalCode", "postalCode", rfc4519::POSTAL_CODE, 40),
    ("O", "organizationName", rfc4519::O, 64),
    ("OU", "organizationalUnitName", rfc4519::OU, 64),
    ("CN", "commonName", rfc4519::CN, 64),
    ("serialNumber", "serialNumber", rfc4519::SERIAL_NUMBER, 64),
    ("DC", "domainComponent", rfc4519::DC, 63),
    (
        "emailAddress",
        "emailAddress",
        const_oid::db::rfc3280::EMAIL_ADDRESS,
        128,
    ),
];

/// The order a subject given as a map is written in (the order openssl configs, cfssl and Go
/// use): C, ST, L, street, postalCode, O, OU, CN, serialNumber, DC, emailAddress.
pub const CANONICAL_ORDER: &[&str] = &[
    "C",
    "ST",
    "L",
    "street",
    "postalCode",
    "O",
    "OU",
    "CN",
    "serialNumber",
    "DC",
    "emailAddress",
];

/// One attribute of a distinguished name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAttr {
    /// Short name (`CN`, `O`, ...) or a dotted OID for attributes pkirun has no name for.
    pub short: String,
    /// The attribute's OID.
    pub oid: ObjectIdentifier,
    /// The value, as text.
    pub value: String,
    /// In the same RDN as the attribute before it: a multi-valued RDN (`CN = a + UID = b`,
    /// `+UID` in an openssl configuration).
    pub joined: bool,
}

/// A distinguished name: attributes in the order they are written, one per RDN.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DistinguishedName {
    attrs: Vec<NameAttr>,
}

fn lookup(field: &str) -> Option<(&'static str, ObjectIdentifier, usize)> {
    let f = field.trim();
    ATTRS
        .iter()
        .find(|(short, long, _, _)| short.eq_ignore_ascii_case(f) || long.eq_ignore_ascii_case(f))
        .map(|(short, _, oid, max)| (*short, *oid, *max))
        .or(match f.to_ascii_lowercase().as_str() {
            "s" | "state" | "province" => Some(("ST", rfc4519::ST, 128)),
            "e" | "email" => Some(("emailAddress", const_oid::db::rfc3280::EMAIL_ADDRESS, 128)),
            _ => None,
        })
}

/// The short name (`O`) of an attribute named by its short or long name or an alias
/// (`organizationName`, `state`, `email`); `None` for a name pkirun does not know.
#[must_use]
pub fn short_name(field: &str) -> Option<&'static str> {
    lookup(field).map(|(short, _, _)| short)
}

impl DistinguishedName {
    /// An empty name.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends an attribute, validating it (`C` is two letters; lengths within X.520 bounds;
    /// no empty values).
    ///
    /// # Errors
    /// An unknown field name or an invalid value.
    pub fn push(&mut self, field: &str, value: &str) -> Result<()> {
        self.push_attr(field, value, false)
    }

    /// Adds an attribute to the last RDN, making it multi-valued (openssl's `+` in a
    /// distinguished-name section); with no RDN yet, starts one.
    ///
    /// # Errors
    /// As [`Self::push`].
    pub fn push_joined(&mut self, field: &str, value: &str) -> Result<()> {
        let joined = !self.attrs.is_empty();
        self.push_attr(field, value, joined)
    }

    fn push_attr(&mut self, field: &str, value: &str, joined: bool) -> Result<()> {
        let bad = |reason: String| Error::InvalidName {
            field: field.to_string(),
            reason,
        };
        let (short, oid, max) = lookup(field).ok_or_else(|| {
            bad(format!(
                "unknown field (known: {})",
                CANONICAL_ORDER.join(", ")
            ))
        })?;
        if value.is_empty() {
            return Err(bad("empty value".into()));
        }
        if short == "C" && !(value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic())) {
            return Err(bad(format!("`{value}` is not a two-letter country code")));
        }
        if value.chars().count() > max {
            return Err(bad(format!(
                "`{value}` is {} characters long; at most {max} allowed",
                value.chars().count()
            )));
        }
        if short == "emailAddress" && !value.is_ascii() {
            return Err(bad(format!("`{value}` must be ASCII")));
        }
        self.attrs.push(NameAttr {
            short: short.to_string(),
            oid,
            value: value.to_string(),
            joined,
        });
        Ok(())
    }

    /// Parses an openssl-style subject: `/C=US/O=Example/CN=host` (as `-subj` takes it) or
    /// `C=US, O=Example, CN=host`, kept in the order written.
    ///
    /// # Errors
    /// A part without `=`, an unknown field or an invalid value.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let parts: Vec<&str> = if let Some(rest) = s.strip_prefix('/') {
            rest.split('/').collect()
        } else {
            s.split(',').collect()
        };
        let mut dn = Self::new();
        for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| Error::InvalidName {
                field: part.to_string(),
                reason: "expected FIELD=VALUE".into(),
            })?;
            dn.push(k.trim(), v.trim())?;
        }
        Ok(dn)
    }

    /// Decodes a DER `Name` (e.g. a certificate's subject).
    ///
    /// # Errors
    /// Undecodable DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let name = Name::from_der(der).map_err(|e| Error::InvalidName {
            field: "subject".into(),
            reason: e.to_string(),
        })?;
        let mut attrs = Vec::new();
        for rdn in name.iter_rdn() {
            for (i, atv) in rdn.iter().enumerate() {
                let short = ATTRS
                    .iter()
                    .find(|(_, _, oid, _)| *oid == atv.oid)
                    .map_or_else(|| atv.oid.to_string(), |(s, _, _, _)| (*s).to_string());
                attrs.push(NameAttr {
                    short,
                    oid: atv.oid,
                    value: any_to_string(&atv.value),
                    joined: i > 0,
                });
            }
        }
        Ok(Self { attrs })
    }

    /// The attributes in order.
    #[must_use]
    pub fn attrs(&self) -> &[NameAttr] {
        &self.attrs
    }

    /// True when the name has no attributes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }

    /// The values of every attribute with this name (short, long or an alias: `O`,
    /// `organizationName`), e.g. all `OU`s.
    #[must_use]
    pub fn get_all(&self, short: &str) -> Vec<&str> {
        let short = short_name(short).unwrap_or(short);
        self.attrs
            .iter()
            .filter(|a| a.short.eq_ignore_ascii_case(short))
            .map(|a| a.value.as_str())
            .collect()
    }

    /// The first value of the attribute with this short name.
    #[must_use]
    pub fn get(&self, short: &str) -> Option<&str> {
        self.get_all(short).into_iter().next()
    }

    /// Encodes the name as DER, as `openssl req` does with its default `string_mask = utf8only`:
    /// `C` as PrintableString, `emailAddress` and `DC` as IA5String, the rest UTF8String.
    ///
    /// # Errors
    /// Only on values DER cannot carry (never for names built through [`Self::push`]).
    pub fn to_der(&self) -> Result<Vec<u8>> {
        // Each RDN's attributes: one, or several for a multi-valued RDN.
        let mut groups: Vec<Vec<AttributeTypeAndValue>> = Vec::with_capacity(self.attrs.len());
        for a in &self.attrs {
            let tag = match a.short.as_str() {
                "C" => Tag::PrintableString,
                "emailAddress" | "DC" => Tag::Ia5String,
                _ => Tag::Utf8String,
            };
            let atv = AttributeTypeAndValue {
                oid: a.oid,
                value: Any::new(tag, a.value.as_bytes())?,
            };
            match groups.last_mut() {
                Some(group) if a.joined => group.push(atv),
                _ => groups.push(vec![atv]),
            }
        }
        let mut rdns = Vec::with_capacity(groups.len());
        for group in groups {
            // DER orders a SET OF by encoding, as OpenSSL does when it writes the name.
            rdns.push(RelativeDistinguishedName::from(SetOfVec::try_from(group)?));
        }
        // An RDNSequence encodes exactly as the Name that wraps it.
        Ok(RdnSequence::from(rdns).to_der()?)
    }
}

/// Renders an attribute value as text (UTF-8, Printable, IA5, Teletex as Latin-1, BMP).
fn any_to_string(value: &Any) -> String {
    let bytes = value.value();
    match value.tag() {
        Tag::BmpString => {
            let units: Vec<u16> = bytes
                .chunks(2)
                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        Tag::TeletexString => bytes.iter().map(|&b| char::from(b)).collect(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

impl fmt::Display for DistinguishedName {
    /// openssl's default one-line form: `O = Cockroach, CN = Cockroach CA`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.attrs.iter().enumerate() {
            if i > 0 {
                f.write_str(if a.joined { " + " } else { ", " })?;
            }
            write!(f, "{} = {}", a.short, a.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_valued_rdn_survives_decoding_and_encoding() {
        let mut dn = DistinguishedName::parse("/O=Acme").unwrap();
        dn.push("CN", "host").unwrap();
        dn.push_joined("serialNumber", "42").unwrap();
        assert_eq!(dn.to_string(), "O = Acme, CN = host + serialNumber = 42");
        let der = dn.to_der().unwrap();
        let name = Name::from_der(&der).unwrap();
        assert_eq!(
            name.iter_rdn().count(),
            2,
            "two RDNs, the second with two values"
        );
        let back = DistinguishedName::from_der(&der).unwrap();
        assert_eq!(back.to_der().unwrap(), der);
        assert_eq!(back.get("serialNumber"), Some("42"));
    }

    #[test]
    fn parse_keeps_order_and_several_ou() {
        let dn = DistinguishedName::parse("/C=US/O=Acme/OU=a/OU=b/CN=host").unwrap();
        assert_eq!(
            dn.to_string(),
            "C = US, O = Acme, OU = a, OU = b, CN = host"
        );
        let back = DistinguishedName::from_der(&dn.to_der().unwrap()).unwrap();
        assert_eq!(back, dn);
    }

    #[test]
    fn country_must_be_two_letters() {
        let err = DistinguishedName::parse("C=USA").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid subject field `C`: `USA` is not a two-letter country code"
        );
    }

    #[test]
    fn unknown_field_is_named() {
        let err = DistinguishedName::parse("CN=x, XX=y").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid subject field `XX`: unknown field")
        );
    }

    #[test]
    fn long_names_are_accepted() {
        let dn = DistinguishedName::parse("organizationName=Cockroach,commonName=root").unwrap();
        assert_eq!(dn.get("O"), Some("Cockroach"));
        assert_eq!(dn.get("CN"), Some("root"));
    }
}
