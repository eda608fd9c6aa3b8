//! The Rhai binding layer: an engine with every pkirun function registered, `-D` parameters,
//! the embedded `stdlib/` modules, and errors that point at `file:line:column`.

/// Registers a script function with its parameter names and doc comment. Every pkirun function
/// is volatile: keys, serials, clocks and files must never be constant-folded by the optimiser.
///
/// The form with `ctx => c` after the engine first binds `c` to a clone of the shared state, for
/// the closure to capture.
macro_rules! func {
    ($engine:expr, $ctx:ident => $c:ident, $name:literal, [$($param:literal),*], $doc:literal, $f:expr) => {{
        let $c = ::std::sync::Arc::clone($ctx);
        func!($engine, $name, [$($param),*], $doc, $f);
    }};
    ($engine:expr, $name:literal, [$($param:literal),*], $doc:literal, $f:expr) => {
        ::rhai::FuncRegistration::new($name)
            .with_params_info([$($param),*])
            .with_comments([$crate::script::doc_comment($doc)])
            .with_volatility(true)
            .register_into_engine($engine, $f);
    };
}

/// Registers a property getter with its doc comment, as `func!` registers a function; the first
/// parameter names the receiver as scripts write it (`cert` in `cert.subject`).
macro_rules! prop {
    ($engine:expr, $name:literal, [$($param:literal),*], $doc:literal, $f:expr) => {
        ::rhai::FuncRegistration::new_getter($name)
            .with_params_info([$($param),*])
            .with_comments([$crate::script::doc_comment($doc)])
            .register_into_engine($engine, $f);
    };
}

mod api;
pub mod convert;
pub mod declared;
mod error;
pub mod limits;
mod notes;
pub mod passphrase;
mod progress;
mod stdlib;

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult};

pub use error::ScriptError;
use error::{describe, location};

use crate::pki::{Ca, Certificate, Csr, Key};
use crate::workspace::Workspace;

/// What a script run needs from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-D name=value` pairs, later ones winning.
    pub params: BTreeMap<String, String>,
    /// `--allow-exec`: let `exec()` run external commands.
    pub allow_exec: bool,
    /// `--threads N` for batch signing (`None`: all cores).
    pub threads: Option<usize>,
    /// `--quiet`: no progress bar.
    pub quiet: bool,
    /// `--json`: batch summaries as JSON on stdout.
    pub json: bool,
    /// `--max-operations` and the other resource limits.
    pub limits: limits::Limits,
    /// Set (by a Ctrl-C handler) to stop the script at its next step.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Where the passphrase for encrypted keys and PKCS#12 files comes from.
    pub passphrase: passphrase::PassphraseSource,
    /// `--reissue`: what a re-run does with a file that differs from what is asked.
    pub reissue: crate::pki::drift::Reissue,
    /// `--rekey`: with `--reissue changed`, replace keys of another type or size too.
    pub rekey: bool,
}

/// State shared by every registered function. `--force` is not here: the [`Workspace`] holds
/// it (`Workspace::with_force`) and every function reads it from there.
#[derive(Debug)]
pub struct Ctx {
    ws: Workspace,
    params: BTreeMap<String, String>,
    allow_exec: bool,
    threads: Option<usize>,
    quiet: bool,
    json: bool,
    passphrases: passphrase::Passphrases,
    reissue: crate::pki::drift::Reissue,
    rekey: bool,
    notes: notes::Notes,
    /// The run's Ctrl-C flag, which batches watch too.
    interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// The CAs whose issuance databases record what they sign (`ca.use_database(dir)`, or
    /// `load_ca` of a CA directory): the CA certificate and its records' files.
    databases: std::sync::Mutex<Vec<(crate::pki::Certificate, crate::pki::ca_dir::CaDir)>>,
}

/// What adds one area's functions (and property getters) to an engine.
type Register = fn(&mut Engine, &Arc<Ctx>);

/// The script API, area by area (what a script author looks for, and where its functions are
/// registered), in the order `pkirun functions` lists them.
const AREAS: &[(&str, Register)] = &[
    ("parameters", api::params::register),
    ("keys", api::keys::register),
    ("CSRs", api::csr::register),
    ("certificates", api::certs::register),
    ("PKCS#12", api::pkcs12::register),
    ("CAs", api::ca::register),
    ("re-runs", api::rerun::register),
    ("revocation", api::revocation::register),
    ("bulk", api::batch::register),
    ("inspection", api::inspect::register),
    ("files", api::files::register),
    ("checks", api::checks::register),
    ("cfssl", api::cfssl::register),
    ("openssl configuration", api::openssl_cnf::register),
    ("values", api::values::register),
    ("system", api::system::register),
];

