//! Usage reports compatible with the Webex Wholesale billing reports (SPEC.md §4).
//!
//! A [`UsageReport`] is a table of typed rows at one [`ReportLevel`], either computed from an
//! [`AssignmentLedger`](crate::AssignmentLedger) or read from a vendor report CSV. Rows are views
//! ([`ReportRow`]) over a shared string table, so a report of a million rows costs a few dozen
//! megabytes and no per-row allocation.

mod aggregate;
#[cfg(feature = "arrow")]
mod arrow;
mod column;
mod engine;
#[cfg(feature = "parquet")]
mod parquet;
mod period;
mod read;
mod write;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

#[cfg(feature = "arrow")]
pub use arrow::{QUANTITY_PRECISION, report_schema};
pub use column::Column;
pub(crate) use period::{ANY_LEVEL, billing_period};
pub use read::ReadOptions;

use crate::checked::{self, Subject};
use crate::error::{Error, Result, RowOrigin};
use crate::ledger::SubscriberType;
use crate::proration::HourPolicy;
use crate::quantity::Quantity;
use crate::strings::{StringTable, Sym};
use crate::time::{Period, Timestamp};

string_enum! {
    /// The three report levels of the Webex billing API (the API's `type`).
    ///
    /// ```
    /// use wholesale_billing::ReportLevel;
    /// assert_eq!("user".parse::<ReportLevel>()?, ReportLevel::User);
    /// assert_eq!(ReportLevel::Customer.to_string(), "CUSTOMER");
    /// assert!(ReportLevel::Partner < ReportLevel::User);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
    #[serde(rename_all = "UPPERCASE")]
    pub enum ReportLevel("report level") {
        /// One row per SKU.
        #[default]
        Partner = "PARTNER",
        /// One row per customer, SKU, location and license.
        Customer = "CUSTOMER",
        /// One row per customer, subscriber, package, location and license.
        User = "USER",
    }
}

impl ReportLevel {
    /// The CSV columns of this level, in order (SPEC.md §4).
    ///
    /// ```
    /// use wholesale_billing::{Column, ReportLevel};
    /// let names: Vec<&str> = ReportLevel::Partner.columns().iter().map(|c| c.name()).collect();
    /// assert_eq!(names.join(","),
    ///     "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY");
    /// assert_eq!(ReportLevel::User.columns(), Column::ALL);
    /// ```
    pub const fn columns(self) -> &'static [Column] {
        match self {
            ReportLevel::Partner => &column::PARTNER_COLUMNS,
            ReportLevel::Customer => &column::CUSTOMER_COLUMNS,
            ReportLevel::User => &column::USER_COLUMNS,
        }
    }
}

/// Whose usage a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// The partner's own customers (the API's default).
    #[default]
    Partner,
    /// One sub-partner's customers (the API's `subPartnerOrgId`).
    SubPartner(String),
    /// The whole subscription: the partner and every sub-partner. USER and CUSTOMER rows keep their
    /// owner's `PARTNER_NAME` / `PARTNER_ORG_ID`; PARTNER rows are totals per SKU under the partner.
    Subscription,
}

/// What to compute: level, scope and hour policy.
///
/// ```
/// use wholesale_billing::{HourPolicy, ReportLevel, ReportOptions, Scope};
/// let options = ReportOptions::new(ReportLevel::Customer)
///     .scope(Scope::SubPartner("sp-1".into()))
///     .hour_policy(HourPolicy::Exact);
/// assert_eq!(options.level, ReportLevel::Customer);
/// assert_eq!(ReportOptions::default().hour_policy, HourPolicy::Started);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReportOptions {
    /// The level.
    pub level: ReportLevel,
    /// Whose customers.
    pub scope: Scope,
    /// When an hour counts.
    pub hour_policy: HourPolicy,
    /// The threads computing the rows: 0 (the default) for the machine's available parallelism,
    /// 1 for the calling thread alone. The report is the same with any.
    pub threads: usize,
}

