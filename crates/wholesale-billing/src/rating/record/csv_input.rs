//! The "Detailed Call History" CSV report, read row by row into one reused [`CallRecord`].
//!
//! Each row is made a record by [`make_record`], which needs nothing shared: on the reading
//! thread itself, or, with two threads or more, on worker threads, each given parts of whole rows
//! of the input by the pipeline of [`crate::csvsplit`]; each worker puts and parses the values of
//! its part's rows and hands the batch of records back, while the reading thread takes the
//! batches in input order, notes their issues, removes duplicates and hands the records on.
//! Either way the records, their lines and every issue come in input order, so every thread count
//! reads the same records and reports the same issues.

use std::io::Read;

use crate::csvutil::{csv_error, find_columns_at, header_error};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

use super::call_record::{CallRecord, RecordOrigin};
use super::field::CdrField;
use super::reader::{CdrReader, Place, SOURCE, field_issue_at};
use crate::csvsplit::{PART_BYTES, Part, Row, RowAt, Unpiped, make_in_parts};

/// Gives every issue of a refused load the input it is about.
fn in_input(e: Error, input: usize) -> Error {
    match e {
        Error::Rejected { source_name, issues } => Error::Rejected {
            source_name,
            issues: issues.into_iter().map(|i| i.in_input(input)).collect(),
        },
        other => other,
    }
}

/// The name of column `index` (0-based) of a header, as written (byte order mark and surrounding
/// space removed).
fn header_name(header: &Row, index: usize) -> String {
    let name = String::from_utf8_lossy(header.get(index).unwrap_or_default());
    name.trim_start_matches('\u{feff}').trim().to_owned()
}

/// Where a row was read: its line, and whether it is a row cut short by the end of the input
/// (known only for a row shorter than the header).
#[derive(Debug, Clone, Copy, Default)]
struct RowPlace {
    line: u64,
    cut: bool,
}

/// What is the same for every row of one input: where the known fields are, the header, the
/// other columns and their names.
#[derive(Debug, Clone)]
struct Layout {
    /// The index of the input.
    input: usize,
    header: Row,
    /// The 1-based column of each known field, by [`CdrField::index`].
    cols: [Option<usize>; 11],
    /// The other columns: (0-based column, index of its name).
    others: Vec<(usize, u32)>,
    /// The names of the other columns.
    names: Vec<String>,
}

impl Layout {
    /// The layout of an input of this header.
    fn new(header: Row, input: usize) -> Result<Layout> {
        let required = CdrField::REQUIRED.map(CdrField::index);
        let cols: [Option<usize>; 11] = find_columns_at(
            (0..header.len()).map(|i| header.get(i).unwrap_or_default()),
            1,
            |name| CdrField::from_normalized(name).map(CdrField::index),
            |i| CdrField::ALL.get(i).map_or("", |f| f.name()),
            &required,
            SOURCE,
        )
        .map_err(|e| in_input(e, input))?;
        let mut others = Vec::new();
        let mut names = Vec::new();
        for i in 0..header.len() {
            if !cols.contains(&Some(i + 1)) {
                others.push((i, names.len() as u32));
                names.push(header_name(&header, i));
            }
        }
        Ok(Layout {
            input,
            header,
            cols,
            others,
            names,
        })
    }

    /// Gives `record` the names of this input's other columns.
    fn name(&self, record: &mut CallRecord) {
        record.names.clone_from(&self.names);
        record.row_others.clone_from(&self.others);
    }
}

/// What making a record of a row found.
#[derive(Debug, Clone, Copy, Default)]
enum Outcome {
    /// The row was refused as a whole (it has not the header's number of fields).
    #[default]
    Refused,
    /// The row's values were read and parsed; `valid` unless one was refused.
    Parsed { valid: bool },
}

