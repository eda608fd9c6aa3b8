//! `pkirun SCRIPT --dry-run` (issue 11.4) on every shipped script: in an empty directory (or
//! one holding only the script's inputs) and again after the real run, nothing is written
//! (files, modes and times unchanged), the plan lists exactly the files the real run writes,
//! and the plan of an unchanged re-run changes nothing.

use std::collections::BTreeSet;

use crate::util::{Dir, repo};

/// A shipped script, its `-D` settings and the inputs it needs in its directory.
struct Case {
    script: &'static str,
    args: &'static [&'static str],
    setup: fn(&Dir),
    /// The script refuses to run twice (node-csr never replaces the key it made).
    once: bool,
}

fn nothing(_: &Dir) {}

const CASES: &[Case] = &[
    Case {
        script: "cockroach",
        args: &[],
        setup: nothing,
        once: false,
    },
    Case {
        script: "dm",
        args: &["-D", "ca_key_size=2048"],
        setup: nothing,
        once: false,
    },
    Case {
        script: "kubernetes-openssl",
        args: &["-D", "MASTER_IP=10.0.0.1"],
        setup: nothing,
        once: false,
    },
    Case {
        script: "kubernetes-easyrsa",
        args: &["-D", "MASTER_IP=10.0.0.1"],
        setup: nothing,
        once: false,
    },
    Case {
        script: "kubernetes-cfssl",
        args: &["-D", "MASTER_IP=10.0.0.1"],
        setup: nothing,
        once: false,
    },
    Case {
        script: "etcd",
        args: &["-D", "hosts=localhost,127.0.0.1"],
        setup: nothing,
        once: false,
    },
    Case {
        script: "site-ca",
        args: crate::site_ca::SITE,
        setup: |dir| {
            dir.create("pass.txt", "correct horse battery\n");
        },
        once: false,
    },
    Case {
        script: "node-csr",
        args: &["-D", "name=db7", "-D", "hosts=db7.db.internal,10.0.0.17"],
        setup: nothing,
        once: true,
    },
    Case {
        script: "bulk",
        args: &[],
        setup: |dir| {
            dir.create(
                "inventory.csv",
                std::fs::read(repo("scripts/inventory.example.csv")).unwrap(),
            );
        },
        once: false,
    },
    Case {
        script: "sign-csrs",
        args: &["-D", "allowed=*.db.internal,10.0.0.0/16"],
        setup: |dir| {
            dir.run_script(
                r#"mkdir("ca"); mkdir("csrs");
let ca = new_ca(gen_key("ecdsa", 384), #{ subject: "/CN=Cluster CA", days: 730 });
write_pair("ca/ca-key.pem", ca.key, "ca/ca.pem", ca.cert);
for n in ["db1", "db2"] {
    let k = gen_key("ecdsa", 256);
    write_csr(`csrs/${n}.csr`, new_csr(k, #{ subject: `/CN=${n}.db.internal`, san: [`DNS:${n}.db.internal`] }));
}"#,
                &[],
            )
            .success();
        },
        once: false,
    },
];

fn run(dir: &Dir, case: &Case, extra: &[&str]) -> crate::util::Run {
    let mut args: Vec<&str> = case.args.to_vec();
    args.extend_from_slice(extra);
    dir.run_repo_script(&format!("scripts/{}.rhai", case.script), &args)
}

/// Every directory under `root`, relative to it.
fn directories(root: &std::path::Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.insert(path.strip_prefix(root).unwrap().display().to_string());
                todo.push(path);
            }
        }
    }
    out
}

/// The plan as JSON, after checking that the dry run wrote nothing: every file with its
/// contents, mode and time as it was, and no directory made.
fn dry_run(dir: &Dir, case: &Case) -> serde_json::Value {
    let before = (dir.state(), directories(dir.path()));
    let out = run(dir, case, &["--dry-run", "--json", "-q"])
        .success()
        .stdout();
    let after = (dir.state(), directories(dir.path()));
    assert_eq!(after, before, "{}: the dry run wrote", case.script);
    // stdout is the plan alone (the script's own lines go to stderr with --json).
    serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("{}: stdout is not the plan ({e}):\n{out}", case.script))
}

/// A path with a random serial in its name (easy-rsa's `certs_by_serial/SERIAL.pem`) as one
/// name: each run draws its own serial.
fn serial_free(path: &str) -> String {
    match path.rsplit_once("certs_by_serial/") {
        Some((dir, _)) => format!("{dir}certs_by_serial/SERIAL.pem"),
        None => path.to_string(),
    }
}

