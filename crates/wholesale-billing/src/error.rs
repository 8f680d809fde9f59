//! The crate's one error type, and the per-row findings of the loaders.
//!
//! [`Error`] is returned by every fallible function of the crate. Each failure has its own
//! variant with typed fields; input errors say where they were: a row of a CSV file carries its
//! line, column and field in a [`LoadIssue`]; a TOML or JSON file error is an
//! [`Error::InvalidFile`] with its line, column and path of keys, whose source says what is wrong;
//! an error about a usage row read from CSV names its line ([`RowOrigin`]).
//!
//! One rule for every message: lower-case, and never a repetition of its source. The whole chain
//! is printed by [`error_with_causes`], which joins the messages of an error and its sources.

use std::fmt;

use rust_decimal::Decimal;

use crate::money::{Currency, Money};
use crate::report::ReportLevel;
use crate::time::Period;

#[cfg(test)]
mod convention;
mod kind;
mod parts;
mod quote;

pub use kind::ErrorKind;
pub use parts::{BilledParty, OutsideRow, RowOrigin};
pub use quote::Quoted;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `wholesale-billing`.
///
/// Messages are lower-case, say where the bad input was and never repeat their source: print an
/// error with its causes with [`error_with_causes`]. [`Error::kind`] names the variant.
///
/// ```
/// use wholesale_billing::{Error, ErrorKind, Period};
/// let err = "2024-05-31..2024-05-01".parse::<Period>().unwrap_err();
/// assert!(matches!(err, Error::PeriodReversed { .. }));
/// assert_eq!(err.kind(), ErrorKind::PeriodReversed);
/// assert_eq!(err.to_string(), "invalid period: start 2024-05-31 is after end 2024-05-01");
/// ```
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- reading and writing ----
    /// Reading or writing failed.
    #[error("i/o error while {context}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The CSV writer refused a record (I/O failures of a CSV writer are [`Error::Io`]).
    #[error("csv error while {context}")]
    Csv {
        /// What was being written.
        context: &'static str,
        /// The writer's error.
        #[source]
        source: csv::Error,
    },
    /// A document could not be written as TOML (never for valid data).
    #[error("cannot write the {what} as toml")]
    WriteToml {
        /// Which document ("organisation", "wholesale rate card").
        what: &'static str,
        /// The serialiser's error.
        #[source]
        source: toml::ser::Error,
    },
    /// A document could not be written as JSON (never for valid data).
    #[error("cannot write the {what} as json")]
    WriteJson {
        /// Which document ("organisation", "reconciliation").
        what: &'static str,
        /// The serialiser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A helper thread of a parallel computation stopped before its work was done.
    #[error("the {task} thread stopped before its work was done")]
    ThreadFailed {
        /// The thread's work ("report formatting").
        task: &'static str,
    },

    // ---- rows and values of input ----
    /// Rows were rejected and the load was strict (or nothing could be loaded at all).
    #[error("{source_name}: {count} row error(s){first}", count = issues.len(), first = FirstIssue(issues))]
    Rejected {
        /// What was being loaded ("events", "usage report").
        source_name: &'static str,
        /// Every error found (warnings are not included).
        issues: Vec<LoadIssue>,
    },
    /// Call records were rejected and the read was strict: every error found, up to a cap, and
    /// how many there were in all.
    ///
    /// ```
    /// use wholesale_billing::{CdrReadOptions, Error, read_call_records};
    /// let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n\
    ///            r1,2024-05-03T10:30:00Z,-5,ORIGINATING,SIP_NATIONAL,true,org-1\n";
    /// let err = read_call_records([csv.as_bytes()], &CdrReadOptions::default(), |_| Ok(())).unwrap_err();
    /// assert!(matches!(err, Error::RecordsRejected { errors: 1, .. }));
    /// assert_eq!(err.to_string(), "call records: 1 error(s); first: input 1, line 2, column 3 (Duration): \
    ///     error: invalid duration \"-5\": whole seconds, digits only");
    /// ```
    #[error(
        "call records: {errors} error(s){first}{left_out}",
        first = FirstIssue(issues),
        left_out = LeftOut(*errors, issues.len())
    )]
    RecordsRejected {
        /// How many errors were found in all.
        errors: u64,
        /// The first of them (as many as the read's `max_issues`), in read order.
        issues: Vec<LoadIssue>,
    },
    /// A text could not be read as a timestamp.
    #[error("invalid timestamp {}: {reason}", Quoted(input))]
    InvalidTimestamp {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A text could not be read as a date (`YYYY-MM-DD`) or a month (`YYYY-MM`).
    #[error("invalid date {}: expected {expected}", Quoted(input))]
    InvalidDate {
        /// The text as given.
        input: String,
        /// The expected form.
        expected: &'static str,
    },
    /// A text could not be read as a quantity (at most four decimals).
    #[error("invalid quantity {}: {reason}", Quoted(input))]
    InvalidQuantity {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A text could not be read as an amount of money or a rate.
    #[error("invalid amount {}: {reason}", Quoted(input))]
    InvalidMoney {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A text could not be read as a price (a plain decimal number).
    #[error("invalid price {}: {reason}", Quoted(input))]
    InvalidPrice {
        /// The text as given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A name that is not one of the values of a named set (an hour policy, a report level, a
    /// finding class...).
    ///
    /// ```
    /// use wholesale_billing::{Error, HourPolicy};
    /// let err = "hourly".parse::<HourPolicy>().unwrap_err();
    /// assert!(matches!(err, Error::UnknownName { what: "hour policy", .. }));
    /// assert_eq!(err.to_string(), r#"unknown hour policy "hourly" (expected one of: started, completed, exact)"#);
    /// ```
    #[error("unknown {what} {} (expected one of: {})", Quoted(value), .expected.join(", "))]
    UnknownName {
        /// The kind of value ("hour policy", "report level").
        what: &'static str,
        /// The text as given.
        value: String,
        /// Every accepted name.
        expected: &'static [&'static str],
    },
    /// A currency code the crate does not know ([`Currency::with_minor_unit`] takes any
    /// well-formed code).
    #[error("unknown currency {}; give an ISO 4217 code (USD, EUR, GBP, JPY, ...)", Quoted(code))]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// A currency that is not three ASCII letters with a minor unit of 0 to 4 decimals.
    #[error(
        "invalid currency {} with {minor_unit} decimals: a currency is three letters with a minor unit of 0 to 4 decimals",
        Quoted(code)
    )]
    InvalidCurrency {
        /// The code as given.
        code: String,
        /// The minor unit asked for.
        minor_unit: u8,
    },
    /// Two amounts in different currencies met in one sum or document.
    #[error("currency mismatch: expected {expected}, found {found}")]
    CurrencyMismatch {
        /// The currency of the document or the left operand.
        expected: Currency,
        /// The other currency.
        found: Currency,
    },

    // ---- configuration files (TOML, JSON) ----
    /// An organisation file, rate card, price book or offer details response is malformed or
    /// refused, located by line, column and key path; the source says what is wrong.
    #[error("{file}{}", Located(location))]
    InvalidFile {
        /// Which kind of file ("wholesale rate card", "price book", "offer details").
        file: &'static str,
        /// Line, column and key path, as far as known.
        location: TextLocation,
        /// What is wrong there (as a `dyn Error` source, this `Box<Error>`).
        #[source]
        source: Box<Error>,
    },
    /// The TOML reader refused the text: bad syntax, a missing, unknown or mistyped key, a bad
    /// value. Met inside an [`Error::InvalidFile`], which locates it.
    #[error("{}", quote::cut_quotes(.0.message().trim()))]
    Toml(toml::de::Error),
    /// The JSON reader refused the text: bad syntax, a missing, unknown or mistyped key, a bad
    /// value. Met inside an [`Error::InvalidFile`], which locates it.
    #[error("{}", quote::cut_quotes(&json_message(.0)))]
    Json(serde_json::Error),
    /// A file is not UTF-8 text; met inside an [`Error::InvalidFile`] with its line and column.
    #[error("invalid utf-8 at byte {offset}")]
    InvalidUtf8 {
        /// The 0-based byte offset of the first byte that is not UTF-8.
        offset: usize,
        /// The decoder's error.
        #[source]
        source: std::str::Utf8Error,
    },

    // ---- the organisation ----
    /// A name or id of the organisation (or of a catalog override) is empty.
    #[error("invalid organisation: {field} is empty")]
    EmptyOrganisationField {
        /// The field (`partner.org_id`, `sub_partners[2].name`, `catalog.webex_suite.sku`).
        field: String,
    },
    /// Two sub-partners (or a sub-partner and the partner) have the same org id.
    #[error(
        "invalid organisation: org id {} appears twice (sub_partners[{index}])",
        Quoted(org_id)
    )]
    DuplicateOrgId {
        /// The org id.
        org_id: String,
        /// The 0-based index of the second sub-partner with it.
        index: usize,
    },
    /// More sub-partners or catalog packages than an organisation can hold.
    #[error("invalid organisation: {count} {what}: an organisation has at most {max}")]
    OrganisationTooLarge {
        /// What there are too many of ("sub-partners", "catalog packages").
        what: &'static str,
        /// How many there are (or would be).
        count: usize,
        /// The most there can be.
        max: usize,
    },
    /// A catalog override names a package the default catalog does not know without giving its
    /// `sku` and `description`.
    #[error(
        "invalid organisation: catalog.{package}: a package the default catalog does not know needs `sku` and `description`"
    )]
    IncompleteCatalogPackage {
        /// The package name.
        package: String,
    },
    /// A sub-partner org id the organisation does not have.
    #[error("unknown sub-partner {}{}", Quoted(org_id), KnownSubPartners(known))]
    UnknownSubPartner {
        /// The org id as given.
        org_id: String,
        /// The org ids the organisation has.
        known: Vec<String>,
    },
    /// A usage row of an org that is neither the partner nor one of its sub-partners.
    #[error(
        "the usage report has a row of org {org_id} (customer {customer_org_id}{}), neither the partner nor a sub-partner",
        OnLine(row)
    )]
    UnknownRowOrg {
        /// The row's `PARTNER_ORG_ID`.
        org_id: String,
        /// The row's `CUSTOMER_ORG_ID`.
        customer_org_id: String,
        /// The row, when it was read from CSV.
        row: Option<RowOrigin>,
    },

    /// A row of the minutes summary for an org that is no customer of the month's events, or
    /// whose owner is neither the partner nor one of its sub-partners: impossible for a summary
    /// rated with the same events (`unknown_customer` calls are never charged).
    #[error(
        "the minutes summary has a row of org {customer_org_id}, which is no customer of the partner or of a \
         sub-partner in the events (unknown_customer calls are never charged)"
    )]
    MinutesOfUnknownCustomer {
        /// The row's `CUSTOMER_ORG_ID`.
        customer_org_id: String,
    },
    /// A margin report asked for with minutes on the invoices but without the cost tariff's
    /// summary: the minutes would show no cost.
    #[error(
        "the margin report with minutes needs the cost tariff's summary (Minutes::cost): without it the minutes \
         would show a cost of zero"
    )]
    MinutesCostMissing,

    // ---- the generator of synthetic months ----
    /// The generator was asked for no customer.
    #[error("invalid generator settings: the generator needs at least one customer")]
    NoCustomers,
    /// Fewer subscribers than customers were asked of the generator.
    #[error(
        "invalid generator settings: {subscribers} subscribers cannot fill {customers} customers: every customer needs at least one"
    )]
    TooFewSubscribers {
        /// Subscribers asked for.
        subscribers: u64,
        /// Customers asked for.
        customers: u32,
    },
    /// More subscribers than the generator makes were asked for.
    #[error("invalid generator settings: {subscribers} subscribers: the generator makes at most {max}")]
    TooManySubscribers {
        /// Subscribers asked for.
        subscribers: u64,
        /// The most the generator makes.
        max: u64,
    },
    /// The generator's catalog lacks a package it assigns (a defect of the crate, not of input).
    #[error("unknown package {package:?}; the default catalog lacks a package the generator assigns")]
    GeneratorPackageMissing {
        /// The package.
        package: &'static str,
    },

    // ---- periods ----
    /// A period whose start is after its end.
    #[error("invalid period: start {start} is after end {end}")]
    PeriodReversed {
        /// The first day asked for.
        start: chrono::NaiveDate,
        /// The last day asked for.
        end: chrono::NaiveDate,
    },
    /// A report or an invoice of another period than the one being billed or reconciled.
    #[error("invalid period: the {document} covers {found}, the billing period is {expected}")]
    PeriodMismatch {
        /// The document ("usage report", "vendor report 2", "vendor invoice").
        document: String,
        /// The period it covers.
        found: Period,
        /// The period being billed.
        expected: Period,
    },
    /// A report given to a money computation without its period: a report read from CSV carries
    /// none until [`UsageReport::with_period`](crate::UsageReport::with_period) gives it one.
    #[error(
        "the {report} does not say its period, which {purpose} needs: give it its period with `with_period` (a report read from CSV carries none)"
    )]
    ReportWithoutPeriod {
        /// The report ("usage report", "vendor report 2").
        report: String,
        /// The computation ("customer billing", "reconciliation").
        purpose: &'static str,
    },
    /// A report read from CSV (which carries no period) has rows outside the period it is given.
    #[error(
        "invalid period: the {report} has {count} row{} outside {period}: {}{}; is it a report of another period?",
        if *count == 1 { "" } else { "s" },
        OutsideRows(rows),
        if *count > rows.len() { ", …" } else { "" }
    )]
    RowsOutsidePeriod {
        /// The report ("usage report", "vendor report 1").
        report: String,
        /// The billing period.
        period: Period,
        /// How many rows are outside it.
        count: usize,
        /// The first of them (at most three).
        rows: Vec<OutsideRow>,
    },
    /// The generator makes whole calendar months only.
    #[error("invalid period: the generator needs one whole calendar month, not {period}")]
    NotAWholeMonth {
        /// The period asked for.
        period: Period,
    },
    /// A year the generator does not support.
    #[error("invalid period: the generator supports the years {min} to {max}, not {year}")]
    YearOutOfRange {
        /// The year asked for.
        year: i32,
        /// The first supported year.
        min: i32,
        /// The last supported year.
        max: i32,
    },

    // ---- usage reports ----
    /// A report of the wrong level for what was asked (customer billing, reconciliation, ...).
    #[error(
        "wrong report level: the {report} is a {found} report; {purpose} takes a {} report",
        Levels(expected)
    )]
    WrongReportLevel {
        /// What was asked ("customer billing", "reconciliation", "planting discrepancies").
        purpose: &'static str,
        /// Which report ("usage report", "vendor report 2").
        report: String,
        /// The levels it takes.
        expected: &'static [ReportLevel],
        /// The report's level.
        found: ReportLevel,
    },
    /// A report asked to be aggregated to a finer level than its own.
    #[error("cannot aggregate a {from} report to {to}: a report can only be rolled up to a coarser level")]
    CannotRollUp {
        /// The report's level.
        from: ReportLevel,
        /// The level asked for.
        to: ReportLevel,
    },
    /// Reports of different levels given to be concatenated.
    #[error("cannot concatenate a {first} report and a {other} report: only reports of one level can be concatenated")]
    MixedReportLevels {
        /// The first report's level.
        first: ReportLevel,
        /// The level of the first report that differs.
        other: ReportLevel,
    },
    /// No report given where at least one is needed (to concatenate, to compute an invoice).
    #[error("there is no usage report for {purpose}")]
    NoReports {
        /// What needs one ("concatenation", "the expected vendor invoice").
        purpose: &'static str,
    },
    /// Discrepancies asked to be planted in a report without rows.
    #[error("cannot plant {count} discrepancies: the report has no rows")]
    NothingToPlant {
        /// How many were asked for.
        count: usize,
    },

    // ---- prices and rates ----
    /// A SKU with usage that the wholesale rate card does not price: nothing is priced at zero
    /// silently.
    #[error(
        "no wholesale rate for SKU {sku}{} (the rate card has {})",
        At(row),
        KnownSkus(known)
    )]
    MissingRate {
        /// The SKU.
        sku: String,
        /// The SKUs the card has.
        known: Vec<String>,
        /// The first usage row (or invoice line) that needs the rate, when read from CSV.
        row: Option<RowOrigin>,
    },
    /// A SKU with usage that the price book does not price for whom it bills.
    #[error("no price for SKU {sku} in the price book ({billed}){}", At(row))]
    MissingPrice {
        /// The SKU.
        sku: String,
        /// Whom the line bills.
        billed: BilledParty,
        /// The first usage row that needs the price, when read from CSV.
        row: Option<RowOrigin>,
    },
    /// Per-location invoice lines asked for a SKU with tiers.
    #[error(
        "SKU {sku} has tiers, which apply to the whole quantity of a customer: per-location lines are not available for it"
    )]
    TiersPerLocation {
        /// The SKU.
        sku: String,
    },
    /// A wholesale rate without a SKU.
    #[error("a wholesale rate without a SKU")]
    EmptySku,
    /// A SKU given twice to one rate card.
    #[error("SKU {:#} appears twice on the rate card", Quoted(sku))]
    DuplicateSku {
        /// The SKU.
        sku: String,
    },
    /// A negative price, rate or band price.
    #[error("negative {what} {value}{}", ForSku(sku))]
    NegativePrice {
        /// Which price ("price", "rate", "committed rate", "band price").
        what: &'static str,
        /// The price.
        value: Decimal,
        /// The SKU, when not told by the location.
        sku: Option<String>,
    },
    /// A negative percentage or charge (a tax or discount percentage, a minimum charge).
    #[error("{what} {value} is negative")]
    NegativeValue {
        /// Which value ("tax_percent", "the tax percentage").
        what: &'static str,
        /// The value.
        value: Decimal,
    },
    /// A percentage above 100 (a discount or a tax).
    #[error("{what} {value} is above 100")]
    PercentAbove100 {
        /// Which percentage ("discount_percent", "the tax percentage").
        what: &'static str,
        /// The value.
        value: Decimal,
    },
    /// A price book SKU whose `price`, `tiers` and `bands` do not make one price.
    #[error("{reason}")]
    InvalidSkuPricing {
        /// What is wrong ("give either `price` or `tiers` and `bands`").
        reason: &'static str,
    },
    /// A price band without `up_to` that is not the last.
    #[error("band {band} has no `up_to` but is not the last")]
    OpenBandNotLast {
        /// The 1-based band.
        band: usize,
    },
    /// A price band that does not end above the previous one.
    #[error("band {band} ends at {up_to}, not above {previous}")]
    BandsNotAscending {
        /// The 1-based band.
        band: usize,
        /// Where it ends.
        up_to: Decimal,
        /// Where the previous one ends.
        previous: Decimal,
    },
    /// A negative monthly commitment.
    #[error("the monthly commitment {monthly} is negative")]
    NegativeCommitment {
        /// The commitment.
        monthly: Money,
    },
    /// A fixed line of a vendor invoice with a negative quantity or rate.
    #[error("fixed line {sku}: the {what} {value} is negative")]
    NegativeFixedLine {
        /// The line's SKU.
        sku: String,
        /// "quantity" or "rate".
        what: &'static str,
        /// The value.
        value: Decimal,
    },

    // ---- Cisco Commerce Catalog offer details ----
    /// The catalog answered with an error (status `Error` or an `errorMessage`).
    #[error("{}", CatalogRefusal { status_error: *status_error, item: item.as_ref(), message: message.as_ref() })]
    CatalogRefused {
        /// Whether the response had status `Error`.
        status_error: bool,
        /// The item whose `errorMessage` it is: its SKU (`productID`) if any, else its index.
        item: Option<(usize, Option<String>)>,
        /// The service's message, if any.
        message: Option<crate::rates::ccws::ErrorMessage>,
    },
    /// An offer details response without items.
    #[error("the response has no items")]
    NoOfferItems,
    /// An offer item without `productID`.
    #[error("an item without a productID")]
    MissingProductId,
    /// Something wrong with one offer item (its SKU); the source says what.
    #[error("SKU {sku}")]
    OfferItem {
        /// The item's SKU.
        sku: String,
        /// What is wrong with it.
        #[source]
        source: Box<Error>,
    },
    /// A `decimalExpansionValue` that is not a whole number.
    #[error("decimalExpansionValue {} is not a whole number of decimals", Quoted(input))]
    InvalidDecimalCount {
        /// The text as given.
        input: String,
    },
    /// A price with more decimals than its item's `decimalExpansionValue`.
    #[error(
        "price {:#} has {decimals} decimals, more than its decimalExpansionValue {max}",
        Quoted(price)
    )]
    TooManyDecimals {
        /// The price as written.
        price: String,
        /// Its decimals (trailing zeros not counted).
        decimals: u32,
        /// The most it may have.
        max: u32,
    },
    /// Price points of one kind (committed or not) with different list prices.
    #[error(
        "{kind} price points with different list prices ({first} and {other}): a rate card holds one price per SKU"
    )]
    DifferingPrices {
        /// "uncommitted" or "committed".
        kind: &'static str,
        /// The first price.
        first: Decimal,
        /// The first other price.
        other: Decimal,
    },
    /// An item without a list price.
    #[error("no list price (no uncommitted price point with a listPrice, no listPrice)")]
    NoListPrice,
    /// An item without a currency.
    #[error("no currency")]
    MissingCurrency,
    /// Two currencies named by one item.
    #[error("currency {found} differs from {expected} at {first_path}")]
    ItemCurrencyConflict {
        /// The currency found here.
        found: Currency,
        /// The currency named first.
        expected: Currency,
        /// Where it was named first.
        first_path: String,
    },
    /// Items priced in different currencies.
    #[error(
        "SKU {sku} is priced in {found} but SKU {first_sku} (itemDetails[{first_item}]) in {expected}: a rate card has one currency"
    )]
    MixedCurrencies {
        /// The SKU of the item in another currency.
        sku: String,
        /// Its currency.
        found: Currency,
        /// The SKU of the first item.
        first_sku: String,
        /// The index of the first item.
        first_item: usize,
        /// The first item's currency.
        expected: Currency,
    },

    // ---- tariffs (minutes, SPEC §7.8) ----
    /// A tariff prefix that is not a non-empty string of ASCII digits.
    #[error("prefix {} is not a string of digits", Quoted(prefix))]
    PrefixNotDigits {
        /// The prefix as written.
        prefix: String,
    },
    /// One prefix given to two destinations, or twice to one.
    #[error(
        "prefix {} of destination {} is already a prefix of destination {} ({first_at})",
        Quoted(prefix),
        Quoted(destination),
        Quoted(first_destination)
    )]
    DuplicatePrefix {
        /// The prefix.
        prefix: String,
        /// The destination that gives it the second time.
        destination: String,
        /// The destination that gave it first.
        first_destination: String,
        /// Where it was given first (`destinations[0].prefixes[2]`, `prefix table line 17`).
        first_at: String,
    },
    /// A destination or a band defined twice in one tariff.
    #[error("{what} {} is defined twice (first at {first_at})", Quoted(name))]
    DuplicateTariffName {
        /// What is defined twice ("destination", "band").
        what: &'static str,
        /// Its name.
        name: String,
        /// Where it was defined first (`destinations[0]`, `prefix table line 2`).
        first_at: String,
    },
    /// A name of a tariff that is empty (a destination, a class, a band, a package) or a band
    /// without days.
    #[error("{what} is empty")]
    EmptyTariffField {
        /// What is empty ("the destination name", "the list of days").
        what: &'static str,
    },
    /// A rate increment (`initial`, `subsequent`) below 1 second.
    #[error("the {what} increment is {value} seconds: increments are at least 1 second")]
    IncrementTooSmall {
        /// "initial" or "subsequent".
        what: &'static str,
        /// The increment as given.
        value: u64,
    },
    /// A tariff amount with more decimals than its fixed-point form holds.
    #[error("{value} has more than {max} decimals, the most a tariff amount may have")]
    TariffDecimals {
        /// The amount as given.
        value: Decimal,
        /// The most decimals allowed.
        max: u32,
    },
    /// A `rating_decimals` outside the range the engine rounds to.
    #[error("rating_decimals {decimals} is above {max}")]
    RatingDecimalsTooMany {
        /// The value given.
        decimals: u32,
        /// The most allowed.
        max: u32,
    },
    /// A local clock time of a band that is not `HH:MM` (or `HH:MM:SS`) from 00:00 to 24:00.
    #[error("invalid clock time {}: expected HH:MM from 00:00 to 24:00", Quoted(input))]
    InvalidClockTime {
        /// The text as given.
        input: String,
    },
    /// A time band whose `from` is not before its `to`.
    #[error(
        "the band from {from} to {to} is empty: `from` must be before `to` (write two bands for a range over midnight)"
    )]
    EmptyBandRange {
        /// Its start, as `HH:MM`.
        from: String,
        /// Its end, as `HH:MM`.
        to: String,
    },
    /// A band price of a destination for a band that no `[[bands]]` defines.
    #[error(
        "band {} of destination {} is defined by no [[bands]]",
        Quoted(band),
        Quoted(destination)
    )]
    UnknownBand {
        /// The band name.
        band: String,
        /// The destination.
        destination: String,
    },
    /// A name of a destination (`tollfree_destination`) that the tariff does not define.
    #[error("destination {} is not defined by the tariff", Quoted(name))]
    UnknownDestination {
        /// The name as given.
        name: String,
    },
    /// An allowance class that no destination of the tariff has.
    #[error("class {} is the class of no destination", Quoted(class))]
    UnusedClass {
        /// The class as given.
        class: String,
    },
    /// A row of a tariff's prefix table that gives its destination another class or price than
    /// an earlier row.
    #[error(
        "destination {} has another {field} than on line {first_line}: every row of a destination carries the same class and prices",
        Quoted(destination)
    )]
    InconsistentDestination {
        /// The destination.
        destination: String,
        /// The column that differs ("class", "per_minute").
        field: &'static str,
        /// The line of the destination's first row.
        first_line: u64,
    },
    /// A tariff that names a prefix table that was not loaded into it.
    #[error(
        "the tariff names the prefix table {}, which was not loaded: read it and give it to with_prefix_table",
        Quoted(file)
    )]
    PrefixTableNotLoaded {
        /// The file name, as the tariff gives it.
        file: String,
    },
    /// A tariff in another currency than the price book it is billed with.
    #[error("the tariff is in {tariff} but the price book in {price_book}: an invoice has one currency")]
    TariffCurrencyMismatch {
        /// The tariff's currency.
        tariff: Currency,
        /// The price book's currency.
        price_book: Currency,
    },
    /// An allowance for a package that the catalog does not know.
    #[error("allowance package {} is not in the catalog (known: {known})", Quoted(package))]
    UnknownAllowancePackage {
        /// The package as given.
        package: String,
        /// The catalog's packages, comma-separated.
        known: String,
    },

    /// An arithmetic result or a count does not fit its representation (a `Decimal` of money, a
    /// [`Quantity`](crate::Quantity), a 32-bit index), with what overflowed and for what.
    ///
    /// ```
    /// use wholesale_billing::Error;
    /// let err = Error::Overflow {
    ///     operation: "price × units",
    ///     subject: "SKU A-W-WXC-CALL-U of customer cust-1".into(),
    /// };
    /// assert_eq!(err.to_string(), "overflow: price × units for SKU A-W-WXC-CALL-U of customer cust-1");
    /// ```
    #[error("overflow: {operation}{}", ForSubject(subject))]
    Overflow {
        /// What did not fit: an operation in the domain's words (`"price × units"`, `"Σ user-days"`,
        /// `"subtotal × tax %"`) or a count (`"more than 4 billion events"`).
        operation: &'static str,
        /// What it was computed for (`"SKU A-W-WXC-CALL-U of customer cust-1"`, `"the vendor
        /// invoice"`); empty when the operation says it all.
        subject: String,
    },
}

