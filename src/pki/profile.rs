//! Signing profiles: key usage, extended key usage, basic constraints, validity, criticality,
//! extension copying and subject policy; the openssl and cfssl usage vocabularies.

use std::time::Duration;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280;
use x509_cert::ext::pkix::KeyUsages;

use super::error::{Error, Result};

/// Key usage names pkirun knows (openssl spelling; cfssl's spaced spelling works too).
pub const KNOWN_KEY_USAGES: &str = "digitalSignature, nonRepudiation, keyEncipherment, \
dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly; cfssl: signing, \
digital signature, content commitment, key encipherment, data encipherment, key agreement, \
cert sign, crl sign";

/// Extended key usage names pkirun knows.
pub const KNOWN_EXT_KEY_USAGES: &str = "serverAuth, clientAuth, codeSigning, emailProtection, \
timeStamping, OCSPSigning, anyExtendedKeyUsage; cfssl: server auth, client auth, code signing, \
email protection, s/mime, timestamping, ocsp signing, any";

/// The nine key usage bits, in RFC 5280 order: openssl's config name, the label
/// `openssl x509 -text` prints, the bit.
#[rustfmt::skip]
pub const KEY_USAGE_NAMES: [(&str, &str, KeyUsages); 9] = [
    ("digitalSignature", "Digital Signature", KeyUsages::DigitalSignature),
    ("nonRepudiation", "Non Repudiation", KeyUsages::NonRepudiation),
    ("keyEncipherment", "Key Encipherment", KeyUsages::KeyEncipherment),
    ("dataEncipherment", "Data Encipherment", KeyUsages::DataEncipherment),
    ("keyAgreement", "Key Agreement", KeyUsages::KeyAgreement),
    ("keyCertSign", "Certificate Sign", KeyUsages::KeyCertSign),
    ("cRLSign", "CRL Sign", KeyUsages::CRLSign),
    ("encipherOnly", "Encipher Only", KeyUsages::EncipherOnly),
    ("decipherOnly", "Decipher Only", KeyUsages::DecipherOnly),
];

/// Extended key usages: openssl's config name, the label `openssl x509 -text` prints, the OID.
#[rustfmt::skip]
pub const EXT_KEY_USAGE_NAMES: [(&str, &str, ObjectIdentifier); 7] = [
    ("serverAuth", "TLS Web Server Authentication", rfc5280::ID_KP_SERVER_AUTH),
    ("clientAuth", "TLS Web Client Authentication", rfc5280::ID_KP_CLIENT_AUTH),
    ("codeSigning", "Code Signing", rfc5280::ID_KP_CODE_SIGNING),
    ("emailProtection", "E-mail Protection", rfc5280::ID_KP_EMAIL_PROTECTION),
    ("timeStamping", "Time Stamping", rfc5280::ID_KP_TIME_STAMPING),
    ("OCSPSigning", "OCSP Signing", rfc5280::ID_KP_OCSP_SIGNING),
    ("anyExtendedKeyUsage", "Any Extended Key Usage", rfc5280::ANY_EXTENDED_KEY_USAGE),
];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Looks up a key usage by openssl or cfssl name (case, spaces, `-` and `_` ignored).
#[must_use]
pub fn key_usage_by_name(name: &str) -> Option<KeyUsages> {
    let n = normalise(name);
    let alias = match n.as_str() {
        "signing" => "digitalsignature",
        "contentcommitment" => "nonrepudiation",
        "certsign" => "keycertsign",
        "crlsign" => "crlsign",
        other => other,
    };
    KEY_USAGE_NAMES
        .iter()
        .find(|(k, _, _)| normalise(k) == alias)
        .map(|(_, _, v)| *v)
}

/// Looks up an extended key usage by openssl or cfssl name, or a dotted OID.
#[must_use]
pub fn ext_key_usage_by_name(name: &str) -> Option<ObjectIdentifier> {
    let n = normalise(name);
    let alias = match n.as_str() {
        "s/mime" => "emailprotection",
        "any" => "anyextendedkeyusage",
        "timestamping" => "timestamping",
        other => other,
    };
    EXT_KEY_USAGE_NAMES
        .iter()
        .find(|(k, _, _)| normalise(k) == alias)
        .map(|(_, _, v)| *v)
        .or_else(|| {
            name.chars()
                .all(|c| c.is_ascii_digit() || c == '.')
                .then(|| ObjectIdentifier::new(name).ok())
                .flatten()
        })
}

/// The openssl name of a key usage bit.
#[must_use]
pub fn key_usage_name(ku: KeyUsages) -> &'static str {
    KEY_USAGE_NAMES
        .iter()
        .find(|(_, _, v)| *v == ku)
        .map_or("?", |(k, _, _)| k)
}

/// The openssl name of an extended key usage, or its dotted OID.
#[must_use]
pub fn ext_key_usage_name(oid: ObjectIdentifier) -> String {
    EXT_KEY_USAGE_NAMES
        .iter()
        .find(|(_, _, v)| *v == oid)
        .map_or_else(|| oid.to_string(), |(k, _, _)| (*k).to_string())
}

