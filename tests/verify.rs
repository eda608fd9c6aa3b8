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

/// Extensions of a CA made by [`openssl_cert`] (plus `extra` lines).
const CA_EXT: &str = "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n";

/// Makes `NAME.pem` (and `NAME.key`, a P-256 key, unless `key` names an existing one) with
/// openssl alone, so the fixture does not depend on pkirun's signing: self-signed when
/// `issuer` is `None`, otherwise signed by `ISSUER.pem`/`ISSUER.key`; `ext` holds the
/// extension lines (openssl config syntax), valid for `days` days.
fn openssl_cert(
    dir: &Dir,
    name: &str,
    subject: &str,
    issuer: Option<&str>,
    key: Option<&str>,
    days: u32,
    ext: &str,
) {
    let key = key.map_or_else(|| format!("{name}.key"), |k| format!("{k}.key"));
    if !dir.join(&key).exists() {
        dir.openssl_ec_key("P-256", &key);
    }
    let ext_file = format!("{name}.cnf");
    let aki = if issuer.is_some() {
        "authorityKeyIdentifier=keyid:always\n"
    } else {
        ""
    };
    dir.create(&ext_file, format!("[v3]\n{ext}{aki}"));
    let csr = format!("{name}.csr");
    dir.openssl(&["req", "-new", "-key", &key, "-subj", subject, "-out", &csr]);
    let pem = format!("{name}.pem");
    let days = days.to_string();
    let mut args = vec![
        "x509",
        "-req",
        "-in",
        &csr,
        "-days",
        &days,
        "-extfile",
        &ext_file,
        "-extensions",
        "v3",
        "-out",
        &pem,
    ];
    let (ca, ca_key);
    match issuer {
        None => args.extend(["-signkey", key.as_str()]),
        Some(issuer) => {
            ca = format!("{issuer}.pem");
            ca_key = format!("{issuer}.key");
            args.extend(["-CA", ca.as_str(), "-CAkey", ca_key.as_str()]);
        }
    }
    dir.openssl(&args);
}

/// A leaf's extensions with these subjectAltNames (none when empty).
fn leaf_ext(san: &str) -> String {
    let mut ext = String::from(
        "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\n",
    );
    if !san.is_empty() {
        ext.push_str(&format!("subjectAltName={san}\n"));
    }
    ext
}

