//! Certificate authorities: make a self-signed CA, load an existing one, sign CSRs under a
//! profile, issue key + certificate in one step.

use std::time::{Duration, SystemTime};

use const_oid::AssociatedOid;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};

use super::algorithm::KeySpec;
use super::cert::{Certificate, TbsFields, sign_certificate};
use super::csr::Csr;
use super::error::{Error, Result};
use super::ext;
use super::key::{Key, key_identifier_of_spki};
use super::name::DistinguishedName;
use super::profile::{AuthorityKeyId, CopyExtensions, PolicyRule, Profile};
use super::san::San;

/// A CA: its certificate and the private key that signs with it. `Debug` hides the key.
#[derive(Debug, Clone)]
pub struct Ca {
    cert: Certificate,
    key: Key,
    key_id: Vec<u8>,
    /// The certificate's subject as DER (the issuer of everything it signs) and parsed (for
    /// `match` policies), its own issuer DER and serial: computed once, used per certificate.
    subject_der: Vec<u8>,
    subject: DistinguishedName,
    issuer_der: Vec<u8>,
}

/// A fresh random serial number: 16 bytes (126 bits of randomness), positive, never zero.
///
/// # Errors
/// The operating system's random source failed.
pub fn random_serial() -> Result<[u8; 16]> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::Signing(format!("no randomness: {e}")))?;
    b[0] = (b[0] & 0x7f) | 0x01;
    Ok(b)
}

/// An issuer's issuer name (DER) and serial, for authorityKeyIdentifier `issuer:always`.
type IssuerAndSerial<'a> = Option<(&'a [u8], &'a [u8])>;

/// Who signs: the issuer's name, key identifier and (for `keyid,issuer:always`) its own issuer
/// and serial.
struct Issuer<'a> {
    name_der: &'a [u8],
    key: &'a Key,
    key_id: &'a [u8],
    issuer_and_serial: IssuerAndSerial<'a>,
}

/// Subject, key, requested extensions and (optionally) serial of the certificate to make.
struct Subject<'a> {
    name: DistinguishedName,
    spki_der: &'a [u8],
    requested: &'a [Extension],
    sans: &'a [San],
    serial: Option<&'a [u8]>,
}

fn build(issuer: &Issuer<'_>, subject: Subject<'_>, profile: &Profile) -> Result<Certificate> {
    let now = SystemTime::now();
    let not_before = now
        .checked_sub(Duration::from_secs(profile.backdate_seconds))
        .unwrap_or(now);
    let not_after = now + profile.validity.duration();
    let subject_der = subject.name.to_der()?;
    let random;
    let serial = match subject.serial {
        Some(s) => s,
        None => {
            random = random_serial()?;
            &random[..]
        }
    };

    let mut exts: Vec<Extension> = Vec::new();
    if let Some(bc) = &profile.basic_constraints {
        exts.push(ext::basic_constraints(bc)?);
    }
    if !profile.key_usage.is_empty() {
        exts.push(ext::key_usage(
            &profile.key_usage,
            profile.key_usage_critical,
        )?);
    }
    if !profile.ext_key_usage.is_empty() {
        exts.push(ext::ext_key_usage(
            &profile.ext_key_usage,
            profile.ext_key_usage_critical,
        )?);
    }
    if profile.subject_key_id {
        exts.push(ext::subject_key_id(&key_identifier_of_spki(
            subject.spki_der,
        ))?);
    }
    match profile.authority_key_id {
        AuthorityKeyId::None => {}
        AuthorityKeyId::KeyId => exts.push(ext::authority_key_id(issuer.key_id, None)?),
        AuthorityKeyId::KeyIdAndIssuer => {
            // A self-signed certificate (no issuer of its own yet) names itself: its issuer
            // name and its own serial, as openssl's `keyid:always,issuer:always` does.
            let pair = issuer
                .issuer_and_serial
                .unwrap_or((issuer.name_der, serial));
            exts.push(ext::authority_key_id(issuer.key_id, Some(pair))?);
        }
    }
    if !subject.sans.is_empty() {
        let critical = profile.san_critical.unwrap_or(subject.name.is_empty());
        exts.push(ext::subject_alt_name(subject.sans, critical)?);
    }
    copy_requested(&mut exts, subject.requested, profile)?;

    sign_certificate(
        TbsFields {
            serial,
            issuer_der: issuer.name_der,
            subject_der: &subject_der,
            spki_der: subject.spki_der,
            not_before,
            not_after,
            extensions: exts,
        },
        issuer.key,
    )
}

