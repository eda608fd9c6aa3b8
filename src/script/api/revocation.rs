//! Revocation: a CA's issuance database in a directory laid out as `openssl ca` and easy-rsa
//! keep it (`index.txt`, `index.txt.attr`, `crlnumber`), certificates recorded in it and revoked
//! from it, and the CRLs made from it. The directory is named in every call, as `dir` is in an
//! openssl `[ CA_default ]` section: `ca.record("ca", cert)`, `ca.revoke("ca", cert, "keyCompromise")`,
//! `ca.crl("ca", #{ days: 30 })`. With `ca.use_database("ca")` every certificate the CA signs
//! is recorded when it is written, in the same all-or-nothing write as its file.

use std::sync::Arc;
use std::time::SystemTime;

use rhai::{Dynamic, Engine, Map};

use super::FnResult;
use crate::pki::ca_dir::CaDir;
use crate::pki::{Ca, Certificate, Crl, CrlParams, Database, Entry, Reason, Serial};
use crate::script::convert;
use crate::script::{Ctx, rt};
use crate::workspace::WriteOptions;

/// Registers `record`, `revoke`, `crl`, `write_crl`, `load_crl` and the CRL getters.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    engine.register_type_with_name::<Crl>("Crl");
    func!(engine, ctx => c, "record", ["ca: Ca", "dir: &str", "cert: Cert", "()"],
        "Records a certificate the CA issued in DIR/index.txt (made if absent, with
        unique_subject = no as easy-rsa keeps it), in the format openssl ca reads and writes.",
        move |ca: Ca, dir: &str, cert: Certificate| record(&c, &ca, dir, &cert));
    func!(engine, ctx => c, "use_database", ["ca: Ca", "dir: &str", "()"],
        "From now on, every certificate this CA signed is recorded in DIR/index.txt (with
        DIR/index.txt.attr and DIR/serial, the next serial, as openssl ca keeps them) when it is
        written by write_cert, write_pair, write_certs or a batch, together with its file: both or
        neither. A certificate already recorded is not recorded twice; one a re-run keeps
        without writing it is recorded only if missing from the database when it is written.",
        move |ca: Ca, dir: &str| use_database(&c, &ca, dir));
    func!(engine, ctx => c, "revoke", ["ca: Ca", "dir: &str", "cert_or_serial: Dynamic", "reason: &str", "()"],
        "Marks a certificate (or a hex serial) revoked in DIR/index.txt with an RFC 5280 reason:
        unspecified, keyCompromise, CACompromise, affiliationChanged, superseded,
        cessationOfOperation, certificateHold, removeFromCRL. A serial the database does not
        hold, or one already revoked, is refused.",
        move |ca: Ca, dir: &str, what: Dynamic, reason: &str| revoke(&c, &ca, &CaDir::plain(dir), &what, reason));
    func!(engine, ctx => c, "revoke", ["ca: Ca", "cert_or_serial: Dynamic", "reason: &str", "()"],
        "Revokes in the CA's own records: those of a CA loaded from its directory (load_ca of an
        openssl ca configuration or an easy-rsa pki/) or given one with use_database.",
        move |ca: Ca, what: Dynamic, reason: &str| {
            let files = own_records(&c, &ca, "revoke")?;
            revoke(&c, &ca, &files, &what, reason)
        });
    func!(engine, ctx => c, "crl", ["ca: Ca", "dir: &str", "opts: Map", "Crl"],
        "Makes a v2 CRL of every certificate revoked in DIR/index.txt, signed by the CA:
        #{ days: 30 } or #{ hours: 12 } until nextUpdate; the CRL number comes from DIR/crlnumber,
        which is advanced (as openssl ca -gencrl does).",
        move |ca: Ca, dir: &str, opts: Map| crl(&c, &ca, &CaDir::plain(dir), &opts));
    func!(engine, ctx => c, "crl", ["ca: Ca", "opts: Map", "Crl"],
        "Makes a CRL from the CA's own records (a CA loaded from its directory, or given one with
        use_database), numbered from its crlnumber file, which is advanced.",
        move |ca: Ca, opts: Map| {
            let files = own_records(&c, &ca, "crl")?;
            crl(&c, &ca, &files, &opts)
        });
    func!(engine, ctx => c, "write_crl", ["path: &str", "crl: Crl", "()"],
        "Writes a CRL as PEM (X509 CRL, mode 0644), replacing the previous one atomically.",
        move |path: &str, crl: Crl| {
            c.ws.write(path, crl.pem().as_bytes(), WriteOptions { mode: Some(0o644), overwrite: true })
                .map_err(rt)
        });
    func!(engine, ctx => c, "load_crl", ["path: &str", "Crl"],
        "Loads a CRL (PEM or DER).",
        move |path: &str| load_crl(&c, path));
    prop!(engine, "revoked", ["crl: Crl", "Array"],
        "The serials the CRL lists, uppercase hex, in its order.",
        |crl: &mut Crl| -> FnResult<rhai::Array> {
        Ok(crl.revoked().map_err(rt)?.into_iter().map(|r| Dynamic::from(r.serial.to_hex())).collect())
    });
    func!(engine, "expires_within", ["crl: Crl", "window: &str", "bool"],
        "True when the CRL's nextUpdate is within WINDOW from now (\"7d\", \"12h\"), or past, or
        absent: time to publish a new one before verifiers (nginx ssl_crl) refuse every client.",
        |crl: &mut Crl, window: &str| crl_expires_within(crl, window));
    prop!(engine, "number", ["crl: Crl", "String"],
        "The CRL number, uppercase hex; empty when the CRL has none.",
        |crl: &mut Crl| -> FnResult<String> {
        Ok(crl.number().map_err(rt)?.map(|n| n.to_hex()).unwrap_or_default())
    });
}

