//! Writes and reads relative to an open directory descriptor.
//!
//! [`Dir`] is a directory of the workspace resolved and opened once; its files are then named
//! by a single path component, so a bulk run that writes thousands of files into one directory
//! does no path resolution per file (the kernel walks one name, not the whole path, and no
//! symlink checks are repeated). [`write_at`] is the atomic write both [`Dir::write`] and
//! [`Workspace::write`](super::Workspace::write) use.

use std::fs::File;
use std::io::{self, Read as _, Write as _};
use std::os::fd::{AsFd, AsRawFd as _, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::OnceLock;

use rustix::fs::{AtFlags, CWD, FileType, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

use super::{Error, Result, TEMP_PREFIX, WriteOptions};

/// An [`Error::Io`]; the OS error is reduced to its kind when it has one ("permission denied"
/// rather than "Permission denied (os error 13)"), the way messages read elsewhere.
fn io_error(op: &'static str, shown: &str, source: io::Error) -> Error {
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
        | K::TooManyLinks) => io::Error::from(kind),
        _ => source,
    };
    super::io_error(op, shown, source)
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

    /// Writes `data` to `name` atomically (see [`write_at`]): a new file never replaces one
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
        Ok(())
    }

    fn not_regular(&self, name: &str) -> Error {
        Error::InvalidPath {
            path: self.display(name),
            reason: "is not a regular file (symlinks are not followed here)".into(),
        }
    }
}

/// Writes `data` as the file `name` in the directory `dir`, atomically, with permission bits
/// `mode`. `shown` names the file in errors.
///
/// Without `overwrite`, the file is made as an unnamed inode (`O_TMPFILE`), filled, and linked
/// under its name, which fails if the name exists: readers see the whole file or nothing, a
/// crash leaves nothing behind, and the directory changes once. Where `O_TMPFILE` or `/proc`
/// is missing, and for replacements, a hidden temporary file (`.pkirun-…`) is renamed into
/// place (without replacing, `RENAME_NOREPLACE`, or link + unlink where that is missing).
pub(super) fn write_at(
    dir: BorrowedFd<'_>,
    name: &str,
    shown: &dyn Fn() -> String,
    data: &[u8],
    mode: u32,
    overwrite: bool,
) -> Result<()> {
    let failed = |e: io::Error| io_error("write", &shown(), e);
    let exists = |e: Errno| {
        if e == Errno::EXIST {
            Error::Exists { path: shown() }
        } else {
            failed(e.into())
        }
    };
    if !overwrite {
        match create_unnamed(dir, data, mode) {
            Ok(file) => match link_unnamed(&file, dir, name) {
                Ok(()) => return Ok(()),
                // No /proc (a minimal container): use a named temporary file.
                Err(Errno::NOENT) if !Path::new("/proc/self/fd").exists() => {}
                Err(e) => return Err(exists(e)),
            },
            Err(Unnamed::Unsupported) => {}
            Err(Unnamed::Failed(e)) => return Err(failed(e)),
        }
    }
    let tmp = NamedTemp::create(dir, data, mode).map_err(failed)?;
    tmp.persist(name, overwrite).map_err(exists)
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

/// A hidden temporary file (`.pkirun-…`) in a directory, deleted on drop unless persisted.
struct NamedTemp<'a> {
    dir: BorrowedFd<'a>,
    name: String,
    armed: bool,
}

impl<'a> NamedTemp<'a> {
    /// Creates the file with a fresh random name and writes `data` with mode `mode`.
    fn create(dir: BorrowedFd<'a>, data: &[u8], mode: u32) -> io::Result<Self> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        for _ in 0..32 {
            let mut random = [0u8; 8];
            getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
            let name = format!("{TEMP_PREFIX}{}", hex::encode(random));
            let fd = match rustix::fs::openat(
                dir,
                name.as_str(),
                flags | OFlags::CLOEXEC,
                Mode::from_raw_mode(mode),
            ) {
                Ok(fd) => fd,
                Err(Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            };
            // From here on, dropping `tmp` removes the file.
            let tmp = NamedTemp {
                dir,
                name,
                armed: true,
            };
            let mut file = File::from(fd);
            file.write_all(data)?;
            // Named files always get their mode explicitly (an existing file's mode is not
            // inherited by a replacement).
            rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
            return Ok(tmp);
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
