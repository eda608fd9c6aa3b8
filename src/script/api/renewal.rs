//! Renewal in bulk: `ca.renew_due(source, #{ renew_within: "30d" })` re-issues every
//! certificate of a directory, a batch manifest or a list of files that this CA signed and that
//! expires within the window, in place, with a line per certificate saying what changed.

use std::time::SystemTime;

use rhai::{Array, Dynamic, Engine, ImmutableString, Map};

use super::FnResult;
use crate::pki::{Ca, Certificate, Key, KeyFormat, PublicKey, Validity, pem};
use crate::script::{Ctx, convert, rt};
use crate::workspace::WriteOptions;

/// Registers `ca.renew_due`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &std::sync::Arc<Ctx>) {
    func!(engine, ctx => c, "renew_due", ["ca: Ca", "source: Dynamic", "opts: Map", "Array"],
        "Renews, in place, every certificate this CA signed that expires within `renew_within`:
        SOURCE is a directory (searched for .crt, .pem, .cert, .cer; other files and other CAs'
        certificates are passed over; so are certificates revoked in the CA's database), a batch
        manifest (.jsonl), a CA database (DIR/index.txt: the files its valid entries name, as
        pkirun records them) or an array of certificate paths (each must be this CA's). A file holding a chain (a fullchain.pem) keeps the rest
        of its chain behind the renewed certificate. Options: #{ renew_within: \"30d\" (required),
        days (default: each certificate's own length), rekey: true (a new key of the same type,
        written over the key found beside the certificate, or the manifest's), clamp_to_ca }.
        A certificate found in several files (node.crt and node.fullchain.pem) is renewed once
        and written to each. Prints a line per renewed certificate; returns one map per renewal:
        #{ path, files, serial, old_serial, not_after, old_not_after, rekeyed }. Certificate, key and database record
        are written together, all or nothing.",
        move |ca: &mut Ca, source: Dynamic, opts: Map| renew_due(&c, ca, &source, &opts));
}

/// A certificate file to consider, and its key file when known (from a manifest).
struct Target {
    path: String,
    key: Option<String>,
    /// From an explicit list or a manifest: a file that is not this CA's is an error.
    named: bool,
}

/// A file to rewrite: where it is, and its PEM blocks as read.
type File = (Target, Vec<pem::PemBlock>);

/// What a bulk renewal does to each certificate.
struct Plan {
    deadline: SystemTime,
    /// Revoked in the CA's database: never renewed (a renewal would bring a revoked
    /// certificate's holder back).
    revoked: Vec<crate::pki::Serial>,
    validity: Option<Validity>,
    rekey: bool,
    clamp: bool,
}

/// `ca.renew_due(source, opts)`.
fn renew_due(ctx: &Ctx, ca: &Ca, source: &Dynamic, opts: &Map) -> FnResult<Array> {
    convert::check_keys(
        "ca.renew_due",
        opts,
        &["renew_within", "days", "rekey", "clamp_to_ca"],
    )?;
    let within = convert::opt_string(opts, "renew_within")?
        .ok_or_else(|| rt("ca.renew_due: `renew_within` is required (e.g. \"30d\")"))?;
    let window = Validity::parse(&within)
        .map_err(|e| rt(format!("`renew_within`: {e}")))?
        .duration();
    let plan = Plan {
        deadline: SystemTime::now() + window,
        revoked: super::revocation::revoked_serials(ctx, ca)?,
        validity: match opts.get("days") {
            Some(v) => Some(
                Validity::days(convert::int("days", v)?).map_err(|e| rt(format!("`days`: {e}")))?,
            ),
            None => None,
        },
        rekey: convert::opt_bool(opts, "rekey")?.unwrap_or(false),
        clamp: convert::opt_bool(opts, "clamp_to_ca")?.unwrap_or(false),
    };
    // One certificate in several files (node.crt and node.fullchain.pem) is renewed once and
    // written to each of them.
    let mut due: Vec<(Certificate, Vec<File>)> = Vec::new();
    for target in targets(ctx, source)? {
        if let Some((cert, blocks)) = examine(ctx, ca, &target, &plan)? {
            match due.iter_mut().find(|(c, _)| c.der() == cert.der()) {
                Some((_, files)) => files.push((target, blocks)),
                None => due.push((cert, vec![(target, blocks)])),
            }
        }
    }
    let mut renewed = Array::new();
    for (cert, files) in &due {
        renewed.push(Dynamic::from_map(renew_one(ctx, ca, cert, files, &plan)?));
    }
    Ok(renewed)
}

/// The certificate files `source` names.
fn targets(ctx: &Ctx, source: &Dynamic) -> FnResult<Vec<Target>> {
    if let Some(list) = source.clone().try_cast::<Array>() {
        return list
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let path = v
                    .try_cast::<ImmutableString>()
                    .ok_or_else(|| rt(format!("ca.renew_due: item {} is not a path", i + 1)))?;
                Ok(Target {
                    path: path.to_string(),
                    key: None,
                    named: true,
                })
            })
            .collect();
    }
    let path = convert::string("source", source).map_err(rt)?;
    if path.ends_with(".jsonl") {
        return manifest_targets(ctx, &path);
    }
    if path.ends_with("index.txt") {
        return index_targets(ctx, &path);
    }
    let mut found = Vec::new();
    walk(ctx, path.trim_end_matches('/'), &mut found, 0)?;
    Ok(found
        .into_iter()
        .map(|path| Target {
            path,
            key: None,
            named: false,
        })
        .collect())
}

