//! What can go wrong in a batch, each error with the row, file or name it concerns.

/// Errors of a batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A spec (row) is invalid; nothing was written.
    #[error("{source_name} row {row}: {message}")]
    Row {
        /// The inventory file or "specs".
        source_name: String,
        /// 1-based row (for CSV, the header is row 1 and data starts at row 2).
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// A file operation failed.
    #[error(transparent)]
    Workspace(#[from] crate::workspace::Error),
    /// Signing failed.
    #[error("`{name}`: {source}")]
    Pki {
        /// The spec or CSR name.
        name: String,
        /// The core error.
        #[source]
        source: crate::pki::Error,
    },
    /// A file a re-run would keep is broken, foreign or not what the spec asks; it is
    /// neither kept nor replaced (`--force` replaces it).
    #[error("`{path}`: {reason}; not kept and not replaced (remove it or run with --force)")]
    Kept {
        /// The file, relative to the root.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA's database could not be read or written.
    #[error("`{path}`: {message}")]
    Database {
        /// index.txt's path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The manifest could not be read or written.
    #[error("manifest `{path}`: {message}")]
    Manifest {
        /// Manifest path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The report of refused CSRs could not be written.
    #[error("report `{path}`: {message}")]
    Report {
        /// Report path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The thread pool could not be built.
    #[error("cannot start {0} worker threads")]
    Pool(usize),
    /// Ctrl-C stopped the batch; what was finished is whole (and recorded).
    #[error(
        "{issued} of {total} certificates issued{recorded}, {kept} kept, {left} left for a re-run"
    )]
    Interrupted {
        /// Certificates made before the interrupt.
        issued: usize,
        /// Outputs found and kept.
        kept: usize,
        /// Items of the batch.
        total: usize,
        /// Items not started.
        left: usize,
        /// ` and recorded in `manifest.jsonl`` when the batch has a manifest.
        recorded: String,
    },
}

/// Result alias for batches.
pub type Result<T, E = Error> = std::result::Result<T, E>;
