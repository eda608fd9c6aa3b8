//! The Rhai binding layer: an engine with every pkirun function registered, `-D` parameters,
//! the embedded `stdlib/` modules, and errors that point at `file:line:column`.

/// Registers a script function with its parameter names and doc comment. Every pkirun function
/// is volatile: keys, serials, clocks and files must never be constant-folded by the optimiser.
macro_rules! func {
    ($engine:expr, $name:literal, [$($param:literal),*], $doc:literal, $f:expr) => {
        ::rhai::FuncRegistration::new($name)
            .with_params_info([$($param),*])
            .with_comments([$crate::script::doc_comment($doc)])
            .with_volatility(true)
            .register_into_engine($engine, $f);
    };
}

mod bindings;
mod bindings_batch;
mod bindings_cfssl;
mod bindings_extra;
pub mod convert;
pub mod declared;
pub mod limits;
mod stdlib;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Position};

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
    /// `--force`: existing files may be overwritten (scripts can ask with `force()`).
    pub force: bool,
    /// `--max-operations` and the other resource limits.
    pub limits: limits::Limits,
    /// Set (by a Ctrl-C handler) to stop the script at its next step.
    pub interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// State shared by every registered function.
#[derive(Debug)]
pub struct Ctx {
    ws: Workspace,
    params: BTreeMap<String, String>,
    allow_exec: bool,
    force: bool,
    threads: Option<usize>,
    quiet: bool,
}

/// A script that failed: where and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScriptError {
    /// The script file could not be read.
    #[error("`{path}`: cannot read script: {source}")]
    Read {
        /// The script path as given.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A `-D NAME=...` that the script never reads (a typo would otherwise run with defaults).
    #[error("`-D {name}`: {script} reads no parameter `{name}`{hint} (it reads: {reads})")]
    UnknownParameter {
        /// The script path as given.
        script: String,
        /// The name given with `-D`.
        name: String,
        /// `; did you mean `x`?`, or a note that some names are computed, or nothing.
        hint: String,
        /// The names the script reads, comma-separated (or `none`).
        reads: String,
    },
    /// Ctrl-C stopped the script between two of its steps.
    #[error(
        "{location}: interrupted (Ctrl-C): the files written so far are whole; run the same \
         command again to finish"
    )]
    Interrupted {
        /// Where the script was when it stopped.
        location: String,
    },
    /// A syntax or runtime error at a position.
    #[error("{location}: {message}")]
    At {
        /// `file:line:column`, or just the file when Rhai has no position.
        location: String,
        /// What went wrong.
        message: String,
    },
}

