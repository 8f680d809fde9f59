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

    pub(crate) fn from_index(index: u32) -> Sym {
        Sym(index)
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
        let start = match i.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0) as usize,
            None => 0,
        };
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
    /// (symbol, 32 bits of the string's hash): growing the table never re-reads the strings.
    index: HashTable<(u32, u32)>,
    hasher: DefaultHashBuilder,
}

/// The 64-bit hash hashbrown sees for a stored 32-bit hash (mixed so every bit carries).
#[inline]
fn spread(h32: u32) -> u64 {
    u64::from(h32).wrapping_mul(0x9E37_79B9_7F4A_7C15)
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
        let h32 = (self.hasher.hash_one(s) >> 32) as u32;
        let hash = spread(h32);
        let Interner { table, index, .. } = self;
        if let Some(&(id, _)) = index.find(hash, |&(id, h)| h == h32 && table.get(Sym(id)) == s) {
            return Ok(Sym(id));
        }
        let id =
            u32::try_from(table.ends.len()).map_err(|_| Error::overflow("more than 4 billion distinct strings"))?;
        table.bytes.push_str(s);
        let end = u32::try_from(table.bytes.len()).map_err(|_| Error::overflow("more than 4 GiB of distinct text"))?;
        table.ends.push(end);
        index.insert_unique(hash, (id, h32), |&(_, h)| spread(h));
        // A symbol that `store` handed out is never returned by `intern` for another text: `intern`
        // only finds what it inserted itself.
        Ok(Sym(id))
    }

    /// Makes room for `strings` more strings of about `bytes` bytes in all.
    pub(crate) fn reserve(&mut self, strings: usize, bytes: usize) {
        self.index.reserve(strings, |&(_, h)| spread(h));
        self.table.ends.reserve(strings);
        self.table.bytes.reserve(bytes);
    }

    /// The symbol of `s` if it was interned.
    #[cfg(test)]
    pub(crate) fn find(&self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            return Some(Sym::EMPTY);
        }
        let h32 = (self.hasher.hash_one(s) >> 32) as u32;
        self.index
            .find(spread(h32), |&(id, h)| h == h32 && self.table.get(Sym(id)) == s)
            .map(|&(id, _)| Sym(id))
    }

    #[inline]
    pub(crate) fn get(&self, sym: Sym) -> &str {
        self.table.get(sym)
    }

    /// Appends `s` without looking for an equal string: for texts that are only carried to the
    /// output, where a hash probe per row would cost more than the bytes.
    ///
    /// # Errors
    /// [`Error::Overflow`] as [`Interner::intern`].
    #[inline]
    pub(crate) fn store(&mut self, s: &str) -> Result<Sym> {
        if s.is_empty() {
            return Ok(Sym::EMPTY);
        }
        let table = &mut self.table;
        let id =
            u32::try_from(table.ends.len()).map_err(|_| Error::overflow("more than 4 billion distinct strings"))?;
        table.bytes.push_str(s);
        let end = u32::try_from(table.bytes.len()).map_err(|_| Error::overflow("more than 4 GiB of distinct text"))?;
        table.ends.push(end);
        Ok(Sym(id))
    }

    /// The hash used for `s` (for callers that find duplicates by sorting).
    #[inline]
    pub(crate) fn hash_of(&self, s: &str) -> u64 {
        self.hasher.hash_one(s)
    }

    /// The frozen table (the hash index is dropped).
    pub(crate) fn freeze(self) -> StringTable {
        let mut table = self.table;
        table.bytes.shrink_to_fit();
        table.ends.shrink_to_fit();
        table
    }
}

/// The longest text a [`ShortTexts`] keeps inline.
const SHORT: usize = 47;

/// A text of at most [`SHORT`] bytes kept inline with its symbol: one probe reads the slot and
/// the text together.
#[derive(Clone, Copy)]
struct ShortEntry {
    len: u8,
    bytes: [u8; SHORT],
    sym: Sym,
}

/// The symbols of the short texts of a few low-cardinality fields (customer org ids, external
/// ids, locations), in front of an [`Interner`]: each probe reads one slot that holds the text,
/// where the interner's reads its index, then its ends, then the text, three places apart in
/// memory. In a file written in time order, consecutive rows belong to different customers and
/// these fields miss the builder's one-entry caches on almost every row.
#[derive(Clone, Default)]
pub(crate) struct ShortTexts {
    table: HashTable<ShortEntry>,
    hasher: DefaultHashBuilder,
}

impl ShortTexts {
    /// The symbol of `s` in `strings` (interned there when new); texts longer than [`SHORT`]
    /// bytes go to `strings` directly.
    ///
    /// # Errors
    /// As [`Interner::intern`].
    #[inline]
    pub(crate) fn intern(&mut self, s: &str, strings: &mut Interner) -> Result<Sym> {
        let bytes = s.as_bytes();
        if s.is_empty() || bytes.len() > SHORT {
            return strings.intern(s);
        }
        let hash = self.hasher.hash_one(bytes);
        let same = |e: &ShortEntry| usize::from(e.len) == bytes.len() && e.bytes.get(..bytes.len()) == Some(bytes);
        if let Some(entry) = self.table.find(hash, same) {
            return Ok(entry.sym);
        }
        let sym = strings.intern(s)?;
        let mut entry = ShortEntry {
            len: bytes.len() as u8,
            bytes: [0; SHORT],
            sym,
        };
        if let Some(slot) = entry.bytes.get_mut(..bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        let hasher = &self.hasher;
        self.table.insert_unique(hash, entry, |e| {
            hasher.hash_one(e.bytes.get(..usize::from(e.len)).unwrap_or_default())
        });
        Ok(sym)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_give_the_interners_symbols() {
        let mut strings = Interner::new();
        let mut short = ShortTexts::default();
        let long = "x".repeat(SHORT + 1);
        let exact = "y".repeat(SHORT);
        let texts: Vec<String> = (0..5_000)
            .map(|n| format!("cust-{n}"))
            .chain([long.clone(), exact.clone(), String::new()])
            .collect();
        let syms: Vec<Sym> = texts.iter().map(|t| short.intern(t, &mut strings).unwrap()).collect();
        for (text, sym) in texts.iter().zip(&syms) {
            assert_eq!(short.intern(text, &mut strings).unwrap(), *sym);
            assert_eq!(strings.intern(text).unwrap(), *sym);
            assert_eq!(strings.get(*sym), text);
        }
        assert_eq!(short.table.len(), 5_001, "the long text and the empty one are not kept");
        // A prefix of a kept text is another text.
        assert_ne!(
            short.intern("cust-1", &mut strings).unwrap(),
            short.intern("cust-12", &mut strings).unwrap()
        );
    }

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
