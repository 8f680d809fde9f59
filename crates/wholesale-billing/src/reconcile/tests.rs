//! Unit tests of the reconciliation: one golden case per class, money impacts computed by hand.

use rust_decimal::Decimal;

use super::*;
use crate::error::{Error, RowOrigin};
use crate::invoice::VendorInvoice;
use crate::invoice::{LineKind, VendorInvoiceLine};
use crate::money::RoundingMode;
use crate::money::{Money, RoundingPolicy};
use crate::rates::WholesaleRate;
use crate::rates::WholesaleRateCard;
use crate::report::{ReadOptions, ReportLevel, UsageReport};

const WXC: &str = "A-W-WXC-CALL-U";
const WXE: &str = "A-W-WXE-CALL-U";
const CA: &str = "A-W-CA-CALL-U";
const WXM: &str = "A-W-WXM-MEET-U";

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A report read from CSV, of May 2024.
fn report(csv: &str) -> UsageReport {
    report_of(csv, may())
}

/// A report read from CSV, of `period`.
fn report_of(csv: &str, period: Period) -> UsageReport {
    UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
        .unwrap()
        .0
        .with_period(period)
        .unwrap()
}

fn rates() -> WholesaleRateCard {
    let mut card = WholesaleRateCard::new(Currency::USD);
    for (sku, rate) in [(WXC, "8.00"), (WXE, "6.00"), (CA, "5.00"), (WXM, "9.00")] {
        card.insert(WholesaleRate::new(sku, d(rate))).unwrap();
    }
    card
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

const HEADER: &str = "CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,SUBSCRIBER_ID,SKU,QUANTITY,LOCATION_ID\n";

fn expected_report() -> UsageReport {
    report(&format!(
        "{HEADER}c1,CUST-1,s1,{WXC},31,L1\nc1,CUST-1,s2,{WXC},10,L1\nc1,CUST-1,s3,{WXE},15.5,L1\n\
         c2,CUST-2,s4,{WXC},31,L1\nc2,CUST-2,s6,{WXC},1,L1\nc2,CUST-2,s6,{WXE},2,L1\nc3,CUST-3,s7,{WXC},1,L1\n"
    ))
}

/// The vendor's side, split over a partner and a sub-partner report (rows in another order).
fn vendor_reports() -> (UsageReport, UsageReport) {
    let partner = report(&format!(
        "{HEADER}c1,CUST-1,s2,{WXC},10.5,L1\nc1,CUST-1,s1,{WXC},11,L2\nc1,CUST-1,s1,{WXC},20,L1\n\
         c3,CUST-3,s7,{WXC},1.0417,L1\n"
    ));
    let sub_partner = report(&format!(
        "{HEADER}c2,CUST-2,s4,{WXE},31,L1\nc2,VENDOR-EXT,s5,{CA},12.4,L1\nc2,CUST-2,s6,{CA},3,L1\n"
    ));
    (partner, sub_partner)
}

type Row<'a> = (
    FindingClass,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    String,
    String,
    String,
);

fn rows(r: &Reconciliation) -> Vec<Row<'_>> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.class,
                f.customer_org_id.as_str(),
                f.subscriber_id.as_str(),
                f.sku.as_str(),
                f.expected_sku.as_deref(),
                f.difference.to_string(),
                f.money_impact.amount().to_string(),
                f.customer_external_id.clone(),
            )
        })
        .collect()
}

