//! openssl configuration files (`openssl.cnf`, `ca.cnf`, `csr.conf`) read by OpenSSL 3's NCONF
//! rules (`crypto/conf/conf_def.c`): `[ section ]` headers, a `default` section before the
//! first, `name = value` lines whose name may carry a section (`req::prompt = no`), `#`
//! comments, a backslash at the end of a line continuing it, quotes (`"..."`, `'...'`) and
//! backslash escapes (`\n`, `\r`, `\b`, `\t`, any other character as itself), variables (`$var`,
//! `${var}`, `$(var)`, `$section::var`, `$ENV::NAME`; a variable is looked up in the current
//! section, then in `default`), `.include FILE-OR-DIRECTORY` (`.cnf` and `.conf` files of a
//! directory, in name order), `.pragma dollarid:on` (a `$` starts a variable only before `{` or
//! `(`), and a repeated name whose last value wins. Each value keeps its file and line, so what
//! reads it can say where a setting it cannot use came from.
//!
//! The reader is pure: files, directories and the environment come through [`CnfSource`].

use std::collections::HashMap;
use std::fmt;

/// Where a configuration's files and environment come from.
pub trait CnfSource {
    /// The bytes of the file at `path`, or a reason it cannot be read.
    ///
    /// # Errors
    /// A missing or unreadable file, in the caller's words.
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;
    /// The entries of `path` when it is a directory (their paths), `None` when it is not one.
    fn list(&self, path: &str) -> Option<Vec<String>>;
    /// The environment variable `name` (`$ENV::name`).
    fn env(&self, name: &str) -> Option<String>;
}

/// A configuration error, with the file and line it is about (OpenSSL's `line N` errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnfError {
    /// The file.
    pub file: String,
    /// The line (1-based; the first line of a continued one), 0 when the error is about the
    /// file as a whole (a section it lacks, a file that cannot be read).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for CnfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "`{}`: {}", self.file, self.message)
        } else {
            write!(f, "`{}` line {}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for CnfError {}

/// One `name = value` of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CnfValue {
    /// The name as written (`DNS.1`, `1.OU`, `commonName_default`).
    pub name: String,
    /// The value, quotes removed, escapes and variables resolved.
    pub value: String,
    /// The file it was read from.
    pub file: String,
    /// Its line there.
    pub line: usize,
}

impl CnfValue {
    /// An error about this value: its file and line, and its name before `message`.
    #[must_use]
    pub fn error(&self, message: impl Into<String>) -> CnfError {
        CnfError {
            file: self.file.clone(),
            line: self.line,
            message: format!("`{}`: {}", self.name, message.into()),
        }
    }
}

/// A parsed configuration: its sections in the order they first appear, each with its values
/// in the order OpenSSL keeps them (a repeated name moves to its last place).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cnf {
    sections: Vec<(String, Vec<CnfValue>)>,
    index: HashMap<String, usize>,
    /// The file read first (the one named to [`Cnf::read`] or [`Cnf::parse`]).
    file: String,
}

/// Expansions larger than this are refused, as OpenSSL's `MAX_CONF_VALUE_LENGTH` does.
const MAX_VALUE: usize = 65536;
/// `.include` nesting deeper than this is an error (a file including itself).
const MAX_DEPTH: usize = 16;

impl Cnf {
    /// Reads the configuration file `path` (and what it includes) from `source`.
    ///
    /// # Errors
    /// A file that cannot be read, or a line OpenSSL refuses too (a section without `]`, a line
    /// without `=`, a variable with no value, a `${` without `}`, an expansion over 64 KiB), named
    /// by file and line.
    pub fn read(path: &str, source: &dyn CnfSource) -> Result<Cnf, CnfError> {
        let (mut cnf, mut state) = Cnf::begin(path);
        cnf.read_file(path, source, &mut state, 0, None)?;
        Ok(cnf)
    }

    /// Parses configuration text as the file `name` (its `.include`s read from `source`).
    ///
    /// # Errors
    /// As [`Cnf::read`].
    pub fn parse(text: &str, name: &str, source: &dyn CnfSource) -> Result<Cnf, CnfError> {
        let (mut cnf, mut state) = Cnf::begin(name);
        cnf.parse_text(text, name, source, &mut state, 0)?;
        Ok(cnf)
    }

    /// An empty configuration for the file `file`, and the parser's state at its start (in the
    /// `default` section).
    fn begin(file: &str) -> (Cnf, State) {
        let mut cnf = Cnf {
            file: file.to_string(),
            ..Cnf::default()
        };
        cnf.section_index("default");
        let state = State {
            section: "default".into(),
            dollarid: false,
        };
        (cnf, state)
    }

    /// The file read first, as it was named.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// An error about the configuration as a whole (a section it lacks), naming its file.
    #[must_use]
    pub fn error(&self, message: String) -> CnfError {
        CnfError {
            file: self.file.clone(),
            line: 0,
            message,
        }
    }

