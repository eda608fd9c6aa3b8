//! Bulk issuance: sign thousands of certificates in parallel (rayon), streaming results to disk
//! in chunks, resumable after an interruption, with a manifest of what is durable.
//!
//! Plain data in, plain results out: no Rhai here. Specs are validated before any key is
//! generated; work runs in chunks of [`CHUNK`] on a rayon pool, so memory stays flat however
//! long the batch; each chunk's files are written atomically, made durable with one `syncfs`,
//! and only then recorded in the manifest.

mod database;
mod inventory;
mod kept;
mod manifest;
mod options;
mod output;
mod plan;
mod policy;

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rayon::prelude::*;

pub use database::{IndexLog, next_serial_after};
pub use inventory::{
    InventoryFormat, RawSpec, SpecDefaults, SpecStream, read_inventory, split_list,
};
pub use manifest::{Manifest, ManifestEntry};
pub use options::{BatchOptions, CsrSource, IssueOptions, Layout, SignOptions, SpecSource};
pub use plan::{Planned, plan_issue_batch, plan_sign_batch};
pub use policy::{NamePolicy, check_csr};

use crate::pki::{Ca, Certificate, Csr, DistinguishedName, Key, KeySpec, Profile, San};
use crate::workspace::{Dir, Workspace, WriteOptions};
use output::OutputDir;

/// How many specs are signed per round: enough to keep all threads busy, small enough that the
/// last round's `syncfs` (which nothing can overlap) has little to flush.
pub const CHUNK: usize = 128;

/// How many signed rounds may wait for the disk before signing pauses (bounds memory).
const PENDING: usize = 16;

/// How many rounds are on the thread pool at once.
const IN_FLIGHT: usize = 2;

/// Errors of a batch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A spec (row) is invalid; nothing was written.
    #[error("{source_name} row {row}: {message}")]
    Row {
        /// The inventory file or "specs".
        source_name: String,
        /// 1-based row (for CSV, the header is row 1 and data starts at row 2).
        row: usize,
        /// What is wrong.
        message: String,
    },
    /// A file operation failed.
    #[error(transparent)]
    Workspace(#[from] crate::workspace::Error),
    /// Signing failed.
    #[error("`{name}`: {source}")]
    Pki {
        /// The spec or CSR name.
        name: String,
        /// The core error.
        #[source]
        source: crate::pki::Error,
    },
    /// A file a re-run would keep is broken, foreign or not what the spec asks; it is
    /// neither kept nor replaced (`--force` replaces it).
    #[error("`{path}`: {reason}; not kept and not replaced (remove it or run with --force)")]
    Kept {
        /// The file, relative to the root.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The CA's database could not be read or written.
    #[error("`{path}`: {message}")]
    Database {
        /// index.txt's path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The manifest could not be read or written.
    #[error("manifest `{path}`: {message}")]
    Manifest {
        /// Manifest path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The report of refused CSRs could not be written.
    #[error("report `{path}`: {message}")]
    Report {
        /// Report path.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The thread pool could not be built.
    #[error("cannot start {0} worker threads")]
    Pool(usize),
    /// Ctrl-C stopped the batch; what was finished is whole (and recorded).
    #[error(
        "{issued} of {total} certificates issued{recorded}, {kept} kept, {left} left for a re-run"
    )]
    Interrupted {
        /// Certificates made before the interrupt.
        issued: usize,
        /// Outputs found and kept.
        kept: usize,
        /// Items of the batch.
        total: usize,
        /// Items not started.
        left: usize,
        /// ` and recorded in `manifest.jsonl`` when the batch has a manifest.
        recorded: String,
    },
}

/// Result alias for batches.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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

enum Outcome<'r> {
    Issued(ManifestEntry),
    /// Key written, certificate signed and waiting for the key to be durable (see
    /// [`run_chunks`]): a power loss never leaves a certificate without its key.
    Pending(PendingCert<'r>),
    Skipped(Option<ManifestEntry>),
    Rejected(Rejection),
    /// Not started: the batch was interrupted.
    Left,
}

/// A certificate to write once its key is durable.
struct PendingCert<'r> {
    dir: output::DirRef<'r>,
    file: String,
    pem: String,
    opts: WriteOptions,
    entry: ManifestEntry,
}

impl<'r> PendingCert<'r> {
    /// Writes the certificate: the item is then issued.
    fn write(self) -> Result<Outcome<'r>> {
        self.dir.write(&self.file, self.pem.as_bytes(), self.opts)?;
        Ok(Outcome::Issued(self.entry))
    }
}

