//! The longest-prefix table of a compiled tariff: a digit trie with a direct first level, built
//! once, then written compactly for the lookups.
//!
//! - **Building** ([`PrefixTrie`]): nodes of 10 slots, one per digit, in one flat vector. A
//!   slot holds the child node (0 for none: the root is node 0 and never a child) and the
//!   destination of the path that ends with this digit (0 for none, else the destination's
//!   index + 1). Prefixes are inserted one by one, a prefix inserted twice is told;
//!   [`PrefixTrie::freeze`] then writes the [`PrefixTable`] the lookups read.
//! - **First level**: a direct table of the 10,000 four-digit heads (`0000` … `9999`), each
//!   with the destination of the longest prefix of at most four digits it begins with (and that
//!   prefix's length) and the block of the trie node the head leads to. A number of four digits
//!   or more starts with one read there instead of four dependent reads down the trie.
//! - **Blocks**: each trie node is a block of 8-byte cells in one vector: a header (4 bits a
//!   digit: where in the block that digit's entry is, 0 for none), then one entry for each
//!   digit the node has (the destination of the path ending with the digit, and the link to the
//!   block below). A node of two digits takes three cells, not ten slots, so the table is a
//!   sixth of the size and more of it stays in the caches; the header and the entry a step
//!   reads are in the same block, mostly the same cache line.
//! - **Tails** (path compression): below the first level, a link whose whole subtree is one
//!   prefix, at most [`TAIL_DIGITS`] digits further, points to a tail instead of a chain of
//!   blocks: one cell, written right after the entries of the block that links to it (those
//!   digits, 4 bits each, and the prefix's destination and length), so one read of a block
//!   ends most walks where a chain of single-child nodes took one dependent read a digit.
//!
//! A lookup reads one first-level entry, then one block per further digit until the path ends
//! or reaches a tail, remembering the deepest destination; it allocates nothing. Numbers
//! shorter than four digits walk the blocks from the root's. [`PrefixTable::lookup_numbers`]
//! interleaves the walks of [`LANES`] numbers.
//!
//! Memory, for the `tariff_lookup` bench's table (100,000 random prefixes of 5 to 10 digits
//! under 200 country codes): 34,641 blocks and their tails in 234,833 cells (1,878,664 bytes)
//! and 120,000 bytes of first level, 2.0 MB, against 16.6 MB (205,710 nodes of 80 bytes) for
//! the slots the building uses, which is what the lookups read before.
//! `Tariff::prefix_table_bytes` tells the figure of a table.

use std::hint::select_unpredictable;

use crate::error::{Error, Result};

/// Child slots per node: one per decimal digit.
const FANOUT: usize = 10;
/// The digits of the heads the first level is indexed by.
const HEAD_DIGITS: usize = 4;
/// The first level's entries: 10^[`HEAD_DIGITS`].
const HEADS: usize = 10_000;
/// The numbers [`PrefixTable::lookup_numbers`] walks together (a power of two).
pub(crate) const LANES: usize = 32;
/// The bit of a link that makes it a tail's (the other bits: the tail's first cell); a link
/// without it is a block's first cell, 0 for none.
const TAIL: u32 = 1 << 31;
/// The most digits of a tail: 7 of 4 bits beside its destination and length, in one cell.
const TAIL_DIGITS: usize = 7;
/// A digit value no header has an entry for: what a walk reads past the digits it holds.
const NO_DIGIT: u32 = 10;
/// [`NO_DIGIT`] in every 4 bits.
const NO_DIGITS: u32 = 0xaaaa_aaaa;

/// One digit of a node of the building trie: the node below it and the destination of the
/// path it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    /// The child node, 0 for none.
    child: u32,
    /// The destination index + 1 of the path ending with this digit, 0 for none.
    value: u32,
}

/// One four-digit head of the first level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Head {
    /// The node the four digits lead to (in a [`PrefixTrie`]: its index; in a [`PrefixTable`]:
    /// its block's first cell), 0 for none.
    node: u32,
    /// The destination index + 1 of the longest prefix of at most four digits the head begins
    /// with, 0 for none.
    value: u32,
    /// That prefix's length (1 to 4; 0 for none).
    len: u32,
}

/// The building form of a longest-prefix map from digit strings to destination indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrefixTrie {
    /// `slots[node × 10 + digit]`.
    slots: Vec<Slot>,
    /// `heads[first four digits as a number]`.
    heads: Vec<Head>,
    /// Number of prefixes inserted.
    len: usize,
}

impl Default for PrefixTrie {
    fn default() -> Self {
        PrefixTrie {
            slots: vec![Slot::default(); FANOUT],
            heads: vec![Head::default(); HEADS],
            len: 0,
        }
    }
}

/// The value of an ASCII digit, `None` for another byte.
#[inline]
fn digit(b: u8) -> Option<u8> {
    let d = b.wrapping_sub(b'0');
    (d <= 9).then_some(d)
}

