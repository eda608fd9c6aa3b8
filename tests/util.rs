//! Test helpers: a fresh directory per test, the pkirun binary, the openssl CLI, a TLS
//! server on 127.0.0.1, and snapshots of a directory to prove nothing changed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A fresh directory under cargo's target tmp dir, removed on drop.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(base).unwrap();
        Dir {
            tmp: tempfile::Builder::new()
                .prefix("pkirun-test-")
                .tempdir_in(base)
                .unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Writes a file (creating parents).
    pub fn create(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.join(rel))
            .unwrap_or_else(|e| panic!("cannot read {rel}: {e}\n{}", self.listing()))
    }

    pub fn mode(&self, rel: &str) -> u32 {
        std::fs::metadata(self.join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    /// Every file under the directory: relative path → (mode, contents).
    pub fn snapshot(&self) -> BTreeMap<String, (u32, Vec<u8>)> {
        let mut out = BTreeMap::new();
        walk(self.path(), self.path(), &mut out);
        out
    }

    pub fn files(&self) -> Vec<String> {
        self.snapshot().into_keys().collect()
    }

    pub fn listing(&self) -> String {
        self.snapshot()
            .iter()
            .map(|(p, (m, c))| format!("  {m:o} {p} ({} bytes)", c.len()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Runs pkirun with `args` in this directory.
    pub fn pkirun(&self, args: &[&str]) -> Run {
        let output = Command::new(env!("CARGO_BIN_EXE_pkirun"))
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        Run {
            output,
            what: format!("pkirun {}", args.join(" ")),
            listing: self.listing(),
        }
    }

    /// Writes `script` to `script.rhai` outside the tree under test and runs it with `-C`.
    pub fn run_script(&self, script: &str, args: &[&str]) -> Run {
        let script_dir = tempfile::Builder::new()
            .prefix("script-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let path = script_dir.path().join("script.rhai");
        std::fs::write(&path, script).unwrap();
        let dir = self.path().to_str().unwrap().to_string();
        let mut all = vec![path.to_str().unwrap(), "-C", dir.as_str()];
        all.extend_from_slice(args);
        self.pkirun(&all)
    }

    /// Runs openssl in this directory and returns stdout; panics with everything on failure.
    pub fn openssl(&self, args: &[&str]) -> String {
        let out = self.openssl_output(args);
        assert!(
            out.status.success(),
            "openssl {} failed ({})\nstdout:\n{}\nstderr:\n{}\nfiles:\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.listing()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs openssl in this directory and returns the raw output.
    pub fn openssl_output(&self, args: &[&str]) -> Output {
        require("openssl", "openssl");
        Command::new("openssl")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap()
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (u32, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.is_dir() {
            walk(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let contents = std::fs::read(&p).unwrap_or_default();
            out.insert(rel, (meta.permissions().mode() & 0o7777, contents));
        }
    }
}

/// Fails (never skips) when a program the test needs is missing.
pub fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{program}` is not installed; install the Debian package `{package}` (tests/run.sh does)"
    );
}

/// The result of running pkirun.
pub struct Run {
    pub output: Output,
    what: String,
    listing: String,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    fn report(&self) -> String {
        format!(
            "{} ({})\nstdout:\n{}\nstderr:\n{}\nfiles:\n{}",
            self.what,
            self.output.status,
            self.stdout(),
            self.stderr(),
            self.listing
        )
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            self.output.status.success(),
            "expected success: {}",
            self.report()
        );
        self
    }

    /// Asserts failure with exit code 1 and returns stderr.
    #[track_caller]
    pub fn failure(self) -> String {
        assert_eq!(
            self.output.status.code(),
            Some(1),
            "expected failure: {}",
            self.report()
        );
        let err = self.stderr();
        assert!(
            err.starts_with("error: "),
            "stderr should be one error line: {err}"
        );
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "one line of error, got: {err}"
        );
        err
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `openssl s_server` on 127.0.0.1 requiring a client certificate; killed on drop.
pub struct TlsServer {
    child: Child,
    pub port: u16,
}

impl TlsServer {
    /// Starts a server with `cert`/`key`, trusting client certs from `ca`.
    pub fn start(dir: &Dir, cert: &str, key: &str, ca: &str) -> TlsServer {
        require("openssl", "openssl");
        let port = free_port();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &format!("127.0.0.1:{port}"),
                "-cert",
                cert,
                "-key",
                key,
                "-CAfile",
                ca,
                "-Verify",
                "2",
                "-verify_return_error",
                "-www",
                "-naccept",
                "5",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "s_server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsServer { child, port }
    }

    /// Connects with `openssl s_client` using a client cert; returns (success, transcript).
    pub fn connect(
        &self,
        dir: &Dir,
        cert: &str,
        key: &str,
        ca: &str,
        host: &str,
    ) -> (bool, String) {
        let mut child = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{}", self.port),
                "-cert",
                cert,
                "-key",
                key,
                "-CAfile",
                ca,
                "-verify_return_error",
                "-verify_hostname",
                host,
                "-servername",
                host,
                "-quiet",
            ])
            .current_dir(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"GET / HTTP/1.0\r\n\r\n")
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let transcript = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // -www answers with an HTTP page only after a completed handshake.
        let ok = out.status.success() && transcript.contains("HTTP/1.0 200 ok");
        (ok, transcript)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(mut e) = self.child.stderr.take() {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
        }
    }
}

/// The SHA-256 of the public key in a cert or key file, via openssl, to prove they match.
pub fn pubkey_of_cert(dir: &Dir, cert: &str) -> String {
    dir.openssl(&["x509", "-in", cert, "-noout", "-pubkey"])
}

pub fn pubkey_of_key(dir: &Dir, key: &str) -> String {
    dir.openssl(&["pkey", "-in", key, "-pubout"])
}

/// The line after `header` in `openssl x509 -text` output (the extension's value), asserting
/// the header line itself is exactly `header` (so criticality is checked).
#[track_caller]
pub fn ext_value(text: &str, header: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("no line `{header}` in:\n{text}"));
    lines[i + 1].trim().to_string()
}

/// The repository root (for scripts/).
pub fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .to_str()
        .unwrap()
        .to_string()
}
