//! The "Detailed Call History" CSV report, read row by row into one reused [`CallRecord`].
//!
//! Rows come from a [`Rows`] source: the CSV parser itself on the reading thread, or, with two
//! threads or more, a [`Pipeline`] whose worker thread splits the bytes into rows (the `csv`
//! crate's state machine, quotes and all) while the reading thread parses their values, removes
//! duplicates and hands them on. Either way the rows, their lines and every issue come in input
//! order, so both read the same records and report the same issues.

use std::io::Read;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use crate::csvutil::{LineIndex, csv_error, find_columns_at, is_cut_row, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

use super::call_record::{CallRecord, RecordOrigin};
use super::field::CdrField;
use super::reader::{CdrReader, Place, SOURCE};

/// Bytes read from the input at a time by a pipeline.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks in flight between the reading thread and the worker: with [`BATCH_ROWS`] and
/// [`BATCHES`], what bounds the pipeline's memory (4 MiB of bytes and 4 batches of rows).
const CHUNKS: usize = 4;
/// Rows handed over at a time.
const BATCH_ROWS: usize = 2048;
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
fn header_name(header: &csv::ByteRecord, index: usize) -> String {
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
fn can_lend(row: &csv::ByteRecord) -> bool {
    let whole = row.as_slice();
    u32::try_from(whole.len()).is_ok() && std::str::from_utf8(whole).is_ok()
}

/// A source of CSV rows after the header.
trait Rows {
    /// The next row, put in `row` (whose old buffer may be kept), with where it was read; `None`
    /// at the end of the input.
    fn next_row(&mut self, row: &mut csv::ByteRecord) -> std::result::Result<Option<RowPlace>, csv::Error>;
}

/// The rows of a CSV reader on this thread.
struct Direct<R: Read> {
    rdr: csv::Reader<LineIndex<R>>,
    header_len: usize,
}

impl<R: Read> Rows for Direct<R> {
    fn next_row(&mut self, row: &mut csv::ByteRecord) -> std::result::Result<Option<RowPlace>, csv::Error> {
        if !self.rdr.read_byte_record(row)? {
            return Ok(None);
        }
        let line = record_line(&mut self.rdr, row);
        let cut = row.len() != self.header_len && is_cut_row(&self.rdr, row, self.header_len);
        Ok(Some(RowPlace {
            line,
            cut,
            lend: can_lend(row),
        }))
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
        let mut header = csv::ByteRecord::new();
        let rdr = open_with_header(input, &mut header, SOURCE).map_err(|e| in_input(e, index))?;
        let mut rows = Direct {
            rdr,
            header_len: header.len(),
        };
        return read_rows(reader, &header, &mut rows, on_record);
    }
    std::thread::scope(|scope| {
        let (chunks_tx, chunks_rx) = channel::<std::io::Result<Chunk>>();
        let (to_reader, from_worker) = channel::<FromWorker>();
        let (recycle_tx, recycle_rx) = channel::<Batch>();
        scope.spawn(move || split_rows(chunks_rx, to_reader, recycle_rx));
        let mut pipeline = Pipeline {
            input,
            chunks: Some(chunks_tx),
            free: Vec::new(),
            chunks_made: 0,
            from_worker,
            recycle: recycle_tx,
            batch: None,
            at: 0,
        };
        let header = match pipeline.message() {
            Some(FromWorker::Header(Ok(header))) => header,
            Some(FromWorker::Header(Err(e))) => return Err(in_input(e, index)),
            _ => {
                return Err(Error::io(
                    format!("reading call records input {}", index + 1),
                    pipeline_gone(),
                ));
            }
        };
        read_rows(reader, &header, &mut pipeline, on_record)
    })
}

/// The rows of an input, after its header: every row checked, parsed, passed on.
fn read_rows(
    reader: &mut CdrReader,
    header: &csv::ByteRecord,
    rows: &mut dyn Rows,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
) -> Result<()> {
    let index = reader.input;
    let required = CdrField::REQUIRED.map(CdrField::index);
    let cols: [Option<usize>; 11] = find_columns_at(
        header.iter(),
        1,
        |name| CdrField::from_normalized(name).map(CdrField::index),
        |i| CdrField::ALL.get(i).map_or("", |f| f.name()),
        &required,
        SOURCE,
    )
    .map_err(|e| in_input(e, index))?;
    let header_len = header.len();
    // The other columns: (0-based column, index of its name).
    let mut others = Vec::new();
    reader.record.names.clear();
    for i in 0..header_len {
        if !cols.contains(&Some(i + 1)) {
            others.push((i, reader.record.names.len() as u32));
            reader.record.names.push(header_name(header, i));
        }
    }
    reader.record.row_others.clone_from(&others);
    let mut row = csv::ByteRecord::new();
    loop {
        let place = match rows.next_row(&mut row) {
            Ok(Some(place)) => place,
            Ok(None) => break,
            Err(e) => {
                return match csv_error(SOURCE, e) {
                    Error::Rejected { issues, .. } => {
                        for issue in issues {
                            reader.reject(issue);
                        }
                        Ok(())
                    }
                    other => Err(other),
                };
            }
        };
        let line = place.line;
        reader.start_record(RecordOrigin {
            input: index,
            line,
            item: None,
        });
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
            let name = match cols.iter().position(|c| *c == Some(column)) {
                Some(field) => CdrField::ALL.get(field).map_or("", |f| f.name()).to_owned(),
                None => header_name(header, column - 1),
            };
            reader.reject(
                LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message).at_column(column, name),
            );
            continue;
        }
        let mut refused = false;
        for (field, col) in CdrField::ALL.into_iter().zip(cols) {
            let Some(col) = col else { continue };
            reader.places[field.index()] = Place {
                line,
                column: Some(col),
                key: None,
            };
            let bytes = row.get(col - 1).unwrap_or_default().trim_ascii();
            let pushed = match std::str::from_utf8(bytes) {
                Ok(text) => reader.record.push_raw_text(field, text),
                Err(_) => Err((IssueKind::InvalidValue, "not valid utf-8".to_owned())),
            };
            if let Err((kind, message)) = pushed {
                refused = true;
                let issue = reader.field_issue(Severity::Error, field, kind, message);
                reader.issue(issue);
            }
        }
        if place.lend {
            std::mem::swap(&mut reader.record.row, &mut row);
            reader.record.in_row = true;
        } else {
            for &(col, name) in &others {
                // Columns the rating does not use are kept as sent; bytes that are not UTF-8 read
                // as U+FFFD rather than refuse a record for a column nobody reads.
                let text = String::from_utf8_lossy(row.get(col).unwrap_or_default());
                if let Err((kind, message)) = reader.record.push_other(name, &text) {
                    refused = true;
                    let column_name = reader.record.names.get(name as usize).cloned().unwrap_or_default();
                    reader.issue(LoadIssue::new(Severity::Error, line, kind, message).at_column(col + 1, column_name));
                }
            }
        }
        reader.finish_record(refused, on_record)?;
    }
    Ok(())
}

