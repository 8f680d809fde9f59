//! [`RatingSummary`]: the rated calls per customer and destination (SPEC §7.6, §7.7), the source
//! of the minutes lines of the customer invoices; as CSV and as JSON.
// Every sum and product of money or seconds here is checked.
#![deny(clippy::arithmetic_side_effects)]

use std::io::Write;

use rust_decimal::{Decimal, RoundingStrategy};

use crate::csvutil::{IO_BUFFER_BYTES, push_field};
use crate::error::{Error, Result};
use crate::money::Currency;

use super::column::SummaryColumn;
use super::rated::push_decimal;

/// What the writers name in their errors.
const CONTEXT: &str = "writing the rating summary";

/// The decimals of `BILLABLE_MINUTES` and `COVERED_MINUTES`.
pub(crate) const MINUTES_DECIMALS: u32 = 4;

/// One row of the summary: a customer's charged calls to one destination.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct SummaryRow {
    /// `CUSTOMER_ORG_ID`.
    pub customer_org_id: String,
    /// `DESTINATION`.
    pub destination: String,
    /// `CALLS`: charged calls, covered ones included.
    pub calls: u64,
    /// `BILLABLE_MINUTES`: Σ billable seconds / 60, half-even to 4 decimals, once.
    #[serde(with = "rust_decimal::serde::str")]
    pub billable_minutes: Decimal,
    /// `COVERED_MINUTES`: Σ covered seconds / 60, half-even to 4 decimals, once.
    #[serde(with = "rust_decimal::serde::str")]
    pub covered_minutes: Decimal,
    /// `AMOUNT`: Σ `CHARGE`, half-even to the currency's minor unit, with exactly its decimals.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    /// `CURRENCY`.
    #[serde(serialize_with = "code")]
    pub currency: Currency,
}

fn code<S: serde::Serializer>(currency: &Currency, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(currency.code())
}

/// The totals of one (customer, destination) pair, before rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Totals {
    pub(crate) calls: u64,
    pub(crate) billable_seconds: u64,
    pub(crate) covered_seconds: u64,
    /// Σ charge in units of 10^−`rating_decimals`.
    pub(crate) charge: i128,
}

impl Totals {
    /// Adds one charged call.
    pub(crate) fn add(&mut self, billable: u64, covered: u64, charge: i64) -> Result<()> {
        let overflow = || Error::overflow("Σ calls, seconds or charges of a customer and destination");
        self.calls = self.calls.checked_add(1).ok_or_else(overflow)?;
        self.billable_seconds = self.billable_seconds.checked_add(billable).ok_or_else(overflow)?;
        self.covered_seconds = self.covered_seconds.checked_add(covered).ok_or_else(overflow)?;
        self.charge = self.charge.checked_add(i128::from(charge)).ok_or_else(overflow)?;
        Ok(())
    }
}

/// The rating summary: one row per customer and destination with at least one charged record,
/// sorted by `CUSTOMER_ORG_ID` then `DESTINATION` (byte order), so that two runs over the same
/// records give the same file whatever the order of the records.
///
/// ```
/// use wholesale_billing::{RatingSummary, SummaryRow};
/// let summary = RatingSummary::default();
/// assert!(summary.rows().is_empty());
/// let mut csv = Vec::new();
/// summary.write_csv(&mut csv)?;
/// assert_eq!(String::from_utf8(csv).unwrap(),
///     "CUSTOMER_ORG_ID,DESTINATION,CALLS,BILLABLE_MINUTES,COVERED_MINUTES,AMOUNT,CURRENCY\n");
/// assert_eq!(summary.to_json_string()?, "[]");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RatingSummary {
    rows: Vec<SummaryRow>,
}

