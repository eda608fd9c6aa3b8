//! scripts/kubernetes-cfssl.rhai: the cfssl section of the Kubernetes "Certificates" page,
//! checked with the OpenSSL CLI, a mutual-TLS handshake and, side by side, the real cfssl.

use crate::util::{Dir, TlsServer, cert_fields, ext_value, pubkey_of_cert, pubkey_of_key, require};

const MASTER_IP: &str = "10.0.0.10";
const CLUSTER_IP: &str = "10.96.0.1";
const DNS_NAMES: [&str; 5] = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster",
    "kubernetes.default.svc.cluster.local",
];
const FILES: [&str; 9] = [
    "ca-config.json",
    "ca-csr.json",
    "ca-key.pem",
    "ca.csr",
    "ca.pem",
    "server-csr.json",
    "server-key.pem",
    "server.csr",
    "server.pem",
];

fn k8s(dir: &Dir, args: &[&str]) -> crate::util::Run {
    dir.run_repo_script("scripts/kubernetes-cfssl.rhai", args)
}

fn made() -> Dir {
    let dir = Dir::new();
    k8s(&dir, &["-D", &format!("MASTER_IP={MASTER_IP}")]).success();
    dir
}

#[test]
fn kubernetes_cfssl_writes_the_seed_json_and_cfssljson_bare_files() {
    let dir = made();
    assert_eq!(dir.files(), FILES);
    for key in ["ca-key.pem", "server-key.pem"] {
        assert_eq!(dir.mode(key), 0o600, "{key}: cfssljson writes keys 0600");
        assert_eq!(
            dir.pem_labels(key),
            ["RSA PRIVATE KEY"],
            "{key}: PKCS#1 as cfssl"
        );
        dir.openssl(&["pkey", "-in", key, "-check", "-noout"]);
    }
    for other in FILES.iter().filter(|f| !f.ends_with("-key.pem")) {
        assert_eq!(dir.mode(other), 0o644, "{other}");
    }
    for (cert, key) in [("ca.pem", "ca-key.pem"), ("server.pem", "server-key.pem")] {
        assert_eq!(
            pubkey_of_cert(&dir, cert),
            pubkey_of_key(&dir, key),
            "{cert}"
        );
        let text = dir.x509_text(cert);
        assert!(text.contains("Public-Key: (2048 bit)"), "{cert}: {text}");
    }
    let usages = ["signing", "key encipherment", "server auth", "client auth"];
    assert_eq!(
        dir.json("ca-config.json"),
        serde_json::json!({ "signing": {
            "default": { "expiry": "8760h" },
            "profiles": { "kubernetes": { "usages": usages, "expiry": "8760h" } },
        }})
    );
    let names = serde_json::json!([{
        "C": "US", "ST": "California", "L": "San Francisco", "O": "Kubernetes", "OU": "Cluster"
    }]);
    assert_eq!(
        dir.json("ca-csr.json"),
        serde_json::json!({ "CN": "kubernetes", "key": { "algo": "rsa", "size": 2048 }, "names": names })
    );
    let mut hosts = vec!["127.0.0.1", MASTER_IP, CLUSTER_IP];
    hosts.extend(DNS_NAMES);
    assert_eq!(
        dir.json("server-csr.json"),
        serde_json::json!({
            "CN": "kubernetes", "hosts": hosts, "key": { "algo": "rsa", "size": 2048 }, "names": names
        })
    );
    // The CSRs cfssljson keeps verify and carry the request's subject and hosts.
    for csr in ["ca.csr", "server.csr"] {
        assert!(crate::util::csr_verifies(&dir, csr).0, "{csr}");
    }
    let csr = dir.req_text("server.csr");
    assert!(
        csr.contains("DNS:kubernetes.default.svc.cluster.local"),
        "{csr}"
    );
}