impl PrefixTrie {
    /// Maps `prefix` (ASCII digits, not empty) to `destination`. When the prefix is mapped
    /// already, nothing changes and the destination it has is returned as the error.
    ///
    /// # Errors
    /// `Ok(Err(first))` for a prefix mapped already to `first`; [`Error::PrefixNotDigits`] for
    /// a prefix that is empty or not digits; [`Error::Overflow`] past 4 billion nodes or
    /// destinations.
    pub(crate) fn insert(&mut self, prefix: &str, destination: usize) -> Result<std::result::Result<(), usize>> {
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::PrefixNotDigits {
                prefix: prefix.to_owned(),
            });
        }
        let value = destination
            .checked_add(1)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| Error::overflow("more than 4 billion destinations"))?;
        let digits = prefix.as_bytes();
        let mut node = 0usize;
        let mut head = 0usize;
        for (i, &b) in digits.iter().enumerate() {
            let d = usize::from(b - b'0');
            if i < HEAD_DIGITS {
                head = head * 10 + d;
            }
            let slot = node * FANOUT + d;
            if i + 1 == digits.len() {
                return Ok(self.set_value(slot, value, head, i + 1));
            }
            let child = self.slots.get(slot).map_or(0, |s| s.child);
            node = if child == 0 {
                let new = self.slots.len() / FANOUT;
                let index =
                    u32::try_from(new).map_err(|_| Error::overflow("more than 4 billion prefix table nodes"))?;
                self.slots.extend([Slot::default(); FANOUT]);
                if let Some(s) = self.slots.get_mut(slot) {
                    s.child = index;
                }
                if i + 1 == HEAD_DIGITS
                    && let Some(h) = self.heads.get_mut(head)
                {
                    h.node = index;
                }
                new
            } else {
                child as usize
            };
        }
        Ok(Ok(()))
    }

    /// Gives the prefix of `len` digits ending at `slot` (whose first digits, up to four, are
    /// `head`) the destination `value`, in its slot and in the heads it covers.
    fn set_value(&mut self, slot: usize, value: u32, head: usize, len: usize) -> std::result::Result<(), usize> {
        let Some(s) = self.slots.get_mut(slot) else {
            return Ok(());
        };
        if s.value != 0 {
            return Err(s.value as usize - 1);
        }
        s.value = value;
        self.len += 1;
        if let Some(missing) = HEAD_DIGITS.checked_sub(len) {
            // The heads that begin with the prefix: `head × 10^missing` and the next ones.
            let span = 10usize.pow(missing as u32);
            let start = head * span;
            // `len` ≤ 4 and every len-digit path has at most one prefix: a shorter one is
            // replaced, a longer one is kept.
            for h in self.heads.iter_mut().skip(start).take(span) {
                if (h.len as usize) < len {
                    h.value = value;
                    h.len = len as u32;
                }
            }
        }
        Ok(())
    }

    /// The ten slots of `node`.
    fn node_slots(&self, node: usize) -> &[Slot] {
        let start = node.saturating_mul(FANOUT);
        self.slots.get(start..start.saturating_add(FANOUT)).unwrap_or_default()
    }

    /// The one prefix below `node` as a tail cell ([`tail_cell`]); `None` when it is more than
    /// [`TAIL_DIGITS`] digits further. `node` must have exactly one prefix at or below it.
    fn tail_below(&self, mut node: usize) -> Option<u64> {
        let mut digits = 0u32;
        for len in 0..TAIL_DIGITS {
            let (d, slot) = self
                .node_slots(node)
                .iter()
                .enumerate()
                .find(|(_, s)| s.child != 0 || s.value != 0)?;
            digits |= (d as u32) << (4 * len);
            if slot.value != 0 {
                return Some(tail_cell(slot.value, digits, len as u32 + 1));
            }
            node = slot.child as usize;
        }
        None
    }

    /// The table the lookups read: the first level and the trie written as blocks and tails
    /// (see the module's documentation), each block followed by the blocks below it, in
    /// digit order.
    ///
    /// # Errors
    /// [`Error::Overflow`] past 2 billion cells (16 GB).
    pub(crate) fn freeze(&self) -> Result<PrefixTable> {
        let nodes = self.slots.len() / FANOUT;
        // The number of prefixes at and below each node, up to 2: children come after their
        // parents in `slots`.
        let mut below = vec![0u8; nodes];
        for node in (0..nodes).rev() {
            let count = self.node_slots(node).iter().fold(0u8, |count, slot| {
                let child = if slot.child == 0 {
                    0
                } else {
                    below.get(slot.child as usize).copied().unwrap_or(0)
                };
                count
                    .saturating_add(u8::from(slot.value != 0))
                    .saturating_add(child)
                    .min(2)
            });
            if let Some(b) = below.get_mut(node) {
                *b = count;
            }
        }
        let offset = |at: usize| {
            u32::try_from(at)
                .ok()
                .filter(|&o| o < TAIL)
                .ok_or_else(|| Error::overflow("more than 2 billion prefix table cells"))
        };
        let mut cells: Vec<u64> = Vec::new();
        let mut block_of = vec![0u32; nodes];
        // Nodes to write: the node, its depth and the entry that links to it (none: the root).
        let mut stack: Vec<(usize, usize, Option<usize>)> = vec![(0, 0, None)];
        let mut children = Vec::with_capacity(FANOUT);
        let mut blocks = 0usize;
        while let Some((node, depth, link)) = stack.pop() {
            let block = offset(cells.len())?;
            if let Some(b) = block_of.get_mut(node) {
                *b = block;
            }
            if let Some(entry) = link.and_then(|e| cells.get_mut(e)) {
                *entry |= u64::from(block) << 32;
            }
            blocks += 1;
            let slots = self.node_slots(node);
            let mut header = 0u64;
            let first_entry = cells.len() + 1;
            cells.push(0);
            for (d, slot) in slots.iter().enumerate() {
                if slot.child != 0 || slot.value != 0 {
                    let k = (cells.len() - block as usize) as u64;
                    header |= k << (4 * d);
                    cells.push(u64::from(slot.value));
                }
            }
            if let Some(h) = cells.get_mut(block as usize) {
                *h = header;
            }
            children.clear();
            let entries = slots.iter().filter(|s| s.child != 0 || s.value != 0);
            for (entry, slot) in (first_entry..).zip(entries) {
                if slot.child == 0 {
                    continue;
                }
                let child = slot.child as usize;
                let single = below.get(child) == Some(&1);
                if depth >= HEAD_DIGITS
                    && single
                    && let Some(cell) = self.tail_below(child)
                {
                    let tail = offset(cells.len())?;
                    cells.push(cell);
                    if let Some(e) = cells.get_mut(entry) {
                        *e |= u64::from(tail | TAIL) << 32;
                    }
                } else {
                    children.push((child, depth + 1, Some(entry)));
                }
            }
            stack.extend(children.iter().rev());
        }
        cells.shrink_to_fit();
        let heads = self
            .heads
            .iter()
            .map(|h| Head {
                node: if h.node == 0 {
                    0
                } else {
                    block_of.get(h.node as usize).copied().unwrap_or(0)
                },
                ..*h
            })
            .collect();
        Ok(PrefixTable {
            heads,
            cells,
            len: self.len,
            blocks,
        })
    }
}

