//! PKCS#12 with its real consumers: what pkirun writes must open in `openssl pkcs12`, Java's
//! `keytool` and Python's `cryptography`; what `openssl pkcs12 -export` writes (OpenSSL 3
//! defaults and `-legacy`) must read back into the same key and certificates.

use std::process::Command;

use pkirun::pki::pkcs12::MIN_ITERATIONS;
use pkirun::pki::{
    Ca, Certificate, DistinguishedName, Key, KeyFormat, KeySpec, Passphrase, Pkcs12, Pkcs12Error,
    Pkcs12Options, Profile, San, Validity,
};

use crate::util::Dir;

const PASS: &str = "correct horse";

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_string())
}

fn key(kind: &str, size: i64) -> Key {
    Key::generate(KeySpec::new(kind, size).unwrap()).unwrap()
}

/// A root CA, an intermediate it signed, and a client leaf (key of `leaf_spec`) the
/// intermediate signed: (leaf key, leaf, [intermediate, root]).
fn hierarchy(kind: &str, size: i64) -> (Key, Certificate, Vec<Certificate>) {
    let ca_profile = Profile::named("ca").unwrap();
    let root = Ca::self_signed(
        key("ecdsa", 384),
        &DistinguishedName::parse("/O=pkirun test/CN=Root CA").unwrap(),
        &ca_profile,
    )
    .unwrap();
    let inter_key = key("ecdsa", 256);
    let inter_cert = root
        .issue_for(
            inter_key.public_key_der(),
            &DistinguishedName::parse("/O=pkirun test/CN=Intermediate CA").unwrap(),
            &[],
            &ca_profile,
        )
        .unwrap()
        .cert;
    let inter = Ca::load(inter_cert.clone(), inter_key).unwrap();
    let leaf_key = key(kind, size);
    let leaf = inter
        .issue_for(
            leaf_key.public_key_der(),
            &DistinguishedName::parse("/O=pkirun test/CN=alice").unwrap(),
            &[San::parse("email:alice@example.test").unwrap()],
            // Shorter than the intermediate: a leaf may not outlive its CA.
            &Profile {
                validity: Validity::days(30).unwrap(),
                ..Profile::named("client").unwrap()
            },
        )
        .unwrap()
        .cert;
    (leaf_key, leaf, vec![inter_cert, root.cert().clone()])
}

/// Writes `alice.p12` (named `alice`, PASS) with the default options and returns what went in.
fn write_p12(dir: &Dir, kind: &str, size: i64) -> Pkcs12 {
    let (key, leaf, chain) = hierarchy(kind, size);
    let p12 = Pkcs12::new(key, leaf, chain).unwrap();
    let der = p12.to_der(&pass(PASS), &Pkcs12Options::default()).unwrap();
    dir.create("alice.p12", der);
    p12
}

/// The key's public half in PEM, as `openssl pkey -pubout` prints it.
fn public_pem(dir: &Dir, key: &Key, name: &str) -> String {
    dir.create(name, key.to_pem(KeyFormat::Pkcs8).unwrap());
    dir.openssl(&["pkey", "-in", name, "-pubout"])
}

/// The PEM blocks of `text`, bag attributes and other lines dropped.
fn pem_certs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if line == "-----BEGIN CERTIFICATE-----" {
            cur = Some(String::new());
        }
        if let Some(c) = cur.as_mut() {
            c.push_str(line);
            c.push('\n');
        }
        if line == "-----END CERTIFICATE-----" {
            out.extend(cur.take());
        }
    }
    out
}

