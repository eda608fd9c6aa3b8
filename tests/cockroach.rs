//! scripts/cockroach.rhai, checked with the OpenSSL CLI and a real mutual-TLS handshake.

use crate::util::{Dir, TlsServer, ext_value, pubkey_of_cert, pubkey_of_key, seed_block};

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

/// The seed's ca.cnf, node.cnf and client.cnf (step 3's for root, step 5's for a second user
/// as client.roach.cnf), the placeholders filled in, with `edit` applied to each text.
fn seed_configs(dir: &Dir, edit: impl Fn(&str, String) -> String) {
    const SEED: &str = "001_38ec4f3ee7113a6b.txt";
    let files = [
        ("ca.cnf", seed_block(SEED, "Create the `ca.cnf` file")),
        (
            "node.cnf",
            seed_block(SEED, "Create the `node.cnf` file")
                .replace("<node-hostname>", "localhost")
                .replace("<node-domain>", "node.example.io")
                .replace("<IP Address>", "127.0.0.1"),
        ),
        (
            "client.cnf",
            seed_block(SEED, "Create the `client.cnf` file").replace("<username_1>", "root"),
        ),
        (
            "client.roach.cnf",
            seed_block(SEED, "Edit the `client.cnf` file").replace("<username_2>", "roach"),
        ),
    ];
    for (name, text) in files {
        dir.create(&format!("cnf/{name}"), edit(name, text));
    }
}

/// The seed's commands, run by openssl in `dir` on the files in `dir/cnf`.
fn openssl_as_the_seed_says(dir: &Dir) {
    for d in ["node-certs", "client-certs", "my-safe-directory"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    dir.openssl(&["genrsa", "-out", "my-safe-directory/ca.key", "2048"]);
    dir.openssl(&[
        "req",
        "-new",
        "-x509",
        "-config",
        "cnf/ca.cnf",
        "-key",
        "my-safe-directory/ca.key",
        "-out",
        "node-certs/ca.crt",
        "-days",
        "365",
        "-batch",
    ]);
    dir.create("index.txt", "");
    dir.create("serial.txt", "01\n");
    let sign = |cnf: &str, key: &str, crt: &str, outdir: &str, extensions: &str| {
        dir.openssl(&["genrsa", "-out", key, "2048"]);
        dir.openssl(&[
            "req", "-new", "-config", cnf, "-key", key, "-out", "r.csr", "-batch",
        ]);
        dir.openssl(&[
            "ca",
            "-config",
            "cnf/ca.cnf",
            "-keyfile",
            "my-safe-directory/ca.key",
            "-cert",
            "node-certs/ca.crt",
            "-policy",
            "signing_policy",
            "-extensions",
            extensions,
            "-out",
            crt,
            "-outdir",
            outdir,
            "-in",
            "r.csr",
            "-batch",
        ]);
    };
    sign(
        "cnf/node.cnf",
        "node-certs/node.key",
        "node-certs/node.crt",
        "node-certs/",
        "signing_node_req",
    );
    for (cnf, user) in [
        ("cnf/client.cnf", "root"),
        ("cnf/client.roach.cnf", "roach"),
    ] {
        sign(
            cnf,
            &format!("client-certs/client.{user}.key"),
            &format!("client-certs/client.{user}.crt"),
            "client-certs/",
            "signing_client_req",
        );
    }
}

/// Issue 11.2: `-D config=DIR` with the seed's own files makes, certificate for certificate,
/// what the seed's `openssl req` / `openssl ca -policy signing_policy -extensions ...` commands
/// make from the same files; so does an edited copy (other days, usages, names and
/// organisation), which shows every setting is read rather than taken from the script.
#[test]
fn cockroach_with_the_seeds_cnf_files_makes_what_openssl_ca_makes() {
    let edits: [fn(&str, String) -> String; 2] = [
        |_, text| text,
        |name, text| match name {
            "ca.cnf" => text
                .replace("default_days = 365", "default_days = 90")
                .replace(
                    "extendedKeyUsage = serverAuth,clientAuth",
                    "extendedKeyUsage = serverAuth",
                )
                .replace("organizationName = Cockroach", "organizationName = Acme"),
            "node.cnf" => text
                .replace(
                    "organizationName = Cockroach",
                    "organizationName = Acme\norganizationalUnitName = dropped by the policy",
                )
                .replace("DNS:localhost,", "DNS:db1.internal,"),
            _ => text.replace("organizationName = Cockroach", "organizationName = Acme"),
        },
    ];
    for edit in edits {
        let ours = Dir::new();
        let theirs = Dir::new();
        seed_configs(&ours, edit);
        seed_configs(&theirs, edit);
        run_cockroach(&ours, &["-D", "config=cnf"]);
        openssl_as_the_seed_says(&theirs);
        for cert in [
            "node-certs/ca.crt",
            "node-certs/node.crt",
            "client-certs/client.root.crt",
            "client-certs/client.roach.crt",
        ] {
            let out = ours
                .pkirun(&[
                    "diff",
                    &theirs.join(cert).to_string_lossy(),
                    cert,
                    "--ignore",
                    "serial,dates,key",
                ])
                .success()
                .stdout();
            assert!(out.contains("are the same"), "{cert}: {out}");
        }
        let days = |d: &Dir| {
            let fields = crate::util::cert_fields(d, "node-certs/node.crt");
            fields["validity_seconds"].clone()
        };
        assert_eq!(days(&ours), days(&theirs));
    }
}

/// With `-D config`, the files name the nodes and users: the parameters that would say it
/// again are refused; a setting openssl does not read, or a ca.cnf without default_days and
/// no `-D days`, stops before anything is written, naming the file and line.
#[test]
fn cockroach_config_refuses_what_it_cannot_follow_and_writes_nothing() {
    let dir = Dir::new();
    seed_configs(&dir, |_, text| text);
    let before = dir.snapshot();
    let err = dir
        .run_repo_script(
            "scripts/cockroach.rhai",
            &["-D", "config=cnf", "-D", "hosts=a.example"],
        )
        .failure();
    assert!(
        err.contains("-D hosts cannot be given with -D config: cnf/node.cnf and client*.cnf name the nodes and users"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);

    dir.create(
        "cnf/ca.cnf",
        dir.read("cnf/ca.cnf").replace(
            "keyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = clientAuth",
            "keyUsgae = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = clientAuth",
        ),
    );
    let before = dir.snapshot();
    let err = dir
        .run_repo_script("scripts/cockroach.rhai", &["-D", "config=cnf"])
        .failure();
    assert!(
        err.contains("`cnf/ca.cnf` line 40: `keyUsgae`: pkirun does not write `keyUsgae`"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);

    seed_configs(&dir, |name, text| {
        if name == "ca.cnf" {
            text.replace("default_days = 365\n", "")
        } else {
            text
        }
    });
    let err = dir
        .run_repo_script("scripts/cockroach.rhai", &["-D", "config=cnf"])
        .failure();
    assert!(
        err.contains(
            "cnf/ca.cnf: [ CA_default ] has no default_days; pass -D days=N (openssl ca -days)"
        ),
        "{err}"
    );
    run_cockroach(&dir, &["-D", "config=cnf", "-D", "days=30"]);
    let fields = crate::util::cert_fields(&dir, "client-certs/client.roach.crt");
    assert_eq!(fields["validity_seconds"], 30 * 86_400, "{fields}");
}
