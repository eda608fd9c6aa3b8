//! openssl configuration files: `openssl_cnf(path)` reads one (and its `.include`s) inside the
//! working directory by OpenSSL 3's rules; `cnf.get(section, name)`, `cnf.section(name)` and
//! `cnf.sections` give what it says, each value with its file and line.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::FnResult;
use crate::pki::config::cnf::{Cnf, CnfSource, CnfValue};
use crate::pki::config::cnf_sections::ExtensionSettings;
use crate::script::convert;
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
        authority_key_id, subject_key_id, permitted/excluded (nameConstraints),
        crl_distribution_points, ocsp and ca_issuers (authorityInfoAccess), and san and
        san_critical (subjectAltName with @section references expanded; they belong to new_csr,
        since ca.sign takes names from the request). An extension pkirun does not write is an
        error naming the file, line and name.",
        |cnf: &mut Cnf, section: &str| extensions(cnf, section));
    func!(engine, "subject", ["cnf: Cnf", "section: &str", "Array"],
        "A distinguished-name section as a subject ([\"O=Cockroach\", \"CN=Cockroach CA\"]): with
        [ req ] prompt = no the values as written, else each field's _default.",
        |cnf: &mut Cnf, section: &str| -> FnResult<Array> {
            let prompt = cnf.get("req", "prompt").is_none_or(|v| v.value.trim() != "no");
            let pairs = cnf.subject(section, prompt).map_err(rt)?;
            Ok(subject_array(&pairs).cast::<Array>())
        });
    func!(engine, "request", ["cnf: Cnf", "Map"],
        "What `openssl req -new -config F` puts in a request, as new_csr options: subject (the
        distinguished_name section, prompt = no values or _defaults) and the req_extensions
        section (san, san_critical, key_usage, ext_key_usage, basic_constraints). A setting pkirun
        does not reproduce is an error naming the file and line.",
        |cnf: &mut Cnf| -> FnResult<Map> {
            let made = cnf.request().map_err(rt)?;
            let mut map = extension_map(&made.extensions);
            map.insert("subject".into(), subject_array(&made.subject));
            Ok(map)
        });
    func!(engine, "self_signed", ["cnf: Cnf", "Map"],
        "What `openssl req -x509 -config F` makes, as new_ca options: subject, the
        x509_extensions section, and digest (default_md). Days are not in it: openssl req takes
        them from -days.",
        |cnf: &mut Cnf| -> FnResult<Map> {
            let made = cnf.self_signed().map_err(rt)?;
            let mut map = extension_map(&made.extensions);
            map.insert("subject".into(), subject_array(&made.subject));
            put(&mut map, "digest", made.digest.map(|d| d.name()));
            Ok(map)
        });
    func!(engine, "signing", ["cnf: Cnf", "opts: Map", "Map"],
        "What `openssl ca -config F -policy P -extensions E` applies, as ca.sign options:
        #{ policy: \"signing_policy\", extensions: \"signing_node_req\", ca: \"CA_default\" }
        (each optional: the CA section's policy and x509_extensions, [ ca ]'s default_ca) gives
        days (default_days), digest (default_md), copy_extensions (openssl's default none),
        policy (the section's rules in order) and the extension section's key_usage,
        ext_key_usage, basic_constraints, authority_key_id, subject_key_id, permitted, excluded.",
        |cnf: &mut Cnf, opts: Map| signing(cnf, &opts));
    func!(engine, "ca", ["cnf: Cnf", "Map"],
        "The CA section [ ca ]'s default_ca names, as openssl ca reads it: section, dir,
        database, serial, crlnumber, new_certs_dir, certificate, private_key, crl (paths with $dir
        expanded), default_days, default_crl_days, default_md, copy_extensions, unique_subject,
        policy, x509_extensions; absent settings are left out.",
        |cnf: &mut Cnf| ca_settings(cnf));
    prop!(engine, "sections", ["cnf: Cnf", "Array"],
        "The section names in the order they first appear, `default` first.",
        |cnf: &mut Cnf| -> Array {
        super::texts(cnf.sections())
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

/// `openssl_cnf(path)`: the configuration at `path` in the working directory.
pub(crate) fn openssl_cnf(ctx: &Ctx, path: &str) -> FnResult<Cnf> {
    Cnf::read(path, &Workspace(ctx)).map_err(rt)
}

/// `cnf.extensions(section)`.
fn extensions(cnf: &Cnf, section: &str) -> FnResult<Map> {
    Ok(extension_map(&cnf.extensions(section).map_err(rt)?))
}

fn strings(items: &[String]) -> Dynamic {
    super::texts(items).into()
}

fn subject_array(pairs: &[(String, String)]) -> Dynamic {
    pairs
        .iter()
        .map(|(field, value)| Dynamic::from(format!("{field}={value}")))
        .collect::<Array>()
        .into()
}

/// Sets `key` when there is a value: an absent setting is left out of the map.
fn put(map: &mut Map, key: &str, value: Option<impl Into<Dynamic>>) {
    if let Some(v) = value {
        map.insert(key.into(), v.into());
    }
}

/// An extension section's settings under the option names of new_csr, new_ca and ca.sign.
fn extension_map(e: &ExtensionSettings) -> Map {
    let mut map = Map::new();
    put(&mut map, "key_usage", e.key_usage.as_deref().map(strings));
    put(
        &mut map,
        "ext_key_usage",
        e.ext_key_usage.as_deref().map(strings),
    );
    put(&mut map, "basic_constraints", e.basic_constraints.clone());
    put(&mut map, "authority_key_id", e.authority_key_id.clone());
    put(&mut map, "subject_key_id", e.subject_key_id);
    for (key, list) in [
        ("permitted", &e.permitted),
        ("excluded", &e.excluded),
        ("crl_distribution_points", &e.crl_distribution_points),
        ("ocsp", &e.ocsp),
        ("ca_issuers", &e.ca_issuers),
    ] {
        if !list.is_empty() {
            map.insert(key.into(), strings(list));
        }
    }
    if let Some(v) = &e.subject_alt_name {
        map.insert("san".into(), strings(v));
        map.insert("san_critical".into(), e.san_critical.into());
    }
    map
}

/// `cnf.signing(#{ ca, policy, extensions })`.
fn signing(cnf: &Cnf, opts: &Map) -> FnResult<Map> {
    convert::check_keys("cnf.signing", opts, &["ca", "policy", "extensions"])?;
    let name = |key: &str| -> FnResult<Option<String>> {
        opts.get(key)
            .map(|v| convert::string(key, v))
            .transpose()
            .map_err(rt)
    };
    let s = cnf
        .signing(
            name("ca")?.as_deref(),
            name("policy")?.as_deref(),
            name("extensions")?.as_deref(),
        )
        .map_err(rt)?;
    let mut map = extension_map(&s.extensions);
    put(&mut map, "days", s.days.map(i64::from));
    put(&mut map, "digest", s.digest.map(|d| d.name()));
    map.insert(
        "copy_extensions".into(),
        s.copy_extensions.to_string().into(),
    );
    map.insert(
        "policy".into(),
        s.policy
            .iter()
            .map(|(field, rule)| Dynamic::from(format!("{field}={rule}")))
            .collect::<Array>()
            .into(),
    );
    Ok(map)
}

/// `cnf.ca()`.
fn ca_settings(cnf: &Cnf) -> FnResult<Map> {
    let c = cnf.ca(None).map_err(rt)?;
    let mut map = Map::new();
    map.insert("section".into(), c.section.clone().into());
    let paths = [
        ("dir", &c.dir),
        ("database", &c.database),
        ("serial", &c.serial),
        ("crlnumber", &c.crlnumber),
        ("new_certs_dir", &c.new_certs_dir),
        ("certificate", &c.certificate),
        ("private_key", &c.private_key),
        ("crl", &c.crl),
        ("policy", &c.policy),
        ("x509_extensions", &c.x509_extensions),
    ];
    for (key, value) in paths {
        put(&mut map, key, value.clone());
    }
    put(&mut map, "default_days", c.default_days.map(i64::from));
    put(
        &mut map,
        "default_crl_days",
        c.default_crl_days.map(i64::from),
    );
    put(&mut map, "default_md", c.default_md.map(|d| d.name()));
    map.insert(
        "copy_extensions".into(),
        c.copy_extensions.to_string().into(),
    );
    map.insert("unique_subject".into(), c.unique_subject.into());
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
