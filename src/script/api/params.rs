//! Parameters: what the command line gave the script (`-D name=value`, `--force`,
//! `--allow-exec`).

use std::sync::Arc;

use rhai::{Dynamic, Engine};

use super::FnResult;
use crate::script::{Ctx, rt};

/// Registers `param`, `allow_exec`, `use_passphrase_file` and `force`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, ctx => c, "param", ["name: &str", "default: Dynamic", "Dynamic"],
        "Reads `-D name=value` from the command line, or returns `default`.
        The value takes the default's type: an array default splits the value on commas,
        an integer default parses an integer, a boolean default parses true/false.",
        move |name: &str, default: Dynamic| param(&c, name, default));
    func!(engine, ctx => c, "allow_exec", ["bool"],
        "True when the user passed --allow-exec (scripts print commands instead of running them otherwise).",
        move || c.allow_exec);
    func!(engine, ctx => c, "use_passphrase_file", ["path: &str", "()"],
        "Takes the run's passphrase (for .p12 files and encrypted keys) from the first line of a
        file inside the working directory, unless the command line named a source
        (--passphrase-file, --passphrase-env); without either, pkirun prompts on the terminal.",
        move |path: &str| c.passphrases.use_file(path));
    func!(engine, ctx => c, "force", ["bool"],
        "True when the user passed --force (existing files may be overwritten).",
        move || force(&c));
}

/// `param(name, default)`: a `-D` parameter in the default's type.
fn param(ctx: &Ctx, name: &str, default: Dynamic) -> FnResult<Dynamic> {
    ctx.param(name, default).map_err(rt)
}

/// `force()`: read from the workspace, the one holder of `--force`.
fn force(ctx: &Ctx) -> bool {
    ctx.ws.force()
}
