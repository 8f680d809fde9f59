//! Splits CSV input into rows as the `csv` crate does, faster: a row without a quote and without
//! a lone `\r` is cut at its commas with `memchr`; any other row is read by a `csv` reader over
//! the bytes from that row on, so that its values, and where it ends, are the crate's own.
//!
//! The two ways agree on where a row starts: after the `\n` that ends a row read the fast way,
//! the `csv` crate's state machine is at the start of a record, as it is at the start of the
//! input, so a reader started there reads what the reader of the whole input would.

/// A row's bytes and where each of its fields is in them: its fields in order, one byte apart —
/// as a row without quotes is written (commas and all, copied at once), or, for a row read by
/// the `csv` crate, its unquoted fields with a comma put between them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Row {
    bytes: Vec<u8>,
    /// Where each field ends in `bytes`: the next starts one byte on (one number a field, as
    /// the fast way finds a call record's 85 commas or so a row).
    ends: Vec<usize>,
    /// Whether it was cut the fast way (no quote, no `\r` in it): then none of its fields holds
    /// a comma, a quote or a line break, and each is written to CSV as it is.
    plain: bool,
}

impl Row {
    /// Its number of fields.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Where field `index` starts and ends in its bytes (or in the text [`Row::take_text`] took).
    #[inline]
    pub(crate) fn span(&self, index: usize) -> Option<(usize, usize)> {
        let end = *self.ends.get(index)?;
        let start = match index.checked_sub(1) {
            Some(before) => self.ends.get(before)? + 1,
            None => 0,
        };
        Some((start, end))
    }

    /// Field `index` (0-based), if there is one.
    pub(crate) fn get(&self, index: usize) -> Option<&[u8]> {
        let (start, end) = self.span(index)?;
        self.bytes.get(start..end)
    }

    /// Field `index` cut from `whole`, the row's bytes as text (so no field is checked again).
    pub(crate) fn str_field<'a>(&self, whole: &'a str, index: usize) -> Option<&'a str> {
        let (start, end) = self.span(index)?;
        whole.get(start..end)
    }

    /// Takes its bytes as text when they are valid UTF-8 (checked once, not copied), leaving the
    /// buffer of `spare`, emptied, as its bytes: where each field is stays known
    /// ([`Row::span`]). `None`, and the row as it was, when they are not UTF-8.
    pub(crate) fn take_text(&mut self, spare: String) -> Option<String> {
        let mut spare = spare.into_bytes();
        spare.clear();
        match String::from_utf8(std::mem::replace(&mut self.bytes, spare)) {
            Ok(text) => Some(text),
            Err(e) => {
                self.bytes = e.into_bytes();
                None
            }
        }
    }

    /// Whether none of its fields holds a comma, a quote or a line break (see [`Row::plain`]).
    pub(crate) fn is_plain(&self) -> bool {
        self.plain
    }

    /// Its bytes: those of its fields, in order, a comma between each two (ASCII, so the bytes
    /// are valid UTF-8 only when every field is).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Becomes the row the `csv` crate read.
    fn copy_csv(&mut self, record: &csv::ByteRecord) {
        self.bytes.clear();
        self.ends.clear();
        self.plain = false;
        for (i, field) in record.iter().enumerate() {
            if i > 0 {
                self.bytes.push(b',');
            }
            self.bytes.extend_from_slice(field);
            self.ends.push(self.bytes.len());
        }
    }
}

/// Where a row was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowAt {
    /// Its 1-based line, counted by `\n` (as [`crate::csvutil::LineIndex`] counts them).
    pub(crate) line: u64,
    /// Whether it runs to the end of an input whose last byte is not a line break (the row may
    /// then be cut short).
    pub(crate) ends_input: bool,
}

/// What [`RowSplitter::next_row`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// A row, read into the record given.
    Row(RowAt),
    /// More bytes are needed ([`RowSplitter::feed`], or [`RowSplitter::finish`] at the end).
    NeedMore,
    /// The input is read through.
    End,
}

/// Input bytes not yet split, and where they are.
#[derive(Debug, Default)]
pub(crate) struct RowSplitter {
    buffer: Vec<u8>,
    /// Where the bytes not yet split start in `buffer`: always at the start of a record.
    at: usize,
    /// The line of `buffer[at]`.
    line: u64,
    /// Whether every byte of the input was fed.
    finished: bool,
    /// The `csv` way needs more than this many bytes before it is tried again (the row it read
    /// ran to the end of the bytes at hand, so may go on): doubling it keeps a long quoted row
    /// from being read over and over.
    wait_beyond: usize,
    /// The row the `csv` way read.
    scratch: csv::ByteRecord,
}

