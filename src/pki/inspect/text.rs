//! Text like `openssl x509 -noout -text` and `openssl req -noout -text`, without the hex dumps
//! of moduli, public points and signatures.

use std::fmt::Write as _;

use super::extensions::extension_names;
use super::serial::serial_text;
use super::validity::openssl_time;
use super::{CertInfo, CsrInfo, ExtensionInfo, Inspected, KeyInfo, PublicKeyInfo};

impl Inspected {
    /// Renders the object as text, like `openssl x509 -noout -text`, `openssl req -noout -text`,
    /// or (for keys) a short description without key material.
    #[must_use]
    pub fn to_text(&self) -> String {
        match self {
            Inspected::Certificate(c) => c.to_text(),
            Inspected::Csr(c) => c.to_text(),
            Inspected::PrivateKey(k) => k.to_text(),
            Inspected::Crl(c) => c.to_text(),
            Inspected::Broken(b) => {
                format!("Broken block {} ({}): {}\n", b.block, b.label, b.reason)
            }
        }
    }
}

impl CertInfo {
    /// Renders the certificate like `openssl x509 -noout -text` (without the modulus, public
    /// point and signature hex dumps), followed by the SHA-256 fingerprint line of
    /// `openssl x509 -noout -fingerprint -sha256`.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("Certificate:\n    Data:\n");
        let raw_version = self.version.saturating_sub(1);
        let _ = writeln!(s, "        Version: {} (0x{raw_version:x})", self.version);
        let _ = writeln!(s, "        Serial Number:{}", serial_text(&self.serial));
        let _ = writeln!(
            s,
            "        Signature Algorithm: {}",
            self.signature_algorithm
        );
        push_line(&mut s, "        Issuer:", &self.issuer.text);
        s.push_str("        Validity\n");
        let _ = writeln!(
            s,
            "            Not Before: {}",
            openssl_time(&self.not_before)
        );
        let _ = writeln!(
            s,
            "            Not After : {}",
            openssl_time(&self.not_after)
        );
        push_line(&mut s, "        Subject:", &self.subject.text);
        push_public_key(&mut s, &self.public_key);
        if !self.extensions.is_empty() {
            s.push_str("        X509v3 extensions:\n");
            push_extensions(&mut s, &self.extensions, 12);
        }
        let _ = writeln!(s, "    Signature Algorithm: {}", self.signature_algorithm);
        let _ = writeln!(s, "sha256 Fingerprint={}", self.fingerprint_sha256);
        s
    }
}

impl CsrInfo {
    /// Renders the request like `openssl req -noout -text` (without hex dumps), followed by
    /// openssl's verdict line of `openssl req -verify`.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("Certificate Request:\n    Data:\n        Version: 1 (0x0)\n");
        push_line(&mut s, "        Subject:", &self.subject.text);
        push_public_key(&mut s, &self.public_key);
        s.push_str("        Attributes:\n");
        if self.extensions.is_empty() {
            s.push_str("            (none)\n");
        } else {
            s.push_str("            Requested Extensions:\n");
            push_extensions(&mut s, &self.extensions, 16);
        }
        let _ = writeln!(s, "    Signature Algorithm: {}", self.signature_algorithm);
        s.push_str(if self.signature_valid {
            "Certificate request self-signature ok\n"
        } else {
            "Certificate request self-signature verify failure\n"
        });
        s
    }
}

impl KeyInfo {
    /// Describes the key (format, algorithm, size, curve); never key material.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str("Private Key:\n");
        let _ = writeln!(s, "    Format: {}", self.format);
        let _ = writeln!(s, "    Algorithm: {}", self.algorithm);
        let _ = writeln!(s, "    Private-Key: ({} bit)", self.bits);
        push_curve_lines(&mut s, self.curve.as_deref(), 4);
        s
    }
}

fn push_line(s: &mut String, head: &str, value: &str) {
    if value.is_empty() {
        s.push_str(head);
    } else {
        let _ = write!(s, "{head} {value}");
    }
    s.push('\n');
}

fn push_public_key(s: &mut String, pk: &PublicKeyInfo) {
    s.push_str("        Subject Public Key Info:\n");
    let name = match pk.algorithm.as_str() {
        "RSA" => "rsaEncryption",
        "ECDSA" => "id-ecPublicKey",
        "RSA-PSS" => "rsassaPss",
        "Ed25519" => "ED25519",
        "Ed448" => "ED448",
        "DSA" => "dsaEncryption",
        other => other,
    };
    let _ = writeln!(s, "            Public Key Algorithm: {name}");
    let _ = writeln!(s, "                Public-Key: ({} bit)", pk.bits);
    push_curve_lines(s, pk.curve.as_deref(), 16);
}

fn push_curve_lines(s: &mut String, curve: Option<&str>, indent: usize) {
    let Some(curve) = curve else { return };
    let (asn1, nist) = match curve {
        "P-256" => ("prime256v1", Some("P-256")),
        "P-384" => ("secp384r1", Some("P-384")),
        "P-521" => ("secp521r1", Some("P-521")),
        other => (other, None),
    };
    let _ = writeln!(s, "{:indent$}ASN1 OID: {asn1}", "");
    if let Some(nist) = nist {
        let _ = writeln!(s, "{:indent$}NIST CURVE: {nist}", "");
    }
}

fn push_extensions(s: &mut String, exts: &[ExtensionInfo], indent: usize) {
    for e in exts {
        let label = extension_names(&e.oid).map_or(e.oid.as_str(), |(_, label)| label);
        let crit = if e.critical { " critical" } else { "" };
        let _ = writeln!(s, "{:indent$}{label}:{crit}", "");
        for line in e.value.lines() {
            let _ = writeln!(s, "{:w$}{line}", "", w = indent + 4);
        }
    }
}