#[test]
fn kubernetes_cfssl_certificates_verify_for_every_host_and_purpose() {
    let dir = made();
    for purpose in ["sslserver", "sslclient"] {
        dir.openssl(&[
            "verify",
            "-CAfile",
            "ca.pem",
            "-purpose",
            purpose,
            "server.pem",
        ]);
    }
    for host in DNS_NAMES {
        dir.openssl(&[
            "verify",
            "-CAfile",
            "ca.pem",
            "-verify_hostname",
            host,
            "server.pem",
        ]);
    }
    for ip in ["127.0.0.1", MASTER_IP, CLUSTER_IP] {
        dir.openssl(&[
            "verify",
            "-CAfile",
            "ca.pem",
            "-verify_ip",
            ip,
            "server.pem",
        ]);
    }
    for (flag, wrong) in [
        ("-verify_hostname", "kubernetes.example"),
        ("-verify_ip", "10.0.0.11"),
    ] {
        let out = dir.openssl_output(&["verify", "-CAfile", "ca.pem", flag, wrong, "server.pem"]);
        assert!(!out.status.success(), "{wrong} is not in the SANs");
    }
    let subject =
        "C = US, ST = California, L = San Francisco, O = Kubernetes, OU = Cluster, CN = kubernetes";
    for cert in ["ca.pem", "server.pem"] {
        assert_eq!(
            dir.openssl(&["x509", "-in", cert, "-noout", "-subject", "-issuer"]),
            format!("subject={subject}\nissuer={subject}\n"),
            "{cert}"
        );
    }

    // cfssl's CA: keyUsage critical certSign + cRLSign, CA:TRUE critical, no AKI, 5 years.
    let ca = dir.x509_text("ca.pem");
    assert_eq!(
        ext_value(&ca, "X509v3 Key Usage: critical"),
        "Certificate Sign, CRL Sign"
    );
    assert_eq!(
        ext_value(&ca, "X509v3 Basic Constraints: critical"),
        "CA:TRUE"
    );
    assert!(ca.contains("X509v3 Subject Key Identifier:"), "{ca}");
    assert!(!ca.contains("Authority Key Identifier"), "{ca}");
    assert!(!ca.contains("Subject Alternative Name"), "{ca}");
    assert_eq!(
        cert_fields(&dir, "ca.pem")["validity_seconds"],
        43_800 * 3600
    );

    // The `kubernetes` profile.
    let server = dir.x509_text("server.pem");
    assert_eq!(
        ext_value(&server, "X509v3 Key Usage: critical"),
        "Digital Signature, Key Encipherment"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Extended Key Usage:"),
        "TLS Web Server Authentication, TLS Web Client Authentication"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Basic Constraints: critical"),
        "CA:FALSE"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Subject Alternative Name:"),
        "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, \
         DNS:kubernetes.default.svc.cluster, DNS:kubernetes.default.svc.cluster.local, \
         IP Address:127.0.0.1, IP Address:10.0.0.10, IP Address:10.96.0.1"
    );
    assert!(
        server.contains("X509v3 Subject Key Identifier:"),
        "{server}"
    );
    assert!(
        server.contains("X509v3 Authority Key Identifier:"),
        "{server}"
    );
    assert_eq!(
        cert_fields(&dir, "server.pem")["validity_seconds"],
        8760 * 3600
    );
    let in_364_days = dir.openssl(&[
        "x509",
        "-in",
        "server.pem",
        "-noout",
        "-checkend",
        "31449600",
    ]);
    assert!(in_364_days.contains("will not expire"), "{in_364_days}");
    let in_366_days = dir.openssl_output(&[
        "x509",
        "-in",
        "server.pem",
        "-noout",
        "-checkend",
        "31622400",
    ]);
    assert!(!in_366_days.status.success(), "8760h is less than 366 days");
}

#[test]
fn kubernetes_cfssl_server_certificate_completes_a_mutual_tls_handshake() {
    let dir = made();
    let server = TlsServer::start(&dir, "server.pem", "server-key.pem", "ca.pem");
    // The profile has server auth and client auth: the one certificate serves both ends.
    for host in ["kubernetes", "kubernetes.default.svc.cluster.local"] {
        let (ok, transcript) = server.connect(&dir, "server.pem", "server-key.pem", "ca.pem", host);
        assert!(ok, "handshake as {host} failed:\n{transcript}");
    }
    let (ok, transcript) = server.connect(
        &dir,
        "server.pem",
        "server-key.pem",
        "ca.pem",
        "other.example",
    );
    assert!(!ok, "a name outside the SANs must fail:\n{transcript}");
}

