//! The "Detailed Call History" CSV report, read row by row into one reused [`CallRecord`].

use std::io::Read;

use crate::csvutil::{csv_error, find_columns_at, is_cut_row, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};

use super::call_record::{CallRecord, RecordOrigin};
use super::field::CdrField;
use super::reader::{CdrReader, Place, SOURCE};

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
fn header_name(header: &csv::ByteRecord, index: usize) -> String {
    let name = String::from_utf8_lossy(header.get(index).unwrap_or_default());
    name.trim_start_matches('\u{feff}').trim().to_owned()
}

pub(super) fn read_csv<R: Read>(
    reader: &mut CdrReader,
    input: R,
    on_record: &mut dyn FnMut(&CallRecord) -> Result<()>,
) -> Result<()> {
    let index = reader.input;
    let mut row = csv::ByteRecord::new();
    let mut rdr = open_with_header(input, &mut row, SOURCE).map_err(|e| in_input(e, index))?;
    let required = CdrField::REQUIRED.map(CdrField::index);
    let cols: [Option<usize>; 11] = find_columns_at(
        row.iter(),
        1,
        |name| CdrField::from_normalized(name).map(CdrField::index),
        |i| CdrField::ALL.get(i).map_or("", |f| f.name()),
        &required,
        SOURCE,
    )
    .map_err(|e| in_input(e, index))?;
    let header = row.clone();
    let header_len = header.len();
    // The other columns: (0-based column, index of its name).
    let mut others = Vec::new();
    reader.record.names.clear();
    for i in 0..header_len {
        if !cols.contains(&Some(i + 1)) {
            others.push((i, reader.record.names.len() as u32));
            reader.record.names.push(header_name(&header, i));
        }
    }
    loop {
        match rdr.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return match csv_error(SOURCE, e) {
                    Error::Rejected { issues, .. } => {
                        for issue in issues {
                            reader.reject(issue);
                        }
                        Ok(())
                    }
                    other => Err(other),
                };
            }
        }
        let line = record_line(&mut rdr, &row);
        reader.start_record(RecordOrigin {
            input: index,
            line,
            item: None,
        });
        if row.len() != header_len {
            let column = row.len().min(header_len) + 1;
            let message = if is_cut_row(&rdr, &row, header_len) {
                format!(
                    "the file ends mid-row: its last row has {} of the header's {header_len} fields (a file cut short)",
                    row.len()
                )
            } else {
                format!("the row has {} fields, the header {header_len}", row.len())
            };
            let name = match cols.iter().position(|c| *c == Some(column)) {
                Some(field) => CdrField::ALL.get(field).map_or("", |f| f.name()).to_owned(),
                None => header_name(&header, column - 1),
            };
            reader.reject(
                LoadIssue::new(Severity::Error, line, IssueKind::MalformedCsv, message).at_column(column, name),
            );
            continue;
        }
        let mut refused = false;
        for (field, col) in CdrField::ALL.into_iter().zip(cols) {
            let Some(col) = col else { continue };
            reader.places[field.index()] = Place {
                line,
                column: Some(col),
                key: None,
            };
            let bytes = row.get(col - 1).unwrap_or_default().trim_ascii();
            let pushed = match std::str::from_utf8(bytes) {
                Ok(text) => reader.record.push_raw_text(field, text),
                Err(_) => Err((IssueKind::InvalidValue, "not valid utf-8".to_owned())),
            };
            if let Err((kind, message)) = pushed {
                refused = true;
                let issue = reader.field_issue(Severity::Error, field, kind, message);
                reader.issue(issue);
            }
        }
        for &(col, name) in &others {
            // Columns the rating does not use are kept as sent; bytes that are not UTF-8 read as
            // U+FFFD rather than refuse a record for a column nobody reads.
            let text = String::from_utf8_lossy(row.get(col).unwrap_or_default());
            if let Err((kind, message)) = reader.record.push_other(name, &text) {
                refused = true;
                let column_name = reader.record.names.get(name as usize).cloned().unwrap_or_default();
                reader.issue(LoadIssue::new(Severity::Error, line, kind, message).at_column(col + 1, column_name));
            }
        }
        reader.finish_record(refused, on_record)?;
    }
    Ok(())
}