impl ReportOptions {
    /// The threads to use: `threads`, or the machine's available parallelism for 0.
    pub(crate) fn thread_count(&self) -> usize {
        match self.threads {
            0 => crate::parallel::default_threads(),
            n => n,
        }
    }

    /// Options for `level`, for the partner, under the `started` policy.
    pub fn new(level: ReportLevel) -> Self {
        ReportOptions {
            level,
            ..ReportOptions::default()
        }
    }

    /// The same options for another scope.
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// The same options under another hour policy.
    #[must_use]
    pub fn hour_policy(mut self, policy: HourPolicy) -> Self {
        self.hour_policy = policy;
        self
    }

    /// The same options computing the rows on `threads` threads (0: the machine's available
    /// parallelism; 1: nothing spawned).
    ///
    /// ```
    /// use wholesale_billing::{ReportLevel, ReportOptions};
    /// assert_eq!(ReportOptions::new(ReportLevel::User).threads(3).threads, 3);
    /// ```
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
}

/// One row of a usage report, borrowing its text from the report.
///
/// Fields that the report's level does not have are empty (`""` / `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub struct ReportRow<'a> {
    /// `PARTNER_NAME`: the partner's, or the sub-partner's in a sub-partner report.
    pub partner_name: &'a str,
    /// `PARTNER_ORG_ID`.
    pub partner_org_id: &'a str,
    /// `SUBSCRIPTION_ID`.
    pub subscription_id: &'a str,
    /// `CUSTOMER_ORG_ID` (CUSTOMER, USER).
    pub customer_org_id: &'a str,
    /// `CUSTOMER_EXTERNAL_ID` (CUSTOMER, USER).
    pub customer_external_id: &'a str,
    /// `TYPE` (USER).
    #[serde(rename = "TYPE")]
    pub subscriber_type: Option<SubscriberType>,
    /// `SUBSCRIBER_ID` (USER).
    pub subscriber_id: &'a str,
    /// `USER_ID` (USER).
    pub user_id: &'a str,
    /// `WORKSPACE_ID` (USER).
    pub workspace_id: &'a str,
    /// `SERVICE_NAME`.
    pub service_name: &'a str,
    /// `SKU`.
    pub sku: &'a str,
    /// `DESCRIPTION`.
    pub description: &'a str,
    /// `CONSUMPTION_START_DATE` (absent only in a read report that lacks it).
    #[serde(rename = "CONSUMPTION_START_DATE")]
    pub consumption_start: Option<Timestamp>,
    /// `CONSUMPTION_END_DATE` (absent only in a read report that lacks it).
    #[serde(rename = "CONSUMPTION_END_DATE")]
    pub consumption_end: Option<Timestamp>,
    /// `QUANTITY`, in days.
    pub quantity: Quantity,
    /// `LOCATION_ID` (CUSTOMER, USER).
    pub location_id: &'a str,
    /// `LICENSE_ID` (CUSTOMER, USER).
    pub license_id: &'a str,
}

/// What [`AssignmentLedger::write_usage_csv`](crate::AssignmentLedger::write_usage_csv) wrote:
/// the report's level, how many rows and the total of each SKU, which it does not keep.
///
/// ```
/// use wholesale_billing::{ReportLevel, WrittenReport};
/// let written = WrittenReport { level: ReportLevel::User, rows: 0, quantity_by_sku: Vec::new() };
/// assert!(written.quantity_by_sku.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenReport {
    /// The level written.
    pub level: ReportLevel,
    /// The rows written, not counting the header.
    pub rows: u64,
    /// Each SKU with the sum of its rows' quantities, in SKU order, as
    /// [`UsageReport::quantity_by_sku`] gives them.
    pub quantity_by_sku: Vec<(String, Quantity)>,
}

