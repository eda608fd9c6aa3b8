//! Whole documents: the fixtures in `tests/data/inspect/`, checked field by field and against
//! openssl's own text for them.

use super::*;
use crate::pki::colon_hex;

/// A fixture: a document and openssl's `-text` output for it.
struct Sample {
    pem: &'static [u8],
    text: &'static str,
}

/// The fixture `tests/data/inspect/NAME.pem` with its `NAME.txt`.
macro_rules! sample {
    ($name:literal) => {
        Sample {
            pem: include_bytes!(concat!("../../../tests/data/inspect/", $name, ".pem")),
            text: include_str!(concat!("../../../tests/data/inspect/", $name, ".txt")),
        }
    };
}

const CA: Sample = sample!("ca");
const LEAF: Sample = sample!("leaf");
const CSR: Sample = sample!("leaf.csr");
const EC384: Sample = sample!("ec384");
const MISC: Sample = sample!("misc");

// The keys, in the three encodings, and a request whose signature does not verify.
const CA_KEY: &[u8] = include_bytes!("../../../tests/data/inspect/ca-key.pkcs1.pem");
const LEAF_KEY: &[u8] = include_bytes!("../../../tests/data/inspect/leaf-key.pkcs8.pem");
const EC384_KEY: &[u8] = include_bytes!("../../../tests/data/inspect/ec384-key.sec1.pem");
const CSR_TAMPERED: &[u8] = include_bytes!("../../../tests/data/inspect/leaf.csr.tampered.pem");

const CA_SKI: &str = "C3:8C:97:79:9E:86:19:06:C9:88:A9:21:AA:B4:53:C9:A9:39:00:94";

fn one(pem: &[u8]) -> Inspected {
    let mut items = inspect_pem(pem).unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    items.remove(0)
}

fn cert(pem: &[u8]) -> CertInfo {
    match one(pem) {
        Inspected::Certificate(c) => c,
        other => panic!("not a certificate: {other:?}"),
    }
}

fn csr(pem: &[u8]) -> CsrInfo {
    match one(pem) {
        Inspected::Csr(c) => c,
        other => panic!("not a CSR: {other:?}"),
    }
}

fn field(short: &str, value: &str) -> NameField {
    NameField {
        short: short.into(),
        value: value.into(),
    }
}

fn ext(name: &str, oid: &str, critical: bool, value: &str) -> ExtensionInfo {
    ExtensionInfo {
        name: name.into(),
        oid: oid.into(),
        critical,
        value: value.into(),
    }
}