#[test]
fn golden_usage_findings_of_every_class() {
    let (a, b) = vendor_reports();
    let result = Reconciler::new(&rates()).run(&expected_report(), [&a, &b]).unwrap();
    use FindingClass::*;
    let s = |x: &str| x.to_owned();
    assert_eq!(
        rows(&result),
        vec![
            // −15.5 days / 31 × 6.00 = −3.00
            (
                MissingFromVendor,
                "c1",
                "s3",
                WXE,
                None,
                s("-15.5000"),
                s("-3.00"),
                s("CUST-1")
            ),
            // s6: WXC and WXE expected only, CA vendor only: WXC pairs with CA, WXE is missing.
            // −2 / 31 × 6.00 = −0.387 → −0.39
            (
                MissingFromVendor,
                "c2",
                "s6",
                WXE,
                None,
                s("-2.0000"),
                s("-0.39"),
                s("CUST-2")
            ),
            // 12.4 / 31 × 5.00 = 2.00; the external id of the vendor's row (the partner has none)
            (
                UnexpectedVendorUsage,
                "c2",
                "s5",
                CA,
                None,
                s("12.4000"),
                s("2.00"),
                s("VENDOR-EXT")
            ),
            // 0.5 / 31 × 8.00 = 0.129 → 0.13 (s1 is 20 + 11 over two locations: no finding)
            (
                QuantityMismatch,
                "c1",
                "s2",
                WXC,
                None,
                s("0.5000"),
                s("0.13"),
                s("CUST-1")
            ),
            // 0.0417 / 31 × 8.00 = 0.0108 → 0.01
            (
                QuantityMismatch,
                "c3",
                "s7",
                WXC,
                None,
                s("0.0417"),
                s("0.01"),
                s("CUST-3")
            ),
            // 31 / 31 × 6.00 − 31 / 31 × 8.00 = −2.00
            (
                SkuMismatch,
                "c2",
                "s4",
                WXE,
                Some(WXC),
                s("0.0000"),
                s("-2.00"),
                s("CUST-2")
            ),
            // 3 / 31 × 5.00 − 1 / 31 × 8.00 = 7 / 31 = 0.2258 → 0.23
            (
                SkuMismatch,
                "c2",
                "s6",
                CA,
                Some(WXC),
                s("2.0000"),
                s("0.23"),
                s("CUST-2")
            ),
        ]
    );
    let sku_mismatch = &result.findings[6];
    assert_eq!((sku_mismatch.expected, sku_mismatch.actual), (d("1.0000"), d("3.0000")));
    assert_eq!(sku_mismatch.unit, FindingUnit::UserDays);
    assert_eq!(
        sku_mismatch.detail,
        "the vendor reports subscriber s6 of customer c2 under A-W-CA-CALL-U (3.0000 user-days), \
         the partner's data under A-W-WXC-CALL-U (1.0000 user-days)"
    );
    assert_eq!(
        result.findings[0].detail,
        "the partner's data has 15.5000 user-days of A-W-WXE-CALL-U for subscriber s3 of customer c1, no vendor report has any"
    );
    assert!(!result.is_clean());
    let summary = result.summary().unwrap();
    assert_eq!(summary.findings, 7);
    assert_eq!(summary.money_impact.to_string(), "-3.02 USD");
    let counts: Vec<(FindingClass, usize, String)> = summary
        .by_class
        .iter()
        .map(|c| (c.class, c.count, c.money_impact.amount().to_string()))
        .collect();
    assert_eq!(
        counts,
        vec![
            (MissingFromVendor, 2, s("-3.39")),
            (UnexpectedVendorUsage, 1, s("2.00")),
            (QuantityMismatch, 2, s("0.14")),
            (SkuMismatch, 2, s("-1.77")),
            (InvoiceQuantityMismatch, 0, s("0.00")),
            (InvoiceArithmetic, 0, s("0.00")),
        ]
    );
    let customers: Vec<(&str, &str, usize, String)> = summary
        .by_customer
        .iter()
        .map(|c| {
            (
                c.customer_org_id.as_str(),
                c.customer_external_id.as_str(),
                c.count,
                c.money_impact.amount().to_string(),
            )
        })
        .collect();
    assert_eq!(
        customers,
        vec![
            ("c1", "CUST-1", 2, s("-2.87")),
            ("c2", "CUST-2", 4, s("-0.16")),
            ("c3", "CUST-3", 1, s("0.01"))
        ]
    );
    let skus: Vec<(&str, usize)> = summary.by_sku.iter().map(|s| (s.sku.as_str(), s.count)).collect();
    assert_eq!(skus, vec![(CA, 2), (WXC, 2), (WXE, 3)]);
    let text = summary.to_string();
    assert!(
        text.starts_with("reconciliation 2024-05-01..2024-05-31: 7 finding(s), net money impact -3.02 USD\n"),
        "{text}"
    );
    assert!(text.contains("missing_from_vendor"), "{text}");
    assert!(text.contains("CUST-1 (c1)"), "{text}");
    assert_eq!(result.to_string(), text);
}

