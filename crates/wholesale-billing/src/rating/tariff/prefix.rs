//! The longest-prefix table of a compiled tariff: a digit trie with a direct first level, built
//! once.
//!
//! - **First level**: a direct table of the 10,000 four-digit heads (`0000` … `9999`), each
//!   with the destination of the longest prefix of at most four digits it begins with (and that
//!   prefix's length) and the trie node the head leads to. A number of four digits or more starts
//!   with one read there instead of four dependent reads down the trie.
//! - **Trie**: nodes of 10 slots, one per digit, in one flat vector. A slot is 8 bytes: the
//!   child node (`u32`, 0 for none: the root is node 0 and never a child) and the destination of
//!   the path that ends with this digit (`u32`, 0 for none, else the destination's index + 1).
//!   Keeping the destination in the parent's slot makes one read per digit give both the
//!   destination so far and the next node, and a path that ends at a prefix with no longer
//!   prefix below it needs no node at all.
//!
//! A lookup reads one first-level entry, then one slot per further digit until the path ends,
//! remembering the deepest destination; it allocates nothing. Numbers shorter than four digits
//! walk the trie from its root.
//!
//! Memory: 80 bytes per node (one node per distinct digit path that some longer prefix
//! continues) and 120,000 bytes of first level. The `tariff_lookup` bench's table, 100,000
//! random prefixes of 5 to 10 digits under 200 country codes, has 205,710 nodes: 16.6 MB
//! (16,576,800 bytes; the flat trie before this one, 44 bytes a node and a node per prefix
//! digit path, had 298,149 nodes and 13,118,556 bytes); a real table, whose prefixes share more
//! of their paths, has fewer.
//! `Tariff::prefix_table_bytes` tells the figure of a table.

use crate::error::{Error, Result};

/// Child slots per node: one per decimal digit.
const FANOUT: usize = 10;
/// The digits of the heads the first level is indexed by.
const HEAD_DIGITS: usize = 4;
/// The first level's entries: 10^[`HEAD_DIGITS`].
const HEADS: usize = 10_000;

/// One digit of a node: the node below it and the destination of the path it ends.
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
    /// The node the four digits lead to, 0 for none.
    node: u32,
    /// The destination index + 1 of the longest prefix of at most four digits the head begins
    /// with, 0 for none.
    value: u32,
    /// That prefix's length (1 to 4; 0 for none).
    len: u32,
}

/// A longest-prefix map from digit strings to destination indices.
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

    /// The destination of the longest prefix of `digits` in the table, and that prefix's length.
    /// The number ends at its first byte that is not an ASCII digit.
    #[inline]
    pub(crate) fn lookup(&self, digits: &[u8]) -> Option<(u32, usize)> {
        self.walk(digits.iter().map_while(|&b| digit(b)))
    }

    /// The destination of the longest prefix of the digits of `number` (every byte that is not
    /// an ASCII digit skipped: `+44 (20) 7946-0000` is `442079460000`), and that prefix's length.
    #[inline]
    pub(crate) fn lookup_number(&self, number: &[u8]) -> Option<(u32, usize)> {
        self.walk(number.iter().filter_map(|&b| digit(b)))
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

    /// The walk down from `node` at `depth` digits, `best` found so far.
    #[inline]
    fn walk_from(
        &self,
        mut node: usize,
        mut depth: usize,
        mut best: Option<(u32, usize)>,
        digits: impl Iterator<Item = u8>,
    ) -> Option<(u32, usize)> {
        for d in digits {
            // No overflow: `node × 10 + 9` is below the slots' length, and `depth` below the
            // number's.
            let Some(slot) = self.slots.get(node.wrapping_mul(FANOUT).wrapping_add(usize::from(d))) else {
                break;
            };
            depth = depth.wrapping_add(1);
            if slot.value != 0 {
                best = Some((slot.value - 1, depth));
            }
            if slot.child == 0 {
                break;
            }
            node = slot.child as usize;
        }
        best
    }

    /// The number of prefixes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The number of nodes (the root included).
    pub(crate) fn nodes(&self) -> usize {
        self.slots.len() / FANOUT
    }

    /// The bytes the table holds on the heap.
    pub(crate) fn memory_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>() + self.heads.capacity() * size_of::<Head>()
    }

    /// Frees the capacity the building left unused.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.slots.shrink_to_fit();
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
        assert_eq!(trie.lookup(b"442079460000"), Some((0, 2)));
        assert_eq!(trie.lookup(b"447700900123"), Some((1, 3)));
        assert_eq!(trie.lookup(b"4479"), Some((2, 4)));
        assert_eq!(trie.lookup(b"4"), None);
        assert_eq!(trie.lookup(b""), None);
        assert_eq!(trie.lookup(b"1"), None);
        assert_eq!(trie.lookup(b"44x7"), Some((0, 2)));
        assert_eq!(trie.insert("447", 5).unwrap(), Err(1));
        assert_eq!(trie.len(), 3);
        // The root, `4`, `44` and `447`: `4479` ends in `447`'s slot and needs no node.
        assert_eq!(trie.nodes(), 4);
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
        // Numbers shorter than a head walk from the root.
        assert_eq!(trie.lookup(b""), None);
        assert_eq!(trie.lookup(b"1"), Some((0, 1)));
        assert_eq!(trie.lookup(b"12"), Some((0, 1)));
        assert_eq!(trie.lookup(b"123"), Some((1, 3)));
        assert_eq!(trie.lookup(b"12x4"), Some((0, 1)));
        // A head under a shorter prefix, a head that is a prefix, a prefix below a head.
        assert_eq!(trie.lookup(b"1299"), Some((0, 1)));
        assert_eq!(trie.lookup(b"1239"), Some((1, 3)));
        assert_eq!(trie.lookup(b"1234"), Some((2, 4)));
        assert_eq!(trie.lookup(b"12349"), Some((2, 4)));
        assert_eq!(trie.lookup(b"123456"), Some((3, 5)));
        // Under no prefix: heads with and without a node, short and long.
        assert_eq!(trie.lookup(b"9876"), None);
        assert_eq!(trie.lookup(b"98765431"), None);
        assert_eq!(trie.lookup(b"987654321"), Some((4, 8)));
        assert_eq!(trie.lookup(b"5555"), None);
        assert_eq!(trie.lookup(b"55"), None);
        // A shorter prefix inserted after a longer one does not take the longer one's heads.
        trie.insert("12", 5).unwrap().unwrap();
        assert_eq!(trie.lookup(b"1234"), Some((2, 4)));
        assert_eq!(trie.lookup(b"1239"), Some((1, 3)));
        assert_eq!(trie.lookup(b"1299"), Some((5, 2)));
        assert_eq!(trie.lookup(b"1999"), Some((0, 1)));
        // Skipping what is not a digit.
        assert_eq!(trie.lookup_number(b"+1 (234) 5-6"), Some((3, 5)));
        assert_eq!(trie.lookup_number(b"+1-2"), Some((5, 2)));
        assert_eq!(trie.lookup_number(b"++"), None);
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
            for number in numbers.iter().chain(prefixes.iter()) {
                let brute = brute_force(&prefixes, number);
                prop_assert_eq!(trie.lookup(number.as_bytes()), brute);
                let spaced: String = number.chars().flat_map(|c| [c, ' ']).collect();
                prop_assert_eq!(trie.lookup_number(spaced.as_bytes()), brute);
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
            for number in numbers.iter().chain(prefixes.iter()) {
                let brute = brute_force(&prefixes, number);
                prop_assert_eq!(trie.lookup(number.as_bytes()), brute);
            }
        }
    }
}
