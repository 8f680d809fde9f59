//! The "Detailed Call History" CSV report, read row by row into one reused [`CallRecord`].
//!
//! Each row is made a record by [`make_record`], which needs nothing shared: on the reading
//! thread itself, or, with two threads or more, on the worker thread of a [`Pipeline`], which
//! splits the bytes into rows (a [`RowSplitter`]: rows without quotes cut at their commas, any
//! other read by the `csv` crate, so quotes and all read as it reads them), puts and parses
//! their values and hands whole batches of records over, while the reading thread only notes
//! their issues, removes duplicates and hands them on. Either way the records, their lines and
//! every issue come in input order, so both read the same records and report the same issues.

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use crate::csvutil::{csv_error, find_columns_at, header_error};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

use super::call_record::{CallRecord, RecordOrigin};
use super::field::CdrField;
use super::reader::{CdrReader, Place, SOURCE, field_issue_at};
use super::split::{Row, RowAt, RowSplitter, Split};

/// Bytes read from the input at a time by a pipeline.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks in flight between the reading thread and the worker: with [`BATCH_ROWS`] and
/// [`BATCHES`], what bounds the pipeline's memory (4 MiB of bytes and 4 batches of rows).
const CHUNKS: usize = 4;
/// Rows handed over at a time.
const BATCH_ROWS: usize = 1024;
/// Batches in flight.
const BATCHES: usize = 4;

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
    std::thread::scope(|scope| {
        let (chunks_tx, chunks_rx) = channel::<std::io::Result<Chunk>>();
        let (to_reader, from_worker) = channel::<FromWorker>();
        let (recycle_tx, recycle_rx) = channel::<Batch>();
        let fingerprints = reader.fingerprints();
        scope.spawn(move || make_records(index, fingerprints, chunks_rx, to_reader, recycle_rx));
        let mut pipeline = Pipeline {
            input,
            chunks: Some(chunks_tx),
            free: Vec::new(),
            chunks_made: 0,
            from_worker,
        };
        match pipeline.message() {
            Some(FromWorker::Header(Ok(layout))) => layout.name(&mut reader.record),
            Some(FromWorker::Header(Err(e))) => return Err(e),
            _ => {
                return Err(Error::io(
                    format!("reading call records input {}", index + 1),
                    pipeline_gone(),
                ));
            }
        }
        loop {
            let mut batch = match pipeline.message() {
                Some(FromWorker::Batch(batch)) => batch,
                // The worker ended without saying why: it cannot, as it ends only after its last
                // batch or on a closed channel; read it as an I/O failure rather than an end.
                _ => return rows_failed(reader, csv::Error::from(pipeline_gone())),
            };
            for made in batch.made.iter_mut().take(batch.len) {
                std::mem::swap(&mut made.record, &mut reader.record);
                // The names of the other columns stay with the reader's record: one copy, not
                // one a record in flight.
                std::mem::swap(&mut made.record.names, &mut reader.record.names);
                std::mem::swap(&mut made.record.row_others, &mut reader.record.row_others);
                reader.places = made.places;
                deliver(reader, made.outcome, &mut made.issues, on_record)?;
            }
            match batch.end.take() {
                Some(None) => return Ok(()),
                Some(Some(e)) => return rows_failed(reader, e),
                // The worker may have ended: the batch is then of no use.
                None => drop(recycle_tx.send(batch)),
            }
        }
    })
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

/// The input read on the reading thread itself, [`CHUNK_BYTES`] at a time.
struct Unpiped<R: Read> {
    input: R,
    splitter: RowSplitter,
    buffer: Vec<u8>,
}

