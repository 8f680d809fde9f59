//! `wbill`: the command line of wholesale-billing.
//!
//! Thin by design: it parses flags, opens files, shows progress and calls the `wholesale-billing`
//! crate. Machine output (CSV) goes to stdout or `--out`; human messages go to stderr.

/// Prints a human line on stderr, as `eprintln!`, unless `--quiet`: what a run did (counts,
/// totals, times). Issues, warnings and errors are printed whatever the flag.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::progress::quiet() {
            eprintln!($($arg)*);
        }
    };
}

mod args;
mod atomic;
mod cdr_fetch;
mod cdr_rate;
mod demo;
mod fetch;
mod gen_cmd;
mod inputs;
mod invoice;
mod progress;
mod rates;
mod reconcile;
mod sandbox;
mod stdio;
mod tariff_cmd;
mod usage;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// The exit status of `reconcile --fail-on-findings` when it finds anything.
pub const FINDINGS_EXIT: u8 = 3;

const AFTER_HELP: &str = "\
Exit status:
  0         success
  1         an error (stderr says what, and where: file, line, column, field)
  2         a usage error: an unknown option, a missing or bad value (named)
  3         `wbill reconcile --fail-on-findings` found something
  130, 143  stopped by Ctrl-C (SIGINT) or SIGTERM: temporary files removed, outputs untouched
  141       standard output closed early (`wbill usage ... | head -1`): stops quietly

File names: `-` is standard input for --events, --usage, --expected, --vendor-report,
--vendor-invoice and --cdrs (one of them at a time), and standard output for --out.

Outputs are written whole or not at all: each file to a temporary `.NAME.tmp-...` beside it,
synced, then renamed over it; an --out-dir is built beside its target and swapped in whole.

Guide: docs/README.md in the repository; docs/cli.md for the commands, exit statuses, `-` and pipes.";

/// Shadow billing for Webex Wholesale partners: usage reports, exact to the last digit.
#[derive(Debug, Parser)]
#[command(name = "wbill", version, about, long_about = None, propagate_version = true, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars and no summary lines on stderr (issues, warnings and errors are still
    /// printed).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Show what the API clients do on stderr: each request (method and path, never a query or a
    /// token), its answer and time, each retry and wait (rate limits, reports being generated);
    /// `-vv` also each request as it is sent.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Threads of the parallel work: reading events and call records, rating, writing reports,
    /// reconciling (default: the available parallelism). The outputs are the same with any
    /// number; with 1 everything runs on one thread.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compute a Webex-compatible usage report (USER, CUSTOMER or PARTNER) from assignment events.
    Usage(usage::UsageArgs),
    /// Fetch usage reports from the Webex Wholesale billing API (or a sandbox).
    Fetch(fetch::FetchArgs),
    /// Generate a realistic partner month: an events CSV and an organisation file.
    Gen(gen_cmd::GenArgs),
    /// Show a wholesale rate card, or convert it (CSV, TOML, JSON, Cisco Commerce Catalog JSON).
    Rates(rates::RatesArgs),
    /// Show a minutes tariff (destinations, prefixes, bands, allowances), or convert it (TOML, JSON).
    Tariff(tariff_cmd::TariffArgs),
    /// Invoices: the one Cisco should send (vendor) and the partner's own (customers).
    Invoice(invoice::InvoiceArgs),
    /// Compare the partner's expected usage with Cisco's usage reports and invoice.
    Reconcile(reconcile::ReconcileArgs),
    /// Call records: fetch them from the Webex CDR feed (or a sandbox), rate them with a tariff.
    Cdr(cdr_fetch::CdrArgs),
    /// A local sandbox of the Webex Wholesale and CCWS APIs, computed from a dataset.
    Sandbox(sandbox::SandboxArgs),
    /// Run the main job on an embedded sample month and print a summary.
    Demo(demo::DemoArgs),
}

impl Command {
    /// The options given `-` (standard input), each named once per use.
    fn stdin_options(&self) -> Vec<&'static str> {
        match self {
            Command::Usage(args) => args.stdin_options(),
            Command::Invoice(args) => args.stdin_options(),
            Command::Reconcile(args) => args.stdin_options(),
            Command::Cdr(args) => args.stdin_options(),
            _ => Vec::new(),
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    progress::set_quiet(cli.quiet);
    progress::set_threads(cli.threads);
    progress::log_to_stderr(cli.verbose);
    let stdin = cli.command.stdin_options();
    if stdin.len() > 1 {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "standard input (`-`) can feed only one input, and {} all ask for it",
                    stdin.join(", ")
                ),
            )
            .exit();
    }
    let result = match cli.command {
        Command::Reconcile(args) => reconcile::run(&args),
        Command::Usage(args) => usage::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Fetch(args) => fetch::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Gen(args) => gen_cmd::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Rates(args) => rates::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Tariff(args) => tariff_cmd::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Invoice(args) => invoice::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Cdr(args) => cdr_fetch::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Sandbox(args) => sandbox::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Demo(args) => demo::run(&args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wbill: error: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line (no message repeats its cause, so each shows once).
fn describe(e: &anyhow::Error) -> String {
    wholesale_billing::error_with_causes(e.as_ref())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn causes_shown_once() {
        // Every context says what was being done, never its cause: each cause shows once.
        let io = std::io::Error::other("connection refused");
        let e = anyhow::Error::new(io).context("error sending request");
        let e = e.context("fetching the report");
        assert_eq!(
            super::describe(&e),
            "fetching the report: error sending request: connection refused"
        );
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(super::describe(&e), "outer: inner");
        // A core error and its source, under wbill's context.
        let core = wholesale_billing::Organisation::from_json_str("{").unwrap_err();
        let e = anyhow::Error::new(core).context("in org.json");
        assert_eq!(
            super::describe(&e),
            "in org.json: organisation file: line 1, column 1: EOF while parsing an object"
        );
    }

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
