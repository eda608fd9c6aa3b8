//! The `pkirun` command: parse arguments, run a script or a subcommand, print one error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pkirun::pki::inspect;
use pkirun::script::{self, Options};
use pkirun::workspace::Workspace;

/// Run Rhai scripts that make keys, CSRs, CAs and certificates.
///
/// `pkirun scripts/cockroach.rhai` runs a certificate procedure in the current directory;
/// `pkirun inspect FILE` shows what a PEM file holds; `pkirun functions` lists what scripts
/// can call.
#[derive(Debug, Parser)]
#[command(
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
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

    /// Let the script overwrite existing files (keys included).
    #[arg(long)]
    force: bool,

    /// Let the script run external commands with `exec()` (e.g. update-ca-certificates).
    #[arg(long)]
    allow_exec: bool,

    /// Threads for batch signing (default: all cores).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// No progress bar; only a summary line.
    #[arg(long, short = 'q')]
    quiet: bool,

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
    /// List every function scripts can call, with its signature and doc line.
    Functions {
        /// Print JSON with the whole doc comments.
        #[arg(long)]
        json: bool,
    },
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

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Some(Command::Inspect { files, json }) => inspect_files(&files, json),
        Some(Command::Functions { json }) => {
            let fns = script::functions();
            let mut out = std::io::stdout().lock();
            if json {
                let text = serde_json::to_string_pretty(&fns).map_err(|e| e.to_string())?;
                let _ = writeln!(out, "{text}");
            } else {
                for f in fns {
                    let _ = writeln!(out, "{}\n    {}", f.signature, first_sentence(&f.doc));
                }
            }
            Ok(())
        }
        None => {
            let Some(script) = cli.script else {
                return Err("no script given (try `pkirun --help`)".into());
            };
            let ws = Workspace::new(&cli.dir)
                .map_err(|e| e.to_string())?
                .with_force(cli.force);
            let opts = Options {
                params: cli.define.into_iter().collect::<BTreeMap<_, _>>(),
                allow_exec: cli.allow_exec,
                threads: cli.threads,
                quiet: cli.quiet,
                force: cli.force,
            };
            script::run_file(&script, ws, &opts).map_err(|e| e.to_string())
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
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        let _ = writeln!(out, "{text}");
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
