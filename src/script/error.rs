//! Script errors: a syntax or runtime error turned into `file:line:column: message`, pointing
//! at the line the user can fix.

use rhai::{EvalAltResult, Position};

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
        "{location}: interrupted (Ctrl-C){detail}: the files written so far are whole; run the \
         same command again to finish"
    )]
    Interrupted {
        /// Where the script was when it stopped.
        location: String,
        /// What the step it stopped had finished (`; 812 of 2000 certificates issued ...`), or
        /// nothing when it stopped between two steps.
        detail: String,
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

/// `file:line:column` of `pos` in `name`, as much of it as Rhai knows.
pub(super) fn location(name: &str, pos: Position) -> String {
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
pub(super) fn describe(
    engine: &rhai::Engine,
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
    if let Some(detail) = super::limits::interrupt_detail(inner) {
        return ScriptError::Interrupted {
            location: location(&user.0, user.1),
            detail,
        };
    }
    let mut message = match inner {
        e if super::limits::describe(engine, e).is_some() => {
            super::limits::describe(engine, e).unwrap_or_default()
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
