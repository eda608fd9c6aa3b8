//! openssl's spelling of signing settings, parsed into core types: `basicConstraints`
//! (`critical,CA:true,pathlen:1`), `authorityKeyIdentifier` (`keyid`, `keyid,issuer:always`,
//! `none`), `keyUsage` / `extendedKeyUsage` lists with `critical` among the names,
//! `copy_extensions` and the subject `policy` (`O=supplied`, `CN=optional`).
//!
//! Errors name the pkirun option at fault (`basic_constraints`, `policy.O`); callers add the
//! file or script position.

use std::fmt;

use const_oid::ObjectIdentifier;
use x509_cert::ext::pkix::KeyUsages;

use crate::pki::error::{Error, Result};
use crate::pki::name::CANONICAL_ORDER;
use crate::pki::profile::{AuthorityKeyId, BasicConstraints, CopyExtensions, PolicyRule};
use crate::pki::usage::{Usages, ext_key_usage_by_name, key_usage_by_name};

fn setting(field: &str, reason: String) -> Error {
    Error::InvalidSetting {
        field: field.to_string(),
        reason,
    }
}

impl BasicConstraints {
    /// Parses openssl's basicConstraints syntax: `critical,CA:true,pathlen:1` or `CA:FALSE`
    /// (case ignored; not critical and `CA:FALSE` unless said).
    ///
    /// # Errors
    /// A part that is not `critical`, `CA:true|false` or `pathlen:0-255`.
    pub fn parse(s: &str) -> Result<Self> {
        let field = "basic_constraints";
        let mut bc = BasicConstraints {
            ca: false,
            path_len: None,
            critical: false,
        };
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let lower = part.to_ascii_lowercase();
            match lower.split_once(':') {
                None if lower == "critical" => bc.critical = true,
                Some(("ca", "true")) => bc.ca = true,
                Some(("ca", "false")) => bc.ca = false,
                Some(("ca", _)) => {
                    return Err(setting(
                        field,
                        format!("`{part}` (expected CA:true or CA:false)"),
                    ));
                }
                Some(("pathlen", v)) => {
                    bc.path_len =
                        Some(v.parse().map_err(|_| {
                            setting(field, format!("`{part}`: pathlen must be 0-255"))
                        })?);
                }
                _ => return Err(setting(field, format!("unknown part `{part}`"))),
            }
        }
        Ok(bc)
    }
}

impl AuthorityKeyId {
    /// Parses openssl's authorityKeyIdentifier syntax: `keyid` (left out of a self-signed
    /// certificate, as OpenSSL 3.0 does), `keyid:always`, `keyid,issuer:always` (or
    /// `keyid,issuer`), or `none`; spaces ignored.
    ///
    /// # Errors
    /// Any other value.
    pub fn parse(s: &str) -> Result<Self> {
        match s.replace(' ', "").as_str() {
            "keyid" => Ok(AuthorityKeyId::KeyId),
            "keyid:always" => Ok(AuthorityKeyId::KeyIdAlways),
            "keyid,issuer" | "keyid,issuer:always" | "keyid:always,issuer:always" => {
                Ok(AuthorityKeyId::KeyIdAndIssuer)
            }
            "none" => Ok(AuthorityKeyId::None),
            other => Err(setting(
                "authority_key_id",
                format!("`{other}` (expected keyid, keyid:always, keyid,issuer:always or none)"),
            )),
        }
    }
}

impl From<bool> for AuthorityKeyId {
    /// `true` is `keyid`, `false` is `none`.
    fn from(on: bool) -> Self {
        if on {
            AuthorityKeyId::KeyId
        } else {
            AuthorityKeyId::None
        }
    }
}

impl fmt::Display for AuthorityKeyId {
    /// The openssl spelling [`AuthorityKeyId::parse`] reads back: `keyid`, `keyid:always`,
    /// `keyid,issuer:always` or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthorityKeyId::None => "none",
            AuthorityKeyId::KeyId => "keyid",
            AuthorityKeyId::KeyIdAlways => "keyid:always",
            AuthorityKeyId::KeyIdAndIssuer => "keyid,issuer:always",
        })
    }
}

impl CopyExtensions {
    /// Parses `none`, `san`, `copy`, `copyall` (or `true` = copy, `false` = none).
    ///
    /// # Errors
    /// Any other value.
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "false" => Ok(CopyExtensions::None),
            "san" => Ok(CopyExtensions::San),
            "copy" | "true" => Ok(CopyExtensions::Copy),
            "copyall" => Ok(CopyExtensions::CopyAll),
            other => Err(Error::InvalidOption {
                field: "copy_extensions".into(),
                reason: format!("`{other}` (expected none, san, copy or copyall)"),
            }),
        }
    }
}

impl From<bool> for CopyExtensions {
    /// `true` is openssl's `copy`, `false` is `none`.
    fn from(on: bool) -> Self {
        if on {
            CopyExtensions::Copy
        } else {
            CopyExtensions::None
        }
    }
}