#[test]
fn vendor_reports_in_any_order_give_the_same_findings() {
    let (a, b) = vendor_reports();
    let expected = expected_report();
    let forward = Reconciler::new(&rates()).run(&expected, [&a, &b]).unwrap();
    let backward = Reconciler::new(&rates()).run(&expected, [&b, &a]).unwrap();
    assert_eq!(forward, backward);
}

#[test]
fn pairing_is_in_sku_order_and_leftovers_are_unexpected() {
    let expected = report(&format!("{HEADER}c,,s,{WXE},1,\n"));
    let vendor = report(&format!("{HEADER}c,,s,{WXM},2,\nc,,s,{CA},3,\n"));
    let result = Reconciler::new(&rates()).run(&expected, [&vendor]).unwrap();
    let got: Vec<(FindingClass, &str, Option<&str>)> = result
        .findings
        .iter()
        .map(|f| (f.class, f.sku.as_str(), f.expected_sku.as_deref()))
        .collect();
    // Vendor-only SKUs in order: A-W-CA-CALL-U, A-W-WXM-MEET-U; the first pairs with A-W-WXE-CALL-U.
    assert_eq!(
        got,
        vec![
            (FindingClass::UnexpectedVendorUsage, WXM, None),
            (FindingClass::SkuMismatch, CA, Some(WXE)),
        ]
    );
}

#[test]
fn tolerance_suppresses_quantity_mismatches_within_it_only() {
    let (a, b) = vendor_reports();
    let rates = rates();
    let options = Reconciler::new(&rates).tolerance("0.5".parse().unwrap());
    let result = options.run(&expected_report(), [&a, &b]).unwrap();
    assert_eq!(
        result.of_class(FindingClass::QuantityMismatch).count(),
        0,
        "0.5 and 0.0417 are within"
    );
    assert_eq!(result.findings.len(), 5, "missing, unexpected and SKU findings stay");
    let options = Reconciler::new(&rates).tolerance("0.4999".parse().unwrap());
    let result = options.run(&expected_report(), [&a, &b]).unwrap();
    let subs: Vec<&str> = result
        .of_class(FindingClass::QuantityMismatch)
        .map(|f| f.subscriber_id.as_str())
        .collect();
    assert_eq!(subs, ["s2"]);
    let negative = Reconciler::new(&rates).tolerance("-1".parse().unwrap());
    let err = negative.run(&expected_report(), [&a]).unwrap_err();
    assert!(matches!(err, Error::InvalidQuantity { .. }), "{err}");
}

#[test]
fn zero_quantities_are_no_usage() {
    let expected = report(&format!("{HEADER}c,,s,{WXC},0,\nc,,t,{WXC},1,\n"));
    let vendor = report(&format!(
        "{HEADER}c,,t,{WXC},0.5,L1\nc,,t,{WXC},0.5,L2\nc,,u,{WXE},0,\n"
    ));
    let result = Reconciler::new(&rates()).run(&expected, [&vendor]).unwrap();
    assert!(result.is_clean(), "{:?}", result.findings);
}

#[test]
fn the_line_rounding_rounds_money_impacts() {
    // 0.05 user-days / 10 days × 1.00 = 0.005: half-even 0.00, half-up 0.01.
    let mut card = WholesaleRateCard::new(Currency::USD);
    card.insert(WholesaleRate::new(WXC, d("1"))).unwrap();
    let ten = Period::from_dates("2024-05-01", "2024-05-10").unwrap();
    let expected = report_of(&format!("{HEADER}c,,s,{WXC},1,\n"), ten);
    let vendor = report_of(&format!("{HEADER}c,,s,{WXC},1.05,\n"), ten);
    let impact = |mode| {
        let options = Reconciler::new(&card).rounding(RoundingPolicy {
            line: mode,
            ..RoundingPolicy::default()
        });
        let r = options.run(&expected, [&vendor]).unwrap();
        r.findings[0].money_impact.to_string()
    };
    assert_eq!(impact(RoundingMode::HalfEven), "0.00 USD");
    assert_eq!(impact(RoundingMode::HalfUp), "0.01 USD");
}

