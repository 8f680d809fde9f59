//! `wbill cdr rate --threads N`: the same rated records, summary and report on one thread as on
//! two and on seven, and 0 refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wbill;

#[test]
fn one_thread_and_two_write_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let generate = [
        "gen",
        "--seed",
        "7",
        "--customers",
        "20",
        "--subscribers",
        "400",
        "--month",
        "2024-05",
        "--cdrs",
        "--calls-per-subscriber",
        "30",
        "--prefixes",
        "500",
        "--out-dir",
        ".",
    ];
    let out = wbill(&generate, d);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rate = |threads: &str| {
        let rated = format!("rated-{threads}.csv");
        let summary = format!("summary-{threads}.csv");
        let args = [
            "cdr",
            "rate",
            "--cdrs",
            "cdrs.csv",
            "--tariff",
            "tariff.toml",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
            "--threads",
            threads,
            "--out",
            &rated,
            "--summary",
            &summary,
        ];
        let out = wbill(&args, d);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // The report ends with the time taken: all but that must match.
        let report = stderr
            .rsplit_once(" in ")
            .map_or(stderr.clone(), |(report, _)| report.to_owned());
        (
            std::fs::read(d.join(rated)).unwrap(),
            std::fs::read(d.join(summary)).unwrap(),
            report,
        )
    };
    let one = rate("1");
    let two = rate("2");
    let seven = rate("7");
    assert!(one.0.len() > 100_000, "{} bytes of rated records", one.0.len());
    assert!(one.2.contains("duplicates skipped"), "{}", one.2);
    assert_eq!(one, two);
    assert_eq!(one, seven);
    let out = wbill(
        &[
            "cdr",
            "rate",
            "--cdrs",
            "cdrs.csv",
            "--tariff",
            "tariff.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
            "--threads",
            "0",
            "--out",
            "r.csv",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}
