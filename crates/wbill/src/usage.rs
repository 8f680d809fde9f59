//! `wbill usage`: events CSV + organisation file → a Webex-compatible usage report CSV.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use wholesale_billing::{
    AssignmentLedger, Diagnostics, Error, HourPolicy, LedgerBuilder, LoadMode, OrgFormat, Organisation, Quantity,
    ReportLevel, ReportOptions, Scope, UsageReport,
};

use crate::inputs::PeriodArgs;
use crate::progress::{file_reader, print_issues, thousands, write_issues};
use crate::stdio::{Input, Output, file_arg, input_arg, output, output_arg};

/// Arguments of `wbill usage`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill usage --events events.csv --org org.toml --from 2024-05-01 --to 2024-05-31 \
                        --level user --all --out may-user.csv\n\n\
                        Formats: docs/events.md (events, organisation), docs/reports.md (report columns), \
                        docs/proration.md (hour policies)."
)]
pub struct UsageArgs {
    /// Assignment events: CSV (format: docs/events.md), or Parquet or Arrow IPC with the same columns
    /// (told by the first bytes); `-` for standard input (CSV).
    #[arg(long, value_name = "FILE", value_parser = input_arg())]
    pub events: Input,
    /// Organisation file, TOML or JSON (by extension; format: docs/events.md).
    #[arg(long, value_name = "FILE")]
    pub org: PathBuf,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Report level.
    #[arg(long, value_enum, default_value_t = LevelArg::User)]
    pub level: LevelArg,
    /// Report for this sub-partner's customers instead of the partner's.
    #[arg(long, value_name = "ORG_ID", conflicts_with = "all")]
    pub sub_partner: Option<String>,
    /// Report the whole subscription: the partner and every sub-partner.
    #[arg(long)]
    pub all: bool,
    /// When an hour of assignment counts (docs/proration.md).
    #[arg(long, value_enum, default_value_t = PolicyArg::Started)]
    pub hour_policy: PolicyArg,
    /// Skip bad rows (reported on stderr) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Write the report here (whole or not at all) instead of stdout; `-` for stdout.
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    pub out: Option<Output>,
    /// The report's format: CSV (the Webex columns), or Parquet (the same columns, `QUANTITY` an
    /// exact Decimal128(38, 4), the consumption dates UTC timestamps, empty fields null).
    #[arg(long, value_enum, default_value_t = ReportFormatArg::Csv)]
    pub format: ReportFormatArg,
    /// Write every load issue (errors and warnings) to this CSV file.
    #[arg(long, value_name = "FILE", value_parser = file_arg)]
    pub issues: Option<PathBuf>,
}

/// `--format` of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormatArg {
    /// The Webex billing report CSV.
    Csv,
    /// Apache Parquet, typed columns.
    Parquet,
}

/// Report level on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LevelArg {
    /// One row per customer, subscriber, package, location and license.
    User,
    /// One row per customer, SKU, location and license.
    Customer,
    /// One row per SKU.
    Partner,
}

impl From<LevelArg> for ReportLevel {
    fn from(l: LevelArg) -> Self {
        match l {
            LevelArg::User => ReportLevel::User,
            LevelArg::Customer => ReportLevel::Customer,
            LevelArg::Partner => ReportLevel::Partner,
        }
    }
}

/// Hour policy on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyArg {
    /// An hour counts when any instant of it is assigned.
    Started,
    /// An hour counts when all of it is assigned.
    Completed,
    /// The covered duration, in microseconds.
    Exact,
}

impl From<PolicyArg> for HourPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::Started => HourPolicy::Started,
            PolicyArg::Completed => HourPolicy::Completed,
            PolicyArg::Exact => HourPolicy::Exact,
        }
    }
}

/// Reads an organisation file, TOML or JSON by extension.
pub fn load_org(path: &Path) -> Result<Organisation> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = OrgFormat::from_file_name(&path.to_string_lossy());
    Organisation::from_slice_with_format(&bytes, format).with_context(|| format!("in {}", path.display()))
}