#[test]
fn bad_inputs_are_refused() {
    let (a, _) = vendor_reports();
    let expected = expected_report();
    // A SKU without a rate, even when it matches: nothing is priced at zero silently.
    let mut card = WholesaleRateCard::new(Currency::USD);
    card.insert(WholesaleRate::new(WXC, d("8"))).unwrap();
    let err = Reconciler::new(&card).run(&expected, [&a]).unwrap_err();
    assert!(matches!(err, Error::MissingRate { .. }), "{err}");
    // No vendor report row has the SKU: the first expected row that needs the rate, by its line.
    assert_eq!(
        err.row(),
        Some(&RowOrigin {
            report: "expected usage report",
            file: 0,
            line: 4,
        })
    );
    assert_eq!(
        err.to_string(),
        "no wholesale rate for SKU A-W-WXE-CALL-U, needed by line 4 of expected usage report 1 \
         (the rate card has A-W-WXC-CALL-U)"
    );
    // A vendor row needs it: the vendor's row is named (the sub-partner's report is the second;
    // A-W-CA-CALL-U, the first SKU in text order without a rate, is on its line 3).
    let (_, b) = vendor_reports();
    let err = Reconciler::new(&card).run(&expected, [&a, &b]).unwrap_err();
    let row = err.row().copied();
    assert_eq!(
        row,
        Some(RowOrigin {
            report: "vendor report",
            file: 1,
            line: 3,
        }),
        "{err}"
    );
    // Not a USER report.
    let customer = a.aggregate(ReportLevel::Customer).unwrap();
    let err = Reconciler::new(&rates()).run(&expected, [&customer]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "wrong report level: the vendor report 1 is a CUSTOMER report; reconciliation takes a USER report"
    );
    let err = Reconciler::new(&rates()).run(&customer, [&a]).unwrap_err();
    assert!(
        err.to_string()
            .contains("the expected usage report is a CUSTOMER report"),
        "{err}"
    );
}

fn line(sku: &str, kind: LineKind, quantity: &str, rate: &str, extended: &str) -> VendorInvoiceLine {
    VendorInvoiceLine {
        sku: sku.to_owned(),
        description: String::new(),
        kind,
        period: None,
        quantity: d(quantity),
        rate: d(rate),
        extended: Money::parse(extended, Currency::USD).unwrap(),
        user_days: None,
        days_in_period: None,
        source_line: None,
    }
}

fn invoice(lines: Vec<VendorInvoiceLine>) -> VendorInvoice {
    VendorInvoice {
        currency: Currency::USD,
        period: Some(may()),
        lines,
        overage_basis: Vec::new(),
        stated_total: None,
    }
}

