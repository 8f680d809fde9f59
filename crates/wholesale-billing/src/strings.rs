//! Interned strings: every id of a month of events (subscribers, customers, locations, licenses)
//! stored once in one arena, referred to by a 4-byte [`Sym`].

use std::hash::BuildHasher;
use std::sync::OnceLock;

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
///
/// A table made by a packing [`Interner`] keeps each id written as a lowercase UUID
/// (`8-4-4-4-12` hex digits) as its 16 bytes instead of its 36 characters. Its entries are read
/// without unpacking by [`StringTable::push_csv_field`], [`StringTable::cmp_texts`],
/// [`StringTable::same_text`] and [`StringTable::text`]; [`StringTable::get`] lends a `&str`,
/// and for a packed id it writes every packed id of the table out once, the first time it is
/// asked for one (the table's texts are then held twice).
#[derive(Debug, Clone)]
pub(crate) struct StringTable {
    /// The texts of the entries that are not packed, end to end.
    bytes: String,
    /// The packed ids, in entry order.
    packed: Vec<[u8; 16]>,
    /// The end in `bytes` of each entry kept as text, in entry order (the text entries only: a
    /// text entry's place here is its index less the packed entries before it).
    ends: Vec<u32>,
    /// The number of entries.
    len: u32,
    /// Bit `i % 64` of word `i / 64` is set when entry `i` is packed.
    packed_bits: Vec<u64>,
    /// The number of packed entries before each word of `packed_bits`: with the word's bits
    /// below an entry's, where its id is in `packed`.
    packed_before: Vec<u32>,
    /// Every entry as text (same symbols), made the first time `get` reads a packed id.
    unpacked: OnceLock<Box<StringTable>>,
}

/// An entry of a [`StringTable`], as stored: two entries are equal when their texts are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Entry<'a> {
    Text(&'a str),
    Packed(&'a [u8; 16]),
}

/// A [`StringTable`] entry's text, borrowed or unpacked onto the stack.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text<'a> {
    Borrowed(&'a str),
    Uuid([u8; 36]),
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            // Hex digits and dashes: always UTF-8.
            Text::Uuid(hex) => std::str::from_utf8(hex).unwrap_or_default(),
        }
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        self
    }
}

impl std::fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// The lowercase hex digits.
const HEX: &[u8; 16] = b"0123456789abcdef";

/// The value of each byte as a lowercase hex digit; 0xFF for a byte that is none.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        table[HEX[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// The hex digits of a lowercase UUID's text, in order: where its 16 bytes are written.
const DIGITS: [usize; 32] = {
    let mut at = [0; 32];
    let (mut i, mut pos) = (0, 0);
    while i < 32 {
        if pos == 8 || pos == 13 || pos == 18 || pos == 23 {
            pos += 1;
        }
        at[i] = pos;
        i += 1;
        pos += 1;
    }
    at
};

/// The 16 bytes of `s` when it is a UUID written in lowercase, `8-4-4-4-12` hex digits: the
/// form that unpacks to the same text.
#[inline]
pub(crate) fn pack_uuid(s: &str) -> Option<[u8; 16]> {
    let text: &[u8; 36] = s.as_bytes().try_into().ok()?;
    if text[8] != b'-' || text[13] != b'-' || text[18] != b'-' || text[23] != b'-' {
        return None;
    }
    let mut out = [0u8; 16];
    let mut bad = 0u8;
    for (byte, pair) in out.iter_mut().zip(DIGITS.chunks_exact(2)) {
        let high = HEX_VALUE[usize::from(text[pair[0]])];
        let low = HEX_VALUE[usize::from(text[pair[1]])];
        bad |= high | low;
        *byte = (high << 4) | (low & 15);
    }
    (bad < 16).then_some(out)
}

/// The text of a packed UUID.
#[inline]
pub(crate) fn unpack_uuid(packed: &[u8; 16]) -> [u8; 36] {
    let mut out = [b'-'; 36];
    for (byte, pair) in packed.iter().zip(DIGITS.chunks_exact(2)) {
        out[pair[0]] = HEX[usize::from(byte >> 4)];
        out[pair[1]] = HEX[usize::from(byte & 15)];
    }
    out
}

