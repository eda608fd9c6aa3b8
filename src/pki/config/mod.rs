//! The vocabularies of the tools pkirun reproduces, parsed into core types: openssl's
//! (`basicConstraints`, `authorityKeyIdentifier`, key usage lists, `copy_extensions`, subject
//! `policy`) and cfssl's (its JSON request and signing configuration, mixed `usages`, Go
//! durations). A reader of openssl `.cnf` files belongs next to [`openssl`].

pub mod cfssl;
pub mod json;
pub mod openssl;