fn ecdsa(bits: u32, curve: &str) -> PublicKeyInfo {
    PublicKeyInfo {
        algorithm: "ECDSA".into(),
        bits,
        curve: Some(curve.into()),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

/// Every line of openssl's `-text` output, except hex dumps and the lines that introduce
/// them, must appear as a line of ours.
fn assert_matches_openssl(ours: &str, openssl: &str) {
    let our_lines: Vec<&str> = ours.lines().map(str::trim_end).collect();
    let is_dump = |l: &str| {
        let t = l.trim();
        !t.is_empty()
            && t.split(':')
                .all(|p| p.is_empty() || (p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit())))
            && t.contains(':')
            && !t.chars().any(|c| c.is_ascii_uppercase())
    };
    for line in openssl.lines().map(str::trim_end) {
        let t = line.trim();
        if is_dump(line)
            || ["Modulus:", "pub:", "Signature Value:"].contains(&t)
            || t.starts_with("Exponent:")
        {
            continue;
        }
        assert!(
            our_lines.contains(&line),
            "openssl line missing from our text: {line:?}\n--- ours ---\n{ours}"
        );
    }
}

#[test]
fn rsa_ca_certificate() {
    let c = cert(CA.pem);
    let name = NameInfo {
        text: "O = Cockroach, CN = Cockroach CA".into(),
        fields: vec![field("O", "Cockroach"), field("CN", "Cockroach CA")],
    };
    let expected = CertInfo {
        version: 3,
        serial: "10:00".into(),
        signature_algorithm: "sha256WithRSAEncryption".into(),
        issuer: name.clone(),
        subject: name,
        not_before: "2026-11-23T21:30:19Z".into(),
        not_after: "2036-11-20T21:30:19Z".into(),
        validity_seconds: 3650 * 86400,
        public_key: PublicKeyInfo {
            algorithm: "RSA".into(),
            bits: 2048,
            curve: None,
        },
        summary: ExtensionSummary {
            basic_constraints: Some(BasicConstraintsInfo {
                ca: true,
                path_len: Some(1),
                critical: true,
            }),
            key_usage: strings(&["digitalSignature", "keyCertSign", "cRLSign"]),
            key_usage_critical: Some(true),
            ext_key_usage: vec![],
            ext_key_usage_critical: None,
            san: vec![],
            san_critical: None,
        },
        subject_key_id: Some(CA_SKI.into()),
        authority_key_id: Some(AuthorityKeyIdInfo {
            key_id: Some(CA_SKI.into()),
            issuer: None,
            serial: None,
        }),
        extensions: vec![
            ext("basicConstraints", "2.5.29.19", true, "CA:TRUE, pathlen:1"),
            ext(
                "keyUsage",
                "2.5.29.15",
                true,
                "Digital Signature, Certificate Sign, CRL Sign",
            ),
            ext("subjectKeyIdentifier", "2.5.29.14", false, CA_SKI),
            ext("authorityKeyIdentifier", "2.5.29.35", false, CA_SKI),
        ],
        fingerprint_sha256: "59:56:65:FB:26:F4:40:DB:E5:5B:E2:FD:2C:28:B5:55:24:9D:B0:A3:\
                             C4:15:9B:81:54:CB:9F:42:01:8A:99:D8"
            .into(),
        self_signed: true,
    };
    assert_eq!(c, expected);

    // The SKI is the RFC 5280 method-1 identifier pkirun computes for the key.
    let key = Key::from_pem(CA_KEY).unwrap();
    assert_eq!(colon_hex(&key.key_identifier(), true), CA_SKI);

    let text = c.to_text();
    for line in [
        "        Version: 3 (0x2)",
        "        Serial Number: 4096 (0x1000)",
        "        Issuer: O = Cockroach, CN = Cockroach CA",
        "        Subject: O = Cockroach, CN = Cockroach CA",
        "            Not Before: Nov 23 21:30:19 2026 GMT",
        "            Not After : Nov 20 21:30:19 2036 GMT",
        "            Public Key Algorithm: rsaEncryption",
        "                Public-Key: (2048 bit)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} not in\n{text}");
    }
    assert!(text.contains(
        "            X509v3 Basic Constraints: critical\n                CA:TRUE, pathlen:1\n"
    ));
    assert!(text.contains(
        "            X509v3 Key Usage: critical\n                \
         Digital Signature, Certificate Sign, CRL Sign\n"
    ));
    assert_matches_openssl(&text, CA.text);
}

