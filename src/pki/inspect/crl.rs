//! What a CRL says: issuer, dates, number, revoked serials with their dates and reasons (what
//! `openssl crl -noout -text` shows), read with the core's own CRL parser.

use std::fmt::Write as _;

use serde::Serialize;
use x509_parser::asn1_rs::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::NameInfo;
use super::name::name_info;
use super::public_key::signature_algorithm_name;
use super::validity::openssl_time;
use crate::pki::cert::rfc3339;
use crate::pki::crl::Crl;
use crate::pki::error::{Error, Result};

/// One revoked certificate of a CRL.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RevokedInfo {
    /// Its serial, uppercase hex as `openssl crl -text` prints it.
    pub serial: String,
    /// When it was revoked, RFC 3339 UTC.
    pub date: String,
    /// The reason code's name (`keyCompromise`), if the entry gives one.
    pub reason: Option<String>,
}

/// What a certificate revocation list says.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CrlInfo {
    /// The X.509 CRL version as people count it (2 for v2).
    pub version: u8,
    /// openssl's name of the signature algorithm.
    pub signature_algorithm: String,
    /// The CA that issued the CRL.
    pub issuer: NameInfo,
    /// thisUpdate, RFC 3339 UTC.
    pub this_update: String,
    /// nextUpdate, RFC 3339 UTC, if given.
    pub next_update: Option<String>,
    /// The CRL number, decimal, if given.
    pub number: Option<String>,
    /// The authority key identifier, uppercase hex with colons.
    pub authority_key_id: Option<String>,
    /// The revoked certificates, in CRL order.
    pub revoked: Vec<RevokedInfo>,
}

/// Inspects one DER CRL.
///
/// # Errors
/// [`Error::InvalidCertificate`]-style error naming the CRL when the DER is not a CRL.
pub fn inspect_crl_der(der: &[u8]) -> Result<CrlInfo> {
    let bad = |e: &dyn std::fmt::Display| Error::Pem(format!("not a valid CRL: {e}"));
    let crl = Crl::from_der(der).map_err(|e| bad(&e))?;
    let (_, parsed) = CertificateRevocationList::from_der(der).map_err(|e| bad(&e))?;
    let revoked = crl
        .revoked()
        .map_err(|e| bad(&e))?
        .into_iter()
        .map(|r| RevokedInfo {
            serial: r.serial.to_hex(),
            date: rfc3339(r.date),
            reason: r.reason.map(|reason| reason.to_string()),
        })
        .collect();
    Ok(CrlInfo {
        version: crl.version(),
        signature_algorithm: signature_algorithm_name(&parsed.signature_algorithm.algorithm),
        issuer: name_info(parsed.issuer()),
        this_update: rfc3339(crl.this_update()),
        next_update: crl.next_update().map(rfc3339),
        number: crl
            .number()
            .map_err(|e| bad(&e))?
            .map(|n| decimal(n.as_bytes())),
        authority_key_id: crl
            .authority_key_id()
            .map_err(|e| bad(&e))?
            .map(|id| crate::pki::colon_hex(&id, true)),
        revoked,
    })
}

/// A big-endian unsigned integer in decimal (CRL numbers are small; wider ones print in hex).
fn decimal(bytes: &[u8]) -> String {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.len() > 16 {
        return format!("0x{}", hex::encode_upper(trimmed));
    }
    trimmed
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
        .to_string()
}

impl CrlInfo {
    /// Renders the CRL like `openssl crl -noout -text` (without the signature dump).
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::from("Certificate Revocation List (CRL):\n");
        let _ = writeln!(
            s,
            "        Version {} (0x{:x})",
            self.version,
            self.version.saturating_sub(1)
        );
        let _ = writeln!(
            s,
            "        Signature Algorithm: {}",
            self.signature_algorithm
        );
        let _ = writeln!(s, "        Issuer: {}", self.issuer.text);
        let _ = writeln!(
            s,
            "        Last Update: {}",
            openssl_time(&self.this_update)
        );
        match &self.next_update {
            Some(next) => {
                let _ = writeln!(s, "        Next Update: {}", openssl_time(next));
            }
            None => s.push_str("        Next Update: NONE\n"),
        }
        if self.authority_key_id.is_some() || self.number.is_some() {
            s.push_str("        CRL extensions:\n");
        }
        if let Some(aki) = &self.authority_key_id {
            let _ = writeln!(
                s,
                "            X509v3 Authority Key Identifier: \n                {aki}"
            );
        }
        if let Some(number) = &self.number {
            let _ = writeln!(
                s,
                "            X509v3 CRL Number: \n                {number}"
            );
        }
        if self.revoked.is_empty() {
            s.push_str("No Revoked Certificates.\n");
        } else {
            s.push_str("Revoked Certificates:\n");
            for r in &self.revoked {
                let _ = writeln!(s, "    Serial Number: {}", r.serial);
                let _ = writeln!(s, "        Revocation Date: {}", openssl_time(&r.date));
                if let Some(reason) = &r.reason {
                    let _ = writeln!(
                        s,
                        "        CRL entry extensions:\n            X509v3 CRL Reason Code: \n                {reason}"
                    );
                }
            }
        }
        s
    }
}
