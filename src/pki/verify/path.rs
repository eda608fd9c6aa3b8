//! Path building: from the certificate verified up to a trust anchor, depth first, trying
//! each candidate issuer in turn (trusted ones first, then those whose subjectKeyIdentifier
//! matches the authorityKeyIdentifier) and backtracking when one fails.

use super::constraints;
use super::error::VerifyError;
use super::name::presented_names;
use super::parsed::Parsed;
use super::purpose;
use super::{MAX_CANDIDATES, MAX_DEPTH, VerifyOptions, check_validity};
use crate::pki::cert::Certificate;
use x509_cert::ext::pkix::KeyUsages;

/// The most name-versus-subtree comparisons one CA's name constraints may cost (OpenSSL's
/// bound, 2^20).
const MAX_NAME_CHECKS: usize = 1 << 20;

/// A certificate that may issue: trusted (a trust anchor) or not.
struct Node<'a> {
    trusted: bool,
    parsed: Result<Parsed<'a>, VerifyError>,
    subject_der: Option<Vec<u8>>,
}

/// The search state: the pool of candidate issuers and the candidates tried so far.
struct Search<'a, 'o> {
    pool: Vec<Node<'a>>,
    opts: &'o VerifyOptions,
    tried: usize,
    leaf_subject: String,
}

/// A chain from `leaf` to one of `trusted`, the leaf first.
///
/// # Errors
/// When every path fails: the failure met on the first one.
pub(super) fn build<'a>(
    leaf: Parsed<'a>,
    trusted: &'a [Certificate],
    untrusted: &'a [Certificate],
    opts: &VerifyOptions,
) -> Result<Vec<Parsed<'a>>, VerifyError> {
    let mut pool: Vec<Node<'a>> = Vec::with_capacity(trusted.len() + untrusted.len());
    for (cert, is_trusted) in trusted
        .iter()
        .map(|c| (c, true))
        .chain(untrusted.iter().map(|c| (c, false)))
    {
        if pool.iter().any(|n| n.cert() == Some(cert)) || (!is_trusted && trusted.contains(cert)) {
            continue;
        }
        pool.push(Node {
            trusted: is_trusted,
            subject_der: cert.subject_der().ok(),
            parsed: Parsed::new(cert),
        });
    }
    let mut search = Search {
        pool,
        opts,
        tried: 0,
        leaf_subject: leaf.subject.clone(),
    };
    let mut path = vec![0usize];
    let leaf_node = Node {
        trusted: false,
        subject_der: Some(leaf.subject_der.clone()),
        parsed: Ok(leaf),
    };
    search.pool.push(leaf_node);
    let leaf_index = search.pool.len() - 1;
    path[0] = leaf_index;
    search.extend(&mut path)?;
    let mut pool: Vec<Option<Parsed<'a>>> =
        search.pool.into_iter().map(|n| n.parsed.ok()).collect();
    Ok(path
        .into_iter()
        .filter_map(|i| pool.get_mut(i).and_then(Option::take))
        .collect())
}

impl<'a> Node<'a> {
    fn cert(&self) -> Option<&'a Certificate> {
        self.parsed.as_ref().ok().map(|p| p.cert)
    }
}

