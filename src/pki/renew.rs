//! Renewal: a certificate issued again by the same CA with a new serial and validity, keeping
//! its subject, every SAN and every extension (custom ones too); the key identifiers are
//! computed anew, the key kept unless the caller gives a new one.

use std::time::Duration;

use const_oid::{AssociatedOid, ObjectIdentifier};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints as X509BasicConstraints, SubjectKeyIdentifier,
};

use super::ca::{Ca, Signed};
use super::cert::Certificate;
use super::error::Result;
use super::profile::{AuthorityKeyId, BasicConstraints, CopyExtensions, Profile, Validity};

/// subjectKeyIdentifier and authorityKeyIdentifier: written anew, never copied.
const KEY_IDS: [ObjectIdentifier; 2] = [SubjectKeyIdentifier::OID, AuthorityKeyIdentifier::OID];

impl Ca {
    /// Re-issues `cert` for `validity` (its own length when `None`) with the public key
    /// `spki_der` (its own when `None`), keeping subject, SANs and every extension but the key
    /// identifiers. It goes through the same checks as any signature: a renewal that would
    /// outlive the CA is refused unless `clamp_to_ca`.
    ///
    /// # Errors
    /// A certificate that cannot be read, or the signing policy's and the CA's refusals.
    pub fn renew(
        &self,
        cert: &Certificate,
        validity: Option<Validity>,
        spki_der: Option<&[u8]>,
        clamp_to_ca: bool,
    ) -> Result<Signed> {
        let own_length = cert
            .not_after()
            .duration_since(cert.not_before())
            .unwrap_or(Duration::ZERO);
        let has = |oid: ObjectIdentifier| cert.extensions().iter().any(|e| e.extn_id == oid);
        let mut profile = Profile {
            validity: match validity {
                Some(v) => v,
                None => Validity::seconds(i64::try_from(own_length.as_secs()).unwrap_or(i64::MAX))?,
            },
            basic_constraints: cert
                .decoded_extension::<X509BasicConstraints>()
                .map_err(|e| super::Error::InvalidCertificate(format!("basicConstraints: {e}")))?
                .map(|(critical, bc)| BasicConstraints {
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                    critical,
                }),
            key_usage: Vec::new(),
            ext_key_usage: Vec::new(),
            subject_key_id: has(KEY_IDS[0]),
            authority_key_id: if has(KEY_IDS[1]) {
                AuthorityKeyId::KeyId
            } else {
                AuthorityKeyId::None
            },
            copy_extensions: CopyExtensions::CopyAll,
            ..Profile::default()
        };
        profile.signing.clamp_to_ca = clamp_to_ca;
        let requested: Vec<_> = cert
            .extensions()
            .iter()
            .filter(|e| !KEY_IDS.contains(&e.extn_id))
            .cloned()
            .collect();
        let own_spki = cert.public_key_der()?;
        let subject = cert.subject()?;
        let sans = cert.sans();
        self.certify_request(
            &subject,
            &sans,
            spki_der.unwrap_or(&own_spki),
            &requested,
            &profile,
        )
    }
}
