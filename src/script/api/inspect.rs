//! Inspection: what a certificate, CSR or PEM file holds, as openssl-style text or as maps.

use std::sync::Arc;

use rhai::{Dynamic, Engine};

use super::{FnResult, at};
use crate::pki::inspect;
use crate::pki::{Certificate, Csr};
use crate::script::{Ctx, rt};

/// Registers `text(csr)`, `text(cert)`, `info(cert)` and `inspect(path)`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, "text", ["csr: Csr", "String"],
        "The CSR rendered like `openssl req -noout -text`.",
        csr_text);
    func!(engine, "text", ["cert: Cert", "String"],
        "The certificate rendered like `openssl x509 -noout -text`.",
        cert_text);
    func!(engine, "info", ["cert: Cert", "Map"],
        "The certificate's fields as a map (what `pkirun inspect --json` prints).",
        info);
    func!(engine, ctx => c, "inspect", ["path: &str", "Array"],
        "Every certificate, CSR and key in a PEM file, as maps (the `pkirun inspect --json` fields).",
        move |path: &str| inspect_file(&c, path));
}

/// `text(csr)`.
fn csr_text(csr: Csr) -> FnResult<String> {
    Ok(inspect::inspect_csr_der(csr.der()).map_err(rt)?.to_text())
}

/// `text(cert)`.
fn cert_text(cert: Certificate) -> FnResult<String> {
    Ok(inspect::inspect_cert_der(cert.der()).map_err(rt)?.to_text())
}

/// `info(cert)`.
fn info(cert: Certificate) -> FnResult<Dynamic> {
    rhai::serde::to_dynamic(inspect::inspect_cert_der(cert.der()).map_err(rt)?)
}

/// `inspect(path)`: every PEM block of the file.
fn inspect_file(ctx: &Ctx, path: &str) -> FnResult<Dynamic> {
    let bytes = ctx.ws.read(path).map_err(rt)?;
    rhai::serde::to_dynamic(inspect::inspect_pem(&bytes).map_err(at(path))?)
}