impl Outcome<'_> {
    /// What [`Progress::item`] hears of this outcome (`None`: nothing was done yet).
    fn done(&self) -> Option<Done> {
        match self {
            Outcome::Issued(_) => Some(Done::Issued),
            Outcome::Pending(_) => None,
            Outcome::Skipped(_) => Some(Done::Kept),
            Outcome::Rejected(_) => Some(Done::Failed),
            Outcome::Left => None,
        }
    }
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().map_err(|_| Error::Pool(threads.unwrap_or(0)))
}

/// A 128-bit digest standing in for a name or serial in the batch's sets: 16 bytes per entry
/// instead of a `String`, so memory stays flat at 100,000 certificates (a collision among
/// 2^64 names is not a practical concern).
#[must_use]
pub fn key128(bytes: &[u8]) -> u128 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    u128::from_be_bytes(k)
}

/// Checks, row by row, that names are non-empty, unique and usable in paths, and that every
/// output path is inside the workspace, before anything is generated.
struct NameCheck<'a> {
    ws: &'a Workspace,
    layout: &'a Layout,
    source_name: &'a str,
    seen: HashSet<u128>,
}

impl NameCheck<'_> {
    fn check(&mut self, row: usize, name: &str) -> Result<()> {
        let bad = |message: String| Error::Row {
            source_name: self.source_name.to_string(),
            row,
            message,
        };
        if name.trim().is_empty() {
            return Err(bad("empty name".into()));
        }
        if name.contains('/') || name.contains('\0') || name == "." || name == ".." {
            return Err(bad(format!("name `{name}` cannot be used in a file name")));
        }
        if !self.seen.insert(key128(name.as_bytes())) {
            return Err(bad(format!("duplicate name `{name}`")));
        }
        if self.seen.len() == 1 {
            // A name holds no `/` and is not `..`, so it cannot lead a path out of the
            // template's directory: checking the first row's paths checks every row's.
            // (Output directories are opened once they are resolved, and files in them are
            // never followed through symlinks, so a symlink planted later is refused.)
            self.ws
                .resolve(&self.layout.cert_path(name))
                .map_err(|e| bad(e.to_string()))?;
            self.ws
                .resolve(&self.layout.key_path(name))
                .map_err(|e| bad(e.to_string()))?;
        }
        Ok(())
    }
}

/// Checks every name of a batch (see [`NameCheck`]); returns how many there are.
///
/// # Errors
/// The first bad row.
pub fn validate_names<'a>(
    ws: &Workspace,
    layout: &Layout,
    source_name: &str,
    rows: impl Iterator<Item = (usize, &'a str)>,
) -> Result<usize> {
    let mut check = NameCheck {
        ws,
        layout,
        source_name,
        seen: HashSet::new(),
    };
    let mut count = 0;
    for (row, name) in rows {
        check.check(row, name)?;
        count += 1;
    }
    Ok(count)
}

fn random_run_id() -> Result<[u8; 4]> {
    let serial = crate::pki::random_serial().map_err(|source| Error::Pki {
        name: "serial".into(),
        source,
    })?;
    Ok([serial[0], serial[1], serial[2], serial[3]])
}

