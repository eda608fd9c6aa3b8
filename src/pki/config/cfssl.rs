//! cfssl's JSON inputs, read the way `cfssl gencert` reads them: the certificate request
//! (`ca-csr.json`, `req-csr.json`: `CN`, `hosts`, `key`, `names`, `ca`) and the signing
//! configuration (`ca-config.json`: `signing.default`, `signing.profiles.NAME`).
//!
//! The JSON is parsed into serde structs ([`CsrJson`], [`ConfigJson`]) and then converted to
//! core types ([`CsrRequest`], [`SigningProfile`] → [`Profile`]). Errors name the field at
//! fault (`names[0].C`, `signing.profiles.kubernetes.expiry`); the caller adds the file name.
//!
//! Where cfssl is lax, pkirun refuses: an unknown field, usage or profile name (cfssl ignores
//! the first two and silently falls back to `signing.default` for the third), a host that
//! looks like an IP address but is not one (cfssl makes it a DNS name), a country that is not
//! two letters.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use crate::pki::KeySpec;
use crate::pki::error::Error;
use crate::pki::name::DistinguishedName;
use crate::pki::profile::{AuthorityKeyId, BasicConstraints, CopyExtensions, Profile, Validity};
use crate::pki::san::San;
use crate::pki::usage::{Usages, ext_key_usage_by_name, key_usage_by_name};

/// How far cfssl moves `notBefore` into the past when a profile sets no `backdate`.
pub const DEFAULT_BACKDATE: Duration = Duration::from_secs(5 * 60);

/// The validity `cfssl gencert -initca` gives a CA whose request has no `ca.expiry` (5 years).
pub const DEFAULT_CA_EXPIRY: &str = "43800h";

/// The validity of cfssl's built-in `signing.default` when the configuration has none.
pub const DEFAULT_EXPIRY: &str = "8760h";

/// What went wrong reading a cfssl JSON document. The caller adds the file name.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CfsslError {
    /// The text is not JSON of the expected shape (serde's message has the line and column).
    #[error("not a valid cfssl {what}: {reason}")]
    Json {
        /// `certificate request` or `signing configuration`.
        what: &'static str,
        /// serde's explanation.
        reason: String,
    },
    /// A field with a value pkirun refuses.
    #[error("`{field}`: {reason}")]
    Field {
        /// The JSON path of the field, e.g. `key.size`.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A field whose value the PKI core refused (bad SAN, name, usage or duration).
    #[error("`{field}`: {source}")]
    Invalid {
        /// The JSON path of the field, e.g. `hosts[1]`.
        field: String,
        /// The core's error.
        #[source]
        source: Error,
    },
    /// `-profile NAME` for a profile the configuration does not have.
    #[error(
        "no signing profile `{name}` in `signing.profiles` (has: {known}); cfssl would silently sign with `signing.default`, pkirun refuses"
    )]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles the file has, comma separated, or `none`.
        known: String,
    },
}

/// Result alias for this module.
pub type Result<T, E = CfsslError> = std::result::Result<T, E>;

