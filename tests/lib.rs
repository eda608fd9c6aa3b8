//! pkirun's integration tests: one binary, one module per area.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[allow(dead_code)] // helpers are shared by all test modules; not every module uses each one
mod util;

mod bulk;
mod bulk_safety;
mod bulk_stop;
mod ca_dir;
mod cnf;
mod cockroach;
mod crl;
mod diff;
mod dm;
mod drift;
mod dry_run;
mod errors;
mod etcd;
mod interop;
mod keys_at_rest;
mod kubernetes;
mod kubernetes_cfssl;
mod loading;
mod name_constraints;
mod output;
mod pkcs12;
mod policy;
mod readme;
mod records;
mod renew;
mod site_ca;
mod verify;