/// Each chain is judged the same by `openssl verify` and `pkirun verify`, and pkirun's message
/// names the certificate and the rule: the trust anchor's own validity and extensions, name
/// constraints (permitted and excluded, DNS and IP, the commonName when there is no SAN),
/// wildcards over one label, backtracking over candidate issuers, and pathlen without
/// self-issued intermediates.
#[test]
fn verify_checks_every_link_as_openssl_does() {
    let dir = Dir::new();
    // An expired root (1 day) over a 30-day leaf, judged 3 days from now.
    openssl_cert(&dir, "old", "/CN=Old Root", None, None, 1, CA_EXT);
    openssl_cert(
        &dir,
        "under-old",
        "/CN=under old",
        Some("old"),
        None,
        30,
        &leaf_ext("DNS:a.example.com"),
    );
    let in_3_days = (std::time::SystemTime::now() + std::time::Duration::from_secs(3 * 86_400))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    // A root with an unknown critical extension.
    openssl_cert(
        &dir,
        "odd",
        "/CN=Odd Root",
        None,
        None,
        30,
        &format!("{CA_EXT}1.3.6.1.4.1.99999.1=critical,DER:05:00\n"),
    );
    openssl_cert(
        &dir,
        "under-odd",
        "/CN=under odd",
        Some("odd"),
        None,
        30,
        &leaf_ext("DNS:a.example.com"),
    );
    // A root with a critical subjectKeyIdentifier.
    openssl_cert(
        &dir,
        "ski",
        "/CN=SKI Root",
        None,
        None,
        30,
        "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\nsubjectKeyIdentifier=critical,hash\n",
    );
    openssl_cert(
        &dir,
        "under-ski",
        "/CN=under ski",
        Some("ski"),
        None,
        30,
        &leaf_ext("DNS:a.example.com"),
    );
    // A root constrained to example.com (but not bad.example.com) and 10.0.0.0/8.
    openssl_cert(
        &dir,
        "nc",
        "/CN=Constrained Root",
        None,
        None,
        30,
        &format!(
            "{CA_EXT}nameConstraints=critical,permitted;DNS:example.com,permitted;IP:10.0.0.0/255.0.0.0,excluded;DNS:bad.example.com\n"
        ),
    );
    openssl_cert(
        &dir,
        "nc-ok",
        "/CN=ok",
        Some("nc"),
        None,
        30,
        &leaf_ext("DNS:www.example.com,IP:10.1.2.3"),
    );
    openssl_cert(
        &dir,
        "nc-dns",
        "/CN=dns",
        Some("nc"),
        None,
        30,
        &leaf_ext("DNS:www.example.org"),
    );
    openssl_cert(
        &dir,
        "nc-excluded",
        "/CN=excluded",
        Some("nc"),
        None,
        30,
        &leaf_ext("DNS:x.bad.example.com"),
    );
    openssl_cert(
        &dir,
        "nc-ip",
        "/CN=ip",
        Some("nc"),
        None,
        30,
        &leaf_ext("DNS:www.example.com,IP:192.168.1.1"),
    );
    openssl_cert(
        &dir,
        "nc-cn",
        "/CN=www.example.org",
        Some("nc"),
        None,
        30,
        &leaf_ext(""),
    );
    // A plain root, a leaf for `*.com`, and two intermediates of the same name and key: the
    // first listed has expired, the second is valid.
    openssl_cert(&dir, "root", "/CN=Root", None, None, 30, CA_EXT);
    openssl_cert(
        &dir,
        "star",
        "/CN=star",
        Some("root"),
        None,
        30,
        &leaf_ext("DNS:*.com"),
    );
    openssl_cert(
        &dir,
        "inter-old",
        "/CN=Inter",
        Some("root"),
        Some("inter"),
        1,
        CA_EXT,
    );
    openssl_cert(
        &dir,
        "inter",
        "/CN=Inter",
        Some("root"),
        Some("inter"),
        30,
        CA_EXT,
    );
    openssl_cert(
        &dir,
        "via-inter",
        "/CN=via inter",
        Some("inter"),
        None,
        20,
        &leaf_ext("DNS:a.example.com"),
    );
    dir.create(
        "both-inters.pem",
        dir.read("inter-old.pem") + dir.read("inter.pem").as_str(),
    );
    // pathlen:0 on an intermediate; below it a self-issued one (same name, new key) passes,
    // another CA does not.
    openssl_cert(
        &dir,
        "p0",
        "/CN=Pathlen Zero",
        Some("root"),
        None,
        30,
        &format!("{CA_EXT}basicConstraints=critical,CA:true,pathlen:0\n")
            .replace("basicConstraints=critical,CA:true\n", ""),
    );
    openssl_cert(
        &dir,
        "p0-rekey",
        "/CN=Pathlen Zero",
        Some("p0"),
        None,
        30,
        CA_EXT,
    );
    openssl_cert(
        &dir,
        "under-rekey",
        "/CN=under rekey",
        Some("p0-rekey"),
        None,
        20,
        &leaf_ext("DNS:a.example.com"),
    );
    dir.create(
        "p0-chain.pem",
        dir.read("p0.pem") + dir.read("p0-rekey.pem").as_str(),
    );
    openssl_cert(&dir, "p0-sub", "/CN=Sub CA", Some("p0"), None, 30, CA_EXT);
    openssl_cert(
        &dir,
        "under-sub",
        "/CN=under sub",
        Some("p0-sub"),
        None,
        20,
        &leaf_ext("DNS:a.example.com"),
    );
    dir.create(
        "p0-sub-chain.pem",
        dir.read("p0.pem") + dir.read("p0-sub.pem").as_str(),
    );

    let cases: Vec<(String, bool, &str)> = vec![
        (
            format!("--ca old.pem --attime {in_3_days} under-old.pem"),
            false,
            "`CN = Old Root`: expired at",
        ),
        (
            "--ca odd.pem under-odd.pem".into(),
            false,
            "`CN = Odd Root`: unhandled critical extension 1.3.6.1.4.1.99999.1",
        ),
        (
            "--ca ski.pem under-ski.pem".into(),
            false,
            "`CN = SKI Root`: invalid subjectKeyIdentifier extension: it is marked critical",
        ),
        (
            "--ca nc.pem --host www.example.com nc-ok.pem".into(),
            true,
            "OK",
        ),
        ("--ca nc.pem --host 10.1.2.3 nc-ok.pem".into(), true, "OK"),
        (
            "--ca nc.pem nc-dns.pem".into(),
            false,
            "`CN = dns`: DNS:www.example.org violates the name constraints of `CN = Constrained Root`: outside the permitted subtrees (DNS:example.com)",
        ),
        (
            "--ca nc.pem nc-excluded.pem".into(),
            false,
            "DNS:x.bad.example.com violates the name constraints of `CN = Constrained Root`: within excluded subtree DNS:bad.example.com",
        ),
        (
            "--ca nc.pem nc-ip.pem".into(),
            false,
            "IP:192.168.1.1 violates the name constraints of `CN = Constrained Root`: outside the permitted subtrees (IP:10.0.0.0/255.0.0.0)",
        ),
        (
            "--ca nc.pem nc-cn.pem".into(),
            false,
            "DNS:www.example.org violates the name constraints",
        ),
        (
            "--ca root.pem --host example.com star.pem".into(),
            false,
            "`example.com` does not match its names (DNS:*.com)",
        ),
        (
            format!("--ca root.pem --untrusted both-inters.pem --attime {in_3_days} via-inter.pem"),
            true,
            "OK (CN = via inter <- CN = Inter <- CN = Root)",
        ),
        (
            "--ca root.pem --untrusted p0-chain.pem under-rekey.pem".into(),
            true,
            "OK (CN = under rekey <- CN = Pathlen Zero <- CN = Pathlen Zero <- CN = Root)",
        ),
        (
            "--ca root.pem --untrusted p0-sub-chain.pem under-sub.pem".into(),
            false,
            "`CN = Pathlen Zero`: pathlen:0 allows 0 intermediate CA(s) below it, the chain has 1",
        ),
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
    // Backtracking: the expired intermediate alone fails.
    let (ok, out) = pkirun_verify(
        &dir,
        &[
            "--ca",
            "root.pem",
            "--untrusted",
            "inter-old.pem",
            "--attime",
            &in_3_days,
            "via-inter.pem",
        ],
    );
    assert!(!ok && out.contains("`CN = Inter`: expired at"), "{out}");
}

#[test]
fn verify_with_a_crl_rejects_the_revoked_certificate_as_openssl_crl_check_does() {
    use pkirun::pki::{Ca, Certificate, Crl, CrlParams, Key, Reason, Revoked, Serial};
    let dir = Dir::new();
    dir.run_script(
        r#"
let key = gen_key("ecdsa:256");
let ca = new_ca(key, #{ subject: "/O=CRL Test/CN=CRL CA", days: 3650 });
write_pair("ca.key", key, "ca.pem", ca.cert);
for name in ["alice", "bob"] {
    let p = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: name }, san: [`${name}@example.test`], profile: "client" });
    write_pair(`${name}.key`, p.key, `${name}.pem`, p.cert);
}
let other = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Other CA" });
write_cert("other.pem", other.cert);
"#,
        &[],
    )
    .success();
    let ca = Ca::load(
        Certificate::from_pem(dir.read("ca.pem").as_bytes()).unwrap(),
        Key::from_pem(dir.read("ca.key").as_bytes()).unwrap(),
    )
    .unwrap();
    let bob = Certificate::from_pem(dir.read("bob.pem").as_bytes()).unwrap();
    let revoked = Revoked {
        serial: Serial::from_bytes(bob.serial()),
        date: std::time::SystemTime::now() - std::time::Duration::from_secs(60),
        reason: Some(Reason::KeyCompromise),
    };
    let crl = Crl::build(
        &ca,
        &[revoked],
        &CrlParams::new(7, 0, Serial::from_bytes(&[1])),
    )
    .unwrap();
    dir.create("crl.pem", crl.pem());
    // inspect shows the CRL as openssl crl -text does.
    let ours = dir.pkirun(&["inspect", "crl.pem"]).success().stdout();
    let theirs = dir.openssl(&["crl", "-noout", "-text", "-in", "crl.pem"]);
    for line in theirs.lines().filter(|l| {
        [
            "Issuer:",
            "Last Update:",
            "Next Update:",
            "Serial Number:",
            "Revocation Date:",
            "Key Compromise",
            "CRL Number",
        ]
        .iter()
        .any(|k| l.contains(k))
    }) {
        let line = line.trim().replace("Key Compromise", "keyCompromise");
        assert!(
            ours.contains(&line),
            "{line:?} missing:\n{ours}\nopenssl:\n{theirs}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(
        &dir.pkirun(&["inspect", "--json", "crl.pem"])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(json[0]["items"][0]["kind"], "crl");
    assert_eq!(json[0]["items"][0]["revoked"][0]["reason"], "keyCompromise");

    let (ok, out) = pkirun_verify(
        &dir,
        &["--ca", "ca.pem", "--crl", "crl.pem", "alice.pem", "bob.pem"],
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("alice.pem: OK (CN = alice <- O = CRL Test, CN = CRL CA)"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "bob.pem: FAILED: `CN = bob`: certificate revoked (serial {}, keyCompromise, on ",
            Serial::from_bytes(bob.serial()).to_hex()
        )),
        "{out}"
    );
    for (cert, accepted) in [("alice.pem", true), ("bob.pem", false)] {
        assert_eq!(
            openssl_accepts(
                &dir,
                &[
                    "-CAfile",
                    "ca.pem",
                    "-crl_check",
                    "-CRLfile",
                    "crl.pem",
                    cert
                ]
            ),
            accepted,
            "openssl on {cert}"
        );
    }
    // A CRL of another issuer does not cover the certificate: refused, as openssl does.
    let other = Ca::load(
        Certificate::from_pem(dir.read("other.pem").as_bytes()).unwrap(),
        Key::generate(pkirun::pki::KeySpec::P256).unwrap(),
    );
    assert!(other.is_err(), "a CA with a foreign key must not load");
    let (ok, out) = pkirun_verify(&dir, &["--ca", "ca.pem", "--crl", "ca.pem", "alice.pem"]);
    assert!(!ok);
    assert!(
        out.contains("no X509 CRL block (found: CERTIFICATE)"),
        "{out}"
    );
    // Past nextUpdate the CRL has expired, for both verifiers.
    let later = (std::time::SystemTime::now() + std::time::Duration::from_secs(8 * 86_400))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let (ok, out) = pkirun_verify(
        &dir,
        &[
            "--ca",
            "ca.pem",
            "--crl",
            "crl.pem",
            "--attime",
            &later,
            "alice.pem",
        ],
    );
    assert!(
        !ok && out.contains("CRL of `O = CRL Test, CN = CRL CA`: has expired: nextUpdate"),
        "{out}"
    );
    assert!(!openssl_accepts(
        &dir,
        &[
            "-CAfile",
            "ca.pem",
            "-crl_check",
            "-CRLfile",
            "crl.pem",
            "-attime",
            &later,
            "alice.pem"
        ]
    ));
}

