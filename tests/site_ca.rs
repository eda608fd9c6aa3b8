//! scripts/site-ca.rhai (issue 14.7) with the real consumers: `openssl verify` through the
//! intermediate with both CRLs, `openssl crl -verify`, `openssl pkcs12`, `openssl pkey -passin`,
//! `openssl ca -gencrl` on pkirun's database, keytool and Python's `cryptography` on the
//! `.p12` and the CRL, and nginx requiring client certificates with `ssl_crl`; then revocation,
//! renewal and the refusals, each with nothing written.

use crate::util::{Dir, Nginx, NginxSite, inspect_normalised};

const PASS: &str = "correct horse battery";

/// The site's parameters (servers www and api, clients alice and bob, constraints).
/// The site the tests run: two servers, two clients, a constraint, the passphrase file.
pub(crate) const SITE: &[&str] = &[
    "-D",
    "servers=www=www.example.test,127.0.0.1;api=api.example.test",
    "-D",
    "clients=alice,bob",
    "-D",
    "permitted=example.test,127.0.0.0/8",
    "-D",
    "passphrase_file=pass.txt",
];

fn site_args(extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = SITE.iter().map(ToString::to_string).collect();
    args.push("-q".into());
    for e in extra {
        args.extend(["-D".to_string(), (*e).to_string()]);
    }
    args
}

