//! Re-runs notice drift (issue 10.2), on every shipped procedure that writes certificates:
//! an unchanged re-run writes nothing; a changed SAN, subject field, key size or validity stops
//! the run with one line naming the file and the field, writing nothing; `--reissue changed`
//! re-issues only what differs and keeps its key; a key of another size needs `--rekey`;
//! `--reissue never` keeps what is there with a warning. Re-issued files are checked with openssl.

use crate::util::Dir;

/// How a re-run is changed: other `-D` parameters, or an edit of a JSON file the procedure
/// reads (the cfssl procedures take their parameters from files once they exist).
enum Change {
    Args(&'static [&'static str]),
    Json(&'static str, fn(&mut serde_json::Value)),
}

/// One kind of change and what the refusal must say.
struct Drifted {
    change: Change,
    /// The file the refusal names.
    file: &'static str,
    /// The phrase it must contain.
    phrase: &'static str,
}

/// A shipped procedure and the changes tried on it.
struct Procedure {
    script: &'static str,
    /// The first run's arguments.
    first: &'static [&'static str],
    /// The re-runs' arguments (the cfssl procedures read what the first run wrote).
    args: &'static [&'static str],
    ca: &'static str,
    cert: &'static str,
    key: &'static str,
    san: Drifted,
    subject: Option<Drifted>,
    key_size: Drifted,
    validity: Drifted,
}

