//! `wbill usage --format parquet`: a Parquet file (the library's tests read it back column by
//! column), to a file or to standard output, the same bytes either way; `wbill usage --events`
//! reads Parquet and Arrow IPC events as it reads their CSV.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use common::{usage_of_may, wbill};

#[test]
fn usage_writes_parquet_to_a_file_or_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = wbill(
        &[
            "gen",
            "--seed",
            "3",
            "--customers",
            "30",
            "--subscribers",
            "600",
            "--month",
            "2024-05",
        ],
        d,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let usage = |format: &str, out: &str| usage_of_may(d, "user", out, &["--format", format]);
    usage("parquet", "user.parquet");
    let file = std::fs::read(d.join("user.parquet")).unwrap();
    assert!(
        file.len() > 1000 && file.starts_with(b"PAR1") && file.ends_with(b"PAR1"),
        "{} bytes",
        file.len()
    );
    assert_eq!(usage("parquet", "-"), file);
    usage("csv", "user.csv");
    let csv = std::fs::read_to_string(d.join("user.csv")).unwrap();
    assert!(csv.starts_with("PARTNER_NAME,"), "{}", &csv[..40]);
    let refused = wbill(&["usage", "--format", "xlsx"], d);
    assert_eq!(refused.status.code(), Some(2));
}

/// The events CSV as record batches of text columns (an empty field a null), 500 rows each.
fn text_batches(csv_text: &[u8]) -> Vec<RecordBatch> {
    let mut reader = csv::Reader::from_reader(csv_text);
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    records
        .chunks(500)
        .map(|rows| {
            let columns = header.iter().enumerate().map(|(c, name)| {
                let cells = rows.iter().map(|r| r.get(c).filter(|v| !v.is_empty()));
                (name.clone(), Arc::new(cells.collect::<StringArray>()) as ArrayRef, true)
            });
            RecordBatch::try_from_iter_with_nullable(columns).unwrap()
        })
        .collect()
}

#[test]
fn usage_reads_parquet_and_arrow_ipc_events_as_their_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = wbill(
        &[
            "gen",
            "--seed",
            "4",
            "--customers",
            "20",
            "--subscribers",
            "700",
            "--month",
            "2024-05",
        ],
        d,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let batches = text_batches(&std::fs::read(d.join("events.csv")).unwrap());
    let schema = batches[0].schema();

    let parquet_file = std::fs::File::create(d.join("events.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(parquet_file, schema.clone(), None).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
    let ipc_file = std::fs::File::create(d.join("events.arrow")).unwrap();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(ipc_file, &schema).unwrap();
    for b in &batches {
        writer.write(b).unwrap();
    }
    writer.finish().unwrap();

    let usage = |events: &str| {
        let run = wbill(
            &[
                "usage",
                "--events",
                events,
                "--org",
                "org.toml",
                "--from",
                "2024-05-01",
                "--to",
                "2024-05-31",
                "--level",
                "user",
                "--all",
            ],
            d,
        );
        assert!(
            run.status.success(),
            "{events}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        run.stdout
    };
    let from_csv = usage("events.csv");
    assert!(from_csv.len() > 10_000, "{} bytes", from_csv.len());
    assert_eq!(usage("events.parquet"), from_csv, "parquet");
    assert_eq!(usage("events.arrow"), from_csv, "arrow ipc");

    // A Parquet file cut short fails, naming the file.
    let whole = std::fs::read(d.join("events.parquet")).unwrap();
    std::fs::write(d.join("cut.parquet"), &whole[..whole.len() - 100]).unwrap();
    let run = wbill(
        &[
            "usage",
            "--events",
            "cut.parquet",
            "--org",
            "org.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
        ],
        d,
    );
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("cut.parquet") && stderr.contains("parquet"), "{stderr}");
}
