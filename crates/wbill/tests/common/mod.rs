//! What the end-to-end tests of `wbill` share: running the binary, and the small generated month
//! of calls the minutes tests rate.
#![allow(dead_code, clippy::expect_used)] // each test binary uses its own part

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `wbill` binary under test with `args` in `dir`.
pub fn wbill(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("wbill runs")
}

/// Runs `wbill usage` over the May 2024 month of `events.csv` and `org.toml` in `dir` (a `wbill
/// gen --month 2024-05` there), the whole subscription at `level`, into `out`, with `extra`
/// options; it must succeed. Returns its standard output.
pub fn usage_of_may(dir: &Path, level: &str, out: &str, extra: &[&str]) -> Vec<u8> {
    let mut args = vec![
        "usage",
        "--events",
        "events.csv",
        "--org",
        "org.toml",
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-31",
        "--level",
        level,
        "--all",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    let run = wbill(&args, dir);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    run.stdout
}

/// A small month with calls in `dir/m` (`wbill gen --seed 5`, 12 customers, 150 subscribers, 20
/// calls each, a 300-prefix tariff): events.csv, org.toml, cdrs.csv, the price and cost tariffs.
pub fn calls_month(dir: &Path) {
    let args = [
        "gen",
        "--seed",
        "5",
        "--customers",
        "12",
        "--subscribers",
        "150",
        "--month",
        "2024-05",
        "--cdrs",
        "--calls-per-subscriber",
        "20",
        "--prefixes",
        "300",
        "--out-dir",
        "m",
    ];
    let out = wbill(&args, dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Runs `wbill cdr rate` on the month of [`calls_month`] in `dir/m` (the price tariff, the events
/// and organisation of May 2024) with the call records `cdrs` and `extra` options.
pub fn rate_calls_month(dir: &Path, cdrs: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["cdr", "rate", "--cdrs"];
    args.extend_from_slice(cdrs);
    args.extend_from_slice(&[
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
    ]);
    args.extend_from_slice(extra);
    wbill(&args, &dir.join("m"))
}
