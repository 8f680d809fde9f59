//! [`RatedRecord`] and [`RatedWriter`]: one row of the rated-records table and its CSV writer,
//! streaming (SPEC §7.6, §7.7).

use std::io::Write;

use rust_decimal::Decimal;

use crate::error::Result;
use crate::money::Currency;
use crate::rating::CallTime;
use crate::rating::engine::RatingStatus;

use super::column::RatedColumn;
use crate::csvutil::push_field;

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

/// A text of a rated row as bytes (valid UTF-8), with whether it is written as it is: known to
/// need no quotes (digits, the ids of a record checked once) or already quoted (names escaped
/// once per tariff or customer). Other texts are quoted as they need ([`push_field`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowText<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) as_is: bool,
}

impl<'a> RowText<'a> {
    /// A text to quote as it needs.
    pub(crate) fn any(text: &'a [u8]) -> Self {
        RowText {
            bytes: text,
            as_is: false,
        }
    }

    /// A text written as it is.
    pub(crate) fn as_is(text: &'a [u8]) -> Self {
        RowText {
            bytes: text,
            as_is: true,
        }
    }
}

/// A rated row with its texts as bytes: what [`RatedWriter`] writes, of a [`RatedRecord`] or of
/// the engine's spill rows (which it writes without making `str`s of them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RatedRow<'a> {
    /// `REPORT_ID`, `CUSTOMER_ORG_ID`, `CUSTOMER_EXTERNAL_ID`, `PARTNER_ORG_ID`, `USER_UUID`.
    pub(crate) ids: [RowText<'a>; 5],
    pub(crate) start_time: CallTime,
    pub(crate) duration: u32,
    pub(crate) status: RatingStatus,
    /// `RATED_NUMBER`, `PREFIX`, `DESTINATION`, `CLASS`, `BAND`.
    pub(crate) rated: [RowText<'a>; 5],
    pub(crate) billable_seconds: u64,
    pub(crate) covered_seconds: u64,
    pub(crate) charge: Decimal,
    pub(crate) currency: Currency,
}

impl<'a> From<&RatedRecord<'a>> for RatedRow<'a> {
    fn from(r: &RatedRecord<'a>) -> Self {
        let text = |t: &'a str| RowText::any(t.as_bytes());
        RatedRow {
            ids: [
                text(r.report_id),
                text(r.customer_org_id),
                text(r.customer_external_id),
                text(r.partner_org_id),
                text(r.user_uuid),
            ],
            start_time: r.start_time,
            duration: r.duration,
            status: r.status,
            rated: [
                text(r.rated_number),
                text(r.prefix),
                text(r.destination),
                text(r.class),
                text(r.band),
            ],
            billable_seconds: r.billable_seconds,
            covered_seconds: r.covered_seconds,
            charge: r.charge,
            currency: r.currency,
        }
    }
}

impl RatedRow<'_> {
    /// Appends the row as CSV, its line break included (the one way a rated row is written).
    pub(crate) fn push_to(&self, out: &mut Vec<u8>) {
        let r = self;
        let b = out;
        let mut int = itoa::Buffer::new();
        let mut time = [0u8; 32];
        let push = |b: &mut Vec<u8>, text: &RowText<'_>| {
            if text.as_is {
                b.extend_from_slice(text.bytes);
            } else {
                push_field(b, text.bytes);
            }
            b.push(b',');
        };
        for text in &r.ids {
            push(b, text);
        }
        b.extend_from_slice(r.start_time.write(&mut time));
        b.push(b',');
        b.extend_from_slice(int.format(r.duration).as_bytes());
        b.push(b',');
        b.extend_from_slice(r.status.as_str().as_bytes());
        b.push(b',');
        for text in &r.rated {
            push(b, text);
        }
        b.extend_from_slice(int.format(r.billable_seconds).as_bytes());
        b.push(b',');
        b.extend_from_slice(int.format(r.covered_seconds).as_bytes());
        b.push(b',');
        push_decimal(b, r.charge);
        b.push(b',');
        b.extend_from_slice(r.currency.code().as_bytes());
        b.push(b'\n');
    }
}

