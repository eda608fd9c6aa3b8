//! Certificate authorities: make a self-signed CA, load an existing one, sign CSRs under a
//! profile, issue key + certificate in one step. Every certificate is made by [`Ca::certify`],
//! which applies the signing policy ([`crate::pki::policy`]) and checks the CA first.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use const_oid::AssociatedOid;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName;

use super::algorithm::KeySpec;
use super::cert::{Certificate, TbsFields, sign_certificate};
use super::csr::Csr;
use super::error::{Error, Result};
use super::ext;
use super::key::{Key, key_identifier_of_spki};
use super::name::DistinguishedName;
use super::policy::issuer::IssuerFacts;
use super::policy::{self, NamePolicy, Request};
use super::profile::{AuthorityKeyId, CopyExtensions, PolicyRule, Profile};
use super::san::San;
use super::serial::Serial;

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
    /// What the CA certificate allows (validity, pathlen, keyCertSign, ...).
    facts: IssuerFacts,
    /// Names every certificate of this CA must stay within, on top of each call's.
    allowed_names: NamePolicy,
    /// The next serial when the CA numbers its certificates in sequence (an `openssl ca`
    /// directory); shared by the clones of this CA. `None`: random serials.
    numbering: Option<Arc<Mutex<Serial>>>,
}

/// A certificate just signed, with what the caller should be told about it (e.g. that its
/// notAfter was clamped to the CA's).
#[derive(Debug, Clone)]
pub struct Signed {
    /// The certificate.
    pub cert: Certificate,
    /// Notes for the user, one line each; empty when there is nothing to say.
    pub notes: Vec<String>,
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
    /// The SANs to write: given directly, or decoded and checked from the request.
    sans: &'a [San],
    serial: Option<&'a [u8]>,
}

/// The certificate's validity: from `now` (less the profile's backdate) to `not_after`.
#[derive(Clone, Copy)]
struct Window {
    now: SystemTime,
    not_after: SystemTime,
}

fn build(
    issuer: &Issuer<'_>,
    subject: Subject<'_>,
    profile: &Profile,
    window: Window,
) -> Result<Certificate> {
    let Window { now, not_after } = window;
    let not_before = now
        .checked_sub(Duration::from_secs(profile.backdate_seconds))
        .unwrap_or(now);
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
        // A self-signed certificate (it has no issuer of its own) names no authority key
        // unless asked `keyid:always`, as OpenSSL 3.0 writes it.
        AuthorityKeyId::KeyId if issuer.issuer_and_serial.is_none() => {}
        AuthorityKeyId::KeyId | AuthorityKeyId::KeyIdAlways => {
            exts.push(ext::authority_key_id(issuer.key_id, None)?);
        }
        AuthorityKeyId::KeyIdAndIssuer => {
            // A self-signed certificate (no issuer of its own yet) names itself: its issuer
            // name and its own serial, as openssl's `keyid:always,issuer:always` does.
            let pair = issuer
                .issuer_and_serial
                .unwrap_or((issuer.name_der, serial));
            exts.push(ext::authority_key_id(issuer.key_id, Some(pair))?);
        }
    }
    if !profile.crl_distribution_points.is_empty() {
        exts.push(ext::crl_distribution_points(
            &profile.crl_distribution_points,
        )?);
    }
    if !profile.ocsp.is_empty() || !profile.ca_issuers.is_empty() {
        exts.push(ext::authority_info_access(
            &profile.ocsp,
            &profile.ca_issuers,
        )?);
    }
    if let Some(nc) = &profile.name_constraints {
        // Critical, as RFC 5280 requires of a CA's nameConstraints.
        exts.push(ext::make(nc, true)?);
    }
    if subject.requested.is_empty() && !subject.sans.is_empty() {
        let critical = profile.san_critical.unwrap_or(subject.name.is_empty());
        exts.push(ext::subject_alt_name(subject.sans, critical)?);
    }
    copy_requested(&mut exts, subject.requested, subject.sans, profile)?;

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

