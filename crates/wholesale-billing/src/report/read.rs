//! Reading vendor usage reports (Webex billing report CSVs) tolerantly (SPEC.md §4).

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use crate::csvutil::{csv_error, field, find_columns_by, header_error, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::ledger::{Diagnostics, LoadMode, SubscriberType};
use crate::quantity::parse_quantity;
use crate::report::{Column, NO_END, NO_ORIGIN, NO_START, ReportLevel, RowData, UsageReport, pack_origin};
use crate::strings::{Interner, Sym};
use crate::time::parse_report_timestamp;

const SOURCE: &str = "usage report";

/// How to read a vendor report.
///
/// ```
/// use wholesale_billing::{LoadMode, ReadOptions, ReportLevel};
/// let options = ReadOptions { level: Some(ReportLevel::User), mode: LoadMode::Lenient };
/// assert_eq!(ReadOptions::default().level, None);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOptions {
    /// The expected level; `None`: from the header (`SUBSCRIBER_ID` → USER, `CUSTOMER_ORG_ID` →
    /// CUSTOMER, else PARTNER).
    pub level: Option<ReportLevel>,
    /// Strict (any bad row fails the read, the default) or lenient (bad rows skipped and reported).
    pub mode: LoadMode,
}

/// The number of report columns.
const COLS: usize = Column::ALL.len();