#[test]
fn an_intermediate_ca_and_its_chain_files_verify_with_openssl_and_pkirun() {
    let dir = Dir::new();
    dir.run_script(
        r#"
let root_key = gen_key("ecdsa:384");
let root = new_ca(root_key, #{ subject: "/O=Site/CN=Site Root", days: 3650,
    basic_constraints: "critical,CA:true,pathlen:1" });
write_cert("root.crt", root.cert);
let int_key = gen_key("ecdsa:384");
let int_cert = root.sign(new_csr(int_key, #{ subject: "/O=Site/CN=Site Intermediate" }), #{
    profile: "ca", days: 1825, basic_constraints: "critical,CA:true,pathlen:0",
    key_usage: ["critical", "keyCertSign", "cRLSign"] });
let int = load_ca(int_cert, int_key);
write_certs("chain.pem", [int.cert], #{});
let www = int.issue(#{ key: "ecdsa:256", subject: #{ CN: "www.example.test" }, san: ["www.example.test"], profile: "server" });
write_pair("www.key", www.key, "www.crt", www.cert);
write_certs("www.fullchain.pem", [www.cert, int.cert], #{});
"#,
        &[],
    )
    .success();
    assert_eq!(dir.pem_labels("www.fullchain.pem").len(), 2);
    assert!(openssl_accepts(
        &dir,
        &[
            "-CAfile",
            "root.crt",
            "-untrusted",
            "chain.pem",
            "-verify_hostname",
            "www.example.test",
            "www.crt"
        ]
    ));
    let (ok, out) = pkirun_verify(
        &dir,
        &[
            "--ca",
            "root.crt",
            "--host",
            "www.example.test",
            "www.fullchain.pem",
        ],
    );
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "CN = www.example.test <- O = Site, CN = Site Intermediate <- O = Site, CN = Site Root"
        ),
        "{out}"
    );
}
