//! `pkirun verify`, `pkirun expiry` and the `verify`/`key_matches` script functions, each case
//! judged the same way by `openssl verify`.

use crate::util::Dir;

/// A root (pathlen from `root_pathlen`), an intermediate signed by it, a leaf signed by the
/// intermediate (server auth only, DNS/IP names, 45 days), a leaf signed by the root directly
/// (client auth), and an impostor root with the same name as the real one but another key.
fn pki(dir: &Dir, root_pathlen: u32) {
    let script = format!(
        r#"
let rk = gen_key("ecdsa:256");
let root = new_ca(rk, #{{ subject: "/O=Test/CN=Root CA", days: 3650,
                          basic_constraints: "critical,CA:true,pathlen:{root_pathlen}" }});
write_pair("root.key", rk, "root.pem", root.cert);

let ik = gen_key("ecdsa:256");
// pkirun refuses to sign a CA under pathlen:0: a twin of the root (same key and name) signs
// the intermediate, so that the chain shows what verify does with it.
let signer = if {root_pathlen} == 0 {{ new_ca(rk, #{{ subject: "/O=Test/CN=Root CA", days: 3650 }}) }} else {{ root }};
let inter = signer.sign(new_csr(ik, #{{ subject: "/O=Test/CN=Intermediate CA" }}), #{{ profile: "ca", days: 1825 }});
write_pair("inter.key", ik, "inter.pem", inter);

let ica = load_ca("inter.pem", "inter.key");
let lk = gen_key("ecdsa:256");
let leaf = ica.sign(new_csr(lk, #{{ subject: "/O=Test/CN=web", san: ["web.example.net", "*.svc.example.net", "IP:10.1.2.3"] }}),
                    #{{ profile: "server", days: 45 }});
write_pair("leaf.key", lk, "leaf.pem", leaf);
write("bundle.pem", pem(leaf) + pem(inter));

let ck = gen_key("ecdsa:256");
let client = root.sign(new_csr(ck, #{{ subject: "/O=Test/CN=client" }}), #{{ profile: "client" }});
write_pair("client.key", ck, "client.pem", client);

let fk = gen_key("ecdsa:256");
let fake = new_ca(fk, #{{ subject: "/O=Test/CN=Root CA" }});
write_pair("fake.key", fk, "fake.pem", fake.cert);
"#
    );
    dir.run_script(&script, &[]).success();
}

/// Whether `openssl verify` accepts, with `args` before the certificate.
fn openssl_accepts(dir: &Dir, args: &[&str]) -> bool {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    dir.openssl_output(&all).status.success()
}

/// pkirun verify's exit status and output.
fn pkirun_verify(dir: &Dir, args: &[&str]) -> (bool, String) {
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    let run = dir.pkirun(&all);
    let ok = run.output.status.success();
    if !ok {
        assert_eq!(run.output.status.code(), Some(1), "{}", run.stderr());
    }
    (ok, format!("{}{}", run.stdout(), run.stderr()))
}

/// pkirun and openssl agree on each case; pkirun's message names the reason.
#[test]
fn verify_agrees_with_openssl_verify_case_by_case() {
    let dir = Dir::new();
    pki(&dir, 1);
    let in_400_days = (std::time::SystemTime::now() + std::time::Duration::from_secs(400 * 86_400))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let chain = "--ca root.pem --untrusted inter.pem";
    // (pkirun verify's arguments, expected verdict, what pkirun's output must contain); the
    // same case goes to openssl verify with its option names (see `openssl_args`).
    let cases: Vec<(String, bool, &str)> = vec![
        (
            format!("{chain} leaf.pem"),
            true,
            "leaf.pem: OK (O = Test, CN = web <- O = Test, CN = Intermediate CA <- O = Test, CN = Root CA)",
        ),
        (
            "--ca root.pem leaf.pem".into(),
            false,
            "unable to get issuer certificate `O = Test, CN = Intermediate CA`",
        ),
        (
            "--ca fake.pem client.pem".into(),
            false,
            "signature does not verify with the key of `O = Test, CN = Root CA`",
        ),
        (
            format!("{chain} --attime {in_400_days} leaf.pem"),
            false,
            "`O = Test, CN = web`: expired at",
        ),
        (
            "--ca root.pem --attime 1000000000 client.pem".into(),
            false,
            "not valid before",
        ),
        (
            format!("{chain} --host web.example.net leaf.pem"),
            true,
            "OK",
        ),
        (
            format!("{chain} --host db.svc.example.net leaf.pem"),
            true,
            "OK",
        ),
        (
            format!("{chain} --host a.b.svc.example.net leaf.pem"),
            false,
            "`a.b.svc.example.net` does not match its names (DNS:web.example.net, DNS:*.svc.example.net, IP:10.1.2.3)",
        ),
        (format!("{chain} --host 10.1.2.3 leaf.pem"), true, "OK"),
        (
            format!("{chain} --host 10.1.2.4 leaf.pem"),
            false,
            "does not match",
        ),
        (format!("{chain} --purpose server leaf.pem"), true, "OK"),
        (
            format!("{chain} --purpose client leaf.pem"),
            false,
            "not for TLS client: extendedKeyUsage lacks clientAuth",
        ),
        (
            "--ca root.pem --purpose client client.pem".into(),
            true,
            "OK",
        ),
        // A self-signed certificate is trusted only when given as a CA.
        ("--ca root.pem fake.pem".into(), false, "FAILED"),
        ("--ca root.pem root.pem".into(), true, "OK"),
    ];
    for (ours, expected, text) in cases {
        let ours: Vec<&str> = ours.split(' ').collect();
        let theirs = openssl_args(&ours);
        assert_eq!(
            openssl_accepts(&dir, &theirs),
            expected,
            "openssl verify {theirs:?}"
        );
        let (ok, out) = pkirun_verify(&dir, &ours);
        assert_eq!(ok, expected, "pkirun verify {ours:?}: {out}");
        assert!(out.contains(text), "pkirun verify {ours:?}: {out}");
    }
}

/// `pkirun verify` arguments as `openssl verify` spells them.
fn openssl_args<'a>(ours: &[&'a str]) -> Vec<&'a str> {
    let mut theirs = Vec::new();
    let mut args = ours.iter();
    while let Some(&arg) = args.next() {
        let mut value = || *args.next().unwrap();
        match arg {
            "--ca" => theirs.extend(["-CAfile", value()]),
            "--untrusted" => theirs.extend(["-untrusted", value()]),
            "--attime" => theirs.extend(["-attime", value()]),
            "--host" => {
                let host = value();
                let option = if host.parse::<std::net::IpAddr>().is_ok() {
                    "-verify_ip"
                } else {
                    "-verify_hostname"
                };
                theirs.extend([option, host]);
            }
            "--purpose" => theirs.extend([
                "-purpose",
                if value() == "server" {
                    "sslserver"
                } else {
                    "sslclient"
                },
            ]),
            file => theirs.push(file),
        }
    }
    theirs
}

#[test]
fn a_bundle_carries_its_intermediates_and_a_key_must_match() {
    let dir = Dir::new();
    pki(&dir, 1);
    let (ok, out) = pkirun_verify(
        &dir,
        &["--ca", "root.pem", "--key", "leaf.key", "bundle.pem"],
    );
    assert!(ok, "{out}");
    let (ok, out) = pkirun_verify(
        &dir,
        &["--ca", "root.pem", "--key", "client.key", "bundle.pem"],
    );
    assert!(
        !ok && out.contains("the key `client.key` does not belong"),
        "{out}"
    );
    // Several certificates: each judged; the status fails if one does.
    let (ok, out) = pkirun_verify(&dir, &["--ca", "root.pem", "client.pem", "leaf.pem"]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("client.pem: OK") && out.contains("leaf.pem: FAILED"),
        "{out}"
    );
    let run = dir.pkirun(&[
        "verify",
        "--ca",
        "root.pem",
        "--json",
        "client.pem",
        "leaf.pem",
    ]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json[0]["error"], serde_json::Value::Null);
    assert_eq!(json[0]["chain"].as_array().unwrap().len(), 2);
    assert!(
        json[1]["error"]
            .as_str()
            .unwrap()
            .contains("unable to get issuer")
    );
}

#[test]
fn a_path_length_of_zero_forbids_the_intermediate_as_in_openssl() {
    let dir = Dir::new();
    pki(&dir, 0);
    assert!(!openssl_accepts(
        &dir,
        &["-CAfile", "root.pem", "-untrusted", "inter.pem", "leaf.pem"]
    ));
    let (ok, out) = pkirun_verify(
        &dir,
        &["--ca", "root.pem", "--untrusted", "inter.pem", "leaf.pem"],
    );
    assert!(!ok, "{out}");
    assert!(out.contains("`O = Test, CN = Root CA`: pathlen:0"), "{out}");
    // The root's direct leaf is still fine.
    assert!(pkirun_verify(&dir, &["--ca", "root.pem", "client.pem"]).0);
}

#[test]
fn a_leaf_that_signs_another_certificate_is_no_ca_for_either_verifier() {
    let dir = Dir::new();
    pki(&dir, 1);
    dir.openssl_p256_csr("sub.key", "/CN=sub", "sub.csr");
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        "sub.csr",
        "-CA",
        "client.pem",
        "-CAkey",
        "client.key",
        "-days",
        "10",
        "-out",
        "sub.pem",
    ]);
    let chain = ["-CAfile", "root.pem", "-untrusted", "client.pem", "sub.pem"];
    assert!(!openssl_accepts(&dir, &chain));
    let (ok, out) = pkirun_verify(
        &dir,
        &["--ca", "root.pem", "--untrusted", "client.pem", "sub.pem"],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("`O = Test, CN = client`: is not a CA (basicConstraints CA:TRUE missing) but issued `CN = sub`"),
        "{out}"
    );
}

#[test]
fn verify_and_key_matches_in_scripts() {
    let dir = Dir::new();
    pki(&dir, 1);
    let out = dir
        .run_script(
            r#"
let leaf = load_cert("leaf.pem");
let inter = load_cert("inter.pem");
let root = load_cert("root.pem");
let chain = verify(leaf, root, #{ intermediates: [inter], host: "web.example.net",
                                   purpose: "server", key: load_key("leaf.key") });
print(chain.len());
print(key_matches(leaf, load_key("leaf.key")));
print(key_matches(leaf, load_key("client.key")));
let ca = load_ca("root.pem", "root.key");
print(verify(load_cert("client.pem"), ca)[1]);
"#,
            &[],
        )
        .success()
        .stdout();
    assert_eq!(out, "3\ntrue\nfalse\nO = Test, CN = Root CA\n");
    let err = dir
        .run_script(
            "verify(load_cert(\"leaf.pem\"), [load_cert(\"root.pem\"), load_cert(\"inter.pem\")], #{ host: \"other.example.net\" });\n",
            &[],
        )
        .failure();
    assert!(
        err.contains("`other.example.net` does not match its names"),
        "{err}"
    );
}

#[test]
fn expiry_lists_soonest_first_and_fails_within_the_window() {
    let dir = Dir::new();
    pki(&dir, 1);
    // Only certificates count: keys and CSRs beside them are skipped.
    dir.openssl(&[
        "req",
        "-new",
        "-key",
        "leaf.key",
        "-subj",
        "/CN=x",
        "-out",
        "extra.pem",
    ]);
    let run = dir.pkirun(&["expiry", "."]);
    assert!(run.output.status.success(), "{}", run.stderr());
    let out = run.stdout();
    let rows: Vec<&str> = out.lines().skip(1).collect();
    // The 45-day leaf first (alone and as the first certificate of the bundle).
    assert!(rows[0].starts_with("./bundle.pem#1 "), "{out}");
    assert!(rows[1].starts_with("./leaf.pem "), "{out}");
    assert!(
        rows[0].contains(" 44d ") && rows[1].contains(" 44d "),
        "{out}"
    );
    assert!(
        out.contains("./bundle.pem#1 ") && out.contains("./bundle.pem#2 "),
        "{out}"
    );
    assert!(!out.contains(".key") && !out.contains("extra.pem"), "{out}");
    assert!(
        out.ends_with("7 certificates, 0 expired or expiring within 30d\n"),
        "{out}"
    );

    let run = dir.pkirun(&[
        "expiry", "--within", "60d", "--json", "leaf.pem", "root.pem",
    ]);
    assert_eq!(run.output.status.code(), Some(1), "the 45-day leaf is due");
    let json: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    assert_eq!(json[0]["file"], "leaf.pem");
    assert_eq!(json[0]["due"], true);
    assert_eq!(json[1]["file"], "root.pem");
    assert_eq!(json[1]["due"], false);
    assert_eq!(json[1]["ca"], true);
    // notAfter as openssl reads it.
    let end = dir.openssl(&["x509", "-in", "leaf.pem", "-noout", "-enddate"]);
    let openssl_end = end.trim().trim_start_matches("notAfter=");
    let ours = json[0]["not_after"].as_str().unwrap();
    let parsed = std::process::Command::new("date")
        .args(["-u", "-d", openssl_end, "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&parsed.stdout).trim(), ours);

    let err = dir.pkirun(&["expiry", "leaf.key"]).failure();
    assert!(err.contains("`leaf.key`: no certificate found"), "{err}");
    let err = dir.pkirun(&["expiry", "--within", "soon", "."]).failure();
    assert!(err.contains("--within"), "{err}");
}