impl Ctx {
    /// The state of a run with `opts`, bound to `ws`.
    fn new(ws: Workspace, opts: &Options) -> Self {
        Ctx {
            ws,
            params: opts.params.clone(),
            allow_exec: opts.allow_exec,
            threads: opts.threads,
            quiet: opts.quiet,
            json: opts.json,
            passphrases: passphrase::Passphrases::new(opts.passphrase.clone()),
            reissue: opts.reissue,
            rekey: opts.rekey,
            notes: notes::Notes::default(),
            interrupt: opts.interrupt.clone(),
            databases: std::sync::Mutex::default(),
        }
    }

    /// A new key of `spec`: generated, or in a dry run (`--dry-run`) one of the placeholder
    /// keys, so that a plan costs no key generation (nothing a dry run makes is written).
    pub(crate) fn new_key(
        &self,
        spec: crate::pki::KeySpec,
    ) -> Result<crate::pki::Key, Box<EvalAltResult>> {
        if self.ws.is_dry_run() {
            return placeholder_key(spec).map_err(rt);
        }
        crate::pki::Key::generate(spec).map_err(rt)
    }

    /// Looks up a `-D` parameter and converts it to the type of `default`.
    fn param(&self, name: &str, default: Dynamic) -> Result<Dynamic, String> {
        let Some(raw) = self.params.get(name) else {
            return Ok(default);
        };
        let bad = |what: &str| format!("parameter `{name}`: `{raw}` is not {what}");
        if default.is_array() {
            return Ok(raw
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Dynamic::from(s.to_string()))
                .collect::<rhai::Array>()
                .into());
        }
        if default.is_int() {
            return raw
                .trim()
                .parse::<i64>()
                .map(Dynamic::from)
                .map_err(|_| bad("an integer"));
        }
        if default.is_bool() {
            return match raw.trim() {
                "true" | "yes" | "1" => Ok(true.into()),
                "false" | "no" | "0" => Ok(false.into()),
                _ => Err(bad("true or false")),
            };
        }
        Ok(Dynamic::from(raw.clone()))
    }
}

/// The placeholder key of `spec` for dry runs (src/script/placeholder_keys.pem).
fn placeholder_key(spec: crate::pki::KeySpec) -> crate::pki::Result<crate::pki::Key> {
    use crate::pki::KeySpec;
    const KEYS: &str = include_str!("placeholder_keys.pem");
    let index = match spec {
        KeySpec::Rsa(2048) => 0,
        KeySpec::Rsa(3072) => 1,
        KeySpec::Rsa(4096) => 2,
        KeySpec::P256 => 3,
        KeySpec::P384 => 4,
        KeySpec::Rsa(_) => return crate::pki::Key::generate(spec),
    };
    let block = KEYS
        .split("-----END PRIVATE KEY-----")
        .nth(index)
        .and_then(|b| b.find("-----BEGIN").map(|i| &b[i..]))
        .unwrap_or_default();
    crate::pki::Key::from_pem(format!("{block}-----END PRIVATE KEY-----\n").as_bytes())
}

