//! PKCS#12: a key with its certificate and chain in one `.p12` file for browsers, Java and
//! Windows, encrypted with the run's passphrase (see `--passphrase-file`, `--passphrase-env`,
//! `use_passphrase_file`, or the prompt).

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::FnResult;
use super::write_options::file_options;
use crate::pki::{Certificate, Key, Pkcs12, Pkcs12Options};
use crate::script::convert;
use crate::script::{Ctx, rt};

/// Registers `write_p12` and `load_p12`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, ctx => c, "write_p12", ["path: &str", "key: Key", "cert: Cert", "chain: Array", "()"],
        "Writes key, certificate and chain (CA certificates, issuing CA first) as a PKCS#12 file
        (mode 0400) encrypted with the run's passphrase, as OpenSSL 3 writes it: PBES2 AES-256-CBC,
        HMAC-SHA256 MAC; the friendly name is the certificate's CN.",
        move |path: &str, key: Key, cert: Certificate, chain: Array| {
            write_p12(&c, path, key, cert, chain, &Map::new())
        });
    func!(engine, ctx => c, "write_p12", ["path: &str", "key: Key", "cert: Cert", "chain: Array", "opts: Map", "()"],
        "Writes a PKCS#12 file with options #{ name: \"alice\", iterations: 10000, mode: 0o400,
        overwrite: true }.",
        move |path: &str, key: Key, cert: Certificate, chain: Array, opts: Map| {
            write_p12(&c, path, key, cert, chain, &opts)
        });
    func!(engine, ctx => c, "load_p12", ["path: &str", "Map"],
        "Reads a PKCS#12 file with the run's passphrase: #{ key, cert, chain, name }.",
        move |path: &str| load_p12(&c, path));
}

/// `write_p12(path, key, cert, chain, opts)`.
fn write_p12(
    ctx: &Ctx,
    path: &str,
    key: Key,
    cert: Certificate,
    chain: Array,
    opts: &Map,
) -> FnResult<()> {
    convert::check_keys(
        "write_p12",
        opts,
        &["name", "iterations", "mode", "overwrite"],
    )
    .map_err(rt)?;
    let mut file_opts = opts.clone();
    file_opts.remove("name");
    file_opts.remove("iterations");
    let write = file_options("write_p12", &file_opts, 0o400)?;
    let chain = chain
        .into_iter()
        .map(|c| {
            c.try_cast::<Certificate>()
                .ok_or_else(|| rt("write_p12: `chain` must be an array of certificates"))
        })
        .collect::<FnResult<Vec<_>>>()?;
    let mut options = Pkcs12Options {
        name: convert::opt_string(opts, "name").map_err(rt)?,
        ..Pkcs12Options::default()
    };
    if let Some(i) = convert::opt_int(opts, "iterations").map_err(rt)? {
        options.iterations = u32::try_from(i)
            .map_err(|_| rt(format!("write_p12: `iterations`: {i} is out of range")))?;
    }
    let p12 = Pkcs12::new(key, cert, chain).map_err(|e| rt(format!("`{path}`: {e}")))?;
    let passphrase = ctx.passphrases.get(&ctx.ws, path).map_err(rt)?;
    let der = p12
        .to_der(&passphrase, &options)
        .map_err(|e| rt(format!("`{path}`: {e}")))?;
    ctx.ws.write(path, &der, write).map_err(rt)
}

/// `load_p12(path)`.
fn load_p12(ctx: &Ctx, path: &str) -> FnResult<Map> {
    let der = ctx.ws.read(path).map_err(rt)?;
    let passphrase = ctx.passphrases.get(&ctx.ws, path).map_err(rt)?;
    let p12 = Pkcs12::from_der(&der, &passphrase).map_err(|e| rt(format!("`{path}`: {e}")))?;
    let mut m = Map::new();
    m.insert("key".into(), Dynamic::from(p12.key));
    m.insert("cert".into(), Dynamic::from(p12.cert));
    m.insert(
        "chain".into(),
        p12.chain
            .into_iter()
            .map(Dynamic::from)
            .collect::<Array>()
            .into(),
    );
    m.insert("name".into(), p12.name.map_or(Dynamic::UNIT, Dynamic::from));
    Ok(m)
}
