//! `wbill reconcile`: the partner's expected usage against Cisco's usage reports and invoice.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use wholesale_billing::{HourPolicy, LoadMode, Quantity, Reconciler, ReportLevel, ReportOptions, Scope, VendorInvoice};

use crate::FINDINGS_EXIT;
use crate::args::non_negative_quantity;
use crate::inputs::{PeriodArgs, TableFormat, name_row_file, read_rates, read_usage, write_parquet_table};
use crate::progress::{file_reader, print_issues};
use crate::stdio::{Input, Output, input_arg, output, output_arg};
use crate::usage::{PolicyArg, load_ledger, load_org};

/// Arguments of `wbill reconcile`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  wbill reconcile --events events.csv --org org.toml \
                        --vendor-report partner-user.csv reseller-user.csv \
                        --vendor-invoice invoice.csv --rates rates.toml --from 2024-05-01 --to 2024-05-31 \
                        --format json --out findings.json\n\n\
                        Exit status: 0 when done (with or without findings), 3 with --fail-on-findings when \
                        anything is found, 1 on an error, 2 on a usage error.\n\
                        Finding classes and the sign of a money impact: docs/reconciliation.md.")]
pub struct ReconcileArgs {
    /// The partner's own assignment events: the expected usage is computed for the whole
    /// subscription; `-` for standard input.
    #[arg(long, value_name = "FILE", conflicts_with = "expected", requires = "org", value_parser = input_arg())]
    events: Option<Input>,
    /// Organisation file (with --events).
    #[arg(long, value_name = "FILE")]
    org: Option<PathBuf>,
    /// Hour policy when computing from events.
    #[arg(long, value_enum, default_value_t = PolicyArg::Started)]
    hour_policy: PolicyArg,
    /// Or: the expected usage as a USER report CSV; `-` for standard input.
    #[arg(long, value_name = "FILE", value_parser = input_arg())]
    expected: Option<Input>,
    /// The vendor USER report CSVs, one per scope: the partner and every sub-partner (several
    /// after one flag, or the flag repeated); `-` for standard input.
    #[arg(long, value_name = "FILE", required = true, num_args = 1.., value_parser = input_arg())]
    vendor_report: Vec<Input>,
    /// The vendor invoice CSV, to check its quantities and arithmetic; `-` for standard input.
    #[arg(long, value_name = "FILE", value_parser = input_arg())]
    vendor_invoice: Option<Input>,
    /// Wholesale rate card (for the money impact of each finding).
    #[arg(long, value_name = "FILE")]
    rates: PathBuf,
    #[command(flatten)]
    period: PeriodArgs,
    /// Differences up to this many user-days are not reported (default 0: exact; not negative).
    #[arg(long, value_name = "USER_DAYS", default_value = "0", allow_negative_numbers = true,
          value_parser = non_negative_quantity)]
    tolerance: Quantity,
    /// Machine output format (Parquet: quantities and amounts exact decimals).
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    format: TableFormat,
    /// Write the findings here (whole or not at all) instead of stdout; `-` for stdout.
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    out: Option<Output>,
    /// Exit with status 3 when anything is found (for scripts and CI).
    #[arg(long)]
    fail_on_findings: bool,
}

impl ReconcileArgs {
    /// The options given `-` (standard input), each named once per use.
    pub fn stdin_options(&self) -> Vec<&'static str> {
        let named = [
            ("--events", self.events.as_ref()),
            ("--expected", self.expected.as_ref()),
            ("--vendor-invoice", self.vendor_invoice.as_ref()),
        ];
        let single = named.into_iter().filter_map(|(name, input)| input.map(|i| (name, i)));
        let reports = self.vendor_report.iter().map(|i| ("--vendor-report", i));
        single
            .chain(reports)
            .filter(|(_, input)| **input == Input::Stdin)
            .map(|(name, _)| name)
            .collect()
    }
}

/// Runs `wbill reconcile`.
pub fn run(args: &ReconcileArgs) -> Result<ExitCode> {
    let period = args.period.period()?;
    let rates = read_rates(&args.rates)?;
    let tolerance = args.tolerance;
    let started = std::time::Instant::now();
    let expected = match (&args.events, &args.expected, &args.org) {
        (Some(events), _, Some(org)) => {
            let (ledger, _) = load_ledger(events, load_org(org)?, LoadMode::Strict, None)?;
            let options = ReportOptions::new(ReportLevel::User)
                .scope(Scope::Subscription)
                .hour_policy(HourPolicy::from(args.hour_policy))
                .threads(crate::progress::threads());
            ledger.usage_report(period, &options)?
        }
        (None, Some(path), _) => read_usage(path, Some(ReportLevel::User), period)?,
        _ => bail!("give the expected usage: --events FILE --org FILE, or --expected FILE"),
    };
    let vendor = args
        .vendor_report
        .iter()
        .map(|p| read_usage(p, Some(ReportLevel::User), period))
        .collect::<Result<Vec<_>>>()?;
    let invoice = match &args.vendor_invoice {
        Some(input) => {
            let (reader, _) = file_reader(input, "invoice")?;
            match VendorInvoice::read_csv(reader) {
                Ok((invoice, diagnostics)) => {
                    // A file without a TOTAL row is read with a warning: say it.
                    print_issues(&input.to_string(), &diagnostics.issues);
                    Some(invoice)
                }
                Err(wholesale_billing::Error::Rejected { issues, .. }) => {
                    print_issues(&input.to_string(), &issues);
                    bail!("{input}: {} bad row(s)", issues.len())
                }
                Err(e) => return Err(anyhow::Error::from(e).context(input.to_string())),
            }
        }
        None => None,
    };
    let loaded = started.elapsed();
    let files = [
        ("vendor report", args.vendor_report.as_slice()),
        ("expected usage report", args.expected.as_slice()),
        ("vendor invoice", args.vendor_invoice.as_slice()),
    ];
    let result = Reconciler::new(&rates)
        .threads(crate::progress::threads())
        .invoice(invoice.as_ref())
        .tolerance(tolerance)
        .run(&expected, &vendor)
        .map_err(|e| name_row_file(e, &files))
        .with_context(|| {
            let invoice = match &args.vendor_invoice {
                Some(input) => format!(" and the vendor invoice {input}"),
                None => String::new(),
            };
            format!(
                "reconciling with the rate card {} ({}){invoice}",
                args.rates.display(),
                rates.currency()
            )
        })?;
    let compared = started.elapsed();
    output(args.out.as_ref(), |w| match args.format {
        TableFormat::Csv => Ok(result.write_csv(w)?),
        TableFormat::Json => Ok(w.write_all(result.to_json()?.as_bytes())?),
        TableFormat::Parquet => write_parquet_table(w, |bytes| result.write_parquet(bytes)),
    })?;
    eprint!("{result}");
    note!(
        "wbill: inputs {:.2} s, reconciliation {:.2} s, output {:.2} s",
        loaded.as_secs_f64(),
        (compared - loaded).as_secs_f64(),
        (started.elapsed() - compared).as_secs_f64()
    );
    Ok(if args.fail_on_findings && !result.is_clean() {
        ExitCode::from(FINDINGS_EXIT)
    } else {
        ExitCode::SUCCESS
    })
}