#[test]
fn kubernetes_cfssl_matches_the_real_cfssl_field_for_field() {
    let ours = made();
    let theirs = Dir::new();
    for json in ["ca-config.json", "ca-csr.json", "server-csr.json"] {
        theirs.create(json, ours.read(json));
    }
    theirs.cfssl_bare(&["gencert", "-initca", "ca-csr.json"], "ca");
    theirs.cfssl_bare(
        &[
            "gencert",
            "-ca=ca.pem",
            "-ca-key=ca-key.pem",
            "--config=ca-config.json",
            "-profile=kubernetes",
            "server-csr.json",
        ],
        "server",
    );
    assert_eq!(ours.files(), theirs.files(), "cfssljson -bare names");
    for key in ["ca-key.pem", "server-key.pem"] {
        assert_eq!(ours.mode(key), theirs.mode(key), "{key}");
        assert_eq!(ours.pem_labels(key), theirs.pem_labels(key), "{key}");
    }
    for file in ["ca.pem", "ca.csr", "server.csr"] {
        assert_eq!(
            cert_fields(&ours, file),
            cert_fields(&theirs, file),
            "{file}: pkirun (left) and cfssl (right) differ"
        );
    }
    // One deliberate difference. The seed gives the API server the CA's own names (CN
    // kubernetes, same C/ST/L/O/OU), and Go's x509 omits the authority key identifier when a
    // certificate's subject equals its issuer's, as if it were self-signed. RFC 5280 requires
    // the AKI in every certificate a CA issues except a self-signed one; pkirun writes it.
    let mut server = cert_fields(&ours, "server.pem");
    let cfssl_server = cert_fields(&theirs, "server.pem");
    assert_eq!(server["subject"], server["issuer"]);
    assert_eq!(server["authority_key_id"]["key_id"], "(key id)");
    if cfssl_server["authority_key_id"].is_null() {
        server["authority_key_id"] = serde_json::Value::Null;
        server["extensions"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["name"] != "authorityKeyIdentifier");
        // Why it matters: without the AKI, openssl takes cfssl's server certificate for a
        // self-signed one and refuses it; pkirun's verifies.
        let cfssl_verify = theirs.openssl_output(&[
            "verify",
            "-CAfile",
            "ca.pem",
            "-verify_ip",
            MASTER_IP,
            "server.pem",
        ]);
        assert!(
            String::from_utf8_lossy(&cfssl_verify.stderr).contains("self-signed certificate"),
            "{cfssl_verify:?}"
        );
    }
    assert_eq!(
        server, cfssl_server,
        "server.pem: pkirun (left) and cfssl (right) differ"
    );
    ours.openssl(&[
        "verify",
        "-CAfile",
        "ca.pem",
        "-verify_ip",
        MASTER_IP,
        "server.pem",
    ]);
}

