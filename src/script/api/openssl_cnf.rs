//! openssl configuration files: `openssl_cnf(path)` reads one (and its `.include`s) inside the
//! working directory by OpenSSL 3's rules; `cnf.get(section, name)`, `cnf.section(name)` and
//! `cnf.sections` give what it says, each value with its file and line.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::FnResult;
use crate::pki::config::cnf::{Cnf, CnfSource, CnfValue};
use crate::script::{Ctx, rt};

/// Registers `openssl_cnf` and the `Cnf` methods.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    engine.register_type_with_name::<Cnf>("Cnf");
    func!(engine, ctx => c, "openssl_cnf", ["path: &str", "Cnf"],
        "Reads an openssl configuration file by OpenSSL 3's rules: [ sections ], the default
        section, $var / ${var} / $section::var / $ENV::NAME, .include (a file or a directory's
        .cnf and .conf files), .pragma dollarid, quotes and escapes, a repeated name's last value.
        Included paths are read inside the working directory. An error names the file and line.",
        move |path: &str| openssl_cnf(&c, path));
    func!(engine, "get", ["cnf: Cnf", "section: &str", "name: &str", "Dynamic"],
        "The value of NAME in SECTION, else in the default section (as openssl looks it up);
        () when neither has it.",
        |cnf: &mut Cnf, section: &str, name: &str| -> FnResult<Dynamic> {
            Ok(cnf.get(section, name).map_or(Dynamic::UNIT, |v| v.value.clone().into()))
        });
    func!(engine, "section", ["cnf: Cnf", "name: &str", "Array"],
        "The entries of a section in order, each #{ name, value, file, line }; an error names the
        sections there are when it does not exist.",
        |cnf: &mut Cnf, name: &str| section(cnf, name));
    func!(engine, "extensions", ["cnf: Cnf", "section: &str", "Map"],
        "An extension section as signing options: key_usage, ext_key_usage, basic_constraints,
        authority_key_id, subject_key_id, permitted/excluded (nameConstraints), and san and
        san_critical (subjectAltName with @section references expanded; they belong to new_csr,
        since ca.sign takes names from the request). An extension pkirun does not write is an
        error naming the file, line and name.",
        |cnf: &mut Cnf, section: &str| extensions(cnf, section));
    func!(engine, "subject", ["cnf: Cnf", "section: &str", "Array"],
        "A distinguished-name section as a subject ([\"O=Cockroach\", \"CN=Cockroach CA\"]): with
        [ req ] prompt = no the values as written, else each field's _default.",
        |cnf: &mut Cnf, section: &str| -> FnResult<Array> {
            let prompt = cnf.get("req", "prompt").is_none_or(|v| v.value.trim() != "no");
            Ok(cnf.subject(section, prompt).map_err(rt)?
                .into_iter()
                .map(|(field, value)| Dynamic::from(format!("{field}={value}")))
                .collect())
        });
    engine.register_get("sections", |cnf: &mut Cnf| -> Array {
        cnf.sections().map(|s| Dynamic::from(s.to_string())).collect()
    });
}

/// The working directory as the configuration's files, the process environment as `ENV`.
struct Workspace<'a>(&'a Ctx);

impl CnfSource for Workspace<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        self.0.ws.read(path).map_err(|e| e.to_string())
    }

    fn list(&self, path: &str) -> Option<Vec<String>> {
        if !self.0.ws.is_dir(path).ok()? {
            return None;
        }
        self.0.ws.list(path).ok()
    }

    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// `openssl_cnf(path)`.
fn openssl_cnf(ctx: &Ctx, path: &str) -> FnResult<Cnf> {
    Cnf::read(path, &Workspace(ctx)).map_err(rt)
}

/// `cnf.extensions(section)`.
fn extensions(cnf: &Cnf, section: &str) -> FnResult<Map> {
    let e = cnf.extensions(section).map_err(rt)?;
    let strings = |items: &[String]| -> Dynamic {
        items
            .iter()
            .map(|s| Dynamic::from(s.clone()))
            .collect::<Array>()
            .into()
    };
    let mut map = Map::new();
    if let Some(v) = &e.key_usage {
        map.insert("key_usage".into(), strings(v));
    }
    if let Some(v) = &e.ext_key_usage {
        map.insert("ext_key_usage".into(), strings(v));
    }
    if let Some(v) = &e.basic_constraints {
        map.insert("basic_constraints".into(), v.clone().into());
    }
    if let Some(v) = &e.authority_key_id {
        map.insert("authority_key_id".into(), v.clone().into());
    }
    if let Some(v) = e.subject_key_id {
        map.insert("subject_key_id".into(), v.into());
    }
    if !e.permitted.is_empty() {
        map.insert("permitted".into(), strings(&e.permitted));
    }
    if !e.excluded.is_empty() {
        map.insert("excluded".into(), strings(&e.excluded));
    }
    if let Some(v) = &e.subject_alt_name {
        map.insert("san".into(), strings(v));
        map.insert("san_critical".into(), e.san_critical.into());
    }
    Ok(map)
}

/// `cnf.section(name)`.
fn section(cnf: &Cnf, name: &str) -> FnResult<Array> {
    let values = cnf.section(name).ok_or_else(|| {
        rt(format!(
            "no section `[ {name} ]` (sections: {})",
            cnf.sections().collect::<Vec<_>>().join(", ")
        ))
    })?;
    Ok(values.iter().map(entry).collect())
}

fn entry(v: &CnfValue) -> Dynamic {
    let mut map = Map::new();
    map.insert("name".into(), v.name.clone().into());
    map.insert("value".into(), v.value.clone().into());
    map.insert("file".into(), v.file.clone().into());
    map.insert(
        "line".into(),
        i64::try_from(v.line).unwrap_or(i64::MAX).into(),
    );
    Dynamic::from_map(map)
}