fn entry_for(
    name: &str,
    cert: &Certificate,
    cert_path: &str,
    key_path: Option<&str>,
) -> ManifestEntry {
    ManifestEntry {
        name: name.to_string(),
        serial: cert.serial_hex(),
        subject: cert.subject().map(|s| s.to_string()).unwrap_or_default(),
        sans: cert.sans().iter().map(ToString::to_string).collect(),
        not_after: crate::pki::rfc3339(cert.not_after()),
        sha256: cert.fingerprint_sha256(),
        cert: cert_path.to_string(),
        key: key_path.map(str::to_string),
        record: None,
    }
}

/// Where a batch records what it made: the manifest and the CA's database, each optional.
struct Records {
    manifest: Option<Manifest>,
    index: Option<IndexLog>,
}

impl Records {
    /// Ends the run's records: the database's `serial` file is brought up to date.
    fn finish(&self, ws: &Workspace) -> Result<()> {
        self.index.as_ref().map_or(Ok(()), |index| index.finish(ws))
    }
}

/// Shared state of one running batch.
struct Run<'a> {
    ws: &'a Workspace,
    ca: &'a Ca,
    opts: &'a BatchOptions,
    recorded: HashSet<u128>,
    run_id: [u8; 4],
    counter: std::sync::atomic::AtomicU32,
    /// Where certificates go.
    certs: OutputDir,
    /// Where keys go.
    keys: OutputDir,
    /// The batch's Ctrl-C flag.
    interrupt: Option<&'a AtomicBool>,
    /// The serials in the CA's database when the run started, when it keeps one.
    in_database: Option<HashSet<crate::pki::Serial>>,
}

impl<'a> Run<'a> {
    /// What both batch kinds do once the input is validated: clear temporary files a killed
    /// run left, open the manifest, draw a run id, build the thread pool.
    fn start(
        batch: &Batch<'a>,
        opts: &'a BatchOptions,
        layout: &Layout,
    ) -> Result<(Self, Records, rayon::ThreadPool)> {
        cleanup_stale_temps(batch.ws, layout, opts.manifest.as_deref())?;
        let mut manifest = opts
            .manifest
            .as_deref()
            .map(|p| Manifest::open(batch.ws, p))
            .transpose()?;
        let index = opts
            .database
            .as_ref()
            .map(|files| IndexLog::open(batch.ws, files))
            .transpose()?;
        let certs = OutputDir::new(batch.ws, &layout.cert)?;
        let run = Run {
            ws: batch.ws,
            ca: batch.ca,
            opts,
            recorded: manifest
                .as_mut()
                .map(Manifest::take_names)
                .unwrap_or_default(),
            run_id: random_run_id()?,
            counter: std::sync::atomic::AtomicU32::new(0),
            keys: certs.sibling(batch.ws, &layout.key)?,
            certs,
            interrupt: batch.interrupt,
            in_database: index.as_ref().map(IndexLog::serials),
        };
        Ok((run, Records { manifest, index }, pool(opts.threads)?))
    }

    /// The manifest entry of a certificate, with its index.txt line when the CA keeps a
    /// database.
    fn entry(
        &self,
        name: &str,
        cert: &Certificate,
        cert_path: &str,
        key_path: Option<&str>,
    ) -> Result<ManifestEntry> {
        let mut entry = entry_for(name, cert, cert_path, key_path);
        if self.in_database.is_some() {
            let serial = crate::pki::Serial::from_bytes(cert.serial());
            entry.record = Some((serial, IndexLog::line_for(cert, cert_path)?));
        }
        Ok(entry)
    }

    /// The entry of a certificate a re-run keeps, when the manifest or the database lacks it.
    fn kept_entry(
        &self,
        name: &str,
        cert: &Certificate,
        cert_path: &str,
        key_path: Option<&str>,
    ) -> Result<Option<ManifestEntry>> {
        let in_manifest = self.recorded.contains(&key128(name.as_bytes()));
        let in_database = self
            .in_database
            .as_ref()
            .is_none_or(|serials| serials.contains(&crate::pki::Serial::from_bytes(cert.serial())));
        if in_manifest && in_database {
            return Ok(None);
        }
        self.entry(name, cert, cert_path, key_path).map(Some)
    }