#[test]
fn leaf_certificate_with_critical_san() {
    let c = cert(LEAF.pem);
    assert_eq!(c.version, 3);
    assert_eq!(
        c.serial,
        "8a:3f:0c:11:d2:e4:b5:a6:97:88:77:66:55:44:33:22:11:00:ff:ee"
    );
    assert_eq!(c.issuer.text, "O = Cockroach, CN = Cockroach CA");
    assert_eq!(
        c.subject.text,
        "C = US, O = Cockroach, OU = db, OU = ops, CN = node"
    );
    assert_eq!(
        c.subject.fields,
        vec![
            field("C", "US"),
            field("O", "Cockroach"),
            field("OU", "db"),
            field("OU", "ops"),
            field("CN", "node"),
        ]
    );
    assert_eq!(c.not_before, "2026-11-23T21:30:19Z");
    assert_eq!(c.not_after, "2029-02-25T21:30:19Z");
    assert_eq!(c.validity_seconds, 825 * 86400);
    assert_eq!(c.public_key, ecdsa(256, "P-256"));
    assert_eq!(
        c.summary.basic_constraints,
        Some(BasicConstraintsInfo {
            ca: false,
            path_len: None,
            critical: false,
        })
    );
    assert_eq!(
        c.summary.key_usage,
        strings(&["digitalSignature", "keyEncipherment"])
    );
    assert_eq!(c.summary.key_usage_critical, Some(true));
    assert_eq!(
        c.summary.ext_key_usage,
        strings(&["serverAuth", "clientAuth"])
    );
    assert_eq!(c.summary.ext_key_usage_critical, Some(false));
    assert_eq!(
        c.summary.san,
        strings(&[
            "DNS:localhost",
            "DNS:node.example.io",
            "IP:127.0.0.1",
            "IP:::1",
            "URI:spiffe://cockroach/node/1",
            "email:ops@example.io",
        ])
    );
    assert_eq!(c.summary.san_critical, Some(true));
    assert_eq!(
        c.subject_key_id.as_deref(),
        Some("C1:B5:9E:2A:54:9A:3E:9C:A8:0F:DA:F1:C1:83:36:80:D0:9F:87:2D")
    );
    assert_eq!(
        c.authority_key_id,
        Some(AuthorityKeyIdInfo {
            key_id: Some(CA_SKI.into()),
            issuer: Some("O = Cockroach, CN = Cockroach CA".into()),
            serial: Some("10:00".into()),
        })
    );
    let names: Vec<&str> = c.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "basicConstraints",
            "keyUsage",
            "extendedKeyUsage",
            "subjectAltName",
            "subjectKeyIdentifier",
            "authorityKeyIdentifier"
        ]
    );
    assert_eq!(
        c.extensions[2].value,
        "TLS Web Server Authentication, TLS Web Client Authentication"
    );
    assert_eq!(
        c.extensions[3],
        ext(
            "subjectAltName",
            "2.5.29.17",
            true,
            "DNS:localhost, DNS:node.example.io, IP Address:127.0.0.1, \
             IP Address:0:0:0:0:0:0:0:1, URI:spiffe://cockroach/node/1, email:ops@example.io"
        )
    );
    assert_eq!(
        c.extensions[5].value,
        format!("keyid:{CA_SKI}\nDirName:/O=Cockroach/CN=Cockroach CA\nserial:10:00")
    );
    assert_eq!(
        c.fingerprint_sha256,
        "C1:74:5F:78:D4:B9:D4:C7:BF:6A:FE:36:1A:46:0A:D7:66:30:AB:57:C7:62:53:4C:A7:7C:55:83:\
         9F:EC:C9:08"
    );
    assert!(!c.self_signed);

    let text = c.to_text();
    assert!(text.contains(
        "        Serial Number:\n            \
         8a:3f:0c:11:d2:e4:b5:a6:97:88:77:66:55:44:33:22:11:00:ff:ee\n"
    ));
    assert!(text.contains(
        "            X509v3 Subject Alternative Name: critical\n                \
         DNS:localhost, DNS:node.example.io, IP Address:127.0.0.1"
    ));
    assert!(text.contains("            Public Key Algorithm: id-ecPublicKey\n"));
    assert_matches_openssl(&text, LEAF.text);
}

#[test]
fn ecdsa_p384_certificate() {
    let c = cert(EC384.pem);
    assert_eq!(c.signature_algorithm, "ecdsa-with-SHA384");
    assert_eq!(c.serial, "01:02:03:04:05:06:07:08:09:0a");
    assert_eq!(c.public_key, ecdsa(384, "P-384"));
    assert_eq!(
        c.subject.text,
        r#"C = US, ST = New York, O = "Example, Inc.", CN = EC \"384\" Root"#
    );
    assert_eq!(c.subject.fields[2], field("O", "Example, Inc."));
    assert_eq!(c.subject.fields[3], field("CN", "EC \"384\" Root"));
    assert_eq!(c.issuer, c.subject);
    assert_eq!(c.validity_seconds, 365 * 86400);
    assert_eq!(
        c.summary.basic_constraints,
        Some(BasicConstraintsInfo {
            ca: true,
            path_len: None,
            critical: true,
        })
    );
    assert_eq!(c.summary.key_usage, strings(&["keyCertSign", "cRLSign"]));
    assert!(c.authority_key_id.is_none());
    assert!(c.self_signed, "P-384 self-signature verifies");
    let text = c.to_text();
    assert!(
        text.contains("                ASN1 OID: secp384r1\n                NIST CURVE: P-384\n")
    );
    assert_matches_openssl(&text, EC384.text);
}

