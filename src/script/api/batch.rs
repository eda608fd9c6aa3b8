//! Bulk issuance: `ca.issue_batch` and `ca.sign_batch`. A call's options map is turned into
//! one typed [`IssueOptions`] or [`SignOptions`] here, once, and handed to [`crate::batch`]
//! whole; a progress bar on a terminal, a one-line summary on stderr.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, ImmutableString, Map};

use super::FnResult;
use super::write_options::{key_format_option, mode_option};
use crate::batch::{
    self, Batch, BatchOptions, CsrSource, IssueOptions, Layout, RawSpec, SignOptions, SpecSource,
    Summary,
};
use crate::pki::{Ca, KeySpec, Profile};
use crate::script::convert::{self, ConvResult, PROFILE_KEYS};
use crate::script::progress::Bar;
use crate::script::{Ctx, rt};

/// The options `ca.issue_batch` takes besides the signing options.
const ISSUE_KEYS: &[&str] = &[
    "key", "out", "style", "cert", "key_out", "manifest", "mode", "format", "profiles",
];

/// The options `ca.sign_batch` takes besides the signing options.
const SIGN_KEYS: &[&str] = &["out", "manifest", "report"];

/// The profiles every issue batch can name, before the call's own `profiles`.
const BUILT_IN_PROFILES: [&str; 4] = ["server", "client", "peer", "ca"];

