//! `wbill demo`: the main job on an embedded default month, with a short human summary.
//!
//! It generates a partner month, computes the usage reports of the partner and of each
//! sub-partner, runs the month through a local sandbox of the Webex and Cisco Commerce Catalog
//! APIs (the typed client fetches the vendor's usage reports and the wholesale prices from it),
//! generates the month's calls and rates them at a price and a cost tariff, prices the month
//! (customer invoices with their minutes, sub-partner roll-ups, margins), builds the invoice Cisco
//! should send, and reconciles the partner's numbers against the vendor's copy of the reports and
//! invoice, in which a few known discrepancies were planted.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use webex_sandbox::{Sandbox, SandboxConfig};
use webex_wholesale_client::Client;
use webex_wholesale_client::ccws::{CcwsClient, CcwsCredentials};
use wholesale_billing::synthetic::{
    CdrConfig, GeneratorConfig, TariffConfig, generate_cdrs, generate_tariff, plant_discrepancies,
};
use wholesale_billing::{
    AssignmentLedger, Billing, CdrFormat, CustomerDirectory, Decimal, ExpectedInvoice, FindingClass, HourPolicy,
    LoadMode, Minutes, Money, Period, PriceBook, Quantity, Reconciler, ReportLevel, ReportOptions, RoundingMode, Scope,
    UsageReport, WholesaleRateCard,
};

use crate::atomic::StagedDir;
use crate::cdr_rate::CallRating;
use crate::gen_cmd::generate_events;
use crate::inputs::Format;
use crate::invoice::{MonthMinutes, is_billing_output, margin_totals, rate_minutes, summary_totals, write_billing};
use crate::progress::thousands;
use crate::stdio::{self, Input};
use crate::tariff_cmd::read_tariff;
use crate::usage::load_ledger;

/// The demo's wholesale rate card (USD; the sample invoice's rates for the four known SKUs).
const RATES: &str = include_str!("../demo/rates.toml");
/// The demo's retail price book; sub-partner prices are added for the generated sub-partners.
const PRICES: &str = include_str!("../demo/prices.toml");
/// What the partner charges a sub-partner: its wholesale cost plus this percentage.
const RESELLER_MARKUP_PERCENT: i64 = 18;
/// Discrepancies planted in the vendor's copy of the partner's USER report.
const PLANTED: usize = 6;
/// Calls per subscriber of the demo month (the generator's default is 100; fewer keep the demo
/// fast).
const CALLS_PER_SUBSCRIBER: u32 = 20;
/// Rows of the demo tariffs' destination tables.
const PREFIXES: u32 = 1_000;

/// Arguments of `wbill demo` (all optional: the defaults are the embedded sample).
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the sample data, reports, invoices and findings: built beside it and
    /// swapped in whole (it may hold only what the demo writes).
    #[arg(long, value_name = "DIR", default_value = "wbill-demo")]
    pub out_dir: PathBuf,
    /// Seed of the sample month.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Number of subscribers of the sample month.
    #[arg(long, default_value_t = 2_000)]
    pub subscribers: u64,
}

/// The price book of the demo: the embedded one, plus each sub-partner's prices.
fn demo_price_book(rates: &WholesaleRateCard, sub_partners: &[String]) -> Result<(String, PriceBook)> {
    let mut text = PRICES.to_owned();
    for org_id in sub_partners {
        let _ = writeln!(text, "\n[sub_partners.\"{org_id}\"]");
        for rate in rates.rates() {
            let price = RoundingMode::HalfEven.round(
                rate.rate * Decimal::from(100 + RESELLER_MARKUP_PERCENT) / Decimal::ONE_HUNDRED,
                2,
            );
            let _ = writeln!(text, "skus.\"{}\" = {{ price = \"{price}\" }}", rate.sku);
        }
    }
    let book = PriceBook::from_toml_str(&text)?;
    Ok((text, book))
}

/// What `wbill demo` writes in its directory, by path relative to it: an existing directory
/// holding anything else is not replaced.
fn is_demo_output(relative: &Path) -> bool {
    if let Ok(billing) = relative.strip_prefix("invoices") {
        return billing.as_os_str().is_empty() || is_billing_output(billing);
    }
    let Some(name) = relative.to_str() else {
        return false;
    };
    matches!(
        name,
        "events.csv"
            | "org.toml"
            | "rates.toml"
            | "prices.toml"
            | "findings.csv"
            | "vendor-invoice.csv"
            | "cdrs.csv"
            | "tariff.toml"
            | "prefixes.csv"
            | "cost-tariff.toml"
            | "cost-prefixes.csv"
    ) || (name.ends_with(".csv")
        && ["partner-", "sub-partner-", "vendor-"]
            .iter()
            .any(|p| name.starts_with(p)))
}

