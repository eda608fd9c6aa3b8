//! Extensions: each one rendered as `openssl x509 -text` shows it, and the summary of what
//! they say about a key's use and names, shared by certificates and requests.

use std::fmt::Write as _;

use const_oid::ObjectIdentifier;
use der::Decode as _;
use flagset::FlagSet;
use serde::Serialize;
use x509_parser::asn1_rs::{Any, FromDer};
use x509_parser::extensions::{
    AccessDescription, AuthorityKeyIdentifier, BasicConstraints, CRLDistributionPoints,
    CertificatePolicies, DistributionPointName, GeneralName, KeyUsage, NSCertType, NameConstraints,
    ParsedExtension, PolicyConstraints, PolicyMappings, X509Extension,
};

use super::general_name::{
    general_name_list_item, general_name_print, general_name_struct, general_names_list,
    ip_constraint,
};
use super::name::{attribute_short_name, attribute_value, name_info};
use super::serial::serial_string;
use crate::pki::colon_hex;
use crate::pki::usage::{EXT_KEY_USAGE_NAMES, KEY_USAGE_NAMES, ext_key_usage_name};

/// One certificate or requested extension.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// openssl's short name (`basicConstraints`, `keyUsage`, `extendedKeyUsage`,
    /// `subjectAltName`, `subjectKeyIdentifier`, `authorityKeyIdentifier`, ...) or the dotted OID.
    pub name: String,
    /// The dotted OID.
    pub oid: String,
    /// Whether the extension is marked critical.
    pub critical: bool,
    /// The value as `openssl x509 -text` renders it, e.g. `CA:TRUE, pathlen:1`,
    /// `Digital Signature, Key Encipherment`, `DNS:localhost, IP Address:127.0.0.1`, or
    /// `AB:CD:...` for key identifiers. Multi-line renderings are joined with `\n`.
    pub value: String,
}

/// The basicConstraints extension.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BasicConstraintsInfo {
    /// `CA:TRUE`.
    pub ca: bool,
    /// The path length constraint, if any.
    pub path_len: Option<u32>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

/// The authorityKeyIdentifier extension.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuthorityKeyIdInfo {
    /// The key identifier, uppercase hex with colons (comparable with the issuer's
    /// [`CertInfo::subject_key_id`](super::CertInfo::subject_key_id)).
    pub key_id: Option<String>,
    /// The issuer's issuer name (a directory name in one-line form; other name kinds as in
    /// [`ExtensionSummary::san`]), comma separated.
    pub issuer: Option<String>,
    /// The issuer's serial number, in the same form as
    /// [`CertInfo::serial`](super::CertInfo::serial).
    pub serial: Option<String>,
}

/// What the extensions of a certificate, or those a request asks for, say about the key's use
/// and the names it covers. The first extension of each kind counts.
///
/// [`CertInfo`](super::CertInfo) and [`CsrInfo`](super::CsrInfo) both carry one; its fields
/// appear directly in their JSON.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ExtensionSummary {
    /// basicConstraints, if present.
    pub basic_constraints: Option<BasicConstraintsInfo>,
    /// keyUsage bits by their openssl config names (`digitalSignature`, `nonRepudiation`,
    /// `keyEncipherment`, `dataEncipherment`, `keyAgreement`, `keyCertSign`, `cRLSign`,
    /// `encipherOnly`, `decipherOnly`), in bit order. Empty without the extension.
    pub key_usage: Vec<String>,
    /// Whether keyUsage is critical; `None` without the extension.
    pub key_usage_critical: Option<bool>,
    /// extendedKeyUsage purposes by their openssl config names (`serverAuth`, `clientAuth`,
    /// `codeSigning`, `emailProtection`, `timeStamping`, `OCSPSigning`, `anyExtendedKeyUsage`)
    /// or dotted OIDs, in extension order.
    pub ext_key_usage: Vec<String>,
    /// Whether extendedKeyUsage is critical; `None` without the extension.
    pub ext_key_usage_critical: Option<bool>,
    /// Subject alternative names in extension order: `DNS:x`, `IP:1.2.3.4`, `IP:::1`,
    /// `URI:...`, `email:...`, `DirName:O = ..., CN = ...`, `RID:1.2.3`, `otherName:OID;UTF8:v`.
    pub san: Vec<String>,
    /// Whether subjectAltName is critical; `None` without the extension.
    pub san_critical: Option<bool>,
}