impl Error {
    /// An overflow of `operation`, for a subject given later ([`Error::for_subject`]).
    pub(crate) fn overflow(operation: &'static str) -> Self {
        Error::Overflow {
            operation,
            subject: String::new(),
        }
    }

    /// The same error, an [`Error::Overflow`] without a subject given `subject()`; any other error,
    /// or an overflow that names its subject already, unchanged.
    pub(crate) fn for_subject(self, subject: impl FnOnce() -> String) -> Self {
        match self {
            Error::Overflow { operation, subject: s } if s.is_empty() => Error::Overflow {
                operation,
                subject: subject(),
            },
            other => other,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// A failure of `serde_json` writing `what` while `context`: an I/O failure is [`Error::Io`]
    /// with the I/O error itself, anything else an [`Error::WriteJson`].
    pub(crate) fn json_write(what: &'static str, context: &'static str, e: serde_json::Error) -> Self {
        if e.is_io() {
            Error::io(context, std::io::Error::from(e))
        } else {
            Error::WriteJson { what, source: e }
        }
    }

    /// The error located in a file: `file`, line, column and key path.
    pub(crate) fn in_file(self, file: &'static str, location: TextLocation) -> Self {
        Error::InvalidFile {
            file,
            location,
            source: Box::new(self),
        }
    }

    /// The error located at a key path of a file.
    pub(crate) fn at_path(self, file: &'static str, path: impl Into<String>) -> Self {
        self.in_file(
            file,
            TextLocation {
                path: Some(path.into()),
                ..TextLocation::default()
            },
        )
    }

    /// The row issues of a [`Error::Rejected`] load, empty for any other error.
    ///
    /// ```
    /// use wholesale_billing::Error;
    /// let err = Error::Overflow { operation: "price × units", subject: String::new() };
    /// assert!(err.issues().is_empty());
    /// ```
    pub fn issues(&self) -> &[LoadIssue] {
        match self {
            Error::Rejected { issues, .. } | Error::RecordsRejected { issues, .. } => issues,
            _ => &[],
        }
    }

    /// The usage row (or invoice line) read from CSV that the error is about, if any: the row
    /// that needs a missing rate or price, or a row of an unknown org. A caller that read the
    /// reports from files names the file with [`RowOrigin::file`].
    ///
    /// ```
    /// use wholesale_billing::{Currency, ExpectedInvoice, Period, ReadOptions, RowOrigin, UsageReport,
    ///     WholesaleRateCard};
    /// let csv = "SKU,QUANTITY\nA-W-WXC-CALL-U,31\nA-W-NOPE,1\n";
    /// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
    /// let report = report.with_period(Period::month(2024, 5)?)?;
    /// let rates = WholesaleRateCard::new(Currency::USD);
    /// let err = ExpectedInvoice::new(&rates).build([&report]).unwrap_err();
    /// assert_eq!(err.row(), Some(&RowOrigin { report: "usage report", file: 0, line: 3 }));
    /// assert_eq!(err.to_string(),
    ///     "no wholesale rate for SKU A-W-NOPE, needed by line 3 of usage report 1 (the rate card has no rates)");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    pub fn row(&self) -> Option<&RowOrigin> {
        match self {
            Error::MissingRate { row, .. } | Error::MissingPrice { row, .. } | Error::UnknownRowOrg { row, .. } => {
                row.as_ref()
            }
            _ => None,
        }
    }

    /// The same error, with the row that needs the missing rate or price, when it had none.
    pub(crate) fn needed_by(mut self, origin: Option<RowOrigin>) -> Self {
        if let Error::MissingRate { row, .. } | Error::MissingPrice { row, .. } = &mut self
            && row.is_none()
        {
            *row = origin;
        }
        self
    }
}

/// serde_json appends " at line L column C" to its messages; the location is reported apart
/// (by [`Error::InvalidFile`], in the original text's coordinates).
fn json_message(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(i) if e.line() > 0 => message[..i].to_owned(),
        _ => message,
    }
}