/// Turns a doc text into the `///` comment lines Rhai keeps as metadata.
pub(crate) fn doc_comment(doc: &str) -> String {
    doc.lines()
        .map(|l| format!("/// {}", l.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Turns any displayable error into a script runtime error (Rhai adds the call position).
pub(crate) fn rt(e: impl std::fmt::Display) -> Box<EvalAltResult> {
    e.to_string().into()
}

/// Registers the script types under the names signatures show (`Key`, not a Rust path).
fn register_types(engine: &mut Engine) {
    engine
        .register_type_with_name::<Key>("Key")
        .register_type_with_name::<Certificate>("Cert")
        .register_type_with_name::<Csr>("Csr")
        .register_type_with_name::<Ca>("Ca");
}

/// Builds an engine with pkirun's functions, bound to `ws`.
#[must_use]
pub fn engine(ws: Workspace, opts: &Options, script_dir: Option<&Path>) -> Engine {
    build(ws, opts, script_dir).0
}

/// [`engine`], with the run's state its functions share.
fn build(ws: Workspace, opts: &Options, script_dir: Option<&Path>) -> (Engine, Arc<Ctx>) {
    let mut engine = Engine::new();
    engine.set_max_expr_depths(256, 128);
    // `print` goes to stdout, which may be a pipe the reader closed (`pkirun SCRIPT | head`):
    // the procedure goes on writing its files; only its messages have nowhere to go. With
    // --json, stdout carries only JSON (batch summaries, a dry run's plan) and the script's
    // lines go to stderr; in a dry run they say so, since what they report is not done.
    let (json, dry_run) = (opts.json, ws.is_dry_run());
    engine.on_print(move |text| {
        let _ = match (json, dry_run) {
            (true, _) => writeln!(std::io::stderr().lock(), "{text}"),
            (false, true) if !text.is_empty() => {
                writeln!(std::io::stdout().lock(), "(dry run) {text}")
            }
            (false, _) => writeln!(std::io::stdout().lock(), "{text}"),
        };
    });
    opts.limits.apply(&mut engine, opts.interrupt.clone());
    register_types(&mut engine);
    let ctx = Arc::new(Ctx::new(ws, opts));
    for (_, register) in AREAS {
        register(&mut engine, &ctx);
    }
    engine.set_module_resolver(stdlib::resolver(script_dir));
    (engine, ctx)
}

/// Runs the script at `path` (read from the real file system, not the workspace) with the
/// working directory `ws`.
///
/// # Errors
/// The script cannot be read, does not parse, or fails at run time.
pub fn run_file(path: &Path, ws: Workspace, opts: &Options) -> Result<(), ScriptError> {
    let display = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
        path: display.clone(),
        source,
    })?;
    let (engine, ctx) = build(ws, opts, path.parent());
    let ast = compile(&engine, &display, &source)?;
    check_params(&display, &ast, &opts.params)?;
    run_ast(&engine, &display, &ast)?;
    ctx.notes.flush();
    Ok(())
}

/// Refuses a `-D` name that the script does not read (see [`declared`]), before anything runs.
fn check_params(
    script: &str,
    ast: &rhai::AST,
    params: &BTreeMap<String, String>,
) -> Result<(), ScriptError> {
    let (reads, computed) = declared::scan(ast);
    let Some(name) = params.keys().find(|n| !reads.contains_key(*n)) else {
        return Ok(());
    };
    let hint = match declared::closest(name, reads.keys().map(String::as_str)) {
        Some(near) => format!("; did you mean `{near}`?"),
        None if computed => "; a `param` call with a computed name cannot be set with -D: \
                             write the name as a string literal"
            .to_string(),
        None => String::new(),
    };
    let list: Vec<&str> = reads.keys().map(String::as_str).collect();
    Err(ScriptError::UnknownParameter {
        script: script.to_string(),
        name: name.clone(),
        hint,
        reads: if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        },
    })
}

/// What `pkirun SCRIPT --help` prints: the script's header comment, then every parameter it
/// reads with its literal default.
///
/// # Errors
/// The script cannot be read or does not parse.
pub fn help(path: &Path) -> Result<String, ScriptError> {
    let display = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
        path: display.clone(),
        source,
    })?;
    let ast = compile(&Engine::new_raw(), &display, &source)?;
    let (reads, _) = declared::scan(&ast);
    let mut out = declared::header(&source);
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "Usage: pkirun {display} [-D NAME=VALUE]... [-C DIR] [--force]\n"
    ));
    if reads.is_empty() {
        out.push_str("\nThis script reads no parameters.\n");
    } else {
        out.push_str("\nParameters (-D NAME=VALUE) and their defaults:\n");
        let width = reads.keys().map(String::len).max().unwrap_or(0);
        for d in reads.values() {
            let default = match d.default.as_deref() {
                None => "(computed)",
                Some("()") => "(none: the script decides when it is not given)",
                Some(literal) => literal,
            };
            out.push_str(&format!("  {:width$}  {default}\n", d.name));
        }
    }
    Ok(out)
}

/// Compiles `source`, naming it `name` in errors and in the AST.
fn compile(engine: &Engine, name: &str, source: &str) -> Result<rhai::AST, ScriptError> {
    let mut ast = engine.compile(source).map_err(|e| ScriptError::At {
        location: location(name, e.position()),
        message: e.err_type().to_string(),
    })?;
    ast.set_source(name);
    Ok(ast)
}

