//! The issuance database `openssl ca` and easy-rsa keep: `index.txt` (one tab-separated line
//! per certificate) and `index.txt.attr`, read and written byte for byte as openssl does.
//! Bytes in, bytes out: the caller reads and writes the files.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use thiserror::Error;

use super::cert::Certificate;
use super::oneline::subject_oneline;
use super::reason::Reason;
use super::serial::{Serial, SerialError};

/// What can go wrong reading or changing the issuance database.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseError {
    /// A line of `index.txt` or `index.txt.attr` that `openssl ca` would refuse too.
    #[error("`{file}` line {line}: {reason}")]
    Damaged {
        /// The file, as the caller named it.
        file: String,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A serial, or a `serial` or `crlnumber` file, that does not parse.
    #[error(transparent)]
    Serial(#[from] SerialError),
    /// A serial the database does not hold.
    #[error("serial `{0}` is not in the database (this CA did not issue it)")]
    UnknownSerial(Serial),
    /// A serial that is already revoked.
    #[error("serial `{serial}` (`{subject}`) is already revoked ({revocation})")]
    AlreadyRevoked {
        /// The serial.
        serial: Serial,
        /// Its subject, as `index.txt` has it.
        subject: String,
        /// The revocation already recorded, as `index.txt` has it.
        revocation: String,
    },
    /// A certificate whose serial the database already holds.
    #[error("serial `{0}` is already in the database (serials must be unique per CA)")]
    DuplicateSerial(Serial),
    /// A second valid certificate for a subject while `unique_subject = yes`.
    #[error(
        "a valid certificate for `{0}` is already in the database and `unique_subject = yes` (revoke it first, or set `unique_subject = no` in index.txt.attr)"
    )]
    DuplicateSubject(String),
    /// A reason name that is not one of RFC 5280's.
    #[error("unknown revocation reason `{reason}` (known: {known})", known = Reason::known())]
    UnknownReason {
        /// The name as given.
        reason: String,
    },
    /// A reason `openssl ca` cannot read back from `index.txt`.
    #[error(
        "revocation reason `{0}` cannot be recorded in index.txt: `openssl ca` rejects it there (its reasons stop at `removeFromCRL`)"
    )]
    ReasonNotInIndex(Reason),
    /// A certificate whose fields could not be read.
    #[error("cannot record the certificate: {0}")]
    Certificate(String),
}

/// A certificate's state in the database: the first column of `index.txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `V`: valid.
    Valid,
    /// `R`: revoked.
    Revoked,
    /// `E`: expired (set by `openssl ca -updatedb`).
    Expired,
}

impl Status {
    /// The letter in `index.txt`.
    #[must_use]
    pub fn letter(self) -> char {
        match self {
            Status::Valid => 'V',
            Status::Revoked => 'R',
            Status::Expired => 'E',
        }
    }
}

/// A time as `index.txt` holds it: UTCTime `YYMMDDHHMMSSZ`, or GeneralizedTime
/// `YYYYMMDDHHMMSSZ` (openssl copies the certificate's own encoding: GeneralizedTime from
/// 2050 on, as RFC 5280 requires).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IndexTime {
    unix: i64,
    generalized: bool,
}

/// 2050-01-01T00:00:00Z, where RFC 5280 switches from UTCTime to GeneralizedTime.
const Y2050: i64 = 2_524_608_000;

impl IndexTime {
    /// The time `t` (to the second) in the encoding RFC 5280 asks for at that date.
    #[must_use]
    pub fn from_system_time(t: SystemTime) -> IndexTime {
        let unix = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        IndexTime {
            unix,
            generalized: !(0..Y2050).contains(&unix),
        }
    }

    /// Parses `YYMMDDHHMMSSZ` (years 50–99 are 19xx) or `YYYYMMDDHHMMSSZ`.
    #[must_use]
    pub fn parse(text: &str) -> Option<IndexTime> {
        let body = text.strip_suffix('Z')?;
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (year, rest, generalized) = match body.len() {
            12 => {
                let yy: i32 = body[..2].parse().ok()?;
                (
                    if yy < 50 { 2000 + yy } else { 1900 + yy },
                    &body[2..],
                    false,
                )
            }
            14 => (body[..4].parse().ok()?, &body[4..], true),
            _ => return None,
        };
        let num = |i: usize| rest[i..i + 2].parse::<u8>().ok();
        let month = time::Month::try_from(num(0)?).ok()?;
        let date = time::Date::from_calendar_date(year, month, num(2)?).ok()?;
        let tod = time::Time::from_hms(num(4)?, num(6)?, num(8)?).ok()?;
        let unix = time::PrimitiveDateTime::new(date, tod)
            .assume_utc()
            .unix_timestamp();
        Some(IndexTime { unix, generalized })
    }

