//! `wbill gen`: a deterministic, realistic partner month (events CSV + organisation file), and with
//! `--cdrs` its calls and tariffs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::ProgressStyle;
use wholesale_billing::synthetic::{
    CdrConfig, DEFAULT_CALLS_PER_SUBSCRIBER, DEFAULT_PREFIXES, GeneratedMonth, GeneratorConfig, TariffConfig,
    generate_cdrs, generate_tariff, generate_with_spill,
};
use wholesale_billing::{AssignmentLedger, Catalog, CdrFormat, EventOrder, LoadMode, OrgFormat, Period};

use crate::args::month;
use crate::atomic::{AtomicFile, Finished, commit_all};
use crate::progress::{counter, thousands};

/// Arguments of `wbill gen`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill gen --seed 7 --customers 50000 --subscribers 1000000 --sub-partners 20 \
                        --month 2024-05 --out-dir data/\n\n\
                        Only packages whose SKU is known are generated: the Webex documents give none for \
                        webex_suite and cx_essentials, which are left out unless --catalog configures them \
                        (e.g. a file holding `[catalog.webex_suite]` and `sku = \"A-W-SUITE-U\"`); \
                        org.toml then carries that catalog.\n\n\
                        With --cdrs, also a month of calls of those subscribers (cdrs.csv, the Webex \
                        \"Detailed Call History\" report, or cdrs.json, the CDR feed's items) and the \
                        tariffs to rate them: tariff.toml with prefixes.csv (what customers pay) and \
                        cost-tariff.toml with cost-prefixes.csv (what the PSTN provider charges):\n  \
                        wbill gen --seed 7 --customers 5000 --subscribers 100000 --month 2024-05 --cdrs \
                        --calls-per-subscriber 130 --prefixes 100000 --out-dir data/\n\n\
                        The files are written whole or not at all, each to a temporary file beside it, \
                        then all renamed in place one after the other."
)]
pub struct GenArgs {
    /// Seed: the same arguments always give the same files, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of customers.
    #[arg(long, default_value_t = 200)]
    pub customers: u32,
    /// Number of subscribers (users and workspaces), spread over the customers.
    #[arg(long, default_value_t = 2_000)]
    pub subscribers: u64,
    /// Number of sub-partners (resellers); about half start billing inside the month.
    #[arg(long, default_value_t = 2)]
    pub sub_partners: u16,
    /// The month to generate (YYYY-MM).
    #[arg(long, value_name = "YYYY-MM", value_parser = month)]
    pub month: Period,
    /// Directory for `events.csv` and `org.toml` (created if needed; other files in it are left
    /// alone).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
    /// An organisation file (TOML, or JSON by extension) of which only the `[catalog.<package>]`
    /// sections are read: packages it gives a SKU are generated under it, and `org.toml` carries
    /// them (a package the generator does not assign is carried in `org.toml` only). Without it,
    /// the packages with no known SKU (webex_suite, cx_essentials) are left out.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,
    /// The order of the events: `time` (as a provisioning log is written: by `occurred_at`
    /// across all subscribers, event ids increasing with it; sorted in runs in a temporary file
    /// of `--out-dir`) or `customer` (grouped by customer and subscriber, as drawn).
    #[arg(long, value_name = "ORDER", value_enum, default_value_t = EventOrderArg::Time)]
    pub events_order: EventOrderArg,
    /// Also write a month of calls of the generated subscribers (`cdrs.csv` or `cdrs.json`, in
    /// time order, with late re-delivered duplicates) and the price and cost tariffs that rate
    /// them (`tariff.toml`, `prefixes.csv`, `cost-tariff.toml`, `cost-prefixes.csv`).
    #[arg(long)]
    pub cdrs: bool,
    /// Mean calls made or received in the month by a `webex_calling` user assigned all month
    /// (other packages call more or less); sets the size of the call month.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CALLS_PER_SUBSCRIBER, requires = "cdrs")]
    pub calls_per_subscriber: u32,
    /// Rows of the destination tables (`prefixes.csv`, `cost-prefixes.csv`); at least one per
    /// number range of the plan (about 150).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_PREFIXES, requires = "cdrs")]
    pub prefixes: u32,
    /// The format of the calls: the "Detailed Call History" CSV report or the CDR feed's JSON.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = CdrFormatArg::Csv, requires = "cdrs")]
    pub cdr_format: CdrFormatArg,
    /// Also write a few records (one call in 997) of an organisation that is no customer
    /// (rated `unknown_customer`).
    #[arg(long, requires = "cdrs")]
    pub unknown_customer_cdrs: bool,
    /// Also dial, on one international call in 50, a range the tariff does not price (rated
    /// `no_destination`).
    #[arg(long, requires = "cdrs")]
    pub no_destination_cdrs: bool,
}

