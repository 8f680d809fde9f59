//! Golden tests of customer invoices, sub-partner roll-ups and margins, computed by hand, and
//! properties: every document adds up to the cent, and user-days and user-months add up across
//! customers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use wholesale_billing::{
    BillTo, Billing, Currency, Decimal, Error, Invoice, LinePricing, Money, MonthlyBilling, Organisation, Period,
    PriceBook, ReadOptions, SubPartner, UsageReport, WholesaleRate, WholesaleRateCard,
};

const BOOK: &str = r#"
currency = "USD"
tax_percent = "10"

[skus."A-W-WXC-CALL-U"]
price = "12.00"
description = "Cloud Calling"

[skus."A-W-CA-CALL-U"]
tiers = "graduated"
bands = [{ up_to = "10", price = "6.00" }, { up_to = "50", price = "5.50" }, { price = "5.00" }]

[skus."A-W-WXE-CALL-U"]
tiers = "volume"
bands = [{ up_to = "10", price = "6.00" }, { up_to = "50", price = "5.50" }, { price = "5.00" }]

[customers.c3]
minimum_charge = "25"

[customers."CUST-4"]
unit_mode = "whole_units"

[customers.c5]
discount_percent = "10"

[sub_partners.sp-1]
skus."A-W-WXC-CALL-U" = { price = "9.00" }
"#;

fn org() -> Organisation {
    let mut org =
        Organisation::from_toml_str("[partner]\norg_id = \"p-1\"\nname = \"Acme\"\nsubscription_id = \"Sub1\"\n")
            .unwrap();
    org.sub_partners.push(SubPartner {
        org_id: "sp-1".into(),
        name: "Reseller One".into(),
        billing_start: None,
    });
    org
}

fn may() -> Period {
    Period::month(2024, 5).unwrap()
}

fn usage(rows: &[(&str, &str, &str, &str, &str, &str)]) -> UsageReport {
    let mut csv = String::from("PARTNER_ORG_ID,CUSTOMER_ORG_ID,CUSTOMER_EXTERNAL_ID,SUBSCRIBER_ID,SKU,QUANTITY\n");
    for (p, c, e, s, sku, q) in rows {
        csv.push_str(&format!("{p},{c},{e},{s},{sku},{q}\n"));
    }
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

fn rates(currency: Currency) -> WholesaleRateCard {
    let mut card = WholesaleRateCard::new(currency);
    for (sku, rate) in [("A-W-WXC-CALL-U", "8"), ("A-W-CA-CALL-U", "4"), ("A-W-WXE-CALL-U", "5")] {
        card.insert(WholesaleRate::new(sku, rate.parse().unwrap())).unwrap();
    }
    card
}

fn month() -> MonthlyBilling {
    let report = usage(&[
        // c1: 31 + 15.5 = 46.5 user-days / 31 = 1.5000 user-months × 12.00 = 18.00
        ("p-1", "c1", "CUST-1", "s1", "A-W-WXC-CALL-U", "31"),
        ("p-1", "c1", "CUST-1", "s2", "A-W-WXC-CALL-U", "15.5"),
        // c2: 372 user-days = 12 user-months on each tiered SKU
        ("p-1", "c2", "CUST-2", "s3", "A-W-CA-CALL-U", "186"),
        ("p-1", "c2", "CUST-2", "s4", "A-W-CA-CALL-U", "186"),
        ("p-1", "c2", "CUST-2", "s5", "A-W-WXE-CALL-U", "372"),
        // c3: 3.1 / 31 = 0.1 × 12 = 1.20, below the 25.00 minimum
        ("p-1", "c3", "CUST-3", "s6", "A-W-WXC-CALL-U", "3.1"),
        // CUST-4 (whole units): 0.5, 31 and 10 user-days
        ("p-1", "c4", "CUST-4", "s7", "A-W-WXC-CALL-U", "0.5"),
        ("p-1", "c4", "CUST-4", "s8", "A-W-WXC-CALL-U", "31"),
        ("p-1", "c4", "CUST-4", "s9", "A-W-WXC-CALL-U", "10"),
        // c5: 62 / 31 = 2 × 12 = 24.00, 10% discount
        ("p-1", "c5", "CUST-5", "s10", "A-W-WXC-CALL-U", "62"),
        // the sub-partner's customers: 93 user-days = 3 user-months at its price 9.00
        ("sp-1", "c6", "R-1", "s11", "A-W-WXC-CALL-U", "60"),
        ("sp-1", "c7", "R-2", "s12", "A-W-WXC-CALL-U", "33"),
    ]);
    let book = PriceBook::from_toml_str(BOOK).unwrap();
    Billing::new(&org(), &book)
        .wholesale(&rates(Currency::USD))
        .run(&report)
        .unwrap()
}

fn invoice<'a>(month: &'a MonthlyBilling, org_id: &str) -> &'a Invoice {
    month.invoices().find(|i| i.bill_to.org_id() == org_id).unwrap()
}

