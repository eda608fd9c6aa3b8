//! One running batch: its output directories, serials and records, and the work on one item
//! (issue a key and certificate, or keep what a previous run left).

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;

use super::kept;
use super::output::{self, OutputDir};
use super::{
    Batch, BatchOptions, BatchSpec, Done, Error, IndexLog, Layout, Manifest, ManifestEntry,
    Rejection, Result, key128,
};
use crate::pki::{Ca, Certificate, Key, Profile};
use crate::workspace::{Dir, Workspace, WriteOptions};

pub(super) enum Outcome<'r> {
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
pub(super) struct PendingCert<'r> {
    dir: output::DirRef<'r>,
    file: String,
    pem: String,
    opts: WriteOptions,
    entry: ManifestEntry,
}

impl<'r> PendingCert<'r> {
    /// Writes the certificate: the item is then issued.
    pub(super) fn write(self) -> Result<Outcome<'r>> {
        self.dir.write(&self.file, self.pem.as_bytes(), self.opts)?;
        Ok(Outcome::Issued(self.entry))
    }
}

impl Outcome<'_> {
    /// What [`Progress::item`] hears of this outcome (`None`: nothing was done yet).
    pub(super) fn done(&self) -> Option<Done> {
        match self {
            Outcome::Issued(_) => Some(Done::Issued),
            Outcome::Pending(_) => None,
            Outcome::Skipped(_) => Some(Done::Kept),
            Outcome::Rejected(_) => Some(Done::Failed),
            Outcome::Left => None,
        }
    }
}

pub(super) fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        b = b.num_threads(n);
    }
    b.build().map_err(|_| Error::Pool(threads.unwrap_or(0)))
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
pub(super) struct Records {
    pub(super) manifest: Option<Manifest>,
    pub(super) index: Option<IndexLog>,
}

impl Records {
    /// Ends the run's records: the database's `serial` file is brought up to date.
    pub(super) fn finish(&self, ws: &Workspace) -> Result<()> {
        self.index.as_ref().map_or(Ok(()), |index| index.finish(ws))
    }
}

/// Shared state of one running batch.
pub(super) struct Run<'a> {
    pub(super) ws: &'a Workspace,
    pub(super) ca: &'a Ca,
    pub(super) opts: &'a BatchOptions,
    pub(super) recorded: HashSet<u128>,
    pub(super) run_id: [u8; 4],
    pub(super) counter: std::sync::atomic::AtomicU32,
    /// Where certificates go.
    pub(super) certs: OutputDir,
    /// Where keys go.
    pub(super) keys: OutputDir,
    /// The batch's Ctrl-C flag.
    pub(super) interrupt: Option<&'a AtomicBool>,
    /// The serials in the CA's database when the run started, when it keeps one.
    pub(super) in_database: Option<HashSet<crate::pki::Serial>>,
}

impl<'a> Run<'a> {
    /// What both batch kinds do once the input is validated: clear temporary files a killed
    /// run left, open the manifest, draw a run id, build the thread pool.
    pub(super) fn start(
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
    pub(super) fn entry(
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
    pub(super) fn kept_entry(
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
    pub(super) fn next_serial(&self) -> Result<[u8; 16]> {
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
    pub(super) fn batch_serial(&self) -> Result<Option<[u8; 16]>> {
        if self.ca.numbers_in_sequence() {
            return Ok(None);
        }
        self.next_serial().map(Some)
    }

    pub(super) fn issue_unique(
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
    pub(super) fn issue_one(
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