impl<R: Read> Unpiped<R> {
    /// Reads the next row into `row`: `Ok(None)` at the end of the input.
    fn next_row(&mut self, row: &mut Row) -> std::io::Result<Option<RowAt>> {
        loop {
            match self.splitter.next_row(row) {
                Split::Row(at) => return Ok(Some(at)),
                Split::End => return Ok(None),
                Split::NeedMore => {
                    if self.buffer.len() != CHUNK_BYTES {
                        self.buffer.resize(CHUNK_BYTES, 0);
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

// ---- the pipeline ----

/// A record made by the worker, with where its fields are, the issues found making it and what
/// they mean for it.
struct Made {
    record: CallRecord,
    places: [Place; 11],
    issues: Vec<LoadIssue>,
    outcome: Outcome,
}

/// Records made by the worker, handed over together.
struct Batch {
    made: Vec<Made>,
    /// Records made, from the start of `made`.
    len: usize,
    /// What ended the input after these rows: `Some(None)` its end, `Some(Some(e))` an error.
    end: Option<Option<csv::Error>>,
}

/// What the worker sends the reading thread.
enum FromWorker {
    /// The layout of the input, from its header, or why there is none.
    Header(Result<Box<Layout>>),
    /// Records.
    Batch(Batch),
    /// A chunk of input bytes read through, to be filled again.
    Chunk(Chunk),
}

/// The worker's error when the reading thread stopped listening: never reported, as the reading
/// thread is the one that stopped.
fn pipeline_gone() -> std::io::Error {
    std::io::Error::other("the csv worker thread stopped")
}

/// The input bytes as the worker sees them: chunks received from the reading thread, each given
/// back once its bytes are in the splitter.
struct Chunks {
    from_reader: Receiver<std::io::Result<Chunk>>,
    to_reader: Sender<FromWorker>,
    splitter: RowSplitter,
}

/// A buffer of [`CHUNK_BYTES`] and how many of its bytes were read into.
#[derive(Default)]
struct Chunk {
    buffer: Vec<u8>,
    len: usize,
}

impl Chunks {
    /// Reads the next row into `row`: `Ok(None)` at the end of the input.
    fn next_row(&mut self, row: &mut Row) -> std::io::Result<Option<RowAt>> {
        loop {
            match self.splitter.next_row(row) {
                Split::Row(at) => return Ok(Some(at)),
                Split::End => return Ok(None),
                Split::NeedMore => match self.from_reader.recv() {
                    Ok(Ok(chunk)) => {
                        self.splitter
                            .feed(chunk.buffer.get(..chunk.len).ok_or_else(pipeline_gone)?);
                        // The reading thread may have stopped: the chunk is then of no use.
                        let _ = self.to_reader.send(FromWorker::Chunk(chunk));
                    }
                    Ok(Err(e)) => return Err(e),
                    // The end of the input: the reading thread closed the channel.
                    Err(_) => self.splitter.finish(),
                },
            }
        }
    }
}

/// The worker: splits the chunks it receives into rows and makes them records, in batches (with
/// their fingerprints when `fingerprints`, to spare the reading thread's deduplicator the work).
fn make_records(
    index: usize,
    fingerprints: bool,
    chunks: Receiver<std::io::Result<Chunk>>,
    to_reader: Sender<FromWorker>,
    recycled: Receiver<Batch>,
) {
    let mut input = Chunks {
        from_reader: chunks,
        to_reader: to_reader.clone(),
        splitter: RowSplitter::new(),
    };
    let layout = read_layout(index, |row| input.next_row(row));
    let layout = match layout {
        Ok(both) => both,
        Err(e) => {
            let _ = to_reader.send(FromWorker::Header(Err(e)));
            return;
        }
    };
    if to_reader
        .send(FromWorker::Header(Ok(Box::new(layout.clone()))))
        .is_err()
    {
        return;
    }
    let header_len = layout.header.len();
    let mut row = Row::default();
    let mut scratch = Vec::new();
    let mut made = 0usize;
    loop {
        let mut batch = match recycled.try_recv() {
            Ok(batch) => batch,
            Err(TryRecvError::Empty) if made < BATCHES => {
                made += 1;
                Batch {
                    made: Vec::with_capacity(BATCH_ROWS),
                    len: 0,
                    end: None,
                }
            }
            Err(_) => match recycled.recv() {
                Ok(batch) => batch,
                Err(_) => return,
            },
        };
        batch.len = 0;
        batch.end = None;
        while batch.len < BATCH_ROWS {
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
            match input.next_row(&mut row) {
                Ok(Some(at)) => {
                    let place = RowPlace {
                        line: at.line,
                        cut: row.len() < header_len && at.ends_input,
                        lend: can_lend(&row),
                    };
                    made.issues.clear();
                    made.outcome = make_record(
                        &layout,
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
                Ok(None) => {
                    batch.end = Some(None);
                    break;
                }
                Err(e) => {
                    batch.end = Some(Some(csv::Error::from(e)));
                    break;
                }
            }
        }
        let ended = batch.end.is_some();
        if to_reader.send(FromWorker::Batch(batch)).is_err() || ended {
            return;
        }
    }
}

/// The reading thread's end of the pipeline: it reads the input into chunks for the worker and
/// takes the records the worker makes, in order.
struct Pipeline<R: Read> {
    input: R,
    /// `None` once the input is read through (or failed).
    chunks: Option<Sender<std::io::Result<Chunk>>>,
    free: Vec<Chunk>,
    chunks_made: usize,
    from_worker: Receiver<FromWorker>,
}

impl<R: Read> Pipeline<R> {
    /// Reads one chunk of the input and sends it to the worker; closes the channel at the end.
    fn feed(&mut self) {
        let Some(chunks) = &self.chunks else { return };
        let mut chunk = self.free.pop().unwrap_or_default();
        // Zeroed once, when made: a chunk given back keeps its bytes, overwritten by the read.
        if chunk.buffer.len() != CHUNK_BYTES {
            chunk.buffer.resize(CHUNK_BYTES, 0);
        }
        let read = loop {
            match self.input.read(&mut chunk.buffer) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        match read {
            Ok(0) => self.chunks = None,
            Ok(n) => {
                chunk.len = n;
                if chunks.send(Ok(chunk)).is_err() {
                    self.chunks = None;
                }
            }
            Err(e) => {
                let _ = chunks.send(Err(e));
                self.chunks = None;
            }
        }
    }

    /// The worker's next message other than a chunk given back, feeding it chunks meanwhile;
    /// `None` when the worker is gone.
    fn message(&mut self) -> Option<FromWorker> {
        loop {
            let message = match self.from_worker.try_recv() {
                Ok(message) => message,
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {
                    if self.chunks.is_some() && (!self.free.is_empty() || self.chunks_made < CHUNKS) {
                        if self.free.is_empty() {
                            self.chunks_made += 1;
                        }
                        self.feed();
                        continue;
                    }
                    self.from_worker.recv().ok()?
                }
            };
            match message {
                FromWorker::Chunk(chunk) => self.free.push(chunk),
                other => return Some(other),
            }
        }
    }
}
