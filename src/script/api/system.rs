//! The world outside the working directory: the clock and external commands.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rhai::{Array, Dynamic, Engine};

use super::FnResult;
use crate::script::convert;
use crate::script::{Ctx, rt};

/// Registers `unix_time` and `exec`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, "unix_time", ["i64"],
        "Seconds since 1970-01-01 UTC, like `date +%s` (easyrsa's CA name `${MASTER_IP}@<time>`).",
        unix_time);
    func!(engine, ctx => c, "exec", ["command: Array", "()"],
        "Runs an external command (e.g. [\"update-ca-certificates\"]); refused unless pkirun runs with --allow-exec.",
        move |command: Array| exec(&c, &command));
}

/// `unix_time()`.
fn unix_time() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `exec(command)`: runs in the working directory, only with `--allow-exec`.
fn exec(ctx: &Ctx, command: &Array) -> FnResult<()> {
    let args = convert::string_list("exec", &Dynamic::from(command.clone()))?;
    let Some((prog, rest)) = args.split_first() else {
        return Err(rt("exec: empty command"));
    };
    if !ctx.allow_exec {
        return Err(rt(format!(
            "running `{}` needs --allow-exec (without it, scripts only print the commands)",
            args.join(" ")
        )));
    }
    if ctx.ws.is_dry_run() {
        // Listed in the plan, not run.
        return ctx.ws.plan_command(&args).map_err(rt);
    }
    let status = std::process::Command::new(prog)
        .args(rest)
        .current_dir(ctx.ws.root())
        .status()
        .map_err(|e| rt(format!("`{prog}`: cannot run: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(rt(format!("`{}` failed with {status}", args.join(" "))))
    }
}
