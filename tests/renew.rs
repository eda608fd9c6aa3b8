//! Renewal (issue 14.4, single certificates): `ca.renew(cert, opts)` keeps subject, every SAN
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
