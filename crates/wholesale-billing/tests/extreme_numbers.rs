//! Extreme but well-formed numbers: every money and quantity path answers `Ok` or a located
//! [`Error::Overflow`], never a panic, and never a silently saturated sum.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use wholesale_billing::{
    Billing, Currency, Decimal, Error, ExpectedInvoice, MonthlyBilling, Organisation, Partner, Period, PriceBook,
    ReadOptions, UsageReport, VendorInvoice, WholesaleRate, WholesaleRateCard,
};

const MAX: &str = "79228162514264337593543950335";

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

fn org() -> Organisation {
    Organisation::new(Partner {
        org_id: "p-1".into(),
        name: "Acme".into(),
        subscription_id: "S".into(),
    })
    .unwrap()
}

/// A USER report of one customer `c1` with one row of `user_days` of `sku`.
fn usage(sku: &str, user_days: &str) -> UsageReport {
    let csv =
        format!("CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,SUBSCRIBER_ID,SKU,QUANTITY\nc1,CUST-1,s1,{sku},{user_days}\n");
    read(&csv)
}

/// A report read from CSV, of May 2024.
fn read(csv: &str) -> UsageReport {
    UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
        .unwrap()
        .0
        .with_period(may())
        .unwrap()
}

fn rates(sku: &str, rate: &str) -> WholesaleRateCard {
    let mut card = WholesaleRateCard::new(Currency::USD);
    card.insert(WholesaleRate::new(sku, rate.parse().unwrap())).unwrap();
    card
}

/// Runs `f`, turning a panic into a test failure that says so.
fn no_panic<T>(what: &str, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(value) => value,
        Err(_) => panic!("{what}: panicked instead of returning an error"),
    }
}

/// Bills May for one customer with 62 user-days (2 user-months) of `A-W-WXC-CALL-U` under `book`.
fn bill(book: &str, user_days: &str, wholesale: Option<&WholesaleRateCard>) -> Result<MonthlyBilling, Error> {
    let book = PriceBook::from_toml_str(book).unwrap();
    let usage = usage("A-W-WXC-CALL-U", user_days);
    no_panic("billing", || {
        Billing::new(&org(), &book).wholesale(wholesale).run(&usage)
    })
}

fn assert_overflow<T: std::fmt::Debug>(result: Result<T, Error>, needles: &[&str]) {
    let err = result.expect_err("an overflow error");
    assert!(matches!(err, Error::Overflow { .. }), "{err:?}");
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{text:?} lacks {needle:?}");
    }
}

// ---- the seven places of issue 9, reproduced through the public API ----

#[test]
fn flat_price_times_units() {
    let book = format!("currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"{MAX}\"\n");
    assert_overflow(bill(&book, "62", None), &["price × units", "A-W-WXC-CALL-U", "c1"]);
}

#[test]
fn volume_price_times_units() {
    let book = format!(
        "currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\ntiers = \"volume\"\nbands = [{{ up_to = \"1\", price = \"1\" }}, {{ price = \"{MAX}\" }}]\n"
    );
    assert_overflow(bill(&book, "62", None), &["price × units", "A-W-WXC-CALL-U", "c1"]);
}

#[test]
fn graduated_band_and_band_sum() {
    // One band: 2 units × MAX overflows in the band.
    let book = format!(
        "currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\ntiers = \"graduated\"\nbands = [{{ price = \"{MAX}\" }}]\n"
    );
    assert_overflow(bill(&book, "62", None), &["A-W-WXC-CALL-U", "c1"]);
    // Two bands of 1 unit at MAX each: each fits, their sum does not.
    let book = format!(
        "currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\ntiers = \"graduated\"\nbands = [{{ up_to = \"1\", price = \"{MAX}\" }}, {{ price = \"{MAX}\" }}]\n"
    );
    assert_overflow(bill(&book, "62", None), &["A-W-WXC-CALL-U", "c1"]);
}

