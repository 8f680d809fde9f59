//! Progress bars and human messages on stderr.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use wholesale_billing::{LoadIssue, Severity};

use crate::atomic;
use crate::stdio::Input;

/// How many issues are printed on stderr before a count of the rest.
pub const SHOWN_ISSUES: usize = 20;

/// `--quiet`: no progress bars, no summary lines.
static QUIET: AtomicBool = AtomicBool::new(false);

/// `--threads N`; 0: not given.
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// Sets `--threads` for the run (`None`: the machine's available parallelism).
pub fn set_threads(threads: Option<u16>) {
    THREADS.store(threads.map_or(0, usize::from), Ordering::Relaxed);
}

/// The threads of the run's parallel work (`--threads`, else the available parallelism): the
/// library is given this count everywhere it would spawn threads.
pub fn threads() -> usize {
    match THREADS.load(Ordering::Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        n => n,
    }
}

/// Sets `--quiet` for the run.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether the run is `--quiet`.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A progress bar drawn on stderr when it is a terminal, hidden when `--quiet`.
pub fn bar(len: Option<u64>) -> ProgressBar {
    let target = if quiet() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    ProgressBar::with_draw_target(len, target)
}

/// A spinner naming the phase a long run is in, with the time spent in it (drawn on stderr when it
/// is a terminal, hidden when `--quiet`); `set_message` moves it to the next phase,
/// `finish_and_clear` removes it.
pub fn phase(what: &str) -> ProgressBar {
    let spinner = bar(None).with_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.set_message(what.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(200));
    spinner
}

/// `-v`: the clients' `tracing` events at `info` (requests answered, retries, waits), `-vv` at
/// `debug` (each request sent too), written to stderr; nothing without it. Only this workspace's
/// crates log: the HTTP stack's own events stay off.
pub fn log_to_stderr(verbose: u8) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = match verbose {
        0 => return,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let targets = Targets::new()
        .with_target("webex_wholesale_client", level)
        .with_target("webex_sandbox", level)
        .with_target("wholesale_billing", level)
        .with_target("wbill", level);
    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    // A second subscriber cannot be set (a test harness may have one): the run goes on without.
    let _ = tracing_subscriber::registry().with(targets).with(format).try_init();
}

/// A reader of an input with a byte-counting progress bar (drawn only when stderr is a
/// terminal), and the input's length (0 for standard input).
pub fn file_reader(input: &Input, what: &str) -> Result<(Box<dyn Read + Send>, u64)> {
    let Input::File(path) = input else {
        return Ok((Box::new(std::io::stdin()), 0));
    };
    let file = File::open(path).with_context(|| format!("cannot open {what} {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = bar(Some(len));
    if bar.is_hidden() {
        // Nothing is drawn (`--quiet`, or stderr no terminal): the file itself, without the
        // counting of its bytes and lines (5 % of the reading thread's time on a month of call
        // records), and read into a buffer's spare room as it is, which the standard library
        // does for a file but not for a reader of ours, whose buffer it zeroes first.
        return Ok((Box::new(file), len));
    }
    let bar = bar.with_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    Ok((
        Box::new(ProgressReader {
            inner: bar.wrap_read(file),
            bar,
            lines: 0,
            shown: 0,
        }),
        len,
    ))
}

/// A reader that moves its bar by the bytes read and shows the lines read so far (the rows, but
/// for a line break inside a quoted field).
struct ProgressReader<R> {
    inner: indicatif::ProgressBarIter<R>,
    bar: ProgressBar,
    lines: u64,
    /// The line count last shown.
    shown: u64,
}

impl<R: Read> Read for ProgressReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.bar.finish_and_clear();
            return Ok(0);
        }
        // From line break to line break (`memchr`): a byte-by-byte count took as long as the read.
        self.lines += memchr::memchr_iter(b'\n', buf.get(..n).unwrap_or_default()).count() as u64;
        // The message is redrawn at most every 64 Ki lines.
        if self.lines - self.shown >= 1 << 16 {
            self.shown = self.lines;
            self.bar.set_message(format!("{} lines", thousands(self.lines)));
        }
        Ok(n)
    }
}

/// A counting progress bar of `total` items.
pub fn counter(total: u64, what: &str) -> ProgressBar {
    let bar = bar(Some(total)).with_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// Prints the first issues of a load on stderr, then how many more there are.
pub fn print_issues(source: &str, issues: &[LoadIssue]) {
    for issue in issues.iter().take(SHOWN_ISSUES) {
        eprintln!("wbill: {source}: {issue}");
    }
    if issues.len() > SHOWN_ISSUES {
        let errors = issues.iter().filter(|i| i.severity == Severity::Error).count();
        eprintln!(
            "wbill: {source}: … and {} more ({} errors and {} warnings in all; --issues FILE writes them all)",
            issues.len() - SHOWN_ISSUES,
            errors,
            issues.len() - errors
        );
    }
}

/// Writes every issue of a load as CSV (severity, line, column, field, event_id, kind, message).
pub fn write_issues(path: &Path, issues: &[LoadIssue]) -> Result<()> {
    atomic::write_file(path, |out| {
        let mut w = csv::Writer::from_writer(out);
        for issue in issues {
            w.serialize(issue)?;
        }
        w.flush()?;
        Ok(())
    })
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_separators() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000), "1,000");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
