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

/// A file format a test writes batches in.
#[derive(Clone, Copy)]
enum Written {
    Parquet,
    IpcFile,
    IpcStream,
}

/// Writes `batches` (of one schema) to `path` as `format`.
fn write_as(format: Written, path: &std::path::Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap();
    let schema = batches[0].schema();
    match format {
        Written::Parquet => {
            let mut writer = parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap();
            batches.iter().for_each(|b| writer.write(b).unwrap());
            writer.close().unwrap();
        }
        Written::IpcFile => {
            let mut writer = arrow_ipc::writer::FileWriter::try_new(file, &schema).unwrap();
            batches.iter().for_each(|b| writer.write(b).unwrap());
            writer.finish().unwrap();
        }
        Written::IpcStream => {
            let mut writer = arrow_ipc::writer::StreamWriter::try_new(file, &schema).unwrap();
            batches.iter().for_each(|b| writer.write(b).unwrap());
            writer.finish().unwrap();
        }
    }
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
    write_as(Written::Parquet, &d.join("events.parquet"), &batches);
    write_as(Written::IpcFile, &d.join("events.arrow"), &batches);

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

/// Every cell of a Parquet table read back equals the same cell of its CSV: text (an empty field
/// a null), whole numbers, exact decimals (equal values), UTC timestamps (the CSV's instant).
fn assert_parquet_equals_csv(parquet: &[u8], csv_text: &[u8]) {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Decimal128Type, Int64Type, TimestampNanosecondType};
    use arrow_array::{Array, RecordBatch};
    use rust_decimal::Decimal;
    use std::str::FromStr;

    let mut file = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut file, parquet).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    let mut rows = csv::Reader::from_reader(csv_text);
    let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
    let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    assert!(!records.is_empty());
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), records.len());
    let mut at = 0;
    for batch in &batches {
        assert_eq!(
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect::<Vec<_>>(),
            header
        );
        for (c, column) in batch.columns().iter().enumerate() {
            for r in 0..batch.num_rows() {
                let want = &records[at + r][c];
                let name = &header[c];
                if column.is_null(r) {
                    assert_eq!(want, "", "{name} row {}", at + r);
                    continue;
                }
                match column.data_type() {
                    arrow_schema::DataType::Utf8 => assert_eq!(column.as_string::<i32>().value(r), want, "{name}"),
                    arrow_schema::DataType::Int64 => {
                        assert_eq!(column.as_primitive::<Int64Type>().value(r).to_string(), *want, "{name}")
                    }
                    arrow_schema::DataType::Decimal128(_, _) => {
                        let got = column.as_primitive::<Decimal128Type>().value_as_string(r);
                        assert_eq!(
                            Decimal::from_str(&got).unwrap(),
                            Decimal::from_str(want).unwrap(),
                            "{name}"
                        );
                    }
                    arrow_schema::DataType::Timestamp(_, Some(zone)) => {
                        assert_eq!(zone.as_ref(), "UTC");
                        let got = column.as_primitive::<TimestampNanosecondType>().value(r);
                        assert_eq!(
                            got,
                            wholesale_billing::CallTime::parse(want).unwrap().as_nanos(),
                            "{name}"
                        );
                    }
                    other => panic!("{name}: unexpected type {other}"),
                }
            }
        }
        at += batch.num_rows();
    }
}

#[test]
fn cdr_rate_writes_rated_records_and_summary_as_parquet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::calls_month(d);
    let m = d.join("m");
    let rate = |extra: &[&str]| {
        let run = common::rate_calls_month(d, &["cdrs.csv"], extra);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    };
    rate(&["--out", "rated.csv", "--summary", "summary.csv"]);
    rate(&[
        "--out",
        "rated.parquet",
        "--rated-format",
        "parquet",
        "--summary",
        "summary.parquet",
        "--format",
        "parquet",
    ]);
    let rated = std::fs::read(m.join("rated.parquet")).unwrap();
    assert!(rated.starts_with(b"PAR1"));
    assert_parquet_equals_csv(&rated, &std::fs::read(m.join("rated.csv")).unwrap());
    assert_parquet_equals_csv(
        &std::fs::read(m.join("summary.parquet")).unwrap(),
        &std::fs::read(m.join("summary.csv")).unwrap(),
    );
    // Nothing but the two outputs is left in the folder (the temporary files are gone).
    let mut names: Vec<String> = std::fs::read_dir(&m)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("rated") || n.contains("summary") || n.starts_with('.'))
        .collect();
    names.sort();
    assert_eq!(names, ["rated.csv", "rated.parquet", "summary.csv", "summary.parquet"]);
}

