//! Serial numbers: openssl's colon-hex form (for JSON and key identifiers) and its
//! `Serial Number:` line.

use crate::pki::colon_hex;

/// The magnitude of a DER INTEGER as openssl prints it: lowercase hex with colons, without the
/// padding byte; negative values get a `-`.
pub(super) fn serial_string(raw: &[u8]) -> String {
    fn strip(bytes: &[u8]) -> &[u8] {
        let start = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        &bytes[start..]
    }
    if raw.first().is_some_and(|b| b & 0x80 != 0) {
        let mut mag: Vec<u8> = raw.iter().map(|b| !b).collect();
        for b in mag.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        format!("-{}", colon_hex(strip(&mag), false))
    } else {
        colon_hex(strip(raw), false)
    }
}

/// ` 4096 (0x1000)` for serials that fit a signed 64-bit integer, else the hex on a new line.
pub(super) fn serial_text(serial: &str) -> String {
    let (neg, hex) = match serial.strip_prefix('-') {
        Some(h) => ("-", h),
        None => ("", serial),
    };
    let bytes: Option<Vec<u8>> = hex
        .split(':')
        .map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    if let Some(bytes) = bytes.filter(|b| b.len() <= 8) {
        let value = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        if i64::try_from(value).is_ok() {
            return format!(" {neg}{value} ({neg}0x{value:x})");
        }
    }
    let negative = if neg.is_empty() { "" } else { " (Negative)" };
    format!("\n            {hex}{negative}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_print_like_openssl() {
        assert_eq!(serial_string(&[0x00, 0x80]), "80");
        assert_eq!(serial_string(&[0x00]), "00");
        assert_eq!(serial_string(&[0xff]), "-01");
        assert_eq!(serial_text("10:00"), " 4096 (0x1000)");
        assert_eq!(serial_text("-01"), " -1 (-0x1)");
        assert_eq!(
            serial_text("80:00:00:00:00:00:00:00"),
            "\n            80:00:00:00:00:00:00:00"
        );
    }
}