fn invalid(field: impl Into<String>) -> impl FnOnce(Error) -> CfsslError {
    let field = field.into();
    move |source| CfsslError::Invalid { field, source }
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> CfsslError {
    CfsslError::Field {
        field: field.into(),
        reason: reason.into(),
    }
}

// ---- usages -----------------------------------------------------------------------------------

impl Usages {
    /// Sorts a mixed list, as cfssl's `usages` writes it (`["signing", "key encipherment",
    /// "server auth"]`), into key usages and extended key usages; `critical` anywhere marks the
    /// key usage critical.
    ///
    /// # Errors
    /// A name that is neither (reported as an unknown key usage).
    pub fn parse_mixed<S: AsRef<str>>(names: &[S]) -> std::result::Result<Self, Error> {
        let mut u = Usages::default();
        for name in names {
            let name = name.as_ref();
            if name.trim().eq_ignore_ascii_case("critical") {
                u.critical = true;
            } else if let Some(ku) = key_usage_by_name(name) {
                u.key_usage.push(ku);
            } else if let Some(eku) = ext_key_usage_by_name(name) {
                u.ext_key_usage.push(eku);
            } else {
                return Err(Error::UnknownKeyUsage(name.to_string()));
            }
        }
        Ok(u)
    }
}

impl Profile {
    /// Takes key usage and extended key usage from a mixed `usages` list: keyUsage is critical
    /// when the list says `critical` or names any key usage (as Go's x509 package writes it for
    /// cfssl); extendedKeyUsage keeps its criticality.
    pub fn set_usages(&mut self, usages: Usages) {
        self.key_usage = usages.key_usage;
        self.ext_key_usage = usages.ext_key_usage;
        self.key_usage_critical = usages.critical || !self.key_usage.is_empty();
    }
}

// ---- the certificate request (csr.json) ----------------------------------------------------

/// Reads one subject field of a `names` entry.
type NameGetter = fn(&NameJson) -> &str;

/// One entry of `names`: the subject fields cfssl reads (Go's JSON decoding also accepts the
/// lowercase spellings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NameJson {
    /// Country (two letters).
    #[serde(rename = "C", alias = "c")]
    pub c: String,
    /// State or province.
    #[serde(rename = "ST", alias = "st")]
    pub st: String,
    /// Locality (city).
    #[serde(rename = "L", alias = "l")]
    pub l: String,
    /// Organisation.
    #[serde(rename = "O", alias = "o")]
    pub o: String,
    /// Organisational unit.
    #[serde(rename = "OU", alias = "ou")]
    pub ou: String,
}

/// `key`: the algorithm and size of the key cfssl generates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyJson {
    /// `rsa` or `ecdsa`.
    pub algo: String,
    /// Bits: 2048/3072/4096 for RSA, 256/384 for ECDSA.
    pub size: i64,
}

/// `ca`: what `cfssl gencert -initca` applies to the CA it makes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaJson {
    /// Validity as a Go duration (`87600h`); default 43800h.
    pub expiry: String,
    /// basicConstraints pathlen (0 means none unless `pathlenzero`).
    pub pathlen: i64,
    /// With `pathlen` 0: write `pathlen:0`.
    pub pathlenzero: bool,
    /// How far to move notBefore into the past (Go duration; default 5m).
    pub backdate: String,
}

/// A cfssl certificate request document (`cfssl print-defaults csr`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CsrJson {
    /// The common name.
    #[serde(rename = "CN", alias = "cn")]
    pub cn: String,
    /// SANs, detected like cfssl: an IP address, an email (`@`), a URI (`://`), else DNS.
    pub hosts: Option<Vec<String>>,
    /// The key to generate; absent means ECDSA P-256, cfssl's default.
    pub key: Option<KeyJson>,
    /// Subject fields; several entries give several values of a field, in cfssl's order.
    pub names: Vec<NameJson>,
    /// CA options, used by `-initca` only.
    pub ca: Option<CaJson>,
    /// The subject's serialNumber attribute.
    #[serde(rename = "serialnumber", alias = "SerialNumber")]
    pub serial_number: String,
}

/// A checked request: what cfssl generates the key, the CSR and the certificate from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrRequest {
    /// The subject as Go writes it: every `C`, then `ST`, `L`, `O`, `OU` across the `names`
    /// entries in file order, then `CN`, then `serialNumber`.
    pub subject: DistinguishedName,
    /// The SANs in the order Go writes them: DNS names, emails, IP addresses, URIs.
    pub hosts: Vec<San>,
    /// The key to generate.
    pub key: KeySpec,
    /// `-initca` options, when the request has a `ca` object.
    pub ca: Option<CaJson>,
}

