#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Reconciliation (SPEC.md §6) on generated months: a month against itself (whole or split into
//! the partner's and the sub-partners' reports, computed or read back from CSV) is clean, planted
//! discrepancies are found exactly, and the invoice checks hold against the `ExpectedInvoice`.

use std::sync::OnceLock;

use proptest::prelude::*;
use wholesale_billing::synthetic::{GeneratorConfig, PlantedDiscrepancy, generate, plant_discrepancies};
use wholesale_billing::{
    AssignmentLedger, Currency, Decimal, Error, ExpectedInvoice, FindingClass, LineKind, LoadMode, Money, Period,
    Quantity, ReadOptions, Reconciler, Reconciliation, ReportLevel, ReportOptions, Scope, UsageReport, WholesaleRate,
    WholesaleRateCard,
};

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

struct Month {
    ledger: AssignmentLedger,
    /// The whole subscription's USER report.
    whole: UsageReport,
    rates: WholesaleRateCard,
}

fn month(seed: u64, customers: u32, subscribers: u64, sub_partners: u16) -> Month {
    let config = GeneratorConfig {
        seed,
        customers,
        subscribers,
        sub_partners,
        month: may(),
        catalog: wholesale_billing::Catalog::default(),
        order: Default::default(),
    };
    let mut csv = Vec::new();
    let generated = generate(&config, &mut csv, &mut |_| {}).unwrap();
    let (ledger, _) = AssignmentLedger::from_csv(csv.as_slice(), generated.organisation, LoadMode::Strict).unwrap();
    let whole = ledger
        .usage_report(may(), &ReportOptions::new(ReportLevel::User).scope(Scope::Subscription))
        .unwrap();
    // Every SKU of the catalog (placeholders included) gets a rate, 5.00 to 10.50.
    let mut rates = WholesaleRateCard::new(Currency::USD);
    for (i, entry) in ledger.organisation().catalog.entries().iter().enumerate() {
        let rate = Decimal::new(500 + 111 * i as i64, 2);
        if rates.get(&entry.sku).is_none() {
            rates.insert(WholesaleRate::new(entry.sku.clone(), rate)).unwrap();
        }
    }
    Month { ledger, whole, rates }
}

/// A small month shared by the property tests.
fn small() -> &'static Month {
    static SMALL: OnceLock<Month> = OnceLock::new();
    SMALL.get_or_init(|| month(2024, 40, 600, 3))
}

/// The partner's scope, then every sub-partner's.
fn scopes(m: &Month) -> Vec<Scope> {
    let mut scopes = vec![Scope::Partner];
    scopes.extend(
        m.ledger
            .organisation()
            .sub_partners
            .iter()
            .map(|sp| Scope::SubPartner(sp.org_id.clone())),
    );
    scopes
}

/// The partner's report and every sub-partner's.
fn split(m: &Month) -> Vec<UsageReport> {
    scopes(m)
        .into_iter()
        .map(|scope| {
            m.ledger
                .usage_report(may(), &ReportOptions::new(ReportLevel::User).scope(scope))
                .unwrap()
        })
        .collect()
}

fn read_back(report: &UsageReport) -> UsageReport {
    let mut csv = Vec::new();
    report.write_csv(&mut csv).unwrap();
    UsageReport::read_csv(csv.as_slice(), &ReadOptions::default())
        .unwrap()
        .0
        .with_period(may())
        .unwrap()
}

/// (class, customer, subscriber, SKU, expected SKU, expected, actual).
type Key = (FindingClass, String, String, String, Option<String>, Quantity, Quantity);

fn keys(r: &Reconciliation) -> Vec<Key> {
    r.findings
        .iter()
        .map(|f| {
            (
                f.class,
                f.customer_org_id.clone(),
                f.subscriber_id.clone(),
                f.sku.clone(),
                f.expected_sku.clone(),
                Quantity::try_from_decimal(f.expected).unwrap(),
                Quantity::try_from_decimal(f.actual).unwrap(),
            )
        })
        .collect()
}

fn planted_keys(planted: &[PlantedDiscrepancy]) -> Vec<Key> {
    planted
        .iter()
        .map(|p| {
            (
                p.class,
                p.customer_org_id.clone(),
                p.subscriber_id.clone(),
                p.sku.clone(),
                p.expected_sku.clone(),
                p.expected,
                p.actual,
            )
        })
        .collect()
}

