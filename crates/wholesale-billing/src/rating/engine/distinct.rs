//! Duplicates by `Report ID` found after the read, in bounded memory (SPEC §7.1, §7.7 "Rows").
//!
//! While a run reads, every valid record leaves a *key* (its id, the fingerprint of its content,
//! where it was read and its row in the spill) in one of [`PARTITIONS`] partitions chosen by a
//! hash of the id. A partition's keys are buffered ([`PARTITION_BUFFER`] bytes) and written to the
//! spill as a frame when full, so the keys never stay in memory. After the read, each partition
//! is read back alone (two records with the same id are in the same partition, in read order) into
//! a hash table of the first record of each id, and every record after the first of its id is an identical duplicate (skipped) or
//! a conflicting one (an error): what [`Deduplicator`](crate::Deduplicator) tells record by record,
//! with the same issues, in a table the size of one partition rather than of the month.

use std::hash::BuildHasher;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::rating::CallRecord;
use crate::rating::record::{CdrField, issue_at, pack_origin, unpack_origin};

use super::frames::FrameWriter;
use super::spill::{get_varint, put_varint};

/// Partitions of the keys: at 10 million records, about 6 MB each. Their buffers (1 MiB in all)
/// stay in the L2 cache.
pub(crate) const PARTITIONS: usize = 64;
/// The bytes a partition buffers before they are written as a frame.
const PARTITION_BUFFER: usize = 1 << 14;

/// The bytes of keys a partition may hold when it is searched; a larger one is split first
/// (written again, in partitions of the next level). 16 MiB: a month of up to about 15 million
/// records is searched without a split; the search's memory is then about three times this.
const RESOLVE_BUDGET: u64 = 1 << 24;
/// The levels of splitting (6 bits of the hash each).
const MAX_LEVEL: u32 = 9;

/// The partition of a key of hash `hash` at `level`: 6 bits of the hash, from the top.
fn partition(hash: u64, level: u32) -> usize {
    let shift = 58u32.saturating_sub(level.saturating_mul(6));
    (hash >> shift) as usize % PARTITIONS
}

/// Reads the frame of `len` bytes at `offset` into `bytes`.
fn read_frame<S: Read + Seek>(spill: &mut S, offset: u64, len: u32, bytes: &mut Vec<u8>) -> Result<()> {
    let io = |e: std::io::Error| Error::io("reading the keys of the rating spill back", e);
    spill.seek(SeekFrom::Start(offset)).map_err(io)?;
    bytes.resize(len as usize, 0);
    spill.read_exact(bytes).map_err(io)
}

/// Flag: the record is a JSON item.
const ITEM: u8 = 2;
/// Flag: the `Report ID` has a column.
const HAS_COLUMN: u8 = 4;

/// The keys of one read, partitioned.
#[derive(Debug)]
pub(crate) struct DistinctKeys {
    buffers: Vec<Vec<u8>>,
    /// Each partition's frames in the spill: (offset of the payload, length).
    frames: Vec<Vec<(u64, u32)>>,
    /// JSON key spellings of `Report ID` met (for the issues' paths).
    spellings: Vec<String>,
    hasher: hashbrown::DefaultHashBuilder,
    keys: u64,
    /// [`RESOLVE_BUDGET`] (smaller in tests).
    budget: u64,
}

/// A duplicate found: what the reader's diagnostics and the run need of it.
#[derive(Debug)]
pub(crate) struct Found {
    /// The record's index among the records read.
    pub(crate) read_index: u64,
    /// Its row in the spill.
    pub(crate) ordinal: u32,
    /// Identical (skipped) or conflicting (an error).
    pub(crate) identical: bool,
    /// The issue, made for the first ones of each severity only ([`DistinctKeys::resolve`]).
    pub(crate) issue: Option<LoadIssue>,
    place: Place,
}

/// Where a duplicate is and what it repeats, to make its issue.
#[derive(Debug, Clone)]
struct Place {
    input: usize,
    line: u64,
    column: Option<usize>,
    item: Option<u64>,
    /// 0: none; else the index of the key's spelling + 1.
    spelling: usize,
    first: u64,
    id: Vec<u8>,
}

impl DistinctKeys {
    pub(crate) fn new() -> Self {
        DistinctKeys {
            buffers: vec![Vec::new(); PARTITIONS],
            frames: vec![Vec::new(); PARTITIONS],
            spellings: Vec::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
            keys: 0,
            budget: RESOLVE_BUDGET,
        }
    }