impl RatingSummary {
    /// The summary of totals per (customer org id, destination name), rounded once each.
    pub(crate) fn from_totals<'a>(
        totals: impl IntoIterator<Item = (&'a str, &'a str, Totals)>,
        rating_decimals: u32,
        currency: Currency,
    ) -> Result<Self> {
        let mut rows = totals
            .into_iter()
            .map(|(customer, destination, t)| {
                Ok(SummaryRow {
                    customer_org_id: customer.to_owned(),
                    destination: destination.to_owned(),
                    calls: t.calls,
                    billable_minutes: minutes(t.billable_seconds)?,
                    covered_minutes: minutes(t.covered_seconds)?,
                    amount: amount(t.charge, rating_decimals, currency.minor_unit())?,
                    currency,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        rows.sort_unstable_by(|a, b| {
            (a.customer_org_id.as_bytes(), a.destination.as_bytes())
                .cmp(&(b.customer_org_id.as_bytes(), b.destination.as_bytes()))
        });
        Ok(RatingSummary { rows })
    }

    /// The rows, by customer then destination.
    pub fn rows(&self) -> &[SummaryRow] {
        &self.rows
    }

    /// Writes the summary as Parquet: the columns of [`RatingSummary::write_csv`] by the same
    /// names, `CALLS` an `Int64`, the minutes exact `Decimal128(38, 4)`, `AMOUNT` a
    /// `Decimal128(38, s)` at the currency's minor unit (2 in a summary without rows), the text
    /// columns `Utf8`.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when writing fails.
    ///
    /// ```
    /// use wholesale_billing::RatingSummary;
    /// # let summary = RatingSummary::default();
    /// let mut parquet = Vec::new();
    /// summary.write_parquet(&mut parquet)?;
    /// assert_eq!(&parquet[..4], b"PAR1");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[cfg(feature = "parquet")]
    pub fn write_parquet(&self, out: impl Write + Send) -> Result<()> {
        use crate::parquet_table::{Kind, csv_to_parquet};
        let mut csv = Vec::new();
        self.write_csv(&mut csv)?;
        let minor = self.rows.first().map_or(2, |r| r.currency.minor_unit());
        let columns = SummaryColumn::ALL.map(|c| {
            let kind = match c {
                SummaryColumn::Calls => Kind::Int,
                SummaryColumn::BillableMinutes | SummaryColumn::CoveredMinutes => Kind::Decimal(4),
                SummaryColumn::Amount => Kind::Decimal(minor),
                _ => Kind::Text,
            };
            (c.as_str(), kind)
        });
        csv_to_parquet(csv.as_slice(), out, &columns, "writing the rating summary as parquet")
    }

    /// Writes the summary as CSV with the columns of [`SummaryColumn::ALL`].
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv(&self, mut out: impl Write) -> Result<()> {
        let io = |e| Error::io(CONTEXT, e);
        let mut bytes = Vec::with_capacity(IO_BUFFER_BYTES.saturating_add(256));
        for (i, column) in SummaryColumn::ALL.iter().enumerate() {
            if i > 0 {
                bytes.push(b',');
            }
            push_field(&mut bytes, column.as_str().as_bytes());
        }
        bytes.push(b'\n');
        let mut int = itoa::Buffer::new();
        for r in &self.rows {
            push_field(&mut bytes, r.customer_org_id.as_bytes());
            bytes.push(b',');
            push_field(&mut bytes, r.destination.as_bytes());
            bytes.push(b',');
            bytes.extend_from_slice(int.format(r.calls).as_bytes());
            for value in [r.billable_minutes, r.covered_minutes, r.amount] {
                bytes.push(b',');
                push_decimal(&mut bytes, value);
            }
            bytes.push(b',');
            bytes.extend_from_slice(r.currency.code().as_bytes());
            bytes.push(b'\n');
            if bytes.len() >= IO_BUFFER_BYTES {
                out.write_all(&bytes).map_err(io)?;
                bytes.clear();
            }
        }
        out.write_all(&bytes).map_err(io)?;
        out.flush().map_err(io)
    }

    /// The summary as a JSON array of objects keyed by the column names, decimals as strings.
    ///
    /// # Errors
    /// [`Error::WriteJson`] should serialising fail.
    pub fn to_json_string(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.rows).map_err(|source| Error::WriteJson {
            what: "rating summary",
            source,
        })
    }
}

/// `seconds / 60`, half-even to 4 decimals.
fn minutes(seconds: u64) -> Result<Decimal> {
    let overflow = || Error::overflow("minutes of a summary row");
    let exact = Decimal::from(seconds)
        .checked_div(Decimal::from(60))
        .ok_or_else(overflow)?;
    let mut rounded = exact.round_dp_with_strategy(MINUTES_DECIMALS, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(MINUTES_DECIMALS);
    Ok(rounded)
}

/// Σ charge (units of 10^−`rating_decimals`), half-even to `minor_unit` decimals.
fn amount(sum: i128, rating_decimals: u32, minor_unit: u32) -> Result<Decimal> {
    let exact = Decimal::try_from_i128_with_scale(sum, rating_decimals)
        .map_err(|_| Error::overflow("Σ charge of a summary row"))?;
    let mut rounded = exact.round_dp_with_strategy(minor_unit, RoundingStrategy::MidpointNearestEven);
    rounded.rescale(minor_unit);
    Ok(rounded)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary's CSV is the bytes the `csv` crate writes for the same rows, whatever the
    /// names hold.
    #[test]
    fn the_csv_is_written_as_the_csv_crate_writes_it() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let totals = |calls, charge| Totals {
            calls,
            billable_seconds: calls * 61,
            covered_seconds: calls * 7,
            charge,
        };
        let names = ["org,1", "org \"2\"", "org\n3", "plain", ""];
        let destinations = ["UK, mobile", "say \"hi\"", "x\r\ny", "France"];
        let mut rows = Vec::new();
        for (i, org) in names.iter().enumerate() {
            for (j, destination) in destinations.iter().enumerate() {
                rows.push((
                    *org,
                    *destination,
                    totals(i as u64 + 1, (i * 7919 + j * 104_729) as i128),
                ));
            }
        }
        let summary = RatingSummary::from_totals(rows, 4, Currency::GBP)?;
        let mut ours = Vec::new();
        summary.write_csv(&mut ours)?;
        let mut theirs = csv::Writer::from_writer(Vec::new());
        theirs.write_record(SummaryColumn::ALL.iter().map(|c| c.as_str()))?;
        for r in summary.rows() {
            theirs.write_record([
                r.customer_org_id.as_str(),
                r.destination.as_str(),
                &r.calls.to_string(),
                &r.billable_minutes.to_string(),
                &r.covered_minutes.to_string(),
                &r.amount.to_string(),
                r.currency.code(),
            ])?;
        }
        let theirs = theirs.into_inner().map_err(|e| e.into_error())?;
        assert_eq!(String::from_utf8(ours)?, String::from_utf8(theirs)?);
        assert_eq!(summary.rows().len(), 20);
        Ok(())
    }

    #[test]
    fn minutes_and_amounts_are_rounded_half_even_once() {
        assert_eq!(minutes(61).unwrap().to_string(), "1.0167");
        assert_eq!(minutes(0).unwrap().to_string(), "0.0000");
        assert_eq!(minutes(120).unwrap().to_string(), "2.0000");
        // 0.00015 min = 0.009 s cannot be; 3 s = 0.05 min exactly.
        assert_eq!(minutes(3).unwrap().to_string(), "0.0500");
        assert_eq!(amount(125, 4, 2).unwrap().to_string(), "0.01"); // 0.0125 → 0.01
        assert_eq!(amount(135, 4, 2).unwrap().to_string(), "0.01"); // 0.0135 → 0.01
        assert_eq!(amount(150, 4, 2).unwrap().to_string(), "0.02"); // 0.0150 → 0.02
        assert_eq!(amount(50_000, 4, 0).unwrap().to_string(), "5"); // JPY
        assert_eq!(amount(5, 0, 2).unwrap().to_string(), "5.00");
    }
}