impl UsageReport {
    /// Reads a vendor usage report CSV: columns by name, case-insensitive, in the `UPPER_SNAKE` or
    /// the human form ("Partner Name", "Consumption Start": a [`Column`]'s name or aliases, see
    /// [`Column::from_header`]); BOM tolerated; extra columns ignored;
    /// missing optional columns read as empty. `SKU` and `QUANTITY` are required, plus
    /// `CUSTOMER_ORG_ID` (CUSTOMER, USER) and `SUBSCRIBER_ID` (USER). Dates without an offset are
    /// read as UTC. Rows keep file order.
    ///
    /// A row with fewer fields than the header (up to its last named column) is a bad row, located
    /// at its first missing column: it is what a file cut short by an interrupted write ends with.
    ///
    /// # Errors
    /// [`Error::Io`] when reading fails; [`Error::Rejected`] when the header lacks a required column
    /// and, in strict mode, when any row is bad (each located by line, column and field).
    ///
    /// ```
    /// use wholesale_billing::{LoadMode, ReadOptions, ReportLevel, UsageReport};
    /// let csv = "\u{feff}Partner Name,Customer Org ID,Type,Subscriber ID,SKU,Consumption Start,Consumption End,Quantity,Extra\n\
    ///            Acme,c1,User,s1,A-W-WXC-CALL-U,2024-05-01T00:00:00.000Z,2024-05-31T23:59:59.999Z,31,x\n\
    ///            Acme,c1,User,s2,A-W-WXC-CALL-U,2024-05-01,2024-05-02,one,x\n";
    /// let err = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(),
    ///     "line 3, column 8 (QUANTITY): error: invalid quantity \"one\": not a plain decimal number");
    /// let lenient = ReadOptions { mode: LoadMode::Lenient, ..ReadOptions::default() };
    /// let (report, diagnostics) = UsageReport::read_csv(csv.as_bytes(), &lenient)?;
    /// assert_eq!(report.level(), ReportLevel::User);
    /// assert_eq!(report.len(), 1);
    /// assert_eq!(diagnostics.error_count(), 1);
    ///
    /// // A file cut mid-row by an interrupted write: its last row is short and unterminated.
    /// let cut = "SKU,CUSTOMER_ORG_ID,QUANTITY,LOCATION_ID\nA-W-WXC-CALL-U,c1,31.0000,l1\nA-W-WXC-CALL-U,c2,3";
    /// let err = UsageReport::read_csv(cut.as_bytes(), &ReadOptions::default()).unwrap_err();
    /// assert_eq!(err.issues()[0].to_string(),
    ///     "line 3, column 4 (LOCATION_ID): error: the file ends mid-row: its last row has 3 of the \
    ///      header's 4 fields (a file cut short)");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn read_csv(reader: impl Read, options: &ReadOptions) -> Result<(UsageReport, Diagnostics)> {
        let mut record = csv::ByteRecord::new();
        let last_byte = Rc::new(Cell::new(None));
        let reader = LastByte {
            inner: reader,
            last: Rc::clone(&last_byte),
        };
        let mut rdr = open_with_header(reader, &mut record, SOURCE)?;
        // Rows must reach the header's last named column; trailing unnamed header columns may be
        // left out.
        let header_fields = record
            .iter()
            .rposition(|name| !name.trim_ascii().is_empty())
            .map_or(0, |i| i + 1);
        let header = record.clone();
        let (cols, level, required) = layout(&record, options)?;
        let mut strings = Interner::new();
        let mut rows = Vec::new();
        let mut diagnostics = Diagnostics::default();
        // The issue of the last row read, when that row was short.
        let mut short_last_row = None;
        while rdr.read_byte_record(&mut record).map_err(|e| csv_error(SOURCE, e))? {
            diagnostics.rows_read += 1;
            let line = record_line(&mut rdr, &record);
            short_last_row = None;
            if record.len() < header_fields {
                let column = record.len() + 1;
                short_last_row = Some(diagnostics.issues.len());
                diagnostics.issues.push(
                    LoadIssue::new(
                        Severity::Error,
                        line,
                        IssueKind::MalformedCsv,
                        format!("the row has {} of the header's {header_fields} fields", record.len()),
                    )
                    .at_column(column, column_name(&header, &cols, column)),
                );
                continue;
            }
            accept_row(
                &record,
                line,
                &cols,
                &required,
                &mut strings,
                &mut rows,
                &mut diagnostics,
            )?;
        }
        if let Some(index) = short_last_row
            && !matches!(last_byte.get(), Some(b'\n' | b'\r'))
            && let Some(issue) = diagnostics.issues.get_mut(index)
        {
            let fields = issue.column.map_or(0, |c| c - 1);
            issue.message = format!(
                "the file ends mid-row: its last row has {fields} of the header's {header_fields} fields (a file cut short)"
            );
        }
        finish(level, strings, rows, diagnostics, options)
    }

    /// Reads a usage report from Arrow record batches of `schema` (a Parquet file's, a table's):
    /// columns by name as [`UsageReport::read_csv`] finds them; each value read as that CSV's
    /// field would be (text; `QUANTITY` a decimal, whole number or decimal text, never a float;
    /// dates as timestamps, with a time zone or read as UTC, or text). Issues are located by the
    /// row's 1-based number among all the batches (`line`) and its column's 1-based position.
    ///
    /// # Errors
    /// As [`UsageReport::read_csv`]; [`Error::Rejected`] at line 0 when a known column has a type
    /// that cannot be read (a float `QUANTITY`); [`Error::Io`] when a batch cannot be read.
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, ReportLevel, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,CONSUMPTION_START_DATE,QUANTITY\nc1,s1,A,2024-05-01T00:00:00Z,1.625\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let (back, _) = UsageReport::read_arrow(&report.schema(), report.record_batches().map(|b| Ok(b.unwrap())), &ReadOptions::default())?;
    /// assert_eq!(back.level(), ReportLevel::User);
    /// let (mut a, mut b) = (Vec::new(), Vec::new());
    /// report.write_csv(&mut a)?;
    /// back.write_csv(&mut b)?;
    /// assert_eq!(a, b);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[cfg(feature = "arrow")]
    pub fn read_arrow<I>(
        schema: &arrow_schema::Schema,
        batches: I,
        options: &ReadOptions,
    ) -> Result<(UsageReport, Diagnostics)>
    where
        I: IntoIterator<Item = std::result::Result<arrow_array::RecordBatch, arrow_schema::ArrowError>>,
    {
        use crate::arrow_text::{TextColumn, arrow_error};
        let header: csv::ByteRecord = schema.fields().iter().map(|f| f.name().as_bytes()).collect();
        let (cols, level, required) = layout(&header, options)?;
        let refused: Vec<LoadIssue> = Column::ALL
            .iter()
            .filter_map(|&col| {
                let c = cols[col.index()]?;
                let field = schema.fields().get(c - 1)?;
                (!TextColumn::accepts(field.data_type())).then(|| {
                    LoadIssue::new(Severity::Error, 0, IssueKind::InvalidValue, TextColumn::refusal(field))
                        .at_column(c, col.name())
                })
            })
            .collect();
        if !refused.is_empty() {
            return Err(Error::Rejected {
                source_name: SOURCE,
                issues: refused,
            });
        }
        let mut strings = Interner::new();
        let mut rows = Vec::new();
        let mut diagnostics = Diagnostics::default();
        let mut record = csv::ByteRecord::new();
        let mut line = 0;
        for batch in batches {
            let batch = batch.map_err(|e| arrow_error("reading the usage report's arrow record batches", e))?;
            let texts: Vec<Option<TextColumn<'_>>> = (0..header.len())
                .map(|i| {
                    let known = cols.contains(&Some(i + 1));
                    known.then(|| TextColumn::new(batch.column(i).as_ref()))
                })
                .collect();
            for r in 0..batch.num_rows() {
                line += 1;
                diagnostics.rows_read += 1;
                record.clear();
                for text in &texts {
                    record.push_field(text.as_ref().map_or("", |t| t.get(r)).as_bytes());
                }
                accept_row(
                    &record,
                    line,
                    &cols,
                    &required,
                    &mut strings,
                    &mut rows,
                    &mut diagnostics,
                )?;
            }
        }
        finish(level, strings, rows, diagnostics, options)
    }
}