#[test]
fn discount_of_a_huge_subtotal() {
    // 1 user-month at 2e28 with a 10 % discount: 2e28 × 10 does not fit.
    let book = "currency = \"USD\"\ndiscount_percent = \"10\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"20000000000000000000000000000\"\n";
    assert_overflow(bill(book, "31", None), &["discount", "c1"]);
}

#[test]
fn tax_of_a_huge_minimum_charge() {
    let book = "currency = \"USD\"\ntax_percent = \"20\"\nminimum_charge = \"4000000000000000000000000000\"\n\
                [skus.\"A-W-WXC-CALL-U\"]\nprice = \"1\"\n";
    assert_overflow(bill(book, "31", None), &["tax", "c1"]);
}

#[test]
fn margin_at_a_huge_wholesale_rate() {
    let book = "currency = \"USD\"\n[skus.\"A-W-WXC-CALL-U\"]\nprice = \"1\"\n";
    let card = rates("A-W-WXC-CALL-U", "79000000000000000000000000000");
    assert_overflow(
        bill(book, "62", Some(&card)),
        &["wholesale rate", "A-W-WXC-CALL-U", "c1"],
    );
}

#[test]
fn vendor_tax_at_a_huge_rate() {
    let usage = usage("A-W-WXC-CALL-U", "31");
    let card = rates("A-W-WXC-CALL-U", "30000000000000000000000000000");
    let result = no_panic("expected invoice", || {
        ExpectedInvoice::new(&card)
            .tax_percent(Decimal::ONE_HUNDRED)
            .build([&usage])
    });
    assert_overflow(result, &["tax", "vendor invoice"]);
}

/// Quantity sums no longer saturate: two vendor rows of 900000000000000 user-days are an error,
/// not 922337203685477.5807 user-days.
#[test]
fn vendor_rows_beyond_the_quantity_range() {
    let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
               c1,s1,A-W-WXC-CALL-U,900000000000000\nc1,s2,A-W-WXC-CALL-U,900000000000000\n";
    let report = read(csv);
    let card = rates("A-W-WXC-CALL-U", "1");
    let result = no_panic("expected invoice", || ExpectedInvoice::new(&card).build([&report]));
    assert_overflow(result, &["user-days", "A-W-WXC-CALL-U"]);
}

/// The vendor invoice read back from CSV: a total row beyond `Decimal` is refused, not summed.
#[test]
fn vendor_invoice_lines_whose_sum_overflows() {
    let csv = format!("sku,quantity,rate,extended_amount,currency\nA,1,{MAX},{MAX},USD\nB,1,{MAX},{MAX},USD\n");
    let result = no_panic("read_csv", || VendorInvoice::read_csv(csv.as_bytes()));
    let (invoice, _) = result.unwrap();
    assert_overflow(no_panic("total", || invoice.total()), &["vendor invoice"]);
}

// ---- property: every money path, extreme inputs, `Ok` that adds up or a located `Err` ----

use proptest::prelude::*;
use wholesale_billing::{
    FixedLine, Invoice, LineKind, Money, PriceBand, Quantity, Reconciler, SkuEntry, SkuPrice, SubPartner, Terms,
    TierKind, UnitMode, VendorInvoiceLine, price_units,
};

/// Decimals at the edges: `Decimal::MAX` and `MIN`, zero and negative zero at every scale, the
/// smallest steps (28 decimals), any 96-bit mantissa at any scale, and ordinary amounts.
fn extreme_decimal() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::MAX),
        Just(Decimal::MIN),
        Just(Decimal::ZERO),
        (0u32..=28).prop_map(|scale| Decimal::from_parts(0, 0, 0, true, scale)),
        Just(Decimal::new(1, 28)),
        Just(Decimal::new(-1, 28)),
        Just(Decimal::ONE_HUNDRED),
        Just(Decimal::from_parts(u32::MAX, u32::MAX, u32::MAX, false, 28)),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>(), 0u32..=28)
            .prop_map(|(lo, mid, hi, negative, scale)| Decimal::from_parts(lo, mid, hi, negative, scale)),
        (any::<i64>(), 0u32..=28).prop_map(|(m, scale)| Decimal::new(m, scale)),
        (0i64..100_000_000, 0u32..=4).prop_map(|(m, scale)| Decimal::new(m, scale)),
    ]
}