    /// The time as a [`SystemTime`].
    #[must_use]
    pub fn to_system_time(self) -> SystemTime {
        match u64::try_from(self.unix) {
            Ok(s) => UNIX_EPOCH + Duration::from_secs(s),
            Err(_) => UNIX_EPOCH - Duration::from_secs(self.unix.unsigned_abs()),
        }
    }

    /// True when written as GeneralizedTime.
    #[must_use]
    pub fn is_generalized(self) -> bool {
        self.generalized
    }
}

impl fmt::Display for IndexTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(t) = time::OffsetDateTime::from_unix_timestamp(self.unix) else {
            return Err(fmt::Error);
        };
        if self.generalized {
            write!(f, "{:04}", t.year())?;
        } else {
            write!(f, "{:02}", t.year().rem_euclid(100))?;
        }
        write!(
            f,
            "{:02}{:02}{:02}{:02}{:02}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// openssl's extra revocation details, written after the reason as a third field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RevocationDetail {
    /// `holdInstruction,<instruction>` (`openssl ca -crl_hold`): reason certificateHold.
    HoldInstruction(String),
    /// `keyTime,<GeneralizedTime>` (`openssl ca -crl_compromise`): reason keyCompromise.
    KeyTime(String),
    /// `CAkeyTime,<GeneralizedTime>` (`openssl ca -crl_CA_compromise`): reason CACompromise.
    CaKeyTime(String),
}

/// A revocation as the third column of `index.txt` records it: `date[,reason[,detail]]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revocation {
    date: IndexTime,
    reason: Option<Reason>,
    detail: Option<RevocationDetail>,
}

impl Revocation {
    /// A revocation at `date` for `reason` (`None`: no reason recorded).
    #[must_use]
    pub fn new(date: SystemTime, reason: Option<Reason>) -> Revocation {
        Revocation {
            date: IndexTime::from_system_time(date),
            reason,
            detail: None,
        }
    }

    /// When the certificate was revoked.
    #[must_use]
    pub fn date(&self) -> IndexTime {
        self.date
    }

    /// Why, if a reason was recorded.
    #[must_use]
    pub fn reason(&self) -> Option<Reason> {
        self.reason
    }

    /// openssl's hold instruction or compromise time, if recorded.
    #[must_use]
    pub fn detail(&self) -> Option<&RevocationDetail> {
        self.detail.as_ref()
    }

    /// Parses the column as `openssl ca` does (its `unpack_revinfo`).
    fn parse(text: &str) -> Result<Revocation, String> {
        let mut parts = text.splitn(3, ',');
        let date_text = parts.next().unwrap_or("");
        let date = IndexTime::parse(date_text)
            .ok_or_else(|| format!("invalid revocation date `{date_text}`"))?;
        let reason_text = parts.next();
        let extra = parts.next();
        let (reason, detail) = match reason_text {
            None => (None, None),
            Some(r) => {
                let need = |what: &str| {
                    extra
                        .map(str::to_string)
                        .ok_or_else(|| format!("`{r}` without its {what}"))
                };
                if r.eq_ignore_ascii_case("holdInstruction") {
                    let d = RevocationDetail::HoldInstruction(need("instruction")?);
                    (Some(Reason::CertificateHold), Some(d))
                } else if r.eq_ignore_ascii_case("keyTime") {
                    let d = RevocationDetail::KeyTime(need("compromise time")?);
                    (Some(Reason::KeyCompromise), Some(d))
                } else if r.eq_ignore_ascii_case("CAkeyTime") {
                    let d = RevocationDetail::CaKeyTime(need("compromise time")?);
                    (Some(Reason::CaCompromise), Some(d))
                } else {
                    let reason = Reason::parse(r).ok_or_else(|| {
                        format!(
                            "unknown revocation reason `{r}` (known: {})",
                            Reason::known()
                        )
                    })?;
                    if let Some(x) = extra {
                        return Err(format!("unexpected `,{x}` after reason `{r}`"));
                    }
                    (Some(reason), None)
                }
            }
        };
        Ok(Revocation {
            date,
            reason,
            detail,
        })
    }
}

