//! A CSV input cut into parts of whole rows, and the pipeline that has worker threads make
//! something of each part while the calling thread takes the results in input order.
//!
//! The calling thread reads the header itself ([`Unpiped`]), then cuts the rest of the input
//! into parts of whole rows ([`last_row_end`], which follows quotes as the `csv` crate does, so a
//! quoted line break is no cut) of about [`PART_BYTES`] each, and hands them round to the
//! workers; each splits its part into rows with a [`RowSplitter`] restarted on it and makes a
//! batch of it, which the calling thread takes back in the order the parts were cut. Only a few
//! parts are in flight a worker, so memory is bounded by the parts and batches in flight, not by
//! the size of the input; and as everything is taken in input order, every thread count gives the
//! same result.

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, channel, sync_channel};

use super::rows::{Row, RowAt, RowSplitter, Split, last_row_end, newlines};

/// Bytes read from the input at a time, and the least a part handed to a worker holds (but for
/// the last): about 2,000 rows of a Webex call report, 4,000 of an events file.
pub(crate) const PART_BYTES: usize = 1 << 20;
/// Parts in flight per worker: with [`PART_BYTES`], what bounds the readers' memory (about
/// 2 MiB of bytes and two batches a worker).
const PARTS_PER_WORKER: usize = 2;

/// An input read row by row on the calling thread, `read_bytes` at a time: for a header (then
/// [`Unpiped::into_parts`]) or for a whole input read on one thread.
pub(crate) struct Unpiped<R: Read> {
    input: R,
    splitter: RowSplitter,
    buffer: Vec<u8>,
    /// Bytes read at a time.
    read_bytes: usize,
}

impl<R: Read> Unpiped<R> {
    /// The input from its start, read `read_bytes` at a time.
    pub(crate) fn new(input: R, read_bytes: usize) -> Self {
        Unpiped {
            input,
            splitter: RowSplitter::new(),
            buffer: Vec::new(),
            read_bytes: read_bytes.max(1),
        }
    }

    /// Reads the next row into `row`: `Ok(None)` at the end of the input.
    pub(crate) fn next_row(&mut self, row: &mut Row) -> std::io::Result<Option<RowAt>> {
        loop {
            match self.splitter.next_row(row) {
                Split::Row(at) => return Ok(Some(at)),
                Split::End => return Ok(None),
                Split::NeedMore => {
                    if self.buffer.len() != self.read_bytes {
                        self.buffer.resize(self.read_bytes, 0);
                    }
                    let read = loop {
                        match self.input.read(&mut self.buffer) {
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            other => break other?,
                        }
                    };
                    match self.buffer.get(..read) {
                        Some([]) | None => self.splitter.finish(),
                        Some(bytes) => self.splitter.feed(bytes),
                    }
                }
            }
        }
    }

    /// The rest of the input (what was read but not split, then the unread bytes), to be cut
    /// into parts of at least the bytes read at a time.
    pub(crate) fn into_parts(mut self) -> Parts<R> {
        let (carry, line) = self.splitter.take_rest();
        Parts {
            input: self.input,
            carry,
            line,
            part_bytes: self.read_bytes,
            ended: false,
            error: None,
        }
    }
}

/// The input after its header, cut into parts of whole rows on the calling thread.
pub(crate) struct Parts<R: Read> {
    input: R,
    /// The bytes read past the last part's end: the start of the next part.
    carry: Vec<u8>,
    /// The line of the first byte of `carry`.
    line: u64,
    /// The bytes read at a time, and the least a part holds but for the last.
    part_bytes: usize,
    /// Whether the input is read through (or failed): no part is left.
    ended: bool,
    /// The read error that ended the input, reported once the parts before it are delivered.
    error: Option<std::io::Error>,
}

impl<R: Read> Parts<R> {
    /// Reads `part_bytes` more into `bytes`, or up to the end: whether the end was reached.
    /// The bytes are read into the vector's spare room as they are (`read_to_end` does not
    /// zero it first: the zeroing was 1 % of the samples of a rating run); what was read before
    /// a failure is kept.
    fn fill(&mut self, bytes: &mut Vec<u8>) -> std::io::Result<bool> {
        let want = self.part_bytes.max(1);
        bytes.reserve(want);
        let read = self.input.by_ref().take(want as u64).read_to_end(bytes)?;
        Ok(read < want)
    }