impl fmt::Display for CopyExtensions {
    /// The spelling [`CopyExtensions::parse`] reads back: `none`, `san`, `copy`, `copyall`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CopyExtensions::None => "none",
            CopyExtensions::San => "san",
            CopyExtensions::Copy => "copy",
            CopyExtensions::CopyAll => "copyall",
        })
    }
}

impl fmt::Display for PolicyRule {
    /// The spelling [`PolicyRule::parse`] reads back: `supplied`, `optional`, `match`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyRule::Supplied => "supplied",
            PolicyRule::Optional => "optional",
            PolicyRule::Match => "match",
        })
    }
}

impl PolicyRule {
    /// Parses `supplied`, `optional`, `match` for the subject field `field`.
    ///
    /// # Errors
    /// Any other value.
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "supplied" => Ok(PolicyRule::Supplied),
            "optional" => Ok(PolicyRule::Optional),
            "match" => Ok(PolicyRule::Match),
            other => Err(Error::InvalidOption {
                field: format!("policy.{field}"),
                reason: format!("`{other}` (expected supplied, optional or match)"),
            }),
        }
    }

    /// Parses a policy written as a list, `["O=supplied", "CN=optional"]`, kept in the
    /// order given (the certificate's subject follows it).
    ///
    /// # Errors
    /// An item that is not `FIELD=RULE`, or an unknown rule.
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Vec<(String, PolicyRule)>> {
        items
            .iter()
            .map(|item| {
                let item = item.as_ref();
                let (k, rule) = item
                    .split_once('=')
                    .ok_or_else(|| setting("policy", format!("`{item}` is not FIELD=RULE")))?;
                Ok((k.trim().to_string(), PolicyRule::parse(k, rule)?))
            })
            .collect()
    }

    /// Parses a policy written as field → rule pairs (a map, whose order means nothing):
    /// the fields are put in the canonical order of [`CANONICAL_ORDER`] (case ignored).
    ///
    /// # Errors
    /// An unknown rule, or a field with no canonical position.
    pub fn parse_map<K: AsRef<str>, V: AsRef<str>>(
        pairs: &[(K, V)],
    ) -> Result<Vec<(String, PolicyRule)>> {
        let mut out = Vec::new();
        for field in CANONICAL_ORDER {
            if let Some((k, rule)) = pairs
                .iter()
                .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(field))
            {
                out.push((
                    (*field).to_string(),
                    PolicyRule::parse(k.as_ref(), rule.as_ref())?,
                ));
            }
        }
        if out.len() != pairs.len() {
            return Err(setting(
                "policy",
                format!("unknown field (known: {})", CANONICAL_ORDER.join(", ")),
            ));
        }
        Ok(out)
    }
}

impl Usages {
    /// Parses an openssl keyUsage list, `["critical", "digitalSignature", "keyCertSign"]`
    /// (cfssl's spellings work too): the bits in the order given and whether `critical` was
    /// among them.
    ///
    /// # Errors
    /// An unknown key usage name.
    pub fn parse_key_usage<S: AsRef<str>>(names: &[S]) -> Result<(Vec<KeyUsages>, bool)> {
        parse_critical_list(names, key_usage_by_name, Error::UnknownKeyUsage)
    }

    /// Parses an openssl extendedKeyUsage list, `["serverAuth", "clientAuth"]` or dotted
    /// OIDs, with `critical` allowed among them.
    ///
    /// # Errors
    /// An unknown extended key usage name.
    pub fn parse_ext_key_usage<S: AsRef<str>>(
        names: &[S],
    ) -> Result<(Vec<ObjectIdentifier>, bool)> {
        parse_critical_list(names, ext_key_usage_by_name, Error::UnknownExtKeyUsage)
    }
}

/// Looks every name up with `lookup`, except `critical`, which sets the returned flag.
fn parse_critical_list<S: AsRef<str>, T>(
    names: &[S],
    lookup: fn(&str) -> Option<T>,
    unknown: fn(String) -> Error,
) -> Result<(Vec<T>, bool)> {
    let mut out = Vec::new();
    let mut critical = false;
    for name in names {
        let name = name.as_ref();
        if name.trim().eq_ignore_ascii_case("critical") {
            critical = true;
        } else {
            out.push(lookup(name).ok_or_else(|| unknown(name.to_string()))?);
        }
    }
    Ok((out, critical))
}

#[cfg(test)]
mod tests {
    use super::*;
    use const_oid::db::rfc5280;