/// The certificate and key paths of a batch manifest's lines.
fn manifest_targets(ctx: &Ctx, path: &str) -> FnResult<Vec<Target>> {
    let text = ctx.ws.read(path).map_err(rt)?;
    let text = String::from_utf8_lossy(&text);
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| rt(format!("`{path}` line {}: {e}", i + 1)))?;
        let cert = value["cert"]
            .as_str()
            .ok_or_else(|| rt(format!("`{path}` line {}: no `cert` field", i + 1)))?;
        out.push(Target {
            path: cert.to_string(),
            key: value["key"].as_str().map(str::to_string),
            named: true,
        });
    }
    Ok(out)
}

/// The certificate files a CA database names: its valid entries' file column, which pkirun
/// fills when it records a certificate it writes (openssl ca leaves `unknown` there).
fn index_targets(ctx: &Ctx, path: &str) -> FnResult<Vec<Target>> {
    let text = ctx.ws.read(path).map_err(rt)?;
    let db = crate::pki::Database::from_index(&text, path).map_err(rt)?;
    let valid: Vec<_> = db
        .entries()
        .iter()
        .filter(|e| e.status() == crate::pki::Status::Valid)
        .collect();
    let named: Vec<Target> = valid
        .iter()
        .filter(|e| e.file() != "unknown")
        .map(|e| Target {
            path: e.file().to_string(),
            key: None,
            named: true,
        })
        .collect();
    if named.is_empty() && !valid.is_empty() {
        return Err(rt(format!(
            "`{path}` names no certificate files (its file column says `unknown`, as openssl ca \
             writes it): give the directory or the manifest that holds the certificates"
        )));
    }
    Ok(named)
}

