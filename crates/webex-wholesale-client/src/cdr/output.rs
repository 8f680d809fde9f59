//! The output of a fetch: `{"items": [...]}` written item by item, the checkpoint after each
//! complete window, and the file fetch that keeps both beside the output until it is complete.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::feed::{CdrFeed, CdrProgress};
use super::window::{CdrPeriod, instant_text};
use crate::error::{Error, Result};

const HEAD: &[u8] = b"{\"items\": [";

/// Writes the JSON `{"items": [...]}` one item at a time, counting the bytes and items written;
/// one item per line, each as given.
///
/// ```
/// use webex_wholesale_client::cdr::ItemsWriter;
/// let item = serde_json::value::RawValue::from_string(r#"{"Report ID": "a"}"#.into())?;
/// let mut w = ItemsWriter::start(Vec::new())?;
/// w.item(&item)?;
/// w.item(&item)?;
/// w.finish()?;
/// let text = String::from_utf8(w.into_inner()).unwrap();
/// assert_eq!(text, "{\"items\": [\n{\"Report ID\": \"a\"},\n{\"Report ID\": \"a\"}\n]}\n");
/// let empty = ItemsWriter::start(Vec::new())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ItemsWriter<W> {
    out: W,
    bytes: u64,
    records: u64,
}

impl<W: Write> ItemsWriter<W> {
    /// Writes the opening `{"items": [`.
    ///
    /// # Errors
    /// What `out` returns.
    ///
    /// ```
    /// let w = webex_wholesale_client::cdr::ItemsWriter::start(Vec::new())?;
    /// assert_eq!(w.bytes(), 11);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn start(mut out: W) -> io::Result<Self> {
        out.write_all(HEAD)?;
        Ok(ItemsWriter {
            out,
            bytes: HEAD.len() as u64,
            records: 0,
        })
    }

    /// Continues an output of which `bytes` bytes and `records` items are already written (and
    /// `out` placed after them).
    ///
    /// ```
    /// let mut w = webex_wholesale_client::cdr::ItemsWriter::resume(Vec::new(), 11, 0);
    /// w.finish()?;
    /// assert_eq!(w.bytes(), 14);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn resume(out: W, bytes: u64, records: u64) -> Self {
        ItemsWriter { out, bytes, records }
    }

    /// Writes one item, as given.
    ///
    /// # Errors
    /// What `out` returns.
    pub fn item(&mut self, item: &RawValue) -> io::Result<()> {
        let sep: &[u8] = if self.records == 0 { b"\n" } else { b",\n" };
        self.out.write_all(sep)?;
        self.out.write_all(item.get().as_bytes())?;
        self.bytes = self.bytes.saturating_add((sep.len() + item.get().len()) as u64);
        self.records = self.records.saturating_add(1);
        Ok(())
    }

    /// Writes the closing `]}` and a new line, and flushes.
    ///
    /// # Errors
    /// What `out` returns.
    pub fn finish(&mut self) -> io::Result<()> {
        let tail: &[u8] = if self.records == 0 { b"]}\n" } else { b"\n]}\n" };
        self.out.write_all(tail)?;
        self.bytes = self.bytes.saturating_add(tail.len() as u64);
        self.out.flush()
    }

    /// Bytes written so far, counting those of a resumed output.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Items written so far, counting those of a resumed output.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// The writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// The writer, given back.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Where a fetch stands after a complete window: the windows done (all those ending at or before
