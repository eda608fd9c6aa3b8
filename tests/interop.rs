//! Interoperability with the OpenSSL CLI, both ways: keys, CSRs and CAs that openssl makes load
//! and sign in pkirun; keys, CSRs and certificates that pkirun makes pass openssl's checks.

use crate::util::{Dir, csr_verifies, ext_value, pubkey_of_cert, pubkey_of_key};

/// The public key of a CSR, as `openssl pkey -pubout` prints a key's.
fn pubkey_of_csr(dir: &Dir, csr: &str) -> String {
    dir.openssl(&["req", "-in", csr, "-noout", "-pubkey"])
}

/// `openssl verify` with everything after `-CAfile CA`; panics with openssl's words on failure.
fn verify(dir: &Dir, ca: &str, cert: &str, extra: &[&str]) {
    let mut args = vec!["verify", "-CAfile", ca];
    args.extend_from_slice(extra);
    args.push(cert);
    let out = dir.openssl(&args);
    assert_eq!(out, format!("{cert}: OK\n"));
}

/// What `openssl x509 -noout -<what> -nameopt RFC2253` prints after `<what>=`.
fn rfc2253(dir: &Dir, cert: &str, what: &str) -> String {
    let out = dir.openssl(&[
        "x509",
        "-in",
        cert,
        "-noout",
        &format!("-{what}"),
        "-nameopt",
        "RFC2253",
    ]);
    out.trim_end()
        .strip_prefix(&format!("{what}="))
        .unwrap_or_else(|| panic!("unexpected openssl output: {out}"))
        .to_string()
}

// ---- keys made by openssl, loaded and used by pkirun ----------------------------------------

