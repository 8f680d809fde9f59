//! The "Detailed Call History" CSV report, read row by row into one reused [`CallRecord`].
//!
//! Each row is made a record by [`make_record`], which needs nothing shared: on the reading
//! thread itself, or, with two threads or more, on worker threads. The reading thread then reads
//! the header, cuts the rest of the input into parts of whole rows ([`last_row_end`], which
//! follows quotes as the `csv` crate does, so a quoted line break is no cut) and hands them round
//! to the workers; each splits its part into rows (a [`RowSplitter`]: rows without quotes cut at
//! their commas, any other read by the `csv` crate, so quotes and all read as it reads them),
//! puts and parses their values and hands the batch of records back, while the reading thread
//! takes the batches in input order, notes their issues, removes duplicates and hands the records
//! on. Either way the records, their lines and every issue come in input order, so every thread
//! count reads the same records and reports the same issues.

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, channel};

use crate::csvutil::{csv_error, find_columns_at, header_error};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

use super::call_record::{CallRecord, RecordOrigin};
use super::field::CdrField;
use super::reader::{CdrReader, Place, SOURCE, field_issue_at};
use super::split::{Row, RowAt, RowSplitter, Split, last_row_end, newlines};

/// Bytes read from the input at a time, and the least a part handed to a worker holds (but for
/// the last): about 2,000 rows of a Webex report.
const CHUNK_BYTES: usize = 1 << 20;
/// Parts in flight per worker: with [`CHUNK_BYTES`], what bounds the readers' memory (about
/// 2 MiB of bytes and two batches of records a worker).
const PARTS_PER_WORKER: usize = 2;

/// Gives every issue of a refused load the input it is about.
fn in_input(e: Error, input: usize) -> Error {
    match e {
        Error::Rejected { source_name, issues } => Error::Rejected {
            source_name,
            issues: issues.into_iter().map(|i| i.in_input(input)).collect(),
        },
        other => other,
    }
}

/// The name of column `index` (0-based) of a header, as written (byte order mark and surrounding
/// space removed).
fn header_name(header: &Row, index: usize) -> String {
    let name = String::from_utf8_lossy(header.get(index).unwrap_or_default());
    name.trim_start_matches('\u{feff}').trim().to_owned()
}

/// Where a row was read: its line, and whether it is a row cut short by the end of the input
/// (known only for a row shorter than the header); and whether it can be lent whole.
#[derive(Debug, Clone, Copy, Default)]
struct RowPlace {
    line: u64,
    cut: bool,
    /// Whether the row is valid UTF-8 as a whole (so each of its fields is) and under 4 GiB:
    /// its other columns are then lent in place rather than copied.
    lend: bool,
}

/// Whether a row can be lent whole (see [`RowPlace::lend`]).
fn can_lend(row: &Row) -> bool {
    let whole = row.as_bytes();
    // Most rows are ASCII: a word-at-a-time test, the full validation for the others.
    u32::try_from(whole.len()).is_ok() && (whole.is_ascii() || std::str::from_utf8(whole).is_ok())
}

/// What is the same for every row of one input: where the known fields are, the header, the
/// other columns and their names.
#[derive(Debug, Clone)]
struct Layout {
    /// The index of the input.
    input: usize,
    header: Row,
    /// The 1-based column of each known field, by [`CdrField::index`].
    cols: [Option<usize>; 11],
    /// The other columns: (0-based column, index of its name).
    others: Vec<(usize, u32)>,
    /// The names of the other columns.
    names: Vec<String>,
}

