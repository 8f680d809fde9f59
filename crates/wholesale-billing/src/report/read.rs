//! Reading vendor usage reports (Webex billing report CSVs) tolerantly (SPEC.md §4).

use std::io::Read;

use crate::csvutil::{csv_error, field, find_columns_by, header_error, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Result, Severity};
use crate::ledger::{Diagnostics, LoadMode, SubscriberType};
use crate::quantity::parse_quantity;
use crate::report::{Column, NO_END, NO_START, ReportLevel, RowData, UsageReport};
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
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn read_csv(reader: impl Read, options: &ReadOptions) -> Result<(UsageReport, Diagnostics)> {
        let mut record = csv::ByteRecord::new();
        let mut rdr = open_with_header(reader, &mut record, SOURCE)?;
        let cols: [Option<usize>; COLS] = find_columns_by(
            &record,
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
        let mut strings = Interner::new();
        let mut rows = Vec::new();
        let mut diagnostics = Diagnostics::default();
        while rdr.read_byte_record(&mut record).map_err(|e| csv_error(SOURCE, e))? {
            diagnostics.rows_read += 1;
            let line = record_line(&mut rdr, &record);
            match read_row(&record, &cols, &required, &mut strings) {
                Ok(row) => rows.push(row),
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
        }
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
        };
        Ok((report, diagnostics))
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
            format!("invalid quantity {text:?}: {reason}"),
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
                format!("invalid date {text:?}: {}", e.reason()),
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
                format!("type {text:?} is not USER or WORKSPACE"),
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
    })
}
