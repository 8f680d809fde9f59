//! The margin report: revenue, wholesale cost and margin per customer, sub-partner and SKU, and
//! with minutes, the minutes' price against their cost per customer and sub-partner.
// Every sum, difference, product and quotient of money or quantities here goes through
// `crate::checked`: clippy refuses an operator that could panic or overflow.
#![deny(clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::{BillTo, Invoice};
use crate::checked::{self, Subject};
use crate::csvutil::csv_write_error;
use crate::error::{Error, Result};
use crate::money::{Currency, Money, RoundingPolicy};
use crate::quantity::Quantity;
use crate::rates::WholesaleRateCard;

/// Revenue, wholesale cost and margin of one customer, sub-partner or SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarginRow {
    /// `customer`, `sub_partner` or `sku`; with minutes also `customer_minutes` and
    /// `sub_partner_minutes` (the minutes alone: revenue = Σ the price tariff's summary amounts,
    /// the invoice's minutes lines before discount; cost = Σ the cost tariff's summary amounts).
    /// With minutes, a `customer` or `sub_partner` row's cost is its wholesale package cost plus
    /// its minutes cost (its revenue, the invoice's net amount, includes the minutes); a customer
    /// or sub-partner with a minutes cost but no invoice has a row of revenue 0.
    pub dimension: &'static str,
    /// Org id or SKU.
    pub key: String,
    /// External id, name or description.
    pub label: String,
    /// What the partner bills before tax: an invoice's net amount for customers and sub-partners;
    /// for SKUs, the sum of line amounts before invoice-level discounts and minimum-charge top-ups.
    pub revenue: Money,
    /// What Cisco bills the partner for it: `round(round(user-days / days, 4) × wholesale rate)` per SKU.
    pub cost: Money,
    /// Revenue − cost.
    pub margin: Money,
}

/// The month's margins per customer, per sub-partner and per SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MarginReport {
    /// The currency (price book and rate card must agree).
    pub currency: Currency,
    /// Rows: customers, then sub-partners, then (with minutes) customers' minutes and
    /// sub-partners' minutes, then SKUs.
    pub rows: Vec<MarginRow>,
}

impl MarginReport {
    /// Writes the margin report as CSV.
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv(&self, writer: impl Write) -> Result<()> {
        let mut w = csv::Writer::from_writer(writer);
        let map = |e: csv::Error| csv_write_error("writing the margin report", e);
        w.write_record(["dimension", "key", "label", "revenue", "cost", "margin", "currency"])
            .map_err(map)?;
        for r in &self.rows {
            w.write_record([
                r.dimension,
                &r.key,
                &r.label,
                &r.revenue.amount().to_string(),
                &r.cost.amount().to_string(),
                &r.margin.amount().to_string(),
                self.currency.code(),
            ])
            .map_err(map)?;
        }
        w.flush().map_err(|e| Error::io("writing the margin report", e))
    }
}

/// Wholesale cost of one invoice per SKU: `round(round(Σ user-days / days, 4) × rate)`.
fn cost_by_sku(
    invoice: &Invoice,
    rates: &WholesaleRateCard,
    rounding: &RoundingPolicy,
) -> Result<BTreeMap<String, Money>> {
    let whom = invoice.bill_to.whom();
    let mut days_by_sku: BTreeMap<&str, Quantity> = BTreeMap::new();
    for l in invoice.lines.iter().filter(|l| !l.is_minutes()) {
        let slot = days_by_sku.entry(l.sku.as_str()).or_default();
        *slot = checked::add(*slot, l.user_days, "Σ user-days").for_subject(|| format!("SKU {} of {whom}", l.sku))?;
    }
    days_by_sku
        .into_iter()
        .map(|(sku, user_days)| {
            let subject = || format!("SKU {sku} of {whom}");
            let months = rounding.user_months(user_days, invoice.period).for_subject(subject)?;
            let rate = rates.rate(sku)?.rate;
            let cost = checked::mul(months, rate, "user-months × wholesale rate").for_subject(subject)?;
            Ok((sku.to_owned(), rounding.line(cost, rates.currency())))
        })
        .collect()
}