impl Ctx {
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

/// Builds an engine with pkirun's functions, bound to `ws`.
#[must_use]
pub fn engine(ws: Workspace, opts: &Options, script_dir: Option<&Path>) -> Engine {
    let mut engine = Engine::new();
    engine.set_max_expr_depths(256, 128);
    opts.limits.apply(&mut engine, opts.interrupt.clone());
    let ctx = Arc::new(Ctx {
        ws,
        params: opts.params.clone(),
        allow_exec: opts.allow_exec,
        force: opts.force,
        threads: opts.threads,
        quiet: opts.quiet,
    });
    bindings::register(&mut engine, &ctx);
    bindings_batch::register(&mut engine, &ctx);
    engine.set_module_resolver(stdlib::resolver(script_dir));
    engine
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
    let engine = engine(ws, opts, path.parent());
    let ast = compile(&engine, &display, &source)?;
    check_params(&display, &ast, &opts.params)?;
    run_ast(&engine, &display, &ast)
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
            let default = d.default.as_deref().unwrap_or("(computed)");
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

fn location(name: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{name}:{l}:{c}"),
        (Some(l), None) => format!("{name}:{l}"),
        _ => name.to_string(),
    }
}

/// Turns a Rhai error into `file:line:column: message`, looking through function-call and
/// module wrappers to the innermost cause. When that cause lies in an embedded `stdlib/`
/// module, the location is the script line that called into it (the line the user can fix),
/// and the module's line follows the message. `known` tells whether a function name exists
/// (with other argument types).
fn describe(
    engine: &Engine,
    name: &str,
    err: &EvalAltResult,
    known: &dyn Fn(&str) -> bool,
) -> ScriptError {
    let mut here = (name.to_string(), err.position());
    // The deepest frame outside the embedded modules: where the user's code made the call.
    let mut user = here.clone();
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, src, e, _)
    | EvalAltResult::ErrorInModule(src, e, _) = inner
    {
        if !src.is_empty() {
            here.0 = src.clone();
        }
        if !e.position().is_none() {
            here.1 = e.position();
        }
        if !here.0.starts_with(STDLIB_PREFIX) {
            user = here.clone();
        }
        inner = e;
    }
    if limits::is_interrupt(inner) {
        return ScriptError::Interrupted {
            location: location(&user.0, user.1),
        };
    }
    let mut message = match inner {
        e if limits::describe(engine, e).is_some() => {
            limits::describe(engine, e).unwrap_or_default()
        }
        EvalAltResult::ErrorRuntime(v, _) => v.to_string(),
        EvalAltResult::ErrorFunctionNotFound(sig, _) => function_not_found(sig, known),
        other => {
            // Rhai appends " (line N, position M)"; the location already says it.
            let text = other.to_string();
            match text.rfind(" (line ") {
                Some(i) if text.ends_with(')') => text[..i].to_string(),
                _ => text,
            }
        }
    };
    let at = if here.0.starts_with(STDLIB_PREFIX) && !user.0.starts_with(STDLIB_PREFIX) {
        message = format!("{message} (in {})", location(&here.0, here.1));
        user
    } else {
        here
    };
    ScriptError::At {
        location: location(&at.0, at.1),
        message,
    }
}

/// The source name of the embedded modules (`stdlib/cfssl.rhai`).
const STDLIB_PREFIX: &str = "stdlib/";

/// The message for a call Rhai could not resolve: an unknown name, or a known one given
/// arguments of other types (Rhai reports both alike).
fn function_not_found(sig: &str, known: &dyn Fn(&str) -> bool) -> String {
    let name = sig.split([' ', '(']).next().unwrap_or(sig);
    if !known(name) {
        return format!("unknown function `{name}` (run `pkirun functions` for the list)");
    }
    // Rhai's signature lists internal types (`&str | ImmutableString | String`); say them
    // the way a script writer thinks of them.
    let args = sig
        .find('(')
        .and_then(|i| sig.rfind(')').map(|j| &sig[i + 1..j]))
        .unwrap_or("");
    let args: Vec<&str> = if args.trim().is_empty() {
        Vec::new()
    } else {
        args.split(',').map(|a| script_type(a.trim())).collect()
    };
    format!(
        "`{name}` was called with ({}), which it does not take (`pkirun functions` shows its \
         signature)",
        args.join(", ")
    )
}

/// A Rhai type name as scripts know it.
fn script_type(rust: &str) -> &str {
    match rust {
        "()" => "()",
        "i64" => "integer",
        "f64" => "float",
        "bool" => "bool",
        "char" => "char",
        _ if rust.contains("ImmutableString") || rust.contains("&str") => "string",
        _ if rust.ends_with("Map") => "map",
        _ if rust.ends_with("Array") => "array",
        _ if rust.ends_with("Blob") => "blob",
        _ => rust.rsplit("::").next().unwrap_or(rust),
    }
}

/// One script function for `pkirun functions`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionDoc {
    /// The signature, e.g. `gen_key(algorithm: &str, size: i64) -> Key`.
    pub signature: String,
    /// The doc comment without `///`.
    pub doc: String,
}

/// Every pkirun script function (not Rhai's standard library), sorted by signature.
#[must_use]
pub fn functions() -> Vec<FunctionDoc> {
    let ws = match Workspace::new(".") {
        Ok(ws) => ws,
        Err(_) => return Vec::new(),
    };
    let engine = engine(ws, &Options::default(), None);
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
    let mut out: Vec<FunctionDoc> = value["functions"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter(|f| !f["name"].as_str().unwrap_or("").starts_with("get$"))
                .map(|f| FunctionDoc {
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
        .unwrap_or_default();
    out.sort_by(|a, b| a.signature.cmp(&b.signature));
    out
}
