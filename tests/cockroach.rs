//! scripts/cockroach.rhai, checked with the OpenSSL CLI and a real mutual-TLS handshake.

use crate::util::{Dir, TlsServer, ext_value, pubkey_of_cert, pubkey_of_key};

const KEYS: &[&str] = &[
    "my-safe-directory/ca.key",
    "node-certs/node.key",
    "client-certs/client.root.key",
    "client-certs/client.roach.key",
];

fn run_cockroach(dir: &Dir, args: &[&str]) {
    dir.run_repo_script("scripts/cockroach.rhai", args)
        .success();
}

#[test]
fn cockroach_script_makes_the_documented_files_with_safe_modes() {
    let dir = Dir::new();
    run_cockroach(&dir, &[]);
    assert_eq!(
        dir.files(),
        vec![
            "client-certs/ca.crt",
            "client-certs/client.roach.crt",
            "client-certs/client.roach.key",
            "client-certs/client.root.crt",
            "client-certs/client.root.key",
            "my-safe-directory/ca.key",
            "node-certs/ca.crt",
            "node-certs/node.crt",
            "node-certs/node.key",
        ]
    );
    for key in KEYS {
        assert_eq!(dir.mode(key), 0o400, "{key}");
    }
    assert_eq!(
        dir.read("node-certs/ca.crt"),
        dir.read("client-certs/ca.crt")
    );
    // Each key belongs to its certificate.
    for (cert, key) in [
        ("node-certs/ca.crt", "my-safe-directory/ca.key"),
        ("node-certs/node.crt", "node-certs/node.key"),
        (
            "client-certs/client.root.crt",
            "client-certs/client.root.key",
        ),
        (
            "client-certs/client.roach.crt",
            "client-certs/client.roach.key",
        ),
    ] {
        assert_eq!(
            pubkey_of_cert(&dir, cert),
            pubkey_of_key(&dir, key),
            "{cert} vs {key}"
        );
        dir.openssl(&["pkey", "-in", key, "-check", "-noout"]);
        let text = dir.x509_text(cert);
        assert!(text.contains("Public-Key: (2048 bit)"), "{cert}: {text}");
    }
}

#[test]
fn cockroach_certificates_verify_for_their_purposes_with_openssl() {
    let dir = Dir::new();
    run_cockroach(&dir, &[]);
    let ca = "node-certs/ca.crt";
    for purpose in ["sslserver", "sslclient"] {
        dir.openssl(&[
            "verify",
            "-CAfile",
            ca,
            "-purpose",
            purpose,
            "node-certs/node.crt",
        ]);
    }
    for host in ["localhost", "node.example.io"] {
        dir.openssl(&[
            "verify",
            "-CAfile",
            ca,
            "-verify_hostname",
            host,
            "node-certs/node.crt",
        ]);
    }
    dir.openssl(&[
        "verify",
        "-CAfile",
        ca,
        "-verify_ip",
        "127.0.0.1",
        "node-certs/node.crt",
    ]);
    let wrong = dir.openssl_output(&[
        "verify",
        "-CAfile",
        ca,
        "-verify_hostname",
        "other.example.io",
        "node-certs/node.crt",
    ]);
    assert!(
        !wrong.status.success(),
        "a host outside the SANs must not verify"
    );

    for user in ["root", "roach"] {
        let crt = format!("client-certs/client.{user}.crt");
        dir.openssl(&[
            "verify",
            "-CAfile",
            "client-certs/ca.crt",
            "-purpose",
            "sslclient",
            &crt,
        ]);
        let as_server =
            dir.openssl_output(&["verify", "-CAfile", ca, "-purpose", "sslserver", &crt]);
        assert!(
            !as_server.status.success(),
            "{crt} must not be a server certificate"
        );
        let subject = dir.openssl(&["x509", "-in", &crt, "-noout", "-subject", "-issuer"]);
        assert_eq!(
            subject,
            format!(
                "subject=O = Cockroach, CN = {user}\nissuer=O = Cockroach, CN = Cockroach CA\n"
            )
        );
    }
}

