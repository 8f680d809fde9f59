//! The expected vendor invoice: what Cisco should bill for a period, from the usage reports and
//! the wholesale rate card ([`expected_vendor_invoice`]).
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Commitment, LineKind, VendorInvoice, VendorInvoiceLine, VendorInvoiceOptions};
use crate::catalog::COMMITTED_SPEND_SKU;
use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::money::Money;
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::report::UsageReport;
use crate::time::Period;

/// Refuses negative money where a price or an amount is expected (the commitment, a fixed line's
/// quantity or rate, the tax percentage) and a tax percentage above 100.
fn check_options(options: &VendorInvoiceOptions) -> Result<()> {
    if let Commitment::Committed { monthly } = &options.commitment
        && monthly.amount() < Decimal::ZERO
    {
        return Err(Error::NegativeCommitment { monthly: *monthly });
    }
    for line in &options.fixed_lines {
        for (what, value) in [("quantity", line.quantity), ("rate", line.rate)] {
            if value < Decimal::ZERO {
                return Err(Error::NegativeFixedLine {
                    sku: line.sku.clone(),
                    what,
                    value,
                });
            }
        }
    }
    if let Some(value) = options.tax_percent {
        let what = "the tax percentage";
        if value < Decimal::ZERO {
            return Err(Error::NegativeValue { what, value });
        }
        if value > Decimal::ONE_HUNDRED {
            return Err(Error::PercentAbove100 { what, value });
        }
    }
    Ok(())
}

/// Σ user-days per SKU over reports (any level: they agree per SKU).
fn user_days_by_sku<'a>(
    reports: impl IntoIterator<Item = &'a UsageReport>,
    period: Period,
) -> Result<BTreeMap<String, Quantity>> {
    let mut totals: BTreeMap<String, Quantity> = BTreeMap::new();
    for report in reports {
        report.check_period(period, "usage report")?;
        for (sku, q) in report.quantity_by_sku()? {
            let slot = totals.entry(sku.to_owned()).or_default();
            *slot = checked::add(*slot, q, "Σ user-days").for_subject(|| format!("SKU {sku} of the usage reports"))?;
        }
    }
    Ok(totals)
}