impl Layout {
    /// The layout of an input of this header.
    fn new(header: Row, input: usize) -> Result<Layout> {
        let required = CdrField::REQUIRED.map(CdrField::index);
        let cols: [Option<usize>; 11] = find_columns_at(
            (0..header.len()).map(|i| header.get(i).unwrap_or_default()),
            1,
            |name| CdrField::from_normalized(name).map(CdrField::index),
            |i| CdrField::ALL.get(i).map_or("", |f| f.name()),
            &required,
            SOURCE,
        )
        .map_err(|e| in_input(e, input))?;
        let mut others = Vec::new();
        let mut names = Vec::new();
        for i in 0..header.len() {
            if !cols.contains(&Some(i + 1)) {
                others.push((i, names.len() as u32));
                names.push(header_name(&header, i));
            }
        }
        Ok(Layout {
            input,
            header,
            cols,
            others,
            names,
        })
    }

    /// Gives `record` the names of this input's other columns.
    fn name(&self, record: &mut CallRecord) {
        record.names.clone_from(&self.names);
        record.row_others.clone_from(&self.others);
    }
}

/// What making a record of a row found.
#[derive(Debug, Clone, Copy, Default)]
enum Outcome {
    /// The row was refused as a whole (it has not the header's number of fields).
    #[default]
    Refused,
    /// The row's values were read and parsed; `valid` unless one was refused.
    Parsed { valid: bool },
}

/// Makes `record` of `row`, read at `place`: every value put and parsed, `places` telling where
/// each known field is, every issue found appended to `issues` in the order found (`row` may be
/// swapped with the record's own, when it is lent). Needs nothing shared, so that a worker thread
/// can do it.
fn make_record(
    layout: &Layout,
    row: &mut Row,
    place: RowPlace,
    record: &mut CallRecord,
    places: &mut [Place; 11],
    issues: &mut Vec<LoadIssue>,
) -> Outcome {
    let line = place.line;
    record.clear(RecordOrigin {
        input: layout.input,
        line,
        item: None,
    });
    *places = [Place::default(); 11];
    let header_len = layout.header.len();
    if row.len() != header_len {
        let column = row.len().min(header_len) + 1;
        let message = if place.cut {
            format!(
                "the file ends mid-row: its last row has {} of the header's {header_len} fields (a file cut short)",
                row.len()
            )
        } else {
            format!("the row has {} fields, the header {header_len}", row.len())
        };
        let name = match layout.cols.iter().position(|c| *c == Some(column)) {
            Some(field) => CdrField::ALL.get(field).map_or("", |f| f.name()).to_owned(),
            None => header_name(&layout.header, column - 1),
        };
        issues.push(LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message).at_column(column, name));
        return Outcome::Refused;
    }
    let mut refused = false;
    // A row valid as a whole is checked once; its fields are cut from it at ASCII commas.
    let whole = if place.lend {
        std::str::from_utf8(row.as_bytes()).ok()
    } else {
        None
    };
    for (field, col) in CdrField::ALL.into_iter().zip(layout.cols) {
        let Some(col) = col else { continue };
        places[field.index()] = Place {
            line,
            column: Some(col),
            key: None,
        };
        let text = match whole.and_then(|w| row.str_field(w, col - 1)) {
            Some(text) => Ok(text),
            None => std::str::from_utf8(row.get(col - 1).unwrap_or_default()),
        };
        let pushed = match text {
            Ok(text) => record.push_raw_text(field, text.trim_ascii()),
            Err(_) => Err((IssueKind::InvalidValue, "not valid utf-8".to_owned())),
        };
        if let Err((kind, message)) = pushed {
            refused = true;
            issues.push(field_issue_at(record, places, Severity::Error, field, kind, message));
        }
    }
    if place.lend {
        std::mem::swap(&mut record.row, row);
        record.in_row = true;
    } else {
        for &(col, name) in &layout.others {
            // Columns the rating does not use are kept as sent; bytes that are not UTF-8 read
            // as U+FFFD rather than refuse a record for a column nobody reads.
            let text = String::from_utf8_lossy(row.get(col).unwrap_or_default());
            if let Err((kind, message)) = record.push_other(name, &text) {
                refused = true;
                let column_name = layout.names.get(name as usize).cloned().unwrap_or_default();
                issues.push(LoadIssue::new(Severity::Error, line, kind, message).at_column(col + 1, column_name));
            }
        }
    }
    let mut pending = Vec::new();
    let ok = record.parse_fields(|field, e| pending.push((field, e)));
    for (field, (kind, message)) in pending {
        issues.push(field_issue_at(record, places, Severity::Error, field, kind, message));
    }
    Outcome::Parsed { valid: ok && !refused }
}

