//! Reading vendor usage reports (Webex billing report CSVs) tolerantly (SPEC.md §4).

use std::io::Read;

use crate::csvutil::{csv_error, field, find_columns, header_error, open_with_header, record_line};
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::ledger::{Diagnostics, LoadMode, SubscriberType};
use crate::quantity::parse_quantity;
use crate::report::{NO_END, NO_ORIGIN, NO_START, ReportLevel, RowData, UsageReport, pack_origin};
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

/// The columns a report can have; the index is the position in `COLUMNS`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    PartnerName,
    PartnerOrgId,
    SubscriptionId,
    CustomerOrgId,
    CustomerExternalId,
    Type,
    SubscriberId,
    UserId,
    WorkspaceId,
    ServiceName,
    Sku,
    Description,
    Start,
    End,
    Quantity,
    LocationId,
    LicenseId,
}

const COLS: usize = 17;

/// Canonical name and accepted aliases (normalised: lower case, `_` for separators).
const NAMES: [(Col, &str, &[&str]); COLS] = [
    (Col::PartnerName, "PARTNER_NAME", &["partner_name", "partner"]),
    (Col::PartnerOrgId, "PARTNER_ORG_ID", &["partner_org_id", "partner_id"]),
    (
        Col::SubscriptionId,
        "SUBSCRIPTION_ID",
        &["subscription_id", "subscription"],
    ),
    (
        Col::CustomerOrgId,
        "CUSTOMER_ORG_ID",
        &["customer_org_id", "customer_id"],
    ),
    (
        Col::CustomerExternalId,
        "CUSTOMER_EXTERNAL_ID",
        &["customer_external_id", "external_id"],
    ),
    (Col::Type, "TYPE", &["type", "subscriber_type"]),
    (Col::SubscriberId, "SUBSCRIBER_ID", &["subscriber_id", "subscriber"]),
    (Col::UserId, "USER_ID", &["user_id"]),
    (Col::WorkspaceId, "WORKSPACE_ID", &["workspace_id"]),
    (Col::ServiceName, "SERVICE_NAME", &["service_name", "service"]),
    (Col::Sku, "SKU", &["sku"]),
    (Col::Description, "DESCRIPTION", &["description"]),
    (
        Col::Start,
        "CONSUMPTION_START_DATE",
        &["consumption_start_date", "consumption_start", "consumption_start_time"],
    ),
    (
        Col::End,
        "CONSUMPTION_END_DATE",
        &["consumption_end_date", "consumption_end", "consumption_end_time"],
    ),
    (Col::Quantity, "QUANTITY", &["quantity"]),
    (Col::LocationId, "LOCATION_ID", &["location_id", "location"]),
    (Col::LicenseId, "LICENSE_ID", &["license_id", "license"]),
];

impl UsageReport {
    /// Reads a vendor usage report CSV: columns by name, case-insensitive, in the `UPPER_SNAKE` or
    /// the human form ("Partner Name", "Consumption Start"); BOM tolerated; extra columns ignored;
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
        let cols = find_columns(
            &record,
            &NAMES.map(|(_, canonical, aliases)| (canonical, aliases)),
            &[],
            SOURCE,
        )?;
        let level = options.level.unwrap_or(if cols[Col::SubscriberId as usize].is_some() {
            ReportLevel::User
        } else if cols[Col::CustomerOrgId as usize].is_some() {
            ReportLevel::Customer
        } else {
            ReportLevel::Partner
        });
        let mut required = vec![Col::Sku, Col::Quantity];
        if level >= ReportLevel::Customer {
            required.push(Col::CustomerOrgId);
        }
        if level == ReportLevel::User {
            required.push(Col::SubscriberId);
        }
        let missing: Vec<&str> = required
            .iter()
            .filter(|c| cols[**c as usize].is_none())
            .map(|c| NAMES[*c as usize].1)
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
                Ok(row) => rows.push(RowData {
                    origin: pack_origin(0, line),
                    ..row
                }),
                Err(RowError::Bad(col, kind, message)) => {
                    let mut issue = LoadIssue::new(Severity::Error, line, kind, message);
                    if let Some(c) = cols[col as usize] {
                        issue = issue.at_column(c, NAMES[col as usize].1);
                    } else {
                        issue.field = Some(NAMES[col as usize].1.to_owned());
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
            files: 1,
        };
        Ok((report, diagnostics))
    }
}

enum RowError {
    Bad(Col, IssueKind, String),
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
    required: &[Col],
    strings: &mut Interner,
) -> std::result::Result<RowData, RowError> {
    let raw = |c: Col| field(record, cols[c as usize].map(|i| i - 1));
    let mut syms = [Sym::EMPTY; COLS];
    for (col, _, _) in NAMES {
        let bytes = raw(col);
        let text = std::str::from_utf8(bytes)
            .map_err(|_| RowError::Bad(col, IssueKind::InvalidValue, "not valid utf-8".into()))?;
        if text.is_empty() && required.contains(&col) {
            let message = format!("{} is required", NAMES[col as usize].1);
            return Err(RowError::Bad(col, IssueKind::MissingField, message));
        }
        if !matches!(col, Col::Quantity | Col::Start | Col::End | Col::Type) {
            syms[col as usize] = strings.intern(text)?;
        }
    }
    let quantity = parse_quantity(raw(Col::Quantity)).map_err(|reason| {
        let text = String::from_utf8_lossy(raw(Col::Quantity));
        RowError::Bad(
            Col::Quantity,
            IssueKind::InvalidValue,
            format!("invalid quantity {}: {reason}", Quoted(&text)),
        )
    })?;
    if quantity.is_negative() {
        return Err(RowError::Bad(
            Col::Quantity,
            IssueKind::InvalidValue,
            format!("quantity {quantity} is negative: usage is never below zero"),
        ));
    }
    let date = |col: Col, none: i64| -> std::result::Result<i64, RowError> {
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
    let start = date(Col::Start, NO_START)?;
    let end = date(Col::End, NO_END)?;
    let subscriber_type = match raw(Col::Type) {
        b"" => None,
        b => Some(SubscriberType::parse_bytes(b).ok_or_else(|| {
            let text = String::from_utf8_lossy(b);
            RowError::Bad(
                Col::Type,
                IssueKind::InvalidValue,
                format!("type {} is not USER or WORKSPACE", Quoted(&text)),
            )
        })?),
    };
    let s = |c: Col| syms[c as usize];
    Ok(RowData {
        partner_name: s(Col::PartnerName),
        partner_org_id: s(Col::PartnerOrgId),
        subscription_id: s(Col::SubscriptionId),
        customer_org_id: s(Col::CustomerOrgId),
        customer_external_id: s(Col::CustomerExternalId),
        subscriber_id: s(Col::SubscriberId),
        user_id: s(Col::UserId),
        workspace_id: s(Col::WorkspaceId),
        service_name: s(Col::ServiceName),
        sku: s(Col::Sku),
        description: s(Col::Description),
        location_id: s(Col::LocationId),
        license_id: s(Col::LicenseId),
        subscriber_type,
        start,
        end,
        quantity,
        origin: NO_ORIGIN,
    })
}
