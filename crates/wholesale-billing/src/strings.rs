//! Interned strings: every id of a month of events (subscribers, customers, locations, licenses)
//! stored once in one arena, referred to by a 4-byte [`Sym`].

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::error::{Error, Result};

/// A reference to a string of a [`StringTable`]; `Sym::EMPTY` is the empty string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub(crate) struct Sym(u32);

impl Sym {
    pub(crate) const EMPTY: Sym = Sym(0);

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// A frozen arena of strings.
#[derive(Debug, Clone)]
pub(crate) struct StringTable {
    bytes: String,
    /// `ends[i]` is the end offset of string `i`; string `i` starts at `ends[i - 1]` (0 for i = 0).
    ends: Vec<u32>,
}

impl StringTable {
    fn new() -> Self {
        StringTable {
            bytes: String::new(),
            // String 0 is "" and ends at 0.
            ends: vec![0],
        }
    }

    #[inline]
    pub(crate) fn get(&self, sym: Sym) -> &str {
        let i = sym.0 as usize;
        let end = self.ends.get(i).copied().unwrap_or(0) as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.bytes.get(start..end).unwrap_or("")
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4
    }
}

/// A string table under construction, with its hash index.
#[derive(Clone)]
pub(crate) struct Interner {
    table: StringTable,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::new()
    }
}

impl Interner {
    pub(crate) fn new() -> Self {
        Interner {
            table: StringTable::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }

    /// The symbol of `s`, adding it when new.
    ///
    /// # Errors
    /// [`Error::Overflow`] beyond 4 GiB of distinct text or 4 billion strings.
    #[inline]
    pub(crate) fn intern(&mut self, s: &str) -> Result<Sym> {
        if s.is_empty() {
            return Ok(Sym::EMPTY);
        }
        let hash = self.hasher.hash_one(s);
        let Interner { table, index, hasher } = self;
        if let Some(&id) = index.find(hash, |&id| table.get(Sym(id)) == s) {
            return Ok(Sym(id));
        }
        let id =
            u32::try_from(table.ends.len()).map_err(|_| Error::Overflow("more than 4 billion distinct strings"))?;
        table.bytes.push_str(s);
        let end = u32::try_from(table.bytes.len()).map_err(|_| Error::Overflow("more than 4 GiB of distinct text"))?;
        table.ends.push(end);
        index.insert_unique(hash, id, |&id| hasher.hash_one(table.get(Sym(id))));
        Ok(Sym(id))
    }

    /// The symbol of `s` if it was interned.
    #[cfg(test)]
    pub(crate) fn find(&self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            return Some(Sym::EMPTY);
        }
        let hash = self.hasher.hash_one(s);
        self.index
            .find(hash, |&id| self.table.get(Sym(id)) == s)
            .map(|&id| Sym(id))
    }

    #[cfg(test)]
    pub(crate) fn get(&self, sym: Sym) -> &str {
        self.table.get(sym)
    }

    /// The frozen table (the hash index is dropped).
    pub(crate) fn freeze(self) -> StringTable {
        let mut table = self.table;
        table.bytes.shrink_to_fit();
        table.ends.shrink_to_fit();
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once() {
        let mut i = Interner::new();
        let a = i.intern("alpha").unwrap();
        let b = i.intern("beta").unwrap();
        assert_eq!(i.intern("alpha").unwrap(), a);
        assert_ne!(a, b);
        assert_eq!(i.intern("").unwrap(), Sym::EMPTY);
        assert_eq!(i.find("beta"), Some(b));
        assert_eq!(i.find("gamma"), None);
        let t = i.freeze();
        assert_eq!(t.get(a), "alpha");
        assert_eq!(t.get(b), "beta");
        assert_eq!(t.get(Sym::EMPTY), "");
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn many_strings_survive_rehash() {
        let mut i = Interner::new();
        let syms: Vec<_> = (0..10_000).map(|n| i.intern(&format!("s{n}")).unwrap()).collect();
        for (n, s) in syms.iter().enumerate() {
            assert_eq!(i.get(*s), format!("s{n}"));
            assert_eq!(i.intern(&format!("s{n}")).unwrap(), *s);
        }
    }
}