/// A lookup's result as [`PrefixTable::lookup_numbers`] gives it: the destination index + 1
/// (0 for none) and the prefix's length.
#[inline]
fn pack(found: Option<(u32, usize)>) -> (u32, u32) {
    found.map_or((0, 0), |(d, len)| (d.wrapping_add(1), len as u32))
}

/// Where a walk starts, read from the first bytes of a number.
#[derive(Debug, Clone, Copy)]
struct Start {
    /// The first four digits as a number.
    head: usize,
    /// The index of the byte after them.
    after: usize,
    /// The digits the eight bytes from `after` begin with, 4 bits each (the first lowest);
    /// after them, [`NO_DIGIT`] or anything.
    digits: u32,
    /// How many there are.
    held: u32,
}

/// The eight bytes of `number` from `at` as a little-endian word (the byte at `at` lowest), 0
/// past its end.
#[inline(always)]
fn word_at(number: &[u8], at: usize) -> u64 {
    if let Some(eight) = number.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        return u64::from_le_bytes(*eight);
    }
    match number.last_chunk::<8>() {
        // The last eight bytes, moved down by those before `at` (8 or more: none left).
        Some(last) => u64::from_le_bytes(*last)
            .checked_shr(8 * (at.saturating_add(8).saturating_sub(number.len()) as u32))
            .unwrap_or(0),
        None => number
            .get(at..)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0, |word, &b| word << 8 | u64::from(b)),
    }
}

