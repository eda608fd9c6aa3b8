//! A batch in a dry run: every row and CSR checked as the real batch checks them, and each
//! output planned (described, not signed) in the workspace's plan; an output that exists is
//! planned as kept, as the real batch keeps it when it still matches.

use super::{
    Batch, BatchSpec, CsrSource, Error, IssueOptions, Result, SignOptions, SpecSource, check_csr,
    read_inventory, validate_names,
};
use crate::pki::{Csr, Profile, describe_spec};
use crate::workspace::WriteOptions;

/// What a batch would do: how many outputs it would make and keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Planned {
    /// Outputs it would make.
    pub issue: usize,
    /// Outputs that exist and would be checked and kept.
    pub keep: usize,
}

fn days(profile: &Profile) -> u64 {
    profile.validity.duration().as_secs().div_ceil(86_400)
}

fn describe(subject: &str, sans: &[String], issuer: &str, profile: &Profile) -> String {
    let mut out = format!("subject {subject}");
    if !sans.is_empty() {
        out.push_str(&format!("; SAN {}", sans.join(", ")));
    }
    out.push_str(&format!("; issuer {issuer}; {} days", days(profile)));
    out
}

/// Plans an output the batch writes, with its directory, which the batch makes.
fn plan_output(
    ws: &crate::workspace::Workspace,
    path: &str,
    kind: &str,
    what: &str,
    mode: u32,
) -> Result<()> {
    if let Some((parent, _)) = path.rsplit_once('/') {
        ws.mkdir(parent)?;
    }
    let replace = WriteOptions {
        mode: Some(mode),
        overwrite: true,
    };
    Ok(ws.plan_describe(path, kind, what, replace)?)
}

/// The CA's subject, as the plan names the issuer.
fn issuer(batch: &Batch<'_>) -> Result<String> {
    let subject = batch.ca.cert().subject().map_err(|source| Error::Pki {
        name: "the CA".into(),
        source,
    })?;
    Ok(subject.to_string())
}

const KEPT: &str = "exists and still matches its row";

/// Plans [`super::issue_batch`]: rows read and checked, outputs described.
///
/// # Errors
/// A bad row or name, as the real batch would refuse it.
pub fn plan_issue_batch(
    batch: &Batch<'_>,
    specs: SpecSource,
    opts: &IssueOptions,
) -> Result<Planned> {
    let ws = batch.ws;
    let (profiles, defaults) = opts.spec_defaults();
    let (source_name, list): (String, Vec<(usize, BatchSpec)>) = match specs {
        SpecSource::Inventory(path) => {
            let rows = read_inventory(ws, &path, &defaults)?.collect::<Result<Vec<_>>>()?;
            (path, rows)
        }
        SpecSource::List(rows) => (super::LISTED.into(), super::listed_specs(rows, &defaults)?),
    };
    let layout = &opts.layout;
    validate_names(
        ws,
        layout,
        &source_name,
        list.iter().map(|(row, s)| (*row, s.name.as_str())),
    )?;
    let issuer = issuer(batch)?;
    let mut planned = Planned::default();
    for (row, spec) in &list {
        let profile = profiles.get(spec.profile).ok_or_else(|| Error::Row {
            source_name: source_name.clone(),
            row: *row,
            message: "unknown profile".into(),
        })?;
        let (cert, key) = (layout.cert_path(&spec.name), layout.key_path(&spec.name));
        if ws.exists(&cert)? && !ws.force() {
            // Checked as the real batch checks what it keeps: a pair that no longer says what
            // the row asks, or a certificate without its key, stops the plan too.
            let key_pem = ws.exists(&key)?.then(|| ws.read(&key)).transpose()?;
            super::kept::check_kept(
                batch.ca,
                spec,
                (&cert, &ws.read(&cert)?),
                (&key, key_pem.as_deref()),
            )?;
            ws.plan_keep(&cert, KEPT)?;
            ws.plan_keep(&key, KEPT)?;
            planned.keep += 1;
            continue;
        }
        batch
            .ca
            .check_can_sign(profile)
            .map_err(|source| Error::Pki {
                name: spec.name.clone(),
                source,
            })?;
        let sans: Vec<String> = spec.sans.iter().map(ToString::to_string).collect();
        let what = describe(&spec.subject.to_string(), &sans, &issuer, profile);
        let key_what = format!("{} (made by the batch)", describe_spec(spec.key));
        plan_output(ws, &key, "key", &key_what, opts.run.key_mode)?;
        let cert_what = format!("{what}; {}", describe_spec(spec.key));
        plan_output(ws, &cert, "certificate", &cert_what, 0o644)?;
        planned.issue += 1;
    }
    plan_records(batch, &opts.run, planned.issue)?;
    Ok(planned)
}

/// Plans [`super::sign_batch`]: every CSR read and checked against the profile; a CSR the
/// real batch would refuse is an error here too.
///
/// # Errors
/// A bad name, an unreadable CSR, or one the profile refuses.
pub fn plan_sign_batch(batch: &Batch<'_>, csrs: &CsrSource, opts: &SignOptions) -> Result<Planned> {
    let ws = batch.ws;
    let (items, layout) = super::checked_csrs(ws, csrs, opts)?;
    let issuer = issuer(batch)?;
    let mut planned = Planned::default();
    for item in &items {
        let cert = layout.cert_path(&item.name);
        if ws.exists(&cert)? && !ws.force() {
            ws.plan_keep(&cert, "exists: a sign batch keeps what it signed")?;
            planned.keep += 1;
            continue;
        }
        let refused = |reason: String| Error::Row {
            source_name: item.path.clone(),
            row: 1,
            message: format!("the batch would refuse it: {reason}"),
        };
        let csr = Csr::from_pem(&ws.read(&item.path)?).map_err(|e| refused(e.to_string()))?;
        check_csr(&csr, &opts.profile).map_err(refused)?;
        batch
            .ca
            .check_can_sign(&opts.profile)
            .map_err(|e| refused(e.to_string()))?;
        let sans: Vec<String> = csr.sans().iter().map(ToString::to_string).collect();
        let subject = csr
            .subject()
            .map_err(|e| refused(e.to_string()))?
            .to_string();
        let what = describe(&subject, &sans, &issuer, &opts.profile);
        plan_output(ws, &cert, "certificate", &what, 0o644)?;
        planned.issue += 1;
    }
    plan_records(batch, &opts.run, planned.issue)?;
    if let Some(report) = &opts.report {
        // Written by every run, empty when nothing is refused (a refusal stops the plan).
        super::write_report(ws, report, &[])?;
    }
    Ok(planned)
}

/// The manifest and the CA's index.txt a batch appends to.
fn plan_records(batch: &Batch<'_>, run: &super::BatchOptions, lines: usize) -> Result<()> {
    if lines == 0 {
        return Ok(());
    }
    let append = WriteOptions {
        mode: Some(0o644),
        overwrite: true,
    };
    if let Some(manifest) = &run.manifest {
        batch.ws.plan_describe(
            manifest,
            "manifest",
            &format!("{lines} line(s) appended"),
            append,
        )?;
    }
    if let Some(files) = &run.database {
        for (path, what) in [
            (&files.database, format!("{lines} line(s) appended")),
            (&files.serial, "the next serial".to_string()),
        ] {
            batch.ws.plan_describe(path, "database", &what, append)?;
        }
    }
    Ok(())
}
