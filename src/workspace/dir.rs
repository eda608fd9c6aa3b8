//! Writes and reads relative to an open directory descriptor.
//!
//! [`Dir`] is a directory of the workspace resolved and opened once; its files are then named
//! by a single path component, so a bulk run that writes thousands of files into one directory
//! does no path resolution per file (the kernel walks one name, not the whole path, and no
//! symlink checks are repeated). Its writes go through the workspace's one atomic write
//! ([`super::atomic`]).

use std::fs::File;
use std::io::Read as _;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::atomic::write_at;
use super::error::io_error;
use super::{Error, Result, Workspace, WriteOptions};

impl Workspace {
    /// Opens the directory `rel` (which must exist inside the root) for many reads and writes
    /// of files directly in it, without resolving a path per file: the bulk writer.
    pub fn open_dir(&self, rel: &str) -> Result<Dir> {
        if self.is_dry_run() {
            return Err(Error::InvalidPath {
                path: self.display(rel),
                reason: "the bulk writer is not open in a dry run (batches plan their files)"
                    .into(),
            });
        }
        let path = self.resolve(rel)?;
        Dir::open(&path, self.display(rel), self.force)
    }
}

/// A directory of the workspace, opened once; its files are named by one path component.
///
/// Made by [`Workspace::open_dir`](super::Workspace::open_dir), which checks that the directory
/// lies inside the root. Names may not contain `/` or be `.`/`..`, and symlinks in the
/// directory are never followed: an entry that is not a regular file is an error. The
/// descriptor keeps naming the directory it opened even if the path is swapped afterwards.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    /// The directory as users see it (relative to the root, `.` for the root).
    shown: String,
    /// `--force`: every write may replace an existing file.
    force: bool,
}

impl Dir {
    /// Opens the directory at `path` (already resolved and checked by the caller).
    pub(super) fn open(path: &Path, shown: String, force: bool) -> Result<Self> {
        // O_PATH: creating files in a directory needs write and search permission on it, not
        // read permission (a drop box, mode -wx, still takes files).
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        match rustix::fs::open(path, flags, Mode::empty()) {
            Ok(fd) => Ok(Dir { fd, shown, force }),
            Err(Errno::NOENT) => Err(Error::NotFound { path: shown }),
            Err(Errno::NOTDIR) => Err(Error::InvalidPath {
                path: shown,
                reason: "not a directory".into(),
            }),
            Err(e) => Err(io_error("open", &shown, e.into())),
        }
    }

    /// The directory's descriptor.
    pub(super) fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// `name` as users see it in messages: `dir/name`.
    pub fn display(&self, name: &str) -> String {
        if self.shown == "." {
            name.to_owned()
        } else {
            format!("{}/{name}", self.shown)
        }
    }

