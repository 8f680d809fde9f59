//! The events CSV reader (SPEC.md §2): columns by name, any order, case-insensitive, BOM or not;
//! unknown columns ignored; every bad row reported with its line, column and field; a last row
//! cut short (a truncated file) is a located error.

use std::io::Read;

use super::builder::{Checked, LedgerBuilder, Packed, Rules, rejection};
use super::event::{Action, Event, SubscriberType};
use super::field::{Columns, Field, cell_indexes, event_columns};
use super::text_row::parse_text_row;
use crate::csvsplit::{PART_BYTES, Part, Row, Unpiped, cut_ahead, make_in_parts};
use crate::csvutil::{csv_error, header_error};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::time::Timestamp;

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
    /// The file is read in parts of whole rows (quote-aware: a quoted line break is no row end),
    /// about a mebibyte each, a few at a time: memory holds the ledger being built, not the file.
    /// With [`LedgerBuilder::threads`] of 2 or more (the default on a machine that has them) one
    /// thread reads the input and cuts the parts, `threads - 1` worker threads split them into
    /// rows, parse and check them, and this one keeps the rows they accepted, in file order; with
    /// 1 nothing is spawned. The ledger and every issue are the same with any number of threads.
    pub fn read_csv(&mut self, reader: impl Read + Send) -> Result<&mut Self> {
        self.read_csv_in_parts(reader, PART_BYTES)
    }

    /// [`LedgerBuilder::read_csv`] in parts of at least `part_bytes` bytes.
    fn read_csv_in_parts(&mut self, reader: impl Read + Send, part_bytes: usize) -> Result<&mut Self> {
        let mut head = Unpiped::new(reader, part_bytes);
        let mut header = Row::default();
        match head.next_row(&mut header) {
            Ok(Some(_)) => {}
            Ok(None) => return Err(header_error(SOURCE, "empty file: no header row".into())),
            Err(e) => return Err(csv_error(SOURCE, csv::Error::from(e))),
        }
        let cols = event_columns((0..header.len()).map(|i| header.get(i).unwrap_or_default()), 1, SOURCE)?;
        self.start_columns(&cols);
        let layout = Layout {
            idx: cell_indexes(&cols),
            cols,
            header_len: header.len(),
        };
        let rules = std::sync::Arc::clone(&self.rules);
        let workers = self.threads - 1;
        let make =
            |part: &mut Part<'_>, row: &mut Row, batch: &mut Batch| make_batch(&layout, &rules, part, row, batch);
        let take = |batch: &mut Batch| {
            self.take_batch(batch, &layout.cols);
            Ok::<(), Error>(())
        };
        let mut parts = head.into_parts();
        let ended = if workers == 0 {
            make_in_parts(&mut parts, 0, make, take)?
        } else {
            // The input is read and cut on a thread of its own: this one only keeps rows.
            cut_ahead(parts, 2 * workers, |parts| make_in_parts(parts, workers, make, take))?
        };
        match ended {
            Some(e) => Err(csv_error(SOURCE, csv::Error::from(e))),
            None => Ok(self),
        }
    }

    /// Keeps the rows of a batch that were accepted and notes the issues of the others, in order.
    ///
    /// The rows go in runs of [`TOUCHED_AHEAD`]: the table slots each run's rows look up are read
    /// first, in loops whose reads do not wait for each other (in a file in time order, the rows
    /// of a run name customers, locations and subscribers far apart in the tables, and each
    /// lookup would otherwise wait for memory on its own): the texts' slots, then the slots of
    /// the customers they name; then the rows are kept.
    fn take_batch(&mut self, batch: &mut Batch, cols: &Columns) {
        let Batch { rows, texts } = batch;
        let mut rows = rows.drain(..);
        loop {
            let ahead = rows.as_slice();
            if ahead.is_empty() {
                break;
            }
            let run = ahead.len().min(TOUCHED_AHEAD);
            let mut seen = 0;
            let kept = || ahead[..run].iter().filter_map(|(_, outcome)| outcome.as_ref().ok());
            for kept in kept() {
                seen ^= self.touch(&kept.event(texts), &kept.packed);
            }
            for kept in kept() {
                seen ^= self.touch_customer(&kept.event(texts), &kept.packed);
            }
            std::hint::black_box(seen);
            for (line, outcome) in rows.by_ref().take(run) {
                self.rows_read += 1;
                match outcome {
                    Ok(kept) => {
                        let event = kept.event(texts);
                        if let Err(e) = self.accept_packed(line, &event, kept.checked, cols, &kept.packed) {
                            self.set_fatal(e);
                        }
                    }
                    Err(issue) => self.issues.push(*issue),
                }
            }
        }
    }
}

