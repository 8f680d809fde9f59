//! The rows of a generated month put in time order, as a provisioning log is written: an external
//! merge sort in bounded memory.
//!
//! The generator draws each subscriber's history in turn; [`TimeSorter`] gathers the rows (each
//! without its event id) with their instant, sorts every [`RUN_BYTES`] of them by instant (a
//! stable sort: rows of the same instant keep the order they were drawn in) and writes the sorted
//! run to a spill the caller gives. At the end the runs are merged, ties going to the earlier
//! run, and each row is written with the next event id, so that ids increase with time. A month
//! that fits in one run is sorted in memory and never touches the spill.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};

/// The bytes of rows a run gathers before it is sorted and written to the spill.
pub(super) const RUN_BYTES: usize = 32 << 20;
/// The bytes each run's reader reads from the spill at a time while the runs are merged.
const MERGE_BUFFER: usize = 1 << 16;
/// A row in a run: its instant (8 bytes) and its length (4 bytes), then its bytes.
const ROW_HEAD: usize = 12;

/// What the generator's spill must be: any `Read + Write + Seek` (a temporary file, a cursor).
pub trait Spill: Read + Write + Seek {}

impl<T: Read + Write + Seek> Spill for T {}

fn spill_error(e: std::io::Error) -> Error {
    Error::io("sorting the generated events by time", e)
}

/// Rows gathered, sorted by instant in runs, and merged into one stream (see the module's doc).
pub(super) struct TimeSorter<'s> {
    spill: &'s mut dyn Spill,
    run_bytes: usize,
    /// The bytes of the rows of the run being gathered.
    arena: Vec<u8>,
    /// (instant, start in `arena`, length) of each row of the run, in the order drawn.
    keys: Vec<(i64, usize, usize)>,
    /// (offset, length) of each run in the spill.
    runs: Vec<(u64, u64)>,
    /// The bytes written to the spill.
    written: u64,
}

impl<'s> TimeSorter<'s> {
    /// A sorter writing runs of `run_bytes` (at least one row each) to `spill`, from its start.
    pub(super) fn new(spill: &'s mut dyn Spill, run_bytes: usize) -> Self {
        TimeSorter {
            spill,
            run_bytes: run_bytes.max(1),
            arena: Vec::new(),
            keys: Vec::new(),
            runs: Vec::new(),
            written: 0,
        }
    }

    /// Adds a row drawn at `at` (microseconds since the epoch).
    pub(super) fn push(&mut self, at: i64, row: &[u8]) -> Result<()> {
        if !self.keys.is_empty() && self.arena.len().saturating_add(row.len()) > self.run_bytes {
            self.write_run()?;
        }
        self.keys.push((at, self.arena.len(), row.len()));
        self.arena.extend_from_slice(row);
        Ok(())
    }

    /// Sorts the rows gathered by instant, keeping the order drawn among equal instants.
    fn sort(&mut self) {
        self.keys.sort_by_key(|&(at, ..)| at);
    }

    /// Sorts the rows gathered and writes them to the spill as a run.
    fn write_run(&mut self) -> Result<()> {
        self.sort();
        if self.runs.is_empty() {
            self.spill.seek(SeekFrom::Start(0)).map_err(spill_error)?;
        }
        let start = self.written;
        let mut buffer = Vec::with_capacity(MERGE_BUFFER);
        for &(at, from, len) in &self.keys {
            let row = self.arena.get(from..from.saturating_add(len)).unwrap_or_default();
            let len = u32::try_from(row.len())
                .map_err(|_| spill_error(std::io::Error::other("a generated row longer than 4 GiB")))?;
            buffer.extend_from_slice(&at.to_le_bytes());
            buffer.extend_from_slice(&len.to_le_bytes());
            buffer.extend_from_slice(row);
            if buffer.len() >= MERGE_BUFFER {
                self.spill.write_all(&buffer).map_err(spill_error)?;
                self.written = self.written.saturating_add(buffer.len() as u64);
                buffer.clear();
            }
        }
        self.spill.write_all(&buffer).map_err(spill_error)?;
        self.written = self.written.saturating_add(buffer.len() as u64);
        self.runs.push((start, self.written.saturating_sub(start)));
        self.arena.clear();
        self.keys.clear();
        Ok(())
    }

    /// Hands every row to `emit` in time order (equal instants in the order drawn); returns the
    /// number of rows.
    pub(super) fn finish(mut self, mut emit: impl FnMut(&[u8]) -> Result<()>) -> Result<u64> {
        if self.runs.is_empty() {
            self.sort();
            for &(_, from, len) in &self.keys {
                emit(self.arena.get(from..from.saturating_add(len)).unwrap_or_default())?;
            }
            return Ok(self.keys.len() as u64);
        }
        if !self.keys.is_empty() {
            self.write_run()?;
        }
        self.spill.flush().map_err(spill_error)?;
        let mut readers: Vec<RunReader> = self
            .runs
            .iter()
            .map(|&(offset, len)| RunReader {
                next: offset,
                end: offset.saturating_add(len),
                buffer: Vec::new(),
                at: 0,
                row: (0, 0),
            })
            .collect();
        let mut heap = BinaryHeap::with_capacity(readers.len());
        for (index, reader) in readers.iter_mut().enumerate() {
            if reader.advance(self.spill)? {
                heap.push(Reverse((reader.at, index)));
            }
        }
        let mut rows = 0u64;
        while let Some(Reverse((_, index))) = heap.pop() {
            let Some(reader) = readers.get_mut(index) else {
                continue;
            };
            emit(reader.current())?;
            rows = rows.saturating_add(1);
            if reader.advance(self.spill)? {
                heap.push(Reverse((reader.at, index)));
            }
        }
        Ok(rows)
    }
}

