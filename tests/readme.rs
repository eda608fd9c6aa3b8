//! The README's script examples run: every ```rhai block of README.md runs with the pkirun binary
//! in a fresh directory, so the documented API cannot drift from the real one.
//!
//! A block that needs files it does not make declares them in an HTML comment (invisible on a
//! rendered page) on the line before its fence, steps separated by `;`:
//!
//! ```text
//! <!-- readme-test: ca certs/ca.pem certs/ca-key.pem; copy scripts/inventory.example.csv inventory.csv -->
//! ```
//!
//! - `ca CERT KEY`: a self-signed ECDSA P-256 CA written at CERT and KEY (directories made);
//! - `copy REPO_FILE FILE`: a file of the repository copied to FILE;
//! - `mkdir DIR`: an empty directory;
//! - `mv FROM TO`: a file of the directory renamed (what an operator's `scp` does);
//! - `run SCRIPT ARGS...`: a script of the repository run with pkirun in the directory.
//!
//! A block that is deliberately not runnable is fenced ```rhai,ignore.

use std::collections::BTreeSet;

use crate::util::{Dir, repo};

/// How many runnable blocks the README has at least; fewer means blocks were lost or ignored.
const MIN_RUNNABLE: usize = 2;

/// The marker of a fixture comment.
const FIXTURE: &str = "<!-- readme-test:";

/// One ```rhai block of the README.
struct Block {
    /// The line of its opening fence (1-based), for messages.
    line: usize,
    /// The fixture steps declared before it.
    steps: Vec<String>,
    /// Whether it is fenced ```rhai,ignore.
    ignored: bool,
    /// The script.
    code: String,
}

/// Every ```rhai block of `readme`, in order.
fn rhai_blocks(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = readme.lines().enumerate().peekable();
    let mut previous = "";
    while let Some((i, line)) = lines.next() {
        let fence = line.trim_start();
        let Some(info) = fence.strip_prefix("```") else {
            previous = line;
            continue;
        };
        let mut code = String::new();
        for (_, body) in lines.by_ref() {
            if body.trim_start().starts_with("```") {
                break;
            }
            code.push_str(body);
            code.push('\n');
        }
        let mut words = info.split(',').map(str::trim);
        if words.next() == Some("rhai") {
            let steps = previous
                .trim()
                .strip_prefix(FIXTURE)
                .and_then(|rest| rest.strip_suffix("-->"))
                .map(|rest| {
                    rest.split(';')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            blocks.push(Block {
                line: i + 1,
                steps,
                ignored: words.any(|w| w == "ignore"),
                code,
            });
        }
        previous = "";
    }
    blocks
}

/// Prepares one fixture step of the block at `line` in `dir`.
fn prepare(dir: &Dir, line: usize, step: &str) {
    let words: Vec<&str> = step.split_whitespace().collect();
    match words.as_slice() {
        ["ca", cert, key] => {
            for file in [cert, key] {
                if let Some(parent) = dir.join(file).parent() {
                    std::fs::create_dir_all(parent).unwrap();
                }
            }
            dir.run_script(
                &format!(
                    "let key = gen_key(\"ecdsa\", 256);\n\
                     let ca = new_ca(key, #{{ subject: #{{ CN: \"README CA\" }}, days: 3650 }});\n\
                     write_pair(\"{key}\", key, \"{cert}\", ca.cert);\n"
                ),
                &[],
            )
            .success();
        }
        ["copy", from, to] => {
            dir.create(
                to,
                std::fs::read(repo(from))
                    .unwrap_or_else(|e| panic!("README.md:{line}: {from}: {e}")),
            );
        }
        ["mkdir", path] => std::fs::create_dir_all(dir.join(path)).unwrap(),
        ["mv", from, to] => std::fs::rename(dir.join(from), dir.join(to))
            .unwrap_or_else(|e| panic!("README.md:{line}: mv {from} {to}: {e}")),
        ["run", script, args @ ..] => {
            dir.run_repo_script(script, args).success();
        }
        _ => panic!("README.md:{line}: unknown fixture step `{step}` (ca, copy, mkdir, mv, run)"),
    }
}

#[test]
fn readme_rhai_blocks_run() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let blocks = rhai_blocks(&readme);
    let mut runnable = 0;
    for block in blocks.iter().filter(|b| !b.ignored) {
        let dir = Dir::new();
        for step in &block.steps {
            prepare(&dir, block.line, step);
        }
        let run = dir.run_script(&block.code, &[]);
        assert!(
            run.output.status.success(),
            "README.md:{}: the ```rhai block fails:\n{}\nstderr:\n{}",
            block.line,
            block.code,
            run.stderr()
        );
        runnable += 1;
    }
    assert!(
        runnable >= MIN_RUNNABLE,
        "README.md has {runnable} runnable ```rhai blocks, expected at least {MIN_RUNNABLE}"
    );
}

/// The script functions `pkirun functions --json` lists, by name.
/// The README's "Functions by area" table.
fn function_table() -> String {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    readme
        .split_once("Functions by area")
        .and_then(|(_, rest)| rest.split("\n\n").find(|p| p.trim_start().starts_with('|')))
        .expect("README.md has a `Functions by area` table")
        .to_string()
}

fn function_names(dir: &Dir) -> BTreeSet<String> {
    let out = dir.pkirun(&["functions", "--json"]).success().stdout();
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["signature"].as_str())
        .filter_map(|s| s.split_once('(').map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn readme_function_table_names_only_registered_functions() {
    let table = function_table();
    let known = function_names(&Dir::new());
    let mut checked = 0;
    for cell in table.split('`').skip(1).step_by(2) {
        // `gen_key`, `load_key`, `ca.sign(csr, opts)`, `key.pem(format)`; a bare `cert.subject`
        // is a property, which `pkirun functions` does not list.
        let (receiver, call) = match cell.split_once('(') {
            Some((head, _)) => (head.contains('.'), head),
            None => (cell.contains('.'), cell),
        };
        let name = call.rsplit('.').next().unwrap_or(call);
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if !is_name || (receiver && !cell.contains('(')) {
            continue;
        }
        assert!(
            known.contains(name),
            "README.md's function table names `{cell}`, but `pkirun functions` has no `{name}`"
        );
        checked += 1;
    }
    assert!(
        checked >= 40,
        "only {checked} functions checked in:\n{table}"
    );
}

#[test]
fn every_script_property_has_a_doc_and_is_named_in_the_readme_table() {
    let table = function_table();
    let properties = pkirun::script::properties();
    assert!(properties.len() >= 15, "{properties:?}");
    for p in &properties {
        // `get$subject(cert: Cert) -> String`: the receiver as scripts name it, and the name.
        let (name, rest) = p
            .signature
            .strip_prefix("get$")
            .and_then(|s| s.split_once('('))
            .unwrap_or_else(|| panic!("not a getter: {}", p.signature));
        let receiver = rest.split(':').next().unwrap_or_default();
        assert!(
            p.doc.trim().len() > 10,
            "{receiver}.{name}: no doc ({:?})",
            p.doc
        );
        assert!(
            table.contains(&format!("`{receiver}.{name}`")),
            "README.md's function table does not name the property `{receiver}.{name}`"
        );
    }
}