/// Everything read from one list of extensions.
#[derive(Default)]
pub(super) struct Extensions {
    /// Use and names.
    pub(super) summary: ExtensionSummary,
    /// The first subjectKeyIdentifier, uppercase hex with colons.
    pub(super) subject_key_id: Option<String>,
    /// The first authorityKeyIdentifier.
    pub(super) authority_key_id: Option<AuthorityKeyIdInfo>,
    /// Every extension, in order.
    pub(super) list: Vec<ExtensionInfo>,
}

impl Extensions {
    /// Reads a certificate's extensions or a request's requested extensions.
    pub(super) fn read(exts: &[X509Extension<'_>]) -> Self {
        let mut out = Extensions::default();
        for ext in exts {
            let oid = ext.oid.to_id_string();
            let value = out.note(ext);
            let name = extension_names(&oid).map_or_else(|| oid.clone(), |(n, _)| n.to_string());
            out.list.push(ExtensionInfo {
                name,
                oid,
                critical: ext.critical,
                value,
            });
        }
        out
    }

    /// Keeps what the summary and the key identifiers take from `ext` (unless an extension of
    /// its kind came first) and renders its value.
    fn note(&mut self, ext: &X509Extension<'_>) -> String {
        let critical = ext.critical;
        let sum = &mut self.summary;
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                if sum.basic_constraints.is_none() {
                    sum.basic_constraints = Some(BasicConstraintsInfo {
                        ca: bc.ca,
                        path_len: bc.path_len_constraint,
                        critical,
                    });
                }
                basic_constraints_text(bc)
            }
            ParsedExtension::KeyUsage(ku) => {
                let bits = key_usage_bits(ku);
                if sum.key_usage_critical.is_none() {
                    sum.key_usage = bits.iter().map(|(name, _)| (*name).to_string()).collect();
                    sum.key_usage_critical = Some(critical);
                }
                let labels: Vec<&str> = bits.iter().map(|(_, label)| *label).collect();
                labels.join(", ")
            }
            ParsedExtension::ExtendedKeyUsage(_) => {
                let Ok(oids) = Vec::<ObjectIdentifier>::from_der(ext.value) else {
                    return raw_dump(ext.value);
                };
                if sum.ext_key_usage_critical.is_none() {
                    sum.ext_key_usage = oids.iter().map(|o| ext_key_usage_name(*o)).collect();
                    sum.ext_key_usage_critical = Some(critical);
                }
                oids.iter()
                    .map(ext_key_usage_label)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                if sum.san_critical.is_none() {
                    sum.san = san.general_names.iter().map(general_name_struct).collect();
                    sum.san_critical = Some(critical);
                }
                general_names_list(&san.general_names)
            }
            ParsedExtension::SubjectKeyIdentifier(kid) => {
                let v = colon_hex(kid.0, true);
                if self.subject_key_id.is_none() {
                    self.subject_key_id = Some(v.clone());
                }
                v
            }
            ParsedExtension::AuthorityKeyIdentifier(aki) => {
                if self.authority_key_id.is_none() {
                    self.authority_key_id = Some(authority_key_id_info(aki));
                }
                authority_key_id_text(aki)
            }
            other => render(other, ext.value),
        }
    }
}