/// One run of the spill, read a buffer at a time.
struct RunReader {
    /// The offset in the spill of the first byte not yet read into `buffer`.
    next: u64,
    /// The offset where the run ends.
    end: u64,
    /// Bytes read from the spill; the current row, then what follows it.
    buffer: Vec<u8>,
    /// The instant of the current row.
    at: i64,
    /// (start, end) of the current row in `buffer`.
    row: (usize, usize),
}

impl RunReader {
    fn current(&self) -> &[u8] {
        self.buffer.get(self.row.0..self.row.1).unwrap_or_default()
    }

    /// Makes the run's next row current; `false` at the run's end.
    fn advance(&mut self, spill: &mut dyn Spill) -> Result<bool> {
        self.buffer.drain(..self.row.1.min(self.buffer.len()));
        self.row = (0, 0);
        if !self.fill(spill, ROW_HEAD)? {
            return Ok(false);
        }
        let mut at = [0u8; 8];
        at.copy_from_slice(self.buffer.get(..8).unwrap_or(&[0; 8]));
        let mut len = [0u8; 4];
        len.copy_from_slice(self.buffer.get(8..ROW_HEAD).unwrap_or(&[0; 4]));
        let len = u32::from_le_bytes(len) as usize;
        if !self.fill(spill, ROW_HEAD.saturating_add(len))? {
            return Err(spill_error(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "a run of the spill cut short",
            )));
        }
        self.at = i64::from_le_bytes(at);
        self.row = (ROW_HEAD, ROW_HEAD.saturating_add(len));
        Ok(true)
    }

    /// Reads until `buffer` holds `want` bytes, or the run ends: whether it holds them (an
    /// empty buffer at the run's end holds none; a run ending inside them is cut short).
    fn fill(&mut self, spill: &mut dyn Spill, want: usize) -> Result<bool> {
        while self.buffer.len() < want {
            let left = self.end.saturating_sub(self.next);
            if left == 0 {
                if self.buffer.is_empty() {
                    return Ok(false);
                }
                return Err(spill_error(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "a run of the spill cut short",
                )));
            }
            let take = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(MERGE_BUFFER.max(want.saturating_sub(self.buffer.len())));
            let at = self.buffer.len();
            self.buffer.resize(at.saturating_add(take), 0);
            spill.seek(SeekFrom::Start(self.next)).map_err(spill_error)?;
            spill
                .read_exact(self.buffer.get_mut(at..).unwrap_or_default())
                .map_err(spill_error)?;
            self.next = self.next.saturating_add(take as u64);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::io::Cursor;

    use proptest::prelude::*;

    use super::*;

    /// The rows in the order a stable sort by instant gives.
    fn stable_sort(rows: &[(i64, Vec<u8>)]) -> Vec<Vec<u8>> {
        let mut sorted = rows.to_vec();
        sorted.sort_by_key(|(at, _)| *at);
        sorted.into_iter().map(|(_, row)| row).collect()
    }

    fn sorted_by(rows: &[(i64, Vec<u8>)], run_bytes: usize) -> (Vec<Vec<u8>>, usize) {
        let mut spill = Cursor::new(Vec::new());
        let mut sorter = TimeSorter::new(&mut spill, run_bytes);
        for (at, row) in rows {
            sorter.push(*at, row).unwrap();
        }
        let runs = sorter.runs.len();
        let mut out = Vec::new();
        let n = sorter
            .finish(|row| {
                out.push(row.to_vec());
                Ok(())
            })
            .unwrap();
        assert_eq!(n as usize, out.len());
        (out, runs)
    }

    proptest! {
        /// Rows with many equal instants, runs of 1 to 300 bytes (from one row a run to all in
        /// memory): the merge gives exactly the stable sort.
        #[test]
        fn runs_merge_into_the_stable_sort(
            rows in prop::collection::vec((0i64..20, prop::collection::vec(any::<u8>(), 0..40)), 0..120),
            run_bytes in 1usize..300,
        ) {
            let (out, _) = sorted_by(&rows, run_bytes);
            prop_assert_eq!(out, stable_sort(&rows));
        }
    }

    #[test]
    fn one_run_stays_in_memory_and_many_use_the_spill() {
        let rows: Vec<(i64, Vec<u8>)> = (0..1000)
            .map(|i| ((i * 7919) % 97, format!("row {i}").into_bytes()))
            .collect();
        let (in_memory, runs) = sorted_by(&rows, RUN_BYTES);
        assert_eq!(runs, 0);
        let (spilled, runs) = sorted_by(&rows, 64);
        assert!(runs > 100);
        assert_eq!(in_memory, stable_sort(&rows));
        assert_eq!(spilled, in_memory);
    }

    #[test]
    fn a_spill_that_loses_its_runs_is_an_error() {
        /// A spill that forgets what was written.
        struct Forgetful(Cursor<Vec<u8>>);
        impl Read for Forgetful {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.0.read(buf)
            }
        }
        impl Write for Forgetful {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        impl Seek for Forgetful {
            fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
                self.0.seek(pos)
            }
        }
        let mut spill = Forgetful(Cursor::new(Vec::new()));
        let mut sorter = TimeSorter::new(&mut spill, 8);
        for i in 0..10 {
            sorter.push(i, b"0123456789").unwrap();
        }
        let err = sorter.finish(|_| Ok(())).unwrap_err();
        assert!(
            err.to_string().contains("sorting the generated events by time"),
            "{err}"
        );
    }
}
