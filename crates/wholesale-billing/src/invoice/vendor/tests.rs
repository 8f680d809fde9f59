//! Tests of the vendor invoice: the seed invoice, committed months, CSV and JSON.
use super::*;
use crate::error::{Error, IssueKind};
use crate::invoice::ExpectedInvoice;
use crate::rates::{WholesaleRate, WholesaleRateCard};
use crate::report::{ReadOptions, UsageReport};

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn seed_rates() -> WholesaleRateCard {
    let mut rates = WholesaleRateCard::new(Currency::USD);
    for (sku, rate, committed) in [
        ("A-W-CA-CALL-U", "5", "4"),
        ("A-W-WXC-CALL-U", "8", "7"),
        ("A-W-WXE-CALL-U", "6", "5"),
        ("A-W-WXM-MEET-U", "9", "8"),
    ] {
        let mut r = WholesaleRate::new(sku, d(rate));
        r.committed_rate = Some(d(committed));
        rates.insert(r).unwrap();
    }
    rates
}

/// A report read from CSV, of the seed's period.
fn read(csv: &str) -> UsageReport {
    UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
        .unwrap()
        .0
        .with_period(seed_period())
        .unwrap()
}

/// The seed invoice's quantities, as user-days over its 30-day billing period (13 Apr – 12 May).
fn seed_usage() -> UsageReport {
    // 105.425 × 30 = 3162.75; 356.6889 × 30 = 10700.667; 268.0069 × 30 = 8040.207;
    // 5.1944 × 30 = 155.832 — split over a partner and a sub-partner report would give the same.
    let csv = "SKU,QUANTITY\nA-W-CA-CALL-U,3162.75\nA-W-WXC-CALL-U,10700.667\n\
               A-W-WXE-CALL-U,8040.207\nA-W-WXM-MEET-U,155.832\n";
    read(csv)
}

/// The expected invoice of the seed usage at the seed rates.
fn seed_invoice(builder: impl FnOnce(ExpectedInvoice<'_>) -> ExpectedInvoice<'_>) -> Result<VendorInvoice> {
    builder(ExpectedInvoice::new(&seed_rates())).build([&seed_usage()])
}

fn seed_period() -> Period {
    Period::from_dates("2023-04-13", "2023-05-12").unwrap()
}

#[test]
fn the_seed_invoice_reproduces_to_the_cent() {
    let support = FixedLine {
        sku: "SVS-FLEX-SUPT-BAS".into(),
        description: "Basic Support for Flex Plan".into(),
        quantity: Decimal::ONE,
        rate: d("0.00"),
    };
    let invoice = seed_invoice(|b| b.fixed_lines([support])).unwrap();
    let got: Vec<(String, String, String)> = invoice
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity.to_string(), l.extended.amount().to_string()))
        .collect();
    let want = [
        ("A-W-CA-CALL-U", "105.4250", "527.12"),
        ("A-W-WXC-CALL-U", "356.6889", "2853.51"),
        ("A-W-WXE-CALL-U", "268.0069", "1608.04"),
        ("A-W-WXM-MEET-U", "5.1944", "46.75"),
        ("SVS-FLEX-SUPT-BAS", "1", "0.00"),
    ]
    .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()));
    assert_eq!(got, want);
    assert_eq!(invoice.total().unwrap().to_string(), "5035.42 USD");
}

#[test]
fn usage_split_over_reports_gives_the_same_invoice() {
    let a = "SKU,QUANTITY\nA-W-CA-CALL-U,3000\nA-W-WXC-CALL-U,700.667\n";
    let b = "SKU,QUANTITY\nA-W-CA-CALL-U,162.75\nA-W-WXC-CALL-U,10000\nA-W-WXE-CALL-U,8040.207\n\
             A-W-WXM-MEET-U,155.832\n";
    let (a, b) = (read(a), read(b));
    let rates = seed_rates();
    let split = ExpectedInvoice::new(&rates).build([&a, &b]).unwrap();
    let whole = seed_invoice(|b| b).unwrap();
    assert_eq!(split, whole);
    assert_eq!(split.total().unwrap().to_string(), "5035.42 USD");
}