/// The first eight bytes of a text as a big-endian number (zeros past its end): when two differ,
/// the texts compare as they do.
pub(crate) fn text_prefix(text: &str) -> u64 {
    let mut first = [0u8; 8];
    for (to, from) in first.iter_mut().zip(text.as_bytes()) {
        *to = *from;
    }
    u64::from_be_bytes(first)
}

impl StringTable {
    fn new() -> Self {
        StringTable {
            bytes: String::new(),
            packed: Vec::new(),
            // String 0 is "" and ends at 0.
            ends: vec![0],
            len: 1,
            packed_bits: vec![0],
            packed_before: vec![0],
            unpacked: OnceLock::new(),
        }
    }

    /// The entry of `sym`, as stored (a key for its text, nothing unpacked).
    #[inline]
    pub(crate) fn entry(&self, sym: Sym) -> Entry<'_> {
        let i = sym.0 as usize;
        let word = self.packed_bits.get(i / 64).copied().unwrap_or(0);
        let bit = 1u64 << (i % 64);
        let packed_before =
            self.packed_before.get(i / 64).copied().unwrap_or(0) as usize + (word & (bit - 1)).count_ones() as usize;
        if word & bit != 0 {
            if let Some(packed) = self.packed.get(packed_before) {
                return Entry::Packed(packed);
            }
            return Entry::Text("");
        }
        let text = i.saturating_sub(packed_before);
        let end = self.ends.get(text).copied().unwrap_or(0);
        let start = match text.checked_sub(1) {
            Some(prev) => self.ends.get(prev).copied().unwrap_or(0),
            None => 0,
        };
        Entry::Text(self.bytes.get(start as usize..end as usize).unwrap_or(""))
    }

    /// The text of `sym`. For a packed id, the first call writes out every packed id of the
    /// table (see [`StringTable`]); the paths that read many entries use
    /// [`StringTable::push_csv_field`], [`StringTable::cmp_texts`] or [`StringTable::text`].
    #[inline]
    pub(crate) fn get(&self, sym: Sym) -> &str {
        match self.entry(sym) {
            Entry::Text(s) => s,
            Entry::Packed(_) => self.unpacked().get(sym),
        }
    }

    /// The text of `sym`, unpacked onto the stack when packed (nothing written out).
    #[inline]
    pub(crate) fn text(&self, sym: Sym) -> Text<'_> {
        match self.entry(sym) {
            Entry::Text(s) => Text::Borrowed(s),
            Entry::Packed(p) => Text::Uuid(unpack_uuid(p)),
        }
    }

    /// Appends the text of `sym` to `out` as a CSV field (quoted as the `csv` crate quotes).
    #[inline]
    pub(crate) fn push_csv_field(&self, out: &mut Vec<u8>, sym: Sym) {
        match self.entry(sym) {
            Entry::Text(s) => crate::csvutil::push_field(out, s.as_bytes()),
            // Hex digits and dashes: never quoted.
            Entry::Packed(p) => out.extend_from_slice(&unpack_uuid(p)),
        }
    }

    /// The first byte of the entry of `sym` as stored (0 for an empty text): a read that brings
    /// the entry into the cache.
    #[inline]
    pub(crate) fn first_byte(&self, sym: Sym) -> u8 {
        match self.entry(sym) {
            Entry::Text(s) => s.as_bytes().first().copied().unwrap_or(0),
            Entry::Packed(p) => p[0],
        }
    }

    /// The first eight bytes of the text of `sym` as a big-endian number (see [`text_prefix`]);
    /// a packed id's are the hex digits of its first four bytes, nothing else unpacked.
    #[inline]
    pub(crate) fn prefix(&self, sym: Sym) -> u64 {
        match self.entry(sym) {
            Entry::Text(s) => text_prefix(s),
            Entry::Packed(p) => {
                let mut first = [0u8; 8];
                for (pair, byte) in first.chunks_exact_mut(2).zip(p) {
                    pair[0] = HEX[usize::from(byte >> 4)];
                    pair[1] = HEX[usize::from(byte & 15)];
                }
                u64::from_be_bytes(first)
            }
        }
    }

    /// The order of the texts of `a` and `b` (two packed ids compare as their bytes: the
    /// order of their lowercase hex texts).
    #[inline]
    pub(crate) fn cmp_texts(&self, a: Sym, b: Sym) -> std::cmp::Ordering {
        match (self.entry(a), self.entry(b)) {
            (Entry::Text(x), Entry::Text(y)) => x.cmp(y),
            (Entry::Packed(x), Entry::Packed(y)) => x.cmp(y),
            _ => (*self.text(a)).cmp(&*self.text(b)),
        }
    }

    /// Whether `a` and `b` have the same text.
    #[inline]
    pub(crate) fn same_text(&self, a: Sym, b: Sym) -> bool {
        a == b || self.entry(a) == self.entry(b)
    }

    /// Whether the text of `sym` is `s` (nothing written out).
    #[inline]
    fn is(&self, sym: Sym, s: &str, packed: Option<&[u8; 16]>) -> bool {
        match (self.entry(sym), packed) {
            (Entry::Packed(p), Some(q)) => p == q,
            (Entry::Text(t), None) => t == s,
            _ => false,
        }
    }

    /// Every entry as text, made once.
    fn unpacked(&self) -> &StringTable {
        self.unpacked.get_or_init(|| {
            let mut plain = StringTable::new();
            plain.bytes.reserve(self.bytes.len() + 36 * self.packed.len());
            plain.ends.reserve(self.len as usize);
            for i in 1..self.len {
                plain.bytes.push_str(&self.text(Sym(i)));
                // Within 4 GiB: `Interner::push` keeps the room for 36 bytes an id. (No bits of
                // `packed_bits` beyond the first word: no entry is packed.)
                plain.ends.push(u32::try_from(plain.bytes.len()).unwrap_or(u32::MAX));
                plain.len += 1;
            }
            Box::new(plain)
        })
    }

    /// Whether [`StringTable::get`] has written out the packed ids (for tests of the paths that
    /// must not).
    #[cfg(test)]
    pub(crate) fn is_unpacked(&self) -> bool {
        self.unpacked.get().is_some()
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.packed.capacity() * 16
            + self.ends.capacity() * 4
            + self.packed_bits.capacity() * 8
            + self.packed_before.capacity() * 4
            + self.unpacked.get().map_or(0, |t| t.heap_bytes())
    }
}

