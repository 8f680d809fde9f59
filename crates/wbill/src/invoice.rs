//! `wbill invoice vendor` and `wbill invoice customers`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use wholesale_billing::{
    Billing, Decimal, ExpectedInvoice, FixedLine, Invoice, LineKind, Money, MonthlyBilling, ReportLevel, VendorInvoice,
};

use crate::args::{fixed_line, non_negative_decimal, percent};
use crate::atomic::StagedDir;
use crate::inputs::{Format, PeriodArgs, UsageInput, name_row_file, read_price_book, read_rates};
use crate::stdio::{Output, output, output_arg};

/// Invoices: the one Cisco should send, and the ones the partner sends.
#[derive(Debug, Args)]
pub struct InvoiceArgs {
    #[command(subcommand)]
    command: InvoiceCommand,
}

#[derive(Debug, Subcommand)]
enum InvoiceCommand {
    /// The invoice Cisco should send for the period, from usage and the wholesale rate card.
    Vendor(VendorArgs),
    /// One invoice per customer (and a roll-up per sub-partner) from usage and the price book.
    Customers(CustomersArgs),
}

/// Arguments of `wbill invoice vendor`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill invoice vendor --events events.csv --org org.toml --rates rates.toml \
                        --from 2024-05-01 --to 2024-05-31 --out vendor-invoice.csv\n\n\
                        Money, rounding, invoices and rate cards: docs/money.md."
)]
pub struct VendorArgs {
    #[command(flatten)]
    usage: UsageInput,
    #[command(flatten)]
    period: PeriodArgs,
    /// Wholesale rate card: CSV, TOML, JSON, or a Cisco Commerce Catalog "Get Offer Details" JSON.
    #[arg(long, value_name = "FILE")]
    rates: PathBuf,
    /// Committed deal: the monthly committed spend (in the rate card's currency; not negative).
    #[arg(long, value_name = "AMOUNT", allow_negative_numbers = true, value_parser = non_negative_decimal)]
    committed: Option<Decimal>,
    /// A fixed line, `SKU:QUANTITY:RATE[:DESCRIPTION]` (repeatable), e.g. a support plan.
    #[arg(long, value_name = "SKU:QTY:RATE[:DESC]", value_parser = fixed_line)]
    fixed: Vec<FixedLine>,
    /// Tax percentage on the subtotal, from 0 to 100.
    #[arg(long, value_name = "PERCENT", allow_negative_numbers = true, value_parser = percent)]
    tax_percent: Option<Decimal>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Write here (whole or not at all) instead of stdout; `-` for stdout.
    #[arg(long, value_name = "FILE", value_parser = output_arg())]
    out: Option<Output>,
}

/// Arguments of `wbill invoice customers`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  wbill invoice customers --events events.csv --org org.toml --price-book prices.toml \
                        --rates rates.toml --from 2024-05-01 --to 2024-05-31 --out-dir invoices/\n\n\
                        Money, rounding, invoices and price books: docs/money.md."
)]
pub struct CustomersArgs {
    #[command(flatten)]
    usage: UsageInput,
    #[command(flatten)]
    period: PeriodArgs,
    /// The partner's price book (TOML or JSON).
    #[arg(long, value_name = "FILE")]
    price_book: PathBuf,
    /// Wholesale rate card, for the margin report.
    #[arg(long, value_name = "FILE")]
    rates: Option<PathBuf>,
    /// One line per SKU and location.
    #[arg(long)]
    per_location: bool,
    /// Output format of the invoices.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Directory for the invoices, the summary and the margin report: built beside it and swapped
    /// in whole, so nothing of an earlier run stays (it may hold only what this command writes).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

impl InvoiceArgs {
    /// The options given `-` (standard input).
    pub fn stdin_options(&self) -> Vec<&'static str> {
        match &self.command {
            InvoiceCommand::Vendor(a) => a.usage.stdin_options(),
            InvoiceCommand::Customers(a) => a.usage.stdin_options(),
        }
    }
}

