//! Extreme but well-formed numbers: every money and quantity path answers `Ok` or a located
//! [`Error::Overflow`], never a panic, and never a silently saturated sum.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use wholesale_billing::{
    BillingOptions, Currency, Decimal, Error, MonthlyBilling, Organisation, Partner, Period, PriceBook, ReadOptions,
    UsageReport, VendorInvoice, VendorInvoiceOptions, WholesaleRate, WholesaleRateCard, bill_month,
    expected_vendor_invoice,
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
    UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())
        .unwrap()
        .0
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
    no_panic("bill_month", || {
        bill_month(&usage, &org(), &book, wholesale, may(), &BillingOptions::default())
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
    let options = VendorInvoiceOptions {
        tax_percent: Some(Decimal::ONE_HUNDRED),
        ..VendorInvoiceOptions::default()
    };
    let result = no_panic("expected_vendor_invoice", || {
        expected_vendor_invoice([&usage], may(), &card, &options)
    });
    assert_overflow(result, &["tax", "vendor invoice"]);
}

/// Quantity sums no longer saturate: two vendor rows of 900000000000000 user-days are an error,
/// not 922337203685477.5807 user-days.
#[test]
fn vendor_rows_beyond_the_quantity_range() {
    let csv = "CUSTOMER_ORG_ID,SUBSCRIBER_ID,SKU,QUANTITY\n\
               c1,s1,A-W-WXC-CALL-U,900000000000000\nc1,s2,A-W-WXC-CALL-U,900000000000000\n";
    let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default()).unwrap();
    let card = rates("A-W-WXC-CALL-U", "1");
    let result = no_panic("expected_vendor_invoice", || {
        expected_vendor_invoice([&report], may(), &card, &VendorInvoiceOptions::default())
    });
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