/// Quantities (user-days, never negative in a report) at the edges: the largest, tiny, zero,
/// any, and ordinary.
fn extreme_quantity() -> impl Strategy<Value = Quantity> {
    prop_oneof![
        Just(Quantity::from_ten_thousandths(i64::MAX)),
        Just(Quantity::from_ten_thousandths(1)),
        Just(Quantity::ZERO),
        Just("900000000000000".parse::<Quantity>().unwrap()),
        (0..=i64::MAX).prop_map(Quantity::from_ten_thousandths),
        (1i64..10_000_000).prop_map(Quantity::from_ten_thousandths),
    ]
}

fn sku_price() -> impl Strategy<Value = SkuPrice> {
    let band = (proptest::option::of(extreme_decimal()), extreme_decimal())
        .prop_map(|(up_to, price)| PriceBand { up_to, price });
    prop_oneof![
        extreme_decimal().prop_map(SkuPrice::Flat),
        (prop::bool::ANY, prop::collection::vec(band, 1..4)).prop_map(|(volume, bands)| SkuPrice::Tiered {
            kind: if volume { TierKind::Volume } else { TierKind::Graduated },
            bands,
        }),
    ]
}

const SKUS: [&str; 2] = ["A-W-WXC-CALL-U", "A-W-CA-CALL-U"];

/// A USER report: rows (partner org, customer, subscriber, SKU index, user-days).
fn report(rows: &[(&str, &str, &str, usize, Quantity)]) -> UsageReport {
    let mut csv = String::from("PARTNER_ORG_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,SUBSCRIBER_ID,SKU,QUANTITY\n");
    for (partner, customer, subscriber, sku, q) in rows {
        csv.push_str(&format!(
            "{partner},{customer},X-{customer},{subscriber},{},{q}\n",
            SKUS[*sku % 2]
        ));
    }
    read(&csv)
}

fn card(rates: &[Decimal], committed: Option<Decimal>) -> WholesaleRateCard {
    let mut card = WholesaleRateCard::new(Currency::USD);
    for (sku, rate) in SKUS.iter().zip(rates) {
        let mut rate = WholesaleRate::new(*sku, rate.abs());
        rate.committed_rate = committed.map(|c| c.abs());
        card.insert(rate).unwrap();
    }
    card
}

/// An overflow out of a whole computation names what it was computed for.
fn check_error(err: &Error) -> Result<(), TestCaseError> {
    if let Error::Overflow { operation, subject } = err {
        prop_assert!(!operation.is_empty());
        prop_assert!(!subject.is_empty(), "an overflow without a subject: {err}");
    }
    Ok(())
}

