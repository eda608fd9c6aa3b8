//! Reading, listing and managing entries under the root: everything but writing a file's
//! contents.

use std::fs::{self, Permissions};
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::{Error, Result, TEMP_PREFIX, Workspace};

impl Workspace {
    /// Reads a whole file.
    pub fn read(&self, rel: &str) -> Result<Vec<u8>> {
        if let Some(data) = self.plan_read(rel)? {
            return Ok(data);
        }
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
        if let Some((exists, _)) = self.plan_exists(rel)? {
            return Ok(exists);
        }
        Ok(self.metadata(rel)?.is_some())
    }

    /// Whether `rel` is an existing directory (symlinks are followed).
    pub fn is_dir(&self, rel: &str) -> Result<bool> {
        if let Some((_, is_dir)) = self.plan_exists(rel)? {
            return Ok(is_dir);
        }
        Ok(self.metadata(rel)?.is_some_and(|m| m.is_dir()))
    }

    /// Creates a directory and its parents; succeeds if it already exists.
    pub fn mkdir(&self, rel: &str) -> Result<()> {
        if let Some(planned) = self.plan_mkdir(rel) {
            return planned;
        }
        let path = self.resolve(rel)?;
        fs::create_dir_all(&path).map_err(|e| self.io("create directory", rel, e))
    }

    /// Removes a file (not a directory).
    pub fn remove(&self, rel: &str) -> Result<()> {
        if let Some(planned) = self.plan_remove(rel) {
            return planned;
        }
        let path = self.resolve(rel)?;
        let meta = fs::symlink_metadata(&path).map_err(|e| self.io("remove", rel, e))?;
        if meta.is_dir() {
            return Err(Error::directory(
                self.display(rel),
                Some("only files can be removed"),
            ));
        }
        fs::remove_file(&path).map_err(|e| self.io("remove", rel, e))
    }

    /// The entries of a directory as root-relative paths (`dir/name`), sorted, without this
    /// module's temporary files.
    pub fn list(&self, rel: &str) -> Result<Vec<String>> {
        let (added, removed) = self.plan_listing(rel)?;
        let path = self.resolve(rel)?;
        let dir = self.display(rel);
        let mut names = Vec::new();
        let entries = match fs::read_dir(&path) {
            Ok(entries) => entries,
            // A directory this dry run plans: only what the plan puts in it.
            Err(e) if is_missing(&e) && self.is_dir(rel)? => {
                let mut names = added;
                names.sort();
                names.dedup();
                return Ok(names);
            }
            Err(e) => return Err(self.io("list", rel, e)),
        };
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
        names.retain(|n| !removed.contains(n));
        names.extend(added);
        names.sort();
        names.dedup();
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
        if let Some(planned) = self.plan_chmod(rel, mode) {
            return planned;
        }
        let path = self.resolve(rel)?;
        fs::set_permissions(&path, Permissions::from_mode(mode & 0o7777))
            .map_err(|e| self.io("set permissions", rel, e))
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
}

/// Whether an error means "nothing there" (including a path component that is a file).
pub(super) fn is_missing(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::super::test_support::{Fixture, mode_of};
    use super::*;

    #[test]
    fn list_is_sorted_relative_to_the_root_and_hides_temp_files() {
        let f = Fixture::with_dir("certs/sub");
        for name in ["certs/b.pem", "certs/a.pem", "certs/c.key"] {
            f.put(name, b"");
        }
        f.plant_temp_file("certs/.pkirun-leftover");
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
    fn read_exists_is_dir_remove_and_chmod_work() {
        let f = Fixture::with_dir("d");
        f.ws.mkdir("d").unwrap();
        f.put("d/f.txt", "héllo".as_bytes());
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
        f.put("target.pem", b"t");
        symlink(f.root().join("target.pem"), f.root().join("link.pem")).unwrap();
        f.ws.remove("link.pem").unwrap();
        assert_eq!(f.ws.read("target.pem").unwrap(), b"t");
    }

    #[test]
    fn read_to_string_rejects_non_utf8() {
        let f = Fixture::new();
        f.put("bin", &[0xff, 0xfe]);
        let err = f.ws.read_to_string("bin").unwrap_err();
        assert_eq!(err.to_string(), "`bin`: cannot read: not UTF-8 text");
    }
}