#[test]
fn kubernetes_cfssl_rerun_keeps_the_ca_and_refuses_parameters_the_files_contradict() {
    let dir = made();
    let before = dir.snapshot();
    k8s(&dir, &["-D", &format!("MASTER_IP={MASTER_IP}")]).success();
    k8s(&dir, &[]).success();
    assert_eq!(dir.snapshot(), before, "a re-run changes nothing");

    let err = k8s(&dir, &["-D", "MASTER_IP=10.0.0.99"]).failure();
    assert!(
        err.contains("server-csr.json exists and holds something else than the parameters"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);

    // --force re-issues the server certificate under the same CA.
    k8s(&dir, &["--force"]).success();
    assert_eq!(
        dir.read("ca.pem"),
        String::from_utf8_lossy(&before["ca.pem"].1)
    );
    assert_ne!(
        dir.read("server.pem"),
        String::from_utf8_lossy(&before["server.pem"].1)
    );
    dir.openssl(&["verify", "-CAfile", "ca.pem", "server.pem"]);

    let err = k8s(&dir, &["-D", "regenerate_ca=true"]).failure();
    assert!(err.contains("pass --force as well"), "{err}");
    k8s(&dir, &["-D", "regenerate_ca=true", "--force"]).success();
    assert_ne!(
        dir.read("ca.pem"),
        String::from_utf8_lossy(&before["ca.pem"].1)
    );
    dir.openssl(&["verify", "-CAfile", "ca.pem", "server.pem"]);
}

#[test]
fn kubernetes_cfssl_bad_parameters_name_the_file_and_leave_nothing_behind() {
    for (args, expected) in [
        (
            vec!["-D", "MASTER_IP=10.0.0.300"],
            "`server-csr.json`: `hosts[1]`: invalid subject alternative name `10.0.0.300`: `10.0.0.300` looks like an IP address but is not a valid one",
        ),
        (
            vec!["-D", "MASTER_IP=master.example"],
            "parameter `MASTER_IP`: `master.example` is not an IP address",
        ),
        (
            vec!["-D", "MASTER_IP=10.0.0.10", "-D", "expiry=0h"],
            "`ca-config.json`: `signing.default.expiry`: invalid validity: hours must be positive, got 0",
        ),
        (
            vec!["-D", "MASTER_IP=10.0.0.10", "-D", "country=USA"],
            "`ca-csr.json`: `names[0].C`: invalid subject field `C`: `USA` is not a two-letter country code",
        ),
        (
            vec![],
            "parameter `MASTER_IP` is required to write server-csr.json",
        ),
    ] {
        let dir = Dir::new();
        let err = k8s(&dir, &args).failure();
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(
            dir.files(),
            Vec::<String>::new(),
            "{args:?} left files behind"
        );
    }

    // An operator's edit with an empty host list: the file is named, nothing else is written.
    let dir = Dir::new();
    dir.create(
        "server-csr.json",
        r#"{"CN": "kubernetes", "hosts": [], "key": {"algo": "rsa", "size": 2048}}"#,
    );
    let before = dir.snapshot();
    let err = k8s(&dir, &[]).failure();
    assert!(err.contains("`server-csr.json`: `hosts`: empty"), "{err}");
    assert_eq!(dir.snapshot(), before);
}

#[test]
fn kubernetes_cfssl_distribution_runs_only_with_allow_exec() {
    let dir = made();
    let out = k8s(&dir, &[]).success().stdout();
    assert!(
        out.contains("    cp ca.pem /usr/local/share/ca-certificates/kubernetes.crt\n    update-ca-certificates\n"),
        "{out}"
    );
    assert!(out.contains("pass --allow-exec"), "{out}");

    let target = dir.join("installed/kubernetes.crt");
    std::fs::create_dir_all(dir.join("installed")).unwrap();
    require("true", "coreutils");
    let out = k8s(
        &dir,
        &[
            "--allow-exec",
            "-D",
            &format!("ca_install={}", target.display()),
            "-D",
            "update_command=true",
        ],
    )
    .success()
    .stdout();
    assert!(
        out.contains(&format!(
            "running: cp ca.pem {}\nrunning: true\n",
            target.display()
        )),
        "{out}"
    );
    assert_eq!(dir.read("installed/kubernetes.crt"), dir.read("ca.pem"));
}

#[test]
fn cfssl_functions_read_the_json_files_and_write_cfssljson_names_all_or_nothing() {
    let dir = Dir::new();
    dir.create(
        "csr.json",
        r#"{"CN": "node1", "hosts": ["10.0.0.1", "node1.example.io"],
            "key": {"algo": "ecdsa", "size": 256}, "names": [{"O": "Example", "OU": "a"}, {"OU": "b"}]}"#,
    );
    dir.create(
        "ca-config.json",
        r#"{"signing": {"profiles": {"peer": {"usages": ["signing", "server auth", "client auth"],
            "expiry": "720h"}}}}"#,
    );
    let script = r#"
        let ca = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Test CA" });
        let req = cfssl_csr("csr.json");
        print(req);
        let pair = ca.issue(req + cfssl_profile("ca-config.json", "peer"));
        cfssl_write_bare("node1", pair.key, pair.cert);
        write_cert("ca.pem", ca.cert);
    "#;
    let out = dir.run_script(script, &[]).success().stdout();
    assert_eq!(
        out,
        "#{\"key\": \"ecdsa:256\", \"san\": [\"DNS:node1.example.io\", \"IP:10.0.0.1\"], \
         \"subject\": [\"O=Example\", \"OU=a\", \"OU=b\", \"CN=node1\"]}\n"
    );
    assert_eq!(dir.mode("node1-key.pem"), 0o600);
    assert_eq!(dir.pem_labels("node1-key.pem"), ["EC PRIVATE KEY"]);
    dir.openssl(&[
        "verify",
        "-CAfile",
        "ca.pem",
        "-verify_ip",
        "10.0.0.1",
        "node1.pem",
    ]);
    let subject = dir.openssl(&["x509", "-in", "node1.pem", "-noout", "-subject"]);
    assert_eq!(subject, "subject=O = Example, OU = a, OU = b, CN = node1\n");
    assert_eq!(
        cert_fields(&dir, "node1.pem")["validity_seconds"],
        720 * 3600
    );

    // A profile the file does not have: cfssl would use signing.default, pkirun names it.
    let err = dir
        .run_script(r#"cfssl_profile("ca-config.json", "server");"#, &[])
        .failure();
    assert!(
        err.contains(
            "`ca-config.json`: no signing profile `server` in `signing.profiles` (has: peer)"
        ),
        "{err}"
    );

    // write_files: one existing target refuses the whole group, directories included.
    let before = dir.snapshot();
    let err = dir
        .run_script(
            r#"write_files([#{ path: "new/a.txt", text: "a" }, #{ path: "node1.pem", text: "x" }]);"#,
            &[],
        )
        .failure();
    assert!(
        err.contains("`node1.pem`: refusing to overwrite existing file"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
    assert!(!dir.join("new").exists());
}