/// A string table under construction, with its hash index.
#[derive(Clone)]
pub(crate) struct Interner {
    table: StringTable,
    /// (symbol, 32 bits of the string's hash): growing the table never re-reads the strings.
    index: HashTable<(u32, u32)>,
    hasher: DefaultHashBuilder,
    /// Whether lowercase UUIDs are kept packed (see [`StringTable`]).
    packs: bool,
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
    /// An interner that keeps every text as text.
    pub(crate) fn new() -> Self {
        Interner {
            table: StringTable::new(),
            index: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            packs: false,
        }
    }

    /// An interner that keeps lowercase UUIDs as their 16 bytes (see [`StringTable`]).
    pub(crate) fn packing() -> Self {
        Interner {
            packs: true,
            ..Interner::new()
        }
    }

    /// The 32 bits of hash of `s` (of its packed bytes when packed).
    #[inline]
    fn hash32(&self, s: &str, packed: Option<&[u8; 16]>) -> u32 {
        let hash = match packed {
            Some(p) => self.hasher.hash_one(p),
            None => self.hasher.hash_one(s),
        };
        (hash >> 32) as u32
    }

    /// Adds an entry without looking for an equal one.
    #[inline]
    fn push(&mut self, s: &str, packed: Option<[u8; 16]>) -> Result<Sym> {
        let table = &mut self.table;
        let id = table.len;
        let i = id as usize;
        let len = id
            .checked_add(1)
            .ok_or_else(|| Error::overflow("more than 4 billion distinct strings"))?;
        let end = table.ends.last().copied().unwrap_or_default();
        if i.is_multiple_of(64) {
            table.packed_bits.push(0);
            // At most one packed id an entry: fewer than 2^32.
            table.packed_before.push(table.packed.len() as u32);
        }
        // Unpacked, the table must still fit 4 GiB (see `StringTable::unpacked`).
        let unpacked = u64::from(end) + 36 * (table.packed.len() as u64 + 1) + s.len() as u64;
        if unpacked > u64::from(u32::MAX) {
            return Err(Error::overflow("more than 4 GiB of distinct text"));
        }
        match packed {
            Some(p) => {
                table.packed.push(p);
                if let Some(word) = table.packed_bits.last_mut() {
                    *word |= 1 << (i % 64);
                }
            }
            None => {
                table.bytes.push_str(s);
                // Within 4 GiB: checked above.
                table.ends.push(table.bytes.len() as u32);
            }
        }
        table.len = len;
        Ok(Sym(id))
    }