/// Per byte of `word`, 0 for an ASCII digit and not 0 for another byte: a digit's high half
/// is 3 and its low half at most 9 (adding 6 to it does not carry into the fifth bit); no
/// carry crosses bytes.
#[inline(always)]
fn not_digits(word: u64) -> u64 {
    ((word & 0xf0f0_f0f0_f0f0_f0f0) ^ 0x3030_3030_3030_3030)
        | ((word & 0x0f0f_0f0f_0f0f_0f0f) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010
}

/// The digits `word` (eight bytes) begins with, 4 bits each, [`NO_DIGIT`] after them, and how
/// many there are.
#[inline(always)]
fn digits_of(word: u64) -> (u32, u32) {
    let held = not_digits(word).trailing_zeros() / 8;
    let mask = ((1u64 << (4 * held)) - 1) as u32;
    (nibbles(word) & mask | NO_DIGITS & !mask, held)
}

/// The eight bytes of `word` less `0` each, 4 bits each (the first lowest): the digits of
/// those that are digits. A byte that is not a digit changes no other byte's 4 bits (the
/// bytes below the first that is not a digit are at least `0`: no borrow reaches them).
#[inline(always)]
fn nibbles(word: u64) -> u32 {
    let x = word.wrapping_sub(0x3030_3030_3030_3030);
    let x = (x | x >> 4) & 0x00ff_00ff_00ff_00ff;
    let x = (x | x >> 8) & 0x0000_ffff_0000_ffff;
    (x | x >> 16) as u32
}

/// A tail as one cell: the destination + 1 of its prefix (bits 0 to 31), its digits after
/// the link to it (4 bits each, the first lowest, bits 32 to 59) and their number (bits 60
/// to 63).
fn tail_cell(value: u32, digits: u32, len: u32) -> u64 {
    u64::from(value) | u64::from(digits) << 32 | u64::from(len) << 60
}

/// The parts of a [`tail_cell`]: destination + 1, digits, their number, and the mask of their
/// bits.
#[inline(always)]
fn tail_parts(cell: u64) -> (u32, u32, u32, u32) {
    let len = (cell >> 60) as u32;
    let mask = ((1u64 << (4 * len)) - 1) as u32;
    (cell as u32, (cell >> 32) as u32 & 0x0fff_ffff, len, mask)
}

/// Where the walk of `number` starts; `None` for a number of fewer than four digits. Numbers
/// are mostly `+` or a digit, then at least eleven digits: their first twelve bytes are read
/// as two words, checked for digits and the first four turned into a number at once.
#[inline(always)]
fn start_of(number: &[u8]) -> Option<Start> {
    let start = usize::from(number.first() == Some(&b'+'));
    match start_of_twelve(number, start) {
        Some(found) => Some(found),
        None => start_of_short_or_punctuated(number),
    }
}

/// [`start_of`] of the twelve bytes of `number` from `start` when they exist and the first four
/// are digits.
#[inline(always)]
fn start_of_twelve(number: &[u8], start: usize) -> Option<Start> {
    let &[a, b, c, d, e, f, g, h, i, j, k, l] = number.get(start..)?.first_chunk::<12>()?;
    let first = u64::from_le_bytes([a, b, c, d, e, f, g, h]);
    if not_digits(first) as u32 != 0 {
        return None;
    }
    // Four digits, the first lowest: tens and units in pairs, then the pairs.
    let four = (first as u32).wrapping_sub(0x3030_3030);
    let pairs = four.wrapping_mul(10).wrapping_add(four >> 8) & 0x00ff_00ff;
    let head = pairs.wrapping_mul(100).wrapping_add(pairs >> 16) & 0xffff;
    let word = first >> 32 | u64::from(u32::from_le_bytes([i, j, k, l])) << 32;
    Some(Start {
        head: head as usize,
        after: start + HEAD_DIGITS,
        // Past the digits held, anything: the walks stop there by `held`.
        digits: nibbles(word),
        held: not_digits(word).trailing_zeros() / 8,
    })
}

/// [`start_of`] of a number of fewer than twelve bytes after its `+`, or with other bytes than
/// digits among or before its first four digits.
#[inline(never)]
fn start_of_short_or_punctuated(number: &[u8]) -> Option<Start> {
    let (head, after) = head_of_punctuated(number)?;
    let (digits, held) = digits_of(word_at(number, after));
    Some(Start {
        head,
        after,
        digits,
        held,
    })
}

/// The first four digits of a number as a number, and the index of the byte after them, read
/// digit by digit.
#[inline]
fn head_of_punctuated(number: &[u8]) -> Option<(usize, usize)> {
    let mut head = 0usize;
    let mut taken = 0usize;
    for (at, &b) in number.iter().enumerate() {
        if let Some(d) = digit(b) {
            // At most 9,999: no overflow.
            head = head * 10 + usize::from(d);
            taken += 1;
            if taken == HEAD_DIGITS {
                return Some((head, at + 1));
            }
        }
    }
    None
}

/// The longest-prefix map the lookups read, written by [`PrefixTrie::freeze`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrefixTable {
    /// `heads[first four digits as a number]`.
    heads: Vec<Head>,
    /// The blocks and tails; the root's block first.
    cells: Vec<u64>,
    /// Number of prefixes.
    len: usize,
    /// Number of blocks (trie nodes written).
    blocks: usize,
}

impl PrefixTable {
    /// The destination of the longest prefix of `digits` in the table, and that prefix's length.
    /// The number ends at its first byte that is not an ASCII digit.
    #[inline]
    pub(crate) fn lookup(&self, digits: &[u8]) -> Option<(u32, usize)> {
        match start_of_twelve(digits, 0) {
            Some(start) => self.walk_held(start, |at| {
                digits.get(at..).unwrap_or_default().iter().map_while(|&b| digit(b))
            }),
            None => self.walk(digits.iter().map_while(|&b| digit(b))),
        }
    }

    /// The destination of the longest prefix of the digits of `number` (every byte that is not
    /// an ASCII digit skipped: `+44 (20) 7946-0000` is `442079460000`), and that prefix's length.
    ///
    /// Reads the first four digits and the eight bytes after them at once (the digit fast
    /// path: numbers are mostly `+` and digits); what goes past those bytes, digit by digit.
    #[inline]
    pub(crate) fn lookup_number(&self, number: &[u8]) -> Option<(u32, usize)> {
        match start_of(number) {
            Some(start) => self.walk_held(start, |at| {
                number.get(at..).unwrap_or_default().iter().filter_map(|&b| digit(b))
            }),
            None => self.walk(number.iter().filter_map(|&b| digit(b))),
        }
    }

