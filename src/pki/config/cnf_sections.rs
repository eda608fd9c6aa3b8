//! What the sections of an openssl configuration mean to pkirun: an extension section
//! (`v3_ca`, `signing_node_req`, `v3_ext`) as signing settings, and a distinguished-name section
//! (`req_distinguished_name`, `dn`) as a subject. A name pkirun does not know, or a value it
//! cannot write, is an error naming the file, the line and the name: a setting is never dropped.

use super::cnf::{Cnf, CnfError, CnfValue};
use crate::pki::profile::{AuthorityKeyId, BasicConstraints};

/// The settings of an extension section, in the spelling of pkirun's signing options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtensionSettings {
    /// `keyUsage`, split at commas (`critical` among the names, as openssl writes it).
    pub key_usage: Option<Vec<String>>,
    /// `extendedKeyUsage`, likewise.
    pub ext_key_usage: Option<Vec<String>>,
    /// `basicConstraints` as written (`critical,CA:true,pathlen:1`).
    pub basic_constraints: Option<String>,
    /// `subjectAltName` entries as `DNS:x` / `IP:y` / `email:z` / `URI:u`, `@section`
    /// references expanded.
    pub subject_alt_name: Option<Vec<String>>,
    /// Whether `subjectAltName` starts with `critical`.
    pub san_critical: bool,
    /// `authorityKeyIdentifier` as written (`keyid`, `keyid:always,issuer`, `none`).
    pub authority_key_id: Option<String>,
    /// `subjectKeyIdentifier`: `hash` is true, `none` false.
    pub subject_key_id: Option<bool>,
    /// `nameConstraints` permitted subtrees, in pkirun's spelling (`example.test`,
    /// `10.0.0.0/8`, `@example.test`).
    pub permitted: Vec<String>,
    /// `nameConstraints` excluded subtrees.
    pub excluded: Vec<String>,
    /// `crlDistributionPoints` URIs.
    pub crl_distribution_points: Vec<String>,
    /// `authorityInfoAccess` `OCSP;URI:` entries.
    pub ocsp: Vec<String>,
    /// `authorityInfoAccess` `caIssuers;URI:` entries.
    pub ca_issuers: Vec<String>,
}

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl Cnf {
    /// The extension section `section` as signing settings.
    ///
    /// # Errors
    /// A missing section, an extension pkirun does not write (`crlDistributionPoints`,
    /// `authorityInfoAccess`, `certificatePolicies`, ...), or a value it cannot read, named by
    /// file and line.
    pub fn extensions(&self, section: &str) -> Result<ExtensionSettings, CnfError> {
        let values = self
            .section(section)
            .ok_or_else(|| self.error(format!("no extension section `[ {section} ]`")))?;
        let mut out = ExtensionSettings::default();
        for v in values {
            match v.name.as_str() {
                "keyUsage" => out.key_usage = Some(list(&v.value)),
                "extendedKeyUsage" => out.ext_key_usage = Some(list(&v.value)),
                "basicConstraints" => {
                    BasicConstraints::parse(&v.value).map_err(|e| v.error(e.to_string()))?;
                    out.basic_constraints = Some(v.value.clone());
                }
                "authorityKeyIdentifier" => {
                    AuthorityKeyId::parse(&v.value).map_err(|e| v.error(e.to_string()))?;
                    out.authority_key_id = Some(v.value.clone());
                }
                "subjectKeyIdentifier" => {
                    out.subject_key_id = Some(match v.value.trim() {
                        "hash" => true,
                        "none" => false,
                        other => {
                            return Err(
                                v.error(format!("`{other}`: pkirun writes `hash` or `none`"))
                            );
                        }
                    });
                }
                "subjectAltName" => {
                    let mut entries = Vec::new();
                    for item in list(&v.value) {
                        if item == "critical" {
                            out.san_critical = true;
                        } else if let Some(name) = item.strip_prefix('@') {
                            entries.extend(self.san_section(v, name)?);
                        } else if item.eq_ignore_ascii_case("email:copy") {
                            return Err(v.error(
                                "`email:copy` (the subject's email as a SAN) is not written by \
                                 pkirun; name the address",
                            ));
                        } else {
                            entries.push(san_entry(v, &item)?);
                        }
                    }
                    out.subject_alt_name = Some(entries);
                }
                "nameConstraints" => {
                    for item in list(&v.value) {
                        if item == "critical" {
                            continue; // pkirun writes nameConstraints critical always
                        }
                        let (kind, name) = item.split_once(';').ok_or_else(|| {
                            v.error(format!("`{item}`: expected permitted;TYPE:NAME"))
                        })?;
                        let name = constraint_name(v, name)?;
                        match kind.trim() {
                            "permitted" => out.permitted.push(name),
                            "excluded" => out.excluded.push(name),
                            other => {
                                return Err(
                                    v.error(format!("`{other}`: expected permitted or excluded"))
                                );
                            }
                        }
                    }
                }
                "crlDistributionPoints" => {
                    for item in list(&v.value) {
                        let uri = item.strip_prefix("URI:").ok_or_else(|| {
                            v.error(format!(
                                "`{item}`: pkirun writes distribution points as URI:..., \
                                     one point each (not critical, no section form)"
                            ))
                        })?;
                        crate::pki::profile::check_uri("crlDistributionPoints", uri.trim())
                            .map_err(|e| v.error(e.to_string()))?;
                        out.crl_distribution_points.push(uri.trim().to_string());
                    }
                }
                "authorityInfoAccess" => {
                    for item in list(&v.value) {
                        let (method, location) = item.split_once(';').ok_or_else(|| {
                            v.error(format!(
                                "`{item}`: expected OCSP;URI:... or caIssuers;URI:..."
                            ))
                        })?;
                        let uri = location.trim().strip_prefix("URI:").ok_or_else(|| {
                            v.error(format!("`{location}`: pkirun writes URI: locations"))
                        })?;
                        crate::pki::profile::check_uri("authorityInfoAccess", uri)
                            .map_err(|e| v.error(e.to_string()))?;
                        match method.trim() {
                            "OCSP" => out.ocsp.push(uri.to_string()),
                            "caIssuers" => out.ca_issuers.push(uri.to_string()),
                            other => {
                                return Err(v.error(format!(
                                    "`{other}`: pkirun writes OCSP and caIssuers"
                                )));
                            }
                        }
                    }
                }
                other => {
                    return Err(v.error(format!(
                        "pkirun does not write `{other}` (it writes keyUsage, \
                             extendedKeyUsage, basicConstraints, subjectAltName, \
                             authorityKeyIdentifier, subjectKeyIdentifier, nameConstraints, \
                             crlDistributionPoints, authorityInfoAccess)"
                    )));
                }
            }
        }
        Ok(out)
    }

    /// The entries of a `[ alt_names ]` section (`DNS.1 = x`, `IP.2 = y`, `email = z`).
    fn san_section(&self, from: &CnfValue, name: &str) -> Result<Vec<String>, CnfError> {
        let values = self
            .section(name)
            .ok_or_else(|| from.error(format!("`@{name}`: no section `[ {name} ]`")))?;
        values
            .iter()
            .map(|v| {
                let kind = v.name.split('.').next().unwrap_or_default();
                san_entry(v, &format!("{kind}:{}", v.value))
            })
            .collect()
    }

    /// A distinguished-name section as `FIELD=value` pairs in order: with `prompt = no` the
    /// values as written, else each field's `_default` (what pressing Enter at openssl's
    /// prompts gives); a leading `N.` (`1.OU`) is dropped as openssl drops it, and a field
    /// joined to the RDN before it (`+UID`, a multi-valued RDN) keeps its `+`.
    ///
    /// # Errors
    /// A missing section.
    pub fn subject(&self, section: &str, prompt: bool) -> Result<Vec<(String, String)>, CnfError> {
        let values = self
            .section(section)
            .ok_or_else(|| self.error(format!("no distinguished-name section `[ {section} ]`")))?;
        let mut out = Vec::new();
        for v in values {
            // openssl req skips everything up to the first `:`, `,` or `.` (so `1.OU` and
            // `x:OU` are `OU`), then a leading `+` joins the field to the RDN before it.
            let mut field = v.name.as_str();
            if let Some(i) = field.find([':', ',', '.'])
                && i + 1 < field.len()
            {
                field = &field[i + 1..];
            }
            let joined = field.starts_with('+');
            field = field.trim_start_matches('+');
            let value = if prompt {
                match field.strip_suffix("_default") {
                    Some(f) => {
                        field = f;
                        v.value.clone()
                    }
                    None => continue, // the prompt's text, _min and _max
                }
            } else {
                v.value.clone()
            };
            if value.is_empty() {
                continue; // openssl leaves an empty field out
            }
            out.push((format!("{}{field}", if joined { "+" } else { "" }), value));
        }
        Ok(out)
    }
}