/// Applies `copy_extensions` to the requested extensions. A request for `CA:TRUE` is never
/// copied: it is refused, because a leaf profile must not mint CAs.
fn copy_requested(
    exts: &mut Vec<Extension>,
    requested: &[Extension],
    profile: &Profile,
) -> Result<()> {
    for req in requested {
        if req.extn_id == BasicConstraints::OID
            && profile.copy_extensions != CopyExtensions::None
            && !profile.basic_constraints.is_some_and(|b| b.ca)
        {
            let asks_ca = der::Decode::from_der(req.extn_value.as_bytes())
                .is_ok_and(|bc: BasicConstraints| bc.ca);
            if asks_ca {
                return Err(Error::Policy(
                    "the request asks for CA:TRUE and the profile does not issue CAs".into(),
                ));
            }
        }
        let present = exts.iter().position(|e| e.extn_id == req.extn_id);
        let mut req = req.clone();
        match profile.copy_extensions {
            CopyExtensions::None => {}
            CopyExtensions::San => {
                if req.extn_id == SubjectAltName::OID && present.is_none() {
                    if let Some(c) = profile.san_critical {
                        req.critical = c;
                    }
                    exts.push(req);
                }
            }
            CopyExtensions::Copy => {
                if present.is_none() {
                    if req.extn_id == SubjectAltName::OID {
                        if let Some(c) = profile.san_critical {
                            req.critical = c;
                        }
                    }
                    exts.push(req);
                }
            }
            CopyExtensions::CopyAll => match present {
                Some(i) => exts[i] = req,
                None => exts.push(req),
            },
        }
    }
    Ok(())
}

/// Applies an openssl-style subject policy: checks `supplied`/`match` and keeps only the
/// policy's fields, in the policy's order (openssl's default, `preserve = no`).
fn apply_policy(
    subject: DistinguishedName,
    policy: &[(String, PolicyRule)],
    ca_subject: &DistinguishedName,
) -> Result<DistinguishedName> {
    if policy.is_empty() {
        return Ok(subject);
    }
    let mut out = DistinguishedName::new();
    for (field, rule) in policy {
        let values = subject.get_all(field);
        match rule {
            PolicyRule::Supplied if values.is_empty() => {
                return Err(Error::Policy(format!(
                    "the subject must supply `{field}` (subject: {subject})"
                )));
            }
            PolicyRule::Match => {
                let want = ca_subject.get_all(field);
                if values != want {
                    return Err(Error::Policy(format!(
                        "`{field}` must match the CA's ({}), got {}",
                        want.join(", "),
                        if values.is_empty() {
                            "nothing".to_string()
                        } else {
                            values.join(", ")
                        }
                    )));
                }
            }
            _ => {}
        }
        for v in values {
            out.push(field, v)?;
        }
    }
    Ok(out)
}

impl Ca {
    /// Makes a self-signed CA certificate for `key` with `subject` under `profile` (use
    /// [`Profile::named`]`("ca")` or set basicConstraints yourself).
    ///
    /// # Errors
    /// Encoding or signing failure.
    pub fn self_signed(key: Key, subject: &DistinguishedName, profile: &Profile) -> Result<Self> {
        let name_der = subject.to_der()?;
        let key_id = key.key_identifier();
        let cert = build(
            &Issuer {
                name_der: &name_der,
                key: &key,
                key_id: &key_id,
                issuer_and_serial: None,
            },
            Subject {
                name: subject.clone(),
                spki_der: key.public_key_der(),
                requested: &[],
                sans: &[],
                serial: None,
            },
            // A self-signed certificate's AKI names itself (keyid; with issuer:always also its
            // own name and serial, see `build`).
            profile,
        )?;
        Ca::assemble(cert, key, key_id)
    }

    /// Loads an existing CA from its certificate and key, refusing a key that does not belong
    /// to the certificate or a certificate that is not a CA.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] or [`Error::NotACa`].
    pub fn load(cert: Certificate, key: Key) -> Result<Self> {
        let cert_spki = cert.public_key_der()?;
        if cert_spki != key.public_key_der() {
            let cert_key = super::PublicKey::from_spki_der(&cert_spki)
                .map_or_else(|_| "unknown".to_string(), |k| k.describe());
            let key_key = if cert_key == key.describe() {
                format!("another {} key", key.describe())
            } else {
                key.describe()
            };
            return Err(Error::KeyMismatch { cert_key, key_key });
        }
        if !cert.is_ca() {
            return Err(Error::NotACa(cert.subject()?.to_string()));
        }
        let key_id = cert
            .subject_key_id()
            .unwrap_or_else(|| key_identifier_of_spki(&cert_spki));
        Ca::assemble(cert, key, key_id)
    }

    fn assemble(cert: Certificate, key: Key, key_id: Vec<u8>) -> Result<Self> {
        Ok(Ca {
            subject_der: cert.subject_der()?,
            subject: cert.subject()?,
            issuer_der: cert.issuer_der()?,
            cert,
            key,
            key_id,
        })
    }

    /// The CA certificate.
    #[must_use]
    pub fn cert(&self) -> &Certificate {
        &self.cert
    }

