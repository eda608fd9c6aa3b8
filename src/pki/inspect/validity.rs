//! Validity times: RFC 3339 for values, openssl's `Nov 23 21:00:00 2026 GMT` for text.

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use x509_parser::time::ASN1Time;

/// A validity time as RFC 3339 UTC (`2026-11-23T21:00:00Z`).
pub(super) fn rfc3339(t: ASN1Time) -> String {
    let dt: OffsetDateTime = t.to_datetime().to_offset(UtcOffset::UTC);
    dt.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| dt.to_string())
}

/// RFC 3339 (as in [`super::CertInfo::not_before`]) to openssl's `Nov 23 21:00:00 2026 GMT`.
pub(super) fn openssl_time(rfc: &str) -> String {
    let parse_fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let out_fmt = format_description!(
        "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
    );
    PrimitiveDateTime::parse(rfc, parse_fmt)
        .ok()
        .and_then(|dt| dt.format(out_fmt).ok())
        .unwrap_or_else(|| rfc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_time_pads_the_day_with_a_space() {
        assert_eq!(
            openssl_time("2026-11-03T01:02:03Z"),
            "Nov  3 01:02:03 2026 GMT"
        );
    }
}
