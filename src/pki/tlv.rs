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

/// The TBSCertificate of a certificate's DER, as its bytes stand.
#[must_use]
pub(super) fn raw_tbs(cert_der: &[u8]) -> Option<&[u8]> {
    let (outer_header, _) = element(cert_der, 0)?;
    let (header, len) = element(cert_der, outer_header)?;
    cert_der.get(outer_header..outer_header + header + len)
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
}
