//! Every function scripts can call, registered with its signature and doc comment. Each one is
//! a thin shim: convert arguments, call the PKI core or the workspace, map the error.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map};

use super::convert::{self, ConvResult, PROFILE_KEYS};
use super::{Ctx, rt};
use crate::pki::inspect::{self, Inspected};
use crate::pki::{Ca, Certificate, Csr, CsrParams, Key, KeyFormat, KeySpec, Profile, Usages};
use crate::workspace::WriteOptions;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Prefixes an error with the file it concerns.
fn at(path: &str) -> impl Fn(crate::pki::Error) -> Box<EvalAltResult> + '_ {
    move |e| format!("`{path}`: {e}").into()
}

fn conv<T>(r: ConvResult<T>) -> Res<T> {
    r.map_err(rt)
}

/// Key write options: `mode` (default 0o400), `format` (pkcs8, pkcs1, sec1), `overwrite`.
fn key_write_opts(opts: &Map) -> ConvResult<(WriteOptions, KeyFormat)> {
    convert::check_keys("write_key", opts, &["mode", "format", "overwrite"])?;
    let format = match convert::opt_string(opts, "format")? {
        Some(f) => KeyFormat::parse(&f).map_err(|e| e.to_string())?,
        None => KeyFormat::Pkcs8,
    };
    Ok((
        WriteOptions {
            mode: Some(mode_of(opts, 0o400)?),
            overwrite: convert::opt_bool(opts, "overwrite")?.unwrap_or(false),
        },
        format,
    ))
}

fn mode_of(opts: &Map, default: u32) -> ConvResult<u32> {
    match convert::opt_int(opts, "mode")? {
        Some(m) if (0..=0o7777).contains(&m) => Ok(u32::try_from(m).unwrap_or(default)),
        Some(m) => Err(format!("`mode`: {m:o} is not a file mode (use e.g. 0o400)")),
        None => Ok(default),
    }
}

fn file_write_opts(opts: &Map) -> ConvResult<WriteOptions> {
    convert::check_keys("write", opts, &["mode", "overwrite"])?;
    Ok(WriteOptions {
        mode: Some(mode_of(opts, 0o644)?),
        overwrite: convert::opt_bool(opts, "overwrite")?.unwrap_or(false),
    })
}

fn csr_params(opts: &Map) -> ConvResult<CsrParams> {
    convert::check_keys(
        "new_csr",
        opts,
        &[
            "subject",
            "san",
            "san_critical",
            "key_usage",
            "ext_key_usage",
            "basic_constraints",
        ],
    )?;
    let (key_usage, key_usage_critical) = match opts.get("key_usage") {
        Some(v) => {
            let (ku, crit) = Usages::parse_key_usage(&convert::string_list("key_usage", v)?)
                .map_err(|e| format!("`key_usage`: {e}"))?;
            (Some(ku), crit)
        }
        None => (None, false),
    };
    let (ext_key_usage, ext_key_usage_critical) = match opts.get("ext_key_usage") {
        Some(v) => {
            let (eku, crit) =
                Usages::parse_ext_key_usage(&convert::string_list("ext_key_usage", v)?)
                    .map_err(|e| format!("`ext_key_usage`: {e}"))?;
            (Some(eku), crit)
        }
        None => (None, false),
    };
    Ok(CsrParams {
        subject: convert::subject(opts.get("subject").unwrap_or(&Dynamic::UNIT))?,
        sans: match opts.get("san") {
            Some(v) => convert::sans("san", v)?,
            None => Vec::new(),
        },
        san_critical: convert::opt_bool(opts, "san_critical")?,
        key_usage,
        key_usage_critical,
        ext_key_usage,
        ext_key_usage_critical,
        basic_constraints: match opts.get("basic_constraints") {
            Some(v) => convert::basic_constraints(v)?,
            None => None,
        },
    })
}

fn inspected_to_dynamic(items: &[Inspected]) -> Res<Dynamic> {
    rhai::serde::to_dynamic(items)
}