    /// Notes the key of `record`, whose row in the spill is `ordinal`.
    ///
    /// # Errors
    /// [`Error::Overflow`] past 4,096 inputs or line 2^34 (as the deduplicator); [`Error::Io`]
    /// when a full partition cannot be written to the spill.
    pub(crate) fn push<S: Write>(
        &mut self,
        record: &CallRecord,
        ordinal: u32,
        spill: &mut FrameWriter<S>,
    ) -> Result<()> {
        let text = record.report_id().as_bytes();
        let fingerprint = match record.fingerprint {
            Some(fingerprint) => fingerprint,
            None => record.content_fingerprint(),
        };
        let origin = record.origin();
        let place = record.id_place;
        let mut flags = 0u8;
        if origin.item.is_some() {
            flags |= ITEM;
        }
        if place.column.is_some() {
            flags |= HAS_COLUMN;
        }
        // 0: none; else the index of the key's spelling + 1.
        let spelling = match place.key.and_then(|k| record.names.get(k as usize)) {
            Some(name) => match self.spellings.iter().position(|s| s == name) {
                Some(i) => i.saturating_add(1),
                None => {
                    self.spellings.push(name.clone());
                    self.spellings.len()
                }
            },
            None => 0,
        };
        let line = if place.line > 0 { place.line } else { origin.line };
        let hash = self.hasher.hash_one(text);
        let part = partition(hash, 0);
        let packed = pack_origin(origin)?;
        let Some(buffer) = self.buffers.get_mut(part) else {
            return Ok(());
        };
        if buffer.capacity() == 0 {
            buffer.reserve_exact(PARTITION_BUFFER.saturating_add(256));
        }
        buffer.push(flags);
        buffer.extend_from_slice(&fingerprint.to_le_bytes());
        put_varint(buffer, record.read_index);
        put_varint(buffer, packed);
        put_varint(buffer, line);
        if let Some(column) = place.column {
            put_varint(buffer, column as u64);
        }
        put_varint(buffer, spelling as u64);
        put_varint(buffer, u64::from(ordinal));
        put_varint(buffer, text.len() as u64);
        buffer.extend_from_slice(text);
        self.keys = self.keys.saturating_add(1);
        if buffer.len() >= PARTITION_BUFFER {
            let at = spill.write_side(buffer)?;
            buffer.clear();
            if let Some(frames) = self.frames.get_mut(part) {
                frames.push(at);
            }
        }
        Ok(())
    }

    /// The duplicates among the keys, in read order, the issues made for the first `max_issues`
    /// of each severity. The spill is left positioned at its end.
    ///
    /// # Errors
    /// [`Error::Io`] when the spill cannot be written or read back.
    pub(crate) fn resolve<S: Read + Write + Seek>(
        mut self,
        spill: &mut FrameWriter<S>,
        max_issues: usize,
        threads: usize,
    ) -> Result<Vec<Found>> {
        let io = |e: std::io::Error| Error::io("reading the keys of the rating spill back", e);
        let mut found = Vec::new();
        if self.keys == 0 {
            return Ok(found);
        }
        // The keys still buffered are written too: every partition is then read from the spill
        // alone, one at a time.
        for (buffer, frames) in self.buffers.iter_mut().zip(&mut self.frames) {
            if !buffer.is_empty() {
                frames.push(spill.write_side(buffer)?);
            }
            *buffer = Vec::new();
        }
        spill.inner()?;
        // (level, frames): a partition over the budget is split by the next bits of the hash
        // into partitions of the next level, written to the spill, so that the memory of the
        // search stays that of a budget, whatever the size of the month.
        let pending: Vec<(u32, Vec<(u64, u32)>)> =
            std::mem::take(&mut self.frames).into_iter().map(|f| (0, f)).collect();
        if threads < 2 {
            self.read_partitions(spill, pending, |bytes| find_duplicates(&bytes, &mut found))?;
        } else {
            // Each partition read here is searched by a second thread meanwhile; the next is
            // read while it searches (two partitions in memory at most, and the one searched).
            std::thread::scope(|scope| {
                let (to_search, partitions) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
                let searcher = scope.spawn(move || {
                    let mut found = Vec::new();
                    for bytes in partitions {
                        find_duplicates(&bytes, &mut found)?;
                    }
                    Ok::<_, Error>(found)
                });
                let read = self.read_partitions(spill, pending, |bytes| {
                    // A closed channel: the searcher failed; its error is the one reported.
                    let _ = to_search.send(bytes);
                    Ok(())
                });
                drop(to_search);
                let searched = searcher.join().map_err(|_| {
                    Error::io(
                        "searching the keys of the rating spill",
                        std::io::Error::other("the search stopped"),
                    )
                })?;
                read?;
                found = searched?;
                Ok::<_, Error>(())
            })?;
        }
        spill.inner()?.seek(SeekFrom::End(0)).map_err(io)?;
        found.sort_unstable_by_key(|f| f.read_index);
        let (mut errors, mut warnings) = (0usize, 0usize);
        for f in &mut found {
            let kept = if f.identical { &mut warnings } else { &mut errors };
            if *kept < max_issues {
                *kept = kept.saturating_add(1);
                f.issue = Some(self.issue(f));
            }
        }
        Ok(found)
    }

