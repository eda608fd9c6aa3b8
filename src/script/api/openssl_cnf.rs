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
