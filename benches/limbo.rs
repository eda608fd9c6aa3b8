//! Runs the x509-limbo path-validation suite through pkirun's verifier and reports agreement
//! with the expected results by category.
//!
//! `limbo.json` is not in this repository: `benches/limbo.sh` builds it with limbo's own
//! generator and runs this harness. By hand:
//! `LIMBO_JSON=/path/limbo.json cargo bench --profile dev --bench limbo`.
//! With `LIMBO_OPENSSL=1`, each case also goes to `openssl verify -partial_chain` (plain, no
//! strict flags) and the cases pkirun accepts while OpenSSL rejects are listed.
//!
//! A case is run when pkirun verify's options can express it: trusted certificates,
//! untrusted intermediates, the peer certificate, the validation time, a DNS or IP peer name,
//! and at most one extended key usage among serverAuth and clientAuth. Cases with CRLs, a
//! maximum chain depth, keyUsage or signature-algorithm requirements, or several peer names are
//! counted as skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pkirun::pki::Certificate;
use pkirun::pki::verify::{self, Purpose, VerifyOptions};
use serde_json::Value;

/// One runnable case, decoded.
struct Case {
    id: String,
    features: Vec<String>,
    expected_success: bool,
    trusted: Vec<String>,
    untrusted: Vec<String>,
    peer: String,
    at: Option<u64>,
    host: Option<String>,
    purpose: Option<Purpose>,
}

