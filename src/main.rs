//! The `pkirun` command: parse arguments, run a script or a subcommand, print one error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use signal_hook::consts::SIGINT;

use clap::{Parser, Subcommand};
use pkirun::check::{self, VerifyRequest};
use pkirun::pki::Validity;
use pkirun::pki::drift::Reissue;
use pkirun::pki::verify::Purpose;
use pkirun::pki::{diff, inspect};
use pkirun::plan_report::PlanReport;
use pkirun::script::limits::Limits;
use pkirun::script::passphrase::PassphraseSource;
use pkirun::script::{self, Options};
use pkirun::workspace::Workspace;

/// Run Rhai scripts that make keys, CSRs, CAs and certificates.
///
/// `pkirun scripts/cockroach.rhai` runs a certificate procedure in the current directory;
/// `pkirun inspect FILE` shows what a PEM file holds; `pkirun verify --ca CA CERT` checks a
/// certificate; `pkirun expiry DIR` lists what expires when; `pkirun functions` lists what
/// scripts can call.
#[derive(Debug, Parser)]
#[command(
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "`pkirun SCRIPT --help` shows a script's own help: its header comment and every \
                  parameter it reads, with its default."
)]
struct Cli {
    /// The script to run.
    #[arg(required = true)]
    script: Option<PathBuf>,

    /// Set a script parameter, read in the script with `param("NAME", default)`.
    #[arg(short = 'D', value_name = "NAME=VALUE", value_parser = parse_define)]
    define: Vec<(String, String)>,