impl RowSplitter {
    /// A splitter at the start of an input.
    pub(crate) fn new() -> RowSplitter {
        RowSplitter {
            line: 1,
            ..RowSplitter::default()
        }
    }

    /// Adds the input's next bytes.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if self.at > 0 {
            self.buffer.drain(..self.at);
            self.at = 0;
        }
        self.buffer.extend_from_slice(bytes);
    }

    /// Says that every byte of the input was fed.
    pub(crate) fn finish(&mut self) {
        self.finished = true;
    }

    /// Starts over on a chunk of whole rows (see [`last_row_end`]) whose first row is at `line`:
    /// the chunk's bytes are taken (and the splitter's previous buffer left in `bytes`, to be
    /// filled again), and the chunk is the whole input as far as this splitter knows, so that a
    /// last row without a line break is read as the `csv` crate reads the input's last row.
    pub(crate) fn restart(&mut self, bytes: &mut Vec<u8>, line: u64) {
        std::mem::swap(&mut self.buffer, bytes);
        self.at = 0;
        self.line = line;
        self.finished = true;
        self.wait_beyond = 0;
    }

    /// The bytes fed but not yet split, and the line they start at: after the header, what the
    /// chunks of the rest of the input start with.
    pub(crate) fn take_rest(&mut self) -> (Vec<u8>, u64) {
        let rest = self.buffer.split_off(self.at.min(self.buffer.len()));
        self.buffer.clear();
        self.at = 0;
        (rest, self.line)
    }

    /// Reads the next row into `row`, as the `csv` crate (flexible, no header, default
    /// dialect) would read it.
    pub(crate) fn next_row(&mut self, row: &mut Row) -> Split {
        loop {
            let rest = self.buffer.get(self.at..).unwrap_or_default();
            if rest.is_empty() {
                return if self.finished { Split::End } else { Split::NeedMore };
            }
            match memchr::memchr(b'\n', rest) {
                Some(end) => {
                    let whole = rest.get(..end).unwrap_or_default();
                    let text = whole.strip_suffix(b"\r").unwrap_or(whole);
                    if memchr::memchr2(b'"', b'\r', text).is_none() {
                        let line = self.line;
                        self.at += end + 1;
                        self.line += 1;
                        if text.is_empty() {
                            // A blank line: the `csv` crate skips it.
                            continue;
                        }
                        row.bytes.clear();
                        row.bytes.extend_from_slice(text);
                        row.ends.clear();
                        for_each_comma(text, |comma| row.ends.push(comma));
                        row.ends.push(text.len());
                        row.plain = true;
                        self.wait_beyond = 0;
                        return Split::Row(RowAt {
                            line,
                            ends_input: false,
                        });
                    }
                }
                None if !self.finished => return Split::NeedMore,
                None => {}
            }
            if !self.finished && rest.len() <= self.wait_beyond {
                return Split::NeedMore;
            }
            match self.csv_row(row) {
                Some(split) => return split,
                None => continue,
            }
        }
    }

    /// Reads the next row the `csv` crate's way; `None` when the bytes at hand were only line
    /// breaks, now passed.
    fn csv_row(&mut self, row: &mut Row) -> Option<Split> {
        let rest = self.buffer.get(self.at..).unwrap_or_default();
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(rest);
        // Reading a slice fails in no way a flexible reader of bytes reports: read a failure as
        // the end of the bytes at hand.
        let read = rdr.read_byte_record(&mut self.scratch).unwrap_or(false);
        let used = usize::try_from(rdr.position().byte())
            .unwrap_or(rest.len())
            .min(rest.len());
        if !read {
            // Only line breaks (a row of none but them is skipped): pass them.
            self.line += newlines(rest);
            self.at += rest.len();
            return if self.finished { Some(Split::End) } else { None };
        }
        if used == rest.len() && !self.finished {
            // The row may go on in bytes not yet fed.
            self.wait_beyond = rest.len().saturating_mul(2);
            return Some(Split::NeedMore);
        }
        row.copy_csv(&self.scratch);
        let first = rest.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(0);
        let line = self.line + newlines(rest.get(..first).unwrap_or_default());
        let ends_input = used == rest.len() && !matches!(rest.last(), None | Some(b'\r' | b'\n'));
        self.line += newlines(rest.get(..used).unwrap_or_default());
        self.at += used;
        self.wait_beyond = 0;
        Some(Split::Row(RowAt { line, ends_input }))
    }
}

