//! The typed pieces that errors carry: where a usage row came from, whom a price is for, a row
//! outside a period.

use std::fmt;

use crate::time::Timestamp;

/// Where a usage row (or a vendor invoice line) read from CSV came from: which input, which file
/// of it, and the line. The crate reads from readers and knows no file names: a caller that read
/// the reports from files names the file by `file`, the index of the report in the list it gave
/// (or of the part of a report made by [`UsageReport::concat`](crate::UsageReport::concat)).
///
/// ```
/// use wholesale_billing::RowOrigin;
/// let row = RowOrigin { report: "vendor report", file: 1, line: 17 };
/// assert_eq!(row.to_string(), "line 17 of vendor report 2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RowOrigin {
    /// Which input: `"usage report"`, `"expected usage report"`, `"vendor report"` or `"vendor
    /// invoice"`.
    pub report: &'static str,
    /// The 0-based index of the file among the inputs of that kind, in the order given: a report's
    /// index in the list passed, counting each part of a concatenated report.
    pub file: usize,
    /// The 1-based line of the row in its file (the header is line 1).
    pub line: u64,
}

impl fmt::Display for RowOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} of {} {}", self.line, self.report, self.file + 1)
    }
}

/// Whom a price book line bills: a customer or a sub-partner.
///
/// ```
/// use wholesale_billing::BilledParty;
/// let customer = BilledParty::Customer { org_id: "c1".into(), external_id: "CUST-1".into() };
/// assert_eq!(customer.to_string(), "customer c1 / CUST-1");
/// assert_eq!(BilledParty::SubPartner { org_id: "sp-1".into() }.to_string(), "sub-partner sp-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BilledParty {
    /// A customer of the partner.
    Customer {
        /// Its org id.
        org_id: String,
        /// Its external id (empty when unknown).
        external_id: String,
    },
    /// A sub-partner, billed its roll-up.
    SubPartner {
        /// Its org id.
        org_id: String,
    },
}

impl fmt::Display for BilledParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BilledParty::Customer { org_id, external_id } if external_id.is_empty() => write!(f, "customer {org_id}"),
            BilledParty::Customer { org_id, external_id } => write!(f, "customer {org_id} / {external_id}"),
            BilledParty::SubPartner { org_id } => write!(f, "sub-partner {org_id}"),
        }
    }
}

/// A row of a report read from CSV whose consumption dates lie outside the billing period.
///
/// ```
/// use wholesale_billing::OutsideRow;
/// let row = OutsideRow { row: 2, sku: "A".into(), start: Some("2023-04-13T00:00:00Z".parse()?), end: None };
/// assert_eq!(row.to_string(), "row 2 (A, 2023-04-13T00:00:00.000Z..)");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideRow {
    /// The 1-based data row (the first row after the header is 1).
    pub row: usize,
    /// Its SKU.
    pub sku: String,
    /// Its consumption start, when given.
    pub start: Option<Timestamp>,
    /// Its consumption end, when given.
    pub end: Option<Timestamp>,
}

impl fmt::Display for OutsideRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = |t: Option<Timestamp>| t.map(|t| t.to_report_string()).unwrap_or_default();
        write!(
            f,
            "row {} ({}, {}..{})",
            self.row,
            self.sku,
            date(self.start),
            date(self.end)
        )
    }
}