    /// The symbol of `s`, adding it when new.
    ///
    /// # Errors
    /// [`Error::Overflow`] beyond 4 GiB of distinct text or 4 billion strings.
    #[inline]
    pub(crate) fn intern(&mut self, s: &str) -> Result<Sym> {
        let packed = if self.packs { pack_uuid(s) } else { None };
        self.intern_packed(s, packed)
    }

    /// [`Interner::intern`] with `packed`, what [`pack_uuid`] gives for `s` (made beforehand,
    /// on another thread).
    ///
    /// # Errors
    /// As [`Interner::intern`].
    #[inline]
    pub(crate) fn intern_packed(&mut self, s: &str, packed: Option<[u8; 16]>) -> Result<Sym> {
        if s.is_empty() {
            return Ok(Sym::EMPTY);
        }
        let packed = packed.filter(|_| self.packs);
        let h32 = self.hash32(s, packed.as_ref());
        let hash = spread(h32);
        let Interner { table, index, .. } = self;
        if let Some(&(id, _)) = index.find(hash, |&(id, h)| h == h32 && table.is(Sym(id), s, packed.as_ref())) {
            return Ok(Sym(id));
        }
        let sym = self.push(s, packed)?;
        self.index.insert_unique(hash, (sym.0, h32), |&(_, h)| spread(h));
        // A symbol that `store` handed out is never returned by `intern` for another text: `intern`
        // only finds what it inserted itself.
        Ok(sym)
    }