/// Reads index.txt (and its `.attr`), or a new database when there is none yet.
pub(crate) fn load_database(ctx: &Ctx, files: &CaDir) -> FnResult<Database> {
    if !ctx.ws.exists(&files.database).map_err(rt)? {
        return Ok(Database::new());
    }
    let text = ctx.ws.read(&files.database).map_err(rt)?;
    let mut db = Database::from_index(&text, &files.database).map_err(rt)?;
    if let Some(unique) = files.unique_subject {
        db.set_unique_subject(unique); // the configuration's, unless index.txt.attr says
    }
    if ctx.ws.exists(&files.attr).map_err(rt)? {
        let attr = ctx.ws.read(&files.attr).map_err(rt)?;
        db.read_attr(&attr, &files.attr).map_err(rt)?;
    }
    Ok(db)
}

/// Writes index.txt and its `.attr` together, all or nothing.
fn save_database(ctx: &Ctx, files: &CaDir, db: &Database) -> FnResult<()> {
    let replace = WriteOptions {
        mode: Some(0o644),
        overwrite: true,
    };
    let (index, attr) = (db.index_text(), db.attr_text());
    ctx.ws
        .write_all_or_nothing(&[
            (files.database.as_str(), index.as_bytes(), replace),
            (files.attr.as_str(), attr.as_bytes(), replace),
        ])
        .map_err(rt)
}

/// Refuses a certificate the CA did not issue (its issuer is not the CA's subject).
fn issued_by(ca: &Ca, cert: &Certificate) -> FnResult<()> {
    let (issuer, subject) = (
        cert.issuer_der().map_err(rt)?,
        ca.cert().subject_der().map_err(rt)?,
    );
    if issuer != subject {
        return Err(rt(format!(
            "certificate {} was not issued by this CA (its issuer is not the CA's subject)",
            cert.serial_hex()
        )));
    }
    Ok(())
}

/// `ca.record(dir, cert)`.
fn record(ctx: &Ctx, ca: &Ca, dir: &str, cert: &Certificate) -> FnResult<()> {
    issued_by(ca, cert)?;
    let files = CaDir::plain(dir);
    let mut db = load_database(ctx, &files)?;
    db.record(cert)
        .map_err(|e| rt(format!("`{}`: {e}", files.database)))?;
    save_database(ctx, &files, &db)
}

/// `ca.use_database(dir)`: reads the database now (a damaged one is refused before anything is
/// signed) and remembers the CA and the directory for the run.
fn use_database(ctx: &Ctx, ca: &Ca, dir: &str) -> FnResult<()> {
    bind(ctx, ca, CaDir::plain(dir))
}

