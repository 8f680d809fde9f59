//! End-to-end tests of the `wbill` binary: exact report output, located errors, exit codes, help.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
use common::wbill;

use std::path::Path;
use std::process::{Command, Output};

const ORG: &str = r#"
[partner]
org_id = "p-1"
name = "Acme Telecom"
subscription_id = "Sub1234567"

[[sub_partners]]
org_id = "sp-1"
name = "Reseller, One"
billing_start = "2024-05-10T12:00:00Z"
"#;

// s1: webex_calling from 2024-04-30T22:00Z (May 1st 00:00 at +02:00) to May 3rd 10:30Z, then
//     webex_voice: calling = May 1, 2 (2 days) + hours 0..=10 of May 3rd (11 h → 0.4583) = 2.4583;
//     voice = hours 10..=23 of May 3rd (14 h → 0.5833) + May 4..=31 (28 days) = 28.5833.
// w1 (sub-partner customer c2): assigned May 1st, billing start May 10th 12:00 →
//     12 h (0.5000) + May 11..=31 (21 days) = 21.5000.
const EVENTS: &str = "\
event_id,occurred_at,action,subscriber_id,customer_org_id,customer_external_id,sub_partner_org_id,subscriber_type,user_id,workspace_id,package,location_id,license_id
e1,2024-05-01T00:00:00+02:00,ASSIGN,s1,c1,EXT-1,,USER,u1,,webex_calling,l1,lic1
e2,2024-05-03T10:30:00Z,ASSIGN,s1,c1,EXT-1,,USER,u1,,webex_voice,l1,lic2
e3,2024-05-01T00:00:00Z,ASSIGN,w1,c2,EXT-2,sp-1,WORKSPACE,,w1,common_area_calling,l2,lic3
";

fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("org.toml"), ORG).unwrap();
    std::fs::write(dir.path().join("events.csv"), EVENTS).unwrap();
    dir
}

fn usage(dir: &Path, extra: &[&str]) -> Output {
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
    ];
    args.extend_from_slice(extra);
    wbill(&args, dir)
}

