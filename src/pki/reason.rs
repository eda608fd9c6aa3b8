//! Revocation reasons: RFC 5280's `CRLReason` codes with the names `openssl ca` reads and writes.

use std::fmt;

use x509_cert::ext::pkix::CrlReason;

/// Why a certificate was revoked (RFC 5280 section 5.3.1). Code 7 is unused by the RFC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// `unspecified` (0).
    Unspecified,
    /// `keyCompromise` (1).
    KeyCompromise,
    /// `CACompromise` (2; RFC 5280 spells it `cACompromise`).
    CaCompromise,
    /// `affiliationChanged` (3).
    AffiliationChanged,
    /// `superseded` (4).
    Superseded,
    /// `cessationOfOperation` (5).
    CessationOfOperation,
    /// `certificateHold` (6).
    CertificateHold,
    /// `removeFromCRL` (8).
    RemoveFromCrl,
    /// `privilegeWithdrawn` (9).
    PrivilegeWithdrawn,
    /// `aACompromise` (10).
    AaCompromise,
}

impl Reason {
    /// Every reason, in code order.
    pub const ALL: [Reason; 10] = [
        Reason::Unspecified,
        Reason::KeyCompromise,
        Reason::CaCompromise,
        Reason::AffiliationChanged,
        Reason::Superseded,
        Reason::CessationOfOperation,
        Reason::CertificateHold,
        Reason::RemoveFromCrl,
        Reason::PrivilegeWithdrawn,
        Reason::AaCompromise,
    ];

    /// The name as `openssl ca` writes it in `index.txt` (`CACompromise`, `removeFromCRL`); the
    /// two reasons openssl does not know keep RFC 5280's spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "keyCompromise",
            Reason::CaCompromise => "CACompromise",
            Reason::AffiliationChanged => "affiliationChanged",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessationOfOperation",
            Reason::CertificateHold => "certificateHold",
            Reason::RemoveFromCrl => "removeFromCRL",
            Reason::PrivilegeWithdrawn => "privilegeWithdrawn",
            Reason::AaCompromise => "aACompromise",
        }
    }

    /// Finds a reason by name, ignoring case as `openssl ca -crl_reason` does (so RFC 5280's
    /// `cACompromise` and openssl's `CACompromise` are the same reason).
    #[must_use]
    pub fn parse(name: &str) -> Option<Reason> {
        let name = name.trim();
        Reason::ALL
            .into_iter()
            .find(|r| r.name().eq_ignore_ascii_case(name))
    }

    /// The RFC 5280 `CRLReason` code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Reason::Unspecified => 0,
            Reason::KeyCompromise => 1,
            Reason::CaCompromise => 2,
            Reason::AffiliationChanged => 3,
            Reason::Superseded => 4,
            Reason::CessationOfOperation => 5,
            Reason::CertificateHold => 6,
            Reason::RemoveFromCrl => 8,
            Reason::PrivilegeWithdrawn => 9,
            Reason::AaCompromise => 10,
        }
    }

    /// The reason with this RFC 5280 code, if there is one.
    #[must_use]
    pub fn from_code(code: u8) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// True when `openssl ca` (3.x) can read this reason from `index.txt`. It stops at
    /// `removeFromCRL`: an index holding `privilegeWithdrawn` or `aACompromise` makes
    /// `openssl ca -gencrl` fail with "invalid reason code".
    #[must_use]
    pub fn openssl_ca_reads(self) -> bool {
        !matches!(self, Reason::PrivilegeWithdrawn | Reason::AaCompromise)
    }

    /// The names of every reason, comma separated, for error messages.
    #[must_use]
    pub fn known() -> String {
        Reason::ALL.map(Reason::name).join(", ")
    }

    pub(crate) fn to_x509(self) -> CrlReason {
        match self {
            Reason::Unspecified => CrlReason::Unspecified,
            Reason::KeyCompromise => CrlReason::KeyCompromise,
            Reason::CaCompromise => CrlReason::CaCompromise,
            Reason::AffiliationChanged => CrlReason::AffiliationChanged,
            Reason::Superseded => CrlReason::Superseded,
            Reason::CessationOfOperation => CrlReason::CessationOfOperation,
            Reason::CertificateHold => CrlReason::CertificateHold,
            Reason::RemoveFromCrl => CrlReason::RemoveFromCRL,
            Reason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
            Reason::AaCompromise => CrlReason::AaCompromise,
        }
    }

    pub(crate) fn from_x509(reason: CrlReason) -> Reason {
        match reason {
            CrlReason::Unspecified => Reason::Unspecified,
            CrlReason::KeyCompromise => Reason::KeyCompromise,
            CrlReason::CaCompromise => Reason::CaCompromise,
            CrlReason::AffiliationChanged => Reason::AffiliationChanged,
            CrlReason::Superseded => Reason::Superseded,
            CrlReason::CessationOfOperation => Reason::CessationOfOperation,
            CrlReason::CertificateHold => Reason::CertificateHold,
            CrlReason::RemoveFromCRL => Reason::RemoveFromCrl,
            CrlReason::PrivilegeWithdrawn => Reason::PrivilegeWithdrawn,
            CrlReason::AaCompromise => Reason::AaCompromise,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_ignoring_case_and_codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.name()), Some(r));
            assert_eq!(Reason::parse(&r.name().to_uppercase()), Some(r));
            assert_eq!(Reason::from_code(r.code()), Some(r));
            assert_eq!(Reason::from_x509(r.to_x509()), r);
        }
        assert_eq!(Reason::parse("cACompromise"), Some(Reason::CaCompromise));
        assert_eq!(Reason::from_code(7), None);
        assert_eq!(Reason::parse("stolen"), None);
    }
}