/// The value of an extension the summary does not read, as `openssl x509 -text` shows it.
fn render(parsed: &ParsedExtension<'_>, raw: &[u8]) -> String {
    match parsed {
        ParsedExtension::IssuerAlternativeName(ian) => general_names_list(&ian.general_names),
        ParsedExtension::CRLDistributionPoints(points) => crl_distribution_points(points),
        ParsedExtension::AuthorityInfoAccess(aia) => access_descriptions(&aia.accessdescs),
        ParsedExtension::SubjectInfoAccess(sia) => access_descriptions(&sia.accessdescs),
        ParsedExtension::CertificatePolicies(policies) => certificate_policies(policies),
        ParsedExtension::NameConstraints(nc) => name_constraints(nc),
        ParsedExtension::PolicyConstraints(pc) => policy_constraints(pc),
        ParsedExtension::PolicyMappings(pm) => policy_mappings(pm),
        ParsedExtension::InhibitAnyPolicy(iap) => iap.skip_certs.to_string(),
        ParsedExtension::NsCertComment(c) => (*c).to_string(),
        ParsedExtension::NSCertType(t) => ns_cert_type(t),
        _ => raw_dump(raw),
    }
}

/// openssl's short name and text label of an extension.
pub(super) fn extension_names(oid: &str) -> Option<(&'static str, &'static str)> {
    Some(match oid {
        "2.5.29.19" => ("basicConstraints", "X509v3 Basic Constraints"),
        "2.5.29.15" => ("keyUsage", "X509v3 Key Usage"),
        "2.5.29.37" => ("extendedKeyUsage", "X509v3 Extended Key Usage"),
        "2.5.29.17" => ("subjectAltName", "X509v3 Subject Alternative Name"),
        "2.5.29.18" => ("issuerAltName", "X509v3 Issuer Alternative Name"),
        "2.5.29.14" => ("subjectKeyIdentifier", "X509v3 Subject Key Identifier"),
        "2.5.29.35" => ("authorityKeyIdentifier", "X509v3 Authority Key Identifier"),
        "2.5.29.31" => ("crlDistributionPoints", "X509v3 CRL Distribution Points"),
        "2.5.29.32" => ("certificatePolicies", "X509v3 Certificate Policies"),
        "2.5.29.30" => ("nameConstraints", "X509v3 Name Constraints"),
        "2.5.29.36" => ("policyConstraints", "X509v3 Policy Constraints"),
        "2.5.29.33" => ("policyMappings", "X509v3 Policy Mappings"),
        "2.5.29.54" => ("inhibitAnyPolicy", "X509v3 Inhibit Any Policy"),
        "1.3.6.1.5.5.7.1.1" => ("authorityInfoAccess", "Authority Information Access"),
        "1.3.6.1.5.5.7.1.11" => ("subjectInfoAccess", "Subject Information Access"),
        "1.3.6.1.5.5.7.1.24" => ("tlsfeature", "TLS Feature"),
        "1.3.6.1.5.5.7.48.1.5" => ("noCheck", "OCSP No Check"),
        "2.16.840.1.113730.1.1" => ("nsCertType", "Netscape Cert Type"),
        "2.16.840.1.113730.1.13" => ("nsComment", "Netscape Comment"),
        "1.3.6.1.4.1.11129.2.4.2" => ("ct_precert_scts", "CT Precertificate SCTs"),
        "1.3.6.1.4.1.11129.2.4.3" => ("ct_precert_poison", "CT Precertificate Poison"),
        _ => return None,
    })
}

fn basic_constraints_text(bc: &BasicConstraints) -> String {
    let mut v = if bc.ca { "CA:TRUE" } else { "CA:FALSE" }.to_string();
    if let Some(n) = bc.path_len_constraint {
        let _ = write!(v, ", pathlen:{n}");
    }
    v
}

/// The openssl config names and text labels of the key usage bits set, in bit order.
fn key_usage_bits(ku: &KeyUsage) -> Vec<(&'static str, &'static str)> {
    KEY_USAGE_NAMES
        .iter()
        .filter(|(_, _, bit)| ku.flags & FlagSet::from(*bit).bits() != 0)
        .map(|(name, label, _)| (*name, *label))
        .collect()
}

