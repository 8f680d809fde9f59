//! `wbill invoice vendor` and `wbill invoice customers`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use wholesale_billing::{
    Billing, CdrDiagnostics, CustomerDirectory, Decimal, ExpectedInvoice, FixedLine, HourPolicy, Invoice, LineKind,
    MarginReport, Minutes, Money, MonthlyBilling, PriceBook, RatingResult, RatingSummary, ReportLevel, Tariff,
    VendorInvoice,
};

use crate::args::{fixed_line, non_negative_decimal, percent};
use crate::atomic::StagedDir;
use crate::cdr_rate::{CallRating, write_summary};
use crate::inputs::{Format, PeriodArgs, UsageInput, name_row_file, read_price_book, read_rates};
use crate::progress::thousands;
use crate::stdio::{Input, Output, input_arg, output, output_arg};
use crate::tariff_cmd::read_tariff;

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
    /// Call record files (CSV or JSON by content, read as one input), rated at --tariff with the
    /// customers, owners and allowance pools of --events: one minutes line per destination on
    /// the invoices; the rated records and the summary are written in minutes/.
    #[arg(long, value_name = "FILE", num_args = 1.., requires_all = ["tariff", "events"], value_parser = input_arg())]
    cdrs: Vec<Input>,
    /// The price tariff of the calls (what the customers pay; the price book's currency).
    #[arg(long, value_name = "FILE", requires = "cdrs")]
    tariff: Option<PathBuf>,
    /// The PSTN provider's cost tariff, for the minutes in the margin report (needed by --rates
    /// with --cdrs).
    #[arg(long, value_name = "FILE", requires_all = ["cdrs", "rates"])]
    cost_tariff: Option<PathBuf>,
    /// Skip bad call records and rate the rest (issues on stderr) instead of failing.
    #[arg(long, requires = "cdrs")]
    lenient: bool,
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
            InvoiceCommand::Customers(a) => {
                let mut options = a.usage.stdin_options();
                options.extend(a.cdrs.iter().filter(|i| **i == Input::Stdin).map(|_| "--cdrs"));
                options
            }
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
        ["customers" | "sub-partners" | "minutes"] => true,
        ["customers" | "sub-partners", file] => file.ends_with(".csv") || file.ends_with(".json"),
        [file] => matches!(*file, "summary.csv" | "summary.json" | "margin.csv" | "margin.json"),
        ["minutes", file] => matches!(
            *file,
            "rated.csv" | "summary.csv" | "summary.json" | "cost-rated.csv" | "cost-summary.csv" | "cost-summary.json"
        ),
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

/// The minutes of a month, rated into `dir` of `out` (`minutes/` of the billing directory):
/// `rated.csv` and `summary.csv` (`.json` with `--format json`) at the price tariff, and with a
/// cost tariff `cost-rated.csv` and `cost-summary.csv`.
pub struct MonthMinutes {
    /// The summary at the price tariff.
    pub price: RatingResult,
    /// The summary at the cost tariff, when given.
    pub cost: Option<RatingResult>,
    /// The records read (of the price rating; the cost rating reads the same).
    pub read: CdrDiagnostics,
}

/// Rates the calls at the price tariff and, when given, the cost tariff; writes the rated records
/// and summaries into `dir` of `out`.
pub fn rate_minutes(
    rating: &CallRating<'_>,
    cost_tariff: Option<&Tariff>,
    out: &StagedDir,
    dir: &Path,
    format: Format,
) -> Result<MonthMinutes> {
    out.create_dir(dir)?;
    let extension = match format {
        Format::Csv => "csv",
        Format::Json => "json",
    };
    let (read, price) = out.write(dir.join("rated.csv"), |w| rating.rate(w))?;
    out.write(dir.join(format!("summary.{extension}")), |w| {
        write_summary(w, &price, format.into())
    })?;
    let cost = match cost_tariff {
        Some(tariff) => {
            let rating = CallRating {
                tariff,
                print_read_issues: false,
                ..*rating
            };
            let (_, cost) = out.write(dir.join("cost-rated.csv"), |w| rating.rate(w))?;
            out.write(dir.join(format!("cost-summary.{extension}")), |w| {
                write_summary(w, &cost, format.into())
            })?;
            Some(cost)
        }
        None => None,
    };
    Ok(MonthMinutes { price, cost, read })
}

/// Reads a tariff of `wbill invoice customers` and checks its currency against the price book's.
fn read_billing_tariff(path: &Path, flag: &str, book: &PriceBook) -> Result<Tariff> {
    let (_, tariff) = read_tariff(path)?;
    tariff
        .check_currency(book)
        .with_context(|| format!("{flag} {}", path.display()))?;
    Ok(tariff)
}

