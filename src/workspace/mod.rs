//! The file layer: every path a script uses is relative to one root directory (`-C DIR`).
//!
//! Guarantees:
//!
//! - no path leaves the root, neither lexically (`../x`, `/etc/passwd`) nor through a symlink
//!   that points outside (`confine.rs`);
//! - writes are atomic (`atomic.rs`): a new file is written as an unnamed inode (`O_TMPFILE`)
//!   in the target's directory, gets its final mode, and is then linked under its name
//!   (failing if the name exists); a replacement (or a file system without `O_TMPFILE`) goes
//!   through a hidden temporary file (`.pkirun-…`) renamed into place. Readers see the old
//!   file or the new one, never a half-written one;
//! - existing files are not overwritten unless the write says `overwrite` or the workspace was
//!   made with [`Workspace::with_force`];
//! - [`Workspace::write_all_or_nothing`] writes a group of files (a key and its certificate)
//!   all or nothing (`all_or_nothing.rs`).
//!
//! There is no per-file fsync (bulk runs write thousands of files); call
//! [`Workspace::sync_all`] before recording what is durable.
//!
//! Files: `confine.rs` resolves paths inside the root, `write.rs` is the single write,
//! `all_or_nothing.rs` the group write, `dir.rs` an open directory for bulk runs, `entries.rs`
//! reads, lists and manages entries, `atomic.rs` is the atomic write they all use,
//! `plan.rs` the dry run that keeps writes in memory, and `error.rs` the error type.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod all_or_nothing;
mod atomic;
mod confine;
mod dir;
mod entries;
mod error;
mod plan;
#[cfg(test)]
mod test_support;
mod write;

pub use dir::Dir;
pub use error::{Error, Result, io_error};
pub use plan::{Action, Plan, Planned};
pub use write::WriteOptions;

/// Name prefix of the temporary files this module creates; [`Workspace::list`] hides them.
const TEMP_PREFIX: &str = ".pkirun-";

/// A root directory that all script paths are relative to.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Canonical path of the root directory.
    root: PathBuf,
    /// `--force`: overwriting is allowed for every write.
    force: bool,
    /// A dry run's plan (`--dry-run`): writes go here instead of to disk.
    plan: Option<plan::Shared>,
}

impl Workspace {
    /// Opens the workspace rooted at `root`, which must be an existing directory.
    pub fn new(root: impl AsRef<Path>) -> Result<Self> {
        let given = root.as_ref();
        let shown = given.display().to_string();
        let root = fs::canonicalize(given).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::NotFound {
                path: shown.clone(),
            },
            _ => io_error("open", &shown, e),
        })?;
        let meta = fs::metadata(&root).map_err(|e| io_error("open", &shown, e))?;
        if !meta.is_dir() {
            return Err(Error::InvalidPath {
                path: shown,
                reason: "not a directory".into(),
            });
        }
        Ok(Self {
            root,
            force: false,
            plan: None,
        })
    }

    /// With `force` (the `--force` flag), every write may overwrite existing files.
    #[must_use]
    pub fn with_force(self, force: bool) -> Self {
        Self { force, ..self }
    }

    /// Whether `--force` allows overwriting existing files.
    pub fn force(&self) -> bool {
        self.force
    }

    /// Flushes every file written so far on the workspace's file system to disk (`syncfs`):
    /// one call makes a whole batch durable, instead of one fsync per file.
    pub fn sync_all(&self) -> Result<()> {
        let dir = fs::File::open(&self.root).map_err(|e| self.io("sync", ".", e))?;
        rustix::fs::syncfs(&dir).map_err(|e| self.io("sync", ".", e.into()))
    }

    /// The canonical root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// An [`Error::Io`] for `rel`, or [`Error::NotFound`] if the error says it is missing.
    fn io(&self, op: &'static str, rel: &str, source: io::Error) -> Error {
        let path = self.display(rel);
        if source.kind() == io::ErrorKind::NotFound {
            Error::NotFound { path }
        } else {
            io_error(op, &path, source)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::Fixture;
    use super::*;

    #[test]
    fn new_requires_an_existing_directory() {
        let f = Fixture::new();
        assert!(matches!(
            Workspace::new(f.outer().join("missing")),
            Err(Error::NotFound { .. })
        ));
        fs::write(f.outer().join("file"), b"").unwrap();
        assert!(matches!(
            Workspace::new(f.outer().join("file")),
            Err(Error::InvalidPath { .. })
        ));
    }
}
