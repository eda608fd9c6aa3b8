//! Key usage and extended key usage names: the one table of each, looked up by openssl's or
//! cfssl's spelling, and the [`Usages`] a mixed list sorts into. No parsing errors live here
//! (the list parsers are in [`crate::pki::config`]), so `error.rs` can quote the tables.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280;
use x509_cert::ext::pkix::KeyUsages;

/// Key usage names pkirun knows (openssl spelling; cfssl's spaced spelling works too).
pub const KNOWN_KEY_USAGES: &str = "digitalSignature, nonRepudiation, keyEncipherment, \
dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly; cfssl: signing, \
digital signature, content commitment, key encipherment, data encipherment, key agreement, \
cert sign, crl sign";

/// Extended key usage names pkirun knows.
pub const KNOWN_EXT_KEY_USAGES: &str = "serverAuth, clientAuth, codeSigning, emailProtection, \
timeStamping, OCSPSigning, anyExtendedKeyUsage; cfssl: server auth, client auth, code signing, \
email protection, s/mime, timestamping, ocsp signing, any";

/// The nine key usage bits, in RFC 5280 order: openssl's config name, the label
/// `openssl x509 -text` prints, the bit.
#[rustfmt::skip]
pub const KEY_USAGE_NAMES: [(&str, &str, KeyUsages); 9] = [
    ("digitalSignature", "Digital Signature", KeyUsages::DigitalSignature),
    ("nonRepudiation", "Non Repudiation", KeyUsages::NonRepudiation),
    ("keyEncipherment", "Key Encipherment", KeyUsages::KeyEncipherment),
    ("dataEncipherment", "Data Encipherment", KeyUsages::DataEncipherment),
    ("keyAgreement", "Key Agreement", KeyUsages::KeyAgreement),
    ("keyCertSign", "Certificate Sign", KeyUsages::KeyCertSign),
    ("cRLSign", "CRL Sign", KeyUsages::CRLSign),
    ("encipherOnly", "Encipher Only", KeyUsages::EncipherOnly),
    ("decipherOnly", "Decipher Only", KeyUsages::DecipherOnly),
];

/// Extended key usages: openssl's config name, the label `openssl x509 -text` prints, the OID.
#[rustfmt::skip]
pub const EXT_KEY_USAGE_NAMES: [(&str, &str, ObjectIdentifier); 7] = [
    ("serverAuth", "TLS Web Server Authentication", rfc5280::ID_KP_SERVER_AUTH),
    ("clientAuth", "TLS Web Client Authentication", rfc5280::ID_KP_CLIENT_AUTH),
    ("codeSigning", "Code Signing", rfc5280::ID_KP_CODE_SIGNING),
    ("emailProtection", "E-mail Protection", rfc5280::ID_KP_EMAIL_PROTECTION),
    ("timeStamping", "Time Stamping", rfc5280::ID_KP_TIME_STAMPING),
    ("OCSPSigning", "OCSP Signing", rfc5280::ID_KP_OCSP_SIGNING),
    ("anyExtendedKeyUsage", "Any Extended Key Usage", rfc5280::ANY_EXTENDED_KEY_USAGE),
];

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The value of `table` named `name` (case, spaces, `-` and `_` ignored), after `aliases`
/// (normalised alias, normalised table name).
fn find<T: Copy>(table: &[(&str, &str, T)], aliases: &[(&str, &str)], name: &str) -> Option<T> {
    let n = normalise(name);
    let wanted = aliases
        .iter()
        .find(|(alias, _)| *alias == n)
        .map_or(n.as_str(), |(_, to)| to);
    table
        .iter()
        .find(|(k, _, _)| normalise(k) == wanted)
        .map(|(_, _, v)| *v)
}

/// Looks up a key usage by openssl or cfssl name (case, spaces, `-` and `_` ignored).
#[must_use]
pub fn key_usage_by_name(name: &str) -> Option<KeyUsages> {
    const ALIASES: &[(&str, &str)] = &[
        ("signing", "digitalsignature"),
        ("contentcommitment", "nonrepudiation"),
        ("certsign", "keycertsign"),
    ];
    find(&KEY_USAGE_NAMES, ALIASES, name)
}

/// Looks up an extended key usage by openssl or cfssl name, or a dotted OID.
#[must_use]
pub fn ext_key_usage_by_name(name: &str) -> Option<ObjectIdentifier> {
    const ALIASES: &[(&str, &str)] = &[
        ("s/mime", "emailprotection"),
        ("any", "anyextendedkeyusage"),
    ];
    find(&EXT_KEY_USAGE_NAMES, ALIASES, name).or_else(|| {
        name.chars()
            .all(|c| c.is_ascii_digit() || c == '.')
            .then(|| ObjectIdentifier::new(name).ok())
            .flatten()
    })
}

/// The openssl name of a key usage bit.
#[must_use]
pub fn key_usage_name(ku: KeyUsages) -> &'static str {
    KEY_USAGE_NAMES
        .iter()
        .find(|(_, _, v)| *v == ku)
        .map_or("?", |(k, _, _)| k)
}

/// The openssl name of an extended key usage, or its dotted OID.
#[must_use]
pub fn ext_key_usage_name(oid: ObjectIdentifier) -> String {
    EXT_KEY_USAGE_NAMES
        .iter()
        .find(|(_, _, v)| *v == oid)
        .map_or_else(|| oid.to_string(), |(k, _, _)| (*k).to_string())
}

/// Key usages and extended key usages from one mixed list, as cfssl profiles write them
/// (`["signing", "key encipherment", "server auth"]`) or openssl's two lines joined. The word
/// `critical` anywhere in the list marks the key usage extension critical. Parsed by
/// [`Usages::parse_mixed`] (cfssl), [`Usages::parse_key_usage`] and
/// [`Usages::parse_ext_key_usage`] (openssl).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usages {
    /// Key usage bits, in the order given.
    pub key_usage: Vec<KeyUsages>,
    /// Extended key usage OIDs, in the order given.
    pub ext_key_usage: Vec<ObjectIdentifier>,
    /// Whether `critical` was in the list.
    pub critical: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_the_tables() {
        for (name, _, bit) in KEY_USAGE_NAMES {
            assert_eq!(key_usage_by_name(name), Some(bit));
            assert_eq!(key_usage_name(bit), name);
        }
        for (name, _, oid) in EXT_KEY_USAGE_NAMES {
            assert_eq!(ext_key_usage_by_name(name), Some(oid));
            assert_eq!(ext_key_usage_name(oid), name);
        }
    }

    #[test]
    fn cfssl_spellings_and_oids_are_found() {
        assert_eq!(
            key_usage_by_name("content commitment"),
            Some(KeyUsages::NonRepudiation)
        );
        assert_eq!(key_usage_by_name("crl sign"), Some(KeyUsages::CRLSign));
        assert_eq!(
            ext_key_usage_by_name("s/mime"),
            Some(rfc5280::ID_KP_EMAIL_PROTECTION)
        );
        assert_eq!(
            ext_key_usage_by_name("1.3.6.1.5.5.7.3.1"),
            Some(rfc5280::ID_KP_SERVER_AUTH)
        );
        assert_eq!(
            ext_key_usage_by_name("1.2.3.4.5")
                .map(|o| o.to_string())
                .as_deref(),
            Some("1.2.3.4.5")
        );
        assert_eq!(ext_key_usage_by_name("webAuth"), None);
    }
}
