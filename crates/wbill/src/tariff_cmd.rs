//! `wbill tariff`: show a minutes tariff, or convert it between TOML and JSON.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use wholesale_billing::{Error, OrgFormat, Tariff, TariffDocument};

use crate::stdio::{Output, output, output_arg};

/// Arguments of `wbill tariff`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  wbill tariff show tariff.toml\n  \
                        wbill tariff convert tariff.toml --to json --out tariff.json\n  \
                        wbill tariff convert tariff.toml --to toml --inline-prefix-table --out all-in-one.toml\n\n\
                        Tariffs: docs/minutes.md.")]
pub struct TariffArgs {
    #[command(subcommand)]
    command: TariffCommand,
}

#[derive(Debug, Subcommand)]
enum TariffCommand {
    /// Check a tariff (and its prefix table) and show its currency, bands, destinations and allowances.
    Show(ShowArgs),
    /// Check a tariff and write it as TOML or JSON.
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// Tariff file: TOML, or JSON by the `.json` extension; its `prefix_table` is read relative to it.
    #[arg(value_name = "FILE")]
    tariff: PathBuf,
}

#[derive(Debug, Args)]
struct ConvertArgs {
    /// Tariff file: TOML, or JSON by the `.json` extension; its `prefix_table` is read relative to it.
    #[arg(value_name = "FILE")]
    tariff: PathBuf,
    /// The form to write.
    #[arg(long, value_enum)]
    to: TariffFormat,
    /// Write the prefix table's destinations into the file itself, instead of keeping the
    /// `prefix_table` reference (the CSV is then not needed).
    #[arg(long)]
    inline_prefix_table: bool,
    /// Write here (whole or not at all) instead of stdout; `-` for stdout.
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    out: Option<Output>,
}

/// The written forms of a tariff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TariffFormat {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

/// Runs `wbill tariff`.
pub fn run(args: &TariffArgs) -> Result<()> {
    match &args.command {
        TariffCommand::Show(show) => {
            let (doc, tariff) = read_tariff(&show.tariff)?;
            output(None, |w| {
                describe(w, &doc, &tariff)?;
                Ok(())
            })
        }
        TariffCommand::Convert(convert) => {
            let (doc, _) = read_tariff(&convert.tariff)?;
            if let (Some(table), false, Some(Output::File(out))) =
                (doc.prefix_table(), convert.inline_prefix_table, &convert.out)
                && dir_of(out) != dir_of(&convert.tariff)
                && Path::new(table).is_relative()
            {
                eprintln!(
                    "wbill: note: {} names the prefix table {table} relative to its own directory; \
                     copy the table beside {} or give --inline-prefix-table",
                    out.display(),
                    out.display()
                );
            }
            let doc = if convert.inline_prefix_table {
                doc.inline_prefix_table()
            } else {
                doc
            };
            let text = match convert.to {
                TariffFormat::Toml => doc.to_toml_string()?,
                TariffFormat::Json => doc.to_json_string()?,
            };
            output(convert.out.as_ref(), |w| {
                w.write_all(text.as_bytes())?;
                Ok(())
            })
        }
    }
}

/// The directory a file name is relative to (`.` for a bare name).
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Reads a tariff file and the prefix table it names (relative to the tariff file), and
/// compiles it: every error names its file.
pub fn read_tariff(path: &Path) -> Result<(TariffDocument, Tariff)> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = OrgFormat::from_file_name(&path.to_string_lossy());
    let mut doc = TariffDocument::from_slice(&bytes, format).with_context(|| format!("in {}", path.display()))?;
    let mut table_path = None;
    if let Some(table) = doc.prefix_table() {
        let table_path = table_path.insert(dir_of(path).join(table));
        let file = std::fs::File::open(&table_path).with_context(|| format!("cannot open {}", table_path.display()))?;
        doc = doc
            .with_prefix_table(std::io::BufReader::new(file))
            .with_context(|| format!("in {}", table_path.display()))?;
    }
    let tariff = doc.compile().map_err(|e| {
        // An error located in the prefix table names the table's file.
        let file = match (&e, &table_path) {
            (Error::InvalidFile { file, .. }, Some(table)) if *file == TariffDocument::PREFIX_TABLE_FILE => table,
            _ => path,
        };
        anyhow::Error::new(e).context(format!("in {}", file.display()))
    })?;
    Ok((doc, tariff))
}

/// The human summary of `wbill tariff show`.
fn describe(w: &mut dyn std::io::Write, doc: &TariffDocument, tariff: &Tariff) -> std::io::Result<()> {
    let types: Vec<&str> = tariff.charged_call_types().iter().map(|t| t.as_str()).collect();
    writeln!(
        w,
        "currency {}, charges rounded to {} decimals",
        tariff.currency(),
        tariff.rating_decimals()
    )?;
    writeln!(w, "charged call types: {}", types.join(", "))?;
    if let Some(id) = tariff.tollfree_destination().and_then(|id| tariff.destination(id)) {
        writeln!(w, "toll-free legs priced at: {}", id.name())?;
    }
    writeln!(w)?;
    writeln!(w, "{:<16} {:<28} {:>8} {:>8}", "band", "days", "from", "to")?;
    for band in &doc.bands {
        let days: Vec<String> = band.days.iter().map(|d| d.to_string().to_lowercase()).collect();
        writeln!(
            w,
            "{:<16} {:<28} {:>8} {:>8}",
            band.name,
            days.join(","),
            band.from,
            band.to
        )?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "{:<28} {:<14} {:>8} {:>12} {:>12} {:>9}  band prices",
        "destination", "class", "prefixes", "connect_fee", "per_minute", "increment"
    )?;
    let all = doc.destinations.iter().chain(doc.table_destinations());
    for d in all {
        let bands: Vec<String> = d
            .bands
            .iter()
            .map(|(name, p)| format!("{name} {}", p.per_minute))
            .collect();
        writeln!(
            w,
            "{:<28} {:<14} {:>8} {:>12} {:>12} {:>9}  {}",
            d.name,
            d.class,
            d.prefixes.len(),
            d.connect_fee,
            d.per_minute,
            format!("{}/{}", d.initial, d.subsequent),
            if bands.is_empty() {
                "-".to_owned()
            } else {
                bands.join(", ")
            }
        )?;
    }
    writeln!(w)?;
    for a in &doc.allowances {
        writeln!(
            w,
            "allowance: {} minutes per user-month of {} for {}",
            a.minutes,
            a.package,
            a.classes.join(", ")
        )?;
    }
    writeln!(
        w,
        "{} destinations, {} prefixes ({} from the prefix table), {} bands, {} allowances; \
         prefix table {}.{} MB in memory",
        tariff.destinations().len(),
        tariff.prefix_count(),
        doc.table_destinations().iter().map(|d| d.prefixes.len()).sum::<usize>(),
        tariff.bands().len(),
        tariff.allowances().len(),
        tariff.prefix_table_bytes() / 1_000_000,
        tariff.prefix_table_bytes() / 100_000 % 10
    )
}
