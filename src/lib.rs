//! pkirun: a runtime for Rhai scripts that issue TLS certificates.
//!
//! Layers, data flowing one way: the CLI (`main.rs`) → [`script`] (Rhai bindings) →
//! [`pki`] (the pure PKI core) and [`workspace`] (files under a root directory). The checking
//! subcommands (`verify`, `expiry`) live in [`check`].

pub mod batch;
pub mod check;
pub mod pki;
pub mod plan_report;
pub mod script;
pub mod workspace;
