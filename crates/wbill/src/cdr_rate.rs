//! `wbill cdr rate`: call records + a tariff (+ the events and organisation for the customers and
//! their allowance pools) → the rated-records CSV and the rating summary.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use wholesale_billing::{
    ArrowCsv, AssignmentLedger, CdrDiagnostics, CdrReadOptions, Decimal, Error, HourPolicy, LoadIssue, LoadMode,
    Period, Rating, RatingResult, Tariff, UsageReport, rated_csv_to_parquet,
};

use crate::atomic::{self, AtomicFile};
use crate::inputs::{PeriodArgs, TableFormat, write_parquet_table};
use crate::progress::{SHOWN_ISSUES, file_reader, thousands};
use crate::stdio::{Input, Output, input_arg, output_arg, stdout};
use crate::tariff_cmd::{dir_of, read_tariff};
use crate::usage::{InputFormat, ReportFormatArg, input_format};
use crate::usage::{PolicyArg, load_ledger, load_org};

/// Arguments of `wbill cdr rate`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill cdr rate --cdrs may-cdrs.csv --tariff tariff.toml --events events.csv --org org.toml \
                        --from 2024-05-01 --to 2024-05-31 --out may-rated.csv --summary may-summary.csv\n\n\
                        Without --events/--org every organisation is a customer and no allowance applies. \
                        How a call is rated: docs/minutes.md."
)]
pub struct RateArgs {
    /// Call record files, CSV (Detailed Call History) or JSON (the CDR feed) by content, read as one
    /// input (a record in two files is rated once); `-` for standard input (one of them).
    #[arg(long, value_name = "FILE", num_args = 1.., required = true, value_parser = input_arg())]
    pub cdrs: Vec<Input>,
    /// Tariff file: TOML, or JSON by the `.json` extension; its `prefix_table` is read relative to it.
    #[arg(long, value_name = "FILE")]
    pub tariff: PathBuf,
    /// Assignment events (CSV, Parquet or Arrow IPC): the customers, their owners and the allowance
    /// pools; `-` for standard input (CSV).
    #[arg(long, value_name = "FILE", requires = "org", value_parser = input_arg())]
    pub events: Option<Input>,
    /// Organisation file, TOML or JSON (with --events).
    #[arg(long, value_name = "FILE", requires = "events")]
    pub org: Option<PathBuf>,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// The rated records, written whole or not at all; `-` for standard output.
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    pub out: Output,
    /// The rated records' format: CSV, or Parquet (typed columns: `START_TIME` a UTC timestamp,
    /// `CHARGE` an exact decimal at the tariff's rating decimals).
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = ReportFormatArg::Csv)]
    pub rated_format: ReportFormatArg,
    /// The summary by customer and destination, written whole or not at all; `-` for standard
    /// output (when --out is a file).
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    pub summary: Option<Output>,
    /// The summary's format (Parquet: `CALLS` a whole number, minutes and amounts exact decimals).
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    /// When an hour of assignment counts, for the allowance pools (docs/proration.md).
    #[arg(long, value_enum, default_value_t = PolicyArg::Started)]
    pub hour_policy: PolicyArg,
    /// Skip bad records and rate the rest (issues on stderr) instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

impl RateArgs {
    /// The options given `-` (standard input), once per use.
    pub fn stdin_options(&self) -> Vec<&'static str> {
        let cdrs = self.cdrs.iter().filter(|i| **i == Input::Stdin).map(|_| "--cdrs");
        let events = self.events.iter().filter(|i| **i == Input::Stdin).map(|_| "--events");
        cdrs.chain(events).collect()
    }
}

/// Runs `wbill cdr rate`.
pub fn run(args: &RateArgs) -> Result<()> {
    let started = Instant::now();
    if args.summary == Some(Output::Stdout) && args.out == Output::Stdout {
        bail!("--out and --summary both ask for standard output (`-`): give one of them a file name");
    }
    let period = args.period.period()?;
    let mode = if args.lenient {
        LoadMode::Lenient
    } else {
        LoadMode::Strict
    };
    let (_, tariff) = read_tariff(&args.tariff)?;
    let ledger: Option<AssignmentLedger> = match (&args.events, &args.org) {
        (Some(events), Some(org)) => Some(load_ledger(events, load_org(org)?, mode, None)?.0),
        _ => None,
    };
    let rating = CallRating {
        cdrs: &args.cdrs,
        tariff: &tariff,
        ledger: ledger.as_ref(),
        pools: None,
        period,
        hour_policy: HourPolicy::from(args.hour_policy),
        lenient: args.lenient,
        spill_dir: match &args.out {
            Output::File(path) => Some(dir_of(path)),
            Output::Stdout => None,
        },
        print_read_issues: true,
    };

    // The rated records, then the summary; both put in place together once complete.
    let mut out_file = match &args.out {
        Output::File(path) => Some(AtomicFile::create(path)?),
        Output::Stdout => None,
    };
    let spill_dir = match &args.out {
        Output::File(path) => dir_of(path).to_path_buf(),
        Output::Stdout => std::env::temp_dir(),
    };
    let (read, result) = match &mut out_file {
        Some(file) => rate_as(&rating, file.writer(), args.rated_format, &spill_dir)?,
        None => {
            let mut out = stdout();
            let rated = rate_as(&rating, &mut out, args.rated_format, &spill_dir)?;
            out.flush()?;
            rated
        }
    };
    let mut staged = Vec::new();
    if let Some(file) = out_file {
        staged.push(file.finish()?);
    }
    match &args.summary {
        Some(Output::File(path)) => {
            let mut file = AtomicFile::create(path)?;
            write_summary(file.writer(), &result, args.format)?;
            staged.push(file.finish()?);
        }
        Some(Output::Stdout) => {
            let mut out = stdout();
            write_summary(&mut out, &result, args.format)?;
            out.flush()?;
        }
        None => {}
    }
    atomic::commit_all(staged)?;
    report(args, &read, &result, tariff.currency().code(), started)
}

