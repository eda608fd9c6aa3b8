//! Bad input: each case fails with exit status 1 and one line on stderr that says what is wrong
//! and where, and leaves every file as it was.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{Dir, csr_verifies, repo, running_as_root};

/// Runs `script` (as `script.rhai`, outside `dir`) with `-C dir`, asserts it fails with one
/// error line and changes nothing in `dir`, and returns the message after `script.rhai:`
/// (`LINE:COL: ...`).
#[track_caller]
fn fails(dir: &Dir, script: &str, args: &[&str]) -> String {
    let before = dir.snapshot();
    let listing = dir.listing();
    let err = dir.run_script(script, args).failure();
    assert!(
        dir.snapshot() == before,
        "files changed although the script failed ({err})\nbefore:\n{listing}\nafter:\n{}",
        dir.listing()
    );
    after_script(&err)
}

/// The part of an error line after `script.rhai:`.
#[track_caller]
fn after_script(err: &str) -> String {
    let at = "script.rhai:";
    let i = err
        .find(at)
        .unwrap_or_else(|| panic!("the error does not name the script: {err}"));
    err[i + at.len()..].trim_end().to_string()
}

/// A P-256 key and a CA certificate for it, made by openssl in `dir`.
fn openssl_ca(dir: &Dir, key: &str, cert: &str) {
    dir.openssl_p256_self_signed_with(
        key,
        cert,
        &["-days", "2", "-subj", "/O=Errors/CN=Errors CA"],
    );
}

/// Sets up a CA and a CSR, then runs `sign` (an expression using `ca` and `csr`).
const SIGN_PRELUDE: &str = r#"let ca = new_ca(gen_key("ecdsa", 256), #{ subject: "/CN=CA" });
let csr = new_csr(gen_key("ecdsa", 256), #{ subject: "/CN=node" });
"#;

// ---- the script itself -----------------------------------------------------------------------

#[test]
fn a_known_function_given_other_argument_types_says_so_instead_of_unknown() {
    let dir = Dir::new();
    let err = fails(&dir, "let key = gen_key(256, \"ecdsa\");\n", &[]);
    assert_eq!(
        err,
        "1:11: `gen_key` was called with (integer, string), which it does not take \
         (`pkirun functions` shows its signature)"
    );
}

#[test]
fn an_error_inside_a_stdlib_module_points_at_the_calling_script_line() {
    let dir = Dir::new();
    dir.create(
        "ca-csr.json",
        r#"{ "CN": "x", "key": { "algo": "ecdsa", "size": 999 } }"#,
    );
    let err = fails(
        &dir,
        "import \"cfssl\" as cfssl;\n\nlet csr = cfssl::doc(\"ca-csr.json\", #{});\nlet ca = cfssl::initca(csr);\n",
        &[],
    );
    // The user's line first, the module's line after the message.
    assert!(
        err.starts_with("4:17: `ca-csr.json`: `key`: unsupported ecdsa key size 999"),
        "{err}"
    );
    assert!(err.contains("(in stdlib/cfssl.rhai:"), "{err}");
}

#[test]
fn a_script_syntax_error_names_the_script_line_and_column() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        "let key = gen_key(\"ecdsa\", 256);\nlet n = (1 +;\nwrite_key(\"k.pem\", key);\n",
        &[],
    );
    assert_eq!(err, "2:13: Unexpected ';'");
}

#[test]
fn an_unknown_function_is_named_with_a_pointer_to_pkirun_functions() {
    let dir = Dir::new();
    let err = fails(&dir, "let key = gen_keyy(\"ecdsa\", 256);\n", &[]);
    assert!(err.starts_with("1:11: unknown function `gen_keyy"), "{err}");
    assert!(
        err.ends_with("(run `pkirun functions` for the list)"),
        "{err}"
    );
}

// ---- values --------------------------------------------------------------------------------