/// Rows whose table slots are read ahead of keeping them (see `take_batch`).
const TOUCHED_AHEAD: usize = 32;

/// Where the fields are in the rows of one file.
struct Layout {
    /// The 1-based column of each field.
    cols: Columns,
    /// The 0-based cell of each field.
    idx: [Option<usize>; 13],
    /// The number of fields in the header.
    header_len: usize,
}

impl Layout {
    /// A field of a row valid as a whole: cut from it (an absent field is empty).
    #[inline]
    fn cell<'r>(&self, row: &Row, whole: &'r str, field: Field) -> &'r str {
        self.idx[field as usize]
            .and_then(|i| row.str_field(whole, i))
            .unwrap_or("")
    }

    /// A field as text, `None` when it is not UTF-8 (an absent field is empty).
    fn text<'r>(&self, row: &'r Row, field: Field) -> Option<&'r str> {
        let bytes = self.idx[field as usize].and_then(|i| row.get(i)).unwrap_or_default();
        std::str::from_utf8(bytes).ok()
    }

    /// The event id of a row refused whole, for its issue (bytes that are not UTF-8 as U+FFFD).
    fn lossy_event_id(&self, row: &Row) -> String {
        let bytes = self.idx[Field::EventId as usize]
            .and_then(|i| row.get(i))
            .unwrap_or_default();
        String::from_utf8_lossy(bytes.trim_ascii()).into_owned()
    }
}

/// A row a worker parsed and checked: what the builder keeps of it, its texts in the batch's
/// `texts`.
struct Kept {
    at: Timestamp,
    action: Action,
    subscriber_type: Option<SubscriberType>,
    checked: Checked,
    /// Its UUIDs, packed.
    packed: Packed,
    /// Where its texts start in the batch's `texts`.
    start: u32,
    /// Where each ends: event id, subscriber, customer org, customer external id, user,
    /// workspace, location, license.
    ends: [u32; 8],
}

impl Kept {
    /// Copies the texts the builder keeps of `event` to the end of `texts`.
    fn new(event: &Event<'_>, checked: Checked, texts: &mut String) -> Kept {
        let start = texts.len() as u32;
        let mut ends = [0; 8];
        let kept = [
            event.event_id,
            event.subscriber_id,
            event.customer_org_id,
            event.customer_external_id,
            event.user_id,
            event.workspace_id,
            event.location_id,
            event.license_id,
        ];
        for (end, text) in ends.iter_mut().zip(kept) {
            texts.push_str(text);
            *end = texts.len() as u32;
        }
        Kept {
            at: event.occurred_at,
            action: event.action,
            subscriber_type: event.subscriber_type,
            checked,
            packed: Packed::of(event),
            start,
            ends,
        }
    }

    /// The event again, borrowing its texts from `texts` (its package and sub-partner, already
    /// checked, are in `checked`).
    fn event<'t>(&self, texts: &'t str) -> Event<'t> {
        let text = |i: usize| {
            let start = match i.checked_sub(1) {
                Some(before) => self.ends[before],
                None => self.start,
            };
            texts.get(start as usize..self.ends[i] as usize).unwrap_or("")
        };
        Event {
            event_id: text(0),
            occurred_at: self.at,
            action: self.action,
            subscriber_id: text(1),
            customer_org_id: text(2),
            customer_external_id: text(3),
            sub_partner_org_id: "",
            subscriber_type: self.subscriber_type,
            user_id: text(4),
            workspace_id: text(5),
            package: "",
            location_id: text(6),
            license_id: text(7),
        }
    }
}