impl fmt::Display for Revocation {
    /// The column as openssl writes it (`make_revocation_str`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.date)?;
        match (&self.detail, self.reason) {
            (Some(RevocationDetail::HoldInstruction(x)), _) => write!(f, ",holdInstruction,{x}"),
            (Some(RevocationDetail::KeyTime(x)), _) => write!(f, ",keyTime,{x}"),
            (Some(RevocationDetail::CaKeyTime(x)), _) => write!(f, ",CAkeyTime,{x}"),
            (None, Some(r)) => write!(f, ",{r}"),
            (None, None) => Ok(()),
        }
    }
}

/// One certificate in the database: one line of `index.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    status: Status,
    expiry: IndexTime,
    revocation: Option<Revocation>,
    serial: Serial,
    file: String,
    subject: String,
}

impl Entry {
    /// The entry `openssl ca` writes when it signs `cert`: valid, its notAfter, its serial,
    /// file `unknown`, its subject in openssl's one-line form.
    ///
    /// # Errors
    /// [`DatabaseError::Certificate`] when the subject cannot be decoded.
    pub fn of_certificate(cert: &Certificate) -> Result<Entry, DatabaseError> {
        let subject = cert
            .subject_der()
            .map_err(|e| e.to_string())
            .and_then(|der| subject_oneline(&der).map_err(|e| e.to_string()))
            .map_err(DatabaseError::Certificate)?;
        Ok(Entry {
            status: Status::Valid,
            expiry: IndexTime::from_system_time(cert.not_after()),
            revocation: None,
            serial: Serial::from_bytes(cert.serial()),
            file: "unknown".into(),
            subject,
        })
    }

    /// The same entry with `file` in its file column (where the certificate was written),
    /// which `openssl ca` leaves at `unknown` and pkirun fills so a renewal over the index can
    /// find the certificate. A name with a tab, a newline or nothing in it leaves `unknown`.
    #[must_use]
    pub fn with_file(mut self, file: &str) -> Entry {
        if !file.is_empty() && !file.contains(['\t', '\n', '\r']) {
            self.file = file.to_string();
        }
        self
    }

    /// V, R or E.
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// The certificate's notAfter.
    #[must_use]
    pub fn expiry(&self) -> IndexTime {
        self.expiry
    }

    /// The revocation, for a revoked certificate.
    #[must_use]
    pub fn revocation(&self) -> Option<&Revocation> {
        self.revocation.as_ref()
    }

    /// The serial number.
    #[must_use]
    pub fn serial(&self) -> &Serial {
        &self.serial
    }

    /// The file column (openssl writes `unknown`).
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The subject in openssl's one-line form (`/C=DE/O=Acme/CN=host`).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The entry's line of `index.txt`, newline included (a tab inside a field is escaped with
    /// a backslash, as openssl's `TXT_DB_write` does).
    #[must_use]
    pub fn line(&self) -> String {
        let revocation = self
            .revocation
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let fields = [
            self.status.letter().to_string(),
            self.expiry.to_string(),
            revocation,
            self.serial.to_hex(),
            self.file.clone(),
            self.subject.clone(),
        ];
        let mut out = fields.map(|f| f.replace('\t', "\\\t")).join("\t");
        out.push('\n');
        out
    }

    /// Parses one line (without its newline) as `openssl ca` loads it.
    fn parse(line: &str) -> Result<Entry, String> {
        let fields = split_fields(line);
        if fields.len() != 6 {
            return Err(format!(
                "expected 6 tab-separated fields (status, expiry, revocation, serial, file, subject), found {}",
                fields.len()
            ));
        }
        let status = match fields[0].as_str() {
            "V" => Status::Valid,
            "R" => Status::Revoked,
            "E" => Status::Expired,
            other => {
                return Err(format!(
                    "invalid status `{other}` (expected `V`, `R` or `E`)"
                ));
            }
        };
        let expiry = IndexTime::parse(&fields[1])
            .ok_or_else(|| format!("invalid expiry date `{}`", fields[1]))?;
        let revocation = match (status, fields[2].as_str()) {
            (Status::Revoked, "") => return Err("revoked, but no revocation date".into()),
            (Status::Revoked, text) => Some(Revocation::parse(text)?),
            (_, "") => None,
            (_, text) => {
                return Err(format!("not revoked, but has a revocation date `{text}`"));
            }
        };
        let serial_text = &fields[3];
        if serial_text.len() < 2 || serial_text.len() % 2 == 1 {
            return Err(format!(
                "bad serial number `{serial_text}` (openssl needs an even number of hex digits)"
            ));
        }
        if let Some(c) = serial_text.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!(
                "bad character `{c}` in serial number `{serial_text}`"
            ));
        }
        let serial = Serial::parse_hex(serial_text).map_err(|e| e.to_string())?;
        Ok(Entry {
            status,
            expiry,
            revocation,
            serial,
            file: fields[4].clone(),
            subject: fields[5].clone(),
        })
    }
}

