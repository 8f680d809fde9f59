//! The rating engine (SPEC §7.2–§7.5, §7.7): who the customer is, the rating of one record, the
//! allowances, and a run over a month of records in two phases.
//!
//! - `status`: [`RatingStatus`], why a record is charged or not;
//! - `customers`: [`CustomerDirectory`], the customers of the events;
//! - `pools`: [`Pools`], each customer's bundled seconds from the §4 USER report;
//! - `kernel`: [`rate_call`], one record rated without allowances, allocation-free;
//! - `spill`: the compact rows the first phase writes and the second reads back;
//! - `frames`: the spill's frames (rows, and the other bytes below) in one caller's file;
//! - `distinct`: the duplicates by `Report ID`, found after the read, partition by partition;
//! - `candidates`: the calls an allowance may cover, in sorted runs merged back in order;
//! - `allowance`: the consumption of the pools in (`Start time`, `Report ID`) order;
//! - here: the builder [`Rating`], the run [`RatingRun`] and its [`RatingResult`].
//!
//! **Two phases, in bounded memory.** [`RatingRun::push`] rates each record without allowances
//! and writes a compact row to the spill (a caller's [`SpillStorage`], in memory by
//! default); [`RatingRun::read`] also leaves each record's duplicate-search key in the spill, and
//! finds the duplicates after the read. The calls an allowance may cover go to the spill as
//! sorted runs. [`RatingRun::finish`] merges them per customer in order of use, consumes the
//! pools, keeps one cutoff per (customer, allowance), then reads the spill back in input order,
//! skipping the duplicates, applying the covered seconds, noting the issues, and writes the
//! rated-records CSV and the summary. Rows come out in input order while pools are consumed in
//! time order; memory holds buffers, one partition or run buffer at a time, and the summary.
// Every sum of money, seconds or counts here is checked.
#![deny(clippy::arithmetic_side_effects)]

mod allowance;
mod candidates;
mod customers;
mod distinct;
mod frames;
mod kernel;
mod pools;
mod spill;
mod status;
mod storage;

use std::io::{Cursor, Read, SeekFrom, Write};
use std::sync::mpsc::{Receiver, Sender, channel};

use hashbrown::HashMap;
use rust_decimal::Decimal;

pub use customers::CustomerDirectory;
pub use kernel::{CallInput, RatedCall, rate_call};
pub use pools::Pools;
pub use status::RatingStatus;
pub use storage::SpillStorage;

use crate::csvutil::{needs_quotes, push_field};
use crate::error::{Error, IssueKind, LoadIssue, Quoted, Result, Severity};
use crate::ledger::{AssignmentLedger, LoadMode};
use crate::proration::HourPolicy;
use crate::rating::output::{RatedRow, RatedWriter, RatingSummary, RowText, push_header};
use crate::rating::record::{default_threads, strict_check};
use crate::rating::{
    CallRecord, CallTime, CdrDiagnostics, CdrReadOptions, CdrReader, Price, Tariff, TariffAmount, charge,
};
use crate::report::{ReportLevel, ReportOptions, Scope, UsageReport};
use crate::time::Period;

use allowance::{CallKey, Candidate, Consumer, Cutoff};
use candidates::CandidateRuns;
use distinct::{DistinctKeys, Found};
use frames::{FrameReader, FrameWriter};
use spill::{NONE_U16, NONE_U32, OUTSIDE, SpillRow};

/// What the engine names in its errors.
const CONTEXT: &str = "the rating spill";

/// The buffer of the spill (written, then read back) and of the rated CSV.
pub(crate) use crate::csvutil::IO_BUFFER_BYTES;

/// A rating of call records for one period at one tariff: the builder of a [`RatingRun`].
///
/// Customers, owners and pools come from the events ([`Rating::customers`]): the pools are sized
/// from the §4 USER report of the whole subscription for the period under
/// [`Rating::hour_policy`] (default `started`), or from a USER report given
/// ([`Rating::pools`]). Without events every organisation is its own customer, with an empty
/// external id and partner and no pools (no call is `unknown_customer`, none is covered).
///
/// ```
/// use wholesale_billing::{AssignmentLedger, CallFields, CallRecord, CallTime, CallType, Direction, Event,
///     LoadMode, Organisation, Partner, Period, Rating, RatingStatus, TariffDocument};
/// let org = Organisation::new(Partner { org_id: "p".into(), name: "P".into(), subscription_id: "S".into() })?;
/// let mut b = AssignmentLedger::builder(org);
/// b.push(Event::assign("e1", "2024-05-01T00:00:00Z".parse()?, "s1", "c1", "webex_calling"));
/// let (ledger, _) = b.finish(LoadMode::Strict)?;
/// let tariff = TariffDocument::from_toml_str(r#"
/// currency = "GBP"
/// [[destinations]]
/// name = "UK"
/// class = "national"
/// prefixes = ["44"]
/// per_minute = "0.06"
/// initial = 60
/// subsequent = 1
/// [[allowances]]
/// package = "webex_calling"
/// minutes = "1.5"
/// classes = ["national"]
/// "#)?.compile()?;
/// let may = Period::month(2024, 5)?;
/// let mut run = Rating::new(&tariff, may).customers(&ledger).start()?;
/// let call = |id, at: &str, duration| CallRecord::from_fields(&CallFields {
///     report_id: id, start_time: CallTime::parse(at).unwrap(), duration,
///     direction: Direction::Originating, call_type: CallType::SipNational, answered: true,
///     called_number: "+44 20 7946 0000", calling_number: "", org_uuid: "c1", user_uuid: "u1",
///     site_timezone: 0,
/// });
/// // A pool of 90 s covers the first 60 s call and 30 s of the second, pushed first.
/// run.push(&call("r2", "2024-05-02T10:00:00Z", 60)?)?;
/// run.push(&call("r1", "2024-05-01T10:00:00Z", 60)?)?;
/// let mut out = Vec::new();
/// let result = run.finish(&mut out)?;
/// let csv = String::from_utf8(out).unwrap();
/// let rows: Vec<&str> = csv.lines().skip(1).collect();
/// assert!(rows[0].starts_with("r2,c1,,p,u1,") && rows[0].ends_with(",60,30,0.0300,GBP"));
/// assert!(rows[1].starts_with("r1,") && rows[1].ends_with(",60,60,0.0000,GBP"));
/// assert_eq!(result.counts.status(RatingStatus::Charged), 2);
/// let row = &result.summary.rows()[0];
/// assert_eq!((row.calls, row.covered_minutes.to_string(), row.amount.to_string()), (2, "1.5000".into(), "0.03".into()));
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
#[derive(Debug)]
pub struct Rating<'a, S = Cursor<Vec<u8>>> {
    tariff: &'a Tariff,
    period: Period,
    ledger: Option<&'a AssignmentLedger>,
    user_report: Option<&'a UsageReport>,
    hour_policy: HourPolicy,
    mode: LoadMode,
    max_issues: usize,
    threads: usize,
    spill: S,
}