/// Loads events into a ledger, printing issues on stderr (and all of them to `issues_out`).
pub fn load_ledger(
    events: &Input,
    org: Organisation,
    mode: LoadMode,
    issues_out: Option<&Path>,
) -> Result<(AssignmentLedger, Diagnostics)> {
    let source = events.to_string();
    let mut builder = LedgerBuilder::new(org);
    builder.threads(crate::progress::threads());
    let loaded = match input_format(events, "events")? {
        InputFormat::Text => {
            let (reader, len) = file_reader(events, "events")?;
            // About 250 bytes a row in a typical export.
            builder.reserve(usize::try_from(len / 250).unwrap_or(0));
            builder.read_csv(reader).map(|_| ())
        }
        InputFormat::Parquet(file) => builder.read_parquet(file).map(|_| ()),
        InputFormat::ArrowIpc(file) => builder.read_arrow_ipc(std::io::BufReader::new(file)).map(|_| ()),
    };
    let compiling = crate::progress::phase("compiling the ledger (merging each subscriber's assignments)");
    let loaded = loaded.and_then(|()| builder.finish(mode));
    compiling.finish_and_clear();
    match loaded {
        Ok((ledger, diagnostics)) => {
            print_issues(&source, &diagnostics.issues);
            if let Some(path) = issues_out {
                write_issues(path, &diagnostics.issues)?;
            }
            Ok((ledger, diagnostics))
        }
        Err(Error::Rejected { issues, .. }) => {
            print_issues(&source, &issues);
            if let Some(path) = issues_out {
                write_issues(path, &issues)?;
            }
            let hint = if mode == LoadMode::Strict {
                " (--lenient skips bad rows)"
            } else {
                ""
            };
            bail!(
                "{source}: {} row error(s); nothing written{hint}",
                thousands(issues.len() as u64)
            )
        }
        Err(e) => Err(e).with_context(|| format!("reading {source}")),
    }
}

/// What an input holds, told by its first bytes.
pub enum InputFormat {
    /// Text: CSV (or JSON, for call records); standard input is always read as text.
    Text,
    /// A Parquet file (`PAR1`).
    Parquet(std::fs::File),
    /// An Arrow IPC file (`ARROW1`) or stream (a continuation marker, `FF FF FF FF`).
    ArrowIpc(std::fs::File),
}

/// Tells an input file's format by its first bytes; `what` names it in errors.
pub fn input_format(input: &Input, what: &str) -> Result<InputFormat> {
    use std::io::{Read, Seek};
    let Input::File(path) = input else {
        return Ok(InputFormat::Text);
    };
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot open {what} {}", path.display()))?;
    let mut magic = Vec::with_capacity(6);
    (&mut file)
        .take(6)
        .read_to_end(&mut magic)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    file.rewind()
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    Ok(if magic.starts_with(b"PAR1") {
        InputFormat::Parquet(file)
    } else if magic.starts_with(b"ARROW1") || magic.starts_with(&[0xFF; 4]) {
        InputFormat::ArrowIpc(file)
    } else {
        InputFormat::Text
    })
}

/// The scope named by `--sub-partner` / `--all`.
pub fn scope_of(sub_partner: Option<&str>, all: bool) -> Scope {
    match (sub_partner, all) {
        (Some(id), _) => Scope::SubPartner(id.to_owned()),
        (None, true) => Scope::Subscription,
        (None, false) => Scope::Partner,
    }
}

/// Writes a report to a file, whole or not at all (or stdout when `out` is `None` or `-`).
pub fn write_report(report: &UsageReport, out: Option<&Output>) -> Result<()> {
    write_report_as(report, out, ReportFormatArg::Csv)
}