    /// The section names, in the order they first appear (`default` first).
    pub fn sections(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|(name, _)| name.as_str())
    }

    /// The values of `section`, or `None` when it does not exist.
    #[must_use]
    pub fn section(&self, section: &str) -> Option<&[CnfValue]> {
        self.index
            .get(section)
            .map(|&i| self.sections[i].1.as_slice())
    }

    /// The value of `name` in `section`, else in `default` (as OpenSSL looks values up).
    #[must_use]
    pub fn get(&self, section: &str, name: &str) -> Option<&CnfValue> {
        self.get_in(section, name)
            .or_else(|| self.get_in("default", name))
    }

    /// The value of `name` in `section` only (not in the default section).
    #[must_use]
    pub fn get_in(&self, section: &str, name: &str) -> Option<&CnfValue> {
        self.section(section)?.iter().find(|v| v.name == name)
    }

    fn section_index(&mut self, name: &str) -> usize {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        self.sections.push((name.to_string(), Vec::new()));
        self.index.insert(name.to_string(), self.sections.len() - 1);
        self.sections.len() - 1
    }

    fn set(&mut self, section: &str, value: CnfValue) {
        let i = self.section_index(section);
        let values = &mut self.sections[i].1;
        values.retain(|v| v.name != value.name);
        values.push(value);
    }

    fn read_file(
        &mut self,
        path: &str,
        source: &dyn CnfSource,
        state: &mut State,
        depth: usize,
        from: Option<(&str, usize)>,
    ) -> Result<(), CnfError> {
        let at = |message: String| match from {
            Some((file, line)) => CnfError {
                file: file.to_string(),
                line,
                message,
            },
            None => CnfError {
                file: path.to_string(),
                line: 0,
                message,
            },
        };
        if depth > MAX_DEPTH {
            return Err(at(format!(
                ".include nested more than {MAX_DEPTH} deep (does `{path}` include itself?)"
            )));
        }
        let bytes = source.read(path).map_err(at)?;
        let text = String::from_utf8(bytes).map_err(|_| at(format!("`{path}` is not UTF-8")))?;
        self.parse_text(&text, path, source, state, depth)
    }

    fn parse_text(
        &mut self,
        text: &str,
        file: &str,
        source: &dyn CnfSource,
        state: &mut State,
        depth: usize,
    ) -> Result<(), CnfError> {
        for (line_no, line) in logical_lines(text) {
            let err = |message: String| CnfError {
                file: file.to_string(),
                line: line_no,
                message,
            };
            let line = strip_comment(&line);
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest
                    .strip_suffix(']')
                    .ok_or_else(|| err("missing close square bracket".into()))?
                    .trim();
                if name.is_empty() || !name.chars().all(is_name_char) {
                    return Err(err(format!("`[{rest}`: not a section name")));
                }
                state.section = name.to_string();
                self.section_index(name);
                continue;
            }
            if let Some(directive) = line.strip_prefix('.') {
                if self.directive(directive, file, line_no, source, state, depth)? {
                    continue;
                }
            }
            let (name, value) = line
                .split_once('=')
                .ok_or_else(|| err("missing equal sign".into()))?;
            let name = name.trim();
            let (section, name) = match name.split_once("::") {
                Some((section, name)) => (section.trim().to_string(), name.trim()),
                None => (state.section.clone(), name),
            };
            if name.is_empty() || !name.chars().all(is_name_char) {
                return Err(err(format!(
                    "`{name}`: not a name (letters, digits, punctuation)"
                )));
            }
            let value = self
                .expand(value.trim(), &state.section, state.dollarid, source)
                .map_err(err)?;
            self.set(
                &section,
                CnfValue {
                    name: name.to_string(),
                    value,
                    file: file.to_string(),
                    line: line_no,
                },
            );
        }
        Ok(())
    }

    /// `.include` and `.pragma`; `false` for a line that is a `name = value` after all.
    fn directive(
        &mut self,
        directive: &str,
        file: &str,
        line: usize,
        source: &dyn CnfSource,
        state: &mut State,
        depth: usize,
    ) -> Result<bool, CnfError> {
        let err = |message: String| CnfError {
            file: file.to_string(),
            line,
            message,
        };
        let (word, rest) = directive
            .split_once(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or((directive, ""));
        let rest = rest.trim_start().trim_start_matches('=').trim();
        match word {
            "include" => {
                let target = self
                    .expand(rest, &state.section, state.dollarid, source)
                    .map_err(err)?;
                if target.is_empty() {
                    return Err(err(".include names no file".into()));
                }
                match source.list(&target) {
                    Some(mut entries) => {
                        entries.retain(|e| e.ends_with(".cnf") || e.ends_with(".conf"));
                        entries.sort();
                        for entry in entries {
                            self.read_file(&entry, source, state, depth + 1, Some((file, line)))?;
                        }
                    }
                    None => {
                        self.read_file(&target, source, state, depth + 1, Some((file, line)))?;
                    }
                }
                Ok(true)
            }
            "pragma" => {
                for pragma in rest.split(',') {
                    let (key, value) = pragma
                        .split_once(':')
                        .ok_or_else(|| err(format!("`.pragma {pragma}`: expected NAME:VALUE")))?;
                    let on = match value.trim() {
                        "on" | "true" => true,
                        "off" | "false" => false,
                        other => {
                            return Err(err(format!(
                                "`.pragma {}`: `{other}` is not on, off, true or false",
                                key.trim()
                            )));
                        }
                    };
                    match key.trim() {
                        "dollarid" => state.dollarid = on,
                        // Paths are read inside the working directory in any case.
                        "abspath" => {}
                        other => {
                            return Err(err(format!(
                                "`.pragma {other}`: pkirun knows dollarid and abspath"
                            )));
                        }
                    }
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// A value with quotes removed, escapes and variables resolved (OpenSSL's `str_copy`).
    fn expand(
        &self,
        raw: &str,
        section: &str,
        dollarid: bool,
        source: &dyn CnfSource,
    ) -> Result<String, String> {
        let chars: Vec<char> = raw.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                '"' | '\'' => {
                    i += 1;
                    while i < chars.len() && chars[i] != c {
                        if chars[i] == '\\' && i + 1 < chars.len() {
                            i += 1;
                        }
                        out.push(chars[i]);
                        i += 1;
                    }
                    i += 1; // the closing quote
                }
                '\\' => {
                    i += 1;
                    let Some(&next) = chars.get(i) else { break };
                    out.push(match next {
                        'n' => '\n',
                        'r' => '\r',
                        'b' => '\u{8}',
                        't' => '\t',
                        other => other,
                    });
                    i += 1;
                }
                '$' if !dollarid || matches!(chars.get(i + 1), Some('{' | '(')) => {
                    let close = match chars.get(i + 1) {
                        Some('{') => Some('}'),
                        Some('(') => Some(')'),
                        _ => None,
                    };
                    let mut j = i + 1 + usize::from(close.is_some());
                    let start = j;
                    while j < chars.len() && is_var_char(chars[j]) {
                        j += 1;
                    }
                    let mut var_section = section.to_string();
                    let mut name: String = chars[start..j].iter().collect();
                    if chars.get(j) == Some(&':') && chars.get(j + 1) == Some(&':') {
                        var_section = name;
                        j += 2;
                        let name_start = j;
                        while j < chars.len() && is_var_char(chars[j]) {
                            j += 1;
                        }
                        name = chars[name_start..j].iter().collect();
                    }
                    if let Some(close) = close {
                        if chars.get(j) != Some(&close) {
                            return Err(format!("no close brace after `${{{name}`"));
                        }
                        j += 1;
                    }
                    if name.is_empty() {
                        return Err(
                            "a `$` with no variable name (write `\\$` for a dollar sign)".into(),
                        );
                    }
                    let value = if var_section == "ENV" {
                        self.get_in("ENV", &name)
                            .map(|v| v.value.clone())
                            .or_else(|| source.env(&name))
                    } else {
                        self.get(&var_section, &name).map(|v| v.value.clone())
                    };
                    let value = value.ok_or_else(|| {
                        if var_section == section || var_section == "default" {
                            format!("variable `{name}` has no value")
                        } else {
                            format!("variable `{var_section}::{name}` has no value")
                        }
                    })?;
                    out.push_str(&value);
                    if out.len() > MAX_VALUE {
                        return Err(format!("variable expansion longer than {MAX_VALUE} bytes"));
                    }
                    i = j;
                }
                _ => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(out)
    }
}

/// Parser state that `.include`d files share with their includer.
struct State {
    section: String,
    dollarid: bool,
}

/// Letters, digits and the punctuation OpenSSL allows in names (`1.OU`, `DNS.1`,
/// `commonName_default`, `req_distinguished_name`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.-!%&*+,/;?@^~|".contains(c)
}

/// What a variable name may hold (OpenSSL: alphanumerics and `_`).
fn is_var_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Lines joined where one ends with an unescaped backslash, each with its first line number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let (start, mut buf) = current.take().unwrap_or((i + 1, String::new()));
        let trailing = raw.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            buf.push_str(&raw[..raw.len() - 1]);
            current = Some((start, buf));
        } else {
            buf.push_str(raw);
            out.push((start, buf));
        }
    }
    if let Some(last) = current {
        out.push(last);
    }
    out
}

/// The line without its `#` comment (a `#` inside quotes or after a backslash stays).
fn strip_comment(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (None, '#') => break,
            (None, '"' | '\'') => {
                quote = Some(c);
                out.push(c);
            }
            (Some(q), _) if c == q => {
                quote = None;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

impl fmt::Display for Cnf {
    /// The configuration as `[section]` blocks of `name = value` lines (values as resolved).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, values) in &self.sections {
            writeln!(f, "[ {name} ]")?;
            for v in values {
                writeln!(f, "{} = {}", v.name, v.value)?;
            }
        }
        Ok(())
    }
}