    /// The CA's private key.
    #[must_use]
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The CA's subject (the issuer name of what it signs) and, for `keyid,issuer:always`, its
    /// own issuer name and serial.
    fn issuer(&self) -> Issuer<'_> {
        Issuer {
            name_der: &self.subject_der,
            key: &self.key,
            key_id: &self.key_id,
            issuer_and_serial: Some((&self.issuer_der, self.cert.serial())),
        }
    }

    /// Signs a (verified) CSR under `profile`: the subject passes the policy, requested
    /// extensions are copied as `profile.copy_extensions` says.
    ///
    /// # Errors
    /// A policy refusal, or encoding/signing failure.
    pub fn sign(&self, csr: &Csr, profile: &Profile) -> Result<Certificate> {
        self.sign_with_serial(csr, profile, None)
    }

    /// [`Ca::sign`] with a serial chosen by the caller (bulk issuance makes serials unique by
    /// construction); `None` draws a random one.
    ///
    /// # Errors
    /// A policy refusal, or encoding/signing failure.
    pub fn sign_with_serial(
        &self,
        csr: &Csr,
        profile: &Profile,
        serial: Option<&[u8]>,
    ) -> Result<Certificate> {
        let subject = apply_policy(csr.subject()?, &profile.policy, &self.subject)?;
        build(
            &self.issuer(),
            Subject {
                name: subject,
                spki_der: csr.public_key_der(),
                requested: csr.extensions(),
                sans: &[],
                serial,
            },
            profile,
        )
    }

    /// Issues a certificate for an existing public key (DER SPKI) with the given subject and
    /// SANs, without a CSR round trip.
    ///
    /// # Errors
    /// A policy refusal, or encoding/signing failure.
    pub fn issue_for(
        &self,
        spki_der: &[u8],
        subject: &DistinguishedName,
        sans: &[San],
        profile: &Profile,
    ) -> Result<Certificate> {
        self.issue_for_with_serial(spki_der, subject, sans, profile, None)
    }

    /// [`Ca::issue_for`] with a serial chosen by the caller; `None` draws a random one.
    ///
    /// # Errors
    /// A policy refusal, or encoding/signing failure.
    pub fn issue_for_with_serial(
        &self,
        spki_der: &[u8],
        subject: &DistinguishedName,
        sans: &[San],
        profile: &Profile,
        serial: Option<&[u8]>,
    ) -> Result<Certificate> {
        let subject = apply_policy(subject.clone(), &profile.policy, &self.subject)?;
        build(
            &self.issuer(),
            Subject {
                name: subject,
                spki_der,
                requested: &[],
                sans,
                serial,
            },
            profile,
        )
    }

    /// Generates a key and issues its certificate in one step (cfssl `gencert`).
    ///
    /// # Errors
    /// Key generation, policy, encoding or signing failure.
    pub fn issue(
        &self,
        spec: KeySpec,
        subject: &DistinguishedName,
        sans: &[San],
        profile: &Profile,
    ) -> Result<(Key, Certificate)> {
        let key = Key::generate(spec)?;
        let cert = self.issue_for(key.public_key_der(), subject, sans, profile)?;
        Ok((key, cert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::inspect::inspect_cert_der;

    fn p256() -> Key {
        Key::generate(KeySpec::new("ecdsa", 256).unwrap()).unwrap()
    }

    #[test]
    fn self_signed_issuer_always_names_its_own_name_and_serial() {
        let subject = DistinguishedName::parse("/CN=10.0.0.1@1700000000").unwrap();
        let profile = Profile {
            authority_key_id: AuthorityKeyId::KeyIdAndIssuer,
            ..Profile::named("ca").unwrap()
        };
        let ca = Ca::self_signed(p256(), &subject, &profile).unwrap();
        let info = inspect_cert_der(ca.cert().der()).unwrap();
        let aki = info.authority_key_id.unwrap();
        assert_eq!(aki.key_id, info.subject_key_id);
        assert_eq!(aki.issuer.as_deref(), Some("CN = 10.0.0.1@1700000000"));
        assert_eq!(aki.serial, Some(info.serial));
    }

    #[test]
    fn a_certificate_without_extensions_is_v1() {
        let ca = Ca::self_signed(
            p256(),
            &DistinguishedName::parse("/CN=ca").unwrap(),
            &Profile::named("ca").unwrap(),
        )
        .unwrap();
        let bare = Profile {
            subject_key_id: false,
            authority_key_id: AuthorityKeyId::None,
            ..Profile::default()
        };
        let key = p256();
        let subject = DistinguishedName::parse("/CN=dm").unwrap();
        let cert = ca
            .issue_for(key.public_key_der(), &subject, &[], &bare)
            .unwrap();
        let info = inspect_cert_der(cert.der()).unwrap();
        assert_eq!(info.version, 1);
        assert!(info.extensions.is_empty());
        let v3 = ca
            .issue_for(key.public_key_der(), &subject, &[], &Profile::default())
            .unwrap();
        assert_eq!(inspect_cert_der(v3.der()).unwrap().version, 3);
    }
}
