//! cfssl: its JSON files (CSR requests, `ca-config.json` profiles) and `cfssljson -bare`
//! output. The JSON is read by [`crate::pki::cfssl`]; this area turns the result into the
//! option maps `new_csr`, `new_ca`, `ca.sign` and `ca.issue` take, and names the file in errors.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::FnResult;
use super::files::write_files;
use crate::pki::cfssl::{ConfigJson, CsrRequest, SigningProfile};
use crate::pki::{Certificate, Csr, Key, KeyFormat, KeySpec};
use crate::script::{Ctx, rt};

/// Mode of the key cfssljson writes (`<prefix>-key.pem`): 0600, as cfssljson does.
pub const BARE_KEY_MODE: u32 = 0o600;

/// Registers the `cfssl_*` functions.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    // ---- cfssl JSON -------------------------------------------------------------------------
    func!(engine, ctx => c, "cfssl_csr", ["path: &str", "Map"],
        "Reads a cfssl CSR JSON file (ca-csr.json, req-csr.json) as #{ subject, san, key }, ready
        for new_csr(gen_key(r.key), r) or ca.issue(r + profile). The subject is in Go's order
        (C, ST, L, O, OU across the `names` entries, then CN); `hosts` become typed SANs (IP,
        email, URI, else DNS) in Go's order (DNS, email, IP, URI); no `key` means ecdsa:256.",
        move |path: &str| -> FnResult<Map> { csr_from_text(&read_text(&c, path)?, path) });
    func!(engine, "cfssl_csr_json", ["text: &str", "file: &str", "Map"],
        "Like cfssl_csr, from JSON text (e.g. a default not written yet); `file` names it in errors.",
        |text: &str, file: &str| -> FnResult<Map> { csr_from_text(text, file) });
    func!(engine, ctx => c, "cfssl_initca", ["path: &str", "Map"],
        "The new_ca options `cfssl gencert -initca CSR.json` applies: the subject, keyUsage
        critical certSign + cRLSign, basicConstraints critical CA:TRUE (pathlen from ca.pathlen),
        no authority key id, ca.expiry (default 43800h) from 5 minutes ago.",
        move |path: &str| -> FnResult<Map> { initca_from_text(&read_text(&c, path)?, path) });
    func!(engine, "cfssl_initca_json", ["text: &str", "file: &str", "Map"],
        "Like cfssl_initca, from JSON text; `file` names it in errors.",
        |text: &str, file: &str| -> FnResult<Map> { initca_from_text(text, file) });
    func!(engine, ctx => c, "cfssl_profile", ["path: &str", "name: &str", "Map"],
        "The ca.sign / ca.issue options of a ca-config.json profile (`cfssl gencert -profile NAME`;
        \"\" or \"default\" is signing.default): usages, basicConstraints critical CA:FALSE (or
        ca_constraint), key identifiers, and `expiry` in seconds with `backdate` 300, so the
        certificate is valid from 5 minutes ago for exactly the profile's expiry, as cfssl makes
        it. An unknown profile name is an error (cfssl silently uses the default).",
        move |path: &str, name: &str| -> FnResult<Map> {
        profile_from_text(&read_text(&c, path)?, path, name)
    });
    func!(engine, "cfssl_profile_json", ["text: &str", "file: &str", "name: &str", "Map"],
        "Like cfssl_profile, from JSON text; `file` names it in errors.",
        |text: &str, file: &str, name: &str| -> FnResult<Map> {
        profile_from_text(text, file, name)
    });

    // ---- cfssljson -bare ----------------------------------------------------------------------
    func!(engine, "cfssl_bare_files", ["prefix: &str", "key: Key", "cert: Cert", "Array"],
        "The files `cfssljson -bare PREFIX` writes, as write_files entries: PREFIX.pem (0644) and
        PREFIX-key.pem (PKCS#1 for RSA, SEC1 for ECDSA, mode 0600 as cfssljson writes it).",
        |prefix: &str, key: Key, cert: Certificate| -> FnResult<Array> {
        bare_files(prefix, &key, &cert, None)
    });
    func!(engine, "cfssl_bare_files", ["prefix: &str", "key: Key", "cert: Cert", "csr: Csr", "Array"],
        "The files `cfssljson -bare PREFIX` writes, with PREFIX.csr (0644) too.",
        |prefix: &str, key: Key, cert: Certificate, csr: Csr| -> FnResult<Array> {
        bare_files(prefix, &key, &cert, Some(&csr))
    });
    func!(engine, ctx => c, "cfssl_write_bare", ["prefix: &str", "key: Key", "cert: Cert", "()"],
        "Writes PREFIX.pem and PREFIX-key.pem (0600) like `cfssljson -bare PREFIX`, both or
        neither; refuses to overwrite (unlike cfssljson) unless --force.",
        move |prefix: &str, key: Key, cert: Certificate| -> FnResult<()> {
        write_files(&c, &bare_files(prefix, &key, &cert, None)?)
    });
    func!(engine, ctx => c, "cfssl_write_bare", ["prefix: &str", "key: Key", "cert: Cert", "csr: Csr", "()"],
        "Writes PREFIX.pem, PREFIX-key.pem (0600) and PREFIX.csr like `cfssljson -bare PREFIX`,
        all or nothing; refuses to overwrite (unlike cfssljson) unless --force.",
        move |prefix: &str, key: Key, cert: Certificate, csr: Csr| -> FnResult<()> {
        write_files(&c, &bare_files(prefix, &key, &cert, Some(&csr))?)
    });
}

