//! Checks of the files a re-run keeps: a kept certificate must parse, be issued by this CA
//! and say what the spec asks; a kept key must parse and match its certificate.

use crate::pki::{Ca, Certificate, Key};

use super::{BatchSpec, Error};

/// What a run keeps in place of issuing: the certificate at `cert_path` (`cert_pem`) and its
/// key at `key_path` (`key_pem`, `None` when it is missing) must still say what `spec` asks
/// under `ca`. Keys are written first, so a certificate without its key means the key was
/// removed: a new key is never certified under an old certificate silently.
///
/// # Errors
/// [`Error::Kept`] naming the file that cannot be kept and why.
pub(super) fn check_kept(
    ca: &Ca,
    spec: &BatchSpec,
    (cert_path, cert_pem): (&str, &[u8]),
    (key_path, key_pem): (&str, Option<&[u8]>),
) -> Result<Certificate, Error> {
    let kept = |path: &str, reason: String| Error::Kept {
        path: path.to_string(),
        reason,
    };
    let key_pem =
        key_pem.ok_or_else(|| kept(cert_path, format!("its key `{key_path}` is missing")))?;
    let cert = check_pair(ca, spec, cert_pem, None).map_err(|r| kept(cert_path, r))?;
    check_key(&cert, key_pem).map_err(|r| kept(key_path, r))?;
    Ok(cert)
}

/// Why a file found in the output cannot be kept (the [`super::Error::Kept`] reason).
pub(super) fn check_pair(
    ca: &Ca,
    spec: &BatchSpec,
    cert_pem: &[u8],
    key_pem: Option<&[u8]>,
) -> Result<Certificate, String> {
    let cert =
        Certificate::from_pem(cert_pem).map_err(|e| format!("certificate does not parse: {e}"))?;
    if !cert.is_signed_by(ca.cert()) {
        return Err("certificate is not issued by this CA".into());
    }
    match cert.subject() {
        Ok(subject) if subject == spec.subject => {}
        Ok(subject) => {
            return Err(format!(
                "subject differs: has `{subject}`, asked `{}`",
                spec.subject
            ));
        }
        Err(e) => return Err(format!("subject does not parse: {e}")),
    }
    let mut has = cert.sans();
    let mut asked = spec.sans.clone();
    has.sort_by_key(ToString::to_string);
    asked.sort_by_key(ToString::to_string);
    if has != asked {
        let list = |s: &[crate::pki::San]| {
            s.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "SANs differ: has `{}`, asked `{}`",
            list(&has),
            list(&asked)
        ));
    }
    if let Some(pem) = key_pem {
        check_key(&cert, pem)?;
    }
    Ok(cert)
}

/// A kept key parses and is the private key of `cert`.
pub(super) fn check_key(cert: &Certificate, key_pem: &[u8]) -> Result<(), String> {
    let key = Key::from_pem(key_pem).map_err(|e| format!("key does not parse: {e}"))?;
    if crate::pki::verify::key_matches(cert, &key) {
        Ok(())
    } else {
        Err("key does not match the certificate".into())
    }
}
