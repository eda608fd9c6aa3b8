//! `pkirun SCRIPT --dry-run`: the plan a dry run leaves ([`crate::workspace::Plan`]) told file
//! by file: what would be created, replaced, kept or removed, with its kind and mode; for a
//! certificate its subject, names, issuer, validity and key; for a key its type; for a file
//! that exists, what would change, field by field. A file the run would write again unchanged
//! is kept, so an unchanged procedure plans nothing.

use std::os::unix::fs::PermissionsExt as _;

use serde::Serialize;

use crate::pki::diff::{self, Aspect};
use crate::pki::inspect::{self, Inspected};
use crate::workspace::{Action, Plan, Planned, Workspace};

/// The plan, for people and (as JSON) for machines.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlanReport {
    /// Always true: nothing was written.
    pub dry_run: bool,
    /// Directories the run would create.
    pub directories: Vec<String>,
    /// Files, in the order the run first touched them.
    pub files: Vec<FileReport>,
    /// Commands the run would execute (`exec`), not run.
    pub commands: Vec<Vec<String>>,
}

/// One file of the plan.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FileReport {
    /// The path, relative to the working directory.
    pub path: String,
    /// `create`, `replace`, `keep`, `remove` or `chmod`.
    pub action: &'static str,
    /// `certificate`, `key`, `encrypted key`, `request`, `crl`, `pkcs12` or `file`.
    pub kind: String,
    /// The mode the file would have (octal), when it would be written or changed.
    pub mode: Option<String>,
    /// What the file would hold, one phrase per field (`subject O = x, CN = y`, `RSA 2048`).
    pub details: Vec<String>,
    /// For a file that exists: what would change.
    pub changes: Vec<Change>,
    /// Why a kept file is kept.
    pub reason: Option<String>,
}

/// A field that would change in an existing file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    /// The field (`subjectAltName`, `validity`, `mode`, `contents`).
    pub field: String,
    /// Its value now.
    pub from: String,
    /// Its value after the run.
    pub to: String,
}

impl Change {
    /// A file's mode changing from `from` to `to`.
    fn mode(from: u32, to: u32) -> Change {
        Change {
            field: "mode".into(),
            from: format!("{from:04o}"),
            to: format!("{to:04o}"),
        }
    }
}

impl PlanReport {
    /// The report of `plan`, comparing with what `ws` holds on disk now.
    #[must_use]
    pub fn of(plan: &Plan, ws: &Workspace) -> PlanReport {
        PlanReport {
            dry_run: true,
            directories: plan.dirs().to_vec(),
            files: plan
                .files()
                .iter()
                // Made and removed again within the run: nothing happens to the disk.
                .filter(|p| p.existed || !matches!(p.action, Action::Remove))
                .map(|p| file_report(p, ws))
                .collect(),
            commands: plan.commands().to_vec(),
        }
    }

    /// Whether the run would change anything (create, replace, remove, change a mode, run a
    /// command).
    #[must_use]
    pub fn changes_anything(&self) -> bool {
        !self.directories.is_empty()
            || !self.commands.is_empty()
            || self.files.iter().any(|f| f.action != "keep")
    }

    /// The plan as text, one line a file.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = String::new();
        if !self.changes_anything() {
            out.push_str(&format!(
                "dry run: nothing to do ({} file(s) up to date); nothing was written\n",
                self.files.len()
            ));
            return out;
        }
        out.push_str("dry run: nothing was written. The run would:\n");
        let width = self
            .files
            .iter()
            .map(|f| f.path.len())
            .chain(self.directories.iter().map(|d| d.len() + 1))
            .max()
            .unwrap_or(0);
        for d in &self.directories {
            out.push_str(&format!(
                "  create   {:width$}  directory\n",
                format!("{d}/")
            ));
        }
        for f in &self.files {
            let mut line = f.kind.clone();
            if let Some(mode) = &f.mode {
                line.push_str(&format!(", mode {mode}"));
            }
            if !f.details.is_empty() {
                line.push_str(": ");
                line.push_str(&f.details.join("; "));
            }
            if let Some(reason) = &f.reason {
                line.push_str(&format!(" ({reason})"));
            }
            out.push_str(&format!("  {:8} {:width$}  {line}\n", f.action, f.path));
            for c in &f.changes {
                out.push_str(&format!(
                    "  {:8} {:width$}    {}: {} -> {}\n",
                    "", "", c.field, c.from, c.to
                ));
            }
        }
        for c in &self.commands {
            out.push_str(&format!("  run      {} (not run)\n", c.join(" ")));
        }
        let count = |action: &str| self.files.iter().filter(|f| f.action == action).count();
        out.push_str(&format!(
            "{} to create, {} to replace, {} to keep, {} to remove, {} directories, {} commands\n",
            count("create"),
            count("replace"),
            count("keep"),
            count("remove"),
            self.directories.len(),
            self.commands.len()
        ));
        out
    }
}

/// What is on disk at a planned path now: its bytes and mode.
fn on_disk(ws: &Workspace, path: &str) -> Option<(Vec<u8>, u32)> {
    let real = ws.resolve(path).ok()?;
    let meta = std::fs::metadata(&real).ok()?;
    let bytes = std::fs::read(&real).ok()?;
    Some((bytes, meta.permissions().mode() & 0o7777))
}