/// Applies `copy_extensions` to the requested extensions (checked by the policy before). The
/// subjectAltName is written from the checked `sans`, never copied raw.
fn copy_requested(
    exts: &mut Vec<Extension>,
    requested: &[Extension],
    sans: &[San],
    profile: &Profile,
) -> Result<()> {
    for req in requested {
        let present = exts.iter().position(|e| e.extn_id == req.extn_id);
        let mut req = req.clone();
        if req.extn_id == SubjectAltName::OID {
            req = ext::subject_alt_name(sans, profile.san_critical.unwrap_or(req.critical))?;
        }
        match profile.copy_extensions {
            CopyExtensions::None => {}
            CopyExtensions::San => {
                if req.extn_id == SubjectAltName::OID && present.is_none() {
                    exts.push(req);
                }
            }
            CopyExtensions::Copy => {
                if present.is_none() {
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

/// The SANs a request's extensions put in the certificate under `profile` (none when the
/// profile copies nothing).
fn copied_sans(profile: &Profile, all: Vec<San>) -> Vec<San> {
    if profile.copy_extensions == CopyExtensions::None {
        Vec::new()
    } else {
        all
    }
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
    /// [`Profile::named`]`("ca")` or set basicConstraints yourself). The subject and the key
    /// pass the signing policy; `profile.signing.allowed_names` becomes the CA's own list.
    ///
    /// # Errors
    /// A policy refusal, or encoding or signing failure.
    pub fn self_signed(key: Key, subject: &DistinguishedName, profile: &Profile) -> Result<Self> {
        let now = SystemTime::now();
        policy::check_digest(&profile.signing, key.signature_algorithm())?;
        policy::check_request(
            &Request {
                subject,
                sans: &[],
                spki_der: key.public_key_der(),
                requested: &[],
                csr_signature: None,
            },
            profile,
            &NamePolicy::default(),
        )?;
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
            Window {
                now,
                not_after: now + profile.validity.duration(),
            },
        )?;
        let ca = Ca::assemble(cert, key, key_id, Some(now))?;
        Ok(ca.with_allowed_names(profile.signing.allowed_names.clone()))
    }

    /// Loads an existing CA from its certificate and key, refusing a key that does not belong
    /// to the certificate or a certificate that is not a CA.
    ///
    /// # Errors
    /// [`Error::KeyMismatch`] or [`Error::NotACa`].
    pub fn load(cert: Certificate, key: Key) -> Result<Self> {
        let cert_spki = cert.public_key_der()?;
        if let Some((cert_key, key_key)) = key.mismatch_with(&cert_spki) {
            return Err(Error::KeyMismatch { cert_key, key_key });
        }
        if !cert.is_ca() {
            return Err(Error::NotACa(cert.subject()?.to_string()));
        }
        let key_id = cert
            .subject_key_id()
            .unwrap_or_else(|| key_identifier_of_spki(&cert_spki));
        Ca::assemble(cert, key, key_id, None)
    }

    fn assemble(
        cert: Certificate,
        key: Key,
        key_id: Vec<u8>,
        made: Option<SystemTime>,
    ) -> Result<Self> {
        Ok(Ca {
            subject_der: cert.subject_der()?,
            subject: cert.subject()?,
            issuer_der: cert.issuer_der()?,
            facts: IssuerFacts::of(&cert, made)?,
            cert,
            key,
            key_id,
            allowed_names: NamePolicy::default(),
            numbering: None,
        })
    }

    /// This CA numbering what it signs in sequence from `next`, as `openssl ca` does with its
    /// `serial` file (a call that names its own serial keeps it). Clones share the counter.
    ///
    /// # Errors
    /// A zero serial (RFC 5280 4.1.2.2: positive).
    pub fn numbered_from(mut self, next: Serial) -> Result<Self> {
        if next.is_zero() {
            return Err(Error::Signing(
                "the next serial is 00; RFC 5280 serials are positive".into(),
            ));
        }
        self.numbering = Some(Arc::new(Mutex::new(next)));
        Ok(self)
    }

    /// Checks, without signing, that this CA would sign under `profile` now: the checks
    /// [`Ca::sign`] makes of the CA itself (valid now, CA:TRUE, keyCertSign, pathlen, not
    /// outliving it unless the profile clamps or allows it). A dry run plans with it.
    ///
    /// # Errors
    /// [`Error::CaRefused`] for the first rule the CA breaks.
    pub fn check_can_sign(&self, profile: &Profile) -> Result<()> {
        let now = SystemTime::now();
        self.facts
            .check(profile, now, now + profile.validity.duration())
            .map(|_| ())
    }

    /// Whether this CA numbers what it signs in sequence ([`Ca::numbered_from`]): a call that
    /// names no serial then takes the next one.
    #[must_use]
    pub fn numbers_in_sequence(&self) -> bool {
        self.numbering.is_some()
    }

    /// This CA restricted to `names`: every certificate it signs must stay within them (and
    /// within the signing call's own `allowed_names`).
    #[must_use]
    pub fn with_allowed_names(mut self, names: NamePolicy) -> Self {
        self.allowed_names = names;
        self
    }

    /// The names this CA signs, if restricted.
    #[must_use]
    pub fn allowed_names(&self) -> &NamePolicy {
        &self.allowed_names
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

    /// The one path every certificate this CA signs goes through: the request passes the
    /// signing policy, the CA is checked, then the certificate is built and signed.
    fn certify(
        &self,
        req: Request<'_>,
        serial: Option<&[u8]>,
        profile: &Profile,
    ) -> Result<Signed> {
        policy::check_digest(&profile.signing, self.key.signature_algorithm())?;
        policy::check_request(&req, profile, &self.allowed_names)?;
        self.facts.check_names(req.sans)?;
        let now = SystemTime::now();
        let (not_after, note) =
            self.facts
                .check(profile, now, now + profile.validity.duration())?;
        // Taken after every check, so a refused request uses no number.
        let numbered = match (serial, &self.numbering) {
            (None, Some(next)) => {
                let mut next = next
                    .lock()
                    .map_err(|_| Error::Signing("the CA's serial counter is unusable".into()))?;
                let taken = next.clone();
                *next = taken.next();
                Some(taken)
            }
            _ => None,
        };
        let serial = numbered.as_ref().map(Serial::as_bytes).or(serial);
        let cert = build(
            &self.issuer(),
            Subject {
                name: req.subject.clone(),
                spki_der: req.spki_der,
                requested: req.requested,
                sans: req.sans,
                serial,
            },
            profile,
            Window { now, not_after },
        )?;
        Ok(Signed {
            cert,
            notes: note.into_iter().collect(),
        })
    }

    /// Certifies `spki_der` for `subject` and `sans` with the `requested` extensions (copied
    /// as `profile.copy_extensions` says), through the signing policy and the CA's checks.
    ///
    /// # Errors
    /// A policy refusal, a CA that may not sign it, or encoding/signing failure.
    pub(crate) fn certify_request(
        &self,
        subject: &DistinguishedName,
        sans: &[San],
        spki_der: &[u8],
        requested: &[Extension],
        profile: &Profile,
    ) -> Result<Signed> {
        self.certify(
            Request {
                subject,
                sans,
                spki_der,
                requested,
                csr_signature: None,
            },
            None,
            profile,
        )
    }

    /// Signs a (verified) CSR under `profile`: the subject passes the subject policy, the
    /// request the signing policy, requested extensions are copied as
    /// `profile.copy_extensions` says.
    ///
    /// # Errors
    /// A policy refusal, a CA that may not sign it, or encoding/signing failure.
    pub fn sign(&self, csr: &Csr, profile: &Profile) -> Result<Signed> {
        self.sign_with_serial(csr, profile, None)
    }

    /// [`Ca::sign`] with a serial chosen by the caller (bulk issuance makes serials unique by
    /// construction); `None` draws a random one.
    ///
    /// # Errors
    /// A policy refusal, a CA that may not sign it, or encoding/signing failure.
    pub fn sign_with_serial(
        &self,
        csr: &Csr,
        profile: &Profile,
        serial: Option<&[u8]>,
    ) -> Result<Signed> {
        let subject = apply_policy(csr.subject()?, &profile.policy, &self.subject)?;
        let sans = copied_sans(profile, policy::requested_sans(csr.extensions())?);
        let csr_signature = csr.signature_algorithm_oid();
        self.certify(
            Request {
                subject: &subject,
                sans: &sans,
                spki_der: csr.public_key_der(),
                requested: csr.extensions(),
                csr_signature: Some(csr_signature),
            },
            serial,
            profile,
        )
    }

    /// Issues a certificate for an existing public key (DER SPKI) with the given subject and
    /// SANs, without a CSR round trip.
    ///
    /// # Errors
    /// A policy refusal, a CA that may not sign it, or encoding/signing failure.
    pub fn issue_for(
        &self,
        spki_der: &[u8],
        subject: &DistinguishedName,
        sans: &[San],
        profile: &Profile,
    ) -> Result<Signed> {
        self.issue_for_with_serial(spki_der, subject, sans, profile, None)
    }

    /// [`Ca::issue_for`] with a serial chosen by the caller; `None` draws a random one.
    ///
    /// # Errors
    /// A policy refusal, a CA that may not sign it, or encoding/signing failure.
    pub fn issue_for_with_serial(
        &self,
        spki_der: &[u8],
        subject: &DistinguishedName,
        sans: &[San],
        profile: &Profile,
        serial: Option<&[u8]>,
    ) -> Result<Signed> {
        let subject = apply_policy(subject.clone(), &profile.policy, &self.subject)?;
        self.certify(
            Request {
                subject: &subject,
                sans,
                spki_der,
                requested: &[],
                csr_signature: None,
            },
            serial,
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
    ) -> Result<(Key, Signed)> {
        let key = Key::generate(spec)?;
        let signed = self.issue_for(key.public_key_der(), subject, sans, profile)?;
        Ok((key, signed))
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
            .unwrap()
            .cert;
        let info = inspect_cert_der(cert.der()).unwrap();
        assert_eq!(info.version, 1);
        assert!(info.extensions.is_empty());
        let v3 = ca
            .issue_for(key.public_key_der(), &subject, &[], &Profile::default())
            .unwrap()
            .cert;
        assert_eq!(inspect_cert_der(v3.der()).unwrap().version, 3);
    }
}
