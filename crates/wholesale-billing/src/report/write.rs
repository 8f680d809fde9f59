//! Writing a usage report as the Webex billing report CSV (SPEC.md §4).

use std::io::Write;

use crate::csvutil::csv_write_error;
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
    /// The rows are formatted on two threads when the machine has them
    /// ([`UsageReport::write_csv_with_threads`] says how many).
    pub fn write_csv(&self, writer: impl Write) -> Result<()> {
        self.write_csv_with_threads(writer, crate::parallel::default_threads())
    }

    /// [`UsageReport::write_csv`] with `threads`: with 2 or more the rows are formatted in chunks
    /// on two threads (this one writes them all, in order); with 1 nothing is spawned. The bytes
    /// are the same with any.
    ///
    /// # Errors
    /// As [`UsageReport::write_csv`].
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,1\nc1,s2,A-W-WXC-CALL-U,2.5\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let (mut one, mut two) = (Vec::new(), Vec::new());
    /// report.write_csv_with_threads(&mut one, 1)?;
    /// report.write_csv_with_threads(&mut two, 2)?;
    /// assert_eq!(one, two);
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
        // Rows are formatted in chunks on two threads and written in order by this one: it formats
        // one chunk in three and writes them all (the copy into the page cache is its share), the
        // helper formats the other two.
        std::thread::scope(|scope| -> Result<()> {
            let (to_writer, from_helper) = std::sync::mpsc::sync_channel::<Result<Vec<u8>>>(4);
            let helper = scope.spawn(move || {
                for (_, chunk) in self.rows.chunks(ROWS_PER_CHUNK).enumerate().filter(|(i, _)| !mine(*i)) {
                    if to_writer.send(self.format_chunk(chunk)).is_err() {
                        break;
                    }
                }
            });
            for (i, chunk) in self.rows.chunks(ROWS_PER_CHUNK).enumerate() {
                let formatted = if mine(i) {
                    self.format_chunk(chunk)?
                } else {
                    from_helper.recv().map_err(|_| Error::ThreadFailed {
                        task: "report formatting",
                    })??
                };
                // A chunk is megabytes: written in pieces (see `IO_BUFFER_BYTES`).
                crate::csvutil::write_in_pieces(&mut writer, &formatted).map_err(io)?;
            }
            drop(from_helper);
            helper.join().map_err(|_| Error::ThreadFailed {
                task: "report formatting",
            })
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
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::with_capacity(rows.len() * 128 * (1 + self.level as usize)));
        let mut qbuf = [0u8; 24];
        let mut sbuf = [0u8; 24];
        let mut ebuf = [0u8; 24];
        for r in rows {
            let quantity = r.quantity.format_into(&mut qbuf);
            let start = format_date(r.start, NO_START, &mut sbuf);
            let end = format_date(r.end, NO_END, &mut ebuf);
            self.write_row(&mut w, columns, r, quantity, start, end)
                .map_err(csv_to_error)?;
        }
        w.into_inner()
            .map_err(|e| Error::io("writing the report", e.into_error()))
    }

    /// Writes one row: the fields of `columns`, in order.
    #[inline(always)]
    fn write_row<W: Write>(
        &self,
        w: &mut csv::Writer<W>,
        columns: &[Column],
        r: &RowData,
        quantity: &str,
        start: &str,
        end: &str,
    ) -> csv::Result<()> {
        let s = |sym| self.strings.get(sym);
        for column in columns {
            w.write_field(match column {
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
            })?;
        }
        w.write_record(None::<&[u8]>)
    }
}

/// Rows formatted per chunk.
const ROWS_PER_CHUNK: usize = 16_384;

/// Whether the writing thread formats chunk `i` itself (one in three).
fn mine(i: usize) -> bool {
    i.is_multiple_of(3)
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