/// The invoice Cisco should send for `period`, from the usage of the whole subscription (the
/// partner's report and every sub-partner's) and the wholesale rate card (SPEC.md §5.1).
///
/// Uncommitted: per SKU, `QTY = round(Σ user-days / days in period, 4)`, `EXTENDED = round(QTY ×
/// RATE, minor unit)`. Committed: one `A-W-CS-MNTH` line of the monthly commitment and an
/// `OVERAGE` line `max(0, Σ round(QTY × committed rate) − commitment)`. Fixed lines as given; a
/// tax line when a tax percentage is set. The total is the sum of the rounded lines.
///
/// # Errors
/// [`Error::MissingRate`] for a SKU with usage but no rate (nothing is priced at zero silently),
/// naming the first row that needs it when the reports were read from CSV;
/// [`Error::PeriodMismatch`] or [`Error::RowsOutsidePeriod`] for a report of another period;
/// [`Error::CurrencyMismatch`] for a commitment in another currency than the rate card;
/// [`Error::NegativeCommitment`], [`Error::NegativeFixedLine`], [`Error::NegativeValue`] or
/// [`Error::PercentAbove100`] for options out of range.
///
/// ```
/// use wholesale_billing::{Currency, Decimal, Period, ReadOptions, UsageReport, VendorInvoiceOptions,
///     WholesaleRate, WholesaleRateCard, expected_vendor_invoice};
/// let csv = "SKU,QUANTITY\nA-W-CA-CALL-U,3162.75\n";   // 105.425 user-months over 30 days
/// let (report, _) = UsageReport::read_csv(csv.as_bytes(), &ReadOptions::default())?;
/// let mut rates = WholesaleRateCard::new(Currency::USD);
/// rates.insert(WholesaleRate::new("A-W-CA-CALL-U", Decimal::new(5, 0)))?;
/// let period = Period::from_dates("2023-04-13", "2023-05-12")?;
/// let invoice = expected_vendor_invoice([&report], period, &rates, &VendorInvoiceOptions::default())?;
/// assert_eq!(invoice.lines[0].quantity.to_string(), "105.4250");
/// assert_eq!(invoice.lines[0].extended.to_string(), "527.12 USD");
/// assert_eq!(invoice.total()?.to_string(), "527.12 USD");
/// # Ok::<(), wholesale_billing::Error>(())
/// ```
pub fn expected_vendor_invoice<'a>(
    usage: impl IntoIterator<Item = &'a UsageReport>,
    period: Period,
    rates: &WholesaleRateCard,
    options: &VendorInvoiceOptions,
) -> Result<VendorInvoice> {
    let currency = rates.currency();
    let rounding = &options.rounding;
    let days = period.days();
    check_options(options)?;
    let usage: Vec<&UsageReport> = usage.into_iter().collect();
    let user_days = user_days_by_sku(usage.iter().copied(), period)?;
    let mut lines = Vec::new();
    let mut basis = Vec::new();
    for (sku, days_used) in &user_days {
        if !days_used.is_positive() {
            continue;
        }
        let rate = rates
            .rate(sku)
            .map_err(|e| e.needed_by(UsageReport::first_row_of_sku(&usage, "usage report", sku)))?;
        let subject = || format!("SKU {sku} of the vendor invoice");
        let quantity = rounding.user_months(*days_used, period).for_subject(subject)?;
        let price = match options.commitment {
            Commitment::Uncommitted => rate.rate,
            Commitment::Committed { .. } => rate.committed_or_list(),
        };
        let amount = checked::mul(quantity, price, "user-months × rate").for_subject(subject)?;
        let line = VendorInvoiceLine {
            sku: sku.clone(),
            description: rate.description.clone(),
            kind: LineKind::Usage,
            period: Some(period),
            quantity,
            rate: price,
            extended: rounding.line(amount, currency),
            user_days: Some(*days_used),
            days_in_period: Some(days),
            source_line: None,
        };
        match options.commitment {
            Commitment::Uncommitted => lines.push(line),
            Commitment::Committed { .. } => basis.push(line),
        }
    }
    if let Commitment::Committed { monthly } = options.commitment {
        if monthly.currency() != currency {
            return Err(Error::CurrencyMismatch {
                expected: currency,
                found: monthly.currency(),
            });
        }
        let monthly = monthly.round(rounding.line);
        lines.push(VendorInvoiceLine {
            sku: COMMITTED_SPEND_SKU.to_owned(),
            description: "Committed spend, billed in advance".to_owned(),
            kind: LineKind::CommittedSpend,
            period: None,
            quantity: Decimal::ONE,
            rate: monthly.amount(),
            extended: monthly,
            user_days: None,
            days_in_period: None,
            source_line: None,
        });
        let subject = || "the overage of the vendor invoice".to_owned();
        let at_committed = Money::sum(basis.iter().map(|l| l.extended), currency).for_subject(subject)?;
        let over = at_committed.checked_sub(monthly).for_subject(subject)?;
        let overage = if over.is_negative() {
            Money::zero(currency)
        } else {
            over
        };
        lines.push(VendorInvoiceLine {
            sku: "OVERAGE".to_owned(),
            description: format!("Usage above the committed spend, {period}"),
            kind: LineKind::Overage,
            period: Some(period),
            quantity: Decimal::ONE,
            rate: overage.amount(),
            extended: overage,
            user_days: None,
            days_in_period: Some(days),
            source_line: None,
        });
    }
    for fixed in &options.fixed_lines {
        let amount = checked::mul(fixed.quantity, fixed.rate, "quantity × rate")
            .for_subject(|| format!("fixed line {} of the vendor invoice", fixed.sku))?;
        lines.push(VendorInvoiceLine {
            sku: fixed.sku.clone(),
            description: fixed.description.clone(),
            kind: LineKind::Other,
            period: Some(period),
            quantity: fixed.quantity,
            rate: fixed.rate,
            extended: rounding.line(amount, currency),
            user_days: None,
            days_in_period: None,
            source_line: None,
        });
    }
    if let Some(percent) = options.tax_percent {
        let subject = || "the vendor invoice".to_owned();
        let subtotal = Money::sum(lines.iter().map(|l| l.extended), currency).for_subject(subject)?;
        let tax = checked::percent_of(subtotal.amount(), percent, "subtotal × tax %").for_subject(subject)?;
        let tax = rounding.tax(tax, currency);
        lines.push(VendorInvoiceLine {
            sku: "TAX".to_owned(),
            description: format!("Tax {percent}%"),
            kind: LineKind::Tax,
            period: None,
            quantity: Decimal::ONE,
            rate: tax.amount(),
            extended: tax,
            user_days: None,
            days_in_period: None,
            source_line: None,
        });
    }
    Ok(VendorInvoice {
        currency,
        period: Some(period),
        lines,
        overage_basis: basis,
        stated_total: None,
    })
}
