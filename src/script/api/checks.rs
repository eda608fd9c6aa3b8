//! Checks: validate parameters before anything is generated (`parse_sans`, `parse_ip`,
//! `parse_subject`) and check what was made (`verify`, `key_matches`).

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::FnResult;
use crate::pki::verify::{self, Purpose, VerifyOptions};
use crate::pki::{Ca, Certificate, Key};
use crate::script::Ctx;
use crate::script::convert;

/// Registers `parse_sans`, `parse_ip`, `parse_subject`, `verify` and `key_matches`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, _ctx: &Arc<Ctx>) {
    func!(engine, "parse_sans", ["what: &str", "sans: Dynamic", "Array"],
        "Checks subject alternative names as new_csr would, without making anything: an array or a
        comma-separated string of `DNS:x`, `IP:1.2.3.4`, `URI:...`, `email:...` or bare hosts.
        Returns them typed (\"IP:10.0.0.1\", \"DNS:kubernetes\"); an invalid one is an error naming `what`.",
        parse_sans);
    func!(engine, "parse_ip", ["what: &str", "value: &str", "String"],
        "Checks that `value` is an IPv4 or IPv6 address and returns it in canonical form;
        otherwise an error naming `what` (e.g. parse_ip(\"MASTER_IP\", ip)).",
        parse_ip);
    func!(engine, "parse_subject", ["subject: Dynamic", "String"],
        "Checks a subject as new_csr / new_ca would (\"/C=US/CN=x\", #{ CN: \"x\" } or [\"C=US\", \"CN=x\"])
        and returns it as openssl prints it (\"C = US, CN = x\"); an invalid field is an error.",
        parse_subject);
    func!(engine, "verify", ["cert: Cert", "trusted: Dynamic", "Array"],
        "Verifies `cert` the way `openssl verify -CAfile` does: a chain to `trusted` (a Ca, a
        Cert, or an array of them) with every signature, validity window and CA constraint.
        Returns the chain's subjects, the certificate first; a failure is an error saying which
        certificate failed and why.",
        |cert: Certificate, trusted: Dynamic| verify_with(&cert, &trusted, &Map::new()));
    func!(engine, "verify", ["cert: Cert", "trusted: Dynamic", "opts: Map", "Array"],
        "Like verify(cert, trusted), and also: `host` (a DNS name or IP address the certificate
        must carry, like -verify_hostname/-verify_ip), `purpose` (\"server\" or \"client\", like
        -purpose sslserver/sslclient), `intermediates` (untrusted CA certificates to build the
        chain through) and `key` (a Key that must belong to the certificate).",
        |cert: Certificate, trusted: Dynamic, opts: Map| verify_with(&cert, &trusted, &opts));
    func!(engine, "key_matches", ["cert: Cert", "key: Key", "bool"],
        "True when `key` is the private key of `cert` (their public keys are equal), what
        comparing `openssl x509 -pubkey` with `openssl pkey -pubout` checks.",
        |cert: Certificate, key: Key| -> bool { verify::key_matches(&cert, &key) });
}

/// `parse_sans(what, sans)`: the SANs, typed, as strings.
fn parse_sans(what: &str, sans: Dynamic) -> FnResult<Array> {
    Ok(super::texts(convert::sans(what, &sans)?))
}

/// `parse_ip(what, value)`: the address in canonical form.
fn parse_ip(what: &str, value: &str) -> FnResult<String> {
    value
        .trim()
        .parse::<std::net::IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("`{what}`: `{value}` is not an IPv4 or IPv6 address").into())
}

/// `parse_subject(subject)`: the subject as openssl prints it.
fn parse_subject(subject: Dynamic) -> FnResult<String> {
    Ok(convert::subject(&subject)?.to_string())
}

/// The trust anchors a script passes to `verify`: a Ca, a Cert, or an array of them.
fn anchors(v: &Dynamic) -> FnResult<Vec<Certificate>> {
    if let Some(ca) = v.clone().try_cast::<Ca>() {
        return Ok(vec![ca.cert().clone()]);
    }
    if let Some(cert) = v.clone().try_cast::<Certificate>() {
        return Ok(vec![cert]);
    }
    if let Some(items) = v.clone().try_cast::<Array>() {
        let mut out = Vec::new();
        for item in &items {
            out.extend(anchors(item)?);
        }
        return Ok(out);
    }
    Err(format!(
        "verify: expected a Ca, a Cert or an array of them, got {}",
        v.type_name()
    )
    .into())
}

/// Runs the verification `verify(cert, trusted, opts)` describes.
fn verify_with(cert: &Certificate, trusted: &Dynamic, opts: &Map) -> FnResult<Array> {
    convert::check_keys("verify", opts, &["host", "purpose", "intermediates", "key"])?;
    let trusted = anchors(trusted)?;
    let untrusted = match opts.get("intermediates") {
        Some(v) => anchors(v)?,
        None => Vec::new(),
    };
    let purpose = match convert::opt_string(opts, "purpose")? {
        None => None,
        Some(p) => Some(
            Purpose::parse(&p)
                .ok_or_else(|| format!("verify: `purpose`: `{p}` (expected server or client)"))?,
        ),
    };
    let options = VerifyOptions {
        host: convert::opt_string(opts, "host")?,
        purpose,
        ..VerifyOptions::default()
    };
    let chain = verify::verify(cert, &trusted, &untrusted, &options).map_err(|e| e.to_string())?;
    if let Some(key) = opts.get("key") {
        let key = key
            .clone()
            .try_cast::<Key>()
            .ok_or("verify: `key`: expected a Key")?;
        if !verify::key_matches(cert, &key) {
            return Err("the key does not belong to this certificate".into());
        }
    }
    Ok(chain.into_iter().map(Dynamic::from).collect())
}