#[test]
fn golden_invoice_findings() {
    let (a, b) = vendor_reports();
    // Vendor user-days: WXC 20 + 11 + 10.5 + 1.0417 = 42.5417 → 1.3723 user-months;
    // WXE 31 → 1.0000; CA 12.4 + 3 = 15.4 → 0.4968.
    let clean = invoice(vec![
        line(WXC, LineKind::Usage, "1.3723", "8", "10.98"),
        line(WXE, LineKind::Usage, "1.0000", "6", "6.00"),
        line(CA, LineKind::Usage, "0.4968", "5", "2.48"),
        line("SVS-FLEX-SUPT-BAS", LineKind::Other, "1", "0.00", "0.00"),
        line("TAX", LineKind::Tax, "1", "4.13", "4.13"),
    ]);
    let rates = rates();
    let options = Reconciler::new(&rates).stated_total(Money::parse("23.59", Currency::USD).unwrap());
    let result = options.invoice(&clean).run(&a, [&a, &b]).unwrap();
    let invoice_findings: Vec<_> = result
        .findings
        .iter()
        .filter(|f| f.class >= FindingClass::InvoiceQuantityMismatch)
        .collect();
    assert!(invoice_findings.is_empty(), "{invoice_findings:?}");

    let mut tampered = clean.clone();
    tampered.lines[0] = line(WXC, LineKind::Usage, "1.38", "8", "11.04"); // quantity, arithmetic right
    tampered.lines.remove(1); // WXE not billed
    tampered.lines[1].extended = Money::parse("2.49", Currency::USD).unwrap(); // CA arithmetic
    tampered.lines.push(line(WXM, LineKind::Usage, "2", "9", "18.00")); // billed, never reported
    tampered
        .lines
        .push(line("A-W-CS-MNTH", LineKind::CommittedSpend, "1", "100", "100.00"));
    // Lines add up to 11.04 + 2.49 + 0.00 + 4.13 + 18.00 + 100.00 = 135.66; the invoice says 135.63.
    let options = Reconciler::new(&rates).stated_total(Money::parse("135.63", Currency::USD).unwrap());
    let result = options.invoice(&tampered).run(&a, [&a, &b]).unwrap();
    let got: Vec<(FindingClass, &str, String, String, String, String, FindingUnit)> = result
        .findings
        .iter()
        .filter(|f| f.class >= FindingClass::InvoiceQuantityMismatch)
        .map(|f| {
            (
                f.class,
                f.sku.as_str(),
                f.expected.to_string(),
                f.actual.to_string(),
                f.difference.to_string(),
                f.money_impact.amount().to_string(),
                f.unit,
            )
        })
        .collect();
    let s = |x: &str| x.to_owned();
    assert_eq!(
        got,
        vec![
            // 0.0077 user-months × 8.00 = 0.0616 → 0.06
            (
                FindingClass::InvoiceQuantityMismatch,
                WXC,
                s("1.3723"),
                s("1.3800"),
                s("0.0077"),
                s("0.06"),
                FindingUnit::UserMonths
            ),
            (
                FindingClass::InvoiceQuantityMismatch,
                WXE,
                s("1.0000"),
                s("0.0000"),
                s("-1.0000"),
                s("-6.00"),
                FindingUnit::UserMonths
            ),
            (
                FindingClass::InvoiceQuantityMismatch,
                WXM,
                s("0.0000"),
                s("2.0000"),
                s("2.0000"),
                s("18.00"),
                FindingUnit::UserMonths
            ),
            (
                FindingClass::InvoiceArithmetic,
                CA,
                s("2.48"),
                s("2.49"),
                s("0.01"),
                s("0.01"),
                FindingUnit::Money
            ),
            (
                FindingClass::InvoiceArithmetic,
                "TOTAL",
                s("135.66"),
                s("135.63"),
                s("-0.03"),
                s("-0.03"),
                FindingUnit::Money
            ),
        ]
    );
    let total = result.findings.last().unwrap();
    assert_eq!(
        total.detail,
        "the invoice states a total of 135.63 USD, its lines add up to 135.66 USD"
    );
    assert_eq!((total.customer_org_id.as_str(), total.subscriber_id.as_str()), ("", ""));
    let ca = result
        .of_class(FindingClass::InvoiceArithmetic)
        .find(|f| f.sku == CA)
        .unwrap();
    assert_eq!(
        ca.detail,
        "the invoice line of A-W-CA-CALL-U: 0.4968 × 5 = 2.48 USD after rounding, the line says 2.49 USD"
    );
}

#[test]
fn a_committed_invoice_without_usage_lines_is_only_checked_for_arithmetic() {
    let (a, b) = vendor_reports();
    let committed = invoice(vec![
        line("A-W-CS-MNTH", LineKind::CommittedSpend, "1", "5000", "5000.00"),
        line("OVERAGE", LineKind::Overage, "1", "12.5", "12.50"),
    ]);
    let result = Reconciler::new(&rates()).invoice(&committed).run(&a, [&a, &b]).unwrap();
    assert!(
        result
            .findings
            .iter()
            .all(|f| f.class < FindingClass::InvoiceQuantityMismatch),
        "{:?}",
        result.findings
    );
    let mut bad = committed;
    bad.lines[1].extended = Money::parse("12.00", Currency::USD).unwrap();
    let result = Reconciler::new(&rates()).invoice(&bad).run(&a, [&a, &b]).unwrap();
    let arithmetic: Vec<&str> = result
        .of_class(FindingClass::InvoiceArithmetic)
        .map(|f| f.sku.as_str())
        .collect();
    assert_eq!(arithmetic, ["OVERAGE"]);
}