#[test]
fn an_invalid_ip_address_in_a_san_is_refused_with_the_value() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        r#"let key = gen_key("ecdsa", 256);
let csr = new_csr(key, #{ subject: "/CN=node", san: ["DNS:node", "IP:300.1.1.1"] });
write_csr("node.csr", csr);
"#,
        &[],
    );
    assert_eq!(
        err,
        "2:11: `san`: invalid subject alternative name `IP:300.1.1.1`: `300.1.1.1` is not an IPv4 or IPv6 address"
    );
}

#[test]
fn an_invalid_dns_name_in_a_san_is_refused_with_the_value() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        r#"let key = gen_key("ecdsa", 256);
let csr = new_csr(key, #{ subject: "/CN=node", san: ["bad host"] });
"#,
        &[],
    );
    assert_eq!(
        err,
        "2:11: `san`: invalid subject alternative name `bad host`: character ` ` is not allowed in a DNS name"
    );
}

#[test]
fn an_unknown_key_usage_in_sign_options_is_named_with_the_known_ones() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        &format!(
            "{SIGN_PRELUDE}let crt = ca.sign(csr, #{{ key_usage: [\"digitalSignature\", \"fastSigning\"] }});\n"
        ),
        &[],
    );
    assert!(
        err.starts_with(
            "3:14: `key_usage`: unknown key usage `fastSigning` (known: digitalSignature, nonRepudiation, keyEncipherment,"
        ),
        "{err}"
    );
}

#[test]
fn an_unknown_extended_key_usage_is_named_with_the_known_ones() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        &format!(
            "{SIGN_PRELUDE}let crt = ca.sign(csr, #{{ ext_key_usage: [\"serverAuth\", \"webAuth\"] }});\n"
        ),
        &[],
    );
    assert!(
        err.starts_with(
            "3:14: `ext_key_usage`: unknown extended key usage `webAuth` (known: serverAuth, clientAuth,"
        ),
        "{err}"
    );
    assert!(err.ends_with("or a dotted OID)"), "{err}");
}

#[test]
fn an_unknown_key_algorithm_is_refused() {
    let dir = Dir::new();
    let err = fails(&dir, "let key = gen_key(\"dsa\", 2048);\n", &[]);
    assert_eq!(
        err,
        "1:11: unknown key algorithm `dsa` (expected `rsa` or `ecdsa`, e.g. \"rsa:2048\" or \"ecdsa:384\")"
    );
}

#[test]
fn an_unsupported_rsa_key_size_is_refused_with_the_supported_ones() {
    let dir = Dir::new();
    let err = fails(&dir, "let key = gen_key(\"rsa\", 1024);\n", &[]);
    assert_eq!(
        err,
        "1:11: unsupported rsa key size 1024 (supported: 2048, 3072, 4096)"
    );
}

#[test]
fn an_unknown_option_in_a_map_is_named() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        &format!("{SIGN_PRELUDE}let crt = ca.sign(csr, #{{ dayz: 3 }});\n"),
        &[],
    );
    assert!(
        err.starts_with("3:14: ca.sign: unknown option `dayz` (known: profile, days, hours,"),
        "{err}"
    );
}

#[test]
fn zero_days_is_a_clear_validity_error() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        &format!("{SIGN_PRELUDE}let crt = ca.sign(csr, #{{ days: 0 }});\n"),
        &[],
    );
    assert_eq!(
        err,
        "3:14: `days`: invalid validity: days must be positive, got 0"
    );
}

#[test]
fn a_ca_without_a_subject_is_refused() {
    let dir = Dir::new();
    let err = fails(
        &dir,
        "let ca = new_ca(gen_key(\"ecdsa\", 256), #{ days: 30 });\n",
        &[],
    );
    assert_eq!(
        err,
        "1:10: new_ca: `subject` is required (e.g. #{ CN: \"My CA\" })"
    );
}

// ---- files that are not what they should be ------------------------------------------------

const GARBAGE_KEY: &str =
    "-----BEGIN PRIVATE KEY-----\nMIG2AgEA!!!!not*base64~~~~\n-----END PRIVATE KEY-----\n";