/// ` for {subject}`, or nothing for an empty subject. The subject names things of input (a SKU,
/// an org id): each of its words is cut as a quoted field is.
struct ForSubject<'a>(&'a str);

impl fmt::Display for ForSubject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        f.write_str(" for")?;
        for word in self.0.split(' ') {
            write!(f, " {:#}", Quoted(word))?;
        }
        Ok(())
    }
}

struct FirstIssue<'a>(&'a [LoadIssue]);

impl fmt::Display for FirstIssue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.first() {
            Some(issue) => write!(f, "; first: {issue}"),
            None => Ok(()),
        }
    }
}

/// `; N more not listed` when fewer issues are listed than were found.
struct LeftOut(u64, usize);

impl fmt::Display for LeftOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.checked_sub(self.1 as u64) {
            Some(more) if more > 0 => write!(f, "; {more} more not listed"),
            _ => Ok(()),
        }
    }
}

/// `: <location>` when the location says anything.
struct Located<'a>(&'a TextLocation);

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, ": {}", self.0)
        }
    }
}

/// `, needed by line 17 of usage report 1` for a known row.
struct At<'a>(&'a Option<RowOrigin>);

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(row) => write!(f, ", needed by {row}"),
            None => Ok(()),
        }
    }
}

/// `, line 17 of usage report 1` for a known row.
struct OnLine<'a>(&'a Option<RowOrigin>);