/// `DNS:x` etc. with openssl's type names checked.
fn san_entry(v: &CnfValue, item: &str) -> Result<String, CnfError> {
    let (kind, name) = item
        .split_once(':')
        .ok_or_else(|| v.error(format!("`{item}`: expected TYPE:NAME")))?;
    let kind = match kind.trim() {
        "DNS" => "DNS",
        "IP" => "IP",
        "email" => "email",
        "URI" => "URI",
        other => {
            return Err(v.error(format!(
                "`{other}`: pkirun writes DNS, IP, email and URI names"
            )));
        }
    };
    Ok(format!("{kind}:{}", name.trim()))
}

/// A nameConstraints name (`DNS:x`, `IP:10.0.0.0/255.0.0.0`, `email:x`) in pkirun's spelling.
fn constraint_name(v: &CnfValue, item: &str) -> Result<String, CnfError> {
    let (kind, name) = item
        .split_once(':')
        .ok_or_else(|| v.error(format!("`{item}`: expected TYPE:NAME")))?;
    let name = name.trim();
    match kind.trim() {
        "DNS" => Ok(name.to_string()),
        "email" => Ok(if name.contains('@') {
            name.to_string()
        } else {
            format!("@{name}")
        }),
        "IP" => {
            let (addr, mask) = name
                .split_once('/')
                .ok_or_else(|| v.error(format!("`{name}`: expected ADDRESS/MASK")))?;
            let mask: std::net::IpAddr = mask
                .parse()
                .map_err(|_| v.error(format!("`{mask}`: not a mask")))?;
            let bits = match mask {
                std::net::IpAddr::V4(m) => u32::from(m).leading_ones(),
                std::net::IpAddr::V6(m) => u128::from(m).leading_ones(),
            };
            Ok(format!("{addr}/{bits}"))
        }
        other => Err(v.error(format!(
            "`{other}`: pkirun constrains DNS, IP and email names"
        ))),
    }
}