/// [`write_report`] in `format`. Parquet is made in memory (its writer must own a `Send`
/// output), then written.
pub fn write_report_as(report: &UsageReport, out: Option<&Output>, format: ReportFormatArg) -> Result<()> {
    output(out, |w| match format {
        ReportFormatArg::Csv => Ok(report.write_csv_with_threads(w, crate::progress::threads())?),
        ReportFormatArg::Parquet => {
            let mut bytes = Vec::new();
            report.write_parquet(&mut bytes)?;
            for piece in bytes.chunks(1 << 16) {
                w.write_all(piece)?;
            }
            Ok(())
        }
    })
}

/// Warns about the placeholder SKUs of the default catalog among a report's SKUs and totals.
fn warn_placeholders<S: AsRef<str>>(
    org: &Organisation,
    quantity_by_sku: impl IntoIterator<Item = (S, Quantity)>,
) -> Result<()> {
    let mut seen: Vec<String> = Vec::new();
    for (sku, quantity) in quantity_by_sku {
        let sku = sku.as_ref();
        if org.catalog.by_sku(sku).is_some_and(|e| e.placeholder) && !seen.iter().any(|s| s == sku) {
            seen.push(sku.to_owned());
            eprintln!(
                "wbill: warning: {quantity} days under placeholder SKU {sku}: set the real SKU under \
                 [catalog.<package>] in the organisation file"
            );
        }
    }
    Ok(())
}

/// Runs `wbill usage`.
pub fn run(args: &UsageArgs) -> Result<()> {
    let started = Instant::now();
    let period = args.period.period()?;
    let org = load_org(&args.org)?;
    let scope = scope_of(args.sub_partner.as_deref(), args.all);
    if let Scope::SubPartner(id) = &scope {
        org.sub_partner(id).with_context(|| format!("--sub-partner {id}"))?;
    }
    let mode = if args.lenient {
        LoadMode::Lenient
    } else {
        LoadMode::Strict
    };
    let (ledger, diagnostics) = load_ledger(&args.events, org, mode, args.issues.as_deref())?;
    let loaded = started.elapsed();
    let options = ReportOptions::new(args.level.into())
        .scope(scope)
        .hour_policy(args.hour_policy.into())
        .threads(crate::progress::threads());
    let phase = crate::progress::phase(&format!("computing the {} report", ReportLevel::from(args.level)));
    let (rows, level) = if args.format == ReportFormatArg::Csv {
        // Written as computed, a chunk of rows at a time: the report is never held whole.
        let written = output(args.out.as_ref(), |w| Ok(ledger.write_usage_csv(period, &options, w)?))?;
        warn_placeholders(ledger.organisation(), written.quantity_by_sku)?;
        (written.rows, written.level)
    } else {
        let report = ledger.usage_report(period, &options)?;
        warn_placeholders(ledger.organisation(), report.quantity_by_sku()?)?;
        phase.set_message(format!("writing {} rows", thousands(report.len() as u64)));
        write_report_as(&report, args.out.as_ref(), args.format)?;
        (report.len() as u64, report.level())
    };
    phase.finish_and_clear();
    note!(
        "wbill: {} rows read, {} accepted, {} errors, {} warnings; {} {} rows for {period} ({}) in {:.2} s \
         (load {:.2} s)",
        thousands(diagnostics.rows_read),
        thousands(diagnostics.rows_accepted),
        diagnostics.error_count(),
        diagnostics.warning_count(),
        thousands(rows),
        level,
        args.hour_policy_name(),
        started.elapsed().as_secs_f64(),
        loaded.as_secs_f64(),
    );
    Ok(())
}

impl UsageArgs {
    /// The options given `-` (standard input).
    pub fn stdin_options(&self) -> Vec<&'static str> {
        if self.events == Input::Stdin {
            vec!["--events"]
        } else {
            Vec::new()
        }
    }

    fn hour_policy_name(&self) -> &'static str {
        HourPolicy::from(self.hour_policy).as_str()
    }
}