/// openssl's text label of an extended key usage, or its dotted OID.
fn ext_key_usage_label(oid: &ObjectIdentifier) -> String {
    let id = oid.to_string();
    let known = EXT_KEY_USAGE_NAMES
        .iter()
        .find(|(_, _, known)| known == oid)
        .map(|(_, label, _)| *label);
    match known.or_else(|| eku_other_label(&id)) {
        Some(label) => label.to_string(),
        None => id,
    }
}

/// openssl's text label of extended key usages it knows but pkirun has no config name for.
fn eku_other_label(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "1.3.6.1.5.5.7.3.5" => "IPSec End System",
        "1.3.6.1.5.5.7.3.6" => "IPSec Tunnel",
        "1.3.6.1.5.5.7.3.7" => "IPSec User",
        "1.3.6.1.5.5.7.3.17" => "ipsec Internet Key Exchange",
        "1.3.6.1.4.1.311.10.3.4" => "Microsoft Encrypted File System",
        "1.3.6.1.4.1.311.10.3.3" => "Microsoft Server Gated Crypto",
        "1.3.6.1.4.1.311.20.2.2" => "Microsoft Smartcard Login",
        "1.3.6.1.4.1.311.2.1.21" => "Microsoft Individual Code Signing",
        "1.3.6.1.4.1.311.2.1.22" => "Microsoft Commercial Code Signing",
        "1.3.6.1.5.2.3.4" => "PKINIT Client Auth",
        "1.3.6.1.5.2.3.5" => "Signing KDC Response",
        _ => return None,
    })
}

fn authority_key_id_info(aki: &AuthorityKeyIdentifier<'_>) -> AuthorityKeyIdInfo {
    AuthorityKeyIdInfo {
        key_id: aki.key_identifier.as_ref().map(|k| colon_hex(k.0, true)),
        issuer: aki.authority_cert_issuer.as_ref().map(|names| {
            names
                .iter()
                .map(|g| match g {
                    GeneralName::DirectoryName(n) => name_info(n).text,
                    other => general_name_struct(other),
                })
                .collect::<Vec<_>>()
                .join(", ")
        }),
        serial: aki.authority_cert_serial.map(serial_string),
    }
}

fn authority_key_id_text(aki: &AuthorityKeyIdentifier<'_>) -> String {
    let mut lines = Vec::new();
    let more = aki.authority_cert_issuer.is_some() || aki.authority_cert_serial.is_some();
    if let Some(k) = &aki.key_identifier {
        let hex = colon_hex(k.0, true);
        lines.push(if more { format!("keyid:{hex}") } else { hex });
    }
    for g in aki.authority_cert_issuer.iter().flatten() {
        lines.push(general_name_list_item(g));
    }
    if let Some(serial) = aki.authority_cert_serial {
        let plain = serial_string(serial).to_ascii_uppercase();
        lines.push(format!("serial:{plain}"));
    }
    lines.join("\n")
}

fn crl_distribution_points(points: &CRLDistributionPoints<'_>) -> String {
    let mut blocks = Vec::new();
    for p in &points.points {
        let mut lines = Vec::new();
        match &p.distribution_point {
            Some(DistributionPointName::FullName(names)) => {
                lines.push("Full Name:".to_string());
                lines.extend(names.iter().map(|g| format!("  {}", general_name_print(g))));
            }
            Some(DistributionPointName::NameRelativeToCRLIssuer(rdn)) => {
                lines.push("Relative Name:".to_string());
                let parts: Vec<String> = rdn
                    .iter()
                    .map(|a| {
                        format!(
                            "{}={}",
                            attribute_short_name(a.attr_type()),
                            attribute_value(a.attr_value())
                        )
                    })
                    .collect();
                lines.push(format!("  {}", parts.join(" + ")));
            }
            None => {}
        }
        if let Some(issuer) = &p.crl_issuer {
            lines.push("CRL Issuer:".to_string());
            lines.extend(
                issuer
                    .iter()
                    .map(|g| format!("  {}", general_name_print(g))),
            );
        }
        blocks.push(lines.join("\n"));
    }
    blocks.join("\n\n")
}

