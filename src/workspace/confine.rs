//! Path confinement: script paths resolved to paths inside the workspace root, lexically and
//! through symlinks, and shown relative to it in messages.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::{Error, Result, Workspace};

impl Workspace {
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
    pub(super) fn lexical(&self, rel: &str) -> Result<PathBuf> {
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
        refuse_control_characters(rel)?;
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

    /// A resolved path inside the root, shown relative to it.
    pub(super) fn shown_real(&self, path: &Path) -> String {
        match path.strip_prefix(&self.root) {
            Ok(inside) if inside.as_os_str().is_empty() => ".".into(),
            Ok(inside) => inside.to_string_lossy().into_owned(),
            Err(_) => path.to_string_lossy().into_owned(),
        }
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

/// Refuses a path with a control character (a newline, a tab, an escape: U+0000-U+001F and
/// U+007F-U+009F): such a name breaks every listing, log and shell loop that later reads it.
///
/// # Errors
/// [`Error::InvalidPath`] naming the path (escaped) and the character.
pub(super) fn refuse_control_characters(path: &str) -> Result<()> {
    match path.chars().find(|c| c.is_control()) {
        Some(c) => Err(Error::InvalidPath {
            path: path.escape_default().to_string(),
            reason: format!(
                "file name contains the control character U+{:04X} (refused)",
                u32::from(c)
            ),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::super::test_support::{Fixture, OVERWRITE};
    use super::*;

    #[test]
    fn paths_climbing_out_of_the_root_are_rejected_and_nothing_is_created() {
        let f = Fixture::with_dir("a");
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
        let f = Fixture::with_dir("a");
        f.put("a/../b.pem", b"b");
        assert_eq!(fs::read(f.root().join("b.pem")).unwrap(), b"b");
        assert_eq!(f.ws.display("./a/../b.pem"), "b.pem");
    }

    #[test]
    fn absolute_path_inside_the_root_is_accepted() {
        let f = Fixture::new();
        let abs = f.root().join("abs.pem");
        let abs = abs.to_str().unwrap();
        f.put(abs, b"abs");
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
        let f = Fixture::with_dir("real");
        symlink(f.root().join("real"), f.root().join("alias")).unwrap();
        f.put("alias/a.pem", b"a");
        assert_eq!(f.ws.read("real/a.pem").unwrap(), b"a");
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
    fn display_is_normalised_and_relative() {
        let f = Fixture::new();
        assert_eq!(f.ws.display("./a//b/./c"), "a/b/c");
        assert_eq!(f.ws.display("."), ".");
        assert_eq!(f.ws.display("a/.."), ".");
        assert_eq!(f.ws.display("../x"), "../x");
        assert_eq!(f.ws.display("/etc/passwd"), "/etc/passwd");
    }
}
