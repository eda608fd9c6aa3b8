//! Signing profiles: key usage, extended key usage, basic constraints, validity, criticality,
//! extension copying, subject policy and signing policy, and the named presets (`server`, `client`, `peer`,
//! `ca`). How openssl and cfssl spell these settings is parsed in [`crate::pki::config`].

use std::time::Duration;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280;
use x509_cert::ext::pkix::KeyUsages;

use super::error::{Error, Result};
use super::policy::SigningPolicy;

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
    /// `keyid`: the issuer's key identifier, left out of a self-signed certificate, as OpenSSL
    /// 3.0 does (openssl's and cfssl's default).
    #[default]
    KeyId,
    /// `keyid:always`: the issuer's key identifier, a self-signed certificate's too.
    KeyIdAlways,
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

    /// `seconds` seconds (a renewal keeps a certificate's own length).
    ///
    /// # Errors
    /// Zero or negative, or beyond year 9999.
    pub fn seconds(seconds: i64) -> Result<Self> {
        Self::checked(seconds, 1, "seconds")
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
    /// Allowed names and the named opt-outs of the signing policy.
    pub signing: SigningPolicy,
    /// Name constraints to write on the certificate (a CA), as a critical extension; the CA
    /// then refuses to sign names outside them.
    pub name_constraints: Option<x509_cert::ext::pkix::constraints::name::NameConstraints>,
    /// crlDistributionPoints: where relying parties fetch the issuer's CRL, one distribution
    /// point per URI (as openssl writes `URI:a, URI:b`); empty: no extension.
    pub crl_distribution_points: Vec<String>,
    /// authorityInfoAccess `OCSP` URIs (the issuer's OCSP responder).
    pub ocsp: Vec<String>,
    /// authorityInfoAccess `caIssuers` URIs (where the issuer's certificate is published).
    pub ca_issuers: Vec<String>,
}

/// Checks a URI for crlDistributionPoints or authorityInfoAccess: ASCII (an IA5String), no
/// spaces or control characters, with a scheme (`http://...`, `ldap://...`).
///
/// # Errors
/// [`Error::InvalidOption`] naming `field` and the URI.
pub fn check_uri(field: &str, uri: &str) -> Result<()> {
    let scheme_ok = uri.split_once(':').is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && !rest.is_empty()
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !scheme_ok || !uri.chars().all(|c| c.is_ascii_graphic()) {
        return Err(Error::InvalidOption {
            field: field.into(),
            reason: format!(
                "`{}` is not a URI (ASCII, no spaces, with a scheme: http://crl.example.test/ca.crl)",
                uri.escape_debug()
            ),
        });
    }
    Ok(())
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
            signing: SigningPolicy::default(),
            name_constraints: None,
            crl_distribution_points: Vec::new(),
            ocsp: Vec::new(),
            ca_issuers: Vec::new(),
        }
    }
}

impl Profile {
    /// A named built-in profile:
    /// - `server`: digitalSignature, keyEncipherment (critical); serverAuth; CA:FALSE
    /// - `client`: digitalSignature, keyEncipherment (critical); clientAuth; CA:FALSE
    /// - `peer`: like server with serverAuth and clientAuth (etcd members, CockroachDB nodes)
    /// - `ca`: keyCertSign, cRLSign, digitalSignature (critical); CA:TRUE critical; nothing
    ///   copied from a request (`copy_extensions` none, as openssl's `v3_ca` signs: a CA
    ///   certificate takes no names or usages a requester asks for)
    ///
    /// `stdlib/profiles.rhai` (`p::server(days)`, ...) is these presets with a validity.
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