impl CsrJson {
    /// Parses a request document.
    ///
    /// # Errors
    /// Not JSON, a value of the wrong type, or an unknown field.
    pub fn parse(text: &str) -> Result<Self> {
        super::json::from_str(text).map_err(|e| CfsslError::Json {
            what: "certificate request",
            reason: e.to_string(),
        })
    }

    /// Checks the request and converts it to core types.
    ///
    /// # Errors
    /// A subject value, host, key or `ca` setting pkirun refuses, naming its field.
    pub fn to_request(&self) -> Result<CsrRequest> {
        let mut subject = DistinguishedName::new();
        let fields: [(&str, NameGetter); 5] = [
            ("C", |n| &n.c),
            ("ST", |n| &n.st),
            ("L", |n| &n.l),
            ("O", |n| &n.o),
            ("OU", |n| &n.ou),
        ];
        for (field, get) in fields {
            for (i, name) in self.names.iter().enumerate() {
                let value = get(name);
                if !value.is_empty() {
                    subject
                        .push(field, value)
                        .map_err(invalid(format!("names[{i}].{field}")))?;
                }
            }
        }
        if !self.cn.is_empty() {
            subject.push("CN", &self.cn).map_err(invalid("CN"))?;
        }
        if !self.serial_number.is_empty() {
            subject
                .push("serialNumber", &self.serial_number)
                .map_err(invalid("serialnumber"))?;
        }

        let mut hosts = Vec::new();
        for (i, host) in self.hosts.iter().flatten().enumerate() {
            hosts.push(San::parse(host).map_err(invalid(format!("hosts[{i}]")))?);
        }
        hosts.sort_by_key(|san| match san {
            San::Dns(_) => 0,
            San::Email(_) => 1,
            San::Ip(_) => 2,
            San::Uri(_) => 3,
        });

        let key = match &self.key {
            None => KeySpec::P256,
            Some(k) => {
                if k.algo.is_empty() {
                    return Err(field_error(
                        "key.algo",
                        "missing (expected \"rsa\" or \"ecdsa\")",
                    ));
                }
                if k.size == 0 {
                    return Err(field_error(
                        "key.size",
                        "missing (rsa: 2048, 3072 or 4096; ecdsa: 256 or 384)",
                    ));
                }
                KeySpec::new(&k.algo, k.size).map_err(invalid("key"))?
            }
        };

        if let Some(ca) = &self.ca {
            if !ca.expiry.is_empty() {
                Validity::parse(&ca.expiry).map_err(invalid("ca.expiry"))?;
            }
            if !ca.backdate.is_empty() {
                parse_backdate(&ca.backdate).map_err(invalid("ca.backdate"))?;
            }
            if !(0..=255).contains(&ca.pathlen) {
                return Err(field_error(
                    "ca.pathlen",
                    format!("{} is not 0-255", ca.pathlen),
                ));
            }
        }

        if subject.is_empty() && hosts.is_empty() {
            return Err(field_error(
                "CN",
                "the request has no CN, no names and no hosts: the certificate would name nothing",
            ));
        }
        Ok(CsrRequest {
            subject,
            hosts,
            key,
            ca: self.ca.clone(),
        })
    }
}

impl CsrRequest {
    /// Parses and checks a request document in one step.
    ///
    /// # Errors
    /// As [`CsrJson::parse`] and [`CsrJson::to_request`].
    pub fn parse(text: &str) -> Result<Self> {
        CsrJson::parse(text)?.to_request()
    }