fn amounts(inv: &Invoice) -> [String; 5] {
    [inv.subtotal, inv.discount, inv.minimum_top_up, inv.tax, inv.total].map(|m| m.amount().to_string())
}

#[test]
fn flat_prorated_invoice() {
    let month = month();
    let c1 = invoice(&month, "c1");
    assert_eq!(
        c1.bill_to,
        BillTo::Customer {
            org_id: "c1".into(),
            external_id: "CUST-1".into()
        }
    );
    assert_eq!(c1.lines.len(), 1);
    assert_eq!(c1.lines[0].description, "Cloud Calling");
    assert_eq!(c1.lines[0].units.to_string(), "1.5000");
    assert_eq!(
        c1.lines[0].derivation,
        "46.5000 user-days / 31 days = 1.5000 user-months × 12.00 = 18.000000 → 18.00"
    );
    // tax 10% of 18.00 = 1.80
    assert_eq!(amounts(c1), ["18.00", "0.00", "0.00", "1.80", "19.80"]);
}

#[test]
fn graduated_and_volume_tiers() {
    let month = month();
    let c2 = invoice(&month, "c2");
    let by_sku = |sku: &str| c2.lines.iter().find(|l| l.sku == sku).unwrap();
    // graduated: 10 × 6.00 + 2 × 5.50 = 71.00
    let ca = by_sku("A-W-CA-CALL-U");
    assert_eq!(ca.units.to_string(), "12.0000");
    assert_eq!(ca.amount.amount().to_string(), "71.00");
    match &ca.pricing {
        LinePricing::Tiered { bands, .. } => {
            let used: Vec<(usize, String)> = bands.iter().map(|b| (b.band, b.units.to_string())).collect();
            assert_eq!(used, [(1, "10".to_owned()), (2, "2.0000".to_owned())]);
        }
        other => panic!("{other:?}"),
    }
    // volume: all 12 units in band 2 (≤ 50) at 5.50 = 66.00
    assert_eq!(by_sku("A-W-WXE-CALL-U").amount.amount().to_string(), "66.00");
    // 137.00 + 13.70 tax
    assert_eq!(amounts(c2), ["137.00", "0.00", "0.00", "13.70", "150.70"]);
}

#[test]
fn minimum_charge_tops_up_before_tax() {
    let month = month();
    // 1.20 → top-up 23.80 to 25.00; tax 2.50
    assert_eq!(
        amounts(invoice(&month, "c3")),
        ["1.20", "0.00", "23.80", "2.50", "27.50"]
    );
}

#[test]
fn whole_units_round_up_per_row() {
    let month = month();
    let c4 = invoice(&month, "c4");
    // ceil(0.5/31) + ceil(31/31) + ceil(10/31) = 1 + 1 + 1 = 3 units × 12 = 36.00
    // (prorated would be 41.5 / 31 = 1.3387 → 16.06)
    assert_eq!(c4.lines[0].units.to_string(), "3");
    assert_eq!(amounts(c4), ["36.00", "0.00", "0.00", "3.60", "39.60"]);
}

#[test]
fn discount_is_rounded_then_taxed() {
    let month = month();
    // 24.00 − 2.40 = 21.60; tax 2.16
    assert_eq!(
        amounts(invoice(&month, "c5")),
        ["24.00", "2.40", "0.00", "2.16", "23.76"]
    );
}

