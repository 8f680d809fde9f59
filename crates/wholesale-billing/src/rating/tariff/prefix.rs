//! The longest-prefix table of a compiled tariff: a flat digit trie built once.
//!
//! Each node is 10 child indices (`u32`, 0 for none: the root is node 0 and never a child) and a
//! destination (`u32`, 0 for none, else the destination's index + 1), in two flat vectors. A
//! lookup walks one node per digit of the number, reading two `u32`s per digit, and remembers
//! the deepest node with a destination; it allocates nothing.
//!
//! Memory: 44 bytes per node, one node per distinct digit path. The `tariff_lookup` bench's table,
//! 100,000 random prefixes of 5 to 10 digits under 200 country codes, has 298,149 nodes: 13.1 MB
//! (13,118,556 bytes); a real table, whose prefixes share more of their paths, has fewer.
//! `Tariff::prefix_table_bytes` tells the figure of a table.

use crate::error::{Error, Result};

/// Child slots per node: one per decimal digit.
const FANOUT: usize = 10;

/// A longest-prefix map from digit strings to destination indices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrefixTrie {
    /// `children[node × 10 + digit]`: the child node, 0 for none.
    children: Vec<u32>,
    /// `values[node]`: the destination index + 1, 0 for none.
    values: Vec<u32>,
    /// Number of prefixes inserted.
    len: usize,
}

impl Default for PrefixTrie {
    fn default() -> Self {
        PrefixTrie {
            children: vec![0; FANOUT],
            values: vec![0],
            len: 0,
        }
    }
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
        let mut node = 0usize;
        for b in prefix.bytes() {
            let slot = node * FANOUT + usize::from(b - b'0');
            let child = self.children.get(slot).copied().unwrap_or(0);
            node = if child == 0 {
                let new = self.values.len();
                let index =
                    u32::try_from(new).map_err(|_| Error::overflow("more than 4 billion prefix table nodes"))?;
                self.children.extend([0; FANOUT]);
                self.values.push(0);
                if let Some(s) = self.children.get_mut(slot) {
                    *s = index;
                }
                new
            } else {
                child as usize
            };
        }
        match self.values.get_mut(node) {
            Some(v) if *v == 0 => {
                *v = value;
                self.len += 1;
                Ok(Ok(()))
            }
            Some(v) => Ok(Err(*v as usize - 1)),
            None => Ok(Ok(())),
        }
    }

    /// The destination of the longest prefix of `digits` in the table, and that prefix's length.
    /// The number ends at its first byte that is not an ASCII digit.
    #[inline]
    pub(crate) fn lookup(&self, digits: &[u8]) -> Option<(u32, usize)> {
        let mut node = 0usize;
        let mut best = None;
        for (i, &b) in digits.iter().enumerate() {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            let child = self
                .children
                .get(node * FANOUT + usize::from(digit))
                .copied()
                .unwrap_or(0);
            if child == 0 {
                break;
            }
            node = child as usize;
            let value = self.values.get(node).copied().unwrap_or(0);
            if value != 0 {
                best = Some((value - 1, i + 1));
            }
        }
        best
    }

    /// The number of prefixes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The number of nodes (the root included).
    pub(crate) fn nodes(&self) -> usize {
        self.values.len()
    }

    /// The bytes the table holds on the heap.
    pub(crate) fn memory_bytes(&self) -> usize {
        (self.children.capacity() + self.values.capacity()) * size_of::<u32>()
    }

    /// Frees the capacity the building left unused.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.children.shrink_to_fit();
        self.values.shrink_to_fit();
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
        assert_eq!(trie.nodes(), 5);
        assert!(matches!(trie.insert("", 0), Err(Error::PrefixNotDigits { .. })));
        assert!(matches!(trie.insert("+44", 0), Err(Error::PrefixNotDigits { .. })));
        assert!(matches!(trie.insert("٤٤", 0), Err(Error::PrefixNotDigits { .. })));
    }

    proptest! {
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
                let brute = prefixes
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| number.starts_with(p.as_str()))
                    .max_by_key(|(_, p)| p.len())
                    .map(|(i, p)| (i as u32, p.len()));
                prop_assert_eq!(trie.lookup(number.as_bytes()), brute);
            }
        }
    }
}
