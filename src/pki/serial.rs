//! Serial numbers as `openssl ca` keeps them: uppercase hex with an even number of digits in
//! `index.txt`, and the `serial` / `crlnumber` files that hold the next number to use.

use std::cmp::Ordering;
use std::fmt;

/// A serial number, or a `serial` / `crlnumber` file, that does not parse.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SerialError {
    /// A `serial` or `crlnumber` file that does not hold one hex number.
    #[error("`{file}`: {reason}")]
    BadNumberFile {
        /// The file, as the caller named it.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A serial number given by a person that does not parse.
    #[error("invalid serial `{value}`: {reason}")]
    InvalidSerial {
        /// The text as given.
        value: String,
        /// Why it was refused.
        reason: String,
    },
}

/// A non-negative serial number (certificate serial or CRL number), as its big-endian bytes
/// without leading zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// The serial with these big-endian bytes (leading zeros, such as DER's sign byte, dropped).
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Serial {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        Serial(bytes[start..].to_vec())
    }

    /// Parses a serial as a person types it: hex in any case, with or without `0x` and
    /// colons (`0A:1B`, as `openssl x509 -serial` and `-text` print it).
    ///
    /// # Errors
    /// [`SerialError::InvalidSerial`] for empty input or a character that is not hex.
    pub fn parse_hex(text: &str) -> Result<Serial, SerialError> {
        let bad = |reason: &str| SerialError::InvalidSerial {
            value: text.to_string(),
            reason: reason.to_string(),
        };
        let t = text.trim();
        let t = t
            .strip_prefix("0x")
            .or_else(|| t.strip_prefix("0X"))
            .unwrap_or(t);
        let mut digits: String = t.chars().filter(|&c| c != ':').collect();
        if digits.is_empty() {
            return Err(bad("empty"));
        }
        if !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad("expected hex digits, e.g. `1A2B` or `1a:2b`"));
        }
        if digits.len() % 2 == 1 {
            digits.insert(0, '0');
        }
        let bytes = hex::decode(&digits).map_err(|e| bad(&e.to_string()))?;
        Ok(Serial::from_bytes(&bytes))
    }

    /// Reads a `serial` or `crlnumber` file as `openssl ca` does: one number in hex with an
    /// even number of digits on the first line.
    ///
    /// # Errors
    /// [`SerialError::BadNumberFile`] naming `file` when openssl would refuse it too.
    pub fn parse_file(text: &[u8], file: &str) -> Result<Serial, SerialError> {
        let bad = |reason: String| SerialError::BadNumberFile {
            file: file.to_string(),
            reason,
        };
        let text = std::str::from_utf8(text).map_err(|_| bad("not text".into()))?;
        let line = text.lines().next().unwrap_or("").trim_end();
        if line.is_empty() {
            return Err(bad(
                "empty; it must hold the next number in hex, e.g. `01`".into()
            ));
        }
        if let Some(c) = line.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(bad(format!("`{line}`: `{c}` is not a hex digit")));
        }
        if line.len() % 2 == 1 {
            return Err(bad(format!(
                "`{line}` has an odd number of hex digits (openssl ca refuses it; write `0{line}`)"
            )));
        }
        let bytes = hex::decode(line).map_err(|e| bad(e.to_string()))?;
        Ok(Serial::from_bytes(&bytes))
    }

    /// The big-endian bytes without leading zeros (empty for zero).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// True for zero.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// Uppercase hex, two digits per byte, `00` for zero: openssl's `BN_bn2hex`, the form of the
    /// serial column in `index.txt` and of the `serial` file.
    #[must_use]
    pub fn to_hex(&self) -> String {
        if self.0.is_empty() {
            "00".into()
        } else {
            hex::encode_upper(&self.0)
        }
    }

    /// The text of a `serial` or `crlnumber` file holding this number.
    #[must_use]
    pub fn file_text(&self) -> String {
        format!("{}\n", self.to_hex())
    }

    /// This number plus one.
    #[must_use]
    pub fn next(&self) -> Serial {
        let mut bytes = self.0.clone();
        for b in bytes.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                return Serial(bytes);
            }
        }
        bytes.insert(0, 1);
        Serial(bytes)
    }
}

impl Ord for Serial {
    /// Numeric order.
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for Serial {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_uppercase_even_and_without_sign_byte() {
        assert_eq!(Serial::from_bytes(&[0x00, 0x8f, 0x01]).to_hex(), "8F01");
        assert_eq!(Serial::from_bytes(&[]).to_hex(), "00");
        assert_eq!(Serial::parse_hex("0xa").unwrap().to_hex(), "0A");
        assert_eq!(Serial::parse_hex("1a:2B").unwrap().to_hex(), "1A2B");
        assert!(Serial::parse_hex("xyz").is_err());
    }

    #[test]
    fn next_carries() {
        assert_eq!(Serial::parse_hex("FF").unwrap().next().to_hex(), "0100");
        assert_eq!(Serial::parse_hex("00").unwrap().next().to_hex(), "01");
        assert_eq!(Serial::parse_hex("10FF").unwrap().next().to_hex(), "1100");
    }

    #[test]
    fn serial_file_is_read_as_openssl_reads_it() {
        assert_eq!(
            Serial::parse_file(b"7EA31C\n", "serial").unwrap().to_hex(),
            "7EA31C"
        );
        let err = Serial::parse_file(b"1\n", "pki/serial").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`pki/serial`: `1` has an odd number of hex digits (openssl ca refuses it; write `01`)"
        );
        assert!(Serial::parse_file(b"", "serial").is_err());
    }

    #[test]
    fn order_is_numeric() {
        let small = Serial::parse_hex("FF").unwrap();
        let big = Serial::parse_hex("0100").unwrap();
        assert!(small < big);
    }
}
