//! Bulk issuance (issue_batch, sign_batch): correctness with the OpenSSL CLI, determinism
//! across thread counts, interruption and re-run, and the CSR policy.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pkirun::pki::{Certificate, Key};

use crate::util::{Dir, repo};

const CA_SCRIPT: &str = r#"
let key = gen_key("ecdsa:384");
let ca = new_ca(key, #{ subject: ["O=Bulk Test", "CN=Bulk CA"], days: 3650 });
write_pair("ca-key.pem", key, "ca.pem", ca.cert);
"#;

/// Makes a CA in `dir` (ca.pem, ca-key.pem).
fn make_ca(dir: &Dir) {
    dir.run_script(CA_SCRIPT, &[]).success();
}

/// An inventory of `n` rows: every fourth node RSA-2048, the rest P-384.
fn inventory(n: usize, rsa_every: usize) -> String {
    let mut csv = String::from("name,hosts,o,ou,key\n");
    for i in 0..n {
        let key = if rsa_every > 0 && i % rsa_every == 0 {
            "rsa:2048"
        } else {
            "ecdsa:384"
        };
        csv.push_str(&format!(
            "node{i:05},node{i:05}.db.internal;10.1.{}.{},Example,Databases,{key}\n",
            i / 250,
            i % 250 + 1
        ));
    }
    csv
}

const BATCH_SCRIPT: &str = r#"
let ca = load_ca("ca.pem", "ca-key.pem");
ca.issue_batch("inventory.csv", #{ out: "certs/{name}", manifest: "certs/manifest.jsonl", profile: "peer" });
"#;

fn manifest(dir: &Dir) -> Vec<serde_json::Value> {
    dir.read("certs/manifest.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn parse_cert(dir: &Dir, rel: &str) -> Certificate {
    Certificate::from_pem(dir.read(rel).as_bytes()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn a_mixed_batch_verifies_with_openssl_and_matches_its_specs_and_manifest() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.create("inventory.csv", inventory(200, 5));
    let run = dir.run_script(BATCH_SCRIPT, &["--quiet"]).success();
    assert!(
        run.stderr().starts_with("issued 200 certificates in "),
        "{}",
        run.stderr()
    );

    let certs: Vec<String> = (0..200).map(|i| format!("certs/node{i:05}.pem")).collect();
    let mut args = vec!["verify", "-CAfile", "ca.pem", "-purpose", "sslserver"];
    args.extend(certs.iter().map(String::as_str));
    let out = dir.openssl(&args);
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": OK")).count(),
        200,
        "{out}"
    );

    let entries = manifest(&dir);
    assert_eq!(entries.len(), 200);
    let mut serials = BTreeSet::new();
    for (i, e) in entries.iter().enumerate() {
        let name = format!("node{i:05}");
        assert_eq!(e["name"], name.as_str(), "manifest keeps the input order");
        let cert = parse_cert(&dir, &format!("certs/{name}.pem"));
        assert_eq!(e["cert"], format!("certs/{name}.pem").as_str());
        assert_eq!(e["key"], format!("certs/{name}-key.pem").as_str());
        assert_eq!(e["sha256"], cert.fingerprint_sha256().as_str());
        assert_eq!(e["serial"], cert.serial_hex().as_str());
        assert!(serials.insert(cert.serial_hex()), "serials are unique");
        assert_eq!(
            cert.subject().unwrap().to_string(),
            format!("O = Example, OU = Databases, CN = {name}")
        );
        let sans: Vec<String> = cert.sans().iter().map(ToString::to_string).collect();
        assert_eq!(
            sans,
            [
                format!("DNS:{name}.db.internal"),
                format!("IP:10.1.{}.{}", i / 250, i % 250 + 1)
            ]
        );
        assert_eq!(e["sans"], serde_json::json!(sans));
        let key = Key::from_pem(dir.read(&format!("certs/{name}-key.pem")).as_bytes()).unwrap();
        assert_eq!(
            key.public_key_der(),
            cert.public_key_der().unwrap().as_slice()
        );
        let expected = if i % 5 == 0 {
            "RSA 2048"
        } else {
            "ECDSA P-384"
        };
        assert_eq!(key.describe(), expected);
        assert_eq!(dir.mode(&format!("certs/{name}-key.pem")), 0o400);
    }
}

/// The manifest without what is random (serials, fingerprints, dates).
fn stable_manifest(dir: &Dir) -> Vec<(String, String, String)> {
    manifest(dir)
        .iter()
        .map(|e| {
            (
                e["name"].to_string(),
                e["subject"].to_string(),
                e["sans"].to_string(),
            )
        })
        .collect()
}

#[test]
fn one_and_two_threads_give_the_same_names_subjects_sans_and_manifest_order() {
    let mut results = Vec::new();
    for threads in ["1", "2"] {
        let dir = Dir::new();
        make_ca(&dir);
        dir.create("inventory.csv", inventory(300, 0));
        dir.run_script(BATCH_SCRIPT, &["--quiet", "--threads", threads])
            .success();
        let files: Vec<String> = dir.files();
        results.push((files, stable_manifest(&dir)));
    }
    assert_eq!(results[0].0, results[1].0, "same file names");
    assert_eq!(
        results[0].1, results[1].1,
        "same manifest order, subjects and SANs"
    );
}

#[test]
fn an_interrupted_batch_leaves_no_partial_file_and_a_rerun_completes_it() {
    let dir = Dir::new();
    make_ca(&dir);
    const N: usize = 4000;
    dir.create("inventory.csv", inventory(N, 0));
    let script_dir = Dir::new();
    let script = script_dir.create("batch.rhai", BATCH_SCRIPT);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pkirun"))
        .args([
            script.to_str().unwrap(),
            "-C",
            dir.path().to_str().unwrap(),
            "--quiet",
            "--threads",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it (SIGKILL) once some certificates exist, well before the end.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = std::fs::read_dir(dir.join("certs"))
            .map(|d| d.count())
            .unwrap_or(0);
        if done >= 300 {
            break;
        }
        assert!(Instant::now() < deadline, "the batch made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Every visible file is whole; keys are written before their certificate, so every
    // certificate has its key and a key may be alone (the re-run certifies it, keeping it).
    let before = dir.snapshot();
    let mut complete = BTreeMap::new();
    for (path, (_, bytes)) in &before {
        let Some(file) = path.strip_prefix("certs/") else {
            continue;
        };
        if file.starts_with(".pkirun-") || file == "manifest.jsonl" {
            continue;
        }
        if let Some(name) = file.strip_suffix("-key.pem") {
            Key::from_pem(bytes).unwrap_or_else(|e| panic!("partial key {path}: {e}"));
            complete.insert(name.to_string(), bytes.clone());
        } else {
            Certificate::from_pem(bytes).unwrap_or_else(|e| panic!("partial cert {path}: {e}"));
            let name = file.strip_suffix(".pem").unwrap();
            assert!(
                before.contains_key(&format!("certs/{name}-key.pem")),
                "cert without key: {path}"
            );
        }
    }
    assert!(
        complete.len() < N,
        "the kill came too late to test anything"
    );
    // What the manifest recorded is on disk.
    if let Some((_, manifest_bytes)) = before.get("certs/manifest.jsonl") {
        for line in String::from_utf8_lossy(manifest_bytes).lines() {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            let name = e["name"].as_str().unwrap();
            assert!(
                complete.contains_key(name) && before.contains_key(&format!("certs/{name}.pem")),
                "manifest lists {name} before its files"
            );
        }
    }

    dir.run_script(BATCH_SCRIPT, &["--quiet"]).success();
    let after = dir.snapshot();
    let names: BTreeSet<String> = (0..N).map(|i| format!("node{i:05}")).collect();
    let keys: BTreeSet<String> = after
        .keys()
        .filter_map(|p| {
            p.strip_prefix("certs/")?
                .strip_suffix("-key.pem")
                .map(str::to_string)
        })
        .collect();
    assert_eq!(keys, names, "exactly the full set of keys");
    assert!(
        after.keys().all(|p| !p.contains(".pkirun-")),
        "no temporary file is left"
    );
    for (name, key) in &complete {
        assert_eq!(
            &after[&format!("certs/{name}-key.pem")].1,
            key,
            "{name}'s key was re-issued"
        );
    }
    let entries = manifest(&dir);
    let recorded: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = recorded.iter().copied().collect();
    assert_eq!(recorded.len(), N, "each name once in the manifest");
    assert_eq!(unique.len(), N);
    for e in &entries {
        let cert = parse_cert(&dir, e["cert"].as_str().unwrap());
        assert_eq!(e["sha256"], cert.fingerprint_sha256().as_str());
    }
}

#[test]
fn a_bad_row_is_reported_by_number_and_nothing_is_written() {
    for (row, csv, message) in [
        (
            3,
            "name,hosts\na,a.io\nb,10.0.0.300\n",
            "inventory.csv row 3: invalid subject alternative name `10.0.0.300`",
        ),
        (
            3,
            "name,hosts\na,a.io\na,b.io\n",
            "inventory.csv row 3: duplicate name `a`",
        ),
        (2, "name,hosts\n,a.io\n", "inventory.csv row 2: empty name"),
        (
            3,
            "name,hosts\na,a.io\n\"b\nc\",b.io\n",
            "inventory.csv row 3: name `b\\nc` contains a control character (it names files)",
        ),
    ] {
        let dir = Dir::new();
        make_ca(&dir);
        dir.create("inventory.csv", csv);
        let before = dir.snapshot();
        let err = dir.run_script(BATCH_SCRIPT, &["--quiet"]).failure();
        assert!(err.contains(message), "row {row}: {err}");
        assert_eq!(dir.snapshot(), before, "nothing may be written");
    }
}

#[test]
fn sign_batch_signs_good_csrs_and_reports_each_refusal_with_its_reason() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.run_script(
        r#"
        mkdir("csrs");
        for n in ["good1", "good2", "ca-request", "outside", "bad-signature", "usage"] {
            let key = gen_key("ecdsa:256");
            let opts = #{ subject: ["CN=" + n], san: [n + ".db.internal", "10.0.0.9"] };
            if n == "ca-request" { opts.basic_constraints = "critical,CA:true"; }
            if n == "outside" { opts.san = ["evil.example.com"]; }
            if n == "usage" { opts.key_usage = ["critical", "digitalSignature", "keyCertSign"]; }
            write_csr("csrs/" + n + ".csr", new_csr(key, opts));
        }
        "#,
        &[],
    )
    .success();
    // Flip one byte inside the signed part of one CSR.
    let pem = dir.read("csrs/bad-signature.csr");
    let blocks = pem::parse(pem.as_bytes()).unwrap();
    let mut der = blocks.contents().to_vec();
    let at = der.windows(13).position(|w| w == b"bad-signature").unwrap();
    der[at] ^= 0x20;
    dir.create(
        "csrs/bad-signature.csr",
        pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der)),
    );

    let run = dir.pkirun(&[
        &repo("scripts/sign-csrs.rhai"),
        "-D",
        "ca_dir=.",
        "-D",
        "allowed=*.db.internal,10.0.0.0/24",
        "--quiet",
    ]);
    assert_eq!(
        run.output.status.code(),
        Some(1),
        "a rejection fails the run"
    );
    let stderr = run.stderr();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "a refusal is one line: {stderr}");
    let err = lines[0];
    assert!(
        err.contains("4 of 6 CSRs rejected (see `signed/rejected.jsonl`), 2 signed; first: "),
        "{err}"
    );
    let report: BTreeMap<String, String> = dir
        .read("signed/rejected.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["name"].as_str().unwrap().to_string(),
                v["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        report["ca-request"],
        "refusing to sign: `basicConstraints`: the request asks for CA:TRUE and the profile does not issue CAs"
    );
    assert_eq!(
        report["outside"],
        "refusing to sign: `san[0]`: `DNS:evil.example.com` is outside the allowed names (*.db.internal, 10.0.0.0/24)"
    );
    assert!(
        report["bad-signature"].contains("signature does not verify"),
        "{report:?}"
    );
    assert_eq!(
        report["usage"],
        "asks for key usage `keyCertSign`, which the profile does not allow"
    );
    assert_eq!(report.len(), 4);
    for good in ["good1", "good2"] {
        let crt = format!("signed/{good}.pem");
        dir.openssl(&[
            "verify",
            "-CAfile",
            "ca.pem",
            "-verify_hostname",
            &format!("{good}.db.internal"),
            &crt,
        ]);
    }
    assert!(!dir.join("signed/ca-request.pem").exists());
    assert_eq!(
        manifest_names(&dir, "signed/manifest.jsonl"),
        ["good1", "good2"]
    );
}

fn manifest_names(dir: &Dir, rel: &str) -> Vec<String> {
    dir.read(rel)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn bulk_script_issues_the_example_inventory_and_a_rerun_changes_nothing() {
    let dir = Dir::new();
    dir.create(
        "inventory.csv",
        std::fs::read(repo("scripts/inventory.example.csv")).unwrap(),
    );
    let script = repo("scripts/bulk.rhai");
    dir.pkirun(&[&script, "--quiet"]).success();
    for name in ["etcd1", "etcd2", "etcd3", "api1", "worker1"] {
        dir.openssl(&[
            "verify",
            "-CAfile",
            "ca/ca.pem",
            &format!("certs/{name}.pem"),
        ]);
    }
    dir.openssl(&[
        "verify",
        "-CAfile",
        "ca/ca.pem",
        "-verify_ip",
        "127.0.0.1",
        "certs/api1.pem",
    ]);
    let before = dir.snapshot();
    let rerun = dir.pkirun(&[&script, "--quiet"]).success();
    assert!(
        rerun.stderr().contains("5 were already present"),
        "{}",
        rerun.stderr()
    );
    assert_eq!(dir.snapshot(), before);
}

/// Runs `script` under `umask 077` (which would strip a certificate's 0644 to 0600 unless
/// pkirun sets modes itself).
fn run_with_strict_umask(dir: &Dir, script: &std::path::Path) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(r#"umask 077; exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_pkirun"))
        .arg(script)
        .args(["-C", dir.path().to_str().unwrap(), "--quiet"])
        .output()
        .unwrap()
}

#[test]
fn per_name_directories_get_exact_modes_under_any_umask_and_symlinks_are_refused() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.create("inventory.csv", inventory(12, 4));
    let script_dir = Dir::new();
    let script = script_dir.create(
        "batch.rhai",
        r#"
let ca = load_ca("ca.pem", "ca-key.pem");
ca.issue_batch("inventory.csv", #{ out: "nodes/{name}/node", style: "openssl",
                                   manifest: "nodes/manifest.jsonl", profile: "peer" });
"#,
    );
    let out = run_with_strict_umask(&dir, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for i in 0..12 {
        let cert = format!("nodes/node{i:05}/node.crt");
        let key = format!("nodes/node{i:05}/node.key");
        assert_eq!(dir.mode(&cert), 0o644, "{cert}");
        assert_eq!(dir.mode(&key), 0o400, "{key}");
        dir.openssl(&["verify", "-CAfile", "ca.pem", &cert]);
        assert_eq!(
            crate::util::pubkey_of_cert(&dir, &cert),
            crate::util::pubkey_of_key(&dir, &key)
        );
    }
    assert_eq!(manifest_names(&dir, "nodes/manifest.jsonl").len(), 12);

    // A re-run changes nothing.
    let before = dir.snapshot();
    let out = run_with_strict_umask(&dir, &script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.snapshot() == before, "a re-run changed files");

    // An output replaced by a symlink (here to another node's key) is refused by name, and
    // the file it points to is left alone.
    std::fs::remove_file(dir.join("nodes/node00003/node.key")).unwrap();
    std::os::unix::fs::symlink(
        "../node00004/node.key",
        dir.join("nodes/node00003/node.key"),
    )
    .unwrap();
    let before = dir.snapshot();
    let out = run_with_strict_umask(&dir, &script);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a symlinked output was accepted");
    assert!(
        err.contains("`nodes/node00003/node.key`: is not a regular file"),
        "{err}"
    );
    assert!(
        dir.snapshot() == before,
        "files changed:\n{}",
        dir.listing()
    );
}

#[test]
fn a_symlink_among_the_outputs_of_a_shared_directory_is_refused() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.create("inventory.csv", inventory(5, 0));
    std::fs::create_dir(dir.join("certs")).unwrap();
    std::os::unix::fs::symlink("../ca.pem", dir.join("certs/node00002.pem")).unwrap();
    let before = dir.snapshot();
    let err = dir.run_script(BATCH_SCRIPT, &["--quiet"]).failure();
    assert!(
        err.contains("`certs/node00002.pem`: is not a regular file"),
        "{err}"
    );
    // Nothing was written through the link; what the other rows wrote is whole and recorded.
    assert_eq!(dir.snapshot()["ca.pem"], before["ca.pem"]);
    for name in manifest_names(&dir, "certs/manifest.jsonl") {
        assert_ne!(name, "node00002");
        dir.openssl(&["verify", "-CAfile", "ca.pem", &format!("certs/{name}.pem")]);
    }
}

