//! Revocation by CRL, as `openssl verify -crl_check` does it: the certificate's issuer must have
//! published a CRL among those given (signed by that issuer, current at the verification time),
//! and the certificate's serial must not be on it. CAs higher in the chain are checked too when
//! a CRL of their issuer is given (as `-crl_check_all` would, without requiring one).

use std::time::SystemTime;

use super::VerifyError;
use super::parsed::Parsed;
use crate::pki::cert::rfc3339;
use crate::pki::crl::Crl;
use crate::pki::serial::Serial;

/// Checks `chain` (the certificate first, the trust anchor last) against `crls`.
///
/// # Errors
/// The certificate's issuer has no usable CRL, a CRL is not current, or a certificate of the
/// chain is revoked.
pub(super) fn check(chain: &[Parsed<'_>], crls: &[Crl], at: SystemTime) -> Result<(), VerifyError> {
    for (depth, pair) in chain.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let crl = crls
            .iter()
            .find(|crl| crl.verify_signature(issuer.cert).is_ok());
        let Some(crl) = crl else {
            if depth == 0 {
                return Err(VerifyError::NoCrl {
                    subject: cert.subject.clone(),
                    issuer: issuer.subject.clone(),
                });
            }
            continue;
        };
        if crl.this_update() > at {
            return Err(VerifyError::CrlNotYetValid {
                issuer: issuer.subject.clone(),
                this_update: rfc3339(crl.this_update()),
                at: rfc3339(at),
            });
        }
        if let Some(next) = crl.next_update().filter(|next| *next < at) {
            return Err(VerifyError::CrlExpired {
                issuer: issuer.subject.clone(),
                next_update: rfc3339(next),
                at: rfc3339(at),
            });
        }
        let serial = Serial::from_bytes(cert.cert.serial());
        let found = crl.find(&serial).map_err(|e| VerifyError::BadCrl {
            issuer: issuer.subject.clone(),
            reason: e.to_string(),
        })?;
        if let Some(revoked) = found.filter(|r| r.date <= at) {
            return Err(VerifyError::Revoked {
                subject: cert.subject.clone(),
                serial: serial.to_hex(),
                date: rfc3339(revoked.date),
                reason: revoked
                    .reason
                    .map_or_else(|| "no reason given".to_string(), |r| r.to_string()),
            });
        }
    }
    Ok(())
}
