//! The issuance database and CRLs against the real tools: `openssl ca` and easy-rsa read what
//! pkirun writes and pkirun reads what they write; `openssl crl`, `openssl verify -crl_check`
//! and Python's `cryptography` accept pkirun's CRLs.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::SystemTime;

use pkirun::pki::{
    Ca, Certificate, Crl, CrlError, CrlParams, Database, DatabaseError, DistinguishedName, Key,
    KeyFormat, KeySpec, Profile, Reason, Serial, Status,
};

use crate::util::Dir;

/// The `openssl ca` configuration of a CA directory: database, serial and crlnumber beside
/// the CA's certificate and key, a CRL with an authorityKeyIdentifier.
const CA_CNF: &str = "\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
";

fn key(spec: &str) -> Key {
    Key::generate(KeySpec::parse(spec).unwrap()).unwrap()
}

fn name(fields: &[(&str, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (f, v) in fields {
        dn.push(f, v).unwrap();
    }
    dn
}

/// A CA directory as `openssl ca` wants it, with pkirun's CA certificate and key in it.
fn ca_dir(spec: &str) -> (Dir, Ca) {
    let dir = Dir::new();
    let ca = Ca::self_signed(
        key(spec),
        &name(&[("O", "pkirun test"), ("CN", "Test CA")]),
        &Profile::named("ca").unwrap(),
    )
    .unwrap();
    dir.create("ca.cnf", CA_CNF);
    dir.create("ca.crt", ca.cert().pem());
    dir.create("ca.key", ca.key().to_pem(KeyFormat::Pkcs8).unwrap());
    dir.create("newcerts/.keep", "");
    (dir, ca)
}

fn issue(ca: &Ca, subject: &DistinguishedName) -> Certificate {
    ca.issue(
        KeySpec::parse("ecdsa:256").unwrap(),
        subject,
        &[],
        &Profile::named("client").unwrap(),
    )
    .unwrap()
    .1
    .cert
}

fn load_db(dir: &Dir) -> Database {
    let mut db = Database::from_index(dir.read("index.txt").as_bytes(), "index.txt").unwrap();
    db.read_attr(dir.read("index.txt.attr").as_bytes(), "index.txt.attr")
        .unwrap();
    db
}

/// The revoked serials of a CRL file as `openssl crl -text` lists them.
fn openssl_revoked_serials(dir: &Dir, crl: &str) -> BTreeSet<String> {
    dir.openssl(&["crl", "-in", crl, "-noout", "-text"])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn openssl_ca_revokes_issues_and_makes_crls_on_a_database_pkirun_wrote() {
    let (dir, ca) = ca_dir("ecdsa:384");
    let mut db = Database::new();
    // A subject that needs openssl's escapes: `/` and `+` in a value, UTF-8 bytes.
    let tricky = issue(&ca, &name(&[("C", "DE"), ("O", "A/B+C"), ("CN", "Zoë é")]));
    let plain = issue(&ca, &name(&[("CN", "plain")]));
    let kept = issue(&ca, &name(&[("CN", "kept")]));
    for cert in [&tricky, &plain, &kept] {
        db.record(cert).unwrap();
    }
    dir.create("tricky.crt", tricky.pem());
    dir.create("plain.crt", plain.pem());
    dir.create("index.txt", db.index_text());
    dir.create("index.txt.attr", db.attr_text());
    dir.create("serial", Serial::parse_hex("1000").unwrap().file_text());
    dir.create("crlnumber", Serial::parse_hex("01").unwrap().file_text());

    // openssl finds the entry by serial and compares its own one-line subject with ours.
    dir.openssl(&[
        "ca",
        "-config",
        "ca.cnf",
        "-revoke",
        "tricky.crt",
        "-crl_reason",
        "keyCompromise",
    ]);
    // openssl issues on the same database, with the next serial from our `serial` file.
    dir.openssl_p256_csr("o.key", "/CN=by openssl", "o.csr");
    dir.openssl(&[
        "ca", "-config", "ca.cnf", "-batch", "-in", "o.csr", "-out", "o.crt",
    ]);

    // pkirun reads the database back and revokes another certificate.
    let mut db = load_db(&dir);
    assert_eq!(db.entries().len(), 4);
    let by_openssl = db.get(&Serial::parse_hex("1000").unwrap()).unwrap();
    assert_eq!(by_openssl.subject(), "/CN=by openssl");
    let tricky_serial = Serial::from_bytes(tricky.serial());
    let entry = db.get(&tricky_serial).unwrap();
    assert_eq!(entry.status(), Status::Revoked);
    assert_eq!(
        entry.subject(),
        "/C=DE/O=A\\/B\\+C/CN=Zo\\xC3\\xAB \\xC3\\xA9"
    );
    assert_eq!(
        entry.revocation().unwrap().reason(),
        Some(Reason::KeyCompromise)
    );
    let plain_serial = Serial::from_bytes(plain.serial());
    db.revoke(&plain_serial, Some(Reason::Superseded), SystemTime::now())
        .unwrap();
    dir.create("index.txt", db.index_text());

    // Both CRLs list the same revoked serials.
    dir.openssl(&["ca", "-config", "ca.cnf", "-gencrl", "-out", "openssl.crl"]);
    let number = Serial::parse_file(dir.read("crlnumber").as_bytes(), "crlnumber").unwrap();
    let ours = Crl::from_database(&ca, &db, &CrlParams::new(7, 0, number)).unwrap();
    dir.create("pkirun.crl", ours.pem());
    let theirs = openssl_revoked_serials(&dir, "openssl.crl");
    assert_eq!(theirs, openssl_revoked_serials(&dir, "pkirun.crl"));
    let expected: BTreeSet<String> = [tricky_serial.to_hex(), plain_serial.to_hex()].into();
    assert_eq!(theirs, expected);
    // openssl reads the CRL number pkirun wrote (it numbered its own 01, ours is 02).
    let text = dir.openssl(&["crl", "-in", "pkirun.crl", "-noout", "-crlnumber"]);
    assert_eq!(text.trim(), "crlNumber=0x02");

    // openssl can still revoke with the database pkirun rewrote.
    dir.openssl(&["ca", "-config", "ca.cnf", "-revoke", "o.crt"]);
    let err = dir.openssl_output(&["ca", "-config", "ca.cnf", "-revoke", "plain.crt"]);
    assert!(String::from_utf8_lossy(&err.stderr).contains("ERROR:Already revoked"));
}

#[test]
fn pkirun_reads_what_openssl_ca_writes_byte_for_byte() {
    let (dir, ca) = ca_dir("ecdsa:256");
    dir.create("index.txt", "");
    dir.create("serial", "01\n");
    dir.create("crlnumber", "1000\n");
    for (cn, extra) in [
        ("a", &[][..]),
        ("b", &["-enddate", "20600101000000Z"][..]),
        ("c", &[][..]),
        ("d", &[][..]),
    ] {
        dir.openssl_p256_csr(
            &format!("{cn}.key"),
            &format!("/O=x/CN={cn}"),
            &format!("{cn}.csr"),
        );
        let mut args = vec![
            "ca",
            "-config",
            "ca.cnf",
            "-batch",
            "-in",
            &*format!("{cn}.csr"),
        ]
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
        args.extend(["-out".into(), format!("{cn}.crt")]);
        args.extend(extra.iter().map(|s| (*s).to_string()));
        dir.openssl(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    dir.openssl(&[
        "ca",
        "-config",
        "ca.cnf",
        "-revoke",
        "b.crt",
        "-crl_reason",
        "CACompromise",
    ]);
    dir.openssl(&[
        "ca",
        "-config",
        "ca.cnf",
        "-revoke",
        "c.crt",
        "-crl_hold",
        "holdInstructionReject",
    ]);
    dir.openssl(&["ca", "-config", "ca.cnf", "-revoke", "d.crt"]);

    let index = dir.read("index.txt");
    let db = load_db(&dir);
    assert_eq!(db.index_text(), index, "rewriting changes openssl's index");
    assert_eq!(db.attr_text(), dir.read("index.txt.attr"));
    assert!(db.unique_subject());
    let b = db.get(&Serial::parse_hex("02").unwrap()).unwrap();
    assert!(b.expiry().is_generalized());
    assert_eq!(b.revocation().unwrap().reason(), Some(Reason::CaCompromise));
    let c = db.get(&Serial::parse_hex("03").unwrap()).unwrap();
    assert_eq!(
        c.revocation().unwrap().reason(),
        Some(Reason::CertificateHold)
    );
    let d = db.get(&Serial::parse_hex("04").unwrap()).unwrap();
    assert_eq!(d.revocation().unwrap().reason(), None);
    let next = Serial::parse_file(dir.read("serial").as_bytes(), "serial").unwrap();
    assert_eq!(next.to_hex(), "05");

    // pkirun's CRL from openssl's database: the same three serials, openssl's reasons.
    let crl = Crl::from_database(&ca, &db, &CrlParams::new(1, 0, next)).unwrap();
    let reasons: Vec<(String, Option<Reason>)> = crl
        .revoked()
        .unwrap()
        .into_iter()
        .map(|r| (r.serial.to_hex(), r.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            ("02".to_string(), Some(Reason::CaCompromise)),
            ("03".to_string(), Some(Reason::CertificateHold)),
            ("04".to_string(), None),
        ]
    );
    // A second valid certificate for `/O=x/CN=a` is refused: openssl's attr says yes.
    let mut db = db;
    let again = issue(&ca, &name(&[("O", "x"), ("CN", "a")]));
    assert_eq!(
        db.record(&again).unwrap_err(),
        DatabaseError::DuplicateSubject("/O=x/CN=a".into())
    );
}

#[test]
fn pkirun_reads_what_easyrsa_writes_and_easyrsa_makes_a_crl_after_pkirun_revoked() {
    let easyrsa = "/usr/share/easy-rsa/easyrsa";
    assert!(
        std::path::Path::new(easyrsa).exists(),
        "easy-rsa is not installed; install the Debian package `easy-rsa` (tests/run.sh does)"
    );
    let dir = Dir::new();
    let pki = dir.join("pki");
    let run = |args: &[&str], cn: Option<&str>| {
        let mut c = Command::new(easyrsa);
        c.args(args)
            .current_dir(dir.path())
            .env("EASYRSA_BATCH", "1")
            .env("EASYRSA_PKI", &pki);
        if let Some(cn) = cn {
            c.env("EASYRSA_REQ_CN", cn);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "easyrsa {args:?} failed\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init-pki"], None);
    run(&["build-ca", "nopass"], Some("Easy CA"));
    run(&["build-server-full", "srv", "nopass"], None);
    run(&["build-client-full", "alice", "nopass"], None);
    run(&["build-client-full", "bob", "nopass"], None);
    run(&["revoke", "alice", "keyCompromise"], None);

    let index = dir.read("pki/index.txt");
    let mut db = Database::from_index(index.as_bytes(), "pki/index.txt").unwrap();
    db.read_attr(
        dir.read("pki/index.txt.attr").as_bytes(),
        "pki/index.txt.attr",
    )
    .unwrap();
    assert_eq!(db.index_text(), index);
    assert!(!db.unique_subject(), "easy-rsa writes unique_subject = no");
    Serial::parse_file(dir.read("pki/serial").as_bytes(), "pki/serial").unwrap();
    assert_eq!(db.revoked().count(), 1);

    // pkirun revokes bob; easy-rsa's gen-crl (openssl ca -gencrl) lists both.
    let bob = Certificate::from_pem(dir.read("pki/issued/bob.crt").as_bytes()).unwrap();
    let bob_serial = Serial::from_bytes(bob.serial());
    db.revoke(
        &bob_serial,
        Some(Reason::CessationOfOperation),
        SystemTime::now(),
    )
    .unwrap();
    dir.create("pki/index.txt", db.index_text());
    run(&["gen-crl"], None);
    let theirs = openssl_revoked_serials(&dir, "pki/crl.pem");
    let ours: BTreeSet<String> = db.revoked().map(|e| e.serial().to_hex()).collect();
    assert_eq!(theirs, ours);
    assert!(theirs.contains(&bob_serial.to_hex()));
}

#[test]
fn openssl_accepts_the_crl_and_rejects_only_the_revoked_certificate() {
    let (dir, ca) = ca_dir("rsa:2048");
    let mut db = Database::new();
    let revoked = issue(&ca, &name(&[("CN", "revoked")]));
    let good = issue(&ca, &name(&[("CN", "good")]));
    db.record(&revoked).unwrap();
    db.record(&good).unwrap();
    db.revoke(
        &Serial::from_bytes(revoked.serial()),
        Some(Reason::KeyCompromise),
        SystemTime::now(),
    )
    .unwrap();
    let crl = Crl::from_database(
        &ca,
        &db,
        &CrlParams::new(30, 12, Serial::parse_hex("2A").unwrap()),
    )
    .unwrap();
    dir.create("crl.pem", crl.pem());
    dir.create("revoked.crt", revoked.pem());
    dir.create("good.crt", good.pem());

    let out = dir.openssl_output(&[
        "crl", "-in", "crl.pem", "-CAfile", "ca.crt", "-verify", "-noout",
    ]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("verify OK"));
    let text = dir.openssl(&["crl", "-in", "crl.pem", "-noout", "-text"]);
    assert!(text.contains("Version 2 (0x1)"), "{text}");
    assert!(
        text.contains("X509v3 CRL Number: \n                42"),
        "{text}"
    );
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    // nextUpdate is thisUpdate + 30 days 12 hours.
    let span = crl
        .next_update()
        .unwrap()
        .duration_since(crl.this_update())
        .unwrap();
    assert_eq!(span.as_secs(), 30 * 86_400 + 12 * 3_600);

    let check = |cert: &str| {
        dir.openssl_output(&[
            "verify",
            "-crl_check",
            "-CAfile",
            "ca.crt",
            "-CRLfile",
            "crl.pem",
            cert,
        ])
    };
    let bad = check("revoked.crt");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stdout).contains("certificate revoked")
            || String::from_utf8_lossy(&bad.stderr).contains("certificate revoked")
    );
    assert!(check("good.crt").status.success());
}

#[test]
fn a_parsed_crl_gives_its_fields_and_checks_its_signature() {
    let (_dir, ca) = ca_dir("ecdsa:256");
    let revoked = [
        pkirun::pki::Revoked {
            serial: Serial::parse_hex("0100").unwrap(),
            date: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000),
            reason: Some(Reason::AaCompromise),
        },
        pkirun::pki::Revoked {
            serial: Serial::parse_hex("FF").unwrap(),
            date: SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000),
            reason: Some(Reason::Unspecified),
        },
    ];
    let crl = Crl::build(
        &ca,
        &revoked,
        &CrlParams::new(1, 0, Serial::parse_hex("07").unwrap()),
    )
    .unwrap();
    let back = Crl::from_pem(crl.pem().as_bytes()).unwrap();
    assert_eq!(back, crl);
    assert_eq!(back.version(), 2);
    assert_eq!(back.number().unwrap().unwrap().to_hex(), "07");
    assert_eq!(
        back.issuer().unwrap().to_string(),
        "O = pkirun test, CN = Test CA"
    );
    assert_eq!(back.authority_key_id().unwrap(), ca.cert().subject_key_id());
    let list = back.revoked().unwrap();
    // Sorted by serial; `unspecified` is left out of the entry (RFC 5280 5.3.1).
    assert_eq!(list[0].serial.to_hex(), "FF");
    assert_eq!(list[0].reason, None);
    assert_eq!(list[1].reason, Some(Reason::AaCompromise));
    assert_eq!(list[1].date, revoked[0].date);
    assert!(
        back.find(&Serial::parse_hex("0100").unwrap())
            .unwrap()
            .is_some()
    );
    assert!(
        back.find(&Serial::parse_hex("01").unwrap())
            .unwrap()
            .is_none()
    );
    back.verify_signature(ca.cert()).unwrap();

    let other = Ca::self_signed(
        key("ecdsa:256"),
        &name(&[("CN", "Other")]),
        &Profile::named("ca").unwrap(),
    )
    .unwrap();
    assert_eq!(
        back.verify_signature(other.cert()).unwrap_err().to_string(),
        "CRL issuer `O = pkirun test, CN = Test CA` is not the CA `CN = Other`"
    );
    // Same name, other key: the signature fails.
    let impostor = Ca::self_signed(
        key("ecdsa:256"),
        &name(&[("O", "pkirun test"), ("CN", "Test CA")]),
        &Profile::named("ca").unwrap(),
    )
    .unwrap();
    assert!(matches!(
        back.verify_signature(impostor.cert()),
        Err(CrlError::BadSignature(_))
    ));
    assert!(matches!(
        Crl::from_der(b"\x30\x03\x02\x01\x01"),
        Err(CrlError::Invalid(_))
    ));
}

#[test]
fn python_cryptography_loads_the_crl_and_checks_its_signature() {
    let has = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        eprintln!(
            "skipped: python3 with `cryptography` is not installed (pip install cryptography)"
        );
        return;
    }
    let (dir, ca) = ca_dir("ecdsa:384");
    let mut db = Database::new();
    let cert = issue(&ca, &name(&[("CN", "gone")]));
    db.record(&cert).unwrap();
    let serial = Serial::from_bytes(cert.serial());
    db.revoke(&serial, Some(Reason::AffiliationChanged), SystemTime::now())
        .unwrap();
    let crl = Crl::from_database(
        &ca,
        &db,
        &CrlParams::new(7, 0, Serial::parse_hex("05").unwrap()),
    )
    .unwrap();
    dir.create("crl.pem", crl.pem());
    let script = format!(
        r#"
from cryptography import x509
ca = x509.load_pem_x509_certificate(open("ca.crt", "rb").read())
crl = x509.load_pem_x509_crl(open("crl.pem", "rb").read())
assert crl.is_signature_valid(ca.public_key()), "signature"
number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
r = crl.get_revoked_certificate_by_serial_number(0x{serial})
reason = r.extensions.get_extension_for_class(x509.CRLReason).value.reason
print(number, reason.name, len(list(crl)))
"#,
        serial = serial.to_hex()
    );
    assert_eq!(dir.python(&script).trim(), "5 affiliation_changed 1");
}