impl<'a> Rating<'a> {
    /// A rating of the records of `period` at `tariff`: without events, strict, the spill in
    /// memory.
    pub fn new(tariff: &'a Tariff, period: Period) -> Self {
        Rating {
            tariff,
            period,
            ledger: None,
            user_report: None,
            hour_policy: HourPolicy::Started,
            mode: LoadMode::Strict,
            max_issues: 1000,
            threads: default_threads(),
            spill: Cursor::new(Vec::new()),
        }
    }
}

impl<'a, S: SpillStorage> Rating<'a, S> {
    /// The customers, their owners and (unless [`Rating::pools`] gives a report) their pools
    /// from the events.
    #[must_use]
    pub fn customers(mut self, ledger: &'a AssignmentLedger) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The USER report of the whole subscription for the period that sizes the pools, instead of
    /// the one computed from the events (packages found in the events' catalog).
    #[must_use]
    pub fn pools(mut self, user_report: &'a UsageReport) -> Self {
        self.user_report = Some(user_report);
        self
    }

    /// The hour policy of the USER report that sizes the pools (default `started`).
    #[must_use]
    pub fn hour_policy(mut self, policy: HourPolicy) -> Self {
        self.hour_policy = policy;
        self
    }

    /// Strict (the default: an `unknown_customer` or `no_destination` record fails the run at
    /// [`RatingRun::finish`], with every such record listed) or lenient (they are rated with their
    /// status and reported as warnings).
    #[must_use]
    pub fn mode(mut self, mode: LoadMode) -> Self {
        self.mode = mode;
        self
    }

    /// The most issues of each severity kept in the result (default 1000); the counts cover all.
    #[must_use]
    pub fn max_issues(mut self, max: usize) -> Self {
        self.max_issues = max;
        self
    }

    /// The threads that [`RatingRun::read`] reads CSV inputs with (default: the machine's
    /// available parallelism; see [`CdrReader::threads`]). The outputs are the same with any.
    ///
    /// ```
    /// use wholesale_billing::{Period, Rating, TariffDocument};
    /// let tariff = TariffDocument::from_toml_str("currency = \"GBP\"")?.compile()?;
    /// let mut run = Rating::new(&tariff, Period::month(2024, 5)?).threads(1).start()?;
    /// let csv = "Report ID,Start time,Duration,Direction,Call type,Answered,Org UUID\n\
    ///            r1,2024-05-03T10:30:00Z,61,TERMINATING,SIP_INBOUND,true,org-1\n";
    /// let read = run.read([csv.as_bytes()], &Default::default())?;
    /// assert_eq!(read.records_accepted, 1);
    /// # Ok::<(), wholesale_billing::Error>(())
    /// ```
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Where the first phase writes its rows (about 110 bytes a record), the keys of the search
    /// for duplicates and the runs of allowance candidates: a temporary file for a
    /// large month, which the second phase gives back as it reads it for the last time
    /// ([`SpillStorage::release`]). The core never opens paths; the caller gives one, empty.
    pub fn spill<T: SpillStorage>(self, spill: T) -> Rating<'a, T> {
        Rating {
            tariff: self.tariff,
            period: self.period,
            ledger: self.ledger,
            user_report: self.user_report,
            hour_policy: self.hour_policy,
            mode: self.mode,
            max_issues: self.max_issues,
            threads: self.threads,
            spill,
        }
    }

