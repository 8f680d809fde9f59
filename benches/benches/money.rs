//! Criterion benchmarks of the money side: customer invoices with margins, the expected vendor
//! invoice, and a full reconciliation against a vendor copy with planted discrepancies.
//!
//! Input: the generated month of `engine.rs` (100,000 subscribers, 5,000 customers, 5
//! sub-partners), USER report of the whole subscription. Run with
//! `cargo bench -p wholesale-billing-benches --bench money`.
#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wholesale_billing::synthetic::{GeneratorConfig, generate, plant_discrepancies};
use wholesale_billing::{
    AssignmentLedger, Billing, ExpectedInvoice, LoadMode, Period, PriceBook, Reconciler, ReportLevel, ReportOptions,
    Scope, WholesaleRateCard,
};

const RATES: &str = include_str!("../../crates/wbill/demo/rates.toml");
const PRICES: &str = include_str!("../../crates/wbill/demo/prices.toml");

fn money(c: &mut Criterion) {
    let month = Period::month(2024, 5).expect("a valid month");
    let config = GeneratorConfig {
        seed: 42,
        customers: 5_000,
        subscribers: 100_000,
        sub_partners: 5,
        month,
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    let mut csv = Vec::new();
    let generated = generate(&config, &mut csv, &mut |_| {}).expect("generation succeeds");
    let org = generated.organisation;
    let (ledger, _) = AssignmentLedger::from_csv(&csv[..], org.clone(), LoadMode::Strict).expect("loads");
    let user = ledger
        .usage_report(month, &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription))
        .expect("report");
    let rates = WholesaleRateCard::from_toml_str(RATES).expect("rates");
    let mut prices = PRICES.to_owned();
    for sp in &org.sub_partners {
        let _ = writeln!(prices, "[sub_partners.\"{}\"]", sp.org_id);
        for r in rates.rates() {
            let _ = writeln!(prices, "skus.\"{}\" = {{ price = \"{}\" }}", r.sku, r.rate);
        }
    }
    let book = PriceBook::from_toml_str(&prices).expect("price book");
    let (vendor, _) = plant_discrepancies(&user, 7, 100).expect("planting");
    let invoice = ExpectedInvoice::new(&rates).build([&vendor]).expect("invoice");

    let mut group = c.benchmark_group("money_100k_subscribers");
    group.sample_size(10);
    group.throughput(Throughput::Elements(user.len() as u64));
    group.bench_function("bill_month_with_margins", |b| {
        let billing = Billing::new(&org, &book).wholesale(&rates);
        b.iter(|| billing.run(black_box(&user)))
    });
    group.bench_function("expected_vendor_invoice", |b| {
        let expected = ExpectedInvoice::new(&rates);
        b.iter(|| expected.build([black_box(&user)]))
    });
    group.bench_function("reconcile_with_invoice", |b| {
        let reconciler = Reconciler::new(&rates).invoice(&invoice);
        b.iter(|| reconciler.run(black_box(&user), [&vendor]))
    });
    group.finish();
}

criterion_group!(benches, money);
criterion_main!(benches);
