//! Small shared pieces of the CSV readers and writers: header normalisation, field access, cut
//! rows, fatal errors, the size of writes.

use std::io::Write;

use crate::error::{Error, IssueKind, LoadIssue, Severity};

/// The buffers of the large outputs and spills, and the most bytes given to one `write`: 64 KiB.
/// Measured on this project's machines: a 1 MiB buffer made fewer system calls but cost more
/// system time (8.8 s against 3.5 s on a month of 10 million call records), and one write of half
/// a megabyte was copied into the page cache five times slower than the same bytes in writes of
/// 64 KiB (1.1 s against 0.2 s for 234 MB): copies through a buffer that no longer fits in the L2
/// cache.
pub(crate) const IO_BUFFER_BYTES: usize = 1 << 16;

/// Writes `bytes` in writes of at most [`IO_BUFFER_BYTES`].
pub(crate) fn write_in_pieces(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    bytes.chunks(IO_BUFFER_BYTES).try_for_each(|piece| out.write_all(piece))
}

/// A column name in canonical form, as every reader of the crate compares header names: byte
/// order mark and surrounding space removed, lower case, every run of characters other than
/// letters and digits turned into one `_`, none at either end. Two spellings of one column
/// (`"Consumption Start"`, `"CONSUMPTION_START"`, `"consumption-start"`) give the same name.
/// The name is given as text or as the raw bytes of a header cell (bytes that are not UTF-8
/// are read as U+FFFD, which is not a letter).
///
/// ```
/// use wholesale_billing::normalize_header;
/// assert_eq!(normalize_header("\u{feff}PARTNER_NAME"), "partner_name");
/// assert_eq!(normalize_header(b"Event ID"), "event_id");
/// assert_eq!(normalize_header("  Consumption Start "), "consumption_start");
/// assert_eq!(normalize_header("Customer Org-ID"), "customer_org_id");
/// assert_eq!(normalize_header("__x__"), "x");
/// ```
pub fn normalize_header(name: impl AsRef<[u8]>) -> String {
    let text = String::from_utf8_lossy(name.as_ref());
    let text = text.trim_start_matches('\u{feff}').trim();
    let mut out = String::with_capacity(text.len());
    let mut pending_sep = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.extend(c.to_lowercase());
        } else {
            pending_sep = true;
        }
    }
    out
}

/// A reader that remembers where its line breaks are, so that a record's physical line can be
/// told exactly: the `csv` crate's own line count is off after CRLF endings and blank lines.
pub(crate) struct LineIndex<R> {
    inner: R,
    /// Offset of the next byte to be read.
    offset: u64,
    /// Offsets of `\r` and `\n` bytes not yet passed, with whether each is a `\n`.
    breaks: std::collections::VecDeque<(u64, bool)>,
    /// `\n` bytes already passed.
    lines_before: u64,
    /// The last byte read, if any.
    last_byte: Option<u8>,
    /// Whether the end of the input was reached.
    at_end: bool,
}

impl<R> LineIndex<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineIndex {
            inner,
            offset: 0,
            breaks: std::collections::VecDeque::new(),
            lines_before: 0,
            last_byte: None,
            at_end: false,
        }
    }

    /// Whether the input ended without a line break and has been read to its end: the record
    /// just parsed is then the last one, and nothing terminated it. (The oracle of the row
    /// splitter's tests.)
    #[cfg(test)]
    pub(crate) fn ends_without_line_break(&self) -> bool {
        self.at_end && !matches!(self.last_byte, None | Some(b'\n' | b'\r'))
    }

    /// The 1-based line of the record whose parse started at byte `start` (the `csv` crate's
    /// `Position::byte`, which may point at the previous record's terminator or at blank lines).
    /// Calls must come with non-decreasing `start`.
    pub(crate) fn line_of(&mut self, start: u64) -> u64 {
        let mut at = start;
        while let Some(&(offset, is_lf)) = self.breaks.front() {
            if offset > at {
                break;
            }
            self.breaks.pop_front();
            // Lines are counted by `\n`, as `grep -n` and `sed` count them (a lone `\r` ends a
            // CSV record but not a line).
            self.lines_before += u64::from(is_lf);
            if offset == at {
                // A terminator byte: the record starts after it.
                at += 1;
            }
        }
        self.lines_before + 1
    }
}

impl<R: std::io::Read> std::io::Read for LineIndex<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match buf[..n].last() {
            Some(&b) => self.last_byte = Some(b),
            None if !buf.is_empty() => self.at_end = true,
            None => {}
        }
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            self.breaks.push_back((self.offset + i as u64, buf[i] == b'\n'));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// A flexible CSV reader (rows may have fewer or more fields than the header) with a 1 MiB
/// buffer, and its header row read into `record`.
///
/// # Errors
/// As [`csv_error`]; a rejection at line 1 when the input is empty.
pub(crate) fn open_with_header<R: std::io::Read>(
    reader: R,
    record: &mut csv::ByteRecord,
    source_name: &'static str,
) -> crate::Result<csv::Reader<LineIndex<R>>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(LineIndex::new(reader));
    if !rdr.read_byte_record(record).map_err(|e| csv_error(source_name, e))? {
        return Err(header_error(source_name, "empty file: no header row".into()));
    }
    Ok(rdr)
}