fn paths(plan: &serde_json::Value, actions: &[&str]) -> BTreeSet<String> {
    plan["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| actions.contains(&f["action"].as_str().unwrap()))
        .map(|f| serial_free(f["path"].as_str().unwrap()))
        .collect()
}

#[test]
fn every_shipped_script_plans_exactly_what_it_writes_and_writes_nothing() {
    for case in CASES {
        let dir = Dir::new();
        (case.setup)(&dir);
        let inputs: BTreeSet<String> = dir.files().into_iter().collect();
        let plan = dry_run(&dir, case);
        let planned = paths(&plan, &["create", "replace"]);

        run(&dir, case, &["-q"]).success();
        let written: BTreeSet<String> = dir
            .files()
            .into_iter()
            .filter(|f| !inputs.contains(f))
            .map(|f| serial_free(&f))
            .collect();
        assert_eq!(
            planned, written,
            "{}: plan vs real run\n{plan:#}",
            case.script
        );

        if case.once {
            // The dry run refuses what the real re-run refuses, and writes nothing either.
            let before = dir.state();
            let dry = run(&dir, case, &["--dry-run", "-q"]).failure();
            let real = run(&dir, case, &["-q"]).failure();
            assert_eq!(dry, real, "{}", case.script);
            assert_eq!(dir.state(), before);
            continue;
        }
        // An unchanged re-run plans nothing.
        let again = dry_run(&dir, case);
        let changing = paths(&again, &["create", "replace", "remove", "chmod"]);
        assert!(
            changing.is_empty() && again["directories"].as_array().unwrap().is_empty(),
            "{}: an unchanged re-run plans {changing:?}\n{again:#}",
            case.script
        );
    }
}

/// A changed parameter after a real run: the plan names the file and the field that would
/// change, and the disk is untouched.
#[test]
fn a_changed_parameter_is_planned_field_by_field() {
    let dir = Dir::new();
    let case = &CASES[0];
    run(&dir, case, &["-q"]).success();
    let before = dir.state();
    let out = dir
        .run_repo_script(
            "scripts/cockroach.rhai",
            &[
                "-D",
                "hosts=localhost,db9.example.io",
                "--reissue",
                "changed",
                "--dry-run",
            ],
        )
        .success()
        .stdout();
    assert_eq!(dir.state(), before);
    assert!(out.contains("replace  node-certs/node.crt"), "{out}");
    assert!(
        out.contains(
            "subjectAltName: critical, DNS:localhost, DNS:node.example.io, IP Address:127.0.0.1 -> critical, DNS:localhost, DNS:db9.example.io"
        ),
        "{out}"
    );
    assert!(out.contains("0 to create, 1 to replace"), "{out}");
}

/// `exec` steps are listed, not run.
#[test]
fn exec_steps_are_listed_not_run() {
    let dir = Dir::new();
    let out = dir
        .run_repo_script(
            "scripts/kubernetes-openssl.rhai",
            &[
                "-D",
                "MASTER_IP=10.0.0.1",
                "-D",
                "dest=out",
                "--allow-exec",
                "--dry-run",
            ],
        )
        .success()
        .stdout();
    assert!(out.contains("  run      mkdir -p out (not run)"), "{out}");
    // The script's own lines say they report what was not done.
    assert!(out.contains("\n(dry run) ca.crt: CN = 10.0.0.1\n"), "{out}");
    assert!(
        out.contains("  run      cp ca.crt server.crt server.key out/ (not run)"),
        "{out}"
    );
    assert!(dir.files().is_empty(), "{:?}", dir.files());
    assert!(!dir.join("out").exists());
}

/// A batch's dry run checks what it would keep as the real batch does: after a row changes, the
/// plan stops on the same file for the same reason, and nothing is written.
#[test]
fn a_batch_plan_refuses_a_kept_output_that_no_longer_matches_its_row() {
    let case = &CASES[8];
    assert_eq!(case.script, "bulk");
    let dir = Dir::new();
    (case.setup)(&dir);
    run(&dir, case, &["-q"]).success();
    let inventory = dir.read("inventory.csv");
    let first_row = inventory.lines().nth(1).unwrap();
    let name = first_row.split(',').next().unwrap();
    dir.create(
        "inventory.csv",
        inventory.replacen(
            first_row,
            &format!("{name},{name}-renamed.db.internal,Example Corp,Databases"),
            1,
        ),
    );
    let before = (dir.state(), directories(dir.path()));
    let dry = run(&dir, case, &["--dry-run", "-q"]).failure();
    assert_eq!((dir.state(), directories(dir.path())), before);
    let real = run(&dir, case, &["-q"]).failure();
    assert!(dry.contains(&format!("certs/{name}.pem")), "{dry}");
    assert_eq!(dry, real);
}

/// A dry run refuses what the CA would refuse when it signs: a certificate that would outlive
/// it (sign-csrs with more days than the CA has left), and writes nothing.
#[test]
fn a_batch_plan_refuses_what_the_ca_would_refuse() {
    let case = &CASES[9];
    assert_eq!(case.script, "sign-csrs");
    let dir = Dir::new();
    (case.setup)(&dir);
    let before = (dir.state(), directories(dir.path()));
    let dry = run(&dir, case, &["-D", "days=1000", "--dry-run", "-q"]).failure();
    assert!(
        dry.contains("refusing to sign with the CA `CN = Cluster CA`"),
        "{dry}"
    );
    assert_eq!((dir.state(), directories(dir.path())), before);
    let real = run(&dir, case, &["-D", "days=1000", "-q"]).failure();
    assert!(
        real.contains("refusing to sign with the CA `CN = Cluster CA`"),
        "{real}"
    );
}
