//! Name constraints (issue 14.1): set on a CA certificate from plain names, enforced when that
//! CA signs (refused with the rule named), and checked by `pkirun verify` as `openssl verify`
//! checks them.

use crate::util::Dir;

const HIERARCHY: &str = r#"
let root_key = gen_key("ecdsa:384");
let root = new_ca(root_key, #{ subject: #{ CN: "NC Root" }, days: 3650 });
let ik = gen_key("ecdsa:384");
let icert = root.sign(new_csr(ik, #{ subject: #{ CN: "NC Intermediate" } }), #{
    profile: "ca", basic_constraints: "critical,CA:true,pathlen:0", days: 1000,
    permitted: ["example.test", "10.0.0.0/8", "@example.test"], excluded: ["bad.example.test"] });
write_cert("root.pem", root.cert);
write_cert("inter.pem", icert);
write_key("inter.key", ik);
"#;

const ISSUE: &str = r#"
let inter = load_ca("inter.pem", "inter.key");
let made = inter.issue(#{ key: "ecdsa:256", subject: #{ CN: "leaf" }, san: param("san", []), profile: "server", days: 30 });
write_cert("leaf.pem", made.cert);
"#;

fn hierarchy() -> Dir {
    let dir = Dir::new();
    dir.run_script(HIERARCHY, &[]).success();
    dir
}

#[test]
fn a_cas_name_constraints_are_written_critical_and_read_by_openssl() {
    let dir = hierarchy();
    let text = dir.openssl(&[
        "x509",
        "-in",
        "inter.pem",
        "-noout",
        "-ext",
        "nameConstraints",
    ]);
    assert_eq!(
        text,
        "X509v3 Name Constraints: critical\n    Permitted:\n      DNS:example.test\n      \
         IP:10.0.0.0/255.0.0.0\n      email:example.test\n    Excluded:\n      DNS:bad.example.test\n"
    );
}

#[test]
fn names_inside_are_signed_and_verify_names_outside_are_refused_with_the_rule() {
    let dir = hierarchy();
    dir.run_script(
        ISSUE,
        &["-D", "san=www.example.test,10.1.2.3,ops@example.test"],
    )
    .success();
    dir.openssl(&[
        "verify",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "inter.pem",
        "leaf.pem",
    ]);
    dir.pkirun(&[
        "verify",
        "--ca",
        "root.pem",
        "--untrusted",
        "inter.pem",
        "leaf.pem",
    ])
    .success();
    std::fs::remove_file(dir.join("leaf.pem")).unwrap();
    for (san, rule) in [
        (
            "www.example.com",
            "DNS:www.example.com: outside the permitted subtrees (DNS:example.test)",
        ),
        (
            "x.bad.example.test",
            "DNS:x.bad.example.test: within excluded subtree DNS:bad.example.test",
        ),
        (
            "192.168.1.1",
            "IP:192.168.1.1: outside the permitted subtrees (IP:10.0.0.0/255.0.0.0)",
        ),
        (
            "ops@example.com",
            "email:ops@example.com: outside the permitted subtrees (email:example.test)",
        ),
    ] {
        let before = dir.snapshot();
        let err = dir
            .run_script(ISSUE, &["-D", &format!("san={san}")])
            .failure();
        assert!(
            err.contains(&format!(
                "refusing to sign with the CA `CN = NC Intermediate`: its nameConstraints refuse {rule}"
            )),
            "{san}: {err}"
        );
        assert_eq!(dir.snapshot(), before, "{san}: something was written");
    }
}

#[test]
fn verify_refuses_a_name_outside_as_openssl_does() {
    let dir = hierarchy();
    // A certificate the intermediate's key signed outside its constraints (openssl does not
    // check when it signs): both verifiers refuse it.
    dir.openssl_p256_csr("out.key", "/CN=out", "out.csr");
    dir.create("ext.cnf", "subjectAltName = DNS:www.example.com\n");
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        "out.csr",
        "-CA",
        "inter.pem",
        "-CAkey",
        "inter.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "ext.cnf",
        "-out",
        "out.pem",
    ]);
    let openssl = dir.openssl_output(&[
        "verify",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "inter.pem",
        "out.pem",
    ]);
    assert!(!openssl.status.success());
    let err = dir
        .pkirun(&[
            "verify",
            "--ca",
            "root.pem",
            "--untrusted",
            "inter.pem",
            "out.pem",
        ])
        .output;
    assert_eq!(err.status.code(), Some(1));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&err.stdout),
        String::from_utf8_lossy(&err.stderr)
    );
    assert!(text.contains("www.example.com"), "{text}");
}

#[test]
fn constraints_that_mean_nothing_are_refused_when_written() {
    let dir = Dir::new();
    for (name, reason) in [
        (
            "10.0.0.1",
            "an address constraint is a range: add /32 (or /128)",
        ),
        ("10.0.0.1/8", "bits are set past the prefix"),
        ("10.0.0.0/40", "the prefix is longer than the address"),
        ("exa mple.test", "`exa mple.test`"),
    ] {
        let err = dir
            .run_script(
                &format!(r#"new_ca(gen_key("p256"), #{{ subject: #{{ CN: "x" }}, permitted: ["{name}"] }});"#),
                &[],
            )
            .failure();
        assert!(err.contains(reason), "{name}: {err}");
    }
}
