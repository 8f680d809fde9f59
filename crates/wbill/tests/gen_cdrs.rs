//! End-to-end tests of `wbill gen --cdrs`: the call month and tariffs beside the events, the
//! events unchanged, determinism, both formats, and the options that need `--cdrs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wbill;

use std::path::Path;
use std::process::Output;

fn gen_into(dir: &Path, out: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "gen",
        "--seed",
        "5",
        "--customers",
        "12",
        "--subscribers",
        "150",
        "--month",
        "2024-05",
        "--out-dir",
        out,
    ];
    args.extend_from_slice(extra);
    let output = wbill(&args, dir);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output
}

fn read(dir: &Path, file: &str) -> Vec<u8> {
    std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn cdrs_come_beside_unchanged_events_and_are_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    gen_into(d, "plain", &[]);
    let with = gen_into(d, "a", &["--cdrs", "--calls-per-subscriber", "30", "--prefixes", "400"]);
    gen_into(d, "b", &["--cdrs", "--calls-per-subscriber", "30", "--prefixes", "400"]);
    // The events and organisation are the same bytes with or without --cdrs.
    for file in ["events.csv", "org.toml"] {
        assert_eq!(
            read(d, &format!("plain/{file}")),
            read(d, &format!("a/{file}")),
            "{file}"
        );
    }
    let mut plain: Vec<_> = std::fs::read_dir(d.join("plain"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    plain.sort();
    assert_eq!(plain, ["events.csv", "org.toml"]);
    for file in [
        "cdrs.csv",
        "tariff.toml",
        "prefixes.csv",
        "cost-tariff.toml",
        "cost-prefixes.csv",
    ] {
        assert_eq!(read(d, &format!("a/{file}")), read(d, &format!("b/{file}")), "{file}");
    }
    let stderr = String::from_utf8(with.stderr).unwrap();
    assert!(stderr.contains(" call records ("), "{stderr}");
    assert!(stderr.contains("tariffs with 400 prefixes"), "{stderr}");

    let cdrs = String::from_utf8(read(d, "a/cdrs.csv")).unwrap();
    let mut lines = cdrs.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("Answer indicator,Answer time,Answered,Authorization code,Call ID,"));
    assert_eq!(header.split(',').count(), 85);
    let records = lines.count();
    assert!(records > 3_000, "{records}");

    let tariff: toml::Value = toml::from_str(&String::from_utf8(read(d, "a/tariff.toml")).unwrap()).unwrap();
    assert_eq!(tariff["prefix_table"].as_str(), Some("prefixes.csv"));
    let cost: toml::Value = toml::from_str(&String::from_utf8(read(d, "a/cost-tariff.toml")).unwrap()).unwrap();
    assert_eq!(cost["prefix_table"].as_str(), Some("cost-prefixes.csv"));
    for table in ["a/prefixes.csv", "a/cost-prefixes.csv"] {
        assert_eq!(
            String::from_utf8(read(d, table)).unwrap().lines().count(),
            401,
            "{table}"
        );
    }
    // No temporary file is left behind.
    assert!(
        std::fs::read_dir(d.join("a"))
            .unwrap()
            .all(|e| !e.unwrap().file_name().to_string_lossy().starts_with('.'))
    );

    // The feed's JSON carries the same records.
    gen_into(
        d,
        "json",
        &["--cdrs", "--calls-per-subscriber", "30", "--cdr-format", "json"],
    );
    assert!(!d.join("json/cdrs.csv").exists());
    let json: serde_json::Value = serde_json::from_slice(&read(d, "json/cdrs.json")).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), records);
}

#[test]
fn the_call_options_need_cdrs() {
    let tmp = tempfile::tempdir().unwrap();
    for option in [
        &["--calls-per-subscriber", "5"][..],
        &["--prefixes", "500"],
        &["--cdr-format", "json"],
        &["--unknown-customer-cdrs"],
        &["--no-destination-cdrs"],
    ] {
        let mut args = vec!["gen", "--month", "2024-05", "--out-dir", "x"];
        args.extend_from_slice(option);
        let out = wbill(&args, tmp.path());
        assert_eq!(out.status.code(), Some(2), "{option:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--cdrs"), "{option:?}");
    }
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn planned_faults_are_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let out = gen_into(
        tmp.path(),
        "f",
        &[
            "--cdrs",
            "--calls-per-subscriber",
            "60",
            "--unknown-customer-cdrs",
            "--no-destination-cdrs",
        ],
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains(" of no customer, "), "{stderr}");
    assert!(stderr.contains(" to no destination)"), "{stderr}");
}
