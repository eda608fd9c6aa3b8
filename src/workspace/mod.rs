//! The file layer: every path a script uses is relative to one root directory (`-C DIR`).
//!
//! Guarantees:
//!
//! - no path leaves the root, neither lexically (`../x`, `/etc/passwd`) nor through a symlink
//!   that points outside;
//! - writes are atomic: a new file is written as an unnamed inode (`O_TMPFILE`) in the target's
//!   directory, gets its final mode, and is then linked under its name (failing if the name
//!   exists); a replacement (or a file system without `O_TMPFILE`) goes through a hidden
//!   temporary file (`.pkirun-…`) renamed into place. Readers see the old file or the new one,
//!   never a half-written one;
//! - existing files are not overwritten unless the write says `overwrite` or the workspace was
//!   made with [`Workspace::with_force`];
//! - [`Workspace::write_new_many`] writes a group of files (a key and its certificate) all or
//!   nothing.
//!
//! There is no per-file fsync (bulk runs write thousands of files); call
//! [`Workspace::sync_all`] before recording what is durable.

use std::ffi::OsStr;
use std::fs::{self, Permissions};
use std::io::{self, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use tempfile::NamedTempFile;

mod dir;

pub use dir::Dir;

/// Name prefix of the temporary files this module creates; [`Workspace::list`] hides them.
const TEMP_PREFIX: &str = ".pkirun-";

/// Mode of written files when [`WriteOptions::mode`] is `None`.
const DEFAULT_MODE: u32 = 0o644;

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

/// The result type of the file layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Options for one write.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Permission bits of the new file; `None` means 0o644. Pass `Some(0o400)` for private keys.
    pub mode: Option<u32>,
    /// Replace the file if it already exists.
    pub overwrite: bool,
}

impl WriteOptions {
    /// The mode the file will get.
    fn effective_mode(self) -> u32 {
        self.mode.unwrap_or(DEFAULT_MODE) & 0o7777
    }
}

/// A root directory that all script paths are relative to.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Canonical path of the root directory.
    root: PathBuf,
    /// `--force`: overwriting is allowed for every write.
    force: bool,
}

/// A write target that passed all checks.
#[derive(Debug)]
struct Target {
    /// The path as users should see it.
    shown: String,
    /// The resolved path.
    path: PathBuf,
    /// Whether an existing file may be replaced.
    overwrite: bool,
}

/// A target with its data in a temporary file next to it, ready to be renamed into place.
#[derive(Debug)]
struct Staged {
    target: Target,
    tmp: NamedTempFile,
}

/// A file renamed into place by [`Workspace::commit_many`], for rollback.
#[derive(Debug)]
struct Committed {
    path: PathBuf,
    /// A hard link to the file that was replaced, if any; dropping it deletes the link.
    backup: Option<NamedTempFile<()>>,
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
        Ok(Self { root, force: false })
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

    /// Resolves a script path to a path inside the root.
    ///
    /// Relative paths are relative to the root; absolute paths are accepted only if they lie
    /// inside it. `.` and `..` are resolved lexically, and `..` may not climb above the root.
    /// Directories along the way are resolved through symlinks, and the result must still be
    /// inside the root; a final component that is a symlink must point inside the root too (the
    /// returned path names the link itself, so `remove` removes the link, not its target).
    pub fn resolve(&self, rel: &str) -> Result<PathBuf> {
        let lexical = self.lexical(rel)?;
        let outside = || Error::OutsideRoot {
            path: rel.to_owned(),
            root: self.root.clone(),
        };
        let real = match (lexical.parent(), lexical.file_name()) {
            (Some(dir), Some(name)) => {
                let mut real =
                    canonicalize_existing(dir).map_err(|e| self.io("resolve", rel, e))?;
                real.push(name);
                real
            }
            _ => canonicalize_existing(&lexical).map_err(|e| self.io("resolve", rel, e))?,
        };
        if !real.starts_with(&self.root) {
            return Err(outside());
        }
        let is_symlink = fs::symlink_metadata(&real).is_ok_and(|m| m.file_type().is_symlink());
        // A dangling link is left alone: reading it fails, writing replaces the link itself.
        if is_symlink && fs::canonicalize(&real).is_ok_and(|target| !target.starts_with(&self.root))
        {
            return Err(outside());
        }
        Ok(real)
    }

