//! CAs: make or load a certificate authority, and sign or issue under it.

use std::sync::Arc;

use rhai::{Dynamic, Engine, Map};

use super::{FnResult, at};
use crate::pki::ca_dir::CaDir;
use crate::pki::{Ca, Certificate, Csr, Database, Key, KeySpec, Profile, Serial};
use crate::script::convert::{self, PROFILE_KEYS};
use crate::script::{Ctx, rt};

/// Registers `new_ca`, `load_ca`, `ca.sign`, `ca.issue` and the `cert` and `key` getters.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, "new_ca", ["key: Key", "opts: Map", "Ca"],
        "Makes a self-signed CA certificate for `key`.
        Options: #{ subject: .., days: 365, key_usage: [\"critical\", \"keyCertSign\", ..],
        basic_constraints: \"critical,CA:true,pathlen:1\" }. Defaults: the `ca` profile, 365 days.",
        new_ca);
    func!(engine, ctx => c, "load_ca", ["cert_path: &str", "key_path: &str", "Ca"],
        "Loads an existing CA from its certificate and key; refuses a key that does not match.",
        move |cert_path: &str, key_path: &str| load_ca(&c, cert_path, key_path));
    func!(engine, ctx => c, "load_ca", ["path: &str", "Ca"],
        "Continues an existing CA from its directory: an openssl ca configuration file (its
        [ ca ] default_ca section names certificate, private_key, database, serial, new_certs_dir,
        crlnumber) or an easy-rsa 3 pki/ directory. What the CA signs and write_cert/write_pair
        write is recorded in that index.txt with a copy in new_certs_dir (pki/certs_by_serial),
        so openssl ca and easyrsa can go on with the directory; an openssl ca CA numbers its
        certificates from its serial file, as openssl ca does (easy-rsa's are random, as easyrsa
        3 makes them). ca.revoke(cert, reason) and ca.crl(opts) then use the same records.",
        move |path: &str| load_ca_dir(&c, path));
    func!(engine, ctx => c, "load_ca", ["cert_path: &str", "key_path: &str", "opts: Map", "Ca"],
        "Loads an existing CA restricted to names: #{ allowed_names: [\"*.db.internal\", \"10.0.0.0/16\"] }.
        Every certificate it signs must stay within them (and within each call's `allowed_names`).",
        move |cert_path: &str, key_path: &str, opts: Map| load_ca_within(&c, cert_path, key_path, &opts));
    func!(engine, "load_ca", ["cert: Cert", "key: Key", "Ca"],
        "A CA from a certificate and key already in hand (an intermediate just signed);
        refuses a key that does not match or a certificate that is not a CA.",
        |cert: Certificate, key: Key| Ca::load(cert, key).map_err(rt));
    func!(engine, ctx => c, "sign", ["ca: Ca", "csr: Csr", "opts: Map", "Cert"],
        "Signs a CSR under a profile, like `openssl ca` or `cfssl sign`.
        Options: #{ profile: \"server\",
        days: 365, key_usage: [..], ext_key_usage: [..], usages: [cfssl names], copy_extensions:
        \"copy\", policy: #{ O: \"supplied\", CN: \"optional\" }, authority_key_id: \"keyid,issuer:always\",
        digest: \"sha256\" (openssl's default_md: refused when the CA's key signs with another),
        crl_distribution_points: [\"http://..\"], ocsp: [\"http://..\"], ca_issuers: [\"http://..\"] }.",
        move |ca: &mut Ca, csr: Csr, opts: Map| sign(&c, ca, &csr, &opts));
    func!(engine, ctx => c, "issue", ["ca: Ca", "opts: Map", "Map"],
        "Generates a key and its certificate in one step, like `cfssl gencert`.
        Options: #{ key: \"ecdsa:384\",
        subject: .., san: [..], profile: \"peer\", ... }. Returns #{ key: Key, cert: Cert }.",
        move |ca: &mut Ca, opts: Map| issue(&c, ca, &opts));
    func!(engine, ctx => c, "renew", ["ca: Ca", "cert: Cert", "opts: Map", "Map"],
        "Re-issues a certificate this CA signed: same subject, every SAN and every extension (custom
        ones too), new serial and validity, key identifiers anew. Options: #{ days: 365 (default: its
        own length), rekey: true (a new key of the same type, returned as `key`), clamp_to_ca: true }.
        Refused when it would outlive the CA (unless clamp_to_ca). Returns #{ cert, key (with rekey) }.",
        move |ca: &mut Ca, cert: Certificate, opts: Map| renew(&c, ca, &cert, &opts));
    super::renewal::register(engine, ctx);
    prop!(engine, "cert", ["ca: Ca", "Cert"],
        "The CA's certificate.",
        |ca: &mut Ca| ca.cert().clone());
    prop!(engine, "key", ["ca: Ca", "Key"],
        "The CA's private key.",
        |ca: &mut Ca| ca.key().clone());
}