fn openssl_reads_what_pkirun_writes(kind: &str, size: i64) {
    let dir = Dir::new();
    let p12 = write_p12(&dir, kind, size);
    let passin = format!("pass:{PASS}");

    // The structure openssl reports: OpenSSL 3's algorithms, our iteration count, a salted MAC.
    let info = dir.openssl_output(&[
        "pkcs12",
        "-info",
        "-in",
        "alice.p12",
        "-passin",
        &passin,
        "-noout",
    ]);
    assert!(info.status.success(), "{info:?}");
    let info = String::from_utf8_lossy(&info.stderr);
    assert_eq!(
        info.lines().collect::<Vec<_>>(),
        [
            "MAC: sha256, Iteration 10000",
            "MAC length: 32, salt length: 8",
            "PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256",
            "Certificate bag",
            "Certificate bag",
            "Certificate bag",
            "PKCS7 Data",
            "Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 10000, PRF hmacWithSHA256",
        ],
        "{info}"
    );

    // -nokeys: the leaf then the chain, byte for byte; the leaf carries the key's localKeyID.
    let certs = dir.openssl(&["pkcs12", "-in", "alice.p12", "-passin", &passin, "-nokeys"]);
    let expected: Vec<String> = std::iter::once(&p12.cert)
        .chain(&p12.chain)
        .map(Certificate::pem)
        .collect();
    assert_eq!(pem_certs(&certs), expected);

    // -nocerts: the same key, its friendlyName and the same localKeyID as the leaf's.
    let keys = dir.openssl(&[
        "pkcs12",
        "-in",
        "alice.p12",
        "-passin",
        &passin,
        "-nocerts",
        "-nodes",
    ]);
    assert!(keys.contains("    friendlyName: alice\n"), "{keys}");
    let key_id = keys
        .lines()
        .find(|l| l.trim_start().starts_with("localKeyID:"))
        .unwrap_or_else(|| panic!("no localKeyID on the key:\n{keys}"));
    let leaf_attrs = certs.split("-----BEGIN CERTIFICATE-----").next().unwrap();
    assert!(leaf_attrs.contains(key_id), "leaf lacks {key_id}:\n{certs}");
    dir.create("out.key", &keys);
    assert_eq!(
        dir.openssl(&["pkey", "-in", "out.key", "-pubout"]),
        public_pem(&dir, &p12.key, "alice.key")
    );

    // A wrong passphrase: openssl refuses too.
    let wrong = dir.openssl_output(&[
        "pkcs12",
        "-in",
        "alice.p12",
        "-passin",
        "pass:wrong",
        "-nokeys",
    ]);
    assert!(!wrong.status.success());
}

#[test]
fn openssl_reads_rsa_p12_pkirun_writes() {
    openssl_reads_what_pkirun_writes("rsa", 2048);
}

#[test]
fn openssl_reads_p256_p12_pkirun_writes() {
    openssl_reads_what_pkirun_writes("ecdsa", 256);
}

#[test]
fn openssl_reads_p384_p12_pkirun_writes() {
    openssl_reads_what_pkirun_writes("ecdsa", 384);
}

/// Makes a key and certificate chain with pkirun, has `openssl pkcs12 -export <extra>` bundle
/// them, and reads the result back.
fn pkirun_reads_what_openssl_exports(kind: &str, size: i64, extra: &[&str]) -> Pkcs12 {
    let dir = Dir::new();
    let (key, leaf, chain) = hierarchy(kind, size);
    dir.create("k.pem", key.to_pem(KeyFormat::Pkcs8).unwrap());
    dir.create("c.pem", leaf.pem());
    // Root first: the reader must order the chain itself.
    dir.create("chain.pem", format!("{}{}", chain[1].pem(), chain[0].pem()));
    let passout = format!("pass:{PASS}");
    let mut args = vec![
        "pkcs12",
        "-export",
        "-inkey",
        "k.pem",
        "-in",
        "c.pem",
        "-certfile",
        "chain.pem",
        "-passout",
        &passout,
        "-out",
        "o.p12",
    ];
    args.extend_from_slice(extra);
    dir.openssl(&args);
    let der = std::fs::read(dir.join("o.p12")).unwrap();
    let back = Pkcs12::from_der(&der, &pass(PASS)).unwrap();
    assert_eq!(back.key.public_key_der(), key.public_key_der());
    assert_eq!(back.cert, leaf);
    assert_eq!(back.chain, chain);
    assert_eq!(
        Pkcs12::from_der(&der, &pass("wrong")).unwrap_err(),
        Pkcs12Error::WrongPassphrase
    );
    back
}

#[test]
fn pkirun_reads_openssl_export_with_openssl3_defaults() {
    let back = pkirun_reads_what_openssl_exports("ecdsa", 384, &["-name", "bob"]);
    assert_eq!(back.name.as_deref(), Some("bob"));
    let back = pkirun_reads_what_openssl_exports("rsa", 2048, &[]);
    assert_eq!(back.name, None);
}

#[test]
fn pkirun_reads_openssl_legacy_export() {
    // PBE-SHA1-RC2-40 certificates, PBE-SHA1-3DES key, HMAC-SHA1: what OpenSSL 1.x wrote.
    let back = pkirun_reads_what_openssl_exports("ecdsa", 256, &["-legacy", "-name", "old"]);
    assert_eq!(back.name.as_deref(), Some("old"));
}

#[test]
fn pkirun_reads_openssl_export_without_mac_and_refuses_wrong_passphrase() {
    // No MAC: a wrong passphrase shows only when the decryption's padding fails.
    pkirun_reads_what_openssl_exports("ecdsa", 256, &["-nomac"]);
}

