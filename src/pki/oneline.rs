//! openssl's one-line form of a distinguished name (`X509_NAME_oneline`), the subject column of
//! `index.txt`.

use der::{Decode, Tagged};
use x509_cert::name::Name;

/// openssl's short names for the attributes `X509_NAME_oneline` prints by name; any other
/// attribute is printed as its dotted OID, as openssl does for an OID it has no name for.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "CN"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.6", "C"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.9", "street"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.12", "title"),
    ("2.5.4.13", "description"),
    ("2.5.4.15", "businessCategory"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.41", "name"),
    ("2.5.4.42", "GN"),
    ("2.5.4.43", "initials"),
    ("2.5.4.44", "generationQualifier"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.65", "pseudonym"),
    ("2.5.4.97", "organizationIdentifier"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"),
];

/// A DER name in openssl's `X509_NAME_oneline` form, the subject column of `index.txt`:
/// `/C=DE/O=A\/B/CN=x+OU=y` — `/` before each RDN, `+` between the members of a multi-valued
/// RDN, `/` and `+` in values escaped with `\`, bytes outside printable ASCII as `\xHH`.
///
/// `openssl ca -revoke` compares this text with the one it computes, so it must be exact.
///
/// # Errors
/// DER that does not decode as a name.
pub fn subject_oneline(name_der: &[u8]) -> Result<String, der::Error> {
    let name = Name::from_der(name_der)?;
    let mut out = String::new();
    for rdn in name.iter_rdn() {
        for (j, atv) in rdn.iter().enumerate() {
            out.push(if j == 0 { '/' } else { '+' });
            let oid = atv.oid.to_string();
            match SHORT_NAMES.iter().find(|(o, _)| *o == oid) {
                Some((_, short)) => out.push_str(short),
                None => out.push_str(&oid),
            }
            out.push('=');
            let bytes = atv.value.value();
            let keep = general_string_mask(atv.value.tag(), bytes);
            for (k, &b) in bytes.iter().enumerate() {
                if !keep[k % 4] {
                    continue;
                }
                if !(b' '..=b'~').contains(&b) {
                    out.push_str(&format!("\\x{b:02X}"));
                } else {
                    if b == b'/' || b == b'+' {
                        out.push('\\');
                    }
                    out.push(char::from(b));
                }
            }
        }
    }
    Ok(out)
}

/// openssl's quirk for a GeneralString whose length is a multiple of 4: when only every
/// fourth byte is non-zero (a UCS-4 string), only those bytes are printed.
fn general_string_mask(tag: der::Tag, bytes: &[u8]) -> [bool; 4] {
    if tag != der::Tag::GeneralString || bytes.len() % 4 != 0 {
        return [true; 4];
    }
    let mut nonzero = [false; 4];
    for (j, &b) in bytes.iter().enumerate() {
        if b != 0 {
            nonzero[j % 4] = true;
        }
    }
    if nonzero[0] || nonzero[1] || nonzero[2] {
        [true; 4]
    } else {
        [false, false, false, true]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;
    use der::asn1::{Any, SetOfVec};
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

    fn atv(oid: &str, tag: der::Tag, value: &[u8]) -> AttributeTypeAndValue {
        AttributeTypeAndValue {
            oid: oid.parse().unwrap(),
            value: Any::new(tag, value).unwrap(),
        }
    }

    #[test]
    fn multi_valued_rdns_use_plus_and_unknown_oids_print_dotted() {
        let multi = SetOfVec::try_from(vec![
            atv("2.5.4.3", der::Tag::Utf8String, b"b"),
            atv("2.5.4.11", der::Tag::Utf8String, b"multi"),
        ])
        .unwrap();
        let other =
            SetOfVec::try_from(vec![atv("1.2.3.4", der::Tag::Utf8String, b"x\tz")]).unwrap();
        let der = RdnSequence::from(vec![
            RelativeDistinguishedName::from(multi),
            RelativeDistinguishedName::from(other),
        ])
        .to_der()
        .unwrap();
        assert_eq!(
            subject_oneline(&der).unwrap(),
            "/CN=b+OU=multi/1.2.3.4=x\\x09z"
        );
    }
}
