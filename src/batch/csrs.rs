//! The CSRs a sign batch reads: from a directory or a list, named by their file stems.

use super::{CsrSource, Layout, Result, SignOptions, validate_names};
use crate::workspace::Workspace;

/// One CSR to sign: its name (file stem) and path.
#[derive(Debug, Clone)]
pub struct CsrItem {
    /// Name used for `{name}` in the output template.
    pub name: String,
    /// Path of the CSR file.
    pub path: String,
}

impl CsrItem {
    /// The item for a CSR file: its name is the file name without directory and extension.
    #[must_use]
    pub fn from_path(path: String) -> Self {
        let file = path.rsplit('/').next().unwrap_or(&path);
        let name = file
            .rsplit_once('.')
            .map_or(file, |(stem, _)| stem)
            .to_string();
        CsrItem { name, path }
    }
}

/// The CSRs of `source`: a directory's `.csr`, `.req` and `.pem` files (sorted), or the paths
/// given.
///
/// # Errors
/// The directory cannot be listed.
pub fn csr_items(ws: &Workspace, source: &CsrSource) -> Result<Vec<CsrItem>> {
    let paths = match source {
        CsrSource::Dir(dir) => ws
            .list(dir)?
            .into_iter()
            .filter(|p| p.ends_with(".csr") || p.ends_with(".req") || p.ends_with(".pem"))
            .collect(),
        CsrSource::Paths(paths) => paths.clone(),
    };
    Ok(paths.into_iter().map(CsrItem::from_path).collect())
}

/// The CSRs of a sign batch with their output layout, every name checked.
///
/// # Errors
/// The directory cannot be listed, or a name cannot be used in a file name or repeats.
pub(super) fn checked_csrs(
    ws: &Workspace,
    csrs: &CsrSource,
    opts: &SignOptions,
) -> Result<(Vec<CsrItem>, Layout)> {
    let items = csr_items(ws, csrs)?;
    let layout = Layout {
        cert: opts.out.clone(),
        key: opts.out.clone(),
    };
    validate_names(
        ws,
        &layout,
        "CSRs",
        items
            .iter()
            .enumerate()
            .map(|(i, c)| (i + 1, c.name.as_str())),
    )?;
    Ok((items, layout))
}
