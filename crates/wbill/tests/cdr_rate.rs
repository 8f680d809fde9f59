//! End-to-end tests of `wbill cdr rate` on a small generated month: the outputs and their headers,
//! the summary against the rated records, strict and lenient reads, duplicates across files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wbill;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use wholesale_billing::Decimal;

/// A small month of calls in `dir`: events.csv, org.toml, cdrs.csv, tariff.toml, prefixes.csv.
fn month(dir: &Path) {
    common::calls_month(dir);
}

/// Runs `wbill cdr rate` on the month with `cdrs` and `extra` options.
fn rate(dir: &Path, cdrs: &[&str], extra: &[&str]) -> Output {
    common::rate_calls_month(dir, cdrs, extra)
}

fn read(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join("m").join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn records(text: &str) -> Vec<BTreeMap<String, String>> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn rates_a_month_with_a_summary_that_adds_up() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    month(d);
    let out = rate(d, &["cdrs.csv"], &["--out", "rated.csv", "--summary", "summary.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("duplicates skipped"), "{stderr}");
    assert!(stderr.contains(" charged "), "{stderr}");

    let rated = read(d, "rated.csv");
    assert_eq!(
        rated.lines().next().unwrap(),
        "REPORT_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,PARTNER_ORG_ID,USER_UUID,START_TIME,DURATION,STATUS,\
         RATED_NUMBER,PREFIX,DESTINATION,CLASS,BAND,BILLABLE_SECONDS,COVERED_SECONDS,CHARGE,CURRENCY"
    );
    let summary = read(d, "summary.csv");
    assert_eq!(
        summary.lines().next().unwrap(),
        "CUSTOMER_ORG_ID,DESTINATION,CALLS,BILLABLE_MINUTES,COVERED_MINUTES,AMOUNT,CURRENCY"
    );

    // Each summary AMOUNT is its customer's CHARGEs to that destination, summed then rounded
    // half-even to cents; the summary holds every charged (customer, destination) pair.
    let mut charges: BTreeMap<(String, String), (u64, Decimal)> = BTreeMap::new();
    for r in records(&rated) {
        if r["STATUS"] == "charged" {
            let e = charges
                .entry((r["CUSTOMER_ORG_ID"].clone(), r["DESTINATION"].clone()))
                .or_default();
            e.0 += 1;
            e.1 += r["CHARGE"].parse::<Decimal>().unwrap();
        }
    }
    let rows = records(&summary);
    assert!(rows.len() > 10, "{}", rows.len());
    assert_eq!(rows.len(), charges.len());
    let mut total = Decimal::ZERO;
    for row in &rows {
        let (calls, charge) = charges[&(row["CUSTOMER_ORG_ID"].clone(), row["DESTINATION"].clone())];
        let amount: Decimal = row["AMOUNT"].parse().unwrap();
        assert_eq!(row["CALLS"].parse::<u64>().unwrap(), calls);
        assert_eq!(
            amount,
            charge.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven),
            "{row:?}"
        );
        total += amount;
    }
    assert!(total > Decimal::ZERO);
    assert!(stderr.contains(&format!("total {total} USD")), "{stderr}");

    // The same records again in a second file change nothing: each is a skipped duplicate.
    std::fs::copy(d.join("m/cdrs.csv"), d.join("m/again.csv")).unwrap();
    let out = rate(
        d,
        &["cdrs.csv", "again.csv"],
        &["--out", "rated2.csv", "--summary", "summary2.csv"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(read(d, "rated2.csv"), rated);
    assert_eq!(read(d, "summary2.csv"), summary);

    // `-` is standard output for the rated records; the summary as JSON.
    let out = rate(
        d,
        &["cdrs.csv"],
        &["--out", "-", "--summary", "s.json", "--format", "json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), rated);
    let json: serde_json::Value = serde_json::from_str(&read(d, "s.json")).unwrap();
    assert!(json.to_string().contains(&rows[0]["CUSTOMER_ORG_ID"]), "{json}");
}

#[test]
fn strict_fails_at_a_bad_record_and_lenient_rates_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    month(d);
    // A bad duration on the record of line 5.
    let text = read(d, "cdrs.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let duration = headers.iter().position(|h| h == "Duration").unwrap();
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).unwrap();
    for (i, record) in reader.records().enumerate() {
        let mut record: Vec<String> = record.unwrap().iter().map(str::to_owned).collect();
        if i == 3 {
            record[duration] = "-5".to_owned();
        }
        writer.write_record(&record).unwrap();
    }
    std::fs::write(d.join("m/bad.csv"), writer.into_inner().unwrap()).unwrap();

    let out = rate(d, &["bad.csv"], &["--out", "rated.csv", "--summary", "summary.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("bad.csv: line 5, column {} (Duration)", duration + 1)),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing written (--lenient rates the rest)"),
        "{stderr}"
    );
    assert!(!d.join("m/rated.csv").exists());
    assert!(!d.join("m/summary.csv").exists());

    let out = rate(d, &["cdrs.csv"], &["--out", "good.csv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = rate(d, &["bad.csv"], &["--out", "rated.csv", "--lenient"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("1 rejected"), "{stderr}");
    assert_eq!(
        records(&read(d, "rated.csv")).len() + 1,
        records(&read(d, "good.csv")).len()
    );
}

#[test]
fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::create_dir(d.join("m")).unwrap();
    // A missing file is an error (1) naming it.
    let out = rate(d, &["x.csv"], &["--out", "r.csv"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot read tariff.toml"), "{stderr}");
    // --events without --org; two inputs on standard input.
    let out = wbill(
        &[
            "cdr",
            "rate",
            "--cdrs",
            "a.csv",
            "--tariff",
            "t.toml",
            "--events",
            "e.csv",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
            "--out",
            "r.csv",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let out = wbill(
        &[
            "cdr",
            "rate",
            "--cdrs",
            "-",
            "-",
            "--tariff",
            "t.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
            "--out",
            "r.csv",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
