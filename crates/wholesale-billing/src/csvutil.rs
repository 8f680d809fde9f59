//! Small shared pieces of the CSV readers: header normalisation, field access, fatal errors.

use crate::error::{Error, IssueKind, LoadIssue, Severity};

/// A header name in canonical form: BOM and surrounding space removed, lower case, every run of
/// characters other than letters and digits turned into one `_` (`"Consumption Start"` →
/// `consumption_start`, `"PARTNER_ORG_ID"` → `partner_org_id`).
pub(crate) fn normalize_header(name: &[u8]) -> String {
    let text = String::from_utf8_lossy(name);
    let text = text.trim_start_matches('\u{feff}').trim();
    let mut out = String::with_capacity(text.len());
    let mut pending_sep = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.extend(c.to_lowercase());
        } else {
            pending_sep = true;
        }
    }
    out
}

/// A flexible CSV reader (rows may have fewer or more fields than the header) with a 1 MiB
/// buffer, and its header row read into `record`.
///
/// # Errors
/// As [`csv_error`]; a rejection at line 1 when the input is empty.
pub(crate) fn open_with_header<R: std::io::Read>(
    reader: R,
    record: &mut csv::ByteRecord,
    source_name: &'static str,
) -> crate::Result<csv::Reader<R>> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(reader);
    if !rdr.read_byte_record(record).map_err(|e| csv_error(source_name, e))? {
        return Err(header_error(source_name, "empty file: no header row".into()));
    }
    Ok(rdr)
}

/// A field trimmed of ASCII white space; an absent field is empty.
#[inline]
pub(crate) fn field(record: &csv::ByteRecord, index: Option<usize>) -> &[u8] {
    match index.and_then(|i| record.get(i)) {
        Some(b) => b.trim_ascii(),
        None => b"",
    }
}

/// Turns a csv error into the crate's error: I/O stays I/O, anything else is a located
/// malformed-CSV rejection.
pub(crate) fn csv_error(source_name: &'static str, e: csv::Error) -> Error {
    let line = e.position().map_or(0, csv::Position::line);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io(format!("reading {source_name}"), io),
        other => Error::Rejected {
            source_name,
            issues: vec![LoadIssue::new(
                Severity::Error,
                line,
                IssueKind::MalformedCsv,
                format!("malformed csv: {}", describe_kind(&other)),
            )],
        },
    }
}

fn describe_kind(kind: &csv::ErrorKind) -> String {
    match kind {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid utf-8 in field {}", err.field() + 1),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("a row has {len} fields where {expected_len} were expected")
        }
        other => format!("{other:?}").to_lowercase(),
    }
}

/// A load that cannot start: the header is missing or lacks required columns.
pub(crate) fn header_error(source_name: &'static str, message: String) -> Error {
    Error::Rejected {
        source_name,
        issues: vec![LoadIssue::new(Severity::Error, 1, IssueKind::MalformedCsv, message)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_header(b"\xEF\xBB\xBFPARTNER_NAME"), "partner_name");
        assert_eq!(normalize_header(b"  Consumption Start "), "consumption_start");
        assert_eq!(normalize_header(b"Customer Org-ID"), "customer_org_id");
        assert_eq!(normalize_header(b"event_id"), "event_id");
        assert_eq!(normalize_header(b"__x__"), "x");
    }
}
