//! Certificate revocation lists: build a v2 CRL signed by a CA (from its issuance database or a
//! list of revoked serials) and parse one back, with its signature checked against a CA
//! certificate.

use std::time::{Duration, SystemTime};

use const_oid::AssociatedOid;
use der::asn1::{AnyRef, BitString, BitStringRef, Uint};
use der::{Decode, Encode, Sequence};
use thiserror::Error;
use x509_cert::Version;
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, CrlNumber, CrlReason};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::algorithm::SignatureAlgorithm;
use super::ca::Ca;
use super::cert::{Certificate, x509_time};
use super::error::Error;
use super::ext;
use super::index::{Database, Entry};
use super::key::key_identifier_of_spki;
use super::name::DistinguishedName;
use super::pem;
use super::pubkey::PublicKey;
use super::reason::Reason;
use super::serial::Serial;

/// What can go wrong building, parsing or checking a CRL.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrlError {
    /// Input that is not a CRL.
    #[error("invalid CRL: {0}")]
    Invalid(String),
    /// The CRL names another issuer than the CA it is checked against.
    #[error("CRL issuer `{crl_issuer}` is not the CA `{ca_subject}`")]
    WrongIssuer {
        /// The CRL's issuer.
        crl_issuer: String,
        /// The CA certificate's subject.
        ca_subject: String,
    },
    /// The signature does not verify with the CA's key.
    #[error("CRL signature does not verify with the key of CA `{0}`")]
    BadSignature(String),
    /// A failure in the PKI core (encoding, signing, a malformed CA certificate).
    #[error(transparent)]
    Pki(#[from] Error),
}

impl From<der::Error> for CrlError {
    fn from(e: der::Error) -> Self {
        CrlError::Pki(Error::from(e))
    }
}

/// One revoked certificate in a CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Its serial number.
    pub serial: Serial,
    /// When it was revoked (to the second).
    pub date: SystemTime,
    /// Why, if a reason is given.
    pub reason: Option<Reason>,
}

impl Revoked {
    /// The revocation an `index.txt` entry records, or `None` for an entry that is not revoked.
    #[must_use]
    pub fn of_entry(entry: &Entry) -> Option<Revoked> {
        entry.revocation().map(|r| Revoked {
            serial: entry.serial().clone(),
            date: r.date().to_system_time(),
            reason: r.reason(),
        })
    }
}

/// When a CRL is issued, until when it is good, and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlParams {
    /// thisUpdate.
    pub this_update: SystemTime,
    /// nextUpdate is thisUpdate plus this (openssl's `-crldays` / `-crlhours`).
    pub next_update_after: Duration,
    /// The CRL number (from `crlnumber`); RFC 5280 requires one in a conforming CRL.
    pub number: Serial,
}

impl CrlParams {
    /// A CRL issued now, good for `days` days and `hours` hours, with this number.
    #[must_use]
    pub fn new(days: u64, hours: u64, number: Serial) -> CrlParams {
        CrlParams {
            this_update: SystemTime::now(),
            next_update_after: Duration::from_secs(days * 86_400 + hours * 3_600),
            number,
        }
    }
}

/// The outer CRL structure, with the TBS kept as its exact bytes for signature checks.
#[derive(Sequence)]
struct SignedParts<'a> {
    tbs: AnyRef<'a>,
    algorithm: AnyRef<'a>,
    signature: BitStringRef<'a>,
}

/// A parsed CRL, kept with its exact DER.
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    parsed: CertificateList,
}

