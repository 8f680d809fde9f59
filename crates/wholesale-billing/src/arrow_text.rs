//! Arrow columns read as the text a CSV field would hold (feature `arrow`), so that an Arrow
//! source goes through the same validation as its CSV: text borrowed as it is, booleans, numbers,
//! dates and timestamps written once per batch; and [`ArrowCsv`], whole record batches read as
//! the CSV they hold. A timestamp with a time zone is an instant, written in RFC
//! 3339 UTC; one without a zone is a wall-clock time, written without an offset (which the
//! validation of an instant refuses as it refuses such a CSV field); a decimal keeps its scale; a
//! null is an empty field.

use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Date64Type, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use chrono::{DateTime, NaiveDate, SecondsFormat};

use crate::csvutil::push_field;
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

/// An Arrow failure while `context`: I/O as [`Error::Io`] with its own cause, anything else (a
/// malformed file, a batch that breaks its schema) as invalid data.
pub(crate) fn arrow_error(context: &str, e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(_, source) => Error::io(context, source),
        e => Error::io(context, std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
    }
}

/// Reads until `buf` is full or the input ends; the number of bytes read.
pub(crate) fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The 1-based row group and the 1-based row within it of the 1-based row `line` of the file.
pub(crate) fn row_group_of(group_rows: &[u64], line: u64) -> (u32, u64) {
    let mut row = line;
    let mut group = 0u32;
    for &rows in group_rows {
        group = group.saturating_add(1);
        if row <= rows {
            return (group, row);
        }
        row -= rows;
    }
    (group, row)
}

/// The batches of an Arrow source, one after the other.
type Batches = Box<dyn Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send>;

/// Arrow record batches read as the CSV they hold: a header of the schema's column names, then
/// one line per row, each value the text its CSV field would hold (see the module), quoted as the
/// `csv` crate quotes. It lets a reader of CSV take a table as it comes from Parquet, Arrow IPC or
/// a program (the call record readers do): line `n` of the CSV is row `n − 1` of the table.
///
/// ```
/// use std::io::Read;
/// use std::sync::Arc;
/// use arrow_array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
/// use wholesale_billing::ArrowCsv;
/// let batch = RecordBatch::try_from_iter([
///     ("Report ID", Arc::new(StringArray::from(vec!["r1", "r,2"])) as ArrayRef),
///     ("Duration", Arc::new(Int64Array::from(vec![61, 0]))),
///     ("Answered", Arc::new(BooleanArray::from(vec![true, false]))),
/// ]).unwrap();
/// let mut csv = String::new();
/// ArrowCsv::new(&batch.schema(), "call records", vec![Ok(batch)])?.read_to_string(&mut csv).unwrap();
/// assert_eq!(csv, "Report ID,Duration,Answered\nr1,61,true\n\"r,2\",0,false\n");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub struct ArrowCsv {
    batches: Batches,
    /// The rows of each row group, when the source is a Parquet file.
    row_groups: Option<Vec<u64>>,
    /// What is read, in errors.
    source_name: &'static str,
    /// CSV made and not yet read.
    buffer: Vec<u8>,
    at: usize,
}

impl std::fmt::Debug for ArrowCsv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrowCsv")
            .field("source_name", &self.source_name)
            .finish_non_exhaustive()
    }
}