    /// The next part, in `bytes` (a spent buffer, refilled): the line of its first row and whether
    /// it ends the input; `None` when no row is left.
    fn cut(&mut self, mut bytes: Vec<u8>) -> Option<(Vec<u8>, u64, bool)> {
        if self.ended {
            return None;
        }
        bytes.clear();
        std::mem::swap(&mut bytes, &mut self.carry);
        let line = self.line;
        let (cut, last) = loop {
            match self.fill(&mut bytes) {
                Ok(false) => {}
                Ok(true) => break (bytes.len(), true),
                Err(e) => {
                    // The rows read whole before the failure are delivered, then the error.
                    self.error = Some(e);
                    break (last_row_end(&bytes).unwrap_or(0), true);
                }
            }
            // A part longer than a chunk when a row (a quoted field) is: read on to its end.
            if let Some(cut) = last_row_end(&bytes) {
                break (cut, false);
            }
        };
        self.ended = last;
        self.carry.extend_from_slice(bytes.get(cut..).unwrap_or_default());
        bytes.truncate(cut);
        self.line += newlines(&bytes);
        (!bytes.is_empty()).then_some((bytes, line, last))
    }
}

/// Where the parts of an input come from: cut on the calling thread ([`Parts`]) or on a thread
/// of their own ([`cut_ahead`]).
pub(crate) trait PartSource {
    /// The next part, in `spent` (a buffer of a part read through, refilled): its bytes, the
    /// line of its first row and whether it ends the input; `None` when no row is left.
    fn next_part(&mut self, spent: Vec<u8>) -> Option<(Vec<u8>, u64, bool)>;

    /// The read error that ended the input, once the parts before it are given.
    fn take_error(&mut self) -> Option<std::io::Error>;
}

impl<R: Read> PartSource for Parts<R> {
    fn next_part(&mut self, spent: Vec<u8>) -> Option<(Vec<u8>, u64, bool)> {
        self.cut(spent)
    }

    fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }
}

/// What the cutting thread of [`cut_ahead`] hands over.
enum Cut {
    /// A part: its bytes, the line of its first row, whether it ends the input.
    Part(Vec<u8>, u64, bool),
    /// No part is left; the read error that ended the input, if one did.
    End(Option<std::io::Error>),
}

/// The parts of an input cut on a thread of their own, a few ahead of their use.
pub(crate) struct CutAhead {
    parts: Receiver<Cut>,
    /// Spent buffers, back to the cutting thread to be filled again.
    spent: Sender<Vec<u8>>,
    ended: bool,
    error: Option<std::io::Error>,
}

impl PartSource for CutAhead {
    fn next_part(&mut self, spent: Vec<u8>) -> Option<(Vec<u8>, u64, bool)> {
        if self.ended {
            return None;
        }
        // The cutting thread may have ended: a buffer it does not take is dropped.
        let _ = self.spent.send(spent);
        match self.parts.recv() {
            Ok(Cut::Part(bytes, line, last)) => Some((bytes, line, last)),
            Ok(Cut::End(error)) => {
                self.ended = true;
                self.error = error;
                None
            }
            Err(_) => {
                self.ended = true;
                self.error = Some(pipeline_gone());
                None
            }
        }
    }

    fn take_error(&mut self) -> Option<std::io::Error> {
        self.error.take()
    }
}

/// Runs `work` with the parts of `parts` cut on a thread of their own (reading the input and
/// finding where rows end), at most `ahead` parts ahead of their use: the calling thread, which
/// takes the workers' batches, then does nothing else.
pub(crate) fn cut_ahead<R: Read + Send, T>(parts: Parts<R>, ahead: usize, work: impl FnOnce(&mut CutAhead) -> T) -> T {
    let mut parts = parts;
    std::thread::scope(|scope| {
        let (to_user, from_cutter) = sync_channel::<Cut>(ahead.max(1));
        let (spent_tx, spent_rx) = channel::<Vec<u8>>();
        scope.spawn(move || {
            loop {
                let spent = spent_rx.try_recv().unwrap_or_default();
                let cut = match parts.cut(spent) {
                    Some((bytes, line, last)) => Cut::Part(bytes, line, last),
                    None => Cut::End(parts.error.take()),
                };
                let end = matches!(cut, Cut::End(_));
                // The user stopped taking parts: stop cutting.
                if to_user.send(cut).is_err() || end {
                    return;
                }
            }
        });
        let mut source = CutAhead {
            parts: from_cutter,
            spent: spent_tx,
            ended: false,
            error: None,
        };
        // Dropping `source` after `work` lets a cutting thread blocked on a full channel end.
        work(&mut source)
    })
}