/// Prefixes an error with the file it concerns.
fn in_file(file: &str) -> impl Fn(crate::pki::cfssl::CfsslError) -> Box<EvalAltResult> + '_ {
    move |e| format!("`{file}`: {e}").into()
}

fn strings<I: IntoIterator<Item = String>>(items: I) -> Array {
    items.into_iter().map(Dynamic::from).collect()
}

/// `#{ subject, san, key }` of a request, ready for `new_csr` / `ca.issue`.
fn request_map(req: &CsrRequest) -> Map {
    let mut m = Map::new();
    m.insert(
        "subject".into(),
        strings(
            req.subject
                .attrs()
                .iter()
                .map(|a| format!("{}={}", a.short, a.value)),
        )
        .into(),
    );
    m.insert(
        "san".into(),
        strings(req.hosts.iter().map(ToString::to_string)).into(),
    );
    m.insert("key".into(), req.key.to_string().into());
    m
}

/// Signing options for `ca.sign` / `ca.issue` / `new_ca`, rendered from the core's one
/// conversion [`SigningProfile::to_profile`], so that reading them back gives that profile:
/// `usages` as the file names them, `expiry` in seconds (the file's expiry minus the
/// backdate, so that notBefore is `backdate` seconds before signing and notAfter - notBefore
/// equals the file's expiry), basicConstraints, key identifiers and SAN copying.
fn signing_map(p: &SigningProfile, file: &str) -> FnResult<Map> {
    let profile = p.to_profile().map_err(in_file(file))?;
    let mut m = Map::new();
    m.insert("usages".into(), strings(p.usages.iter().cloned()).into());
    m.insert(
        "expiry".into(),
        format!("{}s", profile.validity.duration().as_secs()).into(),
    );
    m.insert(
        "backdate".into(),
        i64::try_from(profile.backdate_seconds).unwrap_or(0).into(),
    );
    m.insert(
        "basic_constraints".into(),
        profile.basic_constraints.map_or(false.into(), |bc| {
            let mut m = Map::new();
            m.insert("ca".into(), bc.ca.into());
            m.insert(
                "pathlen".into(),
                bc.path_len
                    .map_or(Dynamic::UNIT, |n| Dynamic::from(i64::from(n))),
            );
            m.insert("critical".into(), bc.critical.into());
            m.into()
        }),
    );
    m.insert(
        "authority_key_id".into(),
        profile.authority_key_id.to_string().into(),
    );
    m.insert("subject_key_id".into(), profile.subject_key_id.into());
    m.insert(
        "copy_extensions".into(),
        profile.copy_extensions.to_string().into(),
    );
    Ok(m)
}

fn csr_from_text(text: &str, file: &str) -> FnResult<Map> {
    Ok(request_map(
        &CsrRequest::parse(text).map_err(in_file(file))?,
    ))
}