/// `done_until`), and the length of the output after them. An output cut back to `bytes` and
/// continued from `done_until` holds every window once.
///
/// ```
/// use webex_wholesale_client::cdr::{CdrCheckpoint, CdrPeriod};
/// let period = CdrPeriod::from_period(&wholesale_billing::Period::from_dates("2024-05-01", "2024-05-01")?);
/// let cp = CdrCheckpoint::start(&period);
/// assert_eq!((cp.windows, cp.records, cp.bytes, cp.is_complete()), (0, 0, 11, false));
/// let json = cp.to_json();
/// assert!(json.contains(r#""done_until": "2024-05-01T00:00:00.000Z""#));
/// assert_eq!(CdrCheckpoint::from_json(&json, "cp.json".as_ref())?, cp);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CdrCheckpoint {
    /// The period's start.
    pub start: DateTime<Utc>,
    /// The period's end (exclusive).
    pub end: DateTime<Utc>,
    /// The end of the last complete window (the period's start before the first).
    pub done_until: DateTime<Utc>,
    /// Complete windows.
    pub windows: u32,
    /// Records written in them.
    pub records: u64,
    /// The output's length after them.
    pub bytes: u64,
    /// Whether the output is complete (closed with `]}`).
    pub complete: bool,
}

/// The checkpoint file's JSON.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    version: u32,
    start: String,
    end: String,
    done_until: String,
    windows: u32,
    records: u64,
    bytes: u64,
    complete: bool,
}

impl CdrCheckpoint {
    /// The checkpoint of a fetch of `period` not started yet (the output's opening written).
    pub fn start(period: &CdrPeriod) -> Self {
        CdrCheckpoint {
            start: period.start(),
            end: period.end(),
            done_until: period.start(),
            windows: 0,
            records: 0,
            bytes: HEAD.len() as u64,
            complete: false,
        }
    }

    /// The end of the last complete window.
    pub fn done_until(&self) -> DateTime<Utc> {
        self.done_until
    }

    /// Whether every window is written and the output closed.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    pub(crate) fn advance(&mut self, done_until: DateTime<Utc>, bytes: u64, records: u64) {
        self.done_until = done_until;
        self.windows = self.windows.saturating_add(1);
        self.bytes = bytes;
        self.records = records;
    }

    pub(crate) fn complete(&mut self, bytes: u64) {
        self.bytes = bytes;
        self.complete = true;
    }

    /// Checks that this is a checkpoint of `period`, not complete, at a window boundary.
    pub(crate) fn check_period(&self, period: &CdrPeriod, path: &Path) -> Result<()> {
        let problem = if (self.start, self.end) != (period.start(), period.end()) {
            Some(format!(
                "it is of the period {}..{}, not {period}",
                instant_text(self.start),
                instant_text(self.end)
            ))
        } else if self.complete {
            Some("it is of a complete fetch".to_owned())
        } else if self.done_until != self.start && !period.windows().any(|w| w.end == self.done_until) {
            Some(format!("{} is not the end of a window", instant_text(self.done_until)))
        } else {
            None
        };
        match problem {
            Some(problem) => Err(Error::CdrCheckpointMismatch {
                path: path.to_owned(),
                problem,
            }),
            None => Ok(()),
        }
    }

    /// The checkpoint as JSON (instants as `YYYY-MM-DDTHH:MM:SS.mmmZ`).
    pub fn to_json(&self) -> String {
        let stored = Stored {
            version: 1,
            start: instant_text(self.start),
            end: instant_text(self.end),
            done_until: instant_text(self.done_until),
            windows: self.windows,
            records: self.records,
            bytes: self.bytes,
            complete: self.complete,
        };
        let mut text = serde_json::to_string_pretty(&stored).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a checkpoint written by [`CdrCheckpoint::to_json`]; `path` names it in errors.
    ///
    /// # Errors
    /// [`Error::CdrCheckpointUnreadable`] for text that is not one;
    /// [`Error::CdrCheckpointMismatch`] for a version other than 1 or a bad instant.
    ///
    /// ```
    /// use webex_wholesale_client::cdr::CdrCheckpoint;
    /// let err = CdrCheckpoint::from_json("{}", "x.checkpoint".as_ref()).unwrap_err();
    /// assert!(err.to_string().starts_with("cdr checkpoint x.checkpoint: not a checkpoint"), "{err}");
    /// ```
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let stored: Stored = serde_json::from_str(text).map_err(|source| Error::CdrCheckpointUnreadable {
            path: path.to_owned(),
            source,
        })?;
        let mismatch = |problem: String| Error::CdrCheckpointMismatch {
            path: path.to_owned(),
            problem,
        };
        if stored.version != 1 {
            return Err(mismatch(format!("version {} is not 1", stored.version)));
        }
        let instant = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| mismatch(format!("{text:?} is not an rfc 3339 instant")))
        };
        Ok(CdrCheckpoint {
            start: instant(&stored.start)?,
            end: instant(&stored.end)?,
            done_until: instant(&stored.done_until)?,
            windows: stored.windows,
            records: stored.records,
            bytes: stored.bytes,
            complete: stored.complete,
        })
    }

    /// Reads the checkpoint file `path`, if there is one.
    ///
    /// # Errors
    /// [`Error::CdrOutput`] when it cannot be read; as [`CdrCheckpoint::from_json`].
    pub fn read(path: &Path) -> Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => CdrCheckpoint::from_json(&text, path).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(output_error(path, "reading", e)),
        }
    }

    /// Writes the checkpoint file `path` whole or not at all (a temporary file beside it, synced,
    /// renamed over it).
    ///
    /// # Errors
    /// [`Error::CdrOutput`].
    pub fn write(&self, path: &Path) -> Result<()> {
        let tmp = sidecar(path, "tmp");
        let written = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(self.to_json().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        written.map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            output_error(path, "writing the checkpoint", e)
        })
    }
}