// ---- the pipeline ----

/// Rows split by the worker, handed over together.
struct Batch {
    rows: Vec<csv::ByteRecord>,
    places: Vec<RowPlace>,
    /// Rows filled, from the start of `rows`.
    len: usize,
    /// What ended the input after these rows: `Some(None)` its end, `Some(Some(e))` an error.
    end: Option<Option<csv::Error>>,
}

/// What the worker sends the reading thread.
enum FromWorker {
    /// The header row, or why there is none.
    Header(Result<csv::ByteRecord>),
    /// Rows.
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
/// back once read through.
struct Chunks {
    from_reader: Receiver<std::io::Result<Chunk>>,
    to_reader: Sender<FromWorker>,
    current: Chunk,
    at: usize,
}

/// A buffer of [`CHUNK_BYTES`] and how many of its bytes were read into.
#[derive(Default)]
struct Chunk {
    buffer: Vec<u8>,
    len: usize,
}

impl Read for Chunks {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(rest) = self.current.buffer.get(self.at..self.current.len)
                && !rest.is_empty()
            {
                let n = rest.len().min(buf.len());
                buf.get_mut(..n)
                    .ok_or_else(pipeline_gone)?
                    .copy_from_slice(rest.get(..n).ok_or_else(pipeline_gone)?);
                self.at += n;
                return Ok(n);
            }
            if self.current.buffer.capacity() > 0 {
                let chunk = std::mem::take(&mut self.current);
                // The reading thread may have stopped: the chunk is then of no use.
                let _ = self.to_reader.send(FromWorker::Chunk(chunk));
            }
            self.at = 0;
            match self.from_reader.recv() {
                Ok(Ok(chunk)) => self.current = chunk,
                Ok(Err(e)) => return Err(e),
                // The end of the input: the reading thread closed the channel.
                Err(_) => return Ok(0),
            }
        }
    }
}

