//! A dry run: the workspace keeps what a run would write in memory instead of writing it, and
//! answers reads from that first, so a procedure runs unchanged (it writes a CA, then loads
//! it back) while the disk stays as it was. Every check a real write makes is made (paths
//! inside the root, an existing file not replaced without `overwrite`, the directory must
//! exist or be planned), so a dry run fails where the real run would.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::{Arc, Mutex, MutexGuard};

use super::entries::is_missing;
use super::{Error, Result, Workspace, WriteOptions};

/// What the run would do to one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes with this mode (new, or replacing what is there).
    Write {
        /// The contents.
        data: Vec<u8>,
        /// The mode.
        mode: u32,
    },
    /// Write a file described but not made (a batch plans its outputs without signing):
    /// the description, one line.
    Describe {
        /// The kind of file (`certificate`, `key`, `manifest`).
        kind: String,
        /// What the file would hold.
        what: String,
        /// The mode.
        mode: u32,
    },
    /// Change the mode of what is there.
    Chmod {
        /// The new mode.
        mode: u32,
    },
    /// Remove the file.
    Remove,
    /// Keep the existing file, for this reason (a procedure checked it and found it current).
    Keep {
        /// Why.
        reason: String,
    },
}

/// One planned path, in the order the run first touched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    /// The path relative to the root.
    pub path: String,
    /// What would happen to it (the last thing the run did to it).
    pub action: Action,
    /// Whether something is at the path now (on disk).
    pub existed: bool,
}

/// A dry run's plan: files, directories and commands.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    files: Vec<Planned>,
    index: HashMap<String, usize>,
    dirs: Vec<String>,
    dir_set: BTreeSet<String>,
    commands: Vec<Vec<String>>,
}

impl Plan {
    /// The planned files, in the order the run first touched them.
    #[must_use]
    pub fn files(&self) -> &[Planned] {
        &self.files
    }

    /// The directories the run would create.
    #[must_use]
    pub fn dirs(&self) -> &[String] {
        &self.dirs
    }

    /// The commands the run would execute.
    #[must_use]
    pub fn commands(&self) -> &[Vec<String>] {
        &self.commands
    }

    fn get(&self, path: &str) -> Option<&Planned> {
        self.index.get(path).map(|&i| &self.files[i])
    }

    fn set(&mut self, path: String, action: Action, existed: bool) {
        match self.index.get(&path) {
            // A keep never hides a write planned before it.
            Some(&i) if matches!(action, Action::Keep { .. }) => {
                if matches!(self.files[i].action, Action::Keep { .. }) {
                    self.files[i].action = action;
                }
            }
            Some(&i) => self.files[i].action = action,
            None => {
                self.index.insert(path.clone(), self.files.len());
                self.files.push(Planned {
                    path,
                    action,
                    existed,
                });
            }
        }
    }
}

/// A dry run's plan, shared by the clones of a workspace.
pub(super) type Shared = Arc<Mutex<Plan>>;

/// What the plan says about a path, for reads.
enum Seen {
    /// A planned write: these bytes.
    Data(Vec<u8>),
    /// A planned file without contents (described), or a planned directory.
    Present { dir: bool },
    /// Planned removal.
    Gone,
    /// The plan does not touch it: ask the disk.
    Disk,
}

impl Workspace {
    /// This workspace in dry-run mode: from now on nothing is written, created, changed or
    /// removed; what would be is kept in a [`Plan`], which reads see.
    #[must_use]
    pub fn dry_run(self) -> Self {
        Self {
            plan: Some(Arc::default()),
            ..self
        }
    }

    /// Whether this is a dry run.
    #[must_use]
    pub fn is_dry_run(&self) -> bool {
        self.plan.is_some()
    }

    /// The plan so far (empty unless this is a dry run).
    #[must_use]
    pub fn plan(&self) -> Plan {
        self.plan
            .as_ref()
            .and_then(|p| p.lock().ok().map(|p| p.clone()))
            .unwrap_or_default()
    }

    /// Records that the run keeps `rel` as it is (it checked it and found it current).
    /// Nothing happens outside a dry run.
    ///
    /// # Errors
    /// A path outside the root.
    pub fn plan_keep(&self, rel: &str, reason: &str) -> Result<()> {
        let Some(plan) = &self.plan else {
            return Ok(());
        };
        let key = self.plan_key(rel)?;
        lock(plan)?.set(
            key,
            Action::Keep {
                reason: reason.into(),
            },
            true,
        );
        Ok(())
    }

