//! The batch manifest: one JSON line per certificate, appended once its files are durable.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};

use super::{Error, Result};
use crate::workspace::{Workspace, WriteOptions, io_error};

/// One manifest line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// The spec or CSR name.
    pub name: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Subject, openssl one-line form.
    pub subject: String,
    /// SANs, typed (`DNS:x`, `IP:y`).
    pub sans: Vec<String>,
    /// notAfter, RFC 3339.
    pub not_after: String,
    /// SHA-256 fingerprint of the certificate DER.
    pub sha256: String,
    /// Certificate path.
    pub cert: String,
    /// Key path, when the batch made the key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key: Option<String>,
    /// The serial and `index.txt` line to record when the batch's CA keeps a database; not
    /// part of the manifest.
    #[serde(skip)]
    pub record: Option<(crate::pki::Serial, String)>,
}

/// An open manifest (append mode). The file is created with its first durable entries.
#[derive(Debug)]
pub struct Manifest {
    path: String,
    full: std::path::PathBuf,
    file: Option<File>,
    names: HashSet<u128>,
    /// Digests of the names recorded in the file: an entry for one of them replaces its line.
    recorded: HashSet<u128>,
}

impl Manifest {
    /// Opens the manifest if it exists, reading the names already recorded. A last line cut
    /// short by a crash is dropped (the file is truncated to the last complete line). A
    /// missing manifest is only created by the first [`Manifest::append`].
    ///
    /// # Errors
    /// I/O errors or a corrupt line in the middle.
    pub fn open(ws: &Workspace, rel: &str) -> Result<Self> {
        let err = |message: String| Error::Manifest {
            path: rel.to_string(),
            message,
        };
        let io = |op: &'static str| move |e: std::io::Error| Error::from(io_error(op, rel, e));
        if let Some((dir, _)) = rel.rsplit_once('/') {
            if !dir.is_empty() {
                ws.mkdir(dir)?;
            }
        }
        let path = ws.resolve(rel)?;
        let mut names = HashSet::new();
        let mut good_len = 0u64;
        if !path.exists() {
            return Ok(Manifest {
                path: rel.to_string(),
                full: path,
                file: None,
                recorded: HashSet::new(),
                names,
            });
        }
        {
            let reader = BufReader::new(File::open(&path).map_err(io("read"))?);
            let mut offset = 0u64;
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(io("read"))?;
                offset += line.len() as u64 + 1;
                if line.is_empty() {
                    good_len = offset;
                    continue;
                }
                match serde_json::from_slice::<ManifestEntry>(&line) {
                    Ok(entry) => {
                        names.insert(super::key128(entry.name.as_bytes()));
                        good_len = offset;
                    }
                    Err(e) => {
                        // Only the last line may be incomplete.
                        let meta_len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                        if offset < meta_len {
                            return Err(err(format!("line {}: {e}", i + 1)));
                        }
                    }
                }
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(io("open"))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > good_len {
            file.set_len(good_len).map_err(io("write"))?;
            file.sync_data().map_err(io("write"))?;
        }
        Ok(Manifest {
            path: rel.to_string(),
            full: path,
            file: Some(file),
            recorded: names.clone(),
            names,
        })
    }

    /// Hands over the digests ([`super::key128`]) of the names recorded before this run
    /// (read once, when a batch starts).
    pub fn take_names(&mut self) -> HashSet<u128> {
        std::mem::take(&mut self.names)
    }

    /// Records `entries` durably, one entry per name: an entry for a name already in the
    /// file replaces its line (the file is rewritten to a new file that is then renamed),
    /// others are appended in one write of whole lines; a failed append is cut back, so
    /// no partial line remains.
    ///
    /// # Errors
    /// I/O errors.
    pub fn append(&mut self, ws: &Workspace, entries: &[ManifestEntry]) -> Result<()> {
        let err = |e: std::io::Error| Error::from(io_error("write", &self.path, e));
        if entries.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        let mut replaces = false;
        for e in entries {
            replaces |= self.recorded.contains(&super::key128(e.name.as_bytes()));
            serde_json::to_writer(&mut buf, e).map_err(|e| Error::Manifest {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
            buf.push(b'\n');
        }
        match self.file.as_mut() {
            Some(file) if !replaces => {
                let before = file.metadata().map_err(err)?.len();
                if let Err(e) = file.write_all(&buf).and_then(|()| file.sync_data()) {
                    // Cut a partial write back to the last whole line.
                    let _ = file.set_len(before);
                    let _ = file.sync_data();
                    return Err(err(e));
                }
                Ok(())
            }
            _ => self.rewrite(ws, entries, buf),
        }
    }

    /// Writes the kept lines (those not named in `entries`) and `new` to a new file, syncs
    /// it and renames it over the manifest.
    fn rewrite(&mut self, ws: &Workspace, entries: &[ManifestEntry], new: Vec<u8>) -> Result<()> {
        let err = |e: std::io::Error| Error::from(io_error("write", &self.path, e));
        let replaced: HashSet<u128> = entries
            .iter()
            .map(|e| super::key128(e.name.as_bytes()))
            .collect();
        let mut text = Vec::new();
        if self.file.is_some() {
            let old = std::fs::read(&self.full).map_err(err)?;
            for line in old.split_inclusive(|b| *b == b'\n') {
                let keep = serde_json::from_slice::<ManifestEntry>(line)
                    .map(|e| !replaced.contains(&super::key128(e.name.as_bytes())))
                    .unwrap_or(false);
                if keep {
                    text.extend_from_slice(line);
                }
            }
        }
        text.extend_from_slice(&new);
        // The one atomic-write mechanism: a hidden `.pkirun-` temporary renamed over the
        // manifest (a killed run leaves at most that temporary, which the next batch clears),
        // then one sync makes the new manifest durable.
        let opts = WriteOptions {
            mode: Some(0o644),
            overwrite: true,
        };
        ws.write(&self.path, &text, opts)?;
        ws.sync_all()?;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.full)
            .map_err(err)?;
        self.file = Some(file);
        self.recorded.extend(replaced);
        Ok(())
    }
}
