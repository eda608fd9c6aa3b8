//! Where a batch writes: output directories opened once, files named per spec.
//!
//! A template such as `certs/{name}.pem` has a fixed directory (`certs`): it is created and
//! opened once per run, and every file is then written through its descriptor, with no path
//! resolution per file. A template such as `nodes/{name}/node.crt` has a directory per name:
//! it is resolved (inside the root), created and opened once per spec.

use std::collections::HashSet;
use std::ops::Deref;
use std::sync::Arc;

use crate::workspace::{self, Dir, Workspace};

use super::{Result, key128};

/// One kind of output (certificates or keys): a directory template and a file-name template.
#[derive(Debug)]
pub(super) struct OutputDir {
    /// The directory part of the template (`.` if none); may contain `{name}`.
    dir: String,
    /// The file-name part of the template.
    file: String,
    /// The directory, opened at the start of the run, when its template has no `{name}`
    /// (shared with a [`sibling`](OutputDir::sibling) in the same directory).
    fixed: Option<Arc<Dir>>,
    /// Digests of the names in the fixed directory when the run started: a name not among
    /// them needs no look-up (a file that appears later still makes the write fail, never
    /// replaced). One listing instead of a `stat` per file, which would also take the
    /// directory's lock that the threads' file creations need. `None` for per-name
    /// directories and for a directory this user may not list: every name is looked up.
    present: Option<Arc<HashSet<u128>>>,
}

/// A directory handle that is either the run's shared one or opened for one spec.
pub(super) enum DirRef<'a> {
    /// The run's fixed directory.
    Shared(&'a Dir),
    /// A per-name directory, closed when dropped.
    Own(Dir),
}

impl Deref for DirRef<'_> {
    type Target = Dir;

    fn deref(&self) -> &Dir {
        match self {
            DirRef::Shared(dir) => dir,
            DirRef::Own(dir) => dir,
        }
    }
}

impl OutputDir {
    /// Splits `template` into directory and file name; creates and opens a fixed directory.
    pub(super) fn new(ws: &Workspace, template: &str) -> Result<Self> {
        let (dir, file) = split_dir(template);
        let mut present = None;
        let fixed = if dir.contains("{name}") {
            None
        } else {
            ws.mkdir(dir)?;
            let opened = ws.open_dir(dir)?;
            let mut names = HashSet::new();
            if opened
                .for_each_name(|name| {
                    names.insert(key128(name));
                })
                .is_ok()
            {
                present = Some(Arc::new(names));
            }
            Some(Arc::new(opened))
        };
        Ok(OutputDir {
            dir: dir.to_string(),
            file: file.to_string(),
            fixed,
            present,
        })
    }

    /// The output for `template` (keys beside certificates): in the same directory as this
    /// one, it shares its handle and listing instead of opening and listing it again.
    pub(super) fn sibling(&self, ws: &Workspace, template: &str) -> Result<Self> {
        let (dir, file) = split_dir(template);
        if dir != self.dir {
            return Self::new(ws, template);
        }
        Ok(OutputDir {
            dir: self.dir.clone(),
            file: file.to_string(),
            fixed: self.fixed.clone(),
            present: self.present.clone(),
        })
    }

    /// Whether the regular file `file` exists in `dir` (the directory [`OutputDir::open`]
    /// gave); an entry that is not a regular file is an error.
    pub(super) fn exists(&self, dir: &Dir, file: &str) -> Result<bool> {
        if let Some(present) = &self.present
            && !present.contains(&key128(file.as_bytes()))
        {
            return Ok(false);
        }
        Ok(dir.exists(file)?)
    }

    /// Whether `other` writes into the same directory for every name.
    pub(super) fn same_dir(&self, other: &OutputDir) -> bool {
        self.dir == other.dir
    }

    /// The directory `name`'s file goes into, created if it is a missing per-name directory.
    pub(super) fn open(&self, ws: &Workspace, name: &str) -> Result<DirRef<'_>> {
        if let Some(dir) = &self.fixed {
            return Ok(DirRef::Shared(dir));
        }
        let rel = render(&self.dir, name);
        match ws.open_dir(&rel) {
            Ok(dir) => Ok(DirRef::Own(dir)),
            Err(workspace::Error::NotFound { .. }) => {
                ws.mkdir(&rel)?;
                Ok(DirRef::Own(ws.open_dir(&rel)?))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `name`'s file name inside its directory.
    pub(super) fn file(&self, name: &str) -> String {
        render(&self.file, name)
    }
}

/// The directory part of `path` (`.` when there is none) and what follows its last `/`.
pub(super) fn split_dir(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (".", path),
    }
}

/// `template` with every `{name}` replaced by `name`.
pub(super) fn render(template: &str, name: &str) -> String {
    template.replace("{name}", name)
}