/// Calls `at` with the offset of each `,` in `bytes`, in order: 32 bytes at a time in a vector
/// (the `wide` crate: SSE2 or AVX2 compares without `unsafe` here), then eight at a time in a
/// word, as the commas of a call record's row are too close together (one in six bytes) for
/// `memchr_iter`. The vector compare took a quarter off the splitting of a call report's rows
/// (the largest part of the parsing thread's time), eight bytes at a time.
fn for_each_comma(bytes: &[u8], mut at: impl FnMut(usize)) {
    use wide::{CmpEq, u8x32};
    let comma = u8x32::splat(b',');
    let mut blocks = bytes.chunks_exact(32);
    let mut base = 0;
    for block in &mut blocks {
        let mut lanes = [0u8; 32];
        lanes.copy_from_slice(block);
        // One bit a byte: bit i set when byte i is a comma.
        let mut found = u8x32::from(lanes).cmp_eq(comma).move_mask() as u32;
        while found != 0 {
            at(base + found.trailing_zeros() as usize);
            found &= found - 1;
        }
        base += 32;
    }
    let rest = blocks.remainder();
    let mut words = rest.chunks_exact(8);
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let mut found = crate::csvutil::bytes_equal(u64::from_le_bytes(eight), b',');
        while found != 0 {
            at(base + (found.trailing_zeros() / 8) as usize);
            found &= found - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b',' {
            at(base + i);
        }
    }
}