#[test]
fn a_month_against_itself_whole_split_or_read_back_is_clean() {
    let m = month(7, 60, 1_500, 4);
    let options = Reconciler::new(&m.rates);
    let parts = split(&m);
    assert_eq!(parts.len(), 5);
    assert!(
        parts.iter().filter(|p| !p.is_empty()).count() >= 3,
        "the partner and sub-partners have usage"
    );
    let invoice = ExpectedInvoice::new(&m.rates).build(&parts).unwrap();
    let options = options.invoice(&invoice);

    let itself = options.run(&m.whole, [&m.whole]).unwrap();
    assert!(itself.is_clean(), "{:?}", itself.findings.first());
    let against_split = options.run(&m.whole, &parts).unwrap();
    assert!(against_split.is_clean(), "{:?}", against_split.findings.first());
    // Read back from CSV, every report has its own string table: texts are compared, not symbols.
    let read: Vec<UsageReport> = parts.iter().map(read_back).collect();
    let against_read = options.run(&m.whole, &read).unwrap();
    assert!(against_read.is_clean(), "{:?}", against_read.findings.first());
    let read_whole = read_back(&m.whole);
    let reversed = options.run(&read_whole, parts.iter().rev()).unwrap();
    assert!(reversed.is_clean());
    assert_eq!(
        itself.summary().unwrap().to_string(),
        "reconciliation 2024-05-01..2024-05-31: clean, no findings\n"
    );

    // Leaving the largest sub-partner's report out makes every one of its rows missing.
    let (largest, _) = parts.iter().enumerate().skip(1).max_by_key(|(_, p)| p.len()).unwrap();
    let others = parts.iter().enumerate().filter(|(i, _)| *i != largest).map(|(_, p)| p);
    let without = Reconciler::new(&m.rates).run(&m.whole, others).unwrap();
    let mut missing: Vec<(&str, &str, &str)> = parts[largest]
        .rows()
        .map(|r| (r.customer_org_id, r.subscriber_id, r.sku))
        .collect();
    missing.dedup();
    assert_eq!(without.findings.len(), missing.len());
    assert!(
        without
            .findings
            .iter()
            .all(|f| f.class == FindingClass::MissingFromVendor)
    );
}

#[test]
fn reports_of_another_period_are_refused() {
    let m = small();
    let june = Period::month(2024, 6).unwrap();
    let options = ReportOptions::new(ReportLevel::User).scope(Scope::Subscription);
    let of_june = m.ledger.usage_report(june, &options).unwrap();
    let err = Reconciler::new(&m.rates)
        .run(&m.whole, [&m.whole, &of_june])
        .unwrap_err();
    assert!(matches!(err, Error::PeriodMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "invalid period: the vendor report 2 covers 2024-06-01..2024-06-30, the billing period \
         is 2024-05-01..2024-05-31"
    );
    // A report read back from CSV carries no period until it is given one, checked against its
    // rows' dates.
    let mut csv = Vec::new();
    m.whole.write_csv(&mut csv).unwrap();
    let (read, _) = UsageReport::read_csv(&csv[..], &ReadOptions::default()).unwrap();
    let err = Reconciler::new(&m.rates).run(&m.whole, [&read]).unwrap_err();
    assert!(matches!(err, Error::ReportWithoutPeriod { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("the vendor report 1 does not say its period, which reconciliation needs"),
        "{err}"
    );
    let of_may = read.clone().with_period(may()).unwrap();
    assert!(Reconciler::new(&m.rates).run(&m.whole, [&of_may]).unwrap().is_clean());
    let err = read.clone().with_period(june).unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "invalid period: the usage report has {} rows outside 2024-06-01..2024-06-30: row 1 (",
            read.len()
        )),
        "{text}"
    );
}

#[test]
fn every_planted_kind_is_found_on_a_generated_month() {
    let m = small();
    let (vendor, planted) = plant_discrepancies(&m.whole, 99, 12).unwrap();
    assert_eq!(planted.len(), 12);
    for class in [
        FindingClass::MissingFromVendor,
        FindingClass::UnexpectedVendorUsage,
        FindingClass::QuantityMismatch,
        FindingClass::SkuMismatch,
    ] {
        assert_eq!(planted.iter().filter(|p| p.class == class).count(), 3, "{class}");
    }
    let result = Reconciler::new(&m.rates).run(&m.whole, [&vendor]).unwrap();
    assert_eq!(keys(&result), planted_keys(&planted));
    for f in &result.findings {
        assert!(!f.customer_external_id.is_empty(), "{f:?}");
        assert!(!f.detail.is_empty());
        assert_eq!(f.money_impact.currency(), Currency::USD);
        // The impact has the sign of what the vendor bills more (or less).
        if f.class != FindingClass::SkuMismatch {
            assert_eq!(
                f.money_impact.amount().is_sign_negative() && !f.money_impact.amount().is_zero(),
                f.difference.is_sign_negative() && !f.money_impact.amount().is_zero(),
                "{f:?}"
            );
        }
    }
    // Read back from CSV, the planted report gives the same findings.
    let read = Reconciler::new(&m.rates).run(&m.whole, [&read_back(&vendor)]).unwrap();
    assert_eq!(read, result);
}

