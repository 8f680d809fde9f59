//! Writing a usage report as the Webex billing report CSV (SPEC.md §4).

use std::io::Write;

use crate::csvutil::csv_write_error;
use crate::error::{Error, Result};
use crate::report::{NO_END, NO_START, ReportLevel, RowData, UsageReport};
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
    pub fn write_csv(&self, mut writer: impl Write) -> Result<()> {
        let io = |e| Error::io("writing the report", e);
        let mut header = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        header.write_record(self.level.columns()).map_err(csv_to_error)?;
        writer
            .write_all(&header.into_inner().map_err(|e| io(e.into_error()))?)
            .map_err(io)?;
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
                writer.write_all(&formatted).map_err(io)?;
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
            self.write_row(&mut w, r, quantity, start, end).map_err(csv_to_error)?;
        }
        w.into_inner()
            .map_err(|e| Error::io("writing the report", e.into_error()))
    }

    fn write_row<W: Write>(
        &self,
        w: &mut csv::Writer<W>,
        r: &RowData,
        quantity: &str,
        start: &str,
        end: &str,
    ) -> csv::Result<()> {
        let s = |sym| self.strings.get(sym);
        w.write_field(s(r.partner_name))?;
        w.write_field(s(r.partner_org_id))?;
        w.write_field(s(r.subscription_id))?;
        if self.level >= ReportLevel::Customer {
            w.write_field(s(r.customer_org_id))?;
            w.write_field(s(r.customer_external_id))?;
        }
        if self.level == ReportLevel::User {
            w.write_field(r.subscriber_type.map_or("", |t| t.as_str()))?;
            w.write_field(s(r.subscriber_id))?;
            w.write_field(s(r.user_id))?;
            w.write_field(s(r.workspace_id))?;
        }
        w.write_field(s(r.service_name))?;
        w.write_field(s(r.sku))?;
        w.write_field(s(r.description))?;
        w.write_field(start)?;
        w.write_field(end)?;
        w.write_field(quantity)?;
        if self.level >= ReportLevel::Customer {
            w.write_field(s(r.location_id))?;
            w.write_field(s(r.license_id))?;
        }
        w.write_record(None::<&[u8]>)
    }
}

/// Rows formatted per chunk.
const ROWS_PER_CHUNK: usize = 16_384;

/// Whether the writing thread formats chunk `i` itself (one in three).
fn mine(i: usize) -> bool {
    i % 3 == 0
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
