//! Renewal (issue 14.4): `ca.renew(cert, opts)` keeps subject, every SAN
//! and every extension (a custom one too), with a new serial and validity; the key is kept
//! unless `rekey`; a renewal that would outlive the CA is refused.

use crate::util::Dir;

const SETUP: &str = r#"
let key = gen_key("ecdsa:384");
let ca = new_ca(key, #{ subject: #{ CN: "Renew CA" }, days: 60 });
write_pair("ca.key", key, "ca.pem", ca.cert);
let csr = load_csr("leaf.csr");
write_cert("old.pem", ca.sign(csr, #{ profile: "server", days: 20, copy_extensions: "copy" }));
"#;

const RENEW: &str = r#"
let ca = load_ca("ca.pem", "ca.key");
let made = ca.renew(load_cert("old.pem"), #{ days: param("days", 20), rekey: param("rekey", false) });
write_cert("new.pem", made.cert);
if "key" in made { write_key("new.key", made.key); }
"#;

fn setup() -> Dir {
    let dir = Dir::new();
    dir.openssl_p256_csr_with(
        "leaf.key",
        "/C=DE/O=Acme/CN=www.example.test",
        "leaf.csr",
        &[
            "-addext",
            "subjectAltName=DNS:www.example.test,DNS:api.example.test,IP:10.0.0.7",
            "-addext",
            "1.3.6.1.4.1.55555.1=ASN1:UTF8String:custom value",
        ],
    );
    dir.run_script(SETUP, &[]).success();
    dir
}

#[test]
fn a_renewal_keeps_every_field_but_serial_and_dates_and_keeps_the_key() {
    let dir = setup();
    let old = dir.openssl(&["x509", "-in", "old.pem", "-noout", "-text"]);
    assert!(
        old.contains("1.3.6.1.4.1.55555.1"),
        "the custom extension was not copied: {old}"
    );
    dir.run_script(RENEW, &[]).success();
    // Field by field, nothing differs but serial and dates.
    dir.pkirun(&["diff", "old.pem", "new.pem", "--ignore", "serial,dates"])
        .success();
    let all = dir.pkirun(&["diff", "old.pem", "new.pem"]).output;
    assert_eq!(all.status.code(), Some(1), "the serial must differ");
    dir.openssl(&["verify", "-CAfile", "ca.pem", "new.pem"]);
    assert_eq!(
        dir.openssl(&["x509", "-in", "new.pem", "-noout", "-pubkey"]),
        dir.openssl(&["pkey", "-in", "leaf.key", "-pubout"]),
        "the key must be kept"
    );
}

#[test]
fn a_renewal_with_rekey_changes_only_the_key_and_its_identifier() {
    let dir = setup();
    dir.run_script(RENEW, &["-D", "rekey=true"]).success();
    dir.pkirun(&["diff", "old.pem", "new.pem", "--ignore", "serial,dates,key"])
        .success();
    assert_eq!(
        dir.openssl(&["x509", "-in", "new.pem", "-noout", "-pubkey"]),
        dir.openssl(&["pkey", "-in", "new.key", "-pubout"])
    );
    assert_ne!(dir.read("new.key"), dir.read("leaf.key"));
    dir.openssl(&["verify", "-CAfile", "ca.pem", "new.pem"]);
}

#[test]
fn a_renewal_that_would_outlive_the_ca_is_refused_and_nothing_written() {
    let dir = setup();
    let before = dir.snapshot();
    let err = dir.run_script(RENEW, &["-D", "days=90"]).failure();
    assert!(
        err.contains("refusing to sign with the CA `CN = Renew CA`: it expires at")
            && err.contains("clamp_to_ca"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
}

/// A batch of 30 days' certificates with a manifest, in `out/`, and two 90 days' ones.
const BULK_SETUP: &str = r#"
mkdir("ca");
let key = gen_key("ecdsa:384");
let ca = new_ca(key, #{ subject: #{ CN: "Bulk CA" }, days: 3650 });
write_pair("ca/ca.key", key, "ca/ca.crt", ca.cert);
let specs = [];
for i in 0..6 { specs.push(#{ name: "n" + i, subject: ["CN=n" + i], san: ["n" + i + ".example.test"] }); }
ca.issue_batch(specs, #{ cert: "out/{name}.crt", key_out: "out/{name}.key", days: 30, key: "ecdsa:256", manifest: "out/manifest.jsonl" });
let far = [];
for i in 0..2 { far.push(#{ name: "far" + i, subject: ["CN=far" + i], san: ["far" + i + ".example.test"] }); }
ca.issue_batch(far, #{ cert: "out/{name}.crt", key_out: "out/{name}.key", days: 90, key: "ecdsa:256" });
write_certs("out/n0.fullchain.pem", [load_cert("out/n0.crt"), ca.cert], #{});
"#;

/// Renewal in bulk over a directory: what is due is renewed in place with a line each; a
/// certificate in two files (n0.crt and its full chain) is renewed once and written to both;
/// what is not due, other files and the CA itself are left alone.
#[test]
fn renew_due_over_a_directory_renews_what_is_due_once_with_a_line_each() {
    let dir = Dir::new();
    dir.run_script(BULK_SETUP, &["-q"]).success();
    let before = dir.snapshot();
    let run = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key");
ca.use_database("ca");
let done = ca.renew_due("out", #{ renew_within: "60d", days: 90 });
if done.len() != 6 { throw `renewed ${done.len()}`; }"#,
            &[],
        )
        .success();
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("renewed ")).collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(
        out.contains("renewed `out/n0.crt`, `out/n0.fullchain.pem`: notAfter "),
        "{out}"
    );
    assert!(out.contains(", key kept"), "{out}");
    let after = dir.snapshot();
    for i in 0..6 {
        let cert = format!("out/n{i}.crt");
        assert_ne!(before[&cert].1, after[&cert].1, "{cert} renewed");
        let key = format!("out/n{i}.key");
        assert_eq!(before[&key], after[&key], "{key} kept");
        dir.openssl(&["verify", "-CAfile", "ca/ca.crt", &cert]);
        let end = dir.openssl(&["x509", "-in", &cert, "-noout", "-checkend", "2500000"]);
        assert!(end.contains("will not expire"), "{cert}: {end}");
    }
    for same in [
        "out/far0.crt",
        "out/far1.crt",
        "ca/ca.crt",
        "out/manifest.jsonl",
    ] {
        assert_eq!(before[same], after[same], "{same} left alone");
    }
    // The full chain holds the renewed certificate, then the CA, as before.
    let full = dir.read("out/n0.fullchain.pem");
    assert_eq!(
        full,
        format!("{}{}", dir.read("out/n0.crt"), dir.read("ca/ca.crt"))
    );
    // The renewals are recorded in the CA's database, with the file each was written to.
    let index = dir.read("ca/index.txt");
    assert_eq!(index.lines().count(), 6);
    assert!(
        index.lines().any(|l| l.contains("\tout/n3.crt\t/CN=n3")),
        "{index}"
    );
    // Nothing is due any more: a second run renews nothing.
    let again = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key");
if ca.renew_due("out", #{ renew_within: "60d" }).len() != 0 { throw "renewed twice"; }"#,
            &[],
        )
        .success();
    assert!(!again.stdout().contains("renewed"), "{}", again.stdout());
}

/// Over a batch manifest, with rekey: each certificate gets a new key, written over the key
/// the manifest names (mode 0400), both or neither.
#[test]
fn renew_due_over_a_manifest_with_rekey_replaces_keys_and_certificates_together() {
    let dir = Dir::new();
    dir.run_script(BULK_SETUP, &["-q"]).success();
    let before = dir.snapshot();
    let run = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key");
let done = ca.renew_due("out/manifest.jsonl", #{ renew_within: "60d", rekey: true, days: 90 });
if done.len() != 6 || !done[0].rekeyed { throw `${done}`; }"#,
            &[],
        )
        .success();
    assert_eq!(
        run.stdout().matches("new key in `out/n").count(),
        6,
        "{}",
        run.stdout()
    );
    let after = dir.snapshot();
    for i in 0..6 {
        let (cert, key) = (format!("out/n{i}.crt"), format!("out/n{i}.key"));
        assert_ne!(before[&key].1, after[&key].1, "{key} replaced");
        assert_eq!(after[&key].0, 0o400);
        assert_eq!(
            crate::util::pubkey_of_cert(&dir, &cert),
            crate::util::pubkey_of_key(&dir, &key)
        );
    }
    // A certificate named explicitly that this CA did not sign is an error, not passed over.
    dir.openssl_p256_self_signed("other.key", "other.crt", "/CN=other");
    let err = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key");
ca.renew_due(["other.crt"], #{ renew_within: "60d" });"#,
            &[],
        )
        .failure();
    assert!(err.contains("`other.crt`: not signed by this CA"), "{err}");
}

/// Over a CA database: the files its valid entries name (pkirun records where it writes each
/// certificate); a database openssl ca wrote (file column `unknown`) is refused with the way out.
#[test]
fn renew_due_over_an_index_renews_the_files_it_names() {
    let dir = Dir::new();
    dir.run_script(
        r#"mkdir("ca"); mkdir("certs");
let key = gen_key("ecdsa:384");
let ca = new_ca(key, #{ subject: #{ CN: "Index CA" }, days: 3650 });
write_pair("ca/ca.key", key, "ca/ca.crt", ca.cert);
ca.use_database("ca");
for name in ["a", "b"] {
    let p = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: name }, san: [name + ".example.test"], profile: "server", days: 10 });
    write_pair("certs/" + name + ".key", p.key, "certs/" + name + ".crt", p.cert);
}"#,
        &[],
    )
    .success();
    let run = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key");
ca.use_database("ca");
let done = ca.renew_due("ca/index.txt", #{ renew_within: "30d", days: 90 });
if done.len() != 2 { throw `${done}`; }"#,
            &[],
        )
        .success();
    assert!(
        run.stdout().contains("renewed `certs/a.crt`"),
        "{}",
        run.stdout()
    );
    assert_eq!(dir.read("ca/index.txt").lines().count(), 4);
    // What openssl ca writes names no files.
    dir.create("ca/index.txt", "V\t300101000000Z\t\t01\tunknown\t/CN=a\n");
    let err = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key");
ca.renew_due("ca/index.txt", #{ renew_within: "30d" });"#,
            &[],
        )
        .failure();
    assert!(err.contains("names no certificate files"), "{err}");
}
