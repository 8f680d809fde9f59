//! The events CSV reader (SPEC.md §2): columns by name, any order, case-insensitive, BOM or not;
//! unknown columns ignored; every bad row reported with its line, column and field; a last row
//! cut short (a truncated file) is a located error.

use std::io::Read;

use super::builder::LedgerBuilder;
use super::field::{Columns, Field, cell_indexes, event_columns};
use crate::csvutil::{LineIndex, csv_error, field, is_cut_row, open_with_header, record_line};
use crate::error::{IssueKind, LoadIssue, Result, Severity};

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
    /// With [`LedgerBuilder::threads`] of 2 or more (the default on a machine that has them) the
    /// CSV is split into records on a second thread while this one validates them, so a large
    /// file loads on two cores; with 1 nothing is spawned. The result is the same with any.
    pub fn read_csv(&mut self, reader: impl Read + Send) -> Result<&mut Self> {
        let mut record = csv::ByteRecord::new();
        let mut rdr = open_with_header(reader, &mut record, SOURCE)?;
        let cols = event_columns(&record, 1, SOURCE)?;
        let header_len = record.len();
        self.start_columns(&cols);
        let idx = cell_indexes(&cols);
        if self.threads < 2 {
            let mut batch = Batch::default();
            loop {
                let more = batch.fill(&mut rdr, &idx, header_len)?;
                self.push_batch(&batch, &idx, &cols);
                if !more {
                    return Ok(self);
                }
            }
        }
        std::thread::scope(|scope| -> Result<()> {
            let (to_builder, batches) = std::sync::mpsc::sync_channel::<Result<Batch>>(2);
            let (recycle, spare) = std::sync::mpsc::channel::<Batch>();
            scope.spawn(move || {
                loop {
                    let mut batch = spare.try_recv().unwrap_or_default();
                    let filled = batch.fill(&mut rdr, &idx, header_len);
                    let last = !matches!(filled, Ok(true));
                    if to_builder.send(filled.map(|_| batch)).is_err() || last {
                        break;
                    }
                }
            });
            for batch in batches {
                let batch = batch?;
                self.push_batch(&batch, &idx, &cols);
                // The reader may have stopped after its last batch; a lost spare is harmless.
                let _ = recycle.send(batch);
            }
            Ok(())
        })?;
        Ok(self)
    }

    /// Validates and pushes the rows of a batch, in order.
    fn push_batch(&mut self, batch: &Batch, idx: &[Option<usize>; 13], cols: &Columns) {
        let rows = batch.records[..batch.len].iter().zip(&batch.lines).zip(&batch.problems);
        for ((record, &line), problem) in rows {
            self.rows_read += 1;
            match problem {
                None => self.push_text_row(line, |f| text_field(record, idx[f as usize]), cols),
                Some(problem) => self.reject_record(record, line, idx, cols, problem),
            }
        }
    }

    /// Rejects a record that is not a row of text: cut short, or not UTF-8.
    fn reject_record(
        &mut self,
        record: &csv::StringRecord,
        line: u64,
        idx: &[Option<usize>; 13],
        cols: &Columns,
        problem: &Problem,
    ) {
        let event_id = text_field(record, idx[Field::EventId as usize]).trim_ascii();
        match *problem {
            Problem::BadUtf8(field) => {
                let message = "not valid utf-8".to_owned();
                self.reject(line, event_id, cols, field, IssueKind::InvalidValue, message);
            }
            Problem::Cut { header_len } => {
                let fields = record.len();
                let message = format!(
                    "row cut short: {fields} of the header's {header_len} fields, and the file ends \
                     without a line break (a truncated file?)"
                );
                let mut issue =
                    LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message).with_event_id(event_id);
                issue.column = Some(fields);
                issue.field = Field::ALL
                    .into_iter()
                    .find(|&f| cols[f as usize] == Some(fields))
                    .map(|f| f.name().to_owned());
                self.issues.push(issue);
            }
        }
    }
}

/// A field as read (an absent field is empty); the row validation trims it.
#[inline]
fn text_field(record: &csv::StringRecord, index: Option<usize>) -> &str {
    index.and_then(|i| record.get(i)).unwrap_or("")
}

/// Why a record is not a row of text.
enum Problem {
    /// The first known field (in [`Field::ALL`] order) that is not valid UTF-8; the record holds
    /// a lossy copy. Bad bytes in an unknown column do not matter.
    BadUtf8(Field),
    /// The last record, with fewer fields than the header and no line break after it.
    Cut {
        /// The number of fields in the header.
        header_len: usize,
    },
}

/// Records split and checked on the reading thread, handed to the validating thread in bulk.
#[derive(Default)]
struct Batch {
    records: Vec<csv::StringRecord>,
    /// The physical line of each record.
    lines: Vec<u64>,
    /// What makes each record unreadable as a row, if anything.
    problems: Vec<Option<Problem>>,
    len: usize,
}

impl Batch {
    const SIZE: usize = 4_096;

    /// Reads up to `SIZE` records, reusing the batch's allocations; `Ok(false)` at end of input.
    fn fill<R: Read>(
        &mut self,
        rdr: &mut csv::Reader<LineIndex<R>>,
        idx: &[Option<usize>; 13],
        header_len: usize,
    ) -> Result<bool> {
        self.len = 0;
        self.lines.clear();
        self.problems.clear();
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
            let mut problem = is_cut_row(rdr, &record, header_len).then_some(Problem::Cut { header_len });
            let text = match csv::StringRecord::from_byte_record(record) {
                Ok(text) => text,
                Err(e) => {
                    let record = e.into_byte_record();
                    let bad = Field::ALL
                        .into_iter()
                        .find(|&f| std::str::from_utf8(field(&record, idx[f as usize])).is_err());
                    if problem.is_none() {
                        problem = bad.map(Problem::BadUtf8);
                    }
                    csv::StringRecord::from_byte_record_lossy(record)
                }
            };
            *slot = text;
            self.problems.push(problem);
            self.len += 1;
        }
        Ok(true)
    }
}