impl PartialEq for Crl {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Crl {
    /// Builds and signs a v2 CRL for `ca` listing `revoked` (sorted by serial, as openssl
    /// sorts them), with the CRL number and an authorityKeyIdentifier (the CA's key id). A
    /// reason of `unspecified` is left out of the entry, as RFC 5280 (5.3.1) asks.
    ///
    /// # Errors
    /// [`CrlError::Invalid`] for a validity that does not fit a CRL; encoding or signing
    /// failure.
    pub fn build(ca: &Ca, revoked: &[Revoked], params: &CrlParams) -> Result<Crl, CrlError> {
        let ca_cert = ca.cert();
        let key_id = ca_cert.subject_key_id().map_or_else(
            || ca_cert.public_key_der().map(|d| key_identifier_of_spki(&d)),
            Ok,
        )?;
        let next_update = params
            .this_update
            .checked_add(params.next_update_after)
            .filter(|n| *n > params.this_update)
            .ok_or_else(|| {
                CrlError::Invalid("nextUpdate must be after thisUpdate (days or hours > 0)".into())
            })?;

        let mut sorted: Vec<&Revoked> = revoked.iter().collect();
        sorted.sort_by(|a, b| a.serial.cmp(&b.serial));
        let mut entries: Vec<RevokedCert> = Vec::with_capacity(sorted.len());
        for r in sorted {
            let reason_ext = match r.reason {
                None | Some(Reason::Unspecified) => None,
                Some(reason) => Some(vec![ext::make(&reason.to_x509(), false)?]),
            };
            entries.push(RevokedCert {
                serial_number: SerialNumber::new(&serial_der_bytes(&r.serial))?,
                revocation_date: x509_time(r.date)?,
                crl_entry_extensions: reason_ext,
            });
        }

        let alg: SignatureAlgorithm = ca.key().signature_algorithm();
        let alg_der = alg.to_der()?;
        let tbs = TbsCertList {
            version: Version::V2,
            signature: AlgorithmIdentifierOwned::from_der(&alg_der)?,
            issuer: Name::from_der(&ca_cert.subject_der()?)?,
            this_update: x509_time(params.this_update)?,
            next_update: Some(x509_time(next_update)?),
            revoked_certificates: (!entries.is_empty()).then_some(entries),
            crl_extensions: Some(vec![
                ext::authority_key_id(&key_id, None)?,
                ext::make(
                    &CrlNumber(Uint::new(&serial_der_bytes(&params.number))?),
                    false,
                )?,
            ]),
        };
        let tbs_der = tbs.to_der()?;
        let signature = ca.key().sign(&tbs_der)?;
        let parsed = CertificateList {
            tbs_cert_list: tbs,
            signature_algorithm: AlgorithmIdentifierOwned::from_der(&alg_der)?,
            signature: BitString::from_bytes(&signature)?,
        };
        Crl::from_der(&parsed.to_der()?)
    }

    /// [`Crl::build`] from the revoked entries of an issuance database (what `openssl ca
    /// -gencrl` lists).
    ///
    /// # Errors
    /// See [`Crl::build`].
    pub fn from_database(ca: &Ca, db: &Database, params: &CrlParams) -> Result<Crl, CrlError> {
        let revoked: Vec<Revoked> = db.revoked().filter_map(Revoked::of_entry).collect();
        Crl::build(ca, &revoked, params)
    }

    /// Parses DER.
    ///
    /// # Errors
    /// [`CrlError::Invalid`].
    pub fn from_der(der: &[u8]) -> Result<Crl, CrlError> {
        let parsed =
            CertificateList::from_der(der).map_err(|e| CrlError::Invalid(e.to_string()))?;
        Ok(Crl {
            der: der.to_vec(),
            parsed,
        })
    }

    /// Parses the first `X509 CRL` block of PEM text.
    ///
    /// # Errors
    /// Malformed PEM, no CRL block, or [`CrlError::Invalid`].
    pub fn from_pem(text: &[u8]) -> Result<Crl, CrlError> {
        Crl::from_der(&pem::first_block(text, "X509 CRL", "CRL")?)
    }

    /// The DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM text (`-----BEGIN X509 CRL-----`).
    #[must_use]
    pub fn pem(&self) -> String {
        pem::encode("X509 CRL", &self.der)
    }

    fn tbs(&self) -> &TbsCertList {
        &self.parsed.tbs_cert_list
    }