/// The record in `reader.record` was made ([`make_record`]): notes its issues, and unless refused
/// handles duplicates and passes it on.
fn deliver(
    reader: &mut CdrReader,
    outcome: Outcome,
    issues: &mut Vec<LoadIssue>,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
) -> Result<()> {
    match outcome {
        Outcome::Refused => {
            for issue in issues.drain(..) {
                reader.issue(issue);
            }
            reader.diagnostics.records_read += 1;
            reader.diagnostics.records_rejected += 1;
            Ok(())
        }
        Outcome::Parsed { valid } => {
            for issue in issues.drain(..) {
                reader.issue(issue);
            }
            reader.accept(valid, on_record)
        }
    }
}

/// The CSV parser failed: its located error is a rejected record, anything else an error.
fn rows_failed(reader: &mut CdrReader, e: csv::Error) -> Result<()> {
    match csv_error(SOURCE, e) {
        Error::Rejected { issues, .. } => {
            for issue in issues {
                reader.reject(issue);
            }
            Ok(())
        }
        other => Err(other),
    }
}

pub(super) fn read_csv<R: Read>(
    reader: &mut CdrReader,
    input: R,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
    threads: usize,
) -> Result<()> {
    let index = reader.input;
    if threads < 2 {
        let mut input = Unpiped {
            input,
            splitter: RowSplitter::new(),
            buffer: Vec::new(),
            read_bytes: CHUNK_BYTES,
        };
        let layout = read_layout(index, |row| input.next_row(row))?;
        layout.name(&mut reader.record);
        let header_len = layout.header.len();
        let mut row = Row::default();
        let mut issues = Vec::new();
        loop {
            let at = match input.next_row(&mut row) {
                Ok(Some(at)) => at,
                Ok(None) => return Ok(()),
                Err(e) => return rows_failed(reader, csv::Error::from(e)),
            };
            let place = RowPlace {
                line: at.line,
                cut: row.len() < header_len && at.ends_input,
                lend: can_lend(&row),
            };
            let outcome = make_record(
                &layout,
                &mut row,
                place,
                &mut reader.record,
                &mut reader.places,
                &mut issues,
            );
            deliver(reader, outcome, &mut issues, on_record)?;
        }
    }
    read_parallel(reader, input, on_record, threads - 1, CHUNK_BYTES)
}

/// The layout of an input, from its first row, read by `next_row`.
fn read_layout(index: usize, next_row: impl FnOnce(&mut Row) -> std::io::Result<Option<RowAt>>) -> Result<Layout> {
    let mut header = Row::default();
    match next_row(&mut header) {
        Ok(Some(_)) => Layout::new(header, index),
        Ok(None) => Err(header_error(SOURCE, "empty file: no header row".into())),
        Err(e) => Err(csv_error(SOURCE, csv::Error::from(e))),
    }
    .map_err(|e| in_input(e, index))
}

/// The input read on the reading thread itself, `read_bytes` at a time.
struct Unpiped<R: Read> {
    input: R,
    splitter: RowSplitter,
    buffer: Vec<u8>,
    /// Bytes read at a time.
    read_bytes: usize,
}

