//! Writing a usage report as Parquet (feature `parquet`): its Arrow record batches (see
//! [`report_schema`]) in Snappy-compressed row groups.

use std::io::Write;
use std::sync::Arc;

use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::arrow::{ROWS_PER_BATCH, report_schema};
use crate::error::{Error, Result};
use crate::report::UsageReport;

/// Rows per row group: 256 Ki. The writer holds a row group in memory until it is complete: a
/// row group of a million USER rows cost 200 MB more peak memory than one of 256 Ki.
const ROWS_PER_GROUP: usize = ROWS_PER_BATCH * 4;

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::io("writing the report as parquet", std::io::Error::other(e))
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
        let schema = Arc::new(report_schema(self.level));
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
}
