//! Writing a usage report as the Webex billing report CSV (SPEC.md §4).

use std::io::Write;

use crate::csvutil::csv_write_error;
use crate::error::{Error, Result};
use crate::report::{Column, NO_END, NO_START, ReportLevel, RowData, UsageReport};
use crate::strings::StringTable;
use crate::time::Timestamp;

impl UsageReport {
    /// Writes the report as CSV: the level's header, then one line per row, `QUANTITY` with four
    /// decimals and dates as `2024-05-03T10:30:00.000Z`. Fields are quoted only when needed.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let csv = "SKU,QUANTITY,Partner Name\nA-W-WXC-CALL-U,1.625,\"Acme, Inc.\"\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let mut out = Vec::new();
    /// report.write_csv(&mut out)?;
    /// assert_eq!(String::from_utf8(out).unwrap(),
    ///     "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,\
    ///      CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY\n\
    ///      \"Acme, Inc.\",,,,A-W-WXC-CALL-U,,,,1.6250\n");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    ///
    /// The rows are formatted on every core of the machine
    /// ([`UsageReport::write_csv_with_threads`] says how many).
    pub fn write_csv(&self, writer: impl Write) -> Result<()> {
        self.write_csv_with_threads(writer, crate::parallel::default_threads())
    }

    /// [`UsageReport::write_csv`] with `threads`: with 2 or more the rows are formatted in chunks
    /// on `threads − 1` helpers and this thread, which writes them all, in order (and formats one
    /// chunk in `2 × helpers + 1`, each helper two); with 1 nothing is spawned. The bytes are the
    /// same with any.
    ///
    /// # Errors
    /// As [`UsageReport::write_csv`].
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,1\nc1,s2,A-W-WXC-CALL-U,2.5\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let (mut one, mut two, mut five) = (Vec::new(), Vec::new(), Vec::new());
    /// report.write_csv_with_threads(&mut one, 1)?;
    /// report.write_csv_with_threads(&mut two, 2)?;
    /// report.write_csv_with_threads(&mut five, 5)?;
    /// assert_eq!((&one, &one), (&two, &five));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn write_csv_with_threads(&self, mut writer: impl Write, threads: usize) -> Result<()> {
        write_header(&mut writer, self.level)?;
        let chunks: Vec<&[RowData]> = self.rows.chunks(ROWS_PER_CHUNK).collect();
        let format = |i: usize| -> Result<Vec<u8>> {
            Ok(format_rows(
                &self.strings,
                self.level,
                chunks.get(i).copied().unwrap_or_default(),
            ))
        };
        crate::parallel::in_order(chunks.len(), threads, "report formatting", format, |formatted| {
            write_formatted(&mut writer, &formatted)
        })?;
        writer.flush().map_err(write_error)
    }
}

/// Writes the header of `level`'s columns and its line break.
pub(crate) fn write_header(writer: &mut impl Write, level: ReportLevel) -> Result<()> {
    let mut header = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    header
        .write_record(level.columns().iter().map(|c| c.name()))
        .map_err(csv_to_error)?;
    let header = header.into_inner().map_err(|e| write_error(e.into_error()))?;
    writer.write_all(&header).map_err(write_error)
}

/// Writes formatted rows (megabytes: in pieces, see `IO_BUFFER_BYTES`).
pub(crate) fn write_formatted(writer: &mut impl Write, formatted: &[u8]) -> Result<()> {
    crate::csvutil::write_in_pieces(writer, formatted).map_err(write_error)
}

pub(crate) fn write_error(e: std::io::Error) -> Error {
    Error::io("writing the report", e)
}

/// Formats `rows` of `level`, their texts in `strings`, as CSV lines.
pub(crate) fn format_rows(strings: &StringTable, level: ReportLevel, rows: &[RowData]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * 128 * (1 + level as usize));
    match level {
        ReportLevel::Partner => format_level::<{ ReportLevel::Partner as usize }>(strings, rows, &mut out),
        ReportLevel::Customer => format_level::<{ ReportLevel::Customer as usize }>(strings, rows, &mut out),
        ReportLevel::User => format_level::<{ ReportLevel::User as usize }>(strings, rows, &mut out),
    }
    out
}

/// Formats rows of the level at `LEVEL` in [`ReportLevel::ALL`]: its columns are known when the
/// crate is compiled, so each level's row writer is straight-line code.
fn format_level<const LEVEL: usize>(strings: &StringTable, rows: &[RowData], out: &mut Vec<u8>) {
    let columns: &[Column] = const { ReportLevel::ALL[LEVEL].columns() };
    let mut qbuf = [0u8; 24];
    let mut dates = [DateCache::new(NO_START), DateCache::new(NO_END)];
    for run in rows.chunks(TOUCHED_AHEAD) {
        touch_ids(strings, run);
        format_run(strings, columns, run, out, &mut qbuf, &mut dates);
    }
}

/// Rows whose ids are read ahead of formatting them.
const TOUCHED_AHEAD: usize = 512;

/// Reads the first byte of every id of `rows`, in a loop whose reads do not wait for each other:
/// the ids of rows in report order lie far apart in the table, and each read misses the cache;
/// overlapped here, the formatting then finds them cached.
fn touch_ids(strings: &StringTable, rows: &[RowData]) {
    let mut seen = 0u8;
    for r in rows {
        for sym in [
            r.customer_org_id,
            r.subscriber_id,
            r.user_id,
            r.workspace_id,
            r.location_id,
            r.license_id,
        ] {
            seen ^= strings.first_byte(sym);
        }
    }
    std::hint::black_box(seen);
}

