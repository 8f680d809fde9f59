//! `wbill reconcile`: the partner's expected usage against Cisco's usage reports and invoice.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use wholesale_billing::{
    HourPolicy, LoadMode, Quantity, ReconcileOptions, ReportLevel, ReportOptions, Scope, VendorInvoice, reconcile,
};

use crate::inputs::{Format, PeriodArgs, read_rates, read_usage};
use crate::invoice::output;
use crate::progress::{file_reader, print_issues};
use crate::usage::{PolicyArg, load_ledger, load_org};

/// Arguments of `wbill reconcile`.
#[derive(Debug, Args)]
#[command(after_help = "Example:\n  wbill reconcile --events events.csv --org org.toml \
                        --vendor-report partner-user.csv --vendor-report reseller-user.csv \
                        --vendor-invoice invoice.csv --rates rates.toml --from 2024-05-01 --to 2024-05-31 \
                        --format json --out findings.json")]
pub struct ReconcileArgs {
    /// The partner's own assignment events: the expected usage is computed for the whole subscription.
    #[arg(long, value_name = "FILE", conflicts_with = "expected", requires = "org")]
    events: Option<PathBuf>,
    /// Organisation file (with --events).
    #[arg(long, value_name = "FILE")]
    org: Option<PathBuf>,
    /// Hour policy when computing from events.
    #[arg(long, value_enum, default_value_t = PolicyArg::Started)]
    hour_policy: PolicyArg,
    /// Or: the expected usage as a USER report CSV.
    #[arg(long, value_name = "FILE")]
    expected: Option<PathBuf>,
    /// A vendor USER report CSV (repeat for the partner and every sub-partner).
    #[arg(long, value_name = "FILE", required = true)]
    vendor_report: Vec<PathBuf>,
    /// The vendor invoice CSV, to check its quantities and arithmetic.
    #[arg(long, value_name = "FILE")]
    vendor_invoice: Option<PathBuf>,
    /// Wholesale rate card (for the money impact of each finding).
    #[arg(long, value_name = "FILE")]
    rates: PathBuf,
    #[command(flatten)]
    period: PeriodArgs,
    /// Differences up to this many user-days are not reported (default 0: exact).
    #[arg(long, value_name = "USER_DAYS", default_value = "0")]
    tolerance: String,
    /// Machine output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write the findings here instead of stdout.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Exit with status 2 when anything is found (for scripts and CI).
    #[arg(long)]
    fail_on_findings: bool,
}

/// Runs `wbill reconcile`.
pub fn run(args: &ReconcileArgs) -> Result<ExitCode> {
    let period = args.period.period()?;
    let rates = read_rates(&args.rates)?;
    let tolerance: Quantity = args.tolerance.parse()?;
    let started = std::time::Instant::now();
    let expected = match (&args.events, &args.expected, &args.org) {
        (Some(events), _, Some(org)) => {
            let (ledger, _) = load_ledger(events, load_org(org)?, LoadMode::Strict, None)?;
            let options = ReportOptions::new(ReportLevel::User)
                .scope(Scope::Subscription)
                .hour_policy(HourPolicy::from(args.hour_policy));
            ledger.usage_report(period, &options)?
        }
        (None, Some(path), _) => read_usage(path, Some(ReportLevel::User))?,
        _ => bail!("give the expected usage: --events FILE --org FILE, or --expected FILE"),
    };
    let vendor = args
        .vendor_report
        .iter()
        .map(|p| read_usage(p, Some(ReportLevel::User)))
        .collect::<Result<Vec<_>>>()?;
    let invoice = match &args.vendor_invoice {
        Some(path) => {
            let (reader, _) = file_reader(path, "invoice")?;
            match VendorInvoice::read_csv(reader) {
                Ok((invoice, diagnostics)) => {
                    // A file without a TOTAL row is read with a warning: say it.
                    print_issues(&path.display().to_string(), &diagnostics.issues);
                    Some(invoice)
                }
                Err(wholesale_billing::Error::Rejected { issues, .. }) => {
                    print_issues(&path.display().to_string(), &issues);
                    bail!("{}: {} bad row(s)", path.display(), issues.len())
                }
                Err(e) => return Err(anyhow::Error::from(e).context(path.display().to_string())),
            }
        }
        None => None,
    };
    let options = ReconcileOptions::default().tolerance(tolerance);
    let loaded = started.elapsed();
    let result = reconcile(&expected, &vendor, invoice.as_ref(), &rates, period, &options).with_context(|| {
        let invoice = match &args.vendor_invoice {
            Some(path) => format!(" and the vendor invoice {}", path.display()),
            None => String::new(),
        };
        format!(
            "reconciling with the rate card {} ({}){invoice}",
            args.rates.display(),
            rates.currency()
        )
    })?;
    let compared = started.elapsed();
    output(args.out.as_deref(), |w| match args.format {
        Format::Csv => Ok(result.write_csv(w)?),
        Format::Json => Ok(w.write_all(result.to_json()?.as_bytes())?),
    })?;
    eprint!("{result}");
    eprintln!(
        "wbill: inputs {:.2} s, reconciliation {:.2} s, output {:.2} s",
        loaded.as_secs_f64(),
        (compared - loaded).as_secs_f64(),
        (started.elapsed() - compared).as_secs_f64()
    );
    Ok(if args.fail_on_findings && !result.is_clean() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
