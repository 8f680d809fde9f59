//! [`Deduplicator`]: duplicates by `Report ID` (SPEC §7.1, §7.7 "Rows"), over any number of
//! inputs, in little memory.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::error::{Error, Result};

use super::call_record::{CallRecord, RecordOrigin};

/// Entries per chunk of the store: chunks are allocated whole, once, so the store has no slack
/// beyond its last chunk.
const CHUNK: usize = 1 << 16;

/// Flag of a packed origin (48 bits): the id is not a canonical UUID, and lives in the arena.
const INTERNED: u64 = 1 << 47;
/// Flag of a packed origin: the position is a JSON item index.
const ITEM: u64 = 1 << 46;
/// Bits of the input index in a packed origin, above the 34 bits of the position.
const INPUT_BITS: u32 = 12;
const POSITION_BITS: u32 = 34;
const POSITION_MASK: u64 = (1 << POSITION_BITS) - 1;

/// One distinct `Report ID` seen: its id (a canonical UUID's 16 bytes, or the place of the id in
/// the arena), the fingerprint of its content and where it was first read (packed in 48 bits).
/// 30 bytes, unaligned.
#[derive(Debug, Clone, Copy)]
struct Entry {
    id: [u8; 16],
    fingerprint: [u8; 8],
    origin: [u8; 6],
}

impl Entry {
    fn new(id: [u8; 16], fingerprint: u64, origin: u64) -> Self {
        let mut packed = [0u8; 6];
        for (slot, b) in packed.iter_mut().zip(origin.to_le_bytes()) {
            *slot = b;
        }
        Entry {
            id,
            fingerprint: fingerprint.to_le_bytes(),
            origin: packed,
        }
    }

    fn fingerprint(&self) -> u64 {
        u64::from_le_bytes(self.fingerprint)
    }

    /// The packed origin and its flags.
    fn origin(&self) -> u64 {
        let mut bytes = [0u8; 8];
        for (slot, b) in bytes.iter_mut().zip(self.origin) {
            *slot = b;
        }
        u64::from_le_bytes(bytes)
    }
}

/// What [`Deduplicator::check`] found about a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateCheck {
    /// The first record with this `Report ID`.
    New,
    /// An identical duplicate (same `Report ID`, same value in every field of SPEC §7.1): skip it.
    Identical {
        /// Where the first one was read.
        first: RecordOrigin,
    },
    /// The same `Report ID` with other content: an error.
    Conflicting {
        /// Where the first one was read.
        first: RecordOrigin,
    },
}

/// Remembers every `Report ID` seen, across inputs, to tell new records from identical
/// duplicates (skipped: the feed re-delivers late records) and conflicting ones (an error).
///
/// Built for a month of 10 million records: a `Report ID` in the canonical form of a UUID
/// (`0a0c2eb7-f1f6-3326-86f9-565d2e11553d`, lower case) is kept as its 16 bytes, any other id once
/// in an arena; the content is kept as a 64-bit fingerprint (XXH3-64) of the fields of SPEC
/// §7.1 after parsing (so `Z` and `+00:00` are one instant), never the record. The two records
/// compared share their `Report ID`, so a conflicting duplicate goes unseen only when its other
/// content has the same fingerprint as the first record's: a probability of about 2^-64 for
/// each conflicting duplicate (not each pair of records) — once in 18 billion billion conflicts (the hash is not cryptographic: a file
/// crafted to collide is not defended against). The origin of the first record is kept (its line
/// for CSV, its item index for JSON) to locate both records of a conflict.
///
/// Memory: 30 bytes per distinct record in chunks of 65,536, plus a hash index of 5 bytes per
/// bucket (buckets are a power of two, at most 7/8 full): about 36 to 41 bytes per record for
/// UUID ids (384 MB for 10 million) ([`Deduplicator::heap_bytes`] tells). A rating run
/// ([`RatingRun::read`](crate::RatingRun::read)) finds the same duplicates after the read instead,
/// partitioned on disk, in bounded memory.
///
/// ```
/// use wholesale_billing::{CallFields, CallRecord, CallTime, CallType, Deduplicator, Direction, DuplicateCheck};
/// let mut fields = CallFields {
///     report_id: "0a0c2eb7-f1f6-3326-86f9-565d2e11553d",
///     start_time: CallTime::parse("2024-05-03T10:30:00Z")?,
///     duration: 36, direction: Direction::Originating, call_type: CallType::SipNational,
///     answered: true, called_number: "02079460000", calling_number: "", org_uuid: "org-1",
///     user_uuid: "", site_timezone: 0,
/// };
/// let mut dedup = Deduplicator::new();
/// assert_eq!(dedup.check(&CallRecord::from_fields(&fields)?)?, DuplicateCheck::New);
/// fields.start_time = CallTime::parse("2024-05-03T11:30:00+01:00")?; // the same instant
/// assert!(matches!(dedup.check(&CallRecord::from_fields(&fields)?)?, DuplicateCheck::Identical { .. }));
/// fields.duration = 37;
/// assert!(matches!(dedup.check(&CallRecord::from_fields(&fields)?)?, DuplicateCheck::Conflicting { .. }));
/// assert_eq!(dedup.len(), 1);
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Default)]
pub struct Deduplicator {
    chunks: Vec<Vec<Entry>>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Ids that are not canonical UUIDs, one after the other.
    arena: Vec<u8>,
}

