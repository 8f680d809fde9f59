//! # wholesale-billing
//!
//! Compute, check and pass on a Webex Wholesale bill, exact to the last digit.
//!
//! A partner's package-assignment history (an events CSV, or events built in code) becomes an
//! [`AssignmentLedger`]; the ledger gives [`UsageReport`]s at the PARTNER, CUSTOMER and USER
//! levels that match the Webex Wholesale billing reports row for row: hourly proration under the
//! `started`, `completed` or `exact` [`HourPolicy`], quantities with four decimals rounded
//! half-even per day, sub-partner billing starts applied. Vendor reports are read back with
//! [`UsageReport::read_csv`] to be compared.
//!
//! The crate is pure: no network, no clock, no file paths; it reads and writes through
//! [`std::io::Read`] and [`std::io::Write`]. Quantities are exact fixed-point numbers
//! ([`Quantity`]), never floats.
//!
//! ```
//! use wholesale_billing::{AssignmentLedger, LoadMode, Organisation, Period, ReportLevel, ReportOptions};
//!
//! let org = Organisation::from_toml_str(r#"
//!     [partner]
//!     org_id = "partner-1"
//!     name = "Acme Telecom"
//!     subscription_id = "Sub1234567"
//! "#)?;
//! let events = "\
//! event_id,occurred_at,action,subscriber_id,customer_org_id,subscriber_type,user_id,package
//! e1,2024-05-01T00:00:00Z,ASSIGN,sub-1,cust-1,USER,user-1,webex_calling
//! e2,2024-05-02T17:00:00+02:00,REMOVE,sub-1,,,,
//! ";
//! let (ledger, _diagnostics) = AssignmentLedger::from_csv(events.as_bytes(), org, LoadMode::Strict)?;
//! let report = ledger.usage_report(Period::month(2024, 5)?, &ReportOptions::new(ReportLevel::User))?;
//! // 24 hours on May 1st and 15 hours on May 2nd: 1 + 0.625 days.
//! assert_eq!(report.row(0).unwrap().quantity.to_string(), "1.6250");
//!
//! let mut csv = Vec::new();
//! report.write_csv(&mut csv)?;
//! assert!(String::from_utf8(csv).unwrap().contains(
//!     "Acme Telecom,partner-1,Sub1234567,cust-1,,USER,sub-1,user-1,,WEBEX_CALLING,A-W-WXC-CALL-U,\
//!      Wholesale Webex Calling Usage,2024-05-01T00:00:00.000Z,2024-05-02T15:00:00.000Z,1.6250,,"));
//! # Ok::<(), wholesale_billing::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[macro_use]
mod string_enum;

#[cfg(feature = "arrow")]
mod arrow_text;
mod catalog;
mod checked;
mod csvsplit;
mod csvutil;
mod error;
mod invoice;
mod ledger;
mod money;
mod org;
mod parallel;
#[cfg(feature = "parquet")]
mod parquet_table;
mod proration;
mod quantity;
mod rates;
mod rating;
mod reconcile;
mod report;
mod strings;
#[cfg(feature = "synthetic")]
pub mod synthetic;
mod textfile;
mod time;

#[cfg(feature = "arrow")]
pub use arrow_text::ArrowCsv;
pub use catalog::{COMMITTED_SPEND_SKU, Catalog, CatalogEntry, CatalogOverride, PackageId};
pub use csvutil::normalize_header;
pub use error::{
    BilledParty, Error, ErrorKind, IssueKind, LoadIssue, OutsideRow, Quoted, Result, RowOrigin, Severity, TextLocation,
    error_with_causes,
};
pub use invoice::{
    BillTo, Billing, ExpectedInvoice, FixedLine, Invoice, InvoiceLine, InvoiceMinutes, LineKind, LinePricing,
    MINUTES_SKU, MarginReport, MarginRow, Minutes, MonthlyBilling, VendorInvoice, VendorInvoiceLine,
};
pub use ledger::{
    Action, AssignmentLedger, CustomerInfo, Diagnostics, Event, EventRecords, LedgerBuilder, LoadMode, RowKey,
    SubscriberType,
};
pub use money::{Currency, Money, RoundingMode, RoundingPolicy, parse_decimal};
pub use org::{OrgFormat, Organisation, Owner, Partner, SubPartner};
pub use proration::{HourPolicy, day_quantity_for_hours, day_quantity_for_micros};
pub use quantity::{QUANTITY_DECIMALS, QUANTITY_SCALE, Quantity};
pub use rates::{
    BandUse, EffectiveTerms, PriceBand, PriceBook, SkuEntry, SkuPrice, Terms, TierKind, UnitMode, WholesaleRate,
    WholesaleRateCard, ccws, price_units,
};
#[cfg(feature = "parquet")]
pub use rating::rated_csv_to_parquet;
pub use rating::{
    Allowance, AllowanceSpec, Band, BandId, BandPriceSpec, BandSpec, CallFields, CallInput, CallRecord, CallTime,
    CallType, CdrDiagnostics, CdrFormat, CdrReadOptions, CdrReader, ClassId, ClockTime, CustomerDirectory,
    DEFAULT_RATING_DECIMALS, Deduplicator, Destination, DestinationId, DestinationSpec, Direction, DuplicateCheck,
    MAX_RATING_DECIMALS, Pools, Price, RatedCall, RatedColumn, RatedRecord, RatedWriter, Rating, RatingCounts,
    RatingResult, RatingRun, RatingStatus, RatingSummary, RecordOrigin, SpillStorage, SummaryColumn, SummaryRow,
    TARIFF_AMOUNT_DECIMALS, Tariff, TariffAmount, TariffDocument, billable_seconds, charge, rate_call,
    read_call_records,
};
pub use reconcile::{
    ClassSummary, CustomerSummary, Finding, FindingClass, FindingUnit, Reconciler, Reconciliation,
    ReconciliationSummary, SkuSummary,
};
pub use report::{Column, ReadOptions, ReportLevel, ReportOptions, ReportRow, Scope, UsageReport, WrittenReport};
#[cfg(feature = "arrow")]
pub use report::{QUANTITY_PRECISION, report_schema};
#[cfg(feature = "synthetic")]
pub use synthetic::EventOrder;
pub use time::{MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND, Period, Timestamp, parse_date};

/// The README's examples, run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The guide's page on events and organisation files, its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/events.md")]
pub struct DocsEvents;

/// The guide's page on hour policies and proration, its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/proration.md")]
pub struct DocsProration;

/// The guide's page on usage reports, its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/reports.md")]
pub struct DocsReports;

/// The guide's page on money, rate cards, invoices and margins, its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/money.md")]
pub struct DocsMoney;

/// The guide's page on reconciliation, its examples run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/reconciliation.md")]
pub struct DocsReconciliation;

/// Re-exported so callers name the same `Decimal` and `NaiveDate` as the crate.
pub use chrono::{NaiveDate, Weekday};
pub use rust_decimal::Decimal;