/// `<path>.<suffix>`, beside `path`.
///
/// ```
/// let p = webex_wholesale_client::cdr::sidecar("out/may.json".as_ref(), "partial");
/// assert_eq!(p, std::path::Path::new("out/may.json.partial"));
/// ```
pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

impl CdrFeed {
    /// Fetches `period` into the file `out`, whole or not at all: the items go to
    /// `<out>.partial`, and after each complete window the checkpoint to `<out>.checkpoint`; once
    /// every window is in, the partial file is renamed to `out` and the checkpoint removed.
    ///
    /// With `resume`, a checkpoint left by an interrupted fetch of the same period is continued:
    /// the partial file is cut back to the checkpoint's length (dropping the items of the window
    /// in progress) and the fetch goes on with the next window. Without a checkpoint, it starts
    /// afresh. `progress` is called after each complete window; `Break` stops the fetch (the
    /// checkpoint kept) with [`Error::CdrFetchStopped`].
    ///
    /// # Errors
    /// As [`CdrFeed::fetch_into`]; [`Error::CdrPartialExists`] when a checkpoint exists and
    /// `resume` is false; [`Error::CdrCheckpointMismatch`] when it is of another period or its
    /// partial file is missing or shorter; [`Error::CdrOutput`] for the files.
    ///
    /// ```no_run
    /// # async fn run(feed: webex_wholesale_client::cdr::CdrFeed, period: webex_wholesale_client::cdr::CdrPeriod)
    /// # -> webex_wholesale_client::Result<()> {
    /// let done = feed.fetch_to_file(&period, "cdrs.json".as_ref(), true, |p| {
    ///     eprintln!("{p}");
    ///     std::ops::ControlFlow::Continue(())
    /// }).await?;
    /// assert!(done.is_complete());
    /// # Ok(()) }
    /// ```
    pub async fn fetch_to_file(
        &self,
        period: &CdrPeriod,
        out: &Path,
        resume: bool,
        mut progress: impl FnMut(&CdrProgress) -> ControlFlow<()>,
    ) -> Result<CdrCheckpoint> {
        let partial = sidecar(out, "partial");
        let cp_path = sidecar(out, "checkpoint");
        let (file, from) = match CdrCheckpoint::read(&cp_path)? {
            Some(_) if !resume => {
                return Err(Error::CdrPartialExists {
                    path: out.to_owned(),
                    checkpoint: cp_path,
                });
            }
            Some(cp) => {
                cp.check_period(period, &cp_path)?;
                let mismatch = |problem: String| Error::CdrCheckpointMismatch {
                    path: cp_path.clone(),
                    problem,
                };
                let mut file = OpenOptions::new().read(true).write(true).open(&partial).map_err(|e| {
                    mismatch(format!(
                        "its partial output {} cannot be opened: {e}",
                        partial.display()
                    ))
                })?;
                let len = file.metadata().map_err(|e| output_error(&partial, "reading", e))?.len();
                if len < cp.bytes {
                    return Err(mismatch(format!(
                        "its partial output {} has {len} bytes, fewer than the {} checkpointed",
                        partial.display(),
                        cp.bytes
                    )));
                }
                file.set_len(cp.bytes)
                    .and_then(|()| file.seek(SeekFrom::End(0)).map(drop))
                    .map_err(|e| output_error(&partial, "cutting back to the checkpoint", e))?;
                (file, Some(cp))
            }
            None => (
                File::create(&partial).map_err(|e| output_error(&partial, "creating", e))?,
                None,
            ),
        };
        let mut buffered = BufWriter::with_capacity(1 << 20, file);
        let at_partial = |e: Error| match e {
            Error::CdrOutput { path, what, source } if path.as_os_str() == "-" => output_error(&partial, what, source),
            other => other,
        };
        let done = self
            .fetch_into(period, &mut buffered, from.as_ref(), |w, cp, p| {
                w.flush()
                    .and_then(|()| w.get_ref().sync_data())
                    .map_err(|e| output_error(&partial, "syncing", e))?;
                cp.write(&cp_path)?;
                Ok(progress(p))
            })
            .await
            .map_err(at_partial)?;
        let file = buffered
            .into_inner()
            .map_err(|e| output_error(&partial, "writing", e.into_error()))?;
        file.sync_all().map_err(|e| output_error(&partial, "syncing", e))?;
        drop(file);
        std::fs::rename(&partial, out).map_err(|e| output_error(out, "renaming into place", e))?;
        std::fs::remove_file(&cp_path).map_err(|e| output_error(&cp_path, "removing", e))?;
        if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(done)
    }
}