    /// Records a file the run would write without its contents (a batch's outputs), with a
    /// one-line description. Checked as a write is. Nothing happens outside a dry run.
    ///
    /// # Errors
    /// As [`Workspace::write`] would refuse the write.
    pub fn plan_describe(
        &self,
        rel: &str,
        kind: &str,
        what: &str,
        opts: WriteOptions,
    ) -> Result<()> {
        let Some(plan) = &self.plan else {
            return Ok(());
        };
        let (key, existed) = self.planned_target(rel, opts)?;
        lock(plan)?.set(
            key,
            Action::Describe {
                kind: kind.into(),
                what: what.into(),
                mode: opts.effective_mode(),
            },
            existed,
        );
        Ok(())
    }

    /// Records a command the run would execute. Nothing happens outside a dry run.
    ///
    /// # Errors
    /// A poisoned plan.
    pub fn plan_command(&self, argv: &[String]) -> Result<()> {
        if let Some(plan) = &self.plan {
            lock(plan)?.commands.push(argv.to_vec());
        }
        Ok(())
    }

    /// The plan's key for `rel`: the path relative to the root, normalised.
    fn plan_key(&self, rel: &str) -> Result<String> {
        let path = self.resolve(rel)?;
        Ok(self.shown_real(&path))
    }

    /// What the plan says about `rel`.
    fn seen(&self, rel: &str) -> Result<Seen> {
        let Some(plan) = &self.plan else {
            return Ok(Seen::Disk);
        };
        let key = self.plan_key(rel)?;
        let plan = lock(plan)?;
        if plan.dir_set.contains(&key) {
            return Ok(Seen::Present { dir: true });
        }
        Ok(match plan.get(&key).map(|p| &p.action) {
            Some(Action::Write { data, .. }) => Seen::Data(data.clone()),
            Some(Action::Describe { .. }) => Seen::Present { dir: false },
            Some(Action::Remove) => Seen::Gone,
            Some(Action::Chmod { .. } | Action::Keep { .. }) | None => Seen::Disk,
        })
    }

    /// Checks a planned write as [`Workspace::prepare`] checks a real one, against the plan
    /// and the disk; returns the plan's key and whether the file exists now.
    fn planned_target(&self, rel: &str, opts: WriteOptions) -> Result<(String, bool)> {
        let key = self.plan_key(rel)?;
        let shown = self.display(rel);
        let on_disk = self.disk_kind(rel)?;
        if on_disk == Some(true) {
            return Err(Error::directory(shown, None));
        }
        let exists = match self.seen(rel)? {
            Seen::Data(_) => true,
            Seen::Present { dir: true } => return Err(Error::directory(shown, None)),
            Seen::Present { dir: false } => true,
            Seen::Gone => false,
            Seen::Disk => on_disk.is_some(),
        };
        if exists && !(opts.overwrite || self.force) {
            return Err(Error::Exists { path: shown });
        }
        let parent = match key.rsplit_once('/') {
            Some((parent, _)) => parent.to_string(),
            None => ".".to_string(),
        };
        if parent != "." && !self.is_dir(&parent)? {
            return Err(Error::missing_directory(&shown, &parent));
        }
        Ok((key, on_disk.is_some()))
    }

    /// `Some(is_dir)` when something is at `rel` on disk.
    fn disk_kind(&self, rel: &str) -> Result<Option<bool>> {
        let path = self.resolve(rel)?;
        match fs::symlink_metadata(&path) {
            Ok(meta) => Ok(Some(meta.is_dir())),
            Err(e) if is_missing(&e) => Ok(None),
            Err(e) => Err(self.io("access", rel, e)),
        }
    }

    /// A planned [`Workspace::write`]; `None` outside a dry run.
    pub(super) fn plan_write(
        &self,
        rel: &str,
        data: &[u8],
        opts: WriteOptions,
    ) -> Option<Result<()>> {
        self.plan_write_all(&[(rel, data, opts)])
    }

