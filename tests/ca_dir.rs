//! Continuing an existing CA (issue 11.3): `load_ca` of an `openssl ca` configuration or an
//! easy-rsa 3 `pki/`, then the real tool and pkirun taking turns on the same directory: each
//! issues, each revokes, and each one's CRL lists what both revoked.

use std::collections::BTreeSet;
use std::process::Command;

use crate::util::Dir;

const CA_CNF: &str = "\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/private/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 7
policy = policy_any
x509_extensions = usr_cert
copy_extensions = copy
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid:always
[ usr_cert ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
[ policy_any ]
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[ dn ]
O = Example
CN = Example CA
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
";

/// The serials a CRL lists, as openssl prints them.
fn crl_serials(dir: &Dir, crl: &str) -> BTreeSet<String> {
    dir.openssl(&["crl", "-in", crl, "-noout", "-text"])
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
        .map(str::to_string)
        .collect()
}

fn p256_request(dir: &Dir, name: &str) {
    dir.openssl_p256_csr(
        &format!("{name}.key"),
        &format!("/O=Example/CN={name}"),
        &format!("{name}.csr"),
    );
}

#[test]
fn openssl_ca_and_pkirun_take_turns_on_one_directory() {
    let dir = Dir::new();
    dir.create("ca.cnf", CA_CNF);
    dir.create("index.txt", "");
    dir.create("serial", "01\n");
    dir.create("crlnumber", "01\n");
    std::fs::create_dir_all(dir.join("newcerts")).unwrap();
    std::fs::create_dir_all(dir.join("private")).unwrap();
    dir.openssl_p256_self_signed_with(
        "private/ca.key",
        "ca.crt",
        &["-config", "ca.cnf", "-days", "365"],
    );
    for name in ["alice", "bob", "carol"] {
        p256_request(&dir, name);
    }
    let openssl_ca = |csr: &str, out: &str| {
        dir.openssl(&["ca", "-config", "ca.cnf", "-batch", "-in", csr, "-out", out]);
    };
    openssl_ca("alice.csr", "alice.crt");
    // A copy of the directory as it is now, in which openssl ca signs the request pkirun signs.
    let twin = Dir::new();
    for f in [
        "ca.cnf",
        "index.txt",
        "serial",
        "crlnumber",
        "ca.crt",
        "private/ca.key",
        "bob.csr",
    ] {
        twin.create(f, std::fs::read(dir.join(f)).unwrap());
    }
    std::fs::create_dir_all(twin.join("newcerts")).unwrap();

    // pkirun continues: the next serial, a line in index.txt, the copy in new_certs_dir.
    dir.run_script(
        r#"let cnf = openssl_cnf("ca.cnf");
let ca = load_ca("ca.cnf");
let crt = ca.sign(load_csr("bob.csr"), cnf.signing(#{}));
write_cert("bob.crt", crt);"#,
        &[],
    )
    .success();
    assert_eq!(dir.read("serial"), "03\n");
    assert!(
        dir.read("index.txt")
            .contains("\t02\tbob.crt\t/O=Example/CN=bob\n")
    );
    assert_eq!(dir.read("newcerts/02.pem"), dir.read("bob.crt"));
    twin.openssl(&[
        "ca", "-config", "ca.cnf", "-batch", "-in", "bob.csr", "-out", "bob.crt",
    ]);
    // unique_subject (openssl's default, yes): a second valid bob is refused, nothing written.
    let before = dir.state();
    let err = dir
        .run_script(
            r#"let ca = load_ca("ca.cnf");
write_cert("bob2.crt", ca.sign(load_csr("bob.csr"), openssl_cnf("ca.cnf").signing(#{})));"#,
            &[],
        )
        .failure();
    assert!(
        err.contains("is already in the database and `unique_subject = yes`"),
        "{err}"
    );
    assert_eq!(dir.state(), before);
    let theirs = twin.join("bob.crt");
    let out = dir
        .pkirun(&[
            "diff",
            &theirs.to_string_lossy(),
            "bob.crt",
            "--ignore",
            "serial,dates",
        ])
        .success()
        .stdout();
    assert!(out.contains("are the same"), "{out}");

    // openssl ca goes on after pkirun: the serial pkirun left, then revokes pkirun's certificate.
    openssl_ca("carol.csr", "carol.crt");
    assert_eq!(dir.serial_of("carol.crt"), "03");
    dir.openssl(&["ca", "-config", "ca.cnf", "-revoke", "bob.crt"]);

    // pkirun revokes openssl's carol and makes a CRL; openssl ca -gencrl agrees with it.
    dir.run_script(
        r#"let ca = load_ca("ca.cnf");
ca.revoke(load_cert("carol.crt"), "keyCompromise");
write_crl("pkirun.crl", ca.crl(#{ days: 7 }));"#,
        &[],
    )
    .success();
    dir.openssl(&["ca", "-config", "ca.cnf", "-gencrl", "-out", "openssl.crl"]);
    let want: BTreeSet<String> = ["02", "03"].iter().map(|s| (*s).to_string()).collect();
    assert_eq!(crl_serials(&dir, "pkirun.crl"), want);
    assert_eq!(crl_serials(&dir, "openssl.crl"), want);
    assert_eq!(
        dir.read("crlnumber"),
        "03\n",
        "pkirun's CRL took 01, openssl's 02"
    );
    let verify = |cert: &str| {
        dir.openssl_output(&[
            "verify",
            "-crl_check",
            "-CAfile",
            "ca.crt",
            "-CRLfile",
            "pkirun.crl",
            cert,
        ])
    };
    assert!(verify("alice.crt").status.success());
    for revoked in ["bob.crt", "carol.crt"] {
        let out = verify(revoked);
        assert!(!out.status.success(), "{revoked} must be refused");
        assert!(String::from_utf8_lossy(&out.stderr).contains("certificate revoked"));
    }

    // A batch under the same CA numbers on from the serial file too, and leaves it after the
    // highest serial it took, whichever thread recorded last.
    let batch = r#"let ca = load_ca("ca.cnf");
ca.issue_batch([#{ name: "dave", cn: "dave" }, #{ name: "erin", cn: "erin" }],
               #{ key: "ecdsa:256", profile: "client", days: 7, out: "batch/{name}" });"#;
    dir.run_script(batch, &[]).success();
    // (in the order the threads take them)
    let serials: BTreeSet<String> = ["batch/dave.pem", "batch/erin.pem"]
        .iter()
        .map(|c| dir.serial_of(c))
        .collect();
    assert_eq!(
        serials,
        ["04", "05"].iter().map(|s| (*s).to_string()).collect()
    );
    assert_eq!(dir.read("serial"), "06\n");

    // A run stopped before it wrote `serial` (which it writes last) leaves the file behind
    // index.txt: the re-run numbers on from the database, never giving a serial twice.
    dir.create("serial", "04\n");
    let erin = dir.serial_of("batch/erin.pem");
    std::fs::remove_file(dir.join("batch/erin.pem")).unwrap();
    std::fs::remove_file(dir.join("batch/erin-key.pem")).unwrap();
    let rerun = dir.run_script(batch, &[]).success();
    assert!(
        rerun.stderr().contains(
            "`./serial` says 04 but `./index.txt` records serials up to 05: numbering from 06"
        ),
        "{}",
        rerun.stderr()
    );
    assert_eq!(dir.serial_of("batch/erin.pem"), "06");
    assert_eq!(dir.read("serial"), "07\n");
    let index = dir.read("index.txt");
    assert!(
        index.contains(&format!("\t{erin}\tbatch/erin.pem\t/CN=erin\n")),
        "{index}"
    );
    assert!(
        index.contains("\t06\tbatch/erin.pem\t/CN=erin\n"),
        "{index}"
    );
}

#[test]
fn easyrsa_and_pkirun_take_turns_on_one_pki() {
    let easyrsa = "/usr/share/easy-rsa/easyrsa";
    assert!(
        std::path::Path::new(easyrsa).exists(),
        "easy-rsa is not installed; install the Debian package `easy-rsa` (tests/run.sh does)"
    );
    let dir = Dir::new();
    let run = |args: &[&str]| {
        let mut command = Command::new(easyrsa);
        command
            .args(args)
            .current_dir(dir.path())
            .env("EASYRSA_BATCH", "1")
            .env("EASYRSA_PKI", dir.join("pki"));
        if args[0] == "build-ca" {
            command.env("EASYRSA_REQ_CN", "Easy CA");
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "easyrsa {args:?} failed\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init-pki"]);
    run(&["build-ca", "nopass"]);
    run(&["build-client-full", "alice", "nopass"]);

    // pkirun issues bob into easy-rsa's layout: issued/, private/, reqs/, certs_by_serial/.
    dir.run_script(
        r#"import "openssl" as o;
let ca = load_ca("pki");
let key = gen_key("rsa", 2048);
let csr = new_csr(key, #{ subject: "/CN=bob" });
let crt = ca.sign(csr, o::easyrsa_sign(825, o::easyrsa_client()));
write_csr("pki/reqs/bob.req", csr);
write_pair("pki/private/bob.key", key, "pki/issued/bob.crt", crt, #{ mode: 0o600 });"#,
        &[],
    )
    .success();
    let bob_serial = dir.serial_of("pki/issued/bob.crt");
    assert!(
        dir.read("pki/index.txt")
            .contains(&format!("\t{bob_serial}\tpki/issued/bob.crt\t/CN=bob\n")),
        "{}",
        dir.read("pki/index.txt")
    );
    assert_eq!(
        dir.read(&format!("pki/certs_by_serial/{bob_serial}.pem")),
        dir.read("pki/issued/bob.crt")
    );

    // easyrsa goes on: issues carol and revokes pkirun's bob (moving its files as it does).
    run(&["build-client-full", "carol", "nopass"]);
    run(&["revoke", "bob", "keyCompromise"]);
    assert!(
        dir.join(&format!("pki/revoked/certs_by_serial/{bob_serial}.crt"))
            .exists()
    );

    // pkirun revokes easyrsa's carol and writes the CRL; easyrsa's gen-crl lists the same two.
    let carol_serial = dir.serial_of("pki/issued/carol.crt");
    dir.run_script(
        r#"let ca = load_ca("pki");
ca.revoke(load_cert("pki/issued/carol.crt"), "superseded");
write_crl("pki/crl.pem", ca.crl(#{ days: 180 }));"#,
        &[],
    )
    .success();
    let want: BTreeSet<String> = [bob_serial, carol_serial].into_iter().collect();
    assert_eq!(crl_serials(&dir, "pki/crl.pem"), want);
    run(&["gen-crl"]);
    assert_eq!(crl_serials(&dir, "pki/crl.pem"), want);
}

/// What is not a CA directory is refused with what would make one; nothing is written.
#[test]
fn load_ca_names_what_a_directory_or_configuration_lacks() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    dir.create(
        "ca.cnf",
        CA_CNF.replace("new_certs_dir = $dir/newcerts\n", ""),
    );
    let before = dir.snapshot();
    let err = dir.run_script(r#"load_ca("empty");"#, &[]).failure();
    assert!(
        err.contains("`empty` is a directory without index.txt: not an easy-rsa pki/"),
        "{err}"
    );
    let err = dir.run_script(r#"load_ca("ca.cnf");"#, &[]).failure();
    assert!(
        err.contains(
            "`ca.cnf`: [ CA_default ] names no `new_certs_dir`, which openssl ca needs to sign"
        ),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
}
