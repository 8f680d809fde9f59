//! `wbill tariff show|convert` on the example tariff of `docs/minutes.md` (the fixture of the
//! core's tariff tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wbill;

use std::path::Path;

/// A directory with the example tariff (TOML and JSON) and its prefix table.
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wholesale-billing/tests/fixtures/tariff");
    for name in ["uk.toml", "uk.json", "uk-prefixes.csv"] {
        std::fs::copy(from.join(name), dir.path().join(name)).unwrap();
    }
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn show_lists_the_tariff() {
    let dir = fixture();
    let out = wbill(&["tariff", "show", "uk.toml"], dir.path());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    for needle in [
        "currency GBP, charges rounded to 4 decimals",
        "toll-free legs priced at: UK freephone",
        "weekend          sat,sun                         00:00    24:00",
        "evening 0.0200, weekend 0.0150",
        "allowance: 1000 minutes per user-month of webex_calling for national, mobile",
        "8 destinations, 12 prefixes (8 from the prefix table), 2 bands, 2 allowances",
    ] {
        assert!(shown.contains(needle), "{needle}\n{shown}");
    }
    // The JSON form shows the same.
    let json = wbill(&["tariff", "show", "uk.json"], dir.path());
    assert!(json.status.success(), "{}", text(&json.stderr));
    let shown_json = text(&json.stdout);
    // The JSON fixture writes some amounts with fewer digits ("0.03"): compare what does not depend on them.
    assert_eq!(shown.lines().last(), shown_json.lines().last());
}

#[test]
fn convert_writes_a_tariff_that_shows_the_same() {
    let dir = fixture();
    let out = wbill(
        &["tariff", "convert", "uk.toml", "--to", "json", "--out", "back.json"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(dir.path().join("back.json")).unwrap();
    assert!(written.contains("\"prefix_table\": \"uk-prefixes.csv\""), "{written}");
    let a = wbill(&["tariff", "show", "uk.toml"], dir.path());
    let b = wbill(&["tariff", "show", "back.json"], dir.path());
    assert_eq!(text(&a.stdout), text(&b.stdout));

    // Inlined, to standard output: no table needed any more.
    let out = wbill(
        &[
            "tariff",
            "convert",
            "uk.toml",
            "--to",
            "toml",
            "--inline-prefix-table",
            "--out",
            "-",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inline = text(&out.stdout);
    assert!(
        !inline.contains("prefix_table") && inline.contains("name = \"New York\""),
        "{inline}"
    );
    std::fs::write(dir.path().join("inline.toml"), &inline).unwrap();
    std::fs::remove_file(dir.path().join("uk-prefixes.csv")).unwrap();
    let c = wbill(&["tariff", "show", "inline.toml"], dir.path());
    assert!(c.status.success(), "{}", text(&c.stderr));
    assert!(
        text(&c.stdout).contains("8 destinations, 12 prefixes (0 from the prefix table), 2 bands"),
        "{}",
        text(&c.stdout)
    );
}

#[test]
fn errors_name_their_file_and_place() {
    let dir = fixture();
    let csv = std::fs::read_to_string(dir.path().join("uk-prefixes.csv")).unwrap();
    std::fs::write(
        dir.path().join("uk-prefixes.csv"),
        csv.replace("1212,New York", "447,New York"),
    )
    .unwrap();
    let out = wbill(&["tariff", "show", "uk.toml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "wbill: error: in ./uk-prefixes.csv: tariff prefix table: line 6, column 1: prefix \"447\" of destination \
         \"New York\" is already a prefix of destination \"UK mobile\" (destinations[0].prefixes[0])"
    );
    let toml = std::fs::read_to_string(dir.path().join("uk.toml")).unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        toml.replace("subsequent = 1\n", "subsequent = 0\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("uk-prefixes.csv"), csv).unwrap();
    let out = wbill(
        &["tariff", "convert", "bad.toml", "--to", "json", "--out", "never.json"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with(
            "wbill: error: in bad.toml: tariff: at destinations[0].subsequent: the subsequent increment is 0 seconds"
        ),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("never.json").exists());
}