/// Formats `rows` with `columns`, into `out` (inlined into each level's straight-line code).
#[inline(always)]
fn format_run(
    strings: &StringTable,
    columns: &[Column],
    rows: &[RowData],
    out: &mut Vec<u8>,
    qbuf: &mut [u8; 24],
    [starts, ends]: &mut [DateCache; 2],
) {
    for r in rows {
        let quantity = r.quantity.format_into(qbuf).as_bytes();
        let start = starts.format(r.start);
        let end = ends.format(r.end);
        write_row(strings, out, columns, r, [quantity, start, end]);
    }
}

/// The last date of a column formatted, kept: the rows of a report share their dates more
/// often than not (the period's bounds), and formatting one costs more than comparing it.
struct DateCache {
    /// The date meaning "none" in this column (written as an empty field).
    none: i64,
    /// The date in `buf`, if one is.
    micros: Option<i64>,
    buf: [u8; 24],
    len: usize,
}

impl DateCache {
    fn new(none: i64) -> Self {
        DateCache {
            none,
            micros: None,
            buf: [0; 24],
            len: 0,
        }
    }

    /// `micros` as the report writes it (`YYYY-MM-DDTHH:MM:SS.mmmZ`, or nothing for none).
    #[inline]
    fn format(&mut self, micros: i64) -> &[u8] {
        if self.micros != Some(micros) {
            self.micros = Some(micros);
            self.len = if micros == self.none {
                0
            } else {
                Timestamp::from_micros(micros).write_report(&mut self.buf);
                self.buf.len()
            };
        }
        self.buf.get(..self.len).unwrap_or_default()
    }
}

/// Writes one row: the fields of `columns`, in order, quoted as the `csv` crate quotes them
/// ([`push_field`](crate::csvutil::push_field)), and a line break. `[quantity, start, end]` are
/// already formatted: digits, a point, dashes, colons and letters, which never need quotes, so
/// they are written as they are (as is the subscriber type, a name of
/// [`crate::SubscriberType`]).
#[inline(always)]
fn write_row(
    strings: &StringTable,
    out: &mut Vec<u8>,
    columns: &[Column],
    r: &RowData,
    [quantity, start, end]: [&[u8]; 3],
) {
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let sym = match column {
            Column::PartnerName => r.partner_name,
            Column::PartnerOrgId => r.partner_org_id,
            Column::SubscriptionId => r.subscription_id,
            Column::CustomerOrgId => r.customer_org_id,
            Column::CustomerExternalId => r.customer_external_id,
            Column::SubscriberId => r.subscriber_id,
            Column::UserId => r.user_id,
            Column::WorkspaceId => r.workspace_id,
            Column::ServiceName => r.service_name,
            Column::Sku => r.sku,
            Column::Description => r.description,
            Column::LocationId => r.location_id,
            Column::LicenseId => r.license_id,
            Column::Type => {
                out.extend_from_slice(r.subscriber_type.map_or("", |t| t.as_str()).as_bytes());
                continue;
            }
            Column::ConsumptionStartDate | Column::ConsumptionEndDate | Column::Quantity => {
                let text = match column {
                    Column::ConsumptionStartDate => start,
                    Column::ConsumptionEndDate => end,
                    _ => quantity,
                };
                out.extend_from_slice(text);
                continue;
            }
        };
        strings.push_csv_field(out, sym);
    }
    out.push(b'\n');
}

/// Rows formatted per chunk.
pub(crate) const ROWS_PER_CHUNK: usize = 16_384;

fn csv_to_error(e: csv::Error) -> Error {
    csv_write_error("writing the report", e)
}

#[cfg(test)]
mod tests {
    use super::ROWS_PER_CHUNK;
    use crate::report::{ReadOptions, UsageReport};

    #[test]
    fn a_kept_date_is_written_again_only_while_it_is_the_same() {
        use super::DateCache;
        let none = i64::MIN;
        let mut dates = DateCache::new(none);
        let day = 1_714_521_600_000_000; // 2024-05-01T00:00:00Z
        let mut written = Vec::new();
        for micros in [day, day, none, none, day + 1_500, day, none] {
            written.push(String::from_utf8_lossy(dates.format(micros)).into_owned());
        }
        let first = "2024-05-01T00:00:00.000Z";
        assert_eq!(written, [first, first, "", "", "2024-05-01T00:00:00.001Z", first, ""]);
    }

    #[test]
    fn any_thread_count_writes_the_same_bytes() -> crate::error::Result<()> {
        // Enough rows for two whole cycles of chunks with six helpers (2 × 13 chunks).
        let rows = ROWS_PER_CHUNK * 27 + 5;
        let mut csv = String::from("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n");
        for i in 0..rows {
            csv.push_str(&format!(
                "c{},s{i},A-W-WXC-CALL-U,{}.{:04}\n",
                i % 97,
                i % 31,
                i % 10_000
            ));
        }
        let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
        let write = |threads| -> crate::error::Result<Vec<u8>> {
            let mut out = Vec::new();
            report.write_csv_with_threads(&mut out, threads)?;
            Ok(out)
        };
        let one = write(1)?;
        assert_eq!(one.iter().filter(|&&b| b == b'\n').count(), rows + 1);
        for threads in [2, 3, 7] {
            assert!(write(threads)? == one, "{threads} threads");
        }
        Ok(())
    }
}