    /// The walk of a number from `start`: the digits held one by one, then `rest(at)`, the
    /// digits of the number from its byte `at` on.
    #[inline(always)]
    fn walk_held<I: Iterator<Item = u8>>(&self, start: Start, rest: impl Fn(usize) -> I) -> Option<(u32, usize)> {
        let Start {
            head,
            after,
            mut digits,
            held,
        } = start;
        let h = self.heads.get(head).copied().unwrap_or_default();
        let mut best = (h.value != 0).then(|| (h.value.wrapping_sub(1), h.len as usize));
        let mut node = h.node as usize;
        let mut depth = HEAD_DIGITS;
        // The digits read after the first four: all from bytes held, each a digit.
        let read = |depth: usize| depth.wrapping_sub(HEAD_DIGITS);
        while node != 0 {
            if read(depth) == held as usize {
                // Past the digits held.
                return self.walk_from(node, depth, best, rest(after.wrapping_add(read(depth))));
            }
            let d = digits & 0xf;
            let header = self.cells.get(node).copied().unwrap_or(0);
            let k = header.wrapping_shr(4 * d) & 0xf;
            if k == 0 {
                break;
            }
            // No overflow: the entry is in the block.
            let entry = self.cells.get(node.wrapping_add(k as usize)).copied().unwrap_or(0);
            let (value, link) = (entry as u32, (entry >> 32) as u32);
            // Below the number's length: no overflow.
            depth = depth.wrapping_add(1);
            digits = digits >> 4 | NO_DIGIT << 28;
            if value != 0 {
                best = Some((value.wrapping_sub(1), depth));
            }
            if link & TAIL != 0 {
                let tail = (link & !TAIL) as usize;
                let left = held.saturating_sub(read(depth) as u32);
                let tailed = match self.tail_at_once(tail, depth, digits, left) {
                    Some(tailed) => tailed,
                    None => self.tail(tail, depth, rest(after.wrapping_add(read(depth)))),
                };
                return tailed.or(best);
            }
            node = link as usize;
        }
        best
    }

    /// The longest prefix of the digits (values 0 to 9) `digits` yields.
    #[inline]
    fn walk(&self, mut digits: impl Iterator<Item = u8>) -> Option<(u32, usize)> {
        let mut head = [0u8; HEAD_DIGITS];
        let mut index = 0usize;
        for taken in 0..HEAD_DIGITS {
            let Some(next) = digits.next() else {
                // Fewer than four digits: from the root.
                return self.walk_from(0, 0, None, head.iter().take(taken).copied());
            };
            if let Some(d) = head.get_mut(taken) {
                *d = next;
            }
            // At most 9,999: no overflow.
            index = index.wrapping_mul(10).wrapping_add(usize::from(next));
        }
        let h = self.heads.get(index).copied().unwrap_or_default();
        let best = (h.value != 0).then(|| (h.value - 1, h.len as usize));
        if h.node == 0 {
            return best;
        }
        self.walk_from(h.node as usize, HEAD_DIGITS, best, digits)
    }

    /// The walk down from the block at `node` at `depth` digits, `best` found so far.
    #[inline]
    fn walk_from(
        &self,
        mut node: usize,
        mut depth: usize,
        mut best: Option<(u32, usize)>,
        mut digits: impl Iterator<Item = u8>,
    ) -> Option<(u32, usize)> {
        while let Some(d) = digits.next() {
            let Some(&header) = self.cells.get(node) else {
                break;
            };
            // No overflow: `d` ≤ 9, and the entry is in the block.
            let k = (header >> (4 * u32::from(d))) & 0xf;
            if k == 0 {
                break;
            }
            let Some(&entry) = self.cells.get(node.wrapping_add(k as usize)) else {
                break;
            };
            depth = depth.wrapping_add(1);
            let (value, link) = (entry as u32, (entry >> 32) as u32);
            if value != 0 {
                best = Some((value.wrapping_sub(1), depth));
            }
            if link & TAIL != 0 {
                return self.tail((link & !TAIL) as usize, depth, digits).or(best);
            }
            if link == 0 {
                break;
            }
            node = link as usize;
        }
        best
    }

    /// The prefix of the tail at `tail`, reached at `depth` digits, when `digits` go on with its
    /// digits: its destination and length.
    fn tail(&self, tail: usize, depth: usize, digits: impl Iterator<Item = u8>) -> Option<(u32, usize)> {
        let (value, expected, len, _) = tail_parts(*self.cells.get(tail)?);
        let len = len as usize;
        let mut matched = 0usize;
        for (i, d) in digits.take(len).enumerate() {
            if u32::from(d) != expected.wrapping_shr(4 * i as u32) & 0xf {
                return None;
            }
            matched = i + 1;
        }
        (matched == len).then(|| (value.wrapping_sub(1), depth.wrapping_add(len)))
    }

    /// The prefix of the tail at `tail`, reached at `depth` digits, when `digits` (4 bits each,
    /// the first lowest, `left` of them) go on with its digits: its destination and length;
    /// `None` when there are fewer digits than the tail has.
    #[inline]
    fn tail_at_once(&self, tail: usize, depth: usize, digits: u32, left: u32) -> Option<Option<(u32, usize)>> {
        let (value, expected, len, mask) = tail_parts(*self.cells.get(tail)?);
        if len > left {
            return None;
        }
        Some(((digits ^ expected) & mask == 0).then(|| (value.wrapping_sub(1), depth.wrapping_add(len as usize))))
    }