    /// Starts the run: the customer directory and the pools are built.
    ///
    /// # Errors
    /// As [`Pools::from_report`] and [`AssignmentLedger::usage_report`].
    pub fn start(self) -> Result<RatingRun<'a, S>> {
        let directory = match self.ledger {
            Some(ledger) => CustomerDirectory::from_ledger(ledger),
            None => CustomerDirectory::open(),
        };
        let pools = match (self.ledger, self.user_report) {
            (Some(_), _) if self.tariff.allowances().is_empty() => Pools::none(),
            (Some(ledger), Some(report)) => Pools::from_report(
                report,
                &ledger.organisation().catalog,
                self.tariff,
                self.period,
                &directory,
            )?,
            (Some(ledger), None) => {
                let options = ReportOptions::new(ReportLevel::User)
                    .scope(Scope::Subscription)
                    .hour_policy(self.hour_policy)
                    .threads(self.threads);
                let report = ledger.usage_report(self.period, &options)?;
                Pools::from_report(
                    &report,
                    &ledger.organisation().catalog,
                    self.tariff,
                    self.period,
                    &directory,
                )?
            }
            (None, _) => Pools::none(),
        };
        Ok(RatingRun {
            tariff: self.tariff,
            period: self.period,
            period_range: CallTime::period_range(&self.period),
            mode: self.mode,
            max_issues: self.max_issues,
            threads: self.threads,
            pools: pools.by_customer(&directory),
            directory,
            spill: FrameWriter::new(self.spill),
            row: SpillRow::default(),
            candidates: CandidateRuns::default(),
            rows: 0,
            keys: None,
            skipped: Vec::new(),
            flagged: 0,
        })
    }
}

/// A rating under way: records are pushed in input order ([`RatingRun::push`],
/// [`RatingRun::read`]), then [`RatingRun::finish`] writes the outputs.
#[derive(Debug)]
pub struct RatingRun<'a, S: Write = Cursor<Vec<u8>>> {
    tariff: &'a Tariff,
    period: Period,
    /// The period's instants ([`CallTime::period_range`]), computed once.
    period_range: std::ops::Range<i128>,
    mode: LoadMode,
    max_issues: usize,
    threads: usize,
    directory: CustomerDirectory,
    pools: HashMap<u32, Vec<u64>>,
    spill: FrameWriter<S>,
    row: SpillRow,
    /// The calls an allowance may cover, in sorted runs in the spill.
    candidates: CandidateRuns,
    /// Rows in the spill: the next row's ordinal.
    rows: u32,
    /// The keys of the duplicate search, while [`RatingRun::read`] reads.
    keys: Option<DistinctKeys>,
    /// The rows of the duplicates found, sorted: the second phase skips them.
    skipped: Vec<u32>,
    /// Rows `unknown_customer` or `no_destination`, duplicates included: a strict run looks for
    /// its errors at [`RatingRun::finish`] when there are any.
    flagged: u64,
}

/// How many records a rating met, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RatingCounts {
    /// Rows of the rated-records table (records of the period).
    pub rows: u64,
    /// Records outside the period: counted, no row.
    pub outside_period: u64,
    /// Charged calls an allowance covered wholly or partly.
    pub covered_calls: u64,
    /// Rows by status, in the order of [`RatingStatus::ALL`].
    by_status: [u64; 7],
}

impl RatingCounts {
    /// The rows of `status`.
    pub fn status(&self, status: RatingStatus) -> u64 {
        self.by_status.get(status.index()).copied().unwrap_or(0)
    }

    /// Every status with its count, in the order of [`RatingStatus::ALL`].
    pub fn by_status(&self) -> impl Iterator<Item = (RatingStatus, u64)> + '_ {
        RatingStatus::ALL.into_iter().zip(self.by_status)
    }
}

/// What a rating gives besides the rated-records table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingResult {
    /// The summary per customer and destination.
    pub summary: RatingSummary,
    /// Records by status, outside the period, covered.
    pub counts: RatingCounts,
    /// The issues found (unknown customers and numbers without destination, as warnings in a
    /// lenient run; records outside the period, as warnings), up to the run's cap per severity.
    pub issues: Vec<LoadIssue>,
    /// The bytes the spill held.
    pub spill_bytes: u64,
    /// The calls an allowance could cover (32 bytes each, in sorted runs of the spill between the
    /// phases, merged back in order of use).
    pub allowance_candidates: u64,
}