/// The minutes of one bill: revenue at the price tariff, cost at the cost tariff.
#[derive(Debug)]
pub(super) struct MinutesMargin {
    /// The customer or sub-partner billed.
    pub(super) bill_to: BillTo,
    /// Whether it has an invoice (else only a minutes cost).
    pub(super) invoiced: bool,
    /// Σ rounded summary amounts at the price tariff.
    pub(super) revenue: Money,
    /// Σ rounded summary amounts at the cost tariff.
    pub(super) cost: Money,
}

impl MinutesMargin {
    fn row(&self, dimension: &'static str) -> Result<MarginRow> {
        Ok(MarginRow {
            dimension,
            key: self.bill_to.org_id().to_owned(),
            label: self.bill_to.label().to_owned(),
            revenue: self.revenue,
            cost: self.cost,
            margin: self
                .revenue
                .checked_sub(self.cost)
                .for_subject(|| format!("the minutes margin of {}", self.bill_to.whom()))?,
        })
    }
}

pub(super) fn margins(
    customers: &[Invoice],
    resellers: &[Invoice],
    minutes: Option<&[MinutesMargin]>,
    rates: &WholesaleRateCard,
    currency: Currency,
    rounding: &RoundingPolicy,
) -> Result<MarginReport> {
    let minutes = minutes.unwrap_or_default();
    let minutes_of: BTreeMap<&BillTo, &MinutesMargin> = minutes.iter().map(|m| (&m.bill_to, m)).collect();
    let is_sub_partner = |m: &&MinutesMargin| matches!(m.bill_to, BillTo::SubPartner { .. });
    let mut rows = Vec::new();
    let mut by_sku: BTreeMap<String, (Money, Money, String)> = BTreeMap::new();
    for (dimension, invoices, sub_partners) in [("customer", customers, false), ("sub_partner", resellers, true)] {
        for inv in invoices {
            let costs = cost_by_sku(inv, rates, rounding)?;
            let subject = || format!("the margin of {}", inv.bill_to.whom());
            let mut cost = Money::sum(costs.values().copied(), currency).for_subject(subject)?;
            if let Some(m) = minutes_of.get(&inv.bill_to) {
                cost = cost.checked_add(m.cost).for_subject(subject)?;
            }
            let revenue = inv.net().for_subject(subject)?;
            rows.push(MarginRow {
                dimension,
                key: inv.bill_to.org_id().to_owned(),
                label: inv.bill_to.label().to_owned(),
                revenue,
                cost,
                margin: revenue.checked_sub(cost).for_subject(subject)?,
            });
            for l in inv.lines.iter().filter(|l| !l.is_minutes()) {
                let slot = by_sku
                    .entry(l.sku.clone())
                    .or_insert_with(|| (Money::zero(currency), Money::zero(currency), l.description.clone()));
                slot.0 = slot
                    .0
                    .checked_add(l.amount)
                    .for_subject(|| format!("the revenue of SKU {}", l.sku))?;
            }
            for (sku, c) in costs {
                let subject = || format!("the wholesale cost of SKU {sku}");
                let slot = by_sku
                    .entry(sku.clone())
                    .or_insert_with(|| (Money::zero(currency), Money::zero(currency), String::new()));
                slot.1 = slot.1.checked_add(c).for_subject(subject)?;
            }
        }
        // A minutes cost without an invoice: no revenue.
        for m in minutes
            .iter()
            .filter(|m| !m.invoiced && is_sub_partner(m) == sub_partners)
        {
            rows.push(MarginRow {
                revenue: Money::zero(currency),
                margin: Money::zero(currency).checked_sub(m.cost)?,
                ..m.row(dimension)?
            });
        }
    }
    for m in minutes.iter().filter(|m| !is_sub_partner(m)) {
        rows.push(m.row("customer_minutes")?);
    }
    for m in minutes.iter().filter(is_sub_partner) {
        rows.push(m.row("sub_partner_minutes")?);
    }
    for (sku, (revenue, cost, label)) in by_sku {
        let margin = revenue
            .checked_sub(cost)
            .for_subject(|| format!("the margin of SKU {sku}"))?;
        rows.push(MarginRow {
            dimension: "sku",
            key: sku,
            label,
            revenue,
            cost,
            margin,
        });
    }
    Ok(MarginReport { currency, rows })
}