/// Compiles and runs `source`, naming it `name` in errors.
///
/// # Errors
/// A syntax or runtime error, with its position.
pub fn run_source(engine: &Engine, name: &str, source: &str) -> Result<(), ScriptError> {
    let ast = compile(engine, name, source)?;
    run_ast(engine, name, &ast)
}

/// Runs a compiled script, mapping its error to `file:line:column: message`.
fn run_ast(engine: &Engine, name: &str, ast: &rhai::AST) -> Result<(), ScriptError> {
    engine.run_ast(ast).map_err(|e| {
        let known = |f: &str| {
            ast.iter_functions().any(|d| d.name == f)
                || engine
                    .gen_fn_signatures(false)
                    .iter()
                    .any(|sig| sig.strip_prefix(f).is_some_and(|r| r.starts_with('(')))
        };
        describe(engine, name, &e, &known)
    })
}

/// One script function for `pkirun functions`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionDoc {
    /// The area it belongs to (`keys`, `files`, ...); not in `pkirun functions --json`.
    #[serde(skip)]
    pub area: &'static str,
    /// The signature, e.g. `gen_key(algorithm: &str, size: i64) -> Key`.
    pub signature: String,
    /// The doc comment without `///`.
    pub doc: String,
}

/// Every pkirun script function (not Rhai's standard library), area by area in the order of
/// [`AREAS`], and within an area by name.
#[must_use]
pub fn functions() -> Vec<FunctionDoc> {
    registered(false)
}

/// Every property scripts can read (`cert.subject`), area by area: its signature as Rhai's
/// metadata gives it (`get$subject(cert: Cert) -> String`) and its doc. `pkirun functions` lists
/// functions only; the README's table names these.
#[must_use]
pub fn properties() -> Vec<FunctionDoc> {
    registered(true)
}

/// The functions (`getters` false) or the property getters (`getters` true) of every area.
fn registered(getters: bool) -> Vec<FunctionDoc> {
    let Ok(ws) = Workspace::new(".") else {
        return Vec::new();
    };
    let ctx = Arc::new(Ctx::new(ws, &Options::default()));
    AREAS
        .iter()
        .flat_map(|(area, register)| {
            let mut engine = Engine::new();
            register_types(&mut engine);
            register(&mut engine, &ctx);
            metadata(&engine, area, getters)
        })
        .collect()
}

/// The functions (`getters` false) or the property getters (`getters` true) registered into
/// `engine`, by name, marked with their `area`.
fn metadata(engine: &Engine, area: &'static str, getters: bool) -> Vec<FunctionDoc> {
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    value["functions"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter(|f| f["name"].as_str().unwrap_or("").starts_with("get$") == getters)
                .map(|f| FunctionDoc {
                    area,
                    signature: f["signature"].as_str().unwrap_or("").to_string(),
                    doc: f["docComments"]
                        .as_array()
                        .map(|d| {
                            d.iter()
                                .filter_map(|c| c.as_str())
                                .flat_map(str::lines)
                                .map(|l| l.trim_start_matches("///").trim())
                                .collect::<Vec<_>>()
                                .join("\n")
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_are_listed_area_by_area_in_the_order_of_the_list() {
        let fns = functions();
        let position = |area: &str| AREAS.iter().position(|(a, _)| *a == area).unwrap();
        let order: Vec<usize> = fns.iter().map(|f| position(f.area)).collect();
        assert!(
            order.windows(2).all(|w| w[0] <= w[1]),
            "areas out of order: {:?}",
            fns.iter().map(|f| f.area).collect::<Vec<_>>()
        );
        for (area, _) in AREAS {
            assert!(
                fns.iter().any(|f| f.area == *area),
                "`{area}` lists nothing"
            );
        }
        assert_eq!(fns.first().map(|f| f.area), Some("parameters"));
    }

    #[test]
    fn force_is_read_from_the_workspace() {
        let dir = std::env::temp_dir();
        for force in [false, true] {
            let ws = Workspace::new(&dir).unwrap().with_force(force);
            let engine = engine(ws, &Options::default(), None);
            assert_eq!(engine.eval::<bool>("force()").unwrap(), force);
        }
    }
}
