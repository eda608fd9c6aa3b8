//! Keys: generate, load, write and show private keys.

use std::sync::Arc;

use rhai::{Engine, Map};

use super::write_options::key_options;
use super::{FnResult, at};
use crate::pki::{Key, KeyFormat, KeySpec, encrypted_key};
use crate::script::{Ctx, rt};

/// Registers `gen_key`, `load_key`, `write_key`, `pem(key)` and the `spec` and `kind` getters.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, ctx => c, "gen_key", ["algorithm: &str", "size: i64", "Key"],
        "Generates a private key: gen_key(\"rsa\", 2048) or gen_key(\"ecdsa\", 384).
        RSA sizes 2048, 3072, 4096; ECDSA curves 256 (P-256) and 384 (P-384).",
        move |algorithm: &str, size: i64| gen_key(&c, algorithm, size));
    func!(engine, ctx => c, "gen_key", ["spec: &str", "Key"],
        "Generates a private key from a spec: \"rsa:2048\", \"ecdsa:384\", \"p256\", \"secp384r1\".",
        move |spec: &str| gen_key_spec(&c, spec));
    func!(engine, ctx => c, "load_key", ["path: &str", "Key"],
        "Loads a private key in any PEM form openssl, cfssl and easyrsa write, or DER.
        Accepted: PKCS#8 (PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY), SEC1 (EC PRIVATE KEY), and encrypted
        PKCS#8 (ENCRYPTED PRIVATE KEY), decrypted with the run's passphrase (--passphrase-file,
        --passphrase-env, or asked on the terminal).",
        move |path: &str| load_key(&c, path));
    func!(engine, ctx => c, "write_key", ["path: &str", "key: Key", "()"],
        "Writes a key as PKCS#8 PEM with mode 0400, atomically; refuses to overwrite an existing file.",
        move |path: &str, key: Key| write_key(&c, path, &key, &Map::new()));
    func!(engine, ctx => c, "write_key", ["path: &str", "key: Key", "opts: Map", "()"],
        "Writes a key with options: #{ mode: 0o600, format: \"pkcs1\" | \"sec1\" | \"pkcs8\", overwrite: true,
        encrypt: true }. With encrypt, the key is written as an encrypted PKCS#8 key (PBKDF2-HMAC-SHA256,
        AES-256-CBC) under the run's passphrase (--passphrase-file, --passphrase-env, or asked on the terminal).",
        move |path: &str, key: Key, opts: Map| write_key(&c, path, &key, &opts));
    func!(engine, ctx => c, "write_key", ["path: &str", "key: Key", "mode: i64", "()"],
        "Writes a key with the given file mode, e.g. write_key(\"ca.key\", key, 0o400).",
        move |path: &str, key: Key, mode: i64| write_key_mode(&c, path, &key, mode));
    func!(engine, ctx => c, "encrypted_pem", ["key: Key", "String"],
        "The key as an encrypted PKCS#8 PEM block (ENCRYPTED PRIVATE KEY: PBKDF2-HMAC-SHA256, AES-256-CBC)
        under the run's passphrase, for write_files entries.",
        move |key: Key| key_text(&c, "the key", &key, KeyFormat::Pkcs8, true).map(|t| t.to_string()));
    func!(engine, "pem", ["key: Key", "String"],
        "The key as PKCS#8 PEM text.",
        pem);
    func!(engine, "pem", ["key: Key", "format: &str", "String"],
        "The key as PEM in a format: \"pkcs8\", \"pkcs1\" (RSA) or \"sec1\" (EC).",
        pem_in);
    prop!(engine, "spec", ["key: Key", "String"],
        "The key's spec as gen_key and batches take it: `rsa:2048`, `ecdsa:384`.",
        |k: &mut Key| k.spec().to_string());
    prop!(engine, "kind", ["key: Key", "String"],
        "The key in words: `RSA 2048`, `ECDSA P-384`.",
        |k: &mut Key| k.describe());
}

/// `gen_key(algorithm, size)`.
fn gen_key(ctx: &Ctx, algorithm: &str, size: i64) -> FnResult<Key> {
    ctx.new_key(KeySpec::new(algorithm, size).map_err(rt)?)
}

/// `gen_key(spec)`.
fn gen_key_spec(ctx: &Ctx, spec: &str) -> FnResult<Key> {
    ctx.new_key(KeySpec::parse(spec).map_err(rt)?)
}

/// `load_key(path)`: any PEM private key.
fn load_key(ctx: &Ctx, path: &str) -> FnResult<Key> {
    read_key(ctx, path)
}

/// The key at `path`, decrypted with the run's passphrase when it is encrypted (shared with
/// the re-run functions, which keep keys).
pub(crate) fn read_key(ctx: &Ctx, path: &str) -> FnResult<Key> {
    let bytes = ctx.ws.read(path).map_err(rt)?;
    encrypted_key::read_key(&bytes, || ctx.passphrases.get(&ctx.ws, path)).map_err(at(path))
}

/// `write_key(path, key, opts)`: the key in the options' format and mode.
fn write_key(ctx: &Ctx, path: &str, key: &Key, opts: &Map) -> FnResult<()> {
    let (write, format, encrypt) = key_options(opts)?;
    let pem = key_text(ctx, path, key, format, encrypt)?;
    ctx.ws.write(path, pem.as_bytes(), write).map_err(rt)
}

/// The text of the key file `path`: PEM in `format`, or with `encrypt` an encrypted PKCS#8
/// key under the run's passphrase.
pub(crate) fn key_text(
    ctx: &Ctx,
    path: &str,
    key: &Key,
    format: KeyFormat,
    encrypt: bool,
) -> FnResult<zeroize::Zeroizing<String>> {
    if !encrypt {
        return Ok(zeroize::Zeroizing::new(
            key.to_pem(format).map_err(at(path))?,
        ));
    }
    if format != KeyFormat::Pkcs8 {
        return Err(rt(format!(
            "`{path}`: an encrypted key is PKCS#8; leave out `format`"
        )));
    }
    let passphrase = ctx.passphrases.get(&ctx.ws, path).map_err(rt)?;
    Ok(zeroize::Zeroizing::new(
        encrypted_key::encrypt_pem(key, &passphrase).map_err(at(path))?,
    ))
}

/// `write_key(path, key, mode)`.
fn write_key_mode(ctx: &Ctx, path: &str, key: &Key, mode: i64) -> FnResult<()> {
    let mut opts = Map::new();
    opts.insert("mode".into(), mode.into());
    write_key(ctx, path, key, &opts)
}

/// `pem(key)`: PKCS#8.
fn pem(key: Key) -> FnResult<String> {
    key.to_pem(KeyFormat::Pkcs8).map_err(rt)
}

/// `pem(key, format)`.
fn pem_in(key: Key, format: &str) -> FnResult<String> {
    key.to_pem(KeyFormat::parse(format).map_err(rt)?)
        .map_err(rt)
}
