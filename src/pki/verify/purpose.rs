//! TLS purposes (`openssl verify -purpose sslserver|sslclient`): what extendedKeyUsage and
//! keyUsage must allow on the certificate verified, and extendedKeyUsage on the CAs above it.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280;
use x509_cert::ext::pkix::KeyUsages;

use super::error::VerifyError;
use super::parsed::Parsed;

/// A TLS purpose (`openssl verify -purpose sslserver|sslclient`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `sslserver`: extendedKeyUsage serverAuth (if present); keyUsage digitalSignature,
    /// keyEncipherment or keyAgreement (if present).
    TlsServer,
    /// `sslclient`: extendedKeyUsage clientAuth (if present); keyUsage digitalSignature or
    /// keyAgreement (if present).
    TlsClient,
}

impl Purpose {
    /// Parses `server`/`sslserver`/`serverAuth` or `client`/`sslclient`/`clientAuth`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "server" | "sslserver" | "serverAuth" => Some(Purpose::TlsServer),
            "client" | "sslclient" | "clientAuth" => Some(Purpose::TlsClient),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Purpose::TlsServer => "TLS server",
            Purpose::TlsClient => "TLS client",
        }
    }

    fn eku(self) -> (ObjectIdentifier, &'static str) {
        match self {
            Purpose::TlsServer => (rfc5280::ID_KP_SERVER_AUTH, "serverAuth"),
            Purpose::TlsClient => (rfc5280::ID_KP_CLIENT_AUTH, "clientAuth"),
        }
    }
}

/// The certificate verified: its extendedKeyUsage (if any) must list the purpose or
/// anyExtendedKeyUsage, its keyUsage (if any) a usage the purpose needs.
pub(super) fn check_leaf(cert: &Parsed<'_>, purpose: Purpose) -> Result<(), VerifyError> {
    check_eku(cert, purpose)?;
    let (usable, names) = match purpose {
        Purpose::TlsServer => (
            KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment | KeyUsages::KeyAgreement,
            "digitalSignature, keyEncipherment or keyAgreement",
        ),
        Purpose::TlsClient => (
            KeyUsages::DigitalSignature | KeyUsages::KeyAgreement,
            "digitalSignature or keyAgreement",
        ),
    };
    if let Some(ku) = &cert.key_usage
        && (ku.0 & usable).is_empty()
    {
        return Err(refuse(
            cert,
            purpose,
            format!("keyUsage has none of {names}"),
        ));
    }
    Ok(())
}

/// A CA: its extendedKeyUsage, if present, must list the purpose or anyExtendedKeyUsage (as
/// OpenSSL checks every certificate of the chain).
pub(super) fn check_eku(cert: &Parsed<'_>, purpose: Purpose) -> Result<(), VerifyError> {
    let (wanted, name) = purpose.eku();
    if let Some(eku) = &cert.ext_key_usage
        && !eku
            .0
            .iter()
            .any(|oid| *oid == wanted || *oid == rfc5280::ANY_EXTENDED_KEY_USAGE)
    {
        let presented: Vec<String> = eku.0.iter().map(eku_name).collect();
        return Err(refuse(
            cert,
            purpose,
            format!(
                "extendedKeyUsage lacks {name} (it has {})",
                presented.join(", ")
            ),
        ));
    }
    Ok(())
}

fn refuse(cert: &Parsed<'_>, purpose: Purpose, reason: String) -> VerifyError {
    VerifyError::Purpose {
        subject: cert.subject.clone(),
        purpose: purpose.name(),
        reason,
    }
}

/// openssl's short name of an extended key usage, or its OID.
fn eku_name(oid: &ObjectIdentifier) -> String {
    const NAMES: [(ObjectIdentifier, &str); 6] = [
        (rfc5280::ID_KP_SERVER_AUTH, "serverAuth"),
        (rfc5280::ID_KP_CLIENT_AUTH, "clientAuth"),
        (rfc5280::ID_KP_CODE_SIGNING, "codeSigning"),
        (rfc5280::ID_KP_EMAIL_PROTECTION, "emailProtection"),
        (rfc5280::ID_KP_TIME_STAMPING, "timeStamping"),
        (rfc5280::ID_KP_OCSP_SIGNING, "OCSPSigning"),
    ];
    NAMES
        .iter()
        .find(|(o, _)| o == oid)
        .map_or_else(|| oid.to_string(), |(_, n)| (*n).to_owned())
}
