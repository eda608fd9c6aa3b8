//! Re-runs: a procedure run again keeps what is still right and notices what is not.
//!
//! A script asks for its key with `key_for` (the existing key when it is of the asked type)
//! and makes the certificate it would write; `is_current` then compares it with the file on
//! disk (see [`crate::pki::drift`]). What a drift leads to is the user's `--reissue` choice,
//! read here from the run's state: stop naming the file and fields (default), re-issue
//! (`changed`, keys kept unless `--rekey`), or keep with a warning (`never`). `--force` makes
//! everything again.

use std::sync::Arc;

use rhai::Engine;

use super::FnResult;
use crate::pki::drift::{self, Drift, Reissue};
use crate::pki::{Ca, Certificate, Key, KeySpec};
use crate::script::{Ctx, rt};

/// Registers `key_for`, `is_current` and `ca.is_current`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, ctx => c, "key_for", ["path: &str", "spec: &str", "Key"],
        "The key a procedure keeps at `path`: the existing one when it is of the asked type
        (\"rsa:2048\", \"ecdsa:384\"), a new one when the file is missing (or with --force).
        A key of another type or size stops the run naming both, unless --reissue changed --rekey
        (a new key) or --reissue never (kept, with a warning). Nothing is written: write the key
        with the certificate that needs it.",
        move |path: &str, spec: &str| key_for(&c, path, spec));
    func!(engine, ctx => c, "key_for", ["path: &str", "algorithm: &str", "size: i64", "Key"],
        "Like key_for(path, spec), the type given as gen_key takes it: key_for(\"ca.key\", \"rsa\", 4096).",
        move |path: &str, algorithm: &str, size: i64| key_for_sized(&c, path, algorithm, size));
    func!(engine, ctx => c, "is_current", ["ca: Ca", "path: &str", "cert: Cert", "bool"],
        "True when the certificate at `path` already says what `cert` (made now, from the kept key)
        says: subject, SANs, extensions, key, issuer and validity length (serial and dates aside).
        False when the file is missing, with --force, or when it differs and --reissue changed
        was given: then write `cert` over it (#{ overwrite: true }). Otherwise a difference stops
        the run with one line naming the file and the fields, or with --reissue never is kept
        with a warning (true).",
        move |ca: &mut Ca, path: &str, cert: Certificate| is_current(&c, path, &cert, Some(ca.cert())));
    func!(engine, ctx => c, "is_current", ["path: &str", "cert: Cert", "bool"],
        "Like ca.is_current(path, cert) for a self-signed certificate (a root CA): its issuer is itself.",
        move |path: &str, cert: Certificate| is_current(&c, path, &cert, None));
}

/// `key_for(path, algorithm, size)`.
fn key_for_sized(ctx: &Ctx, path: &str, algorithm: &str, size: i64) -> FnResult<Key> {
    let spec = KeySpec::new(algorithm, size).map_err(|e| rt(format!("key_for: {e}")))?;
    key_for_spec(ctx, path, spec)
}

/// `key_for(path, spec)`.
fn key_for(ctx: &Ctx, path: &str, spec: &str) -> FnResult<Key> {
    let spec = KeySpec::parse(spec).map_err(|e| rt(format!("key_for: {e}")))?;
    key_for_spec(ctx, path, spec)
}

/// The existing key at `path` if it is of `spec`, else a new one as the policy allows.
fn key_for_spec(ctx: &Ctx, path: &str, spec: KeySpec) -> FnResult<Key> {
    if ctx.ws.force() || !ctx.ws.exists(path).map_err(rt)? {
        return ctx.new_key(spec);
    }
    let existing = super::keys::read_key(ctx, path).map_err(|e| {
        rt(format!(
            "{e}; a re-run never replaces a key it cannot read: restore it, or remove it"
        ))
    })?;
    let Some(drift) = drift::key_drift(&existing, spec) else {
        ctx.ws.plan_keep(path, "the key asked for").map_err(rt)?;
        return Ok(existing);
    };
    match (ctx.reissue, ctx.rekey) {
        (Reissue::Changed, true) => {
            eprintln!("rekeying `{path}`: {drift}");
            ctx.new_key(spec)
        }
        (Reissue::Never, _) => {
            eprintln!("warning: `{path}`: {drift}; kept (--reissue never)");
            Ok(existing)
        }
        (Reissue::Changed, false) => Err(rt(format!(
            "`{path}`: {drift}; --rekey replaces the key (and re-issues its certificates)"
        ))),
        (Reissue::Refuse, _) => Err(rt(format!(
            "`{path}`: {drift}; --reissue changed --rekey replaces the key, --reissue never keeps it"
        ))),
    }
}

/// Whether the certificate at `path` is `wanted` but for serial and dates (see the doc above).
fn is_current(
    ctx: &Ctx,
    path: &str,
    wanted: &Certificate,
    issuer: Option<&Certificate>,
) -> FnResult<bool> {
    if ctx.ws.force() || !ctx.ws.exists(path).map_err(rt)? {
        return Ok(false);
    }
    let verdict = read_existing(ctx, path).and_then(|existing| {
        let drifts = drift::certificate_drift(&existing, wanted, issuer)
            .map_err(|e| rt(format!("`{path}`: {e}")))?;
        if drifts.is_empty() {
            return Ok(true);
        }
        act_on(ctx, path, &drifts)
    });
    // A certificate that is not written (kept, or refused) leaves no note.
    if !matches!(verdict, Ok(false)) {
        ctx.notes.drop_for(wanted);
    }
    if matches!(verdict, Ok(true)) {
        ctx.ws.plan_keep(path, "up to date").map_err(rt)?;
    }
    verdict
}

/// The certificate at `path`, which a re-run never replaces unread.
fn read_existing(ctx: &Ctx, path: &str) -> FnResult<Certificate> {
    let bytes = ctx.ws.read(path).map_err(rt)?;
    Certificate::from_pem(&bytes).map_err(|e| {
        rt(format!(
            "`{path}`: {e}; a re-run never replaces a file it cannot read: remove it, or pass --force"
        ))
    })
}

/// What the `--reissue` policy makes of `drifts` in the file `path`: `Ok(false)` to re-issue,
/// `Ok(true)` to keep, or the one-line refusal.
fn act_on(ctx: &Ctx, path: &str, drifts: &[Drift]) -> FnResult<bool> {
    let what = drift::describe(drifts);
    match ctx.reissue {
        Reissue::Changed => {
            eprintln!("re-issuing `{path}`: {what}");
            Ok(false)
        }
        Reissue::Never => {
            eprintln!("warning: `{path}`: {what}; kept (--reissue never)");
            Ok(true)
        }
        Reissue::Refuse => Err(rt(format!(
            "`{path}`: {what}; --reissue changed re-issues it, --reissue never keeps it"
        ))),
    }
}
