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
        let mut command = Command::new(env!("CARGO_BIN_EXE_pkirun"));
        command.args(args);
        self.run_command(command, format!("pkirun {}", args.join(" ")))
    }

    /// Runs `command` in this directory; the [`Run`] names it as `what`.
    fn run_command(&self, mut command: Command, what: String) -> Run {
        let output = command.current_dir(self.path()).output().unwrap();
        Run {
            output,
            what,
            listing: self.listing(),
        }
    }

    /// Writes `script` to `script.rhai` outside the tree under test and runs it with `-C`.
    pub fn run_script(&self, script: &str, args: &[&str]) -> Run {
        self.run_script_env(script, args, &[])
    }

    /// Like [`Dir::run_script`], with environment variables set for pkirun.
    pub fn run_script_env(&self, script: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let script_dir = tempfile::Builder::new()
            .prefix("script-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let path = script_dir.path().join("script.rhai");
        std::fs::write(&path, script).unwrap();
        let dir = self.path().to_str().unwrap().to_string();
        let mut all = vec![path.to_str().unwrap(), "-C", dir.as_str()];
        all.extend_from_slice(args);
        let mut command = Command::new(env!("CARGO_BIN_EXE_pkirun"));
        command.args(&all).envs(env.iter().copied());
        self.run_command(command, format!("pkirun {}", all.join(" ")))
    }

    /// Every file with its mode, bytes and modification time: what "a re-run changes nothing"
    /// compares.
    pub fn state(&self) -> BTreeMap<String, (u32, Vec<u8>, std::time::SystemTime)> {
        self.snapshot()
            .into_iter()
            .map(|(path, (mode, bytes))| {
                let mtime = std::fs::metadata(self.join(&path))
                    .unwrap()
                    .modified()
                    .unwrap();
                (path, (mode, bytes, mtime))
            })
            .collect()
    }

    /// Runs a Python program with `cryptography` (`$PKIRUN_PYTHON`, else `python3`) in this
    /// directory and returns its standard output; fails the test if it fails.
    pub fn python(&self, program: &str) -> String {
        let python = std::env::var("PKIRUN_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = Command::new(&python)
            .args(["-c", program])
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{python} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `keytool -list -v` of a PKCS#12 file under `password`.
    pub fn keytool_list(&self, p12: &str, password: &str) -> Output {
        require("keytool", "default-jdk-headless");
        Command::new("keytool")
            .args([
                "-list",
                "-v",
                "-storetype",
                "PKCS12",
                "-keystore",
                p12,
                "-storepass",
                password,
            ])
            .current_dir(self.path())
            .output()
            .unwrap()
    }

    /// Runs the repository's script `rel` (e.g. `scripts/etcd.rhai`) with `args` in this directory.
    pub fn run_repo_script(&self, rel: &str, args: &[&str]) -> Run {
        let script = repo(rel);
        let mut all = vec![script.as_str()];
        all.extend_from_slice(args);
        self.pkirun(&all)
    }

    /// A file of this directory parsed as JSON.
    #[track_caller]
    pub fn json(&self, rel: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(rel)).unwrap_or_else(|e| panic!("{rel} is not JSON: {e}"))
    }

    /// What `openssl x509 -noout -text` prints for a certificate.
    pub fn x509_text(&self, cert: &str) -> String {
        self.openssl(&["x509", "-in", cert, "-noout", "-text"])
    }

    /// What `openssl req -noout -text` prints for a CSR.
    pub fn req_text(&self, csr: &str) -> String {
        self.openssl(&["req", "-in", csr, "-noout", "-text"])
    }

    /// Makes a P-256 key and a CSR for `subject` with `openssl req -new -newkey ec`.
    pub fn openssl_p256_csr(&self, key: &str, subject: &str, csr: &str) {
        self.openssl_p256_csr_with(key, subject, csr, &[]);
    }

    /// [`Dir::openssl_p256_csr`] with more `openssl req` arguments (`-addext ...`).
    pub fn openssl_p256_csr_with(&self, key: &str, subject: &str, csr: &str, extra: &[&str]) {
        let mut args = vec![
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key,
            "-subj",
            subject,
            "-out",
            csr,
        ];
        args.extend_from_slice(extra);
        self.openssl(&args);
    }

    /// Makes an EC private key on `curve` (`P-256`, `P-384`) with `openssl genpkey`.
    pub fn openssl_ec_key(&self, curve: &str, out: &str) {
        let curve = format!("ec_paramgen_curve:{curve}");
        self.openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &curve,
            "-out",
            out,
        ]);
    }

    /// Makes a P-256 key and a self-signed certificate for `subject`, valid 10 days, with
    /// `openssl req -x509 -newkey ec`.
    pub fn openssl_p256_self_signed(&self, key: &str, cert: &str, subject: &str) {
        self.openssl_p256_self_signed_with(key, cert, &["-subj", subject, "-days", "10"]);
    }

    /// `openssl req -x509 -newkey ec` (P-256, no passphrase) writing `key` and `cert`, with
    /// the rest of the arguments (`-subj`, `-days`, `-config`, `-addext`...) given.
    pub fn openssl_p256_self_signed_with(&self, key: &str, cert: &str, extra: &[&str]) {
        let mut args = vec![
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key,
            "-out",
            cert,
        ];
        args.extend_from_slice(extra);
        self.openssl(&args);
    }

    /// The serial of a certificate file as openssl prints it (upper-case hex).
    pub fn serial_of(&self, cert: &str) -> String {
        self.openssl(&["x509", "-in", cert, "-noout", "-serial"])
            .trim()
            .trim_start_matches("serial=")
            .to_string()
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
/// The configuration block a seed prints after `after` (between its next pair of `~~~`
/// fences), with the seed's four-space indentation taken off.
pub fn seed_block(seed: &str, after: &str) -> String {
    let text = std::fs::read_to_string(format!(
        "{}/../shared/seeds/{seed}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    text.split(after)
        .nth(1)
        .and_then(|rest| rest.split("~~~").nth(1))
        .unwrap_or_else(|| panic!("{seed}: no block after {after:?}"))
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("    ").unwrap_or(l)))
        .collect()
}

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
        self.s_client(
            dir,
            &[
                "-cert",
                cert,
                "-key",
                key,
                "-CAfile",
                ca,
                "-verify_hostname",
                host,
                "-servername",
                host,
            ],
        )
    }

    /// Runs `openssl s_client` against this server with `args`, sends an HTTP request and
    /// returns (a page came back after a completed handshake, transcript); bounded in time.
    fn s_client(&self, dir: &Dir, args: &[&str]) -> (bool, String) {
        let connect = format!("127.0.0.1:{}", self.port);
        let mut child = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &connect,
                "-verify_return_error",
                "-quiet",
            ])
            .args(args)
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