/// The outcome of one case.
struct Outcome {
    case: Case,
    pkirun: Result<(), String>,
    openssl: Option<bool>,
}

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LIMBO_JSON").map(PathBuf::from));
    let Some(path) = path else {
        eprintln!(
            "limbo: give the path of limbo.json (argument or LIMBO_JSON); benches/limbo.sh builds it"
        );
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("limbo: `{}`: cannot read: {e}", path.display());
            std::process::exit(2);
        }
    };
    let suite: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("limbo: `{}`: not JSON: {e}", path.display());
            std::process::exit(2);
        }
    };
    let with_openssl = std::env::var_os("LIMBO_OPENSSL").is_some_and(|v| v == "1");
    let scratch = std::env::temp_dir().join(format!("pkirun-limbo-{}", std::process::id()));
    let testcases = suite["testcases"].as_array().cloned().unwrap_or_default();
    let mut skipped: BTreeMap<String, usize> = BTreeMap::new();
    let mut outcomes = Vec::new();
    for tc in &testcases {
        match decode(tc) {
            Ok(case) => {
                let pkirun = run_pkirun(&case);
                let openssl = with_openssl.then(|| run_openssl(&case, &scratch));
                outcomes.push(Outcome {
                    case,
                    pkirun,
                    openssl,
                });
            }
            Err(reason) => *skipped.entry(reason).or_default() += 1,
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    report(testcases.len(), &outcomes, &skipped, with_openssl);
}

/// Decodes a testcase, or says why pkirun verify cannot express it.
fn decode(tc: &Value) -> Result<Case, String> {
    let nonempty = |key: &str| tc[key].as_array().is_some_and(|a| !a.is_empty());
    if nonempty("crls") {
        return Err("CRLs".into());
    }
    if !tc["max_chain_depth"].is_null() {
        return Err("max_chain_depth".into());
    }
    if nonempty("key_usage") {
        return Err("key_usage".into());
    }
    if nonempty("signature_algorithms") {
        return Err("signature_algorithms".into());
    }
    if nonempty("expected_peer_names") {
        return Err("expected_peer_names".into());
    }
    let ekus: Vec<&str> = tc["extended_key_usage"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let purpose = match ekus.as_slice() {
        [] => None,
        ["serverAuth"] => Some(Purpose::TlsServer),
        ["clientAuth"] => Some(Purpose::TlsClient),
        _ => return Err("extended_key_usage other than one of serverAuth/clientAuth".into()),
    };
    let host = match &tc["expected_peer_name"] {
        Value::Null => None,
        peer => match peer["kind"].as_str() {
            Some("DNS" | "IP") => peer["value"].as_str().map(str::to_owned),
            _ => return Err("expected_peer_name not DNS or IP".into()),
        },
    };
    let at = match tc["validation_time"].as_str() {
        None => None,
        Some(t) => Some(unix_time(t).ok_or_else(|| format!("validation_time `{t}`"))?),
    };
    let pems = |key: &str| -> Vec<String> {
        tc[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Case {
        id: tc["id"].as_str().unwrap_or("?").to_owned(),
        features: tc["features"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        expected_success: tc["expected_result"] == "SUCCESS",
        trusted: pems("trusted_certs"),
        untrusted: pems("untrusted_intermediates"),
        peer: tc["peer_certificate"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        at,
        host,
        purpose,
    })
}

/// RFC 3339 to UNIX seconds.
fn unix_time(text: &str) -> Option<u64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(t.unix_timestamp()).ok()
}

/// pkirun's verdict: a certificate that does not load is a rejection, as in `pkirun verify`.
fn run_pkirun(case: &Case) -> Result<(), String> {
    let load = |pem: &str| {
        Certificate::from_pem(pem.as_bytes()).map_err(|e| format!("does not load: {e}"))
    };
    let peer = load(&case.peer)?;
    let trusted = case
        .trusted
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let untrusted = case
        .untrusted
        .iter()
        .map(|p| load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = VerifyOptions {
        at: case
            .at
            .map_or_else(SystemTime::now, |s| UNIX_EPOCH + Duration::from_secs(s)),
        host: case.host.clone(),
        purpose: case.purpose,
        crls: Vec::new(),
    };
    verify::verify(&peer, &trusted, &untrusted, &opts)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Plain `openssl verify -partial_chain` with the same inputs.
fn run_openssl(case: &Case, scratch: &Path) -> bool {
    let dir = scratch.join(case.id.replace([':', '/'], "_"));
    if std::fs::create_dir_all(&dir).is_err() {
        return false;
    }
    let write = |name: &str, pems: &[String]| {
        let file = dir.join(name);
        std::fs::write(&file, pems.concat()).map(|()| file)
    };
    let (Ok(ca), Ok(inter), Ok(peer)) = (
        write("ca.pem", &case.trusted),
        write("untrusted.pem", &case.untrusted),
        write("peer.pem", std::slice::from_ref(&case.peer)),
    ) else {
        return false;
    };
    let mut cmd = Command::new("openssl");
    cmd.arg("verify")
        .arg("-partial_chain")
        .arg("-CAfile")
        .arg(&ca);
    if !case.untrusted.is_empty() {
        cmd.arg("-untrusted").arg(&inter);
    }
    if let Some(at) = case.at {
        cmd.arg("-attime").arg(at.to_string());
    }
    if let Some(host) = &case.host {
        let option = if host.parse::<std::net::IpAddr>().is_ok() {
            "-verify_ip"
        } else {
            "-verify_hostname"
        };
        cmd.arg(option).arg(host);
    }
    match case.purpose {
        Some(Purpose::TlsServer) => {
            cmd.args(["-purpose", "sslserver"]);
        }
        Some(Purpose::TlsClient) => {
            cmd.args(["-purpose", "sslclient"]);
        }
        _ => {}
    }
    cmd.arg(&peer);
    cmd.output().is_ok_and(|o| o.status.success())
}

/// The category a case counts in: its id's first component, and `rfc5280 core` for the
/// rfc5280 cases without feature flags.
fn categories(case: &Case) -> Vec<String> {
    let first = case.id.split("::").next().unwrap_or("?").to_owned();
    let mut all = vec![first.clone()];
    if first == "rfc5280" && case.features.is_empty() {
        all.push("rfc5280 core".into());
    }
    all
}

#[derive(Default)]
struct Tally {
    run: usize,
    agree: usize,
    false_accept: usize,
    false_reject: usize,
    openssl_agree: usize,
}

fn report(
    total: usize,
    outcomes: &[Outcome],
    skipped: &BTreeMap<String, usize>,
    with_openssl: bool,
) {
    let mut by: BTreeMap<String, Tally> = BTreeMap::new();
    for o in outcomes {
        let accepted = o.pkirun.is_ok();
        let mut keys = categories(&o.case);
        keys.push("all".into());
        for key in keys {
            let t = by.entry(key).or_default();
            t.run += 1;
            if accepted == o.case.expected_success {
                t.agree += 1;
            } else if accepted {
                t.false_accept += 1;
            } else {
                t.false_reject += 1;
            }
            if o.openssl == Some(o.case.expected_success) {
                t.openssl_agree += 1;
            }
        }
    }
    let skipped_total: usize = skipped.values().sum();
    println!(
        "x509-limbo: {total} testcases, {} run, {skipped_total} skipped",
        outcomes.len()
    );
    for (reason, n) in skipped {
        println!("  skipped {n}: {reason}");
    }
    println!();
    let openssl_head = if with_openssl {
        " | openssl verify"
    } else {
        ""
    };
    println!(
        "| category | run | pkirun agrees | accepts, should fail | rejects, should pass{openssl_head} |"
    );
    println!(
        "|---|---:|---:|---:|---:|{}",
        if with_openssl { "---:|" } else { "" }
    );
    for (key, t) in &by {
        let pct = |n: usize| {
            if t.run == 0 {
                0.0
            } else {
                100.0 * n as f64 / t.run as f64
            }
        };
        let openssl = if with_openssl {
            format!(
                " | {}/{} ({:.0}%)",
                t.openssl_agree,
                t.run,
                pct(t.openssl_agree)
            )
        } else {
            String::new()
        };
        println!(
            "| {key} | {} | {}/{} ({:.0}%) | {} | {}{openssl} |",
            t.run,
            t.agree,
            t.run,
            pct(t.agree),
            t.false_accept,
            t.false_reject
        );
    }
    println!();
    println!("disagreements with the expected result:");
    for o in outcomes {
        if o.pkirun.is_ok() == o.case.expected_success {
            continue;
        }
        let verdict = match &o.pkirun {
            Ok(()) => "accepted, should fail".to_owned(),
            Err(e) => format!("rejected, should pass: {e}"),
        };
        let openssl = match o.openssl {
            Some(true) => " [openssl accepts]",
            Some(false) => " [openssl rejects]",
            None => "",
        };
        println!("  {}: {verdict}{openssl}", o.case.id);
    }
    if with_openssl {
        let worse: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.pkirun.is_ok() && o.openssl == Some(false))
            .collect();
        println!();
        println!(
            "accepted by pkirun, rejected by openssl verify: {}",
            worse.len()
        );
        for o in worse {
            println!(
                "  {} (expected {})",
                o.case.id,
                if o.case.expected_success {
                    "SUCCESS"
                } else {
                    "FAILURE"
                }
            );
        }
    }
}
