//! Script functions for bulk issuance: `ca.issue_batch` and `ca.sign_batch`, with a progress
//! bar on a terminal and a one-line summary otherwise.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use rhai::{Array, Dynamic, Engine, EvalAltResult, FuncRegistration, Map};

use super::convert::{self, PROFILE_KEYS};
use super::{Ctx, doc_comment, rt};
use crate::batch::{
    self, Batch, BatchOptions, BatchSpec, CsrItem, Layout, Progress, RawSpec, SpecDefaults, Summary,
};
use crate::pki::{Ca, KeyFormat, KeySpec, Profile};
use crate::workspace::WriteOptions;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// A progress bar on stderr when it is a terminal (and not `--quiet`).
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{bar:40} {pos}/{len} certificates  {rate} certs/s  ETA {eta}",
        ) {
            bar.set_style(style.with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}", state.per_sec());
                },
            ));
        }
        Bar(Some(bar))
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        if let Some(b) = &self.0 {
            b.set_length(total);
        }
    }
    fn advance(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

fn summary_line(what: &str, s: &Summary) -> String {
    let rate = if s.seconds > 0.0 {
        s.issued as f64 / s.seconds
    } else {
        0.0
    };
    let mut line = format!(
        "{what} {} certificates in {:.2} s ({rate:.1} certs/s)",
        s.issued, s.seconds
    );
    if s.skipped > 0 {
        line.push_str(&format!(", {} already present", s.skipped));
    }
    if !s.rejected.is_empty() {
        line.push_str(&format!(", {} rejected", s.rejected.len()));
    }
    line
}

fn summary_map(s: &Summary) -> Map {
    let mut m = Map::new();
    m.insert("issued".into(), (s.issued as i64).into());
    m.insert("skipped".into(), (s.skipped as i64).into());
    m.insert("rejected".into(), (s.rejected.len() as i64).into());
    m.insert("seconds".into(), s.seconds.into());
    m
}

/// Batch options shared by both functions: `manifest`, `mode`, `format`.
fn batch_options(ctx: &Ctx, opts: &Map) -> Res<BatchOptions> {
    let mode = match convert::opt_int(opts, "mode").map_err(rt)? {
        Some(m) => u32::try_from(m).map_err(|_| rt(format!("`mode`: {m} is not a file mode")))?,
        None => 0o400,
    };
    Ok(BatchOptions {
        threads: ctx.threads,
        manifest: convert::opt_string(opts, "manifest").map_err(rt)?,
        key_mode: mode,
        key_format: match convert::opt_string(opts, "format").map_err(rt)? {
            Some(f) => KeyFormat::parse(&f).map_err(rt)?,
            None => KeyFormat::Pkcs8,
        },
    })
}

fn layout(opts: &Map) -> Res<Layout> {
    let out = convert::opt_string(opts, "out")
        .map_err(rt)?
        .unwrap_or_else(|| "{name}".into());
    let mut l = match convert::opt_string(opts, "style").map_err(rt)?.as_deref() {
        None | Some("cfssl") => Layout::cfssl(&out),
        Some("openssl") => Layout::openssl(&out),
        Some(other) => {
            return Err(rt(format!(
                "`style`: `{other}` (expected cfssl or openssl)"
            )));
        }
    };
    if let Some(c) = convert::opt_string(opts, "cert").map_err(rt)? {
        l.cert = c;
    }
    if let Some(k) = convert::opt_string(opts, "key_out").map_err(rt)? {
        l.key = k;
    }
    if !l.cert.contains("{name}") || !l.key.contains("{name}") {
        return Err(rt("output templates must contain `{name}`"));
    }
    Ok(l)
}

/// The base profile (opts' profile options) plus named `profiles: #{ name: #{..} }`.
fn profiles(opts: &Map) -> Res<(Vec<Profile>, HashMap<String, usize>)> {
    let mut base_opts = Map::new();
    for k in PROFILE_KEYS {
        if let Some(v) = opts.get(*k) {
            base_opts.insert((*k).into(), v.clone());
        }
    }
    let base = convert::profile(&base_opts, Profile::named("peer").map_err(rt)?).map_err(rt)?;
    let mut list = vec![base.clone()];
    let mut names = HashMap::new();
    for name in ["server", "client", "peer", "ca"] {
        names.insert(name.to_string(), list.len());
        list.push(Profile::named(name).map_err(rt)?);
    }
    if let Some(v) = opts.get("profiles") {
        let map = v
            .clone()
            .try_cast::<Map>()
            .ok_or_else(|| rt("`profiles`: expected a map of name to options"))?;
        for (name, popts) in map {
            let popts = popts
                .try_cast::<Map>()
                .ok_or_else(|| rt(format!("`profiles.{name}`: expected a map of options")))?;
            convert::check_keys(&format!("`profiles.{name}`"), &popts, PROFILE_KEYS).map_err(rt)?;
            names.insert(name.to_string(), list.len());
            list.push(convert::profile(&popts, base.clone()).map_err(rt)?);
        }
    }
    Ok((list, names))
}

/// Converts one script map to a spec: `name`, `subject` (any subject form) or `cn`/`o`/`ou`/...,
/// `san`/`hosts`, `key`, `profile`.
fn spec_from_map(map: Map, d: &SpecDefaults) -> Result<BatchSpec, String> {
    let mut map = map;
    let subject = map.remove("subject");
    let raw: RawSpec = rhai::serde::from_dynamic(&Dynamic::from(map)).map_err(|e| {
        let text = e.to_string();
        text.split(" (line ").next().unwrap_or(&text).to_string()
    })?;
    let mut spec = raw.into_spec(d)?;
    if let Some(s) = subject {
        spec.subject = convert::subject(&s)?;
    }
    Ok(spec)
}

/// Registers `issue_batch` and `sign_batch`.
pub fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    FuncRegistration::new("issue_batch")
        .with_params_info(["ca: Ca", "specs: Dynamic", "opts: Map", "Map"])
        .with_comments([doc_comment(
            "Issues a key and certificate for every spec, in parallel, resumably.
            Returns #{ issued, skipped, seconds }. `specs` is an array of maps (#{ name, subject or cn/o/ou, san, key, profile }) or the path of
            an inventory file (.csv with a header row, .jsonl, .json). Options: key (\"ecdsa:384\"),
            out (\"certs/{name}\"), style (\"cfssl\": .pem/-key.pem, or \"openssl\": .crt/.key), cert and
            key_out (full templates), manifest (JSON lines), mode (0o400), format, profiles
            (#{ name: #{ options } }) and every signing option. Existing outputs are kept.",
        )])
        .with_volatility(true)
        .register_into_engine(engine, move |ca: &mut Ca, specs: Dynamic, opts: Map| -> Res<Map> {
            issue_batch(&c, ca, specs, &opts)
        });
    let c = ctx.clone();
    FuncRegistration::new("sign_batch")
        .with_params_info(["ca: Ca", "csrs: Dynamic", "opts: Map", "Map"])
        .with_comments([doc_comment(
            "Signs every CSR in a directory (or a list of paths) under a profile, in parallel.
            Refuses CSRs with a bad signature, asking for CA:TRUE or usages the profile lacks, or with
            SANs outside `allowed_names` (#{ allowed_names: [\"*.db.internal\", \"10.0.0.0/8\"] }); the
            refused are listed in `report` (JSON lines) and the call fails after signing the rest.
            Options: out (\"signed/{name}.pem\"), manifest, and every signing option.",
        )])
        .with_volatility(true)
        .register_into_engine(engine, move |ca: &mut Ca, csrs: Dynamic, opts: Map| -> Res<Map> {
            sign_batch(&c, ca, csrs, &opts)
        });
}

fn issue_batch(ctx: &Ctx, ca: &Ca, specs: Dynamic, opts: &Map) -> Res<Map> {
    let mut known = PROFILE_KEYS.to_vec();
    known.extend([
        "key", "out", "style", "cert", "key_out", "manifest", "mode", "format", "profiles",
    ]);
    convert::check_keys("ca.issue_batch", opts, &known).map_err(rt)?;
    let (profiles, names) = profiles(opts)?;
    let defaults = SpecDefaults {
        key: match convert::opt_string(opts, "key").map_err(rt)? {
            Some(k) => KeySpec::parse(&k).map_err(|e| rt(format!("`key`: {e}")))?,
            None => KeySpec::P384,
        },
        profile: 0,
        profiles: names,
    };
    let layout = layout(opts)?;
    let bopts = batch_options(ctx, opts)?;
    let bar = Bar::new(ctx.quiet);
    let run = Batch {
        ws: &ctx.ws,
        ca,
        opts: &bopts,
        progress: &bar,
    };
    let summary = if let Some(path) = specs.clone().try_cast::<rhai::ImmutableString>() {
        let path = path.to_string();
        batch::issue_batch(
            &run,
            || match batch::read_inventory(&ctx.ws, &path, &defaults) {
                Ok(it) => it,
                Err(e) => Box::new(std::iter::once(Err(e))),
            },
            &path,
            &layout,
            &profiles,
        )
    } else {
        let arr = specs.try_cast::<Array>().ok_or_else(|| {
            rt("issue_batch: `specs` must be an array of maps or an inventory file path")
        })?;
        let mut list = Vec::with_capacity(arr.len());
        for (i, item) in arr.into_iter().enumerate() {
            let map = item
                .try_cast::<Map>()
                .ok_or_else(|| rt(format!("specs row {}: expected a map", i + 1)))?;
            let spec = spec_from_map(map, &defaults)
                .map_err(|m| rt(format!("specs row {}: {m}", i + 1)))?;
            list.push((i + 1, spec));
        }
        batch::issue_batch(
            &run,
            || list.iter().cloned().map(Ok),
            "specs",
            &layout,
            &profiles,
        )
    }
    .map_err(rt)?;
    eprintln!("{}", summary_line("issued", &summary));
    Ok(summary_map(&summary))
}

fn sign_batch(ctx: &Ctx, ca: &Ca, csrs: Dynamic, opts: &Map) -> Res<Map> {
    let mut known = PROFILE_KEYS.to_vec();
    known.extend(["out", "manifest", "report"]);
    convert::check_keys("ca.sign_batch", opts, &known).map_err(rt)?;
    let mut popts = Map::new();
    for k in PROFILE_KEYS {
        if let Some(v) = opts.get(*k) {
            popts.insert((*k).into(), v.clone());
        }
    }
    let profile = convert::profile(&popts, Profile::named("peer").map_err(rt)?).map_err(rt)?;
    let paths: Vec<String> = if let Some(dir) = csrs.clone().try_cast::<rhai::ImmutableString>() {
        ctx.ws
            .list(&dir)
            .map_err(rt)?
            .into_iter()
            .filter(|p| p.ends_with(".csr") || p.ends_with(".req") || p.ends_with(".pem"))
            .collect()
    } else {
        convert::string_list("csrs", &csrs).map_err(rt)?
    };
    let items: Vec<CsrItem> = paths
        .into_iter()
        .map(|p| {
            let file = p.rsplit('/').next().unwrap_or(&p);
            let name = file
                .rsplit_once('.')
                .map_or(file, |(stem, _)| stem)
                .to_string();
            CsrItem { name, path: p }
        })
        .collect();
    let out = convert::opt_string(opts, "out")
        .map_err(rt)?
        .unwrap_or_else(|| "{name}.pem".into());
    if !out.contains("{name}") {
        return Err(rt("`out` must contain `{name}`"));
    }
    let bopts = batch_options(
        ctx,
        &Map::from_iter(
            opts.get_key_value("manifest")
                .map(|(k, v)| (k.clone(), v.clone())),
        ),
    )?;
    let bar = Bar::new(ctx.quiet);
    let run = Batch {
        ws: &ctx.ws,
        ca,
        opts: &bopts,
        progress: &bar,
    };
    let summary = batch::sign_batch(&run, &items, &out, &profile).map_err(rt)?;
    eprintln!("{}", summary_line("signed", &summary));
    if let Some(report) = convert::opt_string(opts, "report").map_err(rt)? {
        let mut text = String::new();
        for r in &summary.rejected {
            text.push_str(&serde_json::to_string(r).map_err(rt)?);
            text.push('\n');
        }
        if let Some((dir, _)) = report.rsplit_once('/') {
            if !dir.is_empty() {
                ctx.ws.mkdir(dir).map_err(rt)?;
            }
        }
        ctx.ws
            .write(
                &report,
                text.as_bytes(),
                WriteOptions {
                    mode: Some(0o644),
                    overwrite: true,
                },
            )
            .map_err(rt)?;
    }
    if let Some(first) = summary.rejected.first() {
        return Err(rt(format!(
            "{} of {} CSRs rejected{}; first: `{}`: {}",
            summary.rejected.len(),
            items.len(),
            convert::opt_string(opts, "report")
                .ok()
                .flatten()
                .map(|r| format!(" (see `{r}`)"))
                .unwrap_or_default(),
            first.file,
            first.reason
        )));
    }
    Ok(summary_map(&summary))
}
