//! The events CSV reader (SPEC.md §2): columns by name, any order, case-insensitive, BOM or not;
//! unknown columns ignored; every bad row reported with its line, column and field.

use std::io::Read;

use super::builder::LedgerBuilder;
use super::field::{Field, cell_indexes, event_columns};
use crate::csvutil::{LineIndex, csv_error, field, open_with_header, record_line};
use crate::error::{IssueKind, Result};

const SOURCE: &str = "events";

impl LedgerBuilder {
    /// Reads an events CSV into the builder; rows are validated as they come and problems recorded
    /// with their line, column and field.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) when reading fails, [`Error::Rejected`](crate::Error::Rejected)
    /// when the header is absent or lacks a required column (`event_id`, `occurred_at`, `action`,
    /// `subscriber_id`, `customer_org_id`, `subscriber_type`, `package`) or the CSV itself is broken.
    ///
    /// ```
    /// use wholesale_billing::{LedgerBuilder, LoadMode, Organisation, Partner};
    /// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
    /// let csv = "\u{feff}Event_ID,Occurred_At,Action,Subscriber_ID,Customer_Org_ID,Subscriber_Type,Package,Note\n\
    ///            e1,2024-05-01T00:00:00,ASSIGN,s1,c1,USER,webex_calling,no offset\n";
    /// let mut builder = LedgerBuilder::new(org);
    /// builder.read_csv(csv.as_bytes())?;
    /// assert_eq!(builder.issues()[0].to_string(),
    ///     "line 2, column 2 (occurred_at): error: no utc offset: write `Z` or `+HH:MM` after the time (rfc 3339) [event_id e1]");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    ///
    /// The CSV is split into records on a second thread while this one validates them, so a large
    /// file loads on two cores.
    pub fn read_csv(&mut self, reader: impl Read + Send) -> Result<&mut Self> {
        let mut record = csv::ByteRecord::new();
        let mut rdr = open_with_header(reader, &mut record, SOURCE)?;
        let cols = event_columns(&record, 1, SOURCE)?;
        self.start_columns(&cols);
        let idx = cell_indexes(&cols);
        std::thread::scope(|scope| -> Result<()> {
            let (to_builder, batches) = std::sync::mpsc::sync_channel::<Result<Batch>>(2);
            let (recycle, spare) = std::sync::mpsc::channel::<Batch>();
            scope.spawn(move || {
                loop {
                    let mut batch = spare.try_recv().unwrap_or_default();
                    let filled = batch.fill(&mut rdr, &idx);
                    let last = !matches!(filled, Ok(true));
                    if to_builder.send(filled.map(|_| batch)).is_err() || last {
                        break;
                    }
                }
            });
            for batch in batches {
                let batch = batch?;
                let rows = batch.records[..batch.len].iter().zip(&batch.lines).zip(&batch.bad_utf8);
                for ((record, &line), &bad_utf8) in rows {
                    self.rows_read += 1;
                    match bad_utf8 {
                        None => {
                            let cells = idx.map(|i| text_field(record, i));
                            self.push_text_row(line, &cells, &cols);
                        }
                        Some(field) => {
                            let event_id = text_field(record, idx[Field::EventId as usize]).trim_ascii();
                            let message = "not valid utf-8".to_owned();
                            self.reject(line, event_id, &cols, field, IssueKind::InvalidValue, message);
                        }
                    }
                }
                // The reader may have stopped after its last batch; a lost spare is harmless.
                let _ = recycle.send(batch);
            }
            Ok(())
        })?;
        Ok(self)
    }
}

/// A field as read (an absent field is empty); the row validation trims it.
#[inline]
fn text_field(record: &csv::StringRecord, index: Option<usize>) -> &str {
    index.and_then(|i| record.get(i)).unwrap_or("")
}

/// Records split and checked for UTF-8 on the reading thread, handed to the validating thread in bulk.
#[derive(Default)]
struct Batch {
    records: Vec<csv::StringRecord>,
    /// The physical line of each record.
    lines: Vec<u64>,
    /// The first known field (in [`Field::ALL`] order) of each record that is not valid UTF-8; that
    /// record holds a lossy copy. Bad bytes in an unknown column do not matter.
    bad_utf8: Vec<Option<Field>>,
    len: usize,
}

impl Batch {
    const SIZE: usize = 4_096;

    /// Reads up to `SIZE` records, reusing the batch's allocations; `Ok(false)` at end of input.
    fn fill<R: Read>(&mut self, rdr: &mut csv::Reader<LineIndex<R>>, idx: &[Option<usize>; 13]) -> Result<bool> {
        self.len = 0;
        self.lines.clear();
        self.bad_utf8.clear();
        while self.len < Self::SIZE {
            if self.records.len() == self.len {
                self.records.push(csv::StringRecord::new());
            }
            let slot = &mut self.records[self.len];
            let mut record = std::mem::take(slot).into_byte_record();
            if !rdr.read_byte_record(&mut record).map_err(|e| csv_error(SOURCE, e))? {
                return Ok(false);
            }
            self.lines.push(record_line(rdr, &record));
            let (text, bad) = match csv::StringRecord::from_byte_record(record) {
                Ok(text) => (text, None),
                Err(e) => {
                    let record = e.into_byte_record();
                    let bad = Field::ALL
                        .into_iter()
                        .find(|&f| std::str::from_utf8(field(&record, idx[f as usize])).is_err());
                    (csv::StringRecord::from_byte_record_lossy(record), bad)
                }
            };
            *slot = text;
            self.bad_utf8.push(bad);
            self.len += 1;
        }
        Ok(true)
    }
}