/// One part, as a worker sees it: its rows, in order.
pub(crate) struct Part<'s> {
    splitter: &'s mut RowSplitter,
    last: bool,
}

impl Part<'_> {
    /// Reads the part's next row into `row`: `None` after its last.
    pub(crate) fn next_row(&mut self, row: &mut Row) -> Option<RowAt> {
        // A restarted splitter has its whole input: it never needs more.
        match self.splitter.next_row(row) {
            Split::Row(at) => Some(at),
            Split::NeedMore | Split::End => None,
        }
    }

    /// Whether the part ends the input: only its last row can be cut short (the other parts end
    /// with a line break).
    pub(crate) fn is_last(&self) -> bool {
        self.last
    }
}

/// A batch being made or taken, with the bytes of its part once spent.
#[derive(Default)]
struct Slot<B> {
    batch: B,
    bytes: Vec<u8>,
}

/// Has `workers` threads make a batch of each part of whole rows that `parts` gives, with
/// `make` (given the part, a scratch of the worker's own and the batch to fill, a spent one
/// reused), while `take` is given each batch in input order on the calling thread. With 0
/// workers everything runs on the calling thread.
///
/// Returns `Ok(Some(e))` when reading the input failed, after every batch of the rows read whole
/// before the failure was taken; `Err` when `take` failed (nothing more is taken).
pub(crate) fn make_in_parts<B, W, E>(
    parts: &mut dyn PartSource,
    workers: usize,
    make: impl Fn(&mut Part<'_>, &mut W, &mut B) + Sync,
    mut take: impl FnMut(&mut B) -> Result<(), E>,
) -> Result<Option<std::io::Error>, E>
where
    B: Default + Send,
    W: Default,
{
    if workers == 0 {
        let mut splitter = RowSplitter::new();
        let mut scratch = W::default();
        let mut slot = Slot::<B>::default();
        while let Some((mut bytes, line, last)) = parts.next_part(std::mem::take(&mut slot.bytes)) {
            splitter.restart(&mut bytes, line);
            let mut part = Part {
                splitter: &mut splitter,
                last,
            };
            make(&mut part, &mut scratch, &mut slot.batch);
            take(&mut slot.batch)?;
            slot.bytes = bytes;
        }
        return Ok(parts.take_error());
    }
    let make = &make;
    std::thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (job_tx, job_rx) = channel::<(Slot<B>, u64, bool)>();
            let (done_tx, done_rx) = channel::<Slot<B>>();
            scope.spawn(move || {
                let mut splitter = RowSplitter::new();
                let mut scratch = W::default();
                for (mut slot, line, last) in job_rx {
                    // The part becomes the splitter's whole input; its previous part comes
                    // back, spent.
                    splitter.restart(&mut slot.bytes, line);
                    let mut part = Part {
                        splitter: &mut splitter,
                        last,
                    };
                    make(&mut part, &mut scratch, &mut slot.batch);
                    if done_tx.send(slot).is_err() {
                        return;
                    }
                }
            });
            to_workers.push(job_tx);
            from_workers.push(done_rx);
        }
        let mut free: Vec<Slot<B>> = Vec::new();
        // Parts are handed round, part `n` to worker `n % workers`, and taken back in that order.
        let (mut sent, mut taken) = (0usize, 0usize);
        let result = 'parts: loop {
            while sent - taken < PARTS_PER_WORKER * workers {
                let mut slot = free.pop().unwrap_or_default();
                let Some((bytes, line, last)) = parts.next_part(std::mem::take(&mut slot.bytes)) else {
                    break;
                };
                slot.bytes = bytes;
                let Some(to_worker) = to_workers.get(sent % workers) else {
                    break;
                };
                if to_worker.send((slot, line, last)).is_err() {
                    break 'parts Ok(Some(pipeline_gone()));
                }
                sent += 1;
            }
            if taken == sent {
                break Ok(parts.take_error());
            }
            // A worker that ended without its batch cannot have: it ends only on a closed
            // channel (or a panic); read it as an I/O failure rather than an end.
            let Some(Ok(mut slot)) = from_workers.get(taken % workers).map(Receiver::recv) else {
                break Ok(Some(pipeline_gone()));
            };
            taken += 1;
            if let Err(e) = take(&mut slot.batch) {
                break Err(e);
            }
            free.push(slot);
        };
        // The workers end once their channels close.
        drop(to_workers);
        result
    })
}

/// The failure reported when a worker stopped without handing its batch back.
fn pipeline_gone() -> std::io::Error {
    std::io::Error::other("a csv worker thread stopped")
}
