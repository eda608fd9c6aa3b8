//! Where a run's passphrase comes from: a file or an environment variable named on the command
//! line (`--passphrase-file F`, `--passphrase-env VAR`), a file inside the working directory
//! that the script names (`use_passphrase_file(path)`), or a prompt on the terminal that does
//! not echo. Never the command line itself and never a script literal: no script function takes
//! a passphrase's text. It is asked for once, the first time a function needs it.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::pki::Passphrase;
use crate::workspace::Workspace;

/// Where the passphrase comes from, as the command line says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PassphraseSource {
    /// A file outside the working directory, named with `--passphrase-file` (its first line).
    File(PathBuf),
    /// An environment variable, named with `--passphrase-env`.
    Env(String),
    /// The terminal, without echo (the default); refused when there is no terminal.
    #[default]
    Prompt,
}

/// The run's passphrase: its source, and the passphrase once read.
#[derive(Debug, Default)]
pub struct Passphrases {
    source: Mutex<PassphraseSource>,
    known: Mutex<Option<Passphrase>>,
    /// A file inside the working directory named by the script (`use_passphrase_file`).
    script_file: Mutex<Option<String>>,
}

impl Passphrases {
    /// The passphrases of a run whose command line names `source`.
    #[must_use]
    pub fn new(source: PassphraseSource) -> Self {
        Passphrases {
            source: Mutex::new(source),
            ..Passphrases::default()
        }
    }

    /// Reads the passphrase from `path` inside the working directory from now on, unless the
    /// command line named a source (the user's choice wins).
    pub fn use_file(&self, path: &str) {
        if let Ok(mut f) = self.script_file.lock() {
            *f = Some(path.to_string());
        }
    }

    /// The passphrase, read on first use. `purpose` says what it is for in the prompt
    /// (`the CA key`, `alice.p12`).
    ///
    /// # Errors
    /// The source cannot be read, is empty, or there is no terminal to prompt on.
    pub fn get(&self, ws: &Workspace, purpose: &str) -> Result<Passphrase, String> {
        let mut known = self.known.lock().map_err(|_| "passphrase state poisoned")?;
        if let Some(p) = known.as_ref() {
            return Ok(p.clone());
        }
        let source = self
            .source
            .lock()
            .map_err(|_| "passphrase state poisoned")?
            .clone();
        let script_file = self
            .script_file
            .lock()
            .map_err(|_| "passphrase state poisoned")?
            .clone();
        let text = match (&source, script_file) {
            (PassphraseSource::File(path), _) => first_line(
                &std::fs::read_to_string(path)
                    .map_err(|e| format!("--passphrase-file `{}`: {e}", path.display()))?,
            ),
            (PassphraseSource::Env(var), _) => {
                std::env::var(var).map_err(|_| format!("--passphrase-env: `{var}` is not set"))?
            }
            (PassphraseSource::Prompt, Some(path)) => first_line(
                &ws.read_to_string(&path)
                    .map_err(|e| format!("passphrase file: {e}"))?,
            ),
            (PassphraseSource::Prompt, None) => prompt(purpose)?,
        };
        if text.is_empty() {
            return Err("the passphrase is empty".into());
        }
        let p = Passphrase::new(text);
        *known = Some(p.clone());
        Ok(p)
    }
}

/// The first line of a passphrase file, without its line ending (as `openssl -passin file:`).
fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

/// Asks on the terminal, without echo.
fn prompt(purpose: &str) -> Result<String, String> {
    rpassword::prompt_password(format!("passphrase for {purpose}: ")).map_err(|e| {
        format!(
            "no passphrase: cannot prompt ({e}); give --passphrase-file FILE or \
             --passphrase-env VAR"
        )
    })
}