#[test]
fn committed_month_with_and_without_overage() {
    // At committed rates: 105.425×4 = 421.70; 356.6889×7 = 2496.8223 → 2496.82;
    // 268.0069×5 = 1340.0345 → 1340.03 (half-even: 0.0345 → 0.03); 5.1944×8 = 41.5552 → 41.56.
    // Σ = 4300.11.
    for (commit, overage, total) in [("4000", "300.11", "4300.11"), ("5000", "0.00", "5000.00")] {
        let invoice = seed_invoice(|b| b.committed(Money::parse(commit, Currency::USD).unwrap())).unwrap();
        assert_eq!(invoice.lines.len(), 2);
        assert_eq!(invoice.lines[0].sku, "A-W-CS-MNTH");
        assert_eq!(invoice.lines[0].extended.amount().to_string(), format!("{commit}.00"));
        assert_eq!(invoice.lines[1].kind, LineKind::Overage);
        assert_eq!(invoice.lines[1].extended.amount().to_string(), overage);
        assert_eq!(invoice.total().unwrap().amount().to_string(), total);
        let basis: Decimal = invoice.overage_basis.iter().map(|l| l.extended.amount()).sum();
        assert_eq!(basis.to_string(), "4300.11");
    }
}

#[test]
fn negative_commitment_fixed_lines_and_tax_are_refused() {
    let refused =
        |builder: fn(ExpectedInvoice<'_>) -> ExpectedInvoice<'_>| seed_invoice(builder).unwrap_err().to_string();
    let committed = refused(|b| b.committed(Money::parse("-5", Currency::USD).unwrap()));
    assert!(
        committed.contains("the monthly commitment -5.00 USD is negative"),
        "{committed}"
    );
    let fixed = |quantity: &str, rate: &str| FixedLine {
        sku: "SVS-FLEX-SUPT-BAS".into(),
        description: String::new(),
        quantity: d(quantity),
        rate: d(rate),
    };
    let err = seed_invoice(|b| b.fixed_lines([fixed("1", "-5")])).unwrap_err();
    assert!(
        err.to_string()
            .contains("fixed line SVS-FLEX-SUPT-BAS: the rate -5 is negative"),
        "{err}"
    );
    let err = seed_invoice(|b| b.fixed_lines([fixed("-1", "5")])).unwrap_err();
    assert!(err.to_string().contains("the quantity -1 is negative"), "{err}");
    let taxed = refused(|b| b.tax_percent(d("-10")));
    assert!(taxed.contains("the tax percentage -10 is negative"), "{taxed}");
    // Zero is fine (the seed's support line is 1 × 0.00).
    assert!(seed_invoice(|b| b.fixed_lines([fixed("1", "0.00")])).is_ok());
}

#[test]
fn missing_rate_and_currency_mismatch_are_refused() {
    let mut rates = seed_rates();
    let csv = "SKU,QUANTITY\nA-W-NEW-U,10\n";
    let report = read(csv);
    let err = ExpectedInvoice::new(&rates).build([&report]).unwrap_err();
    assert!(err.to_string().contains("no wholesale rate for SKU A-W-NEW-U"), "{err}");
    rates.insert(WholesaleRate::new("A-W-NEW-U", d("1"))).unwrap();
    let err = ExpectedInvoice::new(&rates)
        .committed(Money::parse("10", Currency::EUR).unwrap())
        .build([&report])
        .unwrap_err();
    assert!(matches!(err, Error::CurrencyMismatch { .. }), "{err}");
}

#[test]
fn tax_line_is_rounded_once_on_the_subtotal() {
    let invoice = seed_invoice(|b| b.tax_percent(d("22"))).unwrap();
    let tax = invoice.lines.last().unwrap();
    // 5035.42 × 0.22 = 1107.7924 → 1107.79
    assert_eq!(tax.extended.amount().to_string(), "1107.79");
    assert_eq!(invoice.total().unwrap().amount().to_string(), "6143.21");
}

#[test]
fn csv_round_trip_and_total_check() {
    let invoice = seed_invoice(|b| b).unwrap();
    let mut out = Vec::new();
    invoice.write_csv(&mut out).unwrap();
    let (back, diagnostics) = VendorInvoice::read_csv(out.as_slice()).unwrap();
    assert_eq!(diagnostics.rows_read, 5, "4 lines and the total");
    assert_eq!(back.total().unwrap(), invoice.total().unwrap());
    assert_eq!(back.period, Some(seed_period()));
    assert_eq!(
        back.usage_quantity_by_sku().unwrap(),
        invoice.usage_quantity_by_sku().unwrap()
    );
    assert_eq!(back.stated_total.unwrap().to_string(), "5035.42 USD");
    let text = String::from_utf8(out).unwrap();
    // A whole invoice whose stated total is not the sum of its lines is Cisco's: kept as stated
    // (reconciliation reports it), with a located warning naming both amounts.
    let wrong = text.replace("5035.42,USD", "5035.43,USD");
    let (read, diagnostics) = VendorInvoice::read_csv(wrong.as_bytes()).unwrap();
    assert_eq!(read.stated_total.unwrap().to_string(), "5035.43 USD");
    assert_eq!(read.total().unwrap().to_string(), "5035.42 USD");
    assert_eq!(read.lines, back.lines);
    assert_eq!(diagnostics.error_count(), 0);
    assert_eq!(diagnostics.warning_count(), 1);
    let warning = &diagnostics.issues[0];
    assert_eq!((warning.line, warning.column), (6, Some(8)));
    assert_eq!(
        warning.to_string(),
        "line 6, column 8 (extended_amount): warning: the stated total 5035.43 USD is not the sum of the lines, \
         5035.42 USD: kept as stated (reconciliation reports the difference)"
    );
    let twice = format!("{text}TOTAL,,,,,,,1.00,USD,,\n");
    let err = VendorInvoice::read_csv(twice.as_bytes()).unwrap_err();
    assert!(err.issues()[0].message.contains("a second TOTAL row"), "{err}");
}

/// Issue 9, point 1 (reader side): the invoice `write_csv` writes, cut at every byte, is never
/// read as a whole invoice: every cut is an error, located at a line of the file.
#[test]
fn a_cut_invoice_is_told_from_a_whole_one() {
    let invoice = seed_invoice(|b| b).unwrap();
    let mut out = Vec::new();
    invoice.write_csv(&mut out).unwrap();
    let whole = String::from_utf8(out).unwrap();
    let (read, diagnostics) = VendorInvoice::read_csv(whole.as_bytes()).unwrap();
    assert_eq!(read.total().unwrap(), invoice.total().unwrap());
    assert!(diagnostics.issues.is_empty(), "{:?}", diagnostics.issues);
    // The header alone is a file that says nothing yet; from the first row on, every cut is
    // refused, but the one of the final newline alone (the data is whole: it reads as the whole).
    let first_row = whole.find('\n').unwrap() + 1;
    assert_eq!(
        VendorInvoice::read_csv(&whole.as_bytes()[..whole.len() - 1]).unwrap().0,
        read
    );
    for cut in first_row + 1..whole.len() - 1 {
        let part = &whole.as_bytes()[..cut];
        let lines_in_part = part.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        match VendorInvoice::read_csv(part) {
            Ok((read, _)) => panic!("cut at byte {cut} read as an invoice of {:?}", read.total()),
            Err(Error::Rejected { issues, .. }) => {
                let line = issues[0].line;
                assert!((2..=lines_in_part + 1).contains(&line), "cut at {cut}: {issues:?}");
            }
            Err(other) => panic!("cut at byte {cut}: {other}"),
        }
    }
}

#[test]
fn cut_rows_and_missing_totals_are_located() {
    // A row cut mid-field, in the middle of a hand-made file: located at its first missing field.
    let cut = "sku,quantity,rate,extended_amount,currency\nA,1,2,2.00\nB,1,2,2.00,USD\n";
    let err = VendorInvoice::read_csv(cut.as_bytes()).unwrap_err();
    assert_eq!(
        err.issues()[0].to_string(),
        "line 2, column 5 (currency): error: the row ends after 4 of 5 fields: it is cut short"
    );
    assert_eq!(err.issues()[0].kind, IssueKind::MalformedCsv);
    // The form write_csv writes, cut after a whole line: no TOTAL row is an error.
    let ours = "sku,description,kind,period_start,period_end,quantity,rate,extended_amount,currency,user_days,\
                days_in_period\nA,,usage,2024-05-01,2024-05-31,1.0000,2,2.00,USD,31.0000,31\n";
    let err = VendorInvoice::read_csv(ours.as_bytes()).unwrap_err();
    assert_eq!(
        err.issues()[0].to_string(),
        "line 3: error: no TOTAL row, which every invoice in this form ends with: the file is cut"
    );
    // A hand-made file without a TOTAL row: read, with a warning.
    let hand = "sku,quantity,rate,extended_amount,currency\nA,1,2,2.00,USD\n";
    let (invoice, diagnostics) = VendorInvoice::read_csv(hand.as_bytes()).unwrap();
    assert_eq!(invoice.total().unwrap().to_string(), "2.00 USD");
    assert_eq!(invoice.stated_total, None);
    assert_eq!(diagnostics.warning_count(), 1);
    assert_eq!(
        diagnostics.issues[0].to_string(),
        "line 3: warning: no TOTAL row: nothing tells whether the file is whole (a cut file would not be noticed)"
    );
    // A total of another scale is the same amount.
    let scaled = format!("{hand}TOTAL,,,2.000,USD\n");
    let (invoice, diagnostics) = VendorInvoice::read_csv(scaled.as_bytes()).unwrap();
    assert_eq!(invoice.stated_total.unwrap().to_string(), "2.000 USD");
    assert!(diagnostics.issues.is_empty());
}

#[test]
fn bad_rows_are_located() {
    let csv = "sku,quantity,rate,extended_amount,currency,period\n\
               A,1,2,2.00,USD,2024-05-01..2024-05-31\n\
               B,1,2,2.00,EUR,\n\
               ,1,2,2.00,USD,\n\
               C,1,2,2.00,USD,2024-05-31..2024-05-01\n";
    let err = VendorInvoice::read_csv(csv.as_bytes()).unwrap_err();
    let lines: Vec<(u64, Option<String>)> = err.issues().iter().map(|i| (i.line, i.field.clone())).collect();
    assert_eq!(
        lines,
        [
            (3, Some("currency".to_owned())),
            (4, Some("sku".to_owned())),
            (5, Some("period".to_owned()))
        ]
    );
}

#[test]
fn json_keeps_amounts_as_strings() {
    let invoice = seed_invoice(|b| b).unwrap();
    let json = serde_json::to_string(&invoice).unwrap();
    assert!(
        json.contains(r#""extended":{"amount":"527.12","currency":"USD"}"#),
        "{json}"
    );
    assert!(json.contains(r#""quantity":"105.4250""#), "{json}");
    assert!(json.contains(r#""period":"2023-04-13..2023-05-12""#), "{json}");
    let back: VendorInvoice = serde_json::from_str(&json).unwrap();
    assert_eq!(back, invoice);
}

/// Issue 9, point 6: the reports carry the period, checked once at `build`.
#[test]
fn the_invoice_takes_its_period_from_the_reports() {
    let rates = seed_rates();
    let invoice = seed_invoice(|b| b).unwrap();
    assert_eq!(invoice.period, Some(seed_period()));
    assert!(invoice.lines.iter().all(|l| l.period == Some(seed_period())));

    let csv = "SKU,QUANTITY\nA-W-CA-CALL-U,3\n";
    let (unknown, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap();
    let err = ExpectedInvoice::new(&rates)
        .build([&seed_usage(), &unknown])
        .unwrap_err();
    assert!(matches!(err, Error::ReportWithoutPeriod { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("the usage report 2 does not say its period"),
        "{err}"
    );

    let may = unknown.with_period(Period::month(2023, 5).unwrap()).unwrap();
    let err = ExpectedInvoice::new(&rates).build([&seed_usage(), &may]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid period: the usage report 2 covers 2023-05-01..2023-05-31, the billing period is 2023-04-13..2023-05-12"
    );
    let none: [&UsageReport; 0] = [];
    let err = ExpectedInvoice::new(&rates).build(none).unwrap_err();
    assert!(matches!(err, Error::NoReports { .. }), "{err}");
}
