//! `wbill sandbox serve`: a local sandbox of the Webex Wholesale and CCWS APIs on a dataset.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use webex_sandbox::{Faults, SandboxConfig, SubPartnersKey, serve_forever};

use crate::inputs::read_rates;
use crate::usage::load_org;

/// The sandbox server.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    command: SandboxCommand,
}

#[derive(Debug, Subcommand)]
enum SandboxCommand {
    /// Serve the Webex Wholesale and CCWS APIs of a dataset until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

/// Arguments of `wbill sandbox serve`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill sandbox serve --org org.toml --events events.csv --db sandbox.db \
                        --addr 127.0.0.1:8484 --today 2024-06-15\n\n\
                        The API contract is crates/webex-sandbox/API.md."
)]
pub struct ServeArgs {
    /// Organisation file (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    org: PathBuf,
    /// Assignment events CSV (loaded strictly).
    #[arg(long, value_name = "FILE")]
    events: PathBuf,
    /// SQLite database keeping reports and token hashes across restarts (created when missing,
    /// mode 0600), with its key file FILE.key beside it (tokens and signing secret derive from it).
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8484")]
    addr: SocketAddr,
    /// The sandbox's "today" (reports must end before it); default: the UTC date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    today: Option<String>,
    /// Wholesale rate card served by the CCWS endpoints (CSV, TOML, JSON or offer details JSON).
    #[arg(long, value_name = "FILE")]
    rates: Option<PathBuf>,
    /// How long a new report stays IN_PROGRESS.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    report_delay_ms: u64,
    /// HTTP status of a successful create: 200 or 202.
    #[arg(long, default_value_t = 200)]
    create_status: u16,
    /// Base URL of the download host (default http://localhost:PORT, another origin than the API).
    #[arg(long, value_name = "URL")]
    download_base_url: Option<String>,
    /// The API's public URL, as clients reach it (base of Link headers; default http://ADDR).
    #[arg(long, value_name = "URL")]
    public_base_url: Option<String>,
    /// How long a stop waits for requests in flight and reports being generated.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    shutdown_grace_ms: u64,
    /// Key of the sub-partner list: `items` or `subPartners`.
    #[arg(long, default_value = "items")]
    sub_partners_key: String,
    /// TOML file of fixed tokens: `[tokens]` then `"<org id>" = "<token>"`.
    #[arg(long, value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// Every N-th Webex API request gets 429.
    #[arg(long, value_name = "N")]
    fault_429_every: Option<u32>,
    /// The Retry-After of injected 429s, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 1)]
    retry_after: u64,
    /// This percentage of Webex API requests get 503 (deterministic with --fault-seed).
    #[arg(long, value_name = "PERCENT", default_value_t = 0)]
    fault_5xx_percent: u8,
    /// Seed of the 5xx faults.
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// The N-th report creation is carried out, then answered 503 (a lost response).
    #[arg(long, value_name = "N")]
    fault_lost_create: Option<u32>,
    /// The N-th report creation is accepted, then the report ends FAILED.
    #[arg(long, value_name = "N")]
    fault_failed_create: Option<u32>,
    /// Call records served by GET /v1/cdr_feed: a JSON `{"items": [...]}` file or JSON lines. They
    /// replace those kept in the database; without it, the kept ones are served.
    #[arg(long, value_name = "FILE")]
    cdrs: Option<PathBuf>,
    /// Initial CDR feed requests a token may send per minute (Webex: 1).
    #[arg(long, value_name = "N", default_value_t = 1)]
    cdr_initial_per_minute: u32,
    /// CDR feed page requests a token may send per minute (Webex: 10).
    #[arg(long, value_name = "N", default_value_t = 10)]
    cdr_pages_per_minute: u32,
    /// The analytics host of the sandbox's own region.
    #[arg(long, value_name = "HOST", default_value = webex_sandbox::DEFAULT_CDR_REGION_HOST)]
    cdr_region: String,
    /// An organisation hosted in another region, whose token gets 451 naming HOST (repeatable).
    #[arg(long, value_name = "ORG_ID=HOST")]
    cdr_org_region: Vec<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: BTreeMap<String, String>,
}

/// Runs `wbill sandbox`.
pub fn run(args: &SandboxArgs) -> Result<()> {
    match &args.command {
        SandboxCommand::Serve(a) => serve(a),
    }
}

fn serve(args: &ServeArgs) -> Result<()> {
    let org = load_org(&args.org)?;
    let events = std::fs::read(&args.events).with_context(|| format!("cannot read {}", args.events.display()))?;
    let mut config = SandboxConfig::new(org, events)
        .with_db_path(&args.db)
        .with_addr(args.addr)
        .with_report_delay(Duration::from_millis(args.report_delay_ms))
        .with_shutdown_grace(Duration::from_millis(args.shutdown_grace_ms))
        .with_create_status(args.create_status)
        .with_sub_partners_key(match args.sub_partners_key.as_str() {
            "items" => SubPartnersKey::Items,
            "subPartners" => SubPartnersKey::SubPartners,
            other => anyhow::bail!("--sub-partners-key {other:?}: expected items or subPartners"),
        })
        .with_faults(Faults {
            every_429: args.fault_429_every,
            retry_after_secs: args.retry_after,
            percent_5xx: args.fault_5xx_percent,
            seed: args.fault_seed,
            lost_create: args.fault_lost_create,
            failed_create: args.fault_failed_create,
        });
    if let Some(today) = &args.today {
        config = config.with_today(wholesale_billing::parse_date(today)?);
    }
    let mut cdr = webex_sandbox::CdrFeedConfig {
        initial_per_period: args.cdr_initial_per_minute,
        pages_per_period: args.cdr_pages_per_minute,
        region_host: args.cdr_region.clone(),
        ..webex_sandbox::CdrFeedConfig::default()
    };
    for pair in &args.cdr_org_region {
        let Some((org_id, host)) = pair.split_once('=') else {
            anyhow::bail!("--cdr-org-region {pair:?}: expected ORG_ID=HOST");
        };
        cdr.org_regions.insert(org_id.trim().to_owned(), host.trim().to_owned());
    }
    if let Some(path) = &args.cdrs {
        cdr.records = Some(std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?);
    }
    config = config.with_cdr(cdr);
    if let Some(rates) = &args.rates {
        config = config.with_rates(read_rates(rates)?);
    }
    if let Some(url) = &args.download_base_url {
        config = config.with_download_base_url(url.clone());
    }
    if let Some(url) = &args.public_base_url {
        config = config.with_public_base_url(url.clone());
    }
    if let Some(path) = &args.tokens {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
        let file: TokenFile = toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        for (org_id, token) in file.tokens {
            config = config.with_token(org_id, token);
        }
    }
    config.validate()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(serve_forever(config, |sandbox| {
        eprintln!(
            "wbill: sandbox listening on {} (Webex API base {}/v1)",
            sandbox.base_url(),
            sandbox.base_url()
        );
        eprintln!(
            "wbill: downloads on {}; CCWS token endpoint {}/oauth2/default/v1/token",
            sandbox.download_base_url(),
            sandbox.base_url()
        );
        for token in sandbox.tokens() {
            println!("{token}");
        }
        eprintln!("wbill: Ctrl-C or SIGTERM stops the server; reports stay in the database, tokens in its key file");
    }))?;
    eprintln!("wbill: sandbox stopped; the database is closed");
    Ok(())
}
