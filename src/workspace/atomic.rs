//! The one atomic-write mechanism: a file's data is staged where no reader sees it, in the
//! directory of its final name, then put in place by one link or rename.
//!
//! A new file is staged as an unnamed inode (`O_TMPFILE`) and linked under its name, which
//! fails if the name exists: readers see the whole file or nothing, a crash leaves nothing
//! behind, and the directory changes once. Where `O_TMPFILE` or `/proc` is missing, and for
//! replacements, the data is staged in a hidden temporary file (`.pkirun-…`, [`TEMP_PREFIX`])
//! that is renamed into place (without replacing: `RENAME_NOREPLACE`, or link + unlink where
//! that is missing). Modes are exact under any umask. Names are single components of an open
//! directory, and a symlink at the final name is never followed.
//!
//! [`write_at`] is the single write ([`Dir::write`](super::Dir::write),
//! [`Workspace::write`](super::Workspace::write)); group writes
//! ([`Workspace::write_all_or_nothing`](super::Workspace::write_all_or_nothing)) stage every
//! file with [`Staged::new`] first and place them afterwards, keeping [`Backup`]s of the files
//! they replace.

use std::fs::File;
use std::io::{self, Write as _};
use std::os::fd::{AsRawFd as _, BorrowedFd};
use std::path::Path;
use std::sync::OnceLock;

use rustix::fs::{AtFlags, CWD, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use super::error::io_error;
use super::{Error, Result, TEMP_PREFIX};

/// Writes `data` as the file `name` in the directory `dir`, atomically, with permission bits
/// `mode`; an existing file is replaced only with `overwrite`. `shown` names the file in errors.
pub(super) fn write_at(
    dir: BorrowedFd<'_>,
    name: &str,
    shown: &dyn Fn() -> String,
    data: &[u8],
    mode: u32,
    overwrite: bool,
) -> Result<()> {
    let staged = Staged::new(dir, data, mode, overwrite).map_err(|e| staging_error(shown, e))?;
    staged.place(name).map_err(|e| placing_error(shown, e))
}

/// The error of a failed [`Staged::new`] for the file shown as `shown`.
pub(super) fn staging_error(shown: &dyn Fn() -> String, e: io::Error) -> Error {
    io_error("write", &shown(), e)
}

/// The error of a failed [`Staged::place`]: [`Error::Exists`] if the name was taken.
pub(super) fn placing_error(shown: &dyn Fn() -> String, e: Errno) -> Error {
    if e == Errno::EXIST {
        Error::Exists { path: shown() }
    } else {
        io_error("write", &shown(), e.into())
    }
}

/// A file's data written in its directory but not yet under its name; dropping it discards
/// the data (an unnamed file vanishes, a temporary file is deleted).
pub(super) struct Staged<'d> {
    dir: BorrowedFd<'d>,
    file: StagedFile<'d>,
    overwrite: bool,
}

/// Where a [`Staged`] file's data is.
enum StagedFile<'d> {
    /// An unnamed inode (`O_TMPFILE`), to be linked under its name.
    Unnamed(File),
    /// A hidden temporary file, to be renamed to its name.
    Named(NamedTemp<'d>),
}

impl<'d> Staged<'d> {
    /// Writes `data` with permission bits `mode` into `dir`, ready to be placed under a name;
    /// `overwrite` says whether [`Staged::place`] may replace an existing file.
    pub(super) fn new(
        dir: BorrowedFd<'d>,
        data: &[u8],
        mode: u32,
        overwrite: bool,
    ) -> io::Result<Self> {
        if !overwrite && proc_fd_available() {
            match create_unnamed(dir, data, mode) {
                Ok(file) => {
                    return Ok(Staged {
                        dir,
                        file: StagedFile::Unnamed(file),
                        overwrite,
                    });
                }
                Err(Unnamed::Unsupported) => {}
                Err(Unnamed::Failed(e)) => return Err(e),
            }
        }
        let tmp = NamedTemp::create(dir, data, mode)?;
        Ok(Staged {
            dir,
            file: StagedFile::Named(tmp),
            overwrite,
        })
    }

    /// Puts the data in place as `name`. Without `overwrite`, fails with `EEXIST` if the name
    /// is taken (by a symlink too: the name is never followed); the staged data is then
    /// discarded.
    pub(super) fn place(self, name: &str) -> rustix::io::Result<()> {
        match self.file {
            StagedFile::Unnamed(file) => link_unnamed(&file, self.dir, name),
            StagedFile::Named(tmp) => tmp.persist(name, self.overwrite),
        }
    }
}

/// Why [`create_unnamed`] made no file.
enum Unnamed {
    /// The file system cannot make unnamed files.
    Unsupported,
    /// Anything else (permissions, space, ...).
    Failed(io::Error),
}

/// An unnamed regular file in `dir` holding `data`, with permission bits `mode`.
fn create_unnamed(dir: BorrowedFd<'_>, data: &[u8], mode: u32) -> Result<File, Unnamed> {
    let flags = OFlags::WRONLY | OFlags::TMPFILE | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(dir, ".", flags, Mode::from_raw_mode(mode)) {
        Ok(fd) => fd,
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL) => return Err(Unnamed::Unsupported),
        Err(e) => return Err(Unnamed::Failed(e.into())),
    };
    let mut file = File::from(fd);
    file.write_all(data).map_err(Unnamed::Failed)?;
    set_mode(&file, mode).map_err(Unnamed::Failed)?;
    Ok(file)
}