/// An I/O error of the output.
pub(crate) fn output_error(path: impl Into<PathBuf>, what: &'static str, source: io::Error) -> Error {
    Error::CdrOutput {
        path: path.into(),
        what,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_output_is_an_empty_list() {
        let mut w = ItemsWriter::start(Vec::new()).unwrap();
        w.finish().unwrap();
        let bytes = w.bytes();
        let text = w.into_inner();
        assert_eq!(text, b"{\"items\": []}\n");
        assert_eq!(bytes, text.len() as u64);
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["items"].as_array().map(Vec::len), Some(0));
    }

    #[test]
    fn bad_checkpoints_are_refused() {
        let period =
            CdrPeriod::from_period(&wholesale_billing::Period::from_dates("2024-05-01", "2024-05-02").unwrap());
        let mut cp = CdrCheckpoint::start(&period);
        let path = Path::new("c");
        assert!(cp.check_period(&period, path).is_ok());
        cp.advance(period.start() + chrono::TimeDelta::hours(12), 100, 3);
        assert!(cp.check_period(&period, path).is_ok());
        let mut odd = cp.clone();
        odd.done_until = period.start() + chrono::TimeDelta::hours(5);
        assert!(
            odd.check_period(&period, path)
                .unwrap_err()
                .to_string()
                .contains("not the end of a window")
        );
        let other = CdrPeriod::from_period(&wholesale_billing::Period::from_dates("2024-05-01", "2024-05-03").unwrap());
        assert!(
            cp.check_period(&other, path)
                .unwrap_err()
                .to_string()
                .contains("it is of the period")
        );
        let json = cp.to_json().replace("\"version\": 1", "\"version\": 2");
        assert!(matches!(
            CdrCheckpoint::from_json(&json, path),
            Err(Error::CdrCheckpointMismatch { .. })
        ));
    }
}