/// Makes `record` of `row`, read at `place`: every value put and parsed, `places` telling where
/// each known field is, every issue found appended to `issues` in the order found (`row` may be
/// swapped with the record's own, when it is lent). Needs nothing shared, so that a worker thread
/// can do it.
fn make_record(
    layout: &Layout,
    row: &mut Row,
    place: RowPlace,
    record: &mut CallRecord,
    places: &mut [Place; 11],
    issues: &mut Vec<LoadIssue>,
) -> Outcome {
    let line = place.line;
    record.clear(RecordOrigin {
        input: layout.input,
        line,
        item: None,
    });
    *places = [Place::default(); 11];
    let header_len = layout.header.len();
    if row.len() != header_len {
        let column = row.len().min(header_len) + 1;
        let message = if place.cut {
            format!(
                "the file ends mid-row: its last row has {} of the header's {header_len} fields (a file cut short)",
                row.len()
            )
        } else {
            format!("the row has {} fields, the header {header_len}", row.len())
        };
        let name = match layout.cols.iter().position(|c| *c == Some(column)) {
            Some(field) => CdrField::ALL.get(field).map_or("", |f| f.name()).to_owned(),
            None => header_name(&layout.header, column - 1),
        };
        issues.push(LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message).at_column(column, name));
        return Outcome::Refused;
    }
    let mut refused = false;
    // A row of valid UTF-8 under 4 GiB (checked once, as a whole) is lent: its bytes become the
    // record's text and its fields, cut at ASCII commas, spans of it, so nothing is copied.
    let lend = u32::try_from(row.as_bytes().len()).is_ok()
        && match row.take_text(std::mem::take(&mut record.text)) {
            Some(text) => {
                record.text = text;
                true
            }
            None => false,
        };
    // The fields refused already (not UTF-8): not reported again as missing by the parse.
    let mut refused_fields = [false; CdrField::ALL.len()];
    for (field, col) in CdrField::ALL.into_iter().zip(layout.cols) {
        let Some(col) = col else { continue };
        places[field.index()] = Place {
            line,
            column: Some(col),
            key: None,
        };
        let pushed = if lend {
            let (start, end) = row.span(col - 1).unwrap_or_default();
            record.raw_text_span(field, start, end)
        } else {
            match std::str::from_utf8(row.get(col - 1).unwrap_or_default()) {
                Ok(text) => record.push_raw_text(field, text.trim_ascii()),
                Err(_) => Err((IssueKind::InvalidValue, "not valid utf-8".to_owned())),
            }
        };
        if let Err((kind, message)) = pushed {
            refused = true;
            if let Some(r) = refused_fields.get_mut(field.index()) {
                *r = true;
            }
            issues.push(field_issue_at(record, places, Severity::Error, field, kind, message));
        }
    }
    if lend {
        record.plain = row.is_plain();
        std::mem::swap(&mut record.row, row);
        record.in_row = true;
    } else {
        for &(col, name) in &layout.others {
            // Columns the rating does not use are kept as sent; bytes that are not UTF-8 read
            // as U+FFFD rather than refuse a record for a column nobody reads.
            let text = String::from_utf8_lossy(row.get(col).unwrap_or_default());
            if let Err((kind, message)) = record.push_other(name, &text) {
                refused = true;
                let column_name = layout.names.get(name as usize).cloned().unwrap_or_default();
                issues.push(LoadIssue::new(Severity::Error, line, kind, message).at_column(col + 1, column_name));
            }
        }
    }
    let mut pending = Vec::new();
    let ok = record.parse_fields(|field, e| pending.push((field, e)));
    for (field, (kind, message)) in pending {
        if !refused_fields.get(field.index()).copied().unwrap_or(false) {
            issues.push(field_issue_at(record, places, Severity::Error, field, kind, message));
        }
    }
    Outcome::Parsed { valid: ok && !refused }
}