/// Generates the demo month's calls (`cdrs.csv`) and its price and cost tariffs (`tariff.toml`
/// with `prefixes.csv`, `cost-tariff.toml` with `cost-prefixes.csv`) into the demo's directory,
/// then rates the calls at both into `invoices/minutes/`.
fn demo_minutes(out: &StagedDir, ledger: &AssignmentLedger, seed: u64, month: Period) -> Result<MonthMinutes> {
    let config = CdrConfig {
        seed,
        period: month,
        calls_per_subscriber: CALLS_PER_SUBSCRIBER,
        format: CdrFormat::Csv,
        unknown_customer: false,
        no_destination: false,
    };
    out.write("cdrs.csv", |w| Ok(generate_cdrs(ledger, &config, w, &mut |_| {})?))?;
    let tariff = generate_tariff(&TariffConfig {
        prefixes: PREFIXES.max(TariffConfig::min_prefixes()),
        ..TariffConfig::new(seed)
    });
    for (toml_name, table_name, cost) in [
        ("tariff.toml", "prefixes.csv", false),
        ("cost-tariff.toml", "cost-prefixes.csv", true),
    ] {
        let mut table = Vec::new();
        out.write(toml_name, |w| {
            if cost {
                tariff.write_cost(w, &mut table, table_name)?;
            } else {
                tariff.write_price(w, &mut table, table_name)?;
            }
            Ok(())
        })?;
        out.write(table_name, |w| Ok(w.write_all(&table)?))?;
    }
    let (_, price) = read_tariff(&out.path().join("tariff.toml"))?;
    let (_, cost) = read_tariff(&out.path().join("cost-tariff.toml"))?;
    let cdrs = [Input::File(out.path().join("cdrs.csv"))];
    let rating = CallRating {
        cdrs: &cdrs,
        tariff: &price,
        ledger: Some(ledger),
        pools: None,
        period: month,
        hour_policy: HourPolicy::Started,
        lenient: false,
        spill_dir: Some(out.path()),
        print_read_issues: false,
    };
    rate_minutes(&rating, Some(&cost), out, Path::new("invoices/minutes"), Format::Csv)
}

/// Writes a report into the demo's directory.
fn write_report(out: &StagedDir, name: &str, report: &UsageReport) -> Result<()> {
    out.write(name, |w| {
        Ok(report.write_csv_with_threads(w, crate::progress::threads())?)
    })
}

/// The CSV text of a report.
fn csv_bytes(report: &UsageReport) -> wholesale_billing::Result<Vec<u8>> {
    let mut out = Vec::new();
    report.write_csv(&mut out)?;
    Ok(out)
}

/// Starts a sandbox of the month, then, as a partner would: fetches the USER report of the
/// partner and of each sub-partner through the Webex API client, and the wholesale prices
/// through the Cisco Commerce Catalog client.
async fn through_the_apis(
    org: &wholesale_billing::Organisation,
    events_csv: Vec<u8>,
    rates: &WholesaleRateCard,
    month: Period,
) -> Result<(Vec<UsageReport>, WholesaleRateCard)> {
    let today = month.end().succ_opt().unwrap_or(month.end());
    let config = SandboxConfig::new(org.clone(), events_csv)
        .with_rates(rates.clone())
        .with_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_today(today)
        .with_report_delay(std::time::Duration::from_millis(50));
    let sandbox = Sandbox::start(config).await?;
    let token = sandbox
        .token_of(&org.partner.org_id)
        .map(|t| t.token.clone())
        .context("the sandbox gave the partner no token")?;
    let client = Client::builder()
        .base_url(sandbox.webex_base_url())
        .token(token)
        .build()?;
    let mut reports = Vec::new();
    let scopes = std::iter::once(None).chain(org.sub_partners.iter().map(|sp| Some(sp.org_id.as_str())));
    for sub_partner in scopes {
        let fetched = client.fetch_usage(month, ReportLevel::User, sub_partner).send().await?;
        reports.push(fetched.usage);
    }
    let ccws = CcwsClient::builder()
        .token_url(format!("{}/oauth2/default/v1/token", sandbox.base_url()))
        .api_base(sandbox.base_url())
        .credentials(CcwsCredentials::new("sandbox", "sandbox", "sandbox", "sandbox"))
        .build()?;
    let catalog = ccws.price_list_rate_card().await?;
    sandbox.shutdown().await?;
    Ok((reports, catalog))
}

