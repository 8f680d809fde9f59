//! Criterion benchmark of the call record readers: 1,000,000 CSV rows of 20 columns (the 11
//! fields of SPEC §7.1 and 9 others, UUID report ids), generated in the bench, read with and
//! without duplicate handling; and the same records as the feed's JSON.
//!
//! Run with `cargo bench -p wholesale-billing-benches --bench cdr_read`.
#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wholesale_billing::{CdrFormat, CdrReadOptions, CdrReader};

const ROWS: u64 = 1_000_000;
const JSON_ROWS: u64 = 100_000;

const CALL_TYPES: [&str; 5] = [
    "SIP_NATIONAL",
    "SIP_MOBILE",
    "SIP_INTERNATIONAL",
    "SIP_INBOUND",
    "SIP_ENTERPRISE",
];

/// A deterministic pseudo-random sequence (SplitMix64).
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn uuid(a: u64, b: u64) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// One call's values, in the order of the CSV header.
fn row(i: u64) -> [String; 20] {
    let r = mix(i);
    let day = 1 + r % 31;
    let secs = (r >> 8) % 86_400;
    [
        uuid(mix(r), mix(r ^ 1)),
        format!(
            "2024-05-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            r % 1000
        ),
        ((r >> 20) % 3_600).to_string(),
        if r.is_multiple_of(4) {
            "TERMINATING"
        } else {
            "ORIGINATING"
        }
        .to_owned(),
        CALL_TYPES[(r >> 30) as usize % CALL_TYPES.len()].to_owned(),
        if r.is_multiple_of(7) { "false" } else { "true" }.to_owned(),
        format!("+44 20 {:04} {:04}", (r >> 12) % 10_000, (r >> 24) % 10_000),
        format!("+44 161 {:03} {:04}", (r >> 36) % 1_000, (r >> 40) % 10_000),
        uuid(r % 5_000, 1),
        uuid(r % 100_000, 2),
        ["0", "60", "-300", "330"][(r >> 50) as usize % 4].to_owned(),
        format!(
            "2024-05-{day:02}T{:02}:{:02}:{:02}.500Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ),
        "Leeds".to_owned(),
        "WXC_DEVICE".to_owned(),
        "8865-3PCC".to_owned(),
        "User".to_owned(),
        "Local".to_owned(),
        uuid(mix(r ^ 2), 3),
        "12".to_owned(),
        "SIP".to_owned(),
    ]
}

const HEADER: [&str; 20] = [
    "Report ID",
    "Start time",
    "Duration",
    "Direction",
    "Call type",
    "Answered",
    "Called number",
    "Calling number",
    "Org UUID",
    "User UUID",
    "Site timezone",
    "Answer time",
    "Location",
    "Client type",
    "Model",
    "User type",
    "Releasing party",
    "Correlation ID",
    "Ring duration",
    "Sub client type",
];

fn csv(rows: u64) -> Vec<u8> {
    let mut out = String::with_capacity(rows as usize * 400);
    out.push_str(&HEADER.join(","));
    out.push('\n');
    for i in 0..rows {
        out.push_str(&row(i).join(","));
        out.push('\n');
    }
    out.into_bytes()
}

fn json(rows: u64) -> Vec<u8> {
    let mut out = String::from("{\"items\": [\n");
    for i in 0..rows {
        if i > 0 {
            out.push_str(",\n");
        }
        out.push('{');
        for (k, (name, value)) in HEADER.iter().zip(row(i)).enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if *name == "Duration" || *name == "Site timezone" {
                write!(out, "\"{name}\": {value}").expect("write to a string");
            } else {
                write!(out, "\"{name}\": \"{value}\"").expect("write to a string");
            }
        }
        out.push('}');
    }
    out.push_str("\n]}\n");
    out.into_bytes()
}

fn read(input: &[u8], format: CdrFormat, options: CdrReadOptions) -> u64 {
    let mut reader = CdrReader::new(options);
    let mut seconds = 0u64;
    reader
        .read(input, Some(format), |r| {
            seconds += u64::from(r.duration());
            Ok(())
        })
        .expect("reads");
    let diagnostics = reader.finish().expect("no bad record");
    assert_eq!(diagnostics.records_read, diagnostics.records_accepted);
    seconds
}

fn cdr_read(c: &mut Criterion) {
    let csv = csv(ROWS);
    let json = json(JSON_ROWS);
    let mut group = c.benchmark_group("cdr_read");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS));
    let no_dedup = CdrReadOptions {
        deduplicate: false,
        ..CdrReadOptions::default()
    };
    group.bench_function("csv_1m_rows_20_columns", |b| {
        b.iter(|| black_box(read(&csv, CdrFormat::Csv, no_dedup)));
    });
    group.bench_function("csv_1m_rows_20_columns_dedup", |b| {
        b.iter(|| black_box(read(&csv, CdrFormat::Csv, CdrReadOptions::default())));
    });
    group.throughput(Throughput::Elements(JSON_ROWS));
    group.bench_function("json_100k_items_20_keys", |b| {
        b.iter(|| black_box(read(&json, CdrFormat::Json, no_dedup)));
    });
    group.finish();

    // The memory of duplicate handling at this size, printed once.
    let mut reader = CdrReader::new(CdrReadOptions::default());
    reader.read(&csv[..], Some(CdrFormat::Csv), |_| Ok(())).expect("reads");
    if let Some(dedup) = reader.deduplicator() {
        println!(
            "deduplicator: {} records, {} heap bytes, {:.1} bytes per record",
            dedup.len(),
            dedup.heap_bytes(),
            dedup.heap_bytes() as f64 / dedup.len() as f64
        );
    }
}

criterion_group!(benches, cdr_read);
criterion_main!(benches);
