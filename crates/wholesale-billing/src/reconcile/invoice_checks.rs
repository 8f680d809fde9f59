//! The invoice checks: the invoice's usage quantities against the vendor reports, and the
//! invoice's own arithmetic.
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;

use super::{Finding, FindingClass, Reconciler};
use crate::checked::{self, Subject};
use crate::error::{Error, Result};
use crate::invoice::{LineKind, VendorInvoice, VendorInvoiceLine};
use crate::money::{Currency, Money};
use crate::quantity::QUANTITY_DECIMALS;
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;
use crate::time::Period;

fn mismatch(expected: Currency, found: Currency) -> Error {
    Error::CurrencyMismatch { expected, found }
}

/// The invoice, every line and the stated total must be in the rate card's currency, and the
/// invoice of the period when it says.
pub(super) fn check_currency(
    invoice: &VendorInvoice,
    currency: Currency,
    period: Period,
    options: &Reconciler<'_>,
) -> Result<()> {
    if invoice.currency != currency {
        return Err(mismatch(currency, invoice.currency));
    }
    if let Some(line) = invoice.lines.iter().find(|l| l.extended.currency() != currency) {
        return Err(mismatch(currency, line.extended.currency()));
    }
    if let Some(total) = options.stated_total.or(invoice.stated_total)
        && total.currency() != currency
    {
        return Err(mismatch(currency, total.currency()));
    }
    match invoice.period {
        Some(p) if p != period => Err(Error::PeriodMismatch {
            document: "vendor invoice".to_owned(),
            found: p,
            expected: period,
        }),
        _ => Ok(()),
    }
}

/// `value` with at least `decimals` places (`2` → `2.0000`), never fewer than it has.
fn with_scale(mut value: Decimal, decimals: u32) -> Decimal {
    if value.scale() < decimals {
        value.rescale(decimals);
    }
    value
}

/// An invoice finding without its money impact (zero) and detail yet; quantities carry at least 4
/// decimals, amounts at least the currency's.
fn invoice_finding(
    sku: &str,
    class: FindingClass,
    expected: Decimal,
    actual: Decimal,
    currency: Currency,
) -> Result<Finding> {
    let decimals = match class {
        FindingClass::InvoiceArithmetic => currency.minor_unit(),
        _ => QUANTITY_DECIMALS,
    };
    let difference = checked::sub(actual, expected, "invoiced − expected")
        .for_subject(|| format!("the {sku} line of the vendor invoice"))?;
    let (expected, actual, difference) = (
        with_scale(expected, decimals),
        with_scale(actual, decimals),
        with_scale(difference, decimals),
    );
    Ok(Finding {
        class,
        customer_org_id: String::new(),
        customer_external_id: String::new(),
        subscriber_id: String::new(),
        sku: sku.to_owned(),
        expected_sku: None,
        expected,
        actual,
        difference,
        unit: class.unit(),
        money_impact: Money::zero(currency),
        detail: String::new(),
    })
}

/// The invoice checks of SPEC.md §6, appended to `findings`.
pub(super) fn check_invoice(
    invoice: &VendorInvoice,
    vendor_days_by_sku: &[(String, Quantity)],
    rates: &WholesaleRateCard,
    period: Period,
    options: &Reconciler<'_>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let currency = rates.currency();
    let rounding = &options.rounding;
    let days = period.days();

    // A committed invoice bills the commitment and the overage, not usage lines: nothing to
    // compare quantities with.
    let has_usage_lines = invoice.lines.iter().any(|l| l.kind == LineKind::Usage);
    let committed = invoice.lines.iter().any(|l| l.kind == LineKind::CommittedSpend);
    if has_usage_lines || !committed {
        let billed = invoice.usage_quantity_by_sku()?;
        let mut reported: BTreeMap<&str, (Quantity, Decimal)> = BTreeMap::new();
        for (sku, user_days) in vendor_days_by_sku {
            let months = rounding
                .user_months(*user_days, period)
                .for_subject(|| format!("SKU {sku} of the vendor reports"))?;
            reported.insert(sku.as_str(), (*user_days, months));
        }
        let skus: BTreeSet<&str> = billed.keys().chain(reported.keys()).copied().collect();
        let zero = Decimal::new(0, QUANTITY_DECIMALS);
        let smallest = Decimal::new(1, QUANTITY_DECIMALS);
        for sku in skus {
            let actual = billed.get(sku).copied();
            let expected = reported.get(sku).copied();
            let mut finding = invoice_finding(
                sku,
                FindingClass::InvoiceQuantityMismatch,
                expected.map_or(zero, |(_, m)| m),
                actual.unwrap_or(zero),
                currency,
            )?;
            if finding.difference.abs() < smallest {
                continue;
            }
            let rate = rates.rate(sku)?.rate;
            let impact = checked::mul(finding.difference, rate, "user-months × wholesale rate")
                .for_subject(|| format!("the money impact of SKU {sku} of the vendor invoice"))?;
            finding.money_impact = rounding.line(impact, currency);
            finding.detail = match (actual, expected) {
                (Some(a), Some((user_days, m))) => format!(
                    "the invoice bills {a} user-months of {sku}, the vendor reports give {m} \
                     ({user_days} user-days over {days} days)"
                ),
                (Some(a), None) => format!("the invoice bills {a} user-months of {sku}, no vendor report has any"),
                (None, Some((user_days, m))) => format!(
                    "the vendor reports give {m} user-months of {sku} ({user_days} user-days over {days} days), \
                     the invoice has no usage line for it"
                ),
                (None, None) => continue,
            };
            findings.push(finding);
        }
    }

    for line in &invoice.lines {
        if let Some(finding) = line_arithmetic(line, currency, options)? {
            findings.push(finding);
        }
    }

    if let Some(stated) = options.stated_total.or(invoice.stated_total) {
        let sum = invoice.total()?;
        if stated.amount() != sum.amount() {
            let mut finding = invoice_finding(
                "TOTAL",
                FindingClass::InvoiceArithmetic,
                sum.amount(),
                stated.amount(),
                currency,
            )?;
            finding.money_impact = Money::new(finding.difference, currency);
            finding.detail = format!("the invoice states a total of {stated}, its lines add up to {sum}");
            findings.push(finding);
        }
    }
    Ok(())
}

/// A finding when the line's extended amount is not its quantity × rate, rounded to the minor
/// unit (tax lines under the tax rounding, every other line under the line rounding).
fn line_arithmetic(line: &VendorInvoiceLine, currency: Currency, options: &Reconciler<'_>) -> Result<Option<Finding>> {
    let mode = if line.kind == LineKind::Tax {
        options.rounding.tax
    } else {
        options.rounding.line
    };
    let product = checked::mul(line.quantity, line.rate, "quantity × rate").for_subject(|| match line.source_line {
        Some(n) => format!("vendor invoice line {n} ({})", line.sku),
        None => format!("the vendor invoice line of {}", line.sku),
    })?;
    let correct = mode.round(product, currency.minor_unit());
    let stated = line.extended.amount();
    if stated == correct {
        return Ok(None);
    }
    let mut finding = invoice_finding(&line.sku, FindingClass::InvoiceArithmetic, correct, stated, currency)?;
    finding.money_impact = Money::new(finding.difference, currency);
    let which = match line.source_line {
        Some(n) => format!("invoice line {n} ({})", line.sku),
        None => format!("the invoice line of {}", line.sku),
    };
    finding.detail = format!(
        "{which}: {} × {} = {} after rounding, the line says {}",
        line.quantity,
        line.rate,
        Money::new(correct, currency),
        line.extended
    );
    Ok(Some(finding))
}