impl<S: SpillStorage> RatingRun<'_, S> {
    /// Reads every input (CSV or JSON, by content) as one stream and rates its records.
    ///
    /// # Errors
    /// As [`read_call_records`](crate::read_call_records) and [`RatingRun::push`].
    ///
    /// Duplicates by `Report ID` ([`CdrReadOptions::deduplicate`]) are found after the read
    /// rather than record by record: every valid record is rated and spilled with a key, the keys
    /// are partitioned by id in the spill and each partition is searched alone, so the memory is
    /// that of one partition, not of the month; the duplicates' rows are then skipped. The
    /// diagnostics and issues are those of [`CdrReader`] with its [`Deduplicator`](crate::Deduplicator).
    pub fn read<R: Read>(
        &mut self,
        inputs: impl IntoIterator<Item = R>,
        options: &CdrReadOptions,
    ) -> Result<CdrDiagnostics> {
        let mut reader = CdrReader::new(*options).threads(self.threads);
        self.keys = None;
        if options.deduplicate {
            reader = reader.defer_duplicates();
            self.keys = Some(DistinctKeys::new());
        }
        for input in inputs {
            if let Err(e) = reader.read(input, None, |record| self.push(record)) {
                self.keys = None;
                return Err(e);
            }
        }
        let (mut diagnostics, issue_records) = reader.finish_unchecked();
        if let Some(keys) = self.keys.take() {
            let found = keys.resolve(&mut self.spill, options.max_issues, self.threads)?;
            merge_duplicates(
                &mut diagnostics,
                &issue_records,
                found,
                options.max_issues,
                &mut self.skipped,
            );
        }
        strict_check(options.mode, diagnostics)
    }

    /// Rates one record (records are pushed in input order; duplicates are the reader's to
    /// remove). A record outside the period is counted, with a warning, and gets no row.
    ///
    /// # Errors
    /// [`Error::Io`] when the spill cannot be written; [`Error::Overflow`] past 4 billion records
    /// or when a charge does not fit.
    pub fn push(&mut self, record: &CallRecord) -> Result<()> {
        let ordinal = self.rows;
        self.rows = self
            .rows
            .checked_add(1)
            .ok_or_else(|| Error::overflow("more than 4 billion call records in one rating"))?;
        if let Some(keys) = &mut self.keys {
            keys.push(record, ordinal, &mut self.spill)?;
        }
        let row = &mut self.row;
        let origin = record.origin();
        row.input = u32::try_from(origin.input).map_err(|_| Error::overflow("more than 4 billion inputs"))?;
        row.line = origin.line;
        row.item = origin.item.unwrap_or(u64::MAX);
        row.report_id.clear();
        row.report_id.extend_from_slice(record.report_id().as_bytes());
        row.start = record.start_time().as_nanos();
        row.org.clear();
        row.user.clear();
        row.digits.clear();
        row.called.clear();
        if !record.start_time().in_range(&self.period_range) {
            row.status = OUTSIDE;
            row.candidate = false;
            row.plain = false;
            return self.spill.push_row(row);
        }
        let customer = self.directory.resolve(record.org_uuid());
        let call = CallInput {
            known_customer: customer.is_some(),
            direction: record.direction(),
            call_type: record.call_type(),
            answered: record.answered(),
            duration: record.duration(),
            called_number: record.called_number(),
            start_time: record.start_time(),
            site_timezone: record.site_timezone(),
        };
        let rated = rate_call(self.tariff, &call)?;
        if matches!(
            rated.status,
            RatingStatus::UnknownCustomer | RatingStatus::NoDestination
        ) {
            self.flagged = add(self.flagged, 1)?;
        }
        let candidate = match (customer, rated.class) {
            (Some(c), Some(class)) if rated.status.is_charged() && self.pools.contains_key(&c) => {
                self.tariff.allowances().iter().any(|a| a.covers(class))
            }
            _ => false,
        };
        row.status = u8::try_from(rated.status.index()).unwrap_or(0);
        row.candidate = candidate;
        row.duration = record.duration();
        row.customer = customer.unwrap_or(NONE_U32);
        row.destination = rated
            .destination
            .and_then(|d| u32::try_from(d.index()).ok())
            .unwrap_or(NONE_U32);
        row.band = rated
            .band
            .and_then(|b| u16::try_from(b.index()).ok())
            .unwrap_or(NONE_U16);
        row.class = rated
            .class
            .and_then(|c| u16::try_from(c.index()).ok())
            .unwrap_or(NONE_U16);
        row.prefix_len = u32::try_from(rated.prefix_len).unwrap_or(u32::MAX);
        row.billable = rated.billable_seconds;
        row.charge = rated.charge;
        row.price = (rated.price.connect_fee.micros(), rated.price.per_minute.micros());
        if customer.is_none() {
            row.org.extend_from_slice(record.org_uuid().as_bytes());
        }
        row.user.extend_from_slice(record.user_uuid().as_bytes());
        row.plain = record.plain || (!needs_quotes(&row.report_id) && !needs_quotes(&row.user));
        if matches!(rated.status, RatingStatus::Charged | RatingStatus::NoDestination) {
            kernel::push_digits(record.called_number(), &mut row.digits);
        }
        if rated.status == RatingStatus::NoDestination {
            row.called.extend_from_slice(record.called_number().as_bytes());
        }
        if candidate {
            let candidate = Candidate {
                customer: row.customer,
                ordinal,
                start: row.start,
                id_prefix: allowance::id_prefix(record.report_id().as_bytes()),
                billable: u32::try_from(rated.billable_seconds)
                    .map_err(|_| Error::overflow("billable seconds of a call an allowance may cover"))?,
                class: row.class,
            };
            self.candidates.push(candidate, &mut self.spill)?;
        }
        self.spill.push_row(row)
    }

    /// Ends the run: consumes the pools in (`Start time`, `Report ID`) order, writes the rated
    /// records to `rated_out` as CSV in input order, and gives the summary and the counts.
    ///
    /// # Errors
    /// [`Error::RecordsRejected`] in a strict run with `unknown_customer` or `no_destination`
    /// records (nothing is written then); [`Error::Io`] when the spill or the output fails;
    /// [`Error::Overflow`] when a sum does not fit.
    pub fn finish(self, rated_out: impl Write) -> Result<RatingResult> {
        let RatingRun {
            tariff,
            period,
            mode,
            max_issues,
            directory,
            pools,
            spill,
            candidates,
            skipped,
            flagged,
            threads,
            ..
        } = self;
        let io = |what: &'static str| move |e: std::io::Error| Error::io(format!("{what} {CONTEXT}"), e);
        let spill_bytes = spill.bytes();
        let mut spill = spill.into_inner()?;
        let strict = mode == LoadMode::Strict;
        if strict && flagged > 0 {
            // The errors, found in input order with the duplicates skipped.
            spill.seek(SeekFrom::Start(0)).map_err(io("rewinding"))?;
            let mut rows = SpillRows::new(&mut spill, &skipped, false);
            let mut issues = Issues::new(max_issues);
            while let Some((_, row)) = rows.next().map_err(io("reading"))? {
                issues.of_row(row, period, strict)?;
            }
            if issues.errors > 0 {
                return Err(Error::RecordsRejected {
                    errors: issues.errors,
                    issues: issues.kept.into_iter().filter(LoadIssue::is_error).collect(),
                });
            }
        }
        // Phase 2a: the pools consumed in order of use, the candidates merged from their sorted
        // runs twice: first for the ties on (customer, start, id prefix), whose full ids are then
        // read back from the rows, then in order.
        let mut ids = HashMap::new();
        let mut candidates = candidates;
        let tied = candidates::tied_ordinals(&mut candidates.merge(&mut spill, &skipped)?)?;
        if !tied.is_empty() {
            spill.seek(SeekFrom::Start(0)).map_err(io("rewinding"))?;
            let mut rows = SpillRows::new(&mut spill, &skipped, false);
            while let Some((ordinal, row)) = rows.next().map_err(io("reading"))? {
                if tied.binary_search(&ordinal).is_ok() {
                    ids.insert(ordinal, String::from_utf8_lossy(&row.report_id).into_owned());
                }
            }
        }
        let mut consumer = Consumer::new(tariff, &pools, &ids);
        let mut allowance_candidates = 0u64;
        let mut merge = candidates.merge(&mut spill, &skipped)?;
        candidates::in_order_of_use(&mut merge, &ids, |c| {
            allowance_candidates = add(allowance_candidates, 1)?;
            consumer.take(c)
        })?;
        let cutoffs = consumer.cutoffs();
        // Phase 2b: the rows in input order, formatted here or by a second thread.
        spill.seek(SeekFrom::Start(0)).map_err(io("rewinding"))?;
        // The last reading: what is read is given back as it goes.
        let mut rows = SpillRows::new(&mut spill, &skipped, true);
        let mut counts = RatingCounts::default();
        let mut issues = Issues::new(max_issues);
        let mut back = Back {
            tariff,
            period,
            strict,
            cutoffs: &cutoffs,
            counts: &mut counts,
            issues: &mut issues,
        };
        let decimals = tariff.rating_decimals();
        let format = Format::new(tariff, &directory);
        let totals = if threads < 2 {
            let mut writer = RatedWriter::new(rated_out)?;
            let totals = back.rows(&mut rows, |row, covered, charge_units| {
                writer.write_row(&format.record(row, covered, charge_units))
            })?;
            writer.finish()?;
            totals
        } else {
            std::thread::scope(|scope| {
                let (to_worker, batches) = channel::<RowBatch>();
                let (to_reader, formatted) = channel::<RowBatch>();
                let format = &format;
                scope.spawn(move || format_rows(format, batches, to_reader));
                let mut out = FormattedOut {
                    out: rated_out,
                    to_worker: Some(to_worker),
                    formatted,
                    current: RowBatch::default(),
                    free: Vec::new(),
                    made: 1,
                    outstanding: 0,
                };
                let totals = back.rows(&mut rows, |row, covered, charge_units| {
                    out.push(row, covered, charge_units)
                })?;
                out.finish()?;
                Ok::<_, Error>(totals)
            })?
        };
        let name = |destination: u32| tariff.destinations().get(destination as usize).map_or("", |d| d.name());
        let summary = RatingSummary::from_totals(
            in_summary_order(totals, |c| directory.get(c).org_id.as_str(), name)
                .into_iter()
                .map(|((customer, destination), t)| (directory.get(customer).org_id.as_str(), name(destination), t)),
            decimals,
            tariff.currency(),
        )?;
        Ok(RatingResult {
            summary,
            counts,
            issues: issues.kept,
            spill_bytes,
            allowance_candidates,
        })
    }
}

