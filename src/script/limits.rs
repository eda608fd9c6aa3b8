//! What a script may use: operations, string/array/map sizes and call depth, each with a
//! default and a command-line flag, and the interrupt (Ctrl-C) that stops a script between two
//! of its steps.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rhai::{Dynamic, Engine, EvalAltResult};

/// Resource limits for one script run. The defaults are far above what the shipped procedures
/// use (a 100,000-node inventory built in a loop stays well inside them) and stop a runaway
/// script (`loop {}`, a string doubled in a loop) within seconds instead of never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations (`--max-operations`; 0: no limit).
    pub operations: u64,
    /// Length of one string in bytes (`--max-string-size`; 0: no limit).
    pub string_size: usize,
    /// Items in one array (`--max-array-size`; 0: no limit).
    pub array_size: usize,
    /// Entries in one map (`--max-map-size`; 0: no limit).
    pub map_size: usize,
    /// Depth of nested function calls (`--max-call-depth`).
    pub call_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operations: 200_000_000,
            string_size: 64 * 1024 * 1024,
            array_size: 10_000_000,
            map_size: 1_000_000,
            call_depth: 64,
        }
    }
}

/// The token a terminated run carries when Ctrl-C stopped it.
const INTERRUPTED: &str = "interrupted";

impl Limits {
    /// Sets the limits on `engine`, and makes it stop at its next step once `interrupt` is set.
    pub fn apply(&self, engine: &mut Engine, interrupt: Option<Arc<AtomicBool>>) {
        engine
            .set_max_operations(self.operations)
            .set_max_string_size(self.string_size)
            .set_max_array_size(self.array_size)
            .set_max_map_size(self.map_size)
            .set_max_call_levels(self.call_depth);
        if let Some(flag) = interrupt {
            engine.on_progress(move |_| {
                flag.load(Ordering::Relaxed)
                    .then(|| Dynamic::from(INTERRUPTED))
            });
        }
    }
}

/// The message for a Rhai error that a limit of `engine` or an interrupt caused, naming the limit
/// and the flag that raises it; `None` for any other error.
#[must_use]
pub fn describe(engine: &Engine, err: &EvalAltResult) -> Option<String> {
    {
        let (what, value, flag) = match err {
            EvalAltResult::ErrorTooManyOperations(_) => (
                "operations",
                engine.max_operations().to_string(),
                "--max-operations",
            ),
            EvalAltResult::ErrorStackOverflow(_) => (
                "nested function calls",
                engine.max_call_levels().to_string(),
                "--max-call-depth",
            ),
            EvalAltResult::ErrorDataTooLarge(kind, _) if kind.starts_with("Length of string") => (
                "bytes in a string",
                engine.max_string_size().to_string(),
                "--max-string-size",
            ),
            EvalAltResult::ErrorDataTooLarge(kind, _) if kind.starts_with("Size of array") => (
                "items in an array",
                engine.max_array_size().to_string(),
                "--max-array-size",
            ),
            EvalAltResult::ErrorDataTooLarge(kind, _) if kind.starts_with("Size of object map") => {
                (
                    "entries in a map",
                    engine.max_map_size().to_string(),
                    "--max-map-size",
                )
            }
            _ => return None,
        };
        Some(format!(
            "the script went over its limit of {value} {what} (raise it with {flag} N)"
        ))
    }
}

/// Whether `err` is the interrupt (Ctrl-C) rather than a failure of the script.
#[must_use]
pub fn is_interrupt(err: &EvalAltResult) -> bool {
    interrupt_detail(err).is_some()
}

/// What an interrupt (Ctrl-C) error says of the work it stopped (`""` when it stopped the
/// script between two steps); `None` for any other error.
#[must_use]
pub fn interrupt_detail(err: &EvalAltResult) -> Option<String> {
    let EvalAltResult::ErrorTerminated(token, _) = err else {
        return None;
    };
    let text = token.clone().into_string().ok()?;
    text.strip_prefix(INTERRUPTED).map(str::to_string)
}

/// The error a function returns when Ctrl-C stopped it mid-way; `detail` (`"; 812 of 2000
/// certificates issued"`) says what it finished.
#[must_use]
pub fn interrupted_with(detail: &str) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(
        Dynamic::from(format!("{INTERRUPTED}{detail}")),
        rhai::Position::NONE,
    ))
}
