//! `wbill demo`: the main job on an embedded default month, with a short human summary.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use wholesale_billing::synthetic::GeneratorConfig;
use wholesale_billing::{LoadMode, Period, Quantity, ReportLevel, ReportOptions, Scope};

use crate::gen_cmd::generate_into;
use crate::progress::thousands;
use crate::usage::{load_ledger, write_report};

/// Arguments of `wbill demo` (all optional: the defaults are the embedded sample).
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the sample data and reports.
    #[arg(long, value_name = "DIR", default_value = "wbill-demo")]
    pub out_dir: PathBuf,
    /// Seed of the sample month.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Number of subscribers of the sample month.
    #[arg(long, default_value_t = 2_000)]
    pub subscribers: u64,
}

/// Runs `wbill demo`.
pub fn run(args: &DemoArgs) -> Result<()> {
    let started = Instant::now();
    let month = Period::month(2024, 5)?;
    let config = GeneratorConfig {
        seed: args.seed,
        customers: (args.subscribers / 10).max(1) as u32,
        subscribers: args.subscribers,
        sub_partners: 2,
        month,
    };
    config.validate()?;
    let generated = generate_into(&config, &args.out_dir)?;
    let org = generated.month.organisation.clone();
    let (ledger, diagnostics) = load_ledger(&generated.events, org.clone(), LoadMode::Strict, None)?;

    println!("wbill demo: a generated partner month, {month}, hour policy `started`");
    println!(
        "  data: {} ({} events), {}",
        generated.events.display(),
        thousands(diagnostics.rows_read),
        generated.org.display()
    );
    println!(
        "  partner {} ({}), subscription {}; {} customers, {} subscribers",
        org.partner.name,
        org.partner.org_id,
        org.partner.subscription_id,
        thousands(ledger.customer_count() as u64),
        thousands(ledger.subscriber_count() as u64)
    );

    let mut scopes = vec![("partner".to_owned(), org.partner.name.clone(), Scope::Partner)];
    for (i, sp) in org.sub_partners.iter().enumerate() {
        scopes.push((
            format!("sub-partner-{}", i + 1),
            sp.name.clone(),
            Scope::SubPartner(sp.org_id.clone()),
        ));
    }
    let mut totals: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut written = 0;
    for (slug, name, scope) in &scopes {
        let user = ledger.usage_report(month, &ReportOptions::new(ReportLevel::User).scope(scope.clone()))?;
        let customers = user.aggregate(ReportLevel::Customer)?;
        let partner = customers.aggregate(ReportLevel::Partner)?;
        for (level, report) in [("user", &user), ("customer", &customers), ("partner", &partner)] {
            write_report(report, Some(&args.out_dir.join(format!("{slug}-{level}.csv"))))?;
            written += 1;
        }
        let subscribers: std::collections::HashSet<&str> = user.rows().map(|r| r.subscriber_id).collect();
        let billing_start = match scope {
            Scope::SubPartner(id) => org
                .sub_partner(id)?
                .billing_start
                .map(|t| format!(", billing starts {t}"))
                .unwrap_or_default(),
            _ => String::new(),
        };
        println!(
            "\n  {name} [{slug}]{billing_start}: {} subscribers billed, {} user-days",
            thousands(subscribers.len() as u64),
            user.total_quantity()
        );
        for (sku, quantity) in partner.quantity_by_sku() {
            println!("    {sku:<28} {quantity:>14} user-days");
            *totals.entry(sku.to_owned()).or_default() += quantity;
        }
    }
    println!("\n  whole subscription, user-days per SKU:");
    for (sku, quantity) in &totals {
        println!("    {sku:<28} {quantity:>14}");
    }
    let placeholders: Vec<&str> = org
        .catalog
        .entries()
        .iter()
        .filter(|e| e.placeholder && totals.contains_key(&e.sku))
        .map(|e| e.package.as_str())
        .collect();
    if !placeholders.is_empty() {
        println!(
            "\n  note: the Webex documents give no SKU for {}; the default catalog bills them under \
             PLACEHOLDER-… SKUs until set under [catalog.<package>] in the organisation file",
            placeholders.join(", ")
        );
    }
    println!(
        "\n  {written} reports written to {}/ in {:.2} s",
        args.out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