#[test]
fn a_damaged_index_is_one_error_naming_the_file_and_line_and_openssl_refuses_it_too() {
    let (dir, _ca) = ca_dir("ecdsa:256");
    let text = "V\t270102085653Z\t\t01\tunknown\t/CN=a\nV\t270102085653Z\t\t02\tunknown\n";
    dir.create("index.txt", text);
    dir.create("crlnumber", "01\n");
    let err = Database::from_index(text.as_bytes(), "ca/index.txt").unwrap_err();
    assert_eq!(
        err.to_string(),
        "`ca/index.txt` line 2: expected 6 tab-separated fields (status, expiry, revocation, serial, file, subject), found 5"
    );
    let out = dir.openssl_output(&["ca", "-config", "ca.cnf", "-gencrl", "-out", "x.crl"]);
    assert!(!out.status.success(), "openssl ca loaded a damaged index");
}

#[test]
fn scripts_record_revoke_and_publish_a_crl_that_openssl_and_pkirun_verify_enforce() {
    let dir = Dir::new();
    dir.run_script(
        r#"
mkdir("ca");
let key = gen_key("ecdsa:384");
let ca = new_ca(key, #{ subject: "/O=Site/CN=Site CA", days: 3650 });
write_pair("ca/ca.key", key, "ca/ca.crt", ca.cert);
for name in ["alice", "bob"] {
    let p = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: name }, san: [`${name}@example.test`], profile: "client" });
    write_pair(`${name}.key`, p.key, `${name}.crt`, p.cert);
    ca.record("ca", p.cert);
}
ca.revoke("ca", load_cert("bob.crt"), "keyCompromise");
let crl = ca.crl("ca", #{ days: 7 });
write_crl("ca/crl.pem", crl);
if crl.revoked.len() != 1 || crl.number != "01" { throw `crl: ${crl.revoked} ${crl.number}`; }
"#,
        &[],
    )
    .success();
    let index = dir.read("ca/index.txt");
    assert_eq!(index.lines().count(), 2, "{index}");
    assert!(
        index
            .lines()
            .any(|l| l.starts_with("V\t") && l.ends_with("/CN=alice")),
        "{index}"
    );
    assert!(
        index.lines().any(|l| l.starts_with("R\t")
            && l.contains(",keyCompromise\t")
            && l.ends_with("/CN=bob")),
        "{index}"
    );
    assert_eq!(dir.read("ca/crlnumber"), "02\n");
    dir.openssl(&["crl", "-in", "ca/crl.pem", "-noout", "-CAfile", "ca/ca.crt"]);
    for (cert, ok) in [("alice.crt", true), ("bob.crt", false)] {
        let openssl = dir
            .openssl_output(&[
                "verify",
                "-CAfile",
                "ca/ca.crt",
                "-crl_check",
                "-CRLfile",
                "ca/crl.pem",
                cert,
            ])
            .status
            .success();
        assert_eq!(openssl, ok, "openssl verify {cert}");
        let ours = dir
            .pkirun(&["verify", "--ca", "ca/ca.crt", "--crl", "ca/crl.pem", cert])
            .output
            .status
            .success();
        assert_eq!(ours, ok, "pkirun verify {cert}");
    }
    // A serial the CA never issued: refused, nothing changes.
    let before = dir.snapshot();
    let err = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key"); ca.revoke("ca", "0BADC0DE", "superseded");"#,
            &[],
        )
        .failure();
    assert!(
        err.contains("`ca/index.txt`") && err.contains("0BADC0DE"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
    // A damaged index.txt: one line naming the file and line.
    dir.create("ca/index.txt", "V\t300101000000Z\n");
    let err = dir
        .run_script(
            r#"let ca = load_ca("ca/ca.crt", "ca/ca.key"); ca.crl("ca", #{ days: 1 });"#,
            &[],
        )
        .failure();
    assert!(err.contains("`ca/index.txt` line 1:"), "{err}");
}
