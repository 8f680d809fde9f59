//! [`RatedRecord`] and [`RatedWriter`]: one row of the rated-records table and its CSV writer,
//! streaming (SPEC §7.6, §7.7).

use std::fmt::Write as _;
use std::io::Write;

use rust_decimal::Decimal;

use crate::csvutil::csv_write_error;
use crate::error::Result;
use crate::money::Currency;
use crate::rating::CallTime;
use crate::rating::engine::RatingStatus;

use super::column::RatedColumn;

/// What the writer names in its errors.
const CONTEXT: &str = "writing the rated records";

/// One row of the rated-records table, borrowing its text.
///
/// An uncharged row has empty `prefix`, `destination`, `class`, `band` and `rated_number`
/// (except `no_destination`, which keeps the digits it could not match), 0 billable and covered
/// seconds and a charge of 0 with `rating_decimals` decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct RatedRecord<'a> {
    /// `REPORT_ID`.
    pub report_id: &'a str,
    /// `CUSTOMER_ORG_ID`: the record's `Org UUID`.
    pub customer_org_id: &'a str,
    /// `CUSTOMER_EXTERNAL_ID`.
    pub customer_external_id: &'a str,
    /// `PARTNER_ORG_ID`: the owning partner or sub-partner.
    pub partner_org_id: &'a str,
    /// `USER_UUID`.
    pub user_uuid: &'a str,
    /// `START_TIME` (UTC, with 0, 3, 6 or 9 fraction digits, the fewest that keep the instant).
    #[serde(serialize_with = "display")]
    pub start_time: CallTime,
    /// `DURATION`, seconds.
    pub duration: u32,
    /// `STATUS`.
    pub status: RatingStatus,
    /// `RATED_NUMBER`.
    pub rated_number: &'a str,
    /// `PREFIX`.
    pub prefix: &'a str,
    /// `DESTINATION`.
    pub destination: &'a str,
    /// `CLASS`.
    pub class: &'a str,
    /// `BAND`.
    pub band: &'a str,
    /// `BILLABLE_SECONDS`.
    pub billable_seconds: u64,
    /// `COVERED_SECONDS`.
    pub covered_seconds: u64,
    /// `CHARGE`, with exactly `rating_decimals` decimals.
    #[serde(with = "rust_decimal::serde::str")]
    pub charge: Decimal,
    /// `CURRENCY`.
    #[serde(serialize_with = "display")]
    pub currency: Currency,
}

fn display<T: std::fmt::Display, S: serde::Serializer>(value: &T, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// Writes rated records as CSV, one row at a time: the header of [`RatedColumn::ALL`] first.
///
/// ```
/// use wholesale_billing::{CallTime, Currency, Decimal, RatedRecord, RatedWriter, RatingStatus};
/// let mut writer = RatedWriter::new(Vec::new())?;
/// writer.write(&RatedRecord {
///     report_id: "r1", customer_org_id: "c1", customer_external_id: "EXT", partner_org_id: "p",
///     user_uuid: "u1", start_time: CallTime::parse("2024-05-03T10:30:00Z")?, duration: 0,
///     status: RatingStatus::ZeroDuration, rated_number: "", prefix: "", destination: "", class: "",
///     band: "", billable_seconds: 0, covered_seconds: 0, charge: Decimal::new(0, 4),
///     currency: "GBP".parse()?,
/// })?;
/// let csv = String::from_utf8(writer.finish()?).unwrap();
/// assert_eq!(csv.lines().nth(1), Some("r1,c1,EXT,p,u1,2024-05-03T10:30:00Z,0,zero_duration,,,,,,0,0,0.0000,GBP"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct RatedWriter<W: Write> {
    csv: csv::Writer<W>,
    buffer: String,
}

impl<W: Write> RatedWriter<W> {
    /// A writer that has written the header.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when writing fails.
    pub fn new(out: W) -> Result<Self> {
        let mut csv = csv::WriterBuilder::new()
            .buffer_capacity(crate::rating::engine::IO_BUFFER_BYTES)
            .from_writer(out);
        csv.write_record(RatedColumn::ALL.iter().map(|c| c.as_str()))
            .map_err(|e| csv_write_error(CONTEXT, e))?;
        Ok(RatedWriter {
            csv,
            buffer: String::new(),
        })
    }

    /// Writes one row.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when writing fails.
    pub fn write(&mut self, r: &RatedRecord<'_>) -> Result<()> {
        let b = &mut self.buffer;
        b.clear();
        // Writing to a String cannot fail.
        let _ = write!(b, "{}", r.start_time);
        let time_end = b.len();
        let _ = write!(b, "{}", r.duration);
        let duration_end = b.len();
        let _ = write!(b, "{}", r.billable_seconds);
        let billable_end = b.len();
        let _ = write!(b, "{}", r.covered_seconds);
        let covered_end = b.len();
        let _ = write!(b, "{}", r.charge);
        let charge_end = b.len();
        let part = |from: usize, to: usize| b.get(from..to).unwrap_or_default();
        let fields: [&str; 17] = [
            r.report_id,
            r.customer_org_id,
            r.customer_external_id,
            r.partner_org_id,
            r.user_uuid,
            part(0, time_end),
            part(time_end, duration_end),
            r.status.as_str(),
            r.rated_number,
            r.prefix,
            r.destination,
            r.class,
            r.band,
            part(duration_end, billable_end),
            part(billable_end, covered_end),
            part(covered_end, charge_end),
            r.currency.code(),
        ];
        self.csv.write_record(fields).map_err(|e| csv_write_error(CONTEXT, e))
    }

    /// Flushes the rows written so far to the output.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.csv.flush().map_err(|e| crate::error::Error::io(CONTEXT, e))
    }

    /// Flushes the rows and gives back the output.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when flushing fails.
    pub fn finish(self) -> Result<W> {
        self.csv
            .into_inner()
            .map_err(|e| crate::error::Error::io(CONTEXT, e.into_error()))
    }
}