/// Runs `wbill demo`.
pub fn run(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    // Written in `staged`, shown as `dir`.
    let dir = &args.out_dir;
    let mut out = stdio::stdout();
    let month = Period::month(2024, 5)?;
    let config = GeneratorConfig {
        seed: args.seed,
        customers: (args.subscribers / 10).max(1) as u32,
        subscribers: args.subscribers,
        sub_partners: 2,
        month,
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    config.validate()?;
    let staged = StagedDir::create(dir, "wbill demo", is_demo_output)?;
    let spill_dir = staged.path().to_path_buf();
    let generated = staged.write("events.csv", |w| generate_events(&config, w, &spill_dir))?;
    staged.write("org.toml", |w| {
        Ok(w.write_all(generated.organisation.to_toml_string()?.as_bytes())?)
    })?;
    let events = Input::File(staged.path().join("events.csv"));
    let org = generated.organisation.clone();
    let (ledger, diagnostics) = load_ledger(&events, org.clone(), LoadMode::Strict, None)?;

    writeln!(
        out,
        "wbill demo: a generated partner month, {month}, hour policy `started`"
    )?;
    writeln!(
        out,
        "  data: {} ({} events), {}",
        dir.join("events.csv").display(),
        thousands(diagnostics.rows_read),
        dir.join("org.toml").display()
    )?;
    writeln!(
        out,
        "  partner {} ({}), subscription {}; {} customers, {} subscribers",
        org.partner.name,
        org.partner.org_id,
        org.partner.subscription_id,
        thousands(ledger.customer_count() as u64),
        thousands(ledger.subscriber_count() as u64)
    )?;

    // 1. Usage reports, per scope, at the three levels.
    let mut scopes = vec![("partner".to_owned(), org.partner.name.clone(), Scope::Partner)];
    for (i, sp) in org.sub_partners.iter().enumerate() {
        scopes.push((
            format!("sub-partner-{}", i + 1),
            sp.name.clone(),
            Scope::SubPartner(sp.org_id.clone()),
        ));
    }
    let mut totals: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut user_reports: Vec<(String, UsageReport)> = Vec::new();
    let mut written = 0;
    for (slug, name, scope) in &scopes {
        let user = ledger.usage_report(
            month,
            &ReportOptions::new(ReportLevel::User)
                .scope(scope.clone())
                .threads(crate::progress::threads()),
        )?;
        let customers = user.aggregate(ReportLevel::Customer)?;
        let partner = customers.aggregate(ReportLevel::Partner)?;
        for (level, report) in [("user", &user), ("customer", &customers), ("partner", &partner)] {
            write_report(&staged, &format!("{slug}-{level}.csv"), report)?;
            written += 1;
        }
        let subscribers: BTreeSet<&str> = user.rows().map(|r| r.subscriber_id).collect();
        let billing_start = match scope {
            Scope::SubPartner(id) => org
                .sub_partner(id)?
                .billing_start
                .map(|t| format!(", billing starts {t}"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        writeln!(
            out,
            "\n  {name} [{slug}]{billing_start}: {} subscribers billed, {} user-days",
            thousands(subscribers.len() as u64),
            user.total_quantity()?
        )?;
        for (sku, quantity) in partner.quantity_by_sku()? {
            writeln!(out, "    {sku:<28} {quantity:>14} user-days")?;
            let total = totals.entry(sku.to_owned()).or_default();
            *total = total
                .checked_add(quantity)
                .ok_or_else(|| wholesale_billing::Error::Overflow {
                    operation: "Σ user-days",
                    subject: format!("SKU {sku} of the whole subscription"),
                })?;
        }
        user_reports.push((slug.clone(), user));
    }
    writeln!(out, "\n  whole subscription, user-days per SKU:")?;
    for (sku, quantity) in &totals {
        writeln!(out, "    {sku:<28} {quantity:>14}")?;
    }

    // 2. Through the APIs: a local sandbox of Webex and the Cisco Commerce Catalog serves this
    //    month; the client fetches the vendor's USER reports and the wholesale prices.
    let rates = WholesaleRateCard::from_toml_str(RATES)?;
    staged.write("rates.toml", |w| Ok(w.write_all(RATES.as_bytes())?))?;
    let events_csv = std::fs::read(staged.path().join("events.csv"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (fetched, catalog_rates) = runtime.block_on(through_the_apis(&org, events_csv, &rates, month))?;
    let price = |card: &WholesaleRateCard| -> Vec<(String, Decimal, Option<Decimal>)> {
        card.rates()
            .map(|r| (r.sku.clone(), r.rate, r.committed_rate))
            .collect()
    };
    let same_prices = price(&catalog_rates) == price(&rates);
    let identical = fetched
        .iter()
        .zip(&user_reports)
        .all(|(f, (_, local))| csv_bytes(f).ok() == csv_bytes(local).ok());
    writeln!(
        out,
        "\n  through the APIs (local sandbox): {} USER reports fetched by the client, {}; \
         {} wholesale prices from the catalog, {}",
        fetched.len(),
        if identical {
            "byte for byte the engine's"
        } else {
            "DIFFERENT from the engine's"
        },
        catalog_rates.len(),
        if same_prices {
            "the rate card's prices"
        } else {
            "DIFFERENT from the rate card"
        }
    )?;
    if !identical || !same_prices {
        bail!("the sandbox's reports or prices differ from the engine's");
    }
    let rates = catalog_rates;

    // 3. Money: the price book, the invoices the partner sends.
    let sub_partner_ids: Vec<String> = org.sub_partners.iter().map(|sp| sp.org_id.clone()).collect();
    let (book_text, book) = demo_price_book(&rates, &sub_partner_ids)?;
    staged.write("prices.toml", |w| Ok(w.write_all(book_text.as_bytes())?))?;
    let all_user = UsageReport::concat(user_reports.iter().map(|(_, r)| r))?;
    let minutes = demo_minutes(&staged, &ledger, args.seed, month)?;
    let customers = CustomerDirectory::from_ledger(&ledger);
    let billing = Billing::new(&org, &book)
        .wholesale(&rates)
        .minutes(Minutes::new(&minutes.price.summary, &customers).cost(minutes.cost.as_ref().map(|c| &c.summary)))
        .run(&all_user)?;
    let invoices_dir = dir.join("invoices");
    let invoice_files = write_billing(&billing, &staged, Path::new("invoices"), Format::Csv)?;
    let zero = (Money::zero(book.currency), Money::zero(book.currency));
    let totals = |dimensions: &[&str]| {
        billing
            .margin
            .as_ref()
            .map_or(Ok(zero), |m| margin_totals(m, dimensions))
    };
    let (revenue, cost) = totals(&["customer", "sub_partner"])?;
    let (minutes_revenue, minutes_cost) = totals(&["customer_minutes", "sub_partner_minutes"])?;
    let (calls, billable, _) = summary_totals(&minutes.price.summary)?;
    writeln!(
        out,
        "\n  invoices sent: {} customers and {} sub-partners, {} in all (tax included) → {}/",
        billing.customer_invoices.len(),
        billing.sub_partner_invoices.len(),
        billing.grand_total()?,
        invoices_dir.display()
    )?;
    writeln!(
        out,
        "    revenue before tax {revenue}, cost {cost} (wholesale packages and minutes), margin {}",
        revenue.checked_sub(cost)?
    )?;
    writeln!(
        out,
        "    minutes: {} call records rated ({} charged calls, {} covered by allowances), {billable} billable \
         minutes → {}/minutes/",
        thousands(minutes.price.counts.rows),
        thousands(calls),
        thousands(minutes.price.counts.covered_calls),
        invoices_dir.display()
    )?;
    writeln!(
        out,
        "      minutes revenue {minutes_revenue}, PSTN cost {minutes_cost}, margin {}",
        minutes_revenue.checked_sub(minutes_cost)?
    )?;

    // 4. The invoice Cisco should send.
    let expected_invoice = ExpectedInvoice::new(&rates).build([&all_user])?;
    staged.write("vendor-invoice-expected.csv", |w| Ok(expected_invoice.write_csv(w)?))?;
    let total = expected_invoice.total()?;
    // The packages' wholesale cost, without the minutes (the PSTN provider bills those).
    let package_cost = cost.checked_sub(minutes_cost)?;
    let rounding_note = if total == package_cost {
        String::new()
    } else {
        format!(
            " (the wholesale cost of the packages, {package_cost}, rounds each customer's lines; Cisco rounds \
             each SKU over the whole subscription)"
        )
    };
    writeln!(out, "\n  expected vendor invoice: {total}{rounding_note}")?;
    for l in &expected_invoice.lines {
        writeln!(
            out,
            "    {:<28} {:>12} user-months × {:>6} = {:>10}",
            l.sku,
            l.quantity,
            l.rate,
            l.extended.amount()
        )?;
    }

    // 5. The vendor's copy (the fetched reports), with planted discrepancies, and the
    //    reconciliation.
    let Some(partner_user) = fetched.first() else {
        bail!("no partner report");
    };
    let (vendor_partner, planted) = plant_discrepancies(partner_user, args.seed, PLANTED)?;
    write_report(&staged, "vendor-partner-user.csv", &vendor_partner)?;
    // The fetched reports carry the month they were generated for (the client checks their rows).
    let mut vendor_reports = vec![vendor_partner];
    for ((slug, _), report) in user_reports.iter().zip(&fetched).skip(1) {
        write_report(&staged, &format!("vendor-{slug}-user.csv"), report)?;
        vendor_reports.push(report.clone());
    }
    let mut vendor_invoice = ExpectedInvoice::new(&rates).build(&vendor_reports)?;
    // One arithmetic slip planted on the vendor invoice: a cent too much on its first line.
    if let Some(first) = vendor_invoice.lines.first_mut() {
        first.extended = first.extended.checked_add(Money::parse("0.01", rates.currency())?)?;
    }
    staged.write("vendor-invoice.csv", |w| Ok(vendor_invoice.write_csv(w)?))?;
    let result = Reconciler::new(&rates)
        .threads(crate::progress::threads())
        .invoice(&vendor_invoice)
        .run(&all_user, &vendor_reports)?;
    staged.write("findings.csv", |w| Ok(result.write_csv(w)?))?;
    writeln!(
        out,
        "\n  {}",
        result.summary()?.to_string().trim_end().replace('\n', "\n  ")
    )?;

    let found_usage: BTreeSet<(FindingClass, &str, &str, &str)> = result
        .findings
        .iter()
        .filter(|f| {
            !matches!(
                f.class,
                FindingClass::InvoiceArithmetic | FindingClass::InvoiceQuantityMismatch
            )
        })
        .map(|f| {
            (
                f.class,
                f.customer_org_id.as_str(),
                f.subscriber_id.as_str(),
                f.sku.as_str(),
            )
        })
        .collect();
    let planted_set: BTreeSet<(FindingClass, &str, &str, &str)> = planted
        .iter()
        .map(|p| {
            (
                p.class,
                p.customer_org_id.as_str(),
                p.subscriber_id.as_str(),
                p.sku.as_str(),
            )
        })
        .collect();
    let arithmetic = result.of_class(FindingClass::InvoiceArithmetic).count();
    let invoice_quantity = result.of_class(FindingClass::InvoiceQuantityMismatch).count();
    let exact = found_usage == planted_set && arithmetic == 1 && invoice_quantity == 0;
    let verdict = if exact {
        format!(
            "all {} planted usage discrepancies found, and the planted invoice slip; nothing else",
            planted.len()
        )
    } else {
        format!(
            "MISMATCH: planted {} usage discrepancies and one invoice slip, found {} usage, {arithmetic} arithmetic \
             and {invoice_quantity} invoice quantity findings",
            planted.len(),
            found_usage.len()
        )
    };
    writeln!(out, "  check: {verdict}")?;

    let left_out = config.packages_left_out();
    if !left_out.is_empty() {
        writeln!(
            out,
            "\n  note: {} not generated: the Webex documents give no SKU for them; to include them, \
             set each one's SKU under [catalog.<package>] in an organisation file and run \
             `wbill gen --catalog FILE`",
            left_out.join(", ")
        )?;
    }
    staged.commit()?;
    writeln!(
        out,
        "\n  {written} usage reports, {invoice_files} invoices, the vendor copies and findings written to {}/ in {:.2} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    )?;
    if !exact {
        bail!("the reconciliation did not find exactly the planted discrepancies");
    }
    Ok(())
}