/// Gives an unnamed file its name; fails with `EEXIST` if the name is taken (a symlink there
/// included: the new name is never followed).
fn link_unnamed(file: &File, dir: BorrowedFd<'_>, name: &str) -> rustix::io::Result<()> {
    // Linking by descriptor (AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the /proc path does not.
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    rustix::fs::linkat(CWD, proc_path.as_str(), dir, name, AtFlags::SYMLINK_FOLLOW)
}

/// Whether `/proc/self/fd` exists, which linking an unnamed file needs (a minimal container
/// may lack it); checked once per process.
fn proc_fd_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| Path::new("/proc/self/fd").exists())
}

/// Sets `mode` on a file created with it, unless the process umask left it intact (saves a
/// system call per file in bulk runs).
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    if umask().is_some_and(|mask| mode & mask == 0) {
        return Ok(());
    }
    rustix::fs::fchmod(file, Mode::from_raw_mode(mode)).map_err(Into::into)
}

/// The process umask, read once from `/proc/self/status` (`umask(2)` cannot read it without
/// changing it); `None` if unknown.
fn umask() -> Option<u32> {
    static UMASK: OnceLock<Option<u32>> = OnceLock::new();
    *UMASK.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
        u32::from_str_radix(line.trim(), 8).ok()
    })
}

/// A hidden hard link to a file that a group write replaces, so the file can be put back if
/// the group fails; the link is removed on drop unless [`Backup::restore`]d.
pub(super) struct Backup<'d>(NamedTemp<'d>);

impl<'d> Backup<'d> {
    /// Links the file `name` in `dir` under a hidden name. `None` if nothing is there or the
    /// file system cannot link (the group write still proceeds, without this safety net).
    pub(super) fn of(dir: BorrowedFd<'d>, name: &str) -> Option<Self> {
        NamedTemp::with_fresh_name(dir, |tmp| {
            rustix::fs::linkat(dir, name, dir, tmp, AtFlags::empty())
        })
        .ok()
        .map(|(link, ())| Backup(link))
    }

    /// Renames the backup over `name`, putting the old file back. Best effort: the caller is
    /// already reporting the error that caused the rollback.
    pub(super) fn restore(self, name: &str) {
        let _ = self.0.persist(name, true);
    }
}

/// A hidden temporary file (`.pkirun-…`) in a directory, deleted on drop unless persisted.
struct NamedTemp<'d> {
    dir: BorrowedFd<'d>,
    name: String,
    armed: bool,
}

impl<'d> NamedTemp<'d> {
    /// Creates the file with a fresh random name and writes `data` with mode `mode`.
    fn create(dir: BorrowedFd<'d>, data: &[u8], mode: u32) -> io::Result<Self> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let (tmp, fd) = Self::with_fresh_name(dir, |name| {
            rustix::fs::openat(
                dir,
                name,
                flags | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            )
        })?;
        // From here on, dropping `tmp` removes the file.
        let mut file = File::from(fd);
        file.write_all(data)?;
        // Named files always get their mode explicitly (an existing file's mode is not
        // inherited by a replacement).
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
        Ok(tmp)
    }

    /// Calls `make` with fresh random hidden names until it makes an entry there (a name that
    /// exists, `EEXIST`, is retried), and arms the entry for removal on drop; returns it with
    /// what `make` returned.
    fn with_fresh_name<T>(
        dir: BorrowedFd<'d>,
        mut make: impl FnMut(&str) -> rustix::io::Result<T>,
    ) -> io::Result<(Self, T)> {
        for _ in 0..32 {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
            let name = format!("{TEMP_PREFIX}{}", hex::encode(random));
            match make(&name) {
                Ok(made) => {
                    let tmp = NamedTemp {
                        dir,
                        name,
                        armed: true,
                    };
                    return Ok((tmp, made));
                }
                Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary file name",
        ))
    }

    /// Renames the file to `name`; without `overwrite`, fails with `EEXIST` if `name` exists.
    fn persist(mut self, name: &str, overwrite: bool) -> rustix::io::Result<()> {
        let tmp = self.name.as_str();
        if overwrite {
            rustix::fs::renameat(self.dir, tmp, self.dir, name)?;
        } else {
            match rustix::fs::renameat_with(self.dir, tmp, self.dir, name, RenameFlags::NOREPLACE) {
                Ok(()) => {}
                // The file system cannot rename without replacing: link (fails if the name
                // exists), then drop the temporary name.
                Err(Errno::INVAL | Errno::NOSYS) => {
                    rustix::fs::linkat(self.dir, tmp, self.dir, name, AtFlags::empty())?;
                    let _ = rustix::fs::unlinkat(self.dir, tmp, AtFlags::empty());
                }
                Err(e) => return Err(e),
            }
        }
        self.armed = false;
        Ok(())
    }
}

impl Drop for NamedTemp<'_> {
    fn drop(&mut self) {
        if self.armed {
            let _ = rustix::fs::unlinkat(self.dir, self.name.as_str(), AtFlags::empty());
        }
    }
}