#[test]
fn pkirun_writes_and_reads_back_its_own_file() {
    let dir = Dir::new();
    let p12 = write_p12(&dir, "ecdsa", 384);
    let back =
        Pkcs12::from_der(&std::fs::read(dir.join("alice.p12")).unwrap(), &pass(PASS)).unwrap();
    assert_eq!(back.key.public_key_der(), p12.key.public_key_der());
    assert_eq!(back.cert, p12.cert);
    assert_eq!(back.chain, p12.chain);
    assert_eq!(back.name.as_deref(), Some("alice"));
}

/// Whether `program` runs; when it does not, says so and what tests/run.sh must install.
fn available(program: &str, probe: &[&str], install: &str) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: `{program}` is not available; tests/run.sh must install {install}");
    }
    ok
}

fn keytool_lists_what_pkirun_writes(kind: &str, size: i64, java_key: &str) {
    if !available(
        "keytool",
        &["-help"],
        "the Debian package `default-jdk-headless`",
    ) {
        return;
    }
    let dir = Dir::new();
    write_p12(&dir, kind, size);
    let out = dir.keytool_list("alice.p12", PASS);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "keytool failed:\n{text}\n{out:?}");
    for want in [
        "Your keystore contains 1 entry",
        "Alias name: alice",
        "Entry type: PrivateKeyEntry",
        "Certificate chain length: 3",
        "Owner: CN=alice, O=pkirun test",
        "Owner: CN=Intermediate CA, O=pkirun test",
        "Owner: CN=Root CA, O=pkirun test",
        java_key,
    ] {
        assert!(
            text.contains(want),
            "keytool output lacks `{want}`:\n{text}"
        );
    }

    let wrong = Command::new("keytool")
        .args([
            "-list",
            "-storetype",
            "PKCS12",
            "-keystore",
            "alice.p12",
            "-storepass",
            "wrong",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!wrong.status.success());
}

#[test]
fn keytool_lists_rsa_p12_pkirun_writes() {
    keytool_lists_what_pkirun_writes(
        "rsa",
        2048,
        "Subject Public Key Algorithm: 2048-bit RSA key",
    );
}

#[test]
fn keytool_lists_p256_p12_pkirun_writes() {
    keytool_lists_what_pkirun_writes(
        "ecdsa",
        256,
        "Subject Public Key Algorithm: 256-bit EC (secp256r1) key",
    );
}

#[test]
fn keytool_lists_p384_p12_pkirun_writes() {
    keytool_lists_what_pkirun_writes(
        "ecdsa",
        384,
        "Subject Public Key Algorithm: 384-bit EC (secp384r1) key",
    );
}

/// Loads the file with `cryptography`'s `pkcs12.load_key_and_certificates` and prints the key's
/// SubjectPublicKeyInfo, then each certificate, as hex DER, one a line.
const PY_LOAD: &str = r#"
import sys
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, pkcs12
data = open(sys.argv[1], "rb").read()
try:
    key, cert, extra = pkcs12.load_key_and_certificates(data, sys.argv[2].encode())
except ValueError as e:
    print("refused:", e)
    sys.exit(3)
print(key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo).hex())
print(cert.public_bytes(Encoding.DER).hex())
for c in extra:
    print(c.public_bytes(Encoding.DER).hex())
"#;

/// The Python with `cryptography`: `$PKIRUN_PYTHON` (e.g. a venv's), else `python3`.
fn python() -> Option<String> {
    let python = std::env::var("PKIRUN_PYTHON").unwrap_or_else(|_| "python3".into());
    available(
        &python,
        &["-c", "import cryptography.hazmat.primitives.serialization.pkcs12"],
        "Python 3 with `cryptography` (Debian `python3-cryptography`, or a venv with `pip install cryptography` named in $PKIRUN_PYTHON)",
    )
    .then_some(python)
}

fn python_loads_what_pkirun_writes(kind: &str, size: i64) {
    let Some(python) = python() else {
        return;
    };
    let dir = Dir::new();
    let p12 = write_p12(&dir, kind, size);
    dir.create("load.py", PY_LOAD);
    let run = |passphrase: &str| {
        Command::new(&python)
            .args(["load.py", "alice.p12", passphrase])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let out = run(PASS);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "python failed:\n{text}\n{out:?}");
    let expected: Vec<String> = std::iter::once(hex::encode(p12.key.public_key_der()))
        .chain(
            std::iter::once(&p12.cert)
                .chain(&p12.chain)
                .map(|c| hex::encode(c.der())),
        )
        .collect();
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);

    let wrong = run("wrong");
    assert_eq!(wrong.status.code(), Some(3), "{wrong:?}");
}

#[test]
fn python_cryptography_loads_rsa_p12_pkirun_writes() {
    python_loads_what_pkirun_writes("rsa", 2048);
}

#[test]
fn python_cryptography_loads_p256_p12_pkirun_writes() {
    python_loads_what_pkirun_writes("ecdsa", 256);
}