#[test]
fn tolerance_suppresses_planted_quantity_mismatches_within_it() {
    let m = small();
    let (vendor, planted) = plant_discrepancies(&m.whole, 5, 16).unwrap();
    let largest = planted
        .iter()
        .filter(|p| p.class == FindingClass::QuantityMismatch)
        .map(|p| (p.actual.ten_thousandths() - p.expected.ten_thousandths()).abs())
        .max()
        .unwrap();
    let within = Reconciler::new(&m.rates).tolerance(Quantity::from_ten_thousandths(largest));
    let result = within.run(&m.whole, [&vendor]).unwrap();
    assert_eq!(result.of_class(FindingClass::QuantityMismatch).count(), 0);
    assert_eq!(result.findings.len(), 12, "the other kinds ignore the tolerance");
    let below = Reconciler::new(&m.rates).tolerance(Quantity::from_ten_thousandths(largest - 1));
    let result = below.run(&m.whole, [&vendor]).unwrap();
    assert_eq!(result.of_class(FindingClass::QuantityMismatch).count(), 1);
}

#[test]
fn invoice_checks_against_the_expected_vendor_invoice() {
    let m = small();
    let parts = split(m);
    let invoice = ExpectedInvoice::new(&m.rates)
        .tax_percent(Decimal::new(22, 0))
        .build(&parts)
        .unwrap();
    let total = invoice.total().unwrap();
    let stated = Reconciler::new(&m.rates).stated_total(total);
    let clean = stated.invoice(&invoice).run(&m.whole, &parts).unwrap();
    assert!(clean.is_clean(), "{:?}", clean.findings);
    // Through the invoice CSV and back.
    let mut csv = Vec::new();
    invoice.write_csv(&mut csv).unwrap();
    let (read, _) = wholesale_billing::VendorInvoice::read_csv(csv.as_slice()).unwrap();
    assert!(stated.invoice(&read).run(&m.whole, &parts).unwrap().is_clean());

    // A line one cent off and a stated total that does not add up.
    let mut tampered = invoice.clone();
    let first = tampered.lines.iter_mut().find(|l| l.kind == LineKind::Usage).unwrap();
    let sku = first.sku.clone();
    first.extended = first
        .extended
        .checked_add(Money::parse("0.01", Currency::USD).unwrap())
        .unwrap();
    let wrong_total = Reconciler::new(&m.rates).stated_total(total);
    let result = wrong_total.invoice(&tampered).run(&m.whole, &parts).unwrap();
    let found: Vec<(FindingClass, &str, String)> = result
        .findings
        .iter()
        .map(|f| (f.class, f.sku.as_str(), f.difference.to_string()))
        .collect();
    // The stated total was the untampered one: the lines now add up to a cent more.
    assert_eq!(
        found,
        [
            (FindingClass::InvoiceArithmetic, sku.as_str(), "0.01".to_owned()),
            (FindingClass::InvoiceArithmetic, "TOTAL", "-0.01".to_owned()),
        ]
    );

    // A quantity billed for more usage than reported, its amount consistent with it.
    let mut more = invoice.clone();
    let line = more.lines.iter_mut().find(|l| l.kind == LineKind::Usage).unwrap();
    line.quantity += Decimal::new(1, 0);
    line.extended = Money::new((line.quantity * line.rate).round_dp(2), Currency::USD);
    let result = Reconciler::new(&m.rates).invoice(&more).run(&m.whole, &parts).unwrap();
    assert_eq!(result.findings.len(), 1, "{:?}", result.findings);
    let f = &result.findings[0];
    assert_eq!(f.class, FindingClass::InvoiceQuantityMismatch);
    assert_eq!(f.difference.to_string(), "1.0000");
    assert_eq!(f.money_impact.amount(), m.rates.rate(&f.sku).unwrap().rate.round_dp(2));

    // Planted usage differences show at the invoice too: the invoice follows the vendor reports.
    let (vendor, _) = plant_discrepancies(&m.whole, 3, 8).unwrap();
    let vendor_invoice = ExpectedInvoice::new(&m.rates).build([&vendor]).unwrap();
    let result = Reconciler::new(&m.rates)
        .invoice(&vendor_invoice)
        .run(&m.whole, [&vendor])
        .unwrap();
    assert_eq!(result.of_class(FindingClass::InvoiceQuantityMismatch).count(), 0);
    assert_eq!(result.findings.len(), 8);
    let against_expected = Reconciler::new(&m.rates)
        .invoice(&invoice)
        .run(&m.whole, [&vendor])
        .unwrap();
    assert!(against_expected.of_class(FindingClass::InvoiceQuantityMismatch).count() > 0);
}

