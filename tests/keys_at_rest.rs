//! Encrypted private keys at rest (issue 14.5): what openssl encrypts pkirun reads, what pkirun
//! encrypts openssl and Python read, a wrong or missing passphrase is one line and nothing is
//! written, and every shipped procedure can keep its CA key encrypted (`-D encrypt_ca=true`).

use crate::util::Dir;

const PASS: &str = "correct horse battery";

fn with_pass(dir: &Dir) -> String {
    dir.create("pass.txt", format!("{PASS}\n"));
    dir.join("pass.txt").to_str().unwrap().to_string()
}

#[test]
fn keys_openssl_encrypts_are_read_with_the_runs_passphrase() {
    let dir = Dir::new();
    let pass = with_pass(&dir);
    let passin = format!("file:{pass}");
    dir.openssl_ec_key("P-384", "plain.pem");
    dir.openssl(&["genrsa", "-out", "rsa.pem", "2048"]);
    for (out, input, extra) in [
        ("aes256.pem", "plain.pem", vec!["-v2", "aes-256-cbc"]),
        ("scrypt.pem", "plain.pem", vec!["-scrypt"]),
        (
            "sha512.pem",
            "rsa.pem",
            vec!["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512"],
        ),
    ] {
        let mut args = vec![
            "pkcs8", "-topk8", "-in", input, "-out", out, "-passout", &passin,
        ];
        args.extend(extra);
        dir.openssl(&args);
        let run = dir.run_script(
            &format!(r#"let k = load_key("{out}"); let p = load_key("{input}"); if k.pem() != p.pem() {{ throw "differs" }}"#),
            &["--passphrase-file", &pass],
        );
        run.success();
    }
    // Keys encrypted the old way (Proc-Type: 4,ENCRYPTED): AES-128/192/256-CBC and 3DES.
    for (out, tool, input, cipher) in [
        ("legacy-aes256.pem", "rsa", "rsa.pem", "-aes256"),
        ("legacy-des3.pem", "rsa", "rsa.pem", "-des3"),
        ("legacy-aes128.pem", "ec", "plain.pem", "-aes128"),
        ("legacy-aes192.pem", "ec", "plain.pem", "-aes192"),
    ] {
        let mut args = vec![tool, "-in", input, cipher, "-passout", &passin, "-out", out];
        if tool == "rsa" {
            args.push("-traditional");
        }
        dir.openssl(&args);
        assert!(dir.read(out).contains("Proc-Type: 4,ENCRYPTED"), "{out}");
        dir.run_script(
            &format!(r#"let k = load_key("{out}"); let p = load_key("{input}"); if k.pem() != p.pem() {{ throw "differs" }}"#),
            &["--passphrase-file", &pass],
        )
        .success();
    }
    // A wrong passphrase, or none to be had: one line, and the script stops there.
    dir.create("wrong.txt", "not it\n");
    let wrong = dir.join("wrong.txt");
    let err = dir
        .run_script(
            r#"let k = load_key("aes256.pem"); write("after.txt", "x");"#,
            &["--passphrase-file", wrong.to_str().unwrap()],
        )
        .failure();
    assert!(
        err.contains(
            "`aes256.pem`: wrong passphrase (or a damaged encrypted key); nothing was written"
        ),
        "{err}"
    );
    assert!(!dir.join("after.txt").exists());
    let err = dir
        .run_script(
            r#"load_key("aes256.pem");"#,
            &["--passphrase-env", "PKIRUN_TEST_UNSET"],
        )
        .failure();
    assert!(
        err.contains(
            "`aes256.pem`: the key is encrypted: --passphrase-env: `PKIRUN_TEST_UNSET` is not set"
        ),
        "{err}"
    );
    // There is no way to give the passphrase itself on the command line.
    let out = dir.pkirun(&["--passphrase", PASS, "x.rhai"]);
    assert!(!out.output.status.success());
}

#[test]
fn keys_pkirun_encrypts_are_read_by_openssl_and_python_and_never_echoed() {
    let dir = Dir::new();
    let pass = with_pass(&dir);
    dir.run_script(
        r#"let k = gen_key("ecdsa:384"); write_key("ca.key", k, #{ encrypt: true }); write("pub.pem", k.pem());"#,
        &["--passphrase-file", &pass],
    )
    .success();
    let text = dir.read("ca.key");
    assert!(
        text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
        "{text}"
    );
    assert_eq!(dir.mode("ca.key"), 0o400);
    assert!(!text.contains(PASS));
    // openssl: PBES2, PBKDF2 with HMAC-SHA256, AES-256-CBC.
    let parsed = dir.openssl(&["asn1parse", "-in", "ca.key"]);
    for part in ["PBES2", "PBKDF2", "hmacWithSHA256", "aes-256-cbc"] {
        assert!(parsed.contains(part), "{part}: {parsed}");
    }
    let from_openssl = dir.openssl(&["pkey", "-in", "ca.key", "-passin", &format!("file:{pass}")]);
    assert_eq!(from_openssl, dir.read("pub.pem"));
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom cryptography.hazmat.primitives import serialization\n\
             k = serialization.load_pem_private_key(open(sys.argv[1], 'rb').read(), sys.argv[2].encode())\n\
             print(k.curve.name)",
            dir.join("ca.key").to_str().unwrap(),
            PASS,
        ])
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&py.stdout).trim(), "secp384r1");
    // An encrypted key is PKCS#8 only.
    let err = dir
        .run_script(
            r#"write_key("x.key", gen_key("rsa:2048"), #{ encrypt: true, format: "pkcs1" });"#,
            &["--passphrase-file", &pass],
        )
        .failure();
    assert!(err.contains("an encrypted key is PKCS#8"), "{err}");
    assert!(!dir.join("x.key").exists());
}