/// Runs `wbill invoice`.
pub fn run(args: &InvoiceArgs) -> Result<()> {
    match &args.command {
        InvoiceCommand::Vendor(a) => run_vendor(a),
        InvoiceCommand::Customers(a) => run_customers(a),
    }
}

/// The expected vendor invoice of the arguments.
pub fn vendor_invoice(
    usage: &UsageInput,
    period: &PeriodArgs,
    rates_path: &Path,
    committed: Option<Decimal>,
    fixed: &[FixedLine],
    tax_percent: Option<Decimal>,
) -> Result<VendorInvoice> {
    let period = period.period()?;
    let rates = read_rates(rates_path)?;
    let report = usage.report(period, ReportLevel::Customer)?;
    ExpectedInvoice::new(&rates)
        .committed(committed.map(|amount| Money::new(amount, rates.currency())))
        .fixed_lines(fixed.iter().cloned())
        .tax_percent(tax_percent)
        .build([&report])
        .map_err(|e| name_row_file(e, &[("usage report", usage.files())]))
        .with_context(|| {
            format!(
                "the expected vendor invoice with the rate card {} ({})",
                rates_path.display(),
                rates.currency()
            )
        })
}

fn run_vendor(args: &VendorArgs) -> Result<()> {
    let invoice = vendor_invoice(
        &args.usage,
        &args.period,
        &args.rates,
        args.committed,
        &args.fixed,
        args.tax_percent,
    )?;
    output(args.out.as_ref(), |w| match args.format {
        Format::Csv => Ok(invoice.write_csv(w)?),
        Format::Json => Ok(serde_json::to_writer_pretty(w, &invoice)?),
    })?;
    print_vendor_summary(&invoice)?;
    Ok(())
}

/// A short human summary of a vendor invoice on stderr.
pub fn print_vendor_summary(invoice: &VendorInvoice) -> Result<()> {
    let period = invoice.period.map(|p| p.to_string()).unwrap_or_default();
    eprintln!("wbill: expected vendor invoice {period}");
    for l in &invoice.lines {
        let qty = if l.kind == LineKind::Usage {
            format!("{} user-months", l.quantity)
        } else {
            l.kind.to_string()
        };
        eprintln!(
            "  {:<20} {:>24} × {:>8} = {:>12}",
            l.sku,
            qty,
            l.rate,
            l.extended.amount()
        );
    }
    eprintln!("  {:<20} {:>50}", "TOTAL", invoice.total()?.to_string());
    Ok(())
}

fn file_stem(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.starts_with('.') {
        format!("_{cleaned}")
    } else {
        cleaned
    }
}

/// The file name of each invoice: its bill-to's label (the customer's external id), else its org
/// id, made safe for a file system; names that would collide (equal ignoring case) get the org id
/// appended, so no invoice overwrites another.
fn invoice_files(dir: &Path, invoices: &[Invoice], format: Format) -> Vec<PathBuf> {
    let extension = match format {
        Format::Csv => "csv",
        Format::Json => "json",
    };
    let stems: Vec<String> = invoices
        .iter()
        .map(|invoice| {
            let label = invoice.bill_to.label();
            file_stem(if label.is_empty() {
                invoice.bill_to.org_id()
            } else {
                label
            })
        })
        .collect();
    let mut uses: HashMap<String, usize> = HashMap::new();
    for stem in &stems {
        *uses.entry(stem.to_ascii_lowercase()).or_default() += 1;
    }
    stems
        .into_iter()
        .zip(invoices)
        .map(|(stem, invoice)| {
            let stem = if uses[&stem.to_ascii_lowercase()] > 1 {
                format!("{stem}--{}", file_stem(invoice.bill_to.org_id()))
            } else {
                stem
            };
            dir.join(format!("{stem}.{extension}"))
        })
        .collect()
}

/// What `wbill invoice customers` writes in its directory, by path relative to it: an existing
/// directory holding anything else is not replaced.
pub fn is_billing_output(relative: &Path) -> bool {
    let parts: Vec<&str> = relative.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["customers" | "sub-partners"] => true,
        ["customers" | "sub-partners", file] => file.ends_with(".csv") || file.ends_with(".json"),
        [file] => matches!(*file, "summary.csv" | "summary.json" | "margin.csv" | "margin.json"),
        _ => false,
    }
}