/// The record in `reader.record` was made ([`make_record`]): notes its issues, and unless refused
/// handles duplicates and passes it on.
fn deliver(
    reader: &mut CdrReader,
    outcome: Outcome,
    issues: &mut Vec<LoadIssue>,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
) -> Result<()> {
    match outcome {
        Outcome::Refused => {
            for issue in issues.drain(..) {
                reader.issue(issue);
            }
            reader.diagnostics.records_read += 1;
            reader.diagnostics.records_rejected += 1;
            Ok(())
        }
        Outcome::Parsed { valid } => {
            for issue in issues.drain(..) {
                reader.issue(issue);
            }
            reader.accept(valid, on_record)
        }
    }
}

/// The CSV parser failed: its located error is a rejected record, anything else an error.
fn rows_failed(reader: &mut CdrReader, e: csv::Error) -> Result<()> {
    match csv_error(SOURCE, e) {
        Error::Rejected { issues, .. } => {
            for issue in issues {
                reader.reject(issue);
            }
            Ok(())
        }
        other => Err(other),
    }
}

pub(super) fn read_csv<R: Read>(
    reader: &mut CdrReader,
    input: R,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
    threads: usize,
) -> Result<()> {
    let index = reader.input;
    if threads < 2 {
        let mut input = Unpiped::new(input, PART_BYTES);
        let layout = read_layout(index, |row| input.next_row(row))?;
        layout.name(&mut reader.record);
        let header_len = layout.header.len();
        let mut row = Row::default();
        let mut issues = Vec::new();
        loop {
            let at = match input.next_row(&mut row) {
                Ok(Some(at)) => at,
                Ok(None) => return Ok(()),
                Err(e) => return rows_failed(reader, csv::Error::from(e)),
            };
            let place = RowPlace {
                line: at.line,
                cut: row.len() < header_len && at.ends_input,
            };
            let outcome = make_record(
                &layout,
                &mut row,
                place,
                &mut reader.record,
                &mut reader.places,
                &mut issues,
            );
            deliver(reader, outcome, &mut issues, on_record)?;
        }
    }
    read_parallel(reader, input, on_record, threads - 1, PART_BYTES)
}

/// The layout of an input, from its first row, read by `next_row`.
fn read_layout(index: usize, next_row: impl FnOnce(&mut Row) -> std::io::Result<Option<RowAt>>) -> Result<Layout> {
    let mut header = Row::default();
    match next_row(&mut header) {
        Ok(Some(_)) => Layout::new(header, index),
        Ok(None) => Err(header_error(SOURCE, "empty file: no header row".into())),
        Err(e) => Err(csv_error(SOURCE, csv::Error::from(e))),
    }
    .map_err(|e| in_input(e, index))
}

// ---- the workers ----

/// A record made by a worker, with where its fields are, the issues found making it and what
/// they mean for it.
struct Made {
    record: CallRecord,
    places: [Place; 11],
    issues: Vec<LoadIssue>,
    outcome: Outcome,
}

/// The records a worker made of one part, handed over together.
#[derive(Default)]
struct Batch {
    made: Vec<Made>,
    /// Records made, from the start of `made`.
    len: usize,
}

/// What a worker keeps from part to part: the row being read.
#[derive(Default)]
struct Scratch {
    row: Row,
}

/// A worker's work: splits a part into rows and makes them records, in one batch (with their
/// fingerprints when `fingerprints`, to spare the reading thread's deduplicator the work).
fn make_records(layout: &Layout, fingerprints: bool, part: &mut Part<'_>, scratch: &mut Scratch, batch: &mut Batch) {
    let header_len = layout.header.len();
    batch.len = 0;
    while let Some(at) = part.next_row(&mut scratch.row) {
        if batch.made.len() == batch.len {
            // Without the names of the other columns: they stay with the reader's record.
            batch.made.push(Made {
                record: CallRecord::default(),
                places: [Place::default(); 11],
                issues: Vec::new(),
                outcome: Outcome::default(),
            });
        }
        let Some(made) = batch.made.get_mut(batch.len) else {
            break;
        };
        let place = RowPlace {
            line: at.line,
            // Only the input's last part can end mid-row: the others end with a line break.
            cut: scratch.row.len() < header_len && at.ends_input && part.is_last(),
        };
        made.issues.clear();
        made.outcome = make_record(
            layout,
            &mut scratch.row,
            place,
            &mut made.record,
            &mut made.places,
            &mut made.issues,
        );
        if fingerprints && matches!(made.outcome, Outcome::Parsed { valid: true }) {
            made.record.fingerprint = Some(made.record.content_fingerprint());
        }
        batch.len += 1;
    }
}

