//! Events from Apache Arrow (feature `arrow`): record batches a program holds, Arrow IPC files and
//! streams, and Parquet files (feature `parquet`), validated exactly as the rows of an events CSV.
//!
//! Columns are found by name as in a CSV header (any order and case, unknown ones ignored); each
//! value becomes the text the CSV would hold and goes through the same row validation, so an Arrow
//! source is accepted, refused and diagnosed as its CSV would be. The types a known column may
//! have: text (`Utf8`, `LargeUtf8`, `Utf8View`, or a dictionary of one of them), booleans, whole
//! and decimal numbers, dates, and timestamps; a timestamp with a time zone is an instant (written in UTC), one
//! without is a local time (refused as a timestamp without an offset, as in a CSV); a null is an
//! empty field. Any other type in a known column refuses the source with an issue at line 0 that
//! names the column.

use std::io::{Read, Seek, SeekFrom};

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, Schema};

use super::builder::LedgerBuilder;
use super::field::{Columns, Field, cell_indexes, event_columns};
#[cfg(feature = "parquet")]
use crate::arrow_text::row_group_of;
use crate::arrow_text::{TextColumn, arrow_error, read_up_to};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

const SOURCE: &str = "events";

/// The Arrow IPC file format's first bytes (a stream has none).
const IPC_FILE_MAGIC: &[u8; 6] = b"ARROW1";

impl LedgerBuilder {
    /// Reads events from Arrow record batches of `schema` (a table, the batches of a
    /// `RecordBatchReader`): columns by name, as the events CSV's header; each value validated as
    /// that CSV's field would be (text, also dictionary-encoded; booleans; whole and decimal
    /// numbers; dates; timestamps, an instant when it has a time zone, refused as a time
    /// without an offset when it has none; a null is an empty field). Issues are
    /// located by the row's 1-based number among all the batches (`line`) and the 1-based position
    /// of its column in the schema (`column`).
    ///
    /// # Errors
    /// [`Error::Rejected`], with one issue at line 0, when the schema lacks a required column,
    /// names one twice or gives a known column a type events cannot have; [`Error::Io`] when a
    /// batch cannot be read.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampSecondArray};
    /// use wholesale_billing::{IssueKind, LedgerBuilder, LoadMode, Organisation, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let text = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
    /// let batch = RecordBatch::try_from_iter([
    ///     ("event_id", text(&["e1", "e2"])),
    ///     ("occurred_at", Arc::new(TimestampSecondArray::from(vec![1_714_521_600, 1_714_608_000]).with_timezone("UTC")) as ArrayRef),
    ///     ("action", text(&["ASSIGN", "ASSIGN"])),
    ///     ("subscriber_id", text(&["s1", "s2"])),
    ///     ("customer_org_id", text(&["c1", "c1"])),
    ///     ("subscriber_type", text(&["USER", "USER"])),
    ///     ("package", text(&["webex_calling", "nope"])),
    /// ]).unwrap();
    /// let mut builder = LedgerBuilder::new(org);
    /// builder.read_arrow(&batch.schema(), [Ok(batch)])?;
    /// let issue = &builder.issues()[0];
    /// assert_eq!((issue.line, issue.column, issue.kind), (2, Some(7), IssueKind::UnknownPackage));
    /// let (ledger, diagnostics) = builder.finish(LoadMode::Lenient)?;
    /// assert_eq!((diagnostics.rows_read, diagnostics.rows_accepted, ledger.subscriber_count()), (2, 1, 1));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn read_arrow<I>(&mut self, schema: &Schema, batches: I) -> Result<&mut Self>
    where
        I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
    {
        let columns = ArrowColumns::new(schema)?;
        self.start_columns(&columns.cols);
        let mut line = 0;
        for batch in batches {
            let batch = batch.map_err(|e| arrow_error("reading the events' arrow record batches", e))?;
            self.push_arrow_batch(&batch, &columns, &mut line);
        }
        Ok(self)
    }

