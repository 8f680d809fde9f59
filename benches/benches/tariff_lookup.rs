//! Criterion benchmarks of tariffs: longest-prefix lookups in a 100,000-prefix table (the
//! engine's target is 20 million records per second per core, so one lookup must cost well
//! under 50 ns), and loading that table (CSV read, checked and compiled).
//!
//! The table: 100,000 distinct prefixes of 5 to 10 digits under 200 country codes, 10,000
//! destinations; the numbers looked up: 12-digit numbers under prefixes of the table (9 in
//! 10) or under no prefix. Run with `cargo bench -p wholesale-billing-benches --bench tariff_lookup`.
#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wholesale_billing::TariffDocument;
use wholesale_billing_benches::{Rng, prefix_table};

const PREFIXES: usize = 100_000;
const NUMBERS: usize = 1 << 20;

fn tariff_lookup(c: &mut Criterion) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (csv, prefixes) = prefix_table(&mut rng, PREFIXES);
    let load = || {
        TariffDocument::from_toml_str("currency = \"USD\"\nprefix_table = \"big.csv\"\n")
            .and_then(|d| d.with_prefix_table(csv.as_bytes()))
            .and_then(|d| d.compile())
            .expect("the table compiles")
    };
    let tariff = load();
    eprintln!(
        "tariff_lookup: {} prefixes, {} destinations, {} trie nodes, {} bytes",
        tariff.prefix_count(),
        tariff.destinations().len(),
        tariff.prefix_table_nodes(),
        tariff.prefix_table_bytes()
    );
    // The numbers, one flat buffer of 12 digits each.
    let mut numbers = Vec::with_capacity(NUMBERS * 12);
    for _ in 0..NUMBERS {
        let start = numbers.len();
        if rng.below(10) < 9 {
            numbers.extend_from_slice(prefixes[rng.below(PREFIXES as u64) as usize].as_bytes());
        } else {
            numbers.extend_from_slice(b"99");
        }
        while numbers.len() < start + 12 {
            numbers.push(b'0' + rng.below(10) as u8);
        }
    }
    let mut group = c.benchmark_group("tariff_100k_prefixes");
    group.throughput(Throughput::Elements(NUMBERS as u64));
    group.bench_function("lookup", |b| {
        b.iter(|| {
            let mut found = 0usize;
            for number in numbers.chunks_exact(12) {
                if let Some((id, len)) = tariff.lookup(black_box(number)) {
                    found += id.index() + len;
                }
            }
            black_box(found)
        });
    });
    group.throughput(Throughput::Elements(PREFIXES as u64));
    group.sample_size(10);
    group.bench_function("load_csv_and_compile", |b| b.iter(|| black_box(load())));
    group.finish();
}

criterion_group!(benches, tariff_lookup);
criterion_main!(benches);