/// The totals per (customer, destination) in the summary's order (customer org id, then
/// destination name, byte order), sorted by the ranks of the names rather than by the names:
/// a month has hundreds of thousands of pairs but a few thousand names of each kind.
fn in_summary_order<'n>(
    totals: HashMap<(u32, u32), crate::rating::output::Totals>,
    customer: impl Fn(u32) -> &'n str,
    destination: impl Fn(u32) -> &'n str,
) -> Vec<((u32, u32), crate::rating::output::Totals)> {
    /// The rank of each index in the byte order of its name (indices not named rank last).
    fn ranks<'n>(indices: impl Iterator<Item = u32>, name: impl Fn(u32) -> &'n str) -> Vec<u32> {
        let mut named: Vec<u32> = indices.collect();
        named.sort_unstable();
        named.dedup();
        let len = named.last().map_or(0, |&last| (last as usize).saturating_add(1));
        named.sort_by(|&a, &b| name(a).as_bytes().cmp(name(b).as_bytes()));
        let mut rank = vec![u32::MAX; len];
        for (r, &index) in named.iter().enumerate() {
            if let Some(slot) = rank.get_mut(index as usize) {
                *slot = u32::try_from(r).unwrap_or(u32::MAX);
            }
        }
        rank
    }
    let customers = ranks(totals.keys().map(|&(c, _)| c), customer);
    let destinations = ranks(totals.keys().map(|&(_, d)| d), destination);
    let rank_of = |ranks: &[u32], index: u32| ranks.get(index as usize).copied().unwrap_or(u32::MAX);
    let mut sorted: Vec<_> = totals.into_iter().collect();
    sorted.sort_unstable_by_key(|&((c, d), _)| (rank_of(&customers, c), rank_of(&destinations, d)));
    sorted
}