impl std::fmt::Debug for Deduplicator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deduplicator")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

/// The 16 bytes of a UUID in canonical form (36 characters, lower-case hex, hyphens at 8, 13, 18
/// and 23), or `None`: only that one spelling maps to bytes, so that two ids map to the same bytes
/// only when they are the same text.
fn canonical_uuid(text: &[u8]) -> Option<[u8; 16]> {
    if text.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0usize;
    for (i, &b) in text.iter().enumerate() {
        let value = match b {
            b'-' if matches!(i, 8 | 13 | 18 | 23) => continue,
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            _ => return None,
        };
        if matches!(i, 8 | 13 | 18 | 23) {
            return None;
        }
        let byte = out.get_mut(nibbles / 2)?;
        *byte = (*byte << 4) | value;
        nibbles += 1;
    }
    (nibbles == 32).then_some(out)
}

impl Deduplicator {
    /// An empty deduplicator.
    pub fn new() -> Self {
        Deduplicator::default()
    }

    /// The number of distinct `Report ID`s seen.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Whether no record was seen.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// The bytes held on the heap: the entries, the index, the arena of other ids.
    ///
    /// ```
    /// let dedup = wholesale_billing::Deduplicator::new();
    /// assert_eq!(dedup.heap_bytes(), 0);
    /// ```
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * size_of::<Entry>())
            .sum::<usize>()
            + self.chunks.capacity() * size_of::<Vec<Entry>>()
            + self.index.capacity() * (size_of::<u32>() + 1)
            + self.arena.capacity()
    }

    fn entry(&self, index: u32) -> Option<&Entry> {
        let i = index as usize;
        self.chunks.get(i / CHUNK)?.get(i % CHUNK)
    }

    fn id_bytes<'a>(&'a self, entry: &'a Entry) -> &'a [u8] {
        if entry.origin() & INTERNED == 0 {
            return &entry.id;
        }
        let (start, len) = interned_place(&entry.id);
        self.arena.get(start..start + len).unwrap_or(&[])
    }

    fn hash_id(&self, interned: bool, id: &[u8]) -> u64 {
        self.hasher.hash_one((interned, id))
    }

    /// Whether `record` is new, an identical duplicate or a conflicting one, remembering it when
    /// new.
    ///
    /// # Errors
    /// [`Error::Overflow`] past 4 billion distinct records, 4,096 inputs or 2^34 (17 billion)
    /// lines or items in one input.
    pub fn check(&mut self, record: &CallRecord) -> Result<DuplicateCheck> {
        let id = record.report_id().as_bytes();
        let uuid = canonical_uuid(id);
        let interned = uuid.is_none();
        // What is stored and hashed: a UUID's 16 bytes, or the text of any other id.
        let key: &[u8] = match &uuid {
            Some(bytes) => bytes,
            None => id,
        };
        let fingerprint = self.fingerprint(record);
        let hash = self.hash_id(interned, key);
        let found = self.index.find(hash, |&i| {
            self.entry(i).is_some_and(|e| match &uuid {
                // A UUID's 16 bytes compared as an array: two words, no call to `memcmp`.
                Some(bytes) => e.origin() & INTERNED == 0 && e.id == *bytes,
                None => e.origin() & INTERNED != 0 && self.id_bytes(e) == key,
            })
        });
        if let Some(&i) = found
            && let Some(entry) = self.entry(i)
        {
            let first = unpack_origin(entry.origin());
            return Ok(if entry.fingerprint() == fingerprint {
                DuplicateCheck::Identical { first }
            } else {
                DuplicateCheck::Conflicting { first }
            });
        }
        let mut origin = pack_origin(record.origin())?;
        let id = match uuid {
            Some(bytes) => bytes,
            None => {
                origin |= INTERNED;
                let start = self.arena.len();
                self.arena.extend_from_slice(id);
                let len = u32::try_from(id.len()).map_err(|_| Error::overflow("a report id over 4 GiB"))?;
                let mut place = [0u8; 16];
                place[..8].copy_from_slice(&(start as u64).to_le_bytes());
                place[8..12].copy_from_slice(&len.to_le_bytes());
                place
            }
        };
        let index =
            u32::try_from(self.len()).map_err(|_| Error::overflow("more than 4 billion distinct call records"))?;
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(Entry::new(id, fingerprint, origin));
        }
        let Deduplicator {
            chunks,
            index: table,
            hasher,
            arena,
            ..
        } = self;
        table.insert_unique(hash, index, |&i| {
            let i = i as usize;
            match chunks.get(i / CHUNK).and_then(|c| c.get(i % CHUNK)) {
                Some(e) if e.origin() & INTERNED != 0 => {
                    let (start, len) = interned_place(&e.id);
                    hasher.hash_one((true, arena.get(start..start + len).unwrap_or(&[])))
                }
                Some(e) => hasher.hash_one((false, &e.id[..])),
                None => 0,
            }
        });
        Ok(DuplicateCheck::New)
    }

    /// The fingerprint of `record` ([`CallRecord::content_fingerprint`]), as the reader that made
    /// it computed it when it did.
    fn fingerprint(&mut self, record: &CallRecord) -> u64 {
        match record.fingerprint {
            Some(fingerprint) => fingerprint,
            None => record.content_fingerprint(),
        }
    }
}