/// Where an issue of one input is in its file (see `ArrowCsv::locator`).
type Locator = Box<dyn Fn(LoadIssue) -> LoadIssue>;

/// One rating of call record files, shared by `wbill cdr rate`, `wbill invoice customers --cdrs`
/// and `wbill demo`: the records of every file read as one input, rated at a tariff, the rated
/// records written out, issues printed on stderr with their files.
pub struct CallRating<'a> {
    /// The call record files (CSV or JSON by content).
    pub cdrs: &'a [Input],
    /// The tariff.
    pub tariff: &'a Tariff,
    /// The customers, owners and (unless `pools`) pools; `None`: every org is a customer.
    pub ledger: Option<&'a AssignmentLedger>,
    /// The USER report of the whole subscription that sizes the pools, when already computed.
    pub pools: Option<&'a UsageReport>,
    /// The period rated.
    pub period: Period,
    /// The hour policy of the pools.
    pub hour_policy: HourPolicy,
    /// Lenient (rate the rest) or strict.
    pub lenient: bool,
    /// Where the temporary spill file goes (`None`: the system's temporary directory).
    pub spill_dir: Option<&'a Path>,
    /// Whether the issues of reading the records are printed (not again for a second rating of
    /// the same records).
    pub print_read_issues: bool,
}

impl CallRating<'_> {
    /// Rates the records, writing the rated records to `rated_out`.
    pub fn rate(&self, rated_out: &mut dyn Write) -> Result<(CdrDiagnostics, RatingResult)> {
        let mode = if self.lenient {
            LoadMode::Lenient
        } else {
            LoadMode::Strict
        };
        let spill = match self.spill_dir {
            Some(dir) => tempfile::tempfile_in(dir)
                .with_context(|| format!("cannot create the rating's temporary file in {}", dir.display()))?,
            None => tempfile::tempfile().context("cannot create the rating's temporary file")?,
        };
        let mut rating = Rating::new(self.tariff, self.period)
            .hour_policy(self.hour_policy)
            .mode(mode)
            .spill(spill);
        if let Some(ledger) = self.ledger {
            rating = rating.customers(ledger);
        }
        if let Some(report) = self.pools {
            rating = rating.pools(report);
        }
        rating = rating.threads(crate::progress::threads());
        let mut run = rating.start()?;
        // Parquet and Arrow IPC are read as the CSV they hold (line n is row n − 1); an issue in
        // a Parquet file is then told by row group and row.
        let mut locators: Vec<Option<Locator>> = Vec::new();
        let readers = self
            .cdrs
            .iter()
            .map(|input| -> Result<Box<dyn Read + Send>> {
                let (reader, locator): (Box<dyn Read + Send>, _) = match input_format(input, "call records")? {
                    InputFormat::Text => (file_reader(input, "call records")?.0, None),
                    InputFormat::Parquet(file) => {
                        let csv = ArrowCsv::parquet(file, "call records")?;
                        let locate: Locator = Box::new(csv.locator());
                        (Box::new(csv), Some(locate))
                    }
                    InputFormat::ArrowIpc(file) => (
                        Box::new(ArrowCsv::ipc(std::io::BufReader::new(file), "call records")?),
                        None,
                    ),
                };
                locators.push(locator);
                Ok(reader)
            })
            .collect::<Result<Vec<_>>>()?;
        let locate = |issue: LoadIssue| match issue
            .input
            .and_then(|i| locators.get(usize::try_from(i).ok()?))
            .and_then(Option::as_ref)
        {
            Some(locate) => locate(issue),
            None => issue,
        };
        let locate_all = |issues: Vec<LoadIssue>| -> Vec<LoadIssue> { issues.into_iter().map(locate).collect() };
        let locate_error = |e: Error| match e {
            Error::RecordsRejected { errors, issues } => Error::RecordsRejected {
                errors,
                issues: locate_all(issues),
            },
            e => e,
        };
        let options = CdrReadOptions {
            mode,
            ..CdrReadOptions::default()
        };
        let mut read = run
            .read(readers, &options)
            .map_err(|e| rejected(locate_error(e), self.cdrs, self.lenient))?;
        read.issues = locate_all(std::mem::take(&mut read.issues));
        if self.print_read_issues {
            print_issues(&read.issues, self.cdrs);
        }
        let mut result = run
            .finish(rated_out)
            .map_err(|e| rejected(locate_error(e), self.cdrs, self.lenient))?;
        result.issues = locate_all(std::mem::take(&mut result.issues));
        print_issues(&result.issues, self.cdrs);
        Ok((read, result))
    }
}

