//! The file layer's error type and its one formatter for operating-system errors.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong in the file layer.
///
/// Messages name the path as the user should see it (relative to the root) in backticks,
/// followed by a lowercase explanation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The path escapes the root directory, lexically or through a symlink.
    #[error(
        "`{path}`: path is outside the working directory `{}` (paths are relative to -C DIR)",
        root.display()
    )]
    OutsideRoot {
        /// The path as the user wrote it.
        path: String,
        /// The (canonical) root directory.
        root: PathBuf,
    },
    /// A write would replace an existing file without permission to do so.
    #[error(
        "`{path}`: refusing to overwrite existing file (pass --force, or overwrite: true in the script)"
    )]
    Exists {
        /// The file that already exists.
        path: String,
    },
    /// An operating-system error.
    #[error("`{path}`: cannot {op}: {source}")]
    Io {
        /// What was being done: "write", "read", "create directory", "copy", ...
        op: &'static str,
        /// The path concerned.
        path: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file or directory does not exist.
    #[error("`{path}`: not found")]
    NotFound {
        /// The missing path.
        path: String,
    },
    /// A path argument that cannot be used at all (empty, contains NUL, is a directory, ...).
    #[error("`{path}`: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: String,
    },
}

impl Error {
    /// `path` names a directory where a file was meant; `what` says which files the call
    /// takes, if any (`only files can be removed`).
    pub(super) fn directory(path: String, what: Option<&str>) -> Error {
        let reason = match what {
            Some(what) => format!("is a directory ({what})"),
            None => "is a directory".into(),
        };
        Error::InvalidPath { path, reason }
    }

    /// A write to `shown` whose directory, `parent` (as shown), does not exist: pkirun
    /// creates no directory unasked.
    pub(super) fn missing_directory(shown: &str, parent: &str) -> Error {
        io_error(
            "write",
            shown,
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("directory `{parent}` does not exist (create it with mkdir first)"),
            ),
        )
    }
}

/// The result type of the file layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An [`Error::Io`] for `op` on the path shown as `shown`: the one formatter of I/O errors in
/// this module.
///
/// An operating-system error is reduced to its kind when the kind has a description of its
/// own ("permission denied" rather than "Permission denied (os error 13)"), the way messages
/// read elsewhere; an error made with a message of its own keeps it.
pub fn io_error(op: &'static str, shown: &str, source: io::Error) -> Error {
    use io::ErrorKind as K;
    let source = match source.kind() {
        kind @ (K::PermissionDenied
        | K::NotFound
        | K::AlreadyExists
        | K::StorageFull
        | K::QuotaExceeded
        | K::ReadOnlyFilesystem
        | K::NotADirectory
        | K::IsADirectory
        | K::FileTooLarge
        | K::TooManyLinks)
            if source.raw_os_error().is_some() =>
        {
            io::Error::from(kind)
        }
        _ => source,
    };
    Error::Io {
        op,
        path: shown.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_have_the_documented_text() {
        let cases: [(Error, &str); 5] = [
            (
                Error::OutsideRoot {
                    path: "../x".into(),
                    root: PathBuf::from("/root/dir"),
                },
                "`../x`: path is outside the working directory `/root/dir` \
                 (paths are relative to -C DIR)",
            ),
            (
                Error::Exists {
                    path: "node-certs/node.key".into(),
                },
                "`node-certs/node.key`: refusing to overwrite existing file \
                 (pass --force, or overwrite: true in the script)",
            ),
            (
                Error::Io {
                    op: "create directory",
                    path: "certs".into(),
                    source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
                },
                "`certs`: cannot create directory: permission denied",
            ),
            (
                Error::NotFound {
                    path: "ca.pem".into(),
                },
                "`ca.pem`: not found",
            ),
            (
                Error::InvalidPath {
                    path: "".into(),
                    reason: "path is empty".into(),
                },
                "``: path is empty",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn io_error_reduces_os_errors_to_their_kind_and_keeps_own_messages() {
        let os = io::Error::from_raw_os_error(13);
        assert_eq!(
            io_error("read", "a.pem", os).to_string(),
            "`a.pem`: cannot read: permission denied"
        );
        let own = io::Error::new(io::ErrorKind::NotFound, "directory `d` does not exist");
        assert_eq!(
            io_error("write", "d/a.pem", own).to_string(),
            "`d/a.pem`: cannot write: directory `d` does not exist"
        );
    }
}