/// The `\n` bytes in `bytes`.
pub(crate) fn newlines(bytes: &[u8]) -> u64 {
    // memchr's vector search jumps from break to break, rows being hundreds of bytes long: the
    // compiler did not vectorise a byte-by-byte count, which took a fifth of the reading
    // thread's time on the parts of a month.
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

/// Where the last whole row of `bytes` ends, `bytes` starting at the start of a record: just
/// after the last `\n` that the `csv` crate (default dialect) reads as a line break between
/// records rather than inside a quoted field; `None` when there is none.
///
/// Without any `"` every `\n` is such a break. Otherwise the quotes are followed as the `csv`
/// crate's state machine does: a `"` opens a quoted field only at the start of a field, `""`
/// inside one is a quote, and a `"` in an unquoted field is text. Cutting the input there lets
/// each part be split alone, each by its own thread, into the rows of the whole.
pub(crate) fn last_row_end(bytes: &[u8]) -> Option<usize> {
    if memchr::memchr(b'"', bytes).is_none() {
        return memchr::memrchr(b'\n', bytes).map(|i| i + 1);
    }
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut end = None;
    for (i, &b) in bytes.iter().enumerate() {
        state = match (state, b) {
            (State::Quoted, b'"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::FieldStart, b'"') | (State::QuoteInQuoted, b'"') => State::Quoted,
            (_, b'\n') => {
                end = Some(i + 1);
                State::FieldStart
            }
            (_, b',' | b'\r') => State::FieldStart,
            (_, _) => State::Unquoted,
        };
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csvutil::LineIndex;
    use proptest::prelude::*;

    /// The rows of `input` as the `csv` crate reads them, each with its line and whether it ends
    /// an input whose last byte is not a line break.
    fn by_csv(input: &[u8]) -> Vec<(Vec<Vec<u8>>, RowAt)> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(7)
            .from_reader(LineIndex::new(input));
        let mut rows = Vec::new();
        let mut row = csv::ByteRecord::new();
        while rdr.read_byte_record(&mut row).unwrap_or(false) {
            let line = crate::csvutil::record_line(&mut rdr, &row);
            let ends_input = rdr.get_ref().ends_without_line_break();
            rows.push((row.iter().map(<[u8]>::to_vec).collect(), RowAt { line, ends_input }));
        }
        rows
    }

    /// The rows of `input` as a [`RowSplitter`] reads them, fed `piece` bytes at a time.
    fn by_splitter(input: &[u8], piece: usize) -> Vec<(Vec<Vec<u8>>, RowAt)> {
        let mut splitter = RowSplitter::new();
        let mut pieces = input.chunks(piece.max(1));
        let mut rows = Vec::new();
        let mut row = Row::default();
        loop {
            match splitter.next_row(&mut row) {
                Split::Row(at) => {
                    let fields = (0..row.len()).map(|i| row.get(i).unwrap_or_default().to_vec());
                    rows.push((fields.collect(), at));
                }
                Split::NeedMore => match pieces.next() {
                    Some(bytes) => splitter.feed(bytes),
                    None => splitter.finish(),
                },
                Split::End => return rows,
            }
        }
    }

    #[test]
    fn every_comma_is_found_once_in_order() {
        let bytes = b",a,,\xac,bc,,,,d\x2d,\xff,,ef,g,";
        let mut found = Vec::new();
        for_each_comma(bytes, |i| found.push(i));
        let expected: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b',').collect();
        assert_eq!(found, expected);
        assert_eq!(found.len(), 13);
    }

    #[test]
    fn rows_lines_and_a_cut_last_row_are_the_csv_crates() {
        let input = b"h1,h2,h3\r\n\r\na,b,c\n\"q,1\",\"x\ny\",z\n\nd,e\rf,g\nlast,ro";
        let rows = by_splitter(input, 4);
        assert_eq!(rows, by_csv(input));
        assert_eq!(rows.len(), 6);
        assert_eq!(rows[1].1.line, 3);
        assert_eq!(rows[2].0, vec![b"q,1".to_vec(), b"x\ny".to_vec(), b"z".to_vec()]);
        assert_eq!(
            rows[5].1,
            RowAt {
                line: 8,
                ends_input: true
            }
        );
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z0-9 é]{0,9}",
            1 => "\"[a-z,\n\r\"]{0,5}\"",
            1 => "[a-z]{0,2}\"[a-z,]{0,2}",
            1 => "\"[a-z]{0,3}\"[a-z]{0,2}",
            1 => "[a-z]{0,2}\r[a-z]{0,2}",
        ]
    }

    fn row() -> impl Strategy<Value = String> {
        let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r"), Just("\n\n"), Just("\r\n\r\n")];
        (prop::collection::vec(field(), 1..5), ending).prop_map(|(fields, end)| fields.join(",") + end)
    }

    /// The rows of `input` read in parts cut at [`last_row_end`] of pieces of `piece` bytes,
    /// each part split alone by a splitter restarted at the part's line, as the parallel reader
    /// does.
    fn by_parts(input: &[u8], piece: usize) -> Vec<(Vec<Vec<u8>>, RowAt)> {
        let mut rows = Vec::new();
        let mut row = Row::default();
        let mut splitter = RowSplitter::new();
        let (mut at, mut line) = (0usize, 1u64);
        while at < input.len() {
            let mut end = input.len().min(at + piece.max(1));
            let cut = loop {
                match last_row_end(&input[at..end]) {
                    Some(cut) if end < input.len() => break at + cut,
                    _ if end < input.len() => end = input.len().min(end + piece.max(1)),
                    _ => break input.len(),
                }
            };
            let mut part = input[at..cut].to_vec();
            splitter.restart(&mut part, line);
            loop {
                match splitter.next_row(&mut row) {
                    Split::Row(found) => {
                        let fields = (0..row.len()).map(|i| row.get(i).unwrap_or_default().to_vec());
                        rows.push((fields.collect(), found));
                    }
                    Split::End => break,
                    Split::NeedMore => unreachable!("a restarted splitter has its whole input"),
                }
            }
            line += newlines(&input[at..cut]);
            at = cut;
        }
        rows
    }

    #[test]
    fn a_quoted_line_break_is_no_row_end() {
        assert_eq!(last_row_end(b"a,b\nc,d"), Some(4));
        assert_eq!(last_row_end(b"a,\"x\ny\"\nc,\"d\ne"), Some(8));
        assert_eq!(last_row_end(b"a,\"x\ny"), None);
        // A quote inside an unquoted field is text; `""` inside a quoted one is a quote.
        assert_eq!(last_row_end(b"a\"b,c\nd"), Some(6));
        assert_eq!(last_row_end(b"\"a\"\"\nb\"\n"), Some(8));
    }

    proptest! {
        /// The splitter fed in pieces, and the input cut into parts at row ends each split
        /// alone, read the rows the `csv` crate reads.
        #[test]
        fn fast_splitter_and_parts_equal_csv_crate(
            rows in prop::collection::vec(row(), 0..12),
            cut in any::<bool>(),
            trim in 0usize..4,
            piece in 1usize..40,
        ) {
            let mut input = rows.concat().into_bytes();
            if cut {
                let keep = input.len().saturating_sub(trim);
                input.truncate(keep);
            }
            let rows = by_csv(&input);
            prop_assert_eq!(&by_splitter(&input, piece), &rows);
            prop_assert_eq!(by_parts(&input, piece), rows);
        }

        /// Every comma is found, in order, and nothing else, across the 32-byte blocks, the
        /// eight-byte words and the bytes left (rows of up to 300 bytes, commas dense or rare,
        /// bytes over 127 and `,` + 128 among them).
        #[test]
        fn every_comma_is_found_once(bytes in prop::collection::vec(
            prop_oneof![Just(b','), Just(b',' | 0x80), Just(b'"'), any::<u8>()], 0..300)) {
            let mut found = Vec::new();
            for_each_comma(&bytes, |at| found.push(at));
            let expected: Vec<usize> = (0..bytes.len()).filter(|&i| bytes[i] == b',').collect();
            prop_assert_eq!(found, expected);
        }
    }
}