impl fmt::Display for OnLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(row) => write!(f, ", {row}"),
            None => Ok(()),
        }
    }
}

struct KnownSkus<'a>(&'a [String]);

impl fmt::Display for KnownSkus<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("no rates")
        } else {
            f.write_str(&self.0.join(", "))
        }
    }
}

struct KnownSubPartners<'a>(&'a [String]);

impl fmt::Display for KnownSubPartners<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("; the organisation file names no sub-partners")
        } else {
            write!(f, "; known: {}", self.0.join(", "))
        }
    }
}

struct ForSku<'a>(&'a Option<String>);

impl fmt::Display for ForSku<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(sku) => write!(f, " for SKU {sku}"),
            None => Ok(()),
        }
    }
}

struct Levels<'a>(&'a [ReportLevel]);

impl fmt::Display for Levels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, level) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" or ")?;
            }
            write!(f, "{level}")?;
        }
        Ok(())
    }
}

struct OutsideRows<'a>(&'a [OutsideRow]);

impl fmt::Display for OutsideRows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, row) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{row}")?;
        }
        Ok(())
    }
}

struct CatalogRefusal<'a> {
    status_error: bool,
    item: Option<&'a (usize, Option<String>)>,
    message: Option<&'a crate::rates::ccws::ErrorMessage>,
}