impl ArrowCsv {
    /// The CSV of `batches` of `schema`; `source_name` ("call records") names the source in
    /// errors.
    ///
    /// # Errors
    /// [`Error::Rejected`], with an issue at line 0 for each, when a column has a type that has no
    /// CSV text (a float, binary, a list).
    pub fn new<I>(schema: &Schema, source_name: &'static str, batches: I) -> Result<Self>
    where
        I: IntoIterator<Item = std::result::Result<RecordBatch, ArrowError>>,
        I::IntoIter: Send + 'static,
    {
        let refused: Vec<LoadIssue> = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, field)| !TextColumn::accepts(field.data_type()))
            .map(|(i, field)| {
                LoadIssue::new(Severity::Error, 0, IssueKind::InvalidValue, TextColumn::refusal(field))
                    .at_column(i + 1, field.name().clone())
            })
            .collect();
        if !refused.is_empty() {
            return Err(Error::Rejected {
                source_name,
                issues: refused,
            });
        }
        let mut buffer = Vec::new();
        for (i, field) in schema.fields().iter().enumerate() {
            if i > 0 {
                buffer.push(b',');
            }
            push_field(&mut buffer, field.name().as_bytes());
        }
        buffer.push(b'\n');
        Ok(ArrowCsv {
            batches: Box::new(batches.into_iter()),
            row_groups: None,
            source_name,
            buffer,
            at: 0,
        })
    }

    /// The CSV of an Arrow IPC file or stream (told by its first bytes).
    ///
    /// # Errors
    /// As [`ArrowCsv::new`]; [`Error::Io`] when the input is not Arrow IPC.
    pub fn ipc(mut reader: impl Read + Seek + Send + 'static, source_name: &'static str) -> Result<Self> {
        let context = format!("reading the {source_name} as arrow ipc");
        let mut magic = [0u8; 6];
        let got = read_up_to(&mut reader, &mut magic).map_err(|e| Error::io(&context, e))?;
        reader.seek(SeekFrom::Start(0)).map_err(|e| Error::io(&context, e))?;
        if got == magic.len() && &magic == b"ARROW1" {
            let file = arrow_ipc::reader::FileReader::try_new(reader, None).map_err(|e| arrow_error(&context, e))?;
            let schema = file.schema();
            ArrowCsv::new(&schema, source_name, file)
        } else {
            let stream =
                arrow_ipc::reader::StreamReader::try_new(reader, None).map_err(|e| arrow_error(&context, e))?;
            let schema = stream.schema();
            ArrowCsv::new(&schema, source_name, stream)
        }
    }

    /// The CSV of a Parquet file.
    ///
    /// # Errors
    /// As [`ArrowCsv::new`]; [`Error::Io`] when the input is not Parquet (a file cut short has no
    /// footer).
    #[cfg(feature = "parquet")]
    pub fn parquet<R>(file: R, source_name: &'static str) -> Result<Self>
    where
        R: parquet::file::reader::ChunkReader + 'static,
    {
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let invalid = |e: parquet::errors::ParquetError| {
            Error::io(
                format!("reading the {source_name} as parquet"),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(invalid)?;
        let schema = builder.schema().clone();
        let group_rows = builder
            .metadata()
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .collect();
        let reader = builder.build().map_err(invalid)?;
        let mut csv = ArrowCsv::new(&schema, source_name, reader)?;
        csv.row_groups = Some(group_rows);
        Ok(csv)
    }

    /// Where an issue a reader of this CSV finds is in the source, as a function that outlives
    /// the reader: for a Parquet file, line `n` (row `n − 1`) becomes its row group and its row
    /// within it (both 1-based); other sources keep the line.
    ///
    /// ```
    /// use wholesale_billing::{ArrowCsv, IssueKind, LoadIssue, Severity};
    /// # let batch = arrow_array::RecordBatch::try_from_iter([("Report ID",
    /// #     std::sync::Arc::new(arrow_array::StringArray::from(vec!["r1"])) as arrow_array::ArrayRef)]).unwrap();
    /// let csv = ArrowCsv::new(&batch.schema(), "call records", vec![Ok(batch)])?;
    /// let locate = csv.locator();
    /// let issue = LoadIssue::new(Severity::Error, 2, IssueKind::InvalidValue, "bad");
    /// assert_eq!(locate(issue.clone()), issue, "not Parquet: the line stays");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn locator(&self) -> impl Fn(LoadIssue) -> LoadIssue + Send + Sync + 'static {
        let groups = self.row_groups.clone();
        move |mut issue: LoadIssue| {
            if let Some(groups) = &groups
                && issue.line >= 2
            {
                let (group, row) = row_group_of(groups, issue.line - 1);
                issue.row_group = Some(group);
                issue.line = row;
            }
            issue
        }
    }

    /// Formats the next batch into the buffer; `false` at the end.
    fn fill(&mut self) -> std::io::Result<bool> {
        let Some(batch) = self.batches.next() else {
            return Ok(false);
        };
        let batch = batch.map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        self.buffer.clear();
        self.at = 0;
        let columns: Vec<TextColumn<'_>> = batch.columns().iter().map(|c| TextColumn::new(c.as_ref())).collect();
        for row in 0..batch.num_rows() {
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    self.buffer.push(b',');
                }
                push_field(&mut self.buffer, column.get(row).as_bytes());
            }
            self.buffer.push(b'\n');
        }
        Ok(true)
    }
}