/// Σ revenue and Σ cost of the margin rows of `dimensions`.
pub fn margin_totals(margin: &MarginReport, dimensions: &[&str]) -> Result<(Money, Money)> {
    let zero = Money::zero(margin.currency);
    Ok(margin
        .rows
        .iter()
        .filter(|r| dimensions.contains(&r.dimension))
        .try_fold((zero, zero), |(r, c), row| {
            Ok::<_, wholesale_billing::Error>((r.checked_add(row.revenue)?, c.checked_add(row.cost)?))
        })?)
}

/// Σ calls, Σ billable minutes and Σ amounts of a rating summary.
pub fn summary_totals(summary: &RatingSummary) -> Result<(u64, Decimal, Decimal)> {
    summary
        .rows()
        .iter()
        .try_fold((0u64, Decimal::ZERO, Decimal::ZERO), |(calls, minutes, amount), row| {
            Some((
                calls.checked_add(row.calls)?,
                minutes.checked_add(row.billable_minutes)?,
                amount.checked_add(row.amount)?,
            ))
        })
        .context("the minutes totals overflow")
}

fn run_customers(args: &CustomersArgs) -> Result<()> {
    let period = args.period.period()?;
    let Some(org) = args.usage.organisation()? else {
        bail!("--org is required: it tells the partner's customers from the sub-partners'");
    };
    let book = read_price_book(&args.price_book)?;
    let rates = args.rates.as_deref().map(read_rates).transpose()?;
    let tariff = args
        .tariff
        .as_deref()
        .map(|path| read_billing_tariff(path, "--tariff", &book))
        .transpose()?;
    let cost_tariff = args
        .cost_tariff
        .as_deref()
        .map(|path| read_billing_tariff(path, "--cost-tariff", &book))
        .transpose()?;
    if !args.cdrs.is_empty() && rates.is_some() && cost_tariff.is_none() {
        bail!(
            "--rates with --cdrs needs --cost-tariff: the margin report would show the minutes at no cost \
             (drop --rates for invoices without a margin report)"
        );
    }
    // Refuses a bad --out-dir before the work.
    let out = StagedDir::create(&args.out_dir, "wbill invoice customers", is_billing_output)?;
    let started = std::time::Instant::now();
    let (report, ledger) = args.usage.load(period, ReportLevel::User)?;
    let loaded = started.elapsed();
    let minutes = match (&tariff, &ledger) {
        (Some(tariff), Some(ledger)) => {
            let rating = CallRating {
                cdrs: &args.cdrs,
                tariff,
                ledger: Some(ledger),
                pools: Some(&report),
                period,
                hour_policy: HourPolicy::from(args.usage.hour_policy),
                lenient: args.lenient,
                spill_dir: Some(out.path()),
                print_read_issues: true,
            };
            let minutes = rate_minutes(&rating, cost_tariff.as_ref(), &out, Path::new("minutes"), args.format)?;
            Some((minutes, CustomerDirectory::from_ledger(ledger)))
        }
        _ => None,
    };
    let rated = started.elapsed();
    let month =
        Billing::new(&org, &book)
            .minutes(minutes.as_ref().map(|(m, customers)| {
                Minutes::new(&m.price.summary, customers).cost(m.cost.as_ref().map(|c| &c.summary))
            }))
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
    note!(
        "wbill: {} customer invoices and {} sub-partner invoices for {period}, {} in all, written to {}/ \
         (usage {:.2} s, {}billing {:.2} s, writing {:.2} s)",
        month.customer_invoices.len(),
        month.sub_partner_invoices.len(),
        month.grand_total()?,
        args.out_dir.display(),
        loaded.as_secs_f64(),
        if minutes.is_some() {
            format!("rating {:.2} s, ", (rated - loaded).as_secs_f64())
        } else {
            String::new()
        },
        (billed - rated).as_secs_f64(),
        (started.elapsed() - billed).as_secs_f64()
    );
    if let Some((minutes, _)) = &minutes {
        let (calls, billable, amount) = summary_totals(&minutes.price.summary)?;
        note!(
            "wbill: minutes: {} call records read, {} charged calls, {billable} billable minutes, {amount} {} \
             before discount and tax → {}/minutes/",
            thousands(minutes.read.records_read),
            thousands(calls),
            book.currency,
            args.out_dir.display()
        );
    }
    if let Some(margin) = &month.margin {
        let (revenue, cost) = margin_totals(margin, &["customer", "sub_partner"])?;
        note!(
            "wbill: revenue {revenue}, wholesale cost {cost}, margin {}",
            revenue.checked_sub(cost)?
        );
        if minutes.is_some() {
            let (revenue, cost) = margin_totals(margin, &["customer_minutes", "sub_partner_minutes"])?;
            note!(
                "wbill: of which minutes: revenue {revenue}, cost {cost}, margin {}",
                revenue.checked_sub(cost)?
            );
        }
    }
    debug_assert!(written >= month.customer_invoices.len());
    Ok(())
}
