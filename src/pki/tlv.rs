//! Raw DER elements, for the few places that must look at bytes the decoders will not take as
//! they are: a certificate with trust settings after it, dates before 1970, the exact bytes an
//! issuer signed.

/// The header and contents lengths of the DER element at `at` in `buf` (definite lengths of
/// up to four octets), or `None` when the bytes there are not one.
pub(super) fn element(buf: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *buf.get(at + 1)?;
    if first < 0x80 {
        return Some((2, usize::from(first)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for b in buf.get(at + 2..at + 2 + n)? {
        len = (len << 8) | usize::from(*b);
    }
    Some((2 + n, len))
}

/// The whole length (header and contents) of the first element of `der`.
pub(super) fn first_len(der: &[u8]) -> Option<usize> {
    element(der, 0).map(|(header, len)| header + len)
}

/// The element that was signed: the first element inside the outer SEQUENCE of a signed
/// structure (a certificate's TBSCertificate, a request's CertificationRequestInfo), as its
/// bytes stand.
#[must_use]
pub(super) fn signed_part(der: &[u8]) -> Option<&[u8]> {
    let (outer_header, _) = element(der, 0)?;
    let (header, len) = element(der, outer_header)?;
    der.get(outer_header..outer_header + header + len)
}

/// A copy of `der` with every length in its shortest form, when it had a longer one (BER's
/// `0x81 0x05` for 5, which OpenSSL reads and signs over as written): the DER decoders refuse
/// those, so pkirun parses the copy and keeps the original bytes, over which the signature
/// was made. `None` when every length is already minimal, or when the bytes are not a single
/// well-formed element with definite lengths (nothing to mend: the caller's error stands).
/// Only constructed elements are entered; the contents of OCTET and BIT STRINGs stay as
/// they are.
#[must_use]
pub(super) fn with_minimal_lengths(der: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(der.len());
    let mut changed = false;
    let end = copy_element(der, 0, &mut out, &mut changed, 0)?;
    (end == der.len() && changed).then_some(out)
}

/// Copies the element at `at` to `out` with minimal lengths; returns where it ends.
fn copy_element(
    buf: &[u8],
    at: usize,
    out: &mut Vec<u8>,
    changed: &mut bool,
    depth: usize,
) -> Option<usize> {
    // Certificates nest about ten deep; 64 bounds the recursion on hostile input.
    if depth > 64 {
        return None;
    }
    let tag = *buf.get(at)?;
    if tag & 0x1f == 0x1f {
        return None; // multi-octet tags appear in none of the structures read here
    }
    let (header, len) = element(buf, at)?;
    let start = at + header;
    let end = start.checked_add(len)?;
    if end > buf.len() {
        return None;
    }
    if header != minimal_header_len(len) {
        *changed = true;
    }
    let mut contents = Vec::with_capacity(len);
    if tag & 0x20 == 0 {
        contents.extend_from_slice(&buf[start..end]);
    } else {
        let mut inner = start;
        while inner < end {
            inner = copy_element(&buf[..end], inner, &mut contents, changed, depth + 1)?;
        }
    }
    out.push(tag);
    push_length(out, contents.len());
    out.extend_from_slice(&contents);
    Some(end)
}

/// The contents of the first element of `buf` (without its header).
#[must_use]
pub(super) fn contents(buf: &[u8]) -> Option<&[u8]> {
    let (header, len) = element(buf, 0)?;
    buf.get(header..header + len)
}

/// `contents` as one DER element with tag `tag`.
#[must_use]
pub(super) fn wrap(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 6);
    out.push(tag);
    push_length(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

/// The elements one after another in `contents`, as (start, whole length); `None` when they
/// do not fill it exactly.
pub(super) fn children(contents: &[u8]) -> Option<Vec<(usize, usize)>> {
    let mut at = 0;
    let mut found = Vec::new();
    while at < contents.len() {
        let whole = element(contents, at).map(|(h, l)| h + l)?;
        if at + whole > contents.len() {
            return None;
        }
        found.push((at, whole));
        at += whole;
    }
    Some(found)
}

/// The first encoding in `der` that BER allows and DER forbids, described with its offset
/// (`a BOOLEAN encoded as 0x01 at byte 312`), walking constructed elements; `None` when none
/// is found or the bytes stop being well-formed first.
#[must_use]
pub(super) fn first_non_der(der: &[u8]) -> Option<String> {
    fn walk(buf: &[u8], at: usize, end: usize, depth: usize) -> Option<String> {
        let mut at = at;
        while at < end && depth < 64 {
            let tag = *buf.get(at)?;
            let (header, len) = element(buf, at)?;
            let start = at + header;
            let stop = start.checked_add(len).filter(|e| *e <= end)?;
            let body = &buf[start..stop];
            let found = match tag {
                0x01 if len == 1 && body[0] != 0 && body[0] != 0xff => {
                    Some(format!("a BOOLEAN encoded as 0x{:02X}", body[0]))
                }
                0x02 if len > 1
                    && ((body[0] == 0 && body[1] < 0x80)
                        || (body[0] == 0xff && body[1] >= 0x80)) =>
                {
                    Some("an INTEGER with a redundant leading octet".to_string())
                }
                0x10 | 0x11 => Some("a SEQUENCE or SET encoded as primitive".to_string()),
                0x03 if len > 1 && body[0] < 8 && body[len - 1] & ((1u8 << body[0]) - 1) != 0 => {
                    Some("a BIT STRING whose unused bits are not zero".to_string())
                }
                // BIT, OCTET and character strings sent in pieces (constructed).
                0x23 | 0x24 | 0x2c | 0x32..=0x3e => Some(format!(
                    "a string sent in pieces (constructed tag 0x{tag:02X})"
                )),
                _ => None,
            };
            if let Some(what) = found {
                return Some(format!("{what} at byte {at}"));
            }
            if tag & 0x20 != 0
                && let Some(inner) = walk(buf, start, stop, depth + 1)
            {
                return Some(inner);
            }
            at = stop;
        }
        None
    }
    walk(der, 0, der.len(), 0)
}

/// The header length DER gives contents of `len` octets.
fn minimal_header_len(len: usize) -> usize {
    if len < 0x80 {
        2
    } else {
        2 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize
    }
}

/// Appends `len` as a DER length.
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_lengths() {
        assert_eq!(element(&[0x30, 0x03, 1, 2, 3], 0), Some((2, 3)));
        assert_eq!(element(&[0x30, 0x82, 0x01, 0x00], 0), Some((4, 256)));
        assert_eq!(element(&[0x30, 0x80], 0), None);
        assert_eq!(first_len(&[0x02, 0x01, 0x05, 0xff]), Some(3));
    }

    #[test]
    fn long_lengths_are_made_minimal_inside_constructed_elements_only() {
        // SEQUENCE (long form) { INTEGER 5, OCTET STRING holding a long-form header as data }
        let ber = [
            0x30, 0x81, 0x08, 0x02, 0x81, 0x01, 0x05, 0x04, 0x02, 0x81, 0x00,
        ];
        assert_eq!(
            with_minimal_lengths(&ber).unwrap(),
            [0x30, 0x07, 0x02, 0x01, 0x05, 0x04, 0x02, 0x81, 0x00]
        );
        // Already DER: nothing to do.
        assert_eq!(with_minimal_lengths(&[0x30, 0x03, 0x02, 0x01, 0x05]), None);
        // Not one whole element: nothing to mend.
        assert_eq!(with_minimal_lengths(&[0x30, 0x81, 0x05, 0x02, 0x01]), None);
        assert_eq!(
            with_minimal_lengths(&[0x30, 0x81, 0x03, 0x02, 0x01, 0x05, 0x00]),
            None
        );
        // Lengths of 128 and more keep their long form, in the fewest octets.
        let mut long = vec![0x04, 0x82, 0x00, 0x80];
        long.extend([0u8; 128]);
        let mended = with_minimal_lengths(&long).unwrap();
        assert_eq!(&mended[..3], &[0x04, 0x81, 0x80]);
        assert_eq!(mended.len(), 131);
    }

    #[test]
    fn ber_encodings_der_forbids_are_named_with_their_offset() {
        let boolean = [0x30, 0x06, 0x02, 0x01, 0x05, 0x01, 0x01, 0x01];
        assert_eq!(
            first_non_der(&boolean).unwrap(),
            "a BOOLEAN encoded as 0x01 at byte 5"
        );
        let integer = [0x30, 0x04, 0x02, 0x02, 0x00, 0x05];
        assert!(
            first_non_der(&integer)
                .unwrap()
                .contains("INTEGER with a redundant")
        );
        let pieces = [0x30, 0x06, 0x24, 0x04, 0x04, 0x02, 0x61, 0x62];
        assert!(first_non_der(&pieces).unwrap().contains("in pieces"));
        assert_eq!(first_non_der(&[0x30, 0x03, 0x02, 0x01, 0x80]), None);
    }
}