#[test]
fn invoice_currency_and_period_must_agree() {
    let (a, _) = vendor_reports();
    let mut eur = invoice(vec![]);
    eur.currency = Currency::EUR;
    let err = Reconciler::new(&rates()).invoice(&eur).run(&a, [&a]).unwrap_err();
    assert_eq!(err.to_string(), "currency mismatch: expected USD, found EUR");
    let mut mixed = invoice(vec![line(WXC, LineKind::Usage, "1", "8", "8.00")]);
    mixed.lines[0].extended = Money::parse("8.00", Currency::EUR).unwrap();
    assert!(matches!(
        Reconciler::new(&rates()).invoice(&mixed).run(&a, [&a]),
        Err(Error::CurrencyMismatch { .. })
    ));
    let rates = rates();
    let options = Reconciler::new(&rates).stated_total(Money::parse("1", Currency::GBP).unwrap());
    assert!(matches!(
        options.invoice(&invoice(vec![])).run(&a, [&a]),
        Err(Error::CurrencyMismatch { .. })
    ));
    let mut april = invoice(vec![]);
    april.period = Some(Period::month(2024, 4).unwrap());
    let err = Reconciler::new(&rates).invoice(&april).run(&a, [&a]).unwrap_err();
    assert!(matches!(err, Error::PeriodMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "invalid period: the vendor invoice covers 2024-04-01..2024-04-30, the billing period is 2024-05-01..2024-05-31"
    );
}

#[test]
fn csv_and_json_shapes() {
    let (a, b) = vendor_reports();
    let result = Reconciler::new(&rates()).run(&expected_report(), [&a, &b]).unwrap();
    let mut out = Vec::new();
    result.write_csv(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "class,customer_org_id,customer_external_id,subscriber_id,sku,expected_sku,expected,actual,difference,\
             unit,money_impact,currency,detail"
        )
    );
    assert_eq!(
        lines.nth(5),
        Some(
            "sku_mismatch,c2,CUST-2,s4,A-W-WXE-CALL-U,A-W-WXC-CALL-U,31.0000,31.0000,0.0000,user_days,-2.00,USD,\
             \"the vendor reports subscriber s4 of customer c2 under A-W-WXE-CALL-U (31.0000 user-days), \
             the partner's data under A-W-WXC-CALL-U (31.0000 user-days)\""
        )
    );
    assert_eq!(text.lines().count(), 8);

    let json: serde_json::Value = serde_json::from_str(&result.to_json().unwrap()).unwrap();
    assert_eq!(json["period"], "2024-05-01..2024-05-31");
    assert_eq!(json["currency"], "USD");
    let first = &json["findings"][0];
    assert_eq!(first["class"], "missing_from_vendor");
    assert_eq!(first["expected"], "15.5000");
    assert_eq!(first["actual"], "0.0000");
    assert_eq!(first["difference"], "-15.5000");
    assert_eq!(first["unit"], "user_days");
    assert_eq!(first["expected_sku"], serde_json::Value::Null);
    assert_eq!(first["money_impact"]["amount"], "-3.00");
    assert_eq!(json["findings"][5]["expected_sku"], WXC);
    let back: Finding = serde_json::from_value(first.clone()).unwrap();
    assert_eq!(back, result.findings[0]);
    let summary = serde_json::to_value(result.summary().unwrap()).unwrap();
    assert_eq!(summary["by_class"][0]["class"], "missing_from_vendor");
    assert_eq!(summary["money_impact"]["amount"], "-3.02");
}

