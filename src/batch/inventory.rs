//! Inventory files operators already keep: CSV (one row per node) or JSON lines / a JSON
//! array, read as a stream of batch specs.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};

use super::{BatchSpec, Error, Result};
use crate::pki::{DistinguishedName, KeySpec, San};
use crate::workspace::Workspace;

/// Inventory file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// CSV with a header row: `name,cn,hosts,o,ou,c,st,l,key,profile` (any order, only `name`
    /// required). Every cell is one value, except in the list columns `hosts` and `ou`, where `;`
    /// separates items.
    Csv,
    /// One JSON object per line with the same fields; a string is one value, several hosts, O or
    /// OU values are a JSON array.
    JsonLines,
    /// A JSON array of such objects (read whole; prefer JSON lines for huge inventories).
    JsonArray,
}

impl InventoryFormat {
    /// Chooses by extension: `.csv`, `.jsonl`/`.ndjson`, `.json`.
    #[must_use]
    pub fn from_path(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            Some(InventoryFormat::Csv)
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Some(InventoryFormat::JsonLines)
        } else if lower.ends_with(".json") {
            Some(InventoryFormat::JsonArray)
        } else {
            None
        }
    }
}

/// A spec as written by a person: strings, converted and validated by [`RawSpec::into_spec`].
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSpec {
    /// Unique name.
    pub name: String,
    /// Common name (default: the name).
    #[serde(default)]
    pub cn: Option<String>,
    /// SANs (cfssl-style hosts: IPs, DNS names, URIs, emails).
    #[serde(default, alias = "san", deserialize_with = "list")]
    pub hosts: Vec<String>,
    /// Organization(s).
    #[serde(default, deserialize_with = "list")]
    pub o: Vec<String>,
    /// Organizational unit(s).
    #[serde(default, deserialize_with = "list")]
    pub ou: Vec<String>,
    /// Country.
    #[serde(default)]
    pub c: Option<String>,
    /// State or province.
    #[serde(default)]
    pub st: Option<String>,
    /// Locality.
    #[serde(default)]
    pub l: Option<String>,
    /// Key spec (`ecdsa:384`, `rsa:2048`), default the batch's.
    #[serde(default)]
    pub key: Option<String>,
    /// Profile name, default the batch's.
    #[serde(default)]
    pub profile: Option<String>,
    /// A whole subject, already parsed, replacing the one the fields above make (the fields
    /// are still checked). Never read from a file: callers set it from their own syntax.
    #[serde(skip)]
    pub subject: Option<DistinguishedName>,
}

/// Reads a field that may hold several values: a string is one value (never split: commas and
/// spaces belong to subjects such as `Acme Widgets, Ltd`), an array is several.
fn list<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(
        match <Option<OneOrMany> as serde::Deserialize>::deserialize(d)? {
            None => Vec::new(),
            Some(OneOrMany::One(s)) => vec![s],
            Some(OneOrMany::Many(v)) => v,
        },
    )
}