/// subtotal = Σ lines; total = subtotal − discount + top-up + tax.
fn check_invoice(inv: &Invoice) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        Money::sum(inv.lines.iter().map(|l| l.amount), inv.currency).unwrap(),
        inv.subtotal
    );
    let net = inv.net().unwrap();
    prop_assert_eq!(net.checked_add(inv.tax).unwrap().amount(), inv.total.amount());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// `price_units` under flat, volume and graduated prices: `Ok` with the bands adding up, or an
    /// overflow naming its operation.
    #[test]
    fn price_units_never_panics(price in sku_price(), units in extreme_decimal()) {
        match price_units(&price, units) {
            Ok((amount, bands)) => {
                if let SkuPrice::Tiered { kind: TierKind::Graduated, .. } = price {
                    let sum = bands.iter().try_fold(Decimal::ZERO, |acc, b| acc.checked_add(b.amount));
                    prop_assert_eq!(sum, Some(amount));
                }
            }
            Err(Error::Overflow { operation, .. }) => prop_assert!(!operation.is_empty()),
            Err(other) => prop_assert!(false, "not an overflow: {other}"),
        }
    }

    /// `Money` arithmetic: the checked result of `Decimal`, or an overflow.
    #[test]
    fn money_arithmetic_never_panics(a in extreme_decimal(), b in extreme_decimal()) {
        let (x, y) = (Money::new(a, Currency::USD), Money::new(b, Currency::USD));
        prop_assert_eq!(x.checked_add(y).ok().map(|m| m.amount()), a.checked_add(b));
        prop_assert_eq!(x.checked_sub(y).ok().map(|m| m.amount()), a.checked_sub(b));
        prop_assert_eq!(x.checked_mul(b).ok().map(|m| m.amount()), a.checked_mul(b));
        let sum = Money::sum([x, y, x], Currency::USD);
        prop_assert_eq!(sum.ok().map(|m| m.amount()), a.checked_add(b).and_then(|s| s.checked_add(a)));
    }

    /// Customer billing (prices, tiers, discount, minimum charge, tax, whole units) and the margin
    /// report: invoices that add up, or a located error.
    #[test]
    fn customer_billing_and_margins_never_panic(
        prices in prop::collection::vec(sku_price(), 2),
        reseller_price in sku_price(),
        (discount, tax, minimum) in (extreme_decimal(), extreme_decimal(), extreme_decimal()),
        whole_units in any::<bool>(),
        quantities in prop::collection::vec(extreme_quantity(), 4),
        rates in prop::collection::vec(extreme_decimal(), 2),
    ) {
        let usage = report(&[
            ("p-1", "c1", "s1", 0, quantities[0]),
            ("p-1", "c1", "s2", 1, quantities[1]),
            ("p-1", "c2", "s3", 0, quantities[2]),
            ("sp-1", "c3", "s4", 1, quantities[3]),
        ]);
        let mut org = org();
        org.sub_partners.push(SubPartner { org_id: "sp-1".into(), name: "Reseller".into(), billing_start: None });
        let entry = |price: &SkuPrice| SkuEntry { price: price.clone(), description: String::new() };
        let book = PriceBook {
            currency: Currency::USD,
            rounding: Default::default(),
            defaults: Terms {
                unit_mode: Some(if whole_units { UnitMode::WholeUnits } else { UnitMode::Prorated }),
                tax_percent: Some(tax),
                discount_percent: Some(discount),
                minimum_charge: Some(minimum),
                skus: SKUS.iter().zip(&prices).map(|(s, p)| ((*s).to_owned(), entry(p))).collect(),
            },
            customers: Default::default(),
            sub_partners: [("sp-1".to_owned(), Terms {
                skus: SKUS.iter().map(|s| ((*s).to_owned(), entry(&reseller_price))).collect(),
                ..Terms::default()
            })].into_iter().collect(),
        };
        let rates = card(&rates, None);
        for wholesale in [None, Some(&rates)] {
            match Billing::new(&org, &book).wholesale(wholesale).run(&usage) {
                Ok(month) => {
                    for inv in month.invoices() {
                        check_invoice(inv)?;
                    }
                    if let Some(margin) = &month.margin {
                        for row in &margin.rows {
                            prop_assert_eq!(row.revenue.checked_sub(row.cost).unwrap(), row.margin);
                        }
                    }
                }
                Err(e) => check_error(&e)?,
            }
        }
    }

    /// The vendor invoice (uncommitted, committed with overage, fixed lines, tax): lines that add
    /// up to a total its CSV states and reads back, or a located error.
    #[test]
    fn vendor_invoices_never_panic(
        quantities in prop::collection::vec(extreme_quantity(), 3),
        rates in prop::collection::vec(extreme_decimal(), 2),
        committed_rate in proptest::option::of(extreme_decimal()),
        commitment in proptest::option::of(extreme_decimal()),
        fixed in proptest::option::of((extreme_decimal(), extreme_decimal())),
        tax in proptest::option::of(extreme_decimal()),
    ) {
        let usage = report(&[
            ("p-1", "c1", "s1", 0, quantities[0]),
            ("p-1", "c1", "s2", 1, quantities[1]),
            ("sp-1", "c3", "s4", 0, quantities[2]),
        ]);
        let rates = card(&rates, committed_rate);
        let invoice = ExpectedInvoice::new(&rates)
            .committed(commitment.map(|m| Money::new(m, Currency::USD)))
            .fixed_lines(fixed.map(|(quantity, rate)| FixedLine {
                sku: "SVS-FLEX-SUPT-BAS".into(),
                description: String::new(),
                quantity,
                rate,
            }))
            .tax_percent(tax);
        match invoice.build([&usage]) {
            Ok(invoice) => {
                let Ok(total) = invoice.total() else {
                    // Lines that fit one by one but not summed: the total says so, located.
                    return check_error(&invoice.total().unwrap_err());
                };
                let by_kind = [LineKind::Usage, LineKind::CommittedSpend, LineKind::Overage, LineKind::Tax, LineKind::Other]
                    .into_iter()
                    .map(|k| invoice.total_of(k).unwrap());
                prop_assert_eq!(Money::sum(by_kind, Currency::USD).unwrap().amount(), total.amount());
                if let Some(overage) = invoice.lines.iter().find(|l| l.kind == LineKind::Overage) {
                    prop_assert!(!overage.extended.is_negative());
                }
                let mut csv = Vec::new();
                invoice.write_csv(&mut csv).unwrap();
                let (back, _) = VendorInvoice::read_csv(csv.as_slice()).unwrap();
                prop_assert_eq!(back.stated_total.map(|t| t.amount()), Some(total.amount()));
            }
            Err(e) => check_error(&e)?,
        }
    }

    /// The reconciliation's money impact (usage findings, invoice findings, the summary): findings
    /// whose impacts sum to the summary's, or a located error.
    #[test]
    fn reconciliation_never_panics(
        expected_days in prop::collection::vec(extreme_quantity(), 3),
        vendor_days in prop::collection::vec(extreme_quantity(), 3),
        rates in prop::collection::vec(extreme_decimal(), 2),
        (quantity, rate, extended) in (extreme_decimal(), extreme_decimal(), extreme_decimal()),
    ) {
        let expected = report(&[
            ("p-1", "c1", "s1", 0, expected_days[0]),
            ("p-1", "c1", "s2", 1, expected_days[1]),
            ("p-1", "c2", "s3", 0, expected_days[2]),
        ]);
        let vendor = report(&[
            ("p-1", "c1", "s1", 1, vendor_days[0]),
            ("p-1", "c1", "s2", 1, vendor_days[1]),
            ("p-1", "c2", "s3", 0, vendor_days[2]),
        ]);
        let rates = card(&rates, None);
        let line = VendorInvoiceLine {
            sku: SKUS[0].into(),
            description: String::new(),
            kind: LineKind::Usage,
            period: Some(may()),
            quantity,
            rate,
            extended: Money::new(extended, Currency::USD),
            user_days: None,
            days_in_period: None,
            source_line: Some(2),
        };
        let invoice = VendorInvoice {
            currency: Currency::USD,
            period: Some(may()),
            lines: vec![line],
            overage_basis: Vec::new(),
            stated_total: Some(Money::new(quantity, Currency::USD)),
        };
        for invoice in [None, Some(&invoice)] {
            match Reconciler::new(&rates).invoice(invoice).run(&expected, [&vendor]) {
                Ok(result) => match result.summary() {
                    Ok(summary) => {
                        let net = Money::sum(result.findings.iter().map(|f| f.money_impact), Currency::USD).unwrap();
                        prop_assert_eq!(summary.money_impact, net);
                    }
                    Err(e) => check_error(&e)?,
                },
                Err(e) => check_error(&e)?,
            }
        }
    }
}