/// Appends the header of the rated records: the columns of [`RatedColumn::ALL`], a line break.
pub(crate) fn push_header(out: &mut Vec<u8>) {
    for (i, column) in RatedColumn::ALL.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(out, column.as_str().as_bytes());
    }
    out.push(b'\n');
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
    out: W,
    /// The rows formatted and not yet written (written in pieces of about 64 KiB).
    bytes: Vec<u8>,
}

/// Appends a decimal as its `Display` writes it: every digit of its scale.
pub(super) fn push_decimal(out: &mut Vec<u8>, value: Decimal) {
    if value.is_sign_negative() {
        out.push(b'-');
    }
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(value.mantissa().unsigned_abs()).as_bytes();
    let scale = value.scale() as usize;
    if scale == 0 {
        out.extend_from_slice(digits);
    } else if digits.len() <= scale {
        out.extend_from_slice(b"0.");
        out.resize(out.len().saturating_add(scale.saturating_sub(digits.len())), b'0');
        out.extend_from_slice(digits);
    } else {
        let (whole, fraction) = digits.split_at(digits.len().saturating_sub(scale));
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    }
}

impl<W: Write> RatedWriter<W> {
    /// A writer to `out`, the header written.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when `out` fails.
    pub fn new(out: W) -> Result<Self> {
        let mut writer = RatedWriter {
            out,
            bytes: Vec::with_capacity(crate::rating::engine::IO_BUFFER_BYTES.saturating_add(1024)),
        };
        push_header(&mut writer.bytes);
        writer.spill()?;
        Ok(writer)
    }

    /// Writes one record.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the output fails.
    pub fn write(&mut self, r: &RatedRecord<'_>) -> Result<()> {
        self.write_row(&RatedRow::from(r))
    }

    /// Writes one row.
    pub(crate) fn write_row(&mut self, r: &RatedRow<'_>) -> Result<()> {
        r.push_to(&mut self.bytes);
        if self.bytes.len() >= crate::rating::engine::IO_BUFFER_BYTES {
            self.spill()?;
        }
        Ok(())
    }

    /// Writes the rows formatted so far to the output.
    fn spill(&mut self) -> Result<()> {
        self.out
            .write_all(&self.bytes)
            .map_err(|e| crate::error::Error::io(CONTEXT, e))?;
        self.bytes.clear();
        Ok(())
    }

    /// Writes every row and flushes the output.
    pub(crate) fn flush(&mut self) -> Result<()> {
        self.spill()?;
        self.out.flush().map_err(|e| crate::error::Error::io(CONTEXT, e))
    }

    /// Writes every row and gives the output back.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the output fails.
    pub fn finish(mut self) -> Result<W> {
        self.flush()?;
        Ok(self.out)
    }
}