    /// The signing profile `cfssl gencert -initca` makes the CA with: keyUsage `critical, Certificate
    /// Sign, CRL Sign`, basicConstraints `critical, CA:TRUE` (with `ca.pathlen`), a subject key
    /// identifier and no authority key identifier, valid for `ca.expiry` (default 43800h) from
    /// 5 minutes ago.
    ///
    /// # Errors
    /// Never for a request built by [`CsrJson::to_request`]; kept for bad `ca` values.
    pub fn initca_profile(&self) -> Result<SigningProfile> {
        let ca = self.ca.clone().unwrap_or_default();
        let expiry_text = if ca.expiry.is_empty() {
            DEFAULT_CA_EXPIRY.to_string()
        } else {
            ca.expiry.clone()
        };
        let expiry = Validity::parse(&expiry_text)
            .map_err(invalid("ca.expiry"))?
            .duration();
        let backdate = if ca.backdate.is_empty() {
            DEFAULT_BACKDATE
        } else {
            parse_backdate(&ca.backdate).map_err(invalid("ca.backdate"))?
        };
        let path_len = match (ca.pathlen, ca.pathlenzero) {
            (0, true) => Some(0),
            (0, false) => None,
            (n, _) => Some(
                u8::try_from(n)
                    .map_err(|_| field_error("ca.pathlen", format!("{n} is not 0-255")))?,
            ),
        };
        Ok(SigningProfile {
            usages: vec!["cert sign".into(), "crl sign".into()],
            expiry,
            backdate,
            ca: Some(path_len),
            authority_key_id: false,
        })
    }
}

// ---- the signing configuration (ca-config.json) ---------------------------------------------

/// `ca_constraint` of a profile: whether it issues CA certificates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaConstraintJson {
    /// Issue `CA:TRUE`.
    pub is_ca: bool,
    /// pathlen (0 means none unless `max_path_len_zero`).
    pub max_path_len: i64,
    /// With `max_path_len` 0: write `pathlen:0`.
    pub max_path_len_zero: bool,
}

/// One signing profile (`signing.default` or `signing.profiles.NAME`). Fields cfssl has and
/// pkirun does not implement (OCSP/CRL URLs, policies, whitelists, CT, fixed dates) are refused
/// as unknown, so they never pass silently.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileJson {
    /// Key usages and extended key usages in cfssl's names (`signing`, `server auth`, ...).
    pub usages: Vec<String>,
    /// Validity as a Go duration (`8760h`).
    pub expiry: String,
    /// How far to move notBefore into the past (Go duration; default 5m).
    pub backdate: String,
    /// CA certificates from this profile.
    pub ca_constraint: Option<CaConstraintJson>,
}

/// `signing`: the default profile and the named ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigningJson {
    /// Used without `-profile` (cfssl's built-in default, 8760h and no usages, when absent).
    pub default: Option<ProfileJson>,
    /// Named profiles, chosen with `-profile NAME`.
    pub profiles: BTreeMap<String, ProfileJson>,
}

/// A cfssl signing configuration document (`cfssl print-defaults config`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigJson {
    /// The signing policy (required, as cfssl requires it).
    pub signing: Option<SigningJson>,
    /// Authentication keys for the cfssl server; accepted and not used.
    pub auth_keys: Option<serde_json::Value>,
    /// Remote cfssl servers; accepted and not used.
    pub remotes: Option<serde_json::Value>,
}

/// A checked signing profile, ready to become a [`Profile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningProfile {
    /// The usage names as the file gives them (all known to pkirun).
    pub usages: Vec<String>,
    /// `notAfter - notBefore`.
    pub expiry: Duration,
    /// How far notBefore lies before the moment of signing.
    pub backdate: Duration,
    /// `Some(pathlen)` for a CA profile (`CA:TRUE`), `None` for leaves (`CA:FALSE`).
    pub ca: Option<Option<u8>>,
    /// Write an authority key identifier (cfssl does for everything but a self-signed CA).
    pub authority_key_id: bool,
}

impl SigningProfile {
    /// The key usages and extended key usages of [`Self::usages`].
    ///
    /// # Errors
    /// An unknown usage name (never for a profile read by [`ConfigJson::profile`]).
    pub fn parsed_usages(&self) -> Result<Usages> {
        Usages::parse_mixed(&self.usages).map_err(invalid("usages"))
    }