/// The physical line of the record just read.
pub(crate) fn record_line<R: std::io::Read>(rdr: &mut csv::Reader<LineIndex<R>>, record: &csv::ByteRecord) -> u64 {
    let start = record.position().map_or(0, csv::Position::byte);
    rdr.get_mut().line_of(start)
}

/// A field trimmed of ASCII white space; an absent field is empty.
#[inline]
pub(crate) fn field(record: &csv::ByteRecord, index: Option<usize>) -> &[u8] {
    match index.and_then(|i| record.get(i)) {
        Some(b) => b.trim_ascii(),
        None => b"",
    }
}

/// Turns a csv error into the crate's error: I/O stays I/O, anything else is a located
/// malformed-CSV rejection.
pub(crate) fn csv_error(source_name: &'static str, e: csv::Error) -> Error {
    let line = e.position().map_or(0, csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(format!("reading {source_name}"), io),
        other => Error::Rejected {
            source_name,
            issues: vec![LoadIssue::new(
                Severity::Error,
                line,
                IssueKind::MalformedCsv,
                format!("malformed csv: {}", describe_kind(&other)),
            )],
        },
    }
}

/// Turns an error of a CSV writer into the crate's error: an I/O failure is [`Error::Io`] with the
/// I/O error itself as its source (the csv error would show it twice), anything else an
/// [`Error::Csv`].
pub(crate) fn csv_write_error(context: &'static str, e: csv::Error) -> Error {
    if !e.is_io_error() {
        return Error::Csv { context, source: e };
    }
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(context, io),
        // `is_io_error` said it is one.
        _ => Error::io(context, std::io::ErrorKind::Other.into()),
    }
}

fn describe_kind(kind: &csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid utf-8 in field {}", err.field() + 1),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("a row has {len} fields where {expected_len} were expected")
        }
        other => format!("{other:?}").to_lowercase(),
    }
}

/// Finds columns by name in a header: `names[i]` is the canonical name and the accepted
/// normalised aliases (see [`normalize_header`]) of column `i`. Returns the 1-based position of
/// each; a column named twice, or a missing one of `required` (indices into `names`), refuses the
/// file.
pub(crate) fn find_columns<const N: usize>(
    header: &csv::ByteRecord,
    names: &[(&str, &[&str]); N],
    required: &[usize],
    source_name: &'static str,
) -> Result<[Option<usize>; N], Error> {
    find_columns_at(
        header,
        1,
        |name| names.iter().position(|(_, aliases)| aliases.contains(&name)),
        |col| names[col].0,
        required,
        source_name,
    )
}

/// As [`find_columns`], with the index of the column a normalised header name names told by
/// `column_of` and the canonical name of column `i` by `name_of`.
pub(crate) fn find_columns_by<'n, const N: usize>(
    header: &csv::ByteRecord,
    column_of: impl Fn(&str) -> Option<usize>,
    name_of: impl Fn(usize) -> &'n str,
    required: &[usize],
    source_name: &'static str,
) -> Result<[Option<usize>; N], Error> {
    find_columns_at(header, 1, column_of, name_of, required, source_name)
}

