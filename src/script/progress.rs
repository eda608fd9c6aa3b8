//! The progress bar batches draw on stderr when it is a terminal: one step per certificate,
//! the rate and ETA over this run's own work (kept files are counted apart, not in the rate).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::batch::{Done, Progress};

/// How often the bar's text is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// A progress bar on stderr when it is a terminal (and not `--quiet`).
pub(crate) struct Bar(Option<Drawn>);

/// The bar and what its text is made of.
struct Drawn {
    bar: ProgressBar,
    issued: AtomicU64,
    kept: AtomicU64,
    failed: AtomicU64,
    /// When the batch started, and when the text was last redrawn.
    times: Mutex<(Instant, Instant)>,
}

impl Bar {
    /// A bar, or nothing when `quiet` or stderr is not a terminal.
    pub(crate) fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        Bar(Some(Drawn::new(ProgressBar::new(0))))
    }
}

impl Drawn {
    fn new(bar: ProgressBar) -> Self {
        // The counts first, the bar in what width is left: on a narrow terminal the bar
        // shrinks, never the counts.
        if let Ok(style) = ProgressStyle::with_template("{pos}/{len} {msg} {wide_bar}") {
            bar.set_style(style);
        }
        let now = Instant::now();
        Drawn {
            bar,
            issued: AtomicU64::new(0),
            kept: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            times: Mutex::new((now, now)),
        }
    }

    /// The bar's text: this run's count, rate and ETA, then the kept and failed ones.
    fn text(&self, elapsed: Duration) -> String {
        let issued = self.issued.load(Ordering::Relaxed);
        let kept = self.kept.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let left = self
            .bar
            .length()
            .unwrap_or(0)
            .saturating_sub(issued + kept + failed);
        let secs = elapsed.as_secs_f64();
        let mut text = format!("{issued} issued");
        if issued > 0 && secs > 0.0 {
            let rate = issued as f64 / secs;
            text.push_str(&format!(", {rate:.0}/s, ETA {}", eta(left as f64 / rate)));
        }
        if kept > 0 {
            text.push_str(&format!("; {kept} kept"));
        }
        if failed > 0 {
            text.push_str(&format!("; {failed} failed"));
        }
        text
    }
}

/// `45s`, `3m 05s`, `1h 02m`.
fn eta(seconds: f64) -> String {
    let s = seconds.ceil() as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        if let Some(d) = &self.0 {
            d.bar.set_length(total);
            let now = Instant::now();
            if let Ok(mut t) = d.times.lock() {
                *t = (now, now);
            }
            d.bar.set_message(d.text(Duration::ZERO));
        }
    }

    fn item(&self, done: Done) {
        let Some(d) = &self.0 else {
            return;
        };
        match done {
            Done::Issued => &d.issued,
            Done::Kept => &d.kept,
            Done::Failed => &d.failed,
        }
        .fetch_add(1, Ordering::Relaxed);
        d.bar.inc(1);
        // The text (rate, ETA) at most every REDRAW; the position moves with every item.
        if let Ok(mut t) = d.times.try_lock() {
            let now = Instant::now();
            if now.duration_since(t.1) >= REDRAW {
                t.1 = now;
                d.bar.set_message(d.text(now.duration_since(t.0)));
            }
        }
    }

    fn finish(&self) {
        if let Some(d) = &self.0 {
            d.bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_counts_only_this_runs_certificates_and_kept_ones_stand_apart() {
        let d = Drawn::new(ProgressBar::hidden());
        d.bar.set_length(100);
        for _ in 0..40 {
            d.kept.fetch_add(1, Ordering::Relaxed);
        }
        assert_eq!(d.text(Duration::from_secs(1)), "0 issued; 40 kept");
        d.issued.fetch_add(20, Ordering::Relaxed);
        // 20 in 2 s: 10/s; 40 left: 4 s.
        assert_eq!(
            d.text(Duration::from_secs(2)),
            "20 issued, 10/s, ETA 4s; 40 kept"
        );
        assert_eq!(eta(185.0), "3m 05s");
    }
}
