//! The batch manifest: one JSON line per certificate, appended once its files are durable.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};

use super::{Error, Result};
use crate::workspace::Workspace;

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
}

/// An open manifest (append mode).
#[derive(Debug)]
pub struct Manifest {
    path: String,
    file: File,
    names: HashSet<u128>,
}

impl Manifest {
    /// Opens (or creates) the manifest, reading the names already recorded. A last line cut
    /// short by a crash is dropped (the file is truncated to the last complete line).
    ///
    /// # Errors
    /// I/O errors or a corrupt line in the middle.
    pub fn open(ws: &Workspace, rel: &str) -> Result<Self> {
        let err = |message: String| Error::Manifest {
            path: rel.to_string(),
            message,
        };
        if let Some((dir, _)) = rel.rsplit_once('/') {
            if !dir.is_empty() {
                ws.mkdir(dir)?;
            }
        }
        let path = ws.resolve(rel)?;
        let mut names = HashSet::new();
        let mut good_len = 0u64;
        if path.exists() {
            let reader = BufReader::new(File::open(&path).map_err(|e| err(e.to_string()))?);
            let mut offset = 0u64;
            for (i, line) in reader.split(b'\n').enumerate() {
                let line = line.map_err(|e| err(e.to_string()))?;
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
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| err(e.to_string()))?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        if len > good_len {
            file.set_len(good_len).map_err(|e| err(e.to_string()))?;
        }
        Ok(Manifest {
            path: rel.to_string(),
            file,
            names,
        })
    }

    /// Hands over the digests ([`super::key128`]) of the names recorded before this run
    /// (read once, when a batch starts; the manifest itself no longer needs them).
    pub fn take_names(&mut self) -> HashSet<u128> {
        std::mem::take(&mut self.names)
    }

    /// Appends entries and syncs the manifest. Callers pass each name once: names are unique
    /// in a batch, and entries for outputs found on disk are only made for names not recorded
    /// before the run ([`Manifest::take_names`]).
    ///
    /// # Errors
    /// I/O errors.
    pub fn append(&mut self, entries: &[ManifestEntry]) -> Result<()> {
        let err = |e: std::io::Error| Error::Manifest {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let mut buf = Vec::new();
        for e in entries {
            serde_json::to_writer(&mut buf, e).map_err(|e| Error::Manifest {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
            buf.push(b'\n');
        }
        if buf.is_empty() {
            return Ok(());
        }
        self.file.write_all(&buf).map_err(err)?;
        self.file.sync_data().map_err(err)
    }
}
