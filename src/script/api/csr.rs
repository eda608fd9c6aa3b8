//! CSRs: build, load, write and show certificate signing requests.

use std::sync::Arc;

use rhai::{Dynamic, Engine, Map};

use super::files::write_text;
use super::{FnResult, at, name_text, texts};
use crate::pki::{Csr, CsrParams, Key, Usages};
use crate::script::convert::{self, ConvResult};
use crate::script::{Ctx, rt};

/// Registers `new_csr`, `load_csr`, `write_csr`, `pem(csr)` and the `subject` and `sans`
/// getters.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, "new_csr", ["key: Key", "opts: Map", "Csr"],
        "Builds a certificate signing request signed by `key`.
        Options: #{ subject: #{ O: \"x\", CN: \"y\" } or \"/O=x/CN=y\",
        san: [\"DNS:host\", \"IP:10.0.0.1\"], san_critical: true, key_usage: [..], ext_key_usage: [..] }.",
        new_csr);
    func!(engine, ctx => c, "load_csr", ["path: &str", "Csr"],
        "Loads a CSR (openssl req, cfssl, easyrsa) and verifies its signature.",
        move |path: &str| load_csr(&c, path));
    func!(engine, ctx => c, "write_csr", ["path: &str", "csr: Csr", "()"],
        "Writes a CSR as PEM (mode 0644), atomically; refuses to overwrite.",
        move |path: &str, csr: Csr| write_text(&c, path, &csr.pem(), &Map::new()));
    func!(engine, "pem", ["csr: Csr", "String"],
        "The CSR as PEM text.",
        |c: Csr| c.pem());
    prop!(engine, "subject", ["csr: Csr", "String"],
        "The requested subject in openssl's one-line form.",
        |c: &mut Csr| name_text("csr.subject", c.subject()));
    prop!(engine, "sans", ["csr: Csr", "Array"],
        "The requested subjectAltName entries, typed: `DNS:x`, `IP:1.2.3.4`, `URI:...`, `email:...`.",
        |c: &mut Csr| texts(c.sans()));
}

/// `new_csr(key, opts)`.
fn new_csr(key: Key, opts: Map) -> FnResult<Csr> {
    Csr::new(&key, &csr_params(&opts)?).map_err(rt)
}

/// `load_csr(path)`: parsed and its signature checked.
fn load_csr(ctx: &Ctx, path: &str) -> FnResult<Csr> {
    let bytes = ctx.ws.read(path).map_err(rt)?;
    Csr::from_pem(&bytes).map_err(at(path))
}

/// The [`CsrParams`] of `new_csr`'s options.
fn csr_params(opts: &Map) -> ConvResult<CsrParams> {
    convert::check_keys(
        "new_csr",
        opts,
        &[
            "subject",
            "san",
            "san_critical",
            "key_usage",
            "ext_key_usage",
            "basic_constraints",
        ],
    )?;
    let (key_usage, key_usage_critical) = match opts.get("key_usage") {
        Some(v) => {
            let (ku, crit) = Usages::parse_key_usage(&convert::string_list("key_usage", v)?)
                .map_err(|e| format!("`key_usage`: {e}"))?;
            (Some(ku), crit)
        }
        None => (None, false),
    };
    let (ext_key_usage, ext_key_usage_critical) = match opts.get("ext_key_usage") {
        Some(v) => {
            let (eku, crit) =
                Usages::parse_ext_key_usage(&convert::string_list("ext_key_usage", v)?)
                    .map_err(|e| format!("`ext_key_usage`: {e}"))?;
            (Some(eku), crit)
        }
        None => (None, false),
    };
    Ok(CsrParams {
        subject: convert::subject(opts.get("subject").unwrap_or(&Dynamic::UNIT))?,
        sans: match opts.get("san") {
            Some(v) => convert::sans("san", v)?,
            None => Vec::new(),
        },
        san_critical: convert::opt_bool(opts, "san_critical")?,
        key_usage,
        key_usage_critical,
        ext_key_usage,
        ext_key_usage_critical,
        basic_constraints: match opts.get("basic_constraints") {
            Some(v) => convert::basic_constraints(v)?,
            None => None,
        },
    })
}