#[test]
fn cockroach_extensions_and_criticality_match_the_seed_configs() {
    let dir = Dir::new();
    run_cockroach(&dir, &[]);
    let ca = dir.x509_text("node-certs/ca.crt");
    assert!(
        ca.contains("Subject: O = Cockroach, CN = Cockroach CA"),
        "{ca}"
    );
    assert_eq!(
        ext_value(&ca, "X509v3 Key Usage: critical"),
        "Digital Signature, Non Repudiation, Key Encipherment, Certificate Sign"
    );
    assert_eq!(
        ext_value(&ca, "X509v3 Basic Constraints: critical"),
        "CA:TRUE, pathlen:1"
    );

    let node = dir.x509_text("node-certs/node.crt");
    assert!(node.contains("Subject: O = Cockroach\n"), "{node}");
    assert_eq!(
        ext_value(&node, "X509v3 Subject Alternative Name: critical"),
        "DNS:localhost, DNS:node.example.io, IP Address:127.0.0.1"
    );
    assert_eq!(
        ext_value(&node, "X509v3 Key Usage: critical"),
        "Digital Signature, Key Encipherment"
    );
    assert_eq!(
        ext_value(&node, "X509v3 Extended Key Usage:"),
        "TLS Web Server Authentication, TLS Web Client Authentication"
    );

    let client = dir.openssl(&[
        "x509",
        "-in",
        "client-certs/client.root.crt",
        "-noout",
        "-text",
    ]);
    assert_eq!(
        ext_value(&client, "X509v3 Key Usage: critical"),
        "Digital Signature, Key Encipherment"
    );
    assert_eq!(
        ext_value(&client, "X509v3 Extended Key Usage:"),
        "TLS Web Client Authentication"
    );
    assert!(
        !client.contains("Subject Alternative Name"),
        "client.cnf asks for no SAN: {client}"
    );

    // 365 days, as ca.cnf's default_days.
    let dates = dir.openssl(&[
        "x509",
        "-in",
        "node-certs/node.crt",
        "-noout",
        "-checkend",
        "31449600",
    ]);
    assert!(dates.contains("will not expire"), "{dates}");
    let expires = dir.openssl_output(&[
        "x509",
        "-in",
        "node-certs/node.crt",
        "-noout",
        "-checkend",
        "31622400",
    ]);
    assert!(
        !expires.status.success(),
        "node cert must expire within 366 days"
    );
}

#[test]
fn cockroach_node_and_client_complete_a_mutual_tls_handshake() {
    let dir = Dir::new();
    run_cockroach(&dir, &[]);
    let server = TlsServer::start(
        &dir,
        "node-certs/node.crt",
        "node-certs/node.key",
        "node-certs/ca.crt",
    );
    let (ok, transcript) = server.connect(
        &dir,
        "client-certs/client.root.crt",
        "client-certs/client.root.key",
        "client-certs/ca.crt",
        "localhost",
    );
    assert!(
        ok,
        "handshake with the root client cert failed:\n{transcript}"
    );

    // A client certificate from another CA (made by the openssl CLI) is refused.
    dir.openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "other-ca.key",
        "-out",
        "other-ca.crt",
        "-subj",
        "/O=Other/CN=Other CA",
        "-days",
        "1",
    ]);
    dir.openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "other.key",
        "-out",
        "other.csr",
        "-subj",
        "/O=Cockroach/CN=root",
    ]);
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        "other.csr",
        "-CA",
        "other-ca.crt",
        "-CAkey",
        "other-ca.key",
        "-CAcreateserial",
        "-out",
        "other.crt",
        "-days",
        "1",
    ]);
    let (ok, transcript) = server.connect(
        &dir,
        "other.crt",
        "other.key",
        "client-certs/ca.crt",
        "localhost",
    );
    assert!(
        !ok,
        "a client cert from another CA must be refused:\n{transcript}"
    );
}

#[test]
fn cockroach_supports_several_nodes_each_in_its_own_folder() {
    let dir = Dir::new();
    run_cockroach(
        &dir,
        &[
            "-D",
            "nodes=n1=localhost,n1.db.io,10.0.0.1;n2=n2.db.io,10.0.0.2",
            "-D",
            "user=alice",
        ],
    );
    for (node, host, ip) in [
        ("n1", "n1.db.io", "10.0.0.1"),
        ("n2", "n2.db.io", "10.0.0.2"),
    ] {
        let crt = format!("node-certs/{node}/node.crt");
        assert_eq!(dir.mode(&format!("node-certs/{node}/node.key")), 0o400);
        dir.openssl(&[
            "verify",
            "-CAfile",
            &format!("node-certs/{node}/ca.crt"),
            "-verify_hostname",
            host,
            "-verify_ip",
            ip,
            &crt,
        ]);
    }
    assert!(dir.join("client-certs/client.alice.crt").exists());
    assert!(!dir.join("node-certs/node.crt").exists());
}

#[test]
fn cockroach_rerun_keeps_the_ca_and_existing_certificates() {
    let dir = Dir::new();
    run_cockroach(&dir, &[]);
    let before = dir.snapshot();
    run_cockroach(&dir, &["-D", "users=root,roach,bob"]);
    let after = dir.snapshot();
    for (path, content) in &before {
        assert_eq!(after.get(path), Some(content), "{path} changed on re-run");
    }
    assert!(after.contains_key("client-certs/client.bob.crt"));
    dir.openssl(&[
        "verify",
        "-CAfile",
        "client-certs/ca.crt",
        "client-certs/client.bob.crt",
    ]);
}
