//! scripts/kubernetes-openssl.rhai and scripts/kubernetes-easyrsa.rhai (the Kubernetes
//! "Certificates" page), checked with the OpenSSL CLI, real mutual-TLS handshakes, and side by
//! side with the seed's own openssl commands and the real easyrsa 3 (Debian's easy-rsa).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::util::{Dir, TlsServer, assert_equivalent, ext_value, pubkey_of_cert, pubkey_of_key};

const MASTER_IP: &str = "10.0.0.1";
const MASTER_CLUSTER_IP: &str = "10.96.0.1";
const DNS: [&str; 5] = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster",
    "kubernetes.default.svc.cluster.local",
];
/// csr.conf's [ dn ] as the tests fill it in.
const DN: [(&str, &str, &str); 5] = [
    ("country", "C", "US"),
    ("state", "ST", "California"),
    ("city", "L", "San Francisco"),
    ("organization", "O", "Example"),
    ("organizational_unit", "OU", "Ops"),
];
const EASYRSA: &str = "/usr/share/easy-rsa/easyrsa";

fn run(dir: &Dir, script: &str, args: &[&str]) -> String {
    dir.run_repo_script(script, args).success().stdout()
}

fn dn_args() -> Vec<String> {
    DN.iter()
        .flat_map(|(param, _, value)| ["-D".to_string(), format!("{param}={value}")])
        .collect()
}

fn run_openssl_script(dir: &Dir, extra: &[&str]) -> String {
    let dn = dn_args();
    let mut args = vec!["-D", "MASTER_IP=10.0.0.1"];
    args.extend(dn.iter().map(String::as_str));
    args.extend_from_slice(extra);
    run(dir, "scripts/kubernetes-openssl.rhai", &args)
}

fn x509_field(dir: &Dir, cert: &str, flag: &str) -> String {
    let out = dir.openssl(&["x509", "-in", cert, "-noout", flag]);
    out.trim()
        .split_once('=')
        .map_or(String::new(), |(_, v)| v.to_string())
}

/// Every SAN of the server certificate verifies, and a name outside them does not.
fn verify_every_san(dir: &Dir, ca: &str, cert: &str) {
    for host in DNS {
        dir.openssl(&["verify", "-CAfile", ca, "-verify_hostname", host, cert]);
    }
    for ip in [MASTER_IP, MASTER_CLUSTER_IP] {
        dir.openssl(&["verify", "-CAfile", ca, "-verify_ip", ip, cert]);
    }
    let wrong = dir.openssl_output(&[
        "verify",
        "-CAfile",
        ca,
        "-verify_hostname",
        "kubernetes.example.io",
        cert,
    ]);
    assert!(
        !wrong.status.success(),
        "a name outside the SANs must not verify"
    );
    let wrong = dir.openssl_output(&["verify", "-CAfile", ca, "-verify_ip", "10.0.0.2", cert]);
    assert!(
        !wrong.status.success(),
        "an IP outside the SANs must not verify"
    );
}

fn checks_validity(dir: &Dir, cert: &str, days: i64) {
    let inside = ((days - 1) * 86_400).to_string();
    let beyond = ((days + 1) * 86_400).to_string();
    dir.openssl(&["x509", "-in", cert, "-noout", "-checkend", &inside]);
    let out = dir.openssl_output(&["x509", "-in", cert, "-noout", "-checkend", &beyond]);
    assert!(
        !out.status.success(),
        "{cert} must expire within {days} days"
    );
}

/// A TLS server with `cert`, and a client certificate from the same CA: each SAN is checked by
/// the client, the server requires the client certificate.
fn handshake(dir: &Dir, ca: &str, cert: &str, key: &str, client_cert: &str, client_key: &str) {
    let server = TlsServer::start(dir, cert, key, ca);
    for host in ["kubernetes", "kubernetes.default.svc.cluster.local"] {
        let (ok, transcript) = server.connect(dir, client_cert, client_key, ca, host);
        assert!(ok, "handshake as {host} failed:\n{transcript}");
    }
    for ip in [MASTER_IP, MASTER_CLUSTER_IP] {
        let (ok, transcript) = server.connect_ip(dir, client_cert, client_key, ca, ip);
        assert!(ok, "handshake checking {ip} failed:\n{transcript}");
    }
}

// ---- kubernetes-openssl.rhai ----------------------------------------------------------------------