    /// A planned [`Workspace::write_all_or_nothing`]: every target checked, then all planned.
    pub(super) fn plan_write_all(
        &self,
        files: &[(&str, &[u8], WriteOptions)],
    ) -> Option<Result<()>> {
        let plan = self.plan.as_ref()?;
        Some((|| {
            let mut checked: Vec<(String, bool, &[u8], WriteOptions)> =
                Vec::with_capacity(files.len());
            for &(rel, data, opts) in files {
                let (key, existed) = self.planned_target(rel, opts)?;
                if checked.iter().any(|(k, ..)| k == &key) {
                    return Err(Error::InvalidPath {
                        path: self.display(rel),
                        reason: "named twice in one group write".into(),
                    });
                }
                checked.push((key, existed, data, opts));
            }
            let mut plan = lock(plan)?;
            for (key, existed, data, opts) in checked {
                plan.set(
                    key,
                    Action::Write {
                        data: data.to_vec(),
                        mode: opts.effective_mode(),
                    },
                    existed,
                );
            }
            Ok(())
        })())
    }

    /// A planned [`Workspace::mkdir`].
    pub(super) fn plan_mkdir(&self, rel: &str) -> Option<Result<()>> {
        let plan = self.plan.as_ref()?;
        Some((|| {
            let key = self.plan_key(rel)?;
            let mut missing = Vec::new();
            let mut at = key.as_str();
            loop {
                if at == "." || self.disk_kind(at)? == Some(true) {
                    break;
                }
                if self.disk_kind(at)? == Some(false) {
                    return Err(Error::InvalidPath {
                        path: at.to_string(),
                        reason: "is a file, not a directory".into(),
                    });
                }
                missing.push(at.to_string());
                match at.rsplit_once('/') {
                    Some((parent, _)) => at = parent,
                    None => break,
                }
            }
            let mut plan = lock(plan)?;
            for dir in missing.into_iter().rev() {
                if plan.dir_set.insert(dir.clone()) {
                    plan.dirs.push(dir);
                }
            }
            Ok(())
        })())
    }

    /// A planned [`Workspace::remove`].
    pub(super) fn plan_remove(&self, rel: &str) -> Option<Result<()>> {
        let plan = self.plan.as_ref()?;
        Some((|| {
            let key = self.plan_key(rel)?;
            let on_disk = self.disk_kind(rel)?;
            match (self.seen(rel)?, on_disk) {
                (Seen::Present { dir: true }, _) | (Seen::Disk, Some(true)) => {
                    return Err(Error::directory(
                        self.display(rel),
                        Some("only files can be removed"),
                    ));
                }
                (Seen::Gone, _) | (Seen::Disk, None) => {
                    return Err(Error::NotFound {
                        path: self.display(rel),
                    });
                }
                _ => {}
            }
            lock(plan)?.set(key, Action::Remove, on_disk.is_some());
            Ok(())
        })())
    }

    /// A planned [`Workspace::chmod`].
    pub(super) fn plan_chmod(&self, rel: &str, mode: u32) -> Option<Result<()>> {
        let plan = self.plan.as_ref()?;
        Some((|| {
            let key = self.plan_key(rel)?;
            let mode = mode & 0o7777;
            let mut plan_lock = lock(plan)?;
            if let Some(&i) = plan_lock.index.get(&key) {
                match &mut plan_lock.files[i].action {
                    Action::Write { mode: m, .. } | Action::Describe { mode: m, .. } => {
                        *m = mode;
                        return Ok(());
                    }
                    _ => {}
                }
            }
            if plan_lock.dir_set.contains(&key) {
                return Ok(()); // a planned directory: its mode is not shown
            }
            drop(plan_lock);
            let path = self.resolve(rel)?;
            let meta = fs::metadata(&path).map_err(|e| self.io("set permissions", rel, e))?;
            if meta.permissions().mode() & 0o7777 == mode {
                return Ok(());
            }
            lock(plan)?.set(key, Action::Chmod { mode }, true);
            Ok(())
        })())
    }