/// A row in compact form: 4-byte symbols into the report's string table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RowData {
    pub(crate) partner_name: Sym,
    pub(crate) partner_org_id: Sym,
    pub(crate) subscription_id: Sym,
    pub(crate) customer_org_id: Sym,
    pub(crate) customer_external_id: Sym,
    pub(crate) subscriber_id: Sym,
    pub(crate) user_id: Sym,
    pub(crate) workspace_id: Sym,
    pub(crate) service_name: Sym,
    pub(crate) sku: Sym,
    pub(crate) description: Sym,
    pub(crate) location_id: Sym,
    pub(crate) license_id: Sym,
    pub(crate) subscriber_type: Option<SubscriberType>,
    /// Microseconds, or [`NO_START`].
    pub(crate) start: i64,
    /// Microseconds, or [`NO_END`].
    pub(crate) end: i64,
    pub(crate) quantity: Quantity,
    /// Where the row was read from: [`NO_ORIGIN`] for a computed row, else the part of the report
    /// (its file, for a concatenation) in the top 16 bits and the 1-based line in the others.
    pub(crate) origin: u64,
}

/// The origin of a row that was not read from a file.
pub(crate) const NO_ORIGIN: u64 = 0;
/// Bits of [`RowData::origin`] that hold the line.
const LINE_BITS: u32 = 48;

/// The origin of a row read at `line` of part `part` (no origin when either does not fit).
pub(crate) fn pack_origin(part: usize, line: u64) -> u64 {
    match u64::try_from(part) {
        Ok(part) if part < 1 << (64 - LINE_BITS) && line < 1 << LINE_BITS => (part << LINE_BITS) | line,
        _ => NO_ORIGIN,
    }
}

/// A start date the source did not give (never the minimum of a group that has one).
pub(crate) const NO_START: i64 = i64::MAX;
/// An end date the source did not give (never the maximum of a group that has one).
pub(crate) const NO_END: i64 = i64::MIN;

/// A usage report: its level, the period it covers (when known) and its rows.
///
/// ```
/// use wholesale_billing::{AssignmentLedger, Event, LoadMode, Organisation, Partner, Period,
///     ReportLevel, ReportOptions};
/// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
/// let mut b = AssignmentLedger::builder(org);
/// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling"));
/// b.push(Event::remove("e2", "2024-05-02T15:00:00Z".parse()?, "s1"));
/// let (ledger, _) = b.finish(LoadMode::Strict)?;
/// let report = ledger.usage_report(Period::from_dates("2024-05-01", "2024-05-31")?,
///                                  &ReportOptions::new(ReportLevel::User))?;
/// let row = report.rows().next().unwrap();
/// assert_eq!(row.quantity.to_string(), "1.6250");
/// assert_eq!(row.sku, "A-W-WXC-CALL-U");
/// assert_eq!(row.consumption_end.unwrap().to_report_string(), "2024-05-02T15:00:00.000Z");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct UsageReport {
    pub(crate) level: ReportLevel,
    pub(crate) period: Option<Period>,
    pub(crate) strings: Arc<StringTable>,
    pub(crate) rows: Vec<RowData>,
    /// How many CSV files the rows were read from: 0 for a computed report, 1 for a report read
    /// from CSV, the sum of its parts' for a concatenation.
    pub(crate) files: usize,
}

impl UsageReport {
    /// The report's level.
    pub fn level(&self) -> ReportLevel {
        self.level
    }

    /// The first row (with usage, if any) of `sku` read from CSV in `reports`, as a
    /// [`RowOrigin`] of the input `report`: the file counts the parts of every report before.
    pub(crate) fn first_row_of_sku(reports: &[&UsageReport], report: &'static str, sku: &str) -> Option<RowOrigin> {
        let mut files_before = 0;
        for r in reports {
            let of_sku = || {
                r.rows
                    .iter()
                    .filter(|row| row.origin != NO_ORIGIN && r.strings.get(row.sku) == sku)
            };
            if let Some(row) = of_sku()
                .find(|row| row.quantity.is_positive())
                .or_else(|| of_sku().next())
            {
                return Some(r.origin_of(row, report, files_before));
            }
            files_before += r.files;
        }
        None
    }

    /// The [`RowOrigin`] of the row at `index`, when it was read from CSV.
    pub(crate) fn row_origin(&self, index: usize, report: &'static str) -> Option<RowOrigin> {
        self.rows
            .get(index)
            .filter(|r| r.origin != NO_ORIGIN)
            .map(|r| self.origin_of(r, report, 0))
    }