    /// The validity pkirun's profile needs so that notBefore is `backdate` before signing and
    /// `notAfter - notBefore` is exactly `expiry`, as cfssl makes them. An expiry shorter than
    /// the backdate is not backdated.
    #[must_use]
    pub fn window(&self) -> (Duration, Duration) {
        match self.expiry.checked_sub(self.backdate) {
            Some(rest) if !rest.is_zero() => (rest, self.backdate),
            _ => (self.expiry, Duration::ZERO),
        }
    }

    /// The core profile, the one conversion from a cfssl profile that everything uses
    /// (`cfssl_profile`'s options map is rendered from it): keyUsage critical, extendedKeyUsage
    /// not critical, basicConstraints critical (`CA:FALSE` on leaves), subject and authority key
    /// identifiers, the request's SAN copied (criticality as requested), valid for
    /// [`Self::window`], as Go's x509 package writes them for cfssl.
    ///
    /// # Errors
    /// An unknown usage or a validity out of range.
    pub fn to_profile(&self) -> Result<Profile> {
        let (validity, backdate) = self.window();
        // Built on the default, so that options the core grows later keep their defaults.
        let mut p = Profile {
            validity: Validity::parse(&format!("{}s", validity.as_secs()))
                .map_err(invalid("expiry"))?,
            basic_constraints: Some(BasicConstraints {
                ca: self.ca.is_some(),
                path_len: self.ca.flatten(),
                critical: true,
            }),
            ext_key_usage_critical: false,
            subject_key_id: true,
            authority_key_id: AuthorityKeyId::from(self.authority_key_id),
            san_critical: None,
            copy_extensions: CopyExtensions::San,
            policy: Vec::new(),
            backdate_seconds: backdate.as_secs(),
            ..Profile::default()
        };
        p.set_usages(self.parsed_usages()?);
        Ok(p)
    }
}

/// Parses a Go-style backdate; `0`, `0s`, `0m`, `0h` mean cfssl's default (5 minutes).
fn parse_backdate(s: &str) -> std::result::Result<Duration, Error> {
    if s.trim()
        .trim_end_matches(['s', 'm', 'h'])
        .trim_start_matches('0')
        .is_empty()
    {
        return Ok(DEFAULT_BACKDATE);
    }
    Ok(Validity::parse(s)?.duration())
}

fn check_profile(path: &str, p: &ProfileJson, is_default: bool) -> Result<SigningProfile> {
    if p.expiry.is_empty() {
        return Err(field_error(
            format!("{path}.expiry"),
            "missing (cfssl refuses a profile without one: \"empty expiry string\"); e.g. \"8760h\"",
        ));
    }
    let expiry = Validity::parse(&p.expiry)
        .map_err(invalid(format!("{path}.expiry")))?
        .duration();
    let backdate = if p.backdate.is_empty() {
        DEFAULT_BACKDATE
    } else {
        parse_backdate(&p.backdate).map_err(invalid(format!("{path}.backdate")))?
    };
    for (i, u) in p.usages.iter().enumerate() {
        Usages::parse_mixed(&[u]).map_err(invalid(format!("{path}.usages[{i}]")))?;
    }
    if !is_default && p.usages.is_empty() {
        return Err(field_error(
            format!("{path}.usages"),
            "empty (cfssl refuses a named profile without usages); e.g. [\"signing\", \"key encipherment\", \"server auth\"]",
        ));
    }
    let ca = match &p.ca_constraint {
        Some(c) if c.is_ca => Some(match (c.max_path_len, c.max_path_len_zero) {
            (0, true) => Some(0),
            (n, _) if n <= 0 => None,
            (n, _) => Some(u8::try_from(n).map_err(|_| {
                field_error(
                    format!("{path}.ca_constraint.max_path_len"),
                    format!("{n} is not 0-255"),
                )
            })?),
        }),
        _ => None,
    };
    Ok(SigningProfile {
        usages: p.usages.clone(),
        expiry,
        backdate,
        ca,
        authority_key_id: true,
    })
}