/// Registers `issue_batch` and `sign_batch`.
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    func!(
        engine,
        "issue_batch",
        ["ca: Ca", "specs: Dynamic", "opts: Map", "Map"],
        "Issues a key and certificate for every spec, in parallel, resumably.
            Returns #{ issued, skipped, seconds }. `specs` is an array of maps (#{ name, subject or cn/o/ou, san, key, profile }) or the path of
            an inventory file (.csv with a header row, .jsonl, .json). Options: key (\"ecdsa:384\"),
            out (\"certs/{name}\"), style (\"cfssl\": .pem/-key.pem, or \"openssl\": .crt/.key), cert and
            key_out (full templates), manifest (JSON lines), mode (0o400), format, profiles
            (#{ name: #{ options } }) and every signing option. Existing outputs are kept.",
        move |ca: &mut Ca, specs: Dynamic, opts: Map| issue_batch(&c, ca, specs, &opts)
    );
    let c = ctx.clone();
    func!(
        engine,
        "sign_batch",
        ["ca: Ca", "csrs: Dynamic", "opts: Map", "Map"],
        "Signs every CSR in a directory (or a list of paths) under a profile, in parallel.
            Refuses CSRs with a bad signature, asking for CA:TRUE or usages the profile lacks, or with
            SANs outside `allowed_names` (#{ allowed_names: [\"*.db.internal\", \"10.0.0.0/8\"] }); the
            refused are listed in `report` (JSON lines) and the call fails after signing the rest.
            Options: out (\"signed/{name}.pem\"), manifest, and every signing option.",
        move |ca: &mut Ca, csrs: Dynamic, opts: Map| sign_batch(&c, ca, csrs, &opts)
    );
}

/// `ca.issue_batch(specs, opts)`.
fn issue_batch(ctx: &Ctx, ca: &Ca, specs: Dynamic, opts: &Map) -> FnResult<Map> {
    let mut options = issue_options(ctx, opts)?;
    options.run.database = super::revocation::database_of(ctx, ca)?;
    let specs = spec_source(specs)?;
    let bar = Bar::new(ctx.quiet);
    if ctx.ws.is_dry_run() {
        let planned = batch::plan_issue_batch(&run(ctx, ca, &bar), specs, &options).map_err(rt)?;
        return Ok(planned_map(&planned));
    }
    let summary = batch::issue_batch(&run(ctx, ca, &bar), specs, &options).map_err(batch_error)?;
    report(ctx, "issued", &summary);
    Ok(summary_map(&summary))
}

/// A dry run's batch result, shaped as a real one's: nothing issued, the planned count as
/// `planned`, the existing outputs as `skipped`.
fn planned_map(planned: &batch::Planned) -> Map {
    let mut map = Map::new();
    map.insert("issued".into(), Dynamic::from(0_i64));
    map.insert(
        "planned".into(),
        Dynamic::from(i64::try_from(planned.issue).unwrap_or(i64::MAX)),
    );
    map.insert(
        "skipped".into(),
        Dynamic::from(i64::try_from(planned.keep).unwrap_or(i64::MAX)),
    );
    map.insert("seconds".into(), Dynamic::from(0.0_f64));
    map
}

/// What a batch of this run works with: its directory, the CA, the bar and Ctrl-C.
fn run<'a>(ctx: &'a Ctx, ca: &'a Ca, bar: &'a Bar) -> Batch<'a> {
    Batch {
        ws: &ctx.ws,
        ca,
        progress: bar,
        interrupt: ctx.interrupt.as_deref(),
    }
}

/// A batch's error for the script: Ctrl-C ends the run as an interrupt (exit 130) that says
/// what the batch finished; anything else is a runtime error.
fn batch_error(e: batch::Error) -> Box<rhai::EvalAltResult> {
    match e {
        batch::Error::Interrupted { .. } => {
            crate::script::limits::interrupted_with(&format!(" during the batch: {e}"))
        }
        other => rt(other),
    }
}

/// `ca.sign_batch(csrs, opts)`: fails, after signing the rest, when a CSR was refused.
fn sign_batch(ctx: &Ctx, ca: &Ca, csrs: Dynamic, opts: &Map) -> FnResult<Map> {
    let mut options = sign_options(ctx, opts)?;
    options.run.database = super::revocation::database_of(ctx, ca)?;
    let csrs = csr_source(&csrs)?;
    let bar = Bar::new(ctx.quiet);
    if ctx.ws.is_dry_run() {
        let planned = batch::plan_sign_batch(&run(ctx, ca, &bar), &csrs, &options).map_err(rt)?;
        return Ok(planned_map(&planned));
    }
    let summary = batch::sign_batch(&run(ctx, ca, &bar), &csrs, &options).map_err(batch_error)?;
    // A refusal is one line that says what was signed too; the summary line only on success.
    if let Some(first) = summary.rejected.first() {
        let total = summary.issued + summary.skipped + summary.rejected.len();
        return Err(rt(format!(
            "{} of {total} CSRs rejected{}, {} signed; first: `{}`: {}",
            summary.rejected.len(),
            options
                .report
                .as_ref()
                .map(|r| format!(" (see `{r}`)"))
                .unwrap_or_default(),
            summary.issued,
            first.file,
            first.reason
        )));
    }
    report(ctx, "signed", &summary);
    Ok(summary_map(&summary))
}

/// The typed options of `issue_batch`.
fn issue_options(ctx: &Ctx, opts: &Map) -> FnResult<IssueOptions> {
    let mut known = PROFILE_KEYS.to_vec();
    known.extend(ISSUE_KEYS);
    convert::check_keys("ca.issue_batch", opts, &known)?;
    let profile = signing_profile(opts)?;
    let profiles = named_profiles(opts, &profile)?;
    let key = match convert::opt_string(opts, "key")? {
        Some(k) => KeySpec::parse(&k).map_err(|e| rt(format!("`key`: {e}")))?,
        None => KeySpec::P384,
    };
    Ok(IssueOptions {
        layout: layout(opts)?,
        run: BatchOptions {
            threads: ctx.threads,
            manifest: convert::opt_string(opts, "manifest")?,
            key_mode: mode_option(opts, 0o400)?,
            key_format: key_format_option(opts)?,
            database: None,
        },
        key,
        profile,
        profiles,
    })
}

/// The typed options of `sign_batch`.
fn sign_options(ctx: &Ctx, opts: &Map) -> FnResult<SignOptions> {
    let mut known = PROFILE_KEYS.to_vec();
    known.extend(SIGN_KEYS);
    convert::check_keys("ca.sign_batch", opts, &known)?;
    let profile = signing_profile(opts)?;
    let out = convert::opt_string(opts, "out")?.unwrap_or_else(|| "{name}.pem".into());
    if !out.contains("{name}") {
        return Err(rt("`out` must contain `{name}`"));
    }
    Ok(SignOptions {
        out,
        run: BatchOptions {
            threads: ctx.threads,
            manifest: convert::opt_string(opts, "manifest")?,
            ..BatchOptions::default()
        },
        profile,
        report: convert::opt_string(opts, "report")?,
    })
}

/// The call's signing options over the `peer` profile.
fn signing_profile(opts: &Map) -> FnResult<Profile> {
    let signing: Map = PROFILE_KEYS
        .iter()
        .filter_map(|k| opts.get(*k).map(|v| ((*k).into(), v.clone())))
        .collect();
    Ok(convert::profile(
        &signing,
        Profile::named("peer").map_err(rt)?,
    )?)
}

/// The profiles a spec may name: the built-in ones, then `profiles: #{ name: #{..} }`, each
/// over the call's own profile `base`.
fn named_profiles(opts: &Map, base: &Profile) -> FnResult<Vec<(String, Profile)>> {
    let mut list = Vec::new();
    for name in BUILT_IN_PROFILES {
        list.push((name.to_string(), Profile::named(name).map_err(rt)?));
    }
    let Some(v) = opts.get("profiles") else {
        return Ok(list);
    };
    let map = v
        .clone()
        .try_cast::<Map>()
        .ok_or_else(|| rt("`profiles`: expected a map of name to options"))?;
    for (name, popts) in map {
        let popts = popts
            .try_cast::<Map>()
            .ok_or_else(|| rt(format!("`profiles.{name}`: expected a map of options")))?;
        convert::check_keys(&format!("`profiles.{name}`"), &popts, PROFILE_KEYS)?;
        list.push((name.to_string(), convert::profile(&popts, base.clone())?));
    }
    Ok(list)
}

/// Output templates: `out` in the cfssl or openssl `style`, or `cert` and `key_out` in full.
fn layout(opts: &Map) -> FnResult<Layout> {
    let out = convert::opt_string(opts, "out")?.unwrap_or_else(|| "{name}".into());
    let mut l = match convert::opt_string(opts, "style")?.as_deref() {
        None | Some("cfssl") => Layout::cfssl(&out),
        Some("openssl") => Layout::openssl(&out),
        Some(other) => {
            return Err(rt(format!(
                "`style`: `{other}` (expected cfssl or openssl)"
            )));
        }
    };
    if let Some(c) = convert::opt_string(opts, "cert")? {
        l.cert = c;
    }
    if let Some(k) = convert::opt_string(opts, "key_out")? {
        l.key = k;
    }
    if !l.cert.contains("{name}") || !l.key.contains("{name}") {
        return Err(rt("output templates must contain `{name}`"));
    }
    Ok(l)
}

/// `specs`: an inventory file path, or an array of spec maps.
fn spec_source(specs: Dynamic) -> FnResult<SpecSource> {
    if let Some(path) = specs.clone().try_cast::<ImmutableString>() {
        return Ok(SpecSource::Inventory(path.to_string()));
    }
    let rows = specs.try_cast::<Array>().ok_or_else(|| {
        rt("issue_batch: `specs` must be an array of maps or an inventory file path")
    })?;
    let mut list = Vec::with_capacity(rows.len());
    for (i, item) in rows.into_iter().enumerate() {
        let map = item
            .try_cast::<Map>()
            .ok_or_else(|| rt(format!("specs row {}: expected a map", i + 1)))?;
        list.push(raw_spec(map).map_err(|m| rt(format!("specs row {}: {m}", i + 1)))?);
    }
    Ok(SpecSource::List(list))
}

/// One spec map: `name`, `subject` (any subject form) or `cn`/`o`/`ou`/..., `san`/`hosts`,
/// `key`, `profile`.
fn raw_spec(mut map: Map) -> ConvResult<RawSpec> {
    let subject = map.remove("subject");
    let mut raw: RawSpec = rhai::serde::from_dynamic(&Dynamic::from(map)).map_err(|e| {
        let text = e.to_string();
        text.split(" (line ").next().unwrap_or(&text).to_string()
    })?;
    if let Some(s) = subject {
        raw.subject = Some(convert::subject(&s)?);
    }
    Ok(raw)
}

/// `csrs`: a directory, or an array of paths.
fn csr_source(csrs: &Dynamic) -> FnResult<CsrSource> {
    if let Some(dir) = csrs.clone().try_cast::<ImmutableString>() {
        return Ok(CsrSource::Dir(dir.to_string()));
    }
    Ok(CsrSource::Paths(convert::string_list("csrs", csrs)?))
}

/// The line printed after a batch: "issued 100 certificates in 1.20 s (83.3 certs/s)".
fn summary_line(what: &str, s: &Summary) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut line = if s.issued == 0 {
        format!("{what} no new certificate")
    } else {
        let rate = s.rate().map(|r| format!(" ({r:.1}/s)")).unwrap_or_default();
        format!(
            "{what} {} in {:.2} s{rate}",
            count(s.issued, "certificate", "certificates"),
            s.seconds
        )
    };
    if s.skipped > 0 {
        line.push_str(&format!(
            "; {} already present",
            count(s.skipped, "was", "were")
        ));
    }
    if !s.rejected.is_empty() {
        line.push_str(&format!(
            "; {} rejected",
            count(s.rejected.len(), "request", "requests")
        ));
    }
    line
}

/// What the batch functions return: `#{ issued, skipped, rejected, seconds }`.
/// Prints a batch's summary: a line on stderr, or with `--json` one JSON object on stdout.
fn report(ctx: &Ctx, what: &str, s: &Summary) {
    if ctx.json {
        println!("{}", summary_json(what, s));
    } else {
        eprintln!("{}", summary_line(what, s));
    }
}

/// The summary for machines: `{"batch":"issued","issued":2,"kept":1,"rejected":0,"seconds":..,"rate":..}`.
fn summary_json(what: &str, s: &Summary) -> String {
    serde_json::json!({
        "batch": what,
        "issued": s.issued,
        "kept": s.skipped,
        "rejected": s.rejected.len(),
        "seconds": s.seconds,
        "rate": s.rate().unwrap_or(0.0),
    })
    .to_string()
}

fn summary_map(s: &Summary) -> Map {
    let mut m = Map::new();
    m.insert("issued".into(), (s.issued as i64).into());
    m.insert("skipped".into(), (s.skipped as i64).into());
    m.insert("rejected".into(), (s.rejected.len() as i64).into());
    m.insert("seconds".into(), s.seconds.into());
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(issued: usize, skipped: usize, seconds: f64) -> Summary {
        Summary {
            issued,
            skipped,
            seconds,
            ..Summary::default()
        }
    }

    #[test]
    fn the_summary_line_is_good_english() {
        assert_eq!(
            summary_line("issued", &summary(1, 0, 0.5)),
            "issued 1 certificate in 0.50 s (2.0/s)"
        );
        assert_eq!(
            summary_line("issued", &summary(2000, 500, 10.0)),
            "issued 2000 certificates in 10.00 s (200.0/s); 500 were already present"
        );
        assert_eq!(
            summary_line("signed", &summary(0, 1, 0.1)),
            "signed no new certificate; 1 was already present"
        );
    }
}