/// The rows of one part, parsed and checked by a worker: each accepted row (its texts in `texts`)
/// or the issue that rejects it, with its line.
#[derive(Default)]
struct Batch {
    rows: Vec<(u64, std::result::Result<Kept, Box<LoadIssue>>)>,
    texts: String,
}

/// A worker's work: splits a part into rows and parses and checks each (the row being read is
/// the worker's own scratch).
fn make_batch(layout: &Layout, rules: &Rules, part: &mut Part<'_>, row: &mut Row, batch: &mut Batch) {
    batch.rows.clear();
    batch.texts.clear();
    let texts = &mut batch.texts;
    while let Some(at) = part.next_row(row) {
        let line = at.line;
        let checked = |event: Event<'_>, texts: &mut String| {
            let checked = rules.check(line, &event, &layout.cols)?;
            Ok(Kept::new(&event, checked, texts))
        };
        let outcome = if row.len() < layout.header_len && at.ends_input && part.is_last() {
            Err(cut_row(layout, row, line))
        } else if let Ok(whole) = std::str::from_utf8(row.as_bytes()) {
            parse_text_row(line, |f| layout.cell(row, whole, f), &layout.cols).and_then(|e| checked(e, texts))
        } else if let Some(bad) = Field::ALL.into_iter().find(|&f| layout.text(row, f).is_none()) {
            // Bytes that are not UTF-8 in an unknown column do not matter.
            let event_id = layout.lossy_event_id(row);
            let message = "not valid utf-8".to_owned();
            Err(rejection(
                line,
                &event_id,
                &layout.cols,
                bad,
                IssueKind::InvalidValue,
                message,
            ))
        } else {
            parse_text_row(line, |f| layout.text(row, f).unwrap_or(""), &layout.cols).and_then(|e| checked(e, texts))
        };
        batch.rows.push((line, outcome.map_err(Box::new)));
    }
}