    #[test]
    fn key_usage_lists_take_critical_among_the_names() {
        let (ku, crit) =
            Usages::parse_key_usage(&["critical", "digitalSignature", "keyCertSign", "cRLSign"])
                .unwrap();
        assert!(crit);
        assert_eq!(
            ku,
            vec![
                KeyUsages::DigitalSignature,
                KeyUsages::KeyCertSign,
                KeyUsages::CRLSign
            ]
        );
        let (eku, crit) = Usages::parse_ext_key_usage(&["serverAuth", "1.2.3.4"]).unwrap();
        assert!(!crit);
        assert_eq!(eku[0], rfc5280::ID_KP_SERVER_AUTH);
        assert_eq!(eku[1].to_string(), "1.2.3.4");
    }

    #[test]
    fn unknown_usage_is_named() {
        let err = Usages::parse_key_usage(&["digitalSignature", "fastSigning"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown key usage `fastSigning` (known: digitalSignature")
        );
        let err = Usages::parse_ext_key_usage(&["webAuth"]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unknown extended key usage `webAuth`")
        );
    }

    #[test]
    fn basic_constraints_parse_like_openssl() {
        assert_eq!(
            BasicConstraints::parse("critical,CA:true,pathlen:1").unwrap(),
            BasicConstraints {
                ca: true,
                path_len: Some(1),
                critical: true
            }
        );
        assert_eq!(
            BasicConstraints::parse("CA:FALSE").unwrap(),
            BasicConstraints {
                ca: false,
                path_len: None,
                critical: false
            }
        );
        let err = |s| BasicConstraints::parse(s).unwrap_err().to_string();
        assert_eq!(
            err("CA:maybe"),
            "`basic_constraints`: `CA:maybe` (expected CA:true or CA:false)"
        );
        assert_eq!(
            err("CA:true,pathlen:300"),
            "`basic_constraints`: `pathlen:300`: pathlen must be 0-255"
        );
        assert_eq!(err("ca"), "`basic_constraints`: unknown part `ca`");
    }

    #[test]
    fn authority_key_id_and_copy_extensions_parse_like_openssl() {
        assert_eq!(
            AuthorityKeyId::parse("keyid, issuer:always").unwrap(),
            AuthorityKeyId::KeyIdAndIssuer
        );
        assert_eq!(
            AuthorityKeyId::parse("keyid:always").unwrap(),
            AuthorityKeyId::KeyIdAlways
        );
        assert_eq!(
            AuthorityKeyId::parse("keyid").unwrap(),
            AuthorityKeyId::KeyId
        );
        assert_eq!(AuthorityKeyId::parse("none").unwrap(), AuthorityKeyId::None);
        assert_eq!(
            AuthorityKeyId::parse("issuer").unwrap_err().to_string(),
            "`authority_key_id`: `issuer` (expected keyid, keyid:always, keyid,issuer:always or none)"
        );
        assert_eq!(AuthorityKeyId::from(false), AuthorityKeyId::None);
        assert_eq!(
            CopyExtensions::parse("CopyAll").unwrap(),
            CopyExtensions::CopyAll
        );
        assert_eq!(CopyExtensions::from(true), CopyExtensions::Copy);
        for aki in [
            AuthorityKeyId::None,
            AuthorityKeyId::KeyId,
            AuthorityKeyId::KeyIdAlways,
            AuthorityKeyId::KeyIdAndIssuer,
        ] {
            assert_eq!(AuthorityKeyId::parse(&aki.to_string()).unwrap(), aki);
        }
        for copy in [
            CopyExtensions::None,
            CopyExtensions::San,
            CopyExtensions::Copy,
            CopyExtensions::CopyAll,
        ] {
            assert_eq!(CopyExtensions::parse(&copy.to_string()).unwrap(), copy);
        }
        assert_eq!(
            CopyExtensions::parse("all").unwrap_err().to_string(),
            "invalid `copy_extensions`: `all` (expected none, san, copy or copyall)"
        );
    }

    #[test]
    fn policies_parse_from_lists_in_order_and_maps_in_canonical_order() {
        assert_eq!(
            PolicyRule::parse_list(&["CN=optional", " O = supplied"]).unwrap(),
            vec![
                ("CN".to_string(), PolicyRule::Optional),
                ("O".to_string(), PolicyRule::Supplied)
            ]
        );
        assert_eq!(
            PolicyRule::parse_map(&[("cn", "optional"), ("O", "match")]).unwrap(),
            vec![
                ("O".to_string(), PolicyRule::Match),
                ("CN".to_string(), PolicyRule::Optional)
            ]
        );
        assert_eq!(
            PolicyRule::parse_list(&["O"]).unwrap_err().to_string(),
            "`policy`: `O` is not FIELD=RULE"
        );
        assert_eq!(
            PolicyRule::parse_list(&["O=maybe"])
                .unwrap_err()
                .to_string(),
            "invalid `policy.O`: `maybe` (expected supplied, optional or match)"
        );
        assert!(
            PolicyRule::parse_map(&[("X", "supplied")])
                .unwrap_err()
                .to_string()
                .starts_with("`policy`: unknown field (known: C, ST, L, street")
        );
    }
}
