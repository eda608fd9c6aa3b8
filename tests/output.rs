//! What pkirun does with its own output streams.

use std::process::{Command, Stdio};

use crate::util::Dir;

/// `pkirun SCRIPT | head -1`: the reader goes away after the first line; the procedure still
/// completes (its files are what the user asked for) and exits 0, with no panic.
#[test]
fn a_closed_stdout_does_not_stop_a_procedure() {
    let dir = Dir::new();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cockroach.rhai");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pkirun"))
        .args([script, "-C", dir.path().to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the script prints anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for file in [
        "node-certs/ca.crt",
        "node-certs/node.crt",
        "client-certs/client.root.crt",
    ] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
}