const GARBAGE_CERT: &str =
    "-----BEGIN CERTIFICATE-----\nMIIB!!!!not*base64~~~~\n-----END CERTIFICATE-----\n";

/// The first `lines` lines of a file, i.e. the file cut short before its END line.
fn truncated(dir: &Dir, rel: &str, lines: usize) -> String {
    let text = dir.read(rel);
    let cut: Vec<&str> = text.lines().take(lines).collect();
    let begins = cut.iter().filter(|l| l.starts_with("-----BEGIN")).count();
    let ends = cut.iter().filter(|l| l.starts_with("-----END")).count();
    assert!(
        ends < begins,
        "{rel}: cutting at {lines} lines leaves no block open"
    );
    cut.join("\n") + "\n"
}

#[test]
fn load_key_refuses_malformed_pem_naming_the_file() {
    let dir = Dir::new();
    dir.create("garbage.key", GARBAGE_KEY);
    let err = fails(&dir, "let key = load_key(\"garbage.key\");\n", &[]);
    assert!(
        err.starts_with("1:11: `garbage.key`: malformed PEM: "),
        "{err}"
    );
}

#[test]
fn load_key_refuses_truncated_pem_naming_the_file() {
    let dir = Dir::new();
    dir.openssl_ec_key("P-256", "whole.key");
    dir.create("cut.key", truncated(&dir, "whole.key", 3));
    let err = fails(&dir, "let key = load_key(\"cut.key\");\n", &[]);
    assert_eq!(
        err,
        "1:11: `cut.key`: malformed PEM: a BEGIN line has no matching END line (truncated file?)"
    );
}

#[test]
fn load_key_reports_a_truncated_key_after_an_ec_parameters_block_as_truncated() {
    let dir = Dir::new();
    dir.openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "secp384r1",
        "-out",
        "whole.key",
    ]);
    assert_eq!(
        dir.pem_labels("whole.key"),
        ["EC PARAMETERS", "EC PRIVATE KEY"]
    );
    dir.create("cut.key", truncated(&dir, "whole.key", 6));
    let err = fails(&dir, "let key = load_key(\"cut.key\");\n", &[]);
    assert_eq!(
        err,
        "1:11: `cut.key`: malformed PEM: a BEGIN line has no matching END line (truncated file?)"
    );
}

#[test]
fn load_cert_refuses_malformed_pem_naming_the_file() {
    let dir = Dir::new();
    dir.create("garbage.crt", GARBAGE_CERT);
    let err = fails(&dir, "let crt = load_cert(\"garbage.crt\");\n", &[]);
    assert!(
        err.starts_with("1:11: `garbage.crt`: malformed PEM: "),
        "{err}"
    );
}

#[test]
fn load_cert_refuses_truncated_pem_naming_the_file() {
    let dir = Dir::new();
    openssl_ca(&dir, "ca.key", "ca.crt");
    dir.create("cut.crt", truncated(&dir, "ca.crt", 5));
    let err = fails(&dir, "let crt = load_cert(\"cut.crt\");\n", &[]);
    assert_eq!(
        err,
        "1:11: `cut.crt`: malformed PEM: a BEGIN line has no matching END line (truncated file?)"
    );
}

#[test]
fn load_cert_refuses_a_bundle_whose_last_certificate_is_truncated() {
    let dir = Dir::new();
    openssl_ca(&dir, "ca.key", "ca.crt");
    let bundle = dir.read("ca.crt") + truncated(&dir, "ca.crt", 5).as_str();
    dir.create("bundle.crt", bundle);
    let err = fails(&dir, "let crt = load_cert(\"bundle.crt\");\n", &[]);
    assert_eq!(
        err,
        "1:11: `bundle.crt`: malformed PEM: a BEGIN line has no matching END line (truncated file?)"
    );
}

