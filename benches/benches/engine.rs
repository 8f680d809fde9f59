//! Criterion benchmarks of the engine: loading an events CSV into a ledger, computing the USER,
//! CUSTOMER and PARTNER reports of the whole subscription, and writing the USER report CSV.
//!
//! Input: a generated month (`wholesale_billing::synthetic`) of 100,000 subscribers, 5,000
//! customers and 5 sub-partners, held in memory. Run with `cargo bench -p wholesale-billing-benches`.

#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wholesale_billing::synthetic::{GeneratorConfig, generate};
use wholesale_billing::{AssignmentLedger, HourPolicy, LoadMode, Period, ReportLevel, ReportOptions, Scope};

const SUBSCRIBERS: u64 = 100_000;

fn month() -> Period {
    Period::month(2024, 5).expect("a valid month")
}

fn dataset() -> (Vec<u8>, wholesale_billing::Organisation) {
    let config = GeneratorConfig {
        seed: 42,
        customers: 5_000,
        subscribers: SUBSCRIBERS,
        sub_partners: 5,
        month: month(),
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    let mut csv = Vec::new();
    let generated = generate(&config, &mut csv, &mut |_| {}).expect("generation succeeds");
    (csv, generated.organisation)
}

fn engine(c: &mut Criterion) {
    let (csv, org) = dataset();
    let mut group = c.benchmark_group("engine_100k_subscribers");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(csv.len() as u64));
    group.bench_function("load_events_csv", |b| {
        b.iter(|| AssignmentLedger::from_csv(black_box(&csv[..]), org.clone(), LoadMode::Strict).expect("loads"))
    });
    let (ledger, _) = AssignmentLedger::from_csv(&csv[..], org, LoadMode::Strict).expect("loads");
    group.throughput(Throughput::Elements(ledger.row_key_count() as u64));
    for level in ReportLevel::ALL {
        for policy in [HourPolicy::Started, HourPolicy::Exact] {
            let options = ReportOptions::new(level).scope(Scope::Subscription).hour_policy(policy);
            group.bench_function(format!("report_{level}_{policy}"), |b| {
                b.iter(|| ledger.usage_report(month(), black_box(&options)).expect("report"))
            });
        }
    }
    let user = ledger
        .usage_report(
            month(),
            &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription),
        )
        .expect("report");
    group.throughput(Throughput::Elements(user.len() as u64));
    group.bench_function("write_user_csv", |b| {
        b.iter(|| user.write_csv(std::io::sink()).expect("writes"))
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
