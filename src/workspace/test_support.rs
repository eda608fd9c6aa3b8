//! What the workspace's unit tests share: a fixture directory, modes, temporary-file checks.

use std::cell::Cell;
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use super::{TEMP_PREFIX, Workspace, WriteOptions};

/// A temporary directory with the workspace root one level down, so tests can check that
/// nothing appears next to the root. When a test ends without failing, the fixture checks that
/// no temporary file is left anywhere in it (unless the test planted one).
pub(super) struct Fixture {
    outer: tempfile::TempDir,
    pub(super) ws: Workspace,
    planted: Cell<bool>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !std::thread::panicking() && !self.planted.get() {
            assert_no_temp_files(self.outer.path());
        }
    }
}

impl Fixture {
    pub(super) fn new() -> Self {
        let outer = tempfile::tempdir().unwrap();
        fs::create_dir(outer.path().join("root")).unwrap();
        let ws = Workspace::new(outer.path().join("root")).unwrap();
        Self {
            outer,
            ws,
            planted: Cell::new(false),
        }
    }

    /// A fixture whose root holds the directory `rel` (made by the workspace).
    pub(super) fn with_dir(rel: &str) -> Self {
        let f = Self::new();
        f.ws.mkdir(rel).unwrap();
        f
    }

    /// Leaves a temporary file at `rel`, as a crashed run would.
    pub(super) fn plant_temp_file(&self, rel: &str) {
        fs::write(self.root().join(rel), b"").unwrap();
        self.planted.set(true);
    }

    /// Writes `rel` with the default options: a file that is there before the step a test
    /// checks.
    pub(super) fn put(&self, rel: &str, contents: &[u8]) {
        self.ws
            .write(rel, contents, WriteOptions::default())
            .unwrap();
    }

    pub(super) fn root(&self) -> &Path {
        self.ws.root()
    }

    pub(super) fn outer(&self) -> PathBuf {
        fs::canonicalize(self.outer.path()).unwrap()
    }

    /// Asserts that `rel` holds `contents` with `mode` on disk.
    pub(super) fn assert_file(&self, rel: &str, contents: &[u8], mode: u32) {
        let path = self.root().join(rel);
        assert_eq!(fs::read(&path).unwrap(), contents, "{rel}");
        assert_eq!(mode_of(&path), mode, "{rel}");
    }
}

pub(super) fn mode_of(path: &Path) -> u32 {
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

pub(super) const KEY: WriteOptions = WriteOptions {
    mode: Some(0o400),
    overwrite: false,
};
pub(super) const OVERWRITE: WriteOptions = WriteOptions {
    mode: None,
    overwrite: true,
};