#[test]
fn k8s_openssl_makes_the_seed_files_with_openssl_modes() {
    let dir = Dir::new();
    run_openssl_script(&dir, &[]);
    assert_eq!(
        dir.files(),
        vec!["ca.crt", "ca.key", "server.crt", "server.csr", "server.key"]
    );
    for (cert, key) in [("ca.crt", "ca.key"), ("server.crt", "server.key")] {
        assert_eq!(dir.mode(key), 0o600, "{key}: openssl genrsa's mode");
        assert_eq!(dir.mode(cert), 0o644, "{cert}");
        assert_eq!(dir.pem_labels(key), vec!["PRIVATE KEY"], "{key}");
        assert_eq!(
            pubkey_of_cert(&dir, cert),
            pubkey_of_key(&dir, key),
            "{cert} vs {key}"
        );
        assert!(
            dir.x509_text(cert).contains("Public-Key: (2048 bit)"),
            "{cert}"
        );
    }
    assert_eq!(dir.mode("server.csr"), 0o644);
    let csr_key = dir.openssl(&["req", "-in", "server.csr", "-noout", "-pubkey"]);
    assert_eq!(csr_key, pubkey_of_key(&dir, "server.key"));
    dir.openssl(&["req", "-in", "server.csr", "-noout", "-verify"]);
}

#[test]
fn k8s_openssl_certificates_verify_and_follow_csr_conf() {
    let dir = Dir::new();
    run_openssl_script(&dir, &[]);
    dir.openssl(&[
        "verify",
        "-CAfile",
        "ca.crt",
        "-purpose",
        "sslserver",
        "server.crt",
    ]);
    // v3_ext's keyUsage (keyEncipherment, dataEncipherment) lacks digitalSignature, so openssl's
    // sslclient purpose check refuses server.crt despite clientAuth: so it does for the
    // certificate the documented openssl commands make (see the side-by-side test).
    let client = dir.openssl_output(&[
        "verify",
        "-CAfile",
        "ca.crt",
        "-purpose",
        "sslclient",
        "server.crt",
    ]);
    assert!(!client.status.success());
    verify_every_san(&dir, "ca.crt", "server.crt");

    // openssl req -x509 with the default openssl.cnf: [ v3_ca ].
    let ca = dir.x509_text("ca.crt");
    assert!(ca.contains("Subject: CN = 10.0.0.1\n"), "{ca}");
    assert_eq!(
        ext_value(&ca, "X509v3 Basic Constraints: critical"),
        "CA:TRUE"
    );
    ext_value(&ca, "X509v3 Subject Key Identifier:");
    ext_value(&ca, "X509v3 Authority Key Identifier:");
    assert!(!ca.contains("Key Usage"), "{ca}");
    checks_validity(&dir, "ca.crt", 10_000);

    // v3_ext: nothing critical; authorityKeyIdentifier=keyid,issuer:always.
    let server = dir.x509_text("server.crt");
    assert!(
        server.contains("Subject: C = US, ST = California, L = San Francisco, O = Example, OU = Ops, CN = 10.0.0.1\n"),
        "{server}"
    );
    assert!(server.contains("Issuer: CN = 10.0.0.1\n"), "{server}");
    assert_eq!(ext_value(&server, "X509v3 Basic Constraints:"), "CA:FALSE");
    assert_eq!(
        ext_value(&server, "X509v3 Key Usage:"),
        "Key Encipherment, Data Encipherment"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Extended Key Usage:"),
        "TLS Web Server Authentication, TLS Web Client Authentication"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Subject Alternative Name:"),
        "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, \
         DNS:kubernetes.default.svc.cluster, DNS:kubernetes.default.svc.cluster.local, \
         IP Address:10.0.0.1, IP Address:10.96.0.1"
    );
    let aki = server
        .split("X509v3 Authority Key Identifier:")
        .nth(1)
        .unwrap_or_default();
    let ca_serial = x509_field(&dir, "ca.crt", "-serial");
    let aki_serial: String = aki
        .lines()
        .find_map(|l| l.trim().strip_prefix("serial:"))
        .unwrap_or_default()
        .replace(':', "");
    assert!(aki.contains("DirName:/CN=10.0.0.1"), "{server}");
    assert_eq!(aki_serial, ca_serial, "the AKI names the CA's serial");
    checks_validity(&dir, "server.crt", 10_000);

    let csr = dir.req_text("server.csr");
    assert!(csr.contains("Requested Extensions:"), "{csr}");
    assert!(
        csr.contains("DNS:kubernetes.default.svc.cluster.local, IP Address:10.0.0.1"),
        "{csr}"
    );
}