    /// The next serial of this batch: `run id (4 bytes) | counter (4 bytes) | random (8 bytes)`.
    /// Unique within the batch by construction (no set of issued serials to keep), different
    /// across runs by the random run id, and unpredictable by its 64 random bits.
    fn next_serial(&self) -> Result<[u8; 16]> {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut serial = crate::pki::random_serial().map_err(|source| Error::Pki {
            name: "serial".into(),
            source,
        })?;
        serial[..4].copy_from_slice(&self.run_id);
        serial[4..8].copy_from_slice(&n.to_be_bytes());
        serial[0] = (serial[0] & 0x7f) | 0x01;
        Ok(serial)
    }

    /// The serial this batch gives its next certificate: [`Run::next_serial`], or none when
    /// the CA numbers in sequence and takes its own.
    fn batch_serial(&self) -> Result<Option<[u8; 16]>> {
        if self.ca.numbers_in_sequence() {
            return Ok(None);
        }
        self.next_serial().map(Some)
    }

    fn issue_unique(
        &self,
        name: &str,
        spki: &[u8],
        spec: &BatchSpec,
        profile: &Profile,
    ) -> Result<Certificate> {
        // A CA that numbers in sequence (an openssl ca directory) takes its own next serial.
        let serial = self.batch_serial()?;
        self.ca
            .issue_for_with_serial(
                spki,
                &spec.subject,
                &spec.sans,
                profile,
                serial.as_ref().map(|s| &s[..]),
            )
            .map(|signed| signed.cert)
            .map_err(|source| Error::Pki {
                name: name.to_string(),
                source,
            })
    }

    /// Issues key and certificate for one spec, or records what a previous run left.
    fn issue_one(
        &self,
        spec: &BatchSpec,
        layout: &Layout,
        profiles: &[Profile],
    ) -> Result<Outcome<'_>> {
        let name = &spec.name;
        let cert_dir = self.certs.open(self.ws, name)?;
        let key_dir_own;
        let key_dir: &Dir = if self.keys.same_dir(&self.certs) {
            &cert_dir
        } else {
            key_dir_own = self.keys.open(self.ws, name)?;
            &key_dir_own
        };
        let cert_file = self.certs.file(name);
        let key_file = self.keys.file(name);
        let force = self.ws.force();
        let cert_exists = self.certs.exists(&cert_dir, &cert_file)?;
        let key_exists = self.keys.exists(key_dir, &key_file)?;
        let profile = &profiles[spec.profile];
        let pki = |source| Error::Pki {
            name: name.clone(),
            source,
        };
        let (cert_path, key_path) = (layout.cert_path(name), layout.key_path(name));
        let entry = |cert: &Certificate| self.entry(name, cert, &cert_path, Some(&key_path));
        let kept = |path: String, reason: String| Error::Kept { path, reason };
        if cert_exists && !force {
            // Every file a re-run keeps is read and checked, recorded or not.
            let key_pem = key_exists.then(|| key_dir.read(&key_file)).transpose()?;
            let cert = kept::check_kept(
                self.ca,
                spec,
                (&cert_path, &cert_dir.read(&cert_file)?),
                (&key_path, key_pem.as_deref()),
            )?;
            return Ok(Outcome::Skipped(self.kept_entry(
                name,
                &cert,
                &cert_path,
                Some(&key_path),
            )?));
        }
        let cert_opts = WriteOptions {
            mode: Some(0o644),
            overwrite: cert_exists,
        };
        if key_exists && !force {
            // The key survived an interrupted run (keys are written first): certify it,
            // never replace it. A key that does not parse is reported, not replaced.
            let key = Key::from_pem(&key_dir.read(&key_file)?)
                .map_err(|e| kept(layout.key_path(name), format!("key does not parse: {e}")))?;
            let cert = self.issue_unique(name, key.public_key_der(), spec, profile)?;
            cert_dir.write(&cert_file, cert.pem().as_bytes(), cert_opts)?;
            return Ok(Outcome::Issued(entry(&cert)?));
        }
        let key = Key::generate(spec.key).map_err(pki)?;
        let cert = self.issue_unique(name, key.public_key_der(), spec, profile)?;
        let key_pem = key.to_pem(self.opts.key_format).map_err(pki)?;
        // Key first, certificate once the key is durable: a run killed (or a machine that
        // loses power) in between leaves a key without a certificate, which the re-run
        // certifies without replacing it.
        key_dir.write(
            &key_file,
            key_pem.as_bytes(),
            WriteOptions {
                mode: Some(self.opts.key_mode),
                overwrite: force,
            },
        )?;
        Ok(Outcome::Pending(PendingCert {
            dir: cert_dir,
            file: cert_file,
            pem: cert.pem(),
            opts: cert_opts,
            entry: entry(&cert)?,
        }))
    }
}