/// Key usages and extended key usages from one mixed list, as cfssl profiles write them
/// (`["signing", "key encipherment", "server auth"]`) or openssl's two lines joined. The word
/// `critical` anywhere in the list marks the key usage extension critical.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usages {
    /// Key usage bits, in the order given.
    pub key_usage: Vec<KeyUsages>,
    /// Extended key usage OIDs, in the order given.
    pub ext_key_usage: Vec<ObjectIdentifier>,
    /// Whether `critical` was in the list.
    pub critical: bool,
}

impl Usages {
    /// Sorts a mixed list into key usages and extended key usages.
    ///
    /// # Errors
    /// A name that is neither (reported as an unknown key usage).
    pub fn parse_mixed<S: AsRef<str>>(names: &[S]) -> Result<Self> {
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

    /// Parses a list that must be key usages only (plus `critical`).
    ///
    /// # Errors
    /// An unknown key usage name.
    pub fn parse_key_usage<S: AsRef<str>>(names: &[S]) -> Result<(Vec<KeyUsages>, bool)> {
        let mut out = Vec::new();
        let mut critical = false;
        for name in names {
            let name = name.as_ref();
            if name.trim().eq_ignore_ascii_case("critical") {
                critical = true;
            } else {
                out.push(
                    key_usage_by_name(name)
                        .ok_or_else(|| Error::UnknownKeyUsage(name.to_string()))?,
                );
            }
        }
        Ok((out, critical))
    }

    /// Parses a list that must be extended key usages only (plus `critical`).
    ///
    /// # Errors
    /// An unknown extended key usage name.
    pub fn parse_ext_key_usage<S: AsRef<str>>(
        names: &[S],
    ) -> Result<(Vec<ObjectIdentifier>, bool)> {
        let mut out = Vec::new();
        let mut critical = false;
        for name in names {
            let name = name.as_ref();
            if name.trim().eq_ignore_ascii_case("critical") {
                critical = true;
            } else {
                out.push(
                    ext_key_usage_by_name(name)
                        .ok_or_else(|| Error::UnknownExtKeyUsage(name.to_string()))?,
                );
            }
        }
        Ok((out, critical))
    }
}

/// basicConstraints as a profile asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasicConstraints {
    /// `CA:TRUE` or `CA:FALSE`.
    pub ca: bool,
    /// `pathlen:N`, only meaningful with `ca`.
    pub path_len: Option<u8>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

/// How the authorityKeyIdentifier extension is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthorityKeyId {
    /// Not written.
    None,
    /// `keyid`: the issuer's key identifier (openssl's and cfssl's default).
    #[default]
    KeyId,
    /// `keyid,issuer:always`: also the issuer's issuer name and serial (Kubernetes' csr.conf).
    KeyIdAndIssuer,
}

/// Which extensions requested in a CSR go into the certificate (openssl `copy_extensions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyExtensions {
    /// Nothing from the request; only the profile's extensions (openssl's default).
    None,
    /// Only the subjectAltName (cfssl's behaviour). pkirun's default.
    #[default]
    San,
    /// Requested extensions the profile does not set (openssl `copy`).
    Copy,
    /// Requested extensions replace the profile's (openssl `copyall`).
    CopyAll,
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

/// One rule of an openssl-style subject policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyRule {
    /// The field must be present in the request.
    Supplied,
    /// The field is kept if present.
    Optional,
    /// The field must equal the CA's.
    Match,
}

impl PolicyRule {
    /// Parses `supplied`, `optional`, `match`.
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
}

/// How long a certificate is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity(Duration);

impl Validity {
    /// `days` days (openssl `-days`).
    ///
    /// # Errors
    /// Zero or negative, or beyond year 9999.
    pub fn days(days: i64) -> Result<Self> {
        Self::checked(days, 86_400, "days")
    }

    /// `hours` hours (cfssl `expiry: "8760h"`).
    ///
    /// # Errors
    /// Zero or negative, or beyond year 9999.
    pub fn hours(hours: i64) -> Result<Self> {
        Self::checked(hours, 3_600, "hours")
    }

    fn checked(n: i64, unit: u64, what: &str) -> Result<Self> {
        if n <= 0 {
            return Err(Error::InvalidValidity(format!(
                "{what} must be positive, got {n}"
            )));
        }
        let secs = u64::try_from(n).unwrap_or(u64::MAX).saturating_mul(unit);
        if secs > 7_000 * 365 * 86_400 {
            return Err(Error::InvalidValidity(format!("{n} {what} is too long")));
        }
        Ok(Validity(Duration::from_secs(secs)))
    }

