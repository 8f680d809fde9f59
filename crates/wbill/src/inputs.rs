//! Inputs shared by the money commands: where the usage comes from, the period, rate cards.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use wholesale_billing::ccws::OfferDetailsResponse;
use wholesale_billing::{
    AssignmentLedger, HourPolicy, LoadMode, NaiveDate, Organisation, Period, PriceBook, ReadOptions, ReportLevel,
    ReportOptions, Scope, UsageReport, WholesaleRateCard,
};

use crate::args::date;
use crate::progress::{file_reader, print_issues};
use crate::stdio::{Input, input_arg};
use crate::usage::{PolicyArg, load_ledger, load_org};

/// The billing period.
#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// First day of the period, inclusive (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub from: NaiveDate,
    /// Last day of the period, inclusive (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = date)]
    pub to: NaiveDate,
}

impl PeriodArgs {
    /// The period.
    pub fn period(&self) -> Result<Period> {
        Period::new(self.from, self.to).with_context(|| format!("--from {} --to {}", self.from, self.to))
    }
}

/// Where the month's usage comes from: the partner's own events (computed for the whole
/// subscription), or usage report CSVs (the partner's and every sub-partner's).
#[derive(Debug, Args)]
pub struct UsageInput {
    /// Assignment events (CSV, Parquet or Arrow IPC): usage is computed by the engine for the whole
    /// subscription; `-` for standard input (CSV).
    #[arg(long, value_name = "FILE", conflicts_with = "usage", value_parser = input_arg())]
    pub events: Option<Input>,
    /// Usage report CSV (USER or CUSTOMER level; repeat, or give several, for the partner and each
    /// sub-partner); `-` for standard input.
    #[arg(long, value_name = "FILE", num_args = 1.., value_parser = input_arg())]
    pub usage: Vec<Input>,
    /// Organisation file, TOML or JSON (required with --events, and by `invoice customers`).
    #[arg(long, value_name = "FILE")]
    pub org: Option<PathBuf>,
    /// Hour policy when computing from events (docs/proration.md).
    #[arg(long, value_enum, default_value_t = PolicyArg::Started)]
    pub hour_policy: PolicyArg,
}

impl UsageInput {
    /// The options given `-` (standard input).
    pub fn stdin_options(&self) -> Vec<&'static str> {
        let events = self.events.iter().filter(|i| **i == Input::Stdin).map(|_| "--events");
        let usage = self.usage.iter().filter(|i| **i == Input::Stdin).map(|_| "--usage");
        events.chain(usage).collect()
    }

    /// The usage report files the usage is read from, in order (none when it is computed).
    pub fn files(&self) -> &[Input] {
        if self.events.is_some() { &[] } else { &self.usage }
    }

    /// The organisation, when given.
    pub fn organisation(&self) -> Result<Option<Organisation>> {
        self.org.as_deref().map(load_org).transpose()
    }

    /// The usage at `level` (USER or CUSTOMER) for `period`: computed for the whole subscription,
    /// or the files given, each of `period` (its rows' dates checked), concatenated.
    pub fn report(&self, period: Period, level: ReportLevel) -> Result<UsageReport> {
        Ok(self.load(period, level)?.0)
    }

    /// As [`UsageInput::report`], with the ledger of the events when the usage is computed from
    /// them (the customers, owners and pools of a rating of the same month).
    pub fn load(&self, period: Period, level: ReportLevel) -> Result<(UsageReport, Option<AssignmentLedger>)> {
        if let Some(events) = &self.events {
            let Some(org_path) = &self.org else {
                bail!("--events needs --org (the organisation file)");
            };
            let org = load_org(org_path)?;
            let (ledger, _) = load_ledger(events, org, LoadMode::Strict, None)?;
            let options = ReportOptions::new(level)
                .scope(Scope::Subscription)
                .hour_policy(HourPolicy::from(self.hour_policy))
                .threads(crate::progress::threads());
            let report = ledger.usage_report(period, &options)?;
            return Ok((report, Some(ledger)));
        }
        if self.usage.is_empty() {
            bail!("give the usage: --events FILE --org FILE, or --usage FILE (repeatable)");
        }
        let reports = self
            .usage
            .iter()
            .map(|path| read_usage(path, None, period))
            .collect::<Result<Vec<_>>>()?;
        Ok((UsageReport::concat(&reports)?, None))
    }
}