/// Runs `items` through `work` chunk by chunk on `pool`, two chunks at a time. A second thread
/// makes finished chunks durable (one `syncfs`) and then appends their manifest lines in input
/// order, while the pool works on. Stops at the first error (files of finished chunks
/// stay, complete, and are recorded).
///
/// Keys come first: the items of a chunk that made a key and wait with their certificate
/// ([`Outcome::Pending`]) are written after one `syncfs` of the chunk's keys.
fn run_chunks<'r, T: Sync + Send>(
    run: &Run<'_>,
    pool: &rayon::ThreadPool,
    items: impl Iterator<Item = Result<T>>,
    records: &mut Records,
    progress: &dyn Progress,
    work: impl Fn(&T) -> Result<Outcome<'r>> + Sync,
) -> Result<Summary> {
    let mut summary = Summary::default();
    let interrupted = || run.interrupt.is_some_and(|f| f.load(Ordering::Relaxed));
    let writer_error: Mutex<Option<Error>> = Mutex::new(None);
    let failed = || writer_error.lock().map(|e| e.is_some()).unwrap_or(true);
    let result = std::thread::scope(|scope| -> Result<()> {
        // Up to PENDING finished chunks wait for the disk (memory stays bounded); the writer
        // takes all that are waiting, makes them durable with one syncfs, then records them.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(bool, Vec<ManifestEntry>)>(PENDING);
        let ws = run.ws;
        let writer_error = &writer_error;
        let Records { manifest, index } = records;
        scope.spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut wrote = first.0;
                let mut entries = first.1;
                while let Ok((w, more)) = rx.try_recv() {
                    wrote |= w;
                    entries.extend(more);
                }
                let step = (|| -> Result<()> {
                    if wrote {
                        ws.sync_all()?;
                    }
                    if let Some(m) = manifest.as_mut() {
                        m.append(ws, &entries)?;
                    }
                    if let Some(index) = index.as_mut() {
                        let lines: Vec<_> =
                            entries.iter().filter_map(|e| e.record.clone()).collect();
                        index.append(ws, &lines)?;
                    }
                    Ok(())
                })();
                if let Err(e) = step {
                    if let Ok(mut slot) = writer_error.lock() {
                        slot.get_or_insert(e);
                    }
                    break;
                }
            }
        });
        let mut items = items;
        let mut take = || -> Result<Vec<T>> { items.by_ref().take(CHUNK).collect() };
        // Up to IN_FLIGHT chunks are on the pool at once, so threads that finish their share
        // of one chunk go on with the next instead of waiting at its end; results are taken
        // back in input order.
        // A chunk that panicked still reports (with the panic, re-raised here), so the wait
        // below cannot hang.
        let (done_tx, done_rx) =
            std::sync::mpsc::channel::<(usize, std::thread::Result<Vec<Result<Outcome<'r>>>>)>();
        let work = &work;
        let mut outcome: Result<()> = Ok(());
        pool.in_place_scope(|scope| {
            let mut finished: BTreeMap<usize, Vec<Result<Outcome<'r>>>> = BTreeMap::new();
            let (mut spawned, mut taken_back, mut input_done) = (0usize, 0usize, false);
            loop {
                while !input_done
                    && outcome.is_ok()
                    && !interrupted()
                    && spawned - taken_back < IN_FLIGHT
                {
                    let chunk = match take() {
                        Ok(chunk) if chunk.is_empty() => {
                            input_done = true;
                            break;
                        }
                        Ok(chunk) => chunk,
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    };
                    let tx = done_tx.clone();
                    let k = spawned;
                    scope.spawn(move |_| {
                        let report = |outcome: &Result<Outcome<'r>>| match outcome {
                            Ok(o) => o.done().into_iter().for_each(|d| progress.item(d)),
                            Err(_) => progress.item(Done::Failed),
                        };
                        let results =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                let results: Vec<Result<Outcome<'r>>> = chunk
                                    .par_iter()
                                    .map(|item| {
                                        if interrupted() {
                                            return Ok(Outcome::Left);
                                        }
                                        let outcome = work(item);
                                        report(&outcome);
                                        outcome
                                    })
                                    .collect();
                                certificates_after_keys(run.ws, results, &report)
                            }));
                        let _ = tx.send((k, results));
                    });
                    spawned += 1;
                }
                if spawned == taken_back {
                    break;
                }
                let Ok((k, results)) = done_rx.recv() else {
                    break;
                };
                finished.insert(
                    k,
                    results.unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
                // Record finished chunks in input order, even after an error (their files
                // are complete).
                while let Some(results) = finished.remove(&taken_back) {
                    taken_back += 1;
                    let mut entries = Vec::new();
                    let mut wrote = false;
                    for o in results {
                        match o {
                            Ok(Outcome::Issued(e)) => {
                                summary.issued += 1;
                                wrote = true;
                                entries.push(e);
                            }
                            Ok(Outcome::Skipped(e)) => {
                                summary.skipped += 1;
                                entries.extend(e);
                            }
                            Ok(Outcome::Rejected(r)) => summary.rejected.push(r),
                            Ok(Outcome::Left) => summary.left += 1,
                            // Written after its key by `certificates_after_keys`.
                            Ok(Outcome::Pending(_)) => summary.left += 1,
                            Err(e) => {
                                if outcome.is_ok() {
                                    outcome = Err(e);
                                }
                            }
                        }
                    }
                    if tx.send((wrote, entries)).is_err() || failed() {
                        input_done = true;
                    }
                }
            }
        });
        outcome?;
        Ok(())
    });
    if let Some(e) = writer_error.into_inner().ok().flatten() {
        return Err(e);
    }
    result.map(|()| summary)
}