/// Certificate-like files under `dir`, sorted, at most 32 directories deep.
fn walk(ctx: &Ctx, dir: &str, out: &mut Vec<String>, depth: usize) -> FnResult<()> {
    if depth > 32 {
        return Err(rt(format!("ca.renew_due: `{dir}` is nested too deep")));
    }
    for path in ctx.ws.list(dir).map_err(rt)? {
        if ctx.ws.is_dir(&path).map_err(rt)? {
            walk(ctx, &path, out, depth + 1)?;
        } else if [".crt", ".pem", ".cert", ".cer"]
            .iter()
            .any(|ext| path.ends_with(ext))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// The certificate of a file and the file's blocks, when it is this CA's and due; `None` when
/// it is not due, or (in a directory) not this CA's.
fn examine(
    ctx: &Ctx,
    ca: &Ca,
    target: &Target,
    plan: &Plan,
) -> FnResult<Option<(Certificate, Vec<pem::PemBlock>)>> {
    let path = target.path.as_str();
    let bytes = ctx.ws.read(path).map_err(rt)?;
    let blocks = match pem::parse_blocks(&bytes) {
        Ok(blocks) => blocks,
        Err(e) if target.named => return Err(rt(format!("`{path}`: {e}"))),
        Err(_) => return Ok(None),
    };
    let first = blocks.first().filter(|b| b.label == "CERTIFICATE");
    let cert = match first.map(|b| Certificate::from_der(&b.der)) {
        Some(Ok(cert)) => cert,
        Some(Err(e)) if target.named => return Err(rt(format!("`{path}`: {e}"))),
        None if target.named => {
            return Err(rt(format!("`{path}`: no certificate first in the file")));
        }
        _ => return Ok(None),
    };
    let ours = cert.issuer_der().map_err(rt)? == ca.cert().subject_der().map_err(rt)?
        && cert.der() != ca.cert().der()
        && cert.is_signed_by(ca.cert());
    if !ours {
        if target.named {
            return Err(rt(format!(
                "`{path}`: not signed by this CA (issuer {})",
                cert.issuer().map(|n| n.to_string()).unwrap_or_default()
            )));
        }
        return Ok(None);
    }
    if cert.not_after() > plan.deadline {
        return Ok(None);
    }
    if plan
        .revoked
        .contains(&crate::pki::Serial::from_bytes(cert.serial()))
    {
        if !ctx.quiet {
            println!(
                "not renewed `{path}`: serial {} is revoked",
                cert.serial_hex()
            );
        }
        return Ok(None);
    }
    Ok(Some((cert, blocks)))
}

/// Renews `cert` and writes it to every file that held it (each keeping the rest of its
/// blocks), with its new key and database record: all or nothing.
fn renew_one(ctx: &Ctx, ca: &Ca, cert: &Certificate, files: &[File], plan: &Plan) -> FnResult<Map> {
    let path = files[0].0.path.as_str();
    let manifest_key = files.iter().find_map(|(t, _)| t.key.as_deref());
    let key_file = if plan.rekey {
        Some(key_beside(ctx, path, manifest_key, cert)?)
    } else {
        None
    };
    let new_key = match &key_file {
        Some(_) => {
            let spki = cert.public_key_der().map_err(rt)?;
            let spec = PublicKey::from_spki_der(&spki).map_err(rt)?.spec();
            Some(ctx.new_key(spec)?)
        }
        None => None,
    };
    let signed = ca
        .renew(
            cert,
            plan.validity,
            new_key.as_ref().map(Key::public_key_der),
            plan.clamp,
        )
        .map_err(|e| rt(format!("`{path}`: {e}")))?;
    ctx.notes.add(&signed.cert, &signed.notes);
    // The renewed certificate, then whatever followed it in each file (a chain), as it was.
    let texts: Vec<String> = files
        .iter()
        .map(|(_, blocks)| {
            let mut text = signed.cert.pem();
            for block in &blocks[1..] {
                text.push_str(&pem::encode(&block.label, &block.der));
            }
            text
        })
        .collect();
    let replace = |mode| WriteOptions {
        mode: Some(mode),
        overwrite: true,
    };
    let key_text = match (&key_file, &new_key) {
        (Some((key_path, format, encrypted)), Some(key)) => Some(super::keys::key_text(
            ctx, key_path, key, *format, *encrypted,
        )?),
        _ => None,
    };
    let records = super::revocation::records_for(ctx, &[(&signed.cert, path)])?;
    let mut group: Vec<_> = files
        .iter()
        .zip(&texts)
        .map(|((t, _), text)| (t.path.as_str(), text.as_bytes(), replace(0o644)))
        .collect();
    if let (Some((key_path, ..)), Some(key_text)) = (&key_file, &key_text) {
        group.push((key_path.as_str(), key_text.as_bytes(), replace(0o400)));
    }
    group.extend(
        records
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_bytes(), replace(0o644))),
    );
    ctx.ws.write_all_or_nothing(&group).map_err(rt)?;

    let date = |t| crate::pki::rfc3339(t);
    if !ctx.quiet {
        let paths: Vec<String> = files.iter().map(|(t, _)| format!("`{}`", t.path)).collect();
        println!(
            "renewed {}: notAfter {} -> {}, serial {} -> {}, {}{}",
            paths.join(", "),
            date(cert.not_after()),
            date(signed.cert.not_after()),
            cert.serial_hex(),
            signed.cert.serial_hex(),
            match &key_file {
                Some((key_path, ..)) => format!("new key in `{key_path}`"),
                None => "key kept".to_string(),
            },
            if signed.cert.not_after() <= plan.deadline {
                " (still within renew_within: give a longer `days`)"
            } else {
                ""
            }
        );
    }
    let mut done = Map::new();
    done.insert("path".into(), path.into());
    done.insert(
        "files".into(),
        files
            .iter()
            .map(|(t, _)| Dynamic::from(t.path.clone()))
            .collect::<Array>()
            .into(),
    );
    done.insert("serial".into(), signed.cert.serial_hex().into());
    done.insert("old_serial".into(), cert.serial_hex().into());
    done.insert("not_after".into(), date(signed.cert.not_after()).into());
    done.insert("old_not_after".into(), date(cert.not_after()).into());
    done.insert("rekeyed".into(), key_file.is_some().into());
    Ok(done)
}

/// The key file of the certificate at `path` for a rekey: the manifest's, else `<stem>.key`
/// or `<stem>-key.pem` beside it, whichever holds the certificate's key; with the format to
/// write the new key in and whether the old one was encrypted.
fn key_beside(
    ctx: &Ctx,
    path: &str,
    named: Option<&str>,
    cert: &Certificate,
) -> FnResult<(String, KeyFormat, bool)> {
    let stem = path
        .rsplit_once('.')
        .map_or(path, |(stem, _)| stem)
        .to_string();
    let candidates: Vec<String> = match named {
        Some(k) => vec![k.to_string()],
        None => vec![format!("{stem}.key"), format!("{stem}-key.pem")],
    };
    let spki = cert.public_key_der().map_err(rt)?;
    for candidate in &candidates {
        if !ctx.ws.exists(candidate).map_err(rt)? {
            continue;
        }
        let key = super::keys::read_key(ctx, candidate)?;
        if key.public_key_der() != spki.as_slice() {
            continue;
        }
        let text = ctx.ws.read(candidate).map_err(rt)?;
        let text = String::from_utf8_lossy(&text);
        let format = if text.contains("BEGIN RSA PRIVATE KEY") {
            KeyFormat::Pkcs1
        } else if text.contains("BEGIN EC PRIVATE KEY") {
            KeyFormat::Sec1
        } else {
            KeyFormat::Pkcs8
        };
        let encrypted = text.contains("ENCRYPTED");
        let format = if encrypted { KeyFormat::Pkcs8 } else { format };
        return Ok((candidate.clone(), format, encrypted));
    }
    Err(rt(format!(
        "`{path}`: rekey needs the certificate's key, and none of {} holds it",
        candidates
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