/// Splits a CSV list cell at `;` into trimmed, non-empty items: `a.io; 10.0.0.1` gives two.
#[must_use]
pub fn split_list(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl RawSpec {
    /// Splits the list columns of a CSV row (read as one value per cell) at `;`: `hosts` and
    /// `ou` (a DNS name, an IP address or an email has no `;`; several OUs in one cell is how
    /// operators write them). Every other column is one value, whatever it contains.
    fn split_csv_lists(mut self) -> Self {
        let split = |v: Vec<String>| v.iter().flat_map(|s| split_list(s)).collect();
        self.hosts = split(self.hosts);
        self.ou = split(self.ou);
        self
    }
}

/// Defaults a batch applies to specs that do not say.
#[derive(Debug, Clone)]
pub struct SpecDefaults {
    /// Key spec.
    pub key: KeySpec,
    /// Profile index when a spec names none.
    pub profile: usize,
    /// Profile names to indices.
    pub profiles: HashMap<String, usize>,
}

impl RawSpec {
    /// Validates and converts.
    ///
    /// # Errors
    /// The first invalid field, as a message naming it.
    pub fn into_spec(self, d: &SpecDefaults) -> std::result::Result<BatchSpec, String> {
        if self.name.trim().is_empty() {
            return Err("empty name".into());
        }
        if self.name.chars().any(char::is_control) {
            return Err(format!(
                "name `{}` contains a control character (it names files)",
                self.name.escape_default()
            ));
        }
        let mut dn = DistinguishedName::new();
        let mut push = |field: &str, v: &str| dn.push(field, v).map_err(|e| e.to_string());
        if let Some(c) = &self.c {
            push("C", c)?;
        }
        if let Some(st) = &self.st {
            push("ST", st)?;
        }
        if let Some(l) = &self.l {
            push("L", l)?;
        }
        for o in &self.o {
            push("O", o)?;
        }
        for ou in &self.ou {
            push("OU", ou)?;
        }
        push("CN", self.cn.as_deref().unwrap_or(&self.name))?;
        let sans = self
            .hosts
            .iter()
            .map(|h| San::parse(h).map_err(|e| e.to_string()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let key = match &self.key {
            Some(k) => KeySpec::parse(k).map_err(|e| format!("`key`: {e}"))?,
            None => d.key,
        };
        let profile = match &self.profile {
            Some(p) => *d
                .profiles
                .get(p)
                .ok_or_else(|| format!("unknown profile `{p}`"))?,
            None => d.profile,
        };
        Ok(BatchSpec {
            name: self.name,
            subject: self.subject.unwrap_or(dn),
            sans,
            key,
            profile,
        })
    }
}

/// A stream of `(row, spec)` pairs, each possibly a row error.
pub type SpecStream<'a> = Box<dyn Iterator<Item = Result<(usize, BatchSpec)>> + 'a>;

/// Streams the specs of an inventory file as `(row, spec)`; a bad row is an error naming its
/// row number (CSV: the header is row 1). Call again for a second pass.
///
/// # Errors
/// The file cannot be opened or has an unknown extension.
pub fn read_inventory<'a>(
    ws: &Workspace,
    path: &'a str,
    defaults: &'a SpecDefaults,
) -> Result<SpecStream<'a>> {
    let format = InventoryFormat::from_path(path).ok_or_else(|| Error::Row {
        source_name: path.to_string(),
        row: 0,
        message: "unknown inventory format (use .csv, .jsonl or .json)".into(),
    })?;
    let file = File::open(ws.resolve(path)?).map_err(|e| crate::workspace::Error::Io {
        op: "read",
        path: path.to_string(),
        source: e,
    })?;
    let row_err = move |row: usize, message: String| Error::Row {
        source_name: path.to_string(),
        row,
        message,
    };
    let convert = move |row: usize, raw: std::result::Result<RawSpec, String>| {
        raw.and_then(|r| r.into_spec(defaults))
            .map(|s| (row, s))
            .map_err(|m| row_err(row, m))
    };
    Ok(match format {
        InventoryFormat::Csv => {
            let reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(BufReader::new(file));
            Box::new(
                reader
                    .into_deserialize::<RawSpec>()
                    .enumerate()
                    .map(move |(i, r)| {
                        let raw = r.map(RawSpec::split_csv_lists).map_err(|e| e.to_string());
                        convert(i + 2, raw)
                    }),
            )
        }
        InventoryFormat::JsonLines => Box::new(
            BufReader::new(file)
                .lines()
                .enumerate()
                .filter(|(_, l)| l.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(move |(i, l)| {
                    let raw = l.map_err(|e| e.to_string()).and_then(|l| {
                        serde_json::from_str::<RawSpec>(&l).map_err(|e| e.to_string())
                    });
                    convert(i + 1, raw)
                }),
        ),
        InventoryFormat::JsonArray => {
            let all: Vec<serde_json::Value> = serde_json::from_reader(BufReader::new(file))
                .map_err(|e| row_err(0, format!("not a JSON array of objects: {e}")))?;
            Box::new(all.into_iter().enumerate().map(move |(i, v)| {
                convert(
                    i + 1,
                    serde_json::from_value::<RawSpec>(v).map_err(|e| e.to_string()),
                )
            }))
        }
    })
}