/// What the second phase needs to write a rated row: the names of the tariff and the customers,
/// each quoted for CSV once here rather than checked at every row.
struct Format<'t> {
    tariff: &'t Tariff,
    /// Destination, class and band names, quoted as they need.
    destinations: Vec<Vec<u8>>,
    classes: Vec<Vec<u8>>,
    bands: Vec<Vec<u8>>,
    /// Org id, external id and partner org id of each customer, quoted as they need.
    customers: Vec<[Vec<u8>; 3]>,
    /// A zero charge at the tariff's rating decimals.
    zero: Decimal,
}

impl<'t> Format<'t> {
    fn new(tariff: &'t Tariff, directory: &CustomerDirectory) -> Self {
        let quoted = |text: &str| {
            let mut out = Vec::new();
            push_field(&mut out, text.as_bytes());
            out
        };
        let customers = (0..directory.len())
            .map(|c| {
                let c = directory.get(u32::try_from(c).unwrap_or(NONE_U32));
                [quoted(&c.org_id), quoted(&c.external_id), quoted(&c.partner_org_id)]
            })
            .collect();
        Format {
            tariff,
            destinations: tariff.destinations().iter().map(|d| quoted(d.name())).collect(),
            classes: tariff.classes().iter().map(|c| quoted(c)).collect(),
            bands: tariff.bands().iter().map(|b| quoted(b.name())).collect(),
            customers,
            zero: Decimal::new(0, tariff.rating_decimals()),
        }
    }

    /// The rated row of a spill row, with its covered seconds and charge.
    fn record<'r>(&'r self, row: &'r SpillRow, covered: u64, charge_units: i64) -> RatedRow<'r> {
        let tariff = self.tariff;
        let status = row.status();
        let name = |names: &'r [Vec<u8>], index: usize| RowText::as_is(names.get(index).map_or(&[][..], Vec::as_slice));
        let (org, external, partner) = match self.customers.get(row.customer as usize) {
            Some([org, external, partner]) => (RowText::as_is(org), RowText::as_is(external), RowText::as_is(partner)),
            None => (RowText::any(&row.org), RowText::default(), RowText::default()),
        };
        let id = |text: &'r [u8]| RowText {
            bytes: text,
            as_is: row.plain,
        };
        let prefix_len = usize::try_from(row.prefix_len).unwrap_or(0);
        RatedRow {
            ids: [id(&row.report_id), org, external, partner, id(&row.user)],
            start_time: CallTime::from_nanos(row.start),
            duration: row.duration,
            status,
            rated: [
                // Digits only.
                RowText::as_is(&row.digits),
                RowText::as_is(if status.is_charged() {
                    row.digits.get(..prefix_len).unwrap_or_default()
                } else {
                    &[]
                }),
                name(&self.destinations, row.destination as usize),
                name(&self.classes, usize::from(row.class)),
                name(&self.bands, usize::from(row.band)),
            ],
            billable_seconds: row.billable,
            covered_seconds: covered,
            charge: if charge_units == 0 {
                self.zero
            } else {
                Decimal::new(charge_units, tariff.rating_decimals())
            },
            currency: tariff.currency(),
        }
    }
}

/// The spill's rows in input order, the duplicates' skipped.
struct SpillRows<'s, R: SpillStorage> {
    frames: FrameReader<R>,
    skipped: std::iter::Peekable<std::slice::Iter<'s, u32>>,
    row: SpillRow,
    /// The ordinal of the next row.
    next: u32,
}

impl<'s, R: SpillStorage> SpillRows<'s, R> {
    fn new(input: R, skipped: &'s [u32], last: bool) -> Self {
        SpillRows {
            frames: FrameReader::new(input, last),
            skipped: skipped.iter().peekable(),
            row: SpillRow::default(),
            next: 0,
        }
    }

    /// The next row that is no duplicate, with its ordinal.
    fn next(&mut self) -> std::io::Result<Option<(u32, &mut SpillRow)>> {
        loop {
            if !self.frames.next_row(&mut self.row)? {
                return Ok(None);
            }
            let ordinal = self.next;
            self.next = self.next.saturating_add(1);
            if self.skipped.peek() == Some(&&ordinal) {
                self.skipped.next();
                continue;
            }
            return Ok(Some((ordinal, &mut self.row)));
        }
    }
}

/// The issues of the rows, the first `max` of each severity kept.
struct Issues {
    max: u64,
    errors: u64,
    warnings: u64,
    kept: Vec<LoadIssue>,
}

impl Issues {
    fn new(max: usize) -> Self {
        Issues {
            max: max as u64,
            errors: 0,
            warnings: 0,
            kept: Vec::new(),
        }
    }