impl fmt::Display for CatalogRefusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(message) = self.message else {
            return f.write_str("the response has status Error and no error message");
        };
        if self.status_error {
            f.write_str("the response has status Error: ")?;
        }
        match self.item {
            Some((_, Some(sku))) => write!(f, "SKU {sku}: ")?,
            Some((index, None)) => write!(f, "item {index}: ")?,
            None => {}
        }
        write!(f, "{message}")
    }
}

/// Where in a text document (TOML, JSON) something was.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextLocation {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Path of keys (`sub_partners[1].billing_start`), when known.
    pub path: Option<String>,
}

impl TextLocation {
    /// Whether the location says nothing (no line, no column, no path).
    ///
    /// ```
    /// use wholesale_billing::TextLocation;
    /// assert!(TextLocation::default().is_empty());
    /// let at = TextLocation { line: Some(3), column: Some(8), path: Some("rates.X.rate".into()) };
    /// assert_eq!(at.to_string(), "line 3, column 8 at rates.X.rate");
    /// ```
    pub fn is_empty(&self) -> bool {
        self.line.is_none() && self.column.is_none() && self.shown_path().is_none()
    }

    fn shown_path(&self) -> Option<&str> {
        self.path.as_deref().filter(|p| !p.is_empty() && *p != ".")
    }
}

