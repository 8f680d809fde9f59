//! `wbill gen`: a deterministic, realistic partner month (events CSV + organisation file).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use wholesale_billing::Period;
use wholesale_billing::synthetic::{GeneratedMonth, GeneratorConfig, generate};

use crate::progress::{counter, thousands};

/// Arguments of `wbill gen`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill gen --seed 7 --customers 50000 --subscribers 1000000 --sub-partners 20 \
                        --month 2024-05 --out-dir data/"
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
    #[arg(long, value_name = "YYYY-MM")]
    pub month: String,
    /// Directory for `events.csv` and `org.toml` (created if needed).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
}

/// The files `wbill gen` writes.
pub struct Generated {
    /// The events CSV.
    pub events: PathBuf,
    /// The organisation file.
    pub org: PathBuf,
    /// What was generated.
    pub month: GeneratedMonth,
}

/// Generates into `dir`, with a progress bar over subscribers.
pub fn generate_into(config: &GeneratorConfig, dir: &Path) -> Result<Generated> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let events = dir.join("events.csv");
    let org = dir.join("org.toml");
    let file = File::create(&events).with_context(|| format!("cannot create {}", events.display()))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let bar = counter(config.subscribers, "subscribers");
    let month = generate(config, &mut writer, &mut |done| bar.set_position(done))?;
    bar.finish_and_clear();
    writer
        .flush()
        .with_context(|| format!("writing {}", events.display()))?;
    std::fs::write(&org, month.organisation.to_toml_string()?)
        .with_context(|| format!("cannot write {}", org.display()))?;
    Ok(Generated { events, org, month })
}

/// Runs `wbill gen`.
pub fn run(args: &GenArgs) -> Result<()> {
    let started = Instant::now();
    let config = GeneratorConfig {
        seed: args.seed,
        customers: args.customers,
        subscribers: args.subscribers,
        sub_partners: args.sub_partners,
        month: Period::parse_month(&args.month)?,
    };
    config.validate()?;
    let out = generate_into(&config, &args.out_dir)?;
    let bytes = std::fs::metadata(&out.events).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wbill: {} events ({}.{} MB) for {} subscribers in {} customers, {} sub-partners: {} and {} in {:.2} s",
        thousands(out.month.events),
        bytes / 1_000_000,
        bytes / 100_000 % 10,
        thousands(out.month.subscribers),
        thousands(u64::from(out.month.customers)),
        out.month.organisation.sub_partners.len(),
        out.events.display(),
        out.org.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