    /// Whether a regular file named `name` exists here.
    ///
    /// # Errors
    /// [`Error::InvalidPath`] if `name` is not a single component, or the entry is a symlink,
    /// a directory or anything but a regular file.
    pub fn exists(&self, name: &str) -> Result<bool> {
        self.check_name(name)?;
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => Ok(true),
            Ok(_) => Err(self.not_regular(name)),
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(io_error("access", &self.display(name), e.into())),
        }
    }

    /// Calls `f` with the name of every entry in the directory (`.` and `..` excepted), in
    /// directory order, without collecting them.
    ///
    /// # Errors
    /// The directory cannot be read (e.g. no read permission).
    pub fn for_each_name(&self, mut f: impl FnMut(&[u8])) -> Result<()> {
        let failed = |e: Errno| io_error("list", &self.shown, e.into());
        // The descriptor is O_PATH; listing needs the directory opened for reading.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let readable = rustix::fs::openat(&self.fd, ".", flags, Mode::empty()).map_err(failed)?;
        for entry in rustix::fs::Dir::new(readable).map_err(failed)? {
            let entry = entry.map_err(failed)?;
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                f(name);
            }
        }
        Ok(())
    }

    /// Reads the whole regular file `name`.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::InvalidPath`] for a bad name or a symlink, or an I/O error.
    pub fn read(&self, name: &str) -> Result<Vec<u8>> {
        self.check_name(name)?;
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                return Err(Error::NotFound {
                    path: self.display(name),
                });
            }
            Err(Errno::LOOP) => return Err(self.not_regular(name)),
            Err(e) => return Err(io_error("read", &self.display(name), e.into())),
        };
        let mut data = Vec::new();
        File::from(fd)
            .read_to_end(&mut data)
            .map_err(|e| io_error("read", &self.display(name), e))?;
        Ok(data)
    }

    /// Writes `data` to `name` atomically (see [`super::atomic`]): a new file never replaces one
    /// that appeared meanwhile; an existing file is replaced only with `opts.overwrite` or
    /// `--force`.
    ///
    /// # Errors
    /// [`Error::Exists`], [`Error::InvalidPath`] for a bad name, or an I/O error.
    pub fn write(&self, name: &str, data: &[u8], opts: WriteOptions) -> Result<()> {
        self.check_name(name)?;
        let overwrite = opts.overwrite || self.force;
        write_at(
            self.fd.as_fd(),
            name,
            &|| self.display(name),
            data,
            opts.effective_mode(),
            overwrite,
        )
    }

    fn check_name(&self, name: &str) -> Result<()> {
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
            return Err(Error::InvalidPath {
                path: self.display(&name.escape_default().to_string()),
                reason: "not a file name (one path component expected)".into(),
            });
        }
        super::confine::refuse_control_characters(name).map_err(|e| match e {
            Error::InvalidPath { reason, .. } => Error::InvalidPath {
                path: self.display(&name.escape_default().to_string()),
                reason,
            },
            other => other,
        })
    }

    fn not_regular(&self, name: &str) -> Error {
        Error::InvalidPath {
            path: self.display(name),
            reason: "is not a regular file (symlinks are not followed here)".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::super::test_support::{Fixture, KEY, OVERWRITE, mode_of};
    use super::*;

    #[test]
    fn dir_writes_new_files_refuses_existing_ones_and_replaces_on_request() {
        let f = Fixture::with_dir("certs");
        let dir = f.ws.open_dir("certs").unwrap();
        assert!(!dir.exists("a.key").unwrap());
        dir.write("a.key", b"old", KEY).unwrap();
        assert!(dir.exists("a.key").unwrap());
        assert_eq!(dir.read("a.key").unwrap(), b"old");
        assert_eq!(mode_of(&f.root().join("certs/a.key")), 0o400);
        let err = dir.write("a.key", b"new", KEY).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path == "certs/a.key"),
            "{err:?}"
        );
        assert_eq!(fs::read(f.root().join("certs/a.key")).unwrap(), b"old");
        dir.write("a.key", b"new", OVERWRITE).unwrap();
        f.assert_file("certs/a.key", b"new", 0o644);
        let forced = f.ws.clone().with_force(true).open_dir("certs").unwrap();
        forced.write("a.key", b"forced", KEY).unwrap();
        f.assert_file("certs/a.key", b"forced", 0o400);
    }

    #[test]
    fn dir_never_follows_symlinks_in_it() {
        let f = Fixture::with_dir("certs");
        fs::write(f.root().join("target.pem"), b"target").unwrap();
        symlink("../target.pem", f.root().join("certs/link.pem")).unwrap();
        let dir = f.ws.open_dir("certs").unwrap();
        for err in [
            dir.exists("link.pem").unwrap_err(),
            dir.read("link.pem").unwrap_err(),
        ] {
            assert!(
                matches!(&err, Error::InvalidPath { path, reason }
                    if path == "certs/link.pem" && reason.contains("not a regular file")),
                "{err:?}"
            );
        }
        let err = dir.write("link.pem", b"new", KEY).unwrap_err();
        assert!(matches!(err, Error::Exists { .. }), "{err:?}");
        assert_eq!(fs::read(f.root().join("target.pem")).unwrap(), b"target");
    }

    #[test]
    fn dir_takes_single_file_names_only() {
        let f = Fixture::new();
        let dir = f.ws.open_dir(".").unwrap();
        for name in ["", ".", "..", "a/b", "../x", "a\0b"] {
            let err = dir.write(name, b"x", KEY).unwrap_err();
            assert!(
                matches!(&err, Error::InvalidPath { reason, .. } if reason.contains("one path component")),
                "{name:?}: {err:?}"
            );
            assert!(
                dir.read(name).is_err() && dir.exists(name).is_err(),
                "{name:?}"
            );
        }
        assert_eq!(fs::read_dir(f.root()).unwrap().count(), 0);
    }

    #[test]
    fn open_dir_is_confined_to_the_root_and_reports_missing_directories() {
        let f = Fixture::new();
        let err = f.ws.open_dir("..").unwrap_err();
        assert!(matches!(err, Error::OutsideRoot { .. }), "{err:?}");
        symlink(f.outer(), f.root().join("out")).unwrap();
        let err = f.ws.open_dir("out").unwrap_err();
        assert!(matches!(err, Error::OutsideRoot { .. }), "{err:?}");
        let err = f.ws.open_dir("missing").unwrap_err();
        assert!(
            matches!(&err, Error::NotFound { path } if path == "missing"),
            "{err:?}"
        );
        fs::write(f.root().join("file"), b"x").unwrap();
        let err = f.ws.open_dir("file").unwrap_err();
        assert!(matches!(err, Error::InvalidPath { .. }), "{err:?}");
    }

    #[test]
    fn a_dir_keeps_writing_where_it_was_opened_when_the_path_is_swapped() {
        let f = Fixture::with_dir("certs");
        let dir = f.ws.open_dir("certs").unwrap();
        fs::rename(f.root().join("certs"), f.root().join("moved")).unwrap();
        symlink(f.outer(), f.root().join("certs")).unwrap();
        dir.write("a.pem", b"x", KEY).unwrap();
        assert_eq!(fs::read(f.root().join("moved/a.pem")).unwrap(), b"x");
        assert!(!f.outer().join("a.pem").exists());
    }
}
