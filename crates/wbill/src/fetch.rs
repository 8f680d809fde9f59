//! `wbill fetch`: usage reports from the Webex Wholesale billing API (or the sandbox).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use webex_wholesale_client::Client;
use wholesale_billing::{ReportLevel, UsageReport};

use crate::inputs::PeriodArgs;
use crate::stdio::{Output, output_arg};
use crate::usage::{LevelArg, write_report};

/// Arguments of `wbill fetch`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  WEBEX_TOKEN=… wbill fetch --base-url https://webexapis.com/v1 --token-env WEBEX_TOKEN \
                        --from 2024-05-01 --to 2024-05-31 --level user --all --out may-user.csv"
)]
pub struct FetchArgs {
    /// Base URL of the Webex API (`https://webexapis.com/v1`, or a sandbox's `http://127.0.0.1:PORT/v1`).
    #[arg(long, value_name = "URL", default_value = webex_wholesale_client::DEFAULT_BASE_URL)]
    base_url: String,
    /// Name of the environment variable holding the bearer token (never on the command line).
    #[arg(long, value_name = "VAR", default_value = "WEBEX_TOKEN")]
    token_env: String,
    #[command(flatten)]
    period: PeriodArgs,
    /// Report level.
    #[arg(long, value_enum, default_value_t = LevelArg::User)]
    level: LevelArg,
    /// The report of this sub-partner (with a partner token).
    #[arg(long, value_name = "ORG_ID", conflicts_with = "all")]
    sub_partner: Option<String>,
    /// The whole subscription: the partner's report and every sub-partner's, as `wbill usage --all` makes it.
    #[arg(long)]
    all: bool,
    /// Delete an existing completed report and generate a new one.
    #[arg(long)]
    regenerate: bool,
    /// Give up waiting for a report after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    timeout: u64,
    /// Write the report here, whole or not at all (stdout when absent or `-`).
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    out: Option<Output>,
}

/// Fetches the usage of `period` at `level` for the partner (`None`) or a sub-partner.
pub async fn fetch_one(
    client: &Client,
    period: wholesale_billing::Period,
    level: ReportLevel,
    sub_partner: Option<&str>,
    regenerate: bool,
    timeout: Duration,
) -> Result<UsageReport> {
    let fetched = client
        .fetch_usage(period, level, sub_partner)
        .regenerate(regenerate)
        .timeout(timeout)
        .send()
        .await
        .with_context(|| match sub_partner {
            Some(id) => format!("fetching the {level} report of sub-partner {id}"),
            None => format!("fetching the {level} report of the token's organisation"),
        })?;
    note!(
        "wbill: {} report of {} for {}: {:?}, {} rows",
        level,
        sub_partner.map_or_else(
            || "the token's organisation".to_owned(),
            |id| format!("sub-partner {id}")
        ),
        period,
        fetched.source,
        fetched.usage.len()
    );
    Ok(fetched.usage)
}

/// Runs `wbill fetch`.
pub fn run(args: &FetchArgs) -> Result<()> {
    let token = std::env::var(&args.token_env).with_context(|| {
        format!(
            "the environment variable {} (the bearer token) is not set",
            args.token_env
        )
    })?;
    if token.trim().is_empty() {
        bail!("the environment variable {} is empty", args.token_env);
    }
    let period = args.period.period()?;
    let level = ReportLevel::from(args.level);
    let timeout = Duration::from_secs(args.timeout);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let client = Client::builder().base_url(args.base_url.clone()).token(token).build()?;
        if args.all {
            let mut reports = vec![fetch_one(&client, period, level, None, args.regenerate, timeout).await?];
            let sub_partners = client.sub_partners().all().await.context("listing the sub-partners")?;
            for sp in &sub_partners {
                reports.push(fetch_one(&client, period, level, Some(&sp.org_id), args.regenerate, timeout).await?);
            }
            Ok::<_, anyhow::Error>(UsageReport::subscription_total(&reports)?)
        } else {
            fetch_one(
                &client,
                period,
                level,
                args.sub_partner.as_deref(),
                args.regenerate,
                timeout,
            )
            .await
        }
    })?;
    write_report(&report, args.out.as_ref())
}
