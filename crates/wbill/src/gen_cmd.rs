//! `wbill gen`: a deterministic, realistic partner month (events CSV + organisation file).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use wholesale_billing::synthetic::{GeneratedMonth, GeneratorConfig, generate};
use wholesale_billing::{Catalog, OrgFormat, Period};

use crate::args::month;
use crate::atomic::{AtomicFile, commit_all};
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
                        The two files are written whole or not at all, each to a temporary file beside it, \
                        then both renamed in place one after the other."
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

/// Generates the events of `config` into `out`, with a progress bar over subscribers.
pub fn generate_events(config: &GeneratorConfig, out: &mut dyn Write) -> Result<GeneratedMonth> {
    let bar = counter(config.subscribers, "subscribers");
    let month = generate(config, out, &mut |done| bar.set_position(done))?;
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
    let month = generate_events(&config, events.writer())?;
    let events = events.finish()?;
    let mut org = AtomicFile::create(&org_path)?;
    org.writer()
        .write_all(month.organisation.to_toml_string()?.as_bytes())
        .with_context(|| format!("writing {}", org_path.display()))?;
    commit_all([events, org.finish()?])?;
    let bytes = std::fs::metadata(&events_path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "wbill: {} events ({}.{} MB) for {} subscribers in {} customers, {} sub-partners: {} and {} in {:.2} s",
        thousands(month.events),
        bytes / 1_000_000,
        bytes / 100_000 % 10,
        thousands(month.subscribers),
        thousands(u64::from(month.customers)),
        month.organisation.sub_partners.len(),
        events_path.display(),
        org_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
