//! Drift: what an existing certificate or key no longer has of what a procedure now asks.
//!
//! A re-run of a procedure makes, in memory, the certificate it would write today (from the
//! key it keeps, under the same CA and profile) and compares it with the file that is there:
//! subject, SANs, every extension with its criticality, the key (type, size and identity), the
//! issuer (its name, and that the CA's key made the signature) and the validity length. Serial,
//! dates and key identifiers are not compared: they differ between any two issuances of the
//! same certificate. What differs is a list of [`Drift`]s; what a procedure does about them is
//! the user's [`Reissue`] choice.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::algorithm::{KeySpec, describe_spec};
use super::cert::Certificate;
use super::diff::{self, Aspect};
use super::error::{Error, Result};
use super::key::Key;

/// How far two validity lengths (or a notAfter and the CA's) may be apart and still be the
/// same request: the seconds between two signatures of one run, with room to spare.
const SLACK: Duration = Duration::from_secs(300);

/// What to do when a file a procedure would write exists and differs from what it asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reissue {
    /// Stop with one line naming the file and the fields (the default).
    #[default]
    Refuse,
    /// Re-issue what differs, keeping its key unless the key itself must change.
    Changed,
    /// Keep what exists and warn, one line per file.
    Never,
}

impl Reissue {
    /// Parses `refuse`, `changed` or `never` (what `--reissue` takes).
    ///
    /// # Errors
    /// Any other word.
    pub fn parse(word: &str) -> Result<Self> {
        match word {
            "refuse" => Ok(Reissue::Refuse),
            "changed" => Ok(Reissue::Changed),
            "never" => Ok(Reissue::Never),
            other => Err(Error::InvalidSetting {
                field: "reissue".into(),
                reason: format!("`{other}` is not one of refuse, changed, never"),
            }),
        }
    }
}

/// One field that differs between what is on disk and what is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The field, as a user names it: `subject`, `SAN`, `key`, `issuer`, `validity`, or an
    /// extension's name.
    pub field: String,
    /// What the existing file has (`absent` when it has none).
    pub has: String,
    /// What the procedure asks.
    pub asked: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} differs: has {}, asked {}",
            self.field, self.has, self.asked
        )
    }
}

/// Compares the certificate on disk, `existing`, with `wanted`, the one the procedure makes
/// now from the key it keeps. `issuer` is the CA that signs `wanted` (`None` for a
/// self-signed certificate, whose issuer is itself).
///
/// The validity counts as asked when its length is `wanted`'s, or when both end with the CA
/// (a certificate clamped to its CA's notAfter, or issued in the CA's own run with the CA's
/// lifetime).
///
/// # Errors
/// A certificate that cannot be read.
pub fn certificate_drift(
    existing: &Certificate,
    wanted: &Certificate,
    issuer: Option<&Certificate>,
) -> Result<Vec<Drift>> {
    let mut out = Vec::new();
    for d in diff::diff(existing.der(), wanted.der())? {
        // The validity is judged below, with the CA's notAfter in mind; a self-signed
        // certificate's issuer is its subject, named once.
        if d.aspect != Aspect::Content
            || d.field == "validity"
            || (issuer.is_none() && d.field == "issuer")
        {
            continue;
        }
        let field = field_name(&d.field);
        out.push(if field == "SAN" {
            list_drift(field, &d.a, &d.b)
        } else {
            Drift {
                field,
                has: d.a,
                asked: d.b,
            }
        });
    }
    if existing.public_key_der()? != wanted.public_key_der()? {
        out.push(Drift {
            field: "key".into(),
            has: "another key".into(),
            asked: "the procedure's key file".into(),
        });
    }
    let signer = issuer.unwrap_or(wanted);
    let issuer_named = !out.iter().any(|d| d.field == "issuer");
    if issuer_named && !existing.is_signed_by(signer) {
        out.push(Drift {
            field: "issuer".into(),
            has: "a signature by another key".into(),
            asked: "this CA's signature".into(),
        });
    }
    if let Some(d) = validity_drift(existing, wanted, issuer) {
        out.push(d);
    }
    Ok(out)
}

/// The validity drift of `existing` against `wanted`, if any (see [`certificate_drift`]).
fn validity_drift(
    existing: &Certificate,
    wanted: &Certificate,
    issuer: Option<&Certificate>,
) -> Option<Drift> {
    let length = |c: &Certificate| {
        c.not_after()
            .duration_since(c.not_before())
            .unwrap_or(Duration::ZERO)
    };
    let (has, asked) = (length(existing), length(wanted));
    if has.abs_diff(asked) <= SLACK {
        return None;
    }
    if let Some(ca) = issuer {
        let ends_with_ca = |t: SystemTime| {
            let end = ca.not_after();
            t.duration_since(end)
                .or_else(|_| end.duration_since(t))
                .is_ok_and(|d| d <= SLACK)
        };
        if ends_with_ca(wanted.not_after()) && ends_with_ca(existing.not_after()) {
            return None;
        }
    }
    Some(Drift {
        field: "validity".into(),
        has: days(has),
        asked: days(asked),
    })
}

/// `365 days`, or with a fraction when not whole.
fn days(d: Duration) -> String {
    let secs = d.as_secs();
    if secs % 86_400 == 0 {
        format!("{} days", secs / 86_400)
    } else {
        format!("{:.2} days", secs as f64 / 86_400.0)
    }
}

/// The drift of an existing key against the asked spec, if its type or size differs.
#[must_use]
pub fn key_drift(existing: &Key, asked: KeySpec) -> Option<Drift> {
    let has = existing.spec();
    (has != asked).then(|| Drift {
        field: "key".into(),
        has: describe_spec(has),
        asked: describe_spec(asked),
    })
}

