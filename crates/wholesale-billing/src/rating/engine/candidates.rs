//! The allowance candidates of a run in bounded memory: kept in chunks of [`RUN`] that are sorted
//! and written to the spill as *runs* when full, then merged back in order of use (customer,
//! `Start time`, `Report ID`), the duplicates' left out — an external merge sort, so a month
//! of any size holds one chunk and one buffer per run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{Read, Seek, SeekFrom, Write};

use hashbrown::HashMap;

use crate::error::{Error, Result};

use super::allowance::Candidate;
use super::frames::FrameWriter;

/// Candidates per run (2 MiB).
const RUN: usize = 1 << 16;
/// The bytes of a candidate in a run.
const BYTES: usize = 32;
/// The bytes read from a run at a time in the merge (2,048 candidates).
const READ: usize = 1 << 16;

/// The sort key of a candidate without its full id: ties on (customer, start, id prefix) are
/// ordered by their full ids after the merge.
type SortKey = (u32, i64, u64, u32);

fn sort_key(c: &Candidate) -> SortKey {
    (c.customer, c.start, c.id_prefix, c.ordinal)
}

fn encode(c: &Candidate, out: &mut Vec<u8>) {
    out.extend_from_slice(&c.customer.to_le_bytes());
    out.extend_from_slice(&c.ordinal.to_le_bytes());
    out.extend_from_slice(&c.start.to_le_bytes());
    out.extend_from_slice(&c.id_prefix.to_le_bytes());
    out.extend_from_slice(&c.billable.to_le_bytes());
    out.extend_from_slice(&c.class.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
}

fn decode(bytes: &[u8; BYTES]) -> Candidate {
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes.get(at..at.saturating_add(8)).unwrap_or(&[0; 8]));
        b
    };
    let half = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(bytes.get(at..at.saturating_add(4)).unwrap_or(&[0; 4]));
        b
    };
    let mut class = [0u8; 2];
    class.copy_from_slice(bytes.get(28..30).unwrap_or(&[0; 2]));
    Candidate {
        customer: u32::from_le_bytes(half(0)),
        ordinal: u32::from_le_bytes(half(4)),
        start: i64::from_le_bytes(word(8)),
        id_prefix: u64::from_le_bytes(word(16)),
        billable: u32::from_le_bytes(half(24)),
        class: u16::from_le_bytes(class),
    }
}

/// The candidates of a run: the current chunk in memory, the full ones in the spill.
#[derive(Debug, Default)]
pub(crate) struct CandidateRuns {
    current: Vec<Candidate>,
    /// The runs written: (offset of their bytes in the spill, length).
    runs: Vec<(u64, u32)>,
    bytes: Vec<u8>,
}

impl CandidateRuns {
    /// Keeps a candidate, writing the chunk as a sorted run when it is full.
    pub(crate) fn push<S: Write>(&mut self, candidate: Candidate, spill: &mut FrameWriter<S>) -> Result<()> {
        if self.current.capacity() == 0 {
            self.current.reserve_exact(RUN);
        }
        self.current.push(candidate);
        if self.current.len() >= RUN {
            self.current.sort_unstable_by_key(sort_key);
            self.bytes.clear();
            for c in &self.current {
                encode(c, &mut self.bytes);
            }
            self.runs.push(spill.write_side(&self.bytes)?);
            self.current.clear();
            self.bytes = Vec::new();
        }
        Ok(())
    }

    /// The merge of the runs in `spill` (whose frames are all written) and the current chunk.
    pub(crate) fn merge<'s, S: Read + Seek>(
        &'s mut self,
        spill: &'s mut S,
        skipped: &'s [u32],
    ) -> Result<Merge<'s, S>> {
        self.current.sort_unstable_by_key(sort_key);
        let mut merge = Merge {
            spill,
            skipped,
            sources: Vec::new(),
            heap: BinaryHeap::new(),
            current: &self.current,
            at: 0,
            read: Vec::new(),
        };
        for &(offset, len) in &self.runs {
            merge.sources.push(Source {
                offset,
                end: offset.saturating_add(u64::from(len)),
                buffer: Vec::new(),
                at: 0,
            });
        }
        for i in 0..merge.sources.len() {
            merge.refill(i)?;
            if let Some(c) = merge.peek(i) {
                merge.heap.push(Reverse((sort_key(&c), i)));
            }
        }
        if let Some(c) = merge.current.first() {
            merge.heap.push(Reverse((sort_key(c), usize::MAX)));
        }
        Ok(merge)
    }
}

/// One run being read back.
struct Source {
    /// The next bytes to read, and the end of the run.
    offset: u64,
    end: u64,
    buffer: Vec<Candidate>,
    at: usize,
}

/// The candidates of every run, merged in order of (customer, start, id prefix, ordinal).
pub(crate) struct Merge<'s, S: Read + Seek> {
    spill: &'s mut S,
    skipped: &'s [u32],
    sources: Vec<Source>,
    /// The smallest unread key of each source (`usize::MAX`: the chunk in memory).
    heap: BinaryHeap<Reverse<(SortKey, usize)>>,
    current: &'s [Candidate],
    at: usize,
    read: Vec<u8>,
}