/// Rates, writing the rated records to `out` as CSV, or as Parquet: the CSV goes to a temporary
/// file of `dir`, is typed into Parquet in a second (streaming) one, which is then copied out.
fn rate_as(
    rating: &CallRating<'_>,
    out: &mut dyn Write,
    format: ReportFormatArg,
    dir: &Path,
) -> Result<(CdrDiagnostics, RatingResult)> {
    if format == ReportFormatArg::Csv {
        return rating.rate(out);
    }
    let temporary =
        || tempfile::tempfile_in(dir).with_context(|| format!("cannot create a temporary file in {}", dir.display()));
    let mut csv = std::io::BufWriter::new(temporary()?);
    let rated = rating.rate(&mut csv)?;
    let mut csv = csv.into_inner().map_err(|e| e.into_error())?;
    std::io::Seek::rewind(&mut csv)?;
    let mut parquet = temporary()?;
    rated_csv_to_parquet(
        std::io::BufReader::new(csv),
        std::io::BufWriter::new(&mut parquet),
        rating.tariff.rating_decimals(),
    )?;
    std::io::Seek::rewind(&mut parquet)?;
    std::io::copy(&mut parquet, out)?;
    Ok(rated)
}

/// Writes the summary as CSV, JSON or Parquet.
pub fn write_summary(out: &mut dyn Write, result: &RatingResult, format: TableFormat) -> Result<()> {
    match format {
        TableFormat::Csv => result.summary.write_csv(out)?,
        TableFormat::Json => {
            out.write_all(result.summary.to_json_string()?.as_bytes())?;
            out.write_all(b"\n")?;
        }
        TableFormat::Parquet => write_parquet_table(out, |bytes| result.summary.write_parquet(bytes))?,
    }
    Ok(())
}

/// The short report on stderr.
fn report(
    args: &RateArgs,
    read: &CdrDiagnostics,
    result: &RatingResult,
    currency: &str,
    started: Instant,
) -> Result<()> {
    let total = result
        .summary
        .rows()
        .iter()
        .try_fold(Decimal::ZERO, |sum, row| sum.checked_add(row.amount))
        .context("the total amount overflows")?;
    let statuses: Vec<String> = result
        .counts
        .by_status()
        .filter(|(_, n)| *n > 0)
        .map(|(status, n)| format!("{status} {}", thousands(n)))
        .collect();
    note!(
        "wbill: {} call records read from {} file(s): {} duplicates skipped, {} rejected, {} outside the \
         period {}; {} rated ({}); total {total} {currency} in {:.2} s",
        thousands(read.records_read),
        args.cdrs.len(),
        thousands(read.duplicates_skipped),
        thousands(read.records_rejected),
        thousands(result.counts.outside_period),
        args.period.period()?,
        thousands(result.counts.rows),
        statuses.join(", "),
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// An issue with the file it is about in front (`b.csv: line 3, column 2 (Duration): ...`).
fn located(issue: &LoadIssue, files: &[Input]) -> String {
    match issue.input.and_then(|i| files.get(usize::try_from(i).ok()?)) {
        Some(file) => {
            let mut issue = issue.clone();
            issue.input = None;
            format!("{file}: {issue}")
        }
        None => issue.to_string(),
    }
}

/// Prints the first issues on stderr, each with its file, then how many more there are.
fn print_issues(issues: &[LoadIssue], files: &[Input]) {
    for issue in issues.iter().take(SHOWN_ISSUES) {
        eprintln!("wbill: {}", located(issue, files));
    }
    if issues.len() > SHOWN_ISSUES {
        eprintln!(
            "wbill: … and {} more issues",
            thousands((issues.len() - SHOWN_ISSUES) as u64)
        );
    }
}

/// A rejection of the records, its issues printed with their files; other errors as they are.
fn rejected(e: Error, files: &[Input], lenient: bool) -> anyhow::Error {
    match e {
        Error::RecordsRejected { errors, issues } => {
            print_issues(&issues, files);
            let first = issues.first().map(|i| format!("; first: {}", located(i, files)));
            let hint = if lenient { "" } else { " (--lenient rates the rest)" };
            anyhow::anyhow!(
                "call records: {} error(s){}; nothing written{hint}",
                thousands(errors),
                first.unwrap_or_default()
            )
        }
        e => anyhow::Error::new(e).context("rating the call records"),
    }
}