fn interned_place(id: &[u8; 16]) -> (usize, usize) {
    let mut start = [0u8; 8];
    start.copy_from_slice(&id[..8]);
    let mut len = [0u8; 4];
    len.copy_from_slice(&id[8..12]);
    (u64::from_le_bytes(start) as usize, u32::from_le_bytes(len) as usize)
}

pub(crate) fn pack_origin(origin: RecordOrigin) -> Result<u64> {
    let input = u64::try_from(origin.input)
        .ok()
        .filter(|&i| i < 1 << INPUT_BITS)
        .ok_or_else(|| Error::overflow("more than 4096 call record inputs"))?;
    let (flag, position) = match origin.item {
        Some(item) => (ITEM, item),
        None => (0, origin.line),
    };
    if position > POSITION_MASK {
        return Err(Error::overflow("a call record past line (or item) 2^34"));
    }
    Ok(flag | input << POSITION_BITS | position)
}

pub(crate) fn unpack_origin(packed: u64) -> RecordOrigin {
    let input = ((packed >> POSITION_BITS) & ((1 << INPUT_BITS) - 1)) as usize;
    let position = packed & POSITION_MASK;
    if packed & ITEM != 0 {
        RecordOrigin {
            input,
            line: 0,
            item: Some(position),
        }
    } else {
        RecordOrigin {
            input,
            line: position,
            item: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_uuids_are_packed() {
        let text = b"0a0c2eb7-f1f6-3326-86f9-565d2e11553d";
        let bytes = canonical_uuid(text).unwrap();
        assert_eq!(bytes[0], 0x0a);
        assert_eq!(bytes[15], 0x3d);
        assert!(canonical_uuid(b"0A0C2EB7-F1F6-3326-86F9-565D2E11553D").is_none());
        assert!(canonical_uuid(b"0a0c2eb7f1f6-3326-86f9-565d2e11553d-").is_none());
        assert!(canonical_uuid(b"0a0c2eb7-f1f6-3326-86f9-565d2e11553g").is_none());
        assert!(canonical_uuid(b"r1").is_none());
    }

    #[test]
    fn origins_round_trip() {
        for origin in [
            RecordOrigin {
                input: 0,
                line: 2,
                item: None,
            },
            RecordOrigin {
                input: 4_095,
                line: POSITION_MASK,
                item: None,
            },
            RecordOrigin {
                input: 3,
                line: 0,
                item: Some(12),
            },
        ] {
            assert_eq!(unpack_origin(pack_origin(origin).unwrap()), origin);
        }
        assert!(
            pack_origin(RecordOrigin {
                input: 4_096,
                line: 1,
                item: None
            })
            .is_err()
        );
        // A JSON origin keeps its item, not its line.
        let json = RecordOrigin {
            input: 1,
            line: 40,
            item: Some(3),
        };
        assert_eq!(
            unpack_origin(pack_origin(json).unwrap()),
            RecordOrigin { line: 0, ..json }
        );
    }

    #[test]
    fn entries_are_30_bytes() {
        assert_eq!(size_of::<Entry>(), 30);
        let entry = Entry::new([7; 16], u64::MAX - 1, INTERNED | ITEM | 5);
        assert_eq!(
            (entry.fingerprint(), entry.origin()),
            (u64::MAX - 1, INTERNED | ITEM | 5)
        );
    }
}