#[test]
fn load_ca_refuses_a_key_that_does_not_match_the_certificate() {
    let dir = Dir::new();
    openssl_ca(&dir, "ca.key", "ca.crt");
    dir.openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "prime256v1",
        "-noout",
        "-out",
        "other.key",
    ]);
    let err = fails(
        &dir,
        "let ca = load_ca(\"ca.crt\", \"other.key\");\nwrite_cert(\"copy.crt\", ca.cert);\n",
        &[],
    );
    assert!(
        err.starts_with(
            "1:10: `ca.crt` + `other.key`: CA key does not match the CA certificate (the certificate's public key is ECDSA P-256"
        ),
        "{err}"
    );
}

#[test]
fn load_csr_refuses_a_request_whose_signature_does_not_verify() {
    let dir = Dir::new();
    dir.openssl_p256_csr("node.key", "/O=Errors/CN=node1.example.io", "good.csr");
    // Flip one bit of the subject's CN ("node1" becomes "oode1"): still a well-formed request,
    // but the signature no longer covers what it says.
    let mut der = dir.pem_der("good.csr", "CERTIFICATE REQUEST");
    let at = der
        .windows(5)
        .position(|w| w == b"node1")
        .expect("the CN in the DER");
    der[at] ^= 0x01;
    dir.create(
        "bad.csr",
        pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der)),
    );
    let subject = dir.openssl(&["req", "-in", "bad.csr", "-noout", "-subject"]);
    assert_eq!(subject, "subject=O = Errors, CN = oode1.example.io\n");
    assert!(csr_verifies(&dir, "good.csr").0);
    assert!(!csr_verifies(&dir, "bad.csr").0, "openssl agrees it is bad");

    let err = fails(
        &dir,
        r#"let ca = new_ca(gen_key("ecdsa", 256), #{ subject: "/CN=CA" });
let csr = load_csr("bad.csr");
write_cert("node1.crt", ca.sign(csr, #{}));
"#,
        &[],
    );
    assert_eq!(
        err,
        "2:11: `bad.csr`: certificate signing request signature does not verify (the request was altered or signed with another key)"
    );
}

// ---- writing -------------------------------------------------------------------------------

#[test]
fn writing_over_an_existing_key_is_refused_without_force_and_done_with_it() {
    let dir = Dir::new();
    let script = "write_key(\"node.key\", gen_key(\"ecdsa\", 256));\n";
    dir.run_script(script, &[]).success();
    // A mode pkirun would not choose, to see that a refused write keeps it.
    std::fs::set_permissions(dir.join("node.key"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = dir.read("node.key");

    let err = fails(&dir, script, &[]);
    assert_eq!(
        err,
        "1:1: `node.key`: refusing to overwrite existing file (pass --force, or overwrite: true in the script)"
    );
    assert_eq!(dir.read("node.key"), before);
    assert_eq!(dir.mode("node.key"), 0o640);

    dir.run_script(script, &["--force"]).success();
    assert_eq!(dir.files(), ["node.key"], "no temporary file is left");
    assert_ne!(dir.read("node.key"), before, "--force writes the new key");
    assert_eq!(dir.mode("node.key"), 0o400);
    dir.openssl(&["pkey", "-in", "node.key", "-check", "-noout"]);
}

/// A layout where the working directory is `work/` inside `dir`, so that `dir` is its parent
/// and a snapshot of `dir` shows anything written next to the working directory. Returns the
/// script's error after `script.rhai:`.
fn fails_in_work(dir: &Dir, script: &str) -> String {
    dir.create("script.rhai", script);
    std::fs::create_dir(dir.join("work")).unwrap();
    let before = dir.snapshot();
    let err = dir.pkirun(&["script.rhai", "-C", "work"]).failure();
    assert!(
        dir.snapshot() == before,
        "files changed although the script failed ({err}):\n{}",
        dir.listing()
    );
    after_script(&err)
}

#[test]
fn a_relative_path_that_climbs_out_of_the_working_directory_is_refused() {
    let dir = Dir::new();
    let err = fails_in_work(
        &dir,
        "write_key(\"../outside.key\", gen_key(\"ecdsa\", 256));\n",
    );
    let root = std::fs::canonicalize(dir.join("work")).unwrap();
    assert_eq!(
        err,
        format!(
            "1:1: `../outside.key`: path is outside the working directory `{}` (paths are relative to -C DIR)",
            root.display()
        )
    );
    assert!(!dir.join("outside.key").exists());
}

#[test]
fn an_absolute_path_outside_the_working_directory_is_refused() {
    let dir = Dir::new();
    assert!(
        !Path::new("/etc/x").exists(),
        "/etc/x exists before the test"
    );
    let err = fails_in_work(&dir, "write_key(\"/etc/x\", gen_key(\"ecdsa\", 256));\n");
    assert!(
        err.starts_with("1:1: `/etc/x`: path is outside the working directory `"),
        "{err}"
    );
    assert!(!Path::new("/etc/x").exists(), "/etc/x was created");
}

/// A directory its user may write to and search but not list (a drop box, mode -wx) still takes
/// new files, from single writes and from a batch: writing needs no read permission on it.
#[test]
fn a_directory_that_cannot_be_listed_still_takes_new_files() {
    let dir = Dir::new();
    let mode = |rel: &str, m: u32| {
        std::fs::set_permissions(dir.join(rel), std::fs::Permissions::from_mode(m)).unwrap();
    };
    dir.create(
        "script.rhai",
        "write(\"drop/a.pem\", \"text\\n\");\nwrite_key(\"drop/a.key\", gen_key(\"ecdsa:256\"));\n\
         write(\"drop/a.pem\", \"new\\n\", #{ overwrite: true });\n\
         let ca = new_ca(gen_key(\"ecdsa:256\"), #{ subject: \"/CN=Drop CA\" });\n\
         ca.issue_batch([#{ name: \"n1\" }, #{ name: \"n2\" }], #{ out: \"drop/{name}\", key: \"ecdsa:256\" });\n",
    );
    mode("script.rhai", 0o644);
    std::fs::create_dir(dir.join("drop")).unwrap();
    let as_root = running_as_root();
    let args = ["script.rhai", "-C", "."];
    let run = if as_root {
        mode("", 0o755);
        mode("drop", 0o733);
        dir.pkirun_as_nobody(&args)
    } else {
        mode("drop", 0o300);
        dir.pkirun(&args)
    };
    mode("drop", 0o755);
    run.success();
    assert_eq!(dir.read("drop/a.pem"), "new\n");
    assert_eq!(dir.mode("drop/a.key"), 0o400);
    // a.pem, a.key and the batch's two pairs, nothing else.
    assert_eq!(
        std::fs::read_dir(dir.join("drop")).unwrap().count(),
        6,
        "{}",
        dir.listing()
    );
    assert!(
        dir.read("drop/n2.pem")
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
}

/// Runs `script` with the working directory `ro/` inside `dir`, which the user running pkirun
/// cannot write: as root (CI), pkirun runs as nobody in a root-owned 0755 directory; otherwise
/// `ro/` is mode 0500. Asserts nothing changed and returns the error line.
fn fails_unwritable(dir: &Dir, script: &str) -> String {
    let mode = |rel: &str, m: u32| {
        std::fs::set_permissions(dir.join(rel), std::fs::Permissions::from_mode(m)).unwrap();
    };
    dir.create("script.rhai", script);
    mode("script.rhai", 0o644);
    std::fs::create_dir(dir.join("ro")).unwrap();
    let as_root = running_as_root();
    if as_root {
        mode("", 0o755);
        mode("ro", 0o755);
    } else {
        mode("ro", 0o500);
    }
    let before = dir.snapshot();
    let args = ["script.rhai", "-C", "ro"];
    let run = if as_root {
        dir.pkirun_as_nobody(&args)
    } else {
        dir.pkirun(&args)
    };
    let after = dir.snapshot();
    if !as_root {
        mode("ro", 0o700);
    }
    let err = run.failure();
    assert!(after == before, "files changed ({err}):\n{}", dir.listing());
    assert_eq!(
        std::fs::read_dir(dir.join("ro")).unwrap().count(),
        0,
        "nothing in ro/, not even a temporary file"
    );
    err
}

#[test]
fn an_unwritable_directory_gives_a_permission_error_and_stays_empty() {
    let dir = Dir::new();
    let err = fails_unwritable(&dir, "write_key(\"a.key\", gen_key(\"ecdsa\", 256));\n");
    let err = after_script(&err);
    assert!(
        err.starts_with("1:1: `a.key`: cannot write: permission denied"),
        "{err}"
    );
}

#[test]
fn an_unwritable_directory_error_names_no_temporary_file() {
    let dir = Dir::new();
    let err = fails_unwritable(&dir, "write(\"a.txt\", \"x\");\n");
    assert!(err.contains("`a.txt`: cannot write"), "{err}");
    assert!(!err.contains(".pkirun-"), "{err}");
}

// ---- the CLI's own reports -----------------------------------------------------------------

/// Names of the functions registered under src/script/ with `func!` or
/// `FuncRegistration::new` (one per overload).
fn registered_functions() -> Vec<String> {
    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(Path::new(&repo("src/script")), &mut files);
    let mut names: Vec<String> = Vec::new();
    for file in files {
        let src = std::fs::read_to_string(file).unwrap();
        for marker in ["func!(", "FuncRegistration::new("] {
            names.extend(
                src.split(marker)
                    .skip(1)
                    // The macro's own definition (`FuncRegistration::new($name)`) names none.
                    .filter(|call| !call.trim_start().starts_with('$'))
                    .filter_map(|call| call.split('"').nth(1).map(str::to_string))
                    .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
            );
        }
    }
    names.sort();
    names
}

#[test]
fn pkirun_functions_lists_every_function_with_a_doc_line() {
    let dir = Dir::new();
    let out = dir.pkirun(&["functions"]).success().stdout();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.len() % 2 == 0, "signature/doc pairs:\n{out}");
    let mut listed: Vec<String> = Vec::new();
    for pair in lines.chunks(2) {
        let (sig, doc) = (pair[0], pair[1]);
        assert!(
            !sig.starts_with(' ') && sig.contains('(') && sig.contains(')'),
            "not a signature: {sig:?}"
        );
        let doc_text = doc
            .strip_prefix("    ")
            .unwrap_or_else(|| panic!("{sig}: doc line is not indented: {doc:?}"));
        assert!(
            doc_text.trim().len() > 10,
            "{sig}: empty or stub doc line {doc:?}"
        );
        let name = &sig[..sig.find('(').unwrap()];
        listed.push(name.to_string());
    }
    listed.sort();

    let registered = registered_functions();
    assert!(registered.len() >= 30, "{registered:?}");
    assert_eq!(listed, registered, "every registered overload is listed");
    // Everything the README's table promises is there.
    let names: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    for f in [
        "param",
        "force",
        "allow_exec",
        "gen_key",
        "load_key",
        "write_key",
        "pem",
        "new_csr",
        "load_csr",
        "write_csr",
        "text",
        "new_ca",
        "load_ca",
        "sign",
        "issue",
        "load_cert",
        "write_cert",
        "write_pair",
        "info",
        "mkdir",
        "exists",
        "read",
        "write",
        "copy",
        "remove",
        "list",
        "chmod",
        "inspect",
        "join",
        "exec",
    ] {
        assert!(names.contains(f), "`{f}` missing from pkirun functions");
    }

    let json: serde_json::Value =
        serde_json::from_str(&dir.pkirun(&["functions", "--json"]).success().stdout()).unwrap();
    let all = json.as_array().unwrap();
    assert_eq!(all.len(), listed.len());
    for f in all {
        assert!(!f["signature"].as_str().unwrap().is_empty(), "{f}");
        assert!(!f["doc"].as_str().unwrap().trim().is_empty(), "{f}");
    }
}

/// The script API as it stood before the binding layer was reshaped (issue 13): every
/// signature and doc text, whatever order `pkirun functions` lists them in. A change to the API
/// updates `tests/data/functions.snapshot.json` on purpose
/// (`pkirun functions --json > tests/data/functions.snapshot.json`).
#[test]
fn pkirun_functions_json_matches_the_committed_snapshot() {
    let dir = Dir::new();
    let parse = |text: &str| -> BTreeSet<(String, String)> {
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        json.as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["signature"].as_str().unwrap().to_string(),
                    f["doc"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let now = parse(&dir.pkirun(&["functions", "--json"]).success().stdout());
    let snapshot =
        parse(&std::fs::read_to_string(repo("tests/data/functions.snapshot.json")).unwrap());
    let added: Vec<_> = now.difference(&snapshot).collect();
    let removed: Vec<_> = snapshot.difference(&now).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "script API differs from tests/data/functions.snapshot.json\nadded: {added:#?}\nremoved: {removed:#?}"
    );
}

#[test]
fn pkirun_inspect_json_shows_a_certificate_with_its_sans() {
    let dir = Dir::new();
    dir.run_script(
        r#"
let ca = new_ca(gen_key("ecdsa", 256), #{ subject: "/CN=Inspect CA" });
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ O: "Inspect", CN: "node1" }, san: ["node1.example.io", "IP:10.0.0.1", "::1"], profile: "peer" });
write_cert("node1.crt", r.cert);
"#,
        &[],
    )
    .success();
    let out = dir
        .pkirun(&["inspect", "--json", "node1.crt"])
        .success()
        .stdout();
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let files = json.as_array().unwrap();
    assert_eq!(files.len(), 1, "{out}");
    assert_eq!(files[0]["file"], "node1.crt");
    let items = files[0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{out}");
    let cert = &items[0];
    assert_eq!(cert["kind"], "certificate");
    assert_eq!(
        cert["san"],
        serde_json::json!(["DNS:node1.example.io", "IP:10.0.0.1", "IP:::1"])
    );
    assert_eq!(cert["subject"]["text"], "O = Inspect, CN = node1");
    assert_eq!(cert["issuer"]["text"], "CN = Inspect CA");
    assert_eq!(
        cert["ext_key_usage"],
        serde_json::json!(["serverAuth", "clientAuth"])
    );
}

#[test]
fn a_mistyped_define_is_refused_before_anything_is_written_with_a_suggestion() {
    let dir = Dir::new();
    let run = dir.pkirun(&[&repo("scripts/cockroach.rhai"), "-D", "host=db1.example.io"]);
    let err = run.failure();
    assert!(
        err.starts_with("error: `-D host`: ") && err.contains("cockroach.rhai reads no parameter `host`; did you mean `hosts`? (it reads: ca_days, config, days, encrypt_ca, hosts, key_size, nodes, user, users)"),
        "{err}"
    );
    assert!(dir.files().is_empty(), "{}", dir.listing());
}

#[test]
fn a_define_for_a_computed_parameter_name_is_refused_with_the_reason() {
    let dir = Dir::new();
    dir.create("s.rhai", "let n = \"da\" + \"ys\";\nprint(param(n, 1));\n");
    let err = dir.pkirun(&["s.rhai", "-D", "days=3"]).failure();
    assert!(
        err.contains("reads no parameter `days`; a `param` call with a computed name cannot be set with -D: write the name as a string literal (it reads: none)"),
        "{err}"
    );
}

#[test]
fn script_help_shows_the_header_and_every_parameter_with_its_default() {
    let dir = Dir::new();
    let out = dir
        .pkirun(&[&repo("scripts/cockroach.rhai"), "--help"])
        .success()
        .stdout();
    assert!(
        out.starts_with("CockroachDB certificates, step for step"),
        "{out}"
    );
    for line in [
        "Parameters (-D NAME=VALUE) and their defaults:",
        "  hosts       [\"localhost\", \"node.example.io\", \"127.0.0.1\"]",
        "  key_size    2048",
        "  user        \"roach\"",
        "  encrypt_ca  false",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    assert!(dir.files().is_empty());
    // Every shipped script has a header and lists what it reads.
    for entry in std::fs::read_dir(repo("scripts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rhai") {
            let out = dir
                .pkirun(&[path.to_str().unwrap(), "--help"])
                .success()
                .stdout();
            assert!(
                !out.starts_with("Usage:") && out.contains("\nUsage: pkirun "),
                "{}: no header comment\n{out}",
                path.display()
            );
        }
    }
}

#[test]
fn a_runaway_script_stops_at_its_limits_naming_the_limit_and_the_flag() {
    let dir = Dir::new();
    for (script, flags, message) in [
        (
            "loop {}",
            &["--max-operations", "100000"][..],
            "the script went over its limit of 100000 operations (raise it with --max-operations N)",
        ),
        (
            "let s = \"x\"; loop { s += s; }",
            &["--max-string-size", "4096"][..],
            "the script went over its limit of 4096 bytes in a string (raise it with --max-string-size N)",
        ),
        (
            "let a = []; loop { a.push(1); }",
            &["--max-array-size", "1000"][..],
            "the script went over its limit of 1000 items in an array (raise it with --max-array-size N)",
        ),
        (
            "let m = #{}; let i = 0; loop { m.set(`k${i}`, i); i += 1; }",
            &["--max-map-size", "100", "--max-operations", "10000000"][..],
            "the script went over its limit of 100 entries in a map (raise it with --max-map-size N)",
        ),
        (
            "fn f(n) { f(n + 1) } f(0);",
            &[][..],
            "the script went over its limit of 64 nested function calls (raise it with --max-call-depth N)",
        ),
    ] {
        let err = dir.run_script(script, flags).failure();
        assert!(err.trim_end().ends_with(message), "{script}: {err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}

#[test]
fn ctrl_c_stops_a_script_between_steps_leaving_whole_files_and_saying_how_to_finish() {
    let dir = Dir::new();
    let script = dir.create(
        "../ctrl-c.rhai",
        "write(\"first.txt\", \"whole\\n\");\nlet i = 0;\nloop { i += 1; }\n",
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pkirun"))
        .args([script.to_str().unwrap(), "-C", dir.path().to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the script is past its first step, then interrupt it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !dir.join("first.txt").exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    crate::util::interrupt(&child);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("ctrl-c.rhai:3:")
            && stderr.trim_end().ends_with(
                "interrupted (Ctrl-C): the files written so far are whole; run the same command again to finish"
            ),
        "{stderr}"
    );
    assert_eq!(dir.read("first.txt"), "whole\n");
    std::fs::remove_file(script).unwrap();
}

#[test]
fn a_file_name_with_a_control_character_is_refused_and_nothing_is_written() {
    let dir = Dir::new();
    let err = dir
        .run_script("write(\"a\\nb.txt\", \"x\");", &[])
        .failure();
    assert!(
        err.contains("`a\\nb.txt`")
            && err.contains("file name contains the control character U+000A (refused)"),
        "{err}"
    );
    assert!(dir.files().is_empty(), "{}", dir.listing());
}

#[test]
fn a_cfssl_json_of_the_wrong_shape_names_the_field_in_our_words() {
    let dir = Dir::new();
    dir.create("csr.json", r#"{"CN": "x", "hosts": "a.example"}"#);
    dir.create(
        "ca-config.json",
        r#"{"signing": {"profiles": {"www": {"usages": "server auth", "expiry": "1h"}}}}"#,
    );
    let err = dir.run_script(r#"cfssl_csr("csr.json");"#, &[]).failure();
    assert!(
        err.trim_end().ends_with(
            "`csr.json`: not a valid cfssl certificate request: `hosts`: expected a list (JSON array), found the string \"a.example\" (line 1, column 32)"
        ),
        "{err}"
    );
    let err = dir
        .run_script(r#"cfssl_profile("ca-config.json", "www");"#, &[])
        .failure();
    assert!(
        err.contains("`signing.profiles.www.usages`: expected a list (JSON array), found the string \"server auth\""),
        "{err}"
    );
    assert!(!err.contains("sequence"), "{err}");
}