impl Search<'_, '_> {
    fn parsed(&self, index: usize) -> Option<&Parsed<'_>> {
        self.pool.get(index).and_then(|n| n.parsed.as_ref().ok())
    }

    /// Extends `path` (indexes into the pool, the leaf first) to a trust anchor.
    fn extend(&mut self, path: &mut Vec<usize>) -> Result<(), VerifyError> {
        let Some(current) = path.last().and_then(|&i| self.parsed(i)) else {
            return Err(self.internal());
        };
        let issuer_der = current.issuer_der.clone();
        let aki = current.authority_key_id.clone();
        let current_subject = current.subject.clone();
        let current_cert = current.cert;
        let mut candidates: Vec<usize> = (0..self.pool.len())
            .filter(|i| !path.contains(i))
            .filter(|&i| self.pool[i].subject_der.as_deref() == Some(issuer_der.as_slice()))
            .collect();
        // Trust anchors first, then issuers whose key identifier the certificate names.
        candidates.sort_by_key(|&i| {
            let node = &self.pool[i];
            let ski = node
                .parsed
                .as_ref()
                .ok()
                .and_then(|p| p.subject_key_id.clone());
            let key_mismatch = matches!((&aki, &ski), (Some(a), Some(s)) if a != s);
            (!node.trusted, key_mismatch)
        });
        if candidates.is_empty() {
            return Err(VerifyError::NoIssuer {
                subject: current_subject,
                issuer: current_cert
                    .issuer()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|_| "?".into()),
            });
        }
        let mut first = None;
        for candidate in candidates {
            self.tried += 1;
            if self.tried > MAX_CANDIDATES {
                return Err(VerifyError::TooManyCandidates {
                    subject: self.leaf_subject.clone(),
                    tried: MAX_CANDIDATES,
                });
            }
            if path.len() >= MAX_DEPTH {
                return Err(VerifyError::TooLong {
                    subject: self.leaf_subject.clone(),
                    max: MAX_DEPTH,
                });
            }
            let outcome = self.link(path, candidate).and_then(|()| {
                path.push(candidate);
                if self.pool[candidate].trusted {
                    return Ok(());
                }
                let deeper = self.extend(path);
                if deeper.is_err() {
                    path.pop();
                }
                deeper
            });
            match outcome {
                Ok(()) => return Ok(()),
                Err(e @ (VerifyError::TooManyCandidates { .. } | VerifyError::TooLong { .. })) => {
                    return Err(e);
                }
                Err(e) => {
                    first.get_or_insert(e);
                }
            }
        }
        Err(first.unwrap_or_else(|| self.internal()))
    }

    /// Whether the pool's certificate `candidate` may issue the last certificate of `path`:
    /// its signature, then the candidate's own validity, CA status, keyCertSign, pathlen,
    /// extendedKeyUsage (for a purpose) and name constraints over the whole path below it.
    fn link(&self, path: &[usize], candidate: usize) -> Result<(), VerifyError> {
        let node = &self.pool[candidate];
        let issuer = node.parsed.as_ref().map_err(Clone::clone)?;
        let below: Vec<&Parsed<'_>> = path.iter().filter_map(|&i| self.parsed(i)).collect();
        let Some(issued) = below.last() else {
            return Err(self.internal());
        };
        if !issued.cert.is_signed_by(issuer.cert) {
            return Err(VerifyError::BadSignature {
                subject: issued.subject.clone(),
                issuer: issuer.subject.clone(),
            });
        }
        check_validity(issuer, self.opts.at)?;
        if !node.trusted {
            issuer.check_serial()?;
        }
        if !issuer.is_ca() {
            return Err(VerifyError::NotCa {
                subject: issuer.subject.clone(),
                issued: issued.subject.clone(),
            });
        }
        if let Some(ku) = &issuer.key_usage
            && !ku.0.contains(KeyUsages::KeyCertSign)
        {
            return Err(VerifyError::NoCertSign {
                subject: issuer.subject.clone(),
            });
        }
        if issued.authority_key_id.is_none() {
            return Err(VerifyError::InvalidExtension {
                subject: issued.subject.clone(),
                extension: "authorityKeyIdentifier",
                rule: "missing or without keyIdentifier (RFC 5280 4.2.1.1: required unless self-signed)"
                    .into(),
            });
        }
        if issuer.subject_key_id.is_none() {
            return Err(VerifyError::InvalidExtension {
                subject: issuer.subject.clone(),
                extension: "subjectKeyIdentifier",
                rule: "missing in a CA certificate (RFC 5280 4.2.1.2)".into(),
            });
        }
        if issuer.subject_name.is_empty() {
            return Err(VerifyError::NonConforming {
                subject: issuer.subject.clone(),
                rule: format!(
                    "a CA with an empty subject issued `{}` (RFC 5280 4.1.2.4)",
                    issued.subject
                ),
            });
        }
        // RFC 5280 6.1.4 (l)/(m): intermediates below, self-issued ones excluded.
        let intermediates = below.iter().skip(1).filter(|c| !c.self_issued).count();
        if let Some(pathlen) = issuer
            .basic_constraints
            .as_ref()
            .and_then(|bc| bc.path_len_constraint)
            && intermediates > usize::from(pathlen)
        {
            return Err(VerifyError::PathLength {
                subject: issuer.subject.clone(),
                pathlen,
                below: intermediates,
            });
        }
        if let Some(purpose) = self.opts.purpose
            && !node.trusted
        {
            purpose::check_eku(issuer, purpose)?;
        }
        if let Some(nc) = &issuer.name_constraints {
            constraints::validate(nc).map_err(|rule| VerifyError::InvalidExtension {
                subject: issuer.subject.clone(),
                extension: "nameConstraints",
                rule,
            })?;
            // RFC 5280 6.1.3 (b): self-issued intermediates are not constrained.
            let constrained: Vec<(&Parsed<'_>, Vec<_>)> = below
                .iter()
                .enumerate()
                .filter(|(depth, cert)| *depth == 0 || !cert.self_issued)
                .map(|(depth, cert)| (*cert, presented_names(cert, depth == 0)))
                .collect();
            let names: usize = constrained.iter().map(|(_, n)| n.len()).sum();
            let subtrees = nc.permitted_subtrees.as_ref().map_or(0, Vec::len)
                + nc.excluded_subtrees.as_ref().map_or(0, Vec::len);
            if names.saturating_mul(subtrees) > MAX_NAME_CHECKS {
                return Err(VerifyError::TooManyNameChecks {
                    ca: issuer.subject.clone(),
                    names,
                    subtrees,
                    max: MAX_NAME_CHECKS,
                });
            }
            for (cert, presented) in constrained {
                for name in presented {
                    constraints::check(nc, &name).map_err(|violation| {
                        VerifyError::NameConstraint {
                            subject: cert.subject.clone(),
                            name: name.to_string(),
                            ca: issuer.subject.clone(),
                            reason: violation.to_string(),
                        }
                    })?;
                }
            }
        }
        Ok(())
    }

    /// A path index that does not resolve: a bug, reported rather than panicking.
    fn internal(&self) -> VerifyError {
        VerifyError::Malformed {
            subject: self.leaf_subject.clone(),
            reason: "internal error: path building lost a certificate".into(),
        }
    }
}