    /// Reads events from an Arrow IPC file (Feather version 2) or stream, told apart by the
    /// file's first bytes; columns and values as [`LedgerBuilder::read_arrow`].
    ///
    /// # Errors
    /// As [`LedgerBuilder::read_arrow`], and [`Error::Io`] when the input is not Arrow IPC or is
    /// cut short.
    ///
    /// ```
    /// use std::io::Cursor;
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, RecordBatch, StringArray};
    /// use wholesale_billing::{LedgerBuilder, LoadMode, Organisation, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let text = |v: &str| -> ArrayRef { Arc::new(StringArray::from(vec![v])) };
    /// let batch = RecordBatch::try_from_iter([
    ///     ("Event_ID", text("e1")), ("Occurred_At", text("2024-05-01T00:00:00Z")), ("Action", text("ASSIGN")),
    ///     ("Subscriber_ID", text("s1")), ("Customer_Org_ID", text("c1")), ("Subscriber_Type", text("USER")),
    ///     ("Package", text("webex_calling")),
    /// ]).unwrap();
    /// let mut file = Vec::new();
    /// let mut writer = arrow_ipc::writer::FileWriter::try_new(&mut file, &batch.schema()).unwrap();
    /// writer.write(&batch).unwrap();
    /// writer.finish().unwrap();
    /// drop(writer);
    /// let mut builder = LedgerBuilder::new(org);
    /// builder.read_arrow_ipc(Cursor::new(file))?;
    /// let (ledger, _) = builder.finish(LoadMode::Strict)?;
    /// assert_eq!(ledger.subscriber_count(), 1);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn read_arrow_ipc(&mut self, mut reader: impl Read + Seek) -> Result<&mut Self> {
        const CONTEXT: &str = "reading the events as arrow ipc";
        let mut magic = [0u8; 6];
        let got = read_up_to(&mut reader, &mut magic).map_err(|e| Error::io(CONTEXT, e))?;
        reader.seek(SeekFrom::Start(0)).map_err(|e| Error::io(CONTEXT, e))?;
        if got == magic.len() && &magic == IPC_FILE_MAGIC {
            let file = arrow_ipc::reader::FileReader::try_new(reader, None).map_err(|e| arrow_error(CONTEXT, e))?;
            let schema = file.schema();
            self.read_arrow(&schema, file)
        } else {
            let stream = arrow_ipc::reader::StreamReader::try_new(reader, None).map_err(|e| arrow_error(CONTEXT, e))?;
            let schema = stream.schema();
            self.read_arrow(&schema, stream)
        }
    }

    /// Reads events from a Parquet file, reading only the columns events have; columns and values
    /// as [`LedgerBuilder::read_arrow`]. Issues are located by row group and row: `row_group` the
    /// 1-based row group, `line` the 1-based row within it.
    ///
    /// # Errors
    /// As [`LedgerBuilder::read_arrow`], and [`Error::Io`] when the input is not Parquet (a file
    /// cut short has no footer) or a page cannot be decoded.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arrow_array::{ArrayRef, RecordBatch, StringArray};
    /// use wholesale_billing::{LedgerBuilder, LoadMode, Organisation, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let text = |v: &[&str]| -> ArrayRef { Arc::new(StringArray::from(v.to_vec())) };
    /// let batch = RecordBatch::try_from_iter([
    ///     ("event_id", text(&["e1", "e2"])), ("occurred_at", text(&["2024-05-01T00:00:00Z", "2024-05-02T00:00:00"])),
    ///     ("action", text(&["ASSIGN", "ASSIGN"])), ("subscriber_id", text(&["s1", "s2"])),
    ///     ("customer_org_id", text(&["c1", "c1"])), ("subscriber_type", text(&["USER", "USER"])),
    ///     ("package", text(&["webex_calling", "webex_calling"])),
    /// ]).unwrap();
    /// let mut file = tempfile::tempfile().unwrap();
    /// let mut writer = parquet::arrow::ArrowWriter::try_new(file.try_clone().unwrap(), batch.schema(), None).unwrap();
    /// writer.write(&batch).unwrap();
    /// writer.close().unwrap();
    /// let mut builder = LedgerBuilder::new(org);
    /// builder.read_parquet(file)?;
    /// assert_eq!(builder.issues()[0].to_string(),
    ///     "row group 1, row 2, column 2 (occurred_at): error: no utc offset: write `Z` or `+HH:MM` after \
    ///      the time (rfc 3339) [event_id e2]");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[cfg(feature = "parquet")]
    pub fn read_parquet<R>(&mut self, file: R) -> Result<&mut Self>
    where
        R: parquet::file::reader::ChunkReader + 'static,
    {
        use parquet::arrow::ProjectionMask;
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        const CONTEXT: &str = "reading the events as parquet";
        let parquet_error = |e: parquet::errors::ParquetError| {
            Error::io(CONTEXT, std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error)?;
        let columns = ArrowColumns::new(builder.schema())?;
        // Only the columns of events are decoded; their positions in the schema stay the columns
        // issues name.
        let roots: Vec<usize> = columns.cols.iter().flatten().map(|c| c - 1).collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
        let group_rows: Vec<u64> = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .collect();
        let reader = builder.with_projection(mask).build().map_err(parquet_error)?;
        // The projected batches hold the event columns in schema order: map each field to its
        // place among them.
        let projected = ArrowColumns::projected(&columns, &roots);
        self.start_columns(&columns.cols);
        let first_issue = self.issues.len();
        let mut line = 0;
        for batch in reader {
            let batch = batch.map_err(|e| arrow_error(CONTEXT, e))?;
            self.push_arrow_batch(&batch, &projected, &mut line);
        }
        for issue in &mut self.issues[first_issue..] {
            let (group, row) = row_group_of(&group_rows, issue.line);
            issue.row_group = Some(group);
            issue.line = row;
        }
        Ok(self)
    }

    /// Validates and pushes the rows of one batch; `line` counts rows across batches.
    fn push_arrow_batch(&mut self, batch: &RecordBatch, columns: &ArrowColumns, line: &mut u64) {
        let texts: Vec<Option<TextColumn<'_>>> = columns
            .idx
            .iter()
            .map(|i| i.map(|i| TextColumn::new(batch.column(i).as_ref())))
            .collect();
        for row in 0..batch.num_rows() {
            *line += 1;
            self.rows_read += 1;
            let cell = |f: Field| texts[f as usize].as_ref().map_or("", |c| c.get(row));
            self.push_text_row(*line, cell, &columns.cols);
        }
    }
}