    /// Reads the slots of the index where [`Interner::intern_packed`] looks for `s`, and gives
    /// something of what it read (for [`std::hint::black_box`]): called for many texts in a row,
    /// the reads do not wait for each other, and the lookups after them find the slots cached.
    #[inline]
    pub(crate) fn touch(&self, s: &str, packed: Option<&[u8; 16]>) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let h32 = self.hash32(s, packed.filter(|_| self.packs));
        let mut seen = 0;
        self.index.find(spread(h32), |&(_, h)| {
            seen ^= h;
            false
        });
        seen
    }

    /// Makes room for `strings` more strings of about `bytes` bytes in all.
    pub(crate) fn reserve(&mut self, strings: usize, bytes: usize) {
        self.index.reserve(strings, |&(_, h)| spread(h));
        self.table.ends.reserve(strings);
        self.table.packed_bits.reserve(strings / 64);
        self.table.packed_before.reserve(strings / 64);
        self.table.bytes.reserve(bytes);
    }

    /// Makes room for `ids` more packed ids.
    pub(crate) fn reserve_packed(&mut self, ids: usize) {
        if self.packs {
            self.table.packed.reserve(ids);
        }
    }

    /// The symbol of `s` if it was interned.
    #[cfg(test)]
    pub(crate) fn find(&self, s: &str) -> Option<Sym> {
        if s.is_empty() {
            return Some(Sym::EMPTY);
        }
        let packed = pack_uuid(s).filter(|_| self.packs);
        let h32 = self.hash32(s, packed.as_ref());
        self.index
            .find(spread(h32), |&(id, h)| {
                h == h32 && self.table.is(Sym(id), s, packed.as_ref())
            })
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
        let packed = if self.packs { pack_uuid(s) } else { None };
        self.store_packed(s, packed)
    }

    /// [`Interner::store`] with `packed`, what [`pack_uuid`] gives for `s`.
    ///
    /// # Errors
    /// As [`Interner::intern`].
    #[inline]
    pub(crate) fn store_packed(&mut self, s: &str, packed: Option<[u8; 16]>) -> Result<Sym> {
        if s.is_empty() {
            return Ok(Sym::EMPTY);
        }
        let packed = packed.filter(|_| self.packs);
        self.push(s, packed)
    }

    /// A 32-bit hash of `s` (for callers that find duplicates by sorting: equal texts have equal
    /// hashes, texts with equal hashes are compared).
    #[inline]
    pub(crate) fn hash_of(&self, s: &str) -> u32 {
        (self.hasher.hash_one(s) >> 32) as u32
    }

    /// The frozen table (the hash index is dropped).
    pub(crate) fn freeze(self) -> StringTable {
        let mut table = self.table;
        table.bytes.shrink_to_fit();
        table.packed.shrink_to_fit();
        table.ends.shrink_to_fit();
        table.packed_bits.shrink_to_fit();
        table.packed_before.shrink_to_fit();
        table
    }
}

/// The longest text a [`ShortTexts`] keeps inline (a lowercase UUID is kept as its 16 bytes).
const SHORT: usize = 19;

/// The `len` of a [`ShortEntry`] holding a packed UUID.
const PACKED_LEN: u8 = u8::MAX;

/// A text of at most [`SHORT`] bytes, or a packed UUID, kept inline with its symbol (24 bytes):
/// one probe reads the slot and the text together.
#[derive(Clone, Copy)]
struct ShortEntry {
    /// The text's length, or [`PACKED_LEN`].
    len: u8,
    bytes: [u8; SHORT],
    sym: Sym,
}

impl ShortEntry {
    /// Whether the entry's bytes are `bytes` (its length already compared): a packed UUID's
    /// 16 bytes compared as one array, not by a call to `memcmp`.
    #[inline]
    fn holds(&self, bytes: &[u8]) -> bool {
        match (self.bytes.first_chunk::<16>(), <&[u8; 16]>::try_from(bytes)) {
            (Some(mine), Ok(theirs)) => mine == theirs,
            _ => self.bytes.get(..bytes.len()) == Some(bytes),
        }
    }

    /// What the entry holds: the text's bytes or the packed UUID's.
    fn key(&self) -> (u8, &[u8]) {
        let len = if self.len == PACKED_LEN {
            16
        } else {
            usize::from(self.len)
        };
        (self.len, self.bytes.get(..len).unwrap_or_default())
    }
}

/// The symbols of the short texts of a few low-cardinality fields (customer org ids, external
/// ids, locations, licenses), in front of an [`Interner`]: each probe reads one slot that holds
/// the text, where the interner's reads its index, then its ends, then the text, three places
/// apart in memory. In a file written in time order, consecutive rows belong to different
/// customers, so every row looks these fields up here (the builder reads the slots of a run of
/// rows ahead, with [`ShortTexts::touch`]).
#[derive(Clone, Default)]
pub(crate) struct ShortTexts {
    table: HashTable<ShortEntry>,
    hasher: DefaultHashBuilder,
}