/// `openssl x509 -subject` of a certificate (or `req -subject` of a CSR), one RFC 2253 line,
/// UTF-8 shown as is.
fn rfc2253_subject(dir: &Dir, kind: &str, file: &str) -> String {
    dir.openssl(&[
        kind,
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253,-esc_msb",
        "-in",
        file,
    ])
    .trim()
    .trim_start_matches("subject=")
    .to_string()
}

#[test]
fn inventory_cells_are_one_value_each_and_only_list_columns_split_at_semicolons() {
    let dir = Dir::new();
    make_ca(&dir);
    // Commas, spaces, quotes, UTF-8 and `;` in every column; `hosts` and `ou` are the lists.
    dir.create(
        "inventory.csv",
        "name,cn,hosts,o,ou,c,st,l\n\
         n1,\"Node, One; \"\"é\"\"\",n1.example.test; 10.0.0.1,\"Acme Widgets, Ltd; Inc\",\
         Ops;Dev Team,DE,\"Baden-Württemberg; Süd\",\"Frankfurt am Main, Hessen\"\n",
    );
    dir.create(
        "inventory.jsonl",
        r#"{"name":"j1","cn":"Node, One; \"é\"","hosts":["n1.example.test","10.0.0.1"],"o":"Acme Widgets, Ltd; Inc","ou":["Ops","Dev Team"],"c":"DE","st":"Baden-Württemberg; Süd","l":"Frankfurt am Main, Hessen"}
"#,
    );
    dir.run_script(
        r#"
let ca = load_ca("ca.pem", "ca-key.pem");
ca.issue_batch("inventory.csv", #{ out: "csv/{name}", profile: "server" });
ca.issue_batch("inventory.jsonl", #{ out: "jsonl/{name}", profile: "server" });
"#,
        &["--quiet"],
    )
    .success();
    // The same subject through openssl req -subj (one value per attribute, OU twice).
    dir.openssl_p256_csr_with(
        "o.key",
        "/C=DE/ST=Baden-Württemberg; Süd/L=Frankfurt am Main, Hessen/O=Acme Widgets, Ltd; Inc\
         /OU=Ops/OU=Dev Team/CN=Node, One; \"é\"",
        "o.csr",
        &["-utf8"],
    );
    let openssl = rfc2253_subject(&dir, "req", "o.csr");
    assert_eq!(
        openssl,
        "CN=Node\\, One\\; \\\"é\\\",OU=Dev Team,OU=Ops,O=Acme Widgets\\, Ltd\\; Inc,\
         L=Frankfurt am Main\\, Hessen,ST=Baden-Württemberg\\; Süd,C=DE"
    );
    assert_eq!(rfc2253_subject(&dir, "x509", "csv/n1.pem"), openssl);
    assert_eq!(rfc2253_subject(&dir, "x509", "jsonl/j1.pem"), openssl);
    for file in ["csv/n1.pem", "jsonl/j1.pem"] {
        let sans = dir.openssl(&["x509", "-noout", "-ext", "subjectAltName", "-in", file]);
        assert!(
            sans.contains("DNS:n1.example.test, IP Address:10.0.0.1"),
            "{file}: {sans}"
        );
    }

    // cfssl keeps each `names` value whole too: the same O and CN.
    crate::util::require("cfssl", "golang-cfssl");
    dir.create(
        "csr.json",
        r#"{"CN":"Node, One; \"é\"","key":{"algo":"ecdsa","size":256},
            "names":[{"C":"DE","ST":"Baden-Württemberg; Süd","L":"Frankfurt am Main, Hessen","O":"Acme Widgets, Ltd; Inc","OU":"Ops"}]}"#,
    );
    let out = Command::new("cfssl")
        .args(["genkey", "csr.json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    dir.create("cfssl.csr", json["csr"].as_str().unwrap());
    let cfssl = rfc2253_subject(&dir, "req", "cfssl.csr");
    for part in [
        "CN=Node\\, One\\; \\\"é\\\"",
        "O=Acme Widgets\\, Ltd\\; Inc",
        "L=Frankfurt am Main\\, Hessen",
    ] {
        assert!(cfssl.contains(part), "cfssl: {cfssl}");
        assert!(openssl.contains(part), "openssl: {openssl}");
    }
}

#[test]
fn an_inventory_string_with_commas_in_hosts_is_refused_not_split() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.create(
        "inventory.jsonl",
        "{\"name\":\"a\",\"hosts\":\"a.example.test,b.example.test\"}\n",
    );
    let err = dir
        .run_script(
            r#"let ca = load_ca("ca.pem", "ca-key.pem");
ca.issue_batch("inventory.jsonl", #{ out: "certs/{name}" });"#,
            &["--quiet"],
        )
        .failure();
    assert!(
        err.contains("inventory.jsonl row 1: invalid subject alternative name `a.example.test,b.example.test`"),
        "{err}"
    );
    assert!(!dir.join("certs/a.pem").exists());
}