/// Binds `ca` to the records in `files` for the run, after reading them once (a damaged
/// database is refused before anything is signed).
pub(crate) fn bind(ctx: &Ctx, ca: &Ca, files: CaDir) -> FnResult<()> {
    load_database(ctx, &files)?;
    remember(ctx, ca, files)
}

/// Binds `ca` to the records in `files` whose database the caller has read already.
pub(crate) fn remember(ctx: &Ctx, ca: &Ca, files: CaDir) -> FnResult<()> {
    let mut databases = ctx
        .databases
        .lock()
        .map_err(|_| rt("the run's database list is unusable"))?;
    databases.retain(|(cert, _)| cert.der() != ca.cert().der());
    databases.push((ca.cert().clone(), files));
    Ok(())
}

/// The records this CA was bound to (`use_database`, or `load_ca` of a CA directory), if any.
pub(crate) fn database_of(ctx: &Ctx, ca: &Ca) -> FnResult<Option<CaDir>> {
    let databases = ctx
        .databases
        .lock()
        .map_err(|_| rt("the run's database list is unusable"))?;
    Ok(databases
        .iter()
        .find(|(cert, _)| cert.der() == ca.cert().der())
        .map(|(_, files)| files.clone()))
}

/// The serials revoked in the database of this CA (`use_database`); empty without one.
pub(crate) fn revoked_serials(ctx: &Ctx, ca: &Ca) -> FnResult<Vec<Serial>> {
    let Some(files) = database_of(ctx, ca)? else {
        return Ok(Vec::new());
    };
    let db = load_database(ctx, &files)?;
    Ok(db.revoked().map(|e| e.serial().clone()).collect())
}

/// The database files to write together with `certs`: for every CA given a database with
/// `use_database` that signed some of them, its index.txt (and .attr, and serial) with those
/// not yet recorded added. Empty when there is nothing to record.
///
/// # Errors
/// An unreadable or damaged database, or a certificate it cannot take (a serial it holds for
/// another certificate, a subject already valid under `unique_subject = yes`).
pub(crate) fn records_for(
    ctx: &Ctx,
    certs: &[(&Certificate, &str)],
) -> FnResult<Vec<(String, String)>> {
    let databases = ctx
        .databases
        .lock()
        .map_err(|_| rt("the run's database list is unusable"))?
        .clone();
    let mut files_out = Vec::new();
    for (ca_cert, files) in &databases {
        let ca_subject = ca_cert.subject_der().map_err(rt)?;
        let signed: Vec<&(&Certificate, &str)> = certs
            .iter()
            // Not the CA itself (a chain file ending with the root): openssl ca and easy-rsa
            // keep a CA out of its own database.
            .filter(|(c, _)| c.der() != ca_cert.der())
            .filter(|(c, _)| {
                c.issuer_der().is_ok_and(|i| i == ca_subject) && c.is_signed_by(ca_cert)
            })
            .collect();
        if signed.is_empty() {
            continue;
        }
        let mut db = load_database(ctx, files)?;
        let mut last = None;
        let mut copies = Vec::new();
        for (cert, path) in signed {
            let serial = Serial::from_bytes(cert.serial());
            if db.get(&serial).is_some() {
                continue;
            }
            let entry = Entry::of_certificate(cert)
                .map_err(|e| rt(format!("`{}`: {e}", files.database)))?
                .with_file(path);
            db.record_entry(entry)
                .map_err(|e| rt(format!("`{}`: {e}", files.database)))?;
            if let Some(copy) = files.copy_path(&serial.to_hex()) {
                copies.push((copy, cert.pem()));
            }
            last = Some(serial);
        }
        let Some(last) = last else { continue };
        let next = crate::batch::next_serial_after(&ctx.ws, &files.serial, &last).map_err(rt)?;
        files_out.push((files.database.clone(), db.index_text()));
        files_out.push((files.attr.clone(), db.attr_text()));
        files_out.push((files.serial.clone(), next.file_text()));
        files_out.extend(copies);
    }
    Ok(files_out)
}

