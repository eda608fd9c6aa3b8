//! Batch re-runs with damaged, deleted and foreign files in the output: each is reported by
//! name and the run fails (never kept, never replaced), or, for a lone key, certified.

use std::collections::BTreeSet;

use pkirun::pki::{Certificate, Key};

use crate::util::Dir;

const CA_SCRIPT: &str = r#"
let key = gen_key("ecdsa:384");
let ca = new_ca(key, #{ subject: ["O=Bulk Test", "CN=Bulk CA"], days: 3650 });
write_pair("ca-key.pem", key, "ca.pem", ca.cert);
"#;

const BATCH_SCRIPT: &str = r#"
let ca = load_ca("ca.pem", "ca-key.pem");
ca.issue_batch("inventory.csv", #{ out: "certs/{name}", manifest: "certs/manifest.jsonl", profile: "peer" });
"#;

/// A CA, an inventory of 8 nodes and a finished first run.
fn issued() -> Dir {
    let dir = Dir::new();
    dir.run_script(CA_SCRIPT, &[]).success();
    let mut csv = String::from("name,hosts\n");
    for i in 0..8 {
        csv.push_str(&format!("node{i},node{i}.example.io\n"));
    }
    dir.create("inventory.csv", csv);
    dir.run_script(BATCH_SCRIPT, &["--quiet"]).success();
    dir
}

fn manifest_names(dir: &Dir) -> Vec<String> {
    dir.read("certs/manifest.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["name"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Re-runs and expects exit 1 with exactly `message`, the damaged file left as it was.
#[track_caller]
fn refused(dir: &Dir, rel: &str, message: &str) {
    let before = std::fs::read(dir.join(rel)).unwrap();
    let err = dir.run_script(BATCH_SCRIPT, &["--quiet"]).failure();
    assert!(err.contains(message), "expected `{message}` in: {err}");
    assert!(
        err.contains("not kept and not replaced (remove it or run with --force)"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join(rel)).unwrap(),
        before,
        "{rel} was touched"
    );
}

#[test]
fn a_truncated_certificate_is_reported_by_name_and_not_kept() {
    let dir = issued();
    let pem = dir.read("certs/node3.pem");
    dir.create("certs/node3.pem", &pem[..pem.len() / 2]);
    refused(
        &dir,
        "certs/node3.pem",
        "`certs/node3.pem`: certificate does not parse",
    );
}

#[test]
fn a_truncated_or_empty_key_is_reported_by_name_and_not_kept() {
    let dir = issued();
    let pem = dir.read("certs/node5-key.pem");
    dir.create("certs/node5-key.pem", &pem[..pem.len() / 3]);
    refused(
        &dir,
        "certs/node5-key.pem",
        "`certs/node5-key.pem`: key does not parse",
    );
    dir.create("certs/node5-key.pem", "");
    refused(
        &dir,
        "certs/node5-key.pem",
        "`certs/node5-key.pem`: key does not parse",
    );
}

#[test]
fn a_key_of_another_pair_is_reported_as_not_matching() {
    let dir = issued();
    dir.create("certs/node2-key.pem", dir.read("certs/node1-key.pem"));
    refused(
        &dir,
        "certs/node2-key.pem",
        "`certs/node2-key.pem`: key does not match the certificate",
    );
}

#[test]
fn a_certificate_of_another_ca_is_reported_as_foreign() {
    let dir = issued();
    let other = Dir::new();
    other.run_script(CA_SCRIPT, &[]).success();
    let mut csv = String::from("name,hosts\n");
    for i in 0..8 {
        csv.push_str(&format!("node{i},node{i}.example.io\n"));
    }
    other.create("inventory.csv", csv);
    other.run_script(BATCH_SCRIPT, &["--quiet"]).success();
    dir.create("certs/node4.pem", other.read("certs/node4.pem"));
    dir.create("certs/node4-key.pem", other.read("certs/node4-key.pem"));
    refused(
        &dir,
        "certs/node4.pem",
        "`certs/node4.pem`: certificate is not issued by this CA",
    );
}

#[test]
fn a_certificate_whose_key_was_deleted_is_reported_not_reissued() {
    let dir = issued();
    std::fs::remove_file(dir.join("certs/node6-key.pem")).unwrap();
    refused(
        &dir,
        "certs/node6.pem",
        "`certs/node6.pem`: its key `certs/node6-key.pem` is missing",
    );
}

#[test]
fn a_deleted_certificate_is_reissued_for_its_kept_key_with_one_manifest_entry() {
    let dir = issued();
    let key = dir.read("certs/node7-key.pem");
    let old = dir.read("certs/node7.pem");
    std::fs::remove_file(dir.join("certs/node7.pem")).unwrap();
    dir.run_script(BATCH_SCRIPT, &["--quiet"]).success();
    assert_eq!(dir.read("certs/node7-key.pem"), key, "the key was replaced");
    let cert = Certificate::from_pem(dir.read("certs/node7.pem").as_bytes()).unwrap();
    assert_ne!(dir.read("certs/node7.pem"), old);
    let key = Key::from_pem(key.as_bytes()).unwrap();
    assert!(pkirun::pki::verify::key_matches(&cert, &key));
    let names = manifest_names(&dir);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(names.len(), 8, "one entry per name: {names:?}");
    assert_eq!(unique.len(), 8);
    let line = dir
        .read("certs/manifest.jsonl")
        .lines()
        .find(|l| l.contains("\"node7\""))
        .unwrap()
        .to_string();
    assert!(line.contains(&cert.fingerprint_sha256()), "{line}");
}