/// Records whose texts the reading thread reads ahead of taking them (see
/// [`CallRecord::touch`]): made on a worker thread, they are not in this one's cache.
const TOUCHED_AHEAD: usize = 32;

/// Reads the input with `workers` worker threads making the records (see the module's doc), in
/// parts of at least `part_bytes`.
fn read_parallel<R: Read>(
    reader: &mut CdrReader,
    input: R,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
    workers: usize,
    part_bytes: usize,
) -> Result<()> {
    let index = reader.input;
    let mut head = Unpiped::new(input, part_bytes);
    let layout = read_layout(index, |row| head.next_row(row))?;
    layout.name(&mut reader.record);
    let fingerprints = reader.fingerprints();
    let ended = make_in_parts(
        &mut head.into_parts(),
        workers.max(1),
        |part, scratch, batch| make_records(&layout, fingerprints, part, scratch, batch),
        |batch: &mut Batch| {
            let made = batch.made.get_mut(..batch.len).unwrap_or_default();
            for run in made.chunks_mut(TOUCHED_AHEAD) {
                std::hint::black_box(run.iter().fold(0, |seen, made| seen ^ made.record.touch()));
                for made in run {
                    take_made(reader, made, on_record)?;
                }
            }
            Ok(())
        },
    )?;
    match ended {
        Some(e) => rows_failed(reader, csv::Error::from(e)),
        None => Ok(()),
    }
}

