//! Bulk issuance: sign thousands of certificates in parallel (rayon), streaming results to disk
//! in chunks, resumable after an interruption, with a manifest of what is durable.
//!
//! Plain data in, plain results out: no Rhai here. Specs are validated before any key is
//! generated; work runs in chunks of [`CHUNK`] on a rayon pool, so memory stays flat however
//! long the batch; each chunk's files are written atomically, made durable with one `syncfs`,
//! and only then recorded in the manifest.

mod chunks;
mod csrs;
mod database;
mod error;
mod inventory;
mod kept;
mod manifest;
mod names;
mod options;
mod output;
mod plan;
mod policy;
mod run;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

pub use csrs::{CsrItem, csr_items};
pub use database::{IndexLog, next_serial_after};
pub use error::{Error, Result};
pub use inventory::{
    InventoryFormat, RawSpec, SpecDefaults, SpecStream, read_inventory, split_list,
};
pub use manifest::{Manifest, ManifestEntry};
pub use names::{key128, validate_names};
pub use options::{BatchOptions, CsrSource, IssueOptions, Layout, SignOptions, SpecSource};
pub use plan::{Planned, plan_issue_batch, plan_sign_batch};
pub use policy::{NamePolicy, check_csr};

use crate::pki::{Ca, Certificate, Csr, DistinguishedName, KeySpec, Profile, San};
use crate::workspace::{Workspace, WriteOptions};
use chunks::run_chunks;
use csrs::checked_csrs;
use run::{Outcome, Run};

/// How many specs are signed per round: enough to keep all threads busy, small enough that the
/// last round's `syncfs` (which nothing can overlap) has little to flush.
pub const CHUNK: usize = 128;

/// One certificate to issue.
#[derive(Debug, Clone)]
pub struct BatchSpec {
    /// Unique name; fills `{name}` in the output templates.
    pub name: String,
    /// The subject.
    pub subject: DistinguishedName,
    /// The SANs.
    pub sans: Vec<San>,
    /// The key to generate.
    pub key: KeySpec,
    /// Index into the batch's profiles.
    pub profile: usize,
}

/// What every batch runs with: where files go, who signs, and who watches.
#[derive(Clone, Copy)]
pub struct Batch<'a> {
    /// The working directory.
    pub ws: &'a Workspace,
    /// The signing CA.
    pub ca: &'a Ca,
    /// Progress hook.
    pub progress: &'a dyn Progress,
    /// Set (by a Ctrl-C handler) to stop the batch: the certificates in hand are finished,
    /// made durable and recorded, the rest are left for a re-run.
    pub interrupt: Option<&'a AtomicBool>,
}

/// What became of one item of a batch, as [`Progress::item`] hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// A certificate was made in this run.
    Issued,
    /// Its outputs existed and were checked and kept.
    Kept,
    /// A CSR was refused, or the item failed.
    Failed,
}

/// Progress reporting hook (the CLI draws a bar; tests ignore it). Called from the worker
/// threads, once per item as soon as it is done.
pub trait Progress: Sync {
    /// The batch starts with `total` items.
    fn start(&self, total: u64);
    /// One more item is done.
    fn item(&self, done: Done);
    /// The batch ended.
    fn finish(&self);
}

/// A progress hook that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn item(&self, _: Done) {}
    fn finish(&self) {}
}

/// A CSR that was not signed, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// The CSR's name (file stem).
    pub name: String,
    /// The CSR's path.
    pub file: String,
    /// Why it was refused.
    pub reason: String,
}

/// What a batch did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Certificates made in this run.
    pub issued: usize,
    /// Items whose outputs already existed.
    pub skipped: usize,
    /// CSRs refused (sign batches only).
    pub rejected: Vec<Rejection>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Items of started chunks left undone because the batch was interrupted.
    pub left: usize,
}

impl Summary {
    /// Certificates made per second of this run, when it took any time.
    #[must_use]
    pub fn rate(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.issued as f64 / self.seconds)
    }
}

/// Issues key + certificate for every spec of `specs`, under `opts`.
///
/// The specs are read twice: once to validate every row (nothing is generated if one is bad),
/// once to issue, streaming. Existing outputs are kept (and recorded in the manifest if they
/// were not); `--force` on the workspace replaces them.
///
/// # Errors
/// A bad row (before anything is written), a file error, or a signing error.
pub fn issue_batch(batch: &Batch<'_>, specs: SpecSource, opts: &IssueOptions) -> Result<Summary> {
    let (profiles, defaults) = opts.spec_defaults();
    match specs {
        SpecSource::Inventory(path) => issue_specs(
            batch,
            || match read_inventory(batch.ws, &path, &defaults) {
                Ok(it) => it,
                Err(e) => Box::new(std::iter::once(Err(e))),
            },
            &path,
            opts,
            &profiles,
        ),
        SpecSource::List(rows) => {
            let list = listed_specs(rows, &defaults)?;
            issue_specs(
                batch,
                || list.iter().cloned().map(Ok),
                LISTED,
                opts,
                &profiles,
            )
        }
    }
}

/// How errors name specs given as a list rather than a file.
const LISTED: &str = "specs";

/// Specs given as a list, each with its row number (from 1).
///
/// # Errors
/// The first row that is not a spec, by number.
fn listed_specs(rows: Vec<RawSpec>, defaults: &SpecDefaults) -> Result<Vec<(usize, BatchSpec)>> {
    rows.into_iter()
        .enumerate()
        .map(|(i, raw)| {
            raw.into_spec(defaults)
                .map(|spec| (i + 1, spec))
                .map_err(|message| Error::Row {
                    source_name: LISTED.to_string(),
                    row: i + 1,
                    message,
                })
        })
        .collect()
}