/// `ca.revoke(dir, cert_or_serial, reason)`, or `ca.revoke(cert_or_serial, reason)` on the
/// CA's own records.
fn revoke(ctx: &Ctx, ca: &Ca, files: &CaDir, what: &Dynamic, reason: &str) -> FnResult<()> {
    let serial = if let Some(cert) = what.clone().try_cast::<Certificate>() {
        issued_by(ca, &cert)?;
        Serial::from_bytes(cert.serial())
    } else {
        let text = convert::string("serial", what).map_err(rt)?;
        Serial::parse_hex(&text).map_err(rt)?
    };
    let reason = Reason::parse(reason).ok_or_else(|| {
        rt(format!(
            "revoke: unknown reason `{reason}` (unspecified, keyCompromise, CACompromise, \
             affiliationChanged, superseded, cessationOfOperation, certificateHold, removeFromCRL)"
        ))
    })?;
    let mut db = load_database(ctx, files)?;
    db.revoke(&serial, Some(reason), SystemTime::now())
        .map_err(|e| rt(format!("`{}`: {e}", files.database)))?;
    save_database(ctx, files, &db)
}

/// The records `ca` was bound to, for the calls that name no directory.
fn own_records(ctx: &Ctx, ca: &Ca, call: &str) -> FnResult<CaDir> {
    database_of(ctx, ca)?.ok_or_else(|| {
        rt(format!(
            "{call}: this CA keeps no records; load it from its directory (load_ca(\"ca.cnf\") or \
             load_ca(\"pki\")), call ca.use_database(dir) first, or name the directory"
        ))
    })
}

/// `ca.crl(dir, #{ days, hours })`, or `ca.crl(#{ .. })` on the CA's own records.
fn crl(ctx: &Ctx, ca: &Ca, files: &CaDir, opts: &Map) -> FnResult<Crl> {
    convert::check_keys("crl", opts, &["days", "hours"]).map_err(rt)?;
    let days = convert::opt_int(opts, "days").map_err(rt)?;
    let hours = convert::opt_int(opts, "hours").map_err(rt)?;
    let (days, hours) = match (days, hours) {
        (None, None) => (30, 0),
        (d, h) => (d.unwrap_or(0), h.unwrap_or(0)),
    };
    let days = u64::try_from(days).map_err(|_| rt("crl: `days` must not be negative"))?;
    let hours = u64::try_from(hours).map_err(|_| rt("crl: `hours` must not be negative"))?;
    let crlnumber = files.crlnumber.as_deref().ok_or_else(|| {
        rt("crl: the CA's configuration names no `crlnumber` file; pkirun's CRLs are numbered")
    })?;
    let db = load_database(ctx, files)?;
    let number = if ctx.ws.exists(crlnumber).map_err(rt)? {
        let text = ctx.ws.read(crlnumber).map_err(rt)?;
        Serial::parse_file(&text, crlnumber).map_err(rt)?
    } else {
        Serial::from_bytes(&[1])
    };
    let crl = Crl::from_database(ca, &db, &CrlParams::new(days, hours, number.clone()))
        .map_err(|e| rt(format!("`{}`: {e}", files.database)))?;
    ctx.ws
        .write(
            crlnumber,
            number.next().file_text().as_bytes(),
            WriteOptions {
                mode: Some(0o644),
                overwrite: true,
            },
        )
        .map_err(rt)?;
    Ok(crl)
}

/// `crl.expires_within(window)`.
fn crl_expires_within(crl: &Crl, window: &str) -> FnResult<bool> {
    let window = crate::pki::Validity::parse(window)
        .map_err(|e| rt(format!("expires_within: {e}")))?
        .duration();
    Ok(crl
        .next_update()
        .is_none_or(|next| next <= SystemTime::now() + window))
}

/// `load_crl(path)`.
fn load_crl(ctx: &Ctx, path: &str) -> FnResult<Crl> {
    let bytes = ctx.ws.read(path).map_err(rt)?;
    let parsed = if bytes.first() == Some(&0x30) {
        Crl::from_der(&bytes)
    } else {
        Crl::from_pem(&bytes)
    };
    parsed.map_err(|e| rt(format!("`{path}`: {e}")))
}