/// Gives a record a worker made to `on_record` (through the reader's own record, which keeps
/// the names of the other columns).
fn take_made(
    reader: &mut CdrReader,
    made: &mut Made,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
) -> Result<()> {
    std::mem::swap(&mut made.record, &mut reader.record);
    // The names of the other columns stay with the reader's record: one copy, not
    // one a record in flight.
    std::mem::swap(&mut made.record.names, &mut reader.record.names);
    std::mem::swap(&mut made.record.row_others, &mut reader.record.row_others);
    // The worker located the issues of the record's values; what is left to locate
    // here is its `Report ID` (a duplicate's), so that place alone is copied.
    let id = CdrField::ReportId.index();
    if let (Some(to), Some(&from)) = (reader.places.get_mut(id), made.places.get(id)) {
        *to = from;
    }
    deliver(reader, made.outcome, &mut made.issues, on_record)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use proptest::prelude::*;

    use super::*;
    use crate::rating::record::CdrReadOptions;

    /// Each record read (with its origin) and how the read ended, on one thread, or on
    /// `workers` workers in parts of `part_bytes` when `Some`.
    fn read(input: &[u8], parallel: Option<(usize, usize)>) -> (Vec<(CallRecord, String)>, String) {
        let options = CdrReadOptions {
            mode: crate::LoadMode::Lenient,
            ..CdrReadOptions::default()
        };
        let mut reader = CdrReader::new(options);
        let mut records = Vec::new();
        let mut on_record = |r: &CallRecord| {
            records.push((r.clone(), r.origin().to_string()));
            Ok(())
        };
        let read = match parallel {
            None => read_csv(&mut reader, input, &mut on_record, 1),
            Some((workers, part_bytes)) => read_parallel(&mut reader, input, &mut on_record, workers, part_bytes),
        };
        let end = match read {
            Err(e) => format!("read error: {e}"),
            Ok(()) => match reader.finish() {
                Ok(diagnostics) => format!("{diagnostics:?}"),
                Err(e) => format!("finish error: {e}"),
            },
        };
        (records, end)
    }

    /// A field: plain, quoted with a comma, a line break, a doubled quote, or a quote as text.
    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z0-9 ]{0,6}",
            Just("\"a,b\"".to_owned()),
            Just("\"x\ny\"".to_owned()),
            Just("\"say \"\"hi\"\"\"".to_owned()),
            Just("a\"b".to_owned()),
        ]
    }

    /// A row of UTF-8 is lent as the record's text: its known fields are trimmed spans of it and
    /// its other columns read in place; a row that is not UTF-8 is copied field by field, an other
    /// column read with U+FFFD, a known field refused where it is. A row read the `csv` crate's
    /// way (it has quotes) is lent too, but its texts are not known to be plain.
    #[test]
    fn lent_and_copied_rows_give_the_same_values() -> Result<()> {
        let mut input = b"Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID,Note\n".to_vec();
        input.extend_from_slice(
            b" r1 ,2024-05-03T10:30:00Z, 7 ,ORIGINATING,SIP_NATIONAL,true,org-1,caf\xc3\xa9 au lait\n",
        );
        input.extend_from_slice(b"r2,2024-05-03T10:30:00Z,8,ORIGINATING,SIP_NATIONAL,true, org-2,caf\xe9\n");
        input.extend_from_slice(b"r\xff3,2024-05-03T10:30:00Z,9,ORIGINATING,SIP_NATIONAL,true,org-3,x\n");
        input.extend_from_slice(b"r4,2024-05-03T10:30:00Z,10,ORIGINATING,SIP_NATIONAL,true,org-4,\"a,b\"\n");
        for parallel in [None, Some((2, 16))] {
            let (records, end) = read(&input, parallel);
            let values: Vec<_> = records
                .iter()
                .map(|(r, _)| (r.report_id(), r.duration(), r.org_uuid(), r.other("Note"), r.plain))
                .collect();
            assert_eq!(
                values,
                [
                    // Only a row without quotes, lent, has texts known to need no quotes.
                    ("r1", 7, "org-1", Some("caf\u{e9} au lait"), true),
                    ("r2", 8, "org-2", Some("caf\u{fffd}"), false),
                    ("r4", 10, "org-4", Some("a,b"), false),
                ]
            );
            assert!(end.contains("records_rejected: 1"), "{end}");
            // One error for the field, not also "required".
            assert!(
                end.contains(r#"errors: 1,"#)
                    && end.contains(r#"line: 4, column: Some(1), field: Some("Report ID")"#)
                    && end.contains(r#"message: "not valid utf-8""#),
                "{end}"
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Parts as small as a few bytes, so that rows, quoted fields and line breaks are cut
        /// everywhere: the same records, places and issues as on one thread.
        #[test]
        fn parts_of_any_size_read_as_one_thread(
            rows in prop::collection::vec((prop::collection::vec(field(), 3), any::<bool>()), 0..24),
            workers in 1usize..5,
            part_bytes in 1usize..200,
            last_newline in any::<bool>(),
        ) {
            let mut input = String::from("Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID,A,B,C\n");
            for (i, (fields, crlf)) in rows.iter().enumerate() {
                let note = fields.join(",");
                input.push_str(&format!("r{i},2024-05-03T10:30:00Z,{},ORIGINATING,SIP_NATIONAL,true,org-1,{note}", i * 7));
                if i + 1 < rows.len() || last_newline {
                    input.push_str(if *crlf { "\r\n" } else { "\n" });
                }
            }
            let one = read(input.as_bytes(), None);
            let many = read(input.as_bytes(), Some((workers, part_bytes)));
            prop_assert!(one.1.starts_with("CdrDiagnostics"), "{}", one.1);
            prop_assert_eq!(one, many);
        }
    }
}