fn initca_from_text(text: &str, file: &str) -> FnResult<Map> {
    let req = CsrRequest::parse(text).map_err(in_file(file))?;
    let profile = req.initca_profile().map_err(in_file(file))?;
    let mut m = signing_map(&profile, file)?;
    if let Some(subject) = request_map(&req).remove("subject") {
        m.insert("subject".into(), subject);
    }
    Ok(m)
}

fn profile_from_text(text: &str, file: &str, name: &str) -> FnResult<Map> {
    let cfg = ConfigJson::parse(text).map_err(in_file(file))?;
    signing_map(&cfg.profile(name).map_err(in_file(file))?, file)
}

/// The key as cfssl writes it: PKCS#1 for RSA, SEC1 for ECDSA.
fn cfssl_key_pem(key: &Key, path: &str) -> FnResult<String> {
    let format = match key.spec() {
        KeySpec::Rsa(_) => KeyFormat::Pkcs1,
        KeySpec::P256 | KeySpec::P384 => KeyFormat::Sec1,
    };
    key.to_pem(format).map_err(|e| rt(format!("`{path}`: {e}")))
}

fn file_entry(path: String, text: String, mode: u32) -> Dynamic {
    let mut m = Map::new();
    m.insert("path".into(), path.into());
    m.insert("text".into(), text.into());
    m.insert("mode".into(), i64::from(mode).into());
    m.into()
}

/// The files `cfssljson -bare PREFIX` writes, as `write_files` entries.
fn bare_files(prefix: &str, key: &Key, cert: &Certificate, csr: Option<&Csr>) -> FnResult<Array> {
    if prefix.is_empty() {
        return Err(rt("cfssl_bare_files: empty prefix (e.g. \"certs/etcd1\")"));
    }
    let key_path = format!("{prefix}-key.pem");
    let key_pem = cfssl_key_pem(key, &key_path)?;
    let mut files = vec![
        file_entry(format!("{prefix}.pem"), cert.pem(), 0o644),
        file_entry(key_path, key_pem, BARE_KEY_MODE),
    ];
    if let Some(csr) = csr {
        files.push(file_entry(format!("{prefix}.csr"), csr.pem(), 0o644));
    }
    Ok(files)
}

/// Reads a cfssl JSON file of the working directory.
fn read_text(ctx: &Ctx, path: &str) -> FnResult<String> {
    ctx.ws.read_to_string(path).map_err(rt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::Profile;
    use crate::script::convert;

    #[test]
    fn signing_map_reads_back_as_the_cores_profile() {
        let cfg = ConfigJson::parse(
            r#"{"signing": {"profiles": {"k": {"expiry": "8760h",
                "usages": ["signing", "key encipherment", "server auth", "client auth"]},
                "ica": {"expiry": "1h", "usages": ["cert sign"],
                "ca_constraint": {"is_ca": true, "max_path_len": 2}}}}}"#,
        )
        .unwrap();
        for name in ["k", "ica"] {
            let sp = cfg.profile(name).unwrap();
            let map = signing_map(&sp, "ca-config.json").unwrap();
            let from_map = convert::profile(&map, Profile::default()).unwrap();
            assert_eq!(from_map, sp.to_profile().unwrap(), "{name}");
        }
        let req = CsrRequest::parse(r#"{"CN": "ca", "ca": {"pathlen": 1}}"#).unwrap();
        let sp = req.initca_profile().unwrap();
        let mut map = signing_map(&sp, "ca-csr.json").unwrap();
        map.remove("subject");
        let from_map = convert::profile(&map, Profile::default()).unwrap();
        assert_eq!(from_map, sp.to_profile().unwrap());
    }

    #[test]
    fn request_map_round_trips_through_the_converters() {
        let req = CsrRequest::parse(
            r#"{"CN": "kubernetes", "hosts": ["10.0.0.1", "kubernetes"],
                "key": {"algo": "rsa", "size": 2048},
                "names": [{"C": "US", "ST": "CA", "L": "SF", "O": "K, Inc.", "OU": "a=b"}]}"#,
        )
        .unwrap();
        let m = request_map(&req);
        assert_eq!(convert::subject(&m["subject"]).unwrap(), req.subject);
        assert_eq!(convert::sans("san", &m["san"]).unwrap(), req.hosts);
        assert_eq!(
            KeySpec::parse(&m["key"].to_string()).unwrap(),
            KeySpec::Rsa(2048)
        );
    }
}