#[cfg(feature = "synthetic")]
/// A generated month, large enough for the two-thread path of the unit-test build.
fn generated_month() -> (UsageReport, WholesaleRateCard) {
    use crate::ledger::{AssignmentLedger, LoadMode};
    use crate::report::{ReportOptions, Scope};
    use crate::synthetic::{GeneratorConfig, generate};
    let config = GeneratorConfig {
        seed: 3,
        customers: 30,
        subscribers: 400,
        sub_partners: 2,
        month: may(),
        catalog: crate::Catalog::default(),
        order: Default::default(),
    };
    let mut csv = Vec::new();
    let month = generate(&config, &mut csv, &mut |_| {}).unwrap();
    let (ledger, _) = AssignmentLedger::from_csv(csv.as_slice(), month.organisation, LoadMode::Strict).unwrap();
    let report = ledger
        .usage_report(may(), &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription))
        .unwrap();
    let mut card = WholesaleRateCard::new(Currency::USD);
    for (i, entry) in ledger.organisation().catalog.entries().iter().enumerate() {
        card.insert(WholesaleRate::new(
            entry.sku.clone(),
            Decimal::new(700 + i as i64 * 37, 2),
        ))
        .unwrap();
    }
    (report, card)
}

#[cfg(feature = "synthetic")]
#[test]
fn the_two_thread_merge_finds_what_was_planted_and_nothing_else() {
    let (report, card) = generated_month();
    assert!(report.len() * 2 >= matching_threshold());
    let options = Reconciler::new(&card).threads(2);
    assert!(options.run(&report, [&report]).unwrap().is_clean());
    // Shuffled rows take the sorted-permutation path; the result is the same.
    let mut shuffled = report.clone();
    shuffled.rows.reverse();
    shuffled.rows.swap(0, 7);
    assert!(options.run(&report, [&shuffled]).unwrap().is_clean());
    for seed in 0..20 {
        let (vendor, planted) = crate::synthetic::plant_discrepancies(&report, seed, 10).unwrap();
        for vendor in [vendor.clone(), {
            let mut v = vendor;
            v.rows.reverse();
            v
        }] {
            let result = options.run(&report, [&vendor]).unwrap();
            // One thread finds the same, byte for byte.
            let one = Reconciler::new(&card).threads(1).run(&report, [&vendor]).unwrap();
            let csv = |r: &Reconciliation| {
                let mut out = Vec::new();
                r.write_csv(&mut out).unwrap();
                out
            };
            assert_eq!(csv(&one), csv(&result));
            let found: Vec<_> = result
                .findings
                .iter()
                .map(|f| {
                    (
                        f.class,
                        f.customer_org_id.as_str(),
                        f.subscriber_id.as_str(),
                        f.sku.as_str(),
                    )
                })
                .collect();
            let want: Vec<_> = planted
                .iter()
                .map(|p| {
                    (
                        p.class,
                        p.customer_org_id.as_str(),
                        p.subscriber_id.as_str(),
                        p.sku.as_str(),
                    )
                })
                .collect();
            assert_eq!(found, want, "seed {seed}");
        }
    }
}

#[cfg(feature = "synthetic")]
fn matching_threshold() -> usize {
    matching::PARALLEL_ROWS
}

#[test]
fn unsorted_reports_with_shared_prefixes_are_walked_in_text_order() {
    // Customers and subscribers alike in their first 8 bytes: the prefix keys tie, the texts decide.
    let expected = report(&format!(
        "{HEADER}customer-a,,subscriber-2,{WXC},1,\ncustomer-a,,y,{WXC},5,\ncustomer-b,,subscriber-1,{WXC},2,\n\
         customer-b,,subscriber-3,{WXC},3,\ncustomer-b,,subscriber-30,{WXC},4,\ncustomer-b,,x,{WXC},6,\n\
         customer-b,,z,{WXC},7,\n"
    ));
    let vendor = report(&format!(
        "{HEADER}customer-b,,z,{WXC},7,\ncustomer-b,,subscriber-30,{WXC},4,\ncustomer-a,,y,{WXC},5,\n\
         customer-b,,subscriber-1,{WXC},2,\ncustomer-a,,subscriber-2,{WXC},1,\ncustomer-b,,x,{WXC},6,\n\
         customer-b,,subscriber-3,{WXC},3,\n"
    ));
    for (e, v) in [(&expected, &vendor), (&vendor, &expected), (&vendor, &vendor)] {
        let result = Reconciler::new(&rates()).run(e, [v]).unwrap();
        assert!(result.is_clean(), "{:?}", result.findings);
    }
}