impl fmt::Display for TextLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            wrote = true;
        }
        if let Some(column) = self.column {
            write!(f, "{}column {column}", if wrote { ", " } else { "" })?;
            wrote = true;
        }
        if let Some(path) = self.shown_path() {
            f.write_str(if wrote { " at " } else { "at " })?;
            // A key of input may be huge: each key of the path is cut as a quoted field is.
            for (i, key) in path.split('.').enumerate() {
                if i > 0 {
                    f.write_str(".")?;
                }
                write!(f, "{:#}", Quoted(key))?;
            }
        }
        Ok(())
    }
}

string_enum! {
    /// How serious a [`LoadIssue`] is.
    ///
    /// ```
    /// use wholesale_billing::Severity;
    /// assert_eq!("warning".parse::<Severity>()?, Severity::Warning);
    /// assert_eq!(Severity::Error.to_string(), "error");
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum Severity("severity") {
        /// The row was used, or skipped on purpose (exact duplicate, redundant assign); nothing lost.
        Warning = "warning",
        /// The row was rejected.
        Error = "error",
    }
}

string_enum! {
    /// What kind of problem a [`LoadIssue`] reports.
    ///
    /// ```
    /// use wholesale_billing::IssueKind;
    /// assert_eq!(IssueKind::MissingOffset.as_str(), "missing_offset");
    /// assert_eq!(IssueKind::from_name("redundant_assign"), Some(IssueKind::RedundantAssign));
    /// assert_eq!(IssueKind::from_name("nonsense"), None);
    /// ```
    #[non_exhaustive]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
    #[serde(rename_all = "snake_case")]
    pub enum IssueKind("issue kind") {
        /// The file is not readable CSV (bad quoting, bad UTF-8, a missing header column).
        MalformedCsv = "malformed_csv",
        /// A required field is empty or its column is absent.
        MissingField = "missing_field",
        /// A field has a value of the wrong form (timestamp, action, type, quantity...).
        InvalidValue = "invalid_value",
        /// A timestamp without an explicit UTC offset.
        MissingOffset = "missing_offset",
        /// A package the catalog does not know.
        UnknownPackage = "unknown_package",
        /// A `sub_partner_org_id` absent from the organisation file.
        UnknownSubPartner = "unknown_sub_partner",
        /// A customer named under two owners (the partner and a sub-partner, or two sub-partners).
        CustomerOwnerConflict = "customer_owner_conflict",
        /// An exact duplicate of an earlier row (same `event_id`, same content): skipped.
        DuplicateEvent = "duplicate_event",
        /// The same `event_id` as an earlier row with other content.
        ConflictingEventId = "conflicting_event_id",
        /// The file is not readable JSON (bad syntax, a document cut short, no `items` array).
        MalformedJson = "malformed_json",
        /// An identical duplicate of an earlier call record (same `Report ID`, same value in every
        /// field of SPEC §7.1): skipped.
        DuplicateRecord = "duplicate_record",
        /// The same `Report ID` as an earlier call record with other content.
        ConflictingRecordId = "conflicting_record_id",
        /// `REMOVE` while nothing is assigned.
        RemoveWithoutAssignment = "remove_without_assignment",
        /// `ASSIGN` identical to the current assignment: a no-op.
        RedundantAssign = "redundant_assign",
        /// A call record whose `Org UUID` is no customer named in an `ASSIGN` row of the events
        /// (an error of a strict rating, a warning of a lenient one).
        UnknownCustomer = "unknown_customer",
        /// A charged call record whose number matches no prefix of the tariff (an error of a
        /// strict rating, a warning of a lenient one).
        NoDestination = "no_destination",
        /// A call record outside the rated period: counted, no row.
        OutsidePeriod = "outside_period",
    }
}

