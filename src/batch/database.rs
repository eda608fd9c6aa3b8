//! A CA's issuance database (`index.txt` as `openssl ca` keeps it) as a batch records in it:
//! a line appended per certificate once its files are durable, in one write per group of
//! chunks, and `serial` (the next serial) replaced at the end of the run. Appending keeps a
//! batch of 100,000 certificates from rewriting a growing file once per chunk.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;

use super::{Error, Result};
use crate::pki::ca_dir::CaDir;
use crate::pki::{Certificate, Database, Entry, Serial};
use crate::workspace::{Workspace, WriteOptions, io_error};

/// An open `index.txt`, appended to.
#[derive(Debug)]
pub struct IndexLog {
    files: CaDir,
    index: String,
    serials: HashSet<Serial>,
    file: Option<File>,
    /// The highest serial this run recorded (threads record in the order they finish).
    highest: Option<Serial>,
}

impl IndexLog {
    /// Reads `DIR/index.txt` (its serials, so a certificate is never recorded twice); a
    /// missing file is created with the first record, with `index.txt.attr` saying
    /// `unique_subject = no` as easy-rsa writes it.
    ///
    /// # Errors
    /// An unreadable or damaged index.txt (named, with its line).
    pub fn open(ws: &Workspace, files: &CaDir) -> Result<Self> {
        let index = files.database.clone();
        let mut serials = HashSet::new();
        if ws.exists(&index)? {
            let text = ws.read(&index)?;
            let db = Database::from_index(&text, &index).map_err(|e| Error::Database {
                path: index.clone(),
                message: e.to_string(),
            })?;
            serials.extend(db.entries().iter().map(|e| e.serial().clone()));
        }
        Ok(IndexLog {
            files: files.clone(),
            index,
            serials,
            file: None,
            highest: None,
        })
    }

    /// The serials in the database when it was opened.
    #[must_use]
    pub fn serials(&self) -> HashSet<Serial> {
        self.serials.clone()
    }

    /// The index.txt line of a certificate to record, written at `path`.
    ///
    /// # Errors
    /// A subject the index cannot hold.
    pub fn line_for(cert: &Certificate, path: &str) -> Result<String> {
        Entry::of_certificate(cert)
            .map(|e| e.with_file(path).line())
            .map_err(|e| Error::Database {
                path: "index.txt".into(),
                message: e.to_string(),
            })
    }

    /// Appends the lines of certificates whose files are durable, in one write, and syncs it.
    /// A line whose serial is recorded already is left out.
    ///
    /// # Errors
    /// I/O errors (a partial write is cut back to the last whole line).
    pub fn append(&mut self, ws: &Workspace, lines: &[(Serial, String)]) -> Result<()> {
        let mut buf = String::new();
        for (serial, line) in lines {
            if self.serials.insert(serial.clone()) {
                buf.push_str(line);
                if !line.ends_with('\n') {
                    buf.push('\n');
                }
                if self.highest.as_ref().is_none_or(|h| serial > h) {
                    self.highest = Some(serial.clone());
                }
            }
        }
        if buf.is_empty() {
            return Ok(());
        }
        let err = |e: std::io::Error| Error::from(io_error("write", &self.index, e));
        if self.file.is_none() && !ws.exists(&self.files.attr)? {
            ws.write(
                &self.files.attr,
                b"unique_subject = no\n",
                WriteOptions {
                    mode: Some(0o644),
                    overwrite: false,
                },
            )?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            empty => {
                let path = ws.resolve(&self.index)?;
                let opened = OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&path)
                    .map_err(err)?;
                empty.insert(opened)
            }
        };
        let before = file.metadata().map_err(err)?.len();
        if let Err(e) = file
            .write_all(buf.as_bytes())
            .and_then(|()| file.sync_data())
        {
            let _ = file.set_len(before);
            let _ = file.sync_data();
            return Err(err(e));
        }
        Ok(())
    }

    /// Writes `DIR/serial` (the serial after the highest one recorded, as openssl ca leaves
    /// it) when this run recorded something.
    ///
    /// # Errors
    /// I/O errors.
    pub fn finish(&self, ws: &Workspace) -> Result<()> {
        let Some(highest) = &self.highest else {
            return Ok(());
        };
        let next = next_serial_after(ws, &self.files.serial, highest)?;
        ws.write(
            &self.files.serial,
            next.file_text().as_bytes(),
            WriteOptions {
                mode: Some(0o644),
                overwrite: true,
            },
        )?;
        Ok(())
    }
}

/// What the `serial` file should say after `last` was recorded: the serial after it, or what
/// the file says already when that is further on (a CA that numbers in sequence never goes
/// back to a number it may have used).
///
/// # Errors
/// An unreadable or damaged `serial` file.
pub fn next_serial_after(ws: &Workspace, path: &str, last: &Serial) -> Result<Serial> {
    let after = last.next();
    if !ws.exists(path)? {
        return Ok(after);
    }
    let text = ws.read(path)?;
    let current = Serial::parse_file(&text, path).map_err(|e| Error::Database {
        path: path.to_string(),
        message: e.to_string(),
    })?;
    Ok(std::cmp::max(current, after))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_follows_the_highest_serial_recorded_not_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::new(dir.path()).unwrap();
        ws.mkdir("ca").unwrap();
        let mut log = IndexLog::open(&ws, &CaDir::plain("ca")).unwrap();
        let line = |hex: &str| {
            let serial = Serial::parse_hex(hex).unwrap();
            let text = format!("V\t270102085653Z\t\t{hex}\tunknown\t/CN={hex}\n");
            (serial, text)
        };
        // Two threads: the one with the higher serial finished first.
        log.append(&ws, &[line("05")]).unwrap();
        log.append(&ws, &[line("04")]).unwrap();
        log.finish(&ws).unwrap();
        assert_eq!(ws.read("ca/serial").unwrap(), b"06\n");
    }
}
