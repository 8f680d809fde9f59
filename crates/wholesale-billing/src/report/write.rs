//! Writing a usage report as the Webex billing report CSV (SPEC.md §4).

use std::io::Write;

use crate::csvutil::{csv_write_error, push_field};
use crate::error::{Error, Result};
use crate::report::{Column, NO_END, NO_START, ReportLevel, RowData, UsageReport};
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
        let io = |e| Error::io("writing the report", e);
        let mut header = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        header
            .write_record(self.level.columns().iter().map(|c| c.name()))
            .map_err(csv_to_error)?;
        writer
            .write_all(&header.into_inner().map_err(|e| io(e.into_error()))?)
            .map_err(io)?;
        if threads < 2 {
            for chunk in self.rows.chunks(ROWS_PER_CHUNK) {
                crate::csvutil::write_in_pieces(&mut writer, &self.format_chunk(chunk)?).map_err(io)?;
            }
            return writer.flush().map_err(io);
        }
        // Rows are formatted in chunks by the helpers and this thread, and written in order by
        // this one: in each cycle of 2 × helpers + 1 chunks it formats the first (the copy into the
        // page cache is its share) and helper t the next two after 2t.
        let helpers = threads - 1;
        std::thread::scope(|scope| -> Result<()> {
            let mut from_helpers = Vec::with_capacity(helpers);
            let mut workers = Vec::with_capacity(helpers);
            for t in 0..helpers {
                // One chunk waiting per helper (a chunk is megabytes): a helper formats its next
                // while the writer takes the last.
                let (to_writer, from_helper) = std::sync::mpsc::sync_channel::<Result<Vec<u8>>>(1);
                from_helpers.push(from_helper);
                workers.push(scope.spawn(move || {
                    let chunks = self.rows.chunks(ROWS_PER_CHUNK).enumerate();
                    for (_, chunk) in chunks.filter(|(i, _)| owner(*i, helpers) == Some(t)) {
                        if to_writer.send(self.format_chunk(chunk)).is_err() {
                            break;
                        }
                    }
                }));
            }
            let failed = || Error::ThreadFailed {
                task: "report formatting",
            };
            for (i, chunk) in self.rows.chunks(ROWS_PER_CHUNK).enumerate() {
                let formatted = match owner(i, helpers) {
                    None => self.format_chunk(chunk)?,
                    Some(t) => from_helpers.get(t).ok_or_else(failed)?.recv().map_err(|_| failed())??,
                };
                // A chunk is megabytes: written in pieces (see `IO_BUFFER_BYTES`).
                crate::csvutil::write_in_pieces(&mut writer, &formatted).map_err(io)?;
            }
            drop(from_helpers);
            for worker in workers {
                worker.join().map_err(|_| failed())?;
            }
            Ok(())
        })?;
        writer.flush().map_err(io)?;
        Ok(())
    }

    fn format_chunk(&self, rows: &[RowData]) -> Result<Vec<u8>> {
        match self.level {
            ReportLevel::Partner => self.format_rows::<{ ReportLevel::Partner as usize }>(rows),
            ReportLevel::Customer => self.format_rows::<{ ReportLevel::Customer as usize }>(rows),
            ReportLevel::User => self.format_rows::<{ ReportLevel::User as usize }>(rows),
        }
    }

    /// Formats rows of the level at `LEVEL` in [`ReportLevel::ALL`]: its columns are known when
    /// the crate is compiled, so each level's row writer is straight-line code.
    fn format_rows<const LEVEL: usize>(&self, rows: &[RowData]) -> Result<Vec<u8>> {
        let columns: &[Column] = const { ReportLevel::ALL[LEVEL].columns() };
        let mut out = Vec::with_capacity(rows.len() * 128 * (1 + self.level as usize));
        let mut qbuf = [0u8; 24];
        let mut sbuf = [0u8; 24];
        let mut ebuf = [0u8; 24];
        for r in rows {
            let quantity = r.quantity.format_into(&mut qbuf);
            let start = format_date(r.start, NO_START, &mut sbuf);
            let end = format_date(r.end, NO_END, &mut ebuf);
            self.write_row(&mut out, columns, r, quantity, start, end);
        }
        Ok(out)
    }

    /// Writes one row: the fields of `columns`, in order, quoted as the `csv` crate quotes them
    /// ([`push_field`]), and a line break.
    #[inline(always)]
    fn write_row(&self, out: &mut Vec<u8>, columns: &[Column], r: &RowData, quantity: &str, start: &str, end: &str) {
        let s = |sym| self.strings.get(sym);
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let field = match column {
                Column::PartnerName => s(r.partner_name),
                Column::PartnerOrgId => s(r.partner_org_id),
                Column::SubscriptionId => s(r.subscription_id),
                Column::CustomerOrgId => s(r.customer_org_id),
                Column::CustomerExternalId => s(r.customer_external_id),
                Column::Type => r.subscriber_type.map_or("", |t| t.as_str()),
                Column::SubscriberId => s(r.subscriber_id),
                Column::UserId => s(r.user_id),
                Column::WorkspaceId => s(r.workspace_id),
                Column::ServiceName => s(r.service_name),
                Column::Sku => s(r.sku),
                Column::Description => s(r.description),
                Column::ConsumptionStartDate => start,
                Column::ConsumptionEndDate => end,
                Column::Quantity => quantity,
                Column::LocationId => s(r.location_id),
                Column::LicenseId => s(r.license_id),
            };
            push_field(out, field.as_bytes());
        }
        out.push(b'\n');
    }
}

/// Rows formatted per chunk.
const ROWS_PER_CHUNK: usize = 16_384;

/// Who formats chunk `i` with `helpers` helper threads: `None` the writing thread (the first of
/// each cycle of `2 × helpers + 1` chunks), `Some(t)` helper `t` (the two after `2t`).
fn owner(i: usize, helpers: usize) -> Option<usize> {
    match i % (2 * helpers + 1) {
        0 => None,
        p => Some((p - 1) / 2),
    }
}

fn csv_to_error(e: csv::Error) -> Error {
    csv_write_error("writing the report", e)
}

fn format_date(micros: i64, none: i64, buf: &mut [u8; 24]) -> &str {
    if micros == none {
        ""
    } else {
        Timestamp::from_micros(micros).format_report(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::{ROWS_PER_CHUNK, owner};
    use crate::report::{ReadOptions, UsageReport};

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

    #[test]
    fn each_chunk_has_one_owner_in_cycles() {
        let one: Vec<_> = (0..6).map(|i| owner(i, 1)).collect();
        assert_eq!(one, [None, Some(0), Some(0), None, Some(0), Some(0)]);
        let three: Vec<_> = (0..8).map(|i| owner(i, 3)).collect();
        assert_eq!(
            three,
            [None, Some(0), Some(0), Some(1), Some(1), Some(2), Some(2), None]
        );
    }
}