impl ShortTexts {
    /// The symbol of `s` in `strings` (interned there when new), `packed` what [`pack_uuid`]
    /// gives for it (made beforehand, on another thread); texts longer than [`SHORT`] bytes that
    /// are not packed go to `strings` directly.
    ///
    /// # Errors
    /// As [`Interner::intern`].
    #[inline]
    pub(crate) fn intern(&mut self, s: &str, packed: Option<[u8; 16]>, strings: &mut Interner) -> Result<Sym> {
        let packed = packed.filter(|_| strings.packs);
        let Some((len, bytes)) = short_key(s, packed.as_ref()) else {
            return strings.intern_packed(s, None);
        };
        let hash = self.hasher.hash_one((len, bytes));
        if let Some(sym) = self.find(hash, len, bytes) {
            return Ok(sym);
        }
        let sym = strings.intern_packed(s, packed)?;
        let mut entry = ShortEntry {
            len,
            bytes: [0; SHORT],
            sym,
        };
        if let Some(slot) = entry.bytes.get_mut(..bytes.len()) {
            slot.copy_from_slice(bytes);
        }
        let hasher = &self.hasher;
        self.table.insert_unique(hash, entry, |e| hasher.hash_one(e.key()));
        Ok(sym)
    }

    /// The symbol of `s` if it is kept here (never for a text longer than [`SHORT`] bytes that
    /// is not a packed UUID: those are in `strings` only).
    #[inline]
    pub(crate) fn get(&self, s: &str, packed: Option<&[u8; 16]>, strings: &Interner) -> Option<Sym> {
        let (len, bytes) = short_key(s, packed.filter(|_| strings.packs))?;
        self.find(self.hasher.hash_one((len, bytes)), len, bytes)
    }

    /// The symbol of the entry of `len` and `bytes`, whose hash is `hash`.
    #[inline]
    fn find(&self, hash: u64, len: u8, bytes: &[u8]) -> Option<Sym> {
        self.table.find(hash, |e| e.len == len && e.holds(bytes)).map(|e| e.sym)
    }

    /// Reads the slots where [`ShortTexts::intern`] looks for `s` (in `strings` for a text not
    /// kept here), as [`Interner::touch`] does.
    #[inline]
    pub(crate) fn touch(&self, s: &str, packed: Option<&[u8; 16]>, strings: &Interner) -> u32 {
        let Some((len, bytes)) = short_key(s, packed.filter(|_| strings.packs)) else {
            return strings.touch(s, None);
        };
        let mut seen = 0;
        self.table.find(self.hasher.hash_one((len, bytes)), |e| {
            seen ^= u32::from(e.len);
            false
        });
        seen
    }
}