/// Writes a rated-records CSV (as [`RatedWriter`] and the engine write it) as Parquet: the same
/// columns by the same names, `START_TIME` a UTC timestamp in nanoseconds (a call's instant keeps
/// up to nine fraction digits), `DURATION`, `BILLABLE_SECONDS` and `COVERED_SECONDS` `Int64`,
/// `CHARGE` an exact `Decimal128(38, rating_decimals)`, the text columns `Utf8` with an empty
/// field (an uncharged row's prefix) a null. Streaming: batches of 64 Ki rows.
///
/// # Errors
/// [`Error::Io`](crate::Error::Io) when reading or writing fails, or when the CSV is not a
/// rated-records CSV of `rating_decimals` (its line and column named).
///
/// ```
/// use wholesale_billing::{CallTime, Currency, Decimal, RatedRecord, RatedWriter, RatingStatus, rated_csv_to_parquet};
/// let mut writer = RatedWriter::new(Vec::new())?;
/// writer.write(&RatedRecord {
///     report_id: "r1", customer_org_id: "c1", customer_external_id: "", partner_org_id: "p",
///     user_uuid: "u1", start_time: CallTime::parse("2024-05-03T10:30:00.123456789Z")?, duration: 61,
///     status: RatingStatus::Charged, rated_number: "442079460000", prefix: "4420", destination: "UK London",
///     class: "national", band: "peak", billable_seconds: 61, covered_seconds: 0,
///     charge: Decimal::new(610, 4), currency: "GBP".parse()?,
/// })?;
/// let csv = writer.finish()?;
/// let mut parquet = Vec::new();
/// rated_csv_to_parquet(csv.as_slice(), &mut parquet, 4)?;
/// assert_eq!(&parquet[..4], b"PAR1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "parquet")]
pub fn rated_csv_to_parquet(csv: impl std::io::Read, out: impl Write + Send, rating_decimals: u32) -> Result<()> {
    use crate::parquet_table::{Kind, csv_to_parquet};
    let columns = RatedColumn::ALL.map(|c| {
        let kind = match c {
            RatedColumn::StartTime => Kind::Instant,
            RatedColumn::Duration | RatedColumn::BillableSeconds | RatedColumn::CoveredSeconds => Kind::Int,
            RatedColumn::Charge => Kind::Decimal(rating_decimals),
            _ => Kind::Text,
        };
        (c.as_str(), kind)
    });
    csv_to_parquet(csv, out, &columns, "writing the rated records as parquet")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The row as the `csv` crate writes it, with each value's `Display`.
    fn by_csv_crate(r: &RatedRecord<'_>) -> Vec<u8> {
        let mut csv = csv::Writer::from_writer(Vec::new());
        let fields = [
            r.report_id.to_owned(),
            r.customer_org_id.to_owned(),
            r.customer_external_id.to_owned(),
            r.partner_org_id.to_owned(),
            r.user_uuid.to_owned(),
            r.start_time.to_string(),
            r.duration.to_string(),
            r.status.as_str().to_owned(),
            r.rated_number.to_owned(),
            r.prefix.to_owned(),
            r.destination.to_owned(),
            r.class.to_owned(),
            r.band.to_owned(),
            r.billable_seconds.to_string(),
            r.covered_seconds.to_string(),
            r.charge.to_string(),
            r.currency.code().to_owned(),
        ];
        csv.write_record(&fields).unwrap();
        csv.into_inner().unwrap()
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-z0-9 ,\"\r\n+é-]{0,12}").unwrap()
    }

    proptest! {
        #[test]
        fn rows_are_the_csv_crates(
            texts in proptest::collection::vec(text(), 10),
            nanos in any::<i64>(),
            round in 0u8..4,
            duration in any::<u32>(),
            billable in any::<u64>(),
            covered in any::<u64>(),
            mantissa in any::<i64>(),
            scale in 0u32..8,
            status in 0u8..7,
        ) {
            let nanos = match round {
                0 => nanos - nanos.rem_euclid(1_000_000_000),
                1 => nanos - nanos.rem_euclid(1_000_000),
                2 => nanos - nanos.rem_euclid(1_000),
                _ => nanos,
            };
            // Beyond ±year 9999 the format clamps; stay within it.
            let nanos = nanos % 250_000_000_000_000_000;
            let record = RatedRecord {
                report_id: &texts[0],
                customer_org_id: &texts[1],
                customer_external_id: &texts[2],
                partner_org_id: &texts[3],
                user_uuid: &texts[4],
                start_time: CallTime::from_nanos(nanos.abs()),
                duration,
                status: RatingStatus::from_index(status).unwrap(),
                rated_number: &texts[5],
                prefix: &texts[6],
                destination: &texts[7],
                class: &texts[8],
                band: &texts[9],
                billable_seconds: billable,
                covered_seconds: covered,
                charge: Decimal::new(mantissa, scale),
                currency: "GBP".parse().unwrap(),
            };
            let mut writer = RatedWriter::new(Vec::new()).unwrap();
            writer.write(&record).unwrap();
            let bytes = writer.finish().unwrap();
            let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
            let want = by_csv_crate(&record);
            prop_assert_eq!(&bytes[header_end..], want.as_slice());
        }
    }

    #[test]
    fn negative_zero_and_small_charges_print_as_display_does() {
        for value in [
            Decimal::new(0, 4),
            Decimal::new(-3, 4),
            Decimal::new(123_456, 2),
            Decimal::new(5, 0),
            Decimal::from_parts(0, 0, 0, true, 4),
        ] {
            let mut out = Vec::new();
            push_decimal(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), value.to_string());
        }
    }
}