#[test]
fn every_shipped_procedure_keeps_its_ca_key_encrypted_on_request() {
    for (script, first, again, key, ca, leaf) in [
        (
            "scripts/cockroach.rhai",
            vec![],
            vec![],
            "my-safe-directory/ca.key",
            "node-certs/ca.crt",
            "node-certs/node.crt",
        ),
        (
            "scripts/dm.rhai",
            vec![],
            vec![],
            "ca-key.pem",
            "ca.pem",
            "master-cert.pem",
        ),
        (
            "scripts/etcd.rhai",
            vec![],
            vec![],
            "certs/ca-key.pem",
            "certs/ca.pem",
            "certs/etcd1.pem",
        ),
        (
            "scripts/kubernetes-cfssl.rhai",
            vec!["-D", "MASTER_IP=10.0.0.1"],
            vec![],
            "ca-key.pem",
            "ca.pem",
            "server.pem",
        ),
        (
            "scripts/kubernetes-openssl.rhai",
            vec!["-D", "MASTER_IP=10.0.0.1"],
            vec!["-D", "MASTER_IP=10.0.0.1"],
            "ca.key",
            "ca.crt",
            "server.crt",
        ),
        (
            "scripts/kubernetes-easyrsa.rhai",
            vec!["-D", "MASTER_IP=10.0.0.1"],
            vec!["-D", "MASTER_IP=10.0.0.1"],
            "pki/private/ca.key",
            "pki/ca.crt",
            "pki/issued/server.crt",
        ),
    ] {
        let dir = Dir::new();
        let pass = with_pass(&dir);
        let mut args = first.clone();
        args.extend(["-D", "encrypt_ca=true", "--passphrase-file", pass.as_str()]);
        dir.run_repo_script(script, &args).success();
        assert!(
            dir.read(key)
                .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            "{script}: {key} is not encrypted"
        );
        dir.openssl(&[
            "pkey",
            "-in",
            key,
            "-passin",
            &format!("file:{pass}"),
            "-noout",
        ]);
        dir.openssl(&["verify", "-CAfile", ca, leaf]);
        // The re-run reads the encrypted CA key back and changes nothing.
        let before = dir.snapshot();
        let mut args = again.clone();
        args.extend(["--passphrase-file", pass.as_str()]);
        dir.run_repo_script(script, &args).success();
        assert_eq!(dir.snapshot(), before, "{script}: the re-run wrote");
        // Without the passphrase it stops, naming the key.
        let mut args = again.clone();
        args.extend(["--passphrase-env", "PKIRUN_TEST_UNSET"]);
        let err = dir.run_repo_script(script, &args).failure();
        assert!(
            err.contains(&format!("`{key}`")) && err.contains("encrypted"),
            "{script}: {err}"
        );
        assert_eq!(dir.snapshot(), before);
    }
}