    /// Reads each partition of `pending` whole and hands its bytes to `search`, splitting those
    /// over the budget first.
    fn read_partitions<S: Read + Write + Seek>(
        &self,
        spill: &mut FrameWriter<S>,
        mut pending: Vec<(u32, Vec<(u64, u32)>)>,
        mut search: impl FnMut(Vec<u8>) -> Result<()>,
    ) -> Result<()> {
        let mut bytes = Vec::new();
        while let Some((level, frames)) = pending.pop() {
            let total: u64 = frames.iter().map(|&(_, len)| u64::from(len)).sum();
            if total > self.budget && level < MAX_LEVEL {
                let next = level.saturating_add(1);
                let mut parts: Vec<Vec<u8>> = vec![Vec::new(); PARTITIONS];
                let mut part_frames: Vec<Vec<(u64, u32)>> = vec![Vec::new(); PARTITIONS];
                for (offset, len) in frames {
                    read_frame(spill.inner()?, offset, len, &mut bytes)?;
                    let mut rest = bytes.as_slice();
                    while !rest.is_empty() {
                        let before = rest;
                        let key = read_key(&mut rest)?;
                        let raw = before
                            .get(..before.len().saturating_sub(rest.len()))
                            .unwrap_or_default();
                        let part = partition(self.hasher.hash_one(key.text), next);
                        if let (Some(buffer), Some(frames)) = (parts.get_mut(part), part_frames.get_mut(part)) {
                            buffer.extend_from_slice(raw);
                            if buffer.len() >= PARTITION_BUFFER {
                                frames.push(spill.append_side(buffer)?);
                                buffer.clear();
                            }
                        }
                    }
                }
                for (buffer, mut frames) in parts.into_iter().zip(part_frames) {
                    if !buffer.is_empty() {
                        frames.push(spill.append_side(&buffer)?);
                    }
                    pending.push((next, frames));
                }
                continue;
            }
            let total = frames.iter().map(|&(_, len)| len as usize).sum::<usize>();
            let mut partition = Vec::with_capacity(total);
            let inner = spill.inner()?;
            for (offset, len) in frames {
                read_frame(inner, offset, len, &mut bytes)?;
                partition.extend_from_slice(&bytes);
            }
            search(partition)?;
        }
        Ok(())
    }

    /// The issue of a duplicate, as the reader's deduplicator words it.
    fn issue(&self, found: &Found) -> LoadIssue {
        let place = &found.place;
        let first = unpack_origin(place.first);
        let (severity, kind, message) = if found.identical {
            (
                Severity::Warning,
                IssueKind::DuplicateRecord,
                format!("an identical duplicate of the record at {first}: skipped"),
            )
        } else {
            let id = String::from_utf8_lossy(&place.id);
            (
                Severity::Error,
                IssueKind::ConflictingRecordId,
                format!("report id {} was first read at {first} with other content", Quoted(&id)),
            )
        };
        let key = place
            .spelling
            .checked_sub(1)
            .and_then(|s| self.spellings.get(s))
            .map(String::as_str);
        issue_at(
            place.line,
            place.column,
            place.item,
            key,
            CdrField::ReportId,
            (severity, kind, message),
        )
        .in_input(place.input)
    }
}

/// One key read back.
struct Key<'a> {
    flags: u8,
    fingerprint: u64,
    read_index: u64,
    origin: u64,
    line: u64,
    column: u64,
    spelling: u64,
    ordinal: u64,
    text: &'a [u8],
}

fn cut_short() -> Error {
    Error::io("reading the rating spill", std::io::Error::other("a key cut short"))
}