/// Runs the procedure in `dir` with `extra` `-D` settings.
fn site(dir: &Dir, extra: &[&str]) -> crate::util::Run {
    let args = site_args(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    dir.run_repo_script("scripts/site-ca.rhai", &args)
}

/// `openssl verify` of `leaf` through the intermediate to the root, with both CRLs when `crl`.
fn openssl_verifies(dir: &Dir, leaf: &str, crl: bool) -> bool {
    let mut args = vec![
        "verify",
        "-CAfile",
        "root/ca.crt",
        "-untrusted",
        "intermediate/chain.pem",
    ];
    if crl {
        args.extend([
            "-crl_check_all",
            "-CRLfile",
            "root/crl.pem",
            "-CRLfile",
            "intermediate/crl.pem",
        ]);
    }
    args.push(leaf);
    dir.openssl_output(&args).status.success()
}

/// The serials a CRL lists, as openssl prints them.
fn crl_serials(dir: &Dir, crl: &str) -> Vec<String> {
    let mut serials: Vec<String> = dir
        .openssl(&["crl", "-in", crl, "-noout", "-text"])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .map(str::to_string)
        .collect();
    serials.sort();
    serials
}

/// nginx serving www with its full chain, requiring client certificates of the site checked
/// against both CRLs; returns the HTTP status for alice, bob (revoked: the log must say so)
/// and no certificate.
fn nginx_statuses(dir: &Dir) -> [u16; 3] {
    let roots = format!(
        "{}{}",
        dir.read("intermediate/ca.crt"),
        dir.read("root/ca.crt")
    );
    dir.create("client-cas.pem", roots);
    let crls = format!(
        "{}{}",
        dir.read("intermediate/crl.pem"),
        dir.read("root/crl.pem")
    );
    dir.create("crls.pem", crls);
    let nginx = Nginx::start(
        dir,
        &NginxSite {
            fullchain: "issued/www.fullchain.pem",
            key: "issued/www.key",
            client_ca: "client-cas.pem",
            crl: Some("crls.pem"),
        },
    );
    let alice = nginx.get(
        dir,
        "root/ca.crt",
        Some(("issued/alice.crt", "issued/alice.key")),
    );
    assert!(
        alice.0 != 200 || alice.1.contains("CN=alice"),
        "{alice:?}\n{}",
        nginx.log()
    );
    let bob = nginx.get(
        dir,
        "root/ca.crt",
        Some(("issued/bob.crt", "issued/bob.key")),
    );
    let none = nginx.get(dir, "root/ca.crt", None);
    [alice.0, bob.0, none.0]
}

#[test]
fn the_site_pki_is_accepted_by_openssl_nginx_python_and_keytool_revoked_and_renewed() {
    let dir = Dir::new();
    dir.create("pass.txt", format!("{PASS}\n"));
    site(&dir, &[]).success();

    // Files, modes, encrypted CA keys.
    for key in [
        "root/ca.key",
        "intermediate/ca.key",
        "issued/www.key",
        "issued/alice.key",
        "issued/alice.p12",
    ] {
        assert_eq!(dir.mode(key), 0o400, "{key}");
    }
    for ca_key in ["root/ca.key", "intermediate/ca.key"] {
        assert!(
            dir.read(ca_key).contains("ENCRYPTED PRIVATE KEY"),
            "{ca_key}"
        );
        dir.openssl(&["pkey", "-in", ca_key, "-passin", "file:pass.txt", "-noout"]);
        assert!(
            !dir.openssl_output(&["pkey", "-in", ca_key, "-passin", "pass:wrong", "-noout"])
                .status
                .success()
        );
    }
    let chain = dir.read("intermediate/chain.pem");
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 1, "{chain}");
    let root_text = dir.x509_text("root/ca.crt");
    assert!(root_text.contains("CA:TRUE, pathlen:1"), "{root_text}");
    let inter_text = dir.x509_text("intermediate/ca.crt");
    for want in [
        "CA:TRUE, pathlen:0",
        "Certificate Sign, CRL Sign",
        "X509v3 Name Constraints: critical",
        "DNS:example.test",
    ] {
        assert!(inter_text.contains(want), "{want}:\n{inter_text}");
    }
    let alice_text = dir.x509_text("issued/alice.crt");
    assert!(
        alice_text.contains("email:alice@example.test") && alice_text.contains("TLS Web Client"),
        "{alice_text}"
    );
    for leaf in ["www", "api", "alice", "bob"] {
        assert!(
            openssl_verifies(&dir, &format!("issued/{leaf}.crt"), true),
            "{leaf}"
        );
        // The full chain: the leaf, then the intermediate.
        let full = dir.read(&format!("issued/{leaf}.fullchain.pem"));
        assert_eq!(
            full,
            format!(
                "{}{}",
                dir.read(&format!("issued/{leaf}.crt")),
                dir.read("intermediate/ca.crt")
            )
        );
    }
    for (crl, ca) in [
        ("root/crl.pem", "root/ca.crt"),
        ("intermediate/crl.pem", "intermediate/ca.crt"),
    ] {
        dir.openssl(&["crl", "-in", crl, "-noout", "-CAfile", ca]);
    }
    let info = dir.openssl(&[
        "pkcs12",
        "-in",
        "issued/alice.p12",
        "-passin",
        "file:pass.txt",
        "-info",
        "-nokeys",
    ]);
    assert!(
        info.contains("CN = alice") || info.contains("CN=alice"),
        "{info}"
    );
    // The root recorded the intermediate, the intermediate the four leaves.
    assert_eq!(dir.read("root/index.txt").lines().count(), 1);
    assert_eq!(dir.read("intermediate/index.txt").lines().count(), 4);

    // A re-run changes nothing.
    let before = dir.state();
    site(&dir, &[]).success();
    assert_eq!(dir.state(), before, "a re-run wrote something");

    // bob leaves: revoked, both CRLs republished; a second run changes nothing.
    let bob_serial = dir.serial_of("issued/bob.crt");
    site(&dir, &["revoke=bob"]).success();
    let after_revoke = dir.state();
    site(&dir, &["revoke=bob"]).success();
    assert_eq!(dir.state(), after_revoke);
    assert!(!openssl_verifies(&dir, "issued/bob.crt", true));
    for leaf in ["www", "api", "alice"] {
        assert!(
            openssl_verifies(&dir, &format!("issued/{leaf}.crt"), true),
            "{leaf}"
        );
    }
    assert_eq!(
        crl_serials(&dir, "intermediate/crl.pem"),
        vec![bob_serial.clone()]
    );
    // openssl ca -gencrl on pkirun's database lists the same serial.
    dir.create(
        "inter.cnf",
        "[ ca ]\ndefault_ca = d\n[ d ]\ndir = intermediate\ndatabase = $dir/index.txt\n\
         certificate = $dir/ca.crt\nprivate_key = $dir/ca.key\ncrlnumber = $dir/crlnumber\n\
         default_md = sha256\ndefault_crl_days = 7\n",
    );
    dir.openssl(&[
        "ca",
        "-config",
        "inter.cnf",
        "-gencrl",
        "-passin",
        "file:pass.txt",
        "-out",
        "openssl-inter.crl",
    ]);
    assert_eq!(crl_serials(&dir, "openssl-inter.crl"), vec![bob_serial]);

    python_reads_the_p12_and_crl(&dir);
    keytool_lists_the_p12(&dir);
    assert_eq!(nginx_statuses(&dir), [200, 400, 400], "alice, bob, none");

    // Renewal: every field kept but serial and dates; bob, revoked, is not renewed.
    let fields: Vec<_> = ["www", "alice"]
        .iter()
        .map(|l| inspect_normalised(&dir, &format!("issued/{l}.crt")))
        .collect();
    let old_www = dir.serial_of("issued/www.crt");
    let old_bob = dir.read("issued/bob.crt");
    let renewed = site(&dir, &["revoke=bob", "renew_within=400d"]).success();
    assert_ne!(dir.serial_of("issued/www.crt"), old_www);
    assert_eq!(dir.read("issued/bob.crt"), old_bob, "{}", renewed.stdout());
    for (leaf, before) in ["www", "alice"].iter().zip(&fields) {
        assert_eq!(
            &inspect_normalised(&dir, &format!("issued/{leaf}.crt")),
            before,
            "{leaf}"
        );
        assert!(openssl_verifies(
            &dir,
            &format!("issued/{leaf}.fullchain.pem"),
            true
        ));
    }
    // The .p12 follows the renewed certificate.
    let p12_cert = dir.openssl(&[
        "pkcs12",
        "-in",
        "issued/alice.p12",
        "-passin",
        "file:pass.txt",
        "-nokeys",
        "-clcerts",
    ]);
    dir.create("p12-alice.pem", p12_cert);
    assert_eq!(
        dir.serial_of("p12-alice.pem"),
        dir.serial_of("issued/alice.crt")
    );
    assert_eq!(nginx_statuses(&dir), [200, 400, 400], "after renewal");
}