    /// [`PrefixTable::lookup_number`] of the first `count` of `numbers` (at most [`LANES`])
    /// into `found`, as the destination index + 1 (0 for none) and the prefix's length, their
    /// walks interleaved: the first level of every number is read, then the blocks one level
    /// at a time across the numbers still walking, so that the reads of different numbers,
    /// independent of each other, are in flight together instead of one number's dependent
    /// reads one after the other.
    ///
    /// A level's step is free of branches on what it reads (a branch mispredicted on a read
    /// would hold up the reads of the numbers after it): a missing digit reads as an empty
    /// entry, the numbers still walking are kept in a list rebuilt at each level, and tails
    /// are matched after the walk. The few walks that go past the digits of the eight bytes
    /// after a number's first four (punctuation there, prefixes of more than twelve digits)
    /// are done again one by one. Not inlined: the walks' state stays in registers and in the
    /// arrays here, one a field, indexed by lane masked to [`LANES`] so that no index is
    /// checked.
    #[inline(never)]
    pub(crate) fn lookup_numbers(&self, numbers: &[&[u8]; LANES], count: usize, found: &mut [(u32, u32); LANES]) {
        const MASK: usize = LANES - 1;
        let lanes = count.min(LANES);
        // Per lane: the digits not read yet of those held (anything past them; NO_DIGIT after
        // eight steps), the block to read next (when the walk is over: 0 or the link to the
        // tail it ended at; never walked: 0), the digits read (counted at every step, the last
        // included; 0 for a lane that did not walk), the digits held, the destination + 1 of
        // the longest prefix found so far (0 for none) and its length.
        let mut digits = [0u32; LANES];
        let mut node = [0u32; LANES];
        let mut depth = [0u32; LANES];
        let mut held = [0u32; LANES];
        let mut best = [0u32; LANES];
        let mut best_len = [0u32; LANES];
        // The lanes walking at this level, `walking[..count]`, and at the next, `next[..]`.
        let mut walking = [0u8; LANES];
        let mut next = [0u8; LANES];
        let mut count = 0usize;
        for lane in 0..lanes {
            let l = lane & MASK;
            let number = numbers[l];
            let Some(start) = start_of(number) else {
                // Fewer than four digits: no first level, a walk of at most three blocks.
                found[l] = pack(self.lookup_number(number));
                continue;
            };
            let h = self.heads.get(start.head).copied().unwrap_or_default();
            digits[l] = start.digits;
            node[l] = h.node;
            depth[l] = HEAD_DIGITS as u32;
            held[l] = start.held;
            best[l] = h.value;
            best_len[l] = h.len;
            walking[count & MASK] = l as u8;
            count = count.wrapping_add(usize::from(h.node != 0));
        }
        let cells = self.cells.as_slice();
        while count > 0 {
            let mut still = 0usize;
            for &lane in walking.get(..count).unwrap_or_default() {
                let l = usize::from(lane) & MASK;
                // A digit; past the digits held, anything (the lookup is then done again,
                // below), and after eight steps NO_DIGIT, which no header has an entry for.
                let d = digits[l] & 0xf;
                let block = node[l] as usize;
                let header = cells.get(block).copied().unwrap_or(0);
                let k = header.wrapping_shr(4 * d) & 0xf;
                // No overflow: the entry (or, for no entry, the header) is in the block. No
                // entry reads as none, without a branch.
                let entry = cells.get(block.wrapping_add(k as usize)).copied().unwrap_or(0);
                let entry = select_unpredictable(k != 0, entry, 0);
                let (value, link) = (entry as u32, (entry >> 32) as u32);
                // Below the number's length: no overflow.
                let read = depth[l].wrapping_add(1);
                depth[l] = read;
                let ends = value != 0;
                best[l] = select_unpredictable(ends, value, best[l]);
                best_len[l] = select_unpredictable(ends, read, best_len[l]);
                // A tail's link ends the walk too; it is matched below.
                node[l] = link;
                digits[l] = digits[l] >> 4 | NO_DIGIT << 28;
                next[still & MASK] = lane;
                still = still.wrapping_add(usize::from(link.wrapping_sub(1) < TAIL - 1));
            }
            std::mem::swap(&mut walking, &mut next);
            count = still;
        }
        for lane in 0..lanes {
            let l = lane & MASK;
            if depth[l] == 0 {
                // Not walked: found above.
                continue;
            }
            // The digits the walk read after the first four, the last step's included; those
            // held left after them (wrapped when the walk went past them).
            let read = depth[l].wrapping_sub(HEAD_DIGITS as u32);
            let left = held[l].wrapping_sub(read);
            // The tail the walk ended at (or, for a walk that did not, the root's header),
            // matched without a branch: whether a walk ends at a tail is as good as random.
            let is_tail = node[l] & TAIL != 0;
            let cell = cells.get((node[l] & !TAIL) as usize).copied().unwrap_or(0);
            let (value, expected, len, mask) = tail_parts(cell);
            let matched = is_tail & ((digits[l] ^ expected) & mask == 0);
            let tailed = (value, depth[l].wrapping_add(len));
            found[l] = select_unpredictable(matched, tailed, (best[l], best_len[l]));
            if read > held[l] || (is_tail && len > left) {
                // Past the digits held, by the last step or by the tail: again, one by one.
                found[l] = pack(self.lookup_number(numbers[l]));
            }
        }
    }