#[test]
fn an_invoice_in_another_currency_is_refused() {
    let m = small();
    let invoice = ExpectedInvoice::new(&m.rates).build([&m.whole]).unwrap();
    let mut eur_rates = WholesaleRateCard::new(Currency::EUR);
    for rate in m.rates.rates() {
        eur_rates.insert(rate.clone()).unwrap();
    }
    let err = Reconciler::new(&eur_rates)
        .invoice(&invoice)
        .run(&m.whole, [&m.whole])
        .unwrap_err();
    assert!(matches!(err, Error::CurrencyMismatch { .. }), "{err}");
    assert_eq!(err.to_string(), "currency mismatch: expected EUR, found USD");
}

#[test]
fn csv_and_json_of_a_planted_month() {
    let m = small();
    let (vendor, planted) = plant_discrepancies(&m.whole, 11, 4).unwrap();
    let result = Reconciler::new(&m.rates).run(&m.whole, [&vendor]).unwrap();
    let mut out = Vec::new();
    result.write_csv(&mut out).unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        [
            "class",
            "customer_org_id",
            "customer_external_id",
            "subscriber_id",
            "sku",
            "expected_sku",
            "expected",
            "actual",
            "difference",
            "unit",
            "money_impact",
            "currency",
            "detail"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), planted.len());
    for (record, p) in records.iter().zip(&planted) {
        assert_eq!(&record[0], p.class.as_str());
        assert_eq!(&record[1], p.customer_org_id);
        assert_eq!(&record[3], p.subscriber_id);
        assert_eq!(&record[4], p.sku);
        assert_eq!(&record[5], p.expected_sku.as_deref().unwrap_or(""));
        assert_eq!(record[6].parse::<Quantity>().unwrap(), p.expected);
        assert_eq!(&record[9], "user_days");
        assert_eq!(&record[11], "USD");
    }
    let json: serde_json::Value = serde_json::from_str(&result.to_json().unwrap()).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), planted.len());
    for f in findings {
        for field in ["expected", "actual", "difference"] {
            assert!(f[field].is_string(), "{field} must be a string: {f}");
        }
        assert!(f["money_impact"]["amount"].is_string());
    }
    let summary = serde_json::to_value(result.summary().unwrap()).unwrap();
    assert_eq!(summary["findings"], planted.len());
    assert_eq!(summary["by_class"].as_array().unwrap().len(), 6);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever is planted is found, exactly: same classes, customers, subscribers, SKUs and
    /// quantities, and nothing else.
    #[test]
    fn planted_discrepancies_are_found_exactly(seed in any::<u64>(), count in 0usize..24) {
        let m = small();
        let (vendor, planted) = plant_discrepancies(&m.whole, seed, count).unwrap();
        prop_assert_eq!(planted.len(), count);
        let result = Reconciler::new(&m.rates).run(&m.whole, [&vendor]).unwrap();
        prop_assert_eq!(keys(&result), planted_keys(&planted));
        let summary = result.summary().unwrap();
        prop_assert_eq!(summary.findings, count);
        let net: Decimal = result.findings.iter().map(|f| f.money_impact.amount()).sum();
        prop_assert_eq!(summary.money_impact.amount(), net);
    }

    /// The same, on the vendor's side split into the partner's and the sub-partners' reports.
    #[test]
    fn planted_in_one_of_several_reports_is_found_exactly(seed in any::<u64>(), count in 1usize..8, which in 0usize..4) {
        let m = small();
        let mut parts = split(m);
        let which = which % parts.len();
        prop_assume!(!parts[which].is_empty());
        let (planted_part, planted) = plant_discrepancies(&parts[which], seed, count).unwrap();
        parts[which] = planted_part;
        let result = Reconciler::new(&m.rates).run(&m.whole, &parts).unwrap();
        prop_assert_eq!(keys(&result), planted_keys(&planted));
    }
}

#[test]
fn subscription_total_of_the_fetched_reports_is_the_engines_byte_for_byte() {
    let m = small();
    let csv = |r: &UsageReport| {
        let mut out = Vec::new();
        r.write_csv(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    for level in ReportLevel::ALL {
        // What a client gets: each organisation's report as CSV, read back (no period, no order).
        let parts: Vec<UsageReport> = scopes(m)
            .iter()
            .map(|scope| {
                let options = ReportOptions::new(level).scope(scope.clone());
                read_back(&m.ledger.usage_report(may(), &options).unwrap())
            })
            .collect();
        let whole = UsageReport::subscription_total(&parts).unwrap();
        let engine = m
            .ledger
            .usage_report(may(), &ReportOptions::new(level).scope(Scope::Subscription))
            .unwrap();
        assert_eq!(csv(&whole), csv(&engine), "{level}");
    }
}
