//! What a batch call asks for, typed once by its caller and handed down whole: where outputs
//! go, how keys are written, which profiles apply, and where the specs or CSRs come from.

use std::collections::HashMap;

use super::inventory::{RawSpec, SpecDefaults};
use super::output;
use crate::pki::{KeyFormat, KeySpec, Profile};

/// Where outputs go: templates with `{name}`, e.g. `certs/{name}.pem` and `certs/{name}-key.pem`.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Certificate path template.
    pub cert: String,
    /// Key path template.
    pub key: String,
}

impl Layout {
    /// cfssljson's `-bare` names under `out`: `{out}.pem` and `{out}-key.pem`.
    #[must_use]
    pub fn cfssl(out: &str) -> Self {
        Layout {
            cert: format!("{out}.pem"),
            key: format!("{out}-key.pem"),
        }
    }

    /// openssl-style names: `{out}.crt` and `{out}.key`.
    #[must_use]
    pub fn openssl(out: &str) -> Self {
        Layout {
            cert: format!("{out}.crt"),
            key: format!("{out}.key"),
        }
    }

    /// The certificate path for `name`.
    #[must_use]
    pub fn cert_path(&self, name: &str) -> String {
        output::render(&self.cert, name)
    }

    /// The key path for `name`.
    #[must_use]
    pub fn key_path(&self, name: &str) -> String {
        output::render(&self.key, name)
    }
}

/// Options shared by both batch kinds.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Worker threads (`None`: all cores).
    pub threads: Option<usize>,
    /// Manifest path (JSON lines), or none.
    pub manifest: Option<String>,
    /// Mode of key files.
    pub key_mode: u32,
    /// Key file format.
    pub key_format: KeyFormat,
    /// The CA's records (`index.txt`, `serial`), in which every certificate the batch
    /// issues is recorded once its files are durable; or none.
    pub database: Option<crate::pki::ca_dir::CaDir>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            threads: None,
            manifest: None,
            key_mode: 0o400,
            key_format: KeyFormat::Pkcs8,
            database: None,
        }
    }
}

/// Where the specs of an issue batch come from.
#[derive(Debug, Clone)]
pub enum SpecSource {
    /// An inventory file in the workspace (`.csv`, `.jsonl`, `.json`), streamed twice.
    Inventory(String),
    /// Specs given in the call, row 1 first.
    List(Vec<RawSpec>),
}

/// Everything `issue_batch` needs besides its specs.
#[derive(Debug, Clone)]
pub struct IssueOptions {
    /// Output templates.
    pub layout: Layout,
    /// Threads, manifest, key mode and format.
    pub run: BatchOptions,
    /// The key of a spec that names none.
    pub key: KeySpec,
    /// The profile of a spec that names none.
    pub profile: Profile,
    /// Profiles a spec may name; a later entry wins over an earlier one of the same name.
    pub profiles: Vec<(String, Profile)>,
}

impl IssueOptions {
    /// The profile table of the run (the default first) and the defaults specs are read with.
    pub(super) fn spec_defaults(&self) -> (Vec<Profile>, SpecDefaults) {
        let mut list = Vec::with_capacity(self.profiles.len() + 1);
        list.push(self.profile.clone());
        let mut names = HashMap::new();
        for (name, profile) in &self.profiles {
            names.insert(name.clone(), list.len());
            list.push(profile.clone());
        }
        let defaults = SpecDefaults {
            key: self.key,
            profile: 0,
            profiles: names,
        };
        (list, defaults)
    }
}

/// Where the CSRs of a sign batch come from.
#[derive(Debug, Clone)]
pub enum CsrSource {
    /// Every `.csr`, `.req` and `.pem` file of a workspace directory.
    Dir(String),
    /// These paths, in this order.
    Paths(Vec<String>),
}

/// Everything `sign_batch` needs besides its CSRs.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Certificate path template (with `{name}`, the CSR's file stem).
    pub out: String,
    /// Threads and manifest (keys are not written).
    pub run: BatchOptions,
    /// The profile every CSR is signed under (its signing policy holds the names CSRs may ask
    /// for).
    pub profile: Profile,
    /// Where to write the refused CSRs as JSON lines, if anywhere.
    pub report: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_profile_of_the_same_name_wins_and_the_default_is_first() {
        let named = |n: &str| Profile::named(n).unwrap();
        let opts = IssueOptions {
            layout: Layout::cfssl("{name}"),
            run: BatchOptions::default(),
            key: KeySpec::P256,
            profile: named("peer"),
            profiles: vec![
                ("web".into(), named("client")),
                ("web".into(), named("server")),
            ],
        };
        let (list, defaults) = opts.spec_defaults();
        assert_eq!(list[0], named("peer"));
        assert_eq!(defaults.profile, 0);
        assert_eq!(list[defaults.profiles["web"]], named("server"));
        assert_eq!(defaults.key, KeySpec::P256);
    }
}