/// A list-valued extension's drift (`critical, DNS:a, IP Address:1.2.3.4`) shown by the
/// entries only one side has, the criticality only when it differs.
fn list_drift(field: String, has: &str, asked: &str) -> Drift {
    let split = |v: &str| -> (bool, Vec<String>) {
        let mut critical = false;
        let mut entries = Vec::new();
        for part in v.split(", ") {
            match part {
                "critical" => critical = true,
                "absent" | "" => {}
                other => entries.push(other.replace("IP Address:", "IP:")),
            }
        }
        (critical, entries)
    };
    let ((hc, he), (ac, ae)) = (split(has), split(asked));
    let only = |a: &[String], b: &[String], critical: bool, differs: bool| {
        let mut v: Vec<String> = a.iter().filter(|x| !b.contains(x)).cloned().collect();
        if v.is_empty() && !differs {
            // Nothing of its own: say what it lacks of the other side.
            v = b
                .iter()
                .filter(|x| !a.contains(x))
                .map(|x| format!("no {x}"))
                .collect();
        }
        if differs {
            v.insert(0, if critical { "critical" } else { "not critical" }.into());
        }
        v.join(", ")
    };
    let differs = hc != ac;
    if has == "absent" || asked == "absent" {
        return Drift {
            field,
            has: if has == "absent" {
                "none".into()
            } else {
                he.join(", ")
            },
            asked: if asked == "absent" {
                "none".into()
            } else {
                ae.join(", ")
            },
        };
    }
    Drift {
        field,
        has: only(&he, &ae, hc, differs),
        asked: only(&ae, &he, ac, differs),
    }
}

/// The name a user knows a compared field by.
fn field_name(field: &str) -> String {
    match field {
        "subjectAltName" => "SAN".into(),
        other => other.into(),
    }
}

/// The drifts as one phrase: `SAN differs: has ..., asked ...; key differs: ...`.
#[must_use]
pub fn describe(drifts: &[Drift]) -> String {
    drifts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{Ca, CsrParams, DistinguishedName, Profile, San};

    fn new_ca() -> Ca {
        let key = Key::generate(KeySpec::P256).unwrap();
        let subject = DistinguishedName::parse("CN=Drift CA").unwrap();
        Ca::self_signed(key, &subject, &Profile::named("ca").unwrap()).unwrap()
    }

    fn leaf(ca: &Ca, key: &Key, dns: &str, days: i64) -> Certificate {
        let params = CsrParams {
            subject: DistinguishedName::parse("CN=node").unwrap(),
            sans: vec![San::parse(dns).unwrap()],
            ..CsrParams::default()
        };
        let csr = crate::pki::Csr::new(key, &params).unwrap();
        let mut profile = Profile::named("server").unwrap();
        profile.validity = crate::pki::Validity::days(days).unwrap();
        ca.sign(&csr, &profile).unwrap().cert
    }

    /// A node's key and the CA that signs its certificates.
    struct Node {
        ca: Ca,
        key: Key,
    }

    impl Node {
        fn new() -> Self {
            Node {
                ca: new_ca(),
                key: Key::generate(KeySpec::P256).unwrap(),
            }
        }

        fn leaf(&self, dns: &str, days: i64) -> Certificate {
            leaf(&self.ca, &self.key, dns, days)
        }

        /// What differs between `existing` and `wanted`, `wanted` from this node's CA.
        fn drift(&self, existing: &Certificate, wanted: &Certificate) -> Vec<Drift> {
            certificate_drift(existing, wanted, Some(self.ca.cert())).unwrap()
        }
    }

    #[test]
    fn the_same_request_signed_twice_has_no_drift() {
        let node = Node::new();
        let a = node.leaf("DNS:a.example", 30);
        let b = node.leaf("DNS:a.example", 30);
        assert_ne!(a.serial(), b.serial());
        assert!(node.drift(&a, &b).is_empty());
    }

    #[test]
    fn a_san_a_key_a_validity_and_an_issuer_are_each_named() {
        let node = Node::new();
        let a = node.leaf("DNS:a.example", 30);

        let san = node.drift(&a, &node.leaf("DNS:b.example", 30));
        assert_eq!(
            describe(&san),
            "SAN differs: has DNS:a.example, asked DNS:b.example"
        );

        let days = node.drift(&a, &node.leaf("DNS:a.example", 60));
        assert_eq!(
            describe(&days),
            "validity differs: has 30 days, asked 60 days"
        );

        let other_key = Key::generate(KeySpec::P256).unwrap();
        let d = node.drift(&a, &leaf(&node.ca, &other_key, "DNS:a.example", 30));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].field, "key");

        let other_ca = Node {
            ca: new_ca(),
            key: node.key.clone(),
        };
        let d = other_ca.drift(&a, &other_ca.leaf("DNS:a.example", 30));
        assert!(d.iter().any(|d| d.field == "issuer"), "{d:?}");
    }

    #[test]
    fn a_key_of_another_size_is_drift() {
        let key = Key::generate(KeySpec::P256).unwrap();
        assert_eq!(key_drift(&key, KeySpec::P256), None);
        assert_eq!(
            key_drift(&key, KeySpec::P384).unwrap().to_string(),
            "key differs: has ECDSA P-256, asked ECDSA P-384"
        );
    }

    #[test]
    fn reissue_words() {
        assert_eq!(Reissue::parse("changed").unwrap(), Reissue::Changed);
        assert!(Reissue::parse("always").is_err());
    }
}