/// The issue of the input's last row cut short: fewer fields than the header and no line break
/// after it (a truncated file).
fn cut_row(layout: &Layout, row: &Row, line: u64) -> LoadIssue {
    let fields = row.len();
    let header_len = layout.header_len;
    let message = format!(
        "row cut short: {fields} of the header's {header_len} fields, and the file ends without a line break \
         (a truncated file?)"
    );
    let mut issue = LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message)
        .with_event_id(layout.lossy_event_id(row));
    issue.column = Some(fields);
    issue.field = Field::ALL
        .into_iter()
        .find(|&f| layout.cols[f as usize] == Some(fields))
        .map(|f| f.name().to_owned());
    issue
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ledger::builder::test_builder;

    /// The builder after reading `input` with `threads` threads in parts of `part_bytes`: its
    /// events, issues, rows read and how the read ended.
    fn read(input: &[u8], threads: usize, part_bytes: usize) -> String {
        let mut builder = match test_builder(threads) {
            Ok(builder) => builder,
            Err(e) => return format!("no organisation: {e}"),
        };
        let read = builder.read_csv_in_parts(input, part_bytes).map(|_| ());
        format!(
            "{read:?}\n{:?}\n{:?}\n{}",
            builder.events, builder.issues, builder.rows_read
        )
    }

    /// A row's bytes: sometimes valid, sometimes not, with quoted fields and bytes that are not
    /// UTF-8 in a known or an unknown column.
    fn row() -> impl Strategy<Value = Vec<u8>> {
        let time = prop_oneof![
            4 => (1u8..9, 0u8..24).prop_map(|(d, h)| format!("2024-05-0{d}T{h:02}:00:00Z").into_bytes()),
            1 => Just(b"2024-05-01T00:00:00".to_vec()),
            1 => Just(b"\"2024-05-02T00:00:00Z\"".to_vec()),
        ];
        let action = prop_oneof![4 => Just(&b"ASSIGN"[..]), 2 => Just(&b"REMOVE"[..]), 1 => Just(&b"bogus"[..])];
        let subscriber = prop_oneof![
            6 => (0u8..6).prop_map(|k| format!("s{k}").into_bytes()),
            1 => Just(b"s\xff".to_vec()),
            1 => Just(Vec::new()),
        ];
        let package = prop_oneof![5 => Just(&b"webex_calling"[..]), 1 => Just(&b"nope"[..])];
        let note = prop_oneof![
            3 => Just(&b"plain"[..]),
            1 => Just(&b"\"a,b\nc\""[..]),
            1 => Just(&b"\"say \"\"hi\"\"\""[..]),
            1 => Just(&b"q\"x"[..]),
            1 => Just(&b"\xff\xfe"[..]),
        ];
        let ending = prop_oneof![4 => Just(&b"\n"[..]), 1 => Just(&b"\r\n"[..]), 1 => Just(&b"\n\n"[..])];
        (
            0u8..20,
            time,
            action,
            subscriber,
            0u8..3,
            any::<bool>(),
            package,
            note,
            ending,
        )
            .prop_map(
                |(id, time, action, subscriber, customer, user, package, note, ending)| {
                    let kind: &[u8] = if user { b"USER" } else { b"WORKSPACE" };
                    let mut row = format!("e{id},").into_bytes();
                    for field in [
                        &time[..],
                        action,
                        &subscriber,
                        format!(" c{customer} ").as_bytes(),
                        kind,
                        package,
                        note,
                    ] {
                        row.extend_from_slice(field);
                        row.push(b',');
                    }
                    row.pop();
                    row.extend_from_slice(ending);
                    row
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Parts as small as a few bytes, so that rows, quoted fields and line breaks are cut
        /// everywhere, read on 2, 3 or 7 threads: the same events, issues and rows as one part
        /// read on one thread.
        #[test]
        fn parts_and_threads_read_as_one(
            rows in prop::collection::vec(row(), 0..40),
            cut in 0usize..6,
            threads in prop::sample::select(vec![2usize, 3, 7]),
            part_bytes in 1usize..300,
        ) {
            let mut input = b"event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package,note\n".to_vec();
            for row in &rows {
                input.extend_from_slice(row);
            }
            let keep = input.len().saturating_sub(cut);
            input.truncate(keep);
            let one = read(&input, 1, 1 << 20);
            prop_assert!(one.starts_with("Ok(())"), "{}", one);
            prop_assert_eq!(read(&input, 1, part_bytes), read(&input, 1, 1 << 20));
            prop_assert_eq!(read(&input, threads, part_bytes), one);
        }
    }

    #[test]
    fn a_last_row_cut_short_is_found_in_the_last_of_many_parts() -> Result<()> {
        let header = "event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,package\n";
        let body: String = (0..3_000)
            .map(|i| format!("e{i},2024-05-01T00:00:00Z,ASSIGN,s{i},c1,USER,webex_calling\n"))
            .collect();
        for (tail, cut) in [
            ("e-last,2024-05-01T00:00:00Z,ASS", true),
            ("e-last,2024-05-01T00:00:00Z,ASSIGN,s9,c1,USER,webex_calling", false),
            ("", false),
        ] {
            let input = format!("{header}{body}{tail}");
            for threads in [1, 2, 7] {
                let mut builder = test_builder(threads)?;
                builder.read_csv_in_parts(input.as_bytes(), 4_096)?;
                let issues: Vec<String> = builder.issues().iter().map(ToString::to_string).collect();
                let expected = if cut {
                    vec!["line 3002, column 3 (action): error: row cut short: 3 of the header's 7 fields, and the file ends \
                          without a line break (a truncated file?) [event_id e-last]".to_owned()]
                } else {
                    Vec::new()
                };
                assert_eq!(issues, expected, "{tail:?} on {threads} threads");
                assert_eq!(builder.rows_read, 3_000 + u64::from(!tail.is_empty()));
            }
        }
        Ok(())
    }
}