/// Splits a line at tabs not escaped by a backslash, dropping the escaping backslash (openssl's
/// `TXT_DB_read`).
fn split_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut prev_backslash = false;
    for c in line.chars() {
        let current = fields.last_mut();
        match (c, current) {
            ('\t', Some(f)) if prev_backslash => {
                f.pop();
                f.push('\t');
                prev_backslash = false;
                continue;
            }
            ('\t', _) => fields.push(String::new()),
            (c, Some(f)) => f.push(c),
            (_, None) => {}
        }
        prev_backslash = c == '\\';
    }
    fields
}

/// The issuance database: every certificate a CA signed, in `index.txt` order, and the
/// `unique_subject` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database {
    entries: Vec<Entry>,
    by_serial: HashMap<Serial, usize>,
    /// How many valid (`V`) entries each subject has: `unique_subject` checks in O(1).
    valid_subjects: HashMap<String, usize>,
    unique_subject: bool,
}

impl Default for Database {
    fn default() -> Self {
        Database::new()
    }
}

impl Database {
    /// An empty database with `unique_subject = no`, as easy-rsa starts one (so a renewal with
    /// the same subject can be recorded beside the certificate it replaces).
    #[must_use]
    pub fn new() -> Database {
        Database {
            entries: Vec::new(),
            by_serial: HashMap::new(),
            valid_subjects: HashMap::new(),
            unique_subject: false,
        }
    }

