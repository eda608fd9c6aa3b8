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

/// With `--json`, stdout is JSON only: each batch's summary, one object a line; what the script
/// prints goes to stderr.
#[test]
fn with_json_stdout_holds_only_the_batch_summaries() {
    let dir = Dir::new();
    let run = dir
        .run_script(
            r#"print("making a CA");
let ca = new_ca(gen_key("ecdsa", 256), #{ subject: "CN=Output CA", days: 30 });
print("issuing");
ca.issue_batch([#{ name: "a", cn: "a" }, #{ name: "b", cn: "b" }],
               #{ key: "ecdsa:256", profile: "client", days: 7, out: "certs/{name}" });
print("done");"#,
            &["--json", "--quiet"],
        )
        .success();
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(summary["batch"], "issued");
    assert_eq!(summary["issued"], 2);
    let stderr = run.stderr();
    for line in ["making a CA", "issuing", "done"] {
        assert!(stderr.contains(line), "{stderr}");
    }
}
