//! `--threads N` on the commands other than `cdr rate` (which `cdr_rate_threads.rs` covers): the
//! same bytes on one thread as on two and on seven, and 0 refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::{usage_of_may, wbill};

#[test]
fn usage_writes_the_same_bytes_on_one_two_and_seven_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // 20,000 subscribers: more USER rows than one formatting chunk (16,384), in time order.
    let generate = [
        "gen",
        "--seed",
        "11",
        "--customers",
        "800",
        "--subscribers",
        "20000",
        "--month",
        "2024-05",
        "--out-dir",
        ".",
    ];
    let out = wbill(&generate, d);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let usage = |threads: &str, level: &str| {
        let name = format!("{level}-{threads}.csv");
        usage_of_may(d, level, &name, &["--threads", threads]);
        std::fs::read(d.join(&name)).unwrap()
    };
    for level in ["user", "customer"] {
        let one = usage("1", level);
        assert!(one.len() > 1000, "{level}: {} bytes", one.len());
        assert_eq!(usage("2", level), one, "{level}, 2 threads");
        assert_eq!(usage("7", level), one, "{level}, 7 threads");
    }
    let user = String::from_utf8(usage("1", "user")).unwrap();
    assert!(user.lines().count() > 16_384, "{} rows", user.lines().count());

    let refused = wbill(&["usage", "--threads", "0", "--events", "events.csv"], d);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--threads"));
}