/// Registers the types and every script function into `engine`.
#[allow(clippy::too_many_lines)]
pub fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    engine
        .register_type_with_name::<Key>("Key")
        .register_type_with_name::<Certificate>("Cert")
        .register_type_with_name::<Csr>("Csr")
        .register_type_with_name::<Ca>("Ca");

    // ---- parameters -------------------------------------------------------------------
    let c = ctx.clone();
    func!(
        engine,
        "param",
        ["name: &str", "default: Dynamic", "Dynamic"],
        "Reads `-D name=value` from the command line, or returns `default`.
        The value takes the default's type: an array default splits the value on commas,
        an integer default parses an integer, a boolean default parses true/false.",
        move |name: &str, default: Dynamic| -> Res<Dynamic> { c.param(name, default).map_err(rt) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "allow_exec",
        ["bool"],
        "True when the user passed --allow-exec (scripts print commands instead of running them otherwise).",
        move || c.allow_exec
    );

    let c = ctx.clone();
    func!(
        engine,
        "force",
        ["bool"],
        "True when the user passed --force (existing files may be overwritten).",
        move || c.force
    );

    func!(
        engine,
        "join",
        ["items: Array", "separator: &str", "String"],
        "Joins the items of an array into one string: join(cert.sans, \", \").",
        |items: Array, sep: &str| -> String {
            items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(sep)
        }
    );

    // ---- keys ---------------------------------------------------------------------------
    func!(
        engine,
        "gen_key",
        ["algorithm: &str", "size: i64", "Key"],
        "Generates a private key: gen_key(\"rsa\", 2048) or gen_key(\"ecdsa\", 384).
        RSA sizes 2048, 3072, 4096; ECDSA curves 256 (P-256) and 384 (P-384).",
        |alg: &str, size: i64| -> Res<Key> {
            Key::generate(KeySpec::new(alg, size).map_err(rt)?).map_err(rt)
        }
    );
    func!(
        engine,
        "gen_key",
        ["spec: &str", "Key"],
        "Generates a private key from a spec: \"rsa:2048\", \"ecdsa:384\", \"p256\", \"secp384r1\".",
        |spec: &str| -> Res<Key> { Key::generate(KeySpec::parse(spec).map_err(rt)?).map_err(rt) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "load_key",
        ["path: &str", "Key"],
        "Loads a private key in any PEM form openssl, cfssl and easyrsa write.
        Accepted: PKCS#8 (PRIVATE KEY), PKCS#1 (RSA PRIVATE KEY), SEC1 (EC PRIVATE KEY).",
        move |path: &str| -> Res<Key> {
            let bytes = c.ws.read(path).map_err(rt)?;
            Key::from_pem(&bytes).map_err(at(path))
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_key",
        ["path: &str", "key: Key", "()"],
        "Writes a key as PKCS#8 PEM with mode 0400, atomically; refuses to overwrite an existing file.",
        move |path: &str, key: Key| -> Res<()> { c.write_key(path, &key, &Map::new()) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_key",
        ["path: &str", "key: Key", "opts: Map", "()"],
        "Writes a key with options: #{ mode: 0o600, format: \"pkcs1\" | \"sec1\" | \"pkcs8\", overwrite: true }.",
        move |path: &str, key: Key, opts: Map| -> Res<()> { c.write_key(path, &key, &opts) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_key",
        ["path: &str", "key: Key", "mode: i64", "()"],
        "Writes a key with the given file mode, e.g. write_key(\"ca.key\", key, 0o400).",
        move |path: &str, key: Key, mode: i64| -> Res<()> {
            let mut opts = Map::new();
            opts.insert("mode".into(), mode.into());
            c.write_key(path, &key, &opts)
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_pair",
        [
            "key_path: &str",
            "key: Key",
            "cert_path: &str",
            "cert: Cert",
            "()"
        ],
        "Writes a key (PKCS#8, 0400) and its certificate (0644) together: both or neither.",
        move |kp: &str, key: Key, cp: &str, cert: Certificate| -> Res<()> {
            c.write_pair(kp, &key, cp, &cert, &Map::new())
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_pair",
        [
            "key_path: &str",
            "key: Key",
            "cert_path: &str",
            "cert: Cert",
            "opts: Map",
            "()"
        ],
        "Writes a key and its certificate together with key options #{ mode: 0o600, format: \"pkcs1\", overwrite: true }.",
        move |kp: &str, key: Key, cp: &str, cert: Certificate, opts: Map| -> Res<()> {
            c.write_pair(kp, &key, cp, &cert, &opts)
        }
    );
    engine.register_get("spec", |k: &mut Key| k.spec().to_string());
    engine.register_get("kind", |k: &mut Key| k.describe());
    func!(
        engine,
        "pem",
        ["key: Key", "String"],
        "The key as PKCS#8 PEM text.",
        |k: Key| -> Res<String> { k.to_pem(KeyFormat::Pkcs8).map_err(rt) }
    );
    func!(
        engine,
        "pem",
        ["key: Key", "format: &str", "String"],
        "The key as PEM in a format: \"pkcs8\", \"pkcs1\" (RSA) or \"sec1\" (EC).",
        |k: Key, f: &str| -> Res<String> { k.to_pem(KeyFormat::parse(f).map_err(rt)?).map_err(rt) }
    );

    // ---- CSRs -----------------------------------------------------------------------------
    func!(engine, "new_csr", ["key: Key", "opts: Map", "Csr"],
        "Builds a certificate signing request signed by `key`.
        Options: #{ subject: #{ O: \"x\", CN: \"y\" } or \"/O=x/CN=y\",
        san: [\"DNS:host\", \"IP:10.0.0.1\"], san_critical: true, key_usage: [..], ext_key_usage: [..] }.",
        |key: Key, opts: Map| -> Res<Csr> {
            Csr::new(&key, &conv(csr_params(&opts))?).map_err(rt)
        });
    let c = ctx.clone();
    func!(
        engine,
        "load_csr",
        ["path: &str", "Csr"],
        "Loads a CSR (openssl req, cfssl, easyrsa) and verifies its signature.",
        move |path: &str| -> Res<Csr> {
            let bytes = c.ws.read(path).map_err(rt)?;
            Csr::from_pem(&bytes).map_err(at(path))
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_csr",
        ["path: &str", "csr: Csr", "()"],
        "Writes a CSR as PEM (mode 0644), atomically; refuses to overwrite.",
        move |path: &str, csr: Csr| -> Res<()> { c.write_text(path, &csr.pem(), &Map::new()) }
    );
    func!(
        engine,
        "pem",
        ["csr: Csr", "String"],
        "The CSR as PEM text.",
        |c: Csr| c.pem()
    );
    func!(
        engine,
        "text",
        ["csr: Csr", "String"],
        "The CSR rendered like `openssl req -noout -text`.",
        |c: Csr| -> Res<String> { Ok(inspect::inspect_csr_der(c.der()).map_err(rt)?.to_text()) }
    );
    engine.register_get("subject", |c: &mut Csr| {
        c.subject().map(|s| s.to_string()).unwrap_or_default()
    });
    engine.register_get("sans", |c: &mut Csr| {
        c.sans()
            .iter()
            .map(|s| Dynamic::from(s.to_string()))
            .collect::<Array>()
    });

    // ---- certificates -----------------------------------------------------------------------
    let c = ctx.clone();
    func!(
        engine,
        "load_cert",
        ["path: &str", "Cert"],
        "Loads the first certificate of a PEM file.",
        move |path: &str| -> Res<Certificate> {
            let bytes = c.ws.read(path).map_err(rt)?;
            Certificate::from_pem(&bytes).map_err(at(path))
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_cert",
        ["path: &str", "cert: Cert", "()"],
        "Writes a certificate as PEM (mode 0644), atomically; refuses to overwrite.",
        move |path: &str, cert: Certificate| -> Res<()> {
            c.write_text(path, &cert.pem(), &Map::new())
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write_cert",
        ["path: &str", "cert: Cert", "opts: Map", "()"],
        "Writes a certificate with options #{ mode: 0o644, overwrite: true }.",
        move |path: &str, cert: Certificate, opts: Map| -> Res<()> {
            c.write_text(path, &cert.pem(), &opts)
        }
    );
    func!(
        engine,
        "pem",
        ["cert: Cert", "String"],
        "The certificate as PEM text.",
        |c: Certificate| c.pem()
    );
    func!(
        engine,
        "text",
        ["cert: Cert", "String"],
        "The certificate rendered like `openssl x509 -noout -text`.",
        |c: Certificate| -> Res<String> {
            Ok(inspect::inspect_cert_der(c.der()).map_err(rt)?.to_text())
        }
    );
    func!(
        engine,
        "info",
        ["cert: Cert", "Map"],
        "The certificate's fields as a map (what `pkirun inspect --json` prints).",
        |c: Certificate| -> Res<Dynamic> {
            rhai::serde::to_dynamic(inspect::inspect_cert_der(c.der()).map_err(rt)?)
        }
    );
    engine.register_get("subject", |c: &mut Certificate| {
        c.subject().map(|s| s.to_string()).unwrap_or_default()
    });
    engine.register_get("issuer", |c: &mut Certificate| {
        c.issuer().map(|s| s.to_string()).unwrap_or_default()
    });
    engine.register_get("serial", |c: &mut Certificate| c.serial_hex());
    engine.register_get("fingerprint", |c: &mut Certificate| c.fingerprint_sha256());
    engine.register_get("sans", |c: &mut Certificate| {
        c.sans()
            .iter()
            .map(|s| Dynamic::from(s.to_string()))
            .collect::<Array>()
    });
    engine.register_get("not_after", |c: &mut Certificate| {
        crate::pki::rfc3339(c.not_after())
    });

    // ---- CAs ---------------------------------------------------------------------------------
    func!(
        engine,
        "new_ca",
        ["key: Key", "opts: Map", "Ca"],
        "Makes a self-signed CA certificate for `key`.
        Options: #{ subject: .., days: 365, key_usage: [\"critical\", \"keyCertSign\", ..],
        basic_constraints: \"critical,CA:true,pathlen:1\" }. Defaults: the `ca` profile, 365 days.",
        |key: Key, opts: Map| -> Res<Ca> {
            let mut known = PROFILE_KEYS.to_vec();
            known.push("subject");
            conv(convert::check_keys("new_ca", &opts, &known))?;
            let subject = conv(convert::subject(
                opts.get("subject").unwrap_or(&Dynamic::UNIT),
            ))?;
            if subject.is_empty() {
                return Err(rt(
                    "new_ca: `subject` is required (e.g. #{ CN: \"My CA\" })",
                ));
            }
            let profile = conv(convert::profile(&opts, Profile::named("ca").map_err(rt)?))?;
            Ca::self_signed(key, &subject, &profile).map_err(rt)
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "load_ca",
        ["cert_path: &str", "key_path: &str", "Ca"],
        "Loads an existing CA from its certificate and key; refuses a key that does not match.",
        move |cert_path: &str, key_path: &str| -> Res<Ca> {
            let cert =
                Certificate::from_pem(&c.ws.read(cert_path).map_err(rt)?).map_err(at(cert_path))?;
            let key = Key::from_pem(&c.ws.read(key_path).map_err(rt)?).map_err(at(key_path))?;
            Ca::load(cert, key).map_err(|e| rt(format!("`{cert_path}` + `{key_path}`: {e}")))
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "load_ca",
        ["cert_path: &str", "key_path: &str", "opts: Map", "Ca"],
        "Loads an existing CA restricted to names: #{ allowed_names: [\"*.db.internal\", \"10.0.0.0/16\"] }.
        Every certificate it signs must stay within them (and within each call's `allowed_names`).",
        move |cert_path: &str, key_path: &str, opts: Map| -> Res<Ca> {
            conv(convert::check_keys("load_ca", &opts, &["allowed_names"]))?;
            let names = match opts.get("allowed_names") {
                Some(v) => conv(convert::allowed_names(v))?,
                None => crate::pki::NamePolicy::default(),
            };
            let cert =
                Certificate::from_pem(&c.ws.read(cert_path).map_err(rt)?).map_err(at(cert_path))?;
            let key = Key::from_pem(&c.ws.read(key_path).map_err(rt)?).map_err(at(key_path))?;
            Ca::load(cert, key)
                .map(|ca| ca.with_allowed_names(names))
                .map_err(|e| rt(format!("`{cert_path}` + `{key_path}`: {e}")))
        }
    );
    engine.register_get("cert", |ca: &mut Ca| ca.cert().clone());
    engine.register_get("key", |ca: &mut Ca| ca.key().clone());
    func!(engine, "sign", ["ca: Ca", "csr: Csr", "opts: Map", "Cert"],
        "Signs a CSR under a profile, like `openssl ca` or `cfssl sign`.
        Options: #{ profile: \"server\",
        days: 365, key_usage: [..], ext_key_usage: [..], usages: [cfssl names], copy_extensions:
        \"copy\", policy: #{ O: \"supplied\", CN: \"optional\" }, authority_key_id: \"keyid,issuer:always\" }.",
        |ca: &mut Ca, csr: Csr, opts: Map| -> Res<Certificate> {
            conv(convert::check_keys("ca.sign", &opts, PROFILE_KEYS))?;
            let profile = conv(convert::profile(&opts, Profile::default()))?;
            let signed = ca.sign(&csr, &profile).map_err(rt)?;
            signed.notes.iter().for_each(|n| eprintln!("note: {n}"));
            Ok(signed.cert)
        });
    func!(
        engine,
        "issue",
        ["ca: Ca", "opts: Map", "Map"],
        "Generates a key and its certificate in one step, like `cfssl gencert`.
        Options: #{ key: \"ecdsa:384\",
        subject: .., san: [..], profile: \"peer\", ... }. Returns #{ key: Key, cert: Cert }.",
        |ca: &mut Ca, opts: Map| -> Res<Map> {
            let mut known = PROFILE_KEYS.to_vec();
            known.extend(["subject", "san", "key"]);
            conv(convert::check_keys("ca.issue", &opts, &known))?;
            let spec = match opts.get("key") {
                Some(v) => KeySpec::parse(&v.to_string()).map_err(|e| rt(format!("`key`: {e}")))?,
                None => KeySpec::Rsa(2048),
            };
            let subject = conv(convert::subject(
                opts.get("subject").unwrap_or(&Dynamic::UNIT),
            ))?;
            let sans = match opts.get("san") {
                Some(v) => conv(convert::sans("san", v))?,
                None => Vec::new(),
            };
            let profile = conv(convert::profile(&opts, Profile::default()))?;
            let (key, signed) = ca.issue(spec, &subject, &sans, &profile).map_err(rt)?;
            signed.notes.iter().for_each(|n| eprintln!("note: {n}"));
            let cert = signed.cert;
            let mut out = Map::new();
            out.insert("key".into(), Dynamic::from(key));
            out.insert("cert".into(), Dynamic::from(cert));
            Ok(out)
        }
    );

    // ---- inspection ---------------------------------------------------------------------------
    let c = ctx.clone();
    func!(
        engine,
        "inspect",
        ["path: &str", "Array"],
        "Every certificate, CSR and key in a PEM file, as maps (the `pkirun inspect --json` fields).",
        move |path: &str| -> Res<Dynamic> {
            let bytes = c.ws.read(path).map_err(rt)?;
            inspected_to_dynamic(&inspect::inspect_pem(&bytes).map_err(at(path))?)
        }
    );

    // ---- files ----------------------------------------------------------------------------------
    let c = ctx.clone();
    func!(
        engine,
        "mkdir",
        ["path: &str", "()"],
        "Creates a directory and its parents (mkdir -p) under the working directory.",
        move |path: &str| -> Res<()> { c.ws.mkdir(path).map_err(rt) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "exists",
        ["path: &str", "bool"],
        "True when the file or directory exists.",
        move |path: &str| -> Res<bool> { c.ws.exists(path).map_err(rt) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "read",
        ["path: &str", "String"],
        "Reads a text file.",
        move |path: &str| -> Res<String> { c.ws.read_to_string(path).map_err(rt) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write",
        ["path: &str", "text: &str", "()"],
        "Writes a text file (mode 0644) atomically; refuses to overwrite an existing file.",
        move |path: &str, text: &str| -> Res<()> { c.write_text(path, text, &Map::new()) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "write",
        ["path: &str", "text: &str", "opts: Map", "()"],
        "Writes a text file with options #{ mode: 0o600, overwrite: true }.",
        move |path: &str, text: &str, opts: Map| -> Res<()> { c.write_text(path, text, &opts) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "copy",
        ["from: &str", "to: &str", "()"],
        "Copies a file atomically, keeping its mode; refuses to overwrite.",
        move |from: &str, to: &str| -> Res<()> {
            c.ws.copy(
                from,
                to,
                WriteOptions {
                    mode: None,
                    overwrite: false,
                },
            )
            .map_err(rt)
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "copy",
        ["from: &str", "to: &str", "opts: Map", "()"],
        "Copies a file with options #{ mode: 0o644, overwrite: true }.",
        move |from: &str, to: &str, opts: Map| -> Res<()> {
            let mut w = conv(file_write_opts(&opts))?;
            if !opts.contains_key("mode") {
                w.mode = None;
            }
            c.ws.copy(from, to, w).map_err(rt)
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "remove",
        ["path: &str", "()"],
        "Removes a file.",
        move |path: &str| -> Res<()> { c.ws.remove(path).map_err(rt) }
    );
    let c = ctx.clone();
    func!(
        engine,
        "list",
        ["dir: &str", "Array"],
        "The entries of a directory as sorted paths relative to the working directory.",
        move |dir: &str| -> Res<Array> {
            Ok(c.ws
                .list(dir)
                .map_err(rt)?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "chmod",
        ["path: &str", "mode: i64", "()"],
        "Sets a file's mode, e.g. chmod(\"ca.key\", 0o400).",
        move |path: &str, mode: i64| -> Res<()> {
            let mode =
                u32::try_from(mode).map_err(|_| rt(format!("`{mode}` is not a file mode")))?;
            c.ws.chmod(path, mode).map_err(rt)
        }
    );
    let c = ctx.clone();
    func!(
        engine,
        "exec",
        ["command: Array", "()"],
        "Runs an external command (e.g. [\"update-ca-certificates\"]); refused unless pkirun runs with --allow-exec.",
        move |cmd: Array| -> Res<()> { c.exec(&cmd) }
    );
    super::bindings_extra::register(engine, ctx);
    super::bindings_cfssl::register(engine, ctx);
}

impl Ctx {
    fn write_key(&self, path: &str, key: &Key, opts: &Map) -> Res<()> {
        let (w, format) = conv(key_write_opts(opts))?;
        let pem = key.to_pem(format).map_err(at(path))?;
        self.ws.write(path, pem.as_bytes(), w).map_err(rt)
    }

    fn write_pair(&self, kp: &str, key: &Key, cp: &str, cert: &Certificate, opts: &Map) -> Res<()> {
        let (w, format) = conv(key_write_opts(opts))?;
        let key_pem = key.to_pem(format).map_err(at(kp))?;
        let cert_pem = cert.pem();
        let cw = WriteOptions {
            mode: Some(0o644),
            overwrite: w.overwrite,
        };
        self.ws
            .write_all_or_nothing(&[(kp, key_pem.as_bytes(), w), (cp, cert_pem.as_bytes(), cw)])
            .map_err(rt)
    }

    fn write_text(&self, path: &str, text: &str, opts: &Map) -> Res<()> {
        let w = conv(file_write_opts(opts))?;
        self.ws.write(path, text.as_bytes(), w).map_err(rt)
    }

    fn exec(&self, cmd: &Array) -> Res<()> {
        let args = conv(convert::string_list("exec", &Dynamic::from(cmd.clone())))?;
        let Some((prog, rest)) = args.split_first() else {
            return Err(rt("exec: empty command"));
        };
        if !self.allow_exec {
            return Err(rt(format!(
                "running `{}` needs --allow-exec (without it, scripts only print the commands)",
                args.join(" ")
            )));
        }
        let status = std::process::Command::new(prog)
            .args(rest)
            .current_dir(self.ws.root())
            .status()
            .map_err(|e| rt(format!("`{prog}`: cannot run: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(rt(format!("`{}` failed with {status}", args.join(" "))))
        }
    }
}