/// Where the fields are in a schema, and in the batches read.
struct ArrowColumns {
    /// The 1-based column of each field in the schema (what issues name).
    cols: Columns,
    /// The 0-based column of each field in the batches.
    idx: [Option<usize>; 13],
}

impl ArrowColumns {
    /// Finds the fields of events in `schema` and checks their types.
    fn new(schema: &Schema) -> Result<Self> {
        let names = schema.fields().iter().map(|f| f.name().as_bytes());
        let cols = event_columns(names, 0, SOURCE)?;
        let mut issues = Vec::new();
        for field in Field::ALL {
            let Some(col) = cols[field as usize] else { continue };
            let Some(arrow_field) = schema.fields().get(col - 1) else {
                continue;
            };
            if !TextColumn::accepts(arrow_field.data_type()) {
                let message = TextColumn::refusal(arrow_field);
                issues.push(
                    LoadIssue::new(Severity::Error, 0, IssueKind::InvalidValue, message).at_column(col, field.name()),
                );
            }
        }
        if !issues.is_empty() {
            return Err(Error::Rejected {
                source_name: SOURCE,
                issues,
            });
        }
        Ok(ArrowColumns {
            idx: cell_indexes(&cols),
            cols,
        })
    }

    #[cfg(feature = "parquet")]
    /// The same fields in batches holding only the columns `roots` (0-based, ascending).
    fn projected(columns: &ArrowColumns, roots: &[usize]) -> Self {
        let mut sorted = roots.to_vec();
        sorted.sort_unstable();
        ArrowColumns {
            cols: columns.cols,
            idx: columns.idx.map(|i| i.and_then(|i| sorted.binary_search(&i).ok())),
        }
    }
}
