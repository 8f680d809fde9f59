//! The events CSV reader (SPEC.md §2): columns by name, any order, case-insensitive, BOM or not;
//! unknown columns ignored; every bad row reported with its line, column and field.

use std::io::Read;

use super::builder::{Columns, Field, LedgerBuilder};
use super::event::{Action, Event, SubscriberType};
use crate::csvutil::{LineIndex, csv_error, field, find_columns, open_with_header, record_line};
use crate::error::{IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::time::{Timestamp, TimestampError, parse_rfc3339_bytes};

const SOURCE: &str = "events";

/// Columns every events file must have.
const REQUIRED: [Field; 7] = [
    Field::EventId,
    Field::OccurredAt,
    Field::Action,
    Field::SubscriberId,
    Field::CustomerOrgId,
    Field::SubscriberType,
    Field::Package,
];

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
        let names: [(&str, &[&str]); 13] = Field::ALL.map(|f| (f.name(), f.aliases()));
        let cols = find_columns(&record, &names, &REQUIRED.map(|f| f as usize), SOURCE)?;
        self.set_event_id_column(cols[Field::EventId as usize]);
        let index = |f: Field| cols[f as usize].map(|c| c - 1);
        let idx: [Option<usize>; 13] = Field::ALL.map(index);
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
                    self.count_row();
                    match bad_utf8 {
                        None => self.read_row(record, line, &idx, &cols),
                        Some(f) => {
                            let id = text_field(record, idx[Field::EventId as usize]).to_owned();
                            self.row_issue(line, &id, &cols, f, IssueKind::InvalidValue, "not valid utf-8".into());
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

    /// Validates one record (valid UTF-8 in every known field) and pushes it as an event.
    fn read_row(&mut self, record: &csv::StringRecord, line: u64, idx: &[Option<usize>; 13], cols: &Columns) {
        let text: [&str; 13] = idx.map(|i| text_field(record, i));
        let t = |f: Field| text[f as usize];
        let event_id = t(Field::EventId);
        let occurred_at = match parse_rfc3339_bytes(t(Field::OccurredAt).as_bytes()) {
            Ok(micros) => Timestamp::from_micros(micros),
            Err(e) => {
                let (kind, message) = match e {
                    _ if t(Field::OccurredAt).is_empty() => (IssueKind::MissingField, "occurred_at is required".into()),
                    TimestampError::MissingOffset => (IssueKind::MissingOffset, e.reason().to_owned()),
                    TimestampError::Invalid(reason) => (
                        IssueKind::InvalidValue,
                        format!("{reason}: {}", Quoted(t(Field::OccurredAt))),
                    ),
                };
                self.row_issue(line, event_id, cols, Field::OccurredAt, kind, message);
                return;
            }
        };
        let action = match Action::from_name_bytes(t(Field::Action).as_bytes()) {
            Some(a) => a,
            None => {
                let (kind, message) = if t(Field::Action).is_empty() {
                    (IssueKind::MissingField, "action is required".to_owned())
                } else {
                    (
                        IssueKind::InvalidValue,
                        format!("action {} is not ASSIGN or REMOVE", Quoted(t(Field::Action))),
                    )
                };
                self.row_issue(line, event_id, cols, Field::Action, kind, message);
                return;
            }
        };
        let subscriber_type = match t(Field::SubscriberType) {
            "" => None,
            s => match SubscriberType::from_name_bytes(s.as_bytes()) {
                Some(st) => Some(st),
                None if action == Action::Remove => None,
                None => {
                    let message = format!("subscriber_type {} is not USER or WORKSPACE", Quoted(s));
                    self.row_issue(
                        line,
                        event_id,
                        cols,
                        Field::SubscriberType,
                        IssueKind::InvalidValue,
                        message,
                    );
                    return;
                }
            },
        };
        let event = Event {
            event_id,
            occurred_at,
            action,
            subscriber_id: t(Field::SubscriberId),
            customer_org_id: t(Field::CustomerOrgId),
            customer_external_id: t(Field::CustomerExternalId),
            sub_partner_org_id: t(Field::SubPartnerOrgId),
            subscriber_type,
            user_id: t(Field::UserId),
            workspace_id: t(Field::WorkspaceId),
            package: t(Field::Package),
            location_id: t(Field::LocationId),
            license_id: t(Field::LicenseId),
        };
        self.push_row(line, &event, cols);
    }

    fn row_issue(&mut self, line: u64, event_id: &str, cols: &Columns, f: Field, kind: IssueKind, message: String) {
        let mut issue = LoadIssue::new(Severity::Error, line, kind, message).with_event_id(event_id);
        if let Some(column) = cols[f as usize] {
            issue = issue.at_column(column, f.name());
        }
        self.record(issue);
    }
}

/// A field trimmed of ASCII white space; an absent field is empty.
#[inline]
fn text_field(record: &csv::StringRecord, index: Option<usize>) -> &str {
    index.and_then(|i| record.get(i)).map_or("", str::trim_ascii)
}

/// Records split and checked for UTF-8 on the reading thread, handed to the validating thread in
/// bulk.
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