    /// The issue of a row, if it has one: outside the period (a warning), an unknown customer or
    /// a number without destination (an error in a strict run). Returns whether it is outside.
    fn of_row(&mut self, row: &SpillRow, period: Period, strict: bool) -> Result<bool> {
        let severity = if strict { Severity::Error } else { Severity::Warning };
        let (severity, kind, field, message) = if row.status == OUTSIDE {
            let message = format!(
                "report id {} starts at {}, outside the period {period}: no row",
                Quoted(&String::from_utf8_lossy(&row.report_id)),
                CallTime::from_nanos(row.start),
            );
            (Severity::Warning, IssueKind::OutsidePeriod, "Start time", message)
        } else {
            match row.status() {
                RatingStatus::UnknownCustomer => {
                    let message = format!(
                        "unknown customer {}: no ASSIGN row of the events names it",
                        Quoted(&String::from_utf8_lossy(&row.org))
                    );
                    (severity, IssueKind::UnknownCustomer, "Org UUID", message)
                }
                RatingStatus::NoDestination => {
                    let message = format!(
                        "no destination of the tariff for called number {}",
                        Quoted(&String::from_utf8_lossy(&row.called))
                    );
                    (severity, IssueKind::NoDestination, "Called number", message)
                }
                _ => return Ok(false),
            }
        };
        let count = if severity == Severity::Error {
            &mut self.errors
        } else {
            &mut self.warnings
        };
        *count = add(*count, 1)?;
        if *count <= self.max {
            let mut issue = LoadIssue::new(severity, row.line, kind, message).in_input(row.input as usize);
            if row.item == u64::MAX {
                issue.field = Some(field.to_owned());
            } else {
                issue = issue.at_path(format!("items[{}].{field}", row.item));
            }
            self.kept.push(issue);
        }
        Ok(row.status == OUTSIDE)
    }
}

/// The second phase's reading of the rows: statuses counted, issues noted, covered seconds
/// applied, totals summed.
struct Back<'b> {
    tariff: &'b Tariff,
    period: Period,
    strict: bool,
    cutoffs: &'b allowance::Cutoffs,
    counts: &'b mut RatingCounts,
    issues: &'b mut Issues,
}

impl Back<'_> {
    /// Reads the rows back in input order, applies the covered seconds, sums the totals and
    /// hands each row of the period, with its covered seconds and charge, to `write`.
    fn rows<R: SpillStorage>(
        &mut self,
        rows: &mut SpillRows<'_, R>,
        mut write: impl FnMut(&mut SpillRow, u64, i64) -> Result<()>,
    ) -> Result<HashMap<(u32, u32), crate::rating::output::Totals>> {
        let io = |e: std::io::Error| Error::io(format!("reading {CONTEXT}"), e);
        let tariff = self.tariff;
        let decimals = tariff.rating_decimals();
        let mut totals: HashMap<(u32, u32), crate::rating::output::Totals> = HashMap::new();
        let no_cuts: Vec<Cutoff> = Vec::new();
        while let Some((ordinal, row)) = rows.next().map_err(io)? {
            if self.issues.of_row(row, self.period, self.strict)? {
                self.counts.outside_period = add(self.counts.outside_period, 1)?;
                continue;
            }
            let status = row.status();
            if let Some(count) = self.counts.by_status.get_mut(status.index()) {
                *count = add(*count, 1)?;
            }
            self.counts.rows = add(self.counts.rows, 1)?;
            let mut covered = 0u64;
            let mut charge_units = row.charge;
            if row.candidate {
                let cuts = self.cutoffs.get(&row.customer).unwrap_or(&no_cuts);
                let key = CallKey {
                    ordinal,
                    start: row.start,
                    id: &row.report_id,
                };
                covered = allowance::covered(tariff, cuts, row.class, row.billable, &key)?;
                if covered > 0 {
                    self.counts.covered_calls = add(self.counts.covered_calls, 1)?;
                    charge_units = if covered >= row.billable {
                        0
                    } else {
                        let price = Price {
                            connect_fee: TariffAmount::from_decimal(Decimal::new(row.price.0, 6))?,
                            per_minute: TariffAmount::from_decimal(Decimal::new(row.price.1, 6))?,
                        };
                        let rest = row
                            .billable
                            .checked_sub(covered)
                            .ok_or_else(|| Error::overflow("billable − covered seconds"))?;
                        charge(price, rest, decimals)?
                    };
                }
            }
            if status.is_charged() {
                totals
                    .entry((row.customer, row.destination))
                    .or_default()
                    .add(row.billable, covered, charge_units)?;
            }
            write(row, covered, charge_units)?;
        }
        Ok(totals)
    }
}

/// Puts the duplicates found after a read into its diagnostics: counts, their issues in read
/// order among the reader's (the first `max` of each severity kept), their rows to skip.
fn merge_duplicates(
    diagnostics: &mut CdrDiagnostics,
    issue_records: &[u64],
    found: Vec<Found>,
    max: usize,
    skipped: &mut Vec<u32>,
) {
    let mut found_issues = Vec::new();
    for f in found {
        diagnostics.records_accepted = diagnostics.records_accepted.saturating_sub(1);
        if f.identical {
            diagnostics.duplicates_skipped = diagnostics.duplicates_skipped.saturating_add(1);
            diagnostics.warnings = diagnostics.warnings.saturating_add(1);
        } else {
            diagnostics.records_rejected = diagnostics.records_rejected.saturating_add(1);
            diagnostics.errors = diagnostics.errors.saturating_add(1);
        }
        skipped.push(f.ordinal);
        if let Some(issue) = f.issue {
            found_issues.push((f.read_index, issue));
        }
    }
    skipped.sort_unstable();
    if found_issues.is_empty() {
        return;
    }
    // The reader's issues of a record come before a duplicate's issue of the same record.
    let mut all: Vec<((u64, u8), LoadIssue)> = std::mem::take(&mut diagnostics.issues)
        .into_iter()
        .enumerate()
        .map(|(i, issue)| ((issue_records.get(i).copied().unwrap_or(u64::MAX), 0), issue))
        .chain(found_issues.into_iter().map(|(at, issue)| ((at, 1), issue)))
        .collect();
    all.sort_by_key(|(at, _)| *at);
    let (mut errors, mut warnings) = (0usize, 0usize);
    for (_, issue) in all {
        let kept = if issue.is_error() { &mut errors } else { &mut warnings };
        if *kept < max {
            *kept = kept.saturating_add(1);
            diagnostics.issues.push(issue);
        }
    }
}

