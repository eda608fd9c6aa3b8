//! The names of a batch's items: checked row by row (non-empty, unique, usable in a file
//! name, leading to paths inside the workspace) before anything is generated.

use std::collections::HashSet;

use super::{Error, Layout, Result};
use crate::workspace::Workspace;

/// A 128-bit digest standing in for a name or serial in the batch's sets: 16 bytes per entry
/// instead of a `String`, so memory stays flat at 100,000 certificates (a collision among
/// 2^64 names is not a practical concern).
#[must_use]
pub fn key128(bytes: &[u8]) -> u128 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    u128::from_be_bytes(k)
}

/// Checks, row by row, that names are non-empty, unique and usable in paths, and that every
/// output path is inside the workspace, before anything is generated.
pub(super) struct NameCheck<'a> {
    ws: &'a Workspace,
    layout: &'a Layout,
    source_name: &'a str,
    seen: HashSet<u128>,
}

impl<'a> NameCheck<'a> {
    /// A check of the names of `source_name` (the inventory file, or `CSRs`), whose outputs
    /// follow `layout`.
    pub(super) fn new(ws: &'a Workspace, layout: &'a Layout, source_name: &'a str) -> Self {
        NameCheck {
            ws,
            layout,
            source_name,
            seen: HashSet::new(),
        }
    }

    /// Checks the name of row `row`.
    pub(super) fn check(&mut self, row: usize, name: &str) -> Result<()> {
        let bad = |message: String| Error::Row {
            source_name: self.source_name.to_string(),
            row,
            message,
        };
        if name.trim().is_empty() {
            return Err(bad("empty name".into()));
        }
        if name.contains('/') || name.contains('\0') || name == "." || name == ".." {
            return Err(bad(format!("name `{name}` cannot be used in a file name")));
        }
        if !self.seen.insert(key128(name.as_bytes())) {
            return Err(bad(format!("duplicate name `{name}`")));
        }
        if self.seen.len() == 1 {
            // A name holds no `/` and is not `..`, so it cannot lead a path out of the
            // template's directory: checking the first row's paths checks every row's.
            // (Output directories are opened once they are resolved, and files in them are
            // never followed through symlinks, so a symlink planted later is refused.)
            self.ws
                .resolve(&self.layout.cert_path(name))
                .map_err(|e| bad(e.to_string()))?;
            self.ws
                .resolve(&self.layout.key_path(name))
                .map_err(|e| bad(e.to_string()))?;
        }
        Ok(())
    }
}

/// Checks every name of a batch (see [`NameCheck`]); returns how many there are.
///
/// # Errors
/// The first bad row.
pub fn validate_names<'a>(
    ws: &Workspace,
    layout: &Layout,
    source_name: &str,
    rows: impl Iterator<Item = (usize, &'a str)>,
) -> Result<usize> {
    let mut check = NameCheck::new(ws, layout, source_name);
    let mut count = 0;
    for (row, name) in rows {
        check.check(row, name)?;
        count += 1;
    }
    Ok(count)
}