impl<S: Read + Seek> Merge<'_, S> {
    fn peek(&self, source: usize) -> Option<Candidate> {
        if source == usize::MAX {
            return self.current.get(self.at).copied();
        }
        let s = self.sources.get(source)?;
        s.buffer.get(s.at).copied()
    }

    /// Reads the next candidates of a run when its buffer is used up.
    fn refill(&mut self, source: usize) -> Result<()> {
        let io = |e: std::io::Error| Error::io("reading the allowance candidates of the rating spill back", e);
        let Some(s) = self.sources.get_mut(source) else {
            return Ok(());
        };
        if s.at < s.buffer.len() || s.offset >= s.end {
            return Ok(());
        }
        let len = usize::try_from(s.end.saturating_sub(s.offset).min(READ as u64)).unwrap_or(READ);
        self.read.resize(len, 0);
        self.spill.seek(SeekFrom::Start(s.offset)).map_err(io)?;
        self.spill.read_exact(&mut self.read).map_err(io)?;
        s.offset = s.offset.saturating_add(len as u64);
        s.buffer.clear();
        s.at = 0;
        let (chunks, _) = self.read.as_chunks::<BYTES>();
        s.buffer.extend(chunks.iter().map(decode));
        Ok(())
    }

    /// The next candidate in order, the duplicates' skipped.
    pub(crate) fn next(&mut self) -> Result<Option<Candidate>> {
        while let Some(Reverse((_, source))) = self.heap.pop() {
            let Some(c) = self.peek(source) else { continue };
            if source == usize::MAX {
                self.at = self.at.saturating_add(1);
            } else if let Some(s) = self.sources.get_mut(source) {
                s.at = s.at.saturating_add(1);
                self.refill(source)?;
            }
            if let Some(next) = self.peek(source) {
                self.heap.push(Reverse((sort_key(&next), source)));
            }
            if self.skipped.binary_search(&c.ordinal).is_err() {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }
}

/// Calls `each` with every candidate of `merge` in order of use: the merge's order, with each
/// group that shares (customer, start, id prefix) put in order of full `Report ID` (`ids`; the
/// ordinal where an id is not known).
pub(crate) fn in_order_of_use<S: Read + Seek>(
    merge: &mut Merge<'_, S>,
    ids: &HashMap<u32, String>,
    mut each: impl FnMut(&Candidate) -> Result<()>,
) -> Result<()> {
    let mut group: Vec<Candidate> = Vec::new();
    let mut flush = |group: &mut Vec<Candidate>| -> Result<()> {
        if group.len() > 1 {
            group.sort_by(|a, b| match (ids.get(&a.ordinal), ids.get(&b.ordinal)) {
                (Some(x), Some(y)) => x.as_bytes().cmp(y.as_bytes()),
                _ => a.ordinal.cmp(&b.ordinal),
            });
        }
        group.iter().try_for_each(&mut each)?;
        group.clear();
        Ok(())
    };
    while let Some(c) = merge.next()? {
        if let Some(first) = group.first()
            && (first.customer, first.start, first.id_prefix) != (c.customer, c.start, c.id_prefix)
        {
            flush(&mut group)?;
        }
        group.push(c);
    }
    flush(&mut group)
}

/// The ordinals of the candidates that share (customer, start, id prefix) with another, sorted:
/// only their full ids are needed to order them.
pub(crate) fn tied_ordinals<S: Read + Seek>(merge: &mut Merge<'_, S>) -> Result<Vec<u32>> {
    let mut tied = Vec::new();
    let mut last: Option<Candidate> = None;
    while let Some(c) = merge.next()? {
        if let Some(l) = last
            && (l.customer, l.start, l.id_prefix) == (c.customer, c.start, c.id_prefix)
        {
            if tied.last() != Some(&l.ordinal) {
                tied.push(l.ordinal);
            }
            tied.push(c.ordinal);
        }
        last = Some(c);
    }
    tied.sort_unstable();
    tied.dedup();
    Ok(tied)
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn candidate(i: u32) -> Candidate {
        // Many customers, starts and prefixes repeat: ties and every order of the key.
        Candidate {
            customer: (i * 7) % 5,
            ordinal: i,
            start: i64::from((i * 13) % 11),
            id_prefix: u64::from((i * 3) % 4),
            billable: i,
            class: (i % 3) as u16,
        }
    }

    #[test]
    fn the_merge_of_runs_is_the_sort_of_all() {
        let mut spill = FrameWriter::new(std::io::Cursor::new(Vec::new()));
        let mut runs = CandidateRuns::default();
        let n = 2 * RUN as u32 + 1_000;
        for i in 0..n {
            runs.push(candidate(i), &mut spill).unwrap();
        }
        assert_eq!(runs.runs.len(), 2);
        let mut cursor = spill.into_inner().unwrap();
        let skipped = [5u32, 70_000, n - 1];
        let mut merge = runs.merge(&mut cursor, &skipped).unwrap();
        let mut got = Vec::new();
        while let Some(c) = merge.next().unwrap() {
            got.push(c);
        }
        let mut want: Vec<Candidate> = (0..n).filter(|i| !skipped.contains(i)).map(candidate).collect();
        want.sort_unstable_by_key(sort_key);
        assert_eq!(got, want);
    }

    #[test]
    fn ties_are_ordered_by_full_id() {
        let mut spill = FrameWriter::new(std::io::Cursor::new(Vec::new()));
        let mut runs = CandidateRuns::default();
        let tie = |ordinal| Candidate {
            customer: 1,
            ordinal,
            start: 5,
            id_prefix: 9,
            billable: 60,
            class: 0,
        };
        for c in [tie(0), tie(1), tie(2), Candidate { start: 4, ..tie(3) }] {
            runs.push(c, &mut spill).unwrap();
        }
        let mut cursor = spill.into_inner().unwrap();
        let mut merge = runs.merge(&mut cursor, &[]).unwrap();
        let ids: HashMap<u32, String> = [(0, "b".into()), (1, "c".into()), (2, "a".into())]
            .into_iter()
            .collect();
        let mut order = Vec::new();
        in_order_of_use(&mut merge, &ids, |c| {
            order.push(c.ordinal);
            Ok(())
        })
        .unwrap();
        assert_eq!(order, [3, 2, 0, 1]);
    }
}