impl ConfigJson {
    /// Parses and checks a signing configuration: every profile must have a valid `expiry`,
    /// known `usages` (named profiles at least one), as `cfssl` checks when it loads the file.
    ///
    /// # Errors
    /// Not JSON, an unknown field, no `signing`, or a profile pkirun refuses.
    pub fn parse(text: &str) -> Result<Self> {
        let cfg: ConfigJson = super::json::from_str(text).map_err(|e| CfsslError::Json {
            what: "signing configuration",
            reason: e.to_string(),
        })?;
        let signing = cfg.signing.as_ref().ok_or_else(|| {
            field_error(
                "signing",
                "missing (cfssl: no \"signing\" field present); e.g. {\"signing\": {\"default\": {\"expiry\": \"8760h\", \"usages\": [...]}}}",
            )
        })?;
        if let Some(d) = &signing.default {
            check_profile("signing.default", d, true)?;
        }
        for (name, p) in &signing.profiles {
            check_profile(&format!("signing.profiles.{name}"), p, false)?;
        }
        Ok(cfg)
    }

    /// The profile `cfssl gencert -profile NAME` signs with; `""` or `"default"` (when no
    /// profile has that name) means `signing.default`.
    ///
    /// # Errors
    /// A name the configuration does not have, or a profile without usages (cfssl: "no key
    /// usage available").
    pub fn profile(&self, name: &str) -> Result<SigningProfile> {
        let signing = self.signing.clone().unwrap_or_default();
        let (path, p) = if let Some(p) = signing.profiles.get(name) {
            (format!("signing.profiles.{name}"), p.clone())
        } else if name.is_empty() || name == "default" {
            (
                "signing.default".to_string(),
                signing.default.clone().unwrap_or_else(|| ProfileJson {
                    expiry: DEFAULT_EXPIRY.into(),
                    ..ProfileJson::default()
                }),
            )
        } else {
            let known: Vec<&str> = signing.profiles.keys().map(String::as_str).collect();
            return Err(CfsslError::UnknownProfile {
                name: name.to_string(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        };
        let checked = check_profile(&path, &p, true)?;
        if checked.usages.is_empty() {
            return Err(field_error(
                format!("{path}.usages"),
                "no key usage available: cfssl refuses to sign with this profile; add usages such as [\"signing\", \"key encipherment\", \"server auth\"]",
            ));
        }
        Ok(checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use const_oid::db::rfc5280;
    use x509_cert::ext::pkix::KeyUsages;

    const TLS_SETUP_REQ: &str = r#"{
      "CN": "etcd",
      "hosts": ["localhost", "127.0.0.1", "node1.example.io"],
      "key": { "algo": "ecdsa", "size": 384 },
      "names": [ { "O": "autogenerated", "OU": "etcd cluster", "L": "the internet" } ]
    }"#;

    #[test]
    fn mixed_usages_sort_into_key_usage_and_ext_key_usage() {
        let u = Usages::parse_mixed(&["signing", "key encipherment", "server auth", "client auth"])
            .unwrap();
        assert_eq!(
            u.key_usage,
            vec![KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment]
        );
        assert_eq!(
            u.ext_key_usage,
            vec![rfc5280::ID_KP_SERVER_AUTH, rfc5280::ID_KP_CLIENT_AUTH]
        );
        assert!(!u.critical);
        let mut p = Profile {
            key_usage_critical: false,
            ..Profile::default()
        };
        p.set_usages(u);
        assert!(p.key_usage_critical, "a key usage makes keyUsage critical");
        p.set_usages(Usages::parse_mixed(&["server auth"]).unwrap());
        assert!(p.key_usage.is_empty() && !p.key_usage_critical);
        assert!(
            Usages::parse_mixed(&["signing", "frobnicate"])
                .unwrap_err()
                .to_string()
                .starts_with("unknown key usage `frobnicate`")
        );
    }

    #[test]
    fn request_converts_like_cfssl() {
        let r = CsrRequest::parse(TLS_SETUP_REQ).unwrap();
        assert_eq!(
            r.subject.to_string(),
            "L = the internet, O = autogenerated, OU = etcd cluster, CN = etcd"
        );
        let hosts: Vec<String> = r.hosts.iter().map(ToString::to_string).collect();
        assert_eq!(
            hosts,
            ["DNS:localhost", "DNS:node1.example.io", "IP:127.0.0.1"]
        );
        assert_eq!(r.key, KeySpec::P384);
    }

    #[test]
    fn several_names_entries_group_by_field_in_cfssl_order() {
        let r = CsrRequest::parse(
            r#"{"CN": "x", "names": [{"OU": "a", "O": "o1", "C": "US"}, {"OU": "b", "ST": "CA", "o": "o2"}]}"#,
        )
        .unwrap();
        assert_eq!(
            r.subject.to_string(),
            "C = US, ST = CA, O = o1, O = o2, OU = a, OU = b, CN = x"
        );
        assert_eq!(r.key, KeySpec::P256, "no key: cfssl's default ECDSA P-256");
    }

    #[test]
    fn hosts_are_detected_and_bad_ones_named() {
        let r = CsrRequest::parse(
            r#"{"CN": "x", "hosts": ["spiffe://c/ns", "10.0.0.1", "a@b.io", "::1", "h.io"]}"#,
        )
        .unwrap();
        let hosts: Vec<String> = r.hosts.iter().map(ToString::to_string).collect();
        assert_eq!(
            hosts,
            [
                "DNS:h.io",
                "email:a@b.io",
                "IP:10.0.0.1",
                "IP:::1",
                "URI:spiffe://c/ns"
            ]
        );
        let err =
            CsrRequest::parse(r#"{"CN": "x", "hosts": ["localhost", "10.0.0.300"]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`hosts[1]`: invalid subject alternative name `10.0.0.300`: `10.0.0.300` looks like an IP address but is not a valid one"
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let err =
            CsrRequest::parse(r#"{"CN": "x", "names": [{"O": "a"}, {"C": "USA"}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`names[1].C`: invalid subject field `C`: `USA` is not a two-letter country code"
        );
        let err =
            CsrRequest::parse(r#"{"CN": "x", "key": {"algo": "rsa", "size": 1024}}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`key`: unsupported rsa key size 1024"),
            "{err}"
        );
        let err = CsrRequest::parse(r#"{"CN": "x", "key": {"algo": "ecdsa"}}"#).unwrap_err();
        assert!(err.to_string().starts_with("`key.size`: missing"), "{err}");
        let err = CsrRequest::parse(r#"{"CN": "x", "host": ["a"]}"#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("not a valid cfssl certificate request: unknown field `host`"),
            "{err}"
        );
        let err = CsrRequest::parse(r#"{"CN": "x", "ca": {"expiry": "0h"}}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`ca.expiry`: invalid validity: hours must be positive, got 0"
        );
    }

    #[test]
    fn initca_profile_is_cfssls() {
        let r =
            CsrRequest::parse(r#"{"CN": "ca", "ca": {"expiry": "87600h", "pathlen": 1}}"#).unwrap();
        let sp = r.initca_profile().unwrap();
        assert_eq!(sp.expiry, Duration::from_secs(87_600 * 3600));
        assert_eq!(sp.ca, Some(Some(1)));
        let p = sp.to_profile().unwrap();
        assert_eq!(
            p.key_usage,
            vec![KeyUsages::KeyCertSign, KeyUsages::CRLSign]
        );
        assert!(p.key_usage_critical);
        assert_eq!(p.authority_key_id, AuthorityKeyId::None);
        assert_eq!(p.backdate_seconds, 300);
        assert_eq!(
            p.validity.duration() + Duration::from_secs(300),
            Duration::from_secs(87_600 * 3600)
        );
        let default = CsrRequest::parse(r#"{"CN": "ca"}"#)
            .unwrap()
            .initca_profile()
            .unwrap();
        assert_eq!(default.expiry, Duration::from_secs(43_800 * 3600));
        assert_eq!(default.ca, Some(None));
    }

    const K8S_CONFIG: &str = r#"{
      "signing": {
        "default": { "expiry": "8760h" },
        "profiles": {
          "kubernetes": {
            "usages": ["signing", "key encipherment", "server auth", "client auth"],
            "expiry": "8760h"
          }
        }
      }
    }"#;

    #[test]
    fn profile_converts_like_cfssl() {
        let cfg = ConfigJson::parse(K8S_CONFIG).unwrap();
        let p = cfg.profile("kubernetes").unwrap().to_profile().unwrap();
        // The usages its list names (their parsing is tested above), keyUsage critical as Go
        // writes it.
        let listed =
            Usages::parse_mixed(&["signing", "key encipherment", "server auth", "client auth"])
                .unwrap();
        assert_eq!(p.key_usage, listed.key_usage);
        assert_eq!(p.ext_key_usage, listed.ext_key_usage);
        assert!(p.key_usage_critical && !p.ext_key_usage_critical);
        assert_eq!(
            p.basic_constraints,
            Some(BasicConstraints {
                ca: false,
                path_len: None,
                critical: true
            })
        );
        assert_eq!(p.authority_key_id, AuthorityKeyId::KeyId);
        assert_eq!(
            p.validity.duration() + Duration::from_secs(p.backdate_seconds),
            Duration::from_secs(8760 * 3600)
        );
    }

    #[test]
    fn profile_errors_are_named() {
        let cfg = ConfigJson::parse(K8S_CONFIG).unwrap();
        assert_eq!(
            cfg.profile("kubernets").unwrap_err().to_string(),
            "no signing profile `kubernets` in `signing.profiles` (has: kubernetes); cfssl would silently sign with `signing.default`, pkirun refuses"
        );
        assert!(
            cfg.profile("")
                .unwrap_err()
                .to_string()
                .starts_with("`signing.default.usages`: no key usage available"),
        );
        let err = ConfigJson::parse(
            r#"{"signing": {"default": {"expiry": "0h", "usages": ["signing"]}}}"#,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`signing.default.expiry`: invalid validity: hours must be positive, got 0"
        );
        let err = ConfigJson::parse(
            r#"{"signing": {"profiles": {"p": {"expiry": "1h", "usages": ["signing", "frobnicate"]}}}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`signing.profiles.p.usages[1]`: unknown key usage `frobnicate`"),
            "{err}"
        );
        let err = ConfigJson::parse(r#"{"signing": {"profiles": {"p": {"usages": ["signing"]}}}}"#)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`signing.profiles.p.expiry`: missing"),
            "{err}"
        );
        let err = ConfigJson::parse(
            r#"{"signing": {"default": {"expiry": "1h", "usages": ["signing"], "ocsp_url": "x"}}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("unknown field `ocsp_url`"),
            "{err}"
        );
    }

    #[test]
    fn ca_constraint_makes_an_intermediate_profile() {
        let cfg = ConfigJson::parse(
            r#"{"signing": {"profiles": {"ica": {"expiry": "1h", "usages": ["cert sign", "crl sign"],
                "ca_constraint": {"is_ca": true, "max_path_len": 0, "max_path_len_zero": true}}}}}"#,
        )
        .unwrap();
        let p = cfg.profile("ica").unwrap().to_profile().unwrap();
        assert_eq!(
            p.basic_constraints,
            Some(BasicConstraints {
                ca: true,
                path_len: Some(0),
                critical: true
            })
        );
        // An expiry shorter than the backdate is not backdated.
        assert_eq!(p.backdate_seconds, 300);
        let short = SigningProfile {
            expiry: Duration::from_secs(60),
            ..cfg.profile("ica").unwrap()
        };
        assert_eq!(short.window(), (Duration::from_secs(60), Duration::ZERO));
    }
}