/// Rows handed to the formatting thread: spill rows with their covered seconds and charge, and
/// the bytes of the rated CSV they come back as.
#[derive(Default)]
struct RowBatch {
    rows: Vec<SpillRow>,
    /// Covered seconds and charge of each row.
    charges: Vec<(u64, i64)>,
    /// Rows filled, from the start of `rows`.
    len: usize,
    /// The rated CSV of the rows (the first batch starts with the header).
    bytes: Vec<u8>,
}

/// Rows per batch of the formatting thread.
const FORMAT_BATCH: usize = 2048;
/// Batches in flight to and from the formatting thread.
const FORMAT_BATCHES: usize = 4;

/// The formatting thread: writes each batch's rows as rated CSV into its bytes (the first batch's
/// after the header) and sends it back.
fn format_rows(format: &Format<'_>, batches: Receiver<RowBatch>, to_reader: Sender<RowBatch>) {
    let mut header = true;
    while let Ok(mut batch) = batches.recv() {
        batch.bytes.clear();
        if std::mem::take(&mut header) {
            push_header(&mut batch.bytes);
        }
        for (row, &(covered, charge_units)) in batch.rows.iter().zip(&batch.charges).take(batch.len) {
            format.record(row, covered, charge_units).push_to(&mut batch.bytes);
        }
        // The reading thread may have stopped on an error of its own.
        if to_reader.send(batch).is_err() {
            return;
        }
    }
}

/// The finishing thread's end of the formatting: batches of rows sent in order, their bytes
/// written to the output in the same order.
struct FormattedOut<W: Write> {
    out: W,
    to_worker: Option<Sender<RowBatch>>,
    formatted: Receiver<RowBatch>,
    current: RowBatch,
    free: Vec<RowBatch>,
    made: usize,
    outstanding: usize,
}

/// The formatting thread ended before its work: it does only when the reading side stops.
fn formatting_gone() -> Error {
    Error::io(
        "writing the rated records",
        std::io::Error::other("the formatting thread stopped"),
    )
}

impl<W: Write> FormattedOut<W> {
    /// Takes the row (leaving a row to be filled again) for the next batch.
    fn push(&mut self, row: &mut SpillRow, covered: u64, charge_units: i64) -> Result<()> {
        let batch = &mut self.current;
        if batch.rows.len() == batch.len {
            batch.rows.push(SpillRow::default());
            batch.charges.push((0, 0));
        }
        if let (Some(slot), Some(charges)) = (batch.rows.get_mut(batch.len), batch.charges.get_mut(batch.len)) {
            std::mem::swap(slot, row);
            *charges = (covered, charge_units);
        }
        batch.len = batch.len.saturating_add(1);
        if batch.len >= FORMAT_BATCH {
            self.send()?;
        }
        Ok(())
    }

    /// Sends the current batch (even empty: the first brings the header back).
    fn send(&mut self) -> Result<()> {
        while self.free.is_empty() && self.made >= FORMAT_BATCHES {
            self.receive()?;
        }
        let next = match self.free.pop() {
            Some(batch) => batch,
            None => {
                self.made = self.made.saturating_add(1);
                RowBatch::default()
            }
        };
        let full = std::mem::replace(&mut self.current, next);
        let to_worker = self.to_worker.as_ref().ok_or_else(formatting_gone)?;
        to_worker.send(full).map_err(|_| formatting_gone())?;
        self.outstanding = self.outstanding.saturating_add(1);
        Ok(())
    }

    /// Writes the bytes of the oldest batch sent.
    fn receive(&mut self) -> Result<()> {
        let mut batch = self.formatted.recv().map_err(|_| formatting_gone())?;
        self.outstanding = self.outstanding.saturating_sub(1);
        // A batch is half a megabyte: written in pieces (see `IO_BUFFER_BYTES`).
        crate::csvutil::write_in_pieces(&mut self.out, &batch.bytes)
            .map_err(|e| Error::io("writing the rated records", e))?;
        batch.bytes.clear();
        batch.len = 0;
        self.free.push(batch);
        Ok(())
    }

    /// Sends the last rows, writes every batch's bytes and flushes the output.
    fn finish(mut self) -> Result<()> {
        self.send()?;
        self.to_worker = None;
        while self.outstanding > 0 {
            self.receive()?;
        }
        self.out.flush().map_err(|e| Error::io("writing the rated records", e))
    }
}

/// `a + b` of a count, checked.
fn add(a: u64, b: u64) -> Result<u64> {
    a.checked_add(b)
        .ok_or_else(|| Error::overflow("a count of call records"))
}
