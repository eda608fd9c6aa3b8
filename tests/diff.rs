//! `pkirun diff`: two certificates, CSRs or keys compared field by field, as an operator does
//! when moving a procedure from openssl to pkirun.

use crate::util::Dir;

/// A CA certificate made by `openssl req -x509` with `string_mask`, and the key it used.
fn openssl_ca(dir: &Dir, name: &str, string_mask: &str) {
    dir.create(
        &format!("{name}.cnf"),
        format!(
            "[ req ]\ndistinguished_name = dn\nstring_mask = {string_mask}\nprompt = no\n\
             x509_extensions = ext\n[ dn ]\nO = Diff\nCN = Diff CA\n\
             [ ext ]\nbasicConstraints = critical,CA:true\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n"
        ),
    );
    dir.openssl_p256_self_signed_with(
        &format!("{name}.key"),
        &format!("{name}.pem"),
        &["-days", "30", "-config", &format!("{name}.cnf")],
    );
}

#[test]
fn diff_names_each_differing_field_and_ignores_serial_dates_and_key_on_request() {
    let dir = Dir::new();
    openssl_ca(&dir, "openssl", "utf8only");
    dir.run_script(
        r#"
let ca = new_ca(gen_key("ecdsa:256"), #{ subject: "/O=Diff/CN=Diff CA", days: 30,
    key_usage: ["critical", "keyCertSign", "cRLSign"], basic_constraints: "critical,CA:true",
    authority_key_id: "none" });
write_cert("pkirun.pem", ca.cert);
"#,
        &[],
    )
    .success();
    // Everything a procedure decides is the same; serial, key and key identifiers are not.
    let run = dir.pkirun(&["diff", "pkirun.pem", "openssl.pem"]);
    let out = run.stdout();
    assert!(!run.output.status.success(), "{out}");
    for field in ["serial\n", "public key bits\n", "subjectKeyIdentifier\n"] {
        assert!(out.contains(field), "{field:?} missing:\n{out}");
    }
    assert!(
        !out.contains("\nsubject\n") && !out.starts_with("subject\n"),
        "{out}"
    );
    let out = dir
        .pkirun(&[
            "diff",
            "pkirun.pem",
            "openssl.pem",
            "--ignore",
            "serial,dates,key",
        ])
        .success()
        .stdout();
    // Serial, key bits and key identifier always differ; the dates when a second ticked between.
    let last = out
        .trim_end()
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    assert!(
        last.contains(" are the same but for ") && last.ends_with(" ignored field(s)"),
        "{out}"
    );
}

#[test]
fn diff_sees_string_types_in_names_and_a_missing_extension() {
    let dir = Dir::new();
    openssl_ca(&dir, "utf8", "utf8only");
    openssl_ca(&dir, "printable", "nombstr");
    let run = dir.pkirun(&[
        "diff",
        "utf8.pem",
        "printable.pem",
        "--ignore",
        "serial,dates,key",
    ]);
    let out = run.stdout();
    assert_eq!(run.output.status.code(), Some(1), "{out}");
    assert!(
        out.contains(
            "subject\n  utf8.pem       O=Diff (UTF8String), CN=Diff CA (UTF8String)\n  \
             printable.pem  O=Diff (PrintableString), CN=Diff CA (PrintableString)\n"
        ),
        "{out}"
    );
    assert!(out.contains("issuer\n"), "{out}");

    dir.run_script(
        r#"
let ca = load_ca("utf8.pem", "utf8.key");
let k = gen_key("ecdsa:256");
write_key("leaf.key", k);
let server = ca.sign(new_csr(k, #{ subject: "/CN=leaf", san: ["leaf.example"] }), #{ profile: "server", days: 7 });
let bare = ca.sign(new_csr(k, #{ subject: "/CN=leaf", san: ["leaf.example"] }), #{ profile: "server", days: 7, ext_key_usage: [] });
write_cert("with.pem", server);
write_cert("without.pem", bare);
"#,
        &[],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(
        &dir.pkirun(&[
            "diff",
            "with.pem",
            "without.pem",
            "--json",
            "--ignore",
            "serial,dates",
        ])
        .stdout(),
    )
    .unwrap();
    let counted: Vec<&serde_json::Value> = json
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["ignored"] == false)
        .collect();
    assert_eq!(counted.len(), 1, "{json:#}");
    assert_eq!(counted[0]["field"], "extendedKeyUsage");
    assert_eq!(counted[0]["b"], "absent");
}

#[test]
fn diff_compares_keys_by_type_and_says_when_kinds_differ() {
    let dir = Dir::new();
    openssl_ca(&dir, "a", "utf8only");
    openssl_ca(&dir, "b", "utf8only");
    let out = dir
        .pkirun(&["diff", "a.key", "b.key", "--ignore", "key"])
        .success()
        .stdout();
    assert!(out.contains("public key bits (ignored)"), "{out}");
    let run = dir.pkirun(&["diff", "a.key", "a.pem"]);
    assert_eq!(run.output.status.code(), Some(1));
    assert!(
        run.stdout()
            .starts_with("kind\n  a.key  private key\n  a.pem  certificate\n"),
        "{}",
        run.stdout()
    );
    let err = dir
        .pkirun(&["diff", "a.pem", "b.pem", "--ignore", "serials"])
        .failure();
    assert!(
        err.contains("unknown aspect `serials` (serial, dates, key)"),
        "{err}"
    );
}