    /// Working directory: every path in the script is relative to it and may not leave it.
    #[arg(
        short = 'C',
        long = "directory",
        value_name = "DIR",
        default_value = "."
    )]
    dir: PathBuf,

    /// The blunt tool: make every file again, keys included, overwriting what exists. To act
    /// only on what a changed parameter changes, use --reissue changed.
    #[arg(long)]
    force: bool,

    /// When a file the procedure would write exists and differs from what it now asks:
    /// `refuse` (default: stop, naming the file and the fields), `changed` (re-issue what
    /// differs, keeping its key), `never` (keep it, with a warning).
    #[arg(long, value_name = "POLICY", default_value = "refuse", value_parser = parse_reissue)]
    reissue: Reissue,

    /// With --reissue changed: also replace a key whose type or size the procedure no longer
    /// asks for (and every certificate of that key).
    #[arg(long)]
    rekey: bool,

    /// Let the script run external commands with `exec()` (e.g. update-ca-certificates).
    #[arg(long)]
    allow_exec: bool,

    /// Run the procedure without writing, replacing or removing anything (and without
    /// generating keys), then print the plan: every file it would create, replace or keep,
    /// with what changes in an existing one, and the commands it would run. With --json, the
    /// plan as JSON.
    #[arg(long)]
    dry_run: bool,

    /// Threads for batch signing (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Stop a script after this many Rhai operations (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().operations)]
    max_operations: u64,

    /// Longest string a script may build, in bytes (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().string_size)]
    max_string_size: usize,

    /// Most items in one script array (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().array_size)]
    max_array_size: usize,

    /// Most entries in one script map (0: no limit).
    #[arg(long, value_name = "N", default_value_t = Limits::default().map_size)]
    max_map_size: usize,

    /// Deepest nesting of script function calls.
    #[arg(long, value_name = "N", default_value_t = Limits::default().call_depth)]
    max_call_depth: usize,

    /// Read the passphrase (encrypted keys, PKCS#12) from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_env")]
    passphrase_file: Option<PathBuf>,

    /// Read the passphrase from this environment variable. Without either option pkirun asks
    /// on the terminal, without echo; a passphrase is never taken from the command line.
    #[arg(long, value_name = "VAR")]
    passphrase_env: Option<String>,

    /// No progress bar; only a summary line.
    #[arg(long, short = 'q')]
    quiet: bool,

    /// Print each batch's summary as one JSON object on stdout (for machines) instead of a
    /// line on stderr; stdout then carries JSON only (the script's own lines go to stderr).
    #[arg(long)]
    json: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the certificates, CSRs and keys in PEM files (like `openssl x509 -text`).
    Inspect {
        /// PEM files to read.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Verify certificates against CA certificates, like `openssl verify` (exit status 1 if
    /// any fails).
    Verify {
        /// Certificate files; further certificates in a file are taken as its intermediates.
        #[arg(required = true)]
        certs: Vec<PathBuf>,
        /// Trusted CA certificate file (a bundle, or repeat the option).
        #[arg(long, value_name = "FILE", required = true)]
        ca: Vec<PathBuf>,
        /// Intermediate CA certificates, not trusted by themselves.
        #[arg(long, value_name = "FILE")]
        untrusted: Vec<PathBuf>,
        /// CRLs to check revocation against, as `openssl verify -crl_check -CRLfile` (repeat
        /// the option, or several CRLs in one file).
        #[arg(long, value_name = "FILE")]
        crl: Vec<PathBuf>,
        /// A DNS name or IP address the certificates must carry.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
        /// A TLS purpose the certificates must allow: server or client.
        #[arg(long, value_name = "PURPOSE", value_parser = parse_purpose)]
        purpose: Option<Purpose>,
        /// A private key that must belong to the certificate.
        #[arg(long, value_name = "FILE")]
        key: Option<PathBuf>,
        /// Verify at this UNIX time instead of now.
        #[arg(long, value_name = "SECONDS")]
        attime: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List certificates by expiry, soonest first, like `kubeadm certs check-expiration`
    /// (exit status 1 if any expires within the window).
    Expiry {
        /// Certificate files, or directories searched for .pem, .crt, .cert and .cer files.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// The warning window (e.g. 30d, 720h).
        #[arg(long, value_name = "DURATION", default_value = "30d")]
        within: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare two certificates, CSRs or keys field by field (exit status 1 when they differ):
    /// subject and issuer with attribute order and string types, validity length, key,
    /// signature algorithm, every extension with its criticality.
    Diff {
        /// The first file (PEM or DER).
        a: PathBuf,
        /// The second file.
        b: PathBuf,
        /// Differences to report but not count: any of serial, dates, key (comma-separated).
        #[arg(long, value_name = "ASPECTS", value_delimiter = ',')]
        ignore: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List every function scripts can call, with its signature and doc line.
    Functions {
        /// Print JSON with the whole doc comments.
        #[arg(long)]
        json: bool,
    },
}

/// `--reissue`'s value.
fn parse_reissue(s: &str) -> Result<Reissue, String> {
    Reissue::parse(s).map_err(|e| e.to_string())
}

fn parse_define(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAME=VALUE"))?;
    if k.is_empty() {
        return Err(format!("`{s}`: empty parameter name"));
    }
    Ok((k.to_string(), v.to_string()))
}

fn parse_purpose(s: &str) -> Result<Purpose, String> {
    Purpose::parse(s).ok_or_else(|| format!("`{s}`: expected server or client"))
}

/// What a run ended with: success, a failed check (exit 1, reported already), or an error.
enum Outcome {
    Ok,
    Failed,
    /// Ctrl-C stopped the script (exit status 130, as a shell reports SIGINT).
    Interrupted,
}

/// A flag that the first Ctrl-C (SIGINT) sets, so the script and its batches stop at their next
/// step and leave only whole files; a second Ctrl-C exits at once (status 130).
fn on_ctrl_c() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let installed = signal_hook::flag::register_conditional_shutdown(SIGINT, 130, flag.clone())
        .and_then(|_| signal_hook::flag::register(SIGINT, flag.clone()));
    if let Err(e) = installed {
        eprintln!("warning: cannot handle Ctrl-C ({e}); it will stop pkirun at once");
    }
    flag
}

fn run(cli: Cli) -> Result<Outcome, String> {
    match cli.command {
        Some(Command::Inspect { files, json }) => inspect_files(&files, json).map(|()| Outcome::Ok),
        Some(Command::Verify {
            certs,
            ca,
            untrusted,
            crl,
            host,
            purpose,
            key,
            attime,
            json,
        }) => {
            let req = VerifyRequest {
                ca,
                untrusted,
                host,
                purpose,
                key,
                at: attime.map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)),
                crls: crl,
            };
            let verdicts = check::verify_files(&certs, &req).map_err(|e| e.to_string())?;
            let mut out = std::io::stdout().lock();
            if json {
                write_json(&mut out, &verdicts)?;
            } else {
                for v in &verdicts {
                    let _ = match &v.error {
                        None => writeln!(out, "{}: OK ({})", v.file, v.chain.join(" <- ")),
                        Some(e) => writeln!(out, "{}: FAILED: {e}", v.file),
                    };
                }
            }
            Ok(if verdicts.iter().all(|v| v.error.is_none()) {
                Outcome::Ok
            } else {
                Outcome::Failed
            })
        }
        Some(Command::Expiry {
            paths,
            within,
            json,
        }) => {
            let window = Validity::parse(&within)
                .map_err(|e| format!("--within: {e}"))?
                .duration();
            let found = check::expiry(&paths, window, std::time::SystemTime::now())
                .map_err(|e| e.to_string())?;
            let mut out = std::io::stdout().lock();
            if json {
                write_json(&mut out, &found)?;
            } else {
                print_expiry(&mut out, &found, &within);
            }
            Ok(if found.iter().any(|e| e.due) {
                Outcome::Failed
            } else {
                Outcome::Ok
            })
        }
        Some(Command::Diff { a, b, ignore, json }) => diff_files(&a, &b, &ignore, json),
        Some(Command::Functions { json }) => {
            let fns = script::functions();
            let mut out = std::io::stdout().lock();
            if json {
                write_json(&mut out, &fns)?;
            } else {
                for f in fns {
                    let _ = writeln!(out, "{}\n    {}", f.signature, first_sentence(&f.doc));
                }
            }
            Ok(Outcome::Ok)
        }
        None => {
            let Some(script) = cli.script else {
                return Err("no script given (try `pkirun --help`)".into());
            };
            let mut ws = Workspace::new(&cli.dir)
                .map_err(|e| e.to_string())?
                .with_force(cli.force);
            if cli.dry_run {
                ws = ws.dry_run();
                if !cli.json {
                    println!(
                        "dry run: the procedure runs, but nothing it says it writes is written; \
                         the plan follows"
                    );
                }
            }
            let planned = ws.clone();
            let opts = Options {
                params: cli.define.into_iter().collect::<BTreeMap<_, _>>(),
                allow_exec: cli.allow_exec,
                threads: cli.threads,
                quiet: cli.quiet,
                json: cli.json,
                reissue: cli.reissue,
                rekey: cli.rekey,
                limits: Limits {
                    operations: cli.max_operations,
                    string_size: cli.max_string_size,
                    array_size: cli.max_array_size,
                    map_size: cli.max_map_size,
                    call_depth: cli.max_call_depth,
                },
                interrupt: Some(on_ctrl_c()),
                passphrase: match (cli.passphrase_file, cli.passphrase_env) {
                    (Some(file), _) => PassphraseSource::File(file),
                    (None, Some(var)) => PassphraseSource::Env(var),
                    (None, None) => PassphraseSource::Prompt,
                },
            };
            match script::run_file(&script, ws, &opts) {
                Ok(()) if cli.dry_run => {
                    let report = PlanReport::of(&planned.plan(), &planned);
                    let mut out = std::io::stdout().lock();
                    if cli.json {
                        write_json(&mut out, &report)?;
                    } else {
                        let _ = out.write_all(report.text().as_bytes());
                    }
                    Ok(Outcome::Ok)
                }
                Ok(()) => Ok(Outcome::Ok),
                Err(e @ script::ScriptError::Interrupted { .. }) => {
                    eprintln!("{e}");
                    Ok(Outcome::Interrupted)
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// The first sentence of a doc comment (which may run over several lines).
fn first_sentence(doc: &str) -> String {
    let text = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut from = 0;
    while let Some(i) = text[from..].find(". ") {
        let end = from + i;
        let word = text[..end]
            .rsplit(' ')
            .next()
            .unwrap_or("")
            .trim_start_matches('(');
        if !matches!(word, "e.g" | "i.e" | "etc" | "vs") {
            return text[..=end].to_string();
        }
        from = end + 2;
    }
    text
}

fn inspect_files(files: &[PathBuf], json: bool) -> Result<(), String> {
    let mut all = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("`{}`: {e}", f.display()))?;
        let items = inspect::inspect_pem(&bytes).map_err(|e| format!("`{}`: {e}", f.display()))?;
        all.push((f.display().to_string(), items));
    }
    let mut out = std::io::stdout().lock();
    if json {
        let value: Vec<serde_json::Value> = all
            .iter()
            .map(|(file, items)| serde_json::json!({ "file": file, "items": items }))
            .collect();
        write_json(&mut out, &value)?;
    } else {
        for (file, items) in &all {
            if all.len() > 1 {
                let _ = writeln!(out, "==> {file} <==");
            }
            for item in items {
                let _ = write!(out, "{}", item.to_text());
            }
        }
    }
    Ok(())
}

/// `value` as pretty-printed JSON and a newline.
/// `pkirun diff`: every difference, the ignored ones marked; fails when one is not ignored.
fn diff_files(a: &Path, b: &Path, ignore: &[String], json: bool) -> Result<Outcome, String> {
    let ignored = ignore
        .iter()
        .map(|s| diff::Aspect::parse(s).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let read =
        |p: &Path| std::fs::read(p).map_err(|e| format!("`{}`: cannot read: {e}", p.display()));
    let (da, db) = (read(a)?, read(b)?);
    let found = diff::diff(&da, &db).map_err(|e| e.to_string())?;
    let counted = found
        .iter()
        .filter(|d| !ignored.contains(&d.aspect))
        .count();
    let mut out = std::io::stdout().lock();
    if json {
        let rows: Vec<serde_json::Value> = found
            .iter()
            .map(|d| {
                serde_json::json!({
                    "field": d.field, "a": d.a, "b": d.b, "aspect": d.aspect,
                    "ignored": ignored.contains(&d.aspect),
                })
            })
            .collect();
        write_json(&mut out, &rows)?;
    } else {
        let (an, bn) = (a.display().to_string(), b.display().to_string());
        let width = an.len().max(bn.len());
        for d in &found {
            let note = if ignored.contains(&d.aspect) {
                " (ignored)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "{}{note}\n  {an:width$}  {}\n  {bn:width$}  {}",
                d.field, d.a, d.b
            );
        }
        let ignored_count = found.len() - counted;
        let _ = match (counted, ignored_count) {
            (0, 0) => writeln!(out, "{an} and {bn} are the same"),
            (0, n) => writeln!(
                out,
                "{an} and {bn} are the same but for {n} ignored field(s)"
            ),
            (c, 0) => writeln!(out, "{an} and {bn} differ in {c} field(s)"),
            (c, n) => writeln!(out, "{an} and {bn} differ in {c} field(s), and {n} ignored"),
        };
    }
    Ok(if counted == 0 {
        Outcome::Ok
    } else {
        Outcome::Failed
    })
}

fn write_json(out: &mut impl Write, value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    let _ = writeln!(out, "{text}");
    Ok(())
}

/// The expiry table: one row per certificate, then a summary line.
fn print_expiry(out: &mut impl Write, found: &[check::Expiry], within: &str) {
    let width = found
        .iter()
        .map(|e| e.file.len())
        .max()
        .unwrap_or(0)
        .max(11);
    let _ = writeln!(
        out,
        "{:<width$}  {:<20}  {:>8}  {:<3}  SUBJECT",
        "CERTIFICATE", "EXPIRES", "RESIDUAL", "CA"
    );
    for e in found {
        let _ = writeln!(
            out,
            "{:<width$}  {:<20}  {:>8}  {:<3}  {}{}",
            e.file,
            e.not_after,
            check::residual_text(e.residual_seconds),
            if e.ca { "yes" } else { "no" },
            e.subject,
            if e.due { "  <-- due" } else { "" },
        );
    }
    let due = found.iter().filter(|e| e.due).count();
    let _ = writeln!(
        out,
        "{} certificate{}, {due} expired or expiring within {within}",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
    );
}

/// `pkirun SCRIPT --help`: when clap stops at `--help` and the same command line without it names
/// a script to run, the script's own help (its header and parameters) instead of pkirun's.
fn script_help(err: &clap::Error) -> Option<Result<Outcome, String>> {
    if err.kind() != clap::error::ErrorKind::DisplayHelp {
        return None;
    }
    let args = std::env::args_os().filter(|a| a != "--help" && a != "-h");
    let cli = Cli::try_parse_from(args).ok()?;
    let script = cli.script.filter(|_| cli.command.is_none())?;
    Some(
        script::help(&script)
            .map(|text| {
                let _ = write!(std::io::stdout(), "{text}");
                Outcome::Ok
            })
            .map_err(|e| e.to_string()),
    )
}

fn main() -> ExitCode {
    let outcome = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(e) => match script_help(&e) {
            Some(outcome) => outcome,
            None => e.exit(),
        },
    };
    match outcome {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::FAILURE,
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