    /// Parses cfssl/Go durations (`8760h`, `90m`, `3600s`, `43800h`) and `30d`.
    ///
    /// # Errors
    /// Anything else.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || Error::InvalidValidity(format!("`{s}` (expected e.g. 8760h, 365d, 90m)"));
        let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
        let n: i64 = num.parse().map_err(|_| bad())?;
        match unit {
            "d" => Self::days(n),
            "h" => Self::hours(n),
            "m" => Self::checked(n, 60, "minutes"),
            "s" | "" => Self::checked(n, 1, "seconds"),
            _ => Err(bad()),
        }
    }

    /// The length.
    #[must_use]
    pub fn duration(self) -> Duration {
        self.0
    }
}

/// Everything a CA applies when it signs: which extensions, how critical, for how long, what it
/// copies from the request and what subject it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Validity period from the moment of signing.
    pub validity: Validity,
    /// basicConstraints, or `None` to leave it out.
    pub basic_constraints: Option<BasicConstraints>,
    /// Key usage bits (empty: no keyUsage extension).
    pub key_usage: Vec<KeyUsages>,
    /// Whether keyUsage is critical.
    pub key_usage_critical: bool,
    /// Extended key usages (empty: no extendedKeyUsage extension).
    pub ext_key_usage: Vec<ObjectIdentifier>,
    /// Whether extendedKeyUsage is critical.
    pub ext_key_usage_critical: bool,
    /// Write subjectKeyIdentifier (hash of the public key).
    pub subject_key_id: bool,
    /// How to write authorityKeyIdentifier.
    pub authority_key_id: AuthorityKeyId,
    /// Force the SAN's criticality; `None` keeps the request's (or, for names given directly,
    /// critical only when the subject is empty, as RFC 5280 asks).
    pub san_critical: Option<bool>,
    /// What to take from a CSR's requested extensions.
    pub copy_extensions: CopyExtensions,
    /// Subject policy (openssl `policy`): when not empty, the certificate's subject holds only
    /// these fields, in this order.
    pub policy: Vec<(String, PolicyRule)>,
    /// Seconds to move notBefore into the past (clock skew between nodes); 0 like openssl.
    pub backdate_seconds: u64,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            validity: Validity(Duration::from_secs(365 * 86_400)),
            basic_constraints: None,
            key_usage: Vec::new(),
            key_usage_critical: true,
            ext_key_usage: Vec::new(),
            ext_key_usage_critical: false,
            subject_key_id: true,
            authority_key_id: AuthorityKeyId::KeyId,
            san_critical: None,
            copy_extensions: CopyExtensions::San,
            policy: Vec::new(),
            backdate_seconds: 0,
        }
    }
}

impl Profile {
    /// A named built-in profile:
    /// - `server`: digitalSignature, keyEncipherment (critical); serverAuth; CA:FALSE
    /// - `client`: digitalSignature, keyEncipherment (critical); clientAuth; CA:FALSE
    /// - `peer`: like server with serverAuth and clientAuth (etcd members, CockroachDB nodes)
    /// - `ca`: keyCertSign, cRLSign, digitalSignature (critical); CA:TRUE critical
    ///
    /// # Errors
    /// Any other name.
    pub fn named(name: &str) -> Result<Self> {
        let leaf = |eku: Vec<ObjectIdentifier>| Profile {
            basic_constraints: Some(BasicConstraints {
                ca: false,
                path_len: None,
                critical: true,
            }),
            key_usage: vec![KeyUsages::DigitalSignature, KeyUsages::KeyEncipherment],
            ext_key_usage: eku,
            ..Profile::default()
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "server" => Ok(leaf(vec![rfc5280::ID_KP_SERVER_AUTH])),
            "client" => Ok(leaf(vec![rfc5280::ID_KP_CLIENT_AUTH])),
            "peer" => Ok(leaf(vec![
                rfc5280::ID_KP_SERVER_AUTH,
                rfc5280::ID_KP_CLIENT_AUTH,
            ])),
            "ca" => Ok(Profile {
                basic_constraints: Some(BasicConstraints {
                    ca: true,
                    path_len: None,
                    critical: true,
                }),
                key_usage: vec![
                    KeyUsages::DigitalSignature,
                    KeyUsages::KeyCertSign,
                    KeyUsages::CRLSign,
                ],
                copy_extensions: CopyExtensions::None,
                ..Profile::default()
            }),
            other => Err(Error::InvalidOption {
                field: "profile".into(),
                reason: format!("unknown profile `{other}` (built in: server, client, peer, ca)"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_and_cfssl_spellings_agree() {
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
        let (ku, crit) =
            Usages::parse_key_usage(&["critical", "digitalSignature", "keyCertSign", "cRLSign"])
                .unwrap();
        assert!(crit);
        assert_eq!(ku.len(), 3);
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
    fn validity_parses_cfssl_and_rejects_zero() {
        assert_eq!(
            Validity::parse("8760h").unwrap(),
            Validity::days(365).unwrap()
        );
        assert_eq!(
            Validity::days(0).unwrap_err().to_string(),
            "invalid validity: days must be positive, got 0"
        );
        assert!(Validity::parse("1y").is_err());
    }
}