impl IssueKind {
    /// The kind named exactly `name` ([`IssueKind::as_str`], case-sensitive), if any.
    pub fn from_name(name: &str) -> Option<IssueKind> {
        IssueKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// One finding of a loader about one row: where, what and why.
///
/// `line` is the 1-based physical line of the row in its file (the header is line 1). For events
/// pushed through the builder API it is the 1-based number of the event in push order.
///
/// ```
/// use wholesale_billing::{IssueKind, LoadIssue, Severity};
/// let issue = LoadIssue::new(Severity::Error, 7, IssueKind::MissingOffset, "timestamp has no utc offset")
///     .at_column(2, "occurred_at");
/// assert_eq!(issue.to_string(), "line 7, column 2 (occurred_at): error: timestamp has no utc offset");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoadIssue {
    /// Error (row rejected) or warning.
    pub severity: Severity,
    /// 1-based line in the file (or event number for built ledgers).
    pub line: u64,
    /// 1-based column of the offending field, when one field is to blame.
    pub column: Option<usize>,
    /// Name of the offending column, when one field is to blame; for an input read from JSON, the
    /// path of the offending value (`items[3].Duration`).
    pub field: Option<String>,
    /// The row's `event_id`, when known.
    pub event_id: Option<String>,
    /// The 0-based index of the input among several read as one (call record files), when the
    /// load reads several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<u32>,
    /// The 1-based row group of a Parquet file the row is in; `line` is then the 1-based row
    /// within that group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_group: Option<u32>,
    /// The class of the problem.
    pub kind: IssueKind,
    /// A lower-case human explanation.
    pub message: String,
}

impl LoadIssue {
    /// A new issue at a line, without a column.
    pub fn new(severity: Severity, line: u64, kind: IssueKind, message: impl Into<String>) -> Self {
        LoadIssue {
            severity,
            line,
            column: None,
            field: None,
            event_id: None,
            input: None,
            row_group: None,
            kind,
            message: message.into(),
        }
    }