fn file_report(p: &Planned, ws: &Workspace) -> FileReport {
    let mut report = FileReport {
        path: p.path.clone(),
        action: "keep",
        kind: "file".into(),
        mode: None,
        details: Vec::new(),
        changes: Vec::new(),
        reason: None,
    };
    let now = if p.existed {
        on_disk(ws, &p.path)
    } else {
        None
    };
    match &p.action {
        Action::Write { data, mode } => {
            let (kind, details) = describe(&p.path, data);
            report.kind = kind;
            report.mode = Some(format!("{mode:04o}"));
            match now {
                None => {
                    report.action = "create";
                    report.details = details;
                }
                Some((old, old_mode)) if old == *data && old_mode == *mode => {
                    report.reason = Some("written again unchanged".into());
                    report.mode = None;
                }
                Some((old, old_mode)) => {
                    report.action = "replace";
                    report.changes = changes(&old, data);
                    if old_mode != *mode {
                        report.changes.push(Change::mode(old_mode, *mode));
                    }
                }
            }
        }
        Action::Describe { kind, what, mode } => {
            report.action = if p.existed { "replace" } else { "create" };
            report.kind = kind.clone();
            report.mode = Some(format!("{mode:04o}"));
            report.details = vec![what.clone()];
        }
        Action::Chmod { mode } => {
            report.action = "chmod";
            report.mode = Some(format!("{mode:04o}"));
            if let Some((bytes, old_mode)) = now {
                report.kind = describe(&p.path, &bytes).0;
                report.changes.push(Change::mode(old_mode, *mode));
            }
        }
        Action::Remove => {
            report.action = "remove";
            if let Some((bytes, _)) = now {
                report.kind = describe(&p.path, &bytes).0;
            }
        }
        Action::Keep { reason } => {
            if let Some((bytes, _)) = now {
                report.kind = describe(&p.path, &bytes).0;
            }
            report.reason = Some(reason.clone());
        }
    }
    report
}

/// The kind of a file and what it holds.
fn describe(path: &str, data: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(data);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return (
            "encrypted key".into(),
            vec!["PKCS#8, under the run's passphrase".into()],
        );
    }
    if text.contains("-----BEGIN X509 CRL-----") {
        return ("crl".into(), Vec::new());
    }
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".p12") || lower.ends_with(".pfx") {
        return ("pkcs12".into(), Vec::new());
    }
    let Ok(items) = inspect::inspect_pem(data) else {
        return ("file".into(), vec![format!("{} bytes", data.len())]);
    };
    let certs = items
        .iter()
        .filter(|i| matches!(i, Inspected::Certificate(_)))
        .count();
    match items.first() {
        Some(Inspected::Certificate(c)) => {
            let mut details = vec![format!("subject {}", c.subject.text)];
            if !c.summary.san.is_empty() {
                details.push(format!("SAN {}", c.summary.san.join(", ")));
            }
            details.push(if c.self_signed {
                "self-signed".into()
            } else {
                format!("issuer {}", c.issuer.text)
            });
            details.push(format!(
                "{} days",
                (c.validity_seconds + 43_200).div_euclid(86_400)
            ));
            details.push(key_text(&c.public_key.algorithm, c.public_key.bits));
            if certs > 1 {
                details.push(format!("and {} more certificate(s)", certs - 1));
            }
            ("certificate".into(), details)
        }
        Some(Inspected::Csr(r)) => {
            let mut details = vec![format!("subject {}", r.subject.text)];
            if !r.summary.san.is_empty() {
                details.push(format!("SAN {}", r.summary.san.join(", ")));
            }
            details.push(key_text(&r.public_key.algorithm, r.public_key.bits));
            ("request".into(), details)
        }
        Some(Inspected::PrivateKey(k)) => (
            "key".into(),
            vec![format!("{} ({})", key_text(&k.algorithm, k.bits), k.format)],
        ),
        Some(Inspected::Crl(_)) => ("crl".into(), Vec::new()),
        Some(Inspected::Broken(_)) | None => ("file".into(), vec![format!("{} bytes", data.len())]),
    }
}

fn key_text(algorithm: &str, bits: u32) -> String {
    match algorithm {
        "ECDSA" => format!("ECDSA P-{bits}"),
        other => format!("{other} {bits}"),
    }
}

/// What would change from `old` to `new`: the fields of a certificate, request or key that
/// differ (serial and dates are new on every issue and are not listed), or the contents.
fn changes(old: &[u8], new: &[u8]) -> Vec<Change> {
    match diff::diff(old, new) {
        Ok(found) => found
            .into_iter()
            .filter(|d| !matches!(d.aspect, Aspect::Serial | Aspect::Dates))
            .map(|d| Change {
                field: d.field,
                from: d.a,
                to: d.b,
            })
            .collect(),
        Err(_) => vec![Change {
            field: "contents".into(),
            from: format!("{} bytes", old.len()),
            to: format!("{} bytes", new.len()),
        }],
    }
}