/// `new_ca(key, opts)`: the `ca` profile overridden by the options; a subject is required.
fn new_ca(key: Key, opts: Map) -> FnResult<Ca> {
    let mut known = PROFILE_KEYS.to_vec();
    known.push("subject");
    convert::check_keys("new_ca", &opts, &known)?;
    let subject = convert::subject(opts.get("subject").unwrap_or(&Dynamic::UNIT))?;
    if subject.is_empty() {
        return Err(rt(
            "new_ca: `subject` is required (e.g. #{ CN: \"My CA\" })",
        ));
    }
    let profile = convert::profile(&opts, Profile::named("ca").map_err(rt)?)?;
    Ca::self_signed(key, &subject, &profile).map_err(rt)
}

/// `load_ca(cert_path, key_path, #{ allowed_names })`: a CA that signs only within the names.
fn load_ca_within(ctx: &Ctx, cert_path: &str, key_path: &str, opts: &Map) -> FnResult<Ca> {
    convert::check_keys("load_ca", opts, &["allowed_names"])?;
    let names = match opts.get("allowed_names") {
        Some(v) => convert::allowed_names(v)?,
        None => crate::pki::NamePolicy::default(),
    };
    Ok(load_ca(ctx, cert_path, key_path)?.with_allowed_names(names))
}

/// `load_ca(cert_path, key_path)`: refuses a key that does not match the certificate.
fn load_ca(ctx: &Ctx, cert_path: &str, key_path: &str) -> FnResult<Ca> {
    let cert =
        Certificate::from_pem(&ctx.ws.read(cert_path).map_err(rt)?).map_err(at(cert_path))?;
    let key = super::keys::read_key(ctx, key_path)?;
    Ca::load(cert, key).map_err(|e| rt(format!("`{cert_path}` + `{key_path}`: {e}")))
}

/// `load_ca(path)`: an openssl ca configuration or an easy-rsa `pki/`, bound to its records.
fn load_ca_dir(ctx: &Ctx, path: &str) -> FnResult<Ca> {
    let files = if ctx.ws.is_dir(path).map_err(rt)? {
        let files = CaDir::easyrsa(path);
        if !ctx.ws.exists(&files.database).map_err(rt)? {
            return Err(rt(format!(
                "load_ca: `{path}` is a directory without index.txt: not an easy-rsa pki/ with a \
                 CA (easyrsa init-pki and build-ca make one); for openssl ca, name its \
                 configuration file"
            )));
        }
        files
    } else {
        let cnf = super::openssl_cnf::openssl_cnf(ctx, path)?;
        let settings = cnf.ca(None).map_err(rt)?;
        CaDir::openssl(&settings).map_err(|e| rt(format!("`{path}`: {e}")))?
    };
    let (Some(cert), Some(key)) = (&files.certificate, &files.private_key) else {
        return Err(rt("load_ca: the layout names no certificate or key"));
    };
    let mut ca = load_ca(ctx, cert, key)?;
    // Read once: refused here when damaged, and what sequence numbering goes on from.
    let db = super::revocation::load_database(ctx, &files)?;
    if files.numbers_in_sequence() {
        let text = ctx.ws.read(&files.serial).map_err(|e| {
            rt(format!(
                "load_ca: {e} (openssl ca needs it too: echo 01 > {})",
                files.serial
            ))
        })?;
        let said = Serial::parse_file(&text, &files.serial).map_err(rt)?;
        let next = next_unrecorded(&db, &files, said);
        ca = ca
            .numbered_from(next)
            .map_err(|e| rt(format!("`{}`: {e}", files.serial)))?;
    }
    super::revocation::remember(ctx, &ca, files)?;
    Ok(ca)
}

