//! The vocabularies of the tools pkirun reproduces, parsed into core types: openssl's
//! (`basicConstraints`, `authorityKeyIdentifier`, key usage lists, `copy_extensions`, subject
//! `policy`) and cfssl's (its JSON request and signing configuration, mixed `usages`, Go
//! durations); and openssl's configuration files ([`cnf`]).

pub mod cfssl;
pub mod cnf;
pub mod cnf_commands;
pub mod cnf_sections;
pub mod json;
pub mod openssl;
