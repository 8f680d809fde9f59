//! `wbill rates`: show a wholesale rate card, or convert it between CSV, TOML and JSON.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::inputs::read_rates;
use crate::stdio::{Output, output, output_arg};

/// Arguments of `wbill rates`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  wbill rates --rates offer-details.json\n  \
                        wbill rates --rates rates.csv --format toml --out rates.toml\n\n\
                        Rate cards: docs/money.md.")]
pub struct RatesArgs {
    /// Rate card: CSV, TOML, JSON, or a Cisco Commerce Catalog "Get Offer Details" JSON response.
    #[arg(long, value_name = "FILE")]
    pub rates: PathBuf,
    /// Output: a table for people, or the card as CSV, TOML or JSON.
    #[arg(long, value_enum, default_value_t = RatesFormat::Table)]
    pub format: RatesFormat,
    /// Write here (whole or not at all) instead of stdout; `-` for stdout.
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    pub out: Option<Output>,
}

/// Output of `wbill rates`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RatesFormat {
    /// Aligned columns.
    Table,
    /// CSV rate card.
    Csv,
    /// TOML rate card.
    Toml,
    /// JSON rate card.
    Json,
}

/// Runs `wbill rates`.
pub fn run(args: &RatesArgs) -> Result<()> {
    let card = read_rates(&args.rates)?;
    output(args.out.as_ref(), |w| {
        match args.format {
            RatesFormat::Table => {
                writeln!(
                    w,
                    "{:<28} {:>12} {:>12}  {:<10} {:<8} description",
                    "sku", "rate", "committed", "unit", "charge"
                )?;
                for r in card.rates() {
                    writeln!(
                        w,
                        "{:<28} {:>12} {:>12}  {:<10} {:<8} {}",
                        r.sku,
                        r.rate,
                        r.committed_rate.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                        r.unit_of_measure,
                        r.charge_type,
                        r.description
                    )?;
                }
                writeln!(w, "{} SKUs, prices in {} per user-month", card.len(), card.currency())?;
            }
            RatesFormat::Csv => card.write_csv(w)?,
            RatesFormat::Toml => w.write_all(card.to_toml_string()?.as_bytes())?,
            RatesFormat::Json => w.write_all(card.to_json_string()?.as_bytes())?,
        }
        Ok(())
    })
}