/// What a [`ShortEntry`] of `s` holds, `packed` its packed UUID where the interner packs: its
/// length (or [`PACKED_LEN`]) and bytes; `None` for the empty text and for a longer one.
#[inline]
fn short_key<'a>(s: &'a str, packed: Option<&'a [u8; 16]>) -> Option<(u8, &'a [u8])> {
    match packed {
        Some(p) => Some((PACKED_LEN, &p[..])),
        None if !s.is_empty() && s.len() <= SHORT => Some((s.len() as u8, s.as_bytes())),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Two texts whose prefixes differ compare as their prefixes do (a prefix never
        /// contradicts the texts, whatever their bytes and lengths).
        #[test]
        fn prefixes_never_contradict_the_texts(a in "[\\x00-\\x7f]{0,10}", b in "[\\x00-\\x7f]{0,10}") {
            let (pa, pb) = (text_prefix(&a), text_prefix(&b));
            if pa != pb {
                proptest::prop_assert_eq!(pa.cmp(&pb), a.cmp(&b));
            }
        }
    }

    #[test]
    fn short_texts_give_the_interners_symbols() -> Result<()> {
        let mut strings = Interner::new();
        let mut short = ShortTexts::default();
        let long = "x".repeat(SHORT + 1);
        let exact = "y".repeat(SHORT);
        let texts: Vec<String> = (0..5_000)
            .map(|n| format!("cust-{n}"))
            .chain([long.clone(), exact.clone(), String::new()])
            .collect();
        let syms: Vec<Sym> = texts
            .iter()
            .map(|t| short.intern(t, None, &mut strings))
            .collect::<Result<_>>()?;
        for (text, sym) in texts.iter().zip(&syms) {
            assert_eq!(short.intern(text, None, &mut strings)?, *sym);
            assert_eq!(strings.intern(text)?, *sym);
            assert_eq!(strings.get(*sym), text);
        }
        assert_eq!(short.table.len(), 5_001, "the long text and the empty one are not kept");
        for (text, sym) in texts.iter().zip(&syms) {
            let kept = !text.is_empty() && text.len() <= SHORT;
            assert_eq!(short.get(text, None, &strings), kept.then_some(*sym), "{text}");
        }
        assert_eq!(short.get("cust-x", None, &strings), None);
        // A prefix of a kept text is another text.
        assert_ne!(
            short.intern("cust-1", None, &mut strings)?,
            short.intern("cust-12", None, &mut strings)?
        );
        Ok(())
    }

    #[test]
    fn short_texts_keep_uuids_packed() -> Result<()> {
        let uuid = |n: u32| format!("{n:08x}-527f-42d9-9bd8-46ef7899a5d7");
        let texts: Vec<String> = (0..3_000)
            .map(uuid)
            .chain((0..3).map(|n| uuid(n).to_uppercase()))
            .chain(["a".repeat(SHORT), "cust-7".to_owned()])
            .collect();
        for packing in [true, false] {
            let mut strings = if packing { Interner::packing() } else { Interner::new() };
            let mut short = ShortTexts::default();
            let mut syms = Vec::new();
            for text in &texts {
                syms.push(short.intern(text, pack_uuid(text), &mut strings)?);
            }
            for (text, sym) in texts.iter().zip(&syms) {
                assert_eq!(short.intern(text, pack_uuid(text), &mut strings)?, *sym, "{text}");
                assert_eq!(strings.intern(text)?, *sym, "{text}");
                assert_eq!(strings.get(*sym), text);
            }
            // Packed ids are kept when the interner packs; long texts never are.
            let kept = if packing { 3_000 + 2 } else { 2 };
            assert_eq!(short.table.len(), kept, "packing {packing}");
            for (text, sym) in texts.iter().zip(&syms) {
                let kept = (packing && pack_uuid(text).is_some()) || text.len() <= SHORT;
                assert_eq!(
                    short.get(text, pack_uuid(text).as_ref(), &strings),
                    kept.then_some(*sym),
                    "{text}"
                );
            }
            // Capitals are another text than the packed id.
            assert_ne!(syms[0], syms[3_000]);
        }
        Ok(())
    }

    #[test]
    fn lowercase_uuids_pack_and_unpack_to_the_same_text() {
        let id = "25ffe8e6-527f-42d9-9bd8-46ef7899a5d7";
        let packed = pack_uuid(id);
        assert_eq!(packed.map(|p| (p[0], p[15])), Some((0x25, 0xd7)));
        assert_eq!(packed.map(|p| unpack_uuid(&p).to_vec()), Some(id.as_bytes().to_vec()));
        for other in [
            "25FFE8E6-527F-42D9-9BD8-46EF7899A5D7",
            "25ffe8e6-527f-42d9-9bd8-46ef7899a5d",
            "25ffe8e6-527f-42d9-9bd8-46ef7899a5d7 ",
            "25ffe8e6527f-42d9-9bd8-46ef7899a5d7-",
            "25ffe8e6-527f-42d9-9bd8_46ef7899a5d7",
            "g5ffe8e6-527f-42d9-9bd8-46ef7899a5d7",
            "",
        ] {
            assert_eq!(pack_uuid(other), None, "{other}");
        }
    }

    /// A text for the packing tests: a lowercase UUID (packed), the same in capitals or cut
    /// short (kept as text), or a short id.
    fn id_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            3 => any::<[u8; 16]>().prop_map(|b| String::from_utf8_lossy(&unpack_uuid(&b)).into_owned()),
            1 => any::<[u8; 16]>().prop_map(|b| String::from_utf8_lossy(&unpack_uuid(&b)).to_uppercase()),
            1 => any::<[u8; 16]>().prop_map(|b| String::from_utf8_lossy(&unpack_uuid(&b)[..35]).into_owned()),
            // Few distinct values: interned twice, and sharing prefixes with the UUIDs.
            2 => (0u8..4).prop_map(|n| format!("{n}0000000-x")),
            1 => Just(String::new()),
            1 => "[a-f0-9,\"-]{0,40}",
        ]
    }

    proptest::proptest! {
        /// A packing table reads back every text, in the order and equality of the texts,
        /// without writing the ids out until `get` reads a packed one.
        #[test]
        fn a_packing_table_reads_as_its_texts(texts in proptest::collection::vec(id_text(), 1..40)) {
            let mut packing = Interner::packing();
            let mut plain = Interner::new();
            let fail = |e: Error| proptest::test_runner::TestCaseError::fail(e.to_string());
            let mut syms = Vec::new();
            let mut plain_syms = Vec::new();
            for (n, text) in texts.iter().enumerate() {
                let sym = if n % 2 == 0 { packing.intern(text) } else { packing.store(text) };
                syms.push(sym.map_err(fail)?);
                plain_syms.push(plain.store(text).map_err(fail)?);
            }
            for (text, &sym) in texts.iter().zip(&syms) {
                if !text.is_empty() && texts.iter().position(|t| t == text).is_some_and(|first| first % 2 == 0) {
                    // Interned first: interning again finds it.
                    let again = packing.intern(text).map_err(fail)?;
                    proptest::prop_assert_eq!(&*packing.table.text(again), text.as_str());
                }
                proptest::prop_assert_eq!(&*packing.table.text(sym), text.as_str());
            }
            let table = packing.freeze();
            let plain = plain.freeze();
            for (a_text, &a) in texts.iter().zip(&syms) {
                let mut field = Vec::new();
                table.push_csv_field(&mut field, a);
                let mut expected = Vec::new();
                crate::csvutil::push_field(&mut expected, a_text.as_bytes());
                proptest::prop_assert_eq!(field, expected);
                proptest::prop_assert_eq!(table.prefix(a), text_prefix(a_text));
                for (b_text, &b) in texts.iter().zip(&syms) {
                    proptest::prop_assert_eq!(table.cmp_texts(a, b), a_text.cmp(b_text));
                    proptest::prop_assert_eq!(table.same_text(a, b), a_text == b_text);
                }
            }
            proptest::prop_assert!(!table.is_unpacked());
            for (text, &sym) in texts.iter().zip(&syms) {
                proptest::prop_assert_eq!(table.get(sym), text.as_str());
            }
            // An interner that packs nothing keeps the same texts.
            for (text, &sym) in texts.iter().zip(&plain_syms) {
                proptest::prop_assert_eq!(plain.get(sym), text.as_str());
                proptest::prop_assert!(matches!(plain.text(sym), Text::Borrowed(_)));
            }
            let packed_any = texts.iter().any(|t| pack_uuid(t).is_some());
            proptest::prop_assert_eq!(table.is_unpacked(), packed_any);
        }
    }

    #[test]
    fn packed_and_text_entries_found_past_many_words_of_bits() -> Result<()> {
        let mut i = Interner::packing();
        let texts: Vec<String> = (0..1_000u32)
            .map(|n| match n % 7 {
                0 | 3 => format!("id-{n}"),
                _ => format!("{n:08x}-527f-42d9-9bd8-46ef7899a5d7"),
            })
            .collect();
        let syms = texts.iter().map(|t| i.store(t)).collect::<Result<Vec<Sym>>>()?;
        let table = i.freeze();
        for (text, &sym) in texts.iter().zip(&syms) {
            assert_eq!(&*table.text(sym), text.as_str());
        }
        assert!(!table.is_unpacked());
        for (text, &sym) in texts.iter().zip(&syms) {
            assert_eq!(table.get(sym), text.as_str());
        }
        Ok(())
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