fn python_reads_the_p12_and_crl(dir: &Dir) {
    let out = dir.python(&format!(
        r#"
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
key, cert, extra = pkcs12.load_key_and_certificates(open("issued/alice.p12", "rb").read(), b"{PASS}")
assert key is not None
print(cert.subject.rfc4514_string(), len(extra))
inter = x509.load_pem_x509_certificate(open("intermediate/ca.crt", "rb").read())
crl = x509.load_pem_x509_crl(open("intermediate/crl.pem", "rb").read())
assert crl.is_signature_valid(inter.public_key())
print(len(list(crl)))
"#
    ));
    assert_eq!(out.trim(), "CN=alice,O=Example 1\n1");
}

fn keytool_lists_the_p12(dir: &Dir) {
    let out = dir.keytool_list("issued/alice.p12", PASS);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "keytool: {text}");
    for want in [
        "Entry type: PrivateKeyEntry",
        "Certificate chain length: 2",
        "Owner: CN=alice, O=Example",
        "Owner: CN=Example Intermediate CA, O=Example",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
}

/// Refusals: one line each, and nothing written.
#[test]
fn bad_input_is_refused_in_one_line_and_nothing_is_written() {
    let dir = Dir::new();
    dir.create("pass.txt", format!("{PASS}\n"));
    site(&dir, &[]).success();
    let refused = |extra: &[&str], want: &str| {
        let before = dir.state();
        let err = site(&dir, extra).failure();
        assert!(err.contains(want), "{extra:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert_eq!(dir.state(), before, "{extra:?} wrote something");
    };
    // A passphrase is never taken from the command line.
    refused(&["passphrase=secret"], "reads no parameter `passphrase`");
    // A name the CA never issued.
    refused(&["revoke=carol"], "issued/carol.crt does not exist");
    // A name outside the intermediate's constraints.
    refused(&["servers=evil=evil.other.test"], "evil.other.test");
    // The wrong passphrase.
    dir.create("wrong.txt", "not it\n");
    let before = dir.state();
    let args: Vec<String> = site_args(&[])
        .into_iter()
        .map(|a| a.replace("passphrase_file=pass.txt", "passphrase_file=wrong.txt"))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let err = dir.run_repo_script("scripts/site-ca.rhai", &args).failure();
    assert!(err.contains("passphrase"), "{err}");
    assert_eq!(dir.state(), before);

    // A renewal that would outlive the intermediate, and an intermediate asked of it
    // (pathlen:0): refused.
    let before = dir.state();
    let err = dir
        .run_script(
            r#"use_passphrase_file("pass.txt");
let inter = load_ca("intermediate/ca.crt", "intermediate/ca.key");
inter.renew_due(["issued/www.crt"], #{ renew_within: "400d", days: 4000 });"#,
            &[],
        )
        .failure();
    assert!(
        err.contains("issued/www.crt") && err.contains("before the certificate would"),
        "{err}"
    );
    let err = dir
        .run_script(
            r#"use_passphrase_file("pass.txt");
let inter = load_ca("intermediate/ca.crt", "intermediate/ca.key");
inter.sign(new_csr(gen_key("ecdsa:256"), #{ subject: ["CN=Sub CA"] }), #{ profile: "ca" });"#,
            &[],
        )
        .failure();
    assert!(err.contains("pathlen"), "{err}");
    assert_eq!(dir.state(), before);

    // A damaged index.txt: named with its line, before anything is signed.
    dir.create("intermediate/index.txt", "V\t300101000000Z\n");
    let before = dir.state();
    let err = site(&dir, &[]).failure();
    assert!(err.contains("`intermediate/index.txt` line 1"), "{err}");
    assert_eq!(dir.state(), before);
}
