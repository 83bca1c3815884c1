//! Progress on standard error: bars for work of a known size, spinners for
//! the rest. Shown only when standard error is a terminal and `--quiet` is
//! not given; otherwise every call does nothing.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// A progress display (possibly hidden).
pub struct Progress {
    bar: ProgressBar,
    what: &'static str,
    counting: bool,
}

/// True if progress is shown at all.
pub fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

impl Progress {
    /// A spinner saying `message` (e.g. "validating data.json"), turned into
    /// a bar of `what` ("entries") by the first [`Progress::update`].
    pub fn new(quiet: bool, message: impl Into<String>, what: &'static str) -> Self {
        let bar = if shown(quiet) {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            b.set_style(
                ProgressStyle::with_template("{spinner} {msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.set_message(message.into());
            b.enable_steady_tick(Duration::from_millis(100));
            b
        } else {
            ProgressBar::hidden()
        };
        Progress { bar, what, counting: false }
    }

    /// `n` of `total` done.
    pub fn update(&mut self, n: u64, total: u64) {
        if self.bar.is_hidden() {
            return;
        }
        if !self.counting {
            self.counting = true;
            self.bar.disable_steady_tick();
            // Rate and time left from here: the time before the first count
            // (opening, counting the entries) is not part of the rate.
            self.bar.reset_elapsed();
            self.bar.reset_eta();
            let template =
                format!("{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {} ({{rate}}, {{eta}} left)", self.what);
            if let Ok(style) = ProgressStyle::with_template(&template) {
                // Whole entries per second (indicatif's {per_sec} has four decimals).
                let rate = |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}/s", HumanCount(s.per_sec() as u64));
                };
                self.bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
            }
        }
        self.bar.set_length(total.max(n));
        self.bar.set_position(n);
    }

    /// Changes the message.
    pub fn message(&self, message: impl Into<String>) {
        self.bar.set_message(message.into());
    }

    /// Removes the display (a summary line follows on standard output).
    pub fn done(self) {
        self.bar.finish_and_clear();
    }
}