#[test]
fn sub_partner_roll_up_at_its_wholesale_price() {
    let month = month();
    assert_eq!(month.sub_partner_invoices.len(), 1);
    let sp = &month.sub_partner_invoices[0];
    assert_eq!(
        sp.bill_to,
        BillTo::SubPartner {
            org_id: "sp-1".into(),
            name: "Reseller One".into()
        }
    );
    // 93 user-days / 31 = 3 × 9.00 = 27.00; tax 2.70
    assert_eq!(amounts(sp), ["27.00", "0.00", "0.00", "2.70", "29.70"]);
    assert!(!month.customer_invoices.iter().any(|i| i.bill_to.org_id() == "c6"));
}

#[test]
fn margins_per_customer_sub_partner_and_sku() {
    let month = month();
    let margin = month.margin.as_ref().unwrap();
    let row = |dimension: &str, key: &str| {
        let r = margin
            .rows
            .iter()
            .find(|r| r.dimension == dimension && r.key == key)
            .unwrap();
        [r.revenue, r.cost, r.margin].map(|m| m.amount().to_string())
    };
    // c1: revenue 18.00, cost 1.5 × 8 = 12.00
    assert_eq!(row("customer", "c1"), ["18.00", "12.00", "6.00"]);
    // c2: revenue 137.00; cost 12 × 4 + 12 × 5 = 108.00
    assert_eq!(row("customer", "c2"), ["137.00", "108.00", "29.00"]);
    // c3: revenue is the net 25.00 (with the top-up); cost 0.1 × 8 = 0.80
    assert_eq!(row("customer", "c3"), ["25.00", "0.80", "24.20"]);
    // the sub-partner: 27.00 against 3 × 8 = 24.00
    assert_eq!(row("sub_partner", "sp-1"), ["27.00", "24.00", "3.00"]);
    // SKU A-W-CA-CALL-U: 71.00 against 48.00
    assert_eq!(row("sku", "A-W-CA-CALL-U"), ["71.00", "48.00", "23.00"]);
}

#[test]
fn currency_mismatch_and_missing_price_are_refused() {
    let report = usage(&[("p-1", "c1", "CUST-1", "s1", "A-W-WXC-CALL-U", "31")]);
    let book = PriceBook::from_toml_str(BOOK).unwrap();
    let err = Billing::new(&org(), &book)
        .wholesale(&rates(Currency::EUR))
        .run(&report)
        .unwrap_err();
    assert!(matches!(err, Error::CurrencyMismatch { .. }), "{err}");

    let report = usage(&[("p-1", "c1", "CUST-1", "s1", "A-W-WXM-MEET-U", "31")]);
    let err = Billing::new(&org(), &book).run(&report).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no price for SKU A-W-WXM-MEET-U in the price book (customer c1 / CUST-1), needed by line 2 of usage report 1"
    );
    assert!(matches!(&err, Error::MissingPrice { row: Some(row), .. } if row.line == 2));

    let report = usage(&[("sp-1", "c6", "R-1", "s1", "A-W-CA-CALL-U", "31")]);
    let err = Billing::new(&org(), &book).run(&report).unwrap_err();
    assert!(err.to_string().contains("sub-partner sp-1"), "{err}");

    let report = usage(&[("x-9", "c6", "R-1", "s1", "A-W-WXC-CALL-U", "31")]);
    let err = Billing::new(&org(), &book).run(&report).unwrap_err();
    assert!(
        err.to_string().contains("neither the partner nor a sub-partner"),
        "{err}"
    );
}

#[test]
fn per_location_lines_and_tiers() {
    let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY,LOCATION_ID\n\
               c1,s1,A-W-WXC-CALL-U,31,L1\nc1,s2,A-W-WXC-CALL-U,31,L2\nc1,s3,A-W-WXC-CALL-U,15.5,L2\n";
    let report = read(csv);
    let book = PriceBook::from_toml_str(BOOK).unwrap();
    let month = Billing::new(&org(), &book).per_location(true).run(&report).unwrap();
    let lines: Vec<(Option<&str>, String)> = month.customer_invoices[0]
        .lines
        .iter()
        .map(|l| (l.location_id.as_deref(), l.amount.amount().to_string()))
        .collect();
    // L1: 1 × 12 = 12.00; L2: 46.5 / 31 = 1.5 × 12 = 18.00
    assert_eq!(
        lines,
        [(Some("L1"), "12.00".to_owned()), (Some("L2"), "18.00".to_owned())]
    );

    let tiered = csv.replace("A-W-WXC-CALL-U", "A-W-CA-CALL-U");
    let report = read(&tiered);
    let err = Billing::new(&org(), &book).per_location(true).run(&report).unwrap_err();
    assert!(
        err.to_string().contains("per-location lines are not available"),
        "{err}"
    );
}