    /// The number of prefixes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The number of blocks (trie nodes, the root included; those a tail replaces are not).
    pub(crate) fn nodes(&self) -> usize {
        self.blocks
    }

    /// The bytes the table holds on the heap.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.cells.capacity() * size_of::<u64>() + self.heads.capacity() * size_of::<Head>()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_longest_prefix_wins() {
        let mut trie = PrefixTrie::default();
        trie.insert("44", 0).unwrap().unwrap();
        trie.insert("447", 1).unwrap().unwrap();
        trie.insert("4479", 2).unwrap().unwrap();
        let table = trie.freeze().unwrap();
        assert_eq!(table.lookup(b"442079460000"), Some((0, 2)));
        assert_eq!(table.lookup(b"447700900123"), Some((1, 3)));
        assert_eq!(table.lookup(b"4479"), Some((2, 4)));
        assert_eq!(table.lookup(b"4"), None);
        assert_eq!(table.lookup(b""), None);
        assert_eq!(table.lookup(b"1"), None);
        assert_eq!(table.lookup(b"44x7"), Some((0, 2)));
        assert_eq!(trie.insert("447", 5).unwrap(), Err(1));
        assert_eq!(table.len(), 3);
        // The root, `4`, `44` and `447`: `4479` ends in `447`'s slot and needs no node.
        assert_eq!(table.nodes(), 4);
        assert!(matches!(trie.insert("", 0), Err(Error::PrefixNotDigits { .. })));
        assert!(matches!(trie.insert("+44", 0), Err(Error::PrefixNotDigits { .. })));
        assert!(matches!(trie.insert("٤٤", 0), Err(Error::PrefixNotDigits { .. })));
    }

    #[test]
    fn the_first_level_edges() {
        let mut trie = PrefixTrie::default();
        trie.insert("1", 0).unwrap().unwrap(); // shorter than the four-digit heads
        trie.insert("123", 1).unwrap().unwrap();
        trie.insert("1234", 2).unwrap().unwrap(); // exactly a head
        trie.insert("12345", 3).unwrap().unwrap(); // below a head
        trie.insert("98765432", 4).unwrap().unwrap(); // a head with a node but no prefix of its own
        let table = trie.freeze().unwrap();
        // The root, `1`, `12`, `123`, `1234`, `9`, `98`, `987` and `9876`: below the head
        // `9876`, `98765432` is a tail, not the chain `98765`, `987654`, `9876543`.
        assert_eq!(table.nodes(), 9);
        // Numbers shorter than a head walk from the root.
        assert_eq!(table.lookup(b""), None);
        assert_eq!(table.lookup(b"1"), Some((0, 1)));
        assert_eq!(table.lookup(b"12"), Some((0, 1)));
        assert_eq!(table.lookup(b"123"), Some((1, 3)));
        assert_eq!(table.lookup(b"12x4"), Some((0, 1)));
        // A head under a shorter prefix, a head that is a prefix, a prefix below a head.
        assert_eq!(table.lookup(b"1299"), Some((0, 1)));
        assert_eq!(table.lookup(b"1239"), Some((1, 3)));
        assert_eq!(table.lookup(b"1234"), Some((2, 4)));
        assert_eq!(table.lookup(b"12349"), Some((2, 4)));
        assert_eq!(table.lookup(b"123456"), Some((3, 5)));
        // Under no prefix: heads with and without a node, short and long.
        assert_eq!(table.lookup(b"9876"), None);
        assert_eq!(table.lookup(b"98765431"), None);
        assert_eq!(table.lookup(b"987654321"), Some((4, 8)));
        assert_eq!(table.lookup(b"5555"), None);
        assert_eq!(table.lookup(b"55"), None);
        // A shorter prefix inserted after a longer one does not take the longer one's heads.
        trie.insert("12", 5).unwrap().unwrap();
        let table = trie.freeze().unwrap();
        assert_eq!(table.lookup(b"1234"), Some((2, 4)));
        assert_eq!(table.lookup(b"1239"), Some((1, 3)));
        assert_eq!(table.lookup(b"1299"), Some((5, 2)));
        assert_eq!(table.lookup(b"1999"), Some((0, 1)));
        // Skipping what is not a digit.
        assert_eq!(table.lookup_number(b"+1 (234) 5-6"), Some((3, 5)));
        assert_eq!(table.lookup_number(b"+1-2"), Some((5, 2)));
        assert_eq!(table.lookup_number(b"++"), None);
    }

    /// The longest of `prefixes` that starts `number`, found by scanning them all: (its index, its
    /// length).
    fn brute_force(prefixes: &[String], number: &str) -> Option<(u32, usize)> {
        prefixes
            .iter()
            .enumerate()
            .filter(|(_, p)| number.starts_with(p.as_str()))
            .max_by_key(|(_, p)| p.len())
            .map(|(i, p)| (i as u32, p.len()))
    }

    proptest! {
        #[test]
        fn lookup_is_a_brute_force_longest_prefix_around_the_heads(
            prefixes in proptest::collection::btree_set("[0-2]{1,6}", 1..60),
            numbers in proptest::collection::vec("[0-2]{0,8}", 1..50),
        ) {
            // Three digits only: prefixes of 1 to 6 digits crowd the same heads, numbers of 0 to
            // 8 digits fall short of them, on them and below them.
            let prefixes: Vec<String> = prefixes.into_iter().collect();
            let mut trie = PrefixTrie::default();
            for (i, p) in prefixes.iter().enumerate().rev() {
                prop_assert_eq!(trie.insert(p, i).unwrap(), Ok(()));
            }
            let table = trie.freeze().unwrap();
            for number in numbers.iter().chain(prefixes.iter()) {
                let brute = brute_force(&prefixes, number);
                prop_assert_eq!(table.lookup(number.as_bytes()), brute);
                let spaced: String = number.chars().flat_map(|c| [c, ' ']).collect();
                prop_assert_eq!(table.lookup_number(spaced.as_bytes()), brute);
            }
        }

        #[test]
        fn interleaved_lookups_are_the_lookups_one_by_one(
            prefixes in proptest::collection::btree_set("[0-3]{1,16}", 1..120),
            numbers in proptest::collection::vec(
                (
                    proptest::option::weighted(
                        0.7,
                        (any::<usize>(), any::<usize>(), "[ ()-]?", proptest::option::of(any::<usize>())),
                    ),
                    "[0-3 +()-]{0,12}",
                ),
                0..2 * LANES + 3,
            ),
        ) {
            // Four digits and punctuation: numbers that share their heads and paths, walks of
            // every length side by side (past the twelve digits a walk reads at once too),
            // numbers shorter than a head, empty ones; most under a prefix of the table, with
            // now and then punctuation inside it.
            let prefixes: Vec<String> = prefixes.into_iter().collect();
            let numbers: Vec<String> = numbers
                .into_iter()
                .map(|(under, tail)| match under {
                    Some((i, at, punctuation, near)) => {
                        let mut prefix = prefixes[i % prefixes.len()].clone().into_bytes();
                        // A near miss: one digit of the prefix changed.
                        if let Some(near) = near {
                            let at = near % prefix.len();
                            prefix[at] = b'0' + (prefix[at] - b'0' + 1) % 4;
                        }
                        let prefix = String::from_utf8(prefix).unwrap();
                        let at = at % (prefix.len() + 1);
                        format!("+{}{punctuation}{}{tail}", &prefix[..at], &prefix[at..])
                    }
                    None => tail,
                })
                .collect();
            let mut trie = PrefixTrie::default();
            for (i, p) in prefixes.iter().enumerate() {
                prop_assert_eq!(trie.insert(p, i).unwrap(), Ok(()));
            }
            let table = trie.freeze().unwrap();
            let mut found = Vec::new();
            for chunk in numbers.chunks(LANES) {
                let mut lanes: [&[u8]; LANES] = [b"1234"; LANES];
                for (lane, number) in lanes.iter_mut().zip(chunk) {
                    *lane = number.as_bytes();
                }
                let mut results = [(7, 7); LANES];
                table.lookup_numbers(&lanes, chunk.len(), &mut results);
                // Past `count`, nothing is written.
                prop_assert!(results[chunk.len()..].iter().all(|&r| r == (7, 7)));
                found.extend_from_slice(&results[..chunk.len()]);
            }
            for (number, &found) in numbers.iter().zip(&found) {
                let found = found.0.checked_sub(1).map(|d| (d, found.1 as usize));
                prop_assert_eq!(found, table.lookup_number(number.as_bytes()));
                prop_assert_eq!(found, table.walk(number.bytes().filter_map(digit)));
                // `lookup` ends the number at its first byte that is not a digit.
                let bare = number.trim_start_matches('+');
                let leading: String = bare.chars().take_while(char::is_ascii_digit).collect();
                prop_assert_eq!(table.lookup(bare.as_bytes()), brute_force(&prefixes, &leading));
                let digits: String = number.chars().filter(char::is_ascii_digit).collect();
                prop_assert_eq!(found, brute_force(&prefixes, &digits));
            }
        }

        #[test]
        fn lookup_is_a_brute_force_longest_prefix(
            prefixes in proptest::collection::btree_set("[0-9]{1,6}", 1..200),
            numbers in proptest::collection::vec("[0-9]{0,10}", 1..50),
        ) {
            let prefixes: Vec<String> = prefixes.into_iter().collect();
            let mut trie = PrefixTrie::default();
            for (i, p) in prefixes.iter().enumerate() {
                prop_assert_eq!(trie.insert(p, i).unwrap(), Ok(()));
            }
            let table = trie.freeze().unwrap();
            for number in numbers.iter().chain(prefixes.iter()) {
                let brute = brute_force(&prefixes, number);
                prop_assert_eq!(table.lookup(number.as_bytes()), brute);
            }
        }
    }
}
