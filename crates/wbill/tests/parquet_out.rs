//! `wbill usage --format parquet`: a Parquet file (the library's tests read it back column by
//! column), to a file or to standard output, the same bytes either way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
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