/// The second step of a chunk: once its new keys are durable (one `syncfs`), the
/// certificates waiting for them are written. If the sync fails they are not written (their
/// keys stay, to be certified by a re-run).
fn certificates_after_keys<'r>(
    ws: &Workspace,
    results: Vec<Result<Outcome<'r>>>,
    report: &(dyn Fn(&Result<Outcome<'r>>) + Sync),
) -> Vec<Result<Outcome<'r>>> {
    if !results.iter().any(|r| matches!(r, Ok(Outcome::Pending(_)))) {
        return results;
    }
    let written = |r: Result<Outcome<'r>>,
                   write: &dyn Fn(PendingCert<'r>) -> Result<Outcome<'r>>| {
        let Ok(Outcome::Pending(cert)) = r else {
            return r;
        };
        let outcome = write(cert);
        report(&outcome);
        outcome
    };
    if let Err(e) = ws.sync_all() {
        // The first waiting item fails with the sync's error (the run stops with it); the
        // others are left unwritten.
        let first = std::cell::Cell::new(Some(Error::from(e)));
        let fail = |_: PendingCert<'r>| first.take().map_or(Ok(Outcome::Left), Err);
        return results.into_iter().map(|r| written(r, &fail)).collect();
    }
    results
        .into_par_iter()
        .map(|r| written(r, &PendingCert::write))
        .collect()
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
    let mut check = NameCheck {
        ws,
        layout,
        source_name,
        seen: HashSet::new(),
    };
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

/// One CSR to sign: its name (file stem) and path.
#[derive(Debug, Clone)]
pub struct CsrItem {
    /// Name used for `{name}` in the output template.
    pub name: String,
    /// Path of the CSR file.
    pub path: String,
}

impl CsrItem {
    /// The item for a CSR file: its name is the file name without directory and extension.
    #[must_use]
    pub fn from_path(path: String) -> Self {
        let file = path.rsplit('/').next().unwrap_or(&path);
        let name = file
            .rsplit_once('.')
            .map_or(file, |(stem, _)| stem)
            .to_string();
        CsrItem { name, path }
    }
}

/// The CSRs of `source`: a directory's `.csr`, `.req` and `.pem` files (sorted), or the paths
/// given.
///
/// # Errors
/// The directory cannot be listed.
pub fn csr_items(ws: &Workspace, source: &CsrSource) -> Result<Vec<CsrItem>> {
    let paths = match source {
        CsrSource::Dir(dir) => ws
            .list(dir)?
            .into_iter()
            .filter(|p| p.ends_with(".csr") || p.ends_with(".req") || p.ends_with(".pem"))
            .collect(),
        CsrSource::Paths(paths) => paths.clone(),
    };
    Ok(paths.into_iter().map(CsrItem::from_path).collect())
}

/// The CSRs of a sign batch with their output layout, every name checked.
///
/// # Errors
/// The directory cannot be listed, or a name cannot be used in a file name or repeats.
fn checked_csrs(
    ws: &Workspace,
    csrs: &CsrSource,
    opts: &SignOptions,
) -> Result<(Vec<CsrItem>, Layout)> {
    let items = csr_items(ws, csrs)?;
    let layout = Layout {
        cert: opts.out.clone(),
        key: opts.out.clone(),
    };
    validate_names(
        ws,
        &layout,
        "CSRs",
        items
            .iter()
            .enumerate()
            .map(|(i, c)| (i + 1, c.name.as_str())),
    )?;
    Ok((items, layout))
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

/// Removes `.pkirun-*` temporary files left in the output directories by a run that was
/// killed (SIGKILL leaves no chance to clean up). Do not run two batches into the same
/// directories at once.
fn cleanup_stale_temps(ws: &Workspace, layout: &Layout, manifest: Option<&str>) -> Result<()> {
    let mut dirs = HashSet::new();
    for template in [&layout.cert, &layout.key] {
        // Only the fixed part of the path before `{name}` names a directory we can scan.
        let fixed = template.split("{name}").next().unwrap_or("");
        dirs.insert(output::split_dir(fixed).0.to_string());
    }
    // A manifest being rewritten when the run was killed leaves its temporary beside it.
    if let Some(manifest) = manifest {
        dirs.insert(output::split_dir(manifest).0.to_string());
    }
    for dir in dirs {
        if !ws.is_dir(&dir)? {
            continue;
        }
        let stale = match ws.temp_files(&dir) {
            Ok(stale) => stale,
            // A directory this user may write to but not list (a drop box) cannot be
            // scanned; new files there are made unnamed and leave nothing behind anyway.
            Err(crate::workspace::Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied =>
            {
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        for file in stale {
            ws.remove(&file)?;
        }
    }
    Ok(())
}