impl Dir {
    /// Runs pkirun with `args` in this directory as user nobody (uid and gid 65534, no
    /// supplementary groups) through `setpriv`. Everything pkirun touches must be reachable by
    /// nobody: make the directories on the way mode 0755 and the script mode 0644.
    pub fn pkirun_as_nobody(&self, args: &[&str]) -> Run {
        require("setpriv", "util-linux");
        let mut command = Command::new("setpriv");
        command
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                env!("CARGO_BIN_EXE_pkirun"),
            ])
            .args(args);
        self.run_command(command, format!("(as nobody) pkirun {}", args.join(" ")))
    }

    /// The PEM labels of a file, in order (`["EC PARAMETERS", "EC PRIVATE KEY"]`).
    pub fn pem_labels(&self, rel: &str) -> Vec<String> {
        pem::parse_many(self.read(rel))
            .unwrap_or_else(|e| panic!("{rel} is not PEM: {e}"))
            .iter()
            .map(|p| p.tag().to_string())
            .collect()
    }

    /// The DER of the first PEM block of a file, asserting its label.
    #[track_caller]
    pub fn pem_der(&self, rel: &str, label: &str) -> Vec<u8> {
        let block = pem::parse(self.read(rel)).unwrap_or_else(|e| panic!("{rel} is not PEM: {e}"));
        assert_eq!(block.tag(), label, "{rel}");
        block.into_contents()
    }
}

/// True when the tests run as root (CI does), judged by the owner of a directory just made.
pub fn running_as_root() -> bool {
    let dir = Dir::new();
    std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(dir.path()).unwrap()) == 0
}