#[test]
fn less_common_extensions_render_like_openssl() {
    let c = cert(MISC.pem);
    assert_eq!(c.serial, "7f:ff:ff:ff:ff:ff:ff:ff");
    assert_eq!(
        c.subject.text,
        r##"DC = io, DC = example, CN = misc + UID = 42, O = "Acme, Inc", OU = " padded ", title = "#1""##
    );
    assert_eq!(c.subject.fields[3], field("UID", "42"));
    assert_eq!(c.subject.fields[5], field("OU", " padded "));
    assert_eq!(
        c.summary.key_usage,
        strings(&[
            "nonRepudiation",
            "dataEncipherment",
            "keyAgreement",
            "encipherOnly",
            "decipherOnly"
        ])
    );
    assert_eq!(c.summary.key_usage_critical, Some(false));
    assert_eq!(
        c.summary.ext_key_usage,
        strings(&[
            "codeSigning",
            "emailProtection",
            "timeStamping",
            "OCSPSigning",
            "1.3.6.1.4.1.311.10.3.4",
            "anyExtendedKeyUsage",
        ])
    );
    assert_eq!(
        c.summary.san,
        strings(&[
            "IP:2001:db8::1",
            "IP:fe80::1:0:0:2",
            "DirName:O = Dir Org, CN = dir cn",
            "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user@example.com",
            "RID:1.2.3.4",
        ])
    );
    let unknown = c.extensions.iter().find(|e| e.oid == "1.2.3.4.5").unwrap();
    assert_eq!(unknown.name, "1.2.3.4.5");
    assert_eq!(unknown.value, "..custom");
    let nc = c
        .extensions
        .iter()
        .find(|e| e.name == "nameConstraints")
        .unwrap();
    assert!(nc.critical);
    assert!(c.self_signed);
    let text = c.to_text();
    assert!(text.contains("        Serial Number: 9223372036854775807 (0x7fffffffffffffff)\n"));
    assert_matches_openssl(&text, MISC.text);
}

#[test]
fn csr_with_requested_extensions() {
    let c = csr(CSR.pem);
    assert_eq!(
        c.subject.text,
        "C = US, O = Cockroach, OU = db, OU = ops, CN = node"
    );
    assert_eq!(c.signature_algorithm, "ecdsa-with-SHA256");
    assert!(c.signature_valid);
    assert_eq!(c.public_key, ecdsa(256, "P-256"));
    assert_eq!(
        c.summary,
        ExtensionSummary {
            basic_constraints: Some(BasicConstraintsInfo {
                ca: false,
                path_len: None,
                critical: false,
            }),
            key_usage: strings(&["digitalSignature", "keyEncipherment"]),
            key_usage_critical: Some(true),
            ext_key_usage: strings(&["clientAuth"]),
            ext_key_usage_critical: Some(false),
            san: strings(&["DNS:node", "IP:10.0.0.1"]),
            san_critical: Some(false),
        }
    );
    assert_eq!(
        c.extensions,
        vec![
            ext("basicConstraints", "2.5.29.19", false, "CA:FALSE"),
            ext(
                "keyUsage",
                "2.5.29.15",
                true,
                "Digital Signature, Key Encipherment"
            ),
            ext(
                "extendedKeyUsage",
                "2.5.29.37",
                false,
                "TLS Web Client Authentication"
            ),
            ext(
                "subjectAltName",
                "2.5.29.17",
                false,
                "DNS:node, IP Address:10.0.0.1"
            ),
        ]
    );
    let text = Inspected::Csr(c).to_text();
    assert!(text.starts_with("Certificate Request:\n    Data:\n        Version: 1 (0x0)\n"));
    assert!(text.contains(
        "            Requested Extensions:\n                X509v3 Basic Constraints:\n"
    ));
    assert!(text.ends_with("Certificate request self-signature ok\n"));
    assert_matches_openssl(&text, CSR.text);
}

#[test]
fn tampered_csr_parses_but_signature_fails() {
    let c = csr(CSR_TAMPERED);
    assert!(!c.signature_valid);
    assert_eq!(c.subject.fields[1], field("O", "cockroach"));
    assert!(
        Inspected::Csr(c)
            .to_text()
            .ends_with("Certificate request self-signature verify failure\n")
    );
}

