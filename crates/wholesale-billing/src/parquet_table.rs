//! A table the library writes as CSV, written as Parquet instead (feature `parquet`): the CSV
//! text it writes, typed column by column, so that the two forms hold the same values by
//! construction. Text is `Utf8` (an empty field a null), whole numbers `Int64`, exact numbers
//! `Decimal128(38, s)` at the column's fixed scale (never a float), instants UTC timestamps in
//! nanoseconds. Batches of 64 Ki rows, row groups of 256 Ki, Snappy.

use std::io::{Read, Write};
use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Int64Builder, StringBuilder, TimestampNanosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::money::parse_decimal;
use crate::rating::CallTime;

/// Rows per record batch.
const ROWS_PER_BATCH: usize = 1 << 16;
/// Rows per row group.
const ROWS_PER_GROUP: usize = ROWS_PER_BATCH * 4;

/// The type of a column in Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text; an empty field is a null.
    Text,
    /// A whole number.
    Int,
    /// An exact number with this many decimals.
    Decimal(u32),
    /// An instant in RFC 3339 (up to nine fraction digits), kept in nanoseconds, UTC.
    Instant,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Int => DataType::Int64,
            Kind::Decimal(scale) => DataType::Decimal128(38, i8::try_from(scale).unwrap_or(i8::MAX)),
            Kind::Instant => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        }
    }
}

/// The Arrow schema of a table of `columns`, every column nullable.
pub(crate) fn schema(columns: &[(&str, Kind)]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|&(name, kind)| Field::new(name, kind.data_type(), true))
            .collect::<Vec<_>>(),
    )
}

/// One column being built.
enum Builder {
    Text(StringBuilder),
    Int(Int64Builder),
    Decimal(Decimal128Builder, u32),
    Instant(TimestampNanosecondBuilder),
}

impl Builder {
    fn new(kind: Kind) -> Self {
        match kind {
            Kind::Text => Builder::Text(StringBuilder::new()),
            Kind::Int => Builder::Int(Int64Builder::new()),
            Kind::Decimal(scale) => Builder::Decimal(Decimal128Builder::new(), scale),
            Kind::Instant => Builder::Instant(TimestampNanosecondBuilder::new()),
        }
    }

    /// Appends a field of the CSV; `Err` says why it is not of the column's kind.
    fn push(&mut self, text: &str) -> std::result::Result<(), String> {
        if text.is_empty() {
            match self {
                Builder::Text(b) => b.append_null(),
                Builder::Int(b) => b.append_null(),
                Builder::Decimal(b, _) => b.append_null(),
                Builder::Instant(b) => b.append_null(),
            }
            return Ok(());
        }
        match self {
            Builder::Text(b) => b.append_value(text),
            Builder::Int(b) => b.append_value(text.parse::<i64>().map_err(|e| e.to_string())?),
            Builder::Decimal(b, scale) => {
                let mut value: Decimal = parse_decimal(text).map_err(|e| e.to_string())?;
                if value.scale() > *scale {
                    return Err(format!("more than {scale} decimals"));
                }
                value.rescale(*scale);
                b.append_value(value.mantissa());
            }
            Builder::Instant(b) => b.append_value(CallTime::parse(text).map_err(|e| e.to_string())?.as_nanos()),
        }
        Ok(())
    }

    /// The column so far, as an array; the builder starts again empty.
    fn finish(&mut self) -> std::result::Result<ArrayRef, String> {
        Ok(match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Decimal(b, scale) => Arc::new(
                b.finish()
                    .with_precision_and_scale(38, i8::try_from(*scale).unwrap_or(i8::MAX))
                    .map_err(|e| e.to_string())?,
            ),
            Builder::Instant(b) => Arc::new(b.finish().with_timezone("UTC")),
        })
    }
}

/// Writes the CSV `csv` (a header of `columns`' names, then rows, as the library writes them) as
/// Parquet to `out`. `context` names what is written in errors ("writing the rated records").
///
/// # Errors
/// [`Error::Io`] when reading or writing fails, or when a field is not of its column's kind (the
/// library's own CSV always is: such an error is a bug, named with its line and column).
pub(crate) fn csv_to_parquet(
    csv: impl Read,
    out: impl Write + Send,
    columns: &[(&str, Kind)],
    context: &str,
) -> Result<()> {
    let invalid = |message: String| Error::io(context, std::io::Error::new(std::io::ErrorKind::InvalidData, message));
    let schema = Arc::new(schema(columns));
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
        .build();
    let mut writer = ArrowWriter::try_new(out, Arc::clone(&schema), Some(properties))
        .map_err(|e| invalid(format!("parquet: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv);
    let header = reader.headers().map_err(|e| invalid(format!("csv: {e}")))?.clone();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    if header.iter().collect::<Vec<_>>() != names {
        return Err(invalid(format!(
            "unexpected header {:?}, wanted {names:?}",
            header.iter().collect::<Vec<_>>()
        )));
    }
    let mut builders: Vec<Builder> = columns.iter().map(|&(_, kind)| Builder::new(kind)).collect();
    let mut rows = 0;
    let flush = |builders: &mut Vec<Builder>, writer: &mut ArrowWriter<_>| -> Result<()> {
        let arrays = builders
            .iter_mut()
            .map(Builder::finish)
            .collect::<std::result::Result<Vec<_>, String>>()
            .map_err(invalid)?;
        let batch = RecordBatch::try_new(Arc::clone(&schema), arrays).map_err(|e| invalid(format!("arrow: {e}")))?;
        writer.write(&batch).map_err(|e| invalid(format!("parquet: {e}")))
    };
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| invalid(format!("csv: {e}")))?
    {
        let line = record.position().map_or(0, csv::Position::line);
        for (c, (builder, field)) in builders.iter_mut().zip(record.iter()).enumerate() {
            builder
                .push(field)
                .map_err(|why| invalid(format!("line {line}, column {} ({}): {why}", c + 1, names[c])))?;
        }
        rows += 1;
        if rows == ROWS_PER_BATCH {
            flush(&mut builders, &mut writer)?;
            rows = 0;
        }
    }
    if rows > 0 {
        flush(&mut builders, &mut writer)?;
    }
    writer.close().map_err(|e| invalid(format!("parquet: {e}")))?;
    Ok(())
}