fn procedures() -> Vec<Procedure> {
    vec![
        Procedure {
            script: "scripts/cockroach.rhai",
            first: &[],
            args: &[],
            ca: "node-certs/ca.crt",
            cert: "node-certs/node.crt",
            key: "node-certs/node.key",
            san: Drifted {
                change: Change::Args(&["-D", "hosts=localhost,db1.example.io"]),
                file: "node-certs/node.crt",
                phrase: "SAN differs: has DNS:node.example.io, IP:127.0.0.1, asked DNS:db1.example.io",
            },
            subject: None,
            key_size: Drifted {
                change: Change::Args(&["-D", "key_size=3072"]),
                file: "my-safe-directory/ca.key",
                phrase: "key differs: has RSA 2048, asked RSA 3072",
            },
            validity: Drifted {
                change: Change::Args(&["-D", "days=30"]),
                file: "node-certs/node.crt",
                phrase: "validity differs: has 365 days, asked 30 days",
            },
        },
        Procedure {
            script: "scripts/dm.rhai",
            first: &[],
            args: &[],
            ca: "ca.pem",
            cert: "worker-cert.pem",
            key: "worker-key.pem",
            san: Drifted {
                change: Change::Args(&["-D", "workers=10.0.1.4"]),
                file: "worker-cert.pem",
                phrase: "SAN differs: has IP:172.16.10.14, IP:172.16.10.15, IP:172.16.10.16, asked IP:10.0.1.4",
            },
            subject: Some(Drifted {
                change: Change::Args(&["-D", "worker_cn=dm-worker"]),
                file: "worker-cert.pem",
                phrase: "subject differs: has CN=dm (UTF8String), asked CN=dm-worker (UTF8String)",
            }),
            key_size: Drifted {
                change: Change::Args(&["-D", "key_size=3072"]),
                file: "master-key.pem",
                phrase: "key differs: has RSA 2048, asked RSA 3072",
            },
            validity: Drifted {
                change: Change::Args(&["-D", "days=30"]),
                file: "master-cert.pem",
                phrase: "validity differs: has 365 days, asked 30 days",
            },
        },
        Procedure {
            script: "scripts/kubernetes-openssl.rhai",
            first: &["-D", "MASTER_IP=10.0.0.1"],
            args: &["-D", "MASTER_IP=10.0.0.1"],
            ca: "ca.crt",
            cert: "server.crt",
            key: "server.key",
            san: Drifted {
                change: Change::Args(&["-D", "MASTER_CLUSTER_IP=10.96.0.2"]),
                file: "server.crt",
                phrase: "SAN differs: has IP:10.96.0.1, asked IP:10.96.0.2",
            },
            subject: Some(Drifted {
                change: Change::Args(&["-D", "organization=Acme"]),
                file: "server.crt",
                phrase: "subject differs",
            }),
            key_size: Drifted {
                change: Change::Args(&["-D", "key_size=3072"]),
                file: "ca.key",
                phrase: "key differs: has RSA 2048, asked RSA 3072",
            },
            validity: Drifted {
                change: Change::Args(&["-D", "days=3650"]),
                file: "server.crt",
                phrase: "validity differs: has 10000 days, asked 3650 days",
            },
        },
        Procedure {
            script: "scripts/kubernetes-easyrsa.rhai",
            first: &["-D", "MASTER_IP=10.0.0.1"],
            args: &["-D", "MASTER_IP=10.0.0.1"],
            ca: "pki/ca.crt",
            cert: "pki/issued/server.crt",
            key: "pki/private/server.key",
            san: Drifted {
                change: Change::Args(&["-D", "MASTER_CLUSTER_IP=10.96.0.2"]),
                file: "pki/issued/server.crt",
                phrase: "SAN differs: has IP:10.96.0.1, asked IP:10.96.0.2",
            },
            subject: Some(Drifted {
                change: Change::Args(&["-D", "req_cn=Cluster CA"]),
                file: "pki/ca.crt",
                phrase: "subject differs",
            }),
            key_size: Drifted {
                change: Change::Args(&["-D", "key_size=3072"]),
                file: "pki/private/ca.key",
                phrase: "key differs: has RSA 2048, asked RSA 3072",
            },
            validity: Drifted {
                change: Change::Args(&["-D", "days=825"]),
                file: "pki/issued/server.crt",
                phrase: "validity differs: has 10000 days, asked 825 days",
            },
        },
        Procedure {
            script: "scripts/etcd.rhai",
            first: &[],
            args: &[],
            ca: "certs/ca.pem",
            cert: "certs/etcd1.pem",
            key: "certs/etcd1-key.pem",
            san: Drifted {
                change: Change::Json("config/req-csr.json", |v| {
                    v["hosts"].as_array_mut().unwrap().push("10.0.0.9".into());
                }),
                file: "certs/etcd1.pem",
                phrase: "SAN differs: has no IP:10.0.0.9, asked IP:10.0.0.9",
            },
            subject: Some(Drifted {
                change: Change::Json("config/req-csr.json", |v| v["CN"] = "etcd-member".into()),
                file: "certs/etcd1.pem",
                phrase: "subject differs",
            }),
            key_size: Drifted {
                change: Change::Json("config/req-csr.json", |v| v["key"]["size"] = 256.into()),
                file: "certs/etcd1-key.pem",
                phrase: "key differs: has ECDSA P-384, asked ECDSA P-256",
            },
            validity: Drifted {
                change: Change::Json("config/ca-config.json", |v| {
                    v["signing"]["default"]["expiry"] = "720h".into();
                }),
                file: "certs/etcd1.pem",
                phrase: "validity differs: has 365 days, asked 30 days",
            },
        },
        Procedure {
            script: "scripts/kubernetes-cfssl.rhai",
            first: &["-D", "MASTER_IP=10.0.0.1"],
            args: &[],
            ca: "ca.pem",
            cert: "server.pem",
            key: "server-key.pem",
            san: Drifted {
                change: Change::Json("server-csr.json", |v| {
                    v["hosts"].as_array_mut().unwrap().push("10.0.0.77".into());
                }),
                file: "server.pem",
                phrase: "SAN differs: has no IP:10.0.0.77, asked IP:10.0.0.77",
            },
            subject: Some(Drifted {
                change: Change::Json("server-csr.json", |v| v["CN"] = "kube-apiserver".into()),
                file: "server.pem",
                phrase: "subject differs",
            }),
            key_size: Drifted {
                change: Change::Json("server-csr.json", |v| v["key"]["size"] = 3072.into()),
                file: "server-key.pem",
                phrase: "key differs: has RSA 2048, asked RSA 3072",
            },
            validity: Drifted {
                change: Change::Json("ca-config.json", |v| {
                    v["signing"]["profiles"]["kubernetes"]["expiry"] = "720h".into();
                }),
                file: "server.pem",
                phrase: "validity differs: has 365 days, asked 30 days",
            },
        },
    ]
}

/// Runs `p` with `extra` arguments after applying `change` (a JSON edit is made on disk and
/// stays; undo it with the returned original text).
fn run_changed(
    dir: &Dir,
    p: &Procedure,
    change: &Change,
    extra: &[&str],
) -> (crate::util::Run, Option<(String, String)>) {
    let mut args: Vec<&str> = p.args.to_vec();
    let mut restore = None;
    match change {
        Change::Args(more) => args.extend_from_slice(more),
        Change::Json(file, edit) => {
            let original = dir.read(file);
            let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
            edit(&mut v);
            std::fs::write(dir.join(file), serde_json::to_string_pretty(&v).unwrap()).unwrap();
            restore = Some((file.to_string(), original));
        }
    }
    args.extend_from_slice(extra);
    (dir.run_repo_script(p.script, &args), restore)
}