fn access_descriptions(descs: &[AccessDescription<'_>]) -> String {
    descs
        .iter()
        .map(|d| {
            let id = d.access_method.to_id_string();
            let method = match id.as_str() {
                "1.3.6.1.5.5.7.48.1" => "OCSP",
                "1.3.6.1.5.5.7.48.2" => "CA Issuers",
                "1.3.6.1.5.5.7.48.3" => "AD Time Stamping",
                "1.3.6.1.5.5.7.48.5" => "CA Repository",
                other => other,
            };
            format!("{method} - {}", general_name_list_item(&d.access_location))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn certificate_policies(policies: &CertificatePolicies<'_>) -> String {
    let mut lines = Vec::new();
    for p in policies {
        let id = p.policy_id.to_id_string();
        if id == "2.5.29.32.0" {
            lines.push("Policy: X509v3 Any Policy".to_string());
        } else {
            lines.push(format!("Policy: {id}"));
        }
        for q in p.policy_qualifiers.iter().flatten() {
            let qid = q.policy_qualifier_id.to_id_string();
            if qid == "1.3.6.1.5.5.7.2.1" {
                let text = Any::from_der(q.qualifier)
                    .map(|(_, a)| String::from_utf8_lossy(a.data).into_owned())
                    .unwrap_or_else(|_| String::from_utf8_lossy(q.qualifier).into_owned());
                lines.push(format!("  CPS: {text}"));
            } else if qid == "1.3.6.1.5.5.7.2.2" {
                lines.push("  User Notice:".to_string());
            } else {
                lines.push(format!("  Unknown Qualifier: {qid}"));
            }
        }
    }
    lines.join("\n")
}

fn name_constraints(nc: &NameConstraints<'_>) -> String {
    let mut lines = Vec::new();
    for (head, subtrees) in [
        ("Permitted:", &nc.permitted_subtrees),
        ("Excluded:", &nc.excluded_subtrees),
    ] {
        if let Some(subtrees) = subtrees {
            lines.push(head.to_string());
            for st in subtrees {
                let v = match &st.base {
                    GeneralName::IPAddress(b) => format!("IP:{}", ip_constraint(b)),
                    other => general_name_print(other),
                };
                lines.push(format!("  {v}"));
            }
        }
    }
    lines.join("\n")
}

fn policy_constraints(pc: &PolicyConstraints) -> String {
    let mut parts = Vec::new();
    if let Some(n) = pc.require_explicit_policy {
        parts.push(format!("Require Explicit Policy:{n}"));
    }
    if let Some(n) = pc.inhibit_policy_mapping {
        parts.push(format!("Inhibit Policy Mapping:{n}"));
    }
    parts.join(", ")
}

fn policy_mappings(pm: &PolicyMappings<'_>) -> String {
    pm.mappings
        .iter()
        .map(|m| {
            format!(
                "{}:{}",
                m.issuer_domain_policy.to_id_string(),
                m.subject_domain_policy.to_id_string()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn ns_cert_type(t: &NSCertType) -> String {
    let flags: [(bool, &str); 7] = [
        (t.ssl_client(), "SSL Client"),
        (t.ssl_server(), "SSL Server"),
        (t.smime(), "S/MIME"),
        (t.object_signing(), "Object Signing"),
        (t.ssl_ca(), "SSL CA"),
        (t.smime_ca(), "S/MIME CA"),
        (t.object_signing_ca(), "Object Signing CA"),
    ];
    flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// openssl's rendering of an extension it cannot decode: printable ASCII kept, the rest as
/// `.`, 80 characters a line.
fn raw_dump(bytes: &[u8]) -> String {
    let chars: Vec<char> = bytes
        .iter()
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    chars
        .chunks(80)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