impl<R: Read> Unpiped<R> {
    /// Reads the next row into `row`: `Ok(None)` at the end of the input.
    fn next_row(&mut self, row: &mut Row) -> std::io::Result<Option<RowAt>> {
        loop {
            match self.splitter.next_row(row) {
                Split::Row(at) => return Ok(Some(at)),
                Split::End => return Ok(None),
                Split::NeedMore => {
                    if self.buffer.len() != self.read_bytes {
                        self.buffer.resize(self.read_bytes, 0);
                    }
                    let read = loop {
                        match self.input.read(&mut self.buffer) {
                            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                            other => break other?,
                        }
                    };
                    match self.buffer.get(..read) {
                        Some([]) | None => self.splitter.finish(),
                        Some(bytes) => self.splitter.feed(bytes),
                    }
                }
            }
        }
    }
}

// ---- the workers ----

/// A record made by a worker, with where its fields are, the issues found making it and what
/// they mean for it.
struct Made {
    record: CallRecord,
    places: [Place; 11],
    issues: Vec<LoadIssue>,
    outcome: Outcome,
}

/// The records a worker made of one part, handed over together.
#[derive(Default)]
struct Batch {
    made: Vec<Made>,
    /// Records made, from the start of `made`.
    len: usize,
    /// The bytes of a part read through, to be filled again.
    spent: Vec<u8>,
}

/// A part of the input for a worker: whole rows, the first at `line`, `last` when it ends the
/// input; and a batch to make its records in.
struct Job {
    bytes: Vec<u8>,
    line: u64,
    last: bool,
    batch: Batch,
}

/// The worker's error when the other end stopped: never reported, as the reading thread is the
/// one that stopped.
fn pipeline_gone() -> std::io::Error {
    std::io::Error::other("a csv worker thread stopped")
}

/// A worker: splits each part it receives into rows and makes them records, in one batch a part
/// (with their fingerprints when `fingerprints`, to spare the reading thread's deduplicator the
/// work), until the reading thread closes its channel.
fn make_records(layout: &Layout, fingerprints: bool, jobs: Receiver<Job>, done: Sender<Batch>) {
    let header_len = layout.header.len();
    let mut splitter = RowSplitter::new();
    let mut row = Row::default();
    let mut scratch = Vec::new();
    for mut job in jobs {
        // The part becomes the splitter's whole input; its previous part comes back, spent.
        splitter.restart(&mut job.bytes, job.line);
        let mut batch = job.batch;
        batch.len = 0;
        // A restarted splitter has its whole input: it never needs more.
        while let Split::Row(at) = splitter.next_row(&mut row) {
            if batch.made.len() == batch.len {
                // Without the names of the other columns: they stay with the reader's record.
                batch.made.push(Made {
                    record: CallRecord::default(),
                    places: [Place::default(); 11],
                    issues: Vec::new(),
                    outcome: Outcome::default(),
                });
            }
            let Some(made) = batch.made.get_mut(batch.len) else {
                break;
            };
            let place = RowPlace {
                line: at.line,
                // Only the input's last part can end mid-row: the others end with a line break.
                cut: row.len() < header_len && at.ends_input && job.last,
                lend: can_lend(&row),
            };
            made.issues.clear();
            made.outcome = make_record(
                layout,
                &mut row,
                place,
                &mut made.record,
                &mut made.places,
                &mut made.issues,
            );
            if fingerprints && matches!(made.outcome, Outcome::Parsed { valid: true }) {
                made.record.fingerprint = Some(made.record.content_fingerprint(&mut scratch));
            }
            batch.len += 1;
        }
        batch.spent = job.bytes;
        if done.send(batch).is_err() {
            return;
        }
    }
}

/// The input after its header, cut into parts of whole rows on the reading thread.
struct Parts<R: Read> {
    input: R,
    /// The bytes read past the last part's end: the start of the next part.
    carry: Vec<u8>,
    /// The line of the first byte of `carry`.
    line: u64,
    /// The bytes read at a time, and the least a part holds but for the last.
    part_bytes: usize,
    /// Whether the input is read through (or failed): no part is left.
    ended: bool,
    /// The read error that ended the input, reported once the parts before it are delivered.
    error: Option<std::io::Error>,
}