#[test]
fn reconcile_writes_findings_as_parquet() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let out = wbill(
        &[
            "gen",
            "--seed",
            "8",
            "--customers",
            "15",
            "--subscribers",
            "300",
            "--month",
            "2024-05",
        ],
        d,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    usage_of_may(d, "user", "vendor.csv", &[]);
    let vendor = std::fs::read_to_string(d.join("vendor.csv")).unwrap();
    // The vendor's copy loses every seventh row.
    let kept: Vec<&str> = vendor
        .lines()
        .enumerate()
        .filter(|(i, _)| i % 7 != 3)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(d.join("vendor.csv"), kept.join("\n") + "\n").unwrap();
    let rates = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/rates.toml");
    let reconcile = |format: &str, out: &str| {
        let run = wbill(
            &[
                "reconcile",
                "--events",
                "events.csv",
                "--org",
                "org.toml",
                "--vendor-report",
                "vendor.csv",
                "--rates",
                rates,
                "--from",
                "2024-05-01",
                "--to",
                "2024-05-31",
                "--format",
                format,
                "--out",
                out,
            ],
            d,
        );
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    };
    reconcile("csv", "findings.csv");
    reconcile("parquet", "findings.parquet");
    let csv_text = std::fs::read(d.join("findings.csv")).unwrap();
    assert!(csv_text.iter().filter(|&&b| b == b'\n').count() > 10);
    assert_parquet_equals_csv(&std::fs::read(d.join("findings.parquet")).unwrap(), &csv_text);
}

#[test]
fn cdr_rate_reads_parquet_and_arrow_ipc_call_records_as_their_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::calls_month(d);
    let m = d.join("m");
    let batches = text_batches(&std::fs::read(m.join("cdrs.csv")).unwrap());
    write_as(Written::Parquet, &m.join("cdrs.parquet"), &batches);
    write_as(Written::IpcStream, &m.join("cdrs.arrows"), &batches);
    let rate = |cdrs: &str| {
        let run = common::rate_calls_month(d, &[cdrs], &["--out", "-"]);
        assert!(run.status.success(), "{cdrs}: {}", String::from_utf8_lossy(&run.stderr));
        run.stdout
    };
    let from_csv = rate("cdrs.csv");
    assert!(from_csv.len() > 10_000);
    assert_eq!(rate("cdrs.parquet"), from_csv, "parquet");
    assert_eq!(rate("cdrs.arrows"), from_csv, "arrow ipc stream");
}

#[test]
fn a_bad_call_record_in_parquet_is_located_by_row_group_and_row() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    common::calls_month(d);
    let m = d.join("m");
    let text = std::fs::read_to_string(m.join("cdrs.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let duration = lines[0].split(',').position(|c| c == "Duration").unwrap();
    // Row 1,500 of the table (line 1,501 of the CSV): a negative duration.
    let mut cells: Vec<String> = lines[1500].split(',').map(str::to_owned).collect();
    assert!(!lines[1500].contains('"'), "a plain row: {}", lines[1500]);
    cells[duration] = "-5".into();
    lines[1500] = cells.join(",");
    let batches = text_batches((lines.join("\n") + "\n").as_bytes());
    let file = std::fs::File::create(m.join("bad.parquet")).unwrap();
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), Some(properties)).unwrap();
    batches.iter().for_each(|b| writer.write(b).unwrap());
    writer.close().unwrap();
    let run = common::rate_calls_month(d, &["bad.parquet"], &["--out", "rated.csv"]);
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    let want = format!(
        "bad.parquet: row group 2, row 500, column {} (Duration): error: invalid duration",
        duration + 1
    );
    assert!(stderr.contains(&want), "{stderr}");
}