/// Whether `openssl req -verify` accepts the CSR's self-signature, with openssl's words.
pub fn csr_verifies(dir: &Dir, csr: &str) -> (bool, String) {
    let out = dir.openssl_output(&["req", "-in", csr, "-noout", "-verify"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success() && said.contains("verify OK"), said)
}

impl TlsServer {
    /// Connects with `openssl s_client` and a client cert, checking the server certificate
    /// for an IP address (`-verify_ip`) instead of a host name; returns (success, transcript).
    pub fn connect_ip(
        &self,
        dir: &Dir,
        cert: &str,
        key: &str,
        ca: &str,
        ip: &str,
    ) -> (bool, String) {
        self.s_client(
            dir,
            &["-cert", cert, "-key", key, "-CAfile", ca, "-verify_ip", ip],
        )
    }
}

/// `pkirun inspect --json FILE` with what two runs of the same procedure never share taken out,
/// so that pkirun's output and the seed tool's can be compared field by field: the file name,
/// serial, notBefore/notAfter, fingerprint, and key identifier values (their presence stays:
/// `"<present>"`); the subjectKeyIdentifier and authorityKeyIdentifier extension values are
/// dropped (criticality stays) and extensions are sorted by OID, since their order carries no
/// meaning. Public key algorithm and bits stay; so does the validity length.
pub fn inspect_normalised(dir: &Dir, file: &str) -> serde_json::Value {
    use serde_json::Value;
    let run = dir.pkirun(&["inspect", "--json", file]).success();
    let mut json: Value = serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("inspect --json {file}: {e}\n{}", run.stdout()));
    let present = |v: &mut Value| {
        if !v.is_null() {
            *v = Value::String("<present>".into());
        }
    };
    let mut items = json[0]["items"].take();
    for item in items.as_array_mut().expect("items") {
        let Some(obj) = item.as_object_mut() else {
            continue;
        };
        for k in [
            "serial",
            "not_before",
            "not_after",
            "fingerprint_sha256",
            "file",
        ] {
            obj.remove(k);
        }
        if let Some(v) = obj.get_mut("subject_key_id") {
            present(v);
        }
        if let Some(aki) = obj
            .get_mut("authority_key_id")
            .and_then(Value::as_object_mut)
        {
            for k in ["key_id", "serial"] {
                if let Some(v) = aki.get_mut(k) {
                    present(v);
                }
            }
        }
        if let Some(exts) = obj.get_mut("extensions").and_then(Value::as_array_mut) {
            for e in exts.iter_mut() {
                if matches!(e["oid"].as_str(), Some("2.5.29.14" | "2.5.29.35")) {
                    e["value"] = Value::Null;
                }
            }
            exts.sort_by(|a, b| a["oid"].as_str().cmp(&b["oid"].as_str()));
        }
    }
    items
}

/// Asserts that two files (one made by pkirun, one by the seed's own commands) are the same
/// certificate, CSR or key in every field [`inspect_normalised`] keeps.
#[track_caller]
pub fn assert_equivalent(ours: &Dir, theirs: &Dir, file: &str, their_file: &str) {
    let a = inspect_normalised(ours, file);
    let b = inspect_normalised(theirs, their_file);
    assert_eq!(
        a,
        b,
        "{file} differs from the seed's {their_file}:\npkirun: {}\nseed:   {}",
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap()
    );
}

/// What `pkirun inspect --json` says about the first item of a PEM file (certificate or CSR),
/// without what differs between any two issuances of the same request: the serial, the
/// fingerprint, the dates (`validity_seconds` stays), the key identifiers' bytes (their
/// presence stays) and the signature; extensions sorted by OID (the order is free).
pub fn cert_fields(dir: &Dir, file: &str) -> serde_json::Value {
    let out = dir.pkirun(&["inspect", "--json", file]).success().stdout();
    let all: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut item = all[0]["items"][0].clone();
    let obj = item.as_object_mut().unwrap();
    for volatile in ["serial", "fingerprint_sha256", "not_before", "not_after"] {
        obj.remove(volatile);
    }
    if obj.get("subject_key_id").is_some_and(|v| !v.is_null()) {
        obj.insert("subject_key_id".into(), "(key id)".into());
    }
    if let Some(aki) = obj
        .get_mut("authority_key_id")
        .and_then(|a| a.as_object_mut())
    {
        aki.insert("key_id".into(), "(key id)".into());
    }
    if let Some(exts) = obj.get_mut("extensions").and_then(|e| e.as_array_mut()) {
        for e in exts.iter_mut() {
            if matches!(e["oid"].as_str(), Some("2.5.29.14" | "2.5.29.35")) {
                e["value"] = "(key id)".into();
            }
        }
        exts.sort_by(|a, b| a["oid"].as_str().cmp(&b["oid"].as_str()));
    }
    item
}