    /// Writes `data` to `rel` atomically: a new file is made unnamed and linked into place
    /// (never replacing a file that appeared meanwhile), a replacement is renamed over the old
    /// file.
    ///
    /// Fails with [`Error::Exists`] if the file exists, unless `opts.overwrite` or `--force`.
    /// The directory must exist.
    pub fn write(&self, rel: &str, data: &[u8], opts: WriteOptions) -> Result<()> {
        let target = self.prepare(rel, opts)?;
        let (Some(parent), Some(name)) = (target.path.parent(), target.path.file_name()) else {
            return Err(Error::InvalidPath {
                path: target.shown,
                reason: "not a file path".into(),
            });
        };
        let name = name.to_str().ok_or_else(|| Error::InvalidPath {
            path: target.shown.clone(),
            reason: "file name is not UTF-8".into(),
        })?;
        let parent = Dir::open(parent, self.shown_real(parent), self.force)?;
        dir::write_at(
            parent.as_fd(),
            name,
            &|| target.shown.clone(),
            data,
            opts.effective_mode(),
            target.overwrite,
        )
    }

    /// Opens the directory `rel` (which must exist inside the root) for many reads and writes
    /// of files directly in it, without resolving a path per file: the bulk writer.
    pub fn open_dir(&self, rel: &str) -> Result<Dir> {
        let path = self.resolve(rel)?;
        Dir::open(&path, self.display(rel), self.force)
    }

    /// Writes a group of files all or nothing (e.g. a key and its certificate).
    ///
    /// Every target is checked before anything is written; then all data goes to temporary
    /// files; then each is renamed into place. If a rename fails, the files already renamed by
    /// this call are removed again (files they replaced are put back) and the temporary files
    /// are deleted.
    pub fn write_new_many(&self, files: &[(&str, &[u8], WriteOptions)]) -> Result<()> {
        let staged = self.stage_many(files)?;
        commit_many(staged)
    }

    /// Reads a whole file.
    pub fn read(&self, rel: &str) -> Result<Vec<u8>> {
        let path = self.resolve(rel)?;
        fs::read(&path).map_err(|e| self.io("read", rel, e))
    }

    /// Reads a whole file as UTF-8 text.
    pub fn read_to_string(&self, rel: &str) -> Result<String> {
        let bytes = self.read(rel)?;
        String::from_utf8(bytes).map_err(|_| {
            self.io(
                "read",
                rel,
                io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text"),
            )
        })
    }

    /// Whether something exists at `rel` (symlinks are followed).
    pub fn exists(&self, rel: &str) -> Result<bool> {
        Ok(self.metadata(rel)?.is_some())
    }

    /// Whether `rel` is an existing directory (symlinks are followed).
    pub fn is_dir(&self, rel: &str) -> Result<bool> {
        Ok(self.metadata(rel)?.is_some_and(|m| m.is_dir()))
    }

    /// Creates a directory and its parents; succeeds if it already exists.
    pub fn mkdir(&self, rel: &str) -> Result<()> {
        let path = self.resolve(rel)?;
        fs::create_dir_all(&path).map_err(|e| self.io("create directory", rel, e))
    }

    /// Copies a file atomically (through [`Workspace::write`]).
    ///
    /// The copy gets `opts.mode`, or else the source's mode.
    pub fn copy(&self, from: &str, to: &str, opts: WriteOptions) -> Result<()> {
        let source = self.resolve(from)?;
        let data = fs::read(&source).map_err(|e| self.io("copy", from, e))?;
        let mode = match opts.mode {
            Some(mode) => mode,
            None => {
                let meta = fs::metadata(&source).map_err(|e| self.io("copy", from, e))?;
                meta.permissions().mode() & 0o7777
            }
        };
        self.write(
            to,
            &data,
            WriteOptions {
                mode: Some(mode),
                ..opts
            },
        )
    }

    /// Removes a file (not a directory).
    pub fn remove(&self, rel: &str) -> Result<()> {
        let path = self.resolve(rel)?;
        let meta = fs::symlink_metadata(&path).map_err(|e| self.io("remove", rel, e))?;
        if meta.is_dir() {
            return Err(Error::InvalidPath {
                path: self.display(rel),
                reason: "is a directory (only files can be removed)".into(),
            });
        }
        fs::remove_file(&path).map_err(|e| self.io("remove", rel, e))
    }

