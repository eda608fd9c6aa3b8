//! Why a certificate does not verify: one variant per check, each naming the certificate
//! concerned by its subject and carrying the evidence (what was expected, what was presented).

/// Why a certificate does not verify. Each message names the certificate concerned by its
/// subject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No trusted or intermediate certificate has the issuer's name.
    #[error(
        "`{subject}`: unable to get issuer certificate `{issuer}` (not among the CA certificates given)"
    )]
    NoIssuer {
        /// The certificate whose issuer is missing.
        subject: String,
        /// The issuer name it names.
        issuer: String,
    },
    /// A certificate with the issuer's name exists, but its key did not make the signature.
    #[error("`{subject}`: signature does not verify with the key of `{issuer}`")]
    BadSignature {
        /// The certificate whose signature failed.
        subject: String,
        /// The issuer whose key was tried.
        issuer: String,
    },
    /// `--crl` was given but none of the CRLs is signed by the certificate's issuer.
    #[error("`{subject}`: unable to get certificate CRL (no CRL given is signed by `{issuer}`)")]
    NoCrl {
        /// The certificate.
        subject: String,
        /// Its issuer.
        issuer: String,
    },
    /// The CRL's thisUpdate is after the verification time.
    #[error("CRL of `{issuer}`: not yet valid: thisUpdate {this_update} (verification time {at})")]
    CrlNotYetValid {
        /// The CRL's issuer.
        issuer: String,
        /// thisUpdate, RFC 3339.
        this_update: String,
        /// The verification time, RFC 3339.
        at: String,
    },
    /// The CRL's nextUpdate has passed: a newer one should have been published.
    #[error("CRL of `{issuer}`: has expired: nextUpdate {next_update} (verification time {at})")]
    CrlExpired {
        /// The CRL's issuer.
        issuer: String,
        /// nextUpdate, RFC 3339.
        next_update: String,
        /// The verification time, RFC 3339.
        at: String,
    },
    /// A CRL that cannot be read.
    #[error("CRL of `{issuer}`: {reason}")]
    BadCrl {
        /// The CRL's issuer.
        issuer: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The certificate's serial is on its issuer's CRL.
    #[error("`{subject}`: certificate revoked (serial {serial}, {reason}, on {date})")]
    Revoked {
        /// The certificate.
        subject: String,
        /// Its serial, hex.
        serial: String,
        /// When it was revoked, RFC 3339.
        date: String,
        /// The reason code, or "no reason given".
        reason: String,
    },
    /// Before notBefore.
    #[error("`{subject}`: not valid before {not_before} (verification time {at})")]
    NotYetValid {
        /// The certificate.
        subject: String,
        /// notBefore, RFC 3339.
        not_before: String,
        /// The verification time, RFC 3339.
        at: String,
    },
    /// After notAfter.
    #[error("`{subject}`: expired at {not_after} (verification time {at})")]
    Expired {
        /// The certificate.
        subject: String,
        /// notAfter, RFC 3339.
        not_after: String,
        /// The verification time, RFC 3339.
        at: String,
    },
    /// An issuer without basicConstraints CA:TRUE.
    #[error("`{subject}`: is not a CA (basicConstraints CA:TRUE missing) but issued `{issued}`")]
    NotCa {
        /// The issuer.
        subject: String,
        /// The certificate it signed.
        issued: String,
    },
    /// An issuer whose keyUsage lacks keyCertSign.
    #[error("`{subject}`: keyUsage lacks keyCertSign, so it may not sign certificates")]
    NoCertSign {
        /// The issuer.
        subject: String,
    },
    /// An issuer's pathLenConstraint is exceeded.
    #[error(
        "`{subject}`: pathlen:{pathlen} allows {pathlen} intermediate CA(s) below it, the chain has {below} (self-issued ones not counted)"
    )]
    PathLength {
        /// The issuer.
        subject: String,
        /// Its pathLenConstraint.
        pathlen: u8,
        /// The non-self-issued intermediate CAs between it and the certificate verified.
        below: usize,
    },
    /// A critical extension this verifier does not process.
    #[error("`{subject}`: unhandled critical extension {oid}")]
    UnhandledCritical {
        /// The certificate.
        subject: String,
        /// The extension's OID.
        oid: String,
    },
    /// The same extension twice (RFC 5280 4.2: a certificate must not).
    #[error("`{subject}`: extension {oid} appears more than once")]
    DuplicateExtension {
        /// The certificate.
        subject: String,
        /// The extension's OID.
        oid: String,
    },
    /// An extension that breaks a rule of RFC 5280 (e.g. a critical subjectKeyIdentifier).
    #[error("`{subject}`: invalid {extension} extension: {rule}")]
    InvalidExtension {
        /// The certificate.
        subject: String,
        /// The extension's name.
        extension: &'static str,
        /// The rule broken.
        rule: String,
    },
    /// A certificate that breaks a rule of RFC 5280 outside its extensions, or whose key is
    /// weak or of an algorithm pkirun does not support.
    #[error("`{subject}`: {rule}")]
    NonConforming {
        /// The certificate.
        subject: String,
        /// The rule broken, with what the certificate presents.
        rule: String,
    },
    /// Name-constraint checking would compare more names with more subtrees than allowed.
    #[error(
        "`{ca}`: refusing to check {names} names against {subtrees} name-constraint subtrees (more than {max} comparisons)"
    )]
    TooManyNameChecks {
        /// The constraining CA.
        ca: String,
        /// Names presented below it.
        names: usize,
        /// Its subtrees.
        subtrees: usize,
        /// The bound on names × subtrees.
        max: usize,
    },
    /// A name of a certificate outside what a CA above it may certify.
    #[error("`{subject}`: {name} violates the name constraints of `{ca}`: {reason}")]
    NameConstraint {
        /// The certificate carrying the name.
        subject: String,
        /// The name, typed (`DNS:x`, `IP:x`, `email:x`, `URI:x`, `DirName:x`, `CN:x`).
        name: String,
        /// The CA whose nameConstraints refuse it.
        ca: String,
        /// The subtree that excludes it, or the permitted subtrees it is outside of.
        reason: String,
    },
    /// The host or IP is not among the certificate's names.
    #[error("`{subject}`: `{host}` does not match its names ({names})")]
    HostMismatch {
        /// The certificate.
        subject: String,
        /// The host name or IP address asked for.
        host: String,
        /// The DNS and IP names it has, comma separated, or "none".
        names: String,
    },
    /// The certificate may not be used for the TLS purpose asked for.
    #[error("`{subject}`: not for {purpose}: {reason}")]
    Purpose {
        /// The certificate.
        subject: String,
        /// "TLS server" or "TLS client".
        purpose: &'static str,
        /// Which extension forbids it.
        reason: String,
    },
    /// The chain is longer than the maximum depth.
    #[error("`{subject}`: certificate chain too long (more than {max} certificates)")]
    TooLong {
        /// The certificate where the search stopped.
        subject: String,
        /// The maximum number of certificates in a chain.
        max: usize,
    },
    /// Path building tried more candidate issuers than its budget allows.
    #[error(
        "`{subject}`: gave up building a chain after trying {tried} candidate issuers (too many certificates share issuer names)"
    )]
    TooManyCandidates {
        /// The certificate verified.
        subject: String,
        /// How many candidates were tried.
        tried: usize,
    },
    /// A certificate field that cannot be decoded.
    #[error("`{subject}`: {reason}")]
    Malformed {
        /// The certificate.
        subject: String,
        /// What could not be decoded.
        reason: String,
    },
}
