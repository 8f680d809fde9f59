//! `wbill cdr fetch`: the call records of a period from the Webex CDR feed (or a sandbox), window
//! by window, into a `{"items": [...]}` file, resumable.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use webex_wholesale_client::Client;
use webex_wholesale_client::cdr::{CdrFeed, CdrPeriod, CdrRateLimits, CdrRegion};
use wholesale_billing::NaiveDate;

use crate::progress::thousands;

/// Call records (CDRs).
#[derive(Debug, Args)]
pub struct CdrArgs {
    #[command(subcommand)]
    command: CdrCommand,
}

#[derive(Debug, Subcommand)]
enum CdrCommand {
    /// Fetch the call records of a period from the Webex CDR feed (or a sandbox) into a JSON file.
    Fetch(FetchArgs),
    /// Rate call records with a tariff: the rated records CSV and a summary by customer and destination.
    Rate(crate::cdr_rate::RateArgs),
}

/// A bound of the period: a date (YYYY-MM-DD, a whole UTC day) or an RFC 3339 instant.
#[derive(Debug, Clone, Copy)]
enum Bound {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

fn bound(text: &str) -> std::result::Result<Bound, String> {
    if let Ok(date) = wholesale_billing::parse_date(text) {
        return Ok(Bound::Date(date));
    }
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| Bound::Instant(t.with_timezone(&Utc)))
        .map_err(|_| format!("{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 instant"))
}

/// Arguments of `wbill cdr fetch`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  WEBEX_TOKEN=… wbill cdr fetch --region eu --token-env WEBEX_TOKEN \
                        --from 2024-06-01 --to 2024-06-30 --out june-cdrs.json\n\n\
                        The records go to OUT.partial, a checkpoint to OUT.checkpoint after each complete \
                        12-hour window; OUT appears only once every window is in. After an interruption, \
                        run the same command with --resume: it continues at the first incomplete window."
)]
pub struct FetchArgs {
    /// Base URL of the CDR feed (a sandbox's `http://127.0.0.1:PORT/v1`); default: the region's.
    #[arg(long, value_name = "URL", conflicts_with = "region")]
    base_url: Option<String>,
    /// The region of the organisation's data: us, eu, in, au or gov.
    #[arg(long, value_name = "REGION", default_value = "us")]
    region: String,
    /// Name of the environment variable holding the bearer token (never on the command line).
    #[arg(long, value_name = "VAR", default_value = "WEBEX_TOKEN")]
    token_env: String,
    /// Start of the period: a date (its 00:00 UTC) or an RFC 3339 instant.
    #[arg(long, value_name = "D", value_parser = bound)]
    from: Bound,
    /// End of the period: a date (inclusive: up to the next day's 00:00 UTC) or an RFC 3339
    /// instant (exclusive).
    #[arg(long, value_name = "D", value_parser = bound)]
    to: Bound,
    /// The output JSON file (`{"items": [...]}`, each record as the feed sent it).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Continue an interrupted fetch of the same period from its checkpoint (OUT.checkpoint).
    #[arg(long)]
    resume: bool,
    /// Records per page (`max`), 500 to 5000.
    #[arg(long, value_name = "N", default_value_t = 5000)]
    max: u32,
    /// Initial requests (one per window) sent per minute at most: the feed's documented limit is 1.
    #[arg(long, value_name = "N", default_value_t = 1)]
    initial_per_minute: u32,
    /// Page requests sent per minute at most: the feed's documented limit is 10.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pages_per_minute: u32,
}

impl FetchArgs {
    fn period(&self) -> Result<CdrPeriod> {
        let start = match self.from {
            Bound::Date(d) => wholesale_billing::Timestamp::start_of_day(d).to_datetime(),
            Bound::Instant(t) => t,
        };
        let end = match self.to {
            Bound::Date(d) => d
                .succ_opt()
                .map(|next| wholesale_billing::Timestamp::start_of_day(next).to_datetime())
                .context("--to: the date has no next day")?,
            Bound::Instant(t) => t,
        };
        Ok(CdrPeriod::new(start, end)?)
    }
}

/// Runs `wbill cdr`.
pub fn run(args: &CdrArgs) -> Result<()> {
    match &args.command {
        CdrCommand::Fetch(a) => fetch(a),
        CdrCommand::Rate(a) => crate::cdr_rate::run(a),
    }
}

impl CdrArgs {
    /// The options given `-` (standard input).
    pub fn stdin_options(&self) -> Vec<&'static str> {
        match &self.command {
            CdrCommand::Fetch(_) => Vec::new(),
            CdrCommand::Rate(a) => a.stdin_options(),
        }
    }
}

fn fetch(args: &FetchArgs) -> Result<()> {
    let token = std::env::var(&args.token_env).with_context(|| {
        format!(
            "the environment variable {} (the bearer token) is not set",
            args.token_env
        )
    })?;
    if token.trim().is_empty() {
        bail!("the environment variable {} is empty", args.token_env);
    }
    let period = args.period()?;
    let region: CdrRegion = args.region.parse().context("--region")?;
    let base = args.base_url.clone().unwrap_or_else(|| region.base_url());
    if args.initial_per_minute == 0 || args.pages_per_minute == 0 {
        bail!("--initial-per-minute and --pages-per-minute must be at least 1");
    }
    let limits = CdrRateLimits {
        initial: args.initial_per_minute,
        pages: args.pages_per_minute,
        per: Duration::from_secs(60),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let windows = period.windows().count();
    note!(
        "wbill: fetching the call records of {period} from {base}: {windows} windows of at most 12 hours{}",
        if args.resume {
            ", resuming from the checkpoint if there is one"
        } else {
            ""
        }
    );
    let done = runtime.block_on(async {
        let client = Client::builder().base_url(base.clone()).token(token).build()?;
        let feed = CdrFeed::builder(client)
            .page_size(args.max)
            .rate_limits(limits)
            .build()?;
        feed.fetch_to_file(&period, &args.out, args.resume, |p| {
            note!("wbill: {p}");
            ControlFlow::Continue(())
        })
        .await
        .with_context(|| format!("fetching the call records into {}", args.out.display()))
    })?;
    note!(
        "wbill: {} call records in {} windows written to {}",
        thousands(done.records),
        done.windows,
        args.out.display()
    );
    Ok(())
}