#[test]
fn private_keys_in_all_three_formats() {
    let key = |pem| match one(pem) {
        Inspected::PrivateKey(k) => k,
        other => panic!("not a key: {other:?}"),
    };
    assert_eq!(
        key(CA_KEY),
        KeyInfo {
            algorithm: "RSA".into(),
            bits: 2048,
            curve: None,
            format: "PKCS#1".into(),
        }
    );
    assert_eq!(
        key(LEAF_KEY),
        KeyInfo {
            algorithm: "ECDSA".into(),
            bits: 256,
            curve: Some("P-256".into()),
            format: "PKCS#8".into(),
        }
    );
    // `openssl ecparam -genkey` writes an EC PARAMETERS block first: it is skipped.
    assert!(
        std::str::from_utf8(EC384_KEY)
            .unwrap()
            .starts_with("-----BEGIN EC PARAMETERS-----")
    );
    let k = key(EC384_KEY);
    assert_eq!(
        k,
        KeyInfo {
            algorithm: "ECDSA".into(),
            bits: 384,
            curve: Some("P-384".into()),
            format: "SEC1".into(),
        }
    );
    let text = Inspected::PrivateKey(k).to_text();
    assert_eq!(
        text,
        "Private Key:\n    Format: SEC1\n    Algorithm: ECDSA\n    Private-Key: (384 bit)\n    \
         ASN1 OID: secp384r1\n    NIST CURVE: P-384\n"
    );
}

#[test]
fn bundles_keep_file_order_and_errors() {
    let mut bundle = Vec::new();
    for part in [LEAF.pem, CA.pem, LEAF_KEY] {
        bundle.extend_from_slice(part);
    }
    let kinds: Vec<&str> = inspect_pem(&bundle)
        .unwrap()
        .iter()
        .map(|i| match i {
            Inspected::Certificate(_) => "cert",
            Inspected::Csr(_) => "csr",
            Inspected::PrivateKey(_) => "key",
            Inspected::Crl(_) => "crl",
            Inspected::Broken(_) => "broken",
        })
        .collect();
    assert_eq!(kinds, ["cert", "cert", "key"]);

    let params_only = b"-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n";
    assert!(matches!(
        inspect_pem(params_only),
        Err(Error::NoPemBlock { found, .. }) if found == "EC PARAMETERS"
    ));
    assert!(matches!(
        inspect_pem(b"hello"),
        Err(Error::NoPemBlock { .. })
    ));
    assert!(matches!(
        inspect_cert_der(b"\x30\x03\x02\x01\x01"),
        Err(Error::InvalidCertificate(_))
    ));
    let ca_der = parse_blocks(CA.pem).unwrap().remove(0).der;
    assert!(matches!(
        inspect_csr_der(&ca_der),
        Err(Error::InvalidCsr(_))
    ));
    let mut trailing = ca_der.clone();
    trailing.push(0);
    assert!(matches!(
        inspect_cert_der(&trailing),
        Err(Error::InvalidCertificate(_))
    ));
    assert_eq!(inspect_cert_der(&ca_der).unwrap(), cert(CA.pem));
}

#[test]
fn json_has_kind_tags() {
    let items = inspect_pem(&[CA.pem, CSR.pem, LEAF_KEY].concat()).unwrap();
    let json = serde_json::to_value(&items).unwrap();
    assert_eq!(json[0]["kind"], "certificate");
    assert_eq!(
        json[0]["subject"]["text"],
        "O = Cockroach, CN = Cockroach CA"
    );
    assert_eq!(json[0]["basic_constraints"]["path_len"], 1);
    assert_eq!(json[0]["serial"], "10:00");
    assert_eq!(json[1]["kind"], "csr");
    assert_eq!(json[1]["signature_valid"], true);
    assert_eq!(json[2]["kind"], "private_key");
    assert_eq!(json[2]["format"], "PKCS#8");
    let text = serde_json::to_string(&items[0]).unwrap();
    assert!(text.starts_with(r#"{"kind":"certificate","#), "{text}");
}