#[test]
fn k8s_openssl_server_completes_mutual_tls_with_a_client_of_the_same_ca() {
    let dir = Dir::new();
    run_openssl_script(&dir, &[]);
    // A kubectl-style client certificate from the same CA, made with pkirun.
    dir.run_script(
        r#"
        let ca = load_ca("ca.crt", "ca.key");
        let admin = ca.issue(#{ subject: ["O=system:masters", "CN=kubernetes-admin"], profile: "client", days: 1 });
        write_pair("admin.key", admin.key, "admin.crt", admin.cert);
        "#,
        &[],
    )
    .success();
    handshake(
        &dir,
        "ca.crt",
        "server.crt",
        "server.key",
        "admin.crt",
        "admin.key",
    );
}

/// The seed's openssl commands, csr.conf filled in with the same values.
fn seed_openssl(dir: &Dir) {
    dir.openssl(&["genrsa", "-out", "ca.key", "2048"]);
    dir.openssl(&[
        "req",
        "-x509",
        "-new",
        "-nodes",
        "-key",
        "ca.key",
        "-subj",
        "/CN=10.0.0.1",
        "-days",
        "10000",
        "-out",
        "ca.crt",
    ]);
    let dn: String = DN.iter().map(|(_, f, v)| format!("{f} = {v}\n")).collect();
    dir.create(
        "csr.conf",
        format!(
            "[ req ]\ndefault_bits = 2048\nprompt = no\ndefault_md = sha256\nreq_extensions = req_ext\n\
             distinguished_name = dn\n\n[ dn ]\n{dn}CN = {MASTER_IP}\n\n[ req_ext ]\nsubjectAltName = @alt_names\n\n\
             [ alt_names ]\nDNS.1 = kubernetes\nDNS.2 = kubernetes.default\nDNS.3 = kubernetes.default.svc\n\
             DNS.4 = kubernetes.default.svc.cluster\nDNS.5 = kubernetes.default.svc.cluster.local\n\
             IP.1 = {MASTER_IP}\nIP.2 = {MASTER_CLUSTER_IP}\n\n[ v3_ext ]\n\
             authorityKeyIdentifier=keyid,issuer:always\nbasicConstraints=CA:FALSE\n\
             keyUsage=keyEncipherment,dataEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n\
             subjectAltName=@alt_names\n"
        ),
    );
    openssl_server(dir, "server.key", "server.csr", "server.crt");
}

#[test]
fn k8s_openssl_matches_the_seed_openssl_commands_side_by_side() {
    let ours = Dir::new();
    run_openssl_script(&ours, &[]);
    let seed = Dir::new();
    seed_openssl(&seed);
    for f in ["ca.crt", "ca.key", "server.key", "server.csr", "server.crt"] {
        assert_equivalent(&ours, &seed, f, f);
        assert_eq!(ours.mode(f), seed.mode(f), "{f}");
    }
    for purpose in ["sslserver", "sslclient"] {
        let ok = |d: &Dir| {
            d.openssl_output(&[
                "verify",
                "-CAfile",
                "ca.crt",
                "-purpose",
                purpose,
                "server.crt",
            ])
            .status
            .success()
        };
        assert_eq!(ok(&ours), ok(&seed), "purpose {purpose}");
    }
    let mut seed_files = seed.files();
    seed_files.retain(|f| f != "ca.srl" && f != "csr.conf");
    assert_eq!(ours.files(), seed_files);
}

#[test]
fn k8s_openssl_takes_another_cluster_domain_and_leaves_empty_dn_fields_out() {
    let dir = Dir::new();
    run(
        &dir,
        "scripts/kubernetes-openssl.rhai",
        &[
            "-D",
            "MASTER_IP=192.168.1.10",
            "-D",
            "MASTER_CLUSTER_IP=10.32.0.1",
            "-D",
            "cluster_domain=k8s.example.org",
            "-D",
            "organization=Acme",
            "-D",
            "country=",
            "-D",
            "state=",
            "-D",
            "city=",
            "-D",
            "organizational_unit=",
        ],
    );
    let server = dir.x509_text("server.crt");
    assert!(
        server.contains("Subject: O = Acme, CN = 192.168.1.10\n"),
        "{server}"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Subject Alternative Name:"),
        "DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, \
         DNS:kubernetes.default.svc.k8s, DNS:kubernetes.default.svc.k8s.example, \
         DNS:kubernetes.default.svc.k8s.example.org, IP Address:192.168.1.10, IP Address:10.32.0.1"
    );
    dir.openssl(&[
        "verify",
        "-CAfile",
        "ca.crt",
        "-verify_hostname",
        "kubernetes.default.svc.k8s.example.org",
        "-verify_ip",
        "10.32.0.1",
        "server.crt",
    ]);
}

#[test]
fn k8s_scripts_reject_bad_parameters_before_writing_anything() {
    let cases: [(&str, Vec<&str>, &str); 12] = [
        ("kubernetes-openssl", vec![], "MASTER_IP is required"),
        (
            "kubernetes-openssl",
            vec!["-D", "MASTER_IP=10.0.0.300"],
            "`10.0.0.300` is not an IPv4 or IPv6 address",
        ),
        (
            "kubernetes-openssl",
            vec![
                "-D",
                "MASTER_IP=10.0.0.1",
                "-D",
                "MASTER_CLUSTER_IP=kubernetes",
            ],
            "MASTER_CLUSTER_IP",
        ),
        (
            "kubernetes-openssl",
            vec!["-D", "MASTER_IP=10.0.0.1", "-D", "days=0"],
            "must be positive",
        ),
        (
            "kubernetes-openssl",
            vec!["-D", "MASTER_IP=10.0.0.1", "-D", "country=USA"],
            "two-letter country code",
        ),
        (
            "kubernetes-openssl",
            vec![
                "-D",
                "MASTER_IP=10.0.0.1",
                "-D",
                "cluster_domain=cluster..local",
            ],
            "cluster_domain",
        ),
        ("kubernetes-easyrsa", vec![], "MASTER_IP is required"),
        (
            "kubernetes-easyrsa",
            vec!["-D", "MASTER_IP=300.0.0.1"],
            "`300.0.0.1` is not an IPv4 or IPv6 address",
        ),
        (
            "kubernetes-easyrsa",
            vec!["-D", "MASTER_IP=10.0.0.1", "-D", "days=0"],
            "must be positive",
        ),
        (
            "kubernetes-easyrsa",
            vec!["-D", "MASTER_IP=10.0.0.1", "-D", "ca_days=0"],
            "must be positive",
        ),
        (
            "kubernetes-easyrsa",
            vec![
                "-D",
                "MASTER_IP=10.0.0.1",
                "-D",
                "subject_alt_name=IP:10.0.0.1,IP:1.2.3",
            ],
            "1.2.3",
        ),
        (
            "kubernetes-easyrsa",
            vec!["-D", "MASTER_IP=10.0.0.1", "-D", "name=../server"],
            "parameter name",
        ),
    ];
    for (script, args, expect) in cases {
        let dir = Dir::new();
        let err = dir
            .run_repo_script(&format!("scripts/{script}.rhai"), &args)
            .failure();
        assert!(err.contains(expect), "{script} {args:?}: {err}");
        assert!(err.contains(&format!("scripts/{script}.rhai:")), "{err}");
        assert_eq!(
            dir.files(),
            Vec::<String>::new(),
            "{script} {args:?} left files"
        );
        assert!(!dir.join("pki").exists(), "{script} {args:?} made pki/");
    }
}

#[test]
fn k8s_distribution_is_printed_by_default_and_run_only_with_allow_exec() {
    let dir = Dir::new();
    let target = Dir::new();
    let dest = target.join("etc/kubernetes/pki");
    let dest = dest.to_str().unwrap();
    let ca_install = target.join("trust/kubernetes.crt");
    let ca_install = ca_install.to_str().unwrap();
    let updated = target.join("trust/updated");
    let updated = updated.to_str().unwrap();
    let out = run_openssl_script(&dir, &["-D", &format!("dest={dest}")]);
    for line in [
        format!("    mkdir -p {dest}\n"),
        format!("    cp ca.crt server.crt server.key {dest}/\n"),
        format!("    --client-ca-file={dest}/ca.crt\n"),
        format!("    --tls-cert-file={dest}/server.crt\n"),
        format!("    --tls-private-key-file={dest}/server.key\n"),
        "    cp ca.crt /usr/local/share/ca-certificates/kubernetes.crt\n".to_string(),
        "    update-ca-certificates\n".to_string(),
        "(pass --allow-exec to let pkirun run it)".to_string(),
    ] {
        assert!(out.contains(&line), "missing {line:?} in:\n{out}");
    }
    assert!(
        target.files().is_empty(),
        "nothing runs without --allow-exec"
    );

    // Without the flag, exec() itself refuses.
    let err = dir
        .run_script(r#"exec(["cp", "ca.crt", "elsewhere.crt"]);"#, &[])
        .failure();
    assert!(err.contains("needs --allow-exec"), "{err}");
    assert!(!dir.join("elsewhere.crt").exists());

    // With it, the steps run: the copy to dest and the trust-store step (here into the test's
    // directory, and `touch` standing in for update-ca-certificates).
    std::fs::create_dir_all(target.join("trust")).unwrap();
    let again = Dir::new();
    let out = run_openssl_script(
        &again,
        &[
            "-D",
            &format!("dest={dest}"),
            "-D",
            &format!("ca_install={ca_install}"),
            "-D",
            &format!("update_command=touch {updated}"),
            "--allow-exec",
        ],
    );
    assert!(!out.contains("pass --allow-exec"), "{out}");
    for f in ["ca.crt", "server.crt", "server.key"] {
        assert_eq!(
            std::fs::read(target.join(&format!("etc/kubernetes/pki/{f}"))).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_eq!(target.mode("etc/kubernetes/pki/server.key"), 0o600);
    assert_eq!(target.read("trust/kubernetes.crt"), again.read("ca.crt"));
    assert!(target.join("trust/updated").exists(), "{out}");

    // easyrsa's copy step names the pki/ paths.
    let er = Dir::new();
    let out = run(
        &er,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1"],
    );
    assert!(
        out.contains(
            "    cp pki/ca.crt pki/issued/server.crt pki/private/server.key /yourdirectory/\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("    --tls-private-key-file=/yourdirectory/server.key\n"),
        "{out}"
    );
    assert!(
        out.contains("    cp pki/ca.crt /usr/local/share/ca-certificates/kubernetes.crt\n"),
        "{out}"
    );
}

// ---- kubernetes-easyrsa.rhai ----------------------------------------------------------------------

fn require_easyrsa() {
    assert!(
        Path::new(EASYRSA).exists(),
        "{EASYRSA} is missing; install the Debian package `easy-rsa` (tests/run.sh does)"
    );
}

/// Runs the real easyrsa in `dir` (EASYRSA_PKI = dir/pki).
fn easyrsa(dir: &Dir, args: &[&str]) {
    require_easyrsa();
    let out = Command::new(EASYRSA)
        .args(args)
        .env("EASYRSA_PKI", dir.join("pki"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "easyrsa {} failed:\n{}\n{}\nfiles:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        dir.listing()
    );
}

fn seed_san() -> String {
    let mut s = format!("IP:{MASTER_IP},IP:{MASTER_CLUSTER_IP}");
    for d in DNS {
        s.push_str(&format!(",DNS:{d}"));
    }
    s
}

#[test]
fn k8s_easyrsa_makes_easyrsas_pki_layout() {
    let dir = Dir::new();
    run(
        &dir,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1"],
    );
    let files = dir.files();
    let serial = x509_field(&dir, "pki/issued/server.crt", "-serial");
    assert_eq!(
        files,
        vec![
            "pki/ca.crt".to_string(),
            format!("pki/certs_by_serial/{serial}.pem"),
            "pki/index.txt".into(),
            "pki/index.txt.attr".into(),
            "pki/issued/server.crt".into(),
            "pki/private/ca.key".into(),
            "pki/private/server.key".into(),
            "pki/reqs/server.req".into(),
            "pki/serial".into(),
        ]
    );
    for f in &files {
        assert_eq!(dir.mode(f), 0o600, "{f}: easyrsa's umask 077");
    }
    for d in [
        "pki",
        "pki/private",
        "pki/reqs",
        "pki/issued",
        "pki/certs_by_serial",
        "pki/revoked/certs_by_serial",
    ] {
        assert_eq!(dir.mode(d), 0o700, "{d}");
    }
    for (cert, key) in [
        ("pki/ca.crt", "pki/private/ca.key"),
        ("pki/issued/server.crt", "pki/private/server.key"),
    ] {
        assert_eq!(dir.pem_labels(key), vec!["PRIVATE KEY"], "{key}");
        assert_eq!(
            pubkey_of_cert(&dir, cert),
            pubkey_of_key(&dir, key),
            "{cert} vs {key}"
        );
        assert!(
            dir.x509_text(cert).contains("Public-Key: (2048 bit)"),
            "{cert}"
        );
    }
    assert_eq!(
        dir.read(&format!("pki/certs_by_serial/{serial}.pem")),
        dir.read("pki/issued/server.crt")
    );

    // index.txt: V, expiry (GeneralizedTime after 2049), no revocation date, serial, file, DN.
    let index = dir.read("pki/index.txt");
    let fields: Vec<&str> = index.trim_end_matches('\n').split('\t').collect();
    assert_eq!(fields.len(), 6, "{index:?}");
    assert_eq!(
        (fields[0], fields[2], fields[3], fields[4], fields[5]),
        ("V", "", serial.as_str(), "unknown", "/CN=server")
    );
    let end = x509_field(&dir, "pki/issued/server.crt", "-enddate");
    assert!(
        fields[1].ends_with('Z') && fields[1].len() == 15,
        "{index:?}"
    );
    assert!(end.contains(&fields[1][..4]), "{index:?} vs {end}");
    let next = u128::from_str_radix(dir.read("pki/serial").trim(), 16).unwrap();
    assert_eq!(next, u128::from_str_radix(&serial, 16).unwrap() + 1);
    assert_eq!(
        dir.read("pki/serial").trim(),
        dir.read("pki/serial").trim().to_uppercase()
    );
    assert_eq!(dir.read("pki/index.txt.attr"), "unique_subject = no\n");
}

#[test]
fn k8s_easyrsa_certificates_verify_and_follow_x509_types() {
    let dir = Dir::new();
    run(
        &dir,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1"],
    );
    let (ca_path, crt) = ("pki/ca.crt", "pki/issued/server.crt");
    dir.openssl(&["verify", "-CAfile", ca_path, "-purpose", "sslserver", crt]);
    let client = dir.openssl_output(&["verify", "-CAfile", ca_path, "-purpose", "sslclient", crt]);
    assert!(
        !client.status.success(),
        "x509-types/server is serverAuth only"
    );
    verify_every_san(&dir, ca_path, crt);

    let ca = dir.x509_text(ca_path);
    let subject = x509_field(&dir, ca_path, "-subject");
    let (ip, time) = subject.trim_start_matches("CN = ").split_once('@').unwrap();
    assert_eq!(ip, MASTER_IP);
    assert!(
        time.parse::<u64>().is_ok(),
        "CN is MASTER_IP@<date +%s>: {subject}"
    );
    assert_eq!(ext_value(&ca, "X509v3 Basic Constraints:"), "CA:TRUE");
    assert_eq!(
        ext_value(&ca, "X509v3 Key Usage:"),
        "Certificate Sign, CRL Sign"
    );
    assert!(
        ext_value(&ca, "X509v3 Authority Key Identifier:").starts_with("keyid:"),
        "{ca}"
    );
    assert!(
        ca.contains(&format!("DirName:/CN={ip}@{time}")),
        "keyid:always,issuer:always: {ca}"
    );
    checks_validity(&dir, ca_path, 3650);

    let server = dir.x509_text(crt);
    assert!(server.contains("Subject: CN = server\n"), "{server}");
    assert_eq!(ext_value(&server, "X509v3 Basic Constraints:"), "CA:FALSE");
    assert_eq!(
        ext_value(&server, "X509v3 Key Usage:"),
        "Digital Signature, Key Encipherment"
    );
    assert_eq!(
        ext_value(&server, "X509v3 Extended Key Usage:"),
        "TLS Web Server Authentication"
    );
    ext_value(&server, "X509v3 Subject Key Identifier:");
    assert_eq!(
        ext_value(&server, "X509v3 Subject Alternative Name:"),
        "IP Address:10.0.0.1, IP Address:10.96.0.1, DNS:kubernetes, DNS:kubernetes.default, \
         DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster, DNS:kubernetes.default.svc.cluster.local"
    );
    checks_validity(&dir, crt, 10_000);
}

#[test]
fn k8s_easyrsa_matches_the_real_easyrsa_side_by_side() {
    let req_cn = format!(
        "{MASTER_IP}@{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    );
    let ours = Dir::new();
    run(
        &ours,
        "scripts/kubernetes-easyrsa.rhai",
        &[
            "-D",
            "MASTER_IP=10.0.0.1",
            "-D",
            &format!("req_cn={req_cn}"),
        ],
    );
    let seed = Dir::new();
    easyrsa(&seed, &["init-pki"]);
    easyrsa(
        &seed,
        &[
            "--batch",
            &format!("--req-cn={req_cn}"),
            "build-ca",
            "nopass",
        ],
    );
    easyrsa(
        &seed,
        &[
            &format!("--subject-alt-name={}", seed_san()),
            "--days=10000",
            "--batch",
            "build-server-full",
            "server",
            "nopass",
        ],
    );
    for f in [
        "pki/ca.crt",
        "pki/private/ca.key",
        "pki/issued/server.crt",
        "pki/private/server.key",
        "pki/reqs/server.req",
    ] {
        assert_equivalent(&ours, &seed, f, f);
        assert_eq!(ours.mode(f), seed.mode(f), "{f}");
    }
    for f in [
        "pki",
        "pki/private",
        "pki/issued",
        "pki/reqs",
        "pki/certs_by_serial",
    ] {
        assert_eq!(ours.mode(f), seed.mode(f), "{f}");
    }
    // index.txt, serial, index.txt.attr and certs_by_serial/ have the same shape.
    let shape = |d: &Dir| {
        let serial = x509_field(d, "pki/issued/server.crt", "-serial");
        let index = d.read("pki/index.txt").replace(&serial, "SERIAL");
        let fields: Vec<String> = index
            .split('\t')
            .map(|f| {
                if f.len() == 15 && f.ends_with('Z') {
                    "EXPIRY".into()
                } else {
                    f.to_string()
                }
            })
            .collect();
        let next = u128::from_str_radix(d.read("pki/serial").trim(), 16).unwrap()
            - u128::from_str_radix(&serial, 16).unwrap();
        (
            fields,
            next,
            d.read("pki/index.txt.attr"),
            d.join(&format!("pki/certs_by_serial/{serial}.pem"))
                .exists(),
        )
    };
    assert_eq!(shape(&ours), shape(&seed));
    // Everything pkirun writes, easyrsa writes too (easyrsa also keeps its config and backups).
    let seed_files = seed.files();
    for f in ours.files() {
        if !f.starts_with("pki/certs_by_serial/") {
            assert!(
                seed_files.contains(&f),
                "{f} is not in easyrsa's pki: {seed_files:?}"
            );
        }
    }
}

#[test]
fn k8s_easyrsa_pki_carries_on_with_the_real_easyrsa_and_completes_mutual_tls() {
    let dir = Dir::new();
    run(
        &dir,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1"],
    );
    // easyrsa 3.1 reads its openssl config from the pki (init-pki copies it there).
    std::fs::copy(
        "/usr/share/easy-rsa/openssl-easyrsa.cnf",
        dir.join("pki/openssl-easyrsa.cnf"),
    )
    .unwrap();
    easyrsa(&dir, &["--batch", "build-client-full", "admin", "nopass"]);
    let index = dir.read("pki/index.txt");
    assert_eq!(index.lines().count(), 2, "{index}");
    assert!(
        index
            .lines()
            .nth(1)
            .unwrap()
            .ends_with("\tunknown\t/CN=admin"),
        "{index}"
    );
    dir.openssl(&[
        "verify",
        "-CAfile",
        "pki/ca.crt",
        "-purpose",
        "sslclient",
        "pki/issued/admin.crt",
    ]);
    handshake(
        &dir,
        "pki/ca.crt",
        "pki/issued/server.crt",
        "pki/private/server.key",
        "pki/issued/admin.crt",
        "pki/private/admin.key",
    );
}

#[test]
fn k8s_easyrsa_rerun_reuses_the_ca_and_appends_to_index_txt() {
    let dir = Dir::new();
    run(
        &dir,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1"],
    );
    let ca = dir.read("pki/ca.crt");
    let out = run(
        &dir,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1"],
    );
    assert!(out.contains("pki/issued/server.crt is up to date"), "{out}");
    run(
        &dir,
        "scripts/kubernetes-easyrsa.rhai",
        &["-D", "MASTER_IP=10.0.0.1", "-D", "name=apiserver2"],
    );
    assert_eq!(dir.read("pki/ca.crt"), ca);
    let index = dir.read("pki/index.txt");
    assert_eq!(index.lines().count(), 2, "{index}");
    assert!(index.ends_with("\tunknown\t/CN=apiserver2\n"), "{index}");
    let serial = x509_field(&dir, "pki/issued/apiserver2.crt", "-serial");
    let next = u128::from_str_radix(dir.read("pki/serial").trim(), 16).unwrap();
    assert_eq!(next, u128::from_str_radix(&serial, 16).unwrap() + 1);
    dir.openssl(&[
        "verify",
        "-CAfile",
        "pki/ca.crt",
        "pki/issued/server.crt",
        "pki/issued/apiserver2.crt",
    ]);
}

/// The page's steps for the server with csr.conf: `openssl genrsa -out KEY 2048`, `openssl req
/// -new -key KEY -out CSR -config csr.conf`, `openssl x509 -req -in CSR -CA ca.crt -CAkey ca.key
/// -CAcreateserial -out CRT -days 10000 -extensions v3_ext -extfile csr.conf`.
fn openssl_server(dir: &Dir, key: &str, csr: &str, crt: &str) {
    dir.openssl(&["genrsa", "-out", key, "2048"]);
    dir.openssl(&[
        "req", "-new", "-key", key, "-out", csr, "-config", "csr.conf",
    ]);
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        crt,
        "-days",
        "10000",
        "-extensions",
        "v3_ext",
        "-extfile",
        "csr.conf",
    ]);
}

/// The page's csr.conf as it prints it (English edition), the angle brackets filled in.
fn seed_csr_conf(values: &[(&str, &str)]) -> String {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/seeds/002_857466b5d9a488c4.txt"
    ))
    .unwrap();
    let block = seed
        .split("(e.g. `csr.conf`).")
        .nth(1)
        .and_then(|rest| {
            rest.split("1.  Generate the certificate signing request")
                .next()
        })
        .unwrap();
    let mut text: String = block
        .lines()
        .skip_while(|l| !l.contains("[ req ]"))
        .map(|l| format!("{}\n", l.strip_prefix("        ").unwrap_or(l.trim())))
        .collect();
    for (placeholder, value) in values {
        text = text.replace(placeholder, value);
    }
    assert!(!text.contains('<'), "{text}");
    text
}

/// Issue 11.2: `-D config=csr.conf` makes the server.csr `openssl req -new -config csr.conf`
/// makes and the server.crt `openssl x509 -req -extensions v3_ext -extfile csr.conf` makes
/// under the same CA, field by field; the parameters the file says are refused beside it.
#[test]
fn kubernetes_openssl_with_the_pages_csr_conf_makes_what_openssl_makes() {
    let dir = Dir::new();
    dir.create(
        "csr.conf",
        seed_csr_conf(&[
            ("<country>", "DE"),
            ("<state>", "Berlin"),
            ("<city>", "Berlin"),
            ("<organization unit>", "Ops"),
            ("<organization>", "Example"),
            ("<MASTER_IP>", "10.0.0.1"),
            ("<MASTER_CLUSTER_IP>", "10.32.0.1"),
        ]),
    );
    run(
        &dir,
        "scripts/kubernetes-openssl.rhai",
        &["-D", "MASTER_IP=10.0.0.1", "-D", "config=csr.conf"],
    );
    openssl_server(&dir, "o.key", "o.csr", "o.crt");
    for (theirs, ours, ignore) in [
        ("o.csr", "server.csr", "key"),
        ("o.crt", "server.crt", "serial,dates,key"),
    ] {
        let out = dir
            .pkirun(&["diff", theirs, ours, "--ignore", ignore])
            .success()
            .stdout();
        assert!(out.contains("are the same"), "{ours}: {out}");
    }
    let text = dir.x509_text("server.crt");
    assert!(
        text.contains(
            "Subject: C = DE, ST = Berlin, L = Berlin, O = Example, OU = Ops, CN = 10.0.0.1\n"
        ),
        "{text}"
    );
    assert!(text.contains("IP Address:10.32.0.1"), "{text}");

    let before = dir.snapshot();
    let err = dir
        .run_repo_script(
            "scripts/kubernetes-openssl.rhai",
            &[
                "-D",
                "MASTER_IP=10.0.0.1",
                "-D",
                "config=csr.conf",
                "-D",
                "organization=Other",
            ],
        )
        .failure();
    assert!(
        err.contains("-D organization cannot be given with -D config: csr.conf says it"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
}