    /// Reads `index.txt` as `openssl ca` does: lines starting with `#` are skipped; an empty
    /// line, a line without six fields, a bad date or serial, or a serial seen twice is an
    /// error naming `file` and the line. `unique_subject` is `yes`, openssl's default, until
    /// [`Database::read_attr`] says otherwise.
    ///
    /// # Errors
    /// [`DatabaseError::Damaged`].
    pub fn from_index(text: &[u8], file: &str) -> Result<Database, DatabaseError> {
        let damaged = |line: usize, reason: String| DatabaseError::Damaged {
            file: file.to_string(),
            line,
            reason,
        };
        let text = std::str::from_utf8(text).map_err(|e| {
            let line = text[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            damaged(line, "not UTF-8 text".into())
        })?;
        let mut db = Database {
            unique_subject: true,
            ..Database::new()
        };
        let body = text.strip_suffix('\n').unwrap_or(text);
        if body.is_empty() {
            return Ok(db);
        }
        for (i, line) in body.split('\n').enumerate() {
            if line.starts_with('#') {
                continue;
            }
            if line.is_empty() {
                return Err(damaged(
                    i + 1,
                    "empty line (openssl ca refuses to load the file)".into(),
                ));
            }
            let entry = Entry::parse(line).map_err(|reason| damaged(i + 1, reason))?;
            if db.by_serial.contains_key(&entry.serial) {
                return Err(damaged(
                    i + 1,
                    format!("serial `{}` appears twice", entry.serial),
                ));
            }
            db.push(entry);
        }
        Ok(db)
    }

    /// Reads `index.txt.attr` (`unique_subject = yes|no`; other keys are kept by openssl for
    /// nothing and ignored here too).
    ///
    /// # Errors
    /// [`DatabaseError::Damaged`] for a line that is not `name = value` or a value openssl
    /// would not read as yes or no.
    pub fn read_attr(&mut self, text: &[u8], file: &str) -> Result<(), DatabaseError> {
        let damaged = |line: usize, reason: String| DatabaseError::Damaged {
            file: file.to_string(),
            line,
            reason,
        };
        let text = String::from_utf8_lossy(text);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| damaged(i + 1, format!("expected `name = value`, got `{line}`")))?;
            if key.trim() != "unique_subject" {
                continue;
            }
            let value = value.trim();
            self.unique_subject = match value.chars().next() {
                Some('y' | 'Y' | 't' | 'T' | '1') => true,
                Some('n' | 'N' | 'f' | 'F' | '0') => false,
                _ => {
                    return Err(damaged(
                        i + 1,
                        format!("`unique_subject` must be `yes` or `no`, got `{value}`"),
                    ));
                }
            };
        }
        Ok(())
    }

    /// The whole of `index.txt`.
    #[must_use]
    pub fn index_text(&self) -> String {
        self.entries.iter().map(Entry::line).collect()
    }

    /// The whole of `index.txt.attr`, as openssl writes it.
    #[must_use]
    pub fn attr_text(&self) -> String {
        format!(
            "unique_subject = {}\n",
            if self.unique_subject { "yes" } else { "no" }
        )
    }

    /// Whether two valid certificates may share a subject (`no`) or not (`yes`).
    #[must_use]
    pub fn unique_subject(&self) -> bool {
        self.unique_subject
    }

    /// Sets `unique_subject`.
    pub fn set_unique_subject(&mut self, unique: bool) {
        self.unique_subject = unique;
    }

    /// Every entry, in file order.
    #[must_use]
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The highest serial recorded, if any.
    #[must_use]
    pub fn highest_serial(&self) -> Option<&Serial> {
        self.entries.iter().map(Entry::serial).max()
    }

    /// The entry for `serial`.
    #[must_use]
    pub fn get(&self, serial: &Serial) -> Option<&Entry> {
        self.by_serial.get(serial).map(|&i| &self.entries[i])
    }

    /// The revoked entries, in file order.
    pub fn revoked(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.status == Status::Revoked)
    }

    fn push(&mut self, entry: Entry) {
        self.by_serial
            .insert(entry.serial.clone(), self.entries.len());
        if entry.status == Status::Valid {
            *self
                .valid_subjects
                .entry(entry.subject.clone())
                .or_default() += 1;
        }
        self.entries.push(entry);
    }

    /// Checks that `entry` may be added: a new serial and, with `unique_subject = yes`, no
    /// valid certificate with the same subject.
    ///
    /// # Errors
    /// [`DatabaseError::DuplicateSerial`] or [`DatabaseError::DuplicateSubject`].
    pub fn check_new(&self, entry: &Entry) -> Result<(), DatabaseError> {
        if self.by_serial.contains_key(&entry.serial) {
            return Err(DatabaseError::DuplicateSerial(entry.serial.clone()));
        }
        if self.unique_subject
            && self
                .valid_subjects
                .get(&entry.subject)
                .is_some_and(|&n| n > 0)
        {
            return Err(DatabaseError::DuplicateSubject(entry.subject.clone()));
        }
        Ok(())
    }

    /// Records a certificate the CA signed; returns its entry (whose
    /// [`line`](Entry::line) a caller may append to `index.txt` instead of rewriting it).
    ///
    /// # Errors
    /// See [`Database::check_new`]; nothing is recorded on error.
    pub fn record(&mut self, cert: &Certificate) -> Result<&Entry, DatabaseError> {
        self.record_entry(Entry::of_certificate(cert)?)
    }

    /// Records an entry made with [`Entry::of_certificate`] (and perhaps
    /// [`Entry::with_file`]).
    ///
    /// # Errors
    /// See [`Database::check_new`]; nothing is recorded on error.
    pub fn record_entry(&mut self, entry: Entry) -> Result<&Entry, DatabaseError> {
        self.check_new(&entry)?;
        self.push(entry);
        let last = self.entries.len() - 1;
        Ok(&self.entries[last])
    }

    /// Revokes `serial` at `when` for `reason` (`None` records no reason, as `openssl ca
    /// -revoke` without `-crl_reason`).
    ///
    /// # Errors
    /// [`DatabaseError::UnknownSerial`], [`DatabaseError::AlreadyRevoked`], or
    /// [`DatabaseError::ReasonNotInIndex`] for the two reasons openssl cannot read from
    /// `index.txt`; nothing changes on error.
    pub fn revoke(
        &mut self,
        serial: &Serial,
        reason: Option<Reason>,
        when: SystemTime,
    ) -> Result<&Entry, DatabaseError> {
        if let Some(r) = reason.filter(|r| !r.openssl_ca_reads()) {
            return Err(DatabaseError::ReasonNotInIndex(r));
        }
        let &i = self
            .by_serial
            .get(serial)
            .ok_or_else(|| DatabaseError::UnknownSerial(serial.clone()))?;
        let entry = &mut self.entries[i];
        if let Some(r) = &entry.revocation {
            return Err(DatabaseError::AlreadyRevoked {
                serial: serial.clone(),
                subject: entry.subject.clone(),
                revocation: r.to_string(),
            });
        }
        if entry.status == Status::Valid {
            if let Some(n) = self.valid_subjects.get_mut(&entry.subject) {
                *n = n.saturating_sub(1);
            }
        }
        entry.status = Status::Revoked;
        entry.revocation = Some(Revocation::new(when, reason));
        Ok(entry)
    }

    /// Marks valid certificates whose notAfter is at or before `now` as expired, as `openssl ca
    /// -updatedb` does; returns how many changed.
    pub fn mark_expired(&mut self, now: SystemTime) -> usize {
        let now = IndexTime::from_system_time(now);
        let mut changed = 0;
        for e in &mut self.entries {
            if e.status == Status::Valid && e.expiry.unix <= now.unix {
                if let Some(n) = self.valid_subjects.get_mut(&e.subject) {
                    *n = n.saturating_sub(1);
                }
                e.status = Status::Expired;
                changed += 1;
            }
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENSSL_INDEX: &str = "V\t270102085653Z\t\t01\tunknown\t/C=DE/O=A\\/B\\+C/CN=Zo\\xC3\\xAB \\xC3\\xA9\n\
        R\t20600101000000Z\t261203085653Z,CACompromise\t02\tunknown\t/O=x/OU=multi/CN=b\n\
        R\t290307085710Z\t261203085711Z,holdInstruction,holdInstructionReject\t7EA31CF2180E1E3B1D25069C6B0EB399\tunknown\t/CN=cli\n\
        E\t200101000000Z\t\t0100\tunknown\t/CN=old\n";

    #[test]
    fn index_written_by_openssl_round_trips_byte_for_byte() {
        let db = Database::from_index(OPENSSL_INDEX.as_bytes(), "index.txt").unwrap();
        assert_eq!(db.entries().len(), 4);
        assert_eq!(db.index_text(), OPENSSL_INDEX);
        let b = db.get(&Serial::parse_hex("02").unwrap()).unwrap();
        assert_eq!(b.status(), Status::Revoked);
        assert!(b.expiry().is_generalized());
        assert_eq!(b.revocation().unwrap().reason(), Some(Reason::CaCompromise));
        let hold = db.revoked().nth(1).unwrap().revocation().unwrap();
        assert_eq!(hold.reason(), Some(Reason::CertificateHold));
    }

    #[test]
    fn a_damaged_line_is_named_with_its_file_and_number() {
        let text = "V\t270102085653Z\t\t01\tunknown\t/CN=a\nV\t2701020Z\t\t02\tunknown\t/CN=b\n";
        let err = Database::from_index(text.as_bytes(), "ca/index.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`ca/index.txt` line 2: invalid expiry date `2701020Z`"
        );
        let err = Database::from_index(b"V\t270102085653Z\t01\n", "index.txt").unwrap_err();
        assert!(err.to_string().starts_with(
            "`index.txt` line 1: expected 6 tab-separated fields (status, expiry, revocation, serial, file, subject), found 3"
        ));
        let err =
            Database::from_index(b"V\t270102085653Z\t\t1\tunknown\t/CN=a\n", "i").unwrap_err();
        assert!(err.to_string().contains("even number of hex digits"));
        let err =
            Database::from_index(b"\nV\t270102085653Z\t\t01\tunknown\t/CN=a\n", "i").unwrap_err();
        assert!(err.to_string().starts_with("`i` line 1: empty line"));
        let err =
            Database::from_index(b"R\t270102085653Z\t\t01\tunknown\t/CN=a\n", "i").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`i` line 1: revoked, but no revocation date"
        );
    }

    #[test]
    fn revoke_refuses_unknown_and_already_revoked_serials() {
        let mut db = Database::from_index(OPENSSL_INDEX.as_bytes(), "index.txt").unwrap();
        let now = SystemTime::now();
        let mut revoke = |serial: &str, reason: Option<Reason>| {
            db.revoke(&Serial::parse_hex(serial).unwrap(), reason, now)
                .map(|entry| entry.line())
        };
        for (serial, refusal) in [
            (
                "AB",
                "serial `AB` is not in the database (this CA did not issue it)",
            ),
            (
                "02",
                "serial `02` (`/O=x/OU=multi/CN=b`) is already revoked (261203085653Z,CACompromise)",
            ),
        ] {
            assert_eq!(revoke(serial, None).unwrap_err().to_string(), refusal);
        }
        let err = revoke("01", Some(Reason::PrivilegeWithdrawn)).unwrap_err();
        assert!(matches!(err, DatabaseError::ReasonNotInIndex(_)));
        let line = revoke("01", Some(Reason::Superseded)).unwrap();
        assert!(line.starts_with("R\t270102085653Z\t"));
        assert!(line.contains("Z,superseded\t01\tunknown\t"));
    }

    #[test]
    fn times_choose_utc_before_2050() {
        let t = IndexTime::parse("491231235959Z").unwrap();
        assert!(!t.is_generalized());
        let again = IndexTime::from_system_time(t.to_system_time());
        assert_eq!(again.to_string(), "491231235959Z");
        let later = IndexTime::from_system_time(t.to_system_time() + Duration::from_secs(1));
        assert_eq!(later.to_string(), "20500101000000Z");
        assert_eq!(
            IndexTime::parse("991231235959Z").unwrap().to_string(),
            "991231235959Z"
        );
        assert!(IndexTime::parse("261332000000Z").is_none());
    }

    #[test]
    fn unique_subject_is_read_as_openssl_reads_it() {
        let mut db = Database::new();
        db.read_attr(b"unique_subject = yes\n", "index.txt.attr")
            .unwrap();
        assert!(db.unique_subject());
        assert_eq!(db.attr_text(), "unique_subject = yes\n");
        db.read_attr(b"unique_subject = no\n", "index.txt.attr")
            .unwrap();
        assert!(!db.unique_subject());
        let err = db
            .read_attr(b"unique_subject = maybe\n", "pki/index.txt.attr")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`pki/index.txt.attr` line 1: `unique_subject` must be `yes` or `no`, got `maybe`"
        );
    }

    #[test]
    fn unique_subject_counts_only_valid_entries() {
        let text =
            "V\t270102085653Z\t\t01\tunknown\t/CN=a\nV\t200102085653Z\t\t02\tunknown\t/CN=b\n";
        let mut db = Database::from_index(text.as_bytes(), "index.txt").unwrap();
        let again = |serial: &str, subject: &str| {
            Entry::parse(&format!("V\t270102085653Z\t\t{serial}\tunknown\t{subject}")).unwrap()
        };
        assert_eq!(
            db.check_new(&again("03", "/CN=a")),
            Err(DatabaseError::DuplicateSubject("/CN=a".into()))
        );
        assert_eq!(
            db.check_new(&again("01", "/CN=c")),
            Err(DatabaseError::DuplicateSerial(
                Serial::parse_hex("01").unwrap()
            ))
        );
        db.revoke(&Serial::parse_hex("01").unwrap(), None, SystemTime::now())
            .unwrap();
        assert_eq!(db.check_new(&again("03", "/CN=a")), Ok(()));
        let now = IndexTime::parse("260101000000Z").unwrap().to_system_time();
        assert_eq!(db.mark_expired(now), 1);
        assert_eq!(db.entries()[1].status(), Status::Expired);
        assert_eq!(db.check_new(&again("03", "/CN=b")), Ok(()));
    }

    #[test]
    fn escaped_tabs_are_one_field() {
        assert_eq!(split_fields("a\\\tb\tc"), vec!["a\tb", "c"]);
    }
}