impl Read for ArrowCsv {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buffer.len() {
            if !self.fill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.buffer.len() - self.at);
        out[..n].copy_from_slice(&self.buffer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The text of one column of a batch, row by row: borrowed from a text array, or written once
/// for a column of numbers, dates or timestamps.
pub(crate) enum TextColumn<'a> {
    /// Values of a text array.
    Text(&'a dyn Array),
    /// Values of a dictionary of text: each row's key into `values`.
    Dictionary {
        keys: Vec<Option<usize>>,
        values: Box<TextColumn<'a>>,
    },
    /// Values written as text: row `r` is `text[ends[r - 1]..ends[r]]`.
    Written { text: String, ends: Vec<usize> },
}

impl<'a> TextColumn<'a> {
    /// Whether a column of `data_type` can be read as text.
    pub(crate) fn accepts(data_type: &DataType) -> bool {
        match data_type {
            DataType::Decimal128(_, _) | DataType::Boolean => true,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => true,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => true,
            DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => true,
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => true,
            DataType::Dictionary(_, values) => {
                matches!(
                    values.as_ref(),
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                )
            }
            _ => false,
        }
    }

    /// Why a column of `field`'s type cannot be read (see [`TextColumn::accepts`]).
    pub(crate) fn refusal(field: &Field) -> String {
        format!(
            "column {} is of arrow type {}: it must hold text, booleans, whole or decimal numbers, dates or \
             timestamps",
            field.name(),
            field.data_type()
        )
    }

    /// The column's text.
    pub(crate) fn new(array: &'a dyn Array) -> Self {
        match array.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => TextColumn::Text(array),
            DataType::Dictionary(_, _) => match array.as_any_dictionary_opt() {
                Some(dictionary) => {
                    let keys = dictionary.normalized_keys();
                    let keys = (0..array.len())
                        .map(|r| (!dictionary.keys().is_null(r)).then(|| keys.get(r).copied()).flatten())
                        .collect();
                    // The dictionary's values outlive this batch's column: borrow them from it.
                    TextColumn::Dictionary {
                        keys,
                        values: Box::new(TextColumn::Text(dictionary.values().as_ref())),
                    }
                }
                None => Self::written(array),
            },
            _ => Self::written(array),
        }
    }

    /// Writes every value of a column of numbers, dates or timestamps as its CSV text.
    fn written(array: &dyn Array) -> Self {
        let mut text = String::with_capacity(array.len() * 24);
        let mut ends = Vec::with_capacity(array.len());
        for row in 0..array.len() {
            if array.is_valid(row) {
                write_value(array, row, &mut text);
            }
            ends.push(text.len());
        }
        TextColumn::Written { text, ends }
    }

    /// The text of row `row` (empty for a null).
    pub(crate) fn get(&self, row: usize) -> &str {
        match self {
            TextColumn::Text(array) => {
                if array.is_null(row) {
                    return "";
                }
                if let Some(a) = array.as_string_opt::<i32>() {
                    a.value(row)
                } else if let Some(a) = array.as_string_opt::<i64>() {
                    a.value(row)
                } else if let Some(a) = array.as_string_view_opt() {
                    a.value(row)
                } else {
                    ""
                }
            }
            TextColumn::Dictionary { keys, values } => match keys.get(row).copied().flatten() {
                Some(key) => values.get(key),
                None => "",
            },
            TextColumn::Written { text, ends } => {
                let end = ends.get(row).copied().unwrap_or(0);
                let start = row.checked_sub(1).and_then(|r| ends.get(r).copied()).unwrap_or(0);
                text.get(start..end).unwrap_or("")
            }
        }
    }
}

/// Appends the text of the (valid) value at `row` of a column of numbers, dates or timestamps.
fn write_value(array: &dyn Array, row: usize, out: &mut String) {
    fn int<T: ArrowPrimitiveType>(array: &dyn Array, row: usize, out: &mut String)
    where
        T::Native: std::fmt::Display,
    {
        if let Some(a) = array.as_primitive_opt::<T>() {
            let _ = write!(out, "{}", a.value(row));
        }
    }
    fn value<T: ArrowPrimitiveType<Native = i64>>(array: &dyn Array, row: usize) -> Option<i64> {
        array.as_primitive_opt::<T>().map(|a| a.value(row))
    }
    match array.data_type() {
        DataType::Int8 => int::<Int8Type>(array, row, out),
        DataType::Int16 => int::<Int16Type>(array, row, out),
        DataType::Int32 => int::<Int32Type>(array, row, out),
        DataType::Int64 => int::<Int64Type>(array, row, out),
        DataType::UInt8 => int::<UInt8Type>(array, row, out),
        DataType::UInt16 => int::<UInt16Type>(array, row, out),
        DataType::UInt32 => int::<UInt32Type>(array, row, out),
        DataType::UInt64 => int::<UInt64Type>(array, row, out),
        DataType::Boolean => {
            if let Some(a) = array.as_boolean_opt() {
                out.push_str(if a.value(row) { "true" } else { "false" });
            }
        }
        DataType::Decimal128(_, _) => {
            if let Some(a) = array.as_primitive_opt::<Decimal128Type>() {
                out.push_str(&a.value_as_string(row));
            }
        }
        DataType::Date32 => {
            if let Some(a) = array.as_primitive_opt::<Date32Type>() {
                write_date(i64::from(a.value(row)), out);
            }
        }
        DataType::Date64 => {
            if let Some(a) = array.as_primitive_opt::<Date64Type>() {
                write_date(a.value(row).div_euclid(86_400_000), out);
            }
        }
        DataType::Timestamp(unit, zone) => {
            let (v, per_second) = match unit {
                TimeUnit::Second => (value::<TimestampSecondType>(array, row), 1),
                TimeUnit::Millisecond => (value::<TimestampMillisecondType>(array, row), 1_000),
                TimeUnit::Microsecond => (value::<TimestampMicrosecondType>(array, row), 1_000_000),
                TimeUnit::Nanosecond => (value::<TimestampNanosecondType>(array, row), 1_000_000_000),
            };
            let Some(v) = v else { return };
            let (seconds, fraction) = (v.div_euclid(per_second), v.rem_euclid(per_second));
            let nanos = u32::try_from(fraction * (1_000_000_000 / per_second)).unwrap_or(0);
            let Some(instant) = DateTime::from_timestamp(seconds, nanos) else {
                let _ = write!(out, "{v} {unit:?} since the epoch is out of range");
                return;
            };
            if zone.is_some() {
                // An instant (Arrow stores it in UTC whatever its zone): RFC 3339 in UTC.
                out.push_str(&instant.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            } else {
                // A wall-clock time without a zone: written without an offset, which the row
                // validation refuses as it refuses such a CSV field.
                let _ = write!(out, "{}", instant.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f"));
            }
        }
        _ => {}
    }
}

/// Appends the ISO date `days` after 1970-01-01.
fn write_date(days: i64, out: &mut String) {
    let date = NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(chrono::TimeDelta::try_days(days)?));
    match date {
        Some(d) => {
            let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        }
        None => {
            let _ = write!(out, "{days} days since the epoch is out of range");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TextColumn;
    use arrow_array::{TimestampMicrosecondArray, TimestampNanosecondArray, TimestampSecondArray};

    #[test]
    fn instants_are_written_as_rfc_3339_in_utc_to_their_last_digit() {
        let micros = TimestampMicrosecondArray::from(vec![0, 1_714_521_600_123_456, -1, 1_714_521_600_120_000])
            .with_timezone("+02:00");
        let text = TextColumn::new(&micros);
        let got: Vec<&str> = (0..4).map(|r| text.get(r)).collect();
        assert_eq!(
            got,
            [
                "1970-01-01T00:00:00Z",
                "2024-05-01T00:00:00.123456Z",
                "1969-12-31T23:59:59.999999Z",
                "2024-05-01T00:00:00.120Z"
            ]
        );
        // Nanoseconds that are no whole microsecond keep every digit (the parser decides).
        let nanos = TimestampNanosecondArray::from(vec![1_714_521_600_000_000_001]).with_timezone("UTC");
        assert_eq!(TextColumn::new(&nanos).get(0), "2024-05-01T00:00:00.000000001Z");
        let seconds = TimestampSecondArray::from(vec![253_402_300_799]).with_timezone("UTC");
        assert_eq!(TextColumn::new(&seconds).get(0), "9999-12-31T23:59:59Z");
        // Without a zone: a local time, no offset.
        let local = TimestampSecondArray::from(vec![1_714_521_600]);
        assert_eq!(TextColumn::new(&local).get(0), "2024-05-01T00:00:00");
    }

    use super::row_group_of;

    #[test]
    fn rows_map_to_their_row_group() {
        let groups = [3, 2, 4];
        let located: Vec<(u32, u64)> = (1..=9).map(|line| row_group_of(&groups, line)).collect();
        assert_eq!(
            located,
            [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (3, 4)]
        );
    }
}