/// A core error about a usage row (or an invoice line) read from a file, with that file and line
/// in front (`u.csv line 17: no wholesale rate for SKU …`). `files` names, for each input as the
/// core names it (`"usage report"`, `"vendor report"`, ...), its files in the order given to the
/// core; the core counts files, it does not know their names.
pub fn name_row_file(e: wholesale_billing::Error, files: &[(&str, &[Input])]) -> anyhow::Error {
    let named = e.row().and_then(|row| {
        files
            .iter()
            .find(|(report, _)| *report == row.report)
            .and_then(|(_, inputs)| inputs.get(row.file))
            .map(|input| format!("{input} line {}", row.line))
    });
    match named {
        Some(at) => anyhow::Error::new(e).context(at),
        None => e.into(),
    }
}

/// Reads a usage report CSV (strict), at the given level or the one its header implies, as a
/// report of `period`: every row's consumption dates must lie within it.
pub fn read_usage(input: &Input, level: Option<ReportLevel>, period: Period) -> Result<UsageReport> {
    let (reader, _) = file_reader(input, "usage")?;
    let options = ReadOptions {
        level,
        ..ReadOptions::default()
    };
    match UsageReport::read_csv(reader, &options) {
        Ok((report, _)) => report.with_period(period).with_context(|| input.to_string()),
        Err(wholesale_billing::Error::Rejected { issues, .. }) => {
            print_issues(&input.to_string(), &issues);
            bail!("{input}: {} bad row(s)", issues.len())
        }
        Err(e) => Err(e).with_context(|| format!("reading {input}")),
    }
}

/// Reads a wholesale rate card: CSV, TOML or JSON by extension; a JSON Get Offer Details response
/// from the Cisco Commerce Catalog is recognised by its `itemDetails`.
pub fn read_rates(path: &Path) -> Result<WholesaleRateCard> {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let context = || format!("in {}", path.display());
    if name.ends_with(".csv") {
        let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        return WholesaleRateCard::from_csv(std::io::BufReader::new(file)).with_context(context);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    if name.ends_with(".json") {
        if bytes.windows(13).any(|w| w == b"\"itemDetails\"") {
            return OfferDetailsResponse::from_json_slice(&bytes)
                .and_then(|r| WholesaleRateCard::from_offer_details(&r))
                .with_context(context);
        }
        return WholesaleRateCard::from_json_slice(&bytes).with_context(context);
    }
    WholesaleRateCard::from_toml_slice(&bytes).with_context(context)
}

/// Reads a price book, TOML or JSON by extension.
pub fn read_price_book(path: &Path) -> Result<PriceBook> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let book = if path.to_string_lossy().to_ascii_lowercase().ends_with(".json") {
        PriceBook::from_json_slice(&bytes)
    } else {
        PriceBook::from_toml_slice(&bytes)
    };
    book.with_context(|| format!("in {}", path.display()))
}

/// Machine output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// JSON (amounts as strings).
    Json,
}

/// Output format of a table (a rating summary, reconciliation findings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// Comma-separated values.
    Csv,
    /// JSON (amounts as strings).
    Json,
    /// Apache Parquet: typed columns, amounts and quantities exact decimals.
    Parquet,
}

impl From<Format> for TableFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Csv => TableFormat::Csv,
            Format::Json => TableFormat::Json,
        }
    }
}

/// Writes a table as Parquet: made in memory by `write` (Parquet's writer needs an output it
/// owns), then written to `out`.
pub fn write_parquet_table(
    out: &mut dyn std::io::Write,
    write: impl FnOnce(&mut Vec<u8>) -> wholesale_billing::Result<()>,
) -> Result<()> {
    let mut bytes = Vec::new();
    write(&mut bytes)?;
    out.write_all(&bytes)?;
    Ok(())
}