    /// The same issue, blamed on a column (1-based) and field name.
    #[must_use]
    pub fn at_column(mut self, column: usize, field: impl Into<String>) -> Self {
        self.column = Some(column);
        self.field = Some(field.into());
        self
    }

    /// The same issue, naming the row's event id.
    #[must_use]
    pub fn with_event_id(mut self, event_id: impl Into<String>) -> Self {
        let id = event_id.into();
        if !id.is_empty() {
            self.event_id = Some(id);
        }
        self
    }

    /// The same issue, in input `input` (0-based) of several read as one.
    ///
    /// ```
    /// use wholesale_billing::{IssueKind, LoadIssue, Severity};
    /// let issue = LoadIssue::new(Severity::Error, 4, IssueKind::InvalidValue, "invalid duration \"x\"")
    ///     .in_input(1)
    ///     .at_path("items[2].Duration");
    /// assert_eq!(issue.to_string(), "input 2, line 4 (items[2].Duration): error: invalid duration \"x\"");
    /// ```
    #[must_use]
    pub fn in_input(mut self, input: usize) -> Self {
        // Inputs are files named on a command line: never four billion of them.
        self.input = Some(u32::try_from(input).unwrap_or(u32::MAX));
        self
    }

    /// The same issue, at a JSON path (`items[3].Duration`): a value of an input read from JSON is
    /// named by its path where a CSV field is named by its column.
    #[must_use]
    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        self.field = Some(path.into());
        self
    }

    /// The same issue, at `row` (1-based) of row group `group` (1-based) of a Parquet file.
    ///
    /// ```
    /// use wholesale_billing::{IssueKind, LoadIssue, Severity};
    /// let issue = LoadIssue::new(Severity::Error, 15, IssueKind::MissingOffset, "no utc offset")
    ///     .in_row_group(2)
    ///     .at_column(2, "occurred_at");
    /// assert_eq!(issue.to_string(), "row group 2, row 15, column 2 (occurred_at): error: no utc offset");
    /// ```
    #[must_use]
    pub fn in_row_group(mut self, group: u32) -> Self {
        self.row_group = Some(group);
        self
    }

    /// Whether this issue rejected its row.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for LoadIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(input) = self.input {
            write!(f, "input {}, ", input + 1)?;
        }
        match self.row_group {
            Some(group) => write!(f, "row group {group}, row {}", self.line)?,
            None => write!(f, "line {}", self.line)?,
        }
        if let Some(column) = self.column {
            write!(f, ", column {column}")?;
        }
        if let Some(field) = &self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}: {}", self.severity, self.message)?;
        if let Some(id) = &self.event_id {
            write!(f, " [event_id {:#}]", Quoted(id))?;
        }
        Ok(())
    }
}

/// An error and its causes on one line, `a: b: c`: its message, then the message of each of its
/// sources in turn. No error of this crate (nor of the client and the sandbox) repeats its source
/// in its own message, so each cause shows once. For messages shown to people: command-line
/// output, Python exceptions.
///
/// ```
/// use wholesale_billing::{Error, error_with_causes};
/// let err = Error::Io { context: "reading events.csv".into(), source: std::io::Error::other("disk gone") };
/// assert_eq!(err.to_string(), "i/o error while reading events.csv");
/// assert_eq!(error_with_causes(&err), "i/o error while reading events.csv: disk gone");
///
/// let err = wholesale_billing::Organisation::from_json_str(r#"{"partner": {"org_id": "p", "name": "P"}}"#)
///     .unwrap_err();
/// assert_eq!(err.to_string(), "organisation file: line 1, column 40 at partner");
/// assert_eq!(error_with_causes(&err),
///     "organisation file: line 1, column 40 at partner: missing field `subscription_id`");
/// ```
pub fn error_with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        line.push_str(": ");
        line.push_str(&e.to_string());
        cause = e.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::{IssueKind, Severity};

    #[test]
    fn issue_kind_names_are_the_serialised_ones() {
        for kind in IssueKind::ALL {
            let json = serde_json::to_value(kind).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(kind.as_str()));
            assert_eq!(IssueKind::from_name(kind.as_str()), Some(kind));
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(IssueKind::from_name("MISSING_OFFSET"), None);
    }

    #[test]
    fn severity_names_are_the_serialised_ones() {
        for severity in Severity::ALL {
            let json = serde_json::to_value(severity).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(severity.as_str()));
        }
    }
}