/// [`find_columns_by`] for a header given as names (a file's header record, records' keys, data
/// frame columns), its problems reported at `header_line` (0 for the names of records).
pub(crate) fn find_columns_at<'h, 'n, const N: usize>(
    header: impl IntoIterator<Item = &'h [u8]>,
    header_line: u64,
    column_of: impl Fn(&str) -> Option<usize>,
    name_of: impl Fn(usize) -> &'n str,
    required: &[usize],
    source_name: &'static str,
) -> Result<[Option<usize>; N], Error> {
    let mut cols = [None; N];
    for (i, name) in header.into_iter().enumerate() {
        let name = normalize_header(name);
        if let Some(col) = column_of(name.as_str()).filter(|&c| c < N) {
            if let Some(first) = cols[col] {
                return Err(header_error_at(
                    source_name,
                    header_line,
                    format!("column {} appears twice (columns {first} and {})", name_of(col), i + 1),
                ));
            }
            cols[col] = Some(i + 1);
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .filter(|&&c| cols.get(c).is_some_and(Option::is_none))
        .map(|&c| name_of(c))
        .collect();
    if !missing.is_empty() {
        return Err(header_error_at(
            source_name,
            header_line,
            format!("the header lacks required column(s): {}", missing.join(", ")),
        ));
    }
    Ok(cols)
}

/// A load that cannot start: the header is missing or lacks required columns.
pub(crate) fn header_error(source_name: &'static str, message: String) -> Error {
    header_error_at(source_name, 1, message)
}

/// [`header_error`] for a header at `line` (0 for the names of records).
fn header_error_at(source_name: &'static str, line: u64, message: String) -> Error {
    Error::Rejected {
        source_name,
        issues: vec![LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message)],
    }
}

/// The high bit of each byte of `word` that equals `byte`, exactly: no carry crosses bytes, so
/// a byte next to a match is never taken for one (eight bytes compared at once without SIMD).
#[inline]
pub(crate) fn bytes_equal(word: u64, byte: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Whether a field holds a comma, a quote or a line break. Most fields written are short (ids,
/// numbers, names): eight bytes at a time in a word costs less on them than the four searches of
/// `memchr` (a third of the time of formatting rated records went to their set-up).
#[inline]
pub(crate) fn needs_quotes(field: &[u8]) -> bool {
    const SHORT: usize = 64;
    if field.len() > SHORT {
        return memchr::memchr3(b',', b'"', b'\n', field).is_some() || memchr::memchr(b'\r', field).is_some();
    }
    let special = |word: u64| {
        bytes_equal(word, b',') | bytes_equal(word, b'"') | bytes_equal(word, b'\n') | bytes_equal(word, b'\r')
    };
    let mut words = field.chunks_exact(8);
    let mut found = 0;
    for chunk in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(chunk);
        found |= special(u64::from_le_bytes(eight));
    }
    // The last bytes, padded with zeros (none of the four).
    let mut eight = [0u8; 8];
    let rest = words.remainder();
    if let Some(head) = eight.get_mut(..rest.len()) {
        head.copy_from_slice(rest);
    }
    found |= special(u64::from_le_bytes(eight));
    found != 0
}

/// Appends a CSV field as the `csv` crate writes it (quoted only when it holds a comma, a quote
/// or a line break; quotes doubled).
pub(crate) fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    if !needs_quotes(field) {
        out.extend_from_slice(field);
        return;
    }
    out.push(b'"');
    for &b in field {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Each byte is found where it is and nowhere else, whatever its neighbours.
        #[test]
        fn bytes_equal_finds_exactly_the_bytes(word: [u8; 8], byte: u8, at in 0usize..8) {
            let mut word = word;
            word[at] = byte;
            let found = bytes_equal(u64::from_le_bytes(word), byte);
            for (i, &b) in word.iter().enumerate() {
                proptest::prop_assert_eq!((found >> (8 * i + 7)) & 1 == 1, b == byte, "byte {}", i);
            }
            proptest::prop_assert_eq!(found & !0x8080_8080_8080_8080, 0);
        }

        /// A field is written as the `csv` crate writes it, short or long, with or without
        /// commas, quotes and line breaks.
        #[test]
        fn fields_are_written_as_the_csv_crate_writes_them(
            field in proptest::collection::vec(proptest::sample::select(b"a,\"\n\r x\xc3".to_vec()), 0..150)
        ) {
            let mut ours = Vec::new();
            push_field(&mut ours, &field);
            ours.extend_from_slice(b",z\n");
            let mut theirs = csv::Writer::from_writer(Vec::new());
            theirs.write_record([&field[..], b"z"])?;
            proptest::prop_assert_eq!(ours, theirs.into_inner().map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?);
        }
    }

    #[test]
    fn physical_lines_with_crlf_blank_lines_and_quoted_breaks() {
        for (input, expected) in [
            ("h\r\na\r\nb\r\n\r\nc\r\n\"d\r\ne\"\r\nf", vec![1, 2, 3, 5, 6, 8]),
            ("h\na\n\nb\n\n\nc\n\"x\ny\"\nz\n", vec![1, 2, 4, 7, 8, 10]),
            ("h\ra\rb", vec![1, 1, 1]),
        ] {
            let mut record = csv::ByteRecord::new();
            let mut rdr = open_with_header(input.as_bytes(), &mut record, "test").unwrap();
            let mut lines = vec![record_line(&mut rdr, &record)];
            while rdr.read_byte_record(&mut record).unwrap() {
                lines.push(record_line(&mut rdr, &record));
            }
            assert_eq!(lines, expected, "{input:?}");
        }
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_header(b"\xEF\xBB\xBFPARTNER_NAME"), "partner_name");
        assert_eq!(normalize_header(b"  Consumption Start "), "consumption_start");
        assert_eq!(normalize_header(b"Customer Org-ID"), "customer_org_id");
        assert_eq!(normalize_header(b"event_id"), "event_id");
        assert_eq!(normalize_header(b"__x__"), "x");
    }
}