/// Reads one row into `rows`, or its problem into `diagnostics`.
fn accept_row(
    record: &csv::ByteRecord,
    line: u64,
    cols: &[Option<usize>; COLS],
    required: &[Column],
    strings: &mut Interner,
    rows: &mut Vec<RowData>,
    diagnostics: &mut Diagnostics,
) -> Result<()> {
    match read_row(record, cols, required, strings) {
        Ok(row) => rows.push(RowData {
            origin: pack_origin(0, line),
            ..row
        }),
        Err(RowError::Bad(col, kind, message)) => {
            let mut issue = LoadIssue::new(Severity::Error, line, kind, message);
            if let Some(c) = cols[col.index()] {
                issue = issue.at_column(c, col.name());
            } else {
                issue.field = Some(col.name().to_owned());
            }
            diagnostics.issues.push(issue);
        }
        Err(RowError::Fatal(e)) => return Err(e),
    }
    Ok(())
}

/// The report read, or every issue of a strict read that had any.
fn finish(
    level: ReportLevel,
    strings: Interner,
    rows: Vec<RowData>,
    mut diagnostics: Diagnostics,
    options: &ReadOptions,
) -> Result<(UsageReport, Diagnostics)> {
    diagnostics.rows_accepted = rows.len() as u64;
    if options.mode == LoadMode::Strict && !diagnostics.issues.is_empty() {
        return Err(Error::Rejected {
            source_name: SOURCE,
            issues: diagnostics.issues,
        });
    }
    let report = UsageReport {
        level,
        period: None,
        strings: std::sync::Arc::new(strings.freeze()),
        rows,
        files: 1,
    };
    Ok((report, diagnostics))
}

/// The columns of a report's header, its level and the columns it requires.
///
/// # Errors
/// [`Error::Rejected`] when the header lacks a required column or names one twice.
fn layout(
    record: &csv::ByteRecord,
    options: &ReadOptions,
) -> Result<([Option<usize>; COLS], ReportLevel, Vec<Column>)> {
    let cols: [Option<usize>; COLS] = find_columns_by(
        record,
        |name| Column::from_normalized_header(name).map(Column::index),
        |i| Column::ALL[i].name(),
        &[],
        SOURCE,
    )?;
    let level = options
        .level
        .unwrap_or(if cols[Column::SubscriberId.index()].is_some() {
            ReportLevel::User
        } else if cols[Column::CustomerOrgId.index()].is_some() {
            ReportLevel::Customer
        } else {
            ReportLevel::Partner
        });
    let mut required = vec![Column::Sku, Column::Quantity];
    if level >= ReportLevel::Customer {
        required.push(Column::CustomerOrgId);
    }
    if level == ReportLevel::User {
        required.push(Column::SubscriberId);
    }
    let missing: Vec<&str> = required
        .iter()
        .filter(|c| cols[c.index()].is_none())
        .map(|c| c.name())
        .collect();
    if !missing.is_empty() {
        return Err(header_error(
            SOURCE,
            format!("a {level} report needs column(s): {}", missing.join(", ")),
        ));
    }
    Ok((cols, level, required))
}