    /// A planned read: the planned bytes, or `None` to read the disk.
    pub(super) fn plan_read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self.seen(rel)? {
            Seen::Data(data) => Ok(Some(data)),
            Seen::Present { dir: false } => Err(super::io_error(
                "read",
                &self.display(rel),
                std::io::Error::other("planned by a batch in this dry run, not made"),
            )),
            Seen::Present { dir: true } => Err(super::io_error(
                "read",
                &self.display(rel),
                std::io::Error::other("is a directory"),
            )),
            Seen::Gone => Err(Error::NotFound {
                path: self.display(rel),
            }),
            Seen::Disk => Ok(None),
        }
    }

    /// A planned `exists` / `is_dir`: `Some((exists, is_dir))`, or `None` to ask the disk.
    pub(super) fn plan_exists(&self, rel: &str) -> Result<Option<(bool, bool)>> {
        Ok(match self.seen(rel)? {
            Seen::Data(_) | Seen::Present { dir: false } => Some((true, false)),
            Seen::Present { dir: true } => Some((true, true)),
            Seen::Gone => Some((false, false)),
            Seen::Disk => None,
        })
    }

    /// The planned entries directly in directory `rel` (added) and the removed ones.
    pub(super) fn plan_listing(&self, rel: &str) -> Result<(Vec<String>, Vec<String>)> {
        let Some(plan) = &self.plan else {
            return Ok((Vec::new(), Vec::new()));
        };
        let dir = self.plan_key(rel)?;
        let inside = |path: &str| match path.rsplit_once('/') {
            Some((parent, _)) => parent == dir,
            None => dir == ".",
        };
        let plan = lock(plan)?;
        let mut added: Vec<String> = plan.dirs.iter().filter(|d| inside(d)).cloned().collect();
        let mut removed = Vec::new();
        for p in &plan.files {
            if !inside(&p.path) {
                continue;
            }
            match p.action {
                Action::Write { .. } | Action::Describe { .. } => added.push(p.path.clone()),
                Action::Remove => removed.push(p.path.clone()),
                Action::Chmod { .. } | Action::Keep { .. } => {}
            }
        }
        Ok((added, removed))
    }
}

fn lock(plan: &Shared) -> Result<MutexGuard<'_, Plan>> {
    plan.lock().map_err(|_| Error::InvalidPath {
        path: ".".into(),
        reason: "the dry run's plan is unusable after a panic".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Fixture, KEY, OVERWRITE};
    use super::*;

    #[test]
    fn a_dry_run_reads_what_it_planned_and_leaves_the_disk_alone() {
        let f = Fixture::new();
        fs::write(f.root().join("old.pem"), b"old").unwrap();
        let ws = f.ws.clone().dry_run();
        ws.mkdir("certs/sub").unwrap();
        ws.write("certs/sub/a.key", b"key", KEY).unwrap();
        ws.write_all_or_nothing(&[
            ("certs/b.pem", b"b", WriteOptions::default()),
            ("old.pem", b"new", OVERWRITE),
        ])
        .unwrap();
        assert_eq!(ws.read("certs/sub/a.key").unwrap(), b"key");
        assert_eq!(ws.read("old.pem").unwrap(), b"new");
        assert!(ws.is_dir("certs").unwrap());
        assert_eq!(ws.list("certs").unwrap(), ["certs/b.pem", "certs/sub"]);
        ws.remove("certs/b.pem").unwrap();
        assert!(!ws.exists("certs/b.pem").unwrap());
        // The disk: as it was.
        assert!(!f.root().join("certs").exists());
        assert_eq!(fs::read(f.root().join("old.pem")).unwrap(), b"old");
        let plan = ws.plan();
        assert_eq!(plan.dirs(), ["certs", "certs/sub"]);
        let actions: Vec<(&str, bool)> = plan
            .files()
            .iter()
            .map(|p| (p.path.as_str(), p.existed))
            .collect();
        assert_eq!(
            actions,
            [
                ("certs/sub/a.key", false),
                ("certs/b.pem", false),
                ("old.pem", true)
            ]
        );
        assert_eq!(plan.files()[1].action, Action::Remove);
    }

    #[test]
    fn a_dry_run_refuses_what_the_real_write_refuses() {
        let f = Fixture::new();
        fs::write(f.root().join("ca.key"), b"old").unwrap();
        let ws = f.ws.clone().dry_run();
        assert!(matches!(
            ws.write("ca.key", b"new", KEY),
            Err(Error::Exists { .. })
        ));
        let err = ws.write("missing/x.pem", b"x", KEY).unwrap_err();
        assert!(
            err.to_string()
                .contains("directory `missing` does not exist"),
            "{err}"
        );
        assert!(matches!(
            ws.write("../x", b"x", KEY),
            Err(Error::OutsideRoot { .. })
        ));
        ws.write("n.pem", b"1", KEY).unwrap();
        assert!(matches!(
            ws.write("n.pem", b"2", KEY),
            Err(Error::Exists { .. })
        ));
        assert!(
            ws.open_dir(".").is_err(),
            "the bulk writer is closed in a dry run"
        );
        assert!(ws.plan().commands().is_empty());
    }
}
