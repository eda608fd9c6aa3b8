//! Certificates dated before 1970. X.509's UTCTime reads `50`-`69` as 1950-1969, and
//! GeneralizedTime may hold any year, but the DER crate's time type starts at 1970; such a
//! certificate is read from a copy whose validity dates are set to 1970, its real dates kept
//! apart. The signature is checked over the certificate's own bytes
//! ([`super::tlv::signed_part`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::tlv::element;

/// Where the validity's two times start in a certificate's DER.
fn validity_times(der: &[u8]) -> Option<[usize; 2]> {
    let (outer_header, _) = element(der, 0)?;
    let (tbs_header, _) = element(der, outer_header)?;
    let mut at = outer_header + tbs_header;
    if *der.get(at)? == 0xa0 {
        let (h, l) = element(der, at)?; // [0] version
        at += h + l;
    }
    for _ in 0..3 {
        let (h, l) = element(der, at)?; // serial, signature algorithm, issuer
        at += h + l;
    }
    let (validity_header, _) = element(der, at)?;
    let first = at + validity_header;
    let (h, l) = element(der, first)?;
    Some([first, first + h + l])
}

/// A copy of `der` with its pre-1970 validity dates set to 1970, and the real notBefore and
/// notAfter; `None` when no date is before 1970 (or the DER is not laid out as a certificate).
#[must_use]
pub fn patch(der: &[u8]) -> Option<(Vec<u8>, (SystemTime, SystemTime))> {
    let mut copy = der.to_vec();
    let mut times = [UNIX_EPOCH; 2];
    let mut patched = false;
    for (i, at) in validity_times(der)?.into_iter().enumerate() {
        let (header, len) = element(der, at)?;
        let text = std::str::from_utf8(der.get(at + header..at + header + len)?).ok()?;
        let (year, rest, epoch_text): (i64, &str, &[u8]) = match (der[at], len) {
            (0x17, 13) => {
                let yy: i64 = text.get(..2)?.parse().ok()?;
                (
                    if yy >= 50 { 1900 + yy } else { 2000 + yy },
                    text.get(2..)?,
                    b"700101000000Z",
                )
            }
            (0x18, 15) => (
                text.get(..4)?.parse().ok()?,
                text.get(4..)?,
                b"19700101000000Z",
            ),
            _ => return None,
        };
        times[i] = system_time(year, rest)?;
        if year < 1970 {
            copy[at + header..at + header + len].copy_from_slice(epoch_text);
            patched = true;
        }
    }
    patched.then_some((copy, (times[0], times[1])))
}

/// `MMDDHHMMSSZ` of `year` as a time (before 1970 too).
fn system_time(year: i64, rest: &str) -> Option<SystemTime> {
    let field = |r: std::ops::Range<usize>| -> Option<i64> { rest.get(r)?.parse().ok() };
    let (month, day) = (field(0..2)?, field(2..4)?);
    let seconds = field(4..6)? * 3600 + field(6..8)? * 60 + field(8..10)?;
    if rest.get(10..) != Some("Z") || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let t = days_from_civil(year, month, day) * 86_400 + seconds;
    let magnitude = Duration::from_secs(t.unsigned_abs());
    if t >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (negative before).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_around_the_epoch() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1950, 1, 1), -7305);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }
}