    /// The version number as printed by openssl (`2` for a v2 CRL).
    #[must_use]
    pub fn version(&self) -> u8 {
        match self.tbs().version {
            Version::V1 => 1,
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    /// The issuer's exact DER.
    ///
    /// # Errors
    /// Never for a parsed CRL.
    pub fn issuer_der(&self) -> Result<Vec<u8>, CrlError> {
        Ok(self.tbs().issuer.to_der()?)
    }

    /// The issuer as a [`DistinguishedName`].
    ///
    /// # Errors
    /// Never for a parsed CRL.
    pub fn issuer(&self) -> Result<DistinguishedName, CrlError> {
        Ok(DistinguishedName::from_der(&self.issuer_der()?)?)
    }

    /// thisUpdate.
    #[must_use]
    pub fn this_update(&self) -> SystemTime {
        self.tbs().this_update.to_system_time()
    }

    /// nextUpdate, if the CRL has one.
    #[must_use]
    pub fn next_update(&self) -> Option<SystemTime> {
        self.tbs().next_update.map(|t| t.to_system_time())
    }

    fn extension(&self, oid: const_oid::ObjectIdentifier) -> Option<&Extension> {
        self.tbs()
            .crl_extensions
            .as_ref()
            .and_then(|exts| exts.iter().find(|e| e.extn_id == oid))
    }

    /// The CRL number, if present.
    ///
    /// # Errors
    /// [`CrlError::Invalid`] for an undecodable CRL number extension.
    pub fn number(&self) -> Result<Option<Serial>, CrlError> {
        self.extension(CrlNumber::OID)
            .map(|e| {
                CrlNumber::from_der(e.extn_value.as_bytes())
                    .map(|n| Serial::from_bytes(n.0.as_bytes()))
                    .map_err(|e| CrlError::Invalid(format!("CRL number: {e}")))
            })
            .transpose()
    }

    /// The key identifier of the authorityKeyIdentifier extension, if present.
    ///
    /// # Errors
    /// [`CrlError::Invalid`] for an undecodable extension.
    pub fn authority_key_id(&self) -> Result<Option<Vec<u8>>, CrlError> {
        let Some(e) = self.extension(AuthorityKeyIdentifier::OID) else {
            return Ok(None);
        };
        let aki = AuthorityKeyIdentifier::from_der(e.extn_value.as_bytes())
            .map_err(|e| CrlError::Invalid(format!("authorityKeyIdentifier: {e}")))?;
        Ok(aki.key_identifier.map(|k| k.as_bytes().to_vec()))
    }

    /// The revoked certificates, in CRL order.
    ///
    /// # Errors
    /// [`CrlError::Invalid`] for an undecodable reason code.
    pub fn revoked(&self) -> Result<Vec<Revoked>, CrlError> {
        let Some(list) = &self.tbs().revoked_certificates else {
            return Ok(Vec::new());
        };
        list.iter()
            .map(|rc| {
                let reason = rc
                    .crl_entry_extensions
                    .iter()
                    .flatten()
                    .find(|e| e.extn_id == CrlReason::OID)
                    .map(|e| {
                        CrlReason::from_der(e.extn_value.as_bytes())
                            .map(Reason::from_x509)
                            .map_err(|e| CrlError::Invalid(format!("reason code: {e}")))
                    })
                    .transpose()?;
                Ok(Revoked {
                    serial: Serial::from_bytes(rc.serial_number.as_bytes()),
                    date: rc.revocation_date.to_system_time(),
                    reason,
                })
            })
            .collect()
    }

    /// The entry for `serial`, if the CRL revokes it.
    ///
    /// # Errors
    /// See [`Crl::revoked`].
    pub fn find(&self, serial: &Serial) -> Result<Option<Revoked>, CrlError> {
        Ok(self.revoked()?.into_iter().find(|r| &r.serial == serial))
    }

    /// Checks that `ca` issued this CRL: its subject is the CRL's issuer and its key verifies
    /// the signature.
    ///
    /// # Errors
    /// [`CrlError::WrongIssuer`] or [`CrlError::BadSignature`].
    pub fn verify_signature(&self, ca: &Certificate) -> Result<(), CrlError> {
        let ca_subject = ca.subject_der()?;
        if ca_subject != self.issuer_der()? {
            return Err(CrlError::WrongIssuer {
                crl_issuer: self.issuer()?.to_string(),
                ca_subject: ca.subject()?.to_string(),
            });
        }
        let bad = || {
            CrlError::BadSignature(
                ca.subject()
                    .map_or_else(|_| "?".to_string(), |s| s.to_string()),
            )
        };
        let parts =
            SignedParts::from_der(&self.der).map_err(|e| CrlError::Invalid(e.to_string()))?;
        let tbs = parts.tbs.to_der()?;
        let alg =
            SignatureAlgorithm::from_oid(self.parsed.signature_algorithm.oid).ok_or_else(|| {
                CrlError::Invalid(format!(
                    "unsupported signature algorithm `{}`",
                    self.parsed.signature_algorithm.oid
                ))
            })?;
        let signature = parts.signature.as_bytes().ok_or_else(bad)?;
        let key = PublicKey::from_spki_der(&ca.public_key_der()?)?;
        if key.verify(alg, &tbs, signature) {
            Ok(())
        } else {
            Err(bad())
        }
    }
}

/// A serial's bytes for a DER INTEGER (`[0]` for zero; the encoder adds the sign byte).
fn serial_der_bytes(serial: &Serial) -> Vec<u8> {
    if serial.is_zero() {
        vec![0]
    } else {
        serial.as_bytes().to_vec()
    }
}