    /// The entries of a directory as root-relative paths (`dir/name`), sorted, without this
    /// module's temporary files.
    pub fn list(&self, rel: &str) -> Result<Vec<String>> {
        let path = self.resolve(rel)?;
        let entries = fs::read_dir(&path).map_err(|e| self.io("list", rel, e))?;
        let dir = self.display(rel);
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io("list", rel, e))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            names.push(if dir == "." {
                name.into_owned()
            } else {
                format!("{dir}/{name}")
            });
        }
        names.sort();
        Ok(names)
    }

    /// Temporary files (`.pkirun-…`) left under `rel` (this directory and its subdirectories,
    /// two levels deep) by a run that was killed before it could clean up.
    pub fn temp_files(&self, rel: &str) -> Result<Vec<String>> {
        fn walk(dir: &Path, shown: &str, depth: u32, out: &mut Vec<String>) -> std::io::Result<()> {
            for entry in fs::read_dir(dir)? {
                let entry = entry?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let shown_child = if shown == "." {
                    name.clone()
                } else {
                    format!("{shown}/{name}")
                };
                let ft = entry.file_type()?;
                if name.starts_with(TEMP_PREFIX) && ft.is_file() {
                    out.push(shown_child);
                } else if ft.is_dir() && depth > 0 {
                    walk(&entry.path(), &shown_child, depth - 1, out)?;
                }
            }
            Ok(())
        }
        let path = self.resolve(rel)?;
        let mut out = Vec::new();
        walk(&path, &self.display(rel), 2, &mut out).map_err(|e| self.io("list", rel, e))?;
        out.sort();
        Ok(out)
    }

    /// Sets the permission bits of a file or directory.
    pub fn chmod(&self, rel: &str, mode: u32) -> Result<()> {
        let path = self.resolve(rel)?;
        fs::set_permissions(&path, Permissions::from_mode(mode & 0o7777))
            .map_err(|e| self.io("set permissions", rel, e))
    }

    /// `rel` as users should see it in messages: normalised and relative to the root (`.` for
    /// the root itself). Paths that do not lie inside the root are returned as written.
    pub fn display(&self, rel: &str) -> String {
        match self.lexical(rel) {
            Ok(path) => match path.strip_prefix(&self.root) {
                Ok(inside) if inside.as_os_str().is_empty() => ".".into(),
                Ok(inside) => inside.to_string_lossy().into_owned(),
                Err(_) => rel.to_owned(),
            },
            Err(_) => rel.to_owned(),
        }
    }

    /// Validates `rel` and normalises it lexically into an absolute path. Relative paths are
    /// joined to the root and may not climb above it; absolute paths are only normalised (the
    /// caller checks they lie inside the root).
    fn lexical(&self, rel: &str) -> Result<PathBuf> {
        if rel.is_empty() {
            return Err(Error::InvalidPath {
                path: rel.into(),
                reason: "path is empty".into(),
            });
        }
        if rel.contains('\0') {
            return Err(Error::InvalidPath {
                path: rel.escape_default().to_string(),
                reason: "path contains a NUL byte".into(),
            });
        }
        let given = Path::new(rel);
        if given.is_absolute() {
            let mut out = PathBuf::new();
            for component in given.components() {
                match component {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other),
                }
            }
            return Ok(out);
        }
        let mut out = self.root.clone();
        let mut depth = 0usize;
        for component in given.components() {
            match component {
                Component::Normal(name) => {
                    out.push(name);
                    depth += 1;
                }
                Component::ParentDir => {
                    if depth == 0 {
                        return Err(Error::OutsideRoot {
                            path: rel.to_owned(),
                            root: self.root.clone(),
                        });
                    }
                    out.pop();
                    depth -= 1;
                }
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
        Ok(out)
    }

    /// Metadata of `rel` following symlinks, `None` if nothing is there.
    fn metadata(&self, rel: &str) -> Result<Option<fs::Metadata>> {
        let path = self.resolve(rel)?;
        match fs::metadata(&path) {
            Ok(meta) => Ok(Some(meta)),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(self.io("access", rel, e)),
        }
    }

    /// Checks a write target: inside the root, not a directory, not existing unless it may be
    /// overwritten, and in an existing directory.
    fn prepare(&self, rel: &str, opts: WriteOptions) -> Result<Target> {
        let path = self.resolve(rel)?;
        let shown = self.display(rel);
        let overwrite = opts.overwrite || self.force;
        let Some(parent) = path.parent().filter(|_| path != self.root) else {
            return Err(Error::InvalidPath {
                path: shown,
                reason: "is the working directory itself, not a file".into(),
            });
        };
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => {
                return Err(Error::InvalidPath {
                    path: shown,
                    reason: "is a directory".into(),
                });
            }
            Ok(_) if !overwrite => return Err(Error::Exists { path: shown }),
            Ok(_) => {}
            Err(e) if is_missing(&e) => {}
            Err(e) => return Err(io_error("write", &shown, e)),
        }
        let parent_shown = self.shown_real(parent);
        match fs::metadata(parent) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(io_error(
                    "write",
                    &shown,
                    io::Error::new(
                        io::ErrorKind::NotADirectory,
                        format!("`{parent_shown}` is not a directory"),
                    ),
                ));
            }
            Err(e) if is_missing(&e) => {
                return Err(io_error(
                    "write",
                    &shown,
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "directory `{parent_shown}` does not exist (create it with mkdir first)"
                        ),
                    ),
                ));
            }
            Err(e) => return Err(io_error("write", &shown, e)),
        }
        Ok(Target {
            shown,
            path,
            overwrite,
        })
    }

    /// Checks every target of a group write, then writes all data to temporary files.
    fn stage_many(&self, files: &[(&str, &[u8], WriteOptions)]) -> Result<Vec<Staged>> {
        let mut targets: Vec<Target> = Vec::with_capacity(files.len());
        for &(rel, _, opts) in files {
            let target = self.prepare(rel, opts)?;
            if targets.iter().any(|t| t.path == target.path) {
                return Err(Error::InvalidPath {
                    path: target.shown,
                    reason: "named twice in one group write".into(),
                });
            }
            targets.push(target);
        }
        let mut staged = Vec::with_capacity(files.len());
        for (target, &(_, data, opts)) in targets.into_iter().zip(files) {
            // On error, the temporary files staged so far are deleted when `staged` drops.
            let tmp = stage(&target, data, opts.effective_mode())?;
            staged.push(Staged { target, tmp });
        }
        Ok(staged)
    }

    /// A resolved path inside the root, shown relative to it.
    fn shown_real(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(inside) if inside.as_os_str().is_empty() => ".".into(),
            Ok(inside) => inside.to_string_lossy().into_owned(),
            Err(_) => path.to_string_lossy().into_owned(),
        }
    }

    /// An [`Error::Io`] for `rel`, or [`Error::NotFound`] if the error says it is missing.
    fn io(&self, op: &'static str, rel: &str, source: io::Error) -> Error {
        let path = self.display(rel);
        if source.kind() == io::ErrorKind::NotFound {
            Error::NotFound { path }
        } else {
            Error::Io { op, path, source }
        }
    }
}