/// `--events-order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventOrderArg {
    /// By `occurred_at` across all subscribers.
    Time,
    /// Grouped by customer and subscriber.
    Customer,
}

impl From<EventOrderArg> for EventOrder {
    fn from(value: EventOrderArg) -> Self {
        match value {
            EventOrderArg::Time => EventOrder::Time,
            EventOrderArg::Customer => EventOrder::Customer,
        }
    }
}

/// `--cdr-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CdrFormatArg {
    /// The Webex "Detailed Call History" CSV report.
    Csv,
    /// The CDR feed's JSON (`{"items": [...]}`).
    Json,
}

impl From<CdrFormatArg> for CdrFormat {
    fn from(value: CdrFormatArg) -> Self {
        match value {
            CdrFormatArg::Csv => CdrFormat::Csv,
            CdrFormatArg::Json => CdrFormat::Json,
        }
    }
}

/// The catalog of `--catalog FILE`, or the default one.
pub fn load_catalog(path: Option<&Path>) -> Result<Catalog> {
    let Some(path) = path else {
        return Ok(Catalog::default());
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = OrgFormat::from_file_name(&path.to_string_lossy());
    Catalog::from_slice_with_format(&bytes, format).with_context(|| format!("in {}", path.display()))
}

/// The line saying which packages `config` leaves out and how to include them; `None` when it
/// generates them all.
pub fn left_out_note(config: &GeneratorConfig) -> Option<String> {
    let left_out = config.packages_left_out();
    (!left_out.is_empty()).then(|| {
        format!(
            "left out {}: no SKU known; configure them with --catalog FILE to generate them",
            left_out.join(", ")
        )
    })
}

/// Generates the events of `config` into `out`, with a progress bar over subscribers; in time
/// order the sorted runs go to a temporary file in `spill_dir`.
pub fn generate_events(config: &GeneratorConfig, out: &mut dyn Write, spill_dir: &Path) -> Result<GeneratedMonth> {
    let bar = counter(config.subscribers, "subscribers");
    let mut spill = tempfile::tempfile_in(spill_dir)
        .with_context(|| format!("cannot create a temporary file in {}", spill_dir.display()))?;
    let month = generate_with_spill(config, out, &mut spill, &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    Ok(month)
}

/// Runs `wbill gen`.
pub fn run(args: &GenArgs) -> Result<()> {
    let started = Instant::now();
    let config = GeneratorConfig {
        seed: args.seed,
        customers: args.customers,
        subscribers: args.subscribers,
        sub_partners: args.sub_partners,
        month: args.month,
        catalog: load_catalog(args.catalog.as_deref())?,
        order: args.events_order.into(),
    };
    config.validate()?;
    if let Some(note) = left_out_note(&config) {
        eprintln!("wbill: {note}");
    }
    let dir = &args.out_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let events_path = dir.join("events.csv");
    let org_path = dir.join("org.toml");
    let mut events = AtomicFile::create(&events_path)?;
    let (month, events_seconds, calls) = if args.cdrs {
        // The calls need the ledger of the events: they are generated in memory, written, then
        // loaded back.
        let mut csv = Vec::new();
        let month = generate_events(&config, &mut csv, dir)?;
        events
            .writer()
            .write_all(&csv)
            .with_context(|| format!("writing {}", events_path.display()))?;
        let events_seconds = started.elapsed().as_secs_f64();
        let calls = write_calls(args, &month, &csv)?;
        (month, Some(events_seconds), Some(calls))
    } else {
        let month = generate_events(&config, events.writer(), dir)?;
        (month, None, None)
    };
    let events = events.finish()?;
    let mut org = AtomicFile::create(&org_path)?;
    org.writer()
        .write_all(month.organisation.to_toml_string()?.as_bytes())
        .with_context(|| format!("writing {}", org_path.display()))?;
    let mut finished = vec![events, org.finish()?];
    let summary = calls.map(|calls| {
        finished.extend(calls.files);
        calls.summary
    });
    commit_all(finished)?;
    let bytes = std::fs::metadata(&events_path).map(|m| m.len()).unwrap_or(0);
    note!(
        "wbill: {} events ({}.{} MB) for {} subscribers in {} customers, {} sub-partners: {} and {} in {:.2} s",
        thousands(month.events),
        bytes / 1_000_000,
        bytes / 100_000 % 10,
        thousands(month.subscribers),
        thousands(u64::from(month.customers)),
        month.organisation.sub_partners.len(),
        events_path.display(),
        org_path.display(),
        events_seconds.unwrap_or_else(|| started.elapsed().as_secs_f64())
    );
    if let Some(summary) = summary {
        note!("wbill: {summary}");
    }
    Ok(())
}

/// The call month and tariffs of `wbill gen --cdrs`, written but not yet in place.
struct Calls {
    files: Vec<Finished>,
    summary: String,
}

/// Generates the calls of the month whose events are `events_csv`, and the tariffs.
fn write_calls(args: &GenArgs, month: &GeneratedMonth, events_csv: &[u8]) -> Result<Calls> {
    let started = Instant::now();
    let (ledger, _) = AssignmentLedger::from_csv(events_csv, month.organisation.clone(), LoadMode::Strict)
        .context("loading the generated events back")?;
    let format = CdrFormat::from(args.cdr_format);
    let config = CdrConfig {
        seed: args.seed,
        period: args.month,
        calls_per_subscriber: args.calls_per_subscriber,
        format,
        unknown_customer: args.unknown_customer_cdrs,
        no_destination: args.no_destination_cdrs,
    };
    let dir = &args.out_dir;
    let cdrs_path = dir.join(format!("cdrs.{}", format.extension()));
    let mut cdrs = AtomicFile::create(&cdrs_path)?;
    let bar = crate::progress::bar(None).with_style(
        ProgressStyle::with_template("{msg:>12} {spinner} {human_pos} records {per_sec} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message("calls");
    let calls = generate_cdrs(&ledger, &config, cdrs.writer(), &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    let cdrs = cdrs.finish()?;
    let cdr_seconds = started.elapsed().as_secs_f64();

    let tariff = generate_tariff(&TariffConfig {
        prefixes: args.prefixes,
        ..TariffConfig::new(args.seed)
    });
    let mut files = vec![cdrs];
    for (toml_name, table_name, cost) in [
        ("tariff.toml", "prefixes.csv", false),
        ("cost-tariff.toml", "cost-prefixes.csv", true),
    ] {
        let mut toml = AtomicFile::create(&dir.join(toml_name))?;
        let mut table = AtomicFile::create(&dir.join(table_name))?;
        if cost {
            tariff.write_cost(toml.writer(), table.writer(), table_name)?;
        } else {
            tariff.write_price(toml.writer(), table.writer(), table_name)?;
        }
        files.push(toml.finish()?);
        files.push(table.finish()?);
    }
    let distinct = calls.records - calls.duplicates;
    let mut faults = String::new();
    if args.unknown_customer_cdrs {
        faults.push_str(&format!(", {} of no customer", thousands(calls.unknown_customer)));
    }
    if args.no_destination_cdrs {
        faults.push_str(&format!(", {} to no destination", thousands(calls.no_destination)));
    }
    let summary = format!(
        "{} call records ({} distinct, {} re-delivered{faults}) in {} in {:.2} s ({:.0} records/s); \
         tariffs with {} prefixes and {} destinations: tariff.toml, prefixes.csv, cost-tariff.toml, cost-prefixes.csv",
        thousands(calls.records),
        thousands(distinct),
        thousands(calls.duplicates),
        cdrs_path.display(),
        cdr_seconds,
        calls.records as f64 / cdr_seconds.max(1e-9),
        thousands(tariff.prefix_count() as u64),
        thousands(tariff.destination_count() as u64),
    );
    Ok(Calls { files, summary })
}