impl<R: Read> Parts<R> {
    /// Reads at least `part_bytes` more into `bytes`, or up to the end: whether the end was
    /// reached.
    fn fill(&mut self, bytes: &mut Vec<u8>) -> std::io::Result<bool> {
        let want = bytes.len() + self.part_bytes.max(1);
        while bytes.len() < want {
            let at = bytes.len();
            bytes.resize(want, 0);
            let read = loop {
                match self.input.read(&mut bytes[at..]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    other => break other,
                }
            };
            match read {
                Ok(0) => {
                    bytes.truncate(at);
                    return Ok(true);
                }
                Ok(n) => bytes.truncate(at + n),
                Err(e) => {
                    bytes.truncate(at);
                    return Err(e);
                }
            }
        }
        Ok(false)
    }

    /// The next part, in `bytes` (a spent buffer, refilled): the line of its first row and whether
    /// it ends the input; `None` when no row is left.
    fn next(&mut self, mut bytes: Vec<u8>) -> Option<(Vec<u8>, u64, bool)> {
        if self.ended {
            return None;
        }
        bytes.clear();
        std::mem::swap(&mut bytes, &mut self.carry);
        let line = self.line;
        let (cut, last) = loop {
            match self.fill(&mut bytes) {
                Ok(false) => {}
                Ok(true) => break (bytes.len(), true),
                Err(e) => {
                    // The rows read whole before the failure are delivered, then the error.
                    self.error = Some(e);
                    break (last_row_end(&bytes).unwrap_or(0), true);
                }
            }
            // A part longer than a chunk when a row (a quoted field) is: read on to its end.
            if let Some(cut) = last_row_end(&bytes) {
                break (cut, false);
            }
        };
        self.ended = last;
        self.carry.extend_from_slice(bytes.get(cut..).unwrap_or_default());
        bytes.truncate(cut);
        self.line += newlines(&bytes);
        (!bytes.is_empty()).then_some((bytes, line, last))
    }
}

