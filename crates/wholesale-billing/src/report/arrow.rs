//! A usage report as Apache Arrow record batches (feature `arrow`), the form its Parquet file
//! (feature `parquet`) and the Python package's Arrow tables are made of.
//!
//! The columns are those of the CSV (SPEC.md §4), by the same names and in the same order, typed:
//! `QUANTITY` an exact `Decimal128(38, 4)` (the ten-thousandths of the report, never a float),
//! `CONSUMPTION_START_DATE` and `CONSUMPTION_END_DATE` UTC timestamps in microseconds, every other
//! column UTF-8 text; an empty field of the CSV (an absent id, a row without dates) is a null.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, Decimal128Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, Result};
use crate::quantity::QUANTITY_DECIMALS;
use crate::report::{Column, NO_END, NO_START, ReportLevel, RowData, UsageReport};
use crate::strings::{Entry, Sym, unpack_uuid};

/// The precision of `QUANTITY` in Arrow and Parquet: a `Decimal128` of 38 digits, four of them after the
/// point (ten-thousandths, as the CSV's four decimals).
pub const QUANTITY_PRECISION: u8 = 38;
/// The decimals of a quantity as Arrow writes a decimal's scale.
const SCALE: i8 = QUANTITY_DECIMALS as i8;

/// Rows per record batch: 64 Ki.
pub(crate) const ROWS_PER_BATCH: usize = 1 << 16;

fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::io("making the report's arrow record batches", std::io::Error::other(e))
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

/// The Arrow schema of a report of `level`, in its record batches and its Parquet file: its
/// columns by name, in order: `QUANTITY` an exact `Decimal128(38, 4)`, `CONSUMPTION_START_DATE` and
/// `CONSUMPTION_END_DATE` UTC timestamps in microseconds, every other column UTF-8 text; every
/// column but `QUANTITY` may be null.
///
/// ```
/// use wholesale_billing::{ReportLevel, report_schema};
/// let schema = report_schema(ReportLevel::User);
/// assert_eq!(schema.field_with_name("QUANTITY").unwrap().data_type().to_string(), "Decimal128(38, 4)");
/// assert_eq!(schema.field_with_name("CONSUMPTION_START_DATE").unwrap().data_type().to_string(),
///     "Timestamp(µs, \"UTC\")");
/// assert_eq!(schema.fields().len(), ReportLevel::User.columns().len());
/// ```
pub fn report_schema(level: ReportLevel) -> Schema {
    Schema::new(
        level
            .columns()
            .iter()
            .map(|&c| Field::new(c.name(), data_type(c), c != Column::Quantity))
            .collect::<Vec<_>>(),
    )
}

impl UsageReport {
    /// The report's Arrow schema (see [`report_schema`]).
    pub fn schema(&self) -> SchemaRef {
        Arc::new(report_schema(self.level))
    }

    /// The rows as Arrow record batches of 64 Ki rows (the last one shorter; none for an empty
    /// report), of the report's [`schema`](UsageReport::schema), each made when it is asked for.
    ///
    /// # Errors
    /// Each batch is [`Error::Io`] if Arrow refuses it (it does not for a report's columns).
    ///
    /// ```
    /// use arrow_array::{Array, Decimal128Array, StringArray};
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY,LOCATION_ID\nc1,s1,A-W-WXC-CALL-U,1.625,\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let batches = report.record_batches().collect::<Result<Vec<_>, _>>()?;
    /// let batch = &batches[0];
    /// assert_eq!(batch.num_rows(), 1);
    /// let quantity = batch.column_by_name("QUANTITY").unwrap().as_any().downcast_ref::<Decimal128Array>().unwrap();
    /// assert_eq!(quantity.value_as_string(0), "1.6250");
    /// let location = batch.column_by_name("LOCATION_ID").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    /// assert!(location.is_null(0), "an absent id is a null");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn record_batches(&self) -> impl Iterator<Item = Result<RecordBatch>> + '_ {
        let schema = self.schema();
        self.rows
            .chunks(ROWS_PER_BATCH)
            .map(move |rows| self.record_batch(&schema, rows))
    }

    /// The batches of [`UsageReport::record_batches`], all made at once on `threads` threads
    /// (1: on this one, nothing spawned): the same batches whatever the count.
    ///
    /// # Errors
    /// As [`UsageReport::record_batches`]; [`Error::ThreadFailed`] if a thread panicked.
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let mut csv = String::from("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n");
    /// for i in 0..200_000 {
    ///     csv.push_str(&format!("c{},s{i},A-W-WXC-CALL-U,1.5\n", i % 7));
    /// }
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let one = report.record_batches_with_threads(1)?;
    /// let three = report.record_batches_with_threads(3)?;
    /// assert_eq!(one.len(), 4);
    /// assert_eq!(one, three);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn record_batches_with_threads(&self, threads: usize) -> Result<Vec<RecordBatch>> {
        let schema = self.schema();
        let chunks: Vec<&[RowData]> = self.rows.chunks(ROWS_PER_BATCH).collect();
        let threads = threads.min(chunks.len());
        if threads < 2 {
            return chunks.iter().map(|rows| self.record_batch(&schema, rows)).collect();
        }
        let failed = || Error::ThreadFailed {
            task: "making the report's record batches",
        };
        let mut slots: Vec<Option<Result<RecordBatch>>> = chunks.iter().map(|_| None).collect();
        std::thread::scope(|scope| -> Result<()> {
            // Thread `t` makes batches t, t + threads, t + 2 × threads...
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let (schema, chunks) = (&schema, &chunks);
                    scope.spawn(move || {
                        chunks
                            .iter()
                            .enumerate()
                            .skip(t)
                            .step_by(threads)
                            .map(|(i, rows)| (i, self.record_batch(schema, rows)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for worker in workers {
                for (i, batch) in worker.join().map_err(|_| failed())? {
                    if let Some(slot) = slots.get_mut(i) {
                        *slot = Some(batch);
                    }
                }
            }
            Ok(())
        })?;
        slots
            .into_iter()
            .map(|slot| slot.unwrap_or_else(|| Err(failed())))
            .collect()
    }

    /// The rows as one record batch of `schema` (the level's).
    pub(crate) fn record_batch(&self, schema: &Arc<Schema>, rows: &[RowData]) -> Result<RecordBatch> {
        // The packed ids of the rows are copied out first, in a loop whose reads do not wait for
        // each other (the ids lie far apart in the table: each read misses the cache), then
        // written out into the column.
        let text = |sym: fn(&RowData) -> Sym| -> ArrayRef {
            let ids: Vec<std::result::Result<[u8; 16], &str>> = rows
                .iter()
                .map(|r| match self.strings.entry(sym(r)) {
                    Entry::Packed(p) => Ok(*p),
                    Entry::Text(s) => Err(s),
                })
                .collect();
            let mut column = StringBuilder::with_capacity(rows.len(), rows.len() * 36);
            for id in &ids {
                match id {
                    Err("") => column.append_null(),
                    Err(s) => column.append_value(s),
                    Ok(p) => column.append_value(std::str::from_utf8(&unpack_uuid(p)).unwrap_or_default()),
                }
            }
            Arc::new(column.finish())
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
