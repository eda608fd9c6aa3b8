//! The script API, one module per area a script author thinks in. Each area has a `register`
//! that adds its functions (named Rust functions with a doc comment each) to an engine; the
//! single list of areas, in the order `pkirun functions` shows them, is
//! [`AREAS`](super::AREAS).

pub(super) mod batch;
pub(super) mod ca;
pub(super) mod certs;
pub(super) mod cfssl;
pub(super) mod checks;
pub(super) mod csr;
pub(super) mod files;
pub(super) mod inspect;
pub(super) mod keys;
pub(super) mod openssl_cnf;
pub(super) mod params;
pub(super) mod pkcs12;
pub(super) mod renewal;
pub(super) mod rerun;
pub(super) mod revocation;
pub(super) mod system;
pub(super) mod values;
mod write_options;

use rhai::EvalAltResult;

/// What every script function returns: its value, or a runtime error (Rhai adds the call
/// position).
pub(crate) type FnResult<T> = Result<T, Box<EvalAltResult>>;

/// Each item's text, as a script array (SANs as `DNS:x`, section names, ...).
fn texts<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> rhai::Array {
    items
        .into_iter()
        .map(|item| rhai::Dynamic::from(item.to_string()))
        .collect()
}

/// A certificate's or request's name as its property gives it (`O = Cockroach, CN = root`), or
/// the decoding error, named by the property (`cert.subject`).
fn name_text(
    property: &str,
    name: crate::pki::Result<crate::pki::DistinguishedName>,
) -> FnResult<String> {
    name.map(|n| n.to_string())
        .map_err(|e| format!("{property}: {e}").into())
}

/// Prefixes a core error with the file it concerns: "`ca.key`: ...".
fn at(path: &str) -> impl Fn(crate::pki::Error) -> Box<EvalAltResult> + '_ {
    move |e| format!("`{path}`: {e}").into()
}