#[test]
fn invoice_json_and_csv() {
    let month = month();
    let json = serde_json::to_string(invoice(&month, "c1")).unwrap();
    assert!(
        json.contains(r#""total":{"amount":"19.80","currency":"USD"}"#),
        "{json}"
    );
    assert!(json.contains(r#""external_id":"CUST-1""#), "{json}");
    let mut csv = Vec::new();
    invoice(&month, "c1").write_csv(&mut csv).unwrap();
    let text = String::from_utf8(csv).unwrap();
    assert!(text.contains("external_id,CUST-1\n"), "{text}");
    assert!(text.contains("total,19.80\n"), "{text}");
    let mut summary = Vec::new();
    month.write_summary_csv(&mut summary).unwrap();
    assert_eq!(String::from_utf8(summary).unwrap().lines().count(), 1 + 6);
    // 19.80 + 150.70 + 27.50 + 39.60 + 23.76 + 29.70
    assert_eq!(month.grand_total().unwrap().to_string(), "291.06 USD");
}

fn check_adds_up(inv: &Invoice) {
    let lines = Money::sum(inv.lines.iter().map(|l| l.amount), inv.currency).unwrap();
    assert_eq!(inv.subtotal, lines);
    for m in [inv.subtotal, inv.discount, inv.minimum_top_up, inv.tax, inv.total] {
        assert!(m.is_rounded(), "{m}");
    }
    let total = inv.net().unwrap().checked_add(inv.tax).unwrap();
    assert_eq!(inv.total, total);
    assert!(!inv.total.is_negative());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random usage under random terms: every document adds up to the cent; Σ customer user-days
    /// equals the report's; Σ customer user-months is within half a unit of the 4th decimal per
    /// customer of the partner-level user-months.
    #[test]
    fn documents_add_up(
        rows in proptest::collection::vec((0usize..6, 0usize..3, 1u32..=310_000), 1..40),
        discount in 0u32..=100, tax in 0u32..=30, minimum in 0u32..200, whole in any::<bool>(),
    ) {
        let skus = ["A-W-WXC-CALL-U", "A-W-CA-CALL-U", "A-W-WXE-CALL-U"];
        let mut csv = String::from("CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n");
        for (i, (c, s, q)) in rows.iter().enumerate() {
            let q = Decimal::new(i64::from(*q), 4);
            csv.push_str(&format!("c{c},s{i},{},{q}\n", skus[*s]));
        }
        let report = read(&csv);
        let book = BOOK.replace(
            "tax_percent = \"10\"",
            &format!(
                "tax_percent = \"{tax}\"\ndiscount_percent = \"{discount}\"\nminimum_charge = \"{minimum}\"\n\
                 unit_mode = \"{}\"",
                if whole { "whole_units" } else { "prorated" }
            ),
        );
        let book = PriceBook::from_toml_str(&book).unwrap();
        let month = Billing::new(&org(), &book).run(&report).unwrap();
        for inv in month.invoices() {
            check_adds_up(inv);
        }
        for sku in skus {
            let days: Decimal = month.invoices().flat_map(|i| &i.lines).filter(|l| l.sku == sku)
                .map(|l| l.user_days.to_decimal()).sum();
            let reported = report.quantity_by_sku().unwrap().into_iter().find(|(s, _)| *s == sku)
                .map_or(Decimal::ZERO, |(_, q)| q.to_decimal());
            prop_assert_eq!(days, reported);
            if !whole {
                let months: Decimal = month.invoices().flat_map(|i| &i.lines).filter(|l| l.sku == sku)
                    .map(|l| l.units).sum();
                let partner = (reported / Decimal::from(31)).round_dp_with_strategy(
                    4, rust_decimal::RoundingStrategy::MidpointNearestEven);
                let customers = Decimal::from(month.customer_invoices.len() as u64);
                prop_assert!((months - partner).abs() <= Decimal::new(5, 5) * customers,
                    "{sku}: Σ customers {months} vs partner {partner}");
            }
        }
    }
}