fn undo(dir: &Dir, restore: Option<(String, String)>) {
    if let Some((file, text)) = restore {
        std::fs::write(dir.join(&file), text).unwrap();
    }
}

/// The refusal for `d` names its file and field, and nothing is written.
fn refused(dir: &Dir, p: &Procedure, d: &Drifted) {
    let before = dir.snapshot();
    let (run, restore) = run_changed(dir, p, &d.change, &[]);
    let err = run.failure();
    undo(dir, restore);
    assert!(
        err.contains(&format!("`{}`: ", d.file)) && err.contains(d.phrase),
        "{}: expected `{}` and `{}` in: {err}",
        p.script,
        d.file,
        d.phrase
    );
    assert!(err.contains("--reissue"), "{err}");
    assert_eq!(
        dir.snapshot(),
        before,
        "{}: a refusal wrote something",
        p.script
    );
}

fn verifies(dir: &Dir, p: &Procedure) {
    dir.openssl(&["verify", "-CAfile", p.ca, p.cert]);
}

#[test]
fn every_procedure_refuses_drift_and_reissues_only_when_told() {
    for p in procedures() {
        let dir = Dir::new();
        dir.run_repo_script(p.script, p.first).success();

        // Unchanged: nothing rewritten, not even touched.
        let first = dir.state();
        dir.run_repo_script(p.script, p.args).success();
        assert_eq!(
            dir.state(),
            first,
            "{}: an unchanged re-run wrote",
            p.script
        );

        for d in [
            Some(&p.san),
            p.subject.as_ref(),
            Some(&p.key_size),
            Some(&p.validity),
        ]
        .into_iter()
        .flatten()
        {
            refused(&dir, &p, d);
        }

        // --reissue never: kept, with a warning naming the file.
        let before = dir.snapshot();
        let (run, restore) = run_changed(&dir, &p, &p.san.change, &["--reissue", "never"]);
        let run = run.success();
        undo(&dir, restore);
        assert!(
            run.stderr()
                .contains(&format!("warning: `{}`: SAN differs", p.san.file)),
            "{}: {}",
            p.script,
            run.stderr()
        );
        assert_eq!(
            dir.snapshot(),
            before,
            "{}: --reissue never wrote",
            p.script
        );

        // --reissue changed: the certificate re-issued with the asked SAN, its key kept.
        let key_before = dir.read(p.key);
        let cert_before = dir.read(p.cert);
        let (run, restore) = run_changed(&dir, &p, &p.san.change, &["--reissue", "changed"]);
        run.success();
        assert_eq!(dir.read(p.key), key_before, "{}: the key changed", p.script);
        assert_ne!(dir.read(p.cert), cert_before, "{}: not re-issued", p.script);
        verifies(&dir, &p);
        // ... and the changed procedure now re-runs without writing anything.
        let settled = dir.state();
        let mut args = p.args.to_vec();
        if let Change::Args(more) = &p.san.change {
            args.extend_from_slice(more);
        }
        dir.run_repo_script(p.script, &args).success();
        assert_eq!(
            dir.state(),
            settled,
            "{}: not settled after re-issue",
            p.script
        );
        undo(&dir, restore);

        // A key of another size: --reissue changed alone refuses, --rekey replaces it.
        let before = dir.snapshot();
        let (run, restore) = run_changed(&dir, &p, &p.key_size.change, &["--reissue", "changed"]);
        let err = run.failure();
        undo(&dir, restore);
        assert!(err.contains("--rekey"), "{}: {err}", p.script);
        assert_eq!(dir.snapshot(), before);
        let key_before = dir.read(p.key);
        let (run, restore) = run_changed(
            &dir,
            &p,
            &p.key_size.change,
            &["--reissue", "changed", "--rekey"],
        );
        run.success();
        undo(&dir, restore);
        assert_ne!(dir.read(p.key), key_before, "{}: not rekeyed", p.script);
        verifies(&dir, &p);
        let (key_pem, cert_pem) = (dir.join(p.key), dir.join(p.cert));
        let modulus = |args: &[&str]| dir.openssl(args);
        assert_eq!(
            modulus(&["pkey", "-in", key_pem.to_str().unwrap(), "-pubout"]),
            modulus(&[
                "x509",
                "-in",
                cert_pem.to_str().unwrap(),
                "-noout",
                "-pubkey"
            ]),
            "{}: the certificate is not for the new key",
            p.script
        );
    }
}