impl Dir {
    /// Runs `cfssl ARGS | cfssljson -bare PREFIX` in this directory, as the seeds do.
    pub fn cfssl_bare(&self, args: &[&str], prefix: &str) {
        require("cfssl", "golang-cfssl");
        require("cfssljson", "golang-cfssl");
        let cfssl = Command::new("cfssl")
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        assert!(
            cfssl.status.success(),
            "cfssl {} failed:\n{}",
            args.join(" "),
            String::from_utf8_lossy(&cfssl.stderr)
        );
        let mut json = Command::new("cfssljson")
            .args(["-bare", prefix])
            .current_dir(self.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        json.stdin.take().unwrap().write_all(&cfssl.stdout).unwrap();
        let out = json.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "cfssljson -bare {prefix} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A real nginx on 127.0.0.1 serving HTTPS with a certificate chain and requiring client
/// certificates (optionally checked against a CRL); stopped on drop. Its configuration, pid file
/// and logs live in a directory of their own beside the test directory.
pub struct Nginx {
    child: Child,
    pub port: u16,
    conf: tempfile::TempDir,
}

/// What an [`Nginx`] serves, as paths relative to the test directory.
pub struct NginxSite<'a> {
    /// The server's certificate followed by its chain (`ssl_certificate`).
    pub fullchain: &'a str,
    /// The server's key.
    pub key: &'a str,
    /// The CA certificates client certificates must chain to (`ssl_client_certificate`).
    pub client_ca: &'a str,
    /// The CRLs to check client certificates against (`ssl_crl`), if any.
    pub crl: Option<&'a str>,
}

impl Nginx {
    /// Starts nginx in the foreground (no daemon, no workers), waiting until it accepts.
    pub fn start(dir: &Dir, site: &NginxSite<'_>) -> Nginx {
        require("nginx", "nginx");
        let conf = tempfile::Builder::new()
            .prefix("nginx-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap();
        let port = free_port();
        let abs = |rel: &str| dir.join(rel).to_str().unwrap().to_string();
        let crl = site
            .crl
            .map(|c| format!("ssl_crl {};", abs(c)))
            .unwrap_or_default();
        let c = conf.path().to_str().unwrap();
        let text = format!(
            "daemon off;\nmaster_process off;\npid {c}/nginx.pid;\nerror_log {c}/error.log info;\n\
             events {{ worker_connections 16; }}\n\
             http {{\n  access_log {c}/access.log;\n  client_body_temp_path {c}/body;\n  \
             proxy_temp_path {c}/proxy;\n  fastcgi_temp_path {c}/fastcgi;\n  uwsgi_temp_path {c}/uwsgi;\n  \
             scgi_temp_path {c}/scgi;\n  server {{\n    listen 127.0.0.1:{port} ssl;\n    \
             server_name www.example.test;\n    ssl_certificate {};\n    ssl_certificate_key {};\n    \
             ssl_client_certificate {};\n    ssl_verify_client on;\n    ssl_verify_depth 3;\n    {crl}\n    \
             location / {{ return 200 \"hello $ssl_client_s_dn\\n\"; }}\n  }}\n}}\n",
            abs(site.fullchain),
            abs(site.key),
            abs(site.client_ca),
        );
        std::fs::write(conf.path().join("nginx.conf"), text).unwrap();
        let child = Command::new("nginx")
            .args(["-p", c, "-c", &format!("{c}/nginx.conf")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut nginx = Nginx { child, port, conf };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx exited with {status}:\n{}", nginx.log());
            }
            assert!(
                Instant::now() < deadline,
                "nginx did not start on port {port}:\n{}",
                nginx.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// nginx's error log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.conf.path().join("error.log")).unwrap_or_default()
    }

    /// `curl https://www.example.test:PORT/` trusting `ca`, with a client certificate and key if
    /// given; returns (HTTP status, body) — status 0 when the TLS handshake itself failed.
    pub fn get(&self, dir: &Dir, ca: &str, client: Option<(&str, &str)>) -> (u16, String) {
        require("curl", "curl");
        let mut args = vec![
            "-sS".to_string(),
            "--max-time".into(),
            "10".into(),
            "--resolve".into(),
            format!("www.example.test:{}:127.0.0.1", self.port),
            "--cacert".into(),
            ca.into(),
            "-o".into(),
            "-".into(),
            "-w".into(),
            "\n%{http_code}".into(),
        ];
        if let Some((cert, key)) = client {
            args.extend(["--cert".into(), cert.into(), "--key".into(), key.into()]);
        }
        args.push(format!("https://www.example.test:{}/", self.port));
        let out = Command::new("curl")
            .args(&args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", "0"));
        (code.trim().parse().unwrap_or(0), body.to_string())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends SIGINT to a child process, as Ctrl-C in its terminal would (without needing a `kill`
/// program on the machine).
pub fn interrupt(child: &std::process::Child) {
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
}