/// [`issue_batch`] over a stream of specs that can be started twice.
fn issue_specs<I>(
    batch: &Batch<'_>,
    specs: impl Fn() -> I,
    source_name: &str,
    opts: &IssueOptions,
    profiles: &[Profile],
) -> Result<Summary>
where
    I: Iterator<Item = Result<(usize, BatchSpec)>>,
{
    let Batch { ws, progress, .. } = *batch;
    let layout = &opts.layout;
    let started = Instant::now();
    // Pass 1: validate every row, streaming; only 16-byte name digests are kept.
    let mut check = names::NameCheck::new(ws, layout, source_name);
    let mut total = 0usize;
    for item in specs() {
        let (row, spec) = item?;
        if spec.profile >= profiles.len() {
            return Err(Error::Row {
                source_name: source_name.to_string(),
                row,
                message: "unknown profile".into(),
            });
        }
        check.check(row, &spec.name)?;
        total += 1;
    }
    drop(check);
    let (run, mut records, pool) = Run::start(batch, &opts.run, layout)?;
    progress.start(total as u64);
    let result = run_chunks(
        &run,
        &pool,
        specs().map(|r| r.map(|(_, s)| s)),
        &mut records,
        progress,
        |spec: &BatchSpec| run.issue_one(spec, layout, profiles),
    );
    progress.finish();
    records.finish(batch.ws)?;
    let mut summary = result?;
    summary.seconds = started.elapsed().as_secs_f64();
    stopped_or(summary, total, opts.run.manifest.as_deref())
}

/// `summary`, or [`Error::Interrupted`] when items were left undone by Ctrl-C.
fn stopped_or(summary: Summary, total: usize, manifest: Option<&str>) -> Result<Summary> {
    let done = summary.issued + summary.skipped + summary.rejected.len();
    if done >= total {
        return Ok(summary);
    }
    Err(Error::Interrupted {
        issued: summary.issued,
        kept: summary.skipped,
        total,
        left: total - done,
        recorded: manifest
            .map(|m| format!(" and recorded in `{m}`"))
            .unwrap_or_default(),
    })
}

/// Signs every CSR of `csrs` under `opts.profile` (and its signing policy), writing `opts.out`
/// (a template with `{name}`). Refused CSRs are listed in the summary (and not written, and in
/// `opts.report` when one is named); the rest are signed.
///
/// # Errors
/// A file or manifest error (a refused CSR is not an error here).
pub fn sign_batch(batch: &Batch<'_>, csrs: &CsrSource, opts: &SignOptions) -> Result<Summary> {
    let Batch {
        ws, ca, progress, ..
    } = *batch;
    let (csrs, layout) = checked_csrs(ws, csrs, opts)?;
    let profile = &opts.profile;
    let started = Instant::now();
    let (run, mut records, pool) = Run::start(batch, &opts.run, &layout)?;
    progress.start(csrs.len() as u64);
    let work = |item: &CsrItem| -> Result<Outcome<'_>> {
        let cert_path = layout.cert_path(&item.name);
        let dir = run.certs.open(ws, &item.name)?;
        let file = run.certs.file(&item.name);
        let pki = |source| Error::Pki {
            name: item.name.clone(),
            source,
        };
        if run.certs.exists(&dir, &file)? && !ws.force() {
            if run.recorded.contains(&key128(item.name.as_bytes())) && run.in_database.is_none() {
                return Ok(Outcome::Skipped(None));
            }
            let cert = Certificate::from_pem(&dir.read(&file)?).map_err(pki)?;
            return Ok(Outcome::Skipped(
                run.kept_entry(&item.name, &cert, &cert_path, None)?,
            ));
        }
        let reject = |reason: String| {
            Outcome::Rejected(Rejection {
                name: item.name.clone(),
                file: item.path.clone(),
                reason,
            })
        };
        let csr = match Csr::from_pem(&ws.read(&item.path)?) {
            Ok(c) => c,
            Err(e) => return Ok(reject(e.to_string())),
        };
        if let Err(reason) = check_csr(&csr, profile) {
            return Ok(reject(reason));
        }
        let serial = run.batch_serial()?;
        let cert = match ca.sign_with_serial(&csr, profile, serial.as_ref().map(|s| &s[..])) {
            Ok(signed) => signed.cert,
            Err(e) => return Ok(reject(e.to_string())),
        };
        dir.write(
            &file,
            cert.pem().as_bytes(),
            WriteOptions {
                mode: Some(0o644),
                overwrite: ws.force(),
            },
        )?;
        Ok(Outcome::Issued(
            run.entry(&item.name, &cert, &cert_path, None)?,
        ))
    };
    let result = run_chunks(
        &run,
        &pool,
        csrs.iter().cloned().map(Ok),
        &mut records,
        progress,
        work,
    );
    progress.finish();
    records.finish(ws)?;
    let mut summary = result?;
    summary.seconds = started.elapsed().as_secs_f64();
    if let Some(report) = &opts.report {
        write_report(ws, report, &summary.rejected)?;
    }
    stopped_or(summary, csrs.len(), opts.run.manifest.as_deref())
}

/// Writes the refused CSRs to `path` as JSON lines (replacing an earlier report), creating its
/// directory.
fn write_report(ws: &Workspace, path: &str, rejected: &[Rejection]) -> Result<()> {
    let mut text = String::new();
    for r in rejected {
        let line = serde_json::to_string(r).map_err(|e| Error::Report {
            path: path.to_string(),
            message: e.to_string(),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    if let Some((dir, _)) = path.rsplit_once('/') {
        if !dir.is_empty() {
            ws.mkdir(dir)?;
        }
    }
    let opts = WriteOptions {
        mode: Some(0o644),
        overwrite: true,
    };
    ws.write(path, text.as_bytes(), opts)?;
    Ok(())
}