/// The serial a CA that numbers in sequence takes next: what its `serial` file says, or the
/// one after the highest its database records when that is further on. A run stopped before it
/// wrote `serial` leaves the file behind the database; numbering from the file would give a
/// second certificate a serial already issued.
fn next_unrecorded(db: &Database, files: &CaDir, said: Serial) -> Serial {
    let Some(highest) = db.highest_serial() else {
        return said;
    };
    let after = highest.next();
    if after <= said {
        return said;
    }
    eprintln!(
        "warning: `{}` says {said} but `{}` records serials up to {highest}: numbering from \
         {after} (a run that stopped before it wrote `{}` leaves it behind)",
        files.serial, files.database, files.serial
    );
    after
}

/// `ca.sign(csr, opts)`; its notes are printed when the run succeeds.
fn sign(ctx: &Ctx, ca: &mut Ca, csr: &Csr, opts: &Map) -> FnResult<Certificate> {
    convert::check_keys("ca.sign", opts, PROFILE_KEYS)?;
    let profile = convert::profile(opts, Profile::default())?;
    let signed = ca.sign(csr, &profile).map_err(rt)?;
    ctx.notes.add(&signed.cert, &signed.notes);
    Ok(signed.cert)
}

/// `ca.renew(cert, opts)`.
fn renew(ctx: &Ctx, ca: &Ca, cert: &Certificate, opts: &Map) -> FnResult<Map> {
    convert::check_keys("ca.renew", opts, &["days", "rekey", "clamp_to_ca"])?;
    let validity = match opts.get("days") {
        Some(v) => Some(
            crate::pki::Validity::days(convert::int("days", v)?)
                .map_err(|e| rt(format!("`days`: {e}")))?,
        ),
        None => None,
    };
    let rekey = convert::opt_bool(opts, "rekey")?.unwrap_or(false);
    let clamp = convert::opt_bool(opts, "clamp_to_ca")?.unwrap_or(false);
    let mut out = Map::new();
    let new_key = if rekey {
        let spki = cert.public_key_der().map_err(rt)?;
        let spec = crate::pki::PublicKey::from_spki_der(&spki)
            .map_err(rt)?
            .spec();
        Some(ctx.new_key(spec)?)
    } else {
        None
    };
    let signed = ca
        .renew(
            cert,
            validity,
            new_key.as_ref().map(Key::public_key_der),
            clamp,
        )
        .map_err(rt)?;
    ctx.notes.add(&signed.cert, &signed.notes);
    out.insert("cert".into(), Dynamic::from(signed.cert));
    if let Some(key) = new_key {
        out.insert("key".into(), Dynamic::from(key));
    }
    Ok(out)
}

/// `ca.issue(opts)`: a new key (default RSA 2048) and its certificate, as `#{ key, cert }`.
fn issue(ctx: &Ctx, ca: &mut Ca, opts: &Map) -> FnResult<Map> {
    let mut known = PROFILE_KEYS.to_vec();
    known.extend(["subject", "san", "key"]);
    convert::check_keys("ca.issue", opts, &known)?;
    let spec = match opts.get("key") {
        Some(v) => KeySpec::parse(&v.to_string()).map_err(|e| rt(format!("`key`: {e}")))?,
        None => KeySpec::Rsa(2048),
    };
    let subject = convert::subject(opts.get("subject").unwrap_or(&Dynamic::UNIT))?;
    let sans = match opts.get("san") {
        Some(v) => convert::sans("san", v)?,
        None => Vec::new(),
    };
    let profile = convert::profile(opts, Profile::default())?;
    let (key, signed) = ca.issue(spec, &subject, &sans, &profile).map_err(rt)?;
    ctx.notes.add(&signed.cert, &signed.notes);
    let cert = signed.cert;
    let mut out = Map::new();
    out.insert("key".into(), Dynamic::from(key));
    out.insert("cert".into(), Dynamic::from(cert));
    Ok(out)
}