/// Makes `openssl.key` with `openssl <gen>`, checks its PEM labels are `labels` (so the test is
/// about the format it claims), then has pkirun load it, make a CSR and sign that with a pkirun
/// CA. openssl must accept the CSR and the certificate, and both must carry openssl's key.
fn openssl_key_loads_and_signs(gen_args: &[&str], labels: &[&str], spec: &str) {
    let dir = Dir::new();
    dir.openssl(gen_args);
    assert_eq!(dir.pem_labels("openssl.key"), labels);
    let run = dir
        .run_script(
            r#"
let key = load_key("openssl.key");
print(key.spec);
let ca = new_ca(gen_key("ecdsa", 256), #{ subject: ["O=pkirun interop", "CN=pkirun CA"] });
write_cert("ca.crt", ca.cert);
let csr = new_csr(key, #{ subject: ["O=pkirun interop", "CN=node1"], san: ["node1.example.io", "IP:10.0.0.1"] });
write_csr("node1.csr", csr);
write_cert("node1.crt", ca.sign(csr, #{ profile: "server" }));
"#,
            &[],
        )
        .success();
    assert_eq!(run.stdout().trim(), spec);

    let (ok, said) = csr_verifies(&dir, "node1.csr");
    assert!(ok, "openssl req -verify refused pkirun's CSR: {said}");
    verify(
        &dir,
        "ca.crt",
        "node1.crt",
        &["-x509_strict", "-purpose", "sslserver"],
    );
    verify(
        &dir,
        "ca.crt",
        "node1.crt",
        &["-verify_hostname", "node1.example.io"],
    );
    verify(&dir, "ca.crt", "node1.crt", &["-verify_ip", "10.0.0.1"]);

    let key = pubkey_of_key(&dir, "openssl.key");
    assert!(key.starts_with("-----BEGIN PUBLIC KEY-----"), "{key}");
    assert_eq!(pubkey_of_csr(&dir, "node1.csr"), key, "CSR key");
    assert_eq!(pubkey_of_cert(&dir, "node1.crt"), key, "certificate key");
    // pkirun read the key; it never writes or changes it.
    assert_eq!(
        dir.files(),
        ["ca.crt", "node1.crt", "node1.csr", "openssl.key"]
    );
}

#[test]
fn an_openssl_genrsa_traditional_pkcs1_key_loads_and_signs() {
    openssl_key_loads_and_signs(
        &["genrsa", "-traditional", "-out", "openssl.key", "2048"],
        &["RSA PRIVATE KEY"],
        "rsa:2048",
    );
}

#[test]
fn an_openssl_genrsa_pkcs8_key_loads_and_signs() {
    openssl_key_loads_and_signs(
        &["genrsa", "-out", "openssl.key", "2048"],
        &["PRIVATE KEY"],
        "rsa:2048",
    );
}

#[test]
fn an_openssl_ecparam_secp384r1_key_with_its_parameters_block_loads_and_signs() {
    openssl_key_loads_and_signs(
        &[
            "ecparam",
            "-genkey",
            "-name",
            "secp384r1",
            "-out",
            "openssl.key",
        ],
        &["EC PARAMETERS", "EC PRIVATE KEY"],
        "ecdsa:384",
    );
}

#[test]
fn an_openssl_ecparam_prime256v1_sec1_key_without_parameters_loads_and_signs() {
    openssl_key_loads_and_signs(
        &[
            "ecparam",
            "-genkey",
            "-name",
            "prime256v1",
            "-noout",
            "-out",
            "openssl.key",
        ],
        &["EC PRIVATE KEY"],
        "ecdsa:256",
    );
}

#[test]
fn an_openssl_genpkey_p256_pkcs8_key_loads_and_signs() {
    openssl_key_loads_and_signs(
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "openssl.key",
        ],
        &["PRIVATE KEY"],
        "ecdsa:256",
    );
}

// ---- a CSR made by openssl req ---------------------------------------------------------------

#[test]
fn an_openssl_csr_with_requested_sans_is_signed_with_them_under_copy_extensions_copy() {
    let dir = Dir::new();
    dir.create(
        "req.cnf",
        "[req]
prompt = no
distinguished_name = dn
req_extensions = v3_req

[dn]
O = Interop
CN = node.example.io

[v3_req]
subjectAltName = DNS:node.example.io, DNS:localhost, IP:127.0.0.1, IP:10.1.2.3
",
    );
    dir.openssl(&[
        "req",
        "-new",
        "-config",
        "req.cnf",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "node.key",
        "-out",
        "node.csr",
    ]);
    let run = dir
        .run_script(
            r#"
let ca = new_ca(gen_key("ecdsa", 256), #{ subject: #{ O: "Interop", CN: "pkirun CA" } });
write_cert("ca.crt", ca.cert);
let csr = load_csr("node.csr");
print(csr.subject);
print(join(csr.sans, ", "));
write_cert("node.crt", ca.sign(csr, #{ copy_extensions: "copy", profile: "server" }));
"#,
            &[],
        )
        .success();
    assert_eq!(
        run.stdout(),
        "O = Interop, CN = node.example.io\n\
         DNS:node.example.io, DNS:localhost, IP:127.0.0.1, IP:10.1.2.3\n"
    );

    let text = dir.x509_text("node.crt");
    assert!(
        text.contains("Subject: O = Interop, CN = node.example.io\n"),
        "{text}"
    );
    // The request's SAN is not critical, and "copy" keeps it as requested.
    assert_eq!(
        ext_value(&text, "X509v3 Subject Alternative Name:"),
        "DNS:node.example.io, DNS:localhost, IP Address:127.0.0.1, IP Address:10.1.2.3"
    );
    for host in ["node.example.io", "localhost"] {
        verify(&dir, "ca.crt", "node.crt", &["-verify_hostname", host]);
    }
    for ip in ["127.0.0.1", "10.1.2.3"] {
        verify(&dir, "ca.crt", "node.crt", &["-verify_ip", ip]);
    }
    verify(
        &dir,
        "ca.crt",
        "node.crt",
        &["-x509_strict", "-purpose", "sslserver"],
    );
    for (flag, value) in [
        ("-verify_hostname", "other.example.io"),
        ("-verify_ip", "10.1.2.4"),
    ] {
        let out = dir.openssl_output(&["verify", "-CAfile", "ca.crt", flag, value, "node.crt"]);
        assert!(!out.status.success(), "{value} is not in the SANs");
    }
    assert_eq!(
        pubkey_of_cert(&dir, "node.crt"),
        pubkey_of_key(&dir, "node.key")
    );
}

// ---- a CA made by openssl req -x509 ----------------------------------------------------------

/// Loads the openssl CA in `ca.crt`/`ca.key` with pkirun, issues a leaf, and checks it chains,
/// names its issuer with the CA subject's exact bytes and points at the CA's key identifier.
fn openssl_ca_issues(dir: &Dir, strict: bool, signature: &str) {
    dir.run_script(
        r#"
let ca = load_ca("ca.crt", "ca.key");
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ O: "Interop", CN: "leaf" }, san: ["leaf.example.io", "IP:10.0.0.2"], profile: "server", days: 7 });
write_pair("leaf.key", r.key, "leaf.crt", r.cert);
"#,
        &[],
    )
    .success();
    assert_eq!(dir.mode("leaf.key"), 0o400);
    let mut flags = vec![
        "-verify_hostname",
        "leaf.example.io",
        "-purpose",
        "sslserver",
    ];
    if strict {
        flags.push("-x509_strict");
    }
    verify(dir, "ca.crt", "leaf.crt", &flags);
    verify(dir, "ca.crt", "leaf.crt", &["-verify_ip", "10.0.0.2"]);
    assert_eq!(
        pubkey_of_cert(dir, "leaf.crt"),
        pubkey_of_key(dir, "leaf.key")
    );

    // The issuer name, as openssl reads it and byte for byte.
    assert_eq!(
        rfc2253(dir, "leaf.crt", "issuer"),
        rfc2253(dir, "ca.crt", "subject")
    );
    let ca_der = dir.pem_der("ca.crt", "CERTIFICATE");
    let leaf_der = dir.pem_der("leaf.crt", "CERTIFICATE");
    let (_, ca) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
    let (_, leaf) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
    assert_eq!(
        leaf.issuer().as_raw(),
        ca.subject().as_raw(),
        "the leaf's issuer must be the CA subject's DER, not a re-encoding"
    );

    let ca_text = dir.x509_text("ca.crt");
    let leaf_text = dir.x509_text("leaf.crt");
    assert_eq!(
        ext_value(&leaf_text, "X509v3 Authority Key Identifier:"),
        ext_value(&ca_text, "X509v3 Subject Key Identifier:")
    );
    assert!(
        leaf_text.contains(&format!("Signature Algorithm: {signature}\n")),
        "{leaf_text}"
    );
}

#[test]
fn an_openssl_rsa_ca_loads_and_issues_with_its_exact_subject_as_issuer() {
    let dir = Dir::new();
    // Several OUs in one multi-valued RDN, a PrintableString C and an IA5String emailAddress:
    // a re-encoded name would differ from these bytes.
    dir.openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-multivalue-rdn",
        "-subj",
        "/C=DE/O=Interop Org/OU=Ops+OU=PKI/CN=OpenSSL RSA Root/emailAddress=ca@example.org",
    ]);
    openssl_ca_issues(&dir, false, "sha256WithRSAEncryption");
    assert_eq!(
        rfc2253(&dir, "leaf.crt", "issuer"),
        "emailAddress=ca@example.org,CN=OpenSSL RSA Root,OU=PKI+OU=Ops,O=Interop Org,C=DE"
    );
}

#[test]
fn an_openssl_ec_p384_ca_loads_and_issues_with_its_exact_subject_as_issuer() {
    let dir = Dir::new();
    dir.openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/C=US/ST=California/L=San Francisco/O=Interop/CN=OpenSSL EC Root",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl_ca_issues(&dir, true, "ecdsa-with-SHA384");
    assert_eq!(
        rfc2253(&dir, "leaf.crt", "issuer"),
        "CN=OpenSSL EC Root,O=Interop,L=San Francisco,ST=California,C=US"
    );
}

// ---- keys written by pkirun ------------------------------------------------------------------

#[test]
fn pkirun_keys_written_in_every_format_pass_openssl_checks_with_mode_0400() {
    let dir = Dir::new();
    dir.run_script(
        r#"
let rsa = gen_key("rsa", 2048);
let p256 = gen_key("ecdsa", 256);
let p384 = gen_key("ecdsa", 384);
write_key("rsa.pkcs8.key", rsa, #{ format: "pkcs8" });
write_key("rsa.pkcs1.key", rsa, #{ format: "pkcs1" });
write_key("rsa.default.key", rsa);
write_key("p256.pkcs8.key", p256, #{ format: "pkcs8" });
write_key("p256.sec1.key", p256, #{ format: "sec1" });
write_key("p384.pkcs8.key", p384, #{ format: "pkcs8" });
write_key("p384.sec1.key", p384, #{ format: "sec1" });
write_key("p384.default.key", p384);
"#,
        &[],
    )
    .success();

    // (file, PEM label, openssl's own check, what `openssl pkey -text` says)
    let cases = [
        (
            "rsa.pkcs8.key",
            "PRIVATE KEY",
            "rsa",
            "Private-Key: (2048 bit",
        ),
        (
            "rsa.pkcs1.key",
            "RSA PRIVATE KEY",
            "rsa",
            "Private-Key: (2048 bit",
        ),
        (
            "rsa.default.key",
            "PRIVATE KEY",
            "rsa",
            "Private-Key: (2048 bit",
        ),
        (
            "p256.pkcs8.key",
            "PRIVATE KEY",
            "ec",
            "ASN1 OID: prime256v1",
        ),
        (
            "p256.sec1.key",
            "EC PRIVATE KEY",
            "ec",
            "ASN1 OID: prime256v1",
        ),
        ("p384.pkcs8.key", "PRIVATE KEY", "ec", "ASN1 OID: secp384r1"),
        (
            "p384.sec1.key",
            "EC PRIVATE KEY",
            "ec",
            "ASN1 OID: secp384r1",
        ),
        (
            "p384.default.key",
            "PRIVATE KEY",
            "ec",
            "ASN1 OID: secp384r1",
        ),
    ];
    for (file, label, check, text) in cases {
        assert_eq!(dir.mode(file), 0o400, "{file}");
        assert_eq!(dir.pem_labels(file), [label], "{file}");
        dir.openssl(&["pkey", "-in", file, "-check", "-noout"]);
        dir.openssl(&[check, "-in", file, "-check", "-noout"]);
        let shown = dir.openssl(&["pkey", "-in", file, "-noout", "-text"]);
        assert!(shown.contains(text), "{file}: {shown}");
    }
    // Every format of one key holds the same key.
    for (a, b) in [
        ("rsa.pkcs8.key", "rsa.pkcs1.key"),
        ("rsa.pkcs8.key", "rsa.default.key"),
        ("p256.pkcs8.key", "p256.sec1.key"),
        ("p384.pkcs8.key", "p384.sec1.key"),
        ("p384.pkcs8.key", "p384.default.key"),
    ] {
        assert_eq!(pubkey_of_key(&dir, a), pubkey_of_key(&dir, b), "{a} vs {b}");
    }
    assert_ne!(
        pubkey_of_key(&dir, "p256.pkcs8.key"),
        pubkey_of_key(&dir, "p384.pkcs8.key")
    );

    // openssl's re-encoding of each file (PKCS#8, PEM) loads back into pkirun as the same key.
    for (file, _, _, _) in cases {
        let plain = format!("{file}.openssl");
        dir.openssl(&["pkey", "-in", file, "-out", &plain]);
    }
    let run = dir
        .run_script(
            r#"
for f in ["rsa.pkcs1.key.openssl", "p256.sec1.key.openssl", "p384.sec1.key.openssl"] {
    print(load_key(f).spec);
}
"#,
            &[],
        )
        .success();
    assert_eq!(run.stdout(), "rsa:2048\necdsa:256\necdsa:384\n");
}

// ---- a pkirun CSR signed by openssl ----------------------------------------------------------

#[test]
fn a_pkirun_csr_signed_by_openssl_x509_req_verifies() {
    let dir = Dir::new();
    dir.run_script(
        r#"
let ca_key = gen_key("rsa", 2048);
write_key("ca.key", ca_key);
let ca = new_ca(ca_key, #{ subject: ["O=pkirun", "CN=pkirun RSA CA"] });
write_cert("ca.crt", ca.cert);
let key = gen_key("ecdsa", 384);
write_key("node.key", key, #{ format: "sec1" });
write_csr("node.csr", new_csr(key, #{ subject: #{ O: "pkirun", CN: "node" }, san: ["node.example.io", "IP:10.0.0.5"] }));
"#,
        &[],
    )
    .success();
    let (ok, said) = csr_verifies(&dir, "node.csr");
    assert!(ok, "{said}");
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-days",
        "30",
        "-copy_extensions",
        "copy",
        "-out",
        "node.crt",
    ]);
    verify(&dir, "ca.crt", "node.crt", &["-x509_strict"]);
    verify(
        &dir,
        "ca.crt",
        "node.crt",
        &["-verify_hostname", "node.example.io"],
    );
    verify(&dir, "ca.crt", "node.crt", &["-verify_ip", "10.0.0.5"]);
    assert_eq!(
        pubkey_of_cert(&dir, "node.crt"),
        pubkey_of_key(&dir, "node.key")
    );
    assert_eq!(rfc2253(&dir, "node.crt", "subject"), "CN=node,O=pkirun");

    // And back: pkirun reads openssl's certificate and still accepts its own CA files.
    let run = dir
        .run_script(
            r#"
let c = load_cert("node.crt");
print(c.subject);
print(c.issuer);
print(join(c.sans, ","));
let ca = load_ca("ca.crt", "ca.key");
print(ca.cert.fingerprint == load_cert("ca.crt").fingerprint);
"#,
            &[],
        )
        .success();
    assert_eq!(
        run.stdout(),
        "O = pkirun, CN = node\nO = pkirun, CN = pkirun RSA CA\nDNS:node.example.io,IP:10.0.0.5\ntrue\n"
    );
}

#[test]
fn nginx_serves_a_pkirun_certificate_and_admits_only_pkirun_client_certificates() {
    use crate::util::{Nginx, NginxSite};
    let dir = Dir::new();
    dir.run_script(
        r#"
let ca = new_ca(gen_key("ecdsa:384"), #{ subject: "/O=Site/CN=Site CA", days: 3650 });
write_cert("ca.crt", ca.cert);
let www = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "www.example.test" }, san: ["www.example.test"], profile: "server" });
write_pair("www.key", www.key, "www.crt", www.cert);
let alice = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "alice" }, san: ["alice@example.test"], profile: "client" });
write_pair("alice.key", alice.key, "alice.crt", alice.cert);
let other = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Other CA" });
let mallory = other.issue(#{ key: "ecdsa:256", subject: #{ CN: "mallory" }, profile: "client" });
write_pair("mallory.key", mallory.key, "mallory.crt", mallory.cert);
"#,
        &[],
    )
    .success();
    let nginx = Nginx::start(
        &dir,
        &NginxSite {
            fullchain: "www.crt",
            key: "www.key",
            client_ca: "ca.crt",
            crl: None,
        },
    );
    let (code, body) = nginx.get(&dir, "ca.crt", Some(("alice.crt", "alice.key")));
    assert_eq!(code, 200, "{body}\n{}", nginx.log());
    assert!(body.contains("CN=alice"), "{body}");
    let (code, _) = nginx.get(&dir, "ca.crt", None);
    assert_eq!(code, 400, "no client certificate: {}", nginx.log());
    let (code, _) = nginx.get(&dir, "ca.crt", Some(("mallory.crt", "mallory.key")));
    assert_eq!(code, 400, "a foreign client certificate: {}", nginx.log());
}
