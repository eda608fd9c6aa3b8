//! The group write: several files (a key and its certificate) written all or nothing.
//!
//! Every target is checked first, then every file's data is staged in its directory through
//! the one atomic write ([`super::atomic`]), then each is put in place. If placing one fails,
//! the files this call already placed are removed again, the files they replaced are put back
//! from hidden hard links taken just before, and the staged data is discarded.

use rustix::fs::AtFlags;

use super::atomic::{Backup, Staged, placing_error, staging_error};
use super::write::Target;
use super::{Dir, Error, Result, Workspace, WriteOptions};

/// A checked target of a group write with its directory opened.
struct Slot {
    target: Target,
    dir: Dir,
    name: String,
}

impl Slot {
    /// The path as users see it, for errors.
    fn shown(&self) -> String {
        self.target.shown.clone()
    }
}

/// A slot with its data staged, ready to be put in place.
struct StagedSlot<'s> {
    slot: &'s Slot,
    staged: Staged<'s>,
}

impl Workspace {
    /// Writes a group of files all or nothing (e.g. a key and its certificate).
    ///
    /// Every target is checked before anything is written (as [`Workspace::write`] checks
    /// one, and no file may be named twice); then all data is staged next to its target; then
    /// each file is put in place. If that fails for one, the files already placed by this call
    /// are removed again (files they replaced are put back) and the staged data is discarded.
    pub fn write_all_or_nothing(&self, files: &[(&str, &[u8], WriteOptions)]) -> Result<()> {
        if let Some(planned) = self.plan_write_all(files) {
            return planned;
        }
        let slots = self.check_all(files)?;
        let staged = stage_all(&slots, files)?;
        place_all(staged)
    }

    /// Checks every target of a group write and opens its directory.
    fn check_all(&self, files: &[(&str, &[u8], WriteOptions)]) -> Result<Vec<Slot>> {
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
        targets
            .into_iter()
            .map(|target| {
                let (dir, name) = target.open_parent(self)?;
                let name = name.to_owned();
                Ok(Slot { target, dir, name })
            })
            .collect()
    }
}

/// Stages the data of every slot in its directory.
fn stage_all<'s>(
    slots: &'s [Slot],
    files: &[(&str, &[u8], WriteOptions)],
) -> Result<Vec<StagedSlot<'s>>> {
    slots
        .iter()
        .zip(files)
        .map(|(slot, &(_, data, opts))| {
            // On error, the data staged so far is discarded when the collected items drop.
            let staged = Staged::new(
                slot.dir.as_fd(),
                data,
                opts.effective_mode(),
                slot.target.overwrite,
            )
            .map_err(|e| staging_error(&|| slot.shown(), e))?;
            Ok(StagedSlot { slot, staged })
        })
        .collect()
}

/// Puts the staged files in place in order; on failure undoes what was placed so far.
fn place_all(staged: Vec<StagedSlot<'_>>) -> Result<()> {
    let mut placed: Vec<(&Slot, Option<Backup<'_>>)> = Vec::with_capacity(staged.len());
    // Data still staged is discarded when the iterator drops, on every return path.
    for StagedSlot { slot, staged } in staged {
        let backup = if slot.target.overwrite {
            Backup::of(slot.dir.as_fd(), &slot.name)
        } else {
            None
        };
        match staged.place(&slot.name) {
            Ok(()) => placed.push((slot, backup)),
            Err(e) => {
                rollback(placed);
                return Err(placing_error(&|| slot.shown(), e));
            }
        }
    }
    // Success: dropping `placed` removes the backup links.
    Ok(())
}

/// Undoes the placements of a failed group write, newest first. Best effort: there is no
/// better error to report than the one that caused the rollback.
fn rollback(placed: Vec<(&Slot, Option<Backup<'_>>)>) {
    for (slot, backup) in placed.into_iter().rev() {
        match backup {
            Some(backup) => backup.restore(&slot.name),
            None => {
                let _ =
                    rustix::fs::unlinkat(slot.dir.as_fd(), slot.name.as_str(), AtFlags::empty());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::test_support::{Fixture, KEY, OVERWRITE};
    use super::*;

    #[test]
    fn write_all_or_nothing_writes_all_files() {
        let f = Fixture::new();
        f.ws.write_all_or_nothing(&[
            ("node.key", b"key", KEY),
            ("node.pem", b"cert", WriteOptions::default()),
        ])
        .unwrap();
        f.assert_file("node.key", b"key", 0o400);
        f.assert_file("node.pem", b"cert", 0o644);
    }

    #[test]
    fn write_all_or_nothing_writes_nothing_when_one_target_exists() {
        let f = Fixture::new();
        f.put("node.pem", b"old cert");
        let err =
            f.ws.write_all_or_nothing(&[
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
    }

    #[test]
    fn write_all_or_nothing_rejects_the_same_file_twice() {
        let f = Fixture::new();
        let err =
            f.ws.write_all_or_nothing(&[
                ("a.pem", b"1", WriteOptions::default()),
                ("./a.pem", b"2", WriteOptions::default()),
            ])
            .unwrap_err();
        assert_eq!(err.to_string(), "`a.pem`: named twice in one group write");
        assert!(!f.root().join("a.pem").exists());
    }

    #[test]
    fn write_all_or_nothing_rolls_back_when_a_rename_fails() {
        let f = Fixture::new();
        f.put("ca.pem", b"old ca");
        let files: [(&str, &[u8], WriteOptions); 3] = [
            ("ca.pem", b"new ca", OVERWRITE),
            ("node.key", b"key", KEY),
            ("node.pem", b"cert", WriteOptions::default()),
        ];
        let slots = f.ws.check_all(&files).unwrap();
        let staged = stage_all(&slots, &files).unwrap();
        // Someone creates the last target between the check and the rename.
        fs::write(f.root().join("node.pem"), b"theirs").unwrap();
        let err = place_all(staged).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path == "node.pem"),
            "{err:?}"
        );
        assert_eq!(f.ws.read("ca.pem").unwrap(), b"old ca");
        assert!(!f.root().join("node.key").exists());
        assert_eq!(f.ws.read("node.pem").unwrap(), b"theirs");
    }

    #[test]
    fn write_all_or_nothing_replaces_with_the_requested_mode_and_leaves_no_backup() {
        let f = Fixture::new();
        f.put("node.key", b"old key");
        let key_overwrite = WriteOptions {
            mode: Some(0o400),
            overwrite: true,
        };
        f.ws.write_all_or_nothing(&[
            ("node.key", b"new key", key_overwrite),
            ("node.pem", b"cert", WriteOptions::default()),
        ])
        .unwrap();
        f.assert_file("node.key", b"new key", 0o400);
    }

    #[test]
    fn write_all_or_nothing_never_follows_a_symlink_that_appears_at_a_target() {
        let f = Fixture::new();
        let files: [(&str, &[u8], WriteOptions); 2] = [
            ("node.key", b"key", KEY),
            ("node.pem", b"cert", WriteOptions::default()),
        ];
        let slots = f.ws.check_all(&files).unwrap();
        let staged = stage_all(&slots, &files).unwrap();
        // A symlink to a file outside the root appears after the check.
        let outside = f.outer().join("outside.pem");
        fs::write(&outside, b"outside").unwrap();
        std::os::unix::fs::symlink(&outside, f.root().join("node.pem")).unwrap();
        let err = place_all(staged).unwrap_err();
        assert!(
            matches!(&err, Error::Exists { path } if path == "node.pem"),
            "{err:?}"
        );
        assert_eq!(fs::read(&outside).unwrap(), b"outside");
        assert!(!f.root().join("node.key").exists());
    }
}