/// Renames the staged files into place in order; on failure undoes the renames done so far.
fn commit_many(staged: Vec<Staged>) -> Result<()> {
    let mut done: Vec<Committed> = Vec::with_capacity(staged.len());
    // Remaining temporary files are deleted when the iterator drops, on every return path.
    for Staged { target, tmp } in staged {
        let backup = if target.overwrite {
            backup_of(&target.path)
        } else {
            None
        };
        match commit(tmp, &target) {
            Ok(()) => done.push(Committed {
                path: target.path,
                backup,
            }),
            Err(error) => {
                rollback(done);
                return Err(error);
            }
        }
    }
    // Success: dropping `done` deletes the backup links.
    Ok(())
}

/// Undoes the renames of a failed group write, newest first. Best effort: there is no better
/// error to report than the one that caused the rollback.
fn rollback(done: Vec<Committed>) {
    for Committed { path, backup } in done.into_iter().rev() {
        match backup {
            Some(backup) => {
                let _ = backup.persist(&path);
            }
            None => {
                let _ = fs::remove_file(&path);
            }
        }
    }
}

/// A hidden hard link to the file at `path`, so it can be put back if a group write fails.
/// `None` if nothing is there or the file system cannot link (the group write still proceeds).
fn backup_of(path: &Path) -> Option<NamedTempFile<()>> {
    let dir = path.parent()?;
    fs::symlink_metadata(path).ok()?;
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .make_in(dir, |link| fs::hard_link(path, link))
        .ok()
}

/// Writes `data` to a hidden temporary file next to the target and gives it its final mode.
fn stage(target: &Target, data: &[u8], mode: u32) -> Result<NamedTempFile> {
    let dir = target.path.parent().unwrap_or(&target.path);
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        // tempfile's error names the temporary file; the user needs the kind only.
        .map_err(|e| io_error("write", &target.shown, std::io::Error::from(e.kind())))?;
    tmp.write_all(data)
        .map_err(|e| io_error("write", &target.shown, e))?;
    tmp.as_file()
        .set_permissions(Permissions::from_mode(mode))
        .map_err(|e| io_error("set permissions", &target.shown, e))?;
    Ok(tmp)
}

/// Renames a staged temporary file into place (without replacing unless allowed). On failure
/// the temporary file is deleted.
fn commit(tmp: NamedTempFile, target: &Target) -> Result<()> {
    let result = if target.overwrite {
        tmp.persist(&target.path)
    } else {
        tmp.persist_noclobber(&target.path)
    };
    match result {
        Ok(_) => Ok(()),
        Err(e) if !target.overwrite && e.error.kind() == io::ErrorKind::AlreadyExists => {
            Err(Error::Exists {
                path: target.shown.clone(),
            })
        }
        Err(e) => Err(io_error("write", &target.shown, e.error)),
    }
}