/// The worker: splits the chunks it receives into rows, in batches.
fn split_rows(chunks: Receiver<std::io::Result<Chunk>>, to_reader: Sender<FromWorker>, recycled: Receiver<Batch>) {
    let input = Chunks {
        from_reader: chunks,
        to_reader: to_reader.clone(),
        current: Chunk::default(),
        at: 0,
    };
    let mut header = csv::ByteRecord::new();
    let mut rdr = match open_with_header(input, &mut header, SOURCE) {
        Ok(rdr) => rdr,
        Err(e) => {
            let _ = to_reader.send(FromWorker::Header(Err(e)));
            return;
        }
    };
    let header_len = header.len();
    if to_reader.send(FromWorker::Header(Ok(header))).is_err() {
        return;
    }
    let mut made = 0usize;
    loop {
        let mut batch = match recycled.try_recv() {
            Ok(batch) => batch,
            Err(TryRecvError::Empty) if made < BATCHES => {
                made += 1;
                Batch {
                    rows: Vec::with_capacity(BATCH_ROWS),
                    places: Vec::with_capacity(BATCH_ROWS),
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
            if batch.rows.len() == batch.len {
                batch.rows.push(csv::ByteRecord::new());
                batch.places.push(RowPlace::default());
            }
            let Some(row) = batch.rows.get_mut(batch.len) else {
                break;
            };
            match rdr.read_byte_record(row) {
                Ok(true) => {
                    let line = record_line(&mut rdr, row);
                    let cut = row.len() != header_len && is_cut_row(&rdr, row, header_len);
                    if let Some(place) = batch.places.get_mut(batch.len) {
                        *place = RowPlace {
                            line,
                            cut,
                            lend: can_lend(row),
                        };
                    }
                    batch.len += 1;
                }
                Ok(false) => {
                    batch.end = Some(None);
                    break;
                }
                Err(e) => {
                    batch.end = Some(Some(e));
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
/// takes the rows the worker splits, in order.
struct Pipeline<R: Read> {
    input: R,
    /// `None` once the input is read through (or failed).
    chunks: Option<Sender<std::io::Result<Chunk>>>,
    free: Vec<Chunk>,
    chunks_made: usize,
    from_worker: Receiver<FromWorker>,
    recycle: Sender<Batch>,
    batch: Option<Batch>,
    /// The next row of `batch`.
    at: usize,
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

impl<R: Read> Rows for Pipeline<R> {
    fn next_row(&mut self, row: &mut csv::ByteRecord) -> std::result::Result<Option<RowPlace>, csv::Error> {
        loop {
            if let Some(batch) = &mut self.batch {
                if self.at < batch.len {
                    let place = batch.places.get(self.at).copied().unwrap_or_default();
                    if let Some(next) = batch.rows.get_mut(self.at) {
                        std::mem::swap(next, row);
                    }
                    self.at += 1;
                    return Ok(Some(place));
                }
                match batch.end.take() {
                    Some(None) => return Ok(None),
                    Some(Some(e)) => return Err(e),
                    None => {}
                }
            }
            if let Some(batch) = self.batch.take() {
                // The worker may have ended: the batch is then of no use.
                let _ = self.recycle.send(batch);
            }
            self.at = 0;
            match self.message() {
                Some(FromWorker::Batch(batch)) => self.batch = Some(batch),
                // The worker ended without saying why: it cannot, as it ends only after its last
                // batch or on a closed channel; read it as an I/O failure rather than an end.
                _ => return Err(csv::Error::from(pipeline_gone())),
            }
        }
    }
}