#[test]
fn python_cryptography_loads_p384_p12_pkirun_writes() {
    python_loads_what_pkirun_writes("ecdsa", 384);
}

#[test]
fn fewest_iterations_still_open_everywhere() {
    // OpenSSL 3's own count: the floor pkirun accepts.
    let dir = Dir::new();
    let (key, leaf, chain) = hierarchy("ecdsa", 256);
    let opts = Pkcs12Options {
        iterations: MIN_ITERATIONS,
        name: Some("low".into()),
    };
    let der = Pkcs12::new(key, leaf, chain)
        .unwrap()
        .to_der(&pass(PASS), &opts)
        .unwrap();
    dir.create("low.p12", der);
    let info = dir.openssl_output(&[
        "pkcs12",
        "-info",
        "-in",
        "low.p12",
        "-passin",
        &format!("pass:{PASS}"),
        "-noout",
    ]);
    assert!(info.status.success(), "{info:?}");
    assert!(String::from_utf8_lossy(&info.stderr).contains("MAC: sha256, Iteration 2048"));
}

#[test]
fn pkirun_reads_openssl_export_with_empty_passphrase() {
    let dir = Dir::new();
    let (key, leaf, _) = hierarchy("ecdsa", 256);
    dir.create("k.pem", key.to_pem(KeyFormat::Pkcs8).unwrap());
    dir.create("c.pem", leaf.pem());
    dir.openssl(&[
        "pkcs12", "-export", "-inkey", "k.pem", "-in", "c.pem", "-passout", "pass:", "-out",
        "o.p12",
    ]);
    let der = std::fs::read(dir.join("o.p12")).unwrap();
    let back = Pkcs12::from_der(&der, &pass("")).unwrap();
    assert_eq!(back.cert, leaf);
    assert_eq!(
        Pkcs12::from_der(&der, &pass("x")).unwrap_err(),
        Pkcs12Error::WrongPassphrase
    );
}

/// Runs `script` with `--passphrase-env P12_TEST_PASS` set to `passphrase` (no terminal).
fn run_with_passphrase(dir: &Dir, script: &str, passphrase: Option<&str>) -> std::process::Output {
    let path = dir.create("../p12-script.rhai", script);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pkirun"));
    cmd.args([path.to_str().unwrap(), "-C", dir.path().to_str().unwrap()])
        .stdin(std::process::Stdio::null());
    if let Some(p) = passphrase {
        cmd.args(["--passphrase-env", "P12_TEST_PASS"])
            .env("P12_TEST_PASS", p);
    }
    let out = cmd.output().unwrap();
    std::fs::remove_file(path).unwrap();
    out
}

#[test]
fn scripts_write_and_read_p12_with_a_passphrase_from_the_environment_never_a_literal() {
    let dir = Dir::new();
    let out = run_with_passphrase(
        &dir,
        r#"
let root = new_ca(gen_key("ecdsa:384"), #{ subject: "/O=P12/CN=Root" });
write_cert("root.pem", root.cert);
let alice = root.issue(#{ key: "ecdsa:256", subject: #{ CN: "alice" }, san: ["alice@example.test"], profile: "client" });
write_p12("alice.p12", alice.key, alice.cert, [root.cert]);
let back = load_p12("alice.p12");
if back.name != "alice" || back.cert.fingerprint != alice.cert.fingerprint || back.chain.len() != 1 {
    throw `round trip: ${back}`;
}
"#,
        Some("s3cret words"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(dir.mode("alice.p12"), 0o400);
    let certs = dir.openssl(&[
        "pkcs12",
        "-nokeys",
        "-in",
        "alice.p12",
        "-passin",
        "pass:s3cret words",
    ]);
    assert!(
        certs.contains("subject=CN = alice") && certs.contains("subject=O = P12, CN = Root"),
        "{certs}"
    );
    assert!(
        !dir.openssl_output(&[
            "pkcs12",
            "-info",
            "-noout",
            "-in",
            "alice.p12",
            "-passin",
            "pass:wrong"
        ])
        .status
        .success()
    );
    // Wrong passphrase: one line, nothing else.
    let out = run_with_passphrase(&dir, r#"load_p12("alice.p12");"#, Some("wrong"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("`alice.p12`:") && err.contains("passphrase"),
        "{err}"
    );
    // No source and no terminal: refused with the options to use, nothing written.
    let before = dir.snapshot();
    let out = run_with_passphrase(
        &dir,
        r#"let ca = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=x" });
let p = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "bob" }, profile: "client" });
write_p12("bob.p12", p.key, p.cert, []);"#,
        None,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("no passphrase: cannot prompt")
            && err.contains("--passphrase-file FILE or --passphrase-env VAR"),
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
}