/// Reads the input with `workers` worker threads making the records (see the module's doc), in
/// parts of at least `part_bytes`.
fn read_parallel<R: Read>(
    reader: &mut CdrReader,
    input: R,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
    workers: usize,
    part_bytes: usize,
) -> Result<()> {
    let index = reader.input;
    let workers = workers.max(1);
    let mut head = Unpiped {
        input,
        splitter: RowSplitter::new(),
        buffer: Vec::new(),
        read_bytes: part_bytes.max(1),
    };
    let layout = read_layout(index, |row| head.next_row(row))?;
    layout.name(&mut reader.record);
    let (carry, line) = head.splitter.take_rest();
    let mut parts = Parts {
        input: head.input,
        carry,
        line,
        part_bytes,
        ended: false,
        error: None,
    };
    let fingerprints = reader.fingerprints();
    std::thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (job_tx, job_rx) = channel::<Job>();
            let (done_tx, done_rx) = channel::<Batch>();
            let layout = &layout;
            scope.spawn(move || make_records(layout, fingerprints, job_rx, done_tx));
            to_workers.push(job_tx);
            from_workers.push(done_rx);
        }
        let mut free: Vec<Batch> = Vec::new();
        // Parts are handed round, part `n` to worker `n % workers`, and taken back in that order.
        let (mut sent, mut taken) = (0usize, 0usize);
        let result = 'parts: loop {
            while sent - taken < PARTS_PER_WORKER * workers {
                let mut batch = free.pop().unwrap_or_default();
                let Some((bytes, line, last)) = parts.next(std::mem::take(&mut batch.spent)) else {
                    break;
                };
                let job = Job {
                    bytes,
                    line,
                    last,
                    batch,
                };
                let Some(to_worker) = to_workers.get(sent % workers) else {
                    break;
                };
                if to_worker.send(job).is_err() {
                    break 'parts rows_failed(reader, csv::Error::from(pipeline_gone()));
                }
                sent += 1;
            }
            if taken == sent {
                break match parts.error.take() {
                    Some(e) => rows_failed(reader, csv::Error::from(e)),
                    None => Ok(()),
                };
            }
            // A worker that ended without its batch cannot have: it ends only on a closed
            // channel; read it as an I/O failure rather than an end.
            let Some(Ok(mut batch)) = from_workers.get(taken % workers).map(Receiver::recv) else {
                break rows_failed(reader, csv::Error::from(pipeline_gone()));
            };
            taken += 1;
            for made in batch.made.iter_mut().take(batch.len) {
                std::mem::swap(&mut made.record, &mut reader.record);
                // The names of the other columns stay with the reader's record: one copy, not
                // one a record in flight.
                std::mem::swap(&mut made.record.names, &mut reader.record.names);
                std::mem::swap(&mut made.record.row_others, &mut reader.record.row_others);
                reader.places = made.places;
                if let Err(e) = deliver(reader, made.outcome, &mut made.issues, on_record) {
                    break 'parts Err(e);
                }
            }
            free.push(batch);
        };
        // The workers end once their channels close.
        drop(to_workers);
        result
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    use super::*;
    use crate::rating::record::CdrReadOptions;

    /// Each record read (with its origin) and how the read ended, on one thread, or on
    /// `workers` workers in parts of `part_bytes` when `Some`.
    fn read(input: &[u8], parallel: Option<(usize, usize)>) -> (Vec<(CallRecord, String)>, String) {
        let options = CdrReadOptions {
            mode: crate::LoadMode::Lenient,
            ..CdrReadOptions::default()
        };
        let mut reader = CdrReader::new(options);
        let mut records = Vec::new();
        let mut on_record = |r: &CallRecord| {
            records.push((r.clone(), r.origin().to_string()));
            Ok(())
        };
        let read = match parallel {
            None => read_csv(&mut reader, input, &mut on_record, 1),
            Some((workers, part_bytes)) => read_parallel(&mut reader, input, &mut on_record, workers, part_bytes),
        };
        let end = match read {
            Err(e) => format!("read error: {e}"),
            Ok(()) => match reader.finish() {
                Ok(diagnostics) => format!("{diagnostics:?}"),
                Err(e) => format!("finish error: {e}"),
            },
        };
        (records, end)
    }

    /// A field: plain, quoted with a comma, a line break, a doubled quote, or a quote as text.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9 ]{0,6}",
            Just("\"a,b\"".to_owned()),
            Just("\"x\ny\"".to_owned()),
            Just("\"say \"\"hi\"\"\"".to_owned()),
            Just("a\"b".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Parts as small as a few bytes, so that rows, quoted fields and line breaks are cut
        /// everywhere: the same records, places and issues as on one thread.
        #[test]
        fn parts_of_any_size_read_as_one_thread(
            rows in prop::collection::vec((prop::collection::vec(field(), 3), any::<bool>()), 0..24),
            workers in 1usize..5,
            part_bytes in 1usize..200,
            last_newline in any::<bool>(),
        ) {
            let mut input = String::from("Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID,A,B,C\n");
            for (i, (fields, crlf)) in rows.iter().enumerate() {
                let note = fields.join(",");
                input.push_str(&format!("r{i},2024-05-03T10:30:00Z,{},ORIGINATING,SIP_NATIONAL,true,org-1,{note}", i * 7));
                if i + 1 < rows.len() || last_newline {
                    input.push_str(if *crlf { "\r\n" } else { "\n" });
                }
            }
            let one = read(input.as_bytes(), None);
            let many = read(input.as_bytes(), Some((workers, part_bytes)));
            prop_assert!(one.1.starts_with("CdrDiagnostics"), "{}", one.1);
            prop_assert_eq!(one, many);
        }
    }
}