    /// The [`RowOrigin`] of a row of this report read from CSV, its file counted after
    /// `files_before` files of other reports.
    pub(crate) fn origin_of(&self, row: &RowData, report: &'static str, files_before: usize) -> RowOrigin {
        let part = usize::try_from(row.origin >> LINE_BITS).unwrap_or_default();
        RowOrigin {
            report,
            file: files_before + part,
            line: row.origin & ((1 << LINE_BITS) - 1),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the report has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows, in report order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = ReportRow<'_>> + '_ {
        self.rows.iter().map(move |r| self.view(r))
    }

    /// The row at `index`.
    pub fn row(&self, index: usize) -> Option<ReportRow<'_>> {
        self.rows.get(index).map(|r| self.view(r))
    }

    pub(crate) fn view<'a>(&'a self, r: &RowData) -> ReportRow<'a> {
        let s = |sym: Sym| self.strings.get(sym);
        ReportRow {
            partner_name: s(r.partner_name),
            partner_org_id: s(r.partner_org_id),
            subscription_id: s(r.subscription_id),
            customer_org_id: s(r.customer_org_id),
            customer_external_id: s(r.customer_external_id),
            subscriber_type: r.subscriber_type,
            subscriber_id: s(r.subscriber_id),
            user_id: s(r.user_id),
            workspace_id: s(r.workspace_id),
            service_name: s(r.service_name),
            sku: s(r.sku),
            description: s(r.description),
            consumption_start: (r.start != NO_START).then_some(Timestamp::from_micros(r.start)),
            consumption_end: (r.end != NO_END).then_some(Timestamp::from_micros(r.end)),
            quantity: r.quantity,
            location_id: s(r.location_id),
            license_id: s(r.license_id),
        }
    }

    /// The sum of all quantities.
    ///
    /// # Errors
    /// [`Error::Overflow`] when the sum does not fit a [`Quantity`] (beyond ±922,337,203,685,477
    /// user-days): a sum never saturates.
    ///
    /// ```
    /// use wholesale_billing::{Error, ReadOptions, UsageReport};
    /// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).map(|r| r.0);
    /// assert_eq!(read("SKU,QUANTITY\nA,1.5\nB,2\n")?.total_quantity()?.to_string(), "3.5000");
    /// let huge = read("SKU,QUANTITY\nA,900000000000000\nB,900000000000000\n")?;
    /// assert!(matches!(huge.total_quantity(), Err(Error::Overflow { .. })));
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn total_quantity(&self) -> Result<Quantity> {
        checked::sum(self.rows.iter().map(|r| r.quantity), "Σ user-days")
            .for_subject(|| "the whole usage report".to_owned())
    }

    /// One report of the rows of several reports of one level, in order (e.g. the partner's
    /// report and every sub-partner's, as the vendor sends them). The period is kept when all
    /// reports agree on it.
    ///
    /// # Errors
    /// [`Error::NoReports`] for no report; [`Error::MixedReportLevels`] when the reports have
    /// different levels; [`Error::Overflow`] beyond 4 GiB of distinct text.
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let read = |csv: &str| UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).map(|r| r.0);
    /// let a = read("PARTNER_ORG_ID,CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\np,c1,s1,A,1\n")?;
    /// let b = read("PARTNER_ORG_ID,CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nsp,c2,s2,A,2.5\n")?;
    /// let both = UsageReport::concat([&a, &b])?;
    /// assert_eq!(both.len(), 2);
    /// assert_eq!(both.total_quantity()?.to_string(), "3.5000");
    /// assert_eq!(both.row(1).unwrap().partner_org_id, "sp");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn concat<'a>(reports: impl IntoIterator<Item = &'a UsageReport>) -> Result<UsageReport> {
        let reports: Vec<&UsageReport> = reports.into_iter().collect();
        let Some(first) = reports.first() else {
            return Err(Error::NoReports {
                purpose: "concatenation",
            });
        };
        if reports.len() == 1 {
            return Ok((*first).clone());
        }
        let level = first.level;
        let period = first.period;
        let mut strings = crate::strings::Interner::new();
        let mut rows = Vec::with_capacity(reports.iter().map(|r| r.len()).sum());
        let mut files = 0;
        for report in &reports {
            if report.level != level {
                return Err(Error::MixedReportLevels {
                    first: level,
                    other: report.level,
                });
            }
            let t = &report.strings;
            for r in &report.rows {
                let origin = if r.origin == NO_ORIGIN {
                    NO_ORIGIN
                } else {
                    let at = report.origin_of(r, "", files);
                    pack_origin(at.file, at.line)
                };
                let mut i = |sym: Sym| strings.intern(t.get(sym));
                rows.push(RowData {
                    partner_name: i(r.partner_name)?,
                    partner_org_id: i(r.partner_org_id)?,
                    subscription_id: i(r.subscription_id)?,
                    customer_org_id: i(r.customer_org_id)?,
                    customer_external_id: i(r.customer_external_id)?,
                    subscriber_id: i(r.subscriber_id)?,
                    user_id: i(r.user_id)?,
                    workspace_id: i(r.workspace_id)?,
                    service_name: i(r.service_name)?,
                    sku: i(r.sku)?,
                    description: i(r.description)?,
                    location_id: i(r.location_id)?,
                    license_id: i(r.license_id)?,
                    origin,
                    ..*r
                });
            }
            files += report.files;
        }
        Ok(UsageReport {
            level,
            period: if reports.iter().all(|r| r.period == period) {
                period
            } else {
                None
            },
            strings: Arc::new(strings.freeze()),
            rows,
            files,
        })
    }

    /// The same rows in report order: customer org, subscriber, SKU, location, license, then
    /// partner org (how the engine orders a report; useful after [`UsageReport::concat`]).
    ///
    /// ```
    /// use wholesale_billing::{ReadOptions, UsageReport};
    /// let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc2,s1,A,1\nc1,s2,B,1\nc1,s2,A,1\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let sorted = report.sorted();
    /// let keys: Vec<_> = sorted.rows().map(|r| (r.customer_org_id, r.sku)).collect();
    /// assert_eq!(keys, [("c1", "A"), ("c1", "B"), ("c2", "A")]);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn sorted(&self) -> UsageReport {
        let s = |sym: Sym| self.strings.get(sym);
        let mut rows = self.rows.clone();
        rows.sort_by(|a, b| {
            s(a.customer_org_id)
                .cmp(s(b.customer_org_id))
                .then_with(|| s(a.subscriber_id).cmp(s(b.subscriber_id)))
                .then_with(|| s(a.sku).cmp(s(b.sku)))
                .then_with(|| s(a.location_id).cmp(s(b.location_id)))
                .then_with(|| s(a.license_id).cmp(s(b.license_id)))
                .then_with(|| s(a.partner_org_id).cmp(s(b.partner_org_id)))
        });
        UsageReport {
            level: self.level,
            period: self.period,
            strings: self.strings.clone(),
            rows,
            files: self.files,
        }
    }

    /// Quantity per SKU, sorted by SKU.
    ///
    /// # Errors
    /// [`Error::Overflow`] naming the SKU whose sum does not fit a [`Quantity`].
    ///
    /// ```
    /// # use wholesale_billing::{UsageReport, ReadOptions};
    /// let csv = "SKU,QUANTITY\nA,1.5\nB,2\nA,0.25\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let totals = report.quantity_by_sku()?;
    /// assert_eq!(totals[0].0, "A");
    /// assert_eq!(totals[0].1.to_string(), "1.7500");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn quantity_by_sku(&self) -> Result<Vec<(&str, Quantity)>> {
        let mut totals: std::collections::BTreeMap<&str, Quantity> = std::collections::BTreeMap::new();
        for r in &self.rows {
            let sku = self.strings.get(r.sku);
            let slot = totals.entry(sku).or_default();
            *slot = checked::add(*slot, r.quantity, "Σ user-days")
                .for_subject(|| format!("SKU {sku} of the usage report"))?;
        }
        Ok(totals.into_iter().collect())
    }
}