#[test]
fn user_report_is_exact() {
    let dir = fixture();
    let out = usage(dir.path(), &["--level", "user"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,TYPE,SUBSCRIBER_ID,USER_ID,\
WORKSPACE_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,CONSUMPTION_END_DATE,QUANTITY,LOCATION_ID,LICENSE_ID\n\
Acme Telecom,p-1,Sub1234567,c1,EXT-1,USER,s1,u1,,WEBEX_CALLING,A-W-WXC-CALL-U,Wholesale Webex Calling Usage,\
2024-05-01T00:00:00.000Z,2024-05-03T10:30:00.000Z,2.4583,l1,lic1\n\
Acme Telecom,p-1,Sub1234567,c1,EXT-1,USER,s1,u1,,WEBEX_VOICE,A-W-WXE-CALL-U,Wholesale Enhanced Calling Usage,\
2024-05-03T10:30:00.000Z,2024-05-31T23:59:59.999Z,28.5833,l1,lic2\n"
    );
}

#[test]
fn sub_partner_partner_report_to_file() {
    let dir = fixture();
    let out = usage(
        dir.path(),
        &["--level", "partner", "--sub-partner", "sp-1", "--out", "r.csv"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    assert_eq!(
        text,
        "PARTNER_NAME,PARTNER_ORG_ID,SUBSCRIPTION_ID,SERVICE_NAME,SKU,DESCRIPTION,CONSUMPTION_START_DATE,\
CONSUMPTION_END_DATE,QUANTITY\n\
\"Reseller, One\",sp-1,Sub1234567,COMMON_AREA_CALLING,A-W-CA-CALL-U,Wholesale Common Area Calling Usage,\
2024-05-10T12:00:00.000Z,2024-05-31T23:59:59.999Z,21.5000\n"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("3 rows read, 3 accepted, 0 errors, 0 warnings"),
        "{stderr}"
    );
}

#[test]
fn whole_subscription_partner_totals() {
    let dir = fixture();
    let out = usage(dir.path(), &["--level", "partner", "--all"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let quantities: Vec<&str> = text.lines().skip(1).map(|l| l.rsplit(',').next().unwrap()).collect();
    // CA 21.5000, WXC 2.4583, WXE 28.5833 — sorted by SKU, all under the partner.
    assert_eq!(quantities, ["21.5000", "2.4583", "28.5833"]);
    assert!(text.lines().skip(1).all(|l| l.starts_with("Acme Telecom,p-1,")));
}

#[test]
fn bad_rows_are_located_and_fail_strict() {
    let dir = fixture();
    let bad = format!(
        "{EVENTS}e4,2024-05-04T10:00:00,REMOVE,s1,,,,,,,,,\ne5,2024-05-04T10:00:00Z,ASSIGN,s9,c1,,,USER,,,webex_ai,,\n"
    );
    std::fs::write(dir.path().join("events.csv"), bad).unwrap();
    let out = usage(dir.path(), &["--level", "user"]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing is written on error");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("line 5, column 2 (occurred_at): error: no utc offset"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6, column 11 (package): error: unknown package \"webex_ai\""),
        "{stderr}"
    );
    assert!(stderr.contains("2 row error(s)"), "{stderr}");

    let lenient = usage(
        dir.path(),
        &["--level", "partner", "--lenient", "--issues", "issues.csv"],
    );
    assert!(lenient.status.success());
    let issues = std::fs::read_to_string(dir.path().join("issues.csv")).unwrap();
    assert_eq!(issues.lines().count(), 3, "header + two issues: {issues}");
    assert!(issues.contains("missing_offset"), "{issues}");
}

#[test]
fn unknown_sub_partner_and_bad_dates_fail() {
    let dir = fixture();
    let out = usage(dir.path(), &["--sub-partner", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown sub-partner \"nope\"; known: sp-1"));
    let out = wbill(
        &[
            "usage",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--from",
            "2024-05-31",
            "--to",
            "2024-05-01",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("start 2024-05-31 is after end 2024-05-01"));
    let out = wbill(
        &[
            "usage",
            "--events",
            "missing.csv",
            "--org",
            "org.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
        ],
        dir.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.csv"));
}

#[test]
fn bad_org_file_is_located() {
    let dir = fixture();
    std::fs::write(
        dir.path().join("org.toml"),
        ORG.replace("name = \"Acme Telecom\"", "nam = \"x\""),
    )
    .unwrap();
    let out = usage(dir.path(), &[]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("line 4"), "{stderr}");
    assert!(stderr.contains("nam"), "{stderr}");
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for cmd in [
        &["--help"][..],
        &["usage", "--help"],
        &["gen", "--help"],
        &["demo", "--help"],
    ] {
        let out = wbill(cmd, dir.path());
        assert!(out.status.success(), "{cmd:?}");
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("Usage: wbill"),
            "{cmd:?}"
        );
    }
}

#[test]
fn gen_is_deterministic_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let args = |out: &str| {
        vec![
            "gen".to_owned(),
            "--seed".into(),
            "9".into(),
            "--customers".into(),
            "30".into(),
            "--subscribers".into(),
            "300".into(),
            "--sub-partners".into(),
            "2".into(),
            "--month".into(),
            "2024-02".into(),
            "--out-dir".into(),
            out.into(),
        ]
    };
    for out in ["a", "b"] {
        let owned = args(out);
        let a: Vec<&str> = owned.iter().map(String::as_str).collect();
        let o = wbill(&a, dir.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    for file in ["events.csv", "org.toml"] {
        let a = std::fs::read(dir.path().join("a").join(file)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(file)).unwrap();
        assert_eq!(a, b, "{file} differs between two runs");
    }
    let out = wbill(
        &[
            "usage",
            "--events",
            "a/events.csv",
            "--org",
            "a/org.toml",
            "--from",
            "2024-02-01",
            "--to",
            "2024-02-29",
            "--level",
            "customer",
            "--all",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8(out.stdout).unwrap().lines().count() > 30);
}

#[test]
fn gen_leaves_out_packages_without_a_known_sku_unless_the_catalog_configures_them() {
    let dir = tempfile::tempdir().unwrap();
    let gen_into = |out: &str, catalog: Option<&str>| {
        let mut args = vec!["gen", "--seed", "4", "--customers", "20", "--subscribers", "400"];
        args.extend(["--month", "2024-05", "--out-dir", out]);
        if let Some(file) = catalog {
            args.extend(["--catalog", file]);
        }
        let o = wbill(&args, dir.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stderr).unwrap()
    };
    let partner_report = |out: &str| {
        let o = wbill(
            &[
                "usage",
                "--events",
                &format!("{out}/events.csv"),
                "--org",
                &format!("{out}/org.toml"),
                "--from",
                "2024-05-01",
                "--to",
                "2024-05-31",
                "--level",
                "partner",
                "--all",
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };

    let stderr = gen_into("plain", None);
    assert!(
        stderr.contains(
            "wbill: left out webex_suite, cx_essentials: no SKU known; configure them with --catalog FILE to generate them"
        ),
        "{stderr}"
    );
    let report = partner_report("plain");
    assert!(
        !report.contains("PLACEHOLDER") && !report.contains("WEBEX_SUITE"),
        "{report}"
    );
    assert_eq!(report.lines().count(), 5, "a header and the four known SKUs: {report}");

    // An organisation-style file: only its catalog is read.
    std::fs::write(
        dir.path().join("catalog.toml"),
        "[partner]\norg_id = \"ignored\"\n\n[catalog.webex_suite]\nsku = \"A-W-SUITE-TEST\"\n",
    )
    .unwrap();
    let stderr = gen_into("suite", Some("catalog.toml"));
    assert!(
        stderr.contains("wbill: left out cx_essentials: no SKU known"),
        "{stderr}"
    );
    let org = std::fs::read_to_string(dir.path().join("suite/org.toml")).unwrap();
    assert!(org.contains("[catalog.webex_suite]\nsku = \"A-W-SUITE-TEST\""), "{org}");
    assert!(!org.contains("ignored"), "{org}");
    let report = partner_report("suite");
    assert!(report.contains(",WEBEX_SUITE,A-W-SUITE-TEST,"), "{report}");
    assert!(!report.contains("PLACEHOLDER"), "{report}");

    std::fs::write(
        dir.path().join("both.json"),
        r#"{"catalog": {"webex_suite": {"sku": "A-W-SUITE-TEST"}, "cx_essentials": {"sku": "A-W-CX-TEST"}}}"#,
    )
    .unwrap();
    let stderr = gen_into("both", Some("both.json"));
    assert!(!stderr.contains("left out"), "{stderr}");
    assert_eq!(partner_report("both").lines().count(), 7);

    std::fs::write(dir.path().join("typo.toml"), "[catalg.webex_suite]\nsku = \"A\"\n").unwrap();
    let o = wbill(
        &[
            "gen",
            "--month",
            "2024-05",
            "--catalog",
            "typo.toml",
            "--out-dir",
            "typo",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8(o.stderr).unwrap();
    assert!(
        stderr.contains("typo.toml: catalog file: line 1, column 2 at catalg: unknown field `catalg`"),
        "{stderr}"
    );
    assert!(!dir.path().join("typo").exists());
}

#[test]
fn demo_writes_nine_reports_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = wbill(&["demo", "--subscribers", "500"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("whole subscription, user-days per SKU"), "{stdout}");
    assert!(stdout.contains("A-W-WXC-CALL-U"), "{stdout}");
    let reports = std::fs::read_dir(dir.path().join("wbill-demo"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name().to_string_lossy().into_owned();
            name.ends_with("-user.csv") && !name.starts_with("vendor-")
        })
        .count();
    assert_eq!(reports, 3, "partner + two sub-partners");
    assert!(
        stdout.contains("check: all 6 planted usage discrepancies found"),
        "{stdout}"
    );
    assert!(!stdout.contains("PLACEHOLDER"), "only known SKUs are billed: {stdout}");
    assert!(
        stdout.contains("note: webex_suite, cx_essentials not generated"),
        "{stdout}"
    );
    assert!(dir.path().join("wbill-demo/invoices/summary.csv").exists());
    assert!(dir.path().join("wbill-demo/findings.csv").exists());
}

const RATES: &str = r#"
currency = "USD"
[rates."A-W-WXC-CALL-U"]
rate = "8.00"
[rates."A-W-WXE-CALL-U"]
rate = "6.00"
[rates."A-W-CA-CALL-U"]
rate = "5.00"
"#;

const PRICES: &str = r#"
currency = "USD"
tax_percent = "10"
[skus."A-W-WXC-CALL-U"]
price = "12.00"
[skus."A-W-WXE-CALL-U"]
price = "9.00"
[sub_partners.sp-1]
skus."A-W-CA-CALL-U" = { price = "6.00" }
"#;

fn money_fixture() -> tempfile::TempDir {
    let dir = fixture();
    std::fs::write(dir.path().join("rates.toml"), RATES).unwrap();
    std::fs::write(dir.path().join("prices.toml"), PRICES).unwrap();
    dir
}

const MAY: [&str; 4] = ["--from", "2024-05-01", "--to", "2024-05-31"];

/// `wbill invoice customers` of the fixture's events, organisation and price book for May.
fn invoice_customers(dir: &Path, tail: &[&str]) -> Output {
    run_with(
        dir,
        &[
            "invoice",
            "customers",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--price-book",
            "prices.toml",
        ],
        tail,
    )
}

fn run_with(dir: &Path, head: &[&str], tail: &[&str]) -> Output {
    let mut args: Vec<&str> = head.to_vec();
    args.extend_from_slice(&MAY);
    args.extend_from_slice(tail);
    wbill(&args, dir)
}

#[test]
fn vendor_invoice_from_events() {
    let dir = money_fixture();
    let out = run_with(
        dir.path(),
        &[
            "invoice",
            "vendor",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--rates",
            "rates.toml",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // CA 21.5 user-days / 31 = 0.6935 × 5 = 3.4675 → 3.47 (half-even: 3.4675 → 3.47? 7 is odd → up);
    // WXC 2.4583 / 31 = 0.0793 × 8 = 0.6344 → 0.63; WXE 28.5833 / 31 = 0.9220 × 6 = 5.532 → 5.53.
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "sku,description,kind,period_start,period_end,quantity,rate,extended_amount,currency,user_days,days_in_period\n\
A-W-CA-CALL-U,,usage,2024-05-01,2024-05-31,0.6935,5.00,3.47,USD,21.5000,31\n\
A-W-WXC-CALL-U,,usage,2024-05-01,2024-05-31,0.0793,8.00,0.63,USD,2.4583,31\n\
A-W-WXE-CALL-U,,usage,2024-05-01,2024-05-31,0.9220,6.00,5.53,USD,28.5833,31\n\
TOTAL,,,,,,,9.63,USD,,\n"
    );
    let committed = run_with(
        dir.path(),
        &[
            "invoice",
            "vendor",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--rates",
            "rates.toml",
        ],
        &["--committed", "5", "--format", "json"],
    );
    assert!(committed.status.success());
    let json = String::from_utf8(committed.stdout).unwrap();
    // 9.63 − 5.00 = 4.63 overage
    assert!(json.contains("\"sku\": \"A-W-CS-MNTH\""), "{json}");
    assert!(json.contains("\"amount\": \"4.63\""), "{json}");
}

/// Issue 9: `--tax-percent 100` at a rate of 3e28 was a panic (exit 101); it is a located overflow
/// error now.
#[test]
fn vendor_invoice_tax_overflow_is_an_error_not_a_panic() {
    let dir = money_fixture();
    std::fs::write(
        dir.path().join("huge.toml"),
        "currency = \"USD\"\n[rates.\"A-W-WXC-CALL-U\"]\nrate = \"30000000000000000000000000000\"\n\
         [rates.\"A-W-WXE-CALL-U\"]\nrate = \"6.00\"\n[rates.\"A-W-CA-CALL-U\"]\nrate = \"5.00\"\n",
    )
    .unwrap();
    let out = run_with(
        dir.path(),
        &[
            "invoice",
            "vendor",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--rates",
            "huge.toml",
            "--tax-percent",
            "100",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("overflow: subtotal × tax % for the vendor invoice"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn customer_invoices_and_missing_prices() {
    let dir = money_fixture();
    let out = invoice_customers(dir.path(), &["--rates", "rates.toml", "--out-dir", "inv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let c1 = std::fs::read_to_string(dir.path().join("inv/customers/EXT-1.csv")).unwrap();
    // WXC 2.4583 / 31 = 0.0793 × 12 = 0.9516 → 0.95; WXE 0.9220 × 9 = 8.298 → 8.30;
    // tax 10% of 9.25 = 0.925 → 0.92 (half-even), total 10.17
    assert!(c1.contains("subtotal,9.25\n"), "{c1}");
    assert!(c1.contains("tax,0.92\n"), "{c1}");
    assert!(c1.contains("total,10.17\n"), "{c1}");
    let sp = std::fs::read_to_string(dir.path().join("inv/sub-partners/Reseller__One.csv")).unwrap();
    // 21.5 / 31 = 0.6935 × 6 = 4.161 → 4.16; tax 0.42
    assert!(sp.contains("total,4.58\n"), "{sp}");
    let margin = std::fs::read_to_string(dir.path().join("inv/margin.csv")).unwrap();
    assert!(
        margin.contains("sub_partner,sp-1,\"Reseller, One\",4.16,3.47,0.69,USD"),
        "{margin}"
    );

    // JSON: every file, the summary and the margins too.
    let out = invoice_customers(
        dir.path(),
        &["--rates", "rates.toml", "--out-dir", "inv-json", "--format", "json"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("inv-json/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["grand_total"], "14.75");
    assert_eq!(summary["invoices"][0]["external_id_or_name"], "EXT-1");
    assert_eq!(summary["invoices"][0]["total"], "10.17");
    let margin: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("inv-json/margin.json")).unwrap()).unwrap();
    assert!(
        margin["rows"].as_array().is_some_and(|rows| !rows.is_empty()),
        "{margin}"
    );
    assert!(!dir.path().join("inv-json/summary.csv").exists());

    std::fs::write(
        dir.path().join("prices.toml"),
        PRICES.replace("[skus.\"A-W-WXE-CALL-U\"]\nprice = \"9.00\"\n", ""),
    )
    .unwrap();
    let out = invoice_customers(dir.path(), &["--out-dir", "inv2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no price for SKU A-W-WXE-CALL-U"));
}

#[test]
fn a_missing_rate_names_the_file_and_line_of_the_row_that_needs_it() {
    let dir = money_fixture();
    std::fs::write(
        dir.path().join("partner.csv"),
        "SKU,CONSUMPTION_START_DATE,QUANTITY\nA-W-WXC-CALL-U,2024-05-01,31\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("reseller.csv"),
        "SKU,CONSUMPTION_START_DATE,QUANTITY\nA-W-CA-CALL-U,2024-05-01,2\nA-W-NOPE-U,2024-05-01,3\n",
    )
    .unwrap();
    let out = run_with(
        dir.path(),
        &[
            "invoice",
            "vendor",
            "--usage",
            "partner.csv",
            "--usage",
            "reseller.csv",
            "--rates",
            "rates.toml",
        ],
        &[],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains(
            "reseller.csv line 3: no wholesale rate for SKU A-W-NOPE-U, needed by line 3 of usage report 2 \
             (the rate card has "
        ),
        "{stderr}"
    );
}

#[test]
fn invalid_utf8_in_a_text_file_names_its_byte_and_line() {
    let dir = money_fixture();
    let mut prices = PRICES.as_bytes().to_vec();
    let at = prices.iter().position(|&b| b == b'\n').unwrap() + 1;
    prices.splice(at..at, b"# caf\xe9\n".iter().copied());
    std::fs::write(dir.path().join("prices.toml"), &prices).unwrap();
    let out = invoice_customers(dir.path(), &["--out-dir", "inv"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let line = PRICES[..at].matches('\n').count() + 1;
    assert!(
        stderr.contains(&format!(
            "in prices.toml: price book: line {line}, column 6: invalid utf-8 at byte {}",
            at + 5
        )),
        "{stderr}"
    );
}

#[test]
fn customers_sharing_an_external_id_get_one_invoice_each() {
    let dir = money_fixture();
    // c3 has c1's external id, in another case: two files, neither overwriting the other.
    let events = format!("{EVENTS}e4,2024-05-01T00:00:00Z,ASSIGN,s3,c3,ext-1,,USER,u3,,webex_calling,l1,lic4\n");
    std::fs::write(dir.path().join("events.csv"), events).unwrap();
    let out = invoice_customers(dir.path(), &["--out-dir", "inv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("inv/customers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["EXT-1--c1.csv", "ext-1--c3.csv"]);
    let c3 = std::fs::read_to_string(dir.path().join("inv/customers/ext-1--c3.csv")).unwrap();
    assert!(c3.contains("c3"), "{c3}");
}

#[test]
fn reconcile_finds_a_dropped_row_and_exits_3_when_asked() {
    let dir = money_fixture();
    let all = usage(dir.path(), &["--level", "user", "--all", "--out", "vendor.csv"]);
    assert!(all.status.success());
    let clean = run_with(
        dir.path(),
        &[
            "reconcile",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--vendor-report",
            "vendor.csv",
        ],
        &["--rates", "rates.toml", "--fail-on-findings"],
    );
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    assert!(String::from_utf8_lossy(&clean.stderr).contains("clean, no findings"));
    // Drop the WXE row of s1 from the vendor's copy.
    let vendor = std::fs::read_to_string(dir.path().join("vendor.csv")).unwrap();
    let kept: Vec<&str> = vendor.lines().filter(|l| !l.contains("WEBEX_VOICE")).collect();
    std::fs::write(dir.path().join("vendor.csv"), kept.join("\n") + "\n").unwrap();
    let out = run_with(
        dir.path(),
        &[
            "reconcile",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--vendor-report",
            "vendor.csv",
        ],
        &["--rates", "rates.toml", "--fail-on-findings", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(3), "findings have their own exit status");
    let json = String::from_utf8(out.stdout).unwrap();
    assert!(json.contains("missing_from_vendor"), "{json}");
    // 28.5833 user-days / 31 × 6.00 = 5.5322… → −5.53 (the vendor bills less)
    assert!(json.contains("-5.53"), "{json}");
}

/// Issue 9, point 1 (reader side): a vendor invoice cut short is refused by `reconcile`, located,
/// instead of being reconciled as if whole.
#[test]
fn reconcile_refuses_a_cut_vendor_invoice_and_reports_a_wrong_total() {
    let dir = money_fixture();
    let all = usage(dir.path(), &["--level", "user", "--all", "--out", "vendor.csv"]);
    assert!(all.status.success());
    let invoice = run_with(
        dir.path(),
        &[
            "invoice",
            "vendor",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--rates",
            "rates.toml",
            "--out",
            "invoice.csv",
        ],
        &[],
    );
    assert!(invoice.status.success(), "{}", String::from_utf8_lossy(&invoice.stderr));
    let whole = std::fs::read_to_string(dir.path().join("invoice.csv")).unwrap();
    let reconcile = |file: &str| {
        run_with(
            dir.path(),
            &[
                "reconcile",
                "--events",
                "events.csv",
                "--org",
                "org.toml",
                "--vendor-report",
                "vendor.csv",
                "--vendor-invoice",
                file,
            ],
            &["--rates", "rates.toml"],
        )
    };
    assert!(reconcile("invoice.csv").status.success());
    // Cut in the middle of the third line (the second invoice line), after "A-W-WXC-CALL-U,,us".
    let cut_at = whole.match_indices('\n').nth(1).unwrap().0 + 19;
    std::fs::write(dir.path().join("cut.csv"), &whole[..cut_at]).unwrap();
    let out = reconcile("cut.csv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cut.csv: line 3, column 4 (period_start): error: the row ends after 3 of 11 fields"),
        "{stderr}"
    );
    // Cut after a whole line: no TOTAL row.
    let cut_at = whole.match_indices('\n').nth(2).unwrap().0 + 1;
    std::fs::write(dir.path().join("cut.csv"), &whole[..cut_at]).unwrap();
    let stderr = String::from_utf8_lossy(&reconcile("cut.csv").stderr).into_owned();
    assert!(stderr.contains("cut.csv: line 4: error: no TOTAL row"), "{stderr}");
    // A whole invoice whose total is not the sum of its lines is not cut: it is read with a
    // warning, and the difference is an invoice_arithmetic finding on TOTAL.
    std::fs::write(dir.path().join("total.csv"), whole.replace("9.63,USD", "9.64,USD")).unwrap();
    let out = reconcile("total.csv");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "total.csv: line 5, column 8 (extended_amount): warning: the stated total 9.64 USD is not the sum of \
             the lines, 9.63 USD"
        ),
        "{stderr}"
    );
    let findings = String::from_utf8_lossy(&out.stdout);
    let total: Vec<&str> = findings.lines().filter(|l| l.contains(",TOTAL,")).collect();
    assert_eq!(total.len(), 1, "{findings}");
    assert!(
        total[0].starts_with("invoice_arithmetic,") && total[0].contains(",9.63,9.64,0.01,money,0.01,USD,"),
        "{findings}"
    );
}

#[test]
fn rates_show_and_convert() {
    let dir = money_fixture();
    let out = wbill(&["rates", "--rates", "rates.toml"], dir.path());
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("3 SKUs, prices in USD per user-month"), "{table}");
    let out = wbill(
        &[
            "rates",
            "--rates",
            "rates.toml",
            "--format",
            "csv",
            "--out",
            "rates.csv",
        ],
        dir.path(),
    );
    assert!(out.status.success());
    let back = wbill(&["rates", "--rates", "rates.csv", "--format", "toml"], dir.path());
    assert!(back.status.success());
    assert!(String::from_utf8(back.stdout).unwrap().contains("rate = \"8.00\""));
}

#[test]
fn fetch_through_the_sandbox_equals_usage_byte_for_byte() {
    let dir = fixture();
    let org = wholesale_billing::Organisation::from_toml_str(ORG).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(webex_sandbox::Sandbox::start(
            webex_sandbox::SandboxConfig::new(org, EVENTS.as_bytes().to_vec())
                .with_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .with_today(wholesale_billing::parse_date("2024-06-15").unwrap())
                .with_report_delay(std::time::Duration::from_millis(20)),
        ))
        .unwrap();
    let token = sandbox.token_of("p-1").unwrap().token.clone();
    let base = sandbox.webex_base_url();
    for (level, scope) in [
        ("user", "--all"),
        ("customer", "--all"),
        ("partner", "--all"),
        ("user", ""),
        ("partner", ""),
    ] {
        let mut args = vec![
            "fetch",
            "--base-url",
            &base,
            "--token-env",
            "SANDBOX_TOKEN",
            "--level",
            level,
        ];
        args.extend_from_slice(&MAY);
        if !scope.is_empty() {
            args.push(scope);
        }
        let fetched = Command::new(env!("CARGO_BIN_EXE_wbill"))
            .args(&args)
            .env("SANDBOX_TOKEN", &token)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(fetched.status.success(), "{}", String::from_utf8_lossy(&fetched.stderr));
        let mut local_args = vec!["--level", level];
        if !scope.is_empty() {
            local_args.push(scope);
        }
        let local = usage(dir.path(), &local_args);
        assert!(local.status.success());
        assert_eq!(
            String::from_utf8(fetched.stdout).unwrap(),
            String::from_utf8(local.stdout).unwrap(),
            "{level} {scope}"
        );
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args(["fetch", "--base-url", &base, "--token-env", "NO_SUCH_VARIABLE_SET"])
        .args(MAY)
        .env_remove("NO_SUCH_VARIABLE_SET")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("NO_SUCH_VARIABLE_SET"));
    runtime.block_on(sandbox.shutdown()).unwrap();
}

/// Every writer replaces its target by a rename, never in place: a hard link to the old file
/// still shows the old bytes, the target the new ones, and no temporary stays beside it.
#[cfg(unix)]
#[test]
fn every_output_file_is_replaced_whole() {
    let dir = money_fixture();
    let d = dir.path();
    let old = |name: &str| {
        std::fs::write(d.join(name), format!("old {name}\n")).unwrap();
        std::fs::hard_link(d.join(name), d.join(format!("{name}.was"))).unwrap();
    };
    let check = |name: &str| {
        assert_eq!(
            std::fs::read_to_string(d.join(format!("{name}.was"))).unwrap(),
            format!("old {name}\n"),
            "{name} was rewritten in place"
        );
        let new = std::fs::read_to_string(d.join(name)).unwrap();
        assert!(!new.starts_with("old "), "{name} was not written");
    };
    for name in ["user.csv", "issues.csv", "vendor.csv", "findings.csv", "rates.csv"] {
        old(name);
    }
    let out = usage(
        d,
        &["--all", "--lenient", "--out", "user.csv", "--issues", "issues.csv"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run_with(
        d,
        &[
            "invoice",
            "vendor",
            "--usage",
            "user.csv",
            "--rates",
            "rates.toml",
            "--out",
            "vendor.csv",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run_with(
        d,
        &[
            "reconcile",
            "--expected",
            "user.csv",
            "--vendor-report",
            "user.csv",
            "--rates",
            "rates.toml",
        ],
        &["--out", "findings.csv"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = wbill(
        &[
            "rates",
            "--rates",
            "rates.toml",
            "--format",
            "csv",
            "--out",
            "rates.csv",
        ],
        d,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["user.csv", "issues.csv", "vendor.csv", "findings.csv", "rates.csv"] {
        check(name);
    }
    // gen: both files.
    let g = d.join("g");
    std::fs::create_dir(&g).unwrap();
    for name in ["events.csv", "org.toml"] {
        std::fs::write(g.join(name), "old\n").unwrap();
        std::fs::hard_link(g.join(name), g.join(format!("{name}.was"))).unwrap();
    }
    let out = wbill(
        &[
            "gen",
            "--subscribers",
            "50",
            "--customers",
            "5",
            "--month",
            "2024-05",
            "--out-dir",
            "g",
        ],
        d,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for name in ["events.csv", "org.toml"] {
        assert_eq!(std::fs::read_to_string(g.join(format!("{name}.was"))).unwrap(), "old\n");
        assert_ne!(std::fs::read_to_string(g.join(name)).unwrap(), "old\n");
    }
    let leftovers: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .chain(std::fs::read_dir(&g).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// An existing file keeps its mode; a new one gets the mode `File::create` gives; a link to a
/// file replaces the file it points to; `/dev/null` is written in place.
#[cfg(unix)]
#[test]
fn output_files_keep_their_mode_and_links() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fixture();
    let d = dir.path();
    std::fs::write(d.join("kept.csv"), "old\n").unwrap();
    std::fs::set_permissions(d.join("kept.csv"), std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::write(d.join("real.csv"), "old\n").unwrap();
    std::os::unix::fs::symlink("real.csv", d.join("link.csv")).unwrap();
    for out in ["kept.csv", "new.csv", "link.csv", "/dev/null"] {
        let run = usage(d, &["--out", out]);
        assert!(run.status.success(), "{out}: {}", String::from_utf8_lossy(&run.stderr));
    }
    let mode = |name: &str| std::fs::metadata(d.join(name)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("kept.csv"), 0o640);
    assert_ne!(
        mode("new.csv") & 0o044,
        0,
        "a new file is as readable as File::create makes it"
    );
    assert!(
        std::fs::symlink_metadata(d.join("link.csv"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(d.join("real.csv"))
            .unwrap()
            .starts_with("PARTNER_NAME,")
    );
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device_like()
    );
}

#[cfg(unix)]
trait CharDevice {
    fn is_char_device_like(&self) -> bool;
}

#[cfg(unix)]
impl CharDevice for std::fs::FileType {
    fn is_char_device_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_char_device(self)
    }
}

/// `invoice customers --out-dir` swaps the directory in whole: a re-run without `--rates` leaves
/// no stale margin.csv, and a directory holding anything else is refused, untouched.
#[test]
fn invoice_out_dir_is_replaced_whole() {
    let dir = money_fixture();
    let d = dir.path();
    let out = invoice_customers(d, &["--rates", "rates.toml", "--out-dir", "inv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(d.join("inv/margin.csv").exists());
    let out = invoice_customers(d, &["--out-dir", "inv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!d.join("inv/margin.csv").exists(), "a stale margin.csv stayed");
    assert!(d.join("inv/summary.csv").exists());
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".inv."))
        .collect();
    names.sort();
    assert!(names.is_empty(), "{names:?}");

    // A directory of other files is not replaced.
    std::fs::write(d.join("inv/notes.txt"), "mine\n").unwrap();
    let out = invoice_customers(d, &["--out-dir", "inv"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("inv holds notes.txt, which `wbill invoice customers` does not write"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(d.join("inv/notes.txt")).unwrap(), "mine\n");
    for bad in [".", "events.csv"] {
        let out = invoice_customers(d, &["--out-dir", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
    }
}

/// The brief's case: a usage report cut mid-row (as a killed writer left it before) is refused
/// with its line and column, not billed.
#[test]
fn a_cut_usage_report_is_refused_where_it_is_cut() {
    let dir = money_fixture();
    let d = dir.path();
    let out = usage(d, &["--all", "--level", "customer", "--out", "customer.csv"]);
    assert!(out.status.success());
    let whole = std::fs::read_to_string(d.join("customer.csv")).unwrap();
    let cut = &whole[..whole.len() - 20];
    std::fs::write(d.join("cut.csv"), cut).unwrap();
    let out = run_with(
        d,
        &["invoice", "vendor", "--usage", "cut.csv", "--rates", "rates.toml"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines = cut.lines().count();
    assert!(
        stderr.contains(&format!("cut.csv: line {lines}, column ")) && stderr.contains("the file ends mid-row"),
        "{stderr}"
    );
}

/// Bad option values are refused by name with status 2, negative numbers included.
#[test]
fn bad_values_name_their_option() {
    let dir = money_fixture();
    let d = dir.path();
    let vendor = [
        "invoice",
        "vendor",
        "--events",
        "events.csv",
        "--org",
        "org.toml",
        "--rates",
        "rates.toml",
    ];
    for (tail, option) in [
        (&["--tax-percent", "101"][..], "--tax-percent <PERCENT>"),
        (&["--tax-percent", "-1"], "--tax-percent <PERCENT>"),
        (&["--tax-percent", "ten"], "--tax-percent <PERCENT>"),
        (&["--committed", "-1"], "--committed <AMOUNT>"),
        (&["--committed", "1e6"], "--committed <AMOUNT>"),
        (&["--fixed", "SUPPORT:1"], "--fixed <SKU:QTY:RATE[:DESC]>"),
        (&["--fixed", "SUPPORT:1:-5"], "--fixed <SKU:QTY:RATE[:DESC]>"),
    ] {
        let out = run_with(d, &vendor, tail);
        assert_eq!(out.status.code(), Some(2), "{tail:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("for '{option}'")), "{tail:?}: {stderr}");
    }
    // -0 is a value (zero), not a flag.
    let out = run_with(d, &vendor, &["--committed", "-0", "--tax-percent", "100"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let reconcile = [
        "reconcile",
        "--events",
        "events.csv",
        "--org",
        "org.toml",
        "--vendor-report",
        "events.csv",
    ];
    for value in ["-1", "x"] {
        let out = run_with(d, &reconcile, &["--rates", "rates.toml", "--tolerance", value]);
        assert_eq!(out.status.code(), Some(2), "{value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("invalid value '{value}' for '--tolerance <USER_DAYS>'")),
            "{stderr}"
        );
    }
    let out = wbill(
        &[
            "usage",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--from",
            "2024-13-01",
            "--to",
            "2024-05-31",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("for '--from <YYYY-MM-DD>'"));
    let out = wbill(&["gen", "--month", "May"], d);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("for '--month <YYYY-MM>'"));
}

/// Exit statuses: 0, 1 on an error, 2 on a usage error, 3 for findings (above), all in --help.
#[test]
fn exit_statuses_are_distinct_and_documented() {
    let dir = fixture();
    let d = dir.path();
    assert_eq!(usage(d, &[]).status.code(), Some(0));
    assert_eq!(usage(d, &["--no-such-flag"]).status.code(), Some(2));
    let missing = wbill(
        &[
            "usage",
            "--events",
            "nope.csv",
            "--org",
            "org.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
        ],
        d,
    );
    assert_eq!(missing.status.code(), Some(1));
    let help = String::from_utf8(wbill(&["--help"], d).stdout).unwrap();
    for needle in ["Exit status:", "  3  ", "docs/cli.md", "`-` is standard input"] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
    for cmd in [
        &["usage", "--help"][..],
        &["reconcile", "--help"],
        &["invoice", "vendor", "--help"],
        &["invoice", "customers", "--help"],
        &["gen", "--help"],
        &["demo", "--help"],
        &["fetch", "--help"],
        &["rates", "--help"],
    ] {
        let text = String::from_utf8(wbill(cmd, d).stdout).unwrap();
        assert!(!text.contains("SPEC.md"), "{cmd:?} points outside the repository");
    }
    let usage_help = String::from_utf8(wbill(&["usage", "--help"], d).stdout).unwrap();
    assert!(usage_help.contains("docs/events.md"), "{usage_help}");
    let reconcile_help = String::from_utf8(wbill(&["reconcile", "--help"], d).stdout).unwrap();
    assert!(reconcile_help.contains("3 with --fail-on-findings"), "{reconcile_help}");
}

fn wbill_with_stdin(args: &[&str], dir: &Path, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// `-` is standard input for one input, standard output for --out.
#[test]
fn dash_is_standard_input_and_output() {
    let dir = money_fixture();
    let d = dir.path();
    let from_file = usage(d, &["--all"]);
    let mut args = vec!["usage", "--events", "-", "--org", "org.toml", "--all", "--out", "-"];
    args.extend_from_slice(&MAY);
    let from_stdin = wbill_with_stdin(&args, d, EVENTS.as_bytes());
    assert!(
        from_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&from_stdin.stderr)
    );
    assert_eq!(from_stdin.stdout, from_file.stdout);

    let vendor_file = run_with(
        d,
        &[
            "invoice",
            "vendor",
            "--events",
            "events.csv",
            "--org",
            "org.toml",
            "--rates",
            "rates.toml",
        ],
        &[],
    );
    let vendor_stdin = wbill_with_stdin(
        &[
            "invoice",
            "vendor",
            "--usage",
            "-",
            "--rates",
            "rates.toml",
            "--from",
            "2024-05-01",
            "--to",
            "2024-05-31",
        ],
        d,
        &from_file.stdout,
    );
    assert!(
        vendor_stdin.status.success(),
        "{}",
        String::from_utf8_lossy(&vendor_stdin.stderr)
    );
    assert_eq!(vendor_stdin.stdout, vendor_file.stdout);

    std::fs::write(d.join("vendor.csv"), &from_file.stdout).unwrap();
    let mut args = vec![
        "reconcile",
        "--expected",
        "-",
        "--vendor-report",
        "vendor.csv",
        "--rates",
        "rates.toml",
    ];
    args.extend_from_slice(&MAY);
    let clean = wbill_with_stdin(&args, d, &from_file.stdout);
    assert!(clean.status.success(), "{}", String::from_utf8_lossy(&clean.stderr));
    assert!(String::from_utf8_lossy(&clean.stderr).contains("clean, no findings"));

    let mut args = vec![
        "reconcile",
        "--expected",
        "-",
        "--vendor-report",
        "vendor.csv",
        "-",
        "--rates",
        "rates.toml",
    ];
    args.extend_from_slice(&MAY);
    let twice = wbill_with_stdin(&args, d, b"");
    assert_eq!(twice.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&twice.stderr);
    assert!(
        stderr.contains("standard input (`-`) can feed only one input, and --expected, --vendor-report all ask for it"),
        "{stderr}"
    );
    let out = usage(d, &["--issues", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("for '--issues <FILE>'"));
}

/// `wbill ... | head -1`: the closed pipe ends wbill quietly, as SIGPIPE ends other tools.
#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = wbill(
        &[
            "gen",
            "--month",
            "2024-05",
            "--subscribers",
            "3000",
            "--customers",
            "100",
        ],
        d,
    );
    assert!(out.status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbill"))
        .args(["usage", "--events", "events.csv", "--org", "org.toml", "--all"])
        .args(MAY)
        .current_dir(d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("PARTNER_NAME,"));
    // The reader is gone: the report (about 1 MB) no longer fits in the pipe.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(13), "{:?}", out.status);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("error"), "{stderr}");
}

/// Several vendor reports after one --vendor-report, as well as the flag repeated.
#[test]
fn vendor_reports_after_one_flag() {
    let dir = money_fixture();
    let d = dir.path();
    assert!(usage(d, &["--out", "partner.csv"]).status.success());
    assert!(usage(d, &["--sub-partner", "sp-1", "--out", "sp.csv"]).status.success());
    for reports in [
        &["--vendor-report", "partner.csv", "sp.csv"][..],
        &["--vendor-report", "partner.csv", "--vendor-report", "sp.csv"],
    ] {
        let mut head = vec!["reconcile", "--events", "events.csv", "--org", "org.toml"];
        head.extend_from_slice(reports);
        let out = run_with(d, &head, &["--rates", "rates.toml", "--fail-on-findings"]);
        assert!(
            out.status.success(),
            "{reports:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("clean, no findings"));
    }
}