/// The name of a column (1-based) for an issue: the canonical name of a known column, else the
/// header's own text.
fn column_name(header: &csv::ByteRecord, cols: &[Option<usize>; COLS], column: usize) -> String {
    match cols.iter().position(|c| *c == Some(column)) {
        Some(known) => Column::ALL[known].name().to_owned(),
        None => String::from_utf8_lossy(header.get(column - 1).unwrap_or_default().trim_ascii()).into_owned(),
    }
}

/// A reader that remembers the last byte it passed on, to tell a file that ends mid-row.
struct LastByte<R> {
    inner: R,
    last: Rc<Cell<Option<u8>>>,
}

impl<R: Read> Read for LastByte<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(&b) = buf[..n].last() {
            self.last.set(Some(b));
        }
        Ok(n)
    }
}

enum RowError {
    Bad(Column, IssueKind, String),
    Fatal(Error),
}

impl From<Error> for RowError {
    fn from(e: Error) -> Self {
        RowError::Fatal(e)
    }
}

fn read_row(
    record: &csv::ByteRecord,
    cols: &[Option<usize>; COLS],
    required: &[Column],
    strings: &mut Interner,
) -> std::result::Result<RowData, RowError> {
    let raw = |c: Column| field(record, cols[c.index()].map(|i| i - 1));
    let mut syms = [Sym::EMPTY; COLS];
    for col in Column::ALL {
        let bytes = raw(col);
        let text = std::str::from_utf8(bytes)
            .map_err(|_| RowError::Bad(col, IssueKind::InvalidValue, "not valid utf-8".into()))?;
        if text.is_empty() && required.contains(&col) {
            let message = format!("{} is required", col.name());
            return Err(RowError::Bad(col, IssueKind::MissingField, message));
        }
        if !matches!(
            col,
            Column::Quantity | Column::ConsumptionStartDate | Column::ConsumptionEndDate | Column::Type
        ) {
            syms[col.index()] = strings.intern(text)?;
        }
    }
    let quantity = parse_quantity(raw(Column::Quantity)).map_err(|reason| {
        let text = String::from_utf8_lossy(raw(Column::Quantity));
        RowError::Bad(
            Column::Quantity,
            IssueKind::InvalidValue,
            format!("invalid quantity {}: {reason}", Quoted(&text)),
        )
    })?;
    if quantity.is_negative() {
        return Err(RowError::Bad(
            Column::Quantity,
            IssueKind::InvalidValue,
            format!("quantity {quantity} is negative: usage is never below zero"),
        ));
    }
    let date = |col: Column, none: i64| -> std::result::Result<i64, RowError> {
        let b = raw(col);
        if b.is_empty() {
            return Ok(none);
        }
        parse_report_timestamp(b).map_err(|e| {
            let text = String::from_utf8_lossy(b);
            RowError::Bad(
                col,
                IssueKind::InvalidValue,
                format!("invalid date {}: {}", Quoted(&text), e.reason()),
            )
        })
    };
    let start = date(Column::ConsumptionStartDate, NO_START)?;
    let end = date(Column::ConsumptionEndDate, NO_END)?;
    let subscriber_type = match raw(Column::Type) {
        b"" => None,
        b => Some(SubscriberType::from_name_bytes(b).ok_or_else(|| {
            let text = String::from_utf8_lossy(b);
            RowError::Bad(
                Column::Type,
                IssueKind::InvalidValue,
                format!("type {} is not USER or WORKSPACE", Quoted(&text)),
            )
        })?),
    };
    let s = |c: Column| syms[c.index()];
    Ok(RowData {
        partner_name: s(Column::PartnerName),
        partner_org_id: s(Column::PartnerOrgId),
        subscription_id: s(Column::SubscriptionId),
        customer_org_id: s(Column::CustomerOrgId),
        customer_external_id: s(Column::CustomerExternalId),
        subscriber_id: s(Column::SubscriberId),
        user_id: s(Column::UserId),
        workspace_id: s(Column::WorkspaceId),
        service_name: s(Column::ServiceName),
        sku: s(Column::Sku),
        description: s(Column::Description),
        location_id: s(Column::LocationId),
        license_id: s(Column::LicenseId),
        subscriber_type,
        start,
        end,
        quantity,
        origin: NO_ORIGIN,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const HEADER: &str = "PARTNER_NAME,CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY,LOCATION_ID,LICENSE_ID\n";
    const ROW1: &str = "Acme,c1,s1,A-W-WXC-CALL-U,31.0000,l1,lic1\n";
    const ROW2: &str = "Acme,c1,s2,A-W-WXE-CALL-U,2.5000,l1,lic2\n";

    fn read(text: &str, mode: LoadMode) -> Result<(UsageReport, Diagnostics)> {
        let options = ReadOptions { level: None, mode };
        UsageReport::read_csv(text.as_bytes(), &options)
    }

    #[test]
    fn a_file_cut_mid_row_is_a_located_error() {
        // Cut inside the QUANTITY field of the last row, as a killed writer leaves it.
        let cut = format!("{HEADER}{ROW1}Acme,c1,s2,A-W-WXE-CALL-U,2.5");
        let err = read(&cut, LoadMode::Strict).unwrap_err();
        let issues = err.issues();
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].line, 3);
        assert_eq!(issues[0].column, Some(6));
        assert_eq!(issues[0].field.as_deref(), Some("LOCATION_ID"));
        assert_eq!(issues[0].kind, IssueKind::MalformedCsv);
        assert_eq!(
            issues[0].message,
            "the file ends mid-row: its last row has 5 of the header's 7 fields (a file cut short)"
        );
        // Lenient: the cut row is reported and skipped, the whole rows kept.
        let (report, diagnostics) = read(&cut, LoadMode::Lenient).unwrap();
        assert_eq!(report.len(), 1);
        assert_eq!(diagnostics.error_count(), 1);
    }

    #[test]
    fn every_cut_before_the_last_field_is_refused() {
        let whole = format!("{HEADER}{ROW1}{ROW2}");
        for cut in HEADER.len() + 1..whole.len() {
            let partial_row = whole[..cut].rsplit('\n').next().unwrap_or_default();
            // A cut at a row boundary leaves whole rows, and one inside a row's last field leaves
            // as many fields as the header: nothing to tell there (the atomic writers of the
            // command line and the bindings see that such a file never takes the target's name).
            if partial_row.is_empty() || partial_row.matches(',').count() == 6 {
                continue;
            }
            let err = read(&whole[..cut], LoadMode::Strict);
            assert!(err.is_err(), "cut at byte {cut} was accepted: {:?}", &whole[..cut]);
        }
        assert_eq!(read(&whole, LoadMode::Strict).unwrap().0.len(), 2);
    }

    #[test]
    fn a_short_row_inside_the_file_is_located_too() {
        let text = format!("{HEADER}Acme,c1,s1,A-W-WXC-CALL-U\n{ROW2}");
        let err = read(&text, LoadMode::Strict).unwrap_err();
        assert_eq!(
            err.issues()[0].to_string(),
            "line 2, column 5 (QUANTITY): error: the row has 4 of the header's 7 fields"
        );
    }

    #[test]
    fn missing_header_columns_and_unnamed_trailing_columns_are_still_tolerated() {
        // No LOCATION_ID or LICENSE_ID column at all: rows as long as the header are whole.
        let text = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,s1,A-W-WXC-CALL-U,31\n";
        let (report, _) = read(text, LoadMode::Strict).unwrap();
        assert_eq!(report.len(), 1);
        // A header with trailing empty names (a spreadsheet export): rows may stop before them.
        let text = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY,,\nc1,s1,A-W-WXC-CALL-U,31\n";
        let (report, _) = read(text, LoadMode::Strict).unwrap();
        assert_eq!(report.len(), 1);
        // A whole last row without a final line break is whole.
        let text = format!("{HEADER}{}", ROW1.trim_end());
        assert_eq!(read(&text, LoadMode::Strict).unwrap().0.len(), 1);
        // An unknown column's own header text names it.
        let text = "SKU,QUANTITY,Notes\nA-W-WXC-CALL-U,3\n";
        let err = read(text, LoadMode::Strict).unwrap_err();
        assert_eq!(err.issues()[0].field.as_deref(), Some("Notes"));
    }
}