/// Reads one key from the front of `rest`.
fn read_key<'a>(rest: &mut &'a [u8]) -> Result<Key<'a>> {
    let io = |e: std::io::Error| Error::io("reading the rating spill", e);
    let (&flags, tail) = rest.split_first().ok_or_else(cut_short)?;
    *rest = tail;
    let (fingerprint, tail) = rest.split_first_chunk::<8>().ok_or_else(cut_short)?;
    *rest = tail;
    let read_index = get_varint(rest).map_err(io)?;
    let origin = get_varint(rest).map_err(io)?;
    let line = get_varint(rest).map_err(io)?;
    let column = if flags & HAS_COLUMN != 0 {
        get_varint(rest).map_err(io)?
    } else {
        0
    };
    let spelling = get_varint(rest).map_err(io)?;
    let ordinal = get_varint(rest).map_err(io)?;
    let len = usize::try_from(get_varint(rest).map_err(io)?).map_err(|_| cut_short())?;
    if rest.len() < len {
        return Err(cut_short());
    }
    let (text, tail) = rest.split_at(len);
    *rest = tail;
    Ok(Key {
        flags,
        fingerprint: u64::from_le_bytes(*fingerprint),
        read_index,
        origin,
        line,
        column,
        spelling,
        ordinal,
        text,
    })
}

/// Parses the keys of one partition and appends its duplicates to `found`.
fn find_duplicates(bytes: &[u8], found: &mut Vec<Found>) -> Result<()> {
    let mut keys = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        keys.push(read_key(&mut rest)?);
    }
    // The keys of a partition are in read order: the first of each id is the one kept.
    let mut firsts: hashbrown::HashMap<&[u8], usize> = hashbrown::HashMap::with_capacity(keys.len());
    for (i, key) in keys.iter().enumerate() {
        match firsts.entry(key.text) {
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
            hashbrown::hash_map::Entry::Occupied(first) => {
                let Some(f) = keys.get(*first.get()) else { continue };
                let unpacked = unpack_origin(key.origin);
                found.push(Found {
                    read_index: key.read_index,
                    ordinal: u32::try_from(key.ordinal).map_err(|_| cut_short())?,
                    identical: key.fingerprint == f.fingerprint,
                    issue: None,
                    place: Place {
                        input: unpacked.input,
                        line: key.line,
                        column: (key.flags & HAS_COLUMN != 0)
                            .then(|| usize::try_from(key.column).unwrap_or(usize::MAX)),
                        item: if key.flags & ITEM != 0 { unpacked.item } else { None },
                        spelling: usize::try_from(key.spelling).unwrap_or(0),
                        first: f.origin,
                        id: key.text.to_vec(),
                    },
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::{CallFields, CallTime, CallType, Direction};

    /// The duplicates of `n` records (every fifth a re-delivery, every 35th conflicting) found
    /// with a search budget of `budget` bytes: (read index, row, identical, issue).
    fn found(n: u32, budget: u64, threads: usize) -> Vec<(u64, u32, bool, String)> {
        let mut spill = FrameWriter::new(std::io::Cursor::new(Vec::new()));
        let mut keys = DistinctKeys::new();
        keys.budget = budget;
        for i in 0..n {
            let k = if i % 5 == 4 { i / 3 } else { i };
            let id = format!("id-{k}");
            let mut record = CallRecord::from_fields(&CallFields {
                report_id: &id,
                start_time: CallTime::from_nanos(i64::from(k)),
                duration: if i % 35 == 34 { 1 } else { 0 },
                direction: Direction::Originating,
                call_type: CallType::SipNational,
                answered: true,
                called_number: "",
                calling_number: "",
                org_uuid: "org",
                user_uuid: "",
                site_timezone: 0,
            })
            .unwrap();
            record.read_index = u64::from(i);
            record.origin.line = u64::from(i) + 2;
            keys.push(&record, i, &mut spill).unwrap();
        }
        keys.resolve(&mut spill, usize::MAX, threads)
            .unwrap()
            .into_iter()
            .map(|f| {
                let issue = f.issue.map(|i| i.to_string()).unwrap_or_default();
                (f.read_index, f.ordinal, f.identical, issue)
            })
            .collect()
    }

    #[test]
    fn partitions_split_over_the_budget_find_the_same_duplicates() {
        let whole = found(20_000, u64::MAX, 1);
        assert!(whole.len() > 2_000, "{}", whole.len());
        assert!(whole.iter().any(|f| !f.2) && whole.iter().any(|f| f.2));
        // A budget of 2 KiB splits every partition, some twice; searched here or on a second
        // thread.
        for threads in [1, 2] {
            assert_eq!(found(20_000, u64::MAX, threads), whole);
            assert_eq!(found(20_000, 2_048, threads), whole);
            assert_eq!(found(20_000, 200, threads), whole);
        }
    }
}
