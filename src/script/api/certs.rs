//! Certificates: load, write (alone or with their key) and show certificates.

use std::sync::Arc;

use rhai::{Array, Engine, Map};

use super::files::write_text;
use super::write_options::key_options;
use super::{FnResult, at, name_text, texts};
use crate::pki::{Certificate, Key};
use crate::script::{Ctx, rt};
use crate::workspace::WriteOptions;

/// Registers `load_cert`, `write_cert`, `write_pair`, `write_certs`, `pem(cert)` and the certificate getters
/// (`subject`, `issuer`, `serial`, `fingerprint`, `sans`, `not_after`).
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, ctx => c, "load_cert", ["path: &str", "Cert"],
        "Loads the first certificate of a PEM file.",
        move |path: &str| load_cert(&c, path));
    func!(engine, ctx => c, "write_cert", ["path: &str", "cert: Cert", "()"],
        "Writes a certificate as PEM (mode 0644), atomically; refuses to overwrite.",
        move |path: &str, cert: Certificate| write_recorded(&c, path, &cert.pem(), &Map::new(), &[(&cert, path)]));
    func!(engine, ctx => c, "write_cert", ["path: &str", "cert: Cert", "opts: Map", "()"],
        "Writes a certificate with options #{ mode: 0o644, overwrite: true }.",
        move |path: &str, cert: Certificate, opts: Map| write_recorded(&c, path, &cert.pem(), &opts, &[(&cert, path)]));
    func!(engine, ctx => c, "write_pair", ["key_path: &str", "key: Key", "cert_path: &str", "cert: Cert", "()"],
        "Writes a key (PKCS#8, 0400) and its certificate (0644) together: both or neither.",
        move |kp: &str, key: Key, cp: &str, cert: Certificate| {
        write_pair(&c, kp, &key, cp, &cert, &Map::new())
    });
    func!(engine, ctx => c, "write_pair", ["key_path: &str", "key: Key", "cert_path: &str", "cert: Cert", "opts: Map", "()"],
        "Writes a key and its certificate together with key options #{ mode: 0o600, format: \"pkcs1\", overwrite: true }.",
        move |kp: &str, key: Key, cp: &str, cert: Certificate, opts: Map| {
        write_pair(&c, kp, &key, cp, &cert, &opts)
    });
    func!(engine, ctx => c, "write_certs", ["path: &str", "certs: Array", "opts: Map", "()"],
        "Writes several certificates into one PEM file, in the order given: a chain file
        (chain.pem: the issuing CA up to, not including, the root) or a full chain (the leaf
        first). Options #{ mode: 0o644, overwrite: true }.",
        move |path: &str, certs: Array, opts: Map| write_certs(&c, path, certs, &opts));
    func!(engine, "pem", ["cert: Cert", "String"],
        "The certificate as PEM text.",
        |c: Certificate| c.pem());
    // The certificate's fields as properties: `cert.subject`, `cert.serial`, ...
    prop!(engine, "subject", ["cert: Cert", "String"],
        "The subject in openssl's one-line form (`O = Cockroach, CN = root`).",
        |c: &mut Certificate| name_text("cert.subject", c.subject()));
    prop!(engine, "issuer", ["cert: Cert", "String"],
        "The issuer in openssl's one-line form.",
        |c: &mut Certificate| name_text("cert.issuer", c.issuer()));
    prop!(engine, "serial", ["cert: Cert", "String"],
        "The serial number, uppercase hex.",
        |c: &mut Certificate| c.serial_hex());
    prop!(engine, "fingerprint", ["cert: Cert", "String"],
        "The SHA-256 fingerprint, uppercase hex with colons (openssl x509 -fingerprint -sha256).",
        |c: &mut Certificate| c.fingerprint_sha256());
    prop!(engine, "sans", ["cert: Cert", "Array"],
        "The subjectAltName entries, typed: `DNS:x`, `IP:1.2.3.4`, `URI:...`, `email:...`.",
        |c: &mut Certificate| texts(c.sans()));
    prop!(engine, "not_after", ["cert: Cert", "String"],
        "The end of validity, RFC 3339 UTC (`2027-01-02T08:56:53Z`).",
        |c: &mut Certificate| crate::pki::rfc3339(c.not_after()));
}

/// `load_cert(path)`: the first certificate of the file.
fn load_cert(ctx: &Ctx, path: &str) -> FnResult<Certificate> {
    let bytes = ctx.ws.read(path).map_err(rt)?;
    let (cert, passed_over) = Certificate::from_pem_reporting(&bytes).map_err(at(path))?;
    for line in passed_over {
        eprintln!("warning: `{path}`: {line}; read the next certificate");
    }
    Ok(cert)
}

/// `write_pair(key_path, key, cert_path, cert, opts)`: both files or neither.
fn write_pair(
    ctx: &Ctx,
    key_path: &str,
    key: &Key,
    cert_path: &str,
    cert: &Certificate,
    opts: &Map,
) -> FnResult<()> {
    let (key_write, format, encrypt) = key_options(opts)?;
    let key_pem = super::keys::key_text(ctx, key_path, key, format, encrypt)?;
    let cert_pem = cert.pem();
    let cert_write = WriteOptions {
        mode: Some(0o644),
        overwrite: key_write.overwrite,
    };
    let records = super::revocation::records_for(ctx, &[(cert, cert_path)])?;
    let mut group = vec![
        (key_path, key_pem.as_bytes(), key_write),
        (cert_path, cert_pem.as_bytes(), cert_write),
    ];
    group.extend(
        records
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_bytes(), RECORD)),
    );
    ctx.ws.write_all_or_nothing(&group).map_err(rt)
}

/// How a CA's database files are written beside a certificate: replaced, mode 0644.
const RECORD: WriteOptions = WriteOptions {
    mode: Some(0o644),
    overwrite: true,
};

/// Writes `text` at `path` as `write_text` does, together with the database records of
/// `certs` when a CA that signed them was given a database (`ca.use_database`): all or
/// nothing.
fn write_recorded(
    ctx: &Ctx,
    path: &str,
    text: &str,
    opts: &Map,
    certs: &[(&Certificate, &str)],
) -> FnResult<()> {
    let records = super::revocation::records_for(ctx, certs)?;
    if records.is_empty() {
        return write_text(ctx, path, text, opts);
    }
    let write = super::write_options::file_options("write", opts, 0o644).map_err(rt)?;
    let mut group = vec![(path, text.as_bytes(), write)];
    group.extend(
        records
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_bytes(), RECORD)),
    );
    ctx.ws.write_all_or_nothing(&group).map_err(rt)
}

/// `write_certs(path, certs, opts)`: the certificates' PEM blocks, concatenated.
fn write_certs(ctx: &Ctx, path: &str, certs: Array, opts: &Map) -> FnResult<()> {
    if certs.is_empty() {
        return Err(format!("write_certs: `{path}`: no certificates given").into());
    }
    let mut text = String::new();
    let mut parsed = Vec::with_capacity(certs.len());
    for (i, c) in certs.into_iter().enumerate() {
        let cert = c.try_cast::<Certificate>().ok_or_else(|| {
            format!(
                "write_certs: item {} of `certs` is not a certificate",
                i + 1
            )
        })?;
        text.push_str(&cert.pem());
        parsed.push(cert);
    }
    let refs: Vec<(&Certificate, &str)> = parsed.iter().map(|c| (c, path)).collect();
    write_recorded(ctx, path, &text, opts, &refs)
}
