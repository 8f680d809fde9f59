//! Writing a usage report as Parquet, with the Apache Arrow crates (feature `parquet`).
//!
//! The columns are those of the CSV (SPEC.md §4), by the same names and in the same order, typed:
//! `QUANTITY` an exact `Decimal128(38, 4)` (the ten-thousandths of the report, never a float),
//! `CONSUMPTION_START_DATE` and `CONSUMPTION_END_DATE` UTC timestamps in microseconds, every other
//! column UTF-8 text; an empty field of the CSV (an absent id, a row without dates) is a null.

use std::io::Write;
use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};
use crate::quantity::QUANTITY_DECIMALS;
use crate::report::{Column, NO_END, NO_START, ReportLevel, RowData, UsageReport};
use crate::strings::Sym;

/// The precision of `QUANTITY` in Parquet: a `Decimal128` of 38 digits, four of them after the
/// point (ten-thousandths, as the CSV's four decimals).
pub const QUANTITY_PRECISION: u8 = 38;
/// The decimals of a quantity as Arrow writes a decimal's scale.
const SCALE: i8 = QUANTITY_DECIMALS as i8;

/// Rows per record batch: 64 Ki.
const ROWS_PER_BATCH: usize = 1 << 16;
/// Rows per row group: 256 Ki. The writer holds a row group in memory until it is complete: a
/// row group of a million USER rows cost 200 MB more peak memory than one of 256 Ki.
const ROWS_PER_GROUP: usize = ROWS_PER_BATCH * 4;

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::io("writing the report as parquet", std::io::Error::other(e))
}

fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::io("writing the report as parquet", std::io::Error::other(e))
}

/// The Arrow type of a report column.
fn data_type(column: Column) -> DataType {
    match column {
        Column::Quantity => DataType::Decimal128(QUANTITY_PRECISION, SCALE),
        Column::ConsumptionStartDate | Column::ConsumptionEndDate => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        _ => DataType::Utf8,
    }
}

/// The Arrow schema of a report of `level` in Parquet: its columns by name, in order, typed as
/// [`UsageReport::write_parquet`] says; every column but `QUANTITY` may be null.
///
/// ```
/// use wholesale_billing::{ReportLevel, parquet_schema};
/// let schema = parquet_schema(ReportLevel::User);
/// assert_eq!(schema.field_with_name("QUANTITY").unwrap().data_type().to_string(), "Decimal128(38, 4)");
/// assert_eq!(schema.field_with_name("CONSUMPTION_START_DATE").unwrap().data_type().to_string(),
///     "Timestamp(µs, \"UTC\")");
/// assert_eq!(schema.fields().len(), ReportLevel::User.columns().len());
/// ```
pub fn parquet_schema(level: ReportLevel) -> Schema {
    Schema::new(
        level
            .columns()
            .iter()
            .map(|&c| Field::new(c.name(), data_type(c), c != Column::Quantity))
            .collect::<Vec<_>>(),
    )
}

impl UsageReport {
    /// Writes the report as Parquet (Snappy-compressed): the columns of [`UsageReport::write_csv`]
    /// by the same names, `QUANTITY` an exact `Decimal128(38, 4)`, the consumption dates UTC
    /// timestamps, the other columns text; an empty field is a null.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,1.625\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let mut parquet = Vec::new();
    /// report.write_parquet(&mut parquet)?;
    /// assert_eq!(&parquet[..4], b"PAR1");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_parquet(&self, writer: impl Write + Send) -> Result<()> {
        let schema = Arc::new(parquet_schema(self.level));
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROWS_PER_GROUP))
            .build();
        let mut out = ArrowWriter::try_new(writer, Arc::clone(&schema), Some(properties)).map_err(parquet_error)?;
        for rows in self.rows.chunks(ROWS_PER_BATCH) {
            out.write(&self.record_batch(&schema, rows)?).map_err(parquet_error)?;
        }
        out.close().map_err(parquet_error)?;
        Ok(())
    }

    /// The rows as one record batch of `schema` (the level's).
    fn record_batch(&self, schema: &Arc<Schema>, rows: &[RowData]) -> Result<RecordBatch> {
        let text = |sym: fn(&RowData) -> Sym| -> ArrayRef {
            Arc::new(
                rows.iter()
                    .map(|r| Some(self.strings.get(sym(r))).filter(|s| !s.is_empty()))
                    .collect::<StringArray>(),
            )
        };
        let date = |at: fn(&RowData) -> i64, none: i64| -> ArrayRef {
            Arc::new(
                rows.iter()
                    .map(|r| Some(at(r)).filter(|&t| t != none))
                    .collect::<TimestampMicrosecondArray>()
                    .with_timezone("UTC"),
            )
        };
        let columns = self
            .level
            .columns()
            .iter()
            .map(|&column| -> Result<ArrayRef> {
                Ok(match column {
                    Column::PartnerName => text(|r| r.partner_name),
                    Column::PartnerOrgId => text(|r| r.partner_org_id),
                    Column::SubscriptionId => text(|r| r.subscription_id),
                    Column::CustomerOrgId => text(|r| r.customer_org_id),
                    Column::CustomerExternalId => text(|r| r.customer_external_id),
                    Column::Type => Arc::new(
                        rows.iter()
                            .map(|r| r.subscriber_type.map(|t| t.as_str()))
                            .collect::<StringArray>(),
                    ),
                    Column::SubscriberId => text(|r| r.subscriber_id),
                    Column::UserId => text(|r| r.user_id),
                    Column::WorkspaceId => text(|r| r.workspace_id),
                    Column::ServiceName => text(|r| r.service_name),
                    Column::Sku => text(|r| r.sku),
                    Column::Description => text(|r| r.description),
                    Column::ConsumptionStartDate => date(|r| r.start, NO_START),
                    Column::ConsumptionEndDate => date(|r| r.end, NO_END),
                    Column::Quantity => Arc::new(
                        rows.iter()
                            .map(|r| Some(i128::from(r.quantity.ten_thousandths())))
                            .collect::<Decimal128Array>()
                            .with_precision_and_scale(QUANTITY_PRECISION, SCALE)
                            .map_err(arrow_error)?,
                    ),
                    Column::LocationId => text(|r| r.location_id),
                    Column::LicenseId => text(|r| r.license_id),
                })
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        RecordBatch::try_new(Arc::clone(schema), columns).map_err(arrow_error)
    }
}