/// Canonicalises the longest existing ancestor of `path` and appends the rest unchanged.
fn canonicalize_existing(path: &Path) -> io::Result<PathBuf> {
    let mut existing = path;
    let mut rest: Vec<&OsStr> = Vec::new();
    loop {
        match fs::canonicalize(existing) {
            Ok(mut real) => {
                real.extend(rest.iter().rev());
                return Ok(real);
            }
            Err(e) => match (existing.parent(), existing.file_name()) {
                (Some(parent), Some(name)) => {
                    rest.push(name);
                    existing = parent;
                }
                _ => return Err(e),
            },
        }
    }
}

/// Whether an error means "nothing there" (including a path component that is a file).
fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

fn io_error(op: &'static str, shown: &str, source: io::Error) -> Error {
    Error::Io {
        op,
        path: shown.to_owned(),
        source,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A temporary directory with the workspace root one level down, so tests can check that
    /// nothing appears next to the root.
    struct Fixture {
        outer: tempfile::TempDir,
        ws: Workspace,
    }

    impl Fixture {
        fn new() -> Self {
            let outer = tempfile::tempdir().unwrap();
            fs::create_dir(outer.path().join("root")).unwrap();
            let ws = Workspace::new(outer.path().join("root")).unwrap();
            Self { outer, ws }
        }

        fn root(&self) -> &Path {
            self.ws.root()
        }

        fn outer(&self) -> PathBuf {
            fs::canonicalize(self.outer.path()).unwrap()
        }
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Every file under `dir`, recursively, whose name starts with the temp prefix.
    fn temp_files(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                found.push(path.clone());
            }
            if entry.file_type().unwrap().is_dir() {
                found.extend(temp_files(&path));
            }
        }
        found
    }

    fn assert_no_temp_files(dir: &Path) {
        assert_eq!(temp_files(dir), Vec::<PathBuf>::new());
    }

    const KEY: WriteOptions = WriteOptions {
        mode: Some(0o400),
        overwrite: false,
    };
    const OVERWRITE: WriteOptions = WriteOptions {
        mode: None,
        overwrite: true,
    };

    #[test]
    fn write_creates_file_with_default_mode_0644() {
        let f = Fixture::new();
        f.ws.write("ca.pem", b"cert", WriteOptions::default())
            .unwrap();
        assert_eq!(fs::read(f.root().join("ca.pem")).unwrap(), b"cert");
        assert_eq!(mode_of(&f.root().join("ca.pem")), 0o644);
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_creates_key_with_exact_mode_0400() {
        let f = Fixture::new();
        f.ws.mkdir("node-certs").unwrap();
        f.ws.write("node-certs/node.key", b"secret", KEY).unwrap();
        let path = f.root().join("node-certs/node.key");
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert_eq!(mode_of(&path), 0o400);
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_refuses_to_overwrite_existing_file() {
        let f = Fixture::new();
        f.ws.write("node.key", b"old key\n", KEY).unwrap();
        let err = f.ws.write("node.key", b"new", KEY).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path == "node.key"),
            "{err:?}"
        );
        assert_eq!(fs::read(f.root().join("node.key")).unwrap(), b"old key\n");
        assert_eq!(mode_of(&f.root().join("node.key")), 0o400);
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_with_overwrite_replaces_existing_file() {
        let f = Fixture::new();
        f.ws.write("a.pem", b"old", WriteOptions::default())
            .unwrap();
        f.ws.write("a.pem", b"new", OVERWRITE).unwrap();
        assert_eq!(f.ws.read("a.pem").unwrap(), b"new");
        assert_no_temp_files(f.root());
    }

    #[test]
    fn workspace_with_force_replaces_existing_file() {
        let f = Fixture::new();
        f.ws.write("a.key", b"old", KEY).unwrap();
        let forced = f.ws.clone().with_force(true);
        forced.write("a.key", b"new", KEY).unwrap();
        assert_eq!(f.ws.read("a.key").unwrap(), b"new");
        assert_eq!(mode_of(&f.root().join("a.key")), 0o400);
        assert_no_temp_files(f.root());
    }

    #[test]
    fn paths_climbing_out_of_the_root_are_rejected_and_nothing_is_created() {
        let f = Fixture::new();
        f.ws.mkdir("a").unwrap();
        for rel in ["../x", "/etc/passwd", "a/../../x", "/", "./../root/../x"] {
            let err = f.ws.write(rel, b"x", OVERWRITE).unwrap_err();
            assert!(
                matches!(&err, Error::OutsideRoot { path, .. } if path == rel),
                "{rel}: {err:?}"
            );
            assert!(matches!(f.ws.resolve(rel), Err(Error::OutsideRoot { .. })));
        }
        assert!(!f.outer().join("x").exists());
        let mut entries: Vec<_> = fs::read_dir(f.outer())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        entries.sort();
        assert_eq!(entries, ["root"]);
        assert_eq!(f.ws.list(".").unwrap(), ["a"]);
    }

    #[test]
    fn dot_dot_that_stays_inside_the_root_is_accepted() {
        let f = Fixture::new();
        f.ws.mkdir("a").unwrap();
        f.ws.write("a/../b.pem", b"b", WriteOptions::default())
            .unwrap();
        assert_eq!(fs::read(f.root().join("b.pem")).unwrap(), b"b");
        assert_eq!(f.ws.display("./a/../b.pem"), "b.pem");
    }

    #[test]
    fn absolute_path_inside_the_root_is_accepted() {
        let f = Fixture::new();
        let abs = f.root().join("abs.pem");
        let abs = abs.to_str().unwrap();
        f.ws.write(abs, b"abs", WriteOptions::default()).unwrap();
        assert_eq!(f.ws.read("abs.pem").unwrap(), b"abs");
        assert_eq!(f.ws.display(abs), "abs.pem");
    }

    #[test]
    fn symlink_inside_root_pointing_outside_is_refused() {
        let f = Fixture::new();
        let outside = f.outer().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), b"secret").unwrap();
        symlink(&outside, f.root().join("escape")).unwrap();
        symlink(outside.join("secret"), f.root().join("secret-link")).unwrap();

        for rel in ["escape/new.pem", "escape/secret", "escape"] {
            let err = f.ws.write(rel, b"x", OVERWRITE).unwrap_err();
            assert!(matches!(&err, Error::OutsideRoot { .. }), "{rel}: {err:?}");
        }
        assert!(matches!(
            f.ws.read("escape/secret"),
            Err(Error::OutsideRoot { .. })
        ));
        assert!(matches!(
            f.ws.read("secret-link"),
            Err(Error::OutsideRoot { .. })
        ));
        assert!(matches!(
            f.ws.mkdir("escape/sub"),
            Err(Error::OutsideRoot { .. })
        ));
        assert!(!outside.join("new.pem").exists());
        assert!(!outside.join("sub").exists());
        assert_eq!(fs::read(outside.join("secret")).unwrap(), b"secret");
    }

    #[test]
    fn symlink_inside_root_pointing_inside_is_followed() {
        let f = Fixture::new();
        f.ws.mkdir("real").unwrap();
        symlink(f.root().join("real"), f.root().join("alias")).unwrap();
        f.ws.write("alias/a.pem", b"a", WriteOptions::default())
            .unwrap();
        assert_eq!(f.ws.read("real/a.pem").unwrap(), b"a");
    }

    #[test]
    fn write_into_missing_directory_fails_and_leaves_no_temp_file() {
        let f = Fixture::new();
        let err =
            f.ws.write("missing/dir/a.pem", b"a", WriteOptions::default())
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`missing/dir/a.pem`: cannot write: directory `missing/dir` does not exist \
             (create it with mkdir first)"
        );
        assert!(!f.root().join("missing").exists());
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_below_a_file_fails() {
        let f = Fixture::new();
        f.ws.write("file", b"", WriteOptions::default()).unwrap();
        let err =
            f.ws.write("file/a.pem", b"a", WriteOptions::default())
                .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`file/a.pem`: cannot write: `file` is not a directory"
        );
    }

    #[test]
    fn write_into_unwritable_directory_fails_and_leaves_no_temp_file() {
        let f = Fixture::new();
        f.ws.mkdir("ro").unwrap();
        f.ws.chmod("ro", 0o500).unwrap();
        // Root (and CAP_DAC_OVERRIDE) ignores permission bits. Probe: if we can create a file
        // in the 0o500 directory, permissions do not apply here and the failure assertion is
        // skipped; the no-temp-file assertion still runs.
        let probe = f.root().join("ro/probe");
        let permissions_apply = fs::File::create(&probe).is_err();
        let _ = fs::remove_file(&probe);

        let result = f.ws.write("ro/a.pem", b"a", WriteOptions::default());
        if permissions_apply {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, Error::Io { op: "write", path, .. } if path == "ro/a.pem"),
                "{err:?}"
            );
            assert!(!f.root().join("ro/a.pem").exists());
        }
        f.ws.chmod("ro", 0o755).unwrap();
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_new_many_writes_all_files() {
        let f = Fixture::new();
        f.ws.write_new_many(&[
            ("node.key", b"key", KEY),
            ("node.pem", b"cert", WriteOptions::default()),
        ])
        .unwrap();
        assert_eq!(f.ws.read("node.key").unwrap(), b"key");
        assert_eq!(mode_of(&f.root().join("node.key")), 0o400);
        assert_eq!(f.ws.read("node.pem").unwrap(), b"cert");
        assert_eq!(mode_of(&f.root().join("node.pem")), 0o644);
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_new_many_writes_nothing_when_one_target_exists() {
        let f = Fixture::new();
        f.ws.write("node.pem", b"old cert", WriteOptions::default())
            .unwrap();
        let err =
            f.ws.write_new_many(&[
                ("node.key", b"key", KEY),
                ("node.pem", b"cert", WriteOptions::default()),
            ])
            .unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path == "node.pem"),
            "{err:?}"
        );
        assert!(!f.root().join("node.key").exists());
        assert_eq!(f.ws.read("node.pem").unwrap(), b"old cert");
        assert_no_temp_files(f.root());
    }

    #[test]
    fn write_new_many_rejects_the_same_file_twice() {
        let f = Fixture::new();
        let err =
            f.ws.write_new_many(&[
                ("a.pem", b"1", WriteOptions::default()),
                ("./a.pem", b"2", WriteOptions::default()),
            ])
            .unwrap_err();
        assert_eq!(err.to_string(), "`a.pem`: named twice in one group write");
        assert!(!f.root().join("a.pem").exists());
    }

    #[test]
    fn write_new_many_rolls_back_when_a_rename_fails() {
        let f = Fixture::new();
        f.ws.write("ca.pem", b"old ca", WriteOptions::default())
            .unwrap();
        let staged =
            f.ws.stage_many(&[
                ("ca.pem", b"new ca", OVERWRITE),
                ("node.key", b"key", KEY),
                ("node.pem", b"cert", WriteOptions::default()),
            ])
            .unwrap();
        // Someone creates the last target between the check and the rename.
        fs::write(f.root().join("node.pem"), b"theirs").unwrap();
        let err = commit_many(staged).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path == "node.pem"),
            "{err:?}"
        );
        assert_eq!(f.ws.read("ca.pem").unwrap(), b"old ca");
        assert!(!f.root().join("node.key").exists());
        assert_eq!(f.ws.read("node.pem").unwrap(), b"theirs");
        assert_no_temp_files(f.root());
    }

    #[test]
    fn list_is_sorted_relative_to_the_root_and_hides_temp_files() {
        let f = Fixture::new();
        f.ws.mkdir("certs/sub").unwrap();
        for name in ["certs/b.pem", "certs/a.pem", "certs/c.key"] {
            f.ws.write(name, b"", WriteOptions::default()).unwrap();
        }
        fs::write(f.root().join("certs/.pkirun-leftover"), b"").unwrap();
        assert_eq!(
            f.ws.list("certs").unwrap(),
            ["certs/a.pem", "certs/b.pem", "certs/c.key", "certs/sub"]
        );
        assert_eq!(f.ws.list("./certs/").unwrap()[0], "certs/a.pem");
        assert_eq!(f.ws.list(".").unwrap(), ["certs"]);
        assert!(matches!(
            f.ws.list("nope"),
            Err(Error::NotFound { path }) if path == "nope"
        ));
    }

    #[test]
    fn copy_preserves_content_and_mode() {
        let f = Fixture::new();
        let data: Vec<u8> = (0..=255).collect();
        f.ws.write("a.key", &data, KEY).unwrap();
        f.ws.copy("a.key", "b.key", WriteOptions::default())
            .unwrap();
        assert_eq!(f.ws.read("b.key").unwrap(), data);
        assert_eq!(mode_of(&f.root().join("b.key")), 0o400);

        f.ws.copy(
            "a.key",
            "c.pem",
            WriteOptions {
                mode: Some(0o640),
                overwrite: false,
            },
        )
        .unwrap();
        assert_eq!(mode_of(&f.root().join("c.pem")), 0o640);

        assert!(matches!(
            f.ws.copy("a.key", "b.key", WriteOptions::default()),
            Err(Error::Exists { .. })
        ));
        assert!(matches!(
            f.ws.copy("missing", "d", WriteOptions::default()),
            Err(Error::NotFound { path }) if path == "missing"
        ));
        assert_no_temp_files(f.root());
    }

    #[test]
    fn read_exists_is_dir_remove_and_chmod_work() {
        let f = Fixture::new();
        f.ws.mkdir("d").unwrap();
        f.ws.mkdir("d").unwrap();
        f.ws.write("d/f.txt", "héllo".as_bytes(), WriteOptions::default())
            .unwrap();
        assert_eq!(f.ws.read_to_string("d/f.txt").unwrap(), "héllo");
        assert!(f.ws.exists("d/f.txt").unwrap());
        assert!(f.ws.is_dir("d").unwrap());
        assert!(!f.ws.is_dir("d/f.txt").unwrap());
        assert!(!f.ws.exists("d/f.txt/below").unwrap());
        f.ws.chmod("d/f.txt", 0o600).unwrap();
        assert_eq!(mode_of(&f.root().join("d/f.txt")), 0o600);
        f.ws.remove("d/f.txt").unwrap();
        assert!(!f.ws.exists("d/f.txt").unwrap());
        assert!(matches!(
            f.ws.remove("d/f.txt"),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(f.ws.remove("d"), Err(Error::InvalidPath { .. })));
        assert!(matches!(f.ws.read("nope"), Err(Error::NotFound { .. })));
    }

    #[test]
    fn remove_deletes_a_symlink_not_its_target() {
        let f = Fixture::new();
        f.ws.write("target.pem", b"t", WriteOptions::default())
            .unwrap();
        symlink(f.root().join("target.pem"), f.root().join("link.pem")).unwrap();
        f.ws.remove("link.pem").unwrap();
        assert_eq!(f.ws.read("target.pem").unwrap(), b"t");
    }

    #[test]
    fn read_to_string_rejects_non_utf8() {
        let f = Fixture::new();
        f.ws.write("bin", &[0xff, 0xfe], WriteOptions::default())
            .unwrap();
        let err = f.ws.read_to_string("bin").unwrap_err();
        assert_eq!(err.to_string(), "`bin`: cannot read: not UTF-8 text");
    }

    #[test]
    fn bad_path_arguments_are_invalid() {
        let f = Fixture::new();
        assert_eq!(f.ws.read("").unwrap_err().to_string(), "``: path is empty");
        assert_eq!(
            f.ws.read("a\0b").unwrap_err().to_string(),
            "`a\\u{0}b`: path contains a NUL byte"
        );
        assert!(matches!(
            f.ws.write(".", b"", OVERWRITE),
            Err(Error::InvalidPath { .. })
        ));
        f.ws.mkdir("d").unwrap();
        assert!(matches!(
            f.ws.write("d", b"", OVERWRITE),
            Err(Error::InvalidPath { .. })
        ));
    }

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

    #[test]
    fn display_is_normalised_and_relative() {
        let f = Fixture::new();
        assert_eq!(f.ws.display("./a//b/./c"), "a/b/c");
        assert_eq!(f.ws.display("."), ".");
        assert_eq!(f.ws.display("a/.."), ".");
        assert_eq!(f.ws.display("../x"), "../x");
        assert_eq!(f.ws.display("/etc/passwd"), "/etc/passwd");
    }

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
    fn dir_writes_new_files_refuses_existing_ones_and_replaces_on_request() {
        let f = Fixture::new();
        f.ws.mkdir("certs").unwrap();
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
        assert_eq!(fs::read(f.root().join("certs/a.key")).unwrap(), b"new");
        assert_eq!(mode_of(&f.root().join("certs/a.key")), 0o644);
        let forced = f.ws.clone().with_force(true).open_dir("certs").unwrap();
        forced.write("a.key", b"forced", KEY).unwrap();
        assert_eq!(fs::read(f.root().join("certs/a.key")).unwrap(), b"forced");
        assert_eq!(mode_of(&f.root().join("certs/a.key")), 0o400);
        assert_no_temp_files(f.root());
    }

    #[test]
    fn dir_never_follows_symlinks_in_it() {
        let f = Fixture::new();
        f.ws.mkdir("certs").unwrap();
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
        assert_no_temp_files(f.root());
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
        let f = Fixture::new();
        f.ws.mkdir("certs").unwrap();
        let dir = f.ws.open_dir("certs").unwrap();
        fs::rename(f.root().join("certs"), f.root().join("moved")).unwrap();
        symlink(f.outer(), f.root().join("certs")).unwrap();
        dir.write("a.pem", b"x", KEY).unwrap();
        assert_eq!(fs::read(f.root().join("moved/a.pem")).unwrap(), b"x");
        assert!(!f.outer().join("a.pem").exists());
    }
}