/// Bills the month into `dir` (relative to the directory being built, `""` for its root):
/// `customers/`, `sub-partners/`, `summary.csv` and `margin.csv` (`.json` with `--format json`).
pub fn write_billing(month: &MonthlyBilling, out: &StagedDir, dir: &Path, format: Format) -> Result<usize> {
    let mut written = 0;
    for (sub, invoices) in [
        ("customers", &month.customer_invoices),
        ("sub-partners", &month.sub_partner_invoices),
    ] {
        let sub = dir.join(sub);
        out.create_dir(&sub)?;
        for (invoice, path) in invoices.iter().zip(invoice_files(&sub, invoices, format)) {
            out.write(&path, |w| match format {
                Format::Csv => Ok(invoice.write_csv(w)?),
                Format::Json => Ok(serde_json::to_writer_pretty(w, invoice)?),
            })?;
            written += 1;
        }
    }
    match format {
        Format::Csv => {
            out.write(dir.join("summary.csv"), |w| Ok(month.write_summary_csv(w)?))?;
            if let Some(margin) = &month.margin {
                out.write(dir.join("margin.csv"), |w| Ok(margin.write_csv(w)?))?;
            }
        }
        Format::Json => {
            out.write(dir.join("summary.json"), |w| Ok(month.write_summary_json(w)?))?;
            if let Some(margin) = &month.margin {
                out.write(dir.join("margin.json"), |w| {
                    Ok(serde_json::to_writer_pretty(w, margin)?)
                })?;
            }
        }
    }
    Ok(written)
}

fn run_customers(args: &CustomersArgs) -> Result<()> {
    let period = args.period.period()?;
    let Some(org) = args.usage.organisation()? else {
        bail!("--org is required: it tells the partner's customers from the sub-partners'");
    };
    let book = read_price_book(&args.price_book)?;
    let rates = args.rates.as_deref().map(read_rates).transpose()?;
    // Refuses a bad --out-dir before the work.
    let out = StagedDir::create(&args.out_dir, "wbill invoice customers", is_billing_output)?;
    let started = std::time::Instant::now();
    let report = args.usage.report(period, ReportLevel::User)?;
    let loaded = started.elapsed();
    let month = Billing::new(&org, &book)
        .wholesale(rates.as_ref())
        .per_location(args.per_location)
        .run(&report)
        .map_err(|e| name_row_file(e, &[("usage report", args.usage.files())]))
        .with_context(|| {
            let card = match (&args.rates, &rates) {
                (Some(path), Some(card)) => format!(" and the rate card {} ({})", path.display(), card.currency()),
                _ => String::new(),
            };
            format!(
                "billing with the price book {} ({}){card}",
                args.price_book.display(),
                book.currency
            )
        })?;
    let billed = started.elapsed();
    let written = write_billing(&month, &out, Path::new(""), args.format)?;
    out.commit()?;
    eprintln!(
        "wbill: {} customer invoices and {} sub-partner invoices for {period}, {} in all, written to {}/ \
         (usage {:.2} s, billing {:.2} s, writing {:.2} s)",
        month.customer_invoices.len(),
        month.sub_partner_invoices.len(),
        month.grand_total()?,
        args.out_dir.display(),
        loaded.as_secs_f64(),
        (billed - loaded).as_secs_f64(),
        (started.elapsed() - billed).as_secs_f64()
    );
    if let Some(margin) = &month.margin {
        let (revenue, cost) = margin.rows.iter().filter(|r| r.dimension != "sku").try_fold(
            (Money::zero(margin.currency), Money::zero(margin.currency)),
            |(r, c), row| Ok::<_, wholesale_billing::Error>((r.checked_add(row.revenue)?, c.checked_add(row.cost)?)),
        )?;
        eprintln!(
            "wbill: revenue {revenue}, wholesale cost {cost}, margin {}",
            revenue.checked_sub(cost)?
        );
    }
    debug_assert!(written >= month.customer_invoices.len());
    Ok(())
}
